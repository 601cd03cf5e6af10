// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The netlink backend against nft itself. Each case builds a ruleset,
 * loads its text with `nft -f` in one new network namespace and commits
 * ruleset_to_batch() in another, and then compares, byte for byte:
 *   - `nft list table inet sanso`;
 *   - `nft --debug=netlink list table inet sanso` (the bytecode);
 *   - a raw netlink dump of the table, its chains, sets, elements and
 *     rules: every attribute the kernel reports, userdata and handles
 *     included.
 * The elements of hash sets come out in an order the kernel seeds at
 * random, so those (and only those) are sorted before comparing.
 * The batch's namespace also checks the record's digest: the canonical
 * text taken with the elements of the sets sent
 * (kernel_table_canon_sent()) must be the full read-back's, byte for
 * byte, and must change when what was sent is changed.
 * Namespaces are made with unshare(CLONE_NEWNET) in a forked child and
 * vanish with it. Without root, netns or nft, those cases skip.
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
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/sched.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "check.h"
#include "diag.h"
#include "kernel.h"
#include "kernel_dump.h"
#include "model.h"
#include "nft_netlink.h"
#include "policy.h"
#include "ruleset.h"

/* 2026-06-01T00:00Z: schedules and waivers are judged as of then. */
#define AT	((time_t)1780272000)
#define TABLE	"sanso"
#define SKIP	77

static char tmpdir[64];

/* ---- building rulesets ---- */

struct built {
	struct model *m;
	struct diags d;
	struct policy *p;
	struct ruleset *rs;
};

static void build_finish(struct built *b, const char *name)
{
	assert_non_null(b->m);
	check_model(b->m, (int32_t)(AT / 86400), &b->d);
	if (b->d.errors) {
		diags_print_text(&b->d, stderr);
		fail_msg("%s has errors", name);
	}
	b->p = policy_build(b->m);
	assert_non_null(b->p);
	b->rs = ruleset_build(b->p, TABLE, AT);
	assert_non_null(b->rs);
}

static void build_file(struct built *b, const char *path)
{
	if (access(path, R_OK))
		fail_msg("%s: %s (run from the top of the tree)", path,
			 strerror(errno));
	memset(b, 0, sizeof(*b));
	b->m = model_load(path, &b->d);
	build_finish(b, path);
}

static void build_yaml(struct built *b, const char *yaml)
{
	memset(b, 0, sizeof(*b));
	b->m = model_load_buf("t.yaml", NULL, yaml, strlen(yaml), &b->d);
	build_finish(b, "t.yaml");
}

static void built_free(struct built *b)
{
	ruleset_free(b->rs);
	policy_free(b->p);
	model_free(b->m);
	diags_free(&b->d);
	memset(b, 0, sizeof(*b));
}

/* ---- files ---- */

static char *path_of(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
	return p;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t len = 0, cap = 1 << 16, n;
	char *s = malloc(cap);

	assert_non_null(s);
	if (!f) {
		s[0] = '\0';
		return s;
	}
	while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			s = realloc(s, cap);
			assert_non_null(s);
		}
	}
	s[len] = '\0';
	fclose(f);
	return s;
}

static void spit(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const struct ruleset *rs, const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(ruleset_print(rs, f), 0);
	assert_int_equal(fclose(f), 0);
}

/* Runs argv with stdout and stderr into files; its exit status. */
static int run(const char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		/* execvp() does not write to them. */
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- a raw dump of the table, as the kernel reports it ---- */

struct strv {
	char **v;
	size_t n, cap;
};

static void strv_add(struct strv *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 64;
		sv->v = realloc(sv->v, sv->cap * sizeof(*sv->v));
		if (!sv->v)
			abort();
	}
	sv->v[sv->n++] = s;
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void hex(FILE *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", ((const uint8_t *)p)[i]);
}

/* Kernel nests do not always carry NLA_F_NESTED, so nests are known by
 * message and attribute type: rule expressions, set descriptions. */
static void put_attr(FILE *f, const struct nlattr *a, int depth)
{
	fprintf(f, "%*s%u:", depth * 2, "", mnl_attr_get_type(a));
	hex(f, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
	fputc('\n', f);
}

struct dump {
	FILE *f;
	struct strv sets;	/* names */
	struct strv hashed;	/* names of sets without the interval flag */
	struct strv elems;	/* of the set being dumped */
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	unsigned int type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const struct nlattr *a, *e;
	const char *name = NULL;
	uint32_t flags = 0;

	if (type == NFT_MSG_NEWSETELEM) {
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
				continue;
			mnl_attr_for_each_nested(e, a) {
				char *s = NULL;
				size_t len = 0;
				FILE *m = open_memstream(&s, &len);

				if (!m)
					abort();
				hex(m, mnl_attr_get_payload(e),
				    mnl_attr_get_payload_len(e));
				fclose(m);
				strv_add(&d->elems, s);
			}
		}
		return MNL_CB_OK;
	}
	fprintf(d->f, "msg %u\n", type);
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		put_attr(d->f, a, 1);
		if (type == NFT_MSG_NEWSET &&
		    mnl_attr_get_type(a) == NFTA_SET_NAME)
			name = mnl_attr_get_str(a);
		if (type == NFT_MSG_NEWSET &&
		    mnl_attr_get_type(a) == NFTA_SET_FLAGS)
			flags = ntohl(mnl_attr_get_u32(a));
	}
	if (name) {
		strv_add(&d->sets, strdup(name));
		if (!(flags & NFT_SET_INTERVAL))
			strv_add(&d->hashed, strdup(name));
	}
	return MNL_CB_OK;
}

static int request(uint16_t type, uint16_t flags, uint16_t name_attr,
		   const char *table, uint16_t set_attr, const char *set,
		   struct dump *d)
{
	static char buf[1 << 16];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL);
	unsigned int portid;
	ssize_t n;
	int rc = -1;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, seq);
	mnl_attr_put_strz(nlh, name_attr, table);
	if (set)
		mnl_attr_put_strz(nlh, set_attr, set);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n <= 0)
			goto out;
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, dump_cb, d);
	} while (rc > MNL_CB_STOP);
