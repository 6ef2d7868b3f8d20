import { describe, expect, it } from 'vitest';
import { countsEpsilonOf, DEFAULT_COUNTS_EPSILON } from './counts-epsilon.ts';

describe('countsEpsilonOf', () => {
  it('keeps the defaults when unset, and one number sets the segment rounds only', () => {
    expect(countsEpsilonOf(undefined)).toEqual(DEFAULT_COUNTS_EPSILON);
    expect(countsEpsilonOf('')).toEqual(DEFAULT_COUNTS_EPSILON);
    expect(countsEpsilonOf('0.5')).toEqual({ ...DEFAULT_COUNTS_EPSILON, segment: 0.5 });
  });

  it('reads three numbers as segment, lifecycle, impressions', () => {
    expect(countsEpsilonOf('0.5, 0.25,0.2')).toEqual({ segment: 0.5, lifecycle: 0.25, impressions: 0.2 });
  });

  it.each(['0', '-1', 'abc', '0.4,0.3', '0.4,,0.3', '21', '0.4,0.3,0.3,0.1'])('refuses %j, naming the var', (value) => {
    expect(() => countsEpsilonOf(value)).toThrow(/COUNTS_EPSILON/);
  });
});
