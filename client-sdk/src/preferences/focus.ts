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
