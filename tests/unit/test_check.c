// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "model.h"
#include "parse.h"

/* Every test model shares these zones and hosts; a test adds its flows
 * (and whatever else it needs) as more top-level keys. */
static const char base[] =
	"version: 1\n"
	"site: test\n"
	"zones:\n"
	"  mn:   { tier: mynumber, interfaces: [e1], networks: [10.10.0.0/16] }\n"
	"  lg:   { tier: lgwan, interfaces: [e2], networks: [10.20.0.0/16] }\n"
	"  inet: { tier: internet, interfaces: [e3], networks: [10.30.0.0/16] }\n"
	"  dmz:  { tier: dmz, interfaces: [e4], networks: [10.40.0.0/24] }\n"
	"  mgmt: { tier: mgmt, interfaces: [e5], networks: [10.99.0.0/24] }\n"
	"  up:   { tier: external, interfaces: [e0], networks: [0.0.0.0/0] }\n"
	"hosts:\n"
	"  juki:   { zone: mn, address: 10.10.1.5 }\n"
	"  renkei: { zone: lg, address: 10.20.6.10 }\n"
	"  lgmail: { zone: lg, address: 10.20.5.25 }\n"
	"  lgnet:  { zone: lg, address: 10.20.8.0/23 }\n"
	"  sanit:  { zone: inet, address: 10.30.5.5, role: sanitizer }\n"
	"  web:    { zone: inet, address: 10.30.5.6 }\n"
	"  wsus:   { zone: dmz, address: 10.40.0.10, role: update-relay }\n"
	"  plain:  { zone: dmz, address: 10.40.0.11 }\n"
	"  noc:    { zone: up, address: 203.0.113.10 }\n"
	"fqdn_sets:\n"
	"  wu: { names: [windowsupdate.microsoft.com] }\n";

static int32_t today(void)
{
	return days_from_civil(2026, 11, 1);
}

struct run {
	struct diags load, chk;
	struct model *m;
};

/* Loads base + extra; the loader must be silent, so that every finding
 * in r->chk is the validator's. */
static void run_yaml(struct run *r, const char *extra, const char *more)
{
	char *buf = NULL;

	memset(r, 0, sizeof(*r));
	assert_true(asprintf(&buf, "%s%s%s", base, extra,
			     more ? more : "") > 0);
	r->m = model_load_buf("t.yaml", NULL, buf, strlen(buf), &r->load);
	free(buf);
	assert_non_null(r->m);
	for (size_t i = 0; i < r->load.n; i++)
		print_message("loader: %s %s\n", r->load.v[i].code,
			      r->load.v[i].msg);
	assert_int_equal(r->load.n, 0);
	check_model(r->m, today(), &r->chk);
}

static void run_free(struct run *r)
{
	model_free(r->m);
	diags_free(&r->load);
	diags_free(&r->chk);
}

static size_t count(const struct diags *d, const char *code)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].code, code))
			n++;
	return n;
}

static const struct diag *find(const struct diags *d, const char *code)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].code, code))
			return &d->v[i];
	return NULL;
}

static void dump(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  %d:%d %s %s\n", d->v[i].loc.line,
			      d->v[i].loc.col, d->v[i].code, d->v[i].msg);
}

/* Expects exactly `n` findings with `code` (and dumps them if not). */
static void expect(const struct run *r, const char *code, size_t n)
{
	if (count(&r->chk, code) != n)
		dump(&r->chk);
	assert_int_equal(count(&r->chk, code), n);
}

static void expect_clean(const struct run *r)
{
	if (r->chk.n)
		dump(&r->chk);
	assert_int_equal(r->chk.n, 0);
	assert_int_equal(r->chk.errors, 0);
}

static void test_clean(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: patches, from: mn, to: wsus, services: [tcp/8530] }\n"
		 "  - { name: up, from: wsus, to: fqdn:wu, services: [tcp/80, tcp/443] }\n"
		 "  - { name: mail, from: sanit, to: lgmail, services: [tcp/25] }\n"
		 "  - { name: renkei, from: renkei, to: juki, services: [tcp/1521] }\n"
		 "gateway: { ssh_from: [mgmt] }\n", NULL);
	expect_clean(&r);
	run_free(&r);
}

