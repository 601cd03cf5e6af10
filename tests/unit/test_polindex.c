// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The classification index (src/policy.c) against brute force: random
 * models of nested v4 and v6 prefixes, dense enough that the /16 and /24
 * slot tables are built, with external zones that hold the default
 * routes and narrower prefixes, prefixes that two zones share and hosts
 * outside their zone (models the checker would refuse, which the index
 * must still answer exactly). Then policy_decide() against a decision
 * made by walking every rule with prefix_contains().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fqdnstate.h"
#include "model.h"
#include "parse.h"
#include "policy.h"

struct rnd {
	uint64_t s;
};

static uint32_t rnd(struct rnd *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)(r->s >> 11);
}

static void mask(struct prefix *p)
{
	unsigned int max = p->family == AF_INET ? 32 : 128;

	for (unsigned int k = p->len; k < max; k++)
		p->addr[k / 8] &= (uint8_t)~(0x80 >> (k % 8));
	if (p->family == AF_INET)
		memset(p->addr + 4, 0, 12);
}

/*
 * An address or prefix in a small space, so that prefixes nest and many
 * fall into one /16 and one /24: v4 10.0.0-63.x and a little of 10.1
 * and 11/8; v6 2001:db8:0-3::/48 with 12 bits at the end.
 */
static void rand_addr(struct rnd *r, bool v6, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = v6 ? AF_INET6 : AF_INET;
	p->len = v6 ? 128 : 32;
	if (!v6) {
		p->addr[0] = rnd(r) % 8 ? 10 : 11;
		p->addr[1] = (uint8_t)(rnd(r) % 8 ? 0 : 1);
		p->addr[2] = (uint8_t)(rnd(r) % 64);
		p->addr[3] = (uint8_t)rnd(r);
		return;
	}
	p->addr[0] = 0x20;
	p->addr[1] = 0x01;
	p->addr[2] = 0x0d;
	p->addr[3] = 0xb8;
	p->addr[5] = (uint8_t)(rnd(r) % 4);
	p->addr[14] = (uint8_t)(rnd(r) % 16);
	p->addr[15] = (uint8_t)rnd(r);
}

/* Short prefixes are rare, or they would cover the whole space and
 * hide what lies under them. */
static void rand_prefix(struct rnd *r, bool v6, struct prefix *p)
{
	static const uint8_t l4[] = { 26, 28, 29, 30, 31, 32, 32, 32 };
	static const uint8_t l6[] = { 120, 124, 126, 127, 128, 128, 128, 128 };
	static const uint8_t s4[] = { 8, 16, 20, 23, 24 };
	static const uint8_t s6[] = { 16, 32, 48, 64, 112 };

	rand_addr(r, v6, p);
	if (rnd(r) % 30 == 0)
		p->len = v6 ? s6[rnd(r) % 5] : s4[rnd(r) % 5];
	else
		p->len = v6 ? l6[rnd(r) % 8] : l4[rnd(r) % 8];
	mask(p);
}

struct rmodel {
	struct model m;
	struct zone *zones;
	struct net *nets;
	struct host *hosts;
};

#define RM_PER 40

static void rmodel_make(struct rmodel *rm, struct rnd *r, size_t nz,
			size_t nh)
{
	memset(rm, 0, sizeof(*rm));
	rm->zones = calloc(nz, sizeof(*rm->zones));
	rm->nets = calloc(nz * RM_PER, sizeof(*rm->nets));
	rm->hosts = calloc(nh ? nh : 1, sizeof(*rm->hosts));
	assert_non_null(rm->zones);
	assert_non_null(rm->nets);
	assert_non_null(rm->hosts);
	rm->m.zones = rm->zones;
	rm->m.n_zones = nz;
	rm->m.hosts = rm->hosts;
	rm->m.n_hosts = nh;
	for (size_t i = 0; i < nz; i++) {
		struct zone *z = &rm->zones[i];

		z->tier = i % 5 == 0 ? TIER_EXTERNAL : (enum tier)(i % 3 ?
			  TIER_LGWAN : TIER_DMZ);
		z->nets = &rm->nets[i * RM_PER];
		z->n_nets = 1 + rnd(r) % RM_PER;
		for (size_t j = 0; j < z->n_nets; j++) {
			struct prefix *p = &z->nets[j].p;

			rand_prefix(r, rnd(r) % 3 == 0, p);
			/* Default routes: external zones', and, in small
			 * models, now and then another zone's. */
			if ((z->tier == TIER_EXTERNAL && rnd(r) % 10 == 0) ||
			    (nz <= 3 && rnd(r) % 60 == 0)) {
				p->len = 0;
				mask(p);
			}
			/* The same prefix in another zone, now and then. */
			if (i && rnd(r) % 25 == 0)
				*p = rm->nets[(rnd(r) % i) * RM_PER].p;
		}
	}
	for (size_t i = 0; i < nh; i++) {
		rm->hosts[i].zone = (int)(rnd(r) % nz);
		rand_addr(r, rnd(r) % 3 == 0, &rm->hosts[i].addr);
	}
}

