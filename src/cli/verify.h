/* verify.h - `synack verify`: shared types of the verify command's files.
 *
 * Pipeline place: live source or file -> decode -> tracker -> [verify observer sink
 * + stream store] -> checks -> verdicts (text, NDJSON, JUnit).
 *   verify_obs.c     the sink: per-connection facts with frame numbers
 *   verify_checks.c  one function per check, from those facts to a verdict
 *   verify_report.c  verdict blocks, summary table, NDJSON, JUnit XML
 *   verify_run.c     live driving: start/stop servers, scenarios, readiness, probes
 *   cmd_verify.c     options, servers, the run
 */
#ifndef SYNACK_VERIFY_H
#define SYNACK_VERIFY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "synack/pipeline.h"
#include "synack/stream.h"

/* ---------------------------------------------------------------- checks */

/* X(ENUM, "name", "one-line meaning") */
#define VERIFY_CHECKS(X)                                                                           \
    X(LISTENING, "listening", "a SYN to the server is answered by SYN/ACK, not RST")               \
    X(HANDSHAKE, "handshake",                                                                      \
      "SYN/ACK acknowledges the client's ISN+1 and the client's ACK the server's ISN+1")           \
    X(ECHO, "echo",                                                                                \
      "the bytes coming back equal the bytes sent, as a byte stream (--upper: "                    \
      "upper-cased)")                                                                              \
    X(MSS, "mss",                                                                                  \
      "no segment's payload plus TCP option bytes exceeds the MSS its receiver "                   \
      "announced (RFC 6691)")                                                                      \
    X(GRACEFUL_CLOSE, "graceful-close", "FIN each way, each acknowledged, no RST")                 \
    X(CLOSER, "closer", "the expected side (--closer) sends the first FIN and ends in TIME_WAIT")  \
    X(NO_CLOSE_WAIT_LEAK, "no-close-wait-leak",                                                    \
      "the server sends its FIN after the client's (does not stay in CLOSE_WAIT)")                 \
    X(CONCURRENT, "concurrent", "N clients at once are all served, none waits for another")        \
    X(REFUSED_WHEN_CLOSED, "refused-when-closed", "a SYN to a closed port is answered by RST")     \
    X(HALF_CLOSE, "half-close", "data the server sends after the client's FIN is delivered")

enum vcheck {
#define VERIFY_CHECK_ENUM(id, name, what) CHK_##id,
    VERIFY_CHECKS(VERIFY_CHECK_ENUM)
#undef VERIFY_CHECK_ENUM
        CHK_COUNT
};

const char *vcheck_name(enum vcheck k);
const char *vcheck_what(enum vcheck k);
/* Check by name; -1 when unknown. */
int vcheck_find(const char *name);

enum vresult { V_PASS = 0, V_FAIL, V_INCONCLUSIVE };
const char *vresult_name(enum vresult r); /* "PASS", "FAIL", "INCONCLUSIVE" */

#define VERDICT_MAX_FRAMES 8
#define VERDICT_REASON 640

struct verdict {
    bool judged;
    enum vresult result;
    char reason[VERDICT_REASON];
    uint64_t frames[VERDICT_MAX_FRAMES];
    unsigned n_frames;
    bool unreliable; /* INCONCLUSIVE because the capture missed evidence (a check
                        over several connections is then INCONCLUSIVE as a whole) */
};

/* ---------------------------------------------------------------- observations */

/* What one direction of a connection did (direction as in the stream store: 0 is the
 * first captured sender).  Frame 0 means "not seen". */
struct vdir {
    uint64_t syn_frame; /* first SYN without ACK */
    uint32_t syn_seq;
    int64_t syn_ts;
    uint64_t synack_frame; /* first SYN/ACK */
    uint32_t synack_seq, synack_ack;
    int64_t synack_ts;
    uint64_t hs_ack_frame; /* first ACK without SYN after the peer's SYN/ACK */
    uint32_t hs_ack_ack;
    uint64_t rst_frame; /* first RST */
    int64_t rst_ts;
    uint8_t rst_flags;
    uint64_t fin_frame; /* first FIN */
    int64_t fin_ts;
    uint32_t fin_seq;
    uint64_t fin_acked_frame; /* the peer's first ACK covering this FIN */
    uint64_t first_data_frame, last_data_frame;
    int64_t first_data_ts, last_data_ts;
    uint64_t data_after_peer_fin; /* payload bytes sent after the peer's FIN was seen */
    uint64_t data_after_peer_fin_frame;
    uint64_t max_seg_frame; /* largest payload + option bytes */
    uint32_t max_seg, max_seg_opt;
    uint32_t above_mss;   /* segments whose payload + options exceed the receiver's MSS */
    uint64_t above_frame; /* the largest of them */
    uint32_t above_len, above_opt;
    bool has_mss; /* MSS option on its SYN */
    uint16_t mss;
    uint32_t gaps; /* packets flagged tcp.acked_unseen / tcp.prev_not_captured */
    uint64_t gap_frame;
    uint32_t truncated; /* snaplen-truncated packets with payload */
    uint64_t trunc_frame;
    uint64_t time_wait_frame; /* entered TIME_WAIT (event) */
    uint64_t close_wait_frame;
    uint8_t state; /* enum tcp_state, latest */
    uint32_t packets;
};

