/**
 * Per-item answers of the batch routes (`POST /v1/reports`, `POST /v1/impressions`). A
 * well-formed batch is checked item by item: its valid items are stored, and one stale or
 * unknown item no longer costs a device the rest of its batch (a device back after the
 * grace day still delivers this week's report). The answer lists every item, in the
 * batch's order, so the device keeps and retries only what can still succeed.
 */
import type { BatchAnswer, ItemRefusalType, ItemResult } from '@edgeseg/shared';
import { ProblemWithMembers } from './problem.ts';

/** Why one item can never be stored: its stable problem type and a sentence naming the field. */
export interface ItemRefusal {
  type: ItemRefusalType;
  detail: string;
}

/**
 * Each item's first answer: refused with its reason, or accepted until its tally says
 * the id was already stored.
 *
 * @example
 * const results = initialResults(reports, refusals); // [{ id, status: 'accepted' }, { id, status: 'refused', type: 'stale-period', detail }]
 */
export function initialResults(items: readonly { id: string }[], refusals: readonly (ItemRefusal | null)[]): ItemResult[] {
  return items.map(({ id }, i) => {
    const refusal = refusals[i];
    return refusal ? { id, status: 'refused', type: refusal.type, detail: refusal.detail } : { id, status: 'accepted' };
  });
}

/**
 * Marks the items whose ids a tally already held as duplicates.
 *
 * @example
 * markReplayed(results, (await tally.addReports(group)).replayedIds);
 */
export function markReplayed(results: ItemResult[], replayedIds: readonly string[]): void {
  if (replayedIds.length === 0) return;
  const replayed = new Set(replayedIds);
  for (const r of results) if (r.status === 'accepted' && replayed.has(r.id)) r.status = 'duplicate';
}

/**
 * The `202` body for a batch with at least one item stored now. Throws a `422` problem
 * (the type of the first refusal) when nothing was accepted and some items were refused,
 * and `409 replayed` when every item was a duplicate; both carry the per-item answer.
 *
 * @example
 * return c.json(batchAnswer(results), 202);
 */
export function batchAnswer(results: ItemResult[]): BatchAnswer {
  let accepted = 0;
  let duplicates = 0;
  const errors: string[] = [];
  let firstRefusal: ItemResult | undefined;
  results.forEach((r, i) => {
    if (r.status === 'accepted') accepted++;
    else if (r.status === 'duplicate') duplicates++;
    else {
      firstRefusal ??= r;
      errors.push(`reports[${i}].${r.detail ?? r.type}`);
    }
  });
  const answer: BatchAnswer = { accepted, duplicates, refused: errors.length, results };
  if (accepted > 0) return answer;
  if (firstRefusal) throw new ProblemWithMembers(firstRefusal.type ?? 'invalid-body', errors[0], errors, { ...answer });
  throw new ProblemWithMembers('replayed', `all ${duplicates} report ids were already accepted`, undefined, { ...answer });
}
