// The seams of the agent: a strategy other than the sequential loop (a small search: a round of children of one
// node, run at once), the backend registry (a factory of our own, an agent backend that edits the script itself),
// the budget schema, the sealed key, and the pre-run check every face calls.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackendError } from '../../src/core/agent/backends/backend';
import { defaultBackends } from '../../src/core/agent/backends';
import { OpenAIBackend } from '../../src/core/agent/backends/openai';
import { BudgetError, parseBudget } from '../../src/core/agent/budget';
import { AgentLoop } from '../../src/core/agent/loop';
import { buildSession } from '../../src/core/agent/session';
import { createStrategy, strategyNames } from '../../src/core/agent/strategies';
import type { AgentNode, Strategy, StrategyRun } from '../../src/core/agent/strategies/strategy';
import { type TurnResult, propose, runAttempt } from '../../src/core/agent/turn';
import type { AgentEventBody, BackendConfig, RunOutcome } from '../../src/core/agent/types';
import { readTaskFile } from '../../src/core/benchmark/openTask';
import { plural } from '../../src/core/format';
import { preRunCheck } from '../../src/core/rules/preRun';
import { SEAL_KEY_ENV, newSealKey, seal, takeSealKey, unseal } from '../../src/core/seal';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fakeOpenAI';
import { BASE, FakeHost, cleanupTemps, makeTaskDir, setSteps, steps } from './agentHelpers';

/**
 * A one-round search, as the search scaffolds will be built: the model proposes `width` children of the root
 * one after another (each from the root, in the one document), then all of them run at once; the best child
 * is kept. Nodes carry their script, parent and result.
 */
class OneRound implements Strategy {
  readonly name = 'one-round';
  nodes: AgentNode[] = [];
  constructor(private readonly width: number) {}
  async run(s: StrategyRun): Promise<string> {
    const { ctx } = s;
    this.nodes = [{ id: 0, script: s.root.text }];
    const children: { turn: number; script: string; plan: string }[] = [];
    for (let i = 0; i < this.width && !s.limit(); i++) {
      const turn = s.nextTurn();
      const cur = await ctx.host.readScript();
      const checkpoint = await ctx.host.checkpoint(turn, cur.text);
      ctx.host.emit({ type: 'turn', turn, checkpoint, startsFrom: 'the root' });
      if (cur.text !== s.root.text) await ctx.host.applyEdit({ turn, checkpoint, kind: 'restore', before: cur.text, after: s.root.text, version: cur.version });
      const p = await propose(ctx, { turn, checkpoint, parent: s.root.text, startsFrom: 'the root', history: [] });
      if (p.ready) children.push({ turn, script: (await ctx.host.readScript()).text, plan: p.plan });
    }
    // The round's runs go out together; each run gets its own script.
    const results = await Promise.all(children.map(async (c) => ({ c, r: await runAttempt(ctx, c.turn, c.script) })));
    for (const { c, r } of results) {
      const result: TurnResult = { turn: c.turn, checkpoint: 0, plan: c.plan, script: c.script, status: 'ran', ...r };
      this.nodes.push({ id: c.turn, parent: 0, script: c.script, result });
      s.offer(result);
    }
    return `round of ${children.length} done`;
  }
}

