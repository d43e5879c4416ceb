/* decode_sweep.c - truncation sweep: every prefix of every fixture, decoded from a buffer
 * that ends at a PROT_NONE guard page.
 *
 * For each fixture (built by pktbuild.h, which records where every layer starts and
 * ends) and each caplen 0..full with the wire length = full, the expectation is derived
 * from the layer boundaries: a prefix that cuts the link header gives link.truncated, one
 * that cuts the IP header ipv4/ipv6.truncated and no transport, one that cuts the TCP
 * fixed header or options tcp.truncated, one that cuts only payload nothing but
 * snap_truncated (and payload_caplen = what is there). Every field the prefix holds must
 * also equal the full decode's.
 *
 * A second pass decodes every prefix as if the wire frame were only that long: the IP
 * length then lies about the frame, which must be an anomaly and never a snaplen cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decode/pktbuild.h"
#include "synack/decode.h"

#define A(x) ANOMALY_BIT(ANOMALY_##x)

struct fixture {
    const char *name;
    void (*build)(struct pb *b);
    enum cksum_state tcp_cksum; /* state of the TCP checksum when all is captured */
};

/* ---- fixtures ---- */

static const uint8_t SYN_OPTS[20] = {2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                     0x12, 0x34, 0,    0,    0, 0, 1, 3,  3, 7};
static const uint8_t TS_OPTS[12] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8};
static const uint8_t SACK_OPTS[20] = {1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 6};

static void tcp_data(struct pb *b, uint32_t paylen)
{
    pb_tcp(b, 40000, 80, 1000, 2000, TCP_PSH | TCP_ACK, TS_OPTS, sizeof TS_OPTS);
    pb_payload(b, NULL, paylen);
    pb_finish(b);
}

static void v4_tcp(struct pb *b)
{
    pb_ipv4(b, NULL, 0);
    tcp_data(b, 17);
}

static void v6_tcp(struct pb *b)
{
    pb_ipv6(b);
    tcp_data(b, 17);
}

static void fx_eth_v4_syn(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    pb_tcp(b, 40000, 80, 1000, 0, TCP_SYN, SYN_OPTS, sizeof SYN_OPTS);
    pb_finish(b);
}

static void fx_eth_v4_data(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    tcp_data(b, 200);
}

static void fx_eth_v4_padded(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    pb_tcp(b, 40000, 80, 1000, 2000, TCP_ACK, NULL, 0);
    pb_payload(b, NULL, 1);
    pb_finish(b);
    pb_trailer(b, 5);
}

static void fx_eth_v4_ipopts(struct pb *b)
{
    static const uint8_t opts[8] = {0x94, 4, 0, 0, 1, 1, 1, 0};
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, opts, sizeof opts);
    tcp_data(b, 5);
}

static void fx_eth_v4_totlen0(struct pb *b)
{
    fx_eth_v4_data(b);
    pb_put16(b, 16, 0);
    pb_ipv4_recksum(b);
}

static void fx_eth_v4_partial(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    b->cksum = PB_CK_PARTIAL;
    tcp_data(b, 33);
}

static void fx_eth_v4_bad_cksum(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    b->cksum = PB_CK_BAD;
    tcp_data(b, 8);
}

static const uint16_t TCI[5] = {100, 200, 300, 400, 500};

static void fx_vlan1(struct pb *b)
{
    static const uint16_t tpid[1] = {0x8100};
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth_vlan(b, 1, tpid, TCI, 0x0800);
    v4_tcp(b);
}

static void fx_qinq(struct pb *b)
{
    static const uint16_t tpid[2] = {0x88a8, 0x8100};
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth_vlan(b, 2, tpid, TCI, 0x86dd);
    v6_tcp(b);
}

static void fx_vlan4(struct pb *b)
{
    static const uint16_t tpid[4] = {0x88a8, 0x9100, 0x8100, 0x8100};
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth_vlan(b, 4, tpid, TCI, 0x0800);
    v4_tcp(b);
}

static void fx_vlan5(struct pb *b)
{
    static const uint16_t tpid[5] = {0x88a8, 0x8100, 0x8100, 0x8100, 0x8100};
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth_vlan(b, 5, tpid, TCI, 0x0800);
    v4_tcp(b);
}

static void fx_sll_v4(struct pb *b)
{
    pb_init(b, SYNACK_DLT_LINUX_SLL);
    pb_sll(b, 0, 0x0800);
    v4_tcp(b);
}

