/**
 * `EdgesegError`: the one kind of error the SDK hands to `onError`. Its `code` and
 * `stage` are stable (apps switch on them, dashboards count them); the message is for
 * people and may change.
 */

/** What went wrong. Stable: new codes may be added, none renamed. */
export type EdgesegErrorCode =
  | 'invalid-options'
  | 'insecure-context'
  | 'storage-unavailable'
  | 'storage-failed'
  | 'queue-full'
  | 'invalid-event'
  | 'unknown-consent-key'
  | 'model-fetch-failed'
  | 'request-failed'
  | 'model-rejected'
  | 'chunk-load-failed'
  | 'round-refused'
  | 'helper-not-pinned'
  | 'send-refused'
  | 'unknown-campaign'
  | 'listener-threw'
  | 'consent-platform-failed'
  | 'internal';

/** Where it went wrong: the part of the SDK that was at work. */
export type EdgesegStage = 'init' | 'storage' | 'track' | 'consent' | 'model' | 'report' | 'contribute' | 'send' | 'export' | 'erase' | 'campaigns' | 'callback';

/**
 * An SDK error with a stable `code` and `stage`; `cause` holds the underlying error.
 *
 * @example
 * createSegmenter({ endpoint, onError: (e) => { if (e.code === 'insecure-context') showHttpsHint(); } });
 */
export class EdgesegError extends Error {
  /** What went wrong (stable; switch on it). */
  declare readonly code: EdgesegErrorCode;
  /** Where it went wrong (stable). */
  declare readonly stage: EdgesegStage;
  /** The underlying error, when there is one. */
  declare readonly cause?: unknown;
  constructor(code: EdgesegErrorCode, stage: EdgesegStage, message: string, cause?: unknown) {
    super(message);
    // Plain assignments (no class fields, no Error `cause` option): Chromium 68 knows neither.
    (this as { name: string }).name = 'EdgesegError';
    (this as { code: EdgesegErrorCode }).code = code;
    (this as { stage: EdgesegStage }).stage = stage;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }

  /**
   * `err instanceof EdgesegError` holds for an error from any copy of this class: the
   * lazily loaded chunks are self-contained bundles with their own copy, and an app may
   * bundle the SDK twice.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return !!value && (value as { name?: unknown }).name === 'EdgesegError' && typeof (value as { code?: unknown }).code === 'string';
  }
}

/**
 * `err` as an EdgesegError: kept as it is when it already is one, wrapped with `code`
 * and `stage` otherwise (its message carried over, the original as `cause`).
 *
 * @example
 * catch (err) { onError(toEdgesegError(err, 'storage-failed', 'storage')); }
 */
export function toEdgesegError(err: unknown, code: EdgesegErrorCode, stage: EdgesegStage): EdgesegError {
  return err instanceof EdgesegError ? err : new EdgesegError(code, stage, err instanceof Error ? err.message : String(err), err);
}
