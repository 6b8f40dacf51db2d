// Bash scripts any launcher on a POSIX box shares (core/remote/launchers/), built with shellQuote only: the
// preflight probe, reading a run file from an offset, and the target's setup + env lines. The target's
// `setup` and `torchrun` settings are the user's own shell code (machine-scoped settings) and run through
// `eval` of a quoted string; every path, name, glob and env value is quoted. Env values (API keys) never go
// into a script's text: a command line is visible to every user in `ps`. They travel on stdin (envInput).
import { exportEnv, shellQuote } from './shell';

/** `cd` into a run dir, or exit 10 (the launchers read 10 as "the run directory is gone"). */
export const cdRun = (runDir: string) => `cd ${shellQuote(runDir)} || { echo "run directory ${runDir.replace(/[^\w./-]/g, '?')} is missing" >&2; exit 10; }`;

/** What to send on stdin to a script that starts with TAKE_ENV. */
export function envInput(env: Record<string, string>): string {
  return exportEnv(env) + '\n';
}

/** First line of a script that gets the env on stdin: keep it, not yet applied, in $SPEEDRUN_ENV. */
export const TAKE_ENV = 'SPEEDRUN_ENV=$(cat)';

/** Apply the env kept by TAKE_ENV (after the target's setup, so the target's env wins over it). */
export const APPLY_ENV = 'eval "$SPEEDRUN_ENV"; unset SPEEDRUN_ENV';

/** The target's setup, its failure handled by `onFail`. */
export function setupLines(setup: string | undefined, onFail: string): string[] {
  return setup ? [`eval ${shellQuote(setup)} || ${onFail}`] : [];
}

/** Count existing files matching a glob held in a variable: IFS= keeps spaces, the glob still expands,
 * and nothing in the value is evaluated (no command substitution happens on an expansion result). */
export function countGlob(varName: string, glob: string): string[] {
  return [`${varName}=${shellQuote(glob)}`, `n=0; IFS=; for f in $${varName}; do [ -e "$f" ] && n=$((n+1)); done; unset IFS; echo "$n"`];
}

/** A preflight script gets the env on stdin (envInput). */
export interface PreflightSpec {
  setup?: string;
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
    TAKE_ENV,
    `cd ${shellQuote(s.remoteDirAbs)} || exit 10`,
    `dump() { local l; while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done; }`,
    'echo "@@setup"',
    ...(s.setup
      ? [`eval ${shellQuote(s.setup)} > .preflight-setup.log 2>&1; echo "rc=$?"; mapfile -t L < .preflight-setup.log; n=\${#L[@]}; printf '%s\\n' "\${L[@]:$(( n > 5 ? n - 5 : 0 ))}"`]
      : ['echo "rc=0"']),
    APPLY_ENV,
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

/** Bytes of a file from `offset` (for the final catch-up and fetching the script's log). */
export function readFromScript(runDir: string, relPath: string, offset = 0): string {
  return `${cdRun(runDir)}\ntail -c +${Math.floor(offset) + 1} -- ${shellQuote(relPath)}`;
}
