/**
 * The helper is a guardian a malicious leader cannot talk round (issue #14): against a real
 * stack whose helper runs its REAL default policy (`startStack({}, { helper: {} })`: minimum
 * batch 100 per bucket, ε ≤ 1 per round, δ ≤ 1e-9, an ε budget of 2 per 30 days per kind),
 * this file plays the leader turned attacker. It holds only what a leader holds: the leader
 * token and an HPKE key of its own. It talks to the helper's internal routes directly
 * (contract §3) and builds devices' contributions itself, so it can show devices one
 * configuration and the helper another.
 *
 * Each attack is refused with the rule it breaks (problem+json, member `rule`), and a
 * refused round leaves nothing on the helper: asking to aggregate it answers 404, and at
 * the end no refused round id appears anywhere in the helper's storage on disk.
 *
 * THE RECONSTRUCTION (the attack: a round with σ² = 1e-12 and a minimum of one
 * device, one device's seed relayed, the release combined with the leader's own share gave
 * back the device's 31 features to within 0.004) now fails at every step:
 * 1. the helper refuses the σ² and the minimum batch, so there is no round to relay into;
 * 2. shown a legal round while devices were sealed to the attacker's, the helper cannot
 *    open their seeds (the aad binds the digest of the whole descriptor);
 * 3. in a legal round the device alone in its bucket is withheld (no share, no noise drawn);
 * 4. padded with 99 all-zero Sybil contributions the attacker controls, the bucket is
 *    released, but with the helper's own noise at the helper's σ²: the attacker's
 *    reconstruction is the device's vector plus noise of exactly that variance, whereas
 *    the same arithmetic on un-noised helper shares gives the vector back exactly.
 *    (Prio3 proofs, issue #15, bound what each Sybil can add but not how many there are;
 *    what stays is (ε, δ)-DP, which the helper's noise gives on its own.)
 *
 * Since #15 the relay is the preparation exchange: each item carries the leader's Prio3
 * preparation share, and the helper stores only reports whose proof verifies under the
 * round's verify key (which the leader draws and sends on open, so a malicious leader
 * knows it and can grind its Sybils' ids into the target's group: groups come from ids).
 */
import { flattenCentroids, isoWeekPeriod, seededRandom, type RoundDescriptor } from '@edgeseg/shared';
import { sigma2ForEpsilon } from '@edgeseg/shared/dp';
import { addFieldInto, base64urlToBytes, combineFieldShares, decodeFieldVector, encodeKmeansContribution, removeOffset, roundDigest, vectorLength, zeroFieldVector } from '@edgeseg/shared/secure';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import {
  MaliciousLeader,
  expectRefusal,
  relayItem,
  sameRational,
  selectorFor,
  sigma2Text,
  storageBytes,
  type BuiltDevice,
  type HelperRelease,
  type RelayAnswer,
} from '../support/malicious-leader.ts';
import { composedEpsilon } from '../support/helper-policy.ts';
import { startStack, type RunningStack } from '../support/stack.ts';

/** The release round's length: it must be open when relayed to and closed before the release. */
const RELEASE_ROUND_S = 60;
/** The helper's default 30-day training budget (DEFAULT_HELPER_POLICY.budget_training; README, Helper policy). */
const TRAINING_BUDGET = 2;
/** Sybil contributions the attacker pads the target's bucket with: one under the helper's minimum batch of 100, plus the target. */
const SYBILS = 99;

let stack: RunningStack;
let attacker: MaliciousLeader;
/** The legal round the release attacks run against (ε 0.5, minimum batch 100, 2 groups). */
let releaseRound: RoundDescriptor;
/** Bucket 0:0: the target device and the attacker's Sybils (ids ground into group 0); bucket 0:1: a second device alone. */
let target: BuiltDevice;
let sybils: BuiltDevice[];
let loner: BuiltDevice;
/** Every round id the helper refused: none may be stored. */
const refusedIds: string[] = [];

let seq = 0;
function roundId(tag: string): string {
  return `ml-${tag}-${++seq}-${crypto.randomUUID().slice(0, 8)}`;
}

