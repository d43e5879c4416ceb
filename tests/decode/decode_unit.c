/* decode_unit.c - unit tests of the packet decoder: every link type, IPv4/IPv6 lengths,
 * options, extension headers and fragments, every TCP option, flag and anomaly, the
 * checksum states, UDP/ICMP summaries, tcp_opt_next and the checksum helpers.
 *
 * Every frame is built with the test byte builder (pktbuild.h) and decoded from a copy
 * that ends at a guard page, so an over-read faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/pktbuild.h"
#include "synack/decode.h"

#define A(x) ANOMALY_BIT(ANOMALY_##x)

static const uint8_t V4_SRC[4] = {10, 0, 0, 1}, V4_DST[4] = {10, 0, 0, 2};

/* ---- helpers ---- */

/* Every anomaly some test here has seen the decoder raise (see decode_anomaly_coverage). */
static anomaly_set seen_anomalies;

/* Decode caplen bytes of b's frame, which was b->len bytes on the wire. */
static int dec_cut(struct packet *p, const struct pb *b, uint32_t caplen, uint32_t len)
{
    memset(p, 0xa5, sizeof *p);
    p->n = 7;
    p->ts_ns = 42;
    int ret = decode_packet(p, b->dlt, pb_guard_copy(b->buf, caplen), caplen, len);
    seen_anomalies |= p->anomalies;
    return ret;
}

static int dec(struct packet *p, const struct pb *b)
{
    return dec_cut(p, b, b->len, b->len);
}

static void print_set(const char *what, anomaly_set s)
{
    print_error("%s:", what);
    for (int a = 0; a < ANOMALY_COUNT; a++)
        if (s & ANOMALY_BIT(a))
            print_error(" %s", anomaly_name((enum anomaly)a));
    print_error("\n");
}

#define assert_anomalies(p, want) check_anomalies((p)->anomalies, (want), __FILE__, __LINE__)
static void check_anomalies(anomaly_set got, anomaly_set want, const char *file, int line)
{
    if (got == want)
        return;
    print_set("anomalies got ", got);
    print_set("anomalies want", want);
    _fail(file, line);
}

static void mk_v4_tcp(struct pb *b, uint8_t flags, const uint8_t *opts, uint32_t optlen,
                      uint32_t paylen)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    pb_tcp(b, 40000, 80, 1000, 2000, flags, opts, optlen);
    pb_payload(b, NULL, paylen);
    pb_finish(b);
}

static void mk_v6_tcp(struct pb *b, uint8_t flags, uint32_t paylen)
{
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x86dd);
    pb_ipv6(b);
    pb_tcp(b, 40000, 443, 1000, 2000, flags, NULL, 0);
    pb_payload(b, NULL, paylen);
    pb_finish(b);
}

/* IP + TCP (10 payload bytes) after whatever link header b already holds. */
static void add_v4_tcp(struct pb *b)
{
    pb_ipv4(b, NULL, 0);
    pb_tcp(b, 1234, 80, 1, 0, TCP_SYN, NULL, 0);
    pb_payload(b, NULL, 10);
    pb_finish(b);
}

static void add_v6_tcp(struct pb *b)
{
    pb_ipv6(b);
    pb_tcp(b, 1234, 80, 1, 0, TCP_SYN, NULL, 0);
    pb_payload(b, NULL, 10);
    pb_finish(b);
}

/* A clean decode down to a valid TCP header with its checksum right. */
static void assert_tcp_ok(const struct packet *p, enum l3_kind l3)
{
    assert_anomalies(p, 0);
    assert_int_equal(p->l3, l3);
    assert_int_equal(p->l4, L4_TCP);
    assert_true(p->tcp_valid);
    assert_false(p->snap_truncated);
    assert_int_equal(p->u.tcp.cksum, CKSUM_OK);
}

/* ---- anomaly list, DLT table, entry point ---- */

static void decode_anomaly_names(void **state)
{
    (void)state;
    for (int a = 0; a < ANOMALY_COUNT; a++) {
        const char *n = anomaly_name((enum anomaly)a);
        assert_non_null(n);
        assert_non_null(strchr(n, '.'));
        assert_true(strlen(anomaly_desc((enum anomaly)a)) > 10);
        for (int b = 0; b < a; b++)
            assert_string_not_equal(n, anomaly_name((enum anomaly)b));
    }
    assert_string_equal(anomaly_name(ANOMALY_TCP_TRUNCATED), "tcp.truncated");
    assert_string_equal(anomaly_name(ANOMALY_IPV4_HLEN_TOO_SMALL), "ipv4.hlen_too_small");
    assert_string_equal(anomaly_name(ANOMALY_COUNT), "?");
    assert_string_equal(anomaly_name((enum anomaly) - 1), "?");
    assert_string_equal(anomaly_desc(ANOMALY_COUNT), "?");
}

static void decode_dlt_table(void **state)
{
    (void)state;
    static const struct {
        int dlt;
        const char *name;
    } ok[] = {{0, "NULL"},   {1, "EN10MB"},      {12, "RAW"},   {14, "RAW"},   {101, "RAW"},
              {108, "LOOP"}, {113, "LINUX_SLL"}, {228, "IPV4"}, {229, "IPV6"}, {276, "LINUX_SLL2"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_true(decode_dlt_supported(ok[i].dlt));
        assert_string_equal(decode_dlt_name(ok[i].dlt), ok[i].name);
    }
    static const int no[] = {-1, 2, 9, 105, 127, 147, 192, 0x7fffffff};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        assert_false(decode_dlt_supported(no[i]));
        assert_null(decode_dlt_name(no[i]));
    }
}

static void decode_unsupported_dlt(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    mk_v4_tcp(&b, TCP_SYN, NULL, 0, 0);
    b.dlt = 105; /* 802.11 */
    assert_int_equal(dec(&p, &b), 0);
    assert_int_equal(p.n, 7);
    assert_int_equal(p.ts_ns, 42);
    assert_int_equal(p.caplen, b.len);
    assert_int_equal(p.l3, L3_NONE);
    assert_int_equal(p.l4, L4_NONE);
    assert_anomalies(&p, 0);
    /* A NULL data pointer with caplen 0 is an empty capture, not a crash. */
    assert_int_equal(decode_packet(&p, SYNACK_DLT_EN10MB, NULL, 0, 60), 0);
    assert_anomalies(&p, A(LINK_TRUNCATED));
}

/* decode_packet clears everything but n and ts_ns. */
static void decode_clears_packet(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0806);
    pb_payload(&b, NULL, 28);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 2);
    assert_int_equal(p.n, 7);
    assert_int_equal(p.ts_ns, 42);
    assert_int_equal(p.l3, L3_OTHER);
    assert_int_equal(p.l4, L4_NONE);
    assert_false(p.tcp_valid);
    assert_false(p.snap_truncated);
    assert_int_equal(p.link.n_vlan, 0);
    assert_int_equal(p.ip.version, 0);
    assert_int_equal(p.u.tcp.payload_len, 0);
    assert_null(p.u.tcp.payload);
    assert_anomalies(&p, 0);
}

/* ---- link layers ---- */

static void decode_eth_ipv4_tcp(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    mk_v4_tcp(&b, TCP_PSH | TCP_ACK, NULL, 0, 100);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(p.caplen, 154);
    assert_int_equal(p.len, 154);
    assert_int_equal(p.link.dlt, SYNACK_DLT_EN10MB);
    assert_int_equal(p.link.hdr_len, 14);
    assert_int_equal(p.link.ethertype, 0x0800);
    assert_int_equal(p.link.dst_mac[5], 0x02);
    assert_int_equal(p.link.src_mac[5], 0x01);
    assert_int_equal(p.ip.version, 4);
    assert_int_equal(p.ip.hdr_len, 20);
    assert_int_equal(p.ip.total_len, 140);
    assert_int_equal(p.ip.ttl, 64);
    assert_int_equal(p.ip.tos, 0x10);
    assert_int_equal(p.ip.id, 0x1234);
    assert_true(p.ip.df);
    assert_false(p.ip.mf);
    assert_false(p.ip.fragment);
    assert_int_equal(p.ip.frag_off, 0);
    assert_int_equal(p.ip.proto, 6);
    assert_false(p.ip.len_from_frame);
    assert_memory_equal(p.ip.src, V4_SRC, 4);
    assert_memory_equal(p.ip.dst, V4_DST, 4);
    assert_int_equal(p.ip.cksum, CKSUM_OK);
    assert_int_equal(p.ip.cksum_field, b.buf[24] << 8 | b.buf[25]);
    const struct pkt_tcp *t = &p.u.tcp;
    assert_int_equal(t->sport, 40000);
    assert_int_equal(t->dport, 80);
    assert_int_equal(t->seq, 1000);
    assert_int_equal(t->ack, 2000);
    assert_int_equal(t->flags, TCP_PSH | TCP_ACK);
    assert_int_equal(t->doff, 20);
    assert_int_equal(t->win, 65535);
    assert_int_equal(t->urp, 0);
    assert_null(t->opts);
    assert_int_equal(t->opts_len, 0);
    assert_int_equal(t->o.present, 0);
    assert_int_equal(t->payload_len, 100);
    assert_int_equal(t->payload_caplen, 100);
    assert_non_null(t->payload);
    assert_memory_equal(t->payload, b.buf + 54, 100);
    assert_int_equal(t->cksum_field, b.buf[50] << 8 | b.buf[51]);
}

