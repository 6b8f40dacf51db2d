import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  arrayLinksScript, checkSinfo, describeJob, endReason, ENV_FILE, jobScript, parseSacct, parseScontrol, parseSubmit, sbatchArgs, slurmTime, submitScript,
} from '../../src/core/remote/slurm';
import { envInput } from '../../src/core/remote/commands';
import { parseStatus } from '../../src/core/remote/launchers/slurm';
import { parseTargets, type SlurmTarget } from '../../src/core/remote/targets';

function slurmTarget(extra: Record<string, unknown> = {}): SlurmTarget {
  const { targets, errors } = parseTargets([{ name: 'c', kind: 'slurm', ...extra }]);
  assert.deepEqual(errors, []);
  return targets[0] as SlurmTarget;
}

// Real output of Slurm 22.05 (scontrol show job -o), shortened to the fields that matter plus a few around them.
const PENDING_LINE =
  'JobId=7 JobName=speedrun 20261201-041900-ab12 UserId=root(0) GroupId=root(0) Priority=4294901757 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=Resources Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 ExitCode=0:0 RunTime=00:00:00 TimeLimit=01:00:00 Command=/tmp/a b/job.sh WorkDir=/tmp/a b StdOut=/tmp/a b/console.log';
const ARRAY_LINES = [
  'JobId=4 ArrayJobId=3 ArrayTaskId=1 ArrayTaskThrottle=2 JobName=wrap JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 RunTime=00:00:01',
  'JobId=3 ArrayJobId=3 ArrayTaskId=2-3%2 ArrayTaskThrottle=2 JobName=wrap JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0',
].join('\n');

