// report.html of a sweep: one self-contained file, no script at all, charts drawn as inline SVG with presentation
// attributes, and a CSP that allows nothing but its own hashed stylesheet. The extension opens the same file in a
// webview; a browser opens it as it is.
import { createHash } from 'node:crypto';
import type { ConfigAggregate, SweepRow } from './aggregate';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#ff9da7', '#bab0ac'];
const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222;background:#fff}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}h2{margin-top:28px}.note{color:#555;max-width:900px}
svg text{font:11px system-ui,sans-serif}`;

export const REPORT_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; img-src 'none'`;

const configName = (a: { scaffold: string; hintLevel: string }) => `${a.scaffold} · hints ${a.hintLevel}`;

function legend(names: string[], x: number, y: number): string {
  return names
    .map((n, i) => `<rect x="${x}" y="${y + i * 16}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 14}" y="${y + i * 16 + 9}">${esc(n)}</text>`)
    .join('');
}

/** Grouped bars: FSR per task, one bar per configuration. */
function taskChart(aggs: readonly ConfigAggregate[]): string {
  const tasks = [...new Set(aggs.flatMap((a) => a.tasks.map((t) => t.task)))].sort((a, b) => a - b);
  if (!tasks.length) return '<p>No finished searches yet.</p>';
  const maxFsr = Math.max(1, ...aggs.flatMap((a) => a.tasks.map((t) => t.fsr)));
  const group = Math.max(24, aggs.length * 10 + 8);
  const W = 60 + tasks.length * group + 220;
  const H = 260;
  const plotH = 200;
  const y = (v: number) => 20 + plotH - (v / maxFsr) * plotH;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="FSR per task per configuration">`];
  for (let g = 0; g <= 4; g++) {
    const v = (maxFsr * g) / 4;
    parts.push(`<line x1="50" x2="${50 + tasks.length * group}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/><text x="44" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  tasks.forEach((t, ti) => {
    aggs.forEach((a, ai) => {
      const s = a.tasks.find((x) => x.task === t);
      if (!s) return;
      const x = 54 + ti * group + ai * 10;
      parts.push(`<rect x="${x}" y="${y(s.fsr)}" width="8" height="${Math.max(0, y(0) - y(s.fsr))}" fill="${PALETTE[ai % PALETTE.length]}"><title>task ${t}, ${esc(configName(a))}: FSR ${s.fsr.toFixed(3)} (${s.runs} runs)</title></rect>`);
    });
    parts.push(`<text x="${54 + ti * group + (aggs.length * 10) / 2}" y="${H - 22}" text-anchor="middle">${t}</text>`);
  });
  parts.push(`<text x="${50 + (tasks.length * group) / 2}" y="${H - 4}" text-anchor="middle">task (starting record)</text>`);
  parts.push(legend(aggs.map(configName), 70 + tasks.length * group, 20), '</svg>');
  return parts.join('');
}

/** Lines: mean FSR against hint level, one line per scaffold. */
function hintChart(aggs: readonly ConfigAggregate[]): string {
  const levels = [...new Set(aggs.map((a) => a.hintLevel))];
  const scaffolds = [...new Set(aggs.map((a) => a.scaffold))];
  if (!levels.length) return '';
  const maxFsr = Math.max(0.5, ...aggs.map((a) => a.meanFsr + a.sem));
  const step = 90;
  const W = 80 + Math.max(1, levels.length - 1) * step + 200;
  const H = 260;
  const plotH = 200;
  const x = (i: number) => 60 + i * step;
  const y = (v: number) => 20 + plotH - (v / maxFsr) * plotH;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="FSR against hint level">`];
  for (let g = 0; g <= 4; g++) {
    const v = (maxFsr * g) / 4;
    parts.push(`<line x1="55" x2="${x(levels.length - 1) + 10}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/><text x="50" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  levels.forEach((l, i) => parts.push(`<text x="${x(i)}" y="${H - 22}" text-anchor="middle">${esc(l)}</text>`));
  parts.push(`<text x="${x((levels.length - 1) / 2)}" y="${H - 4}" text-anchor="middle">hint level</text>`);
  scaffolds.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length];
    const pts = levels.map((l, i) => ({ i, a: aggs.find((a) => a.scaffold === s && a.hintLevel === l) })).filter((p) => p.a);
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${x(p.i)},${y(p.a!.meanFsr)}`).join(' ')}"/>`);
    for (const p of pts) {
      const a = p.a!;
      parts.push(
        `<line x1="${x(p.i)}" x2="${x(p.i)}" y1="${y(a.meanFsr - a.sem)}" y2="${y(a.meanFsr + a.sem)}" stroke="${color}"/>`,
        `<circle cx="${x(p.i)}" cy="${y(a.meanFsr)}" r="4" fill="${color}"><title>${esc(configName(a))}: mean FSR ${a.meanFsr.toFixed(3)} ± ${a.sem.toFixed(3)}</title></circle>`,
      );
    }
  });
  parts.push(legend(scaffolds, x(levels.length - 1) + 30, 20), '</svg>');
  return parts.join('');
}

