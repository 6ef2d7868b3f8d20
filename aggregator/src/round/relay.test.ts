import { describe, expect, it } from 'vitest';
import { parseRelayAnswer, relayItemId } from './relay.ts';

describe('the helper’s verdicts on a relayed batch', () => {
  const sent = new Set(['a', 'b', 'c']);

  it('keeps only ids of this batch, once each, and counts an id in both lists as rejected', () => {
    expect(parseRelayAnswer({ verified: ['a', 'a', 'zz', 3, 'c'], rejected: ['c', 'other'] }, sent)).toEqual({ verified: ['a'], rejected: ['c'] });
  });

  it('reads anything else as no answer (the batch stays pending)', () => {
    for (const body of [null, [], { verified: ['a'] }, { rejected: [] }, { verified: 'a', rejected: [] }]) expect(parseRelayAnswer(body, sent)).toBeNull();
  });

  it('names an item by its id, or by its position when it has none', () => {
    expect(relayItemId({ id: 'a' }, 0)).toBe('a');
    expect(relayItemId(null, 4)).toBe('items[4]');
    expect(relayItemId({ id: 5 }, 1)).toBe('items[1]');
  });
});
