// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The netlink layer against the real kernel.  Every test runs in a network
 * namespace of its own, made here with unshare(CLONE_NEWNET), so the host's
 * ruleset is never touched; without root the tests skip and say so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/syscall.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/sched.h>

#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>

#include "kernel.h"

#define FAM	NFPROTO_INET
#define TBL	"t"

/* nftables' datatype numbers, which `nft list` needs to print keys. */
#define TYPE_IPADDR		7
#define TYPE_INET_SERVICE	13
#define TYPE_BITS		6

#define NFT_REG32_00	8	/* 32-bit registers, as nft uses them */
#define NFT_REG32_01	9

static bool have_nft;

/* ---- namespaces ---- */

static void enter_netns(void)
{
	if (geteuid() != 0) {
		print_message("skipped: needs root (nf_tables, netns)\n");
		skip();
	}
	/* syscall(): the project's include/sched.h hides <sched.h>. */
	if (syscall(SYS_unshare, CLONE_NEWNET) < 0) {
		print_message("skipped: unshare(CLONE_NEWNET): %s\n",
			      strerror(errno));
		skip();
	}
}

static char *sh(const char *cmd)
{
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	FILE *f;
	size_t n;

	assert_non_null(out);
	f = popen(cmd, "r");
	assert_non_null(f);
	while ((n = fread(out + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
	}
	out[len] = '\0';
	pclose(f);
	return out;
}

/* The listing without the time left on elements, which moves. */
static char *list_table(void)
{
	return sh("nft list table inet " TBL " 2>&1 | "
		  "sed -E 's/ expires [0-9a-z]+//g'");
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("\"%s\" not found in:\n%s", needle, hay);
}

/* ---- building libnftnl objects, as a generator would ---- */

static struct nftnl_table *mk_table(void)
{
	struct nftnl_table *t = nftnl_table_alloc();

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, FAM);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TBL);
	return t;
}

static struct nftnl_chain *mk_chain(const char *name, int hook, int policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, FAM);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, TBL);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	}
	return c;
}

static struct nftnl_set *mk_set(const char *name, uint32_t id,
				uint32_t keytype, uint32_t keylen,
				uint32_t flags)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAM);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, TBL);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, keytype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, keylen);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	return s;
}

static struct nftnl_set_elem *add_elem(struct nftnl_set *s, const void *key,
				       size_t len, const char *comment)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (comment) {
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(256);

		nftnl_udata_put_strz(u, NFTNL_UDATA_SET_ELEM_COMMENT, comment);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
				   nftnl_udata_buf_data(u),
				   nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	nftnl_set_elem_add(s, e);
	return e;
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static struct nftnl_rule *mk_rule(const char *chain, const char *comment)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, FAM);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TBL);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	if (comment) {
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(256);

		nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment);
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA,
				    nftnl_udata_buf_data(u),
				    nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	return r;
}

static void r_meta_cmp(struct nftnl_rule *r, uint32_t key, uint8_t val)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &val, 1);
	nftnl_rule_add_expr(r, e);
}

static void r_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
		      uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

static void r_lookup(struct nftnl_rule *r, const char *set, uint32_t sreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_rule_add_expr(r, e);
}

static void r_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
}

/* Each add function takes a copy: the objects are freed at once. */
static void put_chain(struct kbatch *b, struct nftnl_chain *c)
{
	assert_int_equal(kbatch_add_chain(b, c), 0);
	nftnl_chain_free(c);
}

static void put_rule(struct kbatch *b, struct nftnl_rule *r)
{
	assert_int_equal(kbatch_add_rule(b, r), 0);
	nftnl_rule_free(r);
}

static void put_set(struct kbatch *b, struct nftnl_set *s)
{
	assert_int_equal(kbatch_add_set(b, s), 0);
	assert_true(kbatch_add_elems(b, s) >= 0);
	nftnl_set_free(s);
}

/*
 * Version 1 of table inet t: a forward chain (policy drop) and a regular
 * chain, a set with timeouts, an interval set, two concatenated sets (one
 * of them with intervals), and rules that use each.
 */
static struct kbatch *batch_v1(void)
{
	struct kbatch *b = kbatch_new();
	struct nftnl_table *t = mk_table();
	struct nftnl_set_elem *e;
	struct nftnl_set *s;
	struct nftnl_rule *r;
	uint32_t k[2];
	uint8_t fields[] = { 4, 4 };

