/**
 * The built SDK as the stack serves it: `/sdk/<version>/…` (client-sdk/package.json's
 * version), and which files the browser fetches for an entry. The build splits code, so
 * an entry is its file plus the shared chunks (hashed names) it imports statically.
 */
import { readFileSync } from 'node:fs';
import { staticClosure } from '../../client-sdk/src/testing/bundle-graph.ts';

const DIST = new URL('../../client-sdk/dist/', import.meta.url);

/** The package version: the folder the SDK is served from. */
export const SDK_VERSION = (JSON.parse(readFileSync(new URL('../../client-sdk/package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** `/sdk/<version>`: where the stack serves the SDK and its chunks. */
export const SDK_BASE = `/sdk/${SDK_VERSION}`;

function built(file: string): string {
  try {
    return readFileSync(new URL(file, DIST), 'utf8');
  } catch {
    throw new Error(`client-sdk/dist/${file} is missing: run \`npm run build\``);
  }
}

/**
 * The paths the browser fetches to run `entry` (e.g. `edgeseg.min.js`): its own and those
 * of the shared chunks it imports, each under {@link SDK_BASE}.
 *
 * @example
 * const core = sdkPaths('edgeseg.min.js'); // ['/sdk/0.2.0/edgeseg.min.js', '/sdk/0.2.0/chunk-….min.js', …]
 */
export function sdkPaths(entry: string): string[] {
  return staticClosure(entry, built).map((f) => `${SDK_BASE}/${f}`);
}

/**
 * The paths a chunk the core loads with `import()` adds to a page already running the
 * core: its own and those of its shared chunks the core did not load.
 *
 * @example
 * const verify = sdkChunkPaths('verify.min.js'); // ['/sdk/0.2.0/verify.min.js', …]
 */
export function sdkChunkPaths(chunk: string): string[] {
  const core = sdkPaths('edgeseg.min.js');
  return sdkPaths(chunk).filter((p) => !core.includes(p));
}
