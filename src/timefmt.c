/* timefmt.c - packet timestamps in tcpdump's formats and ISO-8601 UTC (see timefmt.h). */
#include "timefmt.h"

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

static void put_frac(struct timefmt *tf, struct outbuf *b, int64_t ns)
{
    outbuf_putc(b, '.');
    if (tf->nano)
        outbuf_u64w(b, (uint64_t)ns, 9);
    else
        outbuf_u64w(b, (uint64_t)(ns / 1000), 6);
}

static void put_hms(struct outbuf *b, int64_t secs_of_day)
{
    outbuf_u64w(b, (uint64_t)(secs_of_day / 3600), 2);
    outbuf_putc(b, ':');
    outbuf_u64w(b, (uint64_t)(secs_of_day / 60 % 60), 2);
    outbuf_putc(b, ':');
    outbuf_u64w(b, (uint64_t)(secs_of_day % 60), 2);
}

static void put_date(struct outbuf *b, int64_t days, char sep)
{
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    outbuf_u64w(b, (uint64_t)(y < 0 ? 0 : y), 4);
    outbuf_putc(b, '-');
    outbuf_u64w(b, m, 2);
    outbuf_putc(b, '-');
    outbuf_u64w(b, d, 2);
    outbuf_putc(b, sep);
}

/* A duration as tcpdump's -ttt prints it: a sign column, then HH:MM:SS.frac. */
static void put_delta(struct timefmt *tf, struct outbuf *b, int64_t delta)
{
    outbuf_putc(b, delta < 0 ? '-' : ' '); /* tcpdump's sign column */
    if (delta < 0)
        delta = -delta;
    int64_t s = delta / 1000000000;
    outbuf_u64w(b, (uint64_t)(s / 3600), 2);
    outbuf_putc(b, ':');
    outbuf_u64w(b, (uint64_t)(s / 60 % 60), 2);
    outbuf_putc(b, ':');
    outbuf_u64w(b, (uint64_t)(s % 60), 2);
    put_frac(tf, b, delta % 1000000000);
}

void timefmt_packet(struct timefmt *tf, struct outbuf *b, int64_t ts)
{
    if (!tf->have_first) {
        tf->first_ns = tf->prev_ns = ts;
        tf->have_first = 1;
    }
    int64_t s = floor_div(ts, 1000000000);
    int64_t frac = ts - s * 1000000000;
    switch (tf->mode) {
    case TIME_NONE:
        return;
    case TIME_EPOCH:
        outbuf_i64(b, s);
        put_frac(tf, b, frac);
        break;
    case TIME_DELTA:
        put_delta(tf, b, ts - tf->prev_ns);
        break;
    case TIME_SINCE_FIRST:
        put_delta(tf, b, ts - tf->first_ns);
        break;
    case TIME_DATE:
    case TIME_DEFAULT: {
        int64_t local = s + local_offset(tf, s);
        int64_t days = floor_div(local, 86400);
        if (tf->mode == TIME_DATE)
            put_date(b, days, ' ');
        put_hms(b, local - days * 86400);
        put_frac(tf, b, frac);
        break;
    }
    }
    tf->prev_ns = ts;
    outbuf_putc(b, ' ');
}

void timefmt_iso_utc(struct outbuf *b, int64_t ts)
{
    int64_t s = floor_div(ts, 1000000000);
    int64_t days = floor_div(s, 86400);
    put_date(b, days, 'T');
    put_hms(b, s - days * 86400);
    outbuf_putc(b, '.');
    outbuf_u64w(b, (uint64_t)(ts - s * 1000000000), 9);
    outbuf_putc(b, 'Z');
}
