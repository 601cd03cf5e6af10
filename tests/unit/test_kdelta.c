// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The change in place (src/kdelta.c) without a kernel: two zone files are
 * compiled into full batches, their canonical texts (kbatch_table_canon)
 * stand for the live table and the wanted one, and the delta's messages
 * are read back. What apply relies on:
 *   - the same table gives an empty batch;
 *   - a port changed is one element out and one in, nothing else;
 *   - every removal comes before every addition (a chain is flushed
 *     before it goes, a set is unused before it goes);
 *   - a flow removed takes its chain's rules and its set away;
 *   - a base chain's own line changed is refused (-ENOTSUP: whole);
 *   - a damaged element line is refused, not guessed.
 * The lab's test_incremental.sh checks the kernel's side.
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
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "check.h"
#include "diag.h"
#include "kdelta.h"
#include "kernel.h"
#include "kernel_dump.h"
#include "model.h"
#include "nft_netlink.h"
#include "policy.h"
#include "ruleset.h"

#define AT	((time_t)1780272000)	/* 2026-06-01 */

static const char base_yaml[] =
	"version: 1\n"
	"site: t\n"
	"zones:\n"
	"  lgwan: { tier: lgwan, interfaces: [ens5], networks: [10.20.0.0/16] }\n"
	"  dmz: { tier: dmz, interfaces: [ens7], networks: [10.40.0.0/24] }\n"
	"hosts:\n"
	"  wsus: { zone: dmz, address: 10.40.0.10, role: update-relay }\n"
	"  web: { zone: dmz, address: 10.40.0.20 }\n"
	"flows:\n"
	"  - name: patches\n"
	"    from: lgwan\n"
	"    to: wsus\n"
	"    services: [tcp/8530]\n"
	"  - name: portal\n"
	"    from: lgwan\n"
	"    to: web\n"
	"    services: [tcp/443]\n";

struct side {
	struct model *m;
	struct diags d;
	struct policy *p;
	struct ruleset *rs;
	struct kbatch *b;
	struct nftnl_set_list *sent;
	char *canon;
	size_t len;
};

static void side_build(struct side *s, const char *yaml)
{
	memset(s, 0, sizeof(*s));
	s->m = model_load_buf("t.yaml", NULL, yaml, strlen(yaml), &s->d);
	assert_non_null(s->m);
	check_model(s->m, (int32_t)(AT / 86400), &s->d);
	if (s->d.errors)
		diags_print_text(&s->d, stderr);
	assert_int_equal(s->d.errors, 0);
	s->p = policy_build(s->m);
	assert_non_null(s->p);
	s->rs = ruleset_build(s->p, "sanso", AT);
	assert_non_null(s->rs);
	s->b = kbatch_new();
	s->sent = nftnl_set_list_alloc();
	assert_non_null(s->b);
	assert_non_null(s->sent);
	assert_int_equal(ruleset_to_batch_sent(s->rs, s->b, s->sent), 0);
	assert_int_equal(kbatch_table_canon(s->b, NFPROTO_INET, "sanso",
					    s->sent, &s->canon, &s->len), 0);
}

static void side_free(struct side *s)
{
	free(s->canon);
	nftnl_set_list_free(s->sent);
	kbatch_free(s->b);
	ruleset_free(s->rs);
	policy_free(s->p);
	model_free(s->m);
	diags_free(&s->d);
}

/* The yaml with its first `from` replaced by `to`. */
static char *edited(const char *from, const char *to)
{
	const char *at = strstr(base_yaml, from);
	char *out;

	assert_non_null(at);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - base_yaml),
			     base_yaml, to, at + strlen(from)) > 0);
	return out;
}

struct counts {
	size_t n[NFT_MSG_MAX];
	size_t last_del, first_new;	/* positions, 1-based; 0 none */
	size_t table_msgs;
};

static bool is_del(uint16_t t)
{
	return t == NFT_MSG_DELRULE || t == NFT_MSG_DELCHAIN ||
	       t == NFT_MSG_DELSET || t == NFT_MSG_DELSETELEM;
}

static void count(const struct kbatch *b, struct counts *c)
{
	const struct nlmsghdr *nlh;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; (nlh = kbatch_msg(b, i)); i++) {
		uint16_t t = NFNL_MSG_TYPE(nlh->nlmsg_type);

		assert_true(t < NFT_MSG_MAX);
		c->n[t]++;
		if (t == NFT_MSG_NEWTABLE || t == NFT_MSG_DELTABLE)
			c->table_msgs++;
		if (is_del(t))
			c->last_del = i + 1;
		else if (!c->first_new)
			c->first_new = i + 1;
	}
}

static struct kbatch *delta_of(const struct side *live,
			       const struct side *want,
			       struct kdelta_stats *st)
{
	struct kbatch *d = NULL;

	assert_int_equal(kdelta_build(live->canon, live->len, want->canon,
				      want->len, want->b, NFPROTO_INET, "sanso",
				      &d, st), 0);
	assert_non_null(d);
	return d;
}

