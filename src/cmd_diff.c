// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sanso diff OLD NEW: the semantic difference for change review, as
 * text, as a Markdown report to attach to the change request, or as
 * JSON (schema "sanso-diff/1", see sanso(8)).
 *
 * Exit status: 0 the change opens nothing into or out of mynumber and
 * NEW passes check; 1 it opens something, or NEW has errors, or a file
 * cannot be compared (structural errors, another site); 2 usage; 3 a
 * file cannot be read.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "check.h"
#include "cmd.h"
#include "diff.h"
#include "i18n.h"
#include "json.h"
#include "model.h"
#include "parse.h"
#include "policy.h"
#include "sched.h"


/* What the verdict line calls a mynumber zone. */
#define MYNUMBER_JA "マイナンバー利用事務系"

struct side {
	const char *path;
	struct model *m;
	struct policy *p;
	struct diags d;
	int32_t today;
};

struct report {
	struct side *o, *n;
	const struct diff *d;
	bool opens, review;
	char at[16];
};

static void help(FILE *out)
{
	cmd_usage(out, "diff");
	fputs(_("\n"
		"  --at DATE        judge waivers as of DATE (YYYY-MM-DD or\n"
		"                   YYYY-MM-DDTHH:MM, local time; default "
		"now)\n"
		"  --format FORMAT  text (default), markdown or json\n"
		"  -j               same as --format json\n"
		"  -h, --help       this help\n"
		"\nExit status 1 when the change opens a path into or out of "
		"a\nmynumber zone or NEW fails check, 0 otherwise.\n"),
	      out);
}

/* A structural error (E0xx) leaves nothing sound to compare; invariant
 * errors (Tn) are findings about a model that is still well formed. */
static bool structural(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == DIAG_ERROR && d->v[i].code[0] == 'E')
			return true;
	return d->errors && d->dropped;
}