static void fx_sll2_v6(struct pb *b)
{
    pb_init(b, SYNACK_DLT_LINUX_SLL2);
    pb_sll2(b, 1, 4, 0x86dd);
    v6_tcp(b);
}

static void fx_null_le_v4(struct pb *b)
{
    pb_init(b, SYNACK_DLT_NULL);
    pb_null(b, 2, false);
    v4_tcp(b);
}

static void fx_null_be_v6_24(struct pb *b)
{
    pb_init(b, SYNACK_DLT_NULL);
    pb_null(b, 24, true);
    v6_tcp(b);
}

static void fx_null_le_v6_28(struct pb *b)
{
    pb_init(b, SYNACK_DLT_NULL);
    pb_null(b, 28, false);
    v6_tcp(b);
}

static void fx_null_be_v6_30(struct pb *b)
{
    pb_init(b, SYNACK_DLT_NULL);
    pb_null(b, 30, true);
    v6_tcp(b);
}

static void fx_loop_v4(struct pb *b)
{
    pb_init(b, SYNACK_DLT_LOOP);
    pb_loop(b, 2);
    v4_tcp(b);
}

static void fx_loop_v6(struct pb *b)
{
    pb_init(b, SYNACK_DLT_LOOP);
    pb_loop(b, 30);
    v6_tcp(b);
}

static void fx_raw12_v4(struct pb *b)
{
    pb_init(b, SYNACK_DLT_RAW);
    v4_tcp(b);
}

static void fx_raw14_v6(struct pb *b)
{
    pb_init(b, SYNACK_DLT_RAW_ALT);
    v6_tcp(b);
}

static void fx_raw101_v4(struct pb *b)
{
    pb_init(b, SYNACK_LINKTYPE_RAW);
    v4_tcp(b);
}

static void fx_dlt_ipv4(struct pb *b)
{
    pb_init(b, SYNACK_DLT_IPV4);
    v4_tcp(b);
}

static void fx_dlt_ipv6(struct pb *b)
{
    pb_init(b, SYNACK_DLT_IPV6);
    v6_tcp(b);
}

static void fx_eth_v6_exts(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x86dd);
    pb_ipv6(b);
    pb_ext(b, 0, 8);
    pb_ext(b, 60, 16);
    pb_ext_routing(b, 2, 1, 1);
    pb_ext_frag(b, 0, false, 99);
    pb_ext(b, 51, 16);
    pb_tcp(b, 40000, 80, 1000, 2000, TCP_ACK, SACK_OPTS, sizeof SACK_OPTS);
    pb_payload(b, NULL, 30);
    pb_finish(b);
}

static void fx_eth_v6_partial(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x86dd);
    pb_ipv6(b);
    b->cksum = PB_CK_PARTIAL;
    tcp_data(b, 9);
}

static void fx_eth_v6_jumbo(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x86dd);
    pb_ipv6(b);
    tcp_data(b, 300);
    pb_put16(b, 18, 0);
}

static void fx_v4_frag_first(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    pb_ipv4_frag(b, 0, true);
    tcp_data(b, 40);
}

static void fx_v4_frag_later(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    pb_ipv4_frag(b, 64, false);
    pb_proto(b, 6);
    pb_payload(b, NULL, 40);
    pb_finish(b);
}

static void fx_v6_frag_first(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x86dd);
    pb_ipv6(b);
    pb_ext(b, 0, 8);
    pb_ext_frag(b, 0, true, 5);
    tcp_data(b, 40);
}

static void fx_v6_frag_later(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x86dd);
    pb_ipv6(b);
    pb_ext_frag(b, 1232, true, 5);
    pb_proto(b, 6);
    pb_payload(b, NULL, 40);
    pb_finish(b);
}

static void fx_v4_udp(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    pb_udp(b, 5353, 53);
    pb_payload(b, NULL, 21);
    pb_finish(b);
}

static void fx_v6_udp(struct pb *b)
{
    pb_init(b, SYNACK_DLT_LINUX_SLL2);
    pb_sll2(b, 2, 0, 0x86dd);
    pb_ipv6(b);
    pb_udp(b, 5353, 53);
    pb_payload(b, NULL, 21);
    pb_finish(b);
}

static void fx_v4_icmp(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    pb_icmp(b, 8, 0);
    pb_payload(b, NULL, 16);
    pb_finish(b);
}

