/* textfmt.c - tcpdump-style packet lines, connection rows and totals (see textfmt.h). */
#include "textfmt.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- names */

static const char *ethertype_name(uint16_t et)
{
    switch (et) {
    case 0x0800: return "IPv4";
    case 0x86dd: return "IPv6";
    case 0x0806: return "ARP";
    case 0x8100: return "802.1Q";
    case 0x88a8: return "802.1Q-QinQ";
    case 0x9100: return "802.1Q-9100";
    case 0x88cc: return "LLDP";
    default: return "Unknown";
    }
}

static const char *ip_proto_name(uint8_t p)
{
    switch (p) {
    case 1: return "ICMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 47: return "GRE";
    case 50: return "ESP";
    case 51: return "AH";
    case 58: return "ICMPv6";
    case 132: return "SCTP";
    default: return "unknown";
    }
}

static const char *sll_pkttype_name(uint16_t t)
{
    switch (t) {
    case 0: return "In";
    case 1: return "B";
    case 2: return "M";
    case 3: return "P";
    case 4: return "Out";
    default: return "?";
    }
}

static const char *icmp_name(int v6, uint8_t type)
{
    if (!v6) {
        switch (type) {
        case 0: return "echo reply";
        case 3: return "unreachable";
        case 5: return "redirect";
        case 8: return "echo request";
        case 11: return "time exceeded";
        default: return NULL;
        }
    }
    switch (type) {
    case 1: return "destination unreachable";
    case 2: return "packet too big";
    case 3: return "time exceeded";
    case 128: return "echo request";
    case 129: return "echo reply";
    case 133: return "router solicitation";
    case 134: return "router advertisement";
    case 135: return "neighbor solicitation";
    case 136: return "neighbor advertisement";
    default: return NULL;
    }
}

/* Names of option kinds synack shows but does not decode (IANA registry). */
static const char *tcp_option_name(uint8_t kind)
{
    switch (kind) {
    case 19: return "md5";
    case 28: return "uto";
    case 29: return "tcp-ao";
    case 30: return "mptcp";
    case 253:
    case 254: return "exp";
    default: return NULL;
    }
}

/* ---------------------------------------------------------------- flags */

