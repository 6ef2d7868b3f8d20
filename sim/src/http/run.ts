/**
 * `--via-http URL`: the simulated devices talk to a running stack's real API instead of
 * running in-process, so the local dashboard fills with real traffic:
 *
 * 1. `GET /v1/model`: the signed model (its JWS payload is read, not verified: the
 *    simulator trusts the stack it was pointed at); devices standardise their features
 *    with its scaling and take the nearest centroid, as the SDK does;
 * 2. `--rounds` secure k-means rounds, each opened as admin (`POST /v1/admin/rounds`,
 *    ε per round from the training plan), read back from `GET /v1/rounds/current`, every
 *    device sealing its contribution with `buildSecureContribution` and posting it to
 *    `POST /v1/contributions`, then closed (`POST /v1/admin/rounds/:id/close`) and polled
 *    on `GET /v1/rounds` until released or abandoned; the next round uses the new model;
 * 3. `POST /v1/reports`: one GRR report per device (`grrEncode`, the model's ε) under the
 *    model the rounds left in force, for the current ISO week and, where the stack takes
 *    them (`npm start`'s DEV_BACKFILL_WEEKS), the 11 closed weeks before it, each with
 *    its own random id, sent in batches of up to 100; and for the same weeks, beside it,
 *    each device's lifecycle report (`kind: 'lifecycle'`, `lifecycleReportValue` with the
 *    model's lifecycle ε) for the stage the population computed (a device that never
 *    watched has no stage and sends none), in batches of their own so the summary counts
 *    each kind's accepted reports exactly;
 *
 * At most 8 requests are in flight; a 429 waits its Retry-After. The admin token is
 * `--token`, else minted from `.dev.vars` by `scripts/dev-token.mjs`' `mintDevToken`.
 */
import {
  assignSegment,
  flattenCentroids,
  grrEncode,
  isoWeekPeriod,
  LIFECYCLE_STAGES,
  lifecycleEpsilon,
  lifecycleReportValue,
  periodsUpTo,
  MAX_REPORTS_PER_BATCH,
  parseManifest,
  standardise,
  type LifecycleStage,
  type ModelManifest,
  type RoundDescriptor,
  type SegmentReport,
} from '@edgeseg/shared';
import { buildSecureContribution, parseRoundDescriptor } from '@edgeseg/shared/secure';
import { planTraining } from '../../../aggregator/src/training/index.ts';
import type { SimOptions } from '../args.ts';
import { UsageError } from '../data/errors.ts';
import { LIFECYCLE_RULES } from '../features.ts';
import { buildPopulation } from '../population.ts';
import { ENCODING } from '../simulate.ts';
import type { StageClock } from '../stages.ts';
import { mapBounded, send, type HttpAnswer } from './client.ts';

const CONCURRENCY = 8;

export interface HttpRoundOutcome {
  round_id: string;
  epsilon: number;
  sent: number;
  accepted: number;
  state: string;
  model_version: number | null;
  reason: string | null;
}

/**
 * The helper's minimum batch per bucket, from its own policy (`GET /v1/policy` on the
 * origin the leader's `GET /v1/stack` names), or 1 when the stack names no helper: a
 * round asking less is refused by the helper.
 */
async function helperMinBatch(baseUrl: string): Promise<number> {
  const stack = await send(`${baseUrl}/v1/stack`);
  const helperUrl = (stack.body as { helper_url?: unknown } | null)?.helper_url;
  if (stack.status !== 200 || typeof helperUrl !== 'string') return 1;
  const policy = await send(`${helperUrl}/v1/policy`);
  const min = (policy.body as { min_batch?: unknown } | null)?.min_batch;
  return policy.status === 200 && typeof min === 'number' && Number.isSafeInteger(min) && min > 0 ? min : 1;
}

/** Closed weeks a --via-http run also reports, where the stack takes them: the dashboard's 12-week history. */
const BACKFILL_WEEKS = 11;

export interface HttpRunResult {
  baseUrl: string;
  dataset: string;
  clients: number;
  /** The model in force when the run ended (rounds publish new ones). */
  model_version: number;
  /** `period`: this week; `periods`: every week reported, this week first. */
  reports: { period: string; periods: string[]; model_version: number; sent: number; accepted: number; duplicates: number };
  /**
   * Lifecycle reports sent beside the segment reports, for the same weeks: one per device
   * with a stage per week. `devices`: how many simulated devices are in each stage (the
   * truth the dashboard's debiased shares estimate; `none`: never watched, sends none).
   */
  lifecycle: { epsilon: number; sent: number; accepted: number; duplicates: number; devices: Record<LifecycleStage | 'none', number> };
  rounds: HttpRoundOutcome[];
  stages: Record<string, number>;
  seconds: number;
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return Buffer.from(bytes).toString('base64url');
}

function sameRules(a: ModelManifest['lifecycle'], b: ModelManifest['lifecycle']): boolean {
  return a.new_days === b.new_days && a.at_risk_days === b.at_risk_days && a.lapsed_days === b.lapsed_days;
}

