// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The monitor's judgement. The conntrack path runs for every new
 * connection the gateway sees, so it allocates nothing: the tables it
 * keeps (flows already reported, drops being aggregated, the gateway's
 * addresses) are fixed arrays, and a collision costs at most one more
 * alert, which the alerter's dedup folds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "check.h"
#include "i18n.h"
#include "monitor.h"
#include "replay.h"
#include "sched.h"

#define REPORTED_SLOTS	16384	/* connections already reported */
#define BLOCKED_SLOTS	1024	/* drops aggregated, pair and source */
#define LOCAL_MAX	1024	/* addresses of the gateway */
/* FQDN set elements known to be armed; a collision costs one element
 * read from the kernel. */
#define FQDN_SLOTS	4096
/* How long an element the kernel holds without a timeout is believed
 * before it is asked again. */
#define FQDN_NO_TIMEOUT_MS	60000

struct reported {
	uint32_t id, hash;	/* hash 0: empty */
};

struct blocked {
	bool used;
	bool gateway;		/* dropped at the gateway's input */
	int sz, dz;
	struct prefix src;
	time_t until;		/* the aggregation window ends */
	uint64_t more;		/* drops after the one reported */
	struct alert last;
};

/* An FQDN set element nothing learned, reported until it is gone. */
struct foreign {
	char set[64];
	uint8_t family;
	uint8_t addr[16];
	uint64_t round;		/* the last check that listed it */
	bool said;		/* seen at two checks in a row: reported */
};

struct fqdn_known {
	int64_t until_ms;	/* 0: empty */
	int set;
	struct prefix addr;
};

/* Elements remembered; past it one alert says so, and the rest are not
 * reported one by one. */
#define FOREIGN_MAX	1024
/* Seconds between two listings of the FQDN sets (at most). */
#define FOREIGN_EVERY 60

struct monitor {
	struct monitor_setup conf;
	const struct policy *p;
	const struct model *m;
	int8_t *sched_open;	/* per schedule: -1 unknown, 0, 1 */
	bool *windowed;		/* per schedule: dated, enforced */
	struct reported reported[REPORTED_SLOTS];
	struct blocked blocked[BLOCKED_SLOTS];
	struct prefix local[LOCAL_MAX];
	size_t n_local;
	bool have_seq;
	uint32_t last_seq;
	uint64_t gaps_pending;
	time_t last_tick, last_drift;
	time_t changed_first, changed_last;	/* a burst of table events */
	time_t last_foreign;
	bool have_baseline;
	/* What drift is judged against when no deployment can be read:
	 * the last one read, else the live table as first found. */
	char baseline[65];
	char baseline_table[72];
	bool baseline_deployed;
	int deploy_err;		/* the deployment's read error last
				 * reported, 0 none */
	char drift_seen[65];	/* the live digest last reported, "" none */
	struct foreign *foreign;	/* FQDN set elements nothing learned */
	size_t n_foreign;
	uint64_t foreign_round;
	bool foreign_full;	/* FOREIGN_MAX reached, said once */
	struct fqdn_known fqdn[FQDN_SLOTS];
	/* The judgement under way: its time, and the FQDN set that could
	 * not be read (-1 none) with the error. */
	int64_t judge_ms;
	int fqdn_err_set;
	int fqdn_err;
	enum monitor_role role;
	struct timespec master_since;
	struct monitor_stats st;
};

/* ---- helpers ---- */

static void emit(struct monitor *mon, const struct alert *a)
{
	mon->st.alerts[a->type]++;
	mon->conf.emit(mon->conf.ctx, a);
}

/* A connection alert on a node that is not the pair's master: counted,
 * not reported (the master reports it, include/monitor.h). */
static bool quiet(struct monitor *mon)
{
	if (mon->role != MONITOR_BACKUP)
		return false;
	mon->st.ha_quiet++;
	return true;
}

static void alert_init(struct alert *a, enum alert_type type,
		       const struct timespec *ts)
{
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->time = *ts;
	a->src_tier = a->dst_tier = -1;
	a->count = 1;
}

static void set_zones(const struct monitor *mon, struct alert *a, int sz,
		      int dz)
{
	const struct model *m = mon->m;

	if (sz >= 0 && (size_t)sz < m->n_zones) {
		snprintf(a->src_zone, sizeof(a->src_zone), "%s",
			 m->zones[sz].name);
		a->src_tier = (int)m->zones[sz].tier;
	}
	if (dz >= 0 && (size_t)dz < m->n_zones) {
		snprintf(a->dst_zone, sizeof(a->dst_zone), "%s",
			 m->zones[dz].name);
		a->dst_tier = (int)m->zones[dz].tier;
	}
	snprintf(a->rule, sizeof(a->rule), "%s",
		 check_pair_rule(a->src_tier, a->dst_tier) ?: "");
}

static void set_message(struct alert *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_message(struct alert *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), alert_text(fmt), ap);
	va_end(ap);
}

static const char *zone_name(const struct monitor *mon, int z)
{
	return z >= 0 && (size_t)z < mon->m->n_zones ? mon->m->zones[z].name
						     : "?";
}

static void service_text(uint8_t proto, uint16_t port, bool has_port,
			 char *buf, size_t n)
{
	struct service sv = { proto, port, port };
	const char *name = proto_name(proto);

	if (!name) {
		snprintf(buf, n, "proto %u", proto);
	} else if (has_port) {
		service_format(&sv, buf, n);
	} else {
		snprintf(buf, n, "%s", name);
	}
}

static uint32_t mix32(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x01000193u;
	return h ^ (h >> 15);
}

static uint32_t prefix_hash(uint32_t h, const struct prefix *p)
{
	uint32_t w;
	int i;

	h = mix32(h, p->family);
	for (i = 0; i < (p->family == AF_INET ? 4 : 16); i += 4) {
		memcpy(&w, p->addr + i, 4);
		h = mix32(h, w);
	}
	return h;
}

