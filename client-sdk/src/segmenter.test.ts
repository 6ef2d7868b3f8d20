import 'fake-indexeddb/auto';
import { DAY_MS, FEATURE_NAMES_V1, isoWeekPeriod, modelEtag, type ModelManifest, type RoundDescriptor } from '@edgeseg/shared';
import { sigma2ForEpsilon } from '@edgeseg/shared/dp';
import { generateHpkeKeyPair } from '@edgeseg/shared/secure';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { EdgesegError } from './errors.ts';
import { MAX_WAITING_EVENTS } from './event-log.ts';
import { startSegmenter, type SegmenterOptions } from './segmenter.ts';
import { testModel } from './contribute/test-model.ts';
import { openStore } from './store.ts';
import { fakeEdge, tabHub, testDeps, type FakeEdge } from './testing/fake-edge.ts';

const play = (contentId: string, at = Date.now()) => ({ type: 'complete' as const, contentId, genres: ['Drama'], durationSec: 3000, positionSec: 3000, device: 'tv' as const, at });

let edge: FakeEdge;
let app = 0;
/** A fresh appId per test: each gets its own IndexedDB database. */
const appId = () => `t${++app}-${Math.random().toString(36).slice(2, 8)}`;

beforeEach(async () => {
  edge = await fakeEdge();
});

function collect(): { errors: EdgesegError[]; onError: (e: EdgesegError) => void } {
  const errors: EdgesegError[] = [];
  return { errors, onError: (e) => errors.push(e) };
}

describe('createSegmenter never throws', () => {
  it.each([[undefined], [null], [{}], [{ endpoint: 'edge.example.com' }], [{ endpoint: 42 }]])('options %j give an inert segmenter and one invalid-options error', async (options) => {
    const errors: EdgesegError[] = [];
    const seg = startSegmenter(options as never, testDeps(edge));
    seg.track(play('a'));
    await seg.ready;
    expect(seg.segment()).toBeNull();
    expect(await seg.exportData()).toBeNull();
    await seg.consent.set({ measurement: true });
    await seg.flush();
    expect(edge.requests).toEqual([]); // nothing fetched, nothing sent
    const withHandler = startSegmenter({ ...(options as object), onError: (e: EdgesegError) => errors.push(e) } as never, testDeps(edge));
    await withHandler.ready;
    expect(errors.map((e) => [e.name, e.code, e.stage])).toEqual([['EdgesegError', 'invalid-options', 'init']]);
    expect(errors[0]?.message).toMatch(/endpoint/);
  });

  it('an insecure context gives one clear error and fetches no model', async () => {
    const { errors, onError } = collect();
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), onError }, testDeps(edge, { insecure: () => 'crypto.subtle is unavailable on plain HTTP: edgeseg needs a secure context' }));
    seg.track(play('a'));
    await seg.ready;
    await seg.flush();
    expect(errors.map((e) => e.code)).toEqual(['insecure-context']);
    expect(errors[0]?.message).toMatch(/secure context/);
    expect(edge.requests).toEqual([]);
  });
});

describe('segment and model', () => {
  it('computes a segment from tracked events with the verified model', async () => {
    const { errors, onError } = collect();
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), onError }, testDeps(edge));
    seg.track(play('a'));
    await seg.ready;
    await seg.flush();
    expect(seg.segment()).toMatchObject({ id: 0, label: 'a', modelVersion: 1 });
    expect(errors).toEqual([]);
  });

  it('derives If-None-Match from the stored model, never from the ETag the server sent', async () => {
    const id = appId();
    edge.etagHeader = '"device-1234-tracking-id"'; // a server-chosen value: must never come back
    const first = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge));
    await first.ready;
    await first.shutdown();
    edge.requests.length = 0;
    const second = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge));
    await second.ready;
    const modelGet = edge.requests.find((r) => r.path === '/v1/model');
    expect(modelGet?.headers['if-none-match']).toBe(await modelEtag(1, edge.jws));
    expect(JSON.stringify(edge.requests)).not.toContain('device-1234');
    await second.shutdown();
  });

  it('a rejected model is a model-rejected error and the last good model stays', async () => {
    const id = appId();
    const first = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge));
    first.track(play('a'));
    await first.flush();
    await first.shutdown();
    const [h, , s] = edge.jws.split('.');
    edge.jws = `${h}.${Buffer.from(JSON.stringify({ version: 9 })).toString('base64url')}.${s}`; // tampered
    edge.etagHeader = null;
    const { errors, onError } = collect();
    const second = startSegmenter({ endpoint: edge.endpoint, appId: id, onError }, testDeps(edge));
    await second.ready;
    expect(errors.map((e) => [e.code, e.stage])).toEqual([['model-rejected', 'model']]);
    expect(second.segment()).toMatchObject({ modelVersion: 1 });
    await second.shutdown();
  });
});

