/* decode.c - decoder entry point: clears the packet view and dispatches on the link type.
 *
 * Pipeline place: source -> [decode_packet -> link -> network -> transport] -> flow table.
 * The layers live in decode_link.c, decode_ip.c and decode_tcp.c; this file holds the
 * table from DLT to link decoder and the one public entry.
 */
#include <stddef.h>
#include <string.h>

#include "decode_internal.h"

struct link_type {
    int dlt;
    const char *name;
    int (*decode)(struct packet *p, struct reader *r);
};

/* Most frequent first: the lookup is a short linear scan. */
static const struct link_type link_types[] = {
    {SYNACK_DLT_EN10MB, "EN10MB", decode_ethernet},
    {SYNACK_DLT_LINUX_SLL, "LINUX_SLL", decode_sll},
    {SYNACK_DLT_LINUX_SLL2, "LINUX_SLL2", decode_sll2},
    {SYNACK_DLT_NULL, "NULL", decode_null},
    {SYNACK_DLT_LOOP, "LOOP", decode_loop},
    {SYNACK_DLT_RAW, "RAW", decode_raw},
    {SYNACK_DLT_RAW_ALT, "RAW", decode_raw},
    {SYNACK_LINKTYPE_RAW, "RAW", decode_raw},
    {SYNACK_DLT_IPV4, "IPV4", decode_ipv4_link},
    {SYNACK_DLT_IPV6, "IPV6", decode_ipv6_link},
};

static const struct link_type *link_type_find(int dlt)
{
    for (size_t i = 0; i < sizeof link_types / sizeof link_types[0]; i++)
        if (link_types[i].dlt == dlt)
            return &link_types[i];
    return NULL;
}

bool decode_dlt_supported(int dlt)
{
    return link_type_find(dlt) != NULL;
}

const char *decode_dlt_name(int dlt)
{
    const struct link_type *lt = link_type_find(dlt);
    return lt ? lt->name : NULL;
}

int decode_packet(struct packet *p, int dlt, const uint8_t *data, uint32_t caplen, uint32_t len)
{
    return decode_packet_ex(p, dlt, data, caplen, len, 0);
}

/* decode_packet_ex: see decode.h.  An unsupported dlt leaves the packet empty (returns
 * 0).  A wire length below caplen (a broken capture record) is taken as caplen. */
int decode_packet_ex(struct packet *p, int dlt, const uint8_t *data, uint32_t caplen,
                     uint32_t len, unsigned flags)
{
    static const uint8_t no_bytes[1];
    uint64_t n = p->n;
    int64_t ts_ns = p->ts_ns;

    memset(p, 0, sizeof *p);
    p->n = n;
    p->ts_ns = ts_ns;
    p->caplen = caplen;
    p->len = len;
    p->link.dlt = dlt;
    p->no_cksum = (flags & DECODE_NO_CHECKSUMS) != 0;

    const struct link_type *lt = link_type_find(dlt);
    if (!lt)
        return 0;
    if (!data) {
        data = no_bytes;
        caplen = 0;
    }
    uint32_t wire = len < caplen ? caplen : len;

    struct reader r = rd_make(data, caplen);
    if (lt->decode(p, &r) < 0)
        return 0;
    p->link.hdr_len = r.off;
    return decode_network(p, rd_sub(&r, caplen), wire - r.off);
}