static void decode_eth_vlan(void **state)
{
    (void)state;
    static const struct {
        int n;
        uint16_t tpid[5];
    } cases[] = {
        {1, {0x8100}},
        {2, {0x88a8, 0x8100}}, /* QinQ, 802.1ad */
        {2, {0x9100, 0x8100}}, /* pre-standard stacked tag */
        {4, {0x88a8, 0x9100, 0x8100, 0x8100}},
    };
    static const uint16_t tci[5] = {0x0064, 0x2065, 0xe066, 0x0fff, 0x0001};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pb b;
        struct packet p;
        pb_init(&b, SYNACK_DLT_EN10MB);
        pb_eth_vlan(&b, cases[i].n, cases[i].tpid, tci, 0x0800);
        add_v4_tcp(&b);
        assert_int_equal(dec(&p, &b), 4);
        assert_tcp_ok(&p, L3_IPV4);
        assert_int_equal(p.link.n_vlan, cases[i].n);
        assert_int_equal(p.link.hdr_len, 14 + 4 * cases[i].n);
        assert_int_equal(p.link.ethertype, 0x0800);
        for (int k = 0; k < cases[i].n; k++)
            assert_int_equal(p.link.vlan_tci[k], tci[k]);
        assert_int_equal(p.u.tcp.payload_len, 10);
    }
    /* One tag more than SYNACK_MAX_VLAN. */
    static const uint16_t deep[5] = {0x88a8, 0x8100, 0x8100, 0x8100, 0x8100};
    struct pb b;
    struct packet p;
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth_vlan(&b, 5, deep, tci, 0x0800);
    add_v4_tcp(&b);
    assert_int_equal(dec(&p, &b), 0);
    assert_anomalies(&p, A(LINK_VLAN_TOO_DEEP));
    assert_int_equal(p.link.n_vlan, SYNACK_MAX_VLAN);
    assert_int_equal(p.l3, L3_NONE);
    /* A VLAN-tagged ARP is L3_OTHER. */
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth_vlan(&b, 1, deep + 1, tci, 0x0806);
    pb_payload(&b, NULL, 28);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 2);
    assert_int_equal(p.l3, L3_OTHER);
    assert_int_equal(p.link.ethertype, 0x0806);
    assert_anomalies(&p, 0);
}

static void decode_eth_non_ip(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    static const uint16_t types[] = {0x0806 /* ARP */, 0x88cc /* LLDP */, 46 /* 802.3 length */};
    for (size_t i = 0; i < 3; i++) {
        pb_init(&b, SYNACK_DLT_EN10MB);
        pb_eth(&b, types[i]);
        pb_payload(&b, NULL, 46);
        pb_finish(&b);
        assert_int_equal(dec(&p, &b), 2);
        assert_int_equal(p.l3, L3_OTHER);
        assert_int_equal(p.l4, L4_NONE);
        assert_int_equal(p.link.ethertype, types[i]);
        assert_anomalies(&p, 0);
    }
}

