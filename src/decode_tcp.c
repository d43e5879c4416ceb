/* decode_tcp.c - transport-layer decoders: TCP (RFC 9293) with its options, and the
 * one-line summaries of UDP (RFC 768) and ICMP / ICMPv6.
 *
 * Pipeline place: network -> [decode_transport -> decode_tcp / decode_udp / decode_icmp]
 * -> flow table.
 *
 * Every decoder gets a window narrowed by the IP layer to its datagram and c->seg_len,
 * the transport length that IP declared. Malformed (the header contradicts itself or
 * the IP length) and truncated (the capture ended) are told apart: only the second is
 * tcp.truncated / udp.truncated / icmp.truncated.
 *
 * tcp_opts_fast is the fast path's option walk (decode.c): tcp_opt_next's rules over
 * bytes known to be captured, sharing tcp_opt_len_ok and tcp_opt_store with the walk
 * here. decode.c's fast path repeats decode_tcp's checks for the common frame: a change
 * here must be made there too (tests/decode/decode_fastpath.c compares the two paths).
 */
#include "decode_internal.h"

#define TCP_FIXED_LEN 20
#define UDP_HDR_LEN 8
#define ICMP_HDR_LEN 4

/* decode_transport: pick the transport decoder by protocol number. ICMP counts only
 * over IPv4, ICMPv6 only over IPv6; anything else is L4_OTHER (ip.proto says what). */
int decode_transport(struct packet *p, uint8_t proto, struct reader r, const struct l4_ctx *c)
{
    switch (proto) {
    case IPPROTO_NUM_TCP:
        return decode_tcp(p, r, c);
    case IPPROTO_NUM_UDP:
        return decode_udp(p, r, c);
    case IPPROTO_NUM_ICMP:
        if (p->l3 == L3_IPV4)
            return decode_icmp(p, r, c, L4_ICMP);
        break;
    case IPPROTO_NUM_ICMPV6:
        if (p->l3 == L3_IPV6)
            return decode_icmp(p, r, c, L4_ICMPV6);
        break;
    default:
        break;
    }
    p->l4 = L4_OTHER;
    return 3;
}

/* A first fragment too short for the whole transport header: the header is split
 * across fragments, which synack does not reassemble. Not decoded (called before any
 * field is filled), not an anomaly beyond the fragment one already noted. */
static int transport_split(struct packet *p)
{
    p->l4 = L4_OTHER;
    return 3;
}

/* ------------------------------------------------------------------------------------ */
/* TCP options                                                                          */
/* ------------------------------------------------------------------------------------ */

/* Is the option length right for its kind?  Unknown kinds take any length >= 2. */
static bool tcp_opt_len_ok(uint8_t kind, uint8_t len)
{
    switch (kind) {
    case TCPOPT_MSS:
        return len == 4;
    case TCPOPT_WSCALE:
        return len == 3;
    case TCPOPT_SACK_PERM:
        return len == 2;
    case TCPOPT_TIMESTAMP:
        return len == 10;
    case TCPOPT_SACK: /* RFC 2018: 2 + 8n, n = 1..4 fit in 40 option bytes */
        return len >= 10 && (len - 2) % 8 == 0 && (len - 2) / 8 <= SYNACK_MAX_SACK;
    case TCPOPT_TFO: /* RFC 7413: a cookie request (no cookie) or a 4..16-byte cookie */
        return len == 2 || (len >= 6 && len <= 18);
    default:
        return len >= 2;
    }
}

/* tcp_opt_next: see decode.h. A bad length is one below 2, one that runs past opts_len,
 * or one that is wrong for a kind listed in decode.h (MSS 4, window scale 3,
 * SACK-permitted 2, timestamps 10, SACK 2 + 8n with n = 1..4, TFO 2 or 6..18), so a
 * printer can read a returned option's data by its kind without checking the length.
 * data is NULL for EOL, NOP and any option of length 2. After EOL *off is opts_len.
 * On -1 *off is unchanged. */
int tcp_opt_next(const uint8_t *opts, uint32_t opts_len, uint32_t *off, struct tcp_opt *o)
{
    if (!opts || *off >= opts_len)
        return 0;
    struct reader r = rd_make(opts, opts_len);
    rd_skip(&r, *off);
    uint8_t kind = rd_u8(&r);
    if (kind == TCPOPT_EOL || kind == TCPOPT_NOP) {
        o->kind = kind;
        o->len = 1;
        o->data = NULL;
        *off = kind == TCPOPT_EOL ? opts_len : *off + 1;
        return 1;
    }
    uint8_t len = rd_u8(&r);
    if (r.err || !tcp_opt_len_ok(kind, len) || !rd_need(&r, len - 2u))
        return -1;
    o->kind = kind;
    o->len = len;
    o->data = len > 2 ? rd_cur(&r) : NULL;
    *off += len;
    return 1;
}

/* Record one option (not EOL or NOP) in *to.  Its length must be right for its kind
 * (tcp_opt_len_ok), so data holds the len - 2 bytes its kind reads; they are loaded at
 * fixed offsets, like a header span the reader has vouched for.  A later option of the
 * same kind overwrites an earlier one (a SACK only its own n_sack blocks). */
