/**
 * Neither aggregator alone can reconstruct a device's vector: this test runs a real
 * secure round (200 devices, two `wrangler dev` aggregators), then reads every byte each
 * aggregator stored (every file under its `--persist-to` directory, and every cell of
 * every table of every SQLite database there) and everything it received over HTTP for
 * the round, and checks it against the devices' true vectors, which the test knows
 * because it builds them itself (seeded features → `encodeKmeansContribution` → a Prio3
 * report sharded from a seeded source, its raw input shares kept: support/prio3-device).
 *
 * The argument, and what each assertion shows of it:
 *
 * - Device i shards its measurement m_i (the encoded vector v_i plus the SumVec offset,
 *   in Field128) with fresh randomness independent of v_i: the helper's input share is
 *   three 16-byte seeds s_i, its output share H_i a function of s_i alone (XOF expansion),
 *   the leader's output share L_i = m_i − H_i mod p. Each input share is sealed (HPKE) to
 *   its aggregator with an aad binding round, id, slice, role and the public share.
 * - Helper alone. Its whole view is (id, slice, public share, sealed s_i, the leader's
 *   preparation share and joint-randomness seed) relayed by the leader, the round record
 *   (with the verify key), and the leader's batch selector. Opened, that is s_i and H_i,
 *   independent of v_i; the public share and the preparation shares are those of a
 *   zero-knowledge proof (they tell whether m_i is valid, nothing more). The test shows
 *   the helper stored for each device exactly its output share of s_i, never a leader
 *   share or leader input share or ciphertext (assertion 3), and no byte of v_i or x_i (1).
 * - Leader alone. Its view is the device requests (its input share sealed to its own key,
 *   s_i sealed to the helper's key, which it does not hold) and what it stores: L_i, a
 *   digest of the id, slice, group, and the relay item until the helper's verdict. Without
 *   s_i, H_i is pseudorandom, so L_i is computationally indistinguishable from uniform
 *   whatever v_i is. The test shows no seed or helper share is stored on the leader and no
 *   byte of v_i or x_i appears anywhere on it (1); that the leader's stored shares pass a
 *   χ² test of uniformity on every byte lane although the encoded measurements are ≈ 15/16
 *   zero bytes and fail the same test by orders of magnitude (2); and that the natural
 *   attack (the one block of v_i away from the offset is the device's segment: guess the
 *   block with the largest entries) is at chance on the shares and perfect on the vectors.
 * - Only together. L_i + H_i − offset = v_i for every device (4, a positive control: the
 *   stored shares are the real ones, so the negative results above are not vacuous).
 *
 * - Nothing kept that is not needed (5). The assertions above read both sides while the
 *   round is open, once every share has reached the helper; after the release both sides
 *   are read again: no per-contribution share, seed, ciphertext or relay item remains,
 *   logically (no row of the round holds one; only the ids stay, for replay refusal) nor
 *   as bytes anywhere on disk (database files and write-ahead logs, free pages included).
 *
 * Every input is seeded (features, rounding, slice, sharding randomness, ids), so the
 * stored shares and thus each χ² statistic are the same on every run; the threshold is the
 * p = 10^-6 upper quantile of χ²(255) (Wilson–Hilferty), for all bytes and per byte lane.
 */
import type { PublicRound } from '@edgeseg/aggregator';
import { flattenCentroids, seededRandom, standardNormal, type RoundDescriptor, type SecureContribution } from '@edgeseg/shared';
import {
  FIELD,
  FIELD_ELEMENT_BYTES,
  base64urlToBytes,
  combineFieldShares,
  decodeFieldVector,
  encodeFieldVector,
  encodeKmeansContribution,
  measurementOf,
  newVerifyKey,
  removeOffset,
  uint32ToBytesLE,
  vectorLength,
} from '@edgeseg/shared/secure';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/keys.ts';
import { handBuiltReport, prepareAs } from '../support/prio3-device.ts';
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
  /** The helper's input share: three 16-byte seeds. */
  seed: Uint8Array;
  /** The leader's input share (measurement and proof shares, blind). */
  leaderInput: Uint8Array;
  /** Each aggregator's output share, encoded (16 bytes per entry): what it stores once the report verifies. */
  leaderShare: Uint8Array;
  helperShare: Uint8Array;
  body: SecureContribution;
}

