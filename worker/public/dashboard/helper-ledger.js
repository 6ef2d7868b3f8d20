// @ts-check
/**
 * The helper's own privacy ledger, read as an auditor would: the helper's address from
 * the leader's stack config (GET /v1/stack), then the helper's signing keys and its
 * ledger from the helper's origin, the ledger's ES256 signature checked in this browser.
 * Nothing the helper says is shown as confirmed unless that signature verifies.
 */
import { stackHelperOrigin } from '/demo/helper-pin.js';
import { api } from './api.js';
import { readReleases } from './ledger-compare.js';
import { jwsJson, verifyJws } from './model.js';

/** The JWS type the helper signs its ledger with (a model signed by the same key cannot pass as a ledger). */
const LEDGER_JWS_TYPE = 'edgeseg-ledger+jwt';
const LEDGER_ISSUER = 'edgeseg-helper';

/**
 * What the dashboard knows of the helper's ledger: no helper in this deployment (one
 * operator, local mode only), not reachable, reachable but not to be trusted, or verified.
 *
 * @typedef {{ state: 'none' }
 *   | { state: 'unreachable', origin: string | null, reason: string }
 *   | { state: 'unverified', origin: string, reason: string }
 *   | { state: 'verified', origin: string, kid: string, iat: number | null, releases: import('./ledger-compare.js').LedgerRelease[], spent30d: { training: number, measurement: number } | null }} HelperLedger
 */

/** @param {unknown} e */
const message = (e) => (e instanceof Error ? e.message : String(e));

/**
 * Fetches and verifies the helper's ledger; never throws: every failure is a state the
 * panel shows.
 *
 * @example
 * const helper = await loadHelperLedger();
 * if (helper.state === 'verified') compareLedgers(leaderReleases, helper.releases);
 * @returns {Promise<HelperLedger>}
 */
export async function loadHelperLedger() {
  /** @type {string | null} */
  let origin;
  try {
    origin = await stackHelperOrigin(location.origin);
  } catch (e) {
    return { state: 'unreachable', origin: null, reason: `the leader's stack config could not be read: ${message(e)}` };
  }
  if (origin === null) return { state: 'none' };
  /** @type {[string, { keys: JsonWebKey[] }]} */
  let fetched;
  try {
    const [ledger, jwks] = await Promise.all([api(`${origin}/v1/privacy-ledger`, { accept: 'application/jose' }).then((r) => r.text()), api(`${origin}/.well-known/jwks.json`).then((r) => r.json())]);
    fetched = [ledger, jwks];
  } catch (e) {
    return { state: 'unreachable', origin, reason: message(e) };
  }
  const [jws, jwks] = fetched;
  if (!(await verifyJws(jws, jwks, LEDGER_JWS_TYPE))) return { state: 'unverified', origin, reason: `its signature does not verify with a key the helper publishes (an ES256 ${LEDGER_JWS_TYPE} signed by a kid of ${origin}/.well-known/jwks.json)` };
  try {
    const payload = jwsJson(jws, 1);
    if (payload?.iss !== LEDGER_ISSUER) throw new Error(`its issuer is ${JSON.stringify(payload?.iss)}, not ${LEDGER_ISSUER}`);
    const spent = payload.spent_30d;
    return {
      state: 'verified',
      origin,
      kid: String(jwsJson(jws, 0).kid),
      iat: typeof payload.iat === 'number' ? payload.iat : null,
      releases: readReleases(payload, 'the helper’s ledger'),
      spent30d: typeof spent?.training === 'number' && typeof spent?.measurement === 'number' ? { training: spent.training, measurement: spent.measurement } : null,
    };
  } catch (e) {
    return { state: 'unverified', origin, reason: `it is signed but cannot be read: ${message(e)}` };
  }
}