const num = (v: number | null, d: number) => (v === null || !Number.isFinite(v) ? '' : v.toFixed(d));

export function renderReport(rows: readonly SweepRow[], aggs: readonly ConfigAggregate[], title = 'Speedrun sweep'): string {
  const aggRows = aggs
    .map((a) => `<tr><td class="l">${esc(a.scaffold)}</td><td class="l">${esc(a.hintLevel)}</td><td>${a.meanFsr.toFixed(3)}</td><td>${a.sem.toFixed(3)}</td><td>${a.tasks.length}</td><td>${a.seeds}</td><td>${(a.shares.buggy * 100).toFixed(0)}%</td><td>${(a.shares.improved * 100).toFixed(0)}%</td><td>${(a.shares.unimproved * 100).toFixed(0)}%</td></tr>`)
    .join('');
  const runRows = rows
    .map((r) => `<tr><td>${r.task}</td><td class="l">${esc(r.hintLevel)}</td><td class="l">${esc(r.scaffold)}</td><td>${r.seed}</td><td class="l">${esc(r.state)}</td><td>${r.bestNode ?? ''}</td><td>${num(r.trainTimeMs === null ? null : r.trainTimeMs / 1000, 1)}</td><td>${num(r.valLoss, 4)}</td><td>${r.isValid ? 'yes' : 'no'}</td><td>${r.fsr.toFixed(3)}</td><td>${r.nodes}</td><td>${r.buggy}</td></tr>`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="note">FSR follows the released analysis conventions: the best time over every node of a search with the root (record <i>i</i>) included, nodes counted only with val loss &lt; 3.29, values outside [0, 3] set to 0, the top 3 seeds averaged per task, then tasks averaged; ± is a standard error over seeds.</p>
<h2>Mean FSR per configuration</h2>
<table><tr><th class="l">scaffold</th><th class="l">hints</th><th>mean FSR</th><th>SEM</th><th>tasks</th><th>seeds</th><th>buggy</th><th>improved</th><th>unimproved</th></tr>${aggRows}</table>
<h2>FSR per task</h2>
${taskChart(aggs)}
<h2>FSR against hint level</h2>
${hintChart(aggs)}
<h2>Searches</h2>
<table><tr><th>task</th><th class="l">hints</th><th class="l">scaffold</th><th>seed</th><th class="l">state</th><th>best node</th><th>train time (s)</th><th>val loss</th><th>valid</th><th>FSR</th><th>nodes</th><th>buggy</th></tr>${runRows}</table>
</body></html>
`;
}

export interface CurveSeries {
  label: string;
  points: { step: number; valLoss: number }[];
}

/** One chart overlaying the val-loss curves of a search's nodes, with the 3.28 gate; same CSP as the report. */
export function renderCurvesPage(title: string, series: readonly CurveSeries[]): string {
  const pts = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.valLoss) && p.step > 0);
  const W = 760;
  const H = 360;
  let body = '<p>No validation points yet.</p>';
  if (pts.length) {
    const maxStep = Math.max(...pts.map((p) => p.step));
    const losses = pts.map((p) => p.valLoss);
    const lo = Math.min(3.2, ...losses);
    const hi = Math.min(Math.max(...losses), lo + 2);
    const x = (s: number) => 60 + (s / maxStep) * (W - 260);
    const y = (v: number) => 20 + (1 - (Math.min(v, hi) - lo) / (hi - lo || 1)) * (H - 60);
    const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="val loss of every node">`];
    for (let g = 0; g <= 4; g++) {
      const v = lo + ((hi - lo) * g) / 4;
      parts.push(`<line x1="60" x2="${x(maxStep)}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/><text x="54" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
    }
    parts.push(`<line x1="60" x2="${x(maxStep)}" y1="${y(3.28)}" y2="${y(3.28)}" stroke="#d33" stroke-dasharray="4 3"><title>3.28 gate</title></line>`);
    series.forEach((s, i) => {
      const ps = s.points.filter((p) => Number.isFinite(p.valLoss) && p.step > 0);
      if (!ps.length) return;
      const color = PALETTE[i % PALETTE.length];
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${ps.map((p) => `${x(p.step).toFixed(1)},${y(p.valLoss).toFixed(1)}`).join(' ')}"><title>${esc(s.label)}</title></polyline>`);
    });
    parts.push(`<text x="${x(maxStep / 2)}" y="${H - 8}" text-anchor="middle">step</text>`);
    parts.push(legend(series.map((s) => s.label), x(maxStep) + 20, 20), '</svg>');
    body = parts.join('');
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>
`;
}
