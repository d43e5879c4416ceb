/* decode_fastpath.c - differential test: decode_packet_ex's one-pass fast path for the
 * common Ethernet/IPv4/TCP frame gives, byte for byte, what the general layer-by-layer
 * decoder gives (DECODE_NO_FAST_PATH), with and without DECODE_NO_CHECKSUMS.
 *
 * Every frame is decoded three ways into structs pre-filled with different garbage:
 * the general path, decode_packet_ex as callers use it, and the fast path alone
 * (decode_fast_path_taken, when it takes the frame). The three must hold the same bytes,
 * padding included, so a field either path forgets to write shows up too. Frames come
 * from the byte builder (pktbuild.h: the common layouts, everything just outside them,
 * every prefix of each, random mutations of their headers) and from every capture in
 * captures/ and in ../shared/corpora (tcpdump's TCP and malformed captures), read with
 * libpcap. Each frame sits at the end of a buffer followed by a PROT_NONE page, so a
 * read past caplen faults.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "decode/pktbuild.h"
#include "decode_internal.h"
#include "synack/decode.h"

#ifndef SYNACK_CAPTURES_DIR
#error "SYNACK_CAPTURES_DIR must name the repository's captures/ directory"
#endif
#ifndef SYNACK_CORPORA_DIR
#error "SYNACK_CORPORA_DIR must name ../shared/corpora"
#endif

#define A(x) ANOMALY_BIT(ANOMALY_##x)

/* Frames decoded (each with both flag sets) and of them taken by the fast path; whole
 * frames of captures (no prefix) taken by the fast path. */
static unsigned long n_frames, n_fast, n_fast_captured;

/* ---- comparing two decodes ---- */

struct field {
    const char *name;
    size_t off, size;
};
#define F(f)                                                                                       \
    {                                                                                              \
#f, offsetof(struct packet, f), sizeof(((struct packet *)0)->f)                            \
    }
static const struct field fields[] = {
    F(n),
    F(ts_ns),
    F(caplen),
    F(len),
    F(link.dlt),
    F(link.hdr_len),
    F(link.src_mac),
    F(link.dst_mac),
    F(link.ethertype),
    F(link.n_vlan),
    F(link.vlan_tci),
    F(link.sll_pkttype),
    F(link.sll_ifindex),
    F(link.null_family),
    F(l3),
    F(ip.version),
    F(ip.proto),
    F(ip.ttl),
    F(ip.tos),
    F(ip.hdr_len),
    F(ip.id),
    F(ip.df),
    F(ip.mf),
    F(ip.fragment),
    F(ip.frag_off),
    F(ip.total_len),
    F(ip.len_from_frame),
    F(ip.flow_label),
    F(ip.n_ext),
    F(ip.ext),
    F(ip.src),
    F(ip.dst),
    F(ip.cksum_field),
    F(ip.cksum),
    F(l4),
    F(u.tcp.sport),
    F(u.tcp.dport),
    F(u.tcp.seq),
    F(u.tcp.ack),
    F(u.tcp.flags),
    F(u.tcp.doff),
    F(u.tcp.win),
    F(u.tcp.urp),
    F(u.tcp.cksum_field),
    F(u.tcp.cksum),
    F(u.tcp.opts),
    F(u.tcp.opts_len),
    F(u.tcp.o.present),
    F(u.tcp.o.wscale),
    F(u.tcp.o.n_sack),
    F(u.tcp.o.mss),
    F(u.tcp.o.ts_val),
    F(u.tcp.o.ts_ecr),
    F(u.tcp.o.sack),
    F(u.tcp.payload_len),
    F(u.tcp.payload_caplen),
    F(u.tcp.payload),
    F(tcp_valid),
    F(snap_truncated),
    F(no_cksum),
    F(anomalies),
};

static const char *field_at(size_t off)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (off >= fields[i].off && off < fields[i].off + fields[i].size)
            return fields[i].name;
    return "(padding)";
}