static int side_load(struct side *s, const char *at)
{
	time_t when;

	s->m = model_load(s->path, &s->d);
	if (!s->m) {
		cmd_err("diff", "%s: %s", s->path, strerror(errno));
		return EXIT_SYSTEM;
	}
	if (cmd_when(s->m, at, &when, &s->today)) {
		cmd_err("diff", "bad --at \"%s\" (YYYY-MM-DD or "
			"YYYY-MM-DDTHH:MM)", at);
		return EXIT_USAGE;
	}
	check_model(s->m, s->today, &s->d);
	if (!s->d.errors)
		goto build;
	diags_print_text(&s->d, stderr);
	if (structural(&s->d)) {
		diags_print_summary(&s->d, stderr);
		cmd_err("diff", "%s has errors; cannot compare it", s->path);
		return EXIT_FINDINGS;
	}
	cmd_err("diff", "%s fails check (%u error%s); compared all the same",
		s->path, s->d.errors, s->d.errors == 1 ? "" : "s");
build:
	s->p = policy_build(s->m);
	if (!s->p) {
		cmd_err("diff", MSG_AS_IS, strerror(errno));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

static void side_free(struct side *s)
{
	policy_free(s->p);
	model_free(s->m);
	diags_free(&s->d);
}

static void sha_hex(const struct model *m, char *buf)
{
	for (int i = 0; i < 32; i++)
		sprintf(buf + 2 * i, "%02x", m->sha256[i]);
}

static void codes_text(unsigned int t, char *buf, size_t n, const char *sep)
{
	size_t k = 0;

	buf[0] = '\0';
	for (int i = 1; i <= 10 && k < n; i++)
		if (t & (1u << i))
			k += (size_t)snprintf(buf + k, n - k, "%sT%d",
					      k ? sep : "", i);
}

/* "flow renkei-to-juki", "prefix 10.20.0.0/16 of zone lgwan"... */
static void subject(const struct diff_change *c, char *buf, size_t n)
{
	switch (c->obj) {
	case DIFF_PREFIX:
		snprintf(buf, n, "prefix %s of zone %s", c->name, c->parent);
		break;
	case DIFF_FQDN_NAME:
		snprintf(buf, n, "fqdn name %s of set %s", c->name, c->parent);
		break;
	case DIFF_FQDN_SET:
		snprintf(buf, n, "fqdn set %s", c->name);
		break;
	case DIFF_WAIVER:
		snprintf(buf, n, "waiver on flow %s", c->name);
		break;
	case DIFF_GATEWAY:
		snprintf(buf, n, "gateway");
		break;
	default:
		snprintf(buf, n, "%s %s", diff_obj_name(c->obj), c->name);
	}
}

static const struct loc *change_loc(const struct diff_change *c)
{
	return c->new_loc.line > 0 ? &c->new_loc : &c->old_loc;
}

/* At most this many values of a list are printed in text and Markdown
 * (a holiday calendar runs to hundreds); JSON has them all. */
#define SHOW_MAX 12

static void text_values(FILE *out, const struct strv *v, const char *sign,
			const char *sep)
{
	for (size_t i = 0; i < v->n && i < SHOW_MAX; i++)
		fprintf(out, "%s%s%s", i ? sep : "", sign, v->v[i]);
	if (v->n > SHOW_MAX)
		fprintf(out, "%s(%zu more)", sep, v->n - SHOW_MAX);
}

static void text_field(FILE *out, const struct diff_change *c,
		       const struct diff_field *f)
{
	fprintf(out, "      %s: ", f->name);
	if (f->list && c->op != DIFF_ADDED && c->op != DIFF_REMOVED) {
		text_values(out, &f->added, "+", " ");
		if (f->added.n && f->removed.n)
			fputc(' ', out);
		text_values(out, &f->removed, "-", " ");
	} else if (f->list) {
		text_values(out, c->op == DIFF_ADDED ? &f->new : &f->old, "",
			    ", ");
	} else if (c->op == DIFF_ADDED || c->op == DIFF_REMOVED ||
		   c->op == DIFF_EXPIRED) {
		const struct strv *v = c->op == DIFF_REMOVED ? &f->old :
				       &f->new;

		fputs(v->n ? v->v[0] : "(none)", out);
	} else {
		fprintf(out, "%s -> %s", f->old.n ? f->old.v[0] : "(none)",
			f->new.n ? f->new.v[0] : "(none)");
	}
	fputc('\n', out);
}

static void verdict_text(const struct report *r, char *buf, size_t n)
{
	const struct diff *d = r->d;

	if (r->opens)
		snprintf(buf, n, "Opens access to " MYNUMBER_JA
			 " (mynumber): REVIEW REQUIRED");
	else if (r->n->d.errors)
		snprintf(buf, n, "NEW fails sanso check (%u error%s): "
			 "REVIEW REQUIRED", r->n->d.errors,
			 r->n->d.errors == 1 ? "" : "s");
	else if (d->sanctioned.n)
		snprintf(buf, n, "New sanctioned (注1) connection label: "
			 "REVIEW REQUIRED");
	else if (diff_empty(d))
		snprintf(buf, n, "No change");
	else
		snprintf(buf, n, "No change to mynumber reachability");
}

/* The invariants the change touches, with a new or gone T8 path. */
static unsigned int touched(const struct diff *d)
{
	unsigned int t = 0;

	for (size_t i = 0; i < d->n_changes; i++)
		t |= d->changes[i].touches;
	if (d->t8_added.n || d->t8_removed.n)
		t |= 1u << 8;
	return t;
}

/* Which point of the guideline each touched invariant enforces, so the
 * reviewer can hold the change against the text. */
static void guideline_text(const struct diff *d, FILE *out, bool md)
{
	unsigned int t = touched(d);

	if (!t)
		return;
	fputs(md ? "\n### Guideline points\n\n| invariant | point | "
	      "intent |\n|---|---|---|\n" : "\nGuideline points:\n", out);
	for (int k = 1; k <= 10; k++) {
		const struct check_code *cc;
		char code[8];

		if (!(t & (1u << k)))
			continue;
		snprintf(code, sizeof(code), "T%d", k);
		cc = check_code_find(code);
		if (!cc || !cc->point)
			continue;
		if (md)
			fprintf(out, "| %s | %s | %s |\n", code, cc->point,
				cc->intent);
		else
			fprintf(out, "  %-4s%s: %s\n", code, cc->point,
				cc->intent);
	}
}

static void print_text(const struct report *r, FILE *out)
{
	const struct diff *d = r->d;
	char buf[256];

	verdict_text(r, buf, sizeof(buf));
	fprintf(out, "%s -> %s (site %s, as of %s)\n%s\n", r->o->path,
		r->n->path, r->n->m->site, r->at, buf);
	if (r->opens && r->n->d.errors)
		fprintf(out, "NEW fails sanso check (%u error%s)\n",
			r->n->d.errors, r->n->d.errors == 1 ? "" : "s");

	if (d->n_openings || d->openings_dropped) {
		fprintf(out, "\nOpened to or from mynumber:\n");
		for (size_t i = 0; i < d->n_openings; i++) {
			const struct diff_opening *o = &d->openings[i];

			fprintf(out, "  %s -> %s %s by flow %s", o->from,
				o->to, o->service, o->flow);
			if (o->schedule)
				fprintf(out, " (schedule %s)", o->schedule);
			fputc('\n', out);
		}
		if (d->openings_dropped)
			fprintf(out, "  (%zu more)\n", d->openings_dropped);
	}
	if (d->t8_added.n) {
		fprintf(out, "\nNew T8 paths into or out of mynumber:\n");
		for (size_t i = 0; i < d->t8_added.n; i++)
			fprintf(out, "  %s\n", d->t8_added.v[i]);
	}
	if (d->t8_removed.n) {
		fprintf(out, "\nT8 paths into or out of mynumber gone:\n");
		for (size_t i = 0; i < d->t8_removed.n; i++)
			fprintf(out, "  %s\n", d->t8_removed.v[i]);
	}
	if (d->t8_cut)
		fprintf(out, "\nT8 path search cut short: paths out of "
			"mynumber may be missing\n");
	if (d->sanctioned.n) {
		fprintf(out, "\nNew sanctioned (注1) labels: mynumber hosts "
			"may reach these without a waiver:\n");
		for (size_t i = 0; i < d->sanctioned.n; i++)
			fprintf(out, "  %s\n", d->sanctioned.v[i]);
	}

	if (d->n_changes)
		fprintf(out, "\nChanges:\n");
	for (size_t i = 0; i < d->n_changes; i++) {
		const struct diff_change *c = &d->changes[i];
		const struct loc *l = change_loc(c);
		char codes[64];

		subject(c, buf, sizeof(buf));
		fprintf(out, "  %s %s", buf, diff_op_name(c->op));
		if (c->op == DIFF_RENAMED)
			fprintf(out, " from %s", c->old_name);
		if (l->line > 0)
			fprintf(out, " (%s:%d)", l->file, l->line);
		codes_text(c->touches, codes, sizeof(codes), " ");
		if (codes[0])
			fprintf(out, " [%s]", codes);
		fputc('\n', out);
		for (size_t j = 0; j < c->n_fields; j++)
			text_field(out, c, &c->fields[j]);
	}

	if (d->n_perms)
		fprintf(out, "\nReachability by tier pair:\n");
	for (size_t i = 0; i < d->n_perms; i++) {
		const struct diff_perm *p = &d->perms[i];
		static const char sign[] = { [PERM_ADDED] = '+',
					     [PERM_REMOVED] = '-',
					     [PERM_WIDENED] = '>',
					     [PERM_NARROWED] = '<',
					     [PERM_CHANGED] = '~' };

		if (!i || p->from_tier != d->perms[i - 1].from_tier ||
		    p->to_tier != d->perms[i - 1].to_tier)
			fprintf(out, "  %s -> %s\n", tier_name(p->from_tier),
				tier_name(p->to_tier));
		fprintf(out, "    %c %s %s -> %s %s%s%s\n", sign[p->op],
			p->flow, p->from_zone, p->to, p->service,
			p->op >= PERM_WIDENED ? " " : "",
			p->op >= PERM_WIDENED ? diff_perm_op_name(p->op) : "");
	}
	guideline_text(d, out, false);
}

/* ---- Markdown ---- */

/* A table cell: pipes escaped, line breaks flattened. */
static void md_cell(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '*' || *s == '_' ||
		    *s == '`' || *s == '<' || *s == '>' || *s == '[' ||
		    *s == ']')
			fputc('\\', out);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
	}
}

