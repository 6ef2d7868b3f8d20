import { describe, expect, it } from 'vitest';
import { nextFocusIndex } from './focus.ts';

describe('nextFocusIndex', () => {
  it('moves forward on Down and Right, back on Up and Left', () => {
    expect(nextFocusIndex('ArrowDown', 1, 4)).toBe(2);
    expect(nextFocusIndex('ArrowRight', 1, 4)).toBe(2);
    expect(nextFocusIndex('ArrowUp', 2, 4)).toBe(1);
    expect(nextFocusIndex('ArrowLeft', 2, 4)).toBe(1);
  });

  it('stops at the ends instead of wrapping', () => {
    expect(nextFocusIndex('ArrowDown', 3, 4)).toBe(3);
    expect(nextFocusIndex('ArrowUp', 0, 4)).toBe(0);
  });

  it('jumps with Home and End, and starts at an end when nothing has focus', () => {
    expect(nextFocusIndex('Home', 2, 4)).toBe(0);
    expect(nextFocusIndex('End', 0, 4)).toBe(3);
    expect(nextFocusIndex('ArrowDown', -1, 4)).toBe(0);
    expect(nextFocusIndex('ArrowUp', -1, 4)).toBe(3);
  });

  it('leaves other keys and empty lists alone', () => {
    expect(nextFocusIndex('Enter', 1, 4)).toBeNull();
    expect(nextFocusIndex(' ', 1, 4)).toBeNull();
    expect(nextFocusIndex('Tab', 1, 4)).toBeNull();
    expect(nextFocusIndex('ArrowDown', -1, 0)).toBeNull();
  });
});
