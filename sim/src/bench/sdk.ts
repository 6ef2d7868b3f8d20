/**
 * The SDK in real Chromium: the synchronous cost of track() per event, and 10,000 tracked
 * events flushed to IndexedDB and read back, each against a trivial baseline measured in
 * the same page in alternating rounds (see sdk.page.ts for what runs in the page).
 *
 * The page is the real SDK source (client-sdk/src/index.ts) bundled with idb by esbuild
 * into a temp dir, with code splitting as an app's bundler does (the chunks the SDK loads
 * with import(), e.g. model verification, land next to the page's bundle), and served by a tiny
 * node:http server on 127.0.0.1, which also answers the SDK's model fetch with the bootstrap model signed by a key made for this run, so
 * every track() also recomputes the segment as it does in production. Chromium is
 * Debian's, through tests/support/chromium.ts (never a downloaded browser).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_JWS_TYPE, parseManifest } from '@edgeseg/shared';
import { build } from 'esbuild';
import { launchChromium } from '../../../tests/support/chromium.ts';
import { bootstrapManifest } from '../../../worker/src/bootstrap-model.ts';
import { interleaved, median, type Benchmark } from './harness.ts';
import type { PageRun, SdkBenchPage } from './sdk.page.ts';

const EVENTS = 10_000;
const ROUNDS = 5;
const WARMUP = 1;
const TRACK_TARGET_US = 200;

const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>edgeseg bench</title><script type="module" src="/bench.js"></script>\n';

interface ServedModel {
  /** Null when the bootstrap manifest does not validate against the current schema: /v1/model then answers 404. */
  jws: string | null;
  jwks: string;
  problem: string | null;
}

