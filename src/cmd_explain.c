// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sanso explain FILE --from ADDR --to ADDR --service PROTO/PORT: which
 * flow permits a packet, or why the default drop takes it.
 *
 * Every verdict here, the reasons included, is an answer of
 * policy_decide() -- to the packet itself, to the packet reversed, to
 * the packet on another flow's services, or with its destination
 * supposed in one FQDN set -- so explain cannot disagree with the
 * ruleset or the monitor.
 *
 * Exit status: 0 the packet is permitted, 1 it is not (or the file has
 * errors), 2 usage, 3 system.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd.h"
#include "json.h"
#include "model.h"
#include "parse.h"
#include "policy.h"
#include "sched.h"
#include "i18n.h"


#define MAX_REASONS 16

struct reason {
	const char *code;
	int flow;		/* or -1 */
	char *msg;
};

struct cond {
	int set, flow;
	enum pol_verdict verdict;
};

struct expl {
	const struct model *m;
	const struct policy *p;
	struct pol_query q;
	const char *from, *to;	/* as given */
	char svc[SERVICE_STRLEN];
	struct pol_decision dec;
	struct reason r[MAX_REASONS];
	size_t n_r;
	size_t more;		/* reasons left out */
	struct cond *c;
	size_t n_c;
	/* the deciding flow's schedules */
	bool sched_open, alert_open;
	time_t sched_next;	/* next change, or 0 */
};

static void help(FILE *out)
{
	cmd_usage(out, "explain");
	fputs(_("\n"
		"  --from ADDR       source address\n"
		"  --to ADDR         destination address\n"
		"  --service SVC     tcp/PORT, udp/PORT, sctp/PORT, icmp/TYPE "
		"or\n"
		"                    icmpv6/TYPE (one port or type)\n"
		"  --at TIME         judge schedules at TIME (YYYY-MM-DD or\n"
		"                    YYYY-MM-DDTHH:MM, local time; default "
		"now)\n"
		"  --format FORMAT   text (default) or json\n"
		"  -j                same as --format json\n"
		"  -h, --help        this help\n"
		"\nExit status 0 when the packet is permitted, 1 when it is "
		"not.\n"),
	      out);
}

static void reason_add(struct expl *e, const char *code, int flow,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reason_add(struct expl *e, const char *code, int flow,
		       const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (e->n_r == MAX_REASONS) {
		e->more++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, _(fmt), ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	e->r[e->n_r].code = code;
	e->r[e->n_r].flow = flow;
	e->r[e->n_r++].msg = msg;
}

static const char *zname(const struct model *m, int z)
{
	return z >= 0 ? m->zones[z].name : "?";
}

/* "tcp/80, tcp/443" */
static void svcs_text(const struct service *v, size_t n, char *buf,
		      size_t len)
{
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && k < len; i++) {
		char s[SERVICE_STRLEN];

		service_format(&v[i], s, sizeof(s));
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "",
				      s);
	}
}

static void eps_text(const struct endpoint *v, size_t n, char *buf,
		     size_t len)
{
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "",
				      v[i].text ? v[i].text : "?");
}

/* The callback that supposes the destination in exactly one set. */
static bool in_one_set(void *ctx, int set, const struct prefix *addr)
{
	(void)addr;
	return set == *(const int *)ctx;
}

static void decide(const struct expl *e, const struct pol_query *q, int set,
		   struct pol_decision *out)
{
	policy_decide(e->p, q, set >= 0 ? in_one_set : NULL, &set, out);
}

static bool flow_seen(const int *v, size_t n, int flow)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == flow)
			return true;
	return false;
}

/* The destination may be in an FQDN set explain cannot see into: what
 * each set of the pair would make of the packet. */
