// Builds the /demo catalogue (worker/public/demo/catalogue.json, committed) from the
// MovieLens ml-latest-small copy in sim/data (the simulator's): the most-rated titles of
// each genre family the features track, picked round-robin so every family has a row.
// Run by hand when the selection should change; the product never reads the dataset
// at run time. Usage: node scripts/build-catalogue.mjs [path/to/ml-latest-small]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENRE_FAMILIES, genreFamily } from '../shared/src/features/schema.ts';
import { ROOT } from './dev-keys.mjs';

const DATASET = process.argv[2] ?? join(ROOT, 'sim/data/movielens-latest-small');
const PER_FAMILY = 10;
/** MovieLens has no runtimes: every title plays for this nominal length, and the file says so. */
const NOMINAL_MINUTES = 100;
const OUT = join(ROOT, 'worker/public/demo/catalogue.json');

/** One CSV line into fields (MovieLens quotes fields that hold commas, doubling inner quotes). */
function csvFields(line) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') fields.push(field), (field = '');
    else field += ch;
  }
  fields.push(field);
  return fields;
}

function rows(file) {
  return readFileSync(join(DATASET, file), 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '').map(csvFields);
}

/** "Matrix, The (1999)" → { title: 'The Matrix', year: 1999 }. */
function splitTitle(raw) {
  const m = /^(.*?)\s*\((\d{4})\)\s*$/.exec(raw.trim());
  let title = m ? m[1] : raw.trim();
  const article = /^(.*), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$/.exec(title);
  if (article) title = `${article[2]}${article[2].endsWith("'") ? '' : ' '}${article[1]}`;
  return { title, year: m ? Number(m[2]) : null };
}

const ratings = new Map();
for (const [, movieId] of rows('ratings.csv')) ratings.set(Number(movieId), (ratings.get(Number(movieId)) ?? 0) + 1);

const movies = rows('movies.csv').map(([movieId, title, genres]) => {
  const listed = genres === '(no genres listed)' ? [] : genres.split('|');
  const families = [...new Set(listed.map(genreFamily).filter(Boolean))];
  return { movieId: Number(movieId), ...splitTitle(title), genres: listed, families, ratings: ratings.get(Number(movieId)) ?? 0 };
});
// Most rated first; the movie id breaks ties, so the selection is reproducible.
movies.sort((a, b) => b.ratings - a.ratings || a.movieId - b.movieId);

const chosen = new Set();
const byFamily = new Map(GENRE_FAMILIES.map((f) => [f, []]));
for (let round = 0; round < PER_FAMILY; round++) {
  for (const family of GENRE_FAMILIES) {
    const next = movies.find((m) => !chosen.has(m.movieId) && m.families.includes(family));
    if (!next) throw new Error(`no more ${family} titles in ${DATASET}`);
    chosen.add(next.movieId);
    byFamily.get(family).push(next);
  }
}

let seq = 0;
const titles = GENRE_FAMILIES.flatMap((family) =>
  byFamily.get(family).map((m) => ({
    id: `sb-${String(++seq).padStart(3, '0')}`,
    movieId: m.movieId,
    title: m.title,
    year: m.year,
    genres: m.genres,
    row: family,
    minutes: NOMINAL_MINUTES,
  })),
);

const catalogue = {
  source: 'MovieLens ml-latest-small (generated 2018-09-26) by GroupLens Research, University of Minnesota: https://grouplens.org/datasets/movielens/',
  credit:
    'Titles and genres from the MovieLens dataset by GroupLens Research (F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context. ACM TiiS 5, 4: 19:1–19:19. https://doi.org/10.1145/2827872). Used for non-commercial research and demonstration; no endorsement by the University of Minnesota or GroupLens is stated or implied.',
  license: 'Redistributed as a transformation of ml-latest-small under the same conditions as the dataset: research use only, no commercial use without permission, no implied endorsement, acknowledge the dataset (see the dataset README, "Usage License").',
  selection: `The ${PER_FAMILY} most-rated titles of each genre family (${GENRE_FAMILIES.join(', ')}), picked round-robin; ids sb-NNN are this demo's own.`,
  runtime: `MovieLens has no runtimes: every title plays for a nominal ${NOMINAL_MINUTES} minutes.`,
  titles,
};
writeFileSync(OUT, JSON.stringify(catalogue, null, 1) + '\n');
console.log(`wrote ${titles.length} titles to ${OUT}`);
