// The three dashboard charts (validation loss, training loss, step time) on chart.js.
// Large series stay smooth through chart.js decimation, which needs `parsing: false`, sorted {x, y} points and
// a linear x axis; appends push into the same arrays and redraw without animation.
import {
  Chart, Decimation, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip,
  type ChartDataset, type ChartOptions, type Plugin,
} from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
import { appendXY, Ema, formatDuration, MinMaxLod, niceCeil, robustUpper, smoothXY, type XAxis, type XY } from '../src/shared/dashboardData';
import type { Curve, TrainPoint, ValPointWire } from '../src/shared/protocol';
import { alpha, type Palette } from './theme';

/** A horizontal reference line (the 3.28 target, the record's step time), drawn across the plot area. */
interface RefLineOptions { value: number | null; label: string; color: string }
declare module 'chart.js' {
  // The type parameter must keep chart.js's name for the declaration merge.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface PluginOptionsByType<TType> {
    refLine?: RefLineOptions;
  }
}

const refLinePlugin: Plugin<'line'> = {
  id: 'refLine',
  afterDatasetsDraw(chart, _args, opts: RefLineOptions) {
    const y = chart.scales.y;
    if (opts.value === null || !y || opts.value < y.min || opts.value > y.max) return;
    const { left, right } = chart.chartArea;
    const py = y.getPixelForValue(opts.value);
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = opts.color;
    ctx.lineWidth = 1.5;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(left, py);
    ctx.lineTo(right, py);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = opts.color;
    ctx.font = `600 11px ${Chart.defaults.font.family}`;
    ctx.textAlign = 'right';
    // Label above the line, or below it when the line runs along the top of the plot (under the legend).
    const above = py - chart.chartArea.top > 16;
    ctx.textBaseline = above ? 'bottom' : 'top';
    ctx.fillText(opts.label, right - 4, above ? py - 3 : py + 3);
    ctx.restore();
  },
};

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, Legend, Decimation,
  zoomPlugin, refLinePlugin);

export interface ChartSnapshot {
  xAxis: XAxis;
  yType: string;
  refLine: number | null;
  /** points: the whole series; sampled: what chart.js is given (a downsampled copy at full range); drawn: after
   * chart.js decimation. */
  datasets: { label: string; points: number; sampled: number; drawn: number; color: string }[];
}

/** `full`: the whole series when `data` holds its downsampled copy (for the test hook's point counts). */
type LineDs = ChartDataset<'line', XY[]> & { full?: XY[]; _data?: XY[] };

/** Whole steps, also at the fractional edges a zoom leaves. */
const STEP_TICKS = { maxRotation: 0, precision: 0, callback: (v: number | string) => Math.round(Number(v)).toLocaleString('en') };

export class Charts {
  private axis: XAxis = 'step';
  private logScale = false;
  private ignoreOutliers = true;
  private smoothing = 0.6;
  private palette: Palette;

  private train: readonly TrainPoint[] = [];
  private val: readonly ValPointWire[] = [];
  private curves: Curve[] = [];
  private readonly valXY: XY[] = [];
  private readonly rawXY: XY[] = [];
  private readonly emaXY: XY[] = [];
  private readonly stepXY: XY[] = [];
  private ema = new Ema(this.smoothing);
  // Downsampled copies drawn at full range; a zoomed chart draws the full series (chart.js decimates the
  // visible part), see setDetail.
  private readonly rawLod = new MinMaxLod(this.rawXY);
  private readonly emaLod = new MinMaxLod(this.emaXY);
  private readonly stepLod = new MinMaxLod(this.stepXY);
  private readonly detail = new Set<Chart<'line', XY[]>>();
  private curveXY: XY[][] = [];
  private hasTrainLoss = false;

  readonly val$: Chart<'line', XY[]>;
  readonly train$: Chart<'line', XY[]>;
  readonly step$: Chart<'line', XY[]>;
  private readonly dirty = new Set<Chart<'line', XY[]>>();

  constructor(
    canvases: { val: HTMLCanvasElement; train: HTMLCanvasElement; step: HTMLCanvasElement },
    palette: Palette,
    private readonly requestRender: () => void,
  ) {
    this.palette = palette;
    this.applyDefaults();
    this.val$ = new Chart(canvases.val, { type: 'line', data: { datasets: [] }, options: this.options('val loss') });
    this.train$ = new Chart(canvases.train, { type: 'line', data: { datasets: [] }, options: this.options('train loss') });
    this.step$ = new Chart(canvases.step, { type: 'line', data: { datasets: [] }, options: this.options('step avg (ms)') });
    for (const c of this.all()) {
      c.canvas.addEventListener('dblclick', () => {
        c.resetZoom('none');
        this.setDetail(c);
      });
    }
    this.rebuildDatasets();
  }

