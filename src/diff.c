// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The semantic difference of two zone files.
 *
 * Every object is reduced to canonical text (endpoints by the name they
 * resolve to, prefixes and services normalised, lists sorted) before it
 * is compared, so that what a reviewer reads is what changed in meaning,
 * never in layout.
 *
 * Whether a change opens access to mynumber is decided on addresses, not
 * names: all the prefixes both files mention cut the address space into
 * atoms that each version classifies and each rule holds or not as a
 * whole, so one address per atom stands for all of it. A permission of
 * NEW for a pair of atoms with a mynumber end (in either version) is an
 * opening unless OLD grants the same service to the same pair whenever
 * NEW does (under no schedule, or one open at least as long). This
 * compares what two policies grant; deciding a packet stays
 * policy_decide()'s job.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "diff.h"
#include "i18n.h"
#include "parse.h"
#include "sched.h"

#define T(n)	(1u << (n))

static const char *const obj_names[] = {
	[DIFF_SITE] = "site",
	[DIFF_ZONE] = "zone",
	[DIFF_PREFIX] = "prefix",
	[DIFF_HOST] = "host",
	[DIFF_FQDN_SET] = "fqdn-set",
	[DIFF_FQDN_NAME] = "fqdn-name",
	[DIFF_SCHEDULE] = "schedule",
	[DIFF_FLOW] = "flow",
	[DIFF_WAIVER] = "waiver",
	[DIFF_GATEWAY] = "gateway",
};

static const char *const op_names[] = {
	[DIFF_ADDED] = "added",
	[DIFF_REMOVED] = "removed",
	[DIFF_CHANGED] = "changed",
	[DIFF_MOVED] = "moved",
	[DIFF_RETIERED] = "retiered",
	[DIFF_RENAMED] = "renamed",
	[DIFF_EXPIRED] = "expired",
};

