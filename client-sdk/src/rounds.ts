/**
 * The core's side of federated rounds: fetch the open round and compare a few of its
 * fields, so that the contribution chunk (which validates the whole round, builds and
 * seals the contribution) is imported only when this device will really contribute.
 */
import type { CountsMeasure, RoundDescriptor, RoundKind } from '@edgeseg/shared';
import { get, type Fetch } from './model.ts';

/** The fields of `GET /v1/rounds/current` the core compares; untrusted until the chunk validates the whole round. */
export interface RoundHead {
  round_id: string;
  kind: RoundKind;
  mode: 'secure' | 'local';
  epsilon: number;
  period?: string;
  /** Counts rounds: what the round counts; absent means segments. */
  measure?: RoundDescriptor['measure'];
}

/**
 * Fetches the open round of `kind` (never cached), or null when none is open (404). A
 * counts round is asked for by `measure`: segments as `?kind=counts`, lifecycle stages
 * and impressions with `&measure=` (each measure has its own weekly round).
 *
 * @example
 * const head = await fetchRoundHead(fetch, 'https://edge.example', 'counts', 'lifecycle');
 */
export async function fetchRoundHead(fetchFn: Fetch, endpoint: string, kind: RoundKind, measure: CountsMeasure = 'segment'): Promise<RoundHead | null> {
  const path = kind === 'counts' ? `/v1/rounds/current?kind=counts${measure === 'segment' ? '' : `&measure=${measure}`}` : '/v1/rounds/current';
  const res = await get(fetchFn, endpoint, path, 'rounds', 404, { cache: 'no-store' });
  return res.ok ? ((await res.json()) as RoundHead) : null;
}
