/* decode_ip.c - network-layer decoders: IPv4 (RFC 791) and IPv6 (RFC 8200) with its
 * extension headers.
 *
 * Pipeline place: link -> [decode_network -> decode_ipv4 / decode_ipv6] -> transport.
 *
 * Lengths: the header's length field is checked against two limits. Beyond the frame
 * as it was on the wire it is a lie (anomaly; the length is clamped to the frame and
 * decoding goes on). Beyond what was captured but within the wire frame it is a
 * snaplen cut (p->snap_truncated, not an anomaly; what was captured is decoded).
 * A length of 0 is a segmentation-offload send (IPv4 above 64 KiB, IPv6 BIG TCP or
 * jumbogram): the length is taken from the frame. Headers are checked against the
 * declared length; the transport layer gets a window narrowed to the datagram
 * (rd_sub), so link-layer padding never becomes payload.
 *
 * Fragments are flagged, never reassembled. The transport header is decoded only from a
 * first fragment (offset 0); a later fragment gets l4 = L4_OTHER (only ip.proto known).
 *
 * decode.c's fast path repeats this layer's checks and fills for the common
 * Ethernet/IPv4/TCP frame in one pass: a change here must be made there too
 * (tests/decode/decode_fastpath.c compares the two paths byte for byte).
 */
#include <string.h>

#include "decode_internal.h"

#define IPV6_EXT_HOPOPTS 0
#define IPV6_EXT_ROUTING 43
#define IPV6_EXT_FRAGMENT 44
#define IPV6_EXT_AH 51
#define IPV6_EXT_DSTOPTS 60

/* decode_network: pick the network decoder by EtherType; anything not IP is L3_OTHER
 * (ARP, LLC, ...), which is not an anomaly. */
int decode_network(struct packet *p, struct reader r, uint32_t wire)
{
    switch (p->link.ethertype) {
    case ETHERTYPE_IPV4:
        return decode_ipv4(p, r, wire);
    case ETHERTYPE_IPV6:
        return decode_ipv6(p, r, wire);
    default:
        p->l3 = L3_OTHER;
        return 2;
    }
}

/* Check the version nibble of the first byte. Returns the byte, or -1 with the right
 * anomaly noted (truncated: nothing captured; bad version). */
static int ip_first_byte(struct packet *p, struct reader *r, unsigned version, enum anomaly trunc)
{
    uint8_t b0 = rd_peek(r, 0);
    if (r->err) {
        decode_note(p, trunc);
        return -1;
    }
    if ((unsigned)(b0 >> 4) != version) {
        p->ip.version = (uint8_t)(b0 >> 4);
        decode_note(p, ANOMALY_IP_BAD_VERSION);
        return -1;
    }
    return b0;
}

/* ------------------------------------------------------------------------------------ */
/* IPv4                                                                                 */
/* ------------------------------------------------------------------------------------ */

/* decode_ipv4: RFC 791 header. Checks, in order: nothing captured, version, IHL < 5,
 * fixed header captured, total length (0 / below IHL / beyond the frame / beyond the
 * capture), options captured. Then the header checksum, fragment fields, transport. */
