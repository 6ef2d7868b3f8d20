/**
 * The helper's API contract, against the real helper Worker under `wrangler dev` running
 * its real default policy (helper/wrangler.toml): this test plays the leader itself
 * (it holds LEADER_TOKEN and its own HPKE key) and the helper's operator (it holds
 * HELPER_ADMIN_TOKEN). Every policy rule refuses with 422 and its `rule`, storing nothing;
 * a round inside policy is accepted with the helper's own σ² and the leader's verify key;
 * reports open only under the accepted configuration and count only once their Prio3
 * proof verifies (the preparation exchange); the release waits for the close, agrees on the exact batch,
 * withholds buckets under the minimum batch, answers the same bytes on retry and never a
 * second batch; the signed ledger verifies against the helper's JWKS and lists it; after
 * the release the helper's storage holds ids only. (Attacks combining these are in
 * malicious-leader.test.ts.)
 */
import { TRAINING_ENCODING, type BatchSelector } from '@edgeseg/aggregator/rounds';
import { type HpkeConfig, type RoundDescriptor } from '@edgeseg/shared';
import { sigma2ForEpsilon } from '@edgeseg/shared/dp';
import { FIELD_ELEMENT_BYTES, bytesToBase64url, encodeCountContribution, generateHpkeKeyPair, newVerifyKey, reportGroup, roundDigest, vectorLength } from '@edgeseg/shared/secure';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectorFor as selectorOfBuckets } from '../support/malicious-leader.ts';
import { handBuiltReport, prepareAs, relayItemOf, type RelayItem } from '../support/prio3-device.ts';
import { composedEpsilon } from '../support/helper-policy.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { expectProblem } from '../support/problem.ts';

type SqliteModule = typeof import('node:sqlite');
const { DatabaseSync } = createRequire(import.meta.url)('node:sqlite') as SqliteModule;

/** The helper's real default minimum batch (helper/wrangler.toml HELPER_MIN_BATCH). */
const DEFAULT_MIN_BATCH = 100;
/** The helper's default 30-day training budget (DEFAULT_TRAINING_BUDGET; README, Helper policy). */
const DEFAULT_TRAINING_BUDGET = 2;
/** Seconds a test round stays open: long enough to relay every seed, short enough to wait for. */
const OPEN_FOR_S = 12;

let stack: RunningStack;
let helperKey: HpkeConfig;
let leaderKey: HpkeConfig;
/** The Prio3 verify key this test, as the leader, sends with every round it opens. */
const verifyKey = newVerifyKey();
const verifyKeyText = bytesToBase64url(verifyKey);
let roundCounter = 0;

const nowS = () => Math.floor(Date.now() / 1000);

