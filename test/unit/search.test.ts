// The search's pure parts: scaffold presets, selection and bug depth, the seeded RNG, aggregates with the
// released analysis conventions, CSV, the report's CSP, sweep argument parsing, and the early stop's projection.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { aggregate, rowFromNodes, toCsv, type SweepRow } from '../../src/core/search/aggregate';
import { DEFAULT_EARLY_STOP, DoomWatch, projectFinalValLoss } from '../../src/core/search/earlyStop';
import { ScaffoldError, resolveScaffold } from '../../src/core/search/presets';
import { REPORT_CSP, renderCurvesPage, renderReport } from '../../src/core/search/report';
import { Rng, bugDepthOf, bugHistory, debuggableLeaves, selectNode } from '../../src/core/search/select';
import { SweepError, configsOf, parseHintLevels, parseTasks, searchSeed } from '../../src/core/search/sweep';
import { SearchStore, isBuggy, newSearchId, type NodeMeta } from '../../src/core/search/tree';

function node(id: number, parent: number | null, o: Partial<NodeMeta> = {}): NodeMeta {
  return {
    id, parent, children: [], bugDepth: 0, hypothesis: `h${id}`, createdAt: '2026-12-01T00:00:00Z', round: 1, debug: false,
    idea: 'model', status: parent === null ? 'root' : 'finished', valLoss: 3.27, trainTimeMs: 300_000, isValid: true, ...o,
  };
}

/** Links children lists from the parent fields. */
function tree(...ns: NodeMeta[]): NodeMeta[] {
  for (const n of ns) n.children = ns.filter((c) => c.parent === n.id).map((c) => c.id);
  return ns;
}

suite('search: scaffold presets', () => {
  test('the five presets match the benchmark table, maxNodes 20', () => {
    const row = (n: string) => {
      const s = resolveScaffold(n);
      return [s.initial, s.branching, s.iterations, s.debugProb, s.maxBugDepth, s.maxNodes];
    };
    assert.deepEqual(row('flat'), [20, 0, 1, 0, 0, 20]);
    assert.deepEqual(row('tree'), [1, 3, 20, 0, 0, 20]);
    assert.deepEqual(row('forest'), [3, 3, 20, 0, 0, 20]);
    assert.deepEqual(row('aide'), [3, 1, 20, 0.5, 5, 20]);
    assert.deepEqual(row('multi-aide'), [3, 3, 20, 0.5, 5, 20]);
  });

  test('overrides apply and bad values are one clear sentence', () => {
    assert.equal(resolveScaffold('aide', { maxNodes: 7, debugProb: 1 }).maxNodes, 7);
    assert.equal(resolveScaffold('aide', { maxNodes: 7, debugProb: 1 }).debugProb, 1);
    assert.throws(() => resolveScaffold('beam'), (e: Error) => e instanceof ScaffoldError && /unknown scaffold 'beam'.*flat, tree/.test(e.message));
    assert.throws(() => resolveScaffold('tree', { debugProb: 2 }), /debugProb must be between 0 and 1/);
    assert.throws(() => resolveScaffold('tree', { maxNodes: 0 }), /maxNodes must be a whole number of at least 1/);
  });
});

