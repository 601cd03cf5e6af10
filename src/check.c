// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The validator. It runs on whatever the loader could build, so every
 * index may be -1 (E004 was reported already) and every prefix may be
 * unset (family 0, an E008): such parts are skipped without a word.
 *
 * Findings come out in a fixed order: the structural checks in file
 * order, then each flow in file order (its rules T1..T8, then W01, W04
 * and its waiver), then the update relays (W07), then the gateway.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "parse.h"
#include "sched.h"
#include "i18n.h"

/* Bound on the T8 path search, counted in edges followed. */
#define T8_MAX_STEPS		100000
#define WAIVER_WARN_DAYS	30
#define N_RULES			10

/* ---- a set of strings, to report each distinct finding once ---- */

struct strset {
	char **slot;
	size_t cap, n;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static int strset_grow(struct strset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 32;
	char **slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;

		if (!s->slot[i])
			continue;
		j = str_hash(s->slot[i]) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

/*
 * 1 if `str` was new (the set keeps a copy), 0 if it was there already.
 * Without memory it answers 1: a finding reported twice beats one lost.
 */
static int strset_add(struct strset *s, const char *str)
{
	size_t j;

	if ((s->n + 1) * 2 > s->cap && strset_grow(s))
		return 1;
	j = str_hash(str) & (s->cap - 1);
	while (s->slot[j]) {
		if (!strcmp(s->slot[j], str))
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->slot[j] = strdup(str);
	if (s->slot[j])
		s->n++;
	return 1;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* A set of 64-bit hashes (0 is stored as 1), for paths: cheaper than
 * their text, which can run to thousands of bytes. */
struct u64set {
	uint64_t *slot;
	size_t cap, n;
};

static uint64_t mix64(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return h;
}

/* 1 if new, 0 if present; 1 without memory, as strset_add. */
static int u64set_add(struct u64set *s, uint64_t v)
{
	size_t j;

	v = v ? v : 1;
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *slot = calloc(cap, sizeof(*slot));

		if (!slot)
			return 1;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slot[i])
				continue;
			j = s->slot[i] & (cap - 1);
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = s->slot[i];
		}
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	for (j = v & (s->cap - 1); s->slot[j]; j = (j + 1) & (s->cap - 1))
		if (s->slot[j] == v)
			return 0;
	s->slot[j] = v;
	s->n++;
	return 1;
}

static void u64set_free(struct u64set *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* ---- findings held back for sorting or for a later flow ---- */

struct pend {
	struct loc loc;
	size_t seq;
	char code[8];
	char *msg;
};

struct pendv {
	struct pend *v;
	size_t n, cap;
};

static void pend_add(struct pendv *pv, const struct loc *loc,
		     const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Takes over `msg`. */
static void pend_take(struct pendv *pv, const struct loc *loc,
		      const char *code, char *msg)
{
	struct pend *p;

	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 16;
		struct pend *v = realloc(pv->v, cap * sizeof(*v));

		if (!v) {
			free(msg);
			return;
		}
		pv->v = v;
		pv->cap = cap;
	}
	p = &pv->v[pv->n];
	p->loc = *loc;
	p->seq = pv->n++;
	snprintf(p->code, sizeof(p->code), "%s", code);
	p->msg = msg;
}

static void pend_add(struct pendv *pv, const struct loc *loc,
		     const char *code, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, _(fmt), ap);
	va_end(ap);
	if (r >= 0)
		pend_take(pv, loc, code, msg);
}

static void pendv_free(struct pendv *pv)
{
	for (size_t i = 0; i < pv->n; i++)
		free(pv->v[i].msg);
	free(pv->v);
	memset(pv, 0, sizeof(*pv));
}

static int pend_cmp_loc(const void *a, const void *b)
{
	const struct pend *x = a, *y = b;

	if (x->loc.line != y->loc.line)
		return x->loc.line < y->loc.line ? -1 : 1;
	if (x->loc.col != y->loc.col)
		return x->loc.col < y->loc.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- small helpers ---- */

static void fmt_date(int32_t days, char *buf, size_t n)
{
	int y, mo, d;

	civil_from_days(days, &y, &mo, &d);
	snprintf(buf, n, "%04d-%02d-%02d", y, mo, d);
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* "T1".."T10" -> 1..10; 0 for anything else. */
static int rule_num(const char *r)
{
	if (r[0] != 'T')
		return 0;
	if (r[1] >= '1' && r[1] <= '9' && !r[2])
		return r[1] - '0';
	if (!strcmp(r + 1, "10"))
		return 10;
	return 0;
}

static bool zone_ok(const struct model *m, int z)
{
	return z >= 0 && (size_t)z < m->n_zones;
}

static bool host_ok(const struct model *m, int h)
{
	return h >= 0 && (size_t)h < m->n_hosts;
}

/* What the rules need to know about one endpoint. */
struct epi {
	const struct endpoint *e;
	int zone;		/* -1 for an FQDN set */
	enum tier tier;
	const struct host *host;	/* EP_HOST only */
	const char *zname;	/* zone name, or the fqdn:SET text */
};

/* False when the endpoint did not resolve (the loader said so). */
static bool ep_info(const struct model *m, const struct endpoint *e,
		    struct epi *o)
{
	memset(o, 0, sizeof(*o));
	o->e = e;
	o->zone = -1;
	switch (e->kind) {
	case EP_FQDN:
		if (e->ref < 0 || (size_t)e->ref >= m->n_fqdn_sets)
			return false;
		o->tier = TIER_EXTERNAL;
		o->zname = e->text ? e->text : "fqdn";
		return true;
	case EP_HOST:
		if (!host_ok(m, e->ref))
			return false;
		o->host = &m->hosts[e->ref];
		o->zone = o->host->zone;
		break;
	case EP_ZONE:
		o->zone = zone_ok(m, e->ref) ? e->ref : e->zone;
		break;
	case EP_CIDR:
		o->zone = e->zone;
		if (!e->cidr.family)
			return false;
		break;
	default:
		return false;
	}
	/* A zone without a valid tier (E002) has no rules to break: judging
	 * it by a default tier would raise findings of its own. */
	if (!zone_ok(m, o->zone) || m->zones[o->zone].tier_bad)
		return false;
	o->tier = m->zones[o->zone].tier;
	o->zname = m->zones[o->zone].name;
	return true;
}

static const char *ep_text(const struct epi *x)
{
	return x->e->text ? x->e->text : x->zname;
}

static bool has_role(const struct epi *x, enum role r)
{
	return x->host && x->host->role == r;
}

/* Whether the endpoint names one host or a prefix of at least /24
 * (/120 for IPv6). */
static bool ep_narrow(const struct epi *x)
{
	const struct prefix *p;

	if (x->e->kind == EP_HOST)
		p = &x->host->addr;
	else if (x->e->kind == EP_CIDR)
		p = &x->e->cidr;
	else
		return false;
	if (!p->family)		/* unparsed: E008 said so */
		return true;
	return p->len >= (p->family == AF_INET6 ? 120 : 24);
}

/* One zone when both lie in the same zone; an FQDN set lies in every
 * external zone. */
static bool same_zone(const struct epi *a, const struct epi *b)
{
	if (a->zone >= 0 && b->zone >= 0)
		return a->zone == b->zone;
	if (a->zone < 0 && b->zone < 0)
		return true;
	return (a->zone < 0 ? b : a)->tier == TIER_EXTERNAL;
}

static bool svc_whole(const struct service *sv)
{
	if (sv->proto == 0)
		return true;
	if (sv->proto == IPPROTO_ICMP || sv->proto == IPPROTO_ICMPV6)
		return sv->lo == 0 && sv->hi == 255;
	return sv->lo <= 1 && sv->hi == 65535;
}

static bool svc_is_tcp(const struct service *sv, uint16_t port)
{
	return sv->proto == IPPROTO_TCP && sv->lo == port && sv->hi == port;
}

/* ---- what each code means ---- */

/*
 * The guideline points are those of 対策基準 3 「情報システム全体の強靱性
 * の向上」 (and, for waivers and the gateway, 7.4 and 6.1) of 地方公共団体に
 * おける情報セキュリティポリシーに関するガイドライン; the intent is in its
 * own terms, so that an auditor can hold the finding against the text.
 */
const struct check_code check_codes[] = {
	{ "E001", NULL, NULL, N_("YAML syntax error: a tab or full-width space "
	  "in the indentation, a full-width colon, a missing \"- \", or what "
	  "libyaml reports") },
	{ "E002", NULL, NULL, N_("an unknown, repeated or missing key, a value of "
	  "the wrong type, a bad version, tier, model, role or sanctioned "
	  "label, a bad name") },
	{ "E003", NULL, NULL, N_("a name used twice (zones, hosts, FQDN sets, "
	  "services and schedules share one namespace; flows have their own)") },
	{ "E004", NULL, NULL, N_("a reference to a zone, host, FQDN set, service "
	  "or schedule that does not exist (with the nearest name, if any)") },
	{ "E005", NULL, NULL, N_("the same prefix in two zones, or overlapping "
	  "prefixes between zones of different tiers other than external") },
	{ "E006", NULL, NULL, N_("an interface in two zones") },
	{ "E007", NULL, NULL, N_("a host address or ZONE/CIDR endpoint outside "
	  "its zone's networks") },
	{ "E008", NULL, NULL, N_("a malformed prefix (host bits set, length too "
	  "long), address, service, time, date, window or timezone") },
	{ "E009", NULL, NULL, N_("a malformed FQDN pattern") },
	{ "T1", "対策基準3(1)①",
	  "マイナンバー利用事務系と他の領域との通信をできないようにする"
	  "（注1: 国等の公的機関が構築した十分に安全性が確保された外部接続先を"
	  "除く）",
	  N_("no flow between mynumber and internet or external, except from "
	  "named mynumber hosts to a sanctioned eLTAX, マイナポータル or "
	  "J-LIS platform target on explicit ports with log: true") },
	{ "T2", "対策基準3(2)①",
	  "LGWAN接続系とインターネット接続系を分割し、通信は無害化通信"
	  "（メール・ファイルの無害化、画面転送）に限る",
	  N_("lgwan and internet meet only at a sanitizer or screen-transfer "
	  "host, placed as the model (alpha, alpha-prime, beta, beta-prime) "
	  "places it, on explicit ports; no lgwan egress to external but "
	  "alpha-prime's breakout to FQDN sets on tcp/443") },
	{ "T3", "対策基準3(1)①",
	  "他の領域との通信は特定通信に限り（通信経路の限定）、操作履歴などの"
	  "監査ログを取得する",
	  N_("a flow between mynumber and another tier names hosts and ports; "
	  "administrative access into mynumber (ssh, telnet, RDP, VNC ...) "
	  "has log: true") },
	{ "T4", "対策基準3(1)①・3(2)①",
	  "領域を越える通信は必要なものに限る",
	  N_("no cross-tier flow with service any") },
	{ "T5", "対策基準3(4)③",
	  "ソフトウェアの更新・パターンファイルはDMZの中継サーバを経由して"
	  "取得する",
	  N_("dmz reaches external only from update relays, to FQDN sets or "
	  "hosts, on tcp/80 and tcp/443") },
	{ "T6", "対策基準3(4)③",
	  "中継サーバへは内側の端末から取りに行き、中継サーバから内側へは"
	  "通信しない",
	  N_("nothing from internet or external into dmz; nothing from dmz into "
	  "mynumber or lgwan") },
	{ "T7", "対策基準3(1)・3(2)（保守）",
	  "保守用の外部接続先との通信は保守の時のみに限定し、記録を残す",
	  N_("a flow from internet or external into mgmt, lgwan or mynumber "
	  "names hosts at both ends and explicit ports, has log: true and a "
	  "schedule that closes") },
	{ "T8", "対策基準3(1)①",
	  "マイナンバー利用事務系と他の領域との通信は、他の領域を経由しても"
	  "できないようにする",
	  N_("no path of two or more hops between mynumber and internet or "
	  "external, either way, except out through an update relay to an "
	  "FQDN set") },
	{ "T9", "対策基準7.4",
	  "例外措置は許可を得て、期限を定め、記録する",
	  N_("a waiver is complete (rule, reason, ticket, approver, expiry) and "
	  "not expired") },
	{ "T10", "対策基準6.1",
	  "ネットワーク機器の管理は管理用の領域から行う",
	  N_("the gateway's own SSH is reachable only from mgmt zones") },
	{ "W01", NULL, NULL, N_("from and to lie in one zone: the gateway never "
	  "sees the traffic") },
	{ "W02", NULL, NULL, N_("a waiver for a rule the flow does not break") },
	{ "W03", NULL, NULL, N_("a waiver that expires within 30 days") },
	{ "W04", NULL, NULL, N_("an enforced schedule all of whose dated windows "
	  "have ended") },
	{ "W05", NULL, NULL, N_("a service with the name of a host or zone") },
	{ "W06", NULL, NULL, N_("an FQDN wildcard directly over a shared hosting "
	  "or cloud domain") },
	{ "W07", NULL, NULL, N_("an update relay of one address family in a zone "
	  "of both") },
	{ "W08", NULL, NULL, N_("weekly hours split at midnight into two ranges "
	  "on the same days, which opens the first day's early hours and "
	  "not the morning after the last") },
	{ "W09", NULL, NULL, N_("a schedule's holidays have no date in this "
	  "year or the next: the ruleset would open on the holidays of a "
	  "year the list does not cover") },
	{ "W10", NULL, NULL, N_("a gateway.ha node address inside a zone's "
	  "networks: the pair's sync traffic would cross that tier") },
	{ NULL, NULL, NULL, NULL },
};

const struct check_code *check_code_find(const char *code)
{
	for (const struct check_code *c = check_codes; code && c->code; c++)
		if (!strcmp(c->code, code))
			return c;
	return NULL;
}

static bool outside_tier(int t)
{
	return t == TIER_INTERNET || t == TIER_EXTERNAL;
}

const char *check_pair_rule(int a, int b)
{
	if (a < 0 || b < 0 || a == b)
		return NULL;
	if ((a == TIER_MYNUMBER && outside_tier(b)) ||
	    (b == TIER_MYNUMBER && outside_tier(a)))
		return "T1";
	if (outside_tier(a) && b == TIER_DMZ)
		return "T6";
	if (a == TIER_DMZ && (b == TIER_MYNUMBER || b == TIER_LGWAN))
		return "T6";
	if (a == TIER_DMZ && b == TIER_EXTERNAL)
		return "T5";
	if (outside_tier(a) && (b == TIER_MGMT || b == TIER_LGWAN))
		return a == TIER_INTERNET && b == TIER_LGWAN ? "T2" : "T7";
	if ((a == TIER_LGWAN && outside_tier(b)))
		return "T2";
	if (a == TIER_MYNUMBER || b == TIER_MYNUMBER)
		return "T3";
	return NULL;
}

/* ---- the context of one run ---- */

struct ck {
	const struct model *m;
	struct diags *d;
	int32_t today;

	/* the flow being checked */
	const struct flow *f;
	int waived;		/* rule a valid waiver suppresses, or 0 */
	bool broken[N_RULES + 1];
	bool mn_cross;		/* a pair of mynumber and another tier */
	struct strset seen;

	/* T8, computed before the flows are reported */
	bool *t8_waived;	/* per flow: has a valid T8 waiver */
	bool *t8_broken;	/* per flow: lies on an offending path */
	struct pendv *t8_msgs;	/* per flow: paths it starts */
	struct u64set t8_seen;	/* (first flow, path) hashes */
	bool t8_cut;
	bool t8_nomem;
};

static const char *flow_name(const struct flow *f)
{
	return f->name ? f->name : "?";
}

/* The rule a flow's waiver suppresses: 1..8 while the waiver is complete
 * and not expired, else 0. */
static int waiver_rule(const struct flow *f, int32_t today)
{
	const struct waiver *w = &f->waiver;
	int r;

	if (!w->present || empty(w->reason) || empty(w->ticket) ||
	    empty(w->approved_by) || w->expires < 0 || w->expires < today)
		return 0;
	r = rule_num(w->rule);
	return r >= 1 && r <= 8 ? r : 0;
}

/*
 * Reports a finding of flow c->f that breaks `rule` (0: no rule, a
 * warning or E007). A valid waiver for the rule swallows it; the same
 * message is reported once per flow.
 */
static void flow_report(struct ck *c, int rule, const struct loc *loc,
			enum diag_sev sev, const char *code,
			const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void flow_report(struct ck *c, int rule, const struct loc *loc,
			enum diag_sev sev, const char *code,
			const char *fmt, ...)
{
	char *body = NULL, *key = NULL;
	va_list ap;
	int r;

	if (rule) {
		c->broken[rule] = true;
		if (c->waived == rule)
			return;
	}
	va_start(ap, fmt);
	r = vasprintf(&body, _(fmt), ap);
	va_end(ap);
	if (r < 0)
		return;
	if (asprintf(&key, "%s\x01%s", code, body) < 0)
		key = NULL;
	if (!key || strset_add(&c->seen, key))
		diag_add(c->d, loc, sev, code, c->f->name, "flow \"%s\": %s",
			 flow_name(c->f), body);
	free(key);
	free(body);
}

/* ---- structural checks: E005, E006, E007 on hosts ---- */

struct net_ref {
	const struct prefix *p;
	const struct loc *loc;
	int zone;
	size_t net;
};

static int net_ref_cmp(const void *a, const void *b)
{
	const struct net_ref *x = a, *y = b;
	int r = prefix_cmp(x->p, y->p);

	if (r)
		return r;
	if (x->zone != y->zone)
		return x->zone < y->zone ? -1 : 1;
	return x->net < y->net ? -1 : x->net > y->net;
}

static bool net_ref_before(const struct net_ref *a, const struct net_ref *b)
{
	return a->zone < b->zone || (a->zone == b->zone && a->net < b->net);
}

static void e005_pair(const struct model *m, struct pendv *pv,
		      const struct net_ref *x, const struct net_ref *y)
{
	const struct net_ref *first = net_ref_before(x, y) ? x : y;
	const struct net_ref *second = first == x ? y : x;
	const struct zone *zf = &m->zones[first->zone];
	const struct zone *zs = &m->zones[second->zone];
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

	prefix_format(second->p, a, sizeof(a));
	if (prefix_equal(x->p, y->p)) {
		pend_add(pv, second->loc, "E005",
			 "prefix %s of zone \"%s\" is also in zone \"%s\"",
			 a, zs->name, zf->name);
		return;
	}
	if (zf->tier == zs->tier || zf->tier == TIER_EXTERNAL ||
	    zs->tier == TIER_EXTERNAL)
		return;
	prefix_format(first->p, b, sizeof(b));
	pend_add(pv, second->loc, "E005",
		 "prefix %s of zone \"%s\" (%s) overlaps %s of zone \"%s\" (%s)",
		 a, zs->name, tier_name(zs->tier), b, zf->name,
		 tier_name(zf->tier));
}

/*
 * Sorted by address, the prefixes that contain one another form chains:
 * a stack holds the current chain, so every overlapping pair is found
 * without comparing all pairs (a model may have tens of thousands).
 */
static void check_e005(const struct model *m, struct pendv *pv)
{
	struct net_ref *v = NULL, **stack = NULL;
	size_t n = 0, top = 0;

	for (size_t z = 0; z < m->n_zones; z++)
		n += m->zones[z].n_nets;
	if (!n)
		return;
	v = calloc(n, sizeof(*v));
	stack = calloc(n, sizeof(*stack));
	if (!v || !stack)
		goto out;
	n = 0;
	for (size_t z = 0; z < m->n_zones; z++) {
		const struct zone *zn = &m->zones[z];

		for (size_t i = 0; i < zn->n_nets; i++) {
			if (!zn->nets[i].p.family)
				continue;
			v[n].p = &zn->nets[i].p;
			v[n].loc = &zn->nets[i].loc;
			v[n].zone = (int)z;
			v[n].net = i;
			n++;
		}
	}
	qsort(v, n, sizeof(*v), net_ref_cmp);
	for (size_t i = 0; i < n; i++) {
		while (top && !prefix_contains(stack[top - 1]->p, v[i].p))
			top--;
		for (size_t s = 0; s < top; s++)
			if (stack[s]->zone != v[i].zone)
				e005_pair(m, pv, stack[s], &v[i]);
		stack[top++] = &v[i];
	}
out:
	free(stack);
	free(v);
}

struct if_ref {
	const struct iface *ifc;
	int zone;
	size_t idx;
};

static int if_ref_cmp(const void *a, const void *b)
{
	const struct if_ref *x = a, *y = b;
	int r = strcmp(x->ifc->name, y->ifc->name);

	if (r)
		return r;
	if (x->zone != y->zone)
		return x->zone < y->zone ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void check_e006(const struct model *m, struct pendv *pv)
{
	struct if_ref *v;
	size_t n = 0, first = 0;

	for (size_t z = 0; z < m->n_zones; z++)
		n += m->zones[z].n_ifaces;
	if (!n)
		return;
	v = calloc(n, sizeof(*v));
	if (!v)
		return;
	n = 0;
	for (size_t z = 0; z < m->n_zones; z++) {
		const struct zone *zn = &m->zones[z];

		for (size_t i = 0; i < zn->n_ifaces; i++) {
			if (empty(zn->ifaces[i].name))
				continue;
			v[n].ifc = &zn->ifaces[i];
			v[n].zone = (int)z;
			v[n].idx = i;
			n++;
		}
	}
	qsort(v, n, sizeof(*v), if_ref_cmp);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].ifc->name, v[first].ifc->name)) {
			first = i;
			continue;
		}
		if (v[i].zone == v[first].zone)
			continue;
		pend_add(pv, &v[i].ifc->loc, "E006",
			 "interface \"%s\" of zone \"%s\" is also in zone \"%s\"",
			 v[i].ifc->name, m->zones[v[i].zone].name,
			 m->zones[v[first].zone].name);
	}
	free(v);
}

static bool in_zone(const struct zone *z, const struct prefix *p)
{
	for (size_t i = 0; i < z->n_nets; i++)
		if (prefix_contains(&z->nets[i].p, p))
			return true;
	return false;
}

/* The zone's networks as "a, b, c" for messages (at most a few). */
static void zone_nets(const struct zone *z, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < z->n_nets && used + 1 < n; i++) {
		char p[PREFIX_STRLEN];
		int r;

		if (i == 4) {
			snprintf(buf + used, n - used, ", ...");
			break;
		}
		prefix_format(&z->nets[i].p, p, sizeof(p));
		r = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", p);
		if (r < 0)
			break;
		used += (size_t)r;
	}
}

static void check_hosts(const struct model *m, struct pendv *pv)
{
	for (size_t i = 0; i < m->n_hosts; i++) {
		const struct host *h = &m->hosts[i];
		const struct zone *z;
		char a[PREFIX_STRLEN], nets[256];

		if (!zone_ok(m, h->zone) || !h->addr.family)
			continue;
		z = &m->zones[h->zone];
		if (in_zone(z, &h->addr))
			continue;
		prefix_format(&h->addr, a, sizeof(a));
		zone_nets(z, nets, sizeof(nets));
		pend_add(pv, &h->addr_loc, "E007",
			 "address %s of host \"%s\" is outside zone \"%s\" (%s)",
			 a, h->name, z->name, nets);
	}
}

/* E007 for a ZONE/CIDR endpoint; the text says where it was met. */
static bool cidr_outside(const struct model *m, const struct endpoint *e)
{
	return e->kind == EP_CIDR && zone_ok(m, e->zone) && e->cidr.family &&
	       !in_zone(&m->zones[e->zone], &e->cidr);
}

static void check_structure(const struct model *m, struct diags *d)
{
	struct pendv pv = { 0 };

	check_e005(m, &pv);
	check_e006(m, &pv);
	check_hosts(m, &pv);
	if (pv.n)
		qsort(pv.v, pv.n, sizeof(*pv.v), pend_cmp_loc);
	for (size_t i = 0; i < pv.n; i++)
		diag_add(d, &pv.v[i].loc, DIAG_ERROR, pv.v[i].code, NULL,
			 MSG_AS_IS, pv.v[i].msg);
	pendv_free(&pv);
}

/* ---- T8: paths out of mynumber ---- */

/* A from endpoint of a flow, filed under its zone. */
struct t8_src {
	int flow;
	const struct endpoint *e;
};

struct t8_frame {
	const struct endpoint *node;	/* the endpoint reached */
	int flow;		/* the flow that reached it; -1 at the start */
	size_t k;		/* next entry of the zone's source list */
	int g;			/* the flow being followed, or -1 */
	size_t j;		/* next to endpoint of g */
	bool relay;		/* g leaves from a relay covering node */
	uint64_t h;		/* hash of the path up to node */
};

struct t8 {
	struct ck *c;
	size_t *first;		/* per zone: slice of srcs; n_zones + 1 */
	struct t8_src *srcs;
	struct t8_frame *st;
	size_t depth, cap;
	unsigned long steps;
	bool inbound;		/* walking from outside into mynumber */
};

static bool ep_same(const struct endpoint *a, const struct endpoint *b)
{
	if (a == b)
		return true;
	if (a->kind != b->kind)
		return false;
	if (a->kind == EP_CIDR)
		return a->zone == b->zone && prefix_equal(&a->cidr, &b->cidr);
	return a->ref == b->ref;
}

/* Whether source endpoint `s` covers the addresses of the reached `x`.
 * Both must lie in one zone: the most specific zone wins, so a host is
 * never covered by an overlapping wider zone (an external 0.0.0.0/0). */
static bool ep_covers(const struct epi *s, const struct epi *x)
{
	const struct prefix *a, *b;

	if (s->zone < 0 || s->zone != x->zone)
		return false;
	if (s->e->kind == EP_ZONE || x->e->kind == EP_ZONE)
		return true;
	a = s->e->kind == EP_HOST ? &s->host->addr : &s->e->cidr;
	b = x->e->kind == EP_HOST ? &x->host->addr : &x->e->cidr;
	return a->family && b->family && prefix_overlap(a, b);
}

static bool t8_terminal(enum tier t)
{
	return t == TIER_INTERNET || t == TIER_EXTERNAL;
}

/* A path of depth frames plus the final hop (flow g to `last`) that does
 * not end through an update relay to an FQDN set. */
/* The identity of a node, as ep_same() sees it. */
static uint64_t ep_id(const struct endpoint *e)
{
	uint64_t h = mix64(e->kind, (uint32_t)(e->kind == EP_CIDR ?
					       e->zone : e->ref));

	if (e->kind == EP_CIDR) {
		uint64_t a = 0, b = 0;

		memcpy(&a, e->cidr.addr, 8);
		memcpy(&b, e->cidr.addr + 8, 8);
		h = mix64(mix64(mix64(h, a), b),
			  (uint64_t)e->cidr.family << 8 | e->cidr.len);
	}
	return h;
}

static const char *node_text(const struct endpoint *e)
{
	return e->text ? e->text : "?";
}

/* A path of depth frames plus the final hop (flow g to `last`) that does
 * not end through an update relay to an FQDN set. */
static void t8_offending(struct t8 *t, int g, const struct endpoint *last)
{
	static const char head[] = "path ", sep[] = " -> ",
		out_tail[] = " leaves mynumber without passing an update "
			     "relay to an FQDN set",
		in_tail[] = " enters mynumber from internet or external";
	const char *tail = t->inbound ? in_tail : out_tail;
	struct ck *c = t->c;
	int first = t->st[1].flow;
	bool exempt = c->t8_waived[g];
	size_t len = sizeof(head) + strlen(tail) + 1 + strlen(node_text(last));
	char *msg, *p;

	c->t8_broken[g] = true;
	for (size_t i = 1; i < t->depth; i++) {
		c->t8_broken[t->st[i].flow] = true;
		if (c->t8_waived[t->st[i].flow])
			exempt = true;
	}
	if (exempt ||
	    !u64set_add(&c->t8_seen, mix64(mix64(t->st[t->depth - 1].h,
						 ep_id(last)), (uint64_t)first)))
		return;
	for (size_t i = 0; i < t->depth; i++)
		len += strlen(node_text(t->st[i].node)) + sizeof(sep) - 1;
	msg = malloc(len);
	if (!msg)
		return;
	p = stpcpy(msg, head);
	for (size_t i = 0; i < t->depth; i++)
		p = stpcpy(stpcpy(p, node_text(t->st[i].node)), sep);
	stpcpy(stpcpy(p, node_text(last)), tail);
	pend_take(&c->t8_msgs[first], &c->m->flows[first].loc, "T8", msg);
}

static int t8_push(struct t8 *t, const struct endpoint *node, int flow)
{
	struct t8_frame *fr;

	if (t->depth == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct t8_frame *st = realloc(t->st, cap * sizeof(*st));

		if (!st)
			return -ENOMEM;
		t->st = st;
		t->cap = cap;
	}
	fr = &t->st[t->depth++];
	fr->node = node;
	fr->flow = flow;
	fr->k = 0;
	fr->g = -1;
	fr->j = 0;
	fr->relay = false;
	fr->h = mix64(t->depth > 1 ? fr[-1].h : 0, ep_id(node));
	return 0;
}

static bool t8_on_path(const struct t8 *t, const struct endpoint *e)
{
	for (size_t i = 0; i < t->depth; i++)
		if (ep_same(t->st[i].node, e))
			return true;
	return false;
}

/* Picks the next flow that leaves from the top frame's node. */
static bool t8_next_flow(struct t8 *t, struct t8_frame *fr)
{
	const struct model *m = t->c->m;
	struct epi x;
	size_t end;

	if (!ep_info(m, fr->node, &x))
		return false;
	end = t->first[x.zone + 1];
	if (fr->k < t->first[x.zone])
		fr->k = t->first[x.zone];
	while (fr->k < end) {
		int g = t->srcs[fr->k].flow;
		bool covered = false, relay = false;

		for (; fr->k < end && t->srcs[fr->k].flow == g; fr->k++) {
			struct epi s;

			if (!ep_info(m, t->srcs[fr->k].e, &s) ||
			    !ep_covers(&s, &x))
				continue;
			covered = true;
			if (s.e->kind == EP_HOST &&
			    has_role(&s, ROLE_UPDATE_RELAY))
				relay = true;
		}
		if (covered) {
			fr->g = g;
			fr->j = 0;
			fr->relay = relay;
			return true;
		}
	}
	return false;
}

/*
 * Flow g reached `u` in an internet zone. The path is reported as it goes
 * on from there straight out to an external zone (SPEC's "juki-db -> renkei
 * -> mail-sanit -> upstream": where the data leaves the site), one report
 * per onward hop; when nothing goes on, it is reported ending at `u`. Only
 * one more hop is followed: from the internet tier the path is already out.
 */
static int t8_internet(struct t8 *t, int g, const struct endpoint *u)
{
	const struct model *m = t->c->m;
	struct t8_frame *fr;
	bool onward = false;

	if (t8_push(t, u, g))
		return -ENOMEM;
	fr = &t->st[t->depth - 1];
	while (fr->g >= 0 || t8_next_flow(t, fr)) {
		const struct flow *h = &m->flows[fr->g];
		const struct endpoint *v;
		struct epi vi;

		if (fr->j >= h->n_to) {
			fr->g = -1;
			continue;
		}
		v = &h->to[fr->j++];
		if (++t->steps > T8_MAX_STEPS) {
			t->depth--;
			return -E2BIG;
		}
		if (!ep_info(m, v, &vi) || vi.tier != TIER_EXTERNAL ||
		    t8_on_path(t, v) || (v->kind == EP_FQDN && fr->relay))
			continue;
		t8_offending(t, fr->g, v);
		onward = true;
	}
	t->depth--;
	if (!onward)
		t8_offending(t, g, u);
	return 0;
}

/* Depth-first over simple paths from the start frame (depth 2 on entry:
 * the mynumber endpoint and the first hop's target). */
static int t8_walk(struct t8 *t)
{
	const struct model *m = t->c->m;

	while (t->depth > 1) {
		struct t8_frame *fr = &t->st[t->depth - 1];
		const struct flow *g;
		const struct endpoint *u;
		struct epi ui;

		if (fr->g < 0 && !t8_next_flow(t, fr)) {
			t->depth--;
			continue;
		}
		g = &m->flows[fr->g];
		if (fr->j >= g->n_to) {
			fr->g = -1;
			continue;
		}
		u = &g->to[fr->j++];
		if (++t->steps > T8_MAX_STEPS)
			return -E2BIG;
		if (!ep_info(m, u, &ui) || t8_on_path(t, u))
			continue;
		if (t->inbound) {
			/* Back outside is no way in; mynumber is the end. */
			if (ui.tier == TIER_MYNUMBER)
				t8_offending(t, fr->g, u);
			else if (!t8_terminal(ui.tier) && t8_push(t, u, fr->g))
				return -ENOMEM;
			continue;
		}
		if (t8_terminal(ui.tier)) {
			int r = 0;

			if (u->kind == EP_FQDN && fr->relay)
				continue;
			if (ui.tier == TIER_INTERNET)
				r = t8_internet(t, fr->g, u);
			else
				t8_offending(t, fr->g, u);
			if (r)
				return r;
			/* t8_push may have moved the stack */
			continue;
		}
		if (t8_push(t, u, fr->g))
			return -ENOMEM;
	}
	return 0;
}

static int t8_index(struct t8 *t)
{
	const struct model *m = t->c->m;
	size_t n = 0;

	t->first = calloc(m->n_zones + 1, sizeof(*t->first));
	if (!t->first)
		return -ENOMEM;
	for (size_t f = 0; f < m->n_flows; f++) {
		for (size_t i = 0; i < m->flows[f].n_from; i++) {
			struct epi s;

			if (ep_info(m, &m->flows[f].from[i], &s) &&
			    s.zone >= 0) {
				t->first[s.zone + 1]++;
				n++;
			}
		}
	}
	for (size_t z = 0; z < m->n_zones; z++)
		t->first[z + 1] += t->first[z];
	t->srcs = calloc(n ? n : 1, sizeof(*t->srcs));
	if (!t->srcs)
		return -ENOMEM;
	/* Filled in flow order, so each zone's slice is grouped by flow. */
	{
		size_t *cur = calloc(m->n_zones + 1, sizeof(*cur));

		if (!cur)
			return -ENOMEM;
		for (size_t z = 0; z < m->n_zones; z++)
			cur[z] = t->first[z];
		for (size_t f = 0; f < m->n_flows; f++) {
			for (size_t i = 0; i < m->flows[f].n_from; i++) {
				const struct endpoint *e =
					&m->flows[f].from[i];
				struct epi s;

				if (!ep_info(m, e, &s) || s.zone < 0)
					continue;
				t->srcs[cur[s.zone]].flow = (int)f;
				t->srcs[cur[s.zone]].e = e;
				cur[s.zone]++;
			}
		}
		free(cur);
	}
	return 0;
}

static void check_t8(struct ck *c)
{
	const struct model *m = c->m;
	struct t8 t = { .c = c };
	int r = 0;

	if (t8_index(&t)) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t f = 0; f < m->n_flows && !r; f++) {
		const struct flow *fl = &m->flows[f];

		for (size_t i = 0; i < fl->n_from && !r; i++) {
			struct epi s;

			if (!ep_info(m, &fl->from[i], &s) ||
			    s.tier != TIER_MYNUMBER)
				continue;
			for (size_t j = 0; j < fl->n_to && !r; j++) {
				struct epi x;

				if (++t.steps > T8_MAX_STEPS) {
					r = -E2BIG;
					break;
				}
				/* One hop straight out is T1's business. */
				if (!ep_info(m, &fl->to[j], &x) ||
				    t8_terminal(x.tier) ||
				    ep_same(&fl->from[i], &fl->to[j]))
					continue;
				t.depth = 0;
				if (t8_push(&t, &fl->from[i], -1) ||
				    t8_push(&t, &fl->to[j], (int)f)) {
					r = -ENOMEM;
					break;
				}
				r = t8_walk(&t);
			}
		}
	}
	/* Then the same from outside in (internet terminals -> VDI host in
	 * lgwan -> juki-db): the first hop from an internet or external
	 * endpoint to one of any other tier but mynumber (one hop into
	 * mynumber is T1's). */
	t.inbound = true;
	for (size_t f = 0; f < m->n_flows && !r; f++) {
		const struct flow *fl = &m->flows[f];

		for (size_t i = 0; i < fl->n_from && !r; i++) {
			struct epi s;

			if (!ep_info(m, &fl->from[i], &s) ||
			    !t8_terminal(s.tier))
				continue;
			for (size_t j = 0; j < fl->n_to && !r; j++) {
				struct epi x;

				if (++t.steps > T8_MAX_STEPS) {
					r = -E2BIG;
					break;
				}
				if (!ep_info(m, &fl->to[j], &x) ||
				    t8_terminal(x.tier) ||
				    x.tier == TIER_MYNUMBER)
					continue;
				t.depth = 0;
				if (t8_push(&t, &fl->from[i], -1) ||
				    t8_push(&t, &fl->to[j], (int)f)) {
					r = -ENOMEM;
					break;
				}
				r = t8_walk(&t);
			}
		}
	}
out:
	if (r == -E2BIG)
		c->t8_cut = true;
	else if (r)
		c->t8_nomem = true;
	free(t.first);
	free(t.srcs);
	free(t.st);
}

