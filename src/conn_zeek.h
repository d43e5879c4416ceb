/* conn_zeek.h - Zeek compatibility of connection records: the history letters with
 * their repeat rules, Zeek's own endpoint states, and conn_state.
 *
 * Pipeline place: called by the tcp tracker for each segment; read by the sinks
 * through conn_state_zeek().  Rules: ../shared/ZEEK_CONN_STATE.md (Zeek's -C
 * semantics: checksums are never validated here, so 'C' never appears; 'X' never).
 */
#ifndef SYNACK_CONN_ZEEK_H
#define SYNACK_CONN_ZEEK_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/tcp_tracker.h"

/* What one segment looked like, in the terms Zeek's rules use. */
struct zeek_seg {
    enum role dir;     /* sender: ROLE_CLIENT is Zeek's originator */
    uint8_t flags;     /* TCP_* */
    uint32_t seq;      /* raw sequence number */
    uint32_t len;      /* payload length */
    uint32_t win;      /* scaled window */
    bool retransmit;   /* payload whose end does not pass the highest seq seen (Zeek 'T') */
    bool gap;          /* this segment's ACK revealed a content gap in the peer's data
                          ('G' in the peer's direction) */
};

/* Append a letter to the history (no repeat rules; '^' and case as given). */
void zeek_history_put(struct conn *c, char letter);

/* Append a once-per-direction letter (A, D, I, Q; bit 3, 2, 0, 1) unless that direction
 * already has it: upper for the client, lower case for the server. */
void zeek_history_once(struct conn *c, char upper, unsigned bit, enum role dir);

/* Append S/H (kind 0), F (1) or R (2) unless this direction's last one had this seq. */
void zeek_history_by_seq(struct conn *c, char upper, int kind, enum role dir, uint32_t seq);

/* Apply one segment: history letters (with repeat rules) and Zeek endpoint states. */
void zeek_on_segment(struct conn *c, const struct zeek_seg *s);

/* Does the history fully match ^?S[^HAFGIQ]*R.* (Zeek's RSTOS0 test)?  Exposed for tests. */
bool zeek_history_rstos0(const char *h);

#endif