/* Loopback, link-local, multicast, broadcast, unspecified: never
 * routed, so never a zone's traffic. */
static bool link_scope(const struct prefix *a)
{
	static const uint8_t zero[15];
	const uint8_t *b = a->addr;

	if (a->family == AF_INET)
		return b[0] == 127 || b[0] == 0 || b[0] >= 224 ||
		       (b[0] == 169 && b[1] == 254);
	return b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
	       (!memcmp(b, zero, 15) && b[15] <= 1);	/* :: and ::1 */
}

/* Never forwarded, or the gateway's own: not the policy's business. */
static bool not_forwarded(const struct monitor *mon, const struct prefix *a)
{
	size_t i;

	if (link_scope(a))
		return true;
	for (i = 0; i < mon->n_local; i++)
		if (prefix_equal(&mon->local[i], a))
			return true;
	return false;
}

/* ---- FQDN set membership ---- */

static struct fqdn_known *fqdn_slot(struct monitor *mon, int set,
				    const struct prefix *addr)
{
	uint32_t h = prefix_hash(mix32(0x51ed270bu, (uint32_t)set), addr);

	return &mon->fqdn[h % FQDN_SLOTS];
}

void monitor_fqdn_armed(struct monitor *mon, int set, const struct prefix *addr,
			int64_t until_ms)
{
	struct fqdn_known *k = fqdn_slot(mon, set, addr);

	if (k->until_ms > until_ms && k->set == set &&
	    prefix_equal(&k->addr, addr))
		return;		/* a longer answer already stands */
	k->until_ms = until_ms;
	k->set = set;
	k->addr = *addr;
}

/*
 * What the monitor learned first (the guard's arms, earlier answers of
 * the kernel), then the kernel's element itself: never a copy of the
 * set read some time ago, since the guard adds addresses all the time
 * and a permitted connection would be judged a bypass. An element that
 * cannot be read is remembered for the message.
 */
static bool fqdn_in(void *ctx, int set, const struct prefix *addr)
{
	struct monitor *mon = ctx;
	const struct monitor_ops *o = &mon->conf.ops;
	struct fqdn_known *k = fqdn_slot(mon, set, addr);
	uint64_t left = 0;
	int r;

	if (!o->fqdn_element)
		return true;	/* a replay cannot know: assume it is */
	if (k->until_ms > mon->judge_ms && k->set == set &&
	    prefix_equal(&k->addr, addr))
		return true;
	r = o->fqdn_element(o->ctx, set, addr, &left);
	if (r < 0) {
		if (mon->fqdn_err_set < 0) {
			mon->fqdn_err_set = set;
			mon->fqdn_err = r;
		}
		return false;
	}
	if (!r)
		return false;
	monitor_fqdn_armed(mon, set, addr, mon->judge_ms +
			   (int64_t)(left ? left : FQDN_NO_TIMEOUT_MS));
	return true;
}

static void decide(struct monitor *mon, const struct pol_query *q,
		   const struct timespec *when, struct pol_decision *d)
{
	mon->judge_ms = (int64_t)when->tv_sec * 1000 + when->tv_nsec / 1000000;
	mon->fqdn_err_set = -1;
	mon->fqdn_err = 0;
	policy_decide(mon->p, q, fqdn_in, mon, d);
}

/* The query for a connection as the forward chain saw its first packet:
 * the original source, and the destination after DNAT, which is where
 * the replies come from. */
static void ct_query(const struct ct_event *ev, time_t when,
		     struct pol_query *q, bool *has_port)
{
	const struct ct_tuple *o = &ev->orig;

	memset(q, 0, sizeof(*q));
	q->src = o->src;
	q->dst = ev->has_reply ? ev->reply.src : o->dst;
	q->proto = o->proto;
	q->when = when;
	*has_port = true;
	if (o->has_ports)
		q->port = ev->has_reply && ev->reply.has_ports ?
			  ev->reply.sport : o->dport;
	else if (o->has_icmp)
		q->port = o->icmp_type;
	else
		*has_port = false;
}

/* ---- connections already reported ---- */

static uint32_t ct_hash(const struct ct_event *ev)
{
	uint32_t h = 0x811c9dc5u;

	h = prefix_hash(h, &ev->orig.src);
	h = prefix_hash(h, &ev->orig.dst);
	h = mix32(h, (uint32_t)ev->orig.proto << 16 | ev->orig.sport);
	h = mix32(h, (uint32_t)ev->orig.dport << 16 | ev->orig.icmp_id);
	return h ? h : 1;
}

static struct reported *reported_slot(struct monitor *mon,
				      const struct ct_event *ev, uint32_t h)
{
	return &mon->reported[mix32(h, ev->id) % REPORTED_SLOTS];
}

static bool reported_check(struct monitor *mon, const struct ct_event *ev)
{
	uint32_t h = ct_hash(ev);
	struct reported *r = reported_slot(mon, ev, h);

	if (r->hash == h && r->id == ev->id)
		return true;
	r->hash = h;
	r->id = ev->id;
	return false;
}

static void reported_forget(struct monitor *mon, const struct ct_event *ev)
{
	uint32_t h = ct_hash(ev);
	struct reported *r = reported_slot(mon, ev, h);

	if (r->hash == h && r->id == ev->id)
		r->hash = 0;
}

/* ---- conntrack ---- */

