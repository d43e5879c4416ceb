/* decode_link.c - link-layer decoders: Ethernet (+802.1Q/QinQ), Linux SLL/SLL2, BSD NULL
 * and LOOP, raw IP.
 *
 * Pipeline place: decode_packet -> [link] -> decode_network.
 * Each decoder reads its whole header, checks the reader once, fills p->link and names
 * the network protocol as an EtherType in p->link.ethertype (raw IP and the BSD
 * loopback families are mapped to 0x0800 / 0x86dd), so one switch picks the next layer.
 *
 * decode.c's fast path repeats this layer's checks and fills for the common
 * Ethernet/IPv4/TCP frame in one pass: a change here must be made there too
 * (tests/decode/decode_fastpath.c compares the two paths byte for byte).
 */
#include "decode_internal.h"

/* BSD address families for IPv6 in DLT_NULL/DLT_LOOP headers, by the writer's OS. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24     /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28 /* FreeBSD, DragonFly BSD */
#define BSD_AF_INET6_DARWIN 30  /* macOS, iOS */

static int link_truncated(struct packet *p)
{
    decode_note(p, ANOMALY_LINK_TRUNCATED);
    return -1;
}

/* Walk stacked VLAN tags (802.1Q, 802.1ad, and the old 0x9100) that follow a protocol
 * field whose value is type; each tag is TCI (2 bytes) then the next protocol. */
static int link_vlan_tags(struct packet *p, struct reader *r, uint16_t type)
{
    while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
        if (p->link.n_vlan == SYNACK_MAX_VLAN) {
            p->link.ethertype = type;
            decode_note(p, ANOMALY_LINK_VLAN_TOO_DEEP);
            return -1;
        }
        uint16_t tci = rd_be16(r);
        type = rd_be16(r);
        if (r->err)
            return link_truncated(p);
        p->link.vlan_tci[p->link.n_vlan++] = tci;
    }
    p->link.ethertype = type;
    return 0;
}

/* DLT_EN10MB: destination MAC, source MAC, EtherType (IEEE 802.3). A type <= 1500 is
 * an 802.3 length (LLC follows): not IP, the network layer will say L3_OTHER. */
int decode_ethernet(struct packet *p, struct reader *r)
{
    const uint8_t *h = rd_bytes(r, 14);
    if (!h)
        return link_truncated(p);
    p->link.dst_mac = h;
    p->link.src_mac = h + 6;
    return link_vlan_tags(p, r, ld_be16(h + 12));
}

/* DLT_LINUX_SLL: packet type, ARPHRD type, address length, 8 address bytes, protocol.
 * libpcap may re-insert a VLAN tag after it, as on Ethernet. */
int decode_sll(struct packet *p, struct reader *r)
{
    const uint8_t *h = rd_bytes(r, 16);
    if (!h)
        return link_truncated(p);
    p->link.sll_pkttype = ld_be16(h);
    return link_vlan_tags(p, r, ld_be16(h + 14));
}

/* DLT_LINUX_SLL2: protocol, reserved, interface index, ARPHRD type, packet type,
 * address length, 8 address bytes. */
int decode_sll2(struct packet *p, struct reader *r)
{
    const uint8_t *h = rd_bytes(r, 20);
    if (!h)
        return link_truncated(p);
    p->link.sll_ifindex = ld_be32(h + 4);
    p->link.sll_pkttype = h[10];
    return link_vlan_tags(p, r, ld_be16(h));
}

/* Map a BSD address family to an EtherType; unknown families are an anomaly and give
 * EtherType 0 (the network layer then says L3_OTHER). */
static int link_bsd_family(struct packet *p, uint32_t family)
{
    p->link.null_family = family;
    switch (family) {
    case BSD_AF_INET:
        p->link.ethertype = ETHERTYPE_IPV4;
        break;
    case BSD_AF_INET6_BSD:
    case BSD_AF_INET6_FREEBSD:
    case BSD_AF_INET6_DARWIN:
        p->link.ethertype = ETHERTYPE_IPV6;
        break;
    default:
        decode_note(p, ANOMALY_LINK_NULL_BAD_FAMILY);
        break;
    }
    return 0;
}

/* DLT_NULL: a 4-byte address family in the byte order of the machine that wrote the
 * capture. Families are small numbers, so a value with its high half set was written
 * in the other byte order than little-endian. */
int decode_null(struct packet *p, struct reader *r)
{
    uint32_t family = rd_le32(r);
    if (r->err)
        return link_truncated(p);
    if (family > 0xffff)
        family =
            (family >> 24) | (family >> 8 & 0xff00u) | (family << 8 & 0xff0000u) | (family << 24);
    return link_bsd_family(p, family);
}

/* DLT_LOOP: as DLT_NULL, but the family is always in network byte order. */
int decode_loop(struct packet *p, struct reader *r)
{
    uint32_t family = rd_be32(r);
    if (r->err)
        return link_truncated(p);
    return link_bsd_family(p, family);
}

/* DLT_RAW (12, 14, LINKTYPE_RAW 101): no link header, the IP version nibble says which
 * IP follows. Version 6 is IPv6; anything else goes to IPv4, whose decoder checks the
 * version. With no byte captured the protocol is unknown: link.truncated. */
int decode_raw(struct packet *p, struct reader *r)
{
    uint8_t b0 = rd_peek(r, 0);
    if (r->err)
        return link_truncated(p);
    p->link.ethertype = (b0 >> 4) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
    return 0;
}

/* DLT_IPV4 (228): raw IPv4, no link header. */
int decode_ipv4_link(struct packet *p, struct reader *r)
{
    (void)r;
    p->link.ethertype = ETHERTYPE_IPV4;
    return 0;
}

/* DLT_IPV6 (229): raw IPv6, no link header. */
int decode_ipv6_link(struct packet *p, struct reader *r)
{
    (void)r;
    p->link.ethertype = ETHERTYPE_IPV6;
    return 0;
}
