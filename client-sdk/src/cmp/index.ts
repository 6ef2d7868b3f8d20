/**
 * `@edgeseg/client-sdk/cmp` (`cmp.min.js`): an optional connector from a consent
 * management platform to the segmenter's consent. It reads IAB TCF v2.2 (`__tcfapi`)
 * and IAB GPP (`__gpp`) signals, maps them to edgeseg's three purposes (the default
 * mapping and why: ./mapping.ts), and calls `segmenter.consent.set()` when the CMP answers and on
 * every later change. The core pays no bytes for it.
 *
 * Pair it with `waitForConsent: true`: the SDK then stores and sends nothing until the
 * first `consent.set()`, which the connector makes as soon as the CMP answers, also when
 * the answer says nothing of our purposes (GDPR not applying, no US opt-out): the
 * defaults then stand (personalization on, measurement and model_improvement off) and
 * storage begins. Without a CMP on the page the connector does nothing, so keep a way
 * for the viewer to answer (the preference centre) when you wait for consent.
 *
 * Limits: the CMP's stub (`__tcfapi` / `__gpp`, which queues calls until the CMP has
 * loaded) must be on the page when you connect, as the IAB asks CMPs to install it
 * first; a CMP that defines its API later, or that lives in another frame (the
 * `__tcfapiLocator` / `__gppLocator` postMessage protocol), is not found.
 *
 * @example
 * import { createSegmenter } from '@edgeseg/client-sdk';
 * import { connectConsentPlatform } from '@edgeseg/client-sdk/cmp';
 * const seg = createSegmenter({ endpoint: 'https://edge.example.com', waitForConsent: true });
 * const disconnect = connectConsentPlatform(seg, { onError: (e) => console.warn(e) });
 *
 * @module @edgeseg/client-sdk/cmp
 */
import type { ConsentState, Segmenter } from '../index.ts';
import { EdgesegError } from '../errors.ts';
import type { CmpHost, GppEvent, GppPing, GppSection, TcData } from './iab.ts';
import { consentFromGpp, consentFromTcData, DEFAULT_MAPPING, PURPOSES, type ConsentChange, type ConsentMapping, type TcfPurposeMap } from './mapping.ts';

export { consentFromGpp, consentFromTcData, DEFAULT_MAPPING, DEFAULT_TCF_PURPOSES, DEFAULT_US_OPT_OUT_WITHDRAWS, usOptedOut, type ConsentChange, type ConsentMapping, type TcfPurposeMap } from './mapping.ts';
export type { CmpHost, GppApi, GppEvent, GppPing, GppSection, TcData, TcfApi, TcfEventStatus } from './iab.ts';

/** What the connector needs of a segmenter: only `consent.set`. */
export interface ConsentTarget {
  readonly consent: Pick<Segmenter['consent'], 'set'>;
}

export interface ConsentPlatformOptions {
  /** Which signals to read, each where its API is on the page. Default both. */
  signals?: readonly ('tcf' | 'gpp')[];
  /** Per purpose, the TCF purposes that all need consent, or null to let TCF leave it alone. Default {@link DEFAULT_TCF_PURPOSES}. */
  tcfPurposes?: Partial<TcfPurposeMap>;
  /** Your IAB Global Vendor List id, if registered: each purpose then also needs vendor consent. */
  vendorId?: number;
  /** 'publisher': read the CMP's publisher-purpose consents (your own purposes) instead of the global ones. Default 'purposes'. */
  tcfConsents?: 'purposes' | 'publisher';
  /** Purposes a US opt-out (sale, sharing, targeted advertising) or GPC withdraws. Default measurement and model_improvement. */
  usOptOutWithdraws?: ConsentMapping['usOptOutWithdraws'];
  /** Gets every problem (a CMP that throws or reports an error, a consent.set that fails) as an EdgesegError, code 'consent-platform-failed'. Default: console.warn. */
  onError?: (error: EdgesegError) => void;
  /** Where `__tcfapi` and `__gpp` are. Default `window`. */
  host?: CmpHost;
}

const keyOf = (change: ConsentChange): string => PURPOSES.map((p) => (change[p] === undefined ? '-' : String(change[p]))).join();

/**
 * Connects the page's CMP to `segmenter`: from now on each CMP answer is mapped to a
 * consent change and set. Returns the disconnect function (removes the CMP listeners).
 * Never throws; problems go to `onError`.
 *
 * A repeated answer that maps to the change already set is not set again (so a choice
 * the viewer made since in your own UI stands), except a TCF `useractioncomplete`: the
 * viewer has just answered in the CMP. An answer that decides no purpose is set (as `{}`)
 * only when it is the first, to end `waitForConsent`. Where both APIs are on the page,
 * the EU consent is read from `__tcfapi` and GPP's `tcfeuv2` copy of it is skipped, so
 * the two never take turns; GPP's US sections are still read.
 *
 * @example
 * const disconnect = connectConsentPlatform(seg, { vendorId: 1234, tcfPurposes: { personalization: [1] } });
 * // later, e.g. when the page is torn down:
 * disconnect();
 */