void monitor_ct_event(struct monitor *mon, const struct ct_event *ev,
		      const struct timespec *ts)
{
	const struct model *m = mon->m;
	struct pol_decision d;
	struct pol_query q;
	struct timespec when = *ts;
	struct alert a;
	char svc[SERVICE_STRLEN], dst[PREFIX_STRLEN], nat[PREFIX_STRLEN + 16];
	bool has_port;

	switch (ev->kind) {
	case CT_DESTROY:
		mon->st.ct_destroy++;
		reported_forget(mon, ev);
		return;
	case CT_UPDATE:
		mon->st.ct_update++;
		return;
	case CT_NEW:
		mon->st.ct_new++;
		break;
	case CT_DUMP:
		mon->st.ct_dump++;
		break;
	}
	if (ev->status & CT_STATUS_EXPECTED) {
		mon->st.related++;
		return;
	}
	if (ev->start_ns) {
		when.tv_sec = (time_t)(ev->start_ns / 1000000000u);
		when.tv_nsec = (long)(ev->start_ns % 1000000000u);
	}
	ct_query(ev, when.tv_sec, &q, &has_port);
	if (not_forwarded(mon, &q.src) || not_forwarded(mon, &q.dst)) {
		mon->st.local++;
		return;
	}
	mon->st.judged++;
	decide(mon, &q, &when, &d);
	if (d.verdict == POL_LOCAL)
		return;
	if (d.verdict == POL_ACCEPT) {
		const struct flow *f = &m->flows[d.rule->flow];

		if (f->alert_outside < 0 ||
		    schedule_open(m, &m->schedules[f->alert_outside],
				  q.when))
			return;
	}
	if (quiet(mon))
		return;
	/* Committed at failover before the role file said master (the
	 * notify script writes it last): the old master's to report. */
	if (mon->role == MONITOR_MASTER &&
	    (when.tv_sec < mon->master_since.tv_sec ||
	     (when.tv_sec == mon->master_since.tv_sec &&
	      when.tv_nsec < mon->master_since.tv_nsec))) {
		mon->st.ha_carried++;
		return;
	}
	if (reported_check(mon, ev))
		return;

	alert_init(&a, d.verdict == POL_ACCEPT ? ALERT_OFF_HOURS
					       : ALERT_CROSS_ZONE, &when);
	set_zones(mon, &a, d.src_zone, d.dst_zone);
	a.proto = q.proto;
	a.has_addrs = true;
	a.src = q.src;
	a.dst = q.dst;
	a.sport = ev->orig.has_ports ? ev->orig.sport : 0;
	a.dport = has_port ? q.port : 0;
	service_text(q.proto, q.port, has_port, svc, sizeof(svc));
	nat[0] = '\0';
	if (!prefix_equal(&ev->orig.dst, &q.dst)) {
		prefix_format(&ev->orig.dst, dst, sizeof(dst));
		snprintf(nat, sizeof(nat), alert_text(" (DNAT from %s)"), dst);
	}
	switch (d.verdict) {
	case POL_ACCEPT: {
		const struct flow *f = &m->flows[d.rule->flow];

		snprintf(a.flow, sizeof(a.flow), "%s", f->name);
		set_message(&a, "%s -> %s %s: flow \"%s\" used outside "
			    "schedule \"%s\"%s", zone_name(mon, d.src_zone),
			    zone_name(mon, d.dst_zone), svc, f->name,
			    m->schedules[f->alert_outside].name, nat);
		break;
	}
	case POL_CLOSED: {
		const struct flow *f = &m->flows[d.rule->flow];

		set_message(&a, "%s -> %s %s: flow \"%s\" permits it only "
			    "inside schedule \"%s\"; the ruleset was bypassed "
			    "or changed%s", zone_name(mon, d.src_zone),
			    zone_name(mon, d.dst_zone), svc, f->name,
			    m->schedules[f->schedule].name, nat);
		break;
	}
	case POL_UNKNOWN:
		prefix_format(d.src_zone < 0 ? &q.src : &q.dst, dst,
			      sizeof(dst));
		set_message(&a, "%s lies in no zone (%s); the ruleset was "
			    "bypassed or changed%s", dst, svc, nat);
		break;
	default:
		if (mon->fqdn_err_set >= 0 && d.fqdn_miss) {
			/* Not known to be a bypass: say what is not known. */
			prefix_format(&q.dst, dst, sizeof(dst));
			snprintf(a.flow, sizeof(a.flow), "%s",
				 m->flows[d.fqdn_miss->flow].name);
			set_message(&a, "%s -> %s %s: flow \"%s\" permits it "
				    "if %s is in fqdn:%s, which could not be "
				    "read (%s): not settled whether the "
				    "ruleset was bypassed%s",
				    zone_name(mon, d.src_zone),
				    zone_name(mon, d.dst_zone), svc,
				    m->flows[d.fqdn_miss->flow].name, dst,
				    m->fqdn_sets[mon->fqdn_err_set].name,
				    strerror(-mon->fqdn_err), nat);
			break;
		}
		set_message(&a, "%s -> %s %s: no flow permits it; the ruleset "
			    "was bypassed or changed%s",
			    zone_name(mon, d.src_zone),
			    zone_name(mon, d.dst_zone), svc, nat);
		break;
	}
	if (ev->kind == CT_DUMP) {
		size_t l = strlen(a.message);

		snprintf(a.message + l, sizeof(a.message) - l, "%s",
			 alert_text(" (found by reading the conntrack "
				    "table)"));
	}
	emit(mon, &a);
}

/* ---- drops (nflog) ---- */

static struct blocked *blocked_slot(struct monitor *mon, int sz, int dz,
				    bool gw, const struct prefix *src)
{
	uint32_t h = mix32(0x9e3779b9u, (uint32_t)sz << 16 ^ (uint32_t)dz ^
			   (gw ? 0x80000000u : 0));

	return &mon->blocked[prefix_hash(h, src) % BLOCKED_SLOTS];
}