	assert_non_null(b);
	assert_int_equal(kbatch_replace_table(b, t), 0);
	nftnl_table_free(t);
	put_chain(b, mk_chain("fwd", NF_INET_FORWARD, NF_DROP));
	put_chain(b, mk_chain("sub", -1, 0));

	s = mk_set("allow4", 1, TYPE_IPADDR, 4, NFT_SET_TIMEOUT);
	k[0] = ip4("192.0.2.1");
	e = add_elem(s, k, 4, "flow:web");
	nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, 3600 * 1000);
	k[0] = ip4("192.0.2.2");
	e = add_elem(s, k, 4, "flow:mail");
	nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, 1800 * 1000);
	/* A carried-over element: its own timeout, but only 10 minutes
	 * left of it. */
	k[0] = ip4("192.0.2.3");
	e = add_elem(s, k, 4, "flow:dns");
	nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, 3600 * 1000);
	nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, 600 * 1000);
	put_set(b, s);

	s = mk_set("nets", 2, TYPE_IPADDR, 4, NFT_SET_INTERVAL);
	k[0] = ip4("10.0.0.0");
	add_elem(s, k, 4, NULL);
	k[0] = ip4("10.1.0.0");
	e = add_elem(s, k, 4, NULL);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
			       NFT_SET_ELEM_INTERVAL_END);
	put_set(b, s);

	s = mk_set("svc", 3, TYPE_IPADDR << TYPE_BITS | TYPE_INET_SERVICE,
		   8, 0);
	k[0] = ip4("198.51.100.7");
	k[1] = htons(443);
	add_elem(s, k, 8, "flow:https");
	put_set(b, s);

	s = mk_set("pairs", 4, TYPE_IPADDR << TYPE_BITS | TYPE_IPADDR, 8,
		   NFT_SET_INTERVAL | NFT_SET_CONCAT);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	k[0] = ip4("10.0.0.0");
	k[1] = ip4("10.1.0.0");
	e = add_elem(s, k, 8, "flow:pair");
	k[0] = ip4("10.0.255.255");
	k[1] = ip4("10.1.255.255");
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, k, 8);
	put_set(b, s);

	r = mk_rule("fwd", "flow:web");
	r_meta_cmp(r, NFT_META_NFPROTO, NFPROTO_IPV4);
	r_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	r_lookup(r, "allow4", NFT_REG_1);
	r_verdict(r, NF_ACCEPT, NULL);
	put_rule(b, r);

	r = mk_rule("fwd", "flow:https");
	r_meta_cmp(r, NFT_META_NFPROTO, NFPROTO_IPV4);
	r_meta_cmp(r, NFT_META_L4PROTO, IPPROTO_TCP);
	r_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00);
	r_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
	r_lookup(r, "svc", NFT_REG32_00);
	r_verdict(r, NF_ACCEPT, NULL);
	put_rule(b, r);

	r = mk_rule("fwd", "flow:pair");
	r_meta_cmp(r, NFT_META_NFPROTO, NFPROTO_IPV4);
	r_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00);
	r_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_01);
	r_lookup(r, "pairs", NFT_REG32_00);
	r_verdict(r, NF_ACCEPT, NULL);
	put_rule(b, r);

	r = mk_rule("fwd", NULL);
	r_meta_cmp(r, NFT_META_NFPROTO, NFPROTO_IPV4);
	r_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	r_lookup(r, "nets", NFT_REG_1);
	r_verdict(r, NFT_JUMP, "sub");
	put_rule(b, r);

	r = mk_rule("sub", "flow:sub");
	r_verdict(r, NF_ACCEPT, NULL);
	put_rule(b, r);
	return b;
}

/* Version 2: one different chain, one rule; replaces all of v1. */
static struct kbatch *batch_v2(void)
{
	struct kbatch *b = kbatch_new();
	struct nftnl_table *t = mk_table();
	struct nftnl_rule *r;

	assert_non_null(b);
	assert_int_equal(kbatch_replace_table(b, t), 0);
	nftnl_table_free(t);
	put_chain(b, mk_chain("in2", NF_INET_LOCAL_IN, NF_ACCEPT));
	r = mk_rule("in2", "flow:v2");
	r_verdict(r, NF_ACCEPT, NULL);
	put_rule(b, r);
	return b;
}