/* Fail, naming the frame and every byte where got differs from want. */
static void report_diff(const char *what, const char *frame, uint32_t caplen, uint32_t len,
                        unsigned flags, int rw, int rg, const struct packet *want,
                        const struct packet *got)
{
    const uint8_t *a = (const uint8_t *)want, *b = (const uint8_t *)got;
    print_error("%s: frame %s, caplen %u, len %u, flags 0x%x: returned %d, general %d\n", what,
                frame, caplen, len, flags, rg, rw);
    for (size_t i = 0; i < sizeof *want; i++)
        if (a[i] != b[i])
            print_error("  byte %3zu (%s): general 0x%02x, got 0x%02x\n", i, field_at(i), a[i],
                        b[i]);
    fail();
}

/* Decode one frame every way, with and without checksums, and compare. Returns whether
 * the fast path took it (with checksums on; it must agree with them off). */
static bool check_frame(const char *name, int dlt, const uint8_t *frame, uint32_t caplen,
                        uint32_t len)
{
    const uint8_t *d = frame ? pb_guard_copy(frame, caplen) : NULL;
    static const unsigned flag_sets[2] = {0, DECODE_NO_CHECKSUMS};
    int taken[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        unsigned flags = flag_sets[k];
        struct packet gen, ex, fast;
        memset(&gen, 0x5a, sizeof gen);
        memset(&ex, 0xa5, sizeof ex);
        memset(&fast, 0x3c, sizeof fast);
        gen.n = ex.n = fast.n = 77;
        gen.ts_ns = ex.ts_ns = fast.ts_ns = -5;

        int rg = decode_packet_ex(&gen, dlt, d, caplen, len, flags | DECODE_NO_FAST_PATH);
        int re = decode_packet_ex(&ex, dlt, d, caplen, len, flags);
        if (re != rg || memcmp(&gen, &ex, sizeof gen) != 0)
            report_diff("decode_packet_ex", name, caplen, len, flags, rg, re, &gen, &ex);
        if (flags == 0) {
            struct packet plain;
            memset(&plain, 0x11, sizeof plain);
            plain.n = 77;
            plain.ts_ns = -5;
            int rp = decode_packet(&plain, dlt, d, caplen, len);
            if (rp != rg || memcmp(&gen, &plain, sizeof gen) != 0)
                report_diff("decode_packet", name, caplen, len, flags, rg, rp, &gen, &plain);
        }
        if (dlt == SYNACK_DLT_EN10MB && d) {
            taken[k] = decode_fast_path_taken(&fast, d, caplen, len, flags);
            if (taken[k] && (rg != 4 || memcmp(&gen, &fast, sizeof gen) != 0))
                report_diff("fast path", name, caplen, len, flags, rg, 4, &gen, &fast);
        }
    }
    if (taken[0] != taken[1]) {
        print_error("frame %s, caplen %u: fast path %d with checksums, %d without\n", name, caplen,
                    taken[0], taken[1]);
        fail();
    }
    n_frames++;
    n_fast += (unsigned long)taken[0];
    return taken[0];
}

/* Every prefix of a frame, with the wire length the full frame's (a snaplen cut) and
 * equal to the prefix (a short frame whose IP length lies), and the frame itself with
 * broken records (wire length below the captured length). */
static void check_prefixes(const char *name, int dlt, const uint8_t *frame, uint32_t full)
{
    for (uint32_t cap = 0; cap <= full; cap++) {
        check_frame(name, dlt, frame, cap, full);
        check_frame(name, dlt, frame, cap, cap);
    }
    check_frame(name, dlt, frame, full, full > 20 ? full - 20 : 0);
    check_frame(name, dlt, frame, full, 0);
    check_frame(name, dlt, frame, full, full + 1000);
}

/* ---- builder frames ---- */

/* Option layouts. */
static const uint8_t O_TS[] = {1, 1, 8, 10, 0, 0, 0x12, 0x34, 0x80, 0, 0, 1};
static const uint8_t O_SYN_LINUX[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 1,
                                      2, 3, 0,    0,    0, 0, 1, 3,  3, 7};
static const uint8_t O_SYNACK_LINUX[] = {2, 4, 0x05, 0x8c, 4, 2, 8, 10, 9, 8,
                                         7, 6, 0,    1,    2, 3, 1, 3,  3, 9};
static const uint8_t O_SYN_NOTS[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
static const uint8_t O_SYN_MACOS[] = {2,    4,    0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10,
                                      0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 4, 2, 0, 0};
static const uint8_t O_SYN_WINDOWS[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2};
static const uint8_t O_TS_SACK1[] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8,
                                     1, 1, 5, 10, 0, 0, 1, 0, 0, 0, 2, 0};
