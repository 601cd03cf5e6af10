/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Conntrack over netlink (src/ctnetlink.c), with libmnl only: the parser
 * of ctnetlink messages (events, dump replies) into a fixed struct with
 * no allocation, and the few requests the monitor sends: subscribe,
 * dump the table, delete an entry.
 */
#ifndef SANSO_CTNETLINK_H
#define SANSO_CTNETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parse.h"

struct nlmsghdr;
struct mnl_socket;

/* One direction of a connection, as conntrack saw it. */
struct ct_tuple {
	struct prefix src, dst;	/* full-length addresses */
	uint8_t proto;		/* IPPROTO_* */
	bool has_ports;		/* tcp, udp, sctp, dccp, udplite */
	bool has_icmp;		/* icmp, icmpv6 */
	uint16_t sport, dport;	/* host order */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
};

enum ct_kind {
	CT_NEW,			/* an event: a new connection */
	CT_UPDATE,		/* an event: a change of state */
	CT_DESTROY,		/* an event: the entry is gone */
	CT_DUMP,		/* an entry of a table dump */
};

/* CTA_STATUS bits the monitor reads (linux/netfilter/nf_conntrack_common.h). */
#define CT_STATUS_EXPECTED	(1u << 0)

struct ct_event {
	enum ct_kind kind;
	struct ct_tuple orig;	/* the direction that opened it */
	struct ct_tuple reply;	/* reply.src is the real destination */
	bool has_reply;
	uint32_t id;		/* CTA_ID, 0 when absent */
	uint32_t status;	/* CTA_STATUS, 0 when absent */
	uint64_t start_ns;	/* CTA_TIMESTAMP start (ns since the epoch),
				 * 0 when absent */
	uint64_t stop_ns;
};

/*
 * The next message of a datagram, or NULL at its end. Unlike
 * mnl_nlmsg_ok(), safe on any bytes (a capture is untrusted input): a
 * length past the end or shorter than a header ends the walk. *off
 * starts at 0.
 */
const struct nlmsghdr *nlmsg_walk(const void *buf, size_t len, size_t *off);

/*
 * Parses one ctnetlink message. Returns 0, -ENOMSG when it is no
 * conntrack entry message (another subsystem, a request, NLMSG_DONE), or
 * -EINVAL when it is malformed or lacks the original tuple.
 */
int ct_parse(const struct nlmsghdr *nlh, struct ct_event *ev);

/* Sets the receive (send) buffer of any socket to at least `bytes`
 * (SO_RCVBUFFORCE, SO_SNDBUFFORCE when privileged, else SO_RCVBUF,
 * SO_SNDBUF, capped by the sysctl) and returns what the kernel reports
 * with getsockopt() (it doubles the request), or -errno. */
int sock_buf(int fd, bool send, int bytes);
/* sock_buf() of a netlink socket's receive buffer; shared by every
 * monitor socket. */
int nlsock_rcvbuf(struct mnl_socket *nl, int bytes);

/* recvmsg() on a netlink socket that keeps only what the kernel sent
 * (nl_pid 0): a process with CAP_NET_ADMIN can send to these sockets
 * too, and its datagrams are dropped unread. `flags` as for recv().
 * The length, or -1 with errno (ENOSPC: the datagram was truncated, as
 * mnl_socket_recvfrom() says it). */
ssize_t nlsock_recv(int fd, void *buf, size_t len, int flags);
/* The same on a libmnl socket, blocking as it is: in place of
 * mnl_socket_recvfrom(). */
ssize_t nlsock_recv_mnl(const struct mnl_socket *nl, void *buf, size_t len);

/* The event socket: NETLINK_NETFILTER, subscribed to NEW and DESTROY,
 * NETLINK_NO_ENOBUFS off (losses are reported), non-blocking. NULL with
 * errno. `rcvbuf` as for nlsock_rcvbuf(); *got (may be NULL) receives
 * what was granted. */
struct mnl_socket *ctnl_open_events(int rcvbuf, int *got);

/* A socket for dumps and deletes (not subscribed). NULL with errno. */
struct mnl_socket *ctnl_open_cmd(void);

/* Sends a dump request of every family's table; the replies arrive on
 * the same socket (NLM_F_MULTI, then NLMSG_DONE). 0 or -errno. */
int ctnl_dump_request(struct mnl_socket *nl, uint32_t seq);

typedef int (*ctnl_entry_fn)(const struct ct_event *ev, void *arg);

/* Dumps the table synchronously, calling `fn` for each entry (a nonzero
 * return stops it and is returned). 0 or -errno. */
int ctnl_dump_sync(struct mnl_socket *nl, ctnl_entry_fn fn, void *arg);

/* Deletes the entry with this original tuple (and id, when nonzero)
 * and waits for the answer: 0, -ENOENT when it is already gone, -errno. */
int ctnl_delete(struct mnl_socket *nl, const struct ct_event *ev);

#endif
