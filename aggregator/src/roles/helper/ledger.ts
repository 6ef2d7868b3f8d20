/**
 * The helper's own privacy ledger: every release it made, signed with its own key, so
 * anyone can hold the leader's ledger against it (contract: `GET /v1/privacy-ledger` on
 * the helper's origin, a compact JWS).
 */
import type { RoundDescriptor } from '@edgeseg/shared';
import { CompactSign } from 'jose';
import type { SigningKey } from '../../signing.ts';
import { BUDGET_WINDOW_S, budgetKindOf, type BudgetKind, type HelperPolicy } from './policy.ts';

/** `typ` of the ledger JWS header. */
export const LEDGER_JWS_TYPE = 'edgeseg-ledger+jwt';
/** `iss` of the ledger payload. */
export const LEDGER_ISSUER = 'edgeseg-helper';

/** One release the helper made. */
export interface LedgerRelease {
  round_id: string;
  kind: RoundDescriptor['kind'];
  epsilon: number;
  delta: number;
  /** The helper's own σ², "num/den". */
  sigma2: string;
  /** Contributions per released bucket, as the helper counted them. */
  buckets: Record<string, number>;
  /** Contributions in the released buckets. */
  contributions: number;
  released_at: number;
}

/** The signed payload. */
export interface LedgerPayload {
  iss: typeof LEDGER_ISSUER;
  iat: number;
  policy: HelperPolicy;
  releases: LedgerRelease[];
  /** ε released per kind of round in the 30 days to `iat`. */
  spent_30d: Record<BudgetKind, number>;
}

/**
 * The ledger entry of a release.
 *
 * @example
 * const entry = ledgerRelease(descriptor, '9/2', { '0:0': 120 }, nowS);
 */
export function ledgerRelease(d: Pick<RoundDescriptor, 'round_id' | 'kind' | 'epsilon' | 'delta'>, sigma2: string, buckets: Record<string, number>, releasedAt: number): LedgerRelease {
  const contributions = Object.values(buckets).reduce((s, n) => s + n, 0);
  return { round_id: d.round_id, kind: d.kind, epsilon: d.epsilon, delta: d.delta, sigma2, buckets: { ...buckets }, contributions, released_at: releasedAt };
}

/**
 * The ledger payload at `nowS`: the policy in force, every release (oldest first) and ε
 * released per kind in the last 30 days. A round whose buckets were all withheld released
 * nothing and charges nothing.
 *
 * @example
 * const payload = ledgerPayload(policy, releases, nowS);
 */
export function ledgerPayload(policy: HelperPolicy, releases: readonly LedgerRelease[], nowS: number): LedgerPayload {
  const spent: Record<BudgetKind, number> = { training: 0, measurement: 0 };
  for (const r of releases) if (r.contributions > 0 && r.released_at > nowS - BUDGET_WINDOW_S && r.released_at <= nowS) spent[budgetKindOf(r.kind)] += r.epsilon;
  const sorted = [...releases].sort((a, b) => a.released_at - b.released_at || a.round_id.localeCompare(b.round_id));
  return { iss: LEDGER_ISSUER, iat: nowS, policy: { ...policy }, releases: sorted, spent_30d: spent };
}

/**
 * Signs a ledger payload as a compact JWS (ES256, `typ` edgeseg-ledger+jwt) with the
 * helper's own key.
 *
 * @example
 * const jws = await signLedger(ledgerPayload(policy, releases, nowS), await importSigningKey(env.HELPER_SIGNING_JWK));
 */
export async function signLedger(payload: LedgerPayload, key: SigningKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: LEDGER_JWS_TYPE }).sign(key.privateKey);
}