static void commit_ok(struct kbatch *b, bool dry_run)
{
	char err[512];
	int ret = kbatch_commit(b, dry_run, err, sizeof(err));

	if (ret)
		fail_msg("kbatch_commit: %d: %s", ret, err);
}

static void load_v1(void)
{
	struct kbatch *b = batch_v1();

	commit_ok(b, false);
	kbatch_free(b);
}

static uint32_t genid(void)
{
	uint32_t g = 0;

	assert_int_equal(kernel_ruleset_genid(&g), 0);
	return g;
}

/* ---- tests ---- */

static void test_args(void **state)
{
	struct kbatch *b = kbatch_new();
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_rule *r = nftnl_rule_alloc();
	char err[64] = "x";

	(void)state;
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "x");
	assert_int_equal(kbatch_add_chain(b, c), -EINVAL);
	assert_int_equal(kbatch_add_rule(b, r), -EINVAL);
	assert_int_equal(kbatch_add_table(b, NULL), -EINVAL);
	assert_int_equal(kbatch_count(b), 0);
	assert_int_equal(kbatch_size(b), 0);
	/* An empty batch needs no kernel. */
	assert_int_equal(kbatch_commit(b, false, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	nftnl_chain_free(c);
	nftnl_rule_free(r);
	kbatch_free(b);
	kbatch_free(NULL);
}

static void test_create_and_list(void **state)
{
	char *out;

	(void)state;
	enter_netns();
	assert_int_equal(kernel_table_exists(FAM, TBL), 0);
	load_v1();
	assert_int_equal(kernel_table_exists(FAM, TBL), 1);
	assert_int_equal(kernel_table_exists(NFPROTO_IPV4, TBL), 0);
	if (!have_nft)
		return;
	out = list_table();
	assert_contains(out, "chain fwd {");
	assert_contains(out, "type filter hook forward priority filter; "
			"policy drop;");
	assert_contains(out, "ip saddr @allow4 accept comment \"flow:web\"");
	assert_contains(out, "ip saddr . tcp dport @svc accept");
	assert_contains(out, "ip saddr . ip daddr @pairs accept");
	assert_contains(out, "ip daddr @nets jump sub");
	assert_contains(out, "flags interval");
	assert_contains(out, "10.0.0.0/16");
	assert_contains(out, "198.51.100.7 . 443");
	assert_contains(out, "10.0.0.0/16 . 10.1.0.0/16");
	assert_contains(out, "192.0.2.1 timeout 1h comment");
	assert_contains(out, "comment \"flow:web\"");
	free(out);
}

struct seen {
	int n;
	uint64_t timeout[8], expires[8];
	uint32_t key[8];
};

static int count_elem(struct nftnl_set_elem *e, void *arg)
{
	struct seen *s = arg;
	uint32_t len;
	const uint32_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

	if (s->n >= 8)
		return -E2BIG;
	s->key[s->n] = len == 4 ? *k : 0;
	s->timeout[s->n] = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	s->expires[s->n] = nftnl_set_elem_get_u64(e,
						  NFTNL_SET_ELEM_EXPIRATION);
	s->n++;
	return 0;
}

static int stop_at_first(struct nftnl_set_elem *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 42;
}

static void test_elements_dump(void **state)
{
	struct seen s = { 0 };
	int i, calls = 0, carried = 0;

	(void)state;
	enter_netns();
	load_v1();
	assert_int_equal(kernel_list_set_elements(FAM, TBL, "allow4",
						  count_elem, &s), 0);
	assert_int_equal(s.n, 3);
	for (i = 0; i < s.n; i++) {
		assert_true(s.timeout[i] == 3600 * 1000 ||
			    s.timeout[i] == 1800 * 1000);
		assert_true(s.expires[i] > 0);
		assert_true(s.expires[i] <= s.timeout[i]);
		if (s.key[i] == ip4("192.0.2.3")) {
			/* The expiration given at add time is kept. */
			assert_true(s.expires[i] <= 600 * 1000);
			assert_true(s.expires[i] > 590 * 1000);
			carried = 1;
		} else {
			assert_true(s.expires[i] > s.timeout[i] - 60 * 1000);
		}
	}
	assert_true(carried);

	assert_int_equal(kernel_list_set_elements(FAM, TBL, "allow4",
						  stop_at_first, &calls), 42);
	assert_int_equal(calls, 1);
	assert_int_equal(kernel_list_set_elements(FAM, TBL, "nope",
						  count_elem, &s), -ENOENT);
	assert_int_equal(kernel_list_set_elements(FAM, "nope", "allow4",
						  count_elem, &s), -ENOENT);
}

static void test_atomic_replace(void **state)
{
	struct kbatch *b;
	uint32_t g;
	char *out;

	(void)state;
	enter_netns();
	load_v1();
	g = genid();
	b = batch_v2();
	assert_int_equal(kbatch_count(b), 5);
	commit_ok(b, false);
	kbatch_free(b);
	/* One batch, one generation. */
	assert_int_equal(genid(), g + 1);
	if (!have_nft)
		return;
	out = list_table();
	assert_contains(out, "chain in2 {");
	assert_contains(out, "accept comment \"flow:v2\"");
	assert_null(strstr(out, "fwd"));
	assert_null(strstr(out, "allow4"));
	free(out);
}

/* v2 whose last message is a rule that jumps to a missing chain. */
static struct kbatch *batch_bad_jump(void)
{
	struct kbatch *b = batch_v2();
	struct nftnl_rule *r = mk_rule("in2", "flow:broken");

	r_meta_cmp(r, NFT_META_NFPROTO, NFPROTO_IPV4);
	r_verdict(r, NFT_JUMP, "nonexistent");
	put_rule(b, r);
	return b;
}

static void test_failure_keeps_old(void **state)
{
	struct kbatch *b;
	char err[512], *before = NULL, *after;
	uint32_t g;
	int ret;

	(void)state;
	enter_netns();
	load_v1();
	if (have_nft)
		before = list_table();
	g = genid();

	b = batch_bad_jump();
	ret = kbatch_commit(b, false, err, sizeof(err));
	assert_int_equal(ret, -ENOENT);
	assert_contains(err, "message 6/6 (add rule inet t in2 "
			"\"flow:broken\", expression 3 (immediate)): ");
	assert_contains(err, strerror(ENOENT));
	kbatch_free(b);

	assert_int_equal(genid(), g);
	assert_int_equal(kernel_table_exists(FAM, TBL), 1);
	if (!have_nft)
		return;
	after = list_table();
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* fwd jumps to a, a to b, b back to a: only a commit's validation of the
 * whole table finds the loop. */
static struct kbatch *batch_loop(void)
{
	struct kbatch *b = batch_v2();
	struct nftnl_rule *r;

	put_chain(b, mk_chain("a", -1, 0));
	put_chain(b, mk_chain("b", -1, 0));
	r = mk_rule("a", NULL);
	r_verdict(r, NFT_JUMP, "b");
	put_rule(b, r);
	r = mk_rule("b", "flow:loop");
	r_verdict(r, NFT_JUMP, "a");
	put_rule(b, r);
	r = mk_rule("in2", NULL);
	r_verdict(r, NFT_JUMP, "a");
	put_rule(b, r);
	return b;
}

static void test_dry_run(void **state)
{
	struct kbatch *b;
	char err[512], *before = NULL, *after;
	uint32_t g;
	int ret;

	(void)state;
	enter_netns();

	/* Valid, no table yet: accepted, nothing created. */
	g = genid();
	b = batch_v1();
	commit_ok(b, true);
	assert_int_equal(kernel_table_exists(FAM, TBL), 0);
	assert_int_equal(genid(), g);
	/* The same batch can be committed after its dry run. */
	commit_ok(b, false);
	kbatch_free(b);
	assert_int_equal(kernel_table_exists(FAM, TBL), 1);
	if (have_nft)
		before = list_table();

	/* A batch that needs the live table (a rule into an existing
	 * chain) cannot be tried in an empty namespace; it still gets the
	 * live check. */
	g = genid();
	b = kbatch_new();
	{
		struct nftnl_rule *r = mk_rule("sub", "flow:extra");

		r_verdict(r, NF_DROP, NULL);
		put_rule(b, r);
	}
	commit_ok(b, true);
	kbatch_free(b);
	assert_int_equal(genid(), g);

	/* Valid replace: accepted, old table untouched. */
	b = batch_v2();
	commit_ok(b, true);
	kbatch_free(b);
	assert_int_equal(genid(), g);

	/* A message the kernel refuses. */
	b = batch_bad_jump();
	ret = kbatch_commit(b, true, err, sizeof(err));
	assert_int_equal(ret, -ENOENT);
	assert_contains(err, "message 6/6 (add rule inet t in2");
	kbatch_free(b);
	assert_int_equal(genid(), g);

	/* A jump loop: each message is fine, the table is not. */
	b = batch_loop();
	ret = kbatch_commit(b, true, err, sizeof(err));
	assert_true(ret == -ELOOP || ret == -EMLINK);
	assert_contains(err, "add rule inet t");
	ret = kbatch_commit(b, false, err, sizeof(err));
	assert_true(ret == -ELOOP || ret == -EMLINK);
	kbatch_free(b);
	assert_int_equal(genid(), g);

	if (!have_nft)
		return;
	after = list_table();
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_genid(void **state)
{
	struct kbatch *b;
	char err[512];
	uint32_t g;

	(void)state;
	enter_netns();
	load_v1();
	g = genid();
	b = batch_v2();
	kbatch_set_genid(b, g);
	load_v1();		/* someone else commits in between */
	assert_int_equal(kbatch_commit(b, false, err, sizeof(err)),
			 -ERESTART);
	assert_contains(err, "ruleset changed");
	kbatch_set_genid(b, genid());
	commit_ok(b, false);
	kbatch_free(b);
}

static void test_element_error(void **state)
{
	struct kbatch *b = NULL;
	struct nftnl_set_elem *e;
	struct nftnl_set *s;
	struct nftnl_table *t;
	char err[512];
	uint32_t k;

	(void)state;
	enter_netns();
	b = kbatch_new();
	t = mk_table();
	assert_int_equal(kbatch_replace_table(b, t), 0);
	nftnl_table_free(t);
	s = mk_set("nets", 1, TYPE_IPADDR, 4, NFT_SET_INTERVAL);
	k = ip4("10.0.0.0");
	add_elem(s, &k, 4, "flow:a");
	k = ip4("10.2.0.0");
	e = add_elem(s, &k, 4, NULL);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
			       NFT_SET_ELEM_INTERVAL_END);
	k = ip4("10.1.0.0");
	add_elem(s, &k, 4, "flow:overlap");
	k = ip4("10.3.0.0");
	e = add_elem(s, &k, 4, NULL);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
			       NFT_SET_ELEM_INTERVAL_END);
	put_set(b, s);
	assert_int_equal(kbatch_commit(b, false, err, sizeof(err)), -EEXIST);
	assert_contains(err, "(add elements to set inet t nets, element ");
	assert_contains(err, "\"flow:overlap\"");
	kbatch_free(b);
	assert_int_equal(kernel_table_exists(FAM, TBL), 0);
}

/* The descriptors open now, as a bitmap of the first 1024. */
static void fds_open(uint8_t *map)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	assert_non_null(d);
	memset(map, 0, 1024 / 8);
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd != dirfd(d) && fd < 1024)
			map[fd / 8] |= (uint8_t)(1 << (fd % 8));
	}
	closedir(d);
}

