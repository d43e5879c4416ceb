#!/usr/bin/env bash
# verify_live.sh - `synack verify` live, in a network namespace the test creates: the
# bundled echo server passes every default check; each deliberate bug (--bug) fails
# exactly its check, with frame numbers the saved capture confirms (tshark); a capture
# with a segment cut out or a short snapshot length makes the echo check INCONCLUSIVE
# (exit 3); hung servers FAIL within the timeout and nothing is left running; several
# servers in one run give a verdict block each, a summary and a JUnit testsuite each.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../live/lib.sh"
need_netns
if [ "${1:-}" != --inside ]; then
  exec unshare -n "$0" --inside
fi
command -v tshark >/dev/null && command -v editcap >/dev/null ||
  { [ "${CI:-}" = true ] && { echo "FAIL: needs tshark and editcap"; exit 1; }; echo "skipped: needs tshark"; exit 77; }
build=${SYNACK_BUILD:?}
S=$build/synack-echo-server
util() { python3 "$here/verify_util.py" "$@"; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
ip link set lo up
V() { "$build/synack" verify "$@"; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }

# 1. the bundled echo server: every default check passes, exit 0
V --server 127.0.0.1:7801 --start "$S --port 7801 -q" --timeout 3 -o json \
  -w "$tmp/good.pcap" --junit "$tmp/good.xml" >"$tmp/good.json" 2>"$tmp/good.err"
check "bundled echo server: exit 0" [ $? = 0 ]
check "bundled echo server: every default check PASSes" util results "$tmp/good.json" \
  listening=PASS handshake=PASS echo=PASS mss=PASS graceful-close=PASS closer=PASS \
  no-close-wait-leak=PASS concurrent=PASS refused-when-closed=PASS
check "NDJSON shape" util shape "$tmp/good.json"
check "JUnit XML shape: 1 suite, 9 tests, nothing failed or skipped" util junit "$tmp/good.xml" 1 9 0 0
check "refused-when-closed cites a SYN and the RST from the stopped server's port" \
  util frames "$tmp/good.pcap" "$tmp/good.json" refused-when-closed refused 7801
V --server 127.0.0.1:7802 --start "$S --port 7802 -q --upper" --upper --timeout 3 \
  --check echo,closer >"$tmp/upper.txt" 2>&1
check "--upper against an upper-casing server: exit 0" [ $? = 0 ]

# a started server runs as nobody (verify runs as root here) in its own process group
mkdir -m 1777 "$tmp/w"
V --server 127.0.0.1:7813 --start "id -u >$tmp/w/uid; ps -o pgid= -p \$\$ >$tmp/w/pgid; exec $S --port 7813 -q" \
  --check listening >/dev/null 2>&1
check "--start as root: the command runs as nobody (uid $(cat "$tmp/w/uid" 2>/dev/null))" [ "$(cat "$tmp/w/uid" 2>/dev/null)" = 65534 ]
check "... in a process group of its own" [ "$(tr -d ' ' <"$tmp/w/pgid" 2>/dev/null)" != "$(ps -o pgid= -p $$ | tr -d ' ')" ]

# the file server with --kind file: its default set passes (the server closes first,
# data after the client's FIN arrives)
mkdir -m 755 "$tmp/root"
head -c 50000 /dev/zero | tr '\0' 'x' >"$tmp/root/index.html"
chmod 644 "$tmp/root/index.html"
V --kind file --server 127.0.0.1:7814 --start "$build/synack-file-server --root $tmp/root --port 7814 -q" \
  --timeout 3 -o json >"$tmp/file.json" 2>/dev/null
check "--kind file against the bundled file server: exit 0" [ $? = 0 ]
check "... every check of the file set PASSes" util results "$tmp/file.json" listening=PASS \
  handshake=PASS mss=PASS graceful-close=PASS closer=PASS no-close-wait-leak=PASS concurrent=PASS \
  refused-when-closed=PASS half-close=PASS

# 2. each deliberate bug: exactly its check FAILs; its frames prove it in the capture
bug() { # NAME PORT CHECK KIND [EXPECTED-OTHER-VERDICTS...]
  local name=$1 port=$2 chk=$3 kind=$4
  shift 4
  V --server 127.0.0.1:$port --start "$S --port $port -q --bug $name" --timeout 2 -o json \
    -w "$tmp/$name.pcap" >"$tmp/$name.json" 2>"$tmp/$name.err"
  check "--bug $name: exit 1" [ $? = 1 ]
  check "--bug $name: $chk FAILs, no other check does" util results "$tmp/$name.json" "$chk=FAIL" "$@"
  check "--bug $name: the frames of $chk" util frames "$tmp/$name.pcap" "$tmp/$name.json" "$chk" "$kind" "$port"
}
bug no-close 7803 no-close-wait-leak close-wait listening=PASS echo=PASS closer=PASS concurrent=PASS \
  graceful-close=INCONCLUSIVE
bug rst 7804 graceful-close rst echo=PASS closer=PASS no-close-wait-leak=PASS concurrent=PASS
bug first-1024 7805 echo first-1024 graceful-close=PASS closer=PASS concurrent=PASS
bug one-at-a-time 7806 concurrent one-at-a-time echo=PASS graceful-close=PASS no-close-wait-leak=PASS
bug no-listen 7807 listening refused echo=INCONCLUSIVE refused-when-closed=PASS

# 3. evidence missing: a data segment cut out, or a short snapshot: INCONCLUSIVE, exit 3
cut=$(tshark -r "$tmp/good.pcap" -Y "tcp.len==3200 && tcp.dstport==7801" -T fields -e frame.number 2>/dev/null | head -1)
editcap -r "$tmp/good.pcap" "$tmp/cut.pcap" "1-$((cut - 1))" "$((cut + 1))-100000" >/dev/null
V -r "$tmp/cut.pcap" -o json >"$tmp/cut.json"
check "a capture with the 3200-byte segment (frame $cut) cut out: exit 3" [ $? = 3 ]
check "... echo INCONCLUSIVE (acknowledged, never captured), the rest PASS" util results "$tmp/cut.json" \
  echo=INCONCLUSIVE listening=PASS handshake=PASS graceful-close=PASS closer=PASS concurrent=PASS \
  refused-when-closed=PASS
editcap -s 80 "$tmp/good.pcap" "$tmp/snap.pcap" >/dev/null
V -r "$tmp/snap.pcap" -o json >"$tmp/snap.json"
check "the same capture cut to 80 bytes a packet (snaplen): exit 3" [ $? = 3 ]
check "... echo INCONCLUSIVE" util results "$tmp/snap.json" echo=INCONCLUSIVE graceful-close=PASS
grep -q '"name":"echo".*snapshot length' "$tmp/snap.json"
check "... and it says the snapshot length cut the bytes" [ $? = 0 ]

# 4. hung servers: a FAIL with a reason within the timeout, nothing left running
t0=$(now)
V --server 127.0.0.1:7808 --start "sleep 4321" --timeout 2 -o json >"$tmp/sleep.json" 2>/dev/null
rc=$?
t=$(elapsed "$t0")
check "a command that never listens: exit 1 after ${t}s (readiness waits at most --timeout 2)" \
  python3 -c "import sys; sys.exit(not ($rc == 1 and float('$t') < 6))"
check "... listening FAILs and says nothing accepted" grep -q '"name":"listening","result":"FAIL","reason":"nothing accepted a connection' "$tmp/sleep.json"
check "... and the command is gone" bash -c "! pgrep -f '[s]leep 4321'"
t0=$(now)
V --server 127.0.0.1:7809 --start "$S --port 7809 -q --pause-ms 987654" --timeout 2 -o json \
  -w "$tmp/hung.pcap" >"$tmp/hung.json" 2>/dev/null
rc=$?
t=$(elapsed "$t0")
check "a server that accepts and never reads: exit 1 after ${t}s" \
  python3 -c "import sys; sys.exit(not ($rc == 1 and float('$t') < 15))"
check "... echo and no-close-wait-leak FAIL" util results "$tmp/hung.json" echo=FAIL \
  no-close-wait-leak=FAIL concurrent=FAIL listening=PASS
check "... echo cites the client data that never came back" util frames "$tmp/hung.pcap" "$tmp/hung.json" echo no-echo 7809
check "... and the server is gone" bash -c "! pgrep -f '[p]ause-ms 987654'"

V --server 127.0.0.1:7815 --start "timeout -s KILL 0.3 $S --port 7815 -q" --timeout 2 -o json \
  >"$tmp/crash.json" 2>/dev/null
check "a server that dies during the run: exit 1" [ $? = 1 ]
check "... listening FAILs with how it ended" grep -q '"name":"listening","result":"FAIL","reason":"the started command exited with status 137 during the run' "$tmp/crash.json"

# 5. a class in one run: --servers FILE, one block each, a summary, JUnit suites
"$S" --port 7811 -q --upper >/dev/null &
ext=$!
cat >"$tmp/class.txt" <<EOT
# server            command (none: already running)
127.0.0.1:7810      $S --port 7810 -q --upper
127.0.0.1:7811
[::1]:7812          $S --port 7812 -q --upper --bug no-close
EOT
V --servers "$tmp/class.txt" --upper --timeout 2 --junit "$tmp/class.xml" >"$tmp/class.txt.out" 2>&1
check "three servers, one broken: exit 1" [ $? = 1 ]
kill $ext 2>/dev/null; wait $ext 2>/dev/null
check "a verdict block per server" [ "$(grep -c '^== ' "$tmp/class.txt.out")" = 3 ]
check "the summary table: two PASS, the IPv6 one FAILs no-close-wait-leak" \
  python3 - "$tmp/class.txt.out" <<'PY'
import re, sys
rows = {}
for l in open(sys.argv[1]):
    m = re.match(r"  (\S+:\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s*(.*)$", l)
    if m:
        rows[m[1]] = (m[5], m[6])
assert rows.get("127.0.0.1:7810", ("",))[0] == "PASS", rows
assert rows.get("127.0.0.1:7811", ("",))[0] == "PASS", rows
assert rows.get("[::1]:7812", ("",))[0] == "FAIL" and "no-close-wait-leak" in rows["[::1]:7812"][1], rows
PY
check "JUnit: 3 suites, 27 tests, 1 failure" util junit "$tmp/class.xml" 3 27 1 1
check "nothing verify started is left running" bash -c "! pgrep -f '[s]ynack-echo-server --port 78(10|12)'"
finish
