// Any ACP agent (Agent Client Protocol: Claude Code through its ACP adapter, `gemini --acp`, ...) as the
// propose step of a turn. We are the ACP client: the agent edits train_gpt2.py itself through fs/write_text_file,
// which lands through the turn's host (the live edit view in the editor, the file headless); fs/read_text_file
// answers from the host (the open document, unsaved edits included); a terminal that runs the script becomes
// one of our runs; anything outside the task folder is refused. Thoughts, plans and tool calls go to the
// transcript. The agent process lives for the whole session (one ACP session), one prompt per turn.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import { withoutKeys } from '../../secretEnv';
import { renderTaskBrief, SCRIPT_NAME } from '../../benchmark/openTask';
import { describeViolations } from '../../rules';
import { changeSize } from '../editFormat';
import { checkStopped, checkTurnRules, type ProposeInput, type Proposal, type TurnContext } from '../turn';
import type { RunOutcome } from '../types';
import { type AgentBackend, BackendError, estimateTokens } from './backend';
import type { BackendFactory } from './registry';

/** A tool call the agent wants to make, as a face shows it to the user. */
export interface PermissionQuestion {
  turn: number;
  title: string;
  kind: string;
  /** The change, when the tool call carries a diff of a file in the task folder. */
  diff?: { path: string; oldText: string; newText: string };
  options: { optionId: string; name: string; kind: acp.PermissionOptionKind }[];
}

export interface AcpHooks {
  /** Asks the user; resolves with the chosen optionId, or undefined when the question was dismissed. */
  askPermission?(q: PermissionQuestion, signal: AbortSignal): Promise<string | undefined>;
}

/** Splits a command line into words (quotes and backslashes as a POSIX shell reads them; nothing is expanded). */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) words.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (q) throw new BackendError(`The agent command has an unclosed ${q} quote: ${line}`);
  if (has || cur) words.push(cur);
  return words;
}

/** Kinds of tool call an unattended session (no one to ask) lets the agent make. Our fs and terminal methods enforce the rest. */
const UNATTENDED_ALLOWED = new Set(['read', 'edit', 'search', 'think', 'switch_mode']);

/** The answer when no one is asked (headless, or auto-accept in the editor): allow once by kind, else reject once. */
export function unattendedChoice(q: Pick<PermissionQuestion, 'kind' | 'options'>): string | undefined {
  const pick = (k: string) => q.options.find((o) => o.kind === `${k}_once`) ?? q.options.find((o) => o.kind.startsWith(k));
  return pick(UNATTENDED_ALLOWED.has(q.kind) ? 'allow' : 'reject')?.optionId;
}

/** A terminal command that runs the task's script, e.g. `torchrun --standalone --nproc_per_node=8 train_gpt2.py`. */
export function runsScript(command: string, args: readonly string[] = []): boolean {
  const words = args.length ? [command, ...args] : splitCommand(command);
  const exe = path.basename(words[0] ?? '');
  return /^(torchrun|python3?)$/.test(exe) && words.slice(1).some((w) => w === SCRIPT_NAME || w === `./${SCRIPT_NAME}`);
}

interface Terminal {
  done: Promise<RunOutcome>;
  outcome?: RunOutcome;
  abort: AbortController;
}

/** The turn the agent is working on: where its requests go. */
interface Current {
  ctx: TurnContext;
  input: ProposeInput;
  /** Agent text, thoughts: collected for the transcript's response event. */
  text: string;
  thoughts: string;
  round: number;
}

export class AcpBackend implements AgentBackend {
  readonly label: string;
  private child: ChildProcess | undefined;
  private conn: acp.ClientConnection | undefined;
  private sessionId: string | undefined;
  private current: Current | undefined;
  private stderr = '';
  /** session/update notifications, applied in arrival order; the prompt's response waits for them (drain). */
  private updates: Promise<void> = Promise.resolve();
  private readonly terminals = new Map<string, Terminal>();
  private nextTerminal = 1;
  private readonly root: string;

