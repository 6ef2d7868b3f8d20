/**
 * Memoised randomized response (RAPPOR's "permanent randomized response"): each weekly
 * GRR report (segment, lifecycle, impression) answers with the one draw this device
 * made for that true value under that mechanism, not a fresh draw every week.
 *
 * Why: a server that links one device's weekly reports (by IP, say) could otherwise
 * average the noise away: ten fresh ε = 2 reports of one segment out of eight reveal it
 * nine times in ten. With the memo, however many weeks it links, it sees one draw per
 * true value, so what linked reports reveal stays what one report reveals (ε per
 * distinct true value, and a new model version or ε). So the ledger charges ε only when
 * a new answer is drawn (release.ts); re-sending a memoised answer is a post-processing
 * of a draw already charged and is logged at 0 ε. Erasing the data forgets the memo, so
 * the next report draws, and is charged, anew.
 *
 * The memo lives in the `kv` store (`grrMemo`); `queueOnce` (release.ts) recalls a
 * release's answer in the transaction that queues it, and only then, so a week already
 * reported costs no draw and no write, and two tabs keep one answer (browsers serialise
 * readwrite transactions).
 */
import { cryptoRandom, grrEncode, type RandomSource } from '@edgeseg/shared';
import type { GrrMemo } from '../store.ts';

/** One GRR mechanism and the true value it randomizes: what a memoised answer is kept for. */
export interface GrrMemoKey {
  kind: 'report' | 'lifecycle' | 'impression';
  modelVersion: number;
  /** Domain size: the reported value is in [0, k). */
  k: number;
  epsilon: number;
  truth: number;
}

/**
 * The memo's id for `key`: one answer per kind, model version, k, ε and true value.
 *
 * @example
 * grrMemoId({ kind: 'report', modelVersion: 3, k: 8, epsilon: 0.2, truth: 5 }) // 'report/3/8/0.2/5'
 */
export function grrMemoId(key: GrrMemoKey): string {
  const { kind, modelVersion, k, epsilon, truth } = key;
  return [kind, modelVersion, k, epsilon, truth].join('/');
}

/**
 * The memoised answer for `key` in `memo`, drawn with GRR (and recorded in `memo`) the
 * first time; the same answer every later time.
 *
 * @example
 * const memo: GrrMemo = {};
 * recallGrr(memo, { kind: 'report', modelVersion: 3, k: 8, epsilon: 2, truth: 5 }) === recallGrr(memo, { kind: 'report', modelVersion: 3, k: 8, epsilon: 2, truth: 5 }) // true
 */
export function recallGrr(memo: GrrMemo, key: GrrMemoKey, random: RandomSource = cryptoRandom): number {
  const id = grrMemoId(key);
  const kept = memo[id];
  return kept === undefined ? (memo[id] = grrEncode(key.truth, key.k, key.epsilon, random)) : kept;
}
