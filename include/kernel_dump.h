/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a live table back (src/kernel_dump.c): a canonical text and its
 * digest for drift detection, and FQDN set statistics.
 */
#ifndef SANSO_KERNEL_DUMP_H
#define SANSO_KERNEL_DUMP_H

#include <stddef.h>
#include <stdint.h>

/* The table as canonical text (caller frees *text). Elements of timeout
 * sets are left out. -ENOENT if the table does not exist. */
int kernel_table_canon(uint16_t family, const char *table, char **text,
		       size_t *len);
/* SHA-256 of that text, as 64 hex digits. */
int kernel_table_digest(uint16_t family, const char *table, char hex64[65]);
/* Elements in a set and the least and most time left of any (ms). */
int kernel_set_stats(uint16_t family, const char *table, const char *set,
		     size_t *n, uint64_t *min_left_ms, uint64_t *max_left_ms);

#endif
