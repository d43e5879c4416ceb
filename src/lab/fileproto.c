/* fileproto.c -- the lab file protocol: safe name resolution beneath a
 * root (server side) and status line parsing (client side).
 *
 * Part of the synack lab; the protocol is described in fileproto.h. */
#include "fileproto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* private helpers                                                          */
/* ------------------------------------------------------------------------ */

/* The ERR message for an openat() of `comp` beneath `dirfd` that failed
 * with `errnum`. A symbolic link shows up as ELOOP (O_NOFOLLOW) or, for a
 * directory lookup, as ENOTDIR: ask lstat-style which one it was. */
static const char *fileproto_open_error(int dirfd, const char *comp, int errnum)
{
    struct stat st;

    if ((errnum == ELOOP || errnum == ENOTDIR) &&
        fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return "symbolic links are not followed";
    switch (errnum) {
    case ENOENT:
        return "no such file";
    case ENOTDIR:
        return "no such file (a path component is not a directory)";
    case EACCES:
    case EPERM:
        return "permission denied";
    case ENAMETOOLONG:
        return "name too long";
    case EMFILE:
    case ENFILE:
        return "server busy (out of file descriptors)";
    default:
        return "cannot open the file";
    }
}

/* True if the `len` bytes at `p` are exactly `word`. */
static bool fileproto_is(const char *p, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(p, word, len) == 0;
}

/* ------------------------------------------------------------------------ */
/* API                                                                      */
/* ------------------------------------------------------------------------ */

int fileproto_open(int rootfd, const char *name, size_t len, uint64_t *size, const char **why)
{
    char comp[FILEPROTO_NAME_MAX + 1];
    const char *pend = NULL; /* last component seen, not yet opened */
    size_t plen = 0, i, j;
    int dirfd = rootfd, fd = -1;
    struct stat st;

    if (len == 0) {
        *why = "empty name";
        return -1;
    }
    if (len > FILEPROTO_NAME_MAX) {
        *why = "name too long";
        return -1;
    }
    if (memchr(name, '\0', len) != NULL) {
        *why = "NUL byte in name";
        return -1;
    }
    if (name[0] == '/') {
        *why = "absolute paths are refused";
        return -1;
    }
    /* Lexical check before any lookup: ".." could only ever climb. */
    for (i = 0; i <= len; i = j + 1) {
        for (j = i; j < len && name[j] != '/'; j++)
            ;
        if (fileproto_is(name + i, j - i, "..")) {
            *why = "'..' is refused (it would leave the root)";
            return -1;
        }
    }
    /* Walk: open each directory relative to the one before, never
     * following a link; the last component is the file. */
    for (i = 0; i <= len; i = j + 1) {
        for (j = i; j < len && name[j] != '/'; j++)
            ;
        if (j == i || fileproto_is(name + i, j - i, "."))
            continue;
        if (pend != NULL) {
            memcpy(comp, pend, plen);
            comp[plen] = '\0';
            int next = openat(dirfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next == -1) {
                *why = fileproto_open_error(dirfd, comp, errno);
                goto end;
            }
            if (dirfd != rootfd)
                close(dirfd);
            dirfd = next;
        }
        pend = name + i;
        plen = j - i;
    }
    if (pend == NULL) {
        *why = "not a regular file";
        goto end;
    }
    memcpy(comp, pend, plen);
    comp[plen] = '\0';
    fd = openat(dirfd, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd == -1) {
        *why = fileproto_open_error(dirfd, comp, errno);
        goto end;
    }
    /* "f/" names a directory, whatever f is. */
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || name[len - 1] == '/') {
        *why = "not a regular file";
        close(fd);
        fd = -1;
        goto end;
    }
    *size = (uint64_t)st.st_size;
end:
    if (dirfd != rootfd)
        close(dirfd);
    return fd;
}

int fileproto_parse_status(const char *line, size_t len, uint64_t *length, const char **msg,
                           size_t *msglen)
{
    if (len >= 4 && memcmp(line, "ERR ", 4) == 0) {
        *msg = line + 4;
        *msglen = len - 4;
        return 0;
    }
    if (len < 4 || len > 3 + 20 || memcmp(line, "OK ", 3) != 0)
        return -1;
    if (line[3] == '0' && len > 4)
        return -1; /* leading zero */
    uint64_t v = 0;
    for (size_t i = 3; i < len; i++) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        unsigned d = (unsigned)(line[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1; /* overflow */
        v = v * 10 + d;
    }
    *length = v;
    return 1;
}
