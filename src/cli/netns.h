/* netns.h - a private network namespace for the lab, and its loopback set-up.
 *
 * Pipeline place: used by `synack lab` before the capture starts.
 */
#ifndef SYNACK_NETNS_H
#define SYNACK_NETNS_H

#include <stdbool.h>
#include <stddef.h>

/* Move this process into a new network namespace: directly as root, otherwise inside a
 * new user namespace (as `unshare -Urn` does; then *in_userns is set: the process is
 * root only inside it, with no real privilege to drop).  Returns 0, or -1 with a
 * reason. */
int netns_enter(bool *in_userns, char *err, size_t errlen);

/* Bring lo up with the given MTU and switch off TSO, GSO and GRO (SIOCETHTOOL), so
 * segments on the capture are MSS-sized.  Returns 0, or -1 with a reason naming the
 * step that failed. */
int netns_setup_lo(int mtu, char *err, size_t errlen);

#endif
