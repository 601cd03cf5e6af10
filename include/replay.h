/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Netlink captures (src/replay.c): pcap files of link type
 * LINKTYPE_NETLINK (253), as `tcpdump -i nlmon0 -w FILE` writes them,
 * read back for `sanso monitor --replay` and written by `--record`.
 *
 * A record is a 16-byte cooked header (2 bytes unused -- nlmon's packets
 * are all "outgoing" to the capture --, ARPHRD_NETLINK in network order,
 * 10 bytes unused, the netlink protocol in network order) followed by one
 * datagram of netlink messages in the capturing host's byte order. Both
 * pcap byte orders and both time resolutions are read; when the file's
 * order is not ours, the netlink headers are swapped into ours (those of
 * the messages the monitor reads: nfnetlink and rtnetlink addresses).
 */
#ifndef SANSO_REPLAY_H
#define SANSO_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PCAP_LINKTYPE_NETLINK	253
#define PCAP_NETLINK_HDRLEN	16

struct replay;

struct replay_rec {
	struct timespec ts;	/* when it was captured (UTC) */
	uint16_t proto;		/* NETLINK_NETFILTER, NETLINK_ROUTE... */
	const void *data;	/* netlink messages, host byte order; */
	size_t len;		/* valid until the next call */
	size_t index;		/* 1-based record number */
};

/* NULL with errno: EINVAL (no pcap file; pcapng is not read), EPROTO
 * (the link type is not netlink). */
struct replay *replay_open(const char *path);
/* 1 with a record, 0 at the end, -EINVAL on a truncated or malformed
 * file (records before it were good). Records too short for the cooked
 * header are skipped. */
int replay_next(struct replay *r, struct replay_rec *rec);
void replay_close(struct replay *r);

/* Swaps, in place, the netlink headers of a datagram of protocol
 * `proto` written on a host of the other byte order. */
void replay_swap_netlink(uint16_t proto, void *buf, size_t len);

struct pcap_writer;

/* Creates (0600, truncating) a capture in the same format. NULL with
 * errno. */
struct pcap_writer *pcapw_open(const char *path);
/* One datagram of netlink messages received on a socket of `proto`. */
int pcapw_write(struct pcap_writer *w, uint16_t proto, const void *buf,
		size_t len, const struct timespec *ts);
/* Flushes and closes: 0 or -errno. NULL is fine. */
int pcapw_close(struct pcap_writer *w);

#endif
