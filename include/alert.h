/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Alerts (SPEC §7-8): what the monitor (and the DNS guard) report, and the
 * pipeline that takes them to the sinks: dedup -> JSON line with the
 * HMAC chain (seq, prev) -> JSON lines file, syslog, exec.
 *
 * Producers fill a struct alert and call alerter_emit(); it never blocks
 * on a sink and never drops an alert silently (a failing sink spools to
 * disk and retries; counters say what happened). One alerter is used by
 * one thread.
 */
#ifndef SANSO_ALERT_H
#define SANSO_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "diag.h"
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
	ALERT_LOGGED,		/* a new connection of a `log: true` flow */
	ALERT_PEER_DRIFT,	/* the pair's two live tables differ */
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
	char rule[8];		/* the invariant it concerns ("T1"), "" null */
};

/* critical when either end is in a mynumber zone, high for lgwan, else
 * medium. */
const char *alert_severity(const struct alert *a);

/* The longest line the alerter writes, newline excluded. */
#define ALERT_LINE_MAX 4096

/*
 * The JSON record without "seq" and "prev" (the chain adds them, after
 * "rule"): {"time":...,"message":"...","rule":"T1"}. `tz` NULL means UTC. src,
 * sport, dst and dport are null unless has_addrs; sport is null and dport
 * is the ICMP type for icmp and icmpv6; proto is null when 0, a name for
 * the common protocols, else the number as a string. Invalid UTF-8 in the
 * message becomes U+FFFD. Returns the length, or -ENOSPC.
 */
int alert_format(const struct alert *a, const char *site, const char *host,
		 const char *tz, char *buf, size_t n);

struct alerter;

/*
 * Everything is copied. state_dir, dedup_max, queue_max, exec_timeout_ms
 * and log_socket are taken by alerter_new() only; alerter_reconfigure()
 * takes the rest. state_dir holds audit.key (the HMAC key), chain/ (the
 * records of each chain's end) and spool/ (one file per sink, named by
 * its kind and a hash of its settings); with --user it must stay
 * writable by that user.
 */
struct alerter_conf {
	const char *site;
	const char *host;	/* gateway hostname; NULL: gethostname() */
	const char *timezone;	/* the zone file's: for "time" (NULL: UTC) */
	const struct sink *sinks;	/* from the model; borrowed */
	size_t n_sinks;
	uint32_t dedup_seconds;	/* 0: no folding */
	const char *state_dir;	/* required */
	size_t dedup_max;	/* bound of the dedup table (0: 4096) */
	uint32_t summary_seconds;	/* "N suppressed" period (0: 300) */
	size_t queue_max;	/* in-memory queue per sink (0: 256 lines) */
	uint32_t exec_timeout_ms;	/* exec sink child (0: 10000) */
	const char *log_socket;	/* syslog local socket (NULL: /dev/log) */
};

/* NULL with errno. Loads (or creates) the key in state_dir, opens the
 * sinks and picks up their spools. A sink that cannot be opened now is
 * not an error: it spools and retries. Exec children are reaped with
 * waitpid() on their pid: the caller must not reap children it did not
 * start (no waitpid(-1), no SIGCHLD set to SIG_IGN). */
struct alerter *alerter_new(const struct alerter_conf *conf);
/* Takes one alert (copied). Dedup: identical (type, src, dst, proto,
 * dport) within dedup_seconds fold into one with a count: the first is
 * emitted at once, the others are counted, and when the window closes
 * one more record carries their number in "count" (with the time, ports
 * and message of the last of them). Returns 0, or -EINVAL for a bad
 * alert; delivery problems are never an error here. */
int alerter_emit(struct alerter *al, const struct alert *a);
/*
 * Periodic work: emits folded alerts whose window closed, the
 * "N suppressed" summary, reaps exec children, reconnects, retries
 * spooled deliveries. `now` is on the clock of the alerts' times (the
 * capture's clock under --replay); call it at least once a second, and
 * whenever alerter_fd() is readable.
 */
void alerter_tick(struct alerter *al, time_t now);
/* A checkpoint record of another log's head ("SEQ:MAC"), such as the
 * audit log's as a deployment recorded it, to the syslog and exec sinks:
 * so that a head of STATE/audit.log leaves the gateway too. */
void alerter_checkpoint(struct alerter *al, const char *log, const char *head,
			time_t now);
/* A descriptor (an epoll instance) that becomes readable when a sink has
 * work for alerter_tick(): an exec child exited, a connection became
 * writable, a retry is due. Owned by the alerter. */
int alerter_fd(const struct alerter *al);
/* SIGHUP: reopen the JSON lines files (logrotate) and take new sinks; a
 * sink that is kept keeps its queue and spool. Returns 0 or -errno (then
 * the old configuration stays). */
int alerter_reconfigure(struct alerter *al, const struct alerter_conf *conf);
/* SIGTERM: emits the pending folded alerts and the "suppressed"
 * summary, delivers what it can within 3 s, spools the rest, then frees.
 * NULL is fine. */
