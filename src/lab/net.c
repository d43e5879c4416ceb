/* net.c -- TCP socket helpers for the lab programs: listen, connect, accept,
 * socket options and full sends, each reporting failure in plain words.
 *
 * Part of the synack lab; see net.h for the calling convention (an `err`
 * buffer and NET_OK/NET_ERR returns). */
#define _GNU_SOURCE /* accept4() */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* private helpers                                                          */
/* ------------------------------------------------------------------------ */

/* Fill `err` (if not NULL) with a formatted message, truncated to fit. */
__attribute__((format(printf, 2, 3))) static void net_set_error(char *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err, NET_ERR_LEN, fmt, ap);
    va_end(ap);
}

/* Numeric address and port of `sa`; an IPv4-mapped IPv6 address (what a
 * dual-stack socket reports for an IPv4 peer) is shown as plain IPv4. */
static void net_format(const struct sockaddr_storage *sa, char *ip, size_t iplen, int *port)
{
    char buf[NET_ADDR_LEN] = "?";
    int p = 0;

    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof buf);
        p = ntohs(s4->sin_port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, sizeof buf);
        else
            inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof buf);
        p = ntohs(s6->sin6_port);
    }
    if (ip != NULL && iplen > 0)
        snprintf(ip, iplen, "%s", buf);
    if (port != NULL)
        *port = p;
}

/* One getaddrinfo() loop for both ends: resolve `host` (NULL with
 * AI_PASSIVE for "any") and return the list, or NULL with `err` filled. */
static struct addrinfo *net_resolve(char *err, const char *host, int port, int flags)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int rv;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = flags;
    snprintf(portstr, sizeof portstr, "%d", port);
    rv = getaddrinfo(host, portstr, &hints, &res);
    if (rv != 0) {
        net_set_error(err, "cannot resolve %s: %s", host ? host : "(any)",
                      rv == EAI_SYSTEM ? strerror(errno) : gai_strerror(rv));
        errno = rv == EAI_SYSTEM ? errno : EINVAL;
        return NULL;
    }
    return res;
}

/* Listen on the addresses of `bindaddr`, the first that works. */
static int net_listen_any_of(char *err, const char *bindaddr, int port, int backlog, int rcvbuf)
{
    struct addrinfo *res, *ai;
    int fd = NET_ERR, saved = 0, on = 1, off = 0;
    const char *step = "socket";

    res = net_resolve(err, bindaddr, port, AI_PASSIVE);
    if (res == NULL)
        return NET_ERR;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd == -1) {
            step = "socket";
            saved = errno;
            continue;
        }
        step = "setsockopt";
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
            goto next;
        /* One socket for both families: IPv4 peers appear as ::ffff:a.b.c.d. */
        if (ai->ai_family == AF_INET6 &&
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == -1)
            goto next;
        /* Before listen(): accepted sockets inherit it, and the window
         * scale offered in the SYN-ACK is chosen from it. */
        if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == -1)
            goto next;
        step = "bind";
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
            goto next;
        step = "listen";
        if (listen(fd, backlog) == -1)
            goto next;
        goto end; /* success */
    next:
        saved = errno;
        close(fd);
        fd = NET_ERR;
    }
    net_set_error(err, "cannot listen on %s port %d: %s: %s", bindaddr ? bindaddr : "(any)", port,
                  step, net_connect_strerror(saved));
    errno = saved;
end:
    freeaddrinfo(res);
    return fd;
}

/* ------------------------------------------------------------------------ */
/* API                                                                      */
/* ------------------------------------------------------------------------ */