static void explain_fqdn(struct expl *e)
{
	const struct pol_rule *rules;
	size_t n;

	if (e->dec.verdict == POL_ACCEPT || e->dec.src_zone < 0 ||
	    e->dec.dst_zone < 0)
		return;
	rules = policy_pair(e->p, e->dec.src_zone, e->dec.dst_zone, &n);
	e->c = calloc(n ? n : 1, sizeof(*e->c));
	if (!e->c)
		return;
	for (size_t i = 0; i < n; i++) {
		struct pol_decision d;
		int set = rules[i].dst_fqdn;
		bool dup = false;

		if (set < 0)
			continue;
		for (size_t k = 0; k < e->n_c; k++)
			dup |= e->c[k].set == set;
		if (dup)
			continue;
		decide(e, &e->q, set, &d);
		if ((d.verdict != POL_ACCEPT && d.verdict != POL_CLOSED) ||
		    !d.rule || d.rule->dst_fqdn != set)
			continue;
		e->c[e->n_c].set = set;
		e->c[e->n_c].flow = d.rule->flow;
		e->c[e->n_c++].verdict = d.verdict;
		reason_add(e, "fqdn-unknown", d.rule->flow, "if %s is in fqdn "
			   "set %s, flow %s %s it (sets are learned at run "
			   "time)", e->to, e->m->fqdn_sets[set].name,
			   e->m->flows[d.rule->flow].name,
			   d.verdict == POL_ACCEPT ? "permits" :
			   "permits inside its schedule");
	}
}

/* Flows of the zone pair that hold these addresses on other services,
 * and those meant for other addresses. */
static void explain_pair(struct expl *e)
{
	const struct model *m = e->m;
	const struct pol_rule *rules;
	int *seen = NULL;
	size_t n, n_seen = 0;

	rules = policy_pair(e->p, e->dec.src_zone, e->dec.dst_zone, &n);
	if (!n) {
		reason_add(e, "no-rule", -1, "no flow from zone %s to zone "
			   "%s", zname(m, e->dec.src_zone),
			   zname(m, e->dec.dst_zone));
		return;
	}
	seen = calloc(n, sizeof(*seen));
	if (!seen)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct pol_rule *r = &rules[i];
		char sv[256];

		if (flow_seen(seen, n_seen, r->flow))
			continue;
		for (size_t k = 0; k < r->n_svcs; k++) {
			struct pol_query q = e->q;
			struct pol_decision d;

			/* `any` would have matched; ICMP of the other
			 * family cannot be asked. */
			if (!r->svcs[k].proto ||
			    (r->svcs[k].proto == IPPROTO_ICMP &&
			     e->q.src.family != AF_INET) ||
			    (r->svcs[k].proto == IPPROTO_ICMPV6 &&
			     e->q.src.family != AF_INET6))
				continue;
			q.proto = r->svcs[k].proto;
			q.port = r->svcs[k].lo;
			decide(e, &q, r->dst_fqdn, &d);
			if (!d.rule || flow_seen(seen, n_seen, d.rule->flow))
				continue;
			seen[n_seen++] = d.rule->flow;
			/* The packet's own service: an FQDN condition,
			 * which explain_fqdn() words. */
			if (services_cover(d.rule->svcs, d.rule->n_svcs,
					   e->q.proto, e->q.port))
				continue;
			svcs_text(d.rule->svcs, d.rule->n_svcs, sv, sizeof(sv));
			if (d.rule->dst_fqdn >= 0)
				reason_add(e, "wrong-service", d.rule->flow,
					   "if %s is in fqdn set %s, flow %s "
					   "permits these addresses on %s, "
					   "not %s", e->to,
					   m->fqdn_sets[d.rule->dst_fqdn].name,
					   m->flows[d.rule->flow].name, sv,
					   e->svc);
			else
				reason_add(e, "wrong-service", d.rule->flow,
					   "flow %s permits these addresses "
					   "on %s, not %s",
					   m->flows[d.rule->flow].name, sv,
					   e->svc);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct flow *f = &m->flows[rules[i].flow];
		char a[256], b[256];

		if (flow_seen(seen, n_seen, rules[i].flow))
			continue;
		seen[n_seen++] = rules[i].flow;
		eps_text(f->from, f->n_from, a, sizeof(a));
		eps_text(f->to, f->n_to, b, sizeof(b));
		reason_add(e, "other-addresses", rules[i].flow,
			   "flow %s joins zone %s to zone %s, but from [%s] "
			   "to [%s]", f->name, zname(m, e->dec.src_zone),
			   zname(m, e->dec.dst_zone), a, b);
	}
	free(seen);
}