static void decode_sll_sll2(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    pb_init(&b, SYNACK_DLT_LINUX_SLL);
    pb_sll(&b, 4, 0x0800);
    add_v4_tcp(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(p.link.hdr_len, 16);
    assert_int_equal(p.link.sll_pkttype, 4);
    assert_int_equal(p.link.ethertype, 0x0800);
    assert_null(p.link.src_mac);
    assert_null(p.link.dst_mac);

    pb_init(&b, SYNACK_DLT_LINUX_SLL);
    pb_sll(&b, 0, 0x86dd);
    add_v6_tcp(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV6);
    assert_int_equal(p.link.sll_pkttype, 0);

    /* libpcap re-inserts a VLAN tag after the SLL header. */
    static const uint16_t tci = 7;
    pb_init(&b, SYNACK_DLT_LINUX_SLL);
    pb_sll(&b, 0, 0x8100);
    pb_be16(&b, tci);
    pb_be16(&b, 0x0800);
    b.link_len = b.ip_off = b.len;
    add_v4_tcp(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(p.link.hdr_len, 20);
    assert_int_equal(p.link.n_vlan, 1);
    assert_int_equal(p.link.vlan_tci[0], tci);

    pb_init(&b, SYNACK_DLT_LINUX_SLL2);
    pb_sll2(&b, 3, 4, 0x86dd);
    add_v6_tcp(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV6);
    assert_int_equal(p.link.hdr_len, 20);
    assert_int_equal(p.link.sll_ifindex, 3);
    assert_int_equal(p.link.sll_pkttype, 4);
    assert_int_equal(p.link.ethertype, 0x86dd);

    pb_init(&b, SYNACK_DLT_LINUX_SLL2);
    pb_sll2(&b, 0x01020304, 0, 0x0800);
    add_v4_tcp(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(p.link.sll_ifindex, 0x01020304);

    /* Netlink / other protocols through SLL: L3_OTHER. */
    pb_init(&b, SYNACK_DLT_LINUX_SLL2);
    pb_sll2(&b, 1, 0, 0x0806);
    pb_payload(&b, NULL, 28);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 2);
    assert_int_equal(p.l3, L3_OTHER);
    assert_anomalies(&p, 0);
}

static void decode_null_loop(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    /* DLT_NULL: AF_INET, either byte order. */
    for (int be = 0; be < 2; be++) {
        pb_init(&b, SYNACK_DLT_NULL);
        pb_null(&b, 2, be);
        add_v4_tcp(&b);
        assert_int_equal(dec(&p, &b), 4);
        assert_tcp_ok(&p, L3_IPV4);
        assert_int_equal(p.link.hdr_len, 4);
        assert_int_equal(p.link.null_family, 2);
        assert_int_equal(p.link.ethertype, 0x0800);
    }
    /* DLT_NULL: every AF_INET6 value, either byte order; DLT_LOOP: network order. */
    static const uint32_t af6[] = {24, 28, 30};
    for (int i = 0; i < 3; i++) {
        for (int be = 0; be < 2; be++) {
            pb_init(&b, SYNACK_DLT_NULL);
            pb_null(&b, af6[i], be);
            add_v6_tcp(&b);
            assert_int_equal(dec(&p, &b), 4);
            assert_tcp_ok(&p, L3_IPV6);
            assert_int_equal(p.link.null_family, af6[i]);
        }
        pb_init(&b, SYNACK_DLT_LOOP);
        pb_loop(&b, af6[i]);
        add_v6_tcp(&b);
        assert_int_equal(dec(&p, &b), 4);
        assert_tcp_ok(&p, L3_IPV6);
        assert_int_equal(p.link.hdr_len, 4);
        assert_int_equal(p.link.null_family, af6[i]);
    }
    pb_init(&b, SYNACK_DLT_LOOP);
    pb_loop(&b, 2);
    add_v4_tcp(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);

    /* Unknown families. */
    pb_init(&b, SYNACK_DLT_NULL);
    pb_null(&b, 7, false);
    add_v4_tcp(&b);
    assert_int_equal(dec(&p, &b), 2);
    assert_anomalies(&p, A(LINK_NULL_BAD_FAMILY));
    assert_int_equal(p.l3, L3_OTHER);
    assert_int_equal(p.link.null_family, 7);
    /* DLT_LOOP is always network order: a little-endian 2 is not AF_INET. */
    pb_init(&b, SYNACK_DLT_LOOP);
    pb_null(&b, 2, false);
    add_v4_tcp(&b);
    assert_int_equal(dec(&p, &b), 2);
    assert_anomalies(&p, A(LINK_NULL_BAD_FAMILY));
    /* AF_INET6 is 10 on Linux, but Linux never writes DLT_NULL. */
    pb_init(&b, SYNACK_DLT_NULL);
    pb_null(&b, 10, false);
    add_v6_tcp(&b);
    dec(&p, &b);
    assert_anomalies(&p, A(LINK_NULL_BAD_FAMILY));

    /* The family says IPv4, the packet is IPv6. */
    pb_init(&b, SYNACK_DLT_NULL);
    pb_null(&b, 2, false);
    add_v6_tcp(&b);
    assert_int_equal(dec(&p, &b), 2);
    assert_anomalies(&p, A(IP_BAD_VERSION));
    assert_int_equal(p.l3, L3_NONE);
    assert_int_equal(p.ip.version, 6);
}

static void decode_raw_ip(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    static const int raw[] = {SYNACK_DLT_RAW, SYNACK_DLT_RAW_ALT, SYNACK_LINKTYPE_RAW};
    for (int i = 0; i < 3; i++) {
        pb_init(&b, raw[i]);
        add_v4_tcp(&b);
        assert_int_equal(dec(&p, &b), 4);
        assert_tcp_ok(&p, L3_IPV4);
        assert_int_equal(p.link.hdr_len, 0);
        pb_init(&b, raw[i]);
        add_v6_tcp(&b);
        assert_int_equal(dec(&p, &b), 4);
        assert_tcp_ok(&p, L3_IPV6);
        /* Version 5: neither. */
        b.buf[0] = 0x50;
        assert_int_equal(dec(&p, &b), 2);
        assert_anomalies(&p, A(IP_BAD_VERSION));
        assert_int_equal(p.l3, L3_NONE);
        /* Nothing captured: the version nibble, which stands for the link header, is missing. */
        assert_int_equal(dec_cut(&p, &b, 0, b.len), 0);
        assert_anomalies(&p, A(LINK_TRUNCATED));
    }
    pb_init(&b, SYNACK_DLT_IPV4);
    add_v4_tcp(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    pb_init(&b, SYNACK_DLT_IPV6);
    add_v6_tcp(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV6);
    /* DLT_IPV4 holding IPv6 and the reverse. */
    b.dlt = SYNACK_DLT_IPV4;
    assert_int_equal(dec(&p, &b), 2);
    assert_anomalies(&p, A(IP_BAD_VERSION));
    pb_init(&b, SYNACK_DLT_IPV6);
    add_v4_tcp(&b);
    assert_int_equal(dec(&p, &b), 2);
    assert_anomalies(&p, A(IP_BAD_VERSION));
    /* DLT_IPV4 with nothing captured: the IPv4 header is cut. */
    b.dlt = SYNACK_DLT_IPV4;
    assert_int_equal(dec_cut(&p, &b, 0, b.len), 2);
    assert_anomalies(&p, A(IPV4_TRUNCATED));
}

/* ---- IPv4 ---- */

static void decode_ipv4_options(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    /* NOP, NOP, Router Alert (RFC 2113), then a 4-byte timestamp-ish unknown option. */
    static const uint8_t opts[12] = {1, 1, 0x94, 4, 0, 0, 0x44, 4, 5, 0, 0, 0};
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, opts, sizeof opts);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
    pb_payload(&b, NULL, 33);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(p.ip.hdr_len, 32);
    assert_int_equal(p.ip.total_len, 32 + 20 + 33);
    assert_int_equal(p.ip.cksum, CKSUM_OK);
    assert_int_equal(p.u.tcp.sport, 1);
    assert_int_equal(p.u.tcp.payload_len, 33);
    /* Maximum IHL (15 words, 40 option bytes). */
    static const uint8_t maxopts[40] = {1};
    pb_init(&b, SYNACK_DLT_RAW);
    pb_ipv4(&b, maxopts, 40);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(p.ip.hdr_len, 60);
    /* Options cut by the capture. */
    assert_int_equal(dec_cut(&p, &b, 30, b.len), 3);
    assert_anomalies(&p, A(IPV4_TRUNCATED));
    assert_int_equal(p.l3, L3_IPV4);
    assert_true(p.snap_truncated);
    assert_int_equal(p.ip.cksum, CKSUM_UNCHECKED);
}

static void decode_ipv4_padding(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    /* A bare ACK: 54 bytes, padded to Ethernet's 60 with non-zero bytes. */
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 0);
    pb_trailer(&b, 6);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(p.ip.total_len, 40);
    assert_int_equal(p.u.tcp.payload_len, 0);
    assert_int_equal(p.u.tcp.payload_caplen, 0);
    assert_null(p.u.tcp.payload);
    /* Two payload bytes plus 4 padding bytes. */
    mk_v4_tcp(&b, TCP_PSH | TCP_ACK, NULL, 0, 2);
    pb_trailer(&b, 4);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(p.u.tcp.payload_len, 2);
    assert_int_equal(p.u.tcp.payload_caplen, 2);
    /* The capture ended inside the padding: nothing missing. */
    assert_int_equal(dec_cut(&p, &b, 57, b.len), 4);
    assert_tcp_ok(&p, L3_IPV4);
    /* IPv6 too. */
    mk_v6_tcp(&b, TCP_ACK, 1);
    pb_trailer(&b, 3);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV6);
    assert_int_equal(p.u.tcp.payload_len, 1);
}

static void decode_ipv4_total_length(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    /* 0: taken from the frame (segmentation offload). */
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 3000);
    pb_put16(&b, 16, 0);
    pb_ipv4_recksum(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_true(p.ip.len_from_frame);
    assert_int_equal(p.ip.total_len, 3040);
    assert_int_equal(p.u.tcp.payload_len, 3000);
    /* 0 and a snaplen: the wire length counts. */
    assert_int_equal(dec_cut(&p, &b, 200, b.len), 4);
    assert_anomalies(&p, 0);
    assert_true(p.snap_truncated);
    assert_int_equal(p.u.tcp.payload_len, 3000);
    assert_int_equal(p.u.tcp.payload_caplen, 146);

    /* Beyond the wire frame: anomaly, clamped, decoding goes on. */
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 100);
    pb_put16(&b, 16, 140 + 60);
    pb_ipv4_recksum(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, A(IPV4_TOTLEN_BEYOND_FRAME));
    assert_false(p.snap_truncated);
    assert_true(p.tcp_valid);
    assert_int_equal(p.ip.total_len, 140);
    assert_int_equal(p.u.tcp.payload_len, 100);
    assert_int_equal(p.u.tcp.payload_caplen, 100);
    assert_int_equal(p.u.tcp.cksum, CKSUM_OK); /* over the clamped length, as sent */
    /* Beyond the wire frame and the capture: still the anomaly. */
    assert_int_equal(dec_cut(&p, &b, 100, 100), 4);
    assert_anomalies(&p, A(IPV4_TOTLEN_BEYOND_FRAME));
    assert_false(p.snap_truncated);
    assert_int_equal(p.u.tcp.payload_len, 46);

    /* Beyond the capture, within the wire frame: snaplen, no anomaly. */
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 1000);
    assert_int_equal(dec_cut(&p, &b, 64, b.len), 4);
    assert_anomalies(&p, 0);
    assert_true(p.snap_truncated);
    assert_true(p.tcp_valid);
    assert_int_equal(p.ip.total_len, 1040);
    assert_int_equal(p.ip.cksum, CKSUM_OK);
    assert_int_equal(p.u.tcp.payload_len, 1000);
    assert_int_equal(p.u.tcp.payload_caplen, 10);
    assert_memory_equal(p.u.tcp.payload, b.buf + 54, 10);
    assert_int_equal(p.u.tcp.cksum, CKSUM_UNCHECKED);

    /* Below the header length. */
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 10);
    pb_put16(&b, 16, 19);
    pb_ipv4_recksum(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(IPV4_TOTLEN_TOO_SMALL));
    assert_int_equal(p.l3, L3_IPV4);
    assert_int_equal(p.l4, L4_NONE);
    /* Frame shorter than the header with a 0 total length. */
    pb_init(&b, SYNACK_DLT_RAW);
    static const uint8_t opts[20] = {0};
    pb_ipv4(&b, opts, 20);
    pb_finish(&b);
    pb_put16(&b, 2, 0);
    pb_ipv4_recksum(&b);
    assert_int_equal(dec_cut(&p, &b, 30, 30), 3);
    assert_anomalies(&p, A(IPV4_TOTLEN_TOO_SMALL));
}

