/* labsrv.h -- the one poll() loop both lab servers run: listen and announce
 * readiness, accept, hand each connection's poll results to the program,
 * stop cleanly on SIGINT/SIGTERM.
 *
 * Part of the synack lab. A program embeds struct labsrv_conn as the first
 * member of its own per-connection struct and supplies struct labsrv_ops
 * (the Redis dictType habit: behaviour through a small table of function
 * pointers). One thread, no fork: a slow connection never blocks another,
 * because every socket is non-blocking and only touched when poll() says
 * it is ready. */
#ifndef SYNACK_LAB_LABSRV_H
#define SYNACK_LAB_LABSRV_H

#include "net.h"

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connections accepted per loop turn, so a flood cannot starve clients. */
#define LABSRV_ACCEPT_BURST 64
/* How long a stopping server lets connections finish before closing them. */
#define LABSRV_STOP_GRACE_MS 2000

struct labsrv;

/* What the loop knows of a connection; first member of the program's. */
struct labsrv_conn {
    int fd;                       /* non-blocking socket; -1 once closed */
    char name[NET_ADDR_LEN + 16]; /* "ADDR port PORT" of the peer, for logs */
    int64_t wake;                 /* set by ops->events: monotonic ms, or -1 */
};

struct labsrv_ops {
    /* Size of the program's connection struct (labsrv_conn first). */
    size_t conn_size;
    /* A connection was accepted and logged; `c` is zeroed but for fd and
     * name. Return false to refuse it (the loop then closes it). */
    bool (*open)(struct labsrv *s, struct labsrv_conn *c);
    /* The poll() events wanted for `c` now. Set c->wake to a time at which
     * service() must run even without events, or leave it -1. */
    short (*events)(struct labsrv *s, struct labsrv_conn *c, int64_t now);
    /* poll() reported `revents` (0 when c->wake has come). */
    void (*service)(struct labsrv *s, struct labsrv_conn *c, short revents, int64_t now);
    /* The server is stopping: finish what is pending and close, or close
     * now. Connections still open after LABSRV_STOP_GRACE_MS are closed by
     * the loop. */
    void (*stop)(struct labsrv *s, struct labsrv_conn *c);
    /* Free what open() and service() allocated; c->fd is already closed. */
    void (*release)(struct labsrv *s, struct labsrv_conn *c);
};

struct labsrv {
    const struct labsrv_ops *ops;
    void *ctx;                  /* the program's own state, for callbacks */
    int lfd;                    /* listening socket; -1 once stopping */
    int sigfd;                  /* signal self-pipe */
    bool stopping;              /* SIGINT/SIGTERM seen */
    bool accept_paused;         /* out of descriptors: wait for a close */
    int64_t stop_deadline;      /* when stopping: force-close after this */
    struct labsrv_conn **conns; /* open connections, unordered */
    size_t nconns, cap;
    struct pollfd *pfds; /* 2 + cap: signals, listener, connections */
};

/* Set up `s`: signal self-pipe, non-blocking listener on `bindaddr`/`port`
 * (see net_tcp_server), then print the readiness line "listening on ADDR
 * port PORT" on stdout. Returns 0, or -1 with `err` filled. */
int labsrv_init(char *err, struct labsrv *s, const struct labsrv_ops *ops, void *ctx,
                const char *bindaddr, int port, int backlog, int rcvbuf);

/* Run the loop until a signal has stopped the server and every connection
 * is closed. Returns the exit status: LAB_EXIT_OK, or LAB_EXIT_FAIL if
 * poll() itself failed. Frees everything. */
int labsrv_run(struct labsrv *s);

/* Close connection `c` now (it is released at the end of the loop turn). */
void labsrv_close(struct labsrv *s, struct labsrv_conn *c);

#endif
