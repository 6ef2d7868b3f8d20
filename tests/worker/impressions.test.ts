import { estimateImpressions, grrEncode, impressionEpsilon, impressionPeriods, isoWeekPeriod, periodStart, seededRandom, type Campaign, type ModelManifest } from '@edgeseg/shared';
import { env, runInDurableObject } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { registryManifest } from './registry.ts';
import { expectProblem } from '../support/problem.ts';

const BASE = 'http://edgeseg.test';
const worker = exports.default;
let marketer: string;
let seq = 0;

const campaigns: Campaign[] = [
  { id: 'drama-week', segment: 0, kind: 'message', title: 'A new drama every evening' },
  { id: 'comedy-row', segment: 1, kind: 'content_row', title: 'Quick laughs', items: ['tt0118715'] },
];

function report(model: ModelManifest, period: string, value: number, overrides: Record<string, unknown> = {}) {
  seq += 1;
  return { id: `imp-${String(seq).padStart(5, '0')}-${crypto.randomUUID().slice(0, 12)}`, model_version: model.version, period, value, ...overrides };
}

function postImpressions(body: unknown, init: { raw?: string; contentType?: string } = {}) {
  return worker.fetch(
    new Request(`${BASE}/v1/impressions`, { method: 'POST', headers: { 'content-type': init.contentType ?? 'application/json' }, body: init.raw ?? JSON.stringify(body) }),
  );
}

async function createCampaign(campaign: Campaign, token = marketer): Promise<ModelManifest> {
  const res = await worker.fetch(new Request(`${BASE}/v1/campaigns`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(campaign) }));
  expect(res.status).toBe(201);
  return registryManifest();
}


/** Rows the impression tally of (version, period) stored: exactly what the server knows. */
function storedRows(version: number, period: string): Promise<Record<string, unknown>[]> {
  const stub = env.SEGMENT_TALLY.get(env.SEGMENT_TALLY.idFromName(`impressions:${version}:${period}`));
  return runInDurableObject(stub, (_, state) => state.storage.sql.exec('SELECT * FROM reports').toArray());
}

/** `truth[i]` devices saw campaign i, the rest of `n` saw none; each sends its GRR value as the SDK would. */
function deviceValues(model: ModelManifest, truth: number[], n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const values = model.campaigns?.length ?? 0;
  const truths = truth.flatMap((t, i) => new Array<number>(t).fill(i)).concat(new Array<number>(n - truth.reduce((a, b) => a + b, 0)).fill(values));
  return truths.map((t) => grrEncode(t, values + 1, impressionEpsilon(model), random));
}