/* ---- the flow rules ---- */

typedef void pair_fn(struct ck *c, const struct epi *a, const struct epi *b);

/* Calls fn for every resolved (from, to) pair of the current flow. */
static void each_pair(struct ck *c, pair_fn *fn)
{
	const struct flow *f = c->f;

	for (size_t i = 0; i < f->n_from; i++) {
		struct epi a;

		if (!ep_info(c->m, &f->from[i], &a))
			continue;
		for (size_t j = 0; j < f->n_to; j++) {
			struct epi b;

			if (ep_info(c->m, &f->to[j], &b))
				fn(c, &a, &b);
		}
	}
}

/* The 注1 labels of a host or FQDN set endpoint; 0 for anything else. */
static unsigned int ep_sanctioned(const struct model *m, const struct epi *x)
{
	if (x->e->kind == EP_FQDN)
		return m->fqdn_sets[x->e->ref].sanctioned;
	if (x->e->kind == EP_HOST)
		return x->host->sanctioned;
	return 0;
}

/* Every service names its ports (or ICMP type): none is a whole
 * protocol or "any". */
static bool svcs_explicit(const struct flow *f)
{
	if (!f->n_services)
		return false;
	for (size_t i = 0; i < f->n_services; i++)
		if (svc_whole(&f->services[i].sv))
			return false;
	return true;
}


