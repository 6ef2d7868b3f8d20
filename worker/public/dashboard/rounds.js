// @ts-check
/** The public panels: federated rounds and the privacy ledger (no token needed). */
import { empty, fmt, table, when } from './dom.js';

/** @typedef {{ round_id: string, kind: string, mode: string, state: string, model_version: number, opened_at: number, closes_at: number, closed_at: number | null, contributions: number | null, min_devices: number, epsilon: number, delta: number, mechanism: string, reason: string | null }} PublicRound */

/**
 * @example
 * renderRounds(panel, (await apiJson('/v1/rounds')).rounds)
 * @param {HTMLElement} panel
 * @param {PublicRound[]} rounds
 */
export function renderRounds(panel, rounds) {
  if (rounds.length === 0) return panel.replaceChildren(empty('No rounds yet: devices have not been asked to improve the model.'));
  const newest = [...rounds].sort((a, b) => b.opened_at - a.opened_at);
  panel.replaceChildren(
    table(
      `${rounds.length} round${rounds.length === 1 ? '' : 's'}, newest first`,
      ['Round', 'Kind', 'State', 'Model', 'Opened', 'Closes', 'Contributions', 'ε'],
      newest.map((r) => [r.round_id, `${r.kind} (${r.mode})`, r.reason ? `${r.state}: ${r.reason}` : r.state, `v${r.model_version}`, when(r.opened_at), when(r.closed_at ?? r.closes_at), r.contributions === null ? `– (min ${fmt(r.min_devices)})` : fmt(r.contributions), String(r.epsilon)]),
      { numeric: [6, 7] },
    ),
  );
}

/**
 * @example
 * renderLedger(panel, await apiJson('/v1/privacy-ledger'))
 * @param {HTMLElement} panel
 * @param {{ releases: Array<{ round_id: string, kind: string, released_at: number | null, epsilon: number, delta: number, mechanism: string, contributions: number | null }>, note: string }} ledger
 */
export function renderLedger(panel, ledger) {
  const total = ledger.releases.reduce((sum, r) => sum + r.epsilon, 0);
  const body = ledger.releases.length
    ? table(
        `${ledger.releases.length} release${ledger.releases.length === 1 ? '' : 's'}, ε = ${fmt(total, 3)} in total. ${ledger.note}`,
        ['Round', 'Kind', 'Released', 'ε', 'δ', 'Mechanism', 'Contributions'],
        ledger.releases.map((r) => [r.round_id, r.kind, when(r.released_at), String(r.epsilon), String(r.delta), r.mechanism, r.contributions === null ? '–' : fmt(r.contributions)]),
        { numeric: [3, 4, 6] },
      )
    : empty(`Nothing released yet, so no privacy budget has been spent. ${ledger.note}`);
  panel.replaceChildren(body);
}
