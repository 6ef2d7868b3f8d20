/**
 * Campaigns: marketer rules "segment → in-app message / content row" that travel inside
 * the signed model, so each device decides on its own whether one applies. The server
 * never learns which device matched; impressions come back only as randomized reports
 * (see impressions.ts).
 */
import { isIntIn, isObject, unknownKeys, type Checked } from './validate.ts';

/** One activation rule, as carried in `ModelManifest.campaigns` and `POST /v1/campaigns`. */
export interface Campaign {
  /** Stable id chosen by the marketer: `[a-z0-9][a-z0-9-]{0,39}`. */
  id: string;
  /** The segment (index into the model's centroids, `< k`) this campaign targets. */
  segment: number;
  /** `message`: an in-app message (title + optional body). `content_row`: a titled row of catalogue items. */
  kind: 'message' | 'content_row';
  /** 1–80 characters, shown as is (render as text, never as HTML). */
  title: string;
  /** `message` only: up to 280 characters. */
  body?: string;
  /** `content_row` only, and required there: 1–20 catalogue item ids of 1–64 characters. */
  items?: string[];
  /** Epoch seconds; before this the campaign is not shown. */
  starts_at?: number;
  /** Epoch seconds; from this on the campaign is not shown. */
  ends_at?: number;
}

/** At most this many campaigns ride in one model. */
export const MAX_CAMPAIGNS = 32;
export const CAMPAIGN_FIELDS = ['id', 'segment', 'kind', 'title', 'body', 'items', 'starts_at', 'ends_at'] as const;

const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const isEpoch = (v: unknown): boolean => v === undefined || isIntIn(v, 0, 1e11);

/**
 * Problems with one untrusted campaign for a model with `k` segments (empty when valid):
 * `${at}.${field}: invalid` for each field that breaks the rules documented on
 * `Campaign`. Terse on purpose: this ships in the core SDK bundle, which is at its budget.
 *
 * @example
 * campaignErrors({ id: 'x', segment: 9, kind: 'message', title: 'Hi' }, 4, 'campaigns[0]')
 * // ['campaigns[0].segment: invalid']
 */
export function campaignErrors(v: unknown, k: number, at = 'campaign'): string[] {
  if (!isObject(v)) return [at + ': not an object'];
  const row = v.kind === 'content_row';
  const items = v.items;
  const checks = {
    id: typeof v.id === 'string' && /^[a-z0-9][a-z0-9-]{0,39}$/.test(v.id),
    segment: isIntIn(v.segment, 0, k - 1),
    kind: row || v.kind === 'message',
    title: isText(v.title, 80),
    body: v.body === undefined || (!row && isText(v.body, 280)),
    items: row ? Array.isArray(items) && items.length > 0 && items.length <= 20 && items.every((i) => isText(i, 64)) : items === undefined,
    starts_at: isEpoch(v.starts_at),
    ends_at: isEpoch(v.ends_at) && !((v.ends_at as number) <= (v.starts_at as number)),
  };
  return unknownKeys(v, CAMPAIGN_FIELDS).concat(CAMPAIGN_FIELDS.filter((f) => !checks[f])).map((f) => `${at}.${f}: invalid`);
}

/**
 * Problems with an untrusted campaign list (≤ MAX_CAMPAIGNS, ids unique) for `k` segments.
 *
 * @example
 * campaignListErrors(manifest.campaigns, manifest.k) // []
 */
export function campaignListErrors(v: unknown, k: number): string[] {
  if (!Array.isArray(v) || v.length > MAX_CAMPAIGNS) return [`campaigns: at most ${MAX_CAMPAIGNS}`];
  // concat, not flatMap: the device's verification chunk runs this on Chromium 68 (no flatMap).
  const e = ([] as string[]).concat(...v.map((c, i) => campaignErrors(c, k, `campaigns[${i}]`)));
  const ids = v.map((c: unknown) => (isObject(c) ? c.id : 0));
  return new Set(ids).size < ids.length ? e.concat('campaigns: ids must be unique') : e;
}

/**
 * Checks an untrusted campaign (e.g. a `POST /v1/campaigns` body) against a model with `k` segments.
 *
 * @example
 * const r = parseCampaign(await request.json(), manifest.k);
 * if (!r.ok) return problem(422, r.errors);
 */
export function parseCampaign(v: unknown, k: number): Checked<Campaign> {
  const errors = campaignErrors(v, k);
  return errors.length ? { ok: false, errors } : { ok: true, value: v as Campaign };
}

/**
 * The campaigns a device in `segment` shows at `nowS` (epoch seconds), in model order.
 * Runs on the device only: the server never learns the result.
 *
 * @example
 * const mine = campaignsFor(manifest.campaigns ?? [], segment, Date.now() / 1000);
 */
export function campaignsFor(campaigns: readonly Campaign[], segment: number, nowS: number): Campaign[] {
  return campaigns.filter((c) => c.segment === segment && (c.starts_at === undefined || nowS >= c.starts_at) && (c.ends_at === undefined || nowS < c.ends_at));
}
