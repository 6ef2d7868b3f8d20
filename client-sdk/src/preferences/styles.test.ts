import { describe, expect, it } from 'vitest';
import { STYLES } from './styles.ts';

/** Selectors Chromium 68/69 (webOS 5, Tizen 5.5) does not know: a rule naming one is dropped there whole. */
const NEWER_SELECTORS = [':focus-visible', ':is(', ':where(', ':has(', ':not(:is'];
/** Properties it does not know, whose loss would change the layout (flexbox `gap` is Chromium 84). */
const NEWER_PROPERTIES = ['gap', 'row-gap', 'column-gap', 'inset', 'aspect-ratio'];

interface Rule {
  selector: string;
  declarations: Map<string, string>;
}

/** The style rules of `css` (at-rule blocks opened, their conditions ignored), in order. */
function rules(css: string): Rule[] {
  const out: Rule[] = [];
  const body = css.replace(/@media[^{]*\{((?:[^{}]*\{[^{}]*\})*)\s*\}/g, '$1');
  for (const m of body.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const declarations = new Map<string, string>();
    for (const d of (m[2] ?? '').split(';')) {
      const at = d.indexOf(':');
      if (at > 0) declarations.set(d.slice(0, at).trim(), d.slice(at + 1).trim());
    }
    out.push({ selector: (m[1] ?? '').trim(), declarations });
  }
  return out;
}

/** What Chromium 68 keeps: every rule none of whose selectors is unknown to it. */
const oldEngineRules = (all: Rule[]): Rule[] => all.filter((r) => !NEWER_SELECTORS.some((s) => r.selector.includes(s)));

/** The outline a focused `tag` gets from `all`: the last rule naming `tag:focus` wins (same specificity order as written). */
function focusOutline(all: Rule[], tag: string): string | undefined {
  let outline: string | undefined;
  for (const r of all) {
    const selectors = r.selector.split(',').map((s) => s.trim());
    if (selectors.includes(`${tag}:focus`) && r.declarations.has('outline')) outline = r.declarations.get('outline');
  }
  return outline;
}

describe('the preference centre’s styles on 2020 TVs (Chromium 68/69)', () => {
  const all = rules(STYLES);

  it('parses into rules (the parser sees the whole sheet)', () => {
    expect(all.length).toBeGreaterThan(30);
    expect(STYLES.split('{').length).toBe(STYLES.split('}').length);
  });

  it('keeps a focus ring on every control where :focus-visible is unknown', () => {
    const old = oldEngineRules(all);
    for (const tag of ['button', 'summary']) expect(focusOutline(old, tag), tag).toMatch(/^\.25em solid /);
  });

  it('puts :focus-visible only in a rule whose loss leaves the ring on, and takes it off there for pointer focus on new engines', () => {
    const newer = all.filter((r) => NEWER_SELECTORS.some((s) => r.selector.includes(s)));
    expect(newer.map((r) => r.selector)).toEqual(['button:focus:not(:focus-visible),summary:focus:not(:focus-visible)']);
    expect(Object.fromEntries(newer[0]?.declarations ?? [])).toEqual({ outline: 'none' });
  });

  it('uses no property those engines lack for layout (spacing is margins, not flexbox gap)', () => {
    for (const r of all) for (const p of NEWER_PROPERTIES) expect(r.declarations.has(p), `${r.selector} { ${p} }`).toBe(false);
  });

  it('gives old engines a word-break before overflow-wrap:anywhere (Chromium 80)', () => {
    for (const r of all.filter((x) => x.declarations.get('overflow-wrap') === 'anywhere')) expect(r.declarations.get('word-break'), r.selector).toBe('break-word');
  });
});
