/**
 * Shared steps for browser tests of /demo: record every request, drive the page, read
 * IndexedDB directly, and check report bodies against the allowed wire fields.
 */
import type { Segmenter } from '@edgeseg/client-sdk';
import { FEATURE_NAMES_V1, isoWeekPeriod, REPORT_FIELDS } from '@edgeseg/shared';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { expect } from 'vitest';
import { mintToken } from '../support/keys.ts';

export type DemoWindow = Window & { edgeseg: Segmenter };

/** One request as it left the browser. */
export interface Seen {
  method: string;
  path: string;
  body: string | null;
}

export const PAGE_ASSETS = ['/demo', '/preferences', '/app.css', '/sdk/edgeseg.min.js', '/favicon.svg'];
export const MODEL_FETCHES = ['/v1/model', '/.well-known/jwks.json'];
export const CONTENT_IDS = ['sb-001', 'sb-002', 'sb-003', 'sb-004', 'sb-005', 'sb-006', 'sb-007', 'sb-008'];

/**
 * Records every request any page of `context` makes, in order.
 *
 * @example
 * const seen = recordRequests(context, base);
 */
export function recordRequests(context: BrowserContext, base: string): Seen[] {
  const seen: Seen[] = [];
  context.on('request', (r: Request) => {
    const url = new URL(r.url());
    seen.push({ method: r.method(), path: url.origin === base ? url.pathname : url.href, body: r.postData() });
  });
  return seen;
}

export async function openDemo(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/demo`);
  await page.waitForSelector('body[data-ready="true"]');
}

export async function flush(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.flush());
}

/** Finishes each title with the demo's buttons (play + complete). */
export async function finishTitles(page: Page, ids: readonly string[]): Promise<void> {
  for (const id of ids) await page.click(`button[data-action="finish"][data-content="${id}"]`);
}

/** Number of randomized reports the server holds for this week (read with a marketer token). */
export async function reportsReceived(base: string, authJwk: string): Promise<number> {
  const token = await mintToken(authJwk, { role: 'marketer' });
  const res = await fetch(`${base}/v1/segments`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reports: number }).reports;
}

/** Row counts of every object store of the page's edgeseg database, read with raw IndexedDB. */
export function idbCounts(page: Page, dbName = 'edgeseg'): Promise<Record<string, number>> {
  return page.evaluate(
    (name) =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const names = Array.from(db.objectStoreNames);
          const tx = db.transaction(names);
          const counts: Record<string, number> = {};
          for (const n of names) {
            const req = tx.objectStore(n).count();
            req.onsuccess = () => (counts[n] = req.result);
          }
          tx.oncomplete = () => {
            db.close();
            resolve(counts);
          };
        };
      }),
    dbName,
  );
}

/** Fails on any request other than page assets and the model fetch (GET, no body). */
export function expectOnlyPageAndModel(seen: readonly Seen[]): void {
  for (const r of seen) {
    expect([...PAGE_ASSETS, ...MODEL_FETCHES], `unexpected request ${r.method} ${r.path}`).toContain(r.path);
    expect(r.method, `${r.path}`).toBe('GET');
    expect(r.body).toBeNull();
  }
}

/**
 * Checks one `POST /v1/reports` body: exactly the allowed fields, in range, and nothing
 * of the raw events, features or segment labels.
 */
export function expectAllowedReportBody(raw: string, k: number): void {
  const body = JSON.parse(raw) as { reports: Record<string, unknown>[] };
  expect(Object.keys(body)).toEqual(['reports']);
  expect(body.reports).toHaveLength(1);
  const sent = body.reports[0] as Record<string, unknown>;
  expect(Object.keys(sent).sort()).toEqual([...REPORT_FIELDS].sort());
  expect(sent.id).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
  expect(Number.isInteger(sent.model_version)).toBe(true);
  expect(sent.period).toBe(isoWeekPeriod(Date.now()));
  expect(Number.isInteger(sent.value) && (sent.value as number) >= 0 && (sent.value as number) < k).toBe(true);
  for (const forbidden of [...CONTENT_IDS, ...FEATURE_NAMES_V1, 'contentId', 'genres', 'Drama', 'Comedy', 'positionSec', 'durationSec', 'device', 'label', 'segment', 'lifecycle', 'at"']) {
    expect(raw, `report body leaks ${forbidden}`).not.toContain(forbidden);
  }
}