/** The bootstrap model as a compact JWS (ES256, WebCrypto) and the JWKS that verifies it. */
async function signedModel(): Promise<ServedModel> {
  const manifest = bootstrapManifest(Math.floor(Date.now() / 1000));
  const parsed = parseManifest(JSON.parse(JSON.stringify(manifest)));
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const pub = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const kid = `bench-${Date.now()}`;
  const b64url = (s: string | ArrayBuffer): string => Buffer.from(typeof s === 'string' ? Buffer.from(s, 'utf8') : new Uint8Array(s)).toString('base64url');
  const input = `${b64url(JSON.stringify({ alg: 'ES256', kid, typ: MODEL_JWS_TYPE }))}.${b64url(JSON.stringify(manifest))}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, new TextEncoder().encode(input));
  const jwks = JSON.stringify({ keys: [{ kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid, alg: 'ES256', use: 'sig' }] });
  if (!parsed.ok) return { jws: null, jwks, problem: `bootstrap manifest invalid: ${parsed.errors.join('; ')}` };
  return { jws: `${input}.${b64url(signature)}`, jwks, problem: null };
}

/** Serves the bench page, its bundle and the model; cross-origin isolated, so performance.now() is fine-grained. */
async function serve(dir: string, model: ServedModel): Promise<{ server: Server; origin: string }> {
  const files: Record<string, [string, string | Buffer]> = {
    '/': ['text/html; charset=utf-8', readFileSync(join(dir, 'index.html'))],
    '/.well-known/jwks.json': ['application/json', model.jwks],
  };
  // bench.js and the chunks it imports, which it resolves next to its own URL.
  for (const f of readdirSync(dir).filter((name) => name.endsWith('.js'))) files[`/${f}`] = ['text/javascript; charset=utf-8', readFileSync(join(dir, f))];
  if (model.jws !== null) files['/v1/model'] = ['application/jose', model.jws];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://bench').pathname;
    const file = req.method === 'GET' ? files[path] : undefined;
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    res.setHeader('cross-origin-resource-policy', 'same-origin');
    res.setHeader('cache-control', 'no-store');
    if (!file) {
      res.writeHead(path === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Events must really be in IndexedDB; with a model served, the SDK must report no problem and hold a segment. */
function check(run: PageRun, side: string, modelServed: boolean): PageRun {
  if (run.stored !== EVENTS) throw new Error(`sdk (${side}): ${run.stored} of ${EVENTS} events found in IndexedDB ${run.dbName}/events`);
  if (modelServed && run.errors.length > 0) throw new Error(`sdk (${side}): the SDK reported ${run.errors.length} error(s) through onError: ${run.errors.slice(0, 3).join(' | ')}`);
  if (modelServed && side === 'ours' && run.segment === null) throw new Error('sdk (ours): no segment after tracking with the model loaded');
  return run;
}

export const bench: Benchmark = {
  name: 'sdk',
  description: 'track() and the IndexedDB event log in real Chromium, vs trivial baselines',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'edgeseg-bench-'));
    let server: Server | undefined;
    let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
    try {
      // The page, split as an app's bundler splits it: the SDK's import() chunks (model verification, …) beside bench.js.
      await build({
        entryPoints: { bench: fileURLToPath(new URL('./sdk.page.ts', import.meta.url)) },
        outdir: dir,
        bundle: true,
        splitting: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        minify: true,
        logLevel: 'warning',
      });
      writeFileSync(join(dir, 'index.html'), PAGE_HTML);
      const model = await signedModel();
      const served = await serve(dir, model);
      const modelServed = model.jws !== null;
      server = served.server;
      browser = await launchChromium();
      const page = await browser.context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.goto(`${served.origin}/?events=${EVENTS}`);
      await page.waitForFunction(() => 'edgesegBench' in globalThis, undefined, { timeout: 15_000 });
      const facts = await page.evaluate(() => {
        const b = (globalThis as unknown as { edgesegBench: SdkBenchPage }).edgesegBench;
        return { events: b.events, userAgent: b.userAgent, isolated: b.crossOriginIsolated };
      });
      if (facts.events !== EVENTS) throw new Error(`sdk: the page generated ${facts.events} events, expected ${EVENTS}`);
      const runs = await interleaved(
        ROUNDS,
        WARMUP,
        async (r) => check(await page.evaluate((round) => (globalThis as unknown as { edgesegBench: SdkBenchPage }).edgesegBench.ours(round), r), 'ours', modelServed),
        async (r) => check(await page.evaluate((round) => (globalThis as unknown as { edgesegBench: SdkBenchPage }).edgesegBench.raw(round), r), 'raw', modelServed),
      );
      if (pageErrors.length > 0) throw new Error(`sdk: page errors: ${pageErrors.join(' | ')}`);
      const chromium = /(?:Headless)?Chrome\/([\d.]+)/.exec(facts.userAgent)?.[1] ?? facts.userAgent;
      const firstErrors = runs.ours[0]?.errors ?? [];
      const modelState = modelServed
        ? 'bootstrap model loaded (segment recomputed on every event)'
        : `NO MODEL (${model.problem}; /v1/model answered 404, the SDK said: ${firstErrors.join(' | ') || 'nothing'}), so no segment is computed`;
      const how = `median of ${ROUNDS} interleaved rounds (${WARMUP} warm-up dropped), fresh database per run; Chromium ${chromium}${facts.isolated ? ', cross-origin isolated' : ', NOT cross-origin isolated (coarse timer)'}`;
      return [
        {
          name: 'track() sync, per event',
          unit: 'µs',
          ours: (median(runs.ours.map((r) => r.syncMs)) * 1000) / EVENTS,
          reference: (median(runs.reference.map((r) => r.syncMs)) * 1000) / EVENTS,
          referenceLabel: 'copying the event into an array (trivial baseline)',
          target: TRACK_TARGET_US,
          note: `performance.now() around ${EVENTS.toLocaleString('en')} track() calls in the page, ${modelState}; ${how}`,
        },
        {
          name: `${EVENTS.toLocaleString('en')} events → IndexedDB → read back`,
          unit: 'ms',
          ours: median(runs.ours.map((r) => r.totalMs)),
          reference: median(runs.reference.map((r) => r.totalMs)),
          referenceLabel: `copy + one raw idb transaction of ${EVENTS.toLocaleString('en')} puts + getAll`,
          note: `first track() until flush() has written them and getAll on the 'events' store returns all ${EVENTS.toLocaleString('en')}; ${how}`,
        },
      ];
    } finally {
      await browser?.close();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server?.close(() => resolve()));
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
