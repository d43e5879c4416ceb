/* file_client.c -- synack-file-client: fetches one file from
 * synack-file-server with the lab file protocol (fileproto.h) and checks
 * that exactly the announced number of bytes arrived.
 *
 * Part of the synack lab (src/lab/README.md). On success the only stdout
 * line is "received N bytes into PATH, local port P". */
#include "fileproto.h"
#include "lab.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct fc_opts {
    const char *host;   /* --host */
    int port;           /* --port */
    const char *name;   /* the file to fetch */
    const char *output; /* -o, or NULL for received-BASENAME */
    int timeout_ms;     /* --timeout-ms, 0 for none */
};

/* A receive buffer: the status line first, then body bytes. */
struct fc_buf {
    unsigned char data[64 * 1024];
    size_t len;
};

static void fc_usage(void)
{
    printf("Usage: %s [OPTION]... NAME\n"
           "Fetch file NAME from a synack-file-server and write it to received-BASENAME\n"
           "(BASENAME: NAME after its last '/') or to the -o path. The length the server\n"
           "announces is checked; on success the one stdout line is\n"
           "\"received N bytes into PATH, local port P\".\n"
           "\n"
           "  -H, --host HOST          server address or name (default 127.0.0.1)\n"
           "  -p, --port PORT          server port (default 7789)\n"
           "  -o, --output PATH        where to write the file\n"
           "      --timeout-ms MS      longest wait for the server (default 10000; 0: none)\n"
           "  -h, --help               show this help and exit\n"
           "\n"
           "Exit status: 0 success, 1 failure (cannot connect, ERR response, short read),\n"
           "2 usage error.\n",
           lab_prog);
}

static void fc_parse(int argc, char **argv, struct fc_opts *o)
{
    enum { OPT_TIMEOUT = 256 };
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 7789;
    o->timeout_ms = 10000;
    while ((c = getopt_long(argc, argv, "H:p:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H':
            o->host = optarg;
            break;
        case 'p':
            o->port = (int)lab_opt_long("--port", optarg, 1, 65535);
            break;
        case 'o':
            o->output = optarg;
            break;
        case OPT_TIMEOUT:
            o->timeout_ms = (int)lab_opt_long("--timeout-ms", optarg, 0, 24L * 3600 * 1000);
            break;
        case 'h':
            fc_usage();
            exit(LAB_EXIT_OK);
        default:
            fprintf(stderr, "Try '%s --help'.\n", lab_prog);
            exit(LAB_EXIT_USAGE);
        }
    }
    if (optind == argc)
        lab_usage_error("missing file NAME");
    if (optind + 1 < argc)
        lab_usage_error("one file NAME only ('%s' is extra)", argv[optind + 1]);
    o->name = argv[optind];
    if (o->name[0] == '\0' || strlen(o->name) > FILEPROTO_NAME_MAX || strchr(o->name, '\n'))
        lab_usage_error("invalid NAME (1 to %d bytes, no newline)", FILEPROTO_NAME_MAX);
    if (o->output != NULL && o->output[0] == '\0')
        lab_usage_error("empty -o PATH");
}

/* One recv() appended to `b`. Returns the byte count, 0 at the server's
 * FIN, -1 after reporting an error or a timeout. */
static ssize_t fc_recv(int fd, struct fc_buf *b, const struct fc_opts *o)
{
    ssize_t n;

    do
        n = recv(fd, b->data + b->len, sizeof b->data - b->len, 0);
    while (n == -1 && errno == EINTR);
    if (n == -1) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            lab_error("timed out after %d ms waiting for the server", o->timeout_ms);
        else
            lab_error("recv: %s", net_connect_strerror(errno));
        return -1;
    }
    b->len += (size_t)n;
    return n;
}

/* Read the status line into `line` (NUL-terminated, no '\n'); body bytes
 * that came with it stay at the front of `b`. Returns 0 or -1. */
static int fc_status(int fd, struct fc_buf *b, char *line, const struct fc_opts *o)
{
    unsigned char *nl;

    while ((nl = memchr(b->data, '\n', b->len)) == NULL) {
        if (b->len >= FILEPROTO_STATUS_MAX) {
            lab_error("no status line from %s port %d (not a synack file server?)", o->host,
                      o->port);
            return -1;
        }
        ssize_t n = fc_recv(fd, b, o);
        if (n == 0)
            lab_error("the server closed the connection without a response");
        if (n <= 0)
            return -1;
    }
    size_t len = (size_t)(nl - b->data);
    if (len >= FILEPROTO_STATUS_MAX) {
        lab_error("status line too long (not a synack file server?)");
        return -1;
    }
    memcpy(line, b->data, len);
    line[len] = '\0';
    b->len -= len + 1;
    memmove(b->data, nl + 1, b->len);
    return 0;
}

