/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the DNS guard and `sanso resolve` learned for the FQDN sets
 * (SPEC §6), and the kernel sets kept in step with it.
 *
 * For every (set, queried name) the state holds the addresses its
 * answers gave, each with the time its kernel element must live until,
 * and the last good answer per address family (for max_stale).  An
 * address is armed in fqdn-SET-v4 / -v6 with the largest expiry any name
 * of the set gives it, so one name's short TTL never cuts another's
 * element short; the timeout sent is that expiry minus now, one batch
 * per answer (or per group of answers, fqdn_state_learn_batch()), all or
 * nothing.
 *
 * Never admitted: special-purpose addresses (private, shared, loopback,
 * link-local, unspecified, multicast, reserved, IPv4-mapped, ULA) and
 * the site's own zone networks, except the 0.0.0.0/0 and ::/0 default
 * routes of external zones.
 *
 * Times are milliseconds since the epoch (CLOCK_REALTIME), given by the
 * caller, so that tests control the clock.  Nothing here prints; log
 * lines and alerts go through the hooks.
 */
#ifndef SANSO_FQDNSTATE_H
#define SANSO_FQDNSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "dns.h"
#include "model.h"

/* The TTL of an answer served from stale data (RFC 8767). */
#define FQDN_STALE_TTL	30

/* One element to set: its kernel set, its address, its timeout. */
struct fqdn_elem {
	const char *set;		/* "fqdn-NAME-v4" */
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint64_t timeout_ms;
};

typedef int (*fqdn_list_fn)(void *arg, uint8_t family, const uint8_t *addr,
			    uint64_t left_ms);

/*
 * The kernel as the state sees it.  NULL in the configuration means the
 * nf_tables sets of the configured table over netlink (include/kernel.h);
 * tests pass their own.
 */
struct fqdn_kernel {
	/* Sets every element's timeout (adding it if absent) in one
	 * transaction; 0 or -errno, with the kernel's reason in err. */
	int (*arm)(void *arg, const struct fqdn_elem *v, size_t n,
		   char *err, size_t errlen);
	/* Calls fn for every element of a set with its time left. */
	int (*list)(void *arg, const char *set, fqdn_list_fn fn, void *fnarg);
	/* The ruleset generation (changes with every commit, anyone's). */
	int (*genid)(void *arg, uint32_t *genid);
	void *arg;
};

/* Where log lines (syslog priorities) and alerts go. */
struct fqdn_hooks {
	void (*log)(void *arg, int prio, const char *msg);
	void (*alert)(void *arg, const struct alert *a);
	/* After the kernel accepted elements (timeout_ms from now): the
	 * monitor, running the guard, learns them here rather than from a
	 * later read of the sets. NULL: nobody asks. */
	void (*armed)(void *arg, const struct fqdn_elem *v, size_t n);
	void *arg;
};

struct fqdn_conf {
	const char *table;		/* table inet NAME; NULL: "sanso" */
	const struct fqdn_kernel *kernel;	/* NULL: netlink */
	struct fqdn_hooks hooks;
	size_t max_names;		/* learned names kept; 0: 65536 */
};

struct fqdn_state;

/*
 * Copies what it needs from the model (sets, patterns, limits, zone
 * networks, upstream resolvers for alerts): the model may be freed
 * afterwards.  NULL with errno.
 */
struct fqdn_state *fqdn_state_new(const struct model *m,
				  const struct fqdn_conf *conf);
void fqdn_state_free(struct fqdn_state *st);

size_t fqdn_state_nsets(const struct fqdn_state *st);
const char *fqdn_state_set_name(const struct fqdn_state *st, size_t i);
/* Indices of the sets with a pattern matching `name` into idx, which has
 * room for fqdn_state_nsets(); returns how many. */
size_t fqdn_state_match(const struct fqdn_state *st, const char *name,
			unsigned int *idx);

/* The address families (POL_FAM_*) some flow to one of the sets idx[0..n)
 * can use; an address of another family is never armed in them. */
unsigned int fqdn_state_families(const struct fqdn_state *st,
				 const unsigned int *idx, size_t n);

/* clamp(ttl, min_ttl, max_ttl) + grace, in seconds. */
uint32_t fqdn_timeout(const struct fqdn_set *s, uint32_t ttl);
/* True for special-purpose addresses, whatever the zone file says. */
bool fqdn_addr_special(uint8_t family, const uint8_t *addr);
/* Not special and outside the site's own networks. */
bool fqdn_addr_safe(const struct fqdn_state *st, uint8_t family,
		    const uint8_t *addr);

struct fqdn_result {
	unsigned int sets;		/* sets the name matched */
	unsigned int armed;		/* elements sent to the kernel */
	unsigned int unsafe;		/* addresses refused (rebinding) */
	unsigned int capped;		/* addresses over max_addrs */
	unsigned int unusable;		/* of a family no flow of the set
					 * uses: not armed */
};

/*
 * An answer for `name` to a query of type `qtype`: arms every safe
 * address (with its TTL) in every set the name matches, in one
 * transaction.  A and AAAA queries also make the answer the last good
 * one of their family.  0, or -errno when the kernel refused (then
 * nothing was learned: fail closed), with the reason in err.
 */