out:
	if (nl)
		mnl_socket_close(nl);
	return rc < 0 ? -1 : 0;
}

static int raw_dump(const char *path)
{
	struct dump d = { .f = fopen(path, "w") };
	int rc = -1;

	if (!d.f)
		return -1;
	if (request(NFT_MSG_GETTABLE, NLM_F_ACK, NFTA_TABLE_NAME, TABLE, 0,
		    NULL, &d) ||
	    request(NFT_MSG_GETCHAIN, NLM_F_DUMP, NFTA_CHAIN_TABLE, TABLE, 0,
		    NULL, &d) ||
	    request(NFT_MSG_GETSET, NLM_F_DUMP, NFTA_SET_TABLE, TABLE, 0, NULL,
		    &d))
		goto out;
	for (size_t i = 0; i < d.sets.n; i++) {
		bool hashed = false;

		for (size_t j = 0; j < d.hashed.n; j++)
			hashed |= !strcmp(d.hashed.v[j], d.sets.v[i]);
		if (request(NFT_MSG_GETSETELEM, NLM_F_DUMP,
			    NFTA_SET_ELEM_LIST_TABLE, TABLE,
			    NFTA_SET_ELEM_LIST_SET, d.sets.v[i], &d))
			goto out;
		if (hashed && d.elems.n > 1)
			qsort(d.elems.v, d.elems.n, sizeof(char *), str_cmp);
		fprintf(d.f, "elements of %s\n", d.sets.v[i]);
		for (size_t j = 0; j < d.elems.n; j++)
			fprintf(d.f, "  %s\n", d.elems.v[j]);
		strv_free(&d.elems);
	}
	if (request(NFT_MSG_GETRULE, NLM_F_DUMP, NFTA_RULE_TABLE, TABLE, 0,
		    NULL, &d))
		goto out;
	rc = 0;
out:
	strv_free(&d.sets);
	strv_free(&d.hashed);
	strv_free(&d.elems);
	if (fclose(d.f))
		rc = -1;
	return rc;
}

/* ---- loading in a namespace ---- */

enum how {
	BY_TEXT,	/* nft -f */
	BY_BATCH,	/* ruleset_to_batch() */
	BY_BATCH_THEN_BROKEN,	/* then a failing replace with `other` */
};

/* The three views of the table in files PREFIX.list, .debug, .raw. */
static int views(const char *prefix)
{
	char *out, *err;
	const char *const list[] = { "nft", "list", "table", "inet", TABLE,
				     NULL };
	const char *const debug[] = { "nft", "--debug=netlink", "list",
				      "table", "inet", TABLE, NULL };
	int rc;

	assert_true(asprintf(&err, "%s.err", prefix) > 0);
	assert_true(asprintf(&out, "%s.list", prefix) > 0);
	rc = run(list, out, err);
	free(out);
	assert_true(asprintf(&out, "%s.debug", prefix) > 0);
	if (!rc)
		rc = run(debug, out, err);
	free(out);
	assert_true(asprintf(&out, "%s.raw", prefix) > 0);
	if (!rc)
		rc = raw_dump(out) ? 1 : 0;
	free(out);
	free(err);
	return rc;
}

static int commit(const struct ruleset *rs, struct nftnl_set_list *sent,
		  const char *errpath)
{
	struct kbatch *b = kbatch_new();
	char err[1024] = "";
	int rc;

	if (!b)
		return 1;
	rc = ruleset_to_batch_sent(rs, b, sent);
	if (rc)
		snprintf(err, sizeof(err), "ruleset_to_batch: %s",
			 strerror(-rc));
	else
		rc = kbatch_commit(b, false, err, sizeof(err));
	kbatch_free(b);
	if (rc) {
		FILE *f = fopen(errpath, "a");

		if (f) {
			fprintf(f, "%s\n", err);
			fclose(f);
		}
	}
	return rc ? 1 : 0;
}

static int write_file(const char *prefix, const char *ext, const char *s)
{
	char *p;
	FILE *f;
	int rc = 1;

	if (asprintf(&p, "%s.%s", prefix, ext) < 0)
		return 1;
	f = fopen(p, "w");
	if (f) {
		rc = fputs(s, f) < 0;
		rc |= fclose(f) != 0;
	}
	free(p);
	return rc;
}

/* One more element in the first static set of `sent` that has one: its
 * first key with the last byte changed. 0, or 1 when there is no such
 * set. */
static int tamper(struct nftnl_set_list *sent)
{
	struct nftnl_set_list_iter *it = nftnl_set_list_iter_create(sent);
	struct nftnl_set *s;
	int rc = 1;

	assert_non_null(it);
	for (s = nftnl_set_list_iter_next(it); s && rc;
	     s = nftnl_set_list_iter_next(it)) {
		struct nftnl_set_elems_iter *ei;
		struct nftnl_set_elem *e, *x;
		uint8_t key[64];
		uint32_t n;
		const void *k;

		if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_TIMEOUT)
			continue;
		ei = nftnl_set_elems_iter_create(s);
		assert_non_null(ei);
		e = nftnl_set_elems_iter_cur(ei);
		if (e && nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY)) {
			k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &n);
			assert_true(n > 0 && n <= sizeof(key));
			memcpy(key, k, n);
			key[n - 1] ^= 0x55;
			x = nftnl_set_elem_alloc();
			assert_non_null(x);
			assert_int_equal(nftnl_set_elem_set(x,
				NFTNL_SET_ELEM_KEY, key, n), 0);
			nftnl_set_elem_add(s, x);
			rc = 0;
		}
		nftnl_set_elems_iter_destroy(ei);
	}
	nftnl_set_list_iter_destroy(it);
	return rc;
}

/*
 * The record's digest against the full read-back, in the namespace the
 * batch was committed in: PREFIX.canon-full and .canon-sent, the two
 * texts (compared by the parent), and .digest, a line of remarks. 0 or
 * a failure.
 */
