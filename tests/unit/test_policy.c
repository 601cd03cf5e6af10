// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "model.h"
#include "parse.h"
#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- models built in memory ---- */

#define TB_ZONES 16
#define TB_NETS 4
#define TB_HOSTS 32
#define TB_SETS 4
#define TB_SCHEDS 4
#define TB_FLOWS 32
#define TB_EPS 256
#define TB_SVCS 256

struct tb {
	struct model m;
	struct zone zones[TB_ZONES];
	struct net nets[TB_ZONES][TB_NETS];
	struct host hosts[TB_HOSTS];
	struct fqdn_set sets[TB_SETS];
	struct schedule scheds[TB_SCHEDS];
	struct window wins[TB_SCHEDS];
	struct flow flows[TB_FLOWS];
	struct endpoint eps[TB_EPS];
	size_t n_eps;
	struct svc_item svcs[TB_SVCS];
	size_t n_svcs;
};

static struct prefix P(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, &p))
		fail_msg("prefix_parse(\"%s\") failed", s);
	return p;
}

static struct service S(const char *s)
{
	struct service sv;

	if (service_parse(s, &sv))
		fail_msg("service_parse(\"%s\") failed", s);
	return sv;
}

static struct tb *tb_new(void)
{
	struct tb *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->m.version = 1;
	b->m.timezone = (char *)"Asia/Tokyo";
	b->m.zones = b->zones;
	b->m.hosts = b->hosts;
	b->m.fqdn_sets = b->sets;
	b->m.schedules = b->scheds;
	b->m.flows = b->flows;
	return b;
}

/* `nets` is a space-separated list of prefixes. */
static int tb_zone(struct tb *b, const char *name, enum tier tier,
		   const char *nets)
{
	size_t z = b->m.n_zones++;
	char buf[256], *tok, *save = NULL;

	assert_true(z < TB_ZONES);
	b->zones[z].name = (char *)name;
	b->zones[z].tier = tier;
	b->zones[z].nets = b->nets[z];
	snprintf(buf, sizeof(buf), "%s", nets);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		assert_true(b->zones[z].n_nets < TB_NETS);
		b->nets[z][b->zones[z].n_nets++].p = P(tok);
	}
	return (int)z;
}

static int tb_find(const char *const *names, size_t stride, size_t n,
		   const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *s = *(const char *const *)
			((const char *)names + i * stride);

		if (!strcmp(s, name))
			return (int)i;
	}
	return -1;
}

static int tb_zone_idx(const struct tb *b, const char *name)
{
	return tb_find((const char *const *)&b->zones[0].name,
		       sizeof(b->zones[0]), b->m.n_zones, name);
}

static int tb_host_idx(const struct tb *b, const char *name)
{
	return tb_find((const char *const *)&b->hosts[0].name,
		       sizeof(b->hosts[0]), b->m.n_hosts, name);
}

static int tb_set_idx(const struct tb *b, const char *name)
{
	return tb_find((const char *const *)&b->sets[0].name,
		       sizeof(b->sets[0]), b->m.n_fqdn_sets, name);
}

static int tb_sched_idx(const struct tb *b, const char *name)
{
	return tb_find((const char *const *)&b->scheds[0].name,
		       sizeof(b->scheds[0]), b->m.n_schedules, name);
}

static int tb_host(struct tb *b, const char *name, const char *zone,
		   const char *addr)
{
	size_t h = b->m.n_hosts++;

	assert_true(h < TB_HOSTS);
	b->hosts[h].name = (char *)name;
	b->hosts[h].zone = tb_zone_idx(b, zone);
	b->hosts[h].addr = P(addr);
	return (int)h;
}

static int tb_fqdn(struct tb *b, const char *name)
{
	size_t i = b->m.n_fqdn_sets++;

	assert_true(i < TB_SETS);
	b->sets[i].name = (char *)name;
	return (int)i;
}

/* A schedule open in [from, to) (UTC seconds). */
static int tb_window(struct tb *b, const char *name, time_t from, time_t to)
{
	size_t i = b->m.n_schedules++;

	assert_true(i < TB_SCHEDS);
	b->scheds[i].name = (char *)name;
	b->scheds[i].windows = &b->wins[i];
	b->scheds[i].n_windows = 1;
	b->wins[i].from = from;
	b->wins[i].to = to;
	return (int)i;
}

/* "zone", "host", "fqdn:set", "zone/cidr"; "?name" is unresolved. */
static void tb_ep(struct tb *b, struct endpoint *ep, const char *s)
{
	const char *slash = strchr(s, '/');

	memset(ep, 0, sizeof(*ep));
	ep->text = (char *)s;
	ep->ref = -1;
	ep->zone = -1;
	if (s[0] == '?') {
		ep->kind = EP_ZONE;
	} else if (!strncmp(s, "fqdn:", 5)) {
		ep->kind = EP_FQDN;
		ep->ref = tb_set_idx(b, s + 5);
		assert_true(ep->ref >= 0);
	} else if (slash) {
		char zname[64];

		snprintf(zname, sizeof(zname), "%.*s", (int)(slash - s), s);
		ep->kind = EP_CIDR;
		ep->ref = ep->zone = tb_zone_idx(b, zname);
		ep->cidr = P(slash + 1);
		assert_true(ep->ref >= 0);
	} else if ((ep->ref = tb_zone_idx(b, s)) >= 0) {
		ep->kind = EP_ZONE;
		ep->zone = ep->ref;
	} else {
		ep->kind = EP_HOST;
		ep->ref = tb_host_idx(b, s);
		assert_true(ep->ref >= 0);
		ep->zone = b->hosts[ep->ref].zone;
	}
}

static struct endpoint *tb_eps(struct tb *b, const char *list, size_t *n)
{
	struct endpoint *first = &b->eps[b->n_eps];
	char *buf = strdup(list), *tok, *save = NULL;

	assert_non_null(buf);
	*n = 0;
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		assert_true(b->n_eps < TB_EPS);
		tb_ep(b, &b->eps[b->n_eps], tok);
		b->eps[b->n_eps].text = NULL;	/* tok dies with buf */
		b->n_eps++;
		(*n)++;
	}
	free(buf);
	return first;
}

static int tb_flow(struct tb *b, const char *name, const char *from,
		   const char *to, const char *svcs, const char *sched)
{
	size_t f = b->m.n_flows++;
	struct flow *fl = &b->flows[f];
	char buf[256], *tok, *save = NULL;

	assert_true(f < TB_FLOWS);
	fl->name = (char *)name;
	fl->from = tb_eps(b, from, &fl->n_from);
	fl->to = tb_eps(b, to, &fl->n_to);
	fl->services = &b->svcs[b->n_svcs];
	snprintf(buf, sizeof(buf), "%s", svcs);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		assert_true(b->n_svcs < TB_SVCS);
		b->svcs[b->n_svcs++].sv = S(tok);
		fl->n_services++;
	}
	fl->schedule = sched ? tb_sched_idx(b, sched) : -1;
	fl->alert_outside = -1;
	return (int)f;
}

/* ---- helpers ---- */

