import type { KeyRing, ModelRegistry, RoundCoordinator, RoundShard, SegmentTally } from '@edgeseg/aggregator';

/**
 * Bindings of the leader Worker (wrangler.toml vars + secrets + Durable Objects). The
 * helper is another Worker with its own bindings (worker/src/helper/env.ts).
 */
export interface Env {
  SEGMENT_TALLY: DurableObjectNamespace<SegmentTally>;
  MODEL_REGISTRY: DurableObjectNamespace<ModelRegistry>;
  ROUND_SHARD: DurableObjectNamespace<RoundShard>;
  ROUND_COORDINATOR: DurableObjectNamespace<RoundCoordinator>;
  /** This aggregator's rotated model-signing and HPKE keys (the secrets hold the initial ones). */
  KEY_RING: DurableObjectNamespace<KeyRing>;
  /** This aggregator's private HPKE key (P-256 ECDH JWK, kid = config id). Secret. */
  HPKE_PRIVATE_JWK: string;
  /** Bearer token the leader presents to the helper's internal routes. Secret on both. */
  LEADER_TOKEN: string;
  /** Base URL of the helper aggregator. */
  HELPER_URL?: string;
  /** The static pages (worker/public); the Worker serves the pages that read from the helper through it (page-csp.ts). */
  ASSETS?: Fetcher;
  /** Minimum contributions per released bucket of the counts rounds the leader plans itself (default 100; the helper's policy may ask more). */
  MIN_BATCH?: string;
  /** ε each weekly counts round charges (default 0.4: at most five close in 30 days, so 2 ε per 30 days, the helper's default budget). */
  COUNTS_EPSILON?: string;
  /** RoundShard DOs per round (default 8). */
  ROUND_SHARDS?: string;
  /** `secure` (default while both aggregators' keys are pinned): devices count segments in secret-shared counts rounds on both aggregators; `grr`: by memoised randomized reports (single operator). */
  MEASUREMENT?: string;
  /** The bootstrap model's GRR ε, "report,lifecycle,impression" (default 0.2,0.1,0.1: five weeks of fresh answers fit 2 ε per 30 days). */
  GRR_EPSILON?: string;
  /** Local development only (`npm start`): accept reports for this many closed, unreleased weeks, so simulated traffic fills the dashboard's history. Never set in production. */
  DEV_BACKFILL_WEEKS?: string;
  /**
   * Local development and tests only (`npm start`, the test stacks): `true` lets requests
   * from loopback or with no `CF-Connecting-IP` skip the rate limits. Never set in
   * production, where such a request is limited under one shared key instead.
   */
  DEV_UNLIMITED_LOCAL?: string;
  /** Minimum debiased count a segment needs before it is published (default 50). */
  K_THRESHOLD: string;
  /** `iss` of marketer/admin tokens. */
  TOKEN_ISSUER: string;
  /** `aud` of marketer/admin tokens. */
  TOKEN_AUDIENCE: string;
  /** Private ES256 JWK (JSON) that signs models; its public half is served in the JWKS. Secret. */
  MODEL_SIGNING_JWK: string;
  /** Private ES256 JWK (JSON) that signs API tokens; only its public half verifies here. Secret. */
  AUTH_SIGNING_JWK: string;
  /** Leader: requests per client address on device POST routes (see rate-limit.ts). */
  DEVICE_RATE_LIMIT?: RateLimit;
  /** Leader: requests per token subject on marketer/admin routes (see rate-limit.ts). */
  API_RATE_LIMIT?: RateLimit;
}

/** Hono context typing for this app. */
export interface AppEnv {
  Bindings: Env;
  Variables: { role: string; subject: string };
}
