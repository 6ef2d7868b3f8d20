/**
 * The event log and the features it feeds: events are folded into the decayed feature
 * aggregates as they arrive and written to IndexedDB once per burst, in one transaction
 * with the features and any segment changes. Before the store is open, events wait in
 * memory, up to a bound, so a store that never opens cannot grow the page without end.
 */
import { emptyFeatureState, updateFeatureState, type FeatureState } from '@edgeseg/shared';
import { EdgesegError } from './errors.ts';
import { defer } from './runtime.ts';
import type { SegmentHistoryEntry, Store, StoredEvent } from './store.ts';

/** Events kept in memory while the store is not open; past it the oldest are dropped (and reported once). */
export const MAX_WAITING_EVENTS = 1000;

export interface EventLog {
  /** The decayed feature aggregates (in memory; written with each burst). */
  readonly features: FeatureState;
  /** Takes one checked event: folded at once when the store is open, else kept waiting (bounded). */
  add(event: StoredEvent): void;
  /** Records a segment change, written with the next burst. */
  addHistory(entry: SegmentHistoryEntry): void;
  /** Opens the log on `db`: loads the stored features (or rebuilds them from stored events), then takes what waited. */
  open(db: Store): Promise<void>;
  /** Writes at the end of the task (one transaction per burst); never rejects. */
  scheduleWrite(): void;
  /** Writes now whatever is queued; never rejects. */
  write(): Promise<void>;
  /** Forgets everything in memory (erase). */
  reset(): void;
}

export interface EventLogOptions {
  store: () => Store | null;
  /** Whether events may be kept at all (personalization). */
  keep: () => boolean;
  /** Called at the end of a burst of added events (segment, reports). */
  onBurst: () => void;
  fail: (err: EdgesegError) => void;
  /** The device's time-zone offset in minutes (`Date#getTimezoneOffset`). */
  timezoneOffset?: () => number;
}

/**
 * Creates the event log.
 *
 * @example
 * const log = createEventLog({ store: () => db, keep: () => consent.personalization, onBurst: recompute, fail });
 * log.add({ type: 'play', contentId: 'tt1', genres: ['Drama'], durationSec: 3000, positionSec: 0, at: Date.now() });
 */
export function createEventLog(opts: EventLogOptions): EventLog {
  const tz = opts.timezoneOffset || (() => new Date().getTimezoneOffset());
  let features = emptyFeatureState();
  let waiting: StoredEvent[] = [];
  let unwritten: StoredEvent[] = [];
  let history: SegmentHistoryEntry[] = [];
  let opened = false;
  let writeScheduled = false;
  let burstScheduled = false;
  let dropped = false;

  function fold(events: readonly StoredEvent[]): void {
    const offset = tz();
    for (const e of events) updateFeatureState(features, e, offset);
  }

  function apply(events: StoredEvent[]): void {
    if (events.length === 0 || !opts.keep()) return;
    fold(events);
    unwritten.push(...events);
    if (!burstScheduled) {
      burstScheduled = true;
      defer(() => {
        burstScheduled = false;
        opts.onBurst();
        void write();
      });
    }
  }

  async function write(): Promise<void> {
    writeScheduled = false;
    const db = opts.store();
    if (!db || (unwritten.length === 0 && history.length === 0)) return;
    const events = unwritten;
    const changes = history;
    unwritten = [];
    history = [];
    try {
      const tx = db.transaction(['events', 'segmentHistory', 'kv'], 'readwrite');
      await Promise.all([...events.map((e) => tx.objectStore('events').add(e)), ...changes.map((h) => tx.objectStore('segmentHistory').add(h)), tx.objectStore('kv').put(features, 'features'), tx.done]);
    } catch (err) {
      unwritten = events.concat(unwritten);
      history = changes.concat(history);
      opts.fail(new EdgesegError('storage-failed', 'storage', `events could not be written; they stay queued: ${String(err)}`, err));
    }
  }

  return {
    get features() {
      return features;
    },
    add(event) {
      if (opened) return apply([event]);
      waiting.push(event);
      if (waiting.length > MAX_WAITING_EVENTS) {
        waiting.shift();
        if (!dropped) opts.fail(new EdgesegError('queue-full', 'storage', `storage is not open yet: only the latest ${MAX_WAITING_EVENTS} events are kept in memory`));
        dropped = true;
      }
    },
    addHistory(entry) {
      history.push(entry);
      this.scheduleWrite();
    },
    async open(db) {
      const tx = db.transaction(['kv', 'events']);
      const stored = (await tx.objectStore('kv').get('features')) as FeatureState | undefined;
      if (stored && stored.v === features.v) features = stored;
      else fold(await tx.objectStore('events').index('at').getAll()); // none yet, or another layout (schema change): rebuild from the log
      opened = true;
      const early = waiting;
      waiting = [];
      apply(early);
    },
    scheduleWrite() {
      if (writeScheduled || !opened) return;
      writeScheduled = true;
      defer(() => void write());
    },
    write,
    reset() {
      features = emptyFeatureState();
      waiting = [];
      unwritten = [];
      history = [];
    },
  };
}
