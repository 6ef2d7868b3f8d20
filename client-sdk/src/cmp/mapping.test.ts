import { describe, expect, it } from 'vitest';
import type { TcData } from './iab.ts';
import { consentFromGpp, consentFromTcData, DEFAULT_MAPPING, DEFAULT_TCF_PURPOSES, usOptedOut, type ConsentMapping } from './mapping.ts';

/** Per-id flags with `ids` true (TCData's `{ 1: true, … }`). */
const flags = (...ids: number[]): Record<number, boolean> => Object.fromEntries(ids.map((id) => [id, true]));
const ALL = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

function tc(over: Partial<TcData> & { consents?: number[] } = {}): TcData {
  const { consents = ALL, ...rest } = over;
  return { gdprApplies: true, eventStatus: 'useractioncomplete', cmpStatus: 'loaded', purpose: { consents: flags(...consents), legitimateInterests: {} }, vendor: { consents: {}, legitimateInterests: {} }, ...rest };
}

describe('consentFromTcData, default mapping', () => {
  it('grants every purpose when every purpose it needs has consent', () => {
    expect(consentFromTcData(tc())).toEqual({ personalization: true, measurement: true, model_improvement: true });
  });

  it('needs Purpose 1 (storage on the device) for everything', () => {
    expect(consentFromTcData(tc({ consents: ALL.filter((p) => p !== 1) }))).toEqual({ personalization: false, measurement: false, model_improvement: false });
  });

  it('personalization needs 1, 5 and 6; measurement 1, 8 and 9; model improvement 1 and 10', () => {
    expect(DEFAULT_TCF_PURPOSES).toEqual({ personalization: [1, 5, 6], measurement: [1, 8, 9], model_improvement: [1, 10] });
    expect(consentFromTcData(tc({ consents: [1, 5, 6] }))).toEqual({ personalization: true, measurement: false, model_improvement: false });
    expect(consentFromTcData(tc({ consents: [1, 5, 8, 9] }))).toEqual({ personalization: false, measurement: true, model_improvement: false });
    expect(consentFromTcData(tc({ consents: [1, 8, 10] }))).toEqual({ personalization: false, measurement: false, model_improvement: true });
  });

  it('never takes legitimate interest for consent', () => {
    const data = tc({ consents: [1], purpose: { consents: flags(1), legitimateInterests: flags(...ALL) } });
    expect(consentFromTcData(data)).toEqual({ personalization: false, measurement: false, model_improvement: false });
  });

  it('says nothing when GDPR does not apply, and takes an unknown gdprApplies as applying', () => {
    expect(consentFromTcData(tc({ gdprApplies: false }))).toEqual({});
    expect(consentFromTcData(tc({ gdprApplies: undefined, consents: [1] }))).toEqual({ personalization: false, measurement: false, model_improvement: false });
  });

  it('is no answer while the CMP UI shows, loads or fails', () => {
    expect(consentFromTcData(tc({ eventStatus: 'cmpuishown' }))).toBeNull();
    expect(consentFromTcData(tc({ eventStatus: undefined, cmpStatus: 'loading' }))).toBeNull();
    expect(consentFromTcData(tc({ cmpStatus: 'error' }))).toBeNull();
    expect(consentFromTcData(tc({ eventStatus: 'tcloaded' }))).toEqual({ personalization: true, measurement: true, model_improvement: true });
  });
});

describe('consentFromTcData, overridden', () => {
  it('with a vendorId, also needs vendor consent and no publisher restriction against it', () => {
    const m: ConsentMapping = { ...DEFAULT_MAPPING, vendorId: 901 };
    expect(consentFromTcData(tc(), m)).toEqual({ personalization: false, measurement: false, model_improvement: false });
    const withVendor = tc({ vendor: { consents: flags(901) } });
    expect(consentFromTcData(withVendor, m)).toEqual({ personalization: true, measurement: true, model_improvement: true });
    // Publisher restrictions: 0 not allowed, 2 legitimate interest only (both refuse); 1 require consent (fine).
    const restricted = tc({ vendor: { consents: flags(901) }, publisher: { restrictions: { 8: { 901: 0 }, 10: { 901: 2 }, 5: { 901: 1 }, 6: { 77: 0 } } } });
    expect(consentFromTcData(restricted, m)).toEqual({ personalization: true, measurement: false, model_improvement: false });
  });

  it('reads publisher-purpose consents when told to', () => {
    const data = tc({ consents: [], publisher: { consents: flags(1, 10) } });
    expect(consentFromTcData(data, { ...DEFAULT_MAPPING, tcfConsents: 'publisher' })).toEqual({ personalization: false, measurement: false, model_improvement: true });
  });

  it('takes the app’s own purpose lists, and leaves a purpose mapped to null alone', () => {
    const m: ConsentMapping = { ...DEFAULT_MAPPING, tcfPurposes: { personalization: [1], measurement: null, model_improvement: [1, 7, 10] } };
    expect(consentFromTcData(tc({ consents: [1, 10] }), m)).toEqual({ personalization: true, model_improvement: false });
  });
});

describe('usOptedOut', () => {
  it('is true for an opt-out of sale, sharing or targeted advertising, or GPC, and false for "did not opt out" or not applicable', () => {
    expect(usOptedOut({ SaleOptOut: 1 })).toBe(true);
    expect(usOptedOut({ SharingOptOut: 1, SaleOptOut: 2 })).toBe(true);
    expect(usOptedOut({ TargetedAdvertisingOptOut: 1 })).toBe(true);
    expect(usOptedOut({ Gpc: true })).toBe(true);
    expect(usOptedOut({ OptOutSale: 'Y' })).toBe(true); // uspv1
    expect(usOptedOut({ SaleOptOut: 2, SharingOptOut: 2, TargetedAdvertisingOptOut: 0, Gpc: false })).toBe(false);
    expect(usOptedOut({ OptOutSale: 'N' })).toBe(false);
  });
});