static void classify(const struct policy *p, const char *addr, int want_zone,
		     int want_host)
{
	struct prefix a = P(addr);
	int zone = 99, host = 99, r;

	r = policy_classify(p, &a, &zone, &host);
	if (want_zone < 0) {
		if (r != -ENOENT || zone != -1 || host != -1)
			fail_msg("%s: want no zone, got %d (zone %d host %d)",
				 addr, r, zone, host);
		return;
	}
	if (r || zone != want_zone || host != want_host)
		fail_msg("%s: want zone %d host %d, got %d (zone %d host %d)",
			 addr, want_zone, want_host, r, zone, host);
}

static void assert_prefixes(const struct prefix *v, size_t n,
			    const char *want)
{
	char got[1024] = "", buf[PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		prefix_format(&v[i], buf, sizeof(buf));
		if (i)
			strcat(got, " ");
		strcat(got, buf);
	}
	assert_string_equal(got, want);
}

static void assert_services(const struct service *v, size_t n,
			    const char *want)
{
	char got[1024] = "", buf[SERVICE_STRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		service_format(&v[i], buf, sizeof(buf));
		if (i)
			strcat(got, " ");
		strcat(got, buf);
	}
	assert_string_equal(got, want);
}

static const struct pol_rule *find_rule(const struct policy *p, int flow,
					int from, int to, int fqdn)
{
	size_t i;

	for (i = 0; i < p->n_rules; i++) {
		const struct pol_rule *r = &p->rules[i];

		if (r->flow == flow && r->src_zone == from &&
		    r->dst_zone == to && r->dst_fqdn == fqdn)
			return r;
	}
	return NULL;
}

static struct pol_query Q(const char *src, const char *dst, const char *svc,
			  time_t when)
{
	struct pol_query q;
	char proto[16];
	unsigned int port = 0;

	memset(&q, 0, sizeof(q));
	q.src = P(src);
	q.dst = P(dst);
	q.when = when;
	if (sscanf(svc, "%15[a-z0-9]/%u", proto, &port) < 1)
		fail_msg("bad query service %s", svc);
	if (!strcmp(proto, "tcp"))
		q.proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		q.proto = IPPROTO_UDP;
	else if (!strcmp(proto, "sctp"))
		q.proto = IPPROTO_SCTP;
	else if (!strcmp(proto, "icmp"))
		q.proto = IPPROTO_ICMP;
	else if (!strcmp(proto, "icmpv6"))
		q.proto = IPPROTO_ICMPV6;
	else if (!strcmp(proto, "gre"))
		q.proto = IPPROTO_GRE;
	else
		q.proto = (uint8_t)atoi(proto);
	q.port = (uint16_t)port;
	return q;
}

static enum pol_verdict decide(const struct policy *p, const char *src,
			       const char *dst, const char *svc, time_t when,
			       struct pol_decision *d)
{
	struct pol_query q = Q(src, dst, svc, when);
	struct pol_decision tmp;

	if (!d)
		d = &tmp;
	policy_decide(p, &q, NULL, NULL, d);
	return d->verdict;
}

/* ---- classification ---- */

static void test_classify_v4(void **state)
{
	struct tb *b = tb_new();
	struct policy *p;
	int a, c, up, h, h2;

	(void)state;
	a = tb_zone(b, "a", TIER_LGWAN, "10.1.0.0/16");
	tb_zone(b, "b", TIER_INTERNET, "10.2.0.0/16");
	c = tb_zone(b, "c", TIER_DMZ, "10.1.5.0/24");
	up = tb_zone(b, "up", TIER_EXTERNAL, "0.0.0.0/0 ::/0");
	h = tb_host(b, "h", "a", "10.1.0.10");
	h2 = tb_host(b, "h2", "c", "10.1.5.255");
	p = policy_build(&b->m);
	assert_non_null(p);
	assert_int_equal(p->n_addrs, 7);

	classify(p, "10.1.5.7", c, -1);
	classify(p, "10.1.5.0", c, -1);
	classify(p, "10.1.5.255", c, h2);
	classify(p, "10.1.6.0", a, -1);
	classify(p, "10.1.4.255", a, -1);
	classify(p, "10.1.0.10", a, h);
	classify(p, "10.1.0.11", a, -1);
	classify(p, "10.1.0.9", a, -1);
	classify(p, "10.1.0.0", a, -1);
	classify(p, "10.1.255.255", a, -1);
	classify(p, "10.2.3.4", 1, -1);
	classify(p, "10.3.0.1", up, -1);
	classify(p, "0.0.0.0", up, -1);
	classify(p, "255.255.255.255", up, -1);
	classify(p, "10.0.255.255", up, -1);

	/* prefixes: the longest entry that holds all of it */
	classify(p, "10.1.5.0/24", c, -1);
	classify(p, "10.1.5.0/25", c, -1);
	classify(p, "10.1.0.0/16", a, -1);
	classify(p, "10.1.0.0/17", a, -1);
	classify(p, "10.0.0.0/8", up, -1);
	classify(p, "0.0.0.0/0", up, -1);

	policy_free(p);
	free(b);
}

