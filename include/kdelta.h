/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A change made in place (src/kdelta.c): the batch that turns the live
 * table into the one a full batch loads, touching only what differs.
 */
#ifndef SANSO_KDELTA_H
#define SANSO_KDELTA_H

#include <stddef.h>
#include <stdint.h>

struct kbatch;

struct kdelta_stats {
	size_t chains_added, chains_removed, chains_refilled;
	size_t sets_added, sets_removed, sets_recreated;
	size_t sets_refilled;	/* every element replaced */
	size_t elems_added, elems_removed;
};

/*
 * `live`: the canonical text (version 2) of the table as it is; `want`:
 * that of `full`, the batch that would replace it whole. Elements come
 * from the lines of `want`; objects added or made again, and rules,
 * are copies of `full`'s messages.
 * On success *out is a new batch that makes the live table `want` in
 * one transaction: when both texts hold the same objects it holds only
 * the changes, and none at all for equal texts. -ENOTSUP when a chain's
 * own line changed (its hook, priority, policy or comment): replace the
 * table whole instead. -errno otherwise.
 */
int kdelta_build(const char *live, size_t live_len, const char *want,
		 size_t want_len, const struct kbatch *full, uint16_t family,
		 const char *table, struct kbatch **out,
		 struct kdelta_stats *st);

#endif
