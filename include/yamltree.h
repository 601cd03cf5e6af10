/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A YAML document as a tree with positions (src/yamltree.c), for the
 * zone-file loader. Aliases share their anchored node.
 */
#ifndef SANSO_YAMLTREE_H
#define SANSO_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#define YTREE_MAX_DEPTH 32

enum ytype {
	Y_SCALAR,
	Y_SEQ,
	Y_MAP,
};

struct ynode {
	enum ytype type;
	int line, col;		/* 1-based */
	char *val;		/* scalar text, NUL-terminated */
	size_t len;
	bool plain;		/* an unquoted scalar */
	struct ynode **kids;	/* Y_MAP: key, value, key, value, ... */
	size_t n, cap;
	size_t size;		/* nodes below and including this one */
};

struct ytree {
	struct ynode *root;	/* NULL for an empty or failed document */
	struct ynode **all;
	size_t n_all;
};

struct ytree_error {
	int line, col;
	int syntax;		/* 1: libyaml's own error (E001) */
	char msg[160];
};

/* Parses one document. On a syntax error or a limit (depth, alias
 * expansion past max_nodes) returns a tree with root NULL and fills err.
 * NULL with errno only on ENOMEM. */
struct ytree *ytree_parse(const char *buf, size_t len, size_t max_nodes,
			  struct ytree_error *err);
void ytree_free(struct ytree *t);
const char *ytype_name(enum ytype t);

#endif
