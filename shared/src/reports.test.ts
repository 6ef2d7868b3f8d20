import { describe, expect, it } from 'vitest';
import { MAX_REPORTS_PER_BATCH, parseReportBatch } from './reports.ts';

const ok = { id: 'abcdefghijklmnop', model_version: 1, period: '2026-W48', value: 2 };

describe('parseReportBatch', () => {
  it('accepts a well-formed batch', () => {
    expect(parseReportBatch({ reports: [ok] })).toEqual({ ok: true, value: { reports: [ok] } });
  });

  it('accepts lifecycle and explicit segment reports beside each other', () => {
    const lifecycle = { ...ok, id: 'lifecycle-report-1', kind: 'lifecycle', value: 3 };
    const segment = { ...ok, id: 'segment-report-01', kind: 'segment' };
    expect(parseReportBatch({ reports: [segment, lifecycle] }).ok).toBe(true);
  });

  it.each<[string, unknown]>([
    ['an array body', [ok]],
    ['no reports', { reports: [] }],
    ['too many reports', { reports: Array.from({ length: MAX_REPORTS_PER_BATCH + 1 }, (_, i) => ({ ...ok, id: `abcdefghijklmn${String(i).padStart(3, '0')}` })) }],
    ['a short id', { reports: [{ ...ok, id: 'short' }] }],
    ['a duplicated id', { reports: [ok, ok] }],
    ['a string value', { reports: [{ ...ok, value: '2' }] }],
    ['a negative value', { reports: [{ ...ok, value: -1 }] }],
    ['a malformed period', { reports: [{ ...ok, period: '2026-48' }] }],
    ['an extra field', { reports: [{ ...ok, contentId: 'm1' }] }],
    ['an extra top-level field', { reports: [ok], device: 'x' }],
    ['an unknown kind', { reports: [{ ...ok, kind: 'genre' }] }],
    ['a null kind', { reports: [{ ...ok, kind: null }] }],
  ])('refuses %s', (_, body) => {
    expect(parseReportBatch(body).ok).toBe(false);
  });
});
