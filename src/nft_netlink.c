// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ruleset as libnftnl objects in one batch (sanso apply). The kernel
 * must end up holding exactly what `nft -f` makes of the text that
 * src/nft_text.c prints, so every lowering here is the one nftables 1.0.6
 * emits, read off `nft --debug=netlink` and checked against the kernel's
 * own dumps by tests/unit/test_nft_netlink.c:
 *
 *  - in an inet table nft makes a rule check `meta nfproto` before its
 *    first ip or ip6 field and `meta l4proto` before its first tcp, udp,
 *    icmp or icmpv6 field, once per rule, always in register 1;
 *  - registers are counted in 32-bit words and named as the 128-bit
 *    register that starts at the same word when there is one;
 *  - host-order values are turned to network order before a lookup:
 *    meta time (8 bytes) and meta l4proto inside a concatenation;
 *  - a range is two comparisons, a range that must not match is one range
 *    expression, and an address prefix is a masked comparison, or a
 *    shorter load when it ends on a byte;
 *  - set userdata records the key's byte order and its `typeof`, without
 *    which `nft list` cannot print the keys;
 *  - an interval set of one field holds each range as a start element and
 *    an end element one past its high bound, behind an end element at
 *    zero; a concatenation holds each range as one element with a key and
 *    a key end, each field padded to 32 bits;
 *  - a dynamic set (the per-source log limits) has the timeout and eval
 *    flags, its size and timeout, and is written to by a dynset update
 *    whose one limit goes in as the single expression, with a timeout of
 *    0 (the set's own);
 *  - objects go in nft's order (chains, sets each with its elements,
 *    rules), so that even the handles the kernel gives out agree.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "kernel.h"
#include "nft_netlink.h"
#include "ruleset.h"

/* nftables' own numbers (include/datatype.h, include/expression.h), which
 * it stores in set key types and userdata and reads back to print. */
enum {
	DT_IPADDR = 7,
	DT_IP6ADDR = 8,
	DT_INET_PROTOCOL = 12,
	DT_INET_SERVICE = 13,
	DT_ICMP_TYPE = 14,
	DT_CT_STATE = 26,
	DT_ICMP6_TYPE = 29,
	DT_IFNAME = 41,
	DT_TIME_DATE = 43,
	DT_TIME_HOUR = 44,
	DT_TIME_DAY = 45,
};
#define DT_BITS		6	/* a concatenation's type: 6 bits a field */

enum { BO_INVALID, BO_HOST, BO_BIG };	/* enum byteorder */
enum { EXPR_META = 9, EXPR_CONCAT = 13 };	/* enum expr_types */
#define UDATA_META_KEY	0	/* meta's typeof data: its key */
#define UDATA_MAX	256
#define VERDICT_LEN	16	/* a verdict map's data: one register */

enum load { LD_META, LD_PAYLOAD, LD_CT };

struct field_nl {
	uint8_t how;		/* enum load */
	uint8_t key;		/* meta or ct key, or payload base */
	uint8_t offset;		/* payload */
	uint8_t nfproto;	/* what nft checks before the field */
	uint8_t l4proto;
	uint8_t dtype;
	bool host;		/* the kernel loads it in host order */
};

