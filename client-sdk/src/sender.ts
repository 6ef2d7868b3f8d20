/**
 * Delivers the outbox: one sender at a time across tabs (Web Locks where there are any),
 * reports in batches of up to 100, each contribution alone, retry with exponential
 * backoff and jitter. The report routes answer per item (accepted, duplicate or refused
 * for good), so an item leaves the outbox once the server has it or can never take it,
 * and only what can still succeed is kept and sent again: nothing is lost offline or
 * across reloads, one stale item does not cost the rest of its batch, and a resend after
 * a lost answer is never counted twice. On a 2xx the body is kept, per purpose, as the
 * last payload that left the device (`lastSent`).
 */
import { itemResultsOf, MAX_REPORTS_PER_BATCH, type ItemResult } from '@edgeseg/shared';
import { EdgesegError } from './errors.ts';
import type { Fetch } from './model.ts';
import type { KvValues, OutboxItem, Store } from './store.ts';

/**
 * What the server said to one request, as the sender acts on it:
 * - `answered`: it took the request (2xx) or answered it item by item (409, 422 with
 *   `results`); `results` is null when it did not list items (a contribution, or a 409
 *   for a contribution it already has or a round that no longer takes it): the whole
 *   request is then settled.
 * - `refused`: the request as a whole can never succeed (400 invalid body, 413, …): drop it.
 * - `retry`: it may still succeed (network error, 5xx, 429): keep it and try later.
 */
export type DeliveryAnswer =
  | { kind: 'answered'; status: number; results: ItemResult[] | null }
  | { kind: 'refused'; status: number; type: string | null }
  | { kind: 'retry' };

/**
 * POSTs one JSON body (a `/v1/reports` or `/v1/impressions` batch, or a
 * `/v1/contributions` body) and reads the answer.
 *
 * @example
 * const answer = await post(fetch, 'https://edge.example/v1/reports', { reports });
 * if (answer.kind === 'answered') console.log(answer.results);
 */
