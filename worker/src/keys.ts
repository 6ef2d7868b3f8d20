/**
 * Signing keys. The secrets (`.dev.vars` locally, `wrangler secret put` in production)
 * hold the initial keys as private JWKs, imported once per isolate; model-signing keys
 * rotate through the aggregator's KeyRing (see aggregator/src/key-rotation.ts for the
 * retention rule), API-token keys do not.
 */
import { importSigningKey, keyRingOf, publishedSigningKeys, type RingState, type SigningKey } from '@edgeseg/aggregator';
import type { JWK } from 'jose';
import type { Env } from './env.ts';
import { ProblemError } from './problem.ts';

export type { SigningKey };

const cache = new Map<string, Promise<SigningKey>>();

/**
 * Imports (once per isolate) the key held in a secret binding; a missing or malformed
 * secret is a 500 problem that says how to fix it.
 *
 * @example
 * const key = await signingKey(c.env.AUTH_SIGNING_JWK, 'AUTH_SIGNING_JWK');
 */
export function signingKey(secret: string | undefined, name: string): Promise<SigningKey> {
  if (!secret) return Promise.reject(new ProblemError('misconfigured', `${name} is not set: run \`npm start\` once to generate .dev.vars, or \`wrangler secret put ${name}\``));
  let key = cache.get(secret);
  if (!key) {
    key = importSigningKey(secret).catch((err: unknown) => {
      cache.delete(secret);
      throw new ProblemError('misconfigured', `${name} is not a usable key: ${err instanceof Error ? err.message : String(err)}`);
    });
    cache.set(secret, key);
  }
  return key;
}

/** How long an isolate trusts its copy of the ring (rotation refreshes its own isolate at once). */
const RING_TTL_MS = 10_000;
/** Per ring binding, so that an isolate serving one role (as in production) or tests mixing both never share a copy. */
const ringCaches = new WeakMap<object, { state: Promise<RingState>; at: number }>();

/**
 * This aggregator's key ring rows, cached per isolate for {@link RING_TTL_MS};
 * `fresh` reads the Durable Object now (and refreshes the cache).
 *
 * @example
 * const { hpke } = await ringState(env, { fresh: true });
 */
export function ringState(env: Pick<Env, 'KEY_RING'>, opts: { fresh?: boolean } = {}): Promise<RingState> {
  const now = Date.now();
  const ring = keyRingOf(env);
  if (!ring) return Promise.resolve({ signing: [], hpke: [] });
  const cached = ringCaches.get(env.KEY_RING);
  if (!opts.fresh && cached && now - cached.at < RING_TTL_MS) return cached.state;
  const entry = { state: ring.state(), at: now };
  ringCaches.set(env.KEY_RING, entry);
  entry.state.catch(() => {
    if (ringCaches.get(env.KEY_RING) === entry) ringCaches.delete(env.KEY_RING);
  });
  return entry.state;
}

/**
 * Age of this isolate's copy of the ring, in ms (Infinity when it has none).
 *
 * @example
 * if (ringAgeMs(env) > 1000) await ringState(env, { fresh: true });
 */
export function ringAgeMs(env: Pick<Env, 'KEY_RING'>): number {
  const cached = env.KEY_RING ? ringCaches.get(env.KEY_RING) : undefined;
  return cached ? Date.now() - cached.at : Infinity;
}

/**
 * The public model-signing keys devices verify with: the current key first, then each
 * retired key until its retention ends.
 *
 * @example
 * return c.json(await publishedJwks(c.env));
 */
export async function publishedJwks(env: Env): Promise<{ keys: JWK[] }> {
  const genesis = await signingKey(env.MODEL_SIGNING_JWK, 'MODEL_SIGNING_JWK');
  const { signing } = await ringState(env);
  if (signing.length === 0) return { keys: [genesis.publicJwk] };
  return { keys: publishedSigningKeys(signing, Date.now()).map((r) => JSON.parse(r.public_jwk) as JWK) };
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Generates a new ES256 key pair with WebCrypto and makes it the model-signing key;
 * the previous key stays published (see {@link publishedJwks}). Returns the new kid.
 *
 * @example
 * const { kid } = await rotateModelSigningKey(env);
 */
export async function rotateModelSigningKey(env: Env): Promise<{ kid: string }> {
  const genesis = await signingKey(env.MODEL_SIGNING_JWK, 'MODEL_SIGNING_JWK');
  const ring = keyRingOf(env);
  if (!ring) throw new ProblemError('misconfigured', 'KEY_RING is not bound: add the KeyRing Durable Object to wrangler.toml');
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JsonWebKey;
  const kid = `model-${randomHex(6)}`;
  const base = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid };
  await ring.rotateSigning(
    { kid: genesis.kid, public_jwk: JSON.stringify(genesis.publicJwk) },
    { kid, public_jwk: JSON.stringify({ ...base, alg: 'ES256', use: 'sig' }), private_jwk: JSON.stringify({ ...base, d: jwk.d }) },
  );
  await ringState(env, { fresh: true });
  return { kid };
}
