/**
 * The privacy ledger's GRR tally releases: segment, lifecycle and impression reports
 * frozen by SegmentTally.release when a marketer first reads a closed period. Each entry
 * holds only what that answer released (ε, the debiased noisy estimates with their
 * suppression), never a raw tally count. Pure builders; recording is in record-tally-release.ts.
 */
import type { LifecycleRelease, TallySummary } from '@edgeseg/aggregator';
import type { ImpressionEstimate } from '@edgeseg/shared';

/** The kinds of randomized report a tally releases. */
export type TallyKind = 'segments' | 'lifecycle' | 'impressions';

/** One released value: a segment, lifecycle stage or campaign; `count` and `ci95` are null when suppressed. */
export interface TallyEstimate {
  label: string;
  count: number | null;
  ci95: [number, number] | null;
  suppressed: boolean;
}

/** One tally release as the ledger lists it. */
export interface TallyLedgerEntry {
  kind: TallyKind;
  mechanism: 'grr';
  /** The model the reports were made against (impressions: the newest of `model_versions`). */
  model_version: number;
  /** Impressions only: every model version whose tally the period's answer summed. */
  model_versions?: number[];
  period: string;
  /** When this leader first released it (s since epoch). */
  released_at: number;
  /** ε of one report of this kind (impressions: the largest over `model_versions`; a device reports against one model). */
  epsilon: number;
  /** GRR is pure ε-LDP. */
  delta: 0;
  /** The number of randomized reports the answer released (not a count of any segment); null where the answer does not state it (impressions). */
  reports: number | null;
  k_threshold: number;
  estimates: TallyEstimate[];
}

/** What the ledger says about these entries. */
export const TALLY_LEDGER_NOTE =
  'tally_releases: GRR releases of segment, lifecycle and impression reports, each frozen when a marketer first read its closed period; ε is per report and δ = 0 (each device sends one report of each kind per week against one model). `reports` is the number of randomized reports released with the answer, not a count of any segment; estimates are the debiased noisy figures as the API answered them, null when under the k-threshold.';

/**
 * The ledger entry of a segments release, or null when nothing was spent (no report) or
 * the release is not a GRR tally's (a secure counts round is listed as a round).
 *
 * @example
 * segmentsEntry(3, '2026-W47', summary, nowS) // { kind: 'segments', mechanism: 'grr', ... }
 */
export function segmentsEntry(modelVersion: number, period: string, summary: TallySummary, nowS: number): TallyLedgerEntry | null {
  if (summary.mechanism !== 'grr' || summary.reports === 0) return null;
  return {
    kind: 'segments',
    mechanism: 'grr',
    model_version: modelVersion,
    period,
    released_at: nowS,
    epsilon: summary.epsilon,
    delta: 0,
    reports: summary.reports,
    k_threshold: summary.kThreshold,
    estimates: summary.segments.map((s) => ({ label: s.label, count: s.count, ci95: s.ci95, suppressed: s.suppressed })),
  };
}

/**
 * The ledger entry of a lifecycle release (counts per stage as answered), or null when it held no report.
 *
 * @example
 * lifecycleEntry(3, '2026-W47', lifecycle, nowS)?.estimates.map((e) => e.label) // ['new', 'active', 'at_risk', 'lapsed']
 */
export function lifecycleEntry(modelVersion: number, period: string, release: LifecycleRelease, nowS: number): TallyLedgerEntry | null {
  if (release.reports === 0) return null;
  return {
    kind: 'lifecycle',
    mechanism: 'grr',
    model_version: modelVersion,
    period,
    released_at: nowS,
    epsilon: release.epsilon,
    delta: 0,
    reports: release.reports,
    k_threshold: release.kThreshold,
    estimates: release.stages.map((s) => ({ label: s.stage, count: s.count, ci95: s.ci95, suppressed: s.suppressed })),
  };
}

/**
 * The ledger entry of a period's impressions answer (estimates summed over the model
 * versions that took reports), or null when no tally held a report. The answer does not
 * state how many reports it summed, so neither does the entry.
 *
 * @example
 * impressionsEntry('2026-W47', [{ version: 4, epsilon: 1, reports: 900 }], estimates, 50, nowS)
 */
export function impressionsEntry(
  period: string,
  tallies: readonly { version: number; epsilon: number; reports: number }[],
  estimates: readonly ImpressionEstimate[],
  kThreshold: number,
  nowS: number,
): TallyLedgerEntry | null {
  const spent = tallies.filter((t) => t.reports > 0);
  if (spent.length === 0) return null;
  const versions = [...new Set(spent.map((t) => t.version))].sort((a, b) => a - b);
  return {
    kind: 'impressions',
    mechanism: 'grr',
    model_version: versions[versions.length - 1] as number,
    model_versions: versions,
    period,
    released_at: nowS,
    epsilon: Math.max(...spent.map((t) => t.epsilon)),
    delta: 0,
    reports: null,
    k_threshold: kThreshold,
    estimates: estimates.map((e) => ({ label: e.id, count: e.estimate, ci95: e.ci95, suppressed: e.suppressed })),
  };
}