static const char *const perm_op_names[] = {
	[PERM_ADDED] = "added",
	[PERM_REMOVED] = "removed",
	[PERM_WIDENED] = "widened",
	[PERM_NARROWED] = "narrowed",
	[PERM_CHANGED] = "changed",
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

const char *diff_obj_name(enum diff_obj o)
{
	return (unsigned int)o < N_ELEMS(obj_names) ? obj_names[o] : "?";
}

const char *diff_op_name(enum diff_op o)
{
	return (unsigned int)o < N_ELEMS(op_names) ? op_names[o] : "?";
}

const char *diff_perm_op_name(enum diff_perm_op o)
{
	return (unsigned int)o < N_ELEMS(perm_op_names) ? perm_op_names[o] :
	       "?";
}

/* ---- the context: errors are sticky, checked once at the end ---- */

/* Flows only one version has, kept to pair up renamed ones. */
struct lone {
	int *v;
	size_t n;
};

struct dx {
	struct model *mo, *mn;
	const struct policy *po, *pn;
	int32_t today;
	struct diff *d;
	size_t cap_changes, cap_perms, cap_openings;
	struct lone gone, born;
	/* sched_within() answers: [0] OLD's schedules in NEW's, [1] NEW's
	 * in OLD's; 0 unknown, 1 no, 2 yes. */
	uint8_t *sc[2];
	/* Renamed flows, OLD name -> NEW name, so that their permissions
	 * compare as the same. */
	const char **ren_old, **ren_new;
	size_t n_ren;
	int err;
};

static void *grow(struct dx *x, void *v, size_t *cap, size_t need,
		  size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *nv;

	if (need <= *cap)
		return v;
	while (c < need)
		c *= 2;
	nv = reallocarray(v, c, size);
	if (!nv) {
		x->err = -ENOMEM;
		return NULL;
	}
	*cap = c;
	return nv;
}

/* ---- string vectors ---- */

static void sv_take(struct dx *x, struct strv *s, char *str)
{
	char **v;

	if (!str) {
		x->err = -ENOMEM;
		return;
	}
	v = grow(x, s->v, &s->cap, s->n + 1, sizeof(*s->v));
	if (!v) {
		free(str);
		return;
	}
	s->v = v;
	s->v[s->n++] = str;
}

static void sv_add(struct dx *x, struct strv *s, const char *str)
{
	sv_take(x, s, strdup(str));
}

static void sv_addf(struct dx *x, struct strv *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sv_addf(struct dx *x, struct strv *s, const char *fmt, ...)
{
	va_list ap;
	char *str;

	va_start(ap, fmt);
	if (vasprintf(&str, fmt, ap) < 0)
		str = NULL;
	va_end(ap);
	sv_take(x, s, str);
}

static int str_qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sv_sort(struct strv *s)
{
	size_t i, k = 0;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), str_qcmp);
	for (i = 0; i < s->n; i++) {
		if (k && !strcmp(s->v[k - 1], s->v[i])) {
			free(s->v[i]);
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
}

static void sv_free(struct strv *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool sv_equal(const struct strv *a, const struct strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

/* ---- changes ---- */

static struct diff_change *change_new(struct dx *x, enum diff_obj obj,
				      enum diff_op op, const char *name,
				      const char *parent)
{
	struct diff *d = x->d;
	struct diff_change *v, *c;

	v = grow(x, d->changes, &x->cap_changes, d->n_changes + 1,
		 sizeof(*v));
	if (!v)
		return NULL;
	d->changes = v;
	c = &v[d->n_changes];
	memset(c, 0, sizeof(*c));
	c->obj = obj;
	c->op = op;
	c->name = strdup(name);
	c->parent = parent ? strdup(parent) : NULL;
	if (!c->name || (parent && !c->parent)) {
		free(c->name);
		free(c->parent);
		x->err = -ENOMEM;
		return NULL;
	}
	d->n_changes++;
	return c;
}

static void field_free(struct diff_field *f)
{
	sv_free(&f->old);
	sv_free(&f->new);
	sv_free(&f->added);
	sv_free(&f->removed);
}

static void change_free(struct diff_change *c)
{
	for (size_t i = 0; i < c->n_fields; i++)
		field_free(&c->fields[i]);
	free(c->fields);
	free(c->name);
	free(c->parent);
	free(c->old_name);
}

/* Drops the last change if it is a CHANGED one with nothing in it. */
static void change_end(struct dx *x, struct diff_change *c)
{
	struct diff *d = x->d;

	if (!c || c != &d->changes[d->n_changes - 1])
		return;
	if (c->n_fields == 0 && (c->op == DIFF_CHANGED ||
				 c->op == DIFF_MOVED ||
				 c->op == DIFF_RETIERED)) {
		change_free(c);
		d->n_changes--;
	}
}

/*
 * Adds a field to `c` when the two value lists differ (or always, for an
 * added or removed object). Takes both lists, sorted or not; they are
 * left empty.
 */
static void field_add(struct dx *x, struct diff_change *c, const char *name,
		      bool list, struct strv *o, struct strv *n, bool force)
{
	struct diff_field *f, *v;
	size_t i = 0, j = 0;

	if (!c)
		goto out;
	sv_sort(o);
	sv_sort(n);
	if (!force && c->op != DIFF_ADDED && c->op != DIFF_REMOVED &&
	    sv_equal(o, n))
		goto out;
	if (c->op == DIFF_ADDED && !n->n)
		goto out;
	if (c->op == DIFF_REMOVED && !o->n)
		goto out;
	v = reallocarray(c->fields, c->n_fields + 1, sizeof(*v));
	if (!v) {
		x->err = -ENOMEM;
		goto out;
	}
	c->fields = v;
	f = &v[c->n_fields++];
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->list = list;
	f->old = *o;
	f->new = *n;
	memset(o, 0, sizeof(*o));
	memset(n, 0, sizeof(*n));
	if (!list)
		return;
	while (i < f->old.n || j < f->new.n) {
		int r = i == f->old.n ? 1 : j == f->new.n ? -1 :
			strcmp(f->old.v[i], f->new.v[j]);

		if (r < 0)
			sv_add(x, &f->removed, f->old.v[i++]);
		else if (r > 0)
			sv_add(x, &f->added, f->new.v[j++]);
		else
			i++, j++;
	}
out:
	sv_free(o);
	sv_free(n);
}

static void field_put(struct dx *x, struct diff_change *c, const char *name,
		      bool list, struct strv *o, struct strv *n)
{
	field_add(x, c, name, list, o, n, false);
}

/* A scalar field from two optional strings. */
static void field_str(struct dx *x, struct diff_change *c, const char *name,
		      const char *o, const char *n)
{
	struct strv so = { 0 }, sn = { 0 };

	if (o)
		sv_add(x, &so, o);
	if (n)
		sv_add(x, &sn, n);
	field_put(x, c, name, false, &so, &sn);
}

static void field_u32(struct dx *x, struct diff_change *c, const char *name,
		      const uint32_t *o, const uint32_t *n)
{
	char a[16], b[16];

	snprintf(a, sizeof(a), "%u", o ? *o : 0);
	snprintf(b, sizeof(b), "%u", n ? *n : 0);
	field_str(x, c, name, o ? a : NULL, n ? b : NULL);
}

/* ---- canonical text ---- */

static bool zone_ok(const struct model *m, int z)
{
	return z >= 0 && (size_t)z < m->n_zones;
}

static void ep_canon(const struct model *m, const struct endpoint *e,
		     char *buf, size_t n)
{
	char p[PREFIX_STRLEN];

	switch (e->kind) {
	case EP_ZONE:
		if (zone_ok(m, e->ref)) {
			snprintf(buf, n, "%s", m->zones[e->ref].name);
			return;
		}
		break;
	case EP_HOST:
		if (e->ref >= 0 && (size_t)e->ref < m->n_hosts) {
			snprintf(buf, n, "%s", m->hosts[e->ref].name);
			return;
		}
		break;
	case EP_FQDN:
		if (e->ref >= 0 && (size_t)e->ref < m->n_fqdn_sets) {
			snprintf(buf, n, "fqdn:%s", m->fqdn_sets[e->ref].name);
			return;
		}
		break;
	case EP_CIDR:
		if (zone_ok(m, e->zone) && e->cidr.family) {
			prefix_format(&e->cidr, p, sizeof(p));
			snprintf(buf, n, "%s/%s", m->zones[e->zone].name, p);
			return;
		}
		break;
	}
	snprintf(buf, n, "%s", e->text ? e->text : "?");
}

static void eps_canon(struct dx *x, const struct model *m,
		      const struct endpoint *v, size_t n, struct strv *out)
{
	char buf[128];

	for (size_t i = 0; i < n; i++) {
		ep_canon(m, &v[i], buf, sizeof(buf));
		sv_add(x, out, buf);
	}
}

static int svc_qcmp(const void *a, const void *b)
{
	return service_cmp(a, b);
}

/* Sorted, overlapping ranges of one protocol merged, `any` alone: the
 * form the policy gives a flow's services. Returns the new count. */
static size_t svc_normalise(struct service *v, size_t n)
{
	size_t i, k = 0;

	if (n > 1)
		qsort(v, n, sizeof(*v), svc_qcmp);
	if (n && v[0].proto == 0)
		return 1;
	for (i = 0; i < n; i++) {
		if (k && v[k - 1].proto == v[i].proto &&
		    v[i].lo <= (uint32_t)v[k - 1].hi + 1) {
			if (v[i].hi > v[k - 1].hi)
				v[k - 1].hi = v[i].hi;
			continue;
		}
		v[k++] = v[i];
	}
	return k;
}

/* A flow's services, normalised; NULL (with x->err) on ENOMEM. */
static struct service *svcs_of(struct dx *x, const struct flow *f,
			       size_t *n)
{
	struct service *v;

	*n = 0;
	v = calloc(f && f->n_services ? f->n_services : 1, sizeof(*v));
	if (!v) {
		x->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; f && i < f->n_services; i++)
		v[i] = f->services[i].sv;
	*n = f ? svc_normalise(v, f->n_services) : 0;
	return v;
}

static void svc_add(struct dx *x, struct strv *out, const struct service *sv)
{
	char buf[SERVICE_STRLEN];

	service_format(sv, buf, sizeof(buf));
	sv_add(x, out, buf);
}

static void svcs_canon(struct dx *x, const struct flow *f, struct strv *out)
{
	size_t n;
	struct service *v = svcs_of(x, f, &n);

	for (size_t i = 0; v && i < n; i++)
		svc_add(x, out, &v[i]);
	free(v);
}

/* What of a (normalised) is not in b, as service items: the ports a
 * reviewer sees appear or go, not the rewritten ranges. */
static void svcs_minus(struct dx *x, const struct service *a, size_t na,
		       const struct service *b, size_t nb, struct strv *out)
{
	for (size_t i = 0; i < na; i++) {
		struct service cur = a[i];
		bool gone = false;

		if (nb && b[0].proto == 0)
			return;		/* b is `any` */
		if (cur.proto == 0) {
			svc_add(x, out, &cur);
			continue;
		}
		/* b is sorted: its ranges of this protocol go up. */
		for (size_t j = 0; j < nb && !gone; j++) {
			if (b[j].proto != cur.proto || b[j].hi < cur.lo ||
			    b[j].lo > cur.hi)
				continue;
			if (b[j].lo > cur.lo) {
				struct service part = cur;

				part.hi = (uint16_t)(b[j].lo - 1);
				svc_add(x, out, &part);
			}
			if (b[j].hi >= cur.hi)
				gone = true;
			else
				cur.lo = (uint16_t)(b[j].hi + 1);
		}
		if (!gone)
			svc_add(x, out, &cur);
	}
}

static void field_svcs(struct dx *x, struct diff_change *c,
		       const struct flow *fo, const struct flow *fn)
{
	struct strv a = { 0 }, b = { 0 };
	struct service *so, *sn;
	struct diff_field *f;
	size_t no, nn, before = c ? c->n_fields : 0;

	so = svcs_of(x, fo, &no);
	sn = svcs_of(x, fn, &nn);
	if (!so || !sn || !c)
		goto out;
	for (size_t i = 0; i < no; i++)
		svc_add(x, &a, &so[i]);
	for (size_t i = 0; i < nn; i++)
		svc_add(x, &b, &sn[i]);
	field_put(x, c, "services", true, &a, &b);
	if (c->n_fields == before || !fo || !fn)
		goto out;
	f = &c->fields[c->n_fields - 1];
	sv_free(&f->added);
	sv_free(&f->removed);
	svcs_minus(x, sn, nn, so, no, &f->added);
	svcs_minus(x, so, no, sn, nn, &f->removed);
	sv_sort(&f->added);
	sv_sort(&f->removed);
out:
	free(so);
	free(sn);
}

static const char *sched_name(const struct model *m, int s)
{
	return s >= 0 && (size_t)s < m->n_schedules ? m->schedules[s].name :
	       NULL;
}

static void date_text(int32_t days, char *buf, size_t n)
{
	int y, mo, d;

	civil_from_days(days, &y, &mo, &d);
	snprintf(buf, n, "%04d-%02d-%02d", y, mo, d);
}

static void local_text(const struct model *m, time_t t, char *buf, size_t n)
{
	int32_t days;
	int secs, wday, off;

	if (tz_utc_to_local(m->timezone, t, &days, &secs, &wday, &off)) {
		snprintf(buf, n, "@%lld", (long long)t);
		return;
	}
	date_text(days, buf, n);
	snprintf(buf + strlen(buf), n - strlen(buf), "T%02d:%02d",
		 secs / 3600, secs / 60 % 60);
}

/* ---- which invariants a change touches ---- */

static int ep_tier(const struct model *m, const struct endpoint *e)
{
	int z = -1;

	switch (e->kind) {
	case EP_FQDN:
		return TIER_EXTERNAL;
	case EP_HOST:
		if (e->ref >= 0 && (size_t)e->ref < m->n_hosts)
			z = m->hosts[e->ref].zone;
		break;
	case EP_ZONE:
		z = e->ref;
		break;
	case EP_CIDR:
		z = e->zone;
		break;
	}
	return zone_ok(m, z) ? (int)m->zones[z].tier : -1;
}

static bool outside(int t)
{
	return t == TIER_INTERNET || t == TIER_EXTERNAL;
}

/* The invariants that govern a flow from tier a to tier b (SPEC §3). */
static unsigned int pair_codes(int a, int b, bool any)
{
	unsigned int c = 0;

	if (a < 0 || b < 0 || a == b)
		return 0;
	if (any)
		c |= T(4);
	if (a == TIER_MYNUMBER || b == TIER_MYNUMBER) {
		c |= T(3) | T(8);
		if (outside(a) || outside(b))
			c |= T(1);
	}
	if ((a == TIER_LGWAN && b == TIER_INTERNET) ||
	    (a == TIER_INTERNET && b == TIER_LGWAN) ||
	    (a == TIER_LGWAN && b == TIER_EXTERNAL))
		c |= T(2);
	if (outside(a) && (b == TIER_LGWAN || b == TIER_MYNUMBER ||
			   b == TIER_MGMT))
		c |= T(7);
	if (a == TIER_DMZ && b == TIER_EXTERNAL)
		c |= T(5);
	if ((outside(a) && b == TIER_DMZ) ||
	    (a == TIER_DMZ && (b == TIER_MYNUMBER || b == TIER_LGWAN)))
		c |= T(6);
	return c;
}

static int rule_bit(const char *r)
{
	int n;

	if (r[0] != 'T' || r[1] < '1' || r[1] > '9')
		return 0;
	n = atoi(r + 1);
	return n >= 1 && n <= 10 ? (int)T(n) : 0;
}

static unsigned int flow_codes(const struct model *m, const struct flow *f)
{
	unsigned int c = 0;
	bool any = false;

	for (size_t i = 0; i < f->n_services; i++)
		if (f->services[i].sv.proto == 0)
			any = true;
	for (size_t i = 0; i < f->n_from; i++)
		for (size_t j = 0; j < f->n_to; j++)
			c |= pair_codes(ep_tier(m, &f->from[i]),
					ep_tier(m, &f->to[j]), any);
	if (f->waiver.present)
		c |= T(9) | (unsigned int)rule_bit(f->waiver.rule);
	return c;
}

typedef bool flow_pred(const struct model *m, const struct flow *f,
		       const char *name);

static bool ep_in_zone(const struct model *m, const struct endpoint *e,
		       const char *zone)
{
	int z = -1;

	switch (e->kind) {
	case EP_FQDN:
		z = model_zone(m, zone);
		return z >= 0 && m->zones[z].tier == TIER_EXTERNAL;
	case EP_HOST:
		if (e->ref >= 0 && (size_t)e->ref < m->n_hosts)
			z = m->hosts[e->ref].zone;
		break;
	case EP_ZONE:
		z = e->ref;
		break;
	case EP_CIDR:
		z = e->zone;
		break;
	}
	return zone_ok(m, z) && !strcmp(m->zones[z].name, zone);
}

static bool uses_zone(const struct model *m, const struct flow *f,
		      const char *zone)
{
	for (size_t i = 0; i < f->n_from; i++)
		if (ep_in_zone(m, &f->from[i], zone))
			return true;
	for (size_t i = 0; i < f->n_to; i++)
		if (ep_in_zone(m, &f->to[i], zone))
			return true;
	return false;
}

static bool ep_is(const struct model *m, const struct endpoint *e,
		  enum ep_kind k, const char *name)
{
	if (e->kind != k || e->ref < 0)
		return false;
	if (k == EP_HOST)
		return (size_t)e->ref < m->n_hosts &&
		       !strcmp(m->hosts[e->ref].name, name);
	return (size_t)e->ref < m->n_fqdn_sets &&
	       !strcmp(m->fqdn_sets[e->ref].name, name);
}

static bool uses_host(const struct model *m, const struct flow *f,
		      const char *host)
{
	for (size_t i = 0; i < f->n_from; i++)
		if (ep_is(m, &f->from[i], EP_HOST, host))
			return true;
	for (size_t i = 0; i < f->n_to; i++)
		if (ep_is(m, &f->to[i], EP_HOST, host))
			return true;
	return false;
}

static bool uses_fqdn(const struct model *m, const struct flow *f,
		      const char *set)
{
	for (size_t i = 0; i < f->n_to; i++)
		if (ep_is(m, &f->to[i], EP_FQDN, set))
			return true;
	return false;
}

static bool uses_sched(const struct model *m, const struct flow *f,
		       const char *s)
{
	const char *a = sched_name(m, f->schedule);
	const char *b = sched_name(m, f->alert_outside);

	return (a && !strcmp(a, s)) || (b && !strcmp(b, s));
}

static bool uses_any_sched(const struct model *m, const struct flow *f,
			   const char *unused)
{
	(void)m;
	(void)unused;
	return f->schedule >= 0 || f->alert_outside >= 0;
}

/* The invariants of every flow, in either version, that `pred` picks. */
static unsigned int flows_codes(const struct dx *x, flow_pred *pred,
				const char *name)
{
	unsigned int c = 0;

	for (size_t i = 0; i < x->mo->n_flows; i++)
		if (pred(x->mo, &x->mo->flows[i], name))
			c |= flow_codes(x->mo, &x->mo->flows[i]);
	for (size_t i = 0; i < x->mn->n_flows; i++)
		if (pred(x->mn, &x->mn->flows[i], name))
			c |= flow_codes(x->mn, &x->mn->flows[i]);
	/* The flow's own waiver is the waiver's change, not this one's. */
	return c & ~T(9);
}

/* ---- matching objects by name ---- */

struct named {
	const char *name;
	size_t i;
};

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name,
		      ((const struct named *)b)->name);
}

/* The objects of an array sorted by their `char *name` member at
 * `off`; NULL names are left out. */
static struct named *by_name(struct dx *x, const void *base, size_t n,
			     size_t size, size_t off, size_t *out_n)
{
	struct named *v = calloc(n ? n : 1, sizeof(*v));
	size_t k = 0;

	*out_n = 0;
	if (!v) {
		x->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *nm = *(char *const *)((const char *)base +
						  i * size + off);

		if (!nm)
			continue;
		v[k].name = nm;
		v[k++].i = i;
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), named_cmp);
	*out_n = k;
	return v;
}

/*
 * Walks two name-sorted lists together and calls fn once per name:
 * with o or n -1 when only one version has it.
 */
typedef void match_fn(struct dx *x, int o, int n);

#define MATCH(x, arr, cnt, type, fn) \
	match((x), (x)->mo->arr, (x)->mo->cnt, (x)->mn->arr, (x)->mn->cnt, \
	      sizeof(type), offsetof(type, name), (fn))

static void match(struct dx *x, const void *ob, size_t on, const void *nb,
		  size_t nn, size_t size, size_t off, match_fn *fn)
{
	struct named *a, *b;
	size_t na, nb_, i = 0, j = 0;

	a = by_name(x, ob, on, size, off, &na);
	b = by_name(x, nb, nn, size, off, &nb_);
	if (!a || !b)
		goto out;
	while (i < na || j < nb_) {
		int r = i == na ? 1 : j == nb_ ? -1 :
			strcmp(a[i].name, b[j].name);

		if (r < 0)
			fn(x, (int)a[i++].i, -1);
		else if (r > 0)
			fn(x, -1, (int)b[j++].i);
		else
			fn(x, (int)a[i++].i, (int)b[j++].i);
	}
out:
	free(a);
	free(b);
}

/* ---- site ---- */

static void diff_site(struct dx *x)
{
	const struct model *o = x->mo, *n = x->mn;
	struct diff_change *c;

	c = change_new(x, DIFF_SITE, DIFF_CHANGED, n->site ? n->site : "?",
		       NULL);
	if (!c)
		return;
	c->old_loc = o->variant_loc;
	c->new_loc = n->variant_loc;
	if (o->variant != n->variant)
		c->touches |= T(2);
	field_str(x, c, "model", model_variant_name(o->variant),
		  model_variant_name(n->variant));
	if (strcmp(o->timezone ? o->timezone : "",
		   n->timezone ? n->timezone : "")) {
		c->touches |= flows_codes(x, uses_any_sched, NULL);
		c->old_loc = o->timezone_loc;
		c->new_loc = n->timezone_loc;
	}
	field_str(x, c, "timezone", o->timezone, n->timezone);
	change_end(x, c);
}

/* ---- zones and their networks ---- */

static void zone_fields(struct dx *x, struct diff_change *c,
			const struct zone *o, const struct zone *n)
{
	struct strv a = { 0 }, b = { 0 };

	field_str(x, c, "tier", o ? tier_name(o->tier) : NULL,
		  n ? tier_name(n->tier) : NULL);
	for (size_t i = 0; o && i < o->n_ifaces; i++)
		sv_add(x, &a, o->ifaces[i].name);
	for (size_t i = 0; n && i < n->n_ifaces; i++)
		sv_add(x, &b, n->ifaces[i].name);
	field_put(x, c, "interfaces", true, &a, &b);
	/* Networks of a zone in both versions are prefix changes. */
	if (o && n)
		return;
	for (size_t i = 0; o && i < o->n_nets; i++) {
		char p[PREFIX_STRLEN];

		prefix_format(&o->nets[i].p, p, sizeof(p));
		sv_add(x, &a, p);
	}
	for (size_t i = 0; n && i < n->n_nets; i++) {
		char p[PREFIX_STRLEN];

		prefix_format(&n->nets[i].p, p, sizeof(p));
		sv_add(x, &b, p);
	}
	field_put(x, c, "networks", true, &a, &b);
}

static void zone_one(struct dx *x, int o, int n)
{
	const struct zone *zo = o >= 0 ? &x->mo->zones[o] : NULL;
	const struct zone *zn = n >= 0 ? &x->mn->zones[n] : NULL;
	enum diff_op op = !zo ? DIFF_ADDED : !zn ? DIFF_REMOVED :
			  zo->tier != zn->tier ? DIFF_RETIERED : DIFF_CHANGED;
	const char *name = zn ? zn->name : zo->name;
	struct diff_change *c;

	c = change_new(x, DIFF_ZONE, op, name, NULL);
	if (!c)
		return;
	if (zo)
		c->old_loc = zo->loc;
	if (zn)
		c->new_loc = zn->loc;
	zone_fields(x, c, zo, zn);
	if (c->n_fields) {
		c->touches = flows_codes(x, uses_zone, name);
		if (op == DIFF_RETIERED &&
		    (zo->tier == TIER_MYNUMBER || zn->tier == TIER_MYNUMBER))
			c->touches |= T(1) | T(3) | T(8);
	}
	change_end(x, c);
}

struct pz {
	const struct prefix *p;
	const struct zone *z;
	const struct loc *loc;
};

static int pz_cmp(const void *a, const void *b)
{
	const struct pz *x = a, *y = b;
	int r = prefix_cmp(x->p, y->p);

	return r ? r : strcmp(x->z->name, y->z->name);
}

static struct pz *pz_list(struct dx *x, const struct model *m, size_t *n)
{
	struct pz *v;
	size_t k = 0;

	*n = 0;
	for (size_t i = 0; i < m->n_zones; i++)
		k += m->zones[i].n_nets;
	v = calloc(k ? k : 1, sizeof(*v));
	if (!v) {
		x->err = -ENOMEM;
		return NULL;
	}
	k = 0;
	for (size_t i = 0; i < m->n_zones; i++) {
		for (size_t j = 0; j < m->zones[i].n_nets; j++) {
			if (!m->zones[i].nets[j].p.family || !m->zones[i].name)
				continue;
			v[k].p = &m->zones[i].nets[j].p;
			v[k].z = &m->zones[i];
			v[k++].loc = &m->zones[i].nets[j].loc;
		}
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), pz_cmp);
	*n = k;
	return v;
}

