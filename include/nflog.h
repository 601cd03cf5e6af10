/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ruleset's packet log over nfnetlink_log (src/nflog.c), with libmnl
 * only: binding a socket to the log group, and parsing one logged packet
 * (prefix, sequence numbers, time, the IP and transport headers of the
 * copied payload) into a fixed struct with no allocation.
 */
#ifndef SANSO_NFLOG_H
#define SANSO_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "parse.h"

struct nlmsghdr;
struct mnl_socket;

/* Bytes of each packet the kernel copies: an IPv6 header with a few
 * extension headers and the largest TCP header. */
#define NFLOG_COPY_RANGE	192

#define NFLOG_PREFIX_MAX	64

struct nflog_pkt {
	char prefix[NFLOG_PREFIX_MAX];	/* "" when absent, cut if long */
	uint8_t family;		/* nfgen_family: NFPROTO_IPV4... */
	uint8_t hook;
	uint16_t hw_proto;	/* host order */
	bool has_seq, has_seq_global;
	uint32_t seq, seq_global;
	bool has_time;
	struct timespec time;	/* NFULA_TIMESTAMP */
	uint32_t indev, outdev;	/* ifindex, 0 when absent */
	/* From the payload: */
	bool has_ip;		/* src, dst, proto are set */
	struct prefix src, dst;	/* full-length addresses */
	uint8_t proto;
	bool has_ports, has_icmp;
	uint16_t sport, dport;
	uint8_t icmp_type;
};

/*
 * Parses one NFULNL_MSG_PACKET message. Returns 0 (has_ip is false
 * when the payload is missing or no IP packet), -ENOMSG when it is not
 * a logged packet, -EINVAL when it is malformed.
 */
int nflog_parse(const struct nlmsghdr *nlh, struct nflog_pkt *p);

/* The IP and transport headers of a copied packet (IPv4 or IPv6, by
 * the version nibble). 0, or -EINVAL when no IP header fits. */
int nflog_parse_payload(const uint8_t *buf, size_t len, struct nflog_pkt *p);

/*
 * A socket bound to nflog group `group`, copying NFLOG_COPY_RANGE bytes
 * of each packet and numbering messages (NFULNL_CFG_F_SEQ and
 * _SEQ_GLOBAL) so gaps show losses; non-blocking. NULL with errno
 * (EBUSY: another program has the group, e.g. ulogd).
 */
struct mnl_socket *nflog_open(uint16_t group, int rcvbuf, int *got);

#endif