static void fx_v6_icmp(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x86dd);
    pb_ipv6(b);
    pb_icmp(b, 128, 0);
    pb_payload(b, NULL, 16);
    pb_finish(b);
}

static void fx_v4_gre(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    pb_proto(b, 47);
    pb_payload(b, NULL, 24);
    pb_finish(b);
}

static void fx_arp(struct pb *b)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0806);
    pb_payload(b, NULL, 28);
    pb_finish(b);
    pb_trailer(b, 18);
}

static const struct fixture fixtures[] = {
    {"eth_v4_syn", fx_eth_v4_syn, CKSUM_OK},
    {"eth_v4_data", fx_eth_v4_data, CKSUM_OK},
    {"eth_v4_padded", fx_eth_v4_padded, CKSUM_OK},
    {"eth_v4_ipopts", fx_eth_v4_ipopts, CKSUM_OK},
    {"eth_v4_totlen0", fx_eth_v4_totlen0, CKSUM_OK},
    {"eth_v4_partial", fx_eth_v4_partial, CKSUM_UNVERIFIED},
    {"eth_v4_bad_cksum", fx_eth_v4_bad_cksum, CKSUM_BAD},
    {"vlan1", fx_vlan1, CKSUM_OK},
    {"qinq_v6", fx_qinq, CKSUM_OK},
    {"vlan4", fx_vlan4, CKSUM_OK},
    {"vlan5_too_deep", fx_vlan5, CKSUM_OK},
    {"sll_v4", fx_sll_v4, CKSUM_OK},
    {"sll2_v6", fx_sll2_v6, CKSUM_OK},
    {"null_le_v4", fx_null_le_v4, CKSUM_OK},
    {"null_be_v6_24", fx_null_be_v6_24, CKSUM_OK},
    {"null_le_v6_28", fx_null_le_v6_28, CKSUM_OK},
    {"null_be_v6_30", fx_null_be_v6_30, CKSUM_OK},
    {"loop_v4", fx_loop_v4, CKSUM_OK},
    {"loop_v6", fx_loop_v6, CKSUM_OK},
    {"raw12_v4", fx_raw12_v4, CKSUM_OK},
    {"raw14_v6", fx_raw14_v6, CKSUM_OK},
    {"raw101_v4", fx_raw101_v4, CKSUM_OK},
    {"dlt_ipv4", fx_dlt_ipv4, CKSUM_OK},
    {"dlt_ipv6", fx_dlt_ipv6, CKSUM_OK},
    {"eth_v6_exts", fx_eth_v6_exts, CKSUM_OK},
    {"eth_v6_partial", fx_eth_v6_partial, CKSUM_UNVERIFIED},
    {"eth_v6_jumbo", fx_eth_v6_jumbo, CKSUM_OK},
    {"v4_frag_first", fx_v4_frag_first, CKSUM_UNCHECKED},
    {"v4_frag_later", fx_v4_frag_later, CKSUM_UNCHECKED},
    {"v6_frag_first", fx_v6_frag_first, CKSUM_UNCHECKED},
    {"v6_frag_later", fx_v6_frag_later, CKSUM_UNCHECKED},
    {"v4_udp", fx_v4_udp, CKSUM_UNCHECKED},
    {"v6_udp", fx_v6_udp, CKSUM_UNCHECKED},
    {"v4_icmp", fx_v4_icmp, CKSUM_UNCHECKED},
    {"v6_icmp", fx_v6_icmp, CKSUM_UNCHECKED},
    {"v4_gre", fx_v4_gre, CKSUM_UNCHECKED},
    {"arp", fx_arp, CKSUM_UNCHECKED},
};

/* ---- the oracle ---- */

struct expect {
    int ret;
    anomaly_set an;
    enum l3_kind l3;
    enum l4_kind l4;
    bool tcp_valid;
    bool snap;
    bool tcp_fixed; /* the TCP fixed header was captured */
    uint32_t opts_len;
    uint32_t payload_len, payload_caplen;
    enum cksum_state ip_cksum, tcp_cksum;
};

static bool is_raw(int dlt)
{
    return dlt == SYNACK_DLT_RAW || dlt == SYNACK_DLT_RAW_ALT || dlt == SYNACK_LINKTYPE_RAW;
}