static void test_classify_v6(void **state)
{
	struct tb *b = tb_new();
	struct policy *p;
	int mn, dmz, up, h;

	(void)state;
	mn = tb_zone(b, "mn", TIER_MYNUMBER, "10.10.0.0/16 fd00:10::/48");
	dmz = tb_zone(b, "dmz", TIER_DMZ, "fd00:10:0:5::/64");
	up = tb_zone(b, "up", TIER_EXTERNAL, "::/0");
	h = tb_host(b, "db", "mn", "fd00:10::5");
	p = policy_build(&b->m);
	assert_non_null(p);

	classify(p, "fd00:10::5", mn, h);
	classify(p, "fd00:10::6", mn, -1);
	classify(p, "fd00:10::4", mn, -1);
	classify(p, "fd00:10:0:5::1", dmz, -1);
	classify(p, "fd00:10:0:5:ffff:ffff:ffff:ffff", dmz, -1);
	classify(p, "fd00:10:0:6::", mn, -1);
	classify(p, "fd00:10:0:4:ffff:ffff:ffff:ffff", mn, -1);
	classify(p, "fd00:10:0:ffff:ffff:ffff:ffff:ffff", mn, -1);
	classify(p, "fd00:10:1::", up, -1);
	classify(p, "fd00:11::", up, -1);
	classify(p, "2001:db8::1", up, -1);
	classify(p, "::", up, -1);
	classify(p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", up, -1);
	classify(p, "fd00:10::/48", mn, -1);
	classify(p, "fd00:10::/47", up, -1);
	/* no v4 default route here */
	classify(p, "10.10.1.1", mn, -1);
	classify(p, "192.0.2.1", -1, -1);

	policy_free(p);
	free(b);
}

static void test_classify_host_wins(void **state)
{
	struct tb *b = tb_new();
	struct policy *p;
	int y, h;

	(void)state;
	tb_zone(b, "x", TIER_LGWAN, "10.9.0.0/24");
	y = tb_zone(b, "y", TIER_DMZ, "10.8.0.0/24");
	/* a "host" that is a small subnet, equal to a zone network */
	h = tb_host(b, "sub", "y", "10.9.0.0/24");
	p = policy_build(&b->m);
	assert_non_null(p);
	classify(p, "10.9.0.1", y, h);
	classify(p, "10.9.0.0/24", y, h);
	/* hosts sort first among equals */
	assert_int_equal(p->n_addrs, 3);
	assert_int_equal(p->addrs[1].host, h);
	assert_int_equal(p->addrs[2].host, -1);
	policy_free(p);
	free(b);
}

static void test_classify_no_zone(void **state)
{
	struct tb *b = tb_new();
	struct policy *p;
	struct prefix a = P("172.16.0.1");
	int zone = 7, host = 7;

	(void)state;
	tb_zone(b, "a", TIER_LGWAN, "10.1.0.0/16");
	p = policy_build(&b->m);
	assert_non_null(p);
	classify(p, "172.16.0.1", -1, -1);
	classify(p, "10.0.255.255", -1, -1);
	classify(p, "10.2.0.0", -1, -1);
	classify(p, "fd00::1", -1, -1);
	classify(p, "10.0.0.0/8", -1, -1);
	assert_int_equal(policy_classify(p, &a, NULL, NULL), -ENOENT);
	a.family = 0;
	assert_int_equal(policy_classify(p, &a, &zone, &host), -ENOENT);
	assert_int_equal(zone, -1);
	policy_free(p);
	free(b);

	/* an empty model */
	b = tb_new();
	p = policy_build(&b->m);
	assert_non_null(p);
	assert_int_equal(p->n_rules, 0);
	assert_int_equal(p->n_addrs, 0);
	classify(p, "10.0.0.1", -1, -1);
	classify(p, "::1", -1, -1);
	policy_free(p);
	free(b);
	policy_free(NULL);
}

/* E005 in a valid model; here it must pick one, the same each time. */
static void test_classify_zone_tie(void **state)
{
	struct tb *b = tb_new();
	struct policy *p;

	(void)state;
	tb_zone(b, "a", TIER_LGWAN, "10.1.0.0/16");
	tb_zone(b, "b", TIER_DMZ, "10.1.0.0/16 10.1.0.0/16");
	tb_host(b, "h1", "a", "10.1.0.5");
	tb_host(b, "h2", "b", "10.1.0.5");
	p = policy_build(&b->m);
	assert_non_null(p);
	classify(p, "10.1.2.3", 0, -1);
	classify(p, "10.1.0.5", 0, 0);
	policy_free(p);
	free(b);
}

/* The range index against a linear longest-prefix scan. */
static void test_classify_random(void **state)
{
	static const int lens4[] = { 0, 8, 12, 16, 20, 24, 28, 30, 32 };
	static const int lens6[] = { 0, 16, 32, 48, 56, 64, 96, 127, 128 };
	struct model m;
	struct zone *zones;
	struct net *nets;
	struct policy *p;
	size_t nz = 60, per = 12, i, j, k;
	unsigned int seed = 12345;

	(void)state;
	memset(&m, 0, sizeof(m));
	zones = calloc(nz, sizeof(*zones));
	nets = calloc(nz * per, sizeof(*nets));
	assert_non_null(zones);
	assert_non_null(nets);
	m.zones = zones;
	m.n_zones = nz;
	for (i = 0; i < nz; i++) {
		zones[i].nets = &nets[i * per];
		zones[i].n_nets = per;
		for (j = 0; j < per; j++) {
			struct prefix *pf = &nets[i * per + j].p;
			bool v6 = rand_r(&seed) & 1;
			int len = v6 ? lens6[rand_r(&seed) % 9]
				     : lens4[rand_r(&seed) % 9];

			memset(pf, 0, sizeof(*pf));
			pf->family = v6 ? AF_INET6 : AF_INET;
			pf->len = (uint8_t)len;
			/* a small address space so that prefixes nest */
			pf->addr[0] = 10;
			pf->addr[1] = (uint8_t)(rand_r(&seed) % 3);
			pf->addr[2] = (uint8_t)(rand_r(&seed) % 3);
			pf->addr[3] = (uint8_t)(rand_r(&seed) % 4);
			if (v6)
				pf->addr[15] = (uint8_t)(rand_r(&seed) % 4);
			for (k = (size_t)len; k < (v6 ? 128u : 32u); k++)
				pf->addr[k / 8] &= (uint8_t)~(0x80 >> (k % 8));
		}
	}
	p = policy_build(&m);
	assert_non_null(p);
	for (i = 0; i < 20000; i++) {
		struct prefix a;
		bool v6 = rand_r(&seed) & 1;
		int zone, host, r, best = -1, best_len = -1;

		memset(&a, 0, sizeof(a));
		a.family = v6 ? AF_INET6 : AF_INET;
		a.len = v6 ? 128 : 32;
		a.addr[0] = (uint8_t)(rand_r(&seed) % 4 ? 10 : 11);
		a.addr[1] = (uint8_t)(rand_r(&seed) % 4);
		a.addr[2] = (uint8_t)(rand_r(&seed) % 4);
		a.addr[3] = (uint8_t)(rand_r(&seed) % 5);
		if (v6)
			a.addr[15] = (uint8_t)(rand_r(&seed) % 5);
		for (j = 0; j < nz * per; j++) {
			const struct prefix *pf = &nets[j].p;

			/* ties: the lowest zone index, as the table says */
			if (prefix_contains(pf, &a) && pf->len > best_len) {
				best = (int)(j / per);
				best_len = pf->len;
			}
		}
		r = policy_classify(p, &a, &zone, &host);
		if (best < 0) {
			assert_int_equal(r, -ENOENT);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(zone, best);
			assert_int_equal(host, -1);
		}
	}
	policy_free(p);
	free(nets);
	free(zones);
}

/* ---- rules ---- */

static void test_rules_zone_expands(void **state)
{
	struct tb *b = tb_new();
	const struct pol_rule *r;
	struct policy *p;
	int a, c, f;

	(void)state;
	a = tb_zone(b, "a", TIER_LGWAN, "fd00:1::/48 10.1.0.0/16");
	c = tb_zone(b, "c", TIER_DMZ, "10.3.0.0/24");
	tb_host(b, "ha", "a", "10.1.0.10");
	tb_host(b, "hc", "c", "10.3.0.10");
	tb_host(b, "hc2", "c", "10.3.0.11");
	f = tb_flow(b, "f", "a a/10.1.2.0/24 ha", "hc2 hc c/10.3.0.8/29",
		    "tcp/443 tcp/80 tcp/443 tcp/8000-8100 tcp/8080 "
		    "tcp/8090-8200 udp/53", NULL);
	b->flows[f].log = true;
	p = policy_build(&b->m);
	assert_non_null(p);
	assert_int_equal(p->n_rules, 1);
	r = &p->rules[0];
	assert_int_equal(r->flow, f);
	assert_int_equal(r->src_zone, a);
	assert_int_equal(r->dst_zone, c);
	assert_int_equal(r->dst_fqdn, -1);
	assert_int_equal(r->schedule, -1);
	assert_true(r->log);
	/* both families of the zone; what lies inside them is dropped */
	assert_prefixes(r->src, r->n_src, "10.1.0.0/16 fd00:1::/48");
	assert_prefixes(r->dst, r->n_dst, "10.3.0.8/29");
	assert_services(r->svcs, r->n_svcs,
			"tcp/80 tcp/443 tcp/8000-8200 udp/53");
	assert_int_equal(p->n_pairs, 1);
	assert_int_equal(p->pairs[0].from, a);
	assert_int_equal(p->pairs[0].to, c);
	policy_free(p);
	free(b);
}

static void test_rules_services_any(void **state)
{
	struct tb *b = tb_new();
	struct policy *p;

	(void)state;
	tb_zone(b, "a", TIER_LGWAN, "10.1.0.0/16");
	tb_zone(b, "c", TIER_DMZ, "10.3.0.0/24");
	tb_flow(b, "f", "a", "c", "tcp/443 icmp/echo-request any udp/53",
		NULL);
	tb_flow(b, "g", "c", "a", "icmp/echo-reply icmp/echo-request icmp "
		"icmpv6/echo-request", NULL);
	p = policy_build(&b->m);
	assert_non_null(p);
	assert_int_equal(p->n_rules, 2);
	assert_services(p->rules[0].svcs, p->rules[0].n_svcs, "any");
	assert_services(p->rules[1].svcs, p->rules[1].n_svcs,
			"icmp icmpv6/echo-request");
	policy_free(p);
	free(b);
}

static void test_rules_fqdn_external(void **state)
{
	struct tb *b = tb_new();
	const struct pol_rule *r;
	struct policy *p;
	int dmz, up1, up2, wu, av, f;

	(void)state;
	up1 = tb_zone(b, "up1", TIER_EXTERNAL, "0.0.0.0/0 ::/0");
	dmz = tb_zone(b, "dmz", TIER_DMZ, "10.40.0.0/24");
	tb_zone(b, "inet", TIER_INTERNET, "10.30.0.0/16");
	up2 = tb_zone(b, "up2", TIER_EXTERNAL, "192.0.2.0/24");
	tb_host(b, "wsus", "dmz", "10.40.0.10");
	tb_host(b, "av", "dmz", "10.40.0.11");
	tb_host(b, "noc", "up1", "203.0.113.10");
	wu = tb_fqdn(b, "wu");
	av = tb_fqdn(b, "av-pat");
	f = tb_flow(b, "up", "wsus av", "fqdn:av-pat noc fqdn:wu",
		    "tcp/443 tcp/80", NULL);
	p = policy_build(&b->m);
	assert_non_null(p);
	/* up1: noc, av-pat, wu; up2: av-pat, wu; nothing in inet */
	assert_int_equal(p->n_rules, 5);
	assert_int_equal(p->n_pairs, 2);

	r = policy_pair(p, dmz, up1, &(size_t){ 0 });
	assert_ptr_equal(r, &p->rules[0]);
	assert_int_equal(p->rules[0].dst_fqdn, -1);
	assert_prefixes(p->rules[0].dst, p->rules[0].n_dst, "203.0.113.10");
	assert_int_equal(p->rules[1].dst_fqdn, wu);
	assert_int_equal(p->rules[2].dst_fqdn, av);
	assert_int_equal(p->rules[3].dst_zone, up2);
	assert_int_equal(p->rules[3].dst_fqdn, wu);
	assert_int_equal(p->rules[4].dst_fqdn, av);
	assert_non_null(find_rule(p, f, dmz, up2, av));
	assert_null(find_rule(p, f, dmz, up2, -1));
	assert_null(find_rule(p, f, dmz, 2, wu));
	for (size_t i = 0; i < p->n_rules; i++) {
		r = &p->rules[i];
		assert_int_equal(r->flow, f);
		assert_int_equal(r->src_zone, dmz);
		assert_prefixes(r->src, r->n_src, "10.40.0.10 10.40.0.11");
		assert_services(r->svcs, r->n_svcs, "tcp/80 tcp/443");
		if (r->dst_fqdn >= 0) {
			assert_int_equal(r->n_dst, 0);
			assert_null(r->dst);
		}
	}
	policy_free(p);
	free(b);
}

static void test_rules_same_zone_and_order(void **state)
{
	struct tb *b = tb_new();
	struct policy *p;
	const struct pol_rule *r;
	size_t n;
	int a, c, d;

	(void)state;
	a = tb_zone(b, "a", TIER_LGWAN, "10.1.0.0/16");
	c = tb_zone(b, "c", TIER_DMZ, "10.3.0.0/24");
	d = tb_zone(b, "d", TIER_MGMT, "10.4.0.0/24");
	tb_host(b, "ha", "a", "10.1.0.10");
	tb_host(b, "hc", "c", "10.3.0.10");
	tb_flow(b, "inside", "a", "ha", "tcp/22", NULL);	/* 0: W01 */
	tb_flow(b, "both", "a c", "ha", "tcp/22", NULL);	/* 1 */
	tb_flow(b, "mgmt", "d", "a c", "tcp/22", NULL);	/* 2 */
	tb_flow(b, "back", "ha", "d", "udp/514", NULL);	/* 3 */
	tb_flow(b, "again", "c", "a/10.1.7.0/24", "tcp/23", NULL); /* 4 */
	tb_flow(b, "broken", "?nowhere", "a", "tcp/1", NULL);	/* 5 */
	tb_flow(b, "broken2", "c", "?nowhere", "tcp/1", NULL);	/* 6 */
	p = policy_build(&b->m);
	assert_non_null(p);
	assert_int_equal(p->n_rules, 5);
	assert_int_equal(p->n_pairs, 4);
	/* (a,d) (c,a) (c,a) (d,a) (d,c) */
	assert_int_equal(p->rules[0].flow, 3);
	assert_int_equal(p->rules[1].flow, 1);
	assert_int_equal(p->rules[2].flow, 4);
	assert_int_equal(p->rules[3].flow, 2);
	assert_int_equal(p->rules[3].dst_zone, a);
	assert_int_equal(p->rules[4].flow, 2);
	assert_int_equal(p->rules[4].dst_zone, c);
	for (size_t i = 0; i < p->n_rules; i++)
		assert_int_not_equal(p->rules[i].src_zone,
				     p->rules[i].dst_zone);
	for (size_t i = 1; i < p->n_pairs; i++) {
		assert_true(p->pairs[i - 1].from < p->pairs[i].from ||
			    (p->pairs[i - 1].from == p->pairs[i].from &&
			     p->pairs[i - 1].to < p->pairs[i].to));
		assert_int_equal(p->pairs[i].first,
				 p->pairs[i - 1].first + p->pairs[i - 1].n);
	}

	r = policy_pair(p, c, a, &n);
	assert_int_equal(n, 2);
	assert_ptr_equal(r, &p->rules[1]);
	assert_prefixes(r[0].src, r[0].n_src, "10.3.0.0/24");
	assert_prefixes(r[0].dst, r[0].n_dst, "10.1.0.10");
	assert_prefixes(r[1].dst, r[1].n_dst, "10.1.7.0/24");
	r = policy_pair(p, a, c, &n);
	assert_null(r);
	assert_int_equal(n, 0);
	r = policy_pair(p, a, a, &n);
	assert_null(r);
	assert_int_equal(n, 0);
	r = policy_pair(p, d, c, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r->flow, 2);
	policy_free(p);
	free(b);
}

/* ---- decisions ---- */

static struct tb *decide_model(void)
{
	struct tb *b = tb_new();

	tb_zone(b, "up", TIER_EXTERNAL, "0.0.0.0/0 ::/0");	/* 0 */
	tb_zone(b, "mn", TIER_MYNUMBER, "10.10.0.0/16 fd00:10::/48");
	tb_zone(b, "lg", TIER_LGWAN, "10.20.0.0/16");		/* 2 */
	tb_zone(b, "dmz", TIER_DMZ, "10.40.0.0/24 fd00:40::/64");
	tb_host(b, "wsus", "dmz", "10.40.0.10");
	tb_host(b, "wsus6", "dmz", "fd00:40::10");
	tb_host(b, "other", "dmz", "10.40.0.99");
	tb_host(b, "db", "mn", "10.10.1.5");
	tb_host(b, "renkei", "lg", "10.20.6.10");
	tb_host(b, "noc", "up", "203.0.113.10");
	tb_fqdn(b, "wu");
	tb_window(b, "maint", 1000000, 1003600);
	tb_flow(b, "patches", "mn", "wsus wsus6",
		"tcp/8530-8531 icmp/echo-request icmpv6/echo-request", NULL);
	tb_flow(b, "wsus-up", "wsus", "fqdn:wu", "tcp/443", NULL);
	tb_flow(b, "renkei", "renkei", "db", "tcp/1521", NULL);
	tb_flow(b, "vendor", "noc", "db", "tcp/22", "maint");	/* 3 */
	tb_flow(b, "vendor-any", "noc", "db", "any", "maint");	/* 4 */
	tb_flow(b, "vendor-ping", "noc", "db", "icmp/echo-request", NULL);
	tb_flow(b, "lg-gre", "lg", "dmz/10.40.0.96/28", "any", NULL); /* 6 */
	return b;
}

static void test_decide_basic(void **state)
{
	struct tb *b = decide_model();
	struct pol_decision d;
	struct policy *p = policy_build(&b->m);

	(void)state;
	assert_non_null(p);
	assert_int_equal(decide(p, "10.10.3.4", "10.40.0.10", "tcp/8530", 0,
				&d), POL_ACCEPT);
	assert_int_equal(d.rule->flow, 0);
	assert_int_equal(d.src_zone, 1);
	assert_int_equal(d.dst_zone, 3);
	assert_int_equal(d.src_host, -1);
	assert_int_equal(d.dst_host, 0);
	assert_false(d.fqdn_unknown);
	assert_int_equal(decide(p, "10.10.3.4", "10.40.0.10", "tcp/8531", 0,
				NULL), POL_ACCEPT);
	assert_int_equal(decide(p, "fd00:10::77", "fd00:40::10", "tcp/8531",
				0, NULL), POL_ACCEPT);
	/* wrong port */
	assert_int_equal(decide(p, "10.10.3.4", "10.40.0.10", "tcp/8532", 0,
				&d), POL_DROP);
	assert_null(d.rule);
	assert_int_equal(decide(p, "10.10.3.4", "10.40.0.10", "tcp/8529", 0,
				NULL), POL_DROP);
	assert_int_equal(decide(p, "10.10.3.4", "10.40.0.10", "udp/8530", 0,
				NULL), POL_DROP);
	/* wrong host in the right zone */
	assert_int_equal(decide(p, "10.10.3.4", "10.40.0.11", "tcp/8530", 0,
				&d), POL_DROP);
	assert_int_equal(d.dst_zone, 3);
	assert_int_equal(d.dst_host, -1);
	/* reverse direction */
	assert_int_equal(decide(p, "10.40.0.10", "10.10.3.4", "tcp/8530", 0,
				NULL), POL_DROP);
	assert_int_equal(decide(p, "10.10.1.5", "10.20.6.10", "tcp/1521", 0,
				NULL), POL_DROP);
	assert_int_equal(decide(p, "10.20.6.10", "10.10.1.5", "tcp/1521", 0,
				&d), POL_ACCEPT);
	assert_int_equal(d.src_host, 4);
	/* wrong source in the right zone */
	assert_int_equal(decide(p, "10.20.6.11", "10.10.1.5", "tcp/1521", 0,
				NULL), POL_DROP);
	/* local and unknown */
	assert_int_equal(decide(p, "10.10.3.4", "10.10.1.5", "tcp/22", 0,
				&d), POL_LOCAL);
	assert_int_equal(d.src_zone, 1);
	assert_int_equal(d.dst_host, 3);
	policy_free(p);

	/* without the default route, outside addresses are unknown */
	b->zones[0].n_nets = 0;
	b->m.n_hosts--;
	p = policy_build(&b->m);
	assert_non_null(p);
	assert_int_equal(decide(p, "192.0.2.1", "10.10.1.5", "tcp/22", 0,
				&d), POL_UNKNOWN);
	assert_int_equal(d.src_zone, -1);
	assert_int_equal(d.dst_zone, 1);
	assert_int_equal(decide(p, "10.10.1.5", "192.0.2.1", "tcp/22", 0,
				&d), POL_UNKNOWN);
	assert_int_equal(d.src_zone, 1);
	assert_int_equal(d.dst_zone, -1);
	policy_free(p);
	free(b);
}

static void test_decide_schedule(void **state)
{
	struct tb *b = decide_model();
	struct pol_decision d;
	struct policy *p = policy_build(&b->m);

	(void)state;
	assert_non_null(p);
	assert_int_equal(decide(p, "203.0.113.10", "10.10.1.5", "tcp/22",
				1000000, &d), POL_ACCEPT);
	assert_int_equal(d.rule->flow, 3);
	assert_int_equal(d.rule->schedule, 0);
	assert_int_equal(decide(p, "203.0.113.10", "10.10.1.5", "tcp/22",
				1003599, NULL), POL_ACCEPT);
	/* closed: the first matching rule is reported */
	assert_int_equal(decide(p, "203.0.113.10", "10.10.1.5", "tcp/22",
				1003600, &d), POL_CLOSED);
	assert_int_equal(d.rule->flow, 3);
	assert_int_equal(decide(p, "203.0.113.10", "10.10.1.5", "tcp/22",
				999999, NULL), POL_CLOSED);
	/* closed "any", but an unscheduled later rule accepts */
	assert_int_equal(decide(p, "203.0.113.10", "10.10.1.5",
				"icmp/8", 5, &d), POL_ACCEPT);
	assert_int_equal(d.rule->flow, 5);
	assert_int_equal(decide(p, "203.0.113.10", "10.10.1.5",
				"icmp/0", 5, &d), POL_CLOSED);
	assert_int_equal(d.rule->flow, 4);
	assert_int_equal(decide(p, "203.0.113.10", "10.10.1.5",
				"icmp/0", 1000001, &d), POL_ACCEPT);
	assert_int_equal(d.rule->flow, 4);
	/* another source of the same zone */
	assert_int_equal(decide(p, "203.0.113.11", "10.10.1.5", "tcp/22",
				1000001, NULL), POL_DROP);
	policy_free(p);
	free(b);
}

static void test_decide_services(void **state)
{
	struct tb *b = decide_model();
	struct policy *p = policy_build(&b->m);
	struct pol_decision d;

	(void)state;
	assert_non_null(p);
	/* icmp types */
	assert_int_equal(decide(p, "10.10.3.4", "10.40.0.10", "icmp/8", 0,
				NULL), POL_ACCEPT);
	assert_int_equal(decide(p, "10.10.3.4", "10.40.0.10", "icmp/0", 0,
				NULL), POL_DROP);
	assert_int_equal(decide(p, "fd00:10::1", "fd00:40::10", "icmpv6/128",
				0, NULL), POL_ACCEPT);
	assert_int_equal(decide(p, "fd00:10::1", "fd00:40::10", "icmpv6/129",
				0, NULL), POL_DROP);
	/* icmp/8 is not icmpv6/8 */
	assert_int_equal(decide(p, "fd00:10::1", "fd00:40::10", "icmpv6/8",
				0, NULL), POL_DROP);
	/* any: every protocol, gre included */
	assert_int_equal(decide(p, "10.20.0.1", "10.40.0.100", "gre", 0, &d),
			 POL_ACCEPT);
	assert_int_equal(d.rule->flow, 6);
	assert_int_equal(decide(p, "10.20.0.1", "10.40.0.100", "udp/9", 0,
				NULL), POL_ACCEPT);
	assert_int_equal(decide(p, "10.20.0.1", "10.40.0.100", "icmp/3", 0,
				NULL), POL_ACCEPT);
	assert_int_equal(decide(p, "10.20.0.1", "10.40.0.10", "gre", 0,
				NULL), POL_DROP);
	policy_free(p);
	free(b);
}

static void test_services_cover(void **state)
{
	struct service v[] = { S("tcp/80"), S("tcp/8000-8100"), S("udp"),
			       S("icmp/echo-request"), S("icmpv6") };
	struct service any = S("any");

	(void)state;
	assert_true(services_cover(v, 5, IPPROTO_TCP, 80));
	assert_false(services_cover(v, 5, IPPROTO_TCP, 81));
	assert_true(services_cover(v, 5, IPPROTO_TCP, 8000));
	assert_true(services_cover(v, 5, IPPROTO_TCP, 8100));
	assert_false(services_cover(v, 5, IPPROTO_TCP, 8101));
	assert_true(services_cover(v, 5, IPPROTO_UDP, 0));
	assert_true(services_cover(v, 5, IPPROTO_UDP, 65535));
	assert_false(services_cover(v, 5, IPPROTO_SCTP, 80));
	assert_true(services_cover(v, 5, IPPROTO_ICMP, 8));
	assert_false(services_cover(v, 5, IPPROTO_ICMP, 0));
	assert_true(services_cover(v, 5, IPPROTO_ICMPV6, 255));
	assert_false(services_cover(v, 5, IPPROTO_GRE, 0));
	assert_false(services_cover(v, 0, IPPROTO_TCP, 80));
	assert_false(services_cover(NULL, 0, IPPROTO_TCP, 80));
	assert_true(services_cover(&any, 1, IPPROTO_GRE, 0));
	assert_true(services_cover(&any, 1, IPPROTO_TCP, 1));
	assert_true(services_cover(&any, 1, IPPROTO_ESP, 0));
}

struct fqdn_ctx {
	struct prefix allowed;
	int set;
	int calls;
};

static bool fake_fqdn(void *ctx, int set, const struct prefix *addr)
{
	struct fqdn_ctx *c = ctx;

	c->calls++;
	return set == c->set && prefix_equal(&c->allowed, addr);
}

static void test_decide_fqdn(void **state)
{
	struct tb *b = decide_model();
	struct policy *p = policy_build(&b->m);
	struct fqdn_ctx c = { .allowed = P("93.184.216.34"), .set = 0 };
	struct pol_query q = Q("10.40.0.10", "93.184.216.34", "tcp/443", 0);
	struct pol_decision d;

	(void)state;
	assert_non_null(p);
	policy_decide(p, &q, NULL, NULL, &d);
	assert_int_equal(d.verdict, POL_DROP);
	assert_true(d.fqdn_unknown);
	assert_null(d.rule);

	policy_decide(p, &q, fake_fqdn, &c, &d);
	assert_int_equal(d.verdict, POL_ACCEPT);
	assert_false(d.fqdn_unknown);
	assert_int_equal(d.rule->flow, 1);
	assert_int_equal(d.rule->dst_fqdn, 0);
	assert_int_equal(c.calls, 1);

	q.dst = P("93.184.216.35");
	policy_decide(p, &q, fake_fqdn, &c, &d);
	assert_int_equal(d.verdict, POL_DROP);
	/* the set is not asked when the port already rules it out */
	q = Q("10.40.0.10", "93.184.216.34", "tcp/80", 0);
	c.calls = 0;
	policy_decide(p, &q, fake_fqdn, &c, &d);
	assert_int_equal(d.verdict, POL_DROP);
	assert_int_equal(c.calls, 0);
	policy_decide(p, &q, NULL, NULL, &d);
	assert_false(d.fqdn_unknown);
	/* nor for another source */
	q = Q("10.40.0.11", "93.184.216.34", "tcp/443", 0);
	policy_decide(p, &q, NULL, NULL, &d);
	assert_int_equal(d.verdict, POL_DROP);
	assert_false(d.fqdn_unknown);
	policy_free(p);
	free(b);
}

/* ---- through the loader ---- */

static const char example_yaml[] =
	"version: 1\n"
	"site: example-city\n"
	"schedules:\n"
	"  business:\n"
	"    days: [mon, tue, wed, thu, fri]\n"
	"    hours: [\"08:30-18:15\"]\n"
	"    holidays: [2026-11-23]\n"
	"  maintenance-2026-12:\n"
	"    windows:\n"
	"      - { from: \"2026-12-05T22:00\", to: \"2026-12-06T02:00\" }\n"
	"zones:\n"
	"  mynumber:\n"
	"    tier: mynumber\n"
	"    interfaces: [ens4]\n"
	"    networks: [10.10.0.0/16, \"fd00:10::/48\"]\n"
	"  lgwan:\n"
	"    tier: lgwan\n"
	"    interfaces: [ens5]\n"
	"    networks: [10.20.0.0/16]\n"
	"  inet:\n"
	"    tier: internet\n"
	"    interfaces: [ens6]\n"
	"    networks: [10.30.0.0/16]\n"
	"  update-dmz:\n"
	"    tier: dmz\n"
	"    interfaces: [ens7]\n"
	"    networks: [10.40.0.0/24]\n"
	"  upstream:\n"
	"    tier: external\n"
	"    interfaces: [ens3]\n"
	"    networks: [0.0.0.0/0, \"::/0\"]\n"
	"hosts:\n"
	"  wsus:       { zone: update-dmz, address: 10.40.0.10 }\n"
	"  av-relay:   { zone: update-dmz, address: 10.40.0.11 }\n"
	"  mail-sanit: { zone: inet, address: 10.30.5.5 }\n"
	"  lgwan-mail: { zone: lgwan, address: 10.20.5.25 }\n"
	"  renkei:     { zone: lgwan, address: 10.20.6.10 }\n"
	"  juki-db:    { zone: mynumber, address: 10.10.1.5 }\n"
	"  vendor-noc: { zone: upstream, address: 203.0.113.10 }\n"
	"fqdn_sets:\n"
	"  windows-update:\n"
	"    names: [windowsupdate.microsoft.com, \"*.windowsupdate.com\"]\n"
	"  av-patterns:\n"
	"    names: [update.example-av.co.jp]\n"
	"services:\n"
	"  wsus-ports: [tcp/8530, tcp/8531]\n"
	"flows:\n"
	"  - name: mynumber-patches\n"
	"    from: mynumber\n"
	"    to: wsus\n"
	"    services: [wsus-ports]\n"
	"  - name: wsus-upstream\n"
	"    from: [wsus, av-relay]\n"
	"    to: [fqdn:windows-update, fqdn:av-patterns]\n"
	"    services: [tcp/80, tcp/443]\n"
	"  - name: mail-into-lgwan\n"
	"    from: mail-sanit\n"
	"    to: lgwan-mail\n"
	"    services: [tcp/25]\n"
	"  - name: renkei-to-juki\n"
	"    from: renkei\n"
	"    to: juki-db\n"
	"    services: [tcp/1521]\n"
	"    alert_outside: business\n"
	"  - name: vendor-maintenance\n"
	"    from: vendor-noc\n"
	"    to: juki-db\n"
	"    services: [tcp/22]\n"
	"    schedule: maintenance-2026-12\n"
	"    log: true\n"
	"  - name: lgwan-internal\n"
	"    from: lgwan\n"
	"    to: lgwan/10.20.5.0/24\n"
	"    services: [tcp/25]\n";

static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {
		.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
		.tm_hour = h, .tm_min = mi,
	};

	return timegm(&tm);
}

