#!/usr/bin/env bash
# synack lab: every scenario passes its expectations; the echo scenario shows, in
# order, SYN, SYN/ACK, ACK, data with the 3200-byte message as 1448 + 1448 + 304,
# FIN/ACK both ways, the client in TIME_WAIT and the server CLOSED.  A scenario that
# cannot meet its expectations (the host's lo with segmentation offload on) exits 1
# and names the expectation.
set -u
. "$(dirname "$0")/lib.sh"
need_netns
build=${SYNACK_BUILD:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/synack" lab all >"$tmp/all" 2>&1
rc=$?
check "synack lab all exits 0" [ $rc = 0 ]
check "9 scenarios passed" grep -q "^9 scenarios: 9 passed, 0 failed" "$tmp/all"
check "no expectation failed" bash -c "! grep -q '  FAIL ' '$tmp/all'"
check "the ladder is drawn" grep -q "FIN_WAIT_1 |-\[F.\]" "$tmp/all"
check "ladder fits 100 columns" bash -c "! awk 'length > 100' '$tmp/all' | grep -q '|'"

"$build/synack" lab echo -o json >"$tmp/echo.json" 2>&1
check "synack lab echo -o json exits 0" [ $? = 0 ]
python3 - "$tmp/echo.json" <<'PY' || fails=$((fails + 1))
import json, sys
pk, conns = [], []
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    o = json.loads(line)
    if o["type"] == "packet": pk.append(o)
    if o["type"] == "conn": conns.append(o)
errs = []
flags = [p["flags"] for p in pk]
if flags[:3] != ["S", "SA", "A"]: errs.append("handshake order %s" % flags[:3])
c = conns[0] if conns else None
cport = c["client"]["port"] if c else None
data = [p["tcp_len"] for p in pk if p["sport"] == cport and p["tcp_len"] > 0]
if not any(data[i:i + 3] == [1448, 1448, 304] for i in range(len(data))):
    errs.append("client data segments %s lack 1448, 1448, 304" % data)
fins = [p for p in pk if "F" in p["flags"]]
if len(fins) != 2 or fins[0]["sport"] != cport or fins[1]["dport"] != cport:
    errs.append("want FIN from the client, then from the server: %s" % [(p["sport"], p["flags"]) for p in fins])
if not c or c["client"]["state"] != "TIME_WAIT" or c["server"]["state"] != "CLOSED":
    errs.append("final states %s" % (c and (c["client"]["state"], c["server"]["state"])))
i_last_data = max(i for i, p in enumerate(pk) if p["tcp_len"] > 0)
if pk.index(fins[0]) < i_last_data if fins else True: errs.append("FIN before the last data")
for e in errs: print("FAIL: " + e)
if not errs: print("ok:   echo: S, SA, A; 1448+1448+304; FIN both ways; client TIME_WAIT, server CLOSED")
sys.exit(1 if errs else 0)
PY

# --html writes the report page for the scenario (opened before root is dropped)
"$build/synack" lab --html "$tmp/lab.html" echo >/dev/null 2>&1
check "synack lab --html writes a report with the ladder's 22 arrows" \
  [ "$(grep -o 'class="seg"' "$tmp/lab.html" 2>/dev/null | wc -l)" -ge 22 ]

# The process that parses packets runs as nobody; its root parent manages the
# namespace and the lab programs.
"$build/synack" lab keepalive >"$tmp/ka" 2>&1 &
lab=$!
parser_uid=""
for _ in $(seq 1 60); do # bounded wait for the child to appear
  for st in /proc/[0-9]*/status; do
    if grep -q "^PPid:[[:space:]]*$lab\$" "$st" 2>/dev/null && grep -q "^Name:[[:space:]]*synack\$" "$st"; then
      parser_uid=$(awk '/^Uid:/ {print $2}' "$st")
      parent_uid=$(awk '/^Uid:/ {print $2}' "/proc/$lab/status")
    fi
  done
  [ -n "$parser_uid" ] && break
  sleep 0.05
done
wait "$lab"
check "the parsing process runs as nobody (uid $parser_uid)" [ "$parser_uid" = 65534 ]
check "its parent, which manages the namespace and the programs, stays root (uid $parent_uid)" [ "$parent_uid" = 0 ]

# Not root: the lab makes a user namespace (unshare -Urn semantics) and works the
# same; where the kernel allows no user namespace it must say so plainly, exit 2.
bin=$(mktemp -d)
chmod 755 "$bin"
cp "$build"/synack "$build"/synack-echo-server "$build"/synack-echo-client \
   "$build"/synack-file-server "$build"/synack-file-client "$bin"/
asnobody() { (cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"); }
if asnobody unshare -Urn true 2>/dev/null; then
  asnobody "$bin/synack" lab echo half-close >"$tmp/nobody" 2>&1
  rc=$?
  check "as nobody, in a user namespace: exit 0" [ $rc = 0 ]
  check "as nobody: 2 scenarios passed" grep -q "^2 scenarios: 2 passed, 0 failed" "$tmp/nobody"
  check "as nobody: MSS-sized framing still shown" grep -q "PASS the 3200-byte message leaves as 1448 + 1448 + 304" "$tmp/nobody"
else
  asnobody "$bin/synack" lab echo >"$tmp/nobody" 2>&1
  rc=$?
  check "no user namespaces: exit 2" [ $rc = 2 ]
  check "no user namespaces: said plainly, with --host-lo offered" grep -q "synack lab --host-lo" "$tmp/nobody"
fi
rm -rf "$bin"

# A real failure: the host-style lo (offloads on) hands the capture super-segments.
unshare -n bash -c "ip link set lo up; '$build/synack' lab --host-lo echo" >"$tmp/fail" 2>&1
rc=$?
check "a failing scenario exits 1" [ $rc = 1 ]
check "it names the failed expectation" grep -q "FAIL the 3200-byte message leaves as 1448 + 1448 + 304" "$tmp/fail"
finish
