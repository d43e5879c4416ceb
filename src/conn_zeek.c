/* conn_zeek.c - Zeek's history letters, endpoint states and conn_state (see conn_zeek.h).
 *
 * Written from the rules in ../shared/ZEEK_CONN_STATE.md, section by section:
 * "How the state is computed" (zeek_update_state, conn_state_zeek) and "history
 * letters" with "How often a letter repeats" (zeek_history_*).
 */
#include "conn_zeek.h"

#include <string.h>

/* ---------------------------------------------------------------- history */

void zeek_history_put(struct conn *c, char letter)
{
    if (c->hist_len >= CONN_HISTORY_MAX) {
        c->history_full = 1;
        return;
    }
    c->history[c->hist_len++] = letter;
    c->history[c->hist_len] = '\0';
}

static char cased(char upper, enum role dir)
{
    return dir == ROLE_CLIENT ? upper : (char)(upper - 'A' + 'a');
}

/* Once-per-direction letters (A, D, I, Q): a seen bit each, responder bits shifted. */
void zeek_history_once(struct conn *c, char upper, unsigned bit, enum role dir)
{
    uint32_t m = (uint32_t)1 << (bit + (dir == ROLE_SERVER ? 16u : 0u));
    if (c->hist_mask & m)
        return;
    c->hist_mask |= m;
    zeek_history_put(c, cased(upper, dir));
}

/* S/H, F, R: the first always; later ones only at a different sequence number. */
enum { SEQ_SYN = 0, SEQ_FIN = 1, SEQ_RST = 2 };
void zeek_history_by_seq(struct conn *c, char upper, int kind, enum role dir, uint32_t seq)
{
    uint32_t m = (uint32_t)1 << (8u + (unsigned)kind + (dir == ROLE_SERVER ? 16u : 0u));
    if ((c->hist_mask & m) && c->hist_last_seq[dir][kind] == seq)
        return;
    c->hist_mask |= m;
    c->hist_last_seq[dir][kind] = seq;
    zeek_history_put(c, cased(upper, dir));
}

/* T, W, G: appended when the count reaches 1, 10, 100, ... ('C' never appears: checksums
 * are not validated here) */
static void scaled(struct conn *c, char upper, int kind, enum role dir)
{
    uint32_t n = ++c->hist_cnt[dir][kind];
    uint32_t threshold = 1;
    for (unsigned i = 0; i < c->hist_exp[dir][kind]; i++)
        threshold *= 10;
    if (n == threshold && c->hist_exp[dir][kind] < 9) {
        c->hist_exp[dir][kind]++;
        zeek_history_put(c, cased(upper, dir));
    }
}

static void zeek_history(struct conn *c, const struct zeek_seg *s)
{
    uint8_t f = s->flags;
    bool syn = f & TCP_SYN, fin = f & TCP_FIN, rst = f & TCP_RST;
    /* A SYN/ACK from the originator that is followed by the other side's ACK or data:
     * Zeek flips the roles and rewrites "H" as "^h".  The tracker already made the
     * SYN/ACK's sender the server, so only the '^' is missing.  Zeek's test is on the
     * history being exactly "H": a retransmitted SYN/ACK (no letter) keeps it pending. */
    if (c->pending_flip) {
        bool only_h = strcmp(c->history, "h") == 0;
        if (only_h && s->dir == ROLE_CLIENT && !syn && !fin && !rst) {
            memmove(c->history + 1, c->history, (size_t)c->hist_len + 1);
            c->history[0] = '^';
            c->hist_len++;
            c->flipped = 1;
            c->pending_flip = 0;
        } else if (c->hist_len > 0 && !only_h) {
            c->pending_flip = 0;
        }
    }
    if (syn + fin + rst >= 2) {
        if (fin && rst)
            zeek_history_once(c, 'I', 0, s->dir);
        else
            zeek_history_once(c, 'Q', 1, s->dir);
    } else if (syn) {
        zeek_history_by_seq(c, (f & TCP_ACK) ? 'H' : 'S', SEQ_SYN, s->dir, s->seq);
    } else if (fin) {
        zeek_history_by_seq(c, 'F', SEQ_FIN, s->dir, s->seq + s->len);
    } else if (rst) {
        zeek_history_by_seq(c, 'R', SEQ_RST, s->dir, s->seq);
    } else if (s->len > 0) {
        zeek_history_once(c, 'D', 2, s->dir);
    } else if (f & TCP_ACK) {
        zeek_history_once(c, 'A', 3, s->dir);
    }
    if (s->retransmit)
        scaled(c, 'T', ZEEK_CNT_T, s->dir);
    const struct tcp_endpoint *me = &c->ep[s->dir], *peer = &c->ep[1 - s->dir];
    if (s->win == 0 && !rst && !peer->fin_seen && me->zstate != ZS_RESET)
        scaled(c, 'W', ZEEK_CNT_W, s->dir);
}

/* Zeek counts a content gap only while both sides are cleanly established or closing
 * (TCP_Reassembler.cc established_or_cleanly_closing). */
static bool clean(const struct tcp_endpoint *e)
{
    return e->zstate == ZS_ESTABLISHED || (e->zstate == ZS_CLOSED && e->zprev == ZS_ESTABLISHED);
}

