// A fake ACP agent of ours (Agent Client Protocol over stdio, built with the SDK's agent app), standing in for
// Claude Code or Gemini CLI, which need accounts. Each prompt it: thinks, posts a plan, tries to read a file
// outside the task folder (and reports the refusal), reads train_gpt2.py, asks permission for its edit (with the
// diff), writes the edit, asks for a terminal running `ls` (refused) and one running the script (a run),
// then sends its last updates right before the prompt's response, so a client that does not drain loses them.
// Env: FAKE_ACP_OUTSIDE (the file it tries to read), FAKE_ACP_LOG (a JSON line per step, for the test).
// Usage: node out/test/support/fakeAcpAgent.js
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';

const log = (step: string, detail: unknown = null) => {
  if (process.env.FAKE_ACP_LOG) fs.appendFileSync(process.env.FAKE_ACP_LOG, JSON.stringify({ step, detail }) + '\n');
};

let cwd = '';
let prompts = 0;

const app = acp
  .agent({ name: 'fake-acp-agent' })
  .onRequest(acp.methods.agent.initialize, async ({ params }) => {
    log('initialize', params.clientCapabilities);
    return { protocolVersion: acp.PROTOCOL_VERSION, agentCapabilities: {}, authMethods: [] };
  })
  .onRequest(acp.methods.agent.session.new, async ({ params }) => {
    cwd = params.cwd;
    log('session', { cwd, pid: process.pid, at: Date.now(), hasWorkbenchKey: process.env.SPEEDRUN_AGENT_API_KEY !== undefined });
    return { sessionId: 'fake-session-1' };
  })
  .onNotification(acp.methods.agent.session.cancel, () => log('cancel'))
  .onRequest(acp.methods.agent.session.prompt, async ({ params, client }) => {
    prompts++;
    const sessionId = params.sessionId;
    const text = params.prompt.map((b) => (b.type === 'text' ? b.text : '')).join('');
    log('prompt', { prompts, hasBrief: /# Task \d+/.test(text), hasLevel0: /level_0|ground-truth diff\n\+/.test(text) });
    const update = (u: acp.SessionUpdate) => client.notify(acp.methods.client.session.update, { sessionId, update: u });
    await update({ sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: 'The warmup looks long; ' } });
    await update({ sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: 'fewer steps should be faster.' } });
    await update({ sessionUpdate: 'plan', entries: [
      { content: 'Read train_gpt2.py', priority: 'high', status: 'completed' },
      { content: 'Lower num_iterations', priority: 'high', status: 'pending' },
    ] });

    const outside = process.env.FAKE_ACP_OUTSIDE ?? '/etc/hostname';
    try {
      await client.request(acp.methods.client.fs.readTextFile, { sessionId, path: outside });
      log('outside-read', 'allowed');
    } catch (e) {
      log('outside-read', (e as Error).message);
    }
    try {
      await client.request(acp.methods.client.fs.writeTextFile, { sessionId, path: path.join(cwd, 'notes.txt'), content: 'x' });
      log('other-write', 'allowed');
    } catch (e) {
      log('other-write', (e as Error).message);
    }

    const file = path.join(cwd, 'train_gpt2.py');
    const { content } = await client.request(acp.methods.client.fs.readTextFile, { sessionId, path: file });
    log('read', { bytes: content.length, marker: content.includes('# edited in the editor, not saved') });
    const m = /num_iterations : int = (\d+)/.exec(content);
    if (!m) throw acp.RequestError.internalError(undefined, 'no num_iterations in the script');
    const next = content.replace(m[0], `num_iterations : int = ${Number(m[1]) - 2}`);

    await update({ sessionUpdate: 'tool_call', toolCallId: `edit-${prompts}`, title: 'Edit train_gpt2.py', kind: 'edit', status: 'pending' });
    const perm = await client.request(acp.methods.client.session.requestPermission, {
      sessionId,
      toolCall: { toolCallId: `edit-${prompts}`, title: 'Edit train_gpt2.py', kind: 'edit', content: [{ type: 'diff', path: file, oldText: content, newText: next }] },
      options: [
        { optionId: 'yes', name: 'Allow', kind: 'allow_once' },
        { optionId: 'no', name: 'Reject', kind: 'reject_once' },
      ],
    });
    log('permission', perm.outcome);
    if (perm.outcome.outcome === 'selected' && perm.outcome.optionId === 'yes') {
      await client.request(acp.methods.client.fs.writeTextFile, { sessionId, path: file, content: next });
      log('write', Number(m[1]) - 2);
    }

    try {
      await client.request(acp.methods.client.terminal.create, { sessionId, command: 'ls', args: ['-la'] });
      log('terminal-ls', 'allowed');
    } catch (e) {
      log('terminal-ls', (e as Error).message);
    }
    if (process.env.FAKE_ACP_RUN === '1') {
      try {
        const term = await client.createTerminal({ sessionId, command: 'torchrun', args: ['--standalone', '--nproc_per_node=8', 'train_gpt2.py'], cwd });
        const exit = await term.waitForExit();
        const out = await term.currentOutput();
        log('terminal-run', { exitCode: exit.exitCode, output: out.output.split('\n')[0] });
        await term.release();
      } catch (e) {
        log('terminal-run', (e as Error).message);
      }
    }
    // Where the client keeps the file: does the edit show on disk before the turn ends?
    const onDisk = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    log('on-disk', { pid: process.pid, cwd, edited: onDisk === next, at: Date.now() });
    if (process.env.FAKE_ACP_DELAY_MS) await new Promise((r) => setTimeout(r, Number(process.env.FAKE_ACP_DELAY_MS)));

    // The last updates, not awaited, right before the response.
    void update({ sessionUpdate: 'tool_call_update', toolCallId: `edit-${prompts}`, status: 'completed' });
    void update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: `Lowered num_iterations to ${Number(m[1]) - 2}. ` } });
    void update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'That should train faster.' } });
    return { stopReason: 'end_turn' };
  });

app.connect(acp.ndJsonStream(Writable.toWeb(process.stdout) as WritableStream<Uint8Array>, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>));
