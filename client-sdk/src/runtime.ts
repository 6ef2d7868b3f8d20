/**
 * The few platform features the core uses that 2020 TV browsers (webOS 5 = Chromium 68,
 * Tizen 5.5 = Chromium 69) lack, each behind feature detection with a fallback.
 */

/**
 * Runs `fn` at the end of the current task: `queueMicrotask` where there is one (Chromium
 * 71+), a resolved promise's callback (the same microtask queue) elsewhere.
 *
 * @example
 * defer(() => writeQueuedEvents());
 */
export function defer(fn: () => void): void {
  if (typeof queueMicrotask === 'function') queueMicrotask(fn);
  else void Promise.resolve().then(fn);
}

/**
 * Why WebCrypto cannot be used here, or null when it can: model signatures are verified
 * and shares sealed with `crypto.subtle`, which browsers give only to secure contexts
 * (HTTPS, or http://localhost).
 *
 * @example
 * const problem = insecureContext(); // 'this page is not a secure context (…)' on plain HTTP
 */
export function insecureContext(): string | null {
  if (typeof crypto !== 'undefined' && crypto.subtle) return null;
  const plain = typeof location !== 'undefined' ? location.protocol : '';
  return `crypto.subtle is unavailable${plain === 'http:' ? ' on plain HTTP' : ''}: edgeseg needs a secure context (HTTPS, or http://localhost in development) to verify models and to send anything`;
}
