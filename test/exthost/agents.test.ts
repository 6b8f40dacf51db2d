// Agents from the ecosystem inside a real VS Code (code-server 4.99): our language model tools through
// vscode.lm.tools / vscode.lm.invokeTool, the MCP server as the extension would register it, and the @speedrun
// chat handler with a fake response stream and a fake chat model. While extension tests run, VS Code answers
// every modal dialog with yes without showing it, so the confirmation is checked as prepared (prepareTool).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { shellQuote } from '../../src/core/remote/shell';
import type { AgentEvent } from '../../src/core/agent/types';
import type { AgentApi } from '../../src/vscode/agent/agentController';
import type { AgentsApi } from '../../src/vscode/agents';
import type { Runs, Workspace } from '../../src/vscode/services';
import { makeShards } from '../support/runFixture';

const EXT = 'speedrun-workbench.speedrun-workbench';
const REPO = path.resolve(__dirname, '../../..');
const FIXTURE = path.join(REPO, 'test/fixtures/benchmark');
const SIM = path.join(REPO, 'test/sim');
const folder = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const hintText = (name: string) => fs.readFileSync(path.join(FIXTURE, 'data/nanogpt_speedrun_knowledge_in_levels/record_12', name), 'utf8');
const OURS = ['cancel_run', 'check_rules', 'compare', 'get_run_log', 'get_task', 'list_tasks', 'run_status', 'start_run'].map((n) => `speedrun_${n}`);

async function invoke(name: string, input: object): Promise<any> {
  const r = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined });
  const text = r.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
  return JSON.parse(text);
}

/** invokeTool as a Promise (it returns a Thenable). */
const raw = (name: string, opts: vscode.LanguageModelToolInvocationOptions<object>) => Promise.resolve(vscode.lm.invokeTool(name, opts));

/** Lines of the level-0 diff and of record 13 that record 12 does not have: none may reach an agent. */
function answerLines(): string[] {
  const rec = (r: number) => fs.readFileSync(path.join(FIXTURE, 'workspace_templates/nanogpt_speedrun', `record_${r}`, 'train_gpt2.py'), 'utf8');
  const base = new Set(rec(12).split('\n').map((l) => l.trim()));
  const diff = hintText('level_0_diff.txt').split('\n').filter((l) => /^[+-][^+-]/.test(l)).map((l) => l.slice(1).trim());
  return [...rec(13).split('\n').map((l) => l.trim()), ...diff].filter((l) => l.length > 12 && !base.has(l));
}

