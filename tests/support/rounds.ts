/**
 * Driving rounds as an operator would, for tests and benchmarks against a running
 * stack: open one, close it now, and wait for the leader's alarm to release or abandon it.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import type { RoundDescriptor } from '@edgeseg/shared';

/**
 * Opens a round with an admin token; throws on anything but 201.
 *
 * @example
 * const round = await openRound(stack.baseUrl, admin, { duration_s: 600, min_batch: 100 });
 */
export async function openRound(baseUrl: string, admin: string, opts: Record<string, unknown>): Promise<RoundDescriptor> {
  const res = await fetch(`${baseUrl}/v1/admin/rounds`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(opts) });
  if (res.status !== 201) throw new Error(`POST /v1/admin/rounds answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { round: RoundDescriptor }).round;
}

/**
 * Closes a round now and polls `GET /v1/rounds` until it is released or abandoned. A
 * secure round stops taking contributions at once but is released only once the helper's
 * clock passes the close time it accepted: open such rounds short, or raise `limitMs`.
 *
 * @example
 * const closed = await closeRoundAndWait(stack.baseUrl, admin, round.round_id);
 */
export async function closeRoundAndWait(baseUrl: string, admin: string, roundId: string, opts: { pollMs?: number; limitMs?: number } = {}): Promise<PublicRound> {
  const res = await fetch(`${baseUrl}/v1/admin/rounds/${roundId}/close`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
  if (res.status !== 202) throw new Error(`close ${roundId} answered ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
  const until = Date.now() + (opts.limitMs ?? 120_000);
  while (Date.now() < until) {
    const { rounds } = (await (await fetch(`${baseUrl}/v1/rounds`)).json()) as { rounds: PublicRound[] };
    const r = rounds.find((x) => x.round_id === roundId);
    if (r && (r.state === 'released' || r.state === 'abandoned')) return r;
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 250));
  }
  throw new Error(`round ${roundId} did not close within ${(opts.limitMs ?? 120_000) / 1000} s`);
}