static void decode_ipv4_header_errors(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 10);
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        b.buf[14] = (uint8_t)(0x40 | ihl);
        assert_int_equal(dec(&p, &b), 2);
        assert_anomalies(&p, A(IPV4_HLEN_TOO_SMALL));
        assert_int_equal(p.l3, L3_NONE);
        assert_int_equal(p.l4, L4_NONE);
    }
    b.buf[14] = 0x55; /* version 5 on an IPv4 EtherType */
    assert_int_equal(dec(&p, &b), 2);
    assert_anomalies(&p, A(IP_BAD_VERSION));
    assert_int_equal(p.ip.version, 5);
    b.buf[14] = 0x65;
    assert_int_equal(dec(&p, &b), 2);
    assert_anomalies(&p, A(IP_BAD_VERSION));

    /* A bad header checksum is state, not an anomaly; decoding goes on. */
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 10);
    b.buf[14 + 8] = 1; /* TTL changed after the checksum */
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, 0);
    assert_int_equal(p.ip.cksum, CKSUM_BAD);
    assert_true(p.tcp_valid);
    assert_int_equal(p.u.tcp.cksum, CKSUM_OK);

    /* Fixed header cut. */
    for (uint32_t cut = 14; cut < 34; cut++) {
        assert_int_equal(dec_cut(&p, &b, cut, b.len), 2);
        assert_anomalies(&p, A(IPV4_TRUNCATED));
        assert_int_equal(p.l3, L3_NONE);
    }
    /* Other protocols: L4_OTHER, ip.proto. */
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_proto(&b, 47);
    pb_payload(&b, NULL, 24);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, 0);
    assert_int_equal(p.l4, L4_OTHER);
    assert_int_equal(p.ip.proto, 47);
    /* ICMPv6 over IPv4 is not ICMP. */
    b.buf[23] = 58;
    pb_ipv4_recksum(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_int_equal(p.l4, L4_OTHER);
}

static void decode_ipv4_fragments(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    /* First fragment holding the TCP header and some data. */
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 64);
    pb_ipv4_frag(&b, 0, true);
    pb_ipv4_recksum(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, A(IPV4_FRAGMENT));
    assert_true(p.ip.fragment);
    assert_true(p.ip.mf);
    assert_false(p.ip.df);
    assert_int_equal(p.ip.frag_off, 0);
    assert_int_equal(p.l4, L4_TCP);
    assert_true(p.tcp_valid);
    assert_int_equal(p.u.tcp.payload_len, 64);
    assert_int_equal(p.u.tcp.cksum, CKSUM_UNCHECKED);
    assert_int_equal(p.ip.cksum, CKSUM_OK);

    /* Later fragments (middle and last): not TCP. */
    for (int last = 0; last < 2; last++) {
        pb_init(&b, SYNACK_DLT_EN10MB);
        pb_eth(&b, 0x0800);
        pb_ipv4(&b, NULL, 0);
        pb_proto(&b, 6);
        pb_payload(&b, NULL, 48);
        pb_ipv4_frag(&b, 1480, !last);
        pb_finish(&b);
        assert_int_equal(dec(&p, &b), 3);
        assert_anomalies(&p, A(IPV4_FRAGMENT));
        assert_int_equal(p.l4, L4_OTHER);
        assert_int_equal(p.ip.proto, 6);
        assert_int_equal(p.ip.frag_off, 1480);
        assert_int_equal(p.ip.mf, !last);
        assert_false(p.tcp_valid);
    }

    /* First fragment too short for the TCP header, or for its options: not decoded. */
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_tcp(&b, 1, 2, 3, 4, TCP_SYN, NULL, 0);
    b.len -= 12; /* 8 bytes of TCP in this fragment */
    pb_ipv4_frag(&b, 0, true);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(IPV4_FRAGMENT));
    assert_int_equal(p.l4, L4_OTHER);
    assert_int_equal(p.u.tcp.sport, 0);

    static const uint8_t opts[12] = {2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_tcp(&b, 1, 2, 3, 4, TCP_SYN, opts, sizeof opts);
    b.len -= 8; /* 24 of 32 header bytes */
    pb_ipv4_frag(&b, 0, true);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(IPV4_FRAGMENT));
    assert_int_equal(p.l4, L4_OTHER);

    /* UDP in a first fragment: the UDP length covers the datagram, not this fragment. */
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_udp(&b, 53, 53);
    pb_payload(&b, NULL, 40);
    pb_finish(&b);
    pb_put16(&b, 34 + 4, 3000);
    pb_ipv4_frag(&b, 0, true);
    pb_ipv4_recksum(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, A(IPV4_FRAGMENT));
    assert_int_equal(p.l4, L4_UDP);
}

/* ---- IPv6 ---- */

static void decode_ipv6_basic(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    mk_v6_tcp(&b, TCP_SYN | TCP_ACK, 21);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV6);
    assert_int_equal(p.ip.version, 6);
    assert_int_equal(p.ip.tos, 0x28);
    assert_int_equal(p.ip.flow_label, 0x12345);
    assert_int_equal(p.ip.ttl, 64);
    assert_int_equal(p.ip.hdr_len, 40);
    assert_int_equal(p.ip.total_len, 81);
    assert_int_equal(p.ip.proto, 6);
    assert_int_equal(p.ip.n_ext, 0);
    assert_memory_equal(p.ip.src, b.buf + 22, 16);
    assert_memory_equal(p.ip.dst, b.buf + 38, 16);
    assert_int_equal(p.ip.cksum, CKSUM_UNCHECKED);
    assert_int_equal(p.u.tcp.dport, 443);
    assert_int_equal(p.u.tcp.payload_len, 21);

    /* Fixed header cut. */
    for (uint32_t cut = 14; cut < 54; cut++) {
        assert_int_equal(dec_cut(&p, &b, cut, b.len), 2);
        assert_anomalies(&p, A(IPV6_TRUNCATED));
        assert_int_equal(p.l3, L3_NONE);
    }
    /* Payload length 0: BIG TCP / jumbogram, taken from the frame. */
    mk_v6_tcp(&b, TCP_ACK, 3000);
    pb_put16(&b, 18, 0);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV6);
    assert_true(p.ip.len_from_frame);
    assert_int_equal(p.ip.total_len, 3060);
    assert_int_equal(p.u.tcp.payload_len, 3000);
    /* Beyond the wire frame. */
    mk_v6_tcp(&b, TCP_ACK, 30);
    pb_put16(&b, 18, 20 + 30 + 1);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, A(IPV6_PLEN_BEYOND_FRAME));
    assert_int_equal(p.ip.total_len, 90);
    assert_int_equal(p.u.tcp.payload_len, 30);
    /* Beyond the capture within the wire frame. */
    mk_v6_tcp(&b, TCP_ACK, 1400);
    assert_int_equal(dec_cut(&p, &b, 96, b.len), 4);
    assert_anomalies(&p, 0);
    assert_true(p.snap_truncated);
    assert_int_equal(p.u.tcp.payload_len, 1400);
    assert_int_equal(p.u.tcp.payload_caplen, 22);
    assert_int_equal(p.u.tcp.cksum, CKSUM_UNCHECKED);
    /* Other upper layers. */
    pb_init(&b, SYNACK_DLT_RAW);
    pb_ipv6(&b);
    pb_payload(&b, NULL, 8);
    pb_finish(&b); /* next header 59: no next header */
    assert_int_equal(dec(&p, &b), 3);
    assert_int_equal(p.l4, L4_OTHER);
    assert_int_equal(p.ip.proto, 59);
    b.buf[6] = 1; /* ICMP (v4) over IPv6 */
    assert_int_equal(dec(&p, &b), 3);
    assert_int_equal(p.l4, L4_OTHER);
    assert_anomalies(&p, 0);
}

