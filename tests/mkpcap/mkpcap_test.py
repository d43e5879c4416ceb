#!/usr/bin/env python3
"""mkpcap_test.py GROUP - the synthetic capture generator (tools/mkpcap.c) and synack on its output.

Groups (one CTest test each):
  determinism  same options give the same bytes (file and stdout alike), another seed
               other bytes, -n N is a prefix of a larger -n; bad options exit 2
  tshark       tshark (checksums verified) reads small generated captures of each mode
               with no malformed packet, no bad checksum, no tcp.analysis flag, and no
               expert entry other than the connection open/close/reset ones
  synack       synack -o json --summary finds exactly the connections mkpcap reports
               (--complete: SF for FIN closes, RSTO/RSTR for RST closes, REJ for refused),
               none with retransmissions, losses or anomalies; collide mode likewise
  synflood     --with-real: the real connection is tracked to SF among unanswered SYNs,
               also when a small --max-conns forces evictions

Environment: SYNACK_BUILD (build dir holding synack and mkpcap), SYNACK_SRC.
"""
import collections
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
SYNACK = os.path.join(BUILD, 'synack')
MKPCAP = os.path.join(BUILD, 'mkpcap')
ENV = dict(os.environ, TZ='UTC')

# Expert entries tshark attaches to every well-formed open, close and reset.
EXPERT_ALLOWED = re.compile(r'^(Connection establish request \(SYN\)|'
                            r'Connection establish acknowledge \(SYN\+ACK\)|'
                            r'Connection finish \(FIN\)|Connection reset \(RST\)|'
                            r'This frame (initiates|undergoes) the connection closing)')
STATS = re.compile(r'^mkpcap: (.*)$', re.M)

failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg)


def check(cond, msg):
    if cond:
        print('ok:   ' + msg)
    else:
        fail(msg)