/* A prefix added to or removed from a zone that exists in both versions
 * (an added or removed zone lists its networks itself), or moved from
 * one zone to another. */
static void diff_prefixes(struct dx *x)
{
	struct pz *a, *b;
	size_t na, nb, i = 0, j = 0;

	a = pz_list(x, x->mo, &na);
	b = pz_list(x, x->mn, &nb);
	if (!a || !b)
		goto out;
	while (i < na || j < nb) {
		int r = i == na ? 1 : j == nb ? -1 : prefix_cmp(a[i].p, b[j].p);
		const struct pz *po = r <= 0 ? &a[i] : NULL;
		const struct pz *pn = r >= 0 ? &b[j] : NULL;
		struct diff_change *c = NULL;
		char p[PREFIX_STRLEN];
		const char *zo = po ? po->z->name : NULL;
		const char *zn = pn ? pn->z->name : NULL;

		i += po != NULL;
		j += pn != NULL;
		prefix_format(po ? po->p : pn->p, p, sizeof(p));
		if (po && pn) {
			if (!strcmp(zo, zn))
				continue;
			c = change_new(x, DIFF_PREFIX, DIFF_MOVED, p, zn);
		} else if (po && model_zone(x->mn, zo) >= 0) {
			c = change_new(x, DIFF_PREFIX, DIFF_REMOVED, p, zo);
		} else if (pn && model_zone(x->mo, zn) >= 0) {
			c = change_new(x, DIFF_PREFIX, DIFF_ADDED, p, zn);
		}
		if (!c)
			continue;
		if (po)
			c->old_loc = *po->loc;
		if (pn)
			c->new_loc = *pn->loc;
		field_str(x, c, "zone", zo, zn);
		if (zo)
			c->touches |= flows_codes(x, uses_zone, zo);
		if (zn)
			c->touches |= flows_codes(x, uses_zone, zn);
		if ((po && po->z->tier == TIER_MYNUMBER) ||
		    (pn && pn->z->tier == TIER_MYNUMBER))
			c->touches |= T(3) | T(8);
	}
out:
	free(a);
	free(b);
}

/* ---- hosts ---- */

/* The labels as text ("eltax, mynaportal"), NULL for none. */
static const char *sanction_str(unsigned int bits, char *buf, size_t n)
{
	return bits ? sanction_list(bits, buf, n) : NULL;
}

/* A label NEW gives that OLD did not: a review point, and T1's. */
static void sanction_change(struct dx *x, struct diff_change *c,
			    const char *kind, const char *name,
			    unsigned int o, unsigned int n)
{
	char bo[64], bn[64];

	field_str(x, c, "sanctioned", sanction_str(o, bo, sizeof(bo)),
		  sanction_str(n, bn, sizeof(bn)));
	if (o == n)
		return;
	c->touches |= T(1);
	if (n & ~o)
		sv_addf(x, &x->d->sanctioned, "%s %s: %s", kind, name,
			sanction_str(n, bn, sizeof(bn)));
}

