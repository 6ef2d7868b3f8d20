/**
 * The pages that read from the helper's own origin (the dashboard its signed ledger and
 * keys, /demo and /preferences its HPKE key to pin) need that origin in their CSP
 * `connect-src`. Static `_headers` cannot name it (each deployment has its own helper),
 * so these paths run the Worker first (`run_worker_first` in wrangler.toml): it takes the
 * page and its `_headers` from the assets and adds exactly the HELPER_URL origin.
 */
import { helperOrigin } from './helper-origin.ts';

/** Paths whose CSP gains the helper's origin (each page and its `.html` name). */
export const HELPER_READING_PAGES: ReadonlySet<string> = new Set(['/demo', '/demo.html', '/preferences', '/preferences.html', '/dashboard', '/dashboard.html']);

/**
 * A CSP with `origin` added to its `connect-src` (or unchanged when there is no origin,
 * as in a single-operator deployment).
 *
 * @example
 * withConnectSource("default-src 'self'; connect-src 'self'", 'https://helper.example')
 * // "default-src 'self'; connect-src 'self' https://helper.example"
 */
export function withConnectSource(csp: string, origin: string | null): string {
  if (!origin) return csp;
  return csp
    .split(';')
    .map((part) => (/^\s*connect-src\s/i.test(part) ? `${part.trimEnd()} ${origin}` : part))
    .join(';');
}

/**
 * Serves one of {@link HELPER_READING_PAGES} from the assets, its CSP extended by the
 * helper's origin.
 *
 * @example
 * if (HELPER_READING_PAGES.has(url.pathname)) return servePage(request, env);
 */
export async function servePage(request: Request, env: { ASSETS: Fetcher; HELPER_URL?: string }): Promise<Response> {
  const asset = await env.ASSETS.fetch(request);
  const csp = asset.headers.get('content-security-policy');
  if (!csp) return asset;
  const res = new Response(asset.body, asset);
  res.headers.set('content-security-policy', withConnectSource(csp, helperOrigin(env.HELPER_URL)));
  return res;
}