void textfmt_flags(char *out, uint8_t f)
{
    /* tcpdump's tcp_flag_values order: F S R P . U E W */
    static const struct {
        uint8_t bit;
        char c;
    } tab[] = {{TCP_FIN, 'F'}, {TCP_SYN, 'S'}, {TCP_RST, 'R'}, {TCP_PSH, 'P'},
               {TCP_ACK, '.'}, {TCP_URG, 'U'}, {TCP_ECE, 'E'}, {TCP_CWR, 'W'}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (f & tab[i].bit)
            out[n++] = tab[i].c;
    if (n == 0)
        strcpy(out, "none");
    else
        out[n] = '\0';
}

void textfmt_flag_letters(char *out, uint8_t f)
{
    static const char letters[] = "FSRPAUEC"; /* bit 0 .. bit 7 */
    size_t n = 0;
    for (unsigned i = 0; i < 8; i++)
        if (f & (1u << i))
            out[n++] = letters[i];
    out[n] = '\0';
}

/* ---------------------------------------------------------------- link / ip */

static void put_mac(struct outbuf *b, const uint8_t *m)
{
    for (int i = 0; i < 6; i++) {
        if (i)
            outbuf_putc(b, ':');
        outbuf_hex(b, m[i], 2);
    }
}

static void put_ethertype(struct outbuf *b, uint16_t et)
{
    outbuf_puts(b, "ethertype ");
    outbuf_puts(b, ethertype_name(et));
    outbuf_puts(b, " (0x");
    outbuf_hex(b, et, 4);
    outbuf_putc(b, ')');
}

static void put_link_header(struct outbuf *b, const struct packet *p)
{
    const struct pkt_link *l = &p->link;
    switch (l->dlt) {
    case SYNACK_DLT_EN10MB:
        if (!l->src_mac)
            return;
        put_mac(b, l->src_mac);
        outbuf_puts(b, " > ");
        put_mac(b, l->dst_mac);
        outbuf_puts(b, ", ");
        put_ethertype(b, l->n_vlan ? 0x8100 : l->ethertype);
        outbuf_puts(b, ", length ");
        outbuf_u64(b, p->len);
        outbuf_puts(b, ": ");
        for (unsigned i = 0; i < l->n_vlan; i++) {
            outbuf_puts(b, "vlan ");
            outbuf_u64(b, l->vlan_tci[i] & 0x0fffu);
            outbuf_puts(b, ", p ");
            outbuf_u64(b, (unsigned)l->vlan_tci[i] >> 13);
            outbuf_puts(b, ", ");
            if (i + 1 == l->n_vlan) {
                put_ethertype(b, l->ethertype);
                outbuf_puts(b, ", ");
            }
        }
        return;
    case SYNACK_DLT_LINUX_SLL:
    case SYNACK_DLT_LINUX_SLL2:
        outbuf_puts(b, sll_pkttype_name(l->sll_pkttype));
        if (l->dlt == SYNACK_DLT_LINUX_SLL2) {
            outbuf_puts(b, " ifindex ");
            outbuf_u64(b, l->sll_ifindex);
        }
        outbuf_putc(b, ' ');
        put_ethertype(b, l->ethertype);
        break;
    case SYNACK_DLT_NULL:
    case SYNACK_DLT_LOOP:
        outbuf_puts(b, "AF ");
        outbuf_puts(b, p->l3 == L3_IPV6 ? "IPv6" : p->l3 == L3_IPV4 ? "IPv4" : "?");
        outbuf_puts(b, " (");
        outbuf_u64(b, l->null_family);
        outbuf_putc(b, ')');
        break;
    default:
        outbuf_puts(b, "raw");
        break;
    }
    outbuf_puts(b, ", length ");
    outbuf_u64(b, p->len);
    outbuf_puts(b, ": ");
}

static void put_ip_verbose(struct outbuf *b, const struct packet *p)
{
    const struct pkt_ip *ip = &p->ip;
    if (ip->version == 4) {
        outbuf_puts(b, " (tos 0x");
        outbuf_hex(b, ip->tos, 1);
        outbuf_puts(b, ", ttl ");
        outbuf_u64(b, ip->ttl);
        outbuf_puts(b, ", id ");
        outbuf_u64(b, ip->id);
        outbuf_puts(b, ", offset ");
        outbuf_u64(b, ip->frag_off);
        outbuf_puts(b, ", flags [");
        outbuf_puts(b, ip->df ? (ip->mf ? "DF+" : "DF") : (ip->mf ? "+" : "none"));
        outbuf_puts(b, "], proto ");
    } else {
        outbuf_puts(b, " (flowlabel 0x");
        outbuf_hex(b, ip->flow_label, 5);
        outbuf_puts(b, ", hlim ");
        outbuf_u64(b, ip->ttl);
        outbuf_puts(b, ", next-header ");
    }
    outbuf_puts(b, ip_proto_name(ip->proto));
    outbuf_puts(b, " (");
    outbuf_u64(b, ip->proto);
    outbuf_puts(b, "), length ");
    outbuf_u64(b, ip->total_len);
    if (ip->version == 4) {
        outbuf_puts(b, ", cksum ");
        outbuf_puts(b, ip->cksum == CKSUM_OK ? "ok" : ip->cksum == CKSUM_BAD ? "bad" : "unchecked");
    }
    outbuf_puts(b, ", frame ");
    outbuf_u64(b, p->len);
    if (p->snap_truncated)
        outbuf_puts(b, ", captured ");
    if (p->snap_truncated)
        outbuf_u64(b, p->caplen);
    outbuf_puts(b, ")\n    ");
}

/* "src.sport > dst.dport", or without ports "src > dst". */
static void put_endpoints(struct outbuf *b, const struct packet *p, int with_ports,
                          uint16_t sport, uint16_t dport)
{
    char *w = outbuf_reserve(b, 2 * (INET6_TEXT_MAX + 7) + 3);
    w = outbuf_addr_text(w, p->ip.version, p->ip.src);
    if (with_ports) {
        *w++ = '.';
        w = outbuf_u32_text(w, sport);
    }
    w = outbuf_str_text(w, " > ");
    w = outbuf_addr_text(w, p->ip.version, p->ip.dst);
    if (with_ports) {
        *w++ = '.';
        w = outbuf_u32_text(w, dport);
    }
    outbuf_commit(b, w);
}

/* ---------------------------------------------------------------- tcp */

static uint32_t be32(const uint8_t *d)
{
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

/* NOP, NOP, timestamps: the options of nearly every segment after the handshake. */
static bool nop_nop_ts(const struct pkt_tcp *tcp)
{
    const uint8_t *x = tcp->opts;
    return tcp->opts_len == 12 && x[0] == TCPOPT_NOP && x[1] == TCPOPT_NOP &&
           x[2] == TCPOPT_TIMESTAMP && x[3] == 10;
}

/* What textfmt_tcp_options prints for them (at most 40 bytes), without the walk. */
static char *nop_nop_ts_text(char *w, const uint8_t *x)
{
    w = outbuf_str_text(w, "nop,nop,TS val ");
    w = outbuf_u32_text(w, be32(x + 4));
    w = outbuf_str_text(w, " ecr ");
    return outbuf_u32_text(w, be32(x + 8));
}

void textfmt_tcp_options(struct outbuf *b, const struct pkt_tcp *tcp, uint32_t sack_base)
{
    if (nop_nop_ts(tcp)) {
        outbuf_commit(b, nop_nop_ts_text(outbuf_reserve(b, 64), tcp->opts));
        return;
    }
    uint32_t off = 0;
    struct tcp_opt o;
    int first = 1, rc;
    while ((rc = tcp_opt_next(tcp->opts, tcp->opts_len, &off, &o)) == 1) {
        if (!first)
            outbuf_putc(b, ',');
        first = 0;
        uint8_t dl = (uint8_t)(o.len >= 2 ? o.len - 2 : 0);
        const uint8_t *d = o.data;
        switch (o.kind) {
        case TCPOPT_EOL: outbuf_puts(b, "eol"); break;
        case TCPOPT_NOP: outbuf_puts(b, "nop"); break;
        case TCPOPT_MSS:
            outbuf_puts(b, "mss ");
            outbuf_u64(b, (uint32_t)d[0] << 8 | d[1]);
            break;
        case TCPOPT_WSCALE:
            outbuf_puts(b, "wscale ");
            outbuf_u64(b, d[0]);
            break;
        case TCPOPT_SACK_PERM: outbuf_puts(b, "sackOK"); break;
        case TCPOPT_SACK:
            outbuf_puts(b, "sack ");
            outbuf_u64(b, dl / 8u);
            outbuf_putc(b, ' ');
            for (unsigned i = 0; i + 8 <= dl; i += 8) {
                uint32_t l = be32(d + i), r = be32(d + i + 4);
                outbuf_putc(b, '{');
                outbuf_u64(b, l - sack_base);
                outbuf_putc(b, ':');
                outbuf_u64(b, r - sack_base);
                outbuf_putc(b, '}');
            }
            break;
        case TCPOPT_TIMESTAMP:
            outbuf_puts(b, "TS val ");
            outbuf_u32(b, be32(d));
            outbuf_puts(b, " ecr ");
            outbuf_u32(b, be32(d + 4));
            break;
        case TCPOPT_TFO:
            if (dl == 0) {
                outbuf_puts(b, "tfo cookiereq");
            } else {
                outbuf_puts(b, "tfo cookie ");
                for (unsigned i = 0; i < dl; i++)
                    outbuf_hex(b, d[i], 2);
            }
            break;
        default:
            if (tcp_option_name(o.kind)) {
                outbuf_puts(b, tcp_option_name(o.kind));
            } else {
                outbuf_puts(b, "unknown-");
                outbuf_u64(b, o.kind);
            }
            if (dl) {
                outbuf_puts(b, " 0x");
                for (unsigned i = 0; i < dl; i++)
                    outbuf_hex(b, d[i], 2);
            }
            break;
        }
    }
    if (rc < 0) {
        if (!first)
            outbuf_putc(b, ',');
        outbuf_puts(b, "bad opt");
    }
}

/* textfmt_flags at w (at most 8 bytes); ACK alone and PSH+ACK, most segments, without
 * the table walk. */
static char *flags_text(char *w, uint8_t f)
{
    if (f == TCP_ACK) {
        *w++ = '.';
    } else if (f == (TCP_PSH | TCP_ACK)) {
        w = outbuf_str_text(w, "P.");
    } else {
        char fl[12];
        textfmt_flags(fl, f);
        w = outbuf_str_text(w, fl);
    }
    return w;
}

static void put_tcp(struct outbuf *b, const struct packet *p, const struct track_info *ti,
                    const struct textfmt_opts *o)
{
    const struct pkt_tcp *tcp = &p->u.tcp;
    put_endpoints(b, p, 1, tcp->sport, tcp->dport);
    char *w = outbuf_reserve(b, 32);
    w = outbuf_str_text(w, ": Flags [");
    w = flags_text(w, tcp->flags);
    *w++ = ']';
    outbuf_commit(b, w);
    if (o->verbose) {
        outbuf_puts(b, ", cksum 0x");
        outbuf_hex(b, tcp->cksum_field, 4);
        switch (tcp->cksum) {
        case CKSUM_OK: outbuf_puts(b, " (correct)"); break;
        case CKSUM_BAD: outbuf_puts(b, " (incorrect)"); break;
        case CKSUM_UNVERIFIED: outbuf_puts(b, " (unverified: checksum offload)"); break;
        default: outbuf_puts(b, " (unchecked)"); break;
        }
    }
    uint32_t seq = tcp->seq, ack = tcp->ack, sack_base = 0;
    if (ti && ti->conn && !o->absolute_seq) {
        if (ti->has_seq_base)
            seq -= ti->seq_base;
        if (ti->has_ack_base) {
            ack -= ti->ack_base;
            sack_base = ti->ack_base;
        }
    }
    /* the numbers, and the options when they are the usual ones: at most 170 bytes */
    w = outbuf_reserve(b, 256);
    if (tcp->payload_len > 0 || (tcp->flags & (TCP_SYN | TCP_FIN | TCP_RST))) {
        w = outbuf_str_text(w, ", seq ");
        w = outbuf_u32_text(w, seq);
        if (tcp->payload_len > 0) {
            *w++ = ':';
            w = outbuf_u32_text(w, (uint32_t)(seq + tcp->payload_len));
        }
    }
    if (tcp->flags & TCP_ACK) {
        w = outbuf_str_text(w, ", ack ");
        w = outbuf_u32_text(w, ack);
    }
    w = outbuf_str_text(w, ", win ");
    w = outbuf_u32_text(w, tcp->win);
    if (tcp->flags & TCP_URG) {
        w = outbuf_str_text(w, ", urg ");
        w = outbuf_u32_text(w, tcp->urp);
    }
    if (tcp->opts_len > 0) {
        w = outbuf_str_text(w, ", options [");
        if (nop_nop_ts(tcp)) {
            w = nop_nop_ts_text(w, tcp->opts);
        } else {
            outbuf_commit(b, w);
            textfmt_tcp_options(b, tcp, sack_base);
            w = outbuf_reserve(b, 64);
        }
        *w++ = ']';
    }
    w = outbuf_str_text(w, ", length ");
    w = outbuf_u32_text(w, tcp->payload_len);
    outbuf_commit(b, w);
}

/* The tracker's analysis notes: " (retransmission, dup ack)". */
static void put_notes(struct outbuf *b, const struct track_info *ti)
{
    if (!(ti->retransmit || ti->fast_retransmit || ti->out_of_order || ti->dup_ack ||
          ti->keepalive || ti->window_probe || ti->zero_window || ti->above_mss))
        return; /* most segments */
    static const struct {
        size_t off;
        const char *text;
    } notes[] = {
        {offsetof(struct track_info, retransmit), "retransmission"},
        {offsetof(struct track_info, fast_retransmit), "fast retransmission"},
        {offsetof(struct track_info, out_of_order), "out-of-order"},
        {offsetof(struct track_info, dup_ack), "dup ack"},
        {offsetof(struct track_info, keepalive), "keep-alive"},
        {offsetof(struct track_info, window_probe), "zero-window probe"},
        {offsetof(struct track_info, zero_window), "zero window"},
    };
    const char *sep = " (";
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
        if (*((const bool *)((const char *)ti + notes[i].off))) {
            if (notes[i].off == offsetof(struct track_info, retransmit) && ti->fast_retransmit)
                continue; /* "fast retransmission" says it */
            outbuf_puts(b, sep);
            outbuf_puts(b, notes[i].text);
            sep = ", ";
        }
    }
    if (ti->above_mss) {
        outbuf_puts(b, sep);
        outbuf_puts(b, "above MSS ");
        outbuf_u64(b, ti->peer_mss);
        outbuf_puts(b, ": offload super-segment");
        sep = ", ";
    }
    if (sep[0] == ',')
        outbuf_putc(b, ')');
}

/* The connection id, analysis notes and state changes the tracker attached to a
 * packet. */
static void put_track(struct outbuf *b, const struct track_info *ti)
{
    if (!ti || !ti->conn)
        return;
    char *w = outbuf_str_text(outbuf_reserve(b, 24), " #");
    uint64_t id = ti->conn->id;
    outbuf_commit(b, id <= UINT32_MAX ? outbuf_u32_text(w, (uint32_t)id) : outbuf_u64_text(w, id));
    put_notes(b, ti);
    for (unsigned i = 0; i < ti->n_events; i++) {
        const struct tcp_event *e = &ti->events[i];
        outbuf_puts(b, i ? ", " : " ");
        outbuf_puts(b, e->endpoint == ROLE_CLIENT ? "client " : "server ");
        outbuf_puts(b, tcp_state_name(e->from));
        outbuf_puts(b, "\xe2\x86\x92");
        outbuf_puts(b, tcp_state_name(e->to));
    }
}

static void put_anomalies(struct outbuf *b, anomaly_set a)
{
    if (!a)
        return;
    outbuf_puts(b, " [");
    const char *sep = "";
    for (unsigned i = 0; i < ANOMALY_COUNT; i++) {
        if (a & ANOMALY_BIT(i)) {
            outbuf_puts(b, sep);
            outbuf_puts(b, anomaly_name((enum anomaly)i));
            sep = ", ";
        }
    }
    outbuf_putc(b, ']');
}

void textfmt_packet(struct outbuf *b, const struct packet *p, const struct track_info *ti,
                    const struct textfmt_opts *o)
{
    if (o->link_header)
        put_link_header(b, p);
    if (p->l3 == L3_NONE) {
        outbuf_puts(b, decode_dlt_name(p->link.dlt) ? decode_dlt_name(p->link.dlt) : "link");
        outbuf_puts(b, ", length ");
        outbuf_u64(b, p->len);
        put_anomalies(b, p->anomalies);
        return;
    }
    if (p->l3 == L3_OTHER) {
        if (!o->link_header) {
            put_ethertype(b, p->link.ethertype);
            outbuf_puts(b, ", length ");
            outbuf_u64(b, p->len);
        } else {
            outbuf_puts(b, ethertype_name(p->link.ethertype));
        }
        put_anomalies(b, p->anomalies);
        return;
    }
    if (o->verbose) {
        outbuf_puts(b, p->l3 == L3_IPV6 ? "IP6" : "IP");
        put_ip_verbose(b, p);
    } else if (p->l3 == L3_IPV6) {
        outbuf_puts(b, "IP6 ");
    } else {
        outbuf_puts(b, "IP ");
    }
    switch (p->l4) {
    case L4_TCP:
        if (p->tcp_valid) {
            put_tcp(b, p, ti, o);
        } else {
            put_endpoints(b, p, 0, 0, 0);
            outbuf_puts(b, ": tcp");
        }
        break;
    case L4_UDP:
        put_endpoints(b, p, 1, p->u.udp.sport, p->u.udp.dport);
        outbuf_puts(b, ": UDP, length ");
        outbuf_u64(b, p->u.udp.payload_len);
        break;
    case L4_ICMP:
    case L4_ICMPV6: {
        int v6 = p->l4 == L4_ICMPV6;
        put_endpoints(b, p, 0, 0, 0);
        outbuf_puts(b, v6 ? ": ICMP6, " : ": ICMP ");
        const char *n = icmp_name(v6, p->u.icmp.type);
        if (n) {
            outbuf_puts(b, n);
        } else {
            outbuf_puts(b, "type ");
            outbuf_u64(b, p->u.icmp.type);
        }
        outbuf_puts(b, ", code ");
        outbuf_u64(b, p->u.icmp.code);
        outbuf_puts(b, ", length ");
        outbuf_u64(b, p->ip.total_len > p->ip.hdr_len ? p->ip.total_len - p->ip.hdr_len : 0);
        break;
    }
    default:
        put_endpoints(b, p, 0, 0, 0);
        outbuf_puts(b, ": ip-proto-");
        outbuf_u64(b, p->ip.proto);
        outbuf_putc(b, ' ');
        outbuf_u64(b, p->ip.total_len > p->ip.hdr_len ? p->ip.total_len - p->ip.hdr_len : 0);
        break;
    }
    if (p->ip.fragment) {
        outbuf_puts(b, " (frag ");
        outbuf_u64(b, p->ip.id);
        outbuf_putc(b, ':');
        outbuf_u64(b, p->ip.total_len > p->ip.hdr_len ? p->ip.total_len - p->ip.hdr_len : 0);
        outbuf_putc(b, '@');
        outbuf_u64(b, p->ip.frag_off);
        if (p->ip.mf)
            outbuf_putc(b, '+');
        outbuf_putc(b, ')');
    }
    put_anomalies(b, p->anomalies);
    put_track(b, ti);
}

/* ---------------------------------------------------------------- connection table */

/* A row is built like snprintf would with the formats below ("%5llu  %-23s ..."), but
 * field by field: text at r->p, padded to a width, cut (like snprintf) at r->end. */
struct row {
    char *p, *end;
};

static void row_fill(struct row *r, size_t n)
{
    size_t room = (size_t)(r->end - r->p);
    if (n > room)
        n = room;
    memset(r->p, ' ', n);
    r->p += n;
}

/* s (n bytes) right-aligned in width ("%5s"), or left-aligned for a negative width
 * ("%-23s"), then the separator sep (0: none). */
static void row_put(struct row *r, const char *s, size_t n, int width, char sep)
{
    size_t w = (size_t)(width < 0 ? -width : width);
    size_t pad = n < w ? w - n : 0;
    if (width > 0)
        row_fill(r, pad);
    size_t room = (size_t)(r->end - r->p);
    memcpy(r->p, s, n < room ? n : room);
    r->p += n < room ? n : room;
    if (width < 0)
        row_fill(r, pad);
    if (sep && r->p < r->end)
        *r->p++ = sep;
}

static void row_str(struct row *r, const char *s, int width, char sep)
{
    row_put(r, s, strlen(s), width, sep);
}

static void row_u64(struct row *r, uint64_t v, int width, char sep)
{
    char t[24];
    row_put(r, t, (size_t)(outbuf_u64_text(t, v) - t), width, sep);
}

/* "addr:port", "[addr]:port" for IPv6. */
static void row_endpoint(struct row *r, int family, const struct tcp_endpoint *e)
{
    char t[INET6_TEXT_MAX + 16], *p = t;
    if (family == 6)
        *p++ = '[';
    p += addr_text(family, e->addr, p, INET6_TEXT_MAX);
    if (family == 6)
        *p++ = ']';
    *p++ = ':';
    p = outbuf_u32_text(p, e->port);
    row_put(r, t, (size_t)(p - t), -23, ' ');
}

/* "max_payload/mss", "-" for an MSS not announced. */
static void row_max_mss(struct row *r, uint32_t max, int has_mss, uint16_t mss, char sep)
{
    char t[24], *p = outbuf_u32_text(t, max);
    *p++ = '/';
    if (has_mss)
        p = outbuf_u32_text(p, mss);
    else
        *p++ = '-';
    row_put(r, t, (size_t)(p - t), 11, sep);
}

/* The handshake RTT in milliseconds as "%.3f" prints ns / 1e6.  Below 2^53 ns the double
 * is within ns * 2^-53 of the exact quotient, too close to cross a rounding boundary
 * unless ns ends in exactly 500: those, and larger values, go to snprintf. */
static void row_rtt(struct row *r, int64_t ns)
{
    char t[40];
    size_t n;
    if (ns >= 0 && ns < ((int64_t)1 << 53) && ns % 1000 != 500) {
        uint64_t us = (uint64_t)ns / 1000 + ((uint64_t)ns % 1000 > 500);
        uint32_t frac = (uint32_t)(us % 1000);
        char *p = outbuf_u64_text(t, us / 1000);
        *p++ = '.';
        *p++ = (char)('0' + frac / 100);
        outbuf_pairs_at(p + 2, frac % 100, 1);
        n = (size_t)(p + 2 - t);
    } else {
        int k = snprintf(t, sizeof t, "%.3f", (double)ns / 1e6);
        n = k < 0 ? 0 : (size_t)k < sizeof t ? (size_t)k : sizeof t - 1;
    }
    row_put(r, t, n, 9, ' ');
}

size_t textfmt_conn_header(char *out, size_t size)
{
    int n = snprintf(out, size, "%5s  %-23s %-23s %9s %10s %10s %11s %11s %-12s %-7s %-12s %-12s %-8s %s\n",
                     "id", "client", "server", "rtt_ms", "bytes_c>s", "bytes_s>c", "max/mss c>s",
                     "max/mss s>c", "close", "closer", "client_state", "server_state",
                     "conn", "history");
    return n < 0 ? 0 : ((size_t)n < size ? (size_t)n : size - 1);
}

size_t textfmt_conn_row(char *out, size_t size, const struct conn *c)
{
    if (size == 0)
        return 0;
    struct row r = {out, out + size - 1};
    const struct tcp_endpoint *ce = &c->ep[ROLE_CLIENT], *se = &c->ep[ROLE_SERVER];
    row_u64(&r, c->id, 5, ' ');
    row_put(&r, " ", 1, 0, 0);
    row_endpoint(&r, c->family, ce);
    row_endpoint(&r, c->family, se);
    if (c->syn_ns && c->synack_ns && c->synack_ns >= c->syn_ns)
        row_rtt(&r, (c->ack_ns && c->ack_ns >= c->synack_ns ? c->ack_ns : c->synack_ns) -
                        c->syn_ns);
    else
        row_put(&r, "-", 1, 9, ' ');
    row_u64(&r, tcp_endpoint_bytes(ce), 10, ' ');
    row_u64(&r, tcp_endpoint_bytes(se), 10, ' ');
    row_max_mss(&r, ce->max_payload, se->has_mss, se->mss, ' ');
    row_max_mss(&r, se->max_payload, ce->has_mss, ce->mss, ' ');
    row_str(&r, close_kind_name((enum close_kind)c->close), -12, ' ');
    const char *closer = conn_active_closer(c);
    row_str(&r, closer ? closer : "-", -7, ' ');
    row_str(&r, tcp_state_name((enum tcp_state)ce->state), -12, ' ');
    row_str(&r, tcp_state_name((enum tcp_state)se->state), -12, ' ');
    row_str(&r, conn_state_zeek(c), -8, ' ');
    row_str(&r, c->history, 0, '\n');
    *r.p = '\0';
    return (size_t)(r.p - out);
}

/* ---------------------------------------------------------------- totals */

void textfmt_totals(struct outbuf *b, const struct run_totals *t)
{
    outbuf_printf(b, "\nTotals: %llu packets (%llu TCP, %llu UDP, %llu ICMP, %llu other IP, %llu "
                     "non-IP), %llu bytes on the wire\n",
                  (unsigned long long)t->packets, (unsigned long long)t->tcp,
                  (unsigned long long)t->udp, (unsigned long long)t->icmp,
                  (unsigned long long)t->other_ip, (unsigned long long)t->non_ip,
                  (unsigned long long)t->bytes);
    const struct tcp_tracker_stats *k = &t->trk;
    outbuf_printf(b, "Connections: %llu tracked (peak %u at once); ended: %llu closed, %llu idle, "
                     "%llu reused, %llu at end of input; evicted: %llu (%llu half-open, %llu "
                     "least recently active)\n",
                  (unsigned long long)k->conns, k->flow.peak, (unsigned long long)k->ended_closed,
                  (unsigned long long)k->ended_idle, (unsigned long long)k->ended_reused,
                  (unsigned long long)k->ended_input, (unsigned long long)k->ended_evicted,
                  (unsigned long long)k->flow.evicted_half_open,
                  (unsigned long long)k->flow.evicted_active);
    if (t->snap_truncated)
        outbuf_printf(b, "Snaplen: %llu packets captured shorter than on the wire\n",
                      (unsigned long long)t->snap_truncated);
    if (t->tcp_cksum_bad || t->tcp_cksum_unverified)
        outbuf_printf(b, "TCP checksums: %llu incorrect, %llu unverified (checksum offload)\n",
                      (unsigned long long)t->tcp_cksum_bad,
                      (unsigned long long)t->tcp_cksum_unverified);
    outbuf_printf(b, "Anomalies: %llu packets with anomalies\n",
                  (unsigned long long)t->with_anomalies);
    for (unsigned i = 0; i < ANOMALY_COUNT; i++)
        if (t->anomalies[i])
            outbuf_printf(b, "  %-26s %llu  %s\n", anomaly_name((enum anomaly)i),
                          (unsigned long long)t->anomalies[i], anomaly_desc((enum anomaly)i));
    if (t->src.live && t->src.have_kernel_stats) {
        outbuf_printf(b, "Capture: %llu packets received by filter, %llu dropped by kernel "
                         "(buffer full), %llu dropped by interface\n",
                      (unsigned long long)t->src.received, (unsigned long long)t->src.dropped,
                      (unsigned long long)t->src.ifdropped);
        if (t->src.dropped + t->src.ifdropped > 0)
            outbuf_puts(b, "Inconclusive: packets were dropped before synack saw them; every "
                           "verdict above that depends on them (states, bytes, close) may be "
                           "wrong. Capture with a larger -B buffer.\n");
    }
}
