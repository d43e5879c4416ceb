/* source.c - packets from a capture file or a live interface, through libpcap.
 *
 * Pipeline place: [source] -> decode.  Files are opened with libpcap, with nanosecond
 * timestamp precision so every stamp reaches the pipeline in ns; libpcap checks the
 * file header and words every header error.  Standard input, pipes and pcapng are
 * then read with pcap_next_ex through a stdio stream with a large buffer.
 * A regular file in classic pcap 2.4 (µs or ns magic, either byte order) is instead
 * walked in place by the mmap reader: a 4 MiB read-only window slides over the file
 * (the next one is mapped ahead by a helper thread), the 16-byte record headers are read where they lie and each frame is handed out as
 * a pointer into the window (no copy: ~50 instructions a packet instead of libpcap's
 * ~550 for two freads and a memcpy).  Every record it takes gets exactly the
 * pcap_pkthdr pcap_next_ex would give.  At the first record it is not sure of (caplen
 * over the snaplen or 256 KiB, a record cut at the end of the file) it seeks libpcap's
 * stream to that record and pcap_next_ex reads on from there, with libpcap's results
 * and error messages.  A file that grows while read is followed (the size is checked
 * again at the end of the mapped data); one cut shorter while read ends the run with an
 * error (map_sigbus).  SYNACK_PCAP_READER=libpcap turns the reader off.
 * Live capture follows tcpdump.c: pcap_create, setters, pcap_activate with its three
 * outcomes (error / warning / success).
 */
#include "synack/source.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* stdio buffer for offline reading: libpcap's reader otherwise does a read() per 4 KiB;
 * much larger is slower again (each record is copied out of a buffer that no longer
 * fits in L2: 2.5 M packets took 0.88 s of CPU with 128 KiB, 1.26 s with 1 MiB). */
#define SOURCE_FILE_BUFSIZE (128u * 1024u)
#define SOURCE_DEFAULT_SNAPLEN 262144
#define SOURCE_MAX_SEC 8000000000LL /* latest packet time kept: epoch seconds, year 2223 */

/* The mmap reader's window over the file.  Larger windows mean fewer mmap/munmap
 * calls, smaller ones a lower peak RSS (the mapped pages count in it).  At most two are
 * mapped at once, the current one and the next (mapped ahead by a helper thread, see
 * struct map_ahead), so RSS stays within two windows of libpcap's for any file size.
 * 4 to 32 MiB read a 4 GB capture equally fast (within the noise).  In the reading
 * thread MAP_POPULATE cost more system time than letting the pages fault in (the kernel
 * maps 16 pages per fault); in the helper it costs the reader nothing.
 * MADV_SEQUENTIAL gives cold files long read-ahead. */
#define MAP_WINDOW (4u * 1024u * 1024u)
#define MAP_STREAM_AHEAD 16384u /* map_take prefetches the window this far ahead */
#define MAP_MAX_CAPLEN 262144u /* largest record the fast path takes (libpcap's usual max) */
#define PCAP_FILE_HDRLEN 24    /* classic pcap file header */
#define PCAP_REC_HDRLEN 16     /* classic pcap record header: sec, frac, caplen, len */
#define MAP_FALLBACK (-3)      /* map_next: hand the rest of the file to libpcap */

/* Ask the CPU for the cache line at p + off: a hint that never faults, even past the
 * window (the address is computed as an integer, not as a pointer past the mapping). */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p, off) __builtin_prefetch((const void *)((uintptr_t)(p) + (off)))
#else
#define PREFETCH(p, off) ((void)(p))
#endif

/* The next window, mapped by a helper thread while the caller works through the current
 * one.  Mapping a window costs the kernel page-table work (about 0.2 s of system time
 * for 4 GB, in the thread that maps or first touches it); done ahead, with
 * MAP_POPULATE, it leaves the reading thread nothing but its records.  The window asked
 * for starts early enough to hold any record that straddles the current window's end. */
