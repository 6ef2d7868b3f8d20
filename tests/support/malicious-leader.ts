/**
 * A malicious leader, for tests of the helper as a guardian (issue #14, contract §3): it
 * holds what a leader really holds (the bearer token the helper trusts a leader with, and
 * an HPKE key of its own choosing for its share) and nothing of the helper's, talks to the
 * helper's internal routes directly, and builds devices' contributions itself so it can
 * show devices one configuration and the helper another. Every step returns the raw
 * answer: the tests decide what a refusal must look like.
 */
import { bucketKey, idDigest, TRAINING_ENCODING } from '@edgeseg/aggregator/rounds';
import type { HpkeConfig, RoundDescriptor, SecureContribution } from '@edgeseg/shared';
import { sigma2ForEpsilon, type Rational } from '@edgeseg/shared/dp';
import {
  CONTRIBUTION_INFO,
  bytesToBase64url,
  contributionAad,
  generateHpkeKeyPair,
  importHpkePrivateKey,
  newVerifyKey,
  openShare,
  prepareReport,
  reportGroup,
  reportNonce,
  roundDigest,
  vdafFor,
  type HpkeRecipientKey,
  type PreparedReport,
} from '@edgeseg/shared/secure';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { handBuiltReport, prepareAs, relayItemOf, type RelayItem } from './prio3-device.ts';
import { expectProblem, type ProblemAnswer } from './problem.ts';

export type { RelayItem };

/** One device's contribution as the attacker built it, with what it needs to check a reconstruction. */
export interface BuiltDevice {
  body: SecureContribution;
  /** The vector the device encoded (int32 entries). */
  vector: Int32Array;
  /** The bucket's group, derived from the id with the attacker's verify key (as both aggregators do). */
  group: number;
  /** The helper's input share (never sent to the leader in the clear; the test keeps it as ground truth). */
  helperInput: Uint8Array;
  /** The public share, to prepare the ground-truth helper share. */
  publicShare: Uint8Array;
  /** The leader's own preparation of the report (what it relays with the helper's sealed share). */
  leader: PreparedReport;
}

/** A batch selector (contract §3.3): per bucket key (`slice:group`), the count and the id checksum (hex). */
export type BatchSelector = Record<string, { count: number; checksum: string }>;

/** The helper's answer to a relay (the preparation exchange): ids of this batch whose proof verified, and the others. */
export interface RelayAnswer {
  verified: string[];
  rejected: string[];
}

/** The helper's answer to a release (contract §3.3). */
export interface HelperRelease {
  shares: Record<string, string>;
  counts: Record<string, number>;
  withheld: Record<string, string>;
  sigma2: string;
}

/**
 * A σ² as the wire writes it ("num/den").
 *
 * @example
 * sigma2Text(sigma2ForEpsilon(1, 1e-9, 2048)) // '…/…'
 */
export function sigma2Text(r: Rational): string {
  return `${r.num}/${r.den}`;
}

/**
 * Whether two "num/den" texts are the same rational (compared exactly, cross-multiplied).
 *
 * @example
 * sameRational('2/4', '1/2') // true
 */
export function sameRational(a: string, b: string): boolean {
  const parse = (s: string): [bigint, bigint] => {
    const [num, den] = s.split('/');
    return [BigInt(num as string), BigInt(den ?? '1')];
  };
  const [an, ad] = parse(a);
  const [bn, bd] = parse(b);
  return an * bd === bn * ad;
}

/**
 * The batch selector a leader sends for these contributions: per (slice, group) bucket,
 * the count and the XOR of SHA-256 of the ids (hex), as the helper computes its own.
 *
 * @example
 * const selector = await selectorFor(items);
 */
export async function selectorFor(items: readonly { id: string; slice: number; group: number }[]): Promise<BatchSelector> {
  const out: Record<string, { count: number; checksum: Uint8Array }> = {};
  for (const it of items) {
    const key = bucketKey(it.slice, it.group);
    const bucket = (out[key] ??= { count: 0, checksum: new Uint8Array(32) });
    const digest = await idDigest(it.id);
    bucket.count += 1;
    for (let i = 0; i < 32; i++) bucket.checksum[i] = (bucket.checksum[i] as number) ^ (digest[i] as number);
  }
  return Object.fromEntries(Object.entries(out).map(([k, b]) => [k, { count: b.count, checksum: Buffer.from(b.checksum).toString('hex') }]));
}

