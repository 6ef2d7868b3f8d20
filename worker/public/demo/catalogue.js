// @ts-check
/**
 * The catalogue: one row per genre family, tiles with CSS posters (no images), and
 * arrow-key navigation between controls for TV remotes (Tab still reaches every one).
 */

/** @typedef {import('./playback.js').Title & { year: number | null, row: string, movieId: number }} CatalogueTitle */

/** Row headings for the genre families, in the schema's order. */
export const ROW_TITLES = {
  drama: 'Drama',
  comedy: 'Comedy',
  action: 'Action & adventure',
  thriller: 'Crime & thrillers',
  horror: 'Horror',
  scifi_fantasy: 'Sci-fi & fantasy',
  romance: 'Romance',
  documentary: 'Documentaries',
  family: 'Family & animation',
};

export const CONTROLS = /** @type {const} */ ([
  ['play', 'Play'],
  ['finish', 'Finish'],
  ['skip', 'Skip'],
]);

/**
 * A tile for one title with its three controls.
 *
 * @example
 * list.append(tile(title, { actions: true }))
 * @param {CatalogueTitle} t
 * @param {{ actions: boolean }} options `actions: false` leaves out data-action (for duplicates in the campaign row)
 * @returns {HTMLLIElement}
 */
export function tile(t, { actions }) {
  const li = document.createElement('li');
  li.className = `tile poster-${t.row}`;
  const poster = document.createElement('div');
  poster.className = 'poster';
  poster.setAttribute('aria-hidden', 'true');
  poster.textContent = t.genres[0] ?? '';
  const h = document.createElement('h4');
  h.textContent = t.title;
  const meta = document.createElement('p');
  meta.className = 'meta';
  meta.textContent = [t.year, t.genres.join(' · ')].filter(Boolean).join(' · ');
  const bar = document.createElement('div');
  bar.className = 'actions';
  for (const [action, label] of CONTROLS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.setAttribute('aria-label', `${label} ${t.title}`);
    b.dataset[actions ? 'action' : 'control'] = action;
    b.dataset.content = t.id;
    bar.append(b);
  }
  li.append(poster, h, meta, bar);
  return li;
}

/**
 * Renders every row into `root`.
 *
 * @example
 * renderCatalogue(document.getElementById('catalogue'), catalogue.titles)
 * @param {HTMLElement} root
 * @param {CatalogueTitle[]} titles
 */
export function renderCatalogue(root, titles) {
  root.replaceChildren();
  for (const [family, heading] of Object.entries(ROW_TITLES)) {
    const rowTitles = titles.filter((t) => t.row === family);
    if (rowTitles.length === 0) continue;
    const section = document.createElement('section');
    section.className = 'row';
    section.setAttribute('aria-labelledby', `row-${family}`);
    const h = document.createElement('h3');
    h.id = `row-${family}`;
    h.textContent = heading;
    const list = document.createElement('ul');
    list.className = 'tiles';
    for (const t of rowTitles) list.append(tile(t, { actions: true }));
    section.append(h, list);
    root.append(section);
  }
}

/**
 * Arrow keys move focus between the buttons of `root`: left/right within a row,
 * up/down to the same control of the nearest tile in the next row.
 *
 * @example
 * enableArrowKeys(document.getElementById('catalogue'))
 * @param {HTMLElement} root
 */
export function enableArrowKeys(root) {
  root.addEventListener('keydown', (e) => {
    const target = /** @type {HTMLElement} */ (e.target);
    if (!(target instanceof HTMLButtonElement) || !['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(e.key)) return;
    const rows = [...root.querySelectorAll('.tiles')];
    const rowIndex = rows.findIndex((r) => r.contains(target));
    const row = rows[rowIndex];
    if (!row) return;
    const buttons = [...row.querySelectorAll('button')];
    const i = buttons.indexOf(target);
    let next;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      next = buttons[i + (e.key === 'ArrowRight' ? 1 : -1)];
    } else {
      const other = rows[rowIndex + (e.key === 'ArrowDown' ? 1 : -1)];
      if (other) {
        const perTile = CONTROLS.length;
        const otherButtons = [...other.querySelectorAll('button')];
        const tileIndex = Math.min(Math.floor(i / perTile), otherButtons.length / perTile - 1);
        next = otherButtons[tileIndex * perTile + (i % perTile)];
      }
    }
    if (next) {
      e.preventDefault();
      next.focus();
    }
  });
}