  constructor(
    private readonly o: { command: string; taskDir: string; label?: string; hooks?: AcpHooks },
  ) {
    this.label = `ACP agent · ${o.label ?? o.command}`;
    this.root = fs.realpathSync(o.taskDir);
  }

  private async start(): Promise<void> {
    if (this.conn) return;
    const [cmd, ...args] = splitCommand(this.o.command);
    if (!cmd) throw new BackendError('No ACP agent command: set speedrun.agent.acpCommand (e.g. "gemini --acp").');
    // Our own key variable is not the agent's business; OPENAI_API_KEY may be its own credential, so it stays.
    const child = spawn(cmd, args, { cwd: this.o.taskDir, stdio: ['pipe', 'pipe', 'pipe'], env: withoutKeys(process.env, ['SPEEDRUN_AGENT_API_KEY']) });
    this.child = child;
    child.stderr!.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-4000)));
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new BackendError(`Cannot start the ACP agent '${cmd}': ${e.message}`)));
    });
    await spawned;
    const app = this.client();
    this.conn = app.connect(acp.ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>));
    child.once('exit', (code, signal) => this.conn?.close(new BackendError(`the ACP agent exited (${signal ?? `code ${code}`})${this.stderr ? `: ${this.stderr.trim().split('\n').pop()}` : ''}`)));
    const init = await this.conn.agent.request(acp.methods.agent.initialize, {
      protocolVersion: acp.PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: true },
      clientInfo: { name: 'speedrun-workbench', version: '1' },
    });
    if (init.protocolVersion !== acp.PROTOCOL_VERSION) throw new BackendError(`The ACP agent speaks protocol ${init.protocolVersion}; we speak ${acp.PROTOCOL_VERSION}.`);
    const s = await this.conn.agent.request(acp.methods.agent.session.new, { cwd: this.o.taskDir, mcpServers: [] });
    this.sessionId = s.sessionId;
  }

  /** A path the agent names, resolved inside the task folder; anything outside is refused. */
  private inside(p: string, forWrite: boolean): string {
    const abs = path.resolve(this.o.taskDir, p);
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch {
      // A file that does not exist yet: judge its folder.
      try {
        real = path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
      } catch {
        real = abs;
      }
    }
    if (real !== this.root && !real.startsWith(this.root + path.sep)) {
      throw acp.RequestError.invalidParams(undefined, `${p} is outside the task folder ${this.o.taskDir}; only files in it can be ${forWrite ? 'written' : 'read'}.`);
    }
    return real;
  }

  private isScript(real: string): boolean {
    return real === path.join(this.root, SCRIPT_NAME);
  }

  private turn(): Current {
    if (!this.current) throw acp.RequestError.invalidRequest(undefined, 'No turn is in progress.');
    return this.current;
  }

  private client(): acp.ClientApp {
    return acp
      .client({ name: 'speedrun-workbench' })
      .onRequest(acp.methods.client.fs.readTextFile, async ({ params }) => {
        const real = this.inside(params.path, false);
        const text = this.isScript(real) ? (await this.turn().ctx.host.readScript()).text : fs.readFileSync(real, 'utf8');
        if (params.line == null && params.limit == null) return { content: text };
        const lines = text.split('\n');
        const from = Math.max(0, (params.line ?? 1) - 1);
        return { content: lines.slice(from, params.limit == null ? undefined : from + params.limit).join('\n') };
      })
      .onRequest(acp.methods.client.fs.writeTextFile, async ({ params }) => {
        const real = this.inside(params.path, true);
        if (!this.isScript(real)) throw acp.RequestError.invalidParams(undefined, `Only ${SCRIPT_NAME} may be changed in a benchmark task, not ${params.path}.`);
        const t = this.turn();
        const { host } = t.ctx;
        let cur = await host.readScript();
        let r = await host.applyEdit({ turn: t.input.turn, checkpoint: t.input.checkpoint, kind: 'edit', before: cur.text, after: params.content, version: cur.version });
        if (!r.applied) {
          cur = await host.readScript();
          r = await host.applyEdit({ turn: t.input.turn, checkpoint: t.input.checkpoint, kind: 'edit', before: cur.text, after: params.content, version: cur.version });
        }
        if (!r.applied) throw acp.RequestError.internalError(undefined, `The edit was not applied: ${r.reason ?? 'the document kept changing'}.`);
        const size = changeSize(cur.text, params.content);
        host.emit({ type: 'edit', turn: t.input.turn, round: t.round, applied: [1], failures: [], linesAdded: size.added, linesRemoved: size.removed, file: host.saveTurn(t.input.turn, params.content) });
        return {};
      })
      .onRequest(acp.methods.client.session.requestPermission, async ({ params, signal }) => {
        const t = this.turn();
        const call = params.toolCall;
        const diff = call.content?.find((c): c is Extract<acp.ToolCallContent, { type: 'diff' }> => c.type === 'diff');
        const q: PermissionQuestion = {
          turn: t.input.turn,
          title: call.title ?? 'a tool call',
          kind: call.kind ?? 'other',
          diff: diff ? { path: diff.path, oldText: diff.oldText ?? '', newText: diff.newText } : undefined,
          options: params.options.map((o) => ({ optionId: o.optionId, name: o.name, kind: o.kind })),
        };
        const chosen = this.o.hooks?.askPermission ? await this.o.hooks.askPermission(q, signal) : unattendedChoice(q);
        const name = params.options.find((o) => o.optionId === chosen)?.name ?? 'dismissed';
        t.ctx.host.emit({ type: 'note', turn: t.input.turn, text: `permission: ${q.title} (${q.kind}) → ${name}` });
        return chosen ? { outcome: { outcome: 'selected', optionId: chosen } } : { outcome: { outcome: 'cancelled' } };
      })
      .onRequest(acp.methods.client.terminal.create, async ({ params }) => {
        const t = this.turn();
        if (params.cwd) this.inside(params.cwd, false);
        const line = [params.command, ...(params.args ?? [])].join(' ');
        if (!runsScript(params.command, params.args)) {
          throw acp.RequestError.invalidParams(undefined, `Only running ${SCRIPT_NAME} (torchrun ... ${SCRIPT_NAME}) is offered here; it becomes a run on the GPU target. '${line}' was not run.`);
        }
        const { ctx } = t;
        if (!ctx.budget.runs) throw acp.RequestError.invalidRequest(undefined, `Runs are not offered here: the workbench runs ${SCRIPT_NAME} once you end your turn.`);
        if (ctx.usage.runs >= ctx.budget.runs) throw acp.RequestError.invalidRequest(undefined, `The run budget (${ctx.budget.runs}) is used up; end your turn instead.`);
        const script = (await ctx.host.readScript()).text;
        const abort = new AbortController();
        ctx.signal.addEventListener('abort', () => abort.abort(), { once: true });
        ctx.host.emit({ type: 'note', turn: t.input.turn, text: `the agent runs the script: ${line}` });
        const term: Terminal = { abort, done: ctx.host.run(t.input.turn, abort.signal, script) };
        term.done.then((o) => {
          term.outcome = o;
          if (o.state !== 'not-started') ctx.usage.runs++;
        }, () => undefined);
        const id = `run-${this.nextTerminal++}`;
        this.terminals.set(id, term);
        return { terminalId: id };
      })
      .onRequest(acp.methods.client.terminal.output, async ({ params }) => {
        const term = this.terminal(params.terminalId);
        const o = term.outcome;
        if (!o) return { output: 'The run is in progress; wait_for_exit gives its result.\n', truncated: false };
        return { output: outcomeText(o), truncated: false, exitStatus: { exitCode: exitCodeOf(o) } };
      })
      .onRequest(acp.methods.client.terminal.waitForExit, async ({ params }) => {
        const o = await this.terminal(params.terminalId).done;
        return { exitCode: exitCodeOf(o) };
      })
      .onRequest(acp.methods.client.terminal.kill, async ({ params }) => {
        this.terminal(params.terminalId).abort.abort();
        return {};
      })
      .onRequest(acp.methods.client.terminal.release, async ({ params }) => {
        this.terminals.delete(params.terminalId);
        return {};
      })
      .onNotification(acp.methods.client.session.update, ({ params }) => {
        // Applied one after another in arrival order; the prompt's response waits until these are applied.
        this.updates = this.updates.then(() => this.onUpdate(params.update)).catch(() => undefined);
      });
  }

  private terminal(id: string): Terminal {
    const t = this.terminals.get(id);
    if (!t) throw acp.RequestError.invalidParams(undefined, `No terminal ${id}.`);
    return t;
  }

  private onUpdate(u: acp.SessionUpdate): void {
    const t = this.current;
    if (!t) return;
    const { host } = t.ctx;
    const turn = t.input.turn;
    const text = (c: acp.ContentBlock) => (c.type === 'text' ? c.text : `[${c.type}]`);
    switch (u.sessionUpdate) {
      case 'agent_message_chunk':
        t.text += text(u.content);
        host.emit({ type: 'delta', turn, round: t.round, channel: 'content', text: text(u.content) });
        break;
      case 'agent_thought_chunk':
        t.thoughts += text(u.content);
        host.emit({ type: 'delta', turn, round: t.round, channel: 'reasoning', text: text(u.content) });
        break;
      case 'plan':
        host.emit({ type: 'note', turn, text: `plan:\n${u.entries.map((e) => `${e.status === 'completed' ? '[x]' : e.status === 'in_progress' ? '[~]' : '[ ]'} ${e.content}`).join('\n')}` });
        break;
      case 'tool_call':
        host.emit({ type: 'note', turn, text: `tool call: ${u.title}${u.kind ? ` (${u.kind})` : ''}${u.status ? `: ${u.status}` : ''}` });
        break;
      case 'tool_call_update':
        if (u.status === 'completed' || u.status === 'failed') host.emit({ type: 'note', turn, text: `tool call ${u.title ?? u.toolCallId}: ${u.status}` });
        break;
      default:
        break;
    }
  }

  /** One prompt to the agent; resolves once its response came and every update sent before it was applied. */
  private async prompt(t: Current, text: string): Promise<acp.StopReason> {
    const { ctx, input } = t;
    ctx.host.emit({ type: 'prompt', turn: input.turn, round: t.round, messages: [{ role: 'user', content: text }] });
    t.text = '';
    t.thoughts = '';
    const cancel = () => void this.conn?.agent.notify(acp.methods.agent.session.cancel, { sessionId: this.sessionId! });
    ctx.signal.addEventListener('abort', cancel, { once: true });
    try {
      const r = await this.conn!.agent.request(acp.methods.agent.session.prompt, { sessionId: this.sessionId!, prompt: [{ type: 'text', text }] });
      // Updates are dispatched without being awaited, so some may still be queued: let them land first.
      await new Promise((res) => setImmediate(res));
      await this.updates;
      ctx.usage.tokens += estimateTokens(text) + estimateTokens(t.text + t.thoughts);
      ctx.host.emit({
        type: 'response', turn: input.turn, round: t.round, text: t.text, reasoning: t.thoughts || undefined,
        usage: { promptTokens: estimateTokens(text), completionTokens: estimateTokens(t.text + t.thoughts), estimated: true },
        tokensUsed: ctx.usage.tokens,
      });
      return r.stopReason;
    } finally {
      ctx.signal.removeEventListener('abort', cancel);
    }
  }

  async propose(ctx: TurnContext, input: ProposeInput): Promise<Proposal> {
    await this.start();
    const t: Current = { ctx, input, text: '', thoughts: '', round: 1 };
    this.current = t;
    try {
      let text = turnPrompt(ctx, input);
      let plan = '';
      for (;;) {
        checkStopped(ctx);
        if (ctx.usage.tokens >= ctx.budget.tokens) return { ready: false, plan: plan || '(none)', reason: `token budget used (${ctx.budget.tokens})`, stop: true };
        const stop = await this.prompt(t, text);
        if (t.round === 1) plan = t.text.trim().split('\n').slice(0, 6).join('\n').slice(0, 400) || '(no message)';
        if (stop !== 'end_turn') return { ready: false, plan, reason: `the agent stopped (${stop.replace(/_/g, ' ')})`, stop: stop === 'refusal' };
        const script = (await ctx.host.readScript()).text;
        if (script === input.parent) return { ready: false, plan, reason: `the agent left ${SCRIPT_NAME} as it was` };
        const errors = await checkTurnRules(ctx, input.turn, t.round, script);
        if (!errors.length) return { ready: true, plan };
        if (t.round > ctx.maxFixRounds) return { ready: false, plan, reason: `the change still breaks ${errors.length === 1 ? 'a rule' : `${errors.length} rules`}` };
        t.round++;
        text = `Your change to ${SCRIPT_NAME} breaks rules a benchmark run must keep, so it cannot run:\n${describeViolations(errors, script)}\nFix ${SCRIPT_NAME} and end your turn.`;
      }
    } finally {
      this.current = undefined;
    }
  }

  async dispose(): Promise<void> {
    for (const t of this.terminals.values()) t.abort.abort();
    this.terminals.clear();
    this.conn?.close();
    this.conn = undefined;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(timer);
    }
  }
}