static void blocked_flush(struct monitor *mon, struct blocked *b)
{
	if (b->used && b->more) {
		char src[PREFIX_STRLEN];
		struct alert a = b->last;

		prefix_format(&b->src, src, sizeof(src));
		a.count = b->more;
		set_message(&a, "%" PRIu64 " more dropped packet%s from %s "
			    "to %s within %u s (the last shown)", b->more,
			    b->more == 1 ? "" : "s", src,
			    b->gateway ? "the gateway" :
			    zone_name(mon, b->dz),
			    mon->m->monitor.dedup_seconds);
		emit(mon, &a);
	}
	b->used = false;
	b->more = 0;
}

/* "A>B" after "sanso:": a zone name, or "*" (an interface pair the
 * ruleset does not know: the address decides). */
static int prefix_zone(const struct monitor *mon, const char *s, size_t n,
		       const struct prefix *addr)
{
	char name[NFLOG_PREFIX_MAX];
	int z = -1;

	if (n < sizeof(name) && !(n == 1 && s[0] == '*')) {
		memcpy(name, s, n);
		name[n] = '\0';
		z = model_zone(mon->m, name);
	}
	if (z < 0)
		policy_classify(mon->p, addr, &z, NULL);
	return z;
}

static void check_seq(struct monitor *mon, const struct nflog_pkt *p)
{
	uint32_t gap;

	if (!p->has_seq)
		return;
	gap = p->seq - mon->last_seq - 1;
	/* A jump backwards is a new instance (the group was bound
	 * again), not a loss. */
	if (mon->have_seq && gap && gap < 0x80000000u) {
		mon->gaps_pending += gap;
		mon->st.nflog_gaps += gap;
	}
	mon->have_seq = true;
	mon->last_seq = p->seq;
}

static bool fqdn_never(void *ctx, int set, const struct prefix *addr)
{
	(void)ctx;
	(void)set;
	(void)addr;
	return false;
}

/* A forwarded drop. When a flow from its source would have permitted it
 * had the destination been in the flow's FQDN set, the alert names both
 * (what a SOC asks first when an update relay stops downloading). The
 * kernel dropped it, so the set did not hold it: the policy is asked
 * with every set empty. */
static void blocked_why(struct monitor *mon, const struct nflog_pkt *p,
			const struct timespec *when, struct alert *a,
			const char *svc)
{
	const struct model *m = mon->m;
	struct pol_decision d;
	struct pol_query q;
	char dst[PREFIX_STRLEN];

	memset(&q, 0, sizeof(q));
	q.src = p->src;
	q.dst = p->dst;
	q.proto = p->proto;
	q.port = a->dport;
	q.when = when->tv_sec;
	policy_decide(mon->p, &q, fqdn_never, NULL, &d);
	if (d.verdict == POL_ACCEPT || !d.fqdn_miss) {
		set_message(a, "%s -> %s %s: dropped", a->src_zone[0] ?
			    a->src_zone : "?", a->dst_zone[0] ? a->dst_zone
							      : "?", svc);
		return;
	}
	prefix_format(&p->dst, dst, sizeof(dst));
	snprintf(a->flow, sizeof(a->flow), "%s",
		 m->flows[d.fqdn_miss->flow].name);
	set_message(a, "%s -> %s %s: dropped; %s allows fqdn:%s; %s is not "
		    "in it", a->src_zone[0] ? a->src_zone : "?",
		    a->dst_zone[0] ? a->dst_zone : "?", svc,
		    m->flows[d.fqdn_miss->flow].name,
		    m->fqdn_sets[d.fqdn_miss->dst_fqdn].name, dst);
}

void monitor_nflog(struct monitor *mon, const struct nflog_pkt *p,
		   const struct timespec *ts)
{
	const char *s = p->prefix, *gt;
	struct timespec when = p->has_time ? p->time : *ts;
	char svc[SERVICE_STRLEN];
	struct blocked *b;
	struct alert a;
	bool gw;
	int sz, dz;

	mon->st.nflog++;
	check_seq(mon, p);
	if (strncmp(s, "sanso:", 6))
		return;
	s += 6;
	if (!strncmp(s, "flow:", 5)) {
		/* A new connection of a `log: true` flow (maintenance, T7):
		 * permitted, but the record is what the flag asks for. */
		mon->st.nflog_flow++;
		if (!p->has_ip || quiet(mon))
			return;
		sz = prefix_zone(mon, "*", 1, &p->src);
		dz = prefix_zone(mon, "*", 1, &p->dst);
		alert_init(&a, ALERT_LOGGED, &when);
		set_zones(mon, &a, sz, dz);
		a.proto = p->proto;
		a.has_addrs = true;
		a.src = p->src;
		a.dst = p->dst;
		a.sport = p->has_ports ? p->sport : 0;
		a.dport = p->has_ports ? p->dport : p->has_icmp ?
			  p->icmp_type : 0;
		snprintf(a.flow, sizeof(a.flow), "%.31s", s + 5);
		for (size_t i = 0; i < mon->m->n_flows; i++)
			if (mon->m->flows[i].name &&
			    !strcmp(mon->m->flows[i].name, a.flow) &&
			    check_flow_is_maintenance(mon->m,
						      &mon->m->flows[i]))
				snprintf(a.rule, sizeof(a.rule), "T7");
		service_text(p->proto, a.dport, p->has_ports || p->has_icmp,
			     svc, sizeof(svc));
		set_message(&a, "%s -> %s %s: connection permitted by flow "
			    "\"%s\" (log: true)", zone_name(mon, sz),
			    zone_name(mon, dz), svc, a.flow);
		emit(mon, &a);
		return;
	}
	gt = strchr(s, '>');
	/* Neighbour and router discovery, DHCP, mDNS dropped at the
	 * input: the link's chatter, not an attempt to cross a zone. */
	if (!gt || !p->has_ip || link_scope(&p->src) || link_scope(&p->dst)) {
		mon->st.nflog_link++;
		return;
	}
	if (quiet(mon))
		return;
	gw = !strcmp(gt + 1, "gateway");
	sz = prefix_zone(mon, s, (size_t)(gt - s), &p->src);
	dz = gw ? -1 : prefix_zone(mon, gt + 1, strlen(gt + 1), &p->dst);

	alert_init(&a, ALERT_BLOCKED, &when);
	set_zones(mon, &a, sz, dz);
	a.proto = p->proto;
	a.has_addrs = true;
	a.src = p->src;
	a.dst = p->dst;
	a.sport = p->has_ports ? p->sport : 0;
	a.dport = p->has_ports ? p->dport : p->has_icmp ? p->icmp_type : 0;
	service_text(p->proto, a.dport, p->has_ports || p->has_icmp, svc,
		     sizeof(svc));
	if (gw) {
		set_message(&a, "%s -> the gateway %s: dropped (input)",
			    zone_name(mon, sz), svc);
	} else {
		blocked_why(mon, p, &when, &a, svc);
	}

	if (!mon->m->monitor.dedup_seconds) {
		emit(mon, &a);
		return;
	}
	b = blocked_slot(mon, sz, dz, gw, &p->src);
	if (b->used && b->sz == sz && b->dz == dz && b->gateway == gw &&
	    prefix_equal(&b->src, &p->src) && when.tv_sec < b->until) {
		b->more++;
		b->last = a;
		return;
	}
	blocked_flush(mon, b);
	emit(mon, &a);
	b->used = true;
	b->gateway = gw;
	b->sz = sz;
	b->dz = dz;
	b->src = p->src;
	b->until = when.tv_sec + (time_t)mon->m->monitor.dedup_seconds;
	b->more = 0;
	b->last = a;
}

