/** Wall-clock seconds per stage, printed as the run goes (stderr) and returned in the JSON. */
export interface StageClock {
  /** Runs `fn` as stage `name`, adds its time, prints it; returns what fn returns. */
  time<T>(name: string, fn: () => T): T;
  timeAsync<T>(name: string, fn: () => Promise<T>): Promise<T>;
  add(name: string, seconds: number): void;
  readonly seconds: Record<string, number>;
  note(message: string): void;
}

/**
 * A stage clock writing progress lines to `log` (stderr in the CLI).
 *
 * @example
 * const clock = stageClock((m) => process.stderr.write(`${m}\n`));
 * const baseline = clock.time('baseline', () => kmeans(matrix, 31, 8));
 */
export function stageClock(log: (message: string) => void): StageClock {
  const seconds: Record<string, number> = {};
  const start = performance.now();
  const stamp = (): string => `[${((performance.now() - start) / 1000).toFixed(1)} s]`;
  const add = (name: string, s: number): void => {
    seconds[name] = (seconds[name] ?? 0) + s;
    log(`${stamp()} ${name}: ${s.toFixed(2)} s`);
  };
  return {
    seconds,
    add,
    note: (message) => log(`${stamp()} ${message}`),
    time(name, fn) {
      const t = performance.now();
      const out = fn();
      add(name, (performance.now() - t) / 1000);
      return out;
    },
    async timeAsync(name, fn) {
      const t = performance.now();
      const out = await fn();
      add(name, (performance.now() - t) / 1000);
      return out;
    },
  };
}
