// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The monitor's judgement (src/monitor.c) on events built here, with a
 * fake kernel behind struct monitor_ops; then the committed captures of
 * tests/replay/ through the real alert pipeline against their expected
 * JSON lines (SANSO_REPLAY_UPDATE=1 rewrites those; review the diff).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "alert.h"
#include "i18n.h"
#include "monitor.h"
#include "model.h"
#include "parse.h"
#include "policy.h"
#include "replay.h"

static const char zone_yaml[] =
	"version: 1\n"
	"site: test-city\n"
	"timezone: Asia/Tokyo\n"
	"schedules:\n"
	"  business:\n"
	"    days: [mon, tue, wed, thu, fri]\n"
	"    hours: [\"08:30-18:15\"]\n"
	"    holidays: [\"2026-11-23\"]\n"
	"  maint:\n"
	"    windows:\n"
	"      - { from: \"2026-12-05T22:00\", to: \"2026-12-06T02:00\" }\n"
	"zones:\n"
	"  mynumber: { tier: mynumber, interfaces: [ens4],\n"
	"              networks: [10.10.0.0/16, \"fd00:10::/48\"] }\n"
	"  lgwan: { tier: lgwan, interfaces: [ens5], networks: [10.20.0.0/16] }\n"
	"  inet: { tier: internet, interfaces: [ens6], networks: [10.30.0.0/16] }\n"
	"  dmz: { tier: dmz, interfaces: [ens7], networks: [10.40.0.0/24] }\n"
	"  upstream: { tier: external, interfaces: [ens3],\n"
	"              networks: [0.0.0.0/0, \"::/0\"] }\n"
	"hosts:\n"
	"  juki-db: { zone: mynumber, address: 10.10.1.5 }\n"
	"  renkei: { zone: lgwan, address: 10.20.6.10 }\n"
	"  lgwan-mail: { zone: lgwan, address: 10.20.5.25 }\n"
	"  mail-sanit: { zone: inet, address: 10.30.5.5, role: sanitizer }\n"
	"  vendor-noc: { zone: upstream, address: 203.0.113.10 }\n"
	"  wsus: { zone: dmz, address: 10.40.0.10, role: update-relay }\n"
	"fqdn_sets:\n"
	"  windows-update: { names: [\"*.windowsupdate.com\"] }\n"
	"flows:\n"
	"  - { name: mail-into-lgwan, from: mail-sanit, to: lgwan-mail,\n"
	"      services: [tcp/25] }\n"
	"  - { name: renkei-to-juki, from: renkei, to: juki-db,\n"
	"      services: [tcp/1521], alert_outside: business }\n"
	"  - name: vendor-maintenance\n"
	"    from: vendor-noc\n"
	"    to: juki-db\n"
	"    services: [tcp/22]\n"
	"    schedule: maint\n"
	"    log: true\n"
	"    waiver: { rule: T1, reason: r, ticket: t, approved_by: a,\n"
	"              expires: 2027-03-31 }\n"
	"  - { name: wsus-up, from: wsus, to: \"fqdn:windows-update\",\n"
	"      services: [tcp/443] }\n"
	"monitor:\n"
	"  dedup_seconds: 60\n";

#define MAX_ALERTS 64

struct fake {
	struct alert alerts[MAX_ALERTS];
	size_t n;
	time_t ticked;
	struct ct_event table[8];
	bool deleted[8];
	size_t n_table;
	int sweeps;
	int deployed_ret;
	char deployed[65];
	int live_ret;
	char live[65];
	int in_fqdn;		/* the kernel's answer: 1, 0, -errno */
	uint64_t fqdn_left_ms;	/* with 1 */
	int fqdn_asked;		/* elements read from the "kernel" */
	const char *foreign[4];	/* "SET ADDRESS" the sets hold unlearned */
	size_t n_foreign;
	int foreign_ret;
};

struct fx {
	struct diags d;
	struct model *m;
	struct policy *p;
	struct monitor *mon;
	struct fake fk;
};

static struct prefix A(const char *s)
{
	struct prefix p;

	if (addr_parse(s, &p))
		fail_msg("addr_parse(\"%s\")", s);
	return p;
}

/* Local wall time in Asia/Tokyo (UTC+9, no DST). */
static struct timespec jst(int y, int mo, int d, int h, int mi)
{
	struct timespec ts = { 0, 0 };

	ts.tv_sec = (time_t)days_from_civil(y, mo, d) * 86400 + h * 3600 +
		    mi * 60 - 9 * 3600;
	return ts;
}

static void emit_cb(void *ctx, const struct alert *a)
{
	struct fake *f = ctx;

	if (f->n < MAX_ALERTS)
		f->alerts[f->n++] = *a;
}

static void tick_cb(void *ctx, time_t now)
{
	((struct fake *)ctx)->ticked = now;
}

static int fake_sweep(void *ctx, monitor_match_fn match, void *arg)
{
	struct fake *f = ctx;
	int n = 0;

	f->sweeps++;
	for (size_t i = 0; i < f->n_table; i++)
		if (!f->deleted[i] && match(arg, &f->table[i])) {
			f->deleted[i] = true;
			n++;
		}
	return n;
}

static int fake_deployed(void *ctx, char *table, size_t n, char hex[65])
{
	struct fake *f = ctx;

	if (f->deployed_ret)
		return f->deployed_ret;
	snprintf(table, n, "sanso");
	memcpy(hex, f->deployed, 65);
	return 0;
}

static int fake_live(void *ctx, const char *table, char hex[65])
{
	struct fake *f = ctx;

	assert_string_equal(table, "sanso");
	if (f->live_ret)
		return f->live_ret;
	memcpy(hex, f->live, 65);
	return 0;
}

static int fake_fqdn_element(void *ctx, int set, const struct prefix *a,
			     uint64_t *left_ms)
{
	struct fake *f = ctx;

	(void)set;
	(void)a;
	f->fqdn_asked++;
	if (f->in_fqdn > 0)
		*left_ms = f->fqdn_left_ms;
	return f->in_fqdn;
}

