"""pcapgen.py - small, exact pcap files for the CLI tests (python3 standard library only).

Builds classic pcap files (microsecond stamps, little-endian) of Ethernet frames
carrying IPv4 or IPv6 TCP segments with correct IP and TCP checksums, so the same
bytes can be fed to synack and to tcpdump and the printed lines compared.
"""
import socket
import struct

DLT_EN10MB = 1
DLT_IEEE802_11 = 105

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)


def pcap_header(linktype=DLT_EN10MB, snaplen=262144):
    return struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(ts_us, data, orig_len=None):
    """One record: ts_us is integer microseconds since the epoch."""
    sec, usec = divmod(ts_us, 1000000)
    return struct.pack('<IIII', sec, usec, len(data),
                       len(data) if orig_len is None else orig_len) + data


def _sum16(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def _cksum(b):
    return (~_sum16(b)) & 0xffff


def opt_mss(v):
    return struct.pack('!BBH', 2, 4, v)


def opt_wscale(v):
    return struct.pack('!BBB', 3, 3, v)


def opt_sack_perm():
    return b'\x04\x02'


def opt_ts(val, ecr):
    return struct.pack('!BBII', 8, 10, val, ecr)


def opt_sack(blocks):
    b = struct.pack('!BB', 5, 2 + 8 * len(blocks))
    for left, right in blocks:
        b += struct.pack('!II', left, right)
    return b


NOP = b'\x01'
EOL = b'\x00'


def tcp_segment(src, dst, sport, dport, seq, ack, flags, win, opts=b'', payload=b'',
                urg=0, family=socket.AF_INET):
    opts = bytes(opts)
    while len(opts) % 4:
        opts += EOL
    doff = (20 + len(opts)) // 4
    hdr = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, doff << 4, flags, win, 0, urg)
    seg = hdr + opts + payload
    s = socket.inet_pton(family, src)
    d = socket.inet_pton(family, dst)
    if family == socket.AF_INET:
        pseudo = s + d + struct.pack('!BBH', 0, 6, len(seg))
    else:
        pseudo = s + d + struct.pack('!IxxxB', len(seg), 6)
    c = _cksum(pseudo + seg)
    return seg[:16] + struct.pack('!H', c) + seg[18:]


def ipv4(src, dst, payload, proto=6, ident=1, ttl=64, df=True):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident,
                      0x4000 if df else 0, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    c = _cksum(hdr)
    return hdr[:10] + struct.pack('!H', c) + hdr[12:] + payload


