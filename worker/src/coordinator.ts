/** The leader's RoundCoordinator Durable Object: one per aggregator, named 'global'. */
import type { Env } from './env.ts';

/**
 * The coordinator DO stub of this aggregator, for every module that reads or changes rounds.
 *
 * @example
 * const rounds = await coordinator(env).list();
 */
export function coordinator(env: Pick<Env, 'ROUND_COORDINATOR'>) {
  return env.ROUND_COORDINATOR.get(env.ROUND_COORDINATOR.idFromName('global'));
}
