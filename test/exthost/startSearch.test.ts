// Start Search… and Resume Search inside a real VS Code (code-server): the bundled CLI runs as a task on the
// extension host's Node, against the simulated GPU box (a `local` target with test/sim first on PATH). The
// choices are given as the command's arguments, so no quick pick opens. With the OpenAI backend (the fake server
// from test/support, in this extension host) the API key must reach the CLI through its environment only: the
// test reads the running process's /proc/<pid>/cmdline and environ. The ACP agent is our fake one (test/support).
// Default session: an empty workspace folder and the fixture clone as speedrun.benchmarkPath.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { shellQuote } from '../../src/core/remote/shell';
import { SearchStore, type SearchState } from '../../src/core/search/tree';
import type { SearchTree } from '../../src/vscode/search/searchView';
import type { Workspace } from '../../src/vscode/services';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fakeOpenAI';
import { makeShards } from '../support/runFixture';
import { scriptedModel } from '../support/searchFixture';
import { openTaskHere } from '../support/exthostTask';
import { waitFor } from '../support/waitFor';

const REPO = path.resolve(__dirname, '../../..');
const SIM = path.join(REPO, 'test/sim');
const KEY = 'sk-test-secret-4f1c9a7e';

/** The next process of a search task: its pid, and its exit code once it ends. */
function nextSearchProcess(): { pid: Promise<number>; exit: Promise<number | undefined> } {
  const mine = (e: { execution: vscode.TaskExecution }) => e.execution.task.definition.type === 'speedrun-search';
  let started!: vscode.Disposable;
  const pid = new Promise<number>((resolve) => {
    started = vscode.tasks.onDidStartTaskProcess((e) => mine(e) && (started.dispose(), resolve(e.processId)));
  });
  let ended!: vscode.Disposable;
  const exit = new Promise<number | undefined>((resolve) => {
    ended = vscode.tasks.onDidEndTaskProcess((e) => mine(e) && (ended.dispose(), resolve(e.exitCode)));
  });
  return { pid, exit };
}

const procText = (pid: number, file: 'cmdline' | 'environ') => fs.readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0');