def ipv6(src, dst, payload, nh=6, hlim=64):
    return struct.pack('!IHBB16s16s', 6 << 28, len(payload), nh, hlim,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def ether(payload, ethertype, dst=b'\x02\0\0\0\0\x02', src=b'\x02\0\0\0\0\x01'):
    return dst + src + struct.pack('!H', ethertype) + payload


class Capture:
    """Accumulates Ethernet frames; write() produces the pcap bytes."""

    def __init__(self, t0_us=1700000000 * 1000000):
        self.t = t0_us
        self.records = []

    def tcp(self, src, dst, sport, dport, seq, ack, flags, win=65535, opts=b'',
            payload=b'', urg=0, dt_us=1000):
        """Append one TCP segment dt_us after the previous frame (dt_us may be < 0)."""
        self.t += dt_us
        fam = socket.AF_INET6 if ':' in src else socket.AF_INET
        seg = tcp_segment(src, dst, sport, dport, seq, ack, flags, win, opts, payload, urg,
                          fam)
        if fam == socket.AF_INET:
            frame = ether(ipv4(src, dst, seg, ident=len(self.records) + 1), 0x0800)
        else:
            frame = ether(ipv6(src, dst, seg), 0x86dd)
        self.records.append((self.t, frame))

    def write(self, path, linktype=DLT_EN10MB):
        with open(path, 'wb') as f:
            f.write(self.bytes(linktype))

    def bytes(self, linktype=DLT_EN10MB):
        return pcap_header(linktype) + b''.join(pcap_record(t, d) for t, d in self.records)


def conversation_capture():
    """A capture of plain TCP the tcpdump line format covers well:
    an IPv4 connection with handshake options, data, SACK, URG, ECN flags, an
    unknown option, a timestamp step backwards, and a FIN close; an IPv6 connection
    closed by RST; and a short connection on port 9999 (for filter tests).
    Returns (Capture, number of frames on port 9999)."""
    c = Capture()
    a, b = '10.0.0.1', '10.0.0.2'
    ca, cb = 40000, 33000
    isn_a, isn_b = 1000000, 3000000000
    c.tcp(a, b, ca, cb, isn_a, 0, TCP_SYN | TCP_ECE | TCP_CWR, 64240,
          opt_mss(1460) + opt_sack_perm() + opt_ts(100, 0) + NOP + opt_wscale(7))
    c.tcp(b, a, cb, ca, isn_b, isn_a + 1, TCP_SYN | TCP_ACK | TCP_ECE, 65160,
          opt_mss(1400) + opt_sack_perm() + opt_ts(500, 100) + NOP + opt_wscale(8))
    c.tcp(a, b, ca, cb, isn_a + 1, isn_b + 1, TCP_ACK, 502, NOP + NOP + opt_ts(101, 500))
    c.tcp(a, b, ca, cb, isn_a + 1, isn_b + 1, TCP_PSH | TCP_ACK, 502,
          NOP + NOP + opt_ts(102, 500), b'GET / HTTP/1.0\r\n\r\n')
    c.tcp(b, a, cb, ca, isn_b + 1, isn_a + 19, TCP_ACK, 509, NOP + NOP + opt_ts(501, 102))
    c.tcp(b, a, cb, ca, isn_b + 1, isn_a + 19, TCP_ACK, 509, NOP + NOP + opt_ts(502, 102),
          b'x' * 1000)
    # the segment 1001..2001 is "lost": the client SACKs 2001..3001
    c.tcp(b, a, cb, ca, isn_b + 2001, isn_a + 19, TCP_ACK | TCP_PSH, 509,
          NOP + NOP + opt_ts(503, 102), b'y' * 1000)
    c.tcp(a, b, ca, cb, isn_a + 19, isn_b + 1001, TCP_ACK, 502,
          NOP + NOP + opt_ts(103, 503) + NOP + NOP + opt_sack([(isn_b + 2001, isn_b + 3001)]))
    c.tcp(b, a, cb, ca, isn_b + 1001, isn_a + 19, TCP_ACK | TCP_CWR, 509,
          NOP + NOP + opt_ts(504, 103), b'z' * 1000)
    # urgent data, an unknown option kind (99), and a stamp 2 s in the past
    c.tcp(a, b, ca, cb, isn_a + 19, isn_b + 3001, TCP_ACK | TCP_URG | TCP_PSH, 502,
          bytes([99, 4, 0xab, 0xcd]) + NOP + NOP + opt_ts(104, 504), b'!', urg=1,
          dt_us=-2000000)
    c.tcp(a, b, ca, cb, isn_a + 20, isn_b + 3001, TCP_FIN | TCP_ACK, 502,
          NOP + NOP + opt_ts(105, 504))
    c.tcp(b, a, cb, ca, isn_b + 3001, isn_a + 21, TCP_FIN | TCP_ACK, 509,
          NOP + NOP + opt_ts(505, 105), dt_us=1500000)
    c.tcp(a, b, ca, cb, isn_a + 21, isn_b + 3002, TCP_ACK, 502, NOP + NOP + opt_ts(106, 505))

    # IPv6: handshake, data both ways, reset
    x, y = '2001:db8::1', '2001:db8::2'
    cx, cy = 50000, 443
    ix, iy = 7, 4000000000
    c.tcp(x, y, cx, cy, ix, 0, TCP_SYN, 65535, opt_mss(1440) + NOP + opt_wscale(0) +
          NOP + NOP + opt_sack_perm())
    c.tcp(y, x, cy, cx, iy, ix + 1, TCP_SYN | TCP_ACK, 28800, opt_mss(1440))
    c.tcp(x, y, cx, cy, ix + 1, iy + 1, TCP_ACK, 65535)
    c.tcp(x, y, cx, cy, ix + 1, iy + 1, TCP_ACK | TCP_PSH, 65535, b'', b'\x16\x03\x01' * 10)
    c.tcp(y, x, cy, cx, iy + 1, ix + 31, TCP_ACK | TCP_PSH, 28800, b'', b'\x15' * 7)
    c.tcp(x, y, cx, cy, ix + 31, 0, TCP_RST, 0)

    # port 9999: three frames, one of them a bare SYN that is never answered
    c.tcp('192.168.1.5', '192.168.1.6', 33333, 9999, 11, 0, TCP_SYN, 1024, opt_mss(536))
    c.tcp('192.168.1.6', '192.168.1.5', 9999, 33333, 0, 12, TCP_RST | TCP_ACK, 0)
    c.tcp('192.168.1.5', '192.168.1.6', 33334, 9999, 99, 0, TCP_SYN, 1024)
    return c, 3