static int digest_check(struct nftnl_set_list *sent, const char *prefix)
{
	char hf[65] = "", hs[65] = "", *full = NULL, *from = NULL;
	char *p = NULL;
	size_t lf, ls;
	FILE *f;
	int rc = 1;

	if (kernel_table_canon(NFPROTO_INET, TABLE, &full, &lf) ||
	    kernel_table_canon_sent(NFPROTO_INET, TABLE, sent, &from, &ls) ||
	    kernel_table_digest(NFPROTO_INET, TABLE, hf) ||
	    kernel_table_digest_sent(NFPROTO_INET, TABLE, sent, hs) ||
	    write_file(prefix, "canon-full", full) ||
	    write_file(prefix, "canon-sent", from) ||
	    asprintf(&p, "%s.digest", prefix) < 0)
		goto out;
	f = fopen(p, "w");
	if (!f)
		goto out;
	fprintf(f, "digest %s\n", strcmp(hf, hs) ? "differs" : "same");
	free(from);
	from = NULL;
	/* Must be able to fail: a changed element changes the text. */
	if (!tamper(sent)) {
		if (kernel_table_canon_sent(NFPROTO_INET, TABLE, sent, &from,
					    &ls))
			fprintf(f, "tampered: error\n");
		else
			fprintf(f, "tampered %s\n", strcmp(full, from) ?
				"differs" : "same");
	} else {
		fprintf(f, "tampered: no static set with elements\n");
	}
	rc = fclose(f) ? 1 : 0;
out:
	free(p);
	free(full);
	free(from);
	return rc;
}

/* A replace that must fail as a whole: `other`, then a rule that jumps
 * to a chain that does not exist. */
static int commit_broken(const struct ruleset *other, const char *errpath)
{
	struct kbatch *b = kbatch_new();
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	char err[1024] = "";
	int rc = 1;

	if (!b || !r || !e || ruleset_to_batch(other, b))
		goto out;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "forward");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_JUMP);
	nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, "no-such-chain");
	nftnl_rule_add_expr(r, e);
	e = NULL;
	if (kbatch_add_rule(b, r))
		goto out;
	/* 2: the kernel refused it, as it must. */
	rc = kbatch_commit(b, false, err, sizeof(err)) ? 2 : 0;
	if (rc == 2) {
		FILE *f = fopen(errpath, "a");

		if (f) {
			fprintf(f, "expected: %s\n", err);
			fclose(f);
		}
	}
out:
	if (e)
		nftnl_expr_free(e);
	if (r)
		nftnl_rule_free(r);
	kbatch_free(b);
	return rc;
}

/*
 * In a child in a new network namespace: load the ruleset `how`, then
 * write the views to files PREFIX.*. For BY_BATCH_THEN_BROKEN, the views
 * go to PREFIX.* and again, after the failed replace, to PREFIX-after.*.
 * The child's exit status: 0, SKIP, or a failure.
 */
