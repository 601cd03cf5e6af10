/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Alerts (SPEC §7-8): what the monitor (and the DNS guard) report, and the
 * pipeline that takes them to the sinks: dedup -> JSON line with the
 * HMAC chain (seq, prev) -> JSON lines file, syslog, exec.
 *
 * Producers fill a struct alert and call alerter_emit(); it never blocks
 * on a sink and never drops an alert silently (a failing sink spools to
 * disk and retries; counters say what happened).
 */
#ifndef SANSO_ALERT_H
#define SANSO_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "model.h"
#include "parse.h"

enum alert_type {
	ALERT_CROSS_ZONE,
	ALERT_OFF_HOURS,
	ALERT_BLOCKED,
	ALERT_DRIFT,
	ALERT_FQDN_STALE,
	ALERT_FQDN_CAP,		/* a name hit its address cap */
	ALERT_OVERRUN,
	ALERT_CONFIG_ERROR,
	ALERT_MAINTENANCE_CLOSED,
	ALERT_SUPPRESSED,	/* the periodic "N suppressed" summary */
	ALERT_TYPE_COUNT
};

/* "cross_zone", "off_hours", ... as in the JSON records. */
const char *alert_type_name(enum alert_type t);

struct alert {
	enum alert_type type;
	struct timespec time;	/* when it happened (UTC) */
	char src_zone[32];	/* zone names, "" when unknown */
	char dst_zone[32];
	int src_tier, dst_tier;	/* enum tier, or -1: for the severity */
	uint8_t proto;		/* IPPROTO_*, 0 when not about a packet */
	bool has_addrs;
	struct prefix src, dst;	/* full-length addresses */
	uint16_t sport, dport;	/* or ICMP type in dport */
	char flow[32];		/* permitting flow, "" for null */
	uint64_t count;		/* events folded in; 1 for a single one */
	char message[256];
};

/* critical when either end is in a mynumber zone, high for lgwan, else
 * medium. */
const char *alert_severity(const struct alert *a);

struct alerter;

struct alerter_conf {
	const char *site;
	const char *host;	/* gateway hostname */
	const char *timezone;	/* the zone file's: for "time" */
	const struct sink *sinks;	/* from the model; borrowed */
	size_t n_sinks;
	uint32_t dedup_seconds;
	const char *state_dir;	/* HMAC key, spool, chain state */
	size_t dedup_max;	/* bound of the dedup table (0: default) */
};

/* NULL with errno. The configuration is copied. */
struct alerter *alerter_new(const struct alerter_conf *conf);
/* Takes one alert (copied). Dedup: identical (type, src, dst, proto,
 * dport) within dedup_seconds fold into one with a count. */
int alerter_emit(struct alerter *al, const struct alert *a);
/* Periodic work: emits folded alerts whose window closed, the
 * "N suppressed" summary, retries spooled deliveries. */
void alerter_tick(struct alerter *al, time_t now);
/* SIGHUP: reopen the JSON lines file (logrotate) and take new sinks. */
int alerter_reconfigure(struct alerter *al, const struct alerter_conf *conf);
/* SIGTERM: flush everything pending, then free. NULL is fine. */
void alerter_free(struct alerter *al);

struct alerter_stats {
	uint64_t emitted, folded, delivered, spooled, failed;
};
void alerter_stats(const struct alerter *al, struct alerter_stats *st);

/*
 * The audit chain (SPEC §8), also used for deployment records: appends
 * one JSON object (given without seq/prev, as "{...}") to `path`, adding
 * "seq" and "prev" = HMAC-SHA-256 of the previous line under the key in
 * `state_dir` (created 0600 on first use). Returns 0 or -errno.
 */
int audit_append(const char *state_dir, const char *path,
		 const char *json_obj);

#endif
