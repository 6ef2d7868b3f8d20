import { Hono } from 'hono';
import { decodeProtectedHeader } from 'jose';
import { requireRole } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { leaderRoundKeyUses, publishedHpkeConfigs, rotateHpkeKey } from '../hpke-key.ts';
import { publishedJwks, rotateModelSigningKey } from '../keys.ts';
import { currentModel, manifestOf, publishModel } from '../models.ts';
import { ProblemError } from '../problem.ts';
import { rotationBody } from '../rotation-body.ts';

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
    return c.json({ config, published: await publishedHpkeConfigs(c.env, leaderRoundKeyUses(c.env)), model_version: model.version }, 201);
  });