suite('agent seams: strategies', function () {
  this.timeout(60_000);
  let fake: FakeOpenAI | undefined;
  teardown(async () => {
    await fake?.close();
    fake = undefined;
    cleanupTemps();
  });

  test('a search strategy plays a round of children of one node with their runs at once, and the session keeps the best', async () => {
    const task = readTaskFile(makeTaskDir(12));
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1800) }, { content: setSteps(1875, 1720) }, { content: setSteps(1875, 1760) }] });
    let running = 0;
    let most = 0;
    const host = new FakeHost(BASE, (script, n) => ({ runId: `r${n}`, state: 'finished', final: { n_steps: steps(script), val_loss: 3.27, train_time: steps(script) * 100, is_valid: true } }));
    const inner = host.run.bind(host);
    host.run = async (turn: number, signal: AbortSignal, script: string): Promise<RunOutcome> => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 50));
      running--;
      return inner(turn, signal, script);
    };
    const strategy = new OneRound(3);
    const best = await new AgentLoop(host, { task, hints: [], backend: new OpenAIBackend({ baseUrl: fake.baseUrl, model: 'm' }), budget: { iterations: 3, runs: 3, tokens: 1e6 }, strategy }).run();
    assert.equal(most, 3, 'the three runs of the round overlapped');
    assert.deepEqual(host.ran.map(steps).sort(), [1720, 1760, 1800]);
    assert.deepEqual(strategy.nodes.map((n) => [n.id, n.parent, steps(n.script)]), [[0, undefined, 1875], [1, 0, 1800], [2, 0, 1720], [3, 0, 1760]]);
    assert.deepEqual([best?.turn, best?.trainTimeMs], [2, 172_000]);
    const end = host.of('end')[0];
    assert.deepEqual([end.reason, end.turns, end.runs], ['round of 3 done', 3, 3]);
    // Every child was proposed from the root, not from its sibling.
    for (const r of fake.requests) assert.match(r.body.messages![1].content, /num_iterations : int = 1875 # optimizer steps/);
  });

  test('strategies are offered by name; the sequential loop is the first', () => {
    assert.deepEqual(strategyNames(), ['sequential', 'flat', 'tree', 'forest', 'aide', 'multi-aide']);
    assert.equal(createStrategy('sequential')?.name, 'sequential');
    assert.equal(createStrategy('toString'), undefined);
  });

  test('the first turn names its start truly: the starting script, or the script as the user edited it', async () => {
    const task = readTaskFile(makeTaskDir(12));
    for (const [text, label] of [
      [BASE, 'the starting script'],
      [BASE.replace('num_iterations : int = 1875', 'num_iterations : int = 1860'), 'the script as you edited it before the agent started'],
    ]) {
      fake = await startFakeOpenAI({ responses: [{ content: 'No idea.' }, { content: 'Still none.' }] });
        const host = new FakeHost(text);
      await new AgentLoop(host, { task, hints: [], backend: new OpenAIBackend({ baseUrl: fake.baseUrl, model: 'm' }), budget: { iterations: 1, runs: 1, tokens: 1e6 }, maxFixRounds: 1 }).run();
      assert.equal(host.of('turn')[0].startsFrom, label);
      assert.match(fake.requests[0].body.messages![1].content, new RegExp(`# Current train_gpt2\\.py \\(${label}\\)`));
      await fake.close();
      fake = undefined;
    }
  });
});