int decode_ipv4(struct packet *p, struct reader r, uint32_t wire)
{
    int b0 = ip_first_byte(p, &r, 4, ANOMALY_IPV4_TRUNCATED);
    if (b0 < 0)
        return 2;
    uint32_t hlen = ((uint32_t)b0 & 0x0f) * 4;
    if (hlen < 20) {
        decode_note(p, ANOMALY_IPV4_HLEN_TOO_SMALL);
        return 2;
    }

    const uint8_t *h = rd_bytes(&r, 20);
    if (!h) {
        decode_note(p, ANOMALY_IPV4_TRUNCATED);
        return 2;
    }

    struct pkt_ip *ip = &p->ip;
    p->l3 = L3_IPV4;
    ip->version = 4;
    ip->hdr_len = (uint16_t)hlen;
    ip->tos = h[1];
    uint32_t total = ld_be16(h + 2);
    ip->id = ld_be16(h + 4);
    uint16_t frag = ld_be16(h + 6);
    ip->ttl = h[8];
    ip->proto = h[9];
    ip->cksum_field = ld_be16(h + 10);
    memcpy(ip->src, h + 12, 4);
    memcpy(ip->dst, h + 16, 4);
    ip->df = (frag & 0x4000) != 0;
    ip->mf = (frag & 0x2000) != 0;
    ip->frag_off = (uint16_t)((frag & 0x1fff) * 8);
    ip->fragment = ip->mf || ip->frag_off != 0;

    if (total == 0) {
        total = wire;
        ip->len_from_frame = true;
    } else if (total > wire) {
        decode_note(p, ANOMALY_IPV4_TOTLEN_BEYOND_FRAME);
        total = wire;
    }
    ip->total_len = total;
    if (total < hlen) {
        decode_note(p, ANOMALY_IPV4_TOTLEN_TOO_SMALL);
        return 3;
    }
    if (total > r.len)
        p->snap_truncated = true;

    if (!rd_skip(&r, hlen - 20)) {
        decode_note(p, ANOMALY_IPV4_TRUNCATED);
        return 3;
    }
    if (!p->no_cksum)
        ip->cksum = inet_verify(h, hlen, 0) ? CKSUM_OK : CKSUM_BAD;

    if (ip->fragment) {
        decode_note(p, ANOMALY_IPV4_FRAGMENT);
        if (ip->frag_off != 0) {
            p->l4 = L4_OTHER;
            return 3;
        }
    }
    struct l4_ctx c = {
        .seg_len = total - hlen,
        .pseudo = (uint32_t)ld_be16(h + 12) + ld_be16(h + 14) + ld_be16(h + 16) + ld_be16(h + 18),
        .fragment = ip->fragment,
        .cksum_ok = true,
    };
    return decode_transport(p, ip->proto, rd_sub(&r, c.seg_len), &c);
}

/* ------------------------------------------------------------------------------------ */
/* IPv6                                                                                 */
/* ------------------------------------------------------------------------------------ */

static bool ipv6_is_ext(uint8_t nh)
{
    return nh == IPV6_EXT_HOPOPTS || nh == IPV6_EXT_ROUTING || nh == IPV6_EXT_FRAGMENT ||
           nh == IPV6_EXT_AH || nh == IPV6_EXT_DSTOPTS;
}

/* A routing header whose segments are not all visited carries the final destination,
 * which the transport pseudo-header uses (RFC 8200 section 8.1). e spans the whole
 * extension header. Returns it, or NULL when the routing type is not understood. */
static const uint8_t *ipv6_final_dst(struct reader e, const uint8_t *dst)
{
    rd_skip(&e, 1);
    uint8_t len8 = rd_u8(&e);
    uint8_t type = rd_u8(&e);
    uint8_t segs_left = rd_u8(&e);
    if (e.err || segs_left == 0)
        return dst;
    uint32_t at;
    switch (type) {
    case 0: /* RFC 2460 type 0 (deprecated): addresses in order, the last is final */
        if (len8 < 2)
            return NULL;
        at = 8 + 16 * (uint32_t)(len8 / 2 - 1);
        break;
    case 2: /* RFC 6275 type 2: the home address */
    case 4: /* RFC 8754 segment routing: Segment List[0] is the last segment */
        at = 8;
        break;
    default:
        return NULL;
    }
    rd_skip(&e, at - 4);
    return rd_bytes(&e, 16);
}

/* decode_ipv6: RFC 8200 fixed header, then the extension headers (hop-by-hop, routing,
 * fragment, AH, destination options) up to SYNACK_MAX_IPV6_EXT, then the transport.
 * An extension header that runs past the payload length is malformed (ext_bad_len);
 * one that runs past the captured bytes within it is truncated (ipv6.truncated). */
