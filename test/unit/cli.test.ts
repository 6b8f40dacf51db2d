// The `speedrun` CLI as scripts use it: the built dist/cli.js in a real process, its output through real pipes.
import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COMMANDS } from '../../src/cli/commands';
import { openTask } from '../../src/core/benchmark/openTask';
import { scriptPath } from '../../src/core/benchmark/catalog';
import { writeAtomic } from '../../src/core/files';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const LOGS = path.join(ROOT, 'test/fixtures/logs');
const BENCHMARK = path.join(ROOT, 'test/fixtures/benchmark');

interface Result {
  code: number | null;
  out: string;
  err: string;
}

function speedrun(args: string[], opts: SpawnSyncOptions = {}): Result {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  return { code: r.status, out: String(r.stdout), err: String(r.stderr) };
}

/** `speedrun ARGS | (sleep 1.5; python3 json.loads)`: the reader starts long after the CLI wanted to finish. */
function throughSlowReader(args: string[], opts: { cwd?: string } = {}): { code: number | null; summary: string; err: string } {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // Prints the byte count of what it read, once that parsed as JSON.
  const reader = `python3 -c 'import json,sys; s=sys.stdin.buffer.read(); json.loads(s); print(len(s))'`;
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `${quoted} | (sleep 1.5; ${reader})`], { encoding: 'utf8', cwd: opts.cwd, maxBuffer: 1 << 28 });
  return { code: r.status, summary: r.stdout.trim(), err: r.stderr };
}

