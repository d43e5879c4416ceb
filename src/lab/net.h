/* net.h -- small TCP socket helpers shared by the lab programs.
 *
 * Part of the synack lab (echo and file servers and clients); the pipeline
 * does not use it. Every call that can fail takes a `char *err` buffer of
 * NET_ERR_LEN bytes (NULL is allowed when the caller does not want the text),
 * fills it with one line of plain words on failure and returns NET_ERR;
 * success is NET_OK or a descriptor. IPv4 and IPv6 are handled alike. */
#ifndef SYNACK_LAB_NET_H
#define SYNACK_LAB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define NET_OK 0
#define NET_ERR -1
#define NET_ERR_LEN 256
/* Room for a numeric IPv6 address with a scope id, and its NUL. */
#define NET_ADDR_LEN 64

/* Options applied to a client socket between socket() and connect(). */
struct net_connect_opts {
    int mss;       /* TCP_MAXSEG to announce in the SYN; 0 keeps the default */
    int bind_port; /* fixed source port (with SO_REUSEADDR); 0 lets the kernel pick */
};

/* Open a listening TCP socket on `bindaddr` (numeric address or host name)
 * and `port` (0 picks a free port). A NULL `bindaddr` means every address:
 * one dual-stack socket on :: with IPV6_V6ONLY off, or 0.0.0.0 where IPv6
 * is unavailable. `rcvbuf` > 0 sets SO_RCVBUF before listen() so that
 * accepted sockets inherit it (and the window scale is chosen from it).
 * SO_REUSEADDR is always set. Returns the descriptor (blocking, close-on-
 * exec), or NET_ERR with `err` filled. */
int net_tcp_server(char *err, const char *bindaddr, int port, int backlog, int rcvbuf);

/* Resolve `host`, then try each address in turn until one connects. `opts`
 * may be NULL. Returns a connected, blocking, close-on-exec descriptor, or
 * NET_ERR with `err` naming the host and port and explaining the last
 * failure in plain words (see net_connect_strerror). */
int net_tcp_connect(char *err, const char *host, int port, const struct net_connect_opts *opts);

/* Accept one connection from listening socket `sfd`. On success returns the
 * new descriptor (close-on-exec) and, when `ip`/`port` are not NULL, the
 * peer's numeric address (IPv4-mapped IPv6 shown as plain IPv4) and port.
 * Returns NET_ERR with errno preserved (EAGAIN, EMFILE, ...) and `err`
 * filled; EINTR and ECONNABORTED are retried inside. */
int net_accept(char *err, int sfd, char *ip, size_t iplen, int *port);

/* Local (`peer` false) or remote (`peer` true) address and port of socket
 * `fd`, formatted as by net_accept. Returns NET_OK or NET_ERR. */
int net_sock_name(char *err, int fd, bool peer, char *ip, size_t iplen, int *port);

/* Switch O_NONBLOCK on or off. Returns NET_OK or NET_ERR. */
int net_set_nonblock(char *err, int fd, bool on);

/* SO_LINGER {1, 0}: the next close() aborts the connection with an RST
 * instead of the FIN handshake, discarding unsent data. */
int net_set_abortive_close(char *err, int fd);

/* SO_KEEPALIVE with TCP_KEEPIDLE `idle` s, TCP_KEEPINTVL `intvl` s and
 * TCP_KEEPCNT `cnt` probes. Returns NET_OK or NET_ERR. */
int net_set_keepalive(char *err, int fd, int idle, int intvl, int cnt);

/* Send all `len` bytes on blocking socket `fd`, retrying short sends and
 * EINTR, never raising SIGPIPE. Returns NET_OK, or NET_ERR with errno set
 * and `err` filled. */
int net_send_all(char *err, int fd, const void *buf, size_t len);

/* Write all `len` bytes to file descriptor `fd` (a file, not a socket),
 * retrying short writes and EINTR. Returns NET_OK or NET_ERR. */
int net_write_all(char *err, int fd, const void *buf, size_t len);

/* Plain words for an errno value from connect() or from a connected
 * socket: "connection refused (nothing is listening there)",
 * "connection timed out (no answer)", "no route to host (unreachable)", ...
 * Falls back to strerror(). Never returns NULL. */
const char *net_connect_strerror(int errnum);

#endif
