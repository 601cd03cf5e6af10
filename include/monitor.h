/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The violation monitor's judgement (src/monitor.c), SPEC section 7:
 * conntrack events, the ruleset's drop log and the clock in, alerts out.
 *
 * It holds no socket. The command (src/cmd_monitor.c) or a replay feeds
 * it datagrams of netlink messages; what it needs from the kernel (the
 * conntrack table, the live and the deployed ruleset's digests, FQDN
 * set membership) it asks through struct monitor_ops, so that all of it
 * runs without root in tests. Every verdict comes from policy_decide().
 *
 * Time is the events' own (a conntrack entry's start time when the
 * kernel gives one, else when the message was read or captured), so a
 * replay judges as the live monitor did and gives the same alerts.
 */
#ifndef SANSO_MONITOR_H
#define SANSO_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "alert.h"
#include "ctnetlink.h"
#include "nflog.h"
#include "policy.h"

struct replay;

typedef bool (*monitor_match_fn)(void *arg, const struct ct_event *ev);
typedef int (*monitor_foreign_fn)(void *arg, const char *set,
				  uint8_t family, const uint8_t *addr);

struct monitor_ops {
	void *ctx;
	/* Removes every conntrack entry that `match` selects; returns how
	 * many, or -errno. NULL: nothing is removed (replay). */
	int (*ct_sweep)(void *ctx, monitor_match_fn match, void *arg);
	/* The deployed ruleset: its table (family inet) and digest.
	 * 0, -ENOENT when nothing is deployed, -errno. On any other
	 * error the monitor raises config_error (once per distinct error)
	 * and judges drift against the table as it found it at start. */
	int (*deployed)(void *ctx, char *table, size_t n, char hex[65]);
	/* The live table's digest: 0, -ENOENT when it does not exist.
	 * NULL: no drift checks (replay). */
	int (*live_digest)(void *ctx, const char *table, char hex[65]);
	/* 1 when a table whose digest is `hex` is what an apply or rollback
	 * under way (written ahead, not yet recorded) loads: not drift.
	 * NULL: never. */
	int (*in_change)(void *ctx, const char *table, const char *hex);
	/* Whether the kernel's FQDN set `set` (an index into the model's
	 * fqdn_sets, the address's family) holds `addr` now: 1 with
	 * *left_ms its time left (0: no timeout), 0 when it does not,
	 * -errno when it cannot be told. Asked only for an address that
	 * the monitor has not learned (monitor_fqdn_armed(), an earlier
	 * answer still in time), so a permitted connection is never judged
	 * on a stale copy of the set. NULL: assume it does (a replay cannot
	 * know), so traffic an FQDN rule could permit raises nothing. */
	int (*fqdn_element)(void *ctx, int set, const struct prefix *addr,
			    uint64_t *left_ms);
	/* Calls fn for every FQDN set element that nothing the DNS guard
	 * or `sanso resolve` learned accounts for (fqdn_state_foreign()):
	 * 0 or -errno. NULL: no such check (no guard in this loop). */
	int (*fqdn_foreign)(void *ctx, monitor_foreign_fn fn, void *arg);
};

typedef void (*monitor_emit_fn)(void *ctx, const struct alert *a);
typedef void (*monitor_tick_fn)(void *ctx, time_t now);

struct monitor_setup {
	const struct policy *policy;	/* borrowed, with its model */
	monitor_emit_fn emit;		/* every alert goes here */
	monitor_tick_fn tick;		/* alerter_tick(), once a second */
	void *ctx;			/* for emit and tick */
	struct monitor_ops ops;
	const char *table;	/* watched when nothing is deployed */
	const char *state_dir;	/* the deployments, for messages; borrowed */
	unsigned int drift_interval;	/* seconds; 0: never (and no
					 * checks on kernel events) */
};

struct monitor_stats {
	uint64_t messages;	/* netlink messages read */
	uint64_t ct_new, ct_update, ct_destroy, ct_dump;
	uint64_t judged;	/* new and dumped entries decided */
	uint64_t local;		/* the gateway's own, link scope */
	uint64_t related;	/* expected connections (conntrack helpers) */
	uint64_t nflog;		/* logged packets */
	uint64_t nflog_flow;	/* accepted packets of `log: true` flows */
	uint64_t nflog_link;	/* link-scope drops (ND, DHCP...) skipped */
	uint64_t nflog_gaps;	/* logged packets lost (sequence gaps) */
	uint64_t malformed;	/* messages that did not parse */
	uint64_t lost;		/* buffer overruns the reader saw */
	uint64_t swept;		/* conntrack entries removed */
	/* A node of a pair (monitor_set_role()): connection alerts not
	 * reported as backup, and connections carried over by conntrackd
	 * at failover that the old master judged. */
	uint64_t ha_quiet, ha_carried;
	uint64_t alerts[ALERT_TYPE_COUNT];
};

