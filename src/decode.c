/* decode.c - decoder entry point: clears the packet view and dispatches on the link type,
 * with a one-pass fast path for the common Ethernet / IPv4 / TCP frame.
 *
 * Pipeline place: source -> [decode_packet -> link -> network -> transport] -> flow table.
 * The layers live in decode_link.c, decode_ip.c and decode_tcp.c; this file holds the
 * table from DLT to link decoder, the fast path and the one public entry.
 *
 * The fast path (decode_fast_eth_ipv4_tcp) recognises, with a few checks up front, the
 * frame nearly every packet of a capture is: Ethernet without VLAN tags, IPv4 with a
 * 20-byte header, not a fragment, a sane total length, TCP with all options captured.
 * It fills struct packet directly, byte for byte as the general path would (padding
 * included; tests/decode/decode_fastpath.c compares the two on every frame it can
 * build or find). Anything else, and any frame that would raise an anomaly, goes to the
 * general layer-by-layer decoder, which starts over. So the layers stay the one
 * definition of what a frame means: a change there must be mirrored here, or the
 * differential test fails.
 */
#include <stddef.h>
#include <string.h>

#include "decode_internal.h"

struct link_type {
    int dlt;
    const char *name;
    int (*decode)(struct packet *p, struct reader *r);
};

/* Most frequent first: the lookup is a short linear scan. */
static const struct link_type link_types[] = {
    {SYNACK_DLT_EN10MB, "EN10MB", decode_ethernet},
    {SYNACK_DLT_LINUX_SLL, "LINUX_SLL", decode_sll},
    {SYNACK_DLT_LINUX_SLL2, "LINUX_SLL2", decode_sll2},
    {SYNACK_DLT_NULL, "NULL", decode_null},
    {SYNACK_DLT_LOOP, "LOOP", decode_loop},
    {SYNACK_DLT_RAW, "RAW", decode_raw},
    {SYNACK_DLT_RAW_ALT, "RAW", decode_raw},
    {SYNACK_LINKTYPE_RAW, "RAW", decode_raw},
    {SYNACK_DLT_IPV4, "IPV4", decode_ipv4_link},
    {SYNACK_DLT_IPV6, "IPV6", decode_ipv6_link},
};

static const struct link_type *link_type_find(int dlt)
{
    for (size_t i = 0; i < sizeof link_types / sizeof link_types[0]; i++)
        if (link_types[i].dlt == dlt)
            return &link_types[i];
    return NULL;
}

bool decode_dlt_supported(int dlt)
{
    return link_type_find(dlt) != NULL;
}

const char *decode_dlt_name(int dlt)
{
    const struct link_type *lt = link_type_find(dlt);
    return lt ? lt->name : NULL;
}

/* Every byte of struct packet after these two is written by each decode. */
_Static_assert(offsetof(struct packet, n) < offsetof(struct packet, caplen) &&
                   offsetof(struct packet, ts_ns) < offsetof(struct packet, caplen),
               "n and ts_ns must come first in struct packet");

/* Zero every byte of *p after n and ts_ns, padding included. In pieces of 64 bytes:
 * compilers expand a small constant memset into a few vector stores, but the whole
 * struct at once into `rep stos`, which costs more at this size. */
#define PACKET_CLEAR_AT offsetof(struct packet, caplen)
#define PACKET_CLEAR_LEN (sizeof(struct packet) - PACKET_CLEAR_AT)
#define PACKET_CLEAR_PIECE(b, i)                                                                   \
    do {                                                                                           \
        if (PACKET_CLEAR_LEN > 64 * (i))                                                           \
            memset((b) + 64 * (i), 0,                                                              \
                   PACKET_CLEAR_LEN - 64 * (i) < 64 ? PACKET_CLEAR_LEN - 64 * (i) : 64);           \
    } while (0)
