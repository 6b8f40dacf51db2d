// Our ACP client (core/agent/backends/acp.ts) driving a real ACP agent process over stdio (test/support/
// fakeAcpAgent.ts), through one agent turn with an editor-like host: the script lives in memory with unsaved
// edits, edits go through applyEdit, the face answers permission questions.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultBackends } from '../../src/core/agent/backends';
import { acpFactory, runsScript, splitCommand, unattendedChoice, type PermissionQuestion } from '../../src/core/agent/backends/acp';
import { AgentLoop, type AgentHost } from '../../src/core/agent/loop';
import { buildSession } from '../../src/core/agent/session';
import type { AgentEventBody, RunOutcome } from '../../src/core/agent/types';
import { openTask, readTaskFile } from '../../src/core/benchmark/openTask';
import { checkScript } from '../../src/core/rules';
import { FIXTURE, REPO, cleanupTemps, tempDir } from './benchmarkHelpers';

const AGENT = path.join(REPO, 'out/test/support/fakeAcpAgent.js');

interface Editor {
  host: AgentHost;
  events: AgentEventBody[];
  edits: { kind: string; after: string }[];
  runs: string[];
  text: () => string;
}

/** A host like the editor's: the document's text (not the file) is what reads and edits see. */
function editorHost(taskDir: string, unsaved: string, baseline: string): Editor {
  let text = unsaved;
  let version = 1;
  const e: Editor = { events: [], edits: [], runs: [], text: () => text, host: undefined as unknown as AgentHost };
  e.host = {
    readScript: async () => ({ text, version }),
    applyEdit: async (x) => {
      if (x.version !== version || x.before !== text) return { applied: false, reason: 'changed' };
      e.edits.push({ kind: x.kind, after: x.after });
      text = x.after;
      version++;
      return { applied: true };
    },
    checkpoint: async () => 1,
    checkRules: (t) => checkScript(t, baseline, { python: false }),
    review: async () => ({ decision: 'accept', by: 'auto' }),
    revert: async () => undefined,
    run: async (turn, _signal, script): Promise<RunOutcome> => {
      e.runs.push(script);
      return { runId: `20261201-00000${e.runs.length}-abcd`, state: 'finished', final: { n_steps: 10, val_loss: 3.27, train_time: 1000, is_valid: true } as never, logTail: 'step:10/10 val_loss:3.27' };
    },
    saveTurn: () => undefined,
    emit: (ev) => void e.events.push(ev),
  };
  void taskDir;
  return e;
}

