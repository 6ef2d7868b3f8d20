/**
 * A campaign edit publishes the next model version with the same segmentation: reports
 * under either version count together, so the week's counts are not split and the
 * dashboard's history does not restart at every edit.
 */
import { isoWeekPeriod, parseManifest, type ModelManifest } from '@edgeseg/shared';
import { exports } from 'cloudflare:workers';
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';

const BASE = 'http://edgeseg.test';
const worker = exports.default;
let seq = 0;
let admin: string;
let marketer: string;

async function currentModel(): Promise<ModelManifest> {
  const jws = await (await worker.fetch(new Request(`${BASE}/v1/model`))).text();
  const payload = (jws.split('.')[1] as string).replace(/-/g, '+').replace(/_/g, '/');
  const parsed = parseManifest(JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0)))));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

const report = (m: ModelManifest, value: number) => ({ id: `sh-${String(++seq).padStart(5, '0')}-${crypto.randomUUID().slice(0, 12)}`, model_version: m.version, period: isoWeekPeriod(Date.now()), value });
const post = (reports: unknown[]) => worker.fetch(new Request(`${BASE}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reports }) }));
const received = async (version: number) =>
  ((await (await worker.fetch(new Request(`${BASE}/v1/admin/periods/${isoWeekPeriod(Date.now())}?model_version=${version}`, { headers: { authorization: `Bearer ${admin}` } }))).json()) as { reports: number }).reports;

beforeAll(async () => {
  admin = await mintToken(env.AUTH_SIGNING_JWK, { role: 'admin' });
  marketer = await mintToken(env.AUTH_SIGNING_JWK, { role: 'marketer' });
});

describe('segment counts across model versions', () => {
  it('counts reports of a campaign-only republish with the version before it', async () => {
    const v1 = await currentModel();
    expect((await post([report(v1, 0), report(v1, 1), report(v1, 2)])).status).toBe(202);
    const created = await worker.fetch(new Request(`${BASE}/v1/campaigns`, { method: 'POST', headers: { authorization: `Bearer ${marketer}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'history-check', segment: 0, kind: 'message', title: 'Hello' }) }));
    expect(created.status).toBe(201);
    const v2 = await currentModel();
    expect(v2.version).toBe(v1.version + 1);
    expect(v2.centroids).toEqual(v1.centroids);
    expect((await post([report(v2, 0), report(v2, 3)])).status).toBe(202);
    expect(await received(v1.version)).toBe(5);
    expect(await received(v2.version)).toBe(5);
  });
});
