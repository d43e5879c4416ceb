/* cmd_verify.c - `synack verify`: does a lab or test server behave?  Named checks, each
 * PASS, FAIL or INCONCLUSIVE with a one-line reason and the frame numbers that prove
 * it, an exit code a script can use, NDJSON and JUnit XML for CI.
 *
 * Pipeline place: options -> live source on the interface that reaches the server (or a
 * file with -r) -> decode -> tracker -> verify observer (verify_obs.c) -> checks
 * (verify_checks.c) -> report (verify_report.c).  Live runs are driven by verify_run.c.
 *
 * Order of a live run: resolve the servers and the interface, open the JUnit file, the
 * capture and the -w file (as root), drop root (to nobody, or -Z USER), then one
 * session per server, one after the other, on the one capture; started servers run as
 * the dropped user.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "verify.h"

#define VERIFY_MAX_CONNS 65536

/* ---------------------------------------------------------------- usage */

static void verify_usage(FILE *f)
{
    fprintf(f,
            "usage: synack verify --server HOST:PORT [--start 'COMMAND'] [--server ...] [options]\n"
            "       synack verify --servers FILE [options]\n"
            "       synack verify -r FILE [--server HOST:PORT ...] [options] [FILTER...]\n"
            "\n"
            "Judge whether a TCP server behaves, check by check: PASS, FAIL or INCONCLUSIVE,\n"
            "each with a one-line reason and the capture frames that prove it.  Live, verify\n"
            "drives the server with the lab's clients while capturing on the interface that\n"
            "reaches it (lo for local addresses); with -r it judges an existing capture.\n"
            "\n"
            "Servers:\n"
            "  --server HOST:PORT  a server to verify (repeatable; [::1]:PORT for IPv6)\n"
            "  --start COMMAND     start the preceding --server with /bin/sh -c COMMAND, in\n"
            "                      its own process group (as nobody when run as root), wait\n"
            "                      until the port accepts (at most 5 s), stop it at the end\n"
            "  --servers FILE      one 'HOST:PORT [COMMAND]' per line ('#' comments)\n"
            "  -r FILE             judge a capture instead (without --server: every server in\n"
            "                      it); checks that need driving are INCONCLUSIVE unless the\n"
            "                      capture holds their evidence\n"
            "Checks:\n"
            "  --kind echo|file    the default check set and scenarios (default echo)\n"
            "  --check LIST        only these checks (comma-separated)\n"
            "  --skip LIST         not these checks\n"
            "  --list-checks       name and explain the checks\n"
            "  --upper             the echo comes back upper-cased (synack-echo-server --upper)\n"
            "  --closer client|server  who must close first (default: client for echo,\n"
            "                      server for file)\n"
            "  --clients N         connections of the concurrent check (default 5)\n"
            "  --timeout SECONDS   longest wait of each scenario (default 10)\n"
            "  --file NAME         file servers: the name requested (default index.html)\n"
            "  --offload on|off|auto  segmentation offload when the capture was made; decides\n"
            "                      how segments above the MSS count (default auto: asked of\n"
            "                      the interface live, assumed on for loopback in files)\n"
            "Capture and output:\n"
            "  -i IFACE            capture here (default: the interface that reaches the servers)\n"
            "  -B KIB              kernel capture buffer (default 32768: loopback segments\n"
            "                      are up to 64 KiB each)\n"
            "  -w FILE             keep the capture the frame numbers refer to (pcap)\n"
            "  -o text|json        verdict blocks and a summary table (default), or NDJSON\n"
            "  --junit FILE        also write JUnit XML (a testsuite per server, a testcase per\n"
            "                      check)\n"
            "  -Z USER             drop root to USER once the capture is open (default nobody;\n"
            "                      -Z root keeps root)\n"
            "\n"
            "Exit status: 0 every check passed, 1 a check failed, 2 usage or input error,\n"
            "3 inconclusive (nothing failed).\n");
}

static void list_checks(void)
{
    for (int k = 0; k < CHK_COUNT; k++)
        printf("%-20s %s\n", vcheck_name((enum vcheck)k), vcheck_what((enum vcheck)k));
    printf("\ndefault for --kind echo: listening handshake echo mss graceful-close closer "
           "no-close-wait-leak concurrent refused-when-closed\n"
           "default for --kind file: listening handshake mss graceful-close closer "
           "no-close-wait-leak concurrent refused-when-closed half-close\n");
}

