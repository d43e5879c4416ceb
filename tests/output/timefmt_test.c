/* timefmt_test.c - packet timestamps (src/timefmt.c): the text before the fraction is
 * made once per second and reused, so every mode is checked across second, minute,
 * hour, day and year boundaries, backwards steps, pre-1970 and far-future times, and
 * against a timefmt that starts afresh for each stamp and against libc's calendar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "timefmt.h"

#define NS 1000000000LL

static struct outbuf *new_buf(void)
{
    struct outbuf *b = malloc(sizeof *b);
    assert_non_null(b);
    outbuf_init(b, -1); /* never flushed in these tests but one, where a write to -1 fails */
    return b;
}

/* What timefmt_packet appended since len0, as a string. */
static const char *since(struct outbuf *b, size_t len0)
{
    static char s[128];
    assert_true(b->len >= len0 && b->len - len0 < sizeof s);
    memcpy(s, b->data + len0, b->len - len0);
    s[b->len - len0] = '\0';
    return s;
}

/* Stamps around the boundaries where a cached prefix could go stale. */
static size_t boundary_stamps(int64_t *out, size_t max)
{
    static const int64_t secs[] = {
        0,           59,          60,          3599,        3600,       86399,
        86400,       951782399,   951868799,   1700000000,  1710054000, 1710053999,
        1730595599,  1730595600,  1735689599,  2147483647,  2147483648, 4102444799,
        4294967295,  8000000000,  -1,          -60,         -86400,     -86401,
        -2208988800, 9223372035, /* 2262, near the int64 nanosecond limit */
    };
    static const int64_t offs[] = {-NS - 1, -NS, -1, 0, 1, 999999, 1000, NS - 1, NS, NS + 1};
    size_t n = 0;
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++)
        for (size_t j = 0; j < sizeof offs / sizeof offs[0]; j++) {
            if (secs[i] == 9223372035 && offs[j] > 0)
                continue; /* would leave int64 */
            assert_true(n < max);
            out[n++] = secs[i] * NS + offs[j];
        }
    /* steps backwards and repeats */
    static const int64_t back[] = {1700000005 * NS, 1700000001 * NS, 1700000001 * NS,
                                   1699999000 * NS + 123, 1700000001 * NS + 5, 0, 0,
                                   -5 * NS + 7};
    for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
        assert_true(n < max);
        out[n++] = back[i];
    }
    return n;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The stamp as libc's calendar and printf give it (the reference for DEFAULT, DATE and
 * EPOCH). */
