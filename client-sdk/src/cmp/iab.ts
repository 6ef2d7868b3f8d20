/**
 * The parts of the IAB consent APIs the connector reads: TCF v2.2's `__tcfapi` and its
 * TCData, and GPP 1.1's `__gpp` with its PingReturn and EventListener objects. Field
 * names and value codes are the IAB's own; every field is optional because CMPs in the
 * field fill them unevenly.
 */

/** TCF v2.2 `eventStatus`: the TCData is final only with 'tcloaded' or 'useractioncomplete'. */
export type TcfEventStatus = 'tcloaded' | 'cmpuishown' | 'useractioncomplete';

/** Per id (a purpose or a vendor, as object keys), true when the viewer consented. */
export type IdFlags = Readonly<Record<number, boolean | undefined>>;

/** TCData, as `__tcfapi('addEventListener', 2, cb)` hands it to `cb`. */
export interface TcData {
  tcString?: string;
  /** false: GDPR does not apply to this viewer, so TCF says nothing; undefined: the CMP does not know. */
  gdprApplies?: boolean;
  eventStatus?: TcfEventStatus;
  cmpStatus?: 'stub' | 'loading' | 'loaded' | 'error';
  listenerId?: number;
  /** true: Purpose 1 was not disclosed by this CMP (its consent bit says nothing). */
  purposeOneTreatment?: boolean;
  purpose?: { consents?: IdFlags; legitimateInterests?: IdFlags };
  vendor?: { consents?: IdFlags; legitimateInterests?: IdFlags };
  publisher?: {
    consents?: IdFlags;
    legitimateInterests?: IdFlags;
    /** Per purpose, per vendor: 0 not allowed, 1 require consent, 2 require legitimate interest. */
    restrictions?: Readonly<Record<number, Readonly<Record<number, 0 | 1 | 2 | undefined>> | undefined>>;
  };
}

/** `window.__tcfapi`: `(command, version, callback, parameter)`. */
export type TcfApi = (command: string, version: number, callback: (data: unknown, success: boolean) => void, parameter?: unknown) => void;

/** One GPP section as the API represents it: an array of sub-section objects (older CMPs: one object). */
export type GppSection = Readonly<Record<string, unknown>> | readonly Readonly<Record<string, unknown>>[];

/** GPP 1.1 PingReturn (also `pingData` of every event). */
export interface GppPing {
  gppVersion?: string;
  cmpStatus?: 'stub' | 'loading' | 'loaded' | 'error';
  signalStatus?: 'ready' | 'not ready';
  /** "id:prefix" entries, e.g. "2:tcfeuv2", "7:usnat". */
  supportedAPIs?: readonly string[];
  /** Section ids in force for this viewer; [-1] when none is. */
  applicableSections?: readonly number[];
  gppString?: string;
  /** Per API prefix, the parsed section (GPP 1.1). */
  parsedSections?: Readonly<Record<string, GppSection | undefined>>;
}

/** GPP 1.1 EventListener: what `__gpp('addEventListener', cb)` hands to `cb`, first at once and then per event. */
export interface GppEvent {
  eventName?: string;
  listenerId?: number;
  data?: unknown;
  pingData?: GppPing;
}

/** `window.__gpp`: `(command, callback, parameter, version)`. */
export type GppApi = (command: string, callback: (data: unknown, success: boolean) => void, parameter?: unknown, version?: string) => void;

/** Where the connector looks for the CMP: `window` in a page. */
export interface CmpHost {
  __tcfapi?: TcfApi;
  __gpp?: GppApi;
}
