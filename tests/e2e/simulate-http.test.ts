/**
 * `npm run simulate -- --via-http URL`: simulated devices send their GRR reports and their
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
  stack = await startStack();
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
    const out = JSON.parse(r.stdout) as { reports: { sent: number; accepted: number; duplicates: number; period: string; model_version: number }; rounds: { round_id: string; sent: number; accepted: number; state: string; model_version: number | null }[] };
    expect(out.reports).toMatchObject({ sent: clients, accepted: clients, duplicates: 0 });
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
    expect(((await period.json()) as { reports: number }).reports).toBe(clients);
  }, 240_000);

  it('exits 2 on a URL that is not http(s)', async () => {
    const r = await simulate(['--dataset', 'synthetic', '--via-http', 'ftp://example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--via-http: must be an http\(s\) URL/);
  });
});
