/** Minimal inline SVG charts for the self-contained HTML report (no scripts, no fetches). */

export interface Series {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Log-scale x axis (for ε). */
  logX?: boolean;
  width?: number;
  height?: number;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const mult = [1, 2, 5, 10].find((m) => span / (m * step) <= count) ?? 10;
  const s = mult * step;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / s) * s; v <= hi + 1e-12; v += s) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/**
 * A line chart with points, axes, ticks and a legend, as an SVG string.
 *
 * @example
 * lineChart([{ name: 'secure', color: '#1f77b4', points: [[1, 1.02], [2, 1.01]] }], { title: 'Loss', xLabel: 'ε', yLabel: 'ratio', logX: true });
 */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const W = o.width ?? 560;
  const H = o.height ?? 300;
  const m = { l: 56, r: 16, t: 30, b: 44 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return `<p>${escapeXml(o.title)}: no data</p>`;
  const tx = (x: number): number => (o.logX ? Math.log2(x) : x);
  let [x0, x1] = [Math.min(...all.map((p) => tx(p[0]))), Math.max(...all.map((p) => tx(p[0])))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const pad = (y1 - y0 || Math.abs(y1) || 1) * 0.08;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x: number): number => m.l + ((tx(x) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number): number => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}">`];
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(o.title)}</text>`);
  const xTicks = o.logX ? [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b) : niceTicks(x0, x1, 6);
  for (const t of xTicks) parts.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${H - m.b}" y2="${H - m.b + 4}" stroke="#555"/><text x="${px(t)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">${t}</text>`);
  for (const t of niceTicks(y0, y1, 5)) parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/><text x="${m.l - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11">${t}</text>`);
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#555"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#555"/>`);
  parts.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${H / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const d = pts.map(([x, y], j) => `${j ? 'L' : 'M'}${px(x).toFixed(1)} ${py(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"><title>${escapeXml(`${s.name}: ${x} → ${y.toPrecision(4)}`)}</title></circle>`);
    parts.push(`<rect x="${m.l + 10}" y="${m.t + 4 + i * 16}" width="12" height="3" fill="${s.color}"/><text x="${m.l + 28}" y="${m.t + 9 + i * 16}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Horizontal bars with labels and values, as an SVG string.
 *
 * @example
 * barChart([['new', 0.1], ['active', 0.6]], { title: 'Lifecycle', format: (v) => `${(100 * v).toFixed(1)}%` });
 */
export function barChart(bars: readonly (readonly [string, number])[], o: { title: string; format: (v: number) => string; width?: number }): string {
  const W = o.width ?? 560;
  const row = 22;
  const H = 30 + bars.length * row + 10;
  const max = Math.max(...bars.map((b) => b[1]), 1e-12);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}">`, `<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeXml(o.title)}</text>`];
  bars.forEach(([label, v], i) => {
    const y = 30 + i * row;
    const w = (v / max) * (W - 220);
    parts.push(`<text x="120" y="${y + 14}" text-anchor="end" font-size="12">${escapeXml(label)}</text><rect x="128" y="${y + 3}" width="${w.toFixed(1)}" height="14" fill="#4c78a8"/><text x="${(132 + w).toFixed(1)}" y="${y + 14}" font-size="11">${escapeXml(o.format(v))}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export { escapeXml };
