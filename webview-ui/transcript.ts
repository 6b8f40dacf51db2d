// The agent transcript webview: sessions and their turns, rebuilt from the host's `init` and live `event`s.
// Text from the model is untrusted: everything goes into the DOM as text (dom.ts), never as markup.
import type { AgentEvent, ToTranscript } from '../src/shared/transcriptProtocol';
import { isToTranscript } from '../src/shared/transcriptProtocol';
import type { TranscriptMessage } from '../src/shared/webviewMessages';
import { fill, h } from './dom';
import { connect } from './vscodeApi';

type Ev<T extends AgentEvent['type']> = Extract<AgentEvent, { type: T }>;

let events: AgentEvent[] = [];
/** Live text per "session/turn/round/channel", from delta events (never persisted). */
const live = new Map<string, string>();
let running = false;
let pendingTurn: number | null = null;
let caption: string | undefined;
let scheduled = false;
/** Open/closed state the user chose for foldable parts, kept across re-renders. */
const folds = new Map<string, boolean>();

const host = connect<TranscriptMessage, ToTranscript>(isToTranscript, onMessage);
const byId = (id: string) => document.getElementById(id) as HTMLElement;
const timeline = byId('timeline');

function foldable(d: HTMLDetailsElement, key: string, byDefault: boolean): void {
  d.open = folds.get(key) ?? byDefault;
  d.addEventListener('toggle', () => folds.set(key, d.open));
}

function div(cls: string, ...children: (Node | string)[]): HTMLDivElement {
  return h('div', { class: cls }, ...children);
}

function button(text: string, message: TranscriptMessage): HTMLButtonElement {
  return h('button', { class: 'link', onclick: () => host.post(message) }, text);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** "1 turn", "2 turns" */
const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const time = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function scheduleRender(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    render();
  });
}

function renderBar(): void {
  const status = byId('status');
  if (caption) status.textContent = caption;
  else if (pendingTurn !== null) status.textContent = `Turn ${pendingTurn} is waiting for your review: accept to run it, reject to undo it.`;
  else if (running) status.textContent = 'The agent is working…';
  else status.textContent = events.length ? 'The agent is not running.' : 'No agent session yet.';
  byId('accept').classList.toggle('hidden', pendingTurn === null);
  byId('reject').classList.toggle('hidden', pendingTurn === null);
  byId('stop').classList.toggle('hidden', !running);
}

function render(): void {
  renderBar();
  const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  if (!events.length) {
    fill(timeline, h('p', { class: 'empty' }, 'No agent session yet. Start one with “Speedrun: Ask Agent…”.'));
    return;
  }
  const sessions = new Map<string, AgentEvent[]>();
  for (const e of events) {
    const list = sessions.get(e.sessionId) ?? [];
    list.push(e);
    sessions.set(e.sessionId, list);
  }
  const ids = [...sessions.keys()];
  fill(timeline, ...ids.map((id, i) => renderSession(id, sessions.get(id)!, i === ids.length - 1)));
  if (atBottom) window.scrollTo(0, document.body.scrollHeight);
}

function sessionSummary(id: string, s: Ev<'session'> | undefined, ended: boolean): HTMLElement {
  const summary = h('summary', { class: 'session-head' }, h('span', { class: 'title' }, `Session ${s ? time(s.at) : id}`));
  if (s) {
    summary.append(h('span', { class: 'meta' }, ` · ${s.backend}`));
    if (s.replay) summary.append(h('span', { class: 'badge replay' }, 'Replay of the ground truth (level 0): not a model'));
    else summary.append(h('span', { class: 'meta' }, ` · hints: ${s.hintLevels.length ? s.hintLevels.map((l) => `level ${l}`).join(' + ') : 'none'}`));
    summary.append(h('span', { class: 'meta' }, ` · target ${s.target ?? '(asked at run time)'} · budget ${count(s.budget.iterations, 'turn')}, ${count(s.budget.runs, 'run')}, ${s.budget.tokens.toLocaleString()} tokens`));
  }
  summary.append(h('span', { class: `badge ${ended ? 'done' : 'live'}` }, ended ? 'ended' : 'running'));
  return summary;
}

