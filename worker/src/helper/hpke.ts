/** The helper's own HPKE keys: published from its own rounds, never from the leader's. */
import type { HpkeConfig } from '@edgeseg/shared';
import { publishedHpkeConfigs } from '../hpke-key.ts';
import { helperCoordinator, type HelperEnv } from './env.ts';

/**
 * The HPKE configs the helper publishes: its current key first, then each retired key
 * one of its open rounds still names.
 *
 * @example
 * const [current, ...retired] = await helperPublishedConfigs(c.env);
 */
export function helperPublishedConfigs(env: HelperEnv): Promise<HpkeConfig[]> {
  return publishedHpkeConfigs(env, () => helperCoordinator(env).keyUses());
}
