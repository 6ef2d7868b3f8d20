// @ts-check
/**
 * The marketer dashboard: sign in with a marketer token (kept in sessionStorage only),
 * then segments, trends, lifecycle, campaigns and training health for the current
 * signed model; rounds and the two privacy ledgers (the leader's, and the helper's signed
 * one fetched from the helper's origin) are public and load without a token.
 */
import { api, apiJson, ApiError } from './api.js';
import { wireCampaigns } from './campaigns.js';
import { h } from './dom.js';
import { renderHistory } from './history.js';
import { jwsJson, manifestOf, verifyJws } from './model.js';
import { loadHelperLedger } from './helper-ledger.js';
import { readReleases } from './ledger-compare.js';
import { readTallyReleases, renderLedgers } from './ledgers.js';
import { renderRounds } from './rounds.js';
import { renderLifecycle, renderLifecycleTrend } from './lifecycle.js';
import { renderSegments } from './segments.js';
import { renderTraining } from './training.js';

const TOKEN_KEY = 'edgeseg-token';
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {string | null} */
let token = sessionStorage.getItem(TOKEN_KEY);
/** @type {any} */
let manifest = null;
/** @type {string | null} */
let period = null;

const signinForm = /** @type {HTMLFormElement} */ ($('signin'));
const tokenInput = /** @type {HTMLInputElement} */ ($('token'));
const periodSelect = /** @type {HTMLSelectElement} */ ($('period'));
const status = $('status');

/** The role and expiry a token claims (shown only; the server checks the signature). */
function claimsOf(/** @type {string} */ t) {
  try {
    return jwsJson(t, 1);
  } catch {
    return {};
  }
}

/** @param {unknown} e */
const message = (e) => (e instanceof Error ? e.message : String(e));

async function loadModel() {
  const [jws, jwks] = await Promise.all([api('/v1/model', { accept: 'application/jose' }).then((r) => r.text()), apiJson('/.well-known/jwks.json')]);
  manifest = manifestOf(jws);
  const verified = await verifyJws(jws, jwks);
  $('model').textContent = `Model v${manifest.version} · k = ${manifest.k} segments · issued ${new Date(manifest.issued_at * 1000).toLocaleString('en-GB')} · ${verified ? 'signature verified' : 'SIGNATURE NOT VERIFIED'}`;
}

async function loadPeriod() {
  const query = period ? `?period=${encodeURIComponent(period)}` : '';
  try {
    const release = await apiJson(`/v1/segments${query}`, { token });
    period = release.period;
    renderSegments($('segments-panel'), release, manifest);
    renderLifecycle($('lifecycle-panel'), release, manifest);
  } catch (e) {
    $('segments-panel').replaceChildren(h('p', { class: 'empty' }, `Counts could not be loaded: ${message(e)}`));
    $('lifecycle-panel').replaceChildren(h('p', { class: 'empty' }, `Lifecycle shares could not be loaded: ${message(e)}`));
  }
}

async function loadPublic() {
  const [rounds, ledger, helper] = await Promise.allSettled([apiJson('/v1/rounds'), apiJson('/v1/privacy-ledger'), loadHelperLedger()]);
  if (rounds.status === 'fulfilled') renderRounds($('rounds-panel'), rounds.value.rounds);
  else $('rounds-panel').textContent = `Rounds could not be loaded: ${message(rounds.reason)}`;
  try {
    if (ledger.status === 'rejected') throw ledger.reason;
    const helperLedger = helper.status === 'fulfilled' ? helper.value : { state: /** @type {const} */ ('unreachable'), origin: null, reason: message(helper.reason) };
    renderLedgers($('ledger-panel'), { releases: readReleases(ledger.value, 'the leader’s ledger'), note: String(ledger.value.note ?? ''), tallies: readTallyReleases(ledger.value) }, helperLedger);
  } catch (e) {
    $('ledger-panel').textContent = `The leader's ledger could not be loaded: ${message(e)}`;
  }
}

