// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A canonical text of one live nftables table, read over netlink, for
 * drift detection: two tables with the same chains, sets, static
 * elements and rules give the same text, whatever their handles. FQDN
 * sets (the timeout flag) change all day by design, so only their
 * definition counts, not their elements.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <openssl/evp.h>

#include "ctnetlink.h"
#include "kernel.h"
#include "kernel_dump.h"

struct dump {
	const char *table;
	FILE *out;
	/* chains and sets are printed sorted by name */
	char **lines;
	size_t n, cap;
	int err;
};

static void hex(FILE *out, const void *p, uint32_t len)
{
	static const char digit[] = "0123456789abcdef";
	const uint8_t *b = p;
	char buf[128] = "";
	size_t n = 0;

	/* A table holds millions of these bytes: no printf per byte. */
	for (uint32_t i = 0; i < len; i++) {
		buf[n++] = digit[b[i] >> 4];
		buf[n++] = digit[b[i] & 15];
		if (n == sizeof(buf)) {
			fwrite(buf, 1, n, out);
			n = 0;
		}
	}
	fwrite(buf, 1, n, out);
}

static int keep_line(struct dump *d, char *line)
{
	if (!line)
		return -ENOMEM;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		char **v = realloc(d->lines, cap * sizeof(*v));

		if (!v) {
			free(line);
			return -ENOMEM;
		}
		d->lines = v;
		d->cap = cap;
	}
	d->lines[d->n++] = line;
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void flush_lines(struct dump *d)
{
	if (d->n > 1)
		qsort(d->lines, d->n, sizeof(*d->lines), line_cmp);
	for (size_t i = 0; i < d->n; i++) {
		fputs(d->lines[i], d->out);
		free(d->lines[i]);
	}
	d->n = 0;
}

/* One netlink socket for every dump of a read-back. */
struct conn {
	struct mnl_socket *nl;
	uint32_t portid, seq;
};

static int conn_open(struct conn *c)
{
	c->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!c->nl)
		return -errno;
	if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int ret = -errno;

		mnl_socket_close(c->nl);
		c->nl = NULL;
		return ret;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	c->seq = (uint32_t)time(NULL);
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->nl)
		mnl_socket_close(c->nl);
	c->nl = NULL;
}

/*
 * Sends one dump request and feeds every reply to cb, up to its end or
 * its error; either is the last message of the request, so the socket
 * is clean for the next one.
 */
static int dump(struct conn *c, uint16_t type, uint16_t family,
		void (*fill)(struct nlmsghdr *, void *), void *obj,
		mnl_cb_t cb, void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct nlmsghdr *nlh;
	uint32_t seq = ++c->seq;
	int ret;

	nlh = nftnl_nlmsg_build_hdr(buf, type, family, NLM_F_DUMP | NLM_F_ACK,
				    seq);
	if (fill)
		fill(nlh, obj);
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ret = (int)nlsock_recv_mnl(c->nl, buf, sizeof(buf));
		if (ret <= 0)
			return ret < 0 ? -errno : 0;
		ret = mnl_cb_run(buf, (size_t)ret, seq, c->portid, cb, arg);
		if (ret <= 0)
			return ret < 0 ? -errno : 0;
	}
}

static int chain_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct nftnl_chain *c = nftnl_chain_alloc();
	char *line = NULL;
	size_t len = 0;
	FILE *f;

	if (!c)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), d->table))
		goto out;
	f = open_memstream(&line, &len);
	if (!f)
		goto out;
	fprintf(f, "chain %s", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
		fprintf(f, " type %s hook %u prio %d policy %u",
			nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
			nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
			(int)nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
			nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_USERDATA)) {
		uint32_t n;
		const void *p = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA,
						     &n);

		fprintf(f, " udata ");
		hex(f, p, n);
	}
	fputc('\n', f);
	fclose(f);
	if (keep_line(d, line))
		d->err = -ENOMEM;
out:
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

struct setinfo {
	char *name;
	bool timeout;
};

struct setlist {
	struct dump *d;
	struct setinfo *v;
	size_t n;
};

