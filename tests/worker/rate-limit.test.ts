import { isoWeekPeriod, type ModelManifest } from '@edgeseg/shared';
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { RATE_LIMIT_PERIOD_S } from '../../worker/src/rate-limit.ts';
import { mintToken } from '../support/keys.ts';
import { registryManifest } from './registry.ts';

const BASE = 'http://edgeseg.test';
const worker = exports.default;
/** `simple.limit` of the bindings in wrangler.toml, which this test run uses. */
const DEVICE_LIMIT = 60;
const API_LIMIT = 30;
let manifest: ModelManifest;
let admin: string;
let seq = 0;

function postReport(address: string) {
  seq += 1;
  const body = { reports: [{ id: `rl-${String(seq).padStart(5, '0')}-${crypto.randomUUID().slice(0, 12)}`, model_version: manifest.version, period: isoWeekPeriod(Date.now()), value: 0 }] };
  return worker.fetch(new Request(`${BASE}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': address }, body: JSON.stringify(body) }));
}

/** Reports stored this period for the current model (the operators' ingestion status). */
async function reportCount(): Promise<number> {
  const res = await worker.fetch(new Request(`${BASE}/v1/admin/periods/${isoWeekPeriod(Date.now())}`, { headers: { authorization: `Bearer ${admin}` } }));
  return ((await res.json()) as { reports: number }).reports;
}

/** Waits for a fresh fixed window with at least `needS` seconds left, so a burst is not split across two windows. */
async function freshWindow(periodS: number, needS = 4): Promise<void> {
  const left = periodS * 1000 - (Date.now() % (periodS * 1000));
  if (left < needS * 1000) await new Promise((r) => setTimeout(r, left + 200));
}

async function expectRateLimited(res: Response, retryAfterS: number) {
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('retry-after')).toBe(String(retryAfterS));
  expect(((await res.json()) as { type: string }).type).toBe('https://edgeseg.dev/problems/rate-limited');
}

beforeAll(async () => {
  admin = await mintToken(env.AUTH_SIGNING_JWK, { role: 'admin' });
  expect((await worker.fetch(new Request(`${BASE}/v1/model`))).status).toBe(200); // bootstraps v1
  manifest = await registryManifest();
});

describe('device POST routes: per client address', () => {
  it('trips at the limit with 429 + Retry-After, stores nothing refused, leaves other addresses alone, and resets after the window', { timeout: 60_000 }, async () => {
    expect(RATE_LIMIT_PERIOD_S.device).toBe(10);
    const windowOf = () => Math.floor(Date.now() / (RATE_LIMIT_PERIOD_S.device * 1000));
    // The limiter counts in fixed windows: a burst that a busy machine stretches over a
    // window boundary proves nothing, so it is repeated from a fresh address and window.
    let address = '';
    let before = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      address = `203.0.113.${attempt + 7}`;
      await freshWindow(RATE_LIMIT_PERIOD_S.device);
      const window = windowOf();
      before = await reportCount();
      for (let i = 0; i < DEVICE_LIMIT; i++) expect((await postReport(address)).status).toBe(202);
      if (windowOf() === window) break;
    }
    expect(await reportCount()).toBe(before + DEVICE_LIMIT);

    await expectRateLimited(await postReport(address), RATE_LIMIT_PERIOD_S.device);
    const impression = await worker.fetch(new Request(`${BASE}/v1/impressions`, { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': address, origin: 'https://app.example' }, body: '{}' }));
    expect(impression.headers.get('access-control-allow-origin')).toBe('*'); // the SDK in a browser can read the 429
    await expectRateLimited(impression, RATE_LIMIT_PERIOD_S.device); // one budget for all device POST routes, checked before the body
    expect(await reportCount()).toBe(before + DEVICE_LIMIT);

    expect((await postReport('198.51.100.23')).status).toBe(202); // another address has its own budget
    expect((await postReport('2001:db8::5')).status).toBe(202);

    await new Promise((r) => setTimeout(r, RATE_LIMIT_PERIOD_S.device * 1000 + 200)); // Retry-After later
    expect((await postReport(address)).status).toBe(202);
    expect(await reportCount()).toBe(before + DEVICE_LIMIT + 3);
  });

  it('does not count reads or CORS preflights', async () => {
    await freshWindow(RATE_LIMIT_PERIOD_S.device);
    for (let i = 0; i < DEVICE_LIMIT + 5; i++) {
      const res = await worker.fetch(new Request(`${BASE}/v1/reports`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'cf-connecting-ip': '192.0.2.44' } }));
      expect(res.status).toBe(204);
    }
    expect((await postReport('192.0.2.44')).status).toBe(202);
  });
});

describe('marketer and admin routes: per token subject', () => {
  it('trips for one subject only, after the token verifies, and refuses without changing campaigns', async () => {
    const bob = await signWithSubject('bob');
    const get = (token: string, address = '203.0.113.50') => worker.fetch(new Request(`${BASE}/v1/campaigns`, { headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': address } }));
    const windowOf = () => Math.floor(Date.now() / (RATE_LIMIT_PERIOD_S.api * 1000));
    let alice = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      alice = await signWithSubject(`alice-${attempt}`); // a fresh subject if a burst straddled a window boundary
      await freshWindow(RATE_LIMIT_PERIOD_S.api);
      const window = windowOf();
      for (let i = 0; i < API_LIMIT; i++) expect((await get(alice, `203.0.113.${i + 1}`)).status).toBe(200); // the subject, not the address, is counted
      if (windowOf() === window) break;
    }
    await expectRateLimited(await get(alice), RATE_LIMIT_PERIOD_S.api);
    const create = await worker.fetch(
      new Request(`${BASE}/v1/campaigns`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.50' }, body: JSON.stringify({ id: 'over-budget', segment: 0, kind: 'message', title: 'x' }) }),
    );
    await expectRateLimited(create, RATE_LIMIT_PERIOD_S.api);
    const list = (await (await get(bob)).json()) as { campaigns: { id: string }[] };
    expect(list.campaigns.map((c) => c.id)).not.toContain('over-budget');
    // The token is verified before any budget is looked at: a forged one is 401, never 429.
    expect((await get(`${alice.slice(0, -4)}AAAA`)).status).toBe(401);
  });
});

/** A marketer token with a `sub` claim (tests/support/keys.ts mints tokens without one). */
async function signWithSubject(sub: string): Promise<string> {
  const { importJWK, SignJWT } = await import('jose');
  const jwk = JSON.parse(env.AUTH_SIGNING_JWK) as { kid: string };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'marketer' })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
    .setIssuer(env.TOKEN_ISSUER)
    .setAudience(env.TOKEN_AUDIENCE)
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(await importJWK(jwk, 'ES256'));
}
