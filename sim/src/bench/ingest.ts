/**
 * Ingest throughput of the real local stack (tests/support/stack.ts: leader and helper
 * under `wrangler dev`, workerd with SQLite-backed Durable Objects, fresh keys, throwaway
 * state, loopback only): `POST /v1/reports` and `POST /v1/contributions` against the
 * trivial `GET /healthz`, each loaded by autocannon (as a library, in this process) with
 * the same connections for the same fixed time, the order reversed every other round.
 *
 * Every write carries its own idempotency id, each sent once: reports are made up as
 * autocannon asks for them (current ISO week, current model version from
 * `GET /v1/model`); contributions are Prio3Histogram reports (one-hot segment counts
 * with their validity proof) for the week's secure counts round
 * (`GET /v1/rounds/current?kind=counts`), sharded and sealed beforehand with
 * `buildSecureCountContribution` (client cost, not measured) and taken from that pool.
 * The leader opens and prepares each one at ingest (202 = stored for verification);
 * its shards relay them to the helper, which prepares and verifies each proof.
 * When the time is up the connections stop taking new writes (they ask `/healthz`
 * instead, not counted) until every write sent has its answer, so no write is cut off
 * in flight; a write that still got no answer (a connection error) is sent again after
 * the run, and its 202 or 409 says whether it was stored.
 *
 * Afterwards the tallies must equal the writes known stored exactly, or the benchmark
 * crashes: the report count of the period (`GET /v1/admin/periods/:period`, admin: an open
 * period is never released by `GET /v1/segments`) and, for contributions, "0 lost":
 * once no report is left pending on the leader (every one relayed and answered), the
 * verified reports each aggregator stores for the round (rows counted in read-only
 * copies of both stacks' SQLite state) equal the writes known stored, and `rejected` in
 * `GET /v1/rounds` is 0. A counts round cannot be closed before its week is over (the
 * admin close answers period-open, by design), so its release is not part of this run:
 * these stored, verified rows are exactly what the close would gather on each side.
 *
 * Rows are time per request (1 / throughput), so "lower is better" as in every row; the
 * reports target ≥ 70% of the trivial route's throughput is ≤ healthz time / 0.70, and
 * the contributions target (proofs verified) ≥ 25% is ≤ healthz time / 0.25. The
 * reports row's writes come each from its own client address, as real devices' weekly
 * reports do (the per-address limiter admits an address's first request in a window
 * without a binding call: worker/src/deferred-counts.ts); the same reports are also
 * loaded with 8 in a row from each address in the same rounds, only for a note: what the
 * limiter costs when it counts every request (the local binding is miniflare's
 * emulation, a Durable Object with a SQLite write per call). The cost of opening the
 * leader's HPKE share is measured separately, in Node, with a key made here (the stack's
 * key stays inside the stack), on contributions of the same round shape (the Prio3 cost
 * per report is the `prio3` benchmark's).
 */
import { isoWeekPeriod, type RoundDescriptor } from '@edgeseg/shared';
import { buildSecureCountContribution, CONTRIBUTION_INFO, contributionAad, generateHpkeKeyPair, importHpkePrivateKey, openShare, reportSizes, roundDigest, vdafFor } from '@edgeseg/shared/secure';
import type { SecureContribution } from '@edgeseg/shared';
import autocannon from 'autocannon';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../../tests/support/keys.ts';
import { startStack, type RunningStack } from '../../../tests/support/stack.ts';
import { median, type Benchmark, type BenchRow } from './harness.ts';

