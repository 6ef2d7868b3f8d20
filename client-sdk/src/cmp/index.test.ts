import { describe, expect, it } from 'vitest';
import type { ConsentState } from '../index.ts';
import type { EdgesegError } from '../errors.ts';
import { stubGpp, stubTcf } from '../testing/stub-cmp.ts';
import type { TcData } from './iab.ts';
import { connectConsentPlatform, type ConsentTarget } from './index.ts';

type Change = Partial<ConsentState>;

/** A segmenter reduced to what the connector uses, recording each consent.set. */
function recorder(set?: (change: Change) => Promise<void>): ConsentTarget & { sets: Change[] } {
  const sets: Change[] = [];
  return {
    sets,
    consent: {
      set(change) {
        sets.push(change);
        return set ? set(change) : Promise.resolve();
      },
    },
  };
}

function errors(): { list: EdgesegError[]; onError: (e: EdgesegError) => void } {
  const list: EdgesegError[] = [];
  return { list, onError: (e) => list.push(e) };
}

const flags = (...ids: number[]): Record<number, boolean> => Object.fromEntries(ids.map((id) => [id, true]));
const ALL = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const tcData = (consents: number[], over: Partial<TcData> = {}): TcData => ({ gdprApplies: true, eventStatus: 'useractioncomplete', cmpStatus: 'loaded', purpose: { consents: flags(...consents) }, vendor: { consents: {} }, ...over });
const EVERYTHING = { personalization: true, measurement: true, model_improvement: true };
const NOTHING = { personalization: false, measurement: false, model_improvement: false };
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('connectConsentPlatform with TCF (__tcfapi)', () => {
  it('sets the mapped consent when the CMP answers, and again when the viewer withdraws later', () => {
    const cmp = stubTcf({ tcData: tcData([], { eventStatus: 'cmpuishown' }) });
    const seg = recorder();
    const { list, onError } = errors();
    connectConsentPlatform(seg, { host: { __tcfapi: cmp.api }, onError });
    expect(seg.sets).toEqual([]); // the CMP UI is showing: no answer yet
    cmp.update(tcData(ALL));
    expect(seg.sets).toEqual([EVERYTHING]);
    cmp.update(tcData([1, 5, 6, 10], { eventStatus: 'useractioncomplete' }));
    expect(seg.sets).toEqual([EVERYTHING, { personalization: true, measurement: false, model_improvement: true }]);
    cmp.update(tcData([]));
    expect(seg.sets.at(-1)).toEqual(NOTHING);
    expect(list).toEqual([]);
  });

  it('a returning viewer: tcloaded on connect sets at once; a repeat of the same signal is not set again, a new user action is', () => {
    const cmp = stubTcf({ tcData: tcData([1, 8, 9], { eventStatus: 'tcloaded' }) });
    const seg = recorder();
    connectConsentPlatform(seg, { host: { __tcfapi: cmp.api } });
    expect(seg.sets).toEqual([{ personalization: false, measurement: true, model_improvement: false }]);
    cmp.update(tcData([1, 8, 9], { eventStatus: 'tcloaded' }));
    expect(seg.sets).toHaveLength(1);
    cmp.update(tcData([1, 8, 9], { eventStatus: 'useractioncomplete' }));
    expect(seg.sets).toHaveLength(2);
  });

  it('GDPR not applying: consent is left alone (one empty set, which ends waitForConsent)', () => {
    const cmp = stubTcf({ tcData: tcData([], { gdprApplies: false, eventStatus: 'tcloaded' }) });
    const seg = recorder();
    connectConsentPlatform(seg, { host: { __tcfapi: cmp.api } });
    expect(seg.sets).toEqual([{}]);
    cmp.update(tcData([], { gdprApplies: false, eventStatus: 'tcloaded' }));
    expect(seg.sets).toEqual([{}]);
  });

  it('a CMP still loading (the IAB stub queue): nothing until it has loaded, then its answer', () => {
    const cmp = stubTcf({ tcData: tcData([1, 5, 6], { eventStatus: 'tcloaded' }), loaded: false });
    const seg = recorder();
    connectConsentPlatform(seg, { host: { __tcfapi: cmp.api } });
    expect(cmp.calls.map((c) => c[0])).toEqual(['addEventListener']);
    expect(seg.sets).toEqual([]);
    cmp.load();
    expect(seg.sets).toEqual([{ personalization: true, measurement: false, model_improvement: false }]);
  });

  it('disconnect removes the listener, and later answers change nothing; disconnecting before the CMP loaded removes it once it does', () => {
    const cmp = stubTcf({ tcData: tcData(ALL, { eventStatus: 'tcloaded' }) });
    const seg = recorder();
    const disconnect = connectConsentPlatform(seg, { host: { __tcfapi: cmp.api } });
    expect(cmp.listenerCount()).toBe(1);
    disconnect();
    disconnect(); // twice is fine
    expect(cmp.listenerCount()).toBe(0);
    expect(cmp.calls.filter((c) => c[0] === 'removeEventListener')).toEqual([['removeEventListener', 2, 1]]);
    cmp.update(tcData([]));
    expect(seg.sets).toEqual([EVERYTHING]);

    const late = stubTcf({ tcData: tcData(ALL, { eventStatus: 'tcloaded' }), loaded: false });
    const seg2 = recorder();
    connectConsentPlatform(seg2, { host: { __tcfapi: late.api } })();
    late.load();
    expect(seg2.sets).toEqual([]);
    expect(late.listenerCount()).toBe(0);
  });

  it('a CMP in error: consent is left alone and onError hears of it once', () => {
    const cmp = stubTcf({ tcData: tcData(ALL, { cmpStatus: 'error', eventStatus: 'tcloaded' }) });
    const seg = recorder();
    const { list, onError } = errors();
    connectConsentPlatform(seg, { host: { __tcfapi: cmp.api }, onError });
    cmp.update(tcData(ALL, { cmpStatus: 'error', eventStatus: 'tcloaded' }));
    expect(seg.sets).toEqual([]);
    expect(list.map((e) => [e.name, e.code, e.stage])).toEqual([['EdgesegError', 'consent-platform-failed', 'consent']]);
    expect(list[0]?.message).toMatch(/cmpStatus: error/);
  });
});

