/**
 * Messages between the open tabs of one app (consent changes, erase), so that every tab
 * acts on them at once: a BroadcastChannel where there is one, else `storage` events
 * (Safari before 15.4, some TV engines), else none (one tab only).
 */
import type { ConsentState } from './consent.ts';

/** What one tab tells the others. */
export type TabMessage = { type: 'consent'; choice: ConsentState } | { type: 'erase' };

/** A channel to the other tabs; it never hears its own messages. */
export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

/**
 * Opens the channel `name`, calling `onMessage` for every message another tab posts.
 * Returns null where no channel is possible (then only this tab acts).
 *
 * @example
 * const channel = openTabChannel('edgeseg-streambox', (m) => m.type === 'erase' && resetMemory());
 * channel?.post({ type: 'erase' });
 */
export function openTabChannel(name: string, onMessage: (message: TabMessage) => void): TabChannel | null {
  if (typeof BroadcastChannel === 'function') {
    const bc = new BroadcastChannel(name);
    bc.onmessage = (e: MessageEvent<TabMessage>) => onMessage(e.data);
    return { post: (m) => bc.postMessage(m), close: () => bc.close() };
  }
  try {
    const storage = localStorage;
    const key = `${name}:tab-message`;
    const onStorage = (e: StorageEvent): void => {
      if (e.key === key && e.newValue) onMessage((JSON.parse(e.newValue) as { m: TabMessage }).m);
    };
    addEventListener('storage', onStorage);
    return {
      // A nonce makes every message a change (storage events fire only on changes); removed at once, so nothing stays stored.
      post(m) {
        storage.setItem(key, JSON.stringify({ m, n: Math.random() }));
        storage.removeItem(key);
      },
      close: () => removeEventListener('storage', onStorage),
    };
  } catch {
    return null; // no localStorage (disabled, or not a document)
  }
}
