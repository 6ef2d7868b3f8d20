// Builds the client SDK into client-sdk/dist/, one self-contained bundle per entry
// (see chunksBesideTheCore): the core (edgeseg.min.js, minified ESM, what apps embed), the chunks the core loads with
// import() only when needed (verify.min.js: a new signed model arrived; release.min.js:
// a sending purpose is granted; data.min.js: export and erase; contribute.min.js and
// contribute-local.min.js: the device contributes to a secure or a local-mode round), the
// preference centre (preferences.min.js), the classic-snippet loader (queue.min.js) and
// the consent-platform mapping (cmp.min.js).
// Every output targets Chromium 68 (2020 TVs). The core's literal `import('./verify/index.ts')`
// becomes `import("./verify.min.js")`, resolved next to the core's own URL, so all outputs
// are copied together under worker/public/sdk/<version>/ (the package version): a core
// always runs with the chunks of its own version. Then the package's self-contained types
// (shared's types inlined) go to client-sdk/dist/*.d.ts.
import { parse } from 'acorn';
import { simple } from 'acorn-walk';
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './dev-keys.mjs';

const SDK = join(ROOT, 'client-sdk');
const VERSION = JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8')).version;
const DIST = join(SDK, 'dist');

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
      return { path: real.path, namespace: 'hpke-common', sideEffects: false };
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
 * @edgeseg/shared/secure, whose module also holds the HPKE sealing and the Prio3
 * reports; the chunk never seals nor proves, but @hpke's and @divviup's packages (and
 * npm's `buffer`, which Prio3 imports) do not declare themselves free of side effects,
 * so their top-level code (about 2 KB gzip for HPKE, 9 KB for Prio3) would stay. Declare
 * them so: esbuild then drops every such module the chunk does not use. The budget test
 * checks nothing of HPKE is left.
 */
const hpkeWithoutSideEffects = {
  name: 'hpke-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /^(@hpke\/|@divviup\/|buffer$)/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'real' });
      return real.errors.length ? { errors: real.errors } : { path: real.path, sideEffects: false };
    });
  },
};

/**
 * `@divviup/prio3` (the secure contribution chunk's validity proofs) calls
 * `Array.prototype.flat` and `flatMap`, which Chromium 68 (webOS 5) lacks: the first
 * report a 2020 TV sharded would throw. Rather than patch Array.prototype on the host's
 * page, each such call in an @divviup module becomes a call to one helper in the bundle
 * with the same one-level semantics (`[].concat` flattens exactly one level of arrays;
 * only @divviup, whose receivers are all plain arrays, so no other library's own
 * `flat()` method is touched). The calls
 * are found on the AST (acorn), so an argument's own parentheses or strings cannot
 * mislead the rewrite; a `.flat(depth)` with an argument fails the build instead of
 * being guessed at. bundle-syntax.test.ts checks that no `.flat(`/`.flatMap(` is left.
 */
const FLAT_HELPERS =
  'export function __edgesegFlat(a) { return Array.prototype.concat.apply([], a); }\n' +
  'export function __edgesegFlatMap(a, f, t) { return Array.prototype.concat.apply([], Array.prototype.map.call(a, f, t)); }\n';
const arrayFlatForChromium68 = {
  name: 'array-flat-for-chromium68',
  setup(b) {
    // One copy of the helpers, imported by every rewritten module.
    b.onResolve({ filter: /^edgeseg:array-flat$/ }, (args) => ({ path: args.path, namespace: 'array-flat' }));
    b.onLoad({ filter: /.*/, namespace: 'array-flat' }, () => ({ contents: FLAT_HELPERS, loader: 'js' }));
    b.onLoad({ filter: /[\\/]node_modules[\\/]@divviup[\\/].*\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!/\.flat(Map)?\(/.test(text)) return undefined;
      const edits = []; // [at, removeUntil, insert], applied from the end
      simple(parse(text, { ecmaVersion: 'latest', sourceType: 'module' }), {
        CallExpression(node) {
          const callee = node.callee;
          if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier' || !/^flat(Map)?$/.test(callee.property.name)) return;
          const recv = callee.object;
          if (callee.property.name === 'flat') {
            if (node.arguments.length) throw new Error(`${args.path}: .flat() with a depth argument; extend the array-flat-for-chromium68 plugin`);
            edits.push([recv.start, recv.start, '__edgesegFlat(', node.end], [recv.end, node.end, ')', node.end]);
          } else {
            if (!node.arguments.length) throw new Error(`${args.path}: .flatMap() without a callback`);
            edits.push([recv.start, recv.start, '__edgesegFlatMap(', node.end], [recv.end, node.arguments[0].start, ', ', node.end]);
          }
        },
      });
      if (!edits.length) return undefined;
      // Later positions first; at one position, the inner call's insertion first so the outer one ends up leftmost.
      edits.sort((x, y) => y[0] - x[0] || x[3] - y[3]);
      let out = text;
      for (const [at, until, insert] of edits) out = out.slice(0, at) + insert + out.slice(until);
      return { contents: `import { __edgesegFlat, __edgesegFlatMap } from 'edgeseg:array-flat';\n${out}`, resolveDir: dirname(args.path), loader: 'js' };
    });
  },
};

/**
 * The core loads its chunks by literal relative `import('./verify/index.ts')` (chunks.ts);
 * here each such import becomes `import("./verify.min.js")`, left to the browser (or an
 * app's bundler) to resolve next to the core's own file. The snippet loader's import of the
 * core becomes `./edgeseg.min.js` the same way, so a page has one copy of the core.
 *
 * Each entry is built on its own, self-contained. esbuild's code splitting was tried and
 * measured worse for the budget that matters: modules the core shares with its chunks go
 * to shared chunk files the core imports statically, so the core grew from 9.7 KB (one
 * file) to 11.3–13.0 KB (3–9 files, each compressed on its own, plus code only the chunks
 * use). Self-contained chunks repeat a little of the core's code (feature math, errors),
 * downloaded only when the chunk is needed; they share no state with the core (pure
 * functions over what the core hands them; EdgesegError's instanceof works across copies).
 */
