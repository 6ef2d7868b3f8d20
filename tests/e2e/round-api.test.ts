/**
 * Every round route refuses bad input with a 4xx `application/problem+json` answer of a
 * stable `type` and changes no state (DESIGN.md §6), against a real two-aggregator stack
 * (two `wrangler dev` processes): device contributions, the admin round routes, the
 * helper's internal routes called directly, and the absence of device routes on the helper.
 *
 * "No state changed" is shown per route by what can be observed from outside:
 * - contributions: every refused request uses a fresh id, and that same id is later
 *   accepted (202) with a valid body, so no refusal recorded it; at close the round's
 *   public contribution count is exactly the accepted ones;
 * - admin: `GET /v1/rounds` and `GET /v1/rounds/current` are unchanged after every refusal;
 * - helper internal routes: no byte of any refused request (its round ids and contribution
 *   ids) appears anywhere in the helper Worker's Durable Object storage on disk.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { seededRandom, type RoundDescriptor, type SealedShare, type SecureContribution } from '@edgeseg/shared';
import {
  CONTRIBUTION_INFO,
  buildSecureContribution,
  bytesToBase64url,
  base64urlToBytes,
  contributionAad,
  MAX_CONTRIBUTION_BODY_BYTES,
  reportSizes,
  roundDigest,
  sealShare,
  secureReportBytes,
  vdafFor,
} from '@edgeseg/shared/secure';
import { SignJWT, type JWK } from 'jose';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningJwk, mintToken } from '../support/keys.ts';
import { closeRoundAndWait, openRound as openRoundAs } from '../support/rounds.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { expectProblem } from '../support/problem.ts';

let stack: RunningStack;
let admin: string;
let marketer: string;
let expired: string;
let foreign: string;
let foreignKid: string;
let wrongAudience: string;
let wrongIssuer: string;
let unsigned: string;
let hmacConfused: string;
/** The round the close and contribution tests share: opened by the close tests, left open for the contribution tests. */
let current: RoundDescriptor;
/** Its duration: long enough for the contribution tests, short enough to wait for its close. */
const CURRENT_ROUND_S = 90; // each valid body is a Prio3 report (about 150 ms to shard at the default k and d)

beforeAll(async () => {
  stack = await startStack();
  admin = await mintToken(stack.authJwk, { role: 'admin' });
  marketer = await mintToken(stack.authJwk, { role: 'marketer' });
  expired = await mintToken(stack.authJwk, { role: 'admin', expSecondsFromNow: -60 });
  wrongAudience = await mintToken(stack.authJwk, { role: 'admin', aud: 'someone-else' });
  wrongIssuer = await mintToken(stack.authJwk, { role: 'admin', iss: 'someone-else' });
  // Signed by another key that claims the real key's kid, and by another key with its own kid.
  const realKid = (JSON.parse(stack.authJwk) as JWK).kid as string;
  foreign = await mintToken(JSON.stringify({ ...(JSON.parse(await generateSigningJwk('forged')) as JWK), kid: realKid }), { role: 'admin' });
  foreignKid = await mintToken(await generateSigningJwk('forged'), { role: 'admin' });
  // alg "none", and HS256 keyed with the public JWK (algorithm confusion).
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = { role: 'admin', iss: 'edgeseg-dev', aud: 'edgeseg-api', iat: now, exp: now + 600 };
  unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
  const { d: _d, ...publicJwk } = JSON.parse(stack.authJwk) as JWK;
  hmacConfused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: realKid }).sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
  void _d;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

function post(url: string, body: BodyInit | null, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers, body });
}

function postJson(url: string, value: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return post(url, JSON.stringify(value), { 'content-type': 'application/json', ...headers });
}

