#!/usr/bin/env python3
"""tshark_diff.py - differential test: synack's TCP header decode against tshark's.

For every capture in captures/*.pcap*, in ../shared/corpora/tcpdump/tcp/, and the
generated conversation of tests/cli/pcapgen.py (IPv4 + IPv6, handshake options, SACK,
URG, ECN flags) that synack reads (captures whose link type synack does not decode are skipped, after checking that
the link type synack names is indeed outside its list), every frame whose outermost
transport is TCP is compared field by field, matched by frame number:

    synack -o json            tshark -T fields
    sport, dport              tcp.srcport, tcp.dstport
    flags (FSRPAUEC letters)  tcp.flags & 0xff
    seq, ack (absolute)       tcp.seq_raw, tcp.ack_raw
    win (raw)                 tcp.window_size_value
    tcp_len                   tcp.len
    opts.mss                  tcp.options.mss_val
    opts.wscale               tcp.options.wscale.shift

tshark runs with IP defragmentation, TCP desegmentation and sequence analysis off, once
per file. A frame counts as "outermost TCP" when the first transport after the first
ip/ipv6 layer in frame.protocols (skipping IPv6 extension headers) is tcp: TCP inside
tunnels (VXLAN, Geneve, GRE, IP-in-IP, ICMP errors) is not compared, since synack
decodes the outer packet only.  A frame where synack decodes TCP and tshark's outermost
transport is not TCP is a mismatch too.

Agreement must be exact. The exceptions are listed in ALLOW below, by file and frame,
with the fields that differ and the reason; the test fails on any unlisted mismatch and
on any listed exception that no longer occurs (or occurs with other fields).  The list
was made with tshark 4.0.17 (Debian 12); another tshark may decode differently.

Environment: SYNACK_BUILD (build dir holding synack), SYNACK_SRC, SYNACK_SHARED.
"""
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get('SYNACK_SRC') or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get('SYNACK_BUILD') or os.path.join(SRC, 'build')
SHARED = os.environ.get('SYNACK_SHARED') or os.path.join(SRC, '..', 'shared')
SYNACK = os.path.join(BUILD, 'synack')
TCP_CORPUS = os.path.join(SHARED, 'corpora', 'tcpdump', 'tcp')

# Floors: the test must not pass by comparing nothing.  The tcpdump tcp/ corpus alone
# gives 118 readable captures and about 1590 outermost-TCP frames (tshark 4.0).
MIN_FILES = 100
MIN_FRAMES = 1400

# Link types synack decodes (pcap DLT values as libpcap reports them).
SUPPORTED_DLTS = {1: 'EN10MB', 113: 'LINUX_SLL', 276: 'LINUX_SLL2', 0: 'NULL', 108: 'LOOP',
                  12: 'RAW', 14: 'RAW (OpenBSD)', 228: 'IPV4', 229: 'IPV6'}

FIELDS = ['sport', 'dport', 'flags', 'seq', 'ack', 'win', 'tcp_len', 'mss', 'wscale']
TSHARK_FIELDS = ['frame.number', 'frame.protocols', 'tcp.srcport', 'tcp.dstport',
                 'tcp.flags', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.window_size_value',
                 'tcp.len', 'tcp.options.mss_val', 'tcp.options.wscale.shift']
TSHARK_PREFS = ['ip.defragment:FALSE', 'ipv6.defragment:FALSE',
                'tcp.desegment_tcp_streams:FALSE', 'tcp.analyze_sequence_numbers:FALSE',
                'tcp.relative_sequence_numbers:FALSE', 'tcp.calculate_timestamps:FALSE',
                'tcp.try_heuristic_first:FALSE']

# Mismatch kinds besides a set of differing fields:
SYNACK_NO_TCP = 'synack-no-tcp-fields'   # tshark decodes the TCP header, synack does not
TSHARK_NO_TCP = 'tshark-no-tcp-fields'   # synack decodes it, tshark has no TCP fields

_OPTS_CUT = ('TCP options cut short by the snapshot length: synack withholds every TCP '
             'field of a header it did not capture whole (tcp.truncated, by design), '
             'tshark shows the fixed header it has')
_FIRST_FRAG = ('first IPv4 fragment (MF set, offset 0): with ip.defragment off tshark '
               'gives no tcp.len; synack reports the bytes of this fragment after the '
               'TCP header, as tcpdump prints them')

