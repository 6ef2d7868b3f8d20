/**
 * The helper's public routes (GET only, any origin): its HPKE key, the public key of its
 * ledger signatures, the policy in force, its signed privacy ledger, and liveness. An
 * app fetches the helper's key here itself, so devices never take it from the leader.
 */
import { signLedger } from '@edgeseg/aggregator';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { signingKey } from '../../keys.ts';
import { helperCoordinator, type HelperAppEnv, type HelperEnv } from '../env.ts';
import { helperPublishedConfigs } from '../hpke.ts';

function ledgerKey(env: HelperEnv) {
  return signingKey(env.HELPER_SIGNING_JWK, 'HELPER_SIGNING_JWK');
}

/** Any origin may read these (and only these: the leader's and the operator's routes stay without CORS). */
const PUBLIC_PATHS = ['/healthz', '/.well-known/*', '/v1/policy', '/v1/privacy-ledger'];
const anyOrigin = cors({ origin: '*', allowMethods: ['GET'], maxAge: 86_400 });

/** `/.well-known/*`, `/v1/policy`, `/v1/privacy-ledger`, `/healthz`. */
export const publicRoutes = new Hono<HelperAppEnv>();
for (const path of PUBLIC_PATHS) publicRoutes.use(path, anyOrigin);
publicRoutes
  .get('/healthz', (c) => c.json({ ok: true }))
  .get('/.well-known/hpke-configs', async (c) => {
    const own = await helperPublishedConfigs(c.env);
    c.header('cache-control', 'public, max-age=300');
    return c.json({ helper: own[0], keys: { helper: own } });
  })
  .get('/.well-known/jwks.json', async (c) => {
    const key = await ledgerKey(c.env);
    c.header('cache-control', 'public, max-age=300');
    return c.json({ keys: [key.publicJwk] });
  })
  .get('/v1/policy', async (c) => {
    c.header('cache-control', 'no-store');
    return c.json(await helperCoordinator(c.env).policy());
  })
  .get('/v1/privacy-ledger', async (c) => {
    const key = await ledgerKey(c.env);
    const payload = await helperCoordinator(c.env).ledger(Math.floor(Date.now() / 1000));
    return c.body(await signLedger(payload, key), 200, { 'content-type': 'application/jose', 'cache-control': 'no-store' });
  });