static void host_one(struct dx *x, int o, int n)
{
	const struct host *ho = o >= 0 ? &x->mo->hosts[o] : NULL;
	const struct host *hn = n >= 0 ? &x->mn->hosts[n] : NULL;
	const char *zo = ho && zone_ok(x->mo, ho->zone) ?
			 x->mo->zones[ho->zone].name : NULL;
	const char *zn = hn && zone_ok(x->mn, hn->zone) ?
			 x->mn->zones[hn->zone].name : NULL;
	enum diff_op op = !ho ? DIFF_ADDED : !hn ? DIFF_REMOVED :
			  strcmp(zo ? zo : "", zn ? zn : "") ? DIFF_MOVED :
			  DIFF_CHANGED;
	const char *name = hn ? hn->name : ho->name;
	char ao[PREFIX_STRLEN], an[PREFIX_STRLEN];
	struct diff_change *c;

	c = change_new(x, DIFF_HOST, op, name, NULL);
	if (!c)
		return;
	if (ho) {
		c->old_loc = ho->loc;
		prefix_format(&ho->addr, ao, sizeof(ao));
	}
	if (hn) {
		c->new_loc = hn->loc;
		prefix_format(&hn->addr, an, sizeof(an));
	}
	field_str(x, c, "zone", zo, zn);
	field_str(x, c, "address", ho ? ao : NULL, hn ? an : NULL);
	field_str(x, c, "role", ho && ho->role ? role_name(ho->role) : NULL,
		  hn && hn->role ? role_name(hn->role) : NULL);
	if (c->n_fields) {
		enum role r[2] = { ho ? ho->role : ROLE_NONE,
				   hn ? hn->role : ROLE_NONE };

		c->touches = flows_codes(x, uses_host, name);
		if (r[0] != r[1]) {
			for (int k = 0; k < 2; k++) {
				if (r[k] == ROLE_SANITIZER ||
				    r[k] == ROLE_SCREEN_TRANSFER)
					c->touches |= T(2);
				if (r[k] == ROLE_UPDATE_RELAY)
					c->touches |= T(5) | T(8);
			}
		}
		if ((zo && x->mo->zones[ho->zone].tier == TIER_MYNUMBER) ||
		    (zn && x->mn->zones[hn->zone].tier == TIER_MYNUMBER))
			c->touches |= T(3) | T(8);
	}
	sanction_change(x, c, "host", name, ho ? ho->sanctioned : 0,
			hn ? hn->sanctioned : 0);
	change_end(x, c);
}

/* ---- FQDN sets ---- */

static void names_of(struct dx *x, const struct fqdn_set *s, struct strv *v)
{
	for (size_t i = 0; s && i < s->n_names; i++)
		sv_add(x, v, s->names[i].pattern);
}

static void fqdn_one(struct dx *x, int o, int n)
{
	const struct fqdn_set *so = o >= 0 ? &x->mo->fqdn_sets[o] : NULL;
	const struct fqdn_set *sn = n >= 0 ? &x->mn->fqdn_sets[n] : NULL;
	enum diff_op op = !so ? DIFF_ADDED : !sn ? DIFF_REMOVED :
			  DIFF_CHANGED;
	const char *name = sn ? sn->name : so->name;
	unsigned int codes = flows_codes(x, uses_fqdn, name);
	struct strv a = { 0 }, b = { 0 };
	struct diff_change *c;

	c = change_new(x, DIFF_FQDN_SET, op, name, NULL);
	if (!c)
		return;
	if (so)
		c->old_loc = so->loc;
	if (sn)
		c->new_loc = sn->loc;
	if (op != DIFF_CHANGED) {
		names_of(x, so, &a);
		names_of(x, sn, &b);
		field_put(x, c, "names", true, &a, &b);
	}
#define SETF(f) field_u32(x, c, #f, so ? &so->f : NULL, sn ? &sn->f : NULL)
	SETF(min_ttl);
	SETF(max_ttl);
	SETF(grace);
	SETF(max_addrs);
	SETF(max_stale);
#undef SETF
	c->touches = codes;
	sanction_change(x, c, "fqdn-set", name, so ? so->sanctioned : 0,
			sn ? sn->sanctioned : 0);
	change_end(x, c);
	if (op != DIFF_CHANGED)
		return;

	/* In a set both versions have, each name is its own change. */
	names_of(x, so, &a);
	names_of(x, sn, &b);
	sv_sort(&a);
	sv_sort(&b);
	for (size_t i = 0, j = 0; (i < a.n || j < b.n) && !x->err;) {
		int r = i == a.n ? 1 : j == b.n ? -1 : strcmp(a.v[i], b.v[j]);
		const char *pat = r < 0 ? a.v[i] : b.v[j];
		const struct fqdn_set *s = r < 0 ? so : sn;

		if (!r) {
			i++, j++;
			continue;
		}
		c = change_new(x, DIFF_FQDN_NAME, r < 0 ? DIFF_REMOVED :
			       DIFF_ADDED, pat, name);
		for (size_t k = 0; c && k < s->n_names; k++) {
			if (strcmp(s->names[k].pattern, pat))
				continue;
			if (r < 0)
				c->old_loc = s->names[k].loc;
			else
				c->new_loc = s->names[k].loc;
		}
		if (c)
			c->touches = codes;
		if (r < 0)
			i++;
		else
			j++;
	}
	sv_free(&a);
	sv_free(&b);
}

/* ---- schedules ---- */

static void sched_values(struct dx *x, const struct model *m,
			 const struct schedule *s, struct strv *days,
			 struct strv *hours, struct strv *hol,
			 struct strv *win)
{
	static const char *const wd[] = { "1-mon", "2-tue", "3-wed", "4-thu",
					  "5-fri", "6-sat", "7-sun" };
	char a[32], b[32];

	if (!s)
		return;
	for (int i = 0; i < 7; i++)
		if (s->n_hours && (s->days & (1u << i)))
			sv_add(x, days, wd[i]);
	for (size_t i = 0; i < s->n_hours; i++)
		sv_addf(x, hours, "%02d:%02d-%02d:%02d",
			s->hours[i].start / 60, s->hours[i].start % 60,
			s->hours[i].end / 60, s->hours[i].end % 60);
	for (size_t i = 0; i < s->n_holidays; i++) {
		date_text(s->holidays[i], a, sizeof(a));
		sv_add(x, hol, a);
	}
	for (size_t i = 0; i < s->n_windows; i++) {
		local_text(m, s->windows[i].from, a, sizeof(a));
		local_text(m, s->windows[i].to, b, sizeof(b));
		sv_addf(x, win, "%s/%s", a, b);
	}
}

/* Days sort by their number; the prefix is dropped once sorted. */
static void days_strip(struct diff_change *c)
{
	for (size_t i = 0; c && i < c->n_fields; i++) {
		struct diff_field *f = &c->fields[i];
		struct strv *v[] = { &f->old, &f->new, &f->added, &f->removed };

		if (strcmp(f->name, "days"))
			continue;
		for (size_t k = 0; k < N_ELEMS(v); k++)
			for (size_t j = 0; j < v[k]->n; j++)
				memmove(v[k]->v[j], v[k]->v[j] + 2,
					strlen(v[k]->v[j] + 2) + 1);
	}
}

static void sched_one(struct dx *x, int o, int n)
{
	const struct schedule *so = o >= 0 ? &x->mo->schedules[o] : NULL;
	const struct schedule *sn = n >= 0 ? &x->mn->schedules[n] : NULL;
	enum diff_op op = !so ? DIFF_ADDED : !sn ? DIFF_REMOVED :
			  DIFF_CHANGED;
	const char *name = sn ? sn->name : so->name;
	struct strv v[8] = { { 0 } };
	struct diff_change *c;

	c = change_new(x, DIFF_SCHEDULE, op, name, NULL);
	if (!c)
		goto out;
	if (so)
		c->old_loc = so->loc;
	if (sn)
		c->new_loc = sn->loc;
	sched_values(x, x->mo, so, &v[0], &v[1], &v[2], &v[3]);
	sched_values(x, x->mn, sn, &v[4], &v[5], &v[6], &v[7]);
	field_put(x, c, "days", true, &v[0], &v[4]);
	field_put(x, c, "hours", true, &v[1], &v[5]);
	field_put(x, c, "holidays", true, &v[2], &v[6]);
	field_put(x, c, "windows", true, &v[3], &v[7]);
	days_strip(c);
	c->touches = flows_codes(x, uses_sched, name);
	change_end(x, c);
out:
	for (size_t i = 0; i < N_ELEMS(v); i++)
		sv_free(&v[i]);
}

/* ---- flows ---- */

/* The compared attributes of a flow, as canonical lists. */
struct fv {
	struct strv from, to, svcs, sched, alert, log;
};

static void fv_make(struct dx *x, const struct model *m,
		    const struct flow *f, struct fv *v)
{
	memset(v, 0, sizeof(*v));
	if (!f)
		return;
	eps_canon(x, m, f->from, f->n_from, &v->from);
	eps_canon(x, m, f->to, f->n_to, &v->to);
	svcs_canon(x, f, &v->svcs);
	if (sched_name(m, f->schedule))
		sv_add(x, &v->sched, sched_name(m, f->schedule));
	if (sched_name(m, f->alert_outside))
		sv_add(x, &v->alert, sched_name(m, f->alert_outside));
	sv_add(x, &v->log, f->log ? "true" : "false");
	sv_sort(&v->from);
	sv_sort(&v->to);
}

static void fv_free(struct fv *v)
{
	sv_free(&v->from);
	sv_free(&v->to);
	sv_free(&v->svcs);
	sv_free(&v->sched);
	sv_free(&v->alert);
	sv_free(&v->log);
}

static bool fv_equal(const struct fv *a, const struct fv *b)
{
	return sv_equal(&a->from, &b->from) && sv_equal(&a->to, &b->to) &&
	       sv_equal(&a->svcs, &b->svcs) && sv_equal(&a->sched, &b->sched) &&
	       sv_equal(&a->alert, &b->alert) && sv_equal(&a->log, &b->log);
}