struct monitor;

/* NULL with errno. */
struct monitor *monitor_new(const struct monitor_setup *conf);
/* Emits nothing: call monitor_flush() first to keep pending summaries. */
void monitor_free(struct monitor *mon);

/* A reloaded zone file (SIGHUP). The old policy may be freed once this
 * returned 0; on -ENOMEM the monitor keeps the old one. */
int monitor_set_policy(struct monitor *mon, const struct policy *policy);
const struct policy *monitor_policy(const struct monitor *mon);

/* monitor_feed() result bits. */
#define MONITOR_FEED_DONE	0x1	/* an NLMSG_DONE ended a dump */
#define MONITOR_FEED_ERROR	0x2	/* an NLMSG_ERROR with an error */

/* One datagram of netlink messages of protocol `proto` (NETLINK_NETFILTER:
 * conntrack and nflog; NETLINK_ROUTE: the gateway's addresses) read or
 * captured at `ts`. */
int monitor_feed(struct monitor *mon, int proto, const void *buf, size_t len,
		 const struct timespec *ts);

/* The handlers monitor_feed() calls, for tests. */
void monitor_ct_event(struct monitor *mon, const struct ct_event *ev,
		      const struct timespec *ts);
void monitor_nflog(struct monitor *mon, const struct nflog_pkt *p,
		   const struct timespec *ts);
/* The gateway's own addresses: never judged as cross-zone traffic. */
void monitor_local_addr(struct monitor *mon, const struct prefix *a,
			bool add);

/* The DNS guard armed `addr` in FQDN set `set` until `until_ms`
 * (milliseconds since the epoch): connections to it up to then are
 * judged permitted without asking the kernel. */
void monitor_fqdn_armed(struct monitor *mon, int set, const struct prefix *addr,
			int64_t until_ms);

/* The reader lost `n` buffers' worth of messages (ENOBUFS): an
 * `overrun` alert; `what` names the socket and what is done about it. */
void monitor_overrun(struct monitor *mon, const struct timespec *ts,
		     uint64_t n, const char *what);
/* A SIGHUP reload failed, or the DNS guard did not start: a
 * `config_error` alert. */
void monitor_config_error(struct monitor *mon, const struct timespec *ts,
			  const char *message);

/*
 * A node of a redundant pair (gateway.ha), as the command learns it from
 * keepalived's notify script (sanso(8), A REDUNDANT PAIR). Connection
 * alerts (cross_zone, off_hours, blocked, logged, maintenance_closed)
 * come from the master only, since only the master forwards: as
 * MONITOR_BACKUP they are counted in ha_quiet, not emitted. As
 * MONITOR_MASTER since `since`, a connection that started before then
 * was committed by conntrackd from the old master, which judged it: it
 * is counted in ha_carried, not judged again. MONITOR_ALONE (no pair,
 * or the role unknown) reports everything, the default.
 */
enum monitor_role {
	MONITOR_ALONE,
	MONITOR_MASTER,
	MONITOR_BACKUP,
};
void monitor_set_role(struct monitor *mon, enum monitor_role role,
		      const struct timespec *since);

/* Once a second (and at the start): schedule changes (maintenance
 * windows ending), drift, aggregated drops whose window closed, the
 * alerter's own tick. */
void monitor_tick(struct monitor *mon, const struct timespec *now);
/* The kernel reported a change to the watched table (an nf_tables event
 * other than an FQDN set's elements), or events were lost: the drift
 * check runs at the next tick once the burst is over (a second without
 * one, or ten seconds after its first), not only every drift_interval. */
void monitor_table_changed(struct monitor *mon, time_t now);
/* Emits every pending aggregate (before exit). */
void monitor_flush(struct monitor *mon, const struct timespec *now);

void monitor_stats(const struct monitor *mon, struct monitor_stats *st);
/* Every conntrack event and logged packet read. */
uint64_t monitor_events(const struct monitor_stats *st);

/* Feeds a whole capture, ticking at each new second of capture time,
 * and flushes at its end. Returns the number of records, or -errno
 * (the records before a malformed one were fed). */
long monitor_replay(struct monitor *mon, struct replay *r);

#endif
