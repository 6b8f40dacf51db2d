// The repeats' strip chart: each finished repeat's final val loss (in run order) against the 3.28 line, with
// the mean and a ±1 sd band. Plain SVG built with createElementNS (no markup strings), styled by dashboard.css.
import type { RepeatCard } from '../src/shared/protocol';

const NS = 'http://www.w3.org/2000/svg';
const W = 360;
const H = 130;
const PAD = { l: 52, r: 12, t: 10, b: 20 };

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function significanceChart(c: RepeatCard): SVGElement {
  const xs = c.valLosses;
  const band = c.meanValLoss !== null && c.sdValLoss !== null ? [c.meanValLoss - c.sdValLoss, c.meanValLoss + c.sdValLoss] : [];
  const all = [...xs, c.threshold, ...band];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  const pad = Math.max((hi - lo) * 0.15, 0.0005);
  lo -= pad;
  hi += pad;
  const y = (v: number) => PAD.t + ((hi - v) / (hi - lo)) * (H - PAD.t - PAD.b);
  const slots = Math.max(c.planned, xs.length, 1);
  const x = (i: number) => PAD.l + ((i + 0.5) / slots) * (W - PAD.l - PAD.r);
  const svg = el('svg', {
    class: 'sig-chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'data-testid': 'significance-chart',
    'aria-label': `Val loss of ${xs.length} repeat(s) against ${c.threshold}`,
  });
  if (band.length) svg.append(el('rect', { class: 'sig-band', x: PAD.l, width: W - PAD.l - PAD.r, y: y(band[1]), height: Math.max(1, y(band[0]) - y(band[1])) }));
  svg.append(
    el('line', { class: 'sig-threshold', x1: PAD.l, x2: W - PAD.r, y1: y(c.threshold), y2: y(c.threshold) }),
    el('text', { class: 'sig-label', x: PAD.l - 4, y: y(c.threshold) + 4, 'text-anchor': 'end' }, c.threshold.toFixed(2)),
  );
  if (c.meanValLoss !== null) {
    svg.append(
      el('line', { class: 'sig-mean', x1: PAD.l, x2: W - PAD.r, y1: y(c.meanValLoss), y2: y(c.meanValLoss) }),
      el('text', { class: 'sig-label', x: PAD.l - 4, y: y(c.meanValLoss) + 4, 'text-anchor': 'end' }, c.meanValLoss.toFixed(4)),
    );
  }
  xs.forEach((v, i) => {
    const dot = el('circle', { class: v <= c.threshold ? 'sig-pt' : 'sig-pt above', cx: x(i), cy: y(v), r: 4, 'data-value': v });
    dot.append(el('title', {}, `repeat ${i + 1}: ${v}`));
    svg.append(dot);
  });
  svg.append(el('text', { class: 'sig-label', x: W - PAD.r, y: H - 4, 'text-anchor': 'end' }, `repeats 1-${slots}`));
  return svg;
}
