/**
 * The leader's public privacy ledger on a running two-aggregator stack: measurement is
 * secure by default, and `per_device` states, from configuration, the most ε one device
 * can have spent per window; a single-operator stack (no helper) counts by memoised GRR
 * at the bootstrap model's ε and states its own figures.
 */
import { DEFAULT_TRAINING } from '@edgeseg/aggregator/rounds';
import { impressionEpsilon, lifecycleEpsilon } from '@edgeseg/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { verifiedModel } from '../support/model.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { DEVICE_BUDGET } from '@edgeseg/shared';
import { perDevice } from '../../worker/src/per-device.ts';

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
  it('two aggregators: secure counts by default, and per_device is what the configuration allows, within the device budget', async () => {
    const { ledger, measurement, grr } = await ledgerOf({});
    expect(measurement).toBe('secure');
    const expected = perDevice({ measurement: 'secure', counts: { epsilon: 0.4, delta: 1e-9 }, grr, training: { epsilon: DEFAULT_TRAINING.round.epsilon, delta: DEFAULT_TRAINING.round.delta } });
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
