/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a live table back (src/kernel_dump.c): a canonical text and its
 * digest for drift detection, and FQDN set statistics.
 */
#ifndef SANSO_KERNEL_DUMP_H
#define SANSO_KERNEL_DUMP_H

#include <stddef.h>
#include <stdint.h>

struct nftnl_set_list;

/*
 * The table as canonical text (caller frees *text). Elements of timeout
 * sets are left out. -ENOENT if the table does not exist.
 * Version 2 (KERNEL_CANON_VERSION, what records since 0.2 hold) prints
 * each set's elements and each chain's rules in name order; version 1
 * (records of 0.1) in the order the kernel created them, which a table
 * changed in place does not keep. The _v functions take the version a
 * record was written with, so an older record is still compared right.
 */
#define KERNEL_CANON_VERSION 2
int kernel_table_canon(uint16_t family, const char *table, char **text,
		       size_t *len);
int kernel_table_canon_v(uint16_t family, const char *table, int version,
			 char **text, size_t *len);
/* SHA-256 of that text, as 64 hex digits. */
int kernel_canon_digest(const char *text, size_t len, char hex64[65]);
int kernel_table_digest(uint16_t family, const char *table, char hex64[65]);
int kernel_table_digest_v(uint16_t family, const char *table, int version,
			  char hex64[65]);
/*
 * The same text and digest, byte for byte, when the kernel holds what
 * `sent` says: the elements of each set named in `sent` (the set objects
 * of a batch just committed, elements included) are taken from there,
 * and only chains, sets, rules and the elements of other sets are read
 * back. For the record of a deployment, where the full read-back would
 * ask the kernel for every set's elements in turn. NULL reads all back.
 */
int kernel_table_canon_sent(uint16_t family, const char *table,
			    struct nftnl_set_list *sent, char **text,
			    size_t *len);
int kernel_table_digest_sent(uint16_t family, const char *table,
			     struct nftnl_set_list *sent, char hex64[65]);
/*
 * The same text and digest of the table a batch would leave (from its
 * last "delete table" of `table` on), computed before it is sent from
 * its chain, set and rule messages and, for the elements, the set
 * objects in `sent` (ruleset_to_batch_sent()): what apply writes ahead
 * as the digest its commit will make. -ENOENT when the batch builds no
 * such table or `sent` lacks a set without the timeout flag.
 */
struct kbatch;
int kbatch_table_canon(const struct kbatch *b, uint16_t family,
		       const char *table, struct nftnl_set_list *sent,
		       char **text, size_t *len);
int kbatch_table_digest(const struct kbatch *b, uint16_t family,
			const char *table, struct nftnl_set_list *sent,
			char hex64[65]);
/* The canonical line of element `e` of set `set` ("elem SET KEY ...\n"),
 * malloc()ed; NULL with errno. */
struct nftnl_set_elem;
char *kernel_elem_line(const char *set, struct nftnl_set_elem *e);
/* Elements in a set and the least and most time left of any (ms). */
int kernel_set_stats(uint16_t family, const char *table, const char *set,
		     size_t *n, uint64_t *min_left_ms, uint64_t *max_left_ms);

#endif