_Static_assert(PACKET_CLEAR_LEN <= 5 * 64, "packet_clear: add pieces for a larger struct packet");
static inline void packet_clear(struct packet *p)
{
    uint8_t *b = (uint8_t *)p + PACKET_CLEAR_AT;
    PACKET_CLEAR_PIECE(b, 0);
    PACKET_CLEAR_PIECE(b, 1);
    PACKET_CLEAR_PIECE(b, 2);
    PACKET_CLEAR_PIECE(b, 3);
    PACKET_CLEAR_PIECE(b, 4);
}

/* ------------------------------------------------------------------------------------ */
/* Fast path: Ethernet / IPv4 / TCP in one pass                                         */
/* ------------------------------------------------------------------------------------ */

#define FAST_ETH_LEN 14                          /* Ethernet header, no VLAN tag */
#define FAST_IP_LEN 20                           /* IPv4 header with IHL 5 */
#define FAST_TCP_LEN 20                          /* TCP fixed header */
#define FAST_TCP_AT (FAST_ETH_LEN + FAST_IP_LEN) /* first TCP byte in the frame */

static int decode_general(struct packet *p, int dlt, const uint8_t *data, uint32_t caplen,
                          uint32_t len, unsigned flags);

/* What the fast path did with a frame. */
enum fast_result {
    FAST_DECLINED, /* not the common frame; nothing written */
    FAST_DONE,     /* *p is complete */
    FAST_FINISH,   /* *p is complete but for the options walk or the checksums
                      (o.present is left 0 when the options need a walk) */
};

/* Options other than none or NOP,NOP,timestamps (the fast path left o.present 0 for
 * them): the clean walk. False at a bad length, which is for the general decoder. */
static inline bool decode_fast_opts(struct packet *p)
{
    struct pkt_tcp *t = &p->u.tcp;
    if (t->opts_len == 0 || t->o.present != 0)
        return true;
    return tcp_opts_fast(&t->o, t->opts, t->opts_len) == 0;
}

/* The checksums unless DECODE_NO_CHECKSUMS, computed as decode_ipv4 and decode_tcp do:
 * the IPv4 header always (it is all captured), TCP when the whole segment was. */
static inline void decode_fast_cksums(struct packet *p, const uint8_t *data)
{
    if (p->no_cksum)
        return;
    const uint8_t *ih = data + FAST_ETH_LEN, *th = data + FAST_TCP_AT;
    p->ip.cksum = inet_verify(ih, FAST_IP_LEN, 0) ? CKSUM_OK : CKSUM_BAD;
    if (p->snap_truncated)
        return;
    uint32_t pseudo =
        (uint32_t)ld_be16(ih + 12) + ld_be16(ih + 14) + ld_be16(ih + 16) + ld_be16(ih + 18);
    p->u.tcp.cksum = cksum_transport(th, p->ip.total_len - FAST_IP_LEN, pseudo, IPPROTO_NUM_TCP,
                                     p->u.tcp.cksum_field);
}

/* The rare part of the fast path (FAST_FINISH), out of line so that the common frame
 * makes no call: the options walk, falling back to the general decoder at a bad length,
 * then the checksums. Returns what decode_packet_ex returns. */
static __attribute__((noinline)) int decode_fast_finish(struct packet *p, const uint8_t *data,
                                                        uint32_t caplen, uint32_t len,
                                                        unsigned flags)
{
    if (!decode_fast_opts(p))
        return decode_general(p, SYNACK_DLT_EN10MB, data, caplen, len, flags);
    decode_fast_cksums(p, data);
    return 4;
}

/* Decode the common frame in one pass, or decline. The checks, each the general path's
 * for the same bytes (decode_ethernet, decode_ipv4, decode_tcp):
 *   - the three fixed headers captured (54 bytes);
 *   - EtherType 0x0800 (not a VLAN tag), IPv4 version 4 with IHL 5;
 *   - MF clear and fragment offset 0 (DF may be set), protocol TCP;
 *   - total length holds both fixed headers and is within the wire frame (so not 0,
 *     which would take the length from the frame, and no length anomaly);
 *   - TCP data offset 5..15 words within the segment, options all captured;
 *   - no flag or port anomaly (SYN+FIN, no flag, port 0);
 *   - options NOP,NOP,timestamps, or a clean walk (tcp_opts_fast).
 * A total length beyond the captured bytes is a snaplen cut and is decoded (snap_truncated,
 * no TCP checksum), as the general path does. Returns FAST_DECLINED, having written
 * nothing, when the frame is not the common one; else FAST_DONE or FAST_FINISH (see
 * enum fast_result), *p filled as the general path fills it. Reads only bytes rd_bytes
 * vouched for: the headers, then the options, then (for the checksum) the segment that
 * the snaplen check shows captured. */
