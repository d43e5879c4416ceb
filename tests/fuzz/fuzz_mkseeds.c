/* fuzz_mkseeds.c - turn capture files into seed inputs for the libFuzzer harnesses.
 *
 * Pipeline place: test support (run by tools/fuzz, never part of synack).
 * Usage: fuzz_mkseeds DECODE_DIR TRACKER_DIR PCAP_DIR CAPTURE...
 *   DECODE_DIR   up to 16 frames of each capture, one per file, in fuzz_decode's format;
 *   TRACKER_DIR  each capture's first 64 frames (and its last 64 when it has more) in
 *                fuzz_tracker's framing, frames cut to 160 captured bytes;
 *   PCAP_DIR     each file itself (its first 32 KiB), readable by libpcap or not.
 * Captures of a link type synack does not decode give only a fuzz_pcap seed.  Seed files
 * are named by a hash of their content, so duplicates collapse.  Exits 0 unless a
 * directory cannot be written.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define DECODE_FRAMES 16
#define DECODE_MAX 4096
#define TRACKER_FRAMES 64
#define TRACKER_CAPLEN 160
#define PCAP_MAX 32768

struct frame {
    uint8_t *data;
    uint32_t caplen, len;
    int64_t ts_ns;
};

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= d[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Write buf to DIR/<prefix><hash>.  Returns 0, or -1 (reason on stderr). */
static int write_seed(const char *dir, const char *prefix, const uint8_t *buf, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%016llx", dir, prefix, (unsigned long long)fnv1a(buf, n));
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "fuzz_mkseeds: %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return 0;
}

/* fuzz_decode's options byte: printer bits from i, wire length rounded up to 2^(w-1). */
static uint8_t decode_opt(const struct frame *f, unsigned i, uint32_t caplen)
{
    unsigned w = 0;
    if (f->len > caplen) {
        uint32_t extra = f->len - caplen;
        w = 1;
        while (w < 14 && (1u << (w - 1)) < extra)
            w++;
    }
    return (uint8_t)(w << 4 | (i & 15u));
}

static int decode_seeds(const char *dir, int idx, const struct frame *fr, size_t n)
{
    uint8_t buf[2 + DECODE_MAX];
    for (size_t i = 0; i < n && i < DECODE_FRAMES; i++) {
        uint32_t c = fr[i].caplen < DECODE_MAX ? fr[i].caplen : DECODE_MAX;
        buf[0] = (uint8_t)idx;
        buf[1] = decode_opt(&fr[i], (unsigned)i, c);
        memcpy(buf + 2, fr[i].data, c);
        if (write_seed(dir, "d-", buf, 2 + (size_t)c) != 0)
            return -1;
    }
    return 0;
}

static int tracker_seed(const char *dir, int idx, unsigned file_no, const struct frame *fr,
                        size_t n)
{
    size_t cap = 3 + n * (FUZZ_REC_HDR + TRACKER_CAPLEN);
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -1;
    size_t off = 0;
    buf[off++] = (uint8_t)idx;
    buf[off++] = (uint8_t)((file_no * 37u) & 0x3fu); /* -v, -e, -S, -A, -X vary per file */
    buf[off++] = (uint8_t)(7u << 4 | file_no % 6u);  /* 8 connections, time modes vary */
    int64_t prev = fr[0].ts_ns;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = fr[i].caplen < TRACKER_CAPLEN ? fr[i].caplen : TRACKER_CAPLEN;
        uint32_t len = fr[i].len > fr[i].caplen ? fr[i].len : fr[i].caplen;
        uint32_t extra = len - c > 0xffff ? 0xffff : len - c;
        buf[off++] = (uint8_t)(c >> 8);
        buf[off++] = (uint8_t)c;
        buf[off++] = (uint8_t)(extra >> 8);
        buf[off++] = (uint8_t)extra;
        buf[off++] = fuzz_ts_code(fr[i].ts_ns - prev);
        prev = fr[i].ts_ns;
        memcpy(buf + off, fr[i].data, c);
        off += c;
    }
    int rc = write_seed(dir, "t-", buf, off);
    free(buf);
    return rc;
}

static int pcap_seed(const char *dir, const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_mkseeds: %s: %s (skipped)\n", file, strerror(errno));
        return 0;
    }
    uint8_t *buf = malloc(PCAP_MAX);
    size_t n = buf ? fread(buf, 1, PCAP_MAX, f) : 0;
    fclose(f);
    int rc = n ? write_seed(dir, "p-", buf, n) : 0;
    free(buf);
    return rc;
}

/* Read every frame of a capture (the tracker seeds need the last ones too). */
static struct frame *read_frames(pcap_t *pc, size_t *count)
{
    size_t n = 0, cap = 0;
    struct frame *fr = NULL;
    struct pcap_pkthdr *h;
    const u_char *d;
    int nano = pcap_get_tstamp_precision(pc) == PCAP_TSTAMP_PRECISION_NANO;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct frame *nf = realloc(fr, cap * sizeof *fr);
            if (!nf)
                break;
            fr = nf;
        }
        uint32_t c = h->caplen < DECODE_MAX ? h->caplen : DECODE_MAX;
        fr[n].data = malloc(c ? c : 1);
        if (!fr[n].data)
            break;
        memcpy(fr[n].data, d, c);
        fr[n].caplen = c;
        fr[n].len = h->len > h->caplen ? h->len : h->caplen;
        int64_t sec = (int64_t)h->ts.tv_sec; /* pcapng: anything; keep the sum in range */
        sec = sec < 0 ? 0 : sec > 8000000000ll ? 8000000000ll : sec;
        fr[n].ts_ns = sec * 1000000000 + (int64_t)h->ts.tv_usec * (nano ? 1 : 1000);
        n++;
    }
    *count = n;
    return fr;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: fuzz_mkseeds DECODE_DIR TRACKER_DIR PCAP_DIR CAPTURE...\n");
        return 2;
    }
    const char *ddir = argv[1], *tdir = argv[2], *pdir = argv[3];
    unsigned files = 0, used = 0;
    for (int a = 4; a < argc; a++) {
        files++;
        if (pcap_seed(pdir, argv[a]) != 0)
            return 1;
        char perr[PCAP_ERRBUF_SIZE];
        pcap_t *pc =
            pcap_open_offline_with_tstamp_precision(argv[a], PCAP_TSTAMP_PRECISION_NANO, perr);
        if (!pc)
            continue;
        int idx = fuzz_dlt_index(pcap_datalink(pc));
        if (idx < 0) {
            pcap_close(pc);
            continue;
        }
        size_t n = 0;
        struct frame *fr = read_frames(pc, &n);
        pcap_close(pc);
        int rc = 0;
        if (n) {
            used++;
            rc = decode_seeds(ddir, idx, fr, n);
            if (rc == 0)
                rc = tracker_seed(tdir, idx, files, fr, n < TRACKER_FRAMES ? n : TRACKER_FRAMES);
            if (rc == 0 && n > TRACKER_FRAMES)
                rc = tracker_seed(tdir, idx, files, fr + n - TRACKER_FRAMES, TRACKER_FRAMES);
        }
        for (size_t i = 0; i < n; i++)
            free(fr[i].data);
        free(fr);
        if (rc != 0)
            return 1;
    }
    printf("fuzz_mkseeds: %u files, %u with frames synack decodes\n", files, used);
    return 0;
}