/* ---- the gateway's addresses (rtnetlink) ---- */

void monitor_local_addr(struct monitor *mon, const struct prefix *a, bool add)
{
	size_t i;

	for (i = 0; i < mon->n_local; i++)
		if (prefix_equal(&mon->local[i], a))
			break;
	if (add && i == mon->n_local && mon->n_local < LOCAL_MAX)
		mon->local[mon->n_local++] = *a;
	else if (!add && i < mon->n_local)
		mon->local[i] = mon->local[--mon->n_local];
}

static void addr_msg(struct monitor *mon, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa;
	const struct nlattr *attr, *local = NULL, *address = NULL;
	const struct nlattr *use;
	struct prefix p;
	size_t alen;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*ifa))
		return;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = attr;
	}
	/* IPv4 puts the local address in IFA_LOCAL (IFA_ADDRESS is the
	 * peer on a point-to-point link); IPv6 in IFA_ADDRESS. */
	use = local ? local : address;
	if (!use || mnl_attr_get_payload_len(use) < alen)
		return;
	memset(&p, 0, sizeof(p));
	p.family = ifa->ifa_family;
	p.len = (uint8_t)(alen * 8);
	memcpy(p.addr, mnl_attr_get_payload(use), alen);
	monitor_local_addr(mon, &p, nlh->nlmsg_type == RTM_NEWADDR);
}

/* ---- feeding ---- */

int monitor_feed(struct monitor *mon, int proto, const void *buf, size_t len,
		 const struct timespec *ts)
{
	const struct nlmsghdr *nlh;
	size_t off = 0;
	int ret = 0;

	while ((nlh = nlmsg_walk(buf, len, &off))) {
		mon->st.messages++;
		if (nlh->nlmsg_type == NLMSG_DONE) {
			ret |= MONITOR_FEED_DONE;
		} else if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(*e) &&
			    e->error)
				ret |= MONITOR_FEED_ERROR;
		} else if (nlh->nlmsg_type < NLMSG_MIN_TYPE ||
			   (nlh->nlmsg_flags & NLM_F_REQUEST)) {
			/* a request another program sent, in a capture */
		} else if (proto == NETLINK_NETFILTER) {
			switch (NFNL_SUBSYS_ID(nlh->nlmsg_type)) {
			case NFNL_SUBSYS_CTNETLINK: {
				struct ct_event ev;
				int r = ct_parse(nlh, &ev);

				if (!r)
					monitor_ct_event(mon, &ev, ts);
				else if (r == -EINVAL)
					mon->st.malformed++;
				break;
			}
			case NFNL_SUBSYS_ULOG: {
				struct nflog_pkt pkt;
				int r = nflog_parse(nlh, &pkt);

				if (!r)
					monitor_nflog(mon, &pkt, ts);
				else if (r == -EINVAL)
					mon->st.malformed++;
				break;
			}
			default:
				break;
			}
		} else if (proto == NETLINK_ROUTE &&
			   (nlh->nlmsg_type == RTM_NEWADDR ||
			    nlh->nlmsg_type == RTM_DELADDR)) {
			addr_msg(mon, nlh);
		}
	}
	return ret;
}

/* ---- alerts without a packet ---- */

void monitor_overrun(struct monitor *mon, const struct timespec *ts,
		     uint64_t n, const char *what)
{
	struct alert a;

	mon->st.lost += n;
	alert_init(&a, ALERT_OVERRUN, ts);
	a.count = n ? n : 1;
	set_message(&a, MSG_AS_IS, what);
	emit(mon, &a);
}

void monitor_config_error(struct monitor *mon, const struct timespec *ts,
			  const char *message)
{
	struct alert a;

	alert_init(&a, ALERT_CONFIG_ERROR, ts);
	set_message(&a, MSG_AS_IS, message);
	emit(mon, &a);
}

/* ---- maintenance windows ---- */

struct sweep {
	struct monitor *mon;
	int sched;
	time_t now;
	unsigned int *per_flow;
};

/* An entry goes when its original direction would now meet the closed
 * schedule of a flow: exactly the connections the window let in. */