/*
 * The shape SPEC §8a sanctions: from named mynumber hosts to a target
 * labelled `sanctioned`, on explicit ports, logged. Only outward: the
 * public services answer, they do not call in.
 */
static bool t1_sanctioned(struct ck *c, const struct epi *a,
			  const struct epi *b)
{
	return a->tier == TIER_MYNUMBER && a->e->kind == EP_HOST &&
	       ep_sanctioned(c->m, b) && svcs_explicit(c->f) && c->f->log;
}

static void t1_pair(struct ck *c, const struct epi *a, const struct epi *b)
{
	enum tier x = a->tier, y = b->tier;
	unsigned int lab;
	char labels[64];

	if (x == TIER_MYNUMBER && y == TIER_MYNUMBER)
		return;
	if (x != TIER_MYNUMBER && y != TIER_MYNUMBER)
		return;
	if (x == TIER_MYNUMBER)
		x = y;
	if (x != TIER_INTERNET && x != TIER_EXTERNAL)
		return;
	if (t1_sanctioned(c, a, b))
		return;
	lab = ep_sanctioned(c->m, a->tier == TIER_MYNUMBER ? b : a);
	if (!lab) {
		flow_report(c, 1, &c->f->loc, DIAG_ERROR, "T1",
			    "%s (%s) -> %s (%s) is forbidden", a->zname,
			    tier_name(a->tier), b->zname, tier_name(b->tier));
		return;
	}
	sanction_list(lab, labels, sizeof(labels));
	flow_report(c, 1, &c->f->loc, DIAG_ERROR, "T1",
		    "%s (%s) -> %s (%s) is forbidden: \"%s\" is sanctioned "
		    "(%s), which allows only flows from named mynumber hosts "
		    "to it, on explicit ports, with \"log: true\"",
		    a->zname, tier_name(a->tier), b->zname, tier_name(b->tier),
		    ep_text(a->tier == TIER_MYNUMBER ? b : a), labels);
}