void alerter_free(struct alerter *al);

struct alerter_stats {
	uint64_t emitted;	/* records made (after dedup) */
	uint64_t folded;	/* events folded into a later record */
	uint64_t delivered;	/* records delivered, summed over sinks */
	uint64_t spooled;	/* records written to a disk spool */
	uint64_t failed;	/* records lost (each also on stderr) */
	uint64_t evicted;	/* dedup entries closed early: table full */
	uint64_t pending;	/* records waiting, in memory or spooled */
};
void alerter_stats(const struct alerter *al, struct alerter_stats *st);

/*
 * The audit chain (SPEC §8), also used for deployment records. Every
 * line ends in "seq":N,"prev":"HEX": seq counts the file's lines from 1,
 * prev is the hex HMAC-SHA-256, under the key in state_dir/audit.key, of
 * the previous line's bytes (without its newline); line 1's prev is the
 * HMAC of the empty string. state_dir/chain/ remembers the last line
 * written to each file, so that removing the last lines is detected too.
 */
#define AUDIT_KEY_LEN	32
#define AUDIT_MAC_LEN	32

/*
 * Appends one JSON object (given without seq/prev, as "{...}", one line)
 * to `path` (created 0640), adding "seq" and "prev", under an exclusive
 * lock, and fsyncs it. The key is created on first use. Returns 0 or
 * -errno (-EINVAL: not one JSON object on one line).
 */
int audit_append(const char *state_dir, const char *path,
		 const char *json_obj);

/* Reads state_dir/audit.key; with `create`, makes it first if absent
 * (32 bytes from getrandom(), 0600). -ENOENT when absent, -EPERM when it
 * is not a regular file of the caller or root with mode 0600 or
 * stricter, -EINVAL when it is not 32 bytes. */
int audit_key_load(const char *state_dir, bool create,
		   uint8_t key[AUDIT_KEY_LEN]);
/* The same checks for another key file of the state directory (the
 * pair's shared STATE/ha.key); `create` only for audit.key. */
int audit_key_load_file(const char *state_dir, const char *name, bool create,
			uint8_t key[AUDIT_KEY_LEN]);

/* The state of a chain: the last line's seq and HMAC (seq 0 and the
 * HMAC of "" before the first line). */
struct audit_chain {
	uint64_t seq;
	uint8_t mac[AUDIT_MAC_LEN];
};

void audit_chain_init(const uint8_t key[AUDIT_KEY_LEN], struct audit_chain *c);
/* Appends "seq" and "prev" to the object obj[0..len) into out (no
 * newline) and advances c. Returns the length or -ENOSPC / -EINVAL. */
int audit_chain_line(const uint8_t key[AUDIT_KEY_LEN], struct audit_chain *c,
		     const char *obj, size_t len, char *out, size_t n);

/* What audit_verify() found, besides the findings in `d`. */
struct audit_verdict {
	uint64_t lines;		/* lines read */
	uint64_t first_seq, last_seq;
	uint64_t continues;	/* the file goes on from this seq of an
				 * earlier one (rotated); 0: it does not */
	bool tampered;		/* a finding: the chain is broken */
	bool head_checked;	/* the end matched the writer's record */
};

/*
 * Recomputes the chain of `path` under the key in state_dir and puts
 * every broken link into `d` (error, loc = the file and line number; code
 * altered, missing, order, trunc, format, start, tail, key, empty,
 * replaced, anchor, head). The log must be anchored: its end matches the
 * writer's record in state_dir/chain/ (or, without one, `head`), and an
 * empty log fails unless sanso left that very file empty. The heads that
 * state_dir/deploy/N/record keep ("audit_head SEQ:MAC") anchor
 * state_dir/audit.log too. Returns 0 (read to the end; see v->tampered)
 * or -errno (cannot read the file or the key).
 */
int audit_verify(const char *state_dir, const char *path, struct diags *d,
		 struct audit_verdict *v);
/* The same, and the log must hold `head` (seq and MAC), a head kept
 * elsewhere (a deployment record, a checkpoint at a remote sink).
 * NULL: audit_verify(). */
int audit_verify_head(const char *state_dir, const char *path,
		      const struct audit_chain *head, struct diags *d,
		      struct audit_verdict *v);

/* "SEQ:HEX", the form of a head in records, checkpoints and --head. */
#define AUDIT_HEAD_LEN	(20 + 1 + 2 * AUDIT_MAC_LEN + 1)
void audit_head_format(const struct audit_chain *c, char *buf, size_t n);
/* 0, or -EINVAL when s is not SEQ:HEX with SEQ > 0 and 64 lowercase hex
 * digits. */
int audit_head_parse(const char *s, struct audit_chain *c);
/* The head of the log at `path` as its writer recorded it in
 * state_dir/chain/ (the record of its inode, else of its path): 0,
 * -ENOENT when there is none, or -errno. */
int audit_log_head(const char *state_dir, const char *path,
		   struct audit_chain *c);

#endif
