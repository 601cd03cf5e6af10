// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A change made in place. Given the live table's canonical text (version
 * 2, kernel_dump.h) and that of the table a full batch would load, builds
 * one batch that touches only what differs: chains flushed and refilled,
 * chains and sets added and removed, sets whose definition changed
 * removed and created again, static elements deleted and added one by
 * one. The kernel applies it as one transaction, like the full batch.
 * The elements of timeout sets (the FQDN sets, the log limits) are not in
 * the canonical text, so a set left as it was keeps what it learned.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "kdelta.h"
#include "kernel.h"
#include "kernel_dump.h"

/* What the delta does with an object. */
enum {
	KEEP = 0,
	ADD = 1,	/* new: created, filled */
	DEL = 2,	/* gone: removed (chains flushed first) */
	REFILL = 4,	/* chain: its rules replaced */
	RECREATE = 8,	/* set: removed and created again, filled */
	ELEMS = 16,	/* set: elements deleted and added */
	FLUSH = 32,	/* set: every element replaced */
};

struct obj {
	const char *name;
	size_t nlen;
	const char *hdr;	/* its "chain" or "set" line */
	size_t hlen;
	const char *body;	/* its rule or element lines, or NULL */
	size_t blen;
	unsigned int flags;	/* sets: NFT_SET_* */
	int mark;
};

struct view {
	struct obj *chains, *sets;
	size_t nc, ns;
};

static void view_free(struct view *v)
{
	free(v->chains);
	free(v->sets);
	memset(v, 0, sizeof(*v));
}

static int obj_cmp(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->nlen < y->nlen ? x->nlen : y->nlen);

	return c ? c : (x->nlen > y->nlen) - (x->nlen < y->nlen);
}

static struct obj *find(struct obj *v, size_t n, const char *name,
			size_t nlen)
{
	struct obj key = { .name = name, .nlen = nlen };

	return n ? bsearch(&key, v, n, sizeof(*v), obj_cmp) : NULL;
}

/* The word after the first `skip` bytes of a line. */
static size_t word(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && p[n] != ' ' && p[n] != '\n')
		n++;
	return n;
}

static int push(struct obj **v, size_t *n, size_t *cap, const struct obj *o)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		struct obj *nv = reallocarray(*v, c, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = *o;
	return 0;
}

/* Extends the body of `o` by the line at p..eol (lines of one object
 * come together). */
static int body_add(struct obj *o, const char *p, const char *eol)
{
	if (!o)
		return -EPROTO;
	if (!o->body)
		o->body = p;
	else if (o->body + o->blen != p)
		return -EPROTO;		/* not contiguous */
	o->blen = (size_t)(eol - o->body);
	return 0;
}

static int view_parse(const char *text, size_t len, struct view *v)
{
	const char *end = text + len, *p;
	size_t cc = 0, sc = 0;
	int ret = 0;

	memset(v, 0, sizeof(*v));
	/* Chains and sets first, then the bodies that name them. */
	for (p = text; !ret && p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct obj o = { 0 };

		eol = eol ? eol + 1 : end;
		if (!strncmp(p, "chain ", 6)) {
			o.name = p + 6;
			o.nlen = word(o.name, eol);
			o.hdr = p;
			o.hlen = (size_t)(eol - p);
			ret = push(&v->chains, &v->nc, &cc, &o);
		} else if (!strncmp(p, "set ", 4)) {
			const char *f;

			o.name = p + 4;
			o.nlen = word(o.name, eol);
			o.hdr = p;
			o.hlen = (size_t)(eol - p);
			f = memmem(p, (size_t)(eol - p), " flags ", 7);
			o.flags = f ? (unsigned int)strtoul(f + 7, NULL, 16) : 0;
			ret = push(&v->sets, &v->ns, &sc, &o);
		}
		p = eol;
	}
	if (ret)
		goto fail;
	if (v->nc > 1)
		qsort(v->chains, v->nc, sizeof(*v->chains), obj_cmp);
	if (v->ns > 1)
		qsort(v->sets, v->ns, sizeof(*v->sets), obj_cmp);
	for (p = text; !ret && p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		eol = eol ? eol + 1 : end;
		if (!strncmp(p, "elem ", 5))
			ret = body_add(find(v->sets, v->ns, p + 5,
					    word(p + 5, eol)), p, eol);
		else if (!strncmp(p, "rule ", 5))
			ret = body_add(find(v->chains, v->nc, p + 5,
					    word(p + 5, eol)), p, eol);
		p = eol;
	}
	if (!ret)
		return 0;
fail:
	view_free(v);
	return ret;
}

