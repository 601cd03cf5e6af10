/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The redundant pair (gateway.ha): the ports the ruleset opens on the
 * sync link, and sanso's own replication between the two nodes
 * (src/ha.c): learned FQDN addresses and the live table's digest, one
 * HMAC-SHA-256 authenticated datagram each, under STATE/ha.key.
 */
#ifndef SANSO_HA_H
#define SANSO_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "dns.h"
#include "model.h"

/* conntrackd's FTFW sync over UDP (contrib/ha/conntrackd.conf). */
#define HA_CONNTRACKD_PORT	3780
/* sanso's replication: the guard's learned addresses, the table digest. */
#define HA_SANSO_PORT		3781
/* VRRP: IP protocol 112, to this group (v2/v3) or ff02::12. */
#define HA_VRRP_PROTO		112

/* The pair's shared key: STATE/ha.key, 32 bytes, mode 0600, the same
 * file on both nodes (made on one, copied to the other). */
#define HA_KEY_FILE		"ha.key"
/* A datagram older or newer than this (the nodes' clocks apart) is
 * refused. */
#define HA_MAX_SKEW_MS		30000
#define HA_MAX_ADDRS		64

enum ha_kind {
	HA_ANSWER = 1,		/* an answer the guard armed */
	HA_DIGEST = 2,		/* the live table's digest */
};

struct ha_msg {
	enum ha_kind kind;
	int64_t time_ms;	/* the sender's clock */
	/* HA_ANSWER */
	char name[DNS_NAME_MAX + 1];
	uint16_t qtype;
	struct dns_addr addrs[HA_MAX_ADDRS];
	size_t n;
	/* HA_DIGEST: 64 hex digits, or "" for no table */
	char digest[65];
};

struct ha_link;

/*
 * Finds this node among gateway.ha.nodes (the address it can bind, not
 * freely) and opens the replication socket there on HA_SANSO_PORT, with
 * the key from state_dir. NULL with errno: EADDRNOTAVAIL when neither
 * address is ours (yet), ENOENT without the key file, EPERM or EINVAL
 * for a bad one.
 */
struct ha_link *ha_link_open(const struct ha_conf *ha, const char *state_dir);
void ha_link_free(struct ha_link *l);
int ha_link_fd(const struct ha_link *l);
/* Our index in gateway.ha.nodes (0 or 1). */
int ha_link_self(const struct ha_link *l);

/* How often each node sends its live table's digest, and how long the
 * two may differ (an apply on both nodes under way) before peer_drift. */
#define HA_DIGEST_EVERY_MS	5000
#define HA_DRIFT_GRACE_MS	15000
/* STATE/peer: "self PEERDIGEST OWNDIGEST TIME VERDICT", rewritten at
 * each comparison; sanso status reads it. A file older than this is a
 * silent peer. */
#define HA_PEER_FILE		"peer"
#define HA_PEER_STALE_S		30

/*
 * Writes STATE/peer atomically: the verdict "match" or "differ" of
 * comparing the peer's digest with ours at `when` (seconds since the
 * epoch). 0 or -errno.
 */
int ha_peer_write(const char *state_dir, const char *peer, const char *own,
		  const char *verdict, int64_t when);
/* Reads it back: 0, -ENOENT without one, -EINVAL when garbled. */
struct ha_peer {
	char peer[65], own[65], verdict[16];
	int64_t when;
};
int ha_peer_read(const char *state_dir, struct ha_peer *p);
/* The same in state_dir/sub (the monitor's data directory of the
 * systemd unit). */
int ha_peer_read_sub(const char *state_dir, const char *sub,
		     struct ha_peer *p);

/*
 * The node's VRRP role as contrib/ha/sanso-ha-notify records it: one
 * word ("master", "backup" or "fault") and a newline, replaced by
 * rename after conntrackd's cache is committed, so its modification
 * time is when the node took (or left) the master's part. The monitor
 * reads it once a second (--ha-role).
 */
#define HA_ROLE_FILE		"/run/sanso/ha-role"

enum ha_role {
	HA_ROLE_UNKNOWN,
	HA_ROLE_MASTER,
	HA_ROLE_BACKUP,
	HA_ROLE_FAULT,
};

struct ha_role_file {
	enum ha_role role;
	struct timespec since;	/* the file's modification time */
	dev_t dev;
	ino_t ino;
};

/*
 * Reads the role file when it changed since *f was filled (another
 * inode, or another modification time): 1 with *f updated, 0 when it
 * is unchanged, -ENOENT without one, -EINVAL when it holds no known
 * role (f->role is then HA_ROLE_UNKNOWN), -errno.
 */
int ha_role_read(const char *path, struct ha_role_file *f);
const char *ha_role_name(enum ha_role r);

/* The live digest of table inet `table` (kernel_table_digest()). */
int ha_table_digest(const char *table, char hex[65]);

/* One datagram to the peer; 0 or -errno (the peer being down is not
 * an error the caller can act on: -ECONNREFUSED, -EHOSTUNREACH). */
int ha_send(struct ha_link *l, const struct ha_msg *m);
/*
 * Reads one datagram. 1 with *m filled when it came from the peer's
 * address and port, carries a valid HMAC, is within HA_MAX_SKEW_MS of
 * now and newer than the last one accepted (no replays); 0 when nothing
 * (more) is waiting; -EBADMSG for a datagram refused (it is consumed).
 */
int ha_recv(struct ha_link *l, struct ha_msg *m);

#endif
