import { afterEach, describe, expect, it, vi } from 'vitest';
import { openTabChannel, type TabMessage } from './tab-channel.ts';

afterEach(() => vi.unstubAllGlobals());

describe('openTabChannel', () => {
  it('uses BroadcastChannel where there is one: another tab hears, the sender does not', async () => {
    const heardA: TabMessage[] = [];
    const heardB: TabMessage[] = [];
    const a = openTabChannel('t-bc', (m) => heardA.push(m));
    const b = openTabChannel('t-bc', (m) => heardB.push(m));
    a?.post({ type: 'erase' });
    await new Promise((r) => setTimeout(r, 20));
    expect(heardB).toEqual([{ type: 'erase' }]);
    expect(heardA).toEqual([]);
    a?.close();
    b?.close();
  });

  it('falls back to storage events without BroadcastChannel, and leaves nothing stored', () => {
    const store = new Map<string, string>();
    const listeners: ((e: { key: string; newValue: string | null }) => void)[] = [];
    vi.stubGlobal('BroadcastChannel', undefined);
    vi.stubGlobal('localStorage', { setItem: (k: string, v: string) => store.set(k, v), removeItem: (k: string) => store.delete(k) });
    vi.stubGlobal('addEventListener', (_: string, fn: (e: { key: string; newValue: string | null }) => void) => listeners.push(fn));
    vi.stubGlobal('removeEventListener', () => undefined);
    const heard: TabMessage[] = [];
    const channel = openTabChannel('t-ls', (m) => heard.push(m));
    expect(channel).not.toBeNull();
    // What another tab's post looks like to this one: a storage event on the channel's key.
    for (const fn of listeners) fn({ key: 't-ls:tab-message', newValue: JSON.stringify({ m: { type: 'consent', choice: { personalization: true, measurement: false, model_improvement: false } }, n: 0.5 }) });
    expect(heard).toEqual([{ type: 'consent', choice: { personalization: true, measurement: false, model_improvement: false } }]);
    channel?.post({ type: 'erase' });
    expect(store.size).toBe(0);
  });

  it('is null where neither exists', () => {
    vi.stubGlobal('BroadcastChannel', undefined);
    vi.stubGlobal('localStorage', undefined);
    Object.defineProperty(globalThis, 'localStorage', { get: () => { throw new Error('SecurityError'); }, configurable: true });
    expect(openTabChannel('t-none', () => undefined)).toBeNull();
    delete (globalThis as { localStorage?: unknown }).localStorage;
  });
});
