/**
 * Delivers the outbox: one sender at a time across tabs (Web Locks), reports in batches
 * of up to 100, each contribution alone, retry with exponential backoff and jitter. An
 * item leaves the outbox only once the server has it (2xx, or 409 when it was already
 * accepted or its round no longer takes it), so nothing is lost offline or across
 * reloads, and a resend after a lost answer is never counted twice. On a 2xx the body is
 * kept, per purpose, as the last payload that left the device (`lastSent`).
 */
import { MAX_REPORTS_PER_BATCH } from '@edgeseg/shared';
import type { KvValues, OutboxItem, Store } from './store.ts';

/**
 * What happened to a request: sent (2xx: drop from the outbox, remember as `lastSent`),
 * delivered (409, the server already had it: drop), rejected (drop, report) or retry.
 */
export type DeliveryOutcome = 'sent' | 'delivered' | 'rejected' | 'retry';

/**
 * POSTs one JSON body (`/v1/reports` batch or `/v1/contributions`) and classifies the answer.
 *
 * @example
 * const outcome = await post('https://edge.example/v1/reports', { reports });
 */
export async function post(url: string, body: unknown, keepalive = false): Promise<DeliveryOutcome> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit', keepalive });
    return res.ok ? 'sent' : res.status === 409 ? 'delivered' : res.status >= 500 || res.status === 429 ? 'retry' : 'rejected';
  } catch {
    return 'retry';
  }
}

export interface SenderOptions {
  endpoint: string;
  /** Name of the cross-tab lock; one per database. */
  lockName: string;
  store: () => Store | null;
  /** Whether the purpose of an item is still granted (withdrawn purposes never send). */
  allowed: (item: OutboxItem) => boolean;
  fail: (err: Error) => void;
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

/**
 * Creates the outbox sender.
 *
 * @example
 * const sender = createSender({ endpoint, lockName: 'edgeseg:send', store: () => db, allowed: () => true, fail: console.warn });
 * await sender.deliver();
 */
export function createSender(opts: SenderOptions): Sender {
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
      const url = `${opts.endpoint}/v1/${contribution ? 'contributions' : report ? 'reports' : 'impressions'}`;
      const body = contribution || { reports: items.map((i) => i.report || i.impression) };
      const outcome = await post(url, body, keepalive);
      if (outcome === 'retry') {
        scheduleRetry();
        return;
      }
      retryDelay = FIRST_RETRY_MS;
      if (outcome === 'rejected') opts.fail(new Error(`edgeseg: the server refused ${url}; it was dropped`));
      const tx = db.transaction(['outbox', 'kv'], 'readwrite');
      const kv = tx.objectStore('kv');
      const writes: Promise<unknown>[] = items.map((i) => tx.objectStore('outbox').delete(i.id));
      if (outcome === 'sent') {
        // one batch is one purpose: reports of either kind are all measurement, a contribution goes alone
        const lastSent = ((await kv.get('lastSent')) || {}) as KvValues['lastSent'];
        lastSent[(items[0] as OutboxItem).purpose] = { at: Date.now(), url, body };
        writes.push(kv.put(lastSent, 'lastSent'));
      }
      await Promise.all([...writes, tx.done]);
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
