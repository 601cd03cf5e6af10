/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The generated ruleset as data (src/ruleset.c): one table of chains,
 * named sets and rules, built from the compiled policy. Two emitters read
 * it: src/nft_text.c prints the `nft -f` script (sanso compile) and
 * src/nft_netlink.c turns it into libnftnl objects for one netlink batch
 * (sanso apply). Neither decides anything; every choice is made here.
 *
 * Every set is a concatenation of two or more fields (with the interval
 * flag), an interval set of `meta time` spans (schedules), a timeout set
 * of addresses (FQDN sets), a dynamic set of source addresses (the
 * per-source log limits), or a dispatch verdict map, so the emitters
 * handle few shapes.
 */
#ifndef SANSO_RULESET_H
#define SANSO_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "policy.h"

/* What a match or a set key reads from the packet. */
enum rs_field {
	RF_IIFNAME,		/* ifname, 16 bytes */
	RF_OIFNAME,
	RF_SADDR4,		/* ipv4_addr, 4 bytes */
	RF_DADDR4,
	RF_SADDR6,		/* ipv6_addr, 16 bytes */
	RF_DADDR6,
	RF_L4PROTO,		/* inet_proto, 1 byte */
	RF_DPORT,		/* th dport, inet_service, 2 bytes */
	RF_TCP_DPORT,		/* tcp dport, 2 bytes */
	RF_UDP_DPORT,		/* udp dport, 2 bytes */
	RF_ICMP_TYPE,		/* icmp type, 1 byte */
	RF_ICMPV6_TYPE,		/* icmpv6 type, 1 byte */
	RF_HOUR,		/* meta hour: seconds of the UTC day, 4 bytes */
	RF_DAY,			/* meta day: 0 = Sunday .. 6, 1 byte */
	RF_TIME,		/* meta time: ns since the epoch, 8 bytes */
	RF_CT_STATE,		/* ct state bits, 4 bytes */
	RF_COUNT
};

struct rs_field_info {
	const char *text;	/* "ip saddr" */
	const char *type;	/* nft type name: "ipv4_addr" */
	uint8_t len;		/* bytes of the value, network order */
	uint8_t family;		/* 4 or 6 if it implies one, else 0 */
};

extern const struct rs_field_info rs_fields[RF_COUNT];

/* Whether lo..hi (n bytes, network order) is exactly one prefix, and its
 * length: how both emitters spell an address range. */
bool rs_range_prefix(const uint8_t *lo, const uint8_t *hi, size_t n,
		     unsigned int *len);

#define RS_MAX_KEY	4	/* fields in a concatenation */
#define RS_MAX_KEYLEN	64	/* bytes of a key, unpadded */

enum rs_set_kind {
	RS_CONCAT,		/* concatenation, interval flag */
	RS_INTERVAL,		/* one field (RF_TIME), interval flag */
	RS_TIMEOUT,		/* one address field, timeout flag */
	RS_DYNAMIC,		/* one source address, dynamic and timeout
				 * flags, a size: filled by the kernel */
	RS_VMAP,		/* iifname [. oifname] : verdict */
};

struct rs_set {
	char *name;
	enum rs_set_kind kind;
	enum rs_field key[RS_MAX_KEY];
	int n_key;
	size_t keylen;		/* sum of the fields' lengths */
	/* Elements: n times (low key, high key), keylen bytes each, in
	 * network order; low == high for single values. Sorted. */
	uint8_t *keys;
	size_t n, cap;
	int32_t *flow;		/* comment "flow:NAME" per element, or -1 */
	char **target;		/* RS_VMAP: the chain each element jumps to */
	uint32_t size;		/* RS_DYNAMIC: most elements */
	uint32_t timeout;	/* RS_DYNAMIC: seconds an element lives */
	char *comment;
};

