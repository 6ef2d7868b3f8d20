import { describe, expect, it, vi } from 'vitest';
import { RetryCloseLater } from './close.ts';
import {
  afterFailedClose,
  attemptEach,
  CLOCK_SKEW_GRACE_S,
  closeFailureOf,
  dueRoundIds,
  MAX_CLOSE_ATTEMPTS,
  MAX_RETRY_DELAY_S,
  nextAlarmMs,
  retryDelayS,
  type CloseFailure,
  type ScheduledRound,
} from './close-schedule.ts';

const NOW = 1_900_000_000;
const unreachable: CloseFailure = { rule: 'helper-unreachable', message: 'connection refused', notBefore: null };

describe('dueRoundIds', () => {
  const rounds: ScheduledRound[] = [
    { round_id: 'later', state: 'open', due_at: NOW + 30 },
    { round_id: 'retrying', state: 'closing', due_at: NOW - 5 },
    { round_id: 'closes-now', state: 'open', due_at: NOW },
    { round_id: 'released', state: 'released', due_at: NOW - 100 },
    { round_id: 'abandoned', state: 'abandoned', due_at: NOW - 50 },
  ];

  it('takes every open or closing round due at or before now, earliest first', () => {
    expect(dueRoundIds(rounds, NOW)).toEqual(['retrying', 'closes-now']);
  });

  it('never takes a released or abandoned round, however old its due time', () => {
    expect(dueRoundIds(rounds, NOW + 1000)).toEqual(['retrying', 'closes-now', 'later']);
  });
});

describe('nextAlarmMs', () => {
  it('is the earliest due time of the rounds still open or closing, in ms', () => {
    expect(
      nextAlarmMs([
        { round_id: 'a', state: 'open', due_at: NOW + 60 },
        { round_id: 'b', state: 'closing', due_at: NOW + 8 },
        { round_id: 'c', state: 'released', due_at: NOW - 10 },
      ]),
    ).toBe((NOW + 8) * 1000);
  });

  it('keeps a time already past (the alarm then fires at once)', () => {
    expect(nextAlarmMs([{ round_id: 'a', state: 'closing', due_at: NOW - 30 }])).toBe((NOW - 30) * 1000);
  });

  it('is null when no round waits', () => {
    expect(nextAlarmMs([{ round_id: 'a', state: 'abandoned', due_at: NOW }])).toBeNull();
    expect(nextAlarmMs([])).toBeNull();
  });
});

describe('retryDelayS', () => {
  it('doubles from 2 s and stops at the maximum', () => {
    const delays = Array.from({ length: 9 }, (_, i) => retryDelayS(i));
    expect(delays.slice(0, 6)).toEqual([2, 2, 4, 8, 16, 32]);
    expect(delays.slice(6).every((d) => d === MAX_RETRY_DELAY_S)).toBe(true);
  });
});

describe('closeFailureOf', () => {
  it('keeps the rule and notBefore of a RetryCloseLater', () => {
    expect(closeFailureOf(new RetryCloseLater('too-early', 'helper: wait', NOW))).toEqual({ rule: 'too-early', message: 'helper: wait', notBefore: NOW });
  });

  it('turns any other error, or a thrown non-error, into an unexpected-error with its message', () => {
    expect(closeFailureOf(new Error('registry unavailable'))).toEqual({ rule: 'unexpected-error', message: 'registry unavailable', notBefore: null });
    expect(closeFailureOf('boom')).toEqual({ rule: 'unexpected-error', message: 'boom', notBefore: null });
  });
});