const CHUNK_FILES = { './verify/index.ts': './verify.min.js', './release/index.ts': './release.min.js', './data/index.ts': './data.min.js', './contribute/index.ts': './contribute.min.js', './contribute/local.ts': './contribute-local.min.js' };
const chunksBesideTheCore = {
  name: 'chunks-beside-the-core',
  setup(b) {
    b.onResolve({ filter: /^\.\/(verify|release|data|contribute)\/(index|local)\.ts$/ }, (args) => (/[\\/]src[\\/]chunks\.ts$/.test(args.importer) && CHUNK_FILES[args.path] ? { path: CHUNK_FILES[args.path], external: true } : undefined));
    b.onResolve({ filter: /^\.\.\/index\.ts$/ }, (args) => (/[\\/]src[\\/]queue[\\/]index\.ts$/.test(args.importer) ? { path: './edgeseg.min.js', external: true } : undefined));
  },
};

const entryPoints = {
  edgeseg: 'src/index.ts',
  // Model verification (signature + manifest checks), loaded only when a new model arrives.
  verify: 'src/verify/index.ts',
  // Release scheduling and sending: only once a purpose that sends is granted.
  release: 'src/release/index.ts',
  // exportData() / eraseData(): only when the viewer asks.
  data: 'src/data/index.ts',
  // Secure rounds: HPKE and the encoder.
  contribute: 'src/contribute/index.ts',
  // Local-mode rounds (single operator): the device's own exact discrete Gaussian noise, no HPKE.
  'contribute-local': 'src/contribute/local.ts',
  // <edgeseg-preferences>, the viewer's preference centre: no SDK code inside (the host hands it a segmenter).
  preferences: 'src/preferences/index.ts',
  // The classic-script snippet's loader: creates the segmenter and replays the call queue.
  queue: 'src/queue/index.ts',
  // Optional mapping from IAB TCF / GPP consent signals.
  cmp: 'src/cmp/index.ts',
};

// Only the built files go: stale chunks of an earlier build would be packed and served.
for (const f of existsSync(DIST) ? readdirSync(DIST) : []) if (f.endsWith('.js') || f.endsWith('.d.ts')) rmSync(join(DIST, f));

const options = {
  bundle: true,
  format: 'esm',
  minify: true,
  platform: 'browser',
  // webOS 5 and Tizen 5.5 (2020 TVs) run Chromium 68/69: no ?., ??, class fields.
  target: 'chrome68',
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: ROOT,
  // No globalThis on Chromium 68/69: bundled references to it read the shim's global object.
  inject: [join(ROOT, 'scripts/sdk-global-this.js')],
  plugins: [chunksBesideTheCore, idbWithoutExtras, hpkeCommonWithoutFallbacks, hpkePrivateFieldHelpersOnce, hpkeWithoutSideEffects, arrayFlatForChromium68],
};
const outputs = [];
for (const [name, file] of Object.entries(entryPoints)) {
  if (!existsSync(join(SDK, file))) throw new Error(`client-sdk/${file} is missing`);
  const outfile = join(DIST, `${name}.min.js`);
  await build({ ...options, entryPoints: [join(SDK, file)], outfile });
  outputs.push(outfile);
}

const served = join(ROOT, 'worker/public/sdk', VERSION);
rmSync(served, { recursive: true, force: true });
mkdirSync(served, { recursive: true });
for (const out of outputs) copyFileSync(out, join(served, out.split('/').pop()));

// Self-contained types for the package: one .d.ts per public entry, @edgeseg/shared's
// types inlined. Shared is resolved to its sources by path (TypeScript does not compile
// .ts sources reached through node_modules, which is where the workspace link points).
const typed = { edgeseg: 'src/index.ts', preferences: 'src/preferences/index.ts', cmp: 'src/cmp/index.ts' };
const tmp = mkdtempSync(join(tmpdir(), 'edgeseg-dts-'));
try {
  const shared = (entry) => [join(ROOT, 'shared/src', entry)];
  const tsconfig = {
    extends: join(SDK, 'tsconfig.json'),
    compilerOptions: { composite: false, rootDir: ROOT, paths: { '@edgeseg/shared': shared('index.ts'), '@edgeseg/shared/secure': shared('secure/index.ts'), '@edgeseg/shared/dp': shared('dp/index.ts') } },
    include: [join(SDK, 'src')],
    exclude: [join(SDK, 'src/**/*.test.ts')],
  };
  writeFileSync(join(tmp, 'tsconfig.json'), JSON.stringify(tsconfig));
  for (const [name, file] of Object.entries(typed)) {
    const out = join(DIST, `${name}.d.ts`);
    execFileSync(process.execPath, [join(ROOT, 'node_modules/dts-bundle-generator/dist/bin/dts-bundle-generator.js'), '--silent', '--no-banner', '--project', join(tmp, 'tsconfig.json'), '-o', out, join(SDK, file)], { stdio: 'inherit' });
    // dts-bundle-generator drops an entry's own `declare global` (the preference centre's
    // HTMLElementTagNameMap entry, so querySelector('edgeseg-preferences') is typed): add it back.
    const global = readFileSync(join(SDK, file), 'utf8').match(/^declare global \{\n[\s\S]*?\n\}\n/m);
    const types = readFileSync(out, 'utf8');
    if (global && !types.includes('declare global')) writeFileSync(out, types.replace(/\nexport \{\};\n*$/, `\n${global[0]}\nexport {};\n`));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
