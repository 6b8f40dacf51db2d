// The dashboard webview: header, results card, charts and the runs table of one run.
// It posts `ready`, then renders whatever the host sends; renders are coalesced to one per animation frame.
import {
  buildCsv, formatDuration, formatNum, sortRuns, type SortKey, type SortSpec, type XAxis,
} from '../src/shared/dashboardData';
import {
  isHostMessage, type Curve, type Header, type HostMessage, type RepeatCard, type ResultCard, type RunRow,
  type ScriptError, type TaskInfo, type TrainPoint, type ValPointWire,
} from '../src/shared/protocol';
import type { DashboardMessage, ExportFormat } from '../src/shared/webviewMessages';
import { Charts } from './charts';
import { fill, h } from './dom';
import { significanceChart } from './significance';
import { onThemeChange, readPalette } from './theme';
import { connect } from './vscodeApi';

/** What survives a reload (the host's panel serializer reads `runId` and `pinned`). */
interface Persisted {
  runId?: string;
  pinned: boolean;
  axis: XAxis;
  log: boolean;
  outliers: boolean;
  smoothing: number;
  sort: SortSpec;
  overlays: string[];
}

const SORT_KEYS: SortKey[] = ['createdAt', 'trainTimeMs', 'valLoss', 'valid', 'fsr', 'steps', 'stepAvgMs'];
const PRE_TRAINING = ['queued', 'connecting', 'preflight', 'uploading', 'compiling'];
const CHART_TITLES = ['Validation loss', 'Training loss', 'Step time'];
const ERROR_LABELS: Record<ScriptError['kind'], string> = {
  exception: 'Python exception', oom: 'CUDA out of memory', nccl: 'NCCL failure', syntax: 'syntax error',
  import: 'import error', signal: 'stopped by a signal', timeout: 'time limit reached',
};

function restore(raw: unknown): Persisted {
  const d: Persisted = { pinned: false, axis: 'step', log: false, outliers: true, smoothing: 0.6, sort: { key: 'createdAt', dir: 'desc' }, overlays: [] };
  if (typeof raw !== 'object' || raw === null) return d;
  const r = raw as Record<string, unknown>;
  const sort = r.sort as Record<string, unknown> | undefined;
  return {
    runId: typeof r.runId === 'string' ? r.runId : undefined,
    pinned: r.pinned === true,
    axis: r.axis === 'time' ? 'time' : 'step',
    log: r.log === true,
    outliers: r.outliers !== false,
    smoothing: typeof r.smoothing === 'number' && r.smoothing >= 0 && r.smoothing < 1 ? r.smoothing : d.smoothing,
    sort: sort && SORT_KEYS.includes(sort.key as SortKey) && (sort.dir === 'asc' || sort.dir === 'desc')
      ? { key: sort.key as SortKey, dir: sort.dir } : d.sort,
    overlays: Array.isArray(r.overlays) ? r.overlays.filter((x): x is string => typeof x === 'string') : [],
  };
}

/** Content Security Policy violations seen by this page (reported in the test hook; there should be none). */
const cspViolations: string[] = [];
document.addEventListener('securitypolicyviolation', (e) => cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));

// Compare before writing: these run on every append, and an untouched DOM costs no style or layout work.
function setText(el: HTMLElement, text: string) {
  if (el.textContent !== text) el.textContent = text;
}
function setAttr(el: HTMLElement, name: string, value: string) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

class App {
  private readonly vscode = connect<DashboardMessage, HostMessage>(isHostMessage, (m) => this.onMessage(m));
  private ui = restore(this.vscode.getState());
  private task: TaskInfo | null = null;
  private header: Header | null = null;
  private result: ResultCard | null = null;
  private runs: RunRow[] = [];
  private train: TrainPoint[] = [];
  private val: ValPointWire[] = [];
  private records: Curve[] = [];
  private overlays: Curve[] = [];
  private targetValLoss = 3.28;
  private frame = 0;
  private renders = 0;
  private lastRenderMs = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;
  /** Parts of the page to rebuild at the next render (appends only touch the charts). */
  private stale = { header: true, result: true, runs: true };