static int set_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct setlist *sl = arg;
	struct dump *d = sl->d;
	struct nftnl_set *s = nftnl_set_alloc();
	struct setinfo *v;
	char *line = NULL;
	size_t len = 0;
	uint32_t n;
	FILE *f;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) < 0 ||
	    strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), d->table))
		goto out;
	v = realloc(sl->v, (sl->n + 1) * sizeof(*v));
	if (!v)
		goto nomem;
	sl->v = v;
	v[sl->n].name = strdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
	v[sl->n].timeout = nftnl_set_get_u32(s, NFTNL_SET_FLAGS) &
			   NFT_SET_TIMEOUT;
	if (!v[sl->n].name)
		goto nomem;
	sl->n++;
	f = open_memstream(&line, &len);
	if (!f)
		goto nomem;
	fprintf(f, "set %s flags %x key %u/%u", nftnl_set_get_str(s,
		NFTNL_SET_NAME), nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
		nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
		nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN));
	if (nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE))
		fprintf(f, " data %u/%u", nftnl_set_get_u32(s,
			NFTNL_SET_DATA_TYPE), nftnl_set_get_u32(s,
			NFTNL_SET_DATA_LEN));
	if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT))
		fprintf(f, " timeout %llu", (unsigned long long)
			nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT));
	if (nftnl_set_is_set(s, NFTNL_SET_USERDATA)) {
		const void *p = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &n);

		fprintf(f, " udata ");
		hex(f, p, n);
	}
	fputc('\n', f);
	fclose(f);
	if (keep_line(d, line))
		d->err = -ENOMEM;
out:
	nftnl_set_free(s);
	return MNL_CB_OK;
nomem:
	d->err = -ENOMEM;
	goto out;
}

struct elemctx {
	struct dump *d;
	const char *set;
};

char *kernel_elem_line(const char *set, struct nftnl_set_elem *e)
{
	char *line = NULL;
	size_t len = 0;
	const void *p;
	uint32_t n;
	FILE *f = open_memstream(&line, &len);

	if (!f)
		return NULL;
	fprintf(f, "elem %s", set);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY)) {
		p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &n);
		fputc(' ', f);
		hex(f, p, n);
	}
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)) {
		p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &n);
		fputs(" - ", f);
		hex(f, p, n);
	}
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
		fprintf(f, " flags %x", nftnl_set_elem_get_u32(e,
			NFTNL_SET_ELEM_FLAGS));
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
		fprintf(f, " verdict %d", (int)nftnl_set_elem_get_u32(e,
			NFTNL_SET_ELEM_VERDICT));
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
		fprintf(f, " chain %s", nftnl_set_elem_get_str(e,
			NFTNL_SET_ELEM_CHAIN));
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
		p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &n);
		fputs(" udata ", f);
		hex(f, p, n);
	}
	fputc('\n', f);
	if (fclose(f)) {
		free(line);
		return NULL;
	}
	return line;
}

static int elem_cb(struct nftnl_set_elem *e, void *arg)
{
	struct elemctx *ec = arg;

	return keep_line(ec->d, kernel_elem_line(ec->set, e));
}

static int expr_cb(struct nftnl_expr *e, void *arg)
{
	FILE *f = arg;
	char buf[1024];

	nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
	fprintf(f, " [ %s %s ]", nftnl_expr_get_str(e, NFTNL_EXPR_NAME), buf);
	return 0;
}

static void rule_line(FILE *out, struct nftnl_rule *r)
{
	fprintf(out, "rule %s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	nftnl_expr_foreach(r, expr_cb, out);
	if (nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
		uint32_t n;
		const void *p = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &n);

		fputs(" udata ", out);
		hex(out, p, n);
	}
	fputc('\n', out);
}

/*
 * The rules of a dump, one block per chain: the kernel sends each chain's
 * rules together and in their order; the blocks are then printed sorted
 * by chain name (canonical version 2) or as they came (version 1).
 */
struct ruleblocks {
	struct dump *d;
	struct dump blocks;	/* one string per chain */
	FILE *cur;		/* the stream of the last block */
	char *cur_text;
	size_t cur_len;
	char chain[256];
	bool sorted;
};