/** Short runs in more rounds: on a shared 2-core machine the load of others drifts, and more alternation keeps the medians comparable. */
const SECONDS = 4;
const WARMUP_SECONDS = 1.5;
const CONNECTIONS = 16;
const ROUNDS = 4;
/** Reports throughput must be at least this share of /healthz throughput. */
const REPORTS_TARGET_SHARE = 0.7;
/** Contributions (Prio3 reports, proofs verified) throughput must be at least this share of /healthz throughput (issue #15). */
const CONTRIBUTIONS_TARGET_SHARE = 0.25;
/** Contributions sealed for the warm-up, which also estimates how many a round needs. */
const WARMUP_POOL = 400;
/** Headroom over the expected rate when sizing each round's pool of contributions. */
const POOL_HEADROOM = 1.5;
const MAX_POOL_PER_ROUND = 12_000;
/** After the time is up: how long to wait for the last writes' answers. */
const DRAIN_LIMIT_MS = 15_000;
/** How long the leader may take, after the runs, to relay every pending report and hear the helper's answer. */
const SETTLE_LIMIT_MS = 300_000;
const HPKE_OPENS = 300;
const HPKE_ROUNDS = 7;

/** `reports-repeat`: the same reports, 8 in a row from each client address, so the rate limiter's binding counts every one of them: not a row, a note that shows what the local limiter costs. */
type Route = 'healthz' | 'reports' | 'reports-repeat' | 'contributions';
/** Writes in a row from one client address in `reports-repeat`. */
const REPEATS_PER_ADDRESS = 8;

/** Where a load run takes its writes from: each item once. */
interface WriteSource {
  path: string;
  /** The client address (CF-Connecting-IP) write `index` comes from. */
  addressOf(index: number): string;
  /** The next body never sent before, or null when there is none left. */
  next(): { index: number; body: string } | null;
}

interface LoadRun {
  route: Route;
  /** Requests per second over the fixed window (or until the pool ran out). */
  perSecond: number;
  /** Answers counted in that rate. */
  answered: number;
  seconds: number;
  statuses: Map<number, number>;
  /** Writes answered 202 (over the whole run, drain included). */
  accepted: number;
  /** Writes with no answer that a resend found already stored (409). */
  storedUnseen: number;
  /** Writes with no answer, resent after the run. */
  resent: number;
  poolRanOut: boolean;
  errors: number;
  /** CPU seconds per kind of process over the run, and the answers they served (fillers included). */
  cpu: Map<string, number>;
  served: number;
  /** workerd processes of the stack that ended during the run (wrangler dev restarts them when the Worker's sources change). */
  restarted: number;
}

/** CPU seconds used so far, per process: this one and each of the stack's, with its kind. */
type CpuSample = Map<number, { kind: string; cpu: number }>;

/**
 * CPU seconds used so far by this process and by each process of the stack (Linux
 * /proc; only this process elsewhere). The stack is this process's descendants: per
 * aggregator, wrangler's Node process, the workerd running the Worker and its DOs (the
 * one with an inspector), wrangler dev's proxy workerd in front of it, and esbuild.
 */
function cpuSample(): CpuSample {
  const out: CpuSample = new Map();
  const self = process.cpuUsage();
  out.set(process.pid, { kind: 'autocannon + bench (this process)', cpu: (self.user + self.system) / 1e6 });
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  const info = new Map<number, { ppid: number; cpu: number; cmd: string }>();
  for (const d of entries) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      info.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100, cmd });
    } catch {
      // gone meanwhile
    }
  }
  const roleOf = (pid: number): string | null => {
    for (let p = pid, hops = 0; hops < 8; hops++) {
      const i = info.get(p);
      if (!i) return null;
      if (i.ppid === process.pid) return / -c helper\/wrangler\.toml /.test(i.cmd) ? 'helper' : 'leader';
      p = i.ppid;
    }
    return null;
  };
  for (const [pid, i] of info) {
    const role = roleOf(pid);
    if (!role) continue;
    const kind = /workerd/.test(i.cmd) ? (/--inspector-addr/.test(i.cmd) ? 'workerd (Worker + DOs)' : 'workerd (wrangler dev proxy)') : /esbuild/.test(i.cmd) ? 'esbuild' : 'wrangler (node)';
    out.set(pid, { kind: `${role} ${kind}`, cpu: i.cpu });
  }
  return out;
}

