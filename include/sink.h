/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plumbing of the alert pipeline, shared by src/alert.c, src/sink.c
 * and src/audit.c and their tests; producers use alert.h only.
 */
#ifndef SANSO_SINK_H
#define SANSO_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "alert.h"

/* ---- chained files (src/audit.c) ---- */

/*
 * An open, chained log file. state_dir/chain/DEV-INO and
 * state_dir/chain/path-HASH hold the seq and HMAC of the last line
 * written to the file with that inode and that path: the writer continues
 * from them rather than from the file when the two disagree, so that
 * lines removed or edited at the end show up as a broken link.
 */
struct audit_log {
	int fd;			/* O_RDWR | O_APPEND: the tail is read back */
	int head_fd;		/* state_dir/chain/DEV-INO */
	int path_fd;		/* state_dir/chain/path-HASH, or -1 */
	char *path;		/* as opened (owned) */
	dev_t dev;
	ino_t ino;
	uint64_t size;		/* where our last line ended */
	bool locked;		/* flock() held since open */
	struct audit_chain chain;
};

/* Opens (creating, 0640) and positions the chain. With `lock`, holds an
 * exclusive flock() until audit_log_close(); without, each append takes
 * it for the time of the write, or returns -EAGAIN if another writer has
 * it. 0 or -errno. */
int audit_log_open(struct audit_log *l, const char *state_dir,
		   const uint8_t key[AUDIT_KEY_LEN], const char *path,
		   bool lock);
/* Chains obj[0..len) into buf (n bytes, ALERT_LINE_MAX + 1 is enough
 * for an alert) and appends it with its newline. Notices a file that
 * was truncated or appended to by someone else. A short write is undone.
 * 0 or -errno; on error the chain does not advance. */
int audit_log_append(struct audit_log *l, const uint8_t key[AUDIT_KEY_LEN],
		     const char *obj, size_t len, char *buf, size_t n);
void audit_log_close(struct audit_log *l);

/* A chain with no file (the lines that syslog and exec receive), kept in
 * state_dir/chain/NAME. Returns the record's descriptor or -errno. */
int audit_stream_open(const char *state_dir, const char *name,
		      const uint8_t key[AUDIT_KEY_LEN], struct audit_chain *c);
/* audit_chain_line() on such a chain, under its lock, going on from the
 * record if another process advanced it. fd may be -1 (memory only). */
int audit_stream_line(int fd, const uint8_t key[AUDIT_KEY_LEN],
		      struct audit_chain *c, const char *obj, size_t len,
		      char *out, size_t n);

/* Makes dir (0700) unless it exists. 0 or -errno. */
int audit_mkdir(const char *dir);

/* ---- sinks (src/sink.c) ---- */

/* What every sink shares; owned by the alerter, outlives its sinks. */
struct sink_env {
	const char *state_dir;
	const uint8_t *key;	/* AUDIT_KEY_LEN bytes */
	const char *host;	/* HOSTNAME of the syslog header */
	const char *log_socket;	/* "/dev/log" */
	size_t queue_max;
	uint32_t exec_timeout_ms;
	int epfd;		/* descriptors to watch go in here */
	struct alerter_stats *st;	/* counters to bump */
};

struct sink_state;

/* NULL with errno. Opens the sink (a failure to open is not an error:
 * it retries) and picks up its spool, state_dir/spool/ID. */
struct sink_state *sink_state_new(const struct sink *conf,
				  const struct sink_env *env);
/* Delivers or queues what is pending, then spools what is left in
 * memory. NULL is fine. */
void sink_state_free(struct sink_state *s);

/* "jsonl-1a2b3c4d": the kind and a hash of the settings; names the spool
 * and says whether a reloaded configuration kept the sink. */
const char *sink_id(const struct sink_state *s);
void sink_conf_id(const struct sink *conf, char *buf, size_t n);
/* The file of a jsonl sink (borrowed), else NULL. */
const char *sink_log_path(const struct sink_state *s);
/* Syslog and exec take lines already chained; jsonl chains them into
 * its file. */
bool sink_wants_chained(const struct sink_state *s);

/* Queues one line (no newline; at most ALERT_LINE_MAX bytes) and tries
 * to deliver. Never blocks, never fails: what cannot be delivered now
 * waits in memory, then on disk, and what cannot even be spooled is
 * counted in st->failed and written to stderr. */
void sink_submit(struct sink_state *s, const char *line, size_t len);
/* Reaps, reconnects, retries. `now_ms` is CLOCK_MONOTONIC. */
void sink_service(struct sink_state *s, uint64_t now_ms);
/* jsonl: reopen the file (logrotate); syslog: reconnect. */
void sink_reopen(struct sink_state *s);
/* When sink_service() has something to do next (0: only on events). */
uint64_t sink_next_ms(const struct sink_state *s);
/* Records waiting (memory and spool). */
uint64_t sink_pending(const struct sink_state *s);
/* True when the sink waits for a child or a connection, i.e. more
 * service soon could still deliver something (for the final flush). */
bool sink_busy(const struct sink_state *s);

/* "local4" -> 20; -1 if unknown. */
int syslog_facility(const char *name);
/* The syslog message for one chained alert line: RFC 5424,
 * "<PRI>1 TIME HOST sanso PID TYPE - {json}", or for the local socket
 * "<PRI>sanso[PID]: {json}". Returns its length or -ENOSPC. */
int syslog_format(const char *line, size_t len, int facility,
		  const char *host, int pid, bool local, char *buf, size_t n);

uint64_t mono_ms(void);

#endif
