/**
 * The helper's API for the leader (DAP's aggregation and collection in spirit): open a
 * round the helper reviews against its own policy (keeping the round's verify key),
 * take part in the preparation exchange (open its input share with the digest of the
 * configuration it accepted, prepare it, and verify each report's proof with the
 * leader's preparation share: only verified reports are summed), and release its noisy
 * aggregate share once, on its own state. Every refusal is problem+json and changes nothing.
 */
import { decideRelayedReport, isRoundSealedError, shardOf, type BatchSelector, type ShardItem } from '@edgeseg/aggregator';
import { isIntIn, isObject, unknownKeys } from '@edgeseg/shared';
import { base64urlLength, base64urlToBytes, isBase64url, parseRoundDescriptor, VERIFY_KEY_BYTES, vectorLength } from '@edgeseg/shared/secure';
import { Hono } from 'hono';
import { readJsonBody } from '../../body.ts';
import { shareOpeningKey } from '../../hpke-key.ts';
import { ProblemError, ProblemWithMembers } from '../../problem.ts';
import { requireLeader } from '../bearer.ts';
import { helperCoordinator, type HelperAppEnv } from '../env.ts';
import { helperPublishedConfigs } from '../hpke.ts';

const OPEN_MAX_BYTES = 64 * 1024;
/** A batch of RELAY_BATCH reports, each with the leader's preparation share (a few KB for the largest shapes). */
const SHARES_MAX_BYTES = 8 * 1024 * 1024;
const AGGREGATE_MAX_BYTES = 256 * 1024;
const CHECKSUM_HEX = /^[0-9a-f]{64}$/;

function nowS(): number {
  return Math.floor(Date.now() / 1000);
}

/** A selector as the leader sent it, checked bucket by bucket. */
function parseSelector(v: unknown): BatchSelector {
  if (!isObject(v)) throw new ProblemError('invalid-body', 'selector: must be an object of bucket → { count, checksum }');
  const errors: string[] = [];
  for (const [key, b] of Object.entries(v)) {
    if (!/^\d{1,4}:\d{1,4}$/.test(key)) errors.push(`selector.${key}: not a bucket key (slice:group)`);
    else if (!isObject(b) || !isIntIn(b.count, 0, Number.MAX_SAFE_INTEGER) || typeof b.checksum !== 'string' || !CHECKSUM_HEX.test(b.checksum) || unknownKeys(b, ['count', 'checksum']).length) {
      errors.push(`selector.${key}: must be { count: integer ≥ 0, checksum: 64 hex digits }`);
    }
  }
  if (errors.length) throw new ProblemError('invalid-body', errors[0], errors);
  return v as BatchSelector;
}

/** The leader's calls to the helper (Bearer LEADER_TOKEN). */
export const internalRoutes = new Hono<HelperAppEnv>()
  .use('/internal/*', requireLeader)
  .post('/internal/v1/rounds', async (c) => {
    const body = await readJsonBody(c.req.raw, OPEN_MAX_BYTES);
    if (!isObject(body)) throw new ProblemError('invalid-body', 'expected { descriptor, sigma2, verify_key }');
    const unknown = unknownKeys(body, ['descriptor', 'sigma2', 'verify_key']).map((k) => `${k}: unknown field`);
    if (unknown.length) throw new ProblemError('invalid-body', unknown[0], unknown);
    const parsed = parseRoundDescriptor(body.descriptor);
    if (!parsed.ok) throw new ProblemError('invalid-body', `descriptor.${parsed.errors[0] ?? ''}`, parsed.errors.map((e) => `descriptor.${e}`));
    if (typeof body.sigma2 !== 'string') throw new ProblemError('invalid-body', 'sigma2: must be the leader’s σ² as "num/den"');
    if (!isBase64url(body.verify_key) || body.verify_key.length !== base64urlLength(VERIFY_KEY_BYTES)) {
      throw new ProblemError('invalid-body', `verify_key: must be the round's Prio3 verify key, ${VERIFY_KEY_BYTES} bytes of base64url`);
    }
    const result = await helperCoordinator(c.env).open(parsed.value, body.sigma2, body.verify_key, await helperPublishedConfigs(c.env), nowS());
    if (result.ok) return c.json({ round_id: result.round_id, digest: result.digest, sigma2: result.sigma2 }, 201);
    if (result.conflict) throw new ProblemError('round-conflict', result.detail);
    throw new ProblemWithMembers('round-refused', result.detail, undefined, { rule: result.rule });
  })
  .post('/internal/v1/shares', async (c) => {
    const body = await readJsonBody(c.req.raw, SHARES_MAX_BYTES);
    if (!isObject(body) || typeof body.round_id !== 'string' || !Array.isArray(body.items)) throw new ProblemError('invalid-body', 'expected { round_id, items }');
    const round = await helperCoordinator(c.env).roundFor(body.round_id);
    if (!round || round.state !== 'open') throw new ProblemError('round-not-open', `round ${body.round_id} is not open on the helper`);
    const d = round.descriptor;
    const ctx = {
      descriptor: d,
      digest: base64urlToBytes(round.digest),
      verifyKey: base64urlToBytes(round.verify_key),
      openingKey: (configId: number) => shareOpeningKey(c.env, configId, d.hpke.helper?.config_id ?? null),
    };
    const byShard = new Map<number, ShardItem[]>();
    const verified: string[] = [];
    const rejected: string[] = [];
    // Each item decided on its own: a malformed, forged or undecryptable one is rejected, never a 500.
    for (const [i, raw] of (body.items as unknown[]).entries()) {
      const decision = await decideRelayedReport(raw, i, ctx);
      if (!decision.verified) {
        rejected.push(decision.id);
        continue;
      }
      verified.push(decision.id);
      const shard = shardOf(decision.item.id, round.shards);
      byShard.set(shard, [...(byShard.get(shard) ?? []), decision.item]);
    }
    const length = vectorLength(d.kind, d.k, d.d);
    for (const [i, items] of byShard) {
      try {
        // An id already stored is ignored by the shard and still answered verified (the leader's retry).
        await c.env.HELPER_SHARD.get(c.env.HELPER_SHARD.idFromName(`${d.round_id}:${i}`)).add(d.round_id, length, items);
      } catch (err) {
        if (isRoundSealedError(err)) throw new ProblemError('round-not-open', err.message);
        throw err;
      }
    }
    return c.json({ verified, rejected });
  })
  .post('/internal/v1/rounds/:id/aggregate', async (c) => {
    const body = await readJsonBody(c.req.raw, AGGREGATE_MAX_BYTES);
    if (!isObject(body)) throw new ProblemError('invalid-body', 'expected { selector }');
    const unknown = unknownKeys(body, ['selector']).map((k) => `${k}: unknown field`);
    if (unknown.length) throw new ProblemError('invalid-body', unknown[0], unknown);
    const selector = parseSelector(body.selector);
    const result = await helperCoordinator(c.env).release(c.req.param('id'), selector, nowS());
    if (result.ok) return c.json({ shares: result.shares, counts: result.counts, withheld: result.withheld, sigma2: result.sigma2 });
    if (result.rule === 'unknown-round') throw new ProblemWithMembers('not-found', result.detail, undefined, { rule: result.rule });
    throw new ProblemWithMembers('release-refused', result.detail, undefined, { rule: result.rule });
  });
