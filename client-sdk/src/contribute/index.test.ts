import { LIFECYCLE_STAGES, type Campaign, type CountsMeasure, type ModelManifest, type RoundDescriptor, type SecureContribution } from '@edgeseg/shared';
import {
  CONTRIBUTION_INFO,
  SUMVEC_OFFSET,
  base64urlToBytes,
  combineFieldShares,
  contributionAad,
  decodeCountAggregate,
  decodeKmeansAggregate,
  generateHpkeKeyPair,
  importHpkePrivateKey,
  newVerifyKey,
  openShare,
  parseSecureContribution,
  prepareReport,
  removeOffset,
  reportNonce,
  roundDigest,
  vdafFor,
  vectorLength,
  verifyReport,
  type HpkeRecipientKey,
} from '@edgeseg/shared/secure';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as source from './index.ts';
import { testModel } from './test-model.ts';

const K = 3;
const D = 4;
const centroids = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
];

let leaderKey: HpkeRecipientKey;
let helperKey: HpkeRecipientKey;
let round: RoundDescriptor;
let pinned: { leader: RoundDescriptor['hpke']['leader']; helper: RoundDescriptor['hpke']['leader'] };
let otherKey: string;

beforeAll(async () => {
  const [leader, helper, other] = await Promise.all([generateHpkeKeyPair(1), generateHpkeKeyPair(2), generateHpkeKeyPair(2)]);
  [leaderKey, helperKey] = await Promise.all([importHpkePrivateKey(leader.privateKeyJwk), importHpkePrivateKey(helper.privateKeyJwk)]);
  pinned = { leader: leader.config, helper: helper.config };
  otherKey = other.config.public_key;
  round = {
    round_id: 'r-1700000000-abcdef01',
    kind: 'kmeans',
    mode: 'secure',
    model_version: 3,
    k: K,
    d: D,
    slices: [centroids],
    groups: 4,
    encoding: { clip: 8, bound: 127, weights: { coords: 0.8, count: 0.5, sqdist: 0.2, silhouette: 0.25 } },
    epsilon: 1,
    delta: 1e-9,
    opens_at: 1_600_000_000,
    closes_at: 1_900_000_000,
    min_batch: 100,
    hpke: { leader: { ...leader.config }, helper: { ...helper.config } },
  };
});

const built = new URL('../../dist/contribute.min.js', import.meta.url);
const chunks: [string, () => Promise<typeof source>][] = [
  ['source', async () => source],
  [
    'built chunk (dist/contribute.min.js)',
    async () => {
      if (!existsSync(built)) throw new Error('client-sdk/dist/contribute.min.js is missing: run `npm run build` (npm test does it first)');
      return (await import(/* @vite-ignore */ built.href)) as typeof source;
    },
  ],
];

/** A model of `round`'s version pinning `keys` (only the fields the chunk reads matter here). */
const modelPinning = (keys: typeof pinned | undefined, version = round.model_version): ModelManifest => testModel(K, version, keys);

type Queued = [source.ContributionItem, RoundDescriptor];

/** Runs the chunk's `join` on `roundValue` and returns what it queued (it queues at most once). */
async function joinWith(
  chunk: typeof source,
  roundValue: unknown,
  x: Float32Array | null,
  opts: { keys?: typeof pinned | undefined; version?: number; nowMs?: number; helper?: typeof pinned.helper; kind?: source.RoundJob['kind']; counts?: source.RoundJob['counts']; campaigns?: Campaign[] } = {},
): Promise<Queued[]> {
  const queued: Queued[] = [];
  await chunk.join({
    kind: opts.kind ?? 'kmeans',
    counts: opts.counts,
    round: roundValue,
    model: { ...modelPinning('keys' in opts ? opts.keys : pinned, opts.version), ...(opts.campaigns ? { campaigns: opts.campaigns } : {}) },
    x,
    helper: opts.helper,
    nowMs: opts.nowMs ?? 1_800_000_000_000,
    queue: async (item, r) => void queued.push([item, r]),
  });
  return queued;
}

