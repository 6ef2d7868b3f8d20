/**
 * Starts the real local stack (`wrangler dev`: workerd, Durable Objects with SQLite
 * storage, static pages) on a free loopback port, with fresh keys and a throwaway
 * persistence dir, for end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningJwk } from './keys.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningStack {
  baseUrl: string;
  /** Private JWKs of this stack's keys, so tests can mint tokens and sign test models. */
  authJwk: string;
  modelJwk: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts `wrangler dev` and resolves once `/healthz` answers.
 *
 * @example
 * const stack = await startStack({ K_THRESHOLD: '1' });
 */
export async function startStack(vars: Record<string, string> = {}): Promise<RunningStack> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeseg-stack-'));
  const authJwk = await generateSigningJwk('auth-e2e');
  const modelJwk = await generateSigningJwk('model-e2e');
  const envFile = join(dir, 'test.env');
  writeFileSync(envFile, `MODEL_SIGNING_JWK='${modelJwk}'\nAUTH_SIGNING_JWK='${authJwk}'\n`);
  const port = await freePort();
  const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', join(dir, 'state'), '--env-file', envFile, '--show-interactive-dev-session=false', '--log-level', 'warn'];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const child: ChildProcess = spawn(join(ROOT, 'node_modules/.bin/wrangler'), args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return { baseUrl, authJwk, modelJwk, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not start on ${baseUrl}:\n${log}`);
}
