// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The FQDN set state and the DNS guard, without root: a fake kernel
 * records what would be armed, a fake upstream resolver answers on
 * loopback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "dns.h"
#include "dnsguard.h"
#include "fqdnstate.h"
#include "model.h"
#include "policy.h"

static const char zone_yaml[] =
	"version: 1\n"
	"site: t\n"
	"zones:\n"
	"  dmz: { tier: dmz, interfaces: [e1], networks: [10.40.0.0/24, "
	"\"fd00:40::/64\"] }\n"
	"  inet: { tier: internet, interfaces: [e2], networks: "
	"[198.18.0.0/15] }\n"
	"  up: { tier: external, interfaces: [e0], networks: [0.0.0.0/0, "
	"\"::/0\"] }\n"
	"  vendor: { tier: external, interfaces: [e3], networks: "
	"[192.0.2.128/25] }\n"
	"hosts:\n"
	"  relay: { zone: dmz, address: 10.40.0.10, role: update-relay }\n"
	"  relay6: { zone: dmz, address: \"fd00:40::10\", role: "
	"update-relay }\n"
	"fqdn_sets:\n"
	"  upd:\n"
	"    names: [update.example.jp, \"*.cdn.example.jp\"]\n"
	"    min_ttl: 100\n"
	"    max_ttl: 1000\n"
	"    grace: 10\n"
	"    max_addrs: 3\n"
	"    max_stale: 500\n"
	"  other:\n"
	"    names: [update.example.jp]\n"
	"  v4only:\n"
	"    names: [v4.example.jp, also.example.jp]\n"
	"  v4too:\n"
	"    names: [also.example.jp]\n"
	"flows:\n"
	"  - name: r\n"
	"    from: [relay, relay6]\n"
	"    to: [fqdn:upd, fqdn:other]\n"
	"    services: [tcp/443]\n"
	"  - name: r4\n"
	"    from: relay\n"
	"    to: [fqdn:v4only, fqdn:v4too]\n"
	"    services: [tcp/443]\n"
	"  - name: r4-ping\n"
	"    from: relay6\n"
	"    to: fqdn:v4too\n"
	"    services: [icmp/echo-request]\n"
	"gateway:\n"
	"  dns: { upstream: [\"127.0.0.1:53\"] }\n";

/* ---- a fake kernel ---- */

#define FK_MAX 256

struct fk_elem {
	char set[64];
	uint8_t family;
	uint8_t addr[16];
	uint64_t timeout;
};

struct fake_kernel {
	struct fk_elem e[FK_MAX];
	size_t n;
	int fail;		/* -errno for the next arms */
	char fail_set[64];	/* and for arms that touch this set */
	unsigned int arms, lists;
	uint32_t genid;
};

static struct fk_elem *fk_find(struct fake_kernel *k, const char *set,
			       uint8_t family, const uint8_t *addr)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->e[i].set, set) && k->e[i].family == family &&
		    !memcmp(k->e[i].addr, addr, family == AF_INET ? 4 : 16))
			return &k->e[i];
	return NULL;
}

static int fk_arm(void *arg, const struct fqdn_elem *v, size_t n, char *err,
		  size_t errlen)
{
	struct fake_kernel *k = arg;

	k->arms++;
	if (k->fail) {
		snprintf(err, errlen, "fake failure");
		return k->fail;
	}
	for (size_t i = 0; k->fail_set[0] && i < n; i++)
		if (!strcmp(v[i].set, k->fail_set)) {
			snprintf(err, errlen, "fake refusal of %s", v[i].set);
			return -EPERM;
		}
	for (size_t i = 0; i < n; i++) {
		struct fk_elem *e = fk_find(k, v[i].set, v[i].family,
					    v[i].addr);

		assert_true(v[i].timeout_ms >= 1000);
		if (!e) {
			assert_true(k->n < FK_MAX);
			e = &k->e[k->n++];
			snprintf(e->set, sizeof(e->set), "%s", v[i].set);
			e->family = v[i].family;
			memcpy(e->addr, v[i].addr, 16);
		}
		e->timeout = v[i].timeout_ms;
	}
	k->genid++;
	return 0;
}

static int fk_list(void *arg, const char *set, fqdn_list_fn fn, void *fnarg)
{
	struct fake_kernel *k = arg;

	k->lists++;
	if (!strncmp(set, "fqdn-missing", 12))
		return -ENOENT;
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->e[i].set, set))
			fn(fnarg, k->e[i].family, k->e[i].addr,
			   k->e[i].timeout);
	return 0;
}

static int fk_genid(void *arg, uint32_t *genid)
{
	*genid = ((struct fake_kernel *)arg)->genid;
	return 0;
}

static uint64_t fk_timeout(struct fake_kernel *k, const char *set,
			   const char *addr)
{
	uint8_t a[16] = { 0 };
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	struct fk_elem *e;

	assert_int_equal(inet_pton(fam, addr, a), 1);
	e = fk_find(k, set, (uint8_t)fam, a);
	return e ? e->timeout : 0;
}

/* ---- hooks ---- */

struct hooks {
	unsigned int alerts[ALERT_TYPE_COUNT];
	char last[256];
};

static void h_log(void *arg, int prio, const char *msg)
{
	(void)arg;
	if (getenv("TEST_VERBOSE") || prio <= LOG_ERR)
		fprintf(stderr, "log %d: %s\n", prio, msg);
}

static void h_alert(void *arg, const struct alert *a)
{
	struct hooks *h = arg;

	h->alerts[a->type]++;
	snprintf(h->last, sizeof(h->last), "%s", a->message);
}

struct fixture {
	struct model *m;
	struct fake_kernel k;
	struct fqdn_kernel ops;
	struct hooks h;
	struct fqdn_state *st;
};

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diags d = { 0 };
	struct fqdn_conf c = { 0 };

	assert_non_null(f);
	f->m = model_load_buf("t.yaml", NULL, zone_yaml, strlen(zone_yaml),
			      &d);
	assert_non_null(f->m);
	if (d.errors) {
		diags_print_text(&d, stderr);
		fail_msg("zone file errors");
	}
	diags_free(&d);
	f->ops.arm = fk_arm;
	f->ops.list = fk_list;
	f->ops.genid = fk_genid;
	f->ops.arg = &f->k;
	c.kernel = &f->ops;
	c.hooks.log = h_log;
	c.hooks.alert = h_alert;
	c.hooks.arg = &f->h;
	f->st = fqdn_state_new(f->m, &c);
	assert_non_null(f->st);
	return f;
}

static void fixture_free(struct fixture *f)
{
	fqdn_state_free(f->st);
	model_free(f->m);
	free(f);
}

static struct dns_addr A(const char *s, uint32_t ttl)
{
	struct dns_addr a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, s, a.addr), 1);
	a.ttl = ttl;
	return a;
}

static bool safe(struct fixture *f, const char *s)
{
	struct dns_addr a = A(s, 0);

	return fqdn_addr_safe(f->st, a.family, a.addr);
}

/* ---- the rules ---- */

static void test_timeout_clamp(void **state)
{
	struct fqdn_set s = { .min_ttl = 100, .max_ttl = 1000, .grace = 10 };

	(void)state;
	assert_int_equal(fqdn_timeout(&s, 0), 110);
	assert_int_equal(fqdn_timeout(&s, 5), 110);
	assert_int_equal(fqdn_timeout(&s, 100), 110);
	assert_int_equal(fqdn_timeout(&s, 500), 510);
	assert_int_equal(fqdn_timeout(&s, 1000), 1010);
	assert_int_equal(fqdn_timeout(&s, UINT32_MAX), 1010);
	s.min_ttl = s.max_ttl = s.grace = 0;
	assert_int_equal(fqdn_timeout(&s, 300), 0);
}

