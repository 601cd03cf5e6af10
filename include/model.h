/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The zone model: what a zone file says, with every node's position.
 * Built by model_load() (src/model.c), read by check, policy and the
 * commands. All strings and arrays are owned by the model.
 */
#ifndef SANSO_MODEL_H
#define SANSO_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "diag.h"
#include "parse.h"

/* Input limits; past them the loader reports E002 and stops. */
#define MODEL_MAX_FILE_BYTES	(64u << 20)
#define MODEL_MAX_DEPTH		32
#define MODEL_MAX_NODES		4000000u	/* after alias expansion */
#define MODEL_MAX_SCALAR	4096

enum tier {
	TIER_MYNUMBER,
	TIER_LGWAN,
	TIER_INTERNET,
	TIER_DMZ,
	TIER_MGMT,
	TIER_EXTERNAL,
	TIER_COUNT
};

enum model_variant {
	MODEL_ALPHA,
	MODEL_ALPHA_PRIME,
	MODEL_BETA,
	MODEL_BETA_PRIME,
};

enum role {
	ROLE_NONE,
	ROLE_UPDATE_RELAY,
	ROLE_SANITIZER,
	ROLE_SCREEN_TRANSFER,
	ROLE_RESOLVER,
	ROLE_NTP,
};

/* The public connections the guideline allows マイナンバー利用事務系
 * (注1), as bits of `sanctioned` on hosts and FQDN sets. */
enum sanction {
	SANCTION_ELTAX = 1u << 0,
	SANCTION_MYNAPORTAL = 1u << 1,
	SANCTION_JLIS_PLATFORM = 1u << 2,
};
#define SANCTION_COUNT 3

const char *tier_name(enum tier t);
/* "eltax", "mynaportal", "jlis-platform" for bit i (0..2). */
const char *sanction_name(unsigned int bit);
/* The labels of `bits` as "eltax, mynaportal" in buf (n bytes): buf. */
const char *sanction_list(unsigned int bits, char *buf, size_t n);
const char *model_variant_name(enum model_variant v);
const char *role_name(enum role r);

struct net {
	struct prefix p;
	struct loc loc;
};

struct iface {
	char *name;
	struct loc loc;
};

struct zone {
	char *name;
	struct loc loc;
	enum tier tier;
	bool tier_bad;		/* tier missing or unknown (E002): no rules */
	char *description;
	struct iface *ifaces;
	size_t n_ifaces;
	struct net *nets;
	size_t n_nets;
};

struct host {
	char *name;
	struct loc loc;
	int zone;		/* index into model.zones, -1 if unresolved */
	struct loc zone_loc;
	struct prefix addr;	/* usually a full-length prefix */
	struct loc addr_loc;
	enum role role;
	unsigned int sanctioned;	/* enum sanction bits */
	struct loc sanctioned_loc;
	char *description;
};

struct fqdn_name {
	char *pattern;		/* canonical: lower case, "*.d" or "a.b.d" */
	struct loc loc;
};

struct fqdn_set {
	char *name;
	struct loc loc;
	struct fqdn_name *names;
	size_t n_names;
	uint32_t min_ttl;	/* seconds, default 300 */
	uint32_t max_ttl;	/* seconds, default 86400 */
	uint32_t grace;		/* seconds added to every timeout, default 60 */
	uint32_t max_addrs;	/* per name, default 1000 */
	uint32_t max_stale;	/* seconds, default 86400 */
	unsigned int sanctioned;	/* enum sanction bits */
	struct loc sanctioned_loc;
	char *description;
};

struct svc_item {
	struct service sv;
	struct loc loc;
};

/* A named service: a list of protocol/port items (named services are
 * expanded when referenced, so flows only ever hold plain items). */
struct service_def {
	char *name;
	struct loc loc;
	struct svc_item *items;
	size_t n_items;
};

struct hours_range {
	int start, end;		/* minutes of the local day; end < start wraps */
	struct loc loc;
};

struct window {
	time_t from, to;	/* UTC, from the local wall times in the file */
	struct loc loc;
};

struct schedule {
	char *name;
	struct loc loc;
	uint8_t days;		/* bit 0 = Monday .. bit 6 = Sunday */
	struct hours_range *hours;
	size_t n_hours;
	int32_t *holidays;	/* sorted local dates, days since epoch */
	size_t n_holidays;
	struct window *windows;
	size_t n_windows;
};

enum ep_kind {
	EP_ZONE,
	EP_HOST,
	EP_FQDN,
	EP_CIDR,		/* ZONE/CIDR */
};

struct endpoint {
	enum ep_kind kind;
	int ref;		/* zone, host or fqdn_set index; -1 unresolved */
	int zone;		/* the zone (EP_ZONE, EP_HOST, EP_CIDR); -1 for FQDN */
	struct prefix cidr;	/* EP_CIDR only */
	char *text;		/* as written */
	struct loc loc;
};

struct waiver {
	bool present;
	char rule[8];		/* "T1" .. "T10" */
	char *reason, *ticket, *approved_by;
	int32_t expires;	/* days since epoch, -1 if missing */
	struct loc loc, rule_loc, expires_loc;
};

