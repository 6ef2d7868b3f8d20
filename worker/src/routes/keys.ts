import { isObject, unknownKeys } from '@edgeseg/shared';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { decodeProtectedHeader } from 'jose';
import { requireRole } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { AppEnv } from '../env.ts';
import { publishedHpkeConfigs, rotateHpkeKey } from '../hpke-key.ts';
import { publishedJwks, rotateModelSigningKey } from '../keys.ts';
import { currentModel, manifestOf, publishModel } from '../models.ts';
import { ProblemError } from '../problem.ts';
import { timingSafeEqual } from './internal.ts';

const ROTATE_MAX_BYTES = 1024;

/**
 * The optional JSON body of a rotation: none at all, or an object with only `allowed`
 * keys. Checked before anything rotates, so a refused request changes nothing.
 */
async function rotationBody(request: Request, allowed: readonly string[]): Promise<Record<string, unknown>> {
  if (request.body === null || request.headers.get('content-length') === '0') return {};
  const body = await readJsonBody(request, ROTATE_MAX_BYTES);
  if (!isObject(body)) throw new ProblemError('invalid-body', 'body: must be a JSON object (or no body)');
  const unknown = unknownKeys(body, [...allowed]).map((k) => `${k}: unknown field`);
  if (unknown.length) throw new ProblemError('invalid-body', unknown[0], unknown);
  return body;
}

/**
 * Leader admin routes (role `admin`): `POST /v1/admin/keys/signing/rotate` makes a new
 * ES256 model-signing key current (body `{ "republish": true }` also re-signs the
 * current model as the next version at once; otherwise the next model is the first
 * signed with it), and `POST /v1/admin/keys/hpke/rotate` makes a new leader HPKE key
 * current and publishes the next model pinning it.
 */
export const keyRoutes = new Hono<AppEnv>()
  .post('/v1/admin/keys/signing/rotate', requireRole('admin'), async (c) => {
    const { republish = false } = await rotationBody(c.req.raw, ['republish']);
    if (typeof republish !== 'boolean') throw new ProblemError('invalid-body', 'republish: must be a boolean');
    const { kid } = await rotateModelSigningKey(c.env);
    let model = await currentModel(c.env);
    if (republish && decodeProtectedHeader(model.jws).kid !== kid) {
      const manifest = await manifestOf(c.env, model.version);
      if (!manifest) throw new ProblemError('internal', `model v${model.version} does not parse: nothing to re-sign`);
      model = await publishModel(c.env, { ...manifest, version: model.version + 1, issued_at: Math.floor(Date.now() / 1000) });
    }
    const jwks = await publishedJwks(c.env);
    return c.json({ kid, jwks: jwks.keys.map((k) => k.kid), model_version: model.version, model_kid: decodeProtectedHeader(model.jws).kid ?? null }, 201);
  })
  .post('/v1/admin/keys/hpke/rotate', requireRole('admin'), async (c) => {
    await rotationBody(c.req.raw, []);
    const config = await rotateHpkeKey(c.env);
    // Pin the new key in the next model now rather than at the next device's fetch (if
    // the helper is unreachable the model stays as it is until it answers again).
    const model = await currentModel(c.env);
    return c.json({ config, published: await publishedHpkeConfigs(c.env), model_version: model.version }, 201);
  });

/**
 * The helper's own operator, holding HELPER_ADMIN_TOKEN, may rotate the helper's key;
 * the leader's token (a credential of the other operator) and anything else may not.
 */
const requireHelperAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.HELPER_ADMIN_TOKEN;
  if (!expected || expected === c.env.LEADER_TOKEN) throw new ProblemError('misconfigured', 'HELPER_ADMIN_TOKEN is not set (or equals LEADER_TOKEN): `wrangler secret put HELPER_ADMIN_TOKEN` on the helper');
  const token = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
  if (!token) throw new ProblemError('unauthorized', 'send Authorization: Bearer <HELPER_ADMIN_TOKEN>');
  if (c.env.LEADER_TOKEN && timingSafeEqual(token, c.env.LEADER_TOKEN)) throw new ProblemError('forbidden', 'the leader’s token does not rotate the helper’s keys');
  if (!timingSafeEqual(token, expected)) throw new ProblemError('unauthorized', 'not the helper’s admin token');
  await next();
});

/**
 * Helper: `POST /v1/admin/keys/hpke/rotate` (HELPER_ADMIN_TOKEN) makes a new helper
 * HPKE key current; the leader learns it from `/.well-known/hpke-configs` within 5
 * minutes and pins it in its next model.
 */
export const helperKeyRoutes = new Hono<AppEnv>().post('/v1/admin/keys/hpke/rotate', requireHelperAdmin, async (c) => {
  await rotationBody(c.req.raw, []);
  const config = await rotateHpkeKey(c.env);
  return c.json({ config, published: await publishedHpkeConfigs(c.env) }, 201);
});