describe.each(chunks)('join, %s', (_name, load) => {
  it('seals a contribution both aggregators open, which recombines to one device in its nearest cluster', async () => {
    const chunk = await load();
    const x = Float32Array.from([0.1, 0.9, 0.2, 0]);
    const queued = await joinWith(chunk, JSON.parse(JSON.stringify(round)), x);
    expect(queued).toHaveLength(1);
    const [item, validated] = queued[0] as Queued;
    expect(item.purpose).toBe('model_improvement');
    expect(validated).toEqual(round);
    const body = item.contribution as SecureContribution;
    expect(item.id).toBe(body.id);
    expect(Object.keys(body).sort()).toEqual(['helper', 'id', 'leader', 'public_share', 'round_id', 'slice']);
    expect(body.round_id).toBe(round.round_id);

    const { sums, leaderShare } = await aggregateOne(body, validated);
    const agg = decodeKmeansAggregate(sums, K, D, round.encoding);
    expect(Array.from(agg.counts, (c) => Math.round(c))).toEqual([0, 1, 0]);
    // The leader's output share alone is uniformly random in the field, not the measurement.
    const L = vectorLength('kmeans', K, D);
    expect(leaderShare.filter((w, i) => w === BigInt((sums[i] as number) + SUMVEC_OFFSET)).length).toBeLessThan(L / 4);
  });

  it('refuses a round whose helper or leader key is not the one pinned in the model, and a model that pins none', async () => {
    const chunk = await load();
    const x = new Float32Array(D);
    const swapped = (role: 'leader' | 'helper') => ({ ...round, hpke: { ...round.hpke, [role]: { ...round.hpke[role], public_key: otherKey } } });
    await expect(joinWith(chunk, swapped('helper'), x)).rejects.toThrow(/pinned/);
    await expect(joinWith(chunk, swapped('leader'), x)).rejects.toThrow(/pinned/);
    // The leader's own key offered as the helper's: both shares would open at the leader.
    await expect(joinWith(chunk, { ...round, hpke: { leader: round.hpke.leader, helper: { ...round.hpke.leader, config_id: 2 } } }, x)).rejects.toThrow(/pinned/);
    await expect(joinWith(chunk, { ...round, hpke: { ...round.hpke, helper: { ...pinned.helper, config_id: 7 } } }, x)).rejects.toThrow(/pinned/);
    await expect(joinWith(chunk, round, x, { keys: undefined })).rejects.toThrow(/pinned/);
  });

  it('with the helper key pinned by the app, refuses a model and round that both name another helper (a leader signing in its own key)', async () => {
    const chunk = await load();
    const x = Float32Array.from([0.1, 0.9, 0.2, 0]);
    // The leader controls the model signature: it pins its own key as the helper's, and the round agrees.
    const leaderAsHelper = { ...pinned.leader, config_id: pinned.helper.config_id };
    const forged = { ...round, hpke: { leader: round.hpke.leader, helper: leaderAsHelper } };
    expect(await joinWith(chunk, forged, x, { keys: { leader: pinned.leader, helper: leaderAsHelper } })).toHaveLength(1); // without the app's pin, the signed model is all there is
    await expect(joinWith(chunk, forged, x, { keys: { leader: pinned.leader, helper: leaderAsHelper }, helper: pinned.helper })).rejects.toThrow(/helper key other than the one the app pins/);
    await expect(joinWith(chunk, round, x, { helper: { ...pinned.helper, public_key: otherKey } })).rejects.toThrow(/the app pins/);
    expect(await joinWith(chunk, round, x, { helper: { ...pinned.helper } })).toHaveLength(1);
  });

  it('refuses a round that is not a valid, open secure k-means round of the active model', async () => {
    const chunk = await load();
    const x = new Float32Array(D);
    await expect(joinWith(chunk, { ...round, mode: 'local', local_sigma2: 4 }, x)).rejects.toThrow(/local kmeans round, not a secure kmeans round/);
    await expect(joinWith(chunk, { ...round, kind: 'counts', period: '2026-W48', d: 0, slices: [[[], [], []]] }, x)).rejects.toThrow(/secure counts round, not a secure kmeans round/);
    await expect(joinWith(chunk, { ...round, epsilon: 'much' }, x)).rejects.toThrow(/invalid round: epsilon/);
    await expect(joinWith(chunk, null, x)).rejects.toThrow(/invalid round/);
    await expect(joinWith(chunk, round, x, { version: round.model_version + 1 })).rejects.toThrow(/for model v3, not v4/);
    await expect(joinWith(chunk, round, x, { nowMs: round.closes_at * 1000 })).rejects.toThrow(/is closed/);
    await expect(joinWith(chunk, round, new Float32Array(D + 1))).rejects.toThrow(/features/);
    await expect(joinWith(chunk, round, null)).rejects.toThrow(/needs the device's features/);
  });
});

/**
 * Both aggregators in process, as the leader's ingest and the helper's relay run one
 * report: open each share with its aad, prepare it (a fresh verify key: the device never
 * knows it), verify the proof from both preparation shares, and combine the two output
 * shares into the report's signed contribution (k-means: offset removed).
 */
async function aggregateOne(body: SecureContribution, r: RoundDescriptor): Promise<{ sums: Float64Array; leaderShare: bigint[] }> {
  const parsed = parseSecureContribution(JSON.parse(JSON.stringify(body)), r);
  expect(parsed.ok ? [] : parsed.errors).toEqual([]);
  const digest = await roundDigest(r);
  const vdaf = vdafFor(r.kind, r.k, r.d);
  const verifyKey = newVerifyKey();
  const nonce = await reportNonce(body.round_id, body.id);
  const pub = base64urlToBytes(body.public_share);
  const leaderInput = await openShare(leaderKey, body.leader, CONTRIBUTION_INFO, contributionAad(body, 'leader', digest));
  const helperInput = await openShare(helperKey, body.helper, CONTRIBUTION_INFO, contributionAad(body, 'helper', digest));
  const leader = await prepareReport(vdaf, verifyKey, 0, nonce, pub, leaderInput);
  const helper = await prepareReport(vdaf, verifyKey, 1, nonce, pub, helperInput);
  expect(await verifyReport(vdaf, leader.prepShare, helper.prepShare, leader.jointRandSeed, helper.jointRandSeed)).toBe(true);
  return { sums: removeOffset(r.kind, combineFieldShares(leader.outputShare, helper.outputShare), 1), leaderShare: leader.outputShare };
}

/** The signed contribution of one secure body for `r`, after both aggregators verified its proof. */
async function recombine(body: SecureContribution, r: RoundDescriptor): Promise<Float64Array> {
  return (await aggregateOne(body, r)).sums;
}

const WEEK = '2027-W02';
const IN_WEEK_MS = Date.UTC(2027, 0, 13); // a Wednesday of 2027-W02

/** The week's counts round as the leader plans it (worker/src/round-plan.ts, planCountsRound). */
function countsRound(): RoundDescriptor {
  return {
    round_id: `c-${WEEK}-v3`,
    kind: 'counts',
    mode: 'secure',
    model_version: round.model_version,
    k: K,
    d: 0,
    slices: [[[], [], []]],
    groups: 1,
    encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } },
    epsilon: 1,
    delta: 1e-9,
    opens_at: Math.floor(IN_WEEK_MS / 1000),
    closes_at: Math.ceil(IN_WEEK_MS / 1000) + 14 * 86_400,
    min_batch: 100,
    period: WEEK,
    hpke: round.hpke,
  };
}

