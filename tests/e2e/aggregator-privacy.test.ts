/**
 * Neither aggregator alone can reconstruct a device's vector: this test runs a real
 * secure round (200 devices, two `wrangler dev` aggregators), then reads every byte each
 * aggregator stored (every file under its `--persist-to` directory, and every cell of
 * every table of every SQLite database there) and everything it received over HTTP for
 * the round, and checks it against the devices' true vectors, which the test knows
 * because it builds them itself (seeded features → `encodeKmeansContribution` →
 * `sealSecureVector` with a seeded source whose 16-byte helper seed is recorded).
 *
 * The argument, and what each assertion shows of it:
 *
 * - Device i with encoded vector v_i draws a fresh 16-byte seed s_i, independent of v_i.
 *   The helper's share is H_i = PRG(s_i) (AES-128-CTR keystream), the leader's share is
 *   L_i = v_i − H_i mod 2^32. L_i is sealed (HPKE) to the leader, s_i to the helper, each
 *   with an aad binding round, id, slice, group and role.
 * - Helper alone. Its whole view is (id, slice, group, sealed s_i) relayed by the leader,
 *   the public round record, and the leader's batch selector. Opened, that is s_i and
 *   H_i = PRG(s_i): a function of s_i alone, and s_i is independent of v_i, so the helper's
 *   view is independent of v_i (information-theoretically, not only computationally). The
 *   test shows the helper stored for each device exactly expandSeed(s_i), never a leader
 *   share or leader ciphertext (assertion 3), and no byte of v_i or x_i (assertion 1).
 * - Leader alone. Its view is the device requests (L_i sealed to its own key, s_i sealed
 *   to the helper's key, which it does not hold) and what it stores: L_i, a digest of the
 *   id, slice, group, and the helper ciphertext until relayed. Without s_i, H_i is
 *   pseudorandom, so L_i is computationally indistinguishable from uniform whatever v_i
 *   is. The test shows no seed or helper share is stored on the leader and no byte of
 *   v_i or x_i appears anywhere on it (1); that the leader's stored shares pass a χ² test
 *   of uniformity on every byte lane although the vectors are ≈ 3/4 zero words and fail
 *   the same test by orders of magnitude (2); and that the natural attack (the nonzero
 *   block of v_i is the device's segment: guess the block with the largest entries) is
 *   at chance on the shares and perfect on the vectors.
 * - Only together. L_i + H_i = v_i for every device (4, a positive control: the stored
 *   shares are the real ones, so the negative results above are not vacuous).
 *
 * - Nothing kept that is not needed (5). The assertions above read both sides while the
 *   round is open, once every share has reached the helper; after the release both sides
 *   are read again: no per-contribution share, seed, ciphertext or relay item remains,
 *   logically (no row of the round holds one; only the ids stay, for replay refusal) nor
 *   as bytes anywhere on disk (database files and write-ahead logs, free pages included).
 *
 * Every input is seeded (features, rounding, slice, group, seeds, ids), so the stored
 * shares and thus each χ² statistic are the same on every run; the threshold is the
 * p = 10^-6 upper quantile of χ²(255) (Wilson–Hilferty), for all bytes and per byte lane.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { flattenCentroids, seededRandom, type RandomSource, type RoundDescriptor, type SecureContribution } from '@edgeseg/shared';
import {
  SEED_BYTES,
  base64urlToBytes,
  bytesToUint32LE,
  combineShares,
  encodeKmeansContribution,
  expandSeed,
  sealSecureVector,
  uint32ToBytesLE,
  vectorLength,
} from '@edgeseg/shared/secure';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { closeRoundAndWait } from '../support/rounds.ts';
import { startStack, type RunningStack } from '../support/stack.ts';

type SqliteModule = typeof import('node:sqlite');
const { DatabaseSync } = ((): SqliteModule => {
  try {
    return createRequire(import.meta.url)('node:sqlite') as SqliteModule;
  } catch {
    throw new Error(`node:sqlite needs Node ≥ 22.5 (this is ${process.version}): run vitest through npm or npx, which use the node that devDependencies pin`);
  }
})();

const DEVICES = 200;
/**
 * The round's length: long enough to take every contribution and read both sides while it
 * is open; the helper releases only after it (by its own clock), so the test waits it out.
 */
