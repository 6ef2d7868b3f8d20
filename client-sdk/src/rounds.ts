/**
 * The core's side of federated rounds: fetch the open round and compare a few of its
 * fields, so that the contribution chunk (which validates the whole round, builds and
 * seals the contribution) is imported only when this device will really contribute.
 */
import type { RoundKind } from '@edgeseg/shared';
import { get, type Fetch } from './model.ts';

/** The fields of `GET /v1/rounds/current` the core compares; untrusted until the chunk validates the whole round. */
export interface RoundHead {
  round_id: string;
  kind: RoundKind;
  mode: 'secure' | 'local';
  epsilon: number;
  period?: string;
}

/**
 * Fetches the open round of `kind` (never cached), or null when none is open (404).
 *
 * @example
 * const head = await fetchRoundHead(fetch, 'https://edge.example', 'counts');
 */
export async function fetchRoundHead(fetchFn: Fetch, endpoint: string, kind: RoundKind): Promise<RoundHead | null> {
  const res = await get(fetchFn, endpoint, kind === 'counts' ? '/v1/rounds/current?kind=counts' : '/v1/rounds/current', 'rounds', 404, { cache: 'no-store' });
  return res.ok ? ((await res.json()) as RoundHead) : null;
}
