/* decode_internal.h - entry points of the decoder layers, shared between src/decode*.c.
 *
 * Pipeline place: private to decode. decode_packet (decode.c) picks a link decoder from
 * its DLT table; the link decoder fills p->link; decode_network switches on the
 * EtherType to decode_ipv4 / decode_ipv6, which narrow the window to the datagram and
 * call decode_transport, which switches on the protocol to decode_tcp / decode_udp /
 * decode_icmp.
 *
 * Every layer gets the same three things: a reader whose window starts at the layer's
 * first byte and holds what was captured of it, and wire, the number of bytes the
 * layer had on the wire (caplen <= wire). The difference is what a snaplen cut off.
 *
 * Before all that, decode_packet_ex tries a one-pass fast path (decode.c) for the common
 * Ethernet/IPv4/TCP frame; it gives the same struct packet, byte for byte, and leaves
 * everything else to the layers.
 */
#ifndef SYNACK_DECODE_INTERNAL_H
#define SYNACK_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "reader.h"
#include "synack/decode.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100     /* 802.1Q */
#define ETHERTYPE_QINQ 0x88a8     /* 802.1ad service tag */
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-standard stacked tag */

#define IPPROTO_NUM_ICMP 1
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17
#define IPPROTO_NUM_ICMPV6 58

/* Note an anomaly on the packet (decoding goes on unless the caller stops). */
static inline void decode_note(struct packet *p, enum anomaly a)
{
    p->anomalies |= ANOMALY_BIT(a);
}

/* Link layer (decode_link.c).  Each decodes its header from r, fills p->link
 * (hdr_len, ethertype, ...) and returns 0 when the network layer can follow, -1 when
 * not (anomaly noted).  A non-IP protocol is not an error: it returns 0 and
 * decode_network sets L3_OTHER. */
int decode_ethernet(struct packet *p, struct reader *r);
int decode_sll(struct packet *p, struct reader *r);
int decode_sll2(struct packet *p, struct reader *r);
int decode_null(struct packet *p, struct reader *r);
int decode_loop(struct packet *p, struct reader *r);
int decode_raw(struct packet *p, struct reader *r);
int decode_ipv4_link(struct packet *p, struct reader *r);
int decode_ipv6_link(struct packet *p, struct reader *r);

/* Network layer (decode_ip.c).  r holds the captured bytes of the layer, wire its
 * length on the wire.  Set p->l3 once the fixed header is decoded.  Return the deepest
 * layer decoded, as decode_packet: 2 (link only), 3 (IP header), 4 (transport header). */
int decode_network(struct packet *p, struct reader r, uint32_t wire);
int decode_ipv4(struct packet *p, struct reader r, uint32_t wire);
int decode_ipv6(struct packet *p, struct reader r, uint32_t wire);

/* What the network layer tells the transport layer about its datagram. */
struct l4_ctx {
    uint32_t seg_len; /* transport bytes declared by IP (clamped to the wire frame) */
    uint32_t pseudo;  /* inet_sum of the pseudo-header without proto and length */
    bool fragment;    /* first fragment of a fragmented datagram: no checksum */
    bool cksum_ok;    /* pseudo is usable (false: IPv6 routing type not understood) */
};

/* Transport layer (decode_tcp.c).  r is narrowed to the datagram (seg_len on the wire,
 * what was captured of it in the window).  Set p->l4.  Return 4 when the transport
 * header was decoded, else 3. */
int decode_transport(struct packet *p, uint8_t proto, struct reader r, const struct l4_ctx *c);
int decode_tcp(struct packet *p, struct reader r, const struct l4_ctx *c);
int decode_udp(struct packet *p, struct reader r, const struct l4_ctx *c);
int decode_icmp(struct packet *p, struct reader r, const struct l4_ctx *c, enum l4_kind kind);

/* First 4 option bytes of NOP, NOP, timestamps (RFC 7323 appendix A layout): what nearly
 * every segment of an established Linux/BSD connection carries in 12 option bytes. */
#define TCP_OPTS_NOP_NOP_TS 0x0101080au

/* Walk n TCP option bytes, all captured and all within the header, into *to (decode_tcp.c).
 * Returns 0 when the walk ends cleanly (after the last byte or at EOL): *to then holds
 * exactly what the general decoder's walk gives. Returns -1 at the first option whose
 * length is bad (tcp_opt_next's -1); *to is then partly filled and the caller must fall
 * back to the general decoder, which notes tcp.bad_option_len. *to must start zeroed. */
int tcp_opts_fast(struct tcp_opts *to, const uint8_t *opts, uint32_t n);

/* Test hook (decode.c): decode_packet_ex's fast path alone, on caplen bytes of an
 * Ethernet frame (data not NULL). Returns 1 when the fast path decoded the frame itself,
 * *p then being what decode_packet_ex gives for it; 0 when the frame is not the common
 * one (the general decoder's), *p then unspecified. For the differential test. */
int decode_fast_path_taken(struct packet *p, const uint8_t *data, uint32_t caplen, uint32_t len,
                           unsigned flags);

/* Does data (with its checksum field) plus sum (inet_sum form) fold to 0xffff? (checksum.c) */
bool inet_verify(const uint8_t *data, uint32_t len, uint32_t sum);

/* Checksum state of a transport segment whose bytes are all in seg (checksum.c):
 * OK, BAD, or UNVERIFIED when the field holds only the pseudo-header sum. */
enum cksum_state cksum_transport(const uint8_t *seg, uint32_t len, uint32_t pseudo, uint8_t proto,
                                 uint16_t field);

#endif
