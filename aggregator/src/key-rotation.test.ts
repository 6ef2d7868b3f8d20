import type { HpkeConfig } from '@edgeseg/shared';
import { describe, expect, it } from 'vitest';
import {
  HPKE_RETIRED_MIN_MS,
  ROUND_KEY_GRACE_MS,
  SIGNING_RETENTION_MS,
  currentKey,
  hpkeKeyForShare,
  keptHpkeKeys,
  neededConfigIds,
  nextConfigId,
  publishedSigningKeys,
  rotateHpkeRows,
  rotateSigningRows,
  supersedeSigningRows,
  type HpkeKeyRow,
} from './key-rotation.ts';

const genesisSigning = { kid: 'model-genesis', public_jwk: '{"kid":"model-genesis"}' };
const signing = (kid: string) => ({ kid, public_jwk: `{"kid":"${kid}"}`, private_jwk: `{"kid":"${kid}","d":"secret"}` });
const config = (config_id: number): HpkeConfig => ({ config_id, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: `pk-${config_id}` });
const T0 = 1_900_000_000_000;

describe('model signing rotation', () => {
  it('records the genesis key as retired on the first rotation, drops its private half, and makes the new key current', () => {
    const rows = rotateSigningRows([], genesisSigning, signing('model-2'), T0);
    expect(rows.map((r) => [r.kid, r.retired_at, r.private_jwk !== null])).toEqual([
      ['model-genesis', T0, false],
      ['model-2', null, true],
    ]);
    expect(currentKey(rows)?.kid).toBe('model-2');
  });

  it('forgets the private half of every retired key at once: a retired key never signs again', () => {
    let rows = rotateSigningRows([], genesisSigning, signing('model-2'), T0);
    rows = rotateSigningRows(rows, genesisSigning, signing('model-3'), T0 + 1000);
    expect(rows.filter((r) => r.private_jwk !== null).map((r) => r.kid)).toEqual(['model-3']);
  });

  it('keeps a retired key published until a newer key’s model has been out for the retention, then drops it', () => {
    let rows = rotateSigningRows([], genesisSigning, signing('model-2'), T0);
    // No model signed by model-2 yet: the current model is still signed by the genesis key.
    expect(publishedSigningKeys(rows, T0 + 100 * SIGNING_RETENTION_MS).map((r) => r.kid)).toEqual(['model-2', 'model-genesis']);
    const publishedAt = T0 + 5000;
    rows = supersedeSigningRows(rows, 'model-2', publishedAt);
    expect(publishedSigningKeys(rows, publishedAt + SIGNING_RETENTION_MS - 1).map((r) => r.kid)).toEqual(['model-2', 'model-genesis']);
    expect(publishedSigningKeys(rows, publishedAt + SIGNING_RETENTION_MS).map((r) => r.kid)).toEqual(['model-2']);
  });

  it('keeps the earliest supersession time, and a model signed by an older key supersedes nothing newer', () => {
    let rows = rotateSigningRows([], genesisSigning, signing('model-2'), T0);
    rows = supersedeSigningRows(rows, 'model-2', T0 + 10);
    rows = supersedeSigningRows(rows, 'model-2', T0 + 99);
    expect(rows.find((r) => r.kid === 'model-genesis')?.superseded_at).toBe(T0 + 10);
    rows = rotateSigningRows(rows, genesisSigning, signing('model-3'), T0 + 20);
    rows = supersedeSigningRows(rows, 'model-genesis', T0 + 30); // e.g. a stale publisher: changes nothing
    expect(rows.find((r) => r.kid === 'model-2')?.superseded_at).toBeNull();
  });

  it('prunes keys past retention at the next rotation, and refuses a kid already in the ring', () => {
    let rows = rotateSigningRows([], genesisSigning, signing('model-2'), T0);
    rows = supersedeSigningRows(rows, 'model-2', T0);
    rows = rotateSigningRows(rows, genesisSigning, signing('model-3'), T0 + SIGNING_RETENTION_MS);
    expect(rows.map((r) => r.kid)).toEqual(['model-2', 'model-3']);
    expect(() => rotateSigningRows(rows, genesisSigning, signing('model-3'), T0 + SIGNING_RETENTION_MS + 1)).toThrow(/already in the ring/);
  });
});

