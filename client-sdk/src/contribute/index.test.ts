import type { RoundDescriptor } from '@edgeseg/shared';
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
let pinned: source.PinnedAggregators;
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

describe.each(chunks)('prepareContribution, %s', (_name, load) => {
  it('seals a contribution both aggregators open, which recombines to one device in its nearest cluster', async () => {
    const { prepareContribution } = await load();
    const x = Float32Array.from([0.1, 0.9, 0.2, 0]);
    const body = await prepareContribution(JSON.parse(JSON.stringify(round)), x, pinned, 'device-0000000001-abcdef');
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

  it('refuses a round whose helper or leader key is not the one pinned in the model', async () => {
    const { prepareContribution } = await load();
    const x = new Float32Array(D);
    const swapped = (role: 'leader' | 'helper') => ({ ...round, hpke: { ...round.hpke, [role]: { ...round.hpke[role], public_key: otherKey } } });
    await expect(prepareContribution(swapped('helper'), x, pinned, 'device-0000000002-abcdef')).rejects.toThrow(/pinned/);
    await expect(prepareContribution(swapped('leader'), x, pinned, 'device-0000000003-abcdef')).rejects.toThrow(/pinned/);
    // The leader's own key offered as the helper's: both shares would open at the leader.
    await expect(prepareContribution({ ...round, hpke: { leader: round.hpke.leader, helper: { ...round.hpke.leader, config_id: 2 } } }, x, pinned, 'device-0000000004-abcdef')).rejects.toThrow(/pinned/);
    await expect(prepareContribution({ ...round, hpke: { ...round.hpke, helper: { ...pinned.helper, config_id: 7 } } }, x, pinned, 'device-0000000005-abcdef')).rejects.toThrow(/pinned/);
  });

  it('refuses a round that is not a valid secure k-means round', async () => {
    const { prepareContribution } = await load();
    const x = new Float32Array(D);
    await expect(prepareContribution({ ...round, mode: 'local', local_sigma2: 4 }, x, pinned, 'device-0000000006-abcdef')).rejects.toThrow(/secure k-means/);
    await expect(prepareContribution({ ...round, kind: 'counts', period: '2026-W48', d: 0, slices: [[[], [], []]] }, x, pinned, 'device-0000000007-abcdef')).rejects.toThrow(/secure k-means/);
    await expect(prepareContribution({ ...round, epsilon: 'much' }, x, pinned, 'device-0000000008-abcdef')).rejects.toThrow(/invalid round: epsilon/);
    await expect(prepareContribution(null, x, pinned, 'device-0000000009-abcdef')).rejects.toThrow(/invalid round/);
    await expect(prepareContribution(round, new Float32Array(D + 1), pinned, 'device-0000000010-abcdef')).rejects.toThrow(/features/);
  });
});