suite('search: selection', () => {
  const aide = resolveScaffold('aide');
  const tr = resolveScaffold('tree');

  test('round 1 branches the root into `initial` children', () => {
    const s = selectNode(tree(node(0, null)), aide, 1, new Rng(1));
    assert.deepEqual([s.parent.id, s.count, s.debug], [0, 3, false]);
    assert.equal(selectNode(tree(node(0, null)), tr, 1, new Rng(1)).count, 1);
  });

  test('without debugging: the best valid node by train time, the root included; invalid and failed nodes never', () => {
    const ns = tree(
      node(0, null, { trainTimeMs: 317_839 }),
      node(1, 0, { trainTimeMs: 290_000 }),
      node(2, 0, { trainTimeMs: 250_000, valLoss: 3.30, isValid: false }),
      node(3, 0, { status: 'failed', trainTimeMs: null, valLoss: null, isValid: false }),
      node(4, 1, { trainTimeMs: 280_000 }),
    );
    const s = selectNode(ns, tr, 2, new Rng(1));
    assert.deepEqual([s.parent.id, s.count, s.debug], [4, 3, false]);
    // Nothing beat the root: the root is expanded again.
    const only = tree(node(0, null, { trainTimeMs: 317_839 }), node(1, 0, { trainTimeMs: 400_000 }));
    assert.equal(selectNode(only, tr, 2, new Rng(1)).parent.id, 0);
  });

  test('debugging picks a random buggy leaf within the max bug depth, with one child', () => {
    const ns = tree(
      node(0, null),
      node(1, 0, { trainTimeMs: 290_000 }),
      node(2, 0, { status: 'failed', isValid: false, bugDepth: 1 }),
      node(3, 0, { valLoss: 3.31, isValid: false, bugDepth: 5 }),
      node(4, 0, { valLoss: 3.31, isValid: false, bugDepth: 6 }),
      node(5, 0, { status: 'failed', isValid: false, bugDepth: 1 }),
      node(6, 5, { trainTimeMs: 295_000 }),
    );
    assert.deepEqual(debuggableLeaves(ns, aide).map((n) => n.id), [2, 3]);
    const always = resolveScaffold('aide', { debugProb: 1 });
    const picked = new Set<number>();
    const rng = new Rng(42);
    for (let i = 0; i < 50; i++) {
      const s = selectNode(ns, always, 2, rng);
      assert.equal(s.debug, true);
      assert.equal(s.count, 1);
      picked.add(s.parent.id);
    }
    assert.deepEqual([...picked].sort(), [2, 3], 'both eligible leaves are picked, never the too-deep one or an inner node');
    // No buggy leaf: a debug draw falls back to the best valid node.
    const clean = tree(node(0, null), node(1, 0, { trainTimeMs: 290_000 }));
    const s = selectNode(clean, always, 2, new Rng(3));
    assert.deepEqual([s.parent.id, s.debug, s.count], [1, false, 1]);
  });

  test('debug probability: about half of aide rounds debug when buggy leaves exist; the same seed repeats', () => {
    const ns = tree(node(0, null), node(1, 0, { trainTimeMs: 290_000 }), node(2, 0, { status: 'failed', isValid: false, bugDepth: 1 }));
    const draws = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 2000 }, () => selectNode(ns, aide, 2, rng).debug);
    };
    const share = draws(9).filter(Boolean).length / 2000;
    assert.ok(share > 0.45 && share < 0.55, `debug share ${share}`);
    assert.deepEqual(draws(9), draws(9));
    assert.notDeepEqual(draws(9), draws(10));
  });

  test('bug depth counts a chain of failed fixes; bug history is the last 3 buggy nodes of the chain', () => {
    const ok = node(1, 0);
    const bad1 = node(2, 1, { status: 'failed', isValid: false, bugDepth: 1 });
    assert.equal(bugDepthOf(true, ok), 1);
    assert.equal(bugDepthOf(true, bad1), 2);
    assert.equal(bugDepthOf(false, bad1), 0);
    const ns = tree(
      node(0, null),
      ok,
      bad1,
      node(3, 2, { status: 'failed', isValid: false, bugDepth: 2 }),
      node(4, 3, { valLoss: 3.4, isValid: false, bugDepth: 3 }),
      node(5, 4, { status: 'stopped', isValid: false, bugDepth: 4 }),
    );
    assert.deepEqual(bugHistory(ns, ns[5]).map((n) => n.id), [3, 4, 5]);
    assert.equal(isBuggy(ns[0]), false);
    assert.equal(isBuggy(ns[5]), true);
  });
});

