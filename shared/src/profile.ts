/**
 * Plain-words profiles of a segment from its centroid: a short generated label and the
 * traits that set it apart. Used by the marketer dashboard (every centroid of the model)
 * and by the device ("why am I seeing this", from its own centroid, computed locally).
 *
 * A centroid is in standardised units (z = (raw − mean) / scale), so |z| says how far a
 * segment stands from the typical viewer and ranks its traits; the scaling turns z back
 * into raw units so that a trait can quote a figure ("finishes 80% of titles").
 */
import { FEATURE_NAMES_V1, GENRE_FAMILIES, type GenreFamily } from './features/schema.ts';

/** A generated profile: a short label and up to four traits, strongest first. */
export interface SegmentProfile {
  label: string;
  traits: string[];
}

/** Standard deviations from the typical viewer before a feature counts as distinguishing. */
const NOTABLE_Z = 0.5;
/** Standard deviations before recency or tenure names the whole segment ("lapsing viewers"). */
const DEFINING_Z = 1;
const MAX_TRAITS = 4;

/** Share at or above which a device is "mostly" used. */
const MOSTLY = 0.5;

const DAYPARTS = [
  ['morning_share', 'mornings', 'Morning'],
  ['daytime_share', 'daytime', 'Daytime'],
  ['evening_share', 'evenings', 'Evening'],
  ['late_night_share', 'late nights', 'Late-night'],
] as const;

const DEVICES = [
  ['device_tv_share', 'TV'],
  ['device_mobile_share', 'mobile'],
  ['device_desktop_share', 'desktop'],
  ['device_tablet_share', 'tablet'],
] as const;

/** Short genre words for labels; the schema's descriptions are longer lists. */
const GENRE_WORDS: Readonly<Record<GenreFamily, string>> = {
  drama: 'drama',
  comedy: 'comedy',
  action: 'action',
  thriller: 'crime',
  horror: 'horror',
  scifi_fantasy: 'sci-fi',
  romance: 'romance',
  documentary: 'documentaries',
  family: 'family',
};

/** One feature of the centroid: its standardised and its raw value. */
interface Reading {
  z: number;
  raw: number;
}

/** A candidate trait and how strongly (in |z|) it sets the segment apart. */
interface Trait {
  text: string;
  strength: number;
}

/**
 * Reads features by name, so a caller with another feature order still gets the right
 * columns; missing or non-finite features read as typical (z = 0).
 */
