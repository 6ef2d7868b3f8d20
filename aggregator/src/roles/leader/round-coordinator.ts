/** RoundCoordinator keeps the leader's rounds (descriptor, settings, state, outcome) and each bucket's noisy aggregate share, drawn once; it closes rounds on alarms. */
import { parseManifest, type RoundDescriptor } from '@edgeseg/shared';
import { addFieldNoise, decodeFieldVector, encodeFieldVector, vectorLength } from '@edgeseg/shared/secure';
import { DurableObject } from 'cloudflare:workers';
import type { KeyRing } from '../../key-ring.ts';
import type { ModelRegistry } from '../../model-registry.ts';
import { publishSignedModel } from '../../ring-signing.ts';
import { bucketIn, mergeBucket, type Bucket } from '../../round/bucket.ts';
import { closeCountsRound } from '../../round/close-counts.ts';
import { afterFailedClose, attemptEach, dueRoundIds, nextAlarmMs, type CloseFailure, type ScheduledRound } from '../../round/close-schedule.ts';
import { closeKmeansRound, RetryCloseLater, type CloseDeps } from '../../round/close.ts';
import { DEFAULT_TRAINING, type TrainingSettings } from '../../round/drift.ts';
import { nextManifest } from '../../round/next-model.ts';
import { publicRound, roundSigma2, type PublicRound, type RoundRecord } from '../../round/record.ts';
import type { TallySummary } from '../../tally.ts';
import { requestHelperAggregate } from './helper-client.ts';
import type { RoundShard } from './round-shard.ts';

const TABLE_ROUNDS = 'rounds';
const TABLE_RELEASES = 'releases';
const TABLE_SETTINGS = 'settings';
/** The privacy ledger's GRR tally releases (segments, lifecycle, impressions), one row per (kind, model version, period). */
const TABLE_TALLY_RELEASES = 'tally_releases';
const SETTING_TRAINING = 'training';

export { MAX_CLOSE_ATTEMPTS, retryDelayS } from '../../round/close-schedule.ts';

/** Bindings the leader's coordinator uses. */
export interface CoordinatorEnv {
  ROUND_SHARD: DurableObjectNamespace<RoundShard>;
  MODEL_REGISTRY?: DurableObjectNamespace<ModelRegistry>;
  MODEL_SIGNING_JWK?: string;
  KEY_RING?: DurableObjectNamespace<KeyRing>;
  HELPER_URL?: string;
  LEADER_TOKEN?: string;
}

/** One tally release in the ledger: its key, when it was first recorded (s), and the entry as JSON. */
export interface TallyReleaseRow {
  kind: string;
  model_version: number;
  period: string;
  released_at: number;
  entry: string;
}

/**
 * One instance on the leader (named `global`): rounds are few, so one directory keeps
 * them, schedules the close alarm and keeps each bucket's noise drawn once.
 */
