/**
 * The chunks the core loads only when needed, by literal relative `import()`: a bundler
 * building an app from the npm package follows these and splits them into the app (so a
 * bundled app fetches no code from the endpoint), and the endpoint build
 * (`scripts/build-sdk.mjs`, code splitting) emits them next to the core under
 * `/sdk/<version>/`, where the browser resolves them against the core's own URL: a core
 * always runs with the chunks of its own version, from whatever origin it came.
 */

/** Model verification (signature and manifest checks): a model this device has not verified yet arrived. */
export type VerifyChunk = typeof import('./verify/index.ts');

/** A contribution chunk: secure rounds (HPKE) or local-mode rounds (own noise). */
export type ContributeChunk = typeof import('./contribute/index.ts');

/**
 * Loads the verification chunk.
 *
 * @example
 * const { verifyModel } = await loadVerifyChunk();
 */
export function loadVerifyChunk(): Promise<VerifyChunk> {
  return import('./verify/index.ts');
}

/**
 * Loads the contribution chunk of a round's mode.
 *
 * @example
 * const { join } = await loadContributeChunk(round.mode);
 */
export function loadContributeChunk(mode: 'secure' | 'local'): Promise<ContributeChunk> {
  return mode === 'local' ? import('./contribute/local.ts') : import('./contribute/index.ts');
}