static int in_netns(enum how how, const struct ruleset *rs,
		    const struct ruleset *other, const char *text,
		    const char *prefix)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *err = NULL, *after = NULL, *out = NULL;
		struct nftnl_set_list *sent = NULL;
		int rc;

		if (asprintf(&err, "%s.err", prefix) < 0 ||
		    asprintf(&after, "%s-after", prefix) < 0 ||
		    asprintf(&out, "%s.out", prefix) < 0)
			_exit(1);
		unlink(err);
		/* syscall(): the project's include/sched.h hides <sched.h>. */
		if (syscall(SYS_unshare, CLONE_NEWNET) < 0)
			_exit(SKIP);
		if (how == BY_TEXT) {
			const char *const argv[] = { "nft", "-f", text,
						     NULL };

			rc = run(argv, out, err) ? 1 : 0;
		} else {
			sent = nftnl_set_list_alloc();
			if (!sent)
				_exit(1);
			rc = commit(rs, sent, err);
		}
		if (!rc)
			rc = views(prefix);
		if (!rc && sent)
			rc = digest_check(sent, prefix);
		if (!rc && how == BY_BATCH_THEN_BROKEN) {
			rc = commit_broken(other, err);
			rc = rc == 2 ? views(after) : rc ? rc : 3;
		}
		_exit(rc ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* ---- comparing ---- */

/* The debug listing prints hash set elements in the kernel's order,
 * which is seeded at random: sort every run of element lines. */
static char *normalise_debug(const char *s)
{
	struct strv lines = { 0 };
	char *copy = strdup(s), *save = NULL, *line, *out;
	size_t len = 0;
	FILE *f;

	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		strv_add(&lines, strdup(line));
	for (size_t i = 0; i < lines.n;) {
		size_t j = i;

		while (j < lines.n && !strncmp(lines.v[j], "\telement ", 9))
			j++;
		if (j > i)
			qsort(lines.v + i, j - i, sizeof(char *), str_cmp);
		i = j > i ? j : i + 1;
	}
	f = open_memstream(&out, &len);
	assert_non_null(f);
	for (size_t i = 0; i < lines.n; i++)
		fprintf(f, "%s\n", lines.v[i]);
	fclose(f);
	strv_free(&lines);
	free(copy);
	return out;
}

static void report_diff(const char *what, const char *a, const char *b)
{
	char *pa = path_of("diff-a"), *pb = path_of("diff-b"), *cmd;

	spit(pa, a);
	spit(pb, b);
	assert_true(asprintf(&cmd, "diff -u %s %s | head -60 >&2", pa, pb) >
		    0);
	print_error("%s differs (- nft -f, + batch):\n", what);
	if (system(cmd) < 0)
		print_error("(diff failed)\n");
	free(cmd);
	free(pa);
	free(pb);
}

static bool same_view(const char *pa, const char *pb, const char *ext)
{
	char *fa, *fb, *a, *b;
	bool same;

	assert_true(asprintf(&fa, "%s.%s", pa, ext) > 0);
	assert_true(asprintf(&fb, "%s.%s", pb, ext) > 0);
	a = slurp(fa);
	b = slurp(fb);
	if (!strcmp(ext, "debug")) {
		char *na = normalise_debug(a), *nb = normalise_debug(b);

		free(a);
		free(b);
		a = na;
		b = nb;
	}
	same = !strcmp(a, b) && *a;
	if (!same)
		report_diff(ext, a, b);
	free(a);
	free(b);
	free(fa);
	free(fb);
	return same;
}

static void show_err(const char *prefix)
{
	char *p, *s;

	assert_true(asprintf(&p, "%s.err", prefix) > 0);
	s = slurp(p);
	if (*s)
		print_error("%s", s);
	free(s);
	free(p);
}

static void need_root(void)
{
	const char *const argv[] = { "nft", "--version", NULL };
	char *out = path_of("nft-version"), *err = path_of("nft-version.err");
	int rc;

	if (geteuid() != 0) {
		print_message("skipped: needs root (nf_tables in a netns)\n");
		skip();
	}
	rc = run(argv, out, err);
	free(out);
	free(err);
	if (rc) {
		print_message("skipped: no nft binary to compare with\n");
		skip();
	}
}

static size_t count_lines(const char *s, const char *start)
{
	size_t n = 0, len = strlen(start);

	for (const char *l = s; l && *l; l = strchr(l, '\n'), l = l ? l + 1 :
	     NULL)
		n += !strncmp(l, start, len);
	return n;
}

/* The record's digest, from the elements sent, is the full read-back's,
 * and would not be if the elements sent were not the kernel's. */
static void check_digest(const char *prefix, const char *name)
{
	char *fa, *fb, *fd, *a, *b, *d;
	size_t elems;

	assert_true(asprintf(&fa, "%s.canon-full", prefix) > 0);
	assert_true(asprintf(&fb, "%s.canon-sent", prefix) > 0);
	assert_true(asprintf(&fd, "%s.digest", prefix) > 0);
	a = slurp(fa);
	b = slurp(fb);
	d = slurp(fd);
	elems = count_lines(a, "elem ");
	print_message("%s: digest from the sets sent: %zu elements, %s",
		      name, elems, d);
	if (strcmp(a, b))
		report_diff("canon", a, b);
	assert_true(*a && !strcmp(a, b));
	assert_non_null(strstr(d, "digest same\n"));
	if (elems)
		assert_non_null(strstr(d, "tampered differs\n"));
	free(a);
	free(b);
	free(d);
	free(fa);
	free(fb);
	free(fd);
}

/* The heart of it: nft -f of the text and the batch give one state. */
static void compare(const struct ruleset *rs, const char *name)
{
	char *text, *pa, *pb, *n;
	int ra, rb;

	need_root();
	assert_true(asprintf(&n, "%s.nft", name) > 0);
	text = path_of(n);
	free(n);
	assert_true(asprintf(&n, "%s-text", name) > 0);
	pa = path_of(n);
	free(n);
	assert_true(asprintf(&n, "%s-batch", name) > 0);
	pb = path_of(n);
	free(n);
	write_text(rs, text);

	ra = in_netns(BY_TEXT, rs, NULL, text, pa);
	if (ra == SKIP) {
		print_message("skipped: unshare(CLONE_NEWNET) failed\n");
		skip();
	}
	if (ra)
		show_err(pa);
	assert_int_equal(ra, 0);
	rb = in_netns(BY_BATCH, rs, NULL, text, pb);
	if (rb)
		show_err(pb);
	assert_int_equal(rb, 0);

	assert_true(same_view(pa, pb, "list"));
	assert_true(same_view(pa, pb, "debug"));
	assert_true(same_view(pa, pb, "raw"));
	check_digest(pb, name);
	free(text);
	free(pa);
	free(pb);
}

/* ---- the zone files ---- */

static void test_example_city(void **state)
{
	struct built b;

	(void)state;
	build_file(&b, "zones/example-city.yaml");
	compare(b.rs, "city");
	built_free(&b);
}

static void test_example_beta(void **state)
{
	struct built b;

	(void)state;
	build_file(&b, "zones/example-beta.yaml");
	compare(b.rs, "beta");
	built_free(&b);
}

/* The lab's zone file: nested zones, host prefixes, port ranges, an
 * FQDN breakout, weekday schedules. */
static void test_lab_features(void **state)
{
	struct built b;

	(void)state;
	build_file(&b, "tests/lab/features.yaml");
	compare(b.rs, "features");
	built_free(&b);
}

/* IPv6 beside IPv4, icmp and icmpv6, `any`, several interfaces per
 * zone, overlapping flows that need a second layer of sets, ssh from an
 * IPv6 network. */
static const char yaml_v6[] =
	"version: 1\n"
	"site: t\n"
	"timezone: Asia/Tokyo\n"
	"zones:\n"
	"  lgwan: { tier: lgwan, interfaces: [ens5, ens15], networks:"
	" [10.20.0.0/16, \"fd00:20::/48\"] }\n"
	"  lgwan-core: { tier: lgwan, interfaces: [ens9], networks:"
	" [10.21.0.0/16, \"fd00:21::/48\"] }\n"
	"  update-dmz: { tier: dmz, interfaces: [ens7, ens17], networks:"
	" [10.40.0.0/24, \"fd00:40::/64\"] }\n"
	"  mgmt: { tier: mgmt, interfaces: [ens8], networks:"
	" [10.99.0.0/24, \"fd00:99::/64\"] }\n"
	"hosts:\n"
	"  wsus: { zone: update-dmz, address: 10.40.0.10 }\n"
	"  wsus6: { zone: update-dmz, address: \"fd00:40::10\" }\n"
	"  core-db: { zone: lgwan-core, address: 10.21.1.5 }\n"
	"  core-db6: { zone: lgwan-core, address: \"fd00:21::5\" }\n"
	"  zabbix: { zone: mgmt, address: 10.99.0.20 }\n"
	"  zabbix6: { zone: mgmt, address: \"fd00:99::20\" }\n"
	"services:\n"
	"  ping: [icmp/echo-request, icmpv6/echo-request,"
	" icmpv6/echo-reply]\n"
	"flows:\n"
	"  - { name: same-tier, from: lgwan, to: lgwan-core,"
	" services: [any] }\n"
	"  - { name: db, from: lgwan, to: core-db, services: [tcp/1521] }\n"
	"  - { name: db6, from: lgwan, to: core-db6,"
	" services: [tcp/1521-1522, udp/53] }\n"
	"  - { name: patches, from: lgwan, to: [wsus, wsus6],"
	" services: [tcp/8530-8531, tcp/443] }\n"
	"  - { name: patches-all, from: lgwan, to: update-dmz,"
	" services: [tcp/443, tcp] }\n"
	"  - { name: monitoring, from: [zabbix, zabbix6],"
	" to: [lgwan, update-dmz], services: [tcp/10050, ping, udp] }\n"
	"gateway:\n"
	"  ssh_from: [mgmt, mgmt/10.99.0.128/25]\n"
	"  log_group: 7\n";

static void test_ipv6_icmp_any(void **state)
{
	struct built b;

	(void)state;
	build_yaml(&b, yaml_v6);
	compare(b.rs, "v6");
	built_free(&b);
}

/* FQDN sets (with `any`, which keys on meta l4proto 0-255), schedules
 * (hours across midnight, weekdays, dated windows), logged flows. */
static const char yaml_fqdn[] =
	"version: 1\n"
	"site: t\n"
	"timezone: Asia/Tokyo\n"
	"schedules:\n"
	"  office: { days: [mon, tue, wed, thu, fri],"
	" hours: [\"08:30-18:15\"] }\n"
	"  nightly: { hours: [\"22:00-05:00\"] }\n"
	"  maint:\n"
	"    windows:\n"
	"      - { from: \"2026-12-05T22:00\", to: \"2026-12-06T02:00\" }\n"
	"      - { from: \"2027-01-09T22:00\", to: \"2027-01-10T02:00\" }\n"
	"zones:\n"
	"  lgwan: { tier: lgwan, interfaces: [ens5], networks:"
	" [10.20.0.0/16, \"fd00:20::/48\"] }\n"
	"  lgwan-core: { tier: lgwan, interfaces: [ens9], networks:"
	" [10.21.0.0/16] }\n"
	"  update-dmz: { tier: dmz, interfaces: [ens7], networks:"
	" [10.40.0.0/24, \"fd00:40::/64\"] }\n"
	"  upstream: { tier: external, interfaces: [ens3, ens13], networks:"
	" [0.0.0.0/0, \"::/0\"] }\n"
	"  partner: { tier: external, interfaces: [ens23], networks:"
	" [192.0.2.0/24, \"2001:db8::/32\"] }\n"
	"hosts:\n"
	"  wsus: { zone: update-dmz, address: 10.40.0.10,"
	" role: update-relay }\n"
	"  wsus6: { zone: update-dmz, address: \"fd00:40::10\","
	" role: update-relay }\n"
	"fqdn_sets:\n"
	"  windows-update:\n"
	"    names: [windowsupdate.microsoft.com, \"*.windowsupdate.com\"]\n"
	"  av: { names: [update.av.example.jp] }\n"
	"flows:\n"
	"  - name: relays\n"
	"    from: [wsus, wsus6]\n"
	"    to: [fqdn:windows-update, fqdn:av]\n"
	"    services: [tcp/80, tcp/443]\n"
	"  - { name: relays-any, from: partner, to: fqdn:av,"
	" services: [any], log: true }\n"
	"  - { name: office-web, from: lgwan-core, to: lgwan,"
	" services: [tcp/80, tcp/443], schedule: office, log: true }\n"
	"  - { name: backup, from: lgwan, to: lgwan-core,"
	" services: [tcp/445], schedule: nightly }\n"
	"  - { name: maint, from: lgwan, to: lgwan-core,"
	" services: [tcp/22], schedule: maint, log: true }\n"
	"  - { name: logged, from: lgwan, to: lgwan-core,"
	" services: [tcp/3389, icmp/echo-request], log: true }\n"
	"  - { name: patches, from: lgwan, to: wsus, services: [tcp/8530] }\n"
	"gateway:\n"
	"  log_group: 3\n";

static void test_fqdn_sched_log(void **state)
{
	struct built b;

	(void)state;
	build_yaml(&b, yaml_fqdn);
	compare(b.rs, "fqdn");
	built_free(&b);
}

/* One zone: every set empty, no pair chains. */
static void test_minimal(void **state)
{
	struct built b;

	(void)state;
	build_yaml(&b, "version: 1\nsite: t\nzones:\n  mgmt: { tier: mgmt, "
		   "interfaces: [ens8], networks: [10.99.0.0/24] }\n");
	compare(b.rs, "minimal");
	built_free(&b);
}

/* ---- every construct of ruleset.h, built by hand ---- */


static void *grow(void *p, size_t n, size_t size)
{
	p = realloc(p, n * size);
	assert_non_null(p);
	return p;
}

static struct rs_set *syn_set(struct ruleset *rs, const char *name,
			      enum rs_set_kind kind, int n, ...)
{
	struct rs_set *s = calloc(1, sizeof(*s));
	va_list ap;

	assert_non_null(s);
	s->name = strdup(name);
	s->kind = kind;
	s->n_key = n;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		s->key[i] = (enum rs_field)va_arg(ap, int);
		s->keylen += rs_fields[s->key[i]].len;
	}
	va_end(ap);
	rs->sets = grow(rs->sets, rs->n_sets + 1, sizeof(*rs->sets));
	rs->sets[rs->n_sets++] = s;
	return s;
}

