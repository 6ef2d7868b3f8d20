/**
 * Privacy as a tested property: a real Chromium plays a session in /demo against the
 * real stack, and every request the page makes is recorded and checked.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, type FreshContext } from '../support/chromium.ts';
import { expectAllowedReportBody, expectOnlyPageAndModel, finishTitles, flush, idbCounts, openDemo, recordRequests, type Seen } from './demo-page.ts';
import { reportsReceived } from '../support/ingest.ts';
import { IMPRESSION_FIELDS } from '@edgeseg/shared';

const base = inject('baseUrl');
const authJwk = inject('authJwk');

let browser: FreshContext;
let page: Page;
let seen: Seen[];

beforeAll(async () => {
  browser = await launchChromium();
  seen = recordRequests(browser.context, base);
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
});

describe('/demo network audit', () => {
  it('plays titles and shows the on-device segment, sending nothing but the model fetch without consent', async () => {
    const before = await reportsReceived(base, authJwk);
    await openDemo(page, base);
    await finishTitles(page, ['sb-001', 'sb-005', 'sb-006']);
    await page.waitForSelector('#segment strong');
    expect(await page.textContent('#segment strong')).toMatch(/\w/);
    await flush(page);
    await openDemo(page, base); // a reload keeps the events and still sends nothing
    await flush(page);

    expect(seen.filter((r) => r.path === '/v1/reports')).toHaveLength(0);
    expectOnlyPageAndModel(seen);
    expect(seen.some((r) => r.path === '/v1/model')).toBe(true);
    expect((await idbCounts(page)).events).toBe(6); // 3 × play + complete, kept on the device
    expect(await reportsReceived(base, authJwk)).toBe(before);
  });

  it('after measurement is granted, exactly one randomized report leaves, with only the allowed fields', async () => {
    const before = await reportsReceived(base, authJwk);
    const from = seen.length;
    const posted = page.waitForResponse((r) => r.url().endsWith('/v1/reports'));
    await page.check('#measurement');
    expect((await posted).status()).toBe(202);
    await flush(page);
    await openDemo(page, base); // same period after a reload: no second report
    await finishTitles(page, ['sb-002']);
    await flush(page);

    const after = seen.slice(from);
    const reports = after.filter((r) => r.path === '/v1/reports');
    expect(reports).toHaveLength(1);
    expect(reports[0]?.method).toBe('POST');
    // When the model carries campaigns, measurement also sends one randomized impression
    // report per finished week: exactly the allowed fields, whatever the device saw.
    const impressions = after.filter((r) => r.path === '/v1/impressions');
    expect(impressions.length).toBeLessThanOrEqual(1);
    for (const r of impressions) {
      expect(r.method).toBe('POST');
      const body = JSON.parse(r.body as string) as { reports: Record<string, unknown>[] };
      expect(Object.keys(body)).toEqual(['reports']);
      expect(body.reports.map((x) => Object.keys(x).sort())).toEqual([[...IMPRESSION_FIELDS].sort()]);
    }
    expectOnlyPageAndModel(after.filter((r) => r.path !== '/v1/reports' && r.path !== '/v1/impressions'));
    expectAllowedReportBody(reports[0]?.body as string, 4);
    expect(await reportsReceived(base, authJwk)).toBe(before + 1);
  });
});
