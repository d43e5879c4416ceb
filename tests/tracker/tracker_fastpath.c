/* tracker_fastpath.c - the tracker's fast path and lone-SYN short form change nothing.
 *
 * Pipeline place: test of [decode -> flow table -> tcp tracker] on real captures.
 * Every frame of every capture is fed to two trackers side by side: one with the fast
 * path (the default), one with opts.no_fast_path.  After each frame the two must agree
 * on the per-packet view (track_info: roles, relative-number bases, analysis notes,
 * events), the anomalies the tracker added, and the whole connection record; at each
 * connection end and at the end of input the records and reasons must agree too.
 *
 * Captures: every bundled scenario (captures/NAME.pcap), every capture in the shared
 * corpora (real traffic with retransmissions, resets, odd options; many malformed),
 * and mkpcap captures in each mode (mostly established data: the fast path's ground).
 * The general-only tracker also never keeps a record in the short form of a lone SYN,
 * so the short form (expanded at every later packet and at the end) is checked the same
 * way.  The test also checks that both mechanisms were taken on the mkpcap captures.
 */
#include <dirent.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "synack/decode.h"
#include "synack/tcp_tracker.h"

#define MAX_ENDS 4096

struct side {
    struct tcp_tracker *t;
    struct packet p;
    struct track_info ti;
    size_t n_end;
    struct conn *ends;            /* copies of ended records, in order */
    enum conn_end_reason *why;
    size_t n_cb_ev;
    struct tcp_event cb_ev[64];   /* callback events of the current frame */
};

static void on_event(void *ctx, const struct tcp_event *e)
{
    struct side *s = ctx;
    if (s->n_cb_ev < 64)
        s->cb_ev[s->n_cb_ev++] = *e;
}

static void on_end(void *ctx, const struct conn *c, enum conn_end_reason why)
{
    struct side *s = ctx;
    if (s->n_end < MAX_ENDS) {
        s->ends[s->n_end] = *c;
        s->why[s->n_end] = why;
    }
    s->n_end++;
}

static void side_open(struct side *s, bool fast)
{
    memset(s, 0, sizeof *s);
    struct tcp_tracker_opts o;
    tcp_tracker_default_opts(&o);
    o.no_fast_path = !fast;
    o.max_conns = 4096;
    struct tcp_tracker_out out = {.ctx = s, .event = on_event, .conn_end = on_end};
    s->t = tcp_tracker_new(&o, &out);
    s->ends = calloc(MAX_ENDS, sizeof *s->ends);
    s->why = calloc(MAX_ENDS, sizeof *s->why);
    assert_non_null(s->t);
    assert_non_null(s->ends);
    assert_non_null(s->why);
}

static void side_close(struct side *s)
{
    tcp_tracker_free(s->t);
    free(s->ends);
    free(s->why);
}

/* A record compared field by field where it matters to a reader, then whole. */
static void same_conn(const struct conn *a, const struct conn *b, const char *file,
                      uint64_t frame)
{
    if (memcmp(a, b, sizeof *a) == 0)
        return;
    print_error("%s frame %llu: connection %llu differs (history fast '%s' general '%s', "
                "states %d/%d vs %d/%d)\n",
                file, (unsigned long long)frame, (unsigned long long)a->id, a->history,
                b->history, a->ep[0].state, a->ep[1].state, b->ep[0].state, b->ep[1].state);
    fail();
}

static void same_view(const struct side *f, const struct side *g, const char *file,
                      uint64_t frame)
{
    const struct track_info *a = &f->ti, *b = &g->ti;
    bool ok = (a->conn == NULL) == (b->conn == NULL) && a->sender == b->sender &&
              a->has_seq_base == b->has_seq_base && a->has_ack_base == b->has_ack_base &&
              a->seq_base == b->seq_base && a->ack_base == b->ack_base &&
              a->n_events == b->n_events && a->retransmit == b->retransmit &&
              a->fast_retransmit == b->fast_retransmit && a->out_of_order == b->out_of_order &&
              a->dup_ack == b->dup_ack && a->keepalive == b->keepalive &&
              a->window_probe == b->window_probe && a->zero_window == b->zero_window &&
              a->above_mss == b->above_mss && a->peer_mss == b->peer_mss &&
              f->p.anomalies == g->p.anomalies && f->n_end == g->n_end &&
              f->n_cb_ev == g->n_cb_ev;
    for (unsigned i = 0; ok && i < a->n_events; i++) {
        const struct tcp_event *x = &a->events[i], *y = &b->events[i];
        ok = x->ts_ns == y->ts_ns && x->frame == y->frame && x->conn == y->conn &&
             x->endpoint == y->endpoint && x->from == y->from && x->to == y->to &&
             strcmp(x->cause, y->cause) == 0;
    }
    if (!ok) {
        print_error("%s frame %llu: the fast path's view of the packet differs\n", file,
                    (unsigned long long)frame);
        fail();
    }
    if (a->conn)
        same_conn(a->conn, b->conn, file, frame);
}

