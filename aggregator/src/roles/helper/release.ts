/**
 * When the helper releases its noisy aggregate share, decided on its own state only:
 * after the round's close time, once per batch, for exactly the contributions it opened
 * itself, and only for buckets that reach the minimum batch (the others are withheld:
 * no noise drawn, no share sent).
 */
import type { RoundDescriptor } from '@edgeseg/shared';
import type { BatchSelector } from '../../round/close.ts';

/** Why the helper refuses an aggregate request (the `rule` member of a 409 `release-refused`). */
export type ReleaseRule = 'too-early' | 'batch-mismatch' | 'already-released';

/** The buckets the helper releases and those it withholds, with its own counts. */
export interface ReleasePlan {
  /** Bucket keys whose noisy share is sent. */
  released: string[];
  /** Bucket key → why it is withheld. */
  withheld: Record<string, string>;
  /** The helper's own count of contributions it opened, per released bucket. */
  counts: Record<string, number>;
  /** True when this selector was released before: answer the stored bytes, draw nothing. */
  replay: boolean;
}

/** A release decision: the plan, or the rule that refuses it. */
export type ReleaseDecision = ({ ok: true } & ReleasePlan) | { ok: false; rule: ReleaseRule; detail: string };

/** The round fields a release decision reads. */
export type ReleaseRound = Pick<RoundDescriptor, 'round_id' | 'closes_at' | 'min_batch'>;

/**
 * True when two selectors name the same buckets with the same counts and checksums.
 *
 * @example
 * sameSelector({ '0:0': { count: 1, checksum: 'ab' } }, { '0:0': { count: 1, checksum: 'ab' } }) // true
 */
export function sameSelector(a: BatchSelector, b: BatchSelector): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => {
    const x = a[k];
    const y = Object.hasOwn(b, k) ? b[k] : undefined;
    return x !== undefined && y !== undefined && x.count === y.count && x.checksum === y.checksum;
  });
}

/** The first bucket where the leader's selector and the helper's own buckets differ, said in words. */
function firstDifference(mine: BatchSelector, theirs: BatchSelector): string | null {
  for (const key of new Set([...Object.keys(mine), ...Object.keys(theirs)])) {
    const m = Object.hasOwn(mine, key) ? mine[key] : undefined;
    const t = Object.hasOwn(theirs, key) ? theirs[key] : undefined;
    if (!m || !t) return `bucket ${key}: the helper has ${m?.count ?? 0} contributions, the leader ${t?.count ?? 0}`;
    if (m.count !== t.count) return `bucket ${key}: the helper has ${m.count} contributions, the leader ${t.count}`;
    if (m.checksum !== t.checksum) return `bucket ${key}: ${m.count} contributions on both sides but different ids`;
  }
  return null;
}

/**
 * Decides an aggregate request: refused before the close time, for a selector that
 * differs from the helper's own buckets (retryable: a relay may be in flight), or for
 * another selector than one already released; otherwise each of the helper's buckets is
 * released when it holds at least `min_batch` contributions, withheld if not.
 *
 * @example
 * const d = decideRelease(round, helperSelector, body.selector, nowS, previouslyReleased);
 * if (!d.ok) refuse(d.rule, d.detail);
 */
export function decideRelease(round: ReleaseRound, helperBuckets: BatchSelector, selector: BatchSelector, nowS: number, previous: BatchSelector | null = null): ReleaseDecision {
  if (previous) {
    if (!sameSelector(previous, selector)) return { ok: false, rule: 'already-released', detail: `round ${round.round_id} was released once, for another batch; a second release is never made` };
  } else {
    if (nowS < round.closes_at) return { ok: false, rule: 'too-early', detail: `round ${round.round_id} closes at ${round.closes_at}, the helper's clock says ${nowS}` };
    const difference = firstDifference(helperBuckets, selector);
    if (difference) return { ok: false, rule: 'batch-mismatch', detail: difference };
  }
  const released: string[] = [];
  const withheld: Record<string, string> = {};
  const counts: Record<string, number> = {};
  // Decided on the batch agreed (the helper's own, equal to the selector by now).
  const batch = previous ?? helperBuckets;
  for (const key of Object.keys(batch).sort()) {
    const count = (batch[key] as { count: number }).count;
    if (count >= round.min_batch) {
      released.push(key);
      counts[key] = count;
    } else withheld[key] = `${count} contributions, under the minimum batch of ${round.min_batch}`;
  }
  return { ok: true, released, withheld, counts, replay: previous !== null };
}
