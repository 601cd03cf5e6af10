/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The report (SPEC §8b): alert lines counted in one streaming pass over
 * any number of files, plain or gzip-compressed (logrotate's), into
 * tables whose size does not depend on the number of lines; then the
 * page (HTML with inline SVG) or JSON that `sanso report` writes.
 *
 * Counting never prints and never fails on a line: a line that is not
 * an alert record is counted as invalid (with the first few places kept
 * for the page) and skipped.
 */
#ifndef SANSO_REPORT_H
#define SANSO_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "alert.h"
#include "diag.h"
#include "model.h"

/* Bounds of the tables, whatever the period (memory stays < 10 MB). */
#define REPORT_MAX_PAIRS	4096	/* zone pairs; more fold into one */
#define REPORT_MAX_DAYS		4096	/* days of the daily series */
#define REPORT_MAX_SOURCES	4096	/* sources tracked (Space-Saving) */
#define REPORT_TOP_SOURCES	10
#define REPORT_MAX_OTHER_TYPES	16	/* unknown type names kept */
#define REPORT_MAX_SESSIONS	512	/* maintenance sessions kept */
#define REPORT_MAX_CLOSED	512	/* maintenance_closed events kept */
#define REPORT_MAX_BAD		8	/* places of invalid lines kept */
#define REPORT_LINE_MAX		65536	/* longer lines are invalid */

enum report_sev {
	REPORT_SEV_CRITICAL,
	REPORT_SEV_HIGH,
	REPORT_SEV_MEDIUM,
	REPORT_SEV_LOW,
	REPORT_SEV_INFO,
	REPORT_SEV_OTHER,
	REPORT_SEV_COUNT
};
const char *report_sev_name(enum report_sev s);

struct report_pair {
	char src_zone[32], dst_zone[32];	/* "" for null */
	uint64_t count;
	uint64_t by_sev[REPORT_SEV_COUNT];
};

struct report_source {
	char addr[48];
	char zone[32];		/* of its first record */
	uint64_t count;		/* records; an overestimate by at most */
	uint64_t error;		/* this once the table was full */
};

struct report_day {
	int32_t day;		/* local date, days since 1970-01-01 */
	uint64_t count;
};

/* A maintenance session: the connections of one `log: true` flow from
 * its first `logged` record to the flow's `maintenance_closed` record
 * (or the end of the period: still open). */
struct report_session {
	char flow[32];
	char window[96];	/* the schedule, and its window if dated */
	time_t start, end;	/* end 0: not closed within the period */
	time_t last;		/* last connection seen */
	uint64_t connections;
};

struct report_closed {
	time_t time;
	char flow[32];
	char src_zone[32], dst_zone[32];
	char message[256];
};

struct report_bad {
	char file[256];
	uint64_t line;
	char why[48];
};

struct report_type_count {
	char name[32];
	uint64_t count;
};

/* What counting found. All tables are sorted for output by
 * report_finish(). */
struct report_counts {
	uint64_t lines;		/* lines read, every file */
	uint64_t total;		/* alert records in the period */
	uint64_t events;	/* their "count" summed: events folded in */
	uint64_t outside;	/* valid records outside the period */
	uint64_t chain;		/* chain lines ({"chain":...}): no alert */
	uint64_t invalid;	/* not an alert record */
	struct report_bad bad[REPORT_MAX_BAD];
	size_t n_bad;

	uint64_t by_type[ALERT_TYPE_COUNT];
	struct report_type_count other_types[REPORT_MAX_OTHER_TYPES];
	size_t n_other_types;
	uint64_t other_types_folded;	/* past the table: "other" */
	uint64_t by_sev[REPORT_SEV_COUNT];
	uint64_t how[7][24];	/* hour of week, Monday first, local */

	struct report_pair *pairs;	/* by count, descending */
	size_t n_pairs;
	uint64_t pairs_folded;	/* records of pairs past the table */

	struct report_day *days;	/* by date */
	size_t n_days;
	uint64_t days_folded;

	struct report_source top[REPORT_TOP_SOURCES];
	size_t n_top;
	bool sources_exact;	/* the table never overflowed */

	struct report_session *sessions;	/* by start */
	size_t n_sessions;
	uint64_t sessions_dropped;
	struct report_closed *closed;	/* by time */
	size_t n_closed;
	uint64_t closed_dropped;

	time_t first, last;	/* of the records counted (0: none) */
};

struct report_conf {
	const char *tz;		/* IANA name for hour of week and days;
				 * NULL: UTC */
	bool has_since, has_until;
	time_t since, until;	/* [since, until) */
	const struct model *m;	/* optional: maintenance windows */
};

struct report;

/* NULL with errno. Everything in conf is copied except m, borrowed. */
struct report *report_new(const struct report_conf *conf);
void report_free(struct report *r);

/*
 * Counts one line (without its newline); `file` and `lineno` name it
 * for the list of invalid lines. Returns 0 (counted, or outside the
 * period, or a chain line) or -EINVAL (invalid, counted as such).
 */
int report_line(struct report *r, const char *file, uint64_t lineno,
		const char *line, size_t len);

/* What one file held. */
struct report_file {
	uint64_t lines;
	uint64_t invalid;
	bool compressed;
};

/*
 * Streams a file, plain or gzip (by its magic, not its name), through
 * report_line(); `copy`, if not negative, receives the decompressed
 * bytes (the verifier's copy of a compressed file). 0, or -errno when
 * it cannot be read (a damaged gzip stream is -EBADMSG: what was read
 * before the damage is counted).
 */
int report_read(struct report *r, const char *path, int copy,
		struct report_file *out);

/* Sorts the tables and fills `c` (borrowed from r, valid until the next
 * report_line() or report_free()). */
void report_finish(struct report *r, const struct report_counts **c);

/* Local date (days since epoch) and hour of week (day 0 = Monday) of
 * an instant in tz (NULL: UTC). 0 or -EINVAL. */
int report_local(const char *tz, time_t t, int32_t *day, int *wday,
		 int *hour);

/* Parses an RFC 3339 time with an offset ("2026-11-24T22:03:11.482+09:00"
 * or "...Z") to UTC seconds. 0 or -EINVAL. */
int report_parse_time(const char *s, size_t n, time_t *out);

/* How a file starts: the time of its first record, and whether its
 * first line carries on the chain of the file before it (logrotate's
 * rename: previous_file, previous_seq, and prev, the HMAC of that
 * file's last line, as hex). */
struct report_start {
	time_t first;		/* 0: no record */
	bool continued;
	uint64_t prev_seq;
	char prev_file[256];
	char prev_mac[65];
};
/* 0 or -errno. */
int report_file_start(const char *path, struct report_start *s);

/* ---- the document ---- */

/* One line of STATE/audit.log. */
struct report_deploy {
	char time[40];		/* as recorded (site time) */
	char action[32];
	unsigned int deployment, previous;
	char user[64];
	char detail[160];
};

/* Parses one audit.log line into d, and its time into *t: 0 or
 * -EINVAL. */
int report_audit_line(const char *line, size_t len, struct report_deploy *d,
		      time_t *t);

/* One log and its verification. */
struct report_log {
	const char *path;
	uint64_t lines, invalid;
	bool compressed;
	int read_error;		/* -errno, 0 */
	int verified;		/* 1 intact, 0 tampered, -1 not checked */
	unsigned int problems;	/* findings when tampered */
	char note[256];		/* the first finding, or why not checked */
};

struct report_doc {
	const char *site;
	const char *host;	/* the gateway's name */
	const char *tz;
	char generated[40];	/* RFC 3339, site time */
	char since[40], until[40];	/* "" when open */
	bool ja;

	/* the deployment */
	bool deployed;
	unsigned int current;
	char current_time[40], current_user[64], zone_sha256[65];
	char ruleset_sha256[65];
	struct report_deploy *deploys;	/* the last ones, oldest first */
	size_t n_deploys;
	uint64_t deploys_omitted;
	struct report_log audit;	/* path NULL: no audit.log */

	/* the model of the current deployment (NULL: none) */
	const struct model *m;
	const struct diags *findings;	/* check as of `generated` */
	const char *business;	/* the schedule marked on the heat map */

	struct report_log *logs;
	size_t n_logs;
	const struct report_counts *c;
};

/* The guideline point a code enforces, from check_code_find(), in the
 * language asked, written into buf; NULL for a code without one. */
const char *report_guideline(const char *code, bool ja, char *buf, size_t n);

/* Writes the JSON document; the HTML page. The caller owns `out`.
 * 0, or -EIO when writing failed. */
int report_write_json(FILE *out, const struct report_doc *doc);
int report_write_html(FILE *out, const struct report_doc *doc);

#endif