  private readonly el = {
    header: h('header', { class: 'hdr', 'data-testid': 'header' }),
    result: h('section', { class: 'card result', 'data-testid': 'result', hidden: true }),
    runs: h('section', { class: 'runs', 'data-testid': 'runs' }),
    /** Per chart: a note beside the title, or the whole box's message when there is nothing to draw. */
    note: { val: h('span', { class: 'note' }), train: h('span', { class: 'note' }), step: h('span', { class: 'note' }) },
    empty: { val: h('div', { class: 'empty' }), train: h('div', { class: 'empty' }), step: h('div', { class: 'empty' }) },
    testState: h('pre', { id: 'test-state', hidden: true }),
    axisStep: h('button', { type: 'button', 'data-testid': 'axis-step' }, 'Step'),
    axisTime: h('button', { type: 'button', 'data-testid': 'axis-time' }, 'Training time'),
    log: h('input', { type: 'checkbox', id: 'log-scale', 'data-testid': 'log-scale' }),
    outliers: h('input', { type: 'checkbox', id: 'outliers', 'data-testid': 'outliers' }),
    smoothing: h('input', { type: 'range', id: 'smoothing', min: 0, max: 0.99, step: 0.01, 'data-testid': 'smoothing' }),
    smoothingOut: h('output', { for: 'smoothing' }),
  };
  private readonly charts: Charts;

  constructor(root: HTMLElement) {
    const canvas = (name: string) => h('canvas', { 'aria-label': `${name} chart`, role: 'img' });
    const cv = { val: canvas('Validation loss'), train: canvas('Training loss'), step: canvas('Step time') };
    const panel = (key: 'val' | 'train' | 'step', title: string, cls: string) =>
      h('section', { class: `chart ${cls}`, 'data-testid': `chart-${key}` },
        h('h2', {}, title, this.el.note[key]), h('div', { class: 'canvas-box' }, cv[key], this.el.empty[key]));

    this.el.smoothing.value = String(this.ui.smoothing);
    this.el.log.checked = this.ui.log;
    this.el.outliers.checked = this.ui.outliers;
    const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Chart options' },
      h('div', { class: 'seg', role: 'group', 'aria-label': 'Horizontal axis' },
        h('span', { class: 'seg-label' }, 'x:'), this.el.axisStep, this.el.axisTime),
      h('label', { class: 'check' }, this.el.log, 'Log scale'),
      h('label', { class: 'check', title: 'Clip the y axis above the 95th percentile (the first steps\' loss)' }, this.el.outliers, 'Ignore outliers'),
      h('label', { class: 'slider', title: 'EMA smoothing of the training loss' }, 'Smoothing', this.el.smoothing, this.el.smoothingOut),
      h('span', { class: 'spacer' }),
      h('span', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', title: 'Or double-click a chart. Drag to zoom, Shift+drag to pan, Ctrl+wheel to zoom.', onclick: () => { this.charts.resetZoom(); this.schedule(); } }, 'Reset zoom'),
        h('button', { type: 'button', 'data-testid': 'export-png', onclick: () => this.exportData('png') }, 'Export PNG'),
        h('button', { type: 'button', 'data-testid': 'export-csv', onclick: () => this.exportData('csv') }, 'Export CSV')));
    fill(root, this.el.header, this.el.result, toolbar,
      h('div', { class: 'grid' }, panel('val', CHART_TITLES[0], 'wide'), panel('train', CHART_TITLES[1], ''), panel('step', CHART_TITLES[2], '')),
      this.el.runs, this.el.testState);
    root.removeAttribute('aria-busy');

    this.charts = new Charts(cv, readPalette(), () => this.schedule());
    this.charts.setAxis(this.ui.axis);
    this.charts.setLogScale(this.ui.log);
    this.charts.setIgnoreOutliers(this.ui.outliers);
    this.charts.setSmoothing(this.ui.smoothing);

