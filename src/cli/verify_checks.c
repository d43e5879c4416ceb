/* verify_checks.c - one function per verify check: from the observer's per-connection
 * facts (and the stream store's bytes) to PASS, FAIL or INCONCLUSIVE, a one-line reason
 * and the frame numbers that prove it.
 *
 * Pipeline place: verify observer -> [checks] -> verify_report.c.
 * Which connections a check looks at: in a live run, those of the scenario made for it
 * (connection id ranges recorded by verify_run.c); reading a file (-r), every
 * connection to the server.  Per connection a check finds ok / fail / unknown; the
 * check FAILs when one connection fails, PASSes when at least one is ok, and is
 * INCONCLUSIVE when none could be judged.  A FAIL that rests on something not being
 * seen (no FIN, no answer) becomes INCONCLUSIVE when the connection has bytes the
 * capture missed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "outbuf.h"
#include "verify.h"

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define LEAK_WAIT_LIVE_NS (400 * NS_PER_MS) /* CLOSE_WAIT this long after the FIN: a leak */
#define LEAK_WAIT_FILE_NS (1 * NS_PER_S)
#define SLOW_ANSWER_NS (250 * NS_PER_MS) /* an answer this late may be waiting for another */

/* ---------------------------------------------------------------- names */

static const char *const check_names[] = {
#define VERIFY_CHECK_NAME(id, name, what) name,
    VERIFY_CHECKS(VERIFY_CHECK_NAME)
#undef VERIFY_CHECK_NAME
};
static const char *const check_whats[] = {
#define VERIFY_CHECK_WHAT(id, name, what) what,
    VERIFY_CHECKS(VERIFY_CHECK_WHAT)
#undef VERIFY_CHECK_WHAT
};

const char *vcheck_name(enum vcheck k)
{
    return (unsigned)k < CHK_COUNT ? check_names[k] : "?";
}

const char *vcheck_what(enum vcheck k)
{
    return (unsigned)k < CHK_COUNT ? check_whats[k] : "?";
}

int vcheck_find(const char *name)
{
    for (int i = 0; i < CHK_COUNT; i++)
        if (strcmp(name, check_names[i]) == 0)
            return i;
    return -1;
}

const char *vresult_name(enum vresult r)
{
    return r == V_PASS ? "PASS" : r == V_FAIL ? "FAIL" : "INCONCLUSIVE";
}

/* ---------------------------------------------------------------- verdicts */

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void add_frames(struct verdict *v, const uint64_t *fr, unsigned n)
{
    for (unsigned i = 0; i < n && v->n_frames < VERDICT_MAX_FRAMES; i++) {
        if (!fr[i])
            continue;
        bool dup = false;
        for (unsigned j = 0; j < v->n_frames; j++)
            dup |= v->frames[j] == fr[i];
        if (!dup)
            v->frames[v->n_frames++] = fr[i];
    }
    qsort(v->frames, v->n_frames, sizeof v->frames[0], u64_cmp);
}

static void setv(struct verdict *v, enum vresult r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void setv(struct verdict *v, enum vresult r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof v->reason, fmt, ap);
    va_end(ap);
    v->result = r;
    v->judged = true;
}

#define FRAMES(v, ...)                                                                             \
    do {                                                                                           \
        const uint64_t fr_[] = {__VA_ARGS__};                                                      \
        add_frames((v), fr_, (unsigned)(sizeof fr_ / sizeof fr_[0]));                              \
    } while (0)

/* Per-connection outcome while a check walks its connections. */
struct agg {
    unsigned ok, fail, unknown, unreliable;
    struct verdict first_fail, first_unknown, first_ok, first_unreliable;
};

static void agg_add(struct agg *a, const struct verdict *v)
{
    if (v->result == V_FAIL) {
        if (!a->fail++)
            a->first_fail = *v;
    } else if (v->result == V_INCONCLUSIVE && v->unreliable) {
        if (!a->unreliable++)
            a->first_unreliable = *v;
    } else if (v->result == V_INCONCLUSIVE) {
        if (!a->unknown++)
            a->first_unknown = *v;
    } else if (!a->ok++) {
        a->first_ok = *v;
    }
}

/* The check's verdict from its connections' (see the file comment): FAIL when one
 * failed; INCONCLUSIVE when the capture missed evidence of one; PASS when one passed
 * (the others had nothing to judge); else INCONCLUSIVE. */
static void agg_done(const struct agg *a, struct verdict *out, const char *none_reason)
{
    if (!a->fail && a->unreliable) {
        *out = a->first_unreliable;
        if (a->ok) {
            size_t n = strlen(out->reason);
            snprintf(out->reason + n, sizeof out->reason - n, " (%u other connection%s passed)",
                     a->ok, a->ok > 1 ? "s" : "");
        }
    } else if (a->fail) {
        *out = a->first_fail;
        if (a->fail > 1) {
            size_t n = strlen(out->reason);
            snprintf(out->reason + n, sizeof out->reason - n, " (and %u more connection%s)",
                     a->fail - 1, a->fail > 2 ? "s" : "");
        }
    } else if (a->ok) {
        *out = a->first_ok;
        if (a->unknown) {
            size_t n = strlen(out->reason);
            snprintf(out->reason + n, sizeof out->reason - n,
                     "; %u other connection%s could not be judged", a->unknown,
                     a->unknown > 1 ? "s" : "");
        }
    } else if (a->unknown) {
        *out = a->first_unknown;
    } else {
        setv(out, V_INCONCLUSIVE, "%s", none_reason);
    }
    out->judged = true;
}

/* ---------------------------------------------------------------- connections */

struct jctx {
    struct verify *V;
    struct vserver *s;
    bool live;
    int64_t now_ns; /* live: judging time; file: time of the last packet */
};

/* The server's direction in vc (0 or 1), or -1 when vc is not a connection to s. */
static int server_dir(const struct vconn *vc, const struct vserver *s, uint16_t port)
{
    if (vc->family != s->family)
        return -1;
    for (int i = 0; i < 2; i++)
        if (vc->port[i] == port && memcmp(vc->addr[i], s->addr, 16) == 0)
            return i;
    return -1;
}

/* Next connection to s (on port) after index *at (start at 0) in scenario sc (-1:
 * any; in a file every connection counts).  Returns it with *sd its server direction,
 * or NULL. */
