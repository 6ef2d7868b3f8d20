import type { RoundDescriptor } from '@edgeseg/shared';
import { bytesToBase64url, roundDigest } from '@edgeseg/shared/secure';
import { describe, expect, it } from 'vitest';
import { RetryCloseLater } from '../../round/close.ts';
import { fieldVectorToBase64 } from '../../round/wire.ts';
import { openOnHelper, requestHelperAggregate, type HelperTarget } from './helper-client.ts';

const descriptor: RoundDescriptor = {
  round_id: 'r-1', kind: 'counts', mode: 'secure', model_version: 3, k: 2, d: 0, slices: [[[], []]], groups: 1,
  encoding: { clip: 1, bound: 1, weights: { coords: 0.5, count: 0.5, sqdist: 0.5, silhouette: 0.5 } },
  epsilon: 1, delta: 1e-9, opens_at: 1_899_996_400, closes_at: 1_900_000_000, min_batch: 100,
  hpke: {
    leader: { config_id: 1, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'leader' },
    helper: { config_id: 2, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'helper' },
  },
};

const VERIFY_KEY = 'AAECAwQFBgcICQoLDA0ODw';

interface Seen {
  url: string;
  authorization: string | null;
  body: unknown;
}

/** A helper stand-in answering one canned response, recording what it was sent. */
function target(answer: () => Response): HelperTarget & { seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    url: 'https://helper.test',
    token: 'leader-token',
    seen,
    fetch: async (input, init) => {
      seen.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization'), body: JSON.parse(String(init?.body)) });
      return answer();
    },
  };
}

const json = (status: number, body: unknown, type = 'application/json') => new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });
const problem = (status: number, slug: string, extra: Record<string, unknown>) => json(status, { type: `https://edgeseg.dev/problems/${slug}`, title: slug, status, ...extra }, 'application/problem+json');

describe('openOnHelper', () => {
  it('posts { descriptor, sigma2, verify_key } with the leader token and accepts an answer with this descriptor’s digest', async () => {
    const digest = bytesToBase64url(await roundDigest(descriptor));
    const t = target(() => json(201, { round_id: 'r-1', digest, sigma2: '18/1' }));
    expect(await openOnHelper(t, descriptor, '9/1', VERIFY_KEY)).toEqual({ ok: true, digest, sigma2: '18/1' });
    expect(t.seen).toEqual([{ url: 'https://helper.test/internal/v1/rounds', authorization: 'Bearer leader-token', body: { descriptor, sigma2: '9/1', verify_key: VERIFY_KEY } }]);
  });

  it('refuses an acceptance whose digest is another descriptor’s', async () => {
    const other = bytesToBase64url(await roundDigest({ ...descriptor, min_batch: 1 }));
    const opened = await openOnHelper(target(() => json(201, { round_id: 'r-1', digest: other, sigma2: '9/1' })), descriptor, '9/1', VERIFY_KEY);
    expect(opened).toMatchObject({ ok: false, rule: 'digest' });
  });

  it('passes on the helper’s refusal: status, problem slug, rule and detail', async () => {
    const opened = await openOnHelper(target(() => problem(422, 'round-refused', { rule: 'min-batch', detail: 'min_batch 1 is under the policy’s 100' })), descriptor, '9/1', VERIFY_KEY);
    expect(opened).toEqual({ ok: false, status: 422, problem: 'round-refused', rule: 'min-batch', detail: 'min_batch 1 is under the policy’s 100' });
  });

  it('says so when the helper cannot be reached', async () => {
    const t: HelperTarget = { url: 'https://helper.test', token: 't', fetch: async () => { throw new TypeError('connection refused'); } };
    expect(await openOnHelper(t, descriptor, '9/1', VERIFY_KEY)).toMatchObject({ ok: false, status: 0, rule: null, detail: /connection refused/ });
  });
});

describe('requestHelperAggregate', () => {
  const selector = { '0:0': { count: 120, checksum: 'ab'.repeat(32) } };

  it('decodes shares, counts, withheld and σ² of a release', async () => {
    const t = target(() => json(200, { shares: { '0:0': fieldVectorToBase64([1n, 2n, 3n]) }, counts: { '0:0': 120 }, withheld: { '0:1': 'under the minimum batch' }, sigma2: '9/1' }));
    const answer = await requestHelperAggregate(t, 'r/1', selector);
    if (!answer.ok) throw new Error(answer.reason);
    expect(answer.shares['0:0']).toEqual([1n, 2n, 3n]);
    expect(answer.counts).toEqual({ '0:0': 120 });
    expect(answer.withheld).toEqual({ '0:1': 'under the minimum batch' });
    expect(t.seen[0]?.url).toBe('https://helper.test/internal/v1/rounds/r%2F1/aggregate');
    expect(t.seen[0]?.body).toEqual({ selector });
  });

  it('returns a refusal with the helper’s rule; 404 is unknown-round', async () => {
    expect(await requestHelperAggregate(target(() => problem(409, 'release-refused', { rule: 'batch-mismatch', detail: 'bucket 0:0: 119 here' })), 'r-1', selector)).toEqual({ ok: false, rule: 'batch-mismatch', reason: 'bucket 0:0: 119 here' });
    expect(await requestHelperAggregate(target(() => problem(404, 'not-found', { detail: 'no round r-1' })), 'r-1', selector)).toEqual({ ok: false, rule: 'unknown-round', reason: 'no round r-1' });
  });

  it('throws RetryCloseLater when the helper fails, cannot be reached, or answers something unreadable', async () => {
    const cases: HelperTarget[] = [
      target(() => problem(503, 'internal', {})),
      { url: 'https://helper.test', token: 't', fetch: async () => { throw new TypeError('reset'); } },
      target(() => json(200, { shares: { '0:0': 5 }, counts: {}, withheld: {}, sigma2: '9/1' })),
      target(() => json(200, { shares: { '0:0': btoa('seventeen bytes!!') }, counts: { '0:0': 120 }, withheld: {}, sigma2: '9/1' })),
      target(() => json(200, { shares: {}, counts: { '0:0': -1 }, withheld: {}, sigma2: '9/1' })),
      target(() => json(200, { shares: {}, counts: {}, withheld: {}, sigma2: '0.5' })),
    ];
    for (const t of cases) await expect(requestHelperAggregate(t, 'r-1', selector)).rejects.toBeInstanceOf(RetryCloseLater);
  });
});
