/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The subcommands. Each lives in src/cmd_NAME.c, parses its own options,
 * prints, and returns the process exit status.
 */
#ifndef SANSO_CMD_H
#define SANSO_CMD_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "diag.h"
#include "model.h"
#include "policy.h"

enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1,
	EXIT_USAGE = 2,
	EXIT_SYSTEM = 3,
};

int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_confirm(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_verify_log(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_dnsguard(int argc, char **argv);
int cmd_resolve(int argc, char **argv);

/* --state-dir and --help, for commands that take nothing else. Returns the
 * exit status to stop with, or -1 to go on. */
int cmd_state_opts(const char *cmd, int argc, char **argv,
		   const char **state);

/* A zone file loaded, validated and compiled for a command. */
struct loaded {
	struct model *m;
	struct policy *policy;
	struct diags d;
	time_t when;		/* --at, or now */
	int32_t today;		/* its local date */
};

/* Loads and validates `path` as of `at` (NULL: now) and builds the
 * policy. Findings go to stderr; errors stop it. Returns an exit status:
 * 0, EXIT_FINDINGS, EXIT_USAGE (bad --at) or EXIT_SYSTEM. */
int cmd_load(const char *cmd, const char *path, const char *at,
	     struct loaded *l);
/* Same, from the file's bytes already read (apply records exactly what
 * it compiled). */
int cmd_load_buf(const char *cmd, const char *path, const char *buf,
		 size_t len, const struct model_opts *o, const char *at,
		 struct loaded *l);
void loaded_free(struct loaded *l);
/* Parses --at (NULL: now) in the model's timezone. 0 or -EINVAL. */
int cmd_when(const struct model *m, const char *at, time_t *when,
	     int32_t *today);
bool table_name_ok(const char *s);

/* Prints "Usage: sanso NAME SYNOPSIS" and the command's description from
 * the command table (src/main.c). */
void cmd_usage(FILE *out, const char *name);

/* "sanso: check: message" on stderr. */
void cmd_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
