// The bash scripts a run sends to its box, built with shellQuote only. Layout on the box:
//   <remoteDir>/lock                      runId of the run holding this target (one run at a time)
//   <remoteDir>/runs/<runId>/train_gpt2.py, console.log (stdout+stderr), pgid, exit_code,
//                            timed_out / cancelled (markers)
// The target's `setup` and `torchrun` settings are the user's own shell code (machine-scoped settings) and
// run through `eval` of a quoted string; every path, name, glob and env value is quoted.
import { exportEnv, quotePath, shellQuote } from './shell';

/** True while a non-zombie process of the run's process group exists ($pg). Zombies are ignored: an init
 * that does not reap (containers) would otherwise keep a finished run "alive" forever. */
const ALIVE_FN = `alive() { [ -n "$pg" ] && ps -A -o pgid=,stat= | awk -v g="$pg" '$1==g && $2 !~ /^Z/ {n++} END {exit n?0:1}'; }`;

const cdRun = (runDir: string) => `cd ${shellQuote(runDir)} || { echo "run directory ${runDir.replace(/[^\w./-]/g, '?')} is missing" >&2; exit 10; }`;

/**
 * Take the target's lock for `runId` and create the run dir. Prints `HOME=`, `DIR=` (absolute remoteDir)
 * and `LOCK OK` or `LOCK BUSY <owner>`. A lock is stale when its run has ended, its processes are gone, or
 * it never launched within 15 minutes.
 */
export function lockScript(remoteDir: string, runId: string): string {
  const id = shellQuote(runId);
  return [
    'set -u',
    `mkdir -p ${quotePath(remoteDir)}/runs/${id} && cd ${quotePath(remoteDir)} || exit 10`,
    'echo "HOME=$HOME"',
    'echo "DIR=$(pwd -P)"',
    ALIVE_FN,
    'stale() {',
    '  o=$(cat lock 2>/dev/null) || return 0',
    `  [ "$o" = ${id} ] && return 0`,
    '  case "$o" in *[!0-9a-f-]*|"") return 0;; esac',
    '  [ -e "runs/$o/exit_code" ] && return 0',
    '  if [ -s "runs/$o/pgid" ]; then pg=$(cat "runs/$o/pgid"); alive && return 1; return 0; fi',
    '  [ -n "$(find lock -mmin +15 2>/dev/null)" ]',
    '}',
    'for i in 1 2 3; do',
    `  if ( set -C; echo ${id} > lock ) 2>/dev/null; then echo "LOCK OK"; exit 0; fi`,
    '  if stale; then rm -f lock; else echo "LOCK BUSY $(cat lock 2>/dev/null)"; exit 0; fi',
    'done',
    'echo "LOCK BUSY $(cat lock 2>/dev/null)"',
  ].join('\n');
}

/** Release the lock if `runId` holds it. */
export function unlockScript(remoteDirAbs: string, runId: string): string {
  return `cd ${shellQuote(remoteDirAbs)} 2>/dev/null && [ "$(cat lock 2>/dev/null)" = ${shellQuote(runId)} ] && rm -f lock; true`;
}

export interface RunEnvSpec {
  setup?: string;
  env: Record<string, string>;
}

function setupLines(spec: RunEnvSpec, onFail: string): string[] {
  const lines: string[] = [];
  if (spec.setup) lines.push(`eval ${shellQuote(spec.setup)} || ${onFail}`);
  if (Object.keys(spec.env).length) lines.push(exportEnv(spec.env));
  return lines;
}

/** Count existing files matching a glob held in a variable: IFS= keeps spaces, the glob still expands,
 * and nothing in the value is evaluated (no command substitution happens on an expansion result). */
function countGlob(varName: string, glob: string): string[] {
  return [`${varName}=${shellQuote(glob)}`, `n=0; IFS=; for f in $${varName}; do [ -e "$f" ] && n=$((n+1)); done; unset IFS; echo "$n"`];
}

export interface PreflightSpec extends RunEnvSpec {
  remoteDirAbs: string;
  torchrun: string;
  trainGlob?: string;
  valGlob?: string;
}

