import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OpenAIBackend } from '../../src/core/agent/backends/openai';
import { ReplayBackend, diffToBlocks, loadGroundTruthDiff } from '../../src/core/agent/backends/replay';
import { ForbiddenHintError, assertAgentLevel, loadAgentHints } from '../../src/core/agent/hints';
import { AgentLoop, type LoopOptions } from '../../src/core/agent/loop';
import { readTaskFile } from '../../src/core/benchmark/openTask';
import type { TaskFile } from '../../src/core/benchmark/types';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fakeOpenAI';
import { BASE, FIXTURE, FakeHost, block, cleanupTemps, hintText, makeTaskDir, recordScript, setSteps, simRunner, steps } from './agentHelpers';

suite('agent loop against a fake OpenAI-compatible server', function () {
  this.timeout(120_000); // the rule check starts python3, slow on a busy machine
  let fake: FakeOpenAI;
  let task: TaskFile;
  let taskDir: string;

  setup(() => {
    taskDir = makeTaskDir(12);
    task = readTaskFile(taskDir);
  });
  teardown(async () => {
    await fake?.close();
    cleanupTemps();
  });

  function loop(host: FakeHost, opts: Partial<LoopOptions> = {}, apiKey = 'sk-test-secret-key-123') {
    const backend = new OpenAIBackend({ baseUrl: fake.baseUrl, model: 'fake-model', apiKey });
    return new AgentLoop(host, { task, hints: [], backend, budget: { iterations: 2, runs: 5, tokens: 1_000_000 }, ...opts });
  }

  test('two turns on the simulated box keep the better run and leave its script in the file', async () => {
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1750) }, { content: setSteps(1750, 1800) }] });
    const host = new FakeHost(BASE);
    const best = await loop(host).run();
    assert.deepEqual(host.ran.map(steps), [1750, 1800]);
    assert.deepEqual(best, { turn: 1, runId: 'run-1', trainTimeMs: 175_000, valLoss: 3.2771 });
    assert.equal(steps(host.text), 1750, 'the better attempt is restored at the end');
    assert.deepEqual(host.of('best').map((e) => e.turn), [1]);
    assert.equal(host.of('end')[0].reason, 'iteration budget used (2)');
    assert.deepEqual(host.checkpoints.map(steps), [1875, 1750, 1800], 'a checkpoint before each turn, and before the final restore');
    // The second prompt carries the first outcome, summarised.
    const second = fake.requests[1].body.messages!.map((m) => m.content).join('\n');
    assert.match(second, /Turn 1: Train for 1750 steps instead of 1875\./);
    assert.match(second, /Run run-1 finished: val loss 3\.2771 \(meets the 3\.28 target\), training time 175\.0 s over 1750 steps/);
    assert.match(second, /Best valid attempt so far: turn 1, 175\.0 s/);
  });

  test('an attempt that misses the target is not kept; the next turn starts again from the best script', async () => {
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1600) }, { content: setSteps(1875, 1750) }] });
    const host = new FakeHost(BASE);
    const best = await loop(host).run();
    assert.deepEqual(host.ran.map(steps), [1600, 1750]);
    assert.equal(best?.turn, 2);
    assert.equal(host.of('restore')[0]?.to, 'the starting script');
    assert.match(fake.requests[1].body.messages![1].content, /misses the 3\.28 target, so the attempt is not valid/);
  });

  test('a rule violation goes back to the model and is fixed before any run', async () => {
    const violating = `Also save a checkpoint.\n${block('    num_iterations : int = 1875 # optimizer steps', '    num_iterations : int = 1750 # optimizer steps')}${block('    save_checkpoint : bool = False', '    save_checkpoint : bool = True')}`;
    const fix = `Sorry, turning it off again.\n${block('    save_checkpoint : bool = True', '    save_checkpoint : bool = False')}`;
    fake = await startFakeOpenAI({ responses: [{ content: violating }, { content: fix }] });
    const host = new FakeHost(BASE);
    await loop(host, { budget: { iterations: 1, runs: 5, tokens: 1_000_000 } }).run();
    assert.equal(fake.requests.length, 2);
    const followUp = fake.requests[1].body.messages!;
    assert.equal(followUp.length, 4, 'system, task, the model answer, the fix request');
    assert.equal(followUp[2].role, 'assistant');
    assert.match(followUp[3].content, /breaks these rules/);
    assert.match(followUp[3].content, /\[save-checkpoint\] line \d+: save_checkpoint must stay False/);
    assert.equal(host.ran.length, 1, 'one run, after the fix');
    assert.match(host.ran[0], /save_checkpoint : bool = False/);
    assert.equal(steps(host.ran[0]), 1750);
  });

  test('a block that does not match gets a precise error back, and the corrected block is applied', async () => {
    const ctx = '    sequence_length : int = 64*1024 # tokens per sequence\n';
    const wrong = `Fewer steps.\n${block(`${ctx}    num_iterations : int = 1900 # optimizer steps`, `${ctx}    num_iterations : int = 1750 # optimizer steps`)}`;
    fake = await startFakeOpenAI({ responses: [{ content: wrong }, { content: setSteps(1875, 1750) }] });
    const host = new FakeHost(BASE);
    await loop(host, { budget: { iterations: 1, runs: 5, tokens: 1_000_000 } }).run();
    const fixRequest = fake.requests[1].body.messages![3].content;
    assert.match(fixRequest, /No block was applied/);
    assert.match(fixRequest, /First difference at line \d+: the file has " {4}num_iterations : int = 1875 # optimizer steps", the SEARCH part has " {4}num_iterations : int = 1900 # optimizer steps"/);
    assert.deepEqual(host.ran.map(steps), [1750]);
    assert.deepEqual(host.of('edit').map((e) => e.applied), [[], [1]]);
  });

  test('a turn whose blocks never apply is undone and not run', async () => {
    fake = await startFakeOpenAI({ respond: () => ({ content: setSteps(1900, 1750) }) });
    const host = new FakeHost(BASE);
    await loop(host, { budget: { iterations: 1, runs: 5, tokens: 1_000_000 }, maxFixRounds: 1 }).run();
    assert.equal(fake.requests.length, 2);
    assert.equal(host.ran.length, 0);
    assert.equal(host.text, BASE);
    assert.match(host.of('review')[0].reason!, /blocks did not apply/);
  });

  test('a rejected turn is restored, not run, and the model is told', async () => {
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1750) }, { content: setSteps(1875, 1800) }] });
    const host = new FakeHost(BASE);
    host.decisions = ['reject', 'accept'];
    await loop(host).run();
    assert.deepEqual(host.ran.map(steps), [1800]);
    assert.match(fake.requests[1].body.messages![1].content, /Turn 1: .*\n {2}Result: the user rejected this change/);
  });

  test("a crashed run's root cause and last output lines reach the next prompt", async () => {
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1750) }, { content: setSteps(1750, 1760) }] });
    const host = new FakeHost(BASE, (s, n) =>
      n === 1
        ? { runId: 'r1', state: 'failed', error: { kind: 'oom', message: 'CUDA out of memory. Tried to allocate 2.00 GiB', file: 'train_gpt2.py', line: 97 }, logTail: 'step:10/1750 train_time:0ms\n[rank0]: torch.OutOfMemoryError: CUDA out of memory' }
        : simRunner(s, n),
    );
    await loop(host).run();
    const next = fake.requests[1].body.messages![1].content;
    assert.match(next, /Run r1 failed\.\nRoot cause: oom: CUDA out of memory\. Tried to allocate 2\.00 GiB \(train_gpt2\.py line 97\)/);
    assert.match(next, /Last lines of its output:\nstep:10\/1750/);
    assert.match(next, /Current train_gpt2\.py \(the last attempt, whose run failed\)/);
    assert.equal(steps(host.ran[1]), 1760, 'the fix builds on the crashed script');
  });

  test('the token budget stops the session before another request', async () => {
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1750), usage: { prompt_tokens: 900, completion_tokens: 200 } }] });
    const host = new FakeHost(BASE);
    await loop(host, { budget: { iterations: 5, runs: 5, tokens: 1000 } }).run();
    assert.equal(fake.requests.length, 1);
    const end = host.of('end')[0];
    assert.equal(end.reason, 'token budget used (1000)');
    assert.equal(end.tokensUsed, 1100);
    assert.equal(host.of('response')[0].usage.estimated, undefined, 'usage reported by the server is used as is');
  });

  test('stop() during a streamed answer ends the session at once, with no run', async () => {
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1750).repeat(4), chunkSize: 8, delayMs: 30 }] });
    const host = new FakeHost(BASE);
    const l = loop(host);
    const origEmit = host.emit.bind(host);
    host.emit = (e) => {
      origEmit(e);
      if (e.type === 'delta') l.stop();
    };
    await l.run();
    assert.equal(host.of('end')[0].reason, 'stopped by the user');
    assert.equal(host.ran.length, 0);
    assert.equal(host.text, BASE);
  });

  test('an HTTP error from the endpoint ends the session with its message', async () => {
    fake = await startFakeOpenAI({ responses: [{ status: 401, error: 'Incorrect API key provided' }] });
    const host = new FakeHost(BASE);
    await loop(host).run();
    assert.equal(host.of('end')[0].reason, 'error: The model endpoint answered HTTP 401: Incorrect API key provided');
  });

  test('streams reasoning and content as deltas; the key goes only in the Authorization header', async () => {
    fake = await startFakeOpenAI({ responses: [{ reasoning: 'Fewer steps should do.', content: setSteps(1875, 1750) }] });
    const host = new FakeHost(BASE);
    await loop(host, { budget: { iterations: 1, runs: 1, tokens: 1_000_000 } }).run();
    const deltas = host.of('delta');
    assert.equal(deltas.filter((d) => d.channel === 'reasoning').map((d) => d.text).join(''), 'Fewer steps should do.');
    assert.equal(deltas.filter((d) => d.channel === 'content').map((d) => d.text).join(''), setSteps(1875, 1750));
    assert.equal(host.of('response')[0].reasoning, 'Fewer steps should do.');
    const req = fake.requests[0];
    assert.equal(req.headers.authorization, 'Bearer sk-test-secret-key-123');
    assert.equal(req.body.model, 'fake-model');
    assert.equal(req.body.stream, true);
    assert.ok(!JSON.stringify(req.body).includes('sk-test-secret-key-123'));
    // What the transcript shows as sent is exactly what the server received.
    assert.deepEqual(host.of('prompt')[0].messages, req.body.messages);
  });
});