describe('consentFromGpp', () => {
  const ready = { signalStatus: 'ready', cmpStatus: 'loaded', supportedAPIs: ['2:tcfeuv2', '7:usnat', '8:usca'] } as const;
  /** A GPP tcfeuv2 section: PurposeConsent is a bitfield, index 0 = Purpose 1. */
  const eu = (purposes: number[], vendors: number[] = []) => [{ Version: 2, PurposeConsent: Array.from({ length: 24 }, (_, i) => purposes.includes(i + 1)), PurposeLegitimateInterests: Array.from({ length: 24 }, () => true), VendorConsent: vendors }];

  it('reads the tcfeuv2 section like TCF', () => {
    expect(consentFromGpp({ ...ready, applicableSections: [2], parsedSections: { tcfeuv2: eu([1, 8, 9]) } })).toEqual({ personalization: false, measurement: true, model_improvement: false });
    expect(consentFromGpp({ ...ready, applicableSections: [2], parsedSections: { tcfeuv2: eu(ALL, [901]) } }, { ...DEFAULT_MAPPING, vendorId: 901 })).toEqual({ personalization: true, measurement: true, model_improvement: true });
    expect(consentFromGpp({ ...ready, applicableSections: [2], parsedSections: { tcfeuv2: eu(ALL, [5]) } }, { ...DEFAULT_MAPPING, vendorId: 901 })).toEqual({ personalization: false, measurement: false, model_improvement: false });
  });

  it('withdraws only what leaves the device on a US opt-out or GPC, and says nothing without one', () => {
    expect(consentFromGpp({ ...ready, applicableSections: [7], parsedSections: { usnat: [{ SaleOptOut: 2, SharingOptOut: 1 }, { SubsectionType: 1, Gpc: false }] } })).toEqual({ measurement: false, model_improvement: false });
    expect(consentFromGpp({ ...ready, applicableSections: [7], parsedSections: { usnat: [{ SaleOptOut: 2, SharingOptOut: 2 }, { SubsectionType: 1, Gpc: true }] } })).toEqual({ measurement: false, model_improvement: false });
    expect(consentFromGpp({ ...ready, applicableSections: [8], parsedSections: { usca: { SaleOptOut: 1 } } })).toEqual({ measurement: false, model_improvement: false });
    expect(consentFromGpp({ ...ready, applicableSections: [7], parsedSections: { usnat: [{ SaleOptOut: 2, SharingOptOut: 2, TargetedAdvertisingOptOut: 2 }] } })).toEqual({});
  });

  it('reads only applicable sections, and none when applicableSections is [-1]', () => {
    const sections = { tcfeuv2: eu([]), usnat: [{ SaleOptOut: 1 }] };
    expect(consentFromGpp({ ...ready, applicableSections: [7], parsedSections: sections })).toEqual({ measurement: false, model_improvement: false });
    expect(consentFromGpp({ ...ready, applicableSections: [2], parsedSections: sections })).toEqual({ personalization: false, measurement: false, model_improvement: false });
    expect(consentFromGpp({ ...ready, applicableSections: [-1], parsedSections: sections })).toEqual({});
  });

  it('lets false win when two applicable sections disagree', () => {
    const sections = { tcfeuv2: eu(ALL), usnat: [{ TargetedAdvertisingOptOut: 1 }] };
    expect(consentFromGpp({ ...ready, applicableSections: [2, 7], parsedSections: sections })).toEqual({ personalization: true, measurement: false, model_improvement: false });
  });

  it('takes a state section whose id it does not know (it can only withdraw), and section ids from supportedAPIs', () => {
    expect(consentFromGpp({ signalStatus: 'ready', applicableSections: [16], parsedSections: { ustx: [{ SaleOptOut: 1 }] } })).toEqual({ measurement: false, model_improvement: false });
    expect(consentFromGpp({ signalStatus: 'ready', supportedAPIs: ['16:ustx'], applicableSections: [7], parsedSections: { ustx: [{ SaleOptOut: 1 }] } })).toEqual({});
  });

  it('is no answer until the signal is ready', () => {
    expect(consentFromGpp({ ...ready, signalStatus: 'not ready', applicableSections: [7], parsedSections: { usnat: [{ SaleOptOut: 1 }] } })).toBeNull();
    expect(consentFromGpp({ ...ready, cmpStatus: 'error', applicableSections: [7], parsedSections: { usnat: [{ SaleOptOut: 1 }] } })).toBeNull();
  });

  it('reads sections handed in place of parsedSections (CMPs before GPP 1.1)', () => {
    expect(consentFromGpp({ ...ready, applicableSections: [8] }, DEFAULT_MAPPING, { usca: [{ SharingOptOut: 1 }] })).toEqual({ measurement: false, model_improvement: false });
  });

  it('withdraws what the app says a US opt-out withdraws', () => {
    expect(consentFromGpp({ ...ready, applicableSections: [7], parsedSections: { usnat: [{ SaleOptOut: 1 }] } }, { ...DEFAULT_MAPPING, usOptOutWithdraws: ['personalization', 'measurement', 'model_improvement'] })).toEqual({ personalization: false, measurement: false, model_improvement: false });
  });
});
