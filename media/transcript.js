// Agent transcript webview (plain script, no bundling). Messages are described in src/shared/agentProtocol.ts.
// Text from the model is untrusted: everything goes into the DOM through textContent, never innerHTML.
// @ts-check
(function () {
  // @ts-ignore acquireVsCodeApi is provided by the webview host
  const vscode = acquireVsCodeApi();
  /** @type {any[]} */
  let events = [];
  /** Live text per "session/turn/round/channel", from delta events (never persisted). */
  const live = new Map();
  let running = false;
  /** @type {number | null} */
  let pendingTurn = null;
  let scheduled = false;
  /** Open/closed state the user chose for foldable parts, kept across re-renders. */
  const folds = new Map();

  function foldable(/** @type {HTMLDetailsElement} */ d, /** @type {string} */ key, /** @type {boolean} */ byDefault) {
    d.open = folds.get(key) ?? byDefault;
    d.addEventListener('toggle', () => folds.set(key, d.open));
  }

  const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const timeline = $('timeline');

  /**
   * @param {string} tag
   * @param {string} [cls]
   * @param {string} [text]
   */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function button(/** @type {string} */ text, /** @type {any} */ message, cls = 'link') {
    const b = el('button', cls, text);
    b.addEventListener('click', () => vscode.postMessage(message));
    return b;
  }

  const secs = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;
  /** "1 turn", "2 turns" */
  const count = (/** @type {number} */ n, /** @type {string} */ word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const time = (/** @type {string} */ iso) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  function scheduleRender() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      render();
    });
  }

  function renderBar() {
    const status = $('status');
    if (pendingTurn !== null) status.textContent = `Turn ${pendingTurn} is waiting for your review: accept to run it, reject to undo it.`;
    else if (running) status.textContent = 'The agent is working…';
    else status.textContent = events.length ? 'The agent is not running.' : 'No agent session yet.';
    $('accept').classList.toggle('hidden', pendingTurn === null);
    $('reject').classList.toggle('hidden', pendingTurn === null);
    $('stop').classList.toggle('hidden', !running);
  }

  function render() {
    renderBar();
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    timeline.replaceChildren();
    if (!events.length) {
      timeline.append(el('p', 'empty', 'No agent session yet. Start one with “Speedrun: Ask Agent…”.'));
      return;
    }
    /** @type {Map<string, any[]>} */
    const sessions = new Map();
    for (const e of events) {
      if (!sessions.has(e.sessionId)) sessions.set(e.sessionId, []);
      /** @type {any[]} */ (sessions.get(e.sessionId)).push(e);
    }
    const ids = [...sessions.keys()];
    ids.forEach((id, i) => timeline.append(renderSession(id, /** @type {any[]} */ (sessions.get(id)), i === ids.length - 1)));
    if (atBottom) window.scrollTo(0, document.body.scrollHeight);
  }

  /**
   * @param {string} id
   * @param {any[]} list
   * @param {boolean} latest
   */
  function renderSession(id, list, latest) {
    const box = /** @type {HTMLDetailsElement} */ (el('details', 'session'));
    box.dataset.session = id;
    foldable(box, `session/${id}`, latest);
    const s = list.find((e) => e.type === 'session');
    const end = list.find((e) => e.type === 'end');
    const summary = el('summary', 'session-head');
    summary.append(el('span', 'title', `Session ${s ? time(s.at) : id}`));
    if (s) {
      summary.append(el('span', 'meta', ` · ${s.backend}`));
      if (s.replay) summary.append(el('span', 'badge replay', 'Replay of the ground truth (level 0): not a model'));
      else summary.append(el('span', 'meta', ` · hints: ${s.hintLevels.length ? s.hintLevels.map((/** @type {number} */ l) => `level ${l}`).join(' + ') : 'none'}`));
      summary.append(el('span', 'meta', ` · target ${s.target ?? '(asked at run time)'} · budget ${count(s.budget.iterations, 'turn')}, ${count(s.budget.runs, 'run')}, ${s.budget.tokens.toLocaleString()} tokens`));
    }
    summary.append(el('span', `badge ${end ? 'done' : 'live'}`, end ? 'ended' : 'running'));
    box.append(summary);

    /** @type {HTMLElement} */
    let container = box;
    const runs = new Map();
    for (const e of list) {
      switch (e.type) {
        case 'turn': {
          const art = el('article', 'turn');
          art.dataset.turn = String(e.turn);
          const h = el('h3', undefined, `Turn ${e.turn}`);
          h.append(el('span', 'meta', ` · ${time(e.at)} · checkpoint #${e.checkpoint} · starts from ${e.startsFrom}`));
          art.append(h);
          box.append(art);
          container = art;
          break;
        }
        case 'restore':
          container.append(el('div', 'line restore', `↺ Restored ${e.to}.`));
          break;
        case 'prompt': {
          const chars = e.messages.reduce((/** @type {number} */ n, /** @type {any} */ m) => n + m.content.length, 0);
          const row = el('div', 'line prompt');
          row.append(button(`What was sent (round ${e.round}: ${e.messages.length} messages, ${chars.toLocaleString()} characters)`, { type: 'openPrompt', sessionId: id, turn: e.turn, round: e.round }));
          container.append(row);
          const done = !!end || list.some((x) => x.type === 'response' && x.turn === e.turn && x.round === e.round);
          if (!done) container.append(renderResponse(id, e.turn, e.round, live.get(`${id}/${e.turn}/${e.round}/reasoning`) ?? '', live.get(`${id}/${e.turn}/${e.round}/content`) ?? '', true));
          break;
        }
        case 'response': {
          const r = renderResponse(id, e.turn, e.round, e.reasoning ?? '', e.text, false);
          r.append(el('div', 'meta', `${(e.usage.promptTokens + e.usage.completionTokens).toLocaleString()} tokens${e.usage.estimated ? ' (estimated)' : ''} · ${e.tokensUsed.toLocaleString()} in this session`));
          container.append(r);
          break;
        }
        case 'edit': {
          const row = el('div', `line edit ${e.failures.length ? 'warn' : ''}`);
          const applied = e.applied.length ? `applied block${e.applied.length > 1 ? 's' : ''} ${e.applied.join(', ')} (+${e.linesAdded} −${e.linesRemoved} lines)` : 'no block applied';
          row.append(el('span', undefined, `✎ Edit: ${applied}`));
          if (e.file) row.append(' ', button('Open diff', { type: 'openDiff', sessionId: id, turn: e.turn }));
          container.append(row);
          if (e.failures.length) {
            const ul = el('ul', 'failures');
            for (const f of e.failures) ul.append(el('li', undefined, f.message));
            container.append(ul);
          }
          break;
        }
        case 'rules': {
          const errs = e.violations;
          const row = el('div', `line rules ${errs.length ? 'bad' : 'ok'}`, errs.length ? `✗ Rules broken (checked with ${e.method}):` : `✓ Rules kept (checked with ${e.method})`);
          container.append(row);
          if (errs.length) {
            const ul = el('ul', 'failures');
            for (const v of errs) ul.append(el('li', undefined, `[${v.rule}] line ${v.line}: ${v.message}`));
            container.append(ul);
          }
          break;
        }
        case 'review': {
          const who = e.by === 'user' ? 'by you' : e.by === 'auto' ? 'automatically' : 'by the agent';
          const text = e.decision === 'accept' ? `✓ Accepted ${who}.` : `↶ Undone ${who}${e.reason ? `: ${e.reason}` : ''}.`;
          container.append(el('div', `line review ${e.decision}`, text));
          break;
        }
        case 'run-start': {
          const row = el('div', 'line run running');
          row.dataset.run = e.runId;
          row.append(el('span', undefined, `▶ Run ${e.runId}${e.target ? ` on ${e.target}` : ''} · `), button('dashboard', { type: 'openRun', runId: e.runId }));
          runs.set(e.runId, row);
          container.append(row);
          break;
        }
        case 'run-end': {
          const o = e.outcome;
          const row = (o.runId && runs.get(o.runId)) || el('div', 'line run');
          row.classList.remove('running');
          row.classList.add(e.valid ? 'valid' : 'invalid');
          row.append(el('span', `badge ${e.valid ? 'valid' : 'invalid'}`, e.valid ? 'valid' : o.state === 'finished' ? 'not valid' : o.state));
          if (!row.parentElement) container.append(row);
          container.append(el('pre', 'summary', e.summary));
          break;
        }
        case 'best':
          container.append(el('div', 'line best', `★ New best attempt: turn ${e.turn}, ${secs(e.trainTimeMs)} at val loss ${e.valLoss.toFixed(4)}.`));
          break;
        case 'note':
          container.append(el('div', 'line note', e.text));
          break;
        case 'error':
          container.append(el('div', 'line error', `Error: ${e.message}`));
          break;
        case 'end': {
          const f = el('footer', 'end');
          const best = e.best ? `best attempt: turn ${e.best.turn}, ${secs(e.best.trainTimeMs)} at val loss ${e.best.valLoss.toFixed(4)}` : 'no attempt beat the starting script';
          f.textContent = `Ended (${e.reason}) · ${best} · ${count(e.turns, 'turn')}, ${count(e.runs, 'run')}, ${e.tokensUsed.toLocaleString()} tokens`;
          box.append(f);
          break;
        }
      }
    }
    return box;
  }

  /**
   * @param {string} id @param {number} turn @param {number} round
   * @param {string} reasoning @param {string} text @param {boolean} streaming
   */
  function renderResponse(id, turn, round, reasoning, text, streaming) {
    const box = el('div', `response${streaming ? ' streaming' : ''}`);
    box.dataset.key = `${id}/${turn}/${round}`;
    if (reasoning) {
      const d = /** @type {HTMLDetailsElement} */ (el('details', 'reasoning'));
      foldable(d, `reasoning/${id}/${turn}/${round}`, streaming);
      d.append(el('summary', undefined, 'Reasoning'), el('pre', undefined, reasoning));
      box.append(d);
    }
    box.append(el('pre', 'text', text || (streaming ? '…' : '')));
    return box;
  }

  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (!m || typeof m !== 'object') return;
    if (m.type === 'init' && Array.isArray(m.events)) {
      events = m.events;
      running = !!m.running;
      pendingTurn = typeof m.pendingTurn === 'number' ? m.pendingTurn : null;
    } else if (m.type === 'event' && m.event && typeof m.event.type === 'string') {
      const e = m.event;
      if (e.type === 'delta') {
        const key = `${e.sessionId}/${e.turn}/${e.round}/${e.channel}`;
        live.set(key, (live.get(key) ?? '') + e.text);
      } else events.push(e);
      if (e.type === 'session') running = true;
      if (e.type === 'end') running = false;
    } else if (m.type === 'state') {
      running = !!m.running;
      pendingTurn = typeof m.pendingTurn === 'number' ? m.pendingTurn : null;
    } else return;
    scheduleRender();
  });

  $('accept').addEventListener('click', () => vscode.postMessage({ type: 'accept' }));
  $('reject').addEventListener('click', () => vscode.postMessage({ type: 'reject' }));
  $('stop').addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
  vscode.postMessage({ type: 'ready' });
})();
