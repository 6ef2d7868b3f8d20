/** The purposes a viewer grants or withdraws, one switch each. */
export interface ConsentState {
  /** On-device use of the segment (nothing leaves the device). */
  personalization: boolean;
  /**
   * Weekly counts of the segment, the lifecycle stage and last week's campaign
   * impressions: randomized reports, or where the signed model says so a secret-shared
   * one-hot to each measure's counts round.
   */
  measurement: boolean;
  /** Contributions to federated model training. */
  model_improvement: boolean;
}

export type Purpose = keyof ConsentState;
export const PURPOSES: readonly Purpose[] = ['personalization', 'measurement', 'model_improvement'];

/** Defaults: on-device personalization on; everything that leaves the device off. */
export const DEFAULT_CONSENT: ConsentState = { personalization: true, measurement: false, model_improvement: false };

/**
 * True when the browser signals Global Privacy Control, which forces the purposes that
 * send data off (whatever the stored choice says).
 *
 * @example
 * if (globalPrivacyControl()) console.log('GPC on');
 */
export function globalPrivacyControl(): boolean {
  return typeof navigator !== 'undefined' && (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;
}

/**
 * The consent in force: the stored choice, with GPC applied on top.
 *
 * @example
 * effectiveConsent({ personalization: true, measurement: true, model_improvement: false }, true).measurement // false
 */
export function effectiveConsent(choice: ConsentState, gpc: boolean): ConsentState {
  return gpc ? { ...choice, measurement: false, model_improvement: false } : { ...choice };
}

/**
 * The purposes a `consent.set()` argument changes, and the keys it names that are not
 * purposes (or whose value is not a boolean), which the SDK reports instead of
 * silently ignoring them.
 *
 * @example
 * readConsentChange({ measurement: true, analytics: true }) // { change: { measurement: true }, unknown: ['analytics'] }
 */
export function readConsentChange(change: unknown): { change: Partial<ConsentState>; unknown: string[] } {
  const out: Partial<ConsentState> = {};
  const unknown: string[] = [];
  if (change && typeof change === 'object') {
    for (const key of Object.keys(change)) {
      const v = (change as Record<string, unknown>)[key];
      if ((PURPOSES as readonly string[]).indexOf(key) >= 0 && typeof v === 'boolean') out[key as Purpose] = v;
      else unknown.push(key);
    }
  } else unknown.push(String(change));
  return { change: out, unknown };
}
