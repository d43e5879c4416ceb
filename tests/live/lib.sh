# tests/live/lib.sh - shared by the live tests (sourced).
# need_netns: root and network namespaces, or skip (exit 77) - but with CI=true a
# missing privilege is a failure, never a skip.
need_netns() {
  if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
    if [ "${CI:-}" = true ]; then
      echo "FAIL: this test needs root and network namespaces (CI=true: failing, not skipping)"
      exit 1
    fi
    echo "skipped: needs root and network namespaces"
    exit 77
  fi
}
fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# check DESCRIPTION COMMAND...: the command must succeed
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
finish() { echo "$fails failed"; [ "$fails" = 0 ]; }
