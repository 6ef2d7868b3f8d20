import 'fake-indexeddb/auto';
import { LIFECYCLE_STAGES, countsPeriod, isoWeekPeriod, type Campaign, type ModelManifest, type RoundDescriptor, type SecureContribution } from '@edgeseg/shared';
import { combineFieldShares, decodeCountAggregate, generateHpkeKeyPair, importHpkePrivateKey, newVerifyKey, openAndPrepare, removeOffset, roundDigest, type HpkeRecipientKey } from '@edgeseg/shared/secure';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EdgesegError } from './errors.ts';
import { startSegmenter } from './segmenter.ts';
import { testModel } from './contribute/test-model.ts';
import { DB_NAME, openStore, writeKv } from './store.ts';
import { fakeEdge, testDeps, type FakeEdge } from './testing/fake-edge.ts';

const play = (contentId: string, at = Date.now()) => ({ type: 'complete' as const, contentId, genres: ['Drama'], durationSec: 3000, positionSec: 3000, device: 'tv' as const, at });
const appId = () => `sc-${Math.random().toString(36).slice(2, 10)}`;
const CAMPAIGNS: Campaign[] = ['spring-drama', 'kids-row'].map((id, segment) => ({ id, segment, kind: 'message', title: id }));

let edge: FakeEdge;
let logged: string[];
beforeEach(async () => {
  edge = await fakeEdge();
  logged = [];
  vi.spyOn(console, 'debug').mockImplementation((m: string) => void logged.push(m));
});
afterEach(() => vi.restoreAllMocks());

/** A secure model of two segments pinning two aggregators' keys (with `campaigns` if given), and its three counts rounds as the leader plans them. */
async function secureSetup(campaigns?: Campaign[]): Promise<{ model: ModelManifest; helper: NonNullable<ModelManifest['aggregators']>['helper']; rounds: Record<'segment' | 'lifecycle' | 'impressions', RoundDescriptor>; keys: Keys }> {
  const [leader, helper] = await Promise.all([generateHpkeKeyPair(1), generateHpkeKeyPair(2)]);
  const keys = { leader: await importHpkePrivateKey(leader.privateKeyJwk), helper: await importHpkePrivateKey(helper.privateKeyJwk) };
  const pinned = { leader: leader.config, helper: helper.config };
  const model: ModelManifest = { ...testModel(2, 1, pinned), epsilon: { report: 1, lifecycle: 1 }, measurement: 'secure', ...(campaigns ? { campaigns } : {}) };
  const opens = Math.floor(Date.now() / 1000) - 60;
  const nowMs = Date.now();
  const round = (measure: 'segment' | 'lifecycle' | 'impressions', k: number): RoundDescriptor => ({
    round_id: `c-${countsPeriod(measure, nowMs)}-${measure}-v1`,
    kind: 'counts',
    mode: 'secure',
    model_version: 1,
    k,
    d: 0,
    slices: [Array.from({ length: k }, () => [])],
    groups: 1,
    encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } },
    epsilon: 0.4,
    delta: 1e-9,
    opens_at: opens,
    closes_at: opens + 14 * 86_400,
    min_batch: 1,
    period: countsPeriod(measure, nowMs),
    ...(measure === 'segment' ? {} : { measure }),
    hpke: pinned,
  });
  return { model, helper: helper.config, keys, rounds: { segment: round('segment', 2), lifecycle: round('lifecycle', LIFECYCLE_STAGES.length), impressions: round('impressions', campaigns ? campaigns.length : 0) } };
}

type Keys = { leader: HpkeRecipientKey; helper: HpkeRecipientKey };

/**
 * Both aggregators in process on one counts contribution: each opens and prepares its
 * share; their output shares combine to the device's one-hot. Returns the entry it
 * counted and the round it was for.
 */
async function countedEntry(body: SecureContribution, rounds: readonly RoundDescriptor[], keys: Keys): Promise<[string, number]> {
  const r = rounds.find((x) => x.round_id === body.round_id) as RoundDescriptor;
  const [digest, verifyKey] = [await roundDigest(r), newVerifyKey()];
  const [leader, helper] = await Promise.all([openAndPrepare(r, digest, verifyKey, 'leader', keys.leader, { ...body, sealed: body.leader }), openAndPrepare(r, digest, verifyKey, 'helper', keys.helper, { ...body, sealed: body.helper })]);
  const counts = Array.from(decodeCountAggregate(removeOffset(r.kind, combineFieldShares(leader.outputShare, helper.outputShare), 1), r.k, 1));
  expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
  return [r.round_id, counts.indexOf(1)];
}