function deviceId(tag: string, i: number): string {
  return `ml-dev-${tag}-${String(i).padStart(4, '0')}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A device's encoded vector: seeded features near centroid 1 of slice 0 of `round`, encoded against that slice. */
function targetVector(round: RoundDescriptor): Int32Array {
  const random = seededRandom(0x7a59e7);
  const noise = new Uint32Array(round.d);
  random(noise);
  const centre = round.slices[0]?.[1] as number[];
  const x = Float32Array.from(centre, (v, j) => v + ((noise[j] as number) / 2 ** 32 - 0.5));
  return encodeKmeansContribution(x, flattenCentroids(round.slices[0] ?? []), round.encoding, random).vector;
}

/** A built device's bucket, as the leader puts it in a selector. */
function bucketOf(d: BuiltDevice): { id: string; slice: number; group: number } {
  return { id: d.body.id, slice: d.body.slice, group: d.group };
}

async function helperAnswer<T>(res: Response, status: number, what: string): Promise<T> {
  const text = await res.text();
  expect(res.status, `${what}: ${text}`).toBe(status);
  return JSON.parse(text) as T;
}

/** A refused round leaves no round behind: the helper knows no such round to aggregate. */
async function expectNoRound(id: string): Promise<void> {
  const res = await attacker.aggregate(id, {});
  expect(res.status, `aggregate ${id} after its refusal: ${await res.clone().text()}`).toBe(404);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
  await res.body?.cancel();
  refusedIds.push(id);
}

async function waitUntilClosed(round: RoundDescriptor): Promise<void> {
  const waitMs = (round.closes_at + 1) * 1000 - Date.now();
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
}

beforeAll(async () => {
  stack = await startStack({}, { helper: {} });
  attacker = await MaliciousLeader.create(stack.helperUrl, stack.leaderToken);
  releaseRound = attacker.descriptor(roundId('release'), RELEASE_ROUND_S);
  // Devices first, so the round's short open time is not spent sealing.
  const L = vectorLength('kmeans', releaseRound.k, releaseRound.d);
  const inGroup = (tag: string, i: number, group: number) => attacker.idInGroup(deviceId(tag, i), group, releaseRound.groups);
  target = await attacker.device(releaseRound, targetVector(releaseRound), await inGroup('target', 0, 0), 0);
  sybils = [];
  for (let i = 0; i < SYBILS; i++) sybils.push(await attacker.device(releaseRound, new Int32Array(L), await inGroup('sybil', i, 0), 0));
  loner = await attacker.device(releaseRound, targetVector(releaseRound), await inGroup('loner', 0, 1), 0);
  const opened = await attacker.openRound(releaseRound);
  expect(opened.status, await opened.clone().text()).toBe(201);
  await opened.body?.cancel();
  const all = [target, ...sybils, loner];
  const relayed = await helperAnswer<RelayAnswer>(await attacker.relay(releaseRound.round_id, all.map(relayItem)), 200, 'relay to the release round');
  expect(relayed).toEqual({ verified: all.map((d) => d.body.id), rejected: [] });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a legal round, and what the helper says about it', () => {
  it('accepts a round inside its policy, answering the digest of what it accepted and its OWN σ²; the same descriptor again is the same answer', async () => {
    const again = await helperAnswer<{ round_id: string; digest: string; sigma2: string }>(await attacker.openRound(releaseRound), 201, 'reopen');
    expect(again.round_id).toBe(releaseRound.round_id);
    expect(Buffer.from(base64urlToBytes(again.digest)).equals(Buffer.from(await roundDigest(releaseRound)))).toBe(true);
    expect(sameRational(again.sigma2, sigma2Text(sigma2ForEpsilon(releaseRound.epsilon, releaseRound.delta, releaseRound.encoding.bound)))).toBe(true);
  });

  it('an early release (before closes_at, by the helper’s clock) is refused and spends nothing', async () => {
    expect(Date.now() / 1000).toBeLessThan(releaseRound.closes_at);
    await expectRefusal(await attacker.aggregate(releaseRound.round_id, await selectorFor([target, ...sybils, loner].map(bucketOf))), 409, 'release-refused', 'too-early');
  });

  it('the same round id under another descriptor is a conflict, and the accepted one stands', async () => {
    const loosened = { ...releaseRound, min_batch: 1 };
    await expectRefusal(await attacker.openRound(loosened), 409, 'round-conflict');
    const same = await helperAnswer<{ digest: string }>(await attacker.openRound(releaseRound), 201, 'the accepted descriptor');
    expect(Buffer.from(base64urlToBytes(same.digest)).equals(Buffer.from(await roundDigest(releaseRound)))).toBe(true);
  });
});

describe('the policy is the helper operator’s, not the leader’s', () => {
  it('publishes its policy, and the leader token cannot change it', async () => {
    const before = (await (await fetch(`${stack.helperUrl}/v1/policy`)).json()) as Record<string, unknown>;
    const res = await fetch(`${stack.helperUrl}/v1/admin/policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.leaderToken}` },
      body: JSON.stringify({ min_batch: 1, max_epsilon: 20 }),
    });
    expect([401, 403], await res.clone().text()).toContain(res.status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
    await res.body?.cancel();
    expect(await (await fetch(`${stack.helperUrl}/v1/policy`)).json()).toEqual(before);
  });
});

describe('rounds outside the helper’s policy are refused with the rule they break, and leave no round', () => {
  const cases: [string, string, (a: MaliciousLeader, id: string) => { descriptor: RoundDescriptor; sigma2?: string }][] = [
    ['σ² stated smaller than the helper’s own (the issue’s 1e-12)', 'sigma2', (a, id) => ({ descriptor: a.descriptor(id, 600), sigma2: '1/1000000000000' })],
    ['σ² stated one unit under the helper’s exact rational', 'sigma2', (a, id) => {
      const d = a.descriptor(id, 600);
      const honest = sigma2ForEpsilon(d.epsilon, d.delta, d.encoding.bound);
      return { descriptor: d, sigma2: `${honest.num * 1000n - 1n}/${honest.den * 1000n}` };
    }],
    ['a minimum batch of 1 (the issue’s min_devices = 1)', 'min-batch', (a, id) => ({ descriptor: a.descriptor(id, 600, { min_batch: 1 }) })],
    ['a minimum batch one under the policy', 'min-batch', (a, id) => ({ descriptor: a.descriptor(id, 600, { min_batch: 99 }) })],
    ['ε over the per-round maximum', 'max-epsilon', (a, id) => ({ descriptor: a.descriptor(id, 600, { epsilon: 1.5 }) })],
    ['δ over the maximum', 'max-delta', (a, id) => ({ descriptor: a.descriptor(id, 600, { delta: 1e-6 }) })],
    ['the leader’s own HPKE key posing as the helper’s', 'helper-key', (a, id) => ({ descriptor: a.descriptor(id, 600, { hpke: { leader: a.leaderConfig, helper: a.leaderConfig } }) })],
    ['a helper key the helper does not hold (the leader’s key under the helper’s config id)', 'helper-key', (a, id) => ({
      descriptor: a.descriptor(id, 600, { hpke: { leader: a.leaderConfig, helper: { ...a.leaderConfig, config_id: a.helperConfig.config_id } } }),
    })],
    ['a local-mode round (the helper only serves secure rounds)', 'mode', (a, id) => {
      const { hpke, ...d } = a.descriptor(id, 600);
      const sigma2 = sigma2ForEpsilon(d.epsilon, d.delta, d.encoding.bound);
      return { descriptor: { ...d, mode: 'local', local_sigma2: Number(sigma2.num) / Number(sigma2.den), hpke: { leader: hpke.leader } } };
    }],
    ['more groups than the policy allows', 'max-groups', (a, id) => ({ descriptor: a.descriptor(id, 600, { groups: 1000 }) })],
    ['a round longer than the maximum duration', 'max-duration', (a, id) => ({ descriptor: a.descriptor(id, 60 * 86_400) })],
    ['a round that already closed', 'times', (a, id) => {
      const nowS = Math.floor(Date.now() / 1000);
      return { descriptor: a.descriptor(id, 600, { opens_at: nowS - 120, closes_at: nowS - 60 }) };
    }],
  ];
  for (const [what, rule, build] of cases) {
    it(`${what} → 422 round-refused, rule ${rule}`, async () => {
      const id = roundId(rule);
      const { descriptor, sigma2 } = build(attacker, id);
      await expectRefusal(await attacker.openRound(descriptor, sigma2), 422, 'round-refused', rule, what);
      await expectNoRound(id);
    });
  }

  it('the issue’s attack, step 1: with the 1e-12 round refused there is no round to relay the device’s seed into', async () => {
    const id = roundId('issue');
    const shown = attacker.descriptor(id, 600, { min_batch: 1 });
    await expectRefusal(await attacker.openRound(shown, '1/1000000000000'), 422, 'round-refused', undefined, 'σ² 1e-12 and min batch 1');
    const device = await attacker.device(shown, targetVector(shown), deviceId('issue', 0), 0);
    const relayed = await attacker.relay(id, [relayItem(device)]);
    expect(relayed.ok, await relayed.clone().text()).toBe(false);
    expect(relayed.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
    await relayed.body?.cancel();
    await expectNoRound(id);
  });
});

describe('configuration binding: devices and helper must hold the same descriptor', () => {
  it('devices sealed to descriptor A, the helper accepted B under the same id: the helper opens none of their seeds (a B-sealed one opens, once); nor a seed lifted from another round', async () => {
    const id = roundId('bound');
    const accepted = attacker.descriptor(id, 600);
    // What the attacker shows devices: the same round, but every one of its own choices differs somewhere.
    const shownVariants: [string, RoundDescriptor][] = [
      ['min_batch 1', { ...accepted, min_batch: 1 }],
      ['ε 0.25', { ...accepted, epsilon: 0.25 }],
      ['8 groups', { ...accepted, groups: 8 }],
      ['a later close', { ...accepted, closes_at: accepted.closes_at + 3600 }],
      ['other centroids', { ...accepted, slices: [accepted.slices[0]?.map((row) => row.map((v) => v + 0.5)) ?? []] }],
    ];
    expect((await attacker.openRound(accepted)).status).toBe(201);
    const L = vectorLength('kmeans', accepted.k, accepted.d);
    const shown = await Promise.all(shownVariants.map(([, d], i) => attacker.device(d, new Int32Array(L), deviceId('shown', i), 0)));
    const honest = await attacker.device(accepted, new Int32Array(L), deviceId('honest', 0), 0);
    const answer = await helperAnswer<RelayAnswer>(await attacker.relay(id, [...shown, honest].map(relayItem)), 200, 'relay of A-sealed shares');
    expect(answer.rejected.sort()).toEqual(shown.map((d) => d.body.id).sort());
    expect(answer.verified).toEqual([honest.body.id]);
    // A share lifted from another round (the release round's target) does not open here
    // either, and the honest report relayed again is verified again but stored once
    // (the release below counts the bucket from the helper's own rows).
    const replayed = await helperAnswer<RelayAnswer>(await attacker.relay(id, [relayItem(target), relayItem(honest)]), 200, 'relay of a lifted share and a replay');
    expect(replayed).toEqual({ verified: [honest.body.id], rejected: [target.body.id] });
  });

  it('malformed relay items are rejected one by one, never a 500', async () => {
    const id = roundId('malformed');
    const round = attacker.descriptor(id, 600);
    expect((await attacker.openRound(round)).status).toBe(201);
    const badId = deviceId('bad', 0);
    const good = relayItem(await attacker.device(round, new Int32Array(vectorLength('kmeans', round.k, round.d)), badId, 0));
    const items = [
      null,
      7,
      { id: 5, slice: 'a', public_share: null, sealed: {} },
      { ...good, sealed: 'not an object' },
      { ...good, prep_share: good.prep_share.slice(1) },
      { ...good, joint_rand_seed: 12 },
      { ...good, public_share: 'AAAA' },
    ];
    const answer = await helperAnswer<RelayAnswer>(await attacker.relay(id, items as never), 200, 'malformed items');
    expect(answer.verified).toEqual([]);
    expect(answer.rejected).toContain(badId);
    expect(answer.rejected).toHaveLength(items.length);
  });
});

describe('through the leader’s own admin route', () => {
  it('an admin round under the helper’s minimum batch fails with the helper’s rule and opens nothing on either side', async () => {
    const admin = await mintToken(stack.authJwk, { role: 'admin' });
    const list = async () => (await (await fetch(`${stack.baseUrl}/v1/rounds`)).json()) as unknown;
    const before = await list();
    const res = await fetch(`${stack.baseUrl}/v1/admin/rounds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ duration_s: 600, min_batch: 1, epsilon: 0.5, delta: 1e-9, groups: 4 }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
    expect(text).toContain('min-batch');
    expect(await list()).toEqual(before);
    expect((await fetch(`${stack.baseUrl}/v1/rounds/current`)).status).toBe(404);
  });
});