static void test_address_filter(void **state)
{
	static const char *const bad[] = {
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255",
		"100.64.0.1", "100.127.255.255", "127.0.0.1", "169.254.1.1",
		"172.16.0.1", "172.31.255.255", "192.168.0.1", "224.0.0.1",
		"239.255.255.250", "240.0.0.1", "255.255.255.255",
		"::", "::1", "::10.0.0.1", "::ffff:203.0.113.1", "fc00::1",
		"fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
		"64:ff9b::a00:1", "64:ff9b::c0a8:101",
		/* the site's own networks, other than the default route */
		"198.18.0.1", "198.19.255.255", "192.0.2.200",
	};
	static const char *const good[] = {
		"203.0.113.1", "198.51.100.1", "192.0.2.1", "100.128.0.1",
		"172.32.0.1", "11.0.0.1", "2001:db8::1", "2606:4700::1",
		"64:ff9b::cb00:7101", "1.1.1.1",
	};
	struct fixture *f = fixture_new();

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (safe(f, bad[i]))
			fail_msg("%s admitted", bad[i]);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!safe(f, good[i]))
			fail_msg("%s refused", good[i]);
	fixture_free(f);
}

static void test_match(void **state)
{
	struct fixture *f = fixture_new();
	unsigned int idx[4];

	(void)state;
	assert_int_equal(fqdn_state_match(f->st, "update.example.jp", idx),
			 2);
	assert_int_equal(fqdn_state_match(f->st, "UPDATE.Example.jp.", idx),
			 2);
	assert_int_equal(fqdn_state_match(f->st, "a.cdn.example.jp", idx), 1);
	assert_string_equal(fqdn_state_set_name(f->st, idx[0]), "upd");
	assert_int_equal(fqdn_state_match(f->st, "x.y.cdn.example.jp", idx),
			 1);
	assert_int_equal(fqdn_state_match(f->st, "cdn.example.jp", idx), 0);
	assert_int_equal(fqdn_state_match(f->st, "x.update.example.jp", idx),
			 0);
	assert_int_equal(fqdn_state_match(f->st, "aupdate.example.jp", idx),
			 0);
	assert_int_equal(fqdn_state_match(f->st, "a.bcdn.example.jp", idx),
			 0);
	fixture_free(f);
}

static void test_learn(void **state)
{
	struct fixture *f = fixture_new();
	struct dns_addr a[] = {
		A("203.0.113.1", 50), A("10.0.0.1", 50),
		A("2001:db8::1", 2000), A("203.0.113.1", 50),
	};
	struct fqdn_result r;
	struct fqdn_stats s;
	char err[128];
	int64_t now = 1800000000000;

	(void)state;
	assert_int_equal(fqdn_state_learn(f->st, "update.example.jp",
					  DNS_T_A, a, 4, now, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(r.sets, 2);
	assert_int_equal(r.unsafe, 1);
	assert_int_equal(r.armed, 4);
	assert_int_equal(f->k.arms, 1);		/* one batch */
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "203.0.113.1"),
			 110000);
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v6", "2001:db8::1"),
			 1010000);
	assert_int_equal(fk_timeout(&f->k, "fqdn-other-v4", "203.0.113.1"),
			 360000);
	assert_int_equal(fk_timeout(&f->k, "fqdn-other-v6", "2001:db8::1"),
			 2060000);
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "10.0.0.1"), 0);
	fqdn_state_stats(f->st, &s);
	assert_int_equal(s.names, 2);
	assert_int_equal(s.elems, 4);

	/* A later answer with a short TTL does not cut the element. */
	a[2].ttl = 1;
	assert_int_equal(fqdn_state_learn(f->st, "update.example.jp",
					  DNS_T_AAAA, a + 2, 1, now + 50000, &r,
					  err, sizeof(err)), 0);
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v6", "2001:db8::1"),
			 960000);
	/* Nothing matched: nothing armed. */
	assert_int_equal(fqdn_state_learn(f->st, "example.org", DNS_T_A, a, 1,
					  now, &r, err, sizeof(err)), 0);
	assert_int_equal(r.sets, 0);
	assert_int_equal(f->k.arms, 2);
	fixture_free(f);
}

/* Two names of one set share an address: the longer need wins. */
static void test_shared_address(void **state)
{
	struct fixture *f = fixture_new();
	struct dns_addr a = A("203.0.113.9", 900);
	struct fqdn_result r;
	char err[128];
	int64_t now = 1800000000000;

	(void)state;
	assert_int_equal(fqdn_state_learn(f->st, "b.cdn.example.jp", DNS_T_A,
					  &a, 1, now, &r, err, sizeof(err)),
			 0);
	a.ttl = 100;
	assert_int_equal(fqdn_state_learn(f->st, "c.cdn.example.jp", DNS_T_A,
					  &a, 1, now + 10000, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "203.0.113.9"),
			 900000);
	fixture_free(f);
}

static void test_fail_closed(void **state)
{
	struct fixture *f = fixture_new();
	struct dns_addr a = A("203.0.113.1", 300);
	struct fqdn_result r;
	struct fqdn_stats s;
	char err[128];

	(void)state;
	f->k.fail = -ENOENT;
	assert_int_equal(fqdn_state_learn(f->st, "update.example.jp",
					  DNS_T_A, &a, 1, 1000000, &r, err,
					  sizeof(err)), -ENOENT);
	assert_string_equal(err, "fake failure");
	fqdn_state_stats(f->st, &s);
	assert_int_equal(s.names, 0);
	assert_int_equal(s.batch_fail, 1);
	/* Nothing learned, so nothing to fall back on. */
	f->k.fail = 0;
	assert_int_equal(fqdn_state_stale(f->st, "update.example.jp",
					  DNS_T_A, NULL, 2000000, &r, err,
					  sizeof(err)), -ENOENT);
	fixture_free(f);
}

static void test_cap(void **state)
{
	struct fixture *f = fixture_new();
	struct dns_addr a[] = {
		A("203.0.113.1", 300), A("203.0.113.2", 300),
		A("203.0.113.3", 300), A("203.0.113.4", 300),
		A("203.0.113.5", 300),
	};
	struct fqdn_result r;
	char err[128];
	int64_t now = 1800000000000;

	(void)state;
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp", DNS_T_A,
					  a, 5, now, &r, err, sizeof(err)), 0);
	assert_int_equal(r.armed, 3);
	assert_int_equal(r.capped, 2);
	assert_int_equal(f->h.alerts[ALERT_FQDN_CAP], 1);
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "203.0.113.4"), 0);
	/* Again: the known three are re-armed, no second alert. */
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp", DNS_T_A,
					  a, 5, now + 1000, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(r.armed, 3);
	assert_int_equal(f->h.alerts[ALERT_FQDN_CAP], 1);
	/* Once they expired, new ones fit. */
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp", DNS_T_A,
					  a + 3, 2, now + 400000, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(r.armed, 2);
	assert_int_equal(r.capped, 0);
	fixture_free(f);
}

