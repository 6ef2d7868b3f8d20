// The SDK's API reference (docs/api/), generated from its types and JSDoc with typedoc and
// typedoc-plugin-markdown: one Markdown page per public entry of @edgeseg/client-sdk.
// The code is the source; docs/api/ is committed so the reference reads on GitHub, and
// scripts/api-docs.test.ts fails when it no longer matches the code (`npm run docs:api`).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Application, LogLevel } from 'typedoc';
import { ROOT } from './dev-keys.mjs';

export const API_DOCS_DIR = join(ROOT, 'docs/api');

/** The package's public entries, as `exports` names them; `cmp` once it exists. */
const ENTRIES = ['client-sdk/src/index.ts', 'client-sdk/src/preferences/index.ts', 'client-sdk/src/cmp/index.ts'];

/**
 * Generates the API reference into `out` (emptied first). Runs against client-sdk's own
 * tsconfig, so the reference sees exactly the types `tsc -b` checks; no network.
 * Rejects when typedoc reports an error or a warning (a broken `{@link}`, a type it cannot
 * resolve), so the reference never silently loses a page.
 *
 * @example
 * await buildApiDocs(join(tmpdir(), 'api')); // then compare with docs/api
 */
export async function buildApiDocs(out = API_DOCS_DIR) {
  const entryPoints = ENTRIES.filter((e) => existsSync(join(ROOT, e))).map((e) => join(ROOT, e));
  const app = await Application.bootstrapWithPlugins({
    entryPoints,
    tsconfig: join(ROOT, 'client-sdk/tsconfig.json'),
    // Type errors are `tsc -b`'s job (npm run typecheck); skipping typedoc's own pass halves its time.
    skipErrorChecking: true,
    plugin: ['typedoc-plugin-markdown'],
    out,
    cleanOutputDir: true,
    name: '@edgeseg/client-sdk',
    // The index page: what this is and where the guide is, then the entries.
    readme: join(ROOT, 'scripts/api-docs-readme.md'),
    mergeReadme: true,
    // No "Defined in <file>#L<line>" links: they change with every edit and commit, and
    // the reference would never stay current.
    disableSources: true,
    excludePrivate: true,
    excludeProtected: true,
    excludeInternal: true,
    // Inherited HTMLElement and Error members (lib.dom, lib.es) would bury the SDK's own.
    excludeExternals: true,
    sort: ['kind', 'alphabetical'],
    // Markdown for GitHub: one page per entry, property tables.
    outputFileStrategy: 'modules',
    hidePageHeader: true,
    interfacePropertiesFormat: 'table',
    typeDeclarationFormat: 'table',
    parametersFormat: 'table',
    logLevel: LogLevel.Warn,
  });
  const project = await app.convert();
  if (!project || app.logger.hasErrors()) throw new Error('typedoc: the SDK types did not convert (see the errors above)');
  app.validate(project);
  await app.generateOutputs(project);
  if (app.logger.hasErrors() || app.logger.hasWarnings()) throw new Error('typedoc reported problems (see above); fix the JSDoc or the exports');
}

/** Every file under `dir`, as relative path → text. */
export function readTree(dir) {
  const files = new Map();
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return files;
}

/**
 * Generates the reference into a throwaway folder and lists how docs/api differs from it
 * (missing, stale or extra pages); empty when the committed reference is current.
 *
 * @example
 * const stale = await staleApiDocs(); // [] when docs/api matches the code
 */
export async function staleApiDocs(committed = API_DOCS_DIR) {
  const tmp = mkdtempSync(join(tmpdir(), 'edgeseg-api-'));
  try {
    await buildApiDocs(tmp);
    const fresh = readTree(tmp);
    const have = readTree(committed);
    const problems = [];
    for (const [path, text] of fresh) {
      if (!have.has(path)) problems.push(`docs/api/${path}: missing`);
      else if (have.get(path) !== text) problems.push(`docs/api/${path}: out of date`);
    }
    for (const path of have.keys()) if (!fresh.has(path)) problems.push(`docs/api/${path}: no longer generated`);
    return problems;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildApiDocs();
  console.log(`API reference written to ${relative(ROOT, API_DOCS_DIR)}/`);
}