/** CPU seconds per kind of process between two samples; `restarted` counts workerd processes that ended meanwhile (their last CPU is lost). */
function cpuDelta(before: CpuSample, after: CpuSample): { byKind: Map<string, number>; restarted: number } {
  const byKind = new Map<string, number>();
  for (const [pid, a] of after) byKind.set(a.kind, (byKind.get(a.kind) ?? 0) + a.cpu - (before.get(pid)?.cpu ?? 0));
  return { byKind, restarted: [...before].filter(([pid, b]) => !after.has(pid) && b.kind.includes('workerd')).length };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function randomTag(chars: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const words = new Uint32Array(chars);
  crypto.getRandomValues(words);
  return Array.from(words, (w) => alphabet[w % alphabet.length]).join('');
}

/**
 * Loads one route for `seconds` with CONNECTIONS connections; with a source, every
 * request is a fresh write from it, and every write sent is answered (or resent) before
 * this returns.
 */
async function load(baseUrl: string, route: Route, seconds: number, source: WriteSource | null): Promise<LoadRun> {
  const target = new URL(baseUrl);
  const statuses = new Map<number, number>();
  const outstanding = new Map<number, string>();
  let draining = false;
  let poolRanOut = false;
  let answeredInWindow = 0;
  let answeredTotal = 0;
  let accepted = 0;
  let lastAnswerAt = 0;
  let errors = 0;

  let fillers = 0;
  const cpuBefore = cpuSample();
  const t0 = performance.now();
  const windowEnd = t0 + seconds * 1000;
  const request: autocannon.Request = {
    method: 'GET',
    path: '/healthz',
    setupRequest: (req, context) => {
      const ctx = context as { index?: number };
      ctx.index = -1;
      if (!source) return req;
      const item = draining ? null : source.next();
      if (!item) {
        if (!draining) poolRanOut = true;
        draining = true;
        // Keeps the connection busy without writing anything; its answer is not counted.
        return { ...req, method: 'GET', path: '/healthz', headers: {}, body: '' };
      }
      ctx.index = item.index;
      outstanding.set(item.index, item.body);
      return { ...req, method: 'POST', path: source.path, headers: writeHeaders(source.addressOf(item.index)), body: item.body };
    },
    onResponse: (status, _body, context) => {
      const index = (context as { index?: number }).index ?? -1;
      if (source && index < 0) {
        fillers++; // a drain filler
        return;
      }
      const now = performance.now();
      if (source) {
        if (!outstanding.delete(index)) return;
        if (status === 202) accepted++;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      answeredTotal++;
      lastAnswerAt = now;
      if (now <= windowEnd) answeredInWindow++;
    },
  };

  let finished: (result: autocannon.Result) => void = () => undefined;
  let failed: (err: unknown) => void = () => undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const instance = autocannon(
    {
      url: `${target.origin}/`,
      connections: CONNECTIONS,
      pipelining: 1,
      // The run is stopped from here (stop() below); sampleInt makes the stop prompt.
      duration: seconds + DRAIN_LIMIT_MS / 1000 + 5,
      sampleInt: 50,
      timeout: 10,
      requests: [request],
    },
    (err, result) => (err ? failed(err) : finished(result)),
  );
  instance.on('reqError', () => errors++);

  const endWindow = setTimeout(() => (draining = true), Math.max(0, windowEnd - performance.now()));
  const drainDeadline = windowEnd + DRAIN_LIMIT_MS;
  while (!(draining && (!source || outstanding.size === 0)) && performance.now() < drainDeadline) await sleep(5);
  clearTimeout(endWindow);
  instance.stop();
  await done;
  const cpu = cpuDelta(cpuBefore, cpuSample());

  // Writes whose answer never came (a connection error or timeout): send each again.
  let storedUnseen = 0;
  const resent = outstanding.size;
  for (const [index, body] of outstanding) {
    if (!source) break; // only writes are ever outstanding
    const res = await fetch(new URL(source.path, target), { method: 'POST', headers: writeHeaders(source.addressOf(index)), body });
    await res.body?.cancel();
    if (res.status === 202) accepted++;
    else if (res.status === 409) storedUnseen++;
    else throw new Error(`ingest: ${route} write ${index} had no answer under load, and its resend answered ${res.status}`);
  }

  const windowSeconds = poolRanOut ? (lastAnswerAt - t0) / 1000 : seconds;
  const counted = poolRanOut ? answeredTotal : answeredInWindow;
  if (counted === 0) throw new Error(`ingest: ${route} got no answer in ${seconds} s`);
  return { route, perSecond: counted / windowSeconds, answered: counted, seconds: windowSeconds, statuses, accepted, storedUnseen, resent, poolRanOut, errors, cpu: cpu.byKind, served: answeredTotal + fillers, restarted: cpu.restarted };
}

/**
 * Headers of a write from client `address`. Device POST routes are rate limited per
 * address (worker/src/rate-limit.ts) and loopback is exempt, so without an address the
 * limiter would be off the measured path; with one, every write goes through it like real
 * traffic from devices, and none is refused. Locally miniflare keeps a client-supplied
 * CF-Connecting-IP (Cloudflare's edge overwrites it). These addresses are header values
 * only: every request goes to the stack on 127.0.0.1.
 */
function writeHeaders(address: string): Record<string, string> {
  return { 'content-type': 'application/json', 'cf-connecting-ip': address };
}

/** Client address `n` of a source's own block of 2^22 (`block` 0–3), so no two sources share one. */
function clientAddress(block: number, n: number): string {
  return `10.${(block << 6) | ((n >>> 16) & 63)}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Reports made up on demand: one per request, unique ids, the current period and model. */
function reportSource(modelVersion: number, k: number, period: string, addressOf: (index: number) => string): WriteSource {
  const prefix = `bench${randomTag(8)}`;
  let n = 0;
  return {
    path: '/v1/reports',
    addressOf,
    next() {
      const index = n++;
      const id = `${prefix}${index.toString(36).padStart(9, '0')}`;
      return { index, body: JSON.stringify({ reports: [{ id, model_version: modelVersion, period, value: index % k }] }) };
    },
  };
}

/** Sealed contributions, each handed out once. */
function poolSource(bodies: string[]): WriteSource {
  let n = 0;
  return {
    path: '/v1/contributions',
    addressOf: (index) => clientAddress(2, index),
    next() {
      if (n >= bodies.length) return null;
      const index = n++;
      return { index, body: bodies[index] as string };
    },
  };
}

/** Devices' one-hot segment counts (every segment and "none" in turn), sharded with their proof and sealed for the round's two aggregators (client work, before any timing). */
async function sealContributions(round: RoundDescriptor, count: number, tag: string): Promise<SecureContribution[]> {
  const out: SecureContribution[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        const segment = i % (round.k + 1);
        out[i] = await buildSecureCountContribution(round, segment === round.k ? null : segment, `bench${tag}${i.toString(36).padStart(9, '0')}`);
      }
    }),
  );
  return out;
}

async function json<T>(res: Response, expected: number, what: string): Promise<T> {
  const text = await res.text();
  if (res.status !== expected) throw new Error(`ingest: ${what} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** The current model's version and k, from the payload of the signed manifest (not verified: the stack is ours). */
async function currentModel(baseUrl: string): Promise<{ version: number; k: number }> {
  const res = await fetch(`${baseUrl}/v1/model`);
  const jws = await res.text();
  if (res.status !== 200) throw new Error(`ingest: GET /v1/model answered ${res.status}`);
  const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { version: number; k: number };
  return { version: payload.version, k: payload.k };
}

type SqliteModule = typeof import('node:sqlite');

/**
 * Rows of every table named `table` in every SQLite database under `dir` (a stack's
 * `--persist-to` state), read from a copy since workerd holds the live files. In this
 * run only the counts round's shards hold contributions, so the count is that round's.
 */
function stateRows(dir: string, tables: readonly string[]): Record<string, number> {
  const { DatabaseSync } = createRequire(import.meta.url)('node:sqlite') as SqliteModule;
  const copy = mkdtempSync(join(tmpdir(), 'edgeseg-bench-state-'));
  const rows: Record<string, number> = Object.fromEntries(tables.map((t) => [t, 0]));
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.sqlite')) {
        const db = new DatabaseSync(path, { readOnly: true });
        try {
          for (const table of tables) {
            if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table)) continue;
            rows[table] = (rows[table] ?? 0) + Number((db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n);
          }
        } finally {
          db.close();
        }
      }
    }
  };
  try {
    cpSync(dir, copy, { recursive: true });
    walk(copy);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  return rows;
}

