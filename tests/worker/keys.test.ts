// Key rotation on workerd: the leader's routes run in the real Worker; the helper is the
// helper Worker's own app (worker/src/helper/) with its own HPKE key, its own admin token,
// its own Durable Objects (HelperCoordinator, HelperShard, and a key ring whose names are
// prefixed `helper:`), reached through `fetch` exactly as the leader reaches it in
// production. It runs the lenient test policy, so this test's small rounds are accepted.
import { HPKE_RETIRED_MIN_MS, SIGNING_RETENTION_MS } from '../../aggregator/src/key-rotation.ts';
import { flattenCentroids, MODEL_JWS_TYPE, parseManifest, type HpkeConfig, type ModelManifest, type RoundDescriptor, type SecureContribution } from '@edgeseg/shared';
import { bytesToBase64url, CONTRIBUTION_INFO, contributionAad, encodeKmeansContribution, generateHpkeKeyPair, measurementOf, reportNonce, roundDigest, sealShare, shardReport, vdafFor } from '@edgeseg/shared/secure';
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyCompactJws, type PublicJwk } from '../../client-sdk/src/jws.ts';
import type { Env } from '../../worker/src/env.ts';
import { createHelperApp } from '../../worker/src/helper/app.ts';
import type { HelperEnv } from '../../worker/src/helper/env.ts';
import { LENIENT_TEST_HELPER_POLICY } from '../support/helper-policy.ts';
import { generateHpkeJwk, generateSigningJwk, mintToken } from '../support/keys.ts';
import { expectProblem } from '../support/problem.ts';

const BASE = 'http://edgeseg.test';
const worker = exports.default;
const HELPER_ADMIN_TOKEN = 'helper-admin-test-token';
const helperApp = createHelperApp();
let helperEnv: HelperEnv;
let admin: string;
let marketer: string;

/** A Durable Object namespace whose instance names carry a prefix: the helper's own storage in this one isolate. */
function prefixed<N extends { idFromName(name: string): DurableObjectId; get(id: DurableObjectId): unknown }>(ns: N, prefix: string): N {
  return { idFromName: (name: string) => ns.idFromName(prefix + name), get: (id: DurableObjectId) => ns.get(id) } as unknown as N;
}

function ring(e: Pick<Env, 'KEY_RING'> = env) {
  return e.KEY_RING.get(e.KEY_RING.idFromName('global'));
}

function post(path: string, init: { token?: string | null; body?: string; contentType?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  return worker.fetch(new Request(`${BASE}${path}`, { method: 'POST', headers, ...(init.body !== undefined ? { body: init.body } : {}) }));
}

function postHelper(path: string, token: string | null) {
  return helperApp.fetch(new Request(`${env.HELPER_URL}${path}`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} }), helperEnv);
}

async function jwks(): Promise<PublicJwk[]> {
  return ((await (await worker.fetch(new Request(`${BASE}/.well-known/jwks.json`))).json()) as { keys: PublicJwk[] }).keys;
}

async function model(): Promise<{ jws: string; manifest: ModelManifest }> {
  const jws = new TextDecoder().decode(await (await worker.fetch(new Request(`${BASE}/v1/model`))).arrayBuffer());
  const parsed = parseManifest(JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(jws.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0)))));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return { jws, manifest: parsed.value };
}

