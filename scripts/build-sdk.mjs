// Builds the client SDK: client-sdk/dist/edgeseg.min.js (minified ESM, what apps embed)
// and a copy under worker/public/sdk/ so the local stack serves it to the demo pages.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './dev-keys.mjs';

const outfile = join(ROOT, 'client-sdk/dist/edgeseg.min.js');
await build({
  entryPoints: [join(ROOT, 'client-sdk/src/index.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2019',
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
});
mkdirSync(join(ROOT, 'worker/public/sdk'), { recursive: true });
copyFileSync(outfile, join(ROOT, 'worker/public/sdk/edgeseg.min.js'));