export class RoundCoordinator extends DurableObject<CoordinatorEnv> {
  constructor(ctx: DurableObjectState, env: CoordinatorEnv) {
    super(ctx, env);
    // due_at is when the alarm next acts on a round (its close, or its next retry), not the
    // descriptor's close time: only setDue moves it. Tables from before it had that name
    // called it closes_at.
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_ROUNDS} (round_id TEXT PRIMARY KEY, record TEXT NOT NULL, due_at INTEGER NOT NULL, state TEXT NOT NULL)`);
    const columns = ctx.storage.sql.exec<{ name: string }>(`PRAGMA table_info(${TABLE_ROUNDS})`).toArray();
    if (columns.some((c) => c.name === 'closes_at')) ctx.storage.sql.exec(`ALTER TABLE ${TABLE_ROUNDS} RENAME COLUMN closes_at TO due_at`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_RELEASES} (round_id TEXT NOT NULL, bucket TEXT NOT NULL, sums BLOB NOT NULL, PRIMARY KEY (round_id, bucket))`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_SETTINGS} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${TABLE_TALLY_RELEASES} (kind TEXT NOT NULL, model_version INTEGER NOT NULL, period TEXT NOT NULL, released_at INTEGER NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (kind, model_version, period))`,
    );
  }

  /**
   * The training schedule and when it was set (the cadence of a never-trained
   * model counts from then). Defaults until an operator sets one.
   *
   * @example
   * const { settings, set_at } = await coordinator.trainingSchedule();
   */
  trainingSchedule(): { settings: TrainingSettings; set_at: number } {
    const row = this.ctx.storage.sql.exec<{ value: string }>(`SELECT value FROM ${TABLE_SETTINGS} WHERE key = ?`, SETTING_TRAINING).toArray()[0];
    if (!row) return { settings: DEFAULT_TRAINING, set_at: 0 };
    const stored = JSON.parse(row.value) as { settings: TrainingSettings; set_at: number };
    // A schedule stored before a round field existed takes that field's default.
    const round = Object.fromEntries(Object.keys(DEFAULT_TRAINING.round).map((k) => [k, (stored.settings.round as Record<string, number>)[k] ?? DEFAULT_TRAINING.round[k as keyof TrainingSettings['round']]]));
    return { settings: { ...DEFAULT_TRAINING, ...stored.settings, round: round as TrainingSettings['round'] }, set_at: stored.set_at };
  }

  /**
   * Stores a training schedule (validated by the route).
   *
   * @example
   * await coordinator.setTrainingSchedule({ ...DEFAULT_TRAINING, cadence_days: 7 }, nowS);
   */
  setTrainingSchedule(settings: TrainingSettings, nowS: number): void {
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_SETTINGS} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, SETTING_TRAINING, JSON.stringify({ settings, set_at: nowS }));
  }

  /** Stores the record and state; a new round is first due at its close time, and later only setDue moves that. */
  private save(r: RoundRecord): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO ${TABLE_ROUNDS} (round_id, record, due_at, state) VALUES (?, ?, ?, ?) ON CONFLICT(round_id) DO UPDATE SET record = excluded.record, state = excluded.state`,
      r.descriptor.round_id,
      JSON.stringify(r),
      r.descriptor.closes_at,
      r.state,
    );
  }

  /**
   * The record of a round, or null.
   *
   * @example
   * const r = await coordinator.get('r-1');
   */
  get(roundId: string): RoundRecord | null {
    const row = this.ctx.storage.sql.exec<{ record: string }>(`SELECT record FROM ${TABLE_ROUNDS} WHERE round_id = ?`, roundId).toArray()[0];
    return row ? (JSON.parse(row.record) as RoundRecord) : null;
  }

  /**
   * Stores a round (idempotent for the same id) and schedules its close. The caller has
   * already had the helper accept a secure round.
   *
   * @example
   * await coordinator.open(record);
   */
  async open(record: RoundRecord): Promise<RoundRecord> {
    const existing = this.get(record.descriptor.round_id);
    if (existing) return existing;
    this.save(record);
    await this.arm();
    return record;
  }

  /**
   * An operator's "close now": the round takes no more contributions and the alarm tries
   * to close it at once. The descriptor keeps its close time (devices and the helper hold
   * the round to it), so a secure round is released once the helper's clock passes that
   * time. On a round already closing (retrying after a failure) it pushes the next
   * attempt to now, so a close can always be pushed on; released and abandoned rounds
   * are answered as they are.
   *
   * @example
   * await coordinator.closeNow('r-1');
   */
  async closeNow(roundId: string): Promise<RoundRecord | null> {
    const r = this.get(roundId);
    if (!r || (r.state !== 'open' && r.state !== 'closing')) return r;
    const now = Math.floor(Date.now() / 1000);
    if (r.state === 'open' && now < r.descriptor.closes_at) {
      r.close_requested_at = now;
      this.save(r);
    }
    this.setDue(roundId, now);
    await this.arm();
    return r;
  }

  /** Moves when the alarm next acts on a round (the `due_at` column): its close, or a retry. */
  private setDue(roundId: string, atS: number): void {
    this.ctx.storage.sql.exec(`UPDATE ${TABLE_ROUNDS} SET due_at = ? WHERE round_id = ?`, atS, roundId);
  }

  /** The rounds the alarm still has to act on (open or closing), with when it acts on each. */
  private scheduled(): ScheduledRound[] {
    return this.ctx.storage.sql.exec<{ round_id: string; state: string; due_at: number }>(`SELECT round_id, state, due_at FROM ${TABLE_ROUNDS} WHERE state IN ('open', 'closing')`).toArray() as ScheduledRound[];
  }

  /**
   * Sets the single alarm to the earliest due time of any round still open or closing,
   * always from the table (never compared with the alarm already set: while alarm() runs
   * that one is spent), so no due round is ever left without an alarm.
   */
  private async arm(): Promise<void> {
    const at = nextAlarmMs(this.scheduled());
    if (at !== null) await this.ctx.storage.setAlarm(at);
  }

  /**
   * The open round of `kind` devices should contribute to now, or null.
   *
   * @example
   * const round = await coordinator.current(Date.now() / 1000, 'kmeans');
   */
  current(nowS: number, kind: RoundDescriptor['kind'] = 'kmeans'): RoundDescriptor | null {
    const rows = this.ctx.storage.sql.exec<{ record: string }>(`SELECT record FROM ${TABLE_ROUNDS} WHERE state = 'open' AND due_at > ? ORDER BY due_at ASC`, nowS).toArray();
    for (const row of rows) {
      const { descriptor } = JSON.parse(row.record) as RoundRecord;
      if (descriptor.kind === kind) return descriptor;
    }
    return null;
  }

  /**
   * The released summary of a counts round, the reason it was abandoned, or
   * null while it has not closed (or never existed).
   *
   * @example
   * const s = await coordinator.countsRelease('c-2026-W47-v3');
   */
  countsRelease(roundId: string): { summary: TallySummary } | { abandoned: string } | null {
    const r = this.get(roundId);
    if (!r || r.descriptor.kind !== 'counts') return null;
    if (r.state === 'released' && r.summary) return { summary: r.summary };
    if (r.state === 'abandoned') return { abandoned: r.reason ?? 'abandoned' };
    return null;
  }

  /**
   * Every round, newest first, as the public sees it.
   *
   * @example
   * const rounds = await coordinator.list();
   */
  list(): PublicRound[] {
    return this.ctx.storage.sql
      .exec<{ record: string }>(`SELECT record FROM ${TABLE_ROUNDS} ORDER BY due_at DESC`)
      .toArray()
      .map((row) => publicRound(JSON.parse(row.record) as RoundRecord));
  }

  /**
   * Records tally releases in the privacy ledger. The entry (JSON, built by the worker
   * from what the API answered) is opaque here. A release is frozen once, so the first
   * row of a (kind, model version, period) stays: reading a period again records nothing.
   *
   * @example
   * await coordinator.recordTallyReleases([{ kind: 'segments', model_version: 3, period: '2026-W47', released_at: nowS, entry }]);
   */
  recordTallyReleases(rows: readonly TallyReleaseRow[]): void {
    for (const r of rows) {
      this.ctx.storage.sql.exec(`INSERT OR IGNORE INTO ${TABLE_TALLY_RELEASES} (kind, model_version, period, released_at, entry) VALUES (?, ?, ?, ?, ?)`, r.kind, r.model_version, r.period, r.released_at, r.entry);
    }
  }

  /**
   * Every recorded tally release, newest first, as stored by recordTallyReleases.
   *
   * @example
   * const rows = await coordinator.tallyReleases();
   */
  tallyReleases(): TallyReleaseRow[] {
    return this.ctx.storage.sql
      .exec<{ kind: string; model_version: number; period: string; released_at: number; entry: string }>(`SELECT kind, model_version, period, released_at, entry FROM ${TABLE_TALLY_RELEASES} ORDER BY released_at DESC, period DESC, kind, model_version DESC`)
      .toArray()
      .map((row) => ({ ...row }));
  }

  private shard(roundId: string, i: number) {
    return this.env.ROUND_SHARD.get(this.env.ROUND_SHARD.idFromName(`${roundId}:${i}`));
  }

  /**
   * This aggregator's buckets of verified reports for a round, every shard merged: the
   * shards are closed to new reports, every pending report gets the helper's verdict
   * (secure mode), and nothing is summed while any report is still pending (the close is
   * retried). Counts the rejected reports into `r.rejected`.
   */
  private async gather(r: RoundRecord, relay: boolean): Promise<Map<string, Bucket>> {
    const length = vectorLength(r.descriptor.kind, r.descriptor.k, r.descriptor.d);
    const total = new Map<string, Bucket>();
    let rejected = 0;
    for (let i = 0; i < r.shards; i++) {
      const stub = this.shard(r.descriptor.round_id, i);
      await stub.seal();
      if (relay && !(await stub.relayNow())) throw new RetryCloseLater('helper-unreachable', `shard ${i} could not get the helper's verdict on its pending reports`);
      const summary = await stub.closeSummary(length);
      if (summary.pending > 0) throw new RetryCloseLater('reports-pending', `shard ${i} still has ${summary.pending} reports awaiting the helper's verdict`);
      rejected += summary.rejected;
      for (const [key, bucket] of Object.entries(summary.buckets)) mergeBucket(bucketIn(total, key, length), bucket);
    }
    r.rejected = rejected;
    return total;
  }

  /** A bucket's noisy field sums: noise drawn once, stored, and the same bytes on every later call. */
  private noisy(r: RoundRecord, key: string, sums: bigint[]): bigint[] {
    const roundId = r.descriptor.round_id;
    const row = this.ctx.storage.sql.exec<{ sums: ArrayBuffer }>(`SELECT sums FROM ${TABLE_RELEASES} WHERE round_id = ? AND bucket = ?`, roundId, key).toArray()[0];
    if (row) return decodeFieldVector(new Uint8Array(row.sums), sums.length);
    const noisy = addFieldNoise([...sums], roundSigma2(r));
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_RELEASES} (round_id, bucket, sums) VALUES (?, ?, ?)`, roundId, key, encodeFieldVector(noisy));
    return noisy;
  }

  /**
   * Per-report data still held in a round's shards (verified shares and pending
   * reports): zero once the round is released or abandoned.
   *
   * @example
   * const { shares, relays } = await coordinator.storedContributions('r-1');
   */
  async storedContributions(roundId: string): Promise<{ shares: number; relays: number }> {
    const r = this.get(roundId);
    const total = { shares: 0, relays: 0 };
    if (!r) return total;
    for (let i = 0; i < r.shards; i++) {
      const n = await this.shard(roundId, i).stored();
      total.shares += n.shares;
      total.relays += n.relays;
    }
    return total;
  }

  /**
   * Tries to close every round that is due, each on its own: any error of one round's
   * attempt (a retryable refusal, an unreachable helper, a Durable Object call or a
   * publish that threw) becomes that round's retry with backoff and a stated reason, or
   * its abandonment after MAX_CLOSE_ATTEMPTS. Nothing escapes to the runtime, whose own
   * alarm retries give up after a few minutes, and the alarm is re-armed for the
   * earliest due round before this returns.
   */
  override async alarm(): Promise<void> {
    try {
      const due = dueRoundIds(this.scheduled(), Date.now() / 1000);
      await attemptEach(due, (roundId) => this.attemptClose(roundId), (roundId, failure) => this.closeFailed(roundId, failure));
    } finally {
      await this.arm();
    }
  }

  private async attemptClose(roundId: string): Promise<void> {
    const r = this.get(roundId);
    if (!r || (r.state !== 'open' && r.state !== 'closing')) return;
    await this.close(r);
  }

  /** Keeps a round closing with its next attempt due after the backoff; past MAX_CLOSE_ATTEMPTS, abandons it. */
  private async closeFailed(roundId: string, failure: CloseFailure): Promise<void> {
    const r = this.get(roundId);
    // Released or abandoned: the outcome is stored and only its shards' purge failed.
    if (!r || (r.state !== 'open' && r.state !== 'closing')) {
      if (r) console.error(`round ${roundId} is ${r.state}, but finishing it failed: ${failure.message}`);
      return;
    }
    const next = afterFailedClose(r.close_attempts ?? 0, failure, Math.floor(Date.now() / 1000));
    r.state = 'closing';
    r.close_attempts = next.attempts;
    r.reason = next.reason;
    if (next.action === 'abandon') {
      await this.finish(r, 'abandoned', r.contributions ?? 0);
      return;
    }
    this.save(r);
    this.setDue(roundId, next.dueAtS);
  }

  private async close(r: RoundRecord): Promise<void> {
    r.state = 'closing';
    this.save(r);
    const secure = r.descriptor.mode === 'secure';
    const helper = { url: this.env.HELPER_URL ?? '', token: this.env.LEADER_TOKEN ?? '' };
    const deps: CloseDeps = {
      gather: () => this.gather(r, secure),
      helperAggregate: (selector) => requestHelperAggregate(helper, r.descriptor.round_id, selector),
      noisy: async (key, sums) => this.noisy(r, key, sums),
      publish: (centroids) => this.publishNext(centroids),
    };
    r.reason = null;
    if (r.descriptor.kind === 'counts') {
      const outcome = await closeCountsRound(r, deps, { kThreshold: r.counts?.k_threshold ?? 50, labels: r.counts?.labels ?? [] });
      if (outcome.state === 'released') Object.assign(r, { summary: outcome.summary, buckets: outcome.buckets, helper_sigma2: outcome.helperSigma2 });
      else r.reason = outcome.reason;
      await this.finish(r, outcome.state, outcome.contributions);
      return;
    }
    const outcome = await closeKmeansRound(r, deps);
    if (outcome.state === 'released') Object.assign(r, { result: outcome.result, buckets: outcome.buckets, helper_sigma2: outcome.helperSigma2 });
    else r.reason = outcome.reason;
    await this.finish(r, outcome.state, outcome.contributions);
  }

  /**
   * Records the outcome, then deletes every per-contribution share in the round's shards:
   * after a release nothing needs them, and an abandoned round never will.
   */
  private async finish(r: RoundRecord, state: 'released' | 'abandoned', contributions: number): Promise<void> {
    r.state = state;
    r.closed_at = Math.floor(Date.now() / 1000);
    r.contributions = contributions;
    this.save(r);
    for (let i = 0; i < r.shards; i++) await this.shard(r.descriptor.round_id, i).purge();
  }

  /** The last publish in flight: due rounds close concurrently, and each next model must build on the one before. */
  private publishing: Promise<unknown> = Promise.resolve();

  /** Publishes the next model after any publish already in flight, one at a time. */
  private publishNext(centroids: number[][]): Promise<number> {
    const published = this.publishing.then(() => this.publishModel(centroids));
    this.publishing = published.catch(() => undefined);
    return published;
  }

  private async publishModel(centroids: number[][]): Promise<number> {
    if (!this.env.MODEL_REGISTRY || !this.env.MODEL_SIGNING_JWK) throw new Error('leader needs MODEL_REGISTRY and MODEL_SIGNING_JWK to publish');
    const registry = this.env.MODEL_REGISTRY.get(this.env.MODEL_REGISTRY.idFromName('global'));
    const current = await registry.current();
    const parsed = current ? parseManifest(JSON.parse(current.manifest)) : null;
    if (!current || !parsed?.ok) throw new Error('no valid current model to train from');
    const next = nextManifest(parsed.value, centroids, Math.floor(Date.now() / 1000));
    const published = await publishSignedModel(this.env, registry, next); // the key ring's current key signs
    return published.version;
  }
}