static void explain_reverse(struct expl *e)
{
	struct pol_query q = e->q;
	struct pol_decision d;

	q.src = e->q.dst;
	q.dst = e->q.src;
	decide(e, &q, -1, &d);
	if ((d.verdict != POL_ACCEPT && d.verdict != POL_CLOSED) || !d.rule)
		return;
	reason_add(e, "reverse", d.rule->flow, "reverse of flow %s, which "
		   "permits %s to %s on %s: replies to its connections pass, "
		   "new connections this way do not",
		   e->m->flows[d.rule->flow].name, e->to, e->from, e->svc);
}

/* Whether the schedule is open at `t`, and when that next changes
 * (0 if not within two years). */
static bool sched_state(const struct model *m, int s, time_t t,
			time_t *next)
{
	struct sched_spans sp = { 0 };
	time_t from, to;
	bool open = schedule_open(m, &m->schedules[s], t);

	*next = 0;
	if (sched_horizon(m->timezone, t, 2, &from, &to) ||
	    sched_spans(m->timezone, &m->schedules[s], from, to, &sp))
		return open;
	for (size_t i = 0; i < sp.n; i++) {
		if (sp.v[i].to <= t)
			continue;
		if (sp.v[i].from > t) {
			*next = sp.v[i].from;
			break;
		}
		if (sp.v[i].to < to)
			*next = sp.v[i].to;
		break;
	}
	sched_spans_free(&sp);
	return open;
}

static void explain(struct expl *e)
{
	const struct model *m = e->m;
	const struct pol_decision *dc = &e->dec;

	decide(e, &e->q, -1, &e->dec);
	switch (dc->verdict) {
	case POL_ACCEPT:
	case POL_CLOSED: {
		const struct flow *f = &m->flows[dc->rule->flow];

		if (dc->rule->schedule >= 0)
			e->sched_open = sched_state(m, dc->rule->schedule,
						    e->q.when, &e->sched_next);
		if (f->alert_outside >= 0)
			e->alert_open = schedule_open(
				m, &m->schedules[f->alert_outside], e->q.when);
		if (dc->verdict == POL_CLOSED)
			reason_add(e, "schedule-closed", dc->rule->flow,
				   "flow %s permits it only while schedule %s "
				   "is open", f->name,
				   m->schedules[dc->rule->schedule].name);
		break;
	}
	case POL_UNKNOWN:
		if (dc->src_zone < 0)
			reason_add(e, "no-zone", -1, "%s lies in no zone",
				   e->from);
		if (dc->dst_zone < 0)
			reason_add(e, "no-zone", -1, "%s lies in no zone",
				   e->to);
		return;
	case POL_LOCAL:
		reason_add(e, "same-zone", -1, "both ends lie in zone %s: "
			   "the traffic does not cross the gateway (if it "
			   "reaches it anyway, it is dropped)",
			   zname(m, dc->src_zone));
		return;
	case POL_DROP:
		break;
	}
	if (dc->verdict == POL_DROP) {
		explain_pair(e);
		explain_reverse(e);
	}
	explain_fqdn(e);
}

/* ---- output ---- */

static const char *verdict_name(enum pol_verdict v)
{
	switch (v) {
	case POL_ACCEPT:
		return "accept";
	case POL_CLOSED:
		return "closed";
	case POL_DROP:
		return "drop";
	case POL_LOCAL:
		return "local";
	case POL_UNKNOWN:
		break;
	}
	return "unknown";
}