# (corpus-relative file, frame) -> (fields that differ or a kind above, reason)
ALLOW = {
    ('tcpdump/tcp/beep-oobr.pcap', 2): (SYNACK_NO_TCP, _OPTS_CUT + ' (raw IPv6, doff 28, '
                                        '24 of 28 header bytes captured)'),
    ('tcpdump/tcp/heapoverflow-tcp_print.pcap', 1): (SYNACK_NO_TCP, _OPTS_CUT + ' (doff 60, '
                                                     '24 bytes captured)'),
    ('tcpdump/tcp/tcp-auth-heapoverflow.pcap', 1): (SYNACK_NO_TCP, _OPTS_CUT + ' (doff 52, '
                                                    '24 bytes captured)'),
    ('tcpdump/tcp/mptcp-dss-oobr.pcap', 1): (SYNACK_NO_TCP, _OPTS_CUT + ' (doff 40, 39 '
                                             'bytes captured: the MPTCP option is cut)'),
    ('tcpdump/tcp/bgp-bgp_capabilities_print-oobr-1.pcap', 1): (('tcp_len',), _FIRST_FRAG),
    ('tcpdump/tcp/bgp-bgp_capabilities_print-oobr-2.pcap', 1): (('tcp_len',), _FIRST_FRAG),
    ('tcpdump/tcp/bgp_pmsi_tunnel-oobr.pcap', 1): (('tcp_len',), _FIRST_FRAG),
    ('tcpdump/tcp/rpki-rtr-oobr.pcap', 1): (('tcp_len',), _FIRST_FRAG),
    ('tcpdump/tcp/bigtcp-ipv6.pcap', 1): (
        TSHARK_NO_TCP,
        'BIG TCP over IPv6 with payload length 0 and no jumbo option (Linux strips the '
        'hop-by-hop header before the capture point): synack takes the length from the '
        'frame, as for TSO; tshark 4.0 reports a malformed TCP (tcpdump 4.99 too)'),
}

ASAN_MARKS = ('AddressSanitizer', 'runtime error:', 'LeakSanitizer')
FLAG_LETTERS = 'FSRPAUEC'


def flag_bits(letters):
    return sum(1 << FLAG_LETTERS.index(c) for c in letters)


def outermost_transport(protocols):
    """First layer after the first ip/ipv6 one, IPv6 extension headers skipped."""
    layers = protocols.split(':')
    for i, p in enumerate(layers):
        if p in ('ip', 'ipv6'):
            for q in layers[i + 1:]:
                if not q.startswith('ipv6.'):
                    return q
            return None
    return None


def run_synack(path):
    p = subprocess.run([SYNACK, '-r', path, '-o', 'json'], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8',
                                                                                'replace')


def run_tshark(path):
    cmd = ['tshark', '-n', '-r', path, '-T', 'fields', '-E', 'separator=/t',
           '-E', 'occurrence=a', '-E', 'aggregator=,']
    for pref in TSHARK_PREFS:
        cmd += ['-o', pref]
    for f in TSHARK_FIELDS:
        cmd += ['-e', f]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8',
                                                                                'replace')


