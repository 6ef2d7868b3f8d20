/**
 * Shared steps for browser tests of /demo: record every request, drive the page, read
 * IndexedDB directly, check report and contribution bodies against the allowed wire
 * fields, and open a round on the shared stack.
 */
import { readFileSync } from 'node:fs';
import type { Segmenter } from '@edgeseg/client-sdk';
import { FEATURE_NAMES_V1, isoWeekPeriod, LIFECYCLE_STAGES, REPORT_FIELDS, type RoundDescriptor } from '@edgeseg/shared';
import { parseSecureContribution } from '@edgeseg/shared/secure';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { expect } from 'vitest';
import { sdkChunkPaths, sdkPaths } from '../support/built-sdk.ts';
import { mintToken } from '../support/keys.ts';
import { openRound } from '../support/rounds.ts';

export type DemoWindow = Window & { edgeseg: Segmenter };

/** One request as it left the browser. */
export interface Seen {
  method: string;
  path: string;
  body: string | null;
}

/** The SDK chunks (each with the shared chunks it adds to the core's) as the stack serves them: `/sdk/<version>/…`. */
export const SDK_VERIFY = sdkChunkPaths('verify.min.js');
export const SDK_CONTRIBUTE = sdkChunkPaths('contribute.min.js');
export const SDK_CONTRIBUTE_LOCAL = sdkChunkPaths('contribute-local.min.js');
export const SDK_PREFERENCES = sdkPaths('preferences.min.js');
/** Release scheduling and sending: loaded once measurement or model_improvement is granted. */
export const SDK_RELEASE = sdkChunkPaths('release.min.js');
/** exportData() / eraseData(): loaded when the viewer exports or erases. */
export const SDK_DATA = sdkChunkPaths('data.min.js');
/** The demo's own files: its modules, the bundled catalogue and the shared page helpers. */
export const DEMO_ASSETS = ['/demo/main.js', '/demo/catalogue.js', '/demo/helper-pin.js', '/demo/playback.js', '/demo/you.js', '/demo/catalogue.json', '/dashboard/model.js', '/vendor/edgeseg-shared.js'];
/** The preference centre page's own script and stylesheet (files, not inline: the page's CSP allows no inline script). */
export const PREFERENCES_ASSETS = ['/preferences/main.js', '/preferences/page.css'];
export const PAGE_ASSETS = ['/demo', '/preferences', '/app.css', ...sdkPaths('edgeseg.min.js'), '/favicon.svg', ...DEMO_ASSETS, ...PREFERENCES_ASSETS];
/**
 * How /demo and /preferences pin the helper's key, as an app would: the stack's config
 * from the leader, then the key from the helper's own origin (the stack's only other
 * origin, a loopback port: recorded as a full URL).
 */
export const PIN_FETCHES = ['/v1/stack'];
export const HELPER_KEY_FETCH = /^http:\/\/127\.0\.0\.1:\d+\/\.well-known\/hpke-configs$/;
/** The model fetch, and the verification chunk the SDK loads when a model it has not verified yet arrives. */
export const MODEL_FETCHES = ['/v1/model', '/.well-known/jwks.json', ...SDK_VERIFY];
/** What the page may also GET under model_improvement: the open round and the contribution chunk. */
export const ROUND_FETCHES = ['/v1/rounds/current', ...SDK_CONTRIBUTE];
/** A title of the demo catalogue (worker/public/demo/catalogue.json, built by scripts/build-catalogue.mjs). */
export interface CatalogueTitle {
  id: string;
  movieId: number;
  title: string;
  year: number | null;
  genres: string[];
  row: string;
  minutes: number;
}
export const CATALOGUE = JSON.parse(readFileSync(new URL('../../worker/public/demo/catalogue.json', import.meta.url), 'utf8')) as { credit: string; titles: CatalogueTitle[] };
/** Every content id of the catalogue: none may appear in an outbound body. */
export const CONTENT_IDS = CATALOGUE.titles.map((t) => t.id);

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

/**
 * Fails on any request other than page assets, the helper pin, the model fetch and the
 * SDK's own code chunks for sending and for export/erase (GET, no body), and, only with
 * `modelImprovement`, the round check and the contribution chunk.
 */
export function expectOnlyPageAndModel(seen: readonly Seen[], { modelImprovement = false } = {}): void {
  const allowed = [...PAGE_ASSETS, ...PIN_FETCHES, ...MODEL_FETCHES, ...SDK_RELEASE, ...SDK_DATA, ...(modelImprovement ? ROUND_FETCHES : [])];
  for (const r of seen) {
    if (!HELPER_KEY_FETCH.test(r.path)) expect(allowed, `unexpected request ${r.method} ${r.path}`).toContain(r.path);
    expect(r.method, `${r.path}`).toBe('GET');
    expect(r.body).toBeNull();
  }
}