static void test_stale(void **state)
{
	struct fixture *f = fixture_new();
	struct dns_addr a[] = { A("203.0.113.1", 300), A("2001:db8::1", 300) };
	struct dns_addr out[4];
	struct fqdn_result r;
	char err[128];
	int64_t t0 = 1800000000000;

	(void)state;
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp", DNS_T_A,
					  a, 1, t0, &r, err, sizeof(err)), 0);
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp",
					  DNS_T_AAAA, a + 1, 1, t0, &r, err,
					  sizeof(err)), 0);
	/* 100 s later upstream fails: 30 s + grace, one alert. */
	assert_int_equal(fqdn_state_stale(f->st, "a.cdn.example.jp", DNS_T_A,
					  NULL, t0 + 100000, &r, err,
					  sizeof(err)), 1);
	assert_int_equal(f->h.alerts[ALERT_FQDN_STALE], 1);
	/* min_ttl 100 applies to the 30 s stale TTL too. */
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "203.0.113.1"),
			 310000 - 100000);
	assert_int_equal(fqdn_state_last(f->st, "a.cdn.example.jp", DNS_T_A,
					 t0 + 100000, out, 4), 1);
	assert_int_equal(out[0].ttl, FQDN_STALE_TTL);
	/* Near max_stale (500 s): never past last good + max_stale. */
	assert_int_equal(fqdn_state_stale(f->st, "a.cdn.example.jp", DNS_T_A,
					  NULL, t0 + 450000, &r, err,
					  sizeof(err)), 1);
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "203.0.113.1"),
			 50000);
	assert_int_equal(f->h.alerts[ALERT_FQDN_STALE], 1);
	/* Both families for other query types. */
	assert_int_equal(fqdn_state_stale(f->st, "a.cdn.example.jp",
					  DNS_T_HTTPS, NULL, t0 + 460000, &r,
					  err, sizeof(err)), 2);
	/* Past it: nothing, and an alert saying so. */
	assert_int_equal(fqdn_state_stale(f->st, "a.cdn.example.jp", DNS_T_A,
					  NULL, t0 + 600000, &r, err,
					  sizeof(err)), -ENOENT);
	assert_int_equal(f->h.alerts[ALERT_FQDN_STALE], 2);
	assert_int_equal(fqdn_state_last(f->st, "a.cdn.example.jp", DNS_T_A,
					 t0 + 600000, out, 4), 0);
	/* An answer again, then a new failure: a new alert. */
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp", DNS_T_A,
					  a, 1, t0 + 700000, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(fqdn_state_stale(f->st, "a.cdn.example.jp", DNS_T_A,
					  NULL, t0 + 701000, &r, err,
					  sizeof(err)), 1);
	assert_int_equal(f->h.alerts[ALERT_FQDN_STALE], 3);
	/* An empty answer: the last good A answer has no address. */
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp", DNS_T_A,
					  NULL, 0, t0 + 702000, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(fqdn_state_last(f->st, "a.cdn.example.jp", DNS_T_A,
					 t0 + 702000, out, 4), 0);
	fixture_free(f);
}

static void test_gc(void **state)
{
	struct fixture *f = fixture_new();
	struct dns_addr a = A("203.0.113.1", 300);
	struct fqdn_result r;
	struct fqdn_stats s;
	char err[128];
	int64_t t0 = 1800000000000;

	(void)state;
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp", DNS_T_A,
					  &a, 1, t0, &r, err, sizeof(err)), 0);
	fqdn_state_gc(f->st, t0 + 400000);	/* expired, within stale */
	fqdn_state_stats(f->st, &s);
	assert_int_equal(s.names, 1);
	assert_int_equal(s.elems, 0);
	fqdn_state_gc(f->st, t0 + 501000);	/* past max_stale */
	fqdn_state_stats(f->st, &s);
	assert_int_equal(s.names, 0);
	fixture_free(f);
}

static void test_reconcile(void **state)
{
	struct fixture *f = fixture_new();
	struct dns_addr a[] = { A("203.0.113.1", 300), A("203.0.113.2", 300) };
	struct fqdn_result r;
	char err[128];
	int64_t now = 1800000000000;

	(void)state;
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp", DNS_T_A,
					  a, 2, now, &r, err, sizeof(err)), 0);
	assert_int_equal(fqdn_state_check_kernel(f->st, now, err,
						 sizeof(err)), 1);
	assert_int_equal(f->k.arms, 1);		/* all there */
	assert_int_equal(fqdn_state_check_kernel(f->st, now, err,
						 sizeof(err)), 0);
	/* Someone loaded the ruleset with nft -f: the sets are empty. */
	f->k.n = 0;
	f->k.genid += 5;
	assert_int_equal(fqdn_state_check_kernel(f->st, now + 10000, err,
						 sizeof(err)), 1);
	assert_int_equal(f->k.arms, 2);
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "203.0.113.2"),
			 300000);
	fixture_free(f);
}