// Finds torch and reads its version from torch/version.py as text: importing torch takes seconds on a GPU box.
// (Falls back to importing it when that file is missing.) Prints the python version, then torch's, or fails
// as a missing import would.
const TORCH_PROBE = [
  'import sys, importlib.util, os',
  'print(sys.version.split()[0])',
  's = importlib.util.find_spec("torch")',
  'if s is None: sys.exit("ModuleNotFoundError: No module named \'torch\'")',
  'try:',
  '    v = next(l.split("=", 1)[1].strip().strip("\'\\"") for l in open(os.path.join(os.path.dirname(s.origin), "version.py")) if l.startswith("__version__"))',
  'except (OSError, StopIteration):',
  '    import torch; v = torch.__version__',
  'print(v)',
].join('\n');

/**
 * One round trip: every fact preflight needs, in `@@section` blocks (parsed by core/runs/preflight.ts). The slow
 * probes (nvidia-smi twice, python) run in parallel through process substitutions, and the rest avoids forks:
 * on a busy box each one costs tens of milliseconds.
 */
export function preflightScript(s: PreflightSpec): string {
  const probe = (fd: number, cmd: string) => `exec ${fd}< <({ ${cmd}; echo "rc=$?"; } 2>&1)`;
  return [
    `cd ${shellQuote(s.remoteDirAbs)} || exit 10`,
    `dump() { local l; while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done; }`,
    'echo "@@setup"',
    ...(s.setup
      ? [`eval ${shellQuote(s.setup)} > .preflight-setup.log 2>&1; echo "rc=$?"; mapfile -t L < .preflight-setup.log; n=\${#L[@]}; printf '%s\\n' "\${L[@]:$(( n > 5 ? n - 5 : 0 ))}"`]
      : ['echo "rc=0"']),
    ...(Object.keys(s.env).length ? [exportEnv(s.env)] : []),
    probe(3, 'nvidia-smi --query-gpu=index,memory.used,memory.total --format=csv,noheader,nounits'),
    probe(4, 'nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits'),
    'PY=python3; command -v python3 >/dev/null || PY=python',
    probe(5, `command -v "$PY" >/dev/null || { echo "no python3 or python on PATH"; exit 127; }; "$PY" -c ${shellQuote(TORCH_PROBE)}`),
    'echo "@@torchrun"',
    // The first word of the user's torchrun command must resolve.
    `set -- ${s.torchrun}; command -v "$1" >/dev/null 2>&1; echo "rc=$?"`,
    'echo "@@train"',
    ...(s.trainGlob ? countGlob('G', s.trainGlob) : ['echo unset']),
    'echo "@@val"',
    ...(s.valGlob ? countGlob('G', s.valGlob) : ['echo unset']),
    'echo "@@disk"',
    '{ read -r _; read -r _ _ _ avail _; echo "$avail"; } < <(df -Pk .)',
    'echo "@@gpus"; dump <&3',
    'echo "@@apps"; dump <&4',
    'echo "@@python"; dump <&5',
    'echo "@@end"',
  ].join('\n');
}

export interface LaunchSpec extends RunEnvSpec {
  runDir: string;
  sha256: string;
  torchrun: string;
  gpus: number;
  timeLimitSec: number;
  graceSec: number;
}

/**
 * Verify the upload, then start the run detached: its own session and process group (setsid), output to
 * console.log, pgid written first and the exit code last. A watchdog in the same group enforces the time
 * limit on the box itself, so it holds even with no editor attached. Prints `PGID <n>`.
 */
