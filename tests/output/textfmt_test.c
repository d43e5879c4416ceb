/* textfmt_test.c - text renderings (src/textfmt.c) that are built field by field
 * instead of through snprintf or the option walk: the connection table row against
 * the snprintf formats it replaced, and the NOP,NOP,TS option shortcut against the
 * general walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "textfmt.h"

/* ---------------------------------------------------------------- connection rows */

/* The row as the snprintf formats print it (the reference). */
static void ref_endpoint(char *out, size_t size, int family, const struct tcp_endpoint *e)
{
    char addr[INET6_TEXT_MAX];
    addr_text(family, e->addr, addr, sizeof addr);
    snprintf(out, size, family == 6 ? "[%s]:%u" : "%s:%u", addr, e->port);
}

static size_t ref_conn_row(char *out, size_t size, const struct conn *c)
{
    char cl[80], sv[80], rtt[32], mc[48], ms[16], mc2[48], ms2[16];
    ref_endpoint(cl, sizeof cl, c->family, &c->ep[ROLE_CLIENT]);
    ref_endpoint(sv, sizeof sv, c->family, &c->ep[ROLE_SERVER]);
    if (c->syn_ns && c->synack_ns && c->synack_ns >= c->syn_ns)
        snprintf(rtt, sizeof rtt, "%.3f",
                 (double)((c->ack_ns && c->ack_ns >= c->synack_ns ? c->ack_ns : c->synack_ns) -
                          c->syn_ns) / 1e6);
    else
        snprintf(rtt, sizeof rtt, "-");
    const struct tcp_endpoint *ce = &c->ep[ROLE_CLIENT], *se = &c->ep[ROLE_SERVER];
    snprintf(ms, sizeof ms, "%u", se->mss);
    snprintf(mc, sizeof mc, "%u/%s", ce->max_payload, se->has_mss ? ms : "-");
    snprintf(ms2, sizeof ms2, "%u", ce->mss);
    snprintf(mc2, sizeof mc2, "%u/%s", se->max_payload, ce->has_mss ? ms2 : "-");
    const char *closer = conn_active_closer(c);
    int n = snprintf(out, size,
                     "%5llu  %-23s %-23s %9s %10llu %10llu %11s %11s %-12s %-7s %-12s %-12s "
                     "%-8s %s\n",
                     (unsigned long long)c->id, cl, sv, rtt,
                     (unsigned long long)tcp_endpoint_bytes(ce),
                     (unsigned long long)tcp_endpoint_bytes(se), mc, mc2,
                     close_kind_name((enum close_kind)c->close), closer ? closer : "-",
                     tcp_state_name((enum tcp_state)ce->state),
                     tcp_state_name((enum tcp_state)se->state), conn_state_zeek(c), c->history);
    return n < 0 ? 0 : ((size_t)n < size ? (size_t)n : size - 1);
}

/* Compare the row with the reference at every buffer size up to the row's length + 2. */
static void check_row(const struct conn *c)
{
    char want[600], got[600];
    size_t wn = ref_conn_row(want, sizeof want, c);
    size_t gn = textfmt_conn_row(got, sizeof got, c);
    if (wn != gn || strcmp(want, got) != 0)
        fail_msg("row differs:\n got  %s want %s", got, want);
    for (size_t size = 1; size <= wn + 2; size++) {
        memset(got, 'x', sizeof got);
        ref_conn_row(want, size, c);
        gn = textfmt_conn_row(got, size, c);
        assert_int_equal(gn, strlen(want));
        assert_string_equal(got, want);
        assert_int_equal(got[size], 'x'); /* nothing written past size */
    }
}

static struct conn *base_conn(void)
{
    static struct conn c;
    memset(&c, 0, sizeof c);
    c.id = 42;
    c.family = 4;
    static const uint8_t a[4] = {10, 64, 2, 28}, z[4] = {192, 0, 2, 11};
    memcpy(c.ep[ROLE_CLIENT].addr, a, 4);
    memcpy(c.ep[ROLE_SERVER].addr, z, 4);
    c.ep[ROLE_CLIENT].port = 32768;
    c.ep[ROLE_SERVER].port = 443;
    c.first_fin = -1;
    c.rst_by = -1;
    strcpy(c.history, "ShADadFf");
    c.hist_len = 8;
    return &c;
}

