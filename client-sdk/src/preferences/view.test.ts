import { emptyFeatureState } from '@edgeseg/shared';
import { describe, expect, it } from 'vitest';
import type { ConsentState } from '../consent.ts';
import { budgetMeaning, downloadName, eraseSummary, ledgerViews, PURPOSE_TEXT, purposeViews, type PreferencesData } from './view.ts';

const OFF: ConsentState = { personalization: true, measurement: false, model_improvement: false };

function exportOf(over: Partial<PreferencesData> & { choice?: ConsentState; effective?: ConsentState; gpc?: boolean } = {}): PreferencesData {
  const { choice = OFF, effective = choice, gpc = false, lastSent = {}, ...rest } = over;
  return {
    format: 'edgeseg-export/1',
    exportedAt: '2026-05-04T10:00:00.000Z',
    appId: null,
    consent: { choice, effective, globalPrivacyControl: gpc },
    events: [],
    features: { state: emptyFeatureState(), vector: null },
    segment: null,
    segmentHistory: [],
    consentLog: [],
    privacyLedger: { entries: [], spentLast30Days: { measurement: 0, model_improvement: 0 }, spent: { measurement_30d: 0, model_improvement_30d: 0, total_30d: 0, total_365d: 0 }, cap: { measurement: 10, model_improvement: 10, total_365d: 11 } },
    outbox: [],
    model: null,
    lastSent,
    ...rest,
  };
}

const time = (ms: number): string => `t${ms}`;
const byPurpose = (data: PreferencesData) => Object.fromEntries(purposeViews(data, time).map((v) => [v.purpose, v]));

describe('purposeViews', () => {
  it('lists the three purposes in order, each switch at the consent in force', () => {
    const views = purposeViews(exportOf({ choice: { personalization: true, measurement: true, model_improvement: false } }), time);
    expect(views.map((v) => [v.purpose, v.on])).toEqual([
      ['personalization', true],
      ['measurement', true],
      ['model_improvement', false],
    ]);
    for (const v of views) expect(v.description.length).toBeGreaterThan(40);
  });

  it('says nothing has left the device when the SDK has no lastSent, and that personalization never sends', () => {
    const v = byPurpose(exportOf());
    expect(v.personalization?.sentSummary).toBe('Nothing, ever: personalization works only on this device.');
    expect(v.measurement?.sentSummary).toBe('Nothing has left this device for measurement.');
    expect(v.model_improvement?.sentSummary).toBe('Nothing has left this device for model improvement.');
    expect(Object.values(v).map((x) => x.payload)).toEqual([null, null, null]);
  });

  it('shows the exact last payload of a purpose, where and when it went', () => {
    const body = { reports: [{ id: 'abcdefghijklmnop', model_version: 3, period: '2026-W19', value: 2 }] };
    const v = byPurpose(exportOf({ lastSent: { measurement: { at: 1700, url: 'https://edge.example/v1/reports', body } } }));
    expect(v.measurement?.sentSummary).toBe('Last sent on t1700 to https://edge.example/v1/reports, exactly this:');
    expect(JSON.parse(v.measurement?.payload ?? 'null')).toEqual(body);
    expect(v.model_improvement?.payload).toBeNull();
  });

  it('marks a choice Global Privacy Control overrides, and locks the purposes it forces off', () => {
    const choice = { personalization: true, measurement: true, model_improvement: false };
    const v = byPurpose(exportOf({ choice, effective: { ...choice, measurement: false }, gpc: true }));
    expect(v.measurement?.on).toBe(false);
    expect(v.measurement?.note).toMatch(/You turned this on, but your browser sends Global Privacy Control/);
    expect(v.model_improvement?.note).toMatch(/Global Privacy Control, which keeps this off/);
    expect([v.personalization?.lockedByGpc, v.measurement?.lockedByGpc, v.model_improvement?.lockedByGpc]).toEqual([false, true, true]);
    expect(v.personalization?.note).toBeNull();
  });

  it('explains that a sending purpose sends nothing while personalization is off', () => {
    const v = byPurpose(exportOf({ choice: { personalization: false, measurement: true, model_improvement: false } }));
    expect(v.measurement?.note).toMatch(/while Personalization is off/);
    expect(v.model_improvement?.note).toBeNull();
  });
});