const ROUND_S = 60;

interface Device {
  id: string;
  x: Float32Array;
  vector: Int32Array;
  segment: number;
  seed: Uint8Array;
  body: SecureContribution;
}

/** One aggregator's storage as read from disk after the round. */
interface Side {
  name: 'leader' | 'helper';
  /** Every file under the persist directory, whole. */
  files: { path: string; bytes: Buffer }[];
  /** Every cell of every table of every SQLite database (blob bytes, text as UTF-8, and base64 strings inside text decoded). */
  cells: { where: string; bytes: Buffer }[];
  /** The `contributions` rows of the round's shards, by id (with the leader's still-unrelayed helper ciphertext, if any). */
  shares: Map<string, { share: Uint8Array; relay: string | null; slice: number; group: number; digest: Uint8Array; columns: string[] }>;
  /** The leader's `relay` rows of the round's shards (helper ciphertexts not yet relayed), by id. */
  relays: Map<string, string>;
  /** Ids a shard keeps after its release, for replay refusal (`spent_ids`). */
  spent: Set<string>;
  /** What it received over HTTP for the round, as bytes (plus decoded ciphertexts). */
  received: { where: string; bytes: Buffer }[];
}

let stack: RunningStack;
let admin: string;
let snapshot: string;
let round: RoundDescriptor;
let devices: Device[];
let closed: PublicRound;
let leader: Side;
let helper: Side;
/** Both sides read again after the release. */
let leaderAfter: Side;
let helperAfter: Side;

