import { describe, expect, it } from 'vitest';
import { FEATURE_DIM_V1, FEATURE_NAMES_V1 } from './features/schema.ts';
import { describeCentroid } from './profile.ts';

/** Typical viewer everywhere: mean 0.5 and scale 0.1 on shares, log1p(x) for counts. */
function scaling(): { mean: number[]; scale: number[] } {
  const mean = FEATURE_NAMES_V1.map((n) => (/_share$|_rate$|_fraction$|binge_ratio/.test(n) ? 0.2 : Math.log1p(5)));
  const scale = FEATURE_NAMES_V1.map(() => 0.1);
  return { mean, scale };
}

/** A centroid at the typical viewer but for the given z values. */
function centroid(z: Record<string, number>): Float32Array {
  const c = new Float32Array(FEATURE_DIM_V1);
  for (const [name, value] of Object.entries(z)) {
    const i = FEATURE_NAMES_V1.indexOf(name);
    if (i < 0) throw new Error(`no feature ${name}`);
    c[i] = value;
  }
  return c;
}

describe('describeCentroid', () => {
  it('names a weekend-evening binge-watcher of drama and crime on TV, with figures in raw units', () => {
    // raw = 0.2 + 0.1 z: weekend z 3 → 50%, completion z 4 → 60%, TV z 4 → 60%.
    const p = describeCentroid(
      centroid({ weekend_share: 3, evening_share: 2, binge_ratio: 5, genre_drama_share: 2.5, genre_thriller_share: 2, device_tv_share: 4, completion_rate: 4 }),
      scaling(),
    );
    expect(p.label).toBe('Weekend evening binge-watchers of drama and crime on TV');
    // Equal strengths (TV and completion, z 4) keep the order: when, device, genres, behaviour.
    expect(p.traits).toEqual(['binges series (70% of sessions)', 'mostly TV', 'finishes 60% of titles', 'weekend evenings']);
  });

  it('keeps only the four strongest traits, strongest first', () => {
    const p = describeCentroid(centroid({ genre_comedy_share: 1, skip_rate: 2, device_mobile_share: 3, morning_share: 0.6, abandon_rate: 0.7, completion_rate: -4 }), scaling());
    expect(p.traits).toEqual(['finishes only 0% of titles', 'mostly mobile', 'skips 40% of titles', 'comedy']);
    expect(p.label).toBe('Morning samplers of comedy on mobile');
  });

  it('turns log1p features back into hours, minutes and days', () => {
    const s = scaling();
    const hours = FEATURE_NAMES_V1.indexOf('hours_per_week');
    const days = FEATURE_NAMES_V1.indexOf('days_since_last');
    s.mean[hours] = Math.log1p(2);
    s.scale[hours] = 0.5;
    s.mean[days] = Math.log1p(3);
    s.scale[days] = 1;
    // hours z -2 → log1p(2) − 1 → e^(log 3 − 1) − 1 ≈ 0.10 h; days z 1.5 → e^(log 4 + 1.5) − 1 ≈ 16.9 days.
    const p = describeCentroid(centroid({ hours_per_week: -2, days_since_last: 1.5 }), s);
    expect(p.traits).toEqual(['about 0.1 hours a week', 'last watched 17 days ago']);
    // Lapsing (z 1.5) is named over light (z 2) only when it is stronger; here light wins.
    expect(p.label).toBe('Light viewers');
  });

  it('calls a centroid at the mean typical and gives no traits', () => {
    expect(describeCentroid(new Float32Array(FEATURE_DIM_V1), scaling())).toEqual({ label: 'Typical viewers', traits: [] });
  });

  it('reads features by name, so another order gives the same words', () => {
    const names = ['genre_horror_share', 'late_night_share', 'tenure_days'];
    const p = describeCentroid([2, 1, -2], { mean: [0.05, 0.2, Math.log1p(100)], scale: [0.05, 0.1, 1] }, names);
    expect(p.traits).toEqual(['horror', 'new (first watched 13 days ago)', 'late nights (30% of viewing)']);
    expect(p.label).toBe('Late-night newcomers of horror');
  });

  it('ignores non-finite coordinates and clamps shares to [0, 1]', () => {
    const c = centroid({ weekend_share: 50 });
    c[FEATURE_NAMES_V1.indexOf('binge_ratio')] = Number.NaN;
    const p = describeCentroid(c, scaling());
    expect(p.traits).toEqual(['weekends (100% of viewing)']);
  });

  it('is deterministic: equal strengths keep schema order', () => {
    const c = centroid({ genre_romance_share: 1, genre_comedy_share: 1, genre_drama_share: 1 });
    const a = describeCentroid(c, scaling());
    expect(a.traits).toEqual(['drama and comedy']);
    expect(describeCentroid(c, scaling())).toEqual(a);
  });
});