describe('consent', () => {
  it('a change made before ready stands over the stored consent', async () => {
    const id = appId();
    const first = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge));
    await first.consent.set({ measurement: false, model_improvement: false });
    await first.shutdown();
    const second = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge));
    const set = second.consent.set({ measurement: true }); // before ready
    await second.ready;
    await set;
    expect(second.consent.get().measurement).toBe(true);
    await second.shutdown();
    const third = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge));
    await third.ready;
    expect(third.consent.get().measurement).toBe(true); // and it was stored
    await third.shutdown();
  });

  it('an answer that changes nothing stores nothing (a consent platform answers on every page load)', async () => {
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId() }, testDeps(edge));
    await seg.ready;
    await seg.consent.set({ measurement: true });
    await seg.consent.set({ measurement: true });
    await seg.consent.set({ personalization: true });
    expect((await seg.exportData())?.consentLog.map((e) => e.choice.measurement)).toEqual([true]);
    await seg.shutdown();
  });

  it('reports unknown consent keys and non-boolean values, and applies the rest', async () => {
    const { errors, onError } = collect();
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), onError }, testDeps(edge));
    await seg.consent.set({ measurement: true, analytics: true, model_improvement: 'yes' } as never);
    expect(errors.map((e) => [e.code, e.stage])).toEqual([['unknown-consent-key', 'consent']]);
    expect(errors[0]?.message).toMatch(/analytics, model_improvement/);
    expect(seg.consent.get()).toMatchObject({ measurement: true, model_improvement: false });
    await seg.shutdown();
  });

  it('with waitForConsent, stores and sends nothing until consent is set', async () => {
    const id = appId();
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: id, waitForConsent: true }, testDeps(edge));
    seg.track(play('a'));
    await new Promise((r) => setTimeout(r, 50));
    expect(edge.requests).toEqual([]);
    const probe = await openStore(`edgeseg-${id}`); // opening creates it: check it is empty
    expect(await probe.transaction('kv').store.count()).toBe(0);
    probe.close();
    // Before the answer, export, erase and flush act on memory only and never hang.
    expect(await seg.exportData()).toBeNull();
    await seg.flush();
    await seg.eraseData();
    seg.track(play('b'));
    expect(edge.requests).toEqual([]);
    await seg.consent.set({ measurement: true });
    await seg.flush();
    expect(seg.segment()).not.toBeNull(); // the event tracked before the answer was kept in memory and applied
    expect((await seg.exportData())?.events.map((e) => e.contentId)).toEqual(['b']);
    expect(edge.requests.some((r) => r.method === 'POST' && r.path === '/v1/reports')).toBe(true);
    await seg.shutdown();
  });
});