struct map_ahead {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum { AH_IDLE, AH_WANTED, AH_READY, AH_QUIT } st;
    int fd;
    off_t off;      /* the window asked for: file offset (a page multiple) and length */
    size_t len;
    void *base;     /* the result (MAP_FAILED if mmap failed), when AH_READY */
    void *drop;     /* a window the reader is done with, unmapped by the helper too */
    size_t drop_len;
};

/* Classic pcap in place (see the file comment).  Active while on is set. */
struct mapped {
    bool on;
    bool swapped;     /* file written in the other byte order */
    int64_t frac_mul; /* 1 for ns stamps, 1000 for µs (scaled up as libpcap does) */
    int fd;           /* libpcap's stream's descriptor; we never move its offset */
    uint32_t maxcap;  /* largest caplen taken: min(snapshot, MAP_MAX_CAPLEN) */
    long pagesz;
    const uint8_t *base; /* the window (never NULL while on) */
    size_t len;          /* its length */
    off_t base_off;      /* file offset of base[0], a multiple of pagesz */
    const uint8_t *end;  /* base + len */
    const uint8_t *next; /* next record header, inside [base, end] */
    off_t size;          /* file size at the last fstat */
    off_t resume;        /* MAP_FALLBACK: file offset of the record for libpcap */
    struct map_ahead *ah; /* the next window's mapper (NULL: map in place) */
    uintptr_t stream;      /* lines below this address have been prefetched (map_take) */
};