static bool same(const char *a, size_t na, const char *b, size_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na));
}

/* Marks REFILL every chain of `v` whose rules use a set that the delta
 * removes or creates again: a set in use cannot be removed. */
static void refill_users(struct view *v, struct view *old)
{
	for (size_t i = 0; i < v->nc; i++) {
		struct obj *c = &v->chains[i];
		const char *p = c->body, *end = c->body + c->blen;

		while (p && p < end && !(c->mark & (REFILL | ADD | DEL))) {
			const char *s = memmem(p, (size_t)(end - p), " set ", 5);
			struct obj *set;

			if (!s)
				break;
			s += 5;
			set = find(old->sets, old->ns, s, word(s, end));
			if (set && (set->mark & (DEL | RECREATE)))
				c->mark |= REFILL;
			p = s;
		}
	}
}

/* ---- the messages of the full batch ---- */

/* The name a message of the full batch is about: its chain, set, or
 * (for rules) chain; NULL for the table's own messages. */
static const char *msg_name(const struct nlmsghdr *nlh, uint16_t *type)
{
	const struct nlattr *a;
	uint16_t want;

	*type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	switch (*type) {
	case NFT_MSG_NEWCHAIN:
		want = NFTA_CHAIN_NAME;
		break;
	case NFT_MSG_NEWSET:
		want = NFTA_SET_NAME;
		break;
	case NFT_MSG_NEWSETELEM:
		want = NFTA_SET_ELEM_LIST_SET;
		break;
	case NFT_MSG_NEWRULE:
		want = NFTA_RULE_CHAIN;
		break;
	default:
		return NULL;
	}
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == want)
			return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) ?
			       NULL : mnl_attr_get_str(a);
	return NULL;
}

/* Copies the full batch's messages of `type` about objects of `v` marked
 * with any of `marks`, in the full batch's order. */
static int copy_msgs(struct kbatch *out, const struct kbatch *full,
		     uint16_t want, struct view *v, bool sets, int marks)
{
	const struct nlmsghdr *nlh;
	int ret = 0;

	for (size_t i = 0; !ret && (nlh = kbatch_msg(full, i)); i++) {
		uint16_t type;
		const char *name = msg_name(nlh, &type);
		struct obj *o;

		if (!name || type != want)
			continue;
		o = sets ? find(v->sets, v->ns, name, strlen(name)) :
			   find(v->chains, v->nc, name, strlen(name));
		if (o && (o->mark & marks))
			ret = kbatch_add_copy(out, nlh);
	}
	return ret;
}

/* ---- elements one by one ---- */

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The hex digits at p (kernel_dump.c writes lower case) into out. */
static int unhex(const char *p, const char *end, uint8_t *out, size_t max,
		 size_t *n)
{
	*n = 0;
	while (p + 1 < end && p[0] != ' ' && p[0] != '\n') {
		int hi = nibble(p[0]), lo = nibble(p[1]);

		if (*n == max || hi < 0 || lo < 0)
			return -EPROTO;
		out[(*n)++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	return 0;
}

/* An element from its canonical line (kernel_elem_line()): its key, key
 * end and flags, which a delete finds it by, and for an add its verdict,
 * chain and comment. Elements of the sets a line stands for carry
 * nothing else (timeout sets have no lines). */
static struct nftnl_set_elem *elem_of_line(const char *p, const char *eol)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint8_t key[NFT_DATA_VALUE_MAXLEN];
	char chain[256];
	size_t n;

	if (!e)
		return NULL;
	p += 5;
	p += word(p, eol) + 1;			/* the set's name */
	if (unhex(p, eol, key, sizeof(key), &n) || !n)
		goto fail;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)n);
	p += 2 * n;
	if (!strncmp(p, " - ", 3)) {
		p += 3;
		if (unhex(p, eol, key, sizeof(key), &n) || !n)
			goto fail;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, key, (uint32_t)n);
		p += 2 * n;
	}
	if (!strncmp(p, " flags ", 7)) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
				       (uint32_t)strtoul(p + 7, NULL, 16));
		p += 7 + word(p + 7, eol);
	}
	if (!strncmp(p, " verdict ", 9)) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT,
				       (uint32_t)strtol(p + 9, NULL, 10));
		p += 9 + word(p + 9, eol);
	}
	if (!strncmp(p, " chain ", 7)) {
		n = word(p + 7, eol);
		if (n >= sizeof(chain))
			goto fail;
		memcpy(chain, p + 7, n);
		chain[n] = '\0';
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
		p += 7 + n;
	}
	if (!strncmp(p, " udata ", 7)) {
		if (unhex(p + 7, eol, key, sizeof(key), &n))
			goto fail;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, key,
				   (uint32_t)n);
		p += 7 + 2 * n;
	}
	if (*p != '\n')
		goto fail;		/* a field this reader does not know */
	return e;