/* A gap in the peer's data revealed by this segment's ACK: the letter goes to the
 * direction of the data (TCP_Endpoint::Gap), after the state update (AckReceived). */
static void zeek_gap(struct conn *c, const struct zeek_seg *s)
{
    if (s->gap && clean(&c->ep[0]) && clean(&c->ep[1]))
        scaled(c, 'G', ZEEK_CNT_G, (enum role)(1 - s->dir));
}

/* ---------------------------------------------------------------- Zeek endpoint states */

static void zset(struct tcp_endpoint *e, enum zeek_state z)
{
    if (e->zstate == z)
        return;
    e->zprev = e->zstate;
    e->zstate = (uint8_t)z;
}

static void zeek_update_state(struct conn *c, const struct zeek_seg *s)
{
    struct tcp_endpoint *e = &c->ep[s->dir], *peer = &c->ep[1 - s->dir];
    uint8_t f = s->flags;
    bool syn = f & TCP_SYN, fin = f & TCP_FIN, rst = f & TCP_RST, ack = f & TCP_ACK;
    bool orig = s->dir == ROLE_CLIENT;
    switch ((enum zeek_state)e->zstate) {
    case ZS_INACTIVE:
        if (syn && !rst && !fin) {
            if (orig || c->pending_flip) {
                /* the originator; for a SYN/ACK seen first, the side Zeek takes for the
                 * originator until it flips the roles */
                zset(e, ack ? ZS_SYN_ACK_SENT : ZS_SYN_SENT);
            } else {
                /* a responder SYN, with or without ACK (a bare one crosses the
                 * originator's: simultaneous open), establishes both sides */
                zset(e, ZS_ESTABLISHED);
                if (peer->zstate == ZS_SYN_SENT)
                    zset(peer, ZS_ESTABLISHED);
            }
        } else if (rst) {
            zset(e, ZS_RESET);
        } else if (fin) {
            zset(e, ZS_CLOSED);
        } else if (!orig && s->len == 0 && peer->zstate == ZS_SYN_SENT) {
            /* "eccentric" stacks that ACK a SYN before replying: stay inactive */
        } else if (ack && peer->zstate == ZS_ESTABLISHED) {
            zset(e, ZS_ESTABLISHED);
        } else {
            zset(e, ZS_PARTIAL);
        }
        break;
    case ZS_SYN_SENT:
    case ZS_SYN_ACK_SENT:
        if (rst)
            zset(e, ZS_RESET);
        else if (fin)
            zset(e, ZS_CLOSED);
        break;
    case ZS_ESTABLISHED:
    case ZS_PARTIAL:
        if (rst) {
            zset(e, ZS_RESET);
        } else if (fin) {
            zset(e, ZS_CLOSED);
            /* a FIN followed by a RST from the peer counts as a normal close */
            if (peer->zstate == ZS_RESET && peer->zprev == ZS_CLOSED)
                zset(peer, ZS_CLOSED);
        }
        break;
    case ZS_CLOSED:
        if (rst && peer->zstate != ZS_CLOSED)
            zset(e, ZS_RESET);
        break;
    case ZS_RESET:
        break;
    }
}

void zeek_on_segment(struct conn *c, const struct zeek_seg *s)
{
    zeek_history(c, s);
    zeek_update_state(c, s);
    zeek_gap(c, s);
}

/* ---------------------------------------------------------------- conn_state */

bool zeek_history_rstos0(const char *h)
{
    size_t i = 0;
    if (h[i] == '^')
        i++;
    if (h[i] != 'S')
        return false;
    for (i++; h[i]; i++) {
        if (h[i] == 'R')
            return true; /* ".*" matches whatever follows */
        if (strchr("HAFGIQ", h[i]))
            return false;
    }
    return false;
}

static bool inactive(uint8_t z)
{
    return z == ZS_INACTIVE || z == ZS_PARTIAL;
}

const char *conn_state_zeek(const struct conn *c)
{
    const struct tcp_endpoint *o = &c->ep[ROLE_CLIENT], *r = &c->ep[ROLE_SERVER];
    uint8_t os = o->zstate, rs = r->zstate;
    if (rs == ZS_RESET) {
        if (os == ZS_SYN_SENT || os == ZS_SYN_ACK_SENT ||
            (os == ZS_RESET && tcp_endpoint_bytes(o) == 0 && tcp_endpoint_bytes(r) == 0))
            return "REJ";
        return inactive(os) ? "RSTRH" : "RSTR";
    }
    if (os == ZS_RESET) {
        if (inactive(rs))
            return zeek_history_rstos0(c->history) ? "RSTOS0" : "OTH";
        return "RSTO";
    }
    if (os == ZS_CLOSED && rs == ZS_CLOSED)
        return "SF";
    if (os == ZS_CLOSED)
        return inactive(rs) ? "SH" : "S2";
    if (rs == ZS_CLOSED)
        return inactive(os) ? "SHR" : "S3";
    if (os == ZS_SYN_SENT && rs == ZS_INACTIVE)
        return "S0";
    if (os == ZS_ESTABLISHED && rs == ZS_ESTABLISHED)
        return "S1";
    return "OTH";
}