/** After the runs: waits until the leader holds no pending report, then what each side stored and rejected. */
async function settle(stack: RunningStack, roundId: string): Promise<{ leader: number; helper: number; rejectedRows: number; rejected: number | null; seconds: number }> {
  const t0 = performance.now();
  while (performance.now() - t0 < SETTLE_LIMIT_MS) {
    const leader = stateRows(stack.stateDirs.leader, ['pending', 'contributions', 'rejected']);
    if (leader.pending === 0) {
      const helper = stateRows(stack.stateDirs.helper, ['contributions']);
      const { rounds } = await json<{ rounds: { round_id: string; rejected: number | null }[] }>(await fetch(`${stack.baseUrl}/v1/rounds`), 200, 'GET /v1/rounds');
      const listed = rounds.find((x) => x.round_id === roundId);
      if (!listed) throw new Error(`ingest: round ${roundId} is not listed by GET /v1/rounds`);
      return { leader: leader.contributions ?? 0, helper: helper.contributions ?? 0, rejectedRows: leader.rejected ?? 0, rejected: listed.rejected, seconds: (performance.now() - t0) / 1000 };
    }
    await sleep(2000);
  }
  throw new Error(`ingest: the leader still held pending reports after ${SETTLE_LIMIT_MS / 1000} s`);
}

