// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * labplan: the plan of the namespace lab (tests/lab/lib.sh) for a zone
 * file. It names the zones and the addresses to configure in each
 * zone's namespace, and lists probes with the verdict policy_decide()
 * gives each one now, so that the lab checks the kernel running the
 * generated ruleset against the one policy the generator compiled from.
 *
 * Usage: labplan [--at EPOCH] FILE
 *
 * Output, one record a line, fields separated by one space, sorted:
 *
 *   site NAME MODEL
 *   time EPOCH RFC3339
 *   zone NAME TIER IFACE[,IFACE...] NET[,NET...]
 *   host NAME ZONE PREFIX
 *   addr ZONE ADDRESS
 *   fqdn SET ZONE ADDRESS
 *   probe ID VERDICT PROTO SRCZONE SRC DSTZONE DST PORT KIND FLOW
 *   skip FLOW REASON...
 *
 * Zones come in tier order, then by name. `addr` lists every address
 * the lab must own in a zone: each host (an address inside it when the
 * host is a prefix) and every probe's ends. `fqdn` lines are addresses
 * the lab puts into the FQDN set's kernel set; the verdicts assume that
 * a set holds exactly those. VERDICT is accept, closed (a rule permits
 * it outside its schedule) or drop. PROTO is tcp, udp, icmp or icmpv6
 * (PORT is then the ICMP type). DSTZONE "gateway" with DST "-" is the
 * gateway's own address on the source zone's link (its SSH, judged
 * from gateway.ssh_from, not by policy_decide). KIND is flow, fqdn (a
 * flow to an FQDN set), port (a port the flow does not name), host
 * (an address of the destination zone the flow does not name),
 * reverse, pair (one address of each zone) or ssh; FLOW is "-" when
 * the probe belongs to no flow.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "check.h"
#include "diag.h"
#include "model.h"
#include "parse.h"
#include "policy.h"
#include "sched.h"

enum kind {
	K_FLOW,
	K_FQDN,
	K_PORT,
	K_HOST,
	K_REVERSE,
	K_PAIR,
	K_SSH,
};

static const char *const kind_names[] = {
	[K_FLOW] = "flow",
	[K_FQDN] = "fqdn",
	[K_PORT] = "port",
	[K_HOST] = "host",
	[K_REVERSE] = "reverse",
	[K_PAIR] = "pair",
	[K_SSH] = "ssh",
};

#define GATEWAY (-1)

struct probe {
	uint8_t proto;
	uint16_t port;
	int sz, dz;		/* dz GATEWAY: the gateway's own SSH */
	struct prefix src, dst;
	enum kind kind;
	int flow;		/* -1: none */
	enum pol_verdict verdict;
	size_t seq;		/* order of generation, for dedup */
};

struct zaddr {
	int zone;
	struct prefix a;
};

struct fqaddr {
	int set, zone;
	struct prefix a;
};

struct plan {
	const struct model *m;
	const struct policy *p;
	time_t when;
	int *rank;		/* zone index -> output position */
	struct probe *pr;
	size_t n_pr, cap_pr;
	struct zaddr *za;
	size_t n_za, cap_za;
	struct fqaddr *fq;
	size_t n_fq, cap_fq;
	bool failed;		/* out of memory, or a bug here */
};

/* A service reduced to what the lab can send. */
struct conc {
	uint8_t proto;
	uint16_t port;
};

/* Probes of a pair of zones: one of each kind the lab can send. */
static const struct conc pair_tcp[] = {
	{ IPPROTO_TCP, 22 },
	{ IPPROTO_TCP, 443 },
	{ IPPROTO_UDP, 53 },
};

/* Room for `need` elements: the array, moved or not, or NULL (the old
 * one kept). */
static void *grow(void *v, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return v;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	v = reallocarray(v, c, size);
	if (v)
		*cap = c;
	return v;
}

/* Makes room for one more element of pl->NAME; false (and the plan
 * marked failed) when there is none. */
#define GROW(pl, name) ({						\
	void *nv_ = grow((pl)->name, &(pl)->cap_##name,			\
			 (pl)->n_##name + 1, sizeof(*(pl)->name));	\
	if (nv_)							\
		(pl)->name = nv_;					\
	else								\
		(pl)->failed = true;					\
	nv_ != NULL; })

