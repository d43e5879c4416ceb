#!/usr/bin/env python3
"""cli_test.py GROUP - synack's command line: bad input, options, tcpdump compatibility.

Groups (one CTest test each):
  errors   bad input and bad options: exit 2 with one stderr line "synack: ..." naming
           the file, expression or option (usage text for an unknown option)
  options  -r - (stdin), -c, a filter, -o json
  tcpdump  packet lines against `tcpdump -nn -r` (the system tcpdump) for plain IPv4 and
           IPv6 TCP captures, up to synack's suffix
  time     -t -tt -ttt -tttt -ttttt time stamps against tcpdump's, TZ=UTC

Captures: a generated one (pcapgen.py, written to a temporary directory) and a few
plain TCP captures of ../shared/corpora/tcpdump/tcp/.

Environment: SYNACK_BUILD (build dir holding synack), SYNACK_SRC, SYNACK_SHARED.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import pcapgen  # noqa: E402

SRC = os.environ.get('SYNACK_SRC') or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get('SYNACK_BUILD') or os.path.join(SRC, 'build')
SHARED = os.environ.get('SYNACK_SHARED') or os.path.join(SRC, '..', 'shared')
SYNACK = os.path.join(BUILD, 'synack')
TCP_CORPUS = os.path.join(SHARED, 'corpora', 'tcpdump', 'tcp')
ENV = dict(os.environ, TZ='UTC')

# Plain TCP captures of the tcpdump corpus whose lines synack should print as tcpdump
# does (IPv4: print-flags, ssh, whois; IPv6: the BGP one and the GSO one).
TCPDUMP_CAPTURES = ['print-flags.pcap', 'ssh.pcap', 'whois.pcap',
                    'bgp-enhanced-route-refresh-subtype.pcapng', 'gso-ipv6.pcap']

PACKET_LINE = re.compile(r'^\d\d:\d\d:\d\d\.\d{6} ')
# synack's own suffix after tcpdump's "length N": anomaly names in brackets, then
# " #ID" and the connection notes.
SYNACK_SUFFIX = re.compile(r'( \[[a-z0-9_.]+(, [a-z0-9_.]+)*\])?( #\d+.*)?$')
# tcpdump's application-layer decode after "length N" (": HTTP: GET /", ": BGP", ...),
# which synack does not do.
TCPDUMP_APP = re.compile(r'(length \d+): .*$')

failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg)


def ok(msg):
    print('ok:   ' + msg)


def synack(*args, stdin=None):
    p = subprocess.run([SYNACK] + list(args), input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=60)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8',
                                                                                'replace')


def tcpdump(*args):
    p = subprocess.run(['tcpdump'] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=60)
    if p.returncode != 0:
        raise RuntimeError('tcpdump %s: exit %d: %s' % (' '.join(args), p.returncode,
                                                        p.stderr.decode()[-300:]))
    return p.stdout.decode('utf-8', 'replace')


def packet_lines(out):
    return [ln for ln in out.splitlines() if PACKET_LINE.match(ln)]


def expect_error(what, args, must_name, stdin=None, extra=None):
    """Exit 2, nothing on stdout, one stderr line "synack: ..." containing each string
    of must_name (a str or a list)."""
    rc, out, err = synack(*args, stdin=stdin)
    names = [must_name] if isinstance(must_name, str) else must_name
    lines = err.splitlines()
    problems = []
    if rc != 2:
        problems.append('exit %d, want 2' % rc)
    if len(lines) != 1 or not lines[0].startswith('synack: '):
        problems.append('stderr is not one "synack: " line: %r' % err[:400])
    for n in names:
        if n not in err:
            problems.append('stderr does not name %r: %r' % (n, err[:400]))
    if out:
        problems.append('stdout not empty: %r' % out[:200])
    if extra:
        problems += extra(rc, out, err)
    if problems:
        fail('%s (synack %s): %s' % (what, ' '.join(args), '; '.join(problems)))
    else:
        ok('%s -> %s' % (what, err.strip()))


def record_offsets(data):
    """Offsets of the records of a classic pcap file (either byte order)."""
    magic = data[:4]
    end = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    offs = []
    off = 24
    while off + 16 <= len(data):
        offs.append(off)
        off += 16 + struct.unpack(end + 'I', data[off + 8:off + 12])[0]
    return offs


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return path


# ------------------------------------------------------------------------------------
def group_errors(tmp, gen, gen_bytes, n_frames):
    expect_error('missing file', ['-r', os.path.join(tmp, 'no-such.pcap')],
                 os.path.join(tmp, 'no-such.pcap'))
    # Unreadable file: the tests run as root, who reads a chmod 000 file anyway, so the
    # case is checked only for other users; a directory stands in for it.
    if os.geteuid() != 0:
        p = write(os.path.join(tmp, 'unreadable.pcap'), gen_bytes)
        os.chmod(p, 0)
        expect_error('unreadable file', ['-r', p], [p, 'ermission'])
    d = os.path.join(tmp, 'a-directory')
    os.mkdir(d)
    expect_error('directory', ['-r', d], d)
    p = write(os.path.join(tmp, 'notes.txt'), b'this is text, not a capture\n' * 4)
    expect_error('text file', ['-r', p], p)
    p = write(os.path.join(tmp, 'empty.pcap'), b'')
    expect_error('empty file', ['-r', p], p)
    p = write(os.path.join(tmp, 'header-only.pcap'), gen_bytes[:10])
    expect_error('file shorter than a pcap header', ['-r', p], p)
    expect_error('text on stdin', ['-r', '-'], '(stdin)', stdin=b'not a capture\n')

    # Truncated mid-record: the packets before the cut are printed, then the error with
    # the count; inside the record data and inside a record header, of the generated
    # capture and of a real one.
    real = os.path.join(TCP_CORPUS, 'print-flags.pcap')
    with open(real, 'rb') as f:
        real_bytes = f.read()
    cases = []
    offs = record_offsets(gen_bytes)
    cases.append(('generated', gen_bytes, 5, offs[4] + 16 + 30, 'record data'))
    cases.append(('generated', gen_bytes, 8, offs[7] + 9, 'record header'))
    offs = record_offsets(real_bytes)
    cases.append(('print-flags.pcap', real_bytes, 6, offs[5] + 16 + 100, 'record data'))
    for label, data, k, cut_at, where in cases:
        p = write(os.path.join(tmp, 'cut-%s-%d.pcap' % (label, k)), data[:cut_at])
        read = k - 1
        for fmt in ('text', 'json'):
            rc, out, err = synack('-r', p, '-o', fmt)
            lines = err.splitlines()
            if fmt == 'text':
                got = len(packet_lines(out))
            else:
                got = sum(json.loads(ln)['type'] == 'packet' for ln in out.splitlines())
            probs = []
            if rc != 2:
                probs.append('exit %d, want 2' % rc)
            if got != read:
                probs.append('%d packets printed, want %d' % (got, read))
            if len(lines) != 1 or not lines[0].startswith('synack: ') or p not in err:
                probs.append('stderr is not one "synack: %s..." line: %r' % (p, err[:300]))
            if not re.search(r'\b%d packets?\b' % read, err):
                probs.append('stderr does not give the count %d: %r' % (read, err[:300]))
            if probs:
                fail('%s truncated in %s, -o %s: %s' % (label, where, fmt, '; '.join(probs)))
            else:
                ok('%s truncated in %s, -o %s: %d packets, then %s'
                   % (label, where, fmt, got, err.strip()))

    # Unsupported link type: 802.11 (105), one record.
    p = write(os.path.join(tmp, 'wifi.pcap'),
              pcapgen.pcap_header(pcapgen.DLT_IEEE802_11) +
              pcapgen.pcap_record(1700000000000000, b'\x80\x00' + b'\x00' * 22))
    expect_error('unsupported link type', ['-r', p], [p, 'unsupported link type', '105'])
    expect_error('unsupported link type on stdin', ['-r', '-'],
                 ['(stdin)', 'unsupported link type'], stdin=open(p, 'rb').read())

    expect_error('filter syntax error', ['-r', gen.path, 'tcp', 'port'], "'tcp port'")
    expect_error('filter unknown word', ['-r', gen.path, 'tcp and bogusword'],
                 "'tcp and bogusword'")
    expect_error('-o foo', ['-r', gen.path, '-o', 'foo'], ['-o', "'foo'"])
    expect_error('-c 0', ['-r', gen.path, '-c', '0'], ['-c', "'0'"])
    expect_error('-c abc', ['-r', gen.path, '-c', 'abc'], ['-c', "'abc'"])
    expect_error('-s too big', ['-r', gen.path, '-s', '9999999'], ['-s', "'9999999'"])
    expect_error('-t six times', ['-r', gen.path, '-tttttt'], '-t')
    expect_error('-r and -i', ['-r', gen.path, '-i', 'lo'], ['-r', '-i'])

    # Unknown options: exit 2, one line naming the option and pointing at --help,
    # nothing on stdout.
    for opt in ('--bogus-option', '-Q'):
        rc, out, err = synack('-r', gen.path, opt)
        probs = []
        if rc != 2:
            probs.append('exit %d, want 2' % rc)
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].startswith('synack: unknown option'):
            probs.append('stderr is not one "synack: unknown option" line')
        if '--help' not in err:
            probs.append('stderr does not point at --help')
        if opt.lstrip('-') not in err:
            probs.append('stderr does not name the option')
        if out:
            probs.append('stdout not empty')
        if probs:
            fail('unknown option %s: %s: %r' % (opt, '; '.join(probs), err[:300]))
        else:
            ok('unknown option %s -> exit 2, %s' % (opt, err.splitlines()[0]))


# ------------------------------------------------------------------------------------
def group_options(tmp, gen, gen_bytes, n_frames):
    n_all = len(gen.records)
    # -r - reads standard input, with the same output as reading the file.
    for fmt in ('text', 'json'):
        rc1, out1, err1 = synack('-r', gen.path, '-o', fmt)
        rc2, out2, err2 = synack('-r', '-', '-o', fmt, stdin=gen_bytes)
        if rc1 != 0 or rc2 != 0 or err1 or err2:
            fail('-r - (%s): exit %d/%d, stderr %r %r' % (fmt, rc1, rc2, err1, err2))
        elif out1 != out2:
            fail('-r - (%s): output differs from -r FILE' % fmt)
        elif not out1:
            fail('-r - (%s): no output' % fmt)
        else:
            ok('-r - (%s): same %d bytes as -r FILE' % (fmt, len(out1)))

    # -c 3: exactly three packets.
    rc, out, err = synack('-r', gen.path, '-c', '3')
    lines = packet_lines(out)
    if rc != 0 or len(lines) != 3:
        fail('-c 3: exit %d, %d packet lines: %r' % (rc, len(lines), out[:500]))
    else:
        ok('-c 3: 3 packet lines')
    rc, out, err = synack('-r', gen.path, '-c', '3', '-o', 'json')
    objs = [json.loads(ln) for ln in out.splitlines()]
    pk = [o for o in objs if o['type'] == 'packet']
    if rc != 0 or [o['n'] for o in pk] != [1, 2, 3] or objs[-1].get('packets') != 3:
        fail('-c 3 -o json: exit %d, packets %r, totals %r'
             % (rc, [o['n'] for o in pk], objs[-1] if objs else None))
    else:
        ok('-c 3 -o json: packets 1, 2, 3 and totals.packets 3')

    # A filter selects only the packets it names.
    rc, out, err = synack('-r', gen.path, '-o', 'json', 'tcp', 'port', '9999')
    objs = [json.loads(ln) for ln in out.splitlines()]
    pk = [o for o in objs if o['type'] == 'packet']
    bad = [o for o in pk if 9999 not in (o.get('sport'), o.get('dport'))]
    if rc != 0 or len(pk) != n_frames or bad or objs[-1].get('packets') != n_frames:
        fail('filter "tcp port 9999": exit %d, %d packets (want %d), %d not on port 9999'
             % (rc, len(pk), n_frames, len(bad)))
    else:
        ok('filter "tcp port 9999": %d packets, all on port 9999' % len(pk))
    rc, out, err = synack('-r', gen.path, 'tcp port 9999')
    if rc != 0 or len(packet_lines(out)) != n_frames or \
            any('.9999' not in ln for ln in packet_lines(out)):
        fail('filter "tcp port 9999" (text): exit %d, lines %r' % (rc, packet_lines(out)))
    else:
        ok('filter "tcp port 9999" (text): %d lines' % n_frames)
    rc, out, err = synack('-r', gen.path, 'tcp port 1')
    if rc != 0 or packet_lines(out):
        fail('filter "tcp port 1" matches nothing: exit %d, %r' % (rc, out[:300]))
    else:
        ok('filter "tcp port 1": no packet lines')

    # -o json: every line an object with a type; packets numbered 1..N; the decode of
    # the first frames; totals last.
    rc, out, err = synack('-r', gen.path, '-o', 'json')
    probs = []
    objs = []
    for i, ln in enumerate(out.splitlines(), 1):
        try:
            o = json.loads(ln)
        except ValueError as e:
            probs.append('line %d does not parse: %s' % (i, e))
            break
        if not isinstance(o, dict) or 'type' not in o:
            probs.append('line %d has no type' % i)
        objs.append(o)
    pk = [o for o in objs if o.get('type') == 'packet']
    types = {o.get('type') for o in objs}
    if rc != 0:
        probs.append('exit %d' % rc)
    if [o['n'] for o in pk] != list(range(1, n_all + 1)):
        probs.append('packet numbers %r' % [o['n'] for o in pk])
    if not {'packet', 'event', 'conn', 'totals'} <= types:
        probs.append('types seen %r' % sorted(types))
    if objs and (objs[-1].get('type') != 'totals' or objs[-1].get('packets') != n_all):
        probs.append('last object %r' % objs[-1])
    if pk:
        p1 = pk[0]
        want = {'src': '10.0.0.1', 'dst': '10.0.0.2', 'ip_version': 4, 'proto': 'tcp',
                'sport': 40000, 'dport': 33000, 'flags': 'SEC', 'seq': 1000000, 'ack': 0,
                'win': 64240, 'tcp_len': 0,
                'opts': {'mss': 1460, 'wscale': 7, 'sack_perm': True, 'ts': [100, 0]},
                'ts_ns': 1700000000001000000, 'ts': '2023-11-14T22:13:20.001000000Z'}
        for k, v in want.items():
            if p1.get(k) != v:
                probs.append('packet 1 %s = %r, want %r' % (k, p1.get(k), v))
        sack = [o for o in pk if 'sack' in o.get('opts', {})]
        if len(sack) != 1 or sack[0]['opts']['sack'] != [[3000002001, 3000003001]]:
            probs.append('SACK blocks %r' % [o['opts'] for o in sack])
        v6 = [o for o in pk if o.get('ip_version') == 6]
        if len(v6) != 6 or v6[-1].get('flags') != 'R' or v6[0].get('src') != '2001:db8::1':
            probs.append('IPv6 packets %r' % [(o.get('src'), o.get('flags')) for o in v6])
    if probs:
        fail('-o json: ' + '; '.join(probs))
    else:
        ok('-o json: %d lines parse, %d packets, types %s' % (len(objs), len(pk),
                                                              sorted(types)))


# ------------------------------------------------------------------------------------
def compare_lines(label, s_lines, t_lines):
    s_lines = [SYNACK_SUFFIX.sub('', ln) for ln in s_lines]
    t_lines = [TCPDUMP_APP.sub(r'\1', ln) for ln in t_lines]
    if len(s_lines) != len(t_lines):
        fail('%s: %d packet lines, tcpdump %d' % (label, len(s_lines), len(t_lines)))
        return
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(s_lines, t_lines), 1) if a != b]
    for i, a, b in bad[:5]:
        fail('%s line %d:\n        synack:  %s\n        tcpdump: %s' % (label, i, a, b))
    if not bad:
        ok('%s: %d lines as tcpdump prints them' % (label, len(s_lines)))


def group_tcpdump(tmp, gen, gen_bytes, n_frames):
    files = [('generated', gen.path)] + [(f, os.path.join(TCP_CORPUS, f))
                                         for f in TCPDUMP_CAPTURES]
    for label, path in files:
        if not os.path.exists(path):
            fail('%s: missing' % path)
            continue
        rc, out, err = synack('-r', path)
        if rc != 0:
            fail('%s: synack exit %d: %s' % (label, rc, err.strip()))
            continue
        compare_lines(label, packet_lines(out), tcpdump('-nn', '-r', path).splitlines())
    # -S: absolute sequence numbers, as tcpdump -S
    rc, out, err = synack('-r', gen.path, '-S')
    compare_lines('generated -S', packet_lines(out),
                  tcpdump('-nn', '-S', '-r', gen.path).splitlines())


# ------------------------------------------------------------------------------------
TIME_PREFIX = re.compile(r'^(.*?)IP6? ')


def group_time(tmp, gen, gen_bytes, n_frames):
    """The time stamp (everything before "IP " / "IP6 ") of every line, per -t option.
    The generated capture steps 2 s backwards once (a negative -ttt delta)."""
    for path in (gen.path, os.path.join(TCP_CORPUS, 'print-flags.pcap')):
        for opt in ('-t', '-tt', '-ttt', '-tttt', '-ttttt'):
            rc, out, err = synack('-r', path, opt)
            s_lines = [ln for ln in out.split('\n\n')[0].splitlines() if ' Flags [' in ln]
            t_lines = tcpdump('-nn', opt, '-r', path).splitlines()
            label = '%s %s' % (os.path.basename(path), opt)
            if rc != 0 or len(s_lines) != len(t_lines) or not s_lines:
                fail('%s: exit %d, %d lines, tcpdump %d' % (label, rc, len(s_lines),
                                                             len(t_lines)))
                continue
            bad = []
            for i, (a, b) in enumerate(zip(s_lines, t_lines), 1):
                ma, mb = TIME_PREFIX.match(a), TIME_PREFIX.match(b)
                if not ma or not mb or ma.group(1) != mb.group(1):
                    bad.append((i, ma and ma.group(1), mb and mb.group(1)))
            for i, a, b in bad[:3]:
                fail('%s line %d: synack %r, tcpdump %r' % (label, i, a, b))
            if not bad:
                ok('%s: %d stamps as tcpdump (first %r)'
                   % (label, len(s_lines), TIME_PREFIX.match(s_lines[0]).group(1)))


# ------------------------------------------------------------------------------------
def pcapng_block(btype, body):
    pad = (-len(body)) % 4
    n = 12 + len(body) + pad
    return struct.pack('<II', btype, n) + body + b'\0' * pad + struct.pack('<I', n)


def group_files(tmp, gen, gen_bytes, n_frames):
    """Hostile or odd capture files: each read to what it holds, with a clear verdict."""
    frames = [d for _, d in gen.records]
    # A record whose caplen exceeds the file's snaplen (but not 256 KiB): libpcap cuts
    # it to the snaplen; synack decodes what is there and exits 0.
    big = frames[3]  # a data segment
    data = pcapgen.pcap_header(snaplen=64) + pcapgen.pcap_record(1700000000000000, big)
    p = write(os.path.join(tmp, 'caplen-over-snaplen.pcap'), data)
    rc, out, err = synack('-r', p, '-o', 'json')
    pk = [json.loads(l) for l in out.splitlines() if '"type":"packet"' in l]
    if rc == 0 and len(pk) == 1 and pk[0]['caplen'] <= 64:
        ok('caplen above the file snaplen: cut to %d bytes, decoded, exit 0' % pk[0]['caplen'])
    else:
        fail('caplen above the file snaplen: exit %d, %r %s' % (rc, pk, err[:200]))
    # A record claiming more than 256 KiB: libpcap refuses it; say so, name the file.
    data = pcapgen.pcap_header() + struct.pack('<IIII', 1700000000, 0, 300000, 300000) + b'x' * 64
    p = write(os.path.join(tmp, 'caplen-huge.pcap'), data)
    rc, out, err = synack('-r', p, '-q')
    lines = err.splitlines()
    if (rc == 2 and len(lines) == 1 and p in lines[0] and '300000' in lines[0]
            and 'Totals: 0 packets' in out):
        ok('record above 256 KiB: totals of what was read, then %s' % lines[0])
    else:
        fail('record above 256 KiB: exit %d, stderr %r, stdout %r' % (rc, err, out[:120]))
    # pcapng with a block type nobody knows: skipped, as the format requires.
    shb = pcapng_block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
    idb = pcapng_block(1, struct.pack('<HHI', 1, 0, 262144))
    unknown = pcapng_block(0x0BADC0DE, b'synack test block')
    t = 1700000000 * 1000000
    epb = lambda d: pcapng_block(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff, len(d), len(d)) + d)
    p = write(os.path.join(tmp, 'unknown-block.pcapng'), shb + idb + epb(frames[0]) + unknown + epb(frames[1]))
    rc, out, err = synack('-r', p, '-o', 'json', '-q')
    tot = [json.loads(l) for l in out.splitlines() if '"type":"totals"' in l]
    if rc == 0 and tot and tot[0]['packets'] == 2:
        ok('pcapng with an unknown block type: skipped, 2 packets, exit 0')
    else:
        fail('pcapng unknown block: exit %d, %r %s' % (rc, tot, err[:200]))
    # /dev/null: no capture in it.
    expect_error('/dev/null', ['-r', '/dev/null'], '/dev/null')
    # A file still being written (what -w leaves mid-capture): whole records read, exit 0;
    # a record cut in the middle: what was read is reported, then the error, exit 2.
    offs = record_offsets(gen_bytes)
    p = write(os.path.join(tmp, 'growing.pcap'), gen_bytes[:offs[4]])
    rc, out, err = synack('-r', p, '-q', '-o', 'json')
    tot = [json.loads(l) for l in out.splitlines() if '"type":"totals"' in l]
    if rc == 0 and tot and tot[0]['packets'] == 4:
        ok('a file being written, cut between records: 4 packets, exit 0')
    else:
        fail('growing file: exit %d %r' % (rc, tot))



GROUPS = {'errors': group_errors, 'options': group_options, 'tcpdump': group_tcpdump,
          'time': group_time, 'files': group_files}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in GROUPS:
        print('usage: cli_test.py {%s}' % ','.join(GROUPS))
        return 2
    if not os.access(SYNACK, os.X_OK):
        print('FAIL: no synack binary at %s (set SYNACK_BUILD)' % SYNACK)
        return 1
    if sys.argv[1] in ('tcpdump', 'time') and not shutil.which('tcpdump'):
        print('FAIL: tcpdump is not installed (tools/test installs it)')
        return 1
    with tempfile.TemporaryDirectory(prefix='synack-cli-') as tmp:
        gen, n_frames = pcapgen.conversation_capture()
        gen.path = os.path.join(tmp, 'generated.pcap')
        gen.write(gen.path)
        with open(gen.path, 'rb') as f:
            gen_bytes = f.read()
        GROUPS[sys.argv[1]](tmp, gen, gen_bytes, n_frames)
    if failures:
        print('FAIL: %d check(s) failed' % len(failures))
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
