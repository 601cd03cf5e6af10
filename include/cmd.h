/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The subcommands. Each lives in src/cmd_NAME.c, parses its own options,
 * prints, and returns the process exit status.
 */
#ifndef SANSO_CMD_H
#define SANSO_CMD_H

#include <stdio.h>

enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1,
	EXIT_USAGE = 2,
	EXIT_SYSTEM = 3,
};

int cmd_check(int argc, char **argv);

/* Prints "Usage: sanso NAME SYNOPSIS" and the command's description from
 * the command table (src/main.c). */
void cmd_usage(FILE *out, const char *name);

/* "sanso: check: message" on stderr. */
void cmd_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