static void test_same_is_empty(void **state)
{
	struct side a;
	struct kdelta_stats st;
	struct kbatch *d;

	(void)state;
	side_build(&a, base_yaml);
	d = delta_of(&a, &a, &st);
	assert_int_equal(kbatch_count(d), 0);
	kbatch_free(d);
	side_free(&a);
}

static void test_port_is_one_element(void **state)
{
	char *yaml = edited("tcp/443", "tcp/8443");
	struct side a, b;
	struct kdelta_stats st;
	struct counts c;
	struct kbatch *d;

	(void)state;
	side_build(&a, base_yaml);
	side_build(&b, yaml);
	d = delta_of(&a, &b, &st);
	count(d, &c);
	assert_int_equal(st.elems_added, 1);
	assert_int_equal(st.elems_removed, 1);
	assert_int_equal(c.n[NFT_MSG_DELSETELEM], 1);
	assert_int_equal(c.n[NFT_MSG_NEWSETELEM], 1);
	assert_int_equal(kbatch_count(d), 2);
	assert_int_equal(c.table_msgs, 0);
	assert_true(c.last_del < c.first_new);
	kbatch_free(d);
	/* And back: the same two, the other way round. */
	d = delta_of(&b, &a, &st);
	assert_int_equal(st.elems_added, 1);
	assert_int_equal(st.elems_removed, 1);
	kbatch_free(d);
	side_free(&a);
	side_free(&b);
	free(yaml);
}

static void test_flow_removed(void **state)
{
	char *yaml = edited("  - name: portal\n    from: lgwan\n    to: web\n"
			    "    services: [tcp/443]\n", "");
	struct side a, b;
	struct kdelta_stats st;
	struct counts c;
	struct kbatch *d;

	(void)state;
	side_build(&a, base_yaml);
	side_build(&b, yaml);
	d = delta_of(&a, &b, &st);
	count(d, &c);
	assert_true(kbatch_count(d) > 0);
	assert_int_equal(c.table_msgs, 0);
	/* Something of the flow went: rules flushed or elements taken. */
	assert_true(c.n[NFT_MSG_DELRULE] + c.n[NFT_MSG_DELSETELEM] +
		    c.n[NFT_MSG_DELSET] > 0);
	/* Every removal before the first addition. */
	if (c.first_new)
		assert_true(c.last_del < c.first_new);
	kbatch_free(d);
	/* Added again: the reverse adds and removes nothing it needs. */
	d = delta_of(&b, &a, &st);
	count(d, &c);
	assert_true(kbatch_count(d) > 0);
	assert_int_equal(c.n[NFT_MSG_DELSET] + c.n[NFT_MSG_DELCHAIN], 0);
	kbatch_free(d);
	side_free(&a);
	side_free(&b);
	free(yaml);
}

static void test_base_chain_refused(void **state)
{
	static const char live[] = "table 1 sanso\n"
		"chain forward type filter hook 2 prio 0 policy 0\n";
	static const char want[] = "table 1 sanso\n"
		"chain forward type filter hook 2 prio 0 policy 1\n";
	struct kbatch *full = kbatch_new(), *d = NULL;
	struct kdelta_stats st;

	(void)state;
	assert_int_equal(kdelta_build(live, strlen(live), want, strlen(want),
				      full, NFPROTO_INET, "sanso", &d, &st),
			 -ENOTSUP);
	assert_null(d);
	kbatch_free(full);
}

static void test_damaged_element_refused(void **state)
{
	static const char live[] = "table 1 sanso\n"
		"set s flags 0 key 7/4\n"
		"elem s 0a00zz01\n";
	static const char want[] = "table 1 sanso\n"
		"set s flags 0 key 7/4\n"
		"elem s 0a000002\n";
	static const char cut[] = "table 1 sanso\n"
		"set s flags 0 key 7/4\n"
		"elem s 0a000003";
	static const char split[] = "table 1 sanso\n"
		"set s flags 0 key 7/4\nset t flags 0 key 7/4\n"
		"elem s 01\nelem t 02\nelem s 03\n";
	struct kbatch *full = kbatch_new(), *d = NULL;
	struct kdelta_stats st;

	(void)state;
	assert_int_equal(kdelta_build(live, strlen(live), want, strlen(want),
				      full, NFPROTO_INET, "sanso", &d, &st),
			 -EPROTO);
	assert_null(d);
	assert_int_equal(kdelta_build(want, strlen(want), cut, strlen(cut),
				      full, NFPROTO_INET, "sanso", &d, &st),
			 -EPROTO);
	assert_null(d);
	/* Elements of one set not together: not a canonical text. */
	assert_int_equal(kdelta_build(split, strlen(split), want, strlen(want),
				      full, NFPROTO_INET, "sanso", &d, &st),
			 -EPROTO);
	kbatch_free(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_is_empty),
		cmocka_unit_test(test_port_is_one_element),
		cmocka_unit_test(test_flow_removed),
		cmocka_unit_test(test_base_chain_refused),
		cmocka_unit_test(test_damaged_element_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
