import { describe, expect, it } from 'vitest';
import { isJsonMediaType } from './body.ts';

describe('isJsonMediaType', () => {
  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/problem+json', 'application/merge-patch+json;charset=utf-8', ' application/json '])('takes %j', (type) => {
    expect(isJsonMediaType(type)).toBe(true);
  });

  it.each(['', 'text/plain', 'application/json-seq', 'application/jsonl', 'application/x-www-form-urlencoded', 'application/jsonp; charset=utf-8', 'text/json'])('refuses %j', (type) => {
    expect(isJsonMediaType(type)).toBe(false);
  });
});