/**
 * Asserts an `application/problem+json` answer of `status` and problem `slug`, and with
 * `rule` the helper's extension member naming the rule; returns the body.
 *
 * @example
 * await expectRefusal(await attacker.openRound(descriptor), 422, 'round-refused', 'min-batch');
 */
export async function expectRefusal(res: Response, status: number, slug: string, rule?: string, what = ''): Promise<ProblemAnswer> {
  const body = await expectProblem(res, status, slug, what);
  if (rule !== undefined) expect(body.rule, `${what}: ${JSON.stringify(body)}`).toBe(rule);
  return body;
}

/**
 * Every byte of an aggregator's Durable Object storage as it lies on disk now (SQLite
 * files and their write-ahead logs), to check that a refused request stored nothing.
 *
 * @example
 * expect(storageBytes(stack.stateDirs.helper).includes(Buffer.from(roundId))).toBe(false);
 */
export function storageBytes(stateDir: string): Buffer {
  const files: Buffer[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.isFile()) files.push(readFileSync(join(dir, e.name)));
    }
  };
  walk(stateDir);
  return Buffer.concat(files);
}

/**
 * The leader of a running stack turned against its helper: its own HPKE key, the leader
 * token, and the helper's internal routes.
 */
export class MaliciousLeader {
  private constructor(
    readonly helperUrl: string,
    private readonly token: string,
    /** The leader's own HPKE config (what it pins for its share) and private key. */
    readonly leaderConfig: HpkeConfig,
    private readonly leaderKey: HpkeRecipientKey,
    /** The helper's current HPKE config, as the helper publishes it. */
    readonly helperConfig: HpkeConfig,
    /** The Prio3 verify key this leader draws and sends with every round it opens (it knows it, so it can place its own ids in a group). */
    readonly verifyKey: Uint8Array = newVerifyKey(),
  ) {}

  /**
   * A leader with a fresh HPKE key of its own, against the helper at `helperUrl`.
   *
   * @example
   * const attacker = await MaliciousLeader.create(stack.helperUrl, stack.leaderToken);
   */
  static async create(helperUrl: string, leaderToken: string): Promise<MaliciousLeader> {
    const res = await fetch(`${helperUrl}/.well-known/hpke-configs`);
    if (!res.ok) throw new Error(`helper /.well-known/hpke-configs answered ${res.status}`);
    const { helper } = (await res.json()) as { helper: HpkeConfig };
    const own = await generateHpkeKeyPair(helper.config_id === 1 ? 3 : 1);
    return new MaliciousLeader(helperUrl, leaderToken, own.config, await importHpkePrivateKey(own.privateKeyJwk), helper);
  }

