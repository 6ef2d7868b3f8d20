/**
 * `npm test`'s last step: Vitest in two processes at once. The `e2e-rounds` project runs
 * whole secure rounds, which the helper releases only after their close time by its own
 * clock, so its files spend most of their time waiting; run after the other projects
 * (Vitest gives a 2-core machine one worker) they would add ten minutes of idle waiting
 * to every run. Here they wait beside the rest instead.
 *
 * Arguments pass to both processes (file filters, reporters). A JSON report
 * (`--outputFile.json=FILE`) is written per lane and then merged into FILE, so tools that
 * read it see one run. The exit code is non-zero if either lane failed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';

const args = process.argv.slice(2);
const jsonArg = args.find((a) => a.startsWith('--outputFile.json='));
const jsonFile = jsonArg?.slice('--outputFile.json='.length);

const LANES = [
  { name: 'main', projects: ['unit', 'worker', 'e2e'], prefix: '' },
  { name: 'rounds', projects: ['e2e-rounds'], prefix: '[e2e-rounds] ' },
];

/** Runs one lane; resolves with its exit code. A lane with no file matching a filter passes. */
function run(lane) {
  const laneArgs = args.map((a) => (a === jsonArg ? `--outputFile.json=${jsonFile}.${lane.name}` : a));
  const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...lane.projects.flatMap((p) => ['--project', p]), '--passWithNoTests', ...laneArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The stacks under test start `wrangler` from node_modules/.bin, as under npm scripts.
    env: { ...process.env, PATH: `${resolve('node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}` },
  });
  for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
    let rest = '';
    from.setEncoding('utf8');
    from.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) to.write(`${lane.prefix}${line}\n`);
    });
    from.on('end', () => rest && to.write(`${lane.prefix}${rest}\n`));
  }
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

/** Sums the lanes' JSON reports (counts add up, results concatenate) into one. */
function mergeReports() {
  const parts = LANES.map((l) => `${jsonFile}.${l.name}`).filter((f) => existsSync(f));
  const reports = parts.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const merged = { ...reports[0] };
  for (const key of Object.keys(merged)) {
    if (typeof merged[key] === 'number' && key.startsWith('num')) merged[key] = reports.reduce((s, r) => s + (r[key] ?? 0), 0);
  }
  merged.testResults = reports.flatMap((r) => r.testResults ?? []);
  merged.success = reports.length === LANES.length && reports.every((r) => r.success);
  writeFileSync(jsonFile, JSON.stringify(merged));
  for (const f of parts) rmSync(f);
}

const codes = await Promise.all(LANES.map(run));
if (jsonFile) mergeReports();
process.exitCode = codes.some((c) => c !== 0) ? 1 : 0;