static int fake_foreign(void *ctx, monitor_foreign_fn fn, void *arg)
{
	struct fake *f = ctx;

	for (size_t i = 0; i < f->n_foreign; i++) {
		char set[64];
		uint8_t a[16] = { 0 };
		const char *sp = strchr(f->foreign[i], ' ');
		int fam = strchr(sp, ':') ? AF_INET6 : AF_INET;
		int r;

		snprintf(set, sizeof(set), "%.*s", (int)(sp - f->foreign[i]),
			 f->foreign[i]);
		assert_int_equal(inet_pton(fam, sp + 1, a), 1);
		r = fn(arg, set, (uint8_t)fam, a);
		if (r)
			return r;
	}
	return f->foreign_ret;
}

static struct fx *fx_new(bool ops)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct monitor_setup ms;

	assert_non_null(x);
	x->m = model_load_buf("t.yaml", NULL, zone_yaml, strlen(zone_yaml),
			      &x->d);
	assert_non_null(x->m);
	if (x->d.errors)
		diags_print_text(&x->d, stderr);
	assert_int_equal(x->d.errors, 0);
	x->p = policy_build(x->m);
	assert_non_null(x->p);
	memset(&ms, 0, sizeof(ms));
	ms.policy = x->p;
	ms.emit = emit_cb;
	ms.tick = tick_cb;
	ms.ctx = &x->fk;
	ms.table = "sanso";
	if (ops) {
		ms.drift_interval = 60;
		ms.ops.ctx = &x->fk;
		ms.ops.ct_sweep = fake_sweep;
		ms.ops.deployed = fake_deployed;
		ms.ops.live_digest = fake_live;
		ms.ops.fqdn_element = fake_fqdn_element;
		ms.ops.fqdn_foreign = fake_foreign;
	}
	x->mon = monitor_new(&ms);
	assert_non_null(x->mon);
	return x;
}

static void fx_free(struct fx *x)
{
	monitor_free(x->mon);
	policy_free(x->p);
	model_free(x->m);
	diags_free(&x->d);
	free(x);
}

static struct ct_event ct(enum ct_kind kind, const char *src, const char *dst,
			  uint8_t proto, uint16_t dport, uint32_t id)
{
	struct ct_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.orig.src = A(src);
	ev.orig.dst = A(dst);
	ev.orig.proto = proto;
	ev.orig.has_ports = true;
	ev.orig.sport = 40000;
	ev.orig.dport = dport;
	ev.has_reply = true;
	ev.reply = ev.orig;
	ev.reply.src = ev.orig.dst;
	ev.reply.dst = ev.orig.src;
	ev.reply.sport = dport;
	ev.reply.dport = 40000;
	ev.id = id;
	return ev;
}

/* ---- conntrack ---- */

static void test_permitted_and_cross_zone(void **state)
{
	struct fx *x = fx_new(false);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	struct ct_event ev = ct(CT_NEW, "10.30.5.5", "10.20.5.25", IPPROTO_TCP,
				25, 1);
	struct monitor_stats st;
	struct prefix want;

	(void)state;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 0);

	ev = ct(CT_NEW, "10.30.5.5", "10.10.1.5", IPPROTO_TCP, 5432, 2);
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_CROSS_ZONE);
	assert_string_equal(x->fk.alerts[0].src_zone, "inet");
	assert_string_equal(x->fk.alerts[0].dst_zone, "mynumber");
	assert_int_equal(x->fk.alerts[0].dst_tier, TIER_MYNUMBER);
	assert_true(x->fk.alerts[0].has_addrs);
	want = A("10.10.1.5");
	assert_true(prefix_equal(&x->fk.alerts[0].dst, &want));
	assert_int_equal(x->fk.alerts[0].dport, 5432);
	assert_int_equal(x->fk.alerts[0].sport, 40000);
	assert_int_equal(x->fk.alerts[0].proto, IPPROTO_TCP);
	assert_string_equal(x->fk.alerts[0].flow, "");
	assert_true(x->fk.alerts[0].time.tv_sec == t.tv_sec);
	assert_non_null(strstr(x->fk.alerts[0].message, "no flow permits"));

	/* The same connection again, from a dump: reported once. */
	ev.kind = CT_DUMP;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 1);
	/* Gone, then a new one with the same tuple: reported again. */
	ev.kind = CT_DESTROY;
	monitor_ct_event(x->mon, &ev, &t);
	ev.kind = CT_NEW;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 2);

	/* An expected connection (a helper's): the related rule's. */
	ev = ct(CT_NEW, "10.30.5.5", "10.10.1.5", IPPROTO_TCP, 5433, 3);
	ev.status = CT_STATUS_EXPECTED;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 2);

	monitor_stats(x->mon, &st);
	assert_int_equal(st.ct_new, 4);
	assert_int_equal(st.ct_dump, 1);
	assert_int_equal(st.ct_destroy, 1);
	assert_int_equal(st.related, 1);
	assert_int_equal(st.alerts[ALERT_CROSS_ZONE], 2);
	fx_free(x);
}

/* monitor.language: the same event, the message in English or Japanese
 * and everything else alike. No locale is set here: the catalogue is read
 * directly (SANSO_LOCALEDIR, which make check-unit sets). */
