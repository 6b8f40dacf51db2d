// The MCP server (`node dist/mcp.js`) as an MCP client sees it: the SDK's Client over stdio, a task folder opened
// from the fixture benchmark, and a local target on the simulated GPU box.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { openTask } from '../../src/core/benchmark/openTask';
import { RunStore } from '../../src/core/runs/store';
import { REPO_ROOT } from '../support/sshd';
import { makeShards, removeTemps, shortScript, tempDir } from '../support/runFixture';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/benchmark');
const SIM = path.join(REPO_ROOT, 'test/sim');
const MCP = path.join(REPO_ROOT, 'dist/mcp.js');
const hintFile = (record: number, name: string) => path.join(FIXTURE, 'data/nanogpt_speedrun_knowledge_in_levels', `record_${record}`, name);
const recordScript = (record: number) => fs.readFileSync(path.join(FIXTURE, 'workspace_templates/nanogpt_speedrun', `record_${record}`, 'train_gpt2.py'), 'utf8');

interface Session {
  client: Client;
  stderr: () => string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  json(name: string, args?: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

async function connect(args: string[], env: Record<string, string> = {}): Promise<Session> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP, ...args],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const client = new Client({ name: 'speedrun-test', version: '1.0.0' });
  await client.connect(transport);
  const call = async (name: string, a: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: a })) as CallToolResult;
  const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  return {
    client,
    stderr: () => err,
    call,
    json: async (name, a) => {
      const r = await call(name, a);
      assert.ok(!r.isError, `${name} failed: ${text(r)}`);
      return JSON.parse(text(r));
    },
    close: () => client.close(),
  };
}

const errorText = (r: CallToolResult) => {
  assert.equal(r.isError, true, `expected a tool error, got ${JSON.stringify(r.content)}`);
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
};

