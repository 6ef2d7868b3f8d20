/**
 * Key rotation on the real two-aggregator stack (two wrangler dev processes, each with
 * its own keys, key ring and storage): the leader's admin rotates the model-signing key
 * and the leader's HPKE key, the helper's operator rotates the helper's HPKE key with
 * its own token, in the middle of an open round; contributions sealed to the old keys,
 * the new keys, or a mix are all counted exactly once, and devices verify every model.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { MODEL_JWS_TYPE, parseManifest, type HpkeConfig, type ModelManifest, type RoundDescriptor } from '@edgeseg/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCompactJws, type PublicJwk } from '../../client-sdk/src/jws.ts';
import { mintToken } from '../support/keys.ts';
import { closeRoundAndWait, openRound } from '../support/rounds.ts';
import { contributionSealedTo } from '../support/sealed-to-keys.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { expectProblem } from '../support/problem.ts';

let stack: RunningStack;
let admin: string;
let marketer: string;

interface HpkeConfigsAnswer {
  leader: HpkeConfig;
  helper: HpkeConfig;
  keys: { leader: HpkeConfig[]; helper: HpkeConfig[] };
}

beforeAll(async () => {
  stack = await startStack();
  admin = await mintToken(stack.authJwk, { role: 'admin' });
  marketer = await mintToken(stack.authJwk, { role: 'marketer' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;
const jwks = async (): Promise<PublicJwk[]> => (await getJson<{ keys: PublicJwk[] }>(`${stack.baseUrl}/.well-known/jwks.json`)).keys;
const modelJws = async (): Promise<string> => (await fetch(`${stack.baseUrl}/v1/model`)).text();
const kidOf = (jws: string): string => (JSON.parse(Buffer.from(jws.split('.')[0] as string, 'base64url').toString()) as { kid: string }).kid;

/** What a device does with a model: the SDK's ES256 verifier against the served JWKS, then the schema. */
async function deviceVerify(jws: string, keys: readonly PublicJwk[]): Promise<ModelManifest> {
  const parsed = parseManifest(JSON.parse(await verifyCompactJws(jws, keys, MODEL_JWS_TYPE)));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

function rotate(url: string, token: string | null, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(url, { method: 'POST', headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

describe('key rotation on both aggregators', () => {
  it('refuses rotation without the right credential and changes nothing', async () => {
    const before = { jwks: await jwks(), configs: await getJson<HpkeConfigsAnswer>(`${stack.baseUrl}/.well-known/hpke-configs`), helper: await getJson<unknown>(`${stack.helperUrl}/.well-known/hpke-configs`) };
    await expectProblem(await rotate(`${stack.baseUrl}/v1/admin/keys/signing/rotate`, null), 401, 'unauthorized');
    await expectProblem(await rotate(`${stack.baseUrl}/v1/admin/keys/signing/rotate`, marketer), 403, 'forbidden');
    await expectProblem(await rotate(`${stack.baseUrl}/v1/admin/keys/hpke/rotate`, null), 401, 'unauthorized');
    await expectProblem(await rotate(`${stack.baseUrl}/v1/admin/keys/hpke/rotate`, marketer), 403, 'forbidden');
    await expectProblem(await rotate(`${stack.baseUrl}/v1/admin/keys/hpke/rotate`, stack.helperAdminToken), 401, 'unauthorized');
    // The helper is another operator: neither the leader's token nor the leader's admin JWT rotates its key.
    await expectProblem(await rotate(`${stack.helperUrl}/v1/admin/keys/hpke/rotate`, null), 401, 'unauthorized');
    await expectProblem(await rotate(`${stack.helperUrl}/v1/admin/keys/hpke/rotate`, stack.leaderToken), 403, 'forbidden');
    await expectProblem(await rotate(`${stack.helperUrl}/v1/admin/keys/hpke/rotate`, admin), 401, 'unauthorized');
    await expectProblem(await rotate(`${stack.helperUrl}/v1/admin/keys/hpke/rotate`, stack.helperAdminToken, { config_id: 9 }), 422, 'invalid-body');
    expect({ jwks: await jwks(), configs: await getJson<HpkeConfigsAnswer>(`${stack.baseUrl}/.well-known/hpke-configs`), helper: await getJson<unknown>(`${stack.helperUrl}/.well-known/hpke-configs`) }).toEqual(before);
  });

  it('rotates signing and both HPKE keys mid-round: every contribution counts once, devices verify old and new models', async () => {
    const oldJws = await modelJws();
    const oldKid = kidOf(oldJws);
    const oldManifest = await deviceVerify(oldJws, await jwks());

    // Signing: the new key is published at once; the model in force stays signed by the old one until the next model.
    const s = await rotate(`${stack.baseUrl}/v1/admin/keys/signing/rotate`, admin);
    expect(s.status).toBe(201);
    const { kid } = (await s.json()) as { kid: string };
    expect((await jwks()).map((k) => k.kid)).toEqual([kid, oldKid]);
    expect(kidOf(await modelJws())).toBe(oldKid);

    // Short: the helper releases a secure round only after its close time.
    const round: RoundDescriptor = await openRound(stack.baseUrl, admin, { duration_s: 30, min_batch: 8, groups: 1 });
    const oldKeys = { leader: round.hpke.leader, helper: round.hpke.helper as HpkeConfig };
    expect(oldKeys).toEqual(oldManifest.aggregators);

    // HPKE, mid-round: the helper's operator first, then the leader's admin (which also publishes the model pinning both).
    const h = await rotate(`${stack.helperUrl}/v1/admin/keys/hpke/rotate`, stack.helperAdminToken);
    expect(h.status).toBe(201);
    const helperNew = ((await h.json()) as { config: HpkeConfig }).config;
    const l = await rotate(`${stack.baseUrl}/v1/admin/keys/hpke/rotate`, admin, {});
    expect(l.status).toBe(201);
    const leaderNew = ((await l.json()) as { config: HpkeConfig }).config;
    const newKeys = { leader: leaderNew, helper: helperNew };
    expect(newKeys.leader.config_id).not.toBe(oldKeys.leader.config_id);
    expect(newKeys.helper.config_id).not.toBe(oldKeys.helper.config_id);

    const configs = await getJson<HpkeConfigsAnswer>(`${stack.baseUrl}/.well-known/hpke-configs`);
    expect(configs.keys).toEqual({ leader: [newKeys.leader, oldKeys.leader], helper: [newKeys.helper, oldKeys.helper] });

    // The next model pins the new keys and is the first signed by the new signing key; devices verify it, and the old one still.
    const pinnedJws = await modelJws();
    expect(kidOf(pinnedJws)).toBe(kid);
    const keys = await jwks();
    const pinned = await deviceVerify(pinnedJws, keys);
    expect(pinned.version).toBe(oldManifest.version + 1);
    expect(pinned.aggregators).toEqual(newKeys);
    expect((await deviceVerify(oldJws, keys)).version).toBe(oldManifest.version);

    // Contributions to the open round sealed to old, new and mixed keys; each replay refused.
    const combos = [oldKeys, newKeys, { leader: oldKeys.leader, helper: newKeys.helper }, { leader: newKeys.leader, helper: oldKeys.helper }];
    let accepted = 0;
    for (let i = 0; i < 12; i++) {
      const x = Float32Array.from({ length: round.d }, (_, j) => Math.sin(i + j));
      const body = await contributionSealedTo(round, combos[i % combos.length] as typeof oldKeys, x, `rot-${String(i).padStart(4, '0')}-${crypto.randomUUID().slice(0, 8)}`);
      const post = () => fetch(`${stack.baseUrl}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const res = await post();
      expect(res.status).toBe(202);
      accepted++;
      await expectProblem(await post(), 409, 'replayed');
    }

    // Closing: the helper opened every relayed seed with the key its config_id names, both
    // sides agree on the batch, and the trained model is signed with the new key.
    const closed: PublicRound = await closeRoundAndWait(stack.baseUrl, admin, round.round_id, { pollMs: 500 });
    expect(closed.state).toBe('released');
    expect(closed.contributions).toBe(accepted);
    const trainedJws = await modelJws();
    expect(kidOf(trainedJws)).toBe(kid);
    const trained = await deviceVerify(trainedJws, await jwks());
    expect(trained.version).toBe(closed.result?.model_version);
    expect(trained.aggregators).toEqual(newKeys);

    // A round opened now names the new keys.
    const next = await openRound(stack.baseUrl, admin, { duration_s: 600, min_batch: 8, groups: 1 });
    expect(next.hpke).toEqual(newKeys);
  }, 180_000);
});