static void decode_ipv6_ext_headers(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    static const struct {
        uint8_t type;
        uint32_t len;
    } one[] = {{0, 8}, {0, 24}, {60, 8}, {60, 16}, {43, 8}, {51, 12}, {51, 24}};
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
        pb_init(&b, SYNACK_DLT_EN10MB);
        pb_eth(&b, 0x86dd);
        pb_ipv6(&b);
        pb_ext(&b, one[i].type, one[i].len);
        pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
        pb_payload(&b, NULL, 5);
        pb_finish(&b);
        assert_int_equal(dec(&p, &b), 4);
        assert_tcp_ok(&p, L3_IPV6);
        assert_int_equal(p.ip.n_ext, 1);
        assert_int_equal(p.ip.ext[0], one[i].type);
        assert_int_equal(p.ip.hdr_len, 40 + one[i].len);
        assert_int_equal(p.ip.proto, 6);
        assert_int_equal(p.u.tcp.payload_len, 5);
    }
    /* A chain of all kinds, with an atomic fragment (offset 0, M 0: RFC 6946). */
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x86dd);
    pb_ipv6(&b);
    pb_ext(&b, 0, 8);
    pb_ext(&b, 60, 16);
    pb_ext_routing(&b, 4, 1, 0);
    pb_ext_frag(&b, 0, false, 0xabcd1234);
    pb_ext(&b, 51, 16);
    pb_ext(&b, 60, 8);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
    pb_payload(&b, NULL, 7);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV6);
    static const uint8_t chain[6] = {0, 60, 43, 44, 51, 60};
    assert_int_equal(p.ip.n_ext, 6);
    assert_memory_equal(p.ip.ext, chain, 6);
    assert_int_equal(p.ip.hdr_len, 40 + 8 + 16 + 24 + 8 + 16 + 8);
    assert_false(p.ip.fragment);
    assert_int_equal(p.ip.id, 0x1234);

    /* Exactly SYNACK_MAX_IPV6_EXT, then one more. */
    for (int n = SYNACK_MAX_IPV6_EXT; n <= SYNACK_MAX_IPV6_EXT + 1; n++) {
        pb_init(&b, SYNACK_DLT_EN10MB);
        pb_eth(&b, 0x86dd);
        pb_ipv6(&b);
        for (int k = 0; k < n; k++)
            pb_ext(&b, 60, 8);
        pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
        pb_finish(&b);
        if (n == SYNACK_MAX_IPV6_EXT) {
            assert_int_equal(dec(&p, &b), 4);
            assert_tcp_ok(&p, L3_IPV6);
        } else {
            assert_int_equal(dec(&p, &b), 3);
            assert_anomalies(&p, A(IPV6_EXT_TOO_MANY));
            assert_int_equal(p.l3, L3_IPV6);
            assert_int_equal(p.l4, L4_NONE);
            assert_int_equal(p.ip.proto, 60);
        }
        assert_int_equal(p.ip.n_ext, SYNACK_MAX_IPV6_EXT);
    }

    /* Extension header running past the payload length. */
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x86dd);
    pb_ipv6(&b);
    pb_ext(&b, 60, 8);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
    pb_finish(&b);
    b.buf[54 + 1] = 3; /* 32 bytes, but only 28 in the payload */
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(IPV6_EXT_BAD_LEN));
    assert_int_equal(p.l4, L4_NONE);
    /* ... even when the capture ends first. */
    assert_int_equal(dec_cut(&p, &b, 60, b.len), 3);
    assert_anomalies(&p, A(IPV6_EXT_BAD_LEN));
    /* Payload length leaves 1 byte for the next extension header. */
    pb_put16(&b, 18, 1);
    b.buf[54 + 1] = 0;
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(IPV6_EXT_BAD_LEN));
    /* Cut by the capture inside an extension header. */
    pb_put16(&b, 18, 28);
    assert_int_equal(dec_cut(&p, &b, 58, b.len), 3);
    assert_anomalies(&p, A(IPV6_TRUNCATED));
    assert_true(p.snap_truncated);
    assert_int_equal(p.ip.n_ext, 0);
}

/* The TCP checksum uses the final destination of a routing header (RFC 8200 8.1). */
static void decode_ipv6_routing_cksum(void **state)
{
    (void)state;
    static const struct {
        uint8_t type;
        int n;
        uint8_t left;
        enum cksum_state want;
    } cases[] = {
        {0, 3, 2, CKSUM_OK},        {0, 1, 1, CKSUM_OK},        {2, 1, 1, CKSUM_OK},
        {4, 2, 1, CKSUM_OK},        {4, 2, 0, CKSUM_OK},        {3, 1, 1, CKSUM_UNCHECKED},
        {0, 0, 1, CKSUM_UNCHECKED}, {2, 0, 1, CKSUM_UNCHECKED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pb b;
        struct packet p;
        pb_init(&b, SYNACK_DLT_IPV6);
        pb_ipv6(&b);
        pb_ext_routing(&b, cases[i].type, cases[i].n, cases[i].left);
        pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
        pb_payload(&b, NULL, 9);
        pb_finish(&b);
        assert_int_equal(dec(&p, &b), 4);
        assert_anomalies(&p, 0);
        assert_true(p.tcp_valid);
        assert_int_equal(p.u.tcp.cksum, cases[i].want);
    }
}

static void decode_ipv6_fragments(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x86dd);
    pb_ipv6(&b);
    pb_ext(&b, 0, 8);
    pb_ext_frag(&b, 0, true, 0x00c0ffee);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
    pb_payload(&b, NULL, 40);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, A(IPV6_FRAGMENT));
    assert_true(p.ip.fragment);
    assert_true(p.ip.mf);
    assert_int_equal(p.ip.frag_off, 0);
    assert_int_equal(p.ip.id, 0xffee);
    assert_int_equal(p.ip.n_ext, 2);
    assert_true(p.tcp_valid);
    assert_int_equal(p.u.tcp.payload_len, 40);
    assert_int_equal(p.u.tcp.cksum, CKSUM_UNCHECKED);

    /* A later fragment: whatever follows is data, even if it looks like a header. */
    for (int last = 0; last < 2; last++) {
        pb_init(&b, SYNACK_DLT_EN10MB);
        pb_eth(&b, 0x86dd);
        pb_ipv6(&b);
        pb_ext_frag(&b, 1448, !last, 7);
        pb_proto(&b, 60);
        pb_payload(&b, NULL, 64);
        pb_finish(&b);
        assert_int_equal(dec(&p, &b), 3);
        assert_anomalies(&p, A(IPV6_FRAGMENT));
        assert_int_equal(p.l4, L4_OTHER);
        assert_int_equal(p.ip.proto, 60);
        assert_int_equal(p.ip.frag_off, 1448);
        assert_int_equal(p.ip.mf, !last);
        assert_int_equal(p.ip.n_ext, 1);
        assert_int_equal(p.ip.hdr_len, 48);
    }
    /* First fragment with only part of the TCP header. */
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x86dd);
    pb_ipv6(&b);
    pb_ext_frag(&b, 0, true, 7);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
    b.len -= 4;
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(IPV6_FRAGMENT));
    assert_int_equal(p.l4, L4_OTHER);
}

/* ---- TCP ---- */

