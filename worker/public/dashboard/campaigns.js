// @ts-check
/**
 * Campaigns: rules "segment → in-app message / content row". Each change publishes the
 * next signed model; devices apply the rules themselves, so the server never learns
 * who matched. Impressions are estimates from randomized weekly reports.
 */
import { api, apiJson, ApiError } from './api.js';
import { empty, fmt, h, table, when } from './dom.js';

/** @typedef {{ id: string, segment: number, kind: 'message' | 'content_row', title: string, body?: string, items?: string[], starts_at?: number, ends_at?: number }} Campaign */
/** @typedef {{ id: string, estimate: number | null, ci95: [number, number] | null, suppressed: boolean }} Impression */

/**
 * The list of campaigns with their impressions and a delete button each.
 *
 * @example
 * renderCampaignList(panel, list, impressions, labels, onDelete)
 * @param {HTMLElement} panel
 * @param {{ model_version: number, campaigns: Campaign[] }} list
 * @param {{ period: string, campaigns: Impression[] } | null} impressions null when no period is released yet
 * @param {string[]} labels segment labels of the current model
 * @param {(id: string) => void} onDelete
 */
export function renderCampaignList(panel, list, impressions, labels, onDelete) {
  if (list.campaigns.length === 0) return panel.replaceChildren(empty(`No campaigns in model v${list.model_version}. Create one below; it ships in the next signed model.`));
  const byId = new Map((impressions?.campaigns ?? []).map((i) => [i.id, i]));
  const rows = list.campaigns.map((c) => {
    const imp = byId.get(c.id);
    const reached = !imp ? '–' : imp.suppressed || imp.estimate === null ? 'suppressed' : `${fmt(imp.estimate)}${imp.ci95 ? ` (${fmt(imp.ci95[0])}–${fmt(imp.ci95[1])})` : ''}`;
    const del = h('button', { type: 'button', 'data-delete': c.id, 'aria-label': `Delete campaign ${c.id}` }, 'Delete');
    del.addEventListener('click', () => onDelete(c.id));
    const what = c.kind === 'message' ? `Message: “${c.title}”${c.body ? ` — ${c.body}` : ''}` : `Content row: “${c.title}” (${(c.items ?? []).join(', ')})`;
    const window = c.starts_at || c.ends_at ? `${when(c.starts_at)} → ${when(c.ends_at)}` : 'always';
    return [c.id, labels[c.segment] ?? `Segment ${c.segment + 1}`, what, window, reached, del];
  });
  const caption = `In model v${list.model_version}, applied on each device. Reached: devices estimated from randomized reports${impressions ? ` in ${impressions.period}` : ' (no period released yet)'}.`;
  const t = table(caption, ['Campaign', 'Segment', 'Shows', 'When', 'Reached (95% interval)', 'Action'], rows, { numeric: [4] });
  t.id = 'campaign-list';
  panel.replaceChildren(t);
}

/**
 * The campaign body the form describes (validated again by the server).
 *
 * @example
 * campaignFromForm(new FormData(form)) // { id: 'spring-drama', segment: 0, kind: 'message', title: '…' }
 * @param {FormData} data
 * @returns {Campaign}
 */
export function campaignFromForm(data) {
  const text = (/** @type {string} */ name) => String(data.get(name) ?? '').trim();
  const epoch = (/** @type {string} */ name) => (text(name) ? Math.floor(new Date(text(name)).getTime() / 1000) : undefined);
  const kind = text('kind') === 'content_row' ? 'content_row' : 'message';
  /** @type {Campaign} */
  const c = { id: text('id'), segment: Number(text('segment')), kind, title: text('title') };
  if (kind === 'message' && text('body')) c.body = text('body');
  if (kind === 'content_row') c.items = text('items').split(/[\s,]+/).filter(Boolean);
  const starts = epoch('starts_at');
  const ends = epoch('ends_at');
  if (starts !== undefined) c.starts_at = starts;
  if (ends !== undefined) c.ends_at = ends;
  return c;
}

/**
 * Wires the campaign panel: loads the list, the create form and delete.
 *
 * @example
 * const reload = wireCampaigns({ panel, form, status, token: () => token, labels: () => manifest.labels, period: () => release?.period, onChange })
 * @param {{ panel: HTMLElement, form: HTMLFormElement, status: HTMLElement, token: () => string | null, labels: () => string[], period: () => string | null, onChange: () => void }} opts
 * @returns {() => Promise<void>} reloads the list
 */
export function wireCampaigns(opts) {
  const { panel, form, status } = opts;
  const kindSelect = /** @type {HTMLSelectElement} */ (form.elements.namedItem('kind'));
  const syncKind = () => {
    const row = kindSelect.value === 'content_row';
    form.querySelectorAll('[data-kind]').forEach((el) => ((/** @type {HTMLElement} */ (el)).hidden = (el.getAttribute('data-kind') === 'content_row') !== row));
  };
  kindSelect.addEventListener('change', syncKind);
  syncKind();

  let loads = 0;
  async function reload() {
    const turn = ++loads; // after two quick edits, an older answer must not overwrite a newer one
    const token = opts.token();
    const segment = /** @type {HTMLSelectElement} */ (form.elements.namedItem('segment'));
    segment.replaceChildren(...opts.labels().map((l, i) => h('option', { value: String(i) }, l)));
    try {
      const list = await apiJson('/v1/campaigns', { token });
      const period = opts.period();
      const impressions = period ? await apiJson(`/v1/campaigns/impressions?period=${encodeURIComponent(period)}`, { token }).catch(() => null) : null;
      if (turn !== loads) return;
      form.hidden = false;
      renderCampaignList(panel, list, impressions, opts.labels(), remove);
    } catch (e) {
      if (turn !== loads) return;
      form.hidden = true;
      const missing = e instanceof ApiError && e.status === 404;
      panel.replaceChildren(empty(missing ? 'The campaign API is not on this server yet (GET /v1/campaigns answered 404).' : `Campaigns could not be loaded: ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  /** @param {string} id */
  async function remove(id) {
    if (!confirm(`Delete campaign ${id}? Devices stop showing it after their next model fetch.`)) return;
    try {
      const res = await apiJson(`/v1/campaigns/${encodeURIComponent(id)}`, { token: opts.token(), method: 'DELETE' });
      status.textContent = `Deleted ${id}; model v${res.model_version} is published without it.`;
      opts.onChange();
    } catch (e) {
      status.textContent = `Could not delete ${id}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const campaign = campaignFromForm(new FormData(form));
    try {
      const res = await api('/v1/campaigns', { token: opts.token(), method: 'POST', body: campaign });
      const body = await res.json();
      status.textContent = `Created ${campaign.id}; model v${body.model_version} carries it to devices at their next model fetch.`;
      form.reset();
      syncKind();
      opts.onChange();
    } catch (err) {
      status.textContent = `Not created: ${err instanceof Error ? err.message : String(err)}`;
    }
  });
  return reload;
}