static void test_save_restore(void **state)
{
	struct fixture *f = fixture_new(), *g;
	struct dns_addr a[] = { A("203.0.113.1", 300), A("2001:db8::5", 900) };
	struct fqdn_result r;
	struct fqdn_stats s;
	char dir[] = "/tmp/sanso-test-XXXXXX", path[128], line[512], err[256];
	struct stat sb;
	int64_t now = fqdn_now();
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(fqdn_state_learn(f->st, "update.example.jp",
					  DNS_T_A, a, 1, now, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(fqdn_state_learn(f->st, "update.example.jp",
					  DNS_T_AAAA, a + 1, 1, now, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(fqdn_state_save(f->st, dir, now), 0);
	snprintf(path, sizeof(path), "%s/fqdn.state", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);

	/* Lines the zone file no longer admits, or never would. */
	fp = fopen(path, "a");
	assert_non_null(fp);
	fprintf(fp, "upd a.cdn.example.jp 10.0.0.1 %lld %lld 300 1\n",
		(long long)(now / 1000 + 100), (long long)(now / 1000));
	fprintf(fp, "upd not.example.jp 203.0.113.7 %lld %lld 300 1\n",
		(long long)(now / 1000 + 100), (long long)(now / 1000));
	fprintf(fp, "gone a.cdn.example.jp 203.0.113.7 %lld %lld 300 1\n",
		(long long)(now / 1000 + 100), (long long)(now / 1000));
	fprintf(fp, "upd a.cdn.example.jp 203.0.113.8 999999999999 %lld 300 "
		"1\n", (long long)(now / 1000));
	fprintf(fp, "garbage\nupd a.cdn.example.jp 203.0.113.9 1 2 3 4 5\n");
	fclose(fp);

	/* A new process: the elements come back with their time left. */
	g = fixture_new();
	assert_int_equal(fqdn_state_restore(g->st, dir, now + 10000, err,
					    sizeof(err)), 5);
	assert_true(fk_timeout(&g->k, "fqdn-upd-v4", "203.0.113.1") <=
		    301000);
	assert_true(fk_timeout(&g->k, "fqdn-upd-v4", "203.0.113.1") >=
		    298000);
	assert_true(fk_timeout(&g->k, "fqdn-other-v6", "2001:db8::5") >=
		    950000);
	assert_int_equal(fk_timeout(&g->k, "fqdn-upd-v4", "10.0.0.1"), 0);
	assert_int_equal(fk_timeout(&g->k, "fqdn-upd-v4", "203.0.113.7"), 0);
	/* Expiry capped to max_ttl + grace. */
	assert_true(fk_timeout(&g->k, "fqdn-upd-v4", "203.0.113.8") <=
		    1010000);
	fqdn_state_stats(g->st, &s);
	assert_int_equal(s.names, 3);

	/* Saving merges with what is in the file; the file stays valid. */
	assert_int_equal(fqdn_state_save(g->st, dir, now + 20000), 0);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_string_equal(line, "# sanso fqdn state 1\n");
	fclose(fp);
	/* After max_stale and every expiry, nothing is left to restore. */
	fixture_free(g);
	g = fixture_new();
	assert_int_equal(fqdn_state_restore(g->st, dir, now + 100000000, err,
					    sizeof(err)), 0);
	fixture_free(g);

	snprintf(line, sizeof(line), "rm -rf %s", dir);
	assert_int_equal(system(line), 0);
	fixture_free(f);
}

/* ---- elements nothing learned (SECURITY F22) ---- */

struct foreign_seen {
	char v[8][80];
	size_t n;
};

static int foreign_cb(void *arg, const char *set, uint8_t family,
		      const uint8_t *addr)
{
	struct foreign_seen *fs = arg;
	char a[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(family, addr, a, sizeof(a)));
	assert_true(fs->n < 8);
	snprintf(fs->v[fs->n++], sizeof(fs->v[0]), "%s %s", set, a);
	return 0;
}

static void fk_add(struct fake_kernel *k, const char *set, const char *addr,
		   uint64_t timeout)
{
	struct fk_elem *e = &k->e[k->n++];

	memset(e, 0, sizeof(*e));
	snprintf(e->set, sizeof(e->set), "%s", set);
	e->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(e->family, addr, e->addr), 1);
	e->timeout = timeout;
}

static void test_foreign(void **state)
{
	struct fixture *f = fixture_new(), *g = fixture_new();
	struct dns_addr a[] = {
		A("203.0.113.1", 50), A("203.0.113.20", 50),
		A("203.0.113.30", 50),
	};
	struct foreign_seen fs = { 0 };
	struct fqdn_result r;
	char dir[] = "/tmp/sanso-test-XXXXXX", cmd[128], err[128];
	int64_t now = fqdn_now();

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(fqdn_state_learn(f->st, "update.example.jp",
					  DNS_T_A, a, 1, now, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(fqdn_state_learn(f->st, "a.cdn.example.jp",
					  DNS_T_A, a + 2, 1, now, &r, err,
					  sizeof(err)), 0);
	/* Learned elements (in both sets the name matches): nothing. */
	assert_int_equal(fqdn_state_foreign(f->st, NULL, now, 5000,
					    foreign_cb, &fs), 0);
	assert_int_equal(fs.n, 0);

	/* Added by hand: reported, with or without a timeout; one about
	 * to run out is not. */
	fk_add(&f->k, "fqdn-upd-v4", "203.0.113.9", 600000);
	fk_add(&f->k, "fqdn-upd-v6", "2001:db8::99", UINT64_MAX);
	fk_add(&f->k, "fqdn-upd-v4", "203.0.113.10", 3000);
	/* A learned address in a set it was not learned for. */
	fk_add(&f->k, "fqdn-other-v4", "203.0.113.30", 600000);
	assert_int_equal(fqdn_state_foreign(f->st, NULL, now, 5000,
					    foreign_cb, &fs), 0);
	assert_int_equal(fs.n, 3);
	assert_string_equal(fs.v[0], "fqdn-upd-v4 203.0.113.9");
	assert_string_equal(fs.v[1], "fqdn-upd-v6 2001:db8::99");
	assert_string_equal(fs.v[2], "fqdn-other-v4 203.0.113.30");

	/* What `sanso resolve` armed and saved accounts for its element. */
	assert_int_equal(fqdn_state_learn(g->st, "update.example.jp",
					  DNS_T_A, a + 1, 1, now, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(fqdn_state_save(g->st, dir, now), 0);
	f->k.n = 0;
	fk_add(&f->k, "fqdn-upd-v4", "203.0.113.1", 100000);
	fk_add(&f->k, "fqdn-upd-v4", "203.0.113.20", 100000);
	fs.n = 0;
	assert_int_equal(fqdn_state_foreign(f->st, dir, now, 5000,
					    foreign_cb, &fs), 0);
	assert_int_equal(fs.n, 0);
	assert_int_equal(fqdn_state_foreign(f->st, NULL, now, 5000,
					    foreign_cb, &fs), 0);
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.v[0], "fqdn-upd-v4 203.0.113.20");

	/* A learned entry that expired a moment ago still accounts for
	 * its element; one that expired longer ago does not (an element
	 * that outlives what was learned: given a longer timeout).  What
	 * the file holds counts while its last good answer is within
	 * max_stale (resolve re-arms from it and saves later). */
	fs.n = 0;
	assert_int_equal(fqdn_state_foreign(f->st, dir, now + 113000, 5000,
					    foreign_cb, &fs), 0);
	assert_int_equal(fs.n, 0);
	assert_int_equal(fqdn_state_foreign(f->st, dir, now + 120000, 5000,
					    foreign_cb, &fs), 0);
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.v[0], "fqdn-upd-v4 203.0.113.1");

	/* An unreadable state directory: an error, nothing reported. */
	fs.n = 0;
	assert_true(fqdn_state_foreign(f->st, "/nonexistent/sanso", now, 5000,
				       foreign_cb, &fs) < 0);
	assert_int_equal(fs.n, 0);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	fixture_free(g);
	fixture_free(f);
}

/* ---- many answers, one transaction ---- */

static int fk_elem_cmp(const void *a, const void *b)
{
	const struct fk_elem *x = a, *y = b;
	int r = strcmp(x->set, y->set);

	return r ? r : memcmp(x->addr, y->addr, 16);
}

/* The same kernel contents, element by element. */
static void fk_same(struct fake_kernel *a, struct fake_kernel *b)
{
	assert_int_equal(a->n, b->n);
	qsort(a->e, a->n, sizeof(a->e[0]), fk_elem_cmp);
	qsort(b->e, b->n, sizeof(b->e[0]), fk_elem_cmp);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->e[i].set, b->e[i].set);
		assert_memory_equal(a->e[i].addr, b->e[i].addr, 16);
		assert_int_equal(a->e[i].timeout, b->e[i].timeout);
	}
}

/*
 * A round of answers learned together ends as learning them one by one
 * does: the same elements and timeouts (shared addresses keep the
 * longest), the same counts, caps and last good answers; but in fewer
 * transactions.  A name asked twice in the round, and the cap, are in it.
 */
static void test_learn_batch(void **state)
{
	static const char *const names[] = {
		"a.cdn.example.jp", "update.example.jp", "b.cdn.example.jp",
		"a.cdn.example.jp", "c.cdn.example.jp", "Update.example.jp",
	};
	struct dns_addr a[][5] = {
		{ A("203.0.113.1", 300), A("203.0.113.2", 50) },
		{ A("203.0.113.2", 900), A("10.0.0.1", 900),
		  A("2001:db8::1", 900) },
		{ A("203.0.113.1", 100), A("198.18.0.1", 100) },
		{ A("203.0.113.3", 300), A("203.0.113.4", 300),
		  A("203.0.113.5", 300) },
		{ A("203.0.113.7", 20) },
		{ A("203.0.113.9", 400) },
	};
	static const size_t na[] = { 2, 3, 2, 3, 1, 1 };
	static const uint16_t qt[] = { DNS_T_A, DNS_T_A, DNS_T_A, DNS_T_A,
				       DNS_T_A, DNS_T_HTTPS };
	struct fqdn_answer v[6];
	struct fixture *one = fixture_new(), *all = fixture_new();
	struct fqdn_stats s1, s2;
	int64_t now = 1800000000000;
	char err[128];

	(void)state;
	memset(v, 0, sizeof(v));
	for (size_t i = 0; i < 6; i++) {
		struct fqdn_result r;
		int ret = fqdn_state_learn(one->st, names[i], qt[i], a[i],
					   na[i], now, &r, err, sizeof(err));

		v[i].name = names[i];
		v[i].qtype = qt[i];
		v[i].addrs = a[i];
		v[i].n = na[i];
		v[i].ret = 12345;
		fqdn_state_learn_batch(all->st, v + i, 0, now);
		assert_int_equal(v[i].ret, 12345);	/* nothing to do */
		v[i].ret = ret;
		v[i].res = r;
	}
	{
		struct fqdn_answer w[6];

		memcpy(w, v, sizeof(w));
		for (size_t i = 0; i < 6; i++)
			w[i].ret = -1;
		fqdn_state_learn_batch(all->st, w, 6, now);
		for (size_t i = 0; i < 6; i++) {
			assert_int_equal(w[i].ret, v[i].ret);
			assert_int_equal(w[i].res.sets, v[i].res.sets);
			assert_int_equal(w[i].res.armed, v[i].res.armed);
			assert_int_equal(w[i].res.unsafe, v[i].res.unsafe);
			assert_int_equal(w[i].res.capped, v[i].res.capped);
		}
	}
	fk_same(&one->k, &all->k);
	/* the longest need of 203.0.113.2 in set upd: 900 s, capped 1000 */
	assert_int_equal(fk_timeout(&all->k, "fqdn-upd-v4", "203.0.113.2"),
			 910000);
	/* a.cdn.example.jp's second answer went over the cap of 3 */
	assert_int_equal(v[3].res.capped, 2);
	assert_int_equal(all->h.alerts[ALERT_FQDN_CAP],
			 one->h.alerts[ALERT_FQDN_CAP]);
	assert_int_equal(all->h.alerts[ALERT_FQDN_CAP], 1);
	/* Two transactions: a.cdn.example.jp again starts the second. */
	assert_int_equal(one->k.arms, 6);
	assert_int_equal(all->k.arms, 2);
	fqdn_state_stats(one->st, &s1);
	fqdn_state_stats(all->st, &s2);
	assert_int_equal(s1.names, s2.names);
	assert_int_equal(s1.elems, s2.elems);
	assert_int_equal(s1.unsafe, s2.unsafe);
	assert_int_equal(s1.capped, s2.capped);
	assert_int_equal(s2.batches, 2);
	for (size_t i = 0; i < 6; i++) {
		struct dns_addr l1[8], l2[8];
		size_t n1 = fqdn_state_last(one->st, names[i], DNS_T_A,
					    now + 1000, l1, 8);
		size_t n2 = fqdn_state_last(all->st, names[i], DNS_T_A,
					    now + 1000, l2, 8);

		assert_int_equal(n1, n2);
		assert_memory_equal(l1, l2, n1 * sizeof(l1[0]));
	}
	fixture_free(one);
	fixture_free(all);
}

/* The kernel refuses the shared transaction: each answer is tried on
 * its own, and only the one it refuses fails; nothing of it is kept. */
static void test_learn_batch_refused(void **state)
{
	struct dns_addr a1 = A("203.0.113.1", 300), a2 = A("203.0.113.2", 300);
	struct dns_addr a3 = A("203.0.113.3", 300);
	struct fqdn_answer v[3];
	struct fixture *f = fixture_new();
	struct fqdn_stats s;
	int64_t now = 1800000000000;

	(void)state;
	memset(v, 0, sizeof(v));
	v[0].name = "a.cdn.example.jp";
	v[0].addrs = &a1;
	v[1].name = "update.example.jp";
	v[1].addrs = &a2;
	v[2].name = "b.cdn.example.jp";
	v[2].addrs = &a3;
	for (size_t i = 0; i < 3; i++) {
		v[i].qtype = DNS_T_A;
		v[i].n = 1;
	}
	snprintf(f->k.fail_set, sizeof(f->k.fail_set), "fqdn-other-v4");
	fqdn_state_learn_batch(f->st, v, 3, now);
	assert_int_equal(v[0].ret, 0);
	assert_int_equal(v[1].ret, -EPERM);
	assert_string_equal(v[1].err, "fake refusal of fqdn-other-v4");
	assert_int_equal(v[1].res.armed, 0);
	assert_int_equal(v[2].ret, 0);
	assert_int_equal(v[0].res.armed, 1);
	assert_int_equal(f->k.arms, 4);		/* together, then alone */
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "203.0.113.1"),
			 310000);
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "203.0.113.2"), 0);
	assert_int_equal(fk_timeout(&f->k, "fqdn-upd-v4", "203.0.113.3"),
			 310000);
	fqdn_state_stats(f->st, &s);
	assert_int_equal(s.names, 2);		/* update.example.jp: none */
	assert_int_equal(s.batch_fail, 2);
	fixture_free(f);
}

