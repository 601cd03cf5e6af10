// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sanso graph FILE: the zone file as a Graphviz DOT digraph. Zones are
 * clusters inside one cluster per tier (a colour each), hosts and the
 * ZONE/CIDR endpoints that flows name sit in their zone, FQDN sets are
 * nodes outside every zone, flows are edges labelled with their name,
 * services and schedules. A flow with a waiver is drawn red and dashed;
 * one that breaks an invariant, red and bold.
 *
 * Everything is emitted sorted by name, so the output depends on what
 * the file says, not on its order or layout.
 *
 * Exit status: 0, 1 when the file has errors (structural ones: no
 * graph; invariant ones: the graph, with the offending flows marked),
 * 2 usage, 3 system.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmd.h"
#include "i18n.h"
#include "model.h"
#include "parse.h"


/* Fill and line colour of each tier (ColorBrewer pastels and darks). */
static const char *const tier_fill[TIER_COUNT] = {
	[TIER_MYNUMBER] = "#fde0dd",
	[TIER_LGWAN] = "#deebf7",
	[TIER_INTERNET] = "#fee6ce",
	[TIER_DMZ] = "#e5f5e0",
	[TIER_MGMT] = "#efedf5",
	[TIER_EXTERNAL] = "#f0f0f0",
};

static const char *const tier_line[TIER_COUNT] = {
	[TIER_MYNUMBER] = "#c51b8a",
	[TIER_LGWAN] = "#3182bd",
	[TIER_INTERNET] = "#e6550d",
	[TIER_DMZ] = "#31a354",
	[TIER_MGMT] = "#756bb1",
	[TIER_EXTERNAL] = "#636363",
};

/* FQDN names shown on a set's node; the rest are counted. */
#define SET_NAMES_SHOWN 6

struct graph {
	const struct model *m;
	FILE *out;
	const struct diags *d;
	size_t *zones, *hosts, *sets, *flows;	/* sorted indices */
	const struct endpoint **cidrs;		/* distinct, sorted */
	size_t n_cidrs;
};

static void help(FILE *out)
{
	cmd_usage(out, "graph");
	fputs(_("\n"
		"  -h, --help  this help\n"
		"\nRender with: sanso graph FILE | dot -Tsvg > zones.svg\n"),
	      out);
}

/* A DOT string literal. */
static void dot_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void dot_id(FILE *out, const char *kind, const char *name)
{
	fprintf(out, "\"%s:", kind);
	for (; *name; name++) {
		if (*name == '"' || *name == '\\')
			fputc('\\', out);
		fputc(*name, out);
	}
	fputc('"', out);
}

/* A growing label. */
struct buf {
	char *s;
	size_t n, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		k = b->s ? vsnprintf(b->s + b->n, room, fmt, ap) : -1;
		va_end(ap);
		if (k >= 0 && (size_t)k < room) {
			b->n += (size_t)k;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 256;
			char *s;

			while (k >= 0 && cap - b->n <= (size_t)k)
				cap *= 2;
			s = realloc(b->s, cap);
			if (!s)
				return;	/* the label is cut short */
			b->s = s;
			b->cap = cap;
		}
	}
}

static const struct model *sort_m;

static int zone_cmp(const void *a, const void *b)
{
	const struct zone *x = &sort_m->zones[*(const size_t *)a];
	const struct zone *y = &sort_m->zones[*(const size_t *)b];

	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	return strcmp(x->name, y->name);
}

#define NAME_CMP(fn, arr)						\
static int fn(const void *a, const void *b)				\
{									\
	return strcmp(sort_m->arr[*(const size_t *)a].name,		\
		      sort_m->arr[*(const size_t *)b].name);		\
}

NAME_CMP(host_cmp, hosts)
NAME_CMP(set_cmp, fqdn_sets)
NAME_CMP(flow_cmp, flows)

static size_t *order(size_t n, int (*cmp)(const void *, const void *))
{
	size_t *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = i;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp);
	return v;
}