function gaussian(random: RandomSource): () => number {
  const w = new Uint32Array(2);
  return () => {
    random(w);
    const u = ((w[0] as number) + 1) / (2 ** 32 + 1);
    const v = (w[1] as number) / 2 ** 32;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** A seeded source that also records the one 16-byte seed `splitWithSeed` draws. */
function recording(random: RandomSource): { random: RandomSource; seeds: Uint8Array[] } {
  const seeds: Uint8Array[] = [];
  return {
    seeds,
    random: (out) => {
      random(out);
      if (out.length === SEED_BYTES / 4) seeds.push(uint32ToBytesLE(out));
    },
  };
}

async function buildDevice(r: RoundDescriptor, i: number): Promise<Device> {
  const random = seededRandom(0x5eed0000 + i);
  const gauss = gaussian(random);
  const centre = r.slices[0]?.[i % r.k] as number[];
  const x = Float32Array.from(centre, (v) => v + 0.3 * gauss());
  const tag = new Uint32Array(2);
  random(tag);
  const id = `priv-${String(i).padStart(4, '0')}-${[...tag].map((t) => t.toString(16).padStart(8, '0')).join('')}`;
  const { vector, segment } = encodeKmeansContribution(x, flattenCentroids(r.slices[0] ?? []), r.encoding, random);
  const rec = recording(random);
  const body = await sealSecureVector(r, vector, id, rec.random, 0);
  expect(rec.seeds).toHaveLength(1);
  return { id, x, vector, segment, seed: rec.seeds[0] as Uint8Array, body };
}


function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Base64 / base64url strings inside a JSON text, decoded (so an encoded vector could not hide in one). */
function decodedStrings(text: string): Buffer[] {
  const out: Buffer[] = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= 16 && /^[A-Za-z0-9_-]+$/.test(v)) out.push(Buffer.from(v, 'base64url'));
      if (v.length >= 16 && /^[A-Za-z0-9+/]+={0,2}$/.test(v)) out.push(Buffer.from(v, 'base64'));
      if (v.startsWith('{') || v.startsWith('[')) visit(tryJson(v));
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(tryJson(text));
  return out;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads one aggregator's whole persist directory from a copy taken while its Worker was stopped. */
function readSide(name: 'leader' | 'helper', dir: string, roundId: string): Side {
  const side: Side = { name, files: [], cells: [], shares: new Map(), relays: new Map(), spent: new Set(), received: [] };
  for (const path of walk(dir)) side.files.push({ path: relative(dir, path), bytes: readFileSync(path) });
  const databases = walk(dir).filter((p) => p.endsWith('.sqlite'));
  expect(databases.length, `${name}: no SQLite files under ${dir}`).toBeGreaterThan(0);
  for (const path of databases) {
    const db = new DatabaseSync(path); // a copy: opening it read-write lets SQLite replay its WAL
    try {
      const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
      const hasMeta = tables.some((t) => t.name === 'meta');
      const shardRound = hasMeta ? (db.prepare(`SELECT value FROM meta WHERE key = 'round_id'`).get() as { value: string } | undefined)?.value : undefined;
      for (const { name: table } of tables) {
        const select = db.prepare(`SELECT * FROM "${table.replaceAll('"', '""')}"`);
        select.setReadBigInts(true); // some tables hold 64-bit integers (timestamps in ns) a JS number cannot
        for (const row of select.all() as Record<string, unknown>[]) {
          for (const [column, value] of Object.entries(row)) {
            const where = `${relative(dir, path)}:${table}.${column}`;
            if (value instanceof Uint8Array) side.cells.push({ where, bytes: Buffer.from(value) });
            else if (typeof value === 'string') {
              side.cells.push({ where, bytes: Buffer.from(value, 'utf8') });
              for (const decoded of decodedStrings(value)) side.cells.push({ where: `${where} (decoded)`, bytes: decoded });
            }
          }
          if (table === 'contributions' && shardRound === roundId) {
            const r = row as { id: string; share: Uint8Array; slice: number; grp: number; digest: Uint8Array };
            expect(side.shares.has(r.id), `${name}: id ${r.id} stored twice`).toBe(false);
            side.shares.set(r.id, { share: new Uint8Array(r.share), relay: null, slice: Number(r.slice), group: Number(r.grp), digest: new Uint8Array(r.digest), columns: Object.keys(row) });
          }
          if (table === 'relay' && shardRound === roundId) side.relays.set(String(row.id), String(row.sealed));
          if (table === 'spent_ids' && shardRound === roundId) side.spent.add(String(row.id));
        }
      }
    } finally {
      db.close();
    }
  }
  for (const [id, sealed] of side.relays) {
    const row = side.shares.get(id);
    if (row) row.relay = sealed;
  }
  return side;
}

/** Contributions of the round the helper holds now, read from a copy of its live storage (-1 while a copy is not readable). */
function helperSharesNow(roundId: string): number {
  const copy = mkdtempSync(join(tmpdir(), 'edgeseg-privacy-poll-'));
  try {
    cpSync(stack.stateDirs.helper, copy, { recursive: true });
    let n = 0;
    for (const path of walk(copy).filter((p) => p.endsWith('.sqlite'))) {
      const db = new DatabaseSync(path);
      try {
        const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name);
        if (!tables.includes('meta') || !tables.includes('contributions')) continue;
        const shardRound = (db.prepare(`SELECT value FROM meta WHERE key = 'round_id'`).get() as { value: string } | undefined)?.value;
        if (shardRound === roundId) n += (db.prepare('SELECT COUNT(*) AS n FROM contributions').get() as { n: number }).n;
      } finally {
        db.close();
      }
    }
    return n;
  } catch {
    return -1;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** Stops both Workers (restart = stop, then start on the same state) so every write is on disk, and reads a copy of both persist directories taken before anything wakes a Durable Object. */
async function readBothSides(label: string): Promise<[Side, Side]> {
  await stack.restart();
  const dir = join(snapshot, label);
  cpSync(stack.stateDirs.leader, join(dir, 'leader'), { recursive: true });
  cpSync(stack.stateDirs.helper, join(dir, 'helper'), { recursive: true });
  return [readSide('leader', join(dir, 'leader'), round.round_id), readSide('helper', join(dir, 'helper'), round.round_id)];
}

/** Pearson's χ² of byte values against uniform over 256 values. */
function chiSquareBytes(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b] = (counts[b] as number) + 1;
  const expected = bytes.length / 256;
  let chi = 0;
  for (const c of counts) chi += (c - expected) ** 2 / expected;
  return chi;
}

/** Upper p-quantile of χ²(df) by Wilson–Hilferty (z = 4.753 for p = 10^-6). */
function chiSquareCritical(df: number, z = 4.753): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** Byte lane `lane` (0 = least significant) of every uint32 word of every share, concatenated. */
function lane(shares: Uint8Array[], laneIndex: number): Uint8Array {
  const out: number[] = [];
  for (const s of shares) for (let i = laneIndex; i < s.length; i += 4) out.push(s[i] as number);
  return Uint8Array.from(out);
}

/** The attack a vector invites: its one nonzero block is the device's segment, so guess the block of largest Σ|entry| (as int32). */
function guessSegment(words: Int32Array, k: number, d: number): number {
  let best = 0;
  let bestScore = -1;
  for (let c = 0; c < k; c++) {
    let score = 0;
    for (let j = 0; j < d + 3; j++) score += Math.abs(words[c * (d + 3) + j] as number);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/** The nonzero block of a device's vector (its centroid's d + 3 entries), as int32 LE bytes. */
function block(dev: Device, d: number): Buffer {
  return Buffer.from(uint32ToBytesLE(dev.vector.subarray(dev.segment * (d + 3), (dev.segment + 1) * (d + 3))));
}

/**
 * Everything one side stored or received, as one buffer to search (a match across two
 * pieces would also count as a hit: stricter, never laxer), with where each piece starts.
 */
class Corpus {
  private readonly all: Buffer;
  private readonly starts: number[] = [];
  private readonly names: string[] = [];

  constructor(readonly side: Side) {
    const pieces = [...side.files.map((f) => ({ where: f.path, bytes: f.bytes })), ...side.cells, ...side.received];
    let offset = 0;
    for (const p of pieces) {
      this.starts.push(offset);
      this.names.push(p.where);
      offset += p.bytes.length;
    }
    this.all = Buffer.concat(pieces.map((p) => p.bytes));
  }

  /** Where `needle` first occurs, or null. */
  find(needle: Uint8Array): string | null {
    const at = this.all.indexOf(needle);
    if (at < 0) return null;
    let i = this.starts.length - 1;
    while ((this.starts[i] as number) > at) i--;
    return `${this.side.name} ${this.names[i]}`;
  }
}

let leaderCorpus: Corpus;
let helperCorpus: Corpus;

beforeAll(async () => {
  stack = await startStack();
  admin = await mintToken(stack.authJwk, { role: 'admin' });
  const opened = await fetch(`${stack.baseUrl}/v1/admin/rounds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ duration_s: ROUND_S, min_batch: 20, epsilon: 1, delta: 1e-9, groups: 4 }),
  });
  expect(opened.status, await opened.clone().text()).toBe(201);
  round = ((await opened.json()) as { round: RoundDescriptor }).round;

  devices = [];
  for (let i = 0; i < DEVICES; i++) devices.push(await buildDevice(round, i));
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < devices.length) {
        const dev = devices[next++] as Device;
        const res = await fetch(`${stack.baseUrl}/v1/contributions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(dev.body) });
        expect(res.status, await res.text()).toBe(202);
      }
    }),
  );
  // The leader relays the helper's ciphertexts in the background: read both sides once
  // the helper holds every device's share, while the round is still open.
  const until = Date.now() + 60_000;
  while (helperSharesNow(round.round_id) < DEVICES && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
  snapshot = mkdtempSync(join(tmpdir(), 'edgeseg-privacy-'));
  [leader, helper] = await readBothSides('open');
  expect(Date.now() / 1000, 'the round closed before both sides were read: lengthen ROUND_S').toBeLessThan(round.closes_at);
  closed = await closeRoundAndWait(stack.baseUrl, admin, round.round_id, { pollMs: 500, limitMs: (ROUND_S + 60) * 1000 });
  [leaderAfter, helperAfter] = await readBothSides('released');

  // What each received over HTTP for the round. The leader: the device requests, as
  // sent, and the ciphertexts inside them. The helper: the round record the leader opened
  // it with (its descriptor is what devices download; the rest is settings, no device
  // data) and the relayed items; each item is { id, slice, group, sealed } with sealed the device's
  // helper ciphertext as JSON, exactly what the leader stores in its relay column.
  for (const dev of devices) {
    leader.received.push({ where: `request ${dev.id}`, bytes: Buffer.from(JSON.stringify(dev.body)) });
    for (const part of [dev.body.leader, dev.body.helper]) {
      leader.received.push({ where: `request ${dev.id} ct`, bytes: Buffer.from(base64urlToBytes(part.ct)) });
      leader.received.push({ where: `request ${dev.id} enc`, bytes: Buffer.from(base64urlToBytes(part.enc)) });
    }
    const item = { id: dev.id, slice: dev.body.slice, group: dev.body.group, sealed: JSON.stringify(dev.body.helper) };
    helper.received.push({ where: `relay ${dev.id}`, bytes: Buffer.from(JSON.stringify(item)) });
    helper.received.push({ where: `relay ${dev.id} ct`, bytes: Buffer.from(base64urlToBytes(dev.body.helper.ct)) });
    helper.received.push({ where: `relay ${dev.id} enc`, bytes: Buffer.from(base64urlToBytes(dev.body.helper.enc)) });
  }
  helper.received.push({ where: 'round record', bytes: Buffer.from(JSON.stringify(round)) });
  leaderCorpus = new Corpus(leader);
  helperCorpus = new Corpus(helper);
}, 240_000);

