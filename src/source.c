/* source.c - packets from a capture file or a live interface, through libpcap.
 *
 * Pipeline place: [source] -> decode.  Files are read through a stdio stream with a
 * large buffer (libpcap's offline reader otherwise does one read() per 4 KiB), with
 * nanosecond timestamp precision so every stamp reaches the pipeline in ns.
 * Live capture follows tcpdump.c: pcap_create, setters, pcap_activate with its three
 * outcomes (error / warning / success).
 */
#include "synack/source.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* stdio buffer for offline reading: libpcap's reader otherwise does a read() per 4 KiB;
 * much larger is slower again (each record is copied out of a buffer that no longer
 * fits in L2: 2.5 M packets took 0.88 s of CPU with 128 KiB, 1.26 s with 1 MiB). */
#define SOURCE_FILE_BUFSIZE (128u * 1024u)
#define SOURCE_DEFAULT_SNAPLEN 262144
#define SOURCE_MAX_SEC 8000000000LL /* latest packet time kept: epoch seconds, year 2223 */

struct source {
    pcap_t *pcap;
    FILE *fp;              /* offline stream we opened (NULL for stdin/live) */
    char *fbuf;            /* its stdio buffer */
    pcap_dumper_t *dumper; /* -w */
    bool dump_flush;
    bool live;
    bool nonblock;
    int nano;              /* timestamps delivered in ns by libpcap */
    volatile sig_atomic_t broken;
    char name[256];        /* file or interface, for messages */
};

/* "<what>: <why>" into err: every source error names its file or interface first. */
static void source_err(char *err, size_t errlen, const char *what, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, why);
}

/* A file that is not a regular file (a directory, /dev/null) gets a plain reason
 * instead of libpcap's generic one. */
static int source_check_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        source_err(err, errlen, path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        source_err(err, errlen, path, "is a directory, not a capture file");
        return -1;
    }
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
        source_err(err, errlen, path, "empty file, not a capture file");
        return -1;
    }
    return 0;
}

static struct source *source_open_file(struct source *s, const char *path, char *err,
                                       size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    FILE *fp;
    if (strcmp(path, "-") == 0) {
        fp = stdin;
    } else {
        if (source_check_file(path, err, errlen) != 0)
            return NULL;
        fp = fopen(path, "rb");
        if (!fp) {
            source_err(err, errlen, path, strerror(errno));
            return NULL;
        }
        s->fp = fp;
    }
    s->fbuf = malloc(SOURCE_FILE_BUFSIZE);
    if (s->fbuf)
        setvbuf(fp, s->fbuf, _IOFBF, SOURCE_FILE_BUFSIZE);
    s->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!s->pcap) {
        const char *why = perr[0] ? perr : "not a capture file";
        /* libpcap says "unknown file format" for anything that is not pcap/pcapng. */
        if (strstr(why, "unknown file format"))
            why = "not a pcap or pcapng capture file (unknown file format)";
        else if (strstr(why, "file header bytes, only got 0"))
            why = "empty input, not a capture file";
        source_err(err, errlen, strcmp(path, "-") == 0 ? "(stdin)" : path, why);
        return NULL;
    }
    s->fp = NULL; /* pcap_close() closes the stream now */
    s->nano = pcap_get_tstamp_precision(s->pcap) == PCAP_TSTAMP_PRECISION_NANO;
    return s;
}

/* Explain an activation failure the way a user can act on it. */
static void source_activate_error(struct source *s, int rc, char *err, size_t errlen)
{
    const char *detail = pcap_geterr(s->pcap);
    char buf[SOURCE_ERRLEN];
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        snprintf(buf, sizeof buf, "no such interface (synack -D lists them)");
        break;
    case PCAP_ERROR_PERM_DENIED:
        snprintf(buf, sizeof buf,
                 "permission denied: live capture needs root or the CAP_NET_RAW "
                 "capability (%s)",
                 detail);
        break;
    case PCAP_ERROR_IFACE_NOT_UP:
        snprintf(buf, sizeof buf, "interface is down");
        break;
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        snprintf(buf, sizeof buf, "no permission for promiscuous mode");
        break;
    default:
        snprintf(buf, sizeof buf, "%s (%s)", pcap_statustostr(rc), detail);
        break;
    }
    source_err(err, errlen, s->name, buf);
}

static struct source *source_open_live(struct source *s, const struct source_opts *o,
                                       char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    s->live = true;
    s->pcap = pcap_create(o->iface, perr);
    if (!s->pcap) {
        source_err(err, errlen, o->iface, perr);
        return NULL;
    }
    pcap_set_snaplen(s->pcap, o->snaplen > 0 ? o->snaplen : SOURCE_DEFAULT_SNAPLEN);
    pcap_set_promisc(s->pcap, o->promisc ? 1 : 0);
    pcap_set_timeout(s->pcap, 100);
    if (o->immediate)
        pcap_set_immediate_mode(s->pcap, 1);
    pcap_set_buffer_size(s->pcap,
                         (o->buffer_kib > 0 ? o->buffer_kib : SOURCE_DEFAULT_BUFFER_KIB) * 1024);
    pcap_set_tstamp_precision(s->pcap, PCAP_TSTAMP_PRECISION_NANO); /* may fail: then µs */
    int rc = pcap_activate(s->pcap);
    if (rc < 0) {
        source_activate_error(s, rc, err, errlen);
        return NULL;
    }
    if (rc > 0) /* a warning: say it and carry on, as tcpdump does */
        fprintf(stderr, "synack: %s: warning: %s (%s)\n", s->name, pcap_statustostr(rc),
                pcap_geterr(s->pcap));
    s->nano = pcap_get_tstamp_precision(s->pcap) == PCAP_TSTAMP_PRECISION_NANO;
    return s;
}

