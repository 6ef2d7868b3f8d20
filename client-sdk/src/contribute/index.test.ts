import { FEATURE_NAMES_V1, FEATURE_SCHEMA_ID, type ModelManifest, type RoundDescriptor, type SecureContribution } from '@edgeseg/shared';
import { bytesToUint32LE, CONTRIBUTION_INFO, combineShares, contributionAad, decodeKmeansAggregate, expandSeed, generateHpkeKeyPair, importHpkePrivateKey, openShare, parseSecureContribution, vectorLength, type HpkeRecipientKey } from '@edgeseg/shared/secure';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as source from './index.ts';

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
    encoding: { clip: 8, bound: 2048, weights: { coords: 0.8, count: 0.5, sqdist: 0.2, silhouette: 0.25 } },
    epsilon: 1,
    delta: 1e-9,
    closes_at: 1_900_000_000,
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
function modelPinning(keys: typeof pinned | undefined, version = round.model_version): ModelManifest {
  const d = FEATURE_NAMES_V1.length;
  return {
    version,
    schema: FEATURE_SCHEMA_ID,
    features: [...FEATURE_NAMES_V1],
    k: K,
    centroids: centroids.map(() => new Array<number>(d).fill(0)),
    scaling: { mean: new Array<number>(d).fill(0), scale: new Array<number>(d).fill(1) },
    labels: ['a', 'b', 'c'],
    lifecycle: { new_days: 14, at_risk_days: 21, lapsed_days: 60 },
    epsilon: { report: 1 },
    report_period: 'week',
    ...(keys ? { aggregators: keys } : {}),
    issued_at: 1_700_000_000,
    not_before: 1_700_000_000,
  };
}

type Queued = [source.ContributionItem, RoundDescriptor];

/** Runs the chunk's `join` on `roundValue` and returns what it queued (it queues at most once). */
async function joinWith(chunk: typeof source, roundValue: unknown, x: Float32Array | null, opts: { keys?: typeof pinned | undefined; version?: number; nowMs?: number; helper?: typeof pinned.helper } = {}): Promise<Queued[]> {
  const queued: Queued[] = [];
  await chunk.join({
    kind: 'kmeans',
    round: roundValue,
    model: modelPinning('keys' in opts ? opts.keys : pinned, opts.version),
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
    const L = vectorLength('kmeans', K, D);
    expect(Object.keys(body).sort()).toEqual(['group', 'helper', 'id', 'leader', 'round_id', 'slice']);
    expect(parseSecureContribution(JSON.parse(JSON.stringify(body)), L).ok).toBe(true);
    expect(body.round_id).toBe(round.round_id);

    const leaderShare = bytesToUint32LE(await openShare(leaderKey, body.leader, CONTRIBUTION_INFO, contributionAad(body, 'leader')));
    const helperShare = await expandSeed(await openShare(helperKey, body.helper, CONTRIBUTION_INFO, contributionAad(body, 'helper')), L);
    const agg = decodeKmeansAggregate(combineShares(leaderShare, helperShare), K, D, round.encoding);
    expect(Array.from(agg.counts, (c) => Math.round(c))).toEqual([0, 1, 0]);
    // The leader's share alone is uniformly random, not the vector.
    expect(Array.from(leaderShare).filter((w) => w === 0).length).toBeLessThan(L / 4);
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
