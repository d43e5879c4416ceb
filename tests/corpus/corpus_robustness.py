#!/usr/bin/env python3
"""corpus_robustness.py - synack reads hostile captures without crashing.

Every capture file in ../shared/corpora/tcpdump/malformed/ (fuzzed and malformed
packets from tcpdump's regression tests) and ../shared/corpora/libpcap/fileformat/
(savefiles libpcap must reject) is read by the synack of the build directory under
test (so the sanitizer build covers it) in three modes: text, -o json, and -v -e -X.

Each run must:
  - end with exit 0 or 2, never a signal or any other status;
  - print no sanitizer report ("AddressSanitizer", "runtime error:", ...);
  - with exit 2, print exactly one stderr line, "synack: <file>: <reason>";
  - with exit 0, print nothing on stderr;
  - with -o json and exit 0: every stdout line parses as a JSON object with a "type",
    the last one is "totals", and its packet count equals the number of "packet"
    objects;
  - give the same exit status in all three modes.

Environment: SYNACK_BUILD (build dir holding synack), SYNACK_SRC, SYNACK_SHARED.
"""
import concurrent.futures
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get('SYNACK_SRC') or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get('SYNACK_BUILD') or os.path.join(SRC, 'build')
SHARED = os.environ.get('SYNACK_SHARED') or os.path.join(SRC, '..', 'shared')
SYNACK = os.path.join(BUILD, 'synack')
DIRS = [os.path.join(SHARED, 'corpora', 'tcpdump', 'malformed'),
        os.path.join(SHARED, 'corpora', 'libpcap', 'fileformat')]
NOT_CAPTURES = ('.out', '.tsv', '.md', '.txt')
MIN_FILES = 250        # 288 + 6 today: the test must not pass on an empty directory
MIN_READ_OK = 150      # files synack decodes to the end (exit 0) in every mode
MODES = {'text': [], 'json': ['-o', 'json'], 'verbose': ['-v', '-e', '-X']}
SANITIZER_MARKS = ('AddressSanitizer', 'LeakSanitizer', 'UndefinedBehaviorSanitizer',
                   'runtime error:', 'MemorySanitizer', 'ThreadSanitizer')
TIMEOUT_S = 60


def run(path, mode):
    try:
        p = subprocess.run([SYNACK, '-r', path] + MODES[mode], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return path, mode, None, b'', b'timed out after %d s' % TIMEOUT_S
    return path, mode, p.returncode, p.stdout, p.stderr


def check(path, mode, rc, out, err):
    """Problems with one run, as a list of strings."""
    name = os.path.basename(path)
    errs = err.decode('utf-8', 'replace')
    probs = []
    if rc is None:
        return ['%s [%s]: %s (infinite loop?)' % (name, mode, errs)]
    if rc < 0:
        probs.append('%s [%s]: killed by signal %d' % (name, mode, -rc))
    elif rc not in (0, 2):
        probs.append('%s [%s]: exit status %d' % (name, mode, rc))
    for m in SANITIZER_MARKS:
        if m in errs:
            probs.append('%s [%s]: sanitizer report:\n%s' % (name, mode, errs[:6000]))
            return probs
    lines = errs.splitlines()
    if rc == 2:
        if len(lines) != 1 or not lines[0].startswith('synack: ') or path not in lines[0]:
            probs.append('%s [%s]: exit 2 wants one stderr line "synack: %s: ...", got %r'
                         % (name, mode, path, errs[:500]))
    elif rc == 0 and errs:
        probs.append('%s [%s]: exit 0 with stderr %r' % (name, mode, errs[:500]))
    if mode == 'json' and rc == 0:
        packets = 0
        last = None
        for i, line in enumerate(out.decode('utf-8', 'replace').splitlines(), 1):
            try:
                o = json.loads(line)
            except ValueError as e:
                probs.append('%s [json]: line %d does not parse (%s): %r'
                             % (name, i, e, line[:300]))
                break
            if not isinstance(o, dict) or 'type' not in o:
                probs.append('%s [json]: line %d has no "type": %r' % (name, i, line[:300]))
                break
            packets += o['type'] == 'packet'
            last = o
        else:
            if last is None or last.get('type') != 'totals':
                probs.append('%s [json]: last object is not "totals"' % name)
            elif last.get('packets') != packets:
                probs.append('%s [json]: totals.packets %r but %d packet objects'
                             % (name, last.get('packets'), packets))
    return probs


def main():
    if not os.access(SYNACK, os.X_OK):
        print('FAIL: no synack binary at %s (set SYNACK_BUILD)' % SYNACK)
        return 1
    files = []
    for d in DIRS:
        if not os.path.isdir(d):
            print('FAIL: corpus directory %s is missing' % d)
            return 1
        files += sorted(os.path.join(d, f) for f in os.listdir(d)
                        if not f.endswith(NOT_CAPTURES)
                        and os.path.isfile(os.path.join(d, f)))
    jobs = [(f, m) for f in files for m in MODES]
    workers = max(2, os.cpu_count() or 2)
    problems = []
    status = {}
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        for path, mode, rc, out, err in ex.map(lambda j: run(*j), jobs):
            problems += check(path, mode, rc, out, err)
            status.setdefault(path, {})[mode] = rc
    n_ok = 0
    n_rejected = 0
    for path, by_mode in sorted(status.items()):
        codes = set(by_mode.values())
        if len(codes) != 1:
            problems.append('%s: exit status differs between modes: %s'
                            % (os.path.basename(path), by_mode))
        elif codes == {0}:
            n_ok += 1
        elif codes == {2}:
            n_rejected += 1
    print('%d files x %d modes: %d read to the end, %d rejected with exit 2'
          % (len(files), len(MODES), n_ok, n_rejected))
    if len(files) < MIN_FILES:
        problems.append('only %d capture files found (floor %d)' % (len(files), MIN_FILES))
    if n_ok < MIN_READ_OK:
        problems.append('only %d files read with exit 0 (floor %d)' % (n_ok, MIN_READ_OK))
    if problems:
        print('FAIL: %d problem(s)' % len(problems))
        for p in problems:
            print('  ' + p)
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