describe('HPKE config ids', () => {
  it('counts on from the last issued id, wraps at 256 and skips ids still in the ring', () => {
    expect(nextConfigId([1], null)).toBe(2);
    expect(nextConfigId([1, 2], 2)).toBe(3);
    expect(nextConfigId([255, 0, 1], 255)).toBe(2);
    expect(nextConfigId([7], 3)).toBe(4); // 5 and 6 were forgotten: still 4 comes first
  });

  it('throws only when all 256 ids are held', () => {
    expect(() => nextConfigId(Array.from({ length: 256 }, (_, i) => i), 10)).toThrow(/256/);
    expect(nextConfigId(Array.from({ length: 255 }, (_, i) => i), 10)).toBe(255);
  });
});

describe('HPKE rotation and retention', () => {
  const rotated = (): HpkeKeyRow[] => rotateHpkeRows([], config(1), { config: config(2), private_jwk: '{"d":"x"}' }, T0);

  it('retires the genesis key (held in the secret) and makes the new key current', () => {
    const rows = rotated();
    expect(rows.map((r) => [r.config_id, r.retired_at, r.private_jwk])).toEqual([
      [1, T0, null],
      [2, null, '{"d":"x"}'],
    ]);
    expect(currentKey(rows)?.config_id).toBe(2);
    expect(() => rotateHpkeRows(rows, config(1), { config: config(2), private_jwk: '{}' }, T0 + 1)).toThrow(/already in the ring/);
  });

  it('keeps a retired key while an open round names it, and at least the minimum time after retirement', () => {
    const rows = rotated();
    const none = new Set<number>();
    expect(keptHpkeKeys(rows, none, T0 + HPKE_RETIRED_MIN_MS - 1).map((r) => r.config_id)).toEqual([2, 1]);
    expect(keptHpkeKeys(rows, none, T0 + HPKE_RETIRED_MIN_MS).map((r) => r.config_id)).toEqual([2]);
    expect(keptHpkeKeys(rows, new Set([1]), T0 + 100 * HPKE_RETIRED_MIN_MS).map((r) => r.config_id)).toEqual([2, 1]);
  });

  it('counts only open or closing rounds, until a day past their close time', () => {
    const closesAtS = T0 / 1000;
    const rounds = [
      { state: 'open', closes_at: closesAtS, config_id: 1 },
      { state: 'closing', closes_at: closesAtS, config_id: 2 },
      { state: 'released', closes_at: closesAtS + 1e6, config_id: 3 },
      { state: 'abandoned', closes_at: closesAtS + 1e6, config_id: 4 },
    ];
    expect([...neededConfigIds(rounds, T0)].sort()).toEqual([1, 2]);
    expect([...neededConfigIds(rounds, T0 + ROUND_KEY_GRACE_MS)]).toEqual([]);
  });

  it('opens a share with the current key, or with the retired key its own round names, and nothing else', () => {
    let rows = rotated();
    rows = rotateHpkeRows(rows, config(1), { config: config(3), private_jwk: '{"d":"y"}' }, T0 + 10);
    expect(hpkeKeyForShare(rows, 3, 1)?.config_id).toBe(3); // current key, in a round that named an older one
    expect(hpkeKeyForShare(rows, 1, 1)?.config_id).toBe(1); // the round's own (retired) key
    expect(hpkeKeyForShare(rows, 2, 1)).toBeNull(); // retired, and not this round's key
    expect(hpkeKeyForShare(rows, 9, 1)).toBeNull(); // unknown
    expect(hpkeKeyForShare(rows, 1, null)).toBeNull();
  });
});