int net_tcp_server(char *err, const char *bindaddr, int port, int backlog, int rcvbuf)
{
    int fd;

    if (bindaddr != NULL)
        return net_listen_any_of(err, bindaddr, port, backlog, rcvbuf);
    /* Every address: dual-stack :: first, plain IPv4 where IPv6 is missing. */
    fd = net_listen_any_of(err, "::", port, backlog, rcvbuf);
    if (fd == NET_ERR && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
        fd = net_listen_any_of(err, "0.0.0.0", port, backlog, rcvbuf);
    return fd;
}

int net_tcp_connect(char *err, const char *host, int port, const struct net_connect_opts *opts)
{
    struct addrinfo *res, *ai;
    int fd = NET_ERR, saved = 0, on = 1;
    const char *what = NULL; /* set when a step other than connect() failed */

    res = net_resolve(err, host, port, 0);
    if (res == NULL)
        return NET_ERR;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd == -1) {
            saved = errno;
            what = "socket";
            continue;
        }
        if (opts != NULL && opts->mss > 0 &&
            setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &opts->mss, sizeof opts->mss) == -1) {
            what = "cannot set TCP_MAXSEG";
            goto next;
        }
        if (opts != NULL && opts->bind_port > 0) {
            struct sockaddr_storage local;
            memset(&local, 0, sizeof local);
            if (ai->ai_family == AF_INET6) {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&local;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((unsigned short)opts->bind_port);
            } else {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&local;
                s4->sin_family = AF_INET;
                s4->sin_port = htons((unsigned short)opts->bind_port);
            }
            what = "cannot bind the source port";
            if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
                bind(fd, (struct sockaddr *)&local, (socklen_t)ai->ai_addrlen) == -1)
                goto next;
        }
        what = NULL;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            goto end; /* success */
    next:
        saved = errno;
        close(fd);
        fd = NET_ERR;
    }
    if (what != NULL)
        net_set_error(err, "cannot connect to %s port %d: %s: %s", host, port, what,
                      net_connect_strerror(saved));
    else
        net_set_error(err, "cannot connect to %s port %d: %s", host, port,
                      net_connect_strerror(saved));
    errno = saved;
end:
    freeaddrinfo(res);
    return fd;
}

int net_accept(char *err, int sfd, char *ip, size_t iplen, int *port)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    int fd;

    for (;;) {
        salen = sizeof sa;
        fd = accept4(sfd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC);
        if (fd != -1)
            break;
        /* A connection that died in the accept queue is not our error. */
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        net_set_error(err, "accept: %s", strerror(errno));
        return NET_ERR;
    }
    net_format(&sa, ip, iplen, port);
    return fd;
}

int net_sock_name(char *err, int fd, bool peer, char *ip, size_t iplen, int *port)
{
    struct sockaddr_storage sa;
    socklen_t salen = sizeof sa;
    int rv;

    memset(&sa, 0, sizeof sa);
    rv = peer ? getpeername(fd, (struct sockaddr *)&sa, &salen)
              : getsockname(fd, (struct sockaddr *)&sa, &salen);
    if (rv == -1) {
        net_set_error(err, "%s: %s", peer ? "getpeername" : "getsockname", strerror(errno));
        return NET_ERR;
    }
    net_format(&sa, ip, iplen, port);
    return NET_OK;
}

int net_set_nonblock(char *err, int fd, bool on)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags == -1) {
        net_set_error(err, "fcntl(F_GETFL): %s", strerror(errno));
        return NET_ERR;
    }
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (fcntl(fd, F_SETFL, flags) == -1) {
        net_set_error(err, "fcntl(F_SETFL): %s", strerror(errno));
        return NET_ERR;
    }
    return NET_OK;
}

int net_set_abortive_close(char *err, int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == -1) {
        net_set_error(err, "setsockopt(SO_LINGER): %s", strerror(errno));
        return NET_ERR;
    }
    return NET_OK;
}

int net_set_keepalive(char *err, int fd, int idle, int intvl, int cnt)
{
    int on = 1;

    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) == -1 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) == -1 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) == -1 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) == -1) {
        net_set_error(err, "cannot enable keep-alive: %s", strerror(errno));
        return NET_ERR;
    }
    return NET_OK;
}

int net_send_all(char *err, int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            net_set_error(err, "send: %s", net_connect_strerror(saved));
            errno = saved;
            return NET_ERR;
        }
        p += n;
        len -= (size_t)n;
    }
    return NET_OK;
}

int net_write_all(char *err, int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            net_set_error(err, "write: %s", strerror(saved));
            errno = saved;
            return NET_ERR;
        }
        p += n;
        len -= (size_t)n;
    }
    return NET_OK;
}

const char *net_connect_strerror(int errnum)
{
    switch (errnum) {
    case ECONNREFUSED:
        return "connection refused (nothing is listening there)";
    case ETIMEDOUT:
        return "connection timed out (no answer from the other end)";
    case EHOSTUNREACH:
        return "host unreachable (no route to it)";
    case ENETUNREACH:
        return "network unreachable (no route to it)";
    case ECONNRESET:
        return "connection reset by peer (RST)";
    case EPIPE:
        return "connection closed by peer (broken pipe)";
    case EADDRINUSE:
        return "address already in use";
    case EADDRNOTAVAIL:
        return "address not available on this machine";
    case EAFNOSUPPORT:
        return "address family not supported (IPv6 disabled?)";
    case EACCES:
    case EPERM:
        return "permission denied (a firewall rule, or a privileged port)";
    default:
        return strerror(errnum);
    }
}