static void test_t1(void **state)
{
	struct run r;
	const struct diag *g;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: a, from: juki, to: noc, services: [tcp/22] }\n"
		 "  - { name: b, from: web, to: juki, services: [tcp/22] }\n"
		 "  - { name: c, from: juki, to: fqdn:wu, services: [tcp/443] }\n",
		 NULL);
	expect(&r, "T1", 3);
	g = find(&r.chk, "T1");
	assert_string_equal(g->msg,
			    "flow \"a\": mn (mynumber) -> up (external) is forbidden");
	assert_string_equal(g->flow, "a");
	/* At the flow's name value. */
	assert_int_equal(g->loc.line, 23);
	assert_int_equal(g->loc.col, 13);
	run_free(&r);
}

static void test_t1_waiver(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - name: vendor\n"
		 "    from: noc\n"
		 "    to: juki\n"
		 "    services: [tcp/22]\n"
		 "    waiver: { rule: T1, reason: r, ticket: CHG-1, approved_by: x, expires: 2026-12-31 }\n"
		 "    schedule: win\n"
		 "    log: true\n"
		 "schedules:\n"
		 "  win: { windows: [{ from: \"2026-12-05T22:00\", to: \"2026-12-06T02:00\" }] }\n",
		 NULL);
	expect_clean(&r);
	run_free(&r);
}

static void test_t2(void **state)
{
	static const char flows[] =
		"flows:\n"
		"  - { name: a, from: lgmail, to: web, services: [tcp/25] }\n"
		"  - { name: b, from: sanit, to: lgmail, services: [tcp/25] }\n"
		"  - { name: c, from: renkei, to: fqdn:wu, services: [tcp/443] }\n"
		"  - { name: d, from: renkei, to: fqdn:wu, services: [tcp/80] }\n"
		"  - { name: e, from: renkei, to: noc, services: [tcp/443] }\n"
		"  - { name: f, from: [web, sanit], to: lg, services: [tcp/25] }\n";
	struct run r;

	(void)state;
	run_yaml(&r, flows, NULL);		/* alpha: a, c, d, e, f */
	expect(&r, "T2", 5);
	run_free(&r);

	run_yaml(&r, flows, "model: alpha-prime\n");	/* a, d, e, f */
	expect(&r, "T2", 4);
	for (size_t i = 0; i < r.chk.n; i++)
		assert_string_not_equal(r.chk.v[i].flow, "c");
	run_free(&r);

	run_yaml(&r, flows, "model: beta\n");
	expect(&r, "T2", 5);
	run_free(&r);

	/* external -> lgwan is T7's, not T2's. */
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: m, from: noc, to: renkei, services: [tcp/22], log: true, schedule: s }\n"
		 "schedules:\n"
		 "  s: { days: [mon], hours: [\"10:00-11:00\"] }\n", NULL);
	expect_clean(&r);
	run_free(&r);
}

static void test_t3(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: a, from: renkei, to: mn, services: [tcp/1521] }\n"
		 "  - { name: b, from: lg, to: juki, services: [tcp/1521] }\n"
		 "  - { name: c, from: renkei, to: juki, services: [tcp, icmp] }\n"
		 "  - { name: d, from: lg/10.20.6.0/24, to: juki, services: [tcp/1] }\n"
		 "  - { name: e, from: lg/10.20.0.0/16, to: juki, services: [tcp/1] }\n"
		 "  - { name: f, from: lgnet, to: juki, services: [tcp/1] }\n",
		 NULL);
	/* a is mynumber on the to side: renkei is a host, fine. b: whole
	 * zone. c: two unexplicit services. e: /16. f: a /23 "host". */
	expect(&r, "T3", 5);
	for (size_t i = 0; i < r.chk.n; i++) {
		assert_string_not_equal(r.chk.v[i].flow, "a");
		assert_string_not_equal(r.chk.v[i].flow, "d");
	}
	run_free(&r);
}

