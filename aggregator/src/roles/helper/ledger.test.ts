import { compactVerify, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { importSigningKey } from '../../signing.ts';
import { LEDGER_ISSUER, LEDGER_JWS_TYPE, ledgerPayload, ledgerRelease, signLedger } from './ledger.ts';
import { BUDGET_WINDOW_S, DEFAULT_HELPER_POLICY } from './policy.ts';

const NOW = 1_800_000_000;

async function signingJwk(): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  return JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid: 'helper-ledger-test' });
}

describe('helper ledger', () => {
  const round = { round_id: 'r-1', kind: 'kmeans' as const, epsilon: 0.5, delta: 1e-9 };

  it('an entry sums the released buckets’ contributions', () => {
    expect(ledgerRelease(round, '9/2', { '0:0': 120, '0:1': 130 }, NOW)).toEqual({ ...round, sigma2: '9/2', buckets: { '0:0': 120, '0:1': 130 }, contributions: 250, released_at: NOW });
  });

  it('the payload lists releases oldest first and ε spent per kind in the last 30 days only', () => {
    const releases = [
      ledgerRelease(round, '9/2', { '0:0': 120 }, NOW - 10),
      ledgerRelease({ ...round, round_id: 'r-0' }, '9/2', { '0:0': 120 }, NOW - BUDGET_WINDOW_S),
      ledgerRelease({ ...round, round_id: 'c-1', kind: 'counts', epsilon: 1 }, '3/1', { '0:0': 400 }, NOW - 20),
      ledgerRelease({ ...round, round_id: 'r-empty' }, '9/2', {}, NOW - 5),
    ];
    const payload = ledgerPayload(DEFAULT_HELPER_POLICY, releases, NOW);
    expect(payload.iss).toBe(LEDGER_ISSUER);
    expect(payload.releases.map((r) => r.round_id)).toEqual(['r-0', 'c-1', 'r-1', 'r-empty']);
    expect(payload.spent_30d).toEqual({ training: 0.5, measurement: 1 });
    expect(payload.policy).toEqual(DEFAULT_HELPER_POLICY);
  });

  it('signs a JWS that verifies with the public key alone, with the ledger header', async () => {
    const key = await importSigningKey(await signingJwk());
    const payload = ledgerPayload(DEFAULT_HELPER_POLICY, [ledgerRelease(round, '9/2', { '0:0': 120 }, NOW)], NOW);
    const jws = await signLedger(payload, key);
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'ES256', kid: key.kid, typ: LEDGER_JWS_TYPE });
    const { payload: bytes } = await compactVerify(jws, key.publicKey);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(payload);
  });
});