static const uint8_t O_TS_SACK3[] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8, 1, 1, 5, 26, 0, 0, 1, 0,
                                     0, 0, 2, 0,  0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0,  0, 0, 6, 0};
static const uint8_t O_SACK4[] = {1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0,
                                  0, 4, 0, 0,  0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8};
/* SACK with 3 blocks, then one with 1: n_sack 1, blocks 2 and 3 of the first stay. */
static const uint8_t O_SACK3_SACK1[] = {5, 26, 0, 0, 0, 1, 0, 0, 0, 2,  0, 0, 0, 3, 0, 0, 0, 4,
                                        0, 0,  0, 5, 0, 0, 0, 6, 5, 10, 0, 0, 0, 9, 0, 0, 0, 10};
static const uint8_t O_NOP_NOP_SACK1[] = {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}; /* 12 bytes */
static const uint8_t O_TS_NOP_NOP[] = {8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1};    /* 12 bytes */
static const uint8_t O_TS_TWICE[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2,
                                     1, 1, 8, 10, 0, 0, 0, 3, 0, 0, 0, 4};
static const uint8_t O_MSS_TWICE[] = {2, 4, 1, 0, 2, 4, 2, 0};
static const uint8_t O_TFO[] = {34,   10, 1,   2, 3,    4,    5, 6,    7,    8,    30,   4,
                                0x10, 0,  254, 4, 0xf9, 0x89, 0, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t O_TFO_REQ[] = {34, 2, 1, 0};
static const uint8_t O_PAD[] = {1, 1, 1, 0, 0, 0, 0, 0};
static const uint8_t O_EOL_FIRST[] = {0, 2, 4, 5, 0xb4, 8, 3, 1};
static const uint8_t O_MAX[40] = {30, 40};
static const uint8_t O_MAX_NOPS[40] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                       1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
/* Bad lengths (the general path notes tcp.bad_option_len). */
static const uint8_t O_BAD_MSS3[] = {2, 3, 5, 0};
static const uint8_t O_BAD_TS8[] = {1, 1, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t O_BAD_TS_LEN9[] = {1, 1, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t O_BAD_SACK9[] = {5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t O_BAD_SACK42[] = {5, 42};
static const uint8_t O_BAD_LEN1[] = {30, 1, 0, 0};
static const uint8_t O_BAD_LEN0[] = {2, 4, 5, 0xb4, 30, 0, 0, 0};
static const uint8_t O_BAD_PAST[] = {2, 4, 5, 0xb4, 30, 9, 0, 0};
static const uint8_t O_BAD_NO_LEN[] = {1, 1, 1, 30};
static const uint8_t O_BAD_WS4[] = {3, 4, 7, 0};
static const uint8_t O_BAD_SACKPERM3[] = {4, 3, 0, 0};
static const uint8_t O_BAD_TFO3[] = {34, 3, 1, 0};
static const uint8_t O_GOOD_THEN_BAD[] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8, 2, 3, 0, 0};

struct opts_case {
    const char *name;
    const uint8_t *o;
    uint32_t n;
    int fast; /* the fast path must take the whole frame (1) or must not (0) */
};
#define OC(o, fast)                                                                                \
    {                                                                                              \
#o, o, sizeof o, fast                                                                      \
    }
static const struct opts_case opts_cases[] = {
    {"O_NONE", NULL, 0, 1}, OC(O_TS, 1),
    OC(O_SYN_LINUX, 1),     OC(O_SYNACK_LINUX, 1),
    OC(O_SYN_NOTS, 1),      OC(O_SYN_MACOS, 1),
    OC(O_SYN_WINDOWS, 1),   OC(O_TS_SACK1, 1),
    OC(O_TS_SACK3, 1),      OC(O_SACK4, 1),
    OC(O_SACK3_SACK1, 1),   OC(O_NOP_NOP_SACK1, 1),
    OC(O_TS_NOP_NOP, 1),    OC(O_TS_TWICE, 1),
    OC(O_MSS_TWICE, 1),     OC(O_TFO, 1),
    OC(O_TFO_REQ, 1),       OC(O_PAD, 1),
    OC(O_EOL_FIRST, 1),     OC(O_MAX, 1),
    OC(O_MAX_NOPS, 1),      OC(O_BAD_MSS3, 0),
    OC(O_BAD_TS8, 0),       OC(O_BAD_TS_LEN9, 0),
    OC(O_BAD_SACK9, 0),     OC(O_BAD_SACK42, 0),
    OC(O_BAD_LEN1, 0),      OC(O_BAD_LEN0, 0),
    OC(O_BAD_PAST, 0),      OC(O_BAD_NO_LEN, 0),
    OC(O_BAD_WS4, 0),       OC(O_BAD_SACKPERM3, 0),
    OC(O_BAD_TFO3, 0),      OC(O_GOOD_THEN_BAD, 0),
};

/* Ethernet / IPv4 / TCP with the given options (padded with EOL to a multiple of 4),
 * flags and payload. */
static void mk_frame(struct pb *b, const uint8_t *opts, uint32_t optlen, uint8_t flags,
                     uint32_t paylen)
{
    uint8_t o[40] = {0};
    uint32_t n = (optlen + 3) / 4 * 4;
    if (optlen)
        memcpy(o, opts, optlen);
    pb_init(b, SYNACK_DLT_EN10MB);
    pb_eth(b, 0x0800);
    pb_ipv4(b, NULL, 0);
    pb_tcp(b, 40000, 443, 0x01020304, 0xa0b0c0d0, flags, n ? o : NULL, n);
    pb_payload(b, NULL, paylen);
    pb_finish(b);
}

/* Check a builder frame at its full length (the fast path must take it, or not, as
 * want says; -1: either) and then every prefix of it. */
static void check_built(const char *name, const struct pb *b, int want)
{
    bool taken = check_frame(name, b->dlt, b->buf, b->len, b->len);
    if (want >= 0 && taken != (want != 0)) {
        print_error("frame %s: the fast path %s it\n", name, taken ? "took" : "declined");
        fail();
    }
    check_prefixes(name, b->dlt, b->buf, b->len);
}

/* Every option layout, with a payload and without, as SYN and as data. */
static void fastpath_options(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof opts_cases / sizeof opts_cases[0]; i++) {
        const struct opts_case *c = &opts_cases[i];
        struct pb b;
        mk_frame(&b, c->o, c->n, TCP_SYN, 0);
        check_built(c->name, &b, c->fast);
        mk_frame(&b, c->o, c->n, TCP_ACK | TCP_PSH, 100);
        check_built(c->name, &b, c->fast);
    }
    /* The fields the fast path fills from the options, spot-checked against the bytes. */
    struct pb b;
    struct packet p;
    mk_frame(&b, O_SACK3_SACK1, sizeof O_SACK3_SACK1, TCP_ACK, 0);
    assert_int_equal(decode_packet(&p, b.dlt, pb_guard_copy(b.buf, b.len), b.len, b.len), 4);
    assert_int_equal(p.u.tcp.o.n_sack, 1);
    assert_int_equal(p.u.tcp.o.sack[0][0], 9);
    assert_int_equal(p.u.tcp.o.sack[1][0], 3);
    mk_frame(&b, O_BAD_TS8, sizeof O_BAD_TS8, TCP_ACK, 0);
    decode_packet(&p, b.dlt, pb_guard_copy(b.buf, b.len), b.len, b.len);
    assert_int_equal(p.anomalies, A(TCP_BAD_OPTION_LEN));
}

/* Edit a built frame's IPv4 header field at off (2 bytes) and fix its checksum. */
static void set_ip16(struct pb *b, uint32_t off, uint16_t v)
{
    pb_put16(b, b->ip_off + off, v);
    pb_ipv4_recksum(b);
}

/* The common frame with one thing changed at a time: inside and outside the fast path. */
static void fastpath_headers(void **state)
{
    (void)state;
    struct pb b;
    char name[64];

    /* Plain variants the fast path takes. */
    mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK, 0);
    check_built("ts, no payload", &b, 1);
    mk_frame(&b, NULL, 0, TCP_ACK, 1);
    check_built("doff 5, 1 byte", &b, 1);
    mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK | TCP_URG | TCP_ECE | TCP_CWR, 200);
    pb_put16(&b, b.l4_off + 18, 7); /* urgent pointer (checksum now bad) */
    check_built("urg, ece, cwr", &b, 1);
    mk_frame(&b, O_TS, sizeof O_TS, TCP_RST, 0);
    check_built("rst", &b, 1);
    mk_frame(&b, O_TS, sizeof O_TS, TCP_FIN | TCP_ACK, 0);
    check_built("fin", &b, 1);
    mk_frame(&b, O_TS, sizeof O_TS, 0xfe, 0); /* every flag but FIN */
    check_built("flags 0xfe", &b, 1);

    /* IPv4 header fields the fast path copies but does not judge. */
    static const struct {
        const char *name;
        uint32_t off;
        uint16_t v;
    } ip16[] = {
        {"df clear", 6, 0x0000},     {"reserved bit", 6, 0x8000}, {"df+reserved", 6, 0xc000},
        {"ttl 0, proto", 8, 0x0006}, {"ttl 255", 8, 0xff06},      {"id 0", 4, 0x0000},
        {"id ffff", 4, 0xffff},      {"tos ff", 0, 0x45ff},       {"bad cksum", 10, 0x1111},
    };
    for (size_t i = 0; i < sizeof ip16 / sizeof ip16[0]; i++) {
        mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK, 30);
        set_ip16(&b, ip16[i].off, ip16[i].v);
        if (ip16[i].off == 10)
            pb_put16(&b, b.ip_off + 10, ip16[i].v);
        check_built(ip16[i].name, &b, 1);
    }

    /* TCP checksum states. */
    static const enum pb_cksum cks[] = {PB_CK_BAD, PB_CK_PARTIAL, PB_CK_PARTIAL_NOT,
                                        PB_CK_PARTIAL_NOLEN};
    for (size_t i = 0; i < sizeof cks / sizeof cks[0]; i++) {
        pb_init(&b, SYNACK_DLT_EN10MB);
        pb_eth(&b, 0x0800);
        pb_ipv4(&b, NULL, 0);
        pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, O_TS, sizeof O_TS);
        pb_payload(&b, NULL, 33);
        b.cksum = cks[i];
        pb_finish(&b);
        snprintf(name, sizeof name, "tcp cksum %d", (int)cks[i]);
        check_built(name, &b, 1);
    }

    /* Ethernet padding after a short datagram, and a long trailer. */
    mk_frame(&b, NULL, 0, TCP_ACK, 0);
    pb_trailer(&b, 6);
    check_built("padding", &b, 1);
    mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK, 10);
    pb_trailer(&b, 300);
    check_built("trailer", &b, 1);

    /* Total length: below the frame (more trailer), 0, too small, beyond the frame. */
    static const struct {
        const char *name;
        int32_t delta; /* added to the true total length */
        uint16_t abs;  /* if not 0: this value instead (0xffff: the value 0) */
        int fast;
    } totals[] = {
        {"total -10", -10, 0, 1}, {"total 0", 0, 0xffff, 0}, {"total 40", 0, 40, 1},
        {"total 39", 0, 39, 0},   {"total 20", 0, 20, 0},    {"total 19", 0, 19, 0},
        {"total +1", 1, 0, 0},    {"total +500", 500, 0, 0},
    };
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        mk_frame(&b, NULL, 0, TCP_ACK, 40);
        uint32_t total = b.len - b.ip_off;
        uint16_t v = totals[i].abs == 0xffff ? 0
                     : totals[i].abs         ? totals[i].abs
                                             : (uint16_t)((int32_t)total + totals[i].delta);
        set_ip16(&b, 2, v);
        check_built(totals[i].name, &b, totals[i].fast);
    }

    /* Data offset: below 5 words, beyond the segment, the maximum. */
    static const struct {
        const char *name;
        uint8_t doff_words;
        uint32_t paylen;
        int fast;
    } doffs[] = {
        /* doff > 5 over the payload: its bytes are options of unknown kinds and bad
         * lengths, so either path may take the frame */
        {"doff 0", 0, 40, 0},
        {"doff 4", 4, 40, 0},
        {"doff 6 in payload", 6, 40, -1},
        {"doff 15 in payload", 15, 40, -1},
        {"doff 15 beyond", 15, 10, 0},
        {"doff 6 beyond", 6, 0, 0},
    };
    for (size_t i = 0; i < sizeof doffs / sizeof doffs[0]; i++) {
        mk_frame(&b, NULL, 0, TCP_ACK, doffs[i].paylen);
        b.buf[b.l4_off + 12] = (uint8_t)(doffs[i].doff_words << 4);
        check_built(doffs[i].name, &b, doffs[i].fast);
    }

    /* Flag and port anomalies: the general path's. */
    mk_frame(&b, O_TS, sizeof O_TS, TCP_SYN | TCP_FIN, 0);
    check_built("syn+fin", &b, 0);
    mk_frame(&b, O_TS, sizeof O_TS, 0, 0);
    check_built("no flags", &b, 0);
    mk_frame(&b, O_TS, sizeof O_TS, 0xff, 0);
    check_built("all flags", &b, 0);
    mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK, 0);
    pb_put16(&b, b.l4_off, 0);
    check_built("sport 0", &b, 0);
    mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK, 0);
    pb_put16(&b, b.l4_off + 2, 0);
    check_built("dport 0", &b, 0);

    /* IPv4 header length, fragments, version, protocol. */
    static const uint8_t ipopts[4] = {1, 1, 1, 0};
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, ipopts, sizeof ipopts);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, O_TS, sizeof O_TS);
    pb_finish(&b);
    check_built("ihl 6", &b, 0);
    static const struct {
        const char *name;
        uint16_t frag;
    } frags[] = {{"mf", 0x2000}, {"offset 8", 0x0001}, {"df+mf", 0x6000}, {"offset max", 0x1fff}};
    for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
        mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK, 100);
        set_ip16(&b, 6, frags[i].frag);
        check_built(frags[i].name, &b, 0);
    }
    mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK, 0);
    b.buf[b.ip_off] = 0x65; /* version 6 under EtherType IPv4 */
    check_built("version 6", &b, 0);
    mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK, 0);
    b.buf[b.ip_off] = 0x44; /* IHL 4 */
    check_built("ihl 4", &b, 0);
    mk_frame(&b, O_TS, sizeof O_TS, TCP_ACK, 0);
    set_ip16(&b, 8, 0x4011); /* UDP */
    check_built("proto udp", &b, 0);

    /* Not Ethernet/IPv4: VLAN, IPv6, UDP, ARP; other link types. */
    static const uint16_t tpid[1] = {0x8100}, tci[1] = {5};
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth_vlan(&b, 1, tpid, tci, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, O_TS, sizeof O_TS);
    pb_finish(&b);
    check_built("vlan", &b, 0);
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x86dd);
    pb_ipv6(&b);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, O_TS, sizeof O_TS);
    pb_finish(&b);
    check_built("ipv6", &b, 0);
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_udp(&b, 53, 53);
    pb_payload(&b, NULL, 40);
    pb_finish(&b);
    check_built("udp", &b, 0);
    pb_init(&b, SYNACK_DLT_EN10MB);
    pb_eth(&b, 0x0806);
    pb_payload(&b, NULL, 28);
    pb_finish(&b);
    check_built("arp", &b, 0);
    pb_init(&b, SYNACK_DLT_LINUX_SLL);
    pb_sll(&b, 0, 0x0800);
    pb_ipv4(&b, NULL, 0);
    pb_tcp(&b, 1, 2, 3, 4, TCP_ACK, O_TS, sizeof O_TS);
    pb_finish(&b);
    check_built("sll", &b, -1);

    /* No bytes at all. */
    check_frame("NULL data", SYNACK_DLT_EN10MB, NULL, 0, 60);
    check_frame("unsupported dlt", 9999, b.buf, b.len, b.len);
}

