// Builds what the pages (/dashboard, /demo) load at run time into worker/public/vendor/
// (git-ignored, rebuilt by `npm run build` and `npm start`): uPlot (ESM, minified) and its
// stylesheet for the dashboard charts, and the few @edgeseg/shared functions the pages
// use (describeCentroid, parseManifest) as one small ES module, so the dashboard and the
// device read the model and word segment profiles with the project's own code.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './dev-keys.mjs';

const VENDOR = join(ROOT, 'worker/public/vendor');
mkdirSync(VENDOR, { recursive: true });
// Generated files are not committed: the folder ignores everything but this rule.
writeFileSync(join(VENDOR, '.gitignore'), '*\n!.gitignore\n');

const common = { bundle: true, format: 'esm', minify: true, platform: 'browser', target: 'es2020', legalComments: 'eof', logLevel: 'warning' };
await build({ ...common, entryPoints: [join(ROOT, 'node_modules/uplot/dist/uPlot.esm.js')], outfile: join(VENDOR, 'uPlot.esm.js') });
copyFileSync(join(ROOT, 'node_modules/uplot/dist/uPlot.min.css'), join(VENDOR, 'uPlot.min.css'));
await build({
  ...common,
  stdin: { contents: "export { describeCentroid, parseManifest, periodStart } from './shared/src/index.ts';", resolveDir: ROOT, loader: 'ts' },
  outfile: join(VENDOR, 'edgeseg-shared.js'),
});
