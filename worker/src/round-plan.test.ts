import { describe, expect, it } from 'vitest';
import { liveRows, START_HALF_WIDTH } from '@edgeseg/aggregator/rounds';
import type { HpkeConfig } from '@edgeseg/shared';
import { bootstrapManifest } from './bootstrap-model.ts';
import { DEFAULT_ENCODING, planRound, type RoundPlanInput } from './round-plan.ts';

const hpke: HpkeConfig = { config_id: 1, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'AA' };
const manifest = bootstrapManifest(1_800_000_000);
const base: RoundPlanInput = { manifest, nowS: 1_800_000_000, durationS: 3600, minBatch: 100, epsilon: 1, delta: 1e-9, groups: 1, slices: 3, shards: 4, encoding: DEFAULT_ENCODING, hpke: { leader: hpke, helper: hpke } };

/** Whether every coordinate of `rows` lies in the training schedule's start cube, and they are not all one value. */
function inStartCube(rows: readonly (readonly number[])[]): boolean {
  const values = rows.flat();
  return values.every((v) => Math.abs(v) <= START_HALF_WIDTH) && new Set(values).size > 1;
}

describe('planRound starts', () => {
  it('refines the model in slice 0 and starts the other slices in the training schedule’s cube', () => {
    const { slices } = planRound(base).descriptor;
    expect(slices).toHaveLength(3);
    expect(slices[0]).toEqual(manifest.centroids);
    for (const start of slices.slice(1)) {
      expect(start).toHaveLength(manifest.k);
      expect(inStartCube(start)).toBe(true);
    }
    // Drawn afresh, not copies of one another.
    expect(slices[1]).not.toEqual(slices[2]);
  });

  it('starts every slice of a new k, and every live row of a k-selection candidate, in that cube', () => {
    const newK = planRound({ ...base, k: manifest.k + 2 }).descriptor;
    expect(newK.k).toBe(manifest.k + 2);
    expect(inStartCube(newK.slices.flat())).toBe(true);

    const select = planRound({ ...base, kCandidates: [2, 4] }).descriptor;
    expect(select.slices.map((slice) => liveRows(slice).length)).toEqual([2, 4]);
    for (const slice of select.slices) expect(inStartCube(liveRows(slice).map((i) => slice[i] as number[]))).toBe(true);
  });
});
