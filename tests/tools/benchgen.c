// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * benchgen: a synthetic zone file for `make bench` (tests/bench/run.sh),
 * valid under `sanso check`, the same bytes for the same arguments.
 *
 * Usage: benchgen [-z ZONES] [-f FLOWS] [-p PREFIXES] [-s SEED]
 *                 [-u UPSTREAM [-a LISTEN]] [-n | -l]
 *
 *   -z, -f, -p  size (default 1,000 zones, 10,000 flows, 20,000
 *               prefixes: the 1x model of SPEC §10)
 *   -s SEED     the choices of flows (default 1); zones, prefixes and
 *               hosts depend only on -z and -p, so models that differ in
 *               -f share their zones and addresses
 *   -u, -a      add gateway.dns with this upstream and listen address
 *               (default listen 127.0.0.53), for the DNS guard
 *   -n          print, instead of the zone file, the anchor ruleset of
 *               P3: table inet naive, one linear rule per flow, service
 *               and address family
 *   -l          print, instead, shell assignments naming the two zones
 *               of the throughput test and their addresses
 *
 * The shape of the model (what a large city or a prefecture-wide
 * consolidation looks like): zone 0 is the external default route; every
 * twentieth zone holds servers (LGWAN servers, operations and NTP in
 * mgmt, update relays in the DMZ, sanitisers and virtual browsers in
 * the internet tier); the others are client segments, about 68% LGWAN,
 * 16% internet, 16% mynumber. A client talks to at most two server
 * zones of each kind (its neighbours in the list), so the number of zone
 * pairs with flows grows with the zones, not with the flows. Every flow
 * keeps the invariants: mynumber reaches only update relays, NTP and
 * syslog hosts, which start nothing but the relays' pulls from FQDN
 * sets (T3, T8); LGWAN meets the internet tier only at sanitisers and
 * virtual browsers (T2); external reaches LGWAN only to a host, on a
 * schedule, logged (T7).
 *
 * Zone 1 (z1, LGWAN clients) and zone 2 (z2, LGWAN servers) carry the
 * flow "iperf": z1 -> host iperf-srv, tcp/5201-5202 and udp/5201 (iperf3
 * and benchflood). It is flow number FLOWS/2, the middle of the naive
 * ruleset's linear list.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_UPSTREAM,
	K_LG_CLIENT,
	K_IN_CLIENT,
	K_MN_CLIENT,
	K_LG_SERVER,
	K_MG_OPS,
	K_MG_NTP,
	K_DMZ,
	K_IN_SANIT,
	K_COUNT,
};

static const char *const tier_of[K_COUNT] = {
	[K_UPSTREAM] = "external",
	[K_LG_CLIENT] = "lgwan",
	[K_IN_CLIENT] = "internet",
	[K_MN_CLIENT] = "mynumber",
	[K_LG_SERVER] = "lgwan",
	[K_MG_OPS] = "mgmt",
	[K_MG_NTP] = "mgmt",
	[K_DMZ] = "dmz",
	[K_IN_SANIT] = "internet",
};

/* Host j of a zone of each kind: name suffix and role. */
struct host_tpl {
	const char *what, *role;
	unsigned off, len;	/* address: first prefix + off, /len */
};

#define MAX_HOSTS 5
static const struct host_tpl hosts_of[K_COUNT][MAX_HOSTS] = {
	[K_LG_SERVER] = { { "mail", NULL, 10, 32 }, { "fs", NULL, 11, 32 },
			  { "renkei", NULL, 12, 32 }, { "app", NULL, 13, 32 } },
	[K_MG_OPS] = { { "monitor", NULL, 10, 32 }, { "syslog", NULL, 11, 32 },
		       { "jump", NULL, 12, 32 }, { "backup", NULL, 13, 32 } },
	[K_MG_NTP] = { { "ntp", "ntp", 10, 32 }, { "ntp", "ntp", 11, 32 } },
	[K_DMZ] = { { "wsus", "update-relay", 10, 32 },
		    { "av", "update-relay", 11, 32 } },
	[K_IN_SANIT] = { { "mailsan", "sanitizer", 10, 32 },
			 { "filesan", "sanitizer", 11, 32 },
			 { "vbrowser", "screen-transfer", 16, 28 } },
	[K_MN_CLIENT] = { { "db", NULL, 10, 32 } },
};