static inline enum fast_result decode_fast_eth_ipv4_tcp(struct packet *p, const uint8_t *data,
                                                        uint32_t caplen, uint32_t len,
                                                        unsigned flags)
{
    struct reader r = rd_make(data, caplen);
    const uint8_t *eh = rd_bytes(&r, FAST_TCP_AT + FAST_TCP_LEN);
    if (!eh)
        return FAST_DECLINED;
    const uint8_t *ih = eh + FAST_ETH_LEN, *th = ih + FAST_IP_LEN;

    /* EtherType (2 bytes), then the IPv4 version/IHL byte: one 32-bit compare. */
    if ((ld_be32(eh + 12) & 0xffffff00u) != ((uint32_t)ETHERTYPE_IPV4 << 16 | 0x45u << 8))
        return FAST_DECLINED;
    /* Flags and fragment offset (2 bytes), TTL, protocol: MF and the offset must be 0 (DF
     * and the reserved bit are free, as in decode_ipv4), the protocol TCP. */
    if ((ld_be32(ih + 6) & 0x3fff00ffu) != IPPROTO_NUM_TCP)
        return FAST_DECLINED;
    uint32_t total = ld_be16(ih + 2);
    if (total < FAST_IP_LEN + FAST_TCP_LEN || total + FAST_ETH_LEN > (len < caplen ? caplen : len))
        return FAST_DECLINED;
    uint32_t seg = total - FAST_IP_LEN;
    uint32_t doff = (uint32_t)(th[12] >> 2) & 0x3c;
    /* doff < 20 wraps optlen around: one compare refuses both too small and too large. */
    uint32_t optlen = doff - FAST_TCP_LEN;
    if (optlen > seg - FAST_TCP_LEN)
        return FAST_DECLINED;
    uint8_t tflags = th[13];
    if ((tflags & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN) || tflags == 0 || ld_be16(th) == 0 ||
        ld_be16(th + 2) == 0)
        return FAST_DECLINED;
    const uint8_t *opts = rd_bytes(&r, optlen);
    if (!opts)
        return FAST_DECLINED;

    packet_clear(p);
    p->caplen = caplen;
    p->len = len;
    p->link.dlt = SYNACK_DLT_EN10MB;
    p->link.hdr_len = FAST_ETH_LEN;
    p->link.dst_mac = eh;
    p->link.src_mac = eh + 6;
    p->link.ethertype = ETHERTYPE_IPV4;

    struct pkt_ip *ip = &p->ip;
    p->l3 = L3_IPV4;
    ip->version = 4;
    ip->proto = IPPROTO_NUM_TCP;
    ip->ttl = ih[8];
    ip->tos = ih[1];
    ip->hdr_len = FAST_IP_LEN;
    ip->id = ld_be16(ih + 4);
    ip->df = (ih[6] & 0x40) != 0;
    ip->total_len = total;
    memcpy(ip->src, ih + 12, 4);
    memcpy(ip->dst, ih + 16, 4);
    ip->cksum_field = ld_be16(ih + 10);

    struct pkt_tcp *t = &p->u.tcp;
    p->l4 = L4_TCP;
    t->sport = ld_be16(th);
    t->dport = ld_be16(th + 2);
    t->seq = ld_be32(th + 4);
    t->ack = ld_be32(th + 8);
    t->flags = tflags;
    t->doff = (uint8_t)doff;
    t->win = ld_be16(th + 14);
    t->urp = ld_be16(th + 18);
    t->cksum_field = ld_be16(th + 16);
    t->opts_len = (uint8_t)optlen;
    /* The TCP window is the segment, cut to what was captured (IP's rd_sub). */
    uint32_t tcp_cap = caplen - FAST_TCP_AT < seg ? caplen - FAST_TCP_AT : seg;
    t->payload_len = seg - doff;
    t->payload_caplen = tcp_cap - doff;
    t->payload = tcp_cap > doff ? th + doff : NULL;
    p->tcp_valid = true;
    p->snap_truncated = tcp_cap < seg;
    p->no_cksum = (flags & DECODE_NO_CHECKSUMS) != 0;

    if (optlen != 0) {
        t->opts = opts;
        if (optlen != 12 || ld_be32(opts) != TCP_OPTS_NOP_NOP_TS)
            return FAST_FINISH;
        t->o.present = TCPO_TS;
        t->o.ts_val = ld_be32(opts + 4);
        t->o.ts_ecr = ld_be32(opts + 8);
    }
    return p->no_cksum ? FAST_DONE : FAST_FINISH;
}