static bool all_sets(void *ctx, int set, const struct prefix *addr)
{
	(void)ctx;
	(void)set;
	(void)addr;
	return true;
}

static void test_loaded_example(void **state)
{
	struct diags d = { 0 };
	struct model *m;
	struct policy *p;
	const struct pol_rule *r;
	struct pol_query q;
	struct pol_decision dec;
	int mn, lg, inet, dmz, up, wsus, juki, noc, maint;
	size_t n;

	(void)state;
	m = model_load_buf("example.yaml", NULL, example_yaml,
			   sizeof(example_yaml) - 1, &d);
	assert_non_null(m);
	if (d.errors)
		diags_print_text(&d, stderr);
	assert_int_equal(d.errors, 0);
	mn = model_zone(m, "mynumber");
	lg = model_zone(m, "lgwan");
	inet = model_zone(m, "inet");
	dmz = model_zone(m, "update-dmz");
	up = model_zone(m, "upstream");
	wsus = model_host(m, "wsus");
	juki = model_host(m, "juki-db");
	noc = model_host(m, "vendor-noc");
	maint = model_schedule(m, "maintenance-2026-12");
	assert_true(mn >= 0 && lg >= 0 && inet >= 0 && dmz >= 0 && up >= 0);
	assert_true(wsus >= 0 && juki >= 0 && noc >= 0 && maint >= 0);

	p = policy_build(m);
	assert_non_null(p);
	/* lgwan-internal stays inside one zone */
	assert_int_equal(p->n_rules, 6);

	r = policy_pair(p, mn, dmz, &n);
	assert_int_equal(n, 1);
	assert_string_equal(m->flows[r->flow].name, "mynumber-patches");
	assert_prefixes(r->src, r->n_src, "10.10.0.0/16 fd00:10::/48");
	assert_prefixes(r->dst, r->n_dst, "10.40.0.10");
	assert_services(r->svcs, r->n_svcs, "tcp/8530 tcp/8531");

	r = policy_pair(p, dmz, up, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].dst_fqdn, model_fqdn_set(m, "windows-update"));
	assert_int_equal(r[1].dst_fqdn, model_fqdn_set(m, "av-patterns"));
	assert_prefixes(r[0].src, r[0].n_src, "10.40.0.10 10.40.0.11");
	assert_services(r[1].svcs, r[1].n_svcs, "tcp/80 tcp/443");

	r = policy_pair(p, lg, mn, &n);
	assert_int_equal(n, 1);
	/* alert_outside only drives the monitor */
	assert_int_equal(r->schedule, -1);
	r = policy_pair(p, up, mn, &n);
	assert_int_equal(n, 1);
	assert_int_equal(r->schedule, maint);
	assert_true(r->log);
	assert_null(policy_pair(p, lg, lg, &n));
	assert_non_null(policy_pair(p, inet, lg, &n));

	/* the window is 22:00-02:00 JST, 13:00-17:00 UTC */
	q = Q("203.0.113.10", "10.10.1.5", "tcp/22", utc(2026, 12, 5, 14, 0));
	policy_decide(p, &q, NULL, NULL, &dec);
	assert_int_equal(dec.verdict, POL_ACCEPT);
	assert_int_equal(dec.src_zone, up);
	assert_int_equal(dec.src_host, noc);
	assert_int_equal(dec.dst_host, juki);
	q.when = utc(2026, 12, 5, 17, 0);
	policy_decide(p, &q, NULL, NULL, &dec);
	assert_int_equal(dec.verdict, POL_CLOSED);
	assert_string_equal(m->flows[dec.rule->flow].name,
			    "vendor-maintenance");
	q.when = utc(2026, 12, 5, 12, 59);
	policy_decide(p, &q, NULL, NULL, &dec);
	assert_int_equal(dec.verdict, POL_CLOSED);

	q = Q("8.8.8.8", "10.10.1.5", "tcp/22", utc(2026, 12, 5, 14, 0));
	policy_decide(p, &q, NULL, NULL, &dec);
	assert_int_equal(dec.verdict, POL_DROP);
	/* alert_outside never closes a flow: a holiday at midnight */
	q = Q("10.20.6.10", "10.10.1.5", "tcp/1521", utc(2026, 11, 22, 15, 0));
	policy_decide(p, &q, NULL, NULL, &dec);
	assert_int_equal(dec.verdict, POL_ACCEPT);

	q = Q("10.40.0.11", "2001:db8::1", "tcp/443", 0);
	policy_decide(p, &q, NULL, NULL, &dec);
	assert_int_equal(dec.verdict, POL_DROP);
	assert_true(dec.fqdn_unknown);
	policy_decide(p, &q, all_sets, NULL, &dec);
	assert_int_equal(dec.verdict, POL_ACCEPT);
	assert_int_equal(dec.rule->dst_fqdn,
			 model_fqdn_set(m, "windows-update"));
	q = Q("10.20.6.10", "10.20.5.25", "tcp/25", 0);
	policy_decide(p, &q, NULL, NULL, &dec);
	assert_int_equal(dec.verdict, POL_LOCAL);

	policy_free(p);
	model_free(m);
	diags_free(&d);
}

