#!/usr/bin/env bash
# `npm start`: the demo. Builds and packages the extension, installs the VSIX into code-server, prepares a demo
# task workspace (task 12 from the fixture benchmark, a simulated 8xH100 box as the "simulated-h100" target)
# and serves it on http://127.0.0.1:${PORT:-8080}/ until Ctrl-C. Everything lives under .tmp/demo/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
PORT=${PORT:-8080}
DEMO=$ROOT/.tmp/demo
CS=$ROOT/.cs/node_modules/.bin/code-server
BENCH=$ROOT/test/fixtures/benchmark
SIM=$ROOT/test/sim
log() { printf '[start] %s\n' "$*"; }

bash scripts/ensure-deps.sh
log 'building and packaging the extension'
npm run --silent package >/dev/null
mkdir -p "$DEMO"

# The task workspace, opened by the CLI as a user would; refreshed when the fixture's script changed (a script
# you edited is kept as train_gpt2.py.bak).
TASK=$DEMO/task-12
bash scripts/demo-task.sh "$TASK" "$BENCH"

# The simulated box: fake data shards (enough for any record) and a work dir for runs.
BOX=$DEMO/box
if [[ ! -f $BOX/data/fineweb_val_000000.bin ]]; then
  mkdir -p "$BOX/data" "$BOX/work"
  for i in $(seq -f '%06g' 1 65); do printf 'x' > "$BOX/data/fineweb_train_$i.bin"; done
  printf 'x' > "$BOX/data/fineweb_val_000000.bin"
fi

# User settings in code-server's user-data-dir: our keys are (re)written, anything else the user set is kept.
USER_DATA=$DEMO/user-data
mkdir -p "$USER_DATA/User"
# The same target goes into $DEMO/targets.json for the CLI (`speedrun run --targets-file`).
TARGETS=$DEMO/targets.json
DEMO_BENCH=$BENCH DEMO_SIM=$SIM DEMO_BOX=$BOX node - "$USER_DATA/User/settings.json" "$TARGETS" <<'EOF'
const fs = require('fs');
const [file, targetsFile] = process.argv.slice(2);
const { DEMO_BENCH: bench, DEMO_SIM: sim, DEMO_BOX: box } = process.env;
const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const targets = [{
  name: 'simulated-h100',
  kind: 'local',
  // test/sim stands in for the GPU box: torchrun, nvidia-smi and a torch module that only knows its version.
  setup: `export PATH=${q(sim)}:"$PATH" PYTHONPATH=${q(sim + '/pylib')}`,
  torchrun: 'torchrun',
  gpus: 8,
  remoteDir: `${box}/work`,
  trainFiles: `${box}/data/fineweb_train_*.bin`,
  valFiles: `${box}/data/fineweb_val_*.bin`,
  env: { SIM_SPEEDUP: '10', SIM_COMPILE_SECONDS: '5' },
}];
fs.writeFileSync(targetsFile, JSON.stringify(targets, null, 2) + '\n');
let settings = {};
if (fs.existsSync(file)) {
  try { settings = JSON.parse(fs.readFileSync(file, 'utf8')); }
  catch { console.error(`[start] ${file} is not plain JSON; leaving it as it is`); process.exit(0); }
}
Object.assign(settings, {
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'chat.commandCenter.enabled': false,
  // .tmp/demo sits inside this repository's git clone; don't offer to open that.
  'git.openRepositoryInParentFolders': 'never',
  'speedrun.benchmarkPath': bench,
  'speedrun.targets': targets,
});
fs.writeFileSync(file, JSON.stringify(settings, null, 2) + '\n');
EOF

CONFIG=$DEMO/config.yaml
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" > "$CONFIG"
ARGS=(--config "$CONFIG" --user-data-dir "$USER_DATA" --extensions-dir "$DEMO/extensions")
log 'installing speedrun-workbench.vsix into code-server'
"$CS" "${ARGS[@]}" --install-extension "$ROOT/speedrun-workbench.vsix" --force >/dev/null

# Own process group, so Ctrl-C takes code-server's extension hosts down with it.
setsid "$CS" "${ARGS[@]}" --disable-telemetry --disable-update-check --disable-workspace-trust \
  --disable-getting-started-override "$TASK" > "$DEMO/code-server.log" 2>&1 &
PGID=$!
stop() { trap - INT TERM EXIT; kill -TERM -- "-$PGID" 2>/dev/null || true; wait "$PGID" 2>/dev/null || true; }
trap 'stop; exit 130' INT TERM
trap stop EXIT

for _ in $(seq 300); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  kill -0 "$PGID" 2>/dev/null || { tail -20 "$DEMO/code-server.log"; log "code-server stopped (port $PORT taken? try PORT=8081 npm start)"; exit 1; }
  sleep 0.2
done
EXT_DIR=$(ls -d "$DEMO"/extensions/speedrun-workbench.speedrun-workbench-* | tail -1)
cat <<EOF

  Speedrun Workbench demo:  http://127.0.0.1:$PORT/?folder=$TASK

  Task 12 is open; the Speedrun view is in the activity bar. "Speedrun: Run Task Script" runs it on
  simulated-h100, a SIMULATED 8xH100 box on this machine (10x real time, no training: the fixture script's
  SIM_STEP_COST_MS line and num_iterations set its train time, so reproducing record 13's change, e.g. with
  "Speedrun: Reveal Ground-Truth Diff", gives FSR about 1 on the simulated box).

  The CLI from the installed extension (one simulated run takes about 40 s):
    node $EXT_DIR/dist/cli.js tasks --benchmark $BENCH
    node $EXT_DIR/dist/cli.js run --target simulated-h100 --task-dir $TASK --targets-file $TARGETS

  Log: $DEMO/code-server.log.  Ctrl-C stops the server.

EOF
wait "$PGID"
