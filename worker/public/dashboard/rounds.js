// @ts-check
/** The public rounds panel: federated rounds as the leader lists them (no token needed). */
import { empty, fmt, table, when } from './dom.js';

/** @typedef {{ round_id: string, kind: string, measure?: string | null, period?: string | null, mode: string, state: string, model_version: number, opened_at: number, closes_at: number, closed_at: number | null, contributions: number | null, min_batch: number, epsilon: number, delta: number, mechanism: string, reason: string | null }} PublicRound */

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
      newest.map((r) => [r.round_id, `${r.kind}${r.measure ? ` of ${r.measure}, ${r.period}` : ''} (${r.mode})`, r.reason ? `${r.state}: ${r.reason}` : r.state, `v${r.model_version}`, when(r.opened_at), when(r.closed_at ?? r.closes_at), r.contributions === null ? `– (min ${fmt(r.min_batch)} per bucket)` : fmt(r.contributions), String(r.epsilon)]),
      { numeric: [6, 7] },
    ),
  );
}
