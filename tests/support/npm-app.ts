/**
 * `@edgeseg/client-sdk` as an outside project gets it: `npm pack` of client-sdk, installed
 * offline into a throwaway app with a strict tsconfig (skipLibCheck off) whose code uses
 * the package's types the way an integrator's would, type-checked by the app's `tsc` and
 * bundled by esbuild with code splitting, to be served from the app's own origin
 * (tests/support/host-origin.ts). The page names the endpoint and, on a two-aggregator
 * stack, the helper's HPKE key the app pins (its build configuration, in a real app).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HpkeConfig } from '@edgeseg/shared';
import { build } from 'esbuild';
import type { HostFile } from './host-origin.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What the throwaway app exposes on `window.app` once `body[data-ready]` is set. */
export interface ThrowawayAppWindow {
  app: { seg: { segment(): unknown; flush(): Promise<void> }; errors: string[] };
}

/**
 * The app's code: it creates a segmenter with the endpoint and helper pin of its page,
 * mounts the preference centre, grants measurement (personalization is on by default),
 * tracks `events` and flushes.
 */
function appSource(events: readonly unknown[]): string {
  return `import { createSegmenter, EdgesegError, type ConsentState, type HpkeConfig, type PlaybackEvent, type Segmenter, type SegmentInfo } from '@edgeseg/client-sdk';
import { definePreferencesElement, type PreferencesElement } from '@edgeseg/client-sdk/preferences';

const endpoint: string = document.body.dataset.endpoint ?? '';
// The helper's key, pinned by the app's configuration (absent on a one-operator stack).
const pinned: string | undefined = document.body.dataset.helper;
const helper: HpkeConfig | null = pinned ? (JSON.parse(pinned) as HpkeConfig) : null;
const errors: string[] = [];
const seg: Segmenter = createSegmenter({
  endpoint,
  appId: 'throwaway',
  ...(helper ? { aggregators: { helper } } : {}),
  onError: (e: EdgesegError) => errors.push(\`\${e.code} \${e.stage}: \${e.message}\`),
});
definePreferencesElement(); // already defined on import: a second call does nothing
const prefs: PreferencesElement = document.createElement('edgeseg-preferences');
prefs.segmenter = seg;
document.body.append(prefs);

const events: PlaybackEvent[] = ${JSON.stringify(events)};
const grant: Partial<ConsentState> = { personalization: true, measurement: true };
async function main(): Promise<void> {
  await seg.ready;
  await seg.consent.set(grant);
  for (const event of events) seg.track(event);
  await seg.flush();
  await prefs.refresh();
  seg.onSegmentChange((s: SegmentInfo | null) => void s);
  (window as unknown as { app: { seg: Segmenter; errors: string[] } }).app = { seg, errors };
  document.body.dataset.ready = 'true';
}
void main();
`;
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2020',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    lib: ['ES2020', 'DOM', 'DOM.Iterable'],
    types: [],
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
  },
  include: ['app.ts'],
};

/** The throwaway app on disk, with the packed SDK installed. */
export interface ThrowawayApp {
  /** The tarball `npm pack` wrote. */
  tarball: string;
  /** The app's folder: package.json, tsconfig.json, app.ts and node_modules. */
  dir: string;
  /** Runs a command (30 s at most) in `cwd`, the app's folder by default; its stdout. */
  run(cmd: string, args: readonly string[], cwd?: string): string;
  /** The app's `tsc -p tsconfig.json` output: empty when the app type-checks. */
  typeCheck(): string;
  /** Removes the app and the tarball. */
  remove(): void;
}

/**
 * Packs client-sdk (run `npm run build` first) and installs the tarball offline into a
 * fresh app that tracks `events` under measurement.
 *
 * @example
 * const app = createThrowawayApp(EVENTS);
 * expect(app.typeCheck()).toBe('');
 */
export function createThrowawayApp(events: readonly unknown[]): ThrowawayApp {
  const work = mkdtempSync(join(tmpdir(), 'edgeseg-npm-'));
  const run = (cmd: string, args: readonly string[], cwd: string = dir): string => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  const dir = join(work, 'app');
  try {
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], join(ROOT, 'client-sdk'))) as { filename: string }[];
    const tarball = join(work, packed[0]?.filename ?? '');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'throwaway-app', version: '1.0.0', private: true, type: 'module' }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    writeFileSync(join(dir, 'app.ts'), appSource(events));
    run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts']);
    return {
      tarball,
      dir,
      run,
      typeCheck() {
        try {
          return run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']).trim();
        } catch (err) {
          return String((err as { stdout?: string }).stdout ?? err).trim();
        }
      },
      remove: () => rmSync(work, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/** The app bundled for one endpoint: the files to serve, and which of them holds what. */
export interface BundledApp {
  /** Path → file, for {@link startHostOrigin}: the page and every output chunk. */
  files: Record<string, HostFile>;
  /**
   * The served paths of the outputs that bundle code from the installed package's
   * `dist/<file>` (e.g. `contribute.min.js`, the Prio3 and HPKE chunk).
   */
  outputsOf(file: string): string[];
}

/**
 * Bundles the app with esbuild (ESM, code splitting) and writes its page for `endpoint`,
 * pinning `helper` when given.
 *
 * @example
 * const { files, outputsOf } = await bundleApp(app, { endpoint: stack.baseUrl, helper });
 * const host = await startHostOrigin(files);
 */
export async function bundleApp(app: Pick<ThrowawayApp, 'dir'>, page: { endpoint: string; helper?: HpkeConfig }): Promise<BundledApp> {
  const outdir = join(app.dir, 'out');
  rmSync(outdir, { recursive: true, force: true });
  const { metafile } = await build({ entryPoints: [join(app.dir, 'app.ts')], absWorkingDir: app.dir, bundle: true, splitting: true, format: 'esm', outdir, logLevel: 'error', target: 'chrome68', metafile: true });
  const attribute = (v: string) => v.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
  const helperAttribute = page.helper ? ` data-helper="${attribute(JSON.stringify(page.helper))}"` : '';
  const files: Record<string, HostFile> = {
    '/': { type: 'text/html; charset=utf-8', body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Throwaway app</title></head><body data-endpoint="${attribute(page.endpoint)}"${helperAttribute}><script type="module" src="/app.js"></script></body></html>` },
  };
  for (const f of readdirSync(outdir)) files[`/${f}`] = { type: 'text/javascript; charset=utf-8', body: readFileSync(join(outdir, f)) };
  return {
    files,
    outputsOf(file) {
      const input = `node_modules/@edgeseg/client-sdk/dist/${file}`;
      return Object.entries(metafile.outputs)
        .filter(([, output]) => Object.keys(output.inputs).includes(input))
        .map(([path]) => `/${relative(outdir, join(app.dir, path))}`);
    },
  };
}
