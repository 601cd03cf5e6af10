// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The compiled policy, built once per model and read by the generator and
 * the monitor alike, so that "is this allowed" has one answer.
 *
 * Classification runs per conntrack event, so the zone networks and host
 * addresses are flattened into a cut of each address family: sorted
 * ranges, each carrying its longest match. CIDR prefixes never partly
 * overlap, which makes the cut exact and at most 2n+1 ranges long, and a
 * lookup one binary search. A long cut also keeps where each value of an
 * address's first 16 bits starts (and, in a crowded /16, of its first 24),
 * so that the search runs over the few ranges of one /16 or /24 only.
 *
 * The same index, built apart from a policy (pol_index_build()), is how
 * the DNS guard tells the site's own addresses: one table of the zone
 * networks for both, so that they cannot disagree.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "sched.h"

struct u128 {
	uint64_t hi, lo;
};

/* From `start` up to the next range's start, `addr` is the longest
 * entry of policy.addrs that covers the address (-1: none). */
struct pol_range {
	struct u128 start;
	int32_t addr;
};

/*
 * Two levels of slots over a cut: the ranges whose start's first 16 bits
 * are t begin at top[t]; a slot holding many ranges has a second table
 * of 256 over the next 8 bits. The slot past the last one (65536) holds
 * the v4 range at 2^32, if any.
 */
#define TOP_SLOTS	65536
#define SUB_SLOTS	256
/* Shorter cuts, and slots, are searched whole. */
#define TOP_MIN_RANGES	64
#define SUB_MIN_RANGES	16

struct pol_cut {
	struct pol_range *r;
	size_t n;
	uint32_t *top;		/* TOP_SLOTS + 1 entries, or NULL */
	int32_t *sub_of;	/* per top slot: its second table, or -1 */
	uint32_t *sub;		/* SUB_SLOTS + 1 entries each */
	bool v6;
};

struct pol_index {
	struct pol_addr *addrs;	/* as policy.addrs */
	size_t n_addrs;
	int32_t *parent;	/* per entry: the next entry out, or -1 */
	bool *own;		/* per entry: it, or an entry around it (or
				 * equal to it), is a network of the site */
	struct pol_cut c4, c6;
};

/* The pool prefix i as a key, so that a rule's lists are searched
 * without prefix_cmp(). */
struct pol_span {
	struct u128 first;
	uint8_t family, len;
};

struct pol_store {
	struct prefix *pfx;	/* every rule's src and dst */
	struct pol_span *span;	/* per pfx entry */
	struct service *svc;	/* every flow's services */
	struct pol_index *ix;
	size_t *pair_from;	/* per zone + 1: its first pair */
	size_t n_zones;
};

/* Deepest possible nesting of distinct prefixes: /0 to /128. */
#define MAX_DEPTH 129

/* qsort() wants a valid pointer even for nothing to sort. */
static void sort(void *v, size_t n, size_t size,
		 int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/* ---- keys ---- */

static bool family_ok(const struct prefix *p)
{
	return (p->family == AF_INET && p->len <= 32) ||
	       (p->family == AF_INET6 && p->len <= 128);
}

static struct u128 key_first(const struct prefix *p)
{
	struct u128 k = { 0, 0 };
	unsigned int host = (unsigned int)prefix_maxlen(p) - p->len;
	int i;

	if (p->family == AF_INET6) {
		for (i = 0; i < 8; i++)
			k.hi = k.hi << 8 | p->addr[i];
		for (i = 8; i < 16; i++)
			k.lo = k.lo << 8 | p->addr[i];
	} else {
		for (i = 0; i < 4; i++)
			k.lo = k.lo << 8 | p->addr[i];
	}
	/* A query may carry host bits past its length. */
	if (host >= 64) {
		k.lo = 0;
		if (host >= 128)
			k.hi = 0;
		else
			k.hi &= ~((UINT64_C(1) << (host - 64)) - 1);
	} else if (host) {
		k.lo &= ~((UINT64_C(1) << host) - 1);
	}
	return k;
}

static struct u128 key_last(const struct prefix *p, struct u128 k)
{
	unsigned int host = (unsigned int)prefix_maxlen(p) - p->len;

	if (host >= 64) {
		k.lo = UINT64_MAX;
		if (host >= 128)
			k.hi = UINT64_MAX;
		else
			k.hi |= (UINT64_C(1) << (host - 64)) - 1;
	} else if (host) {
		k.lo |= (UINT64_C(1) << host) - 1;
	}
	return k;
}

static bool key_le(struct u128 a, struct u128 b)
{
	return a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo);
}

