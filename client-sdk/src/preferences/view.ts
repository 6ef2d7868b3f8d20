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
    description:
      'Once a week, help count viewers: your viewing group (segment), your viewing stage (new, active, at risk or lapsed) and which of the app’s campaigns you were shown last week. ' +
      'Where two separate servers run the count, your answers leave as a histogram split into two secret parts, one for each server, with a proof that it holds one valid answer; each server adds random noise before any count is released. ' +
      'Where there is only one server, each answer is randomized on this device first (randomized response), and the same true answer always gets the same random answer, so repeating it week after week reveals nothing new. ' +
      'Either way the counts are noisy on purpose, but this limits what can be learnt about you; it does not make it impossible.',
  },
  {
    purpose: 'model_improvement',
    title: 'Model improvement',
    description:
      'When a training round is open, send a training contribution: a clipped summary of your viewing (the figures your group is worked out from) that improves the groups. ' +
      'It is split into two secret parts for two separate servers, each adding noise to the total, or, where there is only one server, random noise is added on this device first.',
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

/** ε with up to two decimals, e.g. "2" or "0.4". */
const eps = (value: number): string => formatEpsilon(value);

/**
 * The most a server's odds about you can change from what it receives at ε: e^ε, said
 * with an example (a 1 in 10 guess before), so a viewer can weigh the figure.
 */
function oddsSentence(epsilon: number, what: string): string {
  const factor = Math.exp(epsilon);
  const before = 0.1;
  const after = (before * factor) / (before * factor + 1 - before);
  const times = factor < 100 ? String(Math.round(factor * 10) / 10) : Math.round(factor).toLocaleString('en-GB');
  return `${what} can make a server that sees all of it at most ${times} times more sure of anything about you (its odds change by at most e^ε): if it guessed 1 in 10 before that you are in a given group, it can guess at most ${Math.round(after * 100)} in 100 after.`;
}

/**
 * What the device's budget means, in plain words, for each sending purpose and for the
 * year: its ε per 30 days and per year, what is sent, and how much more sure of you a
 * server that sees every report could become (e^ε odds). Figures are the budget this
 * device enforces (`privacyLedger.cap`), so they hold whatever the server does.
 *
 * @example
 * budgetMeaning(data)[0] // 'Measurement: at most ε 2 in any 30 days (…). Everything it sends in 30 days can make a server…'
 */
export function budgetMeaning(data: Pick<PreferencesData, 'privacyLedger'>): string[] {
  const { measurement: m, model_improvement: mi, total_365d: year } = data.privacyLedger.cap;
  return [
    `Measurement: at most ε ${eps(m)} in any 30 days, and within the yearly total below. It covers every weekly report: segment, viewing stage and campaigns shown (secret-shared counts with a validity proof, or, with a single server, randomized responses). ${oddsSentence(m, 'Everything it sends in 30 days')}`,
    `Model improvement: at most ε ${eps(mi)} in any 30 days, and within the yearly total below. It covers training contributions. ${oddsSentence(mi, 'Everything it sends in 30 days')}`,
    `Per year, everything together: at most ε ${eps(year)} in any 365 days (combined under zero-concentrated differential privacy, failing with probability at most 1 in a billion). That is a much weaker promise than the 30-day one: ${oddsSentence(year, 'a whole year of reports')} The noise added to each count and the split between two servers protect more than that bound alone says, but it is what is guaranteed.`,
  ];
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
 * What erasing deletes, in plain words, from what the device holds now. The privacy
 * ledger is not deleted (only what each entry released is): it is the floor that keeps
 * erasing from resetting the budget, and the text says so.
 *
 * @example
 * eraseSummary({ events: [e1, e2], segmentHistory: [], consentLog: [c], privacyLedger: { entries: [] }, outbox: [] })
 * // 'This deletes 2 viewing events, 1 consent change and everything else edgeseg keeps on this device, except when and how much privacy budget was used, which is kept so that erasing cannot reset it. It cannot be undone.'
 */
export function eraseSummary(data: { events: readonly unknown[]; segmentHistory: readonly unknown[]; consentLog: readonly unknown[]; privacyLedger: { entries: readonly unknown[] }; outbox: readonly unknown[] }): string {
  const parts: readonly [number, string, string][] = [
    [data.events.length, 'viewing event', 'viewing events'],
    [data.segmentHistory.length, 'segment change', 'segment changes'],
    [data.consentLog.length, 'consent change', 'consent changes'],
    [data.outbox.length, 'unsent payload', 'unsent payloads'],
  ];
  const listed = parts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  const what = listed.length ? `${listed.join(', ')} and everything else` : 'everything';
  return `This deletes ${what} edgeseg keeps on this device, except when and how much privacy budget was used, which is kept so that erasing cannot reset it. It cannot be undone.`;
}