struct flow {
	char *name;
	struct loc loc;
	char *description;
	struct endpoint *from, *to;
	size_t n_from, n_to;
	struct svc_item *services;	/* named services expanded */
	size_t n_services;
	struct loc services_loc;
	int schedule;		/* index into model.schedules, -1 none */
	struct loc schedule_loc;
	int alert_outside;	/* index into model.schedules, -1 none */
	struct loc alert_outside_loc;
	bool log;
	struct waiver waiver;
};

enum sink_kind {
	SINK_JSONL,
	SINK_SYSLOG,
	SINK_EXEC,
};

struct sink {
	enum sink_kind kind;
	struct loc loc;
	char *path;		/* jsonl */
	char *facility;		/* syslog local socket, default "local4" */
	char *server;		/* syslog remote: "udp://host:port" or tcp:// */
	char **argv;		/* exec, NULL-terminated */
	size_t argc;
};

/* An address and port: "192.0.2.53", "192.0.2.53:5353",
 * "2001:db8::53", "[2001:db8::53]:5353". */
struct hostport {
	struct prefix addr;	/* full length */
	uint16_t port;		/* default 53 */
	struct loc loc;
};

/* A redundant pair (gateway.ha): the two nodes' addresses on the sync
 * link, one family, and that link's interface. One zone file serves
 * both nodes; each finds itself among `nodes` by its own addresses. */
struct ha_conf {
	bool present;
	struct loc loc;
	struct prefix nodes[2];	/* full length; family 0 if unset */
	struct loc node_loc[2];
	size_t n_nodes;
	char *sync_iface;
	struct loc sync_loc;
};

struct gateway {
	struct endpoint *ssh_from;
	size_t n_ssh_from;
	struct loc ssh_loc;
	uint16_t log_group;	/* default 100 */
	/* The DNS guard (SPEC §6): where it forwards matching queries, and
	 * the gateway addresses it answers on (empty: every address). */
	struct hostport *dns_upstream;
	size_t n_dns_upstream;
	struct hostport *dns_listen;
	size_t n_dns_listen;
	struct loc dns_loc;
	struct ha_conf ha;
};

struct monitor_conf {
	struct sink *sinks;
	size_t n_sinks;
	uint32_t dedup_seconds;	/* default 60 */
	int language;		/* enum msg_lang of the alert messages */
};

/* A holiday file as the loader read it: what a deployment keeps a copy
 * of, so that it can be rebuilt without the original. */
struct model_file {
	char *ref;		/* as the zone file names it */
	char *path;		/* where it was read from */
	char *data;		/* its bytes: with model_opts.keep only */
	size_t len;
	uint8_t sha256[32];
};

struct model {
	char *path;		/* the zone file as given */
	char **files;		/* every file read (zone file, holiday files) */
	size_t n_files;
	struct model_file *holiday_files;	/* one per distinct ref */
	size_t n_holiday_files;
	uint8_t sha256[32];	/* of the zone file's bytes */

	int version;
	char *site;
	struct loc site_loc;
	enum model_variant variant;
	struct loc variant_loc;
	char *timezone;		/* IANA name, default "Asia/Tokyo" */
	struct loc timezone_loc;

	struct zone *zones;
	size_t n_zones;
	struct host *hosts;
	size_t n_hosts;
	struct fqdn_set *fqdn_sets;
	size_t n_fqdn_sets;
	struct service_def *services;
	size_t n_services;
	struct schedule *schedules;
	size_t n_schedules;
	struct flow *flows;
	size_t n_flows;

	struct gateway gateway;
	struct monitor_conf monitor;
};

/*
 * Reads and parses a zone file. Structural problems (E001-E009) go to
 * `d`; the returned model holds everything that could be read, so later
 * stages can still report on it. Returns NULL with errno only when the
 * file cannot be read at all (the reason is also in `d`).
 * The caller owns the result and frees it with model_free().
 */
struct model *model_load(const char *path, struct diags *d);
/* Same, from memory; `name` is used in diagnostics, `dir` for relative
 * holiday files (NULL: current directory). */
struct model *model_load_buf(const char *name, const char *dir,
			     const char *buf, size_t len, struct diags *d);

struct model_opts {
	const char *dir;	/* for relative holiday files; NULL: cwd */
	/* Keep every holiday file's bytes in m->holiday_files, and read each
	 * one once even when several schedules name it. */
	bool keep;
	/* Take holiday files from `files` (matched by ref) and never from
	 * the file system: a deployment's recorded copies. A ref not among
	 * them is E002. */
	bool sealed;
	const struct model_file *files;
	size_t n_files;
};

/* model_load_buf() with options; `o` may be NULL. */
struct model *model_load_opts(const char *name, const char *buf, size_t len,
			      const struct model_opts *o, struct diags *d);
void model_free(struct model *m);

/*
 * Reads a whole regular file of at most `max` bytes, as the loader does:
 * without blocking on a FIFO or taking a terminal. NULL with errno
 * (EINVAL: not a regular file; EFBIG: larger than max).
 */
char *model_read_file(const char *path, size_t max, size_t *len);

/* Lookups by name; -1 if absent. */
int model_zone(const struct model *m, const char *name);
int model_host(const struct model *m, const char *name);
int model_fqdn_set(const struct model *m, const char *name);
int model_schedule(const struct model *m, const char *name);

#endif