static void decode_tcp_options(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    /* A Linux SYN: MSS, SACK-permitted, timestamps, NOP, window scale. */
    static const uint8_t syn[20] = {2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                    0x12, 0x34, 0,    0,    0, 0, 1, 3,  3, 7};
    mk_v4_tcp(&b, TCP_SYN, syn, sizeof syn, 0);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    const struct pkt_tcp *t = &p.u.tcp;
    assert_int_equal(t->doff, 40);
    assert_int_equal(t->opts_len, 20);
    assert_memory_equal(t->opts, syn, 20);
    assert_int_equal(t->o.present, TCPO_MSS | TCPO_SACK_PERM | TCPO_TS | TCPO_WSCALE);
    assert_int_equal(t->o.mss, 1460);
    assert_int_equal(t->o.wscale, 7);
    assert_int_equal(t->o.ts_val, 0x1234);
    assert_int_equal(t->o.ts_ecr, 0);

    /* 1..4 SACK blocks (with timestamps as far as they fit). */
    for (int n = 1; n <= 4; n++) {
        uint8_t o[40] = {0};
        uint32_t k = 0;
        o[k++] = 1;
        o[k++] = 1;
        o[k++] = 5;
        o[k++] = (uint8_t)(2 + 8 * n);
        for (int i = 0; i < n; i++) {
            for (int e = 0; e < 2; e++) {
                uint32_t v = 0x10000000u * (uint32_t)(i + 1) + (uint32_t)e * 100;
                o[k++] = (uint8_t)(v >> 24), o[k++] = (uint8_t)(v >> 16);
                o[k++] = (uint8_t)(v >> 8), o[k++] = (uint8_t)v;
            }
        }
        if (n < 4) {
            static const uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8};
            memcpy(o + k, ts, 12);
            k += 12;
        }
        while (k % 4)
            o[k++] = 0;
        mk_v4_tcp(&b, TCP_ACK, o, k, 10);
        assert_int_equal(dec(&p, &b), 4);
        assert_tcp_ok(&p, L3_IPV4);
        assert_int_equal(t->o.n_sack, n);
        assert_true(t->o.present & TCPO_SACK);
        for (int i = 0; i < n; i++) {
            assert_int_equal(t->o.sack[i][0], 0x10000000u * (uint32_t)(i + 1));
            assert_int_equal(t->o.sack[i][1], 0x10000000u * (uint32_t)(i + 1) + 100);
        }
        if (n < 4) {
            assert_true(t->o.present & TCPO_TS);
            assert_int_equal(t->o.ts_val, 9);
            assert_int_equal(t->o.ts_ecr, 8);
        }
        assert_int_equal(t->payload_len, 10);
    }

    /* TFO with a cookie, a TFO cookie request, and unknown kinds (MPTCP 30, experimental
     * 254), with EOL and garbage after it. */
    static const uint8_t tfo[24] = {34,   10, 1,   2, 3,    4,    5, 6,    7,    8,    30,   4,
                                    0x10, 0,  254, 4, 0xf9, 0x89, 0, 0xff, 0xff, 0xff, 0xff, 0xff};
    mk_v4_tcp(&b, TCP_SYN, tfo, sizeof tfo, 0);
    assert_int_equal(dec(&p, &b), 4);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(t->o.present, TCPO_TFO | TCPO_UNKNOWN);
    static const uint8_t req[4] = {34, 2, 1, 0};
    mk_v4_tcp(&b, TCP_SYN, req, sizeof req, 0);
    dec(&p, &b);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(t->o.present, TCPO_TFO);
    static const uint8_t tfo16[20] = {34, 18, [18] = 1, [19] = 0};
    mk_v4_tcp(&b, TCP_SYN, tfo16, sizeof tfo16, 0);
    dec(&p, &b);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(t->o.present, TCPO_TFO);

    /* Only padding: NOPs and EOLs. */
    static const uint8_t pad[8] = {1, 1, 1, 0, 0, 0, 0, 0};
    mk_v4_tcp(&b, TCP_ACK, pad, sizeof pad, 0);
    dec(&p, &b);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(t->o.present, 0);
    assert_int_equal(t->opts_len, 8);

    /* The maximum: 40 option bytes. */
    static const uint8_t max[40] = {30, 40};
    mk_v4_tcp(&b, TCP_ACK, max, sizeof max, 0);
    dec(&p, &b);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(t->doff, 60);
    assert_int_equal(t->o.present, TCPO_UNKNOWN);
}

static void decode_tcp_bad_option_len(void **state)
{
    (void)state;
    /* Each starts with a good MSS (kept), then the bad option; the rest is not walked. */
    static const struct {
        uint8_t bad[16];
        uint32_t n;
    } cases[] = {
        {{2, 3, 5, 0}, 4},                           /* MSS length 3 */
        {{2, 5, 5, 0xb4, 0, 0, 0, 0}, 8},            /* MSS length 5 */
        {{3, 4, 7, 0}, 4},                           /* window scale length 4 */
        {{3, 2, 1, 1}, 4},                           /* window scale length 2 */
        {{4, 3, 0, 0}, 4},                           /* SACK-permitted length 3 */
        {{8, 8, 0, 0, 0, 0, 0, 0}, 8},               /* timestamps length 8 */
        {{8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12}, /* timestamps length 12 */
        {{5, 2, 0, 0}, 4},                           /* SACK without a block */
        {{5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12},  /* SACK, not 2 + 8n */
        {{5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12}, /* SACK, not 2 + 8n */
        {{34, 4, 1, 2}, 4},                          /* TFO cookie of 2 bytes */
        {{34, 3, 1, 0}, 4},                          /* TFO length 3 */
        {{30, 1, 0, 0}, 4},                          /* any kind, length 1 */
        {{30, 0, 0, 0}, 4},                          /* any kind, length 0 */
        {{30, 9, 0, 0}, 4},                          /* runs past the header */
        {{1, 1, 1, 30}, 4},                          /* length byte missing */
        {{2, 0, 0, 0}, 4},                           /* MSS length 0 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t o[40] = {2, 4, 0x05, 0xb4};
        memcpy(o + 4, cases[i].bad, cases[i].n);
        uint32_t k = 4 + cases[i].n;
        static const uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8};
        if (cases[i].bad[1] >= 2 && cases[i].bad[1] <= cases[i].n && k + 12 <= 40) {
            memcpy(o + k, ts, 12); /* a good option after the bad one: ignored */
            k += 12;
        }
        struct pb b;
        struct packet p;
        mk_v4_tcp(&b, TCP_SYN, o, k, 0);
        assert_int_equal(dec(&p, &b), 4);
        assert_anomalies(&p, A(TCP_BAD_OPTION_LEN));
        assert_true(p.tcp_valid);
        assert_int_equal(p.u.tcp.o.present, TCPO_MSS);
        assert_int_equal(p.u.tcp.o.mss, 1460);
        assert_int_equal(p.u.tcp.opts_len, k);
        assert_int_equal(p.u.tcp.cksum, CKSUM_OK);
    }
}

static void decode_tcp_flags(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    for (int bit = 0; bit < 8; bit++) {
        uint8_t f = (uint8_t)(1u << bit);
        mk_v4_tcp(&b, f, NULL, 0, 0);
        assert_int_equal(dec(&p, &b), 4);
        assert_tcp_ok(&p, L3_IPV4);
        assert_int_equal(p.u.tcp.flags, f);
    }
    mk_v4_tcp(&b, 0xff, NULL, 0, 0);
    dec(&p, &b);
    assert_int_equal(p.u.tcp.flags,
                     TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG | TCP_ECE | TCP_CWR);
    assert_anomalies(&p, A(TCP_SYN_FIN));
    mk_v4_tcp(&b, TCP_SYN | TCP_FIN, NULL, 0, 0);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, A(TCP_SYN_FIN));
    assert_true(p.tcp_valid);
    mk_v4_tcp(&b, 0, NULL, 0, 0);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, A(TCP_NO_FLAGS));
    assert_true(p.tcp_valid);
    /* Urgent pointer and window. */
    mk_v4_tcp(&b, TCP_URG | TCP_ACK, NULL, 0, 5);
    pb_put16(&b, 34 + 18, 3);
    pb_put16(&b, 34 + 14, 512);
    b.cksum = PB_CK_GOOD;
    pb_finish(&b);
    dec(&p, &b);
    assert_tcp_ok(&p, L3_IPV4);
    assert_int_equal(p.u.tcp.urp, 3);
    assert_int_equal(p.u.tcp.win, 512);
    /* Port 0 on either side. */
    for (int side = 0; side < 2; side++) {
        pb_init(&b, SYNACK_DLT_EN10MB);
        pb_eth(&b, 0x0800);
        pb_ipv4(&b, NULL, 0);
        pb_tcp(&b, side ? 0 : 1, side ? 1 : 0, 1, 0, TCP_SYN, NULL, 0);
        pb_finish(&b);
        assert_int_equal(dec(&p, &b), 4);
        assert_anomalies(&p, A(TCP_PORT_ZERO));
    }
}

