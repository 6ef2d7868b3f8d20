/** HelperCoordinator stores the helper's accepted rounds (descriptor, digest, verify key, own σ², state), each release's noisy shares (the same bytes on every retry), its ledger rows and the operator's policy patch. */
import type { HpkeConfig, RoundDescriptor } from '@edgeseg/shared';
import { addFieldNoise, bytesToBase64url, roundDigest, vectorLength } from '@edgeseg/shared/secure';
import { DurableObject } from 'cloudflare:workers';
import { bucketIn, mergeBucket, type Bucket } from '../../round/bucket.ts';
import { selectorOf, type BatchSelector } from '../../round/close.ts';
import { fieldVectorToBase64 } from '../../round/wire.ts';
import { ledgerPayload, ledgerRelease, type LedgerPayload, type LedgerRelease } from './ledger.ts';
import { helperPolicyFromVars, mergePolicy, parseSigma2, reviewRound, roundCharge, type HelperPolicy, type HelperPolicyVars, type RoundRule } from './policy.ts';
import { decideRelease, type ReleaseRule } from './release.ts';
import type { HelperShard } from './shard.ts';

const TABLE_ROUNDS = 'rounds';
const TABLE_RELEASES = 'releases';
const TABLE_LEDGER = 'ledger';
const TABLE_SETTINGS = 'settings';
const SETTING_POLICY_PATCH = 'policy_patch';
/** HelperShard DOs per round: writes spread over this many SQLite databases. */
export const HELPER_SHARDS = 8;
/**
 * How long after its release a round's contribution ids are kept (for replay refusal
 * while the leader may still relay or retry); then the shards forget everything.
 */
export const ROUND_RETENTION_S = 86_400;

/** Bindings the helper's coordinator reads: its shards and the policy vars (HELPER_*). */
export interface HelperCoordinatorEnv extends HelperPolicyVars {
  HELPER_SHARD: DurableObjectNamespace<HelperShard>;
}

/** A round the helper accepted. */
export interface HelperRound {
  descriptor: RoundDescriptor;
  /** base64url of roundDigest(descriptor): what every helper share must be sealed to. */
  digest: string;
  /** The helper's own σ², "num/den". */
  sigma2: string;
  /** The round's Prio3 verify key (base64url, 16 bytes) the leader sent when opening it: never public. */
  verify_key: string;
  shards: number;
  state: 'open' | 'released';
  accepted_at: number;
  /** Set at the release. */
  released_at?: number;
  /** Set once the round expired and its shards forgot every id. */
  forgotten_at?: number;
}

/** The answer to an open: accepted (or accepted before), a conflict, or a refusal by policy. */
export type HelperOpenResult =
  | { ok: true; round_id: string; digest: string; sigma2: string }
  | { ok: false; conflict: true; detail: string }
  | { ok: false; conflict: false; rule: RoundRule; detail: string };

/** The helper's release: per released bucket its noisy share (base64 of a Field128 vector) and count, and what it withheld. */
export interface HelperReleaseAnswer {
  shares: Record<string, string>;
  counts: Record<string, number>;
  withheld: Record<string, string>;
  sigma2: string;
}

/** The answer to an aggregate request. */
export type HelperReleaseResult = ({ ok: true } & HelperReleaseAnswer) | { ok: false; rule: ReleaseRule | 'unknown-round'; detail: string };

/** A round's use of one of the helper's HPKE keys (so a retired key stays published while its round is open). */
export interface HelperKeyUse {
  state: string;
  closes_at: number;
  config_id: number;
}

interface RoundRow {
  record: string;
  [key: string]: SqlStorageValue;
}

/**
 * One instance per helper (named `global`): the rounds it accepted under its policy,
 * and each round's single release. It never takes a round record from the leader, only
 * a descriptor it reviews, and never uses a σ² but its own.
 */