/* Whichever descriptor `now` has that `before` has not, or -1. */
static int fd_new(const uint8_t *before, const uint8_t *now)
{
	int found = -1;

	for (int fd = 0; fd < 1024; fd++)
		if ((now[fd / 8] & ~before[fd / 8]) & (1 << (fd % 8))) {
			assert_int_equal(found, -1);	/* one at most */
			found = fd;
		}
	return found;
}

static int add_on(struct ksock *ks, const char *set, const char *addr,
		  char *err, size_t errlen)
{
	struct kbatch *b = kbatch_new();
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t k = ip4(addr);
	int ret;

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAM);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, TBL);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_elem_set_u64(add_elem(s, &k, 4, NULL),
			       NFTNL_SET_ELEM_TIMEOUT, 1800 * 1000);
	assert_int_equal(kbatch_add_elems(b, s), 1);
	ret = kbatch_commit_on(b, ks, err, errlen);
	nftnl_set_free(s);
	kbatch_free(b);
	return ret;
}

/*
 * Commits on a socket kept open (the DNS guard's re-arms): one
 * descriptor for all of them, close-on-exec, still in use after the
 * kernel refused a batch, and gone with the ksock.
 */
static void test_kept_socket(void **state)
{
	uint8_t before[128], now[128];
	struct ksock *ks = ksock_new();
	struct seen s = { 0 };
	char err[512];
	int fd;

	(void)state;
	assert_non_null(ks);
	enter_netns();
	load_v1();
	fds_open(before);
	assert_int_equal(add_on(ks, "allow4", "198.51.100.1", err,
				sizeof(err)), 0);
	fds_open(now);
	fd = fd_new(before, now);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(add_on(ks, "allow4", "198.51.100.2", err,
				sizeof(err)), 0);
	/* Refused: the socket is fine and stays. */
	assert_int_equal(add_on(ks, "nope", "198.51.100.3", err,
				sizeof(err)), -ENOENT);
	assert_contains(err, "nope");
	assert_int_equal(add_on(ks, "allow4", "198.51.100.4", err,
				sizeof(err)), 0);
	fds_open(now);
	assert_int_equal(fd_new(before, now), fd);
	assert_int_equal(kernel_list_set_elements(FAM, TBL, "allow4",
						  count_elem, &s), 0);
	assert_int_equal(s.n, 6);
	ksock_free(ks);
	fds_open(now);
	assert_int_equal(fd_new(before, now), -1);
	ksock_free(NULL);
}