describe('connectConsentPlatform never throws', () => {
  it('CMP absent: nothing happens, no error, and disconnect is a no-op', () => {
    const seg = recorder();
    const { list, onError } = errors();
    const disconnect = connectConsentPlatform(seg, { host: {}, onError });
    disconnect();
    expect(seg.sets).toEqual([]);
    expect(list).toEqual([]);
    // Outside a browser (no window) and without a host, the same.
    expect(() => connectConsentPlatform(seg)()).not.toThrow();
    expect(seg.sets).toEqual([]);
  });

  it('a segmenter whose consent.set throws or rejects: the error goes to onError and later answers still arrive', async () => {
    const cmp = stubTcf({ tcData: tcData(ALL, { eventStatus: 'tcloaded' }) });
    let calls = 0;
    const seg = recorder(() => {
      calls++;
      if (calls === 1) throw new Error('set exploded');
      return Promise.reject(new Error('set rejected'));
    });
    const { list, onError } = errors();
    expect(() => connectConsentPlatform(seg, { host: { __tcfapi: cmp.api }, onError })).not.toThrow();
    cmp.update(tcData([]));
    await tick();
    expect(seg.sets).toEqual([EVERYTHING, NOTHING]);
    expect(list.map((e) => e.code)).toEqual(['consent-platform-failed', 'consent-platform-failed']);
    expect(list.map((e) => e.message)).toEqual([expect.stringMatching(/set exploded/), expect.stringMatching(/set rejected/)]);
    expect(list[0]?.cause).toBeInstanceOf(Error);
  });

  it('a CMP API that throws, and an onError that throws: nothing escapes', () => {
    const seg = recorder();
    const { list, onError } = errors();
    const broken = { __tcfapi: () => { throw new Error('cmp broke'); }, __gpp: () => { throw new Error('gpp broke'); } };
    expect(() => connectConsentPlatform(seg, { host: broken, onError })()).not.toThrow();
    expect(list.map((e) => e.message)).toEqual([expect.stringMatching(/cmp broke/), expect.stringMatching(/gpp broke/)]);
    expect(() => connectConsentPlatform(seg, { host: broken, onError: () => { throw new Error('handler broke'); } })()).not.toThrow();
  });
});

