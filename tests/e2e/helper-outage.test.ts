/**
 * An alarm that is never lost (issue #16): the helper is down at close for longer than
 * workerd keeps retrying a throwing alarm (6 retries from 2 s, about 2 minutes). Every
 * due round stays closing with a stated reason and is retried on its own backoff; a
 * second "close now" on a closing round is answered 202 and pushes it on; once the
 * helper is back, the round released holds exactly the contributions the leader
 * accepted (those sent during the outage included), and another round that fell due
 * meanwhile releases too, without any new round re-arming the leader's alarm.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import type { RoundDescriptor } from '@edgeseg/shared';
import { buildSecureContribution } from '@edgeseg/shared/secure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { openRound } from '../support/rounds.ts';
import { startStack, type RunningStack } from '../support/stack.ts';

/** workerd retries a throwing alarm 6 times, from 2 s doubling: 2 + 4 + … + 64 s. */
const WORKERD_ALARM_RETRIES_S = 126;
/** The helper stays down this much longer than workerd's alarm retries. */
const OUTAGE_S = WORKERD_ALARM_RETRIES_S + 14;
/** Small secure rounds: 1 group, 10 per bucket, the lenient test helper's ε. */
const ROUND = { min_batch: 10, epsilon: 20, delta: 1e-9, groups: 1 } as const;

let stack: RunningStack;
let admin: string;
let seq = 0;

beforeAll(async () => {
  stack = await startStack();
  admin = await mintToken(stack.authJwk, { role: 'admin' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** Uploads `n` fresh devices' secure contributions to `round`; answers how many the leader accepted (202). */
async function contribute(round: RoundDescriptor, n: number): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < n; i++) {
    seq++;
    const x = Float32Array.from({ length: round.d }, (_, j) => (((seq + j) % 7) - 3) / 4);
    const { body } = await buildSecureContribution(round, x, `outage-${String(seq).padStart(6, '0')}-${crypto.randomUUID().slice(0, 8)}`);
    const res = await fetch(`${stack.baseUrl}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status === 202) accepted++;
    await res.body?.cancel();
  }
  return accepted;
}

async function closeNow(roundId: string): Promise<PublicRound> {
  const res = await fetch(`${stack.baseUrl}/v1/admin/rounds/${roundId}/close`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(202);
  return ((await res.json()) as { round: PublicRound }).round;
}

async function rounds(): Promise<Map<string, PublicRound>> {
  const { rounds: list } = (await (await fetch(`${stack.baseUrl}/v1/rounds`)).json()) as { rounds: PublicRound[] };
  return new Map(list.map((r) => [r.round_id, r]));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('helper down at close for longer than workerd retries an alarm', () => {
  it('keeps every due round retrying with a reason, then releases exactly the accepted contributions of each', { timeout: 420_000 }, async () => {
    const first = await openRound(stack.baseUrl, admin, { ...ROUND, duration_s: 60 });
    // Falls due while the helper is down, with no operator action.
    const second = await openRound(stack.baseUrl, admin, { ...ROUND, duration_s: 90 });
    const accepted = { first: await contribute(first, 20), second: await contribute(second, 20) };
    expect(accepted).toEqual({ first: 20, second: 20 });

    await stack.stopHelper();
    const downSince = Date.now();
    // Accepted while the helper is down: pending at the leader until the helper's verdict.
    accepted.first += await contribute(first, 5);
    accepted.second += await contribute(second, 5);
    expect(accepted.first).toBeGreaterThan(20);
    expect(accepted.second).toBeGreaterThan(20);
    expect((await closeNow(first.round_id)).state).toBe('open');

    while (Date.now() - downSince < OUTAGE_S * 1000) await sleep(5_000);
    const during = await rounds();
    for (const round of [first, second]) {
      const r = during.get(round.round_id);
      expect(Date.now() / 1000).toBeGreaterThan(round.closes_at);
      expect(r?.state).toBe('closing');
      expect(r?.reason ?? '').toMatch(/^retrying \((helper-unreachable|reports-pending)\): /);
    }
    // A closing round can always be pushed on: answered as today, 202 with the round.
    expect((await closeNow(first.round_id)).state).toBe('closing');

    await stack.startHelper();
    expect((await closeNow(first.round_id)).state).toBe('closing');
    const until = Date.now() + 150_000;
    let after = await rounds();
    const finished = (r: PublicRound | undefined): boolean => r?.state === 'released' || r?.state === 'abandoned';
    while (Date.now() < until && !(finished(after.get(first.round_id)) && finished(after.get(second.round_id)))) {
      await sleep(1_000);
      after = await rounds();
    }
    for (const [round, n] of [[first, accepted.first], [second, accepted.second]] as const) {
      const r = after.get(round.round_id);
      expect(r?.state, r?.reason ?? '').toBe('released');
      expect(r?.contributions).toBe(n);
      expect(r?.rejected).toBe(0);
    }
  });
});