/* Receive exactly `length` body bytes into descriptor `out`, then the
 * server's FIN. Returns 0, or -1 after reporting. */
static int fc_body(int fd, struct fc_buf *b, uint64_t length, int out, const struct fc_opts *o)
{
    char err[NET_ERR_LEN];
    uint64_t got = 0;

    for (;;) {
        if (got + b->len > length) {
            lab_error("the server sent more than the announced %llu bytes",
                      (unsigned long long)length);
            return -1;
        }
        if (net_write_all(err, out, b->data, b->len) == NET_ERR) {
            lab_error("cannot write the output: %s", err);
            return -1;
        }
        got += b->len;
        b->len = 0;
        ssize_t n = fc_recv(fd, b, o);
        if (n == -1)
            return -1;
        if (n == 0)
            break;
    }
    if (got < length) {
        lab_error("short read: the connection ended after %llu of %llu bytes",
                  (unsigned long long)got, (unsigned long long)length);
        return -1;
    }
    return 0;
}

/* The default output name: "received-" and NAME's last component. */
static char *fc_default_output(const char *name)
{
    const char *base = strrchr(name, '/');
    char *path;

    base = base != NULL ? base + 1 : name;
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        lab_usage_error("cannot name the output after '%s'; use -o PATH", name);
    path = malloc(strlen("received-") + strlen(base) + 1);
    if (path != NULL)
        sprintf(path, "received-%s", base);
    return path;
}

int main(int argc, char **argv)
{
    static struct fc_buf b; /* 64 KiB: off the stack */
    struct fc_opts o;
    char err[NET_ERR_LEN], line[FILEPROTO_STATUS_MAX];
    char *path = NULL;
    const char *msg;
    size_t msglen;
    uint64_t length;
    struct timeval tv;
    int fd, out = -1, port = 0, rv = LAB_EXIT_FAIL;
    bool created = false; /* the output exists: remove it on failure */

    lab_prog = "synack-file-client";
    fc_parse(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    path = o.output != NULL ? strdup(o.output) : fc_default_output(o.name);
    if (path == NULL) {
        lab_error("out of memory");
        return LAB_EXIT_FAIL;
    }

    fd = net_tcp_connect(err, o.host, o.port, NULL);
    if (fd == NET_ERR) {
        lab_error("%s", err);
        goto end;
    }
    tv.tv_sec = o.timeout_ms / 1000;
    tv.tv_usec = (o.timeout_ms % 1000) * 1000;
    if (net_sock_name(err, fd, false, NULL, 0, &port) == NET_ERR ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
        net_send_all(err, fd, o.name, strlen(o.name)) == NET_ERR ||
        net_send_all(err, fd, "\n", 1) == NET_ERR) {
        lab_error("%s", err);
        goto end;
    }
    if (fc_status(fd, &b, line, &o) == -1)
        goto end;
    switch (fileproto_parse_status(line, strlen(line), &length, &msg, &msglen)) {
    case 0:
        lab_error("server refused '%s': %.*s", o.name, (int)msglen, msg);
        goto end;
    case 1:
        break;
    default:
        lab_error("unexpected status line from the server: '%.80s'", line);
        goto end;
    }
    out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out == -1) {
        lab_error("cannot create %s: %s", path, strerror(errno));
        goto end;
    }
    created = true;
    if (fc_body(fd, &b, length, out, &o) == -1)
        goto end;
    if (close(out) == -1) {
        out = -1;
        lab_error("cannot write %s: %s", path, strerror(errno));
        goto end;
    }
    out = -1;
    printf("received %llu bytes into %s, local port %d\n", (unsigned long long)length, path, port);
    rv = LAB_EXIT_OK;
end:
    if (out != -1)
        close(out);
    if (rv != LAB_EXIT_OK && created)
        unlink(path); /* never leave a partial file under the final name */
    if (fd != NET_ERR)
        close(fd);
    free(path);
    return rv;
}