static int cidr_cmp(const void *a, const void *b)
{
	const struct endpoint *x = *(const struct endpoint *const *)a;
	const struct endpoint *y = *(const struct endpoint *const *)b;

	if (x->zone != y->zone)
		return strcmp(sort_m->zones[x->zone].name,
			      sort_m->zones[y->zone].name);
	return prefix_cmp(&x->cidr, &y->cidr);
}

static int graph_index(struct graph *g)
{
	const struct model *m = g->m;
	size_t n = 0;

	sort_m = m;
	g->zones = order(m->n_zones, zone_cmp);
	g->hosts = order(m->n_hosts, host_cmp);
	g->sets = order(m->n_fqdn_sets, set_cmp);
	g->flows = order(m->n_flows, flow_cmp);
	for (size_t i = 0; i < m->n_flows; i++)
		n += m->flows[i].n_from + m->flows[i].n_to;
	n += m->gateway.n_ssh_from;
	g->cidrs = calloc(n ? n : 1, sizeof(*g->cidrs));
	if (!g->zones || !g->hosts || !g->sets || !g->flows || !g->cidrs)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_flows; i++) {
		const struct flow *f = &m->flows[i];

		for (size_t j = 0; j < f->n_from + f->n_to; j++) {
			const struct endpoint *e = j < f->n_from ?
				&f->from[j] : &f->to[j - f->n_from];

			if (e->kind == EP_CIDR)
				g->cidrs[g->n_cidrs++] = e;
		}
	}
	for (size_t i = 0; i < m->gateway.n_ssh_from; i++)
		if (m->gateway.ssh_from[i].kind == EP_CIDR)
			g->cidrs[g->n_cidrs++] = &m->gateway.ssh_from[i];
	if (g->n_cidrs > 1)
		qsort(g->cidrs, g->n_cidrs, sizeof(*g->cidrs), cidr_cmp);
	n = 0;
	for (size_t i = 0; i < g->n_cidrs; i++)
		if (!n || cidr_cmp(&g->cidrs[n - 1], &g->cidrs[i]))
			g->cidrs[n++] = g->cidrs[i];
	g->n_cidrs = n;
	return 0;
}

static void graph_free(struct graph *g)
{
	free(g->zones);
	free(g->hosts);
	free(g->sets);
	free(g->flows);
	free(g->cidrs);
}

static void cidr_name(const struct model *m, const struct endpoint *e,
		      char *buf, size_t n)
{
	char p[PREFIX_STRLEN];

	prefix_format(&e->cidr, p, sizeof(p));
	snprintf(buf, n, "%s/%s", m->zones[e->zone].name, p);
}

static int str_qcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int pfx_qcmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

/* The `char *` members at `off` of n objects, sorted, joined by sep;
 * past `max` of them, a count. */
static void strs_label(struct buf *b, const void *base, size_t n,
		       size_t size, size_t off, const char *sep, size_t max)
{
	const char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = *(char *const *)((const char *)base + i * size + off);
	if (n > 1)
		qsort(v, n, sizeof(*v), str_qcmp);
	for (size_t i = 0; i < n && i < max; i++)
		bprintf(b, "%s%s", i ? sep : "", v[i]);
	if (n > max)
		bprintf(b, "%s(%zu more)", sep, n - max);
	free(v);
}

/* The node an endpoint is drawn as. */
static void ep_id(const struct graph *g, const struct endpoint *e)
{
	const struct model *m = g->m;
	char buf[128];

	switch (e->kind) {
	case EP_ZONE:
		dot_id(g->out, "zone", m->zones[e->ref].name);
		break;
	case EP_HOST:
		dot_id(g->out, "host", m->hosts[e->ref].name);
		break;
	case EP_FQDN:
		dot_id(g->out, "fqdn", m->fqdn_sets[e->ref].name);
		break;
	case EP_CIDR:
		cidr_name(m, e, buf, sizeof(buf));
		dot_id(g->out, "cidr", buf);
		break;
	}
}

