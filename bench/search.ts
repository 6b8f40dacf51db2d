// Search figures: (1) the early stop's false-stop rate over real modded-nanogpt record logs (it must stop none of
// the valid ones), and how early it stops the invalid ones; (2) wall time of a 20-node flat search on the
// simulated box with 1 target and with 4 pooled targets (parallel rounds).
// Run: npx tsc -p tsconfig.test.json && node out/bench/search.js [--logs GITDIR]
// Logs come from your modded-nanogpt clone's git directory (--logs GITDIR or $SPEEDRUN_RECORDS_GIT, read with git,
// never copied into this repository: records/track_1_short/**/*.txt|log); without one, from our fixture logs in
// test/fixtures/logs, and the output says so.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectTarget } from '../src/core/remote/connect';
import { RunManager } from '../src/core/runs/manager';
import { DEFAULT_EARLY_STOP, DoomWatch } from '../src/core/search/earlyStop';
import { resolveScaffold } from '../src/core/search/presets';
import { ManagerRunner } from '../src/core/search/runner';
import { Search, createSearch } from '../src/core/search/search';
import { fakeModelWriter } from '../test/support/searchWriter';
import { parseLogText } from '../src/core/logs/parser';
import { startFakeOpenAI } from '../test/support/fakeOpenAI';
import { removeTemps } from '../test/support/runFixture';
import { scriptedModel, searchTask, simPool } from '../test/support/searchFixture';

const argLogs = process.argv.indexOf('--logs');
const GITDIR = argLogs > 0 ? process.argv[argLogs + 1] : process.env.SPEEDRUN_RECORDS_GIT;

let missing = 0;

function realLogs(): { name: string; text: string }[] | null {
  if (!GITDIR) return null;
  try {
    const names = execFileSync('git', ['--git-dir', GITDIR, 'ls-tree', '-r', '--name-only', 'HEAD', 'records/track_1_short/'], { encoding: 'utf8', maxBuffer: 1 << 26 })
      .split('\n')
      .filter((n) => /\.(txt|log)$/.test(n));
    // A snapshot may list its largest files without holding them: those are skipped (and counted).
    const out: { name: string; text: string }[] = [];
    for (const name of names) {
      try {
        out.push({ name, text: execFileSync('git', ['--git-dir', GITDIR, 'show', `HEAD:${name}`], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }) });
      } catch {
        missing++;
      }
    }
    return out.length ? out : null;
  } catch {
    return null;
  }
}

function earlyStop(): void {
  let logs = realLogs();
  let source = `${logs?.length ?? 0} real record logs of modded-nanogpt (records/track_1_short, read from ${GITDIR}; ${missing} listed but absent in the snapshot)`;
  if (!logs) {
    const dir = path.join(__dirname, '../../test/fixtures/logs');
    logs = fs.readdirSync(dir).map((f) => ({ name: f, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
    source = `OUR FIXTURE LOGS ONLY (${logs.length} files in test/fixtures/logs; no modded-nanogpt mirror was found)`;
  }
  let valid = 0;
  let falseStops = 0;
  let invalid = 0;
  let caught = 0;
  const savedShares: number[] = [];
  const DOOM_SHIFT = 0.25;
  let shifted = 0;
  let shiftedCaught = 0;
  const shiftedLeft: number[] = [];
  const stoppedValid: string[] = [];
  for (const l of logs) {
    const parsed = parseLogText(l.text);
    const last = parsed.val[parsed.val.length - 1];
    if (!last || last.step !== last.totalSteps || parsed.val.length < 3) continue; // no complete validation curve
    // Time rule against the log's own final time: a record is at least as fast as the record it started from,
    // so this is the strictest baseline the rule could meet.
    const events = [...parsed.train.map((t) => ({ type: 'train' as const, ...t })), ...parsed.val.map((v) => ({ type: 'val' as const, ...v }))].sort(
      (a, b) => a.step - b.step || (a.type === 'val' ? -1 : 1),
    );
    const replay = (shift: number) => {
      const watch = new DoomWatch(DEFAULT_EARLY_STOP, last.trainTimeMs);
      for (const e of events) if (watch.onEvent(e.type === 'val' ? { ...e, valLoss: e.valLoss + shift } : e)) return { at: e.step / e.totalSteps, why: watch.doomed };
      return null;
    };
    const stop = replay(0);
    const stopAt = stop?.at ?? null;
    // The same curve shifted up by DOOM_SHIFT stands in for a doomed run (a bug that costs that much loss).
    if (last.valLoss <= 3.28) {
      const d = replay(DOOM_SHIFT);
      shifted++;
      if (d) {
        shiftedCaught++;
        shiftedLeft.push(1 - d.at);
      }
    }
    if (last.valLoss <= 3.28) {
      valid++;
      if (stopAt !== null) {
        falseStops++;
        stoppedValid.push(`${l.name} (${stop!.why})`);
      }
    } else {
      invalid++;
      if (stopAt !== null) {
        caught++;
        savedShares.push(1 - stopAt);
      }
    }
  }
  console.log(`early stop (${JSON.stringify(DEFAULT_EARLY_STOP)}) over ${source}:`);
  console.log(`  valid logs (final val loss <= 3.28): ${valid}; stopped: ${falseStops} (false-stop rate ${valid ? ((100 * falseStops) / valid).toFixed(1) : '-'}%)`);
  for (const s of stoppedValid) console.log(`    stopped: ${s}`);
  const meanSaved = savedShares.length ? savedShares.reduce((a, b) => a + b, 0) / savedShares.length : 0;
  console.log(`  logs ending above 3.28 (all within noise of the gate): ${invalid}; stopped: ${caught}${caught ? `, on average with ${(100 * meanSaved).toFixed(0)}% of their steps left` : ''}`);
  const left = shiftedLeft.length ? shiftedLeft.reduce((a, b) => a + b, 0) / shiftedLeft.length : 0;
  console.log(`  valid curves shifted up by ${DOOM_SHIFT} (stand-ins for doomed runs): ${shifted}; stopped: ${shiftedCaught}, on average with ${(100 * left).toFixed(0)}% of their steps left`);
}

async function parallel(): Promise<void> {
  const fake = await startFakeOpenAI({ respond: scriptedModel({ badEvery: 4 }) });
  for (const n of [1, 4]) {
    const { taskDir, task, root } = searchTask(12);
    const targets = simPool(root, n, { SIM_SPEEDUP: '400' });
    const manager = new RunManager({ targets: () => targets, connect: (t) => connectTarget(t, { confirmHostKey: async () => false }), timeLimitMs: () => 600_000, cancelGraceMs: () => 1000 });
    const store = createSearch(
      { taskDir, task, scaffold: resolveScaffold('flat'), seed: 1, hintLevels: [], backend: 'openai', targets: targets.map((t) => t.name) },
      fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8'),
    );
    const s = new Search(store, task, fakeModelWriter(fake.baseUrl, task, store), new ManagerRunner(manager, taskDir, targets.map((t) => t.name), () => 8));
    const t0 = Date.now();
    const out = await s.run();
    manager.dispose();
    console.log(`flat search, 20 nodes, ${n} simulated target(s) at 400x: ${((Date.now() - t0) / 1000).toFixed(1)} s wall, ${out.nodes.length - 1} nodes, best FSR ${out.best?.fsr?.toFixed(2)}`);
  }
  await fake.close();
  removeTemps();
}

earlyStop();
if (!process.argv.includes('--no-parallel')) void parallel();
