// Streaming parser for the console output of `torchrun train_gpt2.py` (records 1-21 and modded-nanogpt's later
// records). Line shapes are in docs/log-format.md. Every regex is anchored on the whole line, so
// the source code that records 18+ echo to stdout (it contains the f-string templates, e.g. `step:{step}/...`)
// never matches: a template has `{` where a log line has digits.
import { StringDecoder } from 'node:string_decoder';
import type { ErrorKind, FinalResult, LogEvent, LogParser, ParsedLog, Phase, ScriptError, TrainStep, ValPoint } from './types';
import { TARGET_VAL_LOSS } from '../benchmark/types';

export interface LogParserOptions {
  /** Basenames of the user's script; a traceback frame in one of them is the error's location. */
  scriptNames?: string[];
  /** Longer physical lines are cut to this many characters (memory stays bounded on garbage input). */
  maxLineLength?: number;
  /** Validity gate on the final val loss (the benchmark's search-time gate is 3.28). */
  targetValLoss?: number;
  /** Train points a summary holds at most (thinned evenly beyond); every val point is always kept. */
  maxTrainPoints?: number;
}

type Outcome = Parameters<LogParser['end']>[0];
type TrainEvent = { type: 'train' } & TrainStep;
type ValEvent = { type: 'val' } & ValPoint;

