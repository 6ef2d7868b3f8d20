/**
 * Group commit for a SQLite-backed Durable Object: calls that arrive within a couple of
 * milliseconds share one transaction, and each caller's promise settles only after that
 * transaction, so no answer is ever given for a write that did not happen. Fewer,
 * larger commits are what lets one DO take many small writes per second.
 */

interface Pending<T, R> {
  items: T[];
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Batches writes into shared transactions.
 *
 * @example
 * const commits = new GroupCommit(ctx.storage, (items: Row[]) => insertAll(items));
 * const result = await commits.submit(rows);
 */
export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly storage: DurableObjectStorage;
  private readonly write: (items: T[]) => R;
  private readonly delayMs: number;
  private readonly onAbort: () => void;

  /**
   * @param write runs inside the shared transaction, once per submitted call, and returns that call's result.
   * @param onAbort runs when a transaction failed (and rolled back), so in-memory state built in `write` can be dropped.
   */
  constructor(storage: DurableObjectStorage, write: (items: T[]) => R, opts: { delayMs?: number; onAbort?: () => void } = {}) {
    this.storage = storage;
    this.write = write;
    this.delayMs = opts.delayMs ?? 2;
    this.onAbort = opts.onAbort ?? (() => undefined);
  }

  /**
   * Queues one call's items; resolves with its result once their transaction committed.
   *
   * @example
   * const { accepted } = await commits.submit([row]);
   */
  submit(items: T[]): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.timer ??= setTimeout(() => this.flush(), this.delayMs);
    });
  }

  /**
   * Commits whatever is queued now (for example before sealing), synchronously.
   *
   * @example
   * commits.flush();
   */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let results: R[];
    try {
      results = this.storage.transactionSync(() => batch.map((p) => this.write(p.items)));
    } catch (err) {
      this.onAbort();
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i] as R));
  }
}
