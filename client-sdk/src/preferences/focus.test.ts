import { describe, expect, it } from 'vitest';
import { isBackKey, nextFocusIndex } from './focus.ts';

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

describe('isBackKey', () => {
  const press = (key: string, keyCode: number, editing = false): boolean => isBackKey({ key, keyCode, editing });

  it('takes TV remotes’ Back buttons by key code, whatever key they name', () => {
    expect(press('Unidentified', 461)).toBe(true); // webOS
    expect(press('GoBack', 461)).toBe(true);
    expect(press('XF86Back', 10009)).toBe(true); // Tizen
    expect(press('', 10009)).toBe(true);
  });

  it('takes Escape and the standard Back key names', () => {
    expect(press('Escape', 27)).toBe(true);
    expect(press('GoBack', 0)).toBe(true);
    expect(press('BrowserBack', 166)).toBe(true);
    expect(press('XF86Back', 0)).toBe(true);
  });

  it('takes Backspace only when focus is not in a text field', () => {
    expect(press('Backspace', 8)).toBe(true);
    expect(press('Unidentified', 8)).toBe(true);
    expect(press('Backspace', 8, true)).toBe(false);
    expect(press('Escape', 27, true)).toBe(true); // Escape closes even from a text field
  });

  it('leaves every other key alone', () => {
    for (const [key, code] of [['Enter', 13], [' ', 32], ['ArrowUp', 38], ['Tab', 9], ['Delete', 46], ['b', 66], ['MediaPlayPause', 179]] as const) {
      expect(press(key, code), key).toBe(false);
    }
  });
});
