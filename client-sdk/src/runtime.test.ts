import { afterEach, describe, expect, it, vi } from 'vitest';
import { defer, insecureContext } from './runtime.ts';

afterEach(() => vi.unstubAllGlobals());

describe('defer', () => {
  it('runs at the end of the task, with or without queueMicrotask (Chromium 68 has none)', async () => {
    for (const withQueueMicrotask of [true, false]) {
      if (!withQueueMicrotask) vi.stubGlobal('queueMicrotask', undefined);
      const order: string[] = [];
      defer(() => order.push('deferred'));
      order.push('sync');
      await new Promise((r) => setTimeout(r, 0));
      expect(order).toEqual(['sync', 'deferred']);
    }
  });
});

describe('insecureContext', () => {
  it('is null where crypto.subtle exists, and explains HTTPS where it does not', () => {
    expect(insecureContext()).toBeNull();
    vi.stubGlobal('crypto', { getRandomValues: crypto.getRandomValues.bind(crypto) });
    vi.stubGlobal('location', { protocol: 'http:' });
    expect(insecureContext()).toMatch(/on plain HTTP: edgeseg needs a secure context \(HTTPS/);
  });
});