static void end_text(const struct expl *e, const char *addr, int z, int h,
		     FILE *out)
{
	const struct model *m = e->m;

	fprintf(out, "%s", addr);
	if (h >= 0) {
		fprintf(out, ": host %s", m->hosts[h].name);
		if (m->hosts[h].role)
			fprintf(out, " (%s)", role_name(m->hosts[h].role));
		fprintf(out, " in zone %s (tier %s)\n", m->zones[z].name,
			tier_name(m->zones[z].tier));
	} else if (z >= 0) {
		fprintf(out, ": zone %s (tier %s)\n", m->zones[z].name,
			tier_name(m->zones[z].tier));
	} else {
		fprintf(out, ": in no zone\n");
	}
}

static void print_text(const struct expl *e, FILE *out)
{
	const struct model *m = e->m;
	const struct pol_decision *dc = &e->dec;
	char t[64];

	tz_format_rfc3339(m->timezone, e->q.when, 0, t, sizeof(t));
	fprintf(out, "packet:   %s %s -> %s at %s\n", e->svc, e->from, e->to,
		t);
	fputs("from:     ", out);
	end_text(e, e->from, dc->src_zone, dc->src_host, out);
	fputs("to:       ", out);
	end_text(e, e->to, dc->dst_zone, dc->dst_host, out);
	if (dc->rule) {
		const struct flow *f = &m->flows[dc->rule->flow];

		fprintf(out, "verdict:  %s by flow %s (%s:%d:%d)\n",
			dc->verdict == POL_ACCEPT ? "accept" :
			"drop (closed)", f->name, f->loc.file, f->loc.line,
			f->loc.col);
		if (dc->rule->schedule >= 0) {
			fprintf(out, "schedule: %s is %s",
				m->schedules[dc->rule->schedule].name,
				e->sched_open ? "open" : "closed");
			if (e->sched_next) {
				tz_format_rfc3339(m->timezone, e->sched_next,
						  0, t, sizeof(t));
				fprintf(out, " (%s %s)", e->sched_open ?
					"closes" : "opens", t);
			}
			fputc('\n', out);
		} else {
			fputs("schedule: none (always)\n", out);
		}
		if (f->alert_outside >= 0)
			fprintf(out, "alert:    alert_outside %s is %s: %s\n",
				m->schedules[f->alert_outside].name,
				e->alert_open ? "open" : "closed",
				e->alert_open ? "not reported" :
				"a new connection is reported (off_hours)");
		if (dc->rule->log)
			fputs("log:      accepted packets are logged\n", out);
	} else {
		fprintf(out, "verdict:  %s\n", dc->verdict == POL_LOCAL ?
			"drop (same zone: not the gateway's)" :
			"drop (the default drop)");
	}
	for (size_t i = 0; i < e->n_r; i++)
		fprintf(out, "why:      %s\n", e->r[i].msg);
	if (e->more)
		fprintf(out, "why:      (%zu more)\n", e->more);
}

static json_t *json_end(const struct expl *e, const char *addr, int z,
			int h)
{
	const struct model *m = e->m;
	json_t *o = json_object();
	int err = o ? 0 : -ENOMEM;

	jx_set(o, "address", jx_str(addr), &err);
	jx_set(o, "zone", jx_str(z >= 0 ? m->zones[z].name : NULL), &err);
	jx_set(o, "tier", jx_str(z >= 0 ? tier_name(m->zones[z].tier) : NULL),
	       &err);
	jx_set(o, "host", jx_str(h >= 0 ? m->hosts[h].name : NULL), &err);
	jx_set(o, "role", jx_str(h >= 0 && m->hosts[h].role ?
				 role_name(m->hosts[h].role) : NULL), &err);
	return jx_done(o, err);
}