static void reference(enum time_mode mode, int nano, int64_t ts, char *out, size_t size)
{
    int64_t s = floor_div(ts, NS);
    unsigned frac = (unsigned)(ts - s * NS);
    char fr[16];
    if (nano)
        snprintf(fr, sizeof fr, "%09u", frac);
    else
        snprintf(fr, sizeof fr, "%06u", frac / 1000);
    if (mode == TIME_EPOCH) {
        snprintf(out, size, "%lld.%s ", (long long)s, fr);
        return;
    }
    time_t t = (time_t)s;
    struct tm tm;
    assert_non_null(localtime_r(&t, &tm));
    if (mode == TIME_DATE)
        snprintf(out, size, "%04d-%02d-%02d %02d:%02d:%02d.%s ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fr);
    else
        snprintf(out, size, "%02d:%02d:%02d.%s ", tm.tm_hour, tm.tm_min, tm.tm_sec, fr);
}

/* A delta as tcpdump's -ttt prints it: sign column, HH:MM:SS (hours keep two digits). */
static void reference_delta(int nano, int64_t d, char *out, size_t size)
{
    char sign = d < 0 ? '-' : ' ';
    uint64_t m = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
    uint64_t s = m / NS;
    unsigned frac = (unsigned)(m % NS);
    if (nano)
        snprintf(out, size, "%c%02u:%02u:%02u.%09u ", sign, (unsigned)(s / 3600 % 100),
                 (unsigned)(s / 60 % 60), (unsigned)(s % 60), frac);
    else
        snprintf(out, size, "%c%02u:%02u:%02u.%06u ", sign, (unsigned)(s / 3600 % 100),
                 (unsigned)(s / 60 % 60), (unsigned)(s % 60), frac / 1000);
}

/* One run of stamps through one timefmt (the cache in use) and through a fresh timefmt
 * per stamp (no cache), both against the reference. */
static void check_mode(enum time_mode mode, int nano, const int64_t *ts, size_t n)
{
    struct outbuf *b = new_buf(), *fresh_b = new_buf();
    struct timefmt tf;
    timefmt_init(&tf, mode, nano);
    int64_t first = ts[0], prev = ts[0];
    for (size_t i = 0; i < n; i++) {
        char want[96];
        int64_t d = 0;
        int skip = 0; /* a delta beyond int64 (1900 to 2262): printed, not compared */
        if (mode == TIME_DELTA || mode == TIME_SINCE_FIRST) {
            skip = __builtin_sub_overflow(ts[i], mode == TIME_DELTA ? prev : first, &d);
            reference_delta(nano, d, want, sizeof want);
        } else {
            reference(mode, nano, ts[i], want, sizeof want);
        }
        size_t len0 = b->len;
        timefmt_packet(&tf, b, ts[i]);
        if (!skip && strcmp(since(b, len0), want) != 0)
            fail_msg("mode %d nano %d stamp %lld: got \"%s\", want \"%s\"", (int)mode, nano,
                     (long long)ts[i], since(b, len0), want);
        if (mode != TIME_DELTA && mode != TIME_SINCE_FIRST) {
            struct timefmt fresh;
            timefmt_init(&fresh, mode, nano);
            fresh_b->len = 0;
            timefmt_packet(&fresh, fresh_b, ts[i]);
            assert_string_equal(since(fresh_b, 0), want);
        }
        prev = ts[i];
        if (b->len > 2048)
            b->len = 0;
    }
    free(b);
    free(fresh_b);
}

static void check_all_modes(void)
{
    int64_t ts[512];
    size_t n = boundary_stamps(ts, sizeof ts / sizeof ts[0]);
    static const enum time_mode modes[] = {TIME_DEFAULT, TIME_EPOCH, TIME_DELTA, TIME_DATE,
                                           TIME_SINCE_FIRST};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
        for (int nano = 0; nano <= 1; nano++)
            check_mode(modes[m], nano, ts, n);
    /* a dense walk: every 250 ms across a day boundary, then every 7 s for 3 hours */
    int64_t walk[512];
    size_t k = 0;
    for (int64_t t = 86400 * NS - 30 * NS; k < 240; t += NS / 4)
        walk[k++] = t;
    for (int64_t t = 1710050000 * NS; k < 512; t += 7 * NS + 13)
        walk[k++] = t;
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
        check_mode(modes[m], 0, walk, k);
}

static void test_utc(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    check_all_modes();
}

/* Local time: a whole-hour DST zone (transitions on UTC hour boundaries, which is what
 * the per-hour offset cache assumes) and a fixed half-hour offset. */
static void test_local_zones(void **state)
{
    (void)state;
    setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
    tzset();
    check_all_modes();
    setenv("TZ", "IST-5:30", 1);
    tzset();
    check_all_modes();
    setenv("TZ", "UTC", 1);
    tzset();
}

static void test_none(void **state)
{
    (void)state;
    struct outbuf *b = new_buf();
    struct timefmt tf;
    timefmt_init(&tf, TIME_NONE, 0);
    timefmt_packet(&tf, b, 1700000000 * NS);
    assert_int_equal(b->len, 0);
    free(b);
}

/* A stamp that does not fit in what is left of the buffer flushes first. */
static void test_near_full_buffer(void **state)
{
    (void)state;
    struct outbuf *b = new_buf();
    struct timefmt tf;
    timefmt_init(&tf, TIME_DATE, 1);
    setenv("TZ", "UTC", 1);
    tzset();
    b->len = OUTBUF_SIZE - 5;
    timefmt_packet(&tf, b, 1700000000 * NS + 1);
    assert_string_equal(since(b, 0), "2023-11-14 22:13:20.000000001 ");
    free(b);
}

static void test_iso_utc(void **state)
{
    (void)state;
    struct outbuf *b = new_buf();
    static const struct {
        int64_t ts;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000000000Z"},
        {-1, "1969-12-31T23:59:59.999999999Z"},
        {1700000000 * NS + 123456789, "2023-11-14T22:13:20.123456789Z"},
        {951782400 * NS, "2000-02-29T00:00:00.000000000Z"},
        {8000000000 * NS, "2223-07-06T14:13:20.000000000Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        b->len = 0;
        timefmt_iso_utc(b, cases[i].ts);
        assert_string_equal(since(b, 0), cases[i].text);
    }
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_local_zones),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_near_full_buffer),
        cmocka_unit_test(test_iso_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
