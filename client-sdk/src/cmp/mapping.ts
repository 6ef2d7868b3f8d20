/**
 * From IAB signals to edgeseg's three purposes, as plain functions (no CMP, no DOM).
 *
 * The default mapping, and why:
 *
 * | purpose | TCF v2.2 consent needed (all of) | why |
 * |---|---|---|
 * | `personalization` | 1 store/access on a device, 5 create profiles for personalised content, 6 use them to select content | the SDK keeps an event log and a profile (the segment) on the device and the app picks rows with it: that is what 5 and 6 describe, whoever runs it and wherever it runs; a viewer who refused "personalised content" expects none |
 * | `measurement` | 1, 8 measure content performance, 9 understand audiences through statistics | weekly randomized counts of segments and lifecycle stages (audiences, 9) and of campaign impressions and outcomes (content performance, 8) leave the device under this one switch, so it needs both |
 * | `model_improvement` | 1, 10 develop and improve services | contributions train the segmentation model |
 *
 * - Purpose 1 comes first everywhere: without it nothing may be stored on the device
 *   (ePrivacy art. 5(3)), and every purpose stores something.
 * - Only consent counts. Legitimate interest (`purpose.legitimateInterests`) is never
 *   read: edgeseg sends nothing off the device on any basis but the viewer's consent,
 *   and TCF 2.2 itself no longer allows it for purposes 3 to 6.
 * - `vendorId` (your IAB Global Vendor List id, if you registered one): each purpose
 *   then also needs `vendor.consents[vendorId]`, and a publisher restriction that
 *   forbids the purpose for that vendor (type 0) or allows it only on legitimate
 *   interest (type 2) refuses it.
 * - `tcfConsents: 'publisher'` reads the CMP's publisher-purpose consents
 *   (`publisher.consents`: the app's own, first-party purposes) instead of the global
 *   purpose consents, for CMPs set up to ask for them.
 * - `gdprApplies === false`: TCF says nothing, and no purpose changes.
 * - `purposeOneTreatment` (Purpose 1 not disclosed by the CMP) is not interpreted: pass a
 *   `tcfPurposes` without 1 if your jurisdiction lets you store without that consent.
 * - US sections of GPP (`usnat`, the state sections such as `usca`, `usva`, `usco`, and
 *   the legacy `uspv1`) are opt-out regimes: not having opted out is not consent. An
 *   opt-out of sale, sharing or targeted advertising, or GPC, withdraws `measurement`
 *   and `model_improvement` (what leaves the device); otherwise nothing changes, and
 *   those stay off until the viewer grants them. `personalization` never leaves the
 *   device and is not a sale, sharing or targeted advertising, so US sections leave it.
 *
 * Every part of it can be replaced (`tcfPurposes`, `usOptOutWithdraws`).
 */
import type { ConsentState, Purpose } from '../index.ts';
import type { GppPing, GppSection, TcData } from './iab.ts';

/** edgeseg's purposes, in a fixed order (so equal changes compare equal). */
export const PURPOSES: readonly Purpose[] = ['personalization', 'measurement', 'model_improvement'];

/** Per purpose, the TCF purpose ids that all need consent, or null: TCF does not decide it. */
export type TcfPurposeMap = Readonly<Record<Purpose, readonly number[] | null>>;

/** The default TCF mapping (see the table above). */
export const DEFAULT_TCF_PURPOSES: TcfPurposeMap = {
  personalization: [1, 5, 6],
  measurement: [1, 8, 9],
  model_improvement: [1, 10],
};

/** The purposes a US opt-out (sale, sharing, targeted advertising) or GPC withdraws by default. */
export const DEFAULT_US_OPT_OUT_WITHDRAWS: readonly Purpose[] = ['measurement', 'model_improvement'];

/** How signals map to purposes. */
export interface ConsentMapping {
  tcfPurposes: TcfPurposeMap;
  /** Your IAB GVL vendor id: every purpose then also needs vendor consent. */
  vendorId?: number;
  /** Whose purpose consents to read: the global ones (default) or the publisher's own. */
  tcfConsents: 'purposes' | 'publisher';
  usOptOutWithdraws: readonly Purpose[];
}

/** The default mapping, with nothing overridden. */
export const DEFAULT_MAPPING: ConsentMapping = { tcfPurposes: DEFAULT_TCF_PURPOSES, tcfConsents: 'purposes', usOptOutWithdraws: DEFAULT_US_OPT_OUT_WITHDRAWS };

/** A change of consent: each purpose the signal decides, and nothing else. */
export type ConsentChange = Partial<ConsentState>;

/** TCF consents, whichever API carried them. */
interface EuConsents {
  purpose(id: number): boolean;
  vendor(id: number): boolean;
  /** True when a publisher restriction keeps `vendorId` from `purposeId` on the basis of consent. */
  restricted(purposeId: number, vendorId: number): boolean;
}

function fromEu(eu: EuConsents, m: ConsentMapping): ConsentChange {
  const change: ConsentChange = {};
  for (const purpose of PURPOSES) {
    const needs = m.tcfPurposes[purpose];
    if (!needs) continue;
    const { vendorId } = m;
    change[purpose] = needs.every((id) => eu.purpose(id) && (vendorId === undefined || (eu.vendor(vendorId) && !eu.restricted(id, vendorId))));
  }
  return change;
}

