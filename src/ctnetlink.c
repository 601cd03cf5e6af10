// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Conntrack over netlink with libmnl alone. The parser runs once per
 * event at up to millions of events a second, so it walks the attributes
 * by hand into tables on the stack and never allocates; it trusts no
 * length the message gives.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "ctnetlink.h"

#define CT_BUF	(64 * 1024)

/*
 * libmnl's accessors, inline: the parser runs them a few dozen times per
 * event, and through the PLT they cost more than the parsing. The same
 * definitions as libmnl's (attr.c).
 */
static inline uint16_t attr_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

static inline const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + MNL_ATTR_HDRLEN;
}

static inline size_t attr_len(const struct nlattr *a)
{
	return a->nla_len - MNL_ATTR_HDRLEN;
}

/* The attributes of one nest, indexed by type; later duplicates win,
 * types past `max` are skipped. False when the nest is malformed. */
static bool attr_table(const void *data, size_t len, const struct nlattr **tb,
		       int max)
{
	const struct nlattr *a = data;
	int n = (int)len;

	memset(tb, 0, sizeof(*tb) * (size_t)(max + 1));
	while (n >= (int)sizeof(struct nlattr)) {
		uint16_t type;

		if (a->nla_len < sizeof(struct nlattr) || a->nla_len > n)
			return false;
		type = attr_type(a);
		if (type <= max)
			tb[type] = a;
		n -= MNL_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a +
					    MNL_ALIGN(a->nla_len));
	}
	/* Trailing bytes shorter than a header are padding at most. */
	return true;
}

static bool nest_table(const struct nlattr *nest, const struct nlattr **tb,
		       int max)
{
	return attr_table(attr_data(nest), attr_len(nest), tb, max);
}

static bool payload_is(const struct nlattr *a, size_t len)
{
	return a && attr_len(a) >= len;
}

static uint8_t get_u8(const struct nlattr *a)
{
	return *(const uint8_t *)attr_data(a);
}

static uint16_t get_be16(const struct nlattr *a)
{
	uint16_t v;

	memcpy(&v, attr_data(a), sizeof(v));
	return ntohs(v);
}

static uint32_t get_be32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, attr_data(a), sizeof(v));
	return ntohl(v);
}

static uint64_t get_be64(const struct nlattr *a)
{
	const uint8_t *p = attr_data(a);
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void set_addr(struct prefix *p, int family, const struct nlattr *a)
{
	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)family;
	p->len = family == AF_INET ? 32 : 128;
	memcpy(p->addr, attr_data(a), family == AF_INET ? 4 : 16);
}

static int parse_tuple(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1];
	const struct nlattr *ip[CTA_IP_MAX + 1];
	const struct nlattr *pr[CTA_PROTO_MAX + 1];

	memset(t, 0, sizeof(*t));
	if (!nest_table(nest, tb, CTA_TUPLE_MAX) || !tb[CTA_TUPLE_IP] ||
	    !tb[CTA_TUPLE_PROTO] ||
	    !nest_table(tb[CTA_TUPLE_IP], ip, CTA_IP_MAX) ||
	    !nest_table(tb[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX))
		return -EINVAL;
	if (payload_is(ip[CTA_IP_V4_SRC], 4) &&
	    payload_is(ip[CTA_IP_V4_DST], 4)) {
		set_addr(&t->src, AF_INET, ip[CTA_IP_V4_SRC]);
		set_addr(&t->dst, AF_INET, ip[CTA_IP_V4_DST]);
	} else if (payload_is(ip[CTA_IP_V6_SRC], 16) &&
		   payload_is(ip[CTA_IP_V6_DST], 16)) {
		set_addr(&t->src, AF_INET6, ip[CTA_IP_V6_SRC]);
		set_addr(&t->dst, AF_INET6, ip[CTA_IP_V6_DST]);
	} else {
		return -EINVAL;
	}
	if (!payload_is(pr[CTA_PROTO_NUM], 1))
		return -EINVAL;
	t->proto = get_u8(pr[CTA_PROTO_NUM]);
	if (payload_is(pr[CTA_PROTO_SRC_PORT], 2) &&
	    payload_is(pr[CTA_PROTO_DST_PORT], 2)) {
		t->has_ports = true;
		t->sport = get_be16(pr[CTA_PROTO_SRC_PORT]);
		t->dport = get_be16(pr[CTA_PROTO_DST_PORT]);
	}
	if (payload_is(pr[CTA_PROTO_ICMP_TYPE], 1)) {
		t->has_icmp = true;
		t->icmp_type = get_u8(pr[CTA_PROTO_ICMP_TYPE]);
		if (payload_is(pr[CTA_PROTO_ICMP_CODE], 1))
			t->icmp_code = get_u8(pr[CTA_PROTO_ICMP_CODE]);
		if (payload_is(pr[CTA_PROTO_ICMP_ID], 2))
			t->icmp_id = get_be16(pr[CTA_PROTO_ICMP_ID]);
	} else if (payload_is(pr[CTA_PROTO_ICMPV6_TYPE], 1)) {
		t->has_icmp = true;
		t->icmp_type = get_u8(pr[CTA_PROTO_ICMPV6_TYPE]);
		if (payload_is(pr[CTA_PROTO_ICMPV6_CODE], 1))
			t->icmp_code =
				get_u8(pr[CTA_PROTO_ICMPV6_CODE]);
		if (payload_is(pr[CTA_PROTO_ICMPV6_ID], 2))
			t->icmp_id = get_be16(pr[CTA_PROTO_ICMPV6_ID]);
	}
	return 0;
}