const exitCodeOf = (o: RunOutcome) => (o.state === 'finished' ? 0 : 1);

function outcomeText(o: RunOutcome): string {
  const head = o.final
    ? `Run ${o.runId ?? ''} ${o.state}: val_loss ${o.final.val_loss} after ${o.final.n_steps} steps, train_time ${o.final.train_time} ms${o.final.is_valid ? '' : ' (not valid: val loss above 3.28)'}`
    : `Run ${o.runId ?? ''} ${o.state}${o.message ? `: ${o.message}` : ''}`;
  return `${head}\n${o.logTail ?? ''}`;
}

/** What the agent is told each turn: the task's brief, the allowed hints, earlier turns, and how to work. */
export function turnPrompt(ctx: TurnContext, input: ProposeInput): string {
  const parts = [renderTaskBrief(ctx.task), ''];
  for (const h of ctx.hints) parts.push(`## Hint level ${h.level} (${h.name})`, '', h.text.trim(), '');
  parts.push('## Earlier turns', '');
  if (input.history.length) for (const h of input.history) parts.push(`- Turn ${h.turn}: ${h.plan}`, `  Result: ${h.outcome}`);
  else parts.push('None yet.');
  if (input.best) parts.push(`Best valid attempt so far: turn ${input.best.turn}, ${(input.best.trainTimeMs / 1000).toFixed(1)} s at val loss ${input.best.valLoss.toFixed(4)}.`);
  parts.push(
    '',
    `## Turn ${input.turn}`,
    '',
    `${SCRIPT_NAME} in this folder is ${input.startsFrom}. Make one change that should train faster, by editing ${SCRIPT_NAME} ` +
      `(only that file; the files of this folder are all you can read). Say in a few sentences what you change and why, then end your turn: ` +
      `the workbench checks the rules and runs the script on the GPU box. ` +
      (ctx.budget.runs
        ? `Running it yourself (torchrun --standalone --nproc_per_node=8 ${SCRIPT_NAME}) starts a real run that counts against the run budget (${ctx.budget.runs - ctx.usage.runs} left).`
        : 'Do not run it yourself: runs are not offered in this session.'),
  );
  return parts.join('\n');
}

/** The registry entry; a face passes its hooks (the editor asks the user; headless answers with unattendedChoice). */
export function acpFactory(hooks?: AcpHooks): BackendFactory<'acp'> {
  return {
    kind: 'acp',
    summary: 'any Agent Client Protocol agent (Claude Code through its ACP adapter, gemini --acp, ...), started with --agent-command',
    create: (c, env) => new AcpBackend({ command: c.command, taskDir: env.taskDir, label: c.label, hooks }),
    modelOf: (c) => c.label ?? splitCommand(c.command)[0],
  };
}
