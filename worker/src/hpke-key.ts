/**
 * An aggregator's HPKE keys (either role: the functions take only the key bindings) and,
 * for the leader, the helper's public configs fetched from the helper itself. The secret
 * (a P-256 ECDH private JWK whose kid is the config id) is the initial key; rotations
 * live in the KeyRing. A share is opened with the key its `config_id` names: the current
 * key, or a retired key its own round names.
 */
import { currentKey, hpkeKeyForShare, keptHpkeKeys, keyRingOf, neededConfigIds, type HpkeKeyRow, type RoundRecord } from '@edgeseg/aggregator';
import type { HpkeConfig } from '@edgeseg/shared';
import { generateHpkeKeyPair, hpkeConfigFromJwk, importHpkePrivateKey, type EcJwkFields, type HpkeRecipientKey } from '@edgeseg/shared/secure';
import { coordinator } from './coordinator.ts';
import type { Env } from './env.ts';
import { ringAgeMs, ringState } from './keys.ts';
import { ProblemError } from './problem.ts';

/** The bindings an aggregator's own HPKE keys need, whichever role it plays. */
export type HpkeKeyEnv = Pick<Env, 'HPKE_PRIVATE_JWK' | 'KEY_RING'>;

/** A round's use of one of this aggregator's keys: its retired key stays published while the round is open. */
export interface RoundKeyUse {
  state: string;
  closes_at: number;
  config_id: number;
}

/** Where an aggregator's open rounds and the keys they name come from (each role keeps its own rounds). */
export type RoundKeyUses = () => Promise<RoundKeyUse[]>;

/** The imported key and the public config it answers to. */
export interface AggregatorHpke {
  config: HpkeConfig;
  privateKey: HpkeRecipientKey;
}

/** Imported private keys, by the JWK text they came from (a secret or a ring row). */
const imported = new Map<string, Promise<HpkeRecipientKey>>();
const HELPER_CONFIG_TTL_MS = 5 * 60_000;
let helperConfigs: { value: HpkeConfig[]; at: number } | null = null;
/** A share naming an id this isolate does not know re-reads the ring, at most this often. */
const RING_REFRESH_MIN_MS = 1000;
/** How long an isolate reuses the list of published configs (it costs a look at every open round). */
const PUBLISHED_TTL_MS = 10_000;
const publishedCaches = new WeakMap<object, { value: HpkeConfig[]; at: number }>(); // per ring binding, like the ring cache

function importOnce(jwkText: string): Promise<HpkeRecipientKey> {
  let key = imported.get(jwkText);
  if (!key) {
    key = importHpkePrivateKey(JSON.parse(jwkText) as EcJwkFields);
    key.catch(() => imported.delete(jwkText));
    imported.set(jwkText, key);
  }
  return key;
}