static void test_alert_language(void **state)
{
	struct timespec t = jst(2026, 11, 24, 10, 0);
	struct ct_event ev = ct(CT_NEW, "10.30.5.5", "10.10.1.5", IPPROTO_TCP,
				5432, 2);
	struct alert en, ja;
	struct fx *x;

	(void)state;
	for (int lang = LANG_EN; lang <= LANG_JA; lang++) {
		x = fx_new(false);
		i18n_alert_lang_set((enum msg_lang)lang);
		monitor_ct_event(x->mon, &ev, &t);
		assert_int_equal(x->fk.n, 1);
		if (lang == LANG_EN)
			en = x->fk.alerts[0];
		else
			ja = x->fk.alerts[0];
		fx_free(x);
	}
	i18n_alert_lang_set(LANG_EN);
	assert_string_equal(en.message, "inet -> mynumber tcp/5432: no flow "
			    "permits it; the ruleset was bypassed or changed");
	assert_string_equal(ja.message, "inet -> mynumber tcp/5432: 許可する"
			    "フローがありません。ルールセットが迂回されたか変更"
			    "されました");
	assert_int_equal(en.type, ja.type);
	assert_string_equal(en.src_zone, ja.src_zone);
	assert_string_equal(en.dst_zone, ja.dst_zone);
	assert_int_equal(en.src_tier, ja.src_tier);
	assert_int_equal(en.dst_tier, ja.dst_tier);
	assert_string_equal(en.flow, ja.flow);
	assert_string_equal(en.rule, ja.rule);
	assert_true(prefix_equal(&en.src, &ja.src));
	assert_true(prefix_equal(&en.dst, &ja.dst));
	assert_int_equal(en.sport, ja.sport);
	assert_int_equal(en.dport, ja.dport);
	assert_int_equal(en.proto, ja.proto);
	assert_int_equal(en.count, ja.count);
	assert_true(en.time.tv_sec == ja.time.tv_sec);
}

static void test_dnat_and_local(void **state)
{
	struct fx *x = fx_new(false);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	struct ct_event ev;
	struct prefix gw = A("10.30.0.1");

	(void)state;
	/* To a public address, DNATed into mynumber: the reply's source
	 * is where it went. */
	ev = ct(CT_NEW, "10.30.5.5", "198.51.100.7", IPPROTO_TCP, 443, 4);
	ev.reply.src = A("10.10.1.5");
	ev.reply.sport = 8443;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 1);
	assert_string_equal(x->fk.alerts[0].dst_zone, "mynumber");
	assert_int_equal(x->fk.alerts[0].dport, 8443);
	assert_non_null(strstr(x->fk.alerts[0].message,
			       "DNAT from 198.51.100.7"));

	/* The gateway's own address, link-local, multicast: not judged. */
	monitor_local_addr(x->mon, &gw, true);
	ev = ct(CT_NEW, "10.30.0.1", "10.10.1.5", IPPROTO_TCP, 22, 5);
	monitor_ct_event(x->mon, &ev, &t);
	ev = ct(CT_NEW, "10.99.0.5", "10.30.0.1", IPPROTO_TCP, 22, 6);
	monitor_ct_event(x->mon, &ev, &t);
	ev = ct(CT_NEW, "fe80::1", "fd00:10::1", IPPROTO_UDP, 547, 7);
	monitor_ct_event(x->mon, &ev, &t);
	ev = ct(CT_NEW, "10.30.5.5", "224.0.0.251", IPPROTO_UDP, 5353, 8);
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 1);
	/* Once the address is gone it is an ordinary one again. */
	monitor_local_addr(x->mon, &gw, false);
	ev = ct(CT_NEW, "10.30.0.1", "10.10.1.5", IPPROTO_TCP, 22, 9);
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 2);
	fx_free(x);
}

static void test_off_hours(void **state)
{
	struct fx *x = fx_new(false);
	struct ct_event ev = ct(CT_NEW, "10.20.6.10", "10.10.1.5", IPPROTO_TCP,
				1521, 10);
	struct timespec t;

	(void)state;
	t = jst(2026, 11, 24, 10, 0);		/* Tuesday, open */
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 0);
	t = jst(2026, 11, 24, 18, 15);		/* just closed */
	ev.id = 11;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_OFF_HOURS);
	assert_string_equal(x->fk.alerts[0].flow, "renkei-to-juki");
	assert_non_null(strstr(x->fk.alerts[0].message, "\"business\""));
	t = jst(2026, 11, 28, 11, 0);		/* Saturday */
	ev.id = 12;
	monitor_ct_event(x->mon, &ev, &t);
	t = jst(2026, 11, 23, 11, 0);		/* a Monday, a holiday */
	ev.id = 13;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 3);

	/* A connection found at start is judged at its own start time. */
	t = jst(2026, 11, 28, 11, 0);
	ev.kind = CT_DUMP;
	ev.id = 14;
	ev.start_ns = (uint64_t)jst(2026, 11, 27, 9, 0).tv_sec * 1000000000u;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 3);
	fx_free(x);
}

static void test_schedule_closed(void **state)
{
	struct fx *x = fx_new(false);
	struct ct_event ev = ct(CT_NEW, "203.0.113.10", "10.10.1.5",
				IPPROTO_TCP, 22, 20);
	struct timespec t;

	(void)state;
	t = jst(2026, 12, 5, 23, 0);		/* inside the window */
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 0);
	t = jst(2026, 12, 6, 2, 0);		/* it has ended */
	ev.id = 21;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_CROSS_ZONE);
	assert_string_equal(x->fk.alerts[0].src_zone, "upstream");
	assert_non_null(strstr(x->fk.alerts[0].message,
			       "only inside schedule \"maint\""));
	fx_free(x);
}

static void test_fqdn(void **state)
{
	struct fx *x = fx_new(true);
	struct fx *r = fx_new(false);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	struct ct_event ev = ct(CT_NEW, "10.40.0.10", "93.184.216.34",
				IPPROTO_TCP, 443, 30);

	(void)state;
	/* Live: the kernel's set decides. */
	x->fk.in_fqdn = 1;
	x->fk.fqdn_left_ms = 1000;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 0);
	/* Its element expired: the kernel is asked again. */
	x->fk.in_fqdn = 0;
	t.tv_sec += 2;
	ev.id = 31;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 1);
	assert_null(strstr(x->fk.alerts[0].message, "could not be read"));
	/* A replay cannot know: it assumes the set held it. */
	monitor_ct_event(r->mon, &ev, &t);
	assert_int_equal(r->fk.n, 0);
	fx_free(x);
	fx_free(r);
}

static int64_t ms_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

/* Issue 12: several addresses armed within one second, each connected
 * at once. What the guard armed is judged permitted without reading the
 * set; an address it did not arm is settled by the kernel's element,
 * which is then believed for its time left; an element that cannot be
 * read is said, not called a bypass. */
