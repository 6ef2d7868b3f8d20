import type { LifecycleRelease, TallySummary } from '@edgeseg/aggregator';
import { describe, expect, it } from 'vitest';
import { impressionsEntry, lifecycleEntry, segmentsEntry } from './tally-ledger.ts';

const summary: TallySummary = {
  reports: 400,
  mechanism: 'grr',
  epsilon: 2,
  kThreshold: 50,
  segments: [
    { segment: 0, label: 'drama', count: 310, ci95: [270, 350], suppressed: false },
    { segment: 1, label: 'kids', count: null, ci95: null, suppressed: true },
  ],
};

const lifecycle: LifecycleRelease = {
  reports: 400,
  mechanism: 'grr',
  epsilon: 1,
  kThreshold: 50,
  stages: [
    { stage: 'new', count: null, ci95: null, share: null, share_ci95: null, suppressed: true },
    { stage: 'active', count: 220, ci95: [180, 260], share: 0.55, share_ci95: [0.45, 0.65], suppressed: false },
  ],
};

describe('tally ledger entries: what a GRR release spent and released, nothing more', () => {
  it('a segments release: the model’s ε, δ 0, the report count and the estimates as answered (suppressed ones null)', () => {
    expect(segmentsEntry(3, '2026-W47', summary, 1_000)).toEqual({
      kind: 'segments',
      mechanism: 'grr',
      model_version: 3,
      period: '2026-W47',
      released_at: 1_000,
      epsilon: 2,
      delta: 0,
      reports: 400,
      k_threshold: 50,
      estimates: [
        { label: 'drama', count: 310, ci95: [270, 350], suppressed: false },
        { label: 'kids', count: null, ci95: null, suppressed: true },
      ],
    });
  });

  it('a release that held no report spent nothing, and a secure counts release is a round, not a tally: neither is listed', () => {
    expect(segmentsEntry(3, '2026-W47', { ...summary, reports: 0 }, 1_000)).toBeNull();
    expect(segmentsEntry(3, '2026-W47', { ...summary, mechanism: 'secure-counts' }, 1_000)).toBeNull();
    expect(lifecycleEntry(3, '2026-W47', { ...lifecycle, reports: 0 }, 1_000)).toBeNull();
  });

  it('a lifecycle release lists each stage’s count and interval, not the shares derived from them', () => {
    const entry = lifecycleEntry(3, '2026-W47', lifecycle, 1_000);
    expect(entry).toMatchObject({ kind: 'lifecycle', mechanism: 'grr', epsilon: 1, delta: 0, reports: 400, k_threshold: 50 });
    expect(entry?.estimates).toEqual([
      { label: 'new', count: null, ci95: null, suppressed: true },
      { label: 'active', count: 220, ci95: [180, 260], suppressed: false },
    ]);
  });

  it('an impressions answer sums versions: the entry names them, takes the largest ε and states no report count (the answer does not)', () => {
    const estimates = [
      { id: 'drama-week', estimate: 120, ci95: [80, 160] as [number, number], suppressed: false },
      { id: 'comedy-row', estimate: null, ci95: null, suppressed: true },
    ];
    const tallies = [
      { version: 5, epsilon: 0.5, reports: 300 },
      { version: 4, epsilon: 1, reports: 200 },
      { version: 6, epsilon: 3, reports: 0 }, // took no report: spent nothing
    ];
    expect(impressionsEntry('2026-W47', tallies, estimates, 50, 2_000)).toEqual({
      kind: 'impressions',
      mechanism: 'grr',
      model_version: 5,
      model_versions: [4, 5],
      period: '2026-W47',
      released_at: 2_000,
      epsilon: 1,
      delta: 0,
      reports: null,
      k_threshold: 50,
      estimates: [
        { label: 'drama-week', count: 120, ci95: [80, 160], suppressed: false },
        { label: 'comedy-row', count: null, ci95: null, suppressed: true },
      ],
    });
    expect(impressionsEntry('2026-W47', [{ version: 4, epsilon: 1, reports: 0 }], estimates, 50, 2_000)).toBeNull();
  });
});
