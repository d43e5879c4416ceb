#!/usr/bin/env python3
"""The HTML report in headless Chromium (DevTools protocol over a pipe, cdp.py): the page
loads without console errors, its ladder for captures/close-client.pcap has one arrow
per TCP segment in frame order, a second connection of captures/concurrent.pcap is
drawn when its row is clicked (and a third when its heading is opened), the table
sorts, and a screenshot is a real picture (kept as report-*.png in the build tree).

Without Chromium: exit 77 (skipped), except with CI=true, where that is a failure.

usage: browser_test.py SYNACK CAPTURES_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cdp  # noqa: E402

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
    if p.returncode != 0:
        raise SystemExit('synack %s: exit %d: %s' % (' '.join(args), p.returncode,
                                                     p.stderr.decode()))
    return p.stdout.decode()


def json_segments(synack, pcap):
    objs = [json.loads(l) for l in run(synack, '-r', pcap, '-o', 'json').splitlines() if l]
    conns = {o['id']: o for o in objs if o['type'] == 'conn'}
    segs = []
    for p in objs:
        if p['type'] == 'packet' and 'conn' in p:
            c = conns[p['conn']]
            segs.append((p['conn'], p['n'],
                         'c2s' if p['sport'] == c['client']['port'] and
                         p['src'] == c['client']['addr'] else 's2c', p['flags']))
    return segs


ARROWS = '''(function (sel) {
  return Array.prototype.map.call(document.querySelectorAll(sel), function (g) {
    return [Number(g.getAttribute('data-frame')), g.getAttribute('data-dir'),
            g.getAttribute('data-flags')];
  });
})(%s)'''


def arrows(page, sel):
    return [tuple(a) for a in page.eval(ARROWS % json.dumps(sel))]


def shot_dir():
    d = os.environ.get('SYNACK_BUILD')
    if d and os.path.isdir(d):
        d = os.path.join(d, 'tests', 'report')
        os.makedirs(d, exist_ok=True)
        return d
    return tempfile.gettempdir()


def check_png(png, name):
    path = os.path.join(shot_dir(), name)
    with open(path, 'wb') as f:
        f.write(png)
    w, h, distinct = cdp.png_info(png)
    check(w == 1280 and h >= 800, '%s: %dx%d' % (name, w, h))
    check(len(png) > 30000 and distinct > 64,
          '%s: a real picture (%d bytes, %d distinct byte values)' % (name, len(png), distinct))
    print('screenshot: %s' % path)


def close_client(browser, synack, captures, tmp):
    pcap = os.path.join(captures, 'close-client.pcap')
    html = os.path.join(tmp, 'close-client.html')
    run(synack, 'report', '-r', pcap, '--html', html)
    want = [s[1:] for s in json_segments(synack, pcap)]
    check(len(want) == 20, 'close-client: 20 TCP segments in JSON (%d)' % len(want))
    page = browser.new_page()
    page.navigate('file://' + html)
    check(page.eval('document.title').startswith('synack report'), 'page title')
    check(page.eval('document.querySelectorAll("svg.ladder").length') == 1, 'one ladder drawn')
    got = arrows(page, 'svg.ladder g.seg')
    check(got == want, 'close-client: one arrow per segment in frame order:\n got  %s\n want %s'
          % (got, want))
    check(page.eval('document.querySelectorAll("svg.tseq path.data").length') == 2,
          'time-sequence graph: data in both directions')
    check(page.eval('document.querySelectorAll("svg.states g.band").length') >= 10,
          'state timeline bands')
    # the drawings are laid out: the ladder has its size and its labels render
    box = page.eval('(function(){var r=document.querySelector("svg.ladder")'
                    '.getBoundingClientRect();return [r.width,r.height];})()')
    check(box[0] > 600 and box[1] > 20 * 25, 'ladder laid out at %s' % box)
    check_png(page.screenshot(width=1280, height=1800), 'report-close-client.png')


def concurrent(browser, synack, captures, tmp):
    pcap = os.path.join(captures, 'concurrent.pcap')
    html = os.path.join(tmp, 'concurrent.html')
    run(synack, 'report', '-r', pcap, '--html', html)
    segs = json_segments(synack, pcap)
    page = browser.new_page()
    page.navigate('file://' + html)
    n = lambda sel: page.eval('document.querySelectorAll(%s).length' % json.dumps(sel))
    check(n('#conns tbody tr') == 8, 'concurrent: 8 rows')
    check(n('svg.ladder') == 1 and n('#conn-1 svg.ladder') == 1,
          'only the first connection is drawn when the page opens')
    check(n('#conn-2 svg') == 0, 'connection 2 not drawn yet')
    # click the row of connection 2: its details open and its diagrams are inserted
    page.eval('document.querySelector("#conns tbody tr[data-conn=\'2\']").click()')
    check(page.eval('document.getElementById("conn-2").open') is True, 'row click opens #2')
    check(n('#conn-2 svg.ladder') == 1 and n('#conn-2 svg.tseq') == 1 and
          n('#conn-2 svg.states') == 1, 'row click draws connection 2')
    got = arrows(page, '#conn-2 svg.ladder g.seg')
    want = [s[1:] for s in segs if s[0] == 2]
    check(got == want, 'connection 2: one arrow per segment in frame order:\n got  %s\n want %s'
          % (got, want))
    # opening a heading (<summary>) draws too
    page.eval('document.querySelector("#conn-5 > summary").click()')
    page.eval('new Promise(function (r) { setTimeout(r, 50); })')
    check(n('#conn-5 svg.ladder') == 1, 'opening the heading draws connection 5')
    check(n('svg.ladder') == 3, 'three ladders drawn now (%d)' % n('svg.ladder'))
    # sorting by a numeric column, both ways
    col = page.eval('Array.prototype.findIndex.call(document.querySelectorAll("#conns th"),'
                    'function(t){return t.textContent.indexOf("bytes c")===0;})')
    vals = ('Array.prototype.map.call(document.querySelectorAll("#conns tbody tr"),'
            'function(r){return Number(r.cells[%d].textContent);})' % col)
    page.eval('document.querySelectorAll("#conns th")[%d].click()' % col)
    up = page.eval(vals)
    check(up == sorted(up), 'sort ascending: %s' % up)
    page.eval('document.querySelectorAll("#conns th")[%d].click()' % col)
    down = page.eval(vals)
    check(down == sorted(down, reverse=True), 'sort descending: %s' % down)
    page.eval('window.scrollTo(0, 0)')
    check_png(page.screenshot(width=1280, height=1000), 'report-concurrent.png')


def main():
    synack, captures = sys.argv[1], sys.argv[2]
    exe = cdp.find_chromium()
    if not exe:
        if os.environ.get('CI') == 'true':
            print('FAIL chromium is not installed (tools/lib.sh installs it); CI=true')
            return 1
        print('SKIP: no chromium (apt-get install chromium)')
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        with cdp.Browser(exe) as browser:
            close_client(browser, synack, captures, tmp)
            concurrent(browser, synack, captures, tmp)
            check(browser.errors == [], 'no console errors: %s' % browser.errors)
    print('%d passed, %d failed' % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