static void test_fqdn_fresh(void **state)
{
	struct fx *x = fx_new(true);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	static const char *const addrs[] = { "93.184.216.34", "93.184.216.35",
					     "198.51.100.7", "203.0.113.55" };
	struct ct_event ev;
	struct prefix a;
	int set = model_fqdn_set(x->m, "windows-update");

	(void)state;
	assert_true(set >= 0);
	/* The kernel would say no: only the guard's word can permit. */
	x->fk.in_fqdn = 0;
	for (size_t i = 0; i < 4; i++) {
		a = A(addrs[i]);
		monitor_fqdn_armed(x->mon, set, &a, ms_of(&t) + 300000);
		t.tv_nsec = (long)(i + 1) * 100000000;
		ev = ct(CT_NEW, "10.40.0.10", addrs[i], IPPROTO_TCP, 443,
			100 + (uint32_t)i);
		monitor_ct_event(x->mon, &ev, &t);
	}
	assert_int_equal(x->fk.n, 0);
	assert_int_equal(x->fk.fqdn_asked, 0);

	/* Past its time the guard's word no longer holds: the kernel is
	 * asked, and says no. */
	t.tv_sec += 301;
	ev = ct(CT_NEW, "10.40.0.10", addrs[0], IPPROTO_TCP, 443, 110);
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.fqdn_asked, 1);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_CROSS_ZONE);
	assert_non_null(strstr(x->fk.alerts[0].message, "bypassed"));

	/* Not armed by this guard (resolve, another guard): the kernel's
	 * element settles it, and is believed for its time left. */
	x->fk.in_fqdn = 1;
	x->fk.fqdn_left_ms = 30000;
	ev = ct(CT_NEW, "10.40.0.10", "203.0.113.77", IPPROTO_TCP, 443, 111);
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.fqdn_asked, 2);
	assert_int_equal(x->fk.n, 1);
	x->fk.in_fqdn = 0;
	t.tv_sec += 20;
	ev.id = 112;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.fqdn_asked, 2);
	assert_int_equal(x->fk.n, 1);

	/* The element cannot be read: said so, and not called a bypass. */
	x->fk.in_fqdn = -ENOBUFS;
	ev = ct(CT_NEW, "10.40.0.10", "203.0.113.78", IPPROTO_TCP, 443, 113);
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 2);
	assert_int_equal(x->fk.alerts[1].type, ALERT_CROSS_ZONE);
	assert_string_equal(x->fk.alerts[1].flow, "wsus-up");
	assert_non_null(strstr(x->fk.alerts[1].message,
			       "fqdn:windows-update, which could not be read"));
	assert_null(strstr(x->fk.alerts[1].message, "was bypassed or"));
	fx_free(x);
}

/* ---- nflog ---- */

static struct nflog_pkt drop(const char *prefix, const char *src,
			     const char *dst, uint16_t dport, uint32_t seq,
			     time_t when)
{
	struct nflog_pkt p;

	memset(&p, 0, sizeof(p));
	snprintf(p.prefix, sizeof(p.prefix), "%s", prefix);
	p.has_seq = true;
	p.seq = seq;
	p.has_time = true;
	p.time.tv_sec = when;
	p.has_ip = true;
	p.src = A(src);
	p.dst = A(dst);
	p.proto = IPPROTO_TCP;
	p.has_ports = true;
	p.sport = 50000;
	p.dport = dport;
	return p;
}

static void test_blocked(void **state)
{
	struct fx *x = fx_new(false);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	struct nflog_pkt p;

	(void)state;
	p = drop("sanso:mynumber>upstream", "10.10.1.5", "203.0.113.10", 443,
		 1, t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_BLOCKED);
	assert_string_equal(x->fk.alerts[0].src_zone, "mynumber");
	assert_string_equal(x->fk.alerts[0].dst_zone, "upstream");
	assert_int_equal(x->fk.alerts[0].dport, 443);
	assert_int_equal(x->fk.alerts[0].count, 1);

	/* More from the same source into the same zone: folded. */
	p = drop("sanso:mynumber>upstream", "10.10.1.5", "198.51.100.9", 80, 2,
		 t.tv_sec + 5);
	monitor_nflog(x->mon, &p, &t);
	p = drop("sanso:mynumber>upstream", "10.10.1.5", "198.51.100.9", 22, 3,
		 t.tv_sec + 6);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 1);
	/* Another source is its own. */
	p = drop("sanso:mynumber>upstream", "10.10.1.6", "203.0.113.10", 443,
		 4, t.tv_sec + 6);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 2);
	/* The window closes: one summary with the number folded. */
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 3);
	assert_int_equal(x->fk.alerts[2].count, 2);
	assert_int_equal(x->fk.alerts[2].dport, 22);
	assert_non_null(strstr(x->fk.alerts[2].message, "2 more dropped"));
	assert_true(x->fk.ticked == t.tv_sec);

	/* Unknown pair and the gateway's input: zones by address. */
	p = drop("sanso:*>*", "10.30.9.9", "10.40.0.10", 8530, 5, t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 4);
	assert_string_equal(x->fk.alerts[3].src_zone, "inet");
	assert_string_equal(x->fk.alerts[3].dst_zone, "dmz");
	p = drop("sanso:*>gateway", "10.30.9.9", "10.30.0.1", 22, 6, t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 5);
	assert_string_equal(x->fk.alerts[4].src_zone, "inet");
	assert_string_equal(x->fk.alerts[4].dst_zone, "");
	assert_non_null(strstr(x->fk.alerts[4].message, "gateway"));
	/* A new connection of a logged flow: a `logged` record naming the
	 * flow, not a violation; another program's prefix: nothing. */
	p = drop("sanso:flow:vendor-maintenance", "203.0.113.10", "10.10.1.5",
		 22, 7, t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 6);
	assert_int_equal(x->fk.alerts[5].type, ALERT_LOGGED);
	assert_string_equal(x->fk.alerts[5].flow, "vendor-maintenance");
	assert_string_equal(x->fk.alerts[5].dst_zone, "mynumber");
	p = drop("other", "203.0.113.10", "10.10.1.5", 22, 8, t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 6);
	fx_free(x);
}