static void test_conn_rows(void **state)
{
    (void)state;
    struct conn *c = base_conn();
    check_row(c); /* no handshake times: rtt "-" */

    /* handshake RTTs: plain values, rounding up and down, exact ties (printf rounds a
     * tie to even: 62500 ns is 0.0625 ms, "0.062"), carries, and values beyond 2^53 */
    static const int64_t rtts[] = {0,       1,        499,          500,         501,
                                   1499,    1500,     1501,         2500,        62500,
                                   187500,  999500,   999499,       999999,      1000000,
                                   123456789, 9999999500, 4503599627370495LL,
                                   9007199254740991LL, 9007199254740993LL, 9007199254741500LL,
                                   1234567890123456789LL, 8000000000000000000LL};
    for (size_t i = 0; i < sizeof rtts / sizeof rtts[0]; i++) {
        c->syn_ns = 1000;
        c->synack_ns = 1000 + rtts[i];
        c->ack_ns = 0;
        check_row(c);
        c->ack_ns = c->synack_ns + 777; /* the ACK's time when there is one */
        if (c->ack_ns > c->synack_ns)
            check_row(c);
    }
    c->syn_ns = 5000, c->synack_ns = 4000; /* SYN-ACK before SYN: "-" */
    check_row(c);
    for (int64_t ns = 0; ns < 200000; ns += 250) { /* every tie and its neighbours */
        c->syn_ns = 1;
        c->synack_ns = 1 + ns;
        check_row(c);
    }

    /* MSS known or not, payload maxima, bytes, close kinds, states */
    c->syn_ns = 1, c->synack_ns = 1001;
    c->ep[ROLE_CLIENT].has_mss = 1, c->ep[ROLE_CLIENT].mss = 1460;
    c->ep[ROLE_SERVER].max_payload = 4294967295u;
    check_row(c);
    c->ep[ROLE_SERVER].has_mss = 1, c->ep[ROLE_SERVER].mss = 65535;
    c->ep[ROLE_CLIENT].isn_known = 1, c->ep[ROLE_CLIENT].max_end = INT64_MAX;
    c->ep[ROLE_SERVER].isn_known = 1, c->ep[ROLE_SERVER].max_end = 12345;
    for (int k = CLOSE_NONE; k <= CLOSE_RST_SERVER; k++) {
        c->close = (uint8_t)k;
        c->first_fin = (int8_t)(k % 2);
        c->ep[ROLE_CLIENT].state = (uint8_t)(k % TCPS_COUNT);
        c->ep[ROLE_SERVER].state = (uint8_t)((k * 3) % TCPS_COUNT);
        check_row(c);
    }
    c->id = 18446744073709551615ull; /* wider than its column */
    memset(c->history, 'D', CONN_HISTORY_MAX);
    c->history[CONN_HISTORY_MAX] = '\0';
    check_row(c);
    c->history[0] = '\0';
    check_row(c);

    /* addresses at their widest and narrowest, IPv6 in brackets */
    memset(c->ep[ROLE_CLIENT].addr, 255, 4);
    memset(c->ep[ROLE_SERVER].addr, 0, 4);
    c->ep[ROLE_CLIENT].port = 65535;
    c->ep[ROLE_SERVER].port = 0;
    check_row(c);
    c->family = 6;
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                   0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33, 0x44};
    memcpy(c->ep[ROLE_CLIENT].addr, v6, 16);
    memset(c->ep[ROLE_SERVER].addr, 0, 16);
    c->ep[ROLE_SERVER].addr[15] = 1;
    check_row(c);
}

/* ---------------------------------------------------------------- tcp options */

static const char *options_text(const uint8_t *opts, uint8_t len, uint32_t sack_base)
{
    static char s[512];
    struct outbuf *b = malloc(sizeof *b);
    assert_non_null(b);
    outbuf_init(b, -1);
    struct pkt_tcp tcp;
    memset(&tcp, 0, sizeof tcp);
    tcp.opts = opts;
    tcp.opts_len = len;
    textfmt_tcp_options(b, &tcp, sack_base);
    assert_true(b->len < sizeof s);
    memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    free(b);
    return s;
}

/* NOP,NOP,TS is printed without the walk; with two more NOPs (16 bytes) it goes through
 * the walk, which must print the same followed by ",nop,nop". */
static void test_nop_nop_ts(void **state)
{
    (void)state;
    static const uint32_t vals[] = {0, 1, 9, 10, 99, 100, 65535, 1000000000u, 4294967295u};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint32_t v = vals[i], e = vals[(i + 3) % (sizeof vals / sizeof vals[0])];
        uint8_t o[16] = {1, 1, 8, 10, (uint8_t)(v >> 24), (uint8_t)(v >> 16),
                         (uint8_t)(v >> 8), (uint8_t)v, (uint8_t)(e >> 24),
                         (uint8_t)(e >> 16), (uint8_t)(e >> 8), (uint8_t)e, 1, 1, 1, 1};
        char want[128];
        snprintf(want, sizeof want, "nop,nop,TS val %u ecr %u", v, e);
        assert_string_equal(options_text(o, 12, 77), want);
        strcat(want, ",nop,nop,nop,nop");
        assert_string_equal(options_text(o, 16, 77), want);
    }
    /* near misses take the walk */
    static const uint8_t bad_len[12] = {1, 1, 8, 11, 0, 0, 0, 1, 0, 0, 0, 2};
    assert_string_equal(options_text(bad_len, 12, 0), "nop,nop,bad opt");
    static const uint8_t eol[12] = {1, 0, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    assert_string_equal(options_text(eol, 12, 0), "nop,eol");
    static const uint8_t cut[11] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0};
    assert_string_equal(options_text(cut, 11, 0), "nop,nop,bad opt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_rows),
        cmocka_unit_test(test_nop_nop_ts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
