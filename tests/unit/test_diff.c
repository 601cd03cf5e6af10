// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The semantic diff: what counts as no change, and which changes open a
 * path into or out of mynumber (by address, service and schedule).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diff.h"
#include "model.h"
#include "parse.h"
#include "policy.h"

static const char base[] =
	"version: 1\n"
	"site: unit\n"
	"schedules:\n"
	"  win:\n"
	"    windows: [{ from: \"2026-12-05T22:00\", to: \"2026-12-06T02:00\" }]\n"
	"zones:\n"
	"  mynumber: { tier: mynumber, interfaces: [ens4], networks: [10.10.0.0/16] }\n"
	"  lgwan: { tier: lgwan, interfaces: [ens5], networks: [10.20.0.0/16] }\n"
	"  dmz: { tier: dmz, interfaces: [ens7], networks: [10.40.0.0/24] }\n"
	"  mgmt: { tier: mgmt, interfaces: [ens8], networks: [10.99.0.0/24] }\n"
	"  upstream: { tier: external, interfaces: [ens3], networks: [0.0.0.0/0] }\n"
	"hosts:\n"
	"  juki-db: { zone: mynumber, address: 10.10.1.5 }\n"
	"  renkei: { zone: lgwan, address: 10.20.6.10 }\n"
	"  wsus: { zone: dmz, address: 10.40.0.10, role: update-relay }\n"
	"  ntp: { zone: mgmt, address: 10.99.0.123 }\n"
	"  noc: { zone: upstream, address: 203.0.113.10 }\n"
	"flows:\n"
	"  - { name: a-web, from: renkei, to: juki-db, services: [tcp/80] }\n"
	"  - { name: a-tls, from: renkei, to: juki-db, services: [tcp/443] }\n"
	"  - { name: patches, from: mynumber, to: wsus, services: [tcp/8530] }\n"
	"  - { name: time, from: mynumber, to: ntp, services: [udp/123] }\n"
	"  - name: maint\n"
	"    from: noc\n"
	"    to: juki-db\n"
	"    services: [tcp/22]\n"
	"    schedule: win\n"
	"    log: true\n";

struct side {
	struct diags d;
	struct model *m;
	struct policy *p;
};

struct pair {
	struct side o, n;
	struct diff *diff;
};

/* `base` with each (from, to) replacement applied once. */
static char *edit(const char *const *subs)
{
	char *s = strdup(base);

	assert_non_null(s);
	for (; subs && subs[0]; subs += 2) {
		char *at = strstr(s, subs[0]);
		char *t;

		assert_non_null(at);
		assert_true(asprintf(&t, "%.*s%s%s", (int)(at - s), s, subs[1],
				     at + strlen(subs[0])) > 0);
		free(s);
		s = t;
	}
	return s;
}

static void side_load(struct side *sd, const char *name, const char *text)
{
	memset(sd, 0, sizeof(*sd));
	sd->m = model_load_buf(name, NULL, text, strlen(text), &sd->d);
	assert_non_null(sd->m);
	if (sd->d.errors)
		diags_print_text(&sd->d, stderr);
	assert_int_equal(sd->d.errors, 0);
	sd->p = policy_build(sd->m);
	assert_non_null(sd->p);
}

static void side_free(struct side *sd)
{
	policy_free(sd->p);
	model_free(sd->m);
	diags_free(&sd->d);
}

/* 2026-11-01 */
#define TODAY 20758

static void run(struct pair *p, const char *const *old_subs,
		const char *const *new_subs)
{
	char *a = edit(old_subs), *b = edit(new_subs);

	assert_int_equal(days_from_civil(2026, 11, 1), TODAY);
	side_load(&p->o, "old.yaml", a);
	side_load(&p->n, "new.yaml", b);
	assert_int_equal(diff_models(p->o.m, p->o.p, p->n.m, p->n.p, TODAY,
				     &p->diff), 0);
	free(a);
	free(b);
}

static void done(struct pair *p)
{
	diff_free(p->diff);
	side_free(&p->o);
	side_free(&p->n);
}

static void test_identical(void **state)
{
	struct pair p;

	(void)state;
	run(&p, NULL, NULL);
	assert_true(diff_empty(p.diff));
	assert_false(diff_opens_mynumber(p.diff));
	done(&p);
}