suite('Start Search and Resume Search in VS Code', function () {
  this.timeout(300_000);
  let taskDir: string;
  let tree: SearchTree;
  let fake: FakeOpenAI;
  const box = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-startsearch-box-'));
  const known = new Set<string>();

  /** The search that appeared since the last call. */
  async function newSearch(): Promise<SearchStore> {
    const id = await waitFor('a new search on disk', () => SearchStore.list(taskDir).find((i) => !known.has(i)), 120_000);
    known.add(id);
    return new SearchStore(taskDir, id);
  }
  const stateOf = (s: SearchStore): SearchState | undefined => (s.exists() ? s.read().progress.state : undefined);
  /** The Search view's item for `s`, as VS Code gets it. */
  const itemOf = (s: SearchStore) => tree.getChildren().map((i) => tree.getTreeItem(i)).find((t) => String(t.label).includes(s.searchId));

  suiteSetup(async () => {
    const opened = await openTaskHere<{ workspace: Workspace; search: SearchTree }>(12);
    tree = opened.api.search;
    taskDir = opened.taskDir;
    fake = await startFakeOpenAI({ respond: scriptedModel() });
    const shards = makeShards(path.join(box, 'data'), 12);
    // A target name with a space and quotes: it must reach the CLI as one argument.
    await vscode.workspace.getConfiguration('speedrun').update('targets', [{
      name: `sim "box" 1`, kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, ...shards,
      setup: `export PATH=${shellQuote(SIM)}:"$PATH" PYTHONPATH=${shellQuote(path.join(SIM, 'pylib'))}`,
      env: { SIM_SPEEDUP: '4000', SIM_COMPILE_SECONDS: '1', SIM_VAL_SECONDS: '0.5', SIM_RECORD: '12' },
    }], vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('speedrun.agent').update('baseUrl', fake.baseUrl, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('speedrun.setApiKey', KEY);
  });
  const searchTasks = () => vscode.tasks.taskExecutions.filter((x) => x.task.definition.type === 'speedrun-search');
  // A failed test must not leave its search going into the next one.
  teardown(() => searchTasks().forEach((x) => x.terminate()));
  suiteTeardown(async () => {
    await fake?.close();
    fs.rmSync(box, { recursive: true, force: true });
  });

  test('replay: the command starts the bundled CLI as a task; the search appears on disk and in the view and ends done', async () => {
    const proc = nextSearchProcess();
    const execution = (await vscode.commands.executeCommand('speedrun.startSearch', { scaffold: 'flat', writer: 'replay', targets: [`sim "box" 1`], maxNodes: 2 })) as vscode.TaskExecution;
    assert.equal(execution?.task.definition.type, 'speedrun-search');
    const argv = procText(await proc.pid, 'cmdline');
    // The extension host's own Node runs dist/cli.js, every choice one argument.
    assert.equal(argv[0], process.execPath);
    assert.equal(argv[1], path.join(REPO, 'dist/cli.js'));
    assert.ok(argv.includes(`--target=sim "box" 1`), argv.join(' | '));
    // The targets setting goes through a private temp file, removed once the task ends.
    const targetsFile = argv.find((a) => a.startsWith('--targets-file='))!.slice('--targets-file='.length);
    assert.equal(fs.statSync(targetsFile).mode & 0o777, 0o600);
    assert.equal(JSON.parse(fs.readFileSync(targetsFile, 'utf8'))[0].name, `sim "box" 1`);
    const s = await newSearch();
    await waitFor('the search in the Search view', () => itemOf(s));
    assert.equal(await proc.exit, 0, 'speedrun search exits 0 when the search is done');
    await waitFor('the targets file removed', () => !fs.existsSync(targetsFile), 10_000);
    const f = s.read();
    assert.equal(f.progress.state, 'done');
    assert.equal(f.config.backend, 'replay');
    assert.deepEqual(f.config.targets, [`sim "box" 1`]);
    const nodes = s.nodes();
    assert.equal(nodes.length, 3, 'the start and two replayed nodes');
    assert.ok(nodes.slice(1).every((n) => n.status === 'finished' && n.runId), JSON.stringify(nodes.map((n) => [n.id, n.status])));
    const item = await waitFor('the view item to show done', () => (itemOf(s)?.contextValue === 'search.done' ? itemOf(s) : undefined), 10_000);
    assert.match(String(item.description), /^done · round 1 · 2\/2 nodes/);
  });

  test('openai: the API key reaches the CLI in its environment, never in its argv', async () => {
    const proc = nextSearchProcess();
    const before = fake.requests.length;
    await vscode.commands.executeCommand('speedrun.startSearch', { scaffold: 'aide', writer: 'openai', model: 'fake', targets: [`sim "box" 1`], maxNodes: 1, hintLevels: [1] });
    const pid = await proc.pid;
    const argv = procText(pid, 'cmdline');
    const env = procText(pid, 'environ');
    assert.ok(argv.includes('--backend=openai') && argv.includes(`--base-url=${fake.baseUrl}`), argv.join(' | '));
    assert.ok(!argv.some((a) => a.includes(KEY)), 'the key is not in the argv');
    assert.ok(env.includes(`SPEEDRUN_AGENT_API_KEY=${KEY}`), 'the key is in the environment');
    const s = await newSearch();
    assert.equal(await proc.exit, 0);
    assert.equal(s.read().progress.state, 'done');
    assert.equal(s.read().config.hintLevels.join(), '1');
    const asked = fake.requests.slice(before);
    assert.ok(asked.length >= 1, 'the model was asked');
    assert.ok(asked.every((r) => r.headers.authorization === `Bearer ${KEY}`));
    // Nothing the search wrote carries the key.
    const written = fs.readdirSync(s.dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(s.dir, f)).filter((f) => fs.statSync(f).isFile());
    assert.ok(written.every((f) => !fs.readFileSync(f, 'utf8').includes(KEY)));
    assert.ok(!JSON.stringify(vscode.workspace.getConfiguration('speedrun')).includes(KEY));
  });

  test('acp: the speedrun.agent.acpCommand setting reaches the CLI as one --agent-command and the agent writes the node', async () => {
    // Our fake ACP agent (built by compile-tests), started as the setting says: a program and its argument.
    const command = `${process.execPath} ${path.join(REPO, 'out/test/support/fakeAcpAgent.js')}`;
    await vscode.workspace.getConfiguration('speedrun.agent').update('acpCommand', command, vscode.ConfigurationTarget.Global);
    const proc = nextSearchProcess();
    await vscode.commands.executeCommand('speedrun.startSearch', { scaffold: 'flat', writer: 'acp', targets: [`sim "box" 1`], maxNodes: 1 });
    assert.ok(procText(await proc.pid, 'cmdline').includes(`--agent-command=${command}`));
    const s = await newSearch();
    assert.equal(await proc.exit, 0);
    const f = s.read();
    assert.deepEqual([f.progress.state, f.config.backend, f.config.agentCommand], ['done', 'acp', command]);
    assert.equal(s.nodes().filter((n) => n.status === 'finished').length, 1, JSON.stringify(s.nodes().map((n) => [n.id, n.status])));
  });

  test('a killed search (still "running" on disk) resumes through the command and ends done', async () => {
    let proc = nextSearchProcess();
    await vscode.commands.executeCommand('speedrun.startSearch', { scaffold: 'flat', writer: 'replay', targets: [`sim "box" 1`], maxNodes: 3 });
    const pid = await proc.pid;
    const s = await newSearch();
    await waitFor('a node running', () => s.nodes().some((n) => n.status === 'running'), 120_000);
    // While our task runs it, Resume starts nothing (it says where the search runs).
    assert.equal(await vscode.commands.executeCommand('speedrun.resumeSearch', { searchId: s.searchId }), undefined);
    assert.equal(searchTasks().length, 1);
    process.kill(pid, 'SIGKILL');
    await proc.exit;
    assert.equal(stateOf(s), 'running', 'a killed CLI leaves running on disk');
    proc = nextSearchProcess();
    const execution = (await vscode.commands.executeCommand('speedrun.resumeSearch', { searchId: s.searchId, confirmed: true })) as vscode.TaskExecution;
    assert.equal(execution?.task.definition.resume, s.searchId);
    assert.ok(procText(await proc.pid, 'cmdline').includes(`--resume=${s.searchId}`));
    assert.equal(await proc.exit, 0);
    assert.equal(stateOf(s), 'done');
    const nodes = s.nodes();
    assert.equal(nodes.length, 4);
    assert.ok(nodes.slice(1).every((n) => n.status === 'finished'), JSON.stringify(nodes.map((n) => [n.id, n.status])));
  });
});
