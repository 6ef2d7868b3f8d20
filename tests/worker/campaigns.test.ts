import { parseManifest, type Campaign, type ModelManifest } from '@edgeseg/shared';
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { compactVerify, createLocalJWKSet } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningJwk, mintToken } from '../support/keys.ts';
import { expectProblem } from '../support/problem.ts';

const BASE = 'http://edgeseg.test';
const worker = exports.default;
let marketer: string;
let admin: string;

const drama: Campaign = { id: 'drama-week', segment: 0, kind: 'message', title: 'A new drama every evening', body: 'Five premieres this week.' };
const comedy: Campaign = { id: 'comedy-row', segment: 1, kind: 'content_row', title: 'Quick laughs', items: ['tt0118715', 'tt0107048'] };

/** The model devices would fetch now, verified against the published JWKS as a device does. */
async function fetchVerifiedModel(): Promise<ModelManifest> {
  const res = await worker.fetch(new Request(`${BASE}/v1/model`));
  expect(res.status).toBe(200);
  const jwks = (await (await worker.fetch(new Request(`${BASE}/.well-known/jwks.json`))).json()) as { keys: [] };
  const { payload, protectedHeader } = await compactVerify(new Uint8Array(await res.arrayBuffer()), createLocalJWKSet(jwks));
  expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'edgeseg-model+json' });
  const parsed = parseManifest(JSON.parse(new TextDecoder().decode(payload)));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

function send(method: string, path: string, init: { token?: string | null; body?: unknown; raw?: string; contentType?: string } = {}) {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? marketer : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  const hasBody = init.body !== undefined || init.raw !== undefined;
  if (hasBody) headers['content-type'] = init.contentType ?? 'application/json';
  return worker.fetch(new Request(`${BASE}${path}`, { method, headers, ...(hasBody ? { body: init.raw ?? JSON.stringify(init.body) } : {}) }));
}

async function listCampaigns(): Promise<{ model_version: number; campaigns: Campaign[] }> {
  const res = await send('GET', '/v1/campaigns');
  expect(res.status).toBe(200);
  return (await res.json()) as { model_version: number; campaigns: Campaign[] };
}

beforeAll(async () => {
  marketer = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
  admin = await mintToken(env.AUTH_SIGNING_JWK, { role: 'admin' });
});

describe('campaigns ride in the signed model', () => {
  it('create and delete each publish the next model, whose JWS verifies and carries the campaigns; the centroids stay', async () => {
    const before = await fetchVerifiedModel();
    expect((await listCampaigns()).campaigns).toEqual(before.campaigns ?? []);

    const created = await send('POST', '/v1/campaigns', { body: drama });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ model_version: before.version + 1, campaigns: [...(before.campaigns ?? []), drama] });
    const second = await send('POST', '/v1/campaigns', { body: comedy, token: admin });
    expect(second.status).toBe(201);

    const after = await fetchVerifiedModel();
    expect(after.version).toBe(before.version + 2);
    expect(after.campaigns).toEqual([...(before.campaigns ?? []), drama, comedy]);
    const { version: _v, campaigns: _c, issued_at: _i, not_before: _n, ...kept } = after;
    const { version: _v0, campaigns: _c0, issued_at: _i0, not_before: _n0, ...keptBefore } = before;
    expect(kept).toEqual(keptBefore); // same centroids, labels, scaling, ε, keys
    expect(await listCampaigns()).toEqual({ model_version: after.version, campaigns: after.campaigns });

    const deleted = await send('DELETE', `/v1/campaigns/${drama.id}`);
    expect(deleted.status).toBe(200);
    const afterDelete = await fetchVerifiedModel();
    expect(afterDelete.version).toBe(after.version + 1);
    expect(afterDelete.campaigns).toEqual([...(before.campaigns ?? []), comedy]);
    expect(afterDelete.centroids).toEqual(before.centroids);
  });
});

describe('refusals are problem+json and change no state', () => {
  const oversize = { ...drama, id: 'big', body: 'x'.repeat(9000) };
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['malformed JSON', () => send('POST', '/v1/campaigns', { raw: '{"id": "x",' }), 400, 'invalid-json'],
    ['a non-JSON media type', () => send('POST', '/v1/campaigns', { raw: 'id=x', contentType: 'text/plain' }), 415, 'unsupported-media-type'],
    ['a wrong type', () => send('POST', '/v1/campaigns', { body: { ...drama, id: 'typed', segment: '0' } }), 422, 'invalid-body'],
    ['a segment the model does not have', () => send('POST', '/v1/campaigns', { body: { ...drama, id: 'nowhere', segment: 64 } }), 422, 'invalid-body'],
    ['an over-long title', () => send('POST', '/v1/campaigns', { body: { ...drama, id: 'long', title: 'x'.repeat(81) } }), 422, 'invalid-body'],
    ['an unknown field', () => send('POST', '/v1/campaigns', { body: { ...drama, id: 'extra', user_ids: ['u1'] } }), 422, 'invalid-body'],
    ['an oversize body', () => send('POST', '/v1/campaigns', { body: oversize }), 413, 'body-too-large'],
    ['a missing token', () => send('POST', '/v1/campaigns', { body: { ...drama, id: 'anon' }, token: null }), 401, 'unauthorized'],
    ['a missing token on delete', () => send('DELETE', '/v1/campaigns/comedy-row', { token: null }), 401, 'unauthorized'],
    ['an unknown campaign id on delete', () => send('DELETE', '/v1/campaigns/never-made'), 404, 'not-found'],
  ];
  for (const [name, request, status, type] of cases) {
    it(`refuses ${name} (${status} ${type})`, async () => {
      const before = await listCampaigns();
      await expectProblem(await request(), status, type);
      expect(await listCampaigns()).toEqual(before);
    });
  }

  it('refuses a duplicate id with 409 and keeps the first', async () => {
    const first = await send('POST', '/v1/campaigns', { body: { ...drama, id: 'once' } });
    expect(first.status).toBe(201);
    const before = await listCampaigns();
    await expectProblem(await send('POST', '/v1/campaigns', { body: { ...drama, id: 'once', title: 'Other' } }), 409, 'campaign-exists');
    expect(await listCampaigns()).toEqual(before);
  });

  it('refuses forged, expired, wrong-audience and wrong-role tokens', async () => {
    const forged = await mintToken(await generateSigningJwk('attacker'), { role: 'admin' });
    const expired = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer', expSecondsFromNow: -60 });
    const otherAudience = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer', aud: 'another-api' });
    const viewer = await mintToken(env.AUTH_SIGNING_JWK, { role: 'viewer' });
    const before = await listCampaigns();
    for (const [token, status, type] of [[forged, 401, 'unauthorized'], [expired, 401, 'unauthorized'], [otherAudience, 401, 'unauthorized'], [viewer, 403, 'forbidden']] as const) {
      await expectProblem(await send('POST', '/v1/campaigns', { body: { ...drama, id: 'sneaky' }, token }), status, type);
      await expectProblem(await send('GET', '/v1/campaigns', { token }), status, type);
      await expectProblem(await send('DELETE', `/v1/campaigns/${before.campaigns[0]?.id ?? 'x'}`, { token }), status, type);
    }
    expect(await listCampaigns()).toEqual(before);
    expect((await fetchVerifiedModel()).version).toBe(before.model_version);
  });
});
