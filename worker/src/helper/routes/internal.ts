/**
 * The helper's API for the leader (DAP's aggregation and collection in spirit): open a
 * round the helper reviews against its own policy, take relayed sealed seeds it opens
 * with the digest of the configuration it accepted, and release its noisy aggregate
 * share once, on its own state. Every refusal is problem+json and changes nothing.
 */
import { idDigest, shardOf, isRoundSealedError, type BatchSelector, type HelperRound, type ShardItem } from '@edgeseg/aggregator';
import { isIntIn, isObject, unknownKeys, type SealedShare } from '@edgeseg/shared';
import {
  CONTRIBUTION_ID_PATTERN,
  CONTRIBUTION_INFO,
  base64urlToBytes,
  contributionAad,
  expandSeed,
  isBase64url,
  openShare,
  parseRoundDescriptor,
  SEED_BYTES,
  uint32ToBytesLE,
  vectorLength,
} from '@edgeseg/shared/secure';
import { Hono } from 'hono';
import { readJsonBody } from '../../body.ts';
import { shareOpeningKey } from '../../hpke-key.ts';
import { ProblemError, ProblemWithMembers } from '../../problem.ts';
import { requireLeader } from '../bearer.ts';
import { helperCoordinator, type HelperAppEnv, type HelperEnv } from '../env.ts';
import { helperPublishedConfigs } from '../hpke.ts';

const OPEN_MAX_BYTES = 64 * 1024;
const SHARES_MAX_BYTES = 2 * 1024 * 1024;
const AGGREGATE_MAX_BYTES = 256 * 1024;
const CHECKSUM_HEX = /^[0-9a-f]{64}$/;

function nowS(): number {
  return Math.floor(Date.now() / 1000);
}

/** One relayed item, checked: anything else is rejected on its own, never a 500. */
interface RelayedItem {
  id: string;
  slice: number;
  group: number;
  sealed: SealedShare;
}

/** The item as relayed, or null when any part of it is malformed. */
function relayedItem(raw: unknown, round: HelperRound): RelayedItem | null {
  if (!isObject(raw)) return null;
  const { id, slice, group, sealed } = raw;
  if (typeof id !== 'string' || !CONTRIBUTION_ID_PATTERN.test(id)) return null;
  if (!isIntIn(slice, 0, round.descriptor.slices.length - 1) || !isIntIn(group, 0, round.descriptor.groups - 1)) return null;
  if (typeof sealed !== 'string' || sealed.length > 4096) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(sealed);
  } catch {
    return null;
  }
  if (!isObject(parsed) || !isIntIn(parsed.config_id, 0, 255) || !isBase64url(parsed.enc) || !isBase64url(parsed.ct)) return null;
  return { id, slice, group, sealed: { config_id: parsed.config_id, enc: parsed.enc, ct: parsed.ct } };
}

/** Opens one helper seed with the digest of the accepted configuration and expands it to the helper's share. */
async function openItem(env: HelperEnv, round: HelperRound, item: RelayedItem, digest: Uint8Array, length: number): Promise<ShardItem> {
  const d = round.descriptor;
  const privateKey = await shareOpeningKey(env, item.sealed.config_id, d.hpke.helper?.config_id ?? null);
  const aad = contributionAad({ round_id: d.round_id, id: item.id, slice: item.slice, group: item.group }, 'helper', digest);
  const seed = await openShare(privateKey, item.sealed, CONTRIBUTION_INFO, aad);
  if (seed.byteLength !== SEED_BYTES) throw new Error('seed length');
  return { id: item.id, slice: item.slice, group: item.group, digest: await idDigest(item.id), share: uint32ToBytesLE(await expandSeed(seed, length)) };
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
    if (!isObject(body)) throw new ProblemError('invalid-body', 'expected { descriptor, sigma2 }');
    const unknown = unknownKeys(body, ['descriptor', 'sigma2']).map((k) => `${k}: unknown field`);
    if (unknown.length) throw new ProblemError('invalid-body', unknown[0], unknown);
    const parsed = parseRoundDescriptor(body.descriptor);
    if (!parsed.ok) throw new ProblemError('invalid-body', `descriptor.${parsed.errors[0] ?? ''}`, parsed.errors.map((e) => `descriptor.${e}`));
    if (typeof body.sigma2 !== 'string') throw new ProblemError('invalid-body', 'sigma2: must be the leader’s σ² as "num/den"');
    const result = await helperCoordinator(c.env).open(parsed.value, body.sigma2, await helperPublishedConfigs(c.env), nowS());
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
    const length = vectorLength(d.kind, d.k, d.d);
    const digest = base64urlToBytes(round.digest);
    const byShard = new Map<number, ShardItem[]>();
    const rejected: string[] = [];
    for (const [i, raw] of (body.items as unknown[]).entries()) {
      const item = relayedItem(raw, round);
      try {
        if (!item) throw new Error('malformed');
        const opened = await openItem(c.env, round, item, digest, length);
        const shard = shardOf(item.id, round.shards);
        byShard.set(shard, [...(byShard.get(shard) ?? []), opened]);
      } catch {
        // Sealed to another configuration, another key, or malformed: the leader drops these from its batch too.
        rejected.push(isObject(raw) && typeof raw.id === 'string' ? raw.id : `items[${i}]`);
      }
    }
    let accepted = 0;
    let duplicates = 0;
    for (const [i, items] of byShard) {
      try {
        const r = await c.env.HELPER_SHARD.get(c.env.HELPER_SHARD.idFromName(`${d.round_id}:${i}`)).add(d.round_id, length, items);
        accepted += r.accepted;
        duplicates += r.duplicates;
      } catch (err) {
        if (isRoundSealedError(err)) throw new ProblemError('round-not-open', err.message);
        throw err;
      }
    }
    return c.json({ accepted, duplicates, rejected });
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