static void rmodel_free(struct rmodel *rm)
{
	free(rm->zones);
	free(rm->nets);
	free(rm->hosts);
}

/* The order of the index's entries on an equal prefix: hosts first, by
 * index, then zone networks by zone. */
static bool tie_before(int h1, int z1, int h2, int z2)
{
	if ((h1 < 0) != (h2 < 0))
		return h1 >= 0;
	if (h1 != h2)
		return h1 < h2;
	return z1 < z2;
}

static void brute_classify(const struct rmodel *rm, const struct prefix *a,
			   int *zone, int *host)
{
	int blen = -1;

	*zone = *host = -1;
	for (size_t i = 0; i < rm->m.n_zones; i++) {
		const struct zone *z = &rm->zones[i];

		for (size_t j = 0; j < z->n_nets; j++) {
			const struct prefix *p = &z->nets[j].p;

			if (!prefix_contains(p, a))
				continue;
			if (p->len > blen || (p->len == blen &&
			    tie_before(-1, (int)i, *host, *zone))) {
				blen = p->len;
				*zone = (int)i;
				*host = -1;
			}
		}
	}
	for (size_t i = 0; i < rm->m.n_hosts; i++) {
		const struct prefix *p = &rm->hosts[i].addr;

		if (!prefix_contains(p, a))
			continue;
		if (p->len > blen || (p->len == blen &&
		    tie_before((int)i, rm->hosts[i].zone, *host, *zone))) {
			blen = p->len;
			*zone = rm->hosts[i].zone;
			*host = (int)i;
		}
	}
}

/* What the man page says the guard never adds: any zone network but an
 * external zone's 0.0.0.0/0 or ::/0. */
static bool brute_own(const struct rmodel *rm, const struct prefix *a)
{
	for (size_t i = 0; i < rm->m.n_zones; i++) {
		const struct zone *z = &rm->zones[i];

		for (size_t j = 0; j < z->n_nets; j++) {
			const struct prefix *p = &z->nets[j].p;

			if (z->tier == TIER_EXTERNAL && p->len == 0)
				continue;
			if (prefix_contains(p, a))
				return true;
		}
	}
	return false;
}

/* A query: a random address, or the first or last address of a random
 * network, or the one just past it. */
static void rand_query(struct rnd *r, const struct rmodel *rm,
		       struct prefix *a)
{
	const struct prefix *p;
	unsigned int max, k;
	int i;

	if (rnd(r) % 2) {
		rand_addr(r, rnd(r) % 3 == 0, a);
		return;
	}
	p = &rm->nets[rnd(r) % (rm->m.n_zones * RM_PER)].p;
	if (!p->family) {
		rand_addr(r, false, a);
		return;
	}
	*a = *p;
	max = p->family == AF_INET ? 32 : 128;
	a->len = (uint8_t)max;
	if (rnd(r) % 2)
		for (k = p->len; k < max; k++)
			a->addr[k / 8] |= (uint8_t)(0x80 >> (k % 8));
	if (rnd(r) % 2) {
		/* one past (or one before): carry through the bytes */
		bool up = rnd(r) % 2;

		for (i = (int)max / 8 - 1; i >= 0; i--) {
			uint8_t old = a->addr[i];

			a->addr[i] = (uint8_t)(up ? old + 1 : old - 1);
			if (up ? a->addr[i] != 0 : old != 0)
				break;
		}
	}
}

