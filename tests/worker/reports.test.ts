import { lifecycleRelease, summariseTally } from '@edgeseg/aggregator';
import { isoWeekPeriod, LIFECYCLE_STAGES, lifecycleEpsilon, openPeriods, parseManifest, periodStart, type ModelManifest } from '@edgeseg/shared';
import { exports } from 'cloudflare:workers';
import { env } from 'cloudflare:test';
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSigningJwk, mintToken } from '../support/keys.ts';
import { expectProblem } from '../support/problem.ts';

const BASE = 'http://edgeseg.test';
const worker = exports.default;
const period = isoWeekPeriod(Date.now());
let manifest: ModelManifest;
let marketer: string;
let admin: string;
let seq = 0;

function report(value: number, overrides: Record<string, unknown> = {}) {
  seq += 1;
  return { id: `r-${String(seq).padStart(4, '0')}-${crypto.randomUUID().slice(0, 13)}`, model_version: manifest.version, period, value, ...overrides };
}

function postReports(body: unknown, init: { raw?: string; contentType?: string } = {}) {
  return worker.fetch(
    new Request(`${BASE}/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': init.contentType ?? 'application/json' },
      body: init.raw ?? JSON.stringify(body),
    }),
  );
}

async function segments(token: string | null = marketer, query = '') {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return worker.fetch(new Request(`${BASE}/v1/segments${query}`, { headers }));
}

/** Segment and lifecycle reports received so far this period, from the operators' ingestion status (no per-segment data). */
async function receivedCounts(): Promise<{ reports: number; lifecycle_reports: number }> {
  const res = await worker.fetch(new Request(`${BASE}/v1/admin/periods/${period}`, { headers: { authorization: `Bearer ${admin}` } }));
  expect(res.status).toBe(200);
  const { reports, lifecycle_reports } = (await res.json()) as { reports: number; lifecycle_reports: number };
  return { reports, lifecycle_reports };
}

async function reportCount(): Promise<number> {
  return (await receivedCounts()).reports;
}

afterEach(() => {
  vi.useRealTimers();
});

beforeAll(async () => {
  marketer = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
  admin = await mintToken(env.AUTH_SIGNING_JWK, { role: 'admin' });
  const res = await worker.fetch(new Request(`${BASE}/v1/model`));
  const jwks = (await (await worker.fetch(new Request(`${BASE}/.well-known/jwks.json`))).json()) as { keys: [] };
  const { payload, protectedHeader } = await compactVerify(new Uint8Array(await res.arrayBuffer()), createLocalJWKSet(jwks));
  expect(protectedHeader.alg).toBe('ES256');
  const parsed = parseManifest(JSON.parse(new TextDecoder().decode(payload)));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  manifest = parsed.value;
});

describe('GET /v1/model', () => {
  it('serves a compact JWS that verifies against the JWKS, with a stable ETag and 304 revalidation', async () => {
    const first = await worker.fetch(new Request(`${BASE}/v1/model`));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/jose');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"v1-[0-9a-f]{16}"$/);
    const again = await worker.fetch(new Request(`${BASE}/v1/model`));
    expect(again.headers.get('etag')).toBe(etag);
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(new Uint8Array(await first.arrayBuffer()));
    const revalidated = await worker.fetch(new Request(`${BASE}/v1/model`, { headers: { 'if-none-match': etag as string } }));
    expect(revalidated.status).toBe(304);
    expect(manifest.version).toBe(1);
    expect(manifest.k).toBe(4);
  });

  it('publishes only public key material in the JWKS', async () => {
    const jwks = (await (await worker.fetch(new Request(`${BASE}/.well-known/jwks.json`))).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
  });
});

describe('POST /v1/reports → SegmentTally → GET /v1/segments', () => {
  it('stores a batch, never answers while the period is open, then releases debiased counts with intervals once, suppressing small segments', async () => {
    // A week of its own, twenty weeks ahead (the clock moves there, the Worker's too), so no
    // other test reports into it, and the 12 weeks a history query releases from there are
    // all ahead of the weeks other tests use, on whatever weekday this runs.
    vi.useFakeTimers({ toFake: ['Date'] });
    const target = isoWeekPeriod(Date.now() + 20 * 7 * 86_400_000);
    vi.setSystemTime(periodStart(target) + 2 * 86_400_000);
    expect(openPeriods(Date.now())).toEqual([target]);
    const during = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
    const values = [...Array(40).fill(0), ...Array(6).fill(1), ...Array(3).fill(2), ...Array(1).fill(3)] as number[];
    const batch = values.map((v) => report(v, { period: target }));
    const res = await postReports({ reports: batch });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 50, duplicates: 0, refused: 0, results: batch.map(({ id }) => ({ id, status: 'accepted' })) });
    // The same devices' weekly lifecycle reports (stage indexes new, active, at_risk, lapsed), in their own tally.
    const stages = [...Array(15).fill(0), ...Array(20).fill(1), ...Array(10).fill(2), ...Array(5).fill(3)] as number[];
    const lifecycle = await postReports({ reports: stages.map((v) => report(v, { period: target, kind: 'lifecycle' })) });
    expect(await lifecycle.json()).toMatchObject({ accepted: 50, duplicates: 0, refused: 0 });

    await expectProblem(await segments(during, `?period=${target}`), 409, 'period-open');

    // Time passes: the period closes and its grace day ends.
    vi.setSystemTime(periodStart(target) + 8 * 86_400_000 + 60_000);
    const later = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' }); // the old one expired meanwhile
    const answer = await segments(later, `?period=${target}`);
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as ReturnType<typeof summariseTally> & { period: string; model_version: number; lifecycle: ReturnType<typeof lifecycleRelease> };
    expect(body.period).toBe(target);
    expect(body.model_version).toBe(1);
    expect(body.reports).toBe(50);
    expect(body.mechanism).toBe('grr');
    expect(body.kThreshold).toBe(5);
    // The same numbers as the pure debiasing of the raw counts [40, 6, 3, 1].
    const expected = summariseTally({ counts: [40, 6, 3, 1], epsilon: manifest.epsilon.report, kThreshold: 5, labels: manifest.labels });
    expect(body.segments).toEqual(expected.segments);
    const top = body.segments[0];
    expect(top?.suppressed).toBe(false);
    expect(top?.count).toBeGreaterThan(50); // debiased upwards: GRR moved some true 0s elsewhere
    expect(top?.ci95?.[0]).toBeLessThanOrEqual(top?.count as number);
    expect(body.segments[3]).toMatchObject({ suppressed: true, count: null, ci95: null });
    // Lifecycle shares: the pure release of the lifecycle tally's raw counts [15, 20, 10, 5], with the model's lifecycle ε.
    const expectedLifecycle = lifecycleRelease(summariseTally({ counts: [15, 20, 10, 5], epsilon: lifecycleEpsilon(manifest), kThreshold: 5, labels: LIFECYCLE_STAGES }));
    expect(body.lifecycle).toEqual(expectedLifecycle);
    expect(body.lifecycle.reports).toBe(50);
    expect(body.lifecycle.stages.map((x) => x.stage)).toEqual([...LIFECYCLE_STAGES]);
    expect(body.lifecycle.stages[1]?.share).toBeGreaterThan(0.2);

    // Released once: the same answer again, no new reports for it, and CSV on request.
    expect(await (await segments(later, `?period=${target}`)).json()).toEqual(body);
    await expectProblem(await postReports({ reports: [report(0, { period: target })] }), 422, 'stale-period');
    await expectProblem(await postReports({ reports: [report(0, { period: target, kind: 'lifecycle' })] }), 422, 'stale-period');
    const csv = await worker.fetch(new Request(`${BASE}/v1/segments?period=${target}`, { headers: { authorization: `Bearer ${later}`, accept: 'text/csv' } }));
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('period,model_version,segment,label,count,ci95_low,ci95_high,suppressed,mechanism,epsilon');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toContain(`${target},1,0,`);
    const history = (await (await segments(later, '/history')).json()) as { periods: { period: string; segments: unknown }[] };
    expect(history.periods).toHaveLength(12);
    expect(history.periods.find((p) => p.period === target)?.segments).toEqual(body.segments);
    expect((history.periods.find((p) => p.period === target) as unknown as typeof body).lifecycle).toEqual(body.lifecycle);
  });

  it('refuses a replayed batch with 409 and counts nothing twice; a partial replay stores only the new ids', async () => {
    const batch = { reports: [report(1), report(2)] };
    expect((await postReports(batch)).status).toBe(202);
    const before = await reportCount();
    await expectProblem(await postReports(batch), 409, 'replayed');
    expect(await reportCount()).toBe(before);
    const fresh = report(0);
    const mixed = await postReports({ reports: [...batch.reports, fresh] });
    expect(mixed.status).toBe(202);
    expect(await mixed.json()).toEqual({
      accepted: 1,
      duplicates: 2,
      refused: 0,
      results: [...batch.reports.map(({ id }) => ({ id, status: 'duplicate' })), { id: fresh.id, status: 'accepted' }],
    });
    expect(await reportCount()).toBe(before + 1);
  });

  it('answers a full replay with 409 carrying each item as a duplicate', async () => {
    const batch = { reports: [report(1), report(2, { kind: 'lifecycle' })] };
    expect((await postReports(batch)).status).toBe(202);
    const before = await receivedCounts();
    const replay = await postReports(batch);
    await expectProblem(replay.clone(), 409, 'replayed');
    expect(await replay.json()).toMatchObject({ accepted: 0, duplicates: 2, refused: 0, results: batch.reports.map(({ id }) => ({ id, status: 'duplicate' })) });
    expect(await receivedCounts()).toEqual(before);
  });
});

describe('a batch is checked item by item', () => {
  it('stores exactly the valid items of a mixed batch and answers each, in order', async () => {
    const stale = report(0, { period: '2020-W01' });
    const valid = report(1);
    const unknownModel = report(0, { model_version: 99 });
    const unknownSegment = report(manifest.k);
    const validLifecycle = report(2, { kind: 'lifecycle' });
    const before = await receivedCounts();
    const res = await postReports({ reports: [stale, valid, unknownModel, unknownSegment, validLifecycle] });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: number; duplicates: number; refused: number; results: { id: string; status: string; type?: string; detail?: string }[] };
    expect(body).toMatchObject({ accepted: 2, duplicates: 0, refused: 3 });
    expect(body.results.map(({ id, status, type }) => ({ id, status, type }))).toEqual([
      { id: stale.id, status: 'refused', type: 'stale-period' },
      { id: valid.id, status: 'accepted', type: undefined },
      { id: unknownModel.id, status: 'refused', type: 'unknown-model' },
      { id: unknownSegment.id, status: 'refused', type: 'unknown-segment' },
      { id: validLifecycle.id, status: 'accepted', type: undefined },
    ]);
    for (const r of body.results.filter((x) => x.status === 'refused')) expect(r.detail).toMatch(/^(period|model_version|value): /);
    expect(await receivedCounts()).toEqual({ reports: before.reports + 1, lifecycle_reports: before.lifecycle_reports + 1 });
    // The refused items stay refused on a resend; the stored ones are now duplicates.
    const again = await postReports({ reports: [stale, valid, unknownModel, unknownSegment, validLifecycle] });
    expect(again.status).toBe(422);
    expect(((await again.json()) as typeof body).results.map((r) => r.status)).toEqual(['refused', 'duplicate', 'refused', 'refused', 'duplicate']);
  });

  it('refuses a batch whose every item is refused with 422, the per-item results, and no state change', async () => {
    const items = [report(0, { period: '2020-W01' }), report(0, { model_version: 99 }), report(manifest.k)];
    const before = await receivedCounts();
    const res = await postReports({ reports: items });
    await expectProblem(res.clone(), 422, 'stale-period'); // the type of the first refusal
    const body = (await res.json()) as { detail: string; errors: string[]; accepted: number; refused: number; results: { id: string; status: string; type: string }[] };
    expect(body).toMatchObject({ accepted: 0, duplicates: 0, refused: 3 });
    expect(body.results.map((r) => [r.id, r.status, r.type])).toEqual([
      [items[0]?.id, 'refused', 'stale-period'],
      [items[1]?.id, 'refused', 'unknown-model'],
      [items[2]?.id, 'refused', 'unknown-segment'],
    ]);
    expect(body.errors).toHaveLength(3);
    expect(body.errors[1]).toMatch(/^reports\[1\]\.model_version: /);
    expect(await receivedCounts()).toEqual(before);
  });

  it('answers 422 for refused items beside duplicates, storing nothing', async () => {
    const stored = report(3);
    expect((await postReports({ reports: [stored] })).status).toBe(202);
    const before = await receivedCounts();
    const res = await postReports({ reports: [stored, report(0, { period: '2020-W01' })] });
    await expectProblem(res.clone(), 422, 'stale-period');
    expect(((await res.json()) as { results: { status: string }[] }).results.map((r) => r.status)).toEqual(['duplicate', 'refused']);
    expect(await receivedCounts()).toEqual(before);
  });
});

describe('bad input gets problem+json and changes no state', () => {
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['malformed JSON', () => postReports(null, { raw: '{"reports": [' }), 400, 'invalid-json'],
    ['a wrong type', () => postReports({ reports: [{ ...report(0), value: 'two' }] }), 422, 'invalid-body'],
    ['an unknown field', () => postReports({ reports: [{ ...report(0), segment: 1 }] }), 422, 'invalid-body'],
    ['an unknown segment', () => postReports({ reports: [report(4)] }), 422, 'unknown-segment'],
    ['an unknown lifecycle stage', () => postReports({ reports: [report(4, { kind: 'lifecycle' })] }), 422, 'unknown-segment'],
    ['a valid item beside a malformed one', () => postReports({ reports: [report(0), { ...report(1), value: -1 }] }), 422, 'invalid-body'],
    ['an unknown report kind', () => postReports({ reports: [report(0, { kind: 'genre' })] }), 422, 'invalid-body'],
    ['an unknown model version', () => postReports({ reports: [report(0, { model_version: 99 })] }), 422, 'unknown-model'],
    ['a closed period', () => postReports({ reports: [report(0, { period: '2020-W01' })] }), 422, 'stale-period'],
    ['an empty batch', () => postReports({ reports: [] }), 422, 'invalid-body'],
    ['a non-JSON media type', () => postReports(null, { raw: 'value=1', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported-media-type'],
    ['a JSON text sequence (not one JSON value)', () => postReports(null, { raw: JSON.stringify({ reports: [report(0)] }), contentType: 'application/json-seq' }), 415, 'unsupported-media-type'],
    ['a 1 MB body', () => postReports(null, { raw: JSON.stringify({ reports: [report(0)], pad: 'x'.repeat(1024 * 1024) }) }), 413, 'body-too-large'],
  ];
  for (const [name, send, status, type] of cases) {
    it(`refuses ${name} (${status} ${type})`, async () => {
      const before = await receivedCounts();
      await expectProblem(await send(), status, type);
      expect(await receivedCounts()).toEqual(before);
    });
  }

  it('refuses a 1 MB body sent without a Content-Length (streamed)', async () => {
    const before = await reportCount();
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 16) controller.close();
        else {
          controller.enqueue(chunk);
          sent++;
        }
      },
    });
    const res = await worker.fetch(new Request(`${BASE}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit));
    await expectProblem(res, 413, 'body-too-large');
    expect(await reportCount()).toBe(before);
  });

  it('answers unknown routes with 404 problem+json', async () => {
    await expectProblem(await worker.fetch(new Request(`${BASE}/v1/nothing`)), 404, 'not-found');
  });
});

