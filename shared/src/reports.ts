import { isPeriod, type Period } from './period.ts';
import { isIntIn, isObject, unknownKeys, type Checked } from './validate.ts';

/**
 * One randomized report of a device's week. `value` is already randomized (GRR); `id` is
 * a random idempotency id, not a device id. Without `kind` (or with `kind: 'segment'`)
 * `value` is a segment of model `model_version`; with `kind: 'lifecycle'` it is a stage
 * index in LIFECYCLE_STAGES (lifecycle.ts), randomized with the model's lifecycle ε.
 */
export interface SegmentReport {
  id: string;
  model_version: number;
  period: Period;
  value: number;
  kind?: ReportKind;
}

/** What a report's `value` counts: a segment (the default) or a lifecycle stage. */
export type ReportKind = 'segment' | 'lifecycle';

/** Body of `POST /v1/reports`. */
export interface ReportBatch {
  reports: SegmentReport[];
}

/** The exact field names a report may carry; the network audit checks against these. */
export const REPORT_FIELDS = ['id', 'model_version', 'period', 'value', 'kind'] as const;
export const MAX_REPORTS_PER_BATCH = 100;
const ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * Checks an untrusted `POST /v1/reports` body. Values are checked against the model's k
 * (segments) or the four lifecycle stages by the caller, which knows the model.
 *
 * @example
 * const r = parseReportBatch(await request.json());
 */
export function parseReportBatch(v: unknown): Checked<ReportBatch> {
  if (!isObject(v)) return { ok: false, errors: ['body: must be a JSON object'] };
  const errors = unknownKeys(v, ['reports']).map((k) => `${k}: unknown field`);
  const reports = v.reports;
  if (!Array.isArray(reports) || reports.length === 0 || reports.length > MAX_REPORTS_PER_BATCH) {
    errors.push(`reports: must be an array of 1 to ${MAX_REPORTS_PER_BATCH} reports`);
    return { ok: false, errors };
  }
  const ids = new Set<string>();
  reports.forEach((r, i) => {
    const at = `reports[${i}]`;
    if (!isObject(r)) {
      errors.push(`${at}: must be an object`);
      return;
    }
    errors.push(...unknownKeys(r, REPORT_FIELDS).map((k) => `${at}.${k}: unknown field`));
    if (typeof r.id !== 'string' || !ID_PATTERN.test(r.id)) errors.push(`${at}.id: must be 16–64 characters of [A-Za-z0-9_-]`);
    else if (ids.has(r.id)) errors.push(`${at}.id: duplicated in this batch`);
    else ids.add(r.id);
    if (!isIntIn(r.model_version, 1, Number.MAX_SAFE_INTEGER)) errors.push(`${at}.model_version: must be a positive integer`);
    if (!isPeriod(r.period)) errors.push(`${at}.period: must be an ISO week such as 2026-W48`);
    if (!isIntIn(r.value, 0, 1023)) errors.push(`${at}.value: must be a segment or lifecycle stage index`);
    if (r.kind !== undefined && r.kind !== 'segment' && r.kind !== 'lifecycle') errors.push(`${at}.kind: must be 'segment' or 'lifecycle' when present`);
  });
  return errors.length ? { ok: false, errors } : { ok: true, value: v as unknown as ReportBatch };
}

/** What the server did with one item of a batch (`POST /v1/reports`, `POST /v1/impressions`). */
export type ItemStatus = 'accepted' | 'duplicate' | 'refused';

/** Why an item can never be stored (the stable problem type, short form): resending it is pointless. */
export type ItemRefusalType = 'unknown-model' | 'unknown-segment' | 'stale-period';

/**
 * One item's answer, in the batch's order. `type` and `detail` say why a `refused`
 * item was refused; an accepted or duplicate item is stored (now or before).
 */
export interface ItemResult {
  id: string;
  status: ItemStatus;
  type?: ItemRefusalType;
  detail?: string;
}

/**
 * The answer to a well-formed batch: a `202` body, and the extension members of its `409`
 * (every item a duplicate) and `422` (nothing accepted, some refused) problem bodies.
 */
export interface BatchAnswer {
  accepted: number;
  duplicates: number;
  refused: number;
  results: ItemResult[];
}

const ITEM_STATUSES: readonly string[] = ['accepted', 'duplicate', 'refused'];

/**
 * The per-item `results` of an answer body, or null when it carries none that are well
 * formed (an older server, a proxy's page): the caller then knows nothing per item.
 *
 * @example
 * const results = itemResultsOf(await res.json()); // [{ id, status: 'accepted' }, …] or null
 */
export function itemResultsOf(body: unknown): ItemResult[] | null {
  const results = isObject(body) ? body.results : undefined;
  if (!Array.isArray(results)) return null;
  const wellFormed = results.every((r) => isObject(r) && typeof r.id === 'string' && typeof r.status === 'string' && ITEM_STATUSES.includes(r.status));
  return wellFormed ? (results as ItemResult[]) : null;
}