static bool key_eq(struct u128 a, struct u128 b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

static struct u128 key_next(struct u128 k)
{
	k.lo++;
	if (!k.lo)
		k.hi++;
	return k;
}

/* ---- the classification table ---- */

static int addr_cmp(const void *a, const void *b)
{
	const struct pol_addr *x = a, *y = b;
	int r = prefix_cmp(&x->p, &y->p);

	if (r)
		return r;
	if ((x->host < 0) != (y->host < 0))
		return x->host >= 0 ? -1 : 1;
	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	if (x->zone != y->zone)
		return x->zone < y->zone ? -1 : 1;
	return 0;
}

static void range_emit(struct pol_range *r, size_t *n, struct u128 start,
		       int32_t addr)
{
	if (*n && key_eq(r[*n - 1].start, start)) {
		r[*n - 1].addr = addr;
		if (*n > 1 && r[*n - 2].addr == addr)
			(*n)--;
		return;
	}
	if (*n && r[*n - 1].addr == addr)
		return;
	r[*n].start = start;
	r[*n].addr = addr;
	(*n)++;
}

/*
 * Cuts one family's address space at every entry's first address and
 * just past its last. Entries come in prefix_cmp() order, so an entry
 * follows the ones that contain it and a stack of open prefixes is
 * enough; the first of equal prefixes is the one that wins.
 */
static int ranges_build(const struct pol_addr *a, size_t first, size_t n,
			int32_t *parent, struct pol_range **out, size_t *n_out)
{
	struct pol_range *r;
	int32_t stack[MAX_DEPTH];
	struct u128 ends[MAX_DEPTH];
	struct u128 zero = { 0, 0 };
	size_t nr = 0, sp = 0, i;
	int32_t win = -1;

	r = calloc(2 * n + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	range_emit(r, &nr, zero, -1);
	for (i = first; i < first + n; i++) {
		struct u128 s = key_first(&a[i].p), e;

		if (win >= 0 && prefix_equal(&a[i].p, &a[win].p)) {
			parent[i] = win;
			continue;
		}
		win = (int32_t)i;
		e = key_last(&a[i].p, s);
		while (sp && !key_le(s, ends[sp - 1])) {
			sp--;
			range_emit(r, &nr, key_next(ends[sp]),
				   sp ? stack[sp - 1] : -1);
		}
		parent[i] = sp ? stack[sp - 1] : -1;
		if (sp == MAX_DEPTH)	/* nested prefixes grow longer */
			continue;
		stack[sp] = (int32_t)i;
		ends[sp++] = e;
		range_emit(r, &nr, s, (int32_t)i);
	}
	while (sp) {
		sp--;
		if (ends[sp].hi == UINT64_MAX && ends[sp].lo == UINT64_MAX)
			break;	/* and so do all the prefixes around it */
		range_emit(r, &nr, key_next(ends[sp]), sp ? stack[sp - 1] : -1);
	}
	/* A v4 cut may end in a range at 2^32, which no address reaches. */
	*out = r;
	*n_out = nr;
	return 0;
}

static int32_t range_find(const struct pol_range *r, size_t n, struct u128 k)
{
	size_t lo = 0, hi = n;

	if (!n)
		return -1;
	/* r[0].start <= k: the answer is the last range starting <= k. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_le(r[mid].start, k))
			lo = mid;
		else
			hi = mid;
	}
	return r[lo].addr;
}

/* The first 16 bits of a key (TOP_SLOTS: past every address), and the
 * 8 after them. */
static uint32_t key_top(const struct pol_cut *c, struct u128 k)
{
	if (c->v6)
		return (uint32_t)(k.hi >> 48);
	return k.hi || k.lo >> 16 >= TOP_SLOTS ? TOP_SLOTS
					       : (uint32_t)(k.lo >> 16);
}

static uint32_t key_sub(const struct pol_cut *c, struct u128 k)
{
	return (uint32_t)((c->v6 ? k.hi >> 40 : k.lo >> 8) & 0xff);
}

static int sub_build(struct pol_cut *c)
{
	size_t nsub = 0;

	c->sub_of = malloc(TOP_SLOTS * sizeof(*c->sub_of));
	if (!c->sub_of)
		return -ENOMEM;
	for (uint32_t t = 0; t < TOP_SLOTS; t++) {
		c->sub_of[t] = -1;
		if (c->top[t + 1] - c->top[t] >= SUB_MIN_RANGES)
			c->sub_of[t] = (int32_t)nsub++;
	}
	if (!nsub)
		return 0;
	c->sub = calloc(nsub * (SUB_SLOTS + 1), sizeof(*c->sub));
	if (!c->sub)
		return -ENOMEM;
	for (uint32_t t = 0; t < TOP_SLOTS; t++) {
		uint32_t *sb, j = c->top[t];

		if (c->sub_of[t] < 0)
			continue;
		sb = c->sub + (size_t)c->sub_of[t] * (SUB_SLOTS + 1);
		for (uint32_t u = 0; u < SUB_SLOTS; u++) {
			while (j < c->top[t + 1] &&
			       key_sub(c, c->r[j].start) < u)
				j++;
			sb[u] = j;
		}
		sb[SUB_SLOTS] = c->top[t + 1];
	}
	return 0;
}

static int top_build(struct pol_cut *c)
{
	size_t j = 0;

	if (c->n < TOP_MIN_RANGES)
		return 0;
	c->top = calloc(TOP_SLOTS + 1, sizeof(*c->top));
	if (!c->top)
		return -ENOMEM;
	for (uint32_t t = 0; t <= TOP_SLOTS; t++) {
		while (j < c->n && key_top(c, c->r[j].start) < t)
			j++;
		c->top[t] = (uint32_t)j;
	}
	return sub_build(c);
}

static int32_t cut_find(const struct pol_cut *c, struct u128 k)
{
	uint32_t t, lo, hi;

	if (!c->top)
		return range_find(c->r, c->n, k);
	t = key_top(c, k);
	if (t >= TOP_SLOTS)	/* past every address */
		return c->r[c->n - 1].addr;
	/* The range before a slot's first starts below k (r[0] starts at
	 * 0), and none from the next slot on starts at or below it. */
	if (c->sub_of[t] >= 0) {
		const uint32_t *sb = c->sub +
				     (size_t)c->sub_of[t] * (SUB_SLOTS + 1);
		uint32_t u = key_sub(c, k);

		lo = sb[u];
		hi = sb[u + 1];
	} else {
		lo = c->top[t];
		hi = c->top[t + 1];
	}
	lo = lo ? lo - 1 : 0;
	return range_find(c->r + lo, hi - lo, k);
}

static int cut_build(const struct pol_addr *a, size_t first, size_t n,
		     int32_t *parent, bool v6, struct pol_cut *c)
{
	int err;

	c->v6 = v6;
	err = ranges_build(a, first, n, parent, &c->r, &c->n);
	if (!err)
		err = top_build(c);
	return err;
}

void pol_index_free(struct pol_index *ix)
{
	if (!ix)
		return;
	free(ix->addrs);
	free(ix->parent);
	free(ix->own);
	free(ix->c4.r);
	free(ix->c4.top);
	free(ix->c4.sub_of);
	free(ix->c4.sub);
	free(ix->c6.r);
	free(ix->c6.top);
	free(ix->c6.sub_of);
	free(ix->c6.sub);
	free(ix);
}

/* Only the default routes of external zones leave the site. */
static bool site_net(const struct model *m, const struct pol_addr *e)
{
	return e->host < 0 && !(m->zones[e->zone].tier == TIER_EXTERNAL &&
				e->p.len == 0);
}

/*
 * Entries come in prefix_cmp() order: the ones around an entry before
 * it, then the ones equal to it (their parent is the first of them),
 * then the ones inside it.
 */
static void own_build(const struct model *m, struct pol_index *ix)
{
	for (size_t i = 0; i < ix->n_addrs; i++) {
		int32_t up = ix->parent[i];
		bool self = site_net(m, &ix->addrs[i]);

		if (up >= 0 && prefix_equal(&ix->addrs[up].p,
					    &ix->addrs[i].p)) {
			ix->own[up] = ix->own[up] || self;
			ix->own[i] = ix->own[up];
		} else {
			ix->own[i] = self || (up >= 0 && ix->own[up]);
		}
	}
}

struct pol_index *pol_index_build(const struct model *m)
{
	struct pol_index *ix = NULL;
	size_t n = 0, i, j, n4;
	int err = -EINVAL;

	if (!m)
		goto out;
	err = -ENOMEM;
	ix = calloc(1, sizeof(*ix));
	if (!ix)
		goto out;
	for (i = 0; i < m->n_zones; i++)
		n += m->zones[i].n_nets;
	n += m->n_hosts;
	ix->addrs = calloc(n ? n : 1, sizeof(*ix->addrs));
	ix->parent = calloc(n ? n : 1, sizeof(*ix->parent));
	ix->own = calloc(n ? n : 1, sizeof(*ix->own));
	if (!ix->addrs || !ix->parent || !ix->own)
		goto out;

	n = 0;
	for (i = 0; i < m->n_zones; i++) {
		for (j = 0; j < m->zones[i].n_nets; j++) {
			const struct prefix *pf = &m->zones[i].nets[j].p;

			if (!family_ok(pf))
				continue;
			ix->addrs[n].p = *pf;
			ix->addrs[n].zone = (int)i;
			ix->addrs[n++].host = -1;
		}
	}
	for (i = 0; i < m->n_hosts; i++) {
		const struct host *h = &m->hosts[i];

		if (h->zone < 0 || (size_t)h->zone >= m->n_zones ||
		    !family_ok(&h->addr))
			continue;
		ix->addrs[n].p = h->addr;
		ix->addrs[n].zone = h->zone;
		ix->addrs[n++].host = (int)i;
	}
	ix->n_addrs = n;
	sort(ix->addrs, n, sizeof(*ix->addrs), addr_cmp);

	/* AF_INET sorts before AF_INET6. */
	for (n4 = 0; n4 < n && ix->addrs[n4].p.family == AF_INET; n4++)
		;
	err = cut_build(ix->addrs, 0, n4, ix->parent, false, &ix->c4);
	if (!err)
		err = cut_build(ix->addrs, n4, n - n4, ix->parent, true,
				&ix->c6);
	if (!err)
		own_build(m, ix);
out:
	if (err) {
		pol_index_free(ix);
		errno = -err;
		return NULL;
	}
	return ix;
}

/* The longest entry that holds all of `addr`, or -1; k is its first
 * address. */
static int32_t index_find(const struct pol_index *ix,
			  const struct prefix *addr, struct u128 k)
{
	int32_t i;

	if (addr->family == AF_INET && addr->len <= 32)
		i = cut_find(&ix->c4, k);
	else if (addr->family == AF_INET6 && addr->len <= 128)
		i = cut_find(&ix->c6, k);
	else
		i = -1;
	while (i >= 0 && ix->addrs[i].p.len > addr->len)
		i = ix->parent[i];
	return i;
}

static int index_classify(const struct pol_index *ix,
			  const struct prefix *addr, struct u128 k, int *zone,
			  int *host)
{
	int32_t i = index_find(ix, addr, k);

	if (zone)
		*zone = i >= 0 ? ix->addrs[i].zone : -1;
	if (host)
		*host = i >= 0 ? ix->addrs[i].host : -1;
	return i >= 0 ? 0 : -ENOENT;
}

int pol_index_classify(const struct pol_index *ix, const struct prefix *addr,
		       int *zone, int *host)
{
	return index_classify(ix, addr, key_first(addr), zone, host);
}

bool pol_index_own(const struct pol_index *ix, const struct prefix *addr)
{
	int32_t i = index_find(ix, addr, key_first(addr));

	return i >= 0 && ix->own[i];
}

int policy_classify(const struct policy *p, const struct prefix *addr,
		    int *zone, int *host)
{
	return pol_index_classify(p->store->ix, addr, zone, host);
}

/* ---- rules ---- */

/* One endpoint placed in one zone, toward one kind of destination. */
struct item {
	int zone;
	int kind;		/* fqdn set, or -1 for addresses */
	size_t ep;
};

/* The normalised addresses of a flow's endpoints in one zone. */
struct group {
	int zone, kind;
	size_t off, n;
};

struct prule {
	struct pol_rule r;
	size_t src_off, dst_off, svc_off;
};

struct group_vec {
	struct group *v;
	size_t n, cap;
};

struct build {
	const struct model *m;
	struct prefix *pfx;	/* the pool, becomes store->pfx */
	size_t n_pfx, cap_pfx;
	struct service *svc;	/* the pool, becomes store->svc */
	size_t n_svc, cap_svc;
	struct prule *rules;
	size_t n_rules, cap_rules;
	struct item *items;
	size_t n_items, cap_items;
	struct group_vec sg, dg;
	int *ext;		/* zones of tier external */
	size_t n_ext;
	struct prefix *znets;	/* every zone's networks, normalised */
	size_t *zoff;		/* zone z's: znets[zoff[z]..zoff[z + 1]) */
};

/* Room for `need` elements: the array, moved or not, or NULL on ENOMEM
 * (the old one is kept). `need` is never 0. */
static void *grow(void *v, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return v;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	v = reallocarray(v, c, size);
	if (v)
		*cap = c;
	return v;
}

#define GROW_ARR(arr, cap, need) ({					\
	void *nv_ = grow((arr), &(cap), (need), sizeof(*(arr)));	\
	if (nv_)							\
		(arr) = nv_;						\
	nv_ != NULL; })
#define GROW(b, arr, need) GROW_ARR((b)->arr, (b)->cap_##arr, (need))

static int ep_zone(const struct model *m, const struct endpoint *ep)
{
	int z = -1;

	switch (ep->kind) {
	case EP_ZONE:
	case EP_CIDR:
		z = ep->ref;
		break;
	case EP_HOST:
		if (ep->ref >= 0 && (size_t)ep->ref < m->n_hosts)
			z = m->hosts[ep->ref].zone;
		break;
	case EP_FQDN:
		break;
	}
	return z >= 0 && (size_t)z < m->n_zones ? z : -1;
}

static bool pfx_push(struct build *b, const struct prefix *p)
{
	if (!family_ok(p))	/* never from the loader */
		return true;
	if (!GROW(b, pfx, b->n_pfx + 1))
		return false;
	b->pfx[b->n_pfx++] = *p;
	return true;
}

static bool ep_prefixes(struct build *b, const struct endpoint *ep)
{
	const struct model *m = b->m;
	size_t i;

	switch (ep->kind) {
	case EP_ZONE: {
		const struct zone *z = &m->zones[ep->ref];

		for (i = 0; i < z->n_nets; i++)
			if (!pfx_push(b, &z->nets[i].p))
				return false;
		return true;
	}
	case EP_HOST:
		return pfx_push(b, &m->hosts[ep->ref].addr);
	case EP_CIDR:
		return pfx_push(b, &ep->cidr);
	case EP_FQDN:
		break;
	}
	return true;
}

static int pfx_qcmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

/* Sorts v[0..n) and keeps only the outermost prefixes; returns the new
 * n. Two prefixes are disjoint or nested, so after sorting a prefix is
 * covered by an earlier one only if by the last one kept. */
static size_t pfx_normalise(struct prefix *v, size_t n)
{
	size_t i, k = 0;

	sort(v, n, sizeof(*v), pfx_qcmp);
	for (i = 0; i < n; i++) {
		if (k && prefix_contains(&v[k - 1], &v[i]))
			continue;
		v[k++] = v[i];
	}
	return k;
}

static int svc_qcmp(const void *a, const void *b)
{
	return service_cmp(a, b);
}

static size_t svc_normalise(struct service *v, size_t n)
{
	size_t i, k = 0;

	sort(v, n, sizeof(*v), svc_qcmp);
	if (n && v[0].proto == 0)
		return 1;	/* `any` covers the rest */
	for (i = 0; i < n; i++) {
		if (k && v[k - 1].proto == v[i].proto &&
		    v[i].lo <= v[k - 1].hi) {
			if (v[i].hi > v[k - 1].hi)
				v[k - 1].hi = v[i].hi;
			continue;
		}
		v[k++] = v[i];
	}
	return k;
}

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->zone != y->zone)
		return x->zone < y->zone ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->ep != y->ep)
		return x->ep < y->ep ? -1 : 1;
	return 0;
}