suite('agent hints: what an agent may and may not see', function () {
  this.timeout(120_000);
  let fake: FakeOpenAI;
  teardown(async () => {
    await fake?.close();
    cleanupTemps();
  });

  test('the request contains the chosen hint levels, and never level 0 or the reference script', async () => {
    const taskDir = makeTaskDir(12);
    const task = readTaskFile(taskDir);
    const hints = loadAgentHints(FIXTURE, 12, [1, 3]);
    assert.deepEqual(hints.map((h) => h.level), [1, 3]);
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1750) }] });
    const host = new FakeHost(BASE);
    const backend = new OpenAIBackend({ baseUrl: fake.baseUrl, model: 'm' });
    await new AgentLoop(host, { task, hints, backend, budget: { iterations: 1, runs: 1, tokens: 1_000_000 } }).run();
    const sent = fake.allPromptText();
    assert.ok(sent.includes(hintText(12, 'level_1_pseudo.txt').trim()), 'level 1 sent');
    assert.ok(sent.includes(hintText(12, 'level_3_paper.txt').trim()), 'level 3 sent');
    assert.ok(!sent.includes(hintText(12, 'level_2_description.txt').trim()), 'level 2 not chosen, not sent');
    const groundTruth = hintText(12, 'level_0_diff.txt');
    assert.ok(!sent.includes(groundTruth.trim()), 'no level-0 diff');
    assert.ok(!sent.includes('temp_next.py'), 'no trace of the diff header');
    const reference = recordScript(13);
    const refOnly = reference.split('\n').filter((l) => l.trim() && !BASE.includes(l));
    assert.ok(refOnly.length > 0);
    for (const l of refOnly) assert.ok(!sent.includes(l), `reference line leaked: ${l}`);
  });

  test('level 0 (or any other level) cannot be requested for an agent', () => {
    assert.throws(() => assertAgentLevel(0), ForbiddenHintError);
    assert.throws(() => assertAgentLevel(9), ForbiddenHintError);
    assert.throws(() => loadAgentHints(FIXTURE, 12, [0]), /level 0 is not available to an agent/);
    assert.throws(() => loadAgentHints(FIXTURE, 12, [1, 0]), ForbiddenHintError);
  });

  test('no hints chosen: the prompt says so and holds no hint text', async () => {
    const task = readTaskFile(makeTaskDir(12));
    fake = await startFakeOpenAI({ responses: [{ content: setSteps(1875, 1750) }] });
    const host = new FakeHost(BASE);
    await new AgentLoop(host, { task, hints: [], backend: new OpenAIBackend({ baseUrl: fake.baseUrl, model: 'm' }), budget: { iterations: 1, runs: 1, tokens: 1e6 } }).run();
    const sent = fake.allPromptText();
    assert.match(sent, /No hints for this task/);
    for (const f of ['level_1_pseudo.txt', 'level_2_description.txt', 'level_3_paper.txt']) assert.ok(!sent.includes(hintText(12, f).trim()), f);
  });
});