/** One aggregator's storage as read from disk after the round. */
interface Side {
  name: 'leader' | 'helper';
  /** Every file under the persist directory, whole. */
  files: { path: string; bytes: Buffer }[];
  /** Every cell of every table of every SQLite database (blob bytes, text as UTF-8, and base64 strings inside text decoded). */
  cells: { where: string; bytes: Buffer }[];
  /** The `contributions` (and the leader's `pending`) rows of the round's shards, by id (with the relay item while pending). */
  shares: Map<string, { share: Uint8Array; relay: string | null; slice: number; group: number; digest: Uint8Array; columns: string[] }>;
  /** The leader's `pending` rows of the round's shards (relay items awaiting the helper's verdict), by id. */
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

async function buildDevice(r: RoundDescriptor, i: number): Promise<Device> {
  const random = seededRandom(0x5eed0000 + i);
  const gauss = () => standardNormal(random);
  const centre = r.slices[0]?.[i % r.k] as number[];
  const x = Float32Array.from(centre, (v) => v + 0.3 * gauss());
  const tag = new Uint32Array(2);
  random(tag);
  const id = `priv-${String(i).padStart(4, '0')}-${[...tag].map((t) => t.toString(16).padStart(8, '0')).join('')}`;
  const { vector, segment } = encodeKmeansContribution(x, flattenCentroids(r.slices[0] ?? []), r.encoding, random);
  const report = await handBuiltReport(r, { vector }, id, 0, { random });
  // Output shares do not depend on the verify key (only the proof's query randomness
  // does), so any key gives the shares each aggregator stores.
  const key = newVerifyKey(random);
  const [leaderOut, helperOut] = await Promise.all([prepareAs(r, key, 0, report), prepareAs(r, key, 1, report)]);
  return {
    id,
    x,
    vector,
    segment,
    seed: report.helperInput,
    leaderInput: report.leaderInput,
    leaderShare: encodeFieldVector(leaderOut.outputShare),
    helperShare: encodeFieldVector(helperOut.outputShare),
    body: report.body,
  };
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
      // The shard store keeps its round id in `meta`, the leader's pending reports in `leader_meta`.
      const metaRound = (table: string) =>
        tables.some((t) => t.name === table) ? (db.prepare(`SELECT value FROM ${table} WHERE key = 'round_id'`).get() as { value: string } | undefined)?.value : undefined;
      const shardRound = metaRound('meta') ?? metaRound('leader_meta');
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
          if ((table === 'contributions' || table === 'pending') && shardRound === roundId) {
            const r = row as { id: string; share: Uint8Array; slice: number; grp: number; digest: Uint8Array };
            expect(side.shares.has(r.id), `${name}: id ${r.id} stored twice`).toBe(false);
            side.shares.set(r.id, { share: new Uint8Array(r.share), relay: null, slice: Number(r.slice), group: Number(r.grp), digest: new Uint8Array(r.digest), columns: Object.keys(row).filter((c) => c !== 'relay') });
          }
          if (table === 'pending' && shardRound === roundId) side.relays.set(String(row.id), String(row.relay));
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

/** Byte lane `lane` (0 = least significant) of every 16-byte field element of every share, concatenated. */
function lane(shares: Uint8Array[], laneIndex: number): Uint8Array {
  const out: number[] = [];
  for (const s of shares) for (let i = laneIndex; i < s.length; i += FIELD_ELEMENT_BYTES) out.push(s[i] as number);
  return Uint8Array.from(out);
}

/** A device's measurement (entries + offset) as the field elements the aggregators store shares of. */
function measurementBytes(dev: Device): Uint8Array {
  return encodeFieldVector((measurementOf('kmeans', dev.vector) as number[]).map(BigInt));
}

/**
 * The attack a measurement invites: every block but the device's segment sits at the
 * offset, so guess the block of largest Σ|entry − offset| (entries read as signed).
 */
function guessSegment(bytes: Uint8Array, k: number, d: number): number {
  const values = decodeFieldVector(bytes).map((x) => Number(x > FIELD.modulus / 2n ? x - FIELD.modulus : x));
  let best = 0;
  let bestScore = -1;
  for (let c = 0; c < k; c++) {
    let score = 0;
    for (let j = 0; j < d + 3; j++) score += Math.abs((values[c * (d + 3) + j] as number) - 128);
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

/** The same block as the measurement's field elements (entries + offset, 16 bytes each). */
function fieldBlock(dev: Device, d: number): Buffer {
  return Buffer.from(measurementBytes(dev).subarray(dev.segment * (d + 3) * FIELD_ELEMENT_BYTES, (dev.segment + 1) * (d + 3) * FIELD_ELEMENT_BYTES));
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
  // it with (its descriptor is what devices download; the rest is settings and the verify
  // key, no device data) and the relayed items; each item is { id, slice, public_share,
  // sealed, prep_share, joint_rand_seed }, exactly what the leader stores in its pending
  // row's relay column (read from there: the leader's preparation share depends on the
  // round's verify key, which only the aggregators hold).
  const relayed = new Map<string, string>();
  for (const [id, relay] of leader.relays) relayed.set(id, relay);
  for (const dev of devices) {
    leader.received.push({ where: `request ${dev.id}`, bytes: Buffer.from(JSON.stringify(dev.body)) });
    for (const part of [dev.body.leader, dev.body.helper]) {
      leader.received.push({ where: `request ${dev.id} ct`, bytes: Buffer.from(base64urlToBytes(part.ct)) });
      leader.received.push({ where: `request ${dev.id} enc`, bytes: Buffer.from(base64urlToBytes(part.enc)) });
    }
    leader.received.push({ where: `request ${dev.id} public share`, bytes: Buffer.from(base64urlToBytes(dev.body.public_share)) });
    const item = relayed.get(dev.id);
    if (item) helper.received.push({ where: `relay ${dev.id}`, bytes: Buffer.from(item) });
    helper.received.push({ where: `relay ${dev.id} ct`, bytes: Buffer.from(base64urlToBytes(dev.body.helper.ct)) });
    helper.received.push({ where: `relay ${dev.id} enc`, bytes: Buffer.from(base64urlToBytes(dev.body.helper.enc)) });
    helper.received.push({ where: `relay ${dev.id} public share`, bytes: Buffer.from(base64urlToBytes(dev.body.public_share)) });
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
  it('ran a real round: both sides stored every device, the leader relayed every helper share with its preparation share', () => {
    expect(closed.state, closed.reason ?? '').toBe('released');
    expect(closed.contributions).toBe(DEVICES);
    const ids = devices.map((d) => d.id).sort();
    expect([...leader.shares.keys()].sort()).toEqual(ids);
    expect([...helper.shares.keys()].sort()).toEqual(ids);
    for (const dev of devices) {
      const l = leader.shares.get(dev.id);
      // Verified: moved out of pending. Were it still pending, its relay item would carry exactly the helper's ciphertext.
      if (l?.relay !== null) expect((JSON.parse(l?.relay as string) as { sealed: unknown }).sealed).toEqual(dev.body.helper);
      expect(helper.shares.get(dev.id)?.relay).toBeNull();
      // Both derived the same group from the id (with the verify key, which the test does not hold).
      expect([l?.slice, l?.group]).toEqual([dev.body.slice, helper.shares.get(dev.id)?.group]);
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
      { what: `${dev.id} measurement (nonzero block, field elements)`, bytes: fieldBlock(dev, d) },
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

  it('(2) each side’s stored shares are uniform bytes although the measurements are mostly zero bytes; guessing a segment from them is at chance', () => {
    const { k, d } = round;
    const L = vectorLength('kmeans', k, d);
    const vectors = devices.map(measurementBytes);
    const critical = chiSquareCritical(255);
    for (const side of [leader, helper]) {
      const shares = devices.map((dev) => side.shares.get(dev.id)?.share as Uint8Array);
      expect(shares.every((s) => s.length === FIELD_ELEMENT_BYTES * L)).toBe(true);
      const all = Buffer.concat(shares);
      expect(chiSquareBytes(all), `${side.name}: all bytes`).toBeLessThan(critical);
      for (let b = 0; b < FIELD_ELEMENT_BYTES; b++) {
        expect(chiSquareBytes(lane(shares, b)), `${side.name}: byte lane ${b}`).toBeLessThan(critical);
        // The same test on the true measurements rejects uniformity by orders of magnitude.
        expect(chiSquareBytes(lane(vectors, b)), `measurements: byte lane ${b}`).toBeGreaterThan(100 * critical);
      }
      // 15 of a measurement element's 16 bytes are zero (entries are below 256); a uniform byte is zero 1 time in 256.
      const zeroBytes = (bytes: Uint8Array[]) => bytes.reduce((n, s) => n + s.filter((b) => b === 0).length, 0);
      const total = DEVICES * L * FIELD_ELEMENT_BYTES;
      expect(zeroBytes(vectors)).toBeGreaterThanOrEqual((15 / 16) * total);
      expect(zeroBytes(shares), side.name).toBeLessThan(total / 256 + 6 * Math.sqrt(total / 256));
      // The attack the structure invites: the block away from the offset is the segment.
      const onVectors = devices.filter((dev) => guessSegment(measurementBytes(dev), k, d) === dev.segment).length;
      const onShares = devices.filter((dev) => guessSegment(side.shares.get(dev.id)?.share as Uint8Array, k, d) === dev.segment).length;
      expect(onVectors).toBe(DEVICES);
      // Chance is n/k ± √(n·(1/k)(1 − 1/k)); 4 standard deviations above it is no better than guessing.
      expect(onShares, `${side.name}: segment guesses from shares`).toBeLessThan(DEVICES / k + 4 * Math.sqrt((DEVICES * (k - 1)) / (k * k)));
    }
  });

  it('(3) the helper stored only its output share of each device’s seeds: no leader share, no leader input share or ciphertext; the leader stored no seed', async () => {
    const hits: string[] = [];
    for (const dev of devices) {
      // The helper's whole row is a function of what the device chose independently of its
      // vector (id, slice, seeds) and of the verify key (group).
      const row = helper.shares.get(dev.id);
      expect(row?.columns.sort()).toEqual(['digest', 'grp', 'id', 'share', 'slice']);
      expect(helper.relays.size).toBe(0);
      expect(Buffer.from(row?.share as Uint8Array).equals(Buffer.from(dev.helperShare)), `helper row of ${dev.id} is its output share of the seeds`).toBe(true);
      expect(Buffer.from(row?.digest as Uint8Array).equals(Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(dev.id)))), `helper digest of ${dev.id}`).toBe(true);
      expect([row?.slice, row?.relay]).toEqual([dev.body.slice, null]);
      const leaderShare = Buffer.from(leader.shares.get(dev.id)?.share as Uint8Array);
      expect(leaderShare.equals(Buffer.from(dev.leaderShare)), `leader row of ${dev.id} is its output share`).toBe(true);
      const leaderCt = base64urlToBytes(dev.body.leader.ct);
      // Any 32-byte prefix would do: a share or ciphertext is found if any copy of its start is.
      const checks: [Corpus, Uint8Array, string][] = [
        [helperCorpus, leaderShare.subarray(0, 32), 'the leader share'],
        [helperCorpus, dev.leaderInput.subarray(0, 32), 'the leader input share'],
        [helperCorpus, leaderCt.subarray(0, 32), 'the leader ciphertext'],
        [helperCorpus, Buffer.from(dev.body.leader.ct.slice(0, 43)), 'the leader ciphertext (base64url)'],
        [leaderCorpus, dev.seed.subarray(0, 16), 'the helper measurement seed'],
        [leaderCorpus, dev.seed.subarray(16, 32), 'the helper proof seed'],
        [leaderCorpus, dev.helperShare.subarray(0, 32), 'the helper share'],
      ];
      for (const [corpus, needle, what] of checks) {
        const where = corpus.find(needle);
        if (where) hits.push(`${where} holds ${what} of ${dev.id}`);
      }
    }
    expect(hits).toEqual([]);
  });

  it('(4) only a leader share and a helper share together give back a vector (positive control)', () => {
    const together = (l: Uint8Array, h: Uint8Array) => [...removeOffset('kmeans', combineFieldShares(decodeFieldVector(l), decodeFieldVector(h)), 1)];
    for (const dev of devices) {
      const l = leader.shares.get(dev.id)?.share as Uint8Array;
      const h = helper.shares.get(dev.id)?.share as Uint8Array;
      expect(together(l, h)).toEqual([...dev.vector]);
      expect(Buffer.from(l).equals(Buffer.from(measurementBytes(dev)))).toBe(false);
      expect(Buffer.from(h).equals(Buffer.from(measurementBytes(dev)))).toBe(false);
    }
    // Another device's helper share does not fit: the pair must be the right one (its sum is not even a small signed number).
    const [a, b] = devices as [Device, Device];
    expect(() => together(leader.shares.get(a.id)?.share as Uint8Array, helper.shares.get(b.id)?.share as Uint8Array)).toThrow(RangeError);
  });

  it('(5) after the release neither side keeps a share, seed, ciphertext or relay item of any device, on disk or in a row: only the ids, for replay refusal', async () => {
    const ids = devices.map((d) => d.id).sort();
    for (const side of [leaderAfter, helperAfter]) {
      expect(side.shares.size, `${side.name}: contribution rows left after the release`).toBe(0);
      expect(side.relays.size, `${side.name}: relay rows left after the release`).toBe(0);
      expect([...side.spent].sort(), `${side.name}: ids kept for replay refusal`).toEqual(ids);
    }
    const before = [new Corpus(leader), new Corpus(helper)];
    const after = [new Corpus(leaderAfter), new Corpus(helperAfter)];
    const hits: string[] = [];
    let foundBefore = 0;
    for (const dev of devices) {
      const needles: [Uint8Array, string][] = [
        [(leader.shares.get(dev.id)?.share as Uint8Array).subarray(0, 32), 'its leader share'],
        [dev.helperShare.subarray(0, 32), 'its helper share'],
        [dev.seed.subarray(0, 16), 'its helper seed'],
        [dev.leaderInput.subarray(0, 32), 'its leader input share'],
        [base64urlToBytes(dev.body.leader.ct).subarray(0, 32), 'its leader ciphertext'],
        [base64urlToBytes(dev.body.helper.ct), 'its helper ciphertext'],
        [Buffer.from(dev.body.helper.ct.slice(0, 43)), 'its helper ciphertext (base64url)'],
        [block(dev, round.d), 'its encoded vector'],
        [fieldBlock(dev, round.d), 'its measurement'],
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