static bool item_push(struct build *b, int zone, int kind, size_t ep)
{
	if (!GROW(b, items, b->n_items + 1))
		return false;
	b->items[b->n_items].zone = zone;
	b->items[b->n_items].kind = kind;
	b->items[b->n_items++].ep = ep;
	return true;
}

/* Turns the sorted items into one group per (zone, kind), appending
 * each group's normalised prefixes to the pool. */
static bool groups_make(struct build *b, const struct endpoint *eps,
			struct group_vec *g)
{
	size_t i = 0, j;

	g->n = 0;
	sort(b->items, b->n_items, sizeof(*b->items), item_cmp);
	while (i < b->n_items) {
		struct group gr = {
			.zone = b->items[i].zone,
			.kind = b->items[i].kind,
			.off = b->n_pfx,
		};

		for (j = i; j < b->n_items && b->items[j].zone == gr.zone &&
			    b->items[j].kind == gr.kind; j++) {
			const struct endpoint *ep = &eps[b->items[j].ep];

			if (gr.kind < 0 && !ep_prefixes(b, ep))
				return false;
		}
		i = j;
		if (gr.kind < 0) {
			if (b->n_pfx > gr.off)
				gr.n = pfx_normalise(b->pfx + gr.off,
						     b->n_pfx - gr.off);
			b->n_pfx = gr.off + gr.n;
			if (!gr.n)	/* a zone without networks */
				continue;
		}
		if (!GROW_ARR(g->v, g->cap, g->n + 1))
			return false;
		g->v[g->n++] = gr;
	}
	return true;
}