enum { H_MAIL, H_FS, H_RENKEI, H_APP };			/* K_LG_SERVER */
enum { H_MONITOR, H_SYSLOG, H_JUMP };			/* K_MG_OPS */
enum { H_MAILSAN, H_FILESAN, H_VBROWSER };		/* K_IN_SANIT */

#define IPERF_PORT 5201
#define PFX_V4_LEN 26

struct zone {
	enum kind kind;
	uint32_t first;		/* index of the first IPv4 prefix */
	unsigned n_v4;
	bool v6;
};

struct gen {
	unsigned n_zones, n_flows, n_pfx, n_fqdn;
	uint64_t rng;
	struct zone *z;
	unsigned *of_kind[K_COUNT];
	unsigned n_of_kind[K_COUNT];
	const char *dns_up, *dns_listen;
};

static uint64_t rnd(struct gen *g)
{
	/* xorshift64*: small, and the same sequence on every machine. */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dull;
}

static unsigned rndn(struct gen *g, unsigned n)
{
	return (unsigned)((rnd(g) >> 11) % n);
}

static void v4_of(uint32_t idx, unsigned off, char *buf, size_t n)
{
	uint32_t a = (10u << 24) + idx * (1u << (32 - PFX_V4_LEN)) + off;

	snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

static void v6_of(unsigned zone, const char *suffix, char *buf, size_t n)
{
	snprintf(buf, n, "fd00:%x:%x::%s", zone >> 16, zone & 0xffff, suffix);
}

static enum kind kind_for(unsigned i)
{
	static const enum kind fixed[] = {
		K_UPSTREAM, K_LG_CLIENT, K_LG_SERVER, K_LG_SERVER, K_MG_OPS,
		K_MG_NTP, K_DMZ, K_IN_SANIT, K_IN_CLIENT, K_MN_CLIENT,
	};
	static const enum kind servers[] = {
		K_LG_SERVER, K_LG_SERVER, K_LG_SERVER, K_LG_SERVER, K_MG_OPS,
		K_MG_NTP, K_DMZ, K_DMZ, K_IN_SANIT, K_IN_SANIT,
	};
	unsigned r = i % 20;

	if (i < sizeof(fixed) / sizeof(fixed[0]))
		return fixed[i];
	if (r == 0)
		return servers[(i / 20) % 10];
	if (r <= 13)
		return K_LG_CLIENT;
	return r <= 16 ? K_IN_CLIENT : K_MN_CLIENT;
}

static int layout(struct gen *g)
{
	unsigned per, extra;
	uint32_t next = 0;

	g->z = calloc(g->n_zones, sizeof(*g->z));
	for (int k = 0; k < K_COUNT; k++)
		g->of_kind[k] = calloc(g->n_zones, sizeof(unsigned));
	if (!g->z)
		return -ENOMEM;
	for (int k = 0; k < K_COUNT; k++)
		if (!g->of_kind[k])
			return -ENOMEM;
	/* Zone 0 has two prefixes (0.0.0.0/0 and ::/0). */
	per = (g->n_pfx - 2) / (g->n_zones - 1);
	extra = (g->n_pfx - 2) % (g->n_zones - 1);
	for (unsigned i = 0; i < g->n_zones; i++) {
		struct zone *z = &g->z[i];
		unsigned n = i ? per + (i <= extra) : 0;

		z->kind = kind_for(i);
		z->v6 = i && n >= 2 && (i % 10 == 5 || z->kind == K_LG_SERVER);
		z->n_v4 = z->v6 ? n - 1 : n;
		z->first = next;
		next += z->n_v4;
		g->of_kind[z->kind][g->n_of_kind[z->kind]++] = i;
	}
	if ((uint64_t)next << (32 - PFX_V4_LEN) > (1u << 24))
		return -ERANGE;
	return 0;
}

static void host_name(unsigned zone, unsigned j, char *buf, size_t n)
{
	const struct host_tpl *t = &hosts_of[kind_for(zone)][j];

	snprintf(buf, n, "h%u-%s%u", zone, t->what, j);
}

static void host_addr(const struct gen *g, unsigned zone, unsigned j,
		      char *buf, size_t n)
{
	const struct host_tpl *t = &hosts_of[g->z[zone].kind][j];
	char a[40];

	v4_of(g->z[zone].first, t->off, a, sizeof(a));
	if (t->len == 32)
		snprintf(buf, n, "%s", a);
	else
		snprintf(buf, n, "%s/%u", a, t->len);
}

/* ---- flows, as data, so the zone file and the naive ruleset agree ---- */

#define MAX_EP 2
#define MAX_SVC 2

struct ep {
	enum { EP_ZONE, EP_PREFIX, EP_HOST, EP_HOST6, EP_FQDN, EP_UPHOST,
	       EP_IPERF } kind;
	unsigned zone, idx;
};

struct svc {
	const char *proto;	/* "tcp", "udp", "syslog", "zabbix", "wsus" */
	unsigned lo, hi;
};

struct flow {
	struct ep from[MAX_EP], to[MAX_EP];
	unsigned n_from, n_to;
	struct svc svc[MAX_SVC];
	unsigned n_svc;
	const char *schedule, *alert_outside;
	bool log;
};

static const struct {
	const char *name, *addr;
} up_hosts[] = {
	{ "up-proxy", "198.51.100.80" },
	{ "up-smtp", "198.51.100.25" },
	{ "up-noc", "203.0.113.10" },
};

enum { UP_PROXY, UP_SMTP, UP_NOC };

static unsigned pick(struct gen *g, enum kind k)
{
	return g->of_kind[k][rndn(g, g->n_of_kind[k])];
}

/* One of the (at most two) servers of kind k next to client zone c. */
static unsigned partner(struct gen *g, unsigned c, enum kind k)
{
	unsigned n = g->n_of_kind[k];

	return g->of_kind[k][(c + rndn(g, 2)) % n];
}

static struct ep ep_zone_or_prefix(struct gen *g, unsigned zone)
{
	struct ep e = { .kind = EP_ZONE, .zone = zone };

	if (g->z[zone].n_v4 > 1 && rndn(g, 2)) {
		e.kind = EP_PREFIX;
		e.idx = rndn(g, g->z[zone].n_v4);
	}
	return e;
}

static struct ep ep_zone(unsigned zone)
{
	return (struct ep){ .kind = EP_ZONE, .zone = zone };
}

static struct ep ep_host(unsigned zone, unsigned j)
{
	return (struct ep){ .kind = EP_HOST, .zone = zone, .idx = j };
}

static void add_svc(struct flow *f, const char *proto, unsigned lo,
		    unsigned hi)
{
	f->svc[f->n_svc++] = (struct svc){ proto, lo, hi };
}

static unsigned app_port(struct gen *g)
{
	static const unsigned well_known[] = { 80, 443, 445, 8080, 3389, 25,
					       110, 143, 389, 636, 1433, 5432 };

	if (rndn(g, 3))
		return 8000 + rndn(g, 2000);
	return well_known[rndn(g, sizeof(well_known) / sizeof(well_known[0]))];
}

static unsigned client_of(struct gen *g, int lg, int in, int mn)
{
	unsigned r = rndn(g, (unsigned)(lg + in + mn));

	if ((int)r < lg)
		return pick(g, K_LG_CLIENT);
	if ((int)r < lg + in)
		return pick(g, K_IN_CLIENT);
	return pick(g, K_MN_CLIENT);
}

static void make_flow(struct gen *g, unsigned i, struct flow *f)
{
	unsigned r, c, s;

	memset(f, 0, sizeof(*f));
	if (i == g->n_flows / 2) {
		f->from[f->n_from++] = ep_zone(1);
		f->to[f->n_to++] = (struct ep){ .kind = EP_IPERF, .zone = 2 };
		add_svc(f, "tcp", IPERF_PORT, IPERF_PORT + 1);
		add_svc(f, "udp", IPERF_PORT, IPERF_PORT);
		return;
	}
	r = rndn(g, 100);
	if (r < 28) {
		/* LGWAN clients to their business servers. */
		c = pick(g, K_LG_CLIENT);
		s = partner(g, c, K_LG_SERVER);
		f->from[f->n_from++] = ep_zone_or_prefix(g, c);
		f->to[f->n_to++] = ep_host(s, rndn(g, 4));
		if (g->z[s].v6 && g->z[c].v6)
			f->to[f->n_to++] = (struct ep){ .kind = EP_HOST6,
							.zone = s };
		add_svc(f, "tcp", app_port(g), 0);
		if (!rndn(g, 4)) {
			unsigned p = 9000 + rndn(g, 1000);

			add_svc(f, "tcp", p, p + rndn(g, 8));
		}
	} else if (r < 40) {
		c = client_of(g, 13, 3, 3);
		f->from[f->n_from++] = ep_zone(c);
		f->to[f->n_to++] = ep_host(partner(g, c, K_MG_OPS), H_SYSLOG);
		add_svc(f, "syslog", 0, 0);
	} else if (r < 48) {
		c = client_of(g, 13, 3, 0);
		f->from[f->n_from++] = ep_host(partner(g, c, K_MG_OPS),
					       H_MONITOR);
		f->to[f->n_to++] = ep_zone(c);
		add_svc(f, "zabbix", 0, 0);
	} else if (r < 56) {
		c = pick(g, K_MN_CLIENT);
		s = partner(g, c, K_DMZ);
		f->from[f->n_from++] = ep_zone(c);
		f->to[f->n_to++] = ep_host(s, 0);
		f->to[f->n_to++] = ep_host(s, 1);
		add_svc(f, "wsus", 0, 0);
	} else if (r < 61) {
		c = pick(g, K_MN_CLIENT);
		f->from[f->n_from++] = ep_zone(c);
		f->to[f->n_to++] = ep_host(partner(g, c, K_MG_NTP), rndn(g, 2));
		add_svc(f, "udp", 123, 0);
	} else if (r < 69) {
		c = pick(g, K_LG_CLIENT);
		f->from[f->n_from++] = ep_zone_or_prefix(g, c);
		f->to[f->n_to++] = ep_host(partner(g, c, K_IN_SANIT),
					   H_VBROWSER);
		add_svc(f, "tcp", 443, 0);
	} else if (r < 74) {
		s = pick(g, K_IN_SANIT);
		c = partner(g, s, K_LG_SERVER);
		if (rndn(g, 2)) {
			f->from[f->n_from++] = ep_host(s, H_MAILSAN);
			f->to[f->n_to++] = ep_host(c, H_MAIL);
			add_svc(f, "tcp", 25, 0);
		} else {
			f->from[f->n_from++] = ep_host(s, H_FILESAN);
			f->to[f->n_to++] = ep_host(c, H_FS);
			add_svc(f, "tcp", 445, 0);
		}
	} else if (r < 79) {
		c = pick(g, K_MN_CLIENT);
		s = partner(g, c, K_LG_SERVER);
		f->from[f->n_from++] = ep_host(s, H_RENKEI);
		f->to[f->n_to++] = ep_host(c, 0);
		add_svc(f, "tcp", 1521 + rndn(g, 4), 0);
		if (!rndn(g, 3))
			f->alert_outside = "business";
	} else if (r < 84) {
		c = pick(g, K_IN_CLIENT);
		f->from[f->n_from++] = ep_zone_or_prefix(g, c);
		f->to[f->n_to++] = (struct ep){ .kind = EP_UPHOST,
						.idx = UP_PROXY };
		add_svc(f, "tcp", 8080, 0);
	} else if (r < 86) {
		s = pick(g, K_DMZ);
		f->from[f->n_from++] = ep_host(s, rndn(g, 2));
		f->to[f->n_to++] = (struct ep){ .kind = EP_FQDN,
						.idx = rndn(g, g->n_fqdn) };
		add_svc(f, "tcp", 80, 0);
		add_svc(f, "tcp", 443, 0);
	} else if (r < 88) {
		f->from[f->n_from++] = (struct ep){ .kind = EP_UPHOST,
						    .idx = UP_NOC };
		f->to[f->n_to++] = ep_host(pick(g, K_LG_SERVER), H_APP);
		add_svc(f, "tcp", 22, 0);
		f->schedule = "maintenance";
		f->log = true;
	} else if (r < 95) {
		c = pick(g, K_LG_CLIENT);
		f->from[f->n_from++] = ep_zone(c);
		s = partner(g, c, K_DMZ);
		f->to[f->n_to++] = ep_host(s, 0);
		add_svc(f, "wsus", 0, 0);
	} else {
		static const enum kind targets[] = { K_LG_SERVER, K_IN_SANIT,
						     K_DMZ };
		enum kind k = targets[rndn(g, 3)];

		s = pick(g, k);
		f->from[f->n_from++] = ep_host(partner(g, s, K_MG_OPS), H_JUMP);
		f->to[f->n_to++] = ep_host(s, k == K_LG_SERVER ? H_APP : 0);
		add_svc(f, "tcp", rndn(g, 2) ? 22 : 3389, 0);
		f->log = true;
		if (!rndn(g, 4))
			f->schedule = "nightly";
	}
}

/* ---- the zone file ---- */

static void print_ep(const struct gen *g, const struct ep *e)
{
	char a[64], name[48];

	switch (e->kind) {
	case EP_ZONE:
		printf("z%u", e->zone);
		break;
	case EP_PREFIX:
		v4_of(g->z[e->zone].first + e->idx, 0, a, sizeof(a));
		printf("z%u/%s/%u", e->zone, a, PFX_V4_LEN);
		break;
	case EP_HOST:
		host_name(e->zone, e->idx, name, sizeof(name));
		printf("%s", name);
		break;
	case EP_HOST6:
		printf("h%u-v6", e->zone);
		break;
	case EP_FQDN:
		printf("fqdn:upd-%u", e->idx);
		break;
	case EP_UPHOST:
		printf("%s", up_hosts[e->idx].name);
		break;
	case EP_IPERF:
		printf("iperf-srv");
		break;
	}
}

static void print_eps(const struct gen *g, const struct ep *v, unsigned n)
{
	if (n == 1) {
		print_ep(g, &v[0]);
		return;
	}
	printf("[");
	for (unsigned i = 0; i < n; i++) {
		printf(i ? ", " : "");
		print_ep(g, &v[i]);
	}
	printf("]");
}

static void print_svc(const struct svc *s)
{
	if (!s->lo)
		printf("%s", s->proto);
	else if (s->hi > s->lo)
		printf("%s/%u-%u", s->proto, s->lo, s->hi);
	else
		printf("%s/%u", s->proto, s->lo);
}

static void print_zones(const struct gen *g)
{
	char a[64];

	printf("zones:\n"
	       "  z0:\n"
	       "    tier: external\n"
	       "    interfaces: [up0]\n"
	       "    networks: [0.0.0.0/0, \"::/0\"]\n");
	for (unsigned i = 1; i < g->n_zones; i++) {
		const struct zone *z = &g->z[i];

		printf("  z%u:\n    tier: %s\n    interfaces: [z%u]\n"
		       "    networks: [", i, tier_of[z->kind], i);
		for (unsigned k = 0; k < z->n_v4; k++) {
			v4_of(z->first + k, 0, a, sizeof(a));
			printf("%s%s/%u", k ? ", " : "", a, PFX_V4_LEN);
		}
		if (z->v6) {
			v6_of(i, "", a, sizeof(a));
			printf("%s\"%s/48\"", z->n_v4 ? ", " : "", a);
		}
		printf("]\n");
	}
}

static void print_hosts(const struct gen *g)
{
	char name[48], a[64];

	printf("hosts:\n");
	for (unsigned i = 1; i < g->n_zones; i++) {
		const struct zone *z = &g->z[i];

		for (unsigned j = 0; j < MAX_HOSTS; j++) {
			const struct host_tpl *t = &hosts_of[z->kind][j];

			if (!t->what)
				break;
			host_name(i, j, name, sizeof(name));
			host_addr(g, i, j, a, sizeof(a));
			printf("  %s: { zone: z%u, address: %s%s%s }\n", name,
			       i, a, t->role ? ", role: " : "",
			       t->role ? t->role : "");
		}
		if (z->v6 && z->kind == K_LG_SERVER) {
			v6_of(i, "10", a, sizeof(a));
			printf("  h%u-v6: { zone: z%u, address: \"%s\" }\n", i,
			       i, a);
		}
	}
	v4_of(g->z[2].first, 40, a, sizeof(a));
	printf("  iperf-srv: { zone: z2, address: %s }\n", a);
	for (size_t i = 0; i < sizeof(up_hosts) / sizeof(up_hosts[0]); i++)
		printf("  %s: { zone: z0, address: %s }\n", up_hosts[i].name,
		       up_hosts[i].addr);
}

static void print_model(struct gen *g)
{
	struct flow f;

	printf("# Synthetic model of tests/tools/benchgen.c: %u zones, %u "
	       "flows, %u prefixes.\n", g->n_zones, g->n_flows, g->n_pfx);
	printf("version: 1\nsite: bench\nmodel: alpha\ntimezone: Asia/Tokyo\n"
	       "schedules:\n"
	       "  business:\n"
	       "    days: [mon, tue, wed, thu, fri]\n"
	       "    hours: [\"08:30-18:15\"]\n"
	       "    holidays: [2026-01-01, 2026-01-12, 2026-02-11, "
	       "2026-02-23, 2026-03-20, 2026-04-29, 2026-05-04, 2026-05-05, "
	       "2026-05-06, 2027-01-01]\n"
	       "  nightly:\n"
	       "    hours: [\"22:00-05:00\"]\n"
	       "  maintenance:\n"
	       "    windows:\n"
	       "      - { from: \"2026-12-05T22:00\","
	       " to: \"2026-12-06T02:00\" }\n"
	       "      - { from: \"2027-01-09T22:00\","
	       " to: \"2027-01-10T02:00\" }\n");
	print_zones(g);
	print_hosts(g);
	printf("fqdn_sets:\n");
	for (unsigned i = 0; i < g->n_fqdn; i++)
		printf("  upd-%u:\n    names: [upd%u.example.jp, "
		       "\"*.cdn%u.example.jp\"]\n", i, i, i);
	printf("services:\n"
	       "  syslog: [tcp/514, udp/514]\n"
	       "  zabbix: [tcp/10050, icmp/echo-request]\n"
	       "  wsus: [tcp/8530-8531]\n"
	       "flows:\n");
	for (unsigned i = 0; i < g->n_flows; i++) {
		make_flow(g, i, &f);
		if (i == g->n_flows / 2)
			printf("  - name: iperf\n    from: ");
		else
			printf("  - name: f%u\n    from: ", i);
		print_eps(g, f.from, f.n_from);
		printf("\n    to: ");
		print_eps(g, f.to, f.n_to);
		printf("\n    services: [");
		for (unsigned k = 0; k < f.n_svc; k++) {
			printf(k ? ", " : "");
			print_svc(&f.svc[k]);
		}
		printf("]\n");
		if (f.schedule)
			printf("    schedule: %s\n", f.schedule);
		if (f.alert_outside)
			printf("    alert_outside: %s\n", f.alert_outside);
		if (f.log)
			printf("    log: true\n");
	}
	printf("gateway:\n  ssh_from: [z%u]\n  log_group: 100\n",
	       g->of_kind[K_MG_OPS][0]);
	if (g->dns_up)
		printf("  dns:\n    upstream: [\"%s\"]\n"
		       "    listen: [\"%s\"]\n", g->dns_up,
		       g->dns_listen ? g->dns_listen : "127.0.0.53");
}

/* ---- the anchor of P3: one linear rule per flow ---- */

struct addrs {
	char (*v)[64];
	unsigned n, cap;
};

static int addrs_add(struct addrs *a, const char *s)
{
	if (a->n == a->cap) {
		unsigned cap = a->cap ? 2 * a->cap : 32;
		char (*v)[64] = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	snprintf(a->v[a->n++], 64, "%s", s);
	return 0;
}

/* The addresses of an endpoint of family fam (4 or 6); FQDN sets give
 * "@upd-N-vF", a named set of the naive table. */
static int ep_addrs(const struct gen *g, const struct ep *e, int fam,
		    struct addrs *out)
{
	const struct zone *z = &g->z[e->zone];
	char a[64], b[80];
	int rc = 0;

	switch (e->kind) {
	case EP_ZONE:
		for (unsigned k = 0; fam == 4 && !rc && k < z->n_v4; k++) {
			v4_of(z->first + k, 0, a, sizeof(a));
			snprintf(b, sizeof(b), "%s/%u", a, PFX_V4_LEN);
			rc = addrs_add(out, b);
		}
		if (fam == 6 && z->v6) {
			v6_of(e->zone, "", a, sizeof(a));
			snprintf(b, sizeof(b), "%s/48", a);
			rc = addrs_add(out, b);
		}
		break;
	case EP_PREFIX:
		if (fam == 4) {
			v4_of(z->first + e->idx, 0, a, sizeof(a));
			snprintf(b, sizeof(b), "%s/%u", a, PFX_V4_LEN);
			rc = addrs_add(out, b);
		}
		break;
	case EP_HOST:
		if (fam == 4) {
			host_addr(g, e->zone, e->idx, a, sizeof(a));
			rc = addrs_add(out, a);
		}
		break;
	case EP_HOST6:
		if (fam == 6) {
			v6_of(e->zone, "10", a, sizeof(a));
			rc = addrs_add(out, a);
		}
		break;
	case EP_FQDN:
		snprintf(b, sizeof(b), "@upd-%u-v%d", e->idx, fam);
		rc = addrs_add(out, b);
		break;
	case EP_UPHOST:
		if (fam == 4)
			rc = addrs_add(out, up_hosts[e->idx].addr);
		break;
	case EP_IPERF:
		if (fam == 4) {
			v4_of(g->z[2].first, 40, a, sizeof(a));
			rc = addrs_add(out, a);
		}
		break;
	}
	return rc;
}

static void print_match(const char *what, const struct addrs *a)
{
	if (a->n == 1) {
		printf(" %s %s", what, a->v[0]);
		return;
	}
	printf(" %s {", what);
	for (unsigned i = 0; i < a->n; i++)
		printf(" %s%s", a->v[i], i + 1 < a->n ? "," : "");
	printf(" }");
}

/* A service as the protocol matches of the naive rules: "tcp dport 443". */
static unsigned svc_matches(const struct svc *s, int fam, char m[2][48])
{
	if (!strcmp(s->proto, "syslog")) {
		snprintf(m[0], 48, "tcp dport 514");
		snprintf(m[1], 48, "udp dport 514");
		return 2;
	}
	if (!strcmp(s->proto, "zabbix")) {
		snprintf(m[0], 48, "tcp dport 10050");
		if (fam == 6)
			return 1;
		snprintf(m[1], 48, "icmp type echo-request");
		return 2;
	}
	if (!strcmp(s->proto, "wsus")) {
		snprintf(m[0], 48, "tcp dport 8530-8531");
		return 1;
	}
	if (s->hi > s->lo)
		snprintf(m[0], 48, "%s dport %u-%u", s->proto, s->lo, s->hi);
	else
		snprintf(m[0], 48, "%s dport %u", s->proto, s->lo);
	return 1;
}

static int print_naive(struct gen *g)
{
	struct addrs src = { 0 }, dst = { 0 };
	unsigned rules = 0;
	struct flow f;
	int rc = 0;

	printf("# The anchor ruleset of P3 (tests/tools/benchgen.c -n): one "
	       "linear rule per flow,\n# service and address family, for the "
	       "model of %u zones, %u flows, %u prefixes.\n", g->n_zones,
	       g->n_flows, g->n_pfx);
	printf("table inet naive\ndelete table inet naive\n"
	       "table inet naive {\n");
	for (unsigned i = 0; i < g->n_fqdn; i++)
		for (int fam = 4; fam <= 6; fam += 2)
			printf("\tset upd-%u-v%d {\n\t\ttype ipv%d_addr\n"
			       "\t\tflags timeout\n\t}\n", i, fam, fam);
	printf("\tchain forward {\n"
	       "\t\ttype filter hook forward priority filter; policy drop;\n"
	       "\t\tct state established,related accept\n");
	for (unsigned i = 0; i < g->n_flows && !rc; i++) {
		make_flow(g, i, &f);
		for (int fam = 4; fam <= 6 && !rc; fam += 2) {
			src.n = dst.n = 0;
			for (unsigned k = 0; k < f.n_from && !rc; k++)
				rc = ep_addrs(g, &f.from[k], fam, &src);
			for (unsigned k = 0; k < f.n_to && !rc; k++)
				rc = ep_addrs(g, &f.to[k], fam, &dst);
			if (rc || !src.n || !dst.n)
				continue;
			for (unsigned k = 0; k < f.n_svc; k++) {
				char m[2][48];
				unsigned n = svc_matches(&f.svc[k], fam, m);

				for (unsigned j = 0; j < n; j++) {
					printf("\t\t");
					print_match(fam == 4 ? "ip saddr" :
						    "ip6 saddr", &src);
					print_match(fam == 4 ? "ip daddr" :
						    "ip6 daddr", &dst);
					printf(" %s accept\n", m[j]);
					rules++;
				}
			}
		}
	}
	printf("\t}\n}\n# %u rules\n", rules);
	free(src.v);
	free(dst.v);
	return rc;
}

/* ---- the two zones of the throughput test ---- */

static void print_lab(const struct gen *g)
{
	char a[64];

	v4_of(g->z[1].first, 0, a, sizeof(a));
	printf("BENCH_CLIENT_IF=z1\nBENCH_CLIENT_NET=%s/%u\n", a, PFX_V4_LEN);
	v4_of(g->z[1].first, 10, a, sizeof(a));
	printf("BENCH_CLIENT_ADDR=%s\n", a);
	v4_of(g->z[2].first, 0, a, sizeof(a));
	printf("BENCH_SERVER_IF=z2\nBENCH_SERVER_NET=%s/%u\n", a, PFX_V4_LEN);
	v4_of(g->z[2].first, 40, a, sizeof(a));
	printf("BENCH_SERVER_ADDR=%s\nBENCH_PORT=%u\nBENCH_CONN_PORT=%u\n", a,
	       IPERF_PORT, IPERF_PORT + 1);
}

static int uint_arg(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 100000000ul)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: benchgen [-z ZONES] [-f FLOWS] [-p PREFIXES] "
		"[-s SEED] [-u UPSTREAM [-a LISTEN]] [-n | -l]\n");
}

