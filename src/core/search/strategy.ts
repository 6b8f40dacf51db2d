// The five scaffolds as strategies of the agent seam (src/core/agent/strategies), so the in-editor agent and
// `speedrun agent --strategy aide` play them too: each round selects its node as the benchmark does (select.ts),
// the model writes the round's children one after another in the one document (each from the selected node),
// then their runs go out at once. Nodes live in memory here; `speedrun search` is the same selection with nodes on
// disk, parallel writing and resume (search.ts).
import type { AgentNode, Strategy, StrategyRun } from '../agent/strategies/strategy';
import { type TurnResult, checkStopped, propose, runAttempt } from '../agent/turn';
import { resolveScaffold, type Scaffold, type ScaffoldName } from './presets';
import { Rng, bugDepthOf, bugHistory, selectNode } from './select';
import { isBuggy, type NodeMeta } from './tree';

export class ScaffoldStrategy implements Strategy {
  readonly name: ScaffoldName;
  readonly scaffold: Scaffold;
  /** The tree as the benchmark keeps it; `nodes` pairs each with its script and turn result. */
  readonly tree: NodeMeta[] = [];
  readonly nodes: AgentNode[] = [];
  private readonly rng: Rng;

  constructor(name: ScaffoldName, overrides: Partial<Omit<Scaffold, 'name'>> = {}, seed = Date.now()) {
    this.scaffold = resolveScaffold(name, overrides);
    this.name = name;
    this.rng = new Rng(seed);
  }

  async run(s: StrategyRun): Promise<string> {
    const { ctx } = s;
    const now = () => new Date().toISOString();
    this.tree.push({ id: 0, parent: null, children: [], bugDepth: 0, hypothesis: 'the starting script', createdAt: now(), status: 'root', round: 0, debug: false, idea: 'root', isValid: true, trainTimeMs: s.best.trainTimeMs, valLoss: s.best.valLoss });
    this.nodes.push({ id: 0, script: s.root.text });
    const scriptOf = (id: number) => this.nodes.find((n) => n.id === id)!.script;
    for (let round = 1; round <= this.scaffold.iterations; round++) {
      const made = this.tree.length - 1;
      if (made >= this.scaffold.maxNodes) return `node budget used (${this.scaffold.maxNodes})`;
      const sel = selectNode(this.tree, this.scaffold, round, this.rng);
      const parent = sel.parent;
      const startsFrom = sel.debug ? `node ${parent.id}, whose run failed or missed the target: fix it first` : parent.id === 0 ? 'the starting script' : `node ${parent.id}, the best valid node so far`;
      const history = sel.debug ? bugHistory(this.tree, parent).map((b) => ({ turn: b.id, plan: b.hypothesis, outcome: this.nodes.find((n) => n.id === b.id)?.result?.summary ?? b.status })) : [];
      const children: { turn: number; script: string; plan: string }[] = [];
      for (let i = 0; i < Math.min(sel.count, this.scaffold.maxNodes - made); i++) {
        const limit = s.limit();
        if (limit) return limit;
        checkStopped(ctx);
        const turn = s.nextTurn();
        const cur = await ctx.host.readScript();
        const checkpoint = await ctx.host.checkpoint(turn, cur.text);
        ctx.host.emit({ type: 'turn', turn, checkpoint, startsFrom });
        if (cur.text !== scriptOf(parent.id)) {
          await ctx.host.applyEdit({ turn, checkpoint, kind: 'restore', before: cur.text, after: scriptOf(parent.id), version: cur.version });
        }
        const p = await propose(ctx, { turn, checkpoint, parent: scriptOf(parent.id), startsFrom, history, best: s.best.turn > 0 ? s.best : undefined });
        const script = (await ctx.host.readScript()).text;
        if (p.ready) children.push({ turn, script, plan: p.plan });
        else this.add(turn, parent, round, sel.debug, p.plan, script, { turn, checkpoint, plan: p.plan, script, status: 'not-run', summary: `not run: ${p.reason}`, valid: false });
        if (!p.ready && p.stop) return p.reason;
      }
      // The round's runs go out together, each with its own script.
      const results = await Promise.all(children.map(async (c) => ({ c, r: await runAttempt(ctx, c.turn, c.script) })));
      for (const { c, r } of results) {
        const result: TurnResult = { turn: c.turn, checkpoint: 0, plan: c.plan, script: c.script, status: 'ran', ...r };
        this.add(c.turn, parent, round, sel.debug, c.plan, c.script, result);
        s.offer(result);
      }
    }
    return `all ${this.scaffold.iterations} rounds done`;
  }

  private add(id: number, parent: NodeMeta, round: number, debug: boolean, plan: string, script: string, result: TurnResult) {
    const f = result.outcome?.final;
    const node: NodeMeta = {
      id, parent: parent.id, children: [], bugDepth: 0, hypothesis: plan, createdAt: new Date().toISOString(), round, debug, idea: 'model',
      status: result.status === 'ran' && result.outcome?.state === 'finished' && f ? 'finished' : 'failed',
      valLoss: f?.val_loss ?? null, trainTimeMs: f?.train_time ?? null, isValid: result.valid,
    };
    node.bugDepth = bugDepthOf(isBuggy(node), parent);
    parent.children.push(id);
    this.tree.push(node);
    this.nodes.push({ id, parent: parent.id, script, result });
  }
}