async function loadTraining() {
  try {
    renderTraining($('training-panel'), $('training-chart'), await apiJson('/v1/training', { token }));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) renderTraining($('training-panel'), $('training-chart'), null);
    else $('training-panel').textContent = `Training health could not be loaded: ${message(e)}`;
  }
}

const reloadCampaigns = wireCampaigns({
  panel: $('campaigns-panel'),
  form: /** @type {HTMLFormElement} */ ($('campaign-form')),
  status: $('campaign-status'),
  token: () => token,
  labels: () => manifest?.labels ?? [],
  period: () => period,
  onChange: () => void loadAll(),
});

/** Loads everything behind the token; throws ApiError when the token is refused. */
async function loadAll() {
  await loadModel();
  const history = await apiJson('/v1/segments/history', { token }); // the first marketer call: a bad token stops here
  const periods = [...history.periods].reverse().map((/** @type {{ period: string }} */ p) => p.period);
  period ??= periods[0] ?? null;
  periodSelect.replaceChildren(...periods.map((p) => h('option', { value: p, selected: p === period }, p)));
  renderHistory($('history-chart'), $('history-table'), history);
  renderLifecycleTrend($('lifecycle-chart'), $('lifecycle-table'), history);
  await Promise.all([loadPeriod(), reloadCampaigns(), loadTraining(), loadPublic()]);
}

function showSignedIn(/** @type {boolean} */ signedIn) {
  signinForm.hidden = signedIn;
  $('session').hidden = !signedIn;
  $('data').hidden = !signedIn;
  if (signedIn && token) {
    const c = claimsOf(token);
    $('who').textContent = `Signed in as ${c.role ?? 'unknown role'}${c.exp ? `, token valid until ${new Date(c.exp * 1000).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}` : ''}`;
  }
}

async function signIn(/** @type {string} */ candidate) {
  token = candidate;
  status.textContent = 'Loading…';
  try {
    showSignedIn(true);
    await loadAll();
    sessionStorage.setItem(TOKEN_KEY, candidate);
    status.textContent = '';
    document.body.dataset.loaded = 'true';
  } catch (e) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showSignedIn(false);
    status.textContent = e instanceof ApiError && (e.status === 401 || e.status === 403) ? `Sign-in refused: ${e.message}` : `The dashboard could not load: ${message(e)}`;
  }
}

signinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const candidate = tokenInput.value.trim();
  if (!candidate) status.textContent = 'Paste a marketer token (npm run dev-token prints one).';
  else void signIn(candidate);
});

$('signout').addEventListener('click', () => {
  token = null;
  manifest = null;
  period = null;
  sessionStorage.removeItem(TOKEN_KEY);
  tokenInput.value = '';
  for (const id of ['segments-panel', 'history-chart', 'history-table', 'lifecycle-panel', 'lifecycle-chart', 'lifecycle-table', 'campaigns-panel', 'training-panel', 'model']) $(id).replaceChildren();
  showSignedIn(false);
  status.textContent = 'Signed out: the token is gone from this tab.';
  delete document.body.dataset.loaded;
  tokenInput.focus();
});

periodSelect.addEventListener('change', async () => {
  period = periodSelect.value;
  await Promise.all([loadPeriod(), reloadCampaigns()]);
});

/** Downloads the API's CSV for `path` with the token, as `filename`. */
async function downloadCsv(/** @type {string} */ path, /** @type {string} */ filename) {
  try {
    const csv = await (await api(path, { token, accept: 'text/csv' })).blob();
    const a = h('a', { href: URL.createObjectURL(csv), download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(/** @type {HTMLAnchorElement} */ (a).href), 10_000);
  } catch (e) {
    status.textContent = `Export failed: ${message(e)}`;
  }
}
$('csv-period').addEventListener('click', () => downloadCsv(`/v1/segments${period ? `?period=${encodeURIComponent(period)}` : ''}`, `edgeseg-segments-${period ?? 'latest'}.csv`));
$('csv-history').addEventListener('click', () => downloadCsv('/v1/segments/history', 'edgeseg-segments-history.csv'));

showSignedIn(false);
void loadPublic();
if (token) void signIn(token);
