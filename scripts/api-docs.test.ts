import { describe, expect, it } from 'vitest';
import { staleApiDocs } from './build-api-docs.mjs';

/**
 * docs/api/ is generated from the SDK's types and JSDoc; this regenerates it into a
 * throwaway folder (typedoc, a few seconds) and compares page by page, so a change to the
 * public API without `npm run docs:api` fails here.
 */
describe('docs/api (the SDK API reference)', () => {
  it('matches what typedoc generates from client-sdk now', async () => {
    const problems = await staleApiDocs();
    expect(problems, 'run `npm run docs:api` and commit docs/api').toEqual([]);
  }, 120_000);
});