static int block_end(struct ruleblocks *rb)
{
	if (!rb->cur)
		return 0;
	if (fclose(rb->cur)) {
		rb->cur = NULL;
		free(rb->cur_text);
		return -ENOMEM;
	}
	rb->cur = NULL;
	return keep_line(&rb->blocks, rb->cur_text);
}

static int rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ruleblocks *rb = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *chain;

	if (!r)
		return MNL_CB_ERROR;
	/* Rules keep their order inside a chain. */
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), rb->d->table))
		goto out;
	if (!rb->sorted) {
		rule_line(rb->d->out, r);
		goto out;
	}
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	if (!rb->cur || strcmp(chain, rb->chain)) {
		if (block_end(rb))
			rb->d->err = -ENOMEM;
		snprintf(rb->chain, sizeof(rb->chain), "%s", chain);
		rb->cur = open_memstream(&rb->cur_text, &rb->cur_len);
		if (!rb->cur) {
			rb->d->err = -ENOMEM;
			goto out;
		}
	}
	rule_line(rb->cur, r);
out:
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* "rule NAME ..." blocks compare by NAME: a block holds one chain. */
static int block_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a + 5, *y = *(char *const *)b + 5;
	size_t nx = strcspn(x, " \n"), ny = strcspn(y, " \n");
	int c = strncmp(x, y, nx < ny ? nx : ny);

	return c ? c : (nx > ny) - (nx < ny);
}

static void blocks_flush(struct ruleblocks *rb)
{
	if (block_end(rb))
		rb->d->err = -ENOMEM;
	if (rb->blocks.n > 1)
		qsort(rb->blocks.lines, rb->blocks.n, sizeof(char *),
		      block_cmp);
	rb->blocks.out = rb->d->out;
	for (size_t i = 0; i < rb->blocks.n; i++) {
		fputs(rb->blocks.lines[i], rb->blocks.out);
		free(rb->blocks.lines[i]);
	}
	free(rb->blocks.lines);
	rb->blocks.lines = NULL;
	rb->blocks.n = rb->blocks.cap = 0;
}

static void fill_rule(struct nlmsghdr *nlh, void *obj)
{
	nftnl_rule_nlmsg_build_payload(nlh, obj);
}

static void fill_elems(struct nlmsghdr *nlh, void *obj)
{
	nftnl_set_elems_nlmsg_build_payload(nlh, obj);
}

static int elems_msg_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct elemctx *ec = arg;
	struct nftnl_set *s = nftnl_set_alloc();
	int ret = MNL_CB_OK;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		errno = EPROTO;
		ret = MNL_CB_ERROR;
	} else if (nftnl_set_elem_foreach(s, elem_cb, ec) < 0) {
		errno = ENOMEM;
		ret = MNL_CB_ERROR;
	}
	nftnl_set_free(s);
	return ret;
}

/* The kernel's elements of one set, as elem lines. */
static int dump_elems(struct conn *c, uint16_t family, struct elemctx *ec)
{
	struct nftnl_set *s = nftnl_set_alloc();
	int ret = -ENOMEM;

	if (!s)
		return -ENOMEM;
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, ec->d->table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, ec->set) < 0)
		goto out;
	ret = dump(c, NFT_MSG_GETSETELEM, family, fill_elems, s, elems_msg_cb,
		   ec);
out:
	nftnl_set_free(s);
	return ret;
}

struct known {
	const char *name;
	struct nftnl_set *s;
};

static int known_cmp(const void *a, const void *b)
{
	return strcmp(((const struct known *)a)->name,
		      ((const struct known *)b)->name);
}