/** openShare of the leader's share, in Node, with a key made here, on contributions of this round's shape. */
async function hpkeOpenUs(round: RoundDescriptor): Promise<number> {
  const [leader, helper] = await Promise.all([generateHpkeKeyPair(1), generateHpkeKeyPair(2)]);
  const key = await importHpkePrivateKey(leader.privateKeyJwk);
  const local: RoundDescriptor = { ...round, hpke: { leader: leader.config, helper: helper.config } };
  const bodies = await sealContributions(local, HPKE_OPENS, `hpke${randomTag(6)}`);
  const bytes = reportSizes(vdafFor(round.kind, round.k, round.d)).leader;
  const perOpen: number[] = [];
  for (let r = 0; r < HPKE_ROUNDS + 1; r++) {
    const t0 = performance.now();
    for (const body of bodies) {
      // As the route does: the digest of the stored descriptor, then the open.
      const share = await openShare(key, body.leader, CONTRIBUTION_INFO, contributionAad(body, 'leader', await roundDigest(local)));
      if (share.byteLength !== bytes) throw new Error(`ingest: opened ${share.byteLength} bytes, expected ${bytes}`);
    }
    if (r > 0) perOpen.push(((performance.now() - t0) * 1000) / bodies.length);
  }
  return median(perOpen);
}