/* What decoding cap bytes of fixture b (wire length b->len) must give. */
static struct expect oracle(const struct fixture *fx, const struct pb *b, uint32_t cap)
{
    struct expect e = {0};
    if (b->n_vlan > SYNACK_MAX_VLAN) {
        e.an = cap < 14 + 4 * SYNACK_MAX_VLAN ? A(LINK_TRUNCATED) : A(LINK_VLAN_TOO_DEEP);
        return e;
    }
    if (cap < b->link_len || (is_raw(b->dlt) && cap == 0)) {
        e.an = A(LINK_TRUNCATED);
        return e;
    }
    e.ret = 2;
    if (b->ipver == 0) {
        e.l3 = L3_OTHER;
        return e;
    }
    anomaly_set trunc = b->ipver == 4 ? A(IPV4_TRUNCATED) : A(IPV6_TRUNCATED);
    if (cap < b->ip_off + (b->ipver == 4 ? 20u : 40u)) {
        e.an = trunc;
        return e;
    }
    e.ret = 3;
    e.l3 = b->ipver == 4 ? L3_IPV4 : L3_IPV6;
    e.snap = cap < b->end;
    if (b->ipver == 4) {
        if (cap < b->ip_hdr_end) {
            e.an = trunc;
            return e;
        }
        e.ip_cksum = CKSUM_OK;
        if (b->frag)
            e.an |= A(IPV4_FRAGMENT);
        if (b->frag_later) {
            e.l4 = L4_OTHER;
            return e;
        }
    } else {
        for (int i = 0; i < b->n_ext; i++) {
            if (cap < b->ext_end[i]) {
                e.an |= trunc;
                return e;
            }
            if (b->ext_type[i] == 44 && b->frag)
                e.an |= A(IPV6_FRAGMENT);
            if (b->ext_type[i] == 44 && b->frag_later) {
                e.l4 = L4_OTHER;
                return e;
            }
        }
    }
    switch (b->l4_proto) {
    case 6:
        e.l4 = L4_TCP;
        if (cap < b->l4_off + 20) {
            e.an |= A(TCP_TRUNCATED);
            return e;
        }
        e.tcp_fixed = true;
        if (cap < b->l4_hdr_end) {
            e.an |= A(TCP_TRUNCATED);
            e.opts_len = cap - b->l4_off - 20;
            return e;
        }
        e.ret = 4;
        e.tcp_valid = true;
        e.opts_len = b->l4_hdr_end - b->l4_off - 20;
        e.payload_len = b->end - b->l4_hdr_end;
        e.payload_caplen = (cap < b->end ? cap : b->end) - b->l4_hdr_end;
        e.tcp_cksum = cap >= b->end ? fx->tcp_cksum : CKSUM_UNCHECKED;
        return e;
    case 17:
        e.l4 = L4_UDP;
        if (cap < b->l4_off + 8)
            e.an |= A(UDP_TRUNCATED);
        else
            e.ret = 4;
        return e;
    case 1:
    case 58:
        e.l4 = b->l4_proto == 1 ? L4_ICMP : L4_ICMPV6;
        if (cap < b->l4_off + 4)
            e.an |= A(ICMP_TRUNCATED);
        else
            e.ret = 4;
        return e;
    default:
        e.l4 = L4_OTHER;
        return e;
    }
}

static void print_set(const char *what, anomaly_set s)
{
    print_error("%s:", what);
    for (int a = 0; a < ANOMALY_COUNT; a++)
        if (s & ANOMALY_BIT(a))
            print_error(" %s", anomaly_name((enum anomaly)a));
    print_error("\n");
}

