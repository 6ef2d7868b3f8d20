import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyCompactJws, type PublicJwk } from './jws.ts';

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } as PublicJwk };
}

async function sign(payload: string, privateKey: CryptoKey, header: Record<string, unknown>) {
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'ES256', ...header }).sign(privateKey);
}

describe('verifyCompactJws (WebCrypto) against jose-signed tokens', () => {
  it('returns the payload of a valid ES256 JWS', async () => {
    const { privateKey, jwk } = await keyPair('k1');
    const jws = await sign('{"version":1}', privateKey, { kid: 'k1', typ: 'edgeseg-model+json' });
    expect(await verifyCompactJws(jws, [jwk], 'edgeseg-model+json')).toBe('{"version":1}');
  });

  it('refuses a changed payload with the signature kept', async () => {
    const { privateKey, jwk } = await keyPair('k1');
    const jws = await sign('{"version":1}', privateKey, { kid: 'k1', typ: 'edgeseg-model+json' });
    const [h, , s] = jws.split('.');
    const forged = `${h}.${btoa('{"version":9}').replace(/=+$/, '')}.${s}`;
    await expect(verifyCompactJws(forged, [jwk], 'edgeseg-model+json')).rejects.toThrow(/signature/);
  });

  it('refuses a JWS signed by a key not in the JWKS, another typ, or an unknown kid', async () => {
    const trusted = await keyPair('k1');
    const other = await keyPair('k1');
    const jws = await sign('{}', other.privateKey, { kid: 'k1', typ: 'edgeseg-model+json' });
    await expect(verifyCompactJws(jws, [trusted.jwk], 'edgeseg-model+json')).rejects.toThrow(/signature/);
    const wrongTyp = await sign('{}', trusted.privateKey, { kid: 'k1', typ: 'JWT' });
    await expect(verifyCompactJws(wrongTyp, [trusted.jwk], 'edgeseg-model+json')).rejects.toThrow(/typ/);
    const unknownKid = await sign('{}', trusted.privateKey, { kid: 'k2', typ: 'edgeseg-model+json' });
    await expect(verifyCompactJws(unknownKid, [trusted.jwk], 'edgeseg-model+json')).rejects.toThrow(/no key/);
  });

  it('refuses alg=none and malformed input', async () => {
    const { jwk } = await keyPair('k1');
    const none = `${btoa(JSON.stringify({ alg: 'none', kid: 'k1', typ: 'edgeseg-model+json' }))}.${btoa('{}')}.`;
    await expect(verifyCompactJws(none, [jwk], 'edgeseg-model+json')).rejects.toThrow(/ES256/);
    await expect(verifyCompactJws('not-a-jws', [jwk], 'edgeseg-model+json')).rejects.toThrow(/compact/);
  });
});
