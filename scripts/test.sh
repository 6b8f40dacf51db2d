#!/usr/bin/env bash
# `npm test`: every test layer, in order, on a fresh Debian machine or an already set-up one.
#   deps → typecheck → lint → build → unit → integration → package (VSIX + content check) → extension host → e2e
# Prints each layer's counts and a final line "N passed, N failed"; exits non-zero if anything failed.
# A failed layer never stops the run silently: later layers still run unless they need what failed (build).
# Environment: SPEEDRUN_LAYERS="unit e2e" runs only those layers (deps and build always run).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$PATH"
STATS=$(mktemp -d)
trap 'rm -rf "$STATS"' EXIT

declare -a NAMES=() PASSED=() FAILED=() SECS=()
TOTAL_P=0 TOTAL_F=0
T0=$SECONDS

want() { [[ -z "${SPEEDRUN_LAYERS:-}" || " $SPEEDRUN_LAYERS " == *" $1 "* ]]; }
banner() { printf '\n\033[1m===== %s =====\033[0m\n' "$1"; }
record() { # name passed failed seconds
  NAMES+=("$1"); PASSED+=("$2"); FAILED+=("$3"); SECS+=("$4")
  TOTAL_P=$((TOTAL_P + $2)); TOTAL_F=$((TOTAL_F + $3))
  if (($3)); then printf '\033[31m[%s] %s passed, %s failed (%ss)\033[0m\n' "$1" "$2" "$3" "$4"
  else printf '\033[32m[%s] %s passed, %s failed (%ss)\033[0m\n' "$1" "$2" "$3" "$4"; fi
}

# A layer made of named checks (commands); each check counts as one test.
checks() { # layer "label:::command" ...
  local layer=$1 p=0 f=0 t=$SECONDS; shift
  banner "$layer"
  for c in "$@"; do
    local label=${c%%:::*} cmd=${c#*:::}
    echo "\$ $cmd"
    if bash -c "$cmd"; then p=$((p + 1)); echo "✔ $label"; else f=$((f + 1)); echo "✘ $label FAILED"; fi
  done
  record "$layer" $p $f $((SECONDS - t))
}

# A mocha layer: counts come from scripts/mocha-stats-reporter.cjs. No test files = a failure, not a pass.
mocha_layer() { # layer glob timeout_ms [env...]
  local layer=$1 glob=$2 timeout=$3 t=$SECONDS; shift 3
  banner "$layer"
  rm -f "$STATS/$layer.json"
  env "$@" SPEEDRUN_STATS_FILE="$STATS/$layer.json" mocha --ui tdd --timeout "$timeout" --fail-zero \
    --reporter "$ROOT/scripts/mocha-stats-reporter.cjs" "$glob"
  from_stats "$layer" $? $((SECONDS - t))
}

from_stats() { # layer exit_code seconds
  local p=0 f=0 pend=0
  if [[ -s "$STATS/$1.json" ]]; then
    read -r p f pend < <(node -e 'const s=require(process.argv[1]);console.log(s.passes,s.failures,s.pending)' "$STATS/$1.json")
  fi
  # Skipped tests are not allowed (docs/testing.md); a crash without counts is one failure.
  if ((pend)); then echo "$pend pending (skipped) test(s): not allowed"; f=$((f + pend)); fi
  if (($2 != 0 && f == 0)); then echo "$1 exited with $2 without reporting a failed test"; f=1; fi
  record "$1" "$p" "$f" "$3"
}

# Compiled output of sources that no longer exist would still run; drop it.
prune_stale() {
  local js ts
  while IFS= read -r js; do
    ts=${js#out/}; ts=${ts%.js}.ts
    [[ -f $ts ]] || rm -f "$js" "$js.map"
  done < <(find out -name '*.js' 2>/dev/null)
  while IFS= read -r js; do
    ts=test/exthost/$(basename "${js%.js}").ts
    [[ -f $ts ]] || rm -f "$js" "$js.map"
  done < <(find dist/test/exthost -name '*.js' 2>/dev/null)
}

# ---- deps ----
banner deps
t=$SECONDS
if bash scripts/ensure-deps.sh; then record deps 1 0 $((SECONDS - t)); else record deps 0 1 $((SECONDS - t)); fi

# ---- typecheck ----
if want typecheck; then
  checks typecheck "tsc -p .:::tsc -p . --noEmit" "tsc -p webview-ui:::tsc -p webview-ui --noEmit"
fi

# ---- lint ----
want lint && checks lint "eslint:::eslint ."

# ---- build: bundles (dist/, media/) and compiled tests (out/) ----
checks build "esbuild bundles:::node scripts/build.mjs" "compile tests:::tsc -p tsconfig.test.json >/dev/null || test -f out/test/support/codeServer.js"
BUILD_OK=$((FAILED[-1] == 0))
prune_stale

if ((BUILD_OK)); then
  want unit && mocha_layer unit 'out/test/unit/**/*.test.js' 20000
  want integration && mocha_layer integration 'out/test/integration/**/*.test.js' 120000

  if want package; then
    rm -f speedrun-workbench.vsix  # e2e must never pick up a stale one
    checks package \
      "npm run package:::npm run --silent package" \
      "VSIX holds only what runs:::node scripts/check-vsix.mjs speedrun-workbench.vsix"
    # package rebuilt dist/ minified without source maps; the dev bundles give readable stacks below.
    node scripts/build.mjs
  fi

  if want exthost; then
    banner exthost
    t=$SECONDS; rm -f "$STATS/exthost.json"
    SPEEDRUN_STATS_FILE="$STATS/exthost.json" node out/test/support/exthostLayer.js
    from_stats exthost $? $((SECONDS - t))
  fi

  # e2e drives the packaged extension as a user installs it (the dev build when packaging failed).
  if want e2e; then
    vsix_env=(); [[ -f speedrun-workbench.vsix ]] && vsix_env=(SPEEDRUN_TEST_VSIX="$ROOT/speedrun-workbench.vsix")
    mocha_layer e2e 'out/test/e2e/**/*.e2e.js' 300000 "${vsix_env[@]}"
  fi
else
  echo 'build failed: unit, integration, package, exthost and e2e not run'
  record 'not run (build failed)' 0 1 0
fi

banner summary
for i in "${!NAMES[@]}"; do
  printf '  %-24s %4s passed %4s failed %6ss\n' "${NAMES[$i]}" "${PASSED[$i]}" "${FAILED[$i]}" "${SECS[$i]}"
done
printf '  total time %ss\n' $((SECONDS - T0))
echo "$TOTAL_P passed, $TOTAL_F failed"
((TOTAL_F == 0))
