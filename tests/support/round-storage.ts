/**
 * What each aggregator holds of one round's reports, read from copies of their persist
 * directories while the stack runs. A week's counts round stays open until the week is
 * over, and `GET /v1/rounds` says nothing of its reports until then; the verdicts of the
 * preparation exchange (the helper checks each report's Prio3 proof) are in storage:
 * the leader keeps a report `pending` until the helper answers, then sums it
 * (`contributions`) or drops it (`rejected`); the helper stores only reports it verified.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningStack } from './stack.ts';

type SqliteModule = typeof import('node:sqlite');
// Through require: Vite's resolver does not know the `node:sqlite` built-in.
const { DatabaseSync } = createRequire(import.meta.url)('node:sqlite') as SqliteModule;

/** Report ids of one round in one aggregator's storage, by where they stand. */
export interface StoredReports {
  /** Verified and summed (the helper's proof check passed). */
  verified: string[];
  /** Leader only: still waiting for the helper's verdict. */
  pending: string[];
  /** Leader only: dropped because the helper found the proof invalid. */
  rejected: string[];
}

/** Verdicts on the reports of `ids`, on both sides. */
export interface ReportVerdicts {
  leader: StoredReports;
  helper: StoredReports;
}

function sqliteFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sqliteFiles(path));
    else if (entry.name.endsWith('.sqlite')) out.push(path);
  }
  return out;
}

/**
 * The ids of `roundId`'s reports stored under `stateDir` (an aggregator's `--persist-to`
 * directory), read from a copy: workerd holds the live files, and opening the copy
 * read-write lets SQLite replay its write-ahead log.
 *
 * @example
 * const { verified, pending, rejected } = storedReports(stack.stateDirs.leader, round.round_id);
 */
export function storedReports(stateDir: string, roundId: string): StoredReports {
  const copy = mkdtempSync(join(tmpdir(), 'edgeseg-round-storage-'));
  const found: StoredReports = { verified: [], pending: [], rejected: [] };
  try {
    cpSync(stateDir, copy, { recursive: true });
    for (const path of sqliteFiles(copy)) {
      const db = new DatabaseSync(path);
      try {
        const tables = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name));
        // A shard names its round in `meta` (its verified store) or `leader_meta` (the leader's pending reports).
        const roundOf = (table: string) => (tables.has(table) ? (db.prepare(`SELECT value FROM ${table} WHERE key = 'round_id'`).get() as { value: string } | undefined)?.value : undefined);
        if ((roundOf('meta') ?? roundOf('leader_meta')) !== roundId) continue;
        const ids = (table: string) => (tables.has(table) ? (db.prepare(`SELECT id FROM ${table}`).all() as { id: string }[]).map((r) => r.id) : []);
        found.verified.push(...ids('contributions'));
        found.pending.push(...ids('pending'));
        found.rejected.push(...ids('rejected'));
      } finally {
        db.close();
      }
    }
    return found;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * Polls both aggregators' storage until the leader holds none of `ids` pending (the
 * helper has answered on each), then returns where each side has them. Throws after
 * `limitMs` with what is still pending.
 *
 * @example
 * const { leader, helper } = await waitForVerdicts(stack, round.round_id, [contributionId]);
 * expect(leader.rejected).toEqual([]);
 */
export async function waitForVerdicts(stack: Pick<RunningStack, 'stateDirs'>, roundId: string, ids: readonly string[], { limitMs = 30_000, pollMs = 500 } = {}): Promise<ReportVerdicts> {
  const until = Date.now() + limitMs;
  let why = 'not read yet';
  while (Date.now() < until) {
    try {
      const leader = storedReports(stack.stateDirs.leader, roundId);
      const decided = new Set([...leader.verified, ...leader.rejected]);
      const open = ids.filter((id) => !decided.has(id));
      if (open.length === 0) return { leader, helper: storedReports(stack.stateDirs.helper, roundId) };
      why = `still waiting for a verdict on ${open.join(', ')}`;
    } catch (err) {
      why = `storage not readable: ${String(err)}`; // a file copied mid-write; read again
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`round ${roundId}: ${why} after ${limitMs / 1000} s`);
}
