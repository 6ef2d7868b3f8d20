/**
 * The digest of a round's whole configuration, which every contribution share is sealed
 * to (its HPKE aad): a leader that shows devices one configuration and the helper another
 * gets shares the helper cannot open.
 */
import type { RoundDescriptor } from '../rounds.ts';
import { utf8 } from './bytes.ts';
import { subtle } from './webcrypto.ts';

/** Bytes of a {@link roundDigest}: SHA-256. */
export const ROUND_DIGEST_BYTES = 32;

/**
 * The fields a digest covers, in the order listed (the canonical JSON sorts them anyway).
 * Fields a descriptor may carry beyond these are not hashed, so both sides hash the same
 * projection of what they parsed.
 */
const DIGEST_FIELDS = [
  'round_id', 'kind', 'mode', 'model_version', 'k', 'd', 'slices', 'groups', 'encoding', 'epsilon', 'delta',
  'local_sigma2', 'opens_at', 'closes_at', 'period', 'measure', 'min_batch', 'hpke',
] as const satisfies readonly (keyof RoundDescriptor)[];

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError('roundDigest: a descriptor holds only finite numbers');
  return JSON.stringify(v);
}

/**
 * The canonical text a round digest hashes: the descriptor's configuration fields (kind,
 * k, d, slices, groups, encoding, ε, δ, σ² of a local round, open and close times, period,
 * what a counts round counts, minimum batch, both HPKE configs) as JSON with sorted keys.
 *
 * @example
 * roundDigestInput(round) // '{"closes_at":…,"d":31,"delta":1e-9,…}'
 */
export function roundDigestInput(d: RoundDescriptor): string {
  const picked: Record<string, unknown> = {};
  for (const f of DIGEST_FIELDS) if (d[f] !== undefined) picked[f] = d[f];
  return canonicalJson(picked);
}

/**
 * SHA-256 of {@link roundDigestInput}: what devices seal both shares to, what the leader
 * opens its share with, and what the helper compares against the descriptor it accepted.
 *
 * @example
 * const digest = await roundDigest(round);
 * const aad = contributionAad({ round_id: round.round_id, id, slice, group }, 'helper', digest);
 */
export async function roundDigest(d: RoundDescriptor): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle().digest('SHA-256', utf8(roundDigestInput(d))));
}
