/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ruleset as one netlink batch (src/nft_netlink.c), for sanso apply.
 * It builds the same kernel objects that `nft -f` builds from the text of
 * ruleset_print(), byte for byte: the same expressions and registers, the
 * same set flags, key types and userdata, the same element encodings, and
 * the objects in the same order, so that even their handles agree.
 */
#ifndef SANSO_NFT_NETLINK_H
#define SANSO_NFT_NETLINK_H

struct ruleset;
struct kbatch;
struct nftnl_set_list;

/*
 * Adds to `b` the atomic replace of table rs->family rs->table
 * (kbatch_replace_table), then every chain, every set with its elements,
 * and every rule. Only family "inet" is supported (-EAFNOSUPPORT), and
 * only the shapes src/ruleset.c builds and src/nft_text.c prints
 * (-EOPNOTSUPP otherwise). On failure the batch holds part of the ruleset
 * and must be thrown away. 0 or -errno.
 */
int ruleset_to_batch(const struct ruleset *rs, struct kbatch *b);
/* The same, and every set object it adds, with its elements, joins
 * `sent` (which then owns it) as it was put into the batch: what
 * kernel_table_digest_sent() needs after the commit. */
int ruleset_to_batch_sent(const struct ruleset *rs, struct kbatch *b,
			  struct nftnl_set_list *sent);

#endif
