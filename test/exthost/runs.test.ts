// Runs inside a real VS Code (code-server), against a real sshd with the simulated GPU box, across a window
// reload. The suite runs twice in one session: the first extension host starts a run, writes a marker file
// and reloads the window; the runner loads this suite again in the new extension host, which finds the marker
// and checks that the run was re-attached (the results file is written only then).
// Needs the default session (an empty workspace folder, the fixture clone as speedrun.benchmarkPath) and root.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunEvent, RunMeta } from '../../src/core/runs/types';
import type { Runs, Workspace } from '../../src/vscode/services';
import { cleanupSshd, ensureUser, startSshd, type SshdInfo } from '../support/sshd';
import { makeShards, shortScript, writeSshConfig } from '../support/runFixture';

const EXT = 'speedrun-workbench.speedrun-workbench';
const folder = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const markerFile = () => path.join(folder(), '.runs-suite-marker.json');

interface Marker {
  runId: string;
  taskDir: string;
  sshd: SshdInfo;
  ownerPid: number;
}

async function services(): Promise<{ runs: Runs; workspace: Workspace }> {
  return vscode.extensions.getExtension(EXT)!.activate();
}

function next(runs: Runs, runId: string, pred: (e: RunEvent) => boolean, ms = 60_000): Promise<RunEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => (sub.dispose(), reject(new Error(`no matching event for ${runId} within ${ms} ms`))), ms);
    const sub = runs.onDidEvent((e) => {
      if (e.runId === runId && pred(e)) {
        clearTimeout(t);
        sub.dispose();
        resolve(e);
      }
    });
  });
}

const trainSteps = (log: string) => [...log.matchAll(/^step:(\d+)\/\d+ (?:train_loss:\S+ )?train_time/gm)].map((m) => Number(m[1]));

if (!fs.existsSync(markerFile())) {
  suite('runs: before the window reload', () => {
    test('a run started through the Runs API reaches training; then the window reloads', async function () {
      this.timeout(180_000);
      const s = await startSshd();
      let reloading = false;
      try {
        const { uid } = ensureUser(s.user);
        const shards = makeShards(path.join(s.boxDir, 'data'), 12, uid);
        const { runs, workspace } = await services();
        const opened = new Promise<void>((resolve) => {
          const sub = workspace.onDidChange((ctx) => ctx && (sub.dispose(), resolve()));
        });
        await vscode.commands.executeCommand('speedrun.openTask', { taskId: 12, dest: folder() });
        await opened;
        const taskDir = workspace.current()!.taskDir;
        // Long enough to outlive the reload; the second half cancels it.
        fs.writeFileSync(path.join(taskDir, 'train_gpt2.py'), shortScript(12, 3000, 1000));
        const cfg = vscode.workspace.getConfiguration('speedrun');
        await cfg.update('sshConfigFile', writeSshConfig(s), vscode.ConfigurationTarget.Global);
        await cfg.update('targets', [{ name: 'box', kind: 'ssh', host: 'box', remoteDir: path.join(s.boxDir, 'work'), ...shards, env: { SIM_SPEEDUP: '3', SIM_COMPILE_SECONDS: '1' } }], vscode.ConfigurationTarget.Global);

        const meta = (await runs.start({ taskDir, target: 'box', origin: 'agent' }))!;
        assert.equal(meta.state, 'queued');
        assert.ok(runs.list(taskDir).some((m) => m.runId === meta.runId), 'listed in the Runs view model');
        await next(runs, meta.runId, (e) => e.type === 'log' && e.event.type === 'train' && e.event.step >= 5);
        assert.equal(runs.get(meta.runId)!.state, 'training');
        const owner = Number(fs.readFileSync(path.join(runs.runDir(taskDir, meta.runId), 'owner.pid'), 'utf8'));
        assert.equal(owner, process.pid);
        const marker: Marker = { runId: meta.runId, taskDir, sshd: s.info(), ownerPid: process.pid };
        fs.writeFileSync(markerFile(), JSON.stringify(marker));
        reloading = true;
        await vscode.commands.executeCommand('workbench.action.reloadWindow');
        // This extension host ends with the reload. If it does not, fail (and clean up).
        await new Promise((r) => setTimeout(r, 60_000));
        reloading = false;
        throw new Error('the window did not reload');
      } finally {
        if (!reloading) {
          fs.rmSync(markerFile(), { force: true });
          await s.stop();
        }
      }
    });
  });
} else {
  suite('runs: after the window reload', () => {
    const marker = JSON.parse(fs.readFileSync(markerFile(), 'utf8')) as Marker;
    suiteTeardown(() => {
      fs.rmSync(markerFile(), { force: true });
      cleanupSshd(marker.sshd);
    });

    test('the new extension host re-attached to the running run and streams it, without gaps or duplicates', async function () {
      this.timeout(120_000);
      const { runs } = await services();
      const live = await next(runs, marker.runId, (e) => e.type === 'log' && e.event.type === 'train');
      assert.ok(live.type === 'log' && live.event.type === 'train');
      const meta = runs.get(marker.runId)!;
      assert.ok(['compiling', 'training', 'validating'].includes(meta.state), meta.state);
      assert.notEqual(process.pid, marker.ownerPid, 'a new extension host');
      const runDir = runs.runDir(marker.taskDir, marker.runId);
      assert.equal(Number(fs.readFileSync(path.join(runDir, 'owner.pid'), 'utf8')), process.pid, 'this host streams the run now');

      // Cancel it to finish the test in time; the record is complete either way.
      await runs.cancel(marker.runId);
      const end: RunMeta = await runs.waitForEnd(marker.runId);
      assert.equal(end.state, 'cancelled');
      const local = fs.readFileSync(path.join(runDir, 'console.log'), 'utf8');
      assert.equal(local, fs.readFileSync(path.join(end.remoteDir!, 'console.log'), 'utf8'));
      const steps = trainSteps(local);
      assert.ok(steps.length > 5);
      assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1));
      assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'results.json'), 'utf8')).status, 'CANCELLED');
    });

    test('the run commands are registered', async () => {
      const all = await vscode.commands.getCommands(true);
      for (const c of ['run', 'cancelRun', 'removeQueuedRun', 'showRunOutput', 'configureTargets']) assert.ok(all.includes(`speedrun.${c}`), c);
    });
  });
}
