/**
 * `npm run simulate -- --via-http URL`: simulated devices send their GRR segment and lifecycle reports and their
 * HPKE-sealed contributions through a real two-aggregator stack, and the round the
 * simulator opens and closes as admin is released over exactly the devices it sent.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicRound } from '@edgeseg/aggregator';
import { mintToken } from '../support/keys.ts';
import { startStack, type RunningStack } from '../support/stack.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ DEV_BACKFILL_WEEKS: '12', MEASUREMENT: 'grr' }); // as npm start runs it, counting by GRR reports (what --via-http sends)
});

afterAll(async () => {
  await stack?.stop();
});

function simulate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'sim/src/cli.ts'), ...args], { cwd: ROOT, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('simulate --via-http', () => {
  it('reports and sealed contributions go through the real API; the round releases over all of them', async () => {
    const admin = await mintToken(stack.authJwk, { role: 'admin', expSecondsFromNow: 3600 });
    const clients = 150;
    const r = await simulate(['--dataset', 'synthetic', '--k', '4', '--clients', String(clients), '--rounds', '1', '--via-http', stack.baseUrl, '--token', admin, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      reports: { sent: number; accepted: number; duplicates: number; period: string; periods: string[]; model_version: number };
      lifecycle: { epsilon: number; sent: number; accepted: number; duplicates: number; devices: Record<'new' | 'active' | 'at_risk' | 'lapsed' | 'none', number> };
      rounds: { round_id: string; sent: number; accepted: number; state: string; model_version: number | null }[];
    };
    // This week and the 11 closed weeks before it (the stack runs with DEV_BACKFILL_WEEKS, as npm start does).
    expect(out.reports.periods).toHaveLength(12);
    expect(out.reports.periods[0]).toBe(out.reports.period);
    expect(out.reports).toMatchObject({ sent: 12 * clients, accepted: 12 * clients, duplicates: 0 });
    // Beside them, one lifecycle report a week from every device with a stage (one that never watched sends none).
    const { none, ...staged } = out.lifecycle.devices;
    const withStage = Object.values(staged).reduce((a, b) => a + b, 0);
    expect(withStage + none).toBe(clients);
    expect(withStage).toBeGreaterThan(0);
    expect(out.lifecycle).toMatchObject({ epsilon: 0.05, sent: 12 * withStage, accepted: 12 * withStage, duplicates: 0 }); // the bootstrap model's lifecycle ε
    expect(out.rounds).toHaveLength(1);
    const [round] = out.rounds;
    expect(round).toMatchObject({ sent: clients, accepted: clients, state: 'released' });
    expect(round?.model_version).toBe(2);

    // The stack agrees: the round is released over exactly the devices the simulator sent, and the model moved on.
    const { rounds } = (await (await fetch(`${stack.baseUrl}/v1/rounds`)).json()) as { rounds: PublicRound[] };
    const mine = rounds.find((x) => x.round_id === round?.round_id) as PublicRound;
    expect(mine.state).toBe('released');
    expect(mine.contributions).toBe(clients);
    const period = (await fetch(`${stack.baseUrl}/v1/admin/periods/${out.reports.period}?model_version=${out.reports.model_version}`, { headers: { authorization: `Bearer ${admin}` } }));
    expect(period.status).toBe(200);
    expect(await period.json()).toMatchObject({ reports: clients, lifecycle_reports: withStage });
    // Reported under the model the round published, so the dashboard's current model shows them.
    expect(out.reports.model_version).toBe(2);
    const marketer = await mintToken(stack.authJwk, { role: 'marketer' });
    const history = (await (await fetch(`${stack.baseUrl}/v1/segments/history`, { headers: { authorization: `Bearer ${marketer}` } })).json()) as { model_version: number; periods: { period: string; reports: number; lifecycle: { reports: number } }[] };
    expect(history.model_version).toBe(2);
    // Every reported closed week the history covers (last week is released a day after it ends) holds exactly the devices sent.
    const reported = new Set(out.reports.periods.slice(1));
    const shown = history.periods.filter((p) => reported.has(p.period));
    expect(shown.length).toBeGreaterThanOrEqual(10);
    expect(shown.every((p) => p.reports === clients)).toBe(true);
    expect(shown.every((p) => p.lifecycle.reports === withStage)).toBe(true);
  }, 240_000);

  it('exits 2 on a URL that is not http(s)', async () => {
    const r = await simulate(['--dataset', 'synthetic', '--via-http', 'ftp://example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--via-http: must be an http\(s\) URL/);
  });
});
