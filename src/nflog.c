// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfnetlink_log with libmnl alone. Like the conntrack parser it runs per
 * message, allocates nothing and trusts no length: the payload is a
 * packet copied from the wire, cut at NFLOG_COPY_RANGE bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "ctnetlink.h"
#include "nflog.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static void put_addr(struct prefix *a, int family, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	a->len = family == AF_INET ? 32 : 128;
	memcpy(a->addr, p, family == AF_INET ? 4 : 16);
}

/* The transport header at l4 (len bytes left), when the copy holds it. */
static void parse_l4(const uint8_t *l4, size_t len, struct nflog_pkt *p)
{
	switch (p->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
	case IPPROTO_DCCP:
		if (len >= 4) {
			p->has_ports = true;
			p->sport = rd16(l4);
			p->dport = rd16(l4 + 2);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len >= 1) {
			p->has_icmp = true;
			p->icmp_type = l4[0];
		}
		break;
	default:
		break;
	}
}

static int parse_v4(const uint8_t *b, size_t len, struct nflog_pkt *p)
{
	size_t ihl;

	if (len < 20)
		return -EINVAL;
	ihl = (size_t)(b[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return -EINVAL;
	put_addr(&p->src, AF_INET, b + 12);
	put_addr(&p->dst, AF_INET, b + 16);
	p->proto = b[9];
	p->has_ip = true;
	/* Only a first fragment carries the transport header. */
	if ((rd16(b + 6) & 0x1fff) == 0)
		parse_l4(b + ihl, len - ihl, p);
	return 0;
}

static int parse_v6(const uint8_t *b, size_t len, struct nflog_pkt *p)
{
	size_t off = 40;
	uint8_t next;
	int hops;

	if (len < 40)
		return -EINVAL;
	put_addr(&p->src, AF_INET6, b + 8);
	put_addr(&p->dst, AF_INET6, b + 24);
	next = b[6];
	p->has_ip = true;
	/* Extension headers, a bounded number of them. */
	for (hops = 0; hops < 8; hops++) {
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 8 > len)
				goto cut;
			next = b[off];
			off += ((size_t)b[off + 1] + 1) * 8;
			continue;
		case IPPROTO_FRAGMENT:
			if (off + 8 > len)
				goto cut;
			next = b[off];
			if (rd16(b + off + 2) & 0xfff8) {
				p->proto = next;	/* not the first */
				return 0;
			}
			off += 8;
			continue;
		default:
			break;
		}
		break;
	}
	p->proto = next;
	if (off <= len)
		parse_l4(b + off, len - off, p);
	return 0;
cut:
	p->proto = next;
	return 0;
}

int nflog_parse_payload(const uint8_t *buf, size_t len, struct nflog_pkt *p)
{
	if (len < 1)
		return -EINVAL;
	switch (buf[0] >> 4) {
	case 4:
		return parse_v4(buf, len, p);
	case 6:
		return parse_v6(buf, len, p);
	default:
		return -EINVAL;
	}
}

int nflog_parse(const struct nlmsghdr *nlh, struct nflog_pkt *p)
{
	const struct nfgenmsg *nfg;
	const struct nlattr *a;
	size_t len;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_ULOG ||
	    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFULNL_MSG_PACKET ||
	    (nlh->nlmsg_flags & NLM_F_REQUEST))
		return -ENOMSG;
	memset(p, 0, sizeof(*p));
	nfg = mnl_nlmsg_get_payload(nlh);
	p->family = nfg->nfgen_family;
	len = nlh->nlmsg_len - NLMSG_HDRLEN - sizeof(struct nfgenmsg);
	a = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nfgenmsg));
	while (len >= sizeof(struct nlattr)) {
		const uint8_t *v = mnl_attr_get_payload(a);
		size_t vl;

		if (a->nla_len < sizeof(struct nlattr) || a->nla_len > len)
			return -EINVAL;
		vl = a->nla_len - sizeof(struct nlattr);
		switch (mnl_attr_get_type(a)) {
		case NFULA_PACKET_HDR:
			if (vl >= 3) {
				p->hw_proto = rd16(v);
				p->hook = v[2];
			}
			break;
		case NFULA_TIMESTAMP:
			if (vl >= 16) {
				uint64_t usec = rd64(v + 8);

				p->has_time = true;
				p->time.tv_sec = (time_t)rd64(v);
				p->time.tv_nsec = (long)(usec % 1000000) * 1000;
			}
			break;
		case NFULA_IFINDEX_INDEV:
			if (vl >= 4)
				p->indev = rd32(v);
			break;
		case NFULA_IFINDEX_OUTDEV:
			if (vl >= 4)
				p->outdev = rd32(v);
			break;
		case NFULA_PREFIX: {
			size_t n = strnlen((const char *)v, vl);

			if (n >= sizeof(p->prefix))
				n = sizeof(p->prefix) - 1;
			memcpy(p->prefix, v, n);
			p->prefix[n] = '\0';
			break;
		}
		case NFULA_SEQ:
			if (vl >= 4) {
				p->has_seq = true;
				p->seq = rd32(v);
			}
			break;
		case NFULA_SEQ_GLOBAL:
			if (vl >= 4) {
				p->has_seq_global = true;
				p->seq_global = rd32(v);
			}
			break;
		case NFULA_PAYLOAD:
			/* A packet that is no IP leaves has_ip false. */
			nflog_parse_payload(v, vl, p);
			break;
		default:
			break;
		}
		if ((size_t)MNL_ALIGN(a->nla_len) >= len)
			break;
		len -= (size_t)MNL_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a +
					    MNL_ALIGN(a->nla_len));
	}
	return 0;
}

/* ---- the socket ---- */

static struct nlmsghdr *cfg_header(char *buf, uint16_t group, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	return nlh;
}

/* Sends one config message and waits for its acknowledgement. The
 * socket is still blocking here. */
static int cfg_send(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = nlsock_recv_mnl(nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq,
			       mnl_socket_get_portid(nl), NULL, NULL);
		if (n < 0)
			return -errno;
		if (n == MNL_CB_STOP)
			return 0;
	}
}

struct mnl_socket *nflog_open(uint16_t group, int rcvbuf, int *got)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfulnl_msg_config_cmd cmd = { NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int off = 0, r, err;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;

	/* Since Linux 3.17 the per-family binding is implicit. */
	nlh = cfg_header(buf, group, AF_UNSPEC);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	r = cfg_send(nl, nlh);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	memset(&mode, 0, sizeof(mode));
	mode.copy_mode = NFULNL_COPY_PACKET;
	mode.copy_range = htonl(NFLOG_COPY_RANGE);
	nlh = cfg_header(buf, group, AF_UNSPEC);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS,
			 htons(NFULNL_CFG_F_SEQ | NFULNL_CFG_F_SEQ_GLOBAL));
	r = cfg_send(nl, nlh);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
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
	r = fcntl(mnl_socket_get_fd(nl), F_GETFL);
	if (r < 0 || fcntl(mnl_socket_get_fd(nl), F_SETFL, r | O_NONBLOCK) < 0)
		goto fail;
	return nl;
fail:
	err = errno;
	mnl_socket_close(nl);
	errno = err;
	return NULL;
}
