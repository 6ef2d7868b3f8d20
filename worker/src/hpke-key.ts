/**
 * This aggregator's HPKE key (a secret: P-256 ECDH private JWK whose kid is the config
 * id) and, on the leader, the helper's public config fetched from the helper itself.
 */
import type { HpkeConfig } from '@edgeseg/shared';
import { hpkeConfigFromJwk, importHpkePrivateKey, type EcJwkFields, type HpkeRecipientKey } from '@edgeseg/shared/secure';
import type { Env } from './env.ts';
import { ProblemError } from './problem.ts';

/** The imported key and the public config it answers to. */
export interface AggregatorHpke {
  config: HpkeConfig;
  privateKey: HpkeRecipientKey;
}

const keys = new Map<string, Promise<AggregatorHpke>>();
let helperConfig: { value: HpkeConfig; until: number } | null = null;
const HELPER_CONFIG_TTL_MS = 5 * 60_000;

/**
 * This aggregator's HPKE key, imported once per isolate.
 *
 * @example
 * const { config, privateKey } = await aggregatorHpke(c.env);
 */
export function aggregatorHpke(env: Env): Promise<AggregatorHpke> {
  const secret = env.HPKE_PRIVATE_JWK;
  if (!secret) return Promise.reject(new ProblemError('misconfigured', 'HPKE_PRIVATE_JWK is not set: run `npm start` once to generate it, or `wrangler secret put HPKE_PRIVATE_JWK`'));
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const jwk = JSON.parse(secret) as EcJwkFields & { kid?: string };
      return { config: hpkeConfigFromJwk(jwk, Number(jwk.kid ?? 0)), privateKey: await importHpkePrivateKey(jwk) };
    })().catch((err: unknown) => {
      keys.delete(secret);
      throw new ProblemError('misconfigured', `HPKE_PRIVATE_JWK is not a usable key: ${err instanceof Error ? err.message : String(err)}`);
    });
    keys.set(secret, key);
  }
  return key;
}

/**
 * Leader: the helper's public HPKE config, from the helper's own `/.well-known/hpke-configs`.
 *
 * @example
 * const helper = await helperHpkeConfig(c.env);
 */
export async function helperHpkeConfig(env: Env): Promise<HpkeConfig> {
  if (helperConfig && helperConfig.until > Date.now()) return helperConfig.value;
  if (!env.HELPER_URL) throw new ProblemError('misconfigured', 'HELPER_URL is not set');
  let res: Response;
  try {
    res = await fetch(`${env.HELPER_URL}/.well-known/hpke-configs`);
  } catch (err) {
    throw new ProblemError('internal', `the helper aggregator is unreachable: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!res.ok) throw new ProblemError('internal', `the helper answered ${res.status} for its HPKE config`);
  const body = (await res.json()) as { helper?: HpkeConfig };
  if (!body.helper) throw new ProblemError('internal', 'the helper published no HPKE config');
  helperConfig = { value: body.helper, until: Date.now() + HELPER_CONFIG_TTL_MS };
  return body.helper;
}