suite('remote: slurm', () => {
  test('sbatch options: gres with and without type, time, partition/account/qos, user args last, array limit', () => {
    const t = slurmTarget({ partition: 'gpu', account: 'proj', qos: 'high', gpuType: 'h100', cpusPerTask: 32, sbatchArgs: ['--exclusive', '--time=5'] });
    const args = sbatchArgs({ target: t, name: 'speedrun run', timeLimitMinutes: 60, chdir: '/w/runs/x', output: 'console.log' });
    assert.deepEqual(args, [
      '--parsable', '--job-name=speedrun run', '--nodes=1', '--ntasks=1', '--gres=gpu:h100:8', '--time=01:00:00', '--chdir=/w/runs/x',
      '--output=console.log', '--open-mode=append', '--cpus-per-task=32', '--partition=gpu', '--account=proj', '--qos=high', '--exclusive', '--time=5',
    ]);
    const plain = sbatchArgs({ target: slurmTarget({ gpus: 4, timeLimitMinutes: 90 }), name: 'n', timeLimitMinutes: 60, chdir: '/d', output: '%a/console.log', array: { count: 5, parallel: 2 } });
    assert.ok(plain.includes('--gres=gpu:4') && plain.includes('--time=01:30:00') && plain.includes('--array=0-4%2'), plain.join(' '));
    assert.ok(!plain.some((a) => /partition|account|qos/.test(a)));
    assert.ok(sbatchArgs({ target: t, name: 'n', timeLimitMinutes: 1, chdir: '/', output: 'o', array: { count: 3, parallel: 9 } }).includes('--array=0-2'));
    assert.deepEqual([slurmTime(0.2), slurmTime(59), slurmTime(61), slurmTime(1441)], ['00:01:00', '00:59:00', '01:01:00', '1-00:01:00']);
  });

  test('the submit script quotes every value: a hostile job name, path and env run nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-slurm-unit-'));
    try {
      const runDir = path.join(dir, "it's $(touch pwned) dir");
      fs.mkdirSync(runDir);
      fs.writeFileSync(path.join(runDir, 'train_gpt2.py'), 'print(1)\n');
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      // A stand-in sbatch that records its arguments, one per line.
      fs.writeFileSync(path.join(bin, 'sbatch'), '#!/bin/bash\nprintf "%s\\n" "$@" > args.txt\necho "42;cluster"\n', { mode: 0o755 });
      const t = slurmTarget({ sbatchArgs: ['--comment=a b; $(touch pwned2)'] });
      const args = sbatchArgs({ target: t, name: `x'; touch pwned3; '`, timeLimitMinutes: 5, chdir: runDir, output: 'console.log' });
      const script = jobScript({ torchrun: 'torchrun', gpus: 8 });
      const sha = spawnSync('sha256sum', [path.join(runDir, 'train_gpt2.py')], { encoding: 'utf8' }).stdout.split(' ')[0];
      const secret = `"$(touch pwned4)" it's`;
      const r = spawnSync('bash', ['-c', submitScript(runDir, script, args, sha)], { input: envInput({ A: secret }), encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(parseSubmit(r.stdout), '42');
      assert.deepEqual(fs.readFileSync(path.join(runDir, 'args.txt'), 'utf8').trim().split('\n'), [...args, 'job.sh']);
      assert.equal(fs.readFileSync(path.join(runDir, 'job.sh'), 'utf8'), script);
      assert.deepEqual(fs.readdirSync(dir).concat(fs.readdirSync(runDir)).filter((f) => f.startsWith('pwned')), []);
      // The env went to env.sh (user-only), not into the script or a command line; the job reads it back intact.
      assert.ok(!submitScript(runDir, script, args, sha).includes('pwned4') && !script.includes('pwned4'));
      assert.equal(fs.statSync(path.join(runDir, ENV_FILE)).mode & 0o777, 0o600);
      const back = spawnSync('bash', ['-c', `eval "$(cat ${ENV_FILE})"; printf %s "$A"`], { encoding: 'utf8', cwd: runDir });
      assert.equal(back.stdout, secret);
      const bad = spawnSync('bash', ['-c', submitScript(runDir, script, args, 'f'.repeat(64))], { input: '', encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
      assert.equal(bad.status, 11);
      assert.match(bad.stdout, /SHA256 MISMATCH/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the job script: setup, env, unbuffered python, a data check on the node, torchrun with a free port; exit code kept', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-slurm-job-'));
    try {
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      // A torchrun stand-in that prints what it got and exits 3.
      fs.writeFileSync(path.join(bin, 'torchrun'), '#!/bin/bash\necho "ARGS $*"; echo "PY=$PYTHONUNBUFFERED V=$NANOGPT_VAL_TOKENS S=$FROM_SETUP"; exit 3\n', { mode: 0o755 });
      fs.writeFileSync(path.join(dir, 'shard_1.bin'), 'x');
      fs.writeFileSync(path.join(dir, ENV_FILE), envInput({ NANOGPT_VAL_TOKENS: '123' }));
      const script = jobScript({ setup: `export FROM_SETUP='set up' NANOGPT_VAL_TOKENS=9`, torchrun: path.join(bin, 'torchrun'), gpus: 8, trainGlob: path.join(dir, 'shard_*.bin') });
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: dir });
      assert.equal(r.status, 3);
      assert.match(r.stdout, /^ARGS --nnodes=1 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=127\.0\.0\.1:\d{5} train_gpt2\.py$/m);
      assert.match(r.stdout, /^PY=1 V=123 S=set up$/m);
      assert.equal(fs.readFileSync(path.join(dir, 'exit_code'), 'utf8').trim(), '3');
      const noData = spawnSync('bash', ['-c', jobScript({ torchrun: path.join(bin, 'torchrun'), gpus: 1, trainGlob: path.join(dir, 'none_*.bin') })], { encoding: 'utf8', cwd: dir });
      assert.equal(noData.status, 2);
      assert.match(noData.stdout, /no training shards match NANOGPT_TRAIN_FILES=.*none_\*\.bin on node/);
      const badSetup = spawnSync('bash', ['-c', jobScript({ setup: 'false', torchrun: 'true', gpus: 1 })], { encoding: 'utf8', cwd: dir });
      assert.equal(badSetup.status, 1);
      assert.match(badSetup.stdout, /the setup command failed \(exit 1\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('array links point each index at its run dir', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-slurm-arr-'));
    try {
      const runs = ['a', "b c'd"].map((n) => path.join(dir, 'runs', n));
      for (const d of runs) fs.mkdirSync(d, { recursive: true });
      const r = spawnSync('bash', ['-c', arrayLinksScript(path.join(dir, 'arrays', 'x'), runs)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual([0, 1].map((i) => fs.realpathSync(path.join(dir, 'arrays', 'x', String(i)))), runs);
      const job = jobScript({ torchrun: 'pwd -P; false', gpus: 1, array: true });
      const out = spawnSync('bash', ['-c', job], { encoding: 'utf8', cwd: path.join(dir, 'arrays', 'x'), env: { ...process.env, SLURM_ARRAY_TASK_ID: '1' } });
      assert.equal(out.stdout.trim(), runs[1]);
      assert.ok(fs.existsSync(path.join(runs[1], 'exit_code')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('scontrol, sacct and submit output become Slurm jobs; states read as Slurm says them', () => {
    assert.deepEqual(parseScontrol(PENDING_LINE), [{ jobId: '7', state: 'PENDING', reason: 'Resources', exitCode: 0, signal: 0 }]);
    assert.deepEqual(parseScontrol(ARRAY_LINES).map((j) => [j.jobId, j.state, j.reason, j.exitCode]), [
      ['3_1', 'FAILED', 'NonZeroExitCode', 3],
      ['3', 'PENDING', 'JobArrayTaskLimit', 0],
    ]);
    assert.deepEqual(parseScontrol('slurm_load_jobs error: Invalid job id specified'), []);
    assert.deepEqual(parseSacct('12|CANCELLED by 0|0:15|None\n13_2|TIMEOUT|0:0|TimeLimit\njunk\n'), [
      { jobId: '12', state: 'CANCELLED', reason: undefined, exitCode: 0, signal: 15 },
      { jobId: '13_2', state: 'TIMEOUT', reason: 'TimeLimit', exitCode: 0, signal: 0 },
    ]);
    assert.equal(parseSubmit('JOB 5\n'), '5');
    assert.equal(parseSubmit('sbatch: error: Batch job submission failed'), undefined);
    assert.equal(describeJob({ jobId: '1', state: 'PENDING', reason: 'Resources' }), 'PENDING (waiting: Resources)');
    assert.equal(describeJob({ jobId: '1', state: 'PENDING' }), 'PENDING (waiting: in the queue)');
    assert.equal(describeJob({ jobId: '1', state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 3, signal: 0 }), 'FAILED (exit code 3)');
    assert.equal(describeJob({ jobId: '1', state: 'NODE_FAIL', signal: 9 }), 'NODE_FAIL (signal 9)');
    assert.equal(describeJob({ jobId: '1', state: 'TIMEOUT' }), 'TIMEOUT');
    assert.match(endReason({ jobId: '1', state: 'NODE_FAIL' })!, /node failed/);
    assert.match(endReason({ jobId: '1', state: 'PREEMPTED' })!, /preempted/);
    assert.match(endReason({ jobId: '1', state: 'OUT_OF_MEMORY' })!, /memory/);
    assert.equal(endReason({ jobId: '1', state: 'COMPLETED' }), undefined);
  });

  test("the launcher's status: our exit code first, Slurm's state and reason, its exit code when the script never finished", () => {
    const pending = parseStatus(`EXIT none\nSIZE 0\n@@job\n${PENDING_LINE}\n`, '7');
    assert.deepEqual([pending.waiting, pending.alive, pending.exit, pending.schedulerState], [true, true, null, 'PENDING (waiting: Resources)']);
    const done = parseStatus('EXIT 0\nSIZE 1234\nLOG logs/abc.txt\nLOG ../../etc/passwd\n@@job\n', '7');
    assert.deepEqual([done.exit, done.consoleSize, done.logs, done.alive, done.schedulerState], [0, 1234, ['logs/abc.txt'], false, 'no longer known to Slurm']);
    const arr = parseStatus(`EXIT none\nSIZE 10\n@@job\n${ARRAY_LINES}\n`, '3_1');
    assert.deepEqual([arr.exit, arr.alive, arr.schedulerState], [3, false, 'FAILED (exit code 3)']);
    const timeout = parseStatus('EXIT none\n@@job\n9|TIMEOUT|0:15|TimeLimit\n', '9');
    assert.deepEqual([timeout.timedOut, timeout.cancelled, timeout.exit, timeout.alive], [true, false, null, false]);
    const requeued = parseStatus(`EXIT 143\nSIZE 10\n@@job\n${PENDING_LINE.replace('Reason=Resources', 'Reason=BeginTime')}\n`, '7');
    assert.deepEqual([requeued.exit, requeued.waiting, requeued.schedulerState], [null, true, 'PENDING (waiting: BeginTime)']);
    const node = parseStatus('EXIT none\n@@job\n9|NODE_FAIL|0:9|None\n', '9');
    assert.match(node.endReason!, /node failed/);
  });

  test('sinfo: a partition with a node that has the GPUs, by type; clear words otherwise', () => {
    const out = 'debug*|gpu:h100:8|idle\ndebug*|gpu:a100:4(S:0)|mixed\nsmall|gpu:2|idle\nbig|gpu:h100:8|down*\n';
    assert.deepEqual(checkSinfo(out, { name: 'c', gpus: 8, gpuType: 'h100' }), { partition: 'debug', errors: [] });
    assert.deepEqual(checkSinfo(out, { name: 'c', gpus: 8, partition: 'debug' }).errors, []);
    assert.match(checkSinfo(out, { name: 'c', gpus: 8, gpuType: 'a100' }).errors[0], /No node of partition 'debug' has 8 GPUs of type a100 up/);
    assert.match(checkSinfo(out, { name: 'c', gpus: 8, partition: 'big' }).errors[0], /No node of partition 'big' has 8 GPUs up .*down/);
    assert.match(checkSinfo(out, { name: 'c', gpus: 1, partition: 'nope' }).errors[0], /no partition 'nope' \(have: debug, small, big\)/);
    assert.match(checkSinfo('', { name: 'c', gpus: 1 }).errors[0], /no partitions/);
    assert.match(checkSinfo('a|gpu:8|idle', { name: 'c', gpus: 1 }).errors[0], /no default partition/);
  });
});