static void waiver_values(struct dx *x, const struct waiver *w,
			  int32_t today, struct strv v[6])
{
	char d[16];

	if (!w || !w->present)
		return;
	if (w->rule[0])
		sv_add(x, &v[0], w->rule);
	if (w->reason)
		sv_add(x, &v[1], w->reason);
	if (w->ticket)
		sv_add(x, &v[2], w->ticket);
	if (w->approved_by)
		sv_add(x, &v[3], w->approved_by);
	if (w->expires >= 0) {
		date_text(w->expires, d, sizeof(d));
		sv_add(x, &v[4], d);
	}
	sv_add(x, &v[5], !w->reason || !w->ticket || !w->approved_by ||
		       w->expires < 0 ? "incomplete" :
		       w->expires < today ? "expired" : "valid");
}

static bool str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static bool waiver_equal(const struct waiver *a, const struct waiver *b)
{
	if (a->present != b->present)
		return false;
	return !a->present ||
	       (!strcmp(a->rule, b->rule) && a->expires == b->expires &&
		str_eq(a->reason, b->reason) && str_eq(a->ticket, b->ticket) &&
		str_eq(a->approved_by, b->approved_by));
}

static void waiver_one(struct dx *x, const struct flow *fo,
		       const struct flow *fn)
{
	const struct waiver *wo = fo && fo->waiver.present ? &fo->waiver :
				  NULL;
	const struct waiver *wn = fn && fn->waiver.present ? &fn->waiver :
				  NULL;
	static const char *const names[] = { "rule", "reason", "ticket",
					     "approved_by", "expires",
					     "state" };
	struct strv a[6] = { { 0 } }, b[6] = { { 0 } };
	struct diff_change *c;
	enum diff_op op;

	if (!wo && !wn)
		return;
	waiver_values(x, wo, x->today, a);
	waiver_values(x, wn, x->today, b);
	if (!wo)
		op = DIFF_ADDED;
	else if (!wn)
		op = DIFF_REMOVED;
	else if (!waiver_equal(wo, wn))
		op = DIFF_CHANGED;
	else if (b[5].n && strcmp(b[5].v[0], "valid"))
		op = DIFF_EXPIRED;
	else
		goto out;
	c = change_new(x, DIFF_WAIVER, op, fn ? fn->name : fo->name, NULL);
	if (!c)
		goto out;
	if (wo)
		c->old_loc = wo->loc;
	if (wn)
		c->new_loc = wn->loc;
	c->touches = T(9);
	if (wo)
		c->touches |= (unsigned int)rule_bit(wo->rule);
	if (wn)
		c->touches |= (unsigned int)rule_bit(wn->rule);
	if (op == DIFF_EXPIRED) {
		/* Unchanged: say only what makes it worth a line. */
		field_add(x, c, "expires", false, &a[4], &b[4], true);
		field_add(x, c, "state", false, &a[5], &b[5], true);
	}
	for (size_t i = 0; i < N_ELEMS(names); i++)
		field_put(x, c, names[i], false, &a[i], &b[i]);
out:
	for (size_t i = 0; i < N_ELEMS(a); i++) {
		sv_free(&a[i]);
		sv_free(&b[i]);
	}
}

static void flow_fields(struct dx *x, struct diff_change *c, struct fv *a,
			struct fv *b, const struct flow *fo,
			const struct flow *fn)
{
	field_put(x, c, "from", true, &a->from, &b->from);
	field_put(x, c, "to", true, &a->to, &b->to);
	field_svcs(x, c, fo, fn);
	field_put(x, c, "schedule", false, &a->sched, &b->sched);
	field_put(x, c, "alert_outside", false, &a->alert, &b->alert);
	/* Not logging is the default, not news about a new flow. */
	if (c && (c->op == DIFF_ADDED || c->op == DIFF_REMOVED) &&
	    !strcmp((c->op == DIFF_ADDED ? b : a)->log.v[0], "false")) {
		sv_free(&a->log);
		sv_free(&b->log);
	}
	field_put(x, c, "log", false, &a->log, &b->log);
}

static void flow_one(struct dx *x, int o, int n)
{
	const struct flow *fo = o >= 0 ? &x->mo->flows[o] : NULL;
	const struct flow *fn = n >= 0 ? &x->mn->flows[n] : NULL;
	struct fv a, b;
	struct diff_change *c;

	if (!fo || !fn) {
		struct lone *l = fo ? &x->gone : &x->born;

		l->v[l->n++] = fo ? o : n;
		return;
	}
	fv_make(x, x->mo, fo, &a);
	fv_make(x, x->mn, fn, &b);
	c = change_new(x, DIFF_FLOW, DIFF_CHANGED, fn->name, NULL);
	if (c) {
		c->old_loc = fo->loc;
		c->new_loc = fn->loc;
		c->touches = (flow_codes(x->mo, fo) | flow_codes(x->mn, fn)) &
			     ~T(9);
		flow_fields(x, c, &a, &b, fo, fn);
		change_end(x, c);
	}
	fv_free(&a);
	fv_free(&b);
	waiver_one(x, fo, fn);
}

static void flow_lone(struct dx *x, const struct flow *fo,
		      const struct flow *fn)
{
	const struct model *m = fo ? x->mo : x->mn;
	const struct flow *f = fo ? fo : fn;
	struct fv a, b;
	struct diff_change *c;

	fv_make(x, x->mo, fo, &a);
	fv_make(x, x->mn, fn, &b);
	c = change_new(x, DIFF_FLOW, fo ? DIFF_REMOVED : DIFF_ADDED, f->name,
		       NULL);
	if (c) {
		if (fo)
			c->old_loc = f->loc;
		else
			c->new_loc = f->loc;
		c->touches = flow_codes(m, f) & ~T(9);
		flow_fields(x, c, &a, &b, fo, fn);
	}
	fv_free(&a);
	fv_free(&b);
	/* A removed flow takes its waiver along; an added one brings a new
	 * exception that a reviewer must see on its own line. */
	if (fn)
		waiver_one(x, NULL, fn);
}

static void diff_flows(struct dx *x)
{
	size_t no = x->mo->n_flows, nn = x->mn->n_flows;
	struct lone *gone = &x->gone, *born = &x->born;
	bool *used = NULL;

	gone->v = calloc(no ? no : 1, sizeof(int));
	born->v = calloc(nn ? nn : 1, sizeof(int));
	used = calloc(nn ? nn : 1, sizeof(bool));
	x->ren_old = calloc(no ? no : 1, sizeof(*x->ren_old));
	x->ren_new = calloc(no ? no : 1, sizeof(*x->ren_new));
	if (!gone->v || !born->v || !used || !x->ren_old || !x->ren_new) {
		x->err = -ENOMEM;
		goto out;
	}
	MATCH(x, flows, n_flows, struct flow, flow_one);

	/* A flow that only changed its name is a rename; the lists are in
	 * name order, so the pairing is too. */
	for (size_t i = 0; i < gone->n; i++) {
		const struct flow *fo = &x->mo->flows[gone->v[i]];
		struct fv a;
		bool done = false;

		fv_make(x, x->mo, fo, &a);
		for (size_t j = 0; j < born->n && !done; j++) {
			const struct flow *fn = &x->mn->flows[born->v[j]];
			struct diff_change *c;
			struct fv b;

			if (used[j] || !waiver_equal(&fo->waiver, &fn->waiver))
				continue;
			fv_make(x, x->mn, fn, &b);
			if (fv_equal(&a, &b)) {
				used[j] = done = true;
				x->ren_old[x->n_ren] = fo->name;
				x->ren_new[x->n_ren++] = fn->name;
				c = change_new(x, DIFF_FLOW, DIFF_RENAMED,
					       fn->name, NULL);
				if (c) {
					c->old_name = strdup(fo->name);
					if (!c->old_name)
						x->err = -ENOMEM;
					c->old_loc = fo->loc;
					c->new_loc = fn->loc;
				}
			}
			fv_free(&b);
		}
		fv_free(&a);
		if (!done)
			flow_lone(x, fo, NULL);
	}
	for (size_t j = 0; j < born->n; j++)
		if (!used[j])
			flow_lone(x, NULL, &x->mn->flows[born->v[j]]);
out:
	free(gone->v);
	free(born->v);
	memset(gone, 0, sizeof(*gone));
	memset(born, 0, sizeof(*born));
	free(used);
}

/* ---- the gateway ---- */

static void hostports(struct dx *x, const struct hostport *v, size_t n,
		      struct strv *out)
{
	char p[PREFIX_STRLEN];

	for (size_t i = 0; i < n; i++) {
		prefix_format(&v[i].addr, p, sizeof(p));
		if (v[i].addr.family == AF_INET6)
			sv_addf(x, out, "[%s]:%u", p, v[i].port);
		else
			sv_addf(x, out, "%s:%u", p, v[i].port);
	}
}

static void diff_gateway(struct dx *x)
{
	const struct gateway *o = &x->mo->gateway, *n = &x->mn->gateway;
	struct strv a = { 0 }, b = { 0 };
	struct diff_change *c;
	uint32_t lo = o->log_group, ln = n->log_group;
	size_t before;

	c = change_new(x, DIFF_GATEWAY, DIFF_CHANGED, "gateway", NULL);
	if (!c)
		return;
	c->old_loc = o->ssh_loc;
	c->new_loc = n->ssh_loc;
	eps_canon(x, x->mo, o->ssh_from, o->n_ssh_from, &a);
	eps_canon(x, x->mn, n->ssh_from, n->n_ssh_from, &b);
	before = c->n_fields;
	field_put(x, c, "ssh_from", true, &a, &b);
	if (c->n_fields > before)
		c->touches |= T(10);
	field_u32(x, c, "log_group", &lo, &ln);
	hostports(x, o->dns_upstream, o->n_dns_upstream, &a);
	hostports(x, n->dns_upstream, n->n_dns_upstream, &b);
	field_put(x, c, "dns_upstream", true, &a, &b);
	hostports(x, o->dns_listen, o->n_dns_listen, &a);
	hostports(x, n->dns_listen, n->n_dns_listen, &b);
	field_put(x, c, "dns_listen", true, &a, &b);
	change_end(x, c);
}