/* ---- random mutations ---- */

static uint32_t rng_state = 0x2545f491;

static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Values that sit on the edges of the fast path's checks. */
static uint8_t interesting(void)
{
    static const uint8_t v[] = {0,    1,    2,    3,    4,    5,    8,    10,   0x08, 0x45,
                                0x46, 0x50, 0x40, 0x20, 0x3f, 0x80, 0xff, 0xfe, 0x11, 0x06,
                                0x22, 0x1a, 0x12, 0xf0, 0x0f, 18,   26,   34,   12,   0x86};
    return v[rng() % sizeof v];
}

/* Common frames with 1..4 header or option bytes changed (the IPv4 checksum fixed or
 * not), sometimes cut short: 40000 frames around the edges of the fast path. */
static void fastpath_mutations(void **state)
{
    (void)state;
    static const struct opts_case *bases[] = {&opts_cases[0], &opts_cases[1], &opts_cases[2],
                                              &opts_cases[5], &opts_cases[6], &opts_cases[8],
                                              &opts_cases[9]};
    unsigned long fast_before = n_fast;
    for (int iter = 0; iter < 40000; iter++) {
        const struct opts_case *c = bases[rng() % (sizeof bases / sizeof bases[0])];
        struct pb b;
        mk_frame(&b, c->o, c->n, (uint8_t)(rng() & 1 ? TCP_ACK : TCP_SYN), rng() % 64);
        uint32_t hdr = b.l4_hdr_end + 4 < b.len ? b.l4_hdr_end + 4 : b.len;
        int n = 1 + (int)(rng() % 4);
        for (int i = 0; i < n; i++) {
            uint32_t at = rng() % hdr;
            b.buf[at] = rng() & 1 ? interesting() : (uint8_t)rng();
        }
        if (rng() & 1)
            pb_ipv4_recksum(&b);
        uint32_t cap = b.len, len = b.len;
        switch (rng() % 8) {
        case 0:
            cap = rng() % (b.len + 1);
            break;
        case 1:
            cap = len = rng() % (b.len + 1);
            break;
        case 2:
            len = rng() % (b.len + 1);
            break;
        default:
            break;
        }
        char name[64];
        snprintf(name, sizeof name, "mutation %d of %s", iter, c->name);
        check_frame(name, b.dlt, b.buf, cap, len);
    }
    /* Most mutations still hit a field the fast path copies rather than judges. */
    assert_true(n_fast - fast_before > 4000);
}

