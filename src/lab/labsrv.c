/* labsrv.c -- the poll() loop shared by the lab servers: accept, dispatch,
 * stop on a signal.
 *
 * Part of the synack lab; see labsrv.h. */
#include "labsrv.h"
#include "lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* private helpers                                                          */
/* ------------------------------------------------------------------------ */

/* Make room for one more connection. Returns false when out of memory. */
static bool labsrv_grow(struct labsrv *s)
{
    size_t cap;
    struct labsrv_conn **conns;
    struct pollfd *pfds;

    if (s->nconns < s->cap)
        return true;
    cap = s->cap ? s->cap * 2 : 16;
    conns = realloc(s->conns, cap * sizeof *conns);
    if (conns == NULL)
        return false;
    s->conns = conns;
    pfds = realloc(s->pfds, (cap + 2) * sizeof *pfds);
    if (pfds == NULL)
        return false;
    s->pfds = pfds;
    s->cap = cap;
    return true;
}

/* Register an accepted descriptor and let the program take it. */
static void labsrv_add(struct labsrv *s, int fd, const char *ip, int port)
{
    char err[NET_ERR_LEN];
    struct labsrv_conn *c = NULL;

    if (!labsrv_grow(s) || (c = calloc(1, s->ops->conn_size)) == NULL) {
        lab_log("%s port %d: out of memory, connection dropped", ip, port);
        close(fd);
        return;
    }
    c->fd = fd;
    c->wake = -1;
    snprintf(c->name, sizeof c->name, "%s port %d", ip, port);
    lab_log("%s: accept", c->name);
    if (net_set_nonblock(err, fd, true) == NET_ERR) {
        lab_log("%s: %s", c->name, err);
        labsrv_close(s, c);
    } else if (!s->ops->open(s, c)) {
        labsrv_close(s, c);
    }
    s->conns[s->nconns++] = c; /* released at the sweep if closed */
}

/* Accept what is waiting, up to a burst. */
static void labsrv_accept(struct labsrv *s)
{
    char err[NET_ERR_LEN], ip[NET_ADDR_LEN];
    int port;

    for (int i = 0; i < LABSRV_ACCEPT_BURST; i++) {
        int fd = net_accept(err, s->lfd, ip, sizeof ip, &port);
        if (fd == NET_ERR) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The listener stays readable: poll it again only after a
                 * close, or this loop would spin. */
                lab_log("%s; not accepting until a client leaves", err);
                s->accept_paused = true;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                lab_log("%s", err);
            }
            return;
        }
        labsrv_add(s, fd, ip, port);
    }
}

/* SIGINT/SIGTERM: stop accepting and ask every connection to finish. */
static void labsrv_begin_stop(struct labsrv *s)
{
    lab_log("signal received: stopping");
    s->stopping = true;
    s->stop_deadline = lab_now_ms() + LABSRV_STOP_GRACE_MS;
    close(s->lfd);
    s->lfd = -1;
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i]->fd != -1)
            s->ops->stop(s, s->conns[i]);
}

/* Release the connections closed during this turn. */
static void labsrv_sweep(struct labsrv *s)
{
    for (size_t i = 0; i < s->nconns;) {
        struct labsrv_conn *c = s->conns[i];
        if (c->fd != -1) {
            i++;
            continue;
        }
        s->ops->release(s, c);
        free(c);
        s->conns[i] = s->conns[--s->nconns];
    }
}

/* ------------------------------------------------------------------------ */
/* API                                                                      */
/* ------------------------------------------------------------------------ */

int labsrv_init(char *err, struct labsrv *s, const struct labsrv_ops *ops, void *ctx,
                const char *bindaddr, int port, int backlog, int rcvbuf)
{
    memset(s, 0, sizeof *s);
    s->ops = ops;
    s->ctx = ctx;
    s->lfd = -1;
    s->sigfd = -1;
    s->pfds = malloc(2 * sizeof *s->pfds);
    if (s->pfds == NULL) {
        snprintf(err, NET_ERR_LEN, "out of memory");
        goto error;
    }
    s->sigfd = lab_signal_pipe(err);
    if (s->sigfd == -1)
        goto error;
    s->lfd = net_tcp_server(err, bindaddr, port, backlog, rcvbuf);
    if (s->lfd == NET_ERR || net_set_nonblock(err, s->lfd, true) == NET_ERR ||
        lab_announce_listening(err, s->lfd) == -1)
        goto error;
    return 0;
error:
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->sigfd >= 0)
        close(s->sigfd);
    free(s->pfds);
    s->pfds = NULL;
    return -1;
}

void labsrv_close(struct labsrv *s, struct labsrv_conn *c)
{
    if (c->fd == -1)
        return;
    close(c->fd);
    c->fd = -1;
    s->accept_paused = false; /* a descriptor is free again */
}

int labsrv_run(struct labsrv *s)
{
    int rv = LAB_EXIT_OK;

    for (;;) {
        int64_t now = lab_now_ms(), wake = -1;
        nfds_t n = 2;

        if (s->stopping && (s->nconns == 0 || now >= s->stop_deadline)) {
            for (size_t i = 0; i < s->nconns; i++) {
                if (s->conns[i]->fd != -1)
                    lab_log("%s: close (stop grace period over)", s->conns[i]->name);
                labsrv_close(s, s->conns[i]);
            }
            break;
        }
        s->pfds[0] = (struct pollfd){.fd = s->sigfd, .events = POLLIN};
        s->pfds[1] =
            (struct pollfd){.fd = s->stopping || s->accept_paused ? -1 : s->lfd, .events = POLLIN};
        for (size_t i = 0; i < s->nconns; i++) {
            struct labsrv_conn *c = s->conns[i];
            c->wake = -1;
            short ev = s->ops->events(s, c, now);
            if (c->wake != -1 && (wake == -1 || c->wake < wake))
                wake = c->wake;
            s->pfds[n++] = (struct pollfd){.fd = c->fd, .events = ev};
        }
        if (s->stopping && (wake == -1 || s->stop_deadline < wake))
            wake = s->stop_deadline;
        if (poll(s->pfds, n, wake == -1 ? -1 : lab_poll_timeout(wake)) == -1) {
            if (errno == EINTR)
                continue;
            lab_error("poll: %s", strerror(errno));
            rv = LAB_EXIT_FAIL;
            break;
        }
        now = lab_now_ms();
        /* Connections first (their slots match pfds[2..]), then arrivals. */
        size_t nc = s->nconns;
        for (size_t i = 0; i < nc; i++) {
            struct labsrv_conn *c = s->conns[i];
            short rev = s->pfds[i + 2].revents;
            if (c->fd != -1 && (rev != 0 || (c->wake != -1 && now >= c->wake)))
                s->ops->service(s, c, rev, now);
        }
        if ((s->pfds[0].revents & POLLIN) && lab_signal_taken(s->sigfd) && !s->stopping)
            labsrv_begin_stop(s);
        if (!s->stopping && (s->pfds[1].revents & POLLIN))
            labsrv_accept(s);
        labsrv_sweep(s);
    }
    labsrv_sweep(s);
    if (s->lfd != -1)
        close(s->lfd);
    close(s->sigfd);
    free(s->conns);
    free(s->pfds);
    return rv;
}
