// @ts-check
/**
 * The two public privacy ledgers side by side: the leader's (GET /v1/privacy-ledger on
 * the leader, JSON) and the helper's (the payload of its signed JWS, verified before it
 * gets here). Each is read defensively, the releases are matched by round, and every
 * difference is named, because the promise "private if either aggregator is honest"
 * only helps a reader who can see when the two disagree. Pure: no DOM, no fetch (so the
 * unit tests run it in Node).
 */

/**
 * One release as either ledger states it. Fields a ledger does not state are null.
 *
 * @typedef {{ round_id: string, kind: string, measure: string | null, mode: string | null, epsilon: number, delta: number, sigma2: string | null, buckets: Record<string, number> | null, contributions: number | null, released_at: number | null }} LedgerRelease
 */
/**
 * What can differ between the ledgers, per round: a release on one side only (a local
 * round on the leader is not one: it never involves the helper), a round listed twice on
 * one side, a round the leader calls local that the helper released, and differing
 * privacy parameters or bucket sizes.
 *
 * @typedef {'leader-only' | 'helper-only' | 'repeated' | 'mode' | 'epsilon' | 'delta' | 'sigma2' | 'buckets'} LedgerFlag
 */
/** @typedef {{ round_id: string, leader: LedgerRelease | null, helper: LedgerRelease | null, flags: LedgerFlag[] }} LedgerRow */

/** What each flag means, in words the dashboard shows. */
export const FLAG_TEXT = /** @type {const} */ ({
  'leader-only': 'released by the leader only: the helper lists no such release',
  'helper-only': 'released by the helper only: missing from the leader’s ledger',
  repeated: 'listed more than once in one ledger',
  mode: 'the leader lists it as a local round, yet the helper released it',
  epsilon: 'ε differs',
  delta: 'δ differs',
  sigma2: 'σ² differs',
  buckets: 'bucket sizes differ',
});