static const struct field_nl fields[RF_COUNT] = {
	[RF_IIFNAME] = { LD_META, NFT_META_IIFNAME, 0, 0, 0, DT_IFNAME,
			 false },
	[RF_OIFNAME] = { LD_META, NFT_META_OIFNAME, 0, 0, 0, DT_IFNAME,
			 false },
	[RF_SADDR4] = { LD_PAYLOAD, NFT_PAYLOAD_NETWORK_HEADER, 12,
			NFPROTO_IPV4, 0, DT_IPADDR, false },
	[RF_DADDR4] = { LD_PAYLOAD, NFT_PAYLOAD_NETWORK_HEADER, 16,
			NFPROTO_IPV4, 0, DT_IPADDR, false },
	[RF_SADDR6] = { LD_PAYLOAD, NFT_PAYLOAD_NETWORK_HEADER, 8,
			NFPROTO_IPV6, 0, DT_IP6ADDR, false },
	[RF_DADDR6] = { LD_PAYLOAD, NFT_PAYLOAD_NETWORK_HEADER, 24,
			NFPROTO_IPV6, 0, DT_IP6ADDR, false },
	[RF_L4PROTO] = { LD_META, NFT_META_L4PROTO, 0, 0, 0,
			 DT_INET_PROTOCOL, true },
	[RF_DPORT] = { LD_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 0, 0,
		       DT_INET_SERVICE, false },
	[RF_TCP_DPORT] = { LD_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 0,
			   IPPROTO_TCP, DT_INET_SERVICE, false },
	[RF_UDP_DPORT] = { LD_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 0,
			   IPPROTO_UDP, DT_INET_SERVICE, false },
	[RF_ICMP_TYPE] = { LD_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 0,
			   NFPROTO_IPV4, IPPROTO_ICMP, DT_ICMP_TYPE, false },
	[RF_ICMPV6_TYPE] = { LD_PAYLOAD, NFT_PAYLOAD_TRANSPORT_HEADER, 0,
			     NFPROTO_IPV6, IPPROTO_ICMPV6, DT_ICMP6_TYPE,
			     false },
	[RF_HOUR] = { LD_META, NFT_META_TIME_HOUR, 0, 0, 0, DT_TIME_HOUR,
		      true },
	[RF_DAY] = { LD_META, NFT_META_TIME_DAY, 0, 0, 0, DT_TIME_DAY, true },
	[RF_TIME] = { LD_META, NFT_META_TIME_NS, 0, 0, 0, DT_TIME_DATE, true },
	[RF_CT_STATE] = { LD_CT, NFT_CT_STATE, 0, 0, 0, DT_CT_STATE, true },
};

static bool is_addr(enum rs_field f)
{
	return f == RF_SADDR4 || f == RF_DADDR4 || f == RF_SADDR6 ||
	       f == RF_DADDR6;
}

static size_t padded(size_t len)
{
	return (len + 3) & ~(size_t)3;
}

/* nft counts registers in 32-bit words from NFT_REG_1 and names a word
 * by its 128-bit register when one starts there. */
static uint32_t reg(unsigned int word)
{
	return word % 4 ? NFT_REG32_00 + word : NFT_REG_1 + word / 4;
}

/* ---- sets ---- */

/* Where each set went in the batch, for lookups: its ID by address. */
struct set_id {
	const struct rs_set *s;
	uint32_t id;
};

struct ids {
	struct set_id *v;
	size_t n;
};

static int set_id_cmp(const void *a, const void *b)
{
	const struct set_id *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

static uint32_t set_id_of(const struct ids *ids, const struct rs_set *s)
{
	struct set_id key = { .s = s }, *hit;

	hit = bsearch(&key, ids->v, ids->n, sizeof(key), set_id_cmp);
	return hit ? hit->id : 0;
}

/* One key in the kernel's layout: every field padded to 32 bits. */
static size_t key_layout(const struct rs_set *s, const uint8_t *k,
			 uint8_t *out)
{
	size_t off = 0, in = 0;

	for (int i = 0; i < s->n_key; i++) {
		size_t n = rs_fields[s->key[i]].len;

		memset(out + off, 0, padded(n));
		memcpy(out + off, k + in, n);
		in += n;
		off += padded(n);
	}
	return off;
}

static int put_typeof(struct nftnl_udata_buf *u, uint32_t etype,
		      const uint32_t *meta_key)
{
	struct nftnl_udata *outer, *data;

	outer = nftnl_udata_nest_start(u, NFTNL_UDATA_SET_KEY_TYPEOF);
	if (!outer || !nftnl_udata_put_u32(u, NFTNL_UDATA_SET_TYPEOF_EXPR,
					   etype))
		return -ENOMEM;
	data = nftnl_udata_nest_start(u, NFTNL_UDATA_SET_TYPEOF_DATA);
	if (!data)
		return -ENOMEM;
	if (meta_key && !nftnl_udata_put_u32(u, UDATA_META_KEY, *meta_key))
		return -ENOMEM;
	nftnl_udata_nest_end(u, data);
	nftnl_udata_nest_end(u, outer);
	return 0;
}

/* What nft writes into a set's userdata for each kind of set sanso has. */
static int set_udata(struct nftnl_set *ns, const struct rs_set *s)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(UDATA_MAX);
	uint32_t key = fields[s->key[0]].key;
	int rc = -ENOMEM;

	if (!u)
		return -ENOMEM;
	switch (s->kind) {
	case RS_TIMEOUT:
	case RS_DYNAMIC:
		/* type ipv4_addr / ipv6_addr: no typeof. */
		if (!nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER,
					 BO_BIG))
			goto out;
		break;
	case RS_INTERVAL:
		/* typeof meta time */
		if (!nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER,
					 BO_HOST) ||
		    put_typeof(u, EXPR_META, &key))
			goto out;
		break;
	case RS_CONCAT:
		if (!nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER,
					 BO_INVALID) ||
		    put_typeof(u, EXPR_CONCAT, NULL))
			goto out;
		break;
	case RS_VMAP:
		/* type ifname : verdict has no typeof. */
		if (!nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER,
					 s->n_key == 1 ? BO_HOST : BO_INVALID) ||
		    !nftnl_udata_put_u32(u, NFTNL_UDATA_SET_DATABYTEORDER,
					 BO_INVALID) ||
		    (s->n_key > 1 && put_typeof(u, EXPR_CONCAT, NULL)) ||
		    !nftnl_udata_put_u32(u, NFTNL_UDATA_SET_DATA_INTERVAL, 0))
			goto out;
		break;
	}
	rc = nftnl_set_set_data(ns, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
				nftnl_udata_buf_len(u)) < 0 ? -ENOMEM : 0;
