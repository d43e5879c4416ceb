#!/usr/bin/env python3
"""source_reader.py - the mmap reader of classic pcap files gives exactly what libpcap gives.

synack reads a regular classic pcap file (2.4, µs or ns, either byte order) in place
through an mmap window and hands the rest of a file to libpcap at the first record it
is not sure about (src/source.c).  SYNACK_PCAP_READER=libpcap makes it read every file
with pcap_next_ex as before.  This test runs synack both ways on the same files and
compares exit status, stdout, stderr and the -w file byte for byte:

  * every classic pcap file under captures/ and ../shared/corpora/ (recursively; many
    are malformed on purpose), in four modes: -q -o json; -o json (packet objects:
    ts_ns, caplen, len); -e -v -X --nano -tt with -w (the dump holds every byte of
    every record); and a BPF filter (pcap_offline_filter against pcap_setfilter);
  * generated files: µs and ns magic in both byte orders, extreme stamps, files cut
    inside a record's data or header, caplen over the snaplen (first record or
    mid-file), caplen over len, caplen 0, snaplen 0 in the header, a 200 KiB record
    and a 300 KiB one (libpcap's error), versions 2.3 and 2.2, the Kuznetzov magic,
    SLL / SLL2 / NULL / RAW link types in both byte orders, a header-only file, records
    straddling the first window boundary (header or data), a file cut just past it,
    and a 40 MB mkpcap capture (many windows), whole and cut mid-record;
  * with strace installed: the mmap reader really maps a plain file, and does not with
    SYNACK_PCAP_READER=libpcap or for standard input;
  * peak RSS (plain build only): a ~1 GB regular file costs no more than a 100k-packet
    one plus a few MiB, and at most libpcap's reading plus two windows.

Environment: SYNACK_BUILD (build dir holding synack and mkpcap), SYNACK_SRC,
SYNACK_SHARED, SYNACK_SANITIZE.
"""
import concurrent.futures
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get('SYNACK_SRC') or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get('SYNACK_BUILD') or os.path.join(SRC, 'build')
SHARED = os.environ.get('SYNACK_SHARED') or os.path.join(SRC, '..', 'shared')
SYNACK = os.path.join(BUILD, 'synack')
MKPCAP = os.path.join(BUILD, 'mkpcap')
SANITIZE = os.environ.get('SYNACK_SANITIZE') == '1'
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(SRC, 'tests', 'cli'))
import pcapgen  # noqa: E402

WINDOW = 4 << 20  # MAP_WINDOW in src/source.c: the first window is [0, WINDOW)
CLASSIC = {b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d'}
FILTER = 'greater 120 or (tcp and tcp[13] & 2 != 0)'

failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg)


def ok(msg):
    print('ok:   ' + msg)


# ------------------------------------------------------------------------------------
# Running synack both ways

def env_for(reader):
    env = dict(os.environ, TZ='UTC')
    env.pop('SYNACK_PCAP_READER', None)
    if reader == 'libpcap':
        env['SYNACK_PCAP_READER'] = 'libpcap'
    return env