/* Compare one prefix against the oracle and the full decode; report which prefix. */
static void check_prefix(const struct fixture *fx, const struct pb *b, uint32_t cap,
                         const struct packet *full)
{
    struct packet p;
    memset(&p, 0x5a, sizeof p);
    int ret = decode_packet(&p, b->dlt, pb_guard_copy(b->buf, cap), cap, b->len);
    struct expect e = oracle(fx, b, cap);
    const char *what = NULL;

    if (ret != e.ret)
        what = "return value";
    else if (p.anomalies != e.an)
        what = "anomalies";
    else if (p.l3 != e.l3)
        what = "l3";
    else if (p.l4 != e.l4)
        what = "l4";
    else if (p.tcp_valid != e.tcp_valid)
        what = "tcp_valid";
    else if (p.snap_truncated != e.snap)
        what = "snap_truncated";
    else if (ret >= 2 && p.link.hdr_len != full->link.hdr_len)
        what = "link.hdr_len";
    else if (e.l3 == L3_IPV4 && p.ip.cksum != e.ip_cksum)
        what = "ip.cksum";
    else if (ret >= 3 &&
             (memcmp(p.ip.src, full->ip.src, 16) || memcmp(p.ip.dst, full->ip.dst, 16) ||
              p.ip.ttl != full->ip.ttl || p.ip.total_len != full->ip.total_len))
        what = "ip fields";
    else if (e.tcp_fixed && (p.u.tcp.sport != full->u.tcp.sport || p.u.tcp.seq != full->u.tcp.seq ||
                             p.u.tcp.ack != full->u.tcp.ack || p.u.tcp.flags != full->u.tcp.flags ||
                             p.u.tcp.doff != full->u.tcp.doff || p.u.tcp.opts_len != e.opts_len))
        what = "tcp fixed fields";
    else if (e.tcp_valid &&
             (p.u.tcp.payload_len != e.payload_len || p.u.tcp.payload_caplen != e.payload_caplen ||
              (p.u.tcp.payload == NULL) != (e.payload_caplen == 0) ||
              p.u.tcp.cksum != e.tcp_cksum || p.u.tcp.o.present != full->u.tcp.o.present))
        what = "tcp payload/checksum";
    else if (e.ret == 4 && e.l4 == L4_UDP &&
             (p.u.udp.sport != full->u.udp.sport || p.u.udp.len != full->u.udp.len))
        what = "udp fields";
    else if (e.ret == 4 && (e.l4 == L4_ICMP || e.l4 == L4_ICMPV6) &&
             p.u.icmp.type != full->u.icmp.type)
        what = "icmp fields";
    if (!what)
        return;
    print_error("fixture %s, caplen %u of %u: %s differ (ret %d want %d, l3 %d/%d, l4 %d/%d, "
                "tcp_valid %d/%d, snap %d/%d, payload_caplen %u/%u, tcp cksum %d/%d)\n",
                fx->name, cap, b->len, what, ret, e.ret, p.l3, e.l3, p.l4, e.l4, p.tcp_valid,
                e.tcp_valid, p.snap_truncated, e.snap, p.u.tcp.payload_caplen, e.payload_caplen,
                p.u.tcp.cksum, e.tcp_cksum);
    print_set("  anomalies got ", p.anomalies);
    print_set("  anomalies want", e.an);
    fail();
}

static void decode_sweep_prefixes(void **state)
{
    (void)state;
    unsigned decoded = 0;
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        const struct fixture *fx = &fixtures[i];
        struct pb b;
        struct packet full;
        fx->build(&b);
        decode_packet(&full, b.dlt, pb_guard_copy(b.buf, b.len), b.len, b.len);
        for (uint32_t cap = 0; cap <= b.len; cap++, decoded++)
            check_prefix(fx, &b, cap, &full);
    }
    assert_true(decoded > 3000);
}

/* Wire length = caplen: nothing was cut by a snaplen, so snap_truncated is never set and
 * an IP length beyond the prefix is the IP layer's anomaly. */
static void decode_sweep_short_frames(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        const struct fixture *fx = &fixtures[i];
        struct pb b;
        fx->build(&b);
        for (uint32_t cap = 0; cap <= b.len; cap++) {
            struct packet p;
            memset(&p, 0x5a, sizeof p);
            int ret = decode_packet(&p, b.dlt, pb_guard_copy(b.buf, cap), cap, cap);
            assert_false(p.snap_truncated);
            assert_true(ret >= 0 && ret <= 4);
            if (p.tcp_valid)
                assert_int_equal(p.u.tcp.payload_caplen, p.u.tcp.payload_len);
            bool lies = p.l3 != L3_NONE && p.l3 != L3_OTHER && cap < b.end && !p.ip.len_from_frame;
            if (lies) {
                anomaly_set beyond =
                    b.ipver == 4 ? A(IPV4_TOTLEN_BEYOND_FRAME) : A(IPV6_PLEN_BEYOND_FRAME);
                if (!(p.anomalies & beyond)) {
                    print_error("fixture %s, caplen = len = %u: no beyond-frame anomaly\n",
                                fx->name, cap);
                    fail();
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_sweep_prefixes),
        cmocka_unit_test(decode_sweep_short_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
