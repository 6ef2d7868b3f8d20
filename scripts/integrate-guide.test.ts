import { DEVICE_TYPES, FEATURE_NAMES_V1, GENRE_FAMILIES, genreFamily, PLAYBACK_EVENT_TYPES } from '@edgeseg/shared';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium68Findings } from '../client-sdk/src/testing/chromium68-syntax.ts';

/**
 * docs/integrate.md cannot drift from the SDK: its ```ts examples are type-checked against
 * the package's sources (one module each, `@edgeseg/client-sdk` mapped to client-sdk/src),
 * and its tables of error codes, event types, device types, genre families, features and
 * theming variables are checked against the code they describe.
 */
const ROOT = join(import.meta.dirname, '..');
const SDK = join(ROOT, 'client-sdk/src');
const GUIDE_PATH = join(ROOT, 'docs/integrate.md');
const guide = readFileSync(GUIDE_PATH, 'utf8');
/** The version in the endpoint's `/sdk/<version>/` paths: the package's. */
const SDK_VERSION = (JSON.parse(readFileSync(join(ROOT, 'client-sdk/package.json'), 'utf8')) as { version: string }).version;

/** The guide's fenced blocks in `lang`, with the line each starts on. */
function codeBlocks(lang: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const fence = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm');
  for (const m of guide.matchAll(fence)) blocks.push({ line: guide.slice(0, m.index).split('\n').length, code: m[1] as string });
  return blocks;
}

/** The first cell of each row of the table whose header row starts with `| first |`. */
function tableKeys(first: string): string[] {
  const lines = guide.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  if (start < 0) return [];
  const keys: string[] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith('|')) break;
    keys.push((l.split('|')[1] as string).trim().replace(/^`|`$/g, ''));
  }
  return keys;
}

/**
 * What the examples may use without defining it: the quick start's `seg` (examples after
 * it continue from there, as the guide says).
 */
const PRELUDE = `declare global {\n  const seg: import('@edgeseg/client-sdk').Segmenter;\n}\nexport {};\n`;