static bool all_tcp443(const struct flow *f)
{
	if (!f->n_services)
		return false;
	for (size_t i = 0; i < f->n_services; i++)
		if (!svc_is_tcp(&f->services[i].sv, 443))
			return false;
	return true;
}

/*
 * Only alpha-prime has the local breakout. beta and beta-prime move the
 * terminals to the internet tier but SPEC §3 changes T2 "only as
 * written", so they are held to alpha's rule.
 */
static bool crossing_host(const struct epi *x)
{
	return has_role(x, ROLE_SANITIZER) ||
	       has_role(x, ROLE_SCREEN_TRANSFER);
}

static bool model_beta(const struct model *m)
{
	return m->variant == MODEL_BETA || m->variant == MODEL_BETA_PRIME;
}

static void t2_pair(struct ck *c, const struct epi *a, const struct epi *b)
{
	const char *v = model_variant_name(c->m->variant);

	/* The crossing hosts are the narrow points: their flows name ports. */
	if ((crossing_host(a) || crossing_host(b)) && !same_zone(a, b)) {
		const struct epi *h = crossing_host(a) ? a : b;

		for (size_t i = 0; i < c->f->n_services; i++) {
			char sv[SERVICE_STRLEN];

			if (!svc_whole(&c->f->services[i].sv))
				continue;
			service_format(&c->f->services[i].sv, sv, sizeof(sv));
			flow_report(c, 2, &c->f->services[i].loc, DIAG_ERROR,
				    "T2", "service \"%s\" is not explicit; a "
				    "flow to or from %s host \"%s\" must list "
				    "its ports", sv, role_name(h->host->role),
				    h->host->name);
		}
	}
	if ((a->tier == TIER_LGWAN && b->tier == TIER_INTERNET) ||
	    (a->tier == TIER_INTERNET && b->tier == TIER_LGWAN)) {
		/*
		 * Under alpha the terminals sit in lgwan and reach a
		 * screen-transfer host on the internet side; the internet
		 * reaching into a screen-transfer host in lgwan is beta's
		 * arrangement (terminals on the internet side).
		 */
		if (!model_beta(c->m) && a->tier == TIER_INTERNET &&
		    has_role(b, ROLE_SCREEN_TRANSFER)) {
			flow_report(c, 2, &c->f->loc, DIAG_ERROR, "T2",
				    "%s (internet) -> screen-transfer host "
				    "\"%s\" in %s (lgwan) is the beta "
				    "arrangement; under model %s the terminals "
				    "sit in lgwan and the screen-transfer host "
				    "on the internet side", a->zname,
				    b->host->name, b->zname, v);
			return;
		}
		if (crossing_host(a) || crossing_host(b))
			return;
		flow_report(c, 2, &c->f->loc, DIAG_ERROR, "T2",
			    "%s (%s) -> %s (%s) needs a sanitizer or "
			    "screen-transfer host as one endpoint",
			    a->zname, tier_name(a->tier), b->zname,
			    tier_name(b->tier));
		return;
	}
	if (a->tier != TIER_LGWAN || b->tier != TIER_EXTERNAL)
		return;
	if (c->m->variant != MODEL_ALPHA_PRIME) {
		flow_report(c, 2, &c->f->loc, DIAG_ERROR, "T2",
			    "%s (lgwan) -> %s (external) is forbidden: no "
			    "direct internet egress from lgwan under model %s",
			    a->zname, b->zname, v);
		return;
	}
	if (b->e->kind != EP_FQDN) {
		flow_report(c, 2, &c->f->loc, DIAG_ERROR, "T2",
			    "%s (lgwan) -> %s (external) is forbidden: model "
			    "alpha-prime lets lgwan reach only FQDN sets, on "
			    "tcp/443", a->zname, b->zname);
		return;
	}
	if (!all_tcp443(c->f))
		flow_report(c, 2, &c->f->loc, DIAG_ERROR, "T2",
			    "%s (lgwan) -> %s (external) is allowed under "
			    "model alpha-prime on tcp/443 only", a->zname,
			    b->zname);
}

