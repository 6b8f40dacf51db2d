// `speedrun calibrate`: measure records i and i+1 of a task (or of every task) on the user's own box, K runs
// each, interleaved, and keep the times per target (src/core/stats/calibration.ts). Re-running the same command
// resumes: finished runs count, runs left going are followed, only the missing ones start.
import { formatDuration, getTask, loadManifest } from '../core/benchmark';
import type { TaskFacts } from '../core/benchmark/types';
import { fsrForRun } from '../core/benchmark/fsr';
import { calibrateTask, CalibrationStore, estimate, type CalibratedRecord, type TaskCalibration } from '../core/stats/calibration';
import { BENCHMARK, CliError, EXIT, JSON_OUT, defineCommand, err, exitAfterFlush, out } from './common';
import { ask, commonOptions, loadTargets, manager, pickTarget } from './run';
import { userErrors } from './significance';
import { benchmarkArg } from './tasks';

const { 'task-dir': _taskDir, ...targetOptions } = commonOptions;

function tasksOf(task: string | undefined, all: boolean): TaskFacts[] {
  const m = loadManifest();
  if (all === (task !== undefined)) throw new CliError('give either --task N or --all', EXIT.usage);
  if (all) return m.tasks;
  const n = Number(task);
  const t = Number.isInteger(n) ? getTask(n, m) : undefined;
  if (!t) throw new CliError(`there is no task '${task}'; tasks are ${m.tasks.map((x) => x.id).join(', ')}`, EXIT.usage);
  return [t];
}

/** An overnight figure: "7 h 05 min", or formatDuration below an hour. */
const hours = (ms: number) => {
  if (ms < 3_600_000) return formatDuration(ms);
  const min = Math.round(ms / 60_000);
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
};

const rec = (c: CalibratedRecord | undefined) =>
  c ? `${(c.meanMs / 1000).toFixed(1)}${c.stdMs !== null ? ` ± ${(c.stdMs / 1000).toFixed(1)}` : ''} s (n ${c.n})` : 'not measured';

function describe(c: TaskCalibration): string {
  const lines = [
    `task ${c.task.id} on ${c.target}: record ${c.task.fromRecord} -> ${c.task.toRecord}`,
    `  record ${c.task.fromRecord}: ${rec(c.baseline)}   (paper ${(c.paper.baselineMs / 1000).toFixed(1)} s)`,
    `  record ${c.task.toRecord}: ${rec(c.next)}   (paper ${(c.paper.targetMs / 1000).toFixed(1)} s)`,
  ];
  if (c.box) {
    const fsr = fsrForRun(c.box.targetMs, null, c.paper).fsr;
    lines.push(`  gap on this box ${((c.box.baselineMs - c.box.targetMs) / 1000).toFixed(1)} s (paper ${((c.paper.baselineMs - c.paper.targetMs) / 1000).toFixed(1)} s); record ${c.task.toRecord} here scores FSR ${fsr.toFixed(2)} against the paper's times`);
  }
  if (c.stopped) lines.push(`  stopped: ${c.stopped} (run the same command again to resume)`);
  return lines.join('\n') + '\n';
}