  private all() {
    return [this.val$, this.train$, this.step$];
  }

  private applyDefaults() {
    Chart.defaults.font.family = this.palette.font;
    Chart.defaults.font.size = 12;
    Chart.defaults.color = this.palette.fg;
    Chart.defaults.borderColor = this.palette.grid;
  }

  private options(yTitle: string): ChartOptions<'line'> {
    const p = this.palette;
    return {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'step' }, ticks: STEP_TICKS },
        // A clipped top (ignore outliers) rarely falls on a tick: don't label it.
        y: { type: 'linear', title: { display: true, text: yTitle }, ticks: { includeBounds: false } },
      },
      plugins: {
        legend: {
          position: 'top',
          align: 'end',
          labels: {
            usePointStyle: true,
            pointStyleWidth: 22,
            // Lines show as a line sample, a record known only by its end point as the diamond drawn on the chart.
            generateLabels: (chart) => Chart.defaults.plugins.legend.labels.generateLabels(chart).map((l) => {
              const ds = chart.data.datasets[l.datasetIndex ?? 0] as LineDs;
              return { ...l, pointStyle: ds.showLine === false ? 'rectRot' : 'line', lineWidth: ds.showLine === false ? 1 : 2.5 };
            }),
          },
        },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? this.formatX(items[0].parsed.x ?? 0) : ''),
            label: (item) => `${item.dataset.label}: ${(item.parsed.y ?? NaN).toFixed(yTitle.startsWith('step') ? 2 : 4)}`,
          },
        },
        decimation: { enabled: true, algorithm: 'min-max' },
        zoom: {
          zoom: {
            wheel: { enabled: true, modifierKey: 'ctrl' },
            drag: { enabled: true, backgroundColor: alpha(p.run, 0.15), borderColor: p.run, borderWidth: 1 },
            mode: 'xy',
            onZoomComplete: ({ chart }) => this.setDetail(chart as Chart<'line', XY[]>),
          },
          pan: { enabled: true, modifierKey: 'shift', mode: 'xy', onPanComplete: ({ chart }) => this.setDetail(chart as Chart<'line', XY[]>) },
        },
        refLine: { value: null, label: '', color: p.target },
      },
    };
  }

  formatX(x: number): string {
    return this.axis === 'step' ? `step ${Math.round(x)}` : formatDuration(x * 1000);
  }

  // ---- data -----------------------------------------------------------------------------------------

  /** Replace everything (a new run, or replayed history). The arrays are kept by reference for appends. */
  setData(train: readonly TrainPoint[], val: readonly ValPointWire[]): void {
    this.train = train;
    this.val = val;
    this.rebuildSeries();
  }

  /** New points already pushed onto the arrays given to setData: extend only the chart series. */
  appended(train: readonly TrainPoint[], val: readonly ValPointWire[]): void {
    if (val.length && appendXY(this.valXY, val, this.axis, (p) => p.valLoss)) this.dirty.add(this.val$);
    if (!train.length) return;
    const before = this.rawXY.length;
    if (appendXY(this.rawXY, train, this.axis, (p) => p.trainLoss)) {
      smoothXY(this.rawXY.slice(before), this.ema, this.emaXY);
      this.rawLod.sync();
      this.emaLod.sync();
      if (!this.hasTrainLoss) this.rebuildDatasets();
      this.dirty.add(this.train$);
    }
    if (appendXY(this.stepXY, train, this.axis, (p) => p.stepAvgMs)) {
      this.stepLod.sync();
      this.dirty.add(this.step$);
    }
  }

  /** Reference/start records and overlaid runs, drawn on the validation chart. */
  setCurves(curves: Curve[]): void {
    this.curves = curves;
    this.curveXY = curves.map((c) => {
      const out: XY[] = [];
      appendXY(out, c.points, this.axis, (p) => p.valLoss);
      return out;
    });
    this.rebuildDatasets();
  }

  /** Target lines: val loss 3.28, and the record's average step time on the step-time chart. */
  setRefLines(targetValLoss: number, recordStepMs: number | null, recordLabel: string): void {
    const p = this.palette;
    this.val$.options.plugins!.refLine = { value: targetValLoss, label: `target ${targetValLoss}`, color: p.target };
    this.step$.options.plugins!.refLine = recordStepMs === null ? { value: null, label: '', color: p.target }
      : { value: recordStepMs, label: `${recordLabel} avg ${recordStepMs.toFixed(1)} ms`, color: p.reference };
    this.dirty.add(this.val$).add(this.step$);
  }

  // ---- view settings ----------------------------------------------------------------------------------

  setAxis(axis: XAxis): void {
    if (axis === this.axis) return;
    this.axis = axis;
    this.rebuildSeries();
    this.setCurves(this.curves);
    for (const c of this.all()) {
      const x = c.options.scales!.x!;
      x.title = { display: true, text: axis === 'step' ? 'step' : 'training time' };
      x.ticks = axis === 'step' ? STEP_TICKS
        : { maxRotation: 0, callback: (v) => formatDuration(Number(v) * 1000).replace(/\.0$/, '') };
      c.resetZoom('none');
    }
  }

  setLogScale(on: boolean): void {
    this.logScale = on;
    for (const c of [this.val$, this.train$]) {
      c.options.scales!.y!.type = on ? 'logarithmic' : 'linear';
      this.dirty.add(c);
    }
  }

  setSmoothing(weight: number): void {
    this.smoothing = weight;
    this.ema = new Ema(weight);
    this.emaXY.length = 0;
    smoothXY(this.rawXY, this.ema, this.emaXY);
    this.emaLod.reset();
    this.rebuildDatasets();
  }

  setPalette(palette: Palette): void {
    this.palette = palette;
    this.applyDefaults();
    for (const c of this.all()) {
      for (const axis of ['x', 'y'] as const) {
        const s = c.options.scales![axis]!;
        s.grid = { color: palette.grid };
        s.ticks = { ...s.ticks, color: palette.fg };
        if ('title' in s && s.title) s.title.color = palette.fg;
      }
      c.options.plugins!.legend!.labels!.color = palette.fg;
      const z = c.options.plugins!.zoom!.zoom!.drag!;
      z.backgroundColor = alpha(palette.run, 0.15);
      z.borderColor = palette.run;
      const ref = c.options.plugins!.refLine!;
      ref.color = c === this.step$ ? palette.reference : palette.target;
    }
    this.rebuildDatasets();
  }

  setIgnoreOutliers(on: boolean): void {
    this.ignoreOutliers = on;
    for (const c of this.all()) this.dirty.add(c);
  }

  resetZoom(): void {
    for (const c of this.all()) {
      c.resetZoom('none');
      this.detail.delete(c);
    }
    this.rebuildDatasets();
  }

  /** A zoomed or panned chart draws every point of its range; at full range it draws the downsampled copy. */
  private setDetail(c: Chart<'line', XY[]>): void {
    const zoomed = c.isZoomedOrPanned();
    if (zoomed === this.detail.has(c)) return;
    if (zoomed) this.detail.add(c);
    else this.detail.delete(c);
    this.rebuildDatasets();
    this.requestRender();
  }

  // ---- datasets ---------------------------------------------------------------------------------------

  private rebuildSeries(): void {
    for (const a of [this.valXY, this.rawXY, this.emaXY, this.stepXY]) a.length = 0;
    this.ema = new Ema(this.smoothing);
    appendXY(this.valXY, this.val, this.axis, (p) => p.valLoss);
    appendXY(this.rawXY, this.train, this.axis, (p) => p.trainLoss);
    smoothXY(this.rawXY, this.ema, this.emaXY);
    appendXY(this.stepXY, this.train, this.axis, (p) => p.stepAvgMs);
    for (const lod of [this.rawLod, this.emaLod, this.stepLod]) lod.reset();
    this.rebuildDatasets();
  }

  private rebuildDatasets(): void {
    const p = this.palette;
    const width = p.highContrast ? 2.5 : 1.75;
    const line = (label: string, data: XY[], series: Partial<LineDs>, color: string, extra: Partial<LineDs> = {}): LineDs => ({
      // spanGaps: our series have no gaps (nan points are dropped), and it spares chart.js a segmenting pass.
      label, data, borderColor: color, backgroundColor: color, borderWidth: width, pointRadius: 0,
      pointHoverRadius: 3, spanGaps: true, ...series, ...extra,
    });
    let overlay = 0;
    this.val$.data.datasets = [
      line('this run', this.valXY, {}, p.run, { pointRadius: this.valXY.length > 200 ? 0 : 2 }),
      ...this.curves.map((c, i) => {
        const color = c.kind === 'reference' ? p.reference : c.kind === 'start' ? p.start
          : p.overlays[overlay++ % p.overlays.length];
        return c.endPointOnly
          ? line(c.label, this.curveXY[i], {}, color, { showLine: false, pointRadius: 6, pointHoverRadius: 7, pointStyle: 'rectRot' })
          : line(c.label, this.curveXY[i], {}, color, { borderDash: c.kind === 'run' ? [] : [5, 3], borderWidth: width - 0.25 });
      }),
    ];
    this.hasTrainLoss = this.rawXY.length > 0;
    const zoomed = (c: Chart<'line', XY[]>, full: XY[], lod: MinMaxLod): [XY[], Partial<LineDs>] =>
      [this.detail.has(c) ? full : lod.out, { full }];
    this.train$.data.datasets = this.hasTrainLoss ? [
      line('raw', ...zoomed(this.train$, this.rawXY, this.rawLod), alpha(p.run, p.highContrast ? 0.5 : 0.35), { borderWidth: 1 }),
      line(`EMA ${this.smoothing.toFixed(2)}`, ...zoomed(this.train$, this.emaXY, this.emaLod), p.run),
    ] : [];
    this.step$.data.datasets = [line('step avg', ...zoomed(this.step$, this.stepXY, this.stepLod), p.step)];
    for (const c of this.all()) this.dirty.add(c);
  }

  /** Redraw the charts whose data or options changed since the last call. */
  render(): void {
    for (const c of this.dirty) {
      this.fitY(c);
      c.update('none');
    }
    this.dirty.clear();
  }

  /** y range: always include the reference line; above it, clip outliers unless the user zoomed. */
  private fitY(c: Chart<'line', XY[]>): void {
    if (c.isZoomedOrPanned()) return;
    const y = c.options.scales!.y!;
    const ref = c.options.plugins!.refLine?.value ?? null;
    y.suggestedMin = ref ?? undefined;
    y.suggestedMax = ref ?? undefined;
    const upper = this.ignoreOutliers ? this.upperOf(c) : undefined;
    y.max = upper === undefined ? undefined : ref === null ? upper : Math.max(upper, niceCeil(ref * 1.03, ref * 0.1));
  }

  private readonly uppers = new WeakMap<Chart<'line', XY[]>, { datasets: unknown; total: number; upper: number | undefined }>();

  /** robustUpper of a chart's series, recomputed only when the series grew by more than 1% (a live append
   * of a few points onto 100,000 must not re-sort a sample every frame) or were replaced. */
  private upperOf(c: Chart<'line', XY[]>): number | undefined {
    const series = c.data.datasets.map((d) => (d as LineDs)._data ?? d.data);
    const total = series.reduce((n, s) => n + s.length, 0);
    const cached = this.uppers.get(c);
    if (cached && cached.datasets === c.data.datasets && Math.abs(total - cached.total) <= cached.total / 100) return cached.upper;
    const upper = robustUpper(series);
    this.uppers.set(c, { datasets: c.data.datasets, total, upper });
    return upper;
  }

  get trainLossShown(): boolean {
    return this.hasTrainLoss;
  }

  snapshot(): Record<'val' | 'train' | 'step', ChartSnapshot> {
    const snap = (c: Chart<'line', XY[]>): ChartSnapshot => ({
      xAxis: this.axis,
      yType: String(c.options.scales!.y!.type),
      refLine: c.options.plugins!.refLine?.value ?? null,
      datasets: c.data.datasets.map((d, i) => {
        const ds = d as LineDs;
        const given = ds._data ?? ds.data;
        return {
          label: String(d.label), points: (ds.full ?? given).length, sampled: given.length,
          drawn: c.getDatasetMeta(i).data.length, color: String(d.borderColor),
        };
      }),
    });
    return { val: snap(this.val$), train: snap(this.train$), step: snap(this.step$) };
  }

  /** One PNG of all charts stacked, on the theme's background so it reads outside VS Code too. */
  toPng(titles: string[]): string {
    const charts = this.all().filter((c) => c.data.datasets.length);
    const ratio = charts[0]?.currentDevicePixelRatio ?? 1;
    const titleH = Math.round(24 * ratio);
    const width = Math.max(...charts.map((c) => c.canvas.width), 1);
    const height = charts.reduce((h, c) => h + c.canvas.height + titleH, 0) || 1;
    const out = document.createElement('canvas');
    out.width = width;
    out.height = height;
    const ctx = out.getContext('2d')!;
    ctx.fillStyle = this.palette.bg;
    ctx.fillRect(0, 0, width, height);
    let y = 0;
    for (const c of charts) {
      ctx.fillStyle = this.palette.fg;
      ctx.font = `600 ${Math.round(13 * ratio)}px ${this.palette.font}`;
      ctx.textBaseline = 'middle';
      ctx.fillText(titles[this.all().indexOf(c)] ?? '', 8 * ratio, y + titleH / 2);
      y += titleH;
      ctx.drawImage(c.canvas, 0, y);
      y += c.canvas.height;
    }
    return out.toDataURL('image/png');
  }

  get xAxis(): XAxis {
    return this.axis;
  }

  get isLog(): boolean {
    return this.logScale;
  }
}
