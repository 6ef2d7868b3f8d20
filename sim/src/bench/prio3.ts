/**
 * Prio3 per report (`@divviup/prio3` through shared/src/secure/prio3.ts), for the two
 * VDAFs the rounds use: the counts histogram (k = 8: one-hot over 9 entries) and the
 * k-means SumVec (k = 8, d = 31: 272 entries of 8 bits).
 *
 * Two rows per VDAF, each against the HPKE step the same party does anyway on the same
 * bytes, measured side by side in alternating rounds:
 * - device: `shardReport` (measurement → public share + two input shares with the
 *   proof) vs `sealShare` of the leader's input share it produced (DHKEM P-256,
 *   HKDF-SHA256, AES-128-GCM), so the ratio says how much Prio3 adds to sealing;
 * - aggregators: `prepareReport` by the leader (id 0) and by the helper (id 1) plus the
 *   helper's `verifyReport`, the whole proof check of one report across both servers,
 *   vs `openShare` of the sealed leader input share (the open every report needs).
 *
 * Outside the timing: measurements (honest encodings: a random segment; k-means entries
 * drawn uniformly in [−127, 127] plus the offset), nonces (`reportNonce`), the round's
 * verify key, and an HPKE key pair made here. Every report is checked: it verifies, and
 * the two output shares add up to its measurement exactly.
 */
import { encodeCountContribution, generateHpkeKeyPair, importHpkePrivateKey, openShare, sealShare, CONTRIBUTION_INFO } from '@edgeseg/shared/secure';
import { combineFieldShares, measurementOf, newVerifyKey, prepareReport, reportNonce, shardReport, verifyReport, vdafFor, type ReportVdaf } from '@edgeseg/shared/secure';
import type { RoundKind } from '@edgeseg/shared';
import { interleaved, median, type Benchmark, type BenchRow } from './harness.ts';

const ROUNDS = 5;
const WARMUP = 1;
const ROUND_ID = 'bench-prio3';
const AAD = new TextEncoder().encode('edgeseg bench prio3');

interface Shape {
  kind: RoundKind;
  k: number;
  d: number;
  /** Reports per timed batch (fewer for the SumVec: each costs far more). */
  reports: number;
  label: string;
}

const SHAPES: readonly Shape[] = [
  { kind: 'counts', k: 8, d: 0, reports: 40, label: 'counts Prio3Histogram, k=8 (9 entries)' },
  { kind: 'kmeans', k: 8, d: 31, reports: 8, label: 'k-means Prio3SumVec, k=8 d=31 (272 entries × 8 bits)' },
];

/** One report's inputs, made before any timing. */
interface Input {
  id: string;
  measurement: number | number[];
  nonce: Uint8Array;
}

/** One sharded report, as the aggregators receive it (input shares already opened). */
interface Sharded {
  input: Input;
  publicShare: Uint8Array;
  leader: Uint8Array;
  helper: Uint8Array;
}

function randomInt(below: number): number {
  const w = new Uint32Array(1);
  crypto.getRandomValues(w);
  return (w[0] as number) % below;
}

/** Honest measurements: a one-hot segment (or "none"), or k-means entries in [−127, 127] as measurementOf sends them. */
async function inputs(shape: Shape, count: number, tag: string): Promise<Input[]> {
  const length = shape.k * (shape.d + 3);
  const out: Input[] = [];
  for (let i = 0; i < count; i++) {
    const id = `prio3${tag}${i.toString(36).padStart(6, '0')}`;
    const vector =
      shape.kind === 'counts'
        ? encodeCountContribution(randomInt(shape.k + 1) === shape.k ? null : randomInt(shape.k), shape.k, 1)
        : Int32Array.from({ length }, () => randomInt(255) - 127);
    out.push({ id, measurement: measurementOf(shape.kind, vector), nonce: await reportNonce(ROUND_ID, id) });
  }
  return out;
}

function expectedVector(shape: Shape, measurement: number | number[]): number[] {
  if (typeof measurement === 'number') return Array.from({ length: shape.k + 1 }, (_, i) => (i === measurement ? 1 : 0));
  return measurement;
}

/** The proof check of one report on both aggregators; throws when it does not verify or the output shares do not add up. */
async function prepareBoth(shape: Shape, vdaf: ReportVdaf, verifyKey: Uint8Array, r: Sharded): Promise<void> {
  const leader = await prepareReport(vdaf, verifyKey, 0, r.input.nonce, r.publicShare, r.leader);
  const helper = await prepareReport(vdaf, verifyKey, 1, r.input.nonce, r.publicShare, r.helper);
  if (!(await verifyReport(vdaf, leader.prepShare, helper.prepShare, leader.jointRandSeed, helper.jointRandSeed))) throw new Error(`prio3: honest report ${r.input.id} did not verify`);
  const sum = combineFieldShares(leader.outputShare, helper.outputShare);
  const want = expectedVector(shape, r.input.measurement);
  if (sum.length !== want.length || want.some((v, i) => sum[i] !== v)) throw new Error(`prio3: output shares of ${r.input.id} do not add up to its measurement`);
}