/* Whether a group holds every network of its zone (and so every
 * address the zone's networks classify into it). */
static bool whole_zone(const struct build *b, const struct group *g)
{
	size_t n = b->zoff[g->zone + 1] - b->zoff[g->zone];

	return g->n == n && (!n || !memcmp(b->pfx + g->off,
					   b->znets + b->zoff[g->zone],
					   n * sizeof(*b->pfx)));
}

static bool znets_build(struct build *b)
{
	const struct model *m = b->m;
	size_t n = 0;

	b->zoff = calloc(m->n_zones + 1, sizeof(*b->zoff));
	for (size_t z = 0; z < m->n_zones; z++)
		n += m->zones[z].n_nets;
	b->znets = calloc(n ? n : 1, sizeof(*b->znets));
	if (!b->zoff || !b->znets)
		return false;
	n = 0;
	for (size_t z = 0; z < m->n_zones; z++) {
		const struct zone *zn = &m->zones[z];
		size_t k = 0;

		b->zoff[z] = n;
		/* As ep_prefixes() and groups_make() put them in. */
		for (size_t j = 0; j < zn->n_nets; j++)
			if (family_ok(&zn->nets[j].p))
				b->znets[n + k++] = zn->nets[j].p;
		n += pfx_normalise(b->znets + n, k);
	}
	b->zoff[m->n_zones] = n;
	return true;
}

