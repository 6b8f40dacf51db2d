// Is it real? Run x K (repeats of the task's script, optionally interleaved with record i's), and calibration of
// records i and i+1 on the user's own box, one task or all of them. The work is src/core/stats; this file asks,
// shows progress (cancellable: the current run goes on, no further one starts) and reports.
import * as vscode from 'vscode';
import { getTask, loadManifest } from '../../core/benchmark';
import type { TaskFacts } from '../../core/benchmark/types';
import { formatDuration } from '../../core/benchmark/openTask';
import type { RunMeta } from '../../core/runs/types';
import { calibrateTask, CalibrationStore, estimate, type CalibrationDriver, type TaskCalibration } from '../../core/stats/calibration';
import { runRepeats, summarizeGroup, type RepeatSummary } from '../../core/stats/repeat';
import type { Dashboard, Workspace } from '../services';
import type { RunController } from '../runs/runController';
import type { CalibrateArgs, RunRepeatedArgs } from '../commands';
import { executeCommand, registerCommand } from '../register';

const fmtP = (p: number) => (Number.isNaN(p) ? '–' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

function describe(s: RepeatSummary): string {
  const v = s.attempt.valLoss;
  const t = s.attempt.trainTimeMs;
  const parts = [`${s.attempt.runs.length} run(s)`];
  if (v) parts.push(`val loss ${v.mean.toFixed(4)}${v.n > 1 ? ` ± ${v.std.toFixed(4)}` : ''}`);
  if (t) parts.push(`train time ${(t.mean / 1000).toFixed(1)}${t.n > 1 ? ` ± ${(t.std / 1000).toFixed(1)}` : ''} s`);
  if (s.significance) parts.push(s.significance.noSpread ? 'the runs did not vary (same seed or a deterministic box): no verdict' : `p = ${fmtP(s.significance.p)}: ${s.significance.pass ? 'PASS' : 'FAIL'}`);
  if (s.faster) parts.push(`faster than the baseline: ${s.faster.pass ? 'yes' : 'not shown'} (Welch p = ${fmtP(s.faster.p)})`);
  return parts.join(' · ');
}

/** A task number from a command argument: a number, or a Tasks view node. */
function taskIdOf(arg: unknown): number | undefined {
  if (typeof arg === 'number') return arg;
  const r = (arg as { report?: { id?: unknown }; task?: unknown } | undefined)?.report?.id ?? (arg as { task?: unknown } | undefined)?.task;
  return typeof r === 'number' ? r : undefined;
}

export function registerStats(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, workspace: Workspace, runs: RunController, dashboard: Dashboard) {
  const driver: CalibrationDriver = {
    enqueue: (o) => runs.enqueueQuiet({ taskDir: o.taskDir, target: o.target }),
    waitForEnd: (id) => runs.waitForEnd(id),
    attach: (dir, id) => runs.attachQuiet(dir, id),
  };

  const trusted = async () => {
    if (vscode.workspace.isTrusted) return true;
    const a = await vscode.window.showWarningMessage('Runs execute code on your machines, so they need a trusted workspace.', 'Manage Workspace Trust');
    if (a) await vscode.commands.executeCommand('workbench.trust.manage');
    return false;
  };

  async function runRepeated(args: RunRepeatedArgs = {}): Promise<RepeatSummary | undefined> {
    if (!(await trusted())) return undefined;
    const ctx = workspace.current();
    if (!ctx) {
      void vscode.window.showWarningMessage('Open a task first.');
      return undefined;
    }
    const k = args.repeats ?? Number(await vscode.window.showInputBox({
      title: 'Run x K', prompt: 'How many runs of the script? (the speedrun asks for p < 0.01 over repeated runs)', value: '5',
      validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 100 ? undefined : 'A whole number from 1 to 100'),
    }));
    if (!(k >= 1)) return undefined;
    let interleave = args.interleaveBaseline;
    if (interleave === undefined) {
      const pick = await vscode.window.showQuickPick([
        { label: 'Interleave with the baseline', description: `record ${ctx.task.fromRecord}'s script between yours, on the same target`, value: true },
        { label: 'Only my script', value: false },
      ], { title: `Run x ${k}` });
      if (!pick) return undefined;
      interleave = pick.value;
    }
    const target = args.target ?? (await runs.pickTarget());
    if (!target) return undefined;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === ctx.scriptPath);
    if (doc?.isDirty) await doc.save();
    try {
      const summary = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Run x ${k} on ${target}`, cancellable: true },
        async (progress, token) => {
          let opened = false;
          const total = k * (interleave ? 2 : 1);
          const group = await runRepeats(driver, {
            taskDir: ctx.taskDir, target, repeats: k, interleaveBaseline: interleave!,
            stopRequested: () => token.isCancellationRequested,
            onRun: (p) => {
              progress.report({ increment: 100 / total, message: `${p.role} ${p.index}/${p.of}: ${p.meta.state}${p.meta.final ? `, val ${p.meta.final.val_loss}` : ''}` });
              if (p.role === 'attempt' && !opened) {
                opened = true;
                dashboard.show(p.meta.runId);
              }
            },
          });
          return summarizeGroup(ctx.taskDir, group);
        },
      );
      log.info(`repeat ${summary.group.repeatId}: ${describe(summary)}${summary.group.stopped ? ` (stopped: ${summary.group.stopped})` : ''}`);
      const msg = `Run x ${k}: ${describe(summary)}${summary.group.stopped ? ` (stopped early: ${summary.group.stopped})` : ''}`;
      void vscode.window.showInformationMessage(msg, 'Open Dashboard').then((a) => {
        if (a) dashboard.show(summary.group.attempt.at(-1));
      });
      return summary;
    } catch (e) {
      void vscode.window.showErrorMessage(`Run x ${k}: ${(e as Error).message}`);
      return undefined;
    }
  }

  async function calibrate(tasks: TaskFacts[], args: CalibrateArgs): Promise<TaskCalibration[] | undefined> {
    if (!(await trusted())) return undefined;
    const bench = workspace.benchmarkPath();
    if (!bench) {
      const a = await vscode.window.showWarningMessage('Calibration runs the records from your benchmark clone: locate it first.', 'Locate Benchmark…');
      if (a) await executeCommand('speedrun.locateBenchmark');
      return undefined;
    }
    const k = args.runs ?? Number(await vscode.window.showInputBox({
      title: 'Calibrate', prompt: 'Finished runs per record', value: '3',
      validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 50 ? undefined : 'A whole number from 1 to 50'),
    }));
    if (!(k >= 1)) return undefined;
    const target = args.target ?? (await runs.pickTarget());
    if (!target) return undefined;
    const store = new CalibrationStore();
    const est = estimate(store, target, tasks, k);
    if (!args.confirmed) {
      const a = await vscode.window.showWarningMessage(
        `Calibrate ${tasks.length === 1 ? `task ${tasks[0].id}` : `all ${tasks.length} tasks`} on ${target}?`,
        {
          modal: true,
          detail: `${est.totalRuns} run(s) still to do (records ${est.runs.filter((r) => r.count).map((r) => r.record).join(', ') || 'none'}), ` +
            `about ${formatDuration(est.trainMs)} of training at ${est.runs.some((r) => r.calibrated) ? "this box's measured times where known, else " : ''}the paper's times, ` +
            'plus compile and validation per run. Cancelling stops after the current run; running the command again resumes.',
        },
        'Start',
      );
      if (a !== 'Start') return undefined;
    }
    const results: TaskCalibration[] = [];
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Calibrating on ${target}`, cancellable: true },
      async (progress, token) => {
        let done = 0;
        for (const task of tasks) {
          if (token.isCancellationRequested) break;
          const c = await calibrateTask(driver, {
            store, benchmarkPath: bench, task, target, runs: k,
            stopRequested: () => token.isCancellationRequested,
            onRun: (e: { record: number; done: number; of: number; meta: RunMeta }) => {
              done++;
              progress.report({ increment: est.totalRuns ? 100 / est.totalRuns : 0, message: `(${done}/${est.totalRuns}) task ${task.id}: record ${e.record} ${e.done}/${e.of}` });
              void executeCommand('speedrun.refreshTasks');
            },
          });
          results.push(c);
          log.info(`calibration of task ${task.id} on ${target}: ${c.box ? `${(c.box.baselineMs / 1000).toFixed(1)} s -> ${(c.box.targetMs / 1000).toFixed(1)} s` : 'incomplete'}${c.stopped ? ` (stopped: ${c.stopped})` : ''}`);
          if (c.stopped) break;
        }
      },
    );
    void executeCommand('speedrun.refreshTasks');
    const last = results.at(-1);
    const complete = results.length === tasks.length && results.every((r) => !r.stopped);
    void vscode.window.showInformationMessage(complete
      ? `Calibrated ${results.length} task(s) on ${target}; the Tasks view shows the times.`
      : `Calibration on ${target} stopped${last?.stopped ? `: ${last.stopped}` : ''}. Run it again to resume.`);
    return results;
  }

  context.subscriptions.push(
    registerCommand('speedrun.runRepeated', (args?: RunRepeatedArgs) => runRepeated(args ?? {})),
    // From the palette (the open task), the Tasks view (a task node) or a caller ({ task, runs, target }).
    registerCommand('speedrun.calibrateTask', (arg?: unknown) => {
      const args: CalibrateArgs = arg && typeof arg === 'object' && !('report' in arg) ? (arg as CalibrateArgs) : {};
      const id = taskIdOf(arg) ?? workspace.current()?.task.taskId;
      const task = id !== undefined ? getTask(id) : undefined;
      if (!task) {
        void vscode.window.showWarningMessage('Open a task, or calibrate one from the Tasks view.');
        return undefined;
      }
      return calibrate([task], args);
    }),
    registerCommand('speedrun.calibrateAll', (args?: CalibrateArgs) => calibrate(loadManifest().tasks, args ?? {})),
  );
}