const posts = (path: string): unknown[] => edge.requests.filter((r) => r.method === 'POST' && r.path === path).map((r) => r.body);
const roundQueries = (): string[] => edge.requests.filter((r) => r.path.startsWith('/v1/rounds/current')).map((r) => r.path);

describe('a secure model counts segment, lifecycle stage and impressions in secure rounds, never by randomized response', () => {
  it('sends one contribution to each of the three rounds a week (impressions: last week\'s, the campaign shown), no /v1/reports or /v1/impressions, each charged to measurement once', async () => {
    const { model, helper, rounds, keys } = await secureSetup(CAMPAIGNS);
    await edge.publish(model);
    edge.rounds = { counts: rounds.segment, 'counts:lifecycle': rounds.lifecycle, 'counts:impressions': rounds.impressions };
    const id = appId();
    const lastWeek = countsPeriod('impressions', Date.now());
    const thisWeek = isoWeekPeriod(Date.now());
    // The app showed the second campaign last week (campaign-watch.ts records it so).
    const db = await openStore(`${DB_NAME}-${id}`);
    await writeKv(db, 'shown', { [lastWeek]: ['kids-row'] });
    db.close();

    const errors: EdgesegError[] = [];
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: id, debug: true, onError: (e) => errors.push(e), aggregators: { helper } }, testDeps(edge));
    await seg.consent.set({ measurement: true });
    seg.track(play('a'));
    await seg.flush();
    const segment = seg.segment();
    expect(errors).toEqual([]);
    expect(segment?.lifecycle).toBeTruthy();
    const counted = await Promise.all((posts('/v1/contributions') as SecureContribution[]).map((body) => countedEntry(body, Object.values(rounds), keys)));
    expect(counted).toHaveLength(3);
    expect(new Map(counted)).toEqual(
      new Map([
        [rounds.segment.round_id, segment?.id],
        [rounds.lifecycle.round_id, LIFECYCLE_STAGES.indexOf(segment?.lifecycle as (typeof LIFECYCLE_STAGES)[number])],
        [rounds.impressions.round_id, 1], // kids-row
      ]),
    );
    expect(posts('/v1/reports')).toEqual([]);
    expect(posts('/v1/impressions')).toEqual([]);
    expect(new Set(roundQueries())).toEqual(new Set(['/v1/rounds/current?kind=counts', '/v1/rounds/current?kind=counts&measure=lifecycle', '/v1/rounds/current?kind=counts&measure=impressions']));
    const entries = (await seg.exportData())?.privacyLedger.entries || [];
    // Impressions were counted first: they do not wait for a segment (the other two wait for the first events).
    expect(entries.map((e) => [e.purpose, e.release])).toEqual([
      ['measurement', `impression counts ${lastWeek}`],
      ['measurement', `counts ${thisWeek}`],
      ['measurement', `lifecycle counts ${thisWeek}`],
    ]);
    expect(logged.some((m) => /no weekly report: the model counts securely/.test(m))).toBe(true);
    expect(logged.some((m) => /no impression report: the model counts securely/.test(m))).toBe(true);

    // More events, then a reload (which looks for the rounds again): nothing new leaves this week.
    seg.track(play('b'));
    await seg.flush();
    await seg.shutdown();
    const again = startSegmenter({ endpoint: edge.endpoint, appId: id, debug: true, aggregators: { helper } }, testDeps(edge));
    again.track(play('c'));
    await again.flush();
    expect(posts('/v1/contributions')).toHaveLength(3);
    for (const label of [`counts ${thisWeek}`, `lifecycle counts ${thisWeek}`, `impression counts ${lastWeek}`]) expect(logged).toContain(`[edgeseg] ${label}: already contributed`);
    expect((await again.exportData())?.privacyLedger.entries).toHaveLength(3);
    await again.shutdown();
  });

  it('without campaigns asks for no impressions round; without personalization segment and stage count as "none"', async () => {
    const { model, helper, rounds, keys } = await secureSetup();
    await edge.publish(model);
    edge.rounds = { counts: rounds.segment, 'counts:lifecycle': rounds.lifecycle };
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), debug: true, aggregators: { helper } }, testDeps(edge));
    await seg.consent.set({ personalization: false, measurement: true });
    seg.track(play('a'));
    await seg.flush();
    const thisWeek = isoWeekPeriod(Date.now());
    expect(seg.segment()).toBeNull();
    // "none" is each round's last entry: k.
    const counted = await Promise.all((posts('/v1/contributions') as SecureContribution[]).map((body) => countedEntry(body, Object.values(rounds), keys)));
    expect(counted).toHaveLength(2);
    expect(new Map(counted)).toEqual(
      new Map([
        [rounds.segment.round_id, rounds.segment.k],
        [rounds.lifecycle.round_id, LIFECYCLE_STAGES.length],
      ]),
    );
    expect(rounds.segment.period).toBe(thisWeek);
    expect(roundQueries().some((q) => q.includes('impressions'))).toBe(false);
    expect(logged).toContain(`[edgeseg] impression counts ${countsPeriod('impressions', Date.now())}: the model has no campaigns`);
    expect(posts('/v1/reports')).toEqual([]);
    await seg.shutdown();
  });

  it('erasing keeps the marks of what was counted: re-granted in the same week, nothing is counted again, and withdrawal drops what is queued', async () => {
    const { model, helper, rounds } = await secureSetup(CAMPAIGNS);
    await edge.publish(model);
    edge.rounds = { counts: rounds.segment, 'counts:lifecycle': rounds.lifecycle, 'counts:impressions': rounds.impressions };
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), debug: true, aggregators: { helper } }, testDeps(edge));
    await seg.consent.set({ measurement: true });
    seg.track(play('a'));
    await seg.flush();
    expect(posts('/v1/contributions')).toHaveLength(3);
    await seg.eraseData();
    await seg.consent.set({ measurement: true });
    seg.track(play('b'));
    await seg.flush();
    expect(posts('/v1/contributions')).toHaveLength(3);
    expect((await seg.exportData())?.privacyLedger.entries.map((e) => e.release)).toEqual(['erased', 'erased', 'erased']);
    await seg.shutdown();

    // Another device, offline: its three contributions wait in the outbox until measurement is withdrawn.
    const offline = startSegmenter({ endpoint: edge.endpoint, appId: appId(), aggregators: { helper } }, testDeps(edge, { fetch: (input, init) => (init && init.method === 'POST' ? Promise.reject(new TypeError('offline')) : edge.fetch(input, init)) }));
    await offline.consent.set({ measurement: true });
    offline.track(play('a'));
    await offline.flush();
    const queued = await offline.exportData();
    expect(queued?.privacyLedger.entries).toHaveLength(3);
    expect(queued?.outbox.map((item) => item.purpose)).toEqual(['measurement', 'measurement', 'measurement']);
    await offline.consent.set({ measurement: false });
    expect((await offline.exportData())?.outbox).toEqual([]);
    await offline.shutdown();
  });

  it('a round of another measure than the one asked for is not joined (the core compares the head before loading the chunk)', async () => {
    const { model, helper, rounds } = await secureSetup(CAMPAIGNS);
    await edge.publish(model);
    // A server that ignores `measure` answers every counts query with the segment round.
    edge.rounds = { counts: rounds.segment, 'counts:lifecycle': rounds.segment, 'counts:impressions': rounds.segment };
    const errors: EdgesegError[] = [];
    const seg = startSegmenter({ endpoint: edge.endpoint, appId: appId(), debug: true, onError: (e) => errors.push(e), aggregators: { helper } }, testDeps(edge));
    await seg.consent.set({ measurement: true });
    seg.track(play('a'));
    await seg.flush();
    expect(errors).toEqual([]);
    expect((posts('/v1/contributions') as { round_id: string }[]).map((c) => c.round_id)).toEqual([rounds.segment.round_id]);
    expect(logged).toContain(`[edgeseg] lifecycle counts ${isoWeekPeriod(Date.now())}: no counts round open for it yet`);
    expect(logged).toContain(`[edgeseg] impression counts ${countsPeriod('impressions', Date.now())}: no counts round open for it yet`);
    await seg.shutdown();
  });
});