static inline void tcp_opt_store(struct tcp_opts *to, uint8_t kind, uint8_t len,
                                 const uint8_t *data)
{
    switch (kind) {
    case TCPOPT_MSS:
        to->mss = ld_be16(data);
        to->present |= TCPO_MSS;
        break;
    case TCPOPT_WSCALE:
        to->wscale = data[0];
        to->present |= TCPO_WSCALE;
        break;
    case TCPOPT_SACK_PERM:
        to->present |= TCPO_SACK_PERM;
        break;
    case TCPOPT_TIMESTAMP:
        to->ts_val = ld_be32(data);
        to->ts_ecr = ld_be32(data + 4);
        to->present |= TCPO_TS;
        break;
    case TCPOPT_SACK:
        to->n_sack = (uint8_t)((len - 2) / 8);
        for (unsigned i = 0; i < to->n_sack; i++) {
            to->sack[i][0] = ld_be32(data + 8 * i);
            to->sack[i][1] = ld_be32(data + 8 * i + 4);
        }
        to->present |= TCPO_SACK;
        break;
    case TCPOPT_TFO:
        to->present |= TCPO_TFO;
        break;
    default:
        to->present |= TCPO_UNKNOWN;
        break;
    }
}

/* tcp_opts_fast: see decode_internal.h.  The same walk as tcp_opt_next in a loop, over
 * bytes already known to be captured: each option's length byte and its len bytes are
 * checked against n before they are read. */
int tcp_opts_fast(struct tcp_opts *to, const uint8_t *opts, uint32_t n)
{
    /* What a Linux SYN and SYN/ACK carry: MSS, SACK-permitted, timestamps, NOP, window
     * scale, in 20 bytes; the walk below gives the same. */
    if (n == 20 && ld_be16(opts) == 0x0204 && ld_be32(opts + 4) == 0x0402080au &&
        ld_be32(opts + 16) >> 8 == 0x010303u) {
        to->mss = ld_be16(opts + 2);
        to->ts_val = ld_be32(opts + 8);
        to->ts_ecr = ld_be32(opts + 12);
        to->wscale = opts[19];
        to->present = TCPO_MSS | TCPO_SACK_PERM | TCPO_TS | TCPO_WSCALE;
        return 0;
    }
    uint32_t off = 0;
    while (off < n) {
        uint8_t kind = opts[off];
        if (kind == TCPOPT_NOP) {
            off++;
            continue;
        }
        if (kind == TCPOPT_EOL)
            return 0;
        if (n - off < 2)
            return -1;
        uint8_t len = opts[off + 1];
        if (!tcp_opt_len_ok(kind, len) || len > n - off)
            return -1;
        tcp_opt_store(to, kind, len, opts + off + 2);
        off += len;
    }
    return 0;
}

/* Parse the options in opts (got bytes captured of the want bytes on the wire) into
 * p->u.tcp.o. A wrong length stops the walk (tcp.bad_option_len) keeping what was
 * parsed; an option that runs past the captured bytes but not past the header is the
 * capture's end, not an error. */
static void tcp_parse_opts(struct packet *p, const uint8_t *opts, uint32_t got, uint32_t want)
{
    struct tcp_opts *to = &p->u.tcp.o;
    struct tcp_opt o;
    uint32_t off = 0;
    int rc;

    /* Fast path for what nearly every segment of an established Linux/BSD connection
     * carries: NOP, NOP, timestamps (RFC 7323 appendix A layout). */
    if (want == 12 && got == 12 && ld_be32(opts) == TCP_OPTS_NOP_NOP_TS) {
        to->ts_val = ld_be32(opts + 4);
        to->ts_ecr = ld_be32(opts + 8);
        to->present = TCPO_TS;
        return;
    }

    while ((rc = tcp_opt_next(opts, got, &off, &o)) > 0)
        if (o.len > 1)
            tcp_opt_store(to, o.kind, o.len, o.data);
    if (rc == 0)
        return;
    if (got < want) {
        /* Not bad if the option only runs past the captured bytes: its length byte is
         * missing, or right for its kind and within the option bytes declared. */
        struct reader r = rd_make(opts, got);
        rd_skip(&r, off);
        uint8_t kind = rd_u8(&r);
        uint8_t len = rd_u8(&r);
        if (r.err || (tcp_opt_len_ok(kind, len) && off + len <= want))
            return;
    }
    decode_note(p, ANOMALY_TCP_BAD_OPTION_LEN);
}

/* ------------------------------------------------------------------------------------ */
/* TCP                                                                                  */
/* ------------------------------------------------------------------------------------ */

/* decode_tcp: RFC 9293 section 3.1 header. Checks, in order: the IP length holds a
 * fixed header (else doff_too_small / doff_beyond_segment by what the offset says),
 * fixed header captured (tcp.truncated), data offset >= 5 words (doff_too_small),
 * data offset within the segment (doff_beyond_segment), options captured
 * (tcp.truncated). Each of these stops the layer with tcp_valid false; the fixed
 * fields stay filled once captured. Then flags, options, payload, checksum. */