/* ---------------------------------------------------------------- servers */

static bool is_loopback_addr(int family, const uint8_t *a)
{
    static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return family == 4 ? a[0] == 127 : memcmp(a, v6lo, 16) == 0;
}

static void server_name(struct vserver *s)
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, s->addr, a, sizeof a);
    snprintf(s->host, sizeof s->host, "%s", a);
    snprintf(s->name, sizeof s->name, s->family == 6 ? "[%s]:%u" : "%s:%u", a, s->port);
}

/* Parse "HOST:PORT" ("[V6]:PORT") into a new server. Returns it, or NULL (reported). */
static struct vserver *add_server(struct verify *V, const char *spec, const char *command,
                                  const char *where)
{
    char host[256];
    const char *colon, *h = spec;
    size_t hl;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':') {
            cli_error("%s'%s': expected [IPV6]:PORT", where, spec);
            return NULL;
        }
        h = spec + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon) {
            cli_error("%s'%s': expected HOST:PORT", where, spec);
            return NULL;
        }
        hl = (size_t)(colon - spec);
    }
    uint64_t port;
    if (hl == 0 || hl >= sizeof host || cli_parse_u64(colon + 1, 65535, &port) || port == 0) {
        cli_error("%s'%s': expected HOST:PORT with a port from 1 to 65535", where, spec);
        return NULL;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        cli_error("%s'%s': cannot resolve %s: %s", where, spec, host, gai_strerror(rc));
        return NULL;
    }
    if (V->n_servers == V->cap_servers) {
        size_t cap = V->cap_servers ? V->cap_servers * 2 : 8;
        struct vserver *n = realloc(V->servers, cap * sizeof *n);
        if (!n) {
            freeaddrinfo(res);
            cli_error("out of memory");
            return NULL;
        }
        V->servers = n;
        V->cap_servers = cap;
    }
    struct vserver *s = &V->servers[V->n_servers++];
    memset(s, 0, sizeof *s);
    if (res->ai_family == AF_INET6) {
        s->family = 6;
        memcpy(s->addr, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
    } else {
        s->family = 4;
        memcpy(s->addr, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
    }
    freeaddrinfo(res);
    s->port = (uint16_t)port;
    server_name(s);
    if (command) {
        s->command = strdup(command);
        if (!s->command) {
            cli_error("out of memory");
            return NULL;
        }
    }
    return s;
}

static int read_servers_file(struct verify *V, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("--servers %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    unsigned n = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        char *p = line;
        size_t len = strlen(p);
        while (len && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ' ||
                       p[len - 1] == '\t'))
            p[--len] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            continue;
        char *sp = p + strcspn(p, " \t");
        char *cmd = NULL;
        if (*sp) {
            *sp++ = '\0';
            while (*sp == ' ' || *sp == '\t')
                sp++;
            cmd = *sp ? sp : NULL;
        }
        char where[4200];
        snprintf(where, sizeof where, "--servers %s line %u: ", path, n);
        if (!add_server(V, p, cmd, where)) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------- interface */

/* The interface whose address is local: lo for loopback addresses and for the host's
 * own addresses (Linux delivers those over lo), else the one the route uses. */
static int route_iface(const struct vserver *s, char *out, size_t n)
{
    if (is_loopback_addr(s->family, s->addr)) {
        snprintf(out, n, "lo");
        return 0;
    }
    int fd = socket(s->family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss, local;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (s->family == 6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(s->port);
        memcpy(&a->sin6_addr, s->addr, 16);
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(s->port);
        memcpy(&a->sin_addr, s->addr, 4);
        len = sizeof *a;
    }
    socklen_t ll = sizeof local;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0 ||
        getsockname(fd, (struct sockaddr *)&local, &ll) != 0) {
        close(fd);
        return -1;
    }
    close(fd);
    const void *la = s->family == 6 ? (const void *)&((struct sockaddr_in6 *)&local)->sin6_addr
                                    : (const void *)&((struct sockaddr_in *)&local)->sin_addr;
    size_t alen = s->family == 6 ? 16 : 4;
    if (memcmp(la, s->addr, alen) == 0) {
        snprintf(out, n, "lo");
        return 0;
    }
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return -1;
    int rc = -1;
    for (struct ifaddrs *i = ifs; i && rc < 0; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != (s->family == 6 ? AF_INET6 : AF_INET))
            continue;
        const void *ia = s->family == 6
                             ? (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr
                             : (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        if (memcmp(ia, la, alen) == 0) {
            snprintf(out, n, "%s", i->ifa_name);
            rc = 0;
        }
    }
    freeifaddrs(ifs);
    return rc;
}

/* Segmentation offload on iface: 1 some on, 0 all off, -1 unknown. */
static int offload_state(const char *iface)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    static const uint32_t cmds[] = {ETHTOOL_GTSO, ETHTOOL_GGSO, ETHTOOL_GGRO};
    int on = 0;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct ifreq ifr;
        struct ethtool_value ev = {.cmd = cmds[i], .data = 0};
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", iface);
        ifr.ifr_data = (char *)&ev;
        if (ioctl(fd, SIOCETHTOOL, &ifr) != 0) {
            close(fd);
            return -1;
        }
        on |= ev.data != 0;
    }
    close(fd);
    return on;
}

/* The closed port the refused-when-closed check probes. */
static void choose_probe(struct vserver *s)
{
    if (s->command) {
        s->probe_port = s->port;
        s->probe_is_server_port = true;
        return;
    }
    int fd = socket(s->family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        socklen_t len;
        if (s->family == 6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            a->sin6_family = AF_INET6;
            memcpy(&a->sin6_addr, s->addr, 16);
            len = sizeof *a;
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            a->sin_family = AF_INET;
            memcpy(&a->sin_addr, s->addr, 4);
            len = sizeof *a;
        }
        if (bind(fd, (struct sockaddr *)&ss, len) == 0 &&
            getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
            s->probe_port = ntohs(s->family == 6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
            s->probe_found_free = true;
        }
        close(fd);
    }
    if (!s->probe_port)
        s->probe_port = s->port < 65535 ? (uint16_t)(s->port + 1) : (uint16_t)(s->port - 1);
}

/* ---------------------------------------------------------------- privileges */

static int drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        cli_error("verify -Z: no such user '%s'", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        cli_error("verify -Z: cannot become user '%s': %s", user, strerror(errno));
        return -1;
    }
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    verify_interrupted = 1;
}

/* ---------------------------------------------------------------- options */

static int set_list(struct verify *V, const char *list, bool on, const char *opt, bool reset)
{
    if (reset)
        memset(V->selected, 0, sizeof V->selected);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        int k = vcheck_find(t);
        if (k < 0) {
            cli_error("verify %s: unknown check '%s' (synack verify --list-checks)", opt, t);
            return -1;
        }
        V->selected[k] = on;
    }
    return 0;
}