/** The secret's key as a config (its kid is the config id). */
function genesisConfig(env: HpkeKeyEnv): HpkeConfig {
  const secret = env.HPKE_PRIVATE_JWK;
  if (!secret) throw new ProblemError('misconfigured', 'HPKE_PRIVATE_JWK is not set: run `npm start` once to generate it, or `wrangler secret put HPKE_PRIVATE_JWK`');
  try {
    const jwk = JSON.parse(secret) as EcJwkFields & { kid?: string };
    return hpkeConfigFromJwk(jwk, Number(jwk.kid ?? 0));
  } catch (err) {
    throw new ProblemError('misconfigured', `HPKE_PRIVATE_JWK is not a usable key: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The ring's HPKE rows, or the secret's key alone (current) while the ring was never rotated. */
async function hpkeRows(env: HpkeKeyEnv, fresh = false): Promise<HpkeKeyRow[]> {
  const genesis = genesisConfig(env);
  const { hpke } = await ringState(env, { fresh });
  return hpke.length ? hpke : [{ config_id: genesis.config_id, config: genesis, private_jwk: null, created_at: 0, retired_at: null }];
}

/** The private key of a row: its own, or the secret's for the genesis row. */
async function privateKeyOf(env: HpkeKeyEnv, row: HpkeKeyRow): Promise<HpkeRecipientKey> {
  const text = row.private_jwk ?? env.HPKE_PRIVATE_JWK;
  try {
    return await importOnce(text);
  } catch (err) {
    throw new ProblemError('misconfigured', `HPKE key ${row.config_id} is not usable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * This aggregator's current HPKE key: what new rounds and the next model name.
 *
 * @example
 * const { config, privateKey } = await aggregatorHpke(c.env);
 */
export async function aggregatorHpke(env: HpkeKeyEnv): Promise<AggregatorHpke> {
  const row = currentKey(await hpkeRows(env));
  if (!row) throw new ProblemError('misconfigured', 'the key ring has no current HPKE key');
  return { config: row.config, privateKey: await privateKeyOf(env, row) };
}

/**
 * The key that opens a share sealed to `configId` in a round that names
 * `roundConfigId`: the current key or the round's own retired key. Anything else is a
 * 400 `undecryptable` problem, before any state is touched.
 *
 * @example
 * const key = await shareOpeningKey(c.env, body.leader.config_id, round.hpke.leader.config_id);
 */
export async function shareOpeningKey(env: HpkeKeyEnv, configId: number, roundConfigId: number | null): Promise<HpkeRecipientKey> {
  let row = hpkeKeyForShare(await hpkeRows(env), configId, roundConfigId);
  // Another isolate may have rotated a moment ago: look once more (not more than once a second).
  if (!row && ringAgeMs(env) >= RING_REFRESH_MIN_MS) row = hpkeKeyForShare(await hpkeRows(env, true), configId, roundConfigId);
  if (!row) throw new ProblemError('undecryptable', `no HPKE key ${configId} here for this round: shares are sealed to the round's key or the current one`);
  return privateKeyOf(env, row);
}

/**
 * The HPKE configs this aggregator publishes: the current key first, then each retired
 * key an open round still names (or retired minutes ago). Keys past that are deleted
 * from the ring here, private halves included.
 *
 * @example
 * const [current, ...retired] = await publishedHpkeConfigs(c.env, leaderRoundKeyUses(c.env));
 */
export async function publishedHpkeConfigs(env: HpkeKeyEnv, roundKeyUses: RoundKeyUses): Promise<HpkeConfig[]> {
  const now = Date.now();
  const cached = publishedCaches.get(env.KEY_RING);
  if (cached && now - cached.at < PUBLISHED_TTL_MS) return cached.value;
  const rows = await hpkeRows(env);
  let kept = rows; // the current key alone while nothing was retired
  if (rows.some((r) => r.retired_at !== null)) {
    const needed = [...neededConfigIds(await roundKeyUses(), now)];
    kept = keptHpkeKeys(rows, new Set(needed), now);
    const ring = keyRingOf(env);
    if (ring && kept.length < rows.length) {
      await ring.pruneHpke(needed);
      await ringState(env, { fresh: true });
    }
  }
  const value = kept.map((r) => r.config);
  if (env.KEY_RING) publishedCaches.set(env.KEY_RING, { value, at: now });
  return value;
}

/**
 * Leader: each of its open or closing rounds with the leader key it names.
 *
 * @example
 * const configs = await publishedHpkeConfigs(c.env, leaderRoundKeyUses(c.env));
 */
export function leaderRoundKeyUses(env: Env): RoundKeyUses {
  return () => leaderKeyUses(env);
}

async function leaderKeyUses(env: Env): Promise<RoundKeyUse[]> {
  const stub = coordinator(env);
  const open = (await stub.list()).filter((r) => r.state === 'open' || r.state === 'closing');
  const uses = [];
  for (const r of open) {
    const record = (await stub.get(r.round_id)) as RoundRecord | null;
    const config = record?.descriptor.hpke.leader;
    if (record && config) uses.push({ state: record.state, closes_at: record.descriptor.closes_at, config_id: config.config_id });
  }
  return uses;
}

/**
 * Generates a new HPKE key pair with WebCrypto and makes it this aggregator's current
 * key under a new config id; the retired key keeps opening the shares of rounds that
 * name it. Returns the new public config.
 *
 * @example
 * const { config_id } = await rotateHpkeKey(env);
 */
export async function rotateHpkeKey(env: HpkeKeyEnv): Promise<HpkeConfig> {
  const genesis = genesisConfig(env);
  const ring = keyRingOf(env);
  if (!ring) throw new ProblemError('misconfigured', 'KEY_RING is not bound: add the KeyRing Durable Object to this aggregator’s wrangler config');
  const { privateKeyJwk } = await generateHpkeKeyPair(0); // the ring assigns the real config id
  const row = await ring.rotateHpke(genesis, JSON.stringify(privateKeyJwk));
  await ringState(env, { fresh: true });
  if (env.KEY_RING) publishedCaches.delete(env.KEY_RING);
  helperConfigs = null; // a leader rotating its key also re-reads the helper's on next use
  return row.config;
}

/**
 * Leader: the helper's published HPKE configs (current first), from the helper's own
 * `/.well-known/hpke-configs`, cached for 5 minutes.
 *
 * @example
 * const [current, ...retired] = await helperHpkeConfigs(c.env);
 */
export async function helperHpkeConfigs(env: Env): Promise<HpkeConfig[]> {
  if (helperConfigs && Date.now() - helperConfigs.at < HELPER_CONFIG_TTL_MS) return helperConfigs.value;
  if (!env.HELPER_URL) throw new ProblemError('misconfigured', 'HELPER_URL is not set');
  let res: Response;
  try {
    res = await fetch(`${env.HELPER_URL}/.well-known/hpke-configs`);
  } catch (err) {
    throw new ProblemError('internal', `the helper aggregator is unreachable: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!res.ok) throw new ProblemError('internal', `the helper answered ${res.status} for its HPKE config`);
  const body = (await res.json()) as { helper?: HpkeConfig; keys?: { helper?: HpkeConfig[] } };
  if (!body.helper) throw new ProblemError('internal', 'the helper published no HPKE config');
  const value = [body.helper, ...(body.keys?.helper ?? []).filter((c) => c.config_id !== body.helper?.config_id)];
  helperConfigs = { value, at: Date.now() };
  return value;
}

/**
 * Leader: the helper's current public HPKE config.
 *
 * @example
 * const helper = await helperHpkeConfig(c.env);
 */
export async function helperHpkeConfig(env: Env): Promise<HpkeConfig> {
  return (await helperHpkeConfigs(env))[0] as HpkeConfig;
}

/**
 * Leader: refuses (400 `undecryptable`, no state touched) a helper share the helper
 * would not open: it must be sealed to the round's helper key or to the helper's current
 * key (re-read from the helper once when it looks new, at most once a second).
 *
 * @example
 * await checkHelperConfigId(c.env, body.helper.config_id, round.hpke.helper?.config_id ?? null);
 */
export async function checkHelperConfigId(env: Env, configId: number, roundConfigId: number | null): Promise<void> {
  if (configId === roundConfigId) return;
  if ((await helperHpkeConfig(env)).config_id === configId) return;
  if (helperConfigs && Date.now() - helperConfigs.at >= RING_REFRESH_MIN_MS) {
    helperConfigs = null;
    if ((await helperHpkeConfig(env)).config_id === configId) return;
  }
  throw new ProblemError('undecryptable', `the helper share is sealed to HPKE config ${configId}, neither this round's helper key nor the helper's current one`);
}
