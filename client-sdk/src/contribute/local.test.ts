import { type HpkeConfig, type LocalContribution, type ModelManifest, type RoundDescriptor } from '@edgeseg/shared';
import { rationalToNumber, sigma2ForEpsilon } from '@edgeseg/shared/dp';
import { encodingScales, generateHpkeKeyPair, parseLocalContribution, vectorLength } from '@edgeseg/shared/secure';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as source from './local.ts';
import { testModel } from './test-model.ts';

const K = 3;
const D = 4;
const centroids = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
];
const encoding = { clip: 8, bound: 2048, weights: { coords: 0.8, count: 0.5, sqdist: 0.2, silhouette: 0.25 } };

/** σ² the leader writes into a local round for (ε, δ) at sensitivity `bound` (worker/src/round-plan.ts). */
function plannedSigma2(epsilon: number, delta: number, bound: number): number {
  const r = sigma2ForEpsilon(epsilon, delta, bound);
  return Number(r.num) / Number(r.den);
}

let pinned: NonNullable<ModelManifest['aggregators']>;
let round: RoundDescriptor;

beforeAll(async () => {
  const [leader, helper] = await Promise.all([generateHpkeKeyPair(1), generateHpkeKeyPair(2)]);
  pinned = { leader: leader.config, helper: helper.config };
  round = {
    round_id: 'r-1700000000-10ca1000',
    kind: 'kmeans',
    mode: 'local',
    model_version: 3,
    k: K,
    d: D,
    slices: [centroids],
    groups: 4,
    encoding,
    epsilon: 1,
    delta: 1e-9,
    local_sigma2: plannedSigma2(1, 1e-9, encoding.bound),
    opens_at: 1_600_000_000,
    closes_at: 1_900_000_000,
    min_batch: 100,
    hpke: { leader: { ...leader.config } },
  };
});

const built = new URL('../../dist/contribute-local.min.js', import.meta.url);
const chunks: [string, () => Promise<typeof source>][] = [
  ['source', async () => source],
  [
    'built chunk (dist/contribute-local.min.js)',
    async () => {
      if (!existsSync(built)) throw new Error('client-sdk/dist/contribute-local.min.js is missing: run `npm run build` (npm test does it first)');
      return (await import(/* @vite-ignore */ built.href)) as typeof source;
    },
  ],
];

/** A model of version 3 (only the fields the chunk reads matter here). */
const model = (aggregators: ModelManifest['aggregators'] | undefined, version = 3): ModelManifest => testModel(K, version, aggregators);

type Queued = [source.ContributionItem, RoundDescriptor];

/** Joins with a single-operator model (no aggregators pinned) and no app pin, unless `opts` pins them. */
async function joinWith(chunk: typeof source, roundValue: unknown, x: Float32Array | null, opts: { keys?: ModelManifest['aggregators'] | undefined; helper?: HpkeConfig; version?: number; kind?: 'kmeans' | 'counts' } = {}): Promise<Queued[]> {
  const queued: Queued[] = [];
  await chunk.join({
    kind: opts.kind ?? 'kmeans',
    round: roundValue,
    model: model(opts.keys, opts.version),
    helper: opts.helper,
    x,
    nowMs: 1_800_000_000_000,
    queue: async (item, r) => void queued.push([item, r]),
  });
  return queued;
}

/** One device's noised vector for `r` (the chunk queues exactly one). */
async function noisedOnce(chunk: typeof source, r: RoundDescriptor, x: Float32Array): Promise<LocalContribution> {
  const [[item, validated]] = (await joinWith(chunk, r, x)) as [Queued];
  expect(validated).toEqual(r);
  expect(item.purpose).toBe('model_improvement');
  return item.contribution as LocalContribution;
}

