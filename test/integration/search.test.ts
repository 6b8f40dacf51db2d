// Every scaffold driven by our fake OpenAI-compatible server on a pool of simulated boxes (local targets): the
// tree's shape, the selection and the debug rule are checked against the benchmark's table by replaying the
// selection over the finished tree with the same seed; then `speedrun search` is killed mid-round and resumed.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAgentHints } from '../../src/core/agent/hints';
import { connectTarget } from '../../src/core/remote/connect';
import { RunManager } from '../../src/core/runs/manager';
import { RunStore } from '../../src/core/runs/store';
import { resolveScaffold, type Scaffold, type ScaffoldName } from '../../src/core/search/presets';
import { ManagerRunner } from '../../src/core/search/runner';
import { Search, createSearch } from '../../src/core/search/search';
import { Rng, selectNode } from '../../src/core/search/select';
import { SearchStore, isBuggy, type EarlyStopOptions, type NodeMeta } from '../../src/core/search/tree';
import { fakeModelWriter } from '../support/searchWriter';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI';
import { removeTemps } from '../support/runFixture';
import { FIXTURE_BENCHMARK, isDebugPrompt, scriptedModel, searchTask, simPool } from '../support/searchFixture';

const CLI = path.resolve(__dirname, '../../src/cli.js');
const ACP_AGENT = path.resolve(__dirname, '../support/fakeAcpAgent.js');

/** Replays the selection round by round over the finished tree and checks each round's parent, size and kind. */
function checkAgainstTable(nodes: NodeMeta[], s: Scaffold, seed: number): { rounds: number; debugRounds: number } {
  const rng = new Rng(seed);
  const rounds = Math.max(...nodes.map((n) => n.round));
  let debugRounds = 0;
  let made = 0;
  for (let r = 1; r <= rounds; r++) {
    const before = nodes.filter((n) => n.round < r).map((n) => ({ ...n, children: n.children.filter((c) => nodes.find((x) => x.id === c)!.round < r) }));
    const sel = selectNode(before, s, r, rng);
    const kids = nodes.filter((n) => n.round === r);
    assert.ok(kids.length > 0, `round ${r} made children`);
    assert.ok(kids.every((k) => k.parent === sel.parent.id), `round ${r}: children of v_${sel.parent.id} (got parents ${kids.map((k) => k.parent)})`);
    assert.equal(kids.length, Math.min(sel.count, s.maxNodes - made), `round ${r}: ${sel.debug ? 'one debug child' : `${sel.count} children`}`);
    assert.ok(kids.every((k) => k.debug === sel.debug), `round ${r} debug flag`);
    if (sel.debug) {
      debugRounds++;
      assert.ok(isBuggy(sel.parent) && sel.parent.bugDepth <= s.maxBugDepth, 'a debug round fixes a buggy leaf within the depth');
    }
    made += kids.length;
  }
  assert.equal(made, nodes.length - 1);
  // Bug depth: buggy nodes count their chain of buggy ancestors, the others are 0.
  for (const n of nodes.filter((x) => x.parent !== null)) {
    const p = nodes.find((x) => x.id === n.parent)!;
    assert.equal(n.bugDepth, isBuggy(n) ? (isBuggy(p) ? p.bugDepth : 0) + 1 : 0, `v_${n.id} bugDepth`);
  }
  return { rounds, debugRounds };
}

