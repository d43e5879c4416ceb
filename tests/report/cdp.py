"""cdp.py - drive headless Chromium through the DevTools protocol over a pipe
(--remote-debugging-pipe: JSON messages ending in NUL on file descriptors 3 and 4),
python3 standard library only.

    with Browser() as b:
        page = b.new_page()
        page.navigate('file:///tmp/report.html')
        page.eval('document.title')
        png = page.screenshot()
        b.errors            # console errors, uncaught exceptions, error log entries

find_chromium() names the browser, or None.  Every wait is bounded.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-default-apps', '--disable-extensions', '--mute-audio',
         '--hide-scrollbars', '--remote-debugging-pipe']


def find_chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'chrome'):
        p = shutil.which(name)
        if p:
            return p
    return None


class CDPError(Exception):
    pass


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.session = session

    def call(self, method, timeout=30, **params):
        return self.b.call(method, params, session=self.session, timeout=timeout)

    def navigate(self, url, timeout=30):
        self.b.events.clear()
        self.call('Page.navigate', url=url)
        self.b.wait_event('Page.loadEventFired', self.session, timeout)

    def eval(self, expr, timeout=30):
        r = self.call('Runtime.evaluate', expression=expr, returnByValue=True,
                      awaitPromise=True, timeout=timeout)
        if 'exceptionDetails' in r:
            raise CDPError('%s: %s' % (expr, r['exceptionDetails']))
        return r['result'].get('value')

    def screenshot(self, width=1280, height=1600, full=False):
        self.call('Emulation.setDeviceMetricsOverride', width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        args = {'format': 'png'}
        if full:
            h = self.eval('document.documentElement.scrollHeight')
            args['clip'] = {'x': 0, 'y': 0, 'width': width, 'height': min(h, 16000), 'scale': 1}
            args['captureBeyondViewport'] = True
        r = self.call('Page.captureScreenshot', **args)
        return base64.b64decode(r['data'])


class Browser:
    def __init__(self, exe=None, timeout=30):
        self.exe = exe or find_chromium()
        if not self.exe:
            raise CDPError('no chromium found')
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix='synack-chromium-')
        self.next_id = 0
        self.events = []
        self.errors = []
        self.buf = b''
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # The child gets the read end as fd 3 and the write end as fd 4.  Both are first
        # moved above 10 (either may be 3 or 4 already); dup2 clears close-on-exec.
        def setup():
            hi_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            hi_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)
            os.close(hi_r)
            os.close(hi_w)
        self.log = open(os.path.join(self.profile, 'stderr.log'), 'wb')
        self.proc = subprocess.Popen(
            [self.exe] + FLAGS + ['--user-data-dir=' + self.profile, 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            close_fds=False, preexec_fn=setup)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.call('Browser.close', {}, timeout=5)
            except Exception:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for fd in (self.to_chrome, self.from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def stderr_text(self):
        try:
            with open(os.path.join(self.profile, 'stderr.log'), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    # ---------------------------------------------------------------- protocol

    def _send(self, msg):
        data = json.dumps(msg).encode() + b'\0'
        while data:
            n = os.write(self.to_chrome, data)
            data = data[n:]

    def _read_one(self, deadline):
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError('timed out waiting for chromium')
            r, _, _ = select.select([self.from_chrome], [], [], left)
            if not r:
                continue
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise CDPError('chromium closed the pipe: ' + self.stderr_text()[-2000:])
            self.buf += chunk
        raw, self.buf = self.buf.split(b'\0', 1)
        msg = json.loads(raw)
        if 'method' in msg:
            self._note_event(msg)
        return msg

    def _note_event(self, msg):
        m, p = msg['method'], msg.get('params', {})
        if m == 'Runtime.exceptionThrown':
            d = p.get('exceptionDetails', {})
            self.errors.append('exception: %s %s' % (d.get('text'), d.get('exception', {}).get('description')))
        elif m == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
            self.errors.append('console.%s: %s' % (p['type'], [a.get('value', a.get('description')) for a in p.get('args', [])]))
        elif m == 'Log.entryAdded' and p.get('entry', {}).get('level') == 'error':
            self.errors.append('log: %s %s' % (p['entry'].get('text'), p['entry'].get('url', '')))
        self.events.append(msg)

    def call(self, method, params, session=None, timeout=None):
        self.next_id += 1
        mid = self.next_id
        msg = {'id': mid, 'method': method, 'params': params}
        if session:
            msg['sessionId'] = session
        self._send(msg)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            r = self._read_one(deadline)
            if r.get('id') == mid:
                if 'error' in r:
                    raise CDPError('%s: %s' % (method, r['error']))
                return r.get('result', {})

    def wait_event(self, method, session, timeout):
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e['method'] == method and e.get('sessionId') == session:
                return e
        while True:
            e = self._read_one(deadline)
            if e.get('method') == method and e.get('sessionId') == session:
                return e

    def new_page(self):
        t = self.call('Target.createTarget', {'url': 'about:blank'})
        s = self.call('Target.attachToTarget', {'targetId': t['targetId'], 'flatten': True})
        page = Page(self, s['sessionId'])
        for m in ('Page.enable', 'Runtime.enable', 'Log.enable'):
            page.call(m)
        return page


def png_info(data):
    """(width, height, distinct byte values in the decompressed image data) of a PNG."""
    import struct
    import zlib
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, w, h, idat = 8, 0, 0, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h = struct.unpack('>II', body[:8])
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    return w, h, len(set(raw))
