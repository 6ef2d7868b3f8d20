import type { ModelRegistry, SegmentTally } from '@edgeseg/aggregator';

/** Bindings of the edgeseg Worker (wrangler.toml vars + secrets + Durable Objects). */
export interface Env {
  SEGMENT_TALLY: DurableObjectNamespace<SegmentTally>;
  MODEL_REGISTRY: DurableObjectNamespace<ModelRegistry>;
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
}

/** Hono context typing for this app. */
export interface AppEnv {
  Bindings: Env;
  Variables: { role: string };
}
