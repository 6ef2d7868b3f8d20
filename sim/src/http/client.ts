/**
 * HTTP for `--via-http`: bounded concurrency, and a 429 answered by waiting its
 * Retry-After (seconds) before sending the same request again.
 */

export interface HttpAnswer {
  status: number;
  body: unknown;
  text: string;
}

const MAX_ATTEMPTS = 8;

/**
 * Sends one request; on 429 waits Retry-After (default 1 s) and tries again, up to 8 times.
 *
 * @example
 * const { status, body } = await send('http://127.0.0.1:8787/v1/reports', { method: 'POST', body: '…' });
 */
export async function send(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, init);
    const text = await res.text();
    if (res.status === 429 && attempt < MAX_ATTEMPTS) {
      const after = Number(res.headers.get('retry-after'));
      await new Promise((r) => setTimeout(r, (Number.isFinite(after) && after > 0 ? after : 1) * 1000));
      continue;
    }
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { status: res.status, body, text };
  }
}

/**
 * Runs `task` for every item with at most `limit` in flight; results in item order.
 *
 * @example
 * const answers = await mapBounded(batches, 8, (b) => send(url, { method: 'POST', body: JSON.stringify(b) }));
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