static void test_t4(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: a, from: sanit, to: lgmail, services: [any] }\n"
		 "  - { name: b, from: renkei, to: lgmail, services: [any] }\n",
		 NULL);
	expect(&r, "T4", 1);
	expect(&r, "W01", 1);
	assert_string_equal(find(&r.chk, "T4")->flow, "a");
	run_free(&r);
}

static void test_t5(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: ok, from: wsus, to: [fqdn:wu, noc], services: [tcp/80, tcp/443] }\n"
		 "  - { name: a, from: plain, to: fqdn:wu, services: [tcp/443] }\n"
		 "  - { name: b, from: wsus, to: up, services: [tcp/443] }\n"
		 "  - { name: c, from: wsus, to: fqdn:wu, services: [tcp/8080] }\n"
		 "  - { name: d, from: dmz, to: fqdn:wu, services: [tcp/443] }\n",
		 NULL);
	expect(&r, "T5", 4);
	run_free(&r);
}

static void test_t6(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: a, from: web, to: wsus, services: [tcp/443] }\n"
		 "  - { name: b, from: noc, to: wsus, services: [tcp/443] }\n"
		 "  - { name: c, from: wsus, to: renkei, services: [tcp/443] }\n"
		 "  - { name: d, from: wsus, to: juki, services: [tcp/443] }\n"
		 "  - { name: ok, from: renkei, to: wsus, services: [tcp/8530] }\n",
		 NULL);
	expect(&r, "T6", 4);
	run_free(&r);
}

static void test_t7(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: a, from: noc, to: lg, services: [tcp/22] }\n",
		 NULL);
	/* a whole zone, no schedule, no log */
	expect(&r, "T7", 3);
	run_free(&r);
}

/* Sanctioned: mynumber -> relay -> FQDN set. */
static void test_t8_sanctioned(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: p, from: mn, to: wsus, services: [tcp/8530] }\n"
		 "  - { name: u, from: [wsus, plain], to: fqdn:wu, services: [tcp/443] }\n",
		 NULL);
	/* plain is no relay: that is T5 on u, but the path through wsus is
	 * sanctioned because wsus covers the reached address. */
	expect(&r, "T8", 0);
	run_free(&r);

	/* Reaching the whole dmz zone: u still leaves from wsus only. */
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: p, from: juki, to: dmz/10.40.0.0/28, services: [tcp/8530] }\n"
		 "  - { name: u, from: wsus, to: fqdn:wu, services: [tcp/443] }\n",
		 NULL);
	expect(&r, "T8", 0);
	run_free(&r);
}

static const char t8_chain[] =
	"flows:\n"
	"  - { name: r2j, from: juki, to: renkei, services: [tcp/1521] }\n"
	"  - { name: r2l, from: renkei, to: lgmail, services: [tcp/25] }\n"
	"  - { name: l2s, from: lgmail, to: sanit, services: [tcp/25] }\n"
	"  - { name: s2u, from: sanit, to: up, services: [tcp/25] }\n";

static void test_t8_offending(void **state)
{
	struct run r;
	const struct diag *g;

	(void)state;
	run_yaml(&r, t8_chain, NULL);
	expect(&r, "T8", 1);
	g = find(&r.chk, "T8");
	/* From the internet host (sanit) the path goes one hop on, straight
	 * out, as SPEC's example path does. */
	assert_string_equal(g->msg, "flow \"r2j\": path juki -> renkei -> "
			    "lgmail -> sanit -> up leaves mynumber without "
			    "passing an update relay to an FQDN set");
	assert_string_equal(g->flow, "r2j");
	run_free(&r);

	/* An update relay that goes to a zone is not the sanctioned exit. */
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: p, from: juki, to: wsus, services: [tcp/8530] }\n"
		 "  - { name: u, from: wsus, to: noc, services: [tcp/443] }\n",
		 NULL);
	expect(&r, "T8", 1);
	run_free(&r);
}