/**
 * The consent change TCData says, `{}` when TCF says nothing on our purposes (GDPR does
 * not apply), or null when it is no answer yet (the CMP UI is showing, or it is loading
 * or failed).
 *
 * @example
 * consentFromTcData({ gdprApplies: true, eventStatus: 'useractioncomplete', purpose: { consents: { 1: true, 5: true, 6: true } } })
 * // { personalization: true, measurement: false, model_improvement: false }
 */
export function consentFromTcData(tcData: TcData, m: ConsentMapping = DEFAULT_MAPPING): ConsentChange | null {
  if (tcData.cmpStatus === 'error') return null;
  if (tcData.eventStatus !== 'tcloaded' && tcData.eventStatus !== 'useractioncomplete') return null;
  if (tcData.gdprApplies === false) return {};
  const consents = (m.tcfConsents === 'publisher' ? tcData.publisher?.consents : tcData.purpose?.consents) ?? {};
  const vendors = tcData.vendor?.consents ?? {};
  const restrictions = tcData.publisher?.restrictions ?? {};
  return fromEu(
    {
      purpose: (id) => consents[id] === true,
      vendor: (id) => vendors[id] === true,
      restricted: (purposeId, vendorId) => {
        const type = restrictions[purposeId]?.[vendorId];
        return type === 0 || type === 2;
      },
    },
    m,
  );
}

/** A GPP section's sub-sections as one set of fields (later sub-sections add theirs). */
function fieldsOf(section: GppSection): Record<string, unknown> {
  const parts = Array.isArray(section) ? section : [section];
  const fields: Record<string, unknown> = {};
  for (const part of parts as readonly Record<string, unknown>[]) if (part && typeof part === 'object') Object.assign(fields, part);
  return fields;
}

/** A GPP bitfield (booleans, index 0 = id 1) or id list (numbers) as a lookup. */
function flagsOf(value: unknown): (id: number) => boolean {
  if (!Array.isArray(value)) return () => false;
  return (id) => (typeof value[0] === 'boolean' ? value[id - 1] === true : value.indexOf(id) >= 0);
}

function fromGppTcf(fields: Record<string, unknown>, m: ConsentMapping): ConsentChange {
  return fromEu(
    {
      purpose: flagsOf(m.tcfConsents === 'publisher' ? fields.PubPurposesConsent : fields.PurposeConsent),
      vendor: flagsOf(fields.VendorConsent),
      restricted: () => false, // GPP's PubRestrictions has no settled client-side shape: not read
    },
    m,
  );
}

/** Whether a US section's fields say the viewer opted out (1 = opted out) or sent GPC. */
export function usOptedOut(fields: Readonly<Record<string, unknown>>): boolean {
  if (fields.SaleOptOut === 1 || fields.SharingOptOut === 1 || fields.TargetedAdvertisingOptOut === 1) return true;
  if (fields.Gpc === true || fields.Gpc === 1) return true;
  return fields.OptOutSale === 'Y'; // uspv1
}

/** Section ids of the prefixes the connector reads, for CMPs whose supportedAPIs omits them. */
const SECTION_IDS: Readonly<Record<string, number>> = { tcfeuv2: 2, uspv1: 6, usnat: 7, usca: 8, usva: 9, usco: 10, usut: 11, usct: 12 };

const isUsSection = (prefix: string): boolean => prefix === 'uspv1' || /^us[a-z]{2,3}(v1)?$/.test(prefix);

/**
 * The consent change a GPP ping says (`pingData` of any event): from the `tcfeuv2`
 * section read as TCF, and from US sections as opt-outs; false wins when two disagree.
 * `{}` when no applicable section speaks of our purposes; null while the signal is not
 * ready. `sections` replaces `parsedSections` (CMPs older than GPP 1.1, via getSection).
 *
 * @example
 * consentFromGpp({ signalStatus: 'ready', applicableSections: [7], parsedSections: { usnat: [{ SaleOptOut: 1 }] } })
 * // { measurement: false, model_improvement: false }
 */
export function consentFromGpp(ping: GppPing, m: ConsentMapping = DEFAULT_MAPPING, sections?: Readonly<Record<string, GppSection | undefined>>): ConsentChange | null {
  if (ping.signalStatus !== 'ready' || ping.cmpStatus === 'error') return null;
  const applicable = ping.applicableSections;
  if (applicable && applicable.length === 1 && applicable[0] === -1) return {};
  const ids: Record<string, number> = { ...SECTION_IDS };
  for (const entry of ping.supportedAPIs ?? []) {
    const [id, prefix] = entry.split(':');
    if (prefix && Number.isInteger(Number(id))) ids[prefix] = Number(id);
  }
  const applies = (prefix: string): boolean => {
    const id = ids[prefix];
    // A US section whose id is unknown still counts: it can only withdraw.
    return !applicable || (id === undefined ? isUsSection(prefix) : applicable.indexOf(id) >= 0);
  };

  const change: ConsentChange = {};
  const add = (part: ConsentChange): void => {
    for (const purpose of PURPOSES) {
      const value = part[purpose];
      if (value !== undefined) change[purpose] = change[purpose] === false ? false : value;
    }
  };
  const parsed = sections ?? ping.parsedSections ?? {};
  for (const prefix of Object.keys(parsed)) {
    const section = parsed[prefix];
    if (!section || !applies(prefix)) continue;
    const fields = fieldsOf(section);
    if (prefix === 'tcfeuv2') add(fromGppTcf(fields, m));
    else if (isUsSection(prefix) && usOptedOut(fields)) for (const purpose of m.usOptOutWithdraws) add({ [purpose]: false });
  }
  return change;
}
