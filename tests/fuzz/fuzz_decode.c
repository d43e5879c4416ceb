/* fuzz_decode.c - libFuzzer harness for the link/IP/TCP decoders, the TCP option walker
 * and the tcpdump-style text formatter.
 *
 * Pipeline place: test of [link decode -> ip decode -> tcp decode] and of textfmt.
 * Input: [dlt selector] [options] [frame ...] (fuzz_common.h).  The selector picks a
 * link type from fuzz_dlts (byte % FUZZ_N_DLT); the options byte sets the printer
 * (bits 0-1 -v level, bit 2 -e, bit 3 -S) and the wire length (bits 4-7: 0 the frame
 * was captured whole; 1..14 it was 2^(n-1) bytes longer on the wire; 15 a broken record
 * claiming 0 bytes on the wire).  The frame is libFuzzer's own exact-size heap copy, so
 * AddressSanitizer sees any read past caplen.
 *
 * Besides "no crash, no sanitizer report", the harness checks what decode.h promises:
 * every pointer into the frame stays inside it, the option walk makes progress and
 * returns lengths right for each kind, and options it finds were parsed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "outbuf.h"
#include "synack/decode.h"
#include "textfmt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct outbuf out; /* 256 KiB: static, reset for every input */

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_decode: %s:%d: contract broken: %s\n", __FILE__, __LINE__,       \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Is [p, p + n) inside [base, base + size)? */
static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
    return p >= base && (size_t)(p - base) <= size && n <= size - (size_t)(p - base);
}

static unsigned opt_present_bit(uint8_t kind)
{
    switch (kind) {
    case TCPOPT_MSS:
        return TCPO_MSS;
    case TCPOPT_WSCALE:
        return TCPO_WSCALE;
    case TCPOPT_SACK_PERM:
        return TCPO_SACK_PERM;
    case TCPOPT_TIMESTAMP:
        return TCPO_TS;
    case TCPOPT_SACK:
        return TCPO_SACK;
    case TCPOPT_TFO:
        return TCPO_TFO;
    default:
        return TCPO_UNKNOWN;
    }
}

/* The length decode.h promises for a returned option of a listed kind. */
static int opt_len_promised(uint8_t kind, uint8_t len)
{
    switch (kind) {
    case TCPOPT_EOL:
    case TCPOPT_NOP:
        return len == 1;
    case TCPOPT_MSS:
        return len == 4;
    case TCPOPT_WSCALE:
        return len == 3;
    case TCPOPT_SACK_PERM:
        return len == 2;
    case TCPOPT_TIMESTAMP:
        return len == 10;
    case TCPOPT_SACK:
        return len >= 10 && len <= 34 && (len - 2) % 8 == 0;
    case TCPOPT_TFO:
        return len == 2 || (len >= 6 && len <= 18);
    default:
        return len >= 2;
    }
}

/* Walk the options with tcp_opt_next as a printer would and check its contract. */
static void walk_options(const struct pkt_tcp *tcp)
{
    uint32_t off = 0, steps = 0;
    struct tcp_opt o;
    int rc;
    unsigned seen = 0;
    while ((rc = tcp_opt_next(tcp->opts, tcp->opts_len, &off, &o)) == 1) {
        CHECK(++steps <= 40); /* every option is at least one byte */
        CHECK(off <= tcp->opts_len);
        CHECK(opt_len_promised(o.kind, o.len));
        if (o.len > 2) {
            CHECK(o.data != NULL);
            CHECK(inside(o.data, o.len - 2u, tcp->opts, tcp->opts_len));
            volatile uint8_t sink = 0;
            for (unsigned i = 0; i + 2u < o.len; i++)
                sink ^= o.data[i];
            (void)sink;
        } else {
            CHECK(o.data == NULL);
        }
        if (o.len > 1)
            seen |= opt_present_bit(o.kind);
    }
    CHECK(rc == 0 || rc == -1);
    /* An option the walk reaches before any bad one was parsed into tcp->o. */
    CHECK((seen & tcp->o.present) == seen);
    CHECK(tcp->o.n_sack <= SYNACK_MAX_SACK);
}

static void check_packet(const struct packet *p, int rc, const uint8_t *frame, uint32_t caplen)
{
    CHECK(rc >= 0 && rc <= 4);
    CHECK(p->caplen == caplen);
    CHECK(p->link.hdr_len <= caplen);
    CHECK(p->link.n_vlan <= SYNACK_MAX_VLAN);
    if (p->link.src_mac)
        CHECK(inside(p->link.src_mac, 6, frame, caplen));
    if (p->link.dst_mac)
        CHECK(inside(p->link.dst_mac, 6, frame, caplen));
    if (p->l3 == L3_IPV4 || p->l3 == L3_IPV6)
        CHECK(p->ip.n_ext <= SYNACK_MAX_IPV6_EXT);
    if (p->l4 == L4_TCP && p->tcp_valid) {
        const struct pkt_tcp *tcp = &p->u.tcp;
        CHECK(tcp->doff >= 20 && tcp->doff <= 60);
        CHECK(tcp->opts_len <= tcp->doff - 20u);
        if (tcp->opts)
            CHECK(inside(tcp->opts, tcp->opts_len, frame, caplen));
        else
            CHECK(tcp->opts_len == 0);
        CHECK(tcp->payload_caplen <= tcp->payload_len);
        if (tcp->payload)
            CHECK(inside(tcp->payload, tcp->payload_caplen, frame, caplen));
        else
            CHECK(tcp->payload_caplen == 0);
        walk_options(tcp);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup_env();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int dlt = fuzz_dlts[data[0] % FUZZ_N_DLT];
    uint8_t opt = data[1];
    const uint8_t *frame = data + 2;
    size_t n = size - 2;
    if (n > 65535)
        n = 65535;
    uint32_t caplen = (uint32_t)n;
    unsigned w = opt >> 4;
    uint32_t len = w == 0 ? caplen : w == 15 ? 0 : caplen + (1u << (w - 1));

    struct packet p;
    p.n = 1;
    p.ts_ns = FUZZ_TS_BASE;
    int rc = decode_packet(&p, dlt, caplen ? frame : NULL, caplen, len);
    check_packet(&p, rc, frame, caplen);

    /* The same frame through the formatter, as the text sink prints it. */
    outbuf_init(&out, fuzz_devnull());
    struct textfmt_opts fo = {
        .verbose = opt & 3,
        .link_header = (opt & 4) != 0,
        .absolute_seq = (opt & 8) != 0,
    };
    struct track_info ti;
    memset(&ti, 0, sizeof ti);
    textfmt_packet(&out, &p, &ti, &fo);
    if (p.l4 == L4_TCP && p.tcp_valid) {
        char flags[16];
        textfmt_flags(flags, p.u.tcp.flags);
        outbuf_puts(&out, flags);
        textfmt_flag_letters(flags, p.u.tcp.flags);
        outbuf_puts(&out, flags);
        textfmt_tcp_options(&out, &p.u.tcp, p.u.tcp.seq);
    }
    outbuf_putc(&out, '\n');
    outbuf_flush(&out);
    (void)inet_fold(inet_sum(frame, caplen, 0));
    return 0;
}