int decode_ipv6(struct packet *p, struct reader r, uint32_t wire)
{
    if (ip_first_byte(p, &r, 6, ANOMALY_IPV6_TRUNCATED) < 0)
        return 2;
    const uint8_t *h = rd_bytes(&r, 40);
    if (!h) {
        decode_note(p, ANOMALY_IPV6_TRUNCATED);
        return 2;
    }

    struct pkt_ip *ip = &p->ip;
    p->l3 = L3_IPV6;
    ip->version = 6;
    uint32_t w0 = ld_be32(h);
    ip->tos = (uint8_t)(w0 >> 20);
    ip->flow_label = w0 & 0xfffff;
    uint32_t total = ld_be16(h + 4) + 40u;
    uint8_t nh = h[6];
    ip->ttl = h[7];
    memcpy(ip->src, h + 8, 16);
    memcpy(ip->dst, h + 24, 16);

    if (total == 40) {
        total = wire;
        ip->len_from_frame = true;
    } else if (total > wire) {
        decode_note(p, ANOMALY_IPV6_PLEN_BEYOND_FRAME);
        total = wire;
    }
    ip->total_len = total;
    if (total > r.len)
        p->snap_truncated = true;

    const uint8_t *final_dst = h + 24;
    while (ipv6_is_ext(nh)) {
        ip->proto = nh;
        ip->hdr_len = (uint16_t)r.off;
        if (ip->n_ext == SYNACK_MAX_IPV6_EXT) {
            decode_note(p, ANOMALY_IPV6_EXT_TOO_MANY);
            return 3;
        }
        uint32_t room = total - r.off; /* payload bytes left on the wire */
        uint8_t len8 = rd_peek(&r, 1);
        uint32_t elen = nh == IPV6_EXT_FRAGMENT ? 8u
                        : nh == IPV6_EXT_AH     ? ((uint32_t)len8 + 2) * 4
                                                : ((uint32_t)len8 + 1) * 8;
        if (room < 2 || (!r.err && elen > room)) {
            decode_note(p, ANOMALY_IPV6_EXT_BAD_LEN);
            return 3;
        }
        struct reader e = rd_sub(&r, elen);
        if (!rd_skip(&r, elen)) {
            decode_note(p, ANOMALY_IPV6_TRUNCATED);
            return 3;
        }
        ip->ext[ip->n_ext++] = nh;
        uint8_t next = rd_peek(&e, 0);

        if (nh == IPV6_EXT_ROUTING) {
            if (final_dst)
                final_dst = ipv6_final_dst(e, final_dst);
        } else if (nh == IPV6_EXT_FRAGMENT) {
            rd_skip(&e, 2);
            uint16_t offflg = rd_be16(&e);
            uint32_t id = rd_be32(&e);
            ip->frag_off = offflg & 0xfff8;
            ip->mf = (offflg & 1) != 0;
            ip->id = (uint16_t)id;
            ip->fragment = ip->mf || ip->frag_off != 0;
            if (ip->fragment)
                decode_note(p, ANOMALY_IPV6_FRAGMENT);
            if (ip->frag_off != 0) {
                /* What follows is the middle of the datagram, not more headers. */
                ip->proto = next;
                ip->hdr_len = (uint16_t)r.off;
                p->l4 = L4_OTHER;
                return 3;
            }
        }
        nh = next;
    }
    ip->proto = nh;
    ip->hdr_len = (uint16_t)r.off;

    struct l4_ctx c = {
        .seg_len = total - r.off,
        .fragment = ip->fragment,
        .cksum_ok = final_dst != NULL,
    };
    if (final_dst)
        c.pseudo = inet_sum(h + 8, 16, inet_sum(final_dst, 16, 0));
    return decode_transport(p, nh, rd_sub(&r, c.seg_len), &c);
}
