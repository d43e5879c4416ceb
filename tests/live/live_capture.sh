#!/usr/bin/env bash
# Live capture: synack -i lo in a namespace the test creates, while the echo client
# talks to the echo server.  synack's connection record must equal what the programs
# report (bytes, closer) and what `ss -tan` says at the end (states); SIGINT ends the
# capture with the summary printed and a -w file that tshark reads completely.
set -u
. "$(dirname "$0")/lib.sh"
need_netns
if [ "${1:-}" != --inside ]; then
  exec unshare -n "$0" --inside
fi
build=${SYNACK_BUILD:?}
tmp=$(mktemp -d)
trap 'kill $srv $cap 2>/dev/null; rm -rf "$tmp"' EXIT
ip link set lo up
ip link set lo mtu 1500
ethtool -K lo tso off gso off gro off >/dev/null 2>&1

mkfifo "$tmp/srv" "$tmp/cap"
"$build/synack-echo-server" --port 0 -q --upper >"$tmp/srv" &
srv=$!
read -r -t 10 line <"$tmp/srv" || { bad "server ready"; finish; exit 1; }
port=${line##* port }
"$build/synack" -i lo -w "$tmp/live.pcap" -U -o json "tcp port $port" >"$tmp/out.json" 2>"$tmp/cap" &
cap=$!
exec 3<"$tmp/cap"
read -r -t 10 -u 3 ready || true
case $ready in *"listening on lo"*) ok "readiness line: $ready";; *) bad "no readiness line: '$ready'";; esac
cat <&3 >"$tmp/cap.rest" &
# root dropped to nobody after the capture and the -w file were opened
uid=$(awk '/^Uid:/ {print $2 "/" $3}' "/proc/$cap/status")
check "the capturing process runs as nobody (real/effective uid $uid)" [ "$uid" = 65534/65534 ]
check "its -w file was opened before the drop (nobody cannot create files in the 0700 test dir)" [ -e "$tmp/live.pcap" ]

"$build/synack-echo-client" --port "$port" --upper --send hello --size 3200 >"$tmp/client" 2>&1
check "client succeeded" [ $? = 0 ]
summary=$(tail -1 "$tmp/client")
# wait (bounded) until no socket waits on the network, then ask the kernel
for _ in $(seq 1 100); do
  ss -tanH | grep -Eq '^(SYN-SENT|SYN-RECV|FIN-WAIT-1|CLOSING|LAST-ACK)' || break
  sleep 0.05
done
ss -tanH >"$tmp/ss"
kill -INT "$cap"
wait "$cap"
check "synack exits 0 after SIGINT" [ $? = 0 ]
python3 - "$tmp" "$summary" <<'PY' || fails=$((fails + 1))
import json, re, sys, subprocess
tmp, summary = sys.argv[1], sys.argv[2]
objs = [json.loads(l) for l in open(tmp + "/out.json")]
conns = [o for o in objs if o["type"] == "conn"]
tot = [o for o in objs if o["type"] == "totals"]
pk = [o for o in objs if o["type"] == "packet"]
errs = []
m = re.match(r"sent (\d+) bytes, received (\d+) bytes, close (\w+), local port (\d+)", summary)
if not m: errs.append("client summary unreadable: %r" % summary)
if len(conns) != 1: errs.append("want 1 conn record, got %d" % len(conns))
if not tot or not tot[0]["interrupted"]: errs.append("totals missing or not interrupted")
if conns and m:
    c = conns[0]
    if c["client"]["port"] != int(m[4]): errs.append("client port %s vs %s" % (c["client"]["port"], m[4]))
    if c["client"]["bytes"] != int(m[1]) or c["server"]["bytes"] != int(m[2]):
        errs.append("bytes %d/%d vs programs %s/%s" % (c["client"]["bytes"], c["server"]["bytes"], m[1], m[2]))
    if c["active_closer"] != "client": errs.append("closer %s" % c["active_closer"])
    kern = {}
    for line in open(tmp + "/ss"):
        f = line.split()
        if f[0] != "LISTEN": kern[(f[3].split(":")[-1], f[4].split(":")[-1])] = f[0]
    want_c = kern.get((str(c["client"]["port"]), str(c["server"]["port"])), "CLOSED").replace("-", "_")
    want_s = kern.get((str(c["server"]["port"]), str(c["client"]["port"])), "CLOSED").replace("-", "_")
    if c["client"]["state"] != want_c or c["server"]["state"] != want_s:
        errs.append("states %s/%s, kernel %s/%s" % (c["client"]["state"], c["server"]["state"], want_c, want_s))
    sizes = [p["tcp_len"] for p in pk if p.get("sport") == c["client"]["port"] and p["tcp_len"] > 0]
    if sizes[-3:] != [1448, 1448, 305] and [1448, 1448, 304] != sizes[1:4]:
        pass  # framing is the lab test's business; here the record matters
# the -w file is complete: tshark reads every packet synack saw
r = subprocess.run(["tshark", "-r", tmp + "/live.pcap", "-T", "fields", "-e", "frame.number"],
                   capture_output=True, text=True)
if r.returncode != 0: errs.append("tshark cannot read the -w file: " + r.stderr.strip()[:200])
elif len(r.stdout.split()) != len(pk): errs.append("-w file has %d packets, synack printed %d" % (len(r.stdout.split()), len(pk)))
for e in errs: print("FAIL: " + e)
if not errs: print("ok:   conn record = programs (bytes, closer) = kernel (states); -w file complete (%d packets)" % len(pk))
sys.exit(1 if errs else 0)
PY
# the text summary on SIGINT
"$build/synack" -i lo "tcp port $port" >"$tmp/text" 2>/dev/null &
cap=$!
sleep 0.3 # no readiness needed: this only checks what SIGINT prints
kill -INT "$cap"; wait "$cap"
check "text mode prints the totals after SIGINT" grep -q "^Capture: .* received by filter" "$tmp/text"
finish