/* The update relay to an address outside its set: the alert names the
 * flow and the set that would have permitted it (SPEC §7); a drop no
 * FQDN flow explains names none. */
static void test_blocked_fqdn(void **state)
{
	struct fx *x = fx_new(false);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	struct nflog_pkt p;

	(void)state;
	p = drop("sanso:dmz>upstream", "10.40.0.10", "198.51.100.99", 443, 1,
		 t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_BLOCKED);
	assert_string_equal(x->fk.alerts[0].flow, "wsus-up");
	assert_string_equal(x->fk.alerts[0].message,
			    "dmz -> upstream tcp/443: dropped; wsus-up allows "
			    "fqdn:windows-update; 198.51.100.99 is not in it");
	/* Port 80: the flow does not cover it, so nothing is named. */
	p = drop("sanso:dmz>upstream", "10.40.0.11", "198.51.100.99", 80, 2,
		 t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 2);
	assert_string_equal(x->fk.alerts[1].flow, "");
	assert_string_equal(x->fk.alerts[1].message,
			    "dmz -> upstream tcp/80: dropped");
	fx_free(x);
}

/* The input chain logs per source zone (sanso:ZONE>gateway): the zone
 * is the interface's, from the prefix, whatever the address says. */
static void test_blocked_input_zone(void **state)
{
	struct fx *x = fx_new(false);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	struct nflog_pkt p;

	(void)state;
	p = drop("sanso:mynumber>gateway", "10.30.9.9", "10.10.0.1", 22, 1,
		 t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_BLOCKED);
	assert_string_equal(x->fk.alerts[0].src_zone, "mynumber");
	assert_string_equal(x->fk.alerts[0].dst_zone, "");
	assert_non_null(strstr(x->fk.alerts[0].message,
			       "mynumber -> the gateway tcp/22"));
	/* The same source at the gateway through another zone's
	 * interface is a drop of its own. */
	p = drop("sanso:inet>gateway", "10.30.9.9", "10.10.0.1", 22, 2,
		 t.tv_sec + 1);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 2);
	assert_string_equal(x->fk.alerts[1].src_zone, "inet");
	fx_free(x);
}

static void test_nflog_gaps(void **state)
{
	struct fx *x = fx_new(false);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	struct nflog_pkt p;
	struct monitor_stats st;

	(void)state;
	p = drop("other", "10.10.1.5", "10.40.0.10", 443, 10, t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	p.seq = 11;
	monitor_nflog(x->mon, &p, &t);
	p.seq = 15;
	monitor_nflog(x->mon, &p, &t);
	p.seq = 3;			/* bound again: a new numbering */
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 0);
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_OVERRUN);
	assert_int_equal(x->fk.alerts[0].count, 3);
	monitor_stats(x->mon, &st);
	assert_int_equal(st.nflog_gaps, 3);
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 1);
	fx_free(x);
}

/* ---- the clock ---- */

static void test_maintenance_closed(void **state)
{
	struct fx *x = fx_new(true);
	struct timespec t;

	(void)state;
	strcpy(x->fk.deployed, "aa");
	strcpy(x->fk.live, "aa");
	x->fk.table[0] = ct(CT_DUMP, "203.0.113.10", "10.10.1.5", IPPROTO_TCP,
			    22, 40);
	x->fk.table[1] = ct(CT_DUMP, "10.30.5.5", "10.20.5.25", IPPROTO_TCP,
			    25, 41);
	x->fk.n_table = 2;
	t = jst(2026, 12, 5, 23, 0);
	monitor_tick(x->mon, &t);
	t.tv_sec++;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.sweeps, 0);
	t = jst(2026, 12, 6, 2, 0);
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.sweeps, 1);
	assert_true(x->fk.deleted[0]);
	assert_false(x->fk.deleted[1]);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_MAINTENANCE_CLOSED);
	assert_string_equal(x->fk.alerts[0].flow, "vendor-maintenance");
	assert_string_equal(x->fk.alerts[0].dst_zone, "mynumber");
	assert_non_null(strstr(x->fk.alerts[0].message, "1 connection "));
	/* Closed stays closed: nothing more. */
	t.tv_sec += 3600;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.sweeps, 1);
	assert_int_equal(x->fk.n, 1);
	fx_free(x);
}

/* A node of a pair (sanso(8), A REDUNDANT PAIR): the backup counts
 * connection alerts and emits none; its own kind still goes out. */
static void test_pair_backup(void **state)
{
	struct fx *x = fx_new(true);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	struct ct_event ev = ct(CT_NEW, "10.30.5.5", "10.10.1.5", IPPROTO_TCP,
				5432, 1);
	struct monitor_stats st;
	struct nflog_pkt p;

	(void)state;
	monitor_set_role(x->mon, MONITOR_BACKUP, &t);
	monitor_ct_event(x->mon, &ev, &t);
	p = drop("sanso:mynumber>upstream", "10.10.1.5", "203.0.113.10", 443,
		 1, t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	p = drop("sanso:flow:vendor-maintenance", "203.0.113.10", "10.10.1.5",
		 22, 2, t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	/* A window closing: the sweep runs, the alert is the master's. */
	x->fk.table[0] = ct(CT_DUMP, "203.0.113.10", "10.10.1.5", IPPROTO_TCP,
			    22, 40);
	x->fk.n_table = 1;
	strcpy(x->fk.deployed, "aa");
	strcpy(x->fk.live, "aa");
	t = jst(2026, 12, 5, 23, 0);
	monitor_tick(x->mon, &t);
	t = jst(2026, 12, 6, 2, 0);
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.sweeps, 1);
	assert_true(x->fk.deleted[0]);
	assert_int_equal(x->fk.n, 0);
	monitor_overrun(x->mon, &t, 1, "conntrack: test");
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_OVERRUN);
	monitor_stats(x->mon, &st);
	assert_int_equal(st.ha_quiet, 4);
	assert_int_equal(st.alerts[ALERT_CROSS_ZONE], 0);

	/* Unknown role (no role file): everything is reported again, and
	 * the connection suppressed as backup was not remembered. */
	monitor_set_role(x->mon, MONITOR_ALONE, NULL);
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 2);
	assert_int_equal(x->fk.alerts[1].type, ALERT_CROSS_ZONE);
	fx_free(x);
}

