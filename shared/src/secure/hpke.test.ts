import { beforeAll, describe, expect, it } from 'vitest';
import type { SealedShare } from '../rounds.ts';
import { base64urlToBytes, bytesToBase64url } from './bytes.ts';
import {
  CONTRIBUTION_INFO,
  ShareOpenError,
  contributionAad,
  generateHpkeKeyPair,
  hpkeConfigFromJwk,
  importHpkePrivateKey,
  openShare,
  sealShare,
  type HpkePrivateJwk,
  type HpkeRecipientKey,
} from './hpke.ts';
import type { HpkeConfig } from '../rounds.ts';

const binding = { round_id: 'r-2026-W48.1', id: 'abcdefghijklmnop', slice: 1, public_share: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
/** Stand-ins for two rounds' digests (roundDigest is tested in round-digest.test.ts). */
const DIGEST = Uint8Array.from({ length: 32 }, (_, i) => i);
const OTHER_DIGEST = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const plaintext = Uint8Array.from({ length: 4 * 216 }, (_, i) => (i * 31) & 255);

let leader: { config: HpkeConfig; privateKeyJwk: HpkePrivateJwk; key: HpkeRecipientKey };
let helper: { config: HpkeConfig; privateKeyJwk: HpkePrivateJwk; key: HpkeRecipientKey };

beforeAll(async () => {
  const make = async (id: number) => {
    const g = await generateHpkeKeyPair(id);
    return { ...g, key: await importHpkePrivateKey(JSON.parse(JSON.stringify(g.privateKeyJwk)) as HpkePrivateJwk) };
  };
  leader = await make(1);
  helper = await make(2);
});

describe('HPKE key pairs', () => {
  it('publishes the suite ids and an uncompressed P-256 point; the JWK round-trips through JSON', () => {
    const { config, privateKeyJwk, key } = leader;
    expect(config).toMatchObject({ config_id: 1, kem_id: 16, kdf_id: 1, aead_id: 1 });
    const point = base64urlToBytes(config.public_key);
    expect(point.length).toBe(65);
    expect(point[0]).toBe(4);
    expect(Object.keys(privateKeyJwk).sort()).toEqual(['crv', 'd', 'kty', 'x', 'y']);
    expect(hpkeConfigFromJwk(privateKeyJwk, 1)).toEqual(config);
    expect(key.public_key).toBe(config.public_key);
    expect(key.privateKey.extractable).toBe(false);
  });

  it('refuses a bad config id or a malformed JWK', async () => {
    await expect(generateHpkeKeyPair(256)).rejects.toThrow(RangeError);
    await expect(importHpkePrivateKey({ ...leader.privateKeyJwk, crv: 'P-384' })).rejects.toThrow(/P-256/);
    await expect(importHpkePrivateKey({ kty: 'EC', crv: 'P-256', x: leader.privateKeyJwk.x, y: leader.privateKeyJwk.y })).rejects.toThrow(/d/);
    // Another key's public point with this private scalar: WebCrypto refuses the inconsistent key.
    await expect(importHpkePrivateKey({ ...leader.privateKeyJwk, x: helper.privateKeyJwk.x, y: helper.privateKeyJwk.y })).rejects.toThrow();
  });
});

describe('sealShare / openShare', () => {
  const aadL = () => contributionAad(binding, 'leader', DIGEST);

  it('round-trips, with a ciphertext of plaintext + 16 bytes and a 65-byte enc', async () => {
    const sealed = await sealShare(leader.config, plaintext, CONTRIBUTION_INFO, aadL());
    expect(sealed.config_id).toBe(1);
    expect(base64urlToBytes(sealed.enc).length).toBe(65);
    expect(base64urlToBytes(sealed.ct).length).toBe(plaintext.length + 16);
    expect(await openShare(leader.key, sealed, CONTRIBUTION_INFO, aadL())).toEqual(plaintext);
    // Each seal uses a fresh ephemeral key.
    const again = await sealShare(leader.config, plaintext, CONTRIBUTION_INFO, aadL());
    expect(again.enc).not.toBe(sealed.enc);
  });

  it('opens a 16-byte seed for the helper', async () => {
    const seed = Uint8Array.from({ length: 16 }, (_, i) => i);
    const aad = contributionAad(binding, 'helper', DIGEST);
    const sealed = await sealShare(helper.config, seed, CONTRIBUTION_INFO, aad);
    expect(base64urlToBytes(sealed.ct).length).toBe(32);
    expect(await openShare(helper.key, sealed, CONTRIBUTION_INFO, aad)).toEqual(seed);
  });

  describe('fails with a ShareOpenError', () => {
    let sealed: SealedShare;
    beforeAll(async () => {
      sealed = await sealShare(leader.config, plaintext, CONTRIBUTION_INFO, contributionAad(binding, 'leader', DIGEST));
    });
    const flip = (s: string, at: number) => {
      const b = base64urlToBytes(s);
      b[at]! ^= 1;
      return bytesToBase64url(b);
    };
    it.each<[string, () => [HpkeRecipientKey, SealedShare, Uint8Array, Uint8Array]]>([
      ['the wrong key', () => [helper.key, sealed, CONTRIBUTION_INFO, aadL()]],
      ['the wrong role', () => [leader.key, sealed, CONTRIBUTION_INFO, contributionAad(binding, 'helper', DIGEST)]],
      ['another round', () => [leader.key, sealed, CONTRIBUTION_INFO, contributionAad({ ...binding, round_id: 'r-2026-W48.2' }, 'leader', DIGEST)]],
      ['another id', () => [leader.key, sealed, CONTRIBUTION_INFO, contributionAad({ ...binding, id: 'abcdefghijklmnoq' }, 'leader', DIGEST)]],
      ['another slice', () => [leader.key, sealed, CONTRIBUTION_INFO, contributionAad({ ...binding, slice: 0 }, 'leader', DIGEST)]],
      ['another public share', () => [leader.key, sealed, CONTRIBUTION_INFO, contributionAad({ ...binding, public_share: 'B' + binding.public_share.slice(1) }, 'leader', DIGEST)]],
      ['another round configuration', () => [leader.key, sealed, CONTRIBUTION_INFO, contributionAad(binding, 'leader', OTHER_DIGEST)]],
      ['another info', () => [leader.key, sealed, Uint8Array.from([1, 2, 3]), aadL()]],
      ['a tampered ct', () => [leader.key, { ...sealed, ct: flip(sealed.ct, 10) }, CONTRIBUTION_INFO, aadL()]],
      ['a tampered tag', () => [leader.key, { ...sealed, ct: flip(sealed.ct, plaintext.length + 15) }, CONTRIBUTION_INFO, aadL()]],
      ['a truncated ct', () => [leader.key, { ...sealed, ct: sealed.ct.slice(0, 20) }, CONTRIBUTION_INFO, aadL()]],
      ['a tampered enc', () => [leader.key, { ...sealed, enc: flip(sealed.enc, 40) }, CONTRIBUTION_INFO, aadL()]],
      ['an enc of the wrong size', () => [leader.key, { ...sealed, enc: sealed.enc.slice(0, 43) }, CONTRIBUTION_INFO, aadL()]],
      ['a non-base64url ct', () => [leader.key, { ...sealed, ct: `${sealed.ct.slice(1)}+` }, CONTRIBUTION_INFO, aadL()]],
    ])('with %s', async (_, args) => {
      await expect(openShare(...args())).rejects.toThrow(ShareOpenError);
    });
  });

  it('refuses to seal to an unsupported suite', async () => {
    const config = { ...leader.config, aead_id: 3 } as unknown as HpkeConfig;
    await expect(sealShare(config, plaintext, CONTRIBUTION_INFO, aadL())).rejects.toThrow(/unsupported/);
  });
});

describe('contributionAad', () => {
  it('has the documented byte layout', () => {
    const aad = contributionAad({ round_id: 'r1', id: 'abcdefghijklmnop', slice: 258, public_share: 'pub' }, 'helper', DIGEST);
    const expected = [
      ...Buffer.from('edgeseg-aad-v3'),
      1,
      0, 2, ...Buffer.from('r1'),
      0, 16, ...Buffer.from('abcdefghijklmnop'),
      0, 3, ...Buffer.from('pub'),
      0, 0, 1, 2,
      ...DIGEST,
    ];
    expect(Array.from(aad)).toEqual(expected);
    expect(contributionAad({ round_id: 'r1', id: 'abcdefghijklmnop', slice: 2, public_share: 'pub' }, 'leader', DIGEST)[14]).toBe(0);
  });

  it('is unambiguous where plain concatenation would not be', () => {
    const a = contributionAad({ round_id: 'ab', id: 'cdefghijklmnopqrs', slice: 0, public_share: 'x' }, 'leader', DIGEST);
    const b = contributionAad({ round_id: 'abc', id: 'defghijklmnopqrs', slice: 0, public_share: 'x' }, 'leader', DIGEST);
    expect(a).not.toEqual(b);
  });

  it('refuses a digest that is not 32 bytes', () => {
    expect(() => contributionAad(binding, 'leader', new Uint8Array(31))).toThrow(/32 bytes/);
  });

  it('refuses a bad slice', () => {
    expect(() => contributionAad({ ...binding, slice: -1 }, 'leader', DIGEST)).toThrow(RangeError);
    expect(() => contributionAad({ ...binding, slice: 1.5 }, 'leader', DIGEST)).toThrow(RangeError);
  });

  it('CONTRIBUTION_INFO is "edgeseg contribution v1"', () => {
    expect(Buffer.from(CONTRIBUTION_INFO).toString()).toBe('edgeseg contribution v1');
  });
});
