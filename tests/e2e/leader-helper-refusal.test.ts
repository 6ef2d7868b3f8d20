/**
 * The leader opens a secure round only once the helper has accepted it, against the
 * helper's real default policy (`startStack(…, { helper: {} })`): a round the helper
 * refuses leaves nothing on the leader, whether an admin asked for it (the admin gets the
 * helper's 422 and its `rule`) or the leader planned it itself (the week's counts round:
 * devices hear "no open round").
 */
import type { PublicRound } from '@edgeseg/aggregator';
import type { RoundDescriptor } from '@edgeseg/shared';
import { bytesToBase64url, newVerifyKey } from '@edgeseg/shared/secure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { startStack, type RunningStack } from '../support/stack.ts';

const PROBLEM = 'https://edgeseg.dev/problems/';

let stack: RunningStack;
let admin: string;

beforeAll(async () => {
  // MIN_BATCH 5: the leader's own counts rounds ask less than the helper's default of 100.
  stack = await startStack({ MEASUREMENT: 'secure', MIN_BATCH: '5' }, { helper: {} });
  admin = await mintToken(stack.authJwk, { role: 'admin' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function rounds(): Promise<PublicRound[]> {
  return ((await (await fetch(`${stack.baseUrl}/v1/rounds`)).json()) as { rounds: PublicRound[] }).rounds;
}

function openAsAdmin(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${stack.baseUrl}/v1/admin/rounds`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('rounds the helper refuses are not opened by the leader', () => {
  it('the week’s counts round under the helper’s policy: devices hear no-open-round with the helper’s reason, and no round is listed', async () => {
    // The model does ask devices to count securely: the helper's refusal is the only reason there is no round.
    const jws = await (await fetch(`${stack.baseUrl}/v1/model`)).text();
    const manifest = JSON.parse(Buffer.from(jws.split('.')[1] as string, 'base64url').toString()) as { measurement?: string };
    expect(manifest.measurement).toBe('secure');
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${stack.baseUrl}/v1/rounds/current?kind=counts`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
      const problem = (await res.json()) as { type: string; detail: string };
      expect(problem.type).toBe(`${PROBLEM}no-open-round`);
      expect(problem.detail).toMatch(/was not opened: the helper refused: /);
    }
    expect(await rounds()).toEqual([]);
  });

  it('an admin round over the helper’s ε: 422 with the helper’s rule and detail, nothing stored', async () => {
    const policy = (await (await fetch(`${stack.helperUrl}/v1/policy`)).json()) as { max_epsilon: number; min_batch: number };
    const res = await openAsAdmin({ duration_s: 600, min_batch: policy.min_batch, epsilon: policy.max_epsilon * 2, groups: 1 });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
    const problem = (await res.json()) as { type: string; rule: string; detail: string };
    expect(problem.type).toBe(`${PROBLEM}round-refused`);
    expect(problem.rule).toBe('max-epsilon');
    expect(problem.detail).toMatch(/^the helper refused: /);
    expect(await rounds()).toEqual([]);
    expect((await fetch(`${stack.baseUrl}/v1/rounds/current`)).status).toBe(404);
  });

  it('an admin round inside the helper’s policy opens on both sides and records the helper’s σ² beside the leader’s', async () => {
    const policy = (await (await fetch(`${stack.helperUrl}/v1/policy`)).json()) as { max_epsilon: number; min_batch: number };
    const res = await openAsAdmin({ duration_s: 600, min_batch: policy.min_batch, epsilon: policy.max_epsilon, groups: 1 });
    expect(res.status, await res.clone().text()).toBe(201);
    const { round } = (await res.json()) as { round: RoundDescriptor };
    expect(round.min_batch).toBe(policy.min_batch);
    expect(round.opens_at).toBeLessThan(round.closes_at);
    expect(await (await fetch(`${stack.baseUrl}/v1/rounds/current`)).json()).toEqual(round);
    const [listed] = await rounds();
    expect(listed).toMatchObject({ round_id: round.round_id, state: 'open', min_batch: policy.min_batch, buckets: null });
    // The helper holds the same round: the same descriptor again is the same acceptance
    // (with a verify key of its own here: the test cannot read the leader's, and a round
    // that holds no report yet takes a new one).
    const again = await fetch(`${stack.helperUrl}/internal/v1/rounds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.leaderToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ descriptor: round, sigma2: listed?.sigma2, verify_key: bytesToBase64url(newVerifyKey()) }),
    });
    expect(again.status, await again.clone().text()).toBe(201);
    expect(((await again.json()) as { round_id: string }).round_id).toBe(round.round_id);
  });
});