const struct nlmsghdr *nlmsg_walk(const void *buf, size_t len, size_t *off)
{
	const struct nlmsghdr *nlh;

	if (*off >= len || len - *off < sizeof(*nlh))
		return NULL;
	nlh = (const struct nlmsghdr *)((const char *)buf + *off);
	if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - *off)
		return NULL;
	*off += NLMSG_ALIGN((size_t)nlh->nlmsg_len);
	return nlh;
}

int ct_parse(const struct nlmsghdr *nlh, struct ct_event *ev)
{
	const struct nlattr *tb[CTA_MAX + 1];
	size_t len;
	int err;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK ||
	    (nlh->nlmsg_flags & NLM_F_REQUEST))
		return -ENOMSG;
	memset(ev, 0, sizeof(*ev));
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case IPCTNL_MSG_CT_NEW:
		if (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL))
			ev->kind = CT_NEW;
		else if (nlh->nlmsg_flags & NLM_F_MULTI)
			ev->kind = CT_DUMP;
		else
			ev->kind = CT_UPDATE;
		break;
	case IPCTNL_MSG_CT_DELETE:
		ev->kind = CT_DESTROY;
		break;
	default:
		return -ENOMSG;
	}
	/* struct nfgenmsg is 4 bytes: the attributes follow unpadded. */
	len = nlh->nlmsg_len - NLMSG_HDRLEN - sizeof(struct nfgenmsg);
	if (!attr_table(mnl_nlmsg_get_payload_offset(nlh,
						     sizeof(struct nfgenmsg)),
			len, tb, CTA_MAX) ||
	    !tb[CTA_TUPLE_ORIG])
		return -EINVAL;
	err = parse_tuple(tb[CTA_TUPLE_ORIG], &ev->orig);
	if (err)
		return err;
	if (tb[CTA_TUPLE_REPLY]) {
		err = parse_tuple(tb[CTA_TUPLE_REPLY], &ev->reply);
		if (err)
			return err;
		if (ev->reply.src.family != ev->orig.src.family)
			return -EINVAL;
		ev->has_reply = true;
	}
	if (payload_is(tb[CTA_ID], 4))
		ev->id = get_be32(tb[CTA_ID]);
	if (payload_is(tb[CTA_STATUS], 4))
		ev->status = get_be32(tb[CTA_STATUS]);
	if (tb[CTA_TIMESTAMP]) {
		const struct nlattr *ts[CTA_TIMESTAMP_MAX + 1];

		if (!nest_table(tb[CTA_TIMESTAMP], ts, CTA_TIMESTAMP_MAX))
			return -EINVAL;
		if (payload_is(ts[CTA_TIMESTAMP_START], 8))
			ev->start_ns = get_be64(ts[CTA_TIMESTAMP_START]);
		if (payload_is(ts[CTA_TIMESTAMP_STOP], 8))
			ev->stop_ns = get_be64(ts[CTA_TIMESTAMP_STOP]);
	}
	return 0;
}

/* ---- sockets ---- */

int sock_buf(int fd, bool send, int bytes)
{
	int v = bytes, opt = send ? SO_SNDBUF : SO_RCVBUF;
	socklen_t sl = sizeof(v);

	if (setsockopt(fd, SOL_SOCKET, send ? SO_SNDBUFFORCE : SO_RCVBUFFORCE,
		       &v, sizeof(v)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &sl) < 0)
		return -errno;
	return v;
}

int nlsock_rcvbuf(struct mnl_socket *nl, int bytes)
{
	return sock_buf(mnl_socket_get_fd(nl), false, bytes);
}

