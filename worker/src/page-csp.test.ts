import { describe, expect, it } from 'vitest';
import { helperOrigin, withConnectSource } from './page-csp.ts';

describe('withConnectSource', () => {
  const csp = "default-src 'self'; connect-src 'self'; frame-ancestors 'none'";

  it("adds the origin to connect-src only", () => {
    expect(withConnectSource(csp, 'https://helper.example')).toBe("default-src 'self'; connect-src 'self' https://helper.example; frame-ancestors 'none'");
  });

  it('leaves the policy as it is without an origin', () => {
    expect(withConnectSource(csp, null)).toBe(csp);
  });
});

describe('helperOrigin', () => {
  it.each([
    ['http://127.0.0.1:8788', 'http://127.0.0.1:8788'],
    ['https://helper.example/some/path?x=1', 'https://helper.example'],
    ['', null],
    [undefined, null],
    ['not a url', null],
    ["javascript:alert('x')", null],
    ["https://helper.example; script-src *", null],
  ])('%s → %s', (url, origin) => {
    expect(helperOrigin(url)).toBe(origin);
  });
});