export async function post(fetchFn: Fetch, url: string, body: unknown, keepalive = false): Promise<DeliveryAnswer> {
  let res: Response;
  try {
    res = await fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit', keepalive });
  } catch {
    return { kind: 'retry' };
  }
  if (res.status >= 500 || res.status === 429) return { kind: 'retry' };
  const answer: unknown = await res.json().catch(() => null);
  const results = itemResultsOf(answer);
  if (res.ok || res.status === 409 || (res.status === 422 && results)) return { kind: 'answered', status: res.status, results };
  const type = answer && typeof (answer as { type?: unknown }).type === 'string' ? String((answer as { type: string }).type).replace(/^.*\//, '') : null;
  return { kind: 'refused', status: res.status, type };
}

export interface SenderOptions {
  endpoint: string;
  /** Name of the cross-tab lock; one per database. */
  lockName: string;
  store: () => Store | null;
  /** Whether the purpose of an item is still granted (withdrawn purposes never send). */
  allowed: (item: OutboxItem) => boolean;
  /** Told once per request of what the server refused for good (an `EdgesegError` with code `send-refused`), or of a failure. */
  fail: (err: Error) => void;
  /** The fetch to POST with (default: the global one); tests inject a fake. */
  fetch?: Fetch;
}

export interface Sender {
  /** Sends everything queued; resolves when done or deferred to a retry. Never rejects. */
  deliver(keepalive?: boolean): Promise<void>;
  stop(): void;
}

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 5 * 60_000;

/** Web Locks where available (every evergreen browser); older TV runtimes run without. */
interface LockManagerLike {
  /** Resolves with what `cb` resolves with, once it has run holding the lock. */
  request(name: string, cb: () => Promise<void>): Promise<void>;
}

/** The id the server answers an item by: its report's or impression's (a contribution has none of its own). */
const payloadId = (item: OutboxItem): string => (item.report || item.impression || item).id;

/**
 * What to do with each item of one answered request: `done` leave the outbox (accepted,
 * duplicate, or a request settled as a whole), `refused` leave it and are reported,
 * `kept` were not answered and are sent again later.
 *
 * @example
 * const { done, refused, kept } = settle(items, answer.results);
 */
export function settle(items: readonly OutboxItem[], results: readonly ItemResult[] | null): { done: OutboxItem[]; refused: { item: OutboxItem; result: ItemResult }[]; kept: OutboxItem[] } {
  if (!results) return { done: items.slice(), refused: [], kept: [] };
  const byId = new Map(results.map((r) => [r.id, r] as const));
  const settled: ReturnType<typeof settle> = { done: [], refused: [], kept: [] };
  for (const item of items) {
    const result = byId.get(payloadId(item));
    if (!result) settled.kept.push(item);
    else if (result.status === 'refused') settled.refused.push({ item, result });
    else settled.done.push(item);
  }
  return settled;
}

/**
 * Creates the outbox sender.
 *
 * @example
 * const sender = createSender({ endpoint, lockName: 'edgeseg:send', store: () => db, allowed: () => true, fail: console.warn });
 * await sender.deliver();
 */
export function createSender(opts: SenderOptions): Sender {
  const fetchFn: Fetch = opts.fetch || ((input, init) => fetch(input, init));
  let running: Promise<void> | null = null;
  let again = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelay = FIRST_RETRY_MS;
  let stopped = false;

  async function drain(keepalive: boolean): Promise<void> {
    const db = opts.store();
    if (!db) return;
    for (;;) {
      const queued = (await db.transaction('outbox').store.getAll()).filter(opts.allowed);
      const first = queued[0];
      if (!first) return;
      const { contribution, report } = first;
      // A contribution goes alone; segment reports go together, and so do impression reports.
      const items = contribution ? [first] : queued.filter((i) => (report ? i.report : i.impression)).slice(0, MAX_REPORTS_PER_BATCH);
      const path = `/v1/${contribution ? 'contributions' : report ? 'reports' : 'impressions'}`;
      const url = opts.endpoint + path;
      const body = contribution || { reports: items.map((i) => i.report || i.impression) };
      const answer = await post(fetchFn, url, body, keepalive);
      if (answer.kind === 'retry') {
        scheduleRetry();
        return;
      }
      let leaving = items;
      let kept: OutboxItem[] = [];
      if (answer.kind === 'refused') {
        opts.fail(new EdgesegError('send-refused', 'send', `edgeseg: the server refused POST ${path} as a whole (${answer.status}${answer.type ? ` ${answer.type}` : ''}); its ${items.length} item(s) were dropped: ${items.map(payloadId).join(', ')}`));
      } else {
        const settled = settle(items, answer.results);
        leaving = settled.done.concat(settled.refused.map((r) => r.item));
        kept = settled.kept;
        const named = settled.refused.map(({ item, result }) => `${payloadId(item)} (${result.type || 'refused'}${result.detail ? `: ${result.detail}` : ''})`);
        if (named.length) opts.fail(new EdgesegError('send-refused', 'send', `edgeseg: the server refused ${named.length} of ${items.length} item(s) of POST ${path} for good; they were dropped: ${named.join('; ')}`));
      }
      const tx = db.transaction(['outbox', 'kv'], 'readwrite');
      const kv = tx.objectStore('kv');
      const writes: Promise<unknown>[] = leaving.map((i) => tx.objectStore('outbox').delete(i.id));
      if (answer.kind === 'answered' && answer.status >= 200 && answer.status < 300) {
        // one batch is one purpose: reports of either kind are all measurement, a contribution goes alone
        const lastSent = ((await kv.get('lastSent')) || {}) as KvValues['lastSent'];
        lastSent[(items[0] as OutboxItem).purpose] = { at: Date.now(), url, body };
        writes.push(kv.put(lastSent, 'lastSent'));
      }
      await Promise.all([...writes, tx.done]);
      if (kept.length) {
        // The server did not answer for these: they may still succeed, later.
        scheduleRetry();
        return;
      }
      retryDelay = FIRST_RETRY_MS;
    }
  }

  function scheduleRetry(): void {
    if (retryTimer !== undefined || stopped) return;
    const delay = retryDelay * (0.5 + Math.random());
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void deliver();
    }, delay);
  }

  function deliver(keepalive = false): Promise<void> {
    if (running) {
      again = true; // something new was queued while a send was under way
      return running;
    }
    const locks = typeof navigator !== 'undefined' ? (navigator as { locks?: LockManagerLike }).locks : undefined;
    const run = async (): Promise<void> => {
      do {
        again = false;
        await drain(keepalive);
      } while (again && retryTimer === undefined);
    };
    const current: Promise<void> = (locks ? locks.request(opts.lockName, run) : run())
      .catch((err: unknown) => {
        opts.fail(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        running = null;
      });
    running = current;
    return current;
  }

  return {
    deliver,
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
    },
  };
}