static void syn_elem(struct rs_set *s, const void *lo, const void *hi,
		     const char *target)
{
	s->keys = grow(s->keys, s->n + 1, 2 * s->keylen);
	s->flow = grow(s->flow, s->n + 1, sizeof(*s->flow));
	s->target = grow(s->target, s->n + 1, sizeof(*s->target));
	memcpy(s->keys + s->n * 2 * s->keylen, lo, s->keylen);
	memcpy(s->keys + s->n * 2 * s->keylen + s->keylen, hi, s->keylen);
	s->flow[s->n] = -1;
	s->target[s->n] = target ? strdup(target) : NULL;
	s->n++;
}

static struct rs_chain *syn_chain(struct ruleset *rs, const char *name,
				  const char *hook, bool drop)
{
	struct rs_chain *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->name = strdup(name);
	c->base = hook != NULL;
	c->hook = hook;
	c->policy_drop = drop;
	rs->chains = grow(rs->chains, rs->n_chains + 1, sizeof(*rs->chains));
	rs->chains[rs->n_chains++] = c;
	return c;
}

static struct rs_rule *syn_rule(struct rs_chain *c, enum rs_verdict v,
				const char *target, const char *comment)
{
	struct rs_rule *r;

	c->rules = grow(c->rules, c->n_rules + 1, sizeof(*c->rules));
	r = &c->rules[c->n_rules++];
	memset(r, 0, sizeof(*r));
	r->verdict = v;
	r->target = target ? strdup(target) : NULL;
	r->comment = comment ? strdup(comment) : NULL;
	return r;
}

