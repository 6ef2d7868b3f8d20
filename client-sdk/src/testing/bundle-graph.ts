/**
 * Test fixture (not part of any bundle): the static import graph of the built SDK files
 * (client-sdk/dist), for the size budgets. With code splitting an entry is its own file
 * plus every shared chunk it imports statically (the browser fetches them all before the
 * entry runs), so a budget that measured the entry file alone would miss most of it.
 */
import { parse, type Program } from 'acorn';

/**
 * The files a built module imports statically (`import … from`, `import "…"`,
 * `export … from`), as file names next to it; dynamic `import()` is not followed.
 *
 * @example
 * staticImports('import{a}from"./chunk-X.min.js";') // ['chunk-X.min.js']
 */
export function staticImports(source: string): string[] {
  const program = parse(source, { ecmaVersion: 'latest', sourceType: 'module' }) as Program;
  const files: string[] = [];
  for (const node of program.body) {
    if ((node.type === 'ImportDeclaration' || node.type === 'ExportAllDeclaration' || node.type === 'ExportNamedDeclaration') && node.source) {
      const spec = String(node.source.value);
      if (!spec.startsWith('./')) throw new Error(`a built file imports ${spec}: every import must be a file next to it (the bundle is self-contained)`);
      files.push(spec.slice(2));
    }
  }
  return files;
}

/**
 * `entry` and every file it reaches through static imports, `entry` first.
 *
 * @example
 * staticClosure('edgeseg.min.js', (f) => readFileSync(`dist/${f}`, 'utf8'))
 */
export function staticClosure(entry: string, read: (file: string) => string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const dep of staticImports(read(file))) visit(dep);
  };
  visit(entry);
  return [...seen];
}
