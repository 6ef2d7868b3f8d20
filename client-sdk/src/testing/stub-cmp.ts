/**
 * Test fixture (not part of any bundle): stub consent management platforms that follow
 * the IAB APIs, for the CMP connector's Node tests.
 *
 * - TCF v2.2: `__tcfapi(command, version, callback, parameter)` with ping,
 *   addEventListener (a new listenerId per call, called at once and on every change) and
 *   removeEventListener; while the CMP "loads" it queues calls as the IAB stub does and
 *   runs them in order once loaded.
 * - GPP 1.1: `__gpp(command, callback, parameter)` with ping, addEventListener (called at
 *   once with `listenerRegistered`, then per event with `pingData`), removeEventListener,
 *   hasSection and getSection; a change fires signalStatus 'not ready', one sectionChange
 *   per section, then signalStatus 'ready', in the order the GPP spec requires.
 */
import type { GppApi, GppEvent, GppPing, GppSection, TcData, TcfApi } from '../cmp/iab.ts';

type Callback = (data: unknown, success: boolean) => void;

export interface StubTcf {
  api: TcfApi;
  /** The TCData now (without listenerId). */
  tcData: TcData;
  /** The CMP finished loading: runs the queued calls, in order. */
  load(): void;
  /** A new TCData (a viewer's answer, a change): every listener is called with it. */
  update(next: TcData): void;
  /** Listeners registered now. */
  listenerCount(): number;
  /** Every call, as [command, version, parameter]. */
  calls: [string, number, unknown][];
}

/**
 * A TCF v2.2 CMP. `loaded: false` starts it as the stub that queues calls until `load()`.
 *
 * @example
 * const cmp = stubTcf({ tcData: { gdprApplies: true, eventStatus: 'tcloaded', cmpStatus: 'loaded', purpose: { consents: { 1: true } } } });
 * connectConsentPlatform(seg, { host: { __tcfapi: cmp.api } });
 */
export function stubTcf({ tcData, loaded = true }: { tcData: TcData; loaded?: boolean }): StubTcf {
  const listeners = new Map<number, Callback>();
  const queue: [string, number, Callback, unknown][] = [];
  let nextId = 1;
  let isLoaded = loaded;
  const stub: StubTcf = {
    tcData,
    calls: [],
    api(command, version, callback, parameter) {
      stub.calls.push([command, version, parameter]);
      if (command === 'ping') return callback({ gdprApplies: stub.tcData.gdprApplies, cmpLoaded: isLoaded, cmpStatus: isLoaded ? 'loaded' : 'stub', apiVersion: '2.2' }, true);
      if (!isLoaded) {
        queue.push([command, version, callback, parameter]);
        return;
      }
      run(command, version, callback, parameter);
    },
    load() {
      isLoaded = true;
      for (const [command, version, callback, parameter] of queue.splice(0)) run(command, version, callback, parameter);
    },
    update(next) {
      stub.tcData = next;
      for (const [listenerId, cb] of listeners) cb({ ...next, listenerId }, true);
    },
    listenerCount: () => listeners.size,
  };
  function run(command: string, version: number, callback: Callback, parameter: unknown): void {
    if (version !== 2) return callback(null, false);
    if (command === 'addEventListener') {
      const listenerId = nextId++;
      listeners.set(listenerId, callback);
      return callback({ ...stub.tcData, listenerId }, true);
    }
    if (command === 'removeEventListener') return callback(listeners.delete(parameter as number), true);
    callback(null, false); // getTCData and the rest: not needed here
  }
  return stub;
}

export interface StubGpp {
  api: GppApi;
  ping: GppPing;
  /** The viewer answered (or the CMP loaded): not ready, a sectionChange per section, ready. */
  change(sections: Record<string, GppSection>, applicableSections: number[]): void;
  /** Fires one event to every listener, with the ping as it is now. */
  fire(eventName: string, data: unknown): void;
  listenerCount(): number;
  calls: [string, unknown][];
}

/**
 * A GPP 1.1 CMP starting from `ping` (signalStatus 'not ready' while it loads).
 * `parsedSections: false` makes it a GPP 1.0-style CMP: sections only through getSection.
 *
 * @example
 * const cmp = stubGpp({ ping: { signalStatus: 'not ready', applicableSections: [0] } });
 * cmp.change({ usnat: [{ SaleOptOut: 1 }] }, [7]);
 */
export function stubGpp({ ping, parsedSections = true }: { ping: GppPing; parsedSections?: boolean }): StubGpp {
  const listeners = new Map<number, Callback>();
  let nextId = 1;
  let sections: Record<string, GppSection> = { ...(ping.parsedSections ?? {}) } as Record<string, GppSection>;
  const pingNow = (): GppPing => {
    const { parsedSections: _, ...rest } = stub.ping;
    return parsedSections ? { ...rest, parsedSections: sections } : rest;
  };
  const stub: StubGpp = {
    ping,
    calls: [],
    api(command, callback, parameter) {
      stub.calls.push([command, parameter]);
      switch (command) {
        case 'ping':
          return callback(pingNow(), true);
        case 'addEventListener': {
          const listenerId = nextId++;
          listeners.set(listenerId, callback);
          const event: GppEvent = { eventName: 'listenerRegistered', listenerId, data: true, pingData: pingNow() };
          return callback(event, true);
        }
        case 'removeEventListener':
          return callback(listeners.delete(parameter as number), true);
        case 'hasSection':
          return callback(sections[parameter as string] !== undefined, true);
        case 'getSection':
          return callback(sections[parameter as string] ?? null, true);
        default:
          return callback(null, false);
      }
    },
    change(next, applicableSections) {
      stub.ping = { ...stub.ping, signalStatus: 'not ready' };
      stub.fire('signalStatus', 'not ready');
      sections = { ...sections, ...next };
      stub.ping = { ...stub.ping, applicableSections };
      for (const prefix of Object.keys(next)) stub.fire('sectionChange', prefix);
      stub.ping = { ...stub.ping, signalStatus: 'ready', cmpStatus: 'loaded' };
      stub.fire('signalStatus', 'ready');
    },
    fire(eventName, data) {
      for (const [listenerId, cb] of listeners) cb({ eventName, listenerId, data, pingData: pingNow() } satisfies GppEvent, true);
    },
    listenerCount: () => listeners.size,
  };
  return stub;
}