/* Only the families some flow of the set can use are armed: relay is
 * IPv4 only, relay6's icmp/echo-request flow cannot use IPv6. */
static void test_families(void **state)
{
	struct fixture *f = fixture_new();
	struct dns_addr a[] = { A("203.0.113.1", 300), A("2001:db8::1", 300) };
	struct fqdn_result r;
	unsigned int idx[8];
	char err[128];
	int64_t now = 1800000000000;

	(void)state;
	assert_int_equal(fqdn_state_families(f->st, idx,
		fqdn_state_match(f->st, "update.example.jp", idx)),
		POL_FAM_V4 | POL_FAM_V6);
	assert_int_equal(fqdn_state_families(f->st, idx,
		fqdn_state_match(f->st, "v4.example.jp", idx)), POL_FAM_V4);
	assert_int_equal(fqdn_state_families(f->st, idx,
		fqdn_state_match(f->st, "also.example.jp", idx)), POL_FAM_V4);
	assert_int_equal(fqdn_state_learn(f->st, "v4.example.jp", DNS_T_A, a,
					  2, now, &r, err, sizeof(err)), 0);
	assert_int_equal(r.armed, 1);
	assert_int_equal(r.unusable, 1);
	assert_int_not_equal(fk_timeout(&f->k, "fqdn-v4only-v4",
					"203.0.113.1"), 0);
	assert_int_equal(fk_timeout(&f->k, "fqdn-v4only-v6", "2001:db8::1"),
			 0);
	/* A set both families can use still gets both. */
	assert_int_equal(fqdn_state_learn(f->st, "update.example.jp",
					  DNS_T_AAAA, a, 2, now, &r, err,
					  sizeof(err)), 0);
	assert_int_equal(r.unusable, 0);
	assert_int_not_equal(fk_timeout(&f->k, "fqdn-upd-v6", "2001:db8::1"),
			     0);
	fixture_free(f);
}

/* ---- the guard on loopback ---- */

struct lab {
	struct fixture *f;
	struct dnsguard *g;
	int up;				/* fake upstream, UDP */
	struct hostport uphp;
	struct sockaddr_storage gaddr;
	int cli;			/* client, UDP */
	unsigned int up_queries;
	/* what the upstream answers: */
	const char *answer_ip;		/* A record for any name */
	uint32_t ttl;
	bool up_garbage, up_wrong_id, up_servfail;
};

static void lab_setup(struct lab *l, bool with_upstream)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct dnsguard_conf c = { 0 };
	struct hostport listen = { 0 };
	char err[256];

	memset(l, 0, sizeof(*l));
	l->f = fixture_new();
	l->ttl = 300;
	l->answer_ip = "203.0.113.10";
	l->up = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l->up, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(l->up, (struct sockaddr *)&sin, &sl);
	l->uphp.addr.family = AF_INET;
	l->uphp.addr.len = 32;
	memcpy(l->uphp.addr.addr, &sin.sin_addr, 4);
	l->uphp.port = ntohs(sin.sin_port);
	if (!with_upstream) {
		close(l->up);
		l->up = -1;
	}
	listen.addr.family = AF_INET;
	listen.addr.len = 32;
	listen.addr.addr[0] = 127;
	listen.addr.addr[3] = 1;
	listen.port = 0;
	c.listen = &listen;
	c.n_listen = 1;
	c.upstream = &l->uphp;
	c.n_upstream = 1;
	c.timeout_ms = 200;
	c.kernel = &l->f->ops;
	c.hooks.log = h_log;
	c.hooks.alert = h_alert;
	c.hooks.arg = &l->f->h;
	l->g = dnsguard_new(l->f->m, &c, err, sizeof(err));
	if (!l->g)
		fail_msg("dnsguard_new: %s", err);
	assert_int_equal(dnsguard_listen_addr(l->g, 0, &l->gaddr), 0);
	l->cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(l->cli >= 0);
}