static void test_reordered(void **state)
{
	static const char *const subs[] = {
		"  - { name: a-web, from: renkei, to: juki-db, services: [tcp/80] }\n"
		"  - { name: a-tls, from: renkei, to: juki-db, services: [tcp/443] }\n",
		"  - { name: a-tls, from: [renkei], to: juki-db, services: [tcp/443, tcp/443] }\n"
		"  - { name: a-web, to: juki-db, from: renkei, services: [tcp/80] }\n",
		"networks: [0.0.0.0/0]", "networks: [ \"0.0.0.0/0\" ]",
		NULL
	};
	struct pair p;

	(void)state;
	run(&p, NULL, subs);
	assert_true(diff_empty(p.diff));
	done(&p);
}

static void test_widened_service(void **state)
{
	static const char *const subs[] = {
		"services: [tcp/80] }", "services: [tcp/80, tcp/8080] }", NULL
	};
	struct pair p;
	const struct diff_opening *o;
	const struct diff_field *f;

	(void)state;
	run(&p, NULL, subs);
	assert_true(diff_opens_mynumber(p.diff));
	assert_int_equal(p.diff->n_openings, 1);
	o = &p.diff->openings[0];
	assert_string_equal(o->flow, "a-web");
	assert_string_equal(o->service, "tcp/8080");
	assert_string_equal(o->from_zone, "lgwan");
	assert_string_equal(o->to_zone, "mynumber");
	assert_null(o->schedule);

	assert_int_equal(p.diff->n_changes, 1);
	assert_int_equal(p.diff->changes[0].obj, DIFF_FLOW);
	assert_int_equal(p.diff->changes[0].op, DIFF_CHANGED);
	assert_true(p.diff->changes[0].touches & (1u << 3));
	assert_true(p.diff->changes[0].touches & (1u << 8));
	f = &p.diff->changes[0].fields[0];
	assert_string_equal(f->name, "services");
	assert_int_equal(f->added.n, 1);
	assert_string_equal(f->added.v[0], "tcp/8080");
	assert_int_equal(f->removed.n, 0);

	assert_int_equal(p.diff->n_perms, 1);
	assert_int_equal(p.diff->perms[0].op, PERM_ADDED);
	assert_int_equal(p.diff->perms[0].from_tier, TIER_LGWAN);
	assert_int_equal(p.diff->perms[0].to_tier, TIER_MYNUMBER);
	done(&p);
}

/* Two flows merged into one under another name grant nothing new. */
static void test_merged_flows(void **state)
{
	static const char *const subs[] = {
		"  - { name: a-web, from: renkei, to: juki-db, services: [tcp/80] }\n"
		"  - { name: a-tls, from: renkei, to: juki-db, services: [tcp/443] }\n",
		"  - { name: a-all, from: renkei, to: juki-db, services: [tcp/80, tcp/443] }\n",
		NULL
	};
	struct pair p;

	(void)state;
	run(&p, NULL, subs);
	assert_false(diff_opens_mynumber(p.diff));
	assert_false(diff_empty(p.diff));
	done(&p);
}

/* A whole zone tiled by two halves is no wider than the halves. */
static void test_tiled_prefixes(void **state)
{
	static const char *const olds[] = {
		"to: wsus, services: [tcp/8530] }",
		"to: wsus, services: [tcp/8530] }\n"
		"  - { name: from-lo, from: mynumber/10.10.0.0/17, to: ntp, services: [tcp/22] }\n"
		"  - { name: from-hi, from: mynumber/10.10.128.0/17, to: ntp, services: [tcp/22] }",
		NULL
	};
	static const char *const news[] = {
		"to: wsus, services: [tcp/8530] }",
		"to: wsus, services: [tcp/8530] }\n"
		"  - { name: from-all, from: mynumber, to: ntp, services: [tcp/22] }",
		NULL
	};
	static const char *const wider[] = {
		"to: wsus, services: [tcp/8530] }",
		"to: wsus, services: [tcp/8530] }\n"
		"  - { name: from-all, from: mynumber, to: [ntp, mgmt/10.99.0.0/25], services: [tcp/22] }",
		NULL
	};
	struct pair p;

	(void)state;
	run(&p, olds, news);
	assert_false(diff_opens_mynumber(p.diff));
	done(&p);
	run(&p, olds, wider);
	assert_true(diff_opens_mynumber(p.diff));
	for (size_t i = 0; i < p.diff->n_openings; i++)
		assert_non_null(strstr(p.diff->openings[i].to,
				       "10.99.0.0/25"));
	done(&p);
}