static void decode_tcp_header_errors(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    /* Data offset below 5 words. */
    for (uint8_t d = 0; d < 5; d++) {
        mk_v4_tcp(&b, TCP_ACK, NULL, 0, 20);
        b.buf[34 + 12] = (uint8_t)(d << 4);
        assert_int_equal(dec(&p, &b), 3);
        assert_anomalies(&p, A(TCP_DOFF_TOO_SMALL));
        assert_int_equal(p.l4, L4_TCP);
        assert_false(p.tcp_valid);
        assert_int_equal(p.u.tcp.sport, 40000); /* the fixed fields stay */
        assert_int_equal(p.u.tcp.doff, d * 4);
        assert_int_equal(p.u.tcp.payload_len, 0);
    }
    /* Data offset beyond the segment. */
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 20);
    b.buf[34 + 12] = 0xf0;
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(TCP_DOFF_BEYOND_SEGMENT));
    assert_false(p.tcp_valid);
    assert_int_equal(p.u.tcp.doff, 60);
    /* ... also when the capture ends before (malformed beats truncated). */
    assert_int_equal(dec_cut(&p, &b, 60, b.len), 3);
    assert_anomalies(&p, A(TCP_DOFF_BEYOND_SEGMENT));

    /* IP payload shorter than a TCP header. */
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
    b.len -= 4;
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(TCP_DOFF_BEYOND_SEGMENT));
    assert_int_equal(p.l4, L4_TCP);
    b.buf[34 + 12] = 0x40; /* and a data offset below 5 */
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(TCP_DOFF_TOO_SMALL));
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, NULL, 0);
    b.len -= 10; /* offset byte not in the segment */
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(TCP_DOFF_BEYOND_SEGMENT));

    /* Truncated: fixed header, then options. */
    static const uint8_t syn[20] = {2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                    0x12, 0x34, 0,    0,    0, 0, 1, 3,  3, 7};
    mk_v4_tcp(&b, TCP_SYN, syn, sizeof syn, 0);
    assert_int_equal(dec_cut(&p, &b, 34 + 19, b.len), 3);
    assert_anomalies(&p, A(TCP_TRUNCATED));
    assert_int_equal(p.l4, L4_TCP);
    assert_false(p.tcp_valid);
    assert_true(p.snap_truncated);
    assert_int_equal(dec_cut(&p, &b, 34 + 20 + 7, b.len), 3);
    assert_anomalies(&p, A(TCP_TRUNCATED));
    assert_false(p.tcp_valid);
    assert_int_equal(p.u.tcp.sport, 40000);
    assert_int_equal(p.u.tcp.opts_len, 7);
    assert_int_equal(p.u.tcp.o.present, TCPO_MSS | TCPO_SACK_PERM); /* what was captured */
    assert_int_equal(p.u.tcp.payload_len, 0);
    assert_null(p.u.tcp.payload);
    /* Cut inside options that are also bad: the bad length shows. */
    static const uint8_t bad[8] = {2, 4, 5, 0xb4, 30, 1, 0, 0};
    mk_v4_tcp(&b, TCP_SYN, bad, sizeof bad, 0);
    assert_int_equal(dec_cut(&p, &b, 34 + 20 + 7, b.len), 3);
    assert_anomalies(&p, A(TCP_TRUNCATED) | A(TCP_BAD_OPTION_LEN));
    static const uint8_t past[8] = {2, 4, 5, 0xb4, 30, 12, 0, 0};
    mk_v4_tcp(&b, TCP_SYN, past, sizeof past, 0);
    assert_int_equal(dec_cut(&p, &b, 34 + 20 + 7, b.len), 3);
    assert_anomalies(&p, A(TCP_TRUNCATED) | A(TCP_BAD_OPTION_LEN));
}

/* ---- checksums ---- */

static void decode_tcp_checksums(void **state)
{
    (void)state;
    static const struct {
        enum pb_cksum mode;
        enum cksum_state want;
    } cases[] = {
        {PB_CK_GOOD, CKSUM_OK},
        {PB_CK_BAD, CKSUM_BAD},
        {PB_CK_PARTIAL, CKSUM_UNVERIFIED},
        {PB_CK_PARTIAL_NOT, CKSUM_UNVERIFIED},
        {PB_CK_PARTIAL_NOLEN, CKSUM_UNVERIFIED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int v6 = 0; v6 < 2; v6++) {
            for (uint32_t pay = 0; pay < 4; pay++) { /* odd and even lengths */
                struct pb b;
                struct packet p;
                pb_init(&b, SYNACK_DLT_EN10MB);
                pb_eth(&b, v6 ? 0x86dd : 0x0800);
                if (v6)
                    pb_ipv6(&b);
                else
                    pb_ipv4(&b, NULL, 0);
                pb_tcp(&b, 50000, 22, 0xfffffff0u, 77, TCP_PSH | TCP_ACK, NULL, 0);
                pb_payload(&b, NULL, 1000 + pay);
                b.cksum = cases[i].mode;
                pb_finish(&b);
                assert_int_equal(dec(&p, &b), 4);
                assert_anomalies(&p, 0); /* checksum state is never an anomaly */
                assert_true(p.tcp_valid);
                assert_int_equal(p.u.tcp.cksum, cases[i].want);
                assert_int_equal(p.u.tcp.cksum_field,
                                 b.buf[b.l4_off + 16] << 8 | b.buf[b.l4_off + 17]);
                /* One payload byte short of the capture: unchecked. */
                assert_int_equal(dec_cut(&p, &b, b.len - 1, b.len), 4);
                assert_int_equal(p.u.tcp.cksum, CKSUM_UNCHECKED);
            }
        }
    }
    /* IPv4 header checksum: OK, BAD, and unchecked when cut. */
    struct pb b;
    struct packet p;
    mk_v4_tcp(&b, TCP_ACK, NULL, 0, 0);
    dec(&p, &b);
    assert_int_equal(p.ip.cksum, CKSUM_OK);
    b.buf[24] ^= 0x01;
    dec(&p, &b);
    assert_int_equal(p.ip.cksum, CKSUM_BAD);
    assert_int_equal(p.ip.cksum_field, b.buf[24] << 8 | b.buf[25]);
    assert_anomalies(&p, 0);
}

/* ---- UDP and ICMP ---- */

static void decode_udp_icmp(void **state)
{
    (void)state;
    struct pb b;
    struct packet p;
    for (int v6 = 0; v6 < 2; v6++) {
        pb_init(&b, SYNACK_DLT_EN10MB);
        pb_eth(&b, v6 ? 0x86dd : 0x0800);
        if (v6)
            pb_ipv6(&b);
        else
            pb_ipv4(&b, NULL, 0);
        pb_udp(&b, 5353, 53);
        pb_payload(&b, NULL, 33);
        pb_finish(&b);
        assert_int_equal(dec(&p, &b), 4);
        assert_anomalies(&p, 0);
        assert_int_equal(p.l4, L4_UDP);
        assert_false(p.tcp_valid);
        assert_int_equal(p.u.udp.sport, 5353);
        assert_int_equal(p.u.udp.dport, 53);
        assert_int_equal(p.u.udp.len, 41);
        assert_int_equal(p.u.udp.payload_len, 33);
        /* Length field disagreeing with IP. */
        pb_put16(&b, b.l4_off + 4, 40);
        assert_int_equal(dec(&p, &b), 4);
        assert_anomalies(&p, A(UDP_BAD_LENGTH));
        assert_int_equal(p.u.udp.payload_len, 33);
        /* Header cut by the capture. */
        assert_int_equal(dec_cut(&p, &b, b.l4_off + 7, b.len), 3);
        assert_anomalies(&p, A(UDP_TRUNCATED));
        assert_int_equal(p.l4, L4_UDP);
        assert_true(p.snap_truncated);
    }
    /* IP payload shorter than a UDP header. */
    pb_init(&b, SYNACK_DLT_RAW);
    pb_ipv4(&b, NULL, 0);
    pb_udp(&b, 1, 2);
    b.len -= 2;
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(UDP_BAD_LENGTH));
    /* UDP length 0 with the IPv6 length from the frame (jumbogram / UDP GSO). */
    pb_init(&b, SYNACK_DLT_RAW);
    pb_ipv6(&b);
    pb_udp(&b, 1, 2);
    pb_payload(&b, NULL, 100);
    pb_finish(&b);
    pb_put16(&b, 4, 0);
    pb_put16(&b, 44, 0);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, 0);
    assert_int_equal(p.u.udp.payload_len, 100);

    /* ICMP echo request / ICMPv6 echo request and destination unreachable. */
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_icmp(&b, 8, 0);
    pb_payload(&b, NULL, 56);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, 0);
    assert_int_equal(p.l4, L4_ICMP);
    assert_int_equal(p.u.icmp.type, 8);
    assert_int_equal(p.u.icmp.code, 0);
    for (uint32_t cut = 34; cut < 38; cut++) {
        assert_int_equal(dec_cut(&p, &b, cut, b.len), 3);
        assert_anomalies(&p, A(ICMP_TRUNCATED));
        assert_int_equal(p.l4, L4_ICMP);
    }
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x86dd);
    pb_ipv6(&b);
    pb_icmp(&b, 1, 4);
    pb_payload(&b, NULL, 48);
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 4);
    assert_anomalies(&p, 0);
    assert_int_equal(p.l4, L4_ICMPV6);
    assert_int_equal(p.u.icmp.type, 1);
    assert_int_equal(p.u.icmp.code, 4);
    /* ICMP header longer than the IP payload. */
    pb_init(&b, SYNACK_DLT_RAW);
    pb_ipv6(&b);
    pb_icmp(&b, 128, 0);
    b.len -= 6;
    pb_finish(&b);
    assert_int_equal(dec(&p, &b), 3);
    assert_anomalies(&p, A(ICMP_TRUNCATED));
}

/* ---- tcp_opt_next ---- */