/** Reports in batches of at most MAX_REPORTS_PER_BATCH, as `POST /v1/reports` takes them. */
function batchesOf(reports: SegmentReport[]): SegmentReport[][] {
  const batches: SegmentReport[][] = [];
  for (let i = 0; i < reports.length; i += MAX_REPORTS_PER_BATCH) batches.push(reports.slice(i, i + MAX_REPORTS_PER_BATCH));
  return batches;
}

function postReports(baseUrl: string, reports: SegmentReport[]): Promise<HttpAnswer> {
  return send(`${baseUrl}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reports }) });
}

/** Adds the stack's accepted and duplicate counts to `into`; any answer but 202 stops the run. */
function addAnswers(into: { accepted: number; duplicates: number }, answers: HttpAnswer[]): void {
  for (const a of answers) {
    if (a.status !== 202) throw new Error(`POST /v1/reports answered ${a.status}: ${a.text.slice(0, 300)}`);
    const b = a.body as { accepted: number; duplicates: number };
    into.accepted += b.accepted;
    into.duplicates += b.duplicates;
  }
}

async function currentModel(baseUrl: string): Promise<ModelManifest> {
  const res = await fetch(`${baseUrl}/v1/model`);
  if (!res.ok) throw new UsageError(`--via-http: GET ${baseUrl}/v1/model answered ${res.status}`);
  const jws = await res.text();
  const payload = jws.split('.')[1] ?? '';
  const parsed = parseManifest(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  if (!parsed.ok) throw new Error(`--via-http: the stack's model is not a valid manifest: ${parsed.errors.join('; ')}`);
  return parsed.value;
}

async function adminToken(opts: SimOptions): Promise<string> {
  if (opts.token) return opts.token;
  const path = new URL('../../../scripts/dev-token.mjs', import.meta.url).href;
  const mod = (await import(path)) as { mintDevToken(role: string): Promise<string> };
  return mod.mintDevToken('admin');
}

/**
 * Drives a running stack with the simulated devices.
 *
 * @example
 * const out = await runViaHttp(parseSimArgs(['--dataset', 'synthetic', '--clients', '300', '--via-http', 'http://127.0.0.1:8787']), clock);
 */
export async function runViaHttp(opts: SimOptions, clock: StageClock): Promise<HttpRunResult> {
  const started = performance.now();
  const baseUrl = opts.viaHttp as string;
  const pop = await clock.timeAsync('features', () => buildPopulation({ dataset: opts.dataset, dataDir: opts.dataDir ?? '', clients: opts.clients, k: opts.k, seed: opts.seed }));
  const token = await adminToken(opts);
  let model = await currentModel(baseUrl);
  const d = pop.d;
  const standardised = (m: ModelManifest): Float32Array[] => Array.from({ length: pop.n }, (_, i) => standardise(pop.raw.subarray(i * d, i * d + d), m.scaling.mean, m.scaling.scale));

  // 1. Secure k-means rounds, ε per round from the same plan as in-process runs.
  const plan = planTraining({ k: model.k, d, epsilon: opts.epsilon, delta: opts.delta, rounds: opts.rounds, candidates: 1, candidateRounds: 0, growth: opts.roundGrowth, encoding: ENCODING });
  const rounds: HttpRoundOutcome[] = [];
  const auth = { authorization: `Bearer ${token}` };
  const minBatch = Math.max(await helperMinBatch(baseUrl), Math.floor(Math.min(100, pop.n) / opts.groups));
  for (let r = 0; r < opts.rounds; r++) {
    const epsilon = Math.min(20, Math.max(0.01, Number((plan.budget.rounds[r]?.epsilon ?? opts.epsilon).toPrecision(6))));
    const outcome = await clock.timeAsync(`round ${r + 1} (open, ${pop.n} sealed contributions, close)`, async () => {
      const opened = await send(`${baseUrl}/v1/admin/rounds`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        // The helper releases a secure round only after its close time: the round lasts about
        // as long as uploading the population takes (20 contributions a second, with room).
        body: JSON.stringify({ duration_s: Math.min(3600, 20 + Math.ceil(pop.n / 20)), min_batch: minBatch, epsilon, delta: opts.delta, groups: opts.groups, slices: 1 }),
      });
      if (opened.status !== 201) throw new Error(`POST /v1/admin/rounds answered ${opened.status}: ${opened.text.slice(0, 300)}`);
      const current = await send(`${baseUrl}/v1/rounds/current`);
      const parsed = parseRoundDescriptor(current.body);
      if (current.status !== 200 || !parsed.ok) throw new Error(`GET /v1/rounds/current answered ${current.status}: ${current.text.slice(0, 300)}`);
      const round: RoundDescriptor = parsed.value;
      const xs = standardised(model);
      const answers = await mapBounded(xs, CONCURRENCY, async (x) => {
        const { body } = await buildSecureContribution(round, x, randomId());
        return send(`${baseUrl}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      });
      const accepted = answers.filter((a) => a.status === 202).length;
      const refused = answers.find((a) => a.status !== 202);
      if (refused) clock.note(`round ${r + 1}: ${answers.length - accepted} contribution(s) refused, first ${refused.status}: ${refused.text.slice(0, 200)}`);
      const closed = await send(`${baseUrl}/v1/admin/rounds/${round.round_id}/close`, { method: 'POST', headers: auth });
      if (closed.status !== 202) throw new Error(`close ${round.round_id} answered ${closed.status}: ${closed.text.slice(0, 300)}`);
      const until = Math.max(Date.now(), round.closes_at * 1000) + 180_000;
      for (;;) {
        const list = (await send(`${baseUrl}/v1/rounds`)).body as { rounds: { round_id: string; state: string; result?: { model_version?: number } | null; reason?: string | null }[] };
        const mine = list.rounds.find((x) => x.round_id === round.round_id);
        if (mine && (mine.state === 'released' || mine.state === 'abandoned')) {
          return { round_id: round.round_id, epsilon, sent: xs.length, accepted, state: mine.state, model_version: mine.result?.model_version ?? null, reason: mine.reason ?? null };
        }
        if (Date.now() > until) throw new Error(`round ${round.round_id} was not released within 180 s of its close time`);
        await new Promise((res) => setTimeout(res, 300));
      }
    });
    rounds.push(outcome);
    clock.note(`round ${r + 1}: ${outcome.accepted} of ${outcome.sent} accepted, ${outcome.state}${outcome.model_version ? `, model v${outcome.model_version}` : ''}${outcome.reason ? ` (${outcome.reason})` : ''}`);
    if (outcome.state === 'released') model = await currentModel(baseUrl);
  }
  // 2. One GRR report per device for this week under the model the rounds left in force
  //    (what the dashboard shows), and for up to 11 closed weeks before it when the stack
  //    takes them (`npm start` sets DEV_BACKFILL_WEEKS; a production stack refuses closed
  //    weeks, and the run then keeps this week only). Beside each, the device's lifecycle
  //    report for the same week, as the SDK sends it.
  if (!sameRules(model.lifecycle, LIFECYCLE_RULES)) {
    clock.note(`lifecycle: model v${model.version} has rules ${JSON.stringify(model.lifecycle)}; the simulated stages follow ${JSON.stringify(LIFECYCLE_RULES)}`);
  }
  const { reports: reportTally, lifecycle } = await clock.timeAsync('reports (POST /v1/reports, segment and lifecycle)', async () => {
    const xs = standardised(model);
    const centroids = flattenCentroids(model.centroids);
    const segments = xs.map((x) => assignSegment(x, centroids));
    const tally = { period: isoWeekPeriod(Date.now()), periods: [] as string[], model_version: model.version, sent: 0, accepted: 0, duplicates: 0 };
    const devices = Object.fromEntries([...LIFECYCLE_STAGES, 'none'].map((s) => [s, 0])) as Record<LifecycleStage | 'none', number>;
    for (const stage of pop.stages) devices[stage ?? 'none'] += 1;
    const life = { epsilon: lifecycleEpsilon(model), sent: 0, accepted: 0, duplicates: 0, devices };
    for (const period of periodsUpTo(isoWeekPeriod(Date.now()), BACKFILL_WEEKS + 1).reverse()) {
      const reports: SegmentReport[] = segments.map((segment) => ({ id: randomId(), model_version: model.version, period, value: grrEncode(segment, model.k, model.epsilon.report) }));
      const [first, ...rest] = batchesOf(reports);
      const probe = await postReports(baseUrl, first ?? []);
      if (probe.status === 422 && period !== tally.period && /stale-period/.test(probe.text)) {
        clock.note(`reports: the stack takes no reports for ${period} (closed or released); sent this week${tally.periods.length > 1 ? ` and ${tally.periods.length - 1} closed week(s)` : ''} only`);
        break;
      }
      addAnswers(tally, [probe, ...(await mapBounded(rest, CONCURRENCY, (batch) => postReports(baseUrl, batch)))]);
      tally.sent += reports.length;
      tally.periods.push(period);
      const lifecycleReports = pop.stages.flatMap((stage): SegmentReport[] => (stage === null ? [] : [{ id: randomId(), model_version: model.version, period, value: lifecycleReportValue(model, stage), kind: 'lifecycle' }]));
      addAnswers(life, await mapBounded(batchesOf(lifecycleReports), CONCURRENCY, (batch) => postReports(baseUrl, batch)));
      life.sent += lifecycleReports.length;
    }
    return { reports: tally, lifecycle: life };
  });

  return { baseUrl, dataset: pop.dataset, clients: pop.n, model_version: model.version, reports: reportTally, lifecycle, rounds, stages: clock.seconds, seconds: (performance.now() - started) / 1000 };
}
