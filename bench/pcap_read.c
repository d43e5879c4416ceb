/* pcap_read.c - the libpcap read-only baseline: open a capture, read every packet, count.
 *
 * Pipeline place: none; the benchmark's floor. synack's file path is libpcap's reader
 * plus decode, tracking and output; this program is libpcap's reader alone, so the
 * ratio of the two says what synack adds.
 *
 *   bench_pcap_read FILE             pcap_open_offline: libpcap's own stdio stream
 *   bench_pcap_read --buffer FILE    pcap_fopen_offline on a FILE with a 1 MiB setvbuf buffer
 *
 * Prints "packets=N bytes=N" (bytes: captured bytes, each packet's first byte touched so
 * the data is really read). Exit status 0, or 2 with a message naming the file.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_SIZE (1u << 20)

static void usage(void)
{
    fputs("usage: bench_pcap_read [--buffer] FILE\n", stderr);
    exit(2);
}

/* Open path either way; returns the handle or exits with a message. The FILE and its
 * buffer (when used) stay alive until pcap_close. */
static pcap_t *open_capture(const char *path, int buffered, char *buf)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p;
    if (!buffered) {
        p = pcap_open_offline(path, err);
    } else {
        FILE *f = fopen(path, "rb");
        if (!f) {
            perror(path);
            exit(2);
        }
        if (setvbuf(f, buf, _IOFBF, BUFFER_SIZE) != 0) {
            fprintf(stderr, "bench_pcap_read: setvbuf failed\n");
            exit(2);
        }
        p = pcap_fopen_offline(f, err); /* owns f from now on */
    }
    if (!p) {
        fprintf(stderr, "bench_pcap_read: %s: %s\n", path, err);
        exit(2);
    }
    return p;
}

int main(int argc, char **argv)
{
    int buffered = 0;
    const char *path;
    char *buf = NULL;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    uint64_t packets = 0, bytes = 0;
    unsigned touch = 0;
    int rc;

    if (argc == 3 && strcmp(argv[1], "--buffer") == 0)
        buffered = 1;
    else if (argc != 2 || argv[1][0] == '-')
        usage();
    path = argv[argc - 1];
    if (buffered && !(buf = malloc(BUFFER_SIZE))) {
        fprintf(stderr, "bench_pcap_read: out of memory\n");
        return 2;
    }
    pcap_t *p = open_capture(path, buffered, buf);
    while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
        packets++;
        bytes += hdr->caplen;
        if (hdr->caplen)
            touch += data[0];
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "bench_pcap_read: %s: %s\n", path, pcap_geterr(p));
        pcap_close(p);
        return 2;
    }
    pcap_close(p);
    free(buf);
    printf("packets=%llu bytes=%llu touch=%u\n", (unsigned long long)packets, (unsigned long long)bytes, touch);
    return 0;
}