static struct vconn *next_conn(struct jctx *J, size_t *at, int sc, uint16_t port, int *sd)
{
    struct vobs *o = &J->V->obs;
    while (*at < o->n) {
        struct vconn *vc = &o->conns[(*at)++];
        if (!vc->seen)
            continue;
        if (J->live && sc >= 0 && !(vc->id > J->s->lo[sc] && vc->id <= J->s->hi[sc]))
            continue;
        int d = server_dir(vc, J->s, port);
        if (d < 0)
            continue;
        *sd = d;
        return vc;
    }
    return NULL;
}

#define FOR_CONNS(J, sc, port, vc, sd)                                                             \
    for (size_t at_ = 0; ((vc) = next_conn((J), &at_, (sc), (port), &(sd))) != NULL;)

static bool has_gaps(const struct vconn *vc)
{
    return vc->d[0].gaps || vc->d[1].gaps || vc->d[0].truncated || vc->d[1].truncated;
}

/* A verdict resting on absence is not reliable when the capture missed bytes. */
static void absence_check(const struct vconn *vc, struct verdict *v)
{
    if (v->result != V_FAIL || !has_gaps(vc))
        return;
    char was[VERDICT_REASON];
    snprintf(was, sizeof was, "%s", v->reason);
    uint64_t g = vc->d[0].gap_frame ? vc->d[0].gap_frame : vc->d[1].gap_frame;
    if (!g)
        g = vc->d[0].trunc_frame ? vc->d[0].trunc_frame : vc->d[1].trunc_frame;
    setv(v, V_INCONCLUSIVE,
         "the capture missed packets of this connection (near frame %llu), "
         "so this may be wrong: %.400s",
         (unsigned long long)g, was);
    v->unreliable = true;
    FRAMES(v, g);
}

static double ms(int64_t ns)
{
    return (double)ns / 1e6;
}

static const char *role_word(bool server)
{
    return server ? "server" : "client";
}

/* Time the capture (live: the run) went on after ts. */
static int64_t waited_since(const struct jctx *J, int64_t ts)
{
    return J->now_ns > ts ? J->now_ns - ts : 0;
}

/* ---------------------------------------------------------------- listening */

static void check_listening(struct jctx *J, struct verdict *out)
{
    struct vconn *vc, *ok = NULL, *rst = NULL, *silent = NULL;
    int sd, ok_sd = 0, rst_sd = 0, silent_sd = 0;
    if (J->live && J->s->command && J->s->ready && J->s->exited) {
        /* a server stops listening when it ends: crashed, or quit by itself */
        setv(out, V_FAIL, "%s (a server must keep listening until it is stopped)", J->s->proc_note);
        return;
    }
    FOR_CONNS(J, -1, J->s->port, vc, sd)
    {
        const struct vdir *C = &vc->d[sd ^ 1], *S = &vc->d[sd];
        if (!C->syn_frame)
            continue;
        if (S->synack_frame) {
            if (!ok) {
                ok = vc;
                ok_sd = sd;
            }
        } else if (S->rst_frame) {
            rst = vc;
            rst_sd = sd;
        } else if (!silent) {
            silent = vc;
            silent_sd = sd;
        }
    }
    if (ok) {
        const struct vdir *C = &ok->d[ok_sd ^ 1], *S = &ok->d[ok_sd];
        setv(out, V_PASS, "SYN (frame %llu) answered by SYN/ACK (frame %llu)",
             (unsigned long long)C->syn_frame, (unsigned long long)S->synack_frame);
        FRAMES(out, C->syn_frame, S->synack_frame);
        return;
    }
    char ev[200] = "";
    uint64_t f1 = 0, f2 = 0;
    if (rst) {
        f1 = rst->d[rst_sd ^ 1].syn_frame;
        f2 = rst->d[rst_sd].rst_frame;
        snprintf(ev, sizeof ev, "SYN (frame %llu) answered by RST (frame %llu)",
                 (unsigned long long)f1, (unsigned long long)f2);
    } else if (silent) {
        f1 = silent->d[silent_sd ^ 1].syn_frame;
        snprintf(ev, sizeof ev, "SYN (frame %llu) never answered", (unsigned long long)f1);
    }
    if (J->live && !J->s->ready) {
        setv(out, V_FAIL, "%s%s%s", J->s->ready_note, ev[0] ? "; " : "", ev);
        FRAMES(out, f1, f2);
        return;
    }
    if (rst) {
        setv(out, V_FAIL, "%s: nothing listens on port %u", ev, J->s->port);
        FRAMES(out, f1, f2);
    } else if (silent) {
        int64_t w = waited_since(J, silent->d[silent_sd ^ 1].syn_ts);
        if (J->live || w >= NS_PER_S) {
            setv(out, V_FAIL,
                 "%s in %.1f s (the SYN is dropped: a firewall, or a full accept "
                 "queue?)",
                 ev, (double)w / 1e9);
        } else {
            setv(out, V_INCONCLUSIVE, "%s, but the capture ends %.0f ms after it", ev, ms(w));
        }
        FRAMES(out, f1);
    } else if (J->live) {
        setv(out, V_INCONCLUSIVE,
             "the capture saw none of verify's SYNs to %s (is -i the "
             "interface that carries them?)",
             J->s->name);
    } else {
        setv(out, V_INCONCLUSIVE, "no SYN to %s in the capture", J->s->name);
    }
}

/* ---------------------------------------------------------------- handshake */

static void check_handshake(struct jctx *J, struct verdict *out)
{
    struct vconn *vc;
    int sd;
    unsigned complete = 0, no_ack = 0;
    uint64_t f[3] = {0, 0, 0};
    FOR_CONNS(J, -1, J->s->port, vc, sd)
    {
        const struct vdir *C = &vc->d[sd ^ 1], *S = &vc->d[sd];
        if (!C->syn_frame || !S->synack_frame)
            continue;
        if (S->synack_ack != C->syn_seq + 1) {
            setv(out, V_FAIL,
                 "the SYN/ACK (frame %llu) acknowledges %u, not the client's ISN+1 "
                 "= %u (SYN, frame %llu)",
                 (unsigned long long)S->synack_frame, S->synack_ack, C->syn_seq + 1,
                 (unsigned long long)C->syn_frame);
            FRAMES(out, C->syn_frame, S->synack_frame);
            return;
        }
        if (!C->hs_ack_frame) {
            no_ack++;
            continue;
        }
        if (C->hs_ack_ack != S->synack_seq + 1) {
            setv(out, V_FAIL,
                 "the client's ACK (frame %llu) acknowledges %u, not the server's "
                 "ISN+1 = %u (SYN/ACK, frame %llu)",
                 (unsigned long long)C->hs_ack_frame, C->hs_ack_ack, S->synack_seq + 1,
                 (unsigned long long)S->synack_frame);
            FRAMES(out, S->synack_frame, C->hs_ack_frame);
            return;
        }
        if (!complete++) {
            f[0] = C->syn_frame;
            f[1] = S->synack_frame;
            f[2] = C->hs_ack_frame;
        }
    }
    if (!complete) {
        setv(out, V_INCONCLUSIVE, "%s",
             no_ack ? "no complete three-way handshake: the client's ACK "
                      "of the SYN/ACK was not captured"
                    : "no three-way handshake with the server in the "
                      "capture (it starts after the handshake, or no "
                      "connection was accepted)");
        return;
    }
    setv(out, V_PASS,
         "%u handshake%s: each SYN/ACK acknowledges the client's ISN+1 and each "
         "client ACK the server's ISN+1 (first: frames %llu, %llu, %llu)",
         complete, complete > 1 ? "s" : "", (unsigned long long)f[0], (unsigned long long)f[1],
         (unsigned long long)f[2]);
    FRAMES(out, f[0], f[1], f[2]);
}