/* ---- determinism and size ---- */

static bool rules_equal(const struct pol_rule *x, const struct pol_rule *y)
{
	return x->flow == y->flow && x->src_zone == y->src_zone &&
	       x->dst_zone == y->dst_zone && x->dst_fqdn == y->dst_fqdn &&
	       x->schedule == y->schedule && x->log == y->log &&
	       x->n_src == y->n_src && x->n_dst == y->n_dst &&
	       x->n_svcs == y->n_svcs &&
	       !memcmp(x->src, y->src, x->n_src * sizeof(*x->src)) &&
	       (!x->n_dst || !memcmp(x->dst, y->dst,
				     x->n_dst * sizeof(*x->dst))) &&
	       !memcmp(x->svcs, y->svcs, x->n_svcs * sizeof(*x->svcs));
}

static void assert_same_policy(const struct policy *p, const struct policy *q)
{
	size_t i;

	assert_int_equal(p->n_rules, q->n_rules);
	assert_int_equal(p->n_pairs, q->n_pairs);
	assert_int_equal(p->n_addrs, q->n_addrs);
	for (i = 0; i < p->n_rules; i++)
		assert_true(rules_equal(&p->rules[i], &q->rules[i]));
	assert_memory_equal(p->pairs, q->pairs,
			    p->n_pairs * sizeof(*p->pairs));
	assert_memory_equal(p->addrs, q->addrs,
			    p->n_addrs * sizeof(*p->addrs));
}

