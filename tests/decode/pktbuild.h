/* pktbuild.h - test-only byte builder for decoder fixtures.
 *
 * Assembles a frame layer by layer (link, IPv4/IPv6 with options or extension headers,
 * TCP with options / UDP / ICMP, payload), then pb_finish() fills in every length and
 * checksum. It records where each layer starts and ends, so tests (and the truncation
 * sweep) know which layer a given prefix cuts. Its checksum code is its own, written
 * the slow obvious way, so it cross-checks the library's inet_sum.
 *
 * Usage:
 *     struct pb b;
 *     pb_init(&b, SYNACK_DLT_EN10MB);
 *     pb_eth(&b, 0x0800);
 *     pb_ipv4(&b, NULL, 0);
 *     pb_tcp(&b, 40000, 80, 1000, 0, TCP_SYN, NULL, 0);
 *     pb_finish(&b);
 * Then b.buf[0..b.len) is the frame.
 */
#ifndef SYNACK_TESTS_PKTBUILD_H
#define SYNACK_TESTS_PKTBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/decode.h"

#define PB_MAX 4096
#define PB_MAX_EXT 12

/* What pb_finish puts in the transport checksum field. */
enum pb_cksum {
    PB_CK_GOOD = 0,
    PB_CK_BAD,           /* the good value with bits flipped */
    PB_CK_PARTIAL,       /* folded pseudo-header sum (what Linux leaves for offload) */
    PB_CK_PARTIAL_NOT,   /* its ones' complement */
    PB_CK_PARTIAL_NOLEN, /* folded pseudo-header sum without the length */
    PB_CK_KEEP,          /* leave the field as written */
};

struct pb {
    uint8_t buf[PB_MAX];
    uint32_t len;
    int dlt;
    uint32_t link_len; /* bytes of link header (VLAN tags included) */
    int n_vlan;
    int ipver;           /* 0 (no IP), 4 or 6 */
    uint32_t ip_off;     /* start of the IP header */
    uint32_t ip_hdr_end; /* end of IPv4 header + options / IPv6 fixed header + ext headers */
    uint32_t nh_off;     /* byte holding the protocol / next header to patch */
    int n_ext;
    uint32_t ext_end[PB_MAX_EXT];
    uint8_t ext_type[PB_MAX_EXT];
    uint8_t final_dst[16]; /* IPv6 pseudo-header destination */
    bool frag;             /* a fragment (IPv4 MF/offset, IPv6 fragment header M/offset) */
    bool frag_later;       /* a fragment with offset != 0 */
    uint8_t l4_proto;      /* 0 when no transport header was added */
    uint32_t l4_off;
    uint32_t l4_hdr_end; /* end of TCP header with options / UDP header / ICMP header */
    uint32_t end;        /* end of the IP datagram (pb_finish) */
    enum pb_cksum cksum;
    bool keep_ip_len; /* pb_finish leaves the IP length field alone */
};

/* Checksum arithmetic, the obvious way: 16-bit big-endian words. */
uint32_t pb_sum(const uint8_t *d, uint32_t n, uint32_t sum);
uint16_t pb_fold(uint32_t sum);

void pb_init(struct pb *b, int dlt);
void pb_bytes(struct pb *b, const void *data, uint32_t n);
void pb_u8(struct pb *b, uint8_t v);
void pb_be16(struct pb *b, uint16_t v);
void pb_be32(struct pb *b, uint32_t v);
void pb_put16(struct pb *b, uint32_t off, uint16_t v);

/* Link headers. ethertype 0x0800/0x86dd/... tags: outermost first (tpid, tci pairs). */
void pb_eth(struct pb *b, uint16_t ethertype);
void pb_eth_vlan(struct pb *b, int n, const uint16_t *tpid, const uint16_t *tci,
                 uint16_t ethertype);
void pb_sll(struct pb *b, uint16_t pkttype, uint16_t proto);
void pb_sll2(struct pb *b, uint32_t ifindex, uint8_t pkttype, uint16_t proto);
void pb_null(struct pb *b, uint32_t family, bool big_endian);
void pb_loop(struct pb *b, uint32_t family);

/* IPv4 header (src 10.0.0.1, dst 10.0.0.2, TTL 64, ID 0x1234, DF) with options. */
void pb_ipv4(struct pb *b, const uint8_t *opts, uint32_t optlen);
void pb_ipv4_frag(struct pb *b, uint32_t off_bytes, bool mf);
/* IPv6 header (2001:db8::1 -> 2001:db8::2, hop limit 64, tc 0x28, flow 0x12345). */
void pb_ipv6(struct pb *b);
/* Generic extension header of total length len (multiple of 8; AH: multiple of 4). */
void pb_ext(struct pb *b, uint8_t type, uint32_t len);
void pb_ext_frag(struct pb *b, uint32_t off_bytes, bool m, uint32_t id);
/* Routing header of type rtype with n addresses (2001:db8::100+i), segs_left. */
void pb_ext_routing(struct pb *b, uint8_t rtype, int n, uint8_t segs_left);

void pb_tcp(struct pb *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
            const uint8_t *opts, uint32_t optlen);
void pb_udp(struct pb *b, uint16_t sport, uint16_t dport);
void pb_icmp(struct pb *b, uint8_t type, uint8_t code);
/* Set the protocol / next header without a transport header (e.g. a later fragment). */
void pb_proto(struct pb *b, uint8_t proto);
/* Payload bytes: data, or a counting pattern when data is NULL. */
void pb_payload(struct pb *b, const uint8_t *data, uint32_t n);

/* Fill lengths and checksums; marks the datagram end. */
void pb_finish(struct pb *b);
/* Append link-layer trailer bytes (Ethernet padding) after pb_finish. */
void pb_trailer(struct pb *b, uint32_t n);
/* Recompute the IPv4 header checksum after a test edited the header. */
void pb_ipv4_recksum(struct pb *b);

/* Copy n bytes so that they end exactly where a PROT_NONE guard page begins, and
 * return the copy: a decoder reading one byte past n faults. n <= PB_GUARD_MAX, the
 * largest snaplen libpcap writes (whole frames of captures fit too). */
#define PB_GUARD_MAX (256u * 1024)
const uint8_t *pb_guard_copy(const uint8_t *src, uint32_t n);

#endif