out:
	nftnl_udata_buf_free(u);
	return rc;
}

/* The shapes nft_text.c prints, and nothing else. */
static int set_check(const struct rs_set *s)
{
	if (s->n_key < 1 || s->n_key > RS_MAX_KEY)
		return -EINVAL;
	for (int i = 0; i < s->n_key; i++)
		if ((unsigned int)s->key[i] >= RF_COUNT)
			return -EINVAL;
	switch (s->kind) {
	case RS_CONCAT:
		if (s->n_key < 2)
			return -EINVAL;
		for (int i = 0; i < s->n_key; i++)
			if (fields[s->key[i]].host &&
			    s->key[i] != RF_L4PROTO)
				return -EOPNOTSUPP;
		return 0;
	case RS_VMAP:
		if ((s->n && !s->target) ||
		    (s->n_key == 1 && s->key[0] != RF_IIFNAME))
			return -EINVAL;
		for (int i = 0; i < s->n_key; i++)
			if (fields[s->key[i]].host)
				return -EOPNOTSUPP;
		return 0;
	case RS_INTERVAL:
		return s->n_key == 1 && s->key[0] == RF_TIME ? 0 :
		       -EOPNOTSUPP;
	case RS_TIMEOUT:
		return s->n_key == 1 && is_addr(s->key[0]) ? 0 : -EOPNOTSUPP;
	case RS_DYNAMIC:
		return s->n_key == 1 && (s->key[0] == RF_SADDR4 ||
					 s->key[0] == RF_SADDR6) &&
		       !s->n && s->size && s->timeout ? 0 : -EOPNOTSUPP;
	}
	return -EINVAL;
}

static struct nftnl_set *set_object(const struct ruleset *rs,
				    const struct rs_set *s, uint32_t id,
				    int *rc)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	uint8_t field_len[RS_MAX_KEY];
	uint32_t flags = 0, type = 0;
	size_t len = 0;

	*rc = -ENOMEM;
	if (!ns)
		return NULL;
	for (int i = 0; i < s->n_key; i++) {
		type = type << DT_BITS | fields[s->key[i]].dtype;
		field_len[i] = rs_fields[s->key[i]].len;
		len += padded(field_len[i]);
	}
	switch (s->kind) {
	case RS_CONCAT:
		flags = NFT_SET_CONCAT | NFT_SET_INTERVAL;
		break;
	case RS_INTERVAL:
		flags = NFT_SET_INTERVAL;
		break;
	case RS_TIMEOUT:
		flags = NFT_SET_TIMEOUT;
		break;
	case RS_DYNAMIC:
		flags = NFT_SET_TIMEOUT | NFT_SET_EVAL;
		break;
	case RS_VMAP:
		flags = NFT_SET_MAP;
		break;
	}
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (nftnl_set_set_str(ns, NFTNL_SET_TABLE, rs->table) < 0 ||
	    nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name) < 0)
		goto fail;
	nftnl_set_set_u32(ns, NFTNL_SET_ID, id);
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, type);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, (uint32_t)len);
	if (s->kind == RS_VMAP) {
		nftnl_set_set_u32(ns, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(ns, NFTNL_SET_DATA_LEN, VERDICT_LEN);
	}
	if (s->kind == RS_DYNAMIC) {
		nftnl_set_set_u32(ns, NFTNL_SET_DESC_SIZE, s->size);
		nftnl_set_set_u64(ns, NFTNL_SET_TIMEOUT,
				  (uint64_t)s->timeout * 1000);
	}
	/* Only interval concatenations carry their field lengths. */
	if (s->kind == RS_CONCAT &&
	    nftnl_set_set_data(ns, NFTNL_SET_DESC_CONCAT, field_len,
			       (uint32_t)s->n_key) < 0)
		goto fail;
	*rc = set_udata(ns, s);
	if (*rc)
		goto fail;
	return ns;
fail:
	nftnl_set_free(ns);
	return NULL;
}