fail:
	nftnl_set_elem_free(e);
	errno = EPROTO;
	return NULL;
}

static struct nftnl_set *bare_set(uint16_t family, const char *table,
				  const struct obj *o)
{
	struct nftnl_set *s = nftnl_set_alloc();
	char name[256];

	if (!s)
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)o->nlen, o->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, family);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/*
 * The element lines only in `o` (old) go into one delete, those only in
 * `n` (new) into one add. Both bodies are sorted (kernel_dump.c sorts a
 * set's lines), so one walk finds both.
 */
static int elems_delta(struct kbatch *del, struct kbatch *add,
		       uint16_t family, const char *table, const struct obj *o,
		       const struct obj *n, struct kdelta_stats *st)
{
	/* A set without elements has no body. */
	const char *a = o->body ? o->body : "", *ae = a + o->blen;
	const char *b = n->body ? n->body : "", *be = b + n->blen;
	struct nftnl_set *gone = bare_set(family, table, o);
	struct nftnl_set *come = bare_set(family, table, n);
	size_t ndel = 0, nadd = 0;
	int ret = gone && come ? 0 : -ENOMEM;

	while (!ret && (a < ae || b < be)) {
		const char *aeol = a < ae ? memchr(a, '\n', (size_t)(ae - a)) :
				   NULL;
		const char *beol = b < be ? memchr(b, '\n', (size_t)(be - b)) :
				   NULL;
		size_t al = aeol ? (size_t)(aeol - a) : 0;
		size_t bl = beol ? (size_t)(beol - b) : 0;
		struct nftnl_set_elem *e;
		int c;

		if ((a < ae && !aeol) || (b < be && !beol)) {
			ret = -EPROTO;	/* every line ends in '\n' */
			break;
		}
		if (!aeol)
			c = 1;
		else if (!beol)
			c = -1;
		else {
			c = memcmp(a, b, al < bl ? al : bl);
			if (!c)
				c = (al > bl) - (al < bl);
		}
		if (c) {	/* only in the old: delete; the new: add */
			e = c < 0 ? elem_of_line(a, aeol) :
				    elem_of_line(b, beol);
			if (!e)
				ret = -errno;
			else if (c < 0) {
				nftnl_set_elem_add(gone, e);
				ndel++;
			} else {
				nftnl_set_elem_add(come, e);
				nadd++;
			}
		}
		if (c <= 0)
			a = aeol + 1;
		if (c >= 0)
			b = beol + 1;
	}
	st->elems_removed += ndel;
	st->elems_added += nadd;
	if (!ret && ndel) {
		int r = kbatch_del_elems(del, gone);

		ret = r < 0 ? r : 0;
	}
	if (!ret && nadd) {
		int r = kbatch_add_elems(add, come);

		ret = r < 0 ? r : 0;
	}
	if (gone)
		nftnl_set_free(gone);
	if (come)
		nftnl_set_free(come);
	return ret;
}

/* ---- the delta ---- */

