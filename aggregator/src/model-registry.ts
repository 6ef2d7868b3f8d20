/** ModelRegistry stores every published signed model: version → compact JWS, ETag, manifest JSON. */
import { DurableObject } from 'cloudflare:workers';

const TABLE_MODELS = 'models';

/** A published model as the registry keeps it. */
export interface PublishedModel {
  version: number;
  jws: string;
  etag: string;
  manifest: string;
  publishedAt: number;
}

interface ModelRow extends Record<string, SqlStorageValue> {
  version: number;
  jws: string;
  etag: string;
  manifest: string;
  published_at: number;
}

function toModel(row: ModelRow): PublishedModel {
  return { version: row.version, jws: row.jws, etag: row.etag, manifest: row.manifest, publishedAt: row.published_at };
}

/**
 * A single instance (named `global`) so every Worker isolate serves the same bytes and
 * ETag for a version, and versions only ever go up.
 */
export class ModelRegistry extends DurableObject<unknown> {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${TABLE_MODELS} (version INTEGER PRIMARY KEY, jws TEXT NOT NULL, etag TEXT NOT NULL, manifest TEXT NOT NULL, published_at INTEGER NOT NULL)`,
    );
  }

  /**
   * The newest published model, or null before the first publication.
   *
   * @example
   * const model = await registry.current();
   */
  current(): PublishedModel | null {
    const row = this.ctx.storage.sql.exec<ModelRow>(`SELECT * FROM ${TABLE_MODELS} ORDER BY version DESC LIMIT 1`).toArray()[0];
    return row ? toModel(row) : null;
  }

  /**
   * A published model by version, or null.
   *
   * @example
   * const v1 = await registry.get(1);
   */
  get(version: number): PublishedModel | null {
    const row = this.ctx.storage.sql.exec<ModelRow>(`SELECT * FROM ${TABLE_MODELS} WHERE version = ?`, version).toArray()[0];
    return row ? toModel(row) : null;
  }

  /**
   * Versions that carry at least one campaign and were published before `beforeMs`: the
   * models a device could have sent impression reports against until then.
   *
   * @example
   * await registry.versionsWithCampaigns(periodStart(p) + 8 * 86_400_000) // [5, 6, 9]
   */
  versionsWithCampaigns(beforeMs: number): number[] {
    const rows = this.ctx.storage.sql.exec<{ version: number }>(
      `SELECT version FROM ${TABLE_MODELS} WHERE published_at < ? AND json_array_length(manifest, '$.campaigns') > 0 ORDER BY version`,
      beforeMs,
    );
    return rows.toArray().map((r) => r.version);
  }

  /**
   * Publishes a model if its version is newer than the current one, and returns the
   * current model afterwards (the caller's, or the one that won a race).
   *
   * @example
   * const current = await registry.publish({ version: 2, jws, etag, manifest });
   */
  publish(model: Omit<PublishedModel, 'publishedAt'>): PublishedModel {
    const current = this.current();
    if (current && current.version >= model.version) return current;
    this.ctx.storage.sql.exec(
      `INSERT INTO ${TABLE_MODELS} (version, jws, etag, manifest, published_at) VALUES (?, ?, ?, ?, ?)`,
      model.version,
      model.jws,
      model.etag,
      model.manifest,
      Date.now(),
    );
    return this.current() as PublishedModel;
  }
}