describe('the ε budget per 30 days, per kind of round', () => {
  // Training (k-means) rounds accepted so far: the release round, the binding round and the
  // malformed-items round, each ε 0.5. The helper counts them as a device does: the smaller
  // of Σ ε and their zCDP composition, against the policy's 2.
  it('refuses a round that would take the kind’s 30-day composition over the budget; a small one that still fits opens', async () => {
    const spent = [0.5, 0.5, 0.5];
    // Rounds of the policy's largest ε (1) while they fit: more than Σ ε would allow.
    while (composedEpsilon([...spent, 1]) <= TRAINING_BUDGET) {
      const id = roundId(`budget-fill-${spent.length}`);
      expect((await attacker.openRound(attacker.descriptor(id, 600, { epsilon: 1 }))).status).toBe(201);
      spent.push(1);
    }
    expect(spent.reduce((a, b) => a + b, 0)).toBeGreaterThan(TRAINING_BUDGET);
    const over = roundId('budget');
    await expectRefusal(await attacker.openRound(attacker.descriptor(over, 600, { epsilon: 1 })), 422, 'round-refused', 'budget');
    await expectNoRound(over);
    // What is left still takes a round small enough to fit it.
    const small = [0.4, 0.2, 0.1, 0.05, 0.02, 0.01].find((e) => composedEpsilon([...spent, e]) <= TRAINING_BUDGET);
    expect(small).toBeDefined();
    expect((await attacker.openRound(attacker.descriptor(roundId('budget-small'), 600, { epsilon: small as number }))).status).toBe(201);
  });

  it('the measurement budget is its own: a counts round still opens', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const counts: RoundDescriptor = {
      ...attacker.descriptor(roundId('counts'), 600),
      kind: 'counts',
      d: 0,
      slices: [[[], [], [], []]],
      groups: 1,
      encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } },
      epsilon: 1,
      period: isoWeekPeriod(nowS * 1000),
    };
    const res = await attacker.openRound(counts);
    expect(res.status, await res.clone().text()).toBe(201);
    await res.body?.cancel();
  });
});

