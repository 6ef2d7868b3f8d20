/**
 * The pair the connector is for: a real segmenter (fake-indexeddb, a fake edge) created
 * with `waitForConsent: true`, and a stub TCF CMP that loads late and then answers.
 */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EdgesegError } from '../errors.ts';
import { startSegmenter } from '../segmenter.ts';
import { openStore } from '../store.ts';
import { fakeEdge, testDeps, type FakeEdge } from '../testing/fake-edge.ts';
import { stubTcf } from '../testing/stub-cmp.ts';
import type { TcData } from './iab.ts';
import { connectConsentPlatform } from './index.ts';

let edge: FakeEdge;
beforeEach(async () => {
  edge = await fakeEdge();
  vi.stubGlobal('fetch', edge.fetch);
});
afterEach(() => vi.unstubAllGlobals());

const flags = (...ids: number[]): Record<number, boolean> => Object.fromEntries(ids.map((id) => [id, true]));
const tcData = (consents: number[], eventStatus: TcData['eventStatus']): TcData => ({ gdprApplies: true, cmpStatus: 'loaded', eventStatus, purpose: { consents: flags(...consents) }, vendor: { consents: {} } });
const play = (contentId: string) => ({ type: 'complete' as const, contentId, genres: ['Drama'], durationSec: 3000, positionSec: 3000, device: 'tv' as const });
const posts = () => edge.requests.filter((r) => r.method === 'POST').map((r) => r.path);

describe('waitForConsent + connectConsentPlatform', () => {
  it('stores and sends nothing until the CMP answers; then the answer is the consent, and a later withdrawal takes effect', async () => {
    const appId = `cmp-${Math.random().toString(36).slice(2, 8)}`;
    const errors: EdgesegError[] = [];
    const cmp = stubTcf({ tcData: tcData([], 'cmpuishown'), loaded: false });
    const seg = startSegmenter({ endpoint: edge.endpoint, appId, waitForConsent: true, onError: (e) => errors.push(e) }, testDeps(edge));
    connectConsentPlatform(seg, { host: { __tcfapi: cmp.api }, onError: (e) => errors.push(e) });
    seg.track(play('a'));

    cmp.load(); // the CMP has loaded and shows its UI: still no answer
    await new Promise((r) => setTimeout(r, 50));
    expect(edge.requests).toEqual([]);
    const probe = await openStore(`edgeseg-${appId}`);
    expect(await probe.transaction('kv').store.count()).toBe(0);
    probe.close();

    cmp.update(tcData([1, 5, 6, 8, 9], 'useractioncomplete'));
    await vi.waitFor(() => expect(seg.consent.get()).toEqual({ personalization: true, measurement: true, model_improvement: false }));
    await seg.flush();
    expect(seg.segment()).not.toBeNull();
    expect(posts()).toEqual(['/v1/reports']);

    cmp.update(tcData([1, 5, 6], 'useractioncomplete'));
    await vi.waitFor(() => expect(seg.consent.get().measurement).toBe(false));
    const data = await seg.exportData();
    expect(data?.consent.choice).toEqual({ personalization: true, measurement: false, model_improvement: false });
    expect(data?.consentLog.length).toBe(2);
    expect(errors).toEqual([]);
    await seg.shutdown();
  });
});
