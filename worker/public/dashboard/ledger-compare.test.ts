/**
 * The comparison behind the dashboard's two-ledger panel: each kind of flag from the
 * smallest difference that should raise it, none when the ledgers agree (in any order,
 * with σ² written differently), and ledgers that cannot be read refused by name.
 */
import { describe, expect, it } from 'vitest';
import { compareLedgers as compare, FLAG_TEXT, readReleases as read, sameRational as same } from './ledger-compare.js';

/** A release as ledger-compare.js reads it (its JSDoc LedgerRelease). */
interface Release {
  round_id: string;
  kind: string;
  mode: string | null;
  epsilon: number;
  delta: number;
  sigma2: string | null;
  buckets: Record<string, number> | null;
  contributions: number | null;
  released_at: number | null;
}

/** A secure k-means release as both sides state it when they agree. */
function release(round_id: string, over: Partial<Release> = {}): Release {
  return { round_id, kind: 'kmeans', mode: 'secure', epsilon: 1, delta: 1e-9, sigma2: '1234567/89', buckets: { '0.0': 150, '0.1': 120 }, contributions: 270, released_at: 1_800_000_000, ...over };
}
const helperSide = (r: Release): Release => ({ ...r, mode: null }); // the helper's ledger states no mode

describe('compareLedgers', () => {
  it('flags nothing when both ledgers list the same releases, in whatever order and with σ² unreduced on one side', () => {
    const leader = [release('r-a', { released_at: 100 }), release('r-b', { released_at: 200 })];
    const helper = [helperSide(release('r-b', { released_at: 205, sigma2: '2469134/178' })), helperSide(release('r-a', { released_at: 103 }))];
    const rows = compare(leader, helper);
    expect(rows.map((r) => [r.round_id, r.flags])).toEqual([
      ['r-b', []],
      ['r-a', []],
    ]);
    expect(rows[0]?.helper?.released_at).toBe(205); // each side's own release time is kept, and times may differ
  });

  it('does not flag a local-mode round the leader alone lists', () => {
    expect(compare([release('r-local', { mode: 'local', sigma2: '5/1', buckets: null })], [])).toEqual([{ round_id: 'r-local', leader: release('r-local', { mode: 'local', sigma2: '5/1', buckets: null }), helper: null, flags: [] }]);
  });

  it('flags a secure release the helper does not list (leader-only), and one the leader does not list (helper-only)', () => {
    const rows = compare([release('r-lead', { released_at: 2 })], [helperSide(release('r-help', { released_at: 1 }))]);
    expect(rows.map((r) => [r.round_id, r.flags])).toEqual([
      ['r-lead', ['leader-only']],
      ['r-help', ['helper-only']],
    ]);
  });

  it('does not flag a helper entry that released no bucket (all under the minimum batch) and the leader does not list', () => {
    expect(compare([], [helperSide(release('r-withheld', { buckets: {}, contributions: 0 }))])[0]?.flags).toEqual([]);
  });

  it('flags a leader release with no mode stated and no helper side (only local rounds are expected on one side)', () => {
    expect(compare([release('r-x', { mode: null })], [])[0]?.flags).toEqual(['leader-only']);
  });

  it('flags each differing figure on its own', () => {
    const cases: [Partial<Release>, string][] = [
      [{ epsilon: 1.000001 }, 'epsilon'],
      [{ delta: 1e-8 }, 'delta'],
      [{ sigma2: '1234568/89' }, 'sigma2'],
      [{ buckets: { '0.0': 150, '0.1': 121 } }, 'buckets'], // one size differs
      [{ buckets: { '0.0': 150 } }, 'buckets'], // a bucket missing
      [{ buckets: { '0.0': 150, '0.1': 120, '0.2': 1 } }, 'buckets'], // an extra bucket
      [{ buckets: { '0.0': 150, '1.1': 120 } }, 'buckets'], // same sizes, another bucket
    ];
    for (const [helperChange, flag] of cases) {
      const rows = compare([release('r-1')], [helperSide(release('r-1', helperChange))]);
      expect(rows[0]?.flags, JSON.stringify(helperChange)).toEqual([flag]);
    }
  });

  it('flags σ² and buckets a side does not state as differing', () => {
    expect(compare([release('r-1', { sigma2: null, buckets: null })], [helperSide(release('r-1'))])[0]?.flags).toEqual(['sigma2', 'buckets']);
  });

  it('flags a round the leader calls local that the helper released', () => {
    expect(compare([release('r-1', { mode: 'local' })], [helperSide(release('r-1'))])[0]?.flags).toEqual(['mode']);
  });

  it('flags a round listed twice on one side, and still compares its first entries', () => {
    expect(compare([release('r-1')], [helperSide(release('r-1')), helperSide(release('r-1', { epsilon: 3 }))])[0]?.flags).toEqual(['repeated']);
    expect(compare([release('r-1'), release('r-1')], [])[0]?.flags).toEqual(['repeated', 'leader-only']);
  });

  it('has words for every flag it raises', () => {
    const raised = new Set(
      [
        compare([release('a')], []),
        compare([], [release('b')]),
        compare([release('c', { mode: 'local', epsilon: 2, delta: 1, sigma2: '1/1', buckets: {} })], [release('c'), release('c')]),
      ].flatMap((rows) => rows.flatMap((r) => r.flags)),
    );
    expect([...raised].sort()).toEqual(Object.keys(FLAG_TEXT).sort());
  });
});

