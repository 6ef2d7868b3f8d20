import { describe, expect, it } from 'vitest';
import { epsilonSpent, LEDGER_WINDOW_MS, withinBudget } from './ledger.ts';
import type { LedgerEntry } from './store.ts';

const now = Date.UTC(2026, 10, 23);
const entry = (daysAgo: number, epsilon: number, purpose: LedgerEntry['purpose'] = 'measurement'): LedgerEntry => ({ at: now - daysAgo * 86_400_000, purpose, epsilon, release: 'r' });

describe('privacy ledger', () => {
  it('sums ε per purpose over the last 30 days only', () => {
    const entries = [entry(1, 2), entry(8, 2), entry(29.9, 2), entry(30, 2), entry(45, 2), entry(2, 5, 'model_improvement')];
    expect(epsilonSpent(entries, 'measurement', now)).toBe(6);
    expect(epsilonSpent(entries, 'model_improvement', now)).toBe(5);
    expect(LEDGER_WINDOW_MS).toBe(30 * 86_400_000);
  });

  it('allows a release that reaches the cap exactly and refuses one past it', () => {
    const entries = [entry(1, 2), entry(8, 2), entry(15, 2), entry(22, 2)];
    expect(withinBudget(entries, 'measurement', 2, 10, now)).toBe(true);
    expect(withinBudget([...entries, entry(0, 2)], 'measurement', 2, 10, now)).toBe(false);
    // A week later the oldest entry has left the window.
    expect(withinBudget([...entries, entry(0, 2)], 'measurement', 2, 10, now + 9 * 86_400_000)).toBe(true);
  });
});