/* ---- addresses ---- */

static int host_bits(const struct prefix *p)
{
	return prefix_maxlen(p) - p->len;
}

/* The address `off` past the prefix's first address. */
static struct prefix addr_at(const struct prefix *p, uint32_t off)
{
	struct prefix a = *p;
	int i = p->family == AF_INET6 ? 15 : 3;

	a.len = (uint8_t)prefix_maxlen(p);
	for (; i >= 0 && off; i--) {
		uint32_t v = a.addr[i] + (off & 0xff);

		a.addr[i] = (uint8_t)v;
		off = (off >> 8) + (v >> 8);
	}
	return a;
}

static bool in_pfx(const char *s, const struct prefix *a)
{
	struct prefix p;

	return !prefix_parse(s, &p) && prefix_contains(&p, a);
}

/* Addresses a namespace cannot usefully own or a router will not
 * forward: unspecified, loopback, link-local (the lab's own links),
 * multicast and the like. */
static bool martian(const struct prefix *a)
{
	static const char *const v4[] = {
		"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/3",
	};
	static const char *const v6[] = {
		"::/8", "fe80::/10", "ff00::/8",
	};
	size_t i;

	if (a->family == AF_INET) {
		for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
			if (in_pfx(v4[i], a))
				return true;
	} else {
		for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
			if (in_pfx(v6[i], a))
				return true;
	}
	return false;
}

#define MAX_CANDS 64

/* Candidate addresses inside `p`, in a fixed order: the prefix itself
 * when it is one address, else its first address + 2, + 3... For very
 * wide prefixes (a default route) the documentation ranges inside it
 * come after, since the start of 0.0.0.0/0 is not routable. */
static size_t cands(const struct prefix *p, struct prefix *out, size_t max)
{
	static const char *const doc4[] = {
		"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
	};
	static const char *const doc6[] = { "2001:db8::/32" };
	const char *const *doc = p->family == AF_INET6 ? doc6 : doc4;
	size_t n_doc = p->family == AF_INET6 ? 1 : 3;
	struct prefix bases[4];
	size_t n_bases = 0, n = 0, i;
	uint32_t off;

	if (host_bits(p) == 0) {
		if (!martian(p) && max)
			out[n++] = *p;
		return n;
	}
	bases[n_bases++] = *p;
	for (i = 0; i < n_doc; i++) {
		struct prefix d;

		if (!prefix_parse(doc[i], &d) && d.len > p->len &&
		    prefix_contains(p, &d))
			bases[n_bases++] = d;
	}
	for (i = 0; i < n_bases && n < max; i++) {
		const struct prefix *b = &bases[i];
		int hb = host_bits(b);
		uint32_t first = hb >= 2 ? 2 : 0;
		/* Leave out the last address (IPv4 broadcast). */
		uint32_t last = hb >= 9 ? 257 :
				hb >= 2 ? (1u << hb) - 2 : (1u << hb) - 1;

		for (off = first; off <= last && n < max; off++) {
			struct prefix a = addr_at(b, off);

			if (!martian(&a))
				out[n++] = a;
		}
	}
	return n;
}

/* The nth address of a zone that no host claims: #0 stands for the
 * zone in probes, #1 + k is FQDN set k's address in an external zone. */
static bool generic(struct plan *pl, int z, int fam, int nth,
		    struct prefix *out)
{
	const struct zone *zn = &pl->m->zones[z];
	struct prefix c[MAX_CANDS];
	size_t i, j, n;
	int cz, ch;

	for (i = 0; i < zn->n_nets; i++) {
		if (zn->nets[i].p.family != fam)
			continue;
		n = cands(&zn->nets[i].p, c, MAX_CANDS);
		for (j = 0; j < n; j++) {
			if (policy_classify(pl->p, &c[j], &cz, &ch) ||
			    cz != z || ch != -1)
				continue;
			if (nth-- == 0) {
				*out = c[j];
				return true;
			}
		}
	}
	return false;
}

/* An address inside `p` that the policy places in zone `z`: the zone's
 * own stand-in when it lies there, so that probes share addresses. */
