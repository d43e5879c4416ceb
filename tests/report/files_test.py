#!/usr/bin/env python3
"""synack report without a browser: what the HTML page and the SVG files contain, that
they are self-contained, well-formed and escaped, the per-connection segment limit,
and the usage and input errors (exit 2, one 'synack: ...' line naming the culprit).

usage: files_test.py SYNACK CAPTURES_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get('SYNACK_SRC', os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(SRC, 'tests', 'cli'))
import pcapgen  # noqa: E402

SVG_NS = '{http://www.w3.org/2000/svg}'
failures = []
passed = 0


def check(cond, msg):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(msg)
        print('FAIL ' + msg)
    return cond


def run(synack, *args):
    p = subprocess.run([synack] + list(args), capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode('utf-8', 'replace')


def json_packets(synack, pcap):
    rc, out, err = run(synack, '-r', pcap, '-o', 'json')
    objs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    pkts = [o for o in objs if o['type'] == 'packet' and 'flags' in o]
    conns = {o['id']: o for o in objs if o['type'] == 'conn'}
    return pkts, conns


def svgs_in(html):
    """Every <svg>...</svg> in the page, inline or inside the lazy <script> elements."""
    return re.findall(r'<svg\b.*?</svg>', html, re.S)


def seg_groups(svg_text):
    root = ET.fromstring(svg_text)
    return [g for g in root.iter(SVG_NS + 'g') if g.get('class') == 'seg']


def check_close_client(synack, captures, tmp):
    pcap = os.path.join(captures, 'close-client.pcap')
    html = os.path.join(tmp, 'cc.html')
    svgdir = os.path.join(tmp, 'svg')
    rc, out, err = run(synack, 'report', '-r', pcap, '--html', html, '--svg', svgdir)
    if not check(rc == 0, 'report close-client: exit %d %s' % (rc, err)):
        return
    check(err == '', 'report close-client: stderr %r' % err)
    check(b'1 connection, 20 packets' in out, 'report says what it wrote: %r' % out)
    pkts, conns = json_packets(synack, pcap)
    client_port = conns[1]['client']['port']
    want = [(p['n'], 'c2s' if p['sport'] == client_port else 's2c', p['flags']) for p in pkts]
    check(len(want) == 20, 'close-client has 20 TCP segments (JSON says %d)' % len(want))
    for kind in ('ladder', 'tseq', 'states'):
        path = os.path.join(svgdir, 'conn-1-%s.svg' % kind)
        if not check(os.path.isfile(path), '%s written' % path):
            continue
        with open(path, 'rb') as f:
            data = f.read()
        check(data.startswith(b'<?xml'), '%s: XML declaration' % path)
        try:
            root = ET.fromstring(data)
            check(root.tag == SVG_NS + 'svg', '%s: root is <svg>' % path)
            check(root.get('class') == kind, '%s: class %s' % (path, kind))
        except ET.ParseError as e:
            check(False, '%s: not well-formed: %s' % (path, e))
    with open(os.path.join(svgdir, 'conn-1-ladder.svg'), 'rb') as f:
        got = [(int(g.get('data-frame')), g.get('data-dir'), g.get('data-flags'))
               for g in seg_groups(f.read())]
    check(got == want, 'ladder SVG: one arrow per segment in frame order with dir and flags:'
          '\n got  %s\n want %s' % (got, want))
    states = ET.parse(os.path.join(svgdir, 'conn-1-states.svg')).getroot()
    bands = [(g.get('data-endpoint'), g.get('data-state')) for g in states.iter(SVG_NS + 'g')
             if g.get('class') == 'band']
    check([s for e, s in bands if e == 'client'] ==
          ['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'TIME_WAIT'],
          'state timeline: client CLOSED..TIME_WAIT: %s' % bands)
    check([s for e, s in bands if e == 'server'] ==
          ['LISTEN', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED'],
          'state timeline: server LISTEN..CLOSED: %s' % bands)

    with open(html, 'rb') as f:
        page = f.read().decode('utf-8')
    check(page.startswith('<!DOCTYPE html>'), 'page is HTML5')
    # self-contained: nothing to fetch
    for bad in ('<link', ' src=', '@import', 'https://', 'url(http'):
        check(bad not in page, 'page is self-contained: no %r' % bad)
    check(re.findall(r'http://[^"\s]*', page) == ['http://www.w3.org/2000/svg'] * len(
        re.findall(r'http://[^"\s]*', page)), 'only the SVG namespace as a URL')
    svgs = svgs_in(page)
    check(len(svgs) == 3, 'page: three drawings for one connection (%d)' % len(svgs))
    for s in svgs:
        try:
            ET.fromstring(s)
        except ET.ParseError as e:
            check(False, 'inline SVG not well-formed: %s' % e)
    got = [(int(g.get('data-frame')), g.get('data-dir'), g.get('data-flags'))
           for g in seg_groups(svgs[0])]
    check(got == want, 'page ladder: arrows in frame order')
    check('id="conns"' in page and page.count('<tr data-conn=') == 1, 'summary table, one row')


def check_lazy(synack, captures, tmp):
    pcap = os.path.join(captures, 'concurrent.pcap')
    html = os.path.join(tmp, 'conc.html')
    rc, out, err = run(synack, 'report', '-r', pcap, '--html', html)
    if not check(rc == 0, 'report concurrent: exit %d %s' % (rc, err)):
        return
    with open(html, encoding='utf-8') as f:
        page = f.read()
    check(page.count('<tr data-conn=') == 8, 'concurrent: 8 table rows')
    lazy = re.findall(r'<script type="text/html" id="svg-(\d+)">(.*?)</script>', page, re.S)
    check([int(i) for i, _ in lazy] == list(range(2, 9)),
          'connections 2..8 wait in inert script elements: %s' % [i for i, _ in lazy])
    first = page.split('<script type="text/html"', 1)[0]
    check(len(svgs_in(first)) == 3, 'only the first connection is drawn inline')
    pkts, conns = json_packets(synack, pcap)
    for cid, body in lazy:
        svgs = svgs_in(body)
        if not check(len(svgs) == 3, 'connection %s: three drawings' % cid):
            continue
        frames = [int(g.get('data-frame')) for g in seg_groups(svgs[0])]
        check(frames == [p['n'] for p in pkts if p.get('conn') == int(cid)],
              'connection %s: one arrow per segment in frame order' % cid)
    # --conn: one connection only
    rc, out, err = run(synack, 'report', '-r', pcap, '--html', '-', '--conn', '3')
    page = out.decode()
    check(rc == 0 and page.count('<tr data-conn=') == 1 and 'id="conn-3"' in page,
          '--conn 3 --html -: only connection 3, on stdout')


def check_limit(synack, captures, tmp):
    pcap = os.path.join(captures, 'close-client.pcap')
    svgdir = os.path.join(tmp, 'lim')
    html = os.path.join(tmp, 'lim.html')
    rc, out, err = run(synack, 'report', '-r', pcap, '--html', html, '--svg', svgdir,
                       '--max-segments', '5')
    if not check(rc == 0, '--max-segments 5: exit %d %s' % (rc, err)):
        return
    with open(os.path.join(svgdir, 'conn-1-ladder.svg'), 'rb') as f:
        data = f.read()
    check([int(g.get('data-frame')) for g in seg_groups(data)] == [1, 2, 3, 4, 5],
          '--max-segments 5: five arrows')
    check(b'15 more segments not drawn' in data, '--max-segments 5: the ladder says 15 more')
    with open(html, encoding='utf-8') as f:
        page = f.read()
    check('15 more were left out' in page, '--max-segments 5: the page says so')


def check_escaping(synack, tmp):
    c = pcapgen.Capture()
    a, b = '10.0.0.1', '10.0.0.2'
    evil = b'<script>alert("x")</script>&\'\x00\xff'
    c.tcp(a, b, 40000, 80, 100, 0, pcapgen.TCP_SYN, 64240, pcapgen.opt_mss(1460))
    c.tcp(b, a, 80, 40000, 900, 101, pcapgen.TCP_SYN | pcapgen.TCP_ACK, 65160,
          pcapgen.opt_mss(1460))
    c.tcp(a, b, 40000, 80, 101, 901, pcapgen.TCP_ACK, 502)
    c.tcp(a, b, 40000, 80, 101, 901, pcapgen.TCP_ACK | pcapgen.TCP_PSH, 502, b'', evil)
    c.tcp(b, a, 80, 40000, 901, 101 + len(evil), pcapgen.TCP_ACK, 509)
    name = os.path.join(tmp.encode(), b'a<b>&"q\'\xe9.pcap')
    with open(name, 'wb') as f:
        f.write(c.bytes())
    html = os.path.join(tmp, 'esc.html')
    svgdir = os.path.join(tmp, 'esc')
    p = subprocess.run([synack.encode(), b'report', b'-r', name, b'--html', html.encode(),
                        b'--svg', svgdir.encode()], capture_output=True, timeout=60)
    if not check(p.returncode == 0, 'escaping capture: exit %d %s' % (p.returncode, p.stderr)):
        return
    with open(html, 'rb') as f:
        raw = f.read()
    try:
        page = raw.decode('utf-8')
    except UnicodeDecodeError as e:
        check(False, 'page is valid UTF-8 even with a Latin-1 file name: %s' % e)
        page = raw.decode('utf-8', 'replace')
    check('<script>alert' not in page, 'payload preview escaped in the page')
    check('&quot;&lt;script&gt;alert(' in page, 'payload preview shown as text')
    check('a&lt;b&gt;&amp;&quot;q&#39;?.pcap' in page, 'file name escaped in the page')
    check('a<b>' not in page, 'no raw file name in the page')
    for s in svgs_in(page):
        try:
            ET.fromstring(s)
        except ET.ParseError as e:
            check(False, 'SVG with hostile payload not well-formed: %s' % e)
    for fn in os.listdir(svgdir):
        try:
            ET.parse(os.path.join(svgdir, fn))
        except ET.ParseError as e:
            check(False, '%s not well-formed: %s' % (fn, e))


def check_timer(synack, tmp):
    """A state change no packet caused (TIME_WAIT expiring after 2*MSL) gets a row of its
    own in the ladder and a band in the timeline."""
    c = pcapgen.Capture()
    a, b = '10.0.0.1', '10.0.0.2'
    A, F, S = pcapgen.TCP_ACK, pcapgen.TCP_FIN, pcapgen.TCP_SYN
    c.tcp(a, b, 40000, 80, 100, 0, S, 64240)
    c.tcp(b, a, 80, 40000, 900, 101, S | A, 65160)
    c.tcp(a, b, 40000, 80, 101, 901, A, 502)
    c.tcp(a, b, 40000, 80, 101, 901, F | A, 502)
    c.tcp(b, a, 80, 40000, 901, 102, F | A, 509)
    c.tcp(a, b, 40000, 80, 102, 902, A, 502)
    # another connection 5 s later moves the clock past 2*MSL (--msl 1)
    c.tcp(a, b, 40001, 80, 5000, 0, S, 64240, dt_us=5000000)
    pcap = os.path.join(tmp, 'timer.pcap')
    c.write(pcap)
    svgdir = os.path.join(tmp, 'timer')
    rc, out, err = run(synack, 'report', '-r', pcap, '--svg', svgdir, '--msl', '1')
    if not check(rc == 0, 'timer capture: exit %d %s' % (rc, err)):
        return
    with open(os.path.join(svgdir, 'conn-1-ladder.svg'), encoding='utf-8') as f:
        ladder = f.read()
    check('MSL timer expired' in ladder, 'ladder: a row for the 2*MSL timer')
    check(len(seg_groups(ladder)) == 6, 'ladder: six arrows, the timer row is not one')
    states = ET.parse(os.path.join(svgdir, 'conn-1-states.svg')).getroot()
    client = [g.get('data-state') for g in states.iter(SVG_NS + 'g')
              if g.get('class') == 'band' and g.get('data-endpoint') == 'client']
    check(client[-2:] == ['TIME_WAIT', 'CLOSED'], 'timeline: client TIME_WAIT then CLOSED: %s'
          % client)


def check_errors(synack, captures, tmp):
    pcap = os.path.join(captures, 'close-client.pcap')
    missing = os.path.join(tmp, 'no-such.pcap')
    notdir = os.path.join(tmp, 'plainfile')
    with open(notdir, 'w') as f:
        f.write('x')
    out_html = os.path.join(tmp, 'never.html')
    cases = [
        (['report', '--html', out_html], '-r FILE'),
        (['report', '-r', pcap], '--html'),
        (['report', '-r', missing, '--html', out_html], missing),
        (['report', '-r', pcap, '--html', os.path.join(tmp, 'nodir', 'x.html')],
         os.path.join(tmp, 'nodir', 'x.html')),
        (['report', '-r', pcap, '--svg', notdir], notdir),
        (['report', '-r', pcap, '--html', out_html, '--max-segments', '0'], '--max-segments'),
        (['report', '-r', pcap, '--html', out_html, '--max-segments', 'many'], '--max-segments'),
        (['report', '-r', pcap, '--html', out_html, '--bogus'], '--bogus'),
        (['report', '-r', pcap, '--html'], '--html'),
        (['report', '-r', pcap, '--html', out_html, 'tcp port'], 'tcp port'),
        (['report', '-r', pcap, '--html', '/dev/full'], '/dev/full'),
    ]
    for args, needle in cases:
        rc, out, err = run(synack, *args)
        what = 'synack ' + ' '.join(args)
        check(rc == 2, '%s: exit %d, not 2' % (what, rc))
        check(err.startswith('synack: ') and err.count('\n') == 1,
              '%s: one "synack: ..." line on stderr: %r' % (what, err))
        check(needle in err, '%s: stderr names %r: %r' % (what, needle, err))
    check(not os.path.exists(out_html), 'no report is left behind by a failed run')
    rc, out, err = run(synack, 'report', '--help')
    check(rc == 0 and b'--max-segments' in out, 'report --help')


def main():
    synack, captures = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        check_close_client(synack, captures, tmp)
        check_lazy(synack, captures, tmp)
        check_limit(synack, captures, tmp)
        check_escaping(synack, tmp)
        check_timer(synack, tmp)
        check_errors(synack, captures, tmp)
    print('%d passed, %d failed' % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