int decode_tcp(struct packet *p, struct reader r, const struct l4_ctx *c)
{
    struct pkt_tcp *t = &p->u.tcp;
    p->l4 = L4_TCP;

    if (c->seg_len < TCP_FIXED_LEN) {
        if (c->fragment)
            return transport_split(p);
        uint8_t off_byte = rd_peek(&r, 12);
        decode_note(p, !r.err && off_byte >> 4 < 5 ? ANOMALY_TCP_DOFF_TOO_SMALL
                                                   : ANOMALY_TCP_DOFF_BEYOND_SEGMENT);
        return 3;
    }

    const uint8_t *h = rd_bytes(&r, TCP_FIXED_LEN);
    if (!h) {
        decode_note(p, ANOMALY_TCP_TRUNCATED);
        return 3;
    }
    uint32_t doff = (uint32_t)(h[12] >> 4) * 4;
    if (c->fragment && doff > c->seg_len)
        return transport_split(p);

    uint16_t sport = ld_be16(h), dport = ld_be16(h + 2);
    uint8_t flags = h[13];
    t->sport = sport;
    t->dport = dport;
    t->seq = ld_be32(h + 4);
    t->ack = ld_be32(h + 8);
    t->doff = (uint8_t)doff;
    t->flags = flags;
    t->win = ld_be16(h + 14);
    t->cksum_field = ld_be16(h + 16);
    t->urp = ld_be16(h + 18);
    if (doff < TCP_FIXED_LEN) {
        decode_note(p, ANOMALY_TCP_DOFF_TOO_SMALL);
        return 3;
    }
    if (doff > c->seg_len) {
        decode_note(p, ANOMALY_TCP_DOFF_BEYOND_SEGMENT);
        return 3;
    }

    if ((flags & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN))
        decode_note(p, ANOMALY_TCP_SYN_FIN);
    if (flags == 0)
        decode_note(p, ANOMALY_TCP_NO_FLAGS);
    if (sport == 0 || dport == 0)
        decode_note(p, ANOMALY_TCP_PORT_ZERO);

    uint32_t want = doff - TCP_FIXED_LEN;
    uint32_t got = rd_left(&r) < want ? rd_left(&r) : want;
    if (got) {
        t->opts = rd_bytes(&r, got);
        t->opts_len = (uint8_t)got;
        tcp_parse_opts(p, t->opts, got, want);
    }
    if (got < want) {
        decode_note(p, ANOMALY_TCP_TRUNCATED);
        return 3;
    }
    p->tcp_valid = true;

    t->payload_len = c->seg_len - doff;
    t->payload_caplen = rd_left(&r);
    t->payload = t->payload_caplen ? rd_cur(&r) : NULL;
    if (!c->fragment && c->cksum_ok && t->payload_caplen == t->payload_len && !p->no_cksum)
        t->cksum = cksum_transport(h, c->seg_len, c->pseudo, IPPROTO_NUM_TCP, t->cksum_field);
    return 4;
}

/* ------------------------------------------------------------------------------------ */
/* UDP and ICMP: one-line summaries                                                     */
/* ------------------------------------------------------------------------------------ */

/* decode_udp: ports and length. An IP payload shorter than a UDP header, or a length
 * field that disagrees with it, is udp.bad_length (a length of 0 is accepted on a
 * datagram whose IP length came from the frame: RFC 2675 jumbograms, UDP GSO). */
int decode_udp(struct packet *p, struct reader r, const struct l4_ctx *c)
{
    p->l4 = L4_UDP;
    if (c->seg_len < UDP_HDR_LEN) {
        if (c->fragment)
            return transport_split(p);
        decode_note(p, ANOMALY_UDP_BAD_LENGTH);
        return 3;
    }
    const uint8_t *h = rd_bytes(&r, UDP_HDR_LEN);
    if (!h) {
        decode_note(p, ANOMALY_UDP_TRUNCATED);
        return 3;
    }
    uint16_t len = ld_be16(h + 4);
    p->u.udp.sport = ld_be16(h);
    p->u.udp.dport = ld_be16(h + 2);
    p->u.udp.len = len;
    p->u.udp.payload_len = c->seg_len - UDP_HDR_LEN;
    if (!c->fragment && len != c->seg_len && !(len == 0 && p->ip.len_from_frame))
        decode_note(p, ANOMALY_UDP_BAD_LENGTH);
    return 4;
}

/* decode_icmp: type and code of ICMP (over IPv4) or ICMPv6 (over IPv6); the 4-byte
 * header (type, code, checksum) must be there, else icmp.truncated. */
int decode_icmp(struct packet *p, struct reader r, const struct l4_ctx *c, enum l4_kind kind)
{
    p->l4 = kind;
    if (c->fragment && c->seg_len < ICMP_HDR_LEN)
        return transport_split(p);
    const uint8_t *h = rd_bytes(&r, ICMP_HDR_LEN);
    if (!h) {
        decode_note(p, ANOMALY_ICMP_TRUNCATED);
        return 3;
    }
    p->u.icmp.type = h[0];
    p->u.icmp.code = h[1];
    return 4;
}
