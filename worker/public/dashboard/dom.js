// @ts-check
/** Small DOM and number helpers shared by the dashboard panels. */

/**
 * An element with attributes and children (strings become text, never HTML).
 *
 * @example
 * h('td', { class: 'num' }, '42')
 * @param {string} tag
 * @param {Record<string, string | boolean | undefined>} [attrs]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    // Styles through the CSSOM: the page's CSP refuses inline style attributes.
    if (k === 'style') el.style.cssText = String(v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/**
 * A table with a caption, column headers and rows; the first cell of a row is its header.
 *
 * @example
 * table('Rounds', ['Round', 'State'], [['r1', 'open']])
 * @param {string} caption
 * @param {string[]} columns
 * @param {Array<Array<Node | string>>} rows
 * @param {{ numeric?: number[] }} [options] indexes of columns to right-align as numbers
 */
export function table(caption, columns, rows, options = {}) {
  const numeric = new Set(options.numeric ?? []);
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      {},
      h('caption', { class: 'muted' }, caption),
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((cell, i) => (i === 0 ? h('th', { scope: 'row' }, cell) : h('td', { class: numeric.has(i) ? 'num' : undefined }, cell)))))),
    ),
  );
}

/**
 * A paragraph saying plainly what is missing.
 *
 * @example
 * panel.append(empty('No rounds yet.'))
 * @param {string} text
 */
export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

/**
 * Epoch seconds as a short local date and time, or an en dash.
 *
 * @example
 * when(1764000000) // '24 Nov 2025, 16:00'
 * @param {number | null | undefined} s
 */
export function when(s) {
  if (s === null || s === undefined) return '–';
  return new Date(s * 1000).toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/**
 * A number with grouping and at most `digits` decimals.
 *
 * @example
 * fmt(12345.678, 1) // '12,345.7'
 * @param {number} n
 * @param {number} [digits]
 */
export function fmt(n, digits = 0) {
  return n.toLocaleString('en-GB', { maximumFractionDigits: digits });
}
