/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnostics: a list that every stage appends to and only commands print.
 */
#ifndef SANSO_DIAG_H
#define SANSO_DIAG_H

#include <stddef.h>
#include <stdio.h>

/* A position in an input file; line and column are 1-based.
 * `file` is borrowed: it points at a string the model owns. */
struct loc {
	const char *file;
	int line;
	int col;
};

enum diag_sev {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag {
	struct loc loc;		/* loc.file is owned by the list */
	enum diag_sev sev;
	char code[8];		/* "E001", "T8", "W03" */
	char *msg;
	char *flow;		/* flow name or NULL */
	char *note;		/* a second line ("note: ..."), or NULL */
};

struct diags {
	struct diag *v;
	size_t n, cap;
	unsigned int errors, warnings;
	size_t max;		/* stop storing after this many (0: default) */
	size_t dropped;
};

/* Appends one finding. `loc` may be NULL (no position); `flow` may be NULL.
 * Never fails visibly: on ENOMEM the finding is counted in `dropped`. */
void diag_add(struct diags *d, const struct loc *loc, enum diag_sev sev,
	      const char *code, const char *flow, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Attaches a note to the finding added last (replacing any); printed as
 * its own line after it. Lost quietly on ENOMEM, like the finding. */
void diag_note(struct diags *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* True if an error with this code was recorded. */
int diag_has(const struct diags *d, const char *code);

void diags_free(struct diags *d);

/* Whether to colour what goes to `out`: a terminal, and NO_COLOR unset
 * or empty. */
int diag_color(FILE *out);
/* "error", "warning" or "note" as the word is printed before a message:
 * bold red, magenta or cyan when diag_color(out). */
void diag_word(FILE *out, const char *word);
void diag_sev_print(FILE *out, enum diag_sev sev);

/* Printers, used by commands only. */
void diags_print_text(const struct diags *d, FILE *out);
void diags_print_json(const struct diags *d, FILE *out);
void diags_print_summary(const struct diags *d, FILE *out);

#endif
