/* pktbuild.c - test-only byte builder for decoder fixtures (see pktbuild.h). */
#include "decode/pktbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void pb_need(struct pb *b, uint32_t n)
{
    if (b->len + n > PB_MAX) {
        fprintf(stderr, "pktbuild: frame larger than %d bytes\n", PB_MAX);
        abort();
    }
}

uint32_t pb_sum(const uint8_t *d, uint32_t n, uint32_t sum)
{
    for (uint32_t i = 0; i < n; i += 2) {
        uint32_t w = (uint32_t)d[i] << 8;
        if (i + 1 < n)
            w |= d[i + 1];
        sum += w;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

uint16_t pb_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

void pb_init(struct pb *b, int dlt)
{
    memset(b, 0, sizeof *b);
    b->dlt = dlt;
}

void pb_bytes(struct pb *b, const void *data, uint32_t n)
{
    pb_need(b, n);
    if (data)
        memcpy(b->buf + b->len, data, n);
    else
        memset(b->buf + b->len, 0, n);
    b->len += n;
}

void pb_u8(struct pb *b, uint8_t v)
{
    pb_bytes(b, &v, 1);
}

void pb_be16(struct pb *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    pb_bytes(b, x, 2);
}

void pb_be32(struct pb *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    pb_bytes(b, x, 4);
}

void pb_put16(struct pb *b, uint32_t off, uint16_t v)
{
    b->buf[off] = (uint8_t)(v >> 8);
    b->buf[off + 1] = (uint8_t)v;
}

static void pb_link_done(struct pb *b)
{
    b->link_len = b->len;
    b->ip_off = b->len;
}

/* ---- link layers ---- */

void pb_eth_vlan(struct pb *b, int n, const uint16_t *tpid, const uint16_t *tci, uint16_t ethertype)
{
    static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
    pb_bytes(b, dst, 6);
    pb_bytes(b, src, 6);
    for (int i = 0; i < n; i++) {
        pb_be16(b, tpid[i]);
        pb_be16(b, tci[i]);
    }
    pb_be16(b, ethertype);
    b->n_vlan = n;
    pb_link_done(b);
}

void pb_eth(struct pb *b, uint16_t ethertype)
{
    pb_eth_vlan(b, 0, NULL, NULL, ethertype);
}

void pb_sll(struct pb *b, uint16_t pkttype, uint16_t proto)
{
    static const uint8_t addr[8] = {0x02, 0, 0, 0, 0, 0x01, 0, 0};
    pb_be16(b, pkttype);
    pb_be16(b, 1); /* ARPHRD_ETHER */
    pb_be16(b, 6);
    pb_bytes(b, addr, 8);
    pb_be16(b, proto);
    pb_link_done(b);
}

void pb_sll2(struct pb *b, uint32_t ifindex, uint8_t pkttype, uint16_t proto)
{
    static const uint8_t addr[8] = {0x02, 0, 0, 0, 0, 0x01, 0, 0};
    pb_be16(b, proto);
    pb_be16(b, 0);
    pb_be32(b, ifindex);
    pb_be16(b, 1);
    pb_u8(b, pkttype);
    pb_u8(b, 6);
    pb_bytes(b, addr, 8);
    pb_link_done(b);
}

void pb_null(struct pb *b, uint32_t family, bool big_endian)
{
    if (big_endian) {
        pb_be32(b, family);
    } else {
        uint8_t x[4] = {(uint8_t)family, (uint8_t)(family >> 8), (uint8_t)(family >> 16),
                        (uint8_t)(family >> 24)};
        pb_bytes(b, x, 4);
    }
    pb_link_done(b);
}

void pb_loop(struct pb *b, uint32_t family)
{
    pb_be32(b, family);
    pb_link_done(b);
}

/* ---- IP ---- */

void pb_ipv4(struct pb *b, const uint8_t *opts, uint32_t optlen)
{
    static const uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
    b->ipver = 4;
    b->ip_off = b->len;
    pb_u8(b, (uint8_t)(0x40 | (20 + optlen) / 4));
    pb_u8(b, 0x10);
    pb_be16(b, 0); /* total length: pb_finish */
    pb_be16(b, 0x1234);
    pb_be16(b, 0x4000); /* DF */
    pb_u8(b, 64);
    b->nh_off = b->len;
    pb_u8(b, 0);
    pb_be16(b, 0);
    pb_bytes(b, addrs, 8);
    pb_bytes(b, opts, optlen);
    b->ip_hdr_end = b->len;
}

void pb_ipv4_frag(struct pb *b, uint32_t off_bytes, bool mf)
{
    pb_put16(b, b->ip_off + 6, (uint16_t)((mf ? 0x2000 : 0) | (off_bytes / 8)));
    b->frag = mf || off_bytes;
    b->frag_later = off_bytes != 0;
}

void pb_ipv6(struct pb *b)
{
    static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    b->ipver = 6;
    b->ip_off = b->len;
    pb_be32(b, 6u << 28 | 0x28u << 20 | 0x12345u);
    pb_be16(b, 0); /* payload length: pb_finish */
    b->nh_off = b->len;
    pb_u8(b, 59);
    pb_u8(b, 64);
    pb_bytes(b, src, 16);
    pb_bytes(b, dst, 16);
    memcpy(b->final_dst, dst, 16);
    b->ip_hdr_end = b->len;
}

void pb_ext(struct pb *b, uint8_t type, uint32_t len)
{
    b->buf[b->nh_off] = type;
    b->nh_off = b->len;
    uint32_t start = b->len;
    pb_u8(b, 59);
    if (type == 51)
        pb_u8(b, (uint8_t)(len / 4 - 2));
    else if (type == 44)
        pb_u8(b, 0);
    else
        pb_u8(b, (uint8_t)(len / 8 - 1));
    pb_bytes(b, NULL, len - 2);
    if ((type == 0 || type == 60) && len > 2) {
        /* PadN option filling the header (RFC 8200 section 4.2) */
        b->buf[start + 2] = 1;
        b->buf[start + 3] = (uint8_t)(len - 4);
    }
    b->ext_type[b->n_ext] = type;
    b->ext_end[b->n_ext++] = b->len;
    b->ip_hdr_end = b->len;
}

void pb_ext_frag(struct pb *b, uint32_t off_bytes, bool m, uint32_t id)
{
    pb_ext(b, 44, 8);
    uint32_t at = b->len - 8;
    pb_put16(b, at + 2, (uint16_t)(off_bytes | (m ? 1 : 0)));
    pb_put16(b, at + 4, (uint16_t)(id >> 16));
    pb_put16(b, at + 6, (uint16_t)id);
    b->frag = m || off_bytes;
    b->frag_later = off_bytes != 0;
}

void pb_ext_routing(struct pb *b, uint8_t rtype, int n, uint8_t segs_left)
{
    pb_ext(b, 43, 8 + 16 * (uint32_t)n);
    uint32_t at = b->len - 8 - 16 * (uint32_t)n;
    b->buf[at + 2] = rtype;
    b->buf[at + 3] = segs_left;
    for (int i = 0; i < n; i++) {
        uint8_t *a = b->buf + at + 8 + 16 * i;
        a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8, a[14] = 1, a[15] = (uint8_t)i;
    }
    if (segs_left && n > 0) {
        int last = rtype == 0 ? n - 1 : 0;
        memcpy(b->final_dst, b->buf + at + 8 + 16 * last, 16);
    }
}

/* ---- transport ---- */

void pb_proto(struct pb *b, uint8_t proto)
{
    b->buf[b->nh_off] = proto;
}

void pb_tcp(struct pb *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
            const uint8_t *opts, uint32_t optlen)
{
    pb_proto(b, 6);
    b->l4_proto = 6;
    b->l4_off = b->len;
    pb_be16(b, sport);
    pb_be16(b, dport);
    pb_be32(b, seq);
    pb_be32(b, ack);
    pb_u8(b, (uint8_t)((20 + optlen) / 4 << 4));
    pb_u8(b, flags);
    pb_be16(b, 65535);
    pb_be16(b, 0);
    pb_be16(b, 0);
    pb_bytes(b, opts, optlen);
    b->l4_hdr_end = b->len;
}

void pb_udp(struct pb *b, uint16_t sport, uint16_t dport)
{
    pb_proto(b, 17);
    b->l4_proto = 17;
    b->l4_off = b->len;
    pb_be16(b, sport);
    pb_be16(b, dport);
    pb_be16(b, 0);
    pb_be16(b, 0);
    b->l4_hdr_end = b->len;
}

void pb_icmp(struct pb *b, uint8_t type, uint8_t code)
{
    uint8_t proto = b->ipver == 6 ? 58 : 1;
    pb_proto(b, proto);
    b->l4_proto = proto;
    b->l4_off = b->len;
    pb_u8(b, type);
    pb_u8(b, code);
    pb_be16(b, 0);
    b->l4_hdr_end = b->len;
    pb_be32(b, 0x00010001); /* echo id, sequence */
}

void pb_payload(struct pb *b, const uint8_t *data, uint32_t n)
{
    pb_need(b, n);
    for (uint32_t i = 0; i < n; i++)
        b->buf[b->len + i] = data ? data[i] : (uint8_t)('a' + i % 26);
    b->len += n;
}

/* ---- finishing ---- */

void pb_ipv4_recksum(struct pb *b)
{
    uint32_t hl = (b->buf[b->ip_off] & 0x0fu) * 4;
    pb_put16(b, b->ip_off + 10, 0);
    pb_put16(b, b->ip_off + 10, (uint16_t)~pb_fold(pb_sum(b->buf + b->ip_off, hl, 0)));
}

static uint32_t pb_pseudo_addrs(const struct pb *b)
{
    if (b->ipver == 4)
        return pb_sum(b->buf + b->ip_off + 12, 8, 0);
    return pb_sum(b->final_dst, 16, pb_sum(b->buf + b->ip_off + 8, 16, 0));
}

void pb_finish(struct pb *b)
{
    b->end = b->len;
    if (b->ipver == 4 && !b->keep_ip_len)
        pb_put16(b, b->ip_off + 2, (uint16_t)(b->len - b->ip_off));
    if (b->ipver == 6 && !b->keep_ip_len)
        pb_put16(b, b->ip_off + 4, (uint16_t)(b->len - b->ip_off - 40));

    if (b->l4_proto) {
        uint32_t l4len = b->len - b->l4_off;
        uint32_t ck_off = b->l4_off + (b->l4_proto == 6 ? 16 : b->l4_proto == 17 ? 6 : 2);
        if (b->l4_proto == 17)
            pb_put16(b, b->l4_off + 4, (uint16_t)l4len);
        uint32_t ph_nolen = pb_pseudo_addrs(b) + b->l4_proto;
        uint32_t ph = ph_nolen + (l4len >> 16) + (l4len & 0xffff);
        if (b->l4_proto == 1)
            ph = ph_nolen = 0; /* ICMPv4: no pseudo-header */
        if (b->cksum != PB_CK_KEEP)
            pb_put16(b, ck_off, 0);
        uint16_t good = (uint16_t)~pb_fold(pb_sum(b->buf + b->l4_off, l4len, ph));
        uint16_t v = good;
        switch (b->cksum) {
        case PB_CK_GOOD:
            break;
        case PB_CK_BAD:
            v = (uint16_t)(good ^ 0x5a5a);
            break;
        case PB_CK_PARTIAL:
            v = pb_fold(ph);
            break;
        case PB_CK_PARTIAL_NOT:
            v = (uint16_t)~pb_fold(ph);
            break;
        case PB_CK_PARTIAL_NOLEN:
            v = pb_fold(ph_nolen);
            break;
        case PB_CK_KEEP:
            v = (uint16_t)(b->buf[ck_off] << 8 | b->buf[ck_off + 1]);
            break;
        }
        pb_put16(b, ck_off, v);
    }
    if (b->ipver == 4)
        pb_ipv4_recksum(b);
}

void pb_trailer(struct pb *b, uint32_t n)
{
    pb_need(b, n);
    memset(b->buf + b->len, 0xee, n);
    b->len += n;
}

/* One mapping for the whole test run: data pages, then a PROT_NONE page. */
const uint8_t *pb_guard_copy(const uint8_t *src, uint32_t n)
{
    static uint8_t *guard;
    if (!guard) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t data = (PB_GUARD_MAX + page - 1) / page * page;
        uint8_t *m =
            mmap(NULL, data + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED || mprotect(m + data, page, PROT_NONE) != 0) {
            perror("pktbuild: guard page");
            abort();
        }
        guard = m + data;
    }
    if (n > PB_GUARD_MAX)
        abort();
    memcpy(guard - n, src, n);
    return guard - n;
}