describe('GET /v1/segments auth', () => {
  it('refuses a missing token with 401 problem+json', async () => {
    await expectProblem(await segments(null), 401, 'unauthorized');
  });
  it('refuses an expired token', async () => {
    await expectProblem(await segments(await mintToken(env.AUTH_SIGNING_JWK, { expSecondsFromNow: -60 })), 401, 'unauthorized');
  });
  it('refuses a token signed by another key', async () => {
    await expectProblem(await segments(await mintToken(await generateSigningJwk('forger'))), 401, 'unauthorized');
  });
  it('refuses a token for another audience or issuer', async () => {
    await expectProblem(await segments(await mintToken(env.AUTH_SIGNING_JWK, { aud: 'other' })), 401, 'unauthorized');
    await expectProblem(await segments(await mintToken(env.AUTH_SIGNING_JWK, { iss: 'other' })), 401, 'unauthorized');
  });
  it('refuses a token without the marketer role with 403', async () => {
    await expectProblem(await segments(await mintToken(env.AUTH_SIGNING_JWK, { role: 'viewer' })), 403, 'forbidden');
  });
  it('refuses an alg=none token', async () => {
    const none = `${btoa(JSON.stringify({ alg: 'none' })).replace(/=+$/, '')}.${btoa(JSON.stringify({ role: 'marketer', iss: 'edgeseg-dev', aud: 'edgeseg-api', exp: 9999999999 })).replace(/=+$/, '')}.`;
    await expectProblem(await segments(none), 401, 'unauthorized');
  });
  it('refuses a malformed period query', async () => {
    await expectProblem(await segments(marketer, '?period=last-week'), 422, 'invalid-body');
  });
});

