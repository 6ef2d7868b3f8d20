import { describe, expect, it } from 'vitest';
import type { RoundDescriptor } from '../rounds.ts';
import { roundDigest, roundDigestInput } from './round-digest.ts';

const config = (config_id: number, fill: string) => ({ config_id, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: `B${fill.repeat(86)}` }) as const;

const round: RoundDescriptor = {
  round_id: 'r-1900000000-ab12',
  kind: 'kmeans',
  mode: 'secure',
  model_version: 3,
  k: 2,
  d: 3,
  slices: [[[0.5, -1, 0], [1, 0.25, -0.125]]],
  groups: 8,
  encoding: { clip: 8, bound: 2048, weights: { coords: 0.95, count: 0.2, sqdist: 0.2, silhouette: 0.1 } },
  epsilon: 1,
  delta: 1e-9,
  opens_at: 1_899_996_400,
  closes_at: 1_900_000_000,
  min_batch: 100,
  hpke: { leader: config(1, 'A'), helper: config(2, 'C') },
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('roundDigest', () => {
  it('is the SHA-256 of the canonical JSON: keys sorted at every level, no whitespace', async () => {
    const text = roundDigestInput(round);
    expect(text.startsWith('{"closes_at":1900000000,"d":3,"delta":1e-9,"encoding":{"bound":2048,"clip":8,"weights":{"coords":0.95,')).toBe(true);
    expect(text).not.toMatch(/\s/);
    const expected = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
    expect(hex(await roundDigest(round))).toBe(hex(expected));
  });

  it('does not depend on key order or on fields outside the configuration', async () => {
    const reordered = Object.fromEntries(Object.entries(round).reverse()) as unknown as RoundDescriptor;
    const withExtra = { ...round, note: 'not configuration' } as RoundDescriptor;
    expect(hex(await roundDigest(reordered))).toBe(hex(await roundDigest(round)));
    expect(hex(await roundDigest(withExtra))).toBe(hex(await roundDigest(round)));
  });

  it.each<[string, Partial<RoundDescriptor>]>([
    ['ε', { epsilon: 2 }],
    ['δ', { delta: 1e-6 }],
    ['the minimum batch', { min_batch: 1 }],
    ['the groups', { groups: 1 }],
    ['a centroid coordinate', { slices: [[[0.5, -1, 0], [1, 0.25, -0.12]]] }],
    ['the encoding bound', { encoding: { ...round.encoding, bound: 4096 } }],
    ['the open time', { opens_at: round.opens_at + 1 }],
    ['the close time', { closes_at: round.closes_at + 1 }],
    ['the helper key', { hpke: { leader: round.hpke.leader, helper: config(2, 'D') } }],
    ['the helper config id', { hpke: { leader: round.hpke.leader, helper: config(3, 'C') } }],
    ['the leader key', { hpke: { leader: config(1, 'E'), helper: round.hpke.helper! } }],
    ['the mode', { mode: 'local', local_sigma2: 1e-12 }],
    ['what a counts round counts', { measure: 'lifecycle' }],
  ])('changes with %s', async (_, change) => {
    expect(hex(await roundDigest({ ...round, ...change }))).not.toBe(hex(await roundDigest(round)));
  });

  it('is 32 bytes', async () => {
    expect((await roundDigest(round)).length).toBe(32);
  });
});