/* ---- addresses ---- */

static size_t addr_bytes(const struct prefix *p)
{
	return p->family == AF_INET6 ? 16 : 4;
}

static void addr_last(const struct prefix *p, uint8_t out[16])
{
	size_t n = addr_bytes(p);

	memcpy(out, p->addr, 16);
	for (size_t i = 0; i < n; i++) {
		int bits = (int)p->len - (int)(i * 8);

		if (bits <= 0)
			out[i] = 0xff;
		else if (bits < 8)
			out[i] |= (uint8_t)(0xff >> bits);
	}
}

/* Adds one; false on overflow. */
static bool addr_inc(uint8_t *a, size_t n)
{
	for (size_t i = n; i-- > 0;)
		if (++a[i])
			return true;
	return false;
}

/* Whether the sorted, disjoint list `b` covers all of `a` (one prefix
 * of a list like it). Prefixes are nested or disjoint, so either one
 * of b holds a, or those inside a must tile it. */
static bool pfx_covered(const struct prefix *a, const struct prefix *b,
			size_t nb)
{
	uint8_t cur[16], last[16], bl[16];
	size_t n = addr_bytes(a);

	memcpy(cur, a->addr, 16);
	addr_last(a, last);
	for (size_t i = 0; i < nb; i++) {
		if (b[i].family != a->family)
			continue;
		if (prefix_contains(&b[i], a))
			return true;
		if (!prefix_contains(a, &b[i]))
			continue;
		if (memcmp(b[i].addr, cur, n))
			return false;	/* a gap before b[i] */
		addr_last(&b[i], bl);
		if (!memcmp(bl, last, n))
			return true;
		memcpy(cur, bl, 16);
		addr_inc(cur, n);
	}
	return false;
}

static bool pfxs_covered(const struct prefix *a, size_t na,
			 const struct prefix *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		if (!pfx_covered(&a[i], b, nb))
			return false;
	return true;
}

static bool pfx_in_list(const struct prefix *v, size_t n,
			const struct prefix *a)
{
	for (size_t i = 0; i < n; i++)
		if (prefix_contains(&v[i], a))
			return true;
	return false;
}

/* ---- schedules as the policy uses them ---- */

/* Same definition (names aside) in the same timezone. */
static bool sched_equal(const struct model *ma, const struct schedule *a,
			const struct model *mb, const struct schedule *b)
{
	if (a->days != b->days || a->n_hours != b->n_hours ||
	    a->n_holidays != b->n_holidays || a->n_windows != b->n_windows ||
	    strcmp(ma->timezone ? ma->timezone : "",
		   mb->timezone ? mb->timezone : ""))
		return false;
	for (size_t i = 0; i < a->n_hours; i++)
		if (a->hours[i].start != b->hours[i].start ||
		    a->hours[i].end != b->hours[i].end)
			return false;
	for (size_t i = 0; i < a->n_windows; i++)
		if (a->windows[i].from != b->windows[i].from ||
		    a->windows[i].to != b->windows[i].to)
			return false;
	return !a->n_holidays || !memcmp(a->holidays, b->holidays,
					 a->n_holidays * sizeof(int32_t));
}

static bool spans_within(const struct sched_spans *a,
			 const struct sched_spans *b)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && b->v[j].to <= a->v[i].from)
			j++;
		if (j == b->n || b->v[j].from > a->v[i].from ||
		    b->v[j].to < a->v[i].to)
			return false;
	}
	return true;
}

/*
 * Whether schedule sa of model ma is open only while sb of mb is (-1:
 * no schedule, always open). Schedules that differ in form may not in
 * effect (another name, a holiday on a Sunday, a timezone of the same
 * offset), so they are compared as the UTC spans they open over the
 * next two years, dated windows in full. Answers are kept per pair.
 */
static bool sched_within(struct dx *x, const struct model *ma, int sa,
			 const struct model *mb, int sb)
{
	struct sched_spans pa = { 0 }, pb = { 0 };
	const char *ta = ma->timezone, *tb = mb->timezone;
	uint8_t *slot = NULL;
	time_t from, to;
	bool r = false;

	if (sb < 0)
		return true;
	if (sa < 0)
		return false;
	if (x->sc[ma == x->mn])
		slot = &x->sc[ma == x->mn][(size_t)sa * mb->n_schedules +
					   (size_t)sb];
	if (slot && *slot)
		return *slot == 2;
	if (sched_equal(ma, &ma->schedules[sa], mb, &mb->schedules[sb])) {
		r = true;
	} else if (!sched_horizon(tb, (time_t)x->today * 86400, 2, &from,
				  &to) &&
		   !sched_spans(ta, &ma->schedules[sa], from, to, &pa) &&
		   !sched_spans(tb, &mb->schedules[sb], from, to, &pb)) {
		r = spans_within(&pa, &pb);
	}
	sched_spans_free(&pa);
	sched_spans_free(&pb);
	if (slot)
		*slot = r ? 2 : 1;
	return r;
}

/* ---- permissions by tier pair ---- */

struct prec {
	const struct model *m;
	const struct pol_rule *r;
	enum tier ts, td;
	const char *flow;	/* NEW's name of a renamed flow */
	const char *sz, *dst;	/* dst: zone or FQDN set name */
	bool fqdn;
	const struct service *sv;
};

static int prec_cmp(const void *a, const void *b)
{
	const struct prec *x = a, *y = b;
	int r;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->td != y->td)
		return x->td < y->td ? -1 : 1;
	if ((r = strcmp(x->sz, y->sz)))
		return r;
	if (x->fqdn != y->fqdn)
		return x->fqdn ? 1 : -1;
	if ((r = strcmp(x->dst, y->dst)))
		return r;
	if ((r = strcmp(x->flow, y->flow)))
		return r;
	return service_cmp(x->sv, y->sv);
}

static struct prec *prec_list(struct dx *x, const struct policy *p,
			      size_t *out_n)
{
	const struct model *m = p->m;
	struct prec *v;
	size_t n = 0, k = 0;

	*out_n = 0;
	for (size_t i = 0; i < p->n_rules; i++)
		n += p->rules[i].n_svcs;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		x->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct pol_rule *r = &p->rules[i];

		for (size_t j = 0; j < r->n_svcs; j++) {
			struct prec *e = &v[k++];

			e->m = m;
			e->r = r;
			e->flow = m->flows[r->flow].name;
			for (size_t k2 = 0; p == x->po && k2 < x->n_ren; k2++)
				if (!strcmp(x->ren_old[k2], e->flow))
					e->flow = x->ren_new[k2];
			e->ts = m->zones[r->src_zone].tier;
			e->sz = m->zones[r->src_zone].name;
			e->fqdn = r->dst_fqdn >= 0;
			if (e->fqdn) {
				e->td = TIER_EXTERNAL;
				e->dst = m->fqdn_sets[r->dst_fqdn].name;
			} else {
				e->td = m->zones[r->dst_zone].tier;
				e->dst = m->zones[r->dst_zone].name;
			}
			e->sv = &r->svcs[j];
		}
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), prec_cmp);
	/* An FQDN rule repeats for every external zone: keep one. */
	n = k;
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (!k || prec_cmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
	*out_n = k;
	return v;
}

/* Whether permission a grants something b does not: addresses outside
 * b's, or time outside b's schedule. */
static bool prec_wider(struct dx *x, const struct prec *a,
		       const struct prec *b)
{
	if (!pfxs_covered(a->r->src, a->r->n_src, b->r->src, b->r->n_src))
		return true;
	if (!a->fqdn &&
	    !pfxs_covered(a->r->dst, a->r->n_dst, b->r->dst, b->r->n_dst))
		return true;
	return !sched_within(x, a->m, a->r->schedule, b->m, b->r->schedule);
}

static void perm_add(struct dx *x, enum diff_perm_op op, const struct prec *e)
{
	struct diff *d = x->d;
	struct diff_perm *v, *p;
	char svc[SERVICE_STRLEN];

	v = grow(x, d->perms, &x->cap_perms, d->n_perms + 1, sizeof(*v));
	if (!v)
		return;
	d->perms = v;
	p = &v[d->n_perms];
	memset(p, 0, sizeof(*p));
	service_format(e->sv, svc, sizeof(svc));
	p->op = op;
	p->from_tier = e->ts;
	p->to_tier = e->td;
	p->from_zone = strdup(e->sz);
	if (e->fqdn) {
		if (asprintf(&p->to, "fqdn:%s", e->dst) < 0)
			p->to = NULL;
	} else {
		p->to = strdup(e->dst);
	}
	p->flow = strdup(e->flow);
	p->service = strdup(svc);
	d->n_perms++;
	if (!p->from_zone || !p->to || !p->flow || !p->service)
		x->err = -ENOMEM;
}

static void diff_perms(struct dx *x)
{
	struct prec *a, *b;
	size_t na, nb, i = 0, j = 0;

	a = prec_list(x, x->po, &na);
	b = prec_list(x, x->pn, &nb);
	if (!a || !b)
		goto out;
	while ((i < na || j < nb) && !x->err) {
		int r = i == na ? 1 : j == nb ? -1 : prec_cmp(&a[i], &b[j]);

		if (r < 0) {
			perm_add(x, PERM_REMOVED, &a[i++]);
		} else if (r > 0) {
			perm_add(x, PERM_ADDED, &b[j++]);
		} else {
			bool wide = prec_wider(x, &b[j], &a[i]);
			bool narrow = prec_wider(x, &a[i], &b[j]);

			if (wide || narrow)
				perm_add(x, wide && narrow ? PERM_CHANGED :
					 wide ? PERM_WIDENED : PERM_NARROWED,
					 &b[j]);
			i++, j++;
		}
	}
out:
	free(a);
	free(b);
}

/* ---- openings into and out of mynumber ---- */

/* Deepest nesting of distinct prefixes: /0 to /128. */
#define MAX_NEST 129

struct atom {
	struct prefix rep;	/* one address of the atom */
	const struct prefix *p;	/* the prefix it is the rest of */
	int zo, zn, ho, hn;	/* zones and hosts in OLD and NEW */
	bool mn_old, mn_new;	/* in a mynumber zone */
	bool mn;		/* in either */
};

