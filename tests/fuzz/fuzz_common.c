/* fuzz_common.c - shared by the libFuzzer harnesses and the seed maker (fuzz_common.h). */
#include "fuzz_common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "synack/decode.h"

const int fuzz_dlts[FUZZ_N_DLT] = {
    SYNACK_DLT_EN10MB,
    SYNACK_DLT_LINUX_SLL,
    SYNACK_DLT_LINUX_SLL2,
    SYNACK_DLT_NULL,
    SYNACK_DLT_LOOP,
    SYNACK_DLT_RAW,
    SYNACK_DLT_RAW_ALT,
    SYNACK_LINKTYPE_RAW,
    SYNACK_DLT_IPV4,
    SYNACK_DLT_IPV6,
    147, /* DLT_USER0: not decoded */
};

int fuzz_dlt_index(int dlt)
{
    for (unsigned i = 0; i + 1 < FUZZ_N_DLT; i++)
        if (fuzz_dlts[i] == dlt)
            return (int)i;
    return -1;
}

static const int64_t ts_units[4] = {1000ll, 1000000ll, 1000000000ll, 60000000000ll};

int64_t fuzz_ts_step(uint8_t code)
{
    if (code == 0xff)
        return -1000000000ll;
    return (int64_t)(code & 0x3f) * ts_units[code >> 6];
}

uint8_t fuzz_ts_code(int64_t delta_ns)
{
    if (delta_ns < 0)
        return 0xff;
    for (unsigned u = 0; u < 4; u++) {
        int64_t max = u == 3 ? 62 : 63;
        int64_t n = (delta_ns + ts_units[u] / 2) / ts_units[u];
        if (n <= max || u == 3)
            return (uint8_t)((u << 6) | (unsigned)(n > max ? max : n));
    }
    return 0;
}

int fuzz_next_rec(const uint8_t *buf, size_t size, size_t *off, struct fuzz_rec *r)
{
    if (*off >= size || size - *off < FUZZ_REC_HDR)
        return 0;
    const uint8_t *h = buf + *off;
    uint32_t caplen = (uint32_t)h[0] << 8 | h[1];
    uint32_t extra = (uint32_t)h[2] << 8 | h[3];
    size_t left = size - *off - FUZZ_REC_HDR;
    if (caplen > left)
        caplen = (uint32_t)left;
    r->data = h + FUZZ_REC_HDR;
    r->caplen = caplen;
    r->len = caplen + extra;
    r->ts_code = h[4];
    *off += FUZZ_REC_HDR + caplen;
    return 1;
}

int fuzz_devnull(void)
{
    static int fd = -1;
    if (fd < 0) {
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            abort();
    }
    return fd;
}

void fuzz_setup_env(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
}

/* The flow table seeds its hash with getrandom().  The fuzzing build of the library is
 * compiled with -Dgetrandom=synack_fuzz_getrandom (tests/fuzz/CMakeLists.txt), so the
 * key is fixed and every run of an input walks the same buckets (deterministic). */
ssize_t synack_fuzz_getrandom(void *buf, size_t n, unsigned int flags);
ssize_t synack_fuzz_getrandom(void *buf, size_t n, unsigned int flags)
{
    (void)flags;
    uint8_t *b = buf;
    uint32_t x = 0x9e3779b9u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    return (ssize_t)n;
}