static struct rs_expr *syn_x(struct rs_rule *r, enum rs_expr_kind kind,
			     enum rs_field f)
{
	struct rs_expr *x;

	r->x = grow(r->x, r->n_x + 1, sizeof(*r->x));
	x = &r->x[r->n_x++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->field[0] = f;
	x->n_field = 1;
	return x;
}

static void syn_match(struct rs_rule *r, enum rs_field f, bool inv,
		      const char *lo, const char *hi)
{
	struct rs_expr *x = syn_x(r, hi ? RX_RANGE : RX_CMP, f);
	int fam = rs_fields[f].len == 16 ? AF_INET6 : AF_INET;
	size_t n = rs_fields[f].len;

	x->inv = inv;
	if (f == RF_SADDR4 || f == RF_DADDR4 || f == RF_SADDR6 ||
	    f == RF_DADDR6) {
		assert_int_equal(inet_pton(fam, lo, x->val), 1);
		if (hi)
			assert_int_equal(inet_pton(fam, hi, x->hi), 1);
		return;
	}
	if (f == RF_IIFNAME || f == RF_OIFNAME) {
		strncpy((char *)x->val, lo, 15);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		x->val[n - 1 - i] = (uint8_t)(strtoull(lo, NULL, 0) >> (8 * i));
		if (hi)
			x->hi[n - 1 - i] = (uint8_t)(strtoull(hi, NULL, 0) >>
						     (8 * i));
	}
}

static void syn_lookup(struct rs_rule *r, const struct rs_set *s, bool inv)
{
	struct rs_expr *x = syn_x(r, s->kind == RS_VMAP ? RX_VMAP : RX_LOOKUP,
				  s->key[0]);

	x->set = s;
	x->inv = inv;
	x->n_field = s->n_key;
	memcpy(x->field, s->key, sizeof(x->field));
}

static void be_put(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		p[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

static struct ruleset *synthetic(void)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	struct rs_set *s, *s2, *tm, *fq4, *fq6, *vm, *vi, *dy4, *dy6;
	struct rs_chain *c, *d;
	struct rs_rule *r;
	struct rs_expr *x;
	uint8_t lo[RS_MAX_KEYLEN] = { 0 }, hi[RS_MAX_KEYLEN] = { 0 };

	assert_non_null(rs);
	rs->family = strdup("inet");
	rs->table = strdup(TABLE);
	rs->header = strdup("# every construct\n");

	s = syn_set(rs, "s", RS_CONCAT, 2, RF_IIFNAME, RF_SADDR4);
	memcpy(lo, "eth0", 4);
	memcpy(hi, "eth0", 4);
	be_put(lo + 16, 4, 0x0a000000);
	be_put(hi + 16, 4, 0x0a0000ff);
	syn_elem(s, lo, hi, NULL);
	s2 = syn_set(rs, "s2", RS_CONCAT, 2, RF_L4PROTO, RF_DPORT);
	memset(lo, 0, sizeof(lo));
	memset(hi, 0, sizeof(hi));
	lo[0] = 0;
	hi[0] = 255;
	be_put(lo + 1, 2, 80);
	be_put(hi + 1, 2, 80);
	syn_elem(s2, lo, hi, NULL);
	lo[0] = hi[0] = IPPROTO_UDP;
	be_put(lo + 1, 2, 0);
	be_put(hi + 1, 2, 65535);
	syn_elem(s2, lo, hi, NULL);
	tm = syn_set(rs, "tm", RS_INTERVAL, 1, RF_TIME);
	be_put(lo, 8, 0);
	be_put(hi, 8, 100000000000ull);
	syn_elem(tm, lo, hi, NULL);
	be_put(lo, 8, 300000000000ull);
	be_put(hi, 8, 399000000000ull);
	syn_elem(tm, lo, hi, NULL);
	be_put(lo, 8, 200000000000ull);
	be_put(hi, 8, 299000000000ull);
	syn_elem(tm, lo, hi, NULL);
	fq4 = syn_set(rs, "fq4", RS_TIMEOUT, 1, RF_DADDR4);
	be_put(lo, 4, 0xc0000201);
	syn_elem(fq4, lo, lo, NULL);
	fq6 = syn_set(rs, "fq6", RS_TIMEOUT, 1, RF_SADDR6);
	vm = syn_set(rs, "vm", RS_VMAP, 2, RF_IIFNAME, RF_OIFNAME);
	memset(lo, 0, sizeof(lo));
	memcpy(lo, "a", 1);
	memcpy(lo + 16, "b", 1);
	syn_elem(vm, lo, lo, "d");
	vi = syn_set(rs, "vi", RS_VMAP, 1, RF_IIFNAME);
	memset(lo, 0, sizeof(lo));
	memcpy(lo, "eth1", 4);
	syn_elem(vi, lo, lo, "d");
	memcpy(lo, "eth0", 4);
	syn_elem(vi, lo, lo, "c");
	/* Dynamic sets: figures other than the ruleset's own, and one
	 * that nft prints in hours. */
	dy4 = syn_set(rs, "dy4", RS_DYNAMIC, 1, RF_SADDR4);
	dy4->size = 100;
	dy4->timeout = 3600;
	dy6 = syn_set(rs, "dy6", RS_DYNAMIC, 1, RF_SADDR6);
	dy6->size = 65535;
	dy6->timeout = 61;

	c = syn_chain(rs, "c", NULL, false);
	d = syn_chain(rs, "d", NULL, false);
	(void)d;
	syn_chain(rs, "out", "output", false);
	/* Not "fwd": a keyword to nft. */
	syn_chain(rs, "fw", "forward", true);

	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_SADDR4, false, "10.20.0.0", "10.20.255.255");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_SADDR4, false, "10.20.0.0", "10.20.15.255");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_DADDR6, false, "fd00::", "fd00:0:0:ffff:ffff:ffff:"
		  "ffff:ffff");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_DADDR6, false, "fd00::", "fd00:0:0:3fff:ffff:ffff:"
		  "ffff:ffff");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_SADDR4, false, "10.0.0.1", "10.0.0.5");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_SADDR4, true, "10.0.0.0", "10.255.255.255");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_SADDR4, true, "10.0.0.1", "10.0.0.5");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_DPORT, false, "22", NULL);
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_DPORT, false, "1000", "2000");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_TCP_DPORT, false, "1000", "2000");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_L4PROTO, false, "6", NULL);
	syn_match(r, RF_TCP_DPORT, false, "22", NULL);
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_L4PROTO, false, "6", "17");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_ICMP_TYPE, false, "3", "5");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_SADDR4, true, "10.0.0.1", NULL);
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_lookup(r, s, true);
	r = syn_rule(c, RV_GOTO, "d", NULL);
	syn_x(r, RX_COUNTER, 0);
	syn_rule(c, RV_RETURN, NULL, NULL);
	r = syn_rule(c, RV_ACCEPT, NULL, "two protocols");
	syn_match(r, RF_UDP_DPORT, false, "53", NULL);
	syn_match(r, RF_DADDR4, false, "1.2.3.4", NULL);
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_SADDR4, false, "0.0.0.0", "255.255.255.255");
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_SADDR4, false, "10.0.0.0", "11.255.255.255");
	r = syn_rule(c, RV_JUMP, "d", "jump");
	syn_match(r, RF_OIFNAME, false, "eth0", NULL);
	r = syn_rule(c, RV_NONE, NULL, NULL);
	x = syn_x(r, RX_CT_STATE, RF_CT_STATE);
	x->bits = 0x8;
	x = syn_x(r, RX_LIMIT, 0);
	x->rate = 5;
	x->burst = 7;
	x = syn_x(r, RX_LOG, 0);
	x->prefix = strdup("p: ");
	x->group = 3;
	syn_x(r, RX_COUNTER, 0);
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_lookup(r, s2, false);
	r = syn_rule(c, RV_DROP, NULL, NULL);
	syn_lookup(r, tm, false);
	syn_lookup(r, fq4, true);
	r = syn_rule(c, RV_DROP, NULL, NULL);
	syn_lookup(r, fq6, false);
	r = syn_rule(c, RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_ICMPV6_TYPE, false, "1", NULL);
	/* Per source, then in total, as the drop logs do; and after a
	 * match that already made nft check the protocol. */
	r = syn_rule(c, RV_DROP, NULL, NULL);
	x = syn_x(r, RX_UPDATE, RF_SADDR4);
	x->set = dy4;
	x->rate = 2;
	x->burst = 9;
	x = syn_x(r, RX_LIMIT, 0);
	x->rate = 30;
	x->burst = 60;
	x = syn_x(r, RX_LOG, 0);
	x->prefix = strdup("sanso:a>gateway");
	x->group = 7;
	r = syn_rule(c, RV_NONE, NULL, NULL);
	syn_match(r, RF_TCP_DPORT, false, "22", NULL);
	syn_match(r, RF_SADDR6, false, "fd00::", "fd00::ffff");
	x = syn_x(r, RX_UPDATE, RF_SADDR6);
	x->set = dy6;
	x->rate = 1;
	x->burst = 5;
	r = syn_rule(rs->chains[3], RV_NONE, NULL, NULL);
	syn_lookup(r, vm, false);
	r = syn_rule(rs->chains[2], RV_NONE, NULL, NULL);
	syn_lookup(r, vi, false);
	return rs;
}

