#!/usr/bin/env python3
"""verify_util.py - checks on `synack verify` outputs for tests/verify/*.sh.

  results JSON NAME=RESULT...        the NDJSON verdicts are these (NAME=RESULT; any name
                                     not listed must not be FAIL)
  shape JSON                         every NDJSON line has the documented fields
  junit XML SUITES TESTS FAILURES SKIPPED
                                     JUnit XML as CI systems read it (testsuites /
                                     testsuite / testcase / failure / skipped, their
                                     attributes, counts that add up)
  frames PCAP JSON CHECK KIND PORT   the frames CHECK cites prove KIND in PCAP (tshark)
  follow OURS TSHARK [EXPECT]        synack --follow output agrees with tshark's; EXPECT
                                     'close-client' also checks the exact bytes
  follow-all SYNACK PCAP...          the same for every connection of every PCAP
Each prints 'ok: ...' or 'FAIL: ...' lines and exits 1 on a failure.
"""
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

fails = []


def bad(msg):
    fails.append(msg)
    print("FAIL: " + msg)


def ok(msg):
    print("ok:   " + msg)


def load(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def checks_of(path):
    return {o["name"]: o for o in load(path) if o["type"] == "check"}


def cmd_results(path, *want):
    got = checks_of(path)
    exp = dict(w.split("=", 1) for w in want)
    for name, res in exp.items():
        if name not in got:
            bad("%s: no verdict for %s" % (path, name))
        elif got[name]["result"] != res:
            bad("%s is %s, want %s: %s" % (name, got[name]["result"], res, got[name]["reason"]))
    for name, o in got.items():
        if name not in exp and o["result"] == "FAIL":
            bad("%s FAILs unexpectedly: %s" % (name, o["reason"]))
    if not fails:
        ok("verdicts as expected: " + " ".join(want))


def cmd_shape(path):
    objs = load(path)
    if not objs or objs[-1].get("type") != "summary":
        bad("the last NDJSON object is not the summary")
    for o in objs[:-1]:
        if o.get("type") != "check":
            bad("unexpected object %r" % o)
            continue
        for k, t in (("server", str), ("name", str), ("result", str), ("reason", str),
                     ("frames", list)):
            if not isinstance(o.get(k), t):
                bad("check object without %s (%s): %r" % (k, t.__name__, o))
        if o.get("result") not in ("PASS", "FAIL", "INCONCLUSIVE"):
            bad("bad result %r" % o.get("result"))
        if not all(isinstance(f, int) and f > 0 for f in o.get("frames", [])):
            bad("frames must be positive integers: %r" % o.get("frames"))
    s = objs[-1]
    for k in ("servers", "checks", "pass", "fail", "inconclusive", "result", "exit", "by_server"):
        if k not in s:
            bad("summary without %s" % k)
    n = len(objs) - 1
    if s.get("checks") != n or s.get("pass", 0) + s.get("fail", 0) + s.get("inconclusive", 0) != n:
        bad("summary counts do not add up to the %d check objects: %r" % (n, s))
    if not fails:
        ok("NDJSON shape: %d check objects and a summary" % n)


def num(el, attr, kind=int):
    v = el.get(attr)
    if v is None:
        bad("<%s> without the %s attribute" % (el.tag, attr))
        return 0
    try:
        return kind(v)
    except ValueError:
        bad("<%s %s=%r> is not a number" % (el.tag, attr, v))
        return 0


def cmd_junit(path, suites, tests, failures, skipped):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        bad("%s is not well-formed XML: %s" % (path, e))
        return
    if root.tag != "testsuites":
        bad("root element is <%s>, not <testsuites>" % root.tag)
        return
    tot = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
    ss = root.findall("testsuite")
    if len(ss) != int(suites):
        bad("%d testsuites, want %s" % (len(ss), suites))
    for s in ss:
        if not s.get("name"):
            bad("<testsuite> without a name")
        cases = s.findall("testcase")
        n_fail = sum(1 for c in cases if c.find("failure") is not None)
        n_skip = sum(1 for c in cases if c.find("skipped") is not None)
        n_err = sum(1 for c in cases if c.find("error") is not None)
        for attr, want in (("tests", len(cases)), ("failures", n_fail), ("skipped", n_skip),
                           ("errors", n_err)):
            got = num(s, attr)
            if got != want:
                bad("testsuite %s: %s=%d but it holds %d" % (s.get("name"), attr, got, want))
            tot[attr] += want
        if num(s, "time", float) < 0:
            bad("testsuite %s: negative time" % s.get("name"))
        for c in cases:
            for attr in ("name", "classname"):
                if not c.get(attr):
                    bad("<testcase> without %s" % attr)
            num(c, "time", float)
            for child in c:
                if child.tag not in ("failure", "skipped", "error", "system-out", "system-err"):
                    bad("unexpected <%s> in a testcase" % child.tag)
            f = c.find("failure")
            if f is not None and (not f.get("message") or not f.get("type")):
                bad("testcase %s: <failure> without message or type" % c.get("name"))
            k = c.find("skipped")
            if k is not None and not k.get("message"):
                bad("testcase %s: <skipped> without a message" % c.get("name"))
            if f is not None and "frames" not in (f.text or "") and c.get("name") != "x":
                pass  # frames are given when the verdict has any
    for attr, want in (("tests", tests), ("failures", failures), ("skipped", skipped)):
        if num(root, attr) != int(want) or tot[attr] != int(want):
            bad("testsuites %s=%s (suites add up to %d), want %s" % (attr, root.get(attr),
                                                                    tot[attr], want))
    if num(root, "errors") != 0:
        bad("errors should be 0")
    num(root, "time", float)
    if not fails:
        ok("JUnit XML: %s testsuites, %s tests, %s failures, %s skipped" % (suites, tests,
                                                                         failures, skipped))


def tshark_frames(pcap):
    r = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-E", "separator=/t",
                        "-e", "frame.number", "-e", "frame.time_epoch", "-e", "tcp.stream",
                        "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags",
                        "-e", "tcp.len"], capture_output=True, text=True)
    if r.returncode != 0:
        bad("tshark cannot read %s: %s" % (pcap, r.stderr.strip()[:200]))
        return {}
    fr = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 7 or not f[2]:
            continue
        fr[int(f[0])] = {"t": float(f[1]), "stream": int(f[2]), "sport": int(f[3]),
                         "dport": int(f[4]), "flags": int(f[5], 16), "len": int(f[6])}
    return fr


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16