static void test_t8_cycle(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: r2j, from: juki, to: renkei, services: [tcp/1521] }\n"
		 "  - { name: loop1, from: renkei, to: lgmail, services: [tcp/25] }\n"
		 "  - { name: loop2, from: lgmail, to: renkei, services: [tcp/25] }\n"
		 "  - { name: back, from: lgmail, to: juki, services: [tcp/1521] }\n"
		 "  - { name: out, from: lgmail, to: sanit, services: [tcp/25] }\n"
		 "  - { name: s2u, from: sanit, to: web, services: [tcp/25] }\n",
		 NULL);
	/* juki -> renkei -> lgmail -> sanit and one more hop to web. */
	expect(&r, "T8", 1);
	assert_non_null(strstr(find(&r.chk, "T8")->msg,
			       "juki -> renkei -> lgmail -> sanit"));
	run_free(&r);
}

static void test_t8_waiver(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - { name: r2j, from: juki, to: renkei, services: [tcp/1521] }\n"
		 "  - name: r2l\n"
		 "    from: renkei\n"
		 "    to: lgmail\n"
		 "    services: [tcp/25]\n"
		 "    waiver: { rule: T8, reason: r, ticket: t, approved_by: a, expires: 2027-06-30 }\n"
		 "  - { name: l2s, from: lgmail, to: sanit, services: [tcp/25] }\n",
		 NULL);
	expect(&r, "T8", 0);
	expect(&r, "W02", 0);
	expect(&r, "W01", 1);	/* r2l itself lies in lgwan */
	assert_int_equal(r.chk.errors, 0);
	run_free(&r);

	/* The same waiver on a flow that lies on no such path is W02. */
	run_yaml(&r, t8_chain,
		 "  - name: other\n"
		 "    from: renkei\n"
		 "    to: lgnet\n"
		 "    services: [tcp/25]\n"
		 "    waiver: { rule: T8, reason: r, ticket: t, approved_by: a, expires: 2027-06-30 }\n");
	expect(&r, "T8", 1);
	expect(&r, "W02", 1);
	run_free(&r);
}

/* A complete graph of lgwan hosts has more simple paths than the bound. */
static void test_t8_bound(void **state)
{
	const char *cut = strstr(base, "fqdn_sets:");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct diags load = { 0 }, chk = { .max = 1u << 22 };
	struct model *m;
	size_t warn = 0;
	int n = 10;

	(void)state;
	assert_non_null(f);
	/* The extra hosts go at the end of the base's hosts: block. */
	fprintf(f, "%.*s", (int)(cut - base), base);
	for (int i = 0; i < n; i++)
		fprintf(f, "  h%d: { zone: lg, address: 10.20.9.%d }\n", i,
			i + 1);
	fprintf(f, "%sflows:\n", cut);
	fputs("  - { name: in, from: juki, to: h0, services: [tcp/1] }\n", f);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++)
			if (i != j)
				fprintf(f, "  - { name: f%d-%d, from: h%d, "
					"to: h%d, services: [tcp/1] }\n",
					i, j, i, j);
		fprintf(f, "  - { name: o%d, from: h%d, to: sanit, "
			"services: [tcp/1] }\n", i, i);
	}
	assert_int_equal(fclose(f), 0);
	m = model_load_buf("t.yaml", NULL, buf, len, &load);
	assert_non_null(m);
	assert_int_equal(load.errors, 0);
	check_model(m, today(), &chk);
	for (size_t i = 0; i < chk.n; i++)
		if (chk.v[i].sev == DIAG_WARNING &&
		    !strcmp(chk.v[i].code, "T8"))
			warn++;
	assert_int_equal(warn, 1);
	assert_true(count(&chk, "T8") > 1000);
	model_free(m);
	diags_free(&load);
	diags_free(&chk);
	free(buf);
}

