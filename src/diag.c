// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "i18n.h"

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

void json_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void diags_print_json(const struct diags *d, FILE *out)
{
	fputc('[', out);
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		fputs(i ? ",\n " : "\n ", out);
		fputs("{\"file\":", out);
		json_str(out, g->loc.file);
		fprintf(out, ",\"line\":%d,\"column\":%d,\"severity\":",
			g->loc.line, g->loc.col);
		json_str(out, sev_name(g->sev));
		fputs(",\"code\":", out);
		json_str(out, g->code);
		fputs(",\"message\":", out);
		json_str(out, g->msg);
		fputs(",\"flow\":", out);
		json_str(out, g->flow);
		if (g->note) {
			fputs(",\"note\":", out);
			json_str(out, g->note);
		}
		fputc('}', out);
	}
	fputs(d->n ? "\n]\n" : "]\n", out);
}