static bool pick_in(struct plan *pl, const struct prefix *p, int z,
		    struct prefix *out)
{
	struct prefix c[MAX_CANDS], g;
	size_t i, n;
	int cz;

	if (generic(pl, z, p->family, 0, &g) && prefix_contains(p, &g)) {
		*out = g;
		return true;
	}
	n = cands(p, c, MAX_CANDS);
	for (i = 0; i < n; i++) {
		if (!policy_classify(pl->p, &c[i], &cz, NULL) && cz == z) {
			*out = c[i];
			return true;
		}
	}
	return false;
}

static bool in_list(const struct prefix *v, size_t n, const struct prefix *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (prefix_contains(&v[i], a))
			return true;
	return false;
}

static void addr_note(struct plan *pl, int z, const struct prefix *a)
{
	size_t i;

	for (i = 0; i < pl->n_za; i++)
		if (pl->za[i].zone == z && prefix_equal(&pl->za[i].a, a))
			return;
	if (!GROW(pl, za))
		return;
	pl->za[pl->n_za].zone = z;
	pl->za[pl->n_za++].a = *a;
}

/* The lab's address of FQDN set `set` in external zone `z`. */
static bool fqdn_addr(struct plan *pl, int set, int z, int fam,
		      struct prefix *out)
{
	size_t i;

	if (!generic(pl, z, fam, 1 + set, out))
		return false;
	for (i = 0; i < pl->n_fq; i++)
		if (pl->fq[i].set == set && prefix_equal(&pl->fq[i].a, out))
			return true;
	if (!GROW(pl, fq))
		return false;
	pl->fq[pl->n_fq].set = set;
	pl->fq[pl->n_fq].zone = z;
	pl->fq[pl->n_fq++].a = *out;
	addr_note(pl, z, out);
	return true;
}

/* The kernel's FQDN sets hold the lab's addresses and nothing else. */
static bool lab_in_fqdn(void *ctx, int set, const struct prefix *a)
{
	const struct plan *pl = ctx;
	size_t i;

	for (i = 0; i < pl->n_fq; i++)
		if (pl->fq[i].set == set && prefix_equal(&pl->fq[i].a, a))
			return true;
	return false;
}

/* ---- probes ---- */

static int ep_zone(const struct model *m, const struct endpoint *ep)
{
	switch (ep->kind) {
	case EP_ZONE:
	case EP_CIDR:
		return ep->ref;
	case EP_HOST:
		return ep->ref >= 0 ? m->hosts[ep->ref].zone : -1;
	case EP_FQDN:
		break;
	}
	return -1;
}

static bool ep_covers(const struct model *m, const struct endpoint *ep,
		      const struct prefix *a)
{
	const struct zone *z;
	size_t i;

	switch (ep->kind) {
	case EP_ZONE:
		z = &m->zones[ep->ref];
		for (i = 0; i < z->n_nets; i++)
			if (prefix_contains(&z->nets[i].p, a))
				return true;
		return false;
	case EP_HOST:
		return prefix_contains(&m->hosts[ep->ref].addr, a);
	case EP_CIDR:
		return prefix_contains(&ep->cidr, a);
	case EP_FQDN:
		break;
	}
	return false;
}

/* The input chain: SSH from gateway.ssh_from, arriving on the
 * interface of the endpoint's own zone. */
static enum pol_verdict ssh_verdict(const struct model *m, int z,
				    const struct prefix *a)
{
	size_t i;

	for (i = 0; i < m->gateway.n_ssh_from; i++) {
		const struct endpoint *ep = &m->gateway.ssh_from[i];

		if (ep->ref >= 0 && ep_zone(m, ep) == z &&
		    ep_covers(m, ep, a))
			return POL_ACCEPT;
	}
	return POL_DROP;
}

