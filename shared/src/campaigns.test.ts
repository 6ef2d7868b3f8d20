import { describe, expect, it } from 'vitest';
import { FEATURE_DIM_V1, FEATURE_NAMES_V1, FEATURE_SCHEMA_ID } from './features/schema.ts';
import { parseManifest } from './manifest.ts';
import { campaignErrors, campaignListErrors, campaignsFor, MAX_CAMPAIGNS, parseCampaign, type Campaign } from './campaigns.ts';

const message: Campaign = { id: 'spring-drama', segment: 1, kind: 'message', title: 'New drama this week', body: 'Start it tonight.' };
const row: Campaign = { id: 'comedy-row', segment: 0, kind: 'content_row', title: 'Quick laughs', items: ['tt001', 'tt002'], starts_at: 1_800_000_000, ends_at: 1_800_600_000 };

describe('parseCampaign', () => {
  it('accepts a message and a content row', () => {
    expect(parseCampaign(message, 4)).toEqual({ ok: true, value: message });
    expect(parseCampaign(row, 4)).toEqual({ ok: true, value: row });
  });

  it.each<[string, Record<string, unknown>]>([
    ['an id with capitals', { ...message, id: 'Spring' }],
    ['an id of 41 characters', { ...message, id: 'a'.repeat(41) }],
    ['a segment equal to k', { ...message, segment: 4 }],
    ['a negative segment', { ...message, segment: -1 }],
    ['a fractional segment', { ...message, segment: 1.5 }],
    ['an unknown kind', { ...message, kind: 'banner' }],
    ['an empty title', { ...message, title: '' }],
    ['a title of 81 characters', { ...message, title: 'x'.repeat(81) }],
    ['a body of 281 characters', { ...message, body: 'x'.repeat(281) }],
    ['a body on a content row', { ...row, body: 'hi' }],
    ['items on a message', { ...message, items: ['tt1'] }],
    ['a content row without items', { ...row, items: undefined }],
    ['21 items', { ...row, items: Array.from({ length: 21 }, (_, i) => `t${i}`) }],
    ['an item id of 65 characters', { ...row, items: ['x'.repeat(65)] }],
    ['a non-string item', { ...row, items: [7] }],
    ['a fractional starts_at', { ...row, starts_at: 1.5 }],
    ['ends_at before starts_at', { ...row, ends_at: 1_700_000_000 }],
    ['an unknown field', { ...message, audience: 'everyone' }],
  ])('refuses %s', (_, campaign) => {
    const c = Object.fromEntries(Object.entries(campaign).filter(([, v]) => v !== undefined));
    const r = parseCampaign(c, 4);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.length).toBeGreaterThan(0);
  });

  it('names the field at fault', () => {
    expect(campaignErrors({ ...message, segment: 9 }, 4, 'campaigns[0]')).toEqual(['campaigns[0].segment: invalid']);
  });
});

describe('campaignListErrors', () => {
  it('accepts an empty list and a list of distinct ids', () => {
    expect(campaignListErrors([], 4)).toEqual([]);
    expect(campaignListErrors([message, row], 4)).toEqual([]);
  });

  it('refuses duplicate ids, too many campaigns and non-arrays', () => {
    expect(campaignListErrors([message, message], 4)).toContain('campaigns: ids must be unique');
    const many = Array.from({ length: MAX_CAMPAIGNS + 1 }, (_, i) => ({ ...message, id: `c${i}` }));
    expect(campaignListErrors(many, 4).length).toBe(1);
    expect(campaignListErrors({}, 4).length).toBe(1);
  });
});

describe('campaignsFor', () => {
  it('keeps the campaigns of one segment that are live now', () => {
    const late = { ...message, id: 'late', starts_at: 2_000_000_000 };
    expect(campaignsFor([message, row, late], 1, 1_900_000_000)).toEqual([message]);
    expect(campaignsFor([message, row, late], 0, 1_800_000_000)).toEqual([row]);
    expect(campaignsFor([message, row, late], 0, 1_800_600_000)).toEqual([]); // ends_at is exclusive
    expect(campaignsFor([message, row, late], 1, 2_000_000_000)).toEqual([message, late]);
  });
});

/** A valid 2-segment manifest (the shape manifest.test.ts checks). */
function manifest(): Record<string, unknown> {
  const zeros = () => new Array<number>(FEATURE_DIM_V1).fill(0);
  return {
    version: 3, schema: FEATURE_SCHEMA_ID, features: [...FEATURE_NAMES_V1], k: 2, centroids: [zeros(), zeros()],
    scaling: { mean: zeros(), scale: zeros().map(() => 1) }, labels: ['a', 'b'],
    lifecycle: { new_days: 14, at_risk_days: 10, lapsed_days: 30 }, epsilon: { report: 1 }, report_period: 'week',
    issued_at: 1_795_000_000, not_before: 1_795_000_000,
  };
}

describe('ModelManifest.campaigns (parseManifest)', () => {
  it('accepts campaigns for existing segments and refuses a segment ≥ k', () => {
    expect(parseManifest({ ...manifest(), campaigns: [message, row] }).ok).toBe(true);
    const r = parseManifest({ ...manifest(), campaigns: [{ ...message, segment: 2 }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual(['campaigns[0].segment: invalid']);
  });

  it('accepts an impression ε and refuses one out of range', () => {
    expect(parseManifest({ ...manifest(), epsilon: { report: 1, impression: 0.5 } }).ok).toBe(true);
    expect(parseManifest({ ...manifest(), epsilon: { report: 1, impression: 0 } }).ok).toBe(false);
  });
});
