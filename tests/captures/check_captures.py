#!/usr/bin/env python3
"""Check synack against recorded captures: the kernel's final states, the lab programs'
own account, and the golden outputs.

usage: check_captures.py SYNACK DIR [--no-golden]

For every DIR/NAME.pcap that has DIR/NAME.ss (`ss -tan` inside the recording
namespace when the conversation had settled):
  * kernel: for the last connection on each 4-tuple, each endpoint's final state in
    synack's conn record equals the kernel's (a socket ss does not list is CLOSED);
  * programs: for each client summary line "sent N bytes, received M bytes, close MODE,
    local port P" in DIR/NAME.programs, the connection from port P carried N bytes
    client->server and M bytes server->client, and MODE fin/rst names the closer;
  * golden (unless --no-golden): `synack -r` text equals DIR/NAME.txt and
    `synack -r -o json --summary` equals DIR/NAME.json.
Prints one line per capture and "N passed, N failed" at the end.
"""
import ipaddress
import json
import os
import re
import subprocess
import sys

SS_STATE = {
    "ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECEIVED",
    "FIN-WAIT-1": "FIN_WAIT_1", "FIN-WAIT-2": "FIN_WAIT_2", "TIME-WAIT": "TIME_WAIT",
    "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING",
}


def norm_addr(text):
    """'[::ffff:127.0.0.1]:80' or '127.0.0.1:80' -> ('127.0.0.1', 80)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    ip = ipaddress.ip_address(host.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (str(ip), int(port))


def kernel_states(path):
    states = {}
    for line in open(path):
        f = line.split()
        if len(f) < 5 or f[0] == "LISTEN":
            continue
        states[(norm_addr(f[3]), norm_addr(f[4]))] = SS_STATE.get(f[0], f[0])
    return states


def run(synack, args):
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run([synack] + args, capture_output=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("synack %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                      p.stderr.decode(errors="replace")))
    return p.stdout.decode()


def check(synack, d, name, golden):
    problems = []
    pcap = os.path.join(d, name + ".pcap")
    conns_text = run(synack, ["-r", pcap, "-o", "json", "--summary"])
    conns = [json.loads(l) for l in conns_text.splitlines()]
    conns = [c for c in conns if c["type"] == "conn"]
    if not conns:
        problems.append("no connection records")
    last = {}
    for c in conns:
        cl = (str(ipaddress.ip_address(c["client"]["addr"])), c["client"]["port"])
        sv = (str(ipaddress.ip_address(c["server"]["addr"])), c["server"]["port"])
        last[(cl, sv)] = c
    kern = kernel_states(os.path.join(d, name + ".ss"))
    for (cl, sv), c in last.items():
        for role, me, peer in (("client", cl, sv), ("server", sv, cl)):
            want = kern.get((me, peer), "CLOSED")
            got = c[role]["state"]
            if got != want:
                problems.append("conn %d %s %s:%d: synack says %s, the kernel %s"
                                % (c["id"], role, me[0], me[1], got, want))
    prog = os.path.join(d, name + ".programs")
    seen_port = {}
    if os.path.exists(prog):
        for line in open(prog):
            m = re.match(r"sent (\d+) bytes, received (\d+) bytes, close (\w+), local port (\d+)", line)
            f = re.match(r"received (\d+) bytes into (\S+), local port (\d+)", line)
            if f:  # the file client: request "NAME\n", response "OK <len>\n" + the file
                n = int(f[1])
                sent, recv, mode, port = None, n + len("OK %d\n" % n), "passive", int(f[3])
            elif not m:
                continue
            else:
                sent, recv, mode, port = int(m[1]), int(m[2]), m[3], int(m[4])
            # the i-th run from a port is the i-th connection from it (port reuse)
            mine = [c for c in conns if c["client"]["port"] == port]
            i = seen_port.get(port, 0)
            seen_port[port] = i + 1
            if i >= len(mine):
                problems.append("no connection from client port %d (run %d)" % (port, i + 1))
                continue
            c = mine[i]
            if c["midstream"]:
                pass  # the capture starts after some of the bytes: nothing to compare
            elif (sent is not None and c["client"]["bytes"] != sent) or c["server"]["bytes"] != recv:
                problems.append("conn %d: client says %s/%d bytes, synack %d/%d" % (
                    c["id"], sent, recv, c["client"]["bytes"], c["server"]["bytes"]))
            # a client that closed before seeing the server's FIN ("fin") may have
            # crossed it: a simultaneous close ("both") is then the right verdict
            want_closer = {"fin": ("client", "both"), "half": ("client",), "rst": ("client",),
                           "passive": ("server",)}.get(mode)
            if want_closer and c["active_closer"] not in want_closer:
                problems.append("conn %d: client closed with %s, synack says closer %s"
                                % (c["id"], mode, c["active_closer"]))
    if golden:
        for ext, args in ((".txt", ["-r", pcap]), (".json", ["-r", pcap, "-o", "json", "--summary"])):
            want = open(os.path.join(d, name + ext)).read()
            got = conns_text if ext == ".json" else run(synack, args)
            if got != want:
                gl, wl = got.splitlines(), want.splitlines()
                diff = next((i for i in range(max(len(gl), len(wl)))
                             if i >= len(gl) or i >= len(wl) or gl[i] != wl[i]), None)
                problems.append("golden %s%s differs at line %s:\n  got:  %s\n  want: %s" % (
                    name, ext, diff + 1 if diff is not None else "?",
                    gl[diff] if diff is not None and diff < len(gl) else "(none)",
                    wl[diff] if diff is not None and diff < len(wl) else "(none)"))
    return problems


def main():
    synack, d = sys.argv[1], sys.argv[2]
    golden = "--no-golden" not in sys.argv
    names = sorted(f[:-3] for f in os.listdir(d) if f.endswith(".ss"))
    passed = failed = 0
    for name in names:
        problems = check(synack, d, name, golden)
        if problems:
            failed += 1
            print("FAIL %s" % name)
            for p in problems:
                print("  " + p)
        else:
            passed += 1
            print("ok   %s" % name)
    if passed + failed < 10:
        print("too few captures checked in %s (%d)" % (d, passed + failed))
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
