/**
 * The leader's privacy ledger lists each GRR tally release (here: lifecycle and
 * impressions, this deployment counting segments securely) once, when a marketer first
 * reads the closed period, with the model's ε and the noisy figures the API answered.
 */
import { grrEncode, impressionEpsilon, impressionPeriods, isoWeekPeriod, LIFECYCLE_STAGES, lifecycleEpsilon, periodStart, seededRandom, type ModelManifest } from '@edgeseg/shared';
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mintToken } from '../support/keys.ts';
import type { TallyLedgerEntry } from '../../worker/src/tally-ledger.ts';
import { registryManifest } from './registry.ts';

const BASE = 'http://edgeseg.test';
const worker = exports.default;
const DAY_MS = 86_400_000;

const post = async (path: string, reports: unknown[]) => {
  const res = await worker.fetch(new Request(`${BASE}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reports }) }));
  expect(res.status).toBe(202);
};

async function marketerGet<T>(path: string): Promise<T> {
  const token = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
  const res = await worker.fetch(new Request(`${BASE}${path}`, { headers: { authorization: `Bearer ${token}` } }));
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

async function ledgerReleases(): Promise<TallyLedgerEntry[]> {
  const res = await worker.fetch(new Request(`${BASE}/v1/privacy-ledger`));
  expect(res.status).toBe(200);
  return ((await res.json()) as { tally_releases: TallyLedgerEntry[] }).tally_releases;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('GET /v1/privacy-ledger tally_releases', () => {
  it('lists the lifecycle and impressions releases a marketer read, as answered, once each', async () => {
    // A week of its own, thirty weeks ahead, so no other test's period is read here.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(periodStart(isoWeekPeriod(Date.now() + 30 * 7 * DAY_MS)) + 2 * DAY_MS);
    expect((await worker.fetch(new Request(`${BASE}/v1/model`))).status).toBe(200);
    const token = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
    const created = await worker.fetch(new Request(`${BASE}/v1/campaigns`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'ledger-week', segment: 0, kind: 'message', title: 'Counted once' }) }));
    expect(created.status).toBe(201);
    const model: ModelManifest = await registryManifest();
    const lifecyclePeriod = isoWeekPeriod(Date.now());
    const impressionPeriod = impressionPeriods(Date.now())[0] as string;
    const random = seededRandom(15);
    const id = (p: string, i: number) => `${p}-${String(i).padStart(4, '0')}-${crypto.randomUUID().slice(0, 12)}`;
    const lifecycle = Array.from({ length: 300 }, (_, i) => ({ id: id('lc', i), model_version: model.version, period: lifecyclePeriod, kind: 'lifecycle', value: grrEncode(i % 4, LIFECYCLE_STAGES.length, lifecycleEpsilon(model), random) }));
    const impressions = Array.from({ length: 300 }, (_, i) => ({ id: id('imp', i), model_version: model.version, period: impressionPeriod, value: grrEncode(i % 3 === 0 ? 0 : 1, 2, impressionEpsilon(model), random) }));
    for (let i = 0; i < 300; i += 100) {
      await post('/v1/reports', lifecycle.slice(i, i + 100));
      await post('/v1/impressions', impressions.slice(i, i + 100));
    }
    expect((await ledgerReleases()).filter((e) => e.period === lifecyclePeriod || e.period === impressionPeriod)).toEqual([]); // nothing released yet

    vi.setSystemTime(periodStart(lifecyclePeriod) + 15 * DAY_MS + 60_000); // both periods closed
    const segments = await marketerGet<{ lifecycle: { reports: number; epsilon: number; stages: { stage: string; count: number | null; ci95: [number, number] | null; suppressed: boolean }[] } }>(`/v1/segments?period=${lifecyclePeriod}&model_version=${model.version}`);
    const reached = await marketerGet<{ campaigns: { id: string; estimate: number | null; ci95: [number, number] | null; suppressed: boolean }[] }>(`/v1/campaigns/impressions?period=${impressionPeriod}`);
    expect(segments.lifecycle.reports).toBe(300);

    const expected = [
      {
        kind: 'lifecycle',
        mechanism: 'grr',
        model_version: model.version,
        period: lifecyclePeriod,
        epsilon: lifecycleEpsilon(model),
        delta: 0,
        reports: 300,
        estimates: segments.lifecycle.stages.map((s) => ({ label: s.stage, count: s.count, ci95: s.ci95, suppressed: s.suppressed })),
      },
      {
        kind: 'impressions',
        mechanism: 'grr',
        model_version: model.version,
        model_versions: [model.version],
        period: impressionPeriod,
        epsilon: impressionEpsilon(model),
        delta: 0,
        reports: null,
        estimates: reached.campaigns.map((c) => ({ label: c.id, count: c.estimate, ci95: c.ci95, suppressed: c.suppressed })),
      },
    ];
    const ours = async () => (await ledgerReleases()).filter((e) => e.period === lifecyclePeriod || e.period === impressionPeriod);
    const listed = await ours();
    // Segments are counted securely in this deployment (no counts round ran): not a tally release.
    expect(listed.map((e) => e.kind).sort()).toEqual(['impressions', 'lifecycle']);
    for (const want of expected) expect(listed.find((e) => e.kind === want.kind)).toMatchObject(want);
    expect(listed.every((e) => e.released_at === Math.floor(Date.now() / 1000))).toBe(true);

    // Reading again, later, adds nothing and keeps the first release time.
    vi.setSystemTime(Date.now() + DAY_MS);
    await marketerGet(`/v1/segments?period=${lifecyclePeriod}&model_version=${model.version}`);
    await marketerGet(`/v1/campaigns/impressions?period=${impressionPeriod}`);
    await marketerGet(`/v1/segments/history?model_version=${model.version}`);
    expect(await ours()).toEqual(listed);
  });
});
