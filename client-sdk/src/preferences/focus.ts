/**
 * Arrow-key focus movement for keyboards and TV remotes (whose D-pad sends arrow keys):
 * the controls form one list in reading order; Up/Left go back, Down/Right go on, Home
 * and End jump to the ends. Focus stops at the ends rather than wrapping, as TV menus do.
 */

/**
 * The index of the control to focus after `key`, or null when `key` does not move focus.
 * `current` is -1 when no control has focus.
 *
 * @example
 * nextFocusIndex('ArrowDown', 0, 5) // 1
 * nextFocusIndex('ArrowUp', 0, 5)   // 0
 * nextFocusIndex('Enter', 2, 5)     // null
 */
export function nextFocusIndex(key: string, current: number, count: number): number | null {
  if (count <= 0) return null;
  const last = count - 1;
  switch (key) {
    case 'ArrowDown':
    case 'ArrowRight':
      return current < 0 ? 0 : Math.min(current + 1, last);
    case 'ArrowUp':
    case 'ArrowLeft':
      return current < 0 ? last : Math.max(current - 1, 0);
    case 'Home':
      return 0;
    case 'End':
      return last;
    default:
      return null;
  }
}

/**
 * Key codes of TV remotes' Back buttons, which send no standard `key` on every platform:
 * webOS (LG) sends 461, Tizen (Samsung) 10009 (`key` 'XF86Back').
 */
const BACK_KEY_CODES: readonly number[] = [461, 10009];

/**
 * `key` values that mean "go back / close": Escape on keyboards; GoBack (the UI Events
 * name of a remote's or phone's Back button, e.g. Android TV) and BrowserBack (keyboards'
 * and some remotes' Back key); XF86Back (Tizen); Backspace, which several TV browsers and
 * set-top boxes (HbbTV, VIDAA, some Android TV remotes) send for Back (key code 8).
 */
const BACK_KEYS: readonly string[] = ['Escape', 'GoBack', 'BrowserBack', 'XF86Back'];

/** The parts of a keydown that decide whether it means Back. */
export interface BackKeyInput {
  key: string;
  keyCode: number;
  /** True when focus is in something that edits text, where Backspace deletes a character. */
  editing: boolean;
}

/**
 * Whether a keydown means "back": close what is open, as Escape does. TV remotes' Back
 * buttons by key code (webOS 461, Tizen 10009), Escape, GoBack, BrowserBack, XF86Back,
 * and Backspace unless focus is in a text field (there it deletes a character).
 *
 * @example
 * isBackKey({ key: 'Unidentified', keyCode: 461, editing: false }) // true (webOS Back)
 * isBackKey({ key: 'Backspace', keyCode: 8, editing: true })       // false (a text field)
 * isBackKey({ key: 'Enter', keyCode: 13, editing: false })         // false
 */
export function isBackKey({ key, keyCode, editing }: BackKeyInput): boolean {
  if (BACK_KEY_CODES.includes(keyCode)) return true;
  if (key === 'Backspace' || keyCode === 8) return !editing;
  return BACK_KEYS.includes(key);
}