int fqdn_state_learn(struct fqdn_state *st, const char *name, uint16_t qtype,
		     const struct dns_addr *addrs, size_t n, int64_t now,
		     struct fqdn_result *res, char *err, size_t errlen);

/* One answer of fqdn_state_learn_batch(). */
struct fqdn_answer {
	const char *name;
	uint16_t qtype;
	const struct dns_addr *addrs;
	size_t n;
	/* What fqdn_state_learn() would have returned for it: */
	int ret;
	struct fqdn_result res;
	char err[256];
};

/*
 * fqdn_state_learn() for each answer in turn, with the same outcome for
 * each, but with one transaction (and one ACK) for as many of them as
 * can share one: answers for distinct names, while no name can be
 * evicted.  An element several of them arm is sent once, with the
 * longest of their timeouts.  When the kernel refuses a shared
 * transaction, each of its answers is tried again alone, so that one
 * refused answer fails alone; stats.batches counts transactions.
 */
void fqdn_state_learn_batch(struct fqdn_state *st, struct fqdn_answer *v,
			    size_t n, int64_t now);

/*
 * The upstream failed for `name`: re-arms the addresses of its last good
 * answer (of qtype's family; both for other types) for FQDN_STALE_TTL +
 * grace, never past last good + max_stale, and raises fqdn_stale once
 * per name until an answer comes again.  `upstream` (may be NULL) names
 * the resolver for the alert.  Returns the number of addresses re-armed,
 * -ENOENT when nothing is left to fall back on, or -errno from the
 * kernel.
 */
int fqdn_state_stale(struct fqdn_state *st, const char *name, uint16_t qtype,
		     const struct hostport *upstream, int64_t now,
		     struct fqdn_result *res, char *err, size_t errlen);
/* The addresses of the last good answers for `name` still inside
 * max_stale (all matching sets, deduplicated); returns the count. */
size_t fqdn_state_last(const struct fqdn_state *st, const char *name,
		       uint16_t qtype, int64_t now, struct dns_addr *out,
		       size_t max);

/*
 * Reads the kernel sets and re-arms every learned element that is
 * missing or would expire early (someone loaded the ruleset with nft -f,
 * or another writer shortened it).  0 or -errno.
 */
int fqdn_state_reconcile(struct fqdn_state *st, int64_t now, char *err,
			 size_t errlen);
/* Cheap periodic check: reconciles when the ruleset generation moved
 * since the last look.  1 if it reconciled, 0 if not, -errno. */
int fqdn_state_check_kernel(struct fqdn_state *st, int64_t now, char *err,
			    size_t errlen);
/* Forgets what expired and is past max_stale. */
void fqdn_state_gc(struct fqdn_state *st, int64_t now);

/*
 * DIR/fqdn.state, mode 0600, replaced atomically under DIR/fqdn.lock,
 * merged with what another writer (the guard, resolve) saved there.
 * One line per element:
 *   SET NAME ADDRESS EXPIRES LAST_GOOD TTL LAST
 * EXPIRES and LAST_GOOD in seconds since the epoch, TTL of the last good
 * answer, LAST 1 when the address was in it.
 */
int fqdn_state_save(struct fqdn_state *st, const char *dir, int64_t now);
/*
 * Loads DIR/fqdn.state (a missing file is not an error), keeps what
 * still fits the zone file (sets, patterns, safety, limits) and arms it
 * in the kernel.  Returns the number of elements restored or -errno.
 */
int fqdn_state_restore(struct fqdn_state *st, const char *dir, int64_t now,
		       char *err, size_t errlen);

/*
 * Calls fn(arg, set, family, address) for every element of the kernel
 * FQDN sets that nothing learned accounts for: neither this state nor,
 * when dir is not NULL, DIR/fqdn.state (what `sanso resolve` saved, read
 * under DIR/fqdn.lock).  A learned entry that expired less than
 * slack_ms ago still accounts for its element, and an element with at
 * most slack_ms left is never reported.  fn returns 0 to go on.  0 or
 * -errno (a set that cannot be listed, an unreadable state file).
 */
typedef int (*fqdn_foreign_fn)(void *arg, const char *set, uint8_t family,
			       const uint8_t *addr);
int fqdn_state_foreign(struct fqdn_state *st, const char *dir, int64_t now,
		       int64_t slack_ms, fqdn_foreign_fn fn, void *arg);

struct fqdn_stats {
	size_t names;			/* learned (set, name) pairs */
	size_t elems;			/* learned (set, address) pairs */
	uint64_t batches, batch_fail, unsafe, capped, stale, reconciles;
};
void fqdn_state_stats(const struct fqdn_state *st, struct fqdn_stats *s);

/* Milliseconds since the epoch. */
int64_t fqdn_now(void);

/* Keyed 64-bit hash (SipHash-2-4) for tables fed by untrusted names. */
uint64_t fqdn_hash(const uint8_t key[16], const void *data, size_t len);

#endif