static void probe_add(struct plan *pl, enum kind k, int flow, uint8_t proto,
		      int sz, const struct prefix *src, int dz,
		      const struct prefix *dst, uint16_t port)
{
	struct probe *pr;
	struct pol_decision dec;

	if (dz != GATEWAY) {
		struct pol_query q = {
			.src = *src,
			.dst = *dst,
			.proto = proto,
			.port = port,
			.when = pl->when,
		};

		policy_decide(pl->p, &q, lab_in_fqdn, pl, &dec);
		/* Picks are classified before use, so this is a bug here. */
		if (dec.src_zone != sz || dec.dst_zone != dz ||
		    (dec.verdict != POL_ACCEPT && dec.verdict != POL_CLOSED &&
		     dec.verdict != POL_DROP)) {
			fprintf(stderr, "labplan: a probe left its zones "
				"(verdict %d)\n", dec.verdict);
			pl->failed = true;
			return;
		}
	} else {
		dec.verdict = ssh_verdict(pl->m, sz, src);
	}
	if (!GROW(pl, pr))
		return;
	pr = &pl->pr[pl->n_pr];
	memset(pr, 0, sizeof(*pr));
	pr->kind = k;
	pr->flow = flow;
	pr->proto = proto;
	pr->port = port;
	pr->sz = sz;
	pr->dz = dz;
	pr->src = *src;
	if (dst)
		pr->dst = *dst;
	pr->verdict = dec.verdict;
	pr->seq = pl->n_pr++;
	addr_note(pl, sz, src);
	if (dz != GATEWAY)
		addr_note(pl, dz, dst);
}

/* What the lab sends for one service item of a family: both ends of a
 * port range, an echo request for ICMP. SCTP and other ICMP types are
 * not probed. */
static size_t concrete(const struct service *sv, int fam, struct conc *out)
{
	uint8_t echo_proto = fam == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	uint8_t echo = fam == AF_INET6 ? 128 : 8;
	size_t n = 0;

	switch (sv->proto) {
	case 0:
		out[n++] = (struct conc){ IPPROTO_TCP, 443 };
		out[n++] = (struct conc){ IPPROTO_UDP, 53 };
		out[n++] = (struct conc){ echo_proto, echo };
		break;
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		out[n++] = (struct conc){ sv->proto, sv->lo ? sv->lo : 1 };
		if (sv->hi != sv->lo && sv->hi > 1)
			out[n++] = (struct conc){ sv->proto, sv->hi };
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (sv->proto == echo_proto && sv->lo <= echo &&
		    echo <= sv->hi)
			out[n++] = (struct conc){ echo_proto, echo };
		break;
	default:
		break;
	}
	return n;
}

/* A destination address in the rule's zone that the rule does not
 * name: the zone's stand-ins first, then its hosts. */
static bool wrong_host(struct plan *pl, const struct pol_rule *r, int fam,
		       struct prefix *out)
{
	const struct model *m = pl->m;
	size_t i;
	int nth, cz;

	for (nth = 0; nth < 4; nth++) {
		if (!generic(pl, r->dst_zone, fam, nth, out))
			break;
		if (r->dst_fqdn >= 0 ? !lab_in_fqdn(pl, r->dst_fqdn, out) :
		    !in_list(r->dst, r->n_dst, out))
			return true;
	}
	for (i = 0; i < m->n_hosts; i++) {
		const struct host *h = &m->hosts[i];

		if (h->zone != r->dst_zone || h->addr.family != fam ||
		    !pick_in(pl, &h->addr, h->zone, out) ||
		    policy_classify(pl->p, out, &cz, NULL) ||
		    cz != r->dst_zone)
			continue;
		if (r->dst_fqdn >= 0 || !in_list(r->dst, r->n_dst, out))
			return true;
	}
	return false;
}

/* Probes of one rule from `s` to `d`; `wrong` adds the wrong port and
 * wrong host probes. False if no service could be probed. */
