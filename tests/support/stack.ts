/**
 * Starts the real local stack: two `wrangler dev` processes (workerd, SQLite-backed
 * Durable Objects), the leader with its pages and the helper aggregator with its own
 * keys and storage, on free loopback ports with fresh keys and throwaway persistence.
 * `restart()` stops both and starts them again on the same state, as a crash would;
 * `stopHelper()` and `startHelper()` do that to the helper alone (an outage of the other
 * operator's server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LENIENT_TEST_HELPER_POLICY } from './helper-policy.ts';
import { generateHpkeJwk, generateSigningJwk } from './keys.ts';

export { LENIENT_TEST_HELPER_POLICY };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningStack {
  baseUrl: string;
  helperUrl: string;
  /** Private JWKs of this stack's keys, so tests can mint tokens and sign test models. */
  authJwk: string;
  modelJwk: string;
  /** Read-only: each aggregator's `--persist-to` directory (its SQLite-backed Durable Object storage lives under it). */
  readonly stateDirs: { readonly leader: string; readonly helper: string };
  /** The bearer token the leader presents to the helper (to test the helper's guards directly). */
  readonly leaderToken: string;
  /** The helper operator's own token (HELPER_ADMIN_TOKEN), for the helper's policy and key rotation routes. */
  readonly helperAdminToken: string;
  /** Public JWK (JSON) of the helper's ledger-signing key (HELPER_SIGNING_JWK): what its JWKS must serve. */
  readonly helperSigningJwk: string;
  restart(): Promise<void>;
  /** Stops the helper alone (the leader keeps running): its URL refuses connections until `startHelper`. */
  stopHelper(): Promise<void>;
  /** Starts the helper again on the same port and state; resolves once it answers `/healthz`. */
  startHelper(): Promise<void>;
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

async function waitHealthy(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not start on ${url}:\n${log()}`);
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Options of a stack beyond the leader's vars. */
export interface StackOptions {
  /**
   * The helper's vars (its policy, over helper/wrangler.toml's defaults). Not given: the
   * helper runs {@link LENIENT_TEST_HELPER_POLICY}; `{}`: the real defaults.
   */
  helper?: Record<string, string>;
}

/**
 * Starts leader and helper and resolves once both answer `/healthz`.
 *
 * @example
 * const stack = await startStack({ K_THRESHOLD: '1' });
 * const guarded = await startStack({}, { helper: {} }); // the helper's real policy
 */
export async function startStack(vars: Record<string, string> = {}, options: StackOptions = {}): Promise<RunningStack> {
  const helperVars = options.helper ?? LENIENT_TEST_HELPER_POLICY;
  const dir = mkdtempSync(join(tmpdir(), 'edgeseg-stack-'));
  const authJwk = await generateSigningJwk('auth-e2e');
  const modelJwk = await generateSigningJwk('model-e2e');
  const leaderToken = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('hex');
  const helperAdminToken = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('hex');
  const helperSigningPrivate = await generateSigningJwk('helper-ledger-e2e');
  const { d: _d, ...helperSigningPublic } = JSON.parse(helperSigningPrivate) as Record<string, string>;
  const leaderEnv = join(dir, 'leader.env');
  const helperEnv = join(dir, 'helper.env');
  writeFileSync(leaderEnv, `MODEL_SIGNING_JWK='${modelJwk}'\nAUTH_SIGNING_JWK='${authJwk}'\nHPKE_PRIVATE_JWK='${await generateHpkeJwk(1)}'\nLEADER_TOKEN='${leaderToken}'\n`);
  writeFileSync(helperEnv, `HPKE_PRIVATE_JWK='${await generateHpkeJwk(2)}'\nLEADER_TOKEN='${leaderToken}'\nHELPER_ADMIN_TOKEN='${helperAdminToken}'\nHELPER_SIGNING_JWK='${helperSigningPrivate}'\n`);
  // Each wrangler dev also opens a devtools inspector port (9229 by default): two at once need two.
  const [port, helperPort, inspector, helperInspector] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${port}`;
  const helperUrl = `http://127.0.0.1:${helperPort}`;
  const common = ['--ip', '127.0.0.1', '--show-interactive-dev-session=false', '--log-level', 'warn'];
  // X_LOCAL_OBSERVABILITY=false: no local trace collector. wrangler dev otherwise streams
  // every invocation's spans (each DO and binding call one more) to a collector Worker
  // that stores them in SQLite, in the same workerd; a deployed Worker records nothing of
  // the kind unless `observability` is on in wrangler.toml, which ours does not set.
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', X_LOCAL_OBSERVABILITY: 'false' };
  const wrangler = join(ROOT, 'node_modules/.bin/wrangler');
  let log = '';
  let helper: ChildProcess | undefined;
  let leader: ChildProcess | undefined;

  const launch = (args: string[]): ChildProcess => {
    const child = spawn(wrangler, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    return child;
  };
  const upHelper = async () => {
    const helperArgs = ['dev', '-c', 'helper/wrangler.toml', '--port', String(helperPort), '--inspector-port', String(helperInspector), '--persist-to', join(dir, 'helper-state'), '--env-file', helperEnv, ...common];
    for (const [k, v] of Object.entries(helperVars)) helperArgs.push('--var', `${k}:${v}`);
    const child = launch(helperArgs);
    helper = child;
    await waitHealthy(helperUrl, child, () => log);
  };
  const up = async () => {
    const helperUp = upHelper(); // launched first, as before
    const leaderArgs = ['dev', '--port', String(port), '--inspector-port', String(inspector), '--persist-to', join(dir, 'state'), '--env-file', leaderEnv, '--var', `HELPER_URL:${helperUrl}`, '--var', 'DEV_UNLIMITED_LOCAL:true', ...common];
    for (const [k, v] of Object.entries(vars)) leaderArgs.push('--var', `${k}:${v}`);
    const child = launch(leaderArgs);
    leader = child;
    await Promise.all([helperUp, waitHealthy(baseUrl, child, () => log)]);
  };
  const down = async () => {
    await Promise.all([stopChild(helper), stopChild(leader)]);
  };
  try {
    await up();
  } catch (err) {
    await down();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    baseUrl,
    helperUrl,
    authJwk,
    modelJwk,
    stateDirs: { leader: join(dir, 'state'), helper: join(dir, 'helper-state') },
    leaderToken,
    helperAdminToken,
    helperSigningJwk: JSON.stringify(helperSigningPublic),
    async restart() {
      await down();
      await up();
    },
    async stopHelper() {
      await stopChild(helper);
    },
    async startHelper() {
      await upHelper();
    },
    async stop() {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
