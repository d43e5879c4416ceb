/* timefmt.h - timestamps as tcpdump prints them, and as ISO-8601 UTC for JSON.
 *
 * Pipeline place: used by the sinks.  No localtime() per packet: the local UTC offset
 * is looked up once per hour of capture time and cached, and the civil date is
 * computed arithmetically, once per second of capture time: a packet line copies the
 * cached "HH:MM:SS." and appends its fraction.
 */
#ifndef SYNACK_TIMEFMT_H
#define SYNACK_TIMEFMT_H

#include <stdint.h>

#include "outbuf.h"

#define TIMEFMT_PRE_MAX 32 /* "-9223372036854775808." and "2026-11-21 06:05:30." fit */

/* tcpdump's -t family. */
enum time_mode {
    TIME_DEFAULT = 0, /* time of day, local:       06:05:30.123456 */
    TIME_NONE,        /* -t */
    TIME_EPOCH,       /* -tt: 1763705130.123456 */
    TIME_DELTA,       /* -ttt: since the previous packet, 00:00:00.000123 */
    TIME_DATE,        /* -tttt: 2026-11-21 06:05:30.123456, local */
    TIME_SINCE_FIRST, /* -ttttt: since the first packet */
};

struct timefmt {
    enum time_mode mode;
    int nano;              /* print 9 fractional digits instead of 6 */
    int64_t first_ns, prev_ns;
    int have_first;
    int64_t off_from, off_to; /* seconds range where off is valid */
    long off;                 /* local UTC offset in seconds */
    /* The text before the fraction ("06:05:30.") changes once per second at most: it is
     * made when the second changes and copied for every packet until then. */
    int64_t pre_key;          /* the second pre is for (delta modes: 2 * seconds + sign) */
    int have_pre;
    unsigned pre_len;
    char pre[TIMEFMT_PRE_MAX];
};

void timefmt_init(struct timefmt *tf, enum time_mode mode, int nano);

/* Append the packet time (with a trailing space unless TIME_NONE). */
void timefmt_packet(struct timefmt *tf, struct outbuf *b, int64_t ts_ns);

/* Append "2026-11-21T06:05:30.123456789Z". */
void timefmt_iso_utc(struct outbuf *b, int64_t ts_ns);

/* Split epoch seconds into a civil UTC date (proleptic Gregorian). */
void civil_from_days(int64_t days, int *y, unsigned *m, unsigned *d);

#endif
