/**
 * The in-page half of the `sdk` benchmark (runs in Chromium, bundled by esbuild with
 * client-sdk/src/index.ts and idb). It exposes `globalThis.edgesegBench`; sdk.ts drives it.
 *
 * - ours: a real segmenter on a fresh database tracks N seeded events (timed with
 *   performance.now() around the N synchronous track() calls), then flush() writes them
 *   and they are read back from its `events` store.
 * - raw: the same N objects copied into an array (the trivial synchronous baseline), put
 *   in one idb transaction into a fresh database, then read back (a new connection, as
 *   for ours).
 */
import { seededRandom } from '@edgeseg/shared';
import { deleteDB, openDB } from 'idb';
import { createSegmenter, type PlaybackEvent } from '../../../client-sdk/src/index.ts';

export interface PageRun {
  /** Wall time of the N synchronous calls (track(), or the baseline copy). */
  syncMs: number;
  /** From the first call until the N events have been read back from IndexedDB. */
  totalMs: number;
  /** Events found in the database's `events` store. */
  stored: number;
  dbName: string;
  /** Problems the SDK reported through onError. */
  errors: string[];
  /** The segment label after the run (ours only). */
  segment: string | null;
}

export interface SdkBenchPage {
  events: number;
  userAgent: string;
  crossOriginIsolated: boolean;
  ours(round: number): Promise<PageRun>;
  raw(round: number): Promise<PageRun>;
}

type StoredEvent = PlaybackEvent & { at: number };

const GENRES = [['Drama'], ['Comedy'], ['Action', 'Thriller'], ['Crime', 'Drama'], ['Romance'], ['Documentary'], ['Comedy', 'Drama']];
const DEVICES = ['tv', 'mobile', 'desktop', 'tablet'] as const;

/** N playback events over the last three weeks, in time order, from a seeded generator. */
function seededEvents(n: number, seed: number): StoredEvent[] {
  const random = seededRandom(seed);
  const w = new Uint32Array(6);
  const pick = <T>(xs: readonly T[], word: number): T => xs[word % xs.length] as T;
  let at = Date.now() - 21 * 86_400_000;
  const out: StoredEvent[] = [];
  let title = 0;
  let position = 0;
  for (let i = 0; i < n; i++) {
    random(w);
    const type = pick(['play', 'heartbeat', 'heartbeat', 'pause', 'seek', 'complete', 'skip'] as const, w[0] as number);
    if (type === 'play' || type === 'complete' || type === 'skip') title = (w[1] as number) % 300;
    position = type === 'play' ? 0 : Math.min(position + ((w[2] as number) % 600), 2700);
    at += (w[3] as number) % 9 === 0 ? 6 * 3_600_000 : 30_000 + ((w[3] as number) % 240_000);
    const series = title % 3 === 0;
    out.push({
      type,
      contentId: `title-${title}`,
      ...(series ? { seriesId: `series-${title % 40}`, episode: 1 + (title % 10) } : {}),
      genres: [...pick(GENRES, title)],
      durationSec: 2700,
      positionSec: position,
      device: pick(DEVICES, (w[4] as number) >>> 3),
      at,
    });
  }
  return out;
}

const N = Number(new URLSearchParams(location.search).get('events') ?? 10_000);
const EVENTS = seededEvents(N, 42);
const RUN_ID = Math.random().toString(36).slice(2, 10);

async function readBack(dbName: string): Promise<number> {
  const db = await openDB(dbName);
  try {
    return (await db.getAll('events')).length;
  } finally {
    db.close();
  }
}

const page: SdkBenchPage = {
  events: N,
  userAgent: navigator.userAgent,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,

  async ours(round) {
    const appId = `bench-${RUN_ID}-ours-${round}`;
    const dbName = `edgeseg-${appId}`;
    const errors: string[] = [];
    // A fresh database per run: the SDK names it `edgeseg-<appId>`.
    const seg = createSegmenter({ endpoint: location.origin, appId, onError: (e: Error) => errors.push(e.message) });
    await seg.ready;
    const t0 = performance.now();
    for (const e of EVENTS) seg.track(e);
    const t1 = performance.now();
    await seg.flush();
    const stored = await readBack(dbName);
    const t2 = performance.now();
    const segment = seg.segment()?.label ?? null;
    await seg.shutdown();
    await deleteDB(dbName);
    return { syncMs: t1 - t0, totalMs: t2 - t0, stored, dbName, errors, segment };
  },

  async raw(round) {
    const dbName = `edgeseg-bench-${RUN_ID}-raw-${round}`;
    const db = await openDB(dbName, 1, {
      upgrade(d) {
        d.createObjectStore('events', { autoIncrement: true });
      },
    });
    const t0 = performance.now();
    const copies: StoredEvent[] = [];
    for (const e of EVENTS) copies.push({ ...e, genres: [...e.genres], at: e.at ?? Date.now() });
    const t1 = performance.now();
    const tx = db.transaction('events', 'readwrite');
    for (const e of copies) void tx.store.put(e);
    await tx.done;
    db.close();
    const stored = await readBack(dbName);
    const t2 = performance.now();
    await deleteDB(dbName);
    return { syncMs: t1 - t0, totalMs: t2 - t0, stored, dbName, errors: [], segment: null };
  },
};

(globalThis as unknown as { edgesegBench: SdkBenchPage }).edgesegBench = page;
