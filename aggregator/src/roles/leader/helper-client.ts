/**
 * The leader's side of the leader ↔ helper wire (issue #14, contract §3): opening a round
 * on the helper and asking it for its aggregate share. The helper is another operator's
 * server: every answer is read as untrusted input, and a refusal keeps the helper's
 * `rule` so callers decide by rule, never by matching its prose.
 */
import type { RoundDescriptor } from '@edgeseg/shared';
import { bytesToBase64url, roundDigest } from '@edgeseg/shared/secure';
import { RetryCloseLater, type BatchSelector, type HelperAggregate } from '../../round/close.ts';
import { base64ToFieldVector } from '../../round/wire.ts';

/** Where the helper is and how the leader authenticates to it. */
export interface HelperTarget {
  /** Base URL of the helper's origin, no trailing slash. */
  url: string;
  /** LEADER_TOKEN, presented as a bearer token. */
  token: string;
  /** Injected for tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

/** The helper's answer to opening a round. */
export type HelperOpening =
  | { ok: true; digest: string; sigma2: string }
  | {
      ok: false;
      /** HTTP status of the helper's answer; 0 when it could not be reached. */
      status: number;
      /** The problem type's slug (`round-refused`, `round-conflict`, …), or null. */
      problem: string | null;
      /** The policy rule the helper named (`min-batch`, `sigma2`, …), or null. */
      rule: string | null;
      detail: string;
    };

const PROBLEM_PREFIX = 'https://edgeseg.dev/problems/';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readJson(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/** Slug, rule and detail of a problem+json answer (whatever of them is there). */
function problemOf(body: unknown, status: number): { problem: string | null; rule: string | null; detail: string } {
  if (!isRecord(body)) return { problem: null, rule: null, detail: `the helper answered ${status}` };
  const type = typeof body.type === 'string' ? body.type : '';
  return {
    problem: type.startsWith(PROBLEM_PREFIX) ? type.slice(PROBLEM_PREFIX.length) : null,
    rule: typeof body.rule === 'string' ? body.rule : null,
    detail: typeof body.detail === 'string' ? body.detail : typeof body.title === 'string' ? body.title : `the helper answered ${status}`,
  };
}

const RATIONAL = /^[1-9][0-9]*\/[1-9][0-9]*$/;

/** POSTs `body` as JSON to the helper's `path` with the leader's token; the answer, or why the helper could not be reached. */
async function postToHelper(target: HelperTarget, path: string, body: unknown): Promise<Response | { unreachable: string }> {
  try {
    return await (target.fetch ?? fetch)(`${target.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
      body: JSON.stringify(body),
    });
  } catch (err) {
    return { unreachable: `the helper could not be reached: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Asks the helper to accept a round (`POST /internal/v1/rounds`). The helper checks the
 * descriptor against its own policy and its own σ², and keeps the round's Prio3 verify
 * key (base64url, 16 bytes: never shown to devices); on success the digest it answers
 * must be the digest of this exact descriptor (else the shares devices seal for it would
 * never open there), and that is checked here.
 *
 * @example
 * const opened = await openOnHelper({ url: env.HELPER_URL, token: env.LEADER_TOKEN }, descriptor, '9/2', record.verify_key);
 * if (!opened.ok) throw new Error(`the helper refused (${opened.rule}): ${opened.detail}`);
 */
export async function openOnHelper(target: HelperTarget, descriptor: RoundDescriptor, sigma2: string, verifyKey: string): Promise<HelperOpening> {
  const res = await postToHelper(target, '/internal/v1/rounds', { descriptor, sigma2, verify_key: verifyKey });
  if ('unreachable' in res) return { ok: false, status: 0, problem: null, rule: null, detail: res.unreachable };
  const body = await readJson(res);
  if (res.status !== 201) return { ok: false, status: res.status, ...problemOf(body, res.status) };
  const expected = bytesToBase64url(await roundDigest(descriptor));
  if (!isRecord(body) || body.round_id !== descriptor.round_id || typeof body.digest !== 'string' || typeof body.sigma2 !== 'string' || !RATIONAL.test(body.sigma2)) {
    return { ok: false, status: res.status, problem: null, rule: null, detail: 'the helper accepted the round but its answer lacks round_id, digest or sigma2' };
  }
  if (body.digest !== expected) {
    return { ok: false, status: res.status, problem: null, rule: 'digest', detail: `the helper accepted a round whose digest is ${body.digest}, not this descriptor's ${expected}` };
  }
  return { ok: true, digest: body.digest, sigma2: body.sigma2 };
}

/** Reads a record of `T` values, or null if any value is not one. */
function recordOf<T>(v: unknown, is: (x: unknown) => x is T): Record<string, T> | null {
  if (!isRecord(v)) return null;
  for (const x of Object.values(v)) if (!is(x)) return null;
  return v as Record<string, T>;
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/**
 * Asks the helper for its noisy aggregate share of a batch
 * (`POST /internal/v1/rounds/:id/aggregate`). A refusal comes back with the helper's
 * rule (`unknown-round` for a 404); a helper that cannot be reached, fails (5xx) or
 * answers something unreadable throws RetryCloseLater, so the close is tried again.
 *
 * @example
 * const answer = await requestHelperAggregate(target, 'r-1', selectorOf(buckets));
 * if (answer.ok) combine(answer.shares);
 */
export async function requestHelperAggregate(target: HelperTarget, roundId: string, selector: BatchSelector): Promise<HelperAggregate> {
  const res = await postToHelper(target, `/internal/v1/rounds/${encodeURIComponent(roundId)}/aggregate`, { selector });
  if ('unreachable' in res) throw new RetryCloseLater('helper-unreachable', res.unreachable);
  const body = await readJson(res);
  if (res.status >= 500) throw new RetryCloseLater('helper-unreachable', `the helper answered ${res.status}`);
  if (res.status === 404) return { ok: false, rule: 'unknown-round', reason: problemOf(body, 404).detail };
  if (res.status !== 200) {
    const p = problemOf(body, res.status);
    return { ok: false, rule: p.rule ?? p.problem ?? `http-${res.status}`, reason: p.detail };
  }
  const shares = isRecord(body) ? recordOf(body.shares, isString) : null;
  const counts = isRecord(body) ? recordOf(body.counts, isCount) : null;
  const withheld = isRecord(body) ? recordOf(body.withheld ?? {}, isString) : null;
  const sigma2 = isRecord(body) && typeof body.sigma2 === 'string' && RATIONAL.test(body.sigma2) ? body.sigma2 : null;
  if (!shares || !counts || !withheld || !sigma2) throw new RetryCloseLater('invalid-answer', 'the helper answered 200 without shares, counts, withheld and sigma2');
  let decoded: Record<string, bigint[]>;
  try {
    decoded = Object.fromEntries(Object.entries(shares).map(([k, v]) => [k, base64ToFieldVector(v)]));
  } catch {
    throw new RetryCloseLater('invalid-answer', 'the helper answered a share that is not a base64 Field128 vector');
  }
  return { ok: true, shares: decoded, counts, withheld, sigma2 };
}
