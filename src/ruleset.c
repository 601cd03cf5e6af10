// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Compiled policy -> ruleset (SPEC §5). Per-packet cost stays flat: the
 * forward chain dispatches on the interface pair through one verdict map
 * into a chain per zone pair, where each flow's plain (unscheduled,
 * unlogged, literal-address) part is one element of a concatenated
 * interval set. Only flows with a schedule, logging or an FQDN set get a
 * rule of their own. Drops are logged per source address first and per
 * chain second, and the input chain's per source zone, so that one noisy
 * host hides nobody else's drops (SECURITY.md F8).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "ruleset.h"
#include "ha.h"
#include "sched.h"

const struct rs_field_info rs_fields[RF_COUNT] = {
	[RF_IIFNAME] = { "iifname", "ifname", 16, 0 },
	[RF_OIFNAME] = { "oifname", "ifname", 16, 0 },
	[RF_SADDR4] = { "ip saddr", "ipv4_addr", 4, 4 },
	[RF_DADDR4] = { "ip daddr", "ipv4_addr", 4, 4 },
	[RF_SADDR6] = { "ip6 saddr", "ipv6_addr", 16, 6 },
	[RF_DADDR6] = { "ip6 daddr", "ipv6_addr", 16, 6 },
	[RF_L4PROTO] = { "meta l4proto", "inet_proto", 1, 0 },
	[RF_DPORT] = { "th dport", "inet_service", 2, 0 },
	[RF_TCP_DPORT] = { "tcp dport", "inet_service", 2, 0 },
	[RF_UDP_DPORT] = { "udp dport", "inet_service", 2, 0 },
	[RF_ICMP_TYPE] = { "icmp type", "icmp_type", 1, 4 },
	[RF_ICMPV6_TYPE] = { "icmpv6 type", "icmpv6_type", 1, 6 },
	[RF_HOUR] = { "meta hour", "hour", 4, 0 },
	[RF_DAY] = { "meta day", "day", 1, 0 },
	[RF_TIME] = { "meta time", "time", 8, 0 },
	[RF_CT_STATE] = { "ct state", "ct_state", 4, 0 },
};

/* The element a key is built in: low and high bound of each field. */
struct key {
	uint8_t lo[RS_MAX_KEYLEN], hi[RS_MAX_KEYLEN];
	size_t len;
};

static void key_bytes(struct key *k, const void *lo, const void *hi,
		      size_t n)
{
	memcpy(k->lo + k->len, lo, n);
	memcpy(k->hi + k->len, hi, n);
	k->len += n;
}

static void key_prefix(struct key *k, const struct prefix *p)
{
	size_t n = p->family == AF_INET ? 4 : 16;
	uint8_t hi[16];

	for (size_t i = 0; i < n; i++) {
		int bits = (int)p->len - (int)i * 8;
		uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 :
			       (uint8_t)(0xff << (8 - bits));

		hi[i] = (uint8_t)(p->addr[i] | (uint8_t)~mask);
	}
	key_bytes(k, p->addr, hi, n);
}

static void key_u8(struct key *k, uint8_t lo, uint8_t hi)
{
	key_bytes(k, &lo, &hi, 1);
}

static void key_u16(struct key *k, uint16_t lo, uint16_t hi)
{
	uint16_t l = htons(lo), h = htons(hi);

	key_bytes(k, &l, &h, 2);
}

static void key_ifname(struct key *k, const char *name)
{
	uint8_t b[16] = { 0 };

	memcpy(b, name, strnlen(name, 15));
	key_bytes(k, b, b, 16);
}

static void key_time(struct key *k, uint64_t lo_s, uint64_t hi_s)
{
	uint8_t lo[8], hi[8];
	uint64_t l = lo_s * 1000000000ull, h = hi_s * 1000000000ull;

	for (int i = 7; i >= 0; i--) {
		lo[i] = (uint8_t)l;
		hi[i] = (uint8_t)h;
		l >>= 8;
		h >>= 8;
	}
	key_bytes(k, lo, hi, 8);
}

bool rs_range_prefix(const uint8_t *lo, const uint8_t *hi, size_t n,
		     unsigned int *len)
{
	unsigned int bits = 0;
	size_t i = 0;

	for (; i < n && lo[i] == hi[i]; i++)
		bits += 8;
	if (i < n) {
		uint8_t x = lo[i] ^ hi[i];

		/* x must be 0...01...1, with lo all zeros and hi all ones
		 * under it. */
		if ((x & (x + 1)) || (lo[i] & x) || (hi[i] & x) != x)
			return false;
		for (uint8_t m = 0x80; m && !(x & m); m >>= 1)
			bits++;
		for (i++; i < n; i++)
			if (lo[i] != 0 || hi[i] != 0xff)
				return false;
	}
	*len = bits;
	return true;
}

/* ---- building blocks ---- */

static char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t c;
	void *p;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	while (c < need)
		c *= 2;
	p = realloc(*v, c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static struct rs_set *set_new(struct ruleset *rs, char *name,
			      enum rs_set_kind kind, int n_key, ...)
{
	struct rs_set *s;
	va_list ap;

	if (!name)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || grow((void **)&rs->sets, &rs->cap_sets, rs->n_sets + 1,
		       sizeof(*rs->sets))) {
		free(s);
		free(name);
		return NULL;
	}
	s->name = name;
	s->kind = kind;
	s->n_key = n_key;
	va_start(ap, n_key);
	for (int i = 0; i < n_key; i++) {
		s->key[i] = (enum rs_field)va_arg(ap, int);
		s->keylen += rs_fields[s->key[i]].len;
	}
	va_end(ap);
	rs->sets[rs->n_sets++] = s;
	return s;
}

static bool field_overlap(const uint8_t *alo, const uint8_t *ahi,
			  const uint8_t *blo, const uint8_t *bhi, size_t n)
{
	return memcmp(alo, bhi, n) <= 0 && memcmp(blo, ahi, n) <= 0;
}