enum rs_expr_kind {
	RX_CMP,			/* field == value (or != with inv) */
	RX_RANGE,		/* lo <= field <= hi */
	RX_LOOKUP,		/* fields (concatenated) in @set */
	RX_VMAP,		/* fields vmap @set */
	RX_CT_STATE,		/* ct state & bits != 0 */
	RX_UPDATE,		/* update @set { field limit rate N/second
				 * burst B packets }: a limit per key */
	RX_LIMIT,		/* limit rate N/second burst B packets */
	RX_LOG,			/* log prefix P group G */
	RX_COUNTER,
};

struct rs_expr {
	enum rs_expr_kind kind;
	enum rs_field field[RS_MAX_KEY];
	int n_field;
	bool inv;
	uint8_t val[16], hi[16];	/* CMP / RANGE values, network order */
	const struct rs_set *set;	/* LOOKUP / VMAP / UPDATE */
	uint32_t bits;			/* CT_STATE: NF_CT_STATE_BIT(...) */
	uint32_t rate, burst;		/* LIMIT / UPDATE */
	char *prefix;			/* LOG */
	uint16_t group;			/* LOG */
};

enum rs_verdict {
	RV_NONE,
	RV_ACCEPT,
	RV_DROP,
	RV_RETURN,
	RV_JUMP,
	RV_GOTO,
};

struct rs_rule {
	struct rs_expr *x;
	size_t n_x;
	enum rs_verdict verdict;
	char *target;		/* JUMP / GOTO */
	char *comment;		/* "flow:NAME" or NULL */
};

struct rs_chain {
	char *name;
	bool base;		/* a base chain with a hook */
	const char *hook;	/* "input", "forward", "output" */
	int priority;		/* 0 = filter */
	bool policy_drop;
	struct rs_rule *rules;
	size_t n_rules, cap;
	char *comment;
};

struct ruleset {
	const struct model *m;
	char *family;		/* "inet" */
	char *table;		/* "sanso" */
	struct rs_set **sets;	/* in print order */
	size_t n_sets, cap_sets;
	struct rs_chain **chains;	/* in print order */
	size_t n_chains, cap_chains;
	char *header;		/* comment lines for the text (version, hash) */
	/* Set when the ruleset was rebuilt from a saved deployment: freed
	 * with it (rs->m points into owned_model). */
	struct model *owned_model;
	struct policy *owned_policy;
};

#define RS_DEFAULT_TABLE "sanso"
/*
 * A logged drop passes two limits (SECURITY.md F8): one per source
 * address, kept in a dynamic set per source zone (log-ZONE-v4, -v6;
 * log-v4, -v6 for interfaces outside the zone file), and then one per
 * log rule, that is per chain and address family, so that the log as a
 * whole stays bounded. man/sanso.8 gives the reasons for the figures.
 */
#define RS_LOG_SRC_RATE 1	/* packets a second per source */
#define RS_LOG_SRC_BURST 5
#define RS_LOG_SRC_SIZE 65535	/* sources a set tracks */
#define RS_LOG_SRC_TIMEOUT 60	/* seconds a quiet source is kept */
#define RS_LOG_RATE 25		/* packets a second per rule */
#define RS_LOG_BURST 50
/* Above this many zones, pairs without flows share one logged drop
 * instead of a chain each (N * (N - 1) chains would not load fast). */
#define RS_PAIR_CHAIN_MAX_ZONES 64

/* Builds the ruleset of a policy for table `table` (NULL: "sanso").
 * `at` only chooses the horizon of weekly schedules (the calendar years
 * RS_SCHED_YEARS from the one `at` falls in), so the text is the same
 * for a zone file all year. NULL with errno on failure. */
#define RS_SCHED_YEARS 2
struct ruleset *ruleset_build(const struct policy *p, const char *table,
			      time_t at);
void ruleset_free(struct ruleset *rs);

/* The table loaded when nothing better can be (apply --fail-closed): the
 * forward chain drops everything, the input chain accepts only loopback
 * and replies, the output chain accepts. rs->m is NULL. */
struct ruleset *ruleset_fail_closed(const char *table);

/* Prints the `nft -f` script: deterministic bytes. */
int ruleset_print(const struct ruleset *rs, FILE *out);

#endif