/* The new master: what conntrackd committed (started before the role
 * file said master) is the old master's; what starts after is its own,
 * also when first seen in a dump. */
static void test_pair_master(void **state)
{
	struct fx *x = fx_new(false);
	struct timespec since = jst(2026, 11, 24, 10, 0);
	struct timespec t = since;
	struct ct_event ev = ct(CT_NEW, "10.30.5.5", "10.10.1.5", IPPROTO_TCP,
				5432, 1);
	struct monitor_stats st;
	struct nflog_pkt p;

	(void)state;
	monitor_set_role(x->mon, MONITOR_MASTER, &since);
	t.tv_sec += 2;
	/* Committed: the kernel's start time 1 ms before the role file. */
	ev.start_ns = (uint64_t)since.tv_sec * 1000000000u - 1000000u;
	monitor_ct_event(x->mon, &ev, &t);
	ev.kind = CT_DUMP;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 0);
	/* Started 1 ms after: reported, once. */
	ev = ct(CT_DUMP, "10.30.5.5", "10.10.1.5", IPPROTO_TCP, 5433, 2);
	ev.start_ns = (uint64_t)since.tv_sec * 1000000000u + 1000000u;
	monitor_ct_event(x->mon, &ev, &t);
	ev.kind = CT_NEW;
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].dport, 5433);
	/* Drops carry no start: the master reports them all. */
	p = drop("sanso:mynumber>upstream", "10.10.1.5", "203.0.113.10", 443,
		 1, t.tv_sec);
	monitor_nflog(x->mon, &p, &t);
	assert_int_equal(x->fk.n, 2);
	monitor_stats(x->mon, &st);
	assert_int_equal(st.ha_carried, 2);
	assert_int_equal(st.ha_quiet, 0);
	fx_free(x);
}

static void test_drift(void **state)
{
	struct fx *x = fx_new(true);
	struct timespec t = jst(2026, 11, 24, 10, 0);

	(void)state;
	strcpy(x->fk.deployed, "aa");
	strcpy(x->fk.live, "aa");
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 0);
	strcpy(x->fk.live, "bb");
	t.tv_sec += 30;			/* not yet the interval */
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 0);
	t.tv_sec += 30;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_DRIFT);
	t.tv_sec += 60;			/* the same change: once */
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 1);
	strcpy(x->fk.live, "cc");	/* another change */
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 2);
	strcpy(x->fk.live, "aa");	/* put back, then changed again */
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	strcpy(x->fk.live, "cc");
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 3);
	x->fk.live_ret = -ENOENT;	/* the table was deleted */
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 4);
	assert_non_null(strstr(x->fk.alerts[3].message, "gone"));
	fx_free(x);

	/* Nothing deployed: the table as found at start is the baseline. */
	x = fx_new(true);
	x->fk.deployed_ret = -ENOENT;
	strcpy(x->fk.live, "aa");
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 0);
	strcpy(x->fk.live, "bb");
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 1);
	assert_non_null(strstr(x->fk.alerts[0].message, "found at start"));
	fx_free(x);

	/* The deployment cannot be read (an unprivileged monitor, a 0700
	 * state directory): said once, and the table found at start
	 * stands in, so a change is still drift. */
	x = fx_new(true);
	x->fk.deployed_ret = -EACCES;
	strcpy(x->fk.live, "aa");
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_CONFIG_ERROR);
	assert_non_null(strstr(x->fk.alerts[0].message,
			       "cannot read the deployment"));
	assert_non_null(strstr(x->fk.alerts[0].message, strerror(EACCES)));
	t.tv_sec += 60;			/* the same error: not again */
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 1);
	strcpy(x->fk.live, "bb");
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 2);
	assert_int_equal(x->fk.alerts[1].type, ALERT_DRIFT);
	assert_non_null(strstr(x->fk.alerts[1].message,
			       "the deployment cannot be read"));
	x->fk.deployed_ret = -EIO;	/* another error: said */
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 3);
	assert_int_equal(x->fk.alerts[2].type, ALERT_CONFIG_ERROR);
	x->fk.deployed_ret = 0;		/* readable again, then an apply */
	strcpy(x->fk.deployed, "bb");
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 3);
	strcpy(x->fk.deployed, "cc");
	strcpy(x->fk.live, "cc");
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 3);
	x->fk.deployed_ret = -EACCES;	/* unreadable anew: said anew, */
	t.tv_sec += 60;			/* and the last deployment read */
	monitor_tick(x->mon, &t);	/* is the reference */
	assert_int_equal(x->fk.n, 4);
	assert_int_equal(x->fk.alerts[3].type, ALERT_CONFIG_ERROR);
	assert_non_null(strstr(x->fk.alerts[3].message, "last read"));
	strcpy(x->fk.live, "dd");
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 5);
	assert_int_equal(x->fk.alerts[4].type, ALERT_DRIFT);
	assert_non_null(strstr(x->fk.alerts[4].message, "last read"));
	fx_free(x);
}

/* FQDN set elements nothing learned: one drift alert per (set, address)
 * listed at two checks in a row, again when it comes back (SECURITY
 * F22). */