static int elem_udata(struct nftnl_set_elem *e, const char *comment,
		      bool open)
{
	struct nftnl_udata_buf *u;
	int rc = -ENOMEM;

	if (!comment && !open)
		return 0;
	u = nftnl_udata_buf_alloc(UDATA_MAX);
	if (!u)
		return -ENOMEM;
	if (comment && !nftnl_udata_put_strz(u, NFTNL_UDATA_SET_ELEM_COMMENT,
					     comment))
		goto out;
	if (open && !nftnl_udata_put_u32(u, NFTNL_UDATA_SET_ELEM_FLAGS,
					 NFTNL_SET_ELEM_F_INTERVAL_OPEN))
		goto out;
	rc = nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
				nftnl_udata_buf_data(u),
				nftnl_udata_buf_len(u)) < 0 ? -ENOMEM : 0;
out:
	nftnl_udata_buf_free(u);
	return rc;
}

/* A new element, already owned by the set. */
static struct nftnl_set_elem *elem_add(struct nftnl_set *ns,
				       const uint8_t *key, size_t len,
				       uint32_t flags)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e)
		return NULL;
	nftnl_set_elem_add(ns, e);
	if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len) < 0)
		return NULL;
	if (flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	return e;
}

static const char *elem_comment(const struct ruleset *rs,
				const struct rs_set *s, size_t i, char *buf,
				size_t len)
{
	if (!s->flow || s->flow[i] < 0 || !rs->m ||
	    (size_t)s->flow[i] >= rs->m->n_flows)
		return NULL;
	snprintf(buf, len, "flow:%s", rs->m->flows[s->flow[i]].name);
	return buf;
}

/* Element indexes by low key. */
static int idx_cmp(const void *a, const void *b, void *arg)
{
	const struct rs_set *s = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = memcmp(s->keys + x * 2 * s->keylen,
		       s->keys + y * 2 * s->keylen, s->keylen);

	return c ? c : (x > y) - (x < y);
}

/*
 * nft's segment tree for an interval set of one field: the ranges in
 * order, each a start element and an end element one past its high
 * bound (none when the range runs to the top), behind an end element
 * at zero when the first range does not start there.
 */
static int interval_elems(const struct ruleset *rs, const struct rs_set *s,
			  struct nftnl_set *ns)
{
	size_t len = s->keylen, *order;
	uint8_t key[RS_MAX_KEYLEN];
	char comment[128];
	int rc = -ENOMEM;

	if (!s->n)
		return 0;
	order = malloc(s->n * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		order[i] = i;
	qsort_r(order, s->n, sizeof(*order), idx_cmp, (void *)s);

	memset(key, 0, len);
	if (memcmp(s->keys + order[0] * 2 * len, key, len) &&
	    !elem_add(ns, key, len, NFT_SET_ELEM_INTERVAL_END))
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		const uint8_t *lo = s->keys + order[i] * 2 * len;
		const uint8_t *hi = lo + len;
		struct nftnl_set_elem *e = elem_add(ns, lo, len, 0);
		bool open = true;
		size_t b;

		memcpy(key, hi, len);
		for (b = len; b-- > 0;)
			if (++key[b])
				break;
		for (b = 0; b < len; b++)
			if (hi[b] != 0xff)
				open = false;
		if (!e || elem_udata(e, elem_comment(rs, s, order[i], comment,
						     sizeof(comment)), open))
			goto out;
		if (!open && !elem_add(ns, key, len,
				       NFT_SET_ELEM_INTERVAL_END))
			goto out;
	}
	rc = 0;
out:
	free(order);
	return rc;
}