/* ---------------------------------------------------------------- echo */

static uint8_t up(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
}

static void byte_text(char *out, size_t n, uint8_t c)
{
    if (c >= 0x20 && c < 0x7f && c != '\'')
        snprintf(out, n, "'%c'", c);
    else if (c == '\n')
        snprintf(out, n, "'\\n'");
    else
        snprintf(out, n, "0x%02x", c);
}

/* First index below n where want(c) != s, or n. */
static uint64_t first_diff(const uint8_t *c, const uint8_t *s, uint64_t n, bool upper)
{
    for (uint64_t i = 0; i < n; i++)
        if ((upper ? up(c[i]) : c[i]) != s[i])
            return i;
    return n;
}

static bool is_exit_tail(const uint8_t *c, uint64_t at, uint64_t end)
{
    uint64_t n = end - at;
    if (at > 0 && c[at - 1] != '\n')
        return false;
    return (n == 5 && memcmp(c + at, "exit\n", 5) == 0) ||
           (n == 6 && memcmp(c + at, "exit\r\n", 6) == 0);
}

static void echo_conn(struct jctx *J, struct vconn *vc, uint64_t id, int sd, uint8_t *cb,
                      uint8_t *sb, struct verdict *v, uint64_t *bytes)
{
    struct stream_store *st = J->V->obs.streams;
    unsigned cdir = (unsigned)(sd ^ 1), sdir = (unsigned)sd;
    struct stream_info ci, si;
    stream_store_assemble(st, id, cdir, cb, STREAM_DEFAULT_MAX, &ci);
    stream_store_assemble(st, id, sdir, sb, STREAM_DEFAULT_MAX, &si);
    bool upper = J->V->upper;
    if (!vc->d[cdir].syn_frame || !vc->d[sdir].synack_frame) {
        setv(v, V_INCONCLUSIVE,
             "client port %u: the handshake is not in the capture, so the "
             "two byte streams cannot be lined up",
             vc->port[cdir]);
        return;
    }
    uint64_t common = ci.contiguous < si.contiguous ? ci.contiguous : si.contiguous;
    uint64_t i = first_diff(cb, sb, common, upper);
    uint16_t cport = vc->port[cdir];
    if (i < common) {
        char a[16], b[16];
        byte_text(a, sizeof a, cb[i]);
        byte_text(b, sizeof b, sb[i]);
        uint64_t fc = stream_store_frame_at(st, id, cdir, i),
                 fs = stream_store_frame_at(st, id, sdir, i);
        const char *hint = "";
        if (first_diff(cb, sb, common, !upper) == common)
            hint = upper ? " (the echo is not upper-cased: without --upper it matches)"
                         : " (the echo is the input upper-cased: use --upper)";
        setv(v, V_FAIL,
             "client port %u: byte %llu differs: sent %s (frame %llu), got back %s "
             "(frame %llu)%s",
             cport, (unsigned long long)i, a, (unsigned long long)fc, b, (unsigned long long)fs,
             hint);
        FRAMES(v, fc, fs);
        return;
    }
    if (ci.missing || si.missing) {
        bool cm = ci.missing != 0;
        const struct stream_info *mi = cm ? &ci : &si;
        uint64_t near = mi->first_missing_frame;
        for (int d = 0; d < 2 && !near; d++)
            near = vc->d[d].gap_frame ? vc->d[d].gap_frame : vc->d[d].trunc_frame;
        setv(v, V_INCONCLUSIVE,
             "client port %u: %llu byte%s of the %s's stream %s not captured "
             "(%s; near frame %llu), so the echo cannot be compared",
             cport, (unsigned long long)mi->missing, mi->missing > 1 ? "s" : "",
             cm ? "client" : "server", mi->missing > 1 ? "were" : "was",
             (vc->d[0].truncated || vc->d[1].truncated) ? "cut by the snapshot length"
                                                        : "acknowledged but never seen",
             (unsigned long long)near);
        v->unreliable = true;
        FRAMES(v, near);
        return;
    }
    uint64_t lim = STREAM_DEFAULT_MAX;
    uint64_t cend = ci.end < lim ? ci.end : lim, send = si.end < lim ? si.end : lim;
    char note[160] = "";
    if (ci.end > lim || si.end > lim)
        snprintf(note, sizeof note, " (the first %llu bytes each way compared)",
                 (unsigned long long)lim);
    if (send < cend) {
        if (is_exit_tail(cb, send, cend)) {
            snprintf(note + strlen(note), sizeof note - strlen(note),
                     "; the final line \"exit\" was not echoed (the lab echo server's close "
                     "command)");
        } else {
            uint64_t fc = stream_store_frame_at(st, id, cdir, send);
            uint64_t ls = stream_store_last_frame(st, id, sdir);
            const struct vdir *S = &vc->d[sd];
            char after[120] = "";
            if (S->fin_frame)
                snprintf(after, sizeof after, "; the server closed (FIN, frame %llu)",
                         (unsigned long long)S->fin_frame);
            else if (S->rst_frame)
                snprintf(after, sizeof after, "; the server reset (frame %llu)",
                         (unsigned long long)S->rst_frame);
            if (ls)
                setv(v, V_FAIL,
                     "client port %u: only %llu of %llu bytes came back: the echo "
                     "stops at byte %llu (sent in frame %llu; last echo in frame "
                     "%llu)%s",
                     cport, (unsigned long long)send, (unsigned long long)cend,
                     (unsigned long long)send, (unsigned long long)fc, (unsigned long long)ls,
                     after);
            else
                setv(v, V_FAIL,
                     "client port %u: %llu bytes sent (from frame %llu), none came "
                     "back%s",
                     cport, (unsigned long long)cend,
                     (unsigned long long)stream_store_frame_at(st, id, cdir, 0), after);
            FRAMES(v, fc, ls, S->fin_frame, S->rst_frame);
            return;
        }
    } else if (send > cend) {
        uint64_t fs = stream_store_frame_at(st, id, sdir, cend);
        setv(v, V_FAIL,
             "client port %u: the server sent %llu bytes more than it received "
             "(%llu sent, %llu back; the extra bytes from frame %llu)",
             cport, (unsigned long long)(send - cend), (unsigned long long)cend,
             (unsigned long long)send, (unsigned long long)fs);
        FRAMES(v, fs);
        return;
    }
    uint64_t f1 = stream_store_frame_at(st, id, cdir, 0),
             f2 = stream_store_last_frame(st, id, sdir);
    setv(v, V_PASS,
         "%llu bytes sent, every one echoed in order%s (client port %u, frames %llu-%llu)%s",
         (unsigned long long)cend, upper ? " upper-cased" : "", cport, (unsigned long long)f1,
         (unsigned long long)f2, note);
    FRAMES(v, f1, f2);
    *bytes += cend;
}