describe.each(chunks)('join a counts round, %s', (_name, load) => {
  const counts = (value: number | null, period = WEEK, measure: CountsMeasure = 'segment') => ({ kind: 'counts' as const, counts: { period, measure, value }, nowMs: IN_WEEK_MS });

  it('seals the one-hot of the segment (or "no segment") under measurement; both aggregators together read one device there', async () => {
    const chunk = await load();
    for (const segment of [2, 0, null]) {
      const queued = await joinWith(chunk, JSON.parse(JSON.stringify(countsRound())), null, counts(segment));
      expect(queued).toHaveLength(1);
      const [item, validated] = queued[0] as Queued;
      expect(item.purpose).toBe('measurement');
      expect(validated).toEqual(countsRound());
      const body = item.contribution as SecureContribution;
      expect(item.id).toBe(body.id);
      expect(Object.keys(body).sort()).toEqual(['helper', 'id', 'leader', 'public_share', 'round_id', 'slice']);
      const sums = await recombine(body, validated);
      expect(Array.from(decodeCountAggregate(sums, K, 1))).toEqual(Array.from({ length: K + 1 }, (_, i) => (i === (segment ?? K) ? 1 : 0)));
    }
  });

  it('refuses a counts round of another week, another k or model, other keys than the pinned ones, or without the segment', async () => {
    const chunk = await load();
    const r = countsRound();
    await expect(joinWith(chunk, { ...r, period: '2027-W01' }, null, counts(1))).rejects.toThrow(/does not count the 3 segment categories of 2027-W02; nothing was sent/);
    await expect(joinWith(chunk, r, null, counts(1, '2027-W03'))).rejects.toThrow(/does not count the 3 segment categories of 2027-W03/);
    await expect(joinWith(chunk, { ...r, k: K + 1, slices: [[[], [], [], []]] }, null, counts(1))).rejects.toThrow(/does not count the 3 segment categories/);
    await expect(joinWith(chunk, r, null, { ...counts(1), version: r.model_version + 1 })).rejects.toThrow(/for model v3, not v4/);
    await expect(joinWith(chunk, { ...r, hpke: { ...r.hpke, helper: { ...r.hpke.helper, public_key: otherKey } } }, null, counts(1))).rejects.toThrow(/pinned in the signed model/);
    await expect(joinWith(chunk, r, null, { ...counts(1), helper: { ...pinned.helper, public_key: otherKey } })).rejects.toThrow(/the app pins/);
    await expect(joinWith(chunk, r, null, { ...counts(1), keys: undefined })).rejects.toThrow(/pinned/);
    await expect(joinWith(chunk, r, null, { kind: 'counts', nowMs: IN_WEEK_MS })).rejects.toThrow(/does not count the 3 segment categories of the week asked for/);
    await expect(joinWith(chunk, r, null, { ...counts(1), nowMs: r.closes_at * 1000 })).rejects.toThrow(/is closed/);
    // A k-means round offered where a counts round was asked for, and the other way round.
    await expect(joinWith(chunk, round, null, counts(1))).rejects.toThrow(/secure kmeans round, not a secure counts round/);
    await expect(joinWith(chunk, r, Float32Array.from([0, 1, 0, 0]), { nowMs: IN_WEEK_MS })).rejects.toThrow(/secure counts round, not a secure kmeans round/);
    expect(await joinWith(chunk, r, null, counts(1))).toHaveLength(1); // and the unchanged round still goes through
  });

  const CAMPAIGNS: Campaign[] = ['spring-drama', 'kids-row'].map((id) => ({ id, segment: 0, kind: 'message', title: id }));
  /** The week's round of `measure` as the leader plans it: k is the number of that measure's categories. */
  const measureRound = (measure: 'lifecycle' | 'impressions', k: number): RoundDescriptor => ({ ...countsRound(), round_id: `c-${WEEK}-${measure}-v3`, measure, k, slices: [Array.from({ length: k }, () => [])] });

  it('seals the one-hot of the lifecycle stage, or of the campaign shown (null: "none"), and refuses an entry past the categories', async () => {
    const chunk = await load();
    const cases: ['lifecycle' | 'impressions', number, number | null, number][] = [
      ['lifecycle', LIFECYCLE_STAGES.length, LIFECYCLE_STAGES.indexOf('at_risk'), LIFECYCLE_STAGES.indexOf('at_risk')],
      ['lifecycle', LIFECYCLE_STAGES.length, null, LIFECYCLE_STAGES.length],
      ['impressions', CAMPAIGNS.length, 1, 1],
      ['impressions', CAMPAIGNS.length, null, CAMPAIGNS.length],
    ];
    for (const [measure, k, value, entry] of cases) {
      const r = measureRound(measure, k);
      const [[item, validated]] = (await joinWith(chunk, JSON.parse(JSON.stringify(r)), null, { ...counts(value, WEEK, measure), campaigns: CAMPAIGNS })) as [Queued];
      expect(item.purpose).toBe('measurement');
      expect(validated).toEqual(r);
      const sums = await recombine(item.contribution as SecureContribution, validated);
      expect(Array.from(decodeCountAggregate(sums, k, 1)), `${measure} ${value}`).toEqual(Array.from({ length: k + 1 }, (_, i) => (i === entry ? 1 : 0)));
    }
    // "none" is null, never the index k: a value past the categories is refused, nothing queued.
    await expect(joinWith(chunk, measureRound('impressions', CAMPAIGNS.length), null, { ...counts(CAMPAIGNS.length, WEEK, 'impressions'), campaigns: CAMPAIGNS })).rejects.toThrow(/not in \[0, 2\)/);
  });

  it('refuses a counts round of another measure than the one asked for, or whose k is not that measure\'s number of categories', async () => {
    const chunk = await load();
    const withCampaigns = { campaigns: CAMPAIGNS };
    const lifecycle = measureRound('lifecycle', LIFECYCLE_STAGES.length);
    const impressions = measureRound('impressions', CAMPAIGNS.length);
    // The segment round offered for the lifecycle stage, and the lifecycle round for the segment or impressions.
    await expect(joinWith(chunk, countsRound(), null, counts(1, WEEK, 'lifecycle'))).rejects.toThrow(/does not count the 4 lifecycle categories of 2027-W02/);
    await expect(joinWith(chunk, lifecycle, null, counts(1))).rejects.toThrow(/does not count the 3 segment categories/);
    await expect(joinWith(chunk, lifecycle, null, { ...counts(1, WEEK, 'impressions'), ...withCampaigns })).rejects.toThrow(/does not count the 2 impressions categories/);
    // A k other than the signed model's: a stage or campaign more or fewer, or campaigns the model does not have.
    await expect(joinWith(chunk, { ...lifecycle, k: 3, slices: [[[], [], []]] }, null, counts(1, WEEK, 'lifecycle'))).rejects.toThrow(/does not count the 4 lifecycle categories/);
    await expect(joinWith(chunk, { ...impressions, k: 3, slices: [[[], [], []]] }, null, { ...counts(1, WEEK, 'impressions'), ...withCampaigns })).rejects.toThrow(/does not count the 2 impressions categories/);
    await expect(joinWith(chunk, impressions, null, counts(1, WEEK, 'impressions'))).rejects.toThrow(/does not count the 0 impressions categories/);
    expect(await joinWith(chunk, impressions, null, { ...counts(0, WEEK, 'impressions'), ...withCampaigns })).toHaveLength(1); // the right round still goes through
  });
});