suite('integration: search scaffolds on the simulated box', function () {
  this.timeout(180_000);
  let fake: FakeOpenAI;
  suiteSetup(async () => {
    fake = await startFakeOpenAI({ respond: scriptedModel({ badEvery: 3 }) });
  });
  suiteTeardown(async () => {
    await fake.close();
    removeTemps();
  });

  async function search(
    name: ScaffoldName,
    o: { maxNodes: number; seed: number; hintLevels?: number[]; targets?: number; earlyStop?: EarlyStopOptions; server?: FakeOpenAI; speedup?: string; onStart?: (s: Search) => void },
  ) {
    const { taskDir, task, root } = searchTask(12);
    const targets = simPool(root, o.targets ?? 3, o.speedup ? { SIM_SPEEDUP: o.speedup } : {});
    const manager = new RunManager({
      targets: () => targets,
      connect: (t) => connectTarget(t, { confirmHostKey: async () => false }),
      timeLimitMs: () => 60_000,
      cancelGraceMs: () => 1000,
    });
    const scaffold = resolveScaffold(name, { maxNodes: o.maxNodes });
    const store = createSearch(
      { taskDir, task, scaffold, seed: o.seed, hintLevels: o.hintLevels ?? [], backend: 'openai', model: 'fake', targets: targets.map((t) => t.name), earlyStop: o.earlyStop },
      fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8'),
    );
    const server = o.server ?? fake;
    const hints = o.hintLevels?.length ? loadAgentHints(FIXTURE_BENCHMARK, 12, o.hintLevels) : [];
    const writer = fakeModelWriter(server.baseUrl, task, store, hints);
    const runner = new ManagerRunner(manager, taskDir, targets.map((t) => t.name), () => 8);
    const s = new Search(store, task, writer, runner);
    const live: number[] = [];
    s.onEvent((e) => e.type === 'progress' || live.push(e.type === 'node' ? e.node.id : -1));
    const before = server.requests.length;
    const running = s.run();
    o.onStart?.(s);
    const out = await running;
    manager.dispose();
    return { out, store, scaffold, taskDir, requests: server.requests.slice(before), live };
  }

  test('flat: one round of parallel children of the root, on every target', async () => {
    const { out, store, scaffold, taskDir } = await search('flat', { maxNodes: 6, seed: 1 });
    const nodes = store.nodes();
    assert.equal(out.state, 'done');
    assert.equal(out.nodes.length, 7);
    checkAgainstTable(nodes, scaffold, 1);
    assert.ok(nodes.slice(1).every((n) => n.parent === 0 && n.round === 1));
    // The round ran in parallel: its runs overlapped in time, over all three boxes.
    const runs = new RunStore(taskDir).list();
    assert.deepEqual([...new Set(runs.map((r) => r.target))].sort(), ['sim1', 'sim2', 'sim3']);
    const overlap = runs.some((a) => runs.some((b) => a !== b && a.startedAt! < b.endedAt! && b.startedAt! < a.endedAt!));
    assert.ok(overlap, 'at least two runs of the round overlapped');
    // Every node's files in the benchmark's layout.
    for (const n of nodes.slice(1)) {
      const r = store.readResults(n.id)!;
      assert.ok(['COMPLETED', 'FAILED'].includes(r.status));
      assert.ok(r.outcome_summary.length > 10);
      assert.equal(r.metrics.is_valid, n.isValid);
      assert.ok(fs.existsSync(path.join(store.nodeDir(n.id), 'train_gpt2.py')));
    }
    // A third of the answers cut the steps: those nodes are invalid, hence buggy; the others are faster and valid.
    assert.ok(nodes.some((n) => n.status === 'finished' && !n.isValid && n.valLoss! > 3.28));
    assert.ok(out.best && out.best.id > 0 && out.best.fsr! > 0);
  });

  test('tree: one child of the root, then 3 children of the best valid node each round', async () => {
    const { out, store, scaffold } = await search('tree', { maxNodes: 7, seed: 2 });
    const r = checkAgainstTable(store.nodes(), scaffold, 2);
    assert.equal(r.debugRounds, 0);
    assert.deepEqual(store.nodes().filter((n) => n.round === 1).map((n) => n.parent), [0]);
    assert.equal(out.nodes.length, 8);
    assert.equal(out.stopReason, 'node budget used (7)');
  });

  test('forest: 3 children of the root, then 3 of the best each round', async () => {
    const { store, scaffold } = await search('forest', { maxNodes: 8, seed: 3 });
    const r = checkAgainstTable(store.nodes(), scaffold, 3);
    assert.equal(r.debugRounds, 0);
    assert.equal(store.nodes().filter((n) => n.round === 1).length, 3);
  });

  test('aide: 3 initial children, then one child a round, debugging buggy leaves half the time', async () => {
    const { store, scaffold, requests } = await search('aide', { maxNodes: 9, seed: 7 });
    const r = checkAgainstTable(store.nodes(), scaffold, 7);
    assert.ok(r.debugRounds >= 1, `debug rounds: ${r.debugRounds}`);
    // The debug prompts carried the bug history; the other prompts did not ask for a fix.
    assert.equal(requests.filter(isDebugPrompt).length, store.nodes().filter((n) => n.debug).length);
    assert.ok(store.nodes().filter((n) => n.debug).every((n) => n.idea === 'model'));
  });

  test('early stop: runs past 1.2x the starting record are cancelled and their nodes marked stopped (buggy)', async () => {
    const slow = await startFakeOpenAI({ respond: scriptedModel({ costFactor: 1.6 }) });
    try {
      const { out, store, taskDir } = await search('flat', { maxNodes: 2, seed: 1, server: slow, speedup: '200', earlyStop: { valMargin: 0.15, timeFactor: 1.2, minProgress: 0.75 } });
      const nodes = store.nodes().slice(1);
      assert.deepEqual(nodes.map((n) => n.status), ['stopped', 'stopped']);
      assert.ok(nodes.every((n) => n.bugDepth === 1 && !n.isValid));
      for (const n of nodes) {
        assert.match(store.readResults(n.id)!.outcome_summary, /^Stopped early as doomed: train_time \d+\.\d s passed 1\.2x/);
        assert.equal(new RunStore(taskDir).read(n.runId!)!.state, 'cancelled');
      }
      assert.equal(out.best?.id, 0, 'nothing beat the start');
    } finally {
      await slow.close();
    }
  });

  test('pause through control.json holds the next round until resume', async () => {
    let pausedAt = 0;
    let resumedAt = 0;
    const { out, store } = await search('tree', {
      maxNodes: 4,
      seed: 2,
      onStart: (s) => {
        const st = s.store;
        st.writeControl('pause');
        s.onEvent((e) => {
          if (e.type === 'progress' && e.progress.state === 'paused' && !pausedAt) {
            pausedAt = Date.now();
            setTimeout(() => ((resumedAt = Date.now()), st.writeControl('resume')), 2000);
          }
        });
      },
    });
    assert.ok(pausedAt > 0, 'the search saw the pause');
    const round2 = store.nodes().filter((n) => n.round === 2);
    assert.equal(round2.length, 3);
    assert.ok(round2.every((n) => Date.parse(n.createdAt) >= resumedAt), 'round 2 started only after the resume');
    assert.equal(out.state, 'done');
  });

  test('multi-aide with hint level 1 as the idea: 3 children a round, 1 when debugging; hints reach the model, level 0 never', async () => {
    const { store, scaffold, requests, out } = await search('multi-aide', { maxNodes: 10, seed: 5, hintLevels: [1] });
    const r = checkAgainstTable(store.nodes(), scaffold, 5);
    assert.ok(r.rounds >= 3);
    const hint = fs.readFileSync(path.join(FIXTURE_BENCHMARK, 'data/nanogpt_speedrun_knowledge_in_levels/record_12/level_1_pseudo.txt'), 'utf8').trim();
    const level0 = fs.readFileSync(path.join(FIXTURE_BENCHMARK, 'data/nanogpt_speedrun_knowledge_in_levels/record_12/level_0_diff.txt'), 'utf8');
    const sent = requests.flatMap((q) => (q.body.messages ?? []).map((m) => m.content)).join('\n');
    assert.ok(sent.includes(hint.split('\n')[0]), 'the hint is the idea');
    assert.ok(!sent.includes(level0.split('\n').find((l) => l.startsWith('+') && !l.startsWith('+++'))!), 'no line of the level-0 diff');
    assert.ok(store.nodes().slice(1).every((n) => n.idea === 'hints'));
    assert.ok(out.spent.tokens > 0 && out.spent.gpuHours > 0);
    assert.equal(out.spent.nodes, 10);
  });
});