describe('docs/integrate.md', () => {
  let dir: string;
  let program: ts.Program;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'edgeseg-guide-'));
    const files = [join(dir, 'prelude.d.ts')];
    writeFileSync(files[0] as string, PRELUDE);
    codeBlocks('ts').forEach(({ line, code }, i) => {
      const file = join(dir, `example-${String(i + 1).padStart(2, '0')}-line-${line}.ts`);
      // `export {}` makes each example a module of its own, as it is in an app.
      writeFileSync(file, `${code}\nexport {};\n`);
      files.push(file);
    });
    const base = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), (p) => ts.sys.readFile(p)).config as { compilerOptions: object };
    const { options, errors } = ts.convertCompilerOptionsFromJson(
      {
        ...base.compilerOptions,
        composite: false,
        declaration: false,
        emitDeclarationOnly: false,
        noEmit: true,
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        types: [],
        paths: {
          '@edgeseg/client-sdk': [join(SDK, 'index.ts')],
          '@edgeseg/client-sdk/preferences': [join(SDK, 'preferences/index.ts')],
          '@edgeseg/client-sdk/cmp': [join(SDK, 'cmp/index.ts')],
        },
      },
      dir,
    );
    expect(errors).toEqual([]);
    program = ts.createProgram(files, options);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has ts examples, and every one type-checks against the SDK', () => {
    expect(codeBlocks('ts').length).toBeGreaterThan(0);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.replace(dir, '').replace(ROOT, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(problems).toEqual([]);
  }, 60_000); // type-checks the SDK's sources too: seconds, more on a loaded machine

  it('keeps its examples to Chromium 68 syntax, as it tells TV apps to', () => {
    const findings = codeBlocks('ts').flatMap(({ line, code }) => {
      const js = ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: false } }).outputText;
      return chromium68Findings(js).map((f) => `example at line ${line}: ${f.construct}`);
    });
    expect(findings).toEqual([]);
  });

  it('gives the classic snippet the cross-origin browser test runs, and the package version in every /sdk/ path', () => {
    const loader = (text: string): string[] => [...text.matchAll(/\(function \(w, src\) \{[\s\S]*?\}\)\(window, /g)].map((m) => m[0].replace(/\s+/g, ' '));
    const tested = loader(readFileSync(join(ROOT, 'tests/e2e/sdk-cross-origin.test.ts'), 'utf8'));
    expect(tested.length, 'the snippet in tests/e2e/sdk-cross-origin.test.ts').toBe(1);
    const shown = codeBlocks('html').flatMap(({ code }) => loader(code));
    expect(shown).toEqual(tested);
    const versions = [...guide.matchAll(/\/sdk\/(\d[^/]*)\//g)].map((m) => m[1]);
    expect(versions.length).toBeGreaterThan(0);
    for (const v of versions) expect(v, 'every /sdk/<version>/ path names the package version').toBe(SDK_VERSION);
  });

  it('gives each chunk the budget its size test holds it to', () => {
    /** `'<name>.min.js': <n> * 1024` (or `1024`) and `const BUDGET = <n> * 1024` in the size tests, in KB. */
    const kb = (n: string | undefined): number => (n === undefined ? 1 : Number(n));
    const budgets = new Map<string, number>();
    for (const m of readFileSync(join(SDK, 'bundle-size.test.ts'), 'utf8').matchAll(/'([a-z-]+)\.min\.js': (?:([\d.]+) \* )?1024/g)) budgets.set(m[1] as string, kb(m[2]));
    for (const [name, file] of [['preferences', 'preferences/bundle-size.test.ts'], ['cmp', 'cmp/bundle.test.ts']] as const) {
      const m = /const BUDGET = (?:([\d.]+) \* )?1024;/.exec(readFileSync(join(SDK, file), 'utf8'));
      expect(m, `the BUDGET of client-sdk/src/${file}`).not.toBeNull();
      budgets.set(name, kb(m![1]));
    }
    const lines = guide.split('\n');
    const start = lines.findIndex((l) => l.startsWith('| chunk | budget |'));
    const shown = new Map<string, number>();
    for (const l of lines.slice(start + 2)) {
      if (!l.startsWith('|')) break;
      const [, name, budget] = l.split('|').map((c) => c.trim().replace(/`/g, ''));
      shown.set(name as string, Number((budget as string).replace(' KB', '')));
    }
    expect(Object.fromEntries(shown)).toEqual(Object.fromEntries(budgets));
  });

  it('lists every error code in its table, and no other', () => {
    const errors = program.getSourceFile(join(SDK, 'errors.ts'));
    const alias = errors?.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'EdgesegErrorCode');
    expect(alias, 'EdgesegErrorCode in client-sdk/src/errors.ts').toBeDefined();
    const type = program.getTypeChecker().getTypeAtLocation(alias!.name);
    const codes = (type.isUnion() ? type.types : [type]).map((t) => (t.isStringLiteral() ? t.value : '?'));
    expect(codes.length).toBeGreaterThan(1);
    expect(tableKeys('`code`').sort()).toEqual(codes.sort());
  });

  it('lists every option of createSegmenter and of connectConsentPlatform, and no other', () => {
    const checker = program.getTypeChecker();
    const propertiesOf = (file: string, name: string): string[] => {
      const decl = program.getSourceFile(file)?.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
      expect(decl, `${name} in ${file}`).toBeDefined();
      return checker.getTypeAtLocation(decl!.name).getProperties().map((p) => p.name).sort();
    };
    const lines = guide.split('\n');
    const tables = lines.flatMap((l, i) => (l.startsWith('| option |') ? [i] : []));
    expect(tables.length).toBe(2);
    const keysAt = (start: number): string[] => {
      const keys: string[] = [];
      for (const l of lines.slice(start + 2)) {
        if (!l.startsWith('|')) break;
        keys.push((l.split('|')[1] as string).trim().replace(/`/g, ''));
      }
      return keys.sort();
    };
    expect(keysAt(tables[0] as number)).toEqual(propertiesOf(join(SDK, 'api.ts'), 'SegmenterOptions'));
    expect(keysAt(tables[1] as number)).toEqual(propertiesOf(join(SDK, 'cmp/index.ts'), 'ConsentPlatformOptions'));
  });

  it('describes every event type and device type', () => {
    expect(tableKeys('event').sort()).toEqual([...PLAYBACK_EVENT_TYPES].sort());
    const deviceRow = guide.split('\n').find((l) => l.startsWith('| `device` |')) ?? '';
    for (const d of DEVICE_TYPES) expect(deviceRow, d).toContain(`'${d}'`);
  });

  it('maps genres to families as the SDK does, and lists every family and feature', () => {
    const lines = guide.split('\n');
    const start = lines.findIndex((l) => l.startsWith('| family |'));
    const rows = lines.slice(start + 2).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('|')));
    expect(rows.map((r) => (r.split('|')[1] as string).trim().replace(/`/g, ''))).toEqual([...GENRE_FAMILIES]);
    for (const row of rows) {
      const [, family, genres] = row.split('|').map((c) => c.trim().replace(/`/g, ''));
      for (const genre of (genres as string).split(', ')) expect(genreFamily(genre), genre).toBe(family);
    }
    for (const ignored of ['IMAX', '(no genres listed)']) expect(genreFamily(ignored)).toBeUndefined();
    for (const name of FEATURE_NAMES_V1) expect(guide, name).toContain(`\`${name}\``);
  });

  it('links only to files and headings that exist', () => {
    /** GitHub's anchor for a heading: lowercased, punctuation dropped, spaces to hyphens. */
    const slug = (heading: string): string => heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const anchors = (file: string): string[] => [...readFileSync(file, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string));
    const broken: string[] = [];
    for (const [, target] of guide.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target as string)) continue; // https: and the like
      const [path, anchor] = (target as string).split('#');
      const file = path ? join(ROOT, 'docs', path) : GUIDE_PATH;
      if (!existsSync(file)) broken.push(`${target}: no such file`);
      else if (anchor && !anchors(file).includes(anchor)) broken.push(`${target}: no such heading`);
    }
    expect(broken).toEqual([]);
  });

  it('documents every theming variable of the preference centre with its default', () => {
    const styles = readFileSync(join(SDK, 'preferences/styles.ts'), 'utf8');
    const defaults = new Map([...styles.matchAll(/var\((--edgeseg-[a-z-]+),([^)]+)\)/g)].map((m) => [m[1] as string, (m[2] as string).trim()]));
    expect(defaults.size).toBeGreaterThan(0);
    const documented = new Map(tableKeys('variable').map((v) => [v, guide.split('\n').find((l) => l.startsWith(`| \`${v}\` |`))?.split('|')[2]?.trim().replace(/`/g, '')]));
    expect([...documented.keys()].sort()).toEqual([...defaults.keys()].sort());
    for (const [name, value] of defaults) expect(documented.get(name), name).toBe(value);
  });
});
