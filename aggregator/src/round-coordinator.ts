/** RoundCoordinator stores one aggregator's rounds (descriptor, settings, state, outcome) and each bucket's noisy aggregate share, drawn once. */
import { parseManifest, type RoundDescriptor } from '@edgeseg/shared';
import { addDiscreteGaussianNoise } from '@edgeseg/shared/dp';
import { vectorLength } from '@edgeseg/shared/secure';
import { DurableObject } from 'cloudflare:workers';
import type { ModelRegistry } from './model-registry.ts';
import { mergeBucket, emptyBucket, type Bucket } from './round/bucket.ts';
import { closeKmeansRound, selectorOf, type BatchSelector, type CloseDeps } from './round/close.ts';
import { closeCountsRound } from './round/close-counts.ts';
import { nextManifest } from './round/next-model.ts';
import { DEFAULT_TRAINING, type TrainingSettings } from './round/drift.ts';
import type { TallySummary } from './tally.ts';
import { publicRound, roundSigma2, type PublicRound, type RoundRecord } from './round/record.ts';
import type { RoundShard } from './round-shard.ts';
import { publishSignedModel } from './ring-signing.ts';
import type { KeyRing } from './key-ring.ts';

const TABLE_ROUNDS = 'rounds';
const TABLE_RELEASES = 'releases';
const TABLE_SETTINGS = 'settings';
const SETTING_TRAINING = 'training';

/** Bindings the coordinator uses; the helper has no registry, signing key or helper URL. */
export interface CoordinatorEnv {
  ROLE?: string;
  ROUND_SHARD: DurableObjectNamespace<RoundShard>;
  MODEL_REGISTRY?: DurableObjectNamespace<ModelRegistry>;
  MODEL_SIGNING_JWK?: string;
  KEY_RING?: DurableObjectNamespace<KeyRing>;
  HELPER_URL?: string;
  LEADER_TOKEN?: string;
}

/** The helper's answer to an aggregate-share request. */
export type HelperRelease = { ok: true; shares: Record<string, Uint32Array> } | { ok: false; reason: string };

function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * Reads little-endian base64 back into a vector of uint32 (the leader ↔ helper wire).
 *
 * @example
 * base64ToUint32('AQAAAA==') // Uint32Array [1]
 */