static int count_all(struct nftnl_set_elem *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

/*
 * The size of a 10,000-flow ruleset: tens of thousands of messages and a
 * set of tens of thousands of elements, one batch, every reply read.
 */
static void test_large_batch(void **state)
{
	enum { RULES = 30000, ELEMS = 50000 };
	struct kbatch *b = kbatch_new();
	struct nftnl_table *t = mk_table();
	struct timespec t0, t1;
	struct nftnl_set *s;
	struct nftnl_rule *r;
	char name[32];
	int i, n = 0;
	uint32_t k;

	(void)state;
	enter_netns();
	assert_int_equal(kbatch_replace_table(b, t), 0);
	nftnl_table_free(t);
	put_chain(b, mk_chain("fwd", NF_INET_FORWARD, NF_DROP));
	put_chain(b, mk_chain("big", -1, 0));
	s = mk_set("many", 1, TYPE_IPADDR, 4, NFT_SET_TIMEOUT);
	for (i = 0; i < ELEMS; i++) {
		k = htonl(0x0a000000 + i);
		snprintf(name, sizeof(name), "flow:f%d", i);
		nftnl_set_elem_set_u64(add_elem(s, &k, 4, name),
				       NFTNL_SET_ELEM_TIMEOUT, 3600 * 1000);
	}
	assert_int_equal(kbatch_add_set(b, s), 0);
	assert_true(kbatch_add_elems(b, s) > 1);
	nftnl_set_free(s);
	for (i = 0; i < RULES; i++) {
		snprintf(name, sizeof(name), "flow:r%d", i);
		r = mk_rule("big", name);
		r_meta_cmp(r, NFT_META_NFPROTO, NFPROTO_IPV4);
		r_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
		k = htonl(0xc0000000 + i);
		{
			struct nftnl_expr *e = nftnl_expr_alloc("cmp");

			nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
			nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &k, 4);
			nftnl_rule_add_expr(r, e);
		}
		r_verdict(r, NF_ACCEPT, NULL);
		put_rule(b, r);
	}
	print_message("large batch: %zu messages, %zu bytes\n",
		      kbatch_count(b), kbatch_size(b));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	commit_ok(b, true);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("large batch: dry run %.2f s\n",
		      (double)(t1.tv_sec - t0.tv_sec) +
		      (t1.tv_nsec - t0.tv_nsec) / 1e9);
	assert_int_equal(kernel_table_exists(FAM, TBL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	commit_ok(b, false);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("large batch: commit %.2f s\n",
		      (double)(t1.tv_sec - t0.tv_sec) +
		      (t1.tv_nsec - t0.tv_nsec) / 1e9);
	kbatch_free(b);

	assert_int_equal(kernel_list_set_elements(FAM, TBL, "many",
						  count_all, &n), 0);
	assert_int_equal(n, ELEMS);
	if (have_nft) {
		char *out = sh("nft list chain inet " TBL " big | "
			       "grep -c 'accept comment'");

		assert_int_equal(atoi(out), RULES);
		free(out);
	}
}

static int setup(void **state)
{
	(void)state;
	have_nft = system("nft --version >/dev/null 2>&1") == 0;
	if (!have_nft)
		print_message("note: no nft binary; listings not compared\n");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_create_and_list),
		cmocka_unit_test(test_elements_dump),
		cmocka_unit_test(test_atomic_replace),
		cmocka_unit_test(test_failure_keeps_old),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_genid),
		cmocka_unit_test(test_element_error),
		cmocka_unit_test(test_kept_socket),
		cmocka_unit_test(test_large_batch),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
