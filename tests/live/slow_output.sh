#!/usr/bin/env bash
# Live capture never blocks on output: with standard output a pipe nobody reads, the
# capture goes on (every packet is still tracked), SIGINT still ends it at once, and
# the totals count the lines that could not be printed.
set -u
. "$(dirname "$0")/lib.sh"
need_netns
if [ "${1:-}" != --inside ]; then
  exec unshare -n "$0" --inside
fi
build=${SYNACK_BUILD:?}
tmp=$(mktemp -d)
trap 'kill $srv $cap $hold 2>/dev/null; rm -rf "$tmp"' EXIT
ip link set lo up

mkfifo "$tmp/srv" "$tmp/out" "$tmp/err"
"$build/synack-echo-server" --port 0 -q >"$tmp/srv" &
srv=$!
read -r -t 10 line <"$tmp/srv" || { bad "server ready"; finish; exit 1; }
port=${line##* port }
sleep 1000 <"$tmp/out" & # holds the pipe's read end open and never reads
hold=$!
"$build/synack" -i lo -Z root -o json "tcp port $port" >"$tmp/out" 2>"$tmp/err" &
cap=$!
exec 3<"$tmp/err"
read -r -t 10 -u 3 ready || true
case $ready in *"listening on lo"*) ok "capture ready";; *) bad "no readiness line: '$ready'";; esac
# far more output than a pipe holds (64 KiB): 200 echoes of 2000 bytes, 300+ packets
"$build/synack-echo-client" --port "$port" --size 2000 --count 200 >/dev/null 2>&1
check "client succeeded while synack's output was stalled" [ $? = 0 ]
t0=$(date +%s%N)
kill -INT "$cap"
# the capture must not be stuck in a write: it finishes, then waits only for the reader
# to take the totals; start reading now and it must end quickly
exec 4<"$tmp/out" # a second reader, opened here before the idle one goes: never none
kill "$hold" 2>/dev/null
timeout 10 cat <&4 >"$tmp/got" &
reader=$!
exec 4<&-
wait "$cap"
rc=$?
wait "$reader"
t1=$(date +%s%N)
check "synack exits 0 after SIGINT (exit $rc)" [ "$rc" = 0 ]
check "it ended within 5 s of SIGINT ($(( (t1 - t0) / 1000000 )) ms)" [ $(( (t1 - t0) / 1000000000 )) -lt 5 ]
python3 - "$tmp/got" <<'PY' || fails=$((fails + 1))
import json, sys
lines = open(sys.argv[1]).read().splitlines()
tot = [json.loads(l) for l in lines if l.startswith('{"type":"totals"')]
if not tot:
    print("FAIL: no totals object"); sys.exit(1)
t = tot[0]
# on lo the kernel's "received" counts each packet twice (once per direction).  A
# capture stalled on its output would lose most packets; a busy machine may cost a few.
seen = t["received"] // 2
ok = (t["output_dropped_lines"] > 0 and t["tcp"] > 300
      and t["packets"] + t["dropped"] >= seen and t["dropped"] * 20 < seen)
print(("ok:   " if ok else "FAIL: ") + "%d of %d packets tracked (kernel dropped %d); "
      "%d lines not printed and counted" % (t["packets"], t["received"] // 2, t["dropped"],
                                            t["output_dropped_lines"]))
sys.exit(0 if ok else 1)
PY
finish