/** CPU per request by kind of process over some runs, biggest first: where a request's time goes. */
function cpuPerRequest(runs: LoadRun[]): string {
  const served = runs.reduce((n, r) => n + r.served, 0);
  const sums = new Map<string, number>();
  for (const r of runs) for (const [k, v] of r.cpu) sums.set(k, (sums.get(k) ?? 0) + v);
  const total = [...sums.values()].reduce((a, b) => a + b, 0);
  if (served === 0 || sums.size <= 1) return 'CPU per request: not available';
  const restarted = runs.reduce((n, r) => n + r.restarted, 0);
  const caveat = restarted > 0 ? ` (${restarted} workerd process(es) ended during these runs, as when wrangler dev reloads on a source change: their CPU is missing)` : '';
  const parts = [...sums]
    .filter(([, v]) => v / served >= 5e-6)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${((v / served) * 1e6).toFixed(0)}`);
  return `CPU per request ${((total / served) * 1e6).toFixed(0)} µs${caveat}: ${parts.join(', ')}`;
}

/** CPU per request of `a` over that of `b` (all processes of the stack and this one). */
function cpuRatio(a: LoadRun[], b: LoadRun[]): string {
  const per = (runs: LoadRun[]) => runs.reduce((n, r) => n + [...r.cpu.values()].reduce((x, y) => x + y, 0), 0) / Math.max(1, runs.reduce((n, r) => n + r.served, 0));
  return (per(a) / per(b)).toFixed(2);
}

function statusList(runs: LoadRun[]): string {
  const all = new Map<number, number>();
  for (const r of runs) for (const [s, n] of r.statuses) all.set(s, (all.get(s) ?? 0) + n);
  return [...all].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${n.toLocaleString('en')}×${s}`).join(' ');
}