/* The sets of `sent` by name, sorted; *n 0 and NULL for none. */
static int known_index(struct nftnl_set_list *sent, struct known **v,
		       size_t *n)
{
	struct nftnl_set_list_iter *it;
	struct nftnl_set *s;
	size_t cap = 0;
	int ret = 0;

	*v = NULL;
	*n = 0;
	if (!sent || nftnl_set_list_is_empty(sent))
		return 0;
	it = nftnl_set_list_iter_create(sent);
	if (!it)
		return -ENOMEM;
	for (s = nftnl_set_list_iter_next(it); s;
	     s = nftnl_set_list_iter_next(it)) {
		if (!nftnl_set_is_set(s, NFTNL_SET_NAME))
			continue;
		if (*n == cap) {
			struct known *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(*v, cap * sizeof(*nv));
			if (!nv) {
				ret = -ENOMEM;
				break;
			}
			*v = nv;
		}
		(*v)[*n].name = nftnl_set_get_str(s, NFTNL_SET_NAME);
		(*v)[(*n)++].s = s;
	}
	nftnl_set_list_iter_destroy(it);
	if (ret) {
		free(*v);
		*v = NULL;
		*n = 0;
		return ret;
	}
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), known_cmp);
	return 0;
}

static struct nftnl_set *known_find(const struct known *v, size_t n,
				    const char *name)
{
	struct known key = { .name = name };
	const struct known *k;

	if (!v || !n)
		return NULL;
	k = bsearch(&key, v, n, sizeof(*v), known_cmp);
	return k ? k->s : NULL;
}

/*
 * The canonical text. The elements of a set in `sent` are formatted from
 * the objects sent rather than read back: elem_cb gives the same line
 * for a local element as for the kernel's copy of it, and the lines of
 * a set are sorted either way.
 */
static int setinfo_cmp(const void *a, const void *b)
{
	return strcmp(((const struct setinfo *)a)->name,
		      ((const struct setinfo *)b)->name);
}

