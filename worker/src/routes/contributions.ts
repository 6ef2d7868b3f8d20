import { idDigest, isRoundSealedError, shardOf, type RoundRecord } from '@edgeseg/aggregator';
import { isObject } from '@edgeseg/shared';
import { CONTRIBUTION_INFO, contributionAad, openShare, parseLocalContribution, parseSecureContribution, roundDigest, uint32ToBytesLE, vectorLength } from '@edgeseg/shared/secure';
import { Hono } from 'hono';
import { readJsonBody } from '../body.ts';
import type { AppEnv, Env } from '../env.ts';
import { checkHelperConfigId, shareOpeningKey } from '../hpke-key.ts';
import { ProblemError } from '../problem.ts';
import { coordinator } from './rounds.ts';

/** A secure contribution is two small ciphertexts; 16 KB leaves room for k·(d+3) ≤ 3,000 entries. */
export const CONTRIBUTION_MAX_BYTES = 16 * 1024;

/**
 * `POST /v1/contributions` on the leader: opens the leader's share (refusing what does
 * not decrypt under the round's configuration digest), and hands it with the still-sealed helper share to the round's shard.
 * The Worker opens the HPKE ciphertext, not the DO, so that cost spreads over isolates.
 */
export const contributionRoutes = new Hono<AppEnv>().post('/v1/contributions', async (c) => {
  const raw = await readJsonBody(c.req.raw, CONTRIBUTION_MAX_BYTES);
  // A body with `noised` is a local-mode contribution; anything else must be a secure one.
  if (isObject(raw) && 'noised' in raw) return addLocal(c.env, raw);
  const parsed = parseSecureContribution(raw);
  if (!parsed.ok) throw new ProblemError('invalid-body', parsed.errors[0], parsed.errors);
  const body = parsed.value;
  const record = (await coordinator(c.env).get(body.round_id)) as RoundRecord | null;
  if (!record) throw new ProblemError('round-not-open', `no round ${body.round_id}`);
  const round = record.descriptor;
  checkOpen(record, body);
  if (round.mode !== 'secure') throw new ProblemError('invalid-body', `round ${round.round_id} is a local-mode round: send { round_id, id, slice, group, noised }`);

  const length = vectorLength(round.kind, round.k, round.d);
  // Each share names its key: the current one, or a retired key this round names (key rotation).
  const privateKey = await shareOpeningKey(c.env, body.leader.config_id, round.hpke.leader.config_id);
  await checkHelperConfigId(c.env, body.helper.config_id, round.hpke.helper?.config_id ?? null);
  let share: Uint8Array;
  try {
    // Sealed to the digest of the descriptor devices were shown: the one this leader stores.
    share = await openShare(privateKey, body.leader, CONTRIBUTION_INFO, contributionAad(body, 'leader', await roundDigest(round)));
  } catch {
    throw new ProblemError('undecryptable', "the leader share does not open with this round's configuration, id, slice and group");
  }
  if (share.byteLength !== length * 4) throw new ProblemError('invalid-body', `leader share: expected ${length * 4} bytes, got ${share.byteLength}`);

  return store(c.env, record, body, share, JSON.stringify(body.helper));
});

/** Refuses a contribution to a round that is not open, or to a slice or group it does not have. */
function checkOpen(record: RoundRecord, body: { slice: number; group: number }): void {
  const round = record.descriptor;
  if (record.state !== 'open' || round.closes_at <= Date.now() / 1000) throw new ProblemError('round-not-open', `round ${round.round_id} is ${record.state === 'open' ? 'past its close time' : record.state}`);
  if (body.slice >= round.slices.length) throw new ProblemError('invalid-body', `slice: round has slices 0..${round.slices.length - 1}`);
  if (body.group >= round.groups) throw new ProblemError('invalid-body', `group: round has groups 0..${round.groups - 1}`);
}

/**
 * Local mode (one operator): the device already added its noise, so the vector is
 * summed as it is. Each entry must be a 32-bit integer; the noise makes a range check
 * on the clean vector impossible, which the robust combiner (median of group means) covers.
 */
async function addLocal(env: Env, raw: Record<string, unknown>): Promise<Response> {
  const record = typeof raw.round_id === 'string' ? ((await coordinator(env).get(raw.round_id)) as RoundRecord | null) : null;
  if (!record) throw new ProblemError('round-not-open', `no round ${String(raw.round_id)}`);
  const round = record.descriptor;
  const parsed = parseLocalContribution(raw, vectorLength(round.kind, round.k, round.d));
  if (!parsed.ok) throw new ProblemError('invalid-body', parsed.errors[0], parsed.errors);
  const body = parsed.value;
  checkOpen(record, body);
  if (round.mode !== 'local') throw new ProblemError('invalid-body', `round ${round.round_id} is a secure round: a plain vector is never accepted there`);
  return store(env, record, body, uint32ToBytesLE(Int32Array.from(body.noised)), null);
}

/** Hands one contribution to its shard; a replayed id or a round closed meanwhile is refused, never lost. */
async function store(env: Env, record: RoundRecord, body: { id: string; slice: number; group: number }, share: Uint8Array, relay: string | null): Promise<Response> {
  const round = record.descriptor;
  const length = vectorLength(round.kind, round.k, round.d);
  const shard = env.ROUND_SHARD.get(env.ROUND_SHARD.idFromName(`${round.round_id}:${shardOf(body.id, record.shards)}`));
  let result: { accepted: number; duplicates: number };
  try {
    result = await shard.add(round.round_id, length, [{ id: body.id, slice: body.slice, group: body.group, digest: await idDigest(body.id), share, relay }]);
  } catch (err) {
    // The round closed between the check above and this write: refused, not lost.
    if (isRoundSealedError(err)) throw new ProblemError('round-not-open', err.message);
    throw err;
  }
  if (result.accepted === 0) throw new ProblemError('replayed', `contribution ${body.id} was already accepted`);
  return new Response(JSON.stringify({ accepted: 1 }), { status: 202, headers: { 'content-type': 'application/json' } });
}