static int set_elems(const struct ruleset *rs, const struct rs_set *s,
		     struct nftnl_set *ns)
{
	uint8_t key[RS_MAX_KEYLEN], end[RS_MAX_KEYLEN];
	char comment[128];

	if (s->kind == RS_INTERVAL)
		return interval_elems(rs, s, ns);
	for (size_t i = 0; i < s->n; i++) {
		const uint8_t *lo = s->keys + i * 2 * s->keylen;
		size_t len = key_layout(s, lo, key);
		struct nftnl_set_elem *e = elem_add(ns, key, len, 0);

		if (!e)
			return -ENOMEM;
		if (s->kind == RS_CONCAT) {
			key_layout(s, lo + s->keylen, end);
			if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, end,
					       (uint32_t)len) < 0)
				return -ENOMEM;
		}
		if (s->kind == RS_VMAP) {
			if (!s->target[i])
				return -EINVAL;
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT,
					       (uint32_t)NFT_JUMP);
			if (nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN,
						   s->target[i]) < 0)
				return -ENOMEM;
		}
		if (elem_udata(e, elem_comment(rs, s, i, comment,
					       sizeof(comment)), false))
			return -ENOMEM;
	}
	return 0;
}

static int add_set(struct kbatch *b, const struct ruleset *rs,
		   const struct rs_set *s, uint32_t id,
		   struct nftnl_set_list *sent)
{
	struct nftnl_set *ns;
	int rc = set_check(s);

	if (rc)
		return rc;
	ns = set_object(rs, s, id, &rc);
	if (!ns)
		return rc;
	rc = kbatch_add_set(b, ns);
	if (!rc)
		rc = set_elems(rs, s, ns);
	if (!rc) {
		rc = kbatch_add_elems(b, ns);
		rc = rc < 0 ? rc : 0;
	}
	if (!rc && sent)
		nftnl_set_list_add_tail(ns, sent);
	else
		nftnl_set_free(ns);
	return rc;
}

/* ---- rules ---- */

struct lower {
	struct nftnl_rule *r;
	const struct ids *ids;
	uint8_t nfproto, l4proto;	/* what the rule has matched so far */
};

/* A new expression, already owned by the rule. */
static struct nftnl_expr *expr_add(struct lower *l, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e)
		nftnl_rule_add_expr(l->r, e);
	return e;
}

static int meta_load(struct lower *l, uint32_t key, unsigned int word)
{
	struct nftnl_expr *e = expr_add(l, "meta");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg(word));
	return 0;
}

/* The first `len` bytes of field f into the registers from `word`. */
static int load(struct lower *l, enum rs_field f, unsigned int word,
		size_t len)
{
	const struct field_nl *fl = &fields[f];
	struct nftnl_expr *e;

	switch (fl->how) {
	case LD_META:
		return meta_load(l, fl->key, word);
	case LD_CT:
		e = expr_add(l, "ct");
		if (!e)
			return -ENOMEM;
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, fl->key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, reg(word));
		return 0;
	default:
		e = expr_add(l, "payload");
		if (!e)
			return -ENOMEM;
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg(word));
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, fl->key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, fl->offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, (uint32_t)len);
		return 0;
	}
}

static int cmp(struct lower *l, uint32_t op, const void *data, size_t len)
{
	struct nftnl_expr *e = expr_add(l, "cmp");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	return nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, data,
				   (uint32_t)len) < 0 ? -ENOMEM : 0;
}

static int bitwise(struct lower *l, const void *mask, size_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = expr_add(l, "bitwise");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, (uint32_t)len);
	if (nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_MASK, mask,
				(uint32_t)len) < 0 ||
	    nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_XOR, zero,
				(uint32_t)len) < 0)
		return -ENOMEM;
	return 0;
}

static int hton(struct lower *l, unsigned int word, uint32_t len,
		uint32_t size)
{
	struct nftnl_expr *e = expr_add(l, "byteorder");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, reg(word));
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, reg(word));
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, size);
	return 0;
}

/* nft's implicit protocol match, once per rule; a second, different one
 * is a conflict nft refuses. */
static int need(struct lower *l, uint32_t key, uint8_t want, uint8_t *have)
{
	int rc;

	if (!want || *have == want)
		return 0;
	if (*have)
		return -EINVAL;
	rc = meta_load(l, key, 0);
	if (!rc)
		rc = cmp(l, NFT_CMP_EQ, &want, 1);
	if (!rc)
		*have = want;
	return rc;
}