/* ------------------------------------------------------------------------------------ */
/* Public entry                                                                         */
/* ------------------------------------------------------------------------------------ */

int decode_packet(struct packet *p, int dlt, const uint8_t *data, uint32_t caplen, uint32_t len)
{
    return decode_packet_ex(p, dlt, data, caplen, len, 0);
}

/* The general path: clear, pick the link decoder, then layer by layer.  An unsupported
 * dlt leaves the packet empty (returns 0).  A wire length below caplen (a broken capture
 * record) is taken as caplen.  Kept out of line so that decode_packet_ex stays small
 * (no register saves on the fast path). */
static __attribute__((noinline)) int decode_general(struct packet *p, int dlt, const uint8_t *data,
                                                    uint32_t caplen, uint32_t len, unsigned flags)
{
    static const uint8_t no_bytes[1];

    packet_clear(p);
    p->caplen = caplen;
    p->len = len;
    p->link.dlt = dlt;
    p->no_cksum = (flags & DECODE_NO_CHECKSUMS) != 0;

    const struct link_type *lt = link_type_find(dlt);
    if (!lt)
        return 0;
    if (!data) {
        data = no_bytes;
        caplen = 0;
    }
    uint32_t wire = len < caplen ? caplen : len;

    struct reader r = rd_make(data, caplen);
    if (lt->decode(p, &r) < 0)
        return 0;
    p->link.hdr_len = r.off;
    return decode_network(p, rd_sub(&r, caplen), wire - r.off);
}

/* decode_packet_ex: see decode.h.  The common Ethernet/IPv4/TCP frame takes the fast
 * path; everything else (and everything under DECODE_NO_FAST_PATH) the general one. */
int decode_packet_ex(struct packet *p, int dlt, const uint8_t *data, uint32_t caplen, uint32_t len,
                     unsigned flags)
{
    if (dlt == SYNACK_DLT_EN10MB && data && !(flags & DECODE_NO_FAST_PATH)) {
        switch (decode_fast_eth_ipv4_tcp(p, data, caplen, len, flags)) {
        case FAST_DONE:
            return 4;
        case FAST_FINISH:
            return decode_fast_finish(p, data, caplen, len, flags);
        case FAST_DECLINED:
            break;
        }
    }
    return decode_general(p, dlt, data, caplen, len, flags);
}

/* decode_fast_path_taken: see decode_internal.h. */
int decode_fast_path_taken(struct packet *p, const uint8_t *data, uint32_t caplen, uint32_t len,
                           unsigned flags)
{
    switch (decode_fast_eth_ipv4_tcp(p, data, caplen, len, flags)) {
    case FAST_DONE:
        return 1;
    case FAST_FINISH:
        if (!decode_fast_opts(p))
            return 0;
        decode_fast_cksums(p, data);
        return 1;
    case FAST_DECLINED:
        break;
    }
    return 0;
}