describe('release: after the close, once, on the helper’s own counts, never a small bucket', () => {
  let all: BuiltDevice[];
  let released: HelperRelease;

  beforeAll(async () => {
    all = [target, ...sybils, loner];
    await waitUntilClosed(releaseRound);
  }, 60_000);

  it('a forged count (the lone device’s bucket claimed to hold 100) is refused as a batch mismatch', async () => {
    const selector = await selectorFor(all.map(bucketOf));
    const forged = { ...selector, '0:1': { count: releaseRound.min_batch, checksum: selector['0:1']?.checksum as string } };
    await expectRefusal(await attacker.aggregate(releaseRound.round_id, forged), 409, 'release-refused', 'batch-mismatch');
  });

  it('a forged id checksum (the right counts, other ids) is refused as a batch mismatch', async () => {
    const selector = await selectorFor(all.map(bucketOf));
    const other = await selectorFor([{ id: deviceId('ghost', 0), slice: 0, group: 1 }]);
    await expectRefusal(await attacker.aggregate(releaseRound.round_id, { ...selector, '0:1': other['0:1'] as { count: number; checksum: string } }), 409, 'release-refused', 'batch-mismatch');
  });

  it('the true batch: the 100-device bucket is released with the helper’s own σ², the lone device’s bucket is withheld (no share)', async () => {
    released = await helperAnswer<HelperRelease>(await attacker.aggregate(releaseRound.round_id, await selectorFor(all.map(bucketOf))), 200, 'release');
    expect(Object.keys(released.shares)).toEqual(['0:0']);
    expect(Object.keys(released.withheld)).toEqual(['0:1']);
    expect(released.counts['0:0']).toBe(SYBILS + 1);
    expect(sameRational(released.sigma2, sigma2Text(sigma2ForEpsilon(releaseRound.epsilon, releaseRound.delta, releaseRound.encoding.bound)))).toBe(true);
  });

  it('the same batch again answers the same bytes (no second noise draw); another batch is refused: already released', async () => {
    const again = await helperAnswer<HelperRelease>(await attacker.aggregate(releaseRound.round_id, await selectorFor(all.map(bucketOf))), 200, 'retry');
    expect(again).toEqual(released);
    // Differencing: the batch without the lone device's bucket, then one without the target.
    await expectRefusal(await attacker.aggregate(releaseRound.round_id, await selectorFor([target, ...sybils].map(bucketOf))), 409, 'release-refused', 'already-released');
    await expectRefusal(await attacker.aggregate(releaseRound.round_id, await selectorFor([...sybils, loner].map(bucketOf))), 409, 'release-refused', 'already-released');
  });

  it('a released round takes no more shares', async () => {
    const late = await attacker.device(releaseRound, new Int32Array(vectorLength('kmeans', releaseRound.k, releaseRound.d)), deviceId('late', 0), 0);
    await expectRefusal(await attacker.relay(releaseRound.round_id, [relayItem(late)]), 409, 'round-not-open');
  });

  it('THE RECONSTRUCTION: own shares + the helper’s release − Sybils = the target’s vector + the helper’s noise at its own σ²; without that noise it would be exact', async () => {
    const L = vectorLength('kmeans', releaseRound.k, releaseRound.d);
    const bucket = [target, ...sybils];
    // The leader's side of bucket 0:0, opened and prepared with its own key (it adds no noise of its own).
    const leaderSum = zeroFieldVector(L);
    for (const d of bucket) addFieldInto(leaderSum, (await attacker.prepareOwnShare(releaseRound, d.body)).outputShare);
    const helperShare = decodeFieldVector(new Uint8Array(Buffer.from(released.shares['0:0'] as string, 'base64')));
    expect(helperShare.length).toBe(L);
    // Sybils contributed zeros, so the combination (the SumVec offset taken off) is the target's vector plus the helper's noise.
    const reconstructed = removeOffset('kmeans', combineFieldShares(leaderSum, helperShare), bucket.length);
    const errors = Array.from(reconstructed, (v, i) => v - (target.vector[i] as number));
    const meanSquare = errors.reduce((s, e) => s + e * e, 0) / L;
    const [num, den] = released.sigma2.split('/').map(Number) as [number, number];
    const sigma2 = num / den;
    // L draws of the helper's discrete Gaussian: their mean square is σ²·χ²(L)/L, within [½, 2]·σ² but for odds under 10^-6.
    expect(meanSquare, `mean square error ${meanSquare} vs the helper's σ² ${sigma2}`).toBeGreaterThan(sigma2 / 2);
    expect(meanSquare).toBeLessThan(2 * sigma2);
    // Positive control: the same arithmetic with the helper's un-noised sum of shares gives the vector back exactly.
    const helperSum = zeroFieldVector(L);
    for (const d of bucket) addFieldInto(helperSum, (await attacker.helperOutputShare(releaseRound, d)).outputShare);
    expect([...removeOffset('kmeans', combineFieldShares(leaderSum, helperSum), bucket.length)]).toEqual([...target.vector]);
  });
});

