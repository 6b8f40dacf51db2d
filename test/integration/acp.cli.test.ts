// `speedrun agent --backend acp` headless: our fake ACP agent process works a task, its terminal request to run
// the script becomes a real run on the simulated GPU box (a local target), and the turn's own run follows.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listCheckpoints } from '../../src/core/agent/checkpoints';
import { openTask } from '../../src/core/benchmark/openTask';
import { RunStore } from '../../src/core/runs/store';
import { REPO_ROOT } from '../support/sshd';
import { makeShards, removeTemps, shortScript, tempDir } from '../support/runFixture';

const CLI = path.resolve(__dirname, '../../src/cli.js');
const AGENT = path.resolve(__dirname, '../support/fakeAcpAgent.js');
const SIM = path.join(REPO_ROOT, 'test/sim');

suite('integration: speedrun agent with an ACP agent', function () {
  this.timeout(120_000);
  suiteTeardown(removeTemps);

  test('edits land in the file, the run the agent asks for is a real run, and the transcript keeps its plan and tool calls', () => {
    const root = tempDir('speedrun-acp-cli-');
    const taskDir = openTask({ benchmarkPath: path.join(REPO_ROOT, 'test/fixtures/benchmark'), taskId: 12, dest: path.join(root, 'task') }).taskDir;
    fs.writeFileSync(path.join(taskDir, 'train_gpt2.py'), shortScript(12, 30, 10));
    const shards = makeShards(path.join(root, 'data'), 12);
    const targets = path.join(root, 'targets.json');
    fs.writeFileSync(targets, JSON.stringify([{
      name: 'sim', kind: 'local', remoteDir: path.join(root, 'work'), gpus: 8, ...shards,
      setup: `export PATH=${SIM}:$PATH PYTHONPATH=${SIM}/pylib`, env: { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '1' },
    }]));
    const log = path.join(root, 'agent.jsonl');
    const r = spawnSync(process.execPath, [
      CLI, 'agent', '--task-dir', taskDir, '--backend', 'acp', '--agent-command', `${process.execPath} ${AGENT}`,
      '--max-turns', '1', '--max-runs', '2', '--targets-file', targets, '--json',
    ], { encoding: 'utf8', env: { ...process.env, FAKE_ACP_RUN: '1', FAKE_ACP_LOG: log, FAKE_ACP_OUTSIDE: path.join(root, 'targets.json') } });
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const steps = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.match(steps.find((s: { step: string }) => s.step === 'outside-read').detail, /outside the task folder/);
    const ran = steps.find((s: { step: string }) => s.step === 'terminal-run').detail;
    assert.equal(ran.exitCode, 0);
    assert.match(ran.output, /^Run \d{8}-\d{6}-[0-9a-f]{4} finished: val_loss [\d.]+ after 28 steps/);
    assert.match(fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8'), /num_iterations : int = 28/);
    const runs = new RunStore(taskDir).list();
    assert.equal(runs.length, 2, 'the agent run and the turn run');
    assert.ok(runs.every((m) => m.state === 'finished' && m.origin === 'agent'));
    assert.deepEqual(events.filter((e) => e.type === 'run-start').map((e) => e.runId), runs.map((m) => m.runId));
    assert.ok(events.some((e) => e.type === 'note' && /^plan:/.test(e.text)));
    assert.ok(events.some((e) => e.type === 'response' && e.text === 'Lowered num_iterations to 28. That should train faster.'));
    assert.equal(listCheckpoints(taskDir).length, 1);
    const transcript = fs.readFileSync(path.join(taskDir, '.speedrun/agent/transcript.jsonl'), 'utf8');
    assert.match(transcript, /tool call: Edit train_gpt2.py/);
  });
});
