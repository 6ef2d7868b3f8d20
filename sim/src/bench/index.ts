/**
 * `npm run bench [-- name ...]`: runs the benchmarks (all, or those named) and prints one
 * table: our value, the reference measured side by side in the same run, their ratio and
 * the target. Targets are reported, never asserted: the exit code is non-zero only when
 * a benchmark crashes (or a name is unknown).
 *
 * To add a benchmark: write sim/src/bench/<name>.ts exporting `bench: Benchmark` and
 * list it in BENCHMARKS below.
 */
import { cpus, loadavg, platform, release, totalmem, arch } from 'node:os';
import { bench as assign } from './assign.ts';
import { bench as dp } from './dp.ts';
import { formatNumber, type Benchmark, type BenchRow } from './harness.ts';
import { bench as ingest } from './ingest.ts';
import { bench as lloyd } from './lloyd.ts';
import { bench as prio3 } from './prio3.ts';
import { bench as roundClose } from './round-close.ts';
import { bench as sdk } from './sdk.ts';

const BENCHMARKS: readonly Benchmark[] = [assign, sdk, dp, ingest, roundClose, prio3, lloyd];

function machineFacts(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown cpu';
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return [`node ${process.version}`, `${platform()} ${release()} ${arch()}`, `${list.length} cpus (${model})`, `${(totalmem() / 2 ** 30).toFixed(1)} GiB`, `load ${load}`].join(' · ');
}

interface Line {
  name: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
}

function line(row: BenchRow): Line {
  const target = row.target === undefined ? '—' : `≤ ${formatNumber(row.target)} ${row.unit} ${row.ours <= row.target ? 'met' : 'MISSED'}`;
  return {
    name: row.name,
    ours: `${formatNumber(row.ours)} ${row.unit}`,
    reference: `${formatNumber(row.reference)} ${row.unit}`,
    ratio: `${formatNumber(row.ours / row.reference)}×`,
    target,
  };
}

function printTable(lines: readonly Line[]): void {
  const header: Line = { name: 'name', ours: 'ours', reference: 'reference', ratio: 'ratio', target: 'target' };
  const keys = ['name', 'ours', 'reference', 'ratio', 'target'] as const;
  const width = Object.fromEntries(keys.map((k) => [k, Math.max(...[header, ...lines].map((l) => l[k].length))])) as Record<(typeof keys)[number], number>;
  const format = (l: Line): string => keys.map((k) => (k === 'name' || k === 'target' ? l[k].padEnd(width[k]) : l[k].padStart(width[k]))).join('  ').trimEnd();
  console.log(format(header));
  console.log(keys.map((k) => '─'.repeat(width[k])).join('  '));
  for (const l of lines) console.log(format(l));
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}. Available: ${BENCHMARKS.map((b) => `${b.name} (${b.description})`).join('; ')}`);
    return 2;
  }
  const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => wanted.includes(b.name));

  console.log(`edgeseg benchmarks, ${new Date().toISOString()}`);
  console.log(machineFacts());
  console.log('ratio = ours ÷ reference, both measured in this run in alternating rounds; lower is better; targets are reported, not asserted\n');

  const rows: BenchRow[] = [];
  const lines: Line[] = [];
  const crashes: string[] = [];
  for (const b of selected) {
    const started = performance.now();
    process.stderr.write(`running ${b.name}: ${b.description} … `);
    try {
      const got = await b.run();
      rows.push(...got);
      lines.push(...got.map(line));
      process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write('crashed\n');
      crashes.push(`${b.name}: ${message}`);
      lines.push({ name: b.name, ours: 'crashed', reference: '—', ratio: '—', target: '—' });
    }
  }

  console.log('');
  printTable(lines);
  if (rows.length > 0) {
    console.log('\nwhat each row compares:');
    for (const r of rows) console.log(`- ${r.name}: reference = ${r.referenceLabel}.${r.note ? ` ${r.note}.` : ''}`);
  }
  if (crashes.length > 0) {
    console.error(`\n${crashes.length} benchmark(s) crashed:`);
    for (const c of crashes) console.error(`- ${c}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(err);
  return 1;
});