static void check_echo(struct jctx *J, struct verdict *out)
{
    uint8_t *cb = malloc(STREAM_DEFAULT_MAX), *sb = malloc(STREAM_DEFAULT_MAX);
    if (!cb || !sb) {
        free(cb);
        free(sb);
        setv(out, V_INCONCLUSIVE, "out of memory for the stream comparison");
        return;
    }
    struct agg a;
    memset(&a, 0, sizeof a);
    struct vconn *vc;
    int sd;
    uint64_t bytes = 0;
    for (size_t at = 0; (vc = next_conn(J, &at, SC_MAIN, J->s->port, &sd)) != NULL;) {
        if (!vc->d[sd ^ 1].first_data_frame)
            continue;
        struct verdict v;
        memset(&v, 0, sizeof v);
        echo_conn(J, vc, vc->id, sd, cb, sb, &v, &bytes);
        agg_add(&a, &v);
    }
    free(cb);
    free(sb);
    agg_done(&a, out,
             J->live ? "no data reached the server in the echo scenario (see "
                       "listening)"
                     : "no connection to the server carried data in the capture");
    if (out->result == V_PASS && a.ok > 1) {
        char was[VERDICT_REASON];
        snprintf(was, sizeof was, "%s", out->reason);
        snprintf(out->reason, sizeof out->reason,
                 "%u connections, %llu bytes, all echoed; "
                 "first: %.500s",
                 a.ok, (unsigned long long)bytes, was);
    }
}

/* ---------------------------------------------------------------- mss */

