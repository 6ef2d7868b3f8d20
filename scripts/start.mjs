// `npm start`: the whole product locally. Generates dev keys on first start, builds the
// SDK, runs `wrangler dev` on 127.0.0.1:8787 (Worker + SQLite-backed Durable Objects
// persisted under .wrangler/state) and prints the URLs once it answers.
import { spawn } from 'node:child_process';
import { ensureDevKeys, ROOT } from './dev-keys.mjs';

const PORT = Number(process.env.PORT ?? 8787);
const HOST = '127.0.0.1';
const BASE = `http://${HOST}:${PORT}`;

const { created } = await ensureDevKeys();
if (created) console.log('edgeseg: generated dev signing keys in .dev.vars (git-ignored; never commit it)');
await import('./build-sdk.mjs');

const wrangler = spawn('wrangler', ['dev', '--ip', HOST, '--port', String(PORT), '--show-interactive-dev-session=false', '--log-level', 'warn'], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
});
wrangler.on('exit', (code) => process.exit(code ?? 0));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => wrangler.kill(signal));

for (let i = 0; i < 240; i++) {
  try {
    if ((await fetch(`${BASE}/healthz`)).ok) {
      await fetch(`${BASE}/v1/model`); // publishes the bootstrap model on a fresh state
      console.log(`
edgeseg is running (Ctrl+C to stop)
  demo app           ${BASE}/demo
  preference centre  ${BASE}/preferences
  dashboard          ${BASE}/dashboard   (token: npm run dev-token)
  API                ${BASE}/v1/model  ${BASE}/healthz
`);
      break;
    }
  } catch {
    // not listening yet
  }
  await new Promise((r) => setTimeout(r, 500));
}