static void check_model(struct rnd *r, size_t nz, size_t nh, int queries)
{
	struct rmodel rm;
	struct pol_index *ix;
	struct policy *p;

	rmodel_make(&rm, r, nz, nh);
	ix = pol_index_build(&rm.m);
	p = policy_build(&rm.m);
	assert_non_null(ix);
	assert_non_null(p);
	for (int q = 0; q < queries; q++) {
		struct prefix a;
		int bz, bh, z, h, pz, ph, ret;

		rand_query(r, &rm, &a);
		/* Now and then a whole prefix rather than an address. */
		if (rnd(r) % 8 == 0) {
			a.len = (uint8_t)(rnd(r) % (a.family == AF_INET ? 33
									: 129));
			mask(&a);
		}
		brute_classify(&rm, &a, &bz, &bh);
		ret = pol_index_classify(ix, &a, &z, &h);
		assert_int_equal(ret, bz < 0 ? -ENOENT : 0);
		assert_int_equal(z, bz);
		assert_int_equal(h, bh);
		assert_int_equal(policy_classify(p, &a, &pz, &ph), ret);
		assert_int_equal(pz, bz);
		assert_int_equal(ph, bh);
		if (pol_index_own(ix, &a) != brute_own(&rm, &a)) {
			char s[PREFIX_STRLEN];

			prefix_format(&a, s, sizeof(s));
			fail_msg("own(%s): index %d, brute force %d", s,
				 pol_index_own(ix, &a), brute_own(&rm, &a));
		}
	}
	policy_free(p);
	pol_index_free(ix);
	rmodel_free(&rm);
}

static void test_index_small(void **state)
{
	struct rnd r = { 0x9e3779b97f4a7c15ull };

	(void)state;
	/* Short cuts: searched whole, no slot tables. */
	for (int i = 0; i < 200; i++)
		check_model(&r, 1 + rnd(&r) % 3, rnd(&r) % 3, 200);
}

static void test_index_dense(void **state)
{
	struct rnd r = { 0x243f6a8885a308d3ull };

	(void)state;
	/* Thousands of ranges in a few /16s and /24s: both slot levels. */
	for (int i = 0; i < 6; i++)
		check_model(&r, 80, 200, 20000);
}

/* The guard's filter is the index's answer (and the special ranges). */
static int no_arm(void *arg, const struct fqdn_elem *v, size_t n, char *err,
		  size_t errlen)
{
	(void)arg;
	(void)v;
	(void)n;
	(void)err;
	(void)errlen;
	return -EPERM;
}

static void test_guard_filter(void **state)
{
	struct rnd r = { 0x13198a2e03707344ull };
	struct fqdn_kernel k = { .arm = no_arm };
	struct fqdn_conf c = { .kernel = &k };

	(void)state;
	for (int i = 0; i < 8; i++) {
		struct rmodel rm;
		struct fqdn_state *st;

		rmodel_make(&rm, &r, 60, 0);
		/* Public space too, so that some answers are safe. */
		for (size_t j = 0; j < 60; j++) {
			struct net *n = rm.zones[j].nets;

			if (rm.zones[j].n_nets <= 2 || n[1].p.len < 8 ||
			    n[2].p.len < 8)
				continue;
			n[1].p.addr[0] = 198;
			n[2].p.addr[0] = 203;
		}
		st = fqdn_state_new(&rm.m, &c);
		assert_non_null(st);
		for (int q = 0; q < 5000; q++) {
			struct prefix a;
			bool want;

			rand_query(&r, &rm, &a);
			if (a.family == AF_INET && rnd(&r) % 2)
				a.addr[0] = rnd(&r) % 2 ? 198 : 203;
			want = !fqdn_addr_special(a.family, a.addr) &&
			       !brute_own(&rm, &a);
			assert_int_equal(fqdn_addr_safe(st, a.family, a.addr),
					 want);
		}
		fqdn_state_free(st);
		rmodel_free(&rm);
	}
}

/* ---- policy_decide against every rule ---- */

#define DM_ZONES 12
#define DM_FLOWS 60

struct dmodel {
	struct rmodel rm;
	struct flow flows[DM_FLOWS];
	struct endpoint eps[DM_FLOWS * 8];
	struct svc_item svcs[DM_FLOWS * 2];
};