static bool rule_pair(struct plan *pl, const struct pol_rule *r, int fam,
		      const struct prefix *s, const struct prefix *d,
		      bool wrong)
{
	struct prefix w;
	struct conc c[4], first = { 0, 0 };
	size_t i, j, n;
	enum kind k = r->dst_fqdn >= 0 ? K_FQDN : K_FLOW;
	bool any = false;

	for (i = 0; i < r->n_svcs; i++) {
		const struct service *sv = &r->svcs[i];

		n = concrete(sv, fam, c);
		for (j = 0; j < n; j++) {
			if (!any)
				first = c[j];
			any = true;
			probe_add(pl, k, r->flow, c[j].proto, r->src_zone, s,
				  r->dst_zone, d, c[j].port);
			probe_add(pl, K_REVERSE, r->flow, c[j].proto,
				  r->dst_zone, d, r->src_zone, s, c[j].port);
		}
		if (!n || !wrong || (sv->proto != IPPROTO_TCP &&
				     sv->proto != IPPROTO_UDP))
			continue;
		if (sv->hi < 65535 && !services_cover(r->svcs, r->n_svcs,
						      sv->proto, sv->hi + 1))
			probe_add(pl, K_PORT, r->flow, sv->proto, r->src_zone,
				  s, r->dst_zone, d, sv->hi + 1);
		else if (sv->lo > 1 &&
			 !services_cover(r->svcs, r->n_svcs, sv->proto,
					 sv->lo - 1))
			probe_add(pl, K_PORT, r->flow, sv->proto, r->src_zone,
				  s, r->dst_zone, d, sv->lo - 1);
	}
	if (any && wrong && wrong_host(pl, r, fam, &w))
		probe_add(pl, K_HOST, r->flow, first.proto, r->src_zone, s,
			  r->dst_zone, &w, first.port);
	return any;
}

/* Enough to reach every endpoint of an ordinary flow; a flow naming
 * more prefixes is probed through its first ones. */
#define MAX_ENDS 16

/* Probes for one compiled rule in one family: its first source to its
 * first destination, then every other source to the first destination
 * and the first source to every other destination. */
static void rule_probes(struct plan *pl, const struct pol_rule *r, int fam)
{
	struct prefix s0, d0, x;
	size_t i, ns = 0, nd = 0;

	if (r->dst_fqdn >= 0) {
		if (!fqdn_addr(pl, r->dst_fqdn, r->dst_zone, fam, &d0))
			return;
		nd = 1;
	}
	for (i = 0; i < r->n_src && ns < MAX_ENDS; i++) {
		if (r->src[i].family != fam ||
		    !pick_in(pl, &r->src[i], r->src_zone, &x))
			continue;
		if (!ns++)
			s0 = x;
	}
	for (i = 0; r->dst_fqdn < 0 && i < r->n_dst && nd < MAX_ENDS; i++) {
		if (r->dst[i].family != fam ||
		    !pick_in(pl, &r->dst[i], r->dst_zone, &x))
			continue;
		if (!nd++)
			d0 = x;
	}
	if (!ns || !nd)
		return;
	rule_pair(pl, r, fam, &s0, &d0, true);
	for (i = 0, ns = 0; i < r->n_src && ns < MAX_ENDS; i++) {
		if (r->src[i].family != fam ||
		    !pick_in(pl, &r->src[i], r->src_zone, &x))
			continue;
		if (ns++)
			rule_pair(pl, r, fam, &x, &d0, false);
	}
	for (i = 0, nd = 0; r->dst_fqdn < 0 && i < r->n_dst &&
	     nd < MAX_ENDS; i++) {
		if (r->dst[i].family != fam ||
		    !pick_in(pl, &r->dst[i], r->dst_zone, &x))
			continue;
		if (nd++)
			rule_pair(pl, r, fam, &s0, &x, false);
	}
}

static void pair_probes(struct plan *pl)
{
	const struct model *m = pl->m;
	static const int fams[] = { AF_INET, AF_INET6 };
	struct prefix s, d;
	size_t a, b, f, i;

	for (a = 0; a < m->n_zones; a++) {
		for (b = 0; b < m->n_zones; b++) {
			for (f = 0; a != b && f < 2; f++) {
				int fam = fams[f];
				bool v6 = fam == AF_INET6;

				if (!generic(pl, (int)a, fam, 0, &s) ||
				    !generic(pl, (int)b, fam, 0, &d))
					continue;
				probe_add(pl, K_PAIR, -1,
					  v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
					  (int)a, &s, (int)b, &d, v6 ? 128 : 8);
				for (i = 0; i < 3; i++)
					probe_add(pl, K_PAIR, -1,
						  pair_tcp[i].proto, (int)a,
						  &s, (int)b, &d,
						  pair_tcp[i].port);
			}
		}
	}
}