static int canon(uint16_t family, const char *table,
		 struct nftnl_set_list *sent, int version, char **text,
		 size_t *len)
{
	struct dump d = { .table = table };
	struct setlist sl = { .d = &d };
	struct ruleblocks rb = { .d = &d, .sorted = version >= 2 };
	struct conn c = { NULL, 0, 0 };
	struct nftnl_rule *rf = NULL;
	struct known *kv = NULL;
	size_t kn = 0;
	int ret;

	*text = NULL;
	ret = kernel_table_exists(family, table);
	if (ret <= 0)
		return ret < 0 ? ret : -ENOENT;
	d.out = open_memstream(text, len);
	if (!d.out)
		return -ENOMEM;
	ret = known_index(sent, &kv, &kn);
	if (!ret)
		ret = conn_open(&c);
	if (ret)
		goto out;
	fprintf(d.out, "table %u %s\n", family, table);
	ret = dump(&c, NFT_MSG_GETCHAIN, family, NULL, NULL, chain_cb, &d);
	if (ret || d.err)
		goto out;
	flush_lines(&d);
	ret = dump(&c, NFT_MSG_GETSET, family, NULL, NULL, set_cb, &sl);
	if (ret || d.err)
		goto out;
	flush_lines(&d);
	/* Version 2: each set's elements in the order of the set names,
	 * not of their creation, so that a table changed in place and one
	 * loaded whole give the same text. */
	if (rb.sorted && sl.n > 1)
		qsort(sl.v, sl.n, sizeof(*sl.v), setinfo_cmp);
	for (size_t i = 0; i < sl.n; i++) {
		struct elemctx ec = { &d, sl.v[i].name };
		struct nftnl_set *s;

		if (sl.v[i].timeout)
			continue;
		s = known_find(kv, kn, sl.v[i].name);
		if (s)
			ret = nftnl_set_elem_foreach(s, elem_cb, &ec) < 0 ?
			      -ENOMEM : 0;
		else
			ret = dump_elems(&c, family, &ec);
		if (ret)
			goto out;
		flush_lines(&d);
	}
	rf = nftnl_rule_alloc();
	if (!rf) {
		ret = -ENOMEM;
		goto out;
	}
	nftnl_rule_set_str(rf, NFTNL_RULE_TABLE, table);
	ret = dump(&c, NFT_MSG_GETRULE, family, fill_rule, rf, rule_cb, &rb);
	if (!ret && rb.sorted)
		blocks_flush(&rb);
out:
	if (rb.cur) {
		fclose(rb.cur);
		free(rb.cur_text);
	}
	for (size_t i = 0; i < rb.blocks.n; i++)
		free(rb.blocks.lines[i]);
	free(rb.blocks.lines);
	conn_close(&c);
	free(kv);
	if (rf)
		nftnl_rule_free(rf);
	for (size_t i = 0; i < sl.n; i++)
		free(sl.v[i].name);
	free(sl.v);
	for (size_t i = 0; i < d.n; i++)
		free(d.lines[i]);
	free(d.lines);
	if (fclose(d.out) && !ret)
		ret = -EIO;
	if (!ret && d.err)
		ret = d.err;
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

int kernel_table_canon(uint16_t family, const char *table, char **text,
		       size_t *len)
{
	return canon(family, table, NULL, KERNEL_CANON_VERSION, text, len);
}

int kernel_table_canon_v(uint16_t family, const char *table, int version,
			 char **text, size_t *len)
{
	return canon(family, table, NULL, version, text, len);
}

int kernel_table_canon_sent(uint16_t family, const char *table,
			    struct nftnl_set_list *sent, char **text,
			    size_t *len)
{
	return canon(family, table, sent, KERNEL_CANON_VERSION, text, len);
}

int kernel_canon_digest(const char *text, size_t len, char hex64[65])
{
	uint8_t md[32];
	unsigned int n = 32;

	if (!EVP_Digest(text, len, md, &n, EVP_sha256(), NULL))
		return -EIO;
	for (int i = 0; i < 32; i++)
		snprintf(hex64 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int digest(uint16_t family, const char *table,
		  struct nftnl_set_list *sent, int version, char hex64[65])
{
	char *text;
	size_t len;
	int ret = canon(family, table, sent, version, &text, &len);

	if (ret)
		return ret;
	ret = kernel_canon_digest(text, len, hex64);
	free(text);
	return ret;
}

int kernel_table_digest(uint16_t family, const char *table, char hex64[65])
{
	return digest(family, table, NULL, KERNEL_CANON_VERSION, hex64);
}

int kernel_table_digest_v(uint16_t family, const char *table, int version,
			  char hex64[65])
{
	return digest(family, table, NULL, version, hex64);
}

int kernel_table_digest_sent(uint16_t family, const char *table,
			     struct nftnl_set_list *sent, char hex64[65])
{
	return digest(family, table, sent, KERNEL_CANON_VERSION, hex64);
}

struct countctx {
	size_t n;
	uint64_t min_left, max_left;
};

static int count_cb(struct nftnl_set_elem *e, void *arg)
{
	struct countctx *c = arg;
	uint64_t left = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION) ?
			nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION) : 0;

	if (!c->n || left < c->min_left)
		c->min_left = left;
	if (left > c->max_left)
		c->max_left = left;
	c->n++;
	return 0;
}

int kernel_set_stats(uint16_t family, const char *table, const char *set,
		     size_t *n, uint64_t *min_left_ms, uint64_t *max_left_ms)
{
	struct countctx c = { 0 };
	int ret = kernel_list_set_elements(family, table, set, count_cb, &c);

	*n = c.n;
	*min_left_ms = c.min_left;
	*max_left_ms = c.max_left;
	return ret;
}

/* ---- the same text from a batch, before it is sent ---- */

/* What a batch holds for one table, in the kernel's order: chains and
 * sets as created, each chain's rules as appended, each set's elements. */
struct bcanon {
	struct dump chains, sets;
	struct setlist sl;
	struct dump *elems;	/* per set of sl */
	struct bchain {
		char *name;
		FILE *rules;	/* its rule lines, appended in order */
		char *text;	/* (the stream writes here: never moved) */
		size_t len;
	} **chain;		/* created order */
	size_t n_chains;
	size_t last;		/* the chain of the last rule */
};

static void bcanon_free(struct bcanon *bc)
{
	for (size_t i = 0; i < bc->chains.n; i++)
		free(bc->chains.lines[i]);
	free(bc->chains.lines);
	for (size_t i = 0; i < bc->sets.n; i++)
		free(bc->sets.lines[i]);
	free(bc->sets.lines);
	for (size_t i = 0; i < bc->sl.n; i++) {
		free(bc->sl.v[i].name);
		for (size_t j = 0; j < bc->elems[i].n; j++)
			free(bc->elems[i].lines[j]);
		free(bc->elems[i].lines);
	}
	free(bc->sl.v);
	free(bc->elems);
	for (size_t i = 0; i < bc->n_chains; i++) {
		fclose(bc->chain[i]->rules);
		free(bc->chain[i]->text);
		free(bc->chain[i]->name);
		free(bc->chain[i]);
	}
	free(bc->chain);
	memset(bc, 0, sizeof(*bc));
}

static int bcanon_chain(struct bcanon *bc, const struct nlmsghdr *nlh)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	size_t n = bc->n_chains, before = bc->chains.n;
	int ret = -ENOMEM;
	void *p;

	if (!c)
		return -ENOMEM;
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0) {
		ret = -EPROTO;
		goto out;
	}
	chain_cb(nlh, &bc->chains);
	if (bc->chains.err || bc->chains.n == before) {
		ret = bc->chains.err ? bc->chains.err : 0;
		goto out;
	}
	/* An array of pointers: each chain's stream writes into its own
	 * struct, which must not move. */
	if (!(p = realloc(bc->chain, (n + 1) *
			  sizeof(struct bchain *)))) // NOLINT(bugprone-sizeof-expression)
		goto out;
	bc->chain = p;
	bc->chain[n] = calloc(1, sizeof(**bc->chain));
	if (!bc->chain[n])
		goto out;
	bc->chain[n]->name = strdup(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	if (bc->chain[n]->name)
		bc->chain[n]->rules = open_memstream(&bc->chain[n]->text,
						     &bc->chain[n]->len);
	if (!bc->chain[n]->rules) {
		free(bc->chain[n]->name);
		free(bc->chain[n]);
		goto out;
	}
	bc->n_chains++;
	ret = 0;
out:
	nftnl_chain_free(c);
	return ret;
}