/** One line, no stack frame, balanced quotes: the shape of every error the CLI prints. */
function assertOneSentence(err: string, re: RegExp) {
  assert.match(err.trimEnd(), re);
  assert.equal(err.trimEnd().split('\n').length, 1, err);
  assert.doesNotMatch(err, /^\s+at |Error:|internal error/m, err);
  assert.equal((err.match(/'/g) ?? []).length % 2, 0, `unbalanced quotes: ${err}`);
}

const temps: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-cli-'));
  temps.push(d);
  return d;
}

/** Every path under `dir`, relative, sorted: to show nothing was left behind. */
function tree(dir: string): string[] {
  return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).sort() : [];
}

/** A log with `vals` validation lines (every val point is kept, so the JSON grows with them). */
function bigLog(file: string, vals: number): void {
  const lines: string[] = [];
  for (let s = 1; s <= vals; s++) {
    lines.push(`step:${s}/${vals} train_time:${s * 50}ms step_avg:50.00ms`);
    lines.push(`step:${s}/${vals} val_loss:${(3 + 10 / s).toFixed(4)} train_time:${s * 50}ms step_avg:50.00ms`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

suite('cli: the speedrun command line', function () {
  this.timeout(60_000); // each test starts node processes on a shared machine; not a speed check

  suiteSetup(function () {
    this.timeout(180_000);
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  });
  suiteTeardown(() => {
    for (const d of temps.splice(0)) {
      spawnSync('chmod', ['-R', 'u+rwx', d]);
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  function task(): string {
    return openTask({ benchmarkPath: BENCHMARK, taskId: 12, dest: path.join(tempDir(), 'task12') }).taskDir;
  }

  function addRun(taskDir: string, runId: string, script: string, results?: unknown) {
    const dir = path.join(taskDir, '.speedrun/runs', runId);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'train_gpt2.py'), script);
    if (results !== undefined) fs.writeFileSync(path.join(dir, 'results.json'), typeof results === 'string' ? results : JSON.stringify(results));
  }

  // ---- 1. JSON survives a pipe into a slow reader ----------------------------------------------------------------

  test('parse-log --json: multi-MB JSON reaches a reader that waits 1.5 s, whole, and the exit code survives', () => {
    const log = path.join(tempDir(), 'many-vals.log');
    bigLog(log, 30_000);
    const direct = speedrun(['parse-log', log, '--json']);
    assert.equal(direct.code, 0, direct.err);
    assert.ok(direct.out.length > 4_000_000, `JSON is ${direct.out.length} bytes`);
    const slow = throughSlowReader(['parse-log', log, '--json']);
    assert.equal(slow.code, 0, slow.err);
    assert.equal(slow.summary, String(Buffer.byteLength(direct.out)));
    // --check fails (val loss 3.0003 is valid, but the log has no end) and the pipe still gets everything.
    const checked = throughSlowReader(['parse-log', log, '--json', '--check']);
    assert.equal(checked.summary, slow.summary);
  });

  test('compare --json: multi-MB JSON reaches a slow reader whole', () => {
    const dir = task();
    const start = fs.readFileSync(scriptPath(BENCHMARK, 12), 'utf8');
    const extra = Array.from({ length: 40_000 }, (_, i) => `x_${i} = ${i}  # a line the reference does not have`).join('\n');
    addRun(dir, 'big', `${start}\n${extra}\n`);
    const slow = throughSlowReader(['compare', '--run', 'big', '--json'], { cwd: dir });
    assert.equal(slow.code, 0, slow.err);
    assert.ok(Number(slow.summary) > 3_000_000, slow.summary);
  });

  // ---- 2. --help on every command; parse errors as one sentence ---------------------------------------------------

  test('every command answers --help and `speedrun help CMD`: exit 0, usage, options with defaults, an example', () => {
    assert.ok(COMMANDS.length >= 6);
    for (const cmd of COMMANDS) {
      const r = speedrun([cmd.name, '--help']);
      assert.equal(r.code, 0, `${cmd.name}: ${r.err}`);
      assert.equal(r.err, '');
      assert.ok(r.out.startsWith(`Usage: speedrun ${cmd.name}`), r.out);
      const lines = r.out.split('\n');
      assert.ok(lines.every((l) => l.length <= 100), 'wrapped at 100 columns');
      for (const [name, o] of Object.entries(cmd.options)) {
        const at = lines.findIndex((l) => l.startsWith(`  --${name}`));
        assert.ok(at >= 0, `${cmd.name} --help lists --${name}`);
        // The option's entry: its line and the indented lines that continue it.
        let entry = lines[at];
        for (let i = at + 1; /^ {3,}\S/.test(lines[i] ?? ''); i++) entry += ` ${lines[i].trim()}`;
        if (o.default !== undefined || o.defaultText !== undefined) assert.match(entry, /\(default: [^)]+\)$/, entry);
      }
      assert.match(r.out, /\nExamples?:\n {2}speedrun /);
      assert.deepEqual(speedrun(['help', cmd.name]), r);
      assert.equal(speedrun([cmd.name, '-h']).out, r.out);
    }
    const run = speedrun(['run', '--help']).out;
    assert.match(run, /--task-dir DIR +the task folder \(default: the current folder\)/);
    assert.match(run, /--time-limit MINUTES +.*\(default: 60\)/);
    assert.match(run, /--allow-task-targets/);
  });

  test('help without a command lists them all (exit 0); no command at all is a usage error (exit 2)', () => {
    const help = speedrun(['help']);
    assert.equal(help.code, 0);
    for (const c of COMMANDS) assert.match(help.out, new RegExp(`^  ${c.name} `, 'm'));
    const none = speedrun([]);
    assert.equal(none.code, 2);
    assert.match(none.err, /Commands:/);
    const unknown = speedrun(['help', 'nope']);
    assert.equal(unknown.code, 2);
    assertOneSentence(unknown.err, /unknown command 'nope'/);
  });

  test('argument errors are one sentence naming the option, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['run', '--bogus'], /^speedrun run: unknown option --bogus \(see 'speedrun run --help'\)$/],
      [['compare', '--run'], /^speedrun compare: option --run needs a value: --run RUNID$/],
      [['compare', '--run', '--json'], /^speedrun compare: option --run needs a value: --run RUNID$/],
      [['parse-log', 'x.log', '--json=yes'], /^speedrun parse-log: option --json takes no value$/],
      [['parse-log'], /^speedrun parse-log: expected FILE, got none/],
      [['parse-log', 'a', 'b'], /^speedrun parse-log: expected FILE, got 'a' 'b'/],
      [['open-task', 'x', '--dest', '/tmp'], /the task number must be a whole number, got 'x'/],
      [['run', '--time-limit', 'soon'], /--time-limit must be a positive number of minutes, got 'soon'/],
    ];
    for (const [args, re] of cases) {
      const r = speedrun(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assertOneSentence(r.err, re);
    }
  });

  // ---- 3. one convention for defaults --------------------------------------------------------------------------------

  test('--task-dir defaults to the current folder', () => {
    const dir = task();
    const here = speedrun(['compare'], { cwd: dir });
    assert.equal(here.code, 0, here.err);
    assert.match(here.out, /^Task 12: record 12 -> record 13/);
    const elsewhere = speedrun(['compare'], { cwd: tempDir() });
    assert.equal(elsewhere.code, 3);
    assertOneSentence(elsewhere.err, /task\.json not found: this folder is not a task workspace/);
  });

  test("parse-log - reads standard input, with the same result as the file", () => {
    const file = path.join(LOGS, 'rec04-14-t1.log');
    const fromFile = speedrun(['parse-log', file, '--json']);
    const fromStdin = speedrun(['parse-log', '-', '--json'], { input: fs.readFileSync(file) });
    assert.equal(fromStdin.code, 0, fromStdin.err);
    assert.equal(fromStdin.out, fromFile.out);
    assert.match(speedrun(['parse-log', '-'], { input: fs.readFileSync(file) }).out, /^\(standard input\)\n/);
  });

  test('parse-log --check: 0 for a finished valid run, 1 for a failed, invalid or unfinished one; 0 without --check', () => {
    const check = (file: string, input?: string) => speedrun(['parse-log', file, '--check'], input === undefined ? {} : { input }).code;
    assert.equal(check(path.join(LOGS, 'rec04-14-t1.log')), 0);
    assert.equal(check(path.join(LOGS, 'err-oom.log')), 1);
    assert.equal(check(path.join(LOGS, 'cancel-sigterm.log')), 1);
    const good = fs.readFileSync(path.join(LOGS, 'rec04-14-t1.log'), 'utf8');
    const invalid = good.replace('step:60/60 val_loss:3.2736', 'step:60/60 val_loss:3.3012');
    assert.notEqual(invalid, good);
    assert.equal(check('-', invalid), 1);
    const unfinished = good.slice(0, good.indexOf('step:30/60'));
    assert.equal(check('-', unfinished), 1);
    assert.equal(speedrun(['parse-log', path.join(LOGS, 'err-oom.log')]).code, 0);
  });

  test('compare shows no FSR for a cancelled or failed run, in text and JSON', () => {
    const dir = task();
    const reference = fs.readFileSync(scriptPath(BENCHMARK, 13), 'utf8');
    for (const status of ['CANCELLED', 'FAILED', 'TIMEOUT']) {
      const id = `r-${status.toLowerCase()}`;
      // A fast train_time from the last line before the stop: it must not read as a score.
      addRun(dir, id, reference, { status, metrics: { n_steps: 400, val_loss: 4.1, train_time: 90000, is_valid: false } });
      const text = speedrun(['compare', '--task-dir', dir, '--run', id]);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, new RegExp(`Run: ${status}, .* FSR n/a \\(the run is ${status.toLowerCase()}: no result to score\\)`));
      assert.doesNotMatch(text.out, /FSR \d/);
      const j = JSON.parse(speedrun(['compare', '--task-dir', dir, '--run', id, '--json']).out);
      assert.equal(j.fsr, null);
      assert.equal(j.valid, false);
    }
  });

  test('open-task: the current folder is the default destination only when it is empty', () => {
    const empty = tempDir();
    const r = speedrun(['open-task', '12', '--benchmark', BENCHMARK], { cwd: empty });
    assert.equal(r.code, 0, r.err);
    assert.ok(fs.existsSync(path.join(empty, '.speedrun/task.json')));
    const busy = tempDir();
    fs.writeFileSync(path.join(busy, 'notes.txt'), 'mine');
    const refused = speedrun(['open-task', '12', '--benchmark', BENCHMARK], { cwd: busy });
    assert.equal(refused.code, 2);
    assertOneSentence(refused.err, /the current folder .* is not empty; pass --dest DIR/);
    assert.deepEqual(tree(busy), ['notes.txt']);
  });

  // ---- 8. bad input: one sentence, exit 3, nothing left behind -------------------------------------------------------

  const openInto = (dest: string, opts: SpawnSyncOptions = {}) => speedrun(['open-task', '12', '--benchmark', BENCHMARK, '--dest', dest], opts);

  test('open-task into a folder this user cannot write', () => {
    const parent = tempDir();
    const dest = path.join(parent, 'locked');
    fs.mkdirSync(dest);
    fs.chmodSync(parent, 0o755);
    fs.chmodSync(dest, 0o555);
    // Root writes anywhere: run the CLI as an unprivileged user then, so the permission check is real.
    const asUser: SpawnSyncOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = openInto(dest, asUser);
    assert.equal(r.code, 3, r.err);
    assertOneSentence(r.err, /Cannot write the task workspace in .*locked: permission denied/);
    assert.deepEqual(tree(dest), []);
  });

  test('open-task where train_gpt2.py is a folder, .speedrun is a file, or task.json is a folder', () => {
    const a = tempDir();
    fs.mkdirSync(path.join(a, 'train_gpt2.py'));
    let r = openInto(a);
    assert.equal(r.code, 3);
    assertOneSentence(r.err, /train_gpt2\.py must be a file but is not/);
    assert.deepEqual(tree(a), ['train_gpt2.py']);

    const b = tempDir();
    fs.writeFileSync(path.join(b, '.speedrun'), '');
    r = openInto(b);
    assert.equal(r.code, 3);
    assertOneSentence(r.err, /\.speedrun must be a folder but is not/);
    assert.deepEqual(tree(b), ['.speedrun']);

    const c = tempDir();
    fs.mkdirSync(path.join(c, '.speedrun/task.json'), { recursive: true });
    r = speedrun(['open-task', '12', '--benchmark', BENCHMARK, '--dest', c, '--force']);
    assert.equal(r.code, 3);
    assertOneSentence(r.err, /task\.json must be a file but is not/);
    assert.deepEqual(tree(c), ['.speedrun', path.join('.speedrun', 'task.json')]);
  });

  test('open-task under a path that runs through a file', () => {
    const d = tempDir();
    fs.writeFileSync(path.join(d, 'plain'), 'x');
    const r = openInto(path.join(d, 'plain', 'sub', 'task'));
    assert.equal(r.code, 3);
    assertOneSentence(r.err, /plain is a file, so .* cannot be created under it/);
    assert.deepEqual(tree(d), ['plain']);
  });

  test('writeAtomic leaves no temp file when the rename fails', () => {
    const d = tempDir();
    fs.mkdirSync(path.join(d, 'task.json'));
    assert.throws(() => writeAtomic(path.join(d, 'task.json'), '{}'), /EISDIR/);
    assert.deepEqual(tree(d), ['task.json']);
  });

  test('compare --run with a results.json that has no metrics or a string val_loss', () => {
    const dir = task();
    const start = fs.readFileSync(scriptPath(BENCHMARK, 12), 'utf8');
    const cases: [unknown, RegExp][] = [
      [{ status: 'COMPLETED' }, /results\.json is not a valid results file: "metrics" should be object/],
      [{ status: 'COMPLETED', metrics: {} }, /"metrics\.n_steps" should be number/],
      [{ status: 'COMPLETED', metrics: { n_steps: 1, val_loss: '3.27', train_time: 1, is_valid: true } }, /"metrics\.val_loss" should be number/],
      ['{"status": "COMPL', /results\.json cannot be read/],
    ];
    cases.forEach(([results, re], i) => {
      addRun(dir, `bad${i}`, start, results);
      for (const json of [[], ['--json']]) {
        const r = speedrun(['compare', '--task-dir', dir, '--run', `bad${i}`, ...json]);
        assert.equal(r.code, 3, r.err);
        assertOneSentence(r.err, re);
        assert.equal(r.out, '');
      }
    });
  });

  const localTargets = (dir: string) => {
    const file = path.join(dir, 'targets.json');
    fs.writeFileSync(file, JSON.stringify([{ name: 'here', kind: 'local', remoteDir: path.join(dir, 'box') }]));
    return file;
  };

  test('run when .speedrun/runs is a file or cannot be written', () => {
    const dir = task();
    const targets = localTargets(tempDir());
    fs.writeFileSync(path.join(dir, '.speedrun/runs'), '');
    let r = speedrun(['run', '--task-dir', dir, '--targets-file', targets]);
    assert.equal(r.code, 3, r.err);
    assertOneSentence(r.err, /Cannot store the run in .*runs: a file is in the way where a folder is needed/);
    assert.equal(fs.statSync(path.join(dir, '.speedrun/runs')).isFile(), true);

    fs.rmSync(path.join(dir, '.speedrun/runs'));
    fs.mkdirSync(path.join(dir, '.speedrun/runs'), { mode: 0o555 });
    fs.chmodSync(path.dirname(dir), 0o755);
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, '.speedrun'), 0o755);
    fs.chmodSync(targets, 0o644);
    fs.chmodSync(path.dirname(targets), 0o755);
    const asUser: SpawnSyncOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    r = speedrun(['run', '--task-dir', dir, '--targets-file', targets], asUser);
    assert.equal(r.code, 3, r.err);
    assertOneSentence(r.err, /Cannot store the run in .*runs: permission denied/);
    assert.deepEqual(tree(path.join(dir, '.speedrun/runs')), []);
  });

  test('cancel when owner.pid is a folder', () => {
    const dir = task();
    const runId = '20260101-120000-ab12';
    const runDir = path.join(dir, '.speedrun/runs', runId);
    fs.mkdirSync(path.join(runDir, 'owner.pid'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'meta.json'), JSON.stringify({ runId, taskId: 12, target: 'here', state: 'training', createdAt: new Date().toISOString(), scriptSha256: '' }));
    const before = tree(dir);
    const r = speedrun(['cancel', runId, '--task-dir', dir, '--targets-file', localTargets(tempDir())]);
    assert.equal(r.code, 3, r.err);
    assertOneSentence(r.err, /owner\.pid should be a file holding the pid .* but is a folder; remove it and try again/);
    assert.deepEqual(tree(dir), before);
  });
});