static void ssh_probes(struct plan *pl)
{
	const struct model *m = pl->m;
	static const int fams[] = { AF_INET, AF_INET6 };
	struct prefix s;
	size_t z, f, i;

	for (z = 0; z < m->n_zones; z++)
		for (f = 0; f < 2; f++)
			if (generic(pl, (int)z, fams[f], 0, &s))
				probe_add(pl, K_SSH, -1, IPPROTO_TCP, (int)z,
					  &s, GATEWAY, NULL, 22);
	/* A host or prefix named in ssh_from speaks for itself. */
	for (i = 0; i < m->gateway.n_ssh_from; i++) {
		const struct endpoint *ep = &m->gateway.ssh_from[i];
		int ez = ep_zone(m, ep);
		const struct prefix *p;

		if (ep->ref < 0 || ez < 0 ||
		    (ep->kind != EP_HOST && ep->kind != EP_CIDR))
			continue;
		p = ep->kind == EP_HOST ? &m->hosts[ep->ref].addr : &ep->cidr;
		if (pick_in(pl, p, ez, &s))
			probe_add(pl, K_SSH, -1, IPPROTO_TCP, ez, &s, GATEWAY,
				  NULL, 22);
	}
}

/* ---- output ---- */

static const struct plan *sort_plan;

static int zone_rank_cmp(const void *a, const void *b)
{
	const struct zone *x = &sort_plan->m->zones[*(const int *)a];
	const struct zone *y = &sort_plan->m->zones[*(const int *)b];

	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int rank(const struct plan *pl, int z)
{
	return z == GATEWAY ? (int)pl->m->n_zones : pl->rank[z];
}

/* The tuple that makes two probes the same packet. */
static int tuple_cmp(const struct probe *x, const struct probe *y)
{
	int c;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if ((c = prefix_cmp(&x->src, &y->src)))
		return c;
	if ((x->dz == GATEWAY) != (y->dz == GATEWAY))
		return x->dz == GATEWAY ? 1 : -1;
	if ((c = prefix_cmp(&x->dst, &y->dst)))
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return 0;
}

static int dedup_cmp(const void *a, const void *b)
{
	const struct probe *x = a, *y = b;
	int c = tuple_cmp(x, y);

	if (c)
		return c;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int out_cmp(const void *a, const void *b)
{
	const struct probe *x = a, *y = b;
	int rx, ry;

	rx = rank(sort_plan, x->sz);
	ry = rank(sort_plan, y->sz);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	rx = rank(sort_plan, x->dz);
	ry = rank(sort_plan, y->dz);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->src.family != y->src.family)
		return x->src.family < y->src.family ? -1 : 1;
	return tuple_cmp(x, y);
}

static int za_cmp(const void *a, const void *b)
{
	const struct zaddr *x = a, *y = b;
	int rx = rank(sort_plan, x->zone), ry = rank(sort_plan, y->zone);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return prefix_cmp(&x->a, &y->a);
}

static int fq_cmp(const void *a, const void *b)
{
	const struct fqaddr *x = a, *y = b;
	int c = strcmp(sort_plan->m->fqdn_sets[x->set].name,
		       sort_plan->m->fqdn_sets[y->set].name);

	if (c)
		return c;
	if (x->zone != y->zone)
		return rank(sort_plan, x->zone) < rank(sort_plan, y->zone) ?
		       -1 : 1;
	return prefix_cmp(&x->a, &y->a);
}

static int host_cmp(const void *a, const void *b)
{
	const struct host *x = *(const struct host *const *)a;
	const struct host *y = *(const struct host *const *)b;

	return strcmp(x->name, y->name);
}

static const char *verdict_name(enum pol_verdict v)
{
	switch (v) {
	case POL_ACCEPT:
		return "accept";
	case POL_CLOSED:
		return "closed";
	default:
		return "drop";
	}
}

static int print_plan(struct plan *pl)
{
	const struct model *m = pl->m;
	char buf[PREFIX_STRLEN], buf2[PREFIX_STRLEN], when[64];
	const struct host **hosts = NULL;
	int *order = NULL;
	bool *probed = NULL;
	size_t i, j, k;
	int ret = -ENOMEM;

	order = calloc(m->n_zones + 1, sizeof(*order));
	hosts = calloc(m->n_hosts + 1, sizeof(*hosts));
	probed = calloc(m->n_flows + 1, sizeof(*probed));
	if (!order || !hosts || !probed)
		goto out;
	sort_plan = pl;

	for (i = 0; i < pl->n_pr; i++)
		if (pl->pr[i].flow >= 0 && (pl->pr[i].kind == K_FLOW ||
					    pl->pr[i].kind == K_FQDN))
			probed[pl->pr[i].flow] = true;
	/* Same packet twice: keep the most telling label (a flow's before
	 * a reverse's before a pair's), then the first generated. */
	if (pl->n_pr > 1)
		qsort(pl->pr, pl->n_pr, sizeof(*pl->pr), dedup_cmp);
	for (i = 0, k = 0; i < pl->n_pr; i++)
		if (!k || tuple_cmp(&pl->pr[k - 1], &pl->pr[i]))
			pl->pr[k++] = pl->pr[i];
	pl->n_pr = k;
	if (pl->n_pr > 1)
		qsort(pl->pr, pl->n_pr, sizeof(*pl->pr), out_cmp);
	if (pl->n_za > 1)
		qsort(pl->za, pl->n_za, sizeof(*pl->za), za_cmp);
	if (pl->n_fq > 1)
		qsort(pl->fq, pl->n_fq, sizeof(*pl->fq), fq_cmp);

	tz_format_rfc3339(m->timezone, pl->when, 0, when, sizeof(when));
	printf("# sanso lab plan; the format is in tests/tools/labplan.c\n");
	printf("site %s %s\n", m->site ? m->site : "-",
	       model_variant_name(m->variant));
	printf("time %lld %s\n", (long long)pl->when, when);

	for (i = 0; i < m->n_zones; i++)
		order[pl->rank[i]] = (int)i;
	for (i = 0; i < m->n_zones; i++) {
		const struct zone *z = &m->zones[order[i]];

		printf("zone %s %s", z->name, tier_name(z->tier));
		for (j = 0; j < z->n_ifaces; j++)
			printf("%s%s", j ? "," : " ", z->ifaces[j].name);
		if (!z->n_ifaces)
			fputs(" -", stdout);
		for (j = 0; j < z->n_nets; j++) {
			prefix_format(&z->nets[j].p, buf, sizeof(buf));
			printf("%s%s", j ? "," : " ", buf);
		}
		if (!z->n_nets)
			fputs(" -", stdout);
		putchar('\n');
	}

	for (i = 0; i < m->n_hosts; i++)
		hosts[i] = &m->hosts[i];
	if (m->n_hosts > 1)
		qsort(hosts, m->n_hosts, sizeof(*hosts), host_cmp);
	for (i = 0; i < m->n_hosts; i++) {
		prefix_format(&hosts[i]->addr, buf, sizeof(buf));
		printf("host %s %s %s\n", hosts[i]->name,
		       m->zones[hosts[i]->zone].name, buf);
	}

	for (i = 0; i < pl->n_za; i++) {
		prefix_format(&pl->za[i].a, buf, sizeof(buf));
		printf("addr %s %s\n", m->zones[pl->za[i].zone].name, buf);
	}
	for (i = 0; i < pl->n_fq; i++) {
		prefix_format(&pl->fq[i].a, buf, sizeof(buf));
		printf("fqdn %s %s %s\n", m->fqdn_sets[pl->fq[i].set].name,
		       m->zones[pl->fq[i].zone].name, buf);
	}

	for (i = 0; i < pl->n_pr; i++) {
		const struct probe *p = &pl->pr[i];

		prefix_format(&p->src, buf, sizeof(buf));
		if (p->dz == GATEWAY)
			snprintf(buf2, sizeof(buf2), "-");
		else
			prefix_format(&p->dst, buf2, sizeof(buf2));
		printf("probe %zu %s %s %s %s %s %s %u %s %s\n", i + 1,
		       verdict_name(p->verdict), proto_name(p->proto),
		       m->zones[p->sz].name, buf,
		       p->dz == GATEWAY ? "gateway" : m->zones[p->dz].name,
		       buf2, p->port, kind_names[p->kind],
		       p->flow >= 0 ? m->flows[p->flow].name : "-");
	}

	for (i = 0; i < m->n_flows; i++) {
		bool compiled = false;

		if (probed[i])
			continue;
		for (j = 0; j < pl->p->n_rules; j++)
			if (pl->p->rules[j].flow == (int)i)
				compiled = true;
		printf("skip %s %s\n", m->flows[i].name, compiled ?
		       "no service or address family the lab can probe" :
		       "not compiled (one zone, or no destination outside "
		       "its source zone)");
	}
	ret = fflush(stdout) ? -EIO : 0;
out:
	free(order);
	free(hosts);
	free(probed);
	return ret;
}

static int plan_build(struct plan *pl)
{
	const struct model *m = pl->m;
	struct prefix a;
	size_t i;
	int *idx;

	pl->rank = calloc(m->n_zones + 1, sizeof(*pl->rank));
	idx = calloc(m->n_zones + 1, sizeof(*idx));
	if (!pl->rank || !idx) {
		free(idx);
		return -ENOMEM;
	}
	for (i = 0; i < m->n_zones; i++)
		idx[i] = (int)i;
	sort_plan = pl;
	if (m->n_zones > 1)
		qsort(idx, m->n_zones, sizeof(*idx), zone_rank_cmp);
	for (i = 0; i < m->n_zones; i++)
		pl->rank[idx[i]] = (int)i;
	free(idx);

	/* FQDN addresses first: verdicts of earlier probes depend on them. */
	for (i = 0; i < pl->p->n_rules; i++) {
		const struct pol_rule *r = &pl->p->rules[i];

		if (r->dst_fqdn >= 0) {
			fqdn_addr(pl, r->dst_fqdn, r->dst_zone, AF_INET, &a);
			fqdn_addr(pl, r->dst_fqdn, r->dst_zone, AF_INET6, &a);
		}
	}
	for (i = 0; i < m->n_hosts; i++)
		if (pick_in(pl, &m->hosts[i].addr, m->hosts[i].zone, &a))
			addr_note(pl, m->hosts[i].zone, &a);
	for (i = 0; i < pl->p->n_rules; i++) {
		rule_probes(pl, &pl->p->rules[i], AF_INET);
		rule_probes(pl, &pl->p->rules[i], AF_INET6);
	}
	pair_probes(pl);
	ssh_probes(pl);
	return pl->failed ? -ENOMEM : 0;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: labplan [--at EPOCH] FILE\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct plan pl = { 0 };
	struct diags d = { 0 };
	struct model *m = NULL;
	struct policy *p = NULL;
	const char *tz;
	int32_t today;
	int c, secs, wday, off, ret = 3;
	char *end;

	pl.when = time(NULL);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			errno = 0;
			pl.when = (time_t)strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}

	m = model_load(argv[optind], &d);
	if (!m) {
		fprintf(stderr, "labplan: %s: %s\n", argv[optind],
			strerror(errno));
		goto out;
	}
	tz = m->timezone && !tz_check(m->timezone) ? m->timezone : "UTC";
	if (tz_utc_to_local(tz, pl.when, &today, &secs, &wday, &off))
		today = (int32_t)(pl.when / 86400);
	check_model(m, today, &d);
	if (d.errors) {
		diags_print_text(&d, stderr);
		fprintf(stderr, "labplan: %s has errors\n", argv[optind]);
		ret = 1;
		goto out;
	}
	p = policy_build(m);
	if (!p) {
		fprintf(stderr, "labplan: %s\n", strerror(errno));
		goto out;
	}
	pl.m = m;
	pl.p = p;
	if (plan_build(&pl) || print_plan(&pl)) {
		fprintf(stderr, "labplan: cannot make the plan\n");
		goto out;
	}
	ret = 0;
out:
	free(pl.rank);
	free(pl.pr);
	free(pl.za);
	free(pl.fq);
	policy_free(p);
	model_free(m);
	diags_free(&d);
	return ret;
}