export const command = defineCommand({
  name: 'calibrate',
  summary: "Measure a task's records i and i+1 on your own box (K interleaved runs each) and keep the times per target, so FSR can use them.",
  options: {
    task: { type: 'string', value: 'N', description: 'the task to calibrate' },
    all: { type: 'boolean', description: 'every task (records 1-21); shows the cost first and asks (or --yes)' },
    target: { type: 'string', value: 'NAME', description: 'the target to measure', defaultText: 'the only target, when exactly one is configured' },
    runs: { type: 'string', value: 'K', description: 'finished runs per record', default: '3' },
    benchmark: BENCHMARK,
    ...targetOptions,
    'calibration-dir': { type: 'string', value: 'DIR', description: 'where the measurements live', defaultText: '$SPEEDRUN_CALIBRATION_DIR, else ~/.local/share/speedrun-workbench/calibration' },
    'time-limit': { type: 'string', value: 'MINUTES', description: 'stop a run after this long', default: '60' },
    yes: { type: 'boolean', description: 'start without asking' },
    show: { type: 'boolean', description: 'only print what is stored (times per target and record) and the cost of what is left' },
    json: JSON_OUT,
  },
  notes: [
    'Records come from your llm-speedrunner clone; runs are stored under the calibration folder (runs/<target>/record_<r>/). ' +
      'Running the same command again resumes: finished runs count, runs still going are followed, only missing ones start. ' +
      "The cost estimate is the runs still to do times each record's train time (the box's own once measured, else the paper's), without compile and validation.",
    'Exit codes: 0 every asked record has K finished runs, 1 it stopped early, 2 usage, 3 bad input.',
  ],
  examples: ['speedrun calibrate --task 12 --target h100 --runs 3 --benchmark ~/llm-speedrunner', 'speedrun calibrate --all --target h100 --runs 3 --yes'],
  run: async ({ values }) => {
    const k = Number(values.runs);
    if (!(Number.isInteger(k) && k >= 1)) throw new CliError(`--runs must be a whole number of at least 1, got '${values.runs}'`, EXIT.usage);
    const timeLimit = Number(values['time-limit']);
    if (!(timeLimit > 0)) throw new CliError(`--time-limit must be a positive number of minutes, got '${values['time-limit']}'`, EXIT.usage);
    // --show alone reports every task.
    const tasks = tasksOf(values.task, Boolean(values.all || (values.show && values.task === undefined)));
    const store = new CalibrationStore(values['calibration-dir']);
    const loaded = loadTargets(process.cwd(), values['targets-file'], values['allow-task-targets']);
    const target = pickTarget(loaded, values.target);
    const est = estimate(store, target.name, tasks, k);
    const cost = `${est.totalRuns} run(s) still to do on ${target.name}, about ${hours(est.trainMs)} of training ` +
      `(${est.runs.some((r) => r.calibrated) ? "this box's measured times where known, else " : ''}the paper's times; compile and validation come on top)`;
    if (values.show) {
      const data = store.read().targets[target.name] ?? {};
      if (values.json) out(JSON.stringify({ target: target.name, records: data, estimate: est }, null, 2) + '\n');
      else out(`${Object.entries(data).map(([r, c]) => `record ${r}: ${rec(c)}`).join('\n') || `nothing measured on ${target.name} yet`}\n${cost}\n`);
      return EXIT.ok;
    }
    const bench = benchmarkArg(values.benchmark);
    err(`[calibrate] ${cost}\n`);
    if (values.all && !values.yes && est.totalRuns > 0) {
      const a = await ask('Start? (yes/no) ');
      if (!/^y(es)?$/i.test(a?.trim() ?? '')) {
        err(a === undefined ? '[calibrate] nothing started: add --yes to start without asking\n' : '[calibrate] nothing started\n');
        return EXIT.ok;
      }
    }
    const m = manager({ taskDir: process.cwd(), sshConfig: values['ssh-config'], acceptNewHostKey: values['accept-new-host-key'], timeLimitMinutes: timeLimit }, loaded.targets);
    const detach = () => {
      err('\n[calibrate] detached; the current run goes on. Run the same command again to resume.\n');
      m.dispose();
      void exitAfterFlush(EXIT.failed);
    };
    process.once('SIGINT', detach);
    const results: TaskCalibration[] = [];
    let done = 0;
    try {
      for (const task of tasks) {
        const c = await userErrors(() =>
          calibrateTask(m, {
            store, benchmarkPath: bench, task, target: target.name, runs: k,
            onRun: (e) => err(`[calibrate] (${++done}/${est.totalRuns}) task ${task.id}, record ${e.record} ${e.done}/${e.of}: run ${e.meta.runId} ${e.meta.state}` +
              `${e.meta.final ? `, train_time ${(e.meta.final.train_time / 1000).toFixed(1)} s` : e.meta.failure ? `: ${e.meta.failure.message}` : ''}\n`),
          }),
        );
        results.push(c);
        if (!values.json) out(describe(c));
        if (c.stopped) break;
      }
    } finally {
      process.off('SIGINT', detach);
      m.dispose();
    }
    if (values.json) out(JSON.stringify(results, null, 2) + '\n');
    return results.length === tasks.length && results.every((r) => !r.stopped) ? EXIT.ok : EXIT.failed;
  },
});
