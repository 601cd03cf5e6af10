/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS guard (SPEC §6): a small forwarding resolver on the gateway
 * for the zones whose flows go to FQDN sets.
 *
 * A query for a name that matches a set is forwarded to the upstream
 * resolvers (a new random ID and source port per attempt; on timeout,
 * error or a bad reply the next upstream is tried); the addresses of the
 * answer's CNAME chain are armed in the matching fqdn-NAME-v4/-v6 sets
 * (src/fqdnstate.c) and only after the kernel acknowledged the batch is
 * the answer released, unchanged but for its ID.  A failed set update
 * gives SERVFAIL; a name that matches no set gives REFUSED without any
 * lookup.  Answers are cached for their TTL, and a cache hit re-arms the
 * elements as an upstream answer does.  When every upstream fails, the
 * last good addresses (within max_stale) are re-armed and served with a
 * 30-second TTL, and fqdn_stale is raised.
 *
 * Single-threaded and non-blocking: the caller polls one descriptor and
 * calls dnsguard_process() when it is readable or when the timeout from
 * dnsguard_timeout() has passed.  Each call does a bounded amount of
 * work.  The only blocking step is the netlink transaction that arms
 * the elements, which the kernel completes within the send.  The answers
 * ready in one round of events share that transaction (and its ACK, on
 * one netlink socket kept open), and are released after it; an answer
 * whose elements the kernel refuses still gets SERVFAIL on its own.
 */
#ifndef SANSO_DNSGUARD_H
#define SANSO_DNSGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "fqdnstate.h"
#include "model.h"

struct dnsguard_conf {
	const char *table;		/* table inet NAME; NULL: "sanso" */
	const char *state_dir;		/* fqdn.state lives here; NULL: none */
	/* Override the model's gateway.dns (n == 0: the model's; no listen
	 * address anywhere: 0.0.0.0 and :: port 53). */
	const struct hostport *listen;
	size_t n_listen;
	const struct hostport *upstream;
	size_t n_upstream;
	unsigned int timeout_ms;	/* per upstream attempt; 0: 1000 */
	unsigned int attempts;		/* 0: 2, or one per upstream if more */
	unsigned int save_every;	/* seconds between saves; 0: 300 */
	size_t cache_max;		/* cached answers; 0: 4096 */
	size_t pending_max;		/* queries upstream at once; 0: 1024 */
	size_t tcp_max;			/* client TCP connections; 0: 64 */
	const struct fqdn_kernel *kernel;	/* NULL: netlink */
	struct fqdn_hooks hooks;	/* log lines and alerts */
};

struct dnsguard;

/*
 * Restores the state directory's elements into the kernel sets (which
 * also checks that every set exists), then opens the listening sockets.
 * NULL with errno and the reason in err.  The model may be freed after.
 */
struct dnsguard *dnsguard_new(const struct model *m,
			      const struct dnsguard_conf *conf,
			      char *err, size_t errlen);
/* Saves the state (when there is a state directory), closes all. */
void dnsguard_free(struct dnsguard *g);
/*
 * SIGHUP: the sets, their limits and the upstream resolvers of a new
 * model, keeping the listening sockets (so it works after privileges
 * were dropped; a new gateway.dns.listen needs a restart).  What was
 * learned goes over through the state directory (without one it is
 * forgotten; the kernel elements still run out on their own).  The
 * cache is emptied.  0, or -errno with the reason in err and the old
 * configuration kept.
 */
int dnsguard_reload(struct dnsguard *g, const struct model *m, char *err,
		    size_t errlen);

/* One descriptor to poll for POLLIN (an epoll set of all of ours). */
int dnsguard_fd(const struct dnsguard *g);
/* Milliseconds until dnsguard_process() must run even without input. */
int dnsguard_timeout(const struct dnsguard *g);
/* Handles what is ready and what timed out; never blocks.  0 or -errno
 * on a failure of the guard itself (not of one query). */
int dnsguard_process(struct dnsguard *g);
/* Writes the state file now. */
int dnsguard_save(struct dnsguard *g);

/* The address of listening socket i (UDP and TCP share it), for tests
 * that listen on port 0; -ENOENT past the last. */
