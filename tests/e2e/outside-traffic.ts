/**
 * The network audit of an app on its own origin that runs the SDK against a stack
 * (another origin): every request any page of the browser makes, with its answer's
 * status, and the rounds the SDK was given; then a check that nothing left but the
 * app's own files, the SDK's code, the model, the counts rounds and the allowed
 * report and contribution bodies (tests/e2e/demo-page.ts's checks).
 */
import type { RoundDescriptor } from '@edgeseg/shared';
import type { BrowserContext, Request, Response } from 'playwright-core';
import { expect } from 'vitest';
import { SDK_BASE } from '../support/built-sdk.ts';
import { expectAllowedContributionBody } from './demo-page.ts';

/** One request as it left the browser, and its answer's status once {@link OutsideTraffic.settle} ran. */
export interface SeenRequest {
  method: string;
  url: URL;
  body: string | null;
  /** The answer's status; null when there was none (aborted, failed). */
  status: number | null;
}

/** Everything a browser context sent, read after the page is done. */
export interface OutsideTraffic {
  /** Every request so far, in order. */
  readonly requests: readonly SeenRequest[];
  /**
   * Waits for the answers of the requests so far: fills in each status and reads the
   * rounds the endpoint handed out. Call before closing the browser.
   */
  settle(): Promise<void>;
  /** The round descriptors `GET /v1/rounds/current` answered, by round id. */
  readonly rounds: ReadonlyMap<string, RoundDescriptor>;
}

/**
 * Records every request of `context` (call before opening pages).
 *
 * @example
 * const traffic = recordOutsideTraffic(browser.context, stack.baseUrl);
 * // … run the app …
 * await traffic.settle();
 */
export function recordOutsideTraffic(context: BrowserContext, endpoint: string): OutsideTraffic {
  const requests: SeenRequest[] = [];
  const raw: Request[] = [];
  const rounds = new Map<string, RoundDescriptor>();
  const endpointOrigin = new URL(endpoint).origin;
  context.on('request', (r) => {
    raw.push(r);
    requests.push({ method: r.method(), url: new URL(r.url()), body: r.postData(), status: null });
  });
  return {
    requests,
    rounds,
    async settle() {
      await Promise.all(
        raw.map(async (r, i) => {
          const answer: Response | null = await r.response();
          const seen = requests[i] as SeenRequest;
          seen.status = answer?.status() ?? null;
          if (answer?.status() === 200 && seen.url.origin === endpointOrigin && seen.url.pathname === '/v1/rounds/current') {
            const round = (await answer.json()) as RoundDescriptor;
            rounds.set(round.round_id, round);
          }
        }),
      );
    },
  };
}

/** The `POST /v1/contributions` requests of `traffic`, each with its parsed body. */
export function contributionsOf(traffic: OutsideTraffic): (SeenRequest & { contribution: { id: string; round_id: string } })[] {
  return traffic.requests
    .filter((r) => r.method === 'POST' && r.url.pathname === '/v1/contributions')
    .map((r) => ({ ...r, contribution: JSON.parse(r.body ?? 'null') as { id: string; round_id: string } }));
}

/**
 * Fails on any request but these: GETs of the app's own origin (its page and code); from
 * the endpoint, GETs of the SDK's built files (only when `sdkFromEndpoint`), the model and
 * its keys, and the week's counts rounds (never a k-means round: model improvement is not
 * granted); a `POST /v1/contributions` whose body is exactly a contribution to a round the
 * endpoint handed out. No randomized report of any kind (the model counts segments,
 * lifecycle stages and impressions securely) and nothing to any other origin.
 *
 * @example
 * expectOnlyCountsTraffic(traffic, { app: host.origin, endpoint: stack.baseUrl, sdkFromEndpoint: true });
 */
export function expectOnlyCountsTraffic(traffic: OutsideTraffic, where: { app: string; endpoint: string; sdkFromEndpoint: boolean }): void {
  const endpoint = new URL(where.endpoint).origin;
  for (const r of traffic.requests) {
    const what = `${r.method} ${r.url.href}`;
    if (r.url.origin === new URL(where.app).origin) {
      expect(r.method, what).toBe('GET');
      expect(r.body, what).toBeNull();
      continue;
    }
    expect(r.url.origin, `${what}: neither the app's origin nor the endpoint`).toBe(endpoint);
    if (r.method === 'GET') {
      expect(r.body, what).toBeNull();
      const sdkCode = r.url.pathname.startsWith(`${SDK_BASE}/`) && r.url.pathname.endsWith('.min.js');
      if (sdkCode) expect(where.sdkFromEndpoint, `${what}: code from the endpoint`).toBe(true);
      else if (r.url.pathname === '/v1/rounds/current') expect(r.url.searchParams.get('kind'), `${what}: only counts rounds under measurement`).toBe('counts');
      else expect(['/v1/model', '/.well-known/jwks.json'], `unexpected ${what}`).toContain(r.url.pathname);
      continue;
    }
    expect(r.method, what).toBe('POST');
    expect(r.url.pathname, `unexpected ${what}: a secure model's device sends only contributions`).toBe('/v1/contributions');
    const roundId = (JSON.parse(r.body ?? 'null') as { round_id?: string } | null)?.round_id ?? '';
    const round = traffic.rounds.get(roundId);
    expect(round, `${what}: a contribution to round ${roundId}, which the endpoint did not hand out`).toBeDefined();
    expectAllowedContributionBody(r.body ?? '', round as RoundDescriptor);
  }
}

/**
 * Checks the SDK's files came from the endpoint as a cross-origin app needs them: 200,
 * readable from any origin (CORS), and cached as immutable (the folder is versioned).
 *
 * @example
 * await expectServedCrossOrigin(sdkResponses);
 */
export async function expectServedCrossOrigin(responses: readonly Response[]): Promise<void> {
  for (const r of responses) {
    expect(r.status(), r.url()).toBe(200);
    const headers = await r.allHeaders();
    expect(headers['access-control-allow-origin'], r.url()).toBe('*');
    expect(headers['cache-control'], r.url()).toMatch(/\bimmutable\b/);
    expect(headers['cache-control'], r.url()).toMatch(/max-age=\d{6,}/);
  }
}