    this.el.axisStep.addEventListener('click', () => this.setAxis('step'));
    this.el.axisTime.addEventListener('click', () => this.setAxis('time'));
    this.el.log.addEventListener('change', () => {
      this.ui.log = this.el.log.checked;
      this.charts.setLogScale(this.ui.log);
      this.changed();
    });
    this.el.outliers.addEventListener('change', () => {
      this.ui.outliers = this.el.outliers.checked;
      this.charts.setIgnoreOutliers(this.ui.outliers);
      this.changed();
    });
    this.el.smoothing.addEventListener('input', () => {
      this.ui.smoothing = Number(this.el.smoothing.value);
      this.charts.setSmoothing(this.ui.smoothing);
      this.changed();
    });
    onThemeChange(() => {
      this.charts.setPalette(readPalette());
      this.schedule();
    });
    this.renderChrome();
    this.vscode.ready();
  }

  private post(m: DashboardMessage) {
    this.vscode.post(m);
  }

  private onMessage(m: HostMessage): void {
    switch (m.type) {
      case 'init':
        this.task = m.task;
        this.header = m.header;
        this.targetValLoss = m.targetValLoss;
        this.train = m.train;
        this.val = m.val;
        this.records = m.curves;
        this.runs = m.runs;
        this.result = m.result;
        this.ui.runId = m.header.runId;
        this.ui.pinned = m.pinned;
        this.stale = { header: true, result: true, runs: true };
        this.charts.setData(this.train, this.val);
        this.charts.setCurves([...this.records, ...this.overlays]);
        this.charts.setRefLines(m.targetValLoss, this.recordStepMs(), this.task ? `record ${this.task.toRecord}` : '');
        this.saveState();
        this.syncOverlays();
        break;
      case 'append': {
        if (!this.header || m.runId !== this.header.runId) return;
        for (const p of m.train) this.train.push(p);
        for (const p of m.val) this.val.push(p);
        this.charts.appended(m.train, m.val);
        break;
      }
      case 'header':
        if (this.header && m.header.runId !== this.header.runId) return;
        this.header = m.header;
        this.stale.header = this.stale.runs = true; // the current run's row follows the header
        break;
      case 'result':
        this.result = m.result;
        this.stale.result = true;
        break;
      case 'runs':
        this.runs = m.runs;
        this.stale.runs = true;
        break;
      case 'overlays':
        this.overlays = m.curves.filter((c) => c.id !== this.header?.runId);
        this.charts.setCurves([...this.records, ...this.overlays]);
        break;
      case 'requestExport':
        this.render();
        this.exportData(m.format, m.requestId);
        return;
    }
    this.schedule();
  }

  private recordStepMs(): number | null {
    return this.task && this.task.target.steps > 0 ? this.task.target.trainTimeMs / this.task.target.steps : null;
  }

  private setAxis(axis: XAxis) {
    this.ui.axis = axis;
    this.charts.setAxis(axis);
    this.changed();
  }

  private setPinned(pinned: boolean) {
    this.ui.pinned = pinned;
    this.stale.header = true;
    this.post({ type: 'pin', pinned });
    this.changed();
  }

  private changed() {
    this.saveState();
    this.schedule();
  }

  private saveState() {
    this.vscode.setState(this.ui);
  }

  /** Ask the host for the overlaid runs' curves (the picked runs persist across reloads). */
  private syncOverlays() {
    const known = new Set(this.runs.map((r) => r.runId));
    this.ui.overlays = this.ui.overlays.filter((id) => known.has(id) && id !== this.header?.runId);
    this.post({ type: 'setOverlays', runIds: this.ui.overlays });
  }

  private exportData(format: ExportFormat, requestId?: string) {
    const data = format === 'csv' ? buildCsv(this.train, this.val) : this.charts.toPng(CHART_TITLES);
    this.post({ type: 'exportData', format, data, requestId });
  }

  // ---- rendering ------------------------------------------------------------------------------------

  private schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  private render() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    const t0 = performance.now();
    this.charts.render();
    this.renderChrome();
    this.lastRenderMs = performance.now() - t0;
    this.renders++;
    this.writeTestState();
  }

  private renderChrome() {
    if (this.stale.header) this.renderHeader();
    if (this.stale.result) this.renderResult();
    if (this.stale.runs) this.renderRuns();
    this.stale = { header: false, result: false, runs: false };
    setAttr(this.el.axisStep, 'aria-pressed', String(this.ui.axis === 'step'));
    setAttr(this.el.axisTime, 'aria-pressed', String(this.ui.axis === 'time'));
    setText(this.el.smoothingOut, this.ui.smoothing.toFixed(2));
    if (this.el.smoothing.disabled !== !this.charts.trainLossShown) this.el.smoothing.disabled = !this.charts.trainLossShown;
    this.renderEmptyStates();
  }

  private renderEmptyStates() {
    const noTrain = this.train.length ? null
      : !this.header ? 'No run selected.'
      : this.isTerminal() ? 'No training steps in this run.'
      : this.header.state === 'compiling' ? 'Compiling: the first step appears when torch.compile is done.'
      : 'Waiting for the first training step…';
    const msgs = {
      val: !this.val.length && !this.records.length && !this.overlays.length ? (this.header ? 'No validation yet.' : 'No run selected.') : null,
      train: noTrain ?? (this.charts.trainLossShown ? null : 'This script does not print the training loss.'),
      step: noTrain,
    };
    for (const key of ['val', 'train', 'step'] as const) {
      setText(this.el.empty[key], msgs[key] ?? '');
      if (this.el.empty[key].hidden !== !msgs[key]) {
        this.el.empty[key].hidden = !msgs[key];
        this.el.empty[key].previousElementSibling!.classList.toggle('blank', !!msgs[key]);
      }
    }
    setText(this.el.note.val, this.header && !this.val.length && !msgs.val
      ? (this.isTerminal() ? 'no validation in this run' : 'waiting for the first validation…') : '');
  }

  private isTerminal() {
    return !!this.header && ['finished', 'failed', 'cancelled', 'timed-out'].includes(this.header.state);
  }

  private stateLabel(hd: Header): string {
    const live = ['compiling', 'training', 'validating'];
    const s = live.includes(hd.state) && hd.phase && live.includes(hd.phase) ? hd.phase : hd.state;
    return s.charAt(0).toUpperCase() + s.slice(1).replace('-', ' ');
  }

  private renderHeader() {
    const hd = this.header;
    if (!hd) {
      fill(this.el.header, h('div', { class: 'hdr-title' }, h('span', { class: 'badge' }, 'No run'),
        h('span', { class: 'muted' }, 'Run the task script, or open a run from the Runs view.')));
      return;
    }
    const pre = PRE_TRAINING.includes(hd.state);
    const elapsed = pre && hd.stateSince !== null ? formatDuration(Date.now() - hd.stateSince).replace(/\.\d$/, '') : null;
    this.tick(pre);
    const t = this.task;
    const stat = (label: string, id: string, value: string, sub?: string) =>
      h('div', { class: 'stat' }, h('dt', {}, label), h('dd', { 'data-testid': id }, value),
        sub ? h('dd', { class: 'sub' }, sub) : null);
    const left = hd.projectedTrainTimeMs !== null && hd.trainTimeMs !== null
      ? `${formatDuration(hd.projectedTrainTimeMs - hd.trainTimeMs).replace(/\.\d$/, '')} left` : undefined;
    fill(this.el.header,
      h('div', { class: 'hdr-title' },
        h('span', { class: 'badge', 'data-state': hd.state, 'data-testid': 'state' }, this.stateLabel(hd)),
        elapsed ? h('span', { class: 'elapsed', 'data-testid': 'elapsed', title: 'Time in this state' }, elapsed) : null,
        h('span', { class: 'run-id', title: 'Run id' }, hd.runId),
        h('span', { class: 'muted' }, `on ${hd.target}`),
        t ? h('span', { class: 'muted' }, `· task ${t.taskId}: record ${t.fromRecord} → ${t.toRecord}`) : null,
        h('span', { class: 'spacer' }),
        h('button', {
          type: 'button', class: 'secondary pin', 'data-testid': 'pin', 'aria-pressed': String(this.ui.pinned),
          title: this.ui.pinned ? 'This run stays shown. Click to follow the newest run of the task again.'
            : 'The dashboard moves to each new run of the task. Click to keep this run.',
          onclick: () => this.setPinned(!this.ui.pinned),
        }, this.ui.pinned ? 'Pinned' : 'Pin this run')),
      h('dl', { class: 'stats' },
        stat('Step', 'step', hd.step !== null ? `${hd.step} / ${hd.totalSteps ?? '?'}` : '–'),
        stat('Step time', 'step-time', hd.stepAvgMs !== null ? `${hd.stepAvgMs.toFixed(2)} ms` : '–',
          this.recordStepMs() !== null ? `record ${t!.toRecord}: ${this.recordStepMs()!.toFixed(2)} ms` : undefined),
        stat('Train time', 'train-time', formatDuration(hd.trainTimeMs)),
        // Once the run has ended the results card has the real figures.
        this.isTerminal() ? null : stat('Projected', 'eta', formatDuration(hd.projectedTrainTimeMs), left),
        this.isTerminal() ? null : stat('Projected FSR', 'projected-fsr', formatNum(hd.projectedFsr, 2),
          t ? `record ${t.toRecord}: ${formatDuration(t.target.trainTimeMs)}` : undefined)));
  }

  /** Tick the elapsed time once a second while compiling (minutes on real hardware) and nothing else changes. */
  private tick(on: boolean) {
    if (on && !this.ticker) this.ticker = setInterval(() => this.renderHeader(), 1000);
    if (!on && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private renderResult() {
    const r = this.result;
    this.el.result.hidden = !r;
    if (!r) return;
    const ended = r.state === 'finished';
    const pass = ended && r.valid;
    const verdict = ended ? (r.valid ? 'Valid' : 'Not valid')
      : r.error ? `${this.stateLabel({ ...this.header!, state: r.state, phase: null })}: ${ERROR_LABELS[r.error.kind]}`
      : r.failure ? `${this.stateLabel({ ...this.header!, state: r.state, phase: null })} at ${r.failure.stage}`
      : this.stateLabel({ ...this.header!, state: r.state, phase: null });
    this.el.result.className = `card result ${pass ? 'pass' : 'fail'}`;
    const t = this.task;
    const target = this.targetValLoss;
    const items: [string, string, string, Node | string | null][] = [
      ['Train time', 'r-train-time', formatDuration(r.trainTimeMs), t ? `record ${t.toRecord}: ${formatDuration(t.target.trainTimeMs)}` : null],
      ['Val loss', 'r-val-loss', formatNum(r.valLoss, 4), r.valLoss === null ? null
        : h('span', { class: r.valLoss <= target ? 'ok' : 'bad' }, r.valLoss <= target ? `pass (≤ ${target})` : `fail (> ${target})`)],
      ['FSR', 'r-fsr', formatNum(r.fsr, 3), t ? `records ${t.fromRecord} → ${t.toRecord}${typeof r.boxFsr === 'number' ? ` · ${r.boxFsr.toFixed(3)} on this box (calibrated)` : ''}` : null],
      ['Speedup', 'r-speedup', r.speedup !== null ? `×${r.speedup.toFixed(3)}` : '–', t ? `over record ${t.fromRecord}` : null],
      ['Steps', 'r-steps', r.nSteps !== null ? String(r.nSteps) : '–', null],
      ['Reproduction coverage', 'r-coverage', r.coverage ? `${Math.round(r.coverage.reproduced * 100)}%` : '–',
        r.coverage ? `${Math.round(r.coverage.extra * 100)}% of the change not in the reference` : 'not computed'],
    ];
    const err = r.error;
    fill(this.el.result,
      h('h2', {}, h('span', { class: 'verdict', 'data-testid': 'verdict' }, verdict),
        r.simulated ? h('span', { class: 'sim-tag', 'data-testid': 'simulated', title: 'The simulated GPU box: no training ran; the times are a demo, not a measurement.' }, 'SIMULATED') : null),
      h('dl', { class: 'stats' }, ...items
        // A run that did not finish has no score: show only what it did produce.
        .filter(([, , value]) => ended || value !== '–')
        .map(([label, id, value, sub]) => h('div', { class: 'stat' }, h('dt', {}, label), h('dd', { 'data-testid': id }, value),
          sub ? h('dd', { class: 'sub' }, sub) : null))),
      err ? h('div', { class: 'error', 'data-testid': 'error' },
        h('div', { class: 'err-msg' }, err.message),
        err.line !== null ? h('div', { class: 'err-where' }, 'at ', h('button', {
          type: 'button', class: 'link', 'data-testid': 'error-link', title: 'Open the script at this line',
          onclick: () => this.post({ type: 'openLine', line: err.line! }),
        }, `${err.file ? err.file.split(/[\\/]/).pop() : 'train_gpt2.py'}:${err.line}`)) : null)
        : r.failure ? h('div', { class: 'error', 'data-testid': 'error' },
          h('div', { class: 'err-msg' }, `${r.failure.stage}: ${r.failure.message}`)) : null,
      r.repeat ? this.repeatBlock(r.repeat) : null);
  }

  /** Run x K: mean ± sd over the repeats, the speedrun's t-test with its badge, Welch against the baseline, the chart. */
  private repeatBlock(c: RepeatCard) {
    const pm = (m: number | null, sd: number | null, digits: number, scale = 1, unit = '') =>
      m === null ? '–' : `${(m / scale).toFixed(digits)}${sd !== null ? ` ± ${(sd / scale).toFixed(digits)}` : ''}${unit}`;
    const NO_SPREAD = 'no verdict: the runs did not vary (same seed, or a deterministic box)';
    const pText = (p: number | null) => (p === null ? '–' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
    const badge = (ok: boolean, id: string, yes: string, no: string) => h('span', { class: `badge small ${ok ? 'pass' : 'fail'}`, 'data-testid': id }, ok ? yes : no);
    const f = c.faster;
    return h('div', { class: 'repeat', 'data-testid': 'repeat' },
      h('div', { class: 'lines' },
        h('div', {}, h('strong', {}, `Repeats ${c.valLosses.length}/${c.planned}`), ' · val loss ',
          h('span', { 'data-testid': 'repeat-val' }, pm(c.meanValLoss, c.sdValLoss, 4)), ' · train time ',
          h('span', { 'data-testid': 'repeat-time' }, pm(c.meanTrainTimeMs, c.sdTrainTimeMs, 1, 1000, ' s'))),
        h('div', {}, 'p = ', h('span', { 'data-testid': 'repeat-p' }, pText(c.p)), ` (mean below ${c.threshold}, one-sided t-test) `,
          c.pass === null ? h('span', { class: 'muted' }, 'needs 2 finished runs')
            : c.noSpread ? h('span', { class: 'muted', 'data-testid': 'repeat-no-spread' }, NO_SPREAD)
              : badge(c.pass, 'repeat-badge', 'PASS p < 0.01', 'FAIL')),
        f ? h('div', { 'data-testid': 'repeat-faster' }, `baseline ${pm(f.baselineMeanMs, f.baselineSdMs, 1, 1000, ' s')} (n ${f.n}) · Welch p = ${pText(f.p)} `,
          f.noSpread ? h('span', { class: 'muted' }, NO_SPREAD) : badge(f.pass, 'repeat-faster-badge', 'faster', 'not shown faster')) : null),
      significanceChart(c));
  }

  private renderRuns() {
    const current = this.header?.runId;
    // Steps and step time ('opt') give way first when the panel is narrow (dashboard.css); validity is a mark
    // beside the val loss, so the table fits beside the script.
    const cols: { key: SortKey | null; label: string; cls?: string }[] = [
      { key: null, label: 'Overlay' }, { key: 'createdAt', label: 'Run' }, { key: null, label: 'State' },
      { key: 'trainTimeMs', label: 'Time', cls: 'num' }, { key: 'valLoss', label: 'Val loss', cls: 'num' },
      { key: 'fsr', label: 'FSR', cls: 'num' }, { key: 'steps', label: 'Steps', cls: 'num opt' },
      { key: 'stepAvgMs', label: 'Step time', cls: 'num opt' }, { key: null, label: '' },
    ];
    const sort = this.ui.sort;
    const head = h('tr', {}, ...cols.map((c) => {
      if (!c.key) return h('th', { scope: 'col', class: c.cls }, c.label);
      const key = c.key;
      const active = sort.key === key;
      return h('th', { scope: 'col', class: c.cls, 'aria-sort': active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none' },
        h('button', {
          type: 'button', class: 'sort', 'data-sort': key,
          onclick: () => {
            this.ui.sort = { key, dir: active && sort.dir === 'asc' ? 'desc' : 'asc' };
            this.stale.runs = true;
            this.changed();
          },
        }, c.label, active ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''));
    }));
    const rows = sortRuns(this.runs, sort).map((r) => {
      const isCurrent = r.runId === current;
      const overlay = h('input', {
        type: 'checkbox', 'aria-label': `Overlay ${r.runId}`, disabled: isCurrent,
        checked: isCurrent || this.ui.overlays.includes(r.runId),
        onchange: (e: Event) => {
          const on = (e.target as HTMLInputElement).checked;
          this.ui.overlays = on ? [...this.ui.overlays, r.runId] : this.ui.overlays.filter((id) => id !== r.runId);
          this.saveState();
          this.post({ type: 'setOverlays', runIds: this.ui.overlays });
        },
      });
      return h('tr', { class: isCurrent ? 'current' : undefined, 'data-run': r.runId },
        h('td', {}, overlay),
        h('td', {}, isCurrent ? h('span', { class: 'run-id', title: 'Shown above' }, r.runId)
          : h('button', { type: 'button', class: 'link run-id', title: 'Open this run', onclick: () => this.post({ type: 'openRun', runId: r.runId }) }, r.runId)),
        h('td', {}, h('span', { class: 'badge small', 'data-state': r.state }, r.state)),
        h('td', { class: 'num' }, formatDuration(r.trainTimeMs)),
        h('td', { class: 'num' }, formatNum(r.valLoss, 4), r.valid === null ? null
          : h('span', { class: `mark ${r.valid ? 'ok' : 'bad'}`, 'data-testid': 'valid', title: r.valid ? 'Valid: val loss ≤ 3.28' : 'Not valid' }, r.valid ? '✓' : '✗')),
        h('td', { class: 'num' }, formatNum(r.fsr, 3)),
        h('td', { class: 'num opt' }, r.steps !== null ? String(r.steps) : '–'),
        h('td', { class: 'num opt' }, r.stepAvgMs !== null ? `${r.stepAvgMs.toFixed(2)} ms` : '–'),
        h('td', {}, isCurrent ? '' : h('button', {
          type: 'button', class: 'link', title: `Diff the scripts of ${current ?? 'this run'} and ${r.runId}`,
          onclick: () => this.post({ type: 'compareRuns', runId: r.runId }),
        }, 'Diff')));
    });
    fill(this.el.runs, h('h2', {}, `Runs (${this.runs.length})`),
      this.runs.length
        ? h('div', { class: 'table-box' }, h('table', { 'data-testid': 'runs-table' }, h('thead', {}, head), h('tbody', {}, ...rows)))
        : h('p', { class: 'muted' }, 'No runs of this task yet.'));
  }

  /** JSON for tests: what the header says and how many points each chart holds. */
  private writeTestState() {
    const hd = this.header;
    this.el.testState.textContent = JSON.stringify({
      runId: hd?.runId ?? null,
      header: hd && {
        state: hd.state, phase: hd.phase, step: hd.step, totalSteps: hd.totalSteps, stepAvgMs: hd.stepAvgMs,
        trainTimeMs: hd.trainTimeMs, projectedTrainTimeMs: hd.projectedTrainTimeMs, projectedFsr: hd.projectedFsr,
      },
      points: { train: this.train.length, val: this.val.length },
      curves: [...this.records, ...this.overlays].map((c) => ({ id: c.id, kind: c.kind, label: c.label, points: c.points.length })),
      charts: this.charts.snapshot(),
      result: this.result,
      runs: this.runs.length,
      pinned: this.ui.pinned,
      ui: { axis: this.ui.axis, log: this.ui.log, outliers: this.ui.outliers, smoothing: this.ui.smoothing, overlays: this.ui.overlays },
      cspViolations,
      renders: this.renders,
      lastRenderMs: this.lastRenderMs,
    });
  }
}

new App(document.getElementById('app')!);