describe('the helper’s own ledger', () => {
  it('is a JWS signed with the helper’s key listing the release as the helper made it, and none of the refused rounds', async () => {
    const jwks = (await (await fetch(`${stack.helperUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    const res = await fetch(`${stack.helperUrl}/v1/privacy-ledger`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/jose\b/);
    const { payload, protectedHeader } = await jwtVerify(await res.text(), createLocalJWKSet(jwks), { algorithms: ['ES256'], typ: 'edgeseg-ledger+jwt' });
    expect(protectedHeader.kid).toBe(jwks.keys[0]?.kid);
    const ledger = payload as unknown as {
      iss: string;
      policy: Record<string, unknown>;
      releases: { round_id: string; kind: string; epsilon: number; delta: number; sigma2: string; buckets: Record<string, number>; released_at: number }[];
      spent_30d: { training: number; measurement: number };
    };
    expect(ledger.iss).toBe('edgeseg-helper');
    expect(ledger.policy).toEqual(await (await fetch(`${stack.helperUrl}/v1/policy`)).json());
    expect(ledger.releases.map((r) => r.round_id)).toEqual([releaseRound.round_id]);
    const [release] = ledger.releases;
    expect(release?.kind).toBe('kmeans');
    expect([release?.epsilon, release?.delta]).toEqual([releaseRound.epsilon, releaseRound.delta]);
    expect(sameRational(release?.sigma2 ?? '0/1', sigma2Text(sigma2ForEpsilon(releaseRound.epsilon, releaseRound.delta, releaseRound.encoding.bound)))).toBe(true);
    expect(release?.buckets).toEqual({ '0:0': SYBILS + 1 });
    expect(release?.released_at).toBeGreaterThanOrEqual(releaseRound.closes_at);
    expect(ledger.spent_30d.training).toBeGreaterThanOrEqual(releaseRound.epsilon);
  });

  it('no refused round was stored anywhere in the helper’s storage (the scan does see the accepted ones)', () => {
    const stored = storageBytes(stack.stateDirs.helper);
    expect(stored.includes(Buffer.from(releaseRound.round_id)), 'the scan sees the accepted round').toBe(true);
    expect(refusedIds.length).toBeGreaterThan(0);
    expect(refusedIds.filter((id) => stored.includes(Buffer.from(id)))).toEqual([]);
  });
});
