/**
 * Reading a secure counts round's release on the leader: the summary its close stored
 * (noise drawn once), for the marketer routes that answer from it.
 */
import type { TallySummary } from '@edgeseg/aggregator';
import { coordinator } from './coordinator.ts';
import type { Env } from './env.ts';

/** What the coordinator answers for a counts round: its released summary, why it was abandoned, or null (open, closing or unknown). */
type CountsRelease = { summary: TallySummary } | { abandoned: string } | null;

/**
 * The released summary of the secure counts round `roundId`, or null while it is open,
 * closing, missing or abandoned.
 *
 * @example
 * const summary = await countsSummary(env, countsRoundId('2026-W48', 3, 'lifecycle'));
 */
export async function countsSummary(env: Env, roundId: string): Promise<TallySummary | null> {
  const release = (await coordinator(env).countsRelease(roundId)) as CountsRelease;
  return release && 'summary' in release ? release.summary : null;
}
