// Builds the client SDK: client-sdk/dist/edgeseg.min.js (minified ESM, what apps embed),
// the contribution chunk client-sdk/dist/contribute.min.js (loaded by the SDK with
// import() only when a device contributes under model_improvement), and copies of both
// under worker/public/sdk/ so the local stack serves them.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './dev-keys.mjs';

/**
 * @hpke/common's entry re-exports pure-JS hashes and curve code (SHA-2, SHA-3, HMAC,
 * X25519/X448 field arithmetic, noble helpers) for the non-WebCrypto suites of other
 * @hpke packages; @hpke/core never imports them, but their top-level statements keep
 * them in a bundle (about 1 KB gzip). For the chunk, resolve @hpke/common to its entry
 * without those re-exports: if @hpke/core ever imports one of them, the build fails
 * ("No matching export") instead of shipping a broken chunk.
 */
const hpkeCommonWithoutFallbacks = {
  name: 'hpke-common-without-fallbacks',
  setup(b) {
    b.onResolve({ filter: /^@hpke\/common$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'real' });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: 'hpke-common' };
    });
    b.onLoad({ filter: /.*/, namespace: 'hpke-common' }, (args) => {
      const lines = readFileSync(args.path, 'utf8').split('\n');
      const kept = lines.filter((l) => !/\/src\/(hash|curve)\/|\/utils\/noble\.js/.test(l));
      if (kept.length === lines.length) throw new Error(`${args.path}: no fallback re-exports found; check the hpke-common-without-fallbacks plugin`);
      return { contents: kept.join('\n'), resolveDir: dirname(args.path), loader: 'js' };
    });
  },
};

const common = { bundle: true, format: 'esm', minify: true, platform: 'browser', legalComments: 'none', logLevel: 'warning' };
const outputs = [
  { entry: 'client-sdk/src/index.ts', file: 'edgeseg.min.js', options: { target: 'es2019' } },
  // The chunk needs BigInt (@hpke/common) and is reached through import(): ES2020 runtimes only.
  { entry: 'client-sdk/src/contribute/index.ts', file: 'contribute.min.js', options: { target: 'es2020', plugins: [hpkeCommonWithoutFallbacks] } },
  // <edgeseg-preferences>, the viewer's preference centre: no SDK code inside (the host hands it a segmenter).
  { entry: 'client-sdk/src/preferences/index.ts', file: 'preferences.min.js', options: { target: 'es2019' } },
];

mkdirSync(join(ROOT, 'worker/public/sdk'), { recursive: true });
for (const { entry, file, options } of outputs) {
  const outfile = join(ROOT, 'client-sdk/dist', file);
  await build({ ...common, ...options, entryPoints: [join(ROOT, entry)], outfile });
  copyFileSync(outfile, join(ROOT, 'worker/public/sdk', file));
}
