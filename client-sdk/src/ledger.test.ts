import 'fake-indexeddb/auto';
import { zcdpToEpsilon } from '@edgeseg/shared/dp';
import { describe, expect, it } from 'vitest';
import { clampBudget, DEFAULT_BUDGET } from './budget.ts';
import { eraseStore } from './erase.ts';
import { epsilonSpent, LEDGER_WINDOW_MS, overBudget, rhoOfGaussian, rhoOfPure, spentByWindow, totalSpent, YEAR_WINDOW_MS } from './ledger.ts';
import { queueOnce, type Release } from './release.ts';
import { openStore, type LedgerEntry, type OutboxItem, type Store } from './store.ts';

const DAY = 86_400_000;
const readLedger = (db: Store): Promise<LedgerEntry[]> => db.transaction('ledger').objectStore('ledger').getAll();
const now = Date.UTC(2026, 10, 23);
const entry = (daysAgo: number, epsilon: number, purpose: LedgerEntry['purpose'] = 'measurement', rho?: number): LedgerEntry => ({ at: now - daysAgo * DAY, purpose, epsilon, ...(rho === undefined ? {} : { rho }), release: 'r' });
const pure = (epsilon: number) => ({ epsilon, rho: rhoOfPure(epsilon) });

describe('privacy ledger', () => {
  it('sums ε per purpose over the last 30 days only', () => {
    const entries = [entry(1, 2), entry(8, 2), entry(29.9, 2), entry(30, 2), entry(45, 2), entry(2, 5, 'model_improvement')];
    expect(epsilonSpent(entries, 'measurement', now)).toBe(6);
    expect(epsilonSpent(entries, 'model_improvement', now)).toBe(5);
    expect(LEDGER_WINDOW_MS).toBe(30 * DAY);
  });

  it('allows a release that reaches the 30-day cap exactly, refuses one past it, and allows it again once the window has slid', () => {
    const budget = DEFAULT_BUDGET;
    const entries = [entry(1, 0.4), entry(8, 0.4), entry(15, 0.4), entry(22, 0.4)];
    expect(overBudget(entries, 'measurement', pure(0.4), budget, now)).toBeNull();
    const full = [...entries, entry(0, 0.4)];
    expect(overBudget(full, 'measurement', pure(0.4), budget, now)).toBe('over the 30-day ε cap');
    // The other purpose has its own cap.
    expect(overBudget(full, 'model_improvement', pure(1), budget, now)).toBeNull();
    // Nine days later the entry of 22 days ago has left the window.
    expect(overBudget(full, 'measurement', pure(0.4), budget, now + 9 * DAY)).toBeNull();
  });

  it('charges a Gaussian round the ρ its σ² was calibrated to, far below a pure release of the same ε', () => {
    const rho = rhoOfGaussian(0.4, 1e-9);
    expect(zcdpToEpsilon(rho, 1e-9)).toBeLessThanOrEqual(0.4);
    expect(zcdpToEpsilon(rho * 1.001, 1e-9)).toBeGreaterThan(0.4);
    expect(rho).toBeLessThan(rhoOfPure(0.4) / 10);
    // A round claiming a tinier δ is still charged at δ = 1e-9 (a larger ρ).
    expect(rhoOfGaussian(0.4, 1e-15)).toBe(rho);
    // The default caps spent in full (five weekly 0.4 counts rounds, two ε = 1 training rounds) compose to under 4.
    const together = zcdpToEpsilon(5 * rho + 2 * rhoOfGaussian(1, 1e-9), 1e-9);
    expect(together).toBeLessThan(DEFAULT_BUDGET.measurement + DEFAULT_BUDGET.model_improvement);
  });

  it('refuses a release that fits both 30-day caps when the 365-day total (zCDP, δ = 1e-9) would pass 11', () => {
    // Randomized response at ε 1 every 15 days for a year: never more than 2 in any 30 days.
    const entries = Array.from({ length: 24 }, (_, i) => entry(15 * (i + 1) - 14, 1, i % 2 ? 'model_improvement' : 'measurement', rhoOfPure(1)));
    const year = entries.filter((e) => e.at > now + 5 * DAY - YEAR_WINDOW_MS);
    const at = now + 5 * DAY;
    expect(epsilonSpent(year, 'measurement', at) + 1).toBeLessThanOrEqual(DEFAULT_BUDGET.measurement);
    expect(totalSpent(year, at, YEAR_WINDOW_MS)).toBeGreaterThan(10);
    expect(overBudget(year, 'measurement', pure(1), DEFAULT_BUDGET, at)).toBe('over the 365-day ε cap');
    // The same spend through Gaussian rounds composes under zCDP to far less, and fits.
    const gaussian = year.map((e) => ({ ...e, rho: rhoOfGaussian(e.epsilon, 1e-9) }));
    expect(totalSpent(gaussian, at, YEAR_WINDOW_MS)).toBeLessThan(DEFAULT_BUDGET.total_365d);
    expect(overBudget(gaussian, 'measurement', { epsilon: 1, rho: rhoOfGaussian(1, 1e-9) }, DEFAULT_BUDGET, at)).toBeNull();
  });

  it('counts entries without ρ (older SDKs) as pure ε-DP, and reports the spend per window', () => {
    const entries = [entry(1, 0.4), entry(3, 1, 'model_improvement', rhoOfGaussian(1, 1e-9)), entry(100, 2)];
    const spent = spentByWindow(entries, now);
    expect(spent.measurement_30d).toBeCloseTo(0.4, 12);
    expect(spent.model_improvement_30d).toBe(1);
    expect(spent.total_30d).toBeCloseTo(Math.min(1.4, zcdpToEpsilon(rhoOfPure(0.4) + rhoOfGaussian(1, 1e-9), 1e-9)), 12);
    expect(spent.total_365d).toBeCloseTo(Math.min(3.4, zcdpToEpsilon(rhoOfPure(0.4) + rhoOfGaussian(1, 1e-9) + rhoOfPure(2), 1e-9)), 12);
  });

  it('lets an app lower the budget but clamps a raise to the default', () => {
    expect(clampBudget({ measurement: 1 })).toEqual({ budget: { ...DEFAULT_BUDGET, measurement: 1 }, clamped: [] });
    expect(clampBudget({ measurement: 20, total_365d: 50, model_improvement: 0.5 })).toEqual({ budget: { measurement: 2, model_improvement: 0.5, total_365d: 11 }, clamped: ['measurement', 'total_365d'] });
  });
});

