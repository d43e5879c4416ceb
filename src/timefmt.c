/* timefmt.c - packet timestamps in tcpdump's formats and ISO-8601 UTC (see timefmt.h). */
#include "timefmt.h"

#include <string.h>
#include <time.h>

void timefmt_init(struct timefmt *tf, enum time_mode mode, int nano)
{
    tf->mode = mode;
    tf->nano = nano;
    tf->first_ns = tf->prev_ns = 0;
    tf->have_first = 0;
    tf->off_from = 1;
    tf->off_to = 0; /* empty range: the first use looks the offset up */
    tf->off = 0;
    tf->pre_key = 0;
    tf->have_pre = 0;
    tf->pre_len = 0;
    memset(tf->pre, 0, sizeof tf->pre);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 to a civil date: the standard era-based computation
 * (400-year eras of 146097 days, years starting in March). */
void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Local offset for epoch second s, cached for the hour around it. */
static long local_offset(struct timefmt *tf, int64_t s)
{
    if (s >= tf->off_from && s < tf->off_to)
        return tf->off;
    time_t t = (time_t)s;
    struct tm tm;
    tf->off = localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
    tf->off_from = s - (s % 3600 + 3600) % 3600; /* the hour containing s */
    tf->off_to = tf->off_from + 3600;
    return tf->off;
}

/* ---------------------------------------------------------------- text pieces
 * Each writes at p and returns the end.  Fixed-width fields follow outbuf_u64w: a value
 * too large for its width keeps its last digits (hours of a long -ttt delta). */

static char *put2(char *p, uint64_t v)
{
    memcpy(p, outbuf_digit_pairs + 2 * (v % 100), 2);
    return p + 2;
}

static char *put_i64(char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        *p++ = '-';
        u = 0 - u;
    }
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    memcpy(p, tmp + i, sizeof tmp - i);
    return p + (sizeof tmp - i);
}

/* "HH:MM:SS" */
static char *put_hms(char *p, uint64_t secs)
{
    p = put2(p, secs / 3600);
    *p++ = ':';
    p = put2(p, secs / 60 % 60);
    *p++ = ':';
    return put2(p, secs % 60);
}

/* "YYYY-MM-DD" */
static char *put_date(char *p, int64_t days)
{
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    uint64_t yy = (uint64_t)(y < 0 ? 0 : y);
    p = put2(p, yy / 100);
    p = put2(p, yy);
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    return put2(p, d);
}

/* The fraction: 6 digits (microseconds) or, with nano, 9.  ns is below 10^9. */
static char *put_frac(char *p, uint32_t ns, int nano)
{
    if (nano) {
        *p++ = (char)('0' + ns / 100000000);
        outbuf_pairs_at(p + 8, ns % 100000000, 4);
        return p + 8;
    }
    outbuf_pairs_at(p + 6, ns / 1000, 3);
    return p + 6;
}

/* ---------------------------------------------------------------- packet times */

/* Make tf->pre, the text before the fraction, for key: epoch seconds, or for the
 * delta modes 2 * seconds + 1 if negative.  A delta is a sign column (tcpdump's), then
 * HH:MM:SS. */
static void make_prefix(struct timefmt *tf, int64_t key)
{
    char *p = tf->pre;
    switch (tf->mode) {
    case TIME_EPOCH:
        p = put_i64(p, key);
        break;
    case TIME_DELTA:
    case TIME_SINCE_FIRST:
        *p++ = (key & 1) ? '-' : ' ';
        p = put_hms(p, (uint64_t)key / 2);
        break;
    default: { /* TIME_DEFAULT, TIME_DATE */
        int64_t local = key + local_offset(tf, key);
        int64_t days = floor_div(local, 86400);
        if (tf->mode == TIME_DATE) {
            p = put_date(p, days);
            *p++ = ' ';
        }
        p = put_hms(p, (uint64_t)(local - days * 86400));
        break;
    }
    }
    *p++ = '.';
    tf->pre_len = (unsigned)(p - tf->pre);
    tf->pre_key = key;
    tf->have_pre = 1;
}

void timefmt_packet(struct timefmt *tf, struct outbuf *b, int64_t ts)
{
    if (!tf->have_first) {
        tf->first_ns = tf->prev_ns = ts;
        tf->have_first = 1;
    }
    int64_t key;
    uint32_t frac;
    switch (tf->mode) {
    case TIME_NONE:
        return;
    case TIME_DELTA:
    case TIME_SINCE_FIRST: {
        int64_t base = tf->mode == TIME_DELTA ? tf->prev_ns : tf->first_ns;
        uint64_t d = (uint64_t)ts - (uint64_t)base; /* two's complement: no overflow trap */
        int neg = (int64_t)d < 0;
        if (neg)
            d = 0 - d;
        key = (int64_t)(d / 1000000000 * 2 + (uint64_t)neg);
        frac = (uint32_t)(d % 1000000000);
        break;
    }
    default:
        key = floor_div(ts, 1000000000);
        frac = (uint32_t)(ts - key * 1000000000);
        break;
    }
    if (!tf->have_pre || key != tf->pre_key)
        make_prefix(tf, key);
    if (OUTBUF_SIZE - b->len < TIMEFMT_PRE_MAX + 16)
        outbuf_flush(b);
    char *p = b->data + b->len;
    memcpy(p, tf->pre, TIMEFMT_PRE_MAX); /* fixed size: one or two vector moves */
    p = put_frac(p + tf->pre_len, frac, tf->nano);
    *p++ = ' ';
    b->len = (size_t)(p - b->data);
    tf->prev_ns = ts;
}

void timefmt_iso_utc(struct outbuf *b, int64_t ts)
{
    int64_t s = floor_div(ts, 1000000000);
    int64_t days = floor_div(s, 86400);
    if (OUTBUF_SIZE - b->len < 40)
        outbuf_flush(b);
    char *p = put_date(b->data + b->len, days);
    *p++ = 'T';
    p = put_hms(p, (uint64_t)(s - days * 86400));
    *p++ = '.';
    p = put_frac(p, (uint32_t)(ts - s * 1000000000), 1);
    *p++ = 'Z';
    b->len = (size_t)(p - b->data);
}