function renderSession(id: string, list: AgentEvent[], latest: boolean): HTMLDetailsElement {
  const box = h('details', { class: 'session', 'data-session': id });
  foldable(box, `session/${id}`, latest);
  const end = list.find((e): e is Ev<'end'> => e.type === 'end');
  // Without an end event a session is live only while the agent runs it (one cut off by a crash is over).
  box.append(sessionSummary(id, list.find((e): e is Ev<'session'> => e.type === 'session'), !!end || !(latest && running)));

  let container: HTMLElement = box;
  const runs = new Map<string, HTMLElement>();
  const failures = (items: string[]) => {
    if (items.length) container.append(h('ul', { class: 'failures' }, ...items.map((t) => h('li', {}, t))));
  };
  for (const e of list) {
    switch (e.type) {
      case 'turn': {
        container = h('article', { class: 'turn', 'data-turn': e.turn },
          h('h3', {}, `Turn ${e.turn}`, h('span', { class: 'meta' }, ` · ${time(e.at)} · checkpoint #${e.checkpoint} · starts from ${e.startsFrom}`)));
        box.append(container);
        break;
      }
      case 'restore':
        container.append(div('line restore', `↺ Restored ${e.to}.`));
        break;
      case 'prompt': {
        const chars = e.messages.reduce((n, m) => n + m.content.length, 0);
        container.append(div('line prompt', button(`What was sent (round ${e.round}: ${e.messages.length} messages, ${chars.toLocaleString()} characters)`,
          { type: 'openPrompt', sessionId: id, turn: e.turn, round: e.round })));
        const done = !!end || list.some((x) => x.type === 'response' && x.turn === e.turn && x.round === e.round);
        const key = `${id}/${e.turn}/${e.round}`;
        if (!done) container.append(renderResponse(key, live.get(`${key}/reasoning`) ?? '', live.get(`${key}/content`) ?? '', true));
        break;
      }
      case 'response': {
        const r = renderResponse(`${id}/${e.turn}/${e.round}`, e.reasoning ?? '', e.text, false);
        r.append(div('meta', `${(e.usage.promptTokens + e.usage.completionTokens).toLocaleString()} tokens${e.usage.estimated ? ' (estimated)' : ''} · ${e.tokensUsed.toLocaleString()} in this session`));
        container.append(r);
        break;
      }
      case 'edit': {
        const applied = e.applied.length
          ? `applied block${e.applied.length > 1 ? 's' : ''} ${e.applied.join(', ')} (+${e.linesAdded} −${e.linesRemoved} lines)` : 'no block applied';
        const row = div(`line edit${e.failures.length ? ' warn' : ''}`, h('span', {}, `✎ Edit: ${applied}`));
        if (e.file) row.append(' ', button('Open diff', { type: 'openDiff', sessionId: id, turn: e.turn }));
        container.append(row);
        failures(e.failures.map((f) => f.message));
        break;
      }
      case 'rules':
        container.append(div(`line rules ${e.violations.length ? 'bad' : 'ok'}`,
          e.violations.length ? `✗ Rules broken (checked with ${e.method}):` : `✓ Rules kept (checked with ${e.method})`));
        failures(e.violations.map((v) => `[${v.rule}] line ${v.line}: ${v.message}`));
        break;
      case 'review': {
        const who = e.by === 'user' ? 'by you' : e.by === 'auto' ? 'automatically' : 'by the agent';
        container.append(div(`line review ${e.decision}`, e.decision === 'accept' ? `✓ Accepted ${who}.` : `↶ Undone ${who}${e.reason ? `: ${e.reason}` : ''}.`));
        break;
      }
      case 'run-start': {
        const row = div('line run running', h('span', {}, `▶ Run ${e.runId}${e.target ? ` on ${e.target}` : ''} · `), button('dashboard', { type: 'openRun', runId: e.runId }));
        row.dataset.run = e.runId;
        runs.set(e.runId, row);
        container.append(row);
        break;
      }
      case 'run-end': {
        const o = e.outcome;
        const row = (o.runId && runs.get(o.runId)) || div('line run');
        row.classList.remove('running');
        row.classList.add(e.valid ? 'valid' : 'invalid');
        row.append(h('span', { class: `badge ${e.valid ? 'valid' : 'invalid'}` }, e.valid ? 'valid' : o.state === 'finished' ? 'not valid' : o.state));
        if (!row.parentElement) container.append(row);
        container.append(h('pre', { class: 'summary' }, e.summary));
        break;
      }
      case 'best':
        container.append(div('line best', `★ New best attempt: turn ${e.turn}, ${secs(e.trainTimeMs)} at val loss ${e.valLoss.toFixed(4)}.`));
        break;
      case 'note':
        container.append(div('line note', e.text));
        break;
      case 'error':
        container.append(div('line error', `Error: ${e.message}`));
        break;
      case 'end': {
        const best = e.best ? `best attempt: turn ${e.best.turn}, ${secs(e.best.trainTimeMs)} at val loss ${e.best.valLoss.toFixed(4)}` : 'no attempt beat the starting script';
        box.append(h('footer', { class: 'end' }, `Ended (${e.reason}) · ${best} · ${count(e.turns, 'turn')}, ${count(e.runs, 'run')}, ${e.tokensUsed.toLocaleString()} tokens`));
        break;
      }
      case 'session':
      case 'delta':
        break;
    }
  }
  return box;
}

/** A model response; `key` is "session/turn/round". While streaming, the reasoning starts unfolded. */
function renderResponse(key: string, reasoning: string, text: string, streaming: boolean): HTMLDivElement {
  const box = div(`response${streaming ? ' streaming' : ''}`);
  box.dataset.key = key;
  if (reasoning) {
    const d = h('details', { class: 'reasoning' }, h('summary', {}, 'Reasoning'), h('pre', {}, reasoning));
    foldable(d, `reasoning/${key}`, streaming);
    box.append(d);
  }
  box.append(h('pre', { class: 'text' }, text || (streaming ? '…' : '')));
  return box;
}

function onMessage(m: ToTranscript): void {
  if (m.type === 'init') {
    events = m.events;
    running = m.running;
    pendingTurn = m.pendingTurn;
    caption = m.caption;
  } else if (m.type === 'event') {
    const e = m.event;
    if (e.type === 'delta') {
      const key = `${e.sessionId}/${e.turn}/${e.round}/${e.channel}`;
      live.set(key, (live.get(key) ?? '') + e.text);
    } else events.push(e);
    if (e.type === 'session') running = true;
    if (e.type === 'end') running = false;
  } else {
    running = m.running;
    pendingTurn = m.pendingTurn;
  }
  scheduleRender();
}

byId('accept').addEventListener('click', () => host.post({ type: 'accept' }));
byId('reject').addEventListener('click', () => host.post({ type: 'reject' }));
byId('stop').addEventListener('click', () => host.post({ type: 'stop' }));
host.ready();
