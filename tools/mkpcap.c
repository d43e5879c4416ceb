/* mkpcap.c - deterministic synthetic TCP capture generator for synack's tests and benchmarks.
 *
 * Pipeline place: none; it produces the input of the pipeline. It writes a classic pcap
 * file (magic 0xa1b2c3d4: microsecond timestamps, chosen because every reader, tcptrace
 * included, understands it; little-endian; LINKTYPE_ETHERNET; snaplen 262144) of IPv4 TCP
 * traffic whose every packet is internally consistent: IPv4 total lengths and header
 * checksums, TCP checksums, sequence and acknowledgment numbers, TCP timestamps.
 *
 * It is deliberately independent of synack's own code (its own checksum, its own packet
 * builder), so that it can serve as an oracle for synack.
 *
 * Modes:
 *   normal    -c connections open at once, interleaved at random; each one is a refused
 *             SYN (RST/ACK answer), or a handshake with options, 1 to 6 rounds of data
 *             (request/response with full-MSS bursts, or uploads), acknowledged every
 *             second segment, then a FIN close from either side or a RST from either side.
 *   synflood  -n SYNs from random addresses and ports to one server, never answered;
 *             --with-real embeds one complete connection in the middle.
 *   collide   connections from one client address to one server port whose client ports
 *             are sequential: tuples differing only in the low bits of one field.
 *
 * The output depends only on the options (same options, same bytes). In normal and collide
 * modes without --complete the run for -n N is a prefix of the run for any larger -n.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ constants */

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_SNAPLEN 262144u
#define LINKTYPE_ETHERNET 1u

#define ETH_HLEN 14u
#define IP_HLEN 20u
#define TCP_HLEN 20u
#define OPT_SYN_LEN 20u /* mss 4, sackOK 2, TS 10, nop 1, wscale 3 (Linux's order) */
#define OPT_TS_LEN 12u  /* nop, nop, TS 10 */
#define MSS 1460u
#define FULL_PAYLOAD 1448u /* MSS minus the 12 bytes of timestamp option */
#define WSCALE 7u

#define TH_FIN 0x01u
#define TH_SYN 0x02u
#define TH_RST 0x04u
#define TH_PSH 0x08u
#define TH_ACK 0x10u

#define START_SEC 1704067200u /* 2024-01-01T00:00:00Z */
/* Bumped whenever the same options would give other bytes (tools/bench keys its cached
 * captures on it). */
#define MKPCAP_FORMAT_VERSION "1"
#define OUTBUF_SIZE (4u << 20)
#define MAX_RECORD (16u + ETH_HLEN + IP_HLEN + TCP_HLEN + OPT_SYN_LEN + FULL_PAYLOAD)

/* ------------------------------------------------------------------ random numbers */

/* splitmix64: a 64-bit counter passed through a mixing function; small, fast, seedable. */
struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A number in [0, n), n >= 1 (multiply-shift: no division, bias below 2^-32). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

static uint32_t rng_u32(struct rng *r)
{
    return (uint32_t)(rng_next(r) >> 32);
}

/* ------------------------------------------------------------------ output */

struct out {
    int fd;
    const char *name;
    uint8_t *buf;
    size_t len;
    uint64_t bytes; /* written in total */
};

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "mkpcap: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

/* Write all buffered bytes; exits with a message naming the file on error. */
static void out_flush(struct out *o)
{
    size_t off = 0;
    while (off < o->len) {
        ssize_t n = write(o->fd, o->buf + off, o->len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "mkpcap: write %s: %s\n", o->name, strerror(errno));
            exit(2);
        }
        off += (size_t)n;
    }
    o->bytes += o->len;
    o->len = 0;
}

/* Room for at least n more bytes in the buffer; returns where they go. */
static uint8_t *out_reserve(struct out *o, size_t n)
{
    if (o->len + n > OUTBUF_SIZE)
        out_flush(o);
    return o->buf + o->len;
}

static void put16be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void out_file_header(struct out *o)
{
    uint8_t *p = out_reserve(o, 24);
    put32le(p, PCAP_MAGIC_US);
    p[4] = 2; /* version 2.4, little-endian */
    p[5] = 0;
    p[6] = 4;
    p[7] = 0;
    put32le(p + 8, 0);  /* thiszone */
    put32le(p + 12, 0); /* sigfigs */
    put32le(p + 16, PCAP_SNAPLEN);
    put32le(p + 20, LINKTYPE_ETHERNET);
    o->len += 24;
}

