// The agent-facing tools of src/core/tools without any face: guard rails (no level 0, no record i+1 text),
// argument checks, log chunks, target choice, and package.json declaring the same schemas VS Code will see.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadManifest } from '../../src/core/benchmark/catalog';
import { openTask } from '../../src/core/benchmark/openTask';
import type { AgentHintLevel } from '../../src/core/agent/types';
import { RunStore } from '../../src/core/runs/store';
import type { RunMeta } from '../../src/core/runs/types';
import { pickTarget } from '../../src/core/tools/managerRuns';
import { callTool, inputJsonSchema, readLogChunk, TOOLS, ToolError, type ToolHost, type ToolSpec } from '../../src/core/tools/tools';
import { FIXTURE, REPO, cleanupTemps, hintDir, tempDir } from './benchmarkHelpers';

function host(taskDir: string | undefined, levels: number[], over: Partial<ToolHost> = {}): ToolHost {
  const started: string[] = [];
  return {
    benchmarkPath: () => FIXTURE,
    hintLevels: () => levels as AgentHintLevel[],
    defaultTaskDir: () => taskDir,
    runs: {
      start: async (dir, target) => {
        started.push(`${dir}@${target}`);
        throw new ToolError('no runs in unit tests');
      },
      cancel: async () => { throw new ToolError('no runs'); },
      get: (dir, id) => new RunStore(dir).read(id),
      list: (dir) => new RunStore(dir).list(),
    },
    ...over,
  };
}

async function rejects(p: Promise<unknown>, re: RegExp) {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof ToolError, `not a ToolError: ${e.stack}`);
    assert.match(e.message, re);
    return true;
  });
}

