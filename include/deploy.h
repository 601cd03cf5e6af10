/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Deployments (src/deploy.c): what apply loaded, kept in the state
 * directory so that rollback can restore it exactly and status can tell
 * whether the live table still matches.
 *
 *   STATE/deploy/N/zones.yaml   the zone file as applied
 *   STATE/deploy/N/holiday-K.yaml  the holiday files it read, as read
 *   STATE/deploy/N/record       key value lines (struct deployment, with
 *                               audit_head SEQ:MAC, the audit log's head
 *                               when it was written), then
 *                               "holiday K SHA256 REF" per copy
 *   STATE/current               N of the live deployment
 *   STATE/pending               a commit-confirmed apply awaiting confirm
 *   STATE/intent                a change written ahead of its commit
 *   STATE/lock                  flock()ed by every change of the above
 *   STATE/audit.log             one JSON line per apply, confirm, rollback
 *
 * A deployment is self-contained: rollback and the boot load rebuild it
 * from these copies alone.
 */
#ifndef SANSO_DEPLOY_H
#define SANSO_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "model.h"
#include "ruleset.h"

struct nftnl_set_list;

#define DEPLOY_STATE_DIR "/var/lib/sanso"
/* How long apply, confirm and rollback wait for each other's lock. */
#define DEPLOY_LOCK_WAIT 60

struct deployment {
	unsigned int id;
	unsigned int previous;	/* 0: nothing was deployed before */
	time_t time;		/* when it was loaded */
	time_t at;		/* the compile reference time */
	char user[64];
	char table[72];
	char zone_file[4096];	/* the path it was applied from */
	char zone_sha256[65];
	char ruleset_sha256[65];	/* digest of the live table after it */
	char site[64];
	char timezone[64];	/* the zone file's: records and status use it */
	int holiday_files;	/* copies kept; -1: recorded by an older sanso,
				 * without copies */
	char audit_head[88];	/* STATE/audit.log's "SEQ:MAC" when recorded
				 * (anchors it for verify-log); "" if none */
	int canon;		/* the canonical text's version of
				 * ruleset_sha256 (kernel_dump.h); -1 for a
				 * version this sanso does not know */
};

struct pending {
	unsigned int id;	/* the deployment awaiting confirm */
	unsigned int previous;	/* what a timeout restores */
	time_t deadline;
	long pid;		/* the timer process (0: none) */
	char unit[64];		/* or its systemd transient unit ("") */
};

enum deploy_outcome {
	DEPLOY_UNCHANGED,	/* the kernel was not touched */
	DEPLOY_LOADED,		/* loaded, not recorded: the next command
				 * that settles completes the record */
	DEPLOY_ROLLED_BACK,	/* loaded, then restored (--confirm) */
	DEPLOY_RECORDED,	/* loaded and current */
};

/* Creates the state directory (0700) if needed; -errno, and err says
 * why. An existing one that is not the caller's, or that group or others
 * may write, is refused (-EPERM) and left as it is. */
int deploy_state_init(const char *state, char *err, size_t errlen);

/*
 * Takes STATE/lock (flock, exclusive), which every change of current,
 * pending and deploy/ holds from its first read to its last write.
 * `wait`: seconds to wait for another holder (then -EWOULDBLOCK), or -1
 * for as long as it takes. Checks the state directory as
 * deploy_state_init() does; -ENOENT when it does not exist. Returns the
 * lock's descriptor or -errno with err set; deploy_unlock() releases it.
 */
int deploy_lock(const char *state, int wait, char *err, size_t errlen);
void deploy_unlock(int fd);

/* The live deployment: 0, -ENOENT when nothing is deployed, -errno. */
int deploy_current(const char *state, struct deployment *out);
int deploy_load(const char *state, unsigned int id, struct deployment *out);
int deploy_pending(const char *state, struct pending *out);

/*
 * Loads a ruleset into the kernel in one batch, carrying the elements
 * (with their time left) of every FQDN set over from the live table.
 * On failure the kernel is untouched and err says why.
 */
int deploy_commit(const struct ruleset *rs, bool dry_run, char *err,
		  size_t errlen);