/* ---- captures ---- */

/* Every frame of one capture file; prefixes up to 160 bytes (every cut through the
 * headers) for the first prefix_frames frames. Returns the frames read; 0 when libpcap
 * refuses the file. */
static unsigned long check_capture(const char *path, unsigned long prefix_frames)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc)
        return 0;
    int dlt = pcap_datalink(pc);
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned long n = 0;
    int rc;
    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        uint32_t cap = h->caplen < PB_GUARD_MAX ? h->caplen : PB_GUARD_MAX;
        n_fast_captured += check_frame(name, dlt, data, cap, h->len);
        if (n < prefix_frames)
            for (uint32_t k = 0; k < cap && k < 160; k++)
                check_frame(name, dlt, data, k, h->len);
        n++;
    }
    pcap_close(pc);
    return n;
}

/* Every capture matching pattern; returns the frames read. */
static unsigned long check_captures(const char *pattern, unsigned long prefix_frames,
                                    unsigned *files)
{
    glob_t g;
    unsigned long frames = 0;
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        frames += check_capture(g.gl_pathv[i], prefix_frames);
        (*files)++;
    }
    globfree(&g);
    return frames;
}

/* The repository's captures (real Linux TCP: most frames are the fast path's). */
static void fastpath_repo_captures(void **state)
{
    (void)state;
    unsigned files = 0;
    unsigned long fast_before = n_fast_captured;
    unsigned long frames = check_captures(SYNACK_CAPTURES_DIR "/*.pcap", 50, &files) +
                           check_captures(SYNACK_CAPTURES_DIR "/*.pcapng", 50, &files);
    unsigned long fast = n_fast_captured - fast_before;
    print_message("captures/: %u files, %lu frames, %lu of them by the fast path\n", files, frames,
                  fast);
    assert_true(files >= 10);
    assert_true(frames > 500);
    assert_true(fast > frames / 2);
}

/* tcpdump's TCP and malformed captures, when ../shared/corpora is there. */
static void fastpath_corpora(void **state)
{
    (void)state;
    unsigned files = 0;
    unsigned long frames = check_captures(SYNACK_CORPORA_DIR "/*/*/*.pcap", 5, &files) +
                           check_captures(SYNACK_CORPORA_DIR "/*/*/*.pcapng", 5, &files);
    print_message("corpora: %u files, %lu frames\n", files, frames);
    if (files == 0)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fastpath_options),   cmocka_unit_test(fastpath_headers),
        cmocka_unit_test(fastpath_mutations), cmocka_unit_test(fastpath_repo_captures),
        cmocka_unit_test(fastpath_corpora),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    print_message("%lu frames decoded every way, %lu taken by the fast path\n", n_frames, n_fast);
    return rc;
}
