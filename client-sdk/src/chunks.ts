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

/** Release scheduling and the outbox sender: loaded once measurement or model_improvement is granted. */
export type ReleaseChunk = typeof import('./release/index.ts');

/** Export and erase of the viewer's data. */
export type DataChunk = typeof import('./data/index.ts');

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

/**
 * Loads the release chunk (scheduling and sending; only with a purpose that sends).
 *
 * @example
 * const { createSender } = await loadReleaseChunk();
 */
export function loadReleaseChunk(): Promise<ReleaseChunk> {
  return import('./release/index.ts');
}

/**
 * Loads the data chunk (export and erase).
 *
 * @example
 * const { readExport } = await loadDataChunk();
 */
export function loadDataChunk(): Promise<DataChunk> {
  return import('./data/index.ts');
}