static void test_deterministic(void **state)
{
	struct tb *b1 = decide_model(), *b2 = decide_model();
	struct policy *p1, *p2, *p3;

	(void)state;
	p1 = policy_build(&b1->m);
	p2 = policy_build(&b2->m);
	p3 = policy_build(&b1->m);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_non_null(p3);
	assert_same_policy(p1, p2);
	assert_same_policy(p1, p3);
	policy_free(p1);
	policy_free(p2);
	policy_free(p3);
	free(b1);
	free(b2);
}

/*
 * The P1 shape: 1,000 zones, 20,000 prefixes, 10,000 flows. Built twice
 * (the second time from a copy with the zones' networks reversed, which
 * must not change a thing), then timed lookups.
 */
struct big {
	struct model m;
	struct zone *zones;
	struct net *nets;
	struct host *hosts;
	struct flow *flows;
	struct endpoint *eps;
	struct svc_item *svcs;
};

static void big_build(struct big *g, bool reversed)
{
	const size_t nz = 1000, per = 18, nh = 2000, nf = 10000;
	size_t i, j;

	memset(g, 0, sizeof(*g));
	g->zones = calloc(nz, sizeof(*g->zones));
	g->nets = calloc(nz * per, sizeof(*g->nets));
	g->hosts = calloc(nh, sizeof(*g->hosts));
	g->flows = calloc(nf, sizeof(*g->flows));
	g->eps = calloc(nf * 4, sizeof(*g->eps));
	g->svcs = calloc(nf * 2, sizeof(*g->svcs));
	assert_true(g->zones && g->nets && g->hosts && g->flows && g->eps &&
		    g->svcs);
	for (i = 0; i < nz; i++) {
		struct zone *z = &g->zones[i];

		z->tier = i == 0 ? TIER_EXTERNAL : (enum tier)(i % 5);
		z->nets = &g->nets[i * per];
		z->n_nets = per;
		for (j = 0; j < per; j++) {
			size_t k = reversed ? per - 1 - j : j;
			struct prefix *pf = &z->nets[k].p;

			pf->family = AF_INET;
			pf->len = 24;
			pf->addr[0] = 10;
			pf->addr[1] = (uint8_t)(i / 10);
			pf->addr[2] = (uint8_t)((i % 10) * 20 + j);
		}
	}
	for (i = 0; i < nh; i++) {
		struct host *h = &g->hosts[i];

		h->zone = (int)(1 + i % (nz - 1));
		h->addr.family = AF_INET;
		h->addr.len = 32;
		h->addr.addr[0] = 10;
		h->addr.addr[1] = (uint8_t)(h->zone / 10);
		h->addr.addr[2] = (uint8_t)((h->zone % 10) * 20);
		h->addr.addr[3] = (uint8_t)(1 + i / (nz - 1));
	}
	for (i = 0; i < nf; i++) {
		struct flow *f = &g->flows[i];
		struct endpoint *e = &g->eps[i * 4];

		f->from = e;
		f->n_from = 2;
		f->to = e + 2;
		f->n_to = 2;
		e[0].kind = EP_ZONE;
		e[0].ref = e[0].zone = (int)(1 + i % (nz - 1));
		e[1].kind = EP_HOST;
		e[1].ref = (int)(i % nh);
		e[1].zone = g->hosts[e[1].ref].zone;
		e[2].kind = EP_HOST;
		e[2].ref = (int)((i * 7 + 3) % nh);
		e[2].zone = g->hosts[e[2].ref].zone;
		e[3].kind = EP_ZONE;
		e[3].ref = e[3].zone = (int)((i * 13 + 5) % nz);
		f->services = &g->svcs[i * 2];
		f->n_services = 2;
		f->services[0].sv.proto = IPPROTO_TCP;
		f->services[0].sv.lo = f->services[0].sv.hi =
			(uint16_t)(1000 + i % 50);
		f->services[1].sv.proto = IPPROTO_UDP;
		f->services[1].sv.lo = f->services[1].sv.hi = 53;
		f->schedule = -1;
		f->alert_outside = -1;
	}
	g->m.zones = g->zones;
	g->m.n_zones = nz;
	g->m.hosts = g->hosts;
	g->m.n_hosts = nh;
	g->m.flows = g->flows;
	g->m.n_flows = nf;
}