suite('agents from the ecosystem in VS Code', function () {
  this.timeout(120_000);
  let agents: AgentsApi;
  let agent: AgentApi;
  let runs: Runs;
  let taskDir: string;
  const box = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-agents-box-'));

  suiteSetup(async () => {
    const api = (await vscode.extensions.getExtension(EXT)!.activate()) as { workspace: Workspace; runs: Runs; agents: AgentsApi; agent: AgentApi };
    ({ agents, runs, agent } = api);
    const opened = new Promise<void>((resolve) => {
      const sub = api.workspace.onDidChange((ctx) => ctx && (sub.dispose(), resolve()));
    });
    await vscode.commands.executeCommand('speedrun.openTask', { taskId: 12, dest: folder() });
    if (!api.workspace.current()) await opened;
    taskDir = api.workspace.current()!.taskDir;
    // A short run: 30 steps instead of the record's 1875.
    const script = path.join(taskDir, 'train_gpt2.py');
    fs.writeFileSync(script, fs.readFileSync(script, 'utf8').replace(/num_iterations : int = \d+/, 'num_iterations : int = 30').replace(/val_loss_every : int = \d+/, 'val_loss_every : int = 10'));
    const shards = makeShards(path.join(box, 'data'), 12);
    const target = (name: string) => ({
      name, kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, ...shards,
      setup: `export PATH=${shellQuote(SIM)}:"$PATH" PYTHONPATH=${shellQuote(path.join(SIM, 'pylib'))}`,
      env: { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '1' },
    });
    await vscode.workspace.getConfiguration('speedrun').update('targets', [target('sim'), target('sim-declined')], vscode.ConfigurationTarget.Global);
  });
  suiteTeardown(() => fs.rmSync(box, { recursive: true, force: true }));

  test('vscode.lm.tools lists our eight tools with the schemas package.json declares', () => {
    const ours = vscode.lm.tools.filter((t) => t.name.startsWith('speedrun_'));
    assert.deepEqual(ours.map((t) => t.name).sort(), OURS);
    const pkg = vscode.extensions.getExtension(EXT)!.packageJSON.contributes.languageModelTools as { name: string; inputSchema: object }[];
    for (const t of ours) assert.deepEqual(t.inputSchema, pkg.find((p) => p.name === t.name)!.inputSchema, t.name);
    assert.ok(ours.every((t) => t.tags.includes('speedrun')));
  });

  test('get_task through invokeTool gives the hint levels of speedrun.tools.hintLevels and nothing of the answer', async () => {
    const r = await invoke('speedrun_get_task', {});
    assert.equal(r.taskId, 12);
    assert.deepEqual(r.hintLevelsAllowed, [1]);
    assert.deepEqual(r.hints.map((h: { level: number }) => h.level), [1]);
    assert.equal(r.hints[0].text, hintText('level_1_pseudo.txt'));
    const all = JSON.stringify(r);
    for (const l of answerLines()) assert.ok(!all.includes(l), `leaked: ${l}`);
  });

  test('check_rules sees unsaved edits in the open editor', async () => {
    const doc = await vscode.workspace.openTextDocument(path.join(taskDir, 'train_gpt2.py'));
    await vscode.window.showTextDocument(doc);
    assert.equal((await invoke('speedrun_check_rules', {})).ok, true);
    const saved = doc.getText();
    const whole = () => new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, whole(), saved.replace(/save_checkpoint\s*:\s*bool\s*=\s*False/, 'save_checkpoint : bool = True'));
    assert.ok(await vscode.workspace.applyEdit(edit));
    try {
      assert.ok(doc.isDirty);
      const r = await invoke('speedrun_check_rules', {});
      assert.equal(r.ok, false);
      assert.deepEqual(r.violations.map((v: { rule: string }) => v.rule), ['save-checkpoint']);
      // start_run refuses before any confirmation or run.
      const before = runs.list(taskDir).length;
      await assert.rejects(raw('speedrun_start_run', { input: { target: 'sim' }, toolInvocationToken: undefined }), /Not started: [^]*save_checkpoint/);
      assert.equal(runs.list(taskDir).length, before);
      assert.equal((await agents.prepareTool('start_run', { target: 'sim' })).confirmationMessages, undefined, 'no confirmation for a run that will be refused');
      assert.equal(fs.readFileSync(doc.uri.fsPath, 'utf8'), saved, 'the file on disk is untouched');
    } finally {
      const back = new vscode.WorkspaceEdit();
      back.replace(doc.uri, whole(), saved);
      await vscode.workspace.applyEdit(back);
      await doc.save();
    }
    assert.equal(doc.getText(), saved);
  });

  test('start_run asks before spending GPU time; the run is ours (Runs view) and scores through the tools', async () => {
    const ask = (await agents.prepareTool('start_run', { target: 'sim' })).confirmationMessages;
    assert.equal(ask?.title, 'Start a training run?');
    assert.match(ask.message instanceof vscode.MarkdownString ? ask.message.value : ask.message, /target \*\*sim\*\*.*up to 60 minutes/);
    assert.ok((await agents.prepareTool('cancel_run', { runId: '20261201-000000-abcd' })).confirmationMessages, 'cancel_run asks too');
    for (const name of ['get_task', 'check_rules', 'run_status', 'get_run_log', 'compare', 'list_tasks']) {
      assert.equal((await agents.prepareTool(name, {})).confirmationMessages, undefined, `${name} only reads`);
    }
    const started = await invoke('speedrun_start_run', { target: 'sim' });
    assert.equal(runs.get(started.runId)?.origin, 'agent', 'the run went through the editor run controller');
    const end = await runs.waitForEnd(started.runId);
    assert.equal(end.state, 'finished', JSON.stringify(end.failure));
    const st = await invoke('speedrun_run_status', { runId: started.runId });
    assert.equal(st.final.n_steps, 30);
    const log = await invoke('speedrun_get_run_log', { runId: started.runId });
    assert.match(log.text, /step:30\/30 val_loss:/);
    const cmp = await invoke('speedrun_compare', { runId: started.runId });
    assert.equal(cmp.status, 'COMPLETED');
    assert.equal(typeof cmp.fsr, 'number');
  });

  test('bad input to a tool is an error the model can read', async () => {
    await assert.rejects(raw('speedrun_get_run_log', { input: { runId: 'nope' }, toolInvocationToken: undefined }), /runId.*run id looks like/);
    await assert.rejects(raw('speedrun_start_run', { input: { target: 'nope' }, toolInvocationToken: undefined }), /No target 'nope'; configured targets: sim, sim-declined/);
  });

  test('the MCP server definition: registered only where VS Code has the API, and its command line serves the tools', async () => {
    const hasApi = typeof (vscode.lm as unknown as { registerMcpServerDefinitionProvider?: unknown }).registerMcpServerDefinitionProvider === 'function';
    assert.equal(agents.mcpRegistered, hasApi);
    const launch = agents.mcpLaunch();
    assert.ok(!launch.args.some((a) => a.includes('SIM_SPEEDUP')), 'targets travel in the environment, not argv');
    const client = new Client({ name: 'exthost', version: '1' });
    await client.connect(new StdioClientTransport({ command: launch.command, args: launch.args, env: { ...launch.env, PATH: process.env.PATH ?? '' } }));
    try {
      const { tools } = await client.listTools();
      assert.equal(tools.length, 8);
      const r = (await client.callTool({ name: 'get_task', arguments: {} })) as { content: { type: string; text: string }[] };
      const task = JSON.parse(r.content[0].text);
      assert.equal(task.taskDir, taskDir);
      assert.deepEqual(task.hints.map((h: { level: number }) => h.level), [1]);
      const status = (await client.callTool({ name: 'run_status', arguments: {} })) as { content: { text: string }[] };
      assert.ok(JSON.parse(status.content[0].text).runs.length >= 1, 'sees the runs the editor started');
    } finally {
      await client.close();
    }
  });

  test("an ACP agent's permission question opens its diff beside the editor and maps the answer to the agent's option", async () => {
    const q = {
      turn: 3, title: 'Edit train_gpt2.py', kind: 'edit',
      diff: { path: '/x/train_gpt2.py', oldText: 'a = 1\n', newText: 'a = 2\n' },
      options: [{ optionId: 'ok-1', name: 'Allow', kind: 'allow_once' as const }, { optionId: 'no-1', name: 'Reject', kind: 'reject_once' as const }],
    };
    const asked: string[][] = [];
    const r = await agents.askAcpPermission(q, async (message, _detail, choices) => (asked.push([message, ...choices]), 'Reject'));
    assert.deepEqual(r, { optionId: 'no-1' });
    assert.deepEqual(asked, [['The agent asks to: Edit train_gpt2.py', 'Allow', 'Reject']]);
    const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === 'speedrun-acp');
    assert.ok(tab, 'the proposed change is open as a diff');
    assert.match(tab.label, /train_gpt2\.py: the agent's proposed change \(turn 3\)/);
    const input = tab.input as vscode.TabInputTextDiff;
    assert.equal((await vscode.workspace.openTextDocument(input.modified)).getText(), 'a = 2\n');
    assert.equal((await vscode.workspace.openTextDocument(input.original)).getText(), 'a = 1\n');
    assert.equal((await agents.askAcpPermission(q, async () => undefined)).optionId, undefined, 'dismissed');
    await vscode.window.tabGroups.close(vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === 'speedrun-acp'));
  });

  test('an ACP agent works a turn in the editor: it reads the unsaved document, its edit lands in it, reads outside the task are refused', async function () {
    this.timeout(120_000);
    assert.equal(await agent.clientReady(), true);
    await vscode.workspace.getConfiguration('speedrun.agent').update('autoAccept', true, vscode.ConfigurationTarget.Global);
    const doc = await vscode.workspace.openTextDocument(path.join(taskDir, 'train_gpt2.py'));
    await vscode.window.showTextDocument(doc);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, doc.positionAt(doc.getText().length), '\n# edited in the editor, not saved\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const log = path.join(box, 'acp.jsonl');
    const command = ['env', `FAKE_ACP_LOG=${log}`, `FAKE_ACP_OUTSIDE=${path.join(box, 'data', 'fineweb_val_000000.bin')}`, process.execPath, path.join(REPO, 'out/test/support/fakeAcpAgent.js')]
      .map((w) => shellQuote(w)).join(' ');
    const events: AgentEvent[] = [];
    const ended = new Promise<void>((resolve) => {
      const sub = agent.onDidEvent((e) => {
        events.push(e);
        if (e.type === 'end') {
          sub.dispose();
          resolve();
        }
      });
    });
    const started = await vscode.commands.executeCommand<{ sessionId: string } | undefined>('speedrun.startAgent', {
      backend: { kind: 'acp', command }, hintLevels: [], target: 'sim', budget: { iterations: 1, runs: 1, tokens: 1_000_000 },
    });
    assert.ok(started?.sessionId, 'the session started');
    await ended;
    const steps = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: string; detail: any });
    const step = (name: string) => steps.find((x) => x.step === name)?.detail;
    assert.equal(step('read').marker, true, 'fs/read_text_file answered from the open document');
    assert.match(step('outside-read'), /outside the task folder/);
    assert.deepEqual(step('permission'), { outcome: 'selected', optionId: 'yes' }, 'auto-accept answers edits with allow');
    assert.match(doc.getText(), /num_iterations : int = 28/);
    assert.match(doc.getText(), /# edited in the editor, not saved/);
    const kinds = events.map((e) => e.type);
    assert.ok(kinds.includes('edit') && kinds.includes('run-end'), kinds.join(' '));
    assert.ok(events.some((e) => e.type === 'note' && /^plan:/.test(e.text)));
    assert.ok(events.some((e) => e.type === 'response' && /Lowered num_iterations to 28/.test(e.text)));
    await vscode.workspace.getConfiguration('speedrun.agent').update('autoAccept', false, vscode.ConfigurationTarget.Global);
  });

  suite('@speedrun chat participant', () => {
    interface Recorded { kind: string; value: string }
    function fakeStream(): { stream: vscode.ChatResponseStream; parts: Recorded[]; text: () => string } {
      const parts: Recorded[] = [];
      const rec = (kind: string) => (v: unknown) => void parts.push({ kind, value: typeof v === 'string' ? v : v instanceof vscode.MarkdownString ? v.value : JSON.stringify(v) });
      const stream = { markdown: rec('markdown'), button: rec('button'), progress: rec('progress'), anchor: rec('anchor'), reference: rec('reference'), filetree: rec('filetree'), push: rec('push') };
      return { stream: stream as unknown as vscode.ChatResponseStream, parts, text: () => parts.filter((p) => p.kind === 'markdown').map((p) => p.value).join('') };
    }
    const request = (prompt: string, command?: string, model?: unknown) =>
      ({ prompt, command, model, references: [], toolReferences: [], toolInvocationToken: undefined }) as unknown as vscode.ChatRequest;
    const ctx = { history: [] } as unknown as vscode.ChatContext;
    const token = new vscode.CancellationTokenSource().token;

    test('/task and /runs answer about the open task', async () => {
      const s = fakeStream();
      await agents.chatHandler()(request('', 'task'), ctx, s.stream, token);
      assert.match(s.text(), /\*\*Task 12\*\*: start from record 12/);
      assert.match(s.text(), /level 1 \(level_1_pseudo\.txt\)/);
      assert.match(s.text(), /\*\*finished\*\*, val loss [\d.]+ after 30 steps/);
      const r = fakeStream();
      await agents.chatHandler()(request('', 'runs'), ctx, r.stream, token);
      assert.match(r.text(), /on sim: \*\*finished\*\*/);
      assert.ok(r.parts.some((p) => p.kind === 'button' && p.value.includes('speedrun.openDashboard')));
    });

    test('/rules reports the rule check', async () => {
      const s = fakeStream();
      await agents.chatHandler()(request('', 'rules'), ctx, s.stream, token);
      assert.match(s.text(), /keeps every rule/);
    });

    test('/agent starts the agent', async () => {
      let started = 0;
      const s = fakeStream();
      await agents.chatHandler({ startAgent: async () => void started++ })(request('', 'agent'), ctx, s.stream, token);
      assert.equal(started, 1);
      assert.ok(s.parts.some((p) => p.kind === 'button' && p.value.includes('speedrun.showTranscript')));
    });

    test('a question goes to the chat model with the task as context, never the answer', async () => {
      let sent: vscode.LanguageModelChatMessage[] = [];
      const model = {
        sendRequest: async (messages: vscode.LanguageModelChatMessage[]) => {
          sent = messages;
          return { text: (async function* () { yield 'Try '; yield 'a shorter warmup.'; })() };
        },
      };
      const s = fakeStream();
      const result = await agents.chatHandler()(request('What should I try first?', undefined, model), ctx, s.stream, token);
      assert.equal((result as vscode.ChatResult)?.errorDetails, undefined);
      assert.equal(s.text(), 'Try a shorter warmup.');
      const content = sent.map((m) => m.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('')).join('\n');
      assert.match(content, /# Task 12: record 12 → record 13/);
      assert.ok(content.includes(hintText('level_1_pseudo.txt').trim().slice(0, 200)), 'the allowed hint is in the context');
      assert.ok(!content.includes(hintText('level_2_description.txt').trim().slice(0, 200)), 'a level the user did not allow is not');
      for (const l of answerLines()) assert.ok(!content.includes(l), `leaked: ${l}`);
      assert.match(content, /What should I try first\?/);
    });

    test('without a task it says so and offers Open Task', async () => {
      const s = fakeStream();
      const host = { benchmarkPath: () => undefined, hintLevels: () => [], defaultTaskDir: () => undefined, runs: {} } as never;
      await agents.chatHandler({ host })(request('hello'), ctx, s.stream, token);
      assert.match(s.text(), /No speedrun task is open/);
      assert.ok(s.parts.some((p) => p.kind === 'button' && p.value.includes('speedrun.openTask')));
    });
  });
});
