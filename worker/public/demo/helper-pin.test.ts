import { describe, expect, it } from 'vitest';
import { helperPin } from './helper-pin.js';

const LEADER = 'https://edge.test';
const HELPER = 'https://helper.test';
const CONFIG = { config_id: 2, kem_id: 16, kdf_id: 1, aead_id: 1, public_key: 'BHelperKey' };

/** A fetch answering `routes` by URL (404 otherwise), recording what was asked. */
function fakeFetch(routes: Record<string, () => Response | Promise<Response>>) {
  const asked: { url: string; credentials: RequestCredentials | undefined }[] = [];
  const fetchFn = async (url: string, init?: RequestInit): Promise<Response> => {
    asked.push({ url, credentials: init?.credentials });
    const route = routes[url];
    return route ? route() : new Response(null, { status: 404 });
  };
  return { asked, fetchFn };
}

describe('helperPin', () => {
  it("reads the helper's origin from the stack config, then the helper's current key from the helper itself", async () => {
    const { asked, fetchFn } = fakeFetch({
      [`${LEADER}/v1/stack`]: () => Response.json({ helper_url: HELPER }),
      [`${HELPER}/.well-known/hpke-configs`]: () => Response.json({ helper: CONFIG, keys: { helper: [CONFIG] } }),
      [`${LEADER}/.well-known/hpke-configs`]: () => Response.json({ helper: { ...CONFIG, public_key: 'BLeadersChoice' } }),
    });
    expect(await helperPin(LEADER, fetchFn)).toEqual({ helper: CONFIG, problem: null });
    expect(asked).toEqual([
      { url: `${LEADER}/v1/stack`, credentials: 'omit' },
      { url: `${HELPER}/.well-known/hpke-configs`, credentials: 'omit' },
    ]);
  });

  it('pins nothing and names no problem on a single-operator deployment', async () => {
    const { asked, fetchFn } = fakeFetch({ [`${LEADER}/v1/stack`]: () => Response.json({ helper_url: null }) });
    expect(await helperPin(LEADER, fetchFn)).toEqual({ helper: null, problem: null });
    expect(asked).toHaveLength(1);
  });

  it('pins nothing and says why when the helper cannot be reached or answers nonsense; never throws', async () => {
    const stack = { [`${LEADER}/v1/stack`]: () => Response.json({ helper_url: HELPER }) };
    const cases: [string, Record<string, () => Response | Promise<Response>>, RegExp][] = [
      ['helper down', { ...stack, [`${HELPER}/.well-known/hpke-configs`]: () => Promise.reject(new TypeError('Failed to fetch')) }, /helper aggregator \(https:\/\/helper\.test\) could not be reached \(Failed to fetch\)/],
      ['helper 503', { ...stack, [`${HELPER}/.well-known/hpke-configs`]: () => new Response(null, { status: 503 }) }, /answered 503/],
      ['no config', { ...stack, [`${HELPER}/.well-known/hpke-configs`]: () => Response.json({ helper: { config_id: 'x' } }) }, /published no HPKE config/],
      ['no stack route', {}, /v1\/stack answered 404/],
      ['a script URL', { [`${LEADER}/v1/stack`]: () => Response.json({ helper_url: 'javascript:alert(1)' }) }, /names no helper origin/],
    ];
    for (const [name, routes, why] of cases) {
      const { fetchFn } = fakeFetch(routes);
      const pin = await helperPin(LEADER, fetchFn);
      expect(pin.helper, name).toBeNull();
      expect(pin.problem, name).toMatch(why);
      expect(pin.problem, name).toMatch(/everything on this device still works/);
    }
  });
});