static bool field_within(const uint8_t *alo, const uint8_t *ahi,
			 const uint8_t *blo, const uint8_t *bhi, size_t n)
{
	return memcmp(blo, alo, n) <= 0 && memcmp(ahi, bhi, n) <= 0;
}

enum fit { FIT_FREE, FIT_COVERED, FIT_CLASH };

/* Whether k can join s: covered by an element already there (nothing to
 * add), overlapping one in part (the kernel rejects that), or free. */
static enum fit set_fit(const struct rs_set *s, const struct key *k)
{
	enum fit fit = FIT_FREE;

	for (size_t e = 0; e < s->n; e++) {
		const uint8_t *lo = s->keys + e * 2 * s->keylen;
		const uint8_t *hi = lo + s->keylen;
		bool over = true, within = true;
		size_t off = 0;

		for (int f = 0; f < s->n_key && over; f++) {
			size_t n = rs_fields[s->key[f]].len;

			over = field_overlap(k->lo + off, k->hi + off, lo + off,
					     hi + off, n);
			within = within && field_within(k->lo + off,
							 k->hi + off, lo + off,
							 hi + off, n);
			off += n;
		}
		if (over && within)
			return FIT_COVERED;
		if (over)
			fit = FIT_CLASH;
	}
	return fit;
}

static int set_add(struct rs_set *s, const struct key *k, int32_t flow,
		   char *target)
{
	if (grow((void **)&s->keys, &s->cap, s->n + 1, 2 * s->keylen))
		goto nomem;
	{
		/* flow[] and target[] grow with keys: same capacity. */
		int32_t *fl = realloc(s->flow, s->cap * sizeof(*fl));
		char **tg;

		if (!fl)
			goto nomem;
		s->flow = fl;
		tg = realloc(s->target, s->cap * sizeof(*tg));
		if (!tg)
			goto nomem;
		s->target = tg;
	}
	memcpy(s->keys + s->n * 2 * s->keylen, k->lo, s->keylen);
	memcpy(s->keys + s->n * 2 * s->keylen + s->keylen, k->hi, s->keylen);
	s->flow[s->n] = flow;
	s->target[s->n] = target;
	s->n++;
	return 0;
nomem:
	free(target);
	return -ENOMEM;
}

static int elem_cmp_len;

static int elem_cmp(const void *a, const void *b)
{
	return memcmp(a, b, (size_t)elem_cmp_len);
}

/* Sorts elements by low key, carrying flow and target along. */
static int set_sort(struct rs_set *s)
{
	size_t stride = 2 * s->keylen + sizeof(int32_t) + sizeof(char *);
	uint8_t *tmp;

	if (s->n < 2)
		return 0;
	tmp = malloc(s->n * stride);
	if (!tmp)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		uint8_t *r = tmp + i * stride;

		memcpy(r, s->keys + i * 2 * s->keylen, 2 * s->keylen);
		memcpy(r + 2 * s->keylen, &s->flow[i], sizeof(int32_t));
		memcpy(r + 2 * s->keylen + sizeof(int32_t), &s->target[i],
		       sizeof(char *));
	}
	elem_cmp_len = (int)(2 * s->keylen);
	qsort(tmp, s->n, stride, elem_cmp);
	for (size_t i = 0; i < s->n; i++) {
		uint8_t *r = tmp + i * stride;

		memcpy(s->keys + i * 2 * s->keylen, r, 2 * s->keylen);
		memcpy(&s->flow[i], r + 2 * s->keylen, sizeof(int32_t));
		memcpy(&s->target[i], r + 2 * s->keylen + sizeof(int32_t),
		       sizeof(char *));
	}
	free(tmp);
	return 0;
}

static struct rs_chain *chain_new(struct ruleset *rs, char *name)
{
	struct rs_chain *c;

	if (!name)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c || grow((void **)&rs->chains, &rs->cap_chains,
		       rs->n_chains + 1, sizeof(*rs->chains))) {
		free(c);
		free(name);
		return NULL;
	}
	c->name = name;
	rs->chains[rs->n_chains++] = c;
	return c;
}

static struct rs_rule *rule_new(struct rs_chain *c)
{
	struct rs_rule *r;

	if (grow((void **)&c->rules, &c->cap, c->n_rules + 1,
		 sizeof(*c->rules)))
		return NULL;
	r = &c->rules[c->n_rules++];
	memset(r, 0, sizeof(*r));
	return r;
}

static struct rs_expr *expr_add(struct rs_rule *r, enum rs_expr_kind kind)
{
	struct rs_expr *x = realloc(r->x, (r->n_x + 1) * sizeof(*x));

