#!/usr/bin/env bash
# The demo's task workspace for scripts/start.sh: task 12 of a benchmark clone (the fixture), opened once by the
# CLI as a user would. When the clone's record 12 script has changed since (task.json keeps the sha256 of the
# script the workspace was opened with), the workspace gets the new script; a train_gpt2.py the user edited is
# first kept beside it as train_gpt2.py.bak (.bak.1, ... if taken), and both steps are said.
# Usage: scripts/demo-task.sh TASK_DIR BENCHMARK_DIR   (needs a built dist/cli.js)
set -euo pipefail
TASK=$1
BENCH=$2
CLI=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/dist/cli.js
log() { printf '[start] %s\n' "$*"; }
open_task() { node "$CLI" open-task 12 --benchmark "$BENCH" --dest "$TASK" "$@" >/dev/null; }

if [[ ! -f $TASK/.speedrun/task.json ]]; then
  open_task
  exit 0
fi
sha() { sha256sum "$1" | cut -d' ' -f1; }
FRESH=$(sha "$BENCH/workspace_templates/nanogpt_speedrun/record_12/train_gpt2.py")
OPENED=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).baselineSha256 || ""' "$TASK/.speedrun/task.json")
[[ $FRESH == "$OPENED" ]] && exit 0

SCRIPT=$TASK/train_gpt2.py
if [[ -f $SCRIPT ]]; then
  NOW=$(sha "$SCRIPT")
  if [[ $NOW != "$OPENED" && $NOW != "$FRESH" ]]; then
    BAK=$SCRIPT.bak
    n=1
    while [[ -e $BAK ]]; do BAK=$SCRIPT.bak.$n; n=$((n + 1)); done
    cp -p "$SCRIPT" "$BAK"
    log "your edited train_gpt2.py is kept as $BAK"
  fi
fi
open_task --force
log "$SCRIPT refreshed: the fixture's record 12 script changed since the demo workspace was made"