static void zone_cluster(const struct graph *g, size_t zi)
{
	const struct model *m = g->m;
	const struct zone *z = &m->zones[zi];
	FILE *out = g->out;
	struct buf b = { 0 };
	struct prefix *nets;
	char p[PREFIX_STRLEN];

	fputs("\t\tsubgraph ", out);
	dot_id(out, "cluster_zone", z->name);
	fputs(" {\n\t\t\tlabel=", out);
	bprintf(&b, "zone %s (", z->name);
	strs_label(&b, z->ifaces, z->n_ifaces, sizeof(*z->ifaces),
		   offsetof(struct iface, name), ", ", SIZE_MAX);
	bprintf(&b, ")");
	dot_str(out, b.s);
	fprintf(out, ";\n\t\t\tstyle=\"filled,rounded\"; fillcolor=white; "
		"color=\"%s\";\n\t\t\t", tier_line[z->tier]);
	/* The zone itself, as flows to a whole zone reach it. */
	dot_id(out, "zone", z->name);
	b.n = 0;
	bprintf(&b, "%s", z->name);
	nets = calloc(z->n_nets + 1, sizeof(*nets));
	for (size_t i = 0; nets && i < z->n_nets; i++)
		nets[i] = z->nets[i].p;
	if (nets && z->n_nets > 1)
		qsort(nets, z->n_nets, sizeof(*nets), pfx_qcmp);
	for (size_t i = 0; nets && i < z->n_nets; i++) {
		prefix_format(&nets[i], p, sizeof(p));
		bprintf(&b, "\n%s", p);
	}
	free(nets);
	fputs(" [label=", out);
	dot_str(out, b.s);
	fprintf(out, ", shape=folder, fillcolor=\"%s\"];\n",
		tier_fill[z->tier]);
	for (size_t i = 0; i < m->n_hosts; i++) {
		const struct host *h = &m->hosts[g->hosts[i]];

		if (h->zone != (int)zi)
			continue;
		prefix_format(&h->addr, p, sizeof(p));
		b.n = 0;
		bprintf(&b, "%s\n%s", h->name, p);
		if (h->role)
			bprintf(&b, "\n%s", role_name(h->role));
		fputs("\t\t\t", out);
		dot_id(out, "host", h->name);
		fputs(" [label=", out);
		dot_str(out, b.s);
		fputs(h->role ? ", penwidth=2];\n" : "];\n", out);
	}
	for (size_t i = 0; i < g->n_cidrs; i++) {
		char name[128];

		if (g->cidrs[i]->zone != (int)zi)
			continue;
		cidr_name(m, g->cidrs[i], name, sizeof(name));
		fputs("\t\t\t", out);
		dot_id(out, "cidr", name);
		fputs(" [label=", out);
		dot_str(out, name);
		fputs(", style=\"rounded,dashed\"];\n", out);
	}
	fputs("\t\t}\n", out);
	free(b.s);
}

static void graph_nodes(const struct graph *g)
{
	const struct model *m = g->m;
	FILE *out = g->out;
	struct buf b = { 0 };

	for (size_t i = 0; i < m->n_zones; i++) {
		enum tier t = m->zones[g->zones[i]].tier;

		if (!i || t != m->zones[g->zones[i - 1]].tier) {
			fprintf(out, "\tsubgraph \"cluster_tier:%s\" {\n"
				"\t\tlabel=\"%s\"; style=\"filled,rounded\"; "
				"fillcolor=\"%s\"; color=\"%s\"; "
				"fontcolor=\"%s\";\n", tier_name(t),
				tier_name(t), tier_fill[t], tier_line[t],
				tier_line[t]);
		}
		zone_cluster(g, g->zones[i]);
		if (i + 1 == m->n_zones ||
		    t != m->zones[g->zones[i + 1]].tier)
			fputs("\t}\n", out);
	}
	for (size_t i = 0; i < m->n_fqdn_sets; i++) {
		const struct fqdn_set *s = &m->fqdn_sets[g->sets[i]];

		b.n = 0;
		bprintf(&b, "fqdn:%s\n", s->name);
		strs_label(&b, s->names, s->n_names, sizeof(*s->names),
			   offsetof(struct fqdn_name, pattern), "\n",
			   SET_NAMES_SHOWN);
		fputc('\t', out);
		dot_id(out, "fqdn", s->name);
		fputs(" [label=", out);
		dot_str(out, b.s);
		fprintf(out, ", shape=hexagon, fillcolor=\"%s\", "
			"color=\"%s\"];\n", tier_fill[TIER_EXTERNAL],
			tier_line[TIER_EXTERNAL]);
	}
	if (m->gateway.n_ssh_from)
		fputs("\t\"gateway\" [label=\"gateway\\n(sanso)\", "
		      "shape=doubleoctagon];\n", out);
	free(b.s);
}