describe('the ledger in IndexedDB', () => {
  let n = 0;
  const report = (week: number): Release => {
    const period = `2026-W${String(week).padStart(2, '0')}`;
    const id = `r-${week}-${++n}`;
    const item: OutboxItem = { id, purpose: 'measurement', createdAt: now, report: { id, model_version: 1, period, value: 0 } };
    return { mark: 'reportedPeriod', value: period, epsilon: 0.4, label: `report ${period}`, item };
  };

  it('erase keeps the spent-ε floor (ε and ρ, for 365 days), so the budget is not reset', async () => {
    const db = await openStore(`ledger-floor-${Math.random().toString(36).slice(2)}`);
    let at = now;
    for (let week = 40; week <= 44; week++, at += 7 * DAY) expect(await queueOnce(db, [report(week)], DEFAULT_BUDGET, at)).toEqual([null]);
    at -= 7 * DAY;
    expect(await queueOnce(db, [report(45)], DEFAULT_BUDGET, at + DAY)).toEqual(['over the 30-day ε cap']);
    const before = await readLedger(db);
    await eraseStore(db, at + DAY);
    const after = await readLedger(db);
    expect(after.map(({ at, purpose, epsilon, rho }) => ({ at, purpose, epsilon, rho }))).toEqual(before.map(({ at, purpose, epsilon, rho }) => ({ at, purpose, epsilon, rho })));
    expect(after.every((e) => e.release === 'erased')).toBe(true);
    // Still refused after erase; allowed once the oldest week has left the 30-day window.
    expect(await queueOnce(db, [report(45)], DEFAULT_BUDGET, at + DAY)).toEqual(['over the 30-day ε cap']);
    expect(await queueOnce(db, [report(45)], DEFAULT_BUDGET, now + 30 * DAY + 1)).toEqual([null]);
    // Entries older than 365 days are dropped by the next erase: they no longer count anywhere.
    await eraseStore(db, now + (365 + 29) * DAY);
    expect((await readLedger(db)).length).toBe(1);
    db.close();
  });
});