static int deps(struct lower *l, enum rs_field f)
{
	int rc = need(l, NFT_META_NFPROTO, fields[f].nfproto, &l->nfproto);

	return rc ? rc : need(l, NFT_META_L4PROTO, fields[f].l4proto,
			      &l->l4proto);
}

/* field == value, field != value, a range or a prefix. */
static int lower_match(struct lower *l, const struct rs_expr *x)
{
	enum rs_field f = x->field[0];
	size_t n = rs_fields[f].len;
	const uint8_t *lo = x->val, *hi = x->kind == RX_RANGE ? x->hi : lo;
	uint32_t op = x->inv ? NFT_CMP_NEQ : NFT_CMP_EQ;
	unsigned int plen;
	int rc;

	/* The text names one interface, the low one. */
	if (f == RF_IIFNAME || f == RF_OIFNAME)
		hi = lo;
	if (fields[f].host && f != RF_L4PROTO)
		return -EOPNOTSUPP;
	rc = deps(l, f);
	if (rc)
		return rc;
	if (!memcmp(lo, hi, n)) {
		rc = load(l, f, 0, n);
		if (!rc)
			rc = cmp(l, op, lo, n);
		/* An explicit protocol serves as the dependency. */
		if (!rc && f == RF_L4PROTO && !x->inv && !l->l4proto)
			l->l4proto = lo[0];
		return rc;
	}
	if (is_addr(f) && rs_range_prefix(lo, hi, n, &plen)) {
		uint8_t mask[16] = { 0 };

		if (plen && plen % 8 == 0) {
			rc = load(l, f, 0, plen / 8);
			return rc ? rc : cmp(l, op, lo, plen / 8);
		}
		for (unsigned int i = 0; i < plen; i++)
			mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		rc = load(l, f, 0, n);
		if (!rc)
			rc = bitwise(l, mask, n);
		return rc ? rc : cmp(l, op, lo, n);
	}
	rc = load(l, f, 0, n);
	if (rc)
		return rc;
	if (!x->inv) {
		rc = cmp(l, NFT_CMP_GTE, lo, n);
		return rc ? rc : cmp(l, NFT_CMP_LTE, hi, n);
	} else {
		struct nftnl_expr *e = expr_add(l, "range");

		if (!e)
			return -ENOMEM;
		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_NEQ);
		if (nftnl_expr_set_data(e, NFTNL_EXPR_RANGE_FROM_DATA, lo,
					(uint32_t)n) < 0 ||
		    nftnl_expr_set_data(e, NFTNL_EXPR_RANGE_TO_DATA, hi,
					(uint32_t)n) < 0)
			return -ENOMEM;
		return 0;
	}
}

/* fields (concatenated) @set, or vmap @set. */
static int lower_lookup(struct lower *l, const struct rs_expr *x)
{
	bool concat = x->n_field > 1;
	struct nftnl_expr *e;
	unsigned int word = 0;
	uint32_t id;
	int rc;

	if (!x->set || x->n_field < 1 || x->n_field > RS_MAX_KEY ||
	    (x->kind == RX_VMAP) != (x->set->kind == RS_VMAP))
		return -EINVAL;
	id = set_id_of(l->ids, x->set);
	if (!id)
		return -EINVAL;
	for (int i = 0; i < x->n_field; i++) {
		enum rs_field f = x->field[i];

		if ((unsigned int)f >= RF_COUNT)
			return -EINVAL;
		if (fields[f].host && f != RF_L4PROTO &&
		    !(f == RF_TIME && !concat))
			return -EOPNOTSUPP;
		rc = deps(l, f);
		if (rc)
			return rc;
	}
	for (int i = 0; i < x->n_field; i++) {
		enum rs_field f = x->field[i];
		size_t n = rs_fields[f].len;

		rc = load(l, f, word, n);
		if (!rc && f == RF_TIME)
			rc = hton(l, word, 8, 8);
		else if (!rc && f == RF_L4PROTO && concat)
			rc = hton(l, word, 1, 2);
		if (rc)
			return rc;
		word += (unsigned int)(padded(n) / 4);
	}
	e = expr_add(l, "lookup");
	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, x->set->name) < 0)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	if (x->kind == RX_VMAP)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	if (x->inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS,
				   NFT_LOOKUP_F_INV);
	return 0;
}