describe('ledgerViews', () => {
  it('states ε used of the cap per sending purpose, and says when the cap is reached', () => {
    const data = exportOf({ privacyLedger: { entries: [], spentLast30Days: { measurement: 1.5, model_improvement: 10 }, spent: { measurement_30d: 1.5, model_improvement_30d: 10, total_30d: 11.5, total_365d: 11.5 }, cap: { measurement: 10, model_improvement: 10, total_365d: 11 } } });
    const [m, mi] = ledgerViews(data);
    expect(m).toMatchObject({ purpose: 'measurement', spent: 1.5, cap: 10, text: 'ε 1.5 of 10 used in the last 30 days' });
    expect(mi?.text).toMatch(/^ε 10 of 10 used in the last 30 days: the cap is reached/);
  });

  it('rounds ε to two decimals', () => {
    const [m] = ledgerViews(exportOf({ privacyLedger: { entries: [], spentLast30Days: { measurement: 0.1 + 0.2, model_improvement: 0 }, spent: { measurement_30d: 0.3, model_improvement_30d: 0, total_30d: 0.3, total_365d: 0.3 }, cap: { measurement: 2.5, model_improvement: 10, total_365d: 11 } } }));
    expect(m?.text).toBe('ε 0.3 of 2.5 used in the last 30 days');
  });
});

describe('what the budget means, in plain words', () => {
  const data = exportOf({ privacyLedger: { entries: [], spentLast30Days: { measurement: 0, model_improvement: 0 }, spent: { measurement_30d: 0, model_improvement_30d: 0, total_30d: 0, total_365d: 0 }, cap: { measurement: 2, model_improvement: 1, total_365d: 11 } } });
  const [m, mi, year] = budgetMeaning(data);

  it('states each purpose’s ε per 30 days and the yearly total, from the budget the device enforces', () => {
    expect(m).toMatch(/^Measurement: at most ε 2 in any 30 days/);
    expect(mi).toMatch(/^Model improvement: at most ε 1 in any 30 days/);
    expect(year).toMatch(/^Per year, everything together: at most ε 11 in any 365 days/);
  });

  it('quantifies what ε allows as e^ε odds, with a worked 1-in-10 example, and calls the yearly bound weaker', () => {
    // e^2 ≈ 7.4; a 10% guess becomes at most 0.1·e²/(0.1·e² + 0.9) ≈ 45%.
    expect(m).toContain('at most 7.4 times more sure');
    expect(m).toContain('at most 45 in 100 after');
    // e^1 ≈ 2.7; 10% becomes at most 23%.
    expect(mi).toContain('at most 2.7 times more sure');
    expect(mi).toContain('at most 23 in 100 after');
    expect(year).toContain(`at most ${Math.round(Math.exp(11)).toLocaleString('en-GB')} times more sure`);
    expect(year).toMatch(/much weaker promise/);
  });

  it('mentions every report kind and both mechanisms, and never claims nobody can tell', () => {
    const all = [...PURPOSE_TEXT.map((p) => p.description), m, mi, year].join(' ');
    for (const kind of ['segment', 'viewing stage', 'campaigns', 'training contribution', 'validity proof', 'randomized response', 'two secret parts']) expect(all).toContain(kind);
    expect(all).not.toMatch(/nobody can tell|no one can tell|anonymous/i);
  });
});

describe('downloadName and eraseSummary', () => {
  it('dates the download by the export', () => {
    expect(downloadName('2026-05-04T10:00:00.000Z')).toBe('my-viewing-data-2026-05-04.json');
  });

  it('counts what erasing deletes, in words', () => {
    const data = exportOf({ events: [{ type: 'play', contentId: 'a', genres: [], durationSec: 1, positionSec: 0, device: 'tv', at: 1 }, { type: 'play', contentId: 'b', genres: [], durationSec: 1, positionSec: 0, device: 'tv', at: 2 }] });
    data.consentLog.push({ at: 1, choice: OFF, gpc: false });
    expect(eraseSummary(data)).toBe('This deletes 2 viewing events, 1 consent change and everything else edgeseg keeps on this device, except when and how much privacy budget was used, which is kept so that erasing cannot reset it. It cannot be undone.');
    expect(eraseSummary(exportOf())).toBe('This deletes everything edgeseg keeps on this device, except when and how much privacy budget was used, which is kept so that erasing cannot reset it. It cannot be undone.');
  });
});
