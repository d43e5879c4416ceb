#!/usr/bin/env python3
"""The connection log (-o conn) against the JSON connection records (-o json --summary)
for every capture in captures/: a header line, then one row per connection in the same
order, each column equal to its JSON counterpart (Zeek's unset '-' where JSON has null,
and for duration/orig_bytes/resp_bytes when the duration is 0, as Zeek does).

usage: conn_log_test.py SYNACK CAPTURES_DIR
"""
import csv
import glob
import io
import json
import os
import subprocess
import sys
import tempfile

COLUMNS = ('ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto duration orig_bytes '
           'resp_bytes conn_state missed_bytes history orig_pkts resp_pkts handshake '
           'rtt_syn_synack_ms rtt_synack_ack_ms close active_closer client_state server_state '
           'max_payload_orig mss_resp max_payload_resp mss_orig retransmits_orig '
           'retransmits_resp reused midstream').split()

failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL ' + msg)


def run(synack, *args):
    p = subprocess.run([synack] + list(args), capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def secs(ns):
    """ns as seconds with 6 decimals, truncated (microsecond resolution)."""
    us = ns // 1000
    return '%d.%06d' % (us // 1000000, us % 1000000)


def ms(ns):
    return '-' if ns is None else '%d.%06d' % (ns // 1000000, ns % 1000000)


def unset(v):
    return '-' if v is None or v == '' else str(v)


def expected_row(c):
    cl, sv = c['client'], c['server']
    dur = c['duration_ns']
    return {
        'ts': secs(c['first_ts_ns']),
        'uid': 'C%d' % c['id'],
        'id.orig_h': cl['addr'], 'id.orig_p': str(cl['port']),
        'id.resp_h': sv['addr'], 'id.resp_p': str(sv['port']),
        'proto': 'tcp',
        'duration': secs(dur) if dur > 0 else '-',
        'orig_bytes': str(cl['bytes']) if dur > 0 else '-',
        'resp_bytes': str(sv['bytes']) if dur > 0 else '-',
        'conn_state': c['conn_state'],
        'missed_bytes': str(cl['missed_bytes'] + sv['missed_bytes']),
        'history': unset(c['history']),
        'orig_pkts': str(cl['packets']), 'resp_pkts': str(sv['packets']),
        'handshake': c['handshake'],
        'rtt_syn_synack_ms': ms(c['rtt_syn_synack_ns']),
        'rtt_synack_ack_ms': ms(c['rtt_synack_ack_ns']),
        'close': c['close'],
        'active_closer': unset(c['active_closer']),
        'client_state': cl['state'], 'server_state': sv['state'],
        'max_payload_orig': str(cl['max_payload']), 'mss_resp': unset(sv['mss']),
        'max_payload_resp': str(sv['max_payload']), 'mss_orig': unset(cl['mss']),
        'retransmits_orig': str(cl['retransmits']), 'retransmits_resp': str(sv['retransmits']),
        'reused': 'T' if c['reused'] else 'F',
        'midstream': 'T' if c['midstream'] else 'F',
    }


def check_capture(synack, path):
    name = os.path.basename(path)
    rc, out, err = run(synack, '-r', path, '-o', 'conn')
    if rc != 0:
        fail('%s: -o conn exit %d: %s' % (name, rc, err.strip()))
        return 0
    lines = out.split('\n')
    if lines[-1] != '':
        fail('%s: output does not end in a newline' % name)
    lines = lines[:-1]
    if not lines or lines[0].split('\t') != COLUMNS:
        fail('%s: header is %r' % (name, lines[0] if lines else None))
        return 0
    for i, line in enumerate(lines):
        f = line.split('\t')
        if len(f) != len(COLUMNS):
            fail('%s: line %d has %d fields, not %d' % (name, i + 1, len(f), len(COLUMNS)))
        if any(x == '' for x in f):
            fail('%s: line %d has an empty field (unset must be "-")' % (name, i + 1))
    rows = list(csv.DictReader(io.StringIO(out), delimiter='\t'))
    rc, jout, err = run(synack, '-r', path, '-o', 'json', '--summary')
    if rc != 0:
        fail('%s: -o json --summary exit %d: %s' % (name, rc, err.strip()))
        return 0
    conns = [json.loads(l) for l in jout.splitlines() if l.strip()]
    conns = [c for c in conns if c.get('type') == 'conn']
    if len(rows) != len(conns):
        fail('%s: %d rows, %d JSON conn objects' % (name, len(rows), len(conns)))
        return 0
    for row, c in zip(rows, conns):
        exp = expected_row(c)
        for col in COLUMNS:
            if row[col] != exp[col]:
                fail('%s: connection %d column %s is %r, JSON says %r'
                     % (name, c['id'], col, row[col], exp[col]))
    return len(rows)


def check_misc(synack, tmp):
    # a capture with no packets at all: the header alone
    empty = os.path.join(tmp, 'empty.pcap')
    with open(empty, 'wb') as f:
        import struct
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    rc, out, err = run(synack, '-r', empty, '-o', 'conn')
    if rc != 0 or out != '\t'.join(COLUMNS) + '\n':
        fail('empty capture: exit %d, output %r' % (rc, out))
    # an unknown format names the formats, conn among them
    rc, out, err = run(synack, '-r', empty, '-o', 'tsv')
    if rc != 2 or not err.startswith('synack: ') or 'conn' not in err or err.count('\n') != 1:
        fail('-o tsv: exit %d, stderr %r' % (rc, err))


def main():
    synack, captures = sys.argv[1], sys.argv[2]
    pcaps = sorted(glob.glob(os.path.join(captures, '*.pcap')))
    if not pcaps:
        fail('no captures in ' + captures)
    total = 0
    for p in pcaps:
        total += check_capture(synack, p)
    with tempfile.TemporaryDirectory() as tmp:
        check_misc(synack, tmp)
    print('%d captures, %d connection rows compared with JSON' % (len(pcaps), total))
    if failures:
        print('0 passed, %d failed' % len(failures))
        return 1
    print('conn_log: all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