const isObject = (/** @type {unknown} */ v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (/** @type {unknown} */ v) => typeof v === 'number' && Number.isFinite(v);
const RATIONAL = /^(\d+)(?:\/(\d+))?$/;

/**
 * The releases of a ledger, checked field by field; throws naming the first field that is
 * not what a ledger holds (a ledger that cannot be read must not be shown as agreeing).
 *
 * @example
 * readReleases(await apiJson('/v1/privacy-ledger'), 'the leader’s ledger')
 * @param {unknown} ledger a ledger object: `{ releases: [...] }`
 * @param {string} name how to name it in an error
 * @returns {LedgerRelease[]}
 */
export function readReleases(ledger, name) {
  if (!isObject(ledger) || !Array.isArray(/** @type {{ releases?: unknown }} */ (ledger).releases)) throw new Error(`${name}: releases must be an array`);
  return /** @type {unknown[]} */ (/** @type {{ releases: unknown[] }} */ (ledger).releases).map((item, i) => {
    const at = `${name}: releases[${i}]`;
    if (!isObject(item)) throw new Error(`${at} must be an object`);
    const r = /** @type {Record<string, unknown>} */ (item);
    if (typeof r.round_id !== 'string' || r.round_id === '') throw new Error(`${at}.round_id must be a non-empty string`);
    if (typeof r.kind !== 'string') throw new Error(`${at}.kind must be a string`);
    if (!isFiniteNumber(r.epsilon) || !isFiniteNumber(r.delta)) throw new Error(`${at}: epsilon and delta must be numbers`);
    // A field a ledger does not state may be missing or null.
    const stated = (/** @type {string} */ key) => r[key] !== undefined && r[key] !== null;
    if (stated('mode') && typeof r.mode !== 'string') throw new Error(`${at}.mode must be a string`);
    if (stated('sigma2') && (typeof r.sigma2 !== 'string' || !RATIONAL.test(r.sigma2))) throw new Error(`${at}.sigma2 must be "num/den"`);
    if (stated('buckets') && (!isObject(r.buckets) || !Object.values(/** @type {object} */ (r.buckets)).every((n) => Number.isInteger(n) && /** @type {number} */ (n) >= 0))) throw new Error(`${at}.buckets must map bucket keys to counts`);
    for (const key of ['contributions', 'released_at']) if (stated(key) && !isFiniteNumber(r[key])) throw new Error(`${at}.${key} must be a number or null`);
    return {
      round_id: r.round_id,
      kind: r.kind,
      measure: typeof r.measure === 'string' ? r.measure : null,
      mode: /** @type {string | undefined} */ (r.mode) ?? null,
      epsilon: /** @type {number} */ (r.epsilon),
      delta: /** @type {number} */ (r.delta),
      sigma2: /** @type {string | undefined} */ (r.sigma2) ?? null,
      buckets: stated('buckets') ? { .../** @type {Record<string, number>} */ (r.buckets) } : null,
      contributions: /** @type {number | null | undefined} */ (r.contributions) ?? null,
      released_at: /** @type {number | null | undefined} */ (r.released_at) ?? null,
    };
  });
}

/**
 * True when two "num/den" rationals are the same number (compared exactly, so "2/4"
 * equals "1/2" and no rounding hides a difference); false when either is missing or
 * not a rational with a positive denominator.
 *
 * @example
 * sameRational('9/2', '18/4') // true
 * @param {string | null} a
 * @param {string | null} b
 */
export function sameRational(a, b) {
  const [x, y] = [RATIONAL.exec(a ?? ''), RATIONAL.exec(b ?? '')];
  if (!x || !y) return false;
  const [xn, xd, yn, yd] = [x[1], x[2] ?? '1', y[1], y[2] ?? '1'].map((s) => BigInt(/** @type {string} */ (s)));
  if (xd === 0n || yd === 0n) return false;
  return /** @type {bigint} */ (xn) * /** @type {bigint} */ (yd) === /** @type {bigint} */ (yn) * /** @type {bigint} */ (xd);
}

/**
 * True when both ledgers state the same buckets with the same sizes.
 *
 * @param {Record<string, number> | null} a
 * @param {Record<string, number> | null} b
 */
function sameBuckets(a, b) {
  if (!a || !b) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/**
 * True for a helper entry whose every bucket was withheld (under the minimum batch): it
 * released nothing, so the leader has nothing to list for it either.
 *
 * @param {LedgerRelease} r
 */
const releasedNothing = (r) => r.buckets !== null && Object.keys(r.buckets).length === 0;

/**
 * The flags of one round present in both ledgers.
 *
 * @param {LedgerRelease} leader
 * @param {LedgerRelease} helper
 * @returns {LedgerFlag[]}
 */
function differences(leader, helper) {
  /** @type {LedgerFlag[]} */
  const flags = [];
  if (leader.mode === 'local') flags.push('mode');
  if (leader.epsilon !== helper.epsilon) flags.push('epsilon');
  if (leader.delta !== helper.delta) flags.push('delta');
  if (!sameRational(leader.sigma2, helper.sigma2)) flags.push('sigma2');
  if (!sameBuckets(leader.buckets, helper.buckets)) flags.push('buckets');
  return flags;
}

/**
 * Both ledgers matched by round, newest release first, each row with its flags (empty
 * when the two agree). A leader's local-mode round appears with no helper side and no
 * flag, and so does a helper entry that released no bucket; any other release on one
 * side only is flagged.
 *
 * @example
 * const rows = compareLedgers(readReleases(leaderLedger, 'leader'), readReleases(helperPayload, 'helper'));
 * const agree = rows.every((r) => r.flags.length === 0);
 * @param {LedgerRelease[]} leader
 * @param {LedgerRelease[]} helper
 * @returns {LedgerRow[]}
 */
export function compareLedgers(leader, helper) {
  /** @type {Map<string, { leader: LedgerRelease[], helper: LedgerRelease[] }>} */
  const byRound = new Map();
  const sideOf = (/** @type {string} */ id) => byRound.get(id) ?? byRound.set(id, { leader: [], helper: [] }).get(id);
  for (const r of leader) sideOf(r.round_id)?.leader.push(r);
  for (const r of helper) sideOf(r.round_id)?.helper.push(r);
  /** @type {LedgerRow[]} */
  const rows = [];
  for (const [round_id, sides] of byRound) {
    const [l = null, h = null] = [sides.leader[0], sides.helper[0]];
    /** @type {LedgerFlag[]} */
    const flags = [];
    if (sides.leader.length > 1 || sides.helper.length > 1) flags.push('repeated');
    if (l && h) flags.push(...differences(l, h));
    else if (l && l.mode !== 'local') flags.push('leader-only');
    else if (h && !releasedNothing(h)) flags.push('helper-only');
    rows.push({ round_id, leader: l, helper: h, flags });
  }
  const newest = (/** @type {LedgerRow} */ r) => Math.max(r.leader?.released_at ?? 0, r.helper?.released_at ?? 0);
  return rows.sort((a, b) => newest(b) - newest(a) || a.round_id.localeCompare(b.round_id));
}