static int mark_objects(struct view *ov, struct view *nv,
			struct kdelta_stats *st)
{
	for (size_t i = 0; i < nv->nc; i++) {
		struct obj *n = &nv->chains[i];
		struct obj *o = find(ov->chains, ov->nc, n->name, n->nlen);

		if (!o) {
			n->mark = ADD;
			st->chains_added++;
		} else if (!same(o->hdr, o->hlen, n->hdr, n->hlen)) {
			return -ENOTSUP;	/* hook, policy, comment */
		} else if (!same(o->body, o->blen, n->body, n->blen)) {
			n->mark = o->mark = REFILL;
		}
	}
	for (size_t i = 0; i < ov->nc; i++)
		if (!find(nv->chains, nv->nc, ov->chains[i].name,
			  ov->chains[i].nlen)) {
			ov->chains[i].mark = DEL;
			st->chains_removed++;
		}
	for (size_t i = 0; i < nv->ns; i++) {
		struct obj *n = &nv->sets[i];
		struct obj *o = find(ov->sets, ov->ns, n->name, n->nlen);

		if (!o) {
			n->mark = ADD;
			st->sets_added++;
		} else if (!same(o->hdr, o->hlen, n->hdr, n->hlen)) {
			n->mark = o->mark = RECREATE;
			st->sets_recreated++;
		} else if (!same(o->body, o->blen, n->body, n->blen)) {
			/* An interval set of one field keeps its ranges as
			 * start and end elements: replaced whole. */
			n->mark = o->mark =
				(n->flags & NFT_SET_INTERVAL) &&
				!(n->flags & NFT_SET_CONCAT) ? FLUSH : ELEMS;
			if (n->mark == FLUSH)
				st->sets_refilled++;
		}
	}
	for (size_t i = 0; i < ov->ns; i++)
		if (!find(nv->sets, nv->ns, ov->sets[i].name,
			  ov->sets[i].nlen)) {
			ov->sets[i].mark = DEL;
			st->sets_removed++;
		}
	/* A set removed or made again takes the rules that use it along. */
	refill_users(ov, ov);
	refill_users(nv, ov);
	for (size_t i = 0; i < nv->nc; i++) {
		struct obj *n = &nv->chains[i];
		struct obj *o = find(ov->chains, ov->nc, n->name, n->nlen);

		if (o && ((o->mark | n->mark) & REFILL) && !(n->mark & ADD)) {
			n->mark = o->mark = REFILL;
		}
	}
	for (size_t i = 0; i < nv->nc; i++)
		if (nv->chains[i].mark & REFILL)
			st->chains_refilled++;
	return 0;
}

static int emit_named(struct kbatch *b, struct view *v, bool sets, int mark,
		      uint16_t family, const char *table,
		      enum kbatch_del what)
{
	struct obj *list = sets ? v->sets : v->chains;
	size_t n = sets ? v->ns : v->nc;
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		char name[256];

		if (!(list[i].mark & mark))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)list[i].nlen,
			 list[i].name);
		ret = kbatch_del_named(b, what, family, table, name);
	}
	return ret;
}

int kdelta_build(const char *live, size_t live_len, const char *want,
		 size_t want_len, const struct kbatch *full, uint16_t family,
		 const char *table, struct kbatch **out,
		 struct kdelta_stats *st)
{
	struct view ov, nv;
	struct kbatch *b = NULL, *adds = NULL;
	const struct nlmsghdr *nlh;
	int ret;

	*out = NULL;
	memset(st, 0, sizeof(*st));
	ret = view_parse(live, live_len, &ov);
	if (ret)
		return ret;
	ret = view_parse(want, want_len, &nv);
	if (ret) {
		view_free(&ov);
		return ret;
	}
	ret = mark_objects(&ov, &nv, st);
	if (ret)
		goto out;
	b = kbatch_new();
	adds = kbatch_new();
	if (!b || !adds) {
		ret = -ENOMEM;
		goto out;
	}
	/* Away first: rules of changed and removed chains, elements, sets,
	 * chains, each once nothing uses it any more. */
	ret = emit_named(b, &ov, false, REFILL | DEL, family, table,
			 KDEL_RULES);
	for (size_t i = 0; !ret && i < nv.ns; i++) {
		struct obj *n = &nv.sets[i];
		struct obj *o = find(ov.sets, ov.ns, n->name, n->nlen);

		if (o && (n->mark & ELEMS))
			ret = elems_delta(b, adds, family, table, o, n, st);
	}
	if (!ret)
		ret = emit_named(b, &ov, true, FLUSH, family, table,
				 KDEL_ELEMS);
	if (!ret)
		ret = emit_named(b, &ov, true, DEL | RECREATE, family, table,
				 KDEL_SET);
	if (!ret)
		ret = emit_named(b, &ov, false, DEL, family, table,
				 KDEL_CHAIN);
	/* Then in: chains, sets, elements, rules, as the full batch has
	 * them. */
	if (!ret)
		ret = copy_msgs(b, full, NFT_MSG_NEWCHAIN, &nv, false, ADD);
	if (!ret)
		ret = copy_msgs(b, full, NFT_MSG_NEWSET, &nv, true,
				ADD | RECREATE);
	if (!ret)
		ret = copy_msgs(b, full, NFT_MSG_NEWSETELEM, &nv, true,
				ADD | RECREATE | FLUSH);
	for (size_t i = 0; !ret && (nlh = kbatch_msg(adds, i)); i++)
		ret = kbatch_add_copy(b, nlh);
	if (!ret)
		ret = copy_msgs(b, full, NFT_MSG_NEWRULE, &nv, false,
				ADD | REFILL);
out:
	view_free(&ov);
	view_free(&nv);
	kbatch_free(adds);
	if (ret)
		kbatch_free(b);
	else
		*out = b;
	return ret;
}
