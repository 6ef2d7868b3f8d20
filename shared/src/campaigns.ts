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
const CAMPAIGN_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const MAX_EPOCH_S = 1e11;

const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;

/**
 * Problems with one untrusted campaign for a model with `k` segments (empty when valid).
 * `at` prefixes each message.
 *
 * @example
 * campaignErrors({ id: 'x', segment: 9, kind: 'message', title: 'Hi' }, 4, 'campaigns[0]')
 * // ['campaigns[0].segment: must be an integer in [0, 4)']
 */
export function campaignErrors(v: unknown, k: number, at = 'campaign'): string[] {
  if (!isObject(v)) return [`${at}: must be an object`];
  const e = unknownKeys(v, CAMPAIGN_FIELDS).map((f) => `${at}.${f}: unknown field`);
  if (typeof v.id !== 'string' || !CAMPAIGN_ID.test(v.id)) e.push(`${at}.id: must match [a-z0-9][a-z0-9-]{0,39}`);
  if (!isIntIn(v.segment, 0, k - 1)) e.push(`${at}.segment: must be an integer in [0, ${k})`);
  if (v.kind !== 'message' && v.kind !== 'content_row') e.push(`${at}.kind: must be 'message' or 'content_row'`);
  if (!isText(v.title, 80)) e.push(`${at}.title: must be 1–80 characters`);
  const isRow = v.kind === 'content_row';
  if (v.body !== undefined && (isRow || !isText(v.body, 280))) e.push(`${at}.body: only a message has a body, of 1–280 characters`);
  if ((v.items !== undefined || isRow) && !(isRow && Array.isArray(v.items) && v.items.length >= 1 && v.items.length <= 20 && v.items.every((i) => isText(i, 64)))) {
    e.push(`${at}.items: a content_row needs 1–20 item ids of 1–64 characters; a message has none`);
  }
  for (const f of ['starts_at', 'ends_at'] as const) if (v[f] !== undefined && !isIntIn(v[f], 0, MAX_EPOCH_S)) e.push(`${at}.${f}: must be epoch seconds`);
  if (typeof v.starts_at === 'number' && typeof v.ends_at === 'number' && v.ends_at <= v.starts_at) e.push(`${at}.ends_at: must be after starts_at`);
  return e;
}

/**
 * Problems with an untrusted campaign list (≤ MAX_CAMPAIGNS, ids unique) for `k` segments.
 *
 * @example
 * campaignListErrors(manifest.campaigns, manifest.k) // []
 */
export function campaignListErrors(v: unknown, k: number): string[] {
  if (!Array.isArray(v) || v.length > MAX_CAMPAIGNS) return [`campaigns: must be an array of at most ${MAX_CAMPAIGNS}`];
  const e = v.flatMap((c, i) => campaignErrors(c, k, `campaigns[${i}]`));
  const ids = v.map((c: unknown) => (isObject(c) ? c.id : undefined));
  if (new Set(ids).size !== ids.length) e.push('campaigns: ids must be unique');
  return e;
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