describe('CORS for devices on other origins', () => {
  it('answers the preflight of a cross-origin report POST, and exposes the model ETag', async () => {
    const preflight = await worker.fetch(
      new Request(`${BASE}/v1/reports`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/content-type/);
    const model = await worker.fetch(new Request(`${BASE}/v1/model`, { headers: { origin: 'https://app.example' } }));
    expect(model.headers.get('access-control-allow-origin')).toBe('*');
    expect(model.headers.get('access-control-expose-headers')).toMatch(/etag/i);
  });

  it('does not open marketer routes to other origins', async () => {
    const res = await segments(marketer);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('model schema upgrades', () => {
  it('republishes the bootstrap model as the next version when the stored one no longer fits the schema', async () => {
    const registry = env.MODEL_REGISTRY.get(env.MODEL_REGISTRY.idFromName('global'));
    const current = await registry.current();
    const stale = { ...JSON.parse(current?.manifest as string), version: 7, features: ['an_old_feature'] };
    await registry.publish({ version: 7, jws: 'stale.jws.value', etag: '"v7-stale"', manifest: JSON.stringify(stale) });
    const res = await worker.fetch(new Request(`${BASE}/v1/model`));
    expect(res.headers.get('etag')).toMatch(/^"v8-/);
    const jwks = (await (await worker.fetch(new Request(`${BASE}/.well-known/jwks.json`))).json()) as { keys: [] };
    const { payload } = await compactVerify(new Uint8Array(await res.arrayBuffer()), createLocalJWKSet(jwks));
    const parsed = parseManifest(JSON.parse(new TextDecoder().decode(payload)));
    expect(parsed.ok && parsed.value.version).toBe(8);
  });
});
