/**
 * The round records `POST /v1/contributions` reads, kept per isolate for a moment: every
 * report of a round names the same round, and reading its record from the coordinator
 * is a Durable Object call per report. Keeping the same record object also lets the
 * ingest hash its descriptor once (aggregator's `ingestSecureReport` keeps the digest per
 * record object).
 *
 * Why a kept record cannot let a report in that the round will not count: a round's
 * descriptor and verify key never change once it is open, and the close time is checked
 * from the descriptor on every report. Only the state can change (an operator's early
 * close, a release, an abandonment), and every such close first seals each of the round's
 * shards, which then refuse new reports themselves (`RoundSealedError`, 409
 * `round-not-open`). The kept state only decides how early a report is refused.
 */

/** How long a record is reused before it is read again. */
export const ROUND_RECORD_TTL_MS = 1000;
/** Rounds kept at once (a few are open at a time: this week's counts rounds, a training round). */
export const ROUND_RECORDS_KEPT = 8;

/** A lookup that reuses what it read for a moment; `forget` drops one round (for example once its shard refused a report). */
export interface RoundRecordCache<T> {
  get(roundId: string): Promise<T | null>;
  forget(roundId: string): void;
}

/**
 * Wraps `read` (the coordinator's record of a round, or null): a found record is reused
 * for `ttlMs`, concurrent lookups of one round share one read, and a missing round is
 * never kept (it may be opened a moment later).
 *
 * @example
 * const rounds = roundRecordCache((id) => coordinator(env).get(id));
 * const record = await rounds.get(body.round_id);
 */
export function roundRecordCache<T>(read: (roundId: string) => Promise<T | null>, opts: { ttlMs?: number; max?: number; now?: () => number } = {}): RoundRecordCache<T> {
  const ttlMs = opts.ttlMs ?? ROUND_RECORD_TTL_MS;
  const max = opts.max ?? ROUND_RECORDS_KEPT;
  const now = opts.now ?? Date.now;
  const kept = new Map<string, { at: number; record: Promise<T | null> }>();
  return {
    get(roundId) {
      const at = now();
      const hit = kept.get(roundId);
      if (hit && at - hit.at < ttlMs) return hit.record;
      const record = read(roundId);
      kept.delete(roundId);
      kept.set(roundId, { at, record });
      if (kept.size > max) kept.delete(kept.keys().next().value as string);
      // Only a found record is reused: a failed or empty read is dropped once it settles.
      const drop = () => {
        if (kept.get(roundId)?.record === record) kept.delete(roundId);
      };
      record.then((r) => {
        if (r === null) drop();
      }, drop);
      return record;
    },
    forget(roundId) {
      kept.delete(roundId);
    },
  };
}