describe('afterFailedClose', () => {
  it('counts an attempt, backs off and states the reason', () => {
    expect(afterFailedClose(2, unreachable, NOW)).toEqual({ action: 'retry', attempts: 3, dueAtS: NOW + retryDelayS(3), reason: 'retrying (helper-unreachable): connection refused' });
  });

  it('retries an unexpected error like any other failure', () => {
    const next = afterFailedClose(0, closeFailureOf(new Error('shard call failed')), NOW);
    expect(next).toEqual({ action: 'retry', attempts: 1, dueAtS: NOW + retryDelayS(1), reason: 'retrying (unexpected-error): shard call failed' });
  });

  it('does not count waiting for the helper to pass the close time, and retries no earlier than that', () => {
    const tooEarly: CloseFailure = { rule: 'too-early', message: 'helper: not yet', notBefore: NOW + 40 };
    const next = afterFailedClose(4, tooEarly, NOW);
    expect(next.action).toBe('retry');
    expect(next.attempts).toBe(4);
    if (next.action === 'retry') expect(next.dueAtS).toBe(NOW + 41);
  });

  it('counts a "too early" once the helper is past the close time by more than the grace', () => {
    const late: CloseFailure = { rule: 'too-early', message: 'helper: not yet', notBefore: NOW - CLOCK_SKEW_GRACE_S };
    expect(afterFailedClose(4, late, NOW).attempts).toBe(5);
  });

  it('abandons with the last reason after the last allowed attempt', () => {
    expect(afterFailedClose(MAX_CLOSE_ATTEMPTS - 1, unreachable, NOW).action).toBe('retry');
    expect(afterFailedClose(MAX_CLOSE_ATTEMPTS, unreachable, NOW)).toEqual({
      action: 'abandon',
      attempts: MAX_CLOSE_ATTEMPTS + 1,
      reason: `gave up after ${MAX_CLOSE_ATTEMPTS} attempts: connection refused`,
    });
  });

  it('keeps every round retried for a helper outage far longer than workerd retries a throwing alarm (6 retries from 2 s)', () => {
    const workerdGivesUpAfterS = [2, 4, 8, 16, 32, 64].reduce((a, b) => a + b, 0);
    let attempts = 0;
    let now = NOW;
    while (now - NOW <= 4 * workerdGivesUpAfterS) {
      const next = afterFailedClose(attempts, unreachable, now);
      expect(next.action).toBe('retry');
      if (next.action !== 'retry') return;
      expect(next.dueAtS - now).toBeLessThanOrEqual(MAX_RETRY_DELAY_S);
      attempts = next.attempts;
      now = next.dueAtS;
    }
  });
});

describe('attemptEach', () => {
  it('hands each round its own failure and still attempts every other round', async () => {
    const closed: string[] = [];
    const failures: [string, CloseFailure][] = [];
    await attemptEach(
      ['a', 'b', 'c'],
      async (id) => {
        if (id === 'a') throw new Error('shard call failed');
        if (id === 'b') throw new RetryCloseLater('helper-unreachable', 'connection refused');
        closed.push(id);
      },
      (id, failure) => {
        failures.push([id, failure]);
      },
    );
    expect(closed).toEqual(['c']);
    expect(failures).toEqual([
      ['a', { rule: 'unexpected-error', message: 'shard call failed', notBefore: null }],
      ['b', { rule: 'helper-unreachable', message: 'connection refused', notBefore: null }],
    ]);
  });

  it('lets other rounds finish while one attempt still waits', async () => {
    let releaseSlow: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (releaseSlow = resolve));
    const closed: string[] = [];
    const run = attemptEach(
      ['slow', 'fast'],
      async (id) => {
        if (id === 'slow') await slow;
        closed.push(id);
      },
      () => undefined,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toEqual(['fast']);
    releaseSlow();
    await run;
    expect(closed).toEqual(['fast', 'slow']);
  });

  it('never rejects, even when recording a failure fails', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const failing = async (): Promise<void> => {
        throw new Error('close failed');
      };
      await expect(attemptEach(['a'], failing, () => { throw new Error('storage failed'); })).resolves.toBeUndefined();
      expect(logged).toHaveBeenCalledTimes(1);
    } finally {
      logged.mockRestore();
    }
  });
});
