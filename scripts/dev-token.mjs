// Prints a bearer token for the local API (role marketer by default; `-- --role admin`).
// `mintDevToken` is also used by `npm run simulate -- --via-http` to open and close rounds.
import { SignJWT, importJWK } from 'jose';
import { pathToFileURL } from 'node:url';
import { ensureDevKeys } from './dev-keys.mjs';

/** A 12-hour token of `role`, signed with `.dev.vars`' AUTH_SIGNING_JWK (generated on first use). */
export async function mintDevToken(role) {
  const { vars } = await ensureDevKeys();
  const jwk = JSON.parse(vars.AUTH_SIGNING_JWK);
  const key = await importJWK(jwk, 'ES256');
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' })
    .setIssuer('edgeseg-dev')
    .setAudience('edgeseg-api')
    .setSubject(`dev-${role}`)
    .setIssuedAt()
    .setExpirationTime('12h')
    .sign(key);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const roleArg = process.argv.indexOf('--role');
  const role = roleArg > 0 ? process.argv[roleArg + 1] : 'marketer';
  if (!['marketer', 'admin'].includes(role)) {
    console.error(`dev-token: --role must be marketer or admin, got ${role}`);
    process.exit(2);
  }
  console.log(await mintDevToken(role));
}
