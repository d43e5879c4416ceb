/* fileproto.h -- the lab's file transfer protocol, shared by
 * synack-file-server and synack-file-client.
 *
 * One request per connection, over TCP:
 *
 *   request  = NAME "\n"
 *              NAME is 1 to FILEPROTO_NAME_MAX bytes, relative to the
 *              server's root, '/'-separated, without NUL bytes. One
 *              trailing "\r" before the "\n" is ignored (telnet, nc -C).
 *   response = "OK " LENGTH "\n" followed by exactly LENGTH bytes
 *            | "ERR " MESSAGE "\n"
 *              LENGTH is decimal ASCII, no sign, no leading zeros except "0".
 *              MESSAGE is one line of plain words, at most
 *              FILEPROTO_STATUS_MAX bytes with "ERR " and "\n".
 *
 * After the response the server closes first (default), or with
 * --half-close shuts down its sending side and waits for the client's FIN
 * before closing. The client knows the body is complete by LENGTH, never
 * by the close alone: fewer bytes before EOF is a short read (a failure).
 *
 * Names are resolved beneath the root only: an absolute name, a ".."
 * component, a symbolic link anywhere on the way (even one that would stay
 * inside the root), and anything but a regular file are refused with ERR.
 * See fileproto_open() for how this is made race-free. */
#ifndef SYNACK_LAB_FILEPROTO_H
#define SYNACK_LAB_FILEPROTO_H

#include <stddef.h>
#include <stdint.h>

/* Longest file name in a request, not counting the "\n". */
#define FILEPROTO_NAME_MAX 4095
/* Longest status line, "OK 18446744073709551615\n" or "ERR ...\n". */
#define FILEPROTO_STATUS_MAX 256

/* Open file `name` (`len` bytes, not NUL-terminated, no "\n") beneath the
 * directory `rootfd` for reading. Each component is opened with openat()
 * relative to the previous one and O_NOFOLLOW, so no symbolic link is ever
 * followed and ".." is refused before any lookup: the walk cannot leave the
 * root however the tree changes meanwhile (no check-then-use window). The
 * last component is opened with O_NONBLOCK (a FIFO cannot stall the server)
 * and must be a regular file. Returns the descriptor (close-on-exec) and
 * its size in `*size`, or -1 with `*why` set to the static message for the
 * ERR line ("no such file", "absolute paths are refused", ...). */
int fileproto_open(int rootfd, const char *name, size_t len, uint64_t *size, const char **why);

/* Parse one status line `line` of `len` bytes, without its "\n".
 * Returns 1 for "OK LENGTH" with `*length` set, 0 for "ERR MESSAGE" with
 * `*msg` pointing at MESSAGE inside `line` (`*msglen` bytes), and -1 for
 * anything else (not this protocol). */
int fileproto_parse_status(const char *line, size_t len, uint64_t *length, const char **msg,
                           size_t *msglen);

#endif