def cmd_frames(pcap, path, check, kind, port):
    port = int(port)
    v = checks_of(path).get(check)
    if not v:
        bad("no verdict for %s" % check)
        return
    fr = tshark_frames(pcap)
    cited = v["frames"]
    for n in cited:
        if n not in fr:
            bad("%s cites frame %d, not a TCP frame of %s" % (check, n, pcap))
            return
    F = [fr[n] for n in cited]
    srv = lambda f: f["sport"] == port
    cli = lambda f: f["dport"] == port
    if kind == "rst":  # graceful-close: the client's FIN, then the server's RST
        if not any(f["flags"] & RST and srv(f) for f in F):
            bad("no cited frame is a RST from the server: %r" % F)
        if not any(f["flags"] & FIN and cli(f) for f in F):
            bad("no cited frame is the client's FIN: %r" % F)
    elif kind == "close-wait":  # the client's FIN, acknowledged by the server, no server FIN
        fin = [f for f in F if f["flags"] & FIN and cli(f)]
        if not fin:
            bad("no cited frame is the client's FIN: %r" % F)
        elif not any(srv(f) and f["flags"] & ACK and f["stream"] == fin[0]["stream"] for f in F):
            bad("no cited frame is the server's ACK of that FIN")
        else:
            later = [n for n, f in fr.items() if f["stream"] == fin[0]["stream"] and srv(f) and
                     f["flags"] & FIN and f["t"] - fin[0]["t"] < 0.4]
            if later:
                bad("the server did send a FIN soon after (frames %r)" % later)
    elif kind == "first-1024":  # the client's data beyond 1024, the server's last echo
        c = [f for f in F if cli(f) and f["len"] > 0]
        s = [f for f in F if srv(f) and f["len"] > 0]
        if not c or not s:
            bad("want a client data frame and a server data frame: %r" % F)
        else:
            st = c[0]["stream"]
            back = sum(f["len"] for f in fr.values() if f["stream"] == st and srv(f))
            if back != 1024:
                bad("the server sent %d bytes back on that connection, not 1024" % back)
    elif kind == "one-at-a-time":  # a request, its late answer, the connection it waited for
        req = [f for f in F if cli(f) and f["len"] > 0]
        ans = [f for f in F if srv(f) and f["len"] > 0]
        end = [f for f in F if f["flags"] & (FIN | RST)]
        if not req or not ans or not end:
            bad("want a request, an answer and a FIN/RST among %r" % F)
        elif req[0]["stream"] != ans[0]["stream"] or end[0]["stream"] == req[0]["stream"]:
            bad("request and answer must share a connection, the FIN another one")
        elif not (ans[0]["t"] - req[0]["t"] > 0.25 and end[0]["t"] <= ans[0]["t"]):
            bad("the answer is not late, or not after the other connection ended")
    elif kind == "refused":  # a SYN answered by RST
        if not any(f["flags"] & SYN and not f["flags"] & ACK for f in F):
            bad("no cited frame is a SYN: %r" % F)
        if not any(f["flags"] & RST and srv(f) for f in F):
            bad("no cited frame is a RST from port %d: %r" % (port, F))
    elif kind == "no-echo":  # client data that never came back
        if not any(cli(f) and f["len"] > 0 for f in F):
            bad("no cited frame carries client data: %r" % F)
    else:
        bad("unknown kind " + kind)
    if not fails:
        ok("%s cites frames %r, and the capture shows %s there" % (check, cited, kind))