static void t3_side(struct ck *c, const struct epi *o)
{
	const struct prefix *p;
	char buf[PREFIX_STRLEN];

	if (ep_narrow(o))
		return;
	switch (o->e->kind) {
	case EP_ZONE:
		flow_report(c, 3, &o->e->loc, DIAG_ERROR, "T3",
			    "\"%s\" is a whole zone; a flow to or from "
			    "mynumber must name hosts", ep_text(o));
		return;
	case EP_FQDN:
		flow_report(c, 3, &o->e->loc, DIAG_ERROR, "T3",
			    "\"%s\" is not a host; a flow to or from "
			    "mynumber must name hosts", ep_text(o));
		return;
	case EP_HOST:
		p = &o->host->addr;
		break;
	default:
		p = &o->e->cidr;
		break;
	}
	prefix_format(p, buf, sizeof(buf));
	flow_report(c, 3, &o->e->loc, DIAG_ERROR, "T3",
		    "\"%s\" (%s) is wider than /%d; a flow to or from mynumber "
		    "must name hosts", ep_text(o), buf,
		    p->family == AF_INET6 ? 120 : 24);
}

static void t3_pair(struct ck *c, const struct epi *a, const struct epi *b)
{
	if ((a->tier == TIER_MYNUMBER) == (b->tier == TIER_MYNUMBER))
		return;
	c->mn_cross = true;
	/* A sanctioned set is named by its names; T1 holds the rest. */
	if (a->tier == TIER_MYNUMBER && ep_sanctioned(c->m, b))
		return;
	t3_side(c, a->tier == TIER_MYNUMBER ? b : a);
}

/* Services an operator administers a host through: access to them
 * inside マイナンバー利用事務系 must leave a record (操作履歴). */
static const struct {
	uint8_t proto;
	uint16_t lo, hi;
	const char *name;
} admin_svcs[] = {
	{ IPPROTO_TCP, 22, 22, "ssh" },
	{ IPPROTO_TCP, 23, 23, "telnet" },
	{ IPPROTO_TCP, 512, 513, "rexec/rlogin" },
	{ IPPROTO_TCP, 3389, 3389, "RDP" },
	{ IPPROTO_UDP, 3389, 3389, "RDP" },
	{ IPPROTO_TCP, 5900, 5999, "VNC" },
	{ IPPROTO_TCP, 5985, 5986, "WinRM" },
	{ IPPROTO_TCP, 8006, 8006, "hypervisor console" },
	{ IPPROTO_TCP, 902, 902, "hypervisor console" },
	{ IPPROTO_TCP, 623, 623, "IPMI" },
	{ IPPROTO_UDP, 623, 623, "IPMI" },
};

/* The administrative service the item reaches, or NULL. */
static const char *admin_service(const struct service *sv)
{
	for (size_t i = 0; i < sizeof(admin_svcs) / sizeof(admin_svcs[0]);
	     i++) {
		if (sv->proto && sv->proto != admin_svcs[i].proto)
			continue;
		if (!sv->proto || (sv->lo <= admin_svcs[i].hi &&
				   sv->hi >= admin_svcs[i].lo))
			return admin_svcs[i].name;
	}
	return NULL;
}

static void t3_admin_pair(struct ck *c, const struct epi *a,
			  const struct epi *b)
{
	const struct flow *f = c->f;

	if (f->log || b->tier != TIER_MYNUMBER || same_zone(a, b))
		return;
	for (size_t i = 0; i < f->n_services; i++) {
		const char *what = admin_service(&f->services[i].sv);
		char sv[SERVICE_STRLEN];

		/* A whole protocol across tiers is a T3 finding already. */
		if (!what || (svc_whole(&f->services[i].sv) &&
			      a->tier != TIER_MYNUMBER))
			continue;
		service_format(&f->services[i].sv, sv, sizeof(sv));
		flow_report(c, 3, &f->loc, DIAG_ERROR, "T3",
			    "%s (%s) -> %s (mynumber) on %s (%s) is "
			    "administrative access into mynumber; it needs "
			    "\"log: true\" (an audit record of the access)",
			    ep_text(a), tier_name(a->tier), ep_text(b), sv,
			    what);
	}
}

