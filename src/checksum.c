/* checksum.c - the Internet checksum (RFC 1071) and transport checksum verification.
 *
 * Pipeline place: used by decode (IPv4 header, TCP over IPv4/IPv6) and by the tests
 * and the capture generator to build packets.
 *
 * Values are kept in "network order value" form: a 16-bit word of the packet counts as
 * (first byte << 8 | second byte), so a pseudo-header can be summed from plain numbers
 * (protocol, length) and from packet bytes alike.
 */
#include <string.h>

#include "decode_internal.h"

#if !defined(__BYTE_ORDER__)
#error "checksum.c needs __BYTE_ORDER__"
#endif
#define HOST_LITTLE_ENDIAN (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/* Fold a 64-bit ones' complement accumulator to 16 bits (end-around carries):
 * 64 -> 33 -> 32 -> 17 -> 16 bits. */
static inline uint16_t fold16(uint64_t acc)
{
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    return (uint16_t)acc;
}

/* Between a 16-bit sum of native words and one of big-endian words: a byte swap on a
 * little-endian host (RFC 1071 section 2: the sum commutes with the byte order). */
static inline uint16_t swap_if_le(uint16_t v)
{
    return HOST_LITTLE_ENDIAN ? (uint16_t)(v << 8 | v >> 8) : v;
}

/* Ones' complement addition of 64-bit words: the carry out goes back in at bit 0. */
static inline uint64_t add64c(uint64_t acc, uint64_t w)
{
    acc += w;
    return acc + (acc < w);
}

/* Ones' complement sum of data as native 64-bit words, unfolded, with acc added: 32 bytes
 * per loop turn, an add and an add-with-carry per word. The word size does not change
 * the 16-bit result (2^64 - 1 is a multiple of 2^16 - 1). An odd last byte counts as the
 * first byte of a 16-bit word whose second byte is zero. */
static inline uint64_t sum_native(const uint8_t *d, uint32_t len, uint64_t acc)
{
    for (; len >= 32; d += 32, len -= 32) {
        uint64_t w0, w1, w2, w3;
        memcpy(&w0, d, 8);
        memcpy(&w1, d + 8, 8);
        memcpy(&w2, d + 16, 8);
        memcpy(&w3, d + 24, 8);
        acc = add64c(acc, w0);
        acc = add64c(acc, w1);
        acc = add64c(acc, w2);
        acc = add64c(acc, w3);
    }
    for (; len >= 8; d += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, d, 8);
        acc = add64c(acc, w);
    }
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, d, 4);
        acc = add64c(acc, w);
        d += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, d, 2);
        acc = add64c(acc, w);
        d += 2;
        len -= 2;
    }
    if (len)
        acc = add64c(acc, HOST_LITTLE_ENDIAN ? d[0] : (uint64_t)d[0] << 8);
    return acc;
}

/* inet_sum: add the len bytes at data, as big-endian 16-bit words (an odd last byte is
 * padded with a zero byte on its right), to the running sum and return the new running
 * sum, partly folded so that it never overflows: the result may be fed back as sum. */
uint32_t inet_sum(const uint8_t *data, uint32_t len, uint32_t sum)
{
    uint64_t t = (uint64_t)sum + swap_if_le(fold16(sum_native(data, len, 0)));
    return (uint32_t)((t & 0xffffffffu) + (t >> 32));
}

/* inet_fold: fold a running sum from inet_sum to 16 bits with end-around carries.
 * No complement: the checksum to store in a header is ~inet_fold(sum), and data that
 * includes a correct checksum field folds to 0xffff. */
uint16_t inet_fold(uint32_t sum)
{
    return fold16(sum);
}

/* inet_verify: do data (holding its checksum field) and the running sum of what else the
 * checksum covers (a pseudo-header, in inet_sum's form) fold to 0xffff?  The data is
 * summed in native order and only the 16-bit sum is swapped. */
bool inet_verify(const uint8_t *data, uint32_t len, uint32_t sum)
{
    return fold16(sum_native(data, len, swap_if_le(fold16(sum)))) == 0xffff;
}

/* cksum_transport: verify a TCP (or UDP) checksum over seg (len bytes, all captured).
 * pseudo is the sum of the pseudo-header addresses; proto and len complete it
 * (RFC 9293 section 3.1 for IPv4, RFC 8200 section 8.1 for IPv6: a 32-bit length).
 *
 * A field that fails but equals the folded pseudo-header sum, or its complement, is
 * what checksum offload leaves on a locally sent packet (Linux stores the pseudo-header
 * sum for the NIC to finish; some drivers want it without the length): UNVERIFIED. */
enum cksum_state cksum_transport(const uint8_t *seg, uint32_t len, uint32_t pseudo, uint8_t proto,
                                 uint16_t field)
{
    uint32_t ph_nolen = pseudo + proto;
    uint32_t ph = ph_nolen + (len >> 16) + (len & 0xffffu);

    if (inet_verify(seg, len, ph))
        return CKSUM_OK;
    uint16_t f1 = fold16(ph), f0 = fold16(ph_nolen);
    uint16_t n1 = (uint16_t)~f1, n0 = (uint16_t)~f0;
    if (field == f1 || field == n1 || field == f0 || field == n0)
        return CKSUM_UNVERIFIED;
    return CKSUM_BAD;
}