/** The device's own check: the SDK's ES256 verifier, then the manifest schema. */
async function deviceVerify(jws: string, keys: readonly PublicJwk[]): Promise<ModelManifest> {
  const parsed = parseManifest(JSON.parse(await verifyCompactJws(jws, keys, MODEL_JWS_TYPE)));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

function kidOf(jws: string): string {
  return (JSON.parse(atob(jws.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/'))) as { kid: string }).kid;
}

beforeAll(async () => {
  admin = await mintToken(env.AUTH_SIGNING_JWK, { role: 'admin' });
  marketer = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
  helperEnv = {
    ...LENIENT_TEST_HELPER_POLICY,
    HPKE_PRIVATE_JWK: await generateHpkeJwk(2),
    LEADER_TOKEN: env.LEADER_TOKEN,
    HELPER_ADMIN_TOKEN,
    HELPER_SIGNING_JWK: await generateSigningJwk('helper-ledger-test'),
    KEY_RING: prefixed(env.KEY_RING, 'helper:'),
    HELPER_COORDINATOR: env.HELPER_COORDINATOR,
    HELPER_SHARD: env.HELPER_SHARD,
  };
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    return req.url.startsWith(env.HELPER_URL as string) ? helperApp.fetch(req, helperEnv) : realFetch(req);
  });
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(() => {
  vi.restoreAllMocks();
});

describe('refused rotations change nothing', () => {
  it('answers 401/403/4xx problem+json for missing, forged, expired or wrong-role tokens and bad bodies, and leaves both rings as they were', async () => {
    const before = { leader: await ring().state(), helper: await ring(helperEnv).state(), jwks: await jwks() };
    const forged = await mintToken(await generateSigningJwk('forged'), { role: 'admin' });
    const expired = await mintToken(env.AUTH_SIGNING_JWK, { role: 'admin', expSecondsFromNow: -60 });
    for (const path of ['/v1/admin/keys/signing/rotate', '/v1/admin/keys/hpke/rotate']) {
      await expectProblem(await post(path), 401, 'unauthorized');
      await expectProblem(await post(path, { token: forged }), 401, 'unauthorized');
      await expectProblem(await post(path, { token: expired }), 401, 'unauthorized');
      await expectProblem(await post(path, { token: marketer }), 403, 'forbidden');
      await expectProblem(await post(path, { token: admin, body: '{"surprise":1}' }), 422, 'invalid-body');
      await expectProblem(await post(path, { token: admin, body: '[]' }), 422, 'invalid-body');
      await expectProblem(await post(path, { token: admin, body: '{"republish":' }), 400, 'invalid-json');
      await expectProblem(await post(path, { token: admin, body: JSON.stringify({ republish: true, pad: 'x'.repeat(2000) }) }), 413, 'body-too-large');
      await expectProblem(await post(path, { token: admin, body: '{}', contentType: 'text/plain' }), 415, 'unsupported-media-type');
    }
    await expectProblem(await post('/v1/admin/keys/signing/rotate', { token: admin, body: '{"republish":"yes"}' }), 422, 'invalid-body');
    // The helper's route: only the helper operator's own token, never the leader's credentials.
    await expectProblem(await postHelper('/v1/admin/keys/hpke/rotate', null), 401, 'unauthorized');
    await expectProblem(await postHelper('/v1/admin/keys/hpke/rotate', env.LEADER_TOKEN), 403, 'forbidden');
    await expectProblem(await postHelper('/v1/admin/keys/hpke/rotate', admin), 401, 'unauthorized');
    await expectProblem(await postHelper('/v1/admin/keys/hpke/rotate', `${HELPER_ADMIN_TOKEN}x`), 401, 'unauthorized');
    // The leader has no helper-token route, and the helper no signing route.
    await expectProblem(await post('/v1/admin/keys/hpke/rotate', { token: HELPER_ADMIN_TOKEN }), 401, 'unauthorized');
    await expectProblem(await postHelper('/v1/admin/keys/signing/rotate', HELPER_ADMIN_TOKEN), 404, 'not-found');
    expect({ leader: await ring().state(), helper: await ring(helperEnv).state(), jwks: await jwks() }).toEqual(before);
    expect(before.leader).toEqual({ signing: [], hpke: [] });
  });
});

describe('model-signing rotation', () => {
  it('publishes both keys, signs the next model with the new one (devices verify it), and the old model still verifies', async () => {
    const old = await model();
    const oldKid = kidOf(old.jws);
    expect((await jwks()).map((k) => k.kid)).toEqual([oldKid]);

    const res = await post('/v1/admin/keys/signing/rotate', { token: admin, body: '{"republish":true}' });
    expect(res.status).toBe(201);
    const rotated = (await res.json()) as { kid: string; jwks: string[]; model_version: number; model_kid: string };
    expect(rotated.kid).not.toBe(oldKid);
    expect(rotated.jwks).toEqual([rotated.kid, oldKid]);
    expect(rotated.model_version).toBe(old.manifest.version + 1);

    const keys = await jwks();
    expect(keys.map((k) => k.kid)).toEqual([rotated.kid, oldKid]);
    for (const k of keys) expect(k).not.toHaveProperty('d');
    const fresh = await model();
    expect(kidOf(fresh.jws)).toBe(rotated.kid);
    const now = Date.now();
    const verifiedNew = await deviceVerify(fresh.jws, keys);
    expect(verifiedNew.version).toBe(old.manifest.version + 1);
    expect(verifiedNew.centroids).toEqual(old.manifest.centroids);
    expect((await deviceVerify(old.jws, keys)).version).toBe(old.manifest.version);
    // A model signed with a key the JWKS does not hold is refused (the verifier really checks).
    await expect(deviceVerify(fresh.jws, keys.slice(1))).rejects.toThrow(/no key/);

    // The ring forgot the retired key's private half at once.
    const { signing } = await ring().state();
    expect(signing.filter((r) => r.private_jwk !== null).map((r) => r.kid)).toEqual([rotated.kid]);

    // After the retention the old key leaves the JWKS; the new model still verifies, the old one no longer does.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now + SIGNING_RETENTION_MS + 60_000);
    const later = await jwks();
    expect(later.map((k) => k.kid)).toEqual([rotated.kid]);
    expect((await deviceVerify(fresh.jws, later)).version).toBe(old.manifest.version + 1);
    await expect(deviceVerify(old.jws, later)).rejects.toThrow(/no key/);
  });
});

/**
 * A device's secure k-means report (slice 0) sealed to given aggregator keys: a device
 * may seal to a key the round does not name (the aggregator's current key after a
 * rotation), but its aad always binds the digest of the round as it was shown.
 */
async function contributionSealedTo(round: RoundDescriptor, keys: { leader: HpkeConfig; helper: HpkeConfig }, x: Float32Array, id: string): Promise<SecureContribution> {
  const { vector } = encodeKmeansContribution(x, flattenCentroids(round.slices[0] ?? []), round.encoding);
  const report = await shardReport(vdafFor(round.kind, round.k, round.d), measurementOf(round.kind, vector), await reportNonce(round.round_id, id));
  const binding = { round_id: round.round_id, id, slice: 0, public_share: bytesToBase64url(report.publicShare) };
  const digest = await roundDigest(round);
  return {
    ...binding,
    leader: await sealShare(keys.leader, report.leader, CONTRIBUTION_INFO, contributionAad(binding, 'leader', digest)),
    helper: await sealShare(keys.helper, report.helper, CONTRIBUTION_INFO, contributionAad(binding, 'helper', digest)),
  };
}

describe('HPKE rotation mid-round', () => {
  let round: RoundDescriptor;
  let oldKeys: { leader: HpkeConfig; helper: HpkeConfig };
  let newKeys: { leader: HpkeConfig; helper: HpkeConfig };
  const features = () => Float32Array.from({ length: round.d }, (_, j) => Math.sin(j + 1));
  const newId = () => `k-${crypto.randomUUID().replace(/-/g, '')}`;

  async function contribute(keys: { leader: HpkeConfig; helper: HpkeConfig }, id = newId()) {
    const body = await contributionSealedTo(round, keys, features(), id);
    const res = await worker.fetch(new Request(`${BASE}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    return { res, body };
  }

  /** Reports the leader's shards hold for the round (pending or verified), or, with `helper`, those the helper verified. */
  async function counted(side: 'leader' | 'helper' = 'leader'): Promise<number> {
    let n = 0;
    for (let i = 0; i < 8; i++) {
      if (side === 'helper') n += await env.HELPER_SHARD.get(env.HELPER_SHARD.idFromName(`${round.round_id}:${i}`)).storedShares();
      else {
        const stored = await env.ROUND_SHARD.get(env.ROUND_SHARD.idFromName(`${round.round_id}:${i}`)).stored();
        n += stored.shares + stored.relays;
      }
    }
    return n;
  }

  it('opens shares sealed to either key exactly once, refuses unknown config ids with no state change, and names the new keys from then on', async () => {
    const opened = await post('/v1/admin/rounds', { token: admin, body: JSON.stringify({ duration_s: 3600, min_batch: 2, groups: 1 }) });
    expect(opened.status).toBe(201);
    const openedText = await opened.text();
    round = (JSON.parse(openedText) as { round: RoundDescriptor }).round;
    oldKeys = { leader: round.hpke.leader, helper: round.hpke.helper as HpkeConfig };

    // The round's verify key is the two aggregators' secret: both keep the same one, and no public answer shows it.
    const verifyKey = (await env.ROUND_COORDINATOR.get(env.ROUND_COORDINATOR.idFromName('global')).get(round.round_id))?.verify_key as string;
    expect(verifyKey).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await env.HELPER_COORDINATOR.get(env.HELPER_COORDINATOR.idFromName('global')).roundFor(round.round_id))?.verify_key).toBe(verifyKey);
    const answers = [openedText];
    for (const path of ['/v1/rounds', '/v1/rounds/current', '/v1/privacy-ledger']) answers.push(await (await worker.fetch(new Request(`${BASE}${path}`))).text());
    for (const path of ['/v1/privacy-ledger', '/v1/policy']) {
      const res = await helperApp.fetch(new Request(`${env.HELPER_URL}${path}`), helperEnv);
      const text = new TextDecoder().decode(await res.arrayBuffer());
      // The helper's ledger is a compact JWS: read its payload, where a key would be.
      const parts = text.split('.');
      answers.push(parts.length === 3 ? atob((parts[1] as string).replace(/-/g, '+').replace(/_/g, '/')) : text);
    }
    expect(answers[2]).toContain(round.round_id);
    for (const text of answers) expect(text).not.toContain(verifyKey);

    // The helper's operator rotates the helper's key, then the leader's admin the leader's.
    const h = await postHelper('/v1/admin/keys/hpke/rotate', HELPER_ADMIN_TOKEN);
    expect(h.status).toBe(201);
    const helperNew = ((await h.json()) as { config: HpkeConfig }).config;
    const l = await post('/v1/admin/keys/hpke/rotate', { token: admin });
    expect(l.status).toBe(201);
    const leaderRotation = (await l.json()) as { config: HpkeConfig; published: HpkeConfig[]; model_version: number };
    newKeys = { leader: leaderRotation.config, helper: helperNew };
    expect(newKeys.leader.config_id).not.toBe(oldKeys.leader.config_id);
    expect(newKeys.helper.config_id).not.toBe(oldKeys.helper.config_id);
    expect(newKeys.leader.public_key).not.toBe(oldKeys.leader.public_key);

    // Current key first, then the retired one the open round still names.
    const configs = (await (await worker.fetch(new Request(`${BASE}/.well-known/hpke-configs`))).json()) as { leader: HpkeConfig; helper: HpkeConfig; keys: { leader: HpkeConfig[]; helper: HpkeConfig[] } };
    expect(configs.leader).toEqual(newKeys.leader);
    expect(configs.helper).toEqual(newKeys.helper);
    expect(configs.keys.leader).toEqual([newKeys.leader, oldKeys.leader]);
    expect(configs.keys.helper).toEqual([newKeys.helper, oldKeys.helper]);

    // The next model pins the new keys.
    const pinned = await model();
    expect(pinned.manifest.version).toBe(leaderRotation.model_version);
    expect(pinned.manifest.aggregators).toEqual(newKeys);

    // Shares sealed to the round's (retired) keys, to the new keys, and mixed: each counted once.
    const ids: string[] = [];
    for (const keys of [oldKeys, newKeys, { leader: oldKeys.leader, helper: newKeys.helper }, { leader: newKeys.leader, helper: oldKeys.helper }]) {
      const { res, body } = await contribute(keys);
      expect(res.status).toBe(202);
      ids.push(body.id);
    }
    const { res: replay } = await contribute(newKeys, ids[1]);
    await expectProblem(replay, 409, 'replayed');
    expect(await counted()).toBe(4);

    // Unknown config ids, leader side or helper side: 400 problem+json, nothing stored.
    const stranger = await generateHpkeKeyPair(77);
    const { res: unknownLeader } = await contribute({ leader: stranger.config, helper: newKeys.helper });
    await expectProblem(unknownLeader, 400, 'undecryptable');
    const { res: unknownHelper } = await contribute({ leader: newKeys.leader, helper: { ...stranger.config, config_id: 99 } });
    await expectProblem(unknownHelper, 400, 'undecryptable');
    // A known id with another key's bytes does not open either.
    const { res: wrongBytes } = await contribute({ leader: { ...stranger.config, config_id: newKeys.leader.config_id }, helper: newKeys.helper });
    await expectProblem(wrongBytes, 400, 'undecryptable');
    expect(await counted()).toBe(4);

    // The leader relays the still-sealed helper input shares; the helper opens each with the key its config_id names and verifies it.
    for (let i = 0; i < 100 && (await counted('helper')) < 4; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await counted('helper')).toBe(4);

    // A round opened after the rotation names the new keys, and a retired key of another round does not open there.
    const second = await post('/v1/admin/rounds', { token: admin, body: JSON.stringify({ duration_s: 7200, min_batch: 2, groups: 1 }) });
    expect(second.status).toBe(201);
    const next = ((await second.json()) as { round: RoundDescriptor }).round;
    expect(next.hpke).toEqual(newKeys);
    const body = await contributionSealedTo(next, { leader: oldKeys.leader, helper: newKeys.helper }, Float32Array.from({ length: next.d }, (_, j) => Math.cos(j)), newId());
    const res = await worker.fetch(new Request(`${BASE}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    await expectProblem(res, 400, 'undecryptable');
  });
});

describe('KeyRing Durable Object', () => {
  it('gives concurrent HPKE rotations distinct config ids, and deletes retired private keys once no round names them', async () => {
    const stub = env.KEY_RING.get(env.KEY_RING.idFromName('ring-under-test'));
    const genesis = (await generateHpkeKeyPair(1)).config;
    const fresh = async () => JSON.stringify((await generateHpkeKeyPair(0)).privateKeyJwk);
    const jwks = await Promise.all(Array.from({ length: 5 }, fresh));
    const rows = await Promise.all(jwks.map((jwk) => stub.rotateHpke(genesis, jwk)));
    expect(new Set(rows.map((r) => r.config_id)).size).toBe(5);
    expect(rows.map((r) => r.config_id)).not.toContain(1);
    const { hpke } = await stub.state();
    expect(hpke).toHaveLength(6); // the genesis key (held in the secret) and five rotated keys
    expect(hpke.filter((r) => r.retired_at === null)).toHaveLength(1);
    expect(hpke.find((r) => r.config_id === 1)?.private_jwk).toBeNull();

    expect(await stub.pruneHpke([])).toEqual([]); // all retired minutes ago: kept
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + HPKE_RETIRED_MIN_MS + 1000);
    const current = hpke.find((r) => r.retired_at === null)?.config_id as number;
    const needed = (rows.map((r) => r.config_id).find((id) => id !== current)) as number;
    const gone = await stub.pruneHpke([needed]);
    expect(gone.sort((a, b) => a - b)).toEqual(hpke.map((r) => r.config_id).filter((id) => id !== current && id !== needed).sort((a, b) => a - b));
    expect((await stub.state()).hpke.map((r) => r.config_id).sort((a, b) => a - b)).toEqual([current, needed].sort((a, b) => a - b));
  });
});