int main(int argc, char **argv)
{
	struct gen g = { .n_zones = 1000, .n_flows = 10000, .n_pfx = 20000 };
	unsigned seed = 1;
	int c, mode = 'y', rc = 1;

	while ((c = getopt(argc, argv, "z:f:p:s:u:a:nlh")) != -1) {
		switch (c) {
		case 'z':
		case 'f':
		case 'p':
		case 's':
			if (uint_arg(optarg, c == 'z' ? &g.n_zones :
				     c == 'f' ? &g.n_flows :
				     c == 'p' ? &g.n_pfx : &seed)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'u':
			g.dns_up = optarg;
			break;
		case 'a':
			g.dns_listen = optarg;
			break;
		case 'n':
		case 'l':
			mode = c;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || g.n_zones < 10 || g.n_flows < 1 ||
	    g.n_pfx < 2 * g.n_zones) {
		fprintf(stderr, "benchgen: need at least 10 zones, 1 flow and "
			"2 prefixes a zone\n");
		usage(stderr);
		return 2;
	}
	g.rng = 0x9e3779b97f4a7c15ull ^
		((uint64_t)seed * 0xbf58476d1ce4e5b9ull);
	g.n_fqdn = 4 + g.n_zones / 250;
	if (layout(&g)) {
		fprintf(stderr, "benchgen: too many prefixes for 10.0.0.0/8 "
			"in /%d\n", PFX_V4_LEN);
		goto out;
	}
	if (mode == 'l')
		print_lab(&g);
	else if (mode == 'n' && print_naive(&g))
		goto out;
	else if (mode == 'y')
		print_model(&g);
	rc = fflush(stdout) ? 1 : 0;
out:
	free(g.z);
	for (int k = 0; k < K_COUNT; k++)
		free(g.of_kind[k]);
	return rc;
}
