/**
 * Campaigns on the device: which of the active model's campaigns target the current
 * segment now, announced to subscribers when that changes (a new model or segment, a
 * window opening or closing, with a timer for the next boundary), and which ones the app
 * showed this week (kept for this week and last, for next week's impression report).
 */
import { campaignsFor, DAY_MS, isoWeekPeriod, type Campaign, type ModelManifest } from '@edgeseg/shared';
import type { SegmentInfo } from './api.ts';
import type { Store } from './store.ts';

export interface CampaignWatch {
  /** The campaigns of `model` for `segment` within their window at `nowMs`. */
  active(): Campaign[];
  /** Announces a change of {@link CampaignWatch.active} and sets the timer for the next window boundary. */
  check(): void;
  stop(): void;
}

/**
 * Creates the watch over the model and segment `state()` returns.
 *
 * @example
 * const watch = createCampaignWatch(() => ({ model, segment: current }), Date.now, (list) => render(list));
 */
export function createCampaignWatch(state: () => { model: ModelManifest | null; segment: SegmentInfo | null }, now: () => number, announce: (campaigns: Campaign[]) => void): CampaignWatch {
  let ids = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const activeAt = (nowMs: number): Campaign[] => {
    const { model, segment } = state();
    return model && model.campaigns && segment ? campaignsFor(model.campaigns, segment.id, nowMs / 1000) : [];
  };
  return {
    active: () => activeAt(now()),
    check() {
      const nowMs = now();
      const list = activeAt(nowMs);
      const next = list.map((c) => c.id).join();
      if (next !== ids) {
        ids = next;
        announce(list);
      }
      clearTimeout(timer);
      if (stopped) return;
      const { model, segment } = state();
      let at = nowMs + DAY_MS;
      for (const c of (model && segment && model.campaigns) || []) {
        for (const t of [c.starts_at, c.ends_at]) if (segment && c.segment === segment.id && t !== undefined && t * 1000 > nowMs) at = Math.min(at, t * 1000);
      }
      timer = setTimeout(() => this.check(), at - nowMs + 1);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Records in `db` that the app showed campaign `id` in the ISO week of `nowMs` (this week
 * and last week are kept).
 *
 * @example
 * await recordShown(db, 'spring-drama', Date.now());
 */
export async function recordShown(db: Store, id: string, nowMs: number): Promise<void> {
  const period = isoWeekPeriod(nowMs);
  const lastWeek = isoWeekPeriod(nowMs - 7 * DAY_MS);
  const tx = db.transaction('kv', 'readwrite');
  const stored = ((await tx.store.get('shown')) || {}) as Record<string, string[]>;
  const shown: Record<string, string[]> = { [lastWeek]: stored[lastWeek] || [], [period]: stored[period] || [] };
  const week = shown[period] as string[];
  if (week.indexOf(id) < 0) week.push(id);
  await Promise.all([tx.store.put(shown, 'shown'), tx.done]);
}
