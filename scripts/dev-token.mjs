// Prints a bearer token for the local API (role marketer by default; `-- --role admin`).
import { SignJWT, importJWK } from 'jose';
import { ensureDevKeys } from './dev-keys.mjs';

const roleArg = process.argv.indexOf('--role');
const role = roleArg > 0 ? process.argv[roleArg + 1] : 'marketer';
if (!['marketer', 'admin'].includes(role)) {
  console.error(`dev-token: --role must be marketer or admin, got ${role}`);
  process.exit(2);
}
const { vars } = await ensureDevKeys();
const jwk = JSON.parse(vars.AUTH_SIGNING_JWK);
const key = await importJWK(jwk, 'ES256');
const token = await new SignJWT({ role })
  .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' })
  .setIssuer('edgeseg-dev')
  .setAudience('edgeseg-api')
  .setSubject(`dev-${role}`)
  .setIssuedAt()
  .setExpirationTime('12h')
  .sign(key);
console.log(token);