struct atoms {
	struct atom *v;
	size_t n;
};

static int pp_cmp(const void *a, const void *b)
{
	return prefix_cmp(*(const struct prefix *const *)a,
			  *(const struct prefix *const *)b);
}

static void pfx_collect(const struct model *m, const struct prefix **v,
			size_t *n)
{
	const struct flow *f;

	for (size_t i = 0; i < m->n_zones; i++)
		for (size_t j = 0; j < m->zones[i].n_nets; j++)
			v[(*n)++] = &m->zones[i].nets[j].p;
	for (size_t i = 0; i < m->n_hosts; i++)
		v[(*n)++] = &m->hosts[i].addr;
	for (size_t i = 0; i < m->n_flows; i++) {
		f = &m->flows[i];
		for (size_t j = 0; j < f->n_from; j++)
			if (f->from[j].kind == EP_CIDR)
				v[(*n)++] = &f->from[j].cidr;
		for (size_t j = 0; j < f->n_to; j++)
			if (f->to[j].kind == EP_CIDR)
				v[(*n)++] = &f->to[j].cidr;
	}
}

static size_t pfx_count(const struct model *m)
{
	size_t n = m->n_hosts;

	for (size_t i = 0; i < m->n_zones; i++)
		n += m->zones[i].n_nets;
	for (size_t i = 0; i < m->n_flows; i++)
		n += m->flows[i].n_from + m->flows[i].n_to;
	return n;
}

static int atom_cmp(const void *a, const void *b)
{
	return prefix_cmp(&((const struct atom *)a)->rep,
			  &((const struct atom *)b)->rep);
}

/* Every prefix either file mentions, with the part of it no longer one
 * covers represented by its first address. Prefixes come sorted, so a
 * prefix follows those that contain it and its sub-prefixes follow it
 * in address order: each one's first free address is found in one pass
 * with a stack. */
static int atoms_build(struct dx *x, struct atoms *out)
{
	const struct prefix **v = NULL;
	struct {
		size_t i;
		uint8_t cur[16];
		bool full;	/* its children cover it up to the end */
		bool gap;	/* cur is free */
	} *st = NULL;
	size_t n = 0, k = 0, sp = 0;
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	v = calloc(pfx_count(x->mo) + pfx_count(x->mn) + 1, sizeof(*v));
	st = calloc(MAX_NEST, sizeof(*st));
	if (!v || !st)
		goto out;
	pfx_collect(x->mo, v, &n);
	pfx_collect(x->mn, v, &n);
	for (size_t i = 0; i < n; i++)
		if (v[i]->family == AF_INET || v[i]->family == AF_INET6)
			v[k++] = v[i];
	n = k;
	if (n > 1)
		qsort(v, n, sizeof(*v), pp_cmp);
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (!k || !prefix_equal(v[k - 1], v[i]))
			v[k++] = v[i];
	n = k;
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v)
		goto out;

	for (size_t i = 0; i <= n; i++) {
		/* Close the prefixes that do not contain v[i]. */
		while (sp && (i == n || !prefix_contains(v[st[sp - 1].i],
							  v[i]))) {
			sp--;
			if (st[sp].full)
				continue;
			out->v[out->n].p = v[st[sp].i];
			out->v[out->n].rep = *v[st[sp].i];
			memcpy(out->v[out->n].rep.addr, st[sp].cur, 16);
			out->v[out->n].rep.len =
				(uint8_t)prefix_maxlen(v[st[sp].i]);
			out->n++;
		}
		if (i == n)
			break;
		if (sp && !st[sp - 1].full && !st[sp - 1].gap) {
			size_t nb = addr_bytes(v[i]);
			uint8_t last[16], pl[16];

			if (memcmp(v[i]->addr, st[sp - 1].cur, nb)) {
				st[sp - 1].gap = true;
			} else {
				addr_last(v[i], last);
				addr_last(v[st[sp - 1].i], pl);
				memcpy(st[sp - 1].cur, last, 16);
				if (!memcmp(last, pl, nb) ||
				    !addr_inc(st[sp - 1].cur, nb))
					st[sp - 1].full = true;
			}
		}
		if (sp == MAX_NEST)	/* cannot happen: /0 to /128 */
			continue;
		st[sp].i = i;
		memcpy(st[sp].cur, v[i]->addr, 16);
		st[sp].full = false;
		st[sp].gap = false;
		sp++;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), atom_cmp);
	for (size_t i = 0; i < out->n; i++) {
		struct atom *a = &out->v[i];

		policy_classify(x->po, &a->rep, &a->zo, &a->ho);
		policy_classify(x->pn, &a->rep, &a->zn, &a->hn);
		a->mn_old = a->zo >= 0 &&
			    x->mo->zones[a->zo].tier == TIER_MYNUMBER;
		a->mn_new = a->zn >= 0 &&
			    x->mn->zones[a->zn].tier == TIER_MYNUMBER;
		a->mn = a->mn_old || a->mn_new;
	}
	err = 0;
out:
	free(v);
	free(st);
	if (err) {
		free(out->v);
		memset(out, 0, sizeof(*out));
	}
	return err;
}

