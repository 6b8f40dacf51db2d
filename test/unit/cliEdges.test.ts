// The CLI and the MCP server at their edges, as a user meets them: wrong numbers, a folder where a file belongs,
// a pipe where a file belongs, a targets file without targets, a typo in an endpoint or a path. Each answer is one
// sentence with the documented exit code, and nothing is left behind. Real processes: dist/cli.js, dist/mcp.js.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openTask } from '../../src/core/benchmark/openTask';
import { makeShards, makeTask, removeTemps, tempDir } from '../support/runFixture';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const MCP = path.join(ROOT, 'dist/mcp.js');
const LOG = path.join(ROOT, 'test/fixtures/logs/rec04-14-t1.log');
const BENCHMARK = path.join(ROOT, 'test/fixtures/benchmark');
const SIM = path.join(ROOT, 'test/sim');

function node(script: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', input: '', timeout: 30_000, ...opts });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const speedrun = (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => node(CLI, args, opts);

/** One line, no stack frame, no "internal error": what every refusal looks like. */
function assertOneSentence(err: string, re: RegExp) {
  assert.match(err.trimEnd(), re);
  assert.equal(err.trimEnd().split('\n').length, 1, err);
  assert.doesNotMatch(err, /^\s+at |internal error|Error:/m, err);
}

/** Every path under `dir`, relative, sorted. */
const tree = (dir: string) => (fs.readdirSync(dir, { recursive: true }) as string[]).sort();

suite('cli edges: bad input a user can type', function () {
  this.timeout(60_000); // node processes on a shared machine; not a speed check

  suiteSetup(function () {
    this.timeout(180_000);
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  });
  suiteTeardown(removeTemps);

  test('a negative number is the value of its option, refused by the command in its own words (exit 2)', () => {
    const task = makeTask();
    const run = speedrun(['run', '--time-limit', '-1', '--task-dir', task]);
    assert.equal(run.code, 2);
    assertOneSentence(run.err, /--time-limit must be a positive number of minutes, got '-1'/);
    const agent = speedrun(['agent', '--max-turns', '-1', '--task-dir', task, '--backend', 'replay', '--no-run']);
    assert.equal(agent.code, 2);
    assertOneSentence(agent.err, /--max-turns must be a positive whole number \(got '-1'\)/);
    // A forgotten value before the next option is still that, not a value named "--json".
    const forgot = speedrun(['compare', '--run', '--json', '--task-dir', task]);
    assert.equal(forgot.code, 2);
    assertOneSentence(forgot.err, /option --run needs a value/);
  });

  test('run --help says what the exit code means with --repeat (1 when the runs finished but the t-test did not pass)', () => {
    const r = speedrun(['run', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out.replace(/\s+/g, ' '), /With --repeat: 0 only when every run finished and the t-test passed \(mean val loss below 3\.28, p < 0\.01\), else 1\./);
  });

  test('run and compare: a task folder that does not exist, is a file, or holds a folder named train_gpt2.py (exit 3, named)', () => {
    const parent = tempDir();
    const missing = speedrun(['run', '--task-dir', path.join(parent, 'nope')]);
    assert.equal(missing.code, 3);
    assertOneSentence(missing.err, /the task folder .*nope does not exist/);
    fs.writeFileSync(path.join(parent, 'file'), 'x');
    const file = speedrun(['run', '--task-dir', path.join(parent, 'file')]);
    assert.equal(file.code, 3);
    assertOneSentence(file.err, /file is a file, not a task folder/);
    fs.mkdirSync(path.join(parent, 'task', 'train_gpt2.py'), { recursive: true });
    const dir = speedrun(['run', '--task-dir', path.join(parent, 'task')]);
    assert.equal(dir.code, 3);
    assertOneSentence(dir.err, new RegExp(`${path.join(parent, 'task', 'train_gpt2.py')} is a folder; the task's script must be a file`));
    assert.deepEqual(tree(parent), ['file', 'task', 'task/train_gpt2.py']);
    // compare says the same about the folder itself.
    const cmpMissing = speedrun(['compare', '--task-dir', path.join(parent, 'nope')]);
    assert.equal(cmpMissing.code, 3);
    assertOneSentence(cmpMissing.err, /the task folder .*nope does not exist/);
    const cmpFile = speedrun(['compare', '--task-dir', path.join(parent, 'file')]);
    assert.equal(cmpFile.code, 3);
    assertOneSentence(cmpFile.err, /file is a file, not a task folder/);
  });

  test('run: a rule message quotes the offending line without its terminal escapes, cut to 200 characters', () => {
    const task = makeTask();
    const script = fs.readFileSync(path.join(task, 'train_gpt2.py'), 'utf8');
    fs.writeFileSync(path.join(task, 'train_gpt2.py'), `\u001b[2J\u001b]0;title\u0007${'x'.repeat(500)}\n${script}`);
    const r = speedrun(['run', '--task-dir', task]);
    assert.equal(r.code, 3, r.err);
    const quoted = /your line: (.*)/.exec(r.err)?.[1];
    assert.ok(quoted, r.err);
    assert.equal(quoted, `?[2J?]0;title?${'x'.repeat(200 - '?[2J?]0;title?'.length)}…`);
    assert.doesNotMatch(r.err, /[\u0000-\u0008\u000b-\u001f]/); // eslint-disable-line no-control-regex
  });

  test('attach and cancel of a run whose meta.json is damaged name the file (exit 3), not "no run" or an internal error', () => {
    const task = makeTask();
    const runId = '20260101-000000-abcd';
    const meta = path.join(task, '.speedrun', 'runs', runId, 'meta.json');
    fs.mkdirSync(path.dirname(meta), { recursive: true });
    fs.writeFileSync(meta, 'garbage');
    for (const cmd of ['attach', 'cancel']) {
      const r = speedrun([cmd, runId, '--task-dir', task]);
      assert.equal(r.code, 3, r.err);
      assertOneSentence(r.err, new RegExp(`the record of run ${runId} \\(.*meta\\.json\\) cannot be read as JSON`));
    }
    fs.writeFileSync(meta, JSON.stringify({ runId }));
    for (const cmd of ['attach', 'cancel']) {
      const r = speedrun([cmd, runId, '--task-dir', task]);
      assert.equal(r.code, 3, r.err);
      assertOneSentence(r.err, new RegExp(`the record of run ${runId} \\(.*meta\\.json\\) has no state or target`));
    }
    assert.equal(fs.readFileSync(meta, 'utf8'), JSON.stringify({ runId }), 'left as it was');
  });

  test('parse-log reads a pipe passed as a path (bash process substitution), and names a folder as a folder', () => {
    const r = spawnSync('bash', ['-c', `'${process.execPath}' '${CLI}' parse-log <(cat '${LOG}') --check --json`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).final.val_loss, 3.2736);
    const dir = speedrun(['parse-log', ROOT]);
    assert.equal(dir.code, 3);
    assertOneSentence(dir.err, /cannot read .*: it is a folder, not a log file/);
  });

  test('open-task over another task or a different script says to pass --force, and --force does it', () => {
    const dest = path.join(tempDir(), 't');
    assert.equal(speedrun(['open-task', '12', '--benchmark', BENCHMARK, '--dest', dest]).code, 0);
    const other = speedrun(['open-task', '13', '--benchmark', BENCHMARK, '--dest', dest]);
    assert.equal(other.code, 3);
    assertOneSentence(other.err, /already holds task 12; choose another folder or pass --force to overwrite it\.$/);
    fs.writeFileSync(path.join(dest, 'train_gpt2.py'), 'print("mine")\n');
    const differs = speedrun(['open-task', '12', '--benchmark', BENCHMARK, '--dest', dest]);
    assert.equal(differs.code, 3);
    assertOneSentence(differs.err, /differs from record 12's script; choose another folder or pass --force to overwrite it\.$/);
    assert.equal(fs.readFileSync(path.join(dest, 'train_gpt2.py'), 'utf8'), 'print("mine")\n');
    assert.equal(speedrun(['open-task', '12', '--benchmark', BENCHMARK, '--dest', dest, '--force']).code, 0);
  });

  test('parse-log on a file with no log line in it says so (and --check fails), rather than only "compiling"', () => {
    const dir = tempDir();
    const notLog = path.join(dir, 'notes.txt');
    fs.writeFileSync(notLog, 'hello\nthis is not a torchrun log\n');
    const r = speedrun(['parse-log', notLog]);
    assert.equal(r.code, 0);
    assert.match(r.out, /no line looks like a training log .*is this the right file\?/);
    assert.equal(speedrun(['parse-log', notLog, '--check']).code, 1);
    assert.doesNotMatch(speedrun(['parse-log', LOG]).out, /no line looks like/);
  });

  test('a targets file without a list, or without one usable target, says so instead of "no targets are configured"', () => {
    const task = makeTask();
    const dir = tempDir();
    const noList = path.join(dir, 'object.json');
    fs.writeFileSync(noList, JSON.stringify({ name: 'box', kind: 'local' }));
    const a = speedrun(['run', '--task-dir', task, '--targets-file', noList]);
    assert.equal(a.code, 3);
    assertOneSentence(a.err, /object\.json holds no list of targets/);
    const invalid = path.join(dir, 'invalid.json');
    fs.writeFileSync(invalid, JSON.stringify([{ name: 'box' }]));
    const b = speedrun(['run', '--task-dir', task, '--targets-file', invalid]);
    assert.equal(b.code, 3);
    const lines = b.err.trimEnd().split('\n');
    assert.equal(lines.length, 2, b.err); // the entry's problem, then the refusal
    assert.match(lines[0], /invalid\.json: target 1 'box': kind must be/);
    assert.match(lines[1], /invalid\.json has no usable target; fix the entries named above/);
    assert.doesNotMatch(b.err, /no targets are configured/);
    const empty = path.join(dir, 'empty.json');
    fs.writeFileSync(empty, '[]');
    const c = speedrun(['run', '--task-dir', task, '--targets-file', empty]);
    assert.equal(c.code, 3);
    assertOneSentence(c.err, /empty\.json has no usable target \(a list shaped like the speedrun\.targets setting\)/);
    assert.ok(!fs.existsSync(path.join(task, '.speedrun', 'runs')) || tree(path.join(task, '.speedrun', 'runs')).length === 0);
  });

  test('agent: an endpoint that is not an http(s) URL, or no key for the hosted one, is refused before a session starts, leaving nothing', () => {
    const task = makeTask();
    const before = tree(task);
    for (const url of ['notaurl', 'ftp://example.com/v1']) {
      const r = speedrun(['agent', '--task-dir', task, '--base-url', url, '--no-run'], { env: { ...process.env, SPEEDRUN_AGENT_API_KEY: 'k' } });
      assert.equal(r.code, 2, r.err);
      assertOneSentence(r.err, /the endpoint must be an http\(s\) URL such as https:\/\/api\.openai\.com\/v1/);
    }
    assert.deepEqual(tree(task), before);
    // No key for the hosted default endpoint: said before a session starts, not after a failed request.
    const env = { ...process.env };
    delete env.SPEEDRUN_AGENT_API_KEY;
    delete env.OPENAI_API_KEY;
    delete env.SPEEDRUN_AGENT_BASE_URL;
    delete env.OPENAI_BASE_URL;
    const noKey = speedrun(['agent', '--task-dir', task, '--no-run'], { env });
    assert.equal(noKey.code, 3, noKey.err);
    assertOneSentence(noKey.err, /no API key for https:\/\/api\.openai\.com\/v1: set SPEEDRUN_AGENT_API_KEY/);
    assert.deepEqual(tree(task), before);
  });
});

suite('cli edges: a reader that stops reading', function () {
  this.timeout(120_000);
  suiteTeardown(removeTemps);

  test('run | head: the CLI detaches as on Ctrl-C (exit 1, the attach command on stderr); attach then stores the result', () => {
    const task = makeTask({ steps: 40, valEvery: 10 });
    const box = tempDir('speedrun-qa-box-');
    const targets = path.join(box, 'targets.json');
    const target = { name: 'sim', kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, ...makeShards(path.join(box, 'data'), 12),
      setup: `export PATH=${SIM}:$PATH PYTHONPATH=${SIM}/pylib`, env: { SIM_SPEEDUP: '4', SIM_COMPILE_SECONDS: '1' } };
    fs.writeFileSync(targets, JSON.stringify([target]));
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const cmd = `${q(process.execPath)} ${q(CLI)} run --task-dir ${q(task)} --targets-file ${q(targets)} | head -1; exit \${PIPESTATUS[0]}`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 90_000 });
    assert.equal(r.status, 1, r.stderr);
    const runId = /detached; run (\S+) goes on\. Follow it again with: speedrun attach \1/.exec(r.stderr)?.[1];
    assert.ok(runId, r.stderr);
    const attached = speedrun(['attach', runId, '--task-dir', task, '--targets-file', targets]);
    assert.equal(attached.code, 0, attached.err);
    assert.match(attached.err, new RegExp(`run ${runId} finished`));
    const results = JSON.parse(fs.readFileSync(path.join(task, '.speedrun', 'runs', runId, 'results.json'), 'utf8'));
    assert.equal(results.status, 'COMPLETED');
  });
});

suite('cli edges: search and sweep', function () {
  this.timeout(120_000);
  suiteTeardown(removeTemps);

  /** A local target on the simulated box, in its own targets file. */
  function simTargets(names: string[]): string {
    const box = tempDir('speedrun-qa-box-');
    const shards = makeShards(path.join(box, 'data'), 12);
    const list = names.map((name) => ({ name, kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, ...shards,
      setup: `export PATH=${SIM}:$PATH PYTHONPATH=${SIM}/pylib`, env: { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '1' } }));
    fs.writeFileSync(path.join(box, 'targets.json'), JSON.stringify(list));
    return path.join(box, 'targets.json');
  }

  /** Task 12 opened from the fixture clone (the replay backend reads its level-0 diff there). */
  const fixtureTask = () => openTask({ benchmarkPath: BENCHMARK, taskId: 12, dest: path.join(tempDir(), 'task12') }).taskDir;

  test('search: --target may be left out when exactly one target is configured; with two it asks for one, leaving nothing', () => {
    const one = simTargets(['sim']);
    const task = fixtureTask();
    const r = speedrun(['search', '--scaffold', 'flat', '--backend', 'replay', '--max-nodes', '1', '--task-dir', task, '--targets-file', one]);
    assert.match(r.err, /targets sim;/, r.err);
    assert.match(r.err, /v_1 \(from v_0\) running as run \S+ on sim/);
    const two = simTargets(['a', 'b']);
    const task2 = fixtureTask();
    const before = tree(task2);
    const refused = speedrun(['search', '--scaffold', 'flat', '--backend', 'replay', '--task-dir', task2, '--targets-file', two]);
    assert.equal(refused.code, 3);
    assertOneSentence(refused.err, /2 targets are configured \(a, b\); pick one with --target NAME/);
    assert.deepEqual(tree(task2), before);
  });

  test('search --time-limit -5 is refused before the search folder is made; sweep --out under a file is bad input (exit 3)', () => {
    const targets = simTargets(['sim']);
    const task = fixtureTask();
    const before = tree(task);
    const r = speedrun(['search', '--scaffold', 'flat', '--backend', 'replay', '--time-limit', '-5', '--task-dir', task, '--targets-file', targets]);
    assert.equal(r.code, 2);
    assertOneSentence(r.err, /--time-limit must be a positive number of minutes \(got '-5'\)/);
    assert.deepEqual(tree(task), before);
    const file = path.join(tempDir(), 'file');
    fs.writeFileSync(file, 'x');
    for (const out of [file, path.join(file, 'sub')]) {
      const s = speedrun(['sweep', '--benchmark', BENCHMARK, '--tasks', '12', '--target', 'sim', '--targets-file', targets, '--backend', 'replay', '--out', out]);
      assert.equal(s.code, 3, s.err);
      assertOneSentence(s.err, /is a file, so .* cannot be created under it; choose another folder/);
    }
  });
});

suite('mcp edges: the server started with bad arguments', function () {
  this.timeout(60_000);

  test('--help exits 0 with the options; bad arguments are one sentence naming the option (exit 2)', () => {
    const help = node(MCP, ['--help']);
    assert.equal(help.code, 0);
    for (const o of ['--task-dir', '--benchmark', '--hint-levels', '--targets-file', '--ssh-config']) assert.match(help.out, new RegExp(o));
    const cases: [string[], RegExp][] = [
      [['--bogus'], /unknown option --bogus/],
      [['--task-dir'], /option --task-dir needs a value/],
      [['--task-dir', '--benchmark'], /option --task-dir needs a value/],
      [['--help=1'], /option --help takes no value/],
      [['extra'], /unexpected argument 'extra'/],
    ];
    for (const [args, re] of cases) {
      const r = node(MCP, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assertOneSentence(r.err, re);
      assert.match(r.err, /node dist\/mcp\.js --help lists the options/);
    }
  });

  test('a --benchmark or --targets-file that is not there is refused at start (exit 3), not at the first call', () => {
    const dir = tempDir();
    const cases: [string[], RegExp][] = [
      [['--benchmark', path.join(dir, 'nope')], /--benchmark .*nope: no such file or folder/],
      [['--benchmark', LOG], /--benchmark .*: not a folder/],
      [['--targets-file', path.join(dir, 'nope.json')], /--targets-file .*nope\.json: no such file or folder/],
      [['--targets-file', dir], /--targets-file .*: not a file/],
    ];
    for (const [args, re] of cases) {
      const r = node(MCP, args);
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.err}`);
      assertOneSentence(r.err, re);
    }
    // Files this user cannot read: run as nobody when the tests run as root (root reads everything).
    const secret = path.join(dir, 'targets.json');
    fs.writeFileSync(secret, '[]', { mode: 0o600 });
    fs.chmodSync(dir, 0o755);
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (process.getuid?.() !== 0) fs.chmodSync(secret, 0);
    const unreadable = spawnSync(process.execPath, [MCP, '--targets-file', secret], { encoding: 'utf8', input: '', ...asUser });
    assert.equal(unreadable.status, 3, unreadable.stderr);
    assertOneSentence(unreadable.stderr, /--targets-file .*targets\.json: permission denied/);
    const task = makeTask({ parent: dir });
    const cli = spawnSync(process.execPath, [CLI, 'run', '--task-dir', task, '--targets-file', secret], { encoding: 'utf8', ...asUser });
    assert.equal(cli.status, 3, cli.stderr);
    assertOneSentence(cli.stderr, /cannot read targets from .*targets\.json: permission denied/);
    // The good ones start (and end with stdin).
    const ok = node(MCP, ['--benchmark', BENCHMARK]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err, /ready: \d+ tools/);
  });
});
