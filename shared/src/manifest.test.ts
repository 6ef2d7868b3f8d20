import { describe, expect, it } from 'vitest';
import { FEATURE_DIM_V1, FEATURE_NAMES_V1, FEATURE_SCHEMA_ID } from './features/schema.ts';
import { parseManifest, type ModelManifest } from './manifest.ts';

function valid(): ModelManifest {
  const zeros = () => new Array<number>(FEATURE_DIM_V1).fill(0);
  return {
    version: 3,
    schema: FEATURE_SCHEMA_ID,
    features: [...FEATURE_NAMES_V1],
    k: 2,
    centroids: [zeros(), zeros().map(() => 1)],
    scaling: { mean: zeros(), scale: zeros().map(() => 1) },
    labels: ['a', 'b'],
    lifecycle: { new_days: 14, at_risk_days: 10, lapsed_days: 30 },
    epsilon: { report: 1 },
    report_period: 'week',
    issued_at: 1_795_000_000,
    not_before: 1_795_000_000,
  };
}

describe('parseManifest', () => {
  it('accepts a well-formed manifest', () => {
    expect(parseManifest(valid())).toEqual({ ok: true, value: valid() });
  });

  it.each<[string, (m: Record<string, unknown>) => void]>([
    ['a centroid row of the wrong length', (m) => ((m.centroids as number[][])[1] = [1, 2])],
    ['k not matching the centroids', (m) => (m.k = 3)],
    ['a non-finite coordinate', (m) => ((m.centroids as number[][])[0]![0] = Number.NaN)],
    ['a zero scale', (m) => ((m.scaling as { scale: number[] }).scale[0] = 0)],
    ['another schema', (m) => (m.schema = 'edgeseg.features.v0')],
    ['features out of order', (m) => (m.features = [...FEATURE_NAMES_V1].reverse())],
    ['ε out of range', (m) => (m.epsilon = { report: 0 })],
    ['at_risk after lapsed', (m) => (m.lifecycle = { new_days: 1, at_risk_days: 40, lapsed_days: 30 })],
    ['a fractional version', (m) => (m.version = 1.5)],
  ])('refuses %s', (_, mutate) => {
    const m = valid() as unknown as Record<string, unknown>;
    mutate(m);
    const r = parseManifest(m);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.length).toBeGreaterThan(0);
  });

  it('refuses a non-object', () => {
    expect(parseManifest('{}').ok).toBe(false);
  });
});
