// `speedrun agent` and the rule check of `speedrun run`, as a user types them: the fake OpenAI-compatible server
// stands in for the model, a `local` target with the simulated box (test/sim) runs the attempts through the same
// run engine as `speedrun run`.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listCheckpoints, readCheckpoint } from '../../src/core/agent/checkpoints';
import { readTranscript } from '../../src/core/agent/transcript';
import type { AgentEvent } from '../../src/core/agent/types';
import { shellQuote } from '../../src/core/remote/shell';
import { RunStore } from '../../src/core/runs/store';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fakeOpenAI';
import { makeShards } from '../support/runFixture';
import { REPO_ROOT } from '../support/sshd';
import { cleanupTemps, makeTaskDir, recordScript, tempDir } from '../unit/agentHelpers';

const CLI = path.resolve(__dirname, '../../src/cli.js');
const SIM = path.join(REPO_ROOT, 'test/sim');
const KEY = 'sk-headless-secret-4242';

const block = (search: string, replace: string) => `train_gpt2.py\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;
const setSteps = (from: number, to: number) =>
  `Train for ${to} steps instead of ${from}.\n\n${block(`    num_iterations : int = ${from} # optimizer steps`, `    num_iterations : int = ${to} # optimizer steps`)}`;

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENAI_API_KEY: '', SPEEDRUN_AGENT_API_KEY: '', ...env } });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (b) => (stdout += b));
  p.stderr.on('data', (b) => (stderr += b));
  return new Promise((resolve) => p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/** A targets file with one `local` target on the simulated box. */
function simTargets(): string {
  const box = tempDir('speedrun-agent-box-');
  const shards = makeShards(path.join(box, 'data'), 12);
  const file = path.join(box, 'targets.json');
  fs.writeFileSync(
    file,
    JSON.stringify([
      { name: 'sim', kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, setup: `export PATH=${SIM}:$PATH PYTHONPATH=${SIM}/pylib`, ...shards, env: { SIM_SPEEDUP: '3000', SIM_COMPILE_SECONDS: '1' } },
    ]),
  );
  return file;
}

suite('integration: speedrun agent (headless) on the simulated box', function () {
  this.timeout(120_000);
  let fake: FakeOpenAI | undefined;
  teardown(async () => {
    await fake?.close();
    fake = undefined;
    cleanupTemps();
  });

  test('two turns run through the run engine; the faster attempt is kept, with checkpoints and a transcript', async () => {
    const taskDir = makeTaskDir(12);
    const targets = simTargets();
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1700) }, { content: setSteps(1700, 1800) }] });
    const r = await cli(
      ['agent', '--task-dir', taskDir, '--backend', 'openai', '--base-url', fake.baseUrl, '--model', 'fake', '--hint-level', '2', '--max-turns', '2', '--targets-file', targets, '--json'],
      { SPEEDRUN_AGENT_API_KEY: KEY },
    );
    assert.equal(r.code, 0, r.stderr);
    // --json: one transcript event per line, nothing else on stdout.
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as AgentEvent);
    assert.deepEqual(events.map((e) => e.type), readTranscript(taskDir).map((e) => e.type), 'stdout holds exactly the stored transcript');
    const types = events.map((e) => e.type);
    assert.deepEqual(
      types.filter((t) => ['turn', 'run-start', 'run-end', 'best', 'restore', 'end'].includes(t)),
      ['turn', 'run-start', 'run-end', 'best', 'turn', 'run-start', 'run-end', 'restore', 'end'],
      'turn 2 (1800 steps) is slower, so the end restores turn 1',
    );
    const session = events[0] as Extract<AgentEvent, { type: 'session' }>;
    assert.deepEqual([session.type, session.target, session.hintLevels, session.model], ['session', 'sim', [2], 'fake']);
    const ends = events.filter((e): e is Extract<AgentEvent, { type: 'run-end' }> => e.type === 'run-end');
    assert.deepEqual(ends.map((e) => [e.outcome.state, e.outcome.final?.n_steps]), [['finished', 1700], ['finished', 1800]]);
    const end = events.at(-1) as Extract<AgentEvent, { type: 'end' }>;
    assert.deepEqual([end.turns, end.runs, end.best?.turn], [2, 2, 1]);
    // The runs are ordinary runs of the task, made by the agent.
    const runs = new RunStore(taskDir).list();
    assert.deepEqual(runs.map((m) => [m.origin, m.state]).sort(), [['agent', 'finished'], ['agent', 'finished']]);
    assert.equal(end.best?.runId, ends[0].outcome.runId);
    const ranSteps = ends.map((e) => /num_iterations : int = (\d+)/.exec(fs.readFileSync(path.join(new RunStore(taskDir).dir(e.outcome.runId!), 'train_gpt2.py'), 'utf8'))![1]);
    assert.deepEqual(ranSteps, ['1700', '1800'], "each run's snapshot is its turn's script");
    // The best attempt (1700 steps) is what the file holds; the checkpoints hold the script before each turn.
    assert.match(fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8'), /num_iterations : int = 1700 #/);
    const cps = listCheckpoints(taskDir);
    assert.deepEqual(cps.map((c) => c.turn), [1, 2, 3]);
    assert.equal(readCheckpoint(taskDir, cps[0].n), recordScript(12));
    // The key went to the endpoint, and nowhere else.
    assert.equal(fake.requests[0].headers.authorization, `Bearer ${KEY}`);
    assert.ok(!fs.readFileSync(path.join(taskDir, '.speedrun/agent/transcript.jsonl'), 'utf8').includes(KEY));
    assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY));
    // The second prompt remembers the first turn's result.
    assert.match(fake.requests[1].body.messages![1].content, /Turn 1: Train for 1700 steps[\s\S]*finished: val loss/);
  });

  test('--no-run proposes and checks rules but starts no run; the human output says what happened', async () => {
    const taskDir = makeTaskDir(12);
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1750) }] });
    const r = await cli(['agent', '--task-dir', taskDir, '--base-url', fake.baseUrl, '--model', 'fake', '--max-turns', '1', '--no-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[agent\] turn 1 \(checkpoint #1\) starts from the starting script/);
    assert.match(r.stderr, /did not start: runs are off for this session \(--no-run\)/);
    assert.match(r.stderr, /ended \(iteration budget used \(1\)\) · 1 turn · 0 runs/);
    assert.equal(fs.existsSync(path.join(taskDir, '.speedrun/runs')), false, 'no run was made');
    assert.match(r.stdout, /^runs were off \(--no-run\): .*train_gpt2\.py holds the last accepted change/);
    assert.match(fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8'), /num_iterations : int = 1750 #/);
  });

  test('--json reaches a slow reader on a pipe whole (hundreds of KB of events)', async () => {
    const taskDir = makeTaskDir(12);
    let n = 0;
    fake = await startFakeOpenAI({ respond: () => ({ content: setSteps(1875 - 10 * n, 1875 - 10 * ++n) }) });
    const argv = [process.execPath, CLI, 'agent', '--task-dir', taskDir, '--base-url', fake.baseUrl, '--model', 'fake', '--max-turns', '8', '--no-run', '--json'];
    const p = spawn('sh', ['-c', `${argv.map(shellQuote).join(' ')} | (sleep 2; cat)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    assert.equal(await new Promise((ok) => p.on('close', ok)), 0);
    const lines = out.trimEnd().split('\n');
    assert.ok(out.length > 200_000, `${out.length} bytes`);
    const events = lines.map((l) => JSON.parse(l) as AgentEvent);
    assert.equal(events.at(-1)?.type, 'end');
    assert.equal(events.length, readTranscript(taskDir).length);
  });

  test('bad input: one sentence and a usage/bad-input exit code, nothing started', async () => {
    const taskDir = makeTaskDir(12);
    const cases: [string[], number, RegExp][] = [
      [['--hint-level', '0', '--no-run'], 2, /hint level 0 is the answer .* never given to an agent/],
      [['--max-turns', 'two', '--no-run'], 2, /--max-turns must be a positive whole number/],
      [['--backend', 'gpt', '--no-run'], 2, /--backend must be openai, acp or replay/],
      [['--backend', 'acp', '--no-run'], 2, /--backend acp needs --agent-command CMD/],
      [['--backend', 'acp', '--agent-command', '/nonexistent/agent --acp', '--no-run'], 3, /--agent-command: \/nonexistent\/agent is not an executable file/],
      [['--strategy', 'bogus', '--no-run'], 2, /--strategy must be one of sequential/],
      [['--targets-file', path.join(taskDir, 'none.json')], 3, /cannot read targets from .*none\.json/],
    ];
    for (const [args, code, re] of cases) {
      const r = await cli(['agent', '--task-dir', taskDir, ...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.equal(fs.existsSync(path.join(taskDir, '.speedrun/agent')), false, 'no session was opened');
    const help = await cli(['agent', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: speedrun agent \[options\]/);
    assert.match(help.stdout, /--backend KIND[\s\S]*?\(default: openai\)/);
    assert.match(help.stdout, /Example[\s\S]*speedrun agent --/);
    const notTask = tempDir();
    fs.writeFileSync(path.join(notTask, 'train_gpt2.py'), 'print(1)\n');
    const r = await cli(['agent', '--task-dir', notTask, '--no-run']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /not a task workspace \(open-task makes one\)/);
  });
});

suite('integration: speedrun run checks the benchmark rules first', function () {
  this.timeout(120_000);
  teardown(cleanupTemps);

  test('a script that breaks a rule is refused (exit 3) unless --ignore-rules', async () => {
    const taskDir = makeTaskDir(12);
    const targets = simTargets();
    const script = path.join(taskDir, 'train_gpt2.py');
    fs.writeFileSync(script, recordScript(12).replace('save_checkpoint : bool = False', 'save_checkpoint : bool = True'));
    const refused = await cli(['run', '--task-dir', taskDir, '--target', 'sim', '--targets-file', targets]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /\[save-checkpoint\] line \d+: save_checkpoint must stay False/);
    assert.match(refused.stderr, /breaks a benchmark rule, so the run would not count\. Fix it, or pass --ignore-rules/);
    assert.equal(new RunStore(taskDir).list().length, 0, 'no run was made');
    const forced = await cli(['run', '--task-dir', taskDir, '--target', 'sim', '--targets-file', targets, '--ignore-rules']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /Running it anyway \(--ignore-rules\)/);
    assert.equal(new RunStore(taskDir).list().length, 1);
  });
});