async function rows(shape: Shape): Promise<BenchRow[]> {
  const vdaf = vdafFor(shape.kind, shape.k, shape.d);
  const verifyKey = newVerifyKey();
  const pair = await generateHpkeKeyPair(1);
  const privateKey = await importHpkePrivateKey(pair.privateKeyJwk);
  let batch = 0;
  /** Every report the device rounds sharded, warm-up included (interleaved keeps only the measured rounds' results). */
  const reports: Sharded[] = [];

  // Device: shard vs sealing the leader input share it made (same bytes each side).
  const device = await interleaved<{ ms: number }>(
    ROUNDS,
    WARMUP,
    async () => {
      const list = await inputs(shape, shape.reports, `d${batch++}`);
      const t0 = performance.now();
      const sharded: Sharded[] = [];
      for (const input of list) sharded.push({ input, ...(await shardReport(vdaf, input.measurement, input.nonce)) });
      const ms = (performance.now() - t0) / list.length;
      reports.push(...sharded);
      return { ms };
    },
    async () => {
      const list = await inputs(shape, shape.reports, `s${batch++}`);
      const plain = await Promise.all(list.map(async (input) => (await shardReport(vdaf, input.measurement, input.nonce)).leader));
      const t0 = performance.now();
      for (const bytes of plain) await sealShare(pair.config, bytes, CONTRIBUTION_INFO, AAD);
      return { ms: (performance.now() - t0) / plain.length };
    },
  );

  // Aggregators: both prepares + verify vs opening the leader's sealed input share.
  const sealed = await Promise.all(reports.slice(0, shape.reports).map((r) => sealShare(pair.config, r.leader, CONTRIBUTION_INFO, AAD)));
  let next = 0;
  const aggregators = await interleaved<{ ms: number }>(
    ROUNDS,
    WARMUP,
    async () => {
      const list = Array.from({ length: shape.reports }, () => reports[next++ % reports.length] as Sharded);
      const t0 = performance.now();
      for (const r of list) await prepareBoth(shape, vdaf, verifyKey, r);
      return { ms: (performance.now() - t0) / list.length };
    },
    async () => {
      const t0 = performance.now();
      for (const s of sealed) {
        const opened = await openShare(privateKey, s, CONTRIBUTION_INFO, AAD);
        if (opened.length === 0) throw new Error('prio3: empty open');
      }
      return { ms: (performance.now() - t0) / sealed.length };
    },
  );
  // The aggregator rounds (as many as the device rounds, same batch size) went through every report sharded, each checked.
  if (next !== reports.length) throw new Error(`prio3: checked ${next} of ${reports.length} reports`);

  const how = `${shape.reports} reports per round, ${ROUNDS} rounds alternating with the reference (${WARMUP} warm-up dropped), median of per-report means`;
  return [
    {
      name: `Prio3 shard (device), ${shape.label}, per report`,
      unit: 'ms',
      ours: median(device.ours.map((r) => r.ms)),
      reference: median(device.reference.map((r) => r.ms)),
      referenceLabel: `HPKE sealShare of the same leader input share bytes (${vdaf.flp.measurementLen + vdaf.flp.proofLen * vdaf.proofs} field elements + seed), the step after sharding`,
      note: `shardReport: measurement + proof shares + joint randomness, public share and two input shares; ${how}`,
    },
    {
      name: `Prio3 prepare ×2 + verify (aggregators), ${shape.label}, per report`,
      unit: 'ms',
      ours: median(aggregators.ours.map((r) => r.ms)),
      reference: median(aggregators.reference.map((r) => r.ms)),
      referenceLabel: 'HPKE openShare of the sealed leader input share (the open every report needs)',
      note: `prepareReport by leader (id 0) and helper (id 1, its seeds expanded) + verifyReport, on one thread: the sum of both servers' CPU per report; every report checked to verify and its output shares to add up to its measurement exactly (that check, one field sum of the output vector, is inside the timing); ${how}`,
    },
  ];
}

export const bench: Benchmark = {
  name: 'prio3',
  description: 'Prio3 per report: shard on the device and prepare + verify on both aggregators, counts histogram (k=8) and k-means SumVec (k=8, d=31), vs HPKE seal/open of the same bytes',
  async run() {
    const out: BenchRow[] = [];
    for (const shape of SHAPES) out.push(...(await rows(shape)));
    return out;
  },
};