static void check_t3(struct ck *c)
{
	const struct flow *f = c->f;

	c->mn_cross = false;
	each_pair(c, t3_pair);
	each_pair(c, t3_admin_pair);
	if (!c->mn_cross)
		return;
	for (size_t i = 0; i < f->n_services; i++) {
		char s[SERVICE_STRLEN];

		if (!svc_whole(&f->services[i].sv))
			continue;
		service_format(&f->services[i].sv, s, sizeof(s));
		flow_report(c, 3, &f->services_loc, DIAG_ERROR, "T3",
			    "service \"%s\" is not explicit; a flow to or "
			    "from mynumber must list its ports", s);
	}
}

static void check_t4(struct ck *c)
{
	const struct flow *f = c->f;
	struct epi a, b;
	bool cross = false;

	for (size_t i = 0; i < f->n_from && !cross; i++) {
		if (!ep_info(c->m, &f->from[i], &a))
			continue;
		for (size_t j = 0; j < f->n_to && !cross; j++)
			cross = ep_info(c->m, &f->to[j], &b) &&
				a.tier != b.tier;
	}
	if (!cross)
		return;
	for (size_t i = 0; i < f->n_services; i++) {
		if (f->services[i].sv.proto != 0)
			continue;
		flow_report(c, 4, &f->services[i].loc, DIAG_ERROR, "T4",
			    "service \"any\" on a cross-tier flow (%s (%s) -> "
			    "%s (%s))", a.zname, tier_name(a.tier), b.zname,
			    tier_name(b.tier));
	}
}

static void t5_pair(struct ck *c, const struct epi *a, const struct epi *b)
{
	const struct flow *f = c->f;

	if (a->tier != TIER_DMZ || b->tier != TIER_EXTERNAL)
		return;
	if (!(a->e->kind == EP_HOST && has_role(a, ROLE_UPDATE_RELAY)))
		flow_report(c, 5, &f->loc, DIAG_ERROR, "T5",
			    "\"%s\" is not an update-relay host; only update "
			    "relays may go from dmz to external", ep_text(a));
	if (b->e->kind != EP_FQDN && b->e->kind != EP_HOST)
		flow_report(c, 5, &f->loc, DIAG_ERROR, "T5",
			    "\"%s\" is neither an FQDN set nor a host; dmz "
			    "may reach external only through those",
			    ep_text(b));
	for (size_t i = 0; i < f->n_services; i++) {
		const struct service *sv = &f->services[i].sv;
		char s[SERVICE_STRLEN];

		if (svc_is_tcp(sv, 80) || svc_is_tcp(sv, 443))
			continue;
		service_format(sv, s, sizeof(s));
		flow_report(c, 5, &f->loc, DIAG_ERROR, "T5",
			    "service \"%s\" from dmz to external; only tcp/80 "
			    "and tcp/443 are allowed", s);
	}
}

static void t6_pair(struct ck *c, const struct epi *a, const struct epi *b)
{
	if (b->tier == TIER_DMZ &&
	    (a->tier == TIER_INTERNET || a->tier == TIER_EXTERNAL))
		flow_report(c, 6, &c->f->loc, DIAG_ERROR, "T6",
			    "%s (%s) -> %s (dmz) is forbidden: nothing from "
			    "internet or external initiates into dmz",
			    a->zname, tier_name(a->tier), b->zname);
	else if (a->tier == TIER_DMZ &&
		 (b->tier == TIER_MYNUMBER || b->tier == TIER_LGWAN))
		flow_report(c, 6, &c->f->loc, DIAG_ERROR, "T6",
			    "%s (dmz) -> %s (%s) is forbidden: dmz initiates "
			    "nothing into mynumber or lgwan (clients pull "
			    "from relays)", a->zname, b->zname,
			    tier_name(b->tier));
}

static const char *admin_service(const struct service *sv);

/*
 * Whether the pair is maintenance (T7); see check_flow_is_maintenance.
 * The internet segment's hosts handing time, logs or traps to collectors
 * in mgmt on named ports is a service of mgmt, not maintenance; an
 * administrative port or a whole protocol from there is.
 */
static bool maint_pair(const struct flow *f, const struct epi *a,
		       const struct epi *b)
{
	if (!outside_tier(a->tier) || (b->tier != TIER_MGMT &&
				       b->tier != TIER_LGWAN &&
				       b->tier != TIER_MYNUMBER))
		return false;
	if (a->tier == TIER_INTERNET && b->tier == TIER_MGMT) {
		for (size_t i = 0; i < f->n_services; i++)
			if (svc_whole(&f->services[i].sv) ||
			    admin_service(&f->services[i].sv))
				return true;
		return false;
	}
	return !(a->tier == TIER_INTERNET && b->tier == TIER_LGWAN &&
		 (crossing_host(a) || crossing_host(b)));
}

bool check_flow_is_maintenance(const struct model *m, const struct flow *f)
{
	for (size_t i = 0; i < f->n_from; i++) {
		struct epi a;

		if (!ep_info(m, &f->from[i], &a))
			continue;
		for (size_t j = 0; j < f->n_to; j++) {
			struct epi b;

			if (ep_info(m, &f->to[j], &b) &&
			    maint_pair(f, &a, &b))
				return true;
		}
	}
	return false;
}

#define WEEK_MINUTES (7 * 1440)

/*
 * The days (bit 0 Monday) on which weekly hours are open all 24 hours,
 * counting the tail of a range that wraps past midnight from the day
 * before; holidays are ignored, they close only a few days a year.
 */
static unsigned int days_around_clock(const struct schedule *s)
{
	uint8_t *open = calloc(WEEK_MINUTES, 1);
	unsigned int days = 0;

	if (!open)
		return 0;
	for (int d = 0; d < 7; d++) {
		if (!(s->days & (1u << d)))
			continue;
		for (size_t i = 0; i < s->n_hours; i++) {
			int st = d * 1440 + s->hours[i].start;
			int en = d * 1440 + s->hours[i].end;

			if (s->hours[i].end <= s->hours[i].start)
				en += 1440;
			for (int t = st; t < en; t++)
				open[t % WEEK_MINUTES] = 1;
		}
	}
	for (int d = 0; d < 7; d++) {
		bool all = true;

		for (int t = d * 1440; t < (d + 1) * 1440 && all; t++)
			all = open[t];
		if (all)
			days |= 1u << d;
	}
	free(open);
	return days;
}

static void days_text(unsigned int days, char *buf, size_t n)
{
	static const char *const names[] = { "mon", "tue", "wed", "thu",
					     "fri", "sat", "sun" };
	size_t used = 0;

	buf[0] = '\0';
	for (int d = 0; d < 7; d++) {
		int r;

		if (!(days & (1u << d)))
			continue;
		r = snprintf(buf + used, n - used, "%s%s", used ? ", " : "",
			     names[d]);
		if (r < 0 || (size_t)r >= n - used)
			break;
		used += (size_t)r;
	}
}

/*
 * Maintenance only at maintenance time (保守の時のみ): a flow from
 * outside into mgmt, lgwan or mynumber names hosts at both ends and its
 * ports, is logged, and has a schedule that closes.
 */
static void t7_pair(struct ck *c, const struct epi *a, const struct epi *b)
{
	const struct model *m = c->m;
	const struct flow *f = c->f;
	const char *t = tier_name(b->tier), *o = tier_name(a->tier);

	if (!maint_pair(f, a, b))
		return;
	/* Forbidden outright by T1 or T2 until a waiver lets it through;
	 * what maintenance would need is noise before that. */
	if ((b->tier == TIER_MYNUMBER && c->waived != 1) ||
	    (a->tier == TIER_INTERNET && b->tier == TIER_LGWAN &&
	     c->waived != 2))
		return;
	if (a->e->kind != EP_HOST)
		flow_report(c, 7, &a->e->loc, DIAG_ERROR, "T7",
			    "maintenance from %s into %s must come from a "
			    "host, not \"%s\"", o, t, ep_text(a));
	if (b->e->kind != EP_HOST)
		flow_report(c, 7, &b->e->loc, DIAG_ERROR, "T7",
			    "maintenance from %s into %s must target a host, "
			    "not \"%s\"", o, t, ep_text(b));
	for (size_t i = 0; i < f->n_services; i++) {
		char sv[SERVICE_STRLEN];

		if (!svc_whole(&f->services[i].sv))
			continue;
		service_format(&f->services[i].sv, sv, sizeof(sv));
		flow_report(c, 7, &f->services[i].loc, DIAG_ERROR, "T7",
			    "maintenance from %s into %s must list its ports, "
			    "not \"%s\"", o, t, sv);
	}
	/* An unresolved schedule still counts as given (E004 said so). */
	if (f->schedule < 0 && f->schedule_loc.line <= 0) {
		flow_report(c, 7, &f->loc, DIAG_ERROR, "T7",
			    "maintenance from %s into %s needs a schedule",
			    o, t);
	} else if (f->schedule >= 0 && (size_t)f->schedule < m->n_schedules) {
		const struct schedule *s = &m->schedules[f->schedule];
		unsigned int days = s->n_windows ? 0 : days_around_clock(s);
		char dt[40];

		days_text(days, dt, sizeof(dt));
		if (days)
			flow_report(c, 7, &f->schedule_loc, DIAG_ERROR, "T7",
				    "maintenance from %s into %s: schedule "
				    "\"%s\" is open around the clock on %s; "
				    "give dated windows or hours that close",
				    o, t, s->name, dt);
	}
	if (!f->log)
		flow_report(c, 7, &f->loc, DIAG_ERROR, "T7",
			    "maintenance from %s into %s needs \"log: true\"",
			    o, t);
}