const NUM = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf`;
const N = `(${NUM})`;
// Records 4-21 and later: `step:s/N val_loss:x train_time:tms step_avg:ams` (V; records 1-3's V0 has no step_avg)
// and `step:s/N [train_loss:x ]train_time:tms step_avg:ams` (T1 records 4-14, T2 from 15): see scanStep().
// A / A' / A'' (records 1-3): `step    s/N | train loss x | norm y | lr z | (ms ms | tok/s tok/s)`.
const OLD_RE = new RegExp(String.raw`^step\s+(\d+)/(\d+) \| train loss ${N} \|(?: norm ${N} \|)? lr(?:_scale)? ${N} \| \(${N} ms \| ${N} tok/s\)$`);
// The separate val line of records 1-3: a float, or `tensor(3.2813, device='cuda:0')`.
const VLOSS_RE = new RegExp(String.raw`^val loss (?:tensor\()?${N}(?:, device='[\w:]+'\))?$`);
const MEM_RE = /^peak memory (?:consumption|allocated): (\d+) MiB(?: reserved: (\d+) MiB)?$/;

// torchrun worker output may be prefixed `[rank3]:` (or `[default3]:` with --tee), usually followed by one space.
const RANK_RE = /^\[(?:rank|default)(\d+)\]: ?/;
// eslint-disable-next-line no-control-regex -- matching terminal escape sequences is the point
const ANSI_RE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
const FRAME_RE = /^\s+File "([^"]+)", line (\d+)(?:, in (.*))?$/;
const EXC_RE = /^([A-Za-z_][\w.]*)(?::[ ]?(.*))?$/;
const DEATH_RE = /Received (\d+) death signal, shutting down workers/;
const GOT_SIGNAL_RE = /got signal: (\d+)/;
const NCCL_LINE_RE = /Watchdog caught collective operation timeout|^\[?[EF]\d{4} .*NCCL|^NCCL error|^\S+ \[\d+\] NCCL WARN/;
const ROOT_KV_RE = /^\s*(rank|exitcode)\s*: (.*)$/;
// torchrun's own log lines: `W1126 14:02:11.123000 4242 torch/distributed/...] ...`.
const GLOG_RE = /^\[?[IWEF]\d{4} \d\d:\d\d:\d\d/;
// The first statement of an echoed script.
const ECHO_START_RE = /^(?:import \w|from [\w.]+ import |#!|"""|'''|# )/;

const SIGNAL_NAMES: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };
const MAX_MESSAGE = 500;

interface Traceback {
  frames: { file: string; line: number }[];
  /** Line countdown for a bare `File "x", line N` (a SyntaxError has no Traceback header). */
  bareFrameTtl: number;
  open: boolean;
}

function num(s: string | undefined): number {
  if (s === undefined) return NaN;
  const t = s.toLowerCase();
  if (t.endsWith('nan')) return NaN;
  if (t.endsWith('inf')) return t.startsWith('-') ? -Infinity : Infinity;
  return Number(s);
}

function signalName(n: number): string {
  return SIGNAL_NAMES[n] ?? `signal ${n}`;
}

function clip(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s;
}

/** A copy of `s` that doesn't keep the (possibly huge) chunk it was cut from alive. */
function own(s: string): string {
  return (' ' + s).slice(1);
}

/** The validation at the last step (the total is unknown, 0, on a `val loss` line before any train line). */
function isLastVal(p: ValPoint): boolean {
  return p.totalSteps > 0 && p.step >= p.totalSteps;
}

function basename(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i < 0 ? p : p.slice(i + 1);
}

function classify(name: string, message: string): ErrorKind {
  const text = `${name}: ${message}`;
  if (/OutOfMemoryError|out of memory/i.test(text)) return 'oom';
  if (/NCCL|DistBackendError/.test(text)) return 'nccl';
  if (/(^|\.)(SyntaxError|IndentationError|TabError)$/.test(name)) return 'syntax';
  if (/(^|\.)(ImportError|ModuleNotFoundError)$/.test(name)) return 'import';
  if (/SignalException$/.test(name)) return 'signal';
  return 'exception';
}

// ---- hand-written scanner for `step:` lines --------------------------------------------------------------------
// These are nearly every line of a log, so they skip the regexes and allocate nothing but the results. It accepts
// exactly the TRAIN and VAL shapes above (the unit tests check both against the same fixtures). Helpers take the
// index to read at and return the index after what they read (-1: no match), leaving the number in `sc.v`.
const NUM_Y = new RegExp(`(?:${NUM})`, 'y');
const UDEC_Y = /\d+(?:\.\d+)?/y;
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const sc = { v: 0, step: 0, total: 0, loss: 0, hasLoss: false, time: 0, avg: 0, hasAvg: false };

function uint(s: string, i: number, end: number): number {
  const start = i;
  let v = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  sc.v = v;
  return i > start && i - start < 16 ? i : -1;
}

/** Matches `word` at i (a word never holds \n or \r, so it can't match past the end of a line). */
function lit(s: string, i: number, word: string): number {
  if (i < 0) return -1;
  for (let k = 0; k < word.length; k++) if (s.charCodeAt(i + k) !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/**
 * A plain `123` or `123.45` (the scripts' `{:.4f}`) computed from its digits: m / 10^k is the correctly rounded
 * value, the same as Number(). Anything else (signs, exponents, nan, inf, long mantissas) goes through `slow`.
 */
function decimal(s: string, i: number, end: number, slow: RegExp): number {
  if (i < 0) return -1;
  const start = i;
  let m = 0;
  let digits = 0;
  let c = 0;
  for (; i < end; i++) {
    c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    m = m * 10 + (c - 48);
    digits++;
  }
  let k = 0;
  if (digits > 0 && c === 46 /* . */) {
    for (i++; i < end; i++) {
      c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      m = m * 10 + (c - 48);
      k++;
    }
    digits = k === 0 ? 99 : digits + k; // `5.` is for the regex to judge
  }
  const next = i < end ? s.charCodeAt(i) : -1;
  if (digits > 0 && digits < 16 && next !== 101 && next !== 69 /* e E */) {
    sc.v = k ? m / POW10[k] : m;
    return i;
  }
  slow.lastIndex = start;
  const r = slow.exec(s);
  if (!r || slow.lastIndex > end) return -1;
  sc.v = num(r[0]);
  return slow.lastIndex;
}

const enum StepShape {
  None,
  Train,
  Val,
}

/** Scans `step:s/N ...` (TRAIN or VAL) in s[from, end) into `sc`; s[from, from + 5) is `step:`. */
function scanStep(s: string, from: number, end: number): StepShape {
  let i = uint(s, from + 5, end);
  if (i < 0) return StepShape.None;
  sc.step = sc.v;
  i = lit(s, i, '/');
  if (i < 0 || (i = uint(s, i, end)) < 0) return StepShape.None;
  sc.total = sc.v;
  if (s.charCodeAt(i + 1) === 0x76 /* v */) {
    i = decimal(s, lit(s, i, ' val_loss:'), end, NUM_Y);
    if (i < 0) return StepShape.None;
    sc.loss = sc.v;
    i = lit(s, decimal(s, lit(s, i, ' train_time:'), end, UDEC_Y), 'ms');
    if (i < 0) return StepShape.None;
    sc.time = sc.v;
    sc.hasAvg = i < end;
    if (sc.hasAvg) {
      i = lit(s, decimal(s, lit(s, i, ' step_avg:'), end, NUM_Y), 'ms');
      sc.avg = sc.v;
    }
    return i === end ? StepShape.Val : StepShape.None;
  }
  const j = lit(s, i, ' train_loss:');
  sc.hasLoss = j >= 0;
  if (sc.hasLoss) {
    i = decimal(s, j, end, NUM_Y);
    sc.loss = sc.v;
  }
  i = lit(s, decimal(s, lit(s, i, ' train_time:'), end, UDEC_Y), 'ms step_avg:');
  if (i < 0) return StepShape.None;
  sc.time = sc.v;
  i = lit(s, decimal(s, i, end, NUM_Y), 'ms');
  sc.avg = sc.v;
  return i === end ? StepShape.Train : StepShape.None;
}

/**
 * The run's train steps as numbers in fixed blocks: no object per line keeps the garbage collector out of the
 * parser's way (the events handed out die young once used). Memory is bounded: past `max` points the series is
 * thinned evenly (every other point dropped, then every 4th line kept, and so on), and the last step is always
 * kept, so a chart and the step rate read the same, whatever the log's size.
 */
const STRIDE = 7; // step, total, train time, step avg, loss, step ms, flags (1: loss printed, 2: step ms printed)
const BLOCK = 4096;
/** Default bound on the train points a summary holds (a real run has up to ~25,000 train lines). */
export const MAX_TRAIN_POINTS = 8192;

class TrainColumns {
  /** Points held. */
  length = 0;
  private seen = 0;
  /** Keep one line in `every` (a power of two). */
  private every = 1;
  private readonly blocks: Float64Array[] = [];
  private readonly last = new Float64Array(STRIDE);
  private lastHeld = false;

  constructor(private readonly max: number) {}

  push(t: TrainStep): void {
    const l = this.last;
    l[0] = t.step;
    l[1] = t.totalSteps;
    l[2] = t.trainTimeMs;
    l[3] = t.stepAvgMs;
    l[4] = t.trainLoss ?? 0;
    l[5] = t.stepMs ?? 0;
    l[6] = (t.trainLoss !== undefined ? 1 : 0) | (t.stepMs !== undefined ? 2 : 0);
    this.lastHeld = this.seen++ % this.every === 0;
    if (!this.lastHeld) return;
    if (this.length === this.max) this.thin();
    const j = this.length % BLOCK;
    if (j === 0 && this.blocks.length * BLOCK <= this.length) this.blocks.push(new Float64Array(BLOCK * STRIDE));
    this.blocks[Math.floor(this.length / BLOCK)].set(l, j * STRIDE);
    this.length++;
  }

  /** Drops every other held point (they were taken one in `every` lines; now one in 2 * every). */
  private thin(): void {
    for (let i = 1; 2 * i < this.length; i++) {
      const from = 2 * i;
      this.blocks[Math.floor(i / BLOCK)].set(this.blocks[Math.floor(from / BLOCK)].subarray((from % BLOCK) * STRIDE, (from % BLOCK + 1) * STRIDE), (i % BLOCK) * STRIDE);
    }
    this.length = Math.ceil(this.length / 2);
    this.every *= 2;
  }

  lastStep(): number {
    return this.seen ? this.last[0] : 0;
  }

  lastTime(): number {
    return this.seen ? this.last[2] : 0;
  }

  /** Lines seen, not points held. */
  get count(): number {
    return this.seen;
  }

  toSteps(): TrainStep[] {
    const n = this.length + (this.seen && !this.lastHeld ? 1 : 0);
    const out: TrainStep[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const b = i < this.length ? this.blocks[Math.floor(i / BLOCK)] : this.last;
      const o = i < this.length ? (i % BLOCK) * STRIDE : 0;
      const t: TrainStep = { step: b[o], totalSteps: b[o + 1], trainTimeMs: b[o + 2], stepAvgMs: b[o + 3] };
      if (b[o + 6] & 1) t.trainLoss = b[o + 4];
      if (b[o + 6] & 2) t.stepMs = b[o + 5];
      out[i] = t;
    }
    return out;
  }
}

class Parser implements LogParser {
  private readonly scriptNames: Set<string>;
  private readonly maxLine: number;
  private readonly target: number;
  private readonly decoder = new StringDecoder('utf8');

  private rest = '';
  private overflow = false;
  private out: LogEvent[] = [];
  private started = false;
  private ended = false;

  private phase: Phase = 'compiling';
  private readonly val: ValEvent[] = [];
  private readonly train: TrainColumns;
  private peakMemoryMiB: number | null = null;
  private error: ScriptError | null = null;
  private final: FinalResult | null = null;

  private totalSteps = 0;
  private valEvery = 0;
  private oldTimeMs = 0; // records 1-3: running sum of per-step times
  private oldSteps = 0;
  /** A `val loss x` line waits here: a V0 line for the same validation may follow and supersedes it. */
  private pendingVloss: number | null = null;
  private sawValSinceTrain = false;

  private readonly tracebacks = new Map<string, Traceback>();
  private deathSignal: number | null = null;
  /** Set while reading the "Root Cause (first observed failure)" block of torchrun's ChildFailedError. */
  private rootCause: { rank?: string; exitcode?: number } | null = null;

  constructor(opts: LogParserOptions = {}) {
    this.scriptNames = new Set(opts.scriptNames ?? ['train_gpt2.py', 'train_gpt.py']);
    this.maxLine = Math.max(256, opts.maxLineLength ?? 16384);
    this.target = opts.targetValLoss ?? TARGET_VAL_LOSS;
    this.train = new TrainColumns(Math.max(16, opts.maxTrainPoints ?? MAX_TRAIN_POINTS) & ~1); // even: see thin()
  }

  push(chunk: string | Uint8Array): LogEvent[] {
    this.begin();
    try {
      const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
      this.feed(text);
    } catch {
      // Never throw on input: a bug here must not take the run view down. Whatever was parsed stays.
    }
    return this.take();
  }

  end(outcome?: Outcome): LogEvent[] {
    this.begin();
    if (this.ended) return this.take();
    this.ended = true;
    try {
      const tail = this.decoder.end();
      if (tail) this.feed(tail);
      const rest = this.rest;
      this.rest = '';
      this.overflow = false;
      this.line(rest);
      this.flushVloss();
      this.finish(outcome);
    } catch {
      // see push()
    }
    return this.take();
  }

  summary(): ParsedLog {
    return {
      val: this.val.map(({ type: _t, ...p }) => p),
      train: this.train.toSteps(),
      final: this.final,
      peakMemoryMiB: this.peakMemoryMiB,
      error: this.error,
      phase: this.phase,
    };
  }

  private begin(): void {
    if (!this.started) {
      this.started = true;
      this.out.push({ type: 'phase', phase: this.phase });
    }
  }

  private take(): LogEvent[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  // Splits on \n, \r\n and lone \r (progress output redraws with \r; the parts are separate lines). Empty lines
  // carry nothing, so a \r\n split across two chunks gives the same events as one chunk.
  private feed(text: string): void {
    if (this.ended || text.length === 0) return;
    let pos = 0;
    if (this.rest || this.overflow) {
      const nl = text.search(/[\r\n]/);
      if (nl < 0) {
        this.appendRest(text);
        return;
      }
      this.appendRest(text.slice(0, nl));
      const head = this.rest;
      this.rest = '';
      this.overflow = false;
      this.line(head);
      pos = nl + 1;
    }
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      this.physical(text, pos, nl);
      pos = nl + 1;
    }
    if (pos < text.length) {
      // Complete \r-terminated pieces of the unterminated tail are lines too.
      const cr = text.lastIndexOf('\r');
      if (cr >= pos) {
        this.physical(text, pos, cr);
        pos = cr + 1;
      }
      if (pos < text.length) this.appendRest(text.slice(pos));
    }
  }

  /** Keeps at most maxLine characters of an unterminated line; the rest of an over-long line is dropped. */
  private appendRest(s: string): void {
    if (this.overflow) return;
    const room = this.maxLine - this.rest.length;
    if (s.length <= room) {
      this.rest += s;
    } else {
      this.rest += s.slice(0, room);
      this.overflow = true;
    }
  }

  /** One \n-terminated piece of `text`; lone \r inside it separate lines too. Each line is cut to maxLine. */
  private physical(text: string, from: number, to: number): void {
    if (to === from) return;
    const max = this.maxLine;
    // Fast path for the bulk of a log: a plain `step:` line is scanned in place, without cutting it out.
    if (to - from <= max && lit(text, from, 'step:') > 0 && this.stepColon(text, from, to)) return;
    const whole = text.slice(from, to);
    if (whole.indexOf('\r') < 0) {
      this.line(whole.length > max ? whole.slice(0, max) : whole);
      return;
    }
    for (const part of whole.split('\r')) if (part) this.line(part.length > max ? part.slice(0, max) : part);
  }

  // ---- one line ------------------------------------------------------------------------------------------------

  private line(raw: string): void {
    if (raw.length === 0) return;
    let s = raw;
    if (s.indexOf('\x1b') >= 0) s = s.replace(ANSI_RE, '');
    let key = '';
    if (s.charCodeAt(0) === 0x5b /* [ */) {
      const m = RANK_RE.exec(s);
      if (m) {
        key = m[1];
        s = s.slice(m[0].length);
      }
    }
    s = s.trimEnd();
    if (s.length === 0) return;
    const c = s.charCodeAt(0);
    if (c === 0x73 && s.startsWith('step')) {
      if (this.stepLine(s)) return;
    } else if (c === 0x76 && s.startsWith('val loss ')) {
      const m = VLOSS_RE.exec(s);
      if (m) {
        this.pendingVloss = num(m[1]);
        return;
      }
    } else if (c === 0x70 && s.startsWith('peak memory ')) {
      const m = MEM_RE.exec(s);
      if (m) {
        this.flushVloss();
        this.peakMemoryMiB = Number(m[1]);
        this.out.push(m[2] ? { type: 'memory', peakMiB: Number(m[1]), reservedMiB: Number(m[2]) } : { type: 'memory', peakMiB: Number(m[1]) });
        return;
      }
    }
    if (this.pendingVloss !== null && s.trim()) this.flushVloss();
    this.errorLine(key, s);
  }

  private stepLine(s: string): boolean {
    if (s.charCodeAt(4) === 0x3a /* : */) return this.stepColon(s, 0, s.length);
    const m = OLD_RE.exec(s);
    if (!m) return false;
    this.flushVloss();
    const stepMs = num(m[6]);
    if (Number.isFinite(stepMs)) {
      this.oldTimeMs += stepMs;
      this.oldSteps++;
    }
    this.onTrain({
      type: 'train',
      step: Number(m[1]),
      totalSteps: Number(m[2]),
      trainLoss: num(m[3]),
      trainTimeMs: Math.round(this.oldTimeMs),
      stepAvgMs: this.oldSteps ? this.oldTimeMs / this.oldSteps : NaN,
      stepMs,
    });
    return true;
  }

  /** A TRAIN or VAL line (records 4-21 and later; V0 of records 1-3) in s[from, end). */
  private stepColon(s: string, from: number, end: number): boolean {
    const shape = scanStep(s, from, end);
    if (shape === StepShape.Train) {
      this.flushVloss();
      this.onTrain(
        sc.hasLoss
          ? { type: 'train', step: sc.step, totalSteps: sc.total, trainLoss: sc.loss, trainTimeMs: sc.time, stepAvgMs: sc.avg }
          : { type: 'train', step: sc.step, totalSteps: sc.total, trainTimeMs: sc.time, stepAvgMs: sc.avg },
      );
      return true;
    }
    if (shape === StepShape.Val) {
      this.pendingVloss = null; // a V0 line and its `val loss` twin describe the same validation
      this.onVal(
        sc.hasAvg
          ? { type: 'val', step: sc.step, totalSteps: sc.total, valLoss: sc.loss, trainTimeMs: sc.time, stepAvgMs: sc.avg }
          : { type: 'val', step: sc.step, totalSteps: sc.total, valLoss: sc.loss, trainTimeMs: sc.time },
      );
      return true;
    }
    return false;
  }

  private onTrain(t: TrainEvent): void {
    this.totalSteps = t.totalSteps;
    this.train.push(t);
    this.sawValSinceTrain = false;
    // The scripts validate every `val_loss_every` steps and at the last step, right after this step's line.
    const validating = t.step === t.totalSteps || (this.valEvery > 0 && t.step % this.valEvery === 0);
    this.setPhase(validating ? 'validating' : 'training');
    this.out.push(t);
  }

  // A val event object is also the summary's entry (there are few); summary() strips `type`.
  private onVal(p: ValEvent): void {
    this.totalSteps = p.totalSteps;
    const prev = this.val[this.val.length - 1];
    if (prev && p.step > prev.step) this.valEvery = p.step - prev.step;
    this.val.push(p);
    this.sawValSinceTrain = true;
    // Step 0's validation runs before the first training step, which is still compiling; after the last one
    // the script only wraps up, so it stays "validating" until the process ends.
    if ((p.step > 0 || this.train.count > 0) && !isLastVal(p)) this.setPhase('training');
    this.out.push(p);
    this.final = {
      n_steps: p.step,
      val_loss: p.valLoss,
      train_time: p.trainTimeMs,
      is_valid: Number.isFinite(p.valLoss) && p.valLoss <= this.target,
    };
    if (isLastVal(p)) this.out.push({ type: 'final', result: this.final });
  }

  /** Records 1-3 print `val loss x` on stdout without the step; it belongs to the step just trained. */
  private flushVloss(): void {
    if (this.pendingVloss === null) return;
    const v = this.pendingVloss;
    this.pendingVloss = null;
    if (this.sawValSinceTrain) return;
    this.onVal({ type: 'val', step: this.train.lastStep(), totalSteps: this.totalSteps, valLoss: v, trainTimeMs: this.train.lastTime() });
  }

  private setPhase(p: Phase): void {
    if (this.phase === p) return;
    if (this.phase === 'failed' || this.phase === 'cancelled' || this.phase === 'finished') return;
    this.phase = p;
    this.out.push({ type: 'phase', phase: p });
  }

  // ---- errors --------------------------------------------------------------------------------------------------
  // Error precedence: the first Python exception of a worker wins (it has the file and line); a hint from a plain
  // line (NCCL watchdog) or torchrun's Root Cause block only fills in when no exception was seen. Once torchrun
  // got a death signal, what the dying workers print is a consequence, not the cause.

  private errorLine(key: string, s: string): void {
    if (this.rootCause) {
      this.rootCauseLine(s);
      return;
    }
    const c = s.charCodeAt(0);
    if (this.echoGuard(key, s, c)) return;
    let tb = this.tracebacks.get(key);
    if (c === 0x54 /* T */ && s === 'Traceback (most recent call last):') {
      this.tracebacks.set(key, { frames: [], bareFrameTtl: 0, open: true });
      return;
    }
    if (c === 0x20 || c === 0x09) {
      const f = s.startsWith('  File "') ? FRAME_RE.exec(s) : null;
      if (f) {
        if (!tb) {
          tb = { frames: [], bareFrameTtl: 0, open: false };
          this.tracebacks.set(key, tb);
        }
        if (!tb.open) {
          // A bare frame: Python reports a SyntaxError in the main script without a Traceback header.
          tb.frames = [];
          tb.bareFrameTtl = 4;
        }
        tb.frames.push({ file: f[1], line: Number(f[2]) });
      }
      return;
    }
    if (tb && (tb.open || tb.bareFrameTtl > 0)) {
      const m = EXC_RE.exec(s);
      const bare = !tb.open;
      if (m && (!bare || /(SyntaxError|IndentationError|TabError)$/.test(m[1]))) {
        this.tracebacks.delete(key);
        this.onException(key, m[1], m[2] ?? '', tb.frames);
        return;
      }
      if (bare) tb.bareFrameTtl--;
      else this.tracebacks.delete(key);
    }
    if (this.childFailed && s.startsWith('Root Cause')) {
      this.rootCause = {};
      return;
    }
    const d = DEATH_RE.exec(s);
    if (d) {
      this.onDeathSignal(Number(d[1]));
      return;
    }
    if (NCCL_LINE_RE.test(s) && this.deathSignal === null) this.setError({ kind: 'nccl', message: clip(s), file: null, line: null }, 1);
  }

  /**
   * Records 18+ echo their source before training. While it streams, unprefixed lines are code, and a docstring
   * may even hold a traceback; the echo starts with the script's first statement and ends at the `=====` rule
   * the scripts print after it (or at the first torchrun log line, in case a script drops the rule).
   */
  private echoGuard(key: string, s: string, c: number): boolean {
    if (this.echoKey !== null) {
      if (key !== this.echoKey) return false; // another rank's output interleaved with the echo
      if (c === 0x3d /* = */ && /^={20,}$/.test(s)) {
        this.echoKey = null;
      } else if (GLOG_RE.test(s)) {
        this.echoKey = null;
        return false;
      }
      return true;
    }
    if (this.phase === 'compiling' && this.train.count === 0 && this.tracebacks.size === 0 && ECHO_START_RE.test(s)) {
      this.echoKey = key;
      return true;
    }
    return false;
  }

  /** The rank prefix ('' for none) of the source echo being read, or null outside it. */
  private echoKey: string | null = null;

  private onException(key: string, name: string, message: string, frames: { file: string; line: number }[]): void {
    const kind = classify(name, message);
    if (/ChildFailedError$/.test(name)) {
      this.childFailed = true; // torchrun's wrapper: the useful part is the "Root Cause" block that follows
      return;
    }
    if (kind === 'signal') {
      const g = GOT_SIGNAL_RE.exec(message);
      this.onDeathSignal(g ? Number(g[1]) : 15);
      return;
    }
    if (this.deathSignal !== null) return;
    let where: { file: string; line: number } | null = null;
    for (let i = frames.length - 1; i >= 0 && !where; i--) if (this.scriptNames.has(basename(frames[i].file))) where = frames[i];
    if (this.errorStrength === 2 && this.errorKey === key && !this.errorInScript && where) {
      // A chained traceback ("The above exception was the direct cause ...") of the first exception: it reaches
      // into the user's script, so it gives the location the first one lacked.
      this.errorInScript = true;
      this.setError({ ...this.error!, file: where.file, line: where.line }, 2, true);
      return;
    }
    const inScript = where !== null;
    if (!where && frames.length) where = frames[frames.length - 1];
    if (this.setError({ kind, message: clip(message ? `${name}: ${message}` : name), file: where?.file ?? null, line: where?.line ?? null }, 2)) {
      this.errorKey = key;
      this.errorInScript = inScript;
    }
  }

  private childFailed = false;
  private errorStrength = 0; // 0 none, 1 from a plain line or torchrun's summary, 2 a worker's exception, 3 timeout
  private errorKey = '';
  private errorInScript = false;

  private rootCauseLine(s: string): void {
    const rc = this.rootCause!;
    const kv = ROOT_KV_RE.exec(s);
    if (kv) {
      if (kv[1] === 'rank') rc.rank = kv[2].replace(/\s*\(.*\)$/, '').trim();
      else rc.exitcode = parseInt(kv[2], 10);
      return;
    }
    if (!/^=+$/.test(s)) return;
    this.rootCause = null;
    this.childFailed = false;
    const who = rc.rank ? `rank ${rc.rank}` : 'a worker';
    const code = rc.exitcode;
    if (code !== undefined && code < 0) {
      if (this.deathSignal === null) this.setError({ kind: 'signal', message: `${who} was killed by ${signalName(-code)}`, file: null, line: null }, 1);
    } else {
      this.setError({ kind: 'exception', message: `${who} failed with exit code ${code ?? '?'} (torchrun ChildFailedError)`, file: null, line: null }, 1);
    }
    this.setPhase(this.isCancelSignal() ? 'cancelled' : 'failed');
  }

  private isCancelSignal(): boolean {
    return this.deathSignal === 15 || this.deathSignal === 2;
  }

  private onDeathSignal(sig: number): void {
    if (this.deathSignal !== null) return;
    this.deathSignal = sig;
    this.setError({ kind: 'signal', message: `torchrun received ${signalName(sig)} and stopped the workers`, file: null, line: null }, 1);
  }

  /** Sets the run's error unless a stronger (or equally strong, earlier) one is known; returns whether it did. */
  private setError(e: ScriptError, strength: number, replace = false): boolean {
    if (this.error && !replace && this.errorStrength >= strength) return false;
    this.error = { ...e, message: own(e.message), file: e.file === null ? null : own(e.file) };
    this.errorStrength = strength;
    this.out.push({ type: 'error', error: this.error });
    return true;
  }

  // ---- end -----------------------------------------------------------------------------------------------------

  private finish(o: Outcome): void {
    const last = this.val[this.val.length - 1];
    if (last && !isLastVal(last)) {
      // No final validation in the log: the last one still is the run's result (the benchmark takes the last line).
      this.out.push({ type: 'final', result: this.final! });
    }
    const known = o && (o.cancelled || o.timedOut || o.exitCode !== null || o.signal);
    let phase: Phase;
    if (known) {
      if (o!.timedOut) {
        if (!this.error || this.error.kind === 'signal') this.setError({ kind: 'timeout', message: 'The run passed its time limit and was stopped', file: null, line: null }, 3, true);
        phase = 'failed';
      } else if (o!.cancelled) {
        if (!this.error) this.setError({ kind: 'signal', message: 'Cancelled', file: null, line: null }, 1);
        phase = 'cancelled';
      } else if (o!.exitCode === 0) {
        this.error = null; // a traceback the run survived was not fatal
        phase = 'finished';
      } else {
        if (!this.error) {
          const message = o!.signal ? `torchrun was killed by ${o!.signal}` : `torchrun exited with code ${o!.exitCode}`;
          this.setError({ kind: o!.signal ? 'signal' : 'exception', message, file: null, line: null }, 1);
        }
        phase = 'failed';
      }
    } else if (this.error) {
      phase = this.error.kind === 'signal' && this.isCancelSignal() ? 'cancelled' : 'failed';
    } else if (last && isLastVal(last)) {
      phase = 'finished';
    } else {
      return; // a log that just stops (still running, or truncated): keep the last phase
    }
    this.phase = this.phase === phase ? phase : (this.out.push({ type: 'phase', phase }), phase);
  }
}

export function createLogParser(opts?: LogParserOptions): LogParser {
  return new Parser(opts);
}

/** Parses a whole log at once. Fed in 64 KiB pieces whose events are dropped: only the summary is kept. */
export function parseLogText(text: string | Uint8Array, opts?: LogParserOptions, outcome?: Outcome): ParsedLog {
  const p = createLogParser(opts);
  const piece = 64 * 1024;
  for (let i = 0; i < text.length; i += piece) p.push(typeof text === 'string' ? text.slice(i, i + piece) : text.subarray(i, i + piece));
  p.end(outcome);
  return p.summary();
}