/* Names and values as code: backticks inside turn into quotes. */
static void md_code(FILE *out, const char *s)
{
	fputc('`', out);
	for (; s && *s; s++)
		fputc(*s == '`' ? '\'' : *s == '\n' || *s == '|' ? ' ' : *s,
		      out);
	fputc('`', out);
}

static void md_values(FILE *out, const struct strv *v, const char *sign)
{
	for (size_t i = 0; i < v->n && i < SHOW_MAX; i++) {
		fprintf(out, "%s%s", i ? " " : "", sign);
		md_code(out, v->v[i]);
	}
	if (v->n > SHOW_MAX)
		fprintf(out, " (%zu more)", v->n - SHOW_MAX);
}

static void md_field(FILE *out, const struct diff_change *c,
		     const struct diff_field *f)
{
	fprintf(out, "%s: ", f->name);
	if (f->list && c->op != DIFF_ADDED && c->op != DIFF_REMOVED) {
		md_values(out, &f->added, "+");
		if (f->added.n && f->removed.n)
			fputc(' ', out);
		md_values(out, &f->removed, "-");
	} else if (f->list) {
		md_values(out, c->op == DIFF_ADDED ? &f->new : &f->old, "");
	} else if (!strcmp(f->name, "reason") ||
		   !strcmp(f->name, "approved_by")) {
		/* Free text: a cell, not code. */
		if (c->op != DIFF_ADDED && c->op != DIFF_EXPIRED) {
			md_cell(out, f->old.n ? f->old.v[0] : "(none)");
			if (c->op == DIFF_REMOVED)
				return;
			fputs(" → ", out);
		}
		md_cell(out, f->new.n ? f->new.v[0] : "(none)");
	} else {
		if (c->op != DIFF_ADDED && c->op != DIFF_EXPIRED) {
			if (f->old.n)
				md_code(out, f->old.v[0]);
			else
				fputs("(none)", out);
			if (c->op == DIFF_REMOVED)
				return;
			fputs(" → ", out);
		}
		if (f->new.n)
			md_code(out, f->new.v[0]);
		else
			fputs("(none)", out);
	}
}

