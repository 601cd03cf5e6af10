/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The semantic difference of two versions of a zone file, for change
 * review (`sanso diff`). Objects are matched by name and compared by
 * meaning: lists are compared as sets, named services are expanded,
 * prefixes and services are normalised, descriptions and comments are
 * ignored. Reordering or reformatting a file is therefore no change.
 *
 * Besides the per-object changes it compares the two compiled policies:
 * the permissions (zone pair, flow, service) that appeared, disappeared,
 * widened or narrowed, and -- address by address -- whatever NEW permits
 * to or from a mynumber zone that OLD did not.
 */
#ifndef SANSO_DIFF_H
#define SANSO_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"
#include "policy.h"

/* In output order. */
enum diff_obj {
	DIFF_SITE,		/* model variant, timezone */
	DIFF_ZONE,
	DIFF_PREFIX,		/* a zone network; parent: its zone */
	DIFF_HOST,
	DIFF_FQDN_SET,
	DIFF_FQDN_NAME,		/* parent: its set */
	DIFF_SCHEDULE,
	DIFF_FLOW,
	DIFF_WAIVER,		/* name: the flow that carries it */
	DIFF_GATEWAY,
	DIFF_OBJ_COUNT
};

enum diff_op {
	DIFF_ADDED,
	DIFF_REMOVED,
	DIFF_CHANGED,
	DIFF_MOVED,		/* a host or prefix in another zone */
	DIFF_RETIERED,		/* a zone of another tier */
	DIFF_RENAMED,		/* a flow with another name, same meaning */
	DIFF_EXPIRED,		/* an unchanged waiver past its date */
	DIFF_OP_COUNT
};

/* "flow", "fqdn-name"...; "added", "moved"... (the JSON spellings). */
const char *diff_obj_name(enum diff_obj o);
const char *diff_op_name(enum diff_op o);

struct strv {
	char **v;
	size_t n, cap;
};

/* One attribute of a changed object. A scalar holds at most one value
 * in old/new (none: absent); a list holds its values sorted, and
 * added/removed say how they differ. */
struct diff_field {
	const char *name;	/* static: "from", "services", "tier"... */
	bool list;
	struct strv old, new, added, removed;
};

struct diff_change {
	enum diff_obj obj;
	enum diff_op op;
	char *name;
	char *parent;		/* zone of a prefix, set of a name; or NULL */
	char *old_name;		/* RENAMED only */
	struct diff_field *fields;
	size_t n_fields;
	unsigned int touches;	/* bit n set: invariant Tn (1..10) */
	struct loc old_loc, new_loc;	/* line 0 when absent */
};

enum diff_perm_op {
	PERM_ADDED,
	PERM_REMOVED,
	PERM_WIDENED,		/* more addresses, or a longer schedule */
	PERM_NARROWED,
	PERM_CHANGED,		/* some of each */
};

const char *diff_perm_op_name(enum diff_perm_op o);

/* A (zone pair, flow, service) permission of one policy that the other
 * lacks or grants more narrowly. Sorted by tier pair, then zones, flow,
 * service. */
struct diff_perm {
	enum diff_perm_op op;
	enum tier from_tier, to_tier;
	char *from_zone;
	char *to;		/* a zone name, or "fqdn:SET" */
	char *flow;
	char *service;
};

/* Packets NEW permits to or from a mynumber zone (in either version's
 * zones) that OLD does not. The ends are labels: "juki-db (10.10.1.5,
 * mynumber)" or "lgwan (10.20.0.0/16)" or "fqdn:SET". */
struct diff_opening {
	char *from, *to;
	char *from_zone, *to_zone;	/* NEW's zones; to_zone NULL: FQDN */
	char *flow;
	char *service;
	char *schedule;		/* the flow's enforced schedule, or NULL */
};

#define DIFF_MAX_OPENINGS 1000

struct diff {
	struct diff_change *changes;
	size_t n_changes;
	struct diff_perm *perms;
	size_t n_perms;
	struct diff_opening *openings;
	size_t n_openings;
	size_t openings_dropped;	/* past DIFF_MAX_OPENINGS */
	/* T8 paths out of mynumber (waivers disregarded), as check words
	 * them, that only one version has. */
	struct strv t8_added, t8_removed;
	bool t8_cut;		/* a path search was cut short */
	/* Hosts and FQDN sets whose 注1 `sanctioned` label NEW adds or
	 * changes ("host eltax-gw: eltax"): each lets mynumber out without
	 * a waiver, so each is a review point. */
	struct strv sanctioned;
};

/*
 * Compares two loaded models and their policies (built from them) as of
 * `today` (local days since epoch: waivers expire against it). The
 * models are not const because the T8 comparison runs check_model()
 * with their waivers switched off for a moment; they are restored
 * before it returns. Returns 0 with *out set (free with diff_free()),
 * or -ENOMEM.
 */
int diff_models(struct model *old, const struct policy *pold,
		struct model *new, const struct policy *pnew, int32_t today,
		struct diff **out);
void diff_free(struct diff *d);

/* Nothing changed at all. */
bool diff_empty(const struct diff *d);
/* The change opens a path into or out of a mynumber zone. */
bool diff_opens_mynumber(const struct diff *d);

#endif
