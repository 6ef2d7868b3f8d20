// Builds the client SDK: client-sdk/dist/edgeseg.min.js (minified ESM, what apps embed),
// the chunks the SDK loads with import() only when needed (verify.min.js: a new signed
// model arrived; contribute.min.js: the device contributes to a secure round;
// contribute-local.min.js: to a local-mode round), the preference
// centre, and copies of them under worker/public/sdk/ so the local stack serves them.
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
 * ("No matching export") instead of shipping a broken chunk. Its dnt shim goes too (below).
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
    // dnt's shim is a Proxy over globalThis with an overlay that nothing can fill (a
    // module-private empty object), so it reads exactly as globalThis: use globalThis.
    b.onLoad({ filter: /[\\/]@hpke[\\/]common[\\/]esm[\\/]_dnt\.shims\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.startsWith('const dntGlobals = {};\nexport const dntGlobalThis = createMergeProxy(globalThis, dntGlobals);') || /\bdntGlobals\s*[.[]/.test(text) || (text.match(/^export /gm) || []).length !== 1) {
        throw new Error(`${args.path}: not the empty-overlay dnt shim; check the hpke-common-without-fallbacks plugin`);
      }
      return { contents: 'export const dntGlobalThis = globalThis;', loader: 'js' };
    });
    b.onLoad({ filter: /.*/, namespace: 'hpke-common' }, (args) => {
      const lines = readFileSync(args.path, 'utf8').split('\n');
      const kept = lines.filter((l) => !/\/src\/(hash|curve)\/|\/utils\/noble\.js/.test(l));
      if (kept.length === lines.length) throw new Error(`${args.path}: no fallback re-exports found; check the hpke-common-without-fallbacks plugin`);
      return { contents: kept.join('\n'), resolveDir: dirname(args.path), loader: 'js' };
    });
  },
};

/**
 * idb's entry also installs, at import time, its database shortcut methods (`db.get`,
 * `db.getAll`, …) and its cursor async iterators. The core uses neither (the `Store`
 * type in client-sdk/src/store.ts leaves the shortcuts out, and nothing opens a cursor),
 * and they cost about 500 B gzip. Load idb without those two blocks; if the markers are
 * not found (another idb version), the build fails instead of shipping a broken bundle.
 */
const idbWithoutExtras = {
  name: 'idb-without-extras',
  setup(b) {
    b.onLoad({ filter: /[\\/]idb[\\/]build[\\/]index\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const from = text.indexOf('\nconst readMethods = ');
      const to = text.indexOf('\nexport { deleteDB, openDB, unwrap, wrap };');
      if (from < 0 || to < from || !text.slice(from, to).includes('async function* iterate(')) {
        throw new Error(`${args.path}: idb's shortcut and iterator blocks not found; check the idb-without-extras plugin`);
      }
      return { contents: text.slice(0, from) + text.slice(to), loader: 'js' };
    });
  },
};

/**
 * Three @hpke/core modules (mutex, senderContext, recipientContext) each carry their own
 * copy of TypeScript's `__classPrivateFieldGet`/`__classPrivateFieldSet` helpers (tslib
 * inlined by their compiler). Give the chunk one copy, imported by all three (about 90 B
 * gzip). The helpers are taken verbatim from one of those files; if a file no longer
 * starts with them (another @hpke version), the build fails instead of guessing.
 */
const PRIVATE_FIELD_HELPERS = /^var __classPrivateFieldGet = \(this && this\.__classPrivateFieldGet\) \|\| function[\s\S]*?\n};\nvar __classPrivateFieldSet = \(this && this\.__classPrivateFieldSet\) \|\| function[\s\S]*?\n};\n/;
const hpkePrivateFieldHelpersOnce = {
  name: 'hpke-private-field-helpers-once',
  setup(b) {
    const helpers = (path) => {
      const text = readFileSync(path, 'utf8');
      const m = text.match(PRIVATE_FIELD_HELPERS);
      if (!m) throw new Error(`${path}: the inlined private field helpers were not found; check the hpke-private-field-helpers-once plugin`);
      return { text, helpers: m[0] };
    };
    let first = null;
    b.onResolve({ filter: /^edgeseg:private-field-helpers$/ }, (args) => ({ path: args.path, namespace: 'private-field-helpers' }));
    b.onLoad({ filter: /.*/, namespace: 'private-field-helpers' }, () => ({ contents: first.replace(/^var /gm, 'export var '), loader: 'js' }));
    b.onLoad({ filter: /[\\/]@hpke[\\/]core[\\/]esm[\\/]src[\\/](mutex|senderContext|recipientContext)\.js$/ }, (args) => {
      const { text, helpers: h } = helpers(args.path);
      if (first === null) first = h;
      else if (h !== first) throw new Error(`${args.path}: its private field helpers differ from the others'; check the hpke-private-field-helpers-once plugin`);
      return { contents: text.replace(PRIVATE_FIELD_HELPERS, "import { __classPrivateFieldGet, __classPrivateFieldSet } from 'edgeseg:private-field-helpers';\n"), resolveDir: dirname(args.path), loader: 'js' };
    });
  },
};

/**
 * The local-mode chunk imports the round validator and the encoder from
 * @edgeseg/shared/secure, whose module also holds the HPKE sealing; the chunk never seals,
 * but @hpke's packages do not declare themselves free of side effects, so their top-level
 * code (about 2 KB gzip) would stay. Declare them so: esbuild then drops every @hpke
 * module the chunk does not use. The budget test checks nothing of HPKE is left.
 */
const hpkeWithoutSideEffects = {
  name: 'hpke-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /^@hpke\// }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'real' });
      return real.errors.length ? { errors: real.errors } : { path: real.path, sideEffects: false };
    });
  },
};

const common = { bundle: true, format: 'esm', minify: true, platform: 'browser', legalComments: 'none', logLevel: 'warning' };
const outputs = [
  { entry: 'client-sdk/src/index.ts', file: 'edgeseg.min.js', options: { target: 'es2019', plugins: [idbWithoutExtras] } },
  // Model verification (signature + manifest checks), loaded only when a new model arrives.
  { entry: 'client-sdk/src/verify/index.ts', file: 'verify.min.js', options: { target: 'es2019' } },
  // The chunk needs BigInt (@hpke/common) and is reached through import(): ES2020 runtimes only.
  { entry: 'client-sdk/src/contribute/index.ts', file: 'contribute.min.js', options: { target: 'es2020', plugins: [hpkeCommonWithoutFallbacks, hpkePrivateFieldHelpersOnce] } },
  // Local-mode rounds (single operator): the device's own exact discrete Gaussian noise, no HPKE.
  // Its own chunk, so secure-mode devices never download the sampler. BigInt (the sampler): ES2020.
  { entry: 'client-sdk/src/contribute/local.ts', file: 'contribute-local.min.js', options: { target: 'es2020', plugins: [hpkeWithoutSideEffects] } },
  // <edgeseg-preferences>, the viewer's preference centre: no SDK code inside (the host hands it a segmenter).
  { entry: 'client-sdk/src/preferences/index.ts', file: 'preferences.min.js', options: { target: 'es2019' } },
];

mkdirSync(join(ROOT, 'worker/public/sdk'), { recursive: true });
for (const { entry, file, options } of outputs) {
  const outfile = join(ROOT, 'client-sdk/dist', file);
  await build({ ...common, ...options, entryPoints: [join(ROOT, entry)], outfile });
  copyFileSync(outfile, join(ROOT, 'worker/public/sdk', file));
}