describe('reports', () => {
  it('sends this week\'s segment and lifecycle reports once, in one request, with only the allowed fields', async () => {
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId() }, testDeps(edge));
    await seg.consent.set({ measurement: true });
    seg.track(play('a'));
    await seg.flush();
    seg.track(play('b'));
    await seg.flush();
    const posts = edge.requests.filter((r) => r.method === 'POST');
    expect(posts.map((p) => p.path)).toEqual(['/v1/reports']);
    const { reports } = posts[0]?.body as { reports: Record<string, unknown>[] };
    expect(reports.map((r) => Object.keys(r).sort().join()).sort()).toEqual(['id,kind,model_version,period,value', 'id,model_version,period,value']);
    expect(reports.every((r) => r.period === isoWeekPeriod(Date.now()))).toBe(true);
    await seg.shutdown();
  });

  it('sends the same randomized value every week while the segment and the model stay the same (memoised)', async () => {
    // Eight segments at a small ε: two fresh draws would agree about one time in eight, four weeks of them almost never.
    edge = await fakeEdge({ ...testModel(8, 1, undefined), epsilon: { report: 0.1, lifecycle: 0.1 } });
    const start = Date.now();
    let clock = start;
    const id = appId();
    const weeks = 4;
    for (let week = 0; week < weeks; week++) {
      clock = start + week * 7 * DAY_MS;
      const seg = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge, { now: () => clock })); // a reload every week
      await seg.consent.set({ measurement: true });
      seg.track(play(`w${week}`, clock));
      await seg.flush();
      expect(seg.segment()?.id).toBe(0); // all-zero centroids: the first segment, every week
      await seg.shutdown();
    }
    const reports = edge.requests.filter((r) => r.method === 'POST' && r.path === '/v1/reports').flatMap((r) => (r.body as { reports: { kind?: string; period: string; value: number }[] }).reports);
    const segmentReports = reports.filter((r) => !r.kind);
    expect(new Set(segmentReports.map((r) => r.period)).size).toBe(weeks);
    expect(new Set(segmentReports.map((r) => r.value)).size).toBe(1);
    // The viewer's export shows the memoised answers (the one sent among them).
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge, { now: () => clock }));
    const exported = await seg.exportData();
    expect(Object.values(exported?.randomizedAnswers ?? {})).toContain(segmentReports[0]?.value);
    await seg.shutdown();
  });

  it('loads no release code and sends nothing with personalization alone', async () => {
    const say = vi.spyOn(console, 'debug').mockImplementation(() => undefined);
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), debug: true }, testDeps(edge));
    seg.track(play('a'));
    await seg.flush();
    expect(edge.requests.map((r) => r.path)).toEqual(['/v1/model', '/.well-known/jwks.json']);
    expect(say.mock.calls.map((c) => String(c[0]))).toContain('[edgeseg] nothing to send: measurement and model_improvement are not granted (or Global Privacy Control is on)');
    await seg.shutdown();
    say.mockRestore();
  });
});

describe('debug', () => {
  it('says why there is no segment yet and why a report was not queued', async () => {
    const say = vi.spyOn(console, 'debug').mockImplementation(() => undefined);
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), debug: true }, testDeps(edge));
    await seg.ready;
    await seg.consent.set({ measurement: true });
    seg.track(play('a'));
    await seg.flush();
    seg.track(play('b')); // another burst: this week's report is already queued
    await seg.flush();
    const lines = say.mock.calls.map((c) => String(c[0]));
    expect(lines).toContain('[edgeseg] no segment: no events yet');
    expect(lines.some((l) => /report \d{4}-W\d\d not queued: already released/.test(l))).toBe(true);
    await seg.shutdown();
    say.mockRestore();
  });
});

describe('storage that never opens', () => {
  it('keeps at most MAX_WAITING_EVENTS events in memory and says so once', async () => {
    const { errors, onError } = collect();
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), onError }, testDeps(edge, { openStore: () => new Promise(() => undefined) }));
    for (let i = 0; i < MAX_WAITING_EVENTS + 50; i++) seg.track(play(`t${i}`));
    expect(errors.map((e) => [e.code, e.stage])).toEqual([['queue-full', 'storage']]);
  });

  it('a store that fails to open is one storage-unavailable error', async () => {
    const { errors, onError } = collect();
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), onError }, testDeps(edge, { openStore: () => Promise.reject(new Error('QuotaExceededError')) }));
    await seg.ready;
    expect(errors.map((e) => e.code)).toEqual(['storage-unavailable']);
    expect(await seg.exportData()).toBeNull();
  });
});