ssize_t nlsock_recv(int fd, void *buf, size_t len, int flags)
{
	struct sockaddr_nl from;
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_name = &from, .msg_iov = &iov,
			      .msg_iovlen = 1 };
	ssize_t n;

	for (;;) {
		msg.msg_namelen = sizeof(from);
		n = recvmsg(fd, &msg, flags);
		if (n < 0)
			return n;
		if (msg.msg_namelen == sizeof(from) &&
		    from.nl_family == AF_NETLINK && from.nl_pid == 0)
			break;
	}
	if (msg.msg_flags & MSG_TRUNC) {
		errno = ENOSPC;
		return -1;
	}
	return n;
}

ssize_t nlsock_recv_mnl(const struct mnl_socket *nl, void *buf, size_t len)
{
	return nlsock_recv(mnl_socket_get_fd(nl), buf, len, 0);
}

static struct mnl_socket *nf_open(int flags)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER,
						 SOCK_CLOEXEC | flags);
	int err;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	return nl;
}

struct mnl_socket *ctnl_open_events(int rcvbuf, int *got)
{
	struct mnl_socket *nl = nf_open(SOCK_NONBLOCK);
	int groups[] = { NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_DESTROY };
	int off = 0, r, err;
	size_t i;

	if (!nl)
		return NULL;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP,
					  &groups[i], sizeof(int)) < 0)
			goto fail;
	/* Losses must be seen: ENOBUFS is how the kernel says so. */
	if (mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &off,
				  sizeof(off)) < 0)
		goto fail;
	r = nlsock_rcvbuf(nl, rcvbuf);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	if (got)
		*got = r;
	return nl;
fail:
	err = errno;
	mnl_socket_close(nl);
	errno = err;
	return NULL;
}

struct mnl_socket *ctnl_open_cmd(void)
{
	return nf_open(0);
}

static struct nlmsghdr *ct_header(char *buf, uint16_t msg, uint16_t flags,
				  uint8_t family, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

int ctnl_dump_request(struct mnl_socket *nl, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = ct_header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP,
					 AF_UNSPEC, seq);

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

struct dump_ctx {
	ctnl_entry_fn fn;
	void *arg;
	int ret;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;
	struct ct_event ev;

	if (ct_parse(nlh, &ev))
		return MNL_CB_OK;
	c->ret = c->fn(&ev, c->arg);
	return c->ret ? MNL_CB_STOP : MNL_CB_OK;
}

/* Reads replies to `seq` until the callbacks stop: 0 or -errno. */
static int run_replies(struct mnl_socket *nl, uint32_t seq, mnl_cb_t cb,
		       void *data)
{
	static char buf[CT_BUF];
	unsigned int portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int r;

	for (;;) {
		n = nlsock_recv_mnl(nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

int ctnl_dump_sync(struct mnl_socket *nl, ctnl_entry_fn fn, void *arg)
{
	struct dump_ctx c = { fn, arg, 0 };
	uint32_t seq = (uint32_t)time(NULL);
	int err;

	err = ctnl_dump_request(nl, seq);
	if (!err)
		err = run_replies(nl, seq, dump_cb, &c);
	return c.ret ? c.ret : err;
}

static void put_tuple(struct nlmsghdr *nlh, const struct ct_tuple *t)
{
	struct nlattr *tuple, *ip, *pr;
	bool v4 = t->src.family == AF_INET;

	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, v4 ? 4 : 16,
		     t->src.addr);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, v4 ? 4 : 16,
		     t->dst.addr);
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	if (t->has_ports) {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	} else if (t->has_icmp) {
		bool six = t->proto == IPPROTO_ICMPV6;

		mnl_attr_put_u16(nlh, six ? CTA_PROTO_ICMPV6_ID :
			CTA_PROTO_ICMP_ID, htons(t->icmp_id));
		mnl_attr_put_u8(nlh, six ? CTA_PROTO_ICMPV6_TYPE :
			CTA_PROTO_ICMP_TYPE, t->icmp_type);
		mnl_attr_put_u8(nlh, six ? CTA_PROTO_ICMPV6_CODE :
			CTA_PROTO_ICMP_CODE, t->icmp_code);
	}
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, tuple);
}

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

int ctnl_delete(struct mnl_socket *nl, const struct ct_event *ev)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	static uint32_t seq;
	struct nlmsghdr *nlh;

	if (!seq)
		seq = (uint32_t)time(NULL) << 4;
	seq++;
	nlh = ct_header(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK,
			ev->orig.src.family, seq);
	put_tuple(nlh, &ev->orig);
	if (ev->id)
		mnl_attr_put_u32(nlh, CTA_ID, htonl(ev->id));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return run_replies(nl, seq, ack_cb, NULL);
}