describe.each(chunks)('join a local-mode round, %s', (_name, load) => {
  it('posts { round_id, id, slice, noised } with int32 entries and the slice in range (no group: the leader derives it)', async () => {
    const chunk = await load();
    const [[item]] = (await joinWith(chunk, JSON.parse(JSON.stringify(round)), Float32Array.from([0.1, 0.9, 0.2, 0]))) as [Queued];
    const body = item.contribution as LocalContribution;
    expect(Object.keys(body).sort()).toEqual(['id', 'noised', 'round_id', 'slice']);
    expect(item.id).toBe(body.id);
    expect(body.round_id).toBe(round.round_id);
    const parsed = parseLocalContribution(JSON.parse(JSON.stringify(body)), vectorLength('kmeans', K, D));
    expect(parsed.ok ? [] : parsed.errors).toEqual([]);
    expect(body.slice).toBe(0);
  });

  it("adds noise of the round's variance to every entry: entries outside the device's block have mean 0 and variance local_sigma2", async () => {
    const chunk = await load();
    const x = Float32Array.from([0.1, 0.9, 0.2, 0]); // nearest centroid 1: blocks 0 and 2 hold noise only
    const noise: number[] = [];
    for (let i = 0; i < 40; i++) {
      const { noised } = await noisedOnce(chunk, round, x);
      noise.push(...noised.slice(0, D + 3), ...noised.slice(2 * (D + 3)));
    }
    const sigma2 = round.local_sigma2 as number;
    const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
    const variance = noise.reduce((a, b) => a + (b - mean) ** 2, 0) / (noise.length - 1);
    // 560 samples: the mean's standard error is σ/√560 and the variance's about σ²·√(2/559) ≈ 6%.
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(sigma2 / noise.length));
    expect(variance / sigma2).toBeGreaterThan(0.7);
    expect(variance / sigma2).toBeLessThan(1.3);
  });

  it("encodes against the round's own slices and k (a k-selection round padded with sentinel rows), read back through small noise", async () => {
    const chunk = await load();
    // ε = 1000 needs little noise (σ ≈ 50), so one device's count (1024 units) stands out of it.
    const sentinel = new Array<number>(D).fill(1e5); // K_SENTINEL, aggregator/src/round/k-select.ts
    const kSelect: RoundDescriptor = {
      ...round,
      k: 5,
      slices: [[[1, 0, 0, 0], [0, 1, 0, 0], sentinel, sentinel, sentinel], [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [-1, 0, 0, 0]]],
      epsilon: 1000,
      local_sigma2: plannedSigma2(1000, 1e-9, encoding.bound),
    };
    expect(Math.sqrt(kSelect.local_sigma2 as number)).toBeLessThan(100);
    const unit = encodingScales(encoding, D).count;
    const x = Float32Array.from([0, 0.1, 0, 0.9]);
    const seen = new Set<number>();
    for (let i = 0; i < 24 && seen.size < 2; i++) {
      const body = await noisedOnce(chunk, kSelect, x);
      seen.add(body.slice);
      const counts = Array.from({ length: 5 }, (_, c) => Math.round((body.noised[c * (D + 3) + D] as number) / unit) + 0); // + 0: no -0
      expect(counts).toEqual(body.slice === 0 ? [0, 1, 0, 0, 0] : [0, 0, 0, 1, 0]);
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it("accepts the σ² the leader plans for any (ε, bound), exactly as written in JSON", async () => {
    const chunk = await load();
    for (const epsilon of [0.1, 0.5, 1, 3, 8]) {
      for (const bound of [64, 2048, 65536]) {
        const r = { ...round, epsilon, encoding: { ...encoding, bound }, local_sigma2: plannedSigma2(epsilon, 1e-9, bound) };
        expect(await joinWith(chunk, JSON.parse(JSON.stringify(r)), new Float32Array(D)), `ε ${epsilon}, bound ${bound}`).toHaveLength(1);
      }
    }
  });

  it('refuses it whenever a helper is pinned, by the signed model or by the app: a two-aggregator deployment contributes through the helper', async () => {
    const chunk = await load();
    const x = new Float32Array(D);
    await expect(joinWith(chunk, round, x, { keys: pinned })).rejects.toThrow(/is a local-mode round, but the signed model pins a helper.*; nothing was sent/);
    await expect(joinWith(chunk, round, x, { helper: pinned.helper })).rejects.toThrow(/is a local-mode round, but the app pins a helper.*; nothing was sent/);
    await expect(joinWith(chunk, round, x, { keys: pinned, helper: pinned.helper })).rejects.toThrow(/pins a helper/);
    expect(await joinWith(chunk, round, x)).toHaveLength(1); // neither pins one: a single-operator deployment
  });

  it('refuses a σ² below what its ε needs, and anything but a valid open local k-means round of the model', async () => {
    const chunk = await load();
    const x = new Float32Array(D);
    const needed = rationalToNumber(sigma2ForEpsilon(round.epsilon, round.delta, round.encoding.bound));
    await expect(joinWith(chunk, { ...round, local_sigma2: needed * (1 - 1e-6) }, x)).rejects.toThrow(/adds too little noise for ε = 1; nothing was sent/);
    await expect(joinWith(chunk, { ...round, epsilon: 0.5 }, x)).rejects.toThrow(/too little noise for ε = 0.5/); // the same σ² does not buy a smaller ε
    await expect(joinWith(chunk, { ...round, encoding: { ...encoding, bound: 4096 } }, x)).rejects.toThrow(/too little noise/);
    await expect(joinWith(chunk, { ...round, delta: 0 }, x)).rejects.toThrow(/δ must be in \(0, 1\)/);
    // (A secure k-means round proves each entry within ±128, so its bound is below 128.)
    await expect(joinWith(chunk, { ...round, mode: 'secure', local_sigma2: undefined, hpke: pinned, encoding: { ...encoding, bound: 127 } }, x)).rejects.toThrow(/secure kmeans round, not a local kmeans round/);
    await expect(joinWith(chunk, { ...round, local_sigma2: undefined }, x)).rejects.toThrow(/local_sigma2/);
    await expect(joinWith(chunk, { ...round, kind: 'counts', d: 0, slices: [[[], [], []]], period: '2027-W02' }, x, { kind: 'counts' })).rejects.toThrow(/not a k-means round/);
    await expect(joinWith(chunk, round, x, { version: 4 })).rejects.toThrow(/for model v3, not v4/);
    await expect(joinWith(chunk, { ...round, closes_at: 1_700_000_000 }, x)).rejects.toThrow(/is closed/);
    await expect(joinWith(chunk, round, null)).rejects.toThrow(/needs the device's features/);
    await expect(joinWith(chunk, round, new Float32Array(D + 1))).rejects.toThrow(/has d = 4, not the model's 5 features/);
    expect(await joinWith(chunk, round, x)).toHaveLength(1); // the unchanged round still goes through
  });
});