export function launchScript(s: LaunchSpec): string {
  const inner = [
    'echo $$ > pgid',
    // Watchdog: TERM the group at the limit, KILL after the grace period. It stops quietly (killing its
    // sleep) when the run ends first.
    '( trap \'kill $s 2>/dev/null; exit 0\' TERM',
    `  sleep ${Math.max(1, Math.ceil(s.timeLimitSec))} & s=$!; wait $s`,
    "  trap '' TERM; echo 1 > timed_out; kill -TERM -- -$$ 2>/dev/null",
    `  sleep ${Math.max(1, Math.ceil(s.graceSec))}; kill -KILL -- -$$ 2>/dev/null ) >/dev/null 2>&1 &`,
    'wd=$!',
    ...setupLines(s, 'echo "speedrun: the setup command failed (exit $?)"'),
    'export PYTHONUNBUFFERED=1',
    // A trap (not an ignore) so the leader outlives a TERM to the group and records the exit code; children
    // get default signal handling back on exec.
    "trap ':' TERM",
    `${s.torchrun} --standalone --nproc_per_node=${Math.floor(s.gpus)} train_gpt2.py`,
    'rc=$?',
    'kill $wd 2>/dev/null',
    'echo $rc > exit_code.tmp && mv -f exit_code.tmp exit_code',
  ].join('\n');
  return [
    cdRun(s.runDir),
    `read -r sum _ < <(sha256sum train_gpt2.py); [ "$sum" = ${shellQuote(s.sha256)} ] || { echo "SHA256 MISMATCH"; exit 11; }`,
    'rm -f pgid exit_code timed_out cancelled',
    // `;` (not `&&`) before the background job: with `&&` the whole list would be backgrounded in a subshell
    // holding the channel open until the run ends.
    `setsid bash -c ${shellQuote(inner)} > console.log 2>&1 < /dev/null &`,
    'for ((i = 0; i < 500; i++)); do [ -s pgid ] && break; sleep 0.01; done',
    'echo "PGID $(cat pgid 2>/dev/null)"',
  ].join('\n');
}

/**
 * Stream console.log from byte `offset` until the run has ended (exit code written, or no live process
 * left in its group). tail -F follows through inotify, so lines arrive as they are written.
 */
export function followScript(runDir: string, offset: number): string {
  return [
    cdRun(runDir),
    // On a terminal (see ExecOptions.lowLatency): pass bytes through unchanged.
    '[ -t 1 ] && stty raw -echo -opost 2>/dev/null',
    'pg=$(cat pgid 2>/dev/null)',
    ALIVE_FN,
    `tail -c +${Math.floor(offset) + 1} -F console.log 2>/dev/null & t=$!`,
    "trap 'kill $t 2>/dev/null' EXIT",
    'while [ ! -e exit_code ] && alive; do sleep 0.2; done',
  ].join('\n');
}

/** Bytes of a file from `offset` (for the final catch-up and fetching the script's log). */
export function readFromScript(runDir: string, relPath: string, offset = 0): string {
  return `${cdRun(runDir)}\ntail -c +${Math.floor(offset) + 1} -- ${shellQuote(relPath)}`;
}

/** The run's end state: `EXIT <code|none>`, markers, `ALIVE`, console size and the script's log files. */
export function statusScript(runDir: string): string {
  return [
    cdRun(runDir),
    'pg=$(cat pgid 2>/dev/null)',
    ALIVE_FN,
    'echo "EXIT $(cat exit_code 2>/dev/null || echo none)"',
    'echo "PGID ${pg:-none}"',
    '[ -e timed_out ] && echo TIMEDOUT',
    '[ -e cancelled ] && echo CANCELLED',
    'alive && echo ALIVE',
    'echo "SIZE $(stat -c %s console.log 2>/dev/null || echo 0)"',
    // Where record scripts write their own log: logs/<uuid>.txt (4-21), logs/<uuid>/log.txt (3), pylog124m/<uuid>.log (1-2).
    'for f in logs/*.txt logs/*/log.txt pylog124m/*.log; do [ -f "$f" ] && echo "LOG $f"; done',
    'true',
  ].join('\n');
}

/** SIGTERM the run's process group, SIGKILL after `graceSec`, then report `GONE` or `ALIVE` + leftovers. */
export function cancelScript(runDir: string, graceSec: number): string {
  const ticks = Math.max(1, Math.round(graceSec * 10));
  return [
    cdRun(runDir),
    'pg=$(cat pgid 2>/dev/null)',
    '[ -n "$pg" ] || { echo "NOT LAUNCHED"; exit 0; }',
    ALIVE_FN,
    'echo 1 > cancelled',
    'kill -TERM -- -"$pg" 2>/dev/null',
    `for ((i = 0; i < ${ticks}; i++)); do alive || { echo GONE; exit 0; }; sleep 0.1; done`,
    'kill -KILL -- -"$pg" 2>/dev/null',
    'for ((i = 0; i < 50; i++)); do alive || { echo GONE; exit 0; }; sleep 0.1; done',
    'echo ALIVE',
    'ps -A -o pgid=,pid=,stat=,args= | awk -v g="$pg" \'$1==g && $3 !~ /^Z/\'',
  ].join('\n');
}