static void print_markdown(const struct report *r, FILE *out)
{
	const struct diff *d = r->d;
	char buf[256], sha[65];

	verdict_text(r, buf, sizeof(buf));
	fprintf(out, "## sanso diff: %s\n\n", r->n->m->site);
	if (r->opens || r->n->d.errors)
		fprintf(out, "**%s**\n\n", buf);
	else
		fprintf(out, "%s.\n\n", buf);
	if (r->opens && r->n->d.errors)
		fprintf(out, "**NEW fails sanso check (%u error%s)**\n\n",
			r->n->d.errors, r->n->d.errors == 1 ? "" : "s");
	fprintf(out, "| | file | sha256 |\n|---|---|---|\n");
	sha_hex(r->o->m, sha);
	fputs("| old | ", out);
	md_code(out, r->o->path);
	fprintf(out, " | `%.16s` |\n", sha);
	sha_hex(r->n->m, sha);
	fputs("| new | ", out);
	md_code(out, r->n->path);
	fprintf(out, " | `%.16s` |\n\nWaivers judged as of %s.\n", sha, r->at);

	if (r->n->d.errors) {
		fprintf(out, "\n### sanso check of NEW\n\n");
		for (size_t i = 0; i < r->n->d.n; i++) {
			const struct diag *g = &r->n->d.v[i];

			if (g->sev != DIAG_ERROR)
				continue;
			fprintf(out, "- line %d: error[%s]: ", g->loc.line,
				g->code);
			md_cell(out, g->msg);
			fputc('\n', out);
		}
	}
	if (d->n_openings || d->openings_dropped) {
		fprintf(out, "\n### Opened to or from " MYNUMBER_JA "\n\n"
			"| flow | from | to | service | schedule |\n"
			"|---|---|---|---|---|\n");
		for (size_t i = 0; i < d->n_openings; i++) {
			const struct diff_opening *o = &d->openings[i];

			fputs("| ", out);
			md_code(out, o->flow);
			fputs(" | ", out);
			md_cell(out, o->from);
			fputs(" | ", out);
			md_cell(out, o->to);
			fputs(" | ", out);
			md_code(out, o->service);
			fputs(" | ", out);
			md_cell(out, o->schedule ? o->schedule : "always");
			fputs(" |\n", out);
		}
		if (d->openings_dropped)
			fprintf(out, "\n(%zu more not shown)\n",
				d->openings_dropped);
	}
	if (d->t8_added.n || d->t8_removed.n || d->t8_cut) {
		fprintf(out, "\n### T8 paths into or out of " MYNUMBER_JA "\n\n");
		for (size_t i = 0; i < d->t8_added.n; i++) {
			fputs("- new: ", out);
			md_cell(out, d->t8_added.v[i]);
			fputc('\n', out);
		}
		for (size_t i = 0; i < d->t8_removed.n; i++) {
			fputs("- gone: ", out);
			md_cell(out, d->t8_removed.v[i]);
			fputc('\n', out);
		}
		if (d->t8_cut)
			fputs("- the path search was cut short: paths may "
			      "be missing\n", out);
	}

	if (d->n_changes)
		fprintf(out, "\n### Changes\n\n"
			"| object | name | change | details | invariants "
			"| line |\n|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < d->n_changes; i++) {
		const struct diff_change *c = &d->changes[i];
		const struct loc *l = change_loc(c);
		char codes[64];

		fprintf(out, "| %s | ", diff_obj_name(c->obj));
		md_code(out, c->name);
		if (c->parent) {
			fputs(c->obj == DIFF_PREFIX ? " in zone " : " in set ",
			      out);
			md_code(out, c->parent);
		}
		fprintf(out, " | %s | ", diff_op_name(c->op));
		if (c->op == DIFF_RENAMED) {
			fputs("from ", out);
			md_code(out, c->old_name);
		}
		for (size_t j = 0; j < c->n_fields; j++) {
			if (j)
				fputs("<br>", out);
			md_field(out, c, &c->fields[j]);
		}
		codes_text(c->touches, codes, sizeof(codes), ", ");
		fprintf(out, " | %s | ", codes);
		if (l->line > 0)
			fprintf(out, "%s%d", l == &c->old_loc ? "old " : "",
				l->line);
		fputs(" |\n", out);
	}

	if (d->n_perms)
		fprintf(out, "\n### Reachability by tier pair\n\n"
			"| tiers | change | flow | from zone | to | service |\n"
			"|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < d->n_perms; i++) {
		const struct diff_perm *p = &d->perms[i];

		fprintf(out, "| %s → %s | %s | ", tier_name(p->from_tier),
			tier_name(p->to_tier), diff_perm_op_name(p->op));
		md_code(out, p->flow);
		fputs(" | ", out);
		md_code(out, p->from_zone);
		fputs(" | ", out);
		md_code(out, p->to);
		fputs(" | ", out);
		md_code(out, p->service);
		fputs(" |\n", out);
	}
	guideline_text(d, out, true);
	if (diff_empty(d))
		fprintf(out, "\nThe files differ only in layout, comments, "
			"order or descriptions.\n");
}