struct source *source_open(const struct source_opts *o, char *err, size_t errlen)
{
    struct source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const char *name = o->file ? o->file : o->iface;
    snprintf(s->name, sizeof s->name, "%s", name && strcmp(name, "-") ? name : "(stdin)");
    struct source *ok = o->file ? source_open_file(s, o->file, err, errlen)
                                : source_open_live(s, o, err, errlen);
    if (!ok)
        source_close(s);
    return ok;
}

int source_set_filter(struct source *s, const char *expr, char *err, size_t errlen)
{
    struct bpf_program prog;
    bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
    if (s->live) {
        char perr[PCAP_ERRBUF_SIZE];
        if (pcap_lookupnet(s->name, &net, &mask, perr) < 0)
            mask = PCAP_NETMASK_UNKNOWN;
    }
    if (pcap_compile(s->pcap, &prog, expr, 1, mask) < 0) {
        snprintf(err, errlen, "bad filter expression '%s': %s", expr, pcap_geterr(s->pcap));
        return -1;
    }
    int rc = pcap_setfilter(s->pcap, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        snprintf(err, errlen, "cannot set filter '%s': %s", expr, pcap_geterr(s->pcap));
        return -1;
    }
    return 0;
}

int source_dump_open(struct source *s, const char *path, bool flush_each, char *err,
                     size_t errlen)
{
    s->dumper = pcap_dump_open(s->pcap, path);
    if (!s->dumper) {
        source_err(err, errlen, path, pcap_geterr(s->pcap));
        return -1;
    }
    s->dump_flush = flush_each;
    return 0;
}

int source_datalink(const struct source *s)
{
    return pcap_datalink(s->pcap);
}

int source_next(struct source *s, struct source_pkt *pkt, char *err, size_t errlen)
{
    for (;;) {
        if (s->broken)
            return -2;
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(s->pcap, &h, &data);
        if (rc == 1) {
            pkt->data = data;
            pkt->caplen = h->caplen;
            pkt->len = h->len;
            /* pcapng stamps are 64-bit (and if_tsoffset moves them anywhere): clamp the
             * seconds so the nanosecond time, and the tracker's timer sums on it, stay far
             * inside int64 (found by fuzz_pcap) */
            int64_t sec = (int64_t)h->ts.tv_sec;
            sec = sec < 0 ? 0 : sec > SOURCE_MAX_SEC ? SOURCE_MAX_SEC : sec;
            int64_t frac = (int64_t)h->ts.tv_usec;
            pkt->ts_ns = sec * 1000000000 + (s->nano ? frac : frac * 1000);
            if (s->dumper) {
                pcap_dump((u_char *)s->dumper, h, data);
                if (s->dump_flush)
                    pcap_dump_flush(s->dumper);
            }
            return 1;
        }
        if (rc == 0) { /* nothing yet: say so, or loop (checking the break flag) */
            if (s->nonblock)
                return 2;
            continue;
        }
        if (rc == PCAP_ERROR_BREAK)
            return s->broken ? -2 : 0;
        source_err(err, errlen, s->name, pcap_geterr(s->pcap));
        return -1;
    }
}

void source_break(struct source *s)
{
    s->broken = 1;
    pcap_breakloop(s->pcap);
}

int source_set_nonblock(struct source *s)
{
    char perr[PCAP_ERRBUF_SIZE];
    if (!s->live || pcap_setnonblock(s->pcap, 1, perr) < 0)
        return -1;
    s->nonblock = true;
    return 0;
}

int source_fd(const struct source *s)
{
    return s->live ? pcap_get_selectable_fd(s->pcap) : -1;
}

void source_stats(struct source *s, struct source_stats *st)
{
    memset(st, 0, sizeof *st);
    st->live = s->live;
    struct pcap_stat ps;
    if (s->live && pcap_stats(s->pcap, &ps) == 0) {
        st->have_kernel_stats = true;
        st->received = ps.ps_recv;
        st->dropped = ps.ps_drop;
        st->ifdropped = ps.ps_ifdrop;
    }
}

void source_close(struct source *s)
{
    if (!s)
        return;
    if (s->dumper) {
        pcap_dump_flush(s->dumper);
        pcap_dump_close(s->dumper);
    }
    if (s->pcap)
        pcap_close(s->pcap);
    if (s->fp)
        fclose(s->fp);
    free(s->fbuf);
    free(s);
}

int source_list_interfaces(char *err, size_t errlen)
{
    pcap_if_t *all = NULL;
    char perr[PCAP_ERRBUF_SIZE];
    if (pcap_findalldevs(&all, perr) < 0) {
        snprintf(err, errlen, "cannot list interfaces: %s", perr);
        return -1;
    }
    int i = 1;
    for (pcap_if_t *d = all; d; d = d->next, i++) {
        printf("%d.%s", i, d->name);
        if (d->description)
            printf(" (%s)", d->description);
        const char *sep = " [";
        if (d->flags & PCAP_IF_UP) {
            printf("%sUp", sep);
            sep = ", ";
        }
        if (d->flags & PCAP_IF_RUNNING) {
            printf("%sRunning", sep);
            sep = ", ";
        }
        if (d->flags & PCAP_IF_LOOPBACK) {
            printf("%sLoopback", sep);
            sep = ", ";
        }
        printf("%s\n", sep[0] == ',' ? "]" : "");
    }
    pcap_freealldevs(all);
    return 0;
}
