// Concurrent POST /v1/reports requests, each with its own SegmentTally call, on workerd:
// every request gets the answer for its own reports, replays are told apart per request,
// the tally equals the 202 answers, and requests cancelled by their client leave the
// others answered and nothing counted twice.
import { isoWeekPeriod, type ModelManifest } from '@edgeseg/shared';
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { registryManifest } from './registry.ts';

const BASE = 'http://edgeseg.test';
const worker = exports.default;
const period = isoWeekPeriod(Date.now());
let manifest: ModelManifest;
let admin: string;

const newId = (tag: string) => `${tag}-${crypto.randomUUID()}`;

function post(ids: string[], signal?: AbortSignal) {
  const reports = ids.map((id, i) => ({ id, model_version: manifest.version, period, value: i % manifest.k }));
  return worker.fetch(new Request(`${BASE}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reports }), signal }));
}

async function answer(res: Response): Promise<{ status: number; accepted: number; duplicates: number }> {
  const body = (await res.json()) as { accepted?: number; duplicates?: number };
  return { status: res.status, accepted: body.accepted ?? 0, duplicates: body.duplicates ?? 0 };
}

async function reportCount(): Promise<number> {
  const res = await worker.fetch(new Request(`${BASE}/v1/admin/periods/${period}`, { headers: { authorization: `Bearer ${admin}` } }));
  expect(res.status).toBe(200);
  return ((await res.json()) as { reports: number }).reports;
}

beforeAll(async () => {
  admin = await mintToken(env.AUTH_SIGNING_JWK, { role: 'admin' });
  expect((await worker.fetch(new Request(`${BASE}/v1/model`))).status).toBe(200); // bootstraps v1
  manifest = await registryManifest();
});

describe('SegmentTally.addReports', () => {
  it('stores each id once, a replay within the call included, and answers how many were new', async () => {
    const tally = env.SEGMENT_TALLY.get(env.SEGMENT_TALLY.idFromName(`addreports-test:${crypto.randomUUID()}`));
    const [a, b, c] = [newId('a'), newId('b'), newId('c')];
    expect(await tally.addReports([{ id: a, value: 0 }, { id: a, value: 0 }, { id: b, value: 1 }])).toEqual({ accepted: 2, duplicates: 1, replayedIds: [a] });
    expect(await tally.addReports([{ id: b, value: 1 }, { id: c, value: 2 }])).toEqual({ accepted: 1, duplicates: 1, replayedIds: [b] });
    expect(await tally.reportCount()).toBe(3);
    expect(await tally.counts(3)).toEqual([1, 1, 1]);
  });
});

describe('concurrent reports', () => {
  it('answers 60 concurrent one-report requests 202 each, and the tally grows by exactly 60', async () => {
    const before = await reportCount();
    const answers = await Promise.all(Array.from({ length: 60 }, () => post([newId('c')]).then(answer)));
    expect(answers).toEqual(Array.from({ length: 60 }, () => ({ status: 202, accepted: 1, duplicates: 0 })));
    expect(await reportCount()).toBe(before + 60);
  });

  it('accepts an id sent by 12 concurrent requests once: one 202, eleven 409 replayed', async () => {
    const before = await reportCount();
    const id = newId('same');
    const answers = await Promise.all(Array.from({ length: 12 }, () => post([id]).then(answer)));
    expect(answers.filter((a) => a.status === 202)).toEqual([{ status: 202, accepted: 1, duplicates: 0 }]);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(11);
    expect(await reportCount()).toBe(before + 1);
  });

  it('answers overlapping concurrent batches for their own reports: accepted and duplicates add up per request', async () => {
    const before = await reportCount();
    const [a, b, c] = [newId('a'), newId('b'), newId('c')];
    const answers = await Promise.all([post([a, b]), post([b, c]), post([c, a])].map((p) => p.then(answer)));
    // Whichever is stored first, 3 ids are accepted once each; a request whose two ids
    // were both taken by the others is a replay (409).
    for (const x of answers) {
      if (x.status === 202) expect(x.accepted + x.duplicates).toBe(2);
      else expect(x.status).toBe(409);
    }
    expect(answers.reduce((n, x) => n + x.accepted, 0)).toBe(3);
    expect(await reportCount()).toBe(before + 3);
  });

  it('answers every request its client did not cancel while others of the same batches are cancelled, and counts each id once', async () => {
    const before = await reportCount();
    const kept: Promise<{ status: number; accepted: number; duplicates: number }>[] = [];
    const cancelled: string[] = [];
    const dropped: Promise<unknown>[] = [];
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 12; i++) {
        const id = newId(`x${round}`);
        // Every third request, the first of each round included, is cancelled by its
        // client right after it was sent.
        if (i % 3 === 0) {
          const abort = new AbortController();
          dropped.push(post([id], abort.signal).catch(() => null));
          setTimeout(() => abort.abort(), i % 2);
          cancelled.push(id);
        } else {
          kept.push(post([id]).then(answer));
        }
      }
    }
    const answers = await Promise.all(kept);
    expect(answers.every((a) => a.status === 202 && a.accepted === 1)).toBe(true);
    await Promise.all(dropped);
    // A cancelled request's report may or may not have been stored: sending it again says
    // which (202 new, 409 stored), and the tally must hold each stored id exactly once.
    const resent = await Promise.all(cancelled.map((id) => post([id]).then((r) => r.status)));
    expect(resent.every((s) => s === 202 || s === 409)).toBe(true);
    expect(await reportCount()).toBe(before + kept.length + cancelled.length);
  });
});
