import { describe, expect, it } from 'vitest';
import { clientKey } from './rate-limit.ts';

describe('clientKey', () => {
  it('limits every address by itself', () => {
    expect(clientKey('203.0.113.7', {})).toBe('ip:203.0.113.7');
    expect(clientKey('2001:db8::1', { DEV_UNLIMITED_LOCAL: 'true' })).toBe('ip:2001:db8::1');
  });

  it('exempts loopback and missing addresses only where development says so', () => {
    for (const local of [null, '127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(clientKey(local, { DEV_UNLIMITED_LOCAL: 'true' })).toBeNull();
    // In production a request without CF-Connecting-IP shares one key; loopback is limited like any address.
    expect(clientKey(null, {})).toBe('ip:unknown');
    expect(clientKey('127.0.0.1', { DEV_UNLIMITED_LOCAL: 'false' })).toBe('ip:127.0.0.1');
  });
});