struct vconn {
    uint64_t id; /* the tracker's connection id */
    bool seen;
    bool ended;
    uint8_t family;
    uint8_t addr[2][16];
    uint16_t port[2];
    struct vdir d[2];
    uint64_t first_frame, last_frame;
    int64_t first_ts, last_ts;
    uint8_t client_dir; /* by the tracker's roles (latest) */
};

/* The observer: a sink plus the stream store. */
struct vobs {
    struct sink base;
    struct vconn *conns; /* in id order (ids appear in increasing order) */
    size_t n, cap;
    uint64_t max_id;
    const uint8_t (*hosts)[17]; /* when set: only connections with one of these hosts
                                   (family byte, then 16 address bytes) are kept */
    size_t n_hosts;
    struct stream_store *streams;
    uint64_t frames;          /* last frame seen */
    int64_t last_ts;          /* time of the last packet */
    uint64_t snap_truncated;  /* in the whole run */
    struct run_totals totals; /* at finish */
    bool finished;
};

/* Set up / tear down the observer (it is not freed by the pipeline: its destroy does
 * nothing; call vobs_free). Returns 0, or -1 when memory or the temporary file fails. */
int vobs_init(struct vobs *o);
void vobs_free(struct vobs *o);
/* Connection id, or NULL. */
struct vconn *vobs_conn(struct vobs *o, uint64_t id);

/* ---------------------------------------------------------------- servers */

enum vkind { KIND_ECHO = 0, KIND_FILE };
enum voffload { OFFLOAD_AUTO = 0, OFFLOAD_ON, OFFLOAD_OFF };

/* Live scenarios: connection id ranges (lo, hi] each one made. */
enum vscen { SC_READY = 0, SC_MAIN, SC_CONCURRENT, SC_HALF, SC_PROBE, SC_COUNT };

struct vserver {
    char name[80];  /* "127.0.0.1:7788", "[::1]:7788" */
    char host[64];  /* as given */
    uint8_t family; /* 4 or 6 */
    uint8_t addr[16];
    uint16_t port;
    char *command;             /* --start, NULL: already running */
    uint16_t probe_port;       /* closed port for refused-when-closed */
    bool probe_is_server_port; /* probing the server's port after stopping it */
    bool probe_found_free;     /* the probe port was found free by bind() */
    /* live run results */
    bool live;
    bool ran; /* its session happened */
    uint64_t lo[SC_COUNT], hi[SC_COUNT];
    bool scen_ran[SC_COUNT];
    bool ready;
    char ready_note[320];  /* why not ready, or how it became ready */
    pid_t pid;             /* started command, 0 none */
    bool exited;           /* the started command ended on its own */
    int exit_status;       /* raw wait status */
    char last_output[200]; /* last line the started command printed */
    char proc_note[320];   /* what happened to the process during the run */
    char main_client[256]; /* the scenario client's last line */
    int main_client_status;
    uint64_t dropped; /* kernel drops during its session */
    bool interrupted;
    int64_t judge_ns; /* wall-clock time (epoch ns) when judged */
    double seconds;   /* wall time of its session */
    struct verdict v[CHK_COUNT];
};

/* ---------------------------------------------------------------- the run */

struct verify {
    /* options */
    enum vkind kind;
    bool selected[CHK_COUNT];
    bool upper;
    int closer; /* ROLE_CLIENT or ROLE_SERVER */
    unsigned clients;
    unsigned timeout_s;
    const char *file_name; /* --file: the name the file scenarios request */
    enum voffload offload;
    bool json;
    const char *read_file;  /* -r */
    const char *iface;      /* -i, or chosen */
    int buffer_kib;         /* -B */
    const char *write_file; /* -w */
    const char *junit_path;
    FILE *junit;
    const char *drop_user;
    char *filter; /* -r: trailing BPF filter */
    char bindir[4096];
    char tmpdir[4096];
    /* servers */
    struct vserver *servers;
    size_t n_servers, cap_servers;
    /* state */
    struct source *src;
    struct pipeline pl;
    bool pl_ready;
    struct vobs obs;
    int offload_state;      /* live: 1 on, 0 off, -1 unknown */
    uint64_t hdr_truncated; /* -r: packets whose IP or TCP header the snaplen cut */
    bool loopback_iface;
};

/* verify_checks.c: judge every selected check of server s (those already judged are
 * left alone unless redo).  now_ns: wall clock for live runs, 0 for files. */
void verify_judge(struct verify *V, struct vserver *s, int64_t now_ns, bool only_probe);
/* Apply what makes evidence unreliable (kernel drops) to s's verdicts. */
void verify_downgrade(struct verify *V, struct vserver *s);

/* verify_report.c */
void verify_print_server(const struct verify *V, const struct vserver *s);
void verify_print_summary(const struct verify *V);
int verify_write_junit(const struct verify *V, char *err, size_t errlen);
int verify_exit_code(const struct verify *V);

/* verify_run.c: the live session of one server (start, ready, scenarios, judge, stop).
 * Returns 0, or -1 when interrupted. */
int verify_live_server(struct verify *V, struct vserver *s);
/* Kill whatever verify started and is still running (signal or exit paths). */
void verify_kill_all(struct verify *V);
/* Set by the SIGINT/SIGTERM handler. */
extern volatile sig_atomic_t verify_interrupted;
/* Wall clock, epoch ns. */
int64_t verify_now_ns(void);

#endif