int dnsguard_listen_addr(const struct dnsguard *g, size_t i,
			 struct sockaddr_storage *ss);

struct dnsguard_stats {
	uint64_t queries;		/* well-formed queries received */
	uint64_t refused;		/* no set matched, or not served */
	uint64_t nodata;		/* A or AAAA no flow of its sets
					 * can use: NOERROR, no records */
	uint64_t formerr;		/* malformed queries */
	uint64_t cache_hits;
	uint64_t forwarded;		/* upstream attempts sent */
	uint64_t answered;		/* answers released after the ACK */
	uint64_t servfail;		/* set update or upstream failed */
	uint64_t stale;			/* answered from the last good answer */
	uint64_t bad_replies;		/* malformed or mismatched upstream */
	uint64_t dropped;		/* over pending_max, tcp_max */
	struct fqdn_stats fqdn;
};
void dnsguard_stats(const struct dnsguard *g, struct dnsguard_stats *st);
/* What the guard learned, for the monitor's element drift check; valid
 * until the next dnsguard_reload() or dnsguard_free(). */
struct fqdn_state *dnsguard_fqdn(struct dnsguard *g);

/*
 * One blocking exchange with the upstream resolvers, for `sanso
 * resolve`: each upstream in turn over UDP (TCP when the answer is
 * truncated), `timeout_ms` per attempt.  On success *reply holds the
 * parsed answer (free it with dns_msg_free()) and 0 is returned; an
 * upstream that answers SERVFAIL, REFUSED or garbage counts as failed.
 * -ETIMEDOUT, -EHOSTUNREACH... from the last attempt otherwise.
 * *which is the index of the upstream that answered (or last failed).
 */
int dnsguard_exchange(const struct hostport *up, size_t n_up,
		      const struct dns_name *qname, uint16_t qtype,
		      unsigned int timeout_ms, struct dns_msg *reply,
		      size_t *which);

/*
 * The dnsmasq configuration for sites that keep dnsmasq as the DMZ
 * resolver (sanso compile --dnsmasq), for dnsmasq 2.90: one nftset= line
 * per domain ("*.d" becomes /d/), naming the kernel sets of every set
 * with a domain at or above it.  Deterministic.  0 or -errno (write
 * error).
 */
int dnsmasq_print(const struct model *m, const char *table, FILE *out);

/*
 * What the dnsguard and resolve commands share (src/cmd_dnsguard.c):
 * log lines on stderr, alerts through the zone file's sinks (or one
 * JSON lines file), the table and the state directory.
 */
struct alerter;

struct guard_cli {
	const char *cmd;		/* "dnsguard", "resolve" */
	bool verbose;			/* LOG_DEBUG lines too */
	const char *state_dir;
	const char *jsonl;		/* --jsonl: instead of the sinks */
	struct alerter *al;
	struct sink jsonl_sink;
	char host[256];
	char table[72];
};

/* Picks the table (--table, else the deployed one, else "sanso"),
 * creates the state directory and the alerter.  0 or an exit status. */
int guard_cli_open(struct guard_cli *c, const struct model *m,
		   const char *table);
/* What both commands do after cmd_parse(): take its options, load and
 * validate the zone file, insist on an upstream resolver, then
 * guard_cli_open(). Returns an exit status. */
struct loaded;
struct cmd_opts;
int guard_cli_start(struct guard_cli *c, const struct cmd_opts *o,
		    struct loaded *l);
/* SIGHUP and SIGUSR1: the sinks of `m`, the JSON lines file reopened. */
int guard_cli_reconfigure(struct guard_cli *c, const struct model *m);
/* Flushes and frees the alerter. */
void guard_cli_close(struct guard_cli *c);
/* struct fqdn_hooks callbacks; arg is the struct guard_cli. */
void guard_cli_log(void *arg, int prio, const char *msg);
void guard_cli_alert(void *arg, const struct alert *a);

/* The commands (also to be declared in include/cmd.h). */
int cmd_dnsguard(int argc, char **argv);
int cmd_resolve(int argc, char **argv);

#endif