static void test_t9(void **state)
{
	struct run r;
	const struct diag *g;

	(void)state;
	run_yaml(&r,
		 "flows:\n"
		 "  - name: expired\n"
		 "    from: juki\n"
		 "    to: noc\n"
		 "    services: [tcp/22]\n"
		 "    waiver: { rule: T1, reason: r, ticket: t, approved_by: a, expires: 2026-10-31 }\n"
		 "  - name: soon\n"
		 "    from: juki\n"
		 "    to: noc\n"
		 "    services: [tcp/22]\n"
		 "    waiver: { rule: T1, reason: r, ticket: t, approved_by: a, expires: 2026-11-13 }\n"
		 "  - name: partial\n"
		 "    from: juki\n"
		 "    to: noc\n"
		 "    services: [tcp/22]\n"
		 "    waiver: { rule: T1, reason: \"\", expires: 2027-11-13 }\n"
		 "  - name: nine\n"
		 "    from: mgmt\n"
		 "    to: renkei\n"
		 "    services: [tcp/22]\n"
		 "    waiver: { rule: T9, reason: r, ticket: t, approved_by: a, expires: 2027-11-13 }\n"
		 "  - name: unneeded\n"
		 "    from: mgmt\n"
		 "    to: renkei\n"
		 "    services: [tcp/22]\n"
		 "    waiver: { rule: T2, reason: r, ticket: t, approved_by: a, expires: 2027-11-13 }\n",
		 NULL);
	/* expired: T1 stands + T9; soon: W03 only; partial: T1 stands and
	 * three fields missing; nine: cannot be waived; unneeded: W02. */
	expect(&r, "T1", 2);
	expect(&r, "T9", 5);
	expect(&r, "W03", 1);
	expect(&r, "W02", 1);
	g = find(&r.chk, "W03");
	assert_string_equal(g->msg, "waiver on flow \"soon\" expires in 12 days "
			    "(2026-11-13)");
	g = find(&r.chk, "T9");
	assert_string_equal(g->msg, "waiver on flow \"expired\" expired 1 day "
			    "ago (2026-10-31)");
	run_free(&r);
}

static void test_t10(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r, "gateway: { ssh_from: [mgmt, inet, renkei, mgmt/10.99.0.0/28] }\n",
		 NULL);
	expect(&r, "T10", 2);
	run_free(&r);
}

static void test_structure(void **state)
{
	static const char yaml[] =
		"version: 1\n"
		"site: s\n"
		"zones:\n"
		"  a: { tier: lgwan, interfaces: [e1], networks: [10.0.0.0/16] }\n"
		"  b: { tier: internet, interfaces: [e2, e1], networks: [10.0.1.0/24] }\n"
		"  c: { tier: lgwan, interfaces: [e3], networks: [10.0.2.0/24] }\n"
		"  d: { tier: external, interfaces: [e4], networks: [0.0.0.0/0] }\n"
		"  e: { tier: external, interfaces: [e5], networks: [0.0.0.0/0] }\n"
		"hosts:\n"
		"  h: { zone: c, address: 10.0.3.1 }\n"
		"flows:\n"
		"  - { name: f, from: c/10.0.0.0/24, to: h, services: [tcp/1] }\n";
	struct diags load = { 0 }, d = { 0 };
	struct model *m;

	(void)state;
	m = model_load_buf("s.yaml", NULL, yaml, strlen(yaml), &load);
	assert_non_null(m);
	assert_int_equal(load.n, 0);
	check_model(m, today(), &d);
	/* b overlaps a (different tiers); c overlaps a but both lgwan;
	 * e repeats d's prefix. */
	if (count(&d, "E005") != 2)
		dump(&d);
	assert_int_equal(count(&d, "E005"), 2);
	assert_int_equal(count(&d, "E006"), 1);
	assert_int_equal(count(&d, "E007"), 2);
	assert_int_equal(count(&d, "W01"), 1);
	/* File order: line 5 (E006 at col 40, E005 later), then 8, 10, 12. */
	assert_string_equal(d.v[0].code, "E006");
	assert_int_equal(d.v[0].loc.line, 5);
	assert_string_equal(d.v[1].code, "E005");
	assert_int_equal(d.v[2].loc.line, 8);
	assert_int_equal(d.v[3].loc.line, 10);
	assert_string_equal(d.v[4].code, "E007");
	assert_int_equal(d.v[4].loc.line, 12);
	model_free(m);
	diags_free(&load);
	diags_free(&d);
}

