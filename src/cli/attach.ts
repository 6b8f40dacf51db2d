// `speedrun attach RUNID`: follow a run started elsewhere (the editor, another CLI) or left behind by Ctrl-C or a
// killed CLI, from where the local store stopped, until it ends; its results are stored as with `run`.
import { TERMINAL_STATES } from '../core/runs/types';
import { CliError, EXIT, parse, type Command } from './common';
import { commonOptions, describeEnd, loadTargets, manager, storedRun, taskDirOf } from './run';

/** Help for the command (shape of the help system: positionals, options, examples, notes). */
export const attachHelp = {
  name: 'attach',
  summary: 'Follow a run started elsewhere or left by Ctrl-C / a killed CLI, from where the store stopped, then store its results. Exit 0 when it finished.',
  positionals: [{ name: 'RUNID', description: "the run's id, as `run` printed it (a folder name under .speedrun/runs/)" }],
  options: ['--task-dir DIR', '--targets-file JSON', '--ssh-config FILE', '--accept-new-host-key'],
  notes: [
    "stdout gets the run's console output from where the local store stopped (the earlier part is in <task>/.speedrun/runs/<RUNID>/console.log); progress goes to stderr. Ctrl-C detaches again.",
    'Exit codes: 0 the run finished, 1 it failed, was cancelled or timed out, 2 usage, 3 no such run or target, or a run that was never launched.',
  ],
  examples: ['speedrun attach 20260101-120000-ab12 --task-dir ~/speedrun-tasks/task-12 >> run.log'],
};

export const attachCommand: Command = {
  usage: `RUNID [${attachHelp.options.join('] [')}]`,
  summary: attachHelp.summary,
  run: async (args) => {
    const { values, positionals } = parse(args, commonOptions, true);
    if (positionals.length !== 1) throw new CliError('expected exactly one RUNID', EXIT.usage);
    const runId = positionals[0];
    const taskDir = taskDirOf(values['task-dir']);
    const { store, stored } = storedRun(taskDir, runId);
    if (TERMINAL_STATES.includes(stored.state)) {
      process.stderr.write(describeEnd(stored, store));
      return stored.state === 'finished' ? EXIT.ok : EXIT.failed;
    }
    if (stored.state === 'queued') {
      throw new CliError(`run ${runId} was never launched (it is still queued, or the process that queued it is gone); start a new one with: speedrun run --task-dir ${JSON.stringify(taskDir)}`);
    }
    const { targets } = loadTargets(taskDir, values['targets-file']);
    const m = manager({ taskDir, sshConfig: values['ssh-config'], acceptNewHostKey: values['accept-new-host-key'] }, targets);
    m.onEvent((e) => {
      if (e.type === 'output') process.stdout.write(e.text);
      else if (e.type === 'state') process.stderr.write(`[speedrun] ${e.state}${e.detail ? `: ${e.detail}` : ''}\n`);
    });
    if (!targets.some((t) => t.name === stored.target)) throw new CliError(`run ${runId} is on target '${stored.target}', which is not configured`);
    process.stderr.write(`[speedrun] attaching to run ${runId} on ${stored.target}; its first ${store.consoleSize(runId)} bytes of output are in ${store.file(runId, 'console.log')}\n`);
    m.attach(taskDir, runId, false);
    const detach = () => {
      process.stderr.write(`\n[speedrun] detached; run ${runId} goes on. Attach again with: speedrun attach ${runId} --task-dir ${JSON.stringify(taskDir)}\n`);
      m.dispose();
      process.exit(EXIT.failed);
    };
    process.once('SIGINT', detach);
    const end = await m.waitForEnd(runId);
    process.off('SIGINT', detach);
    m.dispose();
    process.stderr.write(describeEnd(end, store));
    return end.state === 'finished' ? EXIT.ok : EXIT.failed;
  },
};