static int svc_qcmp(const void *a, const void *b)
{
	return service_cmp(a, b);
}

/* A flow's services, sorted, duplicates once. */
static void svcs_label(const struct flow *f, struct buf *b)
{
	struct service *v = calloc(f->n_services + 1, sizeof(*v));
	char s[SERVICE_STRLEN];
	size_t k = 0;

	if (!v)
		return;
	for (size_t i = 0; i < f->n_services; i++)
		v[i] = f->services[i].sv;
	if (f->n_services > 1)
		qsort(v, f->n_services, sizeof(*v), svc_qcmp);
	for (size_t i = 0; i < f->n_services; i++) {
		if (i && !service_cmp(&v[i - 1], &v[i]))
			continue;
		service_format(&v[i], s, sizeof(s));
		bprintf(b, "%s%s", k++ ? ", " : "", s);
	}
	free(v);
}

/* Endpoints order by kind, then by what they name. */
static int ep_cmp(const void *a, const void *b)
{
	const struct endpoint *x = *(const struct endpoint *const *)a;
	const struct endpoint *y = *(const struct endpoint *const *)b;
	const struct model *m = sort_m;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	switch (x->kind) {
	case EP_ZONE:
		return strcmp(m->zones[x->ref].name, m->zones[y->ref].name);
	case EP_HOST:
		return strcmp(m->hosts[x->ref].name, m->hosts[y->ref].name);
	case EP_FQDN:
		return strcmp(m->fqdn_sets[x->ref].name,
			      m->fqdn_sets[y->ref].name);
	case EP_CIDR:
		break;
	}
	return cidr_cmp(a, b);
}

static const struct endpoint **eps_sorted(const struct model *m,
					  const struct endpoint *v, size_t n)
{
	const struct endpoint **s = calloc(n + 1, sizeof(*s));

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		s[i] = &v[i];
	sort_m = m;
	if (n > 1)
		qsort(s, n, sizeof(*s), ep_cmp);
	return s;
}

/* The invariants a flow breaks, as check reported them: "T1 T8". */
static void flow_errors(const struct graph *g, const struct flow *f,
			struct buf *b)
{
	char seen[16] = { 0 };

	for (size_t i = 0; g->d && i < g->d->n; i++) {
		const struct diag *dg = &g->d->v[i];
		int k;

		if (dg->sev != DIAG_ERROR || dg->code[0] != 'T' ||
		    !dg->flow || strcmp(dg->flow, f->name))
			continue;
		k = atoi(dg->code + 1);
		if (k < 1 || k > 10 || seen[k])
			continue;
		seen[k] = 1;
		bprintf(b, "%sT%d", b->n ? " " : "", k);
	}
}

