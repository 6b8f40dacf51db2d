// The agent inside a real VS Code (code-server): the language client and server, the live edit view, review,
// checkpoints, and runs on the simulated GPU box (a `local` target with test/sim first on PATH). The model is
// the fake OpenAI-compatible server from test/support, running in this extension host on a free port.
// Default session: an empty workspace folder and the fixture clone as speedrun.benchmarkPath.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listCheckpoints, readCheckpoint } from '../../src/core/agent/checkpoints';
import { applyBlocks, parseBlocks } from '../../src/core/agent/editFormat';
import type { AgentEvent } from '../../src/core/agent/types';
import { shellQuote } from '../../src/core/remote/shell';
import type { AgentApi } from '../../src/vscode/agent/agentController';
import type { Runs, Workspace } from '../../src/vscode/services';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fakeOpenAI';
import { makeShards } from '../support/runFixture';
import { waitFor } from '../support/waitFor';

const EXT = 'speedrun-workbench.speedrun-workbench';
const REPO = path.resolve(__dirname, '../../..');
const FIXTURE = path.join(REPO, 'test/fixtures/benchmark');
const SIM = path.join(REPO, 'test/sim');
const folder = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const hint = (level: string) => fs.readFileSync(path.join(FIXTURE, 'data/nanogpt_speedrun_knowledge_in_levels/record_12', level), 'utf8');
const block = (search: string, replace: string) => `train_gpt2.py\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;
const setSteps = (from: number, to: number) =>
  `Train for ${to} steps.\n${block(`    num_iterations : int = ${from} # optimizer steps`, `    num_iterations : int = ${to} # optimizer steps`)}`;

function nextEnd(agent: AgentApi): Promise<Extract<AgentEvent, { type: 'end' }>> {
  return new Promise((resolve) => {
    const sub = agent.onDidEvent((e) => {
      if (e.type === 'end') {
        sub.dispose();
        resolve(e);
      }
    });
  });
}

suite('agent in VS Code', function () {
  this.timeout(240_000);
  let agent: AgentApi;
  let runs: Runs;
  let taskDir: string;
  let scriptUri: vscode.Uri;
  let fake: FakeOpenAI;
  let original: string;
  const box = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-agent-box-'));

  suiteSetup(async () => {
    const api = (await vscode.extensions.getExtension(EXT)!.activate()) as { workspace: Workspace; runs: Runs; agent: AgentApi };
    ({ agent, runs } = api);
    const opened = new Promise<void>((resolve) => {
      const sub = api.workspace.onDidChange((ctx) => ctx && (sub.dispose(), resolve()));
    });
    await vscode.commands.executeCommand('speedrun.openTask', { taskId: 12, dest: folder() });
    if (!api.workspace.current()) await opened;
    taskDir = api.workspace.current()!.taskDir;
    scriptUri = vscode.Uri.file(path.join(taskDir, 'train_gpt2.py'));
    original = fs.readFileSync(scriptUri.fsPath, 'utf8');
    fake = await startFakeOpenAI();
    const shards = makeShards(path.join(box, 'data'), 12);
    const cfg = vscode.workspace.getConfiguration('speedrun');
    await cfg.update(
      'targets',
      [{
        name: 'sim', kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, ...shards,
        setup: `export PATH=${shellQuote(SIM)}:"$PATH" PYTHONPATH=${shellQuote(path.join(SIM, 'pylib'))}`,
        env: { SIM_SPEEDUP: '2000', SIM_COMPILE_SECONDS: '1' },
      }],
      vscode.ConfigurationTarget.Global,
    );
    await cfg.update('agent.baseUrl', fake.baseUrl, vscode.ConfigurationTarget.Global);
    await cfg.update('agent.autoAccept', false, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('speedrun.setApiKey', 'sk-exthost-secret-0123');
    assert.equal(await agent.clientReady(), true, 'the language client starts for a trusted task workspace');
  });

  suiteTeardown(async () => {
    await fake?.close();
    fs.rmSync(box, { recursive: true, force: true });
  });

  const start = (budget: { iterations: number; runs: number }, hintLevels: (1 | 2 | 3)[] = []) =>
    vscode.commands.executeCommand<{ sessionId: string } | undefined>('speedrun.startAgent', {
      backend: { kind: 'openai', baseUrl: fake.baseUrl, model: 'fake-model' },
      hintLevels,
      target: 'sim',
      budget: { ...budget, tokens: 1_000_000 },
    });

  test('a turn streams into the open script through visible intermediate versions without taking focus; reject restores it byte for byte', async () => {
    const doc = await vscode.workspace.openTextDocument(scriptUri);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
    // A change of 30-odd lines: the MODEL settings rewritten, so the live view has many frames to show.
    const model = /MODEL = dict\([\s\S]*?\n\)\n/.exec(original)![0].trimEnd();
    const rewritten = model
      .replace('window_warmup=False', 'window_warmup=True')
      .split('\n')
      .map((l) => (/^ {4}\w+=/.test(l) ? `${l}  # reviewed` : l))
      .join('\n');
    const response = `Warm up the attention window.\n${block(model, rewritten)}`;
    const expected = applyBlocks(original, parseBlocks(response).blocks).text;
    assert.notEqual(expected, original);
    fake.enqueue({ content: response });

    const seen: { version: number; text: string }[] = [];
    const sub = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.toString() === scriptUri.toString()) seen.push({ version: e.document.version, text: e.document.getText() });
    });
    const ended = nextEnd(agent);
    const started = await start({ iterations: 1, runs: 1 }, [1, 2]);
    assert.ok(started?.sessionId);
    await waitFor('the turn to wait for review', () => agent.pendingTurn() === 1);
    sub.dispose();

    assert.equal(doc.getText(), expected, 'the whole change is in the document');
    const intermediate = seen.filter((s) => s.text !== original && s.text !== expected);
    assert.ok(intermediate.length >= 3, `several intermediate versions (saw ${intermediate.length} of ${seen.length})`);
    assert.deepEqual(seen.map((s) => s.version), [...seen.map((s) => s.version)].sort((a, b) => a - b), 'versions only grow');
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), scriptUri.toString());
    assert.equal(vscode.window.activeTextEditor?.viewColumn, editor.viewColumn, 'focus stayed in the editor the user had');
    const diffTab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.original.scheme === 'speedrun-checkpoint');
    assert.ok(diffTab, 'the live diff (checkpoint ↔ script) is open');

    await vscode.commands.executeCommand('speedrun.rejectTurn');
    const end = await ended;
    assert.equal(end.runs, 0, 'a rejected turn is not run');
    assert.equal(doc.getText(), original);
    assert.ok(fs.readFileSync(scriptUri.fsPath).equals(Buffer.from(original, 'utf8')), 'the file on disk is byte for byte what it was');
    const cp = listCheckpoints(taskDir).at(-1)!;
    assert.equal(readCheckpoint(taskDir, cp.n), original, 'the checkpoint holds the script from before the turn');

    // What the model saw: the chosen hints, never the answer.
    const sent = fake.allPromptText();
    assert.ok(sent.includes(hint('level_1_pseudo.txt').trim()) && sent.includes(hint('level_2_description.txt').trim()));
    assert.ok(!sent.includes(hint('level_3_paper.txt').trim()), 'level 3 was not chosen');
    assert.ok(!sent.includes(hint('level_0_diff.txt').trim()) && !sent.includes('temp_next.py'), 'no level-0 diff');
    const reference = fs.readFileSync(path.join(FIXTURE, 'workspace_templates/nanogpt_speedrun/record_13/train_gpt2.py'), 'utf8');
    for (const l of reference.split('\n').filter((x) => x.trim() && !original.includes(x))) assert.ok(!sent.includes(l), `reference line sent: ${l}`);
    assert.equal(fake.requests[0].headers.authorization, 'Bearer sk-exthost-secret-0123', 'the key from secret storage');
    assert.ok(!fs.readFileSync(path.join(taskDir, '.speedrun/agent/transcript.jsonl'), 'utf8').includes('sk-exthost-secret-0123'));
  });

  test("the user's own edits made during a turn survive its reject", async () => {
    fake.enqueue({ content: setSteps(1875, 1750) });
    const doc = await vscode.workspace.openTextDocument(scriptUri);
    const ended = nextEnd(agent);
    await start({ iterations: 1, runs: 1 });
    await waitFor('the turn to wait for review', () => agent.pendingTurn() === 1);
    assert.match(doc.getText(), /int = 1750/);
    // The user types above and below the agent's change before deciding.
    const mine = new vscode.WorkspaceEdit();
    mine.insert(scriptUri, new vscode.Position(0, 0), '# my note\n');
    mine.insert(scriptUri, doc.positionAt(doc.getText().length), '# my other note\n');
    assert.ok(await vscode.workspace.applyEdit(mine));
    await vscode.commands.executeCommand('speedrun.rejectTurn');
    await ended;
    const expected = `# my note\n${original}# my other note\n`;
    assert.equal(doc.getText(), expected, "the agent's change is undone, the user's notes stay");
    assert.equal(fs.readFileSync(scriptUri.fsPath, 'utf8'), expected);
    // Back to the starting script for the next tests.
    const reset = new vscode.WorkspaceEdit();
    reset.replace(scriptUri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), original);
    assert.ok(await vscode.workspace.applyEdit(reset));
    await doc.save();
  });

  test('an accepted turn is kept, saved and run; restoring its checkpoint brings the old script back', async () => {
    fake.enqueue({ content: setSteps(1875, 1750) });
    const events: AgentEvent[] = [];
    const sub = agent.onDidEvent((e) => e.type !== 'delta' && events.push(e));
    const ended = nextEnd(agent);
    await start({ iterations: 1, runs: 1 });
    await waitFor('the turn to wait for review', () => agent.pendingTurn() === 1);
    await vscode.commands.executeCommand('speedrun.acceptTurn');
    const end = await ended;
    sub.dispose();
    assert.equal(end.runs, 1);
    const summary = events.map((e) => (e.type === 'run-end' ? e.summary : e.type === 'error' ? e.message : e.type)).join('\n');
    assert.equal(end.best?.turn, 1, `the run was valid and faster than record 12:\n${summary}`);
    const disk = fs.readFileSync(scriptUri.fsPath, 'utf8');
    assert.match(disk, /num_iterations : int = 1750/);
    assert.equal(disk, original.replace('int = 1875', 'int = 1750'));
    const ran = runs.list(taskDir).find((m) => m.runId === end.best!.runId)!;
    assert.equal(ran.state, 'finished');

    const before = listCheckpoints(taskDir).at(-1)!;
    assert.equal(readCheckpoint(taskDir, before.n), original);
    assert.equal(await vscode.commands.executeCommand('speedrun.restoreCheckpoint', before.n), true);
    assert.equal(fs.readFileSync(scriptUri.fsPath, 'utf8'), original);
    const safety = listCheckpoints(taskDir).at(-1)!;
    assert.match(safety.label, new RegExp(`before restoring checkpoint #${before.n}`));
    assert.equal(readCheckpoint(taskDir, safety.n), disk, 'the replaced script was kept as a checkpoint');
  });

  test('two iterations on the simulated box keep the better run', async () => {
    await vscode.workspace.getConfiguration('speedrun').update('agent.autoAccept', true, vscode.ConfigurationTarget.Global);
    fake.enqueue({ content: setSteps(1875, 1750) }, { content: setSteps(1750, 1800) });
    const events: AgentEvent[] = [];
    const sub = agent.onDidEvent((e) => events.push(e));
    const ended = nextEnd(agent);
    await start({ iterations: 2, runs: 2 });
    const end = await ended;
    sub.dispose();
    const results = events.filter((e): e is Extract<AgentEvent, { type: 'run-end' }> => e.type === 'run-end');
    assert.equal(results.length, 2, end.reason);
    assert.ok(results.every((r) => r.valid), 'both runs reach the target');
    const [t1, t2] = results.map((r) => r.outcome.final!.train_time);
    assert.ok(t1 < t2, `1750 steps (${t1} ms) train faster than 1800 (${t2} ms)`);
    assert.equal(end.best?.turn, 1);
    assert.deepEqual(events.filter((e) => e.type === 'review').map((e) => e.type === 'review' && e.by), ['auto', 'auto']);
    const disk = fs.readFileSync(scriptUri.fsPath, 'utf8');
    assert.match(disk, /num_iterations : int = 1750/, 'the better attempt is what the file holds at the end');
    assert.equal((await vscode.workspace.openTextDocument(scriptUri)).isDirty, false);
  });

  test('the pre-run check refuses a script that breaks a rule unless the user overrides it', async () => {
    const doc = await vscode.workspace.openTextDocument(scriptUri);
    const we = new vscode.WorkspaceEdit();
    const at = doc.getText().indexOf('save_checkpoint : bool = False');
    we.replace(scriptUri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + 'save_checkpoint : bool = False'.length)), 'save_checkpoint : bool = True');
    assert.ok(await vscode.workspace.applyEdit(we));
    let asked = 0;
    assert.equal(await runs.checkBeforeRun(taskDir, async () => (asked++, false)), false);
    assert.equal(await runs.checkBeforeRun(taskDir, async () => (asked++, true)), true);
    assert.equal(asked, 2);
    // The language server reports the same rule in the Problems view.
    const diag = await waitFor('a diagnostic', () => vscode.languages.getDiagnostics(scriptUri).find((d) => d.code === 'save-checkpoint'));
    assert.equal(diag.source, 'speedrun');
    const undo = new vscode.WorkspaceEdit();
    undo.replace(scriptUri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + 'save_checkpoint : bool = True'.length)), 'save_checkpoint : bool = False');
    assert.ok(await vscode.workspace.applyEdit(undo));
    await doc.save();
    assert.equal(await runs.checkBeforeRun(taskDir, async () => (asked++, false)), true);
    assert.equal(asked, 2, 'a clean script runs without asking');
  });
});