def parse_follow(path):
    """(header lines, [(dir, bytes or marker)])"""
    return parse_follow_bytes(open(path, "rb").read())


def parse_follow_bytes(data):
    lines = data.split(b"\n")
    head, i = [], 0
    while i < len(lines) and not re.match(rb"^\t?(\d+|\[)", lines[i]):
        head.append(lines[i])
        i += 1
    chunks = []
    rest = b"\n".join(lines[i:])
    pos = 0
    while pos < len(rest):
        if rest.startswith(b"====", pos):
            break
        d = 0
        if rest[pos:pos + 1] == b"\t":
            d, pos = 1, pos + 1
        nl = rest.index(b"\n", pos)
        word = rest[pos:nl]
        if word.startswith(b"["):
            chunks.append((d, word.decode()))
            pos = nl + 1
            continue
        n = int(word)
        chunks.append((d, rest[nl + 1:nl + 1 + n]))
        pos = nl + 1 + n + 1
    return head, chunks


def compare_follow(f1, f2, quiet=False):
    """True when synack's follow block f1 shows tshark's f2 (bytes of each)."""
    h1, c1 = parse_follow_bytes(f1)
    h2, c2 = parse_follow_bytes(f2)
    strip = lambda h: [l for l in h if not l.startswith(b"Filter:")]
    return strip(h1) == strip(h2) and [c for c in c1 if not isinstance(c[1], str)] == c2


def cmd_follow_all(synack, *pcaps):
    """--follow ID on every connection of every capture = tshark's stream ID-1; one
    tshark run per capture."""
    agree = 0
    marker = b"\n" + b"=" * 67 + b"\nFollow:"
    for c in pcaps:
        r = subprocess.run([synack, "-r", c, "--summary", "-o", "json"], capture_output=True,
                           text=True)
        n = sum(1 for l in r.stdout.splitlines() if '"type":"conn"' in l)
        if n == 0:
            continue
        args = ["tshark", "-r", c, "-q"]
        for i in range(n):
            args += ["-z", "follow,tcp,ascii,%d" % i]
        out = subprocess.run(args, capture_output=True).stdout
        blocks = {}
        starts = [m.start() for m in re.finditer(re.escape(marker), out)]
        for k, a in enumerate(starts):
            b = starts[k + 1] if k + 1 < len(starts) else len(out)
            m = re.search(rb"Filter: tcp.stream eq (\d+)", out[a:b])
            if m:
                blocks[int(m[1])] = out[a:b]
        for i in range(n):
            ours = subprocess.run([synack, "-r", c, "--follow", str(i + 1)],
                                  capture_output=True).stdout
            if i not in blocks:
                bad("%s: tshark printed no stream %d" % (c, i))
            elif not compare_follow(ours, blocks[i]):
                bad("%s --follow %d differs from tshark's stream %d" % (c, i + 1, i))
            else:
                agree += 1
    if agree < 20:
        bad("only %d connections compared" % agree)
    if not fails:
        ok("--follow ID equals tshark's follow,tcp,ascii,ID-1 on all %d connections" % agree)


def cmd_follow(ours, theirs, expect=None):
    h1, c1 = parse_follow(ours)
    h2, c2 = parse_follow(theirs)
    strip = lambda h: [l for l in h if not l.startswith(b"Filter:")]
    if strip(h1) != strip(h2):
        bad("headers differ: %r vs tshark %r" % (h1, h2))
    data1 = [c for c in c1 if not isinstance(c[1], str)]
    if data1 != c2:
        bad("chunks differ from tshark's (%d vs %d chunks)" % (len(data1), len(c2)))
    else:
        ok("%d chunks equal to tshark's follow,tcp,ascii (%d missing-byte markers besides)" %
           (len(c2), len(c1) - len(data1)))
    if expect == "close-client":
        alpha = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        msg = bytes(10 if p % 64 == 63 else alpha[(p // 64 + p % 64) % 62] for p in range(3200))
        sent = b"hello\nworld\n" + msg
        got = [b"".join(c[1] for c in c1 if c[0] == d) for d in (0, 1)]
        if got[0] != sent:
            bad("client bytes differ from what the lab client sent")
        elif got[1] != sent.upper():
            bad("server bytes are not the upper-cased echo")
        else:
            ok("exact bytes both ways: hello, world, the 3200-byte message and their echo")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"results": cmd_results, "shape": cmd_shape, "junit": cmd_junit, "frames": cmd_frames,
     "follow": cmd_follow, "follow-all": cmd_follow_all}[cmd](*args)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