static void test_w04(void **state)
{
	struct run r;

	(void)state;
	run_yaml(&r,
		 "schedules:\n"
		 "  old: { windows: [{ from: \"2026-10-05T22:00\", to: \"2026-10-06T02:00\" }] }\n"
		 "  soon: { windows: [{ from: \"2026-10-05T22:00\", to: \"2026-10-06T02:00\" },\n"
		 "                    { from: \"2026-11-05T22:00\", to: \"2026-11-06T02:00\" }] }\n"
		 "flows:\n"
		 "  - { name: a, from: renkei, to: wsus, services: [tcp/8530], schedule: old }\n"
		 "  - { name: b, from: renkei, to: wsus, services: [tcp/8530], schedule: soon }\n"
		 "  - { name: c, from: renkei, to: wsus, services: [tcp/8530], alert_outside: old }\n",
		 NULL);
	expect(&r, "W04", 1);
	assert_string_equal(find(&r.chk, "W04")->flow, "a");
	run_free(&r);
}

/* A model as the loader leaves it after E004s: nothing may crash. */
static void test_partial(void **state)
{
	struct net nets[] = { { .p = { 0 } } };
	struct zone zones[] = {
		{ .name = (char *)"z", .tier = TIER_MYNUMBER, .nets = nets,
		  .n_nets = 1 },
	};
	struct host hosts[] = { { .name = (char *)"h", .zone = -1 } };
	struct endpoint from[] = {
		{ .kind = EP_HOST, .ref = 0, .zone = -1, .text = (char *)"h" },
		{ .kind = EP_ZONE, .ref = 0, .zone = 0, .text = (char *)"z" },
	};
	struct endpoint to[] = {
		{ .kind = EP_ZONE, .ref = -1, .zone = -1, .text = (char *)"q" },
		{ .kind = EP_FQDN, .ref = -1, .zone = -1, .text = (char *)"fqdn:x" },
		{ .kind = EP_CIDR, .ref = 0, .zone = 0, .text = (char *)"z/?" },
	};
	struct flow flows[] = {
		{ .name = (char *)"f", .from = from, .n_from = 2, .to = to,
		  .n_to = 3, .schedule = 5, .alert_outside = -1,
		  .waiver = { .present = true, .expires = -1 } },
	};
	struct model m = {
		.path = (char *)"p.yaml", .zones = zones, .n_zones = 1,
		.hosts = hosts, .n_hosts = 1, .flows = flows, .n_flows = 1,
		.gateway = { .ssh_from = to, .n_ssh_from = 3 },
	};
	struct diags d = { 0 };

	(void)state;
	check_model(&m, today(), &d);
	/* Only the waiver's five missing fields are left to say. */
	if (d.n != 5)
		dump(&d);
	assert_int_equal(count(&d, "T9"), 5);
	assert_int_equal(d.n, 5);
	diags_free(&d);
}

/* Every T code has a guideline point and a sentence; lookups are exact. */
static void test_code_table(void **state)
{
	const struct check_code *c;
	size_t n_t = 0;

	(void)state;
	for (c = check_codes; c->code; c++) {
		assert_ptr_equal(check_code_find(c->code), c);
		assert_non_null(c->what);
		if (c->code[0] == 'T') {
			assert_non_null(c->point);
			assert_non_null(c->intent);
			n_t++;
		}
	}
	assert_int_equal(n_t, 10);
	assert_null(check_code_find("t1"));
	assert_null(check_code_find("T"));
	assert_null(check_code_find("T11"));
	assert_null(check_code_find(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_table),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_t1),
		cmocka_unit_test(test_t1_waiver),
		cmocka_unit_test(test_t2),
		cmocka_unit_test(test_t3),
		cmocka_unit_test(test_t4),
		cmocka_unit_test(test_t5),
		cmocka_unit_test(test_t6),
		cmocka_unit_test(test_t7),
		cmocka_unit_test(test_t8_sanctioned),
		cmocka_unit_test(test_t8_offending),
		cmocka_unit_test(test_t8_cycle),
		cmocka_unit_test(test_t8_waiver),
		cmocka_unit_test(test_t8_bound),
		cmocka_unit_test(test_t9),
		cmocka_unit_test(test_t10),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_w04),
		cmocka_unit_test(test_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