static void same_ends(const struct side *f, const struct side *g, const char *file)
{
    assert_int_equal(f->n_end, g->n_end);
    size_t n = f->n_end < MAX_ENDS ? f->n_end : MAX_ENDS;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(f->why[i], g->why[i]);
        same_conn(&f->ends[i], &g->ends[i], file, 0);
    }
}

static uint64_t fast_taken; /* segments the fast path handled, over all files */
static uint64_t lone_taken; /* records kept in the short form of a lone SYN */

/* Feed one capture to both trackers; returns the TCP frames tracked. */
static uint64_t run_file(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc)
        return 0; /* not readable as a capture: the corpora hold such files on purpose */
    int dlt = pcap_datalink(pc);
    struct side *f = malloc(sizeof *f), *g = malloc(sizeof *g);
    assert_non_null(f);
    assert_non_null(g);
    side_open(f, true);
    side_open(g, false);
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t n = 0, tcp = 0;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        n++;
        struct side *sides[2] = {f, g};
        for (int i = 0; i < 2; i++) {
            struct side *s = sides[i];
            s->p.n = n;
            s->p.ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec * 1000;
            decode_packet_ex(&s->p, dlt, data, h->caplen, h->len, DECODE_NO_CHECKSUMS);
            s->n_cb_ev = 0;
            tcp_tracker_on_packet(s->t, &s->p, &s->ti);
        }
        tcp += f->ti.conn != NULL;
        same_view(f, g, path, n);
    }
    tcp_tracker_finish(f->t);
    tcp_tracker_finish(g->t);
    same_ends(f, g, path);
    struct tcp_tracker_stats fs, gs;
    tcp_tracker_stats(f->t, &fs);
    tcp_tracker_stats(g->t, &gs);
    assert_int_equal(gs.fast_segments, 0);
    assert_int_equal(gs.lone_syns, 0);
    fast_taken += fs.fast_segments;
    lone_taken += fs.lone_syns;
    side_close(f);
    side_close(g);
    free(f);
    free(g);
    pcap_close(pc);
    return tcp;
}

static uint64_t run_dir(const char *dir, int depth)
{
    uint64_t tcp = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR && depth < 4)
            tcp += run_dir(path, depth + 1);
        else if (strstr(de->d_name, ".pcap"))
            tcp += run_file(path);
    }
    closedir(d);
    return tcp;
}

static void test_bundled_captures(void **state)
{
    (void)state;
    assert_true(run_dir(SYNACK_SOURCE_DIR "/captures", 0) > 500);
}

static void test_shared_corpora(void **state)
{
    (void)state;
    if (access(SYNACK_SOURCE_DIR "/../shared/corpora", R_OK) != 0)
        skip();
    assert_true(run_dir(SYNACK_SOURCE_DIR "/../shared/corpora", 0) > 1000);
}

/* mkpcap capture in a temporary file, fed to both trackers. */
static uint64_t run_mkpcap(const char *args)
{
    char path[] = "/tmp/synack-fastpath-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' -q %s -o '%s'", SYNACK_MKPCAP, args, path);
    int rc = system(cmd);
    assert_true(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    uint64_t before = fast_taken;
    uint64_t tcp = run_file(path);
    unlink(path);
    assert_true(tcp > 1000);
    return fast_taken - before;
}

static void test_mkpcap_normal(void **state)
{
    (void)state;
    /* most of a normal capture is established data and ACKs */
    assert_true(run_mkpcap("-n 40000 -c 400 --seed 7") > 20000);
    assert_true(run_mkpcap("-n 20000 -c 3 --seed 3 --complete") > 10000);
}

static void test_mkpcap_other_modes(void **state)
{
    (void)state;
    run_mkpcap("--mode collide -n 20000 -c 300 --seed 5");
    uint64_t before = lone_taken;
    run_mkpcap("--mode synflood -n 5000 --with-real --seed 2");
    assert_true(lone_taken - before >= 5000); /* every flood SYN kept short */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_captures),
        cmocka_unit_test(test_shared_corpora),
        cmocka_unit_test(test_mkpcap_normal),
        cmocka_unit_test(test_mkpcap_other_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