suite('integration: MCP server over stdio', function () {
  this.timeout(120_000);
  let taskDir: string;
  let targets: string;
  const sessions: Session[] = [];
  const open = async (args: string[] = [], env: Record<string, string> = {}) => {
    const s = await connect(['--task-dir', taskDir, '--benchmark', FIXTURE, ...args], { SPEEDRUN_TARGETS_JSON: targets, ...env });
    sessions.push(s);
    return s;
  };

  suiteSetup(function () {
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    taskDir = openTask({ benchmarkPath: FIXTURE, taskId: 12, dest: path.join(tempDir('speedrun-mcp-'), 'task12') }).taskDir;
    fs.writeFileSync(path.join(taskDir, 'train_gpt2.py'), shortScript(12, 30, 10));
    const box = tempDir('speedrun-mcp-box-');
    const shards = makeShards(path.join(box, 'data'), 12);
    const target = (name: string, env: Record<string, string>) => ({
      name, kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, ...shards, env,
      setup: `export PATH=${SIM}:$PATH PYTHONPATH=${SIM}/pylib`,
    });
    targets = JSON.stringify([
      target('fast', { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '1' }),
      target('slow', { SIM_SPEEDUP: '2', SIM_COMPILE_SECONDS: '1' }),
    ]);
  });
  teardown(async () => {
    for (const s of sessions.splice(0)) await s.close();
  });
  suiteTeardown(removeTemps);

  test('lists the eight tools with JSON schemas', async () => {
    const s = await open();
    const { tools } = await s.client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name).sort(),
      ['cancel_run', 'check_rules', 'compare', 'get_run_log', 'get_task', 'list_tasks', 'run_status', 'start_run'],
    );
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    assert.deepEqual(Object.keys(byName.check_rules.inputSchema.properties ?? {}).sort(), ['taskDir', 'text']);
    assert.deepEqual(byName.get_run_log.inputSchema.required, ['runId']);
    assert.equal(byName.start_run.annotations?.readOnlyHint, false);
    assert.equal(byName.get_task.annotations?.readOnlyHint, true);
    for (const t of tools) assert.ok((t.description ?? '').length > 40, `${t.name} has a description`);
  });

  test('list_tasks reads the clone; no task offers level 0', async () => {
    const s = await open();
    const r = await s.json('list_tasks');
    assert.equal(r.tasks.length, 19);
    const t12 = r.tasks.find((t: { id: number }) => t.id === 12);
    assert.deepEqual([t12.fromRecord, t12.toRecord], [12, 13]);
    assert.equal(t12.baseline.trainTimeMs, JSON.parse(fs.readFileSync(path.join(FIXTURE, 'workspace_templates/nanogpt_speedrun/record_12/results.json'), 'utf8')).metrics.train_time);
    for (const t of r.tasks) assert.ok(!t.hintLevels.includes(0) && !t.hintLevels.includes(9), `task ${t.id}: ${t.hintLevels}`);
  });

  test('get_task gives the brief and exactly the allowed hints, never level 0 or record i+1', async () => {
    const s = await open(['--hint-levels', '1,3']);
    const res = await s.call('get_task');
    const text = errorTextOrBody(res);
    const r = JSON.parse(text);
    assert.equal(r.taskId, 12);
    assert.match(r.brief, /^# Task 12: record 12 → record 13/);
    assert.deepEqual(r.hintLevelsAllowed, [1, 3]);
    assert.deepEqual(r.hints.map((h: { level: number }) => h.level), [1, 3]);
    assert.equal(r.hints[0].text, fs.readFileSync(hintFile(12, 'level_1_pseudo.txt'), 'utf8'));
    // Nothing of the answer: no line of the level-0 diff, no line record 13 added.
    const groundTruth = fs.readFileSync(hintFile(12, 'level_0_diff.txt'), 'utf8');
    const record12 = new Set(recordScript(12).split('\n').map((l) => l.trim()));
    const added = recordScript(13).split('\n').map((l) => l.trim()).filter((l) => l.length > 12 && !record12.has(l));
    assert.ok(added.length > 0, 'the fixture records differ');
    const gtLines = groundTruth.split('\n').filter((l) => /^[+-][^+-]/.test(l) && l.trim().length > 12).map((l) => l.slice(1).trim());
    assert.ok(gtLines.length > 0);
    for (const l of [...added, ...gtLines.filter((l) => !record12.has(l))]) assert.ok(!text.includes(l), `leaked: ${l}`);
  });

  test('get_task without --hint-levels gives no hints', async () => {
    const s = await open();
    const r = await s.json('get_task', { taskDir });
    assert.deepEqual(r.hints, []);
    assert.deepEqual(r.hintLevelsAllowed, []);
  });

  test('--hint-levels 0 is refused at start with one sentence', () => {
    const r = spawnSync(process.execPath, [MCP, '--hint-levels', '0,1'], { encoding: 'utf8', input: '' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /level 0 is never given to an agent/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test('check_rules checks the file, or a proposed text', async () => {
    const s = await open();
    const ok = await s.json('check_rules', {});
    assert.equal(ok.ok, true, JSON.stringify(ok.violations));
    assert.equal(ok.comparedWithBaseline, true);
    const bad = shortScript(12, 30, 10).replace(/save_checkpoint\s*:\s*bool\s*=\s*False/, 'save_checkpoint : bool = True');
    assert.notEqual(bad, shortScript(12, 30, 10));
    const r = await s.json('check_rules', { text: bad });
    assert.equal(r.ok, false);
    assert.deepEqual(r.violations.map((v: { rule: string }) => v.rule), ['save-checkpoint']);
    assert.ok(r.violations[0].line > 1);
  });

  test('start_run, run_status, get_run_log and compare follow a simulated run to its score', async () => {
    const s = await open();
    const started = await s.json('start_run', { target: 'fast' });
    assert.match(started.runId, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
    let st = started;
    for (let i = 0; i < 600 && !st.ended; i++) {
      await new Promise((r) => setTimeout(r, 100));
      st = await s.json('run_status', { runId: started.runId });
    }
    assert.equal(st.state, 'finished', JSON.stringify(st));
    assert.equal(st.final.n_steps, 30);
    // The log in chunks of at most 32 KiB, reassembled, is the stored console.log.
    let log = '';
    let offset = 0;
    for (;;) {
      const c = await s.json('get_run_log', { runId: started.runId, offset });
      log += c.text;
      if (c.nextOffset === offset) break;
      offset = c.nextOffset;
    }
    assert.equal(log, new RunStore(taskDir).readConsole(started.runId).toString());
    assert.match(log, /step:30\/30 val_loss:/);
    const cmp = await s.json('compare', { runId: started.runId });
    assert.equal(cmp.status, 'COMPLETED');
    assert.equal(typeof cmp.fsr, 'number');
    assert.ok(cmp.coverage >= 0 && cmp.coverage < 0.5, `coverage ${cmp.coverage}: only the step count was changed`);
    assert.ok(cmp.referenceHunks.missed > 0);
    assert.ok(!JSON.stringify(cmp).includes('@@'), 'no hunk text');
    const list = await s.json('run_status', {});
    assert.equal(list.runs[0].runId, started.runId);
  });

  test('cancel_run stops a run; a second server re-attaches to a run it did not start', async () => {
    const a = await open();
    const started = await a.json('start_run', { target: 'slow' });
    let st = started;
    while (st.state !== 'training') {
      await new Promise((r) => setTimeout(r, 100));
      st = await a.json('run_status', { runId: started.runId });
    }
    await a.close();
    sessions.splice(sessions.indexOf(a), 1);
    const b = await open();
    const cancelled = await b.json('cancel_run', { runId: started.runId });
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(new RunStore(taskDir).read(started.runId)!.state, 'cancelled');
    const again = await b.json('cancel_run', { runId: started.runId });
    assert.match(again.note, /already ended \(cancelled\)/);
  });

  test('bad arguments and bad requests come back as tool errors with one sentence', async () => {
    const s = await open();
    assert.match(errorText(await s.call('get_run_log', { runId: '../../etc' })), /run id/);
    assert.match(errorText(await s.call('get_run_log', { runId: '20260101-000000-abcd', offset: -5 })), /offset/);
    assert.match(errorText(await s.call('get_run_log', { runId: '20260101-000000-abcd' })), /No run 20260101-000000-abcd/);
    assert.match(errorText(await s.call('get_task', { taskDir: '/nonexistent' })), /not a task workspace/);
    assert.match(errorText(await s.call('start_run', { target: 'nope' })), /No target 'nope'; configured targets: fast, slow/);
    assert.match(errorText(await s.call('start_run', {})), /Several targets are configured/);
    assert.match(errorText(await s.call('nonexistent_tool', {})), /nonexistent_tool/);
    const broken = fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8');
    fs.writeFileSync(path.join(taskDir, 'train_gpt2.py'), broken.replace(/save_checkpoint\s*:\s*bool\s*=\s*False/, 'save_checkpoint : bool = True'));
    try {
      assert.match(errorText(await s.call('start_run', { target: 'fast' })), /Not started: [^]*save_checkpoint/);
    } finally {
      fs.writeFileSync(path.join(taskDir, 'train_gpt2.py'), broken);
    }
    for (const r of [await s.call('get_task', { taskDir: 42 as unknown as string })]) assert.doesNotMatch(errorText(r), /\n\s+at /);
  });
});

function errorTextOrBody(r: CallToolResult): string {
  const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  assert.ok(!r.isError, text);
  return text;
}
