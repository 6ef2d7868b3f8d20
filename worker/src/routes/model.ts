import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { publishedJwks } from '../keys.ts';
import { currentModel } from '../models.ts';

/**
 * `GET /v1/model` (the signed manifest as a compact JWS, with ETag revalidation) and
 * `GET /.well-known/jwks.json` (the public keys devices verify it with: the current
 * signing key first, then retired ones until their retention ends).
 */
export const modelRoutes = new Hono<AppEnv>()
  .get('/v1/model', async (c) => {
    const model = await currentModel(c.env);
    const headers = { etag: model.etag, 'cache-control': 'public, max-age=60, must-revalidate' };
    const ifNoneMatch = c.req.header('if-none-match');
    if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === model.etag)) return c.body(null, 304, headers);
    return c.body(model.jws, 200, { ...headers, 'content-type': 'application/jose' });
  })
  .get('/.well-known/jwks.json', async (c) => {
    const jwks = await publishedJwks(c.env);
    c.header('cache-control', 'public, max-age=300');
    return c.json(jwks);
  });