static int lower_ct_state(struct lower *l, uint32_t bits)
{
	static const uint32_t zero;
	struct nftnl_expr *e = expr_add(l, "ct");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	/* ct state is in host order, and so are the bits. */
	if (bitwise(l, &bits, sizeof(bits)))
		return -ENOMEM;
	return cmp(l, NFT_CMP_NEQ, &zero, sizeof(zero));
}

/* limit rate N/second burst B packets, not yet owned by anything. */
static struct nftnl_expr *limit_expr(uint32_t rate, uint32_t burst)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	if (!e)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	return e;
}

/* update @set { field limit ... }: the set's own timeout (0 here), and
 * one statement, which nft passes as the single expression. */
static int lower_update(struct lower *l, const struct rs_expr *x)
{
	enum rs_field f = x->field[0];
	struct nftnl_expr *e, *lim;
	uint32_t id;
	int rc;

	if (!x->set || x->set->kind != RS_DYNAMIC || x->n_field != 1 ||
	    f != x->set->key[0])
		return -EINVAL;
	id = set_id_of(l->ids, x->set);
	if (!id)
		return -EINVAL;
	rc = deps(l, f);
	if (!rc)
		rc = load(l, f, 0, rs_fields[f].len);
	if (rc)
		return rc;
	e = expr_add(l, "dynset");
	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, 0);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME,
			       x->set->name) < 0)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, id);
	lim = limit_expr(x->rate, x->burst);
	if (!lim)
		return -ENOMEM;
	/* The dynset takes the limit over. */
	if (nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, lim, 0) < 0) {
		nftnl_expr_free(lim);
		return -ENOMEM;
	}
	return 0;
}

static int lower_expr(struct lower *l, const struct rs_expr *x)
{
	struct nftnl_expr *e;

	switch (x->kind) {
	case RX_CMP:
	case RX_RANGE:
		if ((unsigned int)x->field[0] >= RF_COUNT)
			return -EINVAL;
		return lower_match(l, x);
	case RX_LOOKUP:
	case RX_VMAP:
		return lower_lookup(l, x);
	case RX_CT_STATE:
		return lower_ct_state(l, x->bits);
	case RX_UPDATE:
		if ((unsigned int)x->field[0] >= RF_COUNT)
			return -EINVAL;
		return lower_update(l, x);
	case RX_LIMIT:
		e = limit_expr(x->rate, x->burst);
		if (!e)
			return -ENOMEM;
		nftnl_rule_add_expr(l->r, e);
		return 0;
	case RX_LOG:
		e = expr_add(l, "log");
		if (!e || (x->prefix && nftnl_expr_set_str(e,
				NFTNL_EXPR_LOG_PREFIX, x->prefix) < 0))
			return -ENOMEM;
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, x->group);
		return 0;
	case RX_COUNTER:
		return expr_add(l, "counter") ? 0 : -ENOMEM;
	}
	return -EINVAL;
}

static int lower_verdict(struct lower *l, const struct rs_rule *r)
{
	static const int32_t codes[] = {
		[RV_ACCEPT] = NF_ACCEPT, [RV_DROP] = NF_DROP,
		[RV_RETURN] = NFT_RETURN, [RV_JUMP] = NFT_JUMP,
		[RV_GOTO] = NFT_GOTO,
	};
	struct nftnl_expr *e;

	if (r->verdict == RV_NONE)
		return 0;
	if ((unsigned int)r->verdict > RV_GOTO)
		return -EINVAL;
	if ((r->verdict == RV_JUMP || r->verdict == RV_GOTO) != !!r->target)
		return -EINVAL;
	e = expr_add(l, "immediate");
	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
			   (uint32_t)codes[r->verdict]);
	if (r->target && nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN,
					    r->target) < 0)
		return -ENOMEM;
	return 0;
}

static int rule_comment(struct nftnl_rule *nr, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(UDATA_MAX);
	int rc = -ENOMEM;

	if (!u)
		return -ENOMEM;
	if (nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment) &&
	    nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA,
				nftnl_udata_buf_data(u),
				nftnl_udata_buf_len(u)) >= 0)
		rc = 0;
	nftnl_udata_buf_free(u);
	return rc;
}