static void w01_pair(struct ck *c, const struct epi *a, const struct epi *b)
{
	if (!same_zone(a, b))
		return;
	if (a->zone < 0 && b->zone < 0)
		flow_report(c, 0, &c->f->loc, DIAG_WARNING, "W01",
			    "from and to are both FQDN sets, which lie in the "
			    "external zones; the gateway never sees this "
			    "traffic");
	else
		flow_report(c, 0, &c->f->loc, DIAG_WARNING, "W01",
			    "from and to lie in one zone \"%s\"; the gateway "
			    "never sees this traffic",
			    a->zone >= 0 ? a->zname : b->zname);
}

static void check_w04(struct ck *c)
{
	const struct model *m = c->m;
	const struct flow *f = c->f;
	const struct schedule *s;
	time_t midnight;
	char day[16];

	if (f->schedule < 0 || (size_t)f->schedule >= m->n_schedules)
		return;
	s = &m->schedules[f->schedule];
	if (!s->n_windows || s->n_hours)
		return;
	if (!m->timezone ||
	    tz_local_to_utc(m->timezone, c->today, 0, &midnight))
		midnight = (time_t)c->today * 86400;
	for (size_t i = 0; i < s->n_windows; i++)
		if (s->windows[i].to > midnight)
			return;
	fmt_date(c->today, day, sizeof(day));
	flow_report(c, 0, &f->schedule_loc, DIAG_WARNING, "W04",
		    "every window of schedule \"%s\" ended before %s; the "
		    "flow is never open", s->name, day);
}

static void check_waiver(struct ck *c)
{
	const struct flow *f = c->f;
	const struct waiver *w = &f->waiver;
	const char *name = flow_name(f);
	int rule = rule_num(w->rule);
	char day[16];

	if (!w->present)
		return;
	if (!w->rule[0] && w->rule_loc.line <= 0)
		diag_add(c->d, &w->loc, DIAG_ERROR, "T9", f->name,
			 "waiver on flow \"%s\" is missing \"rule\"", name);
	if (empty(w->reason))
		diag_add(c->d, &w->loc, DIAG_ERROR, "T9", f->name,
			 "waiver on flow \"%s\" is missing \"reason\"", name);
	if (empty(w->ticket))
		diag_add(c->d, &w->loc, DIAG_ERROR, "T9", f->name,
			 "waiver on flow \"%s\" is missing \"ticket\"", name);
	if (empty(w->approved_by))
		diag_add(c->d, &w->loc, DIAG_ERROR, "T9", f->name,
			 "waiver on flow \"%s\" is missing \"approved_by\"",
			 name);
	if (w->expires < 0 && w->expires_loc.line <= 0)
		diag_add(c->d, &w->loc, DIAG_ERROR, "T9", f->name,
			 "waiver on flow \"%s\" is missing \"expires\"", name);
	if (rule == 9 || rule == 10)
		diag_add(c->d, &w->rule_loc, DIAG_ERROR, "T9", f->name,
			 "waiver on flow \"%s\" names %s; T9 and T10 cannot "
			 "be waived", name, w->rule);
	if (w->expires >= 0) {
		long left = (long)w->expires - c->today;

		fmt_date(w->expires, day, sizeof(day));
		if (left < 0)
			diag_add(c->d, &w->expires_loc, DIAG_ERROR, "T9",
				 f->name, "waiver on flow \"%s\" expired %ld "
				 "day%s ago (%s)", name, -left,
				 left == -1 ? "" : "s", day);
		else if (left == 0)
			diag_add(c->d, &w->expires_loc, DIAG_WARNING, "W03",
				 f->name, "waiver on flow \"%s\" expires "
				 "today (%s)", name, day);
		else if (left <= WAIVER_WARN_DAYS)
			diag_add(c->d, &w->expires_loc, DIAG_WARNING, "W03",
				 f->name, "waiver on flow \"%s\" expires in "
				 "%ld day%s (%s)", name, left,
				 left == 1 ? "" : "s", day);
	}
	if (!c->waived || c->broken[c->waived])
		return;
	/* With an endpoint that failed to load, the flow cannot be said
	 * not to break the rule. */
	for (int side = 0; side < 2; side++) {
		const struct endpoint *v = side ? f->to : f->from;
		size_t n = side ? f->n_to : f->n_from;
		struct epi x;

		for (size_t i = 0; i < n; i++)
			if (!ep_info(c->m, &v[i], &x))
				return;
	}
	/* A cut-short search cannot tell that no path breaks T8. */
	if (c->waived == 8 && (c->t8_cut || c->t8_nomem))
		return;
	diag_add(c->d, &w->rule_loc, DIAG_WARNING, "W02",
		 f->name, "waiver on flow \"%s\" names %s, which the flow "
		 "does not break; remove it", name, w->rule);
}

static void check_flow(struct ck *c, size_t fi)
{
	const struct flow *f = &c->m->flows[fi];

	c->f = f;
	c->waived = waiver_rule(f, c->today);
	memset(c->broken, 0, sizeof(c->broken));
	strset_free(&c->seen);

	for (int side = 0; side < 2; side++) {
		const struct endpoint *v = side ? f->to : f->from;
		size_t n = side ? f->n_to : f->n_from;

		for (size_t i = 0; i < n; i++) {
			char p[PREFIX_STRLEN];

			if (!cidr_outside(c->m, &v[i]))
				continue;
			prefix_format(&v[i].cidr, p, sizeof(p));
			flow_report(c, 0, &v[i].loc, DIAG_ERROR, "E007",
				    "\"%s\": %s is outside zone \"%s\"",
				    v[i].text ? v[i].text : p, p,
				    c->m->zones[v[i].zone].name);
		}
	}
	each_pair(c, t1_pair);
	each_pair(c, t2_pair);
	check_t3(c);
	check_t4(c);
	each_pair(c, t5_pair);
	each_pair(c, t6_pair);
	each_pair(c, t7_pair);
	if (c->t8_msgs) {
		const struct pendv *t8 = &c->t8_msgs[fi];

		c->broken[8] = c->t8_broken[fi];
		for (size_t i = 0; i < t8->n; i++)
			diag_add(c->d, &t8->v[i].loc, DIAG_ERROR, "T8",
				 f->name, "flow \"%s\": %s", flow_name(f),
				 t8->v[i].msg);
	}
	each_pair(c, w01_pair);
	check_w04(c);
	check_waiver(c);
}

static bool zone_has_family(const struct zone *z, int af)
{
	for (size_t i = 0; i < z->n_nets; i++)
		if (z->nets[i].p.family == af)
			return true;
	return false;
}

/* Whether a from endpoint gives a source of family af in zone z. */
static bool ep_source_in(const struct model *m, const struct endpoint *e,
			 int z, int af)
{
	switch (e->kind) {
	case EP_HOST:
		return host_ok(m, e->ref) && m->hosts[e->ref].zone == z &&
		       m->hosts[e->ref].addr.family == af;
	case EP_ZONE:
		return e->ref == z && zone_ok(m, z) &&
		       zone_has_family(&m->zones[z], af);
	case EP_CIDR:
		return e->zone == z && e->cidr.family == af;
	default:
		return false;
	}
}

/* The first FQDN flow from relay host hi that has no source of family
 * af in the relay's zone, or NULL. */
static const struct flow *relay_flow_without(const struct model *m,
					     size_t hi, int af,
					     const struct endpoint **set)
{
	int z = m->hosts[hi].zone;

	for (size_t i = 0; i < m->n_flows; i++) {
		const struct flow *f = &m->flows[i];
		bool from_h = false, other = false;

		*set = NULL;
		for (size_t j = 0; j < f->n_from; j++) {
			const struct endpoint *e = &f->from[j];

			from_h = from_h || (e->kind == EP_HOST &&
					    e->ref == (int)hi);
			other = other || ep_source_in(m, e, z, af);
		}
		for (size_t j = 0; j < f->n_to && !*set; j++)
			if (f->to[j].kind == EP_FQDN && f->to[j].ref >= 0)
				*set = &f->to[j];
		if (from_h && *set && !other)
			return f;
	}
	return NULL;
}

/*
 * W07: an update relay with an address of one family in a zone with
 * networks of both. Its FQDN flows then serve that family only, so the
 * DNS guard hands out no address of the other (when no flow of the set
 * can use one); a relay that has such an address anyway, undeclared,
 * would try it and be dropped. Not raised when the flow also has a
 * source of the other family in the zone (the relay's other address,
 * declared as a host of its own).
 */
static void check_w07(struct ck *c)
{
	const struct model *m = c->m;

	for (size_t i = 0; i < m->n_hosts; i++) {
		const struct host *h = &m->hosts[i];
		const struct endpoint *set;
		const struct flow *f;
		const char *has, *lacks;
		int other;

		if (h->role != ROLE_UPDATE_RELAY || !zone_ok(m, h->zone) ||
		    !h->addr.family ||
		    !zone_has_family(&m->zones[h->zone], AF_INET) ||
		    !zone_has_family(&m->zones[h->zone], AF_INET6))
			continue;
		other = h->addr.family == AF_INET ? AF_INET6 : AF_INET;
		f = relay_flow_without(m, i, other, &set);
		if (!f)
			continue;
		has = other == AF_INET6 ? "IPv4" : "IPv6";
		lacks = other == AF_INET6 ? "IPv6" : "IPv4";
		diag_add(c->d, &h->addr_loc, DIAG_WARNING, "W07", f->name,
			 "update-relay host \"%s\" has an %s address only, in "
			 "zone \"%s\" with %s networks too: flow \"%s\" lets "
			 "it reach fqdn:%s over %s only, and the DNS guard "
			 "gives it no %s answers for a set no %s flow uses; if "
			 "it has an %s address, name it as a host in the flow",
			 h->name, has, m->zones[h->zone].name, lacks,
			 flow_name(f), m->fqdn_sets[set->ref].name, has,
			 lacks, lacks, lacks);
	}
}

