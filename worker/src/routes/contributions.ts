import { ingestSecureReport, isRoundSealedError, localShardItem, shardOf, type LeaderShardItem, type RoundRecord } from '@edgeseg/aggregator';
import { isObject } from '@edgeseg/shared';
import { MAX_CONTRIBUTION_BODY_BYTES, parseLocalContribution, parseSecureContribution, vectorLength } from '@edgeseg/shared/secure';
import { Hono } from 'hono';
import { readJsonBody } from '../body.ts';
import type { AppEnv, Env } from '../env.ts';
import { checkHelperConfigId, shareOpeningKey } from '../hpke-key.ts';
import { ProblemError } from '../problem.ts';
import { roundRecordCache, type RoundRecordCache } from './round-record-cache.ts';
import { coordinator } from '../coordinator.ts';

/** A secure report's leader input share carries the measurement and proof shares: up to 160 KB for the largest round shape. */
export const CONTRIBUTION_MAX_BYTES = MAX_CONTRIBUTION_BODY_BYTES;

/**
 * `POST /v1/contributions` on the leader (a DAP upload): opens the leader's input share
 * (refusing what does not decrypt under the round's configuration digest), prepares it
 * with the round's verify key, and hands it to the round's shard as a pending report,
 * with the still-sealed helper share for the preparation exchange. 202 means "stored for
 * verification": the report is summed only once the helper says its proof holds.
 * The Worker opens and prepares, not the DO, so that cost spreads over isolates.
 */
export const contributionRoutes = new Hono<AppEnv>().post('/v1/contributions', async (c) => {
  const raw = await readJsonBody(c.req.raw, CONTRIBUTION_MAX_BYTES);
  // A body with `noised` is a local-mode contribution; anything else must be a secure one.
  if (isObject(raw) && 'noised' in raw) return addLocal(c.env, raw);
  const parsed = parseSecureContribution(raw);
  if (!parsed.ok) throw new ProblemError('invalid-body', parsed.errors[0], parsed.errors);
  const record = await roundRecords(c.env).get(parsed.value.round_id);
  if (!record) throw new ProblemError('round-not-open', `no round ${parsed.value.round_id}`);
  const round = record.descriptor;
  checkOpen(record, parsed.value);
  if (round.mode !== 'secure') throw new ProblemError('invalid-body', `round ${round.round_id} is a local-mode round: send { round_id, id, slice, noised }`);
  // Again with the round: every length must be exactly its VDAF's.
  const exact = parseSecureContribution(raw, round);
  if (!exact.ok) throw new ProblemError('invalid-body', exact.errors[0], exact.errors);
  const body = exact.value;

  // Each share names its key: the current one, or a retired key this round names (key rotation).
  const privateKey = await shareOpeningKey(c.env, body.leader.config_id, round.hpke.leader.config_id);
  await checkHelperConfigId(c.env, body.helper.config_id, round.hpke.helper?.config_id ?? null);
  const ingested = await ingestSecureReport(record, body, privateKey);
  if (!ingested.ok) throw new ProblemError(ingested.problem, ingested.detail);
  return store(c.env, record, ingested.item);
});

/** Per coordinator binding (one per isolate in production), like the other per-isolate caches. */
const recordCaches = new WeakMap<object, RoundRecordCache<RoundRecord>>();

/** The coordinator's round records, reused for a moment (round-record-cache.ts says why that refuses nothing late). */
function roundRecords(env: Env): RoundRecordCache<RoundRecord> {
  let cache = recordCaches.get(env.ROUND_COORDINATOR);
  if (!cache) {
    cache = roundRecordCache(async (roundId) => (await coordinator(env).get(roundId)) as RoundRecord | null);
    recordCaches.set(env.ROUND_COORDINATOR, cache);
  }
  return cache;
}

/** Refuses a contribution to a round that is not open, or to a slice it does not have. */
function checkOpen(record: RoundRecord, body: { slice: number }): void {
  const round = record.descriptor;
  if (record.state !== 'open' || round.closes_at <= Date.now() / 1000) throw new ProblemError('round-not-open', `round ${round.round_id} is ${record.state === 'open' ? 'past its close time' : record.state}`);
  if (body.slice >= round.slices.length) throw new ProblemError('invalid-body', `slice: round has slices 0..${round.slices.length - 1}`);
}

/**
 * Local mode (one operator): the device already added its noise, so the vector is
 * summed as it is. Each entry must be a 32-bit integer; the noise makes a range check
 * on the clean vector impossible, which the robust combiner (median of group means) covers.
 */
async function addLocal(env: Env, raw: Record<string, unknown>): Promise<Response> {
  const record = typeof raw.round_id === 'string' ? await roundRecords(env).get(raw.round_id) : null;
  if (!record) throw new ProblemError('round-not-open', `no round ${String(raw.round_id)}`);
  const round = record.descriptor;
  const parsed = parseLocalContribution(raw, vectorLength(round.kind, round.k, round.d));
  if (!parsed.ok) throw new ProblemError('invalid-body', parsed.errors[0], parsed.errors);
  checkOpen(record, parsed.value);
  if (round.mode !== 'local') throw new ProblemError('invalid-body', `round ${round.round_id} is a secure round: a plain vector is never accepted there`);
  return store(env, record, await localShardItem(record, parsed.value));
}

/** Hands one report to its shard; a replayed id or a round closed meanwhile is refused, never lost. */
async function store(env: Env, record: RoundRecord, item: LeaderShardItem): Promise<Response> {
  const round = record.descriptor;
  const length = vectorLength(round.kind, round.k, round.d);
  const shard = env.ROUND_SHARD.get(env.ROUND_SHARD.idFromName(`${round.round_id}:${shardOf(item.id, record.shards)}`));
  let result: { accepted: number; duplicates: number };
  try {
    result = await shard.add(round.round_id, length, [item]);
  } catch (err) {
    // The round closed between the check above (or the record kept from a moment ago) and this write: refused, not lost.
    if (isRoundSealedError(err)) {
      roundRecords(env).forget(round.round_id);
      throw new ProblemError('round-not-open', err.message);
    }
    throw err;
  }
  if (result.accepted === 0) throw new ProblemError('replayed', `contribution ${item.id} was already accepted`);
  return new Response(JSON.stringify({ accepted: 1 }), { status: 202, headers: { 'content-type': 'application/json' } });
}
