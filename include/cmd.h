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
int cmd_report(int argc, char **argv);

/*
 * Under the state lock, before a command changes the state: settles an
 * interrupted change (deploy_settle()) and, with `expire`, rolls back a
 * pending deployment whose deadline has passed (its timer is gone or
 * late). Says on stderr what it did. 0, or the exit status to stop with.
 */
int cmd_settle(const char *cmd, const char *state, bool expire);
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

/* ---- the long-running commands: monitor, dnsguard, resolve
 * (src/cmd_loop.c) ---- */

/* Shared options a command takes besides --state-dir, --table, --jsonl
 * and --help, which all of them take. */
#define CMD_OPT_DATA_DIR	0x1	/* --data-dir DIR */
#define CMD_OPT_VERBOSE		0x2	/* -v, --verbose */
#define CMD_OPT_NO_FILE		0x4	/* FILE may be left out: path NULL */

struct cmd_opts {
	const char *state_dir;	/* default DEPLOY_STATE_DIR */
	const char *data_dir;	/* NULL unless given */
	const char *table;	/* NULL unless given; checked */
	const char *jsonl;	/* NULL unless given */
	bool verbose;
	const char *path;	/* the one operand: the zone file */
};

/* One of a command's own options (optarg in `arg`): 0 to go on, or the
 * exit status to stop with, having said why. */
typedef int (*cmd_opt_fn)(void *ctx, int opt, const char *arg);

struct option;
struct cmd_parser {
	const char *cmd;
	unsigned int shared;		/* CMD_OPT_* */
	const struct option *own;	/* ended by { 0 }; values below
					 * 0x100 */
	cmd_opt_fn own_fn;
	void *ctx;			/* for own_fn */
	void (*help)(FILE *out);
};

/* Parses the shared options and the command's own, then the operand.
 * Returns -1 to go on, or the exit status to stop with: EXIT_OK after
 * --help, EXIT_USAGE (help or a message on stderr), or what own_fn
 * returned. */
int cmd_parse(const struct cmd_parser *p, int argc, char **argv,
	      struct cmd_opts *o);

/* The alerter's settings for a zone file: its site, timezone, dedup and
 * sinks, or only `jsonl` (then described in *jsonl_sink, which must live
 * as long as the settings) when it is given. */
struct alerter_conf;
struct sink;
void cmd_alerter_conf(const struct model *m, const char *host,
		      const char *jsonl, struct sink *jsonl_sink,
		      const char *state_dir, struct alerter_conf *ac);

/*
 * The signals of a poll loop, read from a signalfd: SIGHUP reload()s
 * (the zone file; the command reopens its files too), SIGUSR1 reopen()s
 * the log files only (logrotate), SIGTERM and SIGINT set `stop`.
 */
struct cmd_loop {
	const char *cmd;
	void (*reload)(void *ctx);
	void (*reopen)(void *ctx);
	void *ctx;
	int sfd;
	bool stop;
};

/* Blocks the signals and opens their descriptor: EXIT_OK, or
 * EXIT_SYSTEM after a message. */
int cmd_loop_open(struct cmd_loop *l);
/* poll() of pfd[0..n-1], pfd[0] being set here to the signals, which
 * are then handled. Returns what poll() did (0 when interrupted), or -1
 * after a message. */
struct pollfd;
int cmd_loop_poll(struct cmd_loop *l, struct pollfd *pfd,
		  unsigned long n, int timeout);
void cmd_loop_close(struct cmd_loop *l);

/* Prints "Usage: sanso NAME SYNOPSIS" and the command's description from
 * the command table (src/main.c). */
void cmd_usage(FILE *out, const char *name);

/* "sanso: check: message" on stderr, the format translated. */
void cmd_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "sanso: apply: warning: message" on stderr, "warning" in colour on a
 * terminal (diag_color()). */
void cmd_warn(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