/* ------------------------------------------------------------------ checksums */

/* The payload every segment carries: a printable pattern, and the ones' complement sums
 * (unfolded, big-endian 16-bit words, an odd last byte padded) of each of its prefixes, so
 * a segment's checksum costs its header words only. */
static uint8_t g_payload[FULL_PAYLOAD];
static uint32_t g_payload_sum[FULL_PAYLOAD + 1];

static void payload_init(void)
{
    static const char text[] = "synack mkpcap synthetic payload 0123456789 abcdefghijklmnopqrstuvwxyz\n";
    uint32_t acc = 0;
    for (uint32_t i = 0; i < FULL_PAYLOAD; i++)
        g_payload[i] = (uint8_t)text[i % (sizeof text - 1)];
    g_payload_sum[0] = 0;
    for (uint32_t i = 0; i < FULL_PAYLOAD; i++) {
        acc += (i & 1) ? g_payload[i] : (uint32_t)g_payload[i] << 8;
        g_payload_sum[i + 1] = acc;
    }
}

/* Sum of big-endian 16-bit words of an even-length buffer, added to acc (unfolded). */
static uint32_t sum_words(const uint8_t *p, uint32_t len, uint32_t acc)
{
    for (uint32_t i = 0; i < len; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    return acc;
}

/* Fold an unfolded sum to 16 bits and complement it: the checksum field's value. */
static uint16_t fold_complement(uint32_t acc)
{
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    return (uint16_t)~acc;
}

/* ------------------------------------------------------------------ connections */

struct endpoint {
    uint32_t addr;      /* IPv4 address, host order */
    uint16_t port;
    uint16_t ip_id;     /* next IP identification */
    uint32_t nxt;       /* next sequence number to send */
    uint32_t ts_base;   /* TSval = ts_base + capture time in ms */
    uint32_t ts_recent; /* last TSval received from the peer: the TSecr we send */
    uint16_t win;       /* window field after the handshake (scaled by 2^WSCALE) */
    uint16_t syn_win;   /* window field on the SYN or SYN/ACK */
};

enum phase {
    PH_SYN,
    PH_REFUSE,
    PH_SYNACK,
    PH_HS_ACK,
    PH_DATA,
    PH_DATA_ACK,
    PH_FIN1,
    PH_FIN1_ACK,
    PH_FIN2,
    PH_FIN2_ACK,
    PH_RST,
    PH_DONE
};

/* Shares of connection fates and sizes of data rounds (per mille / counts). */
struct profile {
    uint32_t refused_pm;  /* refused SYNs */
    uint32_t rst_pm;      /* closed by RST (half from each side) */
    uint32_t fin_srv_pm;  /* of FIN closes, those the server starts */
    uint32_t max_rounds;  /* 1..max_rounds data rounds */
    uint32_t upload_pm;   /* rounds that are client uploads rather than request/response */
    uint32_t burst_pm;    /* responses that are full-MSS bursts rather than one segment */
    uint32_t max_burst;   /* full segments in a burst: 1..max_burst, plus the tail */
};

static const struct profile profile_normal = {50, 100, 400, 5, 250, 500, 30};
static const struct profile profile_collide = {0, 0, 0, 1, 0, 0, 1};

/* How a connection ends; also the index of the counters in struct gen. */
enum fate { FATE_FIN_CLIENT, FATE_FIN_SERVER, FATE_RST_CLIENT, FATE_RST_SERVER, FATE_REFUSED, FATE_COUNT };

static const char *const fate_names[FATE_COUNT] = {"fin_client", "fin_server", "rst_client",
                                                   "rst_server", "refused"};

/* One connection's script and where it is in it. ep[0] is the client, ep[1] the server. */
struct conn {
    struct endpoint ep[2];
    const struct profile *prof; /* sizes of its data rounds */
    uint8_t phase;
    uint8_t fate;
    uint8_t rounds_left; /* data rounds still to start */
    uint8_t sender;      /* sender of the current burst (0 client, 1 server) */
    uint8_t piggyback;   /* the burst is a request: the peer answers with data, no pure ACK */
    uint8_t unacked;     /* segments of the burst not yet acknowledged */
    uint16_t segs_left;  /* segments of the burst still to send */
    uint16_t tail;       /* payload of the burst's last segment */
    uint16_t resp_segs;  /* response to the current request: segments */
    uint16_t resp_tail;  /* and its last segment's payload */
    uint8_t closer;      /* sender of the first FIN or the RST */
};

/* A segment about to be written. */
struct seg {
    uint8_t from; /* 0 client, 1 server */
    uint8_t flags;
    uint8_t optlen; /* 0, OPT_TS_LEN or OPT_SYN_LEN */
    uint16_t len;   /* payload */
    uint16_t win;
    uint32_t seq, ack;
};

enum mode { MODE_NORMAL, MODE_SYNFLOOD, MODE_COLLIDE };

struct gen {
    struct rng rng;
    struct out out;
    enum mode mode;
    const struct profile *prof;
    uint64_t now_us;     /* capture clock, microseconds since START_SEC */
    uint64_t packets;    /* written */
    uint64_t next_conn;  /* index of the next connection to set up (its addresses) */
    uint64_t conns;      /* connections with at least one packet written */
    uint64_t ended[FATE_COUNT];
};

static uint32_t ip4(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return a << 24 | b << 16 | c << 8 | d;
}

/* Fill the parts of an endpoint that do not depend on its role. */
static void endpoint_init(struct gen *g, struct endpoint *e, uint32_t addr, uint16_t port, uint16_t syn_win,
                          uint16_t win)
{
    e->addr = addr;
    e->port = port;
    e->ip_id = (uint16_t)rng_u32(&g->rng);
    e->nxt = rng_u32(&g->rng);
    e->ts_base = rng_u32(&g->rng);
    e->ts_recent = 0;
    e->syn_win = syn_win;
    e->win = win;
}

/* The client and server addresses of the idx-th connection of the capture: distinct
 * tuples for every idx below 2^22 * 28232 (normal) or 2^24 * 64512 (collide). */
static void conn_tuple(const struct gen *g, uint64_t idx, uint32_t *caddr, uint16_t *cport, uint32_t *saddr,
                       uint16_t *sport, uint32_t pick)
{
    static const uint16_t service_ports[4] = {80, 443, 8080, 5432};
    if (g->mode == MODE_COLLIDE) {
        /* One client, one server, sequential client ports: the low bits differ. */
        *caddr = ip4(10, 1, 0, 1) + (uint32_t)(idx / 64512);
        *cport = (uint16_t)(1024 + idx % 64512);
        *saddr = ip4(192, 0, 2, 80);
        *sport = 80;
        return;
    }
    /* 16384 client hosts each using its ephemeral ports in turn (Linux's range). */
    uint64_t host = idx % 16384, round = idx / 16384;
    *caddr = ip4(10, 64, 0, 0) + (uint32_t)(host + (round / 28232) * 16384) % (1u << 22);
    *cport = (uint16_t)(32768 + round % 28232);
    *saddr = ip4(192, 0, 2, 10 + pick % 4);
    *sport = service_ports[pick % 4];
}

/* Start the next data round, or the close when there is none left. */
static void conn_next_round(struct gen *g, struct conn *c)
{
    const struct profile *p = c->prof;
    if (c->rounds_left == 0) {
        switch (c->fate) {
        case FATE_FIN_CLIENT: c->closer = 0; c->phase = PH_FIN1; break;
        case FATE_FIN_SERVER: c->closer = 1; c->phase = PH_FIN1; break;
        case FATE_RST_CLIENT: c->closer = 0; c->phase = PH_RST; break;
        default: c->closer = 1; c->phase = PH_RST; break;
        }
        return;
    }
    c->rounds_left--;
    c->phase = PH_DATA;
    c->unacked = 0;
    c->sender = 0;
    if (rng_below(&g->rng, 1000) < p->upload_pm) {
        /* Upload: the client sends a burst, the server acknowledges. */
        c->piggyback = 0;
        c->segs_left = (uint16_t)(2 + rng_below(&g->rng, p->max_burst));
        c->tail = (uint16_t)(1 + rng_below(&g->rng, FULL_PAYLOAD));
        return;
    }
    /* Request/response: a small request, answered by one segment or a burst. */
    c->piggyback = 1;
    c->segs_left = 1;
    c->tail = (uint16_t)(40 + rng_below(&g->rng, 560));
    if (rng_below(&g->rng, 1000) < p->burst_pm) {
        c->resp_segs = (uint16_t)(2 + rng_below(&g->rng, p->max_burst));
        c->resp_tail = (uint16_t)(1 + rng_below(&g->rng, FULL_PAYLOAD));
    } else {
        c->resp_segs = 1;
        c->resp_tail = (uint16_t)(1 + rng_below(&g->rng, 1000));
    }
}

/* A new connection: the idx-th of the capture, with its fate and size drawn now. */
static void conn_start(struct gen *g, struct conn *c)
{
    const struct profile *p = g->prof;
    uint32_t caddr, saddr;
    uint16_t cport, sport;
    uint32_t r = rng_below(&g->rng, 1000);

    conn_tuple(g, g->next_conn++, &caddr, &cport, &saddr, &sport, rng_u32(&g->rng));
    memset(c, 0, sizeof *c);
    c->prof = p;
    endpoint_init(g, &c->ep[0], caddr, cport, 64240, 502);
    endpoint_init(g, &c->ep[1], saddr, sport, 65160, 509);
    if (r < p->refused_pm)
        c->fate = FATE_REFUSED;
    else if (r < p->refused_pm + p->rst_pm)
        c->fate = (r & 1) ? FATE_RST_SERVER : FATE_RST_CLIENT;
    else
        c->fate = rng_below(&g->rng, 1000) < p->fin_srv_pm ? FATE_FIN_SERVER : FATE_FIN_CLIENT;
    c->rounds_left = (uint8_t)(1 + rng_below(&g->rng, p->max_rounds));
    c->phase = PH_SYN;
}

/* Advance a connection by one segment, described in *s. After it, c->phase is PH_DONE
 * when the connection has nothing more to send. */
static void conn_step(struct gen *g, struct conn *c, struct seg *s)
{
    uint8_t peer;
    int refusal = 0;
    s->flags = TH_ACK;
    s->optlen = OPT_TS_LEN;
    s->len = 0;
    switch (c->phase) {
    case PH_SYN:
        g->conns++;
        s->from = 0;
        s->flags = TH_SYN;
        s->optlen = OPT_SYN_LEN;
        c->phase = c->fate == FATE_REFUSED ? PH_REFUSE : PH_SYNACK;
        break;
    case PH_REFUSE:
        s->from = 1;
        s->flags = TH_RST | TH_ACK;
        s->optlen = 0;
        refusal = 1;
        c->phase = PH_DONE;
        break;
    case PH_SYNACK:
        s->from = 1;
        s->flags = TH_SYN | TH_ACK;
        s->optlen = OPT_SYN_LEN;
        c->phase = PH_HS_ACK;
        break;
    case PH_HS_ACK:
        s->from = 0;
        conn_next_round(g, c);
        break;
    case PH_DATA:
        s->from = c->sender;
        if (c->segs_left == 1) {
            s->len = c->tail;
            s->flags |= TH_PSH;
        } else {
            s->len = FULL_PAYLOAD;
        }
        c->segs_left--;
        c->unacked++;
        if (c->segs_left == 0 && c->piggyback) {
            /* The response acknowledges the request. */
            c->sender = 1;
            c->piggyback = 0;
            c->unacked = 0;
            c->segs_left = c->resp_segs;
            c->tail = c->resp_tail;
        } else if (c->segs_left == 0 || c->unacked == 2) {
            c->phase = PH_DATA_ACK;
        }
        break;
    case PH_DATA_ACK:
        s->from = (uint8_t)(1 - c->sender);
        c->unacked = 0;
        if (c->segs_left)
            c->phase = PH_DATA;
        else
            conn_next_round(g, c);
        break;
    case PH_FIN1:
        s->from = c->closer;
        s->flags |= TH_FIN;
        c->phase = PH_FIN1_ACK;
        break;
    case PH_FIN1_ACK:
        s->from = (uint8_t)(1 - c->closer);
        c->phase = PH_FIN2;
        break;
    case PH_FIN2:
        s->from = (uint8_t)(1 - c->closer);
        s->flags |= TH_FIN;
        c->phase = PH_FIN2_ACK;
        break;
    case PH_FIN2_ACK:
        s->from = c->closer;
        c->phase = PH_DONE;
        break;
    case PH_RST:
        s->from = c->closer;
        s->flags = TH_RST | TH_ACK;
        s->optlen = 0;
        c->phase = PH_DONE;
        break;
    default:
        die("internal error: step of a finished connection", NULL);
    }

    peer = (uint8_t)(1 - s->from);
    s->seq = c->ep[s->from].nxt;
    if (s->flags == TH_SYN) {
        s->ack = 0;
    } else if (refusal) {
        s->seq = 0; /* RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
        s->ack = c->ep[peer].nxt;
    } else {
        s->ack = c->ep[peer].nxt;
    }
    if (s->flags & TH_SYN)
        s->win = c->ep[s->from].syn_win;
    else if (s->flags & TH_RST)
        s->win = 0;
    else
        s->win = c->ep[s->from].win;
    c->ep[s->from].nxt += s->len + ((s->flags & (TH_SYN | TH_FIN)) ? 1u : 0u);
}

/* ------------------------------------------------------------------ packet writer */

static void put_mac(uint8_t *p, uint32_t addr)
{
    p[0] = 0x02; /* locally administered, unicast */
    p[1] = 0x00;
    put32be(p + 2, addr);
}

/* Write one Ethernet/IPv4/TCP frame with its pcap record header; advances the clock.
 * src and dst are the sending and receiving endpoints; the TCP timestamp option (when
 * present) carries src's clock and its last TSval seen from dst, which is updated. */
static void write_segment(struct gen *g, struct endpoint *src, struct endpoint *dst, const struct seg *s)
{
    uint32_t tcp_hlen = TCP_HLEN + s->optlen;
    uint32_t ip_len = IP_HLEN + tcp_hlen + s->len;
    uint32_t frame = ETH_HLEN + ip_len;
    uint8_t *rec = out_reserve(&g->out, 16 + frame);
    uint8_t *eth = rec + 16, *ip = eth + ETH_HLEN, *tcp = ip + IP_HLEN, *opt = tcp + TCP_HLEN;
    uint32_t tsval = src->ts_base + (uint32_t)(g->now_us / 1000);
    uint32_t acc;

    put32le(rec, START_SEC + (uint32_t)(g->now_us / 1000000));
    put32le(rec + 4, (uint32_t)(g->now_us % 1000000));
    put32le(rec + 8, frame);
    put32le(rec + 12, frame);

    put_mac(eth, dst->addr);
    put_mac(eth + 6, src->addr);
    put16be(eth + 12, 0x0800);

    ip[0] = 0x45;
    ip[1] = 0;
    put16be(ip + 2, ip_len);
    put16be(ip + 4, src->ip_id++);
    put16be(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 6;
    put16be(ip + 10, 0);
    put32be(ip + 12, src->addr);
    put32be(ip + 16, dst->addr);
    put16be(ip + 10, fold_complement(sum_words(ip, IP_HLEN, 0)));

    put16be(tcp, src->port);
    put16be(tcp + 2, dst->port);
    put32be(tcp + 4, s->seq);
    put32be(tcp + 8, s->ack);
    tcp[12] = (uint8_t)(tcp_hlen / 4 << 4);
    tcp[13] = s->flags;
    put16be(tcp + 14, s->win);
    put16be(tcp + 16, 0);
    put16be(tcp + 18, 0);
    if (s->optlen == OPT_SYN_LEN) {
        opt[0] = 2; opt[1] = 4; put16be(opt + 2, MSS);
        opt[4] = 4; opt[5] = 2;
        opt[6] = 8; opt[7] = 10; put32be(opt + 8, tsval); put32be(opt + 12, src->ts_recent);
        opt[16] = 1;
        opt[17] = 3; opt[18] = 3; opt[19] = WSCALE;
    } else if (s->optlen == OPT_TS_LEN) {
        opt[0] = 1; opt[1] = 1;
        opt[2] = 8; opt[3] = 10; put32be(opt + 4, tsval); put32be(opt + 8, src->ts_recent);
    }
    if (s->optlen)
        dst->ts_recent = tsval;
    memcpy(tcp + tcp_hlen, g_payload, s->len);

    /* Pseudo-header (addresses, protocol, TCP length), header and options, payload. */
    acc = (src->addr >> 16) + (src->addr & 0xffff) + (dst->addr >> 16) + (dst->addr & 0xffff) + 6 +
          tcp_hlen + s->len;
    acc = sum_words(tcp, tcp_hlen, acc) + g_payload_sum[s->len];
    put16be(tcp + 16, fold_complement(acc));

    g->out.len += 16 + frame;
    g->packets++;
    g->now_us += 1 + rng_below(&g->rng, 10);
}

static void step_and_write(struct gen *g, struct conn *c)
{
    struct seg s;
    conn_step(g, c, &s);
    write_segment(g, &c->ep[s.from], &c->ep[1 - s.from], &s);
}

/* ------------------------------------------------------------------ modes */

/* normal and collide: `concurrent` connections interleaved at random until `packets`
 * packets are written; with `complete`, the open ones are then finished (no new ones). */
static void run_connections(struct gen *g, uint64_t packets, uint32_t concurrent, int complete)
{
    struct conn *slots = calloc(concurrent, sizeof *slots);
    uint32_t active = 0;
    if (!slots)
        die("out of memory", NULL);
    while (g->packets < packets) {
        while (active < concurrent)
            conn_start(g, &slots[active++]);
        uint32_t i = rng_below(&g->rng, active);
        step_and_write(g, &slots[i]);
        if (slots[i].phase == PH_DONE) {
            g->ended[slots[i].fate]++;
            slots[i] = slots[--active];
        }
    }
    if (complete) {
        while (active > 0) {
            uint32_t i = rng_below(&g->rng, active);
            step_and_write(g, &slots[i]);
            if (slots[i].phase == PH_DONE) {
                g->ended[slots[i].fate]++;
                slots[i] = slots[--active];
            }
        }
    }
    free(slots);
}

/* A random unicast source address outside 10/8, 127/8 and 198.51.100/24 (the real
 * connection's network). */
static uint32_t flood_addr(struct rng *r)
{
    for (;;) {
        uint32_t a = ip4(1 + rng_below(r, 223), 0, 0, 0) | (rng_u32(r) & 0xffffffu);
        uint32_t top = a >> 24;
        if (top != 10 && top != 127 && (a >> 8) != (ip4(198, 51, 100, 0) >> 8))
            return a;
    }
}

/* synflood: `syns` SYNs to 192.0.2.1:80, never answered; with `with_real`, a complete
 * connection from 198.51.100.7:40000 is interleaved from the middle on (one of its
 * packets every 8 SYNs). */
static void run_synflood(struct gen *g, uint64_t syns, int with_real)
{
    static const struct profile real_profile = {0, 0, 0, 2, 0, 1000, 4};
    struct endpoint server, client;
    struct conn real;
    int real_live = 0;
    uint32_t server_addr = ip4(192, 0, 2, 1);

    endpoint_init(g, &server, server_addr, 80, 65160, 509);
    if (with_real) {
        memset(&real, 0, sizeof real);
        real.prof = &real_profile;
        endpoint_init(g, &real.ep[0], ip4(198, 51, 100, 7), 40000, 64240, 502);
        endpoint_init(g, &real.ep[1], server_addr, 80, 65160, 509);
        real.fate = FATE_FIN_CLIENT;
        real.rounds_left = 2;
        real.phase = PH_SYN;
    }
    for (uint64_t i = 0; i < syns || real_live; i++) {
        if (with_real && i == syns / 2)
            real_live = 1;
        if (real_live && (i % 8 == 0 || i >= syns)) {
            step_and_write(g, &real);
            if (real.phase == PH_DONE) {
                g->ended[real.fate]++;
                real_live = 0;
            }
        }
        if (i < syns) {
            struct seg s = {0, TH_SYN, OPT_SYN_LEN, 0, 64240, rng_u32(&g->rng), 0};
            endpoint_init(g, &client, flood_addr(&g->rng), (uint16_t)(1024 + rng_below(&g->rng, 64512)), 64240,
                          502);
            s.seq = client.nxt;
            write_segment(g, &client, &server, &s);
            g->conns++;
        }
    }
}

/* ------------------------------------------------------------------ command line */

static void usage(FILE *f)
{
    fputs("usage: mkpcap [-n PACKETS] [-c CONCURRENT] [--seed S] [--mode normal|synflood|collide]\n"
          "              [--complete] [--with-real] [-q] [-o FILE|-] [--version]\n"
          "\n"
          "Write a deterministic synthetic TCP capture (classic pcap, Ethernet, microsecond\n"
          "timestamps) to FILE or, with -o -, to standard output.\n"
          "\n"
          "  -n PACKETS       packets to write (synflood: SYNs; default 10000)\n"
          "  -c CONCURRENT    connections open at once (normal, collide; default 1000)\n"
          "  --seed S         random seed (default 1): same options, same bytes\n"
          "  --mode M         normal (default): handshakes, data, FIN/RST closes, refusals;\n"
          "                   synflood: unanswered SYNs from random sources to one server;\n"
          "                   collide: one client address, sequential ports, one server\n"
          "  --complete       after PACKETS, finish the open connections (start no new ones)\n"
          "  --with-real      synflood: embed one complete connection in the middle\n"
          "  -q               no summary line on standard error\n"
          "  -o FILE          output file; - is standard output (default)\n"
          "  --version        the output format's version (changes when the bytes would)\n"
          "\n"
          "The summary on standard error reads: packets=N bytes=N conns=N fin_client=N\n"
          "fin_server=N rst_client=N rst_server=N refused=N open=N (synflood: the SYNs are\n"
          "counted in conns and open).\n",
          f);
}

static uint64_t parse_u64(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        die("bad number for option", opt);
    return (uint64_t)v;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},     {"mode", required_argument, NULL, 'm'},
        {"complete", no_argument, NULL, 'C'},       {"with-real", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct gen g;
    uint64_t packets = 10000, concurrent = 1000, seed = 1;
    const char *path = "-";
    int complete = 0, with_real = 0, quiet = 0, ch;

    memset(&g, 0, sizeof g);
    g.mode = MODE_NORMAL;
    while ((ch = getopt_long(argc, argv, "n:c:o:qh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'n': packets = parse_u64(optarg, "-n"); break;
        case 'c': concurrent = parse_u64(optarg, "-c"); break;
        case 'o': path = optarg; break;
        case 'q': quiet = 1; break;
        case 's': seed = parse_u64(optarg, "--seed"); break;
        case 'C': complete = 1; break;
        case 'R': with_real = 1; break;
        case 'm':
            if (strcmp(optarg, "normal") == 0)
                g.mode = MODE_NORMAL;
            else if (strcmp(optarg, "synflood") == 0)
                g.mode = MODE_SYNFLOOD;
            else if (strcmp(optarg, "collide") == 0)
                g.mode = MODE_COLLIDE;
            else
                die("unknown --mode (normal, synflood, collide)", optarg);
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("mkpcap %s\n", MKPCAP_FORMAT_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc)
        die("unexpected argument", argv[optind]);
    if (concurrent < 1 || concurrent > 10000000)
        die("-c must be between 1 and 10000000", NULL);
    if (with_real && g.mode != MODE_SYNFLOOD)
        die("--with-real needs --mode synflood", NULL);

    if (strcmp(path, "-") == 0) {
        if (isatty(STDOUT_FILENO))
            die("refusing to write a capture to a terminal (use -o FILE or a pipe)", NULL);
        g.out.fd = STDOUT_FILENO;
        g.out.name = "standard output";
    } else {
        g.out.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (g.out.fd < 0) {
            fprintf(stderr, "mkpcap: %s: %s\n", path, strerror(errno));
            return 2;
        }
        g.out.name = path;
    }
    g.out.buf = malloc(OUTBUF_SIZE);
    if (!g.out.buf)
        die("out of memory", NULL);
    /* Mix the seed so that seeds 1, 2, 3 give unrelated streams. */
    g.rng.state = seed * 0xd1342543de82ef95u + 0x2545f4914f6cdd1du;
    (void)rng_next(&g.rng);
    payload_init();
    g.prof = g.mode == MODE_COLLIDE ? &profile_collide : &profile_normal;

    out_file_header(&g.out);
    if (g.mode == MODE_SYNFLOOD)
        run_synflood(&g, packets, with_real);
    else
        run_connections(&g, packets, (uint32_t)concurrent, complete);
    out_flush(&g.out);
    if (g.out.fd != STDOUT_FILENO && close(g.out.fd) != 0) {
        fprintf(stderr, "mkpcap: close %s: %s\n", path, strerror(errno));
        return 2;
    }
    free(g.out.buf);

    if (!quiet) {
        uint64_t ended = 0;
        for (int f = 0; f < FATE_COUNT; f++)
            ended += g.ended[f];
        fprintf(stderr, "mkpcap: packets=%" PRIu64 " bytes=%" PRIu64 " conns=%" PRIu64, g.packets, g.out.bytes,
                g.conns);
        for (int f = 0; f < FATE_COUNT; f++)
            fprintf(stderr, " %s=%" PRIu64, fate_names[f], g.ended[f]);
        fprintf(stderr, " open=%" PRIu64 "\n", g.conns - ended);
    }
    return 0;
}
