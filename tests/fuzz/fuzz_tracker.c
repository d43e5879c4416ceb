/* fuzz_tracker.c - libFuzzer harness for decode + flow table + TCP tracker + sinks, fed
 * a sequence of frames from one input.
 *
 * Pipeline place: test of [decode -> flow table -> tcp tracker -> sinks] through
 * pipeline_frame(), the way the synack command drives them, with a text sink, a JSON
 * sink, a ladder sink and a connection-log sink all writing to /dev/null.
 *
 * Input (fuzz_common.h): [dlt selector] [opt1] [opt2] then records
 * [caplen u16 BE] [wire extra u16 BE] [time code u8] [frame].
 *   opt1: bits 0-1 -v level, bit 2 -e, bit 3 -S, bit 4 -A, bit 5 -X, bit 6 live
 *         (flush per line), bit 7 nanosecond stamps.
 *   opt2: bits 0-2 time mode (tcpdump -t count, mod 6), bits 4-6 --max-conns - 1 (1..8:
 *         small, so eviction is reached), bit 7 ladder colours.
 * Each frame is passed in its own exact-size heap buffer.
 * Every input gets a new pipeline (tracker, flow table, sinks) and ends with
 * pipeline_finish(), which reports the connections still open and frees everything.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "synack/pipeline.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup_env();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t opt1 = data[1], opt2 = data[2];

    struct tcp_tracker_opts to;
    tcp_tracker_default_opts(&to);
    to.max_conns = 1u + ((opt2 >> 4) & 7u);

    struct pipeline pl;
    char err[256];
    if (pipeline_init(&pl, NULL, &to, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_tracker: %s\n", err);
        abort();
    }
    pl.dlt = fuzz_dlts[data[0] % FUZZ_N_DLT];

    struct sink_opts so;
    memset(&so, 0, sizeof so);
    so.mode = SINK_PACKETS | SINK_EVENTS | SINK_SUMMARY | SINK_TOTALS;
    so.fd = fuzz_devnull();
    so.verbose = opt1 & 3;
    so.link_header = (opt1 & 4) != 0;
    so.absolute_seq = (opt1 & 8) != 0;
    so.ascii = (opt1 & 16) != 0;
    so.hex = (opt1 & 32) != 0;
    so.live = (opt1 & 64) != 0;
    so.nano = (opt1 & 128) != 0;
    so.time_mode = (opt2 & 7) % 6;
    so.color = (opt2 & 128) != 0;
    pipeline_add_sink(&pl, sink_text_new(&so));
    pipeline_add_sink(&pl, sink_json_new(&so));
    pipeline_add_sink(&pl, sink_ladder_new(&so));
    pipeline_add_sink(&pl, sink_conn_new(&so));

    int64_t ts = FUZZ_TS_BASE;
    uint64_t n = 0;
    size_t off = 3;
    struct fuzz_rec r;
    while (fuzz_next_rec(data, size, &off, &r)) {
        ts += fuzz_ts_step(r.ts_code);
        /* An exact-size copy: a read past caplen, or a pointer into the frame kept
         * after pipeline_frame() returns, is then an AddressSanitizer report. */
        uint8_t *frame = malloc(r.caplen ? r.caplen : 1);
        if (!frame)
            abort();
        memcpy(frame, r.data, r.caplen);
        pipeline_frame(&pl, ++n, ts, frame, r.caplen, r.len);
        free(frame);
    }
    pipeline_finish(&pl);
    return 0;
}