static bool sweep_match(void *arg, const struct ct_event *ev)
{
	struct sweep *s = arg;
	const struct model *m = s->mon->m;
	struct pol_decision d;
	struct pol_query q;
	struct timespec when = { s->now, 0 };
	bool has_port;

	ct_query(ev, s->now, &q, &has_port);
	decide(s->mon, &q, &when, &d);
	if (d.verdict != POL_CLOSED || !d.rule ||
	    m->flows[d.rule->flow].schedule != s->sched)
		return false;
	s->per_flow[d.rule->flow]++;
	return true;
}

static void window_closed(struct monitor *mon, int sched,
			  const struct timespec *now)
{
	const struct model *m = mon->m;
	const struct monitor_ops *o = &mon->conf.ops;
	struct sweep s = { mon, sched, now->tv_sec, NULL };
	size_t f, i;
	int n = 0;

	s.per_flow = calloc(m->n_flows ? m->n_flows : 1,
			    sizeof(*s.per_flow));
	if (o->ct_sweep && s.per_flow)
		n = o->ct_sweep(o->ctx, sweep_match, &s);
	if (n > 0)
		mon->st.swept += (uint64_t)n;
	for (f = 0; f < m->n_flows; f++) {
		const struct pol_rule *r = NULL;
		unsigned int k = s.per_flow ? s.per_flow[f] : 0;
		struct alert a;

		/* The sweep above ran all the same: the backup's kernel
		 * must not keep what the window let in either. */
		if (m->flows[f].schedule != sched || quiet(mon))
			continue;
		for (i = 0; i < mon->p->n_rules && !r; i++)
			if (mon->p->rules[i].flow == (int)f)
				r = &mon->p->rules[i];
		alert_init(&a, ALERT_MAINTENANCE_CLOSED, now);
		if (r)
			set_zones(mon, &a, r->src_zone, r->dst_zone);
		snprintf(a.rule, sizeof(a.rule), "%s",
			 check_flow_is_maintenance(m, &m->flows[f]) ? "T7" :
			 a.rule);
		snprintf(a.flow, sizeof(a.flow), "%s", m->flows[f].name);
		if (!o->ct_sweep)
			set_message(&a, "window of schedule \"%s\" ended "
				    "(replay: conntrack left as it was)",
				    m->schedules[sched].name);
		else if (n < 0 || !s.per_flow)
			set_message(&a, "window of schedule \"%s\" ended; "
				    "removing its connections failed: %s",
				    m->schedules[sched].name,
				    strerror(n < 0 ? -n : ENOMEM));
		else
			set_message(&a, "window of schedule \"%s\" ended; %u "
				    "connection%s removed from conntrack",
				    m->schedules[sched].name, k,
				    k == 1 ? "" : "s");
		emit(mon, &a);
	}
	free(s.per_flow);
}

static void schedules_tick(struct monitor *mon, const struct timespec *now)
{
	const struct model *m = mon->m;
	size_t s;

	for (s = 0; s < m->n_schedules; s++) {
		bool open;

		if (!mon->windowed[s])
			continue;
		open = schedule_open(m, &m->schedules[s], now->tv_sec);
		if (mon->sched_open[s] == 1 && !open)
			window_closed(mon, (int)s, now);
		mon->sched_open[s] = open;
	}
}

/* ---- drift ---- */

/* The live table as the monitor found it: what drift is judged against
 * when there has been no deployment to compare with. */
static int take_baseline(struct monitor *mon, const char *table)
{
	const struct monitor_ops *o = &mon->conf.ops;
	int r = o->live_digest(o->ctx, table, mon->baseline);

	if (r == -ENOENT)
		snprintf(mon->baseline, sizeof(mon->baseline), "absent");
	else if (r < 0)
		return r;
	snprintf(mon->baseline_table, sizeof(mon->baseline_table), "%s",
		 table);
	mon->have_baseline = true;
	mon->baseline_deployed = false;
	return 0;
}

/* A deployment that cannot be read must not silence drift detection: it
 * is said once per distinct error, and the last deployment read (else
 * the table found at start) stands in. */
static void deploy_unreadable(struct monitor *mon, int err,
			      const struct timespec *now)
{
	const char *dir = mon->conf.state_dir;
	struct alert a;

	if (err == mon->deploy_err)
		return;
	mon->deploy_err = err;
	alert_init(&a, ALERT_CONFIG_ERROR, now);
	if (mon->baseline_deployed)
		set_message(&a, "cannot read the deployment%s%s: %s; drift is "
			    "judged against the deployed ruleset last read",
			    dir ? alert_text(" in ") : "", dir ? dir : "",
			    strerror(-err));
	else
		set_message(&a, "cannot read the deployment%s%s: %s; drift is "
			    "judged against table inet %s as found at start",
			    dir ? alert_text(" in ") : "", dir ? dir : "", strerror(-err),
			    mon->have_baseline ? mon->baseline_table :
			    mon->conf.table ? mon->conf.table : "sanso");
	emit(mon, &a);
}