export function connectConsentPlatform(segmenter: ConsentTarget, options: ConsentPlatformOptions = {}): () => void {
  const mapping: ConsentMapping = {
    tcfPurposes: { ...DEFAULT_MAPPING.tcfPurposes, ...options.tcfPurposes },
    vendorId: options.vendorId,
    tcfConsents: options.tcfConsents ?? DEFAULT_MAPPING.tcfConsents,
    usOptOutWithdraws: options.usOptOutWithdraws ?? DEFAULT_MAPPING.usOptOutWithdraws,
  };
  const signals = options.signals ?? ['tcf', 'gpp'];
  const host: CmpHost | undefined = options.host ?? (typeof window === 'undefined' ? undefined : (window as CmpHost));
  let connected = true;
  let lastKey: string | null = null;
  const removers: (() => void)[] = [];

  function report(message: string, cause?: unknown): void {
    const error = new EdgesegError('consent-platform-failed', 'consent', message, cause);
    try {
      if (options.onError) options.onError(error);
      else if (typeof console !== 'undefined') console.warn('[edgeseg]', error.message);
    } catch {
      // an onError that throws must not break the CMP's own callback loop
    }
  }

  /**
   * Sets `change`, unless it is what the connector set last and the viewer did not just
   * answer, or it is empty (an answer that decides no purpose) and not the first answer:
   * an empty set matters only to end waitForConsent.
   */
  function apply(change: ConsentChange, userAction: boolean): void {
    if (!connected) return;
    const key = keyOf(change);
    if ((key === lastKey && !userAction) || (key === keyOf({}) && lastKey !== null)) return;
    lastKey = key;
    const set: Partial<ConsentState> = {};
    for (const p of PURPOSES) if (change[p] !== undefined) set[p] = change[p];
    try {
      Promise.resolve(segmenter.consent.set(set)).catch((err: unknown) => report(`consent.set failed: ${String(err)}`, err));
    } catch (err) {
      report(`consent.set threw: ${String(err)}`, err);
    }
  }

  /** `run`, with anything it throws reported instead. */
  const guarded = (what: string, run: () => void): void => {
    try {
      run();
    } catch (err) {
      report(`${what}: ${String(err)}`, err);
    }
  };

  const tcfapi = host?.__tcfapi;
  if (signals.indexOf('tcf') >= 0 && typeof tcfapi === 'function') {
    let listenerId: number | undefined;
    let reportedError = false;
    const removeTcf = (): void => {
      if (listenerId !== undefined) tcfapi('removeEventListener', 2, () => undefined, listenerId);
      listenerId = undefined;
    };
    removers.push(removeTcf);
    guarded('__tcfapi addEventListener', () =>
      tcfapi('addEventListener', 2, (data, success) =>
        guarded('TCF event', () => {
          const tcData = (data ?? {}) as TcData;
          if (typeof tcData.listenerId === 'number') listenerId = tcData.listenerId;
          if (!connected) return removeTcf(); // disconnected before the CMP first answered
          if (!success || tcData.cmpStatus === 'error') {
            if (!reportedError) report(`the CMP's TCF API failed (success: ${String(success)}, cmpStatus: ${String(tcData.cmpStatus)}); consent is left as it was`);
            reportedError = true;
            return;
          }
          const change = consentFromTcData(tcData, mapping);
          if (change) apply(change, tcData.eventStatus === 'useractioncomplete');
        }),
      ),
    );
  }

  /** With the TCF API on the page, GPP's copy of the same TC string (tcfeuv2) is not read again. */
  const readsTcf = signals.indexOf('tcf') >= 0 && typeof tcfapi === 'function';
  const gpp = host?.__gpp;
  if (signals.indexOf('gpp') >= 0 && typeof gpp === 'function') {
    let listenerId: number | undefined;
    let reportedError = false;
    /** GPP 1.0 CMPs have no parsedSections: ask for each applicable section we read. */
    const withSections = (ping: GppPing, then: (sections?: Record<string, GppSection | undefined>) => void): void => {
      if (ping.parsedSections) return then();
      const prefixes = (ping.supportedAPIs ?? []).map((s) => s.split(':').pop() ?? s).filter((p) => (p === 'tcfeuv2' && !readsTcf) || /^us/.test(p));
      const sections: Record<string, GppSection | undefined> = {};
      let pending = prefixes.length;
      if (!pending) return then(sections);
      for (const prefix of prefixes) {
        gpp('getSection', (data) => {
          if (data && typeof data === 'object') sections[prefix] = data as GppSection;
          if (--pending === 0) guarded('GPP getSection', () => then(sections));
        }, prefix);
      }
    };
    const removeGpp = (): void => {
      if (listenerId !== undefined) gpp('removeEventListener', () => undefined, listenerId);
      listenerId = undefined;
    };
    removers.push(removeGpp);
    guarded('__gpp addEventListener', () =>
      gpp('addEventListener', (data, success) =>
        guarded('GPP event', () => {
          const event = (data ?? {}) as GppEvent;
          if (typeof event.listenerId === 'number') listenerId = event.listenerId;
          if (!connected) return removeGpp(); // disconnected before the CMP first answered
          const ping = event.pingData ?? {};
          if (!success || ping.cmpStatus === 'error' || event.eventName === 'error') {
            if (!reportedError) report(`the CMP's GPP API failed (${event.eventName === 'error' ? String(event.data) : `cmpStatus: ${String(ping.cmpStatus)}`}); consent is left as it was`);
            reportedError = true;
            return;
          }
          if (ping.signalStatus !== 'ready') return;
          withSections(ping, (fetched) => {
            const sections: Record<string, GppSection | undefined> = { ...(fetched ?? ping.parsedSections) };
            if (readsTcf) delete sections.tcfeuv2;
            const change = consentFromGpp(ping, mapping, sections);
            if (change) apply(change, false);
          });
        }),
      ),
    );
  }

  return () => {
    if (!connected) return;
    connected = false;
    for (const remove of removers) guarded('removing the CMP listener', remove);
  };
}
