/**
 * What the core hands a contribution chunk for one open round, and the checks every
 * chunk (secure or local mode) runs on the untrusted round before building anything.
 * The round's own k and slices are what a k-means contribution is encoded against (a
 * k-selection or new-k round differs from the model's k); only the model version, and
 * through the feature vector's length d, must match.
 */
import type { CountsMeasure, HpkeConfig, ModelManifest, RoundDescriptor, RoundKind } from '@edgeseg/shared';
import { parseRoundDescriptor } from '@edgeseg/shared/secure';
import type { OutboxItem } from '../store.ts';

/** A contribution as it waits in the outbox. */
export type ContributionItem = Extract<OutboxItem, { contribution: object }>;

/** What the core hands the chunk for one open round. */
export interface RoundJob {
  /** The kind of round the core asked for (`GET /v1/rounds/current`, or `?kind=counts`). */
  kind: RoundKind;
  /** The untrusted answer. */
  round: unknown;
  /** The active signed model. */
  model: ModelManifest;
  /** k-means rounds: the device's standardised feature vector. */
  x: Float32Array | null;
  /**
   * Counts rounds: what the device counts (`measure`: its segment, lifecycle stage or a
   * campaign it was shown), the ISO week it reports (the round must count that measure
   * of that week: countsPeriod) and its entry (an index into countsCategories; null:
   * the round's last, "none" entry).
   */
  counts?: { period: string; measure: CountsMeasure; value: number | null } | undefined;
  /**
   * The helper's key as the app itself pins it (`SegmenterOptions.aggregators.helper`):
   * when given, a round or model naming another helper key is refused, so a leader that
   * signs its own key into the model as the helper's still cannot open both shares.
   */
  helper?: HpkeConfig | undefined;
  nowMs: number;
  /**
   * Checks (once per round, within the ledger's cap), charges the round's ε and queues
   * `item`, in one transaction. The chunk calls it once, with the validated round.
   */
  queue(item: ContributionItem, round: RoundDescriptor): Promise<void>;
}

/** A chunk's entry point: validates `job.round`, builds this device's contribution and queues it; throws (nothing queued) when it refuses. */
export type JoinRound = (job: RoundJob) => Promise<void>;

/**
 * Validates the untrusted round of `job` for a chunk of `mode`: a valid round of the kind
 * asked for and of that mode, for the active model's version, still open. Throws naming
 * the problem.
 *
 * @example
 * const round = checkRound(job, 'secure');
 */
export function checkRound(job: RoundJob, mode: RoundDescriptor['mode']): RoundDescriptor {
  const parsed = parseRoundDescriptor(job.round);
  if (!parsed.ok) throw new Error(`contribute: invalid round: ${parsed.errors.slice(0, 3).join('; ')}`);
  const r = parsed.value;
  const problem =
    r.kind !== job.kind || r.mode !== mode
      ? `is a ${r.mode} ${r.kind} round, not a ${mode} ${job.kind} round`
      : r.model_version !== job.model.version
        ? `is for model v${r.model_version}, not v${job.model.version}`
        : r.closes_at * 1000 > job.nowMs
          ? ''
          : 'is closed';
  if (problem) refuse(r, problem);
  return r;
}

/**
 * Throws the refusal of round `r`: `contribute: round <id> <problem>; nothing was sent`.
 *
 * @example
 * if (!pinned) refuse(round, 'names keys the model does not pin');
 */
export function refuse(r: RoundDescriptor, problem: string): never {
  throw new Error(`contribute: round ${r.round_id} ${problem}; nothing was sent`);
}