export class HelperCoordinator extends DurableObject<HelperCoordinatorEnv> {
  constructor(ctx: DurableObjectState, env: HelperCoordinatorEnv) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_ROUNDS} (round_id TEXT PRIMARY KEY, record TEXT NOT NULL, kind TEXT NOT NULL, epsilon REAL NOT NULL, closes_at INTEGER NOT NULL, state TEXT NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_RELEASES} (round_id TEXT PRIMARY KEY, selector TEXT NOT NULL, answer TEXT NOT NULL, released_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_LEDGER} (round_id TEXT PRIMARY KEY, entry TEXT NOT NULL, released_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE_SETTINGS} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  private policyPatch(): Record<string, unknown> {
    const row = this.ctx.storage.sql.exec<{ value: string }>(`SELECT value FROM ${TABLE_SETTINGS} WHERE key = ?`, SETTING_POLICY_PATCH).toArray()[0];
    return row ? (JSON.parse(row.value) as Record<string, unknown>) : {};
  }

  /**
   * The policy in force: the vars of helper/wrangler.toml, then the operator's patches
   * (PUT /v1/admin/policy) over them. Throws naming a var that does not parse.
   *
   * @example
   * const policy = await coordinator.policy();
   */
  policy(): HelperPolicy {
    const fromVars = helperPolicyFromVars(this.env as unknown as Record<string, unknown>);
    const merged = mergePolicy(fromVars, this.policyPatch());
    return merged.ok ? merged.value : fromVars;
  }

  /**
   * Applies an operator's partial policy; it applies to rounds opened afterwards.
   *
   * @example
   * const r = await coordinator.setPolicy({ min_batch: 500 });
   */
  setPolicy(patch: unknown): { ok: true; policy: HelperPolicy } | { ok: false; errors: string[] } {
    const checked = mergePolicy(this.policy(), patch);
    if (!checked.ok) return checked;
    const stored = { ...this.policyPatch(), ...(patch as Record<string, unknown>) };
    this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_SETTINGS} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, SETTING_POLICY_PATCH, JSON.stringify(stored));
    return { ok: true, policy: this.policy() };
  }

  /**
   * A round the helper accepted, or null.
   *
   * @example
   * const round = await coordinator.roundFor('r-1');
   */
  roundFor(roundId: string): HelperRound | null {
    const row = this.ctx.storage.sql.exec<RoundRow>(`SELECT record FROM ${TABLE_ROUNDS} WHERE round_id = ?`, roundId).toArray()[0];
    return row ? (JSON.parse(row.record) as HelperRound) : null;
  }

  private save(r: HelperRound): void {
    const d = r.descriptor;
    this.ctx.storage.sql.exec(
      `INSERT INTO ${TABLE_ROUNDS} (round_id, record, kind, epsilon, closes_at, state) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(round_id) DO UPDATE SET record = excluded.record, state = excluded.state`,
      d.round_id,
      JSON.stringify(r),
      d.kind,
      d.epsilon,
      d.closes_at,
      r.state,
    );
  }

  /**
   * Reviews a descriptor (already parsed by the route) against the policy and stores it
   * with its verify key if accepted. The same descriptor again answers as the first
   * time; another descriptor under an accepted round id is a conflict. A refusal stores
   * nothing.
   *
   * A repeated open with another verify key replaces it while the helper holds no report
   * of the round (the leader never stored the first acceptance, so nothing was relayed
   * under the old key); once reports are stored it is a conflict.
   *
   * @example
   * const r = await coordinator.open(descriptor, '9/2', verifyKey, ownConfigs, nowS);
   */
  async open(descriptor: RoundDescriptor, statedSigma2: string, verifyKey: string, ownHelperConfigs: HpkeConfig[], nowS: number): Promise<HelperOpenResult> {
    const digest = bytesToBase64url(await roundDigest(descriptor));
    const existing = this.roundFor(descriptor.round_id);
    if (existing) {
      if (existing.digest !== digest) return { ok: false, conflict: true, detail: `round ${descriptor.round_id} was accepted with another configuration` };
      if (existing.verify_key !== verifyKey) {
        if (existing.state !== 'open' || (await this.storedShares(descriptor.round_id)) > 0) {
          return { ok: false, conflict: true, detail: `round ${descriptor.round_id} already holds reports prepared under another verify key` };
        }
        this.save({ ...existing, verify_key: verifyKey });
      }
      return { ok: true, round_id: descriptor.round_id, digest, sigma2: existing.sigma2 };
    }
    const acceptedRounds = this.ctx.storage.sql
      .exec<RoundRow>(`SELECT record FROM ${TABLE_ROUNDS}`)
      .toArray()
      .map((row) => roundCharge((JSON.parse(row.record) as HelperRound).descriptor));
    const review = reviewRound(descriptor, statedSigma2, this.policy(), { nowS, ownHelperConfigs, acceptedRounds });
    if (!review.ok) return { ok: false, conflict: false, rule: review.rule, detail: review.detail };
    this.save({ descriptor, digest, sigma2: review.sigma2, verify_key: verifyKey, shards: HELPER_SHARDS, state: 'open', accepted_at: nowS });
    return { ok: true, round_id: descriptor.round_id, digest, sigma2: review.sigma2 };
  }

  /**
   * Open and closing rounds with the helper key each names (for publishing retired keys).
   *
   * @example
   * const uses = await coordinator.keyUses();
   */
  keyUses(): HelperKeyUse[] {
    return this.ctx.storage.sql
      .exec<RoundRow>(`SELECT record FROM ${TABLE_ROUNDS} WHERE state = 'open'`)
      .toArray()
      .flatMap((row) => {
        const r = JSON.parse(row.record) as HelperRound;
        const config = r.descriptor.hpke.helper;
        return config ? [{ state: r.state, closes_at: r.descriptor.closes_at, config_id: config.config_id }] : [];
      });
  }

  private shard(roundId: string, i: number): DurableObjectStub<HelperShard> {
    return this.env.HELPER_SHARD.get(this.env.HELPER_SHARD.idFromName(`${roundId}:${i}`));
  }

  /** The helper's own buckets of a round, every shard merged; `seal` closes the shards first. */
  private async gather(r: HelperRound, seal: boolean): Promise<Map<string, Bucket>> {
    const length = vectorLength(r.descriptor.kind, r.descriptor.k, r.descriptor.d);
    const total = new Map<string, Bucket>();
    for (let i = 0; i < r.shards; i++) {
      const stub = this.shard(r.descriptor.round_id, i);
      if (seal) await stub.seal();
      for (const [key, bucket] of Object.entries(await stub.summary(length))) mergeBucket(bucketIn(total, key, length), bucket);
    }
    return total;
  }

  private async purgeShards(r: HelperRound): Promise<void> {
    for (let i = 0; i < r.shards; i++) await this.shard(r.descriptor.round_id, i).purge();
  }

  /**
   * Releases the helper's noisy aggregate share of a round, decided on its own state:
   * after the close time, for exactly the batch it opened, once. Buckets under the
   * minimum batch are withheld. Noise is drawn once with the helper's own σ²; the same
   * selector again answers the same stored bytes. After the release the shards keep ids only.
   *
   * @example
   * const r = await coordinator.release('r-1', selector, nowS);
   */
  async release(roundId: string, selector: BatchSelector, nowS: number): Promise<HelperReleaseResult> {
    const r = this.roundFor(roundId);
    if (!r) return { ok: false, rule: 'unknown-round', detail: `the helper never accepted round ${roundId}` };
    const stored = this.ctx.storage.sql.exec<{ selector: string; answer: string }>(`SELECT selector, answer FROM ${TABLE_RELEASES} WHERE round_id = ?`, roundId).toArray()[0];
    if (stored) {
      const decision = decideRelease(r.descriptor, {}, selector, nowS, JSON.parse(stored.selector) as BatchSelector);
      if (!decision.ok) return decision;
      await this.purgeShards(r); // idempotent: finishes a purge an earlier call may not have
      return { ok: true, ...(JSON.parse(stored.answer) as HelperReleaseAnswer) };
    }
    if (nowS < r.descriptor.closes_at) return { ok: false, rule: 'too-early', detail: `round ${roundId} closes at ${r.descriptor.closes_at}, the helper's clock says ${nowS}` };
    // Agree first on the unsealed shards (a relay may still be in flight), then seal and check what sealing committed.
    const first = decideRelease(r.descriptor, selectorOf(await this.gather(r, false)), selector, nowS);
    if (!first.ok) return first;
    const buckets = await this.gather(r, true);
    const mine = selectorOf(buckets);
    const decision = decideRelease(r.descriptor, mine, selector, nowS);
    if (!decision.ok) return decision;
    const sigma2 = parseSigma2(r.sigma2);
    if (!sigma2) throw new Error(`round ${roundId}: stored σ² ${r.sigma2} does not parse`);
    const shares: Record<string, string> = {};
    for (const key of decision.released) {
      shares[key] = fieldVectorToBase64(addFieldNoise([...(buckets.get(key) as Bucket).sums], sigma2));
    }
    const answer: HelperReleaseAnswer = { shares, counts: decision.counts, withheld: decision.withheld, sigma2: r.sigma2 };
    const entry = ledgerRelease(r.descriptor, r.sigma2, decision.counts, nowS);
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_RELEASES} (round_id, selector, answer, released_at) VALUES (?, ?, ?, ?)`, roundId, JSON.stringify(mine), JSON.stringify(answer), nowS);
      this.ctx.storage.sql.exec(`INSERT INTO ${TABLE_LEDGER} (round_id, entry, released_at) VALUES (?, ?, ?)`, roundId, JSON.stringify(entry), nowS);
      this.save({ ...r, state: 'released', released_at: nowS });
    });
    await this.purgeShards(r);
    await this.scheduleExpiry();
    return { ok: true, ...answer };
  }

  /** Released rounds whose shards still hold ids, with when they expire. */
  private unexpired(): { round: HelperRound; expires_at: number }[] {
    return this.ctx.storage.sql
      .exec<RoundRow>(`SELECT record FROM ${TABLE_ROUNDS} WHERE state = 'released'`)
      .toArray()
      .map((row) => JSON.parse(row.record) as HelperRound)
      .filter((r) => r.forgotten_at === undefined)
      .map((round) => ({ round, expires_at: (round.released_at ?? round.descriptor.closes_at) + ROUND_RETENTION_S }));
  }

  private async scheduleExpiry(): Promise<void> {
    const next = Math.min(...this.unexpired().map((u) => u.expires_at));
    if (!Number.isFinite(next)) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next * 1000) await this.ctx.storage.setAlarm(next * 1000);
  }

  /** Forgets the ids of every round past its retention (a failed shard throws, so the alarm retries). */
  override async alarm(): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    for (const { round, expires_at } of this.unexpired()) {
      if (expires_at > now) continue;
      for (let i = 0; i < round.shards; i++) await this.shard(round.descriptor.round_id, i).forget();
      this.save({ ...round, forgotten_at: now });
    }
    await this.scheduleExpiry();
  }

  /**
   * The ledger payload (unsigned: the Worker signs it with the helper's key).
   *
   * @example
   * const payload = await coordinator.ledger(nowS);
   */
  ledger(nowS: number): LedgerPayload {
    const releases = this.ctx.storage.sql
      .exec<{ entry: string }>(`SELECT entry FROM ${TABLE_LEDGER} ORDER BY released_at`)
      .toArray()
      .map((row) => JSON.parse(row.entry) as LedgerRelease);
    return ledgerPayload(this.policy(), releases, nowS);
  }

  /**
   * Shares still stored in a round's shards (0 once released), for audits and tests.
   *
   * @example
   * await coordinator.storedShares('r-1') // 0
   */
  async storedShares(roundId: string): Promise<number> {
    const r = this.roundFor(roundId);
    if (!r) return 0;
    let n = 0;
    for (let i = 0; i < r.shards; i++) n += await this.shard(roundId, i).storedShares();
    return n;
  }
}