static json_t *json_flow(const struct expl *e)
{
	const struct pol_decision *dc = &e->dec;
	const struct flow *f;
	json_t *o;
	int err = 0;

	if (!dc->rule)
		return json_null();
	f = &e->m->flows[dc->rule->flow];
	o = json_object();
	if (!o)
		err = -ENOMEM;
	jx_set(o, "name", jx_str(f->name), &err);
	jx_set(o, "file", jx_str(f->loc.file), &err);
	jx_set(o, "line", json_integer(f->loc.line), &err);
	jx_set(o, "column", json_integer(f->loc.col), &err);
	return jx_done(o, err);
}

static json_t *json_schedule(const struct expl *e)
{
	const struct model *m = e->m;
	const struct pol_decision *dc = &e->dec;
	char t[64];
	json_t *o;
	int err = 0;

	if (!dc->rule || dc->rule->schedule < 0)
		return json_null();
	o = json_object();
	if (!o)
		err = -ENOMEM;
	jx_set(o, "name", jx_str(m->schedules[dc->rule->schedule].name), &err);
	jx_set(o, "open", json_boolean(e->sched_open), &err);
	if (e->sched_next)
		tz_format_rfc3339(m->timezone, e->sched_next, 0, t, sizeof(t));
	jx_set(o, "next_change", jx_str(e->sched_next ? t : NULL), &err);
	return jx_done(o, err);
}

static json_t *json_alert_outside(const struct expl *e)
{
	const struct model *m = e->m;
	const struct pol_decision *dc = &e->dec;
	json_t *o;
	int err = 0;

	if (!dc->rule || m->flows[dc->rule->flow].alert_outside < 0)
		return json_null();
	o = json_object();
	if (!o)
		err = -ENOMEM;
	jx_set(o, "name", jx_str(m->schedules[m->flows[dc->rule->flow]
					      .alert_outside].name), &err);
	jx_set(o, "open", json_boolean(e->alert_open), &err);
	return jx_done(o, err);
}

static json_t *json_reason(const struct expl *e, size_t i)
{
	const struct model *m = e->m;
	json_t *o = json_object();
	int err = o ? 0 : -ENOMEM;

	jx_set(o, "code", jx_str(e->r[i].code), &err);
	jx_set(o, "flow", jx_str(e->r[i].flow >= 0 ?
				 m->flows[e->r[i].flow].name : NULL), &err);
	jx_set(o, "message", jx_str(e->r[i].msg), &err);
	return jx_done(o, err);
}

static json_t *json_fqdn(const struct expl *e, size_t i)
{
	const struct model *m = e->m;
	json_t *o = json_object();
	int err = o ? 0 : -ENOMEM;

	jx_set(o, "set", jx_str(m->fqdn_sets[e->c[i].set].name), &err);
	jx_set(o, "flow", jx_str(m->flows[e->c[i].flow].name), &err);
	jx_set(o, "verdict", jx_str(verdict_name(e->c[i].verdict)), &err);
	return jx_done(o, err);
}

/* The values by jansson, the lines by this printer. 0 or -ENOMEM. */
static int print_json(const struct expl *e, FILE *out)
{
	const struct model *m = e->m;
	const struct pol_decision *dc = &e->dec;
	json_t *packet = json_object();
	int err = packet ? 0 : -ENOMEM;
	char t[64];

	tz_format_rfc3339(m->timezone, e->q.when, 0, t, sizeof(t));
	jx_member(out, "{", "verdict", jx_str(verdict_name(dc->verdict)),
		  &err);
	jx_member(out, ",", "permitted",
		  json_boolean(dc->verdict == POL_ACCEPT), &err);
	jx_member(out, ",", "time", jx_str(t), &err);
	jx_set(packet, "from", jx_str(e->from), &err);
	jx_set(packet, "to", jx_str(e->to), &err);
	jx_set(packet, "service", jx_str(e->svc), &err);
	jx_member(out, ",\n", "packet", jx_done(packet, err), &err);
	jx_member(out, ",\n", "from",
		  json_end(e, e->from, dc->src_zone, dc->src_host), &err);
	jx_member(out, ",\n", "to",
		  json_end(e, e->to, dc->dst_zone, dc->dst_host), &err);
	jx_member(out, ",\n", "flow", json_flow(e), &err);
	jx_member(out, ",\n", "schedule", json_schedule(e), &err);
	jx_member(out, ",\n", "alert_outside", json_alert_outside(e), &err);
	jx_member(out, ",\n", "log",
		  json_boolean(dc->rule && dc->rule->log), &err);
	jx_key(out, ",\n", "reasons");
	fputc('[', out);
	for (size_t i = 0; i < e->n_r; i++) {
		fputs(i ? ",\n " : "\n ", out);
		if (jx_print(out, json_reason(e, i)))
			err = -ENOMEM;
	}
	fputc(']', out);
	jx_key(out, ",\n", "fqdn");
	fputc('[', out);
	for (size_t i = 0; i < e->n_c; i++) {
		fputs(i ? ",\n " : "\n ", out);
		if (jx_print(out, json_fqdn(e, i)))
			err = -ENOMEM;
	}
	fputs("]}\n", out);
	return err;
}