struct source {
    pcap_t *pcap;
    FILE *fp;              /* offline stream we opened (NULL for stdin/live) */
    char *fbuf;            /* its stdio buffer */
    pcap_dumper_t *dumper; /* -w */
    bool dump_flush;
    bool live;
    bool nonblock;
    bool have_prog;        /* prog holds the filter (kept for the mmap reader) */
    bool map_hdr;          /* have_prog or dumper: the mmap reader builds pcap_pkthdrs */
    int nano;              /* timestamps delivered in ns by libpcap */
    volatile sig_atomic_t broken;
    struct bpf_program prog;
    struct mapped map;
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

/* ---------------------------------------------------------------------------------
 * The mmap reader: classic pcap walked in place
 * ------------------------------------------------------------------------------- */

static uint32_t swap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

/* Is hdr (the first 24 bytes of a file) a classic pcap header, version 2.4, with the
 * µs (0xa1b2c3d4) or ns (0xa1b23c4d) magic in either byte order?  Sets *swapped and
 * *nsec.  The Kuznetzov variant, other versions and pcapng are not. */
static bool map_classic_header(const uint8_t *hdr, bool *swapped, bool *nsec)
{
    uint32_t magic;
    uint16_t major, minor;
    memcpy(&magic, hdr, 4);
    memcpy(&major, hdr + 4, 2);
    memcpy(&minor, hdr + 6, 2);
    *swapped = magic != 0xa1b2c3d4u && magic != 0xa1b23c4du;
    if (*swapped) {
        magic = swap32(magic);
        major = (uint16_t)((major >> 8) | (major << 8));
        minor = (uint16_t)((minor >> 8) | (minor << 8));
    }
    *nsec = magic == 0xa1b23c4du;
    return (magic == 0xa1b2c3d4u || *nsec) && major == 2 && minor == 4;
}

/* Link types whose records libpcap hands out exactly as stored: for these it never
 * rewrites the data (it swaps the pseudo-header of SLL and SLL2 in files of the other
 * byte order, and fixes up some USB headers, so those stay with libpcap). */
static bool map_dlt_plain(int dlt, bool swapped)
{
    switch (dlt) {
    case DLT_NULL:
    case DLT_EN10MB:
    case DLT_RAW:
    case 14: /* raw IP, BSD/OS numbering */
    case DLT_LOOP:
    case DLT_IPV4:
    case DLT_IPV6:
        return true;
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
        return !swapped;
    default:
        return false;
    }
}

/* A file cut shorter while it is read: the pages past its new end are gone, and touching
 * them raises SIGBUS.  While the mmap reader is on, a SIGBUS handler puts a page of zeros
 * where the fault was, if it lies in the current window, and notes it: the reader then
 * stops with an error naming the file (map_lost) instead of the process dying.  Any
 * other SIGBUS kills the process as before.  One reader at a time is guarded (synack
 * reads one file at a time). */
static volatile sig_atomic_t map_lost;
static uintptr_t volatile map_guard_lo, map_guard_hi; /* the current window */
static long map_guard_page;

static void map_sigbus(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    uintptr_t a = (uintptr_t)si->si_addr;
    if (a >= map_guard_lo && a < map_guard_hi) {
        uintptr_t page = a - a % (uintptr_t)map_guard_page;
        void *z = mmap((void *)page, (size_t)map_guard_page, PROT_READ,
                       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (z != MAP_FAILED) {
            map_lost = 1;
            return; /* the access is made again, and reads zeros */
        }
    }
    signal(sig, SIG_DFL); /* not ours: the access is made again and kills, as before */
}

static void map_guard_on(long pagesz)
{
    map_guard_page = pagesz;
    map_lost = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = map_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

static void map_guard_window(const uint8_t *base, size_t len)
{
    map_guard_lo = map_guard_hi = 0;
    map_guard_lo = (uintptr_t)base;
    map_guard_hi = (uintptr_t)base + len;
}

static void *ahead_main(void *arg)
{
    struct map_ahead *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (a->st != AH_WANTED && a->st != AH_QUIT)
            pthread_cond_wait(&a->cv, &a->mu);
        if (a->st == AH_QUIT)
            break;
        off_t off = a->off;
        size_t len = a->len;
        void *drop = a->drop;
        size_t drop_len = a->drop_len;
        a->drop = NULL;
        pthread_mutex_unlock(&a->mu);
        if (drop)
            munmap(drop, drop_len);
        void *b = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, a->fd, off);
        if (b != MAP_FAILED)
            madvise(b, len, MADV_SEQUENTIAL);
        pthread_mutex_lock(&a->mu);
        a->base = b;
        a->st = AH_READY;
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Start the helper thread (signals stay with the caller's threads).  NULL when it
 * cannot be started: windows are then mapped in place. */
static struct map_ahead *ahead_start(int fd)
{
    struct map_ahead *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->fd = fd;
    a->st = AH_IDLE;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&a->th, NULL, ahead_main, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->cv);
        free(a);
        return NULL;
    }
    return a;
}

/* Take the helper's window (waiting for it if it is still being mapped): returns its
 * mapping, or MAP_FAILED when none was asked for or mmap failed. */
static void *ahead_take(struct map_ahead *a, off_t *off, size_t *len)
{
    pthread_mutex_lock(&a->mu);
    while (a->st == AH_WANTED)
        pthread_cond_wait(&a->cv, &a->mu);
    void *b = a->st == AH_READY ? a->base : MAP_FAILED;
    *off = a->off;
    *len = a->len;
    a->st = AH_IDLE;
    pthread_mutex_unlock(&a->mu);
    return b;
}

/* Ask for the window after m's current one: from the page holding the earliest place a
 * record straddling the current end can start, up to MAP_WINDOW bytes of the file. */
static void ahead_ask(struct mapped *m, void *drop, size_t drop_len)
{
    struct map_ahead *a = m->ah;
    off_t end = m->base_off + (off_t)m->len;
    off_t start = end - (off_t)(PCAP_REC_HDRLEN + MAP_MAX_CAPLEN);
    start -= start % m->pagesz;
    if (!a || end >= m->size || start <= m->base_off) {
        if (drop)
            munmap(drop, drop_len);
        return;
    }
    off_t avail = m->size - start;
    pthread_mutex_lock(&a->mu);
    a->drop = drop;
    a->drop_len = drop_len;
    a->off = start;
    a->len = avail < (off_t)MAP_WINDOW ? (size_t)avail : MAP_WINDOW;
    a->st = AH_WANTED;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

static void ahead_stop(struct map_ahead *a)
{
    if (!a)
        return;
    off_t off;
    size_t len;
    void *b = ahead_take(a, &off, &len);
    if (b != MAP_FAILED)
        munmap(b, len);
    pthread_mutex_lock(&a->mu);
    if (a->drop) /* asked for but never taken up (ahead_take waited for the helper) */
        munmap(a->drop, a->drop_len);
    a->drop = NULL;
    a->st = AH_QUIT;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    free(a);
}

/* Drop the window; the reader is off from now on. */
static void map_stop(struct mapped *m)
{
    ahead_stop(m->ah);
    m->ah = NULL;
    map_guard_window(NULL, 0);
    if (m->base)
        munmap((void *)(uintptr_t)m->base, m->len);
    m->base = NULL;
    m->len = 0;
    m->end = NULL;
    m->on = false;
}

/* Make b (len bytes of the file from offset off, which holds pos) the window, reading
 * on at pos; ask the helper for the one after it, handing it drop to unmap. */
static void map_install(struct mapped *m, void *b, size_t len, off_t off, off_t pos,
                        void *drop, size_t drop_len)
{
    m->base = b;
    m->len = len;
    m->end = m->base + len;
    m->base_off = off;
    m->next = m->base + (pos - off);
    m->stream = (uintptr_t)m->next;
    map_guard_window(m->base, m->len);
    ahead_ask(m, drop, drop_len);
}

/* Make the window hold file offset pos: the one the helper mapped ahead if it holds pos
 * and reaches further than the current one (the helper then unmaps the current one),
 * else a new mapping from the page holding pos, up to MAP_WINDOW bytes or the file size
 * known (the current one unmapped first).  So at most two windows are ever mapped.
 * Returns 0, or -1 (no window) if mmap fails. */
static int map_window(struct mapped *m, off_t pos)
{
    if (m->ah) {
        off_t aoff;
        size_t alen;
        void *b = ahead_take(m->ah, &aoff, &alen);
        if (b != MAP_FAILED && aoff <= pos && pos < aoff + (off_t)alen &&
            aoff + (off_t)alen > m->base_off + (off_t)m->len) {
            map_install(m, b, alen, aoff, pos, (void *)(uintptr_t)m->base, m->len);
            return 0;
        }
        if (b != MAP_FAILED)
            munmap(b, alen);
    }
    off_t start = pos - pos % m->pagesz;
    off_t avail = m->size - start;
    size_t len = avail < (off_t)MAP_WINDOW ? (size_t)avail : MAP_WINDOW;
    if (m->base)
        munmap((void *)(uintptr_t)m->base, m->len);
    m->base = m->end = NULL;
    m->len = 0;
    void *b = mmap(NULL, len, PROT_READ, MAP_PRIVATE, m->fd, start);
    if (b == MAP_FAILED)
        return -1;
    madvise(b, len, MADV_SEQUENTIAL); /* advice only: failure changes nothing */
    map_install(m, b, len, start, pos, NULL, 0);
    return 0;
}

/* The record at m->next runs past the window (or its header does).  Returns 1 when a
 * new window holds more bytes from that record on, 0 at a clean end of the data (the
 * last record ended exactly at the end of the file, which has not grown since), or
 * MAP_FALLBACK with m->resume at the record: a record cut at the end of the file (or a
 * failed fstat/mmap) is left to libpcap, which reads it or words the error as before. */
static int map_advance(struct mapped *m)
{
    off_t pos = m->base_off + (off_t)(m->next - m->base);
    off_t end = m->base_off + (off_t)m->len;
    m->resume = pos;
    if (end >= m->size) { /* the window reaches the end we knew: has the file grown? */
        struct stat st;
        if (fstat(m->fd, &st) != 0)
            return MAP_FALLBACK;
        m->size = st.st_size;
        if (m->size <= end)
            return pos == end && m->size == end ? 0 : MAP_FALLBACK;
    }
    if (map_window(m, pos) != 0 || m->base_off + (off_t)m->len <= end)
        return MAP_FALLBACK; /* (the second: no progress, cannot happen) */
    return 1;
}

/* One record as the mmap reader found it, with what pcap_next_ex would say of it. */
struct map_rec {
    const uint8_t *data; /* in the window */
    uint32_t caplen, len;
    int64_t sec;  /* ts.tv_sec: signed 32-bit in a file of our byte order, unsigned
                   * in a swapped one (libpcap 1.10's SWAPLONG is unsigned) */
    int64_t frac; /* ts.tv_usec in ns (µs scaled by 1000, from 64-bit as libpcap) */
};

/* The record at m->next, if it lies whole in the window and map_next would take it
 * as it is (caplen within the limit): fills *r, moves past it and returns true.
 * Otherwise false, and nothing changes. */
static inline bool map_take(struct mapped *m, struct map_rec *r)
{
    const uint8_t *p = m->next;
    size_t left = (size_t)(m->end - p);
    if (left < PCAP_REC_HDRLEN)
        return false;
    uint32_t f[4]; /* ts_sec, ts_frac, caplen, len */
    memcpy(f, p, sizeof f);
    int64_t sec, frac;
    if (m->swapped) {
        f[2] = swap32(f[2]);
        f[3] = swap32(f[3]);
        sec = (int64_t)swap32(f[0]);
        frac = (int64_t)swap32(f[1]);
    } else {
        sec = (int32_t)f[0];
        frac = (int32_t)f[1];
    }
    if (f[2] > m->maxcap || f[2] > left - PCAP_REC_HDRLEN)
        return false;
    r->data = p + PCAP_REC_HDRLEN;
    r->caplen = f[2];
    r->len = f[3];
    r->sec = sec;
    r->frac = frac * m->frac_mul;
    m->next = p + PCAP_REC_HDRLEN + f[2];
    /* The file's pages are in memory but not in the CPU's caches, and each header is
     * found only by reading the one before it: a chain of misses.  Ask for every line of
     * the window MAP_STREAM_AHEAD bytes ahead of the reader (the hardware prefetcher
     * does not follow records hundreds of bytes apart), and for the next header and
     * frame start at once.  (The stream cut summary mode's CPU time by about 20 %.) */
    PREFETCH(m->next, 0);
    PREFETCH(m->next, 64);
    uintptr_t at = (uintptr_t)m->next, end = (uintptr_t)m->end;
    uintptr_t ahead = end - at > MAP_STREAM_AHEAD ? at + MAP_STREAM_AHEAD : end;
    if (m->stream < at)
        m->stream = at;
    for (; m->stream < ahead; m->stream += 64)
        PREFETCH(m->stream, 0);
    return true;
}

/* The next record, in place: fills *r and moves past it.  Returns 1, 0 at the end of
 * the data, or MAP_FALLBACK with m->resume at the record libpcap is to read next (its
 * caplen is over the snaplen or MAP_MAX_CAPLEN, or it is cut short). */
static inline int map_next(struct mapped *m, struct map_rec *r)
{
    for (;;) {
        if (map_take(m, r))
            return 1;
        const uint8_t *p = m->next;
        if ((size_t)(m->end - p) >= PCAP_REC_HDRLEN) {
            uint32_t cap;
            memcpy(&cap, p + 8, sizeof cap);
            if ((m->swapped ? swap32(cap) : cap) > m->maxcap) {
                /* over the snaplen: libpcap cuts it, or refuses */
                m->resume = m->base_off + (off_t)(p - m->base);
                return MAP_FALLBACK;
            }
        }
        int rc = map_advance(m); /* the record runs past the window */
        if (rc != 1)
            return rc;
    }
}

/* After libpcap opened s's file: if it is a regular file in classic pcap 2.4 of a link
 * type libpcap passes through untouched, map the first window and turn the reader on.
 * Anything else (or any failure here) leaves the file to libpcap. */
static void map_start(struct source *s)
{
    struct mapped *m = &s->map;
    FILE *fp = pcap_file(s->pcap);
    int fd = fp ? fileno(fp) : -1;
    struct stat st;
    uint8_t hdr[PCAP_FILE_HDRLEN];
    bool swapped, nsec;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
        !map_classic_header(hdr, &swapped, &nsec))
        return;
    /* libpcap's reading of the same header must agree */
    int snap = pcap_snapshot(s->pcap);
    if (pcap_major_version(s->pcap) != 2 || pcap_minor_version(s->pcap) != 4 ||
        pcap_is_swapped(s->pcap) != (int)swapped || !s->nano || snap <= 0 ||
        !map_dlt_plain(pcap_datalink(s->pcap), swapped))
        return;
    long pagesz = sysconf(_SC_PAGESIZE);
    m->pagesz = pagesz > 0 ? pagesz : 4096;
    m->fd = fd;
    m->swapped = swapped;
    m->frac_mul = nsec ? 1 : 1000;
    m->maxcap = (uint32_t)snap < MAP_MAX_CAPLEN ? (uint32_t)snap : MAP_MAX_CAPLEN;
    m->size = st.st_size;
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    map_guard_on(m->pagesz);
    if (st.st_size > (off_t)MAP_WINDOW) /* a file of one window needs no helper */
        m->ah = ahead_start(fd);
    if (map_window(m, PCAP_FILE_HDRLEN) == 0)
        m->on = true;
    else
        map_stop(m);
}

/* Hand the file to libpcap from the record at m->resume on: stop the reader and seek
 * libpcap's stream there.  Returns 0, or -1 with a reason in err. */
static int map_fallback(struct source *s, char *err, size_t errlen)
{
    off_t at = s->map.resume;
    map_stop(&s->map);
    if (fseeko(pcap_file(s->pcap), at, SEEK_SET) != 0) {
        char why[128];
        snprintf(why, sizeof why, "cannot seek to the record at offset %lld: %s",
                 (long long)at, strerror(errno));
        source_err(err, errlen, s->name, why);
        return -1;
    }
    return 0;
}

/* Open path ("-": stdin) with libpcap; use_map: a regular classic pcap file may then be
 * read by the mmap reader. */
static struct source *source_open_file(struct source *s, const char *path, bool use_map,
                                       char *err, size_t errlen)
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
    if (use_map && strcmp(path, "-") != 0)
        map_start(s);
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
    const char *reader = getenv("SYNACK_PCAP_READER"); /* "libpcap": no mmap reader */
    bool use_map = !(reader && strcmp(reader, "libpcap") == 0);
    struct source *ok = o->file ? source_open_file(s, o->file, use_map, err, errlen)
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
    int rc = pcap_setfilter(s->pcap, &prog); /* libpcap's copy, for its own reading */
    if (rc < 0) {
        pcap_freecode(&prog);
        snprintf(err, errlen, "cannot set filter '%s': %s", expr, pcap_geterr(s->pcap));
        return -1;
    }
    if (s->have_prog) /* a new filter replaces the mmap reader's one */
        pcap_freecode(&s->prog);
    s->have_prog = s->map.on;
    s->map_hdr = s->have_prog || s->dumper;
    if (s->have_prog)
        s->prog = prog; /* the mmap reader runs it with pcap_offline_filter */
    else
        pcap_freecode(&prog);
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
    s->map_hdr = true;
    return 0;
}

int source_datalink(const struct source *s)
{
    return pcap_datalink(s->pcap);
}

/* A packet's time in ns from libpcap's ts.tv_sec and ts.tv_usec (already in ns).
 * pcapng stamps are 64-bit (and if_tsoffset moves them anywhere): clamp the seconds so
 * the nanosecond time, and the tracker's timer sums on it, stay far inside int64
 * (found by fuzz_pcap). */
static inline int64_t source_ts_ns(int64_t sec, int64_t frac_ns)
{
    sec = sec < 0 ? 0 : sec > SOURCE_MAX_SEC ? SOURCE_MAX_SEC : sec;
    return sec * 1000000000 + frac_ns;
}

/* Give the packet (h, data) to the caller, and to the -w file. */
static void source_deliver(struct source *s, struct source_pkt *pkt,
                           const struct pcap_pkthdr *h, const u_char *data)
{
    pkt->data = data;
    pkt->caplen = h->caplen;
    pkt->len = h->len;
    int64_t frac = (int64_t)h->ts.tv_usec;
    pkt->ts_ns = source_ts_ns((int64_t)h->ts.tv_sec, s->nano ? frac : frac * 1000);
    if (s->dumper) {
        pcap_dump((u_char *)s->dumper, h, data);
        if (s->dump_flush)
            pcap_dump_flush(s->dumper);
    }
}

/* source_next for the mmap reader: 1 with *pkt filled, 0 at the end, -2 on
 * source_break(), MAP_FALLBACK when libpcap is to read on from s->map.resume.  With a
 * filter or a -w file, the record gets the pcap_pkthdr pcap_next_ex would give it
 * (ts.tv_usec in ns: the handle is nanosecond, and so is the dump file it writes). */
static int source_next_mapped(struct source *s, struct source_pkt *pkt)
{
    for (;;) {
        if (s->broken)
            return -2;
        struct map_rec r;
        int rc = map_next(&s->map, &r);
        if (rc != 1)
            return rc;
        if (s->map_hdr) {
            struct pcap_pkthdr h;
            h.ts.tv_sec = (time_t)r.sec;
            h.ts.tv_usec = (suseconds_t)r.frac;
            h.caplen = r.caplen;
            h.len = r.len;
            if (s->have_prog && !pcap_offline_filter(&s->prog, &h, r.data))
                continue;
            source_deliver(s, pkt, &h, r.data);
            return 1;
        }
        pkt->data = r.data;
        pkt->caplen = r.caplen;
        pkt->len = r.len;
        pkt->ts_ns = source_ts_ns(r.sec, r.frac);
        return 1;
    }
}

/* The file shrank under the mmap reader (map_sigbus): the error, and the reader off. */
static int map_lost_error(struct source *s, char *err, size_t errlen)
{
    map_stop(&s->map);
    source_err(err, errlen, s->name,
               "the file was truncated while being read (frames from the lost part were "
               "read as zeros and are not trusted)");
    return -1;
}

int source_next(struct source *s, struct source_pkt *pkt, char *err, size_t errlen)
{
    if (s->map.on) {
        if (map_lost)
            return map_lost_error(s, err, errlen);
        int rc = source_next_mapped(s, pkt);
        if (map_lost)
            return map_lost_error(s, err, errlen);
        if (rc != MAP_FALLBACK)
            return rc;
        if (map_fallback(s, err, errlen) != 0)
            return -1;
    }
    for (;;) {
        if (s->broken)
            return -2;
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(s->pcap, &h, &data);
        if (rc == 1) {
            source_deliver(s, pkt, h, data);
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

int source_next_batch(struct source *s, struct source_pkt *pkts, unsigned max, unsigned *n,
                      char *err, size_t errlen)
{
    *n = 0;
    if (max > SOURCE_BATCH_MAX)
        max = SOURCE_BATCH_MAX;
    /* the first record as source_next() reads it (it may move the window or hand over
     * to libpcap); a filter or -w (records skipped or copied inside the read), libpcap
     * (one buffer, reused) or a break: that one alone */
    int rc = source_next(s, pkts, err, errlen);
    if (rc != 1)
        return rc;
    unsigned k = 1;
    if (s->map.on && !s->map_hdr) {
        /* then every record that lies whole in the current window: taking one beyond
         * it would unmap those already handed out */
        struct map_rec r;
        while (k < max && !s->broken && map_take(&s->map, &r)) {
            pkts[k].data = r.data;
            pkts[k].caplen = r.caplen;
            pkts[k].len = r.len;
            pkts[k].ts_ns = source_ts_ns(r.sec, r.frac);
            k++;
        }
        if (map_lost)
            return map_lost_error(s, err, errlen);
    }
    *n = k;
    return 1;
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
    map_stop(&s->map);
    if (s->have_prog)
        pcap_freecode(&s->prog);
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
