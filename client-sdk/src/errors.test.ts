import { describe, expect, it } from 'vitest';
import { EdgesegError, toEdgesegError } from './errors.ts';

describe('EdgesegError', () => {
  it('carries a stable code and stage, and the cause', () => {
    const cause = new TypeError('boom');
    const e = new EdgesegError('storage-failed', 'storage', 'events could not be written', cause);
    expect([e.name, e.code, e.stage, e.message, e.cause]).toEqual(['EdgesegError', 'storage-failed', 'storage', 'events could not be written', cause]);
    expect(e).toBeInstanceOf(Error);
  });

  it('instanceof holds for an error made by another copy of the class (a self-contained chunk)', () => {
    const fromAnotherCopy = Object.assign(new Error('refused'), { name: 'EdgesegError', code: 'send-refused', stage: 'send' });
    expect(fromAnotherCopy instanceof EdgesegError).toBe(true);
    expect(new Error('plain') instanceof EdgesegError).toBe(false);
    expect(toEdgesegError(fromAnotherCopy, 'internal', 'init')).toBe(fromAnotherCopy); // kept, not wrapped
  });

  it('toEdgesegError wraps anything else with the given code and stage', () => {
    const e = toEdgesegError('not an Error', 'internal', 'track');
    expect([e.code, e.stage, e.message]).toEqual(['internal', 'track', 'not an Error']);
  });
});