static void check_mss(struct jctx *J, struct verdict *out)
{
    struct vconn *vc, *worst = NULL, *big[2] = {NULL, NULL};
    int sd, worst_dir = 0;
    bool any_data = false, mss_known = false;
    uint32_t above = 0, bigseg[2] = {0, 0};
    int big_dir[2] = {0, 0};
    FOR_CONNS(J, -1, J->s->port, vc, sd)
    {
        for (int d = 0; d < 2; d++) {
            const struct vdir *D = &vc->d[d], *R = &vc->d[d ^ 1];
            if (!D->first_data_frame)
                continue;
            any_data = true;
            if (R->syn_frame || R->synack_frame)
                mss_known = true;
            int role = d == sd; /* 1: the server sent it */
            if (D->max_seg > bigseg[role]) {
                bigseg[role] = D->max_seg;
                big[role] = vc;
                big_dir[role] = d;
            }
            if (D->above_mss) {
                above += D->above_mss;
                if (!worst || D->above_len > worst->d[worst_dir].above_len) {
                    worst = vc;
                    worst_dir = d;
                }
            }
        }
    }
    if (!any_data) {
        setv(out, V_INCONCLUSIVE, "no data segment to or from the server in the capture");
        return;
    }
    if (!mss_known) {
        setv(out, V_INCONCLUSIVE, "the MSS was never announced in the capture (no SYN captured)");
        return;
    }
    if (!above) {
        char part[2][160];
        for (int r = 0; r < 2; r++) {
            part[r][0] = '\0';
            if (!big[r])
                continue;
            const struct vdir *D = &big[r]->d[big_dir[r]], *R = &big[r]->d[big_dir[r] ^ 1];
            snprintf(part[r], sizeof part[r], "%s %u+%u of MSS %u (frame %llu)",
                     r ? "server" : "client", D->max_seg - D->max_seg_opt, D->max_seg_opt,
                     R->has_mss ? R->mss : (big[r]->family == 6 ? 1220u : 536u),
                     (unsigned long long)D->max_seg_frame);
            FRAMES(out, D->max_seg_frame, R->syn_frame, R->synack_frame);
        }
        setv(out, V_PASS, "no segment above its receiver's MSS; largest payload+options: %s%s%s",
             part[0], part[0][0] && part[1][0] ? ", " : "", part[1]);
        return;
    }
    const struct vdir *D = &worst->d[worst_dir], *R = &worst->d[worst_dir ^ 1];
    bool from_server = server_dir(worst, J->s, J->s->port) == worst_dir;
    char desc[320];
    snprintf(desc, sizeof desc,
             "%u segment%s above the receiver's MSS; largest: frame %llu from the %s, %u bytes + "
             "%u option bytes > MSS %u announced by the %s (frame %llu)",
             above, above > 1 ? "s" : "", (unsigned long long)D->above_frame,
             role_word(from_server), D->above_len, D->above_opt,
             R->has_mss ? R->mss : (worst->family == 6 ? 1220u : 536u), role_word(!from_server),
             (unsigned long long)(R->syn_frame ? R->syn_frame : R->synack_frame));
    FRAMES(out, D->above_frame, R->syn_frame ? R->syn_frame : R->synack_frame);
    int off = J->V->offload == OFFLOAD_ON    ? 1
              : J->V->offload == OFFLOAD_OFF ? 0
              : J->live                      ? J->V->offload_state
                                             : -1;
    const char *ifc = J->V->iface ? J->V->iface : "the interface";
    bool loop = J->live ? J->V->loopback_iface
                        : (J->s->family == 4
                               ? J->s->addr[0] == 127
                               : (memcmp(J->s->addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0));
    if (off == 0) {
        setv(out, V_FAIL,
             "%s; segmentation offload is off on %s, so the segment was on the wire "
             "this size",
             desc, ifc);
    } else if (off == 1 || loop) {
        setv(out, V_PASS,
             "%s: segmentation-offload super-segments (TSO/GSO %s), not the "
             "server's doing: the kernel hands the capture the unsplit segment and "
             "splits it below the capture point (on loopback never); switch offloads "
             "off (ethtool -K %s tso off gso off gro off) to see MSS-sized framing",
             desc, off == 1 ? "on" : "on loopback", J->live ? ifc : "IFACE");
    } else {
        setv(out, V_INCONCLUSIVE,
             "%s: these may be offload super-segments (TSO/GSO at the "
             "sender, GRO at the receiver); capture with offloads off, or "
             "pass --offload off if they were off",
             desc);
    }
}

/* ---------------------------------------------------------------- closing */

static bool closed_conn(const struct vconn *vc, int sd)
{
    const struct vdir *C = &vc->d[sd ^ 1], *S = &vc->d[sd];
    return S->synack_frame || C->first_data_frame || S->first_data_frame ||
           (!C->syn_frame && (C->fin_frame || S->fin_frame));
}

static void check_graceful_close(struct jctx *J, struct verdict *out)
{
    struct agg a;
    memset(&a, 0, sizeof a);
    struct vconn *vc;
    int sd;
    FOR_CONNS(J, SC_MAIN, J->s->port, vc, sd)
    {
        if (!closed_conn(vc, sd))
            continue;
        const struct vdir *C = &vc->d[sd ^ 1], *S = &vc->d[sd];
        uint16_t cport = vc->port[sd ^ 1];
        struct verdict v;
        memset(&v, 0, sizeof v);
        if (S->rst_frame || C->rst_frame) {
            bool srv = S->rst_frame && (!C->rst_frame || S->rst_frame < C->rst_frame);
            const struct vdir *R = srv ? S : C, *O = srv ? C : S;
            char ctx[120] = "";
            if (O->fin_frame && O->fin_frame < R->rst_frame)
                snprintf(ctx, sizeof ctx,
                         " in answer to the %s's FIN (frame %llu), instead of "
                         "its own FIN",
                         role_word(!srv), (unsigned long long)O->fin_frame);
            setv(&v, V_FAIL, "client port %u: the %s sent RST (frame %llu)%s", cport,
                 role_word(srv), (unsigned long long)R->rst_frame, ctx);
            FRAMES(&v, O->fin_frame, R->rst_frame);
        } else if (C->fin_frame && S->fin_frame) {
            const struct vdir *U = !C->fin_acked_frame ? C : !S->fin_acked_frame ? S : NULL;
            if (U) {
                int64_t w = waited_since(J, U->fin_ts);
                setv(&v, J->live || w >= NS_PER_S ? V_FAIL : V_INCONCLUSIVE,
                     "client port %u: the %s's FIN (frame %llu) was never acknowledged%s", cport,
                     role_word(U == S), (unsigned long long)U->fin_frame,
                     J->live || w >= NS_PER_S ? "" : " (the capture ends right after it)");
                FRAMES(&v, U->fin_frame);
            } else {
                bool cfirst = C->fin_frame < S->fin_frame;
                const struct vdir *F = cfirst ? C : S, *L = cfirst ? S : C;
                setv(&v, V_PASS,
                     "FIN both ways, each acknowledged, no RST (client port %u: FIN "
                     "frame %llu acked in %llu, FIN frame %llu acked in %llu)",
                     cport, (unsigned long long)F->fin_frame,
                     (unsigned long long)F->fin_acked_frame, (unsigned long long)L->fin_frame,
                     (unsigned long long)L->fin_acked_frame);
                FRAMES(&v, F->fin_frame, F->fin_acked_frame, L->fin_frame, L->fin_acked_frame);
            }
        } else if (C->fin_frame) {
            setv(&v, V_INCONCLUSIVE,
                 "client port %u: the server has not closed (no FIN or RST "
                 "after the client's FIN, frame %llu): no-close-wait-leak "
                 "judges that",
                 cport, (unsigned long long)C->fin_frame);
            FRAMES(&v, C->fin_frame);
        } else if (S->fin_frame) {
            setv(&v, V_INCONCLUSIVE,
                 "client port %u: the client has not sent its FIN (the "
                 "server's: frame %llu)",
                 cport, (unsigned long long)S->fin_frame);
            FRAMES(&v, S->fin_frame);
        } else {
            setv(&v, V_INCONCLUSIVE, "client port %u: not closed in the capture", cport);
        }
        absence_check(vc, &v);
        agg_add(&a, &v);
    }
    agg_done(&a, out,
             J->live ? "no connection of the close scenario was captured"
                     : "no connection to the server in the capture");
}

static void check_closer(struct jctx *J, struct verdict *out)
{
    bool want_server = J->V->closer == ROLE_SERVER;
    struct agg a;
    memset(&a, 0, sizeof a);
    struct vconn *vc;
    int sd;
    FOR_CONNS(J, SC_MAIN, J->s->port, vc, sd)
    {
        int ed = want_server ? sd : sd ^ 1, od = ed ^ 1;
        const struct vdir *E = &vc->d[ed], *O = &vc->d[od];
        uint16_t cport = vc->port[sd ^ 1];
        struct verdict v;
        memset(&v, 0, sizeof v);
        if (!E->fin_frame && !O->fin_frame) {
            uint64_t r = E->rst_frame ? E->rst_frame : O->rst_frame;
            if (!closed_conn(vc, sd))
                continue;
            setv(&v, V_INCONCLUSIVE, "client port %u: no FIN in the capture%s", cport,
                 r ? " (a RST ended the connection)" : "");
            FRAMES(&v, r);
        } else if (!E->fin_frame || (O->fin_frame && O->fin_frame < E->fin_frame)) {
            setv(&v, V_FAIL,
                 "client port %u: the %s sent the first FIN (frame %llu); the %s "
                 "was expected to close first (--closer %s)",
                 cport, role_word(!want_server), (unsigned long long)O->fin_frame,
                 role_word(want_server), role_word(want_server));
            FRAMES(&v, O->fin_frame);
        } else if (E->time_wait_frame) {
            setv(&v, V_PASS,
                 "the %s sent the first FIN (frame %llu) and entered TIME_WAIT "
                 "(frame %llu; client port %u)",
                 role_word(want_server), (unsigned long long)E->fin_frame,
                 (unsigned long long)E->time_wait_frame, cport);
            FRAMES(&v, E->fin_frame, E->time_wait_frame);
        } else if (E->rst_frame || O->rst_frame) {
            uint64_t r = O->rst_frame ? O->rst_frame : E->rst_frame;
            setv(&v, V_PASS,
                 "the %s sent the first FIN (frame %llu; client port %u); a RST "
                 "(frame %llu) ended the connection before TIME_WAIT "
                 "(graceful-close judges that)",
                 role_word(want_server), (unsigned long long)E->fin_frame, cport,
                 (unsigned long long)r);
            FRAMES(&v, E->fin_frame, r);
        } else if (!O->fin_frame) {
            setv(&v, V_PASS,
                 "the %s sent the first FIN (frame %llu; client port %u); TIME_WAIT "
                 "not reached because the %s has not sent its FIN%s",
                 role_word(want_server), (unsigned long long)E->fin_frame, cport,
                 role_word(!want_server), want_server ? "" : " (no-close-wait-leak judges that)");
            FRAMES(&v, E->fin_frame);
        } else {
            setv(&v, V_FAIL,
                 "the %s sent the first FIN (frame %llu; client port %u) but ended in "
                 "%s, not TIME_WAIT",
                 role_word(want_server), (unsigned long long)E->fin_frame, cport,
                 tcp_state_name((enum tcp_state)E->state));
            FRAMES(&v, E->fin_frame, O->fin_frame);
            absence_check(vc, &v);
        }
        agg_add(&a, &v);
    }
    agg_done(&a, out,
             J->live ? "no connection of the close scenario was captured"
                     : "no connection to the server was closed in the capture");
}

static void check_close_wait(struct jctx *J, struct verdict *out)
{
    struct agg a;
    memset(&a, 0, sizeof a);
    struct vconn *vc;
    int sd;
    FOR_CONNS(J, SC_MAIN, J->s->port, vc, sd)
    {
        const struct vdir *C = &vc->d[sd ^ 1], *S = &vc->d[sd];
        uint16_t cport = vc->port[sd ^ 1];
        if (!C->fin_frame)
            continue;
        struct verdict v;
        memset(&v, 0, sizeof v);
        if (S->fin_frame && S->fin_frame < C->fin_frame) {
            setv(&v, V_PASS,
                 "the server closed first (FIN, frame %llu; client port %u): no "
                 "CLOSE_WAIT on its side",
                 (unsigned long long)S->fin_frame, cport);
            FRAMES(&v, S->fin_frame);
        } else if (S->fin_frame) {
            setv(&v, V_PASS,
                 "the server's FIN (frame %llu) followed the client's (frame %llu) "
                 "after %.3f ms (client port %u)",
                 (unsigned long long)S->fin_frame, (unsigned long long)C->fin_frame,
                 ms(S->fin_ts - C->fin_ts), cport);
            FRAMES(&v, C->fin_frame, S->fin_frame);
        } else if (S->rst_frame > C->fin_frame) {
            setv(&v, V_PASS,
                 "the server left CLOSE_WAIT with a RST (frame %llu) after the "
                 "client's FIN (frame %llu; graceful-close judges the RST)",
                 (unsigned long long)S->rst_frame, (unsigned long long)C->fin_frame);
            FRAMES(&v, C->fin_frame, S->rst_frame);
        } else {
            int64_t w = waited_since(J, C->fin_ts);
            if (w >= (J->live ? LEAK_WAIT_LIVE_NS : LEAK_WAIT_FILE_NS)) {
                char acked[64] = "";
                if (C->fin_acked_frame)
                    snprintf(acked, sizeof acked, " was acknowledged (frame %llu) but",
                             (unsigned long long)C->fin_acked_frame);
                setv(&v, V_FAIL,
                     "the server stays in CLOSE_WAIT: the client's FIN (frame %llu; "
                     "client port %u)%s no FIN came from the server in %.1f s (it "
                     "never closes the socket)",
                     (unsigned long long)C->fin_frame, cport, acked, (double)w / 1e9);
                FRAMES(&v, C->fin_frame, C->fin_acked_frame);
            } else {
                setv(&v, V_INCONCLUSIVE,
                     "the capture ends %.0f ms after the client's FIN "
                     "(frame %llu): the server's FIN may still come",
                     ms(w), (unsigned long long)C->fin_frame);
                FRAMES(&v, C->fin_frame);
            }
        }
        absence_check(vc, &v);
        agg_add(&a, &v);
    }
    agg_done(&a, out,
             J->live ? "the client's FIN of the close scenario was not captured"
                     : "no client FIN to the server in the capture");
}

/* ---------------------------------------------------------------- concurrent */

struct creq {
    struct vconn *vc;
    int sd;
    int64_t open_ts, end_ts, req_ts, resp_ts;
    uint64_t req_frame, resp_frame, end_frame;
};

static int64_t conn_end_ts(const struct vconn *vc, uint64_t *frame)
{
    int64_t t = INT64_MAX;
    *frame = 0;
    for (int d = 0; d < 2; d++) {
        const struct vdir *D = &vc->d[d];
        if (D->fin_frame && D->fin_ts < t) {
            t = D->fin_ts;
            *frame = D->fin_frame;
        }
        if (D->rst_frame && D->rst_ts < t) {
            t = D->rst_ts;
            *frame = D->rst_frame;
        }
    }
    return t;
}

static void check_concurrent(struct jctx *J, struct verdict *out)
{
    size_t n = 0, cap = 16;
    struct creq *r = malloc(cap * sizeof *r);
    if (!r) {
        setv(out, V_INCONCLUSIVE, "out of memory");
        return;
    }
    struct vconn *vc;
    int sd;
    unsigned syns = 0, accepted = 0;
    uint64_t refused_f[2] = {0, 0};
    FOR_CONNS(J, SC_CONCURRENT, J->s->port, vc, sd)
    {
        const struct vdir *C = &vc->d[sd ^ 1], *S = &vc->d[sd];
        if (C->syn_frame) {
            syns++;
            if (S->synack_frame)
                accepted++;
            else if (!refused_f[0]) {
                refused_f[0] = C->syn_frame;
                refused_f[1] = S->rst_frame;
            }
        }
        if (!C->first_data_frame)
            continue;
        if (n == cap) {
            struct creq *m = realloc(r, cap * 2 * sizeof *r);
            if (!m)
                break;
            r = m;
            cap *= 2;
        }
        struct creq *q = &r[n++];
        q->vc = vc;
        q->sd = sd;
        q->open_ts = C->syn_frame ? C->syn_ts : vc->first_ts;
        q->end_ts = conn_end_ts(vc, &q->end_frame);
        q->req_ts = C->first_data_ts;
        q->req_frame = C->first_data_frame;
        q->resp_ts = S->first_data_frame ? S->first_data_ts : 0;
        q->resp_frame = S->first_data_frame;
    }
    unsigned want = J->V->clients;
    if (J->live) {
        if (syns == 0) {
            setv(out, V_INCONCLUSIVE, "no SYN of the concurrent scenario was captured");
            goto done;
        }
        if (accepted < want) {
            setv(out, V_FAIL,
                 "only %u of %u simultaneous connections were accepted (first "
                 "refused or unanswered SYN: frame %llu)",
                 accepted, want, (unsigned long long)refused_f[0]);
            FRAMES(out, refused_f[0], refused_f[1]);
            goto done;
        }
    }
    size_t judged = 0;
    int64_t slowest = -1;
    const struct creq *slow = NULL;
    for (size_t i = 0; i < n; i++) {
        struct creq *b = &r[i];
        const struct creq *other = NULL;
        for (size_t j = 0; j < n; j++)
            if (j != i && r[j].open_ts <= b->req_ts && r[j].end_ts > b->req_ts)
                other = &r[j];
        if (!J->live && !other)
            continue; /* in a file: only connections that overlapped another */
        uint16_t cport = b->vc->port[b->sd ^ 1];
        if (!b->resp_frame) {
            int64_t w = waited_since(J, b->req_ts);
            if (!J->live && w < NS_PER_S)
                continue;
            setv(out, V_FAIL,
                 "the connection from port %u sent its request (frame %llu) and "
                 "got no answer in %.1f s%s",
                 cport, (unsigned long long)b->req_frame, (double)w / 1e9,
                 other ? " while another connection was open" : "");
            FRAMES(out, b->req_frame);
            absence_check(b->vc, out);
            goto done;
        }
        int64_t delay = b->resp_ts - b->req_ts;
        /* blocked: it was answered only once a connection open at its request had ended */
        const struct creq *blocker = NULL;
        for (size_t j = 0; j < n; j++)
            if (j != i && r[j].open_ts <= b->req_ts && r[j].end_ts > b->req_ts &&
                r[j].end_ts <= b->resp_ts)
                blocker = &r[j];
        if (delay > SLOW_ANSWER_NS && blocker) {
            setv(out, V_FAIL,
                 "the request of client port %u (frame %llu) was answered only "
                 "after %.0f ms (frame %llu), once the connection from port %u had "
                 "ended (frame %llu): the server serves one client at a time",
                 cport, (unsigned long long)b->req_frame, ms(delay),
                 (unsigned long long)b->resp_frame, blocker->vc->port[blocker->sd ^ 1],
                 (unsigned long long)blocker->end_frame);
            FRAMES(out, b->req_frame, b->resp_frame, blocker->end_frame);
            goto done;
        }
        judged++;
        if (delay > slowest) {
            slowest = delay;
            slow = b;
        }
    }
    if (!judged || !slow) {
        setv(out, V_INCONCLUSIVE, "%s",
             J->live ? "no request of the concurrent scenario was "
                       "captured"
                     : "no two connections to the server were open "
                       "at the same time in the capture");
        goto done;
    }
    setv(out, V_PASS,
         "%zu connections open at once, each answered; the slowest in %.3f ms "
         "(client port %u, frames %llu, %llu)",
         judged, ms(slowest), slow->vc->port[slow->sd ^ 1], (unsigned long long)slow->req_frame,
         (unsigned long long)slow->resp_frame);
    FRAMES(out, slow->req_frame, slow->resp_frame);
done:
    free(r);
}

/* ---------------------------------------------------------------- refused */

static void check_refused(struct jctx *J, struct verdict *out)
{
    struct vconn *vc;
    int sd;
    if (J->live) {
        if (!J->s->scen_ran[SC_PROBE]) {
            setv(out, V_INCONCLUSIVE, "the closed-port probe did not run");
            return;
        }
        FOR_CONNS(J, SC_PROBE, J->s->probe_port, vc, sd)
        {
            const struct vdir *C = &vc->d[sd ^ 1], *S = &vc->d[sd];
            if (!C->syn_frame)
                continue;
            const char *what = J->s->probe_is_server_port ? "after the server was stopped"
                               : J->s->probe_found_free
                                   ? "a port found free on the server's host"
                                   : "the port after the server's, assumed closed";
            if (S->rst_frame && !S->synack_frame) {
                setv(out, V_PASS, "SYN to port %u (%s, frame %llu) answered by RST%s (frame %llu)",
                     J->s->probe_port, what, (unsigned long long)C->syn_frame,
                     (S->rst_flags & TCP_ACK) ? "/ACK" : "", (unsigned long long)S->rst_frame);
                FRAMES(out, C->syn_frame, S->rst_frame);
            } else if (S->synack_frame) {
                if (J->s->probe_is_server_port)
                    setv(out, V_FAIL,
                         "port %u still accepts connections after the server was "
                         "stopped (SYN/ACK, frame %llu): another process (a child "
                         "of the server?) still listens",
                         J->s->probe_port, (unsigned long long)S->synack_frame);
                else
                    setv(out, V_INCONCLUSIVE,
                         "port %u is open (SYN/ACK, frame %llu): no closed "
                         "port to probe",
                         J->s->probe_port, (unsigned long long)S->synack_frame);
                FRAMES(out, C->syn_frame, S->synack_frame);
            } else {
                setv(out, V_FAIL,
                     "the SYN to closed port %u (%s, frame %llu) got no answer in "
                     "%.1f s: a closed port answers RST (RFC 9293 3.10.7.1); does a "
                     "firewall drop it?",
                     J->s->probe_port, what, (unsigned long long)C->syn_frame,
                     (double)waited_since(J, C->syn_ts) / 1e9);
                FRAMES(out, C->syn_frame);
            }
            return;
        }
        setv(out, V_INCONCLUSIVE, "the probe's SYN to port %u was not captured", J->s->probe_port);
        return;
    }
    /* a file: any SYN to the server's host refused by RST is the evidence */
    struct vobs *o = &J->V->obs;
    for (size_t i = 0; i < o->n; i++) {
        vc = &o->conns[i];
        if (!vc->seen || vc->family != J->s->family)
            continue;
        for (int d = 0; d < 2; d++) {
            if (memcmp(vc->addr[d], J->s->addr, 16) != 0)
                continue;
            const struct vdir *S = &vc->d[d], *C = &vc->d[d ^ 1];
            if (C->syn_frame && S->rst_frame && !S->synack_frame) {
                setv(out, V_PASS,
                     "SYN to closed port %u (frame %llu) answered by RST%s (frame "
                     "%llu)",
                     vc->port[d], (unsigned long long)C->syn_frame,
                     (S->rst_flags & TCP_ACK) ? "/ACK" : "", (unsigned long long)S->rst_frame);
                FRAMES(out, C->syn_frame, S->rst_frame);
                return;
            }
        }
    }
    setv(out, V_INCONCLUSIVE,
         "no SYN to a closed port of %s in the capture (a live run "
         "probes one)",
         J->s->host);
}

/* ---------------------------------------------------------------- half-close */

static void check_half_close(struct jctx *J, struct verdict *out)
{
    struct agg a;
    memset(&a, 0, sizeof a);
    struct vconn *vc;
    int sd;
    FOR_CONNS(J, SC_HALF, J->s->port, vc, sd)
    {
        const struct vdir *C = &vc->d[sd ^ 1], *S = &vc->d[sd];
        uint16_t cport = vc->port[sd ^ 1];
        if (!C->fin_frame || (S->fin_frame && S->fin_frame < C->fin_frame))
            continue;
        struct verdict v;
        memset(&v, 0, sizeof v);
        if (S->rst_frame && S->rst_frame > C->fin_frame) {
            setv(&v, V_FAIL,
                 "client port %u: the server answered the client's half-close (FIN, "
                 "frame %llu) with RST (frame %llu)%s",
                 cport, (unsigned long long)C->fin_frame, (unsigned long long)S->rst_frame,
                 S->data_after_peer_fin ? ", so the data it sent may never arrive" : "");
            FRAMES(&v, C->fin_frame, S->rst_frame);
        } else if (S->data_after_peer_fin) {
            char fin[80] = "";
            if (S->fin_frame)
                snprintf(fin, sizeof fin, ", then its FIN (frame %llu)",
                         (unsigned long long)S->fin_frame);
            setv(&v, V_PASS,
                 "the server sent %llu bytes after the client's FIN (frame %llu; "
                 "first in frame %llu)%s (client port %u)",
                 (unsigned long long)S->data_after_peer_fin, (unsigned long long)C->fin_frame,
                 (unsigned long long)S->data_after_peer_fin_frame, fin, cport);
            FRAMES(&v, C->fin_frame, S->data_after_peer_fin_frame, S->fin_frame);
        } else if (J->live) {
            if (S->fin_frame)
                setv(&v, V_FAIL,
                     "client port %u: the server closed (FIN, frame %llu) without "
                     "answering the request that came with the client's FIN (frame "
                     "%llu)",
                     cport, (unsigned long long)S->fin_frame, (unsigned long long)C->fin_frame);
            else
                setv(&v, V_FAIL,
                     "client port %u: nothing came back in %.1f s after the "
                     "client's request and FIN (frame %llu)",
                     cport, (double)waited_since(J, C->fin_ts) / 1e9,
                     (unsigned long long)C->fin_frame);
            FRAMES(&v, C->fin_frame, S->fin_frame);
            absence_check(vc, &v);
        } else {
            continue; /* nothing was owed after the FIN, as far as a file shows */
        }
        agg_add(&a, &v);
    }
    agg_done(&a, out,
             J->live ? "the half-close scenario's FIN was not captured"
                     : "no connection in the capture where the server sent data after "
                       "the client's FIN");
}

/* ---------------------------------------------------------------- driver */

void verify_judge(struct verify *V, struct vserver *s, int64_t now_ns, bool only_probe)
{
    struct jctx J = {.V = V, .s = s, .live = s->live, .now_ns = now_ns};
    for (int k = 0; k < CHK_COUNT; k++) {
        if (!V->selected[k] || s->v[k].judged)
            continue;
        if (only_probe != (k == CHK_REFUSED_WHEN_CLOSED))
            continue;
        struct verdict *v = &s->v[k];
        memset(v, 0, sizeof *v);
        if (s->live && !s->ready && k != CHK_LISTENING && k != CHK_REFUSED_WHEN_CLOSED) {
            setv(v, V_INCONCLUSIVE,
                 "not judged: the server never accepted a connection (see "
                 "listening)");
            continue;
        }
        switch ((enum vcheck)k) {
        case CHK_LISTENING:
            check_listening(&J, v);
            break;
        case CHK_HANDSHAKE:
            check_handshake(&J, v);
            break;
        case CHK_ECHO:
            check_echo(&J, v);
            break;
        case CHK_MSS:
            check_mss(&J, v);
            break;
        case CHK_GRACEFUL_CLOSE:
            check_graceful_close(&J, v);
            break;
        case CHK_CLOSER:
            check_closer(&J, v);
            break;
        case CHK_NO_CLOSE_WAIT_LEAK:
            check_close_wait(&J, v);
            break;
        case CHK_CONCURRENT:
            check_concurrent(&J, v);
            break;
        case CHK_REFUSED_WHEN_CLOSED:
            check_refused(&J, v);
            break;
        case CHK_HALF_CLOSE:
            check_half_close(&J, v);
            break;
        case CHK_COUNT:
            break;
        }
        v->judged = true;
    }
}

void verify_downgrade(struct verify *V, struct vserver *s)
{
    for (int k = 0; k < CHK_COUNT; k++) {
        struct verdict *v = &s->v[k];
        if (!V->selected[k])
            continue;
        if (!v->judged) {
            setv(v, V_INCONCLUSIVE, "%s",
                 s->interrupted ? "interrupted before it was judged" : "not judged");
            continue;
        }
        if (V->hdr_truncated && v->result == V_INCONCLUSIVE) {
            size_t n = strlen(v->reason);
            snprintf(v->reason + n, sizeof v->reason - n,
                     " (%llu packets had their IP or TCP header cut by the snapshot length)",
                     (unsigned long long)V->hdr_truncated);
        } else if (V->hdr_truncated && v->result == V_FAIL) {
            char was[VERDICT_REASON];
            snprintf(was, sizeof was, "%s", v->reason);
            setv(v, V_INCONCLUSIVE,
                 "%llu packets of the capture have their IP or TCP header "
                 "cut by the snapshot length and could not be read, so this "
                 "may be wrong (it said FAIL: %.400s)",
                 (unsigned long long)V->hdr_truncated, was);
        }
        if (s->dropped && v->result != V_INCONCLUSIVE) {
            char was[VERDICT_REASON];
            snprintf(was, sizeof was, "%s", v->reason);
            setv(v, V_INCONCLUSIVE,
                 "the kernel dropped %llu packets of the capture, so the "
                 "evidence is incomplete (it said %s: %.400s)",
                 (unsigned long long)s->dropped, vresult_name(v->result), was);
        }
    }
}