static void dmodel_make(struct dmodel *d, struct rnd *r)
{
	size_t ne = 0, ns = 0;

	memset(d, 0, sizeof(*d));
	rmodel_make(&d->rm, r, DM_ZONES, 20);
	d->rm.m.flows = d->flows;
	d->rm.m.n_flows = DM_FLOWS;
	for (size_t i = 0; i < DM_FLOWS; i++) {
		struct flow *f = &d->flows[i];
		size_t nf = 1 + rnd(r) % 3, nt = 1 + rnd(r) % 3;

		f->schedule = -1;
		f->alert_outside = -1;
		f->from = &d->eps[ne];
		f->n_from = nf;
		for (size_t j = 0; j < nf + nt; j++) {
			struct endpoint *e = &d->eps[ne++];
			int z = (int)(rnd(r) % DM_ZONES);
			const struct zone *zn = &d->rm.zones[z];

			switch (rnd(r) % 3) {
			case 0:
				e->kind = EP_ZONE;
				e->ref = z;
				e->zone = z;
				break;
			case 1:
				e->kind = EP_CIDR;
				e->ref = z;
				e->zone = z;
				e->cidr = zn->nets[rnd(r) % zn->n_nets].p;
				break;
			default:
				e->kind = EP_HOST;
				e->ref = (int)(rnd(r) % d->rm.m.n_hosts);
				e->zone = d->rm.hosts[e->ref].zone;
				break;
			}
		}
		f->to = f->from + nf;
		f->n_to = nt;
		f->services = &d->svcs[ns];
		f->n_services = 1 + rnd(r) % 2;
		for (size_t j = 0; j < f->n_services; j++) {
			struct service *sv = &d->svcs[ns++].sv;

			sv->proto = rnd(r) % 2 ? IPPROTO_TCP : IPPROTO_UDP;
			sv->lo = (uint16_t)(rnd(r) % 4);
			sv->hi = (uint16_t)(sv->lo + rnd(r) % 3);
		}
	}
}

static bool brute_in(const struct prefix *v, size_t n, const struct prefix *a)
{
	for (size_t i = 0; i < n; i++)
		if (prefix_contains(&v[i], a))
			return true;
	return false;
}

static void test_decide_random(void **state)
{
	struct rnd r = { 0xa4093822299f31d0ull };
	struct dmodel *d = malloc(sizeof(*d));

	(void)state;
	assert_non_null(d);
	for (int round = 0; round < 20; round++) {
		struct policy *p;

		dmodel_make(d, &r);
		p = policy_build(&d->rm.m);
		assert_non_null(p);
		for (int q = 0; q < 4000; q++) {
			struct pol_query pq = { .proto = IPPROTO_TCP };
			struct pol_decision dec;
			const struct pol_rule *want = NULL;
			int sz, sh, dz, dh;

			rand_query(&r, &d->rm, &pq.src);
			rand_query(&r, &d->rm, &pq.dst);
			/* Now and then a prefix for a whole end (as
			 * explain asks with a CIDR). */
			if (rnd(&r) % 8 == 0) {
				struct prefix *e = rnd(&r) % 2 ? &pq.src
							       : &pq.dst;

				e->len = (uint8_t)(e->len - rnd(&r) % 12);
				mask(e);
			}
			if (rnd(&r) % 2)
				pq.proto = IPPROTO_UDP;
			pq.port = (uint16_t)(rnd(&r) % 6);
			policy_decide(p, &pq, NULL, NULL, &dec);
			brute_classify(&d->rm, &pq.src, &sz, &sh);
			brute_classify(&d->rm, &pq.dst, &dz, &dh);
			assert_int_equal(dec.src_zone, sz);
			assert_int_equal(dec.dst_zone, dz);
			if (sz < 0 || dz < 0) {
				assert_int_equal(dec.verdict, POL_UNKNOWN);
				continue;
			}
			if (sz == dz) {
				assert_int_equal(dec.verdict, POL_LOCAL);
				continue;
			}
			/* The first rule of the pair, in policy order, that
			 * holds both ends and the service. */
			for (size_t i = 0; i < p->n_rules && !want; i++) {
				const struct pol_rule *ru = &p->rules[i];

				if (ru->src_zone == sz && ru->dst_zone == dz &&
				    brute_in(ru->src, ru->n_src, &pq.src) &&
				    brute_in(ru->dst, ru->n_dst, &pq.dst) &&
				    services_cover(ru->svcs, ru->n_svcs,
						   pq.proto, pq.port))
					want = ru;
			}
			assert_int_equal(dec.verdict,
					 want ? POL_ACCEPT : POL_DROP);
			assert_ptr_equal(dec.rule, want);
		}
		policy_free(p);
		rmodel_free(&d->rm);
	}
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_small),
		cmocka_unit_test(test_index_dense),
		cmocka_unit_test(test_guard_filter),
		cmocka_unit_test(test_decide_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