static bool flow_compile(struct build *b, size_t fi)
{
	const struct model *m = b->m;
	const struct flow *f = &m->flows[fi];
	size_t i, j, svc_off, n_svc;
	int sched = f->schedule;

	b->n_items = 0;
	for (i = 0; i < f->n_from; i++) {
		int z = ep_zone(m, &f->from[i]);

		if (z >= 0 && !item_push(b, z, -1, i))
			return false;
	}
	if (!groups_make(b, f->from, &b->sg))
		return false;

	b->n_items = 0;
	for (i = 0; i < f->n_to; i++) {
		const struct endpoint *ep = &f->to[i];

		if (ep->kind == EP_FQDN) {
			if (ep->ref < 0 || (size_t)ep->ref >= m->n_fqdn_sets)
				continue;
			for (j = 0; j < b->n_ext; j++)
				if (!item_push(b, b->ext[j], ep->ref, i))
					return false;
		} else {
			int z = ep_zone(m, ep);

			if (z >= 0 && !item_push(b, z, -1, i))
				return false;
		}
	}
	if (!groups_make(b, f->to, &b->dg))
		return false;

	svc_off = b->n_svc;
	if (!GROW(b, svc, b->n_svc + f->n_services + 1))
		return false;
	for (i = 0; i < f->n_services; i++)
		b->svc[b->n_svc++] = f->services[i].sv;
	n_svc = svc_normalise(b->svc + svc_off, f->n_services);
	b->n_svc = svc_off + n_svc;

	if (sched < 0 || (size_t)sched >= m->n_schedules)
		sched = -1;
	for (i = 0; i < b->sg.n; i++) {
		for (j = 0; j < b->dg.n; j++) {
			const struct group *s = &b->sg.v[i], *d = &b->dg.v[j];
			struct prule *r;

			if (s->zone == d->zone)
				continue;
			if (!GROW(b, rules, b->n_rules + 1))
				return false;
			r = &b->rules[b->n_rules++];
			memset(r, 0, sizeof(*r));
			r->r.flow = (int)fi;
			r->r.src_zone = s->zone;
			r->r.dst_zone = d->zone;
			r->r.n_src = s->n;
			r->r.n_dst = d->kind < 0 ? d->n : 0;
			r->r.dst_fqdn = d->kind;
			r->r.n_svcs = n_svc;
			r->r.schedule = sched;
			r->r.log = f->log;
			r->r.src_all = whole_zone(b, s);
			r->r.dst_all = d->kind < 0 && whole_zone(b, d);
			r->src_off = s->off;
			r->dst_off = d->off;
			r->svc_off = svc_off;
		}
	}
	return true;
}

