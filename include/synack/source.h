/* source.h - where packets come from: a capture file (pcap/pcapng) or a live interface.
 *
 * Pipeline place: [source] -> decode -> flow table -> tcp tracker -> sinks.
 * One interface over libpcap for files and live capture. Owns the BPF filter,
 * the -w dump file, capture counters and the break-loop flag. Timestamps are
 * always delivered in nanoseconds (files with microsecond stamps are scaled).
 * A regular classic pcap file is read in place through a sliding mmap window, with
 * exactly the packets, lengths, stamps and errors pcap_next_ex would give (libpcap
 * still opens the file and reads whatever the window reader is not sure of).
 * Environment: SYNACK_PCAP_READER=libpcap, read once by source_open(), makes every
 * file go through pcap_next_ex as before (for differential tests).
 */
#ifndef SYNACK_SOURCE_H
#define SYNACK_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOURCE_ERRLEN 512

/* Default kernel capture buffer for live capture.  In immediate mode libpcap's ring
 * has one slot per packet sized by the snapshot length (256 KiB), so libpcap's 2 MiB
 * default holds only about 8 packets and drops at the first scheduling hiccup. */
#define SOURCE_DEFAULT_BUFFER_KIB 32768

struct source;

struct source_opts {
    const char *file;    /* -r: path, or "-" for standard input; NULL for live */
    const char *iface;   /* -i: interface for live capture */
    int snaplen;         /* -s: 0 means the default (262144) */
    int buffer_kib;      /* -B: kernel buffer in KiB, 0 = SOURCE_DEFAULT_BUFFER_KIB */
    bool promisc;        /* --promisc */
    bool immediate;      /* deliver packets as they arrive (live) */
};

/* One captured frame.  data is valid until the next source_next() call (for a mapped
 * file it points into the window, which the next call may unmap). */
struct source_pkt {
    const uint8_t *data;
    uint32_t caplen, len;
    int64_t ts_ns;
};

/* Counters for the end-of-run report (live capture: from pcap_stats). */
struct source_stats {
    bool live;
    bool have_kernel_stats;
    uint64_t received; /* ps_recv: packets the filter accepted */
    uint64_t dropped;  /* ps_drop: dropped by the kernel for lack of buffer space */
    uint64_t ifdropped; /* ps_ifdrop: dropped by the interface or driver */
};

/* Open a file (opts->file) or a live interface (opts->iface).  On failure returns NULL
 * and writes a one-line reason naming the file or interface into err. *warning is set
 * to a libpcap activation warning (or "" if none) for live captures. */
struct source *source_open(const struct source_opts *opts, char *err, size_t errlen);

/* Compile and install a BPF filter expression.  Returns 0, or -1 with a reason in err. */
int source_set_filter(struct source *s, const char *expr, char *err, size_t errlen);

/* Start writing every delivered packet to path (-w).  flush_each: flush after each
 * packet (-U).  Returns 0, or -1 with a reason in err. */
int source_dump_open(struct source *s, const char *path, bool flush_each, char *err,
                     size_t errlen);

/* libpcap's DLT for the source (pcap_datalink). */
int source_datalink(const struct source *s);

/* Next packet.  Returns 1 with *pkt filled, 0 at the end of a file, -2 when
 * source_break() was called, -1 on a read error (reason in err), and for a live source
 * in non-blocking mode 2 when no packet is waiting. */
int source_next(struct source *s, struct source_pkt *pkt, char *err, size_t errlen);

/* Up to max (<= SOURCE_BATCH_MAX) packets at once into pkts[0..*n), all valid until the
 * next source_next() or source_next_batch() call.  The return values are source_next()'s;
 * on 1, *n >= 1.  The mmap reader hands out every record that lies in its current
 * window; other readers (libpcap reuses its buffer) give one packet per call. */
#define SOURCE_BATCH_MAX 16
int source_next_batch(struct source *s, struct source_pkt *pkts, unsigned max, unsigned *n,
                      char *err, size_t errlen);

/* Async-signal-safe: make the current or next source_next() return -2. */
void source_break(struct source *s);

/* Live capture: make source_next() return 2 instead of waiting (for a caller that
 * polls source_fd() beside other descriptors).  Returns 0 or -1. */
int source_set_nonblock(struct source *s);

/* Selectable descriptor for live capture (-1 for files). */
int source_fd(const struct source *s);

/* Capture counters. */
void source_stats(struct source *s, struct source_stats *st);

/* Close everything; flushes and closes the dump file. */
void source_close(struct source *s);

/* Write the list of capture interfaces to stdout, tcpdump -D style.  Returns 0 or -1. */
int source_list_interfaces(char *err, size_t errlen);

#endif
