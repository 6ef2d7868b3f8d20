/**
 * The CLI end to end, as a user runs it: the MovieLens copy shipped in the repository
 * (sim/data/movielens-latest-small, the default: a clone has nothing beside it) and a
 * small slice of it, and synthetic data with known segments (ARI against the truth ≥ 0.9
 * at ε = 1); JSON shape, exported files, and exit code 2 on bad input.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES_V1 } from '@edgeseg/shared';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
/** MovieLens ml-latest-small's ratings and movies, under the data set's license (its README.txt is beside them). */
const MOVIELENS = join(ROOT, 'sim/data/movielens-latest-small');

function simulate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [join(ROOT, 'sim/src/cli.ts'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The first `users` users' ratings of the in-repo MovieLens copy (all its movies), in a folder of their own. */
function movielensSlice(users: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgeseg-ml-slice-'));
  writeFileSync(join(dir, 'movies.csv'), readFileSync(join(MOVIELENS, 'movies.csv')));
  const lines = readFileSync(join(MOVIELENS, 'ratings.csv'), 'utf8').split('\n');
  writeFileSync(join(dir, 'ratings.csv'), `${lines.filter((l, i) => i === 0 || (l !== '' && Number(l.split(',')[0]) <= users)).join('\n')}\n`);
  return dir;
}

describe('npm run simulate', () => {
  it('without --data-dir reads the MovieLens copy in the repository, every user of it', async () => {
    const users = new Set(readFileSync(join(MOVIELENS, 'ratings.csv'), 'utf8').split('\n').slice(1).filter((l) => l !== '').map((l) => l.split(',')[0]));
    const r = await simulate(['--clients', '50', '--k', '2', '--rounds', '2', '--candidates', '1', '--restarts', '1', '--prio3-sample', '0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { dataset: string; users: number; clients: number };
    expect(j.dataset).toBe('movielens');
    expect(j.users).toBe(users.size);
    expect(j.clients).toBe(50);
  }, 120_000);

  it('on a MovieLens slice: the JSON has every field, the exports their shape', async () => {
    const dir = movielensSlice(40);
    const out = mkdtempSync(join(tmpdir(), 'edgeseg-sim-out-'));
    const features = join(out, 'features.csv');
    const assignments = join(out, 'assignments.csv');
    const r = await simulate(['--dataset', 'movielens', '--data-dir', dir, '--clients', '600', '--k', '4', '--rounds', '4', '--candidates', '2', '--candidate-rounds', '1', '--restarts', '3', '--dropout', '0.1', '--json', '--export-features', features, '--export-assignments', assignments]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown> & { epsilon: { total: number; perRound: number[]; delta: number }; nonPrivate: { inertia: number; silhouette: number }; private: { inertia: number; silhouette: number }; segmentCounts: Record<string, number>; convergence: unknown[] };
    expect(j.dataset).toBe('movielens');
    expect(j.users).toBe(40);
    expect(j.clients).toBe(600);
    expect(j.k).toBe(4);
    expect(j.rounds).toBe(4);
    expect(j.epsilon.total).toBe(1);
    expect(j.epsilon.perRound).toHaveLength(4);
    expect(j.epsilon.delta).toBe(1e-9);
    expect(j.nonPrivate.inertia).toBeGreaterThan(0);
    expect(j.private.inertia).toBeGreaterThan(0);
    for (const s of [j.nonPrivate.silhouette, j.private.silhouette]) expect(Math.abs(s)).toBeLessThanOrEqual(1);
    // The baseline is the best of 10… here 3 seedings; the private model cannot beat a local optimum by much.
    expect(j.lossRatio).toBeCloseTo(j.private.inertia / j.nonPrivate.inertia, 9);
    expect(j.lossRatio).toBeGreaterThan(0.95);
    for (const key of ['ari', 'stabilityAri'] as const) {
      expect(typeof j[key]).toBe('number');
      expect(j[key] as number).toBeLessThanOrEqual(1);
    }
    for (const key of ['rmse', 'relativeRmse', 'theoreticalRmse']) expect(j.segmentCounts[key]).toBeGreaterThan(0);
    expect(j.convergence).toHaveLength(4);
    expect(j.seconds).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/features: [\d.]+ s/);

    const featureLines = readFileSync(features, 'utf8').trimEnd().split('\n');
    expect(featureLines[0]).toBe(FEATURE_NAMES_V1.join(','));
    expect(featureLines).toHaveLength(601);
    const rows = featureLines.slice(1).map((l) => l.split(',').map(Number));
    expect(rows.every((row) => row.length === FEATURE_NAMES_V1.length && row.every(Number.isFinite))).toBe(true);
    // Standardised: every non-constant column has mean ≈ 0 and variance ≈ 1.
    const col = rows.map((row) => row[1] as number);
    const mean = col.reduce((a, b) => a + b, 0) / col.length;
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    expect(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length).toBeCloseTo(1, 2);

    const assignmentLines = readFileSync(assignments, 'utf8').trimEnd().split('\n');
    expect(assignmentLines[0]).toBe('device,private,nonPrivate');
    expect(assignmentLines).toHaveLength(601);
    for (const line of assignmentLines.slice(1)) {
      const [device, priv, nonPriv] = line.split(',').map(Number);
      expect(Number.isInteger(device)).toBe(true);
      expect(priv).toBeGreaterThanOrEqual(0);
      expect(priv).toBeLessThan(4);
      expect(nonPriv).toBeGreaterThanOrEqual(0);
      expect(nonPriv).toBeLessThan(4);
    }
  }, 120_000);

  it('on synthetic data with known segments: private ARI against the truth ≥ 0.9 at ε = 1', async () => {
    const r = await simulate(['--dataset', 'synthetic', '--clients', '4000', '--k', '4', '--epsilon', '1', '--restarts', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { truthAri: { private: number; nonPrivate: number }; lossRatio: number; users: number };
    expect(j.users).toBe(4);
    expect(j.truthAri.nonPrivate).toBeGreaterThanOrEqual(0.9);
    expect(j.truthAri.private).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('writes a self-contained HTML report', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'edgeseg-sim-report-')), 'report.html');
    const r = await simulate(['--dataset', 'synthetic', '--clients', '1000', '--k', '3', '--rounds', '3', '--candidates', '1', '--restarts', '2', '--report', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script src|<link |https?:\/\/(?!www\.w3\.org)/);
    for (const title of ['Loss ratio', 'Agreement', 'Per-round convergence', 'Silhouette by k', 'Lifecycle shares', 'Segment count error', 'Segment profiles']) expect(html).toContain(title);
    const data = JSON.parse(/<script type="application\/json" id="data">(.*)<\/script>/s.exec(html)?.[1] ?? '{}') as { report: { sweep: { mode: string; epsilon: number }[] } };
    expect(data.report.sweep.map((p) => `${p.mode}:${p.epsilon}`)).toEqual(['secure', 'local'].flatMap((m) => [0.25, 0.5, 1, 2, 4, 8].map((e) => `${m}:${e}`)));
    expect(r.stdout).toMatch(/lossRatio/);
  }, 180_000);

  it('--prio3-sample runs real Prio3 reports for a sample (proofs verified, shares checked) and reports the cost', async () => {
    const r = await simulate(['--dataset', 'synthetic', '--clients', '120', '--k', '3', '--rounds', '2', '--candidates', '1', '--restarts', '1', '--prio3-sample', '60', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { prio3: { devices: number; shardMs: number; prepMs: number; kmeans: { devices: number; shardMs: number } } };
    expect(j.prio3.devices).toBe(60);
    expect(j.prio3.kmeans.devices).toBe(1);
    expect(j.prio3.shardMs).toBeGreaterThan(0);
    expect(j.prio3.prepMs).toBeGreaterThan(0);
    const local = await simulate(['--dataset', 'synthetic', '--clients', '120', '--k', '3', '--rounds', '2', '--candidates', '1', '--restarts', '1', '--mode', 'local', '--json']);
    expect((JSON.parse(local.stdout) as { prio3: unknown }).prio3).toBeNull();
  }, 120_000);

  it('exits 2 with one clear line on bad arguments or a malformed data folder', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'edgeseg-ml-bad-'));
    writeFileSync(join(bad, 'movies.csv'), 'movieId,title,genres\n1,A (1999),Drama\n');
    writeFileSync(join(bad, 'ratings.csv'), 'user,movie,stars\n1,1,4\n');
    const cases: [string[], RegExp][] = [
      [['--clients', 'many', '--dataset', 'synthetic'], /--clients: must be an integer/],
      [['--mode', 'central', '--dataset', 'synthetic'], /--mode: must be secure or local/],
      [['--frobnicate'], /unknown option --frobnicate/],
      [['--data-dir', '/nonexistent/edgeseg'], /not a folder/],
      [['--dataset', 'movielens', '--data-dir', '/nonexistent/edgeseg'], /not a folder/],
      [['--dataset', 'movielens', '--data-dir', bad, '--clients', '50'], /ratings\.csv: header must start with userId,movieId,rating,timestamp/],
    ];
    for (const [args, message] of cases) {
      const r = await simulate(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  }, 120_000);
});
