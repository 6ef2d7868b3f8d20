import type { AddReportsResult } from '@edgeseg/aggregator';
import { describe, expect, it } from 'vitest';
import { TallyBatcher, type BatchTally, type TallyItem } from './tally-batcher.ts';

/** A tally in memory that answers each request of a call in order, as SegmentTally does. */
function memoryTally() {
  const stored = new Set<string>();
  const calls: TallyItem[][][] = [];
  const tally: BatchTally = {
    async addReportBatches(batches) {
      calls.push(batches);
      return batches.map((items): AddReportsResult => {
        let accepted = 0;
        for (const { id } of items) {
          if (stored.has(id)) continue;
          stored.add(id);
          accepted++;
        }
        return { accepted, duplicates: items.length - accepted };
      });
    },
  };
  return { tally, calls, stored };
}

/** Records what a request hands to waitUntil, as the ExecutionContext would keep it running. */
function requestContext() {
  const kept: Promise<unknown>[] = [];
  return { kept, ctx: { waitUntil: (p: Promise<unknown>) => void kept.push(p) } };
}

const item = (id: string, value = 0): TallyItem => ({ id, value });

describe('TallyBatcher', () => {
  it('sends concurrent requests to one tally in one call and answers each request for its own reports', async () => {
    const { tally, calls } = memoryTally();
    const batcher = new TallyBatcher({ delayMs: 5, maxItems: 100 });
    const first = requestContext();
    const answers = await Promise.all([
      batcher.submit(first.ctx, 't', async () => tally, [item('a'), item('b')]),
      batcher.submit(requestContext().ctx, 't', async () => tally, [item('b'), item('c')]),
      batcher.submit(requestContext().ctx, 't', async () => tally, [item('a')]),
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual([[item('a'), item('b')], [item('b'), item('c')], [item('a')]]);
    expect(answers).toEqual([
      { accepted: 2, duplicates: 0 },
      { accepted: 1, duplicates: 1 },
      { accepted: 0, duplicates: 1 },
    ]);
    expect(first.kept).toHaveLength(1); // the call is sent from the first request's waitUntil
  });

  it('keeps tallies apart and opens a new batch once one was sent', async () => {
    const { tally, calls } = memoryTally();
    const other = memoryTally();
    const batcher = new TallyBatcher({ delayMs: 1, maxItems: 100 });
    await Promise.all([batcher.submit(requestContext().ctx, 't', async () => tally, [item('a')]), batcher.submit(requestContext().ctx, 'u', async () => other.tally, [item('a')])]);
    expect(await batcher.submit(requestContext().ctx, 't', async () => tally, [item('a')])).toEqual({ accepted: 0, duplicates: 1 });
    expect(calls).toHaveLength(2);
    expect(other.calls).toHaveLength(1);
  });

  it('sends a full batch at once, from the request that filled it, without waiting for the delay', async () => {
    const { tally, calls } = memoryTally();
    const batcher = new TallyBatcher({ delayMs: 60_000, maxItems: 3 });
    const filler = requestContext();
    const t0 = performance.now();
    const answers = await Promise.all([batcher.submit(requestContext().ctx, 't', async () => tally, [item('a'), item('b')]), batcher.submit(filler.ctx, 't', async () => tally, [item('c')])]);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(answers.map((a) => a.accepted)).toEqual([2, 1]);
    expect(calls).toHaveLength(1);
    expect(filler.kept).toHaveLength(1);
  });

  it('fails every request of a batch whose call failed, and the next batch starts afresh', async () => {
    let fail = true;
    const { tally } = memoryTally();
    const flaky: BatchTally = { addReportBatches: (b) => (fail ? Promise.reject(new Error('storage down')) : tally.addReportBatches(b)) };
    const batcher = new TallyBatcher({ delayMs: 1, maxItems: 100 });
    const answers = await Promise.allSettled([batcher.submit(requestContext().ctx, 't', async () => flaky, [item('a')]), batcher.submit(requestContext().ctx, 't', async () => flaky, [item('b')])]);
    expect(answers.map((a) => a.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await batcher.submit(requestContext().ctx, 't', async () => flaky, [item('a')])).toEqual({ accepted: 1, duplicates: 0 });
  });

  it('fails every request when the tally answers for fewer requests than it was sent', async () => {
    const short: BatchTally = { addReportBatches: async () => [{ accepted: 1, duplicates: 0 }] };
    const batcher = new TallyBatcher({ delayMs: 1, maxItems: 100 });
    const answers = await Promise.allSettled([batcher.submit(requestContext().ctx, 't', async () => short, [item('a')]), batcher.submit(requestContext().ctx, 't', async () => short, [item('b')])]);
    expect(answers.map((a) => a.status)).toEqual(['rejected', 'rejected']);
  });

  it('fails a request whose answer does not come within the limit instead of leaving it waiting', async () => {
    const silent: BatchTally = { addReportBatches: () => new Promise<AddReportsResult[]>(() => undefined) };
    const batcher = new TallyBatcher({ delayMs: 1, maxItems: 100, answerLimitMs: 30 });
    await expect(batcher.submit(requestContext().ctx, 't', async () => silent, [item('a')])).rejects.toThrow(/no answer from tally t within 30 ms/);
  });
});