static void test_every_construct(void **state)
{
	struct ruleset *rs = synthetic();

	(void)state;
	compare(rs, "synthetic");
	ruleset_free(rs);
}

/* ---- what needs no kernel ---- */

static void test_batch_shape(void **state)
{
	struct kbatch *b = kbatch_new();
	struct built bt;
	size_t rules = 0;

	(void)state;
	assert_non_null(b);
	build_file(&bt, "zones/example-city.yaml");
	assert_int_equal(ruleset_to_batch(bt.rs, b), 0);
	for (size_t i = 0; i < bt.rs->n_chains; i++)
		rules += bt.rs->chains[i]->n_rules;
	/* Replace (3), the chains, the sets, at least one element message
	 * per set with elements, the rules. */
	assert_true(kbatch_count(b) >= 3 + bt.rs->n_chains + bt.rs->n_sets +
		    rules);
	kbatch_free(b);

	/* Only inet, only the shapes the text can say. */
	b = kbatch_new();
	free(bt.rs->family);
	bt.rs->family = strdup("ip");
	assert_int_equal(ruleset_to_batch(bt.rs, b), -EAFNOSUPPORT);
	kbatch_free(b);
	built_free(&bt);
}

static void test_unsupported(void **state)
{
	struct ruleset *rs = synthetic();
	struct kbatch *b = kbatch_new();
	struct rs_rule *r;

	(void)state;
	assert_non_null(b);
	assert_int_equal(ruleset_to_batch(rs, b), 0);
	kbatch_free(b);

	r = syn_rule(rs->chains[0], RV_ACCEPT, NULL, NULL);
	syn_match(r, RF_HOUR, false, "3600", NULL);
	b = kbatch_new();
	assert_int_equal(ruleset_to_batch(rs, b), -EOPNOTSUPP);
	kbatch_free(b);

	/* Two network protocols in one rule: nft refuses it too. */
	r->x[0].field[0] = RF_SADDR6;
	syn_match(r, RF_ICMP_TYPE, false, "8", NULL);
	b = kbatch_new();
	assert_int_equal(ruleset_to_batch(rs, b), -EINVAL);
	kbatch_free(b);
	ruleset_free(rs);

	/* A dynamic set is keyed on a source address and starts empty;
	 * an update names a dynamic set and its key. */
	for (int i = 0; i < 4; i++) {
		struct rs_set *dy;
		struct rs_expr *x = NULL;

		rs = synthetic();
		dy = rs->sets[rs->n_sets - 2];
		assert_string_equal(dy->name, "dy4");
		for (size_t j = 0; j < rs->chains[0]->n_rules && !x; j++)
			if (rs->chains[0]->rules[j].n_x &&
			    rs->chains[0]->rules[j].x[0].kind == RX_UPDATE)
				x = &rs->chains[0]->rules[j].x[0];
		assert_non_null(x);
		if (i == 0)
			dy->key[0] = RF_DADDR4;
		else if (i == 1)
			dy->timeout = 0;
		else if (i == 2)
			x->set = rs->sets[0];
		else
			x->field[0] = RF_DADDR4;
		b = kbatch_new();
		assert_int_equal(ruleset_to_batch(rs, b),
				 i < 2 ? -EOPNOTSUPP : -EINVAL);
		kbatch_free(b);
		ruleset_free(rs);
	}
}

