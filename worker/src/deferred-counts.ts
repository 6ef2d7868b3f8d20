/**
 * Deferred counting in front of a per-key rate limiter: a key's first request in this
 * isolate's window is admitted without asking the limiter, and counted only if the key
 * comes back in the same window (then both requests are counted at once).
 *
 * Why: a device sends a few requests a week, so nearly every device request is the only
 * one its address makes in a window, and asking the shared counter about it buys
 * nothing: no limit of one or more refuses a first request. Locally the Rate Limiting
 * binding is emulated by a Durable Object with a SQLite write per call, which measured
 * about as much Worker time per report as all of the report's own work.
 *
 * What it costs: a key whose requests are spread over several isolates (or machines)
 * gets at most one uncounted request per isolate per window above its limit. A key that
 * comes back to the same isolate is counted exactly, its first request included. When
 * the table of first sightings is full, every further new key is counted at once (no
 * deferral), so memory stays bounded and nothing goes uncounted for lack of room.
 */

/**
 * How many limiter calls a request must make: 0 (its key's first in this window: deferred),
 * 2 (its key's second: the deferred first and this one), 1 (any later one, or no room to defer).
 */
export type LimiterCalls = 0 | 1 | 2;

/**
 * First sightings per fixed window of `periodMs`.
 *
 * @example
 * const counts = new DeferredCounts({ periodMs: 10_000, maxKeys: 10_000 });
 * counts.callsFor('ip:203.0.113.7', Date.now()); // 0: admitted, not counted yet
 * counts.callsFor('ip:203.0.113.7', Date.now()); // 2: count the first and this one
 * counts.callsFor('ip:203.0.113.7', Date.now()); // 1
 */
export class DeferredCounts {
  private readonly periodMs: number;
  private readonly maxKeys: number;
  private window = -1;
  /** Keys seen in this window: false while the first request is still uncounted, true once counted. */
  private readonly seen = new Map<string, boolean>();

  /**
   * @param opts.periodMs the limiter's window (its `period`, in ms).
   * @param opts.maxKeys first sightings kept per window; past it, new keys are counted at once.
   */
  constructor(opts: { periodMs: number; maxKeys: number }) {
    this.periodMs = opts.periodMs;
    this.maxKeys = opts.maxKeys;
  }

  /**
   * Records one request of `key` at `nowMs` and says how many limiter calls it needs.
   *
   * @example
   * if ((await Promise.all(Array.from({ length: counts.callsFor(key, Date.now()) }, () => limiter.limit({ key })))).some((r) => !r.success)) refuse();
   */
  callsFor(key: string, nowMs: number): LimiterCalls {
    const window = Math.floor(nowMs / this.periodMs);
    if (window !== this.window) {
      this.window = window;
      this.seen.clear();
    }
    const counted = this.seen.get(key);
    if (counted === undefined) {
      if (this.seen.size >= this.maxKeys) return 1;
      this.seen.set(key, false);
      return 0;
    }
    if (counted) return 1;
    this.seen.set(key, true);
    return 2;
  }
}
