/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The compiled policy: the one answer to "is this allowed", read by the
 * ruleset generator, the monitor and explain. Built from a model that
 * passed the loader (E0xx); it does not re-check invariants.
 *
 * A flow becomes one rule per (source zone, destination zone, kind of
 * destination): its source addresses in that zone, its destination
 * addresses (or FQDN set) in the other, its services and its enforced
 * schedule. An FQDN destination lies in every `external` zone, because
 * addresses inside the site's own prefixes are never admitted to a set.
 * Flows inside one zone are not compiled: the gateway never sees them.
 * An fqdn:SET endpoint in `from` is not compiled either (a set only
 * ever names destinations).
 *
 * The same policy answers for the generator and for the monitor, so
 * every list in it is normalised once here: prefixes sorted by
 * prefix_cmp() with duplicates and prefixes inside another one of the
 * same list dropped; services sorted by service_cmp() with overlapping
 * ranges of one protocol merged (`any` alone when present).
 */
#ifndef SANSO_POLICY_H
#define SANSO_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "model.h"

/* The arrays are borrowed from the policy; rules of one flow may share
 * them. */
struct pol_rule {
	int flow;		/* index into model.flows */
	int src_zone, dst_zone;
	const struct prefix *src;	/* sorted, disjoint */
	size_t n_src;
	const struct prefix *dst;	/* empty when dst_fqdn >= 0 */
	size_t n_dst;
	int dst_fqdn;		/* fqdn_set index, or -1 */
	const struct service *svcs;	/* sorted, disjoint */
	size_t n_svcs;
	int schedule;		/* enforced schedule index, or -1 */
	bool log;
	/* src (dst) is every network of its zone: an address that one of
	 * them classifies into the zone is in it. */
	bool src_all, dst_all;
};

/* Rules of one ordered zone pair, in flow order (for one flow: the
 * literal destinations first, then its FQDN sets by index). */
struct pol_pair {
	int from, to;
	size_t first, n;	/* slice of policy.rules */
};

/* One entry of the classification table (longest prefix wins). */
struct pol_addr {
	struct prefix p;
	int zone;
	int host;		/* -1 for a zone network */
};

struct pol_store;		/* private to src/policy.c */

/*
 * The classification index on its own: every zone network and host
 * address of a model, for longest-prefix lookups with no allocation.
 * It copies what it needs, so the model may be freed afterwards. The
 * policy classifies through one; the DNS guard keeps one to tell the
 * site's own addresses, so that both read one table.
 */
struct pol_index;

/* NULL with errno. Free with pol_index_free() (NULL is fine). */
struct pol_index *pol_index_build(const struct model *m);
void pol_index_free(struct pol_index *ix);
/* As policy_classify(). */
int pol_index_classify(const struct pol_index *ix, const struct prefix *addr,
		       int *zone, int *host);
/* True when a network of the site holds all of `addr`: any zone
 * network but the 0.0.0.0/0 and ::/0 of external zones (a narrower
 * network of an external zone counts). Host entries play no part. */
bool pol_index_own(const struct pol_index *ix, const struct prefix *addr);

struct policy {
	const struct model *m;	/* borrowed; must outlive the policy */
	/* Grouped by pair, pairs sorted by (from, to). */
	struct pol_rule *rules;
	size_t n_rules;
	struct pol_pair *pairs;
	size_t n_pairs;
	/* Every zone network and host address, by prefix_cmp(); on an equal
	 * prefix hosts come first, then by index. The first of equals wins. */
	struct pol_addr *addrs;
	size_t n_addrs;
	struct pol_store *store;	/* the arrays behind the slices, and
					 * the lookup index over addrs */
};

/* NULL with errno on failure. Free with policy_free(). */
struct policy *policy_build(const struct model *m);
void policy_free(struct policy *p);

/* Zone (and host, or -1) of an address by longest-prefix match: one
 * binary search (over the ranges of the address's /16 or /24), no
 * allocation. A shorter prefix gets the longest entry that covers all
 * of it. `zone` and `host` may be NULL; both are -1 on failure.
 * Returns 0, or -ENOENT when no zone covers it. */
int policy_classify(const struct policy *p, const struct prefix *addr,
		    int *zone, int *host);

/* The rules of a pair; NULL (and *n = 0) when nothing is permitted. */
const struct pol_rule *policy_pair(const struct policy *p, int from, int to,
				   size_t *n);

struct pol_query {
	struct prefix src, dst;	/* full-length addresses */
	uint8_t proto;		/* IPPROTO_* */
	uint16_t port;		/* destination port, or ICMP type */
	time_t when;
};

/* Tells whether an address is currently in an FQDN set; supplied by the
 * caller (the monitor knows the learned elements, explain does not). */
typedef bool (*pol_fqdn_fn)(void *ctx, int set, const struct prefix *addr);

enum pol_verdict {
	POL_ACCEPT,		/* a rule permits it now */
	POL_CLOSED,		/* a rule would, outside its schedule */
	POL_DROP,		/* no rule: the default drop */
	POL_LOCAL,		/* both ends in one zone: not the gateway's */
	POL_UNKNOWN,		/* an end lies in no zone */
};

struct pol_decision {
	enum pol_verdict verdict;
	int src_zone, dst_zone, src_host, dst_host;
	const struct pol_rule *rule;	/* ACCEPT/CLOSED: deciding rule */
	bool fqdn_unknown;	/* an FQDN rule was passed over before the
				 * verdict: it matches if dst is in its set */
	/* The first FQDN rule whose source and service matched but whose
	 * set did not hold dst (or was not asked): what would have
	 * permitted it. NULL when none. */
	const struct pol_rule *fqdn_miss;
};

/* Decides one packet the way the generated ruleset does. `in_fqdn` may
 * be NULL: then FQDN rules never match and fqdn_unknown reports them. */
void policy_decide(const struct policy *p, const struct pol_query *q,
		   pol_fqdn_fn in_fqdn, void *ctx, struct pol_decision *out);

/* Address families, as a mask, in which the ruleset has a rule for FQDN
 * set `set`: a flow to it with a source and a service of that family
 * (icmp is IPv4 only, icmpv6 IPv6 only). An address of another family
 * in that set serves no flow; the DNS guard neither arms nor hands one
 * out. 0 for a set no flow uses. */
#define POL_FAM_V4	1u
#define POL_FAM_V6	2u
unsigned int policy_fqdn_families(const struct policy *p, int set);
/* The POL_FAM_* bit of AF_INET or AF_INET6; 0 for anything else. */
unsigned int pol_fam_bit(int af);
/* Whether a service can be used over IPv`fam` (4 or 6). */
bool service_in_family(const struct service *sv, int fam);

/* True if one protocol with one destination port (tcp, udp, sctp) or
 * type (icmp, icmpv6) is covered by the list. `any` covers every
 * protocol; other protocols (gre, esp...) only `any` covers. */
bool services_cover(const struct service *svcs, size_t n, uint8_t proto,
		    uint16_t port);

#endif