static void default_checks(struct verify *V)
{
    for (int k = 0; k < CHK_COUNT; k++)
        V->selected[k] = true;
    if (V->kind == KIND_ECHO)
        V->selected[CHK_HALF_CLOSE] = false;
    else
        V->selected[CHK_ECHO] = false;
}

static void free_all(struct verify *V)
{
    for (size_t i = 0; i < V->n_servers; i++)
        free(V->servers[i].command);
    free(V->servers);
    free(V->filter);
    if (V->junit)
        fclose(V->junit);
    if (V->tmpdir[0])
        rmdir(V->tmpdir);
}

enum {
    O_SERVER = 1000,
    O_START,
    O_SERVERS,
    O_KIND,
    O_CHECK,
    O_SKIP,
    O_LIST,
    O_UPPER,
    O_CLOSER,
    O_CLIENTS,
    O_TIMEOUT,
    O_FILE,
    O_OFFLOAD,
    O_JUNIT,
};

static const struct option verify_opts[] = {
    {"server", required_argument, NULL, O_SERVER},
    {"start", required_argument, NULL, O_START},
    {"servers", required_argument, NULL, O_SERVERS},
    {"kind", required_argument, NULL, O_KIND},
    {"check", required_argument, NULL, O_CHECK},
    {"skip", required_argument, NULL, O_SKIP},
    {"list-checks", no_argument, NULL, O_LIST},
    {"upper", no_argument, NULL, O_UPPER},
    {"closer", required_argument, NULL, O_CLOSER},
    {"clients", required_argument, NULL, O_CLIENTS},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"file", required_argument, NULL, O_FILE},
    {"offload", required_argument, NULL, O_OFFLOAD},
    {"junit", required_argument, NULL, O_JUNIT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Returns 0 parsed, EXIT_USAGE on error, -1 when it printed help. */
static int parse(struct verify *V, int argc, char **argv)
{
    const char *check = NULL, *skip = NULL;
    int closer = -1, c;
    bool start_ok = false;
    uint64_t v;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:i:w:o:Z:B:h", verify_opts, NULL)) != -1) {
        switch (c) {
        case O_SERVER:
            if (!add_server(V, optarg, NULL, "verify --server "))
                return EXIT_USAGE;
            start_ok = true;
            break;
        case O_START:
            if (!start_ok) {
                cli_error("verify --start: give it after the --server it starts");
                return EXIT_USAGE;
            }
            V->servers[V->n_servers - 1].command = strdup(optarg);
            start_ok = false;
            break;
        case O_SERVERS:
            if (read_servers_file(V, optarg) < 0)
                return EXIT_USAGE;
            start_ok = false;
            break;
        case O_KIND:
            if (strcmp(optarg, "echo") == 0)
                V->kind = KIND_ECHO;
            else if (strcmp(optarg, "file") == 0)
                V->kind = KIND_FILE;
            else {
                cli_error("verify --kind: '%s' is not echo or file", optarg);
                return EXIT_USAGE;
            }
            break;
        case O_CHECK:
            check = optarg;
            break;
        case O_SKIP:
            skip = optarg;
            break;
        case O_LIST:
            list_checks();
            return -1;
        case O_UPPER:
            V->upper = true;
            break;
        case O_CLOSER:
            if (strcmp(optarg, "client") == 0)
                closer = ROLE_CLIENT;
            else if (strcmp(optarg, "server") == 0)
                closer = ROLE_SERVER;
            else {
                cli_error("verify --closer: '%s' is not client or server", optarg);
                return EXIT_USAGE;
            }
            break;
        case O_CLIENTS:
            if (cli_parse_u64(optarg, 64, &v) || v < 2) {
                cli_error("verify --clients: '%s' is not a number from 2 to 64", optarg);
                return EXIT_USAGE;
            }
            V->clients = (unsigned)v;
            break;
        case O_TIMEOUT:
            if (cli_parse_u64(optarg, 3600, &v) || v == 0) {
                cli_error("verify --timeout: '%s' is not a number of seconds from 1 to 3600",
                          optarg);
                return EXIT_USAGE;
            }
            V->timeout_s = (unsigned)v;
            break;
        case O_FILE:
            if (!optarg[0] || strchr(optarg, '\n')) {
                cli_error("verify --file: a file name, one line");
                return EXIT_USAGE;
            }
            V->file_name = optarg;
            break;
        case O_OFFLOAD:
            if (strcmp(optarg, "on") == 0)
                V->offload = OFFLOAD_ON;
            else if (strcmp(optarg, "off") == 0)
                V->offload = OFFLOAD_OFF;
            else if (strcmp(optarg, "auto") == 0)
                V->offload = OFFLOAD_AUTO;
            else {
                cli_error("verify --offload: '%s' is not on, off or auto", optarg);
                return EXIT_USAGE;
            }
            break;
        case O_JUNIT:
            V->junit_path = optarg;
            break;
        case 'r':
            V->read_file = optarg;
            break;
        case 'i':
            V->iface = optarg;
            break;
        case 'B':
            if (cli_parse_u64(optarg, 4u << 20, &v) || v == 0) {
                cli_error("verify -B: '%s' is not a buffer size in KiB", optarg);
                return EXIT_USAGE;
            }
            V->buffer_kib = (int)v;
            break;
        case 'w':
            V->write_file = optarg;
            break;
        case 'Z':
            V->drop_user = optarg;
            break;
        case 'o':
            if (strcmp(optarg, "json") == 0)
                V->json = true;
            else if (strcmp(optarg, "text") != 0) {
                cli_error("verify -o: unknown output format '%s' (text, json)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            verify_usage(stdout);
            return -1;
        case ':':
            cli_error("verify: option %s needs an argument (synack verify --help)",
                      argv[optind - 1]);
            return EXIT_USAGE;
        default:
            cli_error("verify: unknown option %s (synack verify --help)", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    default_checks(V);
    if (check && set_list(V, check, true, "--check", true) < 0)
        return EXIT_USAGE;
    if (skip && set_list(V, skip, false, "--skip", false) < 0)
        return EXIT_USAGE;
    V->closer = closer >= 0 ? closer : V->kind == KIND_FILE ? ROLE_SERVER : ROLE_CLIENT;
    bool any = false;
    for (int k = 0; k < CHK_COUNT; k++)
        any |= V->selected[k];
    if (!any) {
        cli_error("verify: no check selected");
        return EXIT_USAGE;
    }
    if (V->read_file) {
        for (size_t i = 0; i < V->n_servers; i++)
            if (V->servers[i].command) {
                cli_error("verify -r: --start and the servers file's commands need a live run");
                return EXIT_USAGE;
            }
        if (V->write_file) {
            cli_error("verify -r: -w keeps a live capture; there is none to keep");
            return EXIT_USAGE;
        }
        V->filter = cli_join_filter(argc - optind, argv + optind);
    } else {
        if (optind < argc) {
            cli_error("verify: unexpected argument '%s' (a filter goes only with -r)",
                      argv[optind]);
            return EXIT_USAGE;
        }
        if (V->n_servers == 0) {
            cli_error("verify: name a server (--server HOST:PORT, --servers FILE) or a "
                      "capture (-r FILE)");
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- reading a file */

static bool same_server(const struct vserver *s, uint8_t family, const uint8_t *addr, uint16_t port)
{
    return s->family == family && s->port == port && memcmp(s->addr, addr, 16) == 0;
}

static int add_found_server(struct verify *V, uint8_t family, const uint8_t *addr, uint16_t port)
{
    for (size_t i = 0; i < V->n_servers; i++)
        if (same_server(&V->servers[i], family, addr, port))
            return 0;
    if (V->n_servers == V->cap_servers) {
        size_t cap = V->cap_servers ? V->cap_servers * 2 : 8;
        struct vserver *n = realloc(V->servers, cap * sizeof *n);
        if (!n)
            return -1;
        V->servers = n;
        V->cap_servers = cap;
    }
    struct vserver *s = &V->servers[V->n_servers++];
    memset(s, 0, sizeof *s);
    s->family = family;
    memcpy(s->addr, addr, 16);
    s->port = port;
    server_name(s);
    return 0;
}

/* Without --server: each endpoint that answered a SYN with a SYN/ACK, in order of
 * appearance; failing that, the tracker's server role of every connection. */
static void find_servers(struct verify *V)
{
    struct vobs *o = &V->obs;
    for (int pass = 0; pass < 2 && V->n_servers == 0; pass++)
        for (size_t i = 0; i < o->n; i++) {
            struct vconn *vc = &o->conns[i];
            if (!vc->seen)
                continue;
            for (int d = 0; d < 2; d++) {
                bool is_server = pass == 0 ? vc->d[d].synack_frame != 0 : d == (vc->client_dir ^ 1);
                if (is_server)
                    add_found_server(V, vc->family, vc->addr[d], vc->port[d]);
            }
        }
}

static int run_file(struct verify *V)
{
    char err[SOURCE_ERRLEN];
    struct source_opts so = {.file = V->read_file};
    V->src = source_open(&so, err, sizeof err);
    if (!V->src) {
        cli_error("%s", err);
        return EXIT_USAGE;
    }
    if (!decode_dlt_supported(source_datalink(V->src))) {
        cli_error("%s: unsupported link type %d", V->read_file, source_datalink(V->src));
        return EXIT_USAGE;
    }
    if (V->filter && source_set_filter(V->src, V->filter, err, sizeof err) < 0) {
        cli_error("%s", err);
        return EXIT_USAGE;
    }
    struct tcp_tracker_opts to;
    tcp_tracker_default_opts(&to);
    if (pipeline_init(&V->pl, V->src, &to, err, sizeof err) < 0) {
        cli_error("%s", err);
        return EXIT_USAGE;
    }
    V->pl_ready = true;
    pipeline_add_sink(&V->pl, &V->obs.base);
    uint8_t(*hosts)[17] = NULL;
    if (V->n_servers) { /* keep only what concerns the servers named */
        hosts = calloc(V->n_servers, sizeof *hosts);
        for (size_t i = 0; hosts && i < V->n_servers; i++) {
            hosts[i][0] = V->servers[i].family;
            memcpy(hosts[i] + 1, V->servers[i].addr, 16);
        }
        V->obs.hosts = (const uint8_t(*)[17])hosts;
        V->obs.n_hosts = hosts ? V->n_servers : 0;
    }
    int rc = pipeline_run(&V->pl, err, sizeof err);
    uint64_t read = V->pl.totals.packets;
    pipeline_finish(&V->pl);
    V->pl_ready = false;
    V->obs.hosts = NULL;
    free(hosts);
    const struct run_totals *t = &V->obs.totals;
    V->hdr_truncated = t->anomalies[ANOMALY_TCP_TRUNCATED] + t->anomalies[ANOMALY_IPV4_TRUNCATED] +
                       t->anomalies[ANOMALY_IPV6_TRUNCATED];
    if (rc < 0)
        cli_error("%s (after %llu packets; judging what was read)", err, (unsigned long long)read);
    if (V->n_servers == 0)
        find_servers(V);
    if (V->n_servers == 0) {
        cli_error("%s: no TCP server in the capture (name one with --server)", V->read_file);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < V->n_servers; i++) {
        struct vserver *s = &V->servers[i];
        verify_judge(V, s, V->obs.last_ts, false);
        verify_judge(V, s, V->obs.last_ts, true);
        verify_downgrade(V, s);
        verify_print_server(V, s);
    }
    return rc < 0 ? EXIT_USAGE : EXIT_OK;
}

/* ---------------------------------------------------------------- live */

static int open_live(struct verify *V)
{
    char err[SOURCE_ERRLEN], ifbuf[IF_NAMESIZE + 1];
    if (!V->iface) {
        for (size_t i = 0; i < V->n_servers; i++) {
            if (route_iface(&V->servers[i], ifbuf, sizeof ifbuf) < 0) {
                cli_error("verify: no route to %s (name the interface with -i)",
                          V->servers[i].name);
                return -1;
            }
            if (!V->iface) {
                V->iface = strdup(ifbuf);
                if (!V->iface)
                    return -1;
            } else if (strcmp(V->iface, ifbuf) != 0) {
                cli_error("verify: %s is reached through %s, %s through %s: verify them in "
                          "separate runs, or capture on one interface with -i",
                          V->servers[0].name, V->iface, V->servers[i].name, ifbuf);
                return -1;
            }
        }
    }
    V->loopback_iface = strcmp(V->iface, "lo") == 0;
    /* one filter for the whole run: every server's port and its closed-port probe */
    size_t cap = 64 + V->n_servers * 128, n = 0;
    char *f = malloc(cap);
    if (!f)
        return -1;
    n += (size_t)snprintf(f + n, cap - n, "tcp and (");
    for (size_t i = 0; i < V->n_servers; i++) {
        struct vserver *s = &V->servers[i];
        choose_probe(s);
        n += (size_t)snprintf(f + n, cap - n, "%s(host %s and (port %u or port %u))",
                              i ? " or " : "", s->host, s->port, s->probe_port);
    }
    snprintf(f + n, cap - n, ")");
    struct source_opts so = {.iface = V->iface, .immediate = true, .buffer_kib = V->buffer_kib};
    V->src = source_open(&so, err, sizeof err);
    if (!V->src || source_set_filter(V->src, f, err, sizeof err) < 0 ||
        source_set_nonblock(V->src) < 0) {
        cli_error("verify: %s", err);
        free(f);
        return -1;
    }
    free(f);
    if (!decode_dlt_supported(source_datalink(V->src))) {
        cli_error("verify: %s: unsupported link type %d", V->iface, source_datalink(V->src));
        return -1;
    }
    if (V->write_file && source_dump_open(V->src, V->write_file, true, err, sizeof err) < 0) {
        cli_error("verify -w %s", err);
        return -1;
    }
    V->offload_state = offload_state(V->iface);
    return 0;
}

static int run_live(struct verify *V)
{
    if (cli_lab_program_dir(V->bindir, sizeof V->bindir) < 0) {
        cli_error("verify: the lab programs (synack-echo-client, ...) are not next to synack");
        return EXIT_USAGE;
    }
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/%s", V->bindir,
             V->kind == KIND_FILE ? "synack-file-client" : "synack-echo-client");
    if (access(probe, X_OK) != 0) {
        cli_error("verify: %s is missing (the lab clients must be next to synack)", probe);
        return EXIT_USAGE;
    }
    if (open_live(V) < 0)
        return EXIT_USAGE;
    /* orphans of a started server's process group become ours, so they are reaped */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    const char *user = V->drop_user ? V->drop_user : (geteuid() == 0 ? "nobody" : NULL);
    if (user && strcmp(user, "root") != 0 && drop_privileges(user) < 0)
        return EXIT_USAGE;
    if (V->kind == KIND_FILE) {
        snprintf(V->tmpdir, sizeof V->tmpdir, "/tmp/synack-verify-XXXXXX");
        if (!mkdtemp(V->tmpdir)) {
            cli_error("verify: cannot make a temporary directory: %s", strerror(errno));
            V->tmpdir[0] = '\0';
            return EXIT_USAGE;
        }
    }
    char err[SOURCE_ERRLEN];
    struct tcp_tracker_opts to;
    tcp_tracker_default_opts(&to);
    to.max_conns = VERIFY_MAX_CONNS;
    if (pipeline_init(&V->pl, V->src, &to, err, sizeof err) < 0) {
        cli_error("verify: %s", err);
        return EXIT_USAGE;
    }
    V->pl_ready = true;
    pipeline_add_sink(&V->pl, &V->obs.base);
    if (!V->json)
        fprintf(stderr, "synack verify: capturing on %s%s%s\n", V->iface,
                V->write_file ? ", writing " : "", V->write_file ? V->write_file : "");
    for (size_t i = 0; i < V->n_servers; i++) {
        struct vserver *s = &V->servers[i];
        if (verify_interrupted) {
            s->interrupted = true;
            verify_downgrade(V, s);
        } else {
            verify_live_server(V, s);
        }
        verify_print_server(V, s);
    }
    verify_kill_all(V);
    pipeline_finish(&V->pl);
    V->pl_ready = false;
    return EXIT_OK;
}

/* ---------------------------------------------------------------- entry */

int cmd_verify(int argc, char **argv)
{
    static struct verify V;
    memset(&V, 0, sizeof V);
    V.clients = 5;
    V.timeout_s = 10;
    V.file_name = "index.html";
    V.buffer_kib = 32768;
    int rc = parse(&V, argc, argv);
    if (rc) {
        free_all(&V);
        return rc < 0 ? EXIT_OK : rc;
    }
    if (V.junit_path) { /* opened first: before any privilege drop */
        V.junit = fopen(V.junit_path, "w");
        if (!V.junit) {
            cli_error("verify --junit %s: %s", V.junit_path, strerror(errno));
            free_all(&V);
            return EXIT_USAGE;
        }
    }
    if (vobs_init(&V.obs) < 0) {
        cli_error("verify: cannot make the stream store (memory or temporary file)");
        free_all(&V);
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waits return at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool own_iface = !V.iface;
    rc = V.read_file ? run_file(&V) : run_live(&V);
    verify_kill_all(&V);
    if (V.pl_ready)
        pipeline_finish(&V.pl);
    if (V.src)
        source_close(V.src);
    if (rc == EXIT_OK || (V.read_file && V.n_servers)) {
        if (V.n_servers && (rc == EXIT_OK || V.read_file)) {
            verify_print_summary(&V);
            char err[256];
            if (verify_write_junit(&V, err, sizeof err) < 0) {
                cli_error("%s", err);
                rc = EXIT_USAGE;
            }
        }
        if (rc == EXIT_OK)
            rc = verify_exit_code(&V);
    }
    if (own_iface && V.iface)
        free((char *)V.iface);
    vobs_free(&V.obs);
    free_all(&V);
    if (verify_interrupted && rc == EXIT_OK)
        rc = EXIT_INCONCLUSIVE;
    return rc;
}