static void big_free(struct big *g)
{
	free(g->zones);
	free(g->nets);
	free(g->hosts);
	free(g->flows);
	free(g->eps);
	free(g->svcs);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_big(void **state)
{
	struct big g1, g2;
	struct policy *p1, *p2;
	struct pol_decision d;
	struct pol_query q;
	double t0, t1, t2;
	size_t i, accepted = 0;
	const size_t lookups = 2000000;

	(void)state;
	big_build(&g1, false);
	big_build(&g2, true);
	t0 = now_s();
	p1 = policy_build(&g1.m);
	t1 = now_s();
	assert_non_null(p1);
	p2 = policy_build(&g2.m);
	assert_non_null(p2);
	assert_same_policy(p1, p2);
	assert_int_equal(p1->n_addrs, 20000);
	print_message("policy_build: %zu rules, %zu pairs, %.3f s\n",
		      p1->n_rules, p1->n_pairs, t1 - t0);
	/* generous: sanitizer builds are slower; `make bench` measures */
	assert_true(t1 - t0 < 1.0);

	memset(&q, 0, sizeof(q));
	q.src.family = q.dst.family = AF_INET;
	q.src.len = q.dst.len = 32;
	q.proto = IPPROTO_TCP;
	t1 = now_s();
	for (i = 0; i < lookups; i++) {
		const struct flow *f = &g1.flows[i % g1.m.n_flows];
		const struct prefix *s = &g1.hosts[f->from[1].ref].addr;
		const struct prefix *t = &g1.hosts[f->to[0].ref].addr;

		q.src = *s;
		q.dst = t[0];
		q.port = (uint16_t)(1000 + (i % g1.m.n_flows) % 50);
		policy_decide(p1, &q, NULL, NULL, &d);
		accepted += d.verdict == POL_ACCEPT ||
			    d.verdict == POL_LOCAL;
	}
	t2 = now_s();
	print_message("policy_decide: %.0f decisions/s\n",
		      (double)lookups / (t2 - t1));
	assert_int_equal(accepted, lookups);
	policy_free(p1);
	policy_free(p2);
	big_free(&g1);
	big_free(&g2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_v4),
		cmocka_unit_test(test_classify_v6),
		cmocka_unit_test(test_classify_host_wins),
		cmocka_unit_test(test_classify_no_zone),
		cmocka_unit_test(test_classify_zone_tie),
		cmocka_unit_test(test_classify_random),
		cmocka_unit_test(test_rules_zone_expands),
		cmocka_unit_test(test_rules_services_any),
		cmocka_unit_test(test_rules_fqdn_external),
		cmocka_unit_test(test_rules_same_zone_and_order),
		cmocka_unit_test(test_decide_basic),
		cmocka_unit_test(test_decide_schedule),
		cmocka_unit_test(test_decide_services),
		cmocka_unit_test(test_services_cover),
		cmocka_unit_test(test_decide_fqdn),
		cmocka_unit_test(test_loaded_example),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