static int bcanon_set(struct bcanon *bc, const struct nlmsghdr *nlh)
{
	size_t before = bc->sl.n;
	struct dump *v;

	/* Room first: every set set_cb() lists has its element lines. */
	v = realloc(bc->elems, (before + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	bc->elems = v;
	memset(&v[before], 0, sizeof(*v));
	v[before].table = bc->sets.table;
	set_cb(nlh, &bc->sl);
	return bc->sets.err;
}

/* The kernel reports a lookup's flags even when they are 0, which a
 * request leaves out. */
static int lookup_flags(struct nftnl_expr *e, void *arg)
{
	(void)arg;
	if (!strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "lookup") &&
	    !nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS))
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, 0);
	return 0;
}

static int bcanon_rule(struct bcanon *bc, const struct nlmsghdr *nlh)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *chain;
	size_t i;
	int ret = 0;

	if (!r)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		ret = -EPROTO;
		goto out;
	}
	if (strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), bc->sets.table))
		goto out;
	ret = -ENOENT;
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	/* A batch appends a chain's rules one after the other: the chain
	 * of the last rule first. */
	if (bc->last < bc->n_chains && !strcmp(bc->chain[bc->last]->name,
					       chain))
		i = bc->last;
	else
		for (i = 0; i < bc->n_chains; i++)
			if (!strcmp(bc->chain[i]->name, chain))
				break;
	if (i < bc->n_chains) {
		nftnl_expr_foreach(r, lookup_flags, NULL);
		rule_line(bc->chain[i]->rules, r);
		bc->last = i;
		ret = 0;
	}
out:
	nftnl_rule_free(r);
	return ret;
}

static int table_of(const struct nlmsghdr *nlh, const char *table, bool *is)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return -ENOMEM;
	*is = nftnl_table_nlmsg_parse(nlh, t) >= 0 &&
	      nftnl_table_is_set(t, NFTNL_TABLE_NAME) &&
	      !strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), table);
	nftnl_table_free(t);
	return 0;
}

static int bchain_cmp(const void *a, const void *b)
{
	return strcmp((*(struct bchain *const *)a)->name,
		      (*(struct bchain *const *)b)->name);
}

