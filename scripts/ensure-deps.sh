#!/usr/bin/env bash
# Installs what `npm test` and `npm start` need on a fresh Debian machine, idempotently and quickly when
# everything is already there: apt packages (slurm-wlm + munge for the Slurm tests, which start their own
# single-node cluster), node_modules, and code-server 4.99.4 (reached as .cs/).
# Sourced or run from the repo root. Set SPEEDRUN_SKIP_APT=1 to skip the apt check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CS_VERSION=4.99.4
APT_PACKAGES=(chromium openssh-server ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config
  build-essential python3 curl ca-certificates slurm-wlm munge)

log() { printf '[deps] %s\n' "$*"; }

# 1. apt: one `apt-get update` only when something is missing.
if [[ "${SPEEDRUN_SKIP_APT:-}" != 1 ]] && command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    SUDO=(); [[ $(id -u) == 0 ]] || SUDO=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    # Another apt or dpkg may hold the lock on a fresh machine: wait for it, and say so.
    bash scripts/wait-apt-lock.sh
    wait_lock=(-o "DPkg::Lock::Timeout=${SPEEDRUN_APT_LOCK_TIMEOUT:-600}")
    "${SUDO[@]}" apt-get "${wait_lock[@]}" update -qq
    "${SUDO[@]}" apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# 2. node_modules: `npm ci` when missing or older than package-lock.json (npm writes the hidden lockfile last).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log 'npm ci'
  npm ci --no-audit --no-fund
fi

# 3. code-server from npm (native modules compiled in its postinstall; see docs/testing.md).
# It lives outside the repository, reached through the .cs symlink: with the repo as extensionDevelopmentPath,
# VS Code treats every theme whose file lies under that folder as the dev extension's own and switches to it.
CS_HOME=${SPEEDRUN_CS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/speedrun-workbench/code-server-$CS_VERSION}
if [[ -e .cs && ! -L .cs ]]; then rm -rf .cs; fi
if [[ "$(readlink .cs || true)" != "$CS_HOME" ]]; then rm -f .cs; ln -s "$CS_HOME" .cs; fi
if [[ ! -x .cs/node_modules/.bin/code-server || "$(node -p "require('./.cs/node_modules/code-server/package.json').version" 2>/dev/null)" != "$CS_VERSION" ]]; then
  log "installing code-server $CS_VERSION into $CS_HOME (about a minute)"
  # @vscode/ripgrep's postinstall downloads rg from GitHub; feed it the Debian rg through its download cache.
  rgcache=/tmp/vscode-ripgrep-cache-1.15.11
  rgtar=$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
  if [[ ! -s $rgtar ]]; then
    tmp=$(mktemp -d); cp "$(command -v rg)" "$tmp/rg"
    mkdir -p "$rgcache"; tar czf "$rgtar.part" -C "$tmp" rg && mv "$rgtar.part" "$rgtar"; rm -rf "$tmp"
  fi
  mkdir -p "$CS_HOME"
  [[ -f "$CS_HOME/package.json" ]] || printf '{ "name": "speedrun-code-server", "private": true }\n' > "$CS_HOME/package.json"
  # unsafe_perm: 4.99's install script insists on it as root; yes: node-pty's postinstall runs `npx node-gyp`.
  (cd "$CS_HOME" && npm_config_unsafe_perm=true npm_config_yes=true \
     npm install --no-audit --no-fund --no-save "code-server@$CS_VERSION" --foreground-scripts >install.log 2>&1) \
    || { tail -40 "$CS_HOME/install.log"; log "code-server install failed (full log: $CS_HOME/install.log)"; exit 1; }
fi