interface Proc {
  pid: number;
  code: Promise<number>;
  stdout: () => string;
  stderr: () => string;
  kill(sig: NodeJS.Signals): void;
}

function cli(args: string[], env: Record<string, string> = {}): Proc {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  p.stdout.on('data', (b) => (out += b));
  p.stderr.on('data', (b) => (err += b));
  return { pid: p.pid!, code: new Promise((r) => p.on('exit', (c) => r(c ?? -1))), stdout: () => out, stderr: () => err, kill: (s) => p.kill(s) };
}

/** Each case: `base` + its args exits with its code and one sentence matching its pattern, no stack trace. */
async function expectBadInput(base: string[], cases: [string[], number, RegExp][]): Promise<void> {
  for (const [args, code, re] of cases) {
    const p = cli([...base, ...args]);
    assert.equal(await p.code, code, args.join(' '));
    assert.match(p.stderr(), re);
    assert.equal(p.stderr().trim().split('\n').length, 1, 'one sentence, no stack trace');
  }
}

async function until<T>(f: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

suite('integration: speedrun search CLI, kill and --resume', function () {
  this.timeout(180_000);
  let fake: FakeOpenAI;
  suiteSetup(async () => {
    fake = await startFakeOpenAI({ respond: scriptedModel({ badEvery: 4 }) });
  });
  suiteTeardown(async () => {
    await fake.close();
    removeTemps();
  });

  test('bad input is one sentence with exit 2 or 3 and leaves no search behind', async () => {
    const { taskDir, root } = searchTask(12);
    simPool(root, 1);
    const base = ['search', '--task-dir', taskDir, '--targets-file', path.join(root, 'targets.json'), '--backend', 'replay'];
    const cases: [string[], number, RegExp][] = [
      [['--scaffold', 'beam', '--target', 'sim1'], 2, /unknown scaffold 'beam' \(choose one of flat, tree, forest, aide, multi-aide\)/],
      [['--scaffold', 'aide', '--target', 'nope'], 3, /no target 'nope' in .*targets\.json \(have: sim1\)/],
      [['--scaffold', 'aide', '--target', 'sim1', '--hint-level', '0'], 2, /level 0 is the answer and never a hint/],
      [['--scaffold', 'aide', '--target', 'sim1', '--max-nodes', 'x'], 2, /--max-nodes must be a whole number of at least 1 \(got 'x'\)/],
    ];
    await expectBadInput(base, cases);
    assert.deepEqual(SearchStore.list(taskDir), []);
  });

  test('killed while a round runs, --resume keeps finished nodes, re-attaches the running runs and completes the search', async () => {
    const { taskDir, root } = searchTask(12);
    // Slower runs (about 2.5 s each), so the kill lands while a round is running.
    simPool(root, 2, { SIM_SPEEDUP: '150' });
    const args = ['--task-dir', taskDir, '--targets-file', path.join(root, 'targets.json'), '--backend', 'openai', '--model', 'fake', '--base-url', fake.baseUrl];
    const first = cli(['search', ...args, '--scaffold', 'forest', '--max-nodes', '5', '--target', 'sim1,sim2', '--seed', '4', '--json']);
    const id = (await until(() => /\[search (\S+)\] started/.exec(first.stderr()) ?? undefined))[1];
    const store = new SearchStore(taskDir, id);
    const runStore = new RunStore(taskDir);
    // Kill while round 1 runs: one child finished, another's run launched and going (3 children, 2 boxes).
    let finishedAtKill: NodeMeta[] = [];
    const running = await until(() => {
      const ns = store.nodes();
      const live = ns.filter((n) => n.status === 'running' && ['compiling', 'training'].includes(runStore.read(n.runId!)?.state ?? ''));
      finishedAtKill = ns.filter((n) => n.status === 'finished');
      return live.length >= 1 && finishedAtKill.length >= 1 ? live : undefined;
    });
    // While it runs, a second process may not take the same search.
    const twice = cli(['search', ...args, '--resume', id]);
    assert.equal(await twice.code, 3);
    assert.match(twice.stderr(), new RegExp(`^speedrun search: search ${id} is being run by process ${first.pid} on this machine; stop it first`));
    first.kill('SIGKILL');
    assert.equal(await first.code, -1);
    const requestsAtKill = fake.requests.length;
    const runIds = running.map((n) => n.runId);

    // Bad input first: an unknown search id is one clear sentence, exit 3, nothing touched.
    const bad = cli(['search', ...args, '--resume', '20991231-000000-0000']);
    assert.equal(await bad.code, 3);
    assert.match(bad.stderr(), /^speedrun search: no search 20991231-000000-0000 in .*\(have: \S+\)\n$/);

    const second = cli(['search', ...args, '--resume', id, '--json']);
    assert.equal(await second.code, 0, second.stderr());
    const out = JSON.parse(second.stdout());
    assert.equal(out.searchId, id);
    assert.equal(out.scaffold, 'forest');
    assert.equal(out.nodes.length, 6);
    for (const n of out.nodes) for (const k of ['id', 'parent', 'status', 'bugDepth', 'valLoss', 'trainTimeMs', 'isValid', 'fsr']) assert.ok(k in n, k);
    // The runs going at the kill were re-attached, not started again: same run ids, finished, one run each.
    for (const [i, n] of running.entries()) {
      const now = out.nodes.find((x: { id: number }) => x.id === n.id);
      assert.equal(now.runId, runIds[i]);
      assert.ok(['finished', 'failed'].includes(now.status));
    }
    const runs = new RunStore(taskDir).list();
    assert.equal(runs.length, out.nodes.filter((n: { runId?: string }) => n.runId).length, 'one run per node, none repeated');
    // The model was not asked again for the nodes already written.
    assert.equal(fake.requests.length - requestsAtKill, 2, 'only round 2 (2 children) was written after the resume');
    assert.match(second.stderr(), /resuming/);
    assert.equal(store.read().progress.state, 'done');
    // Nodes finished before the kill are kept as they were.
    // (Only its children list may grow, when a later round expands it.)
    for (const n of finishedAtKill) assert.deepEqual({ ...store.node(n.id), children: [] }, { ...n, children: [] });
  });
});

suite('integration: speedrun sweep', function () {
  this.timeout(180_000);
  suiteTeardown(removeTemps);

  test('a small grid writes rows, the aggregates and the report; run again it resumes without redoing searches', async () => {
    const { root } = searchTask(12);
    const out = path.join(root, 'sweep');
    // Several tasks: the box picks each record's curve from the script (no SIM_RECORD).
    simPool(root, 2, { SIM_RECORD: '' });
    const args = [
      'sweep', '--benchmark', FIXTURE_BENCHMARK, '--tasks', '12-13', '--hint-levels', 'none,1', '--scaffolds', 'flat', '--max-nodes', '2',
      '--seeds', '1', '--backend', 'replay', '--target', 'sim1,sim2', '--targets-file', path.join(root, 'targets.json'), '--out', out, '--json',
    ];
    const first = cli(args);
    assert.equal(await first.code, 0, first.stderr());
    const res = JSON.parse(first.stdout());
    assert.equal(res.rows.length, 4);
    for (const r of res.rows) {
      // The replay reproduces record i+1's change on the simulated box: FSR about 1 per search.
      assert.ok(r.fsr > 0.5 && r.fsr <= 3, `task ${r.task} hints ${r.hintLevel}: FSR ${r.fsr}`);
      assert.equal(r.nodes, 2);
      assert.equal(r.state, 'done');
    }
    assert.deepEqual(res.aggregates.map((a: { scaffold: string; hintLevel: string }) => `${a.scaffold}/${a.hintLevel}`), ['flat/none', 'flat/1']);
    const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\r\n');
    assert.equal(csv.length, 5);
    assert.match(csv[0], /^task,hintLevel,scaffold,seed,/);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /<title>task 13, flat · hints 1: FSR/);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    assert.deepEqual(saved.rows, res.rows);

    const again = cli(args);
    assert.equal(await again.code, 0, again.stderr());
    assert.equal((again.stderr().match(/done earlier/g) ?? []).length, 4);
    assert.deepEqual(JSON.parse(again.stdout()).rows, res.rows);
    assert.equal(new RunStore(path.join(out, 'searches', 'task12-hintsnone-flat-seed1')).list().length, 2, 'no search ran twice');

    const bad = cli(['sweep', ...args.slice(1).map((a) => (a === '12-13' ? '6' : a))]);
    assert.equal(await bad.code, 2);
    assert.match(bad.stderr(), /^speedrun sweep: --tasks: no task left \(task 6 is not part of the benchmark\)\n$/);
  });
});

