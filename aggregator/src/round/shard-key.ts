/**
 * Which RoundShard holds a contribution: FNV-1a of its idempotency id mod N. Random ids
 * spread writes evenly, and a replayed id always lands on the shard that already has it,
 * so duplicates are caught where the first copy is stored.
 */

/**
 * The shard index of an id.
 *
 * @example
 * shardOf('q3v0X1lq0VbQm7x4Zk2l8A', 8) // 0..7
 */
export function shardOf(id: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/** The key of one separately summed bucket: devices of one slice and one group. */
export function bucketKey(slice: number, group: number): string {
  return `${slice}:${group}`;
}