suite('agent replay of the ground truth', function () {
  this.timeout(120_000);
  teardown(cleanupTemps);

  test("replaying the level-0 diff turns record 12's script into record 13's, runs it once and stops", async () => {
    const taskDir = makeTaskDir(12);
    const task = readTaskFile(taskDir);
    const backend = new ReplayBackend(loadGroundTruthDiff(FIXTURE, 12), task, 0);
    const host = new FakeHost(BASE);
    const best = await new AgentLoop(host, { task, hints: [], backend, budget: { iterations: 5, runs: 5, tokens: 1000 }, enforceRules: false }).run();
    assert.equal(host.text, recordScript(13));
    assert.equal(host.ran.length, 1);
    assert.equal(best?.turn, 1);
    assert.equal(host.of('end')[0].reason, 'the replay has nothing more to play');
    assert.match(host.of('response')[0].text, /^Replaying the ground-truth change of record 12 -> 13 \(hint level 0\)\. This is not a model/);
    assert.ok(fs.existsSync(path.join(taskDir, '.speedrun', 'task.json')));
  });

  test('the diff becomes one SEARCH/REPLACE block per hunk', () => {
    const diff = loadGroundTruthDiff(FIXTURE, 12);
    const hunks = diff.split('\n').filter((l) => l.startsWith('@@')).length;
    assert.equal(diffToBlocks(diff).split('<<<<<<< SEARCH').length - 1, hunks);
  });
});
