/**
 * 2020 smart TVs in a current Chromium: webOS 5 runs Chromium 68 and Tizen 5.5 Chromium
 * 69, and neither can be downloaded here. So the browser tests remove, before any page
 * script runs, every built-in API those engines lack that the SDK or a library might
 * reach for. What syntax they parse is checked on the bundles' AST instead; CSS is
 * checked by dropping the rules they would drop (see tests/e2e/sdk-old-tv.test.ts).
 * docs/support-matrix.md cites this list.
 */

/** One built-in removed: its path from the global object, and why it is missing on a 2020 TV. */
export interface RemovedApi {
  /** e.g. `Object.fromEntries`, `navigator.locks`, `Array.prototype.at`. */
  api: string;
  /** The first Chromium that has it, or why the SDK treats it as optional anyway. */
  since: string;
}

/**
 * Everything removed. Chromium 68 has (and nothing here removes): Promise and
 * Promise.prototype.finally, fetch with AbortController, IndexedDB, crypto.subtle and
 * crypto.getRandomValues, BigInt, TextEncoder/TextDecoder, module scripts and dynamic
 * import(), custom elements and shadow DOM, Intl (DateTimeFormat, NumberFormat,
 * Collator, PluralRules).
 */
export const REMOVED_FOR_2020_TVS: readonly RemovedApi[] = [
  { api: 'queueMicrotask', since: 'Chromium 71' },
  { api: 'globalThis', since: 'Chromium 71' },
  { api: 'BroadcastChannel', since: 'Chromium 54, but missing from some TV and embedded runtimes and Safari before 15.4: optional in the SDK' },
  { api: 'navigator.locks', since: 'Chromium 69' },
  { api: 'Object.fromEntries', since: 'Chromium 73' },
  { api: 'Array.prototype.flat', since: 'Chromium 69' },
  { api: 'Array.prototype.flatMap', since: 'Chromium 69' },
  { api: 'String.prototype.matchAll', since: 'Chromium 73' },
  { api: 'String.prototype.replaceAll', since: 'Chromium 85' },
  { api: 'Promise.allSettled', since: 'Chromium 76' },
  { api: 'Promise.any', since: 'Chromium 85' },
  { api: 'AggregateError', since: 'Chromium 85' },
  { api: 'structuredClone', since: 'Chromium 98' },
  { api: 'Array.prototype.at', since: 'Chromium 92' },
  { api: 'String.prototype.at', since: 'Chromium 92' },
  { api: 'Array.prototype.findLast', since: 'Chromium 97' },
  { api: 'Array.prototype.findLastIndex', since: 'Chromium 97' },
  { api: 'Array.prototype.toSorted', since: 'Chromium 110' },
  { api: 'Object.hasOwn', since: 'Chromium 93' },
  { api: 'Object.groupBy', since: 'Chromium 117' },
  { api: 'Promise.withResolvers', since: 'Chromium 119' },
  { api: 'Symbol.prototype.description', since: 'Chromium 70' },
  { api: 'WeakRef', since: 'Chromium 84' },
  { api: 'FinalizationRegistry', since: 'Chromium 84' },
  { api: 'AbortSignal.timeout', since: 'Chromium 103' },
  { api: 'AbortSignal.any', since: 'Chromium 116' },
  { api: 'AbortSignal.abort', since: 'Chromium 93' },
  { api: 'crypto.randomUUID', since: 'Chromium 92' },
  { api: 'TextEncoder.prototype.encodeInto', since: 'Chromium 74' },
  { api: 'Blob.prototype.text', since: 'Chromium 76' },
  { api: 'Blob.prototype.arrayBuffer', since: 'Chromium 76' },
  { api: 'Blob.prototype.stream', since: 'Chromium 76' },
  { api: 'Response.json', since: 'Chromium 105 (the static one; Response.prototype.json stays)' },
  { api: 'URL.canParse', since: 'Chromium 120' },
  { api: 'IDBFactory.prototype.databases', since: 'Chromium 71' },
  { api: 'IDBTransaction.prototype.commit', since: 'Chromium 76' },
  { api: 'CompressionStream', since: 'Chromium 80' },
  { api: 'reportError', since: 'Chromium 95' },
  { api: 'scheduler', since: 'Chromium 94' },
  { api: 'navigator.userAgentData', since: 'Chromium 90' },
  { api: 'Intl.RelativeTimeFormat', since: 'Chromium 71' },
  { api: 'Intl.ListFormat', since: 'Chromium 72' },
  { api: 'Intl.Locale', since: 'Chromium 74' },
  { api: 'Intl.DisplayNames', since: 'Chromium 81' },
  { api: 'Intl.Segmenter', since: 'Chromium 87' },
  { api: 'Element.prototype.toggleAttribute', since: 'Chromium 69' },
  { api: 'Element.prototype.replaceChildren', since: 'Chromium 86' },
  { api: 'HTMLElement.prototype.attachInternals', since: 'Chromium 77' },
  { api: 'Document.prototype.adoptedStyleSheets', since: 'Chromium 73' },
  { api: 'ShadowRoot.prototype.adoptedStyleSheets', since: 'Chromium 73' },
];

/**
 * Removes each of `apis` (paths from the global object) from wherever it is defined on
 * its owner's prototype chain (`navigator.locks` is a getter on Navigator.prototype), and
 * throws if one is still reachable. Runs in the page, as an init script: it must itself
 * use nothing newer than Chromium 68.
 *
 * @example
 * await context.addInitScript(removeApis, REMOVED_FOR_2020_TVS.map((r) => r.api));
 */
export function removeApis(apis: readonly string[]): void {
  for (const path of apis) {
    const names = path.split('.');
    const last = names.pop() as string;
    let owner: unknown = window;
    for (const name of names) owner = owner === null || owner === undefined ? undefined : (owner as Record<string, unknown>)[name];
    if (owner === null || owner === undefined) continue;
    for (let o: object | null = owner as object; o; o = Object.getPrototypeOf(o) as object | null) {
      if (Object.prototype.hasOwnProperty.call(o, last)) delete (o as Record<string, unknown>)[last];
    }
    if (last in (owner as object)) throw new Error(`old-TV emulation: could not remove ${path}`);
  }
}

/**
 * The `apis` still reachable in the page (after removeApis: none). Runs in the page.
 *
 * @example
 * expect(await page.evaluate(stillPresent, apis)).toEqual([]);
 */
export function stillPresent(apis: readonly string[]): string[] {
  const present: string[] = [];
  for (const path of apis) {
    const names = path.split('.');
    const last = names.pop() as string;
    let owner: unknown = window;
    for (const name of names) owner = owner === null || owner === undefined ? undefined : (owner as Record<string, unknown>)[name];
    // `in`, not a read: reading an accessor on a prototype (Document.prototype.adoptedStyleSheets) throws.
    if (owner !== null && owner !== undefined && last in (owner as object)) present.push(path);
  }
  return present;
}
