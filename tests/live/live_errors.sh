#!/usr/bin/env bash
# Live capture errors: a nonexistent interface, a bad filter, no permission (as nobody):
# each a one-line message naming the problem, exit 2.
set -u
. "$(dirname "$0")/lib.sh"
need_netns
build=${SYNACK_BUILD:?}
expect2() { # DESCRIPTION PATTERN COMMAND...
  local d=$1 pat=$2; shift 2
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  if [ $rc = 2 ] && [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ] && printf '%s' "$err" | grep -q -- "$pat"; then
    ok "$d: $err"
  else
    bad "$d: exit $rc, stderr '$err'"
  fi
}
expect2 "nonexistent interface" "nosuchif0: no such interface" "$build/synack" -i nosuchif0
expect2 "bad filter" "bad filter expression 'tcp port'" unshare -n bash -c "ip link set lo up && exec '$build/synack' -i lo tcp port"
expect2 "bad filter on a file" "bad filter expression" "$build/synack" -r "${SYNACK_SRC}/captures/close-client.pcap" port nonsense
# no permission: as nobody, with a copy of synack nobody can run
tmp=$(mktemp -d); chmod 755 "$tmp"; cp "$build/synack" "$tmp/"
trap 'rm -rf "$tmp"' EXIT
expect2 "no permission" "CAP_NET_RAW" setpriv --reuid=nobody --regid=nogroup --clear-groups "$tmp/synack" -i lo
finish