def check_file(name, path):
    """Returns (status, info): status 'skip' (unsupported link type), 'error' (info is a
    message), or 'ok' with info = (frames compared, {frame: (kind, detail)},
    tunnelled TCP frames skipped)."""
    rc, out, err = run_synack(path)
    if any(m in err for m in ASAN_MARKS):
        return 'error', 'sanitizer report from synack:\n' + err[:4000]
    if rc == 2 and 'unsupported link type' in err:
        m = re.search(r'unsupported link type .*\((\d+)\)', err)
        if not m:
            return 'error', 'unsupported link type without its number: ' + err.strip()
        dlt = int(m.group(1))
        if dlt in SUPPORTED_DLTS:
            return 'error', ('synack refuses link type %d (%s), which it should decode: %s'
                             % (dlt, SUPPORTED_DLTS[dlt], err.strip()))
        return 'skip', 'link type %d' % dlt
    if rc != 0:
        return 'error', 'synack exit %d: %s' % (rc, err.strip())
    pkts = {}
    n_objects = 0
    for ln, line in enumerate(out.splitlines(), 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            return 'error', 'synack JSON line %d does not parse (%s): %r' % (ln, e, line[:200])
        n_objects += 1
        if o.get('type') == 'packet':
            pkts[o['n']] = o
    trc, tout, terr = run_tshark(path)
    if trc != 0:
        return 'error', 'tshark exit %d: %s' % (trc, terr.strip()[-500:])
    rows = [r.split('\t') for r in tout.splitlines() if r]
    if len(rows) != len(pkts):
        return 'error', 'frame count differs: tshark %d, synack %d' % (len(rows), len(pkts))
    compared = 0
    tunnelled = 0
    mism = {}
    for r in rows:
        r += [''] * (len(TSHARK_FIELDS) - len(r))
        n = int(r[0])
        s = pkts.get(n)
        if s is None:
            return 'error', 'synack has no packet object for frame %d' % n
        s_tcp = s.get('proto') == 'tcp' and 'flags' in s
        outer = outermost_transport(r[1])
        if outer != 'tcp':
            if 'tcp' in r[1].split(':'):
                tunnelled += 1
            if s_tcp:
                mism[n] = (TSHARK_NO_TCP, 'tshark layers %s' % r[1])
            continue
        if not r[2]:
            if s_tcp:
                mism[n] = (TSHARK_NO_TCP, 'tshark layers %s, no tcp fields' % r[1])
            continue
        if not s_tcp:
            mism[n] = (SYNACK_NO_TCP, 'synack proto %s anomalies %s' %
                       (s.get('proto'), s.get('anomalies')))
            continue
        compared += 1
        if r[1].split(':').count('tcp') > 1:
            # TCP carried inside TCP: the first occurrence is the outer layer's, but
            # option values could belong to either; none in the corpus so far.
            mism[n] = (('layers',), 'more than one tcp layer: %s' % r[1])
            continue
        first = lambda v: v.split(',')[0]
        tsh = {
            'sport': first(r[2]), 'dport': first(r[3]),
            'flags': str(int(first(r[4]), 16) & 0xff) if r[4] else '',
            'seq': first(r[5]), 'ack': first(r[6]), 'win': first(r[7]),
            'tcp_len': first(r[8]),
            'mss': r[9], 'wscale': r[10],   # every occurrence: synack keeps one
        }
        opts = s.get('opts', {})
        syn = {
            'sport': str(s['sport']), 'dport': str(s['dport']),
            'flags': str(flag_bits(s['flags'])), 'seq': str(s['seq']), 'ack': str(s['ack']),
            'win': str(s['win']), 'tcp_len': str(s['tcp_len']),
            'mss': str(opts['mss']) if 'mss' in opts else '',
            'wscale': str(opts['wscale']) if 'wscale' in opts else '',
        }
        diff = tuple(f for f in FIELDS if syn[f] != tsh[f])
        if diff:
            mism[n] = (diff, ', '.join('%s synack=%r tshark=%r' % (f, syn[f], tsh[f])
                                       for f in diff))
    return 'ok', (compared, mism, tunnelled)


def main():
    if not os.access(SYNACK, os.X_OK):
        print('FAIL: no synack binary at %s (set SYNACK_BUILD)' % SYNACK)
        return 1
    if not shutil.which('tshark'):
        print('FAIL: tshark is not installed (tools/test installs it: apt-get install tshark)')
        return 1
    files = []
    for p in sorted(glob.glob(os.path.join(SRC, 'captures', '*.pcap*'))):
        files.append(('captures/' + os.path.basename(p), p))
    corpus = sorted(glob.glob(os.path.join(TCP_CORPUS, '*.pcap*')))
    if not corpus:
        print('FAIL: no captures in %s' % TCP_CORPUS)
        return 1
    for p in corpus:
        files.append(('tcpdump/tcp/' + os.path.basename(p), p))

    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'cli'))
    import pcapgen
    tmp = tempfile.TemporaryDirectory(prefix='synack-diff-')
    gen = os.path.join(tmp.name, 'conversation.pcap')
    pcapgen.conversation_capture()[0].write(gen)
    files.append(('generated/conversation.pcap', gen))

    jobs = max(2, os.cpu_count() or 2)
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        results = list(ex.map(lambda f: (f[0], check_file(f[0], f[1])), files))
    tmp.cleanup()

    failures = []
    seen_allowed = set()
    total = 0
    n_files = 0
    n_skipped = 0
    n_tunnelled = 0
    for name, (status, info) in results:
        if status == 'error':
            failures.append('%s: %s' % (name, info))
            continue
        if status == 'skip':
            n_skipped += 1
            continue
        compared, mism, tunnelled = info
        n_files += 1
        total += compared
        n_tunnelled += tunnelled
        for frame, (kind, detail) in sorted(mism.items()):
            key = (name, frame)
            allowed = ALLOW.get(key)
            if allowed is None:
                failures.append('%s frame %d: %s (%s)' % (name, frame,
                                                         kind if isinstance(kind, str)
                                                         else 'fields differ', detail))
            elif allowed[0] != kind:
                failures.append('%s frame %d: allowlisted as %s but now %s (%s)'
                                % (name, frame, allowed[0], kind, detail))
            else:
                seen_allowed.add(key)
    for key, (kind, reason) in sorted(ALLOW.items()):
        if key not in seen_allowed and not any(f.startswith('%s frame %d:' % key)
                                               for f in failures):
            failures.append('%s frame %d: allowlisted exception (%s) no longer occurs: '
                            'remove it from ALLOW' % (key[0], key[1], kind))

    print('compared %d outermost-TCP frames in %d captures (%d skipped for link type, '
          '%d tunnelled TCP frames not compared, %d allowlisted exceptions)'
          % (total, n_files, n_skipped, n_tunnelled, len(seen_allowed)))
    if n_files < MIN_FILES:
        failures.append('only %d captures compared (floor %d)' % (n_files, MIN_FILES))
    if total < MIN_FRAMES:
        failures.append('only %d frames compared (floor %d)' % (total, MIN_FRAMES))
    if failures:
        print('FAIL: %d problem(s)' % len(failures))
        for f in failures:
            print('  ' + f)
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
