/** HelperShard stores one shard of one round's contributions on the helper: id → bucket and the share the helper opened itself (nothing to relay); after the release ids only, and nothing once the round expired. */
import { DurableObject } from 'cloudflare:workers';
import { ShardStore, type AddResult, type ShardItem, type ShardSummary } from '../../round/shard-store.ts';

/**
 * A thin Durable Object over {@link ShardStore}: the helper's coordinator seals it, sums
 * it, and purges it after the release (ids kept for replay refusal).
 */
export class HelperShard extends DurableObject<unknown> {
  private store: ShardStore;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.store = new ShardStore(ctx.storage);
  }

  /**
   * Stores and sums opened shares whose ids are new (RoundSealedError once sealed).
   *
   * @example
   * await shard.add('r-1', 272, items);
   */
  add(roundId: string, vectorLength: number, items: ShardItem[]): Promise<AddResult> {
    return this.store.add(roundId, vectorLength, items);
  }

  /**
   * Closes the shard to new shares (before the release sums it).
   *
   * @example
   * await shard.seal();
   */
  seal(): void {
    this.store.seal();
  }

  /**
   * The shard's buckets (throws once purged).
   *
   * @example
   * const buckets = await shard.summary(272);
   */
  summary(vectorLength: number): ShardSummary {
    return this.store.summary(vectorLength);
  }

  /**
   * Deletes every share after the release, keeping only the ids.
   *
   * @example
   * await shard.purge();
   */
  purge(): Promise<void> {
    return this.store.purge();
  }

  /**
   * Once the round has expired: deletes everything the shard stored, the ids kept for
   * replay refusal included, and leaves it closed (anything sent later is refused).
   *
   * @example
   * await shard.forget();
   */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.store = new ShardStore(this.ctx.storage);
    await this.store.purge();
  }

  /**
   * Shares still stored (0 after the purge), for audits and tests.
   *
   * @example
   * await shard.storedShares() // 0
   */
  storedShares(): number {
    return this.store.storedShares();
  }
}