static void drift_check(struct monitor *mon, const struct timespec *now)
{
	const struct monitor_ops *o = &mon->conf.ops;
	const char *mine = mon->conf.table ? mon->conf.table : "sanso";
	char table[72], want[65], got[65];
	const char *against = "deployed ruleset", *why = "";
	bool deployed;
	struct alert a;
	int r;

	if (!o->live_digest)
		return;
	r = o->deployed ? o->deployed(o->ctx, table, sizeof(table), want)
			: -ENOENT;
	deployed = !r;
	if (!r) {
		mon->deploy_err = 0;
		snprintf(mon->baseline_table, sizeof(mon->baseline_table),
			 "%s", table);
		memcpy(mon->baseline, want, sizeof(mon->baseline));
		mon->have_baseline = true;
		mon->baseline_deployed = true;
	} else {
		if (r != -ENOENT)
			deploy_unreadable(mon, r, now);
		/* Nothing deployed by sanso: our table, as the monitor
		 * found it. */
		if ((!mon->have_baseline ||
		     (r == -ENOENT && (mon->baseline_deployed ||
				       strcmp(mine, mon->baseline_table)))) &&
		    take_baseline(mon, mine))
			return;
		snprintf(table, sizeof(table), "%s", mon->baseline_table);
		memcpy(want, mon->baseline, sizeof(want));
		if (r == -ENOENT) {
			against = alert_text("table found at start");
			why = alert_text(" (nothing deployed)");
		} else if (mon->baseline_deployed) {
			against = alert_text("deployed ruleset last read");
			why = alert_text(" (the deployment cannot be read "
					 "now)");
		} else {
			against = alert_text("table found at start");
			why = alert_text(" (the deployment cannot be read)");
		}
	}
	r = o->live_digest(o->ctx, table, got);
	if (r == -ENOENT)
		snprintf(got, sizeof(got), "absent");
	else if (r < 0)
		return;
	if (!strcmp(got, want)) {
		mon->drift_seen[0] = '\0';
		return;
	}
	/* Between a change's commit and its record, the live table is the
	 * one it wrote ahead. */
	if (o->in_change && o->in_change(o->ctx, table, got) > 0)
		return;
	/* A change that began and ended while the table was read (the
	 * record first, the table after it): judged at the next check,
	 * against the deployment it made. */
	if (deployed) {
		char t2[72], w2[65];

		if (!o->deployed(o->ctx, t2, sizeof(t2), w2) &&
		    (strcmp(t2, table) || strcmp(w2, want)))
			return;
	}
	if (!strcmp(got, mon->drift_seen))
		return;
	snprintf(mon->drift_seen, sizeof(mon->drift_seen), "%s", got);
	alert_init(&a, ALERT_DRIFT, now);
	if (!strcmp(got, "absent"))
		set_message(&a, "table inet %s is gone", table);
	else if (!strcmp(want, "absent"))
		set_message(&a, "table inet %s appeared (sha256 %.16s...)",
			    table, got);
	else
		set_message(&a, "table inet %s no longer matches the %s%s: "
			    "sha256 %.16s..., expected %.16s...", table,
			    against, why, got, want);
	emit(mon, &a);
}

/* ---- FQDN set elements nothing learned (SECURITY F22) ---- */

struct foreign_check {
	struct monitor *mon;
	const struct timespec *now;
};

static void foreign_say(struct monitor *mon, const struct foreign *f,
			const struct timespec *now)
{
	char text[INET6_ADDRSTRLEN];
	struct alert a;

	if (!inet_ntop(f->family, f->addr, text, sizeof(text)))
		snprintf(text, sizeof(text), "?");
	alert_init(&a, ALERT_DRIFT, now);
	set_message(&a, "set %s holds %s, which neither the DNS guard nor "
		    "sanso resolve learned", f->set, text);
	emit(mon, &a);
}

static int foreign_cb(void *arg, const char *set, uint8_t family,
		      const uint8_t *addr)
{
	struct foreign_check *c = arg;
	struct monitor *mon = c->mon;
	size_t alen = family == AF_INET ? 4 : 16;
	struct foreign *f;
	struct alert a;

	for (size_t i = 0; i < mon->n_foreign; i++) {
		f = &mon->foreign[i];
		if (f->family == family && !memcmp(f->addr, addr, alen) &&
		    !strcmp(f->set, set)) {
			f->round = mon->foreign_round;
			if (!f->said) {
				f->said = true;
				foreign_say(mon, f, c->now);
			}
			return 0;
		}
	}
	if (mon->n_foreign == FOREIGN_MAX) {
		if (mon->foreign_full)
			return 0;
		mon->foreign_full = true;
		alert_init(&a, ALERT_DRIFT, c->now);
		set_message(&a, "more than %d FQDN set elements that no DNS "
			    "answer gave; the rest are not reported one by "
			    "one", FOREIGN_MAX);
		emit(mon, &a);
		return 0;
	}
	if (!mon->foreign) {
		mon->foreign = calloc(FOREIGN_MAX, sizeof(*mon->foreign));
		if (!mon->foreign)
			return -ENOMEM;
	}
	/* Said at the next check if it is still there: `sanso resolve`
	 * saves what it armed a moment after arming it. */
	f = &mon->foreign[mon->n_foreign++];
	memset(f, 0, sizeof(*f));
	snprintf(f->set, sizeof(f->set), "%s", set);
	f->family = family;
	memcpy(f->addr, addr, alen);
	f->round = mon->foreign_round;
	return 0;
}

/* Each element is reported once it was listed by two checks in a row,
 * and again only after it was gone for one check; a failed listing
 * forgets nothing. */
static void foreign_check(struct monitor *mon, const struct timespec *now)
{
	const struct monitor_ops *o = &mon->conf.ops;
	struct foreign_check c = { mon, now };
	size_t keep = 0;

	if (!o->fqdn_foreign)
		return;
	mon->foreign_round++;
	if (o->fqdn_foreign(o->ctx, foreign_cb, &c))
		return;
	for (size_t i = 0; i < mon->n_foreign; i++)
		if (mon->foreign[i].round == mon->foreign_round)
			mon->foreign[keep++] = mon->foreign[i];
	mon->n_foreign = keep;
	if (keep < FOREIGN_MAX)
		mon->foreign_full = false;
}

/* ---- the clock ---- */

/* Whole seconds: two ticks after the last event is at least one second
 * without one. */
void monitor_table_changed(struct monitor *mon, time_t now)
{
	if (!mon->changed_first)
		mon->changed_first = now;
	mon->changed_last = now;
}

