/* stream.h - a bounded copy of each connection's byte stream, both ways.
 *
 * Pipeline place: tcp tracker -> [stream store] -> verify (echo checks) and
 * `synack -r FILE --follow ID` (sink_follow_new in sink.h).
 * The payload of every TCP segment is written, with a small record header, to a
 * temporary file; memory holds a fixed-size entry per connection (nothing per
 * segment), never anything inside struct conn.  At most max_per_dir bytes of stream
 * offset are kept per direction (the first ones); the rest is counted.  Reading back
 * reassembles in sequence order: each byte once (retransmissions and overlaps are
 * trimmed, the first captured copy wins), out-of-order segments put in place, and
 * holes (bytes acknowledged, announced by a later segment or a FIN, or cut by the
 * snapshot length, but never captured) reported as missing.
 *
 * Directions: 0 is what the connection's first captured sender sent (tshark's
 * "Node 0"), 1 the other way; stream_store_dir_of() maps an endpoint to its direction.
 * Offsets are relative to the first data byte (ISN + 1 when the SYN was captured,
 * else the first sequence number seen), unwrapped past 4 GiB.
 */
#ifndef SYNACK_STREAM_H
#define SYNACK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/decode.h"
#include "synack/tcp_tracker.h"

#define STREAM_DEFAULT_MAX (1u << 20) /* bytes kept per direction for verify */
#define STREAM_FOLLOW_MAX (64u << 20) /* bytes kept per direction for --follow */

struct stream_store;

/* New store keeping max_per_dir bytes per direction (0: the default).  only_conn: keep
 * only that connection id (0: all).  NULL when memory is short or no temporary file
 * can be made. */
struct stream_store *stream_store_new(uint64_t max_per_dir, uint64_t only_conn);
void stream_store_free(struct stream_store *s);

/* Record one packet (only decoded TCP packets of a tracked connection are used).
 * Write errors of the temporary file are remembered: see stream_store_error(). */
void stream_store_packet(struct stream_store *s, const struct packet *p,
                         const struct track_info *ti);

/* A failed write or read of the temporary file ("" when none). */
const char *stream_store_error(const struct stream_store *s);

/* Was connection conn seen?  Fills the endpoint that sent direction 0 and the other
 * (addr 16 bytes each, IPv4 in the first 4) when not NULL. */
bool stream_store_endpoints(const struct stream_store *s, uint64_t conn, uint8_t *family,
                            uint8_t addr0[16], uint16_t *port0, uint8_t addr1[16], uint16_t *port1);

/* Direction sent by the endpoint (addr, port) of connection conn: 0, 1, or -1. */
int stream_store_dir_of(const struct stream_store *s, uint64_t conn, const uint8_t addr[16],
                        uint16_t port);

/* What is known of one direction. */
struct stream_info {
    bool seen;                    /* a packet went this way */
    bool fin;                     /* its FIN was captured */
    uint64_t end;                 /* stream length known: highest byte seen on the wire, before
                                     a FIN, or acknowledged by the peer */
    uint64_t contiguous;          /* bytes from offset 0 captured with no hole (<= kept limit) */
    uint64_t missing;             /* bytes below min(end, limit) never captured */
    uint64_t not_kept;            /* bytes at or beyond the limit (captured, not stored) */
    uint64_t limit;               /* the store's max_per_dir */
    uint64_t first_missing_frame; /* a frame at or after the first hole (0: none known) */
};

/* Reassemble direction dir of connection conn into buf (at most cap bytes, from stream
 * offset 0; missing bytes are zero).  Fills *info.  Returns the bytes written to buf:
 * min(cap, end, limit).  Returns 0 with info->seen false for an unknown connection. */
size_t stream_store_assemble(struct stream_store *s, uint64_t conn, unsigned dir, uint8_t *buf,
                             size_t cap, struct stream_info *info);

/* First captured frame carrying stream byte off of direction dir (0: none). */
uint64_t stream_store_frame_at(struct stream_store *s, uint64_t conn, unsigned dir, uint64_t off);

/* Last captured frame carrying payload in direction dir (0: none). */
uint64_t stream_store_last_frame(struct stream_store *s, uint64_t conn, unsigned dir);

/* Write connection conn's byte stream to fd as `tshark -q -z follow,tcp,ascii` does:
 * a header (Follow, Filter, Node 0, Node 1), then one chunk per segment in capture
 * order holding the bytes it added to its direction ("LEN\n" then the bytes with
 * everything but printable ASCII, \n and \r as '.', then "\n"; direction 1 indented by
 * a tab), out-of-order segments when the hole before them fills, and a line
 * "[N bytes missing in capture]" where bytes were never captured.  Returns 0, -1 when
 * the connection is unknown, -2 on an I/O error. */
int stream_store_follow(struct stream_store *s, uint64_t conn, int fd);

#endif
