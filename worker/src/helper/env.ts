import type { HelperCoordinator, HelperPolicyVars, HelperShard, KeyRing } from '@edgeseg/aggregator';

/**
 * Bindings of the helper Worker (helper/wrangler.toml vars + secrets + Durable Objects).
 * The helper is its own deployment, run by another operator: its own keys, its own
 * storage, its own policy (the HELPER_* vars, README "Helper policy").
 */
/** The policy vars (HELPER_MIN_BATCH, …) come from HelperPolicyVars. */
export interface HelperEnv extends HelperPolicyVars {
  HELPER_COORDINATOR: DurableObjectNamespace<HelperCoordinator>;
  HELPER_SHARD: DurableObjectNamespace<HelperShard>;
  /** The helper's rotated HPKE keys (the secret holds the initial key). */
  KEY_RING: DurableObjectNamespace<KeyRing>;
  /** The helper's private HPKE key (P-256 ECDH JWK, kid = config id). Secret. */
  HPKE_PRIVATE_JWK: string;
  /** Bearer token the leader presents to the internal routes. Secret. */
  LEADER_TOKEN: string;
  /** Bearer token of the helper's own operator (policy, key rotation). Secret. */
  HELPER_ADMIN_TOKEN?: string;
  /** Private ES256 JWK (JSON, with kid) that signs the helper's privacy ledger. Secret. */
  HELPER_SIGNING_JWK?: string;
}

/** Hono context typing of the helper app. */
export interface HelperAppEnv {
  Bindings: HelperEnv;
}

/**
 * The helper's coordinator (one per helper, named `global`).
 *
 * @example
 * const round = await helperCoordinator(c.env).roundFor('r-1');
 */
export function helperCoordinator(env: HelperEnv): DurableObjectStub<HelperCoordinator> {
  return env.HELPER_COORDINATOR.get(env.HELPER_COORDINATOR.idFromName('global'));
}
