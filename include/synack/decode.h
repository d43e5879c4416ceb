/* decode.h - pure decoding of captured frames into a struct packet view.
 *
 * Pipeline place: source -> [link decode -> ip decode -> tcp decode] -> flow table.
 * Every function here is pure: no allocation, no globals, no I/O. Every read of
 * packet bytes goes through the bounds-checked reader (src/reader.h), so a
 * truncated or lying header can never make the decoder read past caplen.
 * What is wrong is recorded as an anomaly bit on the packet, never a crash.
 *
 * The struct packet holds pointers into the caller's frame bytes (MAC
 * addresses, TCP options, payload): it is valid only as long as those bytes.
 */
#ifndef SYNACK_DECODE_H
#define SYNACK_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/anomaly.h"

/* Link types synack decodes (values of libpcap's DLT_* / LINKTYPE_* as stored in files). */
#define SYNACK_DLT_NULL 0        /* BSD loopback, 4-byte family in the writer's byte order */
#define SYNACK_DLT_EN10MB 1      /* Ethernet, with 802.1Q / QinQ tags */
#define SYNACK_DLT_RAW 12        /* raw IP (OpenBSD value; see SYNACK_LINKTYPE_RAW) */
#define SYNACK_DLT_RAW_ALT 14    /* raw IP (BSD/OS value) */
#define SYNACK_DLT_LOOP 108      /* OpenBSD loopback, family in network byte order */
#define SYNACK_DLT_LINUX_SLL 113 /* Linux "cooked" capture v1 */
#define SYNACK_LINKTYPE_RAW 101  /* raw IP as written in files */
#define SYNACK_DLT_IPV4 228
#define SYNACK_DLT_IPV6 229
#define SYNACK_DLT_LINUX_SLL2 276 /* Linux "cooked" capture v2 */

#define SYNACK_MAX_VLAN 4       /* stacked 802.1Q/802.1ad tags decoded; more is an anomaly */
#define SYNACK_MAX_IPV6_EXT 8   /* IPv6 extension headers walked; more is an anomaly */
#define SYNACK_MAX_SACK 4       /* SACK blocks that fit in 40 option bytes */

/* TCP header flags, as in the header's low byte. */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* TCP option kinds (IANA). */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8
#define TCPOPT_TFO 34 /* TCP Fast Open cookie, RFC 7413 */

/* Which options were present on a segment (bits of tcp_opts.present). */
#define TCPO_MSS 0x01
#define TCPO_WSCALE 0x02
#define TCPO_SACK_PERM 0x04
#define TCPO_TS 0x08
#define TCPO_SACK 0x10
#define TCPO_TFO 0x20
#define TCPO_UNKNOWN 0x40 /* at least one option of a kind not listed above */

enum l3_kind { L3_NONE = 0, L3_IPV4, L3_IPV6, L3_OTHER /* non-IP EtherType, e.g. ARP */ };
enum l4_kind { L4_NONE = 0, L4_TCP, L4_UDP, L4_ICMP, L4_ICMPV6, L4_OTHER };

/* State of a checksum after decoding. */
enum cksum_state {
    CKSUM_UNCHECKED = 0, /* not all covered bytes were captured, or not applicable */
    CKSUM_OK,
    CKSUM_BAD,
    CKSUM_UNVERIFIED, /* field holds only the pseudo-header sum: checksum offload left it
                         for the NIC, typical of locally generated (loopback) packets */
};

struct pkt_link {
    int dlt;
    uint32_t hdr_len;         /* bytes of link header, VLAN tags included */
    const uint8_t *src_mac;   /* Ethernet only (6 bytes), else NULL */
    const uint8_t *dst_mac;   /* Ethernet only (6 bytes), else NULL */
    uint16_t ethertype;       /* protocol after all VLAN tags (SLL: protocol field) */
    uint8_t n_vlan;           /* VLAN tags seen, outermost first */
    uint16_t vlan_tci[SYNACK_MAX_VLAN];
    uint16_t sll_pkttype;     /* SLL/SLL2 packet type (0 host, 4 outgoing, ...) */
    uint32_t sll_ifindex;     /* SLL2 only */
    uint32_t null_family;     /* DLT_NULL / DLT_LOOP address family as decoded */
};

struct pkt_ip {
    uint8_t version;     /* 4 or 6 */
    uint8_t proto;       /* upper-layer protocol (IPv6: after extension headers) */
    uint8_t ttl;         /* TTL / hop limit */
    uint8_t tos;         /* TOS / traffic class */
    uint16_t hdr_len;    /* IPv4: IHL*4; IPv6: 40 + extension headers walked */
    uint16_t id;         /* IPv4 identification; IPv6 fragment id low 16 bits */
    bool df, mf;         /* IPv4 flags; mf also for an IPv6 fragment header */
    bool fragment;       /* any fragment (offset != 0 or MF) */
    uint16_t frag_off;   /* fragment offset in bytes */
    uint32_t total_len;  /* IPv4 total length / IPv6 40+payload length, after the
                            length-0 (offload / jumbogram) substitution */
    bool len_from_frame; /* total length was 0 in the header and taken from the frame */
    uint32_t flow_label; /* IPv6 only */
    uint8_t n_ext;       /* IPv6 extension headers walked */
    uint8_t ext[SYNACK_MAX_IPV6_EXT];
    uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
    uint16_t cksum_field;     /* IPv4 header checksum as sent */
    enum cksum_state cksum;   /* IPv4 header checksum state */
};

