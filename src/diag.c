// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "i18n.h"
#include "json.h"

#define DIAG_DEFAULT_MAX 10000

void diag_add(struct diags *d, const struct loc *loc, enum diag_sev sev,
	      const char *code, const char *flow, const char *fmt, ...)
{
	struct diag *g;
	va_list ap;
	size_t max = d->max ? d->max : DIAG_DEFAULT_MAX;

	if (sev == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n >= max)
		goto lost;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			goto lost;
		d->v = v;
		d->cap = cap;
	}
	g = &d->v[d->n];
	memset(g, 0, sizeof(*g));
	if (loc) {
		g->loc = *loc;
		g->loc.file = loc->file ? strdup(loc->file) : NULL;
	}
	g->sev = sev;
	snprintf(g->code, sizeof(g->code), "%s", code);
	g->flow = flow ? strdup(flow) : NULL;
	va_start(ap, fmt);
	if (vasprintf(&g->msg, _(fmt), ap) < 0)
		g->msg = NULL;
	va_end(ap);
	if (!g->msg) {
		free((char *)g->loc.file);
		free(g->flow);
		goto lost;
	}
	d->n++;
	return;
lost:
	d->dropped++;
}

void diag_note(struct diags *d, const char *fmt, ...)
{
	struct diag *g;
	va_list ap;
	char *note;

	if (!d->n)
		return;
	g = &d->v[d->n - 1];
	va_start(ap, fmt);
	if (vasprintf(&note, _(fmt), ap) < 0)
		note = NULL;
	va_end(ap);
	if (!note)
		return;
	free(g->note);
	g->note = note;
}

int diag_has(const struct diags *d, const char *code)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].code, code))
			return 1;
	return 0;
}

void diags_free(struct diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free((char *)d->v[i].loc.file);
		free(d->v[i].msg);
		free(d->v[i].flow);
		free(d->v[i].note);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static const char *sev_name(enum diag_sev s)
{
	return s == DIAG_ERROR ? "error" : "warning";
}

int diag_color(FILE *out)
{
	const char *no = getenv("NO_COLOR");

	return (!no || !*no) && isatty(fileno(out));
}

void diag_word(FILE *out, const char *word)
{
	const char *sgr = !strcmp(word, "error")   ? "1;31" :
			  !strcmp(word, "warning") ? "1;35" : "1;36";

	if (diag_color(out))
		fprintf(out, "\033[%sm%s\033[m", sgr, word);
	else
		fputs(word, out);
}

void diag_sev_print(FILE *out, enum diag_sev sev)
{
	diag_word(out, sev_name(sev));
}

void diags_print_text(const struct diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		if (g->loc.file && g->loc.line > 0)
			fprintf(out, "%s:%d:%d: ", g->loc.file, g->loc.line,
				g->loc.col);
		else if (g->loc.file)
			fprintf(out, "%s: ", g->loc.file);
		diag_sev_print(out, g->sev);
		fprintf(out, "[%s]: %s\n", g->code, g->msg);
		if (!g->note)
			continue;
		if (g->loc.file && g->loc.line > 0)
			fprintf(out, "%s:%d:%d: ", g->loc.file, g->loc.line,
				g->loc.col);
		else if (g->loc.file)
			fprintf(out, "%s: ", g->loc.file);
		diag_word(out, "note");
		fprintf(out, ": %s\n", g->note);
	}
}

void diags_print_summary(const struct diags *d, FILE *out)
{
	if (d->dropped)
		fprintf(out, _("(%zu more findings not shown)\n"), d->dropped);
	fprintf(out, _("%u error%s, %u warning%s\n"), d->errors,
		d->errors == 1 ? "" : "s", d->warnings,
		d->warnings == 1 ? "" : "s");
}

/* One finding a line, each object printed by jansson. */
void diags_print_json(const struct diags *d, FILE *out)
{
	fputc('[', out);
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		json_t *o = json_object();
		int err = 0;

		fputs(i ? ",\n " : "\n ", out);
		if (!o) {
			fputs("null", out);
			continue;
		}
		jx_set(o, "file", jx_str(g->loc.file), &err);
		jx_set(o, "line", json_integer(g->loc.line), &err);
		jx_set(o, "column", json_integer(g->loc.col), &err);
		jx_set(o, "severity", jx_str(sev_name(g->sev)), &err);
		jx_set(o, "code", jx_str(g->code), &err);
		jx_set(o, "message", jx_str(g->msg), &err);
		jx_set(o, "flow", jx_str(g->flow), &err);
		if (g->note)
			jx_set(o, "note", jx_str(g->note), &err);
		if (err) {
			json_decref(o);
			o = json_null();
		}
		jx_print(out, o);
	}
	fputs(d->n ? "\n]\n" : "]\n", out);
}