describe('connectConsentPlatform with GPP (__gpp)', () => {
  it('waits for signalStatus ready, then reads the applicable US section: an opt-out withdraws what leaves the device', () => {
    const cmp = stubGpp({ ping: { gppVersion: '1.1', cmpStatus: 'loading', signalStatus: 'not ready', supportedAPIs: ['7:usnat'], applicableSections: [0] } });
    const seg = recorder();
    connectConsentPlatform(seg, { host: { __gpp: cmp.api } });
    expect(seg.sets).toEqual([]);
    cmp.change({ usnat: [{ SaleOptOut: 2, SharingOptOut: 2, TargetedAdvertisingOptOut: 2 }, { SubsectionType: 1, Gpc: false }] }, [7]);
    expect(seg.sets).toEqual([{}]); // ready, and no opt-out: nothing is granted, nothing changes
    cmp.change({ usnat: [{ SaleOptOut: 1, SharingOptOut: 2, TargetedAdvertisingOptOut: 2 }, { SubsectionType: 1, Gpc: false }] }, [7]);
    expect(seg.sets).toEqual([{}, { measurement: false, model_improvement: false }]);
  });

  it('reads tcfeuv2 like TCF where GPP is the only API', () => {
    const purposeConsent = Array.from({ length: 24 }, (_, i) => i < 11);
    const gpp = stubGpp({ ping: { cmpStatus: 'loaded', signalStatus: 'ready', supportedAPIs: ['2:tcfeuv2'], applicableSections: [2], parsedSections: { tcfeuv2: [{ Version: 2, PurposeConsent: purposeConsent, VendorConsent: [] }] } } });
    const seg = recorder();
    connectConsentPlatform(seg, { host: { __gpp: gpp.api } });
    expect(seg.sets).toEqual([EVERYTHING]);
  });

  it('with both APIs on the page, the EU consent comes from __tcfapi only (GPP’s tcfeuv2 copy is skipped) and GPP’s US sections still count', () => {
    const lagging = [{ Version: 2, PurposeConsent: Array.from({ length: 24 }, () => false), VendorConsent: [] }]; // a GPP copy that disagrees
    const gpp = stubGpp({ ping: { cmpStatus: 'loaded', signalStatus: 'ready', supportedAPIs: ['2:tcfeuv2', '7:usnat'], applicableSections: [2], parsedSections: { tcfeuv2: lagging } } });
    const tcf = stubTcf({ tcData: tcData(ALL, { eventStatus: 'tcloaded' }) });
    const seg = recorder();
    connectConsentPlatform(seg, { host: { __tcfapi: tcf.api, __gpp: gpp.api } });
    expect(seg.sets).toEqual([EVERYTHING]); // GPP said nothing else: no second, empty set
    gpp.change({ usnat: [{ SaleOptOut: 1 }] }, [7]);
    expect(seg.sets).toEqual([EVERYTHING, { measurement: false, model_improvement: false }]);
  });

  it('a GPP 1.0-style CMP without parsedSections: sections come through getSection', () => {
    const cmp = stubGpp({ ping: { cmpStatus: 'loaded', signalStatus: 'not ready', supportedAPIs: ['8:usca'], applicableSections: [0] }, parsedSections: false });
    const seg = recorder();
    connectConsentPlatform(seg, { host: { __gpp: cmp.api } });
    cmp.change({ usca: [{ SaleOptOut: 1 }] }, [8]);
    expect(cmp.calls.filter((c) => c[0] === 'getSection').map((c) => c[1])).toContain('usca');
    expect(seg.sets).toEqual([{ measurement: false, model_improvement: false }]);
  });

  it('no applicable section ([-1]): one empty set; disconnect removes the listener', () => {
    const cmp = stubGpp({ ping: { cmpStatus: 'loaded', signalStatus: 'ready', applicableSections: [-1], parsedSections: {} } });
    const seg = recorder();
    const disconnect = connectConsentPlatform(seg, { host: { __gpp: cmp.api } });
    expect(seg.sets).toEqual([{}]);
    disconnect();
    expect(cmp.listenerCount()).toBe(0);
    cmp.change({ usnat: [{ SaleOptOut: 1 }] }, [7]);
    expect(seg.sets).toEqual([{}]);
  });

  it('a GPP error event reaches onError and changes nothing', () => {
    const cmp = stubGpp({ ping: { cmpStatus: 'loaded', signalStatus: 'not ready', applicableSections: [0] } });
    const seg = recorder();
    const { list, onError } = errors();
    connectConsentPlatform(seg, { host: { __gpp: cmp.api }, onError });
    cmp.fire('error', 'could not read the stored string');
    expect(seg.sets).toEqual([]);
    expect(list.map((e) => e.message)).toEqual([expect.stringMatching(/could not read the stored string/)]);
  });

  it('reads only the signals asked for', () => {
    const gpp = stubGpp({ ping: { cmpStatus: 'loaded', signalStatus: 'ready', applicableSections: [7], parsedSections: { usnat: [{ SaleOptOut: 1 }] } } });
    const tcf = stubTcf({ tcData: tcData(ALL, { eventStatus: 'tcloaded' }) });
    const seg = recorder();
    connectConsentPlatform(seg, { host: { __tcfapi: tcf.api, __gpp: gpp.api }, signals: ['tcf'] });
    expect(seg.sets).toEqual([EVERYTHING]);
    expect(gpp.calls).toEqual([]);
  });
});