/* ---- JSON ---- */

/*
 * Each value is a jansson tree; the layout (one change, one path a line,
 * the members of the outer object on lines of their own) is this
 * printer's, so that a reviewer can diff two reports by line.
 */

static json_t *json_strv(const struct strv *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < v->n; i++)
		if (json_array_append_new(a, jx_str(v->v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *json_line(const struct loc *l)
{
	return l->line > 0 ? json_integer(l->line) : json_null();
}

static json_t *json_side(const struct side *s)
{
	json_t *o = json_object();
	char sha[65];
	int err = 0;

	if (!o)
		return NULL;
	sha_hex(s->m, sha);
	jx_set(o, "file", jx_str(s->path), &err);
	jx_set(o, "site", jx_str(s->m->site), &err);
	jx_set(o, "sha256", jx_str(sha), &err);
	jx_set(o, "errors", json_integer(s->d.errors), &err);
	jx_set(o, "warnings", json_integer(s->d.warnings), &err);
	return jx_done(o, err);
}

static json_t *json_change(const struct diff_change *c)
{
	json_t *o = json_object(), *inv = json_array(), *fields = json_array();
	int err = 0;
	char t[8];

	if (!o || !inv || !fields) {
		json_decref(o);
		json_decref(inv);
		json_decref(fields);
		return NULL;
	}
	jx_set(o, "object", jx_str(diff_obj_name(c->obj)), &err);
	jx_set(o, "change", jx_str(diff_op_name(c->op)), &err);
	jx_set(o, "name", jx_str(c->name), &err);
	jx_set(o, "parent", jx_str(c->parent), &err);
	jx_set(o, "old_name", jx_str(c->old_name), &err);
	for (int k = 1; k <= 10; k++) {
		if (!(c->touches & (1u << k)))
			continue;
		snprintf(t, sizeof(t), "T%d", k);
		if (json_array_append_new(inv, jx_str(t)))
			err = -ENOMEM;
	}
	jx_set(o, "invariants", inv, &err);
	jx_set(o, "old_line", json_line(&c->old_loc), &err);
	jx_set(o, "new_line", json_line(&c->new_loc), &err);
	for (size_t j = 0; j < c->n_fields; j++) {
		const struct diff_field *f = &c->fields[j];
		json_t *fo = json_object();
		int ferr = fo ? 0 : -ENOMEM;

		if (fo) {
			jx_set(fo, "field", jx_str(f->name), &ferr);
			if (f->list) {
				jx_set(fo, "old", json_strv(&f->old), &ferr);
				jx_set(fo, "new", json_strv(&f->new), &ferr);
				jx_set(fo, "added", json_strv(&f->added),
				       &ferr);
				jx_set(fo, "removed", json_strv(&f->removed),
				       &ferr);
			} else {
				jx_set(fo, "old", jx_str(f->old.n ?
						f->old.v[0] : NULL), &ferr);
				jx_set(fo, "new", jx_str(f->new.n ?
						f->new.v[0] : NULL), &ferr);
			}
		}
		if (json_array_append_new(fields, jx_done(fo, ferr)))
			err = -ENOMEM;
	}
	jx_set(o, "fields", fields, &err);
	return jx_done(o, err);
}

static json_t *json_perm(const struct diff_perm *p)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	jx_set(o, "from_tier", jx_str(tier_name(p->from_tier)), &err);
	jx_set(o, "to_tier", jx_str(tier_name(p->to_tier)), &err);
	jx_set(o, "change", jx_str(diff_perm_op_name(p->op)), &err);
	jx_set(o, "flow", jx_str(p->flow), &err);
	jx_set(o, "from_zone", jx_str(p->from_zone), &err);
	jx_set(o, "to", jx_str(p->to), &err);
	jx_set(o, "service", jx_str(p->service), &err);
	return jx_done(o, err);
}

static json_t *json_opening(const struct diff_opening *op)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	jx_set(o, "flow", jx_str(op->flow), &err);
	jx_set(o, "from", jx_str(op->from), &err);
	jx_set(o, "to", jx_str(op->to), &err);
	jx_set(o, "from_zone", jx_str(op->from_zone), &err);
	jx_set(o, "to_zone", jx_str(op->to_zone), &err);
	jx_set(o, "service", jx_str(op->service), &err);
	jx_set(o, "schedule", jx_str(op->schedule), &err);
	return jx_done(o, err);
}

static json_t *json_guideline(const struct diff *d)
{
	json_t *a = json_array();

	for (int k = 1; a && k <= 10; k++) {
		const struct check_code *cc;
		char code[8];
		json_t *o;
		int err = 0;

		snprintf(code, sizeof(code), "T%d", k);
		cc = check_code_find(code);
		if (!(touched(d) & (1u << k)) || !cc || !cc->point)
			continue;
		o = json_object();
		if (!o)
			err = -ENOMEM;
		jx_set(o, "invariant", jx_str(code), &err);
		jx_set(o, "point", jx_str(cc->point), &err);
		jx_set(o, "intent", jx_str(cc->intent), &err);
		if (json_array_append_new(a, jx_done(o, err))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The elements of an array one a line. */
static void json_lines(FILE *out, const char *key, size_t n,
		       json_t *(*elem)(const void *v, size_t i),
		       const void *v, int *err)
{
	jx_key(out, ",\n", key);
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n " : "\n ", out);
		if (jx_print(out, elem(v, i)))
			*err = -ENOMEM;
	}
	fputs(n ? "\n]" : "]", out);
}

static json_t *change_at(const void *v, size_t i)
{
	return json_change(&((const struct diff_change *)v)[i]);
}

static json_t *perm_at(const void *v, size_t i)
{
	return json_perm(&((const struct diff_perm *)v)[i]);
}

static json_t *opening_at(const void *v, size_t i)
{
	return json_opening(&((const struct diff_opening *)v)[i]);
}

/* 0, or -ENOMEM when a value could not be built (the text is then cut). */
static int print_json(const struct report *r, FILE *out)
{
	const struct diff *d = r->d;
	int err = 0;

	jx_member(out, "{", "format", jx_str("sanso-diff/1"), &err);
	jx_member(out, ",\n", "old", json_side(r->o), &err);
	jx_member(out, ",\n", "new", json_side(r->n), &err);
	jx_member(out, ",\n", "at", jx_str(r->at), &err);
	jx_member(out, ",\n", "changed", json_boolean(!diff_empty(d)), &err);
	jx_member(out, ",", "opens_mynumber", json_boolean(r->opens), &err);
	jx_member(out, ",", "review_required", json_boolean(r->review),
		    &err);
	json_lines(out, "changes", d->n_changes, change_at, d->changes, &err);
	json_lines(out, "reachability", d->n_perms, perm_at, d->perms, &err);
	json_lines(out, "mynumber_openings", d->n_openings, opening_at,
		   d->openings, &err);
	jx_member(out, ",\n", "mynumber_openings_dropped",
		    jx_uint(d->openings_dropped), &err);
	jx_member(out, ",\n", "t8_paths_added", json_strv(&d->t8_added),
		    &err);
	jx_member(out, ",\n", "t8_paths_removed",
		    json_strv(&d->t8_removed), &err);
	jx_member(out, ",\n", "sanctioned_added", json_strv(&d->sanctioned),
		    &err);
	jx_member(out, ",\n", "guideline", json_guideline(d), &err);
	jx_member(out, ",\n", "t8_incomplete", json_boolean(d->t8_cut),
		    &err);
	jx_key(out, ",\n", "diagnostics");
	jx_key(out, "{", "old");
	diags_print_json(&r->o->d, out);
	jx_key(out, ",", "new");
	diags_print_json(&r->n->d, out);
	fputs("}}\n", out);
	return err;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *at = NULL, *format = "text";
	struct side o = { 0 }, n = { 0 };
	struct diff *d = NULL;
	struct report r = { .o = &o, .n = &n };
	int c, ret, y, mo, dd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
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
	if (strcmp(format, "text") && strcmp(format, "markdown") &&
	    strcmp(format, "json")) {
		cmd_err("diff", "unknown format \"%s\" (text, markdown or "
			"json)", format);
		return EXIT_USAGE;
	}
	if (optind != argc - 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	o.path = argv[optind];
	n.path = argv[optind + 1];

	ret = side_load(&o, at);
	if (ret == EXIT_OK || ret == EXIT_FINDINGS) {
		int r2 = side_load(&n, at);

		if (ret == EXIT_OK || r2 == EXIT_USAGE || r2 == EXIT_SYSTEM)
			ret = r2;
	}
	if (ret)
		goto out;
	ret = EXIT_FINDINGS;
	if (strcmp(o.m->site ? o.m->site : "", n.m->site ? n.m->site : "") ||
	    o.m->version != n.m->version) {
		cmd_err("diff", "%s is site \"%s\" version %d, %s is site "
			"\"%s\" version %d: not two versions of one zone file",
			o.path, o.m->site ? o.m->site : "?", o.m->version,
			n.path, n.m->site ? n.m->site : "?", n.m->version);
		goto out;
	}
	if (diff_models(o.m, o.p, n.m, n.p, n.today, &d)) {
		cmd_err("diff", MSG_AS_IS, strerror(ENOMEM));
		ret = EXIT_SYSTEM;
		goto out;
	}
	civil_from_days(n.today, &y, &mo, &dd);
	snprintf(r.at, sizeof(r.at), "%04d-%02d-%02d", y, mo, dd);
	r.d = d;
	r.opens = diff_opens_mynumber(d);
	r.review = r.opens || n.d.errors || d->sanctioned.n;
	if (!strcmp(format, "json")) {
		if (print_json(&r, stdout)) {
			cmd_err("diff", "out of memory");
			ret = EXIT_SYSTEM;
			goto out;
		}
	} else if (!strcmp(format, "markdown")) {
		print_markdown(&r, stdout);
	} else {
		print_text(&r, stdout);
	}
	if (fflush(stdout)) {
		cmd_err("diff", "write: %s", strerror(errno));
		ret = EXIT_SYSTEM;
		goto out;
	}
	ret = r.review ? EXIT_FINDINGS : EXIT_OK;
out:
	diff_free(d);
	side_free(&o);
	side_free(&n);
	return ret;
}
