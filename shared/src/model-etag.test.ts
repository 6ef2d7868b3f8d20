import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { modelEtag } from './model-etag.ts';

describe('modelEtag', () => {
  it('is the version and the first 16 hex digits of SHA-256 over the JWS', async () => {
    const jws = 'eyJhbGciOiJFUzI1NiJ9.eyJ2ZXJzaW9uIjozfQ.c2ln';
    expect(await modelEtag(3, jws)).toBe(`"v3-${createHash('sha256').update(jws).digest('hex').slice(0, 16)}"`);
  });

  it('differs for different bytes of the same version', async () => {
    expect(await modelEtag(3, 'a.b.c')).not.toBe(await modelEtag(3, 'a.b.d'));
  });
});
