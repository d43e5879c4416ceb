/* fuzz_pcap.c - libFuzzer harness for the capture-file path: a whole pcap or pcapng file
 * as input, read through source_open() (file mode) and the pipeline to its end.
 *
 * Pipeline place: test of [source (libpcap offline) -> decode -> tracker -> sinks], the
 * path of `synack -r FILE`.  The input is written to a memfd and opened by its
 * /proc/self/fd path, so source.c opens, buffers and closes it exactly as it does a file
 * named on the command line.  Sinks (text, JSON, ladder, HTML report) write to
 * /dev/null; the tracker has 8 connection slots so eviction is reached.  Every input
 * gets a new source and pipeline, closed and freed before returning.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "synack/pipeline.h"
#include "synack/source.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup_env();
    memfd = memfd_create("synack-fuzz-pcap", MFD_CLOEXEC);
    if (memfd < 0) {
        perror("fuzz_pcap: memfd_create");
        abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    if (access(path, R_OK) != 0) {
        perror("fuzz_pcap: /proc/self/fd (is /proc mounted?)");
        abort();
    }
    return 0;
}

/* Replace the memfd's content with the input. */
static void put_input(const uint8_t *data, size_t size)
{
    if (ftruncate(memfd, 0) != 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t w = pwrite(memfd, data + off, size - off, (off_t)off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    put_input(data, size);
    struct source_opts so = {.file = path};
    char err[SOURCE_ERRLEN];
    struct source *src = source_open(&so, err, sizeof err);
    if (!src)
        return 0; /* not a capture file: the error path is what was tested */

    struct tcp_tracker_opts to;
    tcp_tracker_default_opts(&to);
    to.max_conns = 8;
    struct pipeline pl;
    if (pipeline_init(&pl, src, &to, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_pcap: %s\n", err);
        abort();
    }
    struct sink_opts o;
    memset(&o, 0, sizeof o);
    o.mode = SINK_PACKETS | SINK_EVENTS | SINK_SUMMARY | SINK_TOTALS;
    o.fd = fuzz_devnull();
    o.verbose = 2;
    o.link_header = true;
    o.hex = true;
    o.time_mode = 4; /* -tttt: the date path of timefmt */
    o.nano = true;
    char sink_err[256] = "";
    o.title = "fuzz.pcap";
    o.out_name = "/dev/null";
    o.errbuf = sink_err;
    o.errlen = sizeof sink_err;
    pipeline_add_sink(&pl, sink_text_new(&o));
    o.nano = false;
    pipeline_add_sink(&pl, sink_json_new(&o));
    pipeline_add_sink(&pl, sink_ladder_new(&o));
    pipeline_add_sink(&pl, sink_html_new(&o));

    (void)pipeline_run(&pl, err, sizeof err);
    pipeline_finish(&pl);
    source_close(src);
    return 0;
}