static void lab_teardown(struct lab *l)
{
	dnsguard_free(l->g);
	if (l->up >= 0)
		close(l->up);
	close(l->cli);
	fixture_free(l->f);
}

/* The fake upstream answers one query. */
static void upstream_serve(struct lab *l)
{
	uint8_t q[1500], out[1500];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	struct dns_msg m;
	ssize_t n = recvfrom(l->up, q, sizeof(q), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
	struct dns_addr a;
	int len;

	if (n <= 0)
		return;
	l->up_queries++;
	assert_int_equal(dns_parse(q, (size_t)n, &m), 0);
	if (l->up_garbage) {
		memset(out, 0xff, 40);
		sendto(l->up, out, 40, 0, (struct sockaddr *)&from, fl);
		dns_msg_free(&m);
		return;
	}
	if (m.qtype == DNS_T_A) {
		a = A(l->answer_ip, l->ttl);
		len = dns_build_answer(out, sizeof(out), q, &m, &a, 1, l->ttl);
	} else {
		len = dns_build_reply(out, sizeof(out), q, &m, DNS_R_NOERROR,
				      false);
	}
	assert_true(len > 0);
	if (l->up_servfail)
		out[3] = (uint8_t)((out[3] & 0xf0) | DNS_R_SERVFAIL);
	if (l->up_wrong_id)
		out[0] ^= 0x55;
	sendto(l->up, out, (size_t)len, 0, (struct sockaddr *)&from, fl);
	dns_msg_free(&m);
}

/* Runs guard and upstream until the client has a reply or time is up;
 * returns the reply's length, 0 when none came. */
static size_t pump(struct lab *l, int cli, uint8_t *reply, size_t cap,
		   int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p[3] = {
			{ dnsguard_fd(l->g), POLLIN, 0 },
			{ l->up, POLLIN, 0 },
			{ cli, POLLIN, 0 },
		};
		int to = dnsguard_timeout(l->g);
		long el;

		poll(p, 3, to < 20 ? to : 20);
		assert_int_equal(dnsguard_process(l->g), 0);
		if (l->up >= 0 && (p[1].revents & POLLIN))
			upstream_serve(l);
		if (p[2].revents & POLLIN) {
			ssize_t n = recv(cli, reply, cap, MSG_DONTWAIT);

			if (n > 0)
				return (size_t)n;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (t.tv_sec - t0.tv_sec) * 1000 +
		     (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (el > ms)
			return 0;
	}
}

static size_t ask(struct lab *l, const char *name, uint16_t qtype,
		  uint16_t id, uint8_t *reply, size_t cap)
{
	uint8_t q[512];
	struct dns_name n;
	int len;

	assert_int_equal(dns_name_from_text(name, &n), 0);
	len = dns_build_query(q, sizeof(q), id, &n, qtype, 1232);
	assert_true(len > 0);
	/* The wire keeps the caller's case (dns_name_from_text lowers). */
	for (size_t i = 0; name[i]; i++)
		if (name[i] != '.')
			q[DNS_HDR_LEN + 1 + i] = (uint8_t)name[i];
	assert_true(sendto(l->cli, q, (size_t)len, 0,
			   (struct sockaddr *)&l->gaddr,
			   sizeof(struct sockaddr_in)) == len);
	return pump(l, l->cli, reply, cap, 2000);
}

static int rcode_of(const uint8_t *r, size_t n)
{
	assert_true(n >= DNS_HDR_LEN);
	return dns_get16(r + 2) & DNS_F_RCODE;
}

/* The reply to query `id`: its rcode. */
static int rcode_for(const uint8_t *r, size_t n, uint16_t id)
{
	assert_true(n >= DNS_HDR_LEN);
	assert_int_equal(dns_get16(r), id);
	return rcode_of(r, n);
}

/* AAAA for a name whose sets no IPv6 flow uses: NOERROR with no
 * records, at once, nothing asked upstream; A goes up as usual. */
static void test_guard_nodata(void **state)
{
	struct lab l;
	uint8_t r[2048];
	struct dns_msg m;
	struct dnsguard_stats st;
	size_t n;

	(void)state;
	lab_setup(&l, true);
	n = ask(&l, "v4.example.jp", DNS_T_AAAA, 0x1111, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 0x1111), DNS_R_NOERROR);
	assert_int_equal(dns_parse(r, n, &m), 0);
	assert_int_equal(m.ancount, 0);
	assert_int_equal(m.qtype, DNS_T_AAAA);
	dns_msg_free(&m);
	assert_int_equal(l.up_queries, 0);
	n = ask(&l, "v4.example.jp", DNS_T_A, 0x2222, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 0x2222), DNS_R_NOERROR);
	assert_int_equal(l.up_queries, 1);
	/* A name in a dual-stack set too: its AAAA is looked up. */
	n = ask(&l, "update.example.jp", DNS_T_AAAA, 0x3333, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 0x3333), DNS_R_NOERROR);
	assert_int_equal(l.up_queries, 2);
	dnsguard_stats(l.g, &st);
	assert_int_equal(st.nodata, 1);
	lab_teardown(&l);
}

static void test_guard_answer(void **state)
{
	struct lab l;
	uint8_t r[2048];
	struct dns_msg m;
	struct dns_addr a[4];
	struct dnsguard_stats st;
	size_t n;

	(void)state;
	lab_setup(&l, true);
	n = ask(&l, "Update.Example.JP", DNS_T_A, 0x4242, r, sizeof(r));
	assert_true(n > 0);
	assert_int_equal(dns_parse(r, n, &m), 0);
	assert_int_equal(m.id, 0x4242);
	assert_int_equal(m.flags & DNS_F_RCODE, DNS_R_NOERROR);
	assert_int_equal(dns_chain_addrs(&m, a, 4), 1);
	/* The question as the client spelled it. */
	assert_memory_equal(r + DNS_HDR_LEN + 1, "Update", 6);
	dns_msg_free(&m);
	assert_int_equal(l.up_queries, 1);
	assert_int_equal(fk_timeout(&l.f->k, "fqdn-upd-v4", "203.0.113.10"),
			 310000);
	assert_int_equal(fk_timeout(&l.f->k, "fqdn-other-v4", "203.0.113.10"),
			 360000);

	/* From the cache: no upstream query, the elements re-armed. */
	n = ask(&l, "update.example.jp", DNS_T_A, 0x4343, r, sizeof(r));
	assert_true(n > 0);
	assert_int_equal(dns_get16(r), 0x4343);
	assert_int_equal(l.up_queries, 1);
	assert_int_equal(l.f->k.arms, 2);
	dnsguard_stats(l.g, &st);
	assert_int_equal(st.cache_hits, 1);
	assert_int_equal(st.answered, 2);

	/* A name no set allows: REFUSED, nothing asked upstream. */
	n = ask(&l, "example.org", DNS_T_A, 7, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 7), DNS_R_REFUSED);
	n = ask(&l, "cdn.example.jp", DNS_T_A, 7, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 7), DNS_R_REFUSED);
	n = ask(&l, "a.cdn.example.jp", DNS_T_ANY, 7, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 7), DNS_R_REFUSED);
	assert_int_equal(l.up_queries, 1);
	lab_teardown(&l);
}