export const bench: Benchmark = {
  name: 'ingest',
  description: `autocannon on the local stack, ${CONNECTIONS} connections × ${SECONDS} s per route: POST /v1/reports and POST /v1/contributions (Prio3 counts reports) vs GET /healthz, tallies and verified reports checked`,
  async run() {
    const stack = await startStack({ MEASUREMENT: 'secure' });
    try {
      const admin = await mintToken(stack.authJwk, { role: 'admin' });
      const model = await currentModel(stack.baseUrl);
      const period = isoWeekPeriod(Date.now());
      const reports = reportSource(model.version, model.k, period, (index) => clientAddress(0, index));
      const repeatReports = reportSource(model.version, model.k, period, (index) => clientAddress(1, Math.floor(index / REPEATS_PER_ADDRESS)));
      // The week's secure counts round, opened on first demand (MEASUREMENT secure).
      const round = await json<RoundDescriptor>(await fetch(`${stack.baseUrl}/v1/rounds/current?kind=counts`), 200, 'GET /v1/rounds/current?kind=counts');
      if (round.kind !== 'counts' || round.mode !== 'secure') throw new Error(`ingest: the current counts round is ${round.kind} ${round.mode}`);
      const tag = randomTag(6);
      let sealed = 0;
      let sealMs = 0;
      const seal = async (count: number): Promise<string[]> => {
        const t0 = performance.now();
        const list = (await sealContributions(round, count, `${tag}${String(sealed).padStart(6, '0')}x`)).map((b) => JSON.stringify(b));
        sealMs += performance.now() - t0;
        sealed += count;
        return list;
      };

      const all: LoadRun[] = [];
      // Warm-up (not in the rows, but its writes are in the tallies): compiles the
      // Worker paths, wakes the DOs, and estimates how many contributions a round takes.
      const warmHealthz = await load(stack.baseUrl, 'healthz', WARMUP_SECONDS, null);
      all.push(warmHealthz);
      all.push(await load(stack.baseUrl, 'reports', WARMUP_SECONDS, reports));
      const warm = await load(stack.baseUrl, 'contributions', WARMUP_SECONDS, poolSource(await seal(WARMUP_POOL)));
      all.push(warm);
      // Each round's contributions are sealed just before its run, enough for the fastest
      // rate seen so far (at first: the warm-up's, or a third of /healthz's if that is more,
      // since a cold start undersells it) with headroom. Should a pool still run out,
      // the connections drain and the rate is taken up to then (the note says so).
      let expectedRate = Math.max(warm.perSecond, warmHealthz.perSecond / 3);

      // Rounds alternate the order: healthz, reports, contributions; then the reverse.
      const measured: Record<Route, LoadRun[]> = { healthz: [], reports: [], 'reports-repeat': [], contributions: [] };
      const runRoute = async (route: Route) => {
        let source: WriteSource | null = route === 'reports' ? reports : route === 'reports-repeat' ? repeatReports : null;
        if (route === 'contributions') source = poolSource(await seal(Math.min(MAX_POOL_PER_ROUND, Math.ceil(expectedRate * SECONDS * POOL_HEADROOM) + CONNECTIONS * 4)));
        const run = await load(stack.baseUrl, route, SECONDS, source);
        if (route === 'contributions') expectedRate = Math.max(expectedRate, run.perSecond);
        all.push(run);
        measured[route].push(run);
      };
      for (let r = 0; r < ROUNDS; r++) {
        const order: Route[] = r % 2 === 0 ? ['healthz', 'reports', 'reports-repeat', 'contributions'] : ['contributions', 'reports-repeat', 'reports', 'healthz'];
        for (const route of order) await runRoute(route);
      }

      // Every limited write came from its own address: a 429 would mean the limiter, not ingest, was measured.
      const limited = all.reduce((n, x) => n + (x.statuses.get(429) ?? 0), 0);
      if (limited > 0) throw new Error(`ingest: ${limited} writes were rate limited (429)`);
      // The tallies must equal the writes known stored, exactly.
      const reportRuns = all.filter((x) => x.route === 'reports' || x.route === 'reports-repeat');
      const reportsStored = reportRuns.reduce((n, x) => n + x.accepted + x.storedUnseen, 0);
      // The period is still open, so GET /v1/segments will not release it; the operator's
      // ingestion status gives its exact report count (and nothing else).
      const segments = await json<{ reports: number }>(
        await fetch(`${stack.baseUrl}/v1/admin/periods/${period}?model_version=${model.version}`, { headers: { authorization: `Bearer ${admin}` } }),
        200,
        `GET /v1/admin/periods/${period}`,
      );
      if (segments.reports !== reportsStored) throw new Error(`ingest: the ${period} tally holds ${segments.reports} reports, but ${reportsStored} were answered 202 (or found stored)`);
      const contributionRuns = all.filter((x) => x.route === 'contributions');
      const contributionsStored = contributionRuns.reduce((n, x) => n + x.accepted + x.storedUnseen, 0);
      const settled = await settle(stack, round.round_id);
      if (settled.rejected !== 0 && settled.rejected !== null) throw new Error(`ingest: GET /v1/rounds shows ${settled.rejected} rejected reports`);
      if (settled.rejectedRows !== 0) throw new Error(`ingest: the leader rejected ${settled.rejectedRows} reports`);
      if (settled.leader !== contributionsStored || settled.helper !== contributionsStored) {
        throw new Error(`ingest: ${contributionsStored} contributions were answered 202 (or found stored), but the leader holds ${settled.leader} verified and the helper ${settled.helper}`);
      }

      const hpkeUs = await hpkeOpenUs(round);

      const rate = (route: Route) => median(measured[route].map((x) => x.perSecond));
      const usPer = (route: Route) => 1e6 / rate(route);
      const rates = (route: Route) => measured[route].map((x) => `${Math.round(x.perSecond).toLocaleString('en')}${x.poolRanOut ? ` (pool ran out at ${x.seconds.toFixed(1)} s)` : ''}`).join(', ');
      const how = `${CONNECTIONS} connections, ${SECONDS} s per route per round, ${ROUNDS} rounds in alternating order (median), autocannon in this process on the same 2-core machine as both workerd processes`;
      const healthz = usPer('healthz');
      const lost = (runs: LoadRun[]) => runs.reduce((n, x) => n + x.resent, 0);
      const errors = all.reduce((n, x) => n + x.errors, 0);
      const L = round.k + 1;
      const leaderBytes = reportSizes(vdafFor(round.kind, round.k, round.d)).leader;
      return [
        {
          name: 'POST /v1/reports (1 report), per request',
          unit: 'µs',
          ours: usPer('reports'),
          reference: healthz,
          referenceLabel: 'GET /healthz in the same run',
          target: healthz / REPORTS_TARGET_SHARE,
          note:
            `${Math.round(rate('reports')).toLocaleString('en')} req/s = ${((rate('reports') / rate('healthz')) * 100).toFixed(0)}% of /healthz's ${Math.round(rate('healthz')).toLocaleString('en')} req/s (target ≥ ${REPORTS_TARGET_SHARE * 100}%; rounds: reports ${rates('reports')}, healthz ${rates('healthz')}); ${how}; ${errors} connection errors or timeouts in all runs; ` +
            `each a fresh id from its own client address (CF-Connecting-IP), as devices' weekly reports come, so the per-address limiter admits each as an address's first in its window without a binding call (worker/src/deferred-counts.ts), stored in SegmentTally (one call per request, no batching); answers ${statusList(reportRuns)} (warm-up included), ${lost(reportRuns)} resent after the run; ` +
            `tally for ${period} v${model.version} = ${segments.reports.toLocaleString('en')} = writes answered 202 (or found stored) exactly; ` +
            `by CPU per request (all processes) reports cost ${cpuRatio(measured.reports, measured.healthz)}× /healthz; reports: ${cpuPerRequest(measured.reports)}; /healthz: ${cpuPerRequest(measured.healthz)}; ` +
            `what the local limiter costs when it counts every request: the same reports ${REPEATS_PER_ADDRESS} in a row from each client address (its binding, miniflare's emulation with a Durable Object and a SQLite write per call, counts all ${REPEATS_PER_ADDRESS}; not a row) ${Math.round(rate('reports-repeat')).toLocaleString('en')} req/s = ${((rate('reports-repeat') / rate('healthz')) * 100).toFixed(0)}% of /healthz (rounds: ${rates('reports-repeat')}), ${cpuRatio(measured['reports-repeat'], measured.healthz)}× its CPU per request; ${cpuPerRequest(measured['reports-repeat'])}`,
        },
        {
          name: `POST /v1/contributions (Prio3 counts, k=${round.k}), per request`,
          unit: 'µs',
          ours: usPer('contributions'),
          reference: healthz,
          referenceLabel: 'GET /healthz in the same run',
          target: healthz / CONTRIBUTIONS_TARGET_SHARE,
          note:
            `${Math.round(rate('contributions')).toLocaleString('en')} req/s = ${((rate('contributions') / rate('healthz')) * 100).toFixed(0)}% of /healthz (target ≥ ${CONTRIBUTIONS_TARGET_SHARE * 100}%; rounds: ${rates('contributions')}); ` +
            `each a fresh Prio3Histogram report (${L} entries, ${leaderBytes}-byte leader input share) for the week's secure counts round ${round.round_id}: opened and prepared by the leader, pending in 1 of 8 RoundShards, relayed by shard alarms (meanwhile and after) to the helper, which prepares and verifies each proof; ` +
            `answers ${statusList(contributionRuns)} (warm-up included), ${lost(contributionRuns)} resent after the run; ` +
            `0 lost: ${settled.seconds.toFixed(1)} s after the runs no report was pending, the leader held ${settled.leader.toLocaleString('en')} verified and the helper ${settled.helper.toLocaleString('en')} = writes answered 202 (or found stored) exactly, rejected ${settled.rejected ?? 0} (GET /v1/rounds); a counts round is released only after its week, so no release here; ` +
            `${sealed.toLocaleString('en')} contributions sealed beforehand in ${(sealMs / 1000).toFixed(1)} s (client cost, not measured); by CPU per request (all processes) ${cpuRatio(measured.contributions, measured.healthz)}× /healthz; ${cpuPerRequest(measured.contributions)}`,
        },
        {
          name: 'HPKE open of a leader share (in Node), per contribution',
          unit: 'µs',
          ours: hpkeUs,
          reference: usPer('contributions'),
          referenceLabel: 'the time per POST /v1/contributions above (so the ratio is the share of it an open would take)',
          note: `openShare (DHKEM P-256, HKDF-SHA256, AES-128-GCM, ${leaderBytes}-byte Prio3 input share) measured in Node ${process.version} with a key made for this row, NOT inside workerd (the stack's key never leaves it); ${HPKE_OPENS} opens × ${HPKE_ROUNDS} rounds, median`,
        },
      ] satisfies BenchRow[];
    } finally {
      await stack.stop();
    }
  },
};