static void test_drift_fqdn_elements(void **state)
{
	struct fx *x = fx_new(true);
	struct timespec t = jst(2026, 11, 24, 10, 0);

	(void)state;
	strcpy(x->fk.deployed, "aa");
	strcpy(x->fk.live, "aa");
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 0);
	x->fk.foreign[0] = "fqdn-upd-v4 203.0.113.9";
	x->fk.foreign[1] = "fqdn-upd-v6 2001:db8::99";
	x->fk.n_foreign = 2;
	t.tv_sec += 30;			/* not yet the interval */
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 0);
	t.tv_sec += 30;			/* listed once: not yet */
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 0);
	t.tv_sec += 60;			/* twice in a row: drift */
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 2);
	assert_int_equal(x->fk.alerts[0].type, ALERT_DRIFT);
	assert_string_equal(x->fk.alerts[0].message, "set fqdn-upd-v4 holds "
			    "203.0.113.9, which neither the DNS guard nor "
			    "sanso resolve learned");
	assert_int_equal(x->fk.alerts[1].type, ALERT_DRIFT);
	assert_non_null(strstr(x->fk.alerts[1].message,
			       "fqdn-upd-v6 holds 2001:db8::99,"));
	t.tv_sec += 60;			/* still there: not again */
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 2);
	/* The same address in another set is another element. */
	x->fk.foreign[2] = "fqdn-other-v4 203.0.113.9";
	x->fk.n_foreign = 3;
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 3);
	assert_non_null(strstr(x->fk.alerts[2].message,
			       "fqdn-other-v4 holds 203.0.113.9,"));
	/* A listing that fails forgets nothing. */
	x->fk.foreign_ret = -EIO;
	x->fk.n_foreign = 0;
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	x->fk.foreign_ret = 0;
	x->fk.n_foreign = 3;
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 3);
	/* Listed once only (what resolve armed a moment before it saved
	 * it): nothing. */
	x->fk.foreign[3] = "fqdn-upd-v4 203.0.113.50";
	x->fk.n_foreign = 4;
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	x->fk.n_foreign = 3;
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 3);
	/* Gone, then added again: reported again. */
	x->fk.n_foreign = 0;
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	x->fk.n_foreign = 1;
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 3);
	t.tv_sec += 60;
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 4);
	assert_non_null(strstr(x->fk.alerts[3].message,
			       "fqdn-upd-v4 holds 203.0.113.9,"));
	fx_free(x);
}

/* ---- netlink in, reload ---- */

static void test_feed(void **state)
{
	struct fx *x = fx_new(false);
	struct timespec t = jst(2026, 11, 24, 10, 0);
	char buf[8192];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct ifaddrmsg *ifa;
	struct nlattr *n, *ip, *pr;
	struct prefix s = A("10.30.0.1"), d = A("10.10.1.5");
	size_t len;
	int bits;

	(void)state;
	/* The gateway's address arrives over rtnetlink... */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_MULTI;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 16;
	mnl_attr_put(nlh, IFA_ADDRESS, 4, s.addr);
	mnl_attr_put(nlh, IFA_LOCAL, 4, s.addr);
	len = nlh->nlmsg_len;
	nlh = (struct nlmsghdr *)(buf + len);
	nlh->nlmsg_len = NLMSG_HDRLEN + 4;
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	memset(buf + len + NLMSG_HDRLEN, 0, 4);
	len += nlh->nlmsg_len;
	bits = monitor_feed(x->mon, NETLINK_ROUTE, buf, len, &t);
	assert_int_equal(bits, MONITOR_FEED_DONE);

	/* ...so its own connection into mynumber is no violation. */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, s.addr);
	mnl_attr_put(nlh, CTA_IP_V4_DST, 4, d.addr);
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(1234));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(22));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, n);
	bits = monitor_feed(x->mon, NETLINK_NETFILTER, buf, nlh->nlmsg_len, &t);
	assert_int_equal(bits, 0);
	assert_int_equal(x->fk.n, 0);

	/* Removed: now it is judged, and it is a violation. */
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW;
	{
		char rt[256];
		struct nlmsghdr *del = mnl_nlmsg_put_header(rt);

		del->nlmsg_type = RTM_DELADDR;
		ifa = mnl_nlmsg_put_extra_header(del, sizeof(*ifa));
		ifa->ifa_family = AF_INET;
		mnl_attr_put(del, IFA_LOCAL, 4, s.addr);
		monitor_feed(x->mon, NETLINK_ROUTE, rt, del->nlmsg_len, &t);
	}
	monitor_feed(x->mon, NETLINK_NETFILTER, buf, nlh->nlmsg_len, &t);
	assert_int_equal(x->fk.n, 1);

	/* A request from another program in a capture is skipped. */
	nlh->nlmsg_flags = NLM_F_REQUEST;
	monitor_feed(x->mon, NETLINK_NETFILTER, buf, nlh->nlmsg_len, &t);
	assert_int_equal(x->fk.n, 1);
	fx_free(x);
}

static void test_reload(void **state)
{
	struct fx *x = fx_new(false);
	struct timespec t = jst(2026, 12, 5, 23, 0);
	struct diags d = { 0 };
	struct model *m2;
	struct policy *p2;
	struct ct_event ev;
	const char *tail;
	char *y2;

	(void)state;
	/* Open the window under the first policy. */
	monitor_tick(x->mon, &t);
	/* The new file permits inet -> mynumber tcp/5432. */
	tail = "  - { name: extra, from: mail-sanit, to: juki-db,\n"
	       "      services: [tcp/5432] }\n";
	y2 = malloc(sizeof(zone_yaml) + strlen(tail));
	assert_non_null(y2);
	strcpy(y2, zone_yaml);
	strcpy(strstr(y2, "monitor:\n"), tail);
	strcat(y2, "monitor:\n  dedup_seconds: 60\n");
	m2 = model_load_buf("t2.yaml", NULL, y2, strlen(y2), &d);
	assert_non_null(m2);
	assert_int_equal(d.errors, 0);
	p2 = policy_build(m2);
	assert_non_null(p2);
	assert_int_equal(monitor_set_policy(x->mon, p2), 0);
	assert_ptr_equal(monitor_policy(x->mon), p2);
	policy_free(x->p);
	model_free(x->m);
	x->p = p2;
	x->m = m2;
	ev = ct(CT_NEW, "10.30.5.5", "10.10.1.5", IPPROTO_TCP, 5432, 50);
	monitor_ct_event(x->mon, &ev, &t);
	assert_int_equal(x->fk.n, 0);
	/* The window that was open before the reload closes after it. */
	t = jst(2026, 12, 6, 2, 0);
	monitor_tick(x->mon, &t);
	assert_int_equal(x->fk.n, 1);
	assert_int_equal(x->fk.alerts[0].type, ALERT_MAINTENANCE_CLOSED);
	assert_non_null(strstr(x->fk.alerts[0].message, "replay"));

	monitor_config_error(x->mon, &t, "bad");
	assert_int_equal(x->fk.alerts[1].type, ALERT_CONFIG_ERROR);
	monitor_overrun(x->mon, &t, 4, "lost");
	assert_int_equal(x->fk.alerts[2].type, ALERT_OVERRUN);
	assert_int_equal(x->fk.alerts[2].count, 4);
	diags_free(&d);
	free(y2);
	fx_free(x);
}

