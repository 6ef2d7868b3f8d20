/**
 * The leader's public privacy ledger on a running two-aggregator stack: measurement is
 * secure by default, and `per_device` states, from configuration, the most ε one device
 * can have spent per window; a single-operator stack (no helper) counts by memoised GRR
 * at the bootstrap model's ε and states its own figures.
 */
import { DEFAULT_TRAINING } from '@edgeseg/aggregator/rounds';
import { grrEncode, impressionEpsilon, latestReleasablePeriod, LIFECYCLE_STAGES, lifecycleEpsilon } from '@edgeseg/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { verifiedModel } from '../support/model.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { DEVICE_BUDGET } from '@edgeseg/shared';
import { countsEpsilonOf } from '../../worker/src/counts-epsilon.ts';
import { perDevice } from '../../worker/src/per-device.ts';
import type { TallyLedgerEntry } from '../../worker/src/tally-ledger.ts';

type Ledger = { per_device: Record<'measurement_30d' | 'model_improvement_30d' | 'total_30d' | 'total_365d', number>; releases: unknown[]; note: string };

const stacks: RunningStack[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.stop()));
});

async function ledgerOf(vars: Record<string, string>): Promise<{ ledger: Ledger; measurement: string | undefined; grr: { report: number; lifecycle: number; impression: number } }> {
  const stack = await startStack(vars);
  stacks.push(stack);
  const manifest = await verifiedModel(stack.baseUrl);
  const res = await fetch(`${stack.baseUrl}/v1/privacy-ledger`);
  expect(res.status).toBe(200);
  return { ledger: (await res.json()) as Ledger, measurement: manifest.measurement, grr: { report: manifest.epsilon.report, lifecycle: lifecycleEpsilon(manifest), impression: impressionEpsilon(manifest) } };
}

describe('GET /v1/privacy-ledger per_device', () => {
  it('two aggregators: secure counts of segments, lifecycle stages and impressions by default (wrangler.toml COUNTS_EPSILON sets the segment rounds), and per_device is what the configuration allows, within the device budget', async () => {
    const { ledger, measurement, grr } = await ledgerOf({});
    expect(measurement).toBe('secure');
    const expected = perDevice({ measurement: 'secure', counts: { epsilon: countsEpsilonOf('0.4'), delta: 1e-9 }, grr, training: { epsilon: DEFAULT_TRAINING.round.epsilon, delta: DEFAULT_TRAINING.round.delta } });
    expect(ledger.per_device).toEqual(expected);
    expect(ledger.per_device.measurement_30d).toBeLessThanOrEqual(DEVICE_BUDGET.measurement + 1e-9);
    expect(ledger.per_device.model_improvement_30d).toBeLessThanOrEqual(DEVICE_BUDGET.model_improvement);
    expect(ledger.per_device.total_30d).toBeLessThan(4);
    expect(ledger.per_device.total_365d).toBeLessThanOrEqual(DEVICE_BUDGET.total_365d);
    expect(ledger.note).toMatch(/per_device/);
  }, 180_000);

  it('single operator (no helper): memoised GRR at the model’s ε, five weeks of fresh answers fitting 2 ε per 30 days', async () => {
    const { ledger, measurement, grr } = await ledgerOf({ HELPER_URL: '' });
    expect(measurement ?? 'grr').toBe('grr');
    expect(5 * (grr.report + grr.lifecycle + grr.impression)).toBeLessThanOrEqual(DEVICE_BUDGET.measurement + 1e-9);
    expect(ledger.per_device.measurement_30d).toBeCloseTo(5 * (grr.report + grr.lifecycle + grr.impression), 9);
    expect(ledger.per_device.total_365d).toBeLessThanOrEqual(DEVICE_BUDGET.total_365d);
  }, 180_000);
});

describe('GET /v1/privacy-ledger tally_releases (GRR)', () => {
  it('lists the segments and lifecycle releases of a past period a marketer read, with the model’s ε and the figures answered, once', async () => {
    const stack = await startStack({ MEASUREMENT: 'grr', HELPER_URL: '', DEV_BACKFILL_WEEKS: '2', K_THRESHOLD: '20', GRR_EPSILON: '2,1,1' });
    stacks.push(stack);
    const manifest = await verifiedModel(stack.baseUrl);
    expect(manifest.measurement ?? 'grr').toBe('grr');
    const period = latestReleasablePeriod(Date.now()); // a past week, taken on this stack as `npm start` backfills it
    const id = (p: string, i: number) => `${p}-${String(i).padStart(4, '0')}-${crypto.randomUUID().slice(0, 8)}`;
    const segmentReports = Array.from({ length: 200 }, (_, i) => ({ id: id('seg', i), model_version: manifest.version, period, value: grrEncode(i % 2 === 0 ? 0 : i % manifest.k, manifest.k, manifest.epsilon.report) }));
    const lifecycleReports = Array.from({ length: 200 }, (_, i) => ({ id: id('lc', i), model_version: manifest.version, period, kind: 'lifecycle', value: grrEncode(i % 4, LIFECYCLE_STAGES.length, lifecycleEpsilon(manifest)) }));
    const reports = [...segmentReports, ...lifecycleReports];
    for (let i = 0; i < reports.length; i += 100) {
      const res = await fetch(`${stack.baseUrl}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reports: reports.slice(i, i + 100) }) });
      expect(res.status).toBe(202);
      await res.body?.cancel();
    }
    const ledger = async () => ((await (await fetch(`${stack.baseUrl}/v1/privacy-ledger`)).json()) as { releases: unknown[]; tally_releases: TallyLedgerEntry[]; note: string });
    expect((await ledger()).tally_releases).toEqual([]); // nothing read, nothing released

    const marketer = await mintToken(stack.authJwk, { role: 'marketer' });
    const read = async (path: string) => {
      const res = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${marketer}` } });
      expect(res.status).toBe(200);
      return res.json();
    };
    type Line = { count: number | null; ci95: [number, number] | null; suppressed: boolean };
    const release = (await read(`/v1/segments?period=${period}`)) as { reports: number; segments: (Line & { label: string })[]; lifecycle: { reports: number; stages: (Line & { stage: string })[] } };
    expect(release.reports).toBe(200);
    expect(release.segments.some((s) => !s.suppressed)).toBe(true); // half the reports' truth is segment 0
    const first = await ledger();
    expect(first.releases).toEqual([]); // no round ran
    expect(first.note).toMatch(/number of randomized reports/);
    const entries = first.tally_releases;
    expect(entries.map((e) => e.kind).sort()).toEqual(['lifecycle', 'segments']);
    const line = (l: Line) => ({ count: l.count, ci95: l.ci95, suppressed: l.suppressed });
    expect(entries.find((e) => e.kind === 'segments')).toMatchObject({
      mechanism: 'grr', model_version: manifest.version, period, epsilon: manifest.epsilon.report, delta: 0, reports: 200, k_threshold: 20,
      estimates: release.segments.map((s) => ({ label: s.label, ...line(s) })),
    });
    expect(entries.find((e) => e.kind === 'lifecycle')).toMatchObject({
      mechanism: 'grr', model_version: manifest.version, period, epsilon: lifecycleEpsilon(manifest), delta: 0, reports: 200, k_threshold: 20,
      estimates: release.lifecycle.stages.map((s) => ({ label: s.stage, ...line(s) })),
    });

    // Reading the period again, and the history (other weeks: no report, nothing spent), adds nothing.
    await read(`/v1/segments?period=${period}`);
    await read('/v1/segments/history');
    expect((await ledger()).tally_releases).toEqual(entries);
  }, 180_000);
});
