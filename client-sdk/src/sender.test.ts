import 'fake-indexeddb/auto';
import type { ItemResult, SegmentReport } from '@edgeseg/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EdgesegError } from './errors.ts';
import { createSender, settle, type Sender } from './sender.ts';
import { openStore, readKv, type OutboxItem, type Store } from './store.ts';

const ENDPOINT = 'https://edge.test';
let dbs = 0;
let seq = 0;

/** A queued segment report (an impression report with `impression: true`), id as the SDK makes them. */
function queued(opts: { impression?: boolean; period?: string } = {}): OutboxItem {
  const id = `item-${String(++seq).padStart(4, '0')}-${Math.random().toString(36).slice(2, 10)}`;
  const payload: SegmentReport = { id, model_version: 1, period: opts.period || '2026-W49', value: 0 };
  return opts.impression ? { id, purpose: 'measurement', createdAt: Date.now(), impression: payload } : { id, purpose: 'measurement', createdAt: Date.now(), report: payload };
}

interface Seen {
  path: string;
  body: { reports?: { id: string }[] };
}

/** A fake edge answering each POST with the next scripted answer (a Response, or an Error to reject with, as fetch does offline). */
function scriptedEdge(...script: ((seen: Seen) => Response | Error)[]) {
  const requests: Seen[] = [];
  return {
    requests,
    fetch: async (input: string, init: RequestInit = {}): Promise<Response> => {
      const seen = { path: new URL(input).pathname, body: JSON.parse(String(init.body)) as Seen['body'] };
      requests.push(seen);
      const next = script.shift();
      if (!next) throw new Error(`unexpected request ${requests.length} to ${seen.path}`);
      const answer = next(seen);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

/** The per-item answer body the Worker gives (worker/src/batch-answer.ts), for `results`. */
function batchBody(results: ItemResult[]) {
  const count = (s: ItemResult['status']) => results.filter((r) => r.status === s).length;
  return { accepted: count('accepted'), duplicates: count('duplicate'), refused: count('refused'), results };
}
const json = (status: number, body: unknown, type = 'application/json') => new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });
const problem = (status: number, type: string, extra: object = {}) => json(status, { type: `https://edgeseg.dev/problems/${type}`, title: type, status, ...extra }, 'application/problem+json');
const everyItem = (status: ItemResult['status']) => (seen: Seen) => json(status === 'duplicate' ? 409 : 202, batchBody((seen.body.reports || []).map(({ id }) => ({ id, status }))));

let db: Store;
let sender: Sender | null;
let failures: Error[];

async function enqueue(...items: OutboxItem[]): Promise<void> {
  const tx = db.transaction('outbox', 'readwrite');
  await Promise.all([...items.map((i) => tx.store.put(i)), tx.done]);
}
async function outboxIds(): Promise<string[]> {
  return (await db.transaction('outbox').store.getAll()).map((i) => i.id).sort();
}
function start(edge: ReturnType<typeof scriptedEdge>): Sender {
  sender = createSender({ endpoint: ENDPOINT, lockName: 'test:send', store: () => db, allowed: () => true, fail: (e) => failures.push(e), fetch: edge.fetch });
  return sender;
}

beforeEach(async () => {
  db = await openStore(`sender-test-${++dbs}`);
  sender = null;
  failures = [];
  // Only the retry timer is faked: fake-indexeddb schedules with setImmediate, which stays real.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  sender?.stop();
  db.close();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('per-item answers', () => {
  it('drops what the server accepted, already had or refused for good, reports the refused, and retries only the unanswered', async () => {
    const [accepted, duplicate, stale, unanswered] = [queued(), queued(), queued({ period: '2020-W01' }), queued()] as const;
    await enqueue(accepted, duplicate, stale, unanswered);
    const edge = scriptedEdge(
      () =>
        json(
          202,
          batchBody([
            { id: accepted.id, status: 'accepted' },
            { id: duplicate.id, status: 'duplicate' },
            { id: stale.id, status: 'refused', type: 'stale-period', detail: 'period: accepted periods are 2026-W49' },
          ]),
        ),
      everyItem('accepted'),
    );
    await start(edge).deliver();
    expect(edge.requests).toHaveLength(1);
    expect(edge.requests[0]?.path).toBe('/v1/reports');
    expect(edge.requests[0]?.body.reports?.map((r) => r.id).sort()).toEqual([accepted.id, duplicate.id, stale.id, unanswered.id].sort());
    expect(await outboxIds()).toEqual([unanswered.id]); // nothing settled kept, nothing else lost
    expect(failures).toHaveLength(1);
    const err = failures[0] as EdgesegError;
    expect(err).toBeInstanceOf(EdgesegError);
    expect([err.code, err.stage]).toEqual(['send-refused', 'send']);
    expect(err.message).toContain(`${stale.id} (stale-period`);
    expect(err.message).not.toContain(accepted.id);
    // The accepted request is the last payload that left the device.
    expect((await readKv(db, 'lastSent'))?.measurement).toMatchObject({ url: `${ENDPOINT}/v1/reports`, body: edge.requests[0]?.body });

    // The unanswered item goes again after the backoff, alone.
    await vi.waitFor(async () => expect(await outboxIds()).toEqual([]), { timeout: 5000, interval: 50 });
    expect(edge.requests[1]?.body.reports?.map((r) => r.id)).toEqual([unanswered.id]);
    expect(failures).toHaveLength(1);
  });

  it('settle() sorts a batch by its answer, and settles all of it when the answer lists no items', () => {
    const [a, b, c] = [queued(), queued({ impression: true }), queued()] as const;
    const settled = settle([a, b, c], [{ id: b.id, status: 'duplicate' }, { id: a.id, status: 'refused', type: 'unknown-model' }]);
    expect(settled.done).toEqual([b]);
    expect(settled.refused).toEqual([{ item: a, result: { id: a.id, status: 'refused', type: 'unknown-model' } }]);
    expect(settled.kept).toEqual([c]);
    expect(settle([a, b], null)).toEqual({ done: [a, b], refused: [], kept: [] });
  });

  it('on 409 with every item a duplicate: drops them, reports nothing, writes no lastSent', async () => {
    const items = [queued(), queued()];
    await enqueue(...items);
    const edge = scriptedEdge((seen) => problem(409, 'replayed', batchBody((seen.body.reports || []).map(({ id }) => ({ id, status: 'duplicate' })))));
    await start(edge).deliver();
    expect(edge.requests).toHaveLength(1);
    expect(await outboxIds()).toEqual([]);
    expect(failures).toEqual([]);
    expect(await readKv(db, 'lastSent')).toBeUndefined();
  });

  it('on 422 with per-item results: drops the refused and the duplicates, reports the refused by id and type, stores no lastSent', async () => {
    const [stale, unknown, had] = [queued({ period: '2020-W01' }), queued(), queued()] as const;
    await enqueue(stale, unknown, had);
    const results: ItemResult[] = [
      { id: stale.id, status: 'refused', type: 'stale-period' },
      { id: unknown.id, status: 'refused', type: 'unknown-model' },
      { id: had.id, status: 'duplicate' },
    ];
    const edge = scriptedEdge(() => problem(422, 'stale-period', batchBody(results)));
    await start(edge).deliver();
    expect(await outboxIds()).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'send-refused', stage: 'send' });
    expect(failures[0]?.message).toContain(`${stale.id} (stale-period)`);
    expect(failures[0]?.message).toContain(`${unknown.id} (unknown-model)`);
    expect(failures[0]?.message).not.toContain(had.id);
    expect(await readKv(db, 'lastSent')).toBeUndefined();
  });

  it('sends segment reports and impression reports in separate batches, each settled by its own answer', async () => {
    const report = queued();
    const impression = queued({ impression: true });
    await enqueue(report, impression);
    const edge = scriptedEdge(everyItem('accepted'), everyItem('accepted'));
    await start(edge).deliver();
    expect(edge.requests.map((r) => [r.path, r.body.reports?.map((x) => x.id)]).sort()).toEqual(
      [
        ['/v1/impressions', [impression.id]],
        ['/v1/reports', [report.id]],
      ].sort(),
    );
    expect(await outboxIds()).toEqual([]);
  });
});

describe('what can still succeed is kept and retried', () => {
  for (const [name, failure] of [
    ['503', () => problem(503, 'internal')],
    ['429', () => problem(429, 'rate-limited')],
    ['a network error', () => new TypeError('Failed to fetch')],
  ] as const) {
    it(`keeps the whole batch on ${name} and sends the same items again after the backoff`, async () => {
      const items = [queued(), queued()];
      await enqueue(...items);
      const edge = scriptedEdge(failure, everyItem('accepted'));
      await start(edge).deliver();
      expect(edge.requests).toHaveLength(1);
      expect(await outboxIds()).toEqual(items.map((i) => i.id).sort());
      expect(failures).toEqual([]);
      await vi.waitFor(async () => expect(await outboxIds()).toEqual([]), { timeout: 5000, interval: 50 });
      expect(edge.requests).toHaveLength(2);
      expect(edge.requests[1]?.body).toEqual(edge.requests[0]?.body); // the same ids: a resend is never counted twice
      expect(failures).toEqual([]);
    });
  }

  for (const [name, answer] of [
    ['400 invalid-json', () => problem(400, 'invalid-json')],
    ['413 body-too-large', () => problem(413, 'body-too-large')],
    ['422 invalid-body (no per-item results)', () => problem(422, 'invalid-body', { errors: ['reports[0].value: must be a segment or lifecycle stage index'] })],
  ] as const) {
    it(`drops a batch refused as a whole (${name}) and reports it once`, async () => {
      const items = [queued(), queued()];
      await enqueue(...items);
      const edge = scriptedEdge(answer);
      await start(edge).deliver();
      expect(await outboxIds()).toEqual([]);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ code: 'send-refused', stage: 'send' });
      expect(failures[0]?.message).toContain(name.split(' ')[0] as string);
      for (const i of items) expect(failures[0]?.message).toContain(i.id);
      await vi.advanceTimersByTimeAsync(10 * 60_000);
      expect(edge.requests).toHaveLength(1); // never sent again
    });
  }
});

describe('Web Locks', () => {
  it('delivers without them (navigator.locks undefined, as on 2020 TVs)', async () => {
    vi.stubGlobal('navigator', {});
    expect((globalThis.navigator as { locks?: unknown }).locks).toBeUndefined();
    const item = queued();
    await enqueue(item);
    const edge = scriptedEdge(everyItem('accepted'));
    await start(edge).deliver();
    expect(edge.requests).toHaveLength(1);
    expect(await outboxIds()).toEqual([]);
    expect(failures).toEqual([]);
  });

  it('sends while holding the named lock where there are locks', async () => {
    const held: string[] = [];
    vi.stubGlobal('navigator', {
      locks: {
        request: async (name: string, cb: () => Promise<void>) => {
          held.push(name);
          await cb();
          held.push(`released ${name}`);
        },
      },
    });
    await enqueue(queued());
    const edge = scriptedEdge((seen) => {
      expect(held).toEqual(['test:send']); // the request goes out under the lock
      return everyItem('accepted')(seen);
    });
    await start(edge).deliver();
    expect(held).toEqual(['test:send', 'released test:send']);
    expect(await outboxIds()).toEqual([]);
  });
});