static void decode_tcp_opt_next(void **state)
{
    (void)state;
    struct tcp_opt o;
    uint32_t off = 0;
    assert_int_equal(tcp_opt_next(NULL, 0, &off, &o), 0);
    assert_int_equal(tcp_opt_next(NULL, 10, &off, &o), 0);
    static const uint8_t one[1] = {1};
    assert_int_equal(tcp_opt_next(one, 0, &off, &o), 0);
    assert_int_equal(tcp_opt_next(one, 1, &off, &o), 1);
    assert_int_equal(o.kind, 1);
    assert_int_equal(o.len, 1);
    assert_null(o.data);
    assert_int_equal(off, 1);
    assert_int_equal(tcp_opt_next(one, 1, &off, &o), 0);

    /* EOL: returned once, then the end, even with bytes after it. */
    static const uint8_t eol[4] = {0, 2, 4, 5};
    off = 0;
    assert_int_equal(tcp_opt_next(eol, 4, &off, &o), 1);
    assert_int_equal(o.kind, 0);
    assert_int_equal(o.len, 1);
    assert_null(o.data);
    assert_int_equal(tcp_opt_next(eol, 4, &off, &o), 0);

    /* A walk: MSS, SACK-permitted (no data), NOP, unknown. */
    static const uint8_t walk[12] = {2, 4, 5, 0xb4, 4, 2, 1, 99, 4, 0xaa, 0xbb, 0};
    off = 0;
    assert_int_equal(tcp_opt_next(walk, 12, &off, &o), 1);
    assert_int_equal(o.kind, 2);
    assert_int_equal(o.len, 4);
    assert_ptr_equal(o.data, walk + 2);
    assert_int_equal(tcp_opt_next(walk, 12, &off, &o), 1);
    assert_int_equal(o.kind, 4);
    assert_int_equal(o.len, 2);
    assert_null(o.data);
    assert_int_equal(tcp_opt_next(walk, 12, &off, &o), 1);
    assert_int_equal(o.kind, 1);
    assert_int_equal(tcp_opt_next(walk, 12, &off, &o), 1);
    assert_int_equal(o.kind, 99);
    assert_int_equal(o.len, 4);
    assert_ptr_equal(o.data, walk + 9);
    assert_int_equal(tcp_opt_next(walk, 12, &off, &o), 1);
    assert_int_equal(o.kind, 0);
    assert_int_equal(tcp_opt_next(walk, 12, &off, &o), 0);

    /* Bad lengths: -1 and *off unchanged. Below 2, past the end, or wrong for the kind. */
    static const struct {
        uint8_t b[44];
        uint32_t n;
    } bad[] = {
        {{2, 0}, 2},          {{2, 1}, 2},        {{2, 4, 5}, 3},        {{2}, 1},
        {{1, 8, 10, 0}, 4},   {{99, 0, 0, 0}, 4}, {{99, 1, 0, 0}, 4},    {{2, 3, 5}, 3},
        {{2, 5, 5, 0, 0}, 5}, {{3, 2}, 2},        {{3, 4, 1, 1}, 4},     {{4, 3, 0}, 3},
        {{8, 9}, 9},          {{8, 11}, 11},      {{5, 2}, 2},           {{5, 9}, 9},
        {{5, 42}, 42},        {{34, 3, 0}, 3},    {{34, 5, 0, 0, 0}, 5}, {{34, 19}, 19},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        off = 0;
        while (off < bad[i].n && bad[i].b[off] == 1)
            off++;
        uint32_t at = off;
        assert_int_equal(tcp_opt_next(bad[i].b, bad[i].n, &off, &o), -1);
        assert_int_equal(off, at);
    }
    /* Good lengths for each kind. */
    static const struct {
        uint8_t kind, len;
    } good[] = {{2, 4},  {3, 3},  {4, 2},  {8, 10},  {5, 10}, {5, 18}, {5, 26},
                {5, 34}, {34, 2}, {34, 6}, {34, 18}, {99, 2}, {99, 40}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint8_t buf[40] = {good[i].kind, good[i].len};
        off = 0;
        assert_int_equal(tcp_opt_next(buf, good[i].len, &off, &o), 1);
        assert_int_equal(o.len, good[i].len);
        if (good[i].len == 2)
            assert_null(o.data);
        else
            assert_ptr_equal(o.data, buf + 2);
        assert_int_equal(off, good[i].len);
    }
    /* A length exactly to the end is fine; off past the end is the end. */
    static const uint8_t exact[3] = {3, 3, 14};
    off = 0;
    assert_int_equal(tcp_opt_next(exact, 3, &off, &o), 1);
    assert_int_equal(o.data[0], 14);
    assert_int_equal(off, 3);
    off = 99;
    assert_int_equal(tcp_opt_next(exact, 3, &off, &o), 0);
}

/* ---- checksum helpers ---- */

static void decode_inet_sum(void **state)
{
    (void)state;
    static uint8_t buf[200000 + 8];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    /* Every length up to 200 at every alignment, then some long ones. */
    for (uint32_t align = 0; align < 8; align++)
        for (uint32_t n = 0; n <= 200; n++)
            assert_int_equal(inet_fold(inet_sum(buf + align, n, 0)),
                             pb_fold(pb_sum(buf + align, n, 0)));
    static const uint32_t lens[] = {1499, 1500, 9001, 65535, 65536, 131071, 200000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        assert_int_equal(inet_fold(inet_sum(buf + 1, lens[i], 0x1fffe)),
                         pb_fold(pb_sum(buf + 1, lens[i], 0x1fffe)));
    /* All ones: the worst case for carries. */
    memset(buf, 0xff, 200000);
    assert_int_equal(inet_fold(inet_sum(buf, 200000, 0)), 0xffff);
    assert_int_equal(inet_fold(inet_sum(buf, 200000, 0xffffffffu)), 0xffff);
    /* Chaining an even split equals one call. */
    assert_int_equal(inet_fold(inet_sum(buf + 100, 50, inet_sum(buf, 100, 7))),
                     inet_fold(inet_sum(buf, 150, 7)));
    /* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    static const uint8_t rfc[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(inet_fold(inet_sum(rfc, 8, 0)), 0xddf2);
    assert_int_equal(inet_fold(inet_sum(rfc, 1, 0)), 0x0000);
    assert_int_equal(inet_fold(inet_sum(rfc + 2, 1, 0)), 0xf200);
    assert_int_equal(inet_fold(0), 0);
    assert_int_equal(inet_fold(0x1ffff), 0x1);
    assert_int_equal(inet_fold(0xffffffffu), 0xffff);
    assert_int_equal(inet_sum(NULL, 0, 5), 5);
}

/* Runs last: the tests above made the decoder raise every decoder anomaly of the list
 * (link.* through icmp.*; the rest belong to the tcp tracker). */
static void decode_anomaly_coverage(void **state)
{
    (void)state;
    anomaly_set want = 0;
    for (int a = ANOMALY_LINK_TRUNCATED; a <= ANOMALY_ICMP_TRUNCATED; a++)
        want |= ANOMALY_BIT(a);
    if ((seen_anomalies & want) != want) {
        print_set("never raised", want & ~seen_anomalies);
        fail();
    }
    assert_int_equal(seen_anomalies & ~want, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_anomaly_names),      cmocka_unit_test(decode_dlt_table),
        cmocka_unit_test(decode_unsupported_dlt),    cmocka_unit_test(decode_clears_packet),
        cmocka_unit_test(decode_eth_ipv4_tcp),       cmocka_unit_test(decode_eth_vlan),
        cmocka_unit_test(decode_eth_non_ip),         cmocka_unit_test(decode_sll_sll2),
        cmocka_unit_test(decode_null_loop),          cmocka_unit_test(decode_raw_ip),
        cmocka_unit_test(decode_ipv4_options),       cmocka_unit_test(decode_ipv4_padding),
        cmocka_unit_test(decode_ipv4_total_length),  cmocka_unit_test(decode_ipv4_header_errors),
        cmocka_unit_test(decode_ipv4_fragments),     cmocka_unit_test(decode_ipv6_basic),
        cmocka_unit_test(decode_ipv6_ext_headers),   cmocka_unit_test(decode_ipv6_routing_cksum),
        cmocka_unit_test(decode_ipv6_fragments),     cmocka_unit_test(decode_tcp_options),
        cmocka_unit_test(decode_tcp_bad_option_len), cmocka_unit_test(decode_tcp_flags),
        cmocka_unit_test(decode_tcp_header_errors),  cmocka_unit_test(decode_tcp_checksums),
        cmocka_unit_test(decode_udp_icmp),           cmocka_unit_test(decode_tcp_opt_next),
        cmocka_unit_test(decode_inet_sum),           cmocka_unit_test(decode_anomaly_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