/* Parsed TCP options (raw bytes stay at tcp.opts for printers, walk with tcp_opt_next). */
struct tcp_opts {
    uint8_t present; /* TCPO_* bits */
    uint8_t wscale;
    uint8_t n_sack;
    uint16_t mss;
    uint32_t ts_val, ts_ecr;
    uint32_t sack[SYNACK_MAX_SACK][2]; /* left, right edges */
};

struct pkt_tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;       /* TCP_* bits */
    uint8_t doff;        /* header length in bytes (data offset * 4) */
    uint16_t win;        /* raw window field (unscaled) */
    uint16_t urp;
    uint16_t cksum_field;
    enum cksum_state cksum;
    const uint8_t *opts; /* option bytes, NULL if none */
    uint8_t opts_len;    /* captured option bytes (doff - 20, or less if truncated) */
    struct tcp_opts o;
    uint32_t payload_len;     /* from the IP length: what was on the wire */
    uint32_t payload_caplen;  /* of it, how much was captured (<= payload_len) */
    const uint8_t *payload;   /* captured payload bytes, NULL if none */
};

struct pkt_udp {
    uint16_t sport, dport;
    uint16_t len; /* UDP length field */
    uint32_t payload_len;
};

struct pkt_icmp {
    uint8_t type, code;
};

struct packet {
    uint64_t n;        /* frame number in the capture, from 1 (set by the caller) */
    int64_t ts_ns;     /* capture time, epoch nanoseconds (set by the caller) */
    uint32_t caplen;   /* bytes captured */
    uint32_t len;      /* bytes on the wire */
    struct pkt_link link;
    enum l3_kind l3;
    struct pkt_ip ip;  /* valid when l3 is L3_IPV4 or L3_IPV6 */
    enum l4_kind l4;
    union {
        struct pkt_tcp tcp;
        struct pkt_udp udp;
        struct pkt_icmp icmp;
    } u;               /* by l4; for L4_OTHER only ip.proto is known */
    bool tcp_valid;    /* l4 == L4_TCP and the whole fixed header + options decoded */
    bool snap_truncated; /* the capture holds less than the IP length declares (snaplen):
                            noted, not an anomaly; what was captured is decoded */
    bool no_cksum;     /* decoded with DECODE_NO_CHECKSUMS: checksums left UNCHECKED */
    anomaly_set anomalies;
};

/* Does synack decode this link type?  dlt is the value libpcap's pcap_datalink() returns. */
bool decode_dlt_supported(int dlt);

/* Name of a link type for messages ("EN10MB", "LINUX_SLL2", ...); NULL if unknown. */
const char *decode_dlt_name(int dlt);

/* Decode one frame.  Fills *p entirely (n and ts_ns are left as the caller set them:
 * the function clears every other byte first, padding included, so two decodes of the
 * same frame compare equal with memcmp).  data holds caplen captured bytes of a
 * frame that was len bytes long on the wire.  Never reads past data + caplen.
 * Returns the deepest layer decoded (0 none, 2 link, 3 network, 4 transport); problems
 * are in p->anomalies. */
int decode_packet(struct packet *p, int dlt, const uint8_t *data, uint32_t caplen, uint32_t len);

/* Flags for decode_packet_ex. */
#define DECODE_NO_CHECKSUMS 0x1 /* skip the IPv4 header and TCP checksums (the TCP one
                                   reads every payload byte): both stay CKSUM_UNCHECKED */
#define DECODE_NO_FAST_PATH 0x2 /* always take the general layer-by-layer decoder, never
                                   the one-pass path for a plain Ethernet/IPv4/TCP frame.
                                   The result is the same byte for byte (padding included);
                                   tests use it to compare the two paths. */

/* decode_packet with flags (decode_packet is decode_packet_ex with 0). */
int decode_packet_ex(struct packet *p, int dlt, const uint8_t *data, uint32_t caplen,
                     uint32_t len, unsigned flags);

/* One TCP option, as walked by tcp_opt_next. */
struct tcp_opt {
    uint8_t kind;
    uint8_t len;          /* total length including kind and length bytes (1 for EOL/NOP) */
    const uint8_t *data;  /* len - 2 bytes of option data, NULL for EOL/NOP */
};

/* Walk TCP options.  *off starts at 0.  Returns 1 and fills *o with the next option,
 * 0 at the end (no bytes left, or after EOL), -1 when the option at *off has a bad
 * length (runs past opts_len, or shorter than 2, or wrong for a TCPOPT_* kind above:
 * MSS 4, WSCALE 3, SACK_PERM 2, TIMESTAMP 10, SACK 2+8n with n 1..4, TFO 2 or 6..18;
 * so a returned option's data can be read by its kind).  data is NULL when len <= 2.
 * Pure. */
int tcp_opt_next(const uint8_t *opts, uint32_t opts_len, uint32_t *off, struct tcp_opt *o);

/* Internet checksum helpers (RFC 1071), exposed for tests and the capture generator.
 * inet_sum adds data (big-endian 16-bit words, odd byte zero-padded) to a running sum
 * that can be fed back in; inet_fold folds it to 16 bits WITHOUT complementing: a header
 * stores ~inet_fold(sum), and data holding a correct checksum folds to 0xffff. */
uint32_t inet_sum(const uint8_t *data, uint32_t len, uint32_t sum);
uint16_t inet_fold(uint32_t sum);

#endif
