// `speedrun attach RUNID`: follow a run started elsewhere (the editor, another CLI) or left behind by Ctrl-C or a
// killed CLI, from where the local store stopped, until it ends; its results are stored as with `run`.
import { TERMINAL_STATES } from '../core/runs/types';
import { CliError, EXIT, defineCommand, err, exitAfterFlush, out } from './common';
import { commonOptions, describeEnd, loadTargets, manager, pickTarget, storedRun, taskDirOf } from './run';

export const command = defineCommand({
  name: 'attach',
  summary: 'Follow a run started elsewhere or left by Ctrl-C / a killed CLI, from where the store stopped, then store its results. Exit 0 when it finished.',
  positionals: [{ name: 'RUNID', description: "the run's id, as `run` printed it (a folder name under .speedrun/runs/)" }],
  options: commonOptions,
  notes: [
    "The run's console output from where the local store stopped goes to stdout (the earlier part is in <task>/.speedrun/runs/<RUNID>/console.log), progress to stderr. Ctrl-C detaches again.",
    'Exit codes: 0 the run finished, 1 it failed, was cancelled or timed out, 2 usage, 3 no such run or target, or a run that was never launched.',
  ],
  examples: ['speedrun attach 20260101-120000-ab12 --task-dir ~/speedrun-tasks/task-12 >> run.log'],
  run: async ({ values, positionals }) => {
    const runId = positionals[0];
    const taskDir = taskDirOf(values['task-dir']);
    const { store, stored } = storedRun(taskDir, runId);
    if (TERMINAL_STATES.includes(stored.state)) {
      err(describeEnd(stored, store));
      return stored.state === 'finished' ? EXIT.ok : EXIT.failed;
    }
    // `queued` with a start time is a launched run waiting in a scheduler's queue (Slurm PENDING): follow it.
    if (stored.state === 'queued' && !stored.startedAt) {
      throw new CliError(`run ${runId} was never launched (it is still queued, or the process that queued it is gone); start a new one with: speedrun run --task-dir ${JSON.stringify(taskDir)}`);
    }
    const loaded = loadTargets(taskDir, values['targets-file'], values['allow-task-targets']);
    const target = pickTarget(loaded, stored.target);
    const m = manager({ taskDir, sshConfig: values['ssh-config'], acceptNewHostKey: values['accept-new-host-key'] }, loaded.targets);
    m.onEvent((e) => {
      if (e.type === 'output') out(e.text);
      else if (e.type === 'state') err(`[speedrun] ${e.state}${e.detail ? `: ${e.detail}` : ''}\n`);
    });
    err(`[speedrun] attaching to run ${runId} on ${target.name}; its first ${store.consoleSize(runId)} bytes of output are in ${store.file(runId, 'console.log')}\n`);
    m.attach(taskDir, runId, false);
    const detach = () => {
      err(`\n[speedrun] detached; run ${runId} goes on. Attach again with: speedrun attach ${runId} --task-dir ${JSON.stringify(taskDir)}\n`);
      m.dispose();
      void exitAfterFlush(EXIT.failed);
    };
    process.once('SIGINT', detach);
    const end = await m.waitForEnd(runId);
    process.off('SIGINT', detach);
    m.dispose();
    err(describeEnd(end, store));
    return end.state === 'finished' ? EXIT.ok : EXIT.failed;
  },
});