describe('sameRational', () => {
  it('compares exactly, whatever the written form', () => {
    expect(same('9/2', '18/4')).toBe(true);
    expect(same('7', '7/1')).toBe(true);
    expect(same('100000000000000000001/3', '100000000000000000000/3')).toBe(false); // beyond a double's precision
    expect(same('1/0', '1/0')).toBe(false);
    expect(same(null, '1/2')).toBe(false);
    expect(same('0.5', '1/2')).toBe(false);
  });
});

describe('readReleases', () => {
  it('reads a ledger and fills what it does not state with null', () => {
    const { mode: _mode, sigma2: _sigma2, buckets: _buckets, ...bare } = release('r-1');
    expect(read({ releases: [bare] }, 'ledger')).toEqual([{ ...bare, measure: null, mode: null, sigma2: null, buckets: null }]);
    expect(read({ releases: [{ ...bare, mode: null, sigma2: null, buckets: null, contributions: null, released_at: null }] }, 'ledger')).toEqual([{ ...bare, measure: null, mode: null, sigma2: null, buckets: null, contributions: null, released_at: null }]);
    // The leader names what a counts round counted; the helper's ledger need not.
    expect(read({ releases: [{ ...bare, kind: 'counts', measure: 'lifecycle' }] }, 'ledger')[0]).toMatchObject({ kind: 'counts', measure: 'lifecycle' });
  });

  it('refuses, by name and field, what is not a ledger', () => {
    expect(() => read(null, 'the helper’s ledger')).toThrow('the helper’s ledger: releases must be an array');
    expect(() => read({ releases: [null] }, 'L')).toThrow('L: releases[0] must be an object');
    expect(() => read({ releases: [{ ...release('r'), round_id: 7 }] }, 'L')).toThrow('releases[0].round_id');
    expect(() => read({ releases: [{ ...release('r'), epsilon: '1' }] }, 'L')).toThrow('epsilon and delta must be numbers');
    expect(() => read({ releases: [release('r'), { ...release('r'), sigma2: 0.5 }] }, 'L')).toThrow('releases[1].sigma2');
    expect(() => read({ releases: [{ ...release('r'), buckets: { '0.0': -1 } }] }, 'L')).toThrow('releases[0].buckets');
    expect(() => read({ releases: [{ ...release('r'), released_at: 'yesterday' }] }, 'L')).toThrow('releases[0].released_at');
  });
});