/*
 * apply: loads `rs` as a new deployment with write-ahead. Before the
 * commit it writes deploy/N (the zone file `zone` as compiled, the
 * holiday file copies of `m`, loaded with model_opts.keep, the record
 * with the digest the commit will make), STATE/intent, with `confirm`
 * seconds the pending record and its running timer, and an "apply-intent"
 * audit line; after it, current, then the "apply" line. The caller holds
 * the lock and has settled (deploy_settle()). Fills d->id, ->previous,
 * ->time, ->user, ->holiday_files and ->ruleset_sha256; d->at, ->table,
 * ->zone_file, ->zone_sha256, ->site and ->timezone are the caller's.
 * When the live table is the current deployment as recorded, only the
 * difference is sent (in one transaction, like the whole table); `how`
 * says which it was. *outcome says what the kernel holds, also on
 * failure; with `confirm`,
 * a failure after the commit restores the previous deployment. On
 * success err may hold warnings.
 */
int deploy_apply(const char *state, const struct ruleset *rs,
		 struct deployment *d, const char *zone, size_t zone_len,
		 const struct model *m, unsigned int confirm,
		 enum deploy_outcome *outcome, char *how, size_t hown,
		 char *err, size_t errlen);

/* apply's phases ("building the batch: ..."), each passed to `fn` as it
 * begins, for a command to show; NULL: none. */
typedef void (*deploy_progress_fn)(void *ctx, const char *phase);
void deploy_progress(deploy_progress_fn fn, void *ctx);

/*
 * Settles a change that died between its write-ahead and its end, by the
 * live table's digest: the table it was loading is live -> its record
 * is completed ("apply-recovered", "rollback-recovered"); otherwise it is
 * discarded ("apply-aborted", "rollback-aborted"), with the pending record
 * of an apply that never loaded. Under the lock. 1 when it settled one
 * (note says what happened), 0 when there was none, -errno (note says
 * why).
 */
int deploy_settle(const char *state, char *note, size_t n);
/* 1 when STATE/intent names `hex` as the digest of the table `table` it
 * loads: the live table of a change under way, not drift. */
int deploy_intent_loads(const char *state, const char *table,
			const char *hex);

/* Rebuilds the ruleset of a recorded deployment from its saved zone file
 * and holiday file copies (each checked against its SHA-256) as of its
 * own compile time, so it is the table that was loaded. A deployment
 * recorded without copies reads holiday files where the zone file named
 * them, and says so in err while returning 0. The ruleset owns the model
 * and policy it was built from. */
int deploy_rebuild(const char *state, const struct deployment *d,
		   struct ruleset **out, char *err, size_t errlen);

/* Restores the deployment before the current one (or removes the table
 * when there was none), under the lock. `why` goes to the audit log. On
 * success err may still hold a warning, and `how` (may be NULL) says
 * whether the table was changed in place or replaced whole. */
int deploy_rollback(const char *state, const char *why, char *how,
		    size_t hown, char *err, size_t errlen);

/*
 * The confirm timer's work (the forked timer's, and `sanso rollback
 * --expired ID` that a systemd transient timer runs): waits for the
 * deadline of pending deployment `id`, then, under the lock and after
 * settling, rolls it back unless it was confirmed. 0 or -errno (audited
 * as rollback-failed).
 */
int deploy_expire_wait(const char *state, unsigned int id);
/* 1 when the timer of `pd` runs, 0 when it is gone, -errno unknown. */
int deploy_timer_alive(const struct pending *pd);
/* Keeps the pending deployment, under the lock: 0, -ENOENT when nothing
 * is pending, -ETIMEDOUT (nothing changed) once its deadline has come. */
int deploy_confirm(const char *state, struct pending *was);

/* The watchdog of commit-confirmed (the monitor's): settles an
 * interrupted change (deploy_settle()) and rolls back a pending
 * deployment whose deadline passed `grace` seconds ago or more, as the
 * timer would have, under the lock (not waiting for it: 0 when it is
 * held). 1 when it rolled back, 0 when there was nothing to do, -errno
 * (audited as rollback-failed, err says why). */
int deploy_expire(const char *state, int grace, const char *why, char *err,
		  size_t errlen);

/* Appends one JSON line to STATE/audit.log. */
int deploy_audit(const char *state, const char *action,
		 const struct deployment *d, const char *detail);

#endif
