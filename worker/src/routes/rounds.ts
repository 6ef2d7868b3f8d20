import { publicRound, type RoundRecord } from '@edgeseg/aggregator';
import { isIntIn, isNumberIn, isObject, unknownKeys, type RoundDescriptor } from '@edgeseg/shared';
import { vectorLength } from '@edgeseg/shared/secure';
import { Hono } from 'hono';
import { requireRole } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { AppEnv, Env } from '../env.ts';
import { aggregatorHpke, helperHpkeConfig } from '../hpke-key.ts';
import { currentModel, manifestOf } from '../models.ts';
import { ProblemError } from '../problem.ts';
import { DEFAULT_ENCODING, planRound } from '../round-plan.ts';

/** The coordinator DO of this aggregator. */
export function coordinator(env: Env) {
  return env.ROUND_COORDINATOR.get(env.ROUND_COORDINATOR.idFromName('global'));
}

const ADMIN_ROUND_MAX_BYTES = 4 * 1024;

/**
 * Device and public round routes on the leader: `GET /v1/rounds/current`,
 * `GET /v1/rounds`, `GET /v1/privacy-ledger`, and the admin `POST /v1/admin/rounds`.
 */
export const roundRoutes: Hono<AppEnv> = new Hono<AppEnv>()
  .get('/v1/rounds/current', async (c) => {
    const round = await coordinator(c.env).current(Date.now() / 1000);
    if (!round) throw new ProblemError('no-open-round', 'no round is open; try again after the next model');
    c.header('cache-control', 'no-store');
    return c.json(round);
  })
  .get('/v1/rounds', async (c) => c.json({ rounds: await coordinator(c.env).list() }))
  .get('/v1/privacy-ledger', async (c) => {
    const releases = (await coordinator(c.env).list()).filter((r) => r.state === 'released');
    return c.json({
      releases: releases.map((r) => ({ round_id: r.round_id, kind: r.kind, released_at: r.closed_at, epsilon: r.epsilon, delta: r.delta, mechanism: r.mechanism, contributions: r.contributions })),
      note: 'Each device is in at most one bucket of a round (disjoint slices and groups), so a round costs each device its ε once; rounds compose across releases.',
    });
  })
  .post('/v1/admin/rounds', requireRole('admin'), async (c) => {
    const body = await readJsonBody(c.req.raw, ADMIN_ROUND_MAX_BYTES);
    if (!isObject(body)) throw new ProblemError('invalid-body', 'body: must be a JSON object');
    const errors = unknownKeys(body, ['duration_s', 'min_devices', 'epsilon', 'delta', 'groups', 'slices']).map((k) => `${k}: unknown field`);
    const { duration_s = 3600, min_devices = 100, epsilon = 1, delta = 1e-9, groups = 8, slices = 1 } = body as Record<string, unknown>;
    if (!isIntIn(duration_s, 10, 30 * 86_400)) errors.push('duration_s: must be an integer in [10, 2592000]');
    if (!isIntIn(min_devices, 2, 10_000_000)) errors.push('min_devices: must be an integer in [2, 10000000]');
    if (!isNumberIn(epsilon, 0.01, 20)) errors.push('epsilon: must be in [0.01, 20]');
    if (!isNumberIn(delta, 1e-15, 1e-3)) errors.push('delta: must be in [1e-15, 1e-3]');
    if (!isIntIn(groups, 1, 64)) errors.push('groups: must be an integer in [1, 64]');
    if (!isIntIn(slices, 1, 16)) errors.push('slices: must be an integer in [1, 16]');
    if (errors.length) throw new ProblemError('invalid-body', errors[0], errors);

    const model = await currentModel(c.env);
    const manifest = await manifestOf(c.env, model.version);
    if (!manifest) throw new ProblemError('misconfigured', 'no current model');
    const [leader, helper] = await Promise.all([aggregatorHpke(c.env), helperHpkeConfig(c.env)]);
    const record = planRound({
      manifest,
      nowS: Math.floor(Date.now() / 1000),
      durationS: duration_s as number,
      minDevices: min_devices as number,
      epsilon: epsilon as number,
      delta: delta as number,
      groups: groups as number,
      slices: slices as number,
      shards: Number(c.env.ROUND_SHARDS ?? '8'),
      encoding: DEFAULT_ENCODING,
      hpke: { leader: leader.config, helper },
    });
    // The helper opens its side first: a round the helper does not know could never release.
    const opened = await fetch(`${c.env.HELPER_URL}/internal/v1/rounds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${c.env.LEADER_TOKEN}` },
      body: JSON.stringify(record),
    });
    if (!opened.ok) throw new ProblemError('internal', `the helper refused to open the round (${opened.status})`);
    const stored: RoundRecord = await coordinator(c.env).open(record);
    return c.json({ round: stored.descriptor satisfies RoundDescriptor, vector_length: vectorLength('kmeans', manifest.k, manifest.features.length), public: publicRound(stored) }, 201);
  })
  .post('/v1/admin/rounds/:id/close', requireRole('admin'), async (c) => {
    const r = await coordinator(c.env).closeNow(c.req.param('id'));
    if (!r) throw new ProblemError('not-found', `no round ${c.req.param('id')}`);
    return c.json({ round: publicRound(r) }, 202);
  });
