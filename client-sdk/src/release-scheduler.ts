/**
 * Release scheduling: when something may leave the device, and what. Under
 * measurement, once per ISO week, the segment and lifecycle reports and, for the
 * finished week, the impression report: randomized (GRR) on a single operator, or, when
 * the model counts securely, a secret-shared one-hot to each measure's weekly counts
 * round (and no randomized report at all); under model_improvement one
 * contribution per open round. Each is queued once and charged to the ledger in one
 * transaction (release.ts); the sender delivers it. Every decision not to release is
 * said through `log` (the `debug` option). Randomized (GRR) values are memoised
 * (release/grr-memo.ts): a week whose true value and mechanism are unchanged sends the
 * same answer as before, so linking a device's weeks does not average the noise away,
 * and is charged nothing new. A round (counts or k-means) is charged the ρ of its
 * discrete Gaussian release (ledger.ts, rhoOfGaussian).
 */
import {
  BUDGET_DELTA,
  COUNTS_MEASURES,
  countsPeriod,
  impressionEpsilon,
  impressionTruth,
  isoWeekPeriod,
  lifecycleEpsilon,
  standardise,
  LIFECYCLE_STAGES,
  DAY_MS,
  type Campaign,
  type CountsMeasure,
  type HpkeConfig,
  type ModelManifest,
} from '@edgeseg/shared';
import type { SegmentInfo } from './api.ts';
import type { Budget } from './budget.ts';
import { loadContributeChunk } from './chunks.ts';
import type { ConsentState } from './consent.ts';
import type { RoundJob } from './contribute/job.ts';
import { EdgesegError, toEdgesegError } from './errors.ts';
import { randomId } from './ids.ts';
import type { Fetch } from './model.ts';
import { rhoOfGaussian } from './ledger.ts';
import { queueOnce, unfit, type Mark, type Release } from './release.ts';
import type { GrrMemoKey } from './release/grr-memo.ts';
import { fetchRoundHead, type RoundHead } from './rounds.ts';
import { readKv, type Store } from './store.ts';

/** Why no randomized report is sent: the model's counts rounds count it instead (count()). */
const SECURE = 'the model counts securely';
/** Per counts measure: the ledger's words and the `kv` mark that makes it once a week. */
const COUNT_LABELS: Record<CountsMeasure, string> = { segment: 'counts', lifecycle: 'lifecycle counts', impressions: 'impression counts' };
const COUNT_MARKS: Record<CountsMeasure, Mark> = { segment: 'countedPeriod', lifecycle: 'lifecycleCountedPeriod', impressions: 'impressionCountedPeriod' };

/**
 * The entry this device counts for `measure` in `period`: its segment, its lifecycle
 * stage, or one campaign shown to it that week (impressionTruth), as an index into the
 * measure's categories (countsCategories); null is the round's "none" entry, so every
 * device that granted measurement sends one each week whatever it holds or saw.
 *
 * @example
 * await countedEntry(db, 'lifecycle', segment, [], '2026-W49') // 1 for 'active'
 */
async function countedEntry(db: Store, measure: CountsMeasure, s: SegmentInfo | null, campaigns: readonly Campaign[], period: string): Promise<number | null> {
  if (measure === 'segment') return s && s.id;
  if (measure === 'lifecycle') return s && s.lifecycle ? LIFECYCLE_STAGES.indexOf(s.lifecycle) : null;
  const shown = impressionTruth(campaigns, ((await readKv(db, 'shown')) || {})[period] || []);
  return shown < campaigns.length ? shown : null; // impressionTruth says "none" as campaigns.length
}

/** What the scheduler reads of the segmenter, and what it may do. */
export interface ReleaseContext {
  endpoint: string;
  fetch: Fetch;
  now: () => number;
  /** The device's budget (`budget` option, clamped to the defaults). */
  caps: Budget;
  /**
   * The helper key the app pins (`SegmenterOptions.aggregators.helper`). Secure mode needs
   * it: without it nothing is contributed to a secure round or counted securely.
   */
  helper?: HpkeConfig | undefined;
  store: () => Store | null;
  model: () => ModelManifest | null;
  segment: () => SegmentInfo | null;
  /**
   * The device's raw feature vector at a time (shared's featureVector over the event
   * log), or null before any event: computed by the core, which has the code anyway.
   */
  features: (nowMs: number) => Float32Array | null;
  consent: () => ConsentState;
  /** Sends the outbox. */
  deliver: () => Promise<void>;
  fail: (err: EdgesegError) => void;
  /** Says a decision (the `debug` option). */
  log: (message: string) => void;
}

export interface ReleaseScheduler {
  /** This week's randomized segment and lifecycle reports, once each (none when the model counts securely). */
  report(): Promise<void>;
  /** Last week's randomized impression report, once (none when the model counts securely). */
  impressions(): Promise<void>;
  /**
   * When the model counts securely: this week's segment and lifecycle counts and last
   * week's impression count, once each, one after another (`retry`: look for the rounds
   * again even if already asked this week).
   */
  count(retry?: boolean): Promise<void>;
  /** A contribution to the open k-means round, once per round (`fetchRound`: ask the server which round is open). */
  contribute(fetchRound: boolean): Promise<void>;
  /** Resolves when the contribution checks under way are done. Never rejects. */
  idle(): Promise<void>;
  /** Forgets what it remembered in memory (erase). */
  reset(): void;
}