describe('erase', () => {
  it('is broadcast: every open tab forgets its features and consent, and spent ε survives as a floor', async () => {
    const id = appId();
    const hub = tabHub();
    const a = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge, { openChannel: hub.open }));
    const b = startSegmenter({ endpoint: edge.endpoint, appId: id }, testDeps(edge, { openChannel: hub.open }));
    await Promise.all([a.ready, b.ready]);
    await a.consent.set({ measurement: true });
    await new Promise((r) => setTimeout(r, 10)); // b hears the consent change
    expect(b.consent.get().measurement).toBe(true);
    a.track(play('a'));
    b.track(play('b'));
    await Promise.all([a.flush(), b.flush()]);
    expect(b.segment()).not.toBeNull();
    const spent = (await a.exportData())?.privacyLedger.spentLast30Days.measurement;
    expect(spent).toBeGreaterThan(0);

    await a.eraseData();
    await new Promise((r) => setTimeout(r, 20));
    expect(b.segment()).toBeNull();
    expect(b.consent.get().measurement).toBe(false);
    await b.flush(); // b must not write its old features back
    const after = await b.exportData();
    expect(after?.events).toEqual([]);
    expect(after?.features.vector).toBeNull();
    expect(after?.privacyLedger.entries.every((e) => e.release === 'erased')).toBe(true);
    expect(after?.privacyLedger.spentLast30Days.measurement).toBe(spent);

    // Re-granted after erase, the same week is not reported again.
    const before = edge.requests.filter((r) => r.method === 'POST').length;
    await b.consent.set({ measurement: true });
    b.track(play('c'));
    await b.flush();
    expect(edge.requests.filter((r) => r.method === 'POST').length).toBe(before);
    await Promise.all([a.shutdown(), b.shutdown()]);
  });
});

/** Two aggregators' HPKE keys, a model pinning them, and rounds as the leader plans them (worker/src/round-plan.ts). */
async function twoAggregators(): Promise<{ pinned: NonNullable<ModelManifest['aggregators']>; secureModel: ModelManifest; countsRound: RoundDescriptor; kmeansRound: RoundDescriptor }> {
  const [leader, helper] = await Promise.all([generateHpkeKeyPair(1), generateHpkeKeyPair(2)]);
  const pinned = { leader: leader.config, helper: helper.config };
  const secureModel: ModelManifest = { ...testModel(2, 1, pinned), epsilon: { report: 1, lifecycle: 1 }, measurement: 'secure' };
  const opens = Math.floor(Date.now() / 1000) - 60;
  const common = { model_version: 1, k: 2, epsilon: 1, delta: 1e-9, opens_at: opens, closes_at: opens + 7 * 86_400, min_batch: 1, hpke: pinned } as const;
  const countsRound: RoundDescriptor = { ...common, round_id: `c-${isoWeekPeriod(Date.now())}-v1`, kind: 'counts', mode: 'secure', d: 0, slices: [[[], []]], groups: 1, encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } }, period: isoWeekPeriod(Date.now()) };
  const kmeansRound: RoundDescriptor = { ...common, round_id: `r-${opens}-5ec0e001`, kind: 'kmeans', mode: 'secure', d: FEATURE_NAMES_V1.length, slices: [secureModel.centroids], groups: 2, encoding: KMEANS_ENCODING };
  return { pinned, secureModel, countsRound, kmeansRound };
}

const KMEANS_ENCODING = { clip: 8, bound: 127, weights: { coords: 0.8, count: 0.5, sqdist: 0.2, silhouette: 0.25 } };
const EVERY_PURPOSE = { measurement: true, model_improvement: true };

/** Grants every purpose, tracks two bursts of events and flushes after each. */
async function runWithEvents(seg: ReturnType<typeof startSegmenter>): Promise<void> {
  await seg.consent.set(EVERY_PURPOSE);
  seg.track(play('a'));
  await seg.flush();
  seg.track(play('b'));
  await seg.flush();
}