def mkpcap(tmp, name, *args):
    """Run mkpcap -o TMP/NAME ARGS; return (path, stats dict of its summary line)."""
    path = os.path.join(tmp, name)
    r = subprocess.run([MKPCAP, *args, '-o', path], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit('mkpcap %s failed: %s' % (' '.join(args), r.stderr.strip()))
    m = STATS.search(r.stderr)
    if not m:
        raise SystemExit('mkpcap printed no summary line: %r' % r.stderr)
    stats = {k: int(v) for k, v in (kv.split('=') for kv in m.group(1).split())}
    return path, stats


def synack_json(*args):
    r = subprocess.run([SYNACK, *args], capture_output=True, text=True, env=ENV)
    if r.returncode != 0:
        raise SystemExit('synack %s: exit %d: %s' % (' '.join(args), r.returncode, r.stderr.strip()))
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def group_determinism(tmp):
    for mode, extra in (('normal', ['-c', '40']), ('collide', ['-c', '300']),
                        ('synflood', ['--with-real'])):
        def run(name, n, seed):
            return mkpcap(tmp, '%s-%s.pcap' % (mode, name), '--mode', mode, '-n', str(n),
                          '--seed', str(seed), *extra)
        a, sa = run('a', 3000, 5)
        b, _ = run('b', 3000, 5)
        c, _ = run('c', 3000, 6)
        with open(a, 'rb') as f:
            da = f.read()
        with open(b, 'rb') as f:
            check(f.read() == da, '%s: same seed, same bytes' % mode)
        with open(c, 'rb') as f:
            check(f.read() != da, '%s: another seed, other bytes' % mode)
        r = subprocess.run([MKPCAP, '--mode', mode, '-n', '3000', '--seed', '5', *extra, '-q', '-o', '-'],
                           capture_output=True)
        check(r.returncode == 0 and r.stdout == da and r.stderr == b'',
              '%s: -o - writes the same bytes and nothing else (-q: nothing on stderr)' % mode)
        check(sa['bytes'] == len(da), '%s: summary bytes= equals the file size' % mode)
        if mode != 'synflood':
            d, _ = run('d', 7000, 5)
            with open(d, 'rb') as f:
                check(f.read(len(da)) == da, '%s: -n 3000 is a prefix of -n 7000' % mode)
    for bad in (['--mode', 'nope'], ['-n', 'x'], ['-c', '0'], ['--with-real'], ['extra']):
        r = subprocess.run([MKPCAP, *bad, '-o', os.path.join(tmp, 'bad.pcap')],
                           capture_output=True, text=True)
        check(r.returncode == 2 and r.stderr.startswith(('mkpcap: ', 'usage:')),
              'bad option %s: exit 2 with a message' % ' '.join(bad))


def tshark_clean(path, packets, label):
    opts = ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE']
    r = subprocess.run(['tshark', '-n', '-r', path, *opts, '-T', 'fields', '-e', 'frame.number'],
                       capture_output=True, text=True)
    check(r.returncode == 0 and len(r.stdout.split()) == packets,
          '%s: tshark reads all %d frames' % (label, packets))
    flt = ('_ws.malformed || _ws.expert.severity >= "Error" || tcp.analysis.flags || '
           'tcp.checksum.status != 1 || ip.checksum.status != 1')
    r = subprocess.run(['tshark', '-n', '-r', path, *opts, '-Y', flt], capture_output=True, text=True)
    bad = r.stdout.splitlines()
    check(r.returncode == 0 and not bad,
          '%s: no malformed frame, bad checksum or analysis flag%s' %
          (label, '' if not bad else ': ' + '; '.join(bad[:3])))
    r = subprocess.run(['tshark', '-n', '-r', path, *opts, '-q', '-z', 'expert'],
                       capture_output=True, text=True)
    other = []
    for line in r.stdout.splitlines():
        m = re.match(r'^\s+(\d+)\s+\S+\s+\S+\s+(.*)$', line)
        if m and not EXPERT_ALLOWED.match(m.group(2)):
            other.append(line.strip())
    check(r.returncode == 0 and not other and 'Errors (' not in r.stdout,
          '%s: expert shows only connection open/close/reset entries%s' %
          (label, '' if not other else ': ' + '; '.join(other[:3])))


def group_tshark(tmp):
    if not shutil.which('tshark'):
        print('SKIP: tshark not installed')
        return 77
    path, st = mkpcap(tmp, 'normal.pcap', '-n', '4000', '-c', '60', '--seed', '3')
    tshark_clean(path, st['packets'], 'normal')
    path, st = mkpcap(tmp, 'complete.pcap', '-n', '2000', '-c', '30', '--seed', '4', '--complete')
    tshark_clean(path, st['packets'], 'normal --complete')
    path, st = mkpcap(tmp, 'collide.pcap', '--mode', 'collide', '-n', '2000', '-c', '200')
    tshark_clean(path, st['packets'], 'collide')
    path, st = mkpcap(tmp, 'flood.pcap', '--mode', 'synflood', '-n', '2000', '--with-real')
    tshark_clean(path, st['packets'], 'synflood --with-real')
    return 0


def conn_summary(conns):
    states = collections.Counter(c['conn_state'] for c in conns)
    closers = collections.Counter((c['conn_state'], c['active_closer']) for c in conns)
    return states, closers


def clean_conns(conns, label):
    """No connection of a generated capture shows loss, retransmission or an oddity."""
    keys = ('retransmits', 'fast_retransmits', 'out_of_order', 'dup_acks', 'missed_bytes',
            'zero_windows', 'keepalives', 'window_probes', 'above_mss')
    odd = [c['id'] for c in conns for side in ('client', 'server') for k in keys if c[side][k]]
    check(not odd, '%s: no retransmission, loss, dup ack or oversize segment%s' %
          (label, '' if not odd else ' (conns %s)' % sorted(set(odd))[:5]))
    check(all(not c['midstream'] and not c['reused'] for c in conns),
          '%s: no midstream or reused record' % label)


def group_synack(tmp):
    path, st = mkpcap(tmp, 'complete.pcap', '-n', '6000', '-c', '80', '--seed', '11', '--complete')
    conns = [o for o in synack_json('-r', path, '-o', 'json', '--summary') if o['type'] == 'conn']
    states, closers = conn_summary(conns)
    check(st['open'] == 0 and len(conns) == st['conns'],
          'complete: %d connections tracked, mkpcap wrote %d' % (len(conns), st['conns']))
    check(states['SF'] == st['fin_client'] + st['fin_server'] and
          closers[('SF', 'client')] == st['fin_client'] and closers[('SF', 'server')] == st['fin_server'],
          'complete: SF %d (client-closed %d, server-closed %d); mkpcap fin_client=%d fin_server=%d' %
          (states['SF'], closers[('SF', 'client')], closers[('SF', 'server')],
           st['fin_client'], st['fin_server']))
    check(states['RSTO'] == st['rst_client'] and states['RSTR'] == st['rst_server'],
          'complete: RSTO %d RSTR %d; mkpcap rst_client=%d rst_server=%d' %
          (states['RSTO'], states['RSTR'], st['rst_client'], st['rst_server']))
    check(states['REJ'] == st['refused'],
          'complete: REJ %d; mkpcap refused=%d' % (states['REJ'], st['refused']))
    check(sum(states.values()) == states['SF'] + states['RSTO'] + states['RSTR'] + states['REJ'],
          'complete: no other conn_state (%s)' % dict(states))
    check(min(st[k] for k in ('fin_client', 'fin_server', 'rst_client', 'rst_server', 'refused')) > 0,
          'complete: every close kind occurs')
    check(all(c['close'] == 'fin' for c in conns if c['conn_state'] == 'SF') and
          all(c['close'] == 'rst_client' for c in conns if c['conn_state'] == 'RSTO') and
          all(c['close'] == 'rst_server' for c in conns if c['conn_state'] in ('RSTR', 'REJ')) and
          all(c['handshake'] == 'refused' for c in conns if c['conn_state'] == 'REJ') and
          all(c['handshake'] == 'complete' for c in conns if c['conn_state'] != 'REJ'),
          'complete: close and handshake agree with conn_state')
    clean_conns(conns, 'complete')
    totals = synack_json('-r', path, '-q', '-o', 'json')[-1]
    check(totals['type'] == 'totals' and totals['packets'] == st['packets'] and
          totals['tcp'] == st['packets'] and totals['with_anomalies'] == 0 and
          totals['tcp_cksum_bad'] == 0 and totals['tcp_cksum_unverified'] == 0 and
          totals['evicted'] == 0,
          'complete: totals: every packet TCP, checksums good, no anomaly, no eviction')

    path, st = mkpcap(tmp, 'cut.pcap', '-n', '5000', '-c', '100', '--seed', '12')
    conns = [o for o in synack_json('-r', path, '-o', 'json', '--summary') if o['type'] == 'conn']
    states, _ = conn_summary(conns)
    check(len(conns) == st['conns'] and st['open'] > 0,
          'cut at -n: %d connections tracked, mkpcap wrote %d (%d open at the end)' %
          (len(conns), st['conns'], st['open']))
    check(states['REJ'] >= st['refused'] and states['RSTO'] >= st['rst_client'] and
          states['RSTR'] >= st['rst_server'] and states['SF'] >= st['fin_client'] + st['fin_server'],
          'cut at -n: at least the finished ones classified by their close (%s)' % dict(states))
    clean_conns(conns, 'cut at -n')

    path, st = mkpcap(tmp, 'collide.pcap', '--mode', 'collide', '-n', '5000', '-c', '400', '--complete')
    conns = [o for o in synack_json('-r', path, '-o', 'json', '--summary') if o['type'] == 'conn']
    states, _ = conn_summary(conns)
    ports = {c['client']['port'] for c in conns}
    check(len(conns) == st['conns'] and states['SF'] == st['conns'] and len(ports) == st['conns'],
          'collide: %d connections on distinct sequential ports, all SF (%s)' % (st['conns'], dict(states)))
    clean_conns(conns, 'collide')
    return 0


def group_synflood(tmp):
    path, st = mkpcap(tmp, 'flood.pcap', '--mode', 'synflood', '-n', '3000', '--with-real', '--seed', '9')
    for extra, label in (([], 'default'), (['--max-conns', '200'], '--max-conns 200')):
        objs = synack_json('-r', path, '-o', 'json', '--summary', *extra)
        conns = [o for o in objs if o['type'] == 'conn']
        real = [c for c in conns if c['client']['addr'] == '198.51.100.7']
        others = collections.Counter(c['conn_state'] for c in conns if c['client']['addr'] != '198.51.100.7')
        check(len(real) == 1 and real[0]['conn_state'] == 'SF' and real[0]['close'] == 'fin' and
              real[0]['handshake'] == 'complete' and real[0]['client']['port'] == 40000 and
              real[0]['client']['state'] == 'TIME_WAIT' and real[0]['server']['state'] == 'CLOSED' and
              real[0]['end_reason'] != 'evicted',
              'synflood %s: the real connection is tracked to SF (%s)' %
              (label, real[0]['history'] + ' ' + real[0]['conn_state'] if len(real) == 1 else len(real)))
        if len(real) == 1:
            clean_conns(real, 'synflood %s real connection' % label)
        check(set(others) == {'S0'} and sum(others.values()) == st['conns'] - 1,
              'synflood %s: the %d SYNs are %d S0 records' % (label, st['conns'] - 1, sum(others.values())))
        totals = synack_json('-r', path, '-q', '-o', 'json', *extra)[-1]
        if extra:
            check(totals['evicted'] > 0 and totals['evicted'] == totals['evicted_half_open'] and
                  totals['conns_peak'] <= 200,
                  'synflood %s: %d evictions, all half-open, peak %d' %
                  (label, totals['evicted'], totals['conns_peak']))
        else:
            check(totals['evicted'] == 0 and totals['conns'] == st['conns'],
                  'synflood default: %d records, no eviction' % totals['conns'])
    return 0


GROUPS = {'determinism': group_determinism, 'tshark': group_tshark, 'synack': group_synack,
          'synflood': group_synflood}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in GROUPS:
        print('usage: mkpcap_test.py %s' % '|'.join(GROUPS), file=sys.stderr)
        return 2
    for prog in (MKPCAP, SYNACK):
        if not os.access(prog, os.X_OK):
            print('FAIL: %s is missing (build the mkpcap and synack targets)' % prog)
            return 1
    with tempfile.TemporaryDirectory(prefix='mkpcap-test-') as tmp:
        rc = GROUPS[sys.argv[1]](tmp)
    if failures:
        print('%d check(s) failed' % len(failures))
        return 1
    return rc


if __name__ == '__main__':
    sys.exit(main())