/** A body streamed in chunks with no Content-Length (chunked transfer): the cap must count bytes. */
function streamed(url: string, totalBytes: number, headers: Record<string, string>): Promise<Response> {
  let sent = 0;
  const chunk = new TextEncoder().encode(`{"pad":"${'a'.repeat(4090)}`.slice(0, 4096));
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
  return fetch(url, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
}

async function rounds(): Promise<PublicRound[]> {
  return ((await (await fetch(`${stack.baseUrl}/v1/rounds`)).json()) as { rounds: PublicRound[] }).rounds;
}

const openRound = (opts: Record<string, number>): Promise<RoundDescriptor> => openRoundAs(stack.baseUrl, admin, opts);


let idSeq = 0;
/** A fresh contribution id (16–64 of [A-Za-z0-9_-]). */
function newId(tag: string): string {
  idSeq++;
  return `api-${tag}-${String(idSeq).padStart(4, '0')}-${crypto.randomUUID().slice(0, 8)}`.slice(0, 64);
}

/** A valid contribution for `round` (features at centroid 0 + 0.1). */
async function validBody(round: RoundDescriptor, id: string, seed = idSeq): Promise<SecureContribution> {
  const x = Float32Array.from(round.slices[0]?.[0] ?? [], (v) => v + 0.1);
  return (await buildSecureContribution(round, x, id, seededRandom(seed))).body;
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

describe('GET /v1/rounds/current', () => {
  it('answers 404 no-open-round when no round is open', async () => {
    expect(await rounds()).toEqual([]);
    await expectProblem(await fetch(`${stack.baseUrl}/v1/rounds/current`), 404, 'no-open-round');
  });
});

describe('POST /v1/admin/rounds', () => {
  const url = () => `${stack.baseUrl}/v1/admin/rounds`;
  const valid = { duration_s: 600, min_batch: 2, epsilon: 1, delta: 1e-9, groups: 2, slices: 1 };

  it('refuses missing, malformed, forged, expired and wrong-role tokens, before reading the body', async () => {
    const cases: [string, Record<string, string>, number, string][] = [
      ['no token', {}, 401, 'unauthorized'],
      ['Basic scheme', { authorization: 'Basic YWRtaW46YWRtaW4=' }, 401, 'unauthorized'],
      ['not a JWT', { authorization: 'Bearer not-a-jwt' }, 401, 'unauthorized'],
      ['empty bearer', { authorization: 'Bearer ' }, 401, 'unauthorized'],
      ['expired', { authorization: `Bearer ${expired}` }, 401, 'unauthorized'],
      ['signed by another key with the real kid', { authorization: `Bearer ${foreign}` }, 401, 'unauthorized'],
      ['signed by another key', { authorization: `Bearer ${foreignKid}` }, 401, 'unauthorized'],
      ['wrong audience', { authorization: `Bearer ${wrongAudience}` }, 401, 'unauthorized'],
      ['wrong issuer', { authorization: `Bearer ${wrongIssuer}` }, 401, 'unauthorized'],
      ['alg none', { authorization: `Bearer ${unsigned}` }, 401, 'unauthorized'],
      ['HS256 keyed with the public key', { authorization: `Bearer ${hmacConfused}` }, 401, 'unauthorized'],
      ['marketer', { authorization: `Bearer ${marketer}` }, 403, 'forbidden'],
    ];
    for (const [what, headers, status, type] of cases) await expectProblem(await postJson(url(), valid, headers), status, type, what);
    expect(await rounds()).toEqual([]);
    await expectProblem(await fetch(`${stack.baseUrl}/v1/rounds/current`), 404, 'no-open-round');
  });

  it('refuses malformed JSON, wrong media types, oversize bodies, unknown fields, wrong types and out-of-range values', async () => {
    const auth = { authorization: `Bearer ${admin}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const raw: [string, BodyInit | null, Record<string, string>, number, string][] = [
      ['malformed JSON', '{"duration_s": 600,', json, 400, 'invalid-json'],
      ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), json, 400, 'invalid-json'],
      ['empty body', null, json, 400, 'invalid-json'],
      ['text/plain', JSON.stringify(valid), { ...auth, 'content-type': 'text/plain' }, 415, 'unsupported-media-type'],
      ['form', 'duration_s=600', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported-media-type'],
      ['no content type', new TextEncoder().encode(JSON.stringify(valid)), auth, 415, 'unsupported-media-type'],
      ['5 KB (cap 4 KB)', JSON.stringify({ ...valid, pad: 'x'.repeat(5 * 1024) }), json, 413, 'body-too-large'],
      ['1 MB', JSON.stringify({ ...valid, pad: 'x'.repeat(1024 * 1024) }), json, 413, 'body-too-large'],
    ];
    for (const [what, body, headers, status, type] of raw) await expectProblem(await post(url(), body, headers), status, type, what);
    await expectProblem(await streamed(url(), 64 * 1024, json), 413, 'body-too-large', 'chunked 64 KB');

    const fields: [string, unknown, RegExp][] = [
      ['array', [valid], /body: must be a JSON object/],
      ['null', null, /body: must be a JSON object/],
      ['string', 'open a round', /body: must be a JSON object/],
      ['unknown field', { ...valid, shards: 8 }, /^shards: unknown field/],
      ['k 1', { ...valid, k: 1 }, /^k: must be/],
      ['k 65', { ...valid, k: 65 }, /^k: must be/],
      ['k_candidates of one', { ...valid, k_candidates: [4] }, /^k_candidates/],
      ['k_candidates repeated', { ...valid, k_candidates: [4, 4] }, /^k_candidates/],
      ['k_candidates with slices', { ...valid, k_candidates: [3, 5], slices: 2 }, /^k_candidates/],
      ['mode unknown', { ...valid, mode: 'central' }, /^mode/],
      ['epsilon as a string', { ...valid, epsilon: '1' }, /^epsilon/],
      ['groups as a string', { ...valid, groups: '2' }, /^groups/],
      ['duration_s fractional', { ...valid, duration_s: 600.5 }, /^duration_s/],
      ['duration_s under 10', { ...valid, duration_s: 5 }, /^duration_s/],
      ['duration_s over 30 days', { ...valid, duration_s: 30 * 86_400 + 1 }, /^duration_s/],
      ['min_batch 0', { ...valid, min_batch: 0 }, /^min_batch/],
      ['min_devices (the old field)', { ...valid, min_devices: 2 }, /^min_devices: unknown field/],
      ['epsilon 0', { ...valid, epsilon: 0 }, /^epsilon/],
      ['epsilon 21', { ...valid, epsilon: 21 }, /^epsilon/],
      ['delta 0.5', { ...valid, delta: 0.5 }, /^delta/],
      ['delta 0', { ...valid, delta: 0 }, /^delta/],
      ['groups 0', { ...valid, groups: 0 }, /^groups/],
      ['groups 65', { ...valid, groups: 65 }, /^groups/],
      ['slices 0', { ...valid, slices: 0 }, /^slices/],
      ['slices 17', { ...valid, slices: 17 }, /^slices/],
      ['epsilon NaN (as null)', { ...valid, epsilon: null }, /^epsilon/],
    ];
    for (const [what, body, detail] of fields) {
      const problem = await expectProblem(await postJson(url(), body, auth), 422, 'invalid-body', what);
      expect(problem.detail, what).toMatch(detail);
    }
    expect(await rounds()).toEqual([]);
    await expectProblem(await fetch(`${stack.baseUrl}/v1/rounds/current`), 404, 'no-open-round');
  });
});

describe('POST /v1/admin/rounds/:id/close', () => {
  it('refuses missing, forged, expired and marketer tokens (the round stays open) and answers 404 for an unknown round', async () => {
    // The contribution tests below use this round, then close it: the helper releases a
    // secure round only after its close time, so it must end soon after they do.
    const round = await openRound({ duration_s: CURRENT_ROUND_S, min_batch: 2, groups: 2 });
    const url = `${stack.baseUrl}/v1/admin/rounds/${round.round_id}/close`;
    const cases: [string, Record<string, string>, number, string][] = [
      ['no token', {}, 401, 'unauthorized'],
      ['expired', { authorization: `Bearer ${expired}` }, 401, 'unauthorized'],
      ['signed by another key with the real kid', { authorization: `Bearer ${foreign}` }, 401, 'unauthorized'],
      ['signed by another key', { authorization: `Bearer ${foreignKid}` }, 401, 'unauthorized'],
      ['alg none', { authorization: `Bearer ${unsigned}` }, 401, 'unauthorized'],
      ['marketer', { authorization: `Bearer ${marketer}` }, 403, 'forbidden'],
    ];
    for (const [what, headers, status, type] of cases) await expectProblem(await post(url, null, headers), status, type, what);
    await new Promise((r) => setTimeout(r, 500)); // a close, had one slipped through, runs on an alarm
    const [listed] = (await rounds()).filter((r) => r.round_id === round.round_id);
    expect(listed?.state).toBe('open');
    expect(listed?.closes_at).toBe(round.closes_at);
    expect(await (await fetch(`${stack.baseUrl}/v1/rounds/current`)).json()).toEqual(round);

    for (const id of ['r-0-00000000', 'no-such-round', encodeURIComponent('../rounds')]) {
      await expectProblem(await post(`${stack.baseUrl}/v1/admin/rounds/${id}/close`, null, { authorization: `Bearer ${admin}` }), 404, 'not-found', id);
    }
    // Leaves this round open; the contribution tests below use it.
    current = round;
  });
});

describe('POST /v1/contributions', () => {
  const url = () => `${stack.baseUrl}/v1/contributions`;
  /** Ids refused below: each must still be accepted afterwards with a valid body. */
  const refusedIds: string[] = [];
  let accepted = 0;

  async function refused(what: string, body: BodyInit | null, headers: Record<string, string>, status: number, type: string, id: string, detail?: RegExp): Promise<void> {
    const problem = await expectProblem(await post(url(), body, headers), status, type, what);
    if (detail) expect(problem.detail, what).toMatch(detail);
    refusedIds.push(id);
  }
  const json = { 'content-type': 'application/json' };

  it('refuses malformed JSON, wrong media types and oversize bodies', async () => {
    const id1 = newId('json');
    await refused('malformed JSON', JSON.stringify(await validBody(current, id1)).slice(0, -2), json, 400, 'invalid-json', id1);
    const id2 = newId('utf8');
    const bytes = new TextEncoder().encode(JSON.stringify(await validBody(current, id2)));
    bytes[bytes.length - 3] = 0xff; // inside the last string: not UTF-8
    await refused('invalid UTF-8', bytes, json, 400, 'invalid-json', id2);
    await expectProblem(await post(url(), null, json), 400, 'invalid-json', 'empty body');
    const id3 = newId('plain');
    await refused('text/plain', JSON.stringify(await validBody(current, id3)), { 'content-type': 'text/plain' }, 415, 'unsupported-media-type', id3);
    const id4 = newId('notype');
    await refused('no content type', new TextEncoder().encode(JSON.stringify(await validBody(current, id4))), {}, 415, 'unsupported-media-type', id4);
    const id5 = newId('big');
    await refused('1 MB', JSON.stringify({ ...(await validBody(current, id5)), pad: 'x'.repeat(1024 * 1024) }), json, 413, 'body-too-large', id5);
    const id6 = newId('overcap');
    const capKb = MAX_CONTRIBUTION_BODY_BYTES / 1024;
    await refused(`${capKb + 1} KB (cap ${capKb} KB)`, JSON.stringify({ ...(await validBody(current, id6)), pad: 'x'.repeat(MAX_CONTRIBUTION_BODY_BYTES) }), json, 413, 'body-too-large', id6);
    await expectProblem(await streamed(url(), 2 * MAX_CONTRIBUTION_BODY_BYTES, json), 413, 'body-too-large', `chunked ${2 * capKb} KB`);
  });

  it('refuses wrong types, unknown fields and out-of-range values', async () => {
    const cases: [string, (b: SecureContribution) => unknown, RegExp][] = [
      ['array', (b) => [b], /body: must be a JSON object/],
      ['null', () => null, /body: must be a JSON object/],
      ['number', () => 42, /body: must be a JSON object/],
      ['slice as a string', (b) => ({ ...b, slice: String(b.slice) }), /^slice/],
      ['a group (the aggregators derive it from the id)', (b) => ({ ...b, group: 0 }), /^group: unknown field/],
      ['public_share missing', ({ public_share: _p, ...b }) => b, /^public_share/],
      ['public_share of the wrong length', (b) => ({ ...b, public_share: `${b.public_share}AAAA` }), /^public_share/],
      ['public_share not base64url', (b) => ({ ...b, public_share: b.public_share.replace(/.$/, '+') }), /^public_share/],
      ['id as a number', (b) => ({ ...b, id: 1234567890123456 }), /^id/],
      ['id too short', (b) => ({ ...b, id: 'short' }), /^id/],
      ['id with a slash', (b) => ({ ...b, id: `${b.id}/x` }), /^id/],
      ['round_id with a space', (b) => ({ ...b, round_id: 'r 1' }), /^round_id/],
      ['leader as a string', (b) => ({ ...b, leader: b.leader.ct }), /^leader/],
      ['helper missing', ({ helper: _h, ...b }) => b, /^helper/],
      ['config_id as a string', (b) => ({ ...b, leader: { ...b.leader, config_id: '1' } }), /^leader\.config_id/],
      ['enc not base64url', (b) => ({ ...b, leader: { ...b.leader, enc: b.leader.enc.replace(/.$/, '+') } }), /^leader\.enc/],
      ['helper ct of the wrong length', (b) => ({ ...b, helper: { ...b.helper, ct: b.helper.ct + 'AAAA' } }), /^helper\.ct/],
      ['unknown field', (b) => ({ ...b, vector: [1, 2, 3] }), /^vector: unknown field/],
      ['unknown field in a share', (b) => ({ ...b, leader: { ...b.leader, key: 'x' } }), /^leader\.key: unknown field/],
      ['slice beyond every round', (b) => ({ ...b, slice: 16 }), /^slice/],
      ['slice beyond this round (1 slice)', (b) => ({ ...b, slice: 1 }), /^slice: round has slices 0\.\.0/],
    ];
    for (const [what, mutate, detail] of cases) {
      const id = newId('field');
      await refused(what, JSON.stringify(mutate(await validBody(current, id))), json, 422, 'invalid-body', id, detail);
    }
  });

  it('refuses a round that does not exist and a closed round', async () => {
    const id1 = newId('noround');
    await refused('unknown round', JSON.stringify({ ...(await validBody(current, id1)), round_id: 'r-0-deadbeef' }), json, 409, 'round-not-open', id1);

    const other = await openRound({ duration_s: 600, min_batch: 2, groups: 2 });
    const closed = await closeRoundAndWait(stack.baseUrl, admin, other.round_id);
    expect(closed.contributions).toBe(0);
    const id2 = newId('closed');
    await refused('closed round', JSON.stringify(await validBody(other, id2)), json, 409, 'round-not-open', id2, /abandoned|released/);
    const after = (await rounds()).find((r) => r.round_id === other.round_id);
    expect(after).toEqual(closed);
  });

  it('refuses leader ciphertexts that do not open: random bytes, sealed for another round, id or public share, wrong config, wrong length, not field elements', async () => {
    const L = reportSizes(vdafFor(current.kind, current.k, current.d)).leader;
    const id1 = newId('random');
    const b1 = await validBody(current, id1);
    const random: SealedShare = { ...b1.leader, ct: bytesToBase64url(randomBytes(base64urlToBytes(b1.leader.ct).length)) };
    expect(random.ct.length).toBe(b1.leader.ct.length);
    await refused('random ct of the right length', JSON.stringify({ ...b1, leader: random }), json, 400, 'undecryptable', id1);
    const id1b = newId('randenc');
    const b1b = await validBody(current, id1b);
    await refused('random enc', JSON.stringify({ ...b1b, leader: { ...b1b.leader, enc: bytesToBase64url(randomBytes(65)) } }), json, 400, 'undecryptable', id1b);

    // Sealed under the same keys for another round id, then sent for this round: the aad binds the round.
    const id2 = newId('otherround');
    const elsewhere = { ...current, round_id: `${current.round_id}-other` };
    const x = Float32Array.from(current.slices[0]?.[0] ?? [], (v) => v + 0.1);
    const b2 = (await buildSecureContribution(elsewhere, x, id2)).body;
    await refused('sealed for another round id', JSON.stringify({ ...b2, round_id: current.round_id }), json, 400, 'undecryptable', id2);

    // The same binding for the id and the public share.
    const id3 = newId('otherid');
    const b3 = await validBody(current, newId('sealedfor'));
    await refused('sealed for another id', JSON.stringify({ ...b3, id: id3 }), json, 400, 'undecryptable', id3);
    const id4 = newId('otherpublic');
    const b4 = await validBody(current, id4);
    const otherPublic = (await validBody(current, newId('publicfrom'))).public_share;
    await refused('sealed with another public share', JSON.stringify({ ...b4, public_share: otherPublic }), json, 400, 'undecryptable', id4);
    // The helper's ciphertext in the leader's place (role is in the aad; the config id differs too).
    const id5 = newId('swapped');
    const b5 = await validBody(current, id5);
    await refused('helper share in the leader slot', JSON.stringify({ ...b5, leader: b5.helper, helper: b5.leader }), json, 422, 'invalid-body', id5, /^helper\.ct/);
    const id5b = newId('helperlead');
    const b5b = await validBody(current, id5b);
    // A Prio3 helper share (three seeds) is far shorter than the leader's: its length alone refuses it.
    await refused('helper share in the leader slot, helper kept', JSON.stringify({ ...b5b, leader: b5b.helper }), json, 422, 'invalid-body', id5b, /^leader\.ct: must be base64url of exactly/);

    const id6 = newId('config');
    const b6 = await validBody(current, id6);
    await refused('wrong config_id', JSON.stringify({ ...b6, leader: { ...b6.leader, config_id: (b6.leader.config_id + 1) % 256 } }), json, 400, 'undecryptable', id6, /HPKE key \d+/);

    // Leader input shares of the wrong size (sealed properly): the ciphertext length gives them away.
    for (const bytes of [L - 16, L + 16, 16]) {
      const id = newId(`len${bytes}`);
      const b = await validBody(current, id);
      const leader = await sealShare(current.hpke.leader, new Uint8Array(bytes), CONTRIBUTION_INFO, contributionAad(b, 'leader', await roundDigest(current)));
      await refused(`leader share of ${bytes} bytes (round: ${L})`, JSON.stringify({ ...b, leader }), json, 422, 'invalid-body', id, /^leader\.ct: must be base64url of exactly/);
    }
    // The right size, but not field elements (2^128 − 1 ≥ p): the leader's Prio3 decoding refuses it.
    const id7 = newId('unreduced');
    const b7 = await validBody(current, id7);
    const unreduced = await sealShare(current.hpke.leader, new Uint8Array(L).fill(0xff), CONTRIBUTION_INFO, contributionAad(b7, 'leader', await roundDigest(current)));
    await refused('leader share of unreduced field elements', JSON.stringify({ ...b7, leader: unreduced }), json, 422, 'invalid-body', id7, /^leader input share: .*not reduced/);
  });

  it('accepts a contribution once: the same id again is 409 replayed, resealed or not', async () => {
    const id = newId('replay');
    const body = await validBody(current, id);
    const first = await postJson(url(), body);
    expect(first.status, await first.clone().text()).toBe(202);
    expect(await first.json()).toEqual({ accepted: 1 });
    accepted++;
    await expectProblem(await postJson(url(), body), 409, 'replayed', 'same body');
    await expectProblem(await postJson(url(), await validBody(current, id, 99)), 409, 'replayed', 'same id, new shares');
    // Eight copies at once (one group commit on the shard): exactly one is taken.
    const racing = await validBody(current, newId('race'));
    const answers = await Promise.all(Array.from({ length: 8 }, () => postJson(url(), racing)));
    expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409, 409, 409]);
    for (const r of answers) if (r.status === 409) await expectProblem(r, 409, 'replayed', 'concurrent copy');
    else await r.body?.cancel();
    accepted++;
  });

  it('changed no state: every refused id is still new, and the round counts exactly the accepted contributions', { timeout: (CURRENT_ROUND_S + 90) * 1000 }, async () => {
    expect(refusedIds.length).toBeGreaterThan(30);
    for (const id of refusedIds) {
      const res = await postJson(url(), await validBody(current, id));
      expect(res.status, `${id}: ${await res.clone().text()}`).toBe(202);
      await res.body?.cancel();
      accepted++;
    }
    // A helper ciphertext the leader cannot check (it cannot open it) is taken, then
    // dropped when the helper refuses it at relay: it must not count either.
    const bad = await validBody(current, newId('badhelper'));
    const res = await postJson(url(), { ...bad, helper: { ...bad.helper, ct: bytesToBase64url(randomBytes(secureReportBytes(current.kind, current.k, current.d).helper)) } });
    expect(res.status).toBe(202);
    await res.body?.cancel();

    const closed = await closeRoundAndWait(stack.baseUrl, admin, current.round_id, { limitMs: (CURRENT_ROUND_S + 60) * 1000 });
    expect(closed.contributions, closed.reason ?? '').toBe(accepted);
    expect(closed.rejected, 'the helper share that did not open').toBe(1);
    expect(closed.state, closed.reason ?? '').toBe('released');
    await expectProblem(await postJson(url(), await validBody(current, newId('late'))), 409, 'round-not-open', 'after close');
    expect((await rounds()).find((r) => r.round_id === current.round_id)).toEqual(closed);
  });
});

describe('helper internal routes, called directly', () => {
  const forgedRound = `r-forged-${crypto.randomUUID().slice(0, 8)}`;
  const forgedId = `forged-${crypto.randomUUID().replaceAll('-', '')}`;

  /**
   * Every byte of the helper Worker's Durable Object storage (`<persist>/v3/do`: its
   * coordinator and shards, SQLite files with their write-ahead logs). The rest of the
   * persist directory is wrangler's own: its local trace store records request URLs.
   */
  function helperStorage(): Buffer {
    const files: Buffer[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.isFile()) files.push(readFileSync(join(dir, e.name)));
      }
    };
    walk(join(stack.stateDirs.helper, 'v3', 'do'));
    return Buffer.concat(files);
  }

  it('refuses every internal route without the leader token: no token, wrong token, an API token', async () => {
    const record = { descriptor: { ...current, round_id: forgedRound }, sigma2: '1/1', verify_key: bytesToBase64url(randomBytes(16)) };
    const forgedItem = { id: forgedId, slice: 0, public_share: bytesToBase64url(randomBytes(32)), sealed: { config_id: 2, enc: 'AA', ct: 'AA' }, prep_share: 'AA', joint_rand_seed: bytesToBase64url(randomBytes(16)) };
    const routes: [string, unknown][] = [
      ['/internal/v1/rounds', record],
      ['/internal/v1/shares', { round_id: current.round_id, items: [forgedItem] }],
      ['/internal/v1/shares', { round_id: forgedRound, items: [forgedItem] }],
      [`/internal/v1/rounds/${current.round_id}/aggregate`, { selector: {} }],
      [`/internal/v1/rounds/${forgedRound}/aggregate`, { selector: { '0:0': { count: 1, checksum: '0'.repeat(64) } } }],
    ];
    const tokens: [string, Record<string, string>][] = [
      ['no token', {}],
      ['empty bearer', { authorization: 'Bearer ' }],
      ['wrong token', { authorization: `Bearer ${Buffer.from(randomBytes(24)).toString('hex')}` }],
      ['wrong token, other length', { authorization: `Bearer ${Buffer.from(randomBytes(8)).toString('hex')}` }],
      ['admin API token', { authorization: `Bearer ${admin}` }],
      ['Basic scheme', { authorization: 'Basic bGVhZGVyOmxlYWRlcg==' }],
    ];
    for (const [path, body] of routes) {
      for (const [what, headers] of tokens) await expectProblem(await postJson(`${stack.helperUrl}${path}`, body, headers), 401, 'unauthorized', `${path} ${what}`);
      await expectProblem(await fetch(`${stack.helperUrl}${path}`), 401, 'unauthorized', `GET ${path}`);
    }
    // Spellings of the same paths: never past the guard (401) and never a route (404).
    for (const path of ['/internal/v1/rounds/', '/internal//v1/rounds', '/%69nternal/v1/rounds', '/internal/v1/%72ounds', '/INTERNAL/v1/rounds', '/internal/v1/shares?x=1']) {
      const res = await postJson(`${stack.helperUrl}${path}`, record);
      expect([401, 404], `${path}: ${res.status}`).toContain(res.status);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/problem\+json\b/);
      await res.body?.cancel();
    }
    // Nothing of these requests reached the helper's storage, which does hold the open round.
    const stored = helperStorage();
    expect(stored.includes(Buffer.from(current.round_id)), 'the scan sees the helper’s rounds').toBe(true);
    expect(stored.includes(Buffer.from(forgedRound)), 'forged round id in helper storage').toBe(false);
    expect(stored.includes(Buffer.from(forgedId)), 'forged contribution id in helper storage').toBe(false);
  });

  it('the helper has no device routes and none of the leader’s public or admin routes, and the leader has no internal routes', async () => {
    const helperRoutes: [string, string][] = [
      ['POST', '/v1/contributions'],
      ['GET', '/v1/rounds/current'],
      ['GET', '/v1/rounds'],
      ['GET', '/v1/model'],
      ['POST', '/v1/reports'],
      ['GET', '/v1/segments'],
    ];
    for (const [method, path] of helperRoutes) {
      const res = await fetch(`${stack.helperUrl}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, ...(method === 'POST' ? { body: '{}' } : {}) });
      await expectProblem(res, 404, 'not-found', `helper ${method} ${path}`);
    }
    // Its admin routes are its own operator's (HELPER_ADMIN_TOKEN): the leader's admin token opens nothing there.
    for (const path of ['/v1/admin/rounds', `/v1/admin/rounds/${current.round_id}/close`]) {
      const res = await postJson(`${stack.helperUrl}${path}`, {}, { authorization: `Bearer ${admin}` });
      expect([401, 404], `helper POST ${path}`).toContain(res.status);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/problem\+json\b/);
      await res.body?.cancel();
    }
    for (const path of ['/internal/v1/rounds', '/internal/v1/shares', `/internal/v1/rounds/${current.round_id}/aggregate`]) {
      await expectProblem(await postJson(`${stack.baseUrl}${path}`, {}), 404, 'not-found', `leader ${path}`);
    }
    // What the helper does serve: its own HPKE configs only (the current one, and under `keys` every one it still publishes).
    const configs = (await (await fetch(`${stack.helperUrl}/.well-known/hpke-configs`)).json()) as Record<string, unknown>;
    expect(Object.keys(configs)).toEqual(['helper', 'keys']);
    expect(Object.keys(configs.keys as object)).toEqual(['helper']);
  });
});