const contributionPosts = (): unknown[] => edge.requests.filter((r) => r.method === 'POST' && r.path === '/v1/contributions').map((r) => r.body);

describe("secure mode needs the app's helper pin", () => {
  it('without aggregators.helper nothing is contributed (counts or k-means) and one helper-not-pinned error says why', async () => {
    const { secureModel, countsRound, kmeansRound } = await twoAggregators();
    await edge.publish(secureModel);
    edge.rounds = { counts: countsRound, kmeans: kmeansRound };
    const { errors, onError } = collect();
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), onError }, testDeps(edge));
    await runWithEvents(seg);
    expect(contributionPosts()).toEqual([]);
    expect(errors.map((e) => [e.code, e.stage])).toEqual([['helper-not-pinned', 'contribute']]);
    expect(errors[0]?.message).toMatch(/aggregators\.helper/);
    expect((await seg.exportData())?.privacyLedger.entries.map((e) => e.release)).not.toContain(`round ${kmeansRound.round_id}`);
    await seg.shutdown();
  });

  it('with the pin, the same device contributes to both rounds, sealed to the pinned keys', async () => {
    const { pinned, secureModel, countsRound, kmeansRound } = await twoAggregators();
    await edge.publish(secureModel);
    edge.rounds = { counts: countsRound, kmeans: kmeansRound };
    const { errors, onError } = collect();
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), onError, aggregators: { helper: pinned.helper } }, testDeps(edge));
    await runWithEvents(seg);
    expect(errors).toEqual([]);
    const posted = contributionPosts() as { round_id: string; helper: { config_id: number } }[];
    expect(posted.map((c) => c.round_id).sort()).toEqual([countsRound.round_id, kmeansRound.round_id].sort());
    expect(posted.every((c) => c.helper.config_id === pinned.helper.config_id)).toBe(true);
    await seg.shutdown();
  });
});

describe('local-mode rounds are for single-operator deployments only', () => {
  /** A local k-means round for model v1 (no helper named) with the σ² its ε needs. */
  async function localRound(): Promise<RoundDescriptor> {
    const { kmeansRound } = await twoAggregators();
    const sigma2 = sigma2ForEpsilon(1, 1e-9, KMEANS_ENCODING.bound);
    return { ...kmeansRound, round_id: `r-${kmeansRound.opens_at}-10ca1001`, mode: 'local', local_sigma2: Number(sigma2.num) / Number(sigma2.den), hpke: { leader: kmeansRound.hpke.leader } };
  }

  it('refuses a local round when the app pins a helper, or the signed model does; contributes when neither does', async () => {
    const round = await localRound();
    const { pinned } = await twoAggregators();
    edge.rounds = { kmeans: round };
    // [model, the app's pin, who the refusal names (null: contributes)]
    const cases: [ModelManifest, SegmenterOptions['aggregators'], string | null][] = [
      [testModel(2, 1, undefined), { helper: pinned.helper }, 'the app'],
      [testModel(2, 1, pinned), undefined, 'the signed model'],
      [testModel(2, 1, undefined), undefined, null],
    ];
    for (const [model, aggregators, refusedBy] of cases) {
      await edge.publish({ ...model, epsilon: { report: 1, lifecycle: 1 } });
      edge.requests.length = 0;
      const { errors, onError } = collect();
      const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), onError, ...(aggregators ? { aggregators } : {}) }, testDeps(edge));
      await runWithEvents(seg);
      expect(contributionPosts().length, String(refusedBy)).toBe(refusedBy ? 0 : 1);
      expect(errors.map((e) => e.code), String(refusedBy)).toEqual(refusedBy ? ['round-refused'] : []);
      if (refusedBy) expect(errors[0]?.message).toMatch(new RegExp(`is a local-mode round, but ${refusedBy} pins a helper`));
      await seg.shutdown();
    }
  });
});
