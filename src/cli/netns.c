/* netns.c - enter a private network namespace and prepare its lo (see netns.h). */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

int netns_enter(bool *in_userns, char *err, size_t errlen)
{
    *in_userns = false;
    if (geteuid() == 0) {
        if (unshare(CLONE_NEWNET) == 0)
            return 0;
        snprintf(err, errlen, "unshare(CLONE_NEWNET): %s", strerror(errno));
        return -1;
    }
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
        snprintf(err, errlen,
                 "cannot create a private network namespace: not root, and user namespaces "
                 "are not available (%s)",
                 strerror(errno));
        return -1;
    }
    char map[64];
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
    if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT) {
        snprintf(err, errlen, "user namespace: /proc/self/setgroups: %s", strerror(errno));
        return -1;
    }
    if (write_file("/proc/self/uid_map", map) != 0) {
        snprintf(err, errlen, "user namespace: uid_map: %s", strerror(errno));
        return -1;
    }
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) != 0) {
        snprintf(err, errlen, "user namespace: gid_map: %s", strerror(errno));
        return -1;
    }
    *in_userns = true;
    return 0;
}

static int ethtool_set(int fd, struct ifreq *ifr, uint32_t cmd, const char *what, char *err,
                       size_t errlen)
{
    struct ethtool_value ev = {.cmd = cmd, .data = 0};
    ifr->ifr_data = (char *)&ev;
    if (ioctl(fd, SIOCETHTOOL, ifr) == 0)
        return 0;
    snprintf(err, errlen, "cannot switch off %s on lo (SIOCETHTOOL): %s", what, strerror(errno));
    return -1;
}

int netns_setup_lo(int mtu, char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    int rc = -1;
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 ||
        (ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP), ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)) {
        snprintf(err, errlen, "cannot bring lo up: %s", strerror(errno));
        goto out;
    }
    ifr.ifr_mtu = mtu;
    if (ioctl(fd, SIOCSIFMTU, &ifr) != 0) {
        snprintf(err, errlen, "cannot set the MTU of lo to %d: %s", mtu, strerror(errno));
        goto out;
    }
    if (ethtool_set(fd, &ifr, ETHTOOL_STSO, "TSO", err, errlen) != 0 ||
        ethtool_set(fd, &ifr, ETHTOOL_SGSO, "GSO", err, errlen) != 0 ||
        ethtool_set(fd, &ifr, ETHTOOL_SGRO, "GRO", err, errlen) != 0)
        goto out;
    rc = 0;
out:
    close(fd);
    return rc;
}
