/**
 * In-isolate coalescing of tally writes: concurrent `POST /v1/reports` requests served
 * by one Worker isolate that write to the same tally share one Durable Object call.
 * Measured side by side on the local stack (16 connections, 2026-11-23): the leader's
 * workerd CPU per report fell from 3.4–4.1 ms (one call per report) to 2.7–3.0 ms, and
 * throughput rose by 0–12 points of /healthz's (0–14 from loopback, no limiter). Sending
 * at once when no call is in flight, with no gathering wait, was tried and was worse
 * (smaller batches, more calls): 37% against 42% of /healthz in the same run.
 *
 * Why it is safe:
 * - A request gets its answer only after the DO's transaction committed its reports
 *   (SegmentTally group commit): no 202 for a lost write.
 * - The DO answers per request, in order, so a replayed id is a duplicate for the
 *   request that carried it, even when another request in the batch carried it first.
 * - The shared call is sent from `waitUntil` of the request that sends it (the one that
 *   opened the batch, when its short wait is over, or the one that filled it), so that
 *   request's client hanging up does not cancel the call the others wait for. The stub
 *   is made in the sending request's context.
 * - Nothing but plain data crosses requests: the sender writes each request's outcome
 *   into the batch, and each waiting request looks for it on its own timer, in its own
 *   context. (Resolving one request's promise from another's call is refused by workerd
 *   under vitest-pool-workers with "Cannot perform I/O on behalf of a different request",
 *   and under wrangler dev a request waiting with nothing of its own pending was
 *   sometimes cancelled as hung.) The wait is bounded: no answer within
 *   `answerLimitMs` fails the request, and the device's retry is then answered as a
 *   duplicate if the report was stored.
 */
import type { AddReportsResult } from '@edgeseg/aggregator';

/** One report as a tally stores it. */
export interface TallyItem {
  id: string;
  value: number;
}

/** What the batcher needs of a tally: one call that takes many requests' reports and answers each. */
export interface BatchTally {
  addReportBatches(batches: TallyItem[][]): Promise<AddReportsResult[]>;
}

/** The part of a request's ExecutionContext the batcher uses. */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

type Outcome = { ok: true; result: AddReportsResult } | { ok: false; error: unknown };

interface Waiter {
  items: TallyItem[];
  /** Set once, by the request that sent the batch. */
  outcome: Outcome | null;
}

interface Batch {
  waiters: Waiter[];
  size: number;
  sent: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Coalesces writes per tally for up to `delayMs` or `maxItems` reports.
 *
 * @example
 * const batcher = new TallyBatcher({ delayMs: 1, maxItems: 200 });
 * const { accepted } = await batcher.submit(c.executionCtx, name, () => tallyStub(env, m, period), items);
 */
export class TallyBatcher {
  private readonly open = new Map<string, Batch>();
  private readonly delayMs: number;
  private readonly maxItems: number;
  private readonly answerLimitMs: number;
  private readonly pollMs: number;

  /**
   * @param opts.delayMs how long the first request of a batch waits for others to join.
   * @param opts.maxItems a batch with this many reports is sent at once.
   * @param opts.pollMs how often a waiting request looks for its answer. Under workerd a
   *   timer of 0 ms already takes about 2 ms to fire (1 ms: about 3.5 ms, measured with
   *   wrangler dev), so 0, the default, is the shortest wait there is.
   * @param opts.answerLimitMs how long a request waits for its batch's answer before it fails (a 500; the device retries, and a stored id is then a duplicate).
   */
  constructor(opts: { delayMs: number; maxItems: number; pollMs?: number; answerLimitMs?: number }) {
    this.delayMs = opts.delayMs;
    this.maxItems = opts.maxItems;
    this.pollMs = opts.pollMs ?? 0;
    this.answerLimitMs = opts.answerLimitMs ?? 30_000;
  }

  /**
   * Adds one request's reports to the open batch of tally `key` (which names the DO:
   * one key, one tally) and resolves with that request's own answer once the batch's
   * transaction committed; rejects, for every request of the batch, if the call failed.
   * `tally` is called in the context of the request that sends the batch.
   *
   * @example
   * const result = await batcher.submit(ctx, 's-ab12:2026-W48', () => tallyStub(env, m, '2026-W48'), [{ id: 'r1', value: 2 }]);
   */
  async submit(ctx: WaitUntil, key: string, tally: () => Promise<BatchTally>, items: TallyItem[]): Promise<AddReportsResult> {
    let batch = this.open.get(key);
    if (!batch) {
      const opened: Batch = { waiters: [], size: 0, sent: false };
      batch = opened;
      this.open.set(key, opened);
      ctx.waitUntil(sleep(this.delayMs).then(() => this.send(key, opened, tally)));
    }
    const waiter: Waiter = { items, outcome: null };
    batch.waiters.push(waiter);
    batch.size += items.length;
    if (batch.size >= this.maxItems) ctx.waitUntil(this.send(key, batch, tally));
    const deadline = Date.now() + this.answerLimitMs;
    while (waiter.outcome === null) {
      if (Date.now() > deadline) throw new Error(`no answer from tally ${key} within ${this.answerLimitMs} ms`);
      await sleep(this.pollMs);
    }
    if (!waiter.outcome.ok) throw waiter.outcome.error;
    return waiter.outcome.result;
  }

  private async send(key: string, batch: Batch, tally: () => Promise<BatchTally>): Promise<void> {
    if (this.open.get(key) === batch) this.open.delete(key);
    if (batch.sent) return;
    batch.sent = true;
    const { waiters } = batch;
    try {
      const results = await (await tally()).addReportBatches(waiters.map((w) => w.items));
      if (results.length !== waiters.length) throw new Error(`the tally answered ${results.length} of ${waiters.length} requests`);
      waiters.forEach((w, i) => (w.outcome = { ok: true, result: results[i] as AddReportsResult }));
    } catch (error) {
      for (const w of waiters) w.outcome = { ok: false, error };
    }
  }
}
