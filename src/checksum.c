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

/* Fold a 64-bit ones' complement accumulator to 16 bits (end-around carries). */
static uint32_t fold64_to16(uint64_t acc)
{
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    return (uint32_t)acc;
}

/* inet_sum: add the len bytes at data, as big-endian 16-bit words (an odd last byte is
 * padded with a zero byte on its right), to the running sum and return the new running
 * sum, partly folded so that it never overflows: the result may be fed back as sum.
 *
 * Speed: the bytes are summed as native 32-bit words into a 64-bit accumulator (8 bytes
 * per loop turn), folded to 16 bits, and byte-swapped on a little-endian machine; the
 * ones' complement sum is independent of word size and byte order (RFC 1071 section 2),
 * so this equals the word-by-word definition. */
uint32_t inet_sum(const uint8_t *data, uint32_t len, uint32_t sum)
{
    uint64_t acc = 0;
    uint32_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint32_t a, b;
        memcpy(&a, data + i, 4);
        memcpy(&b, data + i + 4, 4);
        acc += a;
        acc += b;
    }
    for (; i + 2 <= len; i += 2) {
        uint16_t w;
        memcpy(&w, data + i, 2);
        acc += w;
    }
    uint32_t s16 = fold64_to16(acc);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    s16 = ((s16 & 0xffu) << 8) | (s16 >> 8);
#elif !defined(__BYTE_ORDER__)
#error "inet_sum needs __BYTE_ORDER__"
#endif
    uint64_t t = (uint64_t)sum + s16;
    if (i < len)
        t += (uint32_t)data[i] << 8;
    t = (t & 0xffffffffu) + (t >> 32);
    return (uint32_t)t;
}

/* inet_fold: fold a running sum from inet_sum to 16 bits with end-around carries.
 * No complement: the checksum to store in a header is ~inet_fold(sum), and data that
 * includes a correct checksum field folds to 0xffff. */
uint16_t inet_fold(uint32_t sum)
{
    return (uint16_t)fold64_to16(sum);
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

    if (inet_fold(inet_sum(seg, len, ph)) == 0xffff)
        return CKSUM_OK;
    uint16_t f1 = inet_fold(ph), f0 = inet_fold(ph_nolen);
    uint16_t n1 = (uint16_t)~f1, n0 = (uint16_t)~f0;
    if (field == f1 || field == n1 || field == f0 || field == n0)
        return CKSUM_UNVERIFIED;
    return CKSUM_BAD;
}
