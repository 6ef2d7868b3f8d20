/** The helper aggregator's origin as this leader's config names it (HELPER_URL). */

/**
 * The helper's origin in `HELPER_URL`, or null when it is unset or not an absolute
 * http(s) URL (a page must never be sent to a relative or script URL).
 *
 * @example
 * helperOrigin('http://127.0.0.1:8788/') // 'http://127.0.0.1:8788'
 */
export function helperOrigin(helperUrl: string | undefined): string | null {
  if (!helperUrl) return null;
  try {
    const url = new URL(helperUrl);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}