static int add_rule(struct kbatch *b, const struct ruleset *rs,
		    const struct rs_chain *c, const struct rs_rule *r,
		    const struct ids *ids)
{
	struct lower l = { .ids = ids };
	int rc = -ENOMEM;

	l.r = nftnl_rule_alloc();
	if (!l.r)
		return -ENOMEM;
	nftnl_rule_set_u32(l.r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (nftnl_rule_set_str(l.r, NFTNL_RULE_TABLE, rs->table) < 0 ||
	    nftnl_rule_set_str(l.r, NFTNL_RULE_CHAIN, c->name) < 0)
		goto out;
	for (size_t i = 0; i < r->n_x; i++) {
		rc = lower_expr(&l, &r->x[i]);
		if (rc)
			goto out;
	}
	rc = lower_verdict(&l, r);
	if (!rc && r->comment)
		rc = rule_comment(l.r, r->comment);
	if (!rc)
		rc = kbatch_add_rule(b, l.r);
out:
	nftnl_rule_free(l.r);
	return rc;
}

/* ---- chains and the table ---- */

static int hook_num(const char *hook)
{
	static const struct { const char *name; int num; } hooks[] = {
		{ "prerouting", NF_INET_PRE_ROUTING },
		{ "input", NF_INET_LOCAL_IN },
		{ "forward", NF_INET_FORWARD },
		{ "output", NF_INET_LOCAL_OUT },
		{ "postrouting", NF_INET_POST_ROUTING },
	};

	for (size_t i = 0; hook && i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (!strcmp(hook, hooks[i].name))
			return hooks[i].num;
	return -1;
}

static int add_chain(struct kbatch *b, const struct ruleset *rs,
		     const struct rs_chain *c)
{
	struct nftnl_chain *nc = nftnl_chain_alloc();
	int rc = -ENOMEM;

	if (!nc)
		return -ENOMEM;
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, rs->table) < 0 ||
	    nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, c->name) < 0)
		goto out;
	if (c->base) {
		int hook = hook_num(c->hook);

		rc = -EINVAL;
		if (hook < 0)
			goto out;
		rc = -ENOMEM;
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(nc, NFTNL_CHAIN_PRIO, c->priority);
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_POLICY,
				    c->policy_drop ? NF_DROP : NF_ACCEPT);
		if (nftnl_chain_set_str(nc, NFTNL_CHAIN_TYPE, "filter") < 0)
			goto out;
	}
	rc = kbatch_add_chain(b, nc);
out:
	nftnl_chain_free(nc);
	return rc;
}

static int replace_table(struct kbatch *b, const struct ruleset *rs)
{
	struct nftnl_table *t = nftnl_table_alloc();
	int rc = -ENOMEM;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, rs->table) >= 0)
		rc = kbatch_replace_table(b, t);
	nftnl_table_free(t);
	return rc;
}

int ruleset_to_batch(const struct ruleset *rs, struct kbatch *b)
{
	return ruleset_to_batch_sent(rs, b, NULL);
}

int ruleset_to_batch_sent(const struct ruleset *rs, struct kbatch *b,
			  struct nftnl_set_list *sent)
{
	struct ids ids = { NULL, 0 };
	int rc;

	if (!rs || !b || !rs->family || !rs->table)
		return -EINVAL;
	if (strcmp(rs->family, "inet"))
		return -EAFNOSUPPORT;
	ids.v = calloc(rs->n_sets + 1, sizeof(*ids.v));
	if (!ids.v)
		return -ENOMEM;
	for (size_t i = 0; i < rs->n_sets; i++) {
		ids.v[i].s = rs->sets[i];
		ids.v[i].id = (uint32_t)i + 1;
	}
	ids.n = rs->n_sets;
	qsort(ids.v, ids.n, sizeof(*ids.v), set_id_cmp);

	rc = replace_table(b, rs);
	for (size_t i = 0; !rc && i < rs->n_chains; i++)
		rc = add_chain(b, rs, rs->chains[i]);
	for (size_t i = 0; !rc && i < rs->n_sets; i++)
		rc = add_set(b, rs, rs->sets[i], (uint32_t)i + 1, sent);
	for (size_t i = 0; !rc && i < rs->n_chains; i++) {
		const struct rs_chain *c = rs->chains[i];

		for (size_t j = 0; !rc && j < c->n_rules; j++)
			rc = add_rule(b, rs, c, &c->rules[j], &ids);
	}
	free(ids.v);
	return rc;
}