async function postAll(model: ModelManifest, period: string, values: number[]): Promise<void> {
  for (let i = 0; i < values.length; i += 100) {
    const res = await postImpressions({ reports: values.slice(i, i + 100).map((v) => report(model, period, v)) });
    expect(res.status).toBe(202);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

beforeAll(async () => {
  marketer = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
  expect((await worker.fetch(new Request(`${BASE}/v1/model`))).status).toBe(200); // bootstraps v1
});

describe('POST /v1/impressions → GET /v1/campaigns/impressions', () => {
  it('estimates devices reached per campaign across model versions, only once the period is closed, with the same numbers every time', async () => {
    // A week of its own, twenty weeks ahead (the clock moves there, the Worker's too): the
    // refusal tests below report into this week's impression period, never into this one,
    // on whatever weekday this runs.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(periodStart(isoWeekPeriod(Date.now() + 20 * 7 * 86_400_000)) + 2 * 86_400_000);
    const open = impressionPeriods(Date.now());
    expect(open).toHaveLength(1);
    const period = open[0] as string;
    const during = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
    const v1 = await createCampaign(campaigns[0] as Campaign, during); // campaigns: [drama]
    const v2 = await createCampaign(campaigns[1] as Campaign, during); // campaigns: [drama, comedy]
    // 1,500 devices on the older model (600 saw drama), 2,500 on the newer (700 drama, 900 comedy).
    const old = deviceValues(v1, [600], 1500, 1);
    const recent = deviceValues(v2, [700, 900], 2500, 2);
    await postAll(v1, period, old);
    await postAll(v2, period, recent);

    // The server holds a random id and a randomized value per report, nothing else.
    const rows = await storedRows(v2.version, period);
    expect(rows).toHaveLength(2500);
    expect(Object.keys(rows[0] as object).sort()).toEqual(['id', 'value']);

    const query = (token: string) => worker.fetch(new Request(`${BASE}/v1/campaigns/impressions?period=${period}`, { headers: { authorization: `Bearer ${token}` } }));
    await expectProblem(await query(during), 409, 'period-open');

    vi.setSystemTime(periodStart(period) + 15 * 86_400_000 + 60_000);
    const later = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
    const res = await query(later);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { period: string; campaigns: { id: string; estimate: number; ci95: [number, number]; suppressed: boolean }[] };
    expect(body.period).toBe(period);
    const count = (vals: number[], size: number) => Array.from({ length: size }, (_, v) => vals.filter((x) => x === v).length);
    const expected = estimateImpressions(
      [
        { campaignIds: ['drama-week'], counts: count(old, 2), epsilon: impressionEpsilon(v1) },
        { campaignIds: ['drama-week', 'comedy-row'], counts: count(recent, 3), epsilon: impressionEpsilon(v2) },
      ],
      5,
    );
    expect(body.campaigns).toEqual(expected);
    for (const [id, truth] of [['drama-week', 1300], ['comedy-row', 900]] as const) {
      const line = body.campaigns.find((c) => c.id === id);
      expect(line?.suppressed).toBe(false);
      expect(line?.ci95[0]).toBeLessThanOrEqual(truth);
      expect(line?.ci95[1]).toBeGreaterThanOrEqual(truth);
    }
    expect(await (await query(later)).json()).toEqual(body);
    await expectProblem(await postImpressions({ reports: [report(v2, period, 0)] }), 422, 'stale-period');
    expect(await (await query(later)).json()).toEqual(body);
  });
});

describe('bad impression reports get problem+json and change no state', () => {
  let model: ModelManifest;
  let period: string;
  beforeAll(async () => {
    model = await registryManifest();
    if (!model.campaigns?.length) model = await createCampaign({ id: 'refusals', segment: 2, kind: 'message', title: 'Hi' });
    period = impressionPeriods(Date.now())[0] as string;
  });

  const cases: [string, () => Promise<Response>, number, string][] = [
    ['malformed JSON', () => postImpressions(null, { raw: '{"reports": [' }), 400, 'invalid-json'],
    ['a wrong type', () => postImpressions({ reports: [{ ...report(model, period, 0), value: 'one' }] }), 422, 'invalid-body'],
    ['a per-device segment field', () => postImpressions({ reports: [{ ...report(model, period, 0), segment: 1 }] }), 422, 'invalid-body'],
    ['a value past "none"', () => postImpressions({ reports: [report(model, period, (model.campaigns?.length ?? 0) + 1)] }), 422, 'unknown-segment'],
    ['a valid report beside one with a segment kind', () => postImpressions({ reports: [report(model, period, 0), report(model, period, 0, { kind: 'segment' })] }), 422, 'invalid-body'],
    ['an unknown model version', () => postImpressions({ reports: [report(model, period, 0, { model_version: 9999 })] }), 422, 'unknown-model'],
    ['a closed period', () => postImpressions({ reports: [report(model, '2020-W01', 0)] }), 422, 'stale-period'],
    ['a non-JSON media type', () => postImpressions(null, { raw: 'value=1', contentType: 'text/plain' }), 415, 'unsupported-media-type'],
    ['an oversize body', () => postImpressions({ reports: [report(model, period, 0)], pad: 'x'.repeat(64 * 1024) }), 413, 'body-too-large'],
  ];
  for (const [name, send, status, type] of cases) {
    it(`refuses ${name} (${status} ${type})`, async () => {
      const before = await storedRows(model.version, period);
      await expectProblem(await send(), status, type);
      expect(await storedRows(model.version, period)).toEqual(before);
    });
  }

  it('stores a replayed id once: a full replay is 409, a partial one stores only the new id', async () => {
    const batch = { reports: [report(model, period, 0), report(model, period, 1)] };
    expect((await postImpressions(batch)).status).toBe(202);
    const before = (await storedRows(model.version, period)).length;
    const replay = await postImpressions(batch);
    await expectProblem(replay.clone(), 409, 'replayed');
    expect(await replay.json()).toMatchObject({ accepted: 0, duplicates: 2, refused: 0, results: batch.reports.map(({ id }) => ({ id, status: 'duplicate' })) });
    const fresh = report(model, period, 0);
    const mixed = await postImpressions({ reports: [...batch.reports, fresh] });
    expect(await mixed.json()).toEqual({ accepted: 1, duplicates: 2, refused: 0, results: [...batch.reports.map(({ id }) => ({ id, status: 'duplicate' })), { id: fresh.id, status: 'accepted' }] });
    expect((await storedRows(model.version, period)).length).toBe(before + 1);
  });

  it('stores exactly the valid items of a mixed batch and answers each, in order', async () => {
    const stale = report(model, '2020-W01', 0);
    const valid = report(model, period, 0);
    const unknownModel = report(model, period, 0, { model_version: 9999 });
    const pastNone = report(model, period, (model.campaigns?.length ?? 0) + 1);
    const before = await storedRows(model.version, period);
    const res = await postImpressions({ reports: [stale, valid, unknownModel, pastNone] });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: number; duplicates: number; refused: number; results: { id: string; status: string; type?: string; detail?: string }[] };
    expect(body).toMatchObject({ accepted: 1, duplicates: 0, refused: 3 });
    expect(body.results.map(({ id, status, type }) => ({ id, status, type }))).toEqual([
      { id: stale.id, status: 'refused', type: 'stale-period' },
      { id: valid.id, status: 'accepted', type: undefined },
      { id: unknownModel.id, status: 'refused', type: 'unknown-model' },
      { id: pastNone.id, status: 'refused', type: 'unknown-segment' },
    ]);
    const after = await storedRows(model.version, period);
    expect(after).toHaveLength(before.length + 1);
    expect(after).toContainEqual({ id: valid.id, value: 0 });
  });

  it('refuses a batch whose every item is refused with 422, the per-item results, and no state change', async () => {
    const items = [report(model, period, 0, { model_version: 9999 }), report(model, '2020-W01', 0)];
    const before = await storedRows(model.version, period);
    const res = await postImpressions({ reports: items });
    await expectProblem(res.clone(), 422, 'unknown-model');
    const body = (await res.json()) as { refused: number; results: { id: string; status: string; type: string }[] };
    expect(body.refused).toBe(2);
    expect(body.results.map((r) => [r.id, r.status, r.type])).toEqual([
      [items[0]?.id, 'refused', 'unknown-model'],
      [items[1]?.id, 'refused', 'stale-period'],
    ]);
    expect(await storedRows(model.version, period)).toEqual(before);
  });

  it('answers CORS preflight like the other device routes', async () => {
    const res = await worker.fetch(new Request(`${BASE}/v1/impressions`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } }));
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});