/* ---- atomicity and size ---- */

static void test_failed_replace_keeps_old(void **state)
{
	struct built old, other;
	char *pa, *pb;
	int rc;

	(void)state;
	need_root();
	build_file(&old, "zones/example-city.yaml");
	build_file(&other, "zones/example-beta.yaml");
	pa = path_of("keep");
	pb = path_of("keep-after");
	rc = in_netns(BY_BATCH_THEN_BROKEN, old.rs, other.rs, NULL, pa);
	if (rc == SKIP) {
		print_message("skipped: unshare(CLONE_NEWNET) failed\n");
		skip();
	}
	show_err(pa);
	assert_int_equal(rc, 0);
	assert_true(same_view(pa, pb, "list"));
	assert_true(same_view(pa, pb, "raw"));
	free(pa);
	free(pb);
	built_free(&old);
	built_free(&other);
}

/* Many zones in a ring, each pair with logged and scheduled flows: some
 * thousands of sets and rules, one batch. */
static char *large_yaml(int zones, int flows_per_pair)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	assert_non_null(f);
	fprintf(f, "version: 1\nsite: big\ntimezone: UTC\nschedules:\n"
		"  night: { hours: [\"22:00-05:00\"] }\nzones:\n");
	for (int i = 0; i < zones; i++)
		fprintf(f, "  z%d: { tier: lgwan, interfaces: [e%d], "
			"networks: [10.%d.%d.0/24, \"fd00:%x::/64\"] }\n",
			i, i, i / 250, i % 250, i + 1);
	fprintf(f, "flows:\n");
	for (int i = 0; i < zones; i++)
		for (int k = 0; k < flows_per_pair; k++)
			fprintf(f, "  - { name: f%d-%d, from: z%d, to: z%d, "
				"services: [tcp/%d, udp/%d], log: true%s }\n",
				i, k, i, (i + 1) % zones, 1000 + k, 2000 + k,
				k % 2 ? ", schedule: night" : "");
	fprintf(f, "gateway:\n  log_group: 9\n");
	assert_int_equal(fclose(f), 0);
	return s;
}

static void test_large(void **state)
{
	char *yaml = large_yaml(300, 6);
	struct kbatch *b = kbatch_new();
	struct built bt;
	size_t rules = 0;

	(void)state;
	build_yaml(&bt, yaml);
	free(yaml);
	for (size_t i = 0; i < bt.rs->n_chains; i++)
		rules += bt.rs->chains[i]->n_rules;
	print_message("large: %zu sets, %zu chains, %zu rules\n",
		      bt.rs->n_sets, bt.rs->n_chains, rules);
	assert_true(bt.rs->n_sets >= 3000);
	assert_true(rules >= 3000);
	assert_int_equal(ruleset_to_batch(bt.rs, b), 0);
	print_message("large: %zu messages, %zu bytes in one batch\n",
		      kbatch_count(b), kbatch_size(b));
	kbatch_free(b);
	compare(bt.rs, "large");
	built_free(&bt);
}

/* ---- setup ---- */

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sanso-nftnl-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *dir = opendir(tmpdir);
	struct dirent *de;

	(void)state;
	if (getenv("SANSO_TEST_KEEP")) {
		print_message("kept %s\n", tmpdir);
		if (dir)
			closedir(dir);
		return 0;
	}
	if (dir) {
		while ((de = readdir(dir))) {
			char *p;

			if (de->d_name[0] == '.')
				continue;
			p = path_of(de->d_name);
			unlink(p);
			free(p);
		}
		closedir(dir);
	}
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_shape),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_example_city),
		cmocka_unit_test(test_example_beta),
		cmocka_unit_test(test_lab_features),
		cmocka_unit_test(test_ipv6_icmp_any),
		cmocka_unit_test(test_fqdn_sched_log),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_every_construct),
		cmocka_unit_test(test_failed_replace_keeps_old),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
