import { idDigest, isRoundSealedError, shardOf, uint32ToBase64, type BatchSelector, type RoundRecord, type ShardItem } from '@edgeseg/aggregator';
import { isObject, type SealedShare } from '@edgeseg/shared';
import { CONTRIBUTION_INFO, contributionAad, expandSeed, openShare, roundDigest, SEED_BYTES, uint32ToBytesLE, vectorLength } from '@edgeseg/shared/secure';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { readJsonBody } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { shareOpeningKey } from '../hpke-key.ts';
import { ProblemError } from '../problem.ts';
import { coordinator } from './rounds.ts';

const INTERNAL_MAX_BYTES = 2 * 1024 * 1024;

/**
 * Compares two secrets in time that depends only on their length.
 *
 * @example
 * if (!timingSafeEqual(token, c.env.LEADER_TOKEN)) throw new ProblemError('unauthorized');
 */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Only the leader, holding LEADER_TOKEN, may call the helper's internal routes. */
const requireLeader = createMiddleware<AppEnv>(async (c, next) => {
  const token = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
  if (!c.env.LEADER_TOKEN || !token || !timingSafeEqual(token, c.env.LEADER_TOKEN)) throw new ProblemError('unauthorized', 'internal routes need the leader token');
  await next();
});

/**
 * The helper's API for the leader (DAP's aggregation and collection in spirit): open a
 * round, take relayed sealed seeds, and release this aggregator's noisy aggregate share.
 */
export const internalRoutes = new Hono<AppEnv>()
  .use('/internal/*', requireLeader)
  .post('/internal/v1/rounds', async (c) => {
    const record = (await readJsonBody(c.req.raw, 64 * 1024)) as RoundRecord;
    if (!isObject(record) || !isObject(record.descriptor) || typeof record.descriptor.round_id !== 'string') throw new ProblemError('invalid-body', 'expected a round record');
    const stored = await coordinator(c.env).open({ ...record, state: 'open', closed_at: null, contributions: null, reason: null, result: null });
    return c.json({ round_id: stored.descriptor.round_id }, 201);
  })
  .post('/internal/v1/shares', async (c) => {
    const body = await readJsonBody(c.req.raw, INTERNAL_MAX_BYTES);
    if (!isObject(body) || typeof body.round_id !== 'string' || !Array.isArray(body.items)) throw new ProblemError('invalid-body', 'expected { round_id, items }');
    const record = await coordinator(c.env).get(body.round_id);
    if (!record || record.state !== 'open') throw new ProblemError('round-not-open', `round ${String(body.round_id)} is not open here`);
    const round = record.descriptor;
    const length = vectorLength(round.kind, round.k, round.d);
    const digest = await roundDigest(round);
    const byShard = new Map<number, ShardItem[]>();
    const rejected: string[] = [];
    for (const raw of body.items as { id: string; slice: number; group: number; sealed: string }[]) {
      try {
        const sealed = JSON.parse(raw.sealed) as SealedShare;
        const privateKey = await shareOpeningKey(c.env, sealed.config_id, round.hpke.helper?.config_id ?? null);
        const seed = await openShare(privateKey, sealed, CONTRIBUTION_INFO, contributionAad({ round_id: round.round_id, id: raw.id, slice: raw.slice, group: raw.group }, 'helper', digest));
        if (seed.byteLength !== SEED_BYTES) throw new Error('seed length');
        const share = uint32ToBytesLE(await expandSeed(seed, length));
        const shard = shardOf(raw.id, record.shards);
        byShard.set(shard, [...(byShard.get(shard) ?? []), { id: raw.id, slice: raw.slice, group: raw.group, digest: await idDigest(raw.id), share, relay: null }]);
      } catch {
        rejected.push(String(raw.id)); // the leader drops these from its batch too
      }
    }
    let accepted = 0;
    let duplicates = 0;
    for (const [i, items] of byShard) {
      let r: { accepted: number; duplicates: number };
      try {
        r = await c.env.ROUND_SHARD.get(c.env.ROUND_SHARD.idFromName(`${round.round_id}:${i}`)).add(round.round_id, length, items);
      } catch (err) {
        if (isRoundSealedError(err)) throw new ProblemError('round-not-open', err.message);
        throw err;
      }
      accepted += r.accepted;
      duplicates += r.duplicates;
    }
    return c.json({ accepted, duplicates, rejected });
  })
  .post('/internal/v1/rounds/:id/aggregate', async (c) => {
    const body = await readJsonBody(c.req.raw, INTERNAL_MAX_BYTES);
    if (!isObject(body) || !isObject(body.selector)) throw new ProblemError('invalid-body', 'expected { selector }');
    const release = await coordinator(c.env).release(c.req.param('id'), body.selector as BatchSelector);
    if (!release.ok) return c.json(release, 409);
    return c.json({ ok: true, shares: Object.fromEntries(Object.entries(release.shares).map(([k, v]) => [k, uint32ToBase64(v)])) });
  });