	if (!x)
		return NULL;
	r->x = x;
	x = &r->x[r->n_x++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	return x;
}

static int add_lookup(struct rs_rule *r, const struct rs_set *s)
{
	struct rs_expr *x = expr_add(r, s->kind == RS_VMAP ? RX_VMAP :
				     RX_LOOKUP);

	if (!x)
		return -ENOMEM;
	x->set = s;
	x->n_field = s->n_key;
	memcpy(x->field, s->key, sizeof(x->field));
	return 0;
}

static int add_ct_state(struct rs_rule *r, uint32_t bits)
{
	struct rs_expr *x = expr_add(r, RX_CT_STATE);

	if (!x)
		return -ENOMEM;
	x->bits = bits;
	return 0;
}

static int add_cmp(struct rs_rule *r, enum rs_field f, const void *val)
{
	struct rs_expr *x = expr_add(r, RX_CMP);

	if (!x)
		return -ENOMEM;
	x->field[0] = f;
	x->n_field = 1;
	memcpy(x->val, val, rs_fields[f].len);
	return 0;
}

static int add_log(struct rs_rule *r, const struct model *m,
		   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_log(struct rs_rule *r, const struct model *m,
		   const char *fmt, ...)
{
	struct rs_expr *x;
	va_list ap;

	x = expr_add(r, RX_LOG);
	if (!x)
		return -ENOMEM;
	x->group = m->gateway.log_group;
	va_start(ap, fmt);
	if (vasprintf(&x->prefix, fmt, ap) < 0)
		x->prefix = NULL;
	va_end(ap);
	return x->prefix ? 0 : -ENOMEM;
}

/* ---- flows into sets ---- */

enum shape {
	SH_PORTS,
	SH_ICMP,
	SH_ANY,
	SH_COUNT
};

static const char *const shape_names[SH_COUNT] = { "ports", "icmp", "any" };

static enum shape service_shape(const struct service *sv)
{
	if (sv->proto == IPPROTO_ICMP || sv->proto == IPPROTO_ICMPV6)
		return SH_ICMP;
	return sv->proto ? SH_PORTS : SH_ANY;
}

/* Whether a service applies to an address family at all. */
/* The set key of a shape: source, destination (unless the destination
 * is an FQDN set, looked up on its own), then the service fields. */
static int shape_fields(enum shape sh, int fam, bool fqdn,
			enum rs_field *f)
{
	int n = 0;

	f[n++] = fam == 4 ? RF_SADDR4 : RF_SADDR6;
	if (!fqdn)
		f[n++] = fam == 4 ? RF_DADDR4 : RF_DADDR6;
	switch (sh) {
	case SH_PORTS:
		f[n++] = RF_L4PROTO;
		f[n++] = RF_DPORT;
		break;
	case SH_ICMP:
		f[n++] = fam == 4 ? RF_ICMP_TYPE : RF_ICMPV6_TYPE;
		break;
	case SH_ANY:
		if (fqdn)
			f[n++] = RF_L4PROTO;
		break;
	default:
		break;
	}
	return n;
}

static void key_service(struct key *k, enum shape sh, bool fqdn,
			const struct service *sv)
{
	switch (sh) {
	case SH_PORTS:
		key_u8(k, sv->proto, sv->proto);
		key_u16(k, sv->lo, sv->hi);
		break;
	case SH_ICMP:
		key_u8(k, (uint8_t)sv->lo, (uint8_t)sv->hi);
		break;
	case SH_ANY:
		if (fqdn)
			key_u8(k, 0, 255);
		break;
	default:
		break;
	}
}

static bool in_family(const struct prefix *p, int fam)
{
	return p->family == (fam == 4 ? AF_INET : AF_INET6);
}

struct build {
	struct ruleset *rs;
	const struct policy *p;
	time_t hz_from, hz_to;
	struct rs_set **sched;		/* per schedule, created on use */
	struct rs_set **fqdn[2];	/* per FQDN set and family */
	/* Per source zone and family, the last for interfaces outside
	 * the zone file: the sources that drops were logged for. */
	struct rs_set *(*log)[2];
};

/* The log of a drop path, a rule for each address family: each source
 * gets its own allowance first, so that one noisy host cannot use up
 * the rule's, which keeps the log as a whole bounded (SECURITY.md F8).
 * zone < 0: interfaces outside the zone file. */
static int drop_log(struct build *b, struct rs_chain *c, int zone,
		    const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int drop_log(struct build *b, struct rs_chain *c, int zone,
		    const char *fmt, ...)
{
	const struct model *m = b->p->m;
	size_t z = zone < 0 ? m->n_zones : (size_t)zone;
	char *prefix;
	va_list ap;
	int rc = -ENOMEM;

	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		prefix = NULL;
	va_end(ap);
	if (!prefix)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		const struct rs_set *s = b->log[z][i];
		struct rs_rule *r = rule_new(c);
		struct rs_expr *x;

		if (!r || !(x = expr_add(r, RX_UPDATE)))
			goto out;
		x->set = s;
		x->field[0] = s->key[0];
		x->n_field = 1;
		x->rate = RS_LOG_SRC_RATE;
		x->burst = RS_LOG_SRC_BURST;
		if (!(x = expr_add(r, RX_LIMIT)))
			goto out;
		x->rate = RS_LOG_RATE;
		x->burst = RS_LOG_BURST;
		if (add_log(r, m, "%s", prefix))
			goto out;
	}
	rc = 0;
out:
	free(prefix);
	return rc;
}

/* The dynamic set of the sources logged for one zone (NULL: for
 * interfaces outside the zone file) and family. */
static struct rs_set *log_set(struct ruleset *rs, const char *zone, int fam)
{
	struct rs_set *s;

	s = set_new(rs, zone ? xasprintf("log-%s-v%d", zone, fam) :
			xasprintf("log-v%d", fam), RS_DYNAMIC, 1,
		    fam == 4 ? RF_SADDR4 : RF_SADDR6);
	if (s) {
		s->size = RS_LOG_SRC_SIZE;
		s->timeout = RS_LOG_SRC_TIMEOUT;
	}
	return s;
}

/* Every key of one rule for one family and shape, in a fixed order. */
typedef int (*key_fn)(void *ctx, const struct key *k);

static int rule_keys(const struct pol_rule *r, int fam, enum shape sh,
		     key_fn fn, void *ctx)
{
	bool fqdn = r->dst_fqdn >= 0;
	size_t n_dst = fqdn ? 1 : r->n_dst;
	int rc;

	for (size_t s = 0; s < r->n_src; s++) {
		if (!in_family(&r->src[s], fam))
			continue;
		for (size_t d = 0; d < n_dst; d++) {
			if (!fqdn && !in_family(&r->dst[d], fam))
				continue;
			for (size_t v = 0; v < r->n_svcs; v++) {
				const struct service *sv = &r->svcs[v];
				struct key k = { .len = 0 };

				if (service_shape(sv) != sh ||
				    !service_in_family(sv, fam))
					continue;
				key_prefix(&k, &r->src[s]);
				if (!fqdn)
					key_prefix(&k, &r->dst[d]);
				key_service(&k, sh, fqdn, sv);
				rc = fn(ctx, &k);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

/* The plain rules of a pair share layered sets: an element goes into the
 * first layer where it clashes with nothing. */
struct layers {
	struct build *b;
	struct rs_chain *chain;
	const char *pair;		/* "Z1-Z2" */
	int fam;
	enum shape sh;
	struct rs_set *set[8];
	int n;
	int32_t flow;
};

static int layer_rule(struct layers *L, struct rs_set *s)
{
	struct rs_rule *r = rule_new(L->chain);

	if (!r || add_lookup(r, s))
		return -ENOMEM;
	r->verdict = RV_ACCEPT;
	return 0;
}

static int layer_key(void *ctx, const struct key *k)
{
	struct layers *L = ctx;
	enum rs_field f[RS_MAX_KEY];
	int i, n;

	for (i = 0; i < L->n; i++) {
		enum fit fit = set_fit(L->set[i], k);

		if (fit == FIT_COVERED)
			return 0;
		if (fit == FIT_FREE)
			return set_add(L->set[i], k, L->flow, NULL);
	}
	if (L->n == (int)(sizeof(L->set) / sizeof(L->set[0])))
		return -E2BIG;
	n = shape_fields(L->sh, L->fam, false, f);
	L->set[L->n] = set_new(L->b->rs, L->n ?
			       xasprintf("p-%s-%s-v%d-%d", L->pair,
					 shape_names[L->sh], L->fam, L->n + 1) :
			       xasprintf("p-%s-%s-v%d", L->pair,
					 shape_names[L->sh], L->fam),
			       RS_CONCAT, n, f[0], f[1], f[2], f[3]);
	if (!L->set[L->n])
		return -ENOMEM;
	if (layer_rule(L, L->set[L->n]))
		return -ENOMEM;
	return set_add(L->set[L->n++], k, L->flow, NULL);
}

struct one {
	struct rs_set *set;
};

static int one_key(void *ctx, const struct key *k)
{
	struct one *o = ctx;

	/* One flow's prefixes are disjoint and its services merged, so
	 * its own keys never clash; a covered one adds nothing. */
	if (set_fit(o->set, k) == FIT_COVERED)
		return 0;
	return set_add(o->set, k, -1, NULL);
}

static bool rule_is_plain(const struct pol_rule *r)
{
	return r->schedule < 0 && !r->log && r->dst_fqdn < 0;
}

static struct rs_set *sched_set(struct build *b, int si)
{
	const struct model *m = b->p->m;
	struct sched_spans sp = { 0 };
	struct rs_set *s;

	if (b->sched[si])
		return b->sched[si];
	s = set_new(b->rs, xasprintf("sched-%s", m->schedules[si].name),
		    RS_INTERVAL, 1, RF_TIME);
	if (!s)
		return NULL;
	if (sched_spans(m->timezone, &m->schedules[si], b->hz_from, b->hz_to,
			&sp))
		return NULL;
	for (size_t i = 0; i < sp.n; i++) {
		struct key k = { .len = 0 };

		key_time(&k, (uint64_t)sp.v[i].from,
			 (uint64_t)sp.v[i].to - 1);
		if (set_add(s, &k, -1, NULL)) {
			sched_spans_free(&sp);
			return NULL;
		}
	}
	sched_spans_free(&sp);
	b->sched[si] = s;
	return s;
}

/* A rule of its own for a flow with a schedule, logging or an FQDN set:
 * [meta time @sched-S] [ip daddr @fqdn-X-v4] KEY @f-... [log] accept. */
static int special_rule(struct build *b, struct rs_chain *c,
			const struct pol_rule *pr, const char *pair, int fam,
			enum shape sh)
{
	const struct model *m = b->p->m;
	const struct flow *fl = &m->flows[pr->flow];
	bool fqdn = pr->dst_fqdn >= 0;
	enum rs_field f[RS_MAX_KEY] = { 0 };
	struct one o;
	struct rs_rule *r;
	int n = shape_fields(sh, fam, fqdn, f);
	char *name;

	name = fqdn ? xasprintf("f-%s-%s-%s-%s-v%d", fl->name, pair,
				m->fqdn_sets[pr->dst_fqdn].name,
				shape_names[sh], fam) :
		      xasprintf("f-%s-%s-%s-v%d", fl->name, pair,
				shape_names[sh], fam);
	o.set = set_new(b->rs, name, RS_CONCAT, n, f[0], f[1], f[2], f[3]);
	if (!o.set)
		return -ENOMEM;
	if (rule_keys(pr, fam, sh, one_key, &o))
		return -ENOMEM;
	if (!o.set->n) {
		/* Nothing of this shape: take the empty set back. */
		b->rs->n_sets--;
		free(o.set->name);
		free(o.set->keys);
		free(o.set->flow);
		free(o.set->target);
		free(o.set);
		return 0;
	}
	r = rule_new(c);
	if (!r)
		return -ENOMEM;
	if (pr->schedule >= 0) {
		struct rs_set *ss = sched_set(b, pr->schedule);

		if (!ss || add_lookup(r, ss))
			return -ENOMEM;
	}
	if (fqdn && add_lookup(r, b->fqdn[fam == 6][pr->dst_fqdn]))
		return -ENOMEM;
	if (add_lookup(r, o.set))
		return -ENOMEM;
	if (pr->log && add_log(r, m, "sanso:flow:%s", fl->name))
		return -ENOMEM;
	r->verdict = RV_ACCEPT;
	r->comment = xasprintf("flow:%s", fl->name);
	return r->comment ? 0 : -ENOMEM;
}

static int pair_chain(struct build *b, const struct pol_pair *pp)
{
	const struct model *m = b->p->m;
	const struct zone *zf = &m->zones[pp->from], *zt = &m->zones[pp->to];
	char *pair = xasprintf("%s-%s", zf->name, zt->name);
	struct rs_chain *c;
	struct rs_rule *r;
	int rc = -ENOMEM;

	if (!pair)
		return -ENOMEM;
	c = chain_new(b->rs, xasprintf("fwd-%s", pair));
	if (!c)
		goto out;
	for (int fam = 4; fam <= 6; fam += 2)
		for (int sh = 0; sh < SH_COUNT; sh++) {
			struct layers L = { .b = b, .chain = c, .pair = pair,
					    .fam = fam, .sh = (enum shape)sh };

			for (size_t i = pp->first; i < pp->first + pp->n; i++) {
				const struct pol_rule *pr = &b->p->rules[i];

				if (!rule_is_plain(pr))
					continue;
				L.flow = pr->flow;
				rc = rule_keys(pr, fam, (enum shape)sh,
					       layer_key, &L);
				if (rc)
					goto out;
			}
		}
	for (size_t i = pp->first; i < pp->first + pp->n; i++) {
		const struct pol_rule *pr = &b->p->rules[i];

		if (rule_is_plain(pr))
			continue;
		for (int fam = 4; fam <= 6; fam += 2)
			for (int sh = 0; sh < SH_COUNT; sh++) {
				rc = special_rule(b, c, pr, pair, fam,
						  (enum shape)sh);
				if (rc)
					goto out;
			}
	}
	rc = drop_log(b, c, pp->from, "sanso:%s>%s", zf->name, zt->name);
	if (rc)
		goto out;
	rc = -ENOMEM;
	r = rule_new(c);
	if (!r)
		goto out;
	r->verdict = RV_DROP;
	rc = 0;
out:
	free(pair);
	return rc;
}

/* A chain that only logs and drops, for a zone pair without flows, so
 * the drop log names both zones. */
static struct rs_chain *drop_chain(struct build *b, int from, int to)
{
	const struct model *m = b->p->m;
	struct rs_chain *c = chain_new(b->rs, xasprintf("drop-%s-%s",
				       m->zones[from].name,
				       m->zones[to].name));
	struct rs_rule *r;

	if (!c || drop_log(b, c, from, "sanso:%s>%s", m->zones[from].name,
			   m->zones[to].name))
		return NULL;
	r = rule_new(c);
	if (!r)
		return NULL;
	r->verdict = RV_DROP;
	return c;
}

/* Every interface pair of two zones jumps to the chain `prefix-FROM-TO`. */
static int dispatch_pair(struct build *b, struct rs_set *vmap, int zf, int zt,
			 const char *prefix)
{
	const struct model *m = b->p->m;

	for (size_t i = 0; i < m->zones[zf].n_ifaces; i++)
		for (size_t j = 0; j < m->zones[zt].n_ifaces; j++) {
			struct key k = { .len = 0 };
			char *t = xasprintf("%s-%s-%s", prefix,
					    m->zones[zf].name,
					    m->zones[zt].name);

			if (!t)
				return -ENOMEM;
			key_ifname(&k, m->zones[zf].ifaces[i].name);
			key_ifname(&k, m->zones[zt].ifaces[j].name);
			if (set_add(vmap, &k, -1, t))
				return -ENOMEM;
		}
	return 0;
}

static int dispatch(struct build *b, struct rs_set *vmap)
{
	const struct model *m = b->p->m;

	/* A large site: only the pairs that have flows, straight from the
	 * policy (walking every pair of zones would be quadratic). */
	if (m->n_zones > RS_PAIR_CHAIN_MAX_ZONES) {
		for (size_t i = 0; i < b->p->n_pairs; i++)
			if (dispatch_pair(b, vmap, b->p->pairs[i].from,
					  b->p->pairs[i].to, "fwd"))
				return -ENOMEM;
		return set_sort(vmap);
	}
	for (size_t zf = 0; zf < m->n_zones; zf++)
		for (size_t zt = 0; zt < m->n_zones; zt++) {
			size_t n;

			if (zf == zt)
				continue;
			policy_pair(b->p, (int)zf, (int)zt, &n);
			if (!n && !drop_chain(b, (int)zf, (int)zt))
				return -ENOMEM;
			if (dispatch_pair(b, vmap, (int)zf, (int)zt,
					  n ? "fwd" : "drop"))
				return -ENOMEM;
		}
	return set_sort(vmap);
}

/* iifname . saddr of a list of endpoints, into a v4 and a v6 set. */
static int endpoint_sets(struct build *b, const struct endpoint *eps,
			 size_t n_eps, struct rs_set *s4, struct rs_set *s6)
{
	const struct model *m = b->p->m;

	for (size_t i = 0; i < n_eps; i++) {
		const struct endpoint *ep = &eps[i];
		const struct zone *z;
		const struct prefix *pfx[64];
		size_t n = 0;

		if (ep->zone < 0 || ep->ref < 0 || ep->kind == EP_FQDN)
			continue;
		z = &m->zones[ep->zone];
		if (ep->kind == EP_HOST)
			pfx[n++] = &m->hosts[ep->ref].addr;
		else if (ep->kind == EP_CIDR)
			pfx[n++] = &ep->cidr;
		else
			for (size_t k = 0; k < z->n_nets && n < 64; k++)
				pfx[n++] = &z->nets[k].p;
		for (size_t f = 0; f < z->n_ifaces; f++)
			for (size_t k = 0; k < n; k++) {
				struct rs_set *s = pfx[k]->family == AF_INET ?
						   s4 : s6;
				struct key key = { .len = 0 };

				key_ifname(&key, z->ifaces[f].name);
				key_prefix(&key, pfx[k]);
				if (set_fit(s, &key) == FIT_FREE &&
				    set_add(s, &key, -1, NULL))
					return -ENOMEM;
			}
	}
	return 0;
}

/* The DNS guard serves the sources of flows to FQDN sets, and only them
 * (SPEC §6): everything else asking the gateway for names is dropped. */
static int dns_sets(struct build *b, struct rs_set *s4, struct rs_set *s6)
{
	const struct model *m = b->p->m;

	for (size_t i = 0; i < m->n_flows; i++) {
		const struct flow *f = &m->flows[i];
		bool fqdn = false;

		for (size_t j = 0; j < f->n_to; j++)
			fqdn = fqdn || f->to[j].kind == EP_FQDN;
		if (fqdn && endpoint_sets(b, f->from, f->n_from, s4, s6))
			return -ENOMEM;
	}
	return 0;
}

/*
 * A redundant pair (gateway.ha) needs on the gateway itself what the
 * issue of both nodes turning MASTER showed: VRRP on every zone
 * interface, from the segment's own networks (IPv6: its link-local
 * addresses) to the VRRP group or a unicast peer on the segment; and on
 * the sync link, conntrackd's and sanso's replication ports between the
 * two nodes, in either direction. Nothing else, and nothing on any other
 * interface.
 */
static int ha_key3(struct rs_set *s, const char *ifn, const struct prefix *a,
		   const struct prefix *b)
{
	struct key k = { .len = 0 };

	key_ifname(&k, ifn);
	key_prefix(&k, a);
	key_prefix(&k, b);
	if (set_fit(s, &k) != FIT_FREE)
		return 0;
	return set_add(s, &k, -1, NULL);
}

static int ha_sets(struct build *b, struct rs_set **vrrp,
		   struct rs_set **sync)
{
	const struct model *m = b->p->m;
	const struct ha_conf *ha = &m->gateway.ha;
	struct prefix grp4 = { .family = AF_INET, .len = 32,
			       .addr = { 224, 0, 0, 18 } };
	struct prefix grp6 = { .family = AF_INET6, .len = 128,
			       .addr = { 0xff, 0x02, [15] = 0x12 } };
	struct prefix ll6 = { .family = AF_INET6, .len = 10,
			      .addr = { 0xfe, 0x80 } };
	static const uint16_t ports[] = { HA_CONNTRACKD_PORT, HA_SANSO_PORT };

	for (size_t z = 0; z < m->n_zones; z++) {
		const struct zone *zn = &m->zones[z];

		for (size_t f = 0; f < zn->n_ifaces; f++) {
			const char *ifn = zn->ifaces[f].name;
			bool v6 = false;

			if (!ifn)
				continue;
			for (size_t k = 0; k < zn->n_nets; k++) {
				const struct prefix *p = &zn->nets[k].p;
				int i = p->family == AF_INET6;

				if (!p->family)
					continue;
				v6 = v6 || i;
				/* A default route (the external side) is no
				 * segment: there only the group, which no
				 * router forwards, not unicast from anywhere. */
				if ((p->len && ha_key3(vrrp[i], ifn, p, p)) ||
				    ha_key3(vrrp[i], ifn, p, i ? &grp6 : &grp4))
					return -ENOMEM;
			}
			if (v6 && ha_key3(vrrp[1], ifn, &ll6, &grp6))
				return -ENOMEM;
		}
	}
	if (ha->n_nodes != 2 || !ha->sync_iface ||
	    ha->nodes[0].family != ha->nodes[1].family || !ha->nodes[0].family)
		return 0;
	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
			struct rs_set *s = sync[ha->nodes[0].family ==
						AF_INET6];
			struct key k = { .len = 0 };
			uint16_t port = htons(ports[i]);

			key_ifname(&k, ha->sync_iface);
			key_prefix(&k, &ha->nodes[d]);
			key_prefix(&k, &ha->nodes[!d]);
			key_bytes(&k, &port, &port, 2);
			if (set_fit(s, &k) == FIT_FREE &&
			    set_add(s, &k, -1, NULL))
				return -ENOMEM;
		}
	return 0;
}

static int ha_rules(struct rs_chain *in, struct rs_set **vrrp,
		    struct rs_set **sync)
{
	uint8_t proto = HA_VRRP_PROTO;

	for (int i = 0; i < 2; i++) {
		struct rs_rule *r;

		if (vrrp[i] && vrrp[i]->n) {
			if (!(r = rule_new(in)) ||
			    add_cmp(r, RF_L4PROTO, &proto) ||
			    add_lookup(r, vrrp[i]) ||
			    !(r->comment = strdup("gateway:ha-vrrp")))
				return -ENOMEM;
			r->verdict = RV_ACCEPT;
		}
		if (sync[i] && sync[i]->n) {
			if (!(r = rule_new(in)) || add_lookup(r, sync[i]) ||
			    !(r->comment = strdup("gateway:ha-sync")))
				return -ENOMEM;
			r->verdict = RV_ACCEPT;
		}
	}
	return 0;
}

/* Rules that accept one service to the gateway from the sources in a
 * pair of iifname . saddr sets. */
static int input_rules(struct rs_chain *in, enum rs_field port_field,
		       uint16_t port, struct rs_set *s4, struct rs_set *s6,
		       const char *comment)
{
	uint16_t p = htons(port);

	for (int i = 0; i < 2; i++) {
		struct rs_set *s = i ? s6 : s4;
		struct rs_rule *r;

		if (!s->n)
			continue;
		if (!(r = rule_new(in)) || add_cmp(r, port_field, &p) ||
		    add_lookup(r, s))
			return -ENOMEM;
		r->verdict = RV_ACCEPT;
		r->comment = strdup(comment);
		if (!r->comment)
			return -ENOMEM;
	}
	return 0;
}

/* The input chain dispatches its drops on the interface to a chain per
 * zone, in-ZONE, so that each source zone has its own log budget and
 * its drops name it (sanso:ZONE>gateway). */
static int input_zones(struct build *b, struct rs_set *vin)
{
	const struct model *m = b->p->m;

	for (size_t z = 0; z < m->n_zones; z++) {
		const struct zone *zn = &m->zones[z];
		struct rs_chain *c = chain_new(b->rs, xasprintf("in-%s",
					       zn->name));
		struct rs_rule *r;

		if (!c || drop_log(b, c, (int)z, "sanso:%s>gateway",
				   zn->name) || !(r = rule_new(c)))
			return -ENOMEM;
		r->verdict = RV_DROP;
		for (size_t i = 0; i < zn->n_ifaces; i++) {
			struct key k = { .len = 0 };
			char *t = strdup(c->name);

			if (!t)
				return -ENOMEM;
			key_ifname(&k, zn->ifaces[i].name);
			if (set_add(vin, &k, -1, t))
				return -ENOMEM;
		}
	}
	return set_sort(vin);
}

static int base_chains(struct build *b, struct rs_set *vmap,
		       struct rs_set *vin, struct rs_set **gw,
		       struct rs_set **ha)
{
	struct rs_chain *fwd, *in, *out;
	struct rs_rule *r;
	uint8_t lo[16] = "lo";
	uint8_t nd[2] = { 135, 136 };

	fwd = chain_new(b->rs, strdup("forward"));
	in = chain_new(b->rs, strdup("input"));
	out = chain_new(b->rs, strdup("output"));
	if (!fwd || !in || !out)
		return -ENOMEM;
	fwd->base = in->base = out->base = true;
	fwd->hook = "forward";
	in->hook = "input";
	out->hook = "output";
	fwd->policy_drop = in->policy_drop = true;

	/* Replies and related ICMP first: an expiring FQDN element or a
	 * closing schedule never cuts a connection already allowed. */
	if (!(r = rule_new(fwd)) || add_ct_state(r, 0x6))
		return -ENOMEM;
	r->verdict = RV_ACCEPT;
	if (!(r = rule_new(fwd)) || add_ct_state(r, 0x1))
		return -ENOMEM;
	r->verdict = RV_DROP;
	if (!(r = rule_new(fwd)) || add_lookup(r, vmap))
		return -ENOMEM;
	if (drop_log(b, fwd, -1, "sanso:*>*"))
		return -ENOMEM;

	if (!(r = rule_new(in)) || add_cmp(r, RF_IIFNAME, lo))
		return -ENOMEM;
	r->verdict = RV_ACCEPT;
	if (!(r = rule_new(in)) || add_ct_state(r, 0x6))
		return -ENOMEM;
	r->verdict = RV_ACCEPT;
	if (!(r = rule_new(in)) || add_ct_state(r, 0x1))
		return -ENOMEM;
	r->verdict = RV_DROP;
	/* IPv6 needs neighbour discovery to reach the gateway at all. */
	for (int i = 0; i < 2; i++) {
		if (!(r = rule_new(in)) || add_cmp(r, RF_ICMPV6_TYPE, &nd[i]))
			return -ENOMEM;
		r->verdict = RV_ACCEPT;
	}
	if (input_rules(in, RF_TCP_DPORT, 22, gw[0], gw[1],
			"gateway:ssh_from") ||
	    input_rules(in, RF_UDP_DPORT, 53, gw[2], gw[3], "gateway:dns") ||
	    input_rules(in, RF_TCP_DPORT, 53, gw[2], gw[3], "gateway:dns") ||
	    ha_rules(in, ha, ha + 2))
		return -ENOMEM;
	/* An interface outside the zone file falls through to a log of
	 * its own. */
	if (!(r = rule_new(in)) || add_lookup(r, vin) ||
	    drop_log(b, in, -1, "sanso:*>gateway"))
		return -ENOMEM;
	return input_zones(b, vin);
}

static void local_date(const char *tz, time_t t, char *buf, size_t n)
{
	int32_t days;
	int secs, wday, off, y, mo, d;

	if (tz_utc_to_local(tz, t, &days, &secs, &wday, &off))
		days = (int32_t)(t / 86400);
	civil_from_days(days, &y, &mo, &d);
	snprintf(buf, n, "%04d-%02d-%02d", y, mo, d);
}

static char *header(const struct model *m, const char *table, time_t from,
		    time_t to)
{
	char hex[65], a[16], z[16];

	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", m->sha256[i]);
	local_date(m->timezone, from, a, sizeof(a));
	local_date(m->timezone, to, z, sizeof(z));
	return xasprintf(
		"# Generated by sanso %s for site \"%s\" (model %s, %s).\n"
		"# zone file sha256 %s\n"
		"# Schedules are compiled as absolute times from %s to %s;\n"
		"# compile and apply again before the end of that span.\n"
		"# Loading this file replaces only table inet %s and empties\n"
		"# its FQDN sets; sanso apply carries their elements over.\n",
		SANSO_VERSION, m->site ? m->site : "", model_variant_name(
		m->variant), m->timezone, hex, a, z, table);
}

struct ruleset *ruleset_fail_closed(const char *table)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	struct rs_chain *fwd, *in, *out;
	struct rs_rule *r;
	uint8_t lo[16] = "lo";

	if (!rs)
		return NULL;
	rs->family = strdup("inet");
	rs->table = strdup(table ? table : RS_DEFAULT_TABLE);
	rs->header = xasprintf("# sanso %s: fail-closed table: nothing is "
			       "forwarded, the gateway answers only what it "
			       "started itself.\n", SANSO_VERSION);
	fwd = chain_new(rs, strdup("forward"));
	in = chain_new(rs, strdup("input"));
	out = chain_new(rs, strdup("output"));
	if (!rs->family || !rs->table || !rs->header || !fwd || !in || !out)
		goto fail;
	fwd->base = in->base = out->base = true;
	fwd->hook = "forward";
	in->hook = "input";
	out->hook = "output";
	fwd->policy_drop = in->policy_drop = true;
	if (!(r = rule_new(in)) || add_cmp(r, RF_IIFNAME, lo))
		goto fail;
	r->verdict = RV_ACCEPT;
	if (!(r = rule_new(in)) || add_ct_state(r, 0x6))
		goto fail;
	r->verdict = RV_ACCEPT;
	/* Without neighbour discovery not even the gateway's own IPv6
	 * connections get their replies. */
	for (int i = 0; i < 2; i++) {
		uint8_t nd = (uint8_t)(135 + i);

		if (!(r = rule_new(in)) || add_cmp(r, RF_ICMPV6_TYPE, &nd))
			goto fail;
		r->verdict = RV_ACCEPT;
	}
	return rs;
fail:
	ruleset_free(rs);
	errno = ENOMEM;
	return NULL;
}

struct ruleset *ruleset_build(const struct policy *p, const char *table,
			      time_t at)
{
	const struct model *m = p->m;
	struct build b = { .p = p };
	struct ruleset *rs = calloc(1, sizeof(*rs));
	struct rs_set *vmap, *vin, *gw[4], *ha[4] = { NULL };
	int rc = -ENOMEM;

	if (!rs)
		return NULL;
	b.rs = rs;
	rs->m = m;
	rs->family = strdup("inet");
	rs->table = strdup(table ? table : RS_DEFAULT_TABLE);
	b.sched = calloc(m->n_schedules + 1, sizeof(*b.sched));
	b.fqdn[0] = calloc(m->n_fqdn_sets + 1, sizeof(*b.fqdn[0]));
	b.fqdn[1] = calloc(m->n_fqdn_sets + 1, sizeof(*b.fqdn[1]));
	b.log = calloc(m->n_zones + 1, sizeof(*b.log));
	if (!rs->family || !rs->table || !b.sched || !b.fqdn[0] ||
	    !b.fqdn[1] || !b.log)
		goto out;
	rc = sched_horizon(m->timezone, at, RS_SCHED_YEARS, &b.hz_from,
			   &b.hz_to);
	if (rc)
		goto out;
	rc = -ENOMEM;
	rs->header = header(m, rs->table, b.hz_from, b.hz_to);
	if (!rs->header)
		goto out;

	for (size_t i = 0; i < m->n_fqdn_sets; i++) {
		b.fqdn[0][i] = set_new(rs, xasprintf("fqdn-%s-v4",
				       m->fqdn_sets[i].name), RS_TIMEOUT, 1,
				       RF_DADDR4);
		b.fqdn[1][i] = set_new(rs, xasprintf("fqdn-%s-v6",
				       m->fqdn_sets[i].name), RS_TIMEOUT, 1,
				       RF_DADDR6);
		if (!b.fqdn[0][i] || !b.fqdn[1][i])
			goto out;
	}
	vmap = set_new(rs, strdup("dispatch"), RS_VMAP, 2, RF_IIFNAME,
		       RF_OIFNAME);
	vin = set_new(rs, strdup("dispatch-in"), RS_VMAP, 1, RF_IIFNAME);
	gw[0] = set_new(rs, strdup("ssh-v4"), RS_CONCAT, 2, RF_IIFNAME,
			RF_SADDR4);
	gw[1] = set_new(rs, strdup("ssh-v6"), RS_CONCAT, 2, RF_IIFNAME,
			RF_SADDR6);
	gw[2] = set_new(rs, strdup("dns-v4"), RS_CONCAT, 2, RF_IIFNAME,
			RF_SADDR4);
	gw[3] = set_new(rs, strdup("dns-v6"), RS_CONCAT, 2, RF_IIFNAME,
			RF_SADDR6);
	if (!vmap || !vin || !gw[0] || !gw[1] || !gw[2] || !gw[3])
		goto out;
	/* Only with gateway.ha, so a single gateway's ruleset is unchanged. */
	if (m->gateway.ha.present) {
		ha[0] = set_new(rs, strdup("ha-vrrp-v4"), RS_CONCAT, 3,
				RF_IIFNAME, RF_SADDR4, RF_DADDR4);
		ha[1] = set_new(rs, strdup("ha-vrrp-v6"), RS_CONCAT, 3,
				RF_IIFNAME, RF_SADDR6, RF_DADDR6);
		ha[2] = set_new(rs, strdup("ha-sync-v4"), RS_CONCAT, 4,
				RF_IIFNAME, RF_SADDR4, RF_DADDR4,
				RF_UDP_DPORT);
		ha[3] = set_new(rs, strdup("ha-sync-v6"), RS_CONCAT, 4,
				RF_IIFNAME, RF_SADDR6, RF_DADDR6,
				RF_UDP_DPORT);
		if (!ha[0] || !ha[1] || !ha[2] || !ha[3] ||
		    ha_sets(&b, ha, ha + 2))
			goto out;
	}
	for (size_t i = 0; i <= m->n_zones; i++)
		for (int f = 0; f < 2; f++) {
			b.log[i][f] = log_set(rs, i < m->n_zones ?
					      m->zones[i].name : NULL,
					      f ? 6 : 4);
			if (!b.log[i][f])
				goto out;
		}
	if (endpoint_sets(&b, m->gateway.ssh_from, m->gateway.n_ssh_from,
			  gw[0], gw[1]) || dns_sets(&b, gw[2], gw[3]))
		goto out;
	if (base_chains(&b, vmap, vin, gw, ha))
		goto out;
	for (size_t i = 0; i < p->n_pairs; i++)
		if ((rc = pair_chain(&b, &p->pairs[i])))
			goto out;
	rc = dispatch(&b, vmap);
	if (rc)
		goto out;
	for (size_t i = 0; i < rs->n_sets; i++)
		if (rs->sets[i]->kind != RS_VMAP &&
		    (rc = set_sort(rs->sets[i])))
			goto out;
	rc = 0;
out:
	free(b.sched);
	free(b.fqdn[0]);
	free(b.fqdn[1]);
	free(b.log);
	if (rc) {
		ruleset_free(rs);
		errno = -rc;
		return NULL;
	}
	return rs;
}

void ruleset_free(struct ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_sets; i++) {
		struct rs_set *s = rs->sets[i];

		for (size_t e = 0; s->target && e < s->n; e++)
			free(s->target[e]);
		free(s->target);
		free(s->flow);
		free(s->keys);
		free(s->comment);
		free(s->name);
		free(s);
	}
	free(rs->sets);
	for (size_t i = 0; i < rs->n_chains; i++) {
		struct rs_chain *c = rs->chains[i];

		for (size_t r = 0; r < c->n_rules; r++) {
			for (size_t x = 0; x < c->rules[r].n_x; x++)
				free(c->rules[r].x[x].prefix);
			free(c->rules[r].x);
			free(c->rules[r].target);
			free(c->rules[r].comment);
		}
		free(c->rules);
		free(c->comment);
		free(c->name);
		free(c);
	}
	free(rs->chains);
	policy_free(rs->owned_policy);
	model_free(rs->owned_model);
	free(rs->header);
	free(rs->family);
	free(rs->table);
	free(rs);
}
