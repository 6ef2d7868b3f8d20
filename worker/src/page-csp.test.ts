import { describe, expect, it } from 'vitest';
import { HELPER_READING_PAGES, withConnectSource } from './page-csp.ts';

describe('withConnectSource', () => {
  const csp = "default-src 'self'; connect-src 'self'; frame-ancestors 'none'";

  it("adds the origin to connect-src only", () => {
    expect(withConnectSource(csp, 'https://helper.example')).toBe("default-src 'self'; connect-src 'self' https://helper.example; frame-ancestors 'none'");
  });

  it('leaves the policy as it is without an origin', () => {
    expect(withConnectSource(csp, null)).toBe(csp);
  });
});

describe('HELPER_READING_PAGES', () => {
  it("is exactly wrangler.toml's run_worker_first list (a page missing there would keep the static CSP)", async () => {
    const { readFileSync } = await import('node:fs');
    const toml = readFileSync(new URL('../../wrangler.toml', import.meta.url), 'utf8');
    const list = /^run_worker_first\s*=\s*(\[.*\])\s*$/m.exec(toml)?.[1];
    expect(list).toBeDefined();
    expect(new Set(JSON.parse(list as string) as string[])).toEqual(HELPER_READING_PAGES);
  });
});