suite('agent seams: backend registry and session', function () {
  this.timeout(60_000);
  teardown(cleanupTemps);

  test('an unknown kind is refused naming what is on offer', () => {
    const taskDir = makeTaskDir(12);
    const task = readTaskFile(taskDir);
    assert.deepEqual(defaultBackends().kinds(), ['openai', 'acp', 'replay']);
    const unknown = { kind: 'nope' } as unknown as BackendConfig;
    assert.throws(() => defaultBackends().create(unknown, { taskDir, task }), (e: Error) => e instanceof BackendError && /No 'nope' backend here \(available: openai, acp, replay\)/.test(e.message));
  });

  test('a registered agent backend takes over the propose step, edits through the host and is disposed at the end', async () => {
    const taskDir = makeTaskDir(12);
    const task = readTaskFile(taskDir);
    let disposed = 0;
    const registry = defaultBackends().register({
      kind: 'acp',
      summary: 'test agent',
      create: (c) => ({
        label: `agent ${c.command}`,
        async propose(ctx, input) {
          const cur = await ctx.host.readScript();
          const after = cur.text.replace('num_iterations : int = 1875', 'num_iterations : int = 1740');
          await ctx.host.applyEdit({ turn: input.turn, checkpoint: input.checkpoint, kind: 'edit', before: cur.text, after, version: cur.version });
          ctx.usage.tokens += 10;
          return { ready: true, plan: 'fewer steps, by the agent itself' };
        },
        dispose: () => void disposed++,
      }),
      modelOf: (c) => c.command,
    });
    const built = buildSession(registry, { taskDir, task, backend: { kind: 'acp', command: 'my-agent --acp' }, hintLevels: [1], budget: { iterations: 1, runs: 1, tokens: 100 }, target: 'box' });
    const opening = built.opening as Extract<AgentEventBody, { type: 'session' }>;
    assert.deepEqual([opening.backend, opening.model, opening.hintLevels, opening.hintFiles, opening.replay, opening.target], ['agent my-agent --acp', 'my-agent --acp', [1], ['level_1_pseudo.txt'], false, 'box']);
    const host = new FakeHost(BASE);
    const best = await new AgentLoop(host, built.options).run();
    assert.deepEqual(host.ran.map(steps), [1740]);
    assert.equal(best?.turn, 1);
    assert.equal(host.of('review')[0].decision, 'accept');
    assert.equal(host.of('end')[0].tokensUsed, 10);
    assert.equal(disposed, 1);
  });

  test('the replay gets no hints and its rule findings do not block; an agent may never get level 0', () => {
    const taskDir = makeTaskDir(12);
    const task = readTaskFile(taskDir);
    const replay = buildSession(defaultBackends(), { taskDir, task, backend: { kind: 'replay' }, hintLevels: [1, 2], budget: { iterations: 1, runs: 1, tokens: 1 } });
    assert.deepEqual([replay.options.hints, replay.options.enforceRules], [[], false]);
    assert.throws(() => buildSession(defaultBackends(), { taskDir, task, backend: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' }, hintLevels: [0], budget: { iterations: 1, runs: 1, tokens: 1 } }), /hint level 0 is not available/);
  });
});

suite('agent seams: budget, sealed secrets, pre-run check, wording', () => {
  test('budgets are checked by one schema, with one sentence naming the field', () => {
    assert.deepEqual(parseBudget({ iterations: 2, runs: 1, tokens: 5 }), { iterations: 2, runs: 1, tokens: 5 });
    for (const [bad, re] of [
      [{ iterations: 0, runs: 1, tokens: 1 }, /^budget\.iterations must be a positive integer/],
      [{ iterations: 1, runs: 1.5, tokens: 1 }, /^budget\.runs must be a positive integer/],
      [{ iterations: 1, runs: 1 }, /^budget\.tokens must be a positive integer/],
      [{ iterations: 1, runs: 1, tokens: '5' }, /^budget\.tokens must be a positive integer/],
      [null, /^the budget must be a positive integer object/],
    ] as const) {
      assert.throws(() => parseBudget(bad), (e: Error) => e instanceof BudgetError && re.test(e.message), JSON.stringify(bad));
    }
  });

  test('a sealed secret opens only with its key; the key leaves the environment once taken', () => {
    const key = newSealKey();
    const sealed = seal('sk-secret-value', key);
    assert.ok(!sealed.includes('sk-secret') && !Buffer.from(sealed, 'base64').toString('latin1').includes('sk-secret'));
    assert.equal(unseal(sealed, key), 'sk-secret-value');
    assert.throws(() => unseal(sealed, newSealKey()), /does not open with this session key/);
    const tampered = Buffer.from(sealed, 'base64');
    tampered[tampered.length - 1] ^= 1;
    assert.throws(() => unseal(tampered.toString('base64'), key), /does not open/);
    const env: NodeJS.ProcessEnv = { [SEAL_KEY_ENV]: key, OTHER: 'x' };
    assert.equal(takeSealKey(env), key);
    assert.deepEqual(env, { OTHER: 'x' });
    assert.equal(takeSealKey({ [SEAL_KEY_ENV]: 'not hex' }), undefined);
  });

  test('the pre-run check reads the task and its starting script, and says what is wrong', async () => {
    const taskDir = makeTaskDir(12);
    const script = path.join(taskDir, 'train_gpt2.py');
    const clean = await preRunCheck(taskDir, { python: false });
    assert.deepEqual([clean.errors, clean.baselineMissing, clean.summary], [[], undefined, 'train_gpt2.py keeps the benchmark rules.']);
    fs.writeFileSync(script, BASE.replace('save_checkpoint : bool = False', 'save_checkpoint : bool = True'));
    const broken = await preRunCheck(taskDir, { python: false });
    assert.deepEqual(broken.errors.map((v) => v.rule), ['save-checkpoint']);
    assert.equal(broken.summary, 'train_gpt2.py breaks a benchmark rule, so the run would not count.');
    assert.match(broken.details, /\[save-checkpoint\] line \d+: save_checkpoint must stay False/);
    // The editor's unsaved text wins over the file.
    assert.deepEqual((await preRunCheck(taskDir, { python: false, script: BASE })).errors, []);
    // Without the clone, what needs no comparison is still checked, and the gap is named.
    const taskFile = path.join(taskDir, '.speedrun/task.json');
    fs.writeFileSync(taskFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(taskFile, 'utf8')), benchmarkPath: path.join(taskDir, 'gone') }));
    const noClone = await preRunCheck(taskDir, { python: false });
    assert.deepEqual(noClone.errors.map((v) => v.rule), ['save-checkpoint']);
    assert.match(noClone.baselineMissing ?? '', /cannot be read/);
  });

  test('counts read as words: 1 turn, 2 turns', () => {
    assert.deepEqual([plural(1, 'turn'), plural(2, 'run'), plural(0, 'block')], ['1 turn', '2 runs', '0 blocks']);
  });
});