function reader(centroid: ArrayLike<number>, scaling: { mean: number[]; scale: number[] }, names: readonly string[]): (name: string) => Reading {
  const index = new Map(names.map((name, i) => [name, i]));
  return (name) => {
    const i = index.get(name);
    const z = i === undefined ? 0 : Number(centroid[i]);
    if (i === undefined || !Number.isFinite(z)) return { z: 0, raw: 0 };
    const value = z * (scaling.scale[i] ?? 1) + (scaling.mean[i] ?? 0);
    // log1p features are stored as log1p(x); shares and ratios live in [0, 1].
    const raw = name.endsWith('_share') || name.endsWith('_rate') || name.endsWith('_fraction') || name === 'binge_ratio' ? clamp01(value) : Math.max(0, Math.expm1(value));
    return { z, raw };
  };
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** The reading with the highest z among `names`, earliest on ties. */
function strongest<T extends readonly [string, ...string[]]>(read: (name: string) => Reading, rows: readonly T[]): { row: T; reading: Reading } {
  let best = { row: rows[0] as T, reading: read((rows[0] as T)[0]) };
  for (const row of rows.slice(1)) {
    const reading = read(row[0]);
    if (reading.z > best.reading.z) best = { row, reading };
  }
  return best;
}

function when(read: (name: string) => Reading): { trait: Trait | null; adjective: string } {
  const weekend = read('weekend_share');
  const part = strongest(read, DAYPARTS);
  const weekendNotable = weekend.z >= NOTABLE_Z;
  const partNotable = part.reading.z >= NOTABLE_Z;
  if (weekendNotable && partNotable) {
    return { trait: { text: `weekend ${part.row[1]}`, strength: Math.max(weekend.z, part.reading.z) }, adjective: `Weekend ${part.row[2].toLowerCase()}` };
  }
  if (weekendNotable) return { trait: { text: `weekends (${percent(weekend.raw)} of viewing)`, strength: weekend.z }, adjective: 'Weekend' };
  if (partNotable) return { trait: { text: `${part.row[1]} (${percent(part.reading.raw)} of viewing)`, strength: part.reading.z }, adjective: part.row[2] };
  return { trait: null, adjective: '' };
}

function device(read: (name: string) => Reading): { trait: Trait | null; word: string | null } {
  const top = strongest(read, DEVICES);
  if (top.reading.z < NOTABLE_Z) return { trait: null, word: null };
  const mostly = top.reading.raw >= MOSTLY;
  const text = mostly ? `mostly ${top.row[1]}` : `${top.row[1]} ${percent(top.reading.raw)} of the time`;
  return { trait: { text, strength: top.reading.z }, word: mostly ? top.row[1] : null };
}

function genres(read: (name: string) => Reading): { trait: Trait | null; words: string } {
  const notable = GENRE_FAMILIES.map((family) => ({ family, z: read(`genre_${family}_share`).z }))
    .filter((g) => g.z >= NOTABLE_Z)
    // Stable sort: equal z keeps schema order, so the result is deterministic.
    .sort((a, b) => b.z - a.z)
    .slice(0, 2);
  if (notable.length === 0) return { trait: null, words: '' };
  const words = notable.map((g) => GENRE_WORDS[g.family]).join(' and ');
  return { trait: { text: words, strength: (notable[0] as { z: number }).z }, words };
}

/** A trait for a feature that is notable in either direction, or null. */
function either(reading: Reading, high: (raw: number) => string, low: ((raw: number) => string) | null): Trait | null {
  if (reading.z >= NOTABLE_Z) return { text: high(reading.raw), strength: reading.z };
  if (low && reading.z <= -NOTABLE_Z) return { text: low(reading.raw), strength: -reading.z };
  return null;
}

function roundedCount(x: number): string {
  return x >= 10 ? String(Math.round(x)) : String(Math.round(x * 10) / 10);
}

function duration(days: number): string {
  if (days >= 365) return `${roundedCount(days / 365)} years`;
  if (days >= 60) return `${Math.round(days / 30)} months`;
  return `${Math.round(days)} days`;
}

function behaviour(read: (name: string) => Reading): Trait[] {
  const hours = read('hours_per_week');
  const minutes = read('minutes_per_session');
  return [
    either(read('completion_rate'), (r) => `finishes ${percent(r)} of titles`, (r) => `finishes only ${percent(r)} of titles`),
    either(read('skip_rate'), (r) => `skips ${percent(r)} of titles`, null),
    either(read('abandon_rate'), (r) => `leaves ${percent(r)} of titles unfinished`, null),
    either(read('binge_ratio'), (r) => `binges series (${percent(r)} of sessions)`, null),
    either(read('series_share'), (r) => (r >= 0.5 ? `mostly series (${percent(r)})` : `series ${percent(r)} of the time`), (r) => (r < 0.5 ? `mostly films (${percent(1 - r)})` : `fewer series (${percent(r)})`)),
    either(hours, (r) => `${roundedCount(r)} hours a week`, (r) => `about ${roundedCount(r)} hours a week`),
    either(minutes, (r) => `long sessions (about ${Math.round(r)} min)`, (r) => `short sessions (about ${Math.round(r)} min)`),
    either(read('active_days_share'), (r) => `watches on ${percent(r)} of days`, (r) => `watches on only ${percent(r)} of days`),
    either(read('days_since_last'), (r) => `last watched ${duration(r)} ago`, null),
    either(read('tenure_days'), (r) => `viewer for ${duration(r)}`, (r) => `new (first watched ${duration(r)} ago)`),
  ].filter((t): t is Trait => t !== null);
}

/** The noun for the segment's viewers, from the most defining behaviour. */
function who(read: (name: string) => Reading): string {
  const candidates: Array<[noun: string, strength: number]> = [
    ['binge-watchers', read('binge_ratio').z],
    ['heavy viewers', read('hours_per_week').z],
    ['light viewers', -read('hours_per_week').z],
    ['samplers', Math.max(read('skip_rate').z, read('abandon_rate').z)],
    ['completionists', read('completion_rate').z],
    ['lapsing viewers', read('days_since_last').z >= DEFINING_Z ? read('days_since_last').z : 0],
    ['newcomers', read('tenure_days').z <= -DEFINING_Z ? -read('tenure_days').z : 0],
  ];
  let best: [string, number] = ['viewers', NOTABLE_Z];
  // Strictly greater: the earliest noun wins ties, so the label is deterministic.
  for (const c of candidates) if (c[1] >= NOTABLE_Z && c[1] > best[1]) best = c;
  return best[0];
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A short label and the strongest distinguishing traits of a centroid, in plain words.
 * `centroid` is in standardised units; `scaling` (the manifest's) turns it back into raw
 * units for the figures; `names` gives the feature order of both. Deterministic.
 *
 * @example
 * describeCentroid(manifest.centroids[0], manifest.scaling)
 * // { label: 'Evening binge-watchers of drama on TV',
 * //   traits: ['binges series (45% of sessions)', 'drama', 'evenings (80% of viewing)', 'mostly TV'] }
 */
export function describeCentroid(centroid: ArrayLike<number>, scaling: { mean: number[]; scale: number[] }, names: readonly string[] = FEATURE_NAMES_V1): SegmentProfile {
  const read = reader(centroid, scaling, names);
  const time = when(read);
  const screen = device(read);
  const taste = genres(read);
  const candidates = [time.trait, screen.trait, taste.trait, ...behaviour(read)].filter((t): t is Trait => t !== null);
  // Stable sort: equal strengths keep the order above.
  const traits = candidates
    .sort((a, b) => b.strength - a.strength)
    .slice(0, MAX_TRAITS)
    .map((t) => t.text);
  const noun = who(read);
  const words = [time.adjective, noun].filter((w) => w !== '').join(' ');
  const label = `${capitalise(noun === 'viewers' && !time.adjective ? 'typical viewers' : words)}${taste.words ? ` of ${taste.words}` : ''}${screen.word ? ` on ${screen.word}` : ''}`;
  return { label, traits };
}