describe.each(chunks)('join a round whose k differs from the model, %s', (_name, load) => {
  it('contributes to a k-selection round (candidates padded with sentinel rows to the largest k) against the slice it drew', async () => {
    const chunk = await load();
    const sentinel = new Array<number>(D).fill(1e5); // K_SENTINEL, aggregator/src/round/k-select.ts
    const two = [[1, 0, 0, 0], [0, 1, 0, 0]];
    const five = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [-1, 0, 0, 0]];
    const kSelect: RoundDescriptor = { ...round, k: 5, slices: [[...two, sentinel, sentinel, sentinel], five] };
    const x = Float32Array.from([0, 0.1, 0, 0.9]); // nearest: [0, 1, 0, 0] among two, [0, 0, 0, 1] among five
    const seen = new Set<number>();
    for (let i = 0; i < 24 && seen.size < 2; i++) {
      const [[item, validated]] = (await joinWith(chunk, kSelect, x)) as [Queued];
      const body = item.contribution as SecureContribution;
      seen.add(body.slice);
      const agg = decodeKmeansAggregate(await recombine(body, validated), 5, D, round.encoding);
      expect(Array.from(agg.counts, (c) => Math.round(c))).toEqual(body.slice === 0 ? [0, 1, 0, 0, 0] : [0, 0, 0, 1, 0]);
    }
    expect([...seen].sort()).toEqual([0, 1]); // P(one slice 24 times) = 2^-23
  });

  it('contributes to a round at a new k (every slice a fresh start at that k), and refuses one whose d is not the features\' d', async () => {
    const chunk = await load();
    const newK: RoundDescriptor = { ...round, k: 2, slices: [[[0, 0, 0, 2], [0, 0, 0, -2]]] };
    const [[item, validated]] = (await joinWith(chunk, newK, Float32Array.from([0, 0, 0, -1]))) as [Queued];
    const agg = decodeKmeansAggregate(await recombine(item.contribution as SecureContribution, validated), 2, D, round.encoding);
    expect(Array.from(agg.counts, (c) => Math.round(c))).toEqual([0, 1]);
    const otherD: RoundDescriptor = { ...round, d: D + 1, slices: [centroids.map((row) => [...row, 0])] };
    await expect(joinWith(chunk, otherD, new Float32Array(D))).rejects.toThrow(/x has 4 features, round expects 5/);
  });
});
