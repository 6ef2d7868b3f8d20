/**
 * DEV_BACKFILL_WEEKS (local development only, set by `npm start`): simulated traffic may
 * fill closed, unreleased weeks so the dashboard shows history at once; a released week
 * still refuses, before anything is stored.
 */
import { isoWeekPeriod, parseManifest, type ModelManifest } from '@edgeseg/shared';
import { exports } from 'cloudflare:workers';
import { env } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';

const BASE = 'http://edgeseg.test';
const worker = exports.default;
const WEEK_MS = 7 * 86_400_000;
let manifest: ModelManifest;
let seq = 0;
const mutableEnv = env as unknown as Record<string, string | undefined>;

const report = (period: string, value: number) => ({ id: `bf-${String(++seq).padStart(5, '0')}-${crypto.randomUUID().slice(0, 12)}`, model_version: manifest.version, period, value });
const post = (reports: unknown[]) => worker.fetch(new Request(`${BASE}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reports }) }));

beforeAll(async () => {
  const jws = await (await worker.fetch(new Request(`${BASE}/v1/model`))).text();
  const parsed = parseManifest(JSON.parse(new TextDecoder().decode(Uint8Array.from(atob((jws.split('.')[1] as string).replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0)))));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  manifest = parsed.value;
});

afterAll(() => {
  delete mutableEnv.DEV_BACKFILL_WEEKS;
});

describe('DEV_BACKFILL_WEEKS', () => {
  const threeWeeksAgo = isoWeekPeriod(Date.now() - 3 * WEEK_MS);

  it('is off unless set: a closed week is refused', async () => {
    const res = await post([report(threeWeeksAgo, 0)]);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { type: string }).type).toMatch(/stale-period/);
  });

  it('when set, takes closed unreleased weeks; once released, the week refuses and stores nothing', async () => {
    mutableEnv.DEV_BACKFILL_WEEKS = '4';
    const batch = Array.from({ length: 12 }, (_, i) => report(threeWeeksAgo, i % manifest.k));
    const res = await post(batch);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 12, duplicates: 0, refused: 0 });
    expect((await post([report(isoWeekPeriod(Date.now() - 6 * WEEK_MS), 0)])).status).toBe(422); // beyond the window

    const marketer = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
    const released = await worker.fetch(new Request(`${BASE}/v1/segments?period=${threeWeeksAgo}`, { headers: { authorization: `Bearer ${marketer}` } }));
    expect(released.status).toBe(200);
    expect(((await released.json()) as { reports: number }).reports).toBe(12);

    const current = isoWeekPeriod(Date.now());
    const late = await post([report(threeWeeksAgo, 1)]);
    expect(late.status).toBe(422);
    expect(((await late.json()) as { type: string }).type).toMatch(/stale-period/);
    const admin = await mintToken(env.AUTH_SIGNING_JWK, { role: 'admin' });
    const stored = async () => ((await (await worker.fetch(new Request(`${BASE}/v1/admin/periods/${current}`, { headers: { authorization: `Bearer ${admin}` } }))).json()) as { reports: number }).reports;
    expect(await stored()).toBe(0); // the refused batch stored nothing
    // Beside an item of an open week, the released week's item alone is refused.
    const mixed = await post([report(current, 0), report(threeWeeksAgo, 1)]);
    expect(mixed.status).toBe(202);
    expect(((await mixed.json()) as { results: { status: string; type?: string }[] }).results.map((r) => r.type ?? r.status)).toEqual(['accepted', 'stale-period']);
    expect(await stored()).toBe(1);
  });
});
