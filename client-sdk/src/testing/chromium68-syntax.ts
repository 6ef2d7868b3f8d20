/**
 * Test fixture (not part of any bundle): finds syntax newer than Chromium 68 (webOS 5;
 * Tizen 5.5 is Chromium 69) in a JavaScript module. A TV browser that meets such syntax
 * refuses the whole file, so the SDK would do nothing at all. Allowed (with the Chromium
 * version that brought it): dynamic import() (63), import.meta (64), optional catch
 * binding (66), BigInt literals (67), object rest/spread (60), async generators (63).
 */
import { parse, type Node } from 'acorn';
import { fullAncestor } from 'acorn-walk';

/** One construct Chromium 68 cannot parse, with where it is (1-based line, 0-based column). */
export interface SyntaxFinding {
  construct: string;
  line: number;
  column: number;
}

type AnyNode = Node & Record<string, unknown>;

const isFunction = (n: Node): boolean => n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression';
const typeOf = (v: unknown): string | undefined => (v && typeof v === 'object' ? (v as { type?: string }).type : undefined);

/** What, if anything, of `node` (given its ancestors) is newer than Chromium 68. */
function newerThan68(node: AnyNode, ancestors: readonly Node[]): string | null {
  switch (node.type) {
    case 'ChainExpression':
      return 'optional chaining ?. (Chromium 80)';
    case 'LogicalExpression':
      return node.operator === '??' ? 'nullish coalescing ?? (Chromium 80)' : null;
    case 'AssignmentExpression':
      return node.operator === '??=' || node.operator === '||=' || node.operator === '&&=' ? `logical assignment ${String(node.operator)} (Chromium 85)` : null;
    case 'PropertyDefinition':
      return 'class field (Chromium 72)';
    case 'StaticBlock':
      return 'class static block (Chromium 94)';
    case 'PrivateIdentifier':
      return 'private name #x (Chromium 74+)';
    case 'MemberExpression':
      return typeOf(node.property) === 'PrivateIdentifier' ? 'private name #x (Chromium 74+)' : null;
    case 'MethodDefinition':
      return typeOf(node.key) === 'PrivateIdentifier' ? 'private method (Chromium 84)' : null;
    case 'BinaryExpression':
      return typeOf(node.left) === 'PrivateIdentifier' ? 'private brand check #x in (Chromium 91)' : null;
    case 'AwaitExpression':
      return ancestors.some(isFunction) ? null : 'top-level await (Chromium 89)';
    case 'ForOfStatement':
      return node.await === true && !ancestors.some(isFunction) ? 'top-level for await (Chromium 89)' : null;
    case 'ExportAllDeclaration':
      return node.exported ? 'export * as name (Chromium 72)' : null;
    case 'ImportDeclaration':
    case 'ExportNamedDeclaration': {
      // acorn-walk does not visit specifiers: look at them here.
      const specifiers = (node.specifiers ?? []) as AnyNode[];
      return specifiers.some((s) => typeOf(s.imported) === 'Literal' || typeOf(s.local) === 'Literal' || typeOf(s.exported) === 'Literal') ? 'string module export name (Chromium 88)' : null;
    }
    case 'Literal': {
      const regex = node.regex as { flags: string } | undefined;
      if (regex && /[dv]/.test(regex.flags)) return `regexp flag ${regex.flags.replace(/[^dv]/g, '')} (Chromium 90/112)`;
      if ((typeof node.value === 'number' || typeof node.bigint === 'string') && String(node.raw).includes('_')) return 'numeric separator (Chromium 75)';
      return null;
    }
    default:
      return null;
  }
}

/**
 * Every construct in `source` (an ES module) that Chromium 68 cannot parse. Throws when
 * `source` is not valid JavaScript at all.
 *
 * @example
 * chromium68Findings('a?.b') // [{ construct: 'optional chaining ?. (Chromium 80)', line: 1, column: 0 }]
 */
export function chromium68Findings(source: string): SyntaxFinding[] {
  const ast = parse(source, { ecmaVersion: 'latest', sourceType: 'module', locations: true, allowHashBang: false });
  const findings: SyntaxFinding[] = [];
  fullAncestor(ast, (node, _state, ancestors) => {
    const construct = newerThan68(node as AnyNode, ancestors.slice(0, -1));
    if (construct) findings.push({ construct, line: node.loc?.start.line ?? 0, column: node.loc?.start.column ?? 0 });
  });
  return findings;
}
