import { describe, expect, it } from 'vitest';
import { withConnectSource } from './page-csp.ts';

describe('withConnectSource', () => {
  const csp = "default-src 'self'; connect-src 'self'; frame-ancestors 'none'";

  it("adds the origin to connect-src only", () => {
    expect(withConnectSource(csp, 'https://helper.example')).toBe("default-src 'self'; connect-src 'self' https://helper.example; frame-ancestors 'none'");
  });

  it('leaves the policy as it is without an origin', () => {
    expect(withConnectSource(csp, null)).toBe(csp);
  });
});