static void test_schedule_spans(void **state)
{
	static const char *const shorter[] = {
		"to: \"2026-12-06T02:00\"", "to: \"2026-12-06T01:00\"", NULL
	};
	static const char *const longer[] = {
		"to: \"2026-12-06T02:00\"", "to: \"2026-12-06T03:00\"", NULL
	};
	static const char *const always[] = {
		"    schedule: win\n", "", NULL
	};
	struct pair p;

	(void)state;
	run(&p, NULL, shorter);
	assert_false(diff_opens_mynumber(p.diff));
	assert_int_equal(p.diff->n_perms, 1);
	assert_int_equal(p.diff->perms[0].op, PERM_NARROWED);
	done(&p);
	run(&p, NULL, longer);
	assert_true(diff_opens_mynumber(p.diff));
	assert_string_equal(p.diff->openings[0].flow, "maint");
	assert_string_equal(p.diff->openings[0].schedule, "win");
	done(&p);
	run(&p, NULL, always);
	assert_true(diff_opens_mynumber(p.diff));
	assert_int_equal(p.diff->perms[0].op, PERM_WIDENED);
	done(&p);
}

/* A new hop out of a host mynumber reaches, excused by a waiver, is a
 * new T8 path all the same. */
static void test_t8_waived(void **state)
{
	static const char *const subs[] = {
		"    log: true\n",
		"    log: true\n"
		"  - name: ntp-out\n"
		"    from: ntp\n"
		"    to: noc\n"
		"    services: [udp/123]\n"
		"    waiver: { rule: T8, reason: r, ticket: t, approved_by: a,"
		" expires: 2027-01-31 }\n",
		NULL
	};
	struct pair p;

	(void)state;
	run(&p, NULL, subs);
	assert_true(diff_opens_mynumber(p.diff));
	assert_int_equal(p.diff->n_openings, 0);
	assert_int_equal(p.diff->t8_added.n, 1);
	assert_non_null(strstr(p.diff->t8_added.v[0], "ntp -> noc"));
	done(&p);
}

static void test_renamed(void **state)
{
	static const char *const subs[] = {
		"name: patches,", "name: mynumber-patches,", NULL
	};
	struct pair p;

	(void)state;
	run(&p, NULL, subs);
	assert_int_equal(p.diff->n_changes, 1);
	assert_int_equal(p.diff->changes[0].op, DIFF_RENAMED);
	assert_string_equal(p.diff->changes[0].name, "mynumber-patches");
	assert_string_equal(p.diff->changes[0].old_name, "patches");
	assert_int_equal(p.diff->n_perms, 0);
	assert_false(diff_opens_mynumber(p.diff));
	done(&p);
}

/* A host moved into mynumber: flows to its new zone reach it. */
static void test_host_moved(void **state)
{
	static const char *const subs[] = {
		"ntp: { zone: mgmt, address: 10.99.0.123 }",
		"ntp: { zone: mynumber, address: 10.10.0.123 }",
		NULL
	};
	struct pair p;
	const struct diff_change *c = NULL;

	(void)state;
	run(&p, NULL, subs);
	for (size_t i = 0; i < p.diff->n_changes; i++)
		if (p.diff->changes[i].obj == DIFF_HOST)
			c = &p.diff->changes[i];
	assert_non_null(c);
	assert_int_equal(c->op, DIFF_MOVED);
	assert_string_equal(c->fields[0].name, "zone");
	assert_string_equal(c->fields[0].old.v[0], "mgmt");
	assert_string_equal(c->fields[0].new.v[0], "mynumber");
	/* time: mynumber -> ntp is now inside one zone; nothing opens. */
	assert_false(diff_opens_mynumber(p.diff));
	done(&p);
}

/* A zone that becomes mynumber: the flows that reached it now reach
 * mynumber, though they permit nothing new. */
static void test_retiered(void **state)
{
	static const char *const subs[] = {
		"mgmt: { tier: mgmt,", "mgmt: { tier: mynumber,", NULL
	};
	struct pair p;
	const struct diff_change *c = NULL;

	(void)state;
	run(&p, NULL, subs);
	for (size_t i = 0; i < p.diff->n_changes; i++)
		if (p.diff->changes[i].obj == DIFF_ZONE)
			c = &p.diff->changes[i];
	assert_non_null(c);
	assert_int_equal(c->op, DIFF_RETIERED);
	assert_true(diff_opens_mynumber(p.diff));
	assert_string_equal(p.diff->openings[0].flow, "time");
	done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_reordered),
		cmocka_unit_test(test_widened_service),
		cmocka_unit_test(test_merged_flows),
		cmocka_unit_test(test_tiled_prefixes),
		cmocka_unit_test(test_schedule_spans),
		cmocka_unit_test(test_t8_waived),
		cmocka_unit_test(test_renamed),
		cmocka_unit_test(test_host_moved),
		cmocka_unit_test(test_retiered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