static int prule_cmp(const void *a, const void *b)
{
	const struct pol_rule *x = &((const struct prule *)a)->r;
	const struct pol_rule *y = &((const struct prule *)b)->r;

	if (x->src_zone != y->src_zone)
		return x->src_zone < y->src_zone ? -1 : 1;
	if (x->dst_zone != y->dst_zone)
		return x->dst_zone < y->dst_zone ? -1 : 1;
	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	if (x->dst_fqdn != y->dst_fqdn)
		return x->dst_fqdn < y->dst_fqdn ? -1 : 1;
	return 0;
}

static int spans_build(struct pol_store *st, size_t n)
{
	st->span = calloc(n ? n : 1, sizeof(*st->span));
	if (!st->span)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		st->span[i].first = key_first(&st->pfx[i]);
		st->span[i].family = st->pfx[i].family;
		st->span[i].len = st->pfx[i].len;
	}
	return 0;
}

/* Pairs are sorted by source zone: where each zone's begin. */
static int pairs_index(struct policy *p)
{
	struct pol_store *st = p->store;
	size_t nz = p->m->n_zones, j = 0;

	st->pair_from = calloc(nz + 1, sizeof(*st->pair_from));
	if (!st->pair_from)
		return -ENOMEM;
	st->n_zones = nz;
	for (size_t z = 0; z <= nz; z++) {
		while (j < p->n_pairs && p->pairs[j].from < (int)z)
			j++;
		st->pair_from[z] = j;
	}
	return 0;
}

