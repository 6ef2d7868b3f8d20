// @ts-check
/**
 * The API as the dashboard calls it: the marketer's bearer token on every call, and
 * problem+json answers turned into an ApiError with the server's own words. Always
 * revalidated: after a campaign edit the model changes within the model's max-age.
 */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} type the problem type's last path segment, e.g. 'not-found'
   * @param {string} message
   */
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

/**
 * Calls the API; resolves to the Response when it is 2xx, throws ApiError otherwise.
 *
 * @example
 * const res = await api('/v1/segments', { token });
 * @param {string} path
 * @param {{ token?: string | null, method?: string, body?: unknown, accept?: string }} [options]
 */
export async function api(path, { token = null, method = 'GET', body, accept = 'application/json' } = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-cache' });
  if (res.ok) return res;
  let problem = { type: '', title: res.statusText, detail: '' };
  try {
    problem = { ...problem, ...(await res.json()) };
  } catch {
    // not problem+json: keep the status text
  }
  const type = String(problem.type).split('/').pop() ?? '';
  throw new ApiError(res.status, type, [problem.title, problem.detail].filter(Boolean).join(': '));
}

/**
 * The JSON body of a successful call.
 *
 * @example
 * const { rounds } = await apiJson('/v1/rounds');
 * @param {string} path
 * @param {Parameters<typeof api>[1]} [options]
 */
export async function apiJson(path, options) {
  return (await api(path, options)).json();
}