function internal(path: string, body: unknown, token: string | null = stack.leaderToken): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(`${stack.helperUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

function honestSigma2(d: RoundDescriptor): string {
  const s = sigma2ForEpsilon(d.epsilon, d.delta, d.encoding.bound);
  return `${s.num}/${s.den}`;
}

function kmeansRound(overrides: Partial<RoundDescriptor> = {}): RoundDescriptor {
  const opens = nowS();
  return {
    round_id: `r-guardian-${++roundCounter}-${opens}`,
    kind: 'kmeans',
    mode: 'secure',
    model_version: 1,
    k: 2,
    d: 3,
    slices: [[[0, 0, 0], [1, 1, 1]]],
    groups: 2,
    encoding: TRAINING_ENCODING,
    epsilon: 0.5,
    delta: 1e-9,
    opens_at: opens,
    closes_at: opens + 3600,
    min_batch: DEFAULT_MIN_BATCH,
    hpke: { leader: leaderKey, helper: helperKey },
    ...overrides,
  };
}

function countsRound(overrides: Partial<RoundDescriptor> = {}): RoundDescriptor {
  return kmeansRound({ round_id: `c-guardian-${++roundCounter}`, kind: 'counts', k: 2, d: 0, slices: [[[], []]], groups: 1, encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } }, period: '2026-W48', ...overrides });
}

interface Contribution {
  id: string;
  slice: number;
  group: number;
  /** What the leader relays: the helper's sealed share, the public share, and the leader's preparation share and seed. */
  item: RelayItem;
}

function newId(): string {
  return bytesToBase64url(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * A device's counts report for slice 0 whose id lands in `group` (this leader holds the
 * verify key, so it can pick ids per group), sealed under the digest of `sealedTo`, and
 * the leader's relay item for it.
 */
async function contribution(sealedTo: RoundDescriptor, group: number): Promise<Contribution> {
  let id = newId();
  while ((await reportGroup(verifyKey, id, sealedTo.groups)) !== group) id = newId();
  const report = await handBuiltReport(sealedTo, { vector: encodeCountContribution(group % sealedTo.k, sealedTo.k, 1) }, id, 0);
  return { id, slice: 0, group, item: relayItemOf(report.body, await prepareAs(sealedTo, verifyKey, 0, report)) };
}

/** The batch selector of contributions as the helper would count them: per bucket, the count and the XOR of SHA-256 of the ids. */
function selectorFor(items: Contribution[]): Promise<BatchSelector> {
  return selectorOfBuckets(items);
}

function relay(round: RoundDescriptor, items: unknown[]): Promise<Response> {
  return internal('/internal/v1/shares', { round_id: round.round_id, items });
}

/** Rows of every table named `table` in every SQLite database of the helper's state (read from a copy: workerd holds the live files). */
function helperRows(table: string): number {
  const copy = mkdtempSync(join(tmpdir(), 'edgeseg-helper-state-'));
  cpSync(stack.stateDirs.helper, copy, { recursive: true });
  let rows = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.sqlite')) {
        const db = new DatabaseSync(path, { readOnly: true });
        try {
          const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table);
          if (exists) rows += Number((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
        } finally {
          db.close();
        }
      }
    }
  };
  try {
    walk(copy);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  return rows;
}

beforeAll(async () => {
  stack = await startStack({}, { helper: {} }); // the helper's real default policy
  helperKey = ((await (await fetch(`${stack.helperUrl}/.well-known/hpke-configs`)).json()) as { helper: HpkeConfig }).helper;
  leaderKey = (await generateHpkeKeyPair(1)).config;
});

afterAll(async () => {
  await stack?.stop();
});

describe('the helper reviews every round against its own policy', () => {
  it('serves its policy in force publicly (CORS *)', async () => {
    const res = await fetch(`${stack.helperUrl}/v1/policy`, { headers: { origin: 'https://app.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({ min_batch: 100, max_epsilon: 1, max_delta: 1e-9, budget_training: 2, budget_measurement: 2, max_groups: 16, max_slices: 16, max_duration_s: 1_209_600 });
  });

  it('refuses each rule with 422 round-refused naming it, and stores nothing', async () => {
    const cases: [string, RoundDescriptor, string | null][] = [
      ['mode', kmeansRound({ mode: 'local', local_sigma2: 4, hpke: { leader: leaderKey } }), null],
      ['min-batch', kmeansRound({ min_batch: 1 }), null],
      ['max-epsilon', kmeansRound({ epsilon: 2 }), null],
      ['max-delta', kmeansRound({ delta: 1e-6 }), null],
      ['max-groups', kmeansRound({ groups: 17 }), null],
      ['max-duration', kmeansRound({ closes_at: nowS() + 15 * 86_400 }), null],
      ['times', kmeansRound({ opens_at: nowS() + 3600, closes_at: nowS() + 7200 }), null],
      ['times', kmeansRound({ opens_at: nowS() - 7200, closes_at: nowS() - 10 }), null],
      ['sigma2', kmeansRound(), '1/1000000000000'],
      ['helper-key', kmeansRound({ hpke: { leader: leaderKey, helper: { ...leaderKey, config_id: helperKey.config_id } } }), null],
      ['encoding', countsRound({ encoding: { clip: 1, bound: 2, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } } }), null],
      ['shape', countsRound({ d: 3, slices: [[[0, 0, 0], [1, 1, 1]]] }), null],
    ];
    for (const [rule, descriptor, stated] of cases) {
      const body = await expectProblem(await internal('/internal/v1/rounds', { descriptor, sigma2: stated ?? honestSigma2(descriptor), verify_key: verifyKeyText }), 422, 'round-refused');
      expect({ rule: body.rule, detail: typeof body.detail }).toEqual({ rule, detail: 'string' });
      // Nothing was opened: the helper takes no share for that round.
      await expectProblem(await relay(descriptor, []), 409, 'round-not-open');
    }
  });

  it('max-slices: the operator lowers the limit (HELPER_ADMIN_TOKEN only), and it applies to rounds opened afterwards', async () => {
    const twoSlices = kmeansRound({ slices: [[[0, 0, 0], [1, 1, 1]], [[0, 1, 0], [1, 0, 1]]] });
    const put = (token: string | null, body: unknown) =>
      fetch(`${stack.helperUrl}/v1/admin/policy`, { method: 'PUT', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    await expectProblem(await put(null, { max_slices: 1 }), 401, 'unauthorized');
    await expectProblem(await put(stack.leaderToken, { max_slices: 1 }), 403, 'forbidden');
    await expectProblem(await put(stack.helperAdminToken, { max_slices: 0 }), 422, 'invalid-body');
    await expectProblem(await put(stack.helperAdminToken, { max_slices: 1, surprise: true }), 422, 'invalid-body');
    expect(((await (await fetch(`${stack.helperUrl}/v1/policy`)).json()) as { max_slices: number }).max_slices).toBe(16);
    const lowered = await put(stack.helperAdminToken, { max_slices: 1 });
    expect(lowered.status).toBe(200);
    expect(((await lowered.json()) as { max_slices: number }).max_slices).toBe(1);
    const body = await expectProblem(await internal('/internal/v1/rounds', { descriptor: twoSlices, sigma2: honestSigma2(twoSlices), verify_key: verifyKeyText }), 422, 'round-refused');
    expect(body.rule).toBe('max-slices');
    expect((await put(stack.helperAdminToken, { max_slices: 16 })).status).toBe(200);
  });

  it('needs the leader token, and refuses a malformed descriptor as invalid-body', async () => {
    const d = kmeansRound();
    const anonymous = await internal('/internal/v1/rounds', { descriptor: d, sigma2: honestSigma2(d), verify_key: verifyKeyText }, null);
    expect(anonymous.headers.get('access-control-allow-origin')).toBeNull(); // CORS is for the public GET routes only
    await expectProblem(anonymous, 401, 'unauthorized');
    await expectProblem(await internal('/internal/v1/rounds', { descriptor: d, sigma2: honestSigma2(d), verify_key: verifyKeyText }, stack.helperAdminToken), 401, 'unauthorized');
    await expectProblem(await internal('/internal/v1/rounds', { descriptor: { ...d, k: 'two' }, sigma2: honestSigma2(d), verify_key: verifyKeyText }), 422, 'invalid-body');
    await expectProblem(await internal('/internal/v1/rounds', { descriptor: d, verify_key: verifyKeyText }), 422, 'invalid-body');
    // The round's verify key is required, and must be 16 bytes of base64url.
    await expectProblem(await internal('/internal/v1/rounds', { descriptor: d, sigma2: honestSigma2(d) }), 422, 'invalid-body');
    await expectProblem(await internal('/internal/v1/rounds', { descriptor: d, sigma2: honestSigma2(d), verify_key: verifyKeyText.slice(2) }), 422, 'invalid-body');
    await expectProblem(await internal('/internal/v1/rounds', { descriptor: d, sigma2: honestSigma2(d), verify_key: 42 }), 422, 'invalid-body');
  });

  it('accepts a round inside policy with its own σ², idempotently; another descriptor under the same id conflicts', async () => {
    const d = kmeansRound();
    const first = await internal('/internal/v1/rounds', { descriptor: d, sigma2: honestSigma2(d), verify_key: verifyKeyText });
    expect(first.status).toBe(201);
    const answer = await first.json();
    expect(answer).toEqual({ round_id: d.round_id, digest: bytesToBase64url(await roundDigest(d)), sigma2: honestSigma2(d) });
    const again = await internal('/internal/v1/rounds', { descriptor: d, sigma2: honestSigma2(d), verify_key: verifyKeyText });
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(answer);
    const other = { ...d, min_batch: 200 };
    await expectProblem(await internal('/internal/v1/rounds', { descriptor: other, sigma2: honestSigma2(other), verify_key: verifyKeyText }), 409, 'round-conflict');
  });

  it('charges the 30-day training budget as a device spends it: rounds of ε 0.5 until their composition would pass 2, then the next is refused', async () => {
    // The round above took one ε 0.5 release. Composed under zCDP (δ = 1e-9) many more fit
    // than the 4 a plain sum allows; the helper takes exactly those that do.
    let accepted = 1;
    while (composedEpsilon(new Array<number>(accepted + 1).fill(0.5)) <= DEFAULT_TRAINING_BUDGET) {
      const d = kmeansRound();
      expect((await internal('/internal/v1/rounds', { descriptor: d, sigma2: honestSigma2(d), verify_key: verifyKeyText })).status).toBe(201);
      accepted += 1;
    }
    expect(accepted * 0.5).toBeGreaterThan(DEFAULT_TRAINING_BUDGET); // Σ ε alone would have stopped earlier
    const over = kmeansRound();
    const body = await expectProblem(await internal('/internal/v1/rounds', { descriptor: over, sigma2: honestSigma2(over), verify_key: verifyKeyText }), 422, 'round-refused');
    expect(body.rule).toBe('budget');
    // Counts rounds charge the measurement budget, which is still free.
    const counts = countsRound();
    expect((await internal('/internal/v1/rounds', { descriptor: counts, sigma2: honestSigma2(counts), verify_key: verifyKeyText })).status).toBe(201);
  });
});

describe('a release, decided on the helper’s own state', () => {
  let round: RoundDescriptor;
  let items: Contribution[];
  let selector: BatchSelector;
  let released: { shares: Record<string, string>; counts: Record<string, number>; withheld: Record<string, string>; sigma2: string };

  beforeAll(async () => {
    const opens = nowS();
    // Measurement budget: the counts round above took 0.5 of its 2.
    round = countsRound({ round_id: `c-release-${opens}`, groups: 2, opens_at: opens, closes_at: opens + OPEN_FOR_S, epsilon: 1 });
    expect((await internal('/internal/v1/rounds', { descriptor: round, sigma2: honestSigma2(round), verify_key: verifyKeyText })).status).toBe(201);
    // Group 0 reaches the minimum batch, group 1 does not.
    items = [];
    for (let i = 0; i < DEFAULT_MIN_BATCH; i++) items.push(await contribution(round, 0));
    items.push(await contribution(round, 1));
    selector = await selectorFor(items);
  });

  it('opens only reports sealed to the accepted configuration, verifies each one’s proof, rejecting malformed items one by one', async () => {
    const otherConfig = await contribution({ ...round, min_batch: 1 }, 0);
    const another = await contribution(round, 0);
    const res = await relay(round, [
      ...items.map((c) => c.item),
      otherConfig.item,
      null,
      { id: 7 },
      // Another report's preparation share: the helper's check of the combined proof fails.
      { ...another.item, prep_share: (items[0] as Contribution).item.prep_share },
    ]);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { verified: string[]; rejected: string[] };
    expect(body.verified).toEqual(items.map((c) => c.id));
    expect(body.rejected).toHaveLength(4);
    expect(body.rejected).toContain(otherConfig.id);
    expect(body.rejected).toContain(another.id);
    // Replayed ids change nothing: verified again, stored once (the release below counts them once).
    const replay = (await (await relay(round, items.slice(0, 3).map((c) => c.item))).json()) as { verified: string[]; rejected: string[] };
    expect(replay).toEqual({ verified: items.slice(0, 3).map((c) => c.id), rejected: [] });
    expect(helperRows('contributions')).toBeGreaterThanOrEqual(items.length); // positive control for the purge check below
  });

  it('refuses before the close time', async () => {
    const body = await expectProblem(await internal(`/internal/v1/rounds/${round.round_id}/aggregate`, { selector }), 409, 'release-refused');
    expect(body.rule).toBe('too-early');
  });

  it('refuses a forged count (retryable batch mismatch) and an unknown round', async () => {
    while (nowS() < round.closes_at) await new Promise((r) => setTimeout(r, 250));
    const forged = { ...selector, '0:1': { ...(selector['0:1'] as { count: number; checksum: string }), count: DEFAULT_MIN_BATCH } };
    expect((await expectProblem(await internal(`/internal/v1/rounds/${round.round_id}/aggregate`, { selector: forged }), 409, 'release-refused')).rule).toBe('batch-mismatch');
    expect((await expectProblem(await internal('/internal/v1/rounds/r-never/aggregate', { selector }), 404, 'not-found')).rule).toBe('unknown-round');
    await expectProblem(await internal(`/internal/v1/rounds/${round.round_id}/aggregate`, { selector: { '0:0': { count: -1, checksum: 'x' } } }), 422, 'invalid-body');
  });

  it('releases the buckets at the minimum batch with its own σ² and counts, withholding the rest', async () => {
    const res = await internal(`/internal/v1/rounds/${round.round_id}/aggregate`, { selector });
    expect(res.status).toBe(200);
    released = (await res.json()) as typeof released;
    expect(Object.keys(released.shares)).toEqual(['0:0']);
    expect(released.counts).toEqual({ '0:0': DEFAULT_MIN_BATCH });
    expect(Object.keys(released.withheld)).toEqual(['0:1']);
    expect(released.sigma2).toBe(honestSigma2(round));
    const length = vectorLength(round.kind, round.k, round.d);
    expect(Buffer.from(released.shares['0:0'] as string, 'base64').byteLength).toBe(length * FIELD_ELEMENT_BYTES);
  });

  it('answers the same bytes for the same selector, and refuses any other batch', async () => {
    const again = await internal(`/internal/v1/rounds/${round.round_id}/aggregate`, { selector });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(released);
    const { '0:1': _withheld, ...subset } = selector;
    expect((await expectProblem(await internal(`/internal/v1/rounds/${round.round_id}/aggregate`, { selector: subset }), 409, 'release-refused')).rule).toBe('already-released');
    await expectProblem(await relay(round, []), 409, 'round-not-open');
  });

  it('keeps only the ids after the release: no share is left in the helper’s storage', () => {
    expect(helperRows('contributions')).toBe(0);
    expect(helperRows('spent_ids')).toBeGreaterThanOrEqual(items.length);
  });

  it('lists the release in its ledger, a JWS that verifies against its own JWKS', async () => {
    const res = await fetch(`${stack.helperUrl}/v1/privacy-ledger`, { headers: { origin: 'https://dashboard.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jose');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const jws = await res.text();
    const jwks = (await (await fetch(`${stack.helperUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    expect(jwks.keys.map((k) => k.kid)).toEqual([(JSON.parse(stack.helperSigningJwk) as { kid: string }).kid]);
    expect(decodeProtectedHeader(jws)).toMatchObject({ alg: 'ES256', typ: 'edgeseg-ledger+jwt' });
    const { payload } = await compactVerify(jws, createLocalJWKSet(jwks));
    const ledger = JSON.parse(new TextDecoder().decode(payload)) as { iss: string; releases: { round_id: string; buckets: Record<string, number>; sigma2: string; epsilon: number; contributions: number }[]; spent_30d: { measurement: number } };
    expect(ledger.iss).toBe('edgeseg-helper');
    const entry = ledger.releases.find((r) => r.round_id === round.round_id);
    expect(entry).toMatchObject({ buckets: { '0:0': DEFAULT_MIN_BATCH }, sigma2: honestSigma2(round), epsilon: round.epsilon, contributions: DEFAULT_MIN_BATCH });
    expect(ledger.spent_30d.measurement).toBe(round.epsilon);
    // A tampered payload does not verify.
    const [h, , s] = jws.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...ledger, releases: [] })).toString('base64url')}.${s}`;
    await expect(compactVerify(forged, createLocalJWKSet(jwks))).rejects.toThrow();
  });
});
