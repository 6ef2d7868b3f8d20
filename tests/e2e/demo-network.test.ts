/**
 * Privacy as a tested property: a real Chromium plays a session in /demo against the
 * real stack, and every request the page makes is recorded and checked.
 */
import type { Segmenter } from '@edgeseg/client-sdk';
import { FEATURE_NAMES_V1, isoWeekPeriod, REPORT_FIELDS } from '@edgeseg/shared';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, type FreshContext } from '../support/chromium.ts';
import { mintToken } from '../support/keys.ts';

const base = inject('baseUrl');
const PAGE_ASSETS = ['/demo', '/app.css', '/sdk/edgeseg.min.js', '/favicon.svg'];
const MODEL_FETCHES = ['/v1/model', '/.well-known/jwks.json'];
const DRAMA = ['sb-001', 'sb-005', 'sb-006'];
const ALL_CONTENT_IDS = ['sb-001', 'sb-002', 'sb-003', 'sb-004', 'sb-005', 'sb-006', 'sb-007', 'sb-008'];

interface Seen {
  method: string;
  path: string;
  body: string | null;
}

type DemoWindow = Window & { edgeseg: Segmenter };

let browser: FreshContext;
let page: Page;
const seen: Seen[] = [];

async function reportsReceived(): Promise<number> {
  const token = await mintToken(inject('authJwk'), { role: 'marketer' });
  const res = await fetch(`${base}/v1/segments`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reports: number }).reports;
}

async function flush(): Promise<void> {
  await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.flush());
}

async function openDemo(): Promise<void> {
  await page.goto(`${base}/demo`);
  await page.waitForSelector('body[data-ready="true"]');
}

beforeAll(async () => {
  browser = await launchChromium();
  browser.context.on('request', (r: Request) => {
    const url = new URL(r.url());
    seen.push({ method: r.method(), path: url.origin === base ? url.pathname : url.href, body: r.postData() });
  });
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
});

describe('/demo network audit', () => {
  it('plays titles and shows the on-device segment, sending nothing but the model fetch without consent', async () => {
    await openDemo();
    for (const id of DRAMA) await page.click(`button[data-action="finish"][data-content="${id}"]`);
    await page.waitForSelector('#segment strong');
    expect(await page.textContent('#segment strong')).toMatch(/\w/);
    await flush();
    await openDemo(); // a reload keeps the events and still sends nothing
    await flush();

    expect(seen.filter((r) => r.path === '/v1/reports')).toHaveLength(0);
    for (const r of seen) {
      expect([...PAGE_ASSETS, ...MODEL_FETCHES], `unexpected request ${r.method} ${r.path}`).toContain(r.path);
      expect(r.method).toBe('GET');
      expect(r.body).toBeNull();
    }
    expect(seen.some((r) => r.path === '/v1/model')).toBe(true);

    // The events are kept on the device, in IndexedDB (3 × play + complete).
    const stored = await page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const open = indexedDB.open('edgeseg');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const count = open.result.transaction('events').objectStore('events').count();
            count.onsuccess = () => resolve(count.result);
          };
        }),
    );
    expect(stored).toBe(6);
    expect(await reportsReceived()).toBe(0);
  });

  it('after measurement is granted, exactly one randomized report leaves, with only the allowed fields', async () => {
    const before = seen.length;
    const posted = page.waitForResponse((r) => r.url().endsWith('/v1/reports'));
    await page.check('#measurement');
    expect((await posted).status()).toBe(202);
    await flush();
    await openDemo(); // same period after a reload: no second report
    await page.click('button[data-action="finish"][data-content="sb-002"]');
    await flush();

    const after = seen.slice(before);
    const reports = after.filter((r) => r.path === '/v1/reports');
    expect(reports).toHaveLength(1);
    const report = reports[0] as Seen;
    expect(report.method).toBe('POST');
    for (const r of after.filter((x) => x !== report)) {
      expect([...PAGE_ASSETS, ...MODEL_FETCHES], `unexpected request ${r.method} ${r.path}`).toContain(r.path);
      expect(r.body).toBeNull();
    }

    const body = JSON.parse(report.body as string) as { reports: Record<string, unknown>[] };
    expect(Object.keys(body)).toEqual(['reports']);
    expect(body.reports).toHaveLength(1);
    const sent = body.reports[0] as Record<string, unknown>;
    expect(Object.keys(sent).sort()).toEqual([...REPORT_FIELDS].sort());
    expect(sent.id).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(sent.model_version).toBe(1);
    expect(sent.period).toBe(isoWeekPeriod(Date.now()));
    expect(Number.isInteger(sent.value) && (sent.value as number) >= 0 && (sent.value as number) < 4).toBe(true);
    // Nothing of the raw events, features or segment label rides along.
    const raw = report.body as string;
    for (const forbidden of [...ALL_CONTENT_IDS, ...FEATURE_NAMES_V1, 'contentId', 'genres', 'Drama', 'positionSec', 'durationSec', 'device', 'label', 'segment', 'lifecycle']) {
      expect(raw, `report body leaks ${forbidden}`).not.toContain(forbidden);
    }
    expect(await reportsReceived()).toBe(1);
  });
});