/**
 * Creates the scheduler over `ctx`.
 *
 * @example
 * const releases = createReleaseScheduler({ endpoint, fetch, now: Date.now, caps, store: () => db, model: () => model, segment: () => current, features: (t) => featureVector(log.features, t), consent, deliver, fail, log });
 * await releases.report();
 */
export function createReleaseScheduler(ctx: ReleaseContext): ReleaseScheduler {
  /** The open round last fetched, kept until this device has features to contribute. */
  let round: RoundHead | null = null;
  /** Contribution checks (rounds and counts) run one after another; flush() waits for them. */
  let contributing: Promise<void> = Promise.resolve();
  /** Per measure, the ISO week whose counts round was last looked for: asked again only after a model fetch or a day. */
  let countsAsked: Partial<Record<CountsMeasure, string>> = {};
  /** Whether the missing helper pin was reported: once per segmenter, then only logged. */
  let pinMissingSaid = false;

  /**
   * Secure mode without the app's helper pin: the helper key would have to come from the
   * leader, which could then name its own key and open both shares. Nothing is
   * contributed; one `helper-not-pinned` error says why, later occasions only log it.
   */
  function helperMissing(label: string): void {
    const why = `${label}: secure mode needs the helper's HPKE key from the app (aggregators.helper in createSegmenter's options); nothing was contributed`;
    if (pinMissingSaid) return ctx.log(why);
    pinMissingSaid = true;
    ctx.fail(new EdgesegError('helper-not-pinned', 'contribute', why));
  }

  /** Queues `releases` once each under their purposes' caps; sends when any was queued; logs what was not. */
  async function release(db: Store, releases: Release[], nowMs: number): Promise<void> {
    const outcome = await queueOnce(db, releases, ctx.caps, nowMs);
    outcome.forEach((why, i) => why && ctx.log(`${(releases[i] as Release).label} not queued: ${why}`));
    if (outcome.indexOf(null) >= 0) await ctx.deliver();
  }

  /** Why nothing may be measured now, or null. */
  function noMeasurement(m: ModelManifest | null): string | null {
    return !ctx.consent().measurement ? 'measurement is not granted (or Global Privacy Control is on)' : !m ? 'no model yet' : null;
  }

  /** Runs `task` after the contribution checks before it; a chunk's refusal of a round is `round-refused`. Never rejects. */
  function serially(task: () => Promise<void>): Promise<void> {
    return (contributing = contributing.then(() => task().catch((err: unknown) => ctx.fail(toEdgesegError(err, 'round-refused', 'contribute')))));
  }

  /** The open round of `kind`, or null; a failed request is `request-failed`. */
  async function openRound(kind: 'counts' | 'kmeans', measure?: CountsMeasure): Promise<RoundHead | null> {
    try {
      return await fetchRoundHead(ctx.fetch, ctx.endpoint, kind, measure);
    } catch (err) {
      throw new EdgesegError('request-failed', 'contribute', String(err), err);
    }
  }

  /**
   * Joins open round `r` once: loads the chunk of its mode only when `value` is new under
   * `mark` and the round's ε fits the cap of the purpose `job.kind` spends; the chunk
   * validates the round against the signed model and hands the contribution back to be
   * queued, if `allowed()` still holds.
   */
  async function joinRound(db: Store, m: ModelManifest, r: RoundHead, mark: Mark, value: string, label: string, job: Pick<RoundJob, 'kind' | 'x' | 'counts'>, allowed: () => boolean, nowMs: number): Promise<void> {
    const purpose = job.kind === 'counts' ? 'measurement' : 'model_improvement';
    // The head is untrusted and may lack δ: charged at the year's δ until the chunk's validated round says.
    const why = await unfit(db.transaction(['kv', 'ledger']), mark, value, purpose, { epsilon: r.epsilon, rho: rhoOfGaussian(r.epsilon, BUDGET_DELTA) }, ctx.caps, nowMs);
    if (why) return ctx.log(`${label} not joined: ${why}`);
    if (r.mode === 'secure' && !ctx.helper) return helperMissing(label);
    let chunk;
    try {
      chunk = await loadContributeChunk(r.mode);
    } catch (err) {
      throw new EdgesegError('chunk-load-failed', 'contribute', `the contribution chunk did not load: ${String(err)}`, err);
    }
    await chunk.join({
      ...job,
      round: r,
      model: m,
      helper: ctx.helper,
      nowMs,
      async queue(item, { epsilon, delta }) {
        const store = ctx.store(); // null once shut down
        if (store && allowed()) await release(store, [{ mark, value, epsilon, rho: rhoOfGaussian(epsilon, delta), label, item }], nowMs);
      },
    });
  }

  return {
    async report() {
      const db = ctx.store();
      const m = ctx.model();
      const s = ctx.segment();
      const why = noMeasurement(m) || (m && m.measurement === 'secure' ? SECURE : !s ? 'no segment yet' : null);
      if (!db || !m || !s || why) return why ? ctx.log(`no weekly report: ${why}`) : undefined;
      const nowMs = ctx.now();
      const period = isoWeekPeriod(nowMs);
      const reports: Release[] = [];
      // The value is the memoised GRR answer, drawn by queueOnce only if the report is queued.
      const add = (mark: Mark, label: string, grr: GrrMemoKey, kind?: 'lifecycle'): void => {
        const id = randomId();
        const report = { id, model_version: m.version, period, value: 0, ...(kind && { kind }) };
        reports.push({ mark, value: period, epsilon: grr.epsilon, label: `${label} ${period}`, item: { id, purpose: 'measurement', createdAt: nowMs, report }, grr });
      };
      try {
        const modelVersion = m.version;
        add('reportedPeriod', 'report', { kind: 'report', modelVersion, k: m.k, epsilon: m.epsilon.report, truth: s.id });
        if (s.lifecycle) add('lifecyclePeriod', 'lifecycle', { kind: 'lifecycle', modelVersion, k: LIFECYCLE_STAGES.length, epsilon: lifecycleEpsilon(m), truth: LIFECYCLE_STAGES.indexOf(s.lifecycle) }, 'lifecycle');
        await release(db, reports, nowMs);
      } catch (err) {
        ctx.fail(toEdgesegError(err, 'storage-failed', 'report'));
      }
    },

    async impressions() {
      const db = ctx.store();
      const m = ctx.model();
      const why = noMeasurement(m) || (m && !(m.campaigns && m.campaigns.length) ? 'the model has no campaigns' : m && m.measurement === 'secure' ? SECURE : null);
      if (!db || !m || why) return why ? ctx.log(`no impression report: ${why}`) : undefined;
      const nowMs = ctx.now();
      const period = isoWeekPeriod(nowMs - 7 * DAY_MS); // a week is reported once it is over
      const id = randomId();
      try {
        const shown = (await readKv(db, 'shown')) || {};
        const campaigns = m.campaigns || [];
        const grr: GrrMemoKey = { kind: 'impression', modelVersion: m.version, k: campaigns.length + 1, epsilon: impressionEpsilon(m), truth: impressionTruth(campaigns, shown[period] || []) };
        const impression = { id, model_version: m.version, period, value: 0 }; // value: drawn by queueOnce if queued
        await release(db, [{ mark: 'impressionPeriod', value: period, epsilon: grr.epsilon, label: `impressions ${period}`, item: { id, purpose: 'measurement', createdAt: nowMs, impression }, grr }], nowMs);
      } catch (err) {
        ctx.fail(toEdgesegError(err, 'storage-failed', 'report'));
      }
    },

    count(retry = false) {
      if (retry) countsAsked = {};
      let done = contributing;
      // One task per measure, so a failed request for one round does not skip the others.
      COUNTS_MEASURES.forEach((measure) => {
        done = serially(async () => {
          const db = ctx.store();
          const m = ctx.model();
          const c = ctx.consent();
          const nowMs = ctx.now();
          const period = countsPeriod(measure, nowMs);
          const s = ctx.segment();
          const campaigns = (m && m.campaigns) || [];
          // Without personalization the device counts as "none"; with it, segment and stage wait for a segment.
          if (!db || !m || m.measurement !== 'secure' || !c.measurement || (measure !== 'impressions' && c.personalization && !s) || countsAsked[measure] === period) return;
          countsAsked[measure] = period;
          const label = `${COUNT_LABELS[measure]} ${period}`;
          if (measure === 'impressions' && !campaigns.length) return ctx.log(`${label}: the model has no campaigns`);
          if (!ctx.helper) return helperMissing(label);
          const mark = COUNT_MARKS[measure];
          if ((await readKv(db, mark)) === period) return ctx.log(`${label}: already contributed`);
          const r = await openRound('counts', measure);
          if (!r || r.period !== period || (r.measure || 'segment') !== measure) return ctx.log(`${label}: no counts round open for it yet`);
          const value = await countedEntry(db, measure, s, campaigns, period);
          await joinRound(db, m, r, mark, period, label, { kind: 'counts', x: null, counts: { period, measure, value } }, () => ctx.consent().measurement, nowMs);
        });
      });
      return done;
    },

    contribute(fetchRound) {
      return serially(async () => {
        const db = ctx.store();
        const m = ctx.model();
        const ok = (): boolean => ctx.consent().personalization && ctx.consent().model_improvement;
        if (!db || !m || !ok()) return;
        if (fetchRound) round = await openRound('kmeans');
        const r = round;
        const nowMs = ctx.now();
        const raw = ctx.features(nowMs);
        if (!r || !raw) return; // no round, or no features yet: the round waits for the next burst of events
        round = null;
        await joinRound(db, m, r, 'contributedRound', r.round_id, `round ${r.round_id}`, { kind: 'kmeans', x: standardise(raw, m.scaling.mean, m.scaling.scale) }, ok, nowMs);
      });
    },

    idle: () => contributing,

    reset() {
      round = null;
      countsAsked = {};
    },
  };
}