static void graph_edges(const struct graph *g)
{
	const struct model *m = g->m;
	FILE *out = g->out;
	struct buf b = { 0 }, errs = { 0 };

	for (size_t i = 0; i < m->n_flows; i++) {
		const struct flow *f = &m->flows[g->flows[i]];
		const struct waiver *w = &f->waiver;
		const struct endpoint **from, **to;
		const char *style;

		b.n = 0;
		bprintf(&b, "%s\n", f->name);
		svcs_label(f, &b);
		if (f->schedule >= 0)
			bprintf(&b, "\nschedule: %s",
				m->schedules[f->schedule].name);
		if (f->alert_outside >= 0)
			bprintf(&b, "\nalert outside: %s",
				m->schedules[f->alert_outside].name);
		if (f->log)
			bprintf(&b, "\nlog");
		if (w->present) {
			int y = 0, mo = 0, d = 0;

			if (w->expires >= 0)
				civil_from_days(w->expires, &y, &mo, &d);
			bprintf(&b, "\nwaiver %s", w->rule);
			if (w->ticket)
				bprintf(&b, " %s", w->ticket);
			if (w->expires >= 0)
				bprintf(&b, " until %04d-%02d-%02d", y, mo, d);
		}
		errs.n = 0;
		flow_errors(g, f, &errs);
		if (errs.n)
			bprintf(&b, "\nbreaks %s", errs.s);
		if (errs.n)
			style = ", color=red, fontcolor=red, penwidth=3";
		else if (w->present)
			style = ", color=red, fontcolor=red, style=dashed, "
				"penwidth=2";
		else
			style = "";

		/* One edge per (from, to), in the order the names sort. */
		from = eps_sorted(m, f->from, f->n_from);
		to = eps_sorted(m, f->to, f->n_to);
		for (size_t j = 0; from && to && j < f->n_from; j++) {
			for (size_t k = 0; k < f->n_to; k++) {
				if ((j && !ep_cmp(&from[j - 1], &from[j])) ||
				    (k && !ep_cmp(&to[k - 1], &to[k])))
					continue;
				fputc('\t', out);
				ep_id(g, from[j]);
				fputs(" -> ", out);
				ep_id(g, to[k]);
				fputs(" [label=", out);
				dot_str(out, b.s);
				fprintf(out, "%s];\n", style);
			}
		}
		free(from);
		free(to);
	}
	for (size_t i = 0; i < m->gateway.n_ssh_from; i++) {
		fputc('\t', out);
		ep_id(g, &m->gateway.ssh_from[i]);
		fputs(" -> \"gateway\" [label=\"ssh\", color=\"#636363\", "
		      "style=dotted];\n", out);
	}
	free(b.s);
	free(errs.s);
}

static int graph_print(const struct model *m, const struct diags *d,
		       FILE *out)
{
	struct graph g = { .m = m, .out = out, .d = d };
	int err;

	err = graph_index(&g);
	if (err)
		goto out;
	fputs("// sanso graph: zones by tier, hosts, FQDN sets and flows\n"
	      "digraph sanso {\n\tgraph [label=", out);
	{
		struct buf b = { 0 };

		bprintf(&b, "%s (model %s)", m->site ? m->site : "?",
			model_variant_name(m->variant));
		dot_str(out, b.s);
		free(b.s);
	}
	fputs(", labelloc=t, fontname=\"sans-serif\", rankdir=LR, "
	      "nodesep=0.25, ranksep=0.9];\n"
	      "\tnode [fontname=\"sans-serif\", fontsize=10, shape=box, "
	      "style=\"rounded,filled\", fillcolor=white];\n"
	      "\tedge [fontname=\"sans-serif\", fontsize=9];\n", out);
	graph_nodes(&g);
	graph_edges(&g);
	fputs("}\n", out);
out:
	graph_free(&g);
	return err;
}

int cmd_graph(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct diags d = { 0 };
	struct model *m = NULL;
	time_t when;
	int32_t today;
	int c, ret = EXIT_SYSTEM;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		help(stderr);
		return EXIT_USAGE;
	}
	m = model_load(argv[optind], &d);
	if (!m) {
		cmd_err("graph", "%s: %s", argv[optind], strerror(errno));
		goto out;
	}
	cmd_when(m, NULL, &when, &today);
	check_model(m, today, &d);
	if (d.errors) {
		diags_print_text(&d, stderr);
		diags_print_summary(&d, stderr);
	}
	for (size_t i = 0; i < d.n; i++) {
		if (d.v[i].sev == DIAG_ERROR && d.v[i].code[0] == 'E') {
			cmd_err("graph", "%s has errors; nothing drawn",
				argv[optind]);
			ret = EXIT_FINDINGS;
			goto out;
		}
	}
	if (graph_print(m, &d, stdout) || fflush(stdout)) {
		cmd_err("graph", MSG_AS_IS, strerror(errno ? errno : ENOMEM));
		goto out;
	}
	ret = d.errors ? EXIT_FINDINGS : EXIT_OK;
out:
	model_free(m);
	diags_free(&d);
	return ret;
}
