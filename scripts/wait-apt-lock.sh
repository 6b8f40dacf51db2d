#!/usr/bin/env bash
# Waits while another process (apt, dpkg, unattended-upgrades on a fresh machine) holds apt's or dpkg's lock,
# saying which one, for up to SPEEDRUN_APT_LOCK_TIMEOUT seconds (default 600). Exit 0 once free, 1 on timeout.
# SPEEDRUN_APT_LOCKS overrides the lock files (tests). apt itself also gets -o DPkg::Lock::Timeout for races.
set -euo pipefail
LOCKS=(${SPEEDRUN_APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock})
TIMEOUT=${SPEEDRUN_APT_LOCK_TIMEOUT:-600}

# "pid command path" of the first holder of one of our lock files, or nothing.
holder() {
  command -v lslocks >/dev/null || return 0
  lslocks -n -r -o PID,COMMAND,PATH 2>/dev/null | while read -r pid cmd file; do
    for l in "${LOCKS[@]}"; do [[ $file == "$l" ]] && { echo "$pid $cmd $file"; return 0; }; done
  done
}

start=$SECONDS
said=
while h=$(holder) && [[ -n $h ]]; do
  read -r pid cmd file <<<"$h"
  if (( SECONDS - start >= TIMEOUT )); then
    printf '[deps] apt: %s (pid %s) still holds %s after %s s; let it finish (or stop it) and run this again\n' "$cmd" "$pid" "$file" "$TIMEOUT" >&2
    exit 1
  fi
  if [[ $said != "$pid" ]]; then
    printf '[deps] apt: waiting for %s (pid %s), which holds %s (up to %s s)\n' "$cmd" "$pid" "$file" "$TIMEOUT"
    said=$pid
  fi
  sleep 1
done
[[ -z $said ]] || printf '[deps] apt: the lock is free\n'
