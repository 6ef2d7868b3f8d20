// @ts-check
/**
 * The helper's HPKE key, pinned as an app pins it: the app's own configuration names the
 * helper aggregator's origin (here `GET /v1/stack` stands in for that build config), and
 * the key is read from the helper's own origin, never from the leader or its model. The
 * page passes it to `createSegmenter({ aggregators: { helper } })`; without it the SDK
 * contributes nothing in secure mode, so a helper that cannot be reached costs the
 * contributions only: personalization keeps working and the page says why.
 */

/** @typedef {{ config_id: number, kem_id: number, kdf_id: number, aead_id: number, public_key: string }} HpkeConfig */
/** @typedef {(url: string, init?: RequestInit) => Promise<Response>} FetchLike */

/** A page must start even when the helper's origin hangs. */
const TIMEOUT_MS = 5000;

/**
 * The JSON answer of a GET to `url`; throws on a failed request, a non-2xx answer or a timeout.
 * @param {FetchLike} fetchFn
 * @param {string} url
 * @param {RequestCache} cache
 * @returns {Promise<unknown>}
 */
async function getJson(fetchFn, url, cache) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    const res = await fetchFn(url, { credentials: 'omit', cache, signal: abort.signal });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return await res.json();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `v` has the shape of an HPKE config (the SDK compares every field with the round's).
 * @param {unknown} v
 * @returns {v is HpkeConfig}
 */
function isHpkeConfig(v) {
  const c = /** @type {Record<string, unknown>} */ (v);
  return !!c && typeof c === 'object' && ['config_id', 'kem_id', 'kdf_id', 'aead_id'].every((f) => Number.isInteger(c[f])) && typeof c.public_key === 'string' && c.public_key.length > 0;
}

/**
 * The helper's origin as the deployment's stack config (`GET /v1/stack`) names it, or null
 * when there is no helper (one operator); throws when it cannot be read or names no origin.
 *
 * @example
 * const origin = await stackHelperOrigin(location.origin); // 'http://127.0.0.1:8788'
 *
 * @param {string} leaderOrigin the origin of the edgeseg leader Worker
 * @param {FetchLike} [fetchFn]
 * @returns {Promise<string | null>}
 */
export async function stackHelperOrigin(leaderOrigin, fetchFn = (url, init) => fetch(url, init)) {
  const stack = /** @type {{ helper_url?: unknown }} */ (await getJson(fetchFn, `${leaderOrigin}/v1/stack`, 'no-store'));
  if (stack.helper_url === null) return null;
  if (typeof stack.helper_url !== 'string' || !/^https?:\/\/[^/]+$/.test(stack.helper_url)) throw new Error('the stack configuration names no helper origin');
  return stack.helper_url;
}

/**
 * The helper's current HPKE config for `createSegmenter`'s `aggregators.helper`, or null
 * with `problem` saying why in words for the page (null `problem`: the deployment has no
 * helper, so there is nothing to pin). Never throws.
 *
 * @example
 * const { helper, problem } = await helperPin(location.origin);
 * const seg = createSegmenter({ endpoint: location.origin, ...(helper ? { aggregators: { helper } } : {}) });
 *
 * @param {string} leaderOrigin the origin of the edgeseg leader Worker
 * @param {FetchLike} [fetchFn]
 * @returns {Promise<{ helper: HpkeConfig | null, problem: string | null }>}
 */
export async function helperPin(leaderOrigin, fetchFn = (url, init) => fetch(url, init)) {
  let helperUrl = null;
  try {
    helperUrl = await stackHelperOrigin(leaderOrigin, fetchFn);
    if (helperUrl === null) return { helper: null, problem: null }; // single operator: no helper, no secure rounds
    const configs = /** @type {{ helper?: unknown }} */ (await getJson(fetchFn, `${helperUrl}/.well-known/hpke-configs`, 'default'));
    if (!isHpkeConfig(configs.helper)) throw new Error(`${helperUrl} published no HPKE config`);
    return { helper: configs.helper, problem: null };
  } catch (err) {
    const where = helperUrl ? `The helper aggregator (${helperUrl})` : 'The helper aggregator';
    const why = err instanceof Error && err.name === 'AbortError' ? 'did not answer in time' : `could not be reached (${err instanceof Error ? err.message : String(err)})`;
    return { helper: null, problem: `${where} ${why}: nothing is contributed to secure measurement or training until it is; everything on this device still works.` };
  }
}

/**
 * Tells the viewer why the page contributes nothing (the helper's key could not be
 * pinned): a status line inserted by `place`, and a console warning.
 *
 * @example
 * showPinProblem(pin.problem, (note) => $('you').append(note));
 *
 * @param {string} problem
 * @param {(note: HTMLElement) => void} place
 */
export function showPinProblem(problem, place) {
  console.warn('[streambox]', problem);
  const note = document.createElement('p');
  note.id = 'helper-problem';
  note.className = 'muted small';
  note.setAttribute('role', 'status');
  note.textContent = problem;
  place(note);
}