suite('agent tools (core)', () => {
  let taskDir: string;
  setup(() => {
    taskDir = openTask({ benchmarkPath: FIXTURE, taskId: 3, dest: path.join(tempDir('speedrun-tools-'), 't') }).taskDir;
  });
  teardown(cleanupTemps);

  test('get_task drops level 0 even when a host asks for it', async () => {
    const r = (await callTool(host(taskDir, [0, 2, 9]), 'get_task', {})) as { hints: { level: number; text: string }[]; hintLevelsAllowed: number[] };
    assert.deepEqual(r.hintLevelsAllowed, [2]);
    assert.deepEqual(r.hints.map((h) => h.level), [2]);
    assert.equal(r.hints[0].text, fs.readFileSync(path.join(hintDir(FIXTURE, 3), 'level_2_description.txt'), 'utf8'));
    const all = JSON.stringify(await callTool(host(taskDir, [1, 2, 3]), 'get_task', {}));
    const diff = fs.readFileSync(path.join(hintDir(FIXTURE, 3), 'level_0_diff.txt'), 'utf8');
    const telltale = diff.split('\n').filter((l) => /^\+[^+]/.test(l) && l.length > 20);
    assert.ok(telltale.length > 0);
    for (const l of telltale) assert.ok(!all.includes(l.slice(1).trim()), `level 0 leaked: ${l}`);
  });

  test("no tool tells what record i+1 changed: the manifest's summaries stay out", async () => {
    const summaries = loadManifest().tasks.map((t) => t.summary);
    const outputs = [
      await callTool(host(taskDir, [1, 2, 3]), 'list_tasks', {}),
      await callTool(host(taskDir, [1, 2, 3], { benchmarkPath: () => undefined }), 'list_tasks', {}),
      // Without hints: a hint may describe the change (that is what the user allowed); nothing else may.
      await callTool(host(taskDir, []), 'get_task', {}),
    ].map((o) => JSON.stringify(o));
    for (const out of outputs) for (const sum of summaries) assert.ok(!out.includes(sum.slice(0, 40)), `summary leaked: ${sum}`);
  });

  test('a call without taskDir and no open task says what to pass', async () => {
    await rejects(callTool(host(undefined, []), 'get_task', {}), /No task is open: pass taskDir/);
    await rejects(callTool(host(undefined, []), 'check_rules', { taskDir: path.join(taskDir, 'nope') }), /not a task workspace/);
  });

  test('arguments are checked against the schema, extra keys included', async () => {
    const h = host(taskDir, []);
    await rejects(callTool(h, 'get_run_log', {}), /get_run_log: 'runId'/);
    await rejects(callTool(h, 'get_run_log', { runId: '20260101-000000-abcd', offset: 1.5 }), /'offset'/);
    await rejects(callTool(h, 'check_rules', { text: 'x', bogus: 1 }), /bogus/);
    await rejects(callTool(h, 'no_such_tool', {}), /Unknown tool 'no_such_tool'/);
  });

  test('check_rules reads the open document before the file', async () => {
    const edited = fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8').replace(/save_checkpoint\s*:\s*bool\s*=\s*False/, 'save_checkpoint : bool = True');
    const fromFile = (await callTool(host(taskDir, []), 'check_rules', {})) as { ok: boolean };
    assert.equal(fromFile.ok, true);
    const fromEditor = (await callTool(host(taskDir, [], { readScript: () => edited }), 'check_rules', {})) as { ok: boolean; violations: { rule: string }[] };
    assert.equal(fromEditor.ok, false);
    assert.deepEqual(fromEditor.violations.map((v) => v.rule), ['save-checkpoint']);
  });

  test('start_run refuses a rule-breaking script before asking for a run', async () => {
    let asked = false;
    const h = host(taskDir, [], {
      readScript: () => 'print("hello")\n',
      runs: { ...host(taskDir, []).runs, start: async () => ((asked = true), {} as RunMeta) },
    });
    await rejects(callTool(h, 'start_run', {}), /^Not started: train_gpt2.py breaks \d+ benchmark rules/);
    assert.equal(asked, false);
  });

  test('compare gives numbers only, no line of record i+1', async () => {
    const r = (await callTool(host(taskDir, []), 'compare', {})) as Record<string, unknown>;
    assert.equal(r.coverage, 0);
    assert.equal(r.fsr, null);
    assert.ok((r.referenceHunks as { missed: number }).missed > 0);
    assert.deepEqual(Object.keys(r).sort(), ['coverage', 'extraHunks', 'extraneous', 'fsr', 'referenceHunks', 'runId', 'status', 'trainTimeMs', 'valLoss', 'valid']);
  });

  test('log chunks end at a line break and never split a UTF-8 character', () => {
    const store = new RunStore(taskDir);
    const runId = '20261201-000000-abcd';
    store.create({ runId, taskId: 3, target: 't', state: 'finished', createdAt: '', scriptSha256: '' }, Buffer.from(''));
    const text = 'step 1 ✓ ok\n'.repeat(50) + 'ünïcödé'.repeat(40);
    store.appendConsole(runId, Buffer.from(text));
    let got = '';
    let offset = 0;
    for (let i = 0; i < 1000; i++) {
      const c = readLogChunk(taskDir, runId, offset, 37);
      assert.ok(!c.text.includes('\uFFFD'), `split character at ${offset}`);
      got += c.text;
      if (c.nextOffset === offset) break;
      offset = c.nextOffset;
    }
    assert.equal(got, text);
    assert.equal(readLogChunk(taskDir, runId, 10 ** 9).text, '');
  });

  test('the target is the named one or the only one', () => {
    assert.equal(pickTarget([{ name: 'a' }], undefined), 'a');
    assert.equal(pickTarget([{ name: 'a' }, { name: 'b' }], 'b'), 'b');
    assert.throws(() => pickTarget([{ name: 'a' }, { name: 'b' }], undefined), /Several targets are configured \(a, b\): pass target/);
    assert.throws(() => pickTarget([], undefined), /No target is configured/);
    assert.throws(() => pickTarget([{ name: 'a' }], 'c'), /No target 'c'; configured targets: a/);
  });

  test('package.json declares every tool for VS Code with the same input schema', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    const declared = pkg.contributes.languageModelTools as { name: string; modelDescription: string; inputSchema: unknown }[];
    assert.deepEqual(declared.map((t) => t.name), TOOLS.map((t) => `speedrun_${t.name}`));
    for (const tool of TOOLS as ToolSpec[]) {
      const d = declared.find((x) => x.name === `speedrun_${tool.name}`)!;
      assert.equal(d.modelDescription, tool.description, `${tool.name}: modelDescription differs from src/core/tools`);
      assert.deepEqual(d.inputSchema, inputJsonSchema(tool), `${tool.name}: inputSchema differs; regenerate it from inputJsonSchema()`);
    }
    assert.deepEqual(pkg.contributes.chatParticipants.map((p: { id: string }) => p.id), ['speedrun.chat']);
    assert.deepEqual(pkg.contributes.mcpServerDefinitionProviders.map((p: { id: string }) => p.id), ['speedrun.mcp']);
  });
});
