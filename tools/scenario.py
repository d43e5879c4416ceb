#!/usr/bin/env python3
"""tools/scenario.py - socket behaviours the lab programs do not produce on demand.

Used by tools/record-captures inside its private network namespace:
  scenario.py unread PORT        server closes with unread data (the kernel sends RST)
  scenario.py simultaneous PORT  both ends send FIN before seeing the other's
                                 (FINs held back by a temporary iptables INPUT drop)
Prints one line "ok ..." on success; exits 1 with a reason otherwise.
"""
import select
import socket
import subprocess
import sys


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def unread():
    srv = listener()
    port = srv.getsockname()[1]
    cli = socket.create_connection(("127.0.0.1", port))
    conn, _ = srv.accept()
    cli.sendall(b"data the server never reads\n")
    select.select([conn], [], [], 5)  # the data has arrived, unread
    conn.close()  # unread data: Linux answers with RST, not FIN (RFC 9293 3.10.4)
    try:
        cli.settimeout(5)
        got = cli.recv(100)
        return "fail: expected a reset, got %r" % got
    except ConnectionResetError:
        return "ok: client saw ECONNRESET"
    finally:
        cli.close()


def iptables(op, port):
    for rule in (["--dport", str(port)], ["--sport", str(port)]):
        subprocess.run(["iptables", op, "INPUT", "-p", "tcp"] + rule + ["-j", "DROP"],
                       check=True)


def simultaneous():
    srv = listener()
    port = srv.getsockname()[1]
    a = socket.create_connection(("127.0.0.1", port))
    b, _ = srv.accept()
    a.sendall(b"ping\n")
    b.recv(100)
    iptables("-A", port)  # FINs are captured on lo but not delivered
    a.shutdown(socket.SHUT_WR)
    b.shutdown(socket.SHUT_WR)
    iptables("-D", port)  # the retransmitted FINs cross
    for s in (a, b):
        s.settimeout(10)
        if s.recv(100) != b"":
            return "fail: expected EOF"
    a.close()
    b.close()
    return "ok: both sides closed"


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    fn = {"unread": unread, "simultaneous": simultaneous}.get(what)
    if not fn:
        print("usage: scenario.py unread|simultaneous", file=sys.stderr)
        return 2
    result = fn()
    print(result)
    return 0 if result.startswith("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