static int rules_build(struct policy *p)
{
	const struct model *m = p->m;
	struct build b = { .m = m };
	size_t i, k;
	int err = -ENOMEM;

	b.ext = calloc(m->n_zones ? m->n_zones : 1, sizeof(*b.ext));
	if (!b.ext)
		goto out;
	for (i = 0; i < m->n_zones; i++)
		if (m->zones[i].tier == TIER_EXTERNAL)
			b.ext[b.n_ext++] = (int)i;
	if (!znets_build(&b))
		goto out;
	for (i = 0; i < m->n_flows; i++)
		if (!flow_compile(&b, i))
			goto out;
	sort(b.rules, b.n_rules, sizeof(*b.rules), prule_cmp);

	p->rules = calloc(b.n_rules ? b.n_rules : 1, sizeof(*p->rules));
	if (!p->rules)
		goto out;
	for (i = 0; i < b.n_rules; i++) {
		struct pol_rule *r = &p->rules[i];

		*r = b.rules[i].r;
		r->src = r->n_src ? b.pfx + b.rules[i].src_off : NULL;
		r->dst = r->n_dst ? b.pfx + b.rules[i].dst_off : NULL;
		r->svcs = r->n_svcs ? b.svc + b.rules[i].svc_off : NULL;
	}
	p->n_rules = b.n_rules;
	p->store->pfx = b.pfx;
	p->store->svc = b.svc;
	b.pfx = NULL;
	b.svc = NULL;
	if (spans_build(p->store, b.n_pfx))
		goto out;

	for (i = 0, k = 0; i < p->n_rules; i++)
		if (!i || p->rules[i].src_zone != p->rules[i - 1].src_zone ||
		    p->rules[i].dst_zone != p->rules[i - 1].dst_zone)
			k++;
	p->pairs = calloc(k ? k : 1, sizeof(*p->pairs));
	if (!p->pairs)
		goto out;
	for (i = 0; i < p->n_rules; i++) {
		struct pol_pair *pr = p->n_pairs ? &p->pairs[p->n_pairs - 1]
						 : NULL;

		if (!pr || p->rules[i].src_zone != pr->from ||
		    p->rules[i].dst_zone != pr->to) {
			pr = &p->pairs[p->n_pairs++];
			pr->from = p->rules[i].src_zone;
			pr->to = p->rules[i].dst_zone;
			pr->first = i;
			pr->n = 0;
		}
		pr->n++;
	}
	err = pairs_index(p);
out:
	free(b.pfx);
	free(b.svc);
	free(b.rules);
	free(b.items);
	free(b.sg.v);
	free(b.dg.v);
	free(b.ext);
	free(b.znets);
	free(b.zoff);
	return err;
}

/* ---- the policy ---- */

struct policy *policy_build(const struct model *m)
{
	struct policy *p = NULL;
	int err = -EINVAL;

	if (!m)
		goto out;
	err = -ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto out;
	p->m = m;
	p->store = calloc(1, sizeof(*p->store));
	if (!p->store)
		goto out;
	p->store->ix = pol_index_build(m);
	if (!p->store->ix) {
		err = -errno;
		goto out;
	}
	p->addrs = p->store->ix->addrs;
	p->n_addrs = p->store->ix->n_addrs;
	err = rules_build(p);
out:
	if (err) {
		policy_free(p);
		errno = -err;
		return NULL;
	}
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	if (p->store) {
		free(p->store->pfx);
		free(p->store->span);
		free(p->store->svc);
		free(p->store->pair_from);
		pol_index_free(p->store->ix);
		free(p->store);
	}
	free(p->rules);
	free(p->pairs);
	free(p);
}

bool service_in_family(const struct service *sv, int fam)
{
	if (sv->proto == IPPROTO_ICMP)
		return fam == 4;
	if (sv->proto == IPPROTO_ICMPV6)
		return fam == 6;
	return true;
}

unsigned int pol_fam_bit(int af)
{
	return af == AF_INET ? POL_FAM_V4 : af == AF_INET6 ? POL_FAM_V6 : 0;
}

unsigned int policy_fqdn_families(const struct policy *p, int set)
{
	unsigned int fams = 0;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct pol_rule *r = &p->rules[i];

		if (r->dst_fqdn != set)
			continue;
		/* As the generator's rule_keys(): a source and a service of
		 * the family, or no rule of that family at all. */
		for (size_t s = 0; s < r->n_src; s++) {
			int fam = r->src[s].family == AF_INET ? 4 : 6;

			for (size_t v = 0; v < r->n_svcs; v++)
				if (service_in_family(&r->svcs[v], fam))
					fams |= pol_fam_bit(r->src[s].family);
		}
	}
	return fams;
}

