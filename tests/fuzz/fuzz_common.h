/* fuzz_common.h - what the libFuzzer harnesses share: the link-type table an input byte
 * selects from, the framing of multi-packet inputs, and a /dev/null descriptor.
 *
 * Pipeline place: test support only (tests/fuzz/).  The framing is also written by
 * fuzz_mkseeds.c, which turns capture files into seed inputs.
 *
 * fuzz_decode input:   [dlt selector] [options] [frame bytes ...]
 * fuzz_tracker input:  [dlt selector] [options] then records, each
 *                      [caplen u16 BE] [wire extra u16 BE] [time code u8] [caplen bytes]
 *                      (the last record takes what is left when its caplen runs past the
 *                      end of the input).
 */
#ifndef SYNACK_FUZZ_COMMON_H
#define SYNACK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Link types an input selects with (byte % FUZZ_N_DLT).  The last entry is one synack
 * does not decode, so the unsupported path is reached too. */
extern const int fuzz_dlts[];
#define FUZZ_N_DLT 11u

/* Index of dlt in fuzz_dlts, or -1 when synack does not decode it. */
int fuzz_dlt_index(int dlt);

#define FUZZ_REC_HDR 5u                    /* caplen u16, wire extra u16, time code u8 */
#define FUZZ_TS_BASE 1700000000000000000ll /* 2023-11-14: first frame's time, ns */

/* Time step (ns) of a record's time code: bits 0-5 a count, bits 6-7 its unit (1 us,
 * 1 ms, 1 s, 1 min); 0xff steps back one second (captures are not always in order). */
int64_t fuzz_ts_step(uint8_t code);

/* The time code whose step is closest to delta_ns (delta_ns < 0: 0xff). */
uint8_t fuzz_ts_code(int64_t delta_ns);

/* One record of a framed input. */
struct fuzz_rec {
    const uint8_t *data;
    uint32_t caplen, len;
    uint8_t ts_code;
};

/* Next record of buf[*off..size); returns 0 at the end. */
int fuzz_next_rec(const uint8_t *buf, size_t size, size_t *off, struct fuzz_rec *r);

/* A descriptor on /dev/null for the sinks (opened once, kept for the process). */
int fuzz_devnull(void);

/* Pin the environment the output depends on (TZ=UTC). */
void fuzz_setup_env(void);

#endif