export function base64ToUint32(b64: string): Uint32Array {
  const bin = atob(b64);
  const out = new Uint32Array(bin.length >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = (bin.charCodeAt(i * 4) | (bin.charCodeAt(i * 4 + 1) << 8) | (bin.charCodeAt(i * 4 + 2) << 16) | (bin.charCodeAt(i * 4 + 3) << 24)) >>> 0;
  return out;
}

/**
 * Serialises a vector of uint32 as little-endian base64, for the leader ↔ helper wire.
 *
 * @example
 * uint32ToBase64(new Uint32Array([1])) // 'AQAAAA=='
 */
export function uint32ToBase64(v: Uint32Array): string {
  const bytes = new Uint8Array(v.length * 4);
  const view = new DataView(bytes.buffer);
  v.forEach((x, i) => view.setUint32(i * 4, x, true));
  return bytesToBase64(bytes);
}

/**
 * One instance per aggregator (named `global`): rounds are few, so one directory keeps
 * them, schedules the close alarm (leader) and guards each bucket's single release.
 */
export class RoundCoordinator extends DurableObject<CoordinatorEnv> {
  constructor(ctx: DurableObjectState, env: CoordinatorEnv) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_ROUNDS} (round_id TEXT PRIMARY KEY, record TEXT NOT NULL, closes_at INTEGER NOT NULL, state TEXT NOT NULL)`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_RELEASES} (round_id TEXT NOT NULL, bucket TEXT NOT NULL, sums BLOB NOT NULL, PRIMARY KEY (round_id, bucket))`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_SETTINGS} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  /**
   * Leader: the training schedule and when it was set (the cadence of a never-trained
   * model counts from then). Defaults until an operator sets one.
   *
   * @example
   * const { settings, set_at } = await coordinator.trainingSchedule();
   */
  trainingSchedule(): { settings: TrainingSettings; set_at: number } {
    const row = this.ctx.storage.sql.exec<{ value: string }>(`SELECT value FROM ${TABLE_SETTINGS} WHERE key = ?`, SETTING_TRAINING).toArray()[0];
    return row ? (JSON.parse(row.value) as { settings: TrainingSettings; set_at: number }) : { settings: DEFAULT_TRAINING, set_at: 0 };
  }

  /**
   * Leader: stores a training schedule (validated by the route).
   *
   * @example
   * await coordinator.setTrainingSchedule({ ...DEFAULT_TRAINING, cadence_days: 7 }, nowS);
   */
  setTrainingSchedule(settings: TrainingSettings, nowS: number): void {
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_SETTINGS} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, SETTING_TRAINING, JSON.stringify({ settings, set_at: nowS }));
  }

  private save(r: RoundRecord): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO ${TABLE_ROUNDS} (round_id, record, closes_at, state) VALUES (?, ?, ?, ?) ON CONFLICT(round_id) DO UPDATE SET record = excluded.record, state = excluded.state`,
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
   * Opens a round (idempotent for the same id) and, on the leader, schedules its close.
   *
   * @example
   * await coordinator.open(record);
   */
  async open(record: RoundRecord): Promise<RoundRecord> {
    const existing = this.get(record.descriptor.round_id);
    if (existing) return existing;
    this.save(record);
    if (this.env.ROLE !== 'helper') await this.scheduleAlarm();
    return record;
  }

  /**
   * Leader: brings a round's close forward to now (an operator's "close now"); the
   * alarm then closes it as it would at its planned time.
   *
   * @example
   * await coordinator.closeNow('r-1');
   */
  async closeNow(roundId: string): Promise<RoundRecord | null> {
    const r = this.get(roundId);
    if (!r || r.state !== 'open') return r;
    r.descriptor.closes_at = Math.min(r.descriptor.closes_at, Math.floor(Date.now() / 1000));
    this.save(r);
    this.ctx.storage.sql.exec(`UPDATE ${TABLE_ROUNDS} SET closes_at = ? WHERE round_id = ?`, r.descriptor.closes_at, roundId);
    await this.ctx.storage.setAlarm(Date.now());
    return r;
  }

  private async scheduleAlarm(): Promise<void> {
    const next = this.ctx.storage.sql.exec<{ t: number | null }>(`SELECT MIN(closes_at) AS t FROM ${TABLE_ROUNDS} WHERE state IN ('open', 'closing')`).toArray()[0]?.t;
    if (next === null || next === undefined) return;
    const at = next * 1000;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * The open round of `kind` devices should contribute to now, or null.
   *
   * @example
   * const round = await coordinator.current(Date.now() / 1000, 'kmeans');
   */
  current(nowS: number, kind: RoundDescriptor['kind'] = 'kmeans'): RoundDescriptor | null {
    const rows = this.ctx.storage.sql.exec<{ record: string }>(`SELECT record FROM ${TABLE_ROUNDS} WHERE state = 'open' AND closes_at > ? ORDER BY closes_at ASC`, nowS).toArray();
    for (const row of rows) {
      const { descriptor } = JSON.parse(row.record) as RoundRecord;
      if (descriptor.kind === kind) return descriptor;
    }
    return null;
  }

  /**
   * Leader: the released summary of a counts round, the reason it was abandoned, or
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
      .exec<{ record: string }>(`SELECT record FROM ${TABLE_ROUNDS} ORDER BY closes_at DESC`)
      .toArray()
      .map((row) => publicRound(JSON.parse(row.record) as RoundRecord));
  }

  private shard(roundId: string, i: number) {
    return this.env.ROUND_SHARD.get(this.env.ROUND_SHARD.idFromName(`${roundId}:${i}`));
  }

  /**
   * This aggregator's buckets for a round, every shard merged. `seal` closes the shards
   * to new contributions first (only once the round is really being released); `relay`
   * (leader) sends every pending helper ciphertext before summing.
   */
  private async gather(r: RoundRecord, opts: { seal: boolean; relay: boolean }): Promise<Map<string, Bucket>> {
    const length = vectorLength(r.descriptor.kind, r.descriptor.k, r.descriptor.d);
    const total = new Map<string, Bucket>();
    for (let i = 0; i < r.shards; i++) {
      const stub = this.shard(r.descriptor.round_id, i);
      if (opts.seal) await stub.seal();
      if (opts.relay && !(await stub.relayNow())) throw new Error(`round ${r.descriptor.round_id}: shard ${i} could not relay to the helper`);
      for (const [key, bucket] of Object.entries(await stub.summary(length))) {
        let t = total.get(key);
        if (!t) total.set(key, (t = emptyBucket(length)));
        mergeBucket(t, bucket);
      }
    }
    return total;
  }

  /** A bucket's noisy sums: noise drawn once, stored, and the same bytes on every later call. */
  private noisy(r: RoundRecord, key: string, sums: Uint32Array): Uint32Array {
    const roundId = r.descriptor.round_id;
    const row = this.ctx.storage.sql.exec<{ sums: ArrayBuffer }>(`SELECT sums FROM ${TABLE_RELEASES} WHERE round_id = ? AND bucket = ?`, roundId, key).toArray()[0];
    if (row) return new Uint32Array(row.sums.slice(0));
    const noisy = new Uint32Array(sums);
    addDiscreteGaussianNoise(noisy, roundSigma2(r));
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_RELEASES} (round_id, bucket, sums) VALUES (?, ?, ?)`, roundId, key, new Uint8Array(noisy.buffer));
    return noisy;
  }

  /**
   * Helper: releases its noisy aggregate share of a round, once, and only for exactly the
   * batch it holds itself. A second request for another batch is refused, so the leader
   * cannot difference two releases to isolate a device.
   *
   * @example
   * const release = await helperCoordinator.release('r-1', selector);
   */
  async release(roundId: string, selector: BatchSelector): Promise<HelperRelease> {
    const r = this.get(roundId);
    if (!r) return { ok: false, reason: `unknown round ${roundId}` };
    if (r.state === 'abandoned') return { ok: false, reason: `round ${roundId} was abandoned: ${r.reason ?? ''}` };
    const sameAs = (m: BatchSelector) => JSON.stringify(Object.entries(m).sort()) === JSON.stringify(Object.entries(selector).sort());
    let buckets = await this.gather(r, { seal: false, relay: false });
    let mine = selectorOf(buckets);
    const total = Object.values(mine).reduce((n, b) => n + b.count, 0);
    // The helper enforces the minimum batch itself: a leader must not be able to collect
    // a release of a handful of devices by relaying only theirs.
    if (total < r.min_devices) return { ok: false, reason: `${total} contributions, under the minimum batch of ${r.min_devices}` };
    if (sameAs(mine) && r.state === 'open') {
      // Agreed: close the shards, then check once more what sealing committed.
      buckets = await this.gather(r, { seal: true, relay: false });
      mine = selectorOf(buckets);
    }
    if (!sameAs(mine)) {
      const theirs = Object.values(selector).reduce((n, b) => n + b.count, 0);
      const ours = Object.values(mine).reduce((n, b) => n + b.count, 0);
      return { ok: false, reason: `batch mismatch: leader has ${theirs} contributions, helper ${ours}` };
    }
    const shares: Record<string, Uint32Array> = {};
    for (const [key, b] of buckets) shares[key] = this.noisy(r, key, b.sums);
    if (r.state === 'open') {
      r.state = 'released';
      r.closed_at = Math.floor(Date.now() / 1000);
      r.contributions = total;
      this.save(r);
    }
    return { ok: true, shares };
  }

  /** Leader: closes every round whose time is up. Throws (so the alarm retries) when the helper cannot be reached. */
  override async alarm(): Promise<void> {
    if (this.env.ROLE === 'helper') return;
    const now = Date.now() / 1000;
    const due = this.ctx.storage.sql
      .exec<{ record: string }>(`SELECT record FROM ${TABLE_ROUNDS} WHERE state IN ('open', 'closing') AND closes_at <= ?`, now)
      .toArray()
      .map((row) => JSON.parse(row.record) as RoundRecord);
    for (const r of due) await this.close(r);
    await this.scheduleAlarm();
  }

  private async close(r: RoundRecord): Promise<void> {
    r.state = 'closing';
    this.save(r);
    const secure = r.descriptor.mode === 'secure';
    const deps: CloseDeps = {
      gather: () => this.gather(r, { seal: true, relay: secure }),
      helperAggregate: (selector) => this.askHelper(r.descriptor.round_id, selector),
      noisy: async (key, sums) => this.noisy(r, key, sums),
      publish: (centroids) => this.publishNext(centroids),
    };
    if (r.descriptor.kind === 'counts') {
      const outcome = await closeCountsRound(r, deps, { kThreshold: r.counts?.k_threshold ?? 50, labels: r.counts?.labels ?? [] });
      if (outcome.state === 'released') r.summary = outcome.summary;
      else r.reason = outcome.reason;
      this.finish(r, outcome.state, outcome.contributions);
      return;
    }
    const outcome = await closeKmeansRound(r, deps);
    if (outcome.state === 'released') r.result = outcome.result;
    else r.reason = outcome.reason;
    this.finish(r, outcome.state, outcome.contributions);
  }

  private finish(r: RoundRecord, state: 'released' | 'abandoned', contributions: number): void {
    r.state = state;
    r.closed_at = Math.floor(Date.now() / 1000);
    r.contributions = contributions;
    this.save(r);
  }

  private async askHelper(roundId: string, selector: BatchSelector): Promise<HelperRelease> {
    const res = await fetch(`${this.env.HELPER_URL}/internal/v1/rounds/${encodeURIComponent(roundId)}/aggregate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.env.LEADER_TOKEN}` },
      body: JSON.stringify({ selector }),
    });
    if (res.status >= 500) throw new Error(`helper answered ${res.status}`); // transient: the alarm retries
    const body = (await res.json()) as { ok: boolean; reason?: string; shares?: Record<string, string> };
    // A relay still in flight can make the batches differ for a moment: retry (the alarm
    // backs off) rather than abandon the round.
    if (body.reason?.startsWith('batch mismatch')) throw new Error(`helper: ${body.reason}`);
    if (!res.ok || !body.ok || !body.shares) return { ok: false, reason: body.reason ?? `helper answered ${res.status}` };
    return { ok: true, shares: Object.fromEntries(Object.entries(body.shares).map(([k, v]) => [k, base64ToUint32(v)])) };
  }

  private async publishNext(centroids: number[][]): Promise<number> {
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