const struct pol_rule *policy_pair(const struct policy *p, int from, int to,
				   size_t *n)
{
	const struct pol_store *st = p->store;
	size_t lo, hi;

	*n = 0;
	if (from < 0 || (size_t)from >= st->n_zones)
		return NULL;
	/* A zone talks to few others: its slice of the pairs is short. */
	lo = st->pair_from[from];
	hi = st->pair_from[from + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pol_pair *pr = &p->pairs[mid];

		if (pr->to == to) {
			*n = pr->n;
			return &p->rules[pr->first];
		}
		if (pr->to < to)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* An address (or prefix) as the pool's keys see it. */
struct qkey {
	uint8_t family;
	struct u128 first, last;
};

static struct qkey qkey_of(const struct prefix *a)
{
	struct qkey q = { a->family, key_first(a), { 0, 0 } };

	q.last = key_last(a, q.first);
	return q;
}

static bool span_le(const struct pol_span *s, const struct qkey *q)
{
	return s->family < q->family ||
	       (s->family == q->family && key_le(s->first, q->first));
}

/* v is a slice of the pool, sorted and disjoint: only the last prefix
 * that starts at or before the query can hold it. */
static bool in_prefixes(const struct pol_store *st, const struct prefix *v,
			size_t n, const struct qkey *q)
{
	const struct pol_span *s;
	size_t lo = 0, hi = n;
	struct prefix p;

	if (!n)
		return false;
	s = st->span + (v - st->pfx);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (span_le(&s[mid], q))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || s[lo - 1].family != q->family)
		return false;
	p.family = q->family;
	p.len = s[lo - 1].len;
	return key_le(q->last, key_last(&p, s[lo - 1].first));
}

bool services_cover(const struct service *svcs, size_t n, uint8_t proto,
		    uint16_t port)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct service *sv = &svcs[i];

		if (sv->proto == 0)
			return true;
		if (sv->proto != proto)
			continue;
		switch (proto) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
		case IPPROTO_SCTP:
		case IPPROTO_ICMP:
		case IPPROTO_ICMPV6:
			if (sv->lo <= port && port <= sv->hi)
				return true;
			break;
		default:
			break;
		}
	}
	return false;
}

void policy_decide(const struct policy *p, const struct pol_query *q,
		   pol_fqdn_fn in_fqdn, void *ctx, struct pol_decision *out)
{
	const struct model *m = p->m;
	const struct pol_store *st = p->store;
	const struct pol_rule *rules, *closed = NULL;
	struct qkey ks = qkey_of(&q->src), kd = qkey_of(&q->dst);
	size_t n, i;
	int rs, rd;

	memset(out, 0, sizeof(*out));
	out->rule = NULL;
	rs = index_classify(st->ix, &q->src, ks.first, &out->src_zone,
			    &out->src_host);
	rd = index_classify(st->ix, &q->dst, kd.first, &out->dst_zone,
			    &out->dst_host);
	if (rs || rd) {
		out->verdict = POL_UNKNOWN;
		return;
	}
	if (out->src_zone == out->dst_zone) {
		out->verdict = POL_LOCAL;
		return;
	}
	rules = policy_pair(p, out->src_zone, out->dst_zone, &n);
	for (i = 0; i < n; i++) {
		const struct pol_rule *r = &rules[i];

		/* An address a network of the rule's zone classified is in
		 * a list of all of them. */
		if (!((r->src_all && out->src_host < 0) ||
		      in_prefixes(st, r->src, r->n_src, &ks)) ||
		    !services_cover(r->svcs, r->n_svcs, q->proto, q->port))
			continue;
		if (r->dst_fqdn >= 0) {
			if (!in_fqdn) {
				out->fqdn_unknown = true;
				if (!out->fqdn_miss)
					out->fqdn_miss = r;
				continue;
			}
			if (!in_fqdn(ctx, r->dst_fqdn, &q->dst)) {
				if (!out->fqdn_miss)
					out->fqdn_miss = r;
				continue;
			}
		} else if (!(r->dst_all && out->dst_host < 0) &&
			   !in_prefixes(st, r->dst, r->n_dst, &kd)) {
			continue;
		}
		if (r->schedule >= 0 &&
		    !schedule_open(m, &m->schedules[r->schedule], q->when)) {
			if (!closed)
				closed = r;
			continue;
		}
		out->verdict = POL_ACCEPT;
		out->rule = r;
		return;
	}
	out->verdict = closed ? POL_CLOSED : POL_DROP;
	out->rule = closed;
}