void monitor_tick(struct monitor *mon, const struct timespec *now)
{
	unsigned int iv = mon->conf.drift_interval;
	size_t i;

	mon->last_tick = now->tv_sec;
	schedules_tick(mon, now);
	if (iv && (!mon->last_drift || now->tv_sec - mon->last_drift >=
		   (time_t)iv || (mon->changed_first &&
				  (now->tv_sec - mon->changed_last >= 2 ||
				   now->tv_sec - mon->changed_first >= 10)))) {
		mon->last_drift = now->tv_sec;
		mon->changed_first = 0;
		drift_check(mon, now);
	}
	/* FQDN set elements nothing learned: their events look like the
	 * guard's own, so they are listed on a clock of their own, as
	 * often as drift was before it followed the kernel's events. */
	if (iv && (!mon->last_foreign || now->tv_sec - mon->last_foreign >=
		   (time_t)(iv < FOREIGN_EVERY ? iv : FOREIGN_EVERY))) {
		mon->last_foreign = now->tv_sec;
		foreign_check(mon, now);
	}
	for (i = 0; i < BLOCKED_SLOTS; i++)
		if (mon->blocked[i].used &&
		    mon->blocked[i].until <= now->tv_sec)
			blocked_flush(mon, &mon->blocked[i]);
	if (mon->gaps_pending) {
		struct alert a;

		alert_init(&a, ALERT_OVERRUN, now);
		a.count = mon->gaps_pending;
		set_message(&a, "nflog: %" PRIu64 " logged packet%s lost "
			    "(sequence gaps)", mon->gaps_pending,
			    mon->gaps_pending == 1 ? "" : "s");
		mon->gaps_pending = 0;
		emit(mon, &a);
	}
	if (mon->conf.tick)
		mon->conf.tick(mon->conf.ctx, now->tv_sec);
}

void monitor_flush(struct monitor *mon, const struct timespec *now)
{
	size_t i;

	for (i = 0; i < BLOCKED_SLOTS; i++)
		blocked_flush(mon, &mon->blocked[i]);
	if (mon->gaps_pending)
		monitor_tick(mon, now);
}

/* ---- life ---- */

static int sched_arrays(const struct policy *p, int8_t **open, bool **win)
{
	const struct model *m = p->m;
	size_t n = m->n_schedules ? m->n_schedules : 1, f;

	*open = malloc(n);
	*win = calloc(n, sizeof(**win));
	if (!*open || !*win) {
		free(*open);
		free(*win);
		return -ENOMEM;
	}
	memset(*open, -1, n);
	/* Enforced schedules with dated windows, and any schedule of a
	 * maintenance flow (T7: 保守の時のみ, a session must not outlive
	 * the window); a business-hours schedule closing every evening
	 * leaves established sessions to the ruleset, which lets them
	 * finish. */
	for (f = 0; f < m->n_flows; f++) {
		int s = m->flows[f].schedule;

		if (s >= 0 && (size_t)s < m->n_schedules &&
		    (m->schedules[s].n_windows ||
		     check_flow_is_maintenance(m, &m->flows[f])))
			(*win)[s] = true;
	}
	return 0;
}

struct monitor *monitor_new(const struct monitor_setup *conf)
{
	struct monitor *mon;

	if (!conf || !conf->policy || !conf->emit) {
		errno = EINVAL;
		return NULL;
	}
	mon = calloc(1, sizeof(*mon));
	if (!mon)
		return NULL;
	mon->conf = *conf;
	mon->p = conf->policy;
	mon->m = conf->policy->m;
	if (sched_arrays(mon->p, &mon->sched_open, &mon->windowed)) {
		free(mon);
		errno = ENOMEM;
		return NULL;
	}
	return mon;
}

void monitor_free(struct monitor *mon)
{
	if (!mon)
		return;
	free(mon->sched_open);
	free(mon->windowed);
	free(mon->foreign);
	free(mon);
}

int monitor_set_policy(struct monitor *mon, const struct policy *policy)
{
	const struct model *old = mon->m, *m = policy->m;
	int8_t *open;
	bool *win;
	size_t i, j;

	if (sched_arrays(policy, &open, &win))
		return -ENOMEM;
	/* A window open before the reload still closes after it. */
	for (i = 0; i < m->n_schedules; i++)
		for (j = 0; j < old->n_schedules; j++)
			if (!strcmp(m->schedules[i].name,
				    old->schedules[j].name))
				open[i] = mon->sched_open[j];
	/* Pending aggregates name zones of the old model. */
	for (i = 0; i < BLOCKED_SLOTS; i++)
		blocked_flush(mon, &mon->blocked[i]);
	free(mon->sched_open);
	free(mon->windowed);
	mon->sched_open = open;
	mon->windowed = win;
	mon->p = policy;
	mon->m = m;
	mon->conf.policy = policy;
	/* Set indices are the old model's. */
	memset(mon->fqdn, 0, sizeof(mon->fqdn));
	return 0;
}

void monitor_set_role(struct monitor *mon, enum monitor_role role,
		      const struct timespec *since)
{
	mon->role = role;
	if (role == MONITOR_MASTER && since)
		mon->master_since = *since;
	else
		mon->master_since = (struct timespec){ 0, 0 };
}

const struct policy *monitor_policy(const struct monitor *mon)
{
	return mon->p;
}

void monitor_stats(const struct monitor *mon, struct monitor_stats *st)
{
	*st = mon->st;
}

uint64_t monitor_events(const struct monitor_stats *st)
{
	return st->ct_new + st->ct_update + st->ct_destroy + st->ct_dump +
	       st->nflog;
}

long monitor_replay(struct monitor *mon, struct replay *r)
{
	struct replay_rec rec;
	struct timespec last = { 0, 0 };
	long n = 0;
	int err;

	while ((err = replay_next(r, &rec)) > 0) {
		if (rec.ts.tv_sec != last.tv_sec)
			monitor_tick(mon, &rec.ts);
		last = rec.ts;
		monitor_feed(mon, rec.proto, rec.data, rec.len, &rec.ts);
		n++;
	}
	if (n)
		monitor_flush(mon, &last);
	return err < 0 ? err : n;
}
