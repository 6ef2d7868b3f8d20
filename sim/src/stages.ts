/**
 * Wall-clock seconds per stage, printed as the run goes (stderr) and returned in the JSON,
 * with the process's CPU seconds beside them (all threads): on a shared machine the wall
 * clock moves with the neighbours' load, the CPU time much less.
 */
export interface StageClock {
  /**
   * Runs `fn` as stage `name`, adds its time, prints it; returns what fn returns. With
   * `thisThread`, the CPU column counts this thread only (for a stage that runs while
   * worker threads do other work).
   */
  time<T>(name: string, fn: () => T, opts?: { thisThread?: boolean }): T;
  timeAsync<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Records a stage timed elsewhere (e.g. on worker threads), with its CPU seconds when known. */
  add(name: string, seconds: number, cpuSeconds?: number): void;
  readonly seconds: Record<string, number>;
  /** CPU seconds (user + system, all threads of this process) per stage. */
  readonly cpuSeconds: Record<string, number>;
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
  const cpuSeconds: Record<string, number> = {};
  const start = performance.now();
  const stamp = (): string => `[${((performance.now() - start) / 1000).toFixed(1)} s]`;
  const cpuNow = (thisThread = false): number => {
    const u = thisThread ? process.threadCpuUsage() : process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const record = (name: string, s: number, cpu: number | null): void => {
    seconds[name] = (seconds[name] ?? 0) + s;
    if (cpu !== null) cpuSeconds[name] = (cpuSeconds[name] ?? 0) + cpu;
    log(`${stamp()} ${name}: ${s.toFixed(2)} s${cpu !== null ? ` (cpu ${cpu.toFixed(2)} s)` : ''}`);
  };
  return {
    seconds,
    cpuSeconds,
    add: (name, s, cpu) => record(name, s, cpu ?? null),
    note: (message) => log(`${stamp()} ${message}`),
    time(name, fn, opts) {
      const t = performance.now();
      const c = cpuNow(opts?.thisThread);
      const out = fn();
      record(name, (performance.now() - t) / 1000, cpuNow(opts?.thisThread) - c);
      return out;
    },
    async timeAsync(name, fn) {
      const t = performance.now();
      const c = cpuNow();
      const out = await fn();
      record(name, (performance.now() - t) / 1000, cpuNow() - c);
      return out;
    },
  };
}
