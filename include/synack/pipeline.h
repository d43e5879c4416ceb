/* pipeline.h - drive packets from a source through decode and the tracker to sinks.
 *
 * Pipeline place: the glue: source -> decode -> tracker -> sinks, one packet at a
 * time, with the run totals.  Used by the synack command, the lab and verify.
 */
#ifndef SYNACK_PIPELINE_H
#define SYNACK_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "synack/sink.h"
#include "synack/source.h"
#include "synack/tcp_tracker.h"

#define PIPELINE_MAX_SINKS 4

struct pipeline {
    struct source *src;
    int dlt;
    struct tcp_tracker *trk;       /* may be NULL: no tracking */
    struct sink *sinks[PIPELINE_MAX_SINKS];
    unsigned n_sinks;
    uint64_t max_packets;          /* -c: 0 = no limit */
    unsigned decode_flags;         /* DECODE_*: e.g. no TCP checksums when nothing shows them */
    struct run_totals totals;
};

/* Set up a pipeline over an open source.  The tracker's callbacks are pointed at the
 * sinks.  Returns 0, or -1 when memory is short (err says so). */
int pipeline_init(struct pipeline *pl, struct source *src, const struct tcp_tracker_opts *to,
                  char *err, size_t errlen);

void pipeline_add_sink(struct pipeline *pl, struct sink *s);

/* Process one decoded frame (exposed so tests and fuzzers can feed bytes directly). */
void pipeline_frame(struct pipeline *pl, uint64_t n, int64_t ts_ns, const uint8_t *data,
                    uint32_t caplen, uint32_t len);

/* Read the source to its end (or -c, or a break).  Returns 0 at a clean end or break,
 * -1 on a read error (reason in err; what was read before it has been processed), and
 * 2 when a non-blocking live source has nothing waiting (call again later). */
int pipeline_run(struct pipeline *pl, char *err, size_t errlen);

/* End of input: report open connections, totals; then free tracker and sinks (not the
 * source). */
void pipeline_finish(struct pipeline *pl);

#endif
