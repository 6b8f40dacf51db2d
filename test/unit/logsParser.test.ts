import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createLogParser, parseLogText } from '../../src/core/logs/parser';
import type { LogEvent, ParsedLog } from '../../src/core/logs/types';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/logs');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const parseFixture = (name: string, outcome?: Parameters<typeof parseLogText>[2]) => parseLogText(fixture(name), undefined, outcome);

function eventsOf(chunks: (string | Uint8Array)[], outcome?: Parameters<typeof parseLogText>[2]): LogEvent[] {
  const p = createLogParser();
  const out: LogEvent[] = [];
  for (const c of chunks) out.push(...p.push(c));
  out.push(...p.end(outcome));
  return out;
}

// NaN-aware serialisation: comparing thousands of event lists this way is far cheaper than deepStrictEqual.
const key = (evs: LogEvent[]) => JSON.stringify(evs, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

const phases = (evs: LogEvent[]) => evs.flatMap((e) => (e.type === 'phase' ? [e.phase] : []));

suite('logs: line shapes of every record', () => {
  test('record 1 (A with norm, V0 plus its `val loss` twin, M1, final 20 iters avg)', () => {
    const log = parseFixture('rec01-old-norm.log');
    assert.equal(log.train.length, 40);
    const first = log.train[0];
    assert.deepEqual([first.step, first.totalSteps, first.stepMs, first.trainTimeMs], [1, 40, 103512.44, 103512]);
    assert.ok(first.trainLoss! > 10 && first.trainLoss! < 11);
    // Records 1-3 count every step, the compiling first one too: train_time is the running sum of step times.
    const last = log.train[39];
    assert.ok(Math.abs(last.trainTimeMs - 106319) <= 1, `${last.trainTimeMs}`);
    // Five validations, each once: the `val loss` line repeats its V0 line and must not add a point.
    assert.deepEqual(log.val.map((v) => v.step), [0, 10, 20, 30, 40]);
    assert.deepEqual(log.val.map((v) => v.trainTimeMs), [0, 104159, 104878, 105599, 106319]);
    assert.equal(log.val[4].stepAvgMs, undefined);
    assert.deepEqual(log.final, { n_steps: 40, val_loss: 3.2815, train_time: 106319, is_valid: false });
    assert.equal(log.peakMemoryMiB, 38212);
    assert.equal(log.error, null);
    assert.equal(log.phase, 'finished');
  });

  test('record 2 (A without norm, only `val loss` floats: the step comes from the last train line)', () => {
    const log = parseFixture('rec02-old.log');
    assert.equal(log.train.length, 30);
    assert.equal(log.train[0].trainLoss, 10.854175);
    assert.deepEqual(log.val.map((v) => v.step), [0, 10, 20, 30]);
    assert.deepEqual(log.val.map((v) => v.totalSteps), [0, 30, 30, 30]);
    assert.equal(log.val[0].valLoss, 10.851244956432373);
    assert.equal(log.final?.n_steps, 30);
    assert.equal(log.final?.val_loss, 3.2885992777067217);
    assert.equal(log.final?.train_time, log.train[29].trainTimeMs);
    assert.equal(log.peakMemoryMiB, 41230);
    // Step 0's validation, before any train line, knows no total: it is not mistaken for the final one.
    const finals = eventsOf([fixture('rec02-old.log')]).filter((e) => e.type === 'final');
    assert.deepEqual(finals.map((e) => e.type === 'final' && e.result.n_steps), [30]);
    assert.equal(parseLogText('val loss 10.85\n').phase, 'compiling');
  });

  test('record 3 (A with lr_scale, `val loss tensor(..., device=...)` before its V0 line)', () => {
    const log = parseFixture('rec03-old-lrscale.log');
    assert.equal(log.train.length, 30);
    assert.equal(log.train[0].trainLoss, 10.8544);
    assert.equal(log.train[0].stepMs, 190.36);
    assert.deepEqual(log.val.map((v) => [v.step, v.valLoss, v.trainTimeMs]), [[0, 10.8691, 0], [10, 4.2946, 1906], [20, 3.3997, 3811], [30, 3.3145, 5718]]);
    assert.deepEqual(log.final, { n_steps: 30, val_loss: 3.3145, train_time: 5718, is_valid: false });
  });

  test('records 4-14 (T1 with train_loss, nan step_avg until step 11, clock restarts after step 10, M1)', () => {
    const log = parseFixture('rec04-14-t1.log');
    assert.equal(log.train.length, 60);
    const [s1, s11, s12] = [log.train[0], log.train[10], log.train[11]];
    assert.deepEqual([s1.step, s1.trainLoss, s1.trainTimeMs], [1, 10.8612, 74700]);
    assert.ok(Number.isNaN(s1.stepAvgMs) && Number.isNaN(s11.stepAvgMs));
    assert.equal(s11.trainTimeMs, 214);
    assert.equal(s12.stepAvgMs, 214.34);
    assert.ok(Number.isNaN(log.val[0].stepAvgMs!));
    assert.deepEqual(log.val.map((v) => [v.step, v.valLoss]), [[0, 10.859], [20, 4.2849], [40, 3.4053], [60, 3.2736]]);
    assert.deepEqual(log.final, { n_steps: 60, val_loss: 3.2736, train_time: 10721, is_valid: true });
    assert.equal(log.peakMemoryMiB, 37480);
  });

  test('records 15-17 (T2 without train_loss, M2)', () => {
    const log = parseFixture('rec15-17-t2.log');
    assert.equal(log.train.length, 60);
    assert.ok(log.train.every((t) => !('trainLoss' in t)));
    assert.equal(log.train[59].stepAvgMs, 160.55);
    assert.deepEqual(log.final, { n_steps: 60, val_loss: 3.2816, train_time: 8028, is_valid: false });
    assert.equal(log.peakMemoryMiB, 27815);
  });

  test('records 18-21: the echoed source (templates, braces, a docstring traceback) is not read as output', () => {
    const log = parseFixture('rec18-21-echo.log');
    assert.equal(log.train.length, 60);
    assert.deepEqual(log.val.map((v) => v.step), [0, 20, 40, 60]);
    assert.equal(log.error, null);
    assert.deepEqual(log.final, { n_steps: 60, val_loss: 3.2739, train_time: 4775, is_valid: true });
    assert.equal(log.peakMemoryMiB, 29898);
    assert.equal(log.phase, 'finished');
  });

  test('records 18-21 under `torchrun --tee` (every line prefixed `[default0]:`) read the same', () => {
    const prefixed = fixture('rec18-21-echo.log').split('\n').map((l) => (l ? `[default0]:${l}` : l)).join('\n');
    const a = parseLogText(prefixed);
    const b = parseFixture('rec18-21-echo.log');
    assert.equal(a.error, null);
    assert.deepEqual([a.train, a.val, a.final, a.peakMemoryMiB, a.phase], [b.train, b.val, b.final, b.peakMemoryMiB, b.phase]);
  });

  test('later modded-nanogpt records (explicit warm-up before step 0, finite step_avg from step 1)', () => {
    const evs = eventsOf([fixture('mn-later.log')]);
    const log = parseFixture('mn-later.log');
    assert.equal(log.train.length, 60);
    assert.ok(Number.isFinite(log.train[0].stepAvgMs));
    assert.deepEqual(log.final, { n_steps: 60, val_loss: 3.2781, train_time: 3627, is_valid: true });
    assert.equal(log.peakMemoryMiB, 31254);
    assert.deepEqual(phases(evs).slice(0, 2), ['compiling', 'training']);
  });

  test('CRLF, ANSI colours, \\r progress and nan', () => {
    const log = parseFixture('crlf-ansi-cr-nan.log');
    assert.equal(log.train.length, 40);
    assert.deepEqual(log.val.map((v) => v.step), [0, 20, 40]);
    assert.equal(log.val[1].valLoss, 3.95);
    assert.ok(Number.isNaN(log.train[30].trainLoss!));
    assert.equal(log.train[0].trainLoss, 3.99);
    assert.ok(Number.isNaN(log.final!.val_loss));
    assert.equal(log.final!.is_valid, false);
    assert.equal(log.peakMemoryMiB, 30908);
  });

  test('[rankN]: prefixes, inf, and a line with the shape of a log line inside other text is ignored', () => {
    const log = parseLogText(
      '[rank0]:step:1/10 train_time:5ms step_avg:inf\n' +
        '[rank0]: step:2/10 train_time:9ms step_avg:4.50ms\n' +
        'echo step:3/10 train_time:12ms step_avg:4.00ms\n' +
        'step:3/10 train_time:{t}ms step_avg:{t/3}ms\n' +
        'step:4/10 train_time:15ms step_avg:3.75ms\n',
    );
    assert.deepEqual(log.train.map((t) => t.step), [2, 4]);
    const inf = parseLogText('[rank0]: step:1/10 train_time:5ms step_avg:infms\n').train[0];
    assert.equal(inf.stepAvgMs, Infinity);
  });

  test('phases: compiling until the first step, validating after a step that validates, finished at the end', () => {
    const evs = eventsOf([fixture('rec04-14-t1.log')]);
    const ph = phases(evs);
    assert.equal(ph[0], 'compiling');
    assert.equal(ph[1], 'training');
    // val every 20 is learned from the first two validations, so steps 40 and 60 announce validating.
    assert.deepEqual(ph.slice(2), ['validating', 'training', 'validating', 'finished']);
    const finals = evs.filter((e) => e.type === 'final');
    assert.equal(finals.length, 1);
  });
});

suite('logs: the step-line scanner accepts exactly the documented shapes', () => {
  // docs/log-format.md (train_time also allowed a fraction here), applied to every combination below.
  const NUM = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf`;
  const VAL = new RegExp(String.raw`^step:(\d+)/(\d+) val_loss:(${NUM}) train_time:(\d+(?:\.\d+)?)ms(?: step_avg:(${NUM})ms)?$`);
  const TRAIN = new RegExp(String.raw`^step:(\d+)/(\d+)(?: train_loss:(${NUM}))? train_time:(\d+(?:\.\d+)?)ms step_avg:(${NUM})ms$`);
  const num = (t: string) => (/nan$/i.test(t) ? NaN : /inf$/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t));

  test('agrees with the regexes on valid, odd and broken lines', () => {
    const steps = ['0', '12', '007', '', 'x1'];
    const nums = ['0', '3.2736', '214.34', 'nan', '-nan', 'inf', '-inf', '1e-05', '2.5E+3', '5.', '.5', '+0.5', '-3', 'abc', '', '1234567890123456789', '0.12345678901234567'];
    const times = ['0', '185', '185.5', 'nan', '-1', '1e3', '5.'];
    const lines: string[] = [];
    for (const st of steps) {
      for (const a of nums) {
        for (const t of times) {
          lines.push(`step:${st}/50 val_loss:${a} train_time:${t}ms`, `step:3/${st} train_time:${t}ms step_avg:${a}ms`);
          for (const b of ['214.34', 'nan', 'x']) {
            lines.push(`step:${st}/50 val_loss:${a} train_time:${t}ms step_avg:${b}ms`, `step:${st}/50 train_loss:${a} train_time:${t}ms step_avg:${b}ms`);
          }
        }
      }
    }
    lines.push('step:1/2 train_time:3ms step_avg:4ms ', 'step:1/2  train_time:3ms step_avg:4ms', 'step:1/2 train_time:3ms step_avg:4msx', 'step:1/2 train_time:3 step_avg:4ms');
    const expected: { type: string; v: number[] }[] = [];
    for (const line of lines) {
      const l = line.trimEnd(); // trailing blanks are forgiven
      let m = VAL.exec(l);
      if (m) expected.push({ type: 'val', v: [Number(m[1]), Number(m[2]), num(m[3]), Number(m[4]), m[5] === undefined ? -999 : num(m[5])] });
      else if ((m = TRAIN.exec(l))) expected.push({ type: 'train', v: [Number(m[1]), Number(m[2]), m[3] === undefined ? -999 : num(m[3]), Number(m[4]), num(m[5])] });
    }
    const got = eventsOf([lines.join('\n') + '\n']).flatMap((e) =>
      e.type === 'val'
        ? [{ type: 'val', v: [e.step, e.totalSteps, e.valLoss, e.trainTimeMs, e.stepAvgMs ?? -999] }]
        : e.type === 'train'
          ? [{ type: 'train', v: [e.step, e.totalSteps, e.trainLoss ?? -999, e.trainTimeMs, e.stepAvgMs] }]
          : [],
    );
    assert.ok(expected.length > 500 && expected.length < lines.length, `${expected.length} of ${lines.length}`);
    assert.deepStrictEqual(got, expected);
  });
});

suite('logs: errors and their root cause', () => {
  test('first [rankN] exception, deepest frame in train_gpt2.py, torchrun Root Cause block after it', () => {
    const log = parseFixture('err-rank-exception.log');
    assert.deepEqual(log.error, {
      kind: 'exception',
      message: 'AssertionError: expected contiguous inputs for the fp8 matmul',
      file: '/home/trainer/runs/r-20261126-151002/train_gpt2.py',
      line: 87,
    });
    assert.equal(log.phase, 'failed');
  });

  test('CUDA out of memory', () => {
    const log = parseFixture('err-oom.log');
    assert.equal(log.error?.kind, 'oom');
    assert.match(log.error!.message, /^torch\.OutOfMemoryError: CUDA out of memory\. Tried to allocate 6\.14 GiB/);
    assert.equal(log.error?.line, 611);
    assert.equal(log.phase, 'failed');
  });

  test('NCCL: the DistBackendError traceback (with its line) wins over the watchdog line before it', () => {
    const log = parseFixture('err-nccl.log');
    assert.equal(log.error?.kind, 'nccl');
    assert.match(log.error!.message, /^torch\.distributed\.DistBackendError: NCCL error in:/);
    assert.deepEqual([log.error?.file, log.error?.line], ['/home/trainer/runs/r-nccl/train_gpt2.py', 402]);
  });

  test('NCCL: a watchdog timeout alone', () => {
    const log = parseFixture('err-nccl-watchdog-only.log');
    assert.equal(log.error?.kind, 'nccl');
    assert.match(log.error!.message, /Watchdog caught collective operation timeout/);
    assert.equal(log.error?.file, null);
  });

  test('SyntaxError before training (no Traceback header)', () => {
    const log = parseFixture('err-syntax.log');
    assert.deepEqual(log.error, { kind: 'syntax', message: "SyntaxError: '(' was never closed", file: '/home/trainer/runs/r-syntax/train_gpt2.py', line: 233 });
    assert.equal(log.phase, 'failed');
    assert.equal(log.final, null);
  });

  test('ModuleNotFoundError before training', () => {
    const log = parseFixture('err-import.log');
    assert.deepEqual(log.error, { kind: 'import', message: "ModuleNotFoundError: No module named 'flash_attn_interface'", file: '/home/trainer/runs/r-import/train_gpt2.py', line: 14 });
  });

  test('a chained traceback supplies the script location the first exception lacked', () => {
    const log = parseFixture('err-chained.log');
    assert.equal(log.error?.kind, 'exception');
    assert.equal(log.error?.message, 'RuntimeError: Triton Error [CUDA]: invalid device function');
    assert.deepEqual([log.error?.file, log.error?.line], ['/home/trainer/runs/r-chain/train_gpt2.py', 577]);
  });

  test('a worker killed by a signal, from the Root Cause block', () => {
    const log = parseFixture('err-killed.log');
    assert.deepEqual(log.error, { kind: 'signal', message: 'rank 0 was killed by SIGKILL', file: null, line: null });
    assert.equal(log.phase, 'failed');
  });

  test('SIGTERM from a cancel is "cancelled", and the dying workers\' NCCL complaints are not the cause', () => {
    const log = parseFixture('cancel-sigterm.log');
    assert.equal(log.error?.kind, 'signal');
    assert.match(log.error!.message, /SIGTERM/);
    assert.equal(log.phase, 'cancelled');
    assert.equal(log.train.length, 3);
    // The runner knows better: the same log when the signal did not come from our cancel is a failure.
    assert.equal(parseFixture('cancel-sigterm.log', { exitCode: 1 }).phase, 'failed');
    assert.equal(parseFixture('cancel-sigterm.log', { exitCode: null, cancelled: true }).phase, 'cancelled');
  });

  test('timeout: the time limit replaces the SIGTERM it caused', () => {
    const log = parseFixture('cancel-sigterm.log', { exitCode: null, timedOut: true });
    assert.equal(log.error?.kind, 'timeout');
    assert.equal(log.phase, 'failed');
  });

  test('outcome: exit 0 finishes even after a survived traceback; a silent non-zero exit still gets an error', () => {
    const text = 'Traceback (most recent call last):\n  File "/x/train_gpt2.py", line 3, in <module>\nValueError: meh\nstep:10/10 val_loss:3.2700 train_time:100ms step_avg:10.00ms\n';
    const ok = parseLogText(text, undefined, { exitCode: 0 });
    assert.equal(ok.phase, 'finished');
    assert.equal(ok.error, null);
    const bad = parseLogText('step:1/10 train_time:5ms step_avg:5.00ms\n', undefined, { exitCode: 2 });
    assert.deepEqual([bad.phase, bad.error?.kind, bad.error?.message], ['failed', 'exception', 'torchrun exited with code 2']);
    const killed = parseLogText('step:1/10 train_time:5ms step_avg:5.00ms\n', undefined, { exitCode: null, signal: 'SIGKILL' });
    assert.deepEqual([killed.phase, killed.error?.kind], ['failed', 'signal']);
  });

  test('error events are emitted live, before end()', () => {
    const p = createLogParser();
    const evs = p.push(fixture('err-oom.log'));
    assert.ok(evs.some((e) => e.type === 'error' && e.error.kind === 'oom'));
    assert.ok(evs.some((e) => e.type === 'phase' && e.phase === 'failed'));
  });
});

suite('logs: streaming is independent of chunk boundaries', () => {
  // A sample with every tricky part: CRLF, lone \r, ANSI, rank prefixes, a traceback, a multi-byte character.
  const SAMPLE =
    fixture('crlf-ansi-cr-nan.log').split('\r\n').slice(0, 30).join('\r\n') +
    '\r\nnote: µ-batch ✓\n' +
    fixture('err-rank-exception.log').split('\n').slice(3, 24).join('\n') +
    '\n' +
    fixture('err-rank-exception.log').split('\n').slice(24).join('\r\n');
  const whole = eventsOf([SAMPLE]);
  const wholeKey = key(whole);
  const same = (evs: LogEvent[], what: string) => {
    if (key(evs) !== wholeKey) assert.deepStrictEqual(evs, whole, what);
  };

  test('the sample produces the events it should', () => {
    assert.ok(whole.filter((e) => e.type === 'train').length >= 20);
    assert.ok(whole.some((e) => e.type === 'error' && e.error.line === 87));
  });

  test('two chunks split at every character offset give identical events', function () {
    this.timeout(60_000); // thousands of parses on a shared machine; not a speed check
    for (let k = 0; k <= SAMPLE.length; k++) {
      same(eventsOf([SAMPLE.slice(0, k), SAMPLE.slice(k)]), `split at ${k}`);
    }
  });

  test('bytes split at every byte offset (inside multi-byte characters too) give identical events', function () {
    this.timeout(60_000);
    const bytes = Buffer.from(SAMPLE, 'utf8');
    for (let k = 0; k <= bytes.length; k++) {
      same(eventsOf([bytes.subarray(0, k), bytes.subarray(k)]), `split at byte ${k}`);
    }
  });

  test('one character at a time', () => {
    same(eventsOf([...SAMPLE]), 'one character at a time');
  });

  test('summary() matches the events', () => {
    const p = createLogParser();
    p.push(SAMPLE);
    p.end();
    const s: ParsedLog = p.summary();
    assert.equal(s.train.length, whole.filter((e) => e.type === 'train').length);
    assert.equal(s.val.length, whole.filter((e) => e.type === 'val').length);
  });
});

suite('logs: garbage input never throws and gives a clean result', () => {
  function rng(seed: number) {
    let x = seed >>> 0;
    return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  }

  test('binary bytes', () => {
    const r = rng(42);
    const bytes = new Uint8Array(1 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
    const p = createLogParser();
    for (let i = 0; i < bytes.length; i += 4096) p.push(bytes.subarray(i, i + 4096));
    p.push('\nstep:5/10 train_time:50ms step_avg:10.00ms\n');
    p.end();
    const s = p.summary();
    assert.equal(s.val.length, 0);
    // Whatever the noise did, a real line after it still parses.
    assert.deepEqual(s.train.map((t) => t.step).slice(-1), [5]);
  });

  test('a 1 MB line, whole or in chunks, is cut and the next lines still parse', () => {
    const big = 'x'.repeat(1 << 20);
    const text = `step:1/10 train_time:5ms step_avg:5.00ms${big}\nstep:2/10 train_time:9ms step_avg:4.50ms\n${big}`;
    const a = parseLogText(text);
    assert.deepEqual(a.train.map((t) => t.step), [2]);
    const p = createLogParser();
    for (let i = 0; i < text.length; i += 65536) p.push(text.slice(i, i + 65536));
    p.end();
    assert.deepEqual(p.summary().train, a.train);
    // An exception message that long is kept short.
    const e = parseLogText(`Traceback (most recent call last):\n  File "/x/train_gpt2.py", line 9, in f\nValueError: ${big}\n`).error!;
    assert.ok(e.message.length < 1000);
    assert.equal(e.line, 9);
  });

  test('a truncated file (cut mid-line anywhere) gives the last complete state', () => {
    const text = fixture('rec18-21-echo.log');
    for (const frac of [0.1, 0.5, 0.77, 0.93, 0.999]) {
      const cut = text.slice(0, Math.floor(text.length * frac));
      const log = parseLogText(cut);
      assert.equal(log.error, null);
      const lastVal = log.val[log.val.length - 1];
      const complete = lastVal !== undefined && lastVal.step === lastVal.totalSteps;
      assert.equal(log.phase === 'finished', complete, `${frac}: ${log.phase}`);
      if (!complete) assert.ok(['compiling', 'training', 'validating'].includes(log.phase), log.phase);
      if (lastVal) assert.equal(log.final?.n_steps, lastVal.step);
    }
  });

  test('empty input, only newlines, NUL bytes, a lone CR', () => {
    for (const t of ['', '\n\n\n', '\0\0\0\n\0', '\r', '\r\n\r\n']) {
      const log = parseLogText(t);
      assert.deepEqual([log.train.length, log.val.length, log.final, log.error, log.phase], [0, 0, null, null, 'compiling']);
    }
  });

  test('push after end is ignored', () => {
    const p = createLogParser();
    p.end();
    assert.deepEqual(p.push('step:1/10 train_time:5ms step_avg:5.00ms\n'), []);
    assert.equal(p.summary().train.length, 0);
  });
});
