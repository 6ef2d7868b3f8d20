/**
 * When the leader's coordinator acts on its rounds, as pure functions so the schedule is
 * tested without workerd: which rounds are due, what follows a failed close attempt (a
 * retry with backoff, or abandonment with a stated reason) and when the single alarm
 * must fire next. Each round keeps its own due time and attempt count, so one failing
 * round never moves another's.
 */
import { RetryCloseLater } from './close.ts';
import type { RoundState } from './record.ts';

/** A close that keeps failing after this many retries past the close time is abandoned with the last reason. */
export const MAX_CLOSE_ATTEMPTS = 20;
/** Backoff doubles from 2 s up to this many seconds between attempts. */
export const MAX_RETRY_DELAY_S = 60;
/**
 * Seconds after the helper's `notBefore` during which its "too early" is the helper's
 * clock catching up (small skew), not a failed attempt.
 */
export const CLOCK_SKEW_GRACE_S = 5;

/** What the schedule needs of a stored round: its state and when the alarm next acts on it (epoch seconds). */
export interface ScheduledRound {
  round_id: string;
  state: RoundState;
  due_at: number;
}

/** Why a close attempt did not finish: the helper's or the coordinator's rule, a message, and the earliest useful retry. */
export interface CloseFailure {
  /** `batch-mismatch`, `too-early`, `reports-pending`, `helper-unreachable`, `invalid-answer`, or `unexpected-error`. */
  rule: string;
  message: string;
  /** Epoch seconds before which a retry is pointless, or null. */
  notBefore: number | null;
}

/** What the coordinator does after a failed attempt: try again at `dueAtS`, or give the round up. */
export type AfterFailedClose =
  | { action: 'retry'; attempts: number; dueAtS: number; reason: string }
  | { action: 'abandon'; attempts: number; reason: string };

/**
 * Seconds to wait before the next close attempt: doubling from 2 s, at most a minute.
 *
 * @example
 * retryDelayS(3) // 16
 */
export function retryDelayS(attempt: number): number {
  return Math.min(MAX_RETRY_DELAY_S, 2 ** Math.max(1, attempt));
}

const closable = (r: ScheduledRound): boolean => r.state === 'open' || r.state === 'closing';

/**
 * The rounds the alarm must try to close now: open or closing, due at or before `nowS`,
 * earliest first. Released and abandoned rounds are never due.
 *
 * @example
 * dueRoundIds([{ round_id: 'a', state: 'closing', due_at: 90 }, { round_id: 'b', state: 'open', due_at: 200 }], 100) // ['a']
 */
export function dueRoundIds(rounds: readonly ScheduledRound[], nowS: number): string[] {
  return rounds
    .filter((r) => closable(r) && r.due_at <= nowS)
    .sort((a, b) => a.due_at - b.due_at)
    .map((r) => r.round_id);
}

/**
 * When the alarm must next fire (epoch ms): the earliest due time of any open or closing
 * round, or null when no round waits. A time in the past means "at once".
 *
 * @example
 * nextAlarmMs([{ round_id: 'a', state: 'closing', due_at: 130 }, { round_id: 'b', state: 'released', due_at: 10 }]) // 130_000
 */
export function nextAlarmMs(rounds: readonly ScheduledRound[]): number | null {
  const times = rounds.filter(closable).map((r) => r.due_at);
  return times.length === 0 ? null : Math.min(...times) * 1000;
}

/**
 * Any error of a close attempt as a failure to retry: a RetryCloseLater keeps its rule and
 * `notBefore`; anything else (a Durable Object call that threw, a publish that failed) is
 * `unexpected-error` with its message, so it too is retried with backoff and shown as the
 * round's reason instead of escaping the alarm.
 *
 * @example
 * closeFailureOf(new Error('registry unavailable')) // { rule: 'unexpected-error', message: 'registry unavailable', notBefore: null }
 */
export function closeFailureOf(err: unknown): CloseFailure {
  if (err instanceof RetryCloseLater) return { rule: err.rule, message: err.message, notBefore: err.notBefore };
  return { rule: 'unexpected-error', message: err instanceof Error ? err.message : String(err), notBefore: null };
}

/**
 * The next step after a failed attempt. Waiting for the helper's clock to pass the close
 * time (within {@link CLOCK_SKEW_GRACE_S} of `notBefore`) is not a failure and counts no
 * attempt; any other failure counts one, and past {@link MAX_CLOSE_ATTEMPTS} the round is
 * abandoned with the last reason. A retry is due after the backoff and never before
 * `notBefore`.
 *
 * @example
 * afterFailedClose(2, { rule: 'helper-unreachable', message: 'connection refused', notBefore: null }, 1000)
 * // { action: 'retry', attempts: 3, dueAtS: 1008, reason: 'retrying (helper-unreachable): connection refused' }
 */
export function afterFailedClose(previousAttempts: number, failure: CloseFailure, nowS: number): AfterFailedClose {
  const waiting = failure.notBefore !== null && nowS < failure.notBefore + CLOCK_SKEW_GRACE_S;
  const attempts = previousAttempts + (waiting ? 0 : 1);
  if (attempts > MAX_CLOSE_ATTEMPTS) return { action: 'abandon', attempts, reason: `gave up after ${MAX_CLOSE_ATTEMPTS} attempts: ${failure.message}` };
  const dueAtS = Math.max(nowS + retryDelayS(attempts), (failure.notBefore ?? 0) + 1);
  return { action: 'retry', attempts, dueAtS, reason: `retrying (${failure.rule}): ${failure.message}` };
}

/**
 * Runs one close attempt per due round, all at once, and hands each attempt's error to
 * `failed` as that round's {@link CloseFailure}: a round that throws or waits on a slow
 * helper never holds back another round's attempt. Never rejects; an error of `failed`
 * itself is logged (the round then stays due and the next alarm tries it again).
 *
 * @example
 * await attemptEach(dueRoundIds(rounds, nowS), (id) => close(id), (id, failure) => retryLater(id, failure));
 */
export async function attemptEach(
  roundIds: readonly string[],
  attempt: (roundId: string) => Promise<void>,
  failed: (roundId: string, failure: CloseFailure) => Promise<void> | void,
): Promise<void> {
  await Promise.all(
    roundIds.map(async (roundId) => {
      try {
        await attempt(roundId);
      } catch (err) {
        try {
          await failed(roundId, closeFailureOf(err));
        } catch (again) {
          console.error(`round ${roundId}: recording a failed close attempt failed too`, again);
        }
      }
    }),
  );
}