def run(reader, args, dump=None, stdin=None):
    """synack ARGS with the given reader: (exit, stdout, stderr, -w file bytes or None)."""
    if dump and os.path.exists(dump):
        os.unlink(dump)
    p = subprocess.run([SYNACK] + args, env=env_for(reader), input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    out = None
    if dump and os.path.exists(dump):
        with open(dump, 'rb') as f:
            out = f.read()
        os.unlink(dump)
    return p.returncode, p.stdout, p.stderr, out


def first_difference(a, b):
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            return 'line %d: mmap %r / libpcap %r' % (i, x[:200], y[:200])
    return '%d lines / %d lines' % (len(la), len(lb))


def compare(label, args, dump=None):
    """One file, one mode: None if both readers agree, else a description."""
    a = run('mmap', args, dump)
    b = run('libpcap', args, dump)
    if a == b:
        return None
    what = []
    if a[0] != b[0]:
        what.append('exit %d / %d' % (a[0], b[0]))
    for name, i in (('stdout', 1), ('stderr', 2)):
        if a[i] != b[i]:
            what.append('%s differs (%s)' % (name, first_difference(a[i], b[i])))
    if a[3] != b[3]:
        what.append('-w file differs (%s / %s bytes)' % (
            None if a[3] is None else len(a[3]), None if b[3] is None else len(b[3])))
    return '%s: synack %s: %s' % (label, ' '.join(args), '; '.join(what))


def modes(path, dump, heavy=True):
    """The runs of one file.  Under the sanitizers (a process start costs ~50 ms) the
    plain -q -o json run is left out: -o json ends with the same totals."""
    m = [['-r', path, '-q', '-o', 'json', FILTER]]
    if not heavy or not SANITIZE:
        m.append(['-r', path, '-q', '-o', 'json'])
    if heavy:
        m.append(['-r', path, '-o', 'json'])
        m.append(['-r', path, '-e', '-v', '-X', '--nano', '-tt', '-w', dump])
    else:
        m.append(['-r', path, '-q', '-w', dump])
    return m


def compare_files(files, tmp, heavy=True):
    """files: [(label, path)].  Runs every mode of every file, two at a time.
    Returns (cases run, failures found)."""
    jobs = []
    for i, (label, path) in enumerate(files):
        for args in modes(path, os.path.join(tmp, 'dump-%d.pcap' % i), heavy):
            dump = args[args.index('-w') + 1] if '-w' in args else None
            jobs.append((label, args, dump))
    bad = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for res in ex.map(lambda j: compare(*j), jobs):
            if res:
                bad += 1
                if bad <= 20:
                    fail(res)
    return len(jobs), bad


# ------------------------------------------------------------------------------------
# Generated captures

def header(magic=0xa1b2c3d4, end='<', snaplen=262144, linktype=1, version=(2, 4)):
    return struct.pack(end + 'IHHiIII', magic, version[0], version[1], 0, 0, snaplen,
                       linktype)


def record(sec, frac, data, end='<', caplen=None, wirelen=None):
    caplen = len(data) if caplen is None else caplen
    wirelen = len(data) if wirelen is None else wirelen
    return struct.pack(end + 'IIII', sec & 0xffffffff, frac & 0xffffffff, caplen,
                       wirelen) + data


def capture(frames, end='<', nsec=False, **hdr):
    magic = 0xa1b23c4d if nsec else 0xa1b2c3d4
    out = [header(magic, end, **hdr)]
    for i, (t_us, data) in enumerate(frames):
        sec, usec = divmod(t_us, 1000000)
        out.append(record(sec, usec * 1000 + i if nsec else usec, data, end))
    return b''.join(out)


def offsets(data, end='<', hdrlen=16):
    offs, off = [], 24
    while off + hdrlen <= len(data):
        offs.append(off)
        off += hdrlen + struct.unpack(end + 'I', data[off + 8:off + 12])[0]
    return offs


def sll(ip):
    return struct.pack('!HHH8sH', 0, 1, 6, b'\x02\0\0\0\0\x01\0\0', 0x0800) + ip


def sll2(ip):
    return struct.pack('!HHIHBB8s', 0x0800, 0, 2, 1, 0, 6, b'\x02\0\0\0\0\x01\0\0') + ip


def filler_to(frames, target, t0):
    """Records (t_us, frame) filling a file from offset 24 up to exactly target."""
    recs, off, i = [], 24, 0
    while True:
        left = target - off
        f = frames[i % len(frames)][1]
        if left < 16 + 2000:  # the last filler: pad a frame to land on target exactly
            pad = left - 16
            f = (f + b'\0' * pad)[:pad]
            recs.append((t0 + i, f))
            return recs
        recs.append((t0 + i, f))
        off += 16 + len(f)
        i += 1


def generated(tmp):
    c, _ = pcapgen.conversation_capture()
    frames = c.records
    ips = [d[14:] for _, d in frames if d[12:14] == b'\x08\x00']
    files = []

    def add(name, data):
        p = os.path.join(tmp, name + '.pcap')
        with open(p, 'wb') as f:
            f.write(data)
        files.append((name, p))
        return data

    for end, bo in (('<', 'le'), ('>', 'be')):
        for nsec in (False, True):
            base = add('conv-%s-%s' % ('ns' if nsec else 'us', bo),
                       capture(frames, end, nsec))
            offs = offsets(base, end)
            # cut inside a record's data, inside a header, right after a header, and
            # at a record boundary (a clean end)
            add('cut-data-%s-%s' % ('ns' if nsec else 'us', bo), base[:offs[4] + 16 + 30])
            add('cut-header-%s-%s' % ('ns' if nsec else 'us', bo), base[:offs[7] + 9])
            add('cut-after-header-%s' % bo, base[:offs[3] + 16])
            add('cut-clean-%s' % bo, base[:offs[6]])
            # stamps at the edges of 32 bits, fractions past one second
            magic = 0xa1b23c4d if nsec else 0xa1b2c3d4
            recs = [header(magic, end)]
            for k, (sec, frac) in enumerate([(0x7fffffff, 999999), (0x80000000, 1000000),
                                             (0xffffffff, 0xffffffff), (0, 0),
                                             (1700000000, 0x80000000), (5, 999999999)]):
                recs.append(record(sec, frac, frames[k][1], end))
            add('stamps-%s-%s' % ('ns' if nsec else 'us', bo), b''.join(recs))
        # caplen over the snaplen: from the first record, and mid-file
        add('snaplen-64-%s' % bo, capture(frames, end, snaplen=64))
        add('snaplen-100-%s' % bo, capture(frames, end, snaplen=100))
        add('snaplen-0-%s' % bo, capture(frames, end, snaplen=0))
        add('snaplen-huge-%s' % bo, capture(frames, end, snaplen=0x7fffffff))
        # caplen over len; len 0; caplen 0
        h = header(end=end)
        add('caplen-over-len-%s' % bo, h + b''.join(
            record(1700000000, k, d, end, wirelen=max(0, len(d) - 10 * k))
            for k, (_, d) in enumerate(frames)))
        add('caplen-0-%s' % bo, h + b''.join(
            record(1700000000, k, b'' if k % 3 == 0 else d, end, wirelen=len(d))
            for k, (_, d) in enumerate(frames)))
        # a 200 KiB record (taken) and a 300 KiB one (over libpcap's maximum)
        big = frames[5][1] + bytes(range(256)) * 800
        add('record-200k-%s' % bo, h + record(1700000000, 1, frames[0][1], end) +
            record(1700000000, 2, big, end) + record(1700000000, 3, frames[1][1], end))
        huge = frames[5][1] + b'\xa5' * (300 * 1024)
        add('record-300k-%s' % bo, h + record(1700000000, 1, frames[0][1], end) +
            record(1700000000, 2, huge, end) + record(1700000000, 3, frames[1][1], end))
        # versions 2.3 and 2.2 (libpcap may swap caplen and len), Kuznetzov's magic
        for v in ((2, 3), (2, 2), (2, 1)):
            add('version-%d.%d-%s' % (v[0], v[1], bo), header(end=end, version=v) + b''.join(
                record(1700000000, k, d, end, wirelen=len(d) + (k % 2) * 20)
                for k, (_, d) in enumerate(frames)))
        add('kuznetzov-%s' % bo, header(0xa1b2cd34, end) + b''.join(
            record(1700000000, k, d, end)[:16] + struct.pack(end + 'IHBB', 2, 0x0800, 0, 0)
            + d for k, (_, d) in enumerate(frames)))
        # other link types: SLL and SLL2 (libpcap swaps their pseudo-header in a file of
        # the other byte order), NULL, RAW (LINKTYPE_RAW 101), IPV4
        add('sll-%s' % bo, header(end=end, linktype=113) + b''.join(
            record(1700000000, k, sll(ip), end) for k, ip in enumerate(ips)))
        add('sll2-%s' % bo, header(end=end, linktype=276) + b''.join(
            record(1700000000, k, sll2(ip), end) for k, ip in enumerate(ips)))
        add('null-%s' % bo, header(end=end, linktype=0) + b''.join(
            record(1700000000, k, struct.pack(end + 'I', 2) + ip, end)
            for k, ip in enumerate(ips)))
        add('raw-%s' % bo, header(end=end, linktype=101) + b''.join(
            record(1700000000, k, ip, end) for k, ip in enumerate(ips)))
        add('ipv4-%s' % bo, header(end=end, linktype=228) + b''.join(
            record(1700000000, k, ip, end) for k, ip in enumerate(ips)))
        add('header-only-%s' % bo, header(end=end))
    # records straddling the end of the first window: the header, the data, exactly at
    # the boundary; a file cut 5 bytes past it (inside a header, in the second window)
    t0 = 1700000000 * 1000000
    for name, at in (('straddle-header', WINDOW - 8), ('straddle-data', WINDOW - 100),
                     ('straddle-none', WINDOW), ('straddle-page', WINDOW - 4096 - 3)):
        recs = filler_to(frames, at, t0) + [(t0 + 10**6 + k, d) for k, (_, d) in
                                              enumerate(frames)]
        add(name, capture(recs))
    recs = filler_to(frames, WINDOW, t0) + frames
    add('cut-past-window', capture(recs)[:WINDOW + 5])
    return files


def mkpcap_files(tmp):
    p = os.path.join(tmp, 'mkpcap-40m.pcap')
    subprocess.run([MKPCAP, '-q', '-n', '50000', '-c', '500', '--seed', '3', '-o', p],
                   check=True)
    with open(p, 'rb') as f:
        data = f.read()
    offs = offsets(data)
    k = next(i for i, o in enumerate(offs) if o > 3 * WINDOW + 12345)
    cut = os.path.join(tmp, 'mkpcap-cut.pcap')
    with open(cut, 'wb') as f:
        f.write(data[:offs[k] + 16 + 7])
    return [('mkpcap-40m', p), ('mkpcap-cut', cut)]


# ------------------------------------------------------------------------------------
# The mmap reader is really used (strace), and RSS stays flat

def file_maps(args, reader, size, stdin=None):
    """Does synack ARGS map a file's first window ("mmap(NULL, size, PROT_READ,
    MAP_PRIVATE, fd, 0)")?  None if strace cannot run here."""
    log = tempfile.mktemp(prefix='synack-strace-')
    try:
        p = subprocess.run(['strace', '-f', '-e', 'trace=mmap', '-o', log, SYNACK] + args,
                           env=env_for(reader), input=stdin, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120)
        if p.returncode != 0 or not os.path.exists(log):
            return None
        with open(log) as f:
            text = f.read()
    finally:
        if os.path.exists(log):
            os.unlink(log)
    return re.search(r'mmap\(NULL, %d, PROT_READ, MAP_PRIVATE, \d+, 0\)' % size,
                     text) is not None


def check_strace(files):
    if not shutil.which('strace'):
        ok('strace not installed: mapping not checked')
        return
    path = dict(files)['conv-us-le']
    size = os.path.getsize(path)
    with open(path, 'rb') as f:
        data = f.read()
    got = (file_maps(['-r', path, '-q'], 'mmap', size),
           file_maps(['-r', path, '-q'], 'libpcap', size),
           file_maps(['-r', '-', '-q'], 'mmap', size, stdin=data))
    if None in got:
        ok('strace cannot trace here: mapping not checked')
    elif got != (True, False, False):
        fail('file mapped (default, SYNACK_PCAP_READER=libpcap, stdin) = %r, want '
             '(True, False, False)' % (got,))
    else:
        ok('the file is mapped by default, not with SYNACK_PCAP_READER=libpcap nor '
           'from stdin')


def peak_rss(args, reader):
    """(exit, stdout, peak RSS in MiB) of synack ARGS.  The peak is the VmHWM of the
    child's own memory after exec, polled from /proc every few ms until it exits (its
    rusage would include the RSS of this Python process, inherited at fork)."""
    import time
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen([SYNACK] + args, env=env_for(reader), stdout=out)
        hwm = 0
        while p.poll() is None:
            try:
                with open('/proc/%d/status' % p.pid) as f:
                    for line in f:
                        if line.startswith('VmHWM:'):
                            hwm = max(hwm, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.003)
        out.seek(0)
        return p.returncode, out.read(), hwm / 1024.0


def check_rss(tmp):
    """The mmap reader's cost in peak RSS is two windows (the current one and the next,
    mapped ahead), whatever the file size: against
    libpcap reading the same file (synack's own tables grow with the connections seen),
    for a 100k-packet file and a ~1 GB one."""
    if SANITIZE:
        ok('sanitizer build: peak RSS is checked in the plain build only')
        return
    rss, totals = {}, {}
    for name, n in (('100k packets', 100000), ('1.2M packets', 1200000)):
        path = os.path.join(tmp, 'rss.pcap')
        subprocess.run([MKPCAP, '-q', '-n', str(n), '-c', '2000', '-o', path], check=True)
        size = os.path.getsize(path) / 1e9
        for reader in ('mmap', 'libpcap'):
            rc, out, rss[name, reader] = peak_rss(['-r', path, '-q', '-o', 'json'], reader)
            totals[name, reader] = (rc, out)
        os.unlink(path)
        if totals[name, 'mmap'] != totals[name, 'libpcap'] or totals[name, 'mmap'][0]:
            fail('%s (%.2f GB): exit %d / %d, or different totals'
                 % (name, size, totals[name, 'mmap'][0], totals[name, 'libpcap'][0]))
    extra = {name: rss[name, 'mmap'] - rss[name, 'libpcap'] for name, _ in rss}
    window = WINDOW / 2**20
    desc = ', '.join('%s: %.1f MiB (libpcap reading %.1f)' % (name, rss[name, 'mmap'],
                                                              rss[name, 'libpcap'])
                     for name in ('100k packets', '1.2M packets'))
    big = extra['1.2M packets']
    if big > 2 * window + 3 or big > extra['100k packets'] + 3 or \
            rss['1.2M packets', 'mmap'] > 64:
        fail('peak RSS: the mmap reader adds more than two %d MiB windows, or more for the '
             'larger file, or over 64 MiB: %s' % (window, desc))
    else:
        ok('peak RSS: the mmap reader adds at most two %d MiB windows, for 84 MB and for '
           '1 GB: %s' % (window, desc))


# ------------------------------------------------------------------------------------
def corpus_files():
    found = []
    for root in (os.path.join(SRC, 'captures'), os.path.join(SHARED, 'corpora')):
        for d, _, names in os.walk(root):
            for n in sorted(names):
                p = os.path.join(d, n)
                try:
                    with open(p, 'rb') as f:
                        magic = f.read(4)
                except OSError:
                    continue
                if magic in CLASSIC:
                    found.append((os.path.relpath(p, os.path.dirname(root)), p))
    return sorted(found)


# ------------------------------------------------------------------------------------
# A file cut shorter while synack reads it (mapped pages past the new end raise SIGBUS)

def wait_blocked_on_pipe(pid, timeout=20.0):
    """Wait until process pid sleeps in a write to a full pipe (its wchan says so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open('/proc/%d/wchan' % pid) as f:
                if 'pipe_write' in f.read():
                    return True
        except OSError:
            return False
        time.sleep(0.01)
    return False


def check_truncated_while_read(tmp, path):
    """synack prints packet lines into a pipe nobody reads, so it stops early in the file
    (a few hundred KB of output in its buffer and the pipe); the file is then cut to half
    and the pipe drained.  The reader must end with a one-line error naming the file and
    exit 2, not die of SIGBUS."""
    work = os.path.join(tmp, 'shrinking.pcap')
    shutil.copyfile(path, work)
    size = os.path.getsize(work)
    p = subprocess.Popen([SYNACK, '-r', work], env=env_for('mmap'), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    blocked = wait_blocked_on_pipe(p.pid)
    os.truncate(work, size // 2)
    out, err = p.communicate(timeout=120)
    err = err.decode(errors='replace')
    if not blocked:
        fail('truncated while read: synack never blocked on its output pipe')
    elif p.returncode == 2 and 'truncated while being read' in err and work in err and \
            err.count('\n') == 1:
        ok('a file cut to half while read: exit 2, one line: %s' % err.strip()[:100])
    else:
        fail('a file cut while read: exit %d, stderr %r' % (p.returncode, err[:300]))


def main():
    tmp = tempfile.mkdtemp(prefix='synack-source-')
    try:
        corpus = corpus_files()
        if len(corpus) < 10:
            fail('only %d classic pcap files found under captures/ and %s/corpora'
                 % (len(corpus), SHARED))
        n, bad = compare_files(corpus, tmp)
        if not bad:
            ok('%d classic pcap files of captures/ and corpora/: %d runs, the same exit, '
               'stdout, stderr and -w file both ways' % (len(corpus), n))
        gen = generated(tmp)
        n, bad = compare_files(gen, tmp)
        if not bad:
            ok('%d generated files (%s, ...): %d runs, the same both ways'
               % (len(gen), ', '.join(name for name, _ in gen[:6]), n))
        big = mkpcap_files(tmp)
        n, bad = compare_files(big, tmp, heavy=False)
        if not bad:
            ok('a 40 MB mkpcap capture, whole and cut mid-record in its 4th window: '
               '%d runs, the same both ways' % n)
        check_truncated_while_read(tmp, big[0][1])
        check_strace(gen)
        check_rss(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d passed, %d failed' % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