  /**
   * A k-means round descriptor the helper's default policy accepts (secure, ε 0.5, δ 1e-9,
   * minimum batch 100, one slice of `k` seeded centroids over d = 31 features, opening now
   * and closing `durationS` later), with `overrides` on top.
   *
   * @example
   * const round = attacker.descriptor('r-1', 30, { min_batch: 1 });
   */
  descriptor(roundId: string, durationS: number, overrides: Partial<RoundDescriptor> = {}): RoundDescriptor {
    const k = 4;
    const d = 31;
    const nowS = Math.floor(Date.now() / 1000);
    const centroids = Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, j) => Math.round(Math.sin(1 + c * d + j) * 1000) / 1000));
    return {
      round_id: roundId,
      kind: 'kmeans',
      mode: 'secure',
      model_version: 1,
      k,
      d,
      slices: [centroids],
      groups: 2,
      encoding: TRAINING_ENCODING,
      epsilon: 0.5,
      delta: 1e-9,
      opens_at: nowS,
      closes_at: nowS + durationS,
      min_batch: 100,
      hpke: { leader: this.leaderConfig, helper: this.helperConfig },
      ...overrides,
    };
  }

  /**
   * Asks the helper to accept `descriptor`, stating `sigma2` (by default the honest
   * σ²(ε, δ, bound), so only what the test changed can break a rule).
   *
   * @example
   * const res = await attacker.openRound(round, '1/1000000000000');
   */
  openRound(descriptor: RoundDescriptor, sigma2: string = sigma2Text(sigma2ForEpsilon(descriptor.epsilon, descriptor.delta, descriptor.encoding.bound))): Promise<Response> {
    return this.post('/internal/v1/rounds', { descriptor, sigma2, verify_key: bytesToBase64url(this.verifyKey) });
  }

  /**
   * The group both aggregators derive for report `id` in a round of `groups` groups.
   *
   * @example
   * const g = await attacker.groupOf(id, round.groups);
   */
  groupOf(id: string, groups: number): Promise<number> {
    return reportGroup(this.verifyKey, id, groups);
  }

  /**
   * A fresh report id that lands in `group` (the attacker holds the verify key, so it can
   * grind ids for its own Sybils; a device cannot).
   *
   * @example
   * const id = await attacker.idInGroup('sybil-0001', 0, round.groups);
   */
  async idInGroup(prefix: string, group: number, groups: number): Promise<string> {
    for (;;) {
      const id = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
      if ((await this.groupOf(id, groups)) === group) return id;
    }
  }

  /**
   * Relays sealed helper shares (contract §3.2).
   *
   * @example
   * const res = await attacker.relay(round.round_id, devices.map(relayItem));
   */
  relay(roundId: string, items: readonly RelayItem[]): Promise<Response> {
    return this.post('/internal/v1/shares', { round_id: roundId, items });
  }

  /**
   * Asks the helper for its noisy aggregate share of the batch `selector` names (contract §3.3).
   *
   * @example
   * const res = await attacker.aggregate(round.round_id, await selectorFor(items));
   */
  aggregate(roundId: string, selector: BatchSelector): Promise<Response> {
    return this.post(`/internal/v1/rounds/${encodeURIComponent(roundId)}/aggregate`, { selector });
  }

  /**
   * A device's Prio3 report for `shownRound` (the descriptor the device was shown, which
   * the shares are sealed to) in `slice`, and the leader's own preparation of it (opened
   * with the digest of `shownRound`, prepared under this leader's verify key).
   *
   * @example
   * const dev = await attacker.device(round, vector, await attacker.idInGroup('target', 1, round.groups), 0);
   */
  async device(shownRound: RoundDescriptor, vector: Int32Array, id: string, slice: number): Promise<BuiltDevice> {
    const report = await handBuiltReport(shownRound, { vector }, id, slice);
    const leader = await prepareAs(shownRound, this.verifyKey, 0, report);
    return { body: report.body, vector, group: await this.groupOf(id, shownRound.groups), helperInput: report.helperInput, publicShare: report.publicShare, leader };
  }

  /**
   * Opens and prepares the leader's own share of a contribution, as the leader does (with
   * the digest of the descriptor it holds): its output share, preparation share and seed.
   *
   * @example
   * const mine = await attacker.prepareOwnShare(round, dev.body);
   */
  async prepareOwnShare(round: RoundDescriptor, body: SecureContribution): Promise<PreparedReport> {
    const binding = { round_id: body.round_id, id: body.id, slice: body.slice, public_share: body.public_share };
    const opened = await openShare(this.leaderKey, body.leader, CONTRIBUTION_INFO, contributionAad(binding, 'leader', await roundDigest(round)));
    const vdaf = vdafFor(round.kind, round.k, round.d);
    return prepareReport(vdaf, this.verifyKey, 0, await reportNonce(body.round_id, body.id), Buffer.from(body.public_share, 'base64url'), opened);
  }

  /**
   * The helper's output share of a built device, prepared from the ground-truth helper
   * input share (what the helper stores once the report verifies, before any noise).
   *
   * @example
   * const helperShare = (await attacker.helperOutputShare(round, dev)).outputShare;
   */
  helperOutputShare(round: RoundDescriptor, dev: BuiltDevice): Promise<PreparedReport> {
    return prepareAs(round, this.verifyKey, 1, { body: dev.body, publicShare: dev.publicShare, leaderInput: new Uint8Array(0), helperInput: dev.helperInput });
  }

  private post(path: string, body: unknown): Promise<Response> {
    return fetch(`${this.helperUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify(body),
    });
  }
}

/**
 * The relay item of a built contribution: the helper's sealed share and public share,
 * with the leader's preparation share and joint-randomness seed (the preparation exchange).
 *
 * @example
 * await attacker.relay(round.round_id, devices.map(relayItem));
 */
export function relayItem(dev: Pick<BuiltDevice, 'body' | 'leader'>): RelayItem {
  return relayItemOf(dev.body, dev.leader);
}