/* The atoms inside prefix p: a run of the sorted list. */
static size_t atoms_first(const struct atoms *as, const struct prefix *p)
{
	struct prefix start = *p;
	size_t lo = 0, hi = as->n;

	start.len = (uint8_t)prefix_maxlen(p);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (prefix_cmp(&as->v[mid].rep, &start) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void atom_label(const struct model *m, const struct atom *a, int z,
		       int h, char *buf, size_t n)
{
	char p[PREFIX_STRLEN];

	if (h >= 0) {
		prefix_format(&m->hosts[h].addr, p, sizeof(p));
		snprintf(buf, n, "%s (%s, %s)", m->hosts[h].name, p,
			 m->zones[z].name);
	} else {
		prefix_format(a->p, p, sizeof(p));
		snprintf(buf, n, "%s (%s)", z >= 0 ? m->zones[z].name : "?",
			 p);
	}
}

struct ivl {
	uint32_t lo, hi;
};

static int ivl_cmp(const void *a, const void *b)
{
	const struct ivl *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Whether the services of the OLD rules picked so far cover sv. */
static bool svc_covered(const struct service *sv, const struct service *v,
			size_t n, struct ivl *tmp)
{
	size_t k = 0;
	uint32_t cur;

	for (size_t i = 0; i < n; i++) {
		if (v[i].proto == 0)
			return true;
		if (v[i].proto == sv->proto) {
			tmp[k].lo = v[i].lo;
			tmp[k++].hi = v[i].hi;
		}
	}
	if (sv->proto == 0 || !k)
		return false;
	qsort(tmp, k, sizeof(*tmp), ivl_cmp);
	cur = sv->lo;
	for (size_t i = 0; i < k && cur <= sv->hi; i++) {
		if (tmp[i].lo > cur)
			return false;
		if (tmp[i].hi >= cur)
			cur = tmp[i].hi + 1;
	}
	return cur > sv->hi;
}

/* OLD's services for one pair of atoms (or an atom and an FQDN set)
 * under no schedule or the same one as NEW's rule. */
struct oldsvc {
	struct service *v;
	struct ivl *tmp;
	size_t n, cap;
};

static void oldsvc_collect(struct dx *x, struct oldsvc *os,
			   const struct atom *a, const struct atom *b,
			   const char *fqdn, const struct pol_rule *nr)
{
	const struct pol_rule *rules;
	struct service *sv;
	size_t n = 0;
	int dz = -1;

	os->n = 0;
	if (b)
		dz = b->zo;
	else if (nr->dst_zone >= 0)
		dz = model_zone(x->mo, x->mn->zones[nr->dst_zone].name);
	if (a->zo < 0 || dz < 0 || a->zo == dz)
		return;
	rules = policy_pair(x->po, a->zo, dz, &n);
	for (size_t i = 0; i < n; i++) {
		const struct pol_rule *r = &rules[i];

		if (!pfx_in_list(r->src, r->n_src, &a->rep))
			continue;
		if (b && (r->dst_fqdn >= 0 ||
			  !pfx_in_list(r->dst, r->n_dst, &b->rep)))
			continue;
		if (!b && (r->dst_fqdn < 0 ||
			   strcmp(x->mo->fqdn_sets[r->dst_fqdn].name, fqdn)))
			continue;
		if (!sched_within(x, x->mn, nr->schedule, x->mo, r->schedule))
			continue;
		if (!b) {
			/* Every name NEW's set holds must be in OLD's. */
			const struct fqdn_set *so =
				&x->mo->fqdn_sets[r->dst_fqdn];
			const struct fqdn_set *sn =
				&x->mn->fqdn_sets[nr->dst_fqdn];
			bool all = true;

			for (size_t j = 0; j < sn->n_names && all; j++) {
				const char *pat = sn->names[j].pattern;
				bool one = false;

				for (size_t k = 0; k < so->n_names && !one;
				     k++) {
					const char *op = so->names[k].pattern;

					one = !strcmp(op, pat) ||
					      fqdn_match(op, pat);
				}
				all = one;
			}
			if (!all)
				continue;
		}
		sv = grow(x, os->v, &os->cap, os->n + r->n_svcs + 1,
			  sizeof(*sv));
		if (!sv)
			return;
		os->v = sv;
		memcpy(os->v + os->n, r->svcs, r->n_svcs * sizeof(*os->v));
		os->n += r->n_svcs;
	}
	free(os->tmp);
	os->tmp = calloc(os->n ? os->n : 1, sizeof(*os->tmp));
	if (!os->tmp)
		x->err = -ENOMEM;
}

static int opening_cmp(const void *a, const void *b)
{
	const struct diff_opening *x = a, *y = b;
	int r;

	if ((r = strcmp(x->flow, y->flow)))
		return r;
	if ((r = strcmp(x->from, y->from)))
		return r;
	if ((r = strcmp(x->to, y->to)))
		return r;
	return strcmp(x->service, y->service);
}

static void opening_add(struct dx *x, const struct atom *a,
			const struct atom *b, const struct pol_rule *nr,
			const struct service *sv)
{
	const struct model *m = x->mn;
	struct diff *d = x->d;
	struct diff_opening *v, *o;
	char la[160], lb[160], s[SERVICE_STRLEN];

	if (d->n_openings >= DIFF_MAX_OPENINGS) {
		d->openings_dropped++;
		return;
	}
	v = grow(x, d->openings, &x->cap_openings, d->n_openings + 1,
		 sizeof(*v));
	if (!v)
		return;
	d->openings = v;
	o = &v[d->n_openings++];
	memset(o, 0, sizeof(*o));
	atom_label(m, a, a->zn, a->hn, la, sizeof(la));
	if (b)
		atom_label(m, b, b->zn, b->hn, lb, sizeof(lb));
	else
		snprintf(lb, sizeof(lb), "fqdn:%s",
			 m->fqdn_sets[nr->dst_fqdn].name);
	service_format(sv, s, sizeof(s));
	o->from = strdup(la);
	o->to = strdup(lb);
	o->from_zone = strdup(m->zones[nr->src_zone].name);
	o->to_zone = b ? strdup(m->zones[nr->dst_zone].name) : NULL;
	o->flow = strdup(m->flows[nr->flow].name);
	o->service = strdup(s);
	o->schedule = nr->schedule >= 0 ?
		      strdup(m->schedules[nr->schedule].name) : NULL;
	if (!o->from || !o->to || !o->from_zone || (b && !o->to_zone) ||
	    !o->flow || !o->service ||
	    (nr->schedule >= 0 && !o->schedule))
		x->err = -ENOMEM;
}

static void opening_pair(struct dx *x, struct oldsvc *os,
			 const struct atom *a, const struct atom *b,
			 const struct pol_rule *r)
{
	oldsvc_collect(x, os, a, b, r->dst_fqdn >= 0 ?
		       x->mn->fqdn_sets[r->dst_fqdn].name : NULL, r);
	/* Addresses that join mynumber (a zone retiered, a prefix or host
	 * moved in): what reached them before now reaches mynumber. */
	if ((a->mn_new && !a->mn_old) || (b && b->mn_new && !b->mn_old))
		os->n = 0;
	for (size_t k = 0; k < r->n_svcs && !x->err; k++)
		if (!svc_covered(&r->svcs[k], os->v, os->n, os->tmp))
			opening_add(x, a, b, r, &r->svcs[k]);
}

/* The atoms of one side of a rule that NEW classifies into its zone. */
static void rule_atoms(struct dx *x, const struct atoms *as,
		       const struct prefix *v, size_t n, int zone,
		       size_t **out, size_t *n_out)
{
	size_t cap = 0, k = 0;
	size_t *o = NULL;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = atoms_first(as, &v[i]);
		     j < as->n && prefix_contains(&v[i], &as->v[j].rep); j++) {
			if (as->v[j].zn != zone)
				continue;
			o = grow(x, *out, &cap, k + 1, sizeof(*o));
			if (!o)
				goto out;
			*out = o;
			(*out)[k++] = j;
		}
	}
out:
	*n_out = k;
}

static void diff_openings(struct dx *x)
{
	const struct policy *p = x->pn;
	struct atoms as;
	struct oldsvc os = { 0 };
	bool *zmn = NULL;

	if (atoms_build(x, &as)) {
		x->err = -ENOMEM;
		return;
	}
	/* Zones of NEW that hold a mynumber address of either version. */
	zmn = calloc(x->mn->n_zones + 1, sizeof(*zmn));
	if (!zmn) {
		x->err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < as.n; i++)
		if (as.v[i].mn && as.v[i].zn >= 0)
			zmn[as.v[i].zn] = true;

	for (size_t i = 0; i < p->n_rules && !x->err; i++) {
		const struct pol_rule *r = &p->rules[i];
		size_t *sa = NULL, *da = NULL, ns = 0, nd = 0;

		if (!zmn[r->src_zone] && (r->dst_fqdn >= 0 ||
					  !zmn[r->dst_zone]))
			continue;
		rule_atoms(x, &as, r->src, r->n_src, r->src_zone, &sa, &ns);
		if (r->dst_fqdn < 0)
			rule_atoms(x, &as, r->dst, r->n_dst, r->dst_zone, &da,
				   &nd);
		for (size_t s = 0; s < ns && !x->err; s++) {
			const struct atom *a = &as.v[sa[s]];

			if (r->dst_fqdn >= 0) {
				if (a->mn)
					opening_pair(x, &os, a, NULL, r);
				continue;
			}
			for (size_t t = 0; t < nd && !x->err; t++) {
				const struct atom *b = &as.v[da[t]];

				if ((a->mn || b->mn) &&
				    a->rep.family == b->rep.family)
					opening_pair(x, &os, a, b, r);
			}
		}
		free(sa);
		free(da);
	}
	if (x->d->n_openings > 1) {
		struct diff_opening *v = x->d->openings;
		size_t k = 0;

		qsort(v, x->d->n_openings, sizeof(*v), opening_cmp);
		for (size_t i = 0; i < x->d->n_openings; i++) {
			if (k && !opening_cmp(&v[k - 1], &v[i])) {
				free(v[i].from);
				free(v[i].to);
				free(v[i].from_zone);
				free(v[i].to_zone);
				free(v[i].flow);
				free(v[i].service);
				free(v[i].schedule);
				continue;
			}
			v[k++] = v[i];
		}
		x->d->n_openings = k;
	}
out:
	free(as.v);
	free(os.v);
	free(os.tmp);
	free(zmn);
}

/* ---- T8 paths ---- */

/* The T8 findings of a model with every waiver out of the way, so that
 * a path a new waiver excuses still counts as new. */
static void t8_paths(struct dx *x, struct model *m, struct strv *out)
{
	struct diags d = { 0 };
	bool *had = calloc(m->n_flows + 1, sizeof(*had));

	if (!had) {
		x->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < m->n_flows; i++) {
		had[i] = m->flows[i].waiver.present;
		m->flows[i].waiver.present = false;
	}
	check_model(m, x->today, &d);
	for (size_t i = 0; i < m->n_flows; i++)
		m->flows[i].waiver.present = had[i];
	free(had);
	if (d.dropped)
		x->d->t8_cut = true;
	for (size_t i = 0; i < d.n; i++) {
		if (strcmp(d.v[i].code, "T8"))
			continue;
		if (d.v[i].sev == DIAG_ERROR)
			sv_add(x, out, d.v[i].msg);
		else
			x->d->t8_cut = true;
	}
	sv_sort(out);
	diags_free(&d);
}

static void diff_t8(struct dx *x)
{
	struct strv a = { 0 }, b = { 0 };
	size_t i = 0, j = 0;

	t8_paths(x, x->mo, &a);
	t8_paths(x, x->mn, &b);
	while (i < a.n || j < b.n) {
		int r = i == a.n ? 1 : j == b.n ? -1 : strcmp(a.v[i], b.v[j]);

		if (r < 0)
			sv_add(x, &x->d->t8_removed, a.v[i++]);
		else if (r > 0)
			sv_add(x, &x->d->t8_added, b.v[j++]);
		else
			i++, j++;
	}
	sv_free(&a);
	sv_free(&b);
}

/* ---- the whole ---- */

static int change_cmp(const void *a, const void *b)
{
	const struct diff_change *x = a, *y = b;
	int r;

	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	if (x->parent && y->parent && (r = strcmp(x->parent, y->parent)))
		return r;
	if (x->obj == DIFF_PREFIX) {
		struct prefix p, q;

		if (!prefix_parse(x->name, &p) && !prefix_parse(y->name, &q))
			return prefix_cmp(&p, &q);
	}
	return strcmp(x->name, y->name);
}

int diff_models(struct model *old, const struct policy *pold,
		struct model *new, const struct policy *pnew, int32_t today,
		struct diff **out)
{
	struct dx x = { .mo = old, .mn = new, .po = pold, .pn = pnew,
			.today = today };

	*out = NULL;
	x.d = calloc(1, sizeof(*x.d));
	if (!x.d)
		return -ENOMEM;
	/* Without them, schedules are merely compared again. */
	x.sc[0] = calloc(old->n_schedules * new->n_schedules + 1, 1);
	x.sc[1] = calloc(old->n_schedules * new->n_schedules + 1, 1);
	diff_site(&x);
	MATCH(&x, zones, n_zones, struct zone, zone_one);
	diff_prefixes(&x);
	MATCH(&x, hosts, n_hosts, struct host, host_one);
	MATCH(&x, fqdn_sets, n_fqdn_sets, struct fqdn_set, fqdn_one);
	MATCH(&x, schedules, n_schedules, struct schedule, sched_one);
	diff_flows(&x);
	diff_gateway(&x);
	if (x.d->n_changes > 1)
		qsort(x.d->changes, x.d->n_changes, sizeof(*x.d->changes),
		      change_cmp);
	diff_perms(&x);
	diff_openings(&x);
	diff_t8(&x);
	free(x.sc[0]);
	free(x.sc[1]);
	free(x.ren_old);
	free(x.ren_new);
	if (x.err) {
		diff_free(x.d);
		return x.err;
	}
	*out = x.d;
	return 0;
}

void diff_free(struct diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_changes; i++)
		change_free(&d->changes[i]);
	free(d->changes);
	for (size_t i = 0; i < d->n_perms; i++) {
		free(d->perms[i].from_zone);
		free(d->perms[i].to);
		free(d->perms[i].flow);
		free(d->perms[i].service);
	}
	free(d->perms);
	for (size_t i = 0; i < d->n_openings; i++) {
		struct diff_opening *o = &d->openings[i];

		free(o->from);
		free(o->to);
		free(o->from_zone);
		free(o->to_zone);
		free(o->flow);
		free(o->service);
		free(o->schedule);
	}
	free(d->openings);
	sv_free(&d->t8_added);
	sv_free(&d->t8_removed);
	sv_free(&d->sanctioned);
	free(d);
}

bool diff_empty(const struct diff *d)
{
	return !d->n_changes && !d->n_perms && !d->n_openings &&
	       !d->t8_added.n && !d->t8_removed.n;
}

bool diff_opens_mynumber(const struct diff *d)
{
	return d->n_openings || d->openings_dropped || d->t8_added.n;
}
