// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * benchct: a capture of conntrack NEW events for the replay benchmark of
 * `make bench` (P4), in the format `sanso monitor --replay` reads and
 * `tcpdump -i nlmon0` writes (src/replay.c).
 *
 * Usage: benchct FILE EVENTS OUT.pcap [PERMILLE [EPOCH]]
 *
 * Each event is one datagram of one IPCTNL_MSG_CT_NEW message laid out
 * as the kernel sends it (original and reply tuples, id, status,
 * timeout, mark, TCP protocol info), for a connection the policy of
 * FILE permits -- a random rule, a random address of its source and
 * destination prefixes, a random port of its services -- except
 * PERMILLE of a thousand (default 10) that go between two random zone
 * networks, mostly violations. FQDN-set rules are left out (a replay
 * has no kernel sets to look in), and so are scheduled ones (whether
 * they are open depends on the replay's clock). Timestamps start at
 * EPOCH (default 2026-11-24T10:00+09:00, a Tuesday in business hours),
 * one microsecond apart. The same arguments give the same file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "diag.h"
#include "model.h"
#include "parse.h"
#include "policy.h"
#include "replay.h"

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static unsigned rndn(unsigned n)
{
	return n ? (unsigned)((rnd() >> 11) % n) : 0;
}

struct tuple {
	uint8_t family, proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;	/* icmp: dport is the type */
};

/* A random address of p; hosts bits random, but not the network or
 * broadcast address of an IPv4 prefix shorter than /31. */
static void addr_in(const struct prefix *p, uint8_t *out)
{
	size_t n = p->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < n; i++) {
		int bits = (int)p->len - (int)i * 8;
		uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 :
			       (uint8_t)(0xff << (8 - bits));

		out[i] = (uint8_t)((p->addr[i] & mask) |
				   ((uint8_t)rnd() & (uint8_t)~mask));
	}
	if (p->family == AF_INET && p->len < 31) {
		if ((out[3] & 3) == 0 || (out[3] & 3) == 3)
			out[3] = (uint8_t)((out[3] & ~3u) | 1);
	}
}

static int pick_rule(const struct policy *p, struct tuple *t)
{
	const struct pol_rule *r = &p->rules[rndn((unsigned)p->n_rules)];
	const struct prefix *s, *d = NULL;
	const struct service *sv;
	size_t k;

	if (r->dst_fqdn >= 0 || r->schedule >= 0 || !r->n_src || !r->n_dst ||
	    !r->n_svcs)
		return -1;
	s = &r->src[rndn((unsigned)r->n_src)];
	/* A destination of the source's family. */
	for (size_t tries = 0; tries < 4 && !d; tries++) {
		const struct prefix *c = &r->dst[rndn((unsigned)r->n_dst)];

		if (c->family == s->family)
			d = c;
	}
	if (!d)
		return -1;
	sv = &r->svcs[rndn((unsigned)r->n_svcs)];
	if (sv->proto != IPPROTO_TCP && sv->proto != IPPROTO_UDP &&
	    sv->proto != IPPROTO_ICMP && sv->proto != IPPROTO_ICMPV6)
		return -1;
	t->family = s->family;
	t->proto = sv->proto;
	addr_in(s, t->src);
	addr_in(d, t->dst);
	k = (size_t)sv->hi - sv->lo + 1;
	t->dport = (uint16_t)(sv->lo + rndn((unsigned)k));
	t->sport = (uint16_t)(1024 + rndn(64511));
	return 0;
}

/* Between two random zone networks: a violation unless a flow happens
 * to cover it. The default route's networks are left out: an address
 * drawn from 0.0.0.0/0 mostly lands in some other zone. */