static void check_gateway(struct ck *c)
{
	const struct model *m = c->m;
	const struct gateway *gw = &m->gateway;

	for (size_t i = 0; i < gw->n_ssh_from; i++) {
		const struct endpoint *e = &gw->ssh_from[i];
		struct epi x;

		if (cidr_outside(m, e)) {
			char p[PREFIX_STRLEN];

			prefix_format(&e->cidr, p, sizeof(p));
			diag_add(c->d, &e->loc, DIAG_ERROR, "E007", NULL,
				 "gateway ssh_from \"%s\": %s is outside zone "
				 "\"%s\"", e->text ? e->text : p, p,
				 m->zones[e->zone].name);
		}
		if (!ep_info(m, e, &x) || x.tier == TIER_MGMT)
			continue;
		diag_add(c->d, &e->loc, DIAG_ERROR, "T10",
			 NULL, "gateway SSH from \"%s\" (%s): only mgmt zones "
			 "may reach the gateway's SSH", ep_text(&x),
			 tier_name(x.tier));
	}
}

/* ---- schedules: W08, W09 ---- */

static void hhmm(unsigned int min, char *buf, size_t n)
{
	snprintf(buf, n, "%02u:%02u", (min / 60) % 100, min % 60);
}

/*
 * W08: "22:00-24:00" and "00:00-05:00" on the same days open the early
 * hours of the first day and not those after the last, which is rarely
 * what was meant; "22:00-05:00" wraps. Not raised on all seven days,
 * where the two mean the same.
 * W09: holidays with no date in this year or the next, the span a
 * ruleset compiled today serves: past the list's end the schedule
 * silently opens on that year's holidays.
 */
static void check_schedules(struct ck *c)
{
	const struct model *m = c->m;
	int y, mo, dd;

	civil_from_days(c->today, &y, &mo, &dd);
	for (size_t i = 0; i < m->n_schedules; i++) {
		const struct schedule *s = &m->schedules[i];
		unsigned int days = s->days & 0x7f;

		for (size_t a = 0; a < s->n_hours && days != 0x7f; a++) {
			const struct hours_range *late = &s->hours[a];

			if (late->end != 1440)
				continue;
			for (size_t b = 0; b < s->n_hours; b++) {
				const struct hours_range *early = &s->hours[b];
				unsigned int first = 0, after = 0;
				char ls[8], ee[8], dt[40];

				if (early->start != 0 || b == a)
					continue;
				for (int d = 0; d < 7; d++) {
					int prev = (d + 6) % 7, next = (d + 1) % 7;

					if ((days & (1u << d)) &&
					    !(days & (1u << prev)))
						first |= 1u << d;
					if ((days & (1u << d)) &&
					    !(days & (1u << next)))
						after |= 1u << next;
				}
				hhmm((unsigned int)late->start, ls, sizeof(ls));
				hhmm((unsigned int)early->end, ee, sizeof(ee));
				days_text(first, dt, sizeof(dt));
				{
					char at[40];

					days_text(after, at, sizeof(at));
					diag_add(c->d, &early->loc,
						 DIAG_WARNING, "W08", NULL,
						 "schedule \"%s\": \"%s-24:00\" "
						 "and \"00:00-%s\" on the same "
						 "days open %s 00:00-%s and leave "
						 "%s 00:00-%s closed; for one "
						 "range across midnight write "
						 "\"%s-%s\"", s->name, ls, ee,
						 dt, ee, at, ee, ls, ee);
				}
			}
		}
		if (!s->n_holidays)
			continue;
		for (int yr = y; yr <= y + 1; yr++) {
			int32_t lo = days_from_civil(yr, 1, 1);
			int32_t hi = days_from_civil(yr + 1, 1, 1);
			bool any = false;

			for (size_t k = 0; k < s->n_holidays && !any; k++)
				any = s->holidays[k] >= lo &&
				      s->holidays[k] < hi;
			if (!any)
				diag_add(c->d, &s->loc, DIAG_WARNING, "W09",
					 NULL, "schedule \"%s\": its holidays "
					 "have no date in %d; a ruleset in "
					 "use then opens on that year's "
					 "holidays: extend the list", s->name,
					 yr);
		}
	}
}

/*
 * gateway.ha. The sync link carries the connection state of every tier
 * (conntrackd) and sanso's replication, so it must be a link of its own:
 * an interface shared with a zone is E006, and node addresses inside a
 * zone's networks (a default route aside) put that traffic, and the
 * VRRP pair's control, on one tier's segment: W10.
 */
static void check_ha(struct ck *c)
{
	const struct model *m = c->m;
	const struct ha_conf *ha = &m->gateway.ha;

	if (!ha->present)
		return;
	if (ha->n_nodes == 2 && ha->nodes[0].family && ha->nodes[1].family) {
		char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

		prefix_format(&ha->nodes[0], a, sizeof(a));
		prefix_format(&ha->nodes[1], b, sizeof(b));
		if (ha->nodes[0].family != ha->nodes[1].family)
			diag_add(c->d, &ha->node_loc[1], DIAG_ERROR, "E002",
				 NULL, "gateway.ha.nodes %s and %s are of two "
				 "families; the sync link needs one", a, b);
		else if (!strcmp(a, b))
			diag_add(c->d, &ha->node_loc[1], DIAG_ERROR, "E002",
				 NULL, "gateway.ha.nodes names %s twice; a "
				 "pair is two nodes", a);
	}
	for (size_t z = 0; ha->sync_iface && z < m->n_zones; z++)
		for (size_t i = 0; i < m->zones[z].n_ifaces; i++)
			if (m->zones[z].ifaces[i].name &&
			    !strcmp(m->zones[z].ifaces[i].name, ha->sync_iface))
				diag_add(c->d, &ha->sync_loc, DIAG_ERROR,
					 "E006", NULL, "sync interface \"%s\" "
					 "is also an interface of zone \"%s\" "
					 "(%s): the connection state of every "
					 "tier would cross that segment",
					 ha->sync_iface, m->zones[z].name,
					 tier_name(m->zones[z].tier));
	for (size_t n = 0; n < ha->n_nodes; n++) {
		for (size_t z = 0; z < m->n_zones; z++) {
			const struct zone *zn = &m->zones[z];
			bool in = false;
			char a[PREFIX_STRLEN];

			for (size_t k = 0; k < zn->n_nets && !in; k++)
				in = zn->nets[k].p.len > 0 &&
				     prefix_contains(&zn->nets[k].p,
						     &ha->nodes[n]);
			if (!in)
				continue;
			prefix_format(&ha->nodes[n], a, sizeof(a));
			diag_add(c->d, &ha->node_loc[n], DIAG_WARNING, "W10",
				 NULL, "gateway.ha node %s lies in zone \"%s\" "
				 "(%s): VRRP's pair, conntrackd's state of "
				 "every tier and sanso's replication would "
				 "cross that tier; give the sync link "
				 "addresses of its own", a, zn->name,
				 tier_name(zn->tier));
			break;
		}
	}
}

/* Every T finding says which point of the guideline it enforces. */
static void note_points(struct diags *d, size_t first)
{
	for (size_t i = first; i < d->n; i++) {
		const struct check_code *cc = check_code_find(d->v[i].code);

		if (!cc || !cc->point || d->v[i].note)
			continue;
		if (asprintf(&d->v[i].note, "%s: %s (sanso check --explain %s)",
			     cc->point, cc->intent, cc->code) < 0)
			d->v[i].note = NULL;
	}
}

unsigned int check_model(const struct model *m, int32_t today,
			 struct diags *d)
{
	unsigned int before = d->errors;
	size_t first = d->n;
	struct ck c = { .m = m, .d = d, .today = today };
	size_t n = m->n_flows ? m->n_flows : 1;
	struct loc file = { .file = m->path };

	check_structure(m, d);

	c.t8_waived = calloc(n, sizeof(*c.t8_waived));
	c.t8_broken = calloc(n, sizeof(*c.t8_broken));
	c.t8_msgs = calloc(n, sizeof(*c.t8_msgs));
	if (c.t8_waived && c.t8_broken && c.t8_msgs) {
		for (size_t i = 0; i < m->n_flows; i++)
			c.t8_waived[i] = waiver_rule(&m->flows[i], today) == 8;
		check_t8(&c);
	} else {
		c.t8_nomem = true;
		free(c.t8_msgs);
		c.t8_msgs = NULL;
	}

	check_schedules(&c);
	for (size_t i = 0; i < m->n_flows; i++)
		check_flow(&c, i);
	if (c.t8_cut)
		diag_add(d, &file, DIAG_WARNING, "T8", NULL,
			 "path search stopped after %d steps; paths into or "
			 "out of mynumber may be unreported", T8_MAX_STEPS);
	if (c.t8_nomem)
		diag_add(d, &file, DIAG_WARNING, "T8", NULL,
			 "path search skipped: out of memory");

	check_w07(&c);
	check_gateway(&c);
	check_ha(&c);
	note_points(d, first);

	strset_free(&c.seen);
	u64set_free(&c.t8_seen);
	if (c.t8_msgs)
		for (size_t i = 0; i < m->n_flows; i++)
			pendv_free(&c.t8_msgs[i]);
	free(c.t8_msgs);
	free(c.t8_broken);
	free(c.t8_waived);
	return d->errors - before;
}