suite('integration: speedrun search with an ACP agent writing the nodes', function () {
  this.timeout(180_000);
  suiteTeardown(removeTemps);

  test('each node is one agent process in the node folder; its edits land in the node script as made; runs stay ours', async () => {
    const { taskDir, root } = searchTask(12);
    simPool(root, 2);
    const log = path.join(root, 'agent.jsonl');
    const rootScript = fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8');
    const steps0 = Number(/num_iterations : int = (\d+)/.exec(rootScript)![1]);
    const p = cli(
      [
        'search', '--task-dir', taskDir, '--targets-file', path.join(root, 'targets.json'), '--target', 'sim1,sim2',
        '--scaffold', 'flat', '--max-nodes', '3', '--hint-level', '1', '--parallel-writes', '2',
        '--backend', 'acp', '--agent-command', `${process.execPath} ${ACP_AGENT}`, '--json',
      ],
      // The agent also asks for a terminal running the script, and lingers after its edit so writes overlap.
      // Our key variable is set, as for a user of --backend openai: the agents must not get it.
      { FAKE_ACP_LOG: log, FAKE_ACP_RUN: '1', FAKE_ACP_DELAY_MS: '400', FAKE_ACP_OUTSIDE: path.join(root, 'targets.json'), SPEEDRUN_AGENT_API_KEY: 'sk-workbench-secret' },
    );
    assert.equal(await p.code, 0, p.stderr());
    const out = JSON.parse(p.stdout());
    const store = new SearchStore(taskDir, out.searchId);
    assert.equal(store.read().config.backend, 'acp');
    assert.equal(store.read().config.agentCommand, `${process.execPath} ${ACP_AGENT}`, 'kept for --resume');
    const kids = out.nodes.filter((n: { id: number }) => n.id !== 0);
    assert.equal(kids.length, 3);
    type Detail = { [k: string]: unknown };
    const steps = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: string; detail: unknown });
    const of = (name: string) => steps.filter((x) => x.step === name).map((x) => x.detail as Detail);
    const said = (name: string) => steps.filter((x) => x.step === name).map((x) => String(x.detail));
    // One agent process per node, started in that node's folder.
    const sessions = of('session');
    assert.equal(sessions.length, 3);
    assert.equal(new Set(sessions.map((x) => x.pid)).size, 3);
    assert.ok(sessions.every((x) => x.hasWorkbenchKey === false), 'no agent process inherits SPEEDRUN_AGENT_API_KEY');
    assert.deepEqual(sessions.map((x) => fs.realpathSync(x.cwd as string)).sort(), kids.map((n: { id: number }) => fs.realpathSync(store.nodeDir(n.id))).sort());
    // The edit was on disk in the node's script before the agent ended its turn (a face watching the file sees it).
    assert.equal(of('on-disk').filter((x) => x.edited === true).length, 3);
    // No more than --parallel-writes agents at once: the third starts after one of the first two ended.
    const ends = of('on-disk').map((x) => x.at as number).sort((a, b) => a - b);
    const starts = sessions.map((x) => x.at as number).sort((a, b) => a - b);
    assert.ok(starts[2] >= ends[0], `third agent started at ${starts[2]}, first ended at ${ends[0]}`);
    // The agent could not reach outside its folder, write another file, or run anything itself.
    assert.ok(said('outside-read').every((d) => /outside the task folder/.test(d)));
    assert.ok(said('other-write').every((d) => /Only train_gpt2.py may be changed/.test(d)));
    assert.equal(said('terminal-run').filter((d) => /Runs are not offered here/.test(d)).length, 3);
    assert.ok(of('prompt').every((d) => d.hasBrief === true && d.hasLevel0 === false));
    // Each node: the agent's change, its plan as the hypothesis, a run of ours, and its transcript beside it.
    const runs = new RunStore(taskDir).list();
    assert.equal(runs.length, 3);
    for (const n of kids) {
      const meta = store.node(n.id)!;
      assert.ok(['finished', 'failed'].includes(meta.status), `v_${n.id}: ${meta.status}`);
      assert.match(store.script(n.id), new RegExp(`num_iterations : int = ${steps0 - 2}\\b`));
      assert.match(meta.hypothesis, new RegExp(`^Lowered num_iterations to ${steps0 - 2}\\.`));
      assert.ok(runs.some((r) => r.runId === meta.runId));
      const events = fs.readFileSync(path.join(store.nodeDir(n.id), 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(events.every((e) => e.sessionId === `${out.searchId}/v_${n.id}`));
      assert.deepEqual([...new Set(events.map((e) => e.type))].filter((t) => ['turn', 'prompt', 'edit', 'rules', 'response'].includes(t)).sort(), ['edit', 'prompt', 'response', 'rules', 'turn']);
      assert.match(events.find((e) => e.type === 'prompt').messages[0].content, /## Hint level 1/);
    }
  });

  test('a missing agent program is bad input before any search folder is made', async () => {
    const { taskDir, root } = searchTask(12);
    simPool(root, 1);
    const base = ['search', '--task-dir', taskDir, '--targets-file', path.join(root, 'targets.json'), '--scaffold', 'flat', '--backend', 'acp'];
    const cases: [string[], number, RegExp][] = [
      [[], 2, /--backend acp needs --agent-command CMD/],
      [['--agent-command', 'no-such-agent-xyz --acp'], 3, /--agent-command: no program 'no-such-agent-xyz' on PATH/],
      [['--agent-command', '/nonexistent/agent'], 3, /--agent-command: \/nonexistent\/agent is not an executable file/],
      [['--agent-command', '"unclosed'], 2, /--agent-command: .*unclosed " quote/],
    ];
    await expectBadInput(base, cases);
    assert.deepEqual(SearchStore.list(taskDir), []);
    const out = path.join(root, 'sweep');
    const sweep = cli(['sweep', '--benchmark', FIXTURE_BENCHMARK, '--tasks', '12', '--target', 'sim1', '--targets-file', path.join(root, 'targets.json'), '--out', out, '--backend', 'acp', '--agent-command', 'no-such-agent-xyz']);
    assert.equal(await sweep.code, 3);
    assert.match(sweep.stderr(), /^speedrun sweep: --agent-command: no program 'no-such-agent-xyz' on PATH/);
    assert.equal(fs.existsSync(out), false, 'nothing made under --out');
  });
});