static int pick_random(const struct policy *p, struct tuple *t)
{
	const struct pol_addr *a = &p->addrs[rndn((unsigned)p->n_addrs)];
	const struct pol_addr *b = &p->addrs[rndn((unsigned)p->n_addrs)];

	if (a->host >= 0 || b->host >= 0 || a->zone == b->zone ||
	    a->p.family != b->p.family || a->p.len < 8 || b->p.len < 8)
		return -1;
	t->family = a->p.family;
	t->proto = rndn(4) ? IPPROTO_TCP : IPPROTO_UDP;
	addr_in(&a->p, t->src);
	addr_in(&b->p, t->dst);
	t->dport = (uint16_t)(1 + rndn(65535));
	t->sport = (uint16_t)(1024 + rndn(64511));
	return 0;
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t type,
		      const struct tuple *t, bool reply)
{
	struct nlattr *tn = mnl_attr_nest_start(nlh, type), *n;
	size_t alen = t->family == AF_INET ? 4 : 16;
	const uint8_t *s = reply ? t->dst : t->src;
	const uint8_t *d = reply ? t->src : t->dst;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, t->family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC,
		     alen, s);
	mnl_attr_put(nlh, t->family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST,
		     alen, d);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	if (t->proto == IPPROTO_TCP || t->proto == IPPROTO_UDP) {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT,
				 htons(reply ? t->dport : t->sport));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT,
				 htons(reply ? t->sport : t->dport));
	} else {
		bool v6 = t->proto == IPPROTO_ICMPV6;

		mnl_attr_put_u16(nlh, v6 ? CTA_PROTO_ICMPV6_ID :
				 CTA_PROTO_ICMP_ID, htons(t->sport));
		/* The reply tuple carries the reply type (echo-reply). */
		mnl_attr_put_u8(nlh, v6 ? CTA_PROTO_ICMPV6_TYPE :
				CTA_PROTO_ICMP_TYPE, (uint8_t)(reply ?
				(v6 ? 129 : 0) : t->dport));
		mnl_attr_put_u8(nlh, v6 ? CTA_PROTO_ICMPV6_CODE :
				CTA_PROTO_ICMP_CODE, 0);
	}
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, tn);
}

static size_t build(uint8_t *buf, const struct tuple *t, uint32_t id)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = t->family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	put_tuple(nlh, CTA_TUPLE_ORIG, t, false);
	put_tuple(nlh, CTA_TUPLE_REPLY, t, true);
	mnl_attr_put_u32(nlh, CTA_ID, htonl(id));
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_CONFIRMED));
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(t->proto == IPPROTO_TCP ?
						 120 : 30));
	mnl_attr_put_u32(nlh, CTA_MARK, 0);
	if (t->proto == IPPROTO_TCP) {
		struct nlattr *pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		struct nlattr *tcp = mnl_attr_nest_start(nlh,
							 CTA_PROTOINFO_TCP);

		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE,
				TCP_CONNTRACK_SYN_SENT);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, 7);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_REPLY, 0);
		mnl_attr_nest_end(nlh, tcp);
		mnl_attr_nest_end(nlh, pi);
	}
	return nlh->nlmsg_len;
}

int main(int argc, char **argv)
{
	struct diags d = { 0 };
	struct model *m = NULL;
	struct policy *p = NULL;
	struct pcap_writer *w = NULL;
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned long n, permille = 10, viol = 0;
	long long epoch = 1795482000;	/* 2026-11-24T01:00:00Z */
	int rc = 1;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: benchct FILE EVENTS OUT.pcap "
			"[PERMILLE [EPOCH]]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	if (argc > 4)
		permille = strtoul(argv[4], NULL, 10);
	if (argc > 5)
		epoch = strtoll(argv[5], NULL, 10);
	m = model_load(argv[1], &d);
	if (!m || d.errors) {
		fprintf(stderr, "benchct: %s does not load (%u errors)\n",
			argv[1], d.errors);
		goto out;
	}
	p = policy_build(m);
	if (!p || !p->n_rules || !p->n_addrs) {
		fprintf(stderr, "benchct: no policy\n");
		goto out;
	}
	w = pcapw_open(argv[3]);
	if (!w) {
		perror("benchct: open");
		goto out;
	}
	for (unsigned long i = 0; i < n;) {
		struct tuple t = { 0 };
		bool random = rndn(1000) < permille;
		struct timespec ts = {
			.tv_sec = (time_t)(epoch + (long long)(i / 1000000)),
			.tv_nsec = (long)(i % 1000000) * 1000,
		};

		if (random ? pick_random(p, &t) : pick_rule(p, &t))
			continue;
		viol += random;
		if (pcapw_write(w, NETLINK_NETFILTER, buf,
				build(buf, &t, (uint32_t)i + 1), &ts)) {
			perror("benchct: write");
			goto out;
		}
		i++;
	}
	if (pcapw_close(w)) {
		w = NULL;
		perror("benchct: close");
		goto out;
	}
	w = NULL;
	printf("%lu events, %lu between random zones\n", n, viol);
	rc = 0;
out:
	pcapw_close(w);
	policy_free(p);
	model_free(m);
	diags_free(&d);
	return rc;
}
