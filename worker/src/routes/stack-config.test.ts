import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv, Env } from '../env.ts';
import { helperOrigin } from '../helper-origin.ts';
import { stackConfigRoutes } from './stack-config.ts';

const app = new Hono<AppEnv>().route('/', stackConfigRoutes);
const ask = (env: Partial<Env>) => app.request('/v1/stack', {}, env as Env);

describe('GET /v1/stack', () => {
  it("answers the helper's origin from HELPER_URL, as JSON never cached", async () => {
    const res = await ask({ HELPER_URL: 'http://127.0.0.1:8788' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ helper_url: 'http://127.0.0.1:8788' });
  });

  it('answers null on a single-operator deployment (no HELPER_URL)', async () => {
    expect(await (await ask({})).json()).toEqual({ helper_url: null });
    expect(await (await ask({ HELPER_URL: '' })).json()).toEqual({ helper_url: null });
  });
});

describe('helperOrigin', () => {
  it('keeps only the origin of an absolute http(s) URL, and nothing else', () => {
    expect(helperOrigin('https://helper.example/some/path?x=1')).toBe('https://helper.example');
    expect(helperOrigin('http://127.0.0.1:8788/')).toBe('http://127.0.0.1:8788');
    for (const bad of ['helper.example', '/relative', 'javascript:alert(1)', 'data:text/plain,x', 'ftp://helper.example']) expect(helperOrigin(bad), bad).toBeNull();
  });
});
