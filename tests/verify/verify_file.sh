#!/usr/bin/env bash
# verify_file.sh - `synack verify -r` on the bundled captures, `--follow` against
# tshark (exact bytes, out-of-order and retransmitted segments, missing bytes), JUnit
# and NDJSON shapes, usage errors.  No privileges needed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../live/lib.sh"
build=${SYNACK_BUILD:?}
src=${SYNACK_SRC:?}
caps=$src/captures
util() { python3 "$here/verify_util.py" "$@"; }
command -v tshark >/dev/null && command -v editcap >/dev/null ||
  { [ "${CI:-}" = true ] && { echo "FAIL: needs tshark and editcap"; exit 1; }; echo "skipped: needs tshark"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
V() { "$build/synack" verify "$@"; }

# -r on close-client.pcap: every check it can judge passes; the two that need driving
# (concurrent, refused-when-closed) have no evidence there: INCONCLUSIVE, exit 3
V -r "$caps/close-client.pcap" --upper -o json --junit "$tmp/cc.xml" >"$tmp/cc.json"
check "-r close-client.pcap --upper exits 3 (inconclusive, nothing failed)" [ $? = 3 ]
check "its verdicts" util results "$tmp/cc.json" listening=PASS handshake=PASS echo=PASS mss=PASS \
  graceful-close=PASS closer=PASS no-close-wait-leak=PASS concurrent=INCONCLUSIVE \
  refused-when-closed=INCONCLUSIVE
check "NDJSON shape" util shape "$tmp/cc.json"
check "JUnit shape (2 skipped)" util junit "$tmp/cc.xml" 1 9 0 2
V -r "$caps/close-client.pcap" --check echo >"$tmp/noupper.txt"
check "without --upper the echo FAILs (exit 1)" [ $? = 1 ]
check "... and the reason says to use --upper" grep -q "FAIL *echo .*use --upper" "$tmp/noupper.txt"
V -r "$caps/concurrent.pcap" -o json >"$tmp/conc.json"
check "concurrent.pcap: the concurrent check finds overlapping connections" \
  util results "$tmp/conc.json" concurrent=PASS echo=PASS
V -r "$caps/reset.pcap" -o json >"$tmp/reset.json"
check "reset.pcap exits 1" [ $? = 1 ]
port=$(python3 -c "import json,sys; print([o for o in map(json.loads, open(sys.argv[1])) if o['type']=='check'][0]['server'].rsplit(':',1)[1])" "$tmp/reset.json")
check "reset.pcap: graceful-close FAILs and cites the client's RST" \
  python3 -c "
import json,sys,subprocess
v=[o for o in map(json.loads, open(sys.argv[1])) if o.get('name')=='graceful-close'][0]
assert v['result']=='FAIL', v
out=subprocess.run(['tshark','-r',sys.argv[2],'-T','fields','-e','tcp.flags.reset','-e','tcp.dstport','-Y','frame.number==%d'%v['frames'][-1]],capture_output=True,text=True).stdout.split()
assert out[0] in ('1','True') and out[1]==sys.argv[3], out
" "$tmp/reset.json" "$caps/reset.pcap" "$port"
V -r "$caps/midstream.pcap" --upper --check echo,handshake >"$tmp/mid.txt"
check "midstream.pcap: no handshake, so handshake and echo are INCONCLUSIVE (exit 3)" [ $? = 3 ]
V -r "$caps/download.pcap" --kind file -o json >"$tmp/dl.json"
check "download.pcap --kind file: the server closes first (closer server)" \
  util results "$tmp/dl.json" closer=PASS graceful-close=PASS mss=PASS concurrent=INCONCLUSIVE \
  refused-when-closed=INCONCLUSIVE half-close=INCONCLUSIVE

# --follow: tshark's follow,tcp,ascii, byte for byte (but the Filter line)
"$build/synack" -r "$caps/close-client.pcap" --follow 1 >"$tmp/f1.txt"
check "--follow 1 exits 0" [ $? = 0 ]
tshark -r "$caps/close-client.pcap" -q -z follow,tcp,ascii,0 >"$tmp/t1.txt" 2>/dev/null
check "--follow 1 on close-client.pcap: tshark's chunks and the exact bytes sent" \
  util follow "$tmp/f1.txt" "$tmp/t1.txt" close-client
python3 - "$tmp/ooo.pcap" <<PY
import sys
sys.path.insert(0, "$src/tests/cli")
from pcapgen import *
c = Capture()
a, b = '10.0.0.1', '10.0.0.2'
c.tcp(a, b, 40000, 80, 100, 0, TCP_SYN)
c.tcp(b, a, 80, 40000, 500, 101, TCP_SYN | TCP_ACK)
c.tcp(a, b, 40000, 80, 101, 501, TCP_ACK)
c.tcp(a, b, 40000, 80, 101, 501, TCP_ACK | TCP_PSH, payload=bytes(range(256)))
c.tcp(b, a, 80, 40000, 501, 357, TCP_ACK | TCP_PSH, payload=b'ab\r\ncd\te\x00f\x7fg\xffh')
c.tcp(a, b, 40000, 80, 361, 515, TCP_ACK | TCP_PSH, payload=b'WXYZ')      # out of order
c.tcp(a, b, 40000, 80, 357, 515, TCP_ACK | TCP_PSH, payload=b'STUV')      # fills the hole
c.tcp(a, b, 40000, 80, 359, 515, TCP_ACK | TCP_PSH, payload=b'UVWXYZ12')  # overlap: 2 new
c.tcp(b, a, 80, 40000, 515, 367, TCP_ACK | TCP_FIN)
c.tcp(a, b, 40000, 80, 367, 516, TCP_ACK | TCP_FIN)
c.tcp(b, a, 80, 40000, 516, 368, TCP_ACK)
c.write(sys.argv[1])
PY
"$build/synack" -r "$tmp/ooo.pcap" --follow 1 >"$tmp/f2.txt"
tshark -r "$tmp/ooo.pcap" -q -z follow,tcp,ascii,0 >"$tmp/t2.txt" 2>/dev/null
check "--follow: binary bytes, out-of-order and overlapping segments as tshark shows them" \
  util follow "$tmp/f2.txt" "$tmp/t2.txt"
check "--follow: no missing bytes there" bash -c "! grep -q missing '$tmp/f2.txt'"
# cut the client's 304-byte segment out (the first of that size; the echo comes later): the hole is said, the rest is tshark's
cut=$(tshark -r "$caps/close-client.pcap" -Y "tcp.len==304" -T fields -e frame.number 2>/dev/null | head -1)
editcap -r "$caps/close-client.pcap" "$tmp/cut.pcap" "1-$((cut - 1))" "$((cut + 1))-1000" >/dev/null
"$build/synack" -r "$tmp/cut.pcap" --follow 1 >"$tmp/f3.txt"
tshark -r "$tmp/cut.pcap" -q -z follow,tcp,ascii,0 >"$tmp/t3.txt" 2>/dev/null
check "--follow says where bytes are missing (frame $cut cut out)" grep -qx "\[304 bytes missing in capture\]" "$tmp/f3.txt"
check "--follow around the hole agrees with tshark" util follow "$tmp/f3.txt" "$tmp/t3.txt"
V -r "$tmp/cut.pcap" --upper -o json >"$tmp/cut.json"
check "-r on the cut capture: exit 3" [ $? = 3 ]
check "-r on the cut capture: echo INCONCLUSIVE (bytes acknowledged but never captured)" \
  util results "$tmp/cut.json" echo=INCONCLUSIVE graceful-close=PASS
# every connection of every bundled capture: --follow ID is tshark's stream ID-1
check "--follow equals tshark on every connection of captures/" util follow-all "$build/synack" "$caps"/*.pcap
"$build/synack" -r "$caps/close-client.pcap" --follow 2 >/dev/null 2>"$tmp/err"
check "--follow of a connection that is not there: exit 2" [ $? = 2 ]
check "... with a reason" grep -q "no such connection" "$tmp/err"

# usage and input errors: exit 2 with one line on stderr
for args in "--check nosuch -r $caps/close-client.pcap" "--server nohostport" \
            "--start true" "--server 127.0.0.1:0" "-r /nonexistent.pcap" \
            "--kind ftp -r $caps/close-client.pcap" "--clients 1 --server 127.0.0.1:7" \
            "-r $caps/close-client.pcap --start x" ""; do
  V $args >/dev/null 2>"$tmp/err"
  rc=$?
  check "synack verify $args: exit 2 with one line" [ $rc = 2 -a "$(wc -l <"$tmp/err")" = 1 ]
done
V --list-checks | grep -q "^no-close-wait-leak"
check "--list-checks names the checks" [ $? = 0 ]
finish