suite('search: on-disk tree', () => {
  test('a search folder holds search.json and v_<n>/ with the benchmark files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-tree-'));
    try {
      const store = new SearchStore(dir, newSearchId());
      assert.throws(() => new SearchStore(dir, '../x'), /not a search id/);
      store.create(
        {
          version: 1, searchId: store.searchId, taskId: 3, fromRecord: 3, toRecord: 4, baselineMs: 1_386_147, targetMs: 1_301_740,
          scaffold: resolveScaffold('aide'), seed: 1, hintLevels: [], backend: 'replay', targets: ['a'], budget: { nodes: 20 }, createdAt: 'now',
        },
        'print(1)\n',
        { valLoss: 3.2813, nSteps: 7000 },
      );
      assert.equal(fs.readFileSync(path.join(store.dir, 'v_0', 'train_gpt2.py'), 'utf8'), 'print(1)\n');
      const meta = JSON.parse(fs.readFileSync(path.join(store.dir, 'v_0', 'meta.json'), 'utf8'));
      for (const k of ['id', 'parent', 'children', 'bugDepth', 'hypothesis', 'createdAt']) assert.ok(k in meta, k);
      const res = store.readResults(0)!;
      // Record 3's released val loss is above the gate: its results say so, yet it stays the start of the search.
      assert.deepEqual(res.metrics, { n_steps: 7000, val_loss: 3.2813, train_time: 1_386_147, is_valid: false });
      assert.equal(store.nodes()[0].isValid, true);
      assert.deepEqual(SearchStore.list(dir), [store.searchId]);
      // Pause, resume and stop travel through control.json; anything else there is ignored.
      assert.equal(store.readControl(), undefined);
      store.writeControl('pause');
      assert.equal(store.readControl(), 'pause');
      fs.writeFileSync(path.join(store.dir, 'control.json'), '{"action":"rm -rf"}');
      assert.equal(store.readControl(), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

suite('search: aggregates with the released analysis conventions', () => {
  const times = { baselineMs: 1000, targetMs: 800 };
  const key = (task: number, seed: number) => ({ task, hintLevel: '1', scaffold: 'aide' as const, seed, searchId: 's', state: 'done' });

  test('a row: t\' over all nodes with the root, the 3.29 gate, FSR clamped into [0, 3]', () => {
    const ns = tree(
      node(0, null, { trainTimeMs: 1000 }),
      node(1, 0, { trainTimeMs: 900, valLoss: 3.2805, isValid: false }), // invalid at search time, counts in the analysis
      node(2, 0, { trainTimeMs: 950 }),
      node(3, 0, { trainTimeMs: 100, valLoss: 3.295, isValid: false }), // above 3.29: skipped
      node(4, 2, { status: 'failed', trainTimeMs: null, valLoss: null, isValid: false }),
    );
    const r = rowFromNodes(key(1, 1), times, ns);
    assert.equal(r.fsr, 0.5);
    assert.equal(r.bestNode, 2, 'the best valid node uses the 3.28 gate');
    assert.deepEqual([r.nodes, r.buggy, r.improved, r.unimproved], [4, 3, 1, 0]);
    const slower = rowFromNodes(key(1, 1), times, tree(node(0, null, { trainTimeMs: 1000 }), node(1, 0, { trainTimeMs: 2000 })));
    assert.equal(slower.fsr, 0, 'never negative: the root bounds t\'');
    assert.equal(slower.bestNode, 0);
    assert.equal(slower.isValid, false);
    const absurd = rowFromNodes(key(1, 1), times, tree(node(0, null), node(1, 0, { trainTimeMs: 1 })));
    assert.equal(absurd.fsr, 0, 'FSR above 3 is treated as 0');
  });

  test('per task the top 3 seeds are averaged, then tasks; task 6 never counts; SEM over seeds', () => {
    const row = (task: number, seed: number, fsr: number): SweepRow => ({ ...rowFromNodes(key(task, seed), times, tree(node(0, null))), fsr });
    const rows = [row(1, 1, 0.1), row(1, 2, 0.5), row(1, 3, 0.3), row(1, 4, 0.4), row(2, 1, 0), row(2, 2, 0.2), row(2, 3, 0.1), row(2, 4, 0), row(6, 1, 3)];
    const [a] = aggregate(rows);
    assert.deepEqual(a.tasks.map((t) => t.task), [1, 2]);
    assert.ok(Math.abs(a.tasks[0].fsr - 0.4) < 1e-12);
    assert.ok(Math.abs(a.tasks[1].fsr - 0.1) < 1e-12);
    assert.ok(Math.abs(a.meanFsr - 0.25) < 1e-12);
    // per-seed means: 0.05, 0.35, 0.2, 0.2 -> sd 0.12247, SEM 0.06124
    assert.ok(Math.abs(a.sem - 0.0612372) < 1e-6, String(a.sem));
    assert.equal(a.seeds, 4);
  });

  test('CSV has a header and one line per row; the report has a strict CSP and no script', () => {
    const r = rowFromNodes(key(12, 1), times, tree(node(0, null, { trainTimeMs: 1000 }), node(1, 0, { trainTimeMs: 900, hypothesis: 'a, "b"' })));
    const csv = toCsv([r]).split('\r\n');
    assert.match(csv[0], /^task,hintLevel,scaffold,seed,searchId,state,baselineMs,targetMs,bestNode,trainTimeMs,valLoss,isValid,fsr/);
    assert.match(csv[1], /^12,1,aide,1,s,done,1000,800,1,900,3\.27,true,0\.5,/);
    const html = renderReport([r], aggregate([r]));
    assert.ok(html.includes(`content="${REPORT_CSP}"`));
    assert.match(REPORT_CSP, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.doesNotMatch(html, /<script|\son[a-z]+=|\sstyle="/i);
    assert.match(html, /aria-label="FSR per task per configuration"/);
    assert.match(html, /aria-label="FSR against hint level"/);
    assert.match(html, /<title>task 12, aide · hints 1: FSR 0\.500/);
  });
});

suite('search: val curves page', () => {
  test('one polyline per node with points, the 3.28 gate, the report CSP and no script', () => {
    const html = renderCurvesPage('Val loss <x>', [
      { label: 'v_1', points: [{ step: 0, valLoss: 10.8 }, { step: 100, valLoss: 3.6 }, { step: 200, valLoss: 3.27 }] },
      { label: 'v_2 <b>', points: [{ step: 100, valLoss: 3.7 }, { step: 200, valLoss: 3.31 }] },
      { label: 'v_3', points: [] },
    ]);
    assert.equal((html.match(/<polyline/g) ?? []).length, 2);
    assert.match(html, /<title>3\.28 gate<\/title>/);
    assert.ok(html.includes(`content="${REPORT_CSP}"`));
    assert.ok(html.includes('v_2 &lt;b&gt;') && html.includes('Val loss &lt;x&gt;'));
    assert.doesNotMatch(html, /<script|\son[a-z]+=/i);
    assert.match(renderCurvesPage('t', []), /No validation points yet/);
  });
});

suite('search: sweep arguments', () => {
  test('task ranges leave task 6 out; hint levels never include level 0; seeds are fixed per configuration', () => {
    assert.deepEqual(parseTasks('1-20'), [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    assert.deepEqual(parseTasks('12,3-4'), [3, 4, 12]);
    assert.throws(() => parseTasks('6'), (e: Error) => e instanceof SweepError && /task 6/.test(e.message));
    assert.throws(() => parseTasks('0-30'), /within 1-20/);
    assert.deepEqual(parseHintLevels('none,1,2+1,3+2+1'), ['none', '1', '1+2', '1+2+3']);
    assert.throws(() => parseHintLevels('0+1'), /level 0 is the answer/);
    assert.equal(searchSeed(12, '1', 'aide', 1), searchSeed(12, '1', 'aide', 1));
    assert.notEqual(searchSeed(12, '1', 'aide', 1), searchSeed(12, '1', 'aide', 2));
    const cs = configsOf({ benchmark: '/b', tasks: [1, 2], hintLevels: ['none', '1'], scaffolds: ['aide'], seeds: 3, out: '/o' });
    assert.equal(cs.length, 12);
    assert.equal(cs[0].taskDir, path.join('/o', 'searches', 'task1-hintsnone-aide-seed1'));
  });
});

suite('search: early stop', () => {
  const v = (step: number, valLoss: number, total = 1000) => ({ type: 'val' as const, step, totalSteps: total, valLoss, trainTimeMs: step * 100 });

  test('projection is log-linear through the last two validations and never rises', () => {
    const p = projectFinalValLoss([v(250, 3.6), v(500, 3.5)])!;
    assert.ok(Math.abs(p - 3.4) < 1e-9, String(p));
    assert.equal(projectFinalValLoss([v(250, 3.5), v(500, 3.6)]), 3.6);
    assert.equal(projectFinalValLoss([v(0, 10), v(500, 3.6)]), null);
  });

  test('a doomed run is named once; a healthy one is not; a slow one is stopped by time', () => {
    assert.deepEqual(DEFAULT_EARLY_STOP, { valMargin: 0.15, timeFactor: 1.5, minProgress: 0.75 });
    const opts = { valMargin: 0.1, timeFactor: 1.5, minProgress: 0.5 };
    const w = new DoomWatch(opts, 50_000);
    assert.equal(w.onEvent(v(250, 3.9)), null);
    assert.equal(w.onEvent(v(400, 3.8)), null, 'before half the steps, no val-loss stop');
    assert.match(w.onEvent(v(500, 3.75)) ?? '', /projects to 3\.5\d\d, above 3\.28 \+ 0\.1/);
    const ok = new DoomWatch(opts, 50_000);
    for (const e of [v(250, 3.5), v(500, 3.35), v(750, 3.31), v(1000, 3.279)]) assert.equal(ok.onEvent(e), null);
    const slow = new DoomWatch(opts, 1000);
    assert.equal(slow.onEvent({ type: 'train', step: 20, totalSteps: 100, trainTimeMs: 1400, stepAvgMs: 70 }), null);
    assert.match(slow.onEvent({ type: 'train', step: 30, totalSteps: 100, trainTimeMs: 1600, stepAvgMs: 70 }) ?? '', /passed 1\.5x/);
  });
});