/* Indexes of bc's sets compare by the sets' names (version 2). */
static int bset_cmp(const void *a, const void *b, void *arg)
{
	const struct bcanon *bc = arg;

	return strcmp(bc->sl.v[*(const size_t *)a].name,
		      bc->sl.v[*(const size_t *)b].name);
}

int kbatch_table_canon(const struct kbatch *b, uint16_t family,
		       const char *table, struct nftnl_set_list *sent,
		       char **text, size_t *len)
{
	struct bcanon bc = { 0 };
	struct known *kv = NULL;
	size_t kn = 0, *order = NULL;
	const struct nlmsghdr *nlh;
	FILE *out = NULL;
	int ret = 0;

	*text = NULL;
	for (size_t i = 0; !ret && (nlh = kbatch_msg(b, i)); i++) {
		const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
		bool is;

		bc.chains.table = bc.sets.table = table;
		bc.sl.d = &bc.sets;
		if (g->nfgen_family != family)
			continue;
		switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
		case NFT_MSG_DELTABLE:
			/* The replace: what the batch says after it is all
			 * there will be. */
			ret = table_of(nlh, table, &is);
			if (!ret && is)
				bcanon_free(&bc);
			break;
		case NFT_MSG_NEWCHAIN:
			ret = bcanon_chain(&bc, nlh);
			break;
		case NFT_MSG_NEWSET:
			ret = bcanon_set(&bc, nlh);
			break;
		case NFT_MSG_NEWRULE:
			ret = bcanon_rule(&bc, nlh);
			break;
		}
	}
	if (!ret && !bc.n_chains && !bc.sl.n)
		ret = -ENOENT;
	if (!ret)
		ret = known_index(sent, &kv, &kn);
	/* The elements of each set are those of the objects sent, as in
	 * canon(); timeout sets are left out. */
	for (size_t i = 0; !ret && i < bc.sl.n; i++) {
		struct elemctx ec = { &bc.elems[i], bc.sl.v[i].name };
		struct nftnl_set *s;

		if (bc.sl.v[i].timeout)
			continue;
		s = known_find(kv, kn, bc.sl.v[i].name);
		if (!s)
			ret = -ENOENT;
		else if (nftnl_set_elem_foreach(s, elem_cb, &ec) < 0)
			ret = -ENOMEM;
	}
	if (ret)
		goto out;
	/* Canonical version 2: sets' elements and chains' rules in name
	 * order, as canon() prints them. */
	order = calloc(bc.sl.n + 1, sizeof(*order));
	out = order ? open_memstream(text, len) : NULL;
	if (!out) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < bc.sl.n; i++)
		order[i] = i;
	if (bc.sl.n > 1)
		qsort_r(order, bc.sl.n, sizeof(*order), bset_cmp, &bc);
	if (bc.n_chains > 1)
		qsort(bc.chain, bc.n_chains, sizeof(*bc.chain), // NOLINT(bugprone-sizeof-expression)
		      bchain_cmp);
	fprintf(out, "table %u %s\n", family, table);
	bc.chains.out = bc.sets.out = out;
	flush_lines(&bc.chains);
	flush_lines(&bc.sets);
	for (size_t i = 0; i < bc.sl.n; i++) {
		bc.elems[order[i]].out = out;
		flush_lines(&bc.elems[order[i]]);
	}
	for (size_t i = 0; i < bc.n_chains; i++) {
		if (fflush(bc.chain[i]->rules))
			ret = -ENOMEM;
		else
			fwrite(bc.chain[i]->text, 1, bc.chain[i]->len, out);
	}
	if (fclose(out) && !ret)
		ret = -EIO;
out:
	free(order);
	free(kv);
	bcanon_free(&bc);
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

int kbatch_table_digest(const struct kbatch *b, uint16_t family,
			const char *table, struct nftnl_set_list *sent,
			char hex64[65])
{
	char *text;
	size_t len;
	int ret = kbatch_table_canon(b, family, table, sent, &text, &len);

	if (!ret)
		ret = kernel_canon_digest(text, len, hex64);
	free(text);
	return ret;
}
