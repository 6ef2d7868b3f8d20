/**
 * What the preference centre shows, worked out from `exportData()` as plain data: one
 * view per purpose (switch state, GPC override, what last left the device) and one per
 * ledger line. No DOM here, so every wording rule is unit-tested in Node.
 */
import type { ConsentState, Purpose, Segmenter } from '../index.ts';

/** What `exportData()` resolves with when it succeeds. */
export type SegmenterExport = NonNullable<Awaited<ReturnType<Segmenter['exportData']>>>;

/** The purposes that send something (and so spend privacy budget). */
export type SendingPurpose = Exclude<Purpose, 'personalization'>;

/** The exact last payload of a purpose, as the SDK sent it. */
export interface LastPayload {
  at: number;
  url: string;
  body: unknown;
}

/** The export, with `lastSent` optional until every SDK build has it. */
export type PreferencesData = SegmenterExport & { lastSent?: Partial<Record<SendingPurpose, LastPayload>> };

/** Fixed wording per purpose, in the order shown. */
export const PURPOSE_TEXT: readonly { purpose: Purpose; title: string; description: string }[] = [
  {
    purpose: 'personalization',
    title: 'Personalization',
    description: 'Use what you watch, on this device only, to choose rows and suggestions for you. Nothing about it is sent anywhere.',
  },
  {
    purpose: 'measurement',
    title: 'Measurement',
    description: 'Once a week, help count how many viewers are in each viewing group: either a deliberately noisy report, or your group split into two secret parts for two separate servers. Either way, nobody can tell from it which group you are in.',
  },
  {
    purpose: 'model_improvement',
    title: 'Model improvement',
    description: 'When a training round is open, send a summary of your viewing to improve the groups: split between two separate servers so neither can read it alone, or, where there is only one, with random noise added on this device first.',
  },
];

/** What one purpose's section shows. */
export interface PurposeView {
  purpose: Purpose;
  title: string;
  description: string;
  /** The switch position: the consent in force. */
  on: boolean;
  /** True when Global Privacy Control forces this purpose off: the switch cannot turn it on. */
  lockedByGpc: boolean;
  /** Why the switch does not do what it says (GPC, or personalization needed), or null. */
  note: string | null;
  /** One line on what left the device for this purpose. */
  sentSummary: string;
  /** The exact last payload, pretty-printed, or null when nothing left. */
  payload: string | null;
}

/** One line of the privacy ledger. */
export interface LedgerView {
  purpose: SendingPurpose;
  title: string;
  spent: number;
  cap: number;
  text: string;
}

const SENDING: readonly SendingPurpose[] = ['measurement', 'model_improvement'];

function titleOf(purpose: Purpose): string {
  return PURPOSE_TEXT.find((p) => p.purpose === purpose)?.title ?? purpose;
}

function overrideNote(purpose: Purpose, choice: ConsentState, effective: ConsentState, gpc: boolean): string | null {
  if (purpose === 'personalization') return null;
  if (choice[purpose] && !effective[purpose]) return 'You turned this on, but your browser sends Global Privacy Control, which keeps it off. Nothing is sent for it.';
  if (gpc) return 'Your browser sends Global Privacy Control, which keeps this off.';
  if (effective[purpose] && !effective.personalization) return 'Nothing is sent for this while Personalization is off: without it this device has no viewing group to share.';
  return null;
}

/**
 * The view of each purpose, in display order.
 *
 * @example
 * purposeViews(await seg.exportData(), (ms) => new Date(ms).toLocaleString())[1].sentSummary
 * // 'Nothing has left this device for measurement.'
 */
export function purposeViews(data: PreferencesData, formatTime: (ms: number) => string): PurposeView[] {
  const { choice, effective, globalPrivacyControl: gpc } = data.consent;
  return PURPOSE_TEXT.map(({ purpose, title, description }) => {
    const last = purpose === 'personalization' ? undefined : data.lastSent?.[purpose];
    const sentSummary =
      purpose === 'personalization'
        ? 'Nothing, ever: personalization works only on this device.'
        : last
          ? `Last sent on ${formatTime(last.at)} to ${last.url}, exactly this:`
          : `Nothing has left this device for ${title.toLowerCase()}.`;
    return {
      purpose,
      title,
      description,
      on: effective[purpose],
      lockedByGpc: gpc && purpose !== 'personalization',
      note: overrideNote(purpose, choice, effective, gpc),
      sentSummary,
      payload: last ? JSON.stringify(last.body, null, 2) : null,
    };
  });
}

/** ε with at most two decimals, without trailing zeros. */
function formatEpsilon(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/**
 * The privacy ledger: ε used in the last 30 days against the cap, per sending purpose.
 *
 * @example
 * ledgerViews(data)[0].text // 'ε 1.5 of 10 used in the last 30 days'
 */
export function ledgerViews(data: Pick<PreferencesData, 'privacyLedger'>): LedgerView[] {
  const { spentLast30Days, cap } = data.privacyLedger;
  return SENDING.map((purpose) => {
    const spent = spentLast30Days[purpose];
    const limit = cap[purpose];
    const full = spent >= limit ? ': the cap is reached, so nothing more is sent until older uses pass 30 days' : '';
    return { purpose, title: titleOf(purpose), spent, cap: limit, text: `ε ${formatEpsilon(spent)} of ${formatEpsilon(limit)} used in the last 30 days${full}` };
  });
}

/**
 * The file name of a data download, dated by the export.
 *
 * @example
 * downloadName('2026-05-04T10:00:00.000Z') // 'my-viewing-data-2026-05-04.json'
 */
export function downloadName(exportedAt: string): string {
  return `my-viewing-data-${exportedAt.slice(0, 10)}.json`;
}

/**
 * What erasing deletes, in plain words, from what the device holds now.
 *
 * @example
 * eraseSummary({ events: [e1, e2], segmentHistory: [], consentLog: [c], privacyLedger: { entries: [] }, outbox: [] })
 * // 'This deletes 2 viewing events, 1 consent change and everything else edgeseg keeps on this device. It cannot be undone.'
 */
export function eraseSummary(data: { events: readonly unknown[]; segmentHistory: readonly unknown[]; consentLog: readonly unknown[]; privacyLedger: { entries: readonly unknown[] }; outbox: readonly unknown[] }): string {
  const parts: readonly [number, string, string][] = [
    [data.events.length, 'viewing event', 'viewing events'],
    [data.segmentHistory.length, 'segment change', 'segment changes'],
    [data.consentLog.length, 'consent change', 'consent changes'],
    [data.privacyLedger.entries.length, 'privacy ledger entry', 'privacy ledger entries'],
    [data.outbox.length, 'unsent payload', 'unsent payloads'],
  ];
  const listed = parts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  const what = listed.length ? `${listed.join(', ')} and everything else` : 'everything';
  return `This deletes ${what} edgeseg keeps on this device. It cannot be undone.`;
}
