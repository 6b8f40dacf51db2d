// The agent as a user meets it in a real VS Code (code-server + Chromium): Ask Agent from the palette, pick a
// model, a hint level and a budget, watch the change stream into train_gpt2.py (screenshot mid-turn), accept
// it from the transcript, let it run on the simulated box, and look at the transcript (screenshot).
// The model is our fake OpenAI-compatible server, in this test process on a free loopback port.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { openTask } from '../../src/core/benchmark/openTask';
import { shellQuote } from '../../src/core/remote/shell';
import { FIXTURE_BENCHMARK, REPO_ROOT, runCommand, startCodeServer, type CodeServerSession } from '../support/codeServer';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fakeOpenAI';
import { makeShards } from '../support/runFixture';

const SIM = path.join(REPO_ROOT, 'test/sim');

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await get();
      if (ok(last)) return last;
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 300)}`);
}

/** The transcript webview's content frame (the one holding #timeline). */
async function transcript(cs: CodeServerSession): Promise<Frame> {
  return until('the transcript webview', async () => {
    for (const f of cs.page.frames()) if (await f.$('#timeline').catch(() => null)) return f;
    return undefined;
  }, (f) => !!f, 60_000) as Promise<Frame>;
}

/** Picks a row of the open quick pick by its text. */
async function pick(cs: CodeServerSession, text: string | RegExp) {
  const row = cs.page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
}

suite('agent: ask, watch, accept, read the transcript (e2e)', function () {
  this.timeout(400_000);
  let cs: CodeServerSession | undefined;
  let fake: FakeOpenAI;
  let tmp: string;
  let taskDir: string;
  const cspErrors: string[] = [];

  suiteSetup(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-e2e-agent-'));
    taskDir = openTask({ benchmarkPath: FIXTURE_BENCHMARK, taskId: 12, dest: path.join(tmp, 'task12') }).taskDir;
    const original = fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8');
    // A long hunk (the MODEL settings, annotated line by line) so the live view has frames to show.
    const model = /MODEL = dict\([\s\S]*?\n\)\n/.exec(original)![0].trimEnd();
    const rewritten = model.split('\n').map((l) => (/^ {4}\w+=/.test(l) ? `${l}  # checked by the agent` : l)).join('\n').replace('window_warmup=False', 'window_warmup=True');
    const plan =
      'Record 13 came from warming up the attention window, so I switch window warmup on and fewer steps should then reach 3.28. ' +
      'I also note which settings I checked.';
    fake = await startFakeOpenAI({
      responses: [{
        reasoning: 'The hint describes a sliding window that grows during training; the fixture exposes it as window_warmup.',
        content: `${plan}\n\ntrain_gpt2.py\n<<<<<<< SEARCH\n${model}\n=======\n${rewritten}\n>>>>>>> REPLACE\n\ntrain_gpt2.py\n<<<<<<< SEARCH\n    num_iterations : int = 1875 # optimizer steps\n=======\n    num_iterations : int = 1750 # optimizer steps\n>>>>>>> REPLACE\n`,
        chunkSize: 24,
        delayMs: 15,
      }],
    });
  });
  teardown(async function () {
    if (this.currentTest?.state === 'failed') await cs?.screenshot('failed-agent');
    await cs?.stop();
    cs = undefined;
  });
  suiteTeardown(async () => {
    await fake?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a turn streams into the editor, is accepted, runs, and lands in the transcript', async () => {
    const box = path.join(tmp, 'box');
    const shards = makeShards(path.join(box, 'data'), 12);
    cs = await startCodeServer({
      workspace: taskDir,
      theme: 'dark',
      viewport: { width: 1600, height: 1000 },
      settings: {
        'speedrun.benchmarkPath': FIXTURE_BENCHMARK,
        'speedrun.targets': [{
          name: 'sim-box', kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, ...shards,
          setup: `export PATH=${shellQuote(SIM)}:"$PATH" PYTHONPATH=${shellQuote(path.join(SIM, 'pylib'))}`,
          env: { SIM_SPEEDUP: '2000', SIM_COMPILE_SECONDS: '1' },
        }],
        'speedrun.agent.backend': 'openai',
        'speedrun.agent.baseUrl': fake.baseUrl,
        'speedrun.agent.model': 'fake-o3',
        'speedrun.agent.autoAccept': false,
      },
    });
    const page = cs.page;
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.locator('.monaco-workbench').waitFor();

    // The user has the script open.
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input.input[type=text]').fill('train_gpt2.py');
    await pick(cs, 'train_gpt2.py');
    await page.locator('.monaco-editor .view-line', { hasText: 'class Hyperparameters' }).first().waitFor();

    // Dimmed lines last a few 100 ms frames: note them as they appear rather than hoping a poll lands on one.
    await page.evaluate(`window.__dimSeen = false; new MutationObserver(() => { if (!window.__dimSeen && [...document.querySelectorAll('.view-line span')].some((s) => getComputedStyle(s).opacity === '0.4')) window.__dimSeen = true; }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true })`);
    await runCommand(page, 'Speedrun: Ask Agent…');
    await pick(cs, 'fake-o3');
    await pick(cs, 'Level 1');
    await page.locator('.quick-input-widget .quick-input-action, .quick-input-widget a[role=button]', { hasText: 'OK' }).first().click().catch(() => page.keyboard.press('Enter'));
    await pick(cs, 'One turn');

    // Mid-turn: some lines already rewritten, the rest still dimmed.
    await until('dimmed, not yet written lines', () => page.evaluate<boolean>('window.__dimSeen === true'), (v) => v, 120_000);
    await cs.screenshot('agent-live-edit');
    assert.ok(await page.locator('.tab', { hasText: 'agent turn 1' }).count(), 'the live diff tab is open');

    // Review from the transcript (it shares its editor group with the live diff, so bring it to the front).
    await runCommand(page, 'Speedrun: Show Agent Transcript');
    const t = await transcript(cs);
    await t.locator('#accept:not(.hidden)').waitFor({ timeout: 120_000 });
    assert.match((await t.locator('#status').textContent()) ?? '', /Turn 1 is waiting for your review/);
    await page.locator('.codelens-decoration', { hasText: 'Accept agent turn 1' }).first().waitFor({ timeout: 30_000 });
    await cs.screenshot('agent-review');
    await t.locator('#accept').click();

    // The run's dashboard opens in front of the transcript (same group) when the run starts, which may be after this
    // command: the hidden transcript's frame is then dropped, so bring it back and look again.
    let t2: Awaited<ReturnType<typeof transcript>>;
    for (let i = 0; ; i++) {
      await runCommand(page, 'Speedrun: Show Agent Transcript');
      t2 = await transcript(cs);
      const err = await t2.locator('footer.end').waitFor({ timeout: 180_000 }).then(() => undefined, (e: Error) => e);
      if (!err) break;
      if (i >= 3 || !/detached/i.test(err.message)) throw err;
    }
    const text = (await t2.locator('#timeline').textContent()) ?? '';
    assert.match(text, /Turn 1/);
    assert.match(text, /Record 13 came from warming up the attention window/);
    assert.match(text, /applied blocks 1, 2/);
    assert.match(text, /Rules kept/);
    assert.match(text, /Accepted by you/);
    assert.match(text, /finished: val loss 3\.27\d\d \(meets the 3\.28 target\)/);
    assert.match(text, /New best attempt: turn 1/);
    assert.equal(await t2.locator('.badge.valid').count(), 1);
    assert.match(text, /Ended \(iteration budget used \(1\)\)/);
    assert.match(text, /budget 1 turn, 1 run, 100,000 tokens/, 'counts read as words');
    assert.match(text, /· 1 turn, 1 run, [\d,]+ tokens/);
    assert.match(text, /starts from the starting script/);
    await t2.locator('.response details.reasoning summary').first().click();
    await runCommand(page, 'Notifications: Clear All Notifications'); // toasts would cover the transcript
    await cs.screenshot('agent-transcript');
    assert.deepEqual(cspErrors, []);
    assert.match(fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8'), /num_iterations : int = 1750/);
  });
});
