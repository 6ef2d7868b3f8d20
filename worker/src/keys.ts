/**
 * Signing keys come from secrets (`.dev.vars` locally, `wrangler secret put` in
 * production) as private JWKs; imported once per isolate.
 */
import { importSigningKey, type SigningKey } from '@edgeseg/aggregator';
import { ProblemError } from './problem.ts';

export type { SigningKey };

const cache = new Map<string, Promise<SigningKey>>();

/**
 * Imports (once per isolate) the key held in a secret binding; a missing or malformed
 * secret is a 500 problem that says how to fix it.
 *
 * @example
 * const key = await signingKey(c.env.MODEL_SIGNING_JWK, 'MODEL_SIGNING_JWK');
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
