/* anomaly.h - the one list of everything synack notes as wrong or unusual in a packet.
 *
 * Pipeline place: shared by decode (link/ip/tcp) and the tcp tracker.
 * One X-macro list generates the enum, the stable dotted names printed in text
 * and JSON output, and the one-line descriptions. Names are part of the output
 * format: never rename one that has shipped; add new ones at the end of a group.
 *
 * Each entry: X(ENUM_SUFFIX, "dotted.name", "what it means")
 */
#ifndef SYNACK_ANOMALY_H
#define SYNACK_ANOMALY_H

#include <stdint.h>

#define SYNACK_ANOMALIES(X)                                                                        \
    /* link layer */                                                                               \
    X(LINK_TRUNCATED, "link.truncated", "link-layer header cut short by the capture")              \
    X(LINK_VLAN_TOO_DEEP, "link.vlan_too_deep", "more stacked VLAN tags than synack decodes")      \
    X(LINK_NULL_BAD_FAMILY, "link.null_bad_family", "BSD loopback header with an unknown family")  \
    /* IP, either version */                                                                       \
    X(IP_BAD_VERSION, "ip.bad_version", "IP version field not 4 or 6, or not what the link says")  \
    /* IPv4 */                                                                                     \
    X(IPV4_TRUNCATED, "ipv4.truncated", "IPv4 header cut short by the capture")                    \
    X(IPV4_HLEN_TOO_SMALL, "ipv4.hlen_too_small", "IPv4 header length (IHL) below 5 words")        \
    X(IPV4_TOTLEN_TOO_SMALL, "ipv4.totlen_too_small", "IPv4 total length below its header length") \
    X(IPV4_TOTLEN_BEYOND_FRAME, "ipv4.totlen_beyond_frame",                                        \
      "IPv4 total length larger than the frame on the wire")                                       \
    X(IPV4_FRAGMENT, "ipv4.fragment", "IPv4 fragment (synack does not reassemble)")                \
    /* IPv6 */                                                                                     \
    X(IPV6_TRUNCATED, "ipv6.truncated", "IPv6 header or extension header cut short by the capture") \
    X(IPV6_PLEN_BEYOND_FRAME, "ipv6.plen_beyond_frame",                                            \
      "IPv6 payload length larger than the frame on the wire")                                     \
    X(IPV6_EXT_TOO_MANY, "ipv6.ext_too_many", "more IPv6 extension headers than synack walks")     \
    X(IPV6_EXT_BAD_LEN, "ipv6.ext_bad_len", "IPv6 extension header runs past the payload")         \
    X(IPV6_FRAGMENT, "ipv6.fragment", "IPv6 fragment (synack does not reassemble)")                \
    /* TCP header */                                                                               \
    X(TCP_TRUNCATED, "tcp.truncated", "TCP header cut short by the capture")                       \
    X(TCP_DOFF_TOO_SMALL, "tcp.doff_too_small", "TCP data offset below 5 words")                   \
    X(TCP_DOFF_BEYOND_SEGMENT, "tcp.doff_beyond_segment",                                          \
      "TCP data offset larger than the segment the IP header declares")                            \
    X(TCP_BAD_OPTION_LEN, "tcp.bad_option_len", "TCP option with a length that is wrong for its kind or runs past the header") \
    X(TCP_SYN_FIN, "tcp.syn_fin", "SYN and FIN set together")                                      \
    X(TCP_NO_FLAGS, "tcp.no_flags", "TCP segment with no flag set (null scan)")                    \
    X(TCP_PORT_ZERO, "tcp.port_zero", "TCP source or destination port 0")                          \
    /* UDP and ICMP */                                                                             \
    X(UDP_TRUNCATED, "udp.truncated", "UDP header cut short by the capture")                       \
    X(UDP_BAD_LENGTH, "udp.bad_length", "UDP length field disagrees with the IP payload length")   \
    X(ICMP_TRUNCATED, "icmp.truncated", "ICMP header cut short by the capture")                    \
    /* TCP tracker (sequence analysis) */                                                          \
    X(TCP_SYNACK_WRONG_ACK, "tcp.synack_wrong_ack", "SYN/ACK whose ack is not the SYN's seq + 1")   \
    X(TCP_RST_IN_WINDOW, "tcp.rst_in_window",                                                      \
      "RST inside the window but not at the expected sequence (RFC 5961: answered by a challenge ACK, ignored)") \
    X(TCP_RST_OUT_OF_WINDOW, "tcp.rst_out_of_window", "RST outside the receive window, ignored")   \
    X(TCP_ACKED_UNSEEN, "tcp.acked_unseen", "ACK for data the capture never showed")               \
    X(TCP_PREV_NOT_CAPTURED, "tcp.prev_not_captured", "gap in sequence space before this segment")

enum anomaly {
#define SYNACK_ANOMALY_ENUM(id, name, desc) ANOMALY_##id,
    SYNACK_ANOMALIES(SYNACK_ANOMALY_ENUM)
#undef SYNACK_ANOMALY_ENUM
        ANOMALY_COUNT
};

/* A set of anomalies, one bit each. */
typedef uint64_t anomaly_set;
_Static_assert(ANOMALY_COUNT <= 64, "anomaly_set holds at most 64 anomalies");

#define ANOMALY_BIT(a) ((anomaly_set)1 << (a))

/* Stable dotted name of an anomaly ("tcp.truncated"); "?" for an out-of-range value. */
const char *anomaly_name(enum anomaly a);

/* One-line description of an anomaly. */
const char *anomaly_desc(enum anomaly a);

#endif