static void test_guard_fail_closed(void **state)
{
	struct lab l;
	uint8_t r[2048];
	size_t n;

	(void)state;
	lab_setup(&l, true);
	l.f->k.fail = -ENOENT;
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 9, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 9), DNS_R_SERVFAIL);
	assert_int_equal(n, DNS_HDR_LEN + 18 + 4);	/* no answer in it */
	/* It was not cached either: the next try asks again. */
	l.f->k.fail = 0;
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 10, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 10), DNS_R_NOERROR);
	assert_int_equal(l.up_queries, 2);
	lab_teardown(&l);
}

/* Rebinding: the answer goes through unchanged, the address is not
 * added. */
static void test_guard_rebinding(void **state)
{
	struct lab l;
	uint8_t r[2048];
	struct dns_msg m;
	struct dns_addr a[2];
	size_t n;

	(void)state;
	lab_setup(&l, true);
	l.answer_ip = "10.1.2.3";
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 11, r, sizeof(r));
	assert_int_equal(dns_parse(r, n, &m), 0);
	assert_int_equal(m.id, 11);
	assert_int_equal(dns_chain_addrs(&m, a, 2), 1);
	assert_int_equal(a[0].addr[0], 10);
	dns_msg_free(&m);
	assert_int_equal(l.f->k.n, 0);
	lab_teardown(&l);
}

static void test_guard_upstream_bad(void **state)
{
	struct lab l;
	uint8_t r[2048];
	struct dnsguard_stats st;
	size_t n;

	(void)state;
	lab_setup(&l, true);
	/* A forged ID is ignored; the attempts time out; nothing learned,
	 * so SERVFAIL. */
	l.up_wrong_id = true;
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 12, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 12), DNS_R_SERVFAIL);
	assert_int_equal(l.up_queries, 2);
	assert_int_equal(l.f->k.n, 0);
	assert_int_equal(l.f->h.alerts[ALERT_FQDN_STALE], 1);
	/* Garbage and SERVFAIL count as failures too. */
	l.up_wrong_id = false;
	l.up_garbage = true;
	n = ask(&l, "b.cdn.example.jp", DNS_T_A, 13, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 13), DNS_R_SERVFAIL);
	l.up_garbage = false;
	l.up_servfail = true;
	n = ask(&l, "c.cdn.example.jp", DNS_T_A, 14, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 14), DNS_R_SERVFAIL);
	assert_int_equal(l.f->k.n, 0);
	dnsguard_stats(l.g, &st);
	assert_true(st.bad_replies >= 3);
	lab_teardown(&l);
}

/* The upstream goes away after one answer: the last good addresses are
 * served (TTL 30) and re-armed, and fqdn_stale is raised once. */
static void test_guard_stale(void **state)
{
	struct lab l;
	uint8_t r[2048];
	struct dns_msg m;
	struct dns_addr a[2];
	size_t n;

	(void)state;
	lab_setup(&l, true);
	l.ttl = 1;		/* not cached for long */
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 20, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 20), DNS_R_NOERROR);
	close(l.up);		/* ICMP port unreachable from now on */
	l.up = -1;
	usleep(1100000);
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 21, r, sizeof(r));
	assert_int_equal(dns_parse(r, n, &m), 0);
	assert_int_equal(m.id, 21);
	assert_int_equal(m.flags & DNS_F_RCODE, DNS_R_NOERROR);
	assert_int_equal(dns_chain_addrs(&m, a, 2), 1);
	assert_int_equal(a[0].ttl, FQDN_STALE_TTL);
	dns_msg_free(&m);
	assert_int_equal(l.f->h.alerts[ALERT_FQDN_STALE], 1);
	assert_int_equal(l.f->k.arms, 2);
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 22, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 22), DNS_R_NOERROR);
	assert_int_equal(l.f->h.alerts[ALERT_FQDN_STALE], 1);
	lab_teardown(&l);
}

static void test_guard_malformed(void **state)
{
	struct lab l;
	uint8_t r[2048], junk[64];
	struct dnsguard_stats st;
	size_t n;

	(void)state;
	lab_setup(&l, true);
	/* A header and garbage: FORMERR without a question. */
	memset(junk, 0xc0, sizeof(junk));
	junk[0] = 0x12;
	junk[1] = 0x34;
	junk[2] = 0x01;		/* a query, RD */
	junk[3] = 0;
	sendto(l.cli, junk, sizeof(junk), 0, (struct sockaddr *)&l.gaddr,
	       sizeof(struct sockaddr_in));
	n = pump(&l, l.cli, r, sizeof(r), 500);
	assert_int_equal(n, DNS_HDR_LEN);
	assert_int_equal(rcode_of(r, n), DNS_R_FORMERR);
	/* A response is never answered. */
	junk[2] = 0x81;
	sendto(l.cli, junk, sizeof(junk), 0, (struct sockaddr *)&l.gaddr,
	       sizeof(struct sockaddr_in));
	/* Too short to answer at all. */
	sendto(l.cli, junk, 5, 0, (struct sockaddr *)&l.gaddr,
	       sizeof(struct sockaddr_in));
	n = pump(&l, l.cli, r, sizeof(r), 300);
	assert_int_equal(n, 0);
	dnsguard_stats(l.g, &st);
	assert_int_equal(st.formerr, 1);
	assert_int_equal(l.up_queries, 0);
	lab_teardown(&l);
}

static void test_guard_tcp(void **state)
{
	struct lab l;
	uint8_t q[600], r[2048];
	struct dns_name name;
	int fd, len;
	size_t got = 0;

	(void)state;
	lab_setup(&l, true);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&l.gaddr,
				 sizeof(struct sockaddr_in)), 0);
	/* Two pipelined queries, one allowed, one refused. */
	assert_int_equal(dns_name_from_text("x.cdn.example.jp", &name), 0);
	len = dns_build_query(q + 2, 300, 0x0101, &name, DNS_T_A, 0);
	dns_put16(q, (uint16_t)len);
	assert_int_equal(dns_name_from_text("example.com", &name), 0);
	{
		int l2 = dns_build_query(q + 4 + len, 250, 0x0202, &name,
					 DNS_T_A, 0);

		dns_put16(q + 2 + len, (uint16_t)l2);
		len = 4 + len + l2;
	}
	assert_true(send(fd, q, (size_t)len, 0) == len);
	for (int i = 0; i < 200 && got < 2; i++) {
		size_t n = pump(&l, fd, r, sizeof(r), 20);
		size_t off = 0;

		while (off + 2 <= n) {
			size_t fl = dns_get16(r + off);

			assert_true(off + 2 + fl <= n);
			if (got == 0) {
				assert_int_equal(dns_get16(r + off + 2),
						 0x0101);
				assert_int_equal(rcode_of(r + off + 2, fl),
						 DNS_R_NOERROR);
			} else {
				assert_int_equal(dns_get16(r + off + 2),
						 0x0202);
				assert_int_equal(rcode_of(r + off + 2, fl),
						 DNS_R_REFUSED);
			}
			got++;
			off += 2 + fl;
		}
	}
	assert_int_equal(got, 2);
	close(fd);
	lab_teardown(&l);
}

/* Queries that arrive together: their answers share one transaction, and
 * one the kernel refuses gets SERVFAIL alone. */