suite('ACP agent backend (fake ACP agent over stdio)', function () {
  this.timeout(60_000);
  teardown(cleanupTemps);

  async function session(opts: { ask?: (q: PermissionQuestion) => Promise<string | undefined>; run?: boolean; hintLevels?: number[] } = {}) {
    const taskDir = openTask({ benchmarkPath: FIXTURE, taskId: 12, dest: path.join(tempDir('speedrun-acp-'), 'task') }).taskDir;
    const onDisk = fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8');
    const unsaved = `${onDisk}\n# edited in the editor, not saved\n`;
    const ed = editorHost(taskDir, unsaved, onDisk);
    const logFile = path.join(taskDir, '..', 'agent.jsonl');
    const outside = path.join(taskDir, '..', 'secret.txt');
    fs.writeFileSync(outside, 'not for agents');
    process.env.FAKE_ACP_LOG = logFile;
    process.env.FAKE_ACP_OUTSIDE = outside;
    process.env.FAKE_ACP_RUN = opts.run ? '1' : '0';
    const registry = defaultBackends();
    const asked: PermissionQuestion[] = [];
    if (opts.ask) registry.register(acpFactory({ askPermission: (q) => (asked.push(q), opts.ask!(q)) }));
    const built = buildSession(registry, {
      taskDir, task: readTaskFile(taskDir), backend: { kind: 'acp', command: `${JSON.stringify(process.execPath)} ${JSON.stringify(AGENT)}` },
      hintLevels: opts.hintLevels ?? [1], budget: { iterations: 1, runs: 3, tokens: 1_000_000 },
    });
    const best = await new AgentLoop(ed.host, built.options).run();
    const steps = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: string; detail: any });
    const step = (name: string) => steps.find((s) => s.step === name)?.detail;
    return { ed, steps, step, asked, best, unsaved, opening: built.opening };
  }

  test('reads the open document, writes through the host after the permission question shows the diff, refuses what is outside', async () => {
    const { ed, step, asked, unsaved } = await session({ ask: async (q) => q.options.find((o) => o.kind === 'allow_once')?.optionId });
    const caps = step('initialize');
    assert.deepEqual([caps.fs, caps.terminal], [{ readTextFile: true, writeTextFile: true }, true]);
    assert.equal(step('read').marker, true, 'fs/read_text_file answered from the unsaved document');
    assert.match(step('outside-read'), /outside the task folder/);
    assert.match(step('other-write'), /Only train_gpt2.py may be changed/);
    assert.match(step('terminal-ls'), /Only running train_gpt2.py .* 'ls -la' was not run/);
    assert.equal(asked.length, 1);
    assert.equal(asked[0].kind, 'edit');
    assert.equal(asked[0].diff?.oldText, unsaved);
    assert.match(asked[0].diff!.newText, /num_iterations : int = 1873/);
    assert.deepEqual(ed.edits.map((x) => x.kind), ['edit']);
    assert.match(ed.text(), /num_iterations : int = 1873/);
    assert.match(ed.text(), /# edited in the editor, not saved/, 'the edit kept the unsaved text it was made on');
    // The turn ran the attempt once, after the agent's turn.
    assert.equal(ed.runs.length, 1);
    assert.equal(ed.runs[0], ed.text());
  });

  test('thoughts, the plan, tool calls and the late updates reach the transcript', async () => {
    const { ed, step } = await session({ ask: async () => 'yes' });
    assert.equal(step('prompt').hasBrief, true);
    assert.equal(step('prompt').hasLevel0, false);
    const response = ed.events.find((e): e is Extract<AgentEventBody, { type: 'response' }> => e.type === 'response')!;
    // Sent without awaiting, right before the prompt's response: still part of the turn.
    assert.equal(response.text, 'Lowered num_iterations to 1873. That should train faster.');
    assert.equal(response.reasoning, 'The warmup looks long; fewer steps should be faster.');
    const notes = ed.events.filter((e): e is Extract<AgentEventBody, { type: 'note' }> => e.type === 'note').map((e) => e.text);
    assert.ok(notes.some((n) => /^plan:\n\[x\] Read train_gpt2.py\n\[ \] Lower num_iterations$/.test(n)), notes.join(' | '));
    assert.ok(notes.includes('tool call: Edit train_gpt2.py (edit): pending'));
    assert.ok(notes.includes('tool call edit-1: completed'), notes.join(' | '));
    assert.ok(notes.includes('permission: Edit train_gpt2.py (edit) → Allow'));
    const prompt = ed.events.find((e): e is Extract<AgentEventBody, { type: 'prompt' }> => e.type === 'prompt')!;
    assert.match(prompt.messages[0].content, /## Hint level 1/);
  });

  test('a rejected permission leaves the script alone and the turn is not run', async () => {
    const { ed, step, unsaved } = await session({ ask: async () => 'no' });
    assert.deepEqual(step('permission'), { outcome: 'selected', optionId: 'no' });
    assert.equal(ed.text(), unsaved);
    assert.equal(ed.runs.length, 0);
    assert.ok(ed.events.some((e) => e.type === 'review' && e.decision === 'reject' && /left train_gpt2.py as it was/.test(e.reason ?? '')));
  });

  test("a terminal running the script becomes one of the host's runs", async () => {
    const { ed, step } = await session({ run: true });
    assert.deepEqual(step('terminal-run'), { exitCode: 0, output: 'Run 20261201-000001-abcd finished: val_loss 3.27 after 10 steps, train_time 1000 ms' });
    // Headless policy: an edit is allowed without anyone asked; then the turn's own run.
    assert.equal(ed.runs.length, 2);
  });

  test('unattended, reads and edits are allowed once, anything else is rejected once', () => {
    const options = [
      { optionId: 'a', name: 'Always', kind: 'allow_always' as const },
      { optionId: 'o', name: 'Once', kind: 'allow_once' as const },
      { optionId: 'r', name: 'No', kind: 'reject_once' as const },
    ];
    assert.equal(unattendedChoice({ kind: 'edit', options }), 'o');
    assert.equal(unattendedChoice({ kind: 'read', options }), 'o');
    assert.equal(unattendedChoice({ kind: 'execute', options }), 'r');
    assert.equal(unattendedChoice({ kind: 'fetch', options }), 'r');
    assert.equal(unattendedChoice({ kind: 'delete', options: options.slice(0, 2) }), undefined, 'no reject option: the question is cancelled');
  });

  test('command lines split like a shell, and only the script counts as a run', () => {
    assert.deepEqual(splitCommand(`npx -y "@zed-industries/claude-agent-acp" --flag='a b' c\\ d`), ['npx', '-y', '@zed-industries/claude-agent-acp', '--flag=a b', 'c d']);
    assert.throws(() => splitCommand('gemini "--acp'), /unclosed " quote/);
    assert.equal(runsScript('torchrun', ['--standalone', '--nproc_per_node=8', 'train_gpt2.py']), true);
    assert.equal(runsScript('python', ['train_gpt2.py']), true);
    assert.equal(runsScript('bash', ['-c', 'torchrun train_gpt2.py']), false);
    assert.equal(runsScript('torchrun', ['other.py']), false);
  });
});