afterAll(async () => {
  if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  await stack?.stop();
});

describe('what each aggregator stores and receives for a round', () => {
  it('ran a real round: both sides stored every device, the leader relayed every helper ciphertext', () => {
    expect(closed.state, closed.reason ?? '').toBe('released');
    expect(closed.contributions).toBe(DEVICES);
    const ids = devices.map((d) => d.id).sort();
    expect([...leader.shares.keys()].sort()).toEqual(ids);
    expect([...helper.shares.keys()].sort()).toEqual(ids);
    for (const dev of devices) {
      const l = leader.shares.get(dev.id);
      // Relayed and acknowledged: cleared. Were it still pending, it would be exactly the helper's ciphertext.
      if (l?.relay !== null) expect(l?.relay).toBe(JSON.stringify(dev.body.helper));
      expect(helper.shares.get(dev.id)?.relay).toBeNull();
      expect([l?.slice, l?.group]).toEqual([dev.body.slice, dev.body.group]);
    }
    // The raw-file scan sees what is stored: every share read from the databases is also
    // found, byte for byte, in the files (database or write-ahead log) as they lay on disk.
    for (const side of [leader, helper]) {
      expect(side.cells.length).toBeGreaterThan(DEVICES);
      const missing = devices.filter((dev) => !side.files.some((f) => f.bytes.includes(Buffer.from(side.shares.get(dev.id)?.share as Uint8Array))));
      expect(missing.map((dev) => dev.id), `${side.name}: shares not found in the raw files`).toEqual([]);
    }
  });

  it('(1) no byte string either side stored or received equals or contains a device vector or its features', () => {
    const d = round.d;
    const needles = devices.flatMap((dev) => [
      { what: `${dev.id} encoded vector (nonzero block, int32 LE)`, bytes: block(dev, d) },
      { what: `${dev.id} feature vector (float32 LE)`, bytes: Buffer.from(dev.x.buffer, dev.x.byteOffset, dev.x.byteLength) },
    ]);
    // The check can fire: a vector's block is found in a buffer that holds it.
    const probe = Buffer.concat([Buffer.from('xx'), uint32ToBytesLE((devices[0] as Device).vector), Buffer.from('yy')]);
    expect(probe.includes(needles[0]?.bytes as Buffer)).toBe(true);
    for (const corpus of [leaderCorpus, helperCorpus]) {
      const hits: string[] = [];
      for (const n of needles) {
        const where = corpus.find(n.bytes);
        if (where) hits.push(`${where} holds ${n.what}`);
      }
      expect(hits).toEqual([]);
    }
  });

  it('(2) each side’s stored shares are uniform bytes although the vectors are mostly zeros; guessing a segment from them is at chance', () => {
    const { k, d } = round;
    const L = vectorLength('kmeans', k, d);
    const vectors = devices.map((dev) => uint32ToBytesLE(dev.vector));
    const critical = chiSquareCritical(255);
    for (const side of [leader, helper]) {
      const shares = devices.map((dev) => side.shares.get(dev.id)?.share as Uint8Array);
      expect(shares.every((s) => s.length === 4 * L)).toBe(true);
      const all = Buffer.concat(shares);
      expect(chiSquareBytes(all), `${side.name}: all bytes`).toBeLessThan(critical);
      for (let b = 0; b < 4; b++) {
        expect(chiSquareBytes(lane(shares, b)), `${side.name}: byte lane ${b}`).toBeLessThan(critical);
        // The same test on the true vectors rejects uniformity by orders of magnitude.
        expect(chiSquareBytes(lane(vectors, b)), `vectors: byte lane ${b}`).toBeGreaterThan(100 * critical);
      }
      // ≈ 3/4 of a vector's words are zero; a uniform share has a zero word with probability 2^-32.
      const zeroWords = (bytes: Uint8Array[]) => bytes.reduce((n, s) => n + bytesToUint32LE(s).filter((w) => w === 0).length, 0);
      expect(zeroWords(vectors)).toBeGreaterThan(0.7 * DEVICES * L);
      expect(zeroWords(shares), side.name).toBeLessThanOrEqual(1);
      // The attack the structure invites: the nonzero block is the segment.
      const onVectors = devices.filter((dev) => guessSegment(dev.vector, k, d) === dev.segment).length;
      const onShares = devices.filter((dev) => guessSegment(new Int32Array(bytesToUint32LE(side.shares.get(dev.id)?.share as Uint8Array).buffer), k, d) === dev.segment).length;
      expect(onVectors).toBe(DEVICES);
      // Chance is n/k ± √(n·(1/k)(1 − 1/k)); 4 standard deviations above it is no better than guessing.
      expect(onShares, `${side.name}: segment guesses from shares`).toBeLessThan(DEVICES / k + 4 * Math.sqrt((DEVICES * (k - 1)) / (k * k)));
    }
  });

  it('(3) the helper stored only the expansion of each device’s seed: no leader share, no leader ciphertext; the leader stored no seed', async () => {
    const L = vectorLength('kmeans', round.k, round.d);
    const hits: string[] = [];
    for (const dev of devices) {
      const expanded = uint32ToBytesLE(await expandSeed(dev.seed, L));
      // The helper's whole row is a function of what the device chose independently of its
      // vector: id, slice, group and seed.
      const row = helper.shares.get(dev.id);
      expect(row?.columns.sort()).toEqual(['digest', 'grp', 'id', 'share', 'slice']);
      expect(helper.relays.size).toBe(0);
      expect(Buffer.from(row?.share as Uint8Array).equals(Buffer.from(expanded)), `helper row of ${dev.id} is expandSeed(seed)`).toBe(true);
      expect(Buffer.from(row?.digest as Uint8Array).equals(Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(dev.id)))), `helper digest of ${dev.id}`).toBe(true);
      expect([row?.slice, row?.group, row?.relay]).toEqual([dev.body.slice, dev.body.group, null]);
      const leaderShare = Buffer.from(leader.shares.get(dev.id)?.share as Uint8Array);
      const leaderCt = base64urlToBytes(dev.body.leader.ct);
      // Any 32-byte prefix would do: a share or ciphertext is found if any copy of its start is.
      const checks: [Corpus, Uint8Array, string][] = [
        [helperCorpus, leaderShare.subarray(0, 32), 'the leader share'],
        [helperCorpus, leaderCt.subarray(0, 32), 'the leader ciphertext'],
        [helperCorpus, Buffer.from(dev.body.leader.ct.slice(0, 43)), 'the leader ciphertext (base64url)'],
        [leaderCorpus, dev.seed, 'the helper seed'],
        [leaderCorpus, expanded.subarray(0, 32), 'the helper share'],
      ];
      for (const [corpus, needle, what] of checks) {
        const where = corpus.find(needle);
        if (where) hits.push(`${where} holds ${what} of ${dev.id}`);
      }
    }
    expect(hits).toEqual([]);
  });

  it('(4) only a leader share and a helper share together give back a vector (positive control)', () => {
    for (const dev of devices) {
      const l = bytesToUint32LE(leader.shares.get(dev.id)?.share as Uint8Array);
      const h = bytesToUint32LE(helper.shares.get(dev.id)?.share as Uint8Array);
      expect(combineShares(l, h)).toEqual(dev.vector);
      expect(new Int32Array(l.buffer)).not.toEqual(dev.vector);
      expect(new Int32Array(h.buffer)).not.toEqual(dev.vector);
    }
    // Another device's helper share does not fit: the pair must be the right one.
    const [a, b] = devices as [Device, Device];
    const mixed = combineShares(bytesToUint32LE(leader.shares.get(a.id)?.share as Uint8Array), bytesToUint32LE(helper.shares.get(b.id)?.share as Uint8Array));
    expect(mixed).not.toEqual(a.vector);
    expect(mixed.filter((w) => w === 0).length).toBeLessThan(2);
  });

  it('(5) after the release neither side keeps a share, seed, ciphertext or relay item of any device, on disk or in a row: only the ids, for replay refusal', async () => {
    const ids = devices.map((d) => d.id).sort();
    for (const side of [leaderAfter, helperAfter]) {
      expect(side.shares.size, `${side.name}: contribution rows left after the release`).toBe(0);
      expect(side.relays.size, `${side.name}: relay rows left after the release`).toBe(0);
      expect([...side.spent].sort(), `${side.name}: ids kept for replay refusal`).toEqual(ids);
    }
    const L = vectorLength('kmeans', round.k, round.d);
    const before = [new Corpus(leader), new Corpus(helper)];
    const after = [new Corpus(leaderAfter), new Corpus(helperAfter)];
    const hits: string[] = [];
    let foundBefore = 0;
    for (const dev of devices) {
      const needles: [Uint8Array, string][] = [
        [(leader.shares.get(dev.id)?.share as Uint8Array).subarray(0, 32), 'its leader share'],
        [uint32ToBytesLE(await expandSeed(dev.seed, L)).subarray(0, 32), 'its helper share'],
        [dev.seed, 'its helper seed'],
        [base64urlToBytes(dev.body.leader.ct).subarray(0, 32), 'its leader ciphertext'],
        [base64urlToBytes(dev.body.helper.ct), 'its helper ciphertext'],
        [Buffer.from(dev.body.helper.ct.slice(0, 43)), 'its helper ciphertext (base64url)'],
        [block(dev, round.d), 'its encoded vector'],
      ];
      for (const corpus of after) {
        for (const [needle, what] of needles) {
          const where = corpus.find(needle);
          if (where) hits.push(`${where} holds ${what} (${dev.id})`);
        }
      }
      // The same scan finds each side's own share while the round was open: it can fire.
      if (before[0]?.find((needles[0] as [Uint8Array, string])[0]) && before[1]?.find((needles[1] as [Uint8Array, string])[0])) foundBefore++;
    }
    expect(foundBefore).toBe(DEVICES);
    expect(hits.length, hits.slice(0, 10).join('\n')).toBe(0);
    // What stays is found by the same scan: the ids.
    expect(after[0]?.find(Buffer.from((devices[0] as Device).id))).not.toBeNull();
    expect(after[1]?.find(Buffer.from((devices[0] as Device).id))).not.toBeNull();
  });
});