static void test_guard_round(void **state)
{
	static const char *const names[] = {
		"a.cdn.example.jp", "update.example.jp", "b.cdn.example.jp",
	};
	struct dnsguard_stats st;
	uint8_t r[2048];
	struct lab l;
	unsigned int arms;
	int rc[3];
	size_t n;

	(void)state;
	lab_setup(&l, true);
	for (size_t i = 0; i < 3; i++) {
		n = ask(&l, names[i], DNS_T_A, (uint16_t)(100 + i), r,
			sizeof(r));
		assert_int_equal(rcode_for(r, n, (uint16_t)(100 + i)),
				 DNS_R_NOERROR);
	}
	for (int round = 0; round < 2; round++) {
		arms = l.f->k.arms;
		if (round)
			snprintf(l.f->k.fail_set, sizeof(l.f->k.fail_set),
				 "fqdn-other-v4");
		/* All three in the socket before the guard looks. */
		for (size_t i = 0; i < 3; i++) {
			uint8_t q[512];
			struct dns_name dn;
			int len;

			assert_int_equal(dns_name_from_text(names[i], &dn), 0);
			len = dns_build_query(q, sizeof(q),
					      (uint16_t)(200 + i), &dn,
					      DNS_T_A, 1232);
			assert_true(sendto(l.cli, q, (size_t)len, 0,
					   (struct sockaddr *)&l.gaddr,
					   sizeof(struct sockaddr_in)) == len);
		}
		rc[0] = rc[1] = rc[2] = -1;
		for (size_t i = 0; i < 3; i++) {
			uint16_t id;

			n = pump(&l, l.cli, r, sizeof(r), 2000);
			assert_true(n >= DNS_HDR_LEN);
			id = dns_get16(r);
			assert_true(id >= 200 && id < 203);
			rc[id - 200] = rcode_of(r, n);
		}
		assert_int_equal(rc[0], DNS_R_NOERROR);
		assert_int_equal(rc[1], round ? DNS_R_SERVFAIL
					      : DNS_R_NOERROR);
		assert_int_equal(rc[2], DNS_R_NOERROR);
		/* From the cache, in one transaction (then, refused, one
		 * each). */
		assert_int_equal(l.f->k.arms - arms, round ? 4 : 1);
	}
	dnsguard_stats(l.g, &st);
	assert_int_equal(st.cache_hits, 6);
	assert_int_equal(st.servfail, 1);
	assert_int_equal(l.up_queries, 3);
	lab_teardown(&l);
}

/* SIGHUP: new patterns take effect on the same sockets; a model whose
 * sets the kernel lacks is refused and the old one kept. */
static void test_guard_reload(void **state)
{
	static const char narrower[] =
		"version: 1\nsite: t\nzones:\n"
		"  up: { tier: external, interfaces: [e0], networks: "
		"[0.0.0.0/0] }\n"
		"fqdn_sets:\n  upd: { names: [update.example.jp] }\n"
		"gateway:\n  dns: { upstream: [\"127.0.0.1\"] }\n";
	static const char broken[] =
		"version: 1\nsite: t\nzones:\n"
		"  up: { tier: external, interfaces: [e0], networks: "
		"[0.0.0.0/0] }\n"
		"fqdn_sets:\n  missing: { names: [a.cdn.example.jp] }\n"
		"gateway:\n  dns: { upstream: [\"127.0.0.1\"] }\n";
	struct diags d = { 0 };
	struct model *m1, *m2;
	struct lab l;
	uint8_t r[2048];
	char err[256];
	size_t n;

	(void)state;
	m1 = model_load_buf("n.yaml", NULL, narrower, strlen(narrower), &d);
	m2 = model_load_buf("b.yaml", NULL, broken, strlen(broken), &d);
	assert_non_null(m1);
	assert_non_null(m2);
	lab_setup(&l, true);
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 30, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 30), DNS_R_NOERROR);
	assert_int_equal(dnsguard_reload(l.g, m2, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "fqdn-missing"));
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 31, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 31), DNS_R_NOERROR);
	assert_int_equal(dnsguard_reload(l.g, m1, err, sizeof(err)), 0);
	model_free(m1);
	model_free(m2);
	n = ask(&l, "a.cdn.example.jp", DNS_T_A, 32, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 32), DNS_R_REFUSED);
	n = ask(&l, "update.example.jp", DNS_T_A, 33, r, sizeof(r));
	assert_int_equal(rcode_for(r, n, 33), DNS_R_NOERROR);
	lab_teardown(&l);
	diags_free(&d);
}

/* Without the sets in the kernel, the guard does not start. */
static void test_guard_no_sets(void **state)
{
	static const char y[] =
		"version: 1\nsite: t\nzones:\n"
		"  up: { tier: external, interfaces: [e0], networks: "
		"[0.0.0.0/0] }\n"
		"fqdn_sets:\n  missing: { names: [a.example.jp] }\n"
		"gateway:\n  dns: { upstream: [\"127.0.0.1\"] }\n";
	struct fake_kernel k = { 0 };
	struct fqdn_kernel ops = { fk_arm, fk_list, fk_genid, &k };
	struct dnsguard_conf c = { .kernel = &ops };
	struct hostport listen = { 0 };
	struct diags d = { 0 };
	struct model *m = model_load_buf("t.yaml", NULL, y, strlen(y), &d);
	char err[256];

	(void)state;
	assert_non_null(m);
	listen.addr.family = AF_INET;
	listen.addr.len = 32;
	listen.addr.addr[0] = 127;
	listen.addr.addr[3] = 1;
	c.listen = &listen;
	c.n_listen = 1;
	assert_null(dnsguard_new(m, &c, err, sizeof(err)));
	assert_non_null(strstr(err, "fqdn-missing-v4"));
	model_free(m);
	diags_free(&d);
}

static void test_dnsmasq(void **state)
{
	struct fixture *f = fixture_new();
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(dnsmasq_print(f->m, "sanso", out), 0);
	fclose(out);
	/* One line per domain, naming every set that holds it: dnsmasq
	 * uses only one line for a name. */
	assert_non_null(strstr(buf, "\nnftset=/update.example.jp/4#inet#"
			       "sanso#fqdn-upd-v4,6#inet#sanso#fqdn-upd-v6,"
			       "4#inet#sanso#fqdn-other-v4,6#inet#sanso#"
			       "fqdn-other-v6\n"));
	/* dnsmasq 2.90 ignores a leading "*." there: the domain, and a
	 * word on what it admits. */
	assert_non_null(strstr(buf, "\nnftset=/cdn.example.jp/4#inet#"
			       "sanso#fqdn-upd-v4,6#inet#sanso#fqdn-upd-v6\n"));
	assert_non_null(strstr(buf, "dnsmasq admits cdn.example.jp itself"));
	assert_null(strstr(buf, "/*."));
	assert_non_null(strstr(buf, "\n#   no-resolv"));
	assert_non_null(strstr(buf, "\n#   server=127.0.0.1\n"));
	assert_non_null(strstr(buf, "\nstop-dns-rebind\n"));
	free(buf);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_clamp),
		cmocka_unit_test(test_address_filter),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_shared_address),
		cmocka_unit_test(test_fail_closed),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_gc),
		cmocka_unit_test(test_reconcile),
		cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_learn_batch),
		cmocka_unit_test(test_learn_batch_refused),
		cmocka_unit_test(test_guard_answer),
		cmocka_unit_test(test_guard_nodata),
		cmocka_unit_test(test_guard_fail_closed),
		cmocka_unit_test(test_guard_rebinding),
		cmocka_unit_test(test_guard_upstream_bad),
		cmocka_unit_test(test_guard_stale),
		cmocka_unit_test(test_guard_malformed),
		cmocka_unit_test(test_guard_tcp),
		cmocka_unit_test(test_guard_round),
		cmocka_unit_test(test_guard_reload),
		cmocka_unit_test(test_guard_no_sets),
		cmocka_unit_test(test_dnsmasq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
