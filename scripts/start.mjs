// `npm start`: the whole product locally. Generates dev keys on first start, builds the
// SDK, and runs both aggregators with `wrangler dev`: the leader on 127.0.0.1:8787
// (API, pages, SQLite-backed Durable Objects persisted under .wrangler/state) and the
// helper on 127.0.0.1:8788 (its own keys and storage, under .wrangler/helper-state).
import { spawn } from 'node:child_process';
import { ensureDevKeys, ROOT } from './dev-keys.mjs';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 8787);
const HELPER_PORT = Number(process.env.HELPER_PORT ?? PORT + 1);
const BASE = `http://${HOST}:${PORT}`;
const HELPER = `http://${HOST}:${HELPER_PORT}`;

const { created } = await ensureDevKeys();
if (created) console.log('edgeseg: generated dev keys in .dev.vars and helper/.dev.vars (git-ignored; never commit them)');
await import('./build-sdk.mjs');
await import('./build-pages.mjs');

const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
const common = ['--ip', HOST, '--show-interactive-dev-session=false', '--log-level', 'warn'];
const children = [
  // Two wrangler dev processes need two devtools inspector ports.
  spawn('wrangler', ['dev', '-c', 'helper/wrangler.toml', '--port', String(HELPER_PORT), '--inspector-port', '9230', '--persist-to', '.wrangler/helper-state', ...common], { cwd: ROOT, stdio: 'inherit', env }),
  spawn('wrangler', ['dev', '--port', String(PORT), '--inspector-port', '9229', '--var', `HELPER_URL:${HELPER}`, '--var', 'DEV_BACKFILL_WEEKS:12', '--var', 'DEV_UNLIMITED_LOCAL:true', ...common], { cwd: ROOT, stdio: 'inherit', env }),
];
const stopAll = (signal) => children.forEach((c) => c.exitCode === null && c.kill(signal));
for (const child of children) child.on('exit', (code) => { stopAll('SIGTERM'); process.exit(code ?? 0); });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));

async function up(url) {
  try {
    return (await fetch(`${url}/healthz`)).ok;
  } catch {
    return false;
  }
}
for (let i = 0; i < 240; i++) {
  if ((await up(BASE)) && (await up(HELPER))) {
    await fetch(`${BASE}/v1/model`); // publishes the bootstrap model on a fresh state
    console.log(`
edgeseg is running (Ctrl+C to stop)
  demo app           ${BASE}/demo
  preference centre  ${BASE}/preferences
  dashboard          ${BASE}/dashboard   (token: npm run dev-token)
  API                ${BASE}/v1/model  ${BASE}/v1/rounds  ${BASE}/healthz
  helper aggregator  ${HELPER}/.well-known/hpke-configs  ${HELPER}/v1/policy  ${HELPER}/v1/privacy-ledger
`);
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