/* ---- the committed captures ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void emit_al(void *ctx, const struct alert *a)
{
	alerter_emit(ctx, a);
}

static void tick_al(void *ctx, time_t now)
{
	alerter_tick(ctx, now);
}

/* One capture: NAME.pcap judged under NAME.yaml must give NAME.jsonl. */
static void replay_one(const char *dir, const char *name)
{
	char path[512], tmp[] = "/tmp/sanso-replay.XXXXXX", out[600];
	struct diags d = { 0 };
	struct alerter_conf ac;
	struct monitor_setup ms;
	struct sink sink;
	struct alerter *al;
	struct monitor *mon;
	struct replay *r;
	struct policy *p;
	struct model *m;
	uint8_t key[AUDIT_KEY_LEN];
	char *got, *want;
	size_t gl, wl, i;
	int fd;

	assert_non_null(mkdtemp(tmp));
	/* A fixed chain key, so that "prev" is the same every run. */
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	snprintf(path, sizeof(path), "%s/audit.key", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, key, sizeof(key)), sizeof(key));
	close(fd);

	snprintf(path, sizeof(path), "%s/%s.yaml", dir, name);
	m = model_load(path, &d);
	assert_non_null(m);
	if (d.errors)
		diags_print_text(&d, stderr);
	assert_int_equal(d.errors, 0);
	p = policy_build(m);
	assert_non_null(p);

	snprintf(out, sizeof(out), "%s/alerts.jsonl", tmp);
	memset(&sink, 0, sizeof(sink));
	sink.kind = SINK_JSONL;
	sink.path = out;
	memset(&ac, 0, sizeof(ac));
	ac.site = m->site;
	ac.host = "gateway";
	ac.timezone = m->timezone;
	ac.sinks = &sink;
	ac.n_sinks = 1;
	ac.dedup_seconds = m->monitor.dedup_seconds;
	ac.state_dir = tmp;
	al = alerter_new(&ac);
	assert_non_null(al);

	memset(&ms, 0, sizeof(ms));
	ms.policy = p;
	ms.emit = emit_al;
	ms.tick = tick_al;
	ms.ctx = al;
	mon = monitor_new(&ms);
	assert_non_null(mon);
	snprintf(path, sizeof(path), "%s/%s.pcap", dir, name);
	r = replay_open(path);
	assert_non_null(r);
	assert_true(monitor_replay(mon, r) > 0);
	replay_close(r);
	alerter_free(al);
	monitor_free(mon);

	got = slurp(out, &gl);
	assert_non_null(got);
	/* The "suppressed" summary written at alerter_free() carries the
	 * wall clock's time, not the capture's: leave it out. */
	if (gl && got[gl - 1] == '\n') {
		char *last = got + gl - 1;

		while (last > got && last[-1] != '\n')
			last--;
		if (strstr(last, "\"type\":\"suppressed\"")) {
			*last = '\0';
			gl = (size_t)(last - got);
		}
	}
	snprintf(path, sizeof(path), "%s/%s.jsonl", dir, name);
	if (getenv("SANSO_REPLAY_UPDATE")) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fwrite(got, 1, gl, f);
		fclose(f);
		fprintf(stderr, "replay: wrote %s\n", path);
	}
	want = slurp(path, &wl);
	if (!want)
		fail_msg("%s missing (SANSO_REPLAY_UPDATE=1 makes it)", path);
	if (gl != wl || memcmp(got, want, gl)) {
		fprintf(stderr, "replay %s: got\n%s\nwanted\n%s\n", name, got,
			want);
		fail_msg("replay %s: alerts differ from %s", name, path);
	}
	free(got);
	free(want);
	unlink(out);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmp);
	assert_int_equal(system(path), 0);
	policy_free(p);
	model_free(m);
	diags_free(&d);
}

static void test_replay_captures(void **state)
{
	const char *dir = "tests/replay";
	struct dirent *de;
	DIR *dp;
	int n = 0;

	(void)state;
	dp = opendir(dir);
	if (!dp) {
		/* Run from the top of the tree, as `make check-unit` does. */
		skip();
		return;
	}
	while ((de = readdir(dp))) {
		size_t l = strlen(de->d_name);
		char name[256];

		if (l < 6 || l >= sizeof(name) ||
		    strcmp(de->d_name + l - 5, ".pcap"))
			continue;
		memcpy(name, de->d_name, l - 5);
		name[l - 5] = '\0';
		replay_one(dir, name);
		n++;
	}
	closedir(dp);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_permitted_and_cross_zone),
		cmocka_unit_test(test_alert_language),
		cmocka_unit_test(test_dnat_and_local),
		cmocka_unit_test(test_off_hours),
		cmocka_unit_test(test_schedule_closed),
		cmocka_unit_test(test_fqdn),
		cmocka_unit_test(test_fqdn_fresh),
		cmocka_unit_test(test_blocked),
		cmocka_unit_test(test_blocked_input_zone),
		cmocka_unit_test(test_blocked_fqdn),
		cmocka_unit_test(test_nflog_gaps),
		cmocka_unit_test(test_maintenance_closed),
		cmocka_unit_test(test_pair_backup),
		cmocka_unit_test(test_pair_master),
		cmocka_unit_test(test_drift),
		cmocka_unit_test(test_drift_fqdn_elements),
		cmocka_unit_test(test_feed),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_replay_captures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