/* The --service argument: one protocol with one port or type, whose
 * ICMP flavour matches the address family. */
static int query_service(const char *s, int family, struct pol_query *q)
{
	struct service sv;

	if (service_parse(s, &sv) || sv.proto == 0 || sv.lo != sv.hi) {
		cmd_err("explain", "bad --service \"%s\" (one port or type: "
			"tcp/443, udp/53, icmp/echo-request...)", s);
		return -EINVAL;
	}
	if ((sv.proto == IPPROTO_ICMP && family != AF_INET) ||
	    (sv.proto == IPPROTO_ICMPV6 && family != AF_INET6)) {
		cmd_err("explain", "--service %s does not go with %s "
			"addresses", s, family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	q->proto = sv.proto;
	q->port = sv.lo;
	return 0;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "service", required_argument, NULL, 's' },
		{ "at", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *at = NULL, *format = "text", *svc = NULL;
	struct expl e = { 0 };
	struct loaded l = { 0 };
	struct service sv;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			e.from = optarg;
			break;
		case 'T':
			e.to = optarg;
			break;
		case 's':
			svc = optarg;
			break;
		case 'a':
			at = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'j':
			format = "json";
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json")) {
		cmd_err("explain", "unknown format \"%s\" (text or json)",
			format);
		return EXIT_USAGE;
	}
	if (optind != argc - 1 || !e.from || !e.to || !svc) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (addr_parse(e.from, &e.q.src)) {
		cmd_err("explain", "bad --from address \"%s\"", e.from);
		return EXIT_USAGE;
	}
	if (addr_parse(e.to, &e.q.dst)) {
		cmd_err("explain", "bad --to address \"%s\"", e.to);
		return EXIT_USAGE;
	}
	if (e.q.src.family != e.q.dst.family) {
		cmd_err("explain", "--from and --to are of different address "
			"families");
		return EXIT_USAGE;
	}
	if (query_service(svc, e.q.src.family, &e.q))
		return EXIT_USAGE;
	service_parse(svc, &sv);
	service_format(&sv, e.svc, sizeof(e.svc));

	ret = cmd_load("explain", argv[optind], at, &l);
	if (ret)
		goto out;
	e.m = l.m;
	e.p = l.policy;
	e.q.when = l.when;
	explain(&e);
	if (!strcmp(format, "json")) {
		if (print_json(&e, stdout)) {
			cmd_err("explain", "out of memory");
			ret = EXIT_SYSTEM;
			goto out;
		}
	} else {
		print_text(&e, stdout);
	}
	if (fflush(stdout)) {
		cmd_err("explain", "write: %s", strerror(errno));
		ret = EXIT_SYSTEM;
		goto out;
	}
	ret = e.dec.verdict == POL_ACCEPT ? EXIT_OK : EXIT_FINDINGS;
out:
	for (size_t i = 0; i < e.n_r; i++)
		free(e.r[i].msg);
	free(e.c);
	loaded_free(&l);
	return ret;
}
