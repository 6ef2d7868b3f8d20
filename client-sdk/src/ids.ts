/**
 * A random idempotency id (128 bits, base64url). Random, never derived from the device,
 * so two reports from one device cannot be linked through their ids.
 *
 * @example
 * randomId() // 'q3v0X1lq0VbQm7x4Zk2l8A'
 */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