/**
 * Checks one `POST /v1/reports` body: this week's segment report (unless the model counts
 * segments securely: `segment: false`) and lifecycle report, in any order, each with
 * exactly the allowed fields, in range, and nothing of the raw events, features, segment
 * labels or lifecycle stage names.
 */
export function expectAllowedReportBody(raw: string, k: number, { segment = true } = {}): void {
  const body = JSON.parse(raw) as { reports: Record<string, unknown>[] };
  expect(Object.keys(body)).toEqual(['reports']);
  const kinds = [...(segment ? ['segment'] : []), 'lifecycle'];
  expect(body.reports.map((r) => r.kind ?? 'segment').sort()).toEqual(kinds.sort()); // in outbox order, which is by random id
  for (const sent of body.reports) {
    const lifecycle = sent.kind === 'lifecycle';
    expect(Object.keys(sent).sort()).toEqual(REPORT_FIELDS.filter((f) => f !== 'kind' || lifecycle).sort());
    expect(sent.id).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(Number.isInteger(sent.model_version)).toBe(true);
    expect(sent.period).toBe(isoWeekPeriod(Date.now()));
    const values = lifecycle ? LIFECYCLE_STAGES.length : k;
    expect(Number.isInteger(sent.value) && (sent.value as number) >= 0 && (sent.value as number) < values).toBe(true);
  }
  // The lifecycle report's one fixed tag is the only place the word may appear.
  expectNoLeak(raw.replace(/"kind":"lifecycle"/g, ''), 'report');
}

/**
 * Words of the raw events, features and on-device segment that no outbound body may hold.
 * The event's time is its key `"at"` with both quotes: a base64url ciphertext may well end
 * in …at (one in 4,096), which leaks nothing.
 */
const FORBIDDEN = [...CONTENT_IDS, ...FEATURE_NAMES_V1, 'contentId', 'genres', 'Drama', 'Comedy', 'positionSec', 'durationSec', 'device', 'label', 'segment', 'lifecycle', ...LIFECYCLE_STAGES.map((stage) => `"${stage}"`), 'at_risk', 'lapsed', '"at"'];

function expectNoLeak(raw: string, what: string): void {
  for (const forbidden of FORBIDDEN) expect(raw, `${what} body leaks ${forbidden}`).not.toContain(forbidden);
}

/**
 * Checks one `POST /v1/contributions` body: exactly the fields of SecureContribution for
 * `round` (ciphertexts of the exact lengths, slice and group in range), and nothing of
 * the raw events, features, content ids, labels or segment.
 */
export function expectAllowedContributionBody(raw: string, round: RoundDescriptor): void {
  const body = JSON.parse(raw) as Record<string, unknown>;
  // No group: both aggregators derive it from the id with the round's verify key.
  expect(Object.keys(body).sort()).toEqual(['helper', 'id', 'leader', 'public_share', 'round_id', 'slice']);
  const parsed = parseSecureContribution(body, round);
  expect(parsed.ok ? [] : parsed.errors).toEqual([]);
  expect(body.round_id).toBe(round.round_id);
  expect(Number(body.slice)).toBeLessThan(round.slices.length);
  expect(Object.keys(body.leader as object).sort()).toEqual(['config_id', 'ct', 'enc']);
  expect(Object.keys(body.helper as object).sort()).toEqual(['config_id', 'ct', 'enc']);
  // The round id (checked above) is public and the same for every device; it may name what the round counts ("…-lifecycle").
  expectNoLeak(raw.replace(JSON.stringify(round.round_id), '""'), 'contribution');
}

/**
 * The round open on the stack (the e2e stack is shared by every file), opening a long
 * one as admin when none is.
 *
 * @example
 * const round = await ensureOpenRound(base, inject('authJwk'));
 */
export async function ensureOpenRound(base: string, authJwk: string): Promise<RoundDescriptor> {
  const current = await fetch(`${base}/v1/rounds/current`);
  if (current.ok) return (await current.json()) as RoundDescriptor;
  await current.body?.cancel();
  return openRound(base, await mintToken(authJwk, { role: 'admin' }), { duration_s: 3600, min_batch: 2, epsilon: 1, groups: 2 });
}

/**
 * A fixed weekday afternoon (tomorrow, 14:00 UTC) for pages whose test depends on which
 * segment viewing lands in: the features count time of day and weekday, so the same
 * clicks land elsewhere in the evening or at a weekend. Timers keep running. Tomorrow, so
 * a model issued just now is already valid.
 *
 * @example
 * await page.clock.setFixedTime(weekdayAfternoon());
 */
export function weekdayAfternoon(): Date {
  const d = new Date(Date.now() + 86_400_000);
  d.setUTCHours(14, 0, 0, 0);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  return d;
}
