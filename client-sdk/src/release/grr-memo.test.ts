import 'fake-indexeddb/auto';
import { grrProbabilities, seededRandom } from '@edgeseg/shared';
import { describe, expect, it } from 'vitest';
import { eraseStore } from '../erase.ts';
import { openStore, readKv, type GrrMemo, type LedgerEntry, type Store } from '../store.ts';
import { queueOnce } from '../release.ts';
import { recallGrr, type GrrMemoKey } from './grr-memo.ts';

const KEY: GrrMemoKey = { kind: 'report', modelVersion: 3, k: 8, epsilon: 0.5, truth: 5 };

/** Upper 0.999 quantile of χ² with 7 degrees of freedom (as shared/src/grr.test.ts). */
const CHI2_7_999 = 24.32;

/** Queues the week's segment report as the scheduler does (value drawn by queueOnce); the value queued, or why not. */
async function queueReport(store: Store, period: string): Promise<number | string> {
  const id = `report-${period}-${Math.random().toString(36).slice(2, 10)}`;
  const item = { id, purpose: 'measurement' as const, createdAt: Date.now(), report: { id, model_version: KEY.modelVersion, period, value: 0 } };
  const caps = { measurement: 1000, model_improvement: 1000, total_365d: 1000 };
  const [why] = await queueOnce(store, [{ mark: 'reportedPeriod', value: period, epsilon: KEY.epsilon, label: `report ${period}`, item, grr: KEY }], caps, Date.now());
  return why ?? item.report.value;
}

const readLedger = (db: Store): Promise<LedgerEntry[]> => db.transaction('ledger').objectStore('ledger').getAll();

let db = 0;
const dbName = () => `grr-memo-${++db}-${Math.random().toString(36).slice(2, 8)}`;

describe('memoised randomized response', () => {
  it('answers the same true value identically every week, under one draw', () => {
    const memo: GrrMemo = {};
    const random = seededRandom(7);
    const weeks = Array.from({ length: 104 }, () => recallGrr(memo, KEY, random));
    expect(new Set(weeks).size).toBe(1);
    expect(Object.values(memo)).toEqual([weeks[0]]);
  });

  it('draws anew for another true value, kind, model version, k or ε, and keeps each draw', () => {
    const memo: GrrMemo = {};
    const random = seededRandom(11);
    const keys: GrrMemoKey[] = [KEY, { ...KEY, truth: 2 }, { ...KEY, kind: 'lifecycle' }, { ...KEY, modelVersion: 4 }, { ...KEY, k: 9 }, { ...KEY, epsilon: 1 }];
    const first = keys.map((key) => recallGrr(memo, key, random));
    expect(Object.keys(memo)).toHaveLength(keys.length);
    expect(keys.map((key) => recallGrr(memo, key, random))).toEqual(first);
  });

  it('a fresh draw (new model version or ε) is independent of the memoised one', () => {
    // Over many devices, the answer under version 4 agrees with the one under version 3 only as often as two independent GRR draws do.
    const n = 20_000;
    const random = seededRandom(21);
    let same = 0;
    for (let i = 0; i < n; i++) {
      const memo: GrrMemo = {};
      if (recallGrr(memo, KEY, random) === recallGrr(memo, { ...KEY, modelVersion: 4 }, random)) same++;
    }
    const { p, q } = grrProbabilities(KEY.k, KEY.epsilon);
    const agree = p * p + (KEY.k - 1) * q * q;
    expect(Math.abs(same / n - agree)).toBeLessThan(4 * Math.sqrt((agree * (1 - agree)) / n));
  });

  it('the first draw of each memo has the GRR channel distribution (χ², seeded source)', () => {
    const n = 100_000;
    const random = seededRandom(1234);
    const observed = new Array<number>(KEY.k).fill(0);
    for (let i = 0; i < n; i++) observed[recallGrr({}, KEY, random)]! += 1;
    const { p, q } = grrProbabilities(KEY.k, KEY.epsilon);
    const chi2 = observed.reduce((acc, o, v) => acc + (o - n * (v === KEY.truth ? p : q)) ** 2 / (n * (v === KEY.truth ? p : q)), 0);
    expect(chi2).toBeLessThan(CHI2_7_999);
  });

  it('is kept in IndexedDB across opens, drawn (and charged) only when a report is queued with a new answer, and erase removes it while the release marks stay', async () => {
    const name = dbName();
    const first = await openStore(name);
    const value = await queueReport(first, '2026-W38');
    expect(typeof value).toBe('number');
    first.close();

    const store = await openStore(name); // a reload
    for (let week = 39; week <= 48; week++) expect(await queueReport(store, `2026-W${week}`)).toBe(value);
    expect(Object.values((await readKv(store, 'grrMemo')) || {})).toEqual([value]);
    // Only the draw was charged: the ten re-sent answers are logged at 0 ε.
    const ledger = await readLedger(store);
    expect(ledger.map((e) => e.epsilon)).toEqual([KEY.epsilon, ...new Array<number>(10).fill(0)]);
    expect(ledger.slice(1).every((e) => e.rho === 0 && /memoised/.test(e.release))).toBe(true);
    // A week already reported is not queued again, and draws nothing.
    expect(await queueReport(store, '2026-W48')).toBe('already released');
    expect(Object.values((await readKv(store, 'grrMemo')) || {})).toEqual([value]);

    await eraseStore(store, Date.now());
    expect(await readKv(store, 'grrMemo')).toBeUndefined();
    expect(await readKv(store, 'reportedPeriod')).toBe('2026-W48');
    // Erase forgot the memo: the next week draws afresh, and is charged again.
    expect(typeof (await queueReport(store, '2026-W49'))).toBe('number');
    expect((await readLedger(store)).filter((e) => e.epsilon > 0)).toHaveLength(2);
    store.close();
  });
});
