#!/usr/bin/env bash
# Live: record every capture scenario afresh (tools/record-captures, in private network
# namespaces, with this build's lab programs) and check synack against the kernel's
# `ss -tan` and the programs' own accounts.  Needs root for namespaces: with CI=true a
# missing privilege is a failure, elsewhere a skip (exit 77).
set -u
build=${SYNACK_BUILD:?}
src=${SYNACK_SRC:?}
if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
  if [ "${CI:-}" = true ]; then
    echo "live test needs root and network namespaces (CI=true: failing, not skipping)"
    exit 1
  fi
  echo "skipped: needs root and network namespaces"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$src/tools/record-captures" -o "$out" -b "$build" >/dev/null || { echo "record-captures failed"; exit 1; }
exec python3 "$src/tests/captures/check_captures.py" "$build/synack" "$out" --no-golden
