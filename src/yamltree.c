// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A YAML document as a tree of nodes with positions, built from libyaml's
 * event stream. Aliases point at their anchored node instead of copying
 * it; the expanded size is bounded so an alias bomb cannot make a walk
 * over the tree explode.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yamltree.h"

struct anchor {
	char *name;
	struct ynode *node;
};

struct builder {
	struct ynode **all;		/* every node, for freeing */
	size_t n_all, cap_all;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	uint32_t *slot;			/* anchor index + 1, hashed by name */
	size_t cap_slot;		/* a power of two */
	struct ynode *stack[YTREE_MAX_DEPTH + 1];
	size_t depth;
	size_t expanded;		/* nodes counting alias expansion */
	size_t max_nodes;
};

static void node_free(struct ynode *n)
{
	if (!n)
		return;
	free(n->val);
	free(n->kids);
	free(n);
}

void ytree_free(struct ytree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_all; i++)
		node_free(t->all[i]);
	free(t->all);
	free(t);
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	void *p;
	size_t c;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	while (c < need)
		c *= 2;
	p = realloc(*v, c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static int add_kid(struct ynode *parent, struct ynode *kid)
{
	if (grow((void **)&parent->kids, &parent->cap, parent->n + 1,
		 sizeof(*parent->kids)))
		return -ENOMEM;
	parent->kids[parent->n++] = kid;
	parent->size += kid->size;
	if (parent->size > SIZE_MAX / 4)
		parent->size = SIZE_MAX / 4;
	return 0;
}

static struct ynode *new_node(struct builder *b, enum ytype type,
			      const yaml_mark_t *mark)
{
	struct ynode *n;

	if (grow((void **)&b->all, &b->cap_all, b->n_all + 1,
		 sizeof(*b->all)))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->type = type;
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	n->size = 1;
	b->all[b->n_all++] = n;
	return n;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of `name`: where it is, or the empty one it would take. */
static size_t anchor_slot(const struct builder *b, const char *name)
{
	size_t h = name_hash(name) & (b->cap_slot - 1);

	while (b->slot[h] &&
	       strcmp(b->anchors[b->slot[h] - 1].name, name))
		h = (h + 1) & (b->cap_slot - 1);
	return h;
}

/* Anchors are hashed, so a file of many aliases costs linear time. */
static int remember_anchor(struct builder *b, const yaml_char_t *name,
			   struct ynode *n)
{
	size_t h;

	if (!name)
		return 0;
	if ((b->n_anchors + 1) * 2 > b->cap_slot) {
		size_t cap = b->cap_slot ? b->cap_slot * 2 : 64;
		uint32_t *slot = calloc(cap, sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		free(b->slot);
		b->slot = slot;
		b->cap_slot = cap;
		for (size_t i = 0; i < b->n_anchors; i++) {
			h = anchor_slot(b, b->anchors[i].name);
			/* A redefined name keeps its latest definition. */
			b->slot[h] = (uint32_t)i + 1;
		}
	}
	if (grow((void **)&b->anchors, &b->cap_anchors, b->n_anchors + 1,
		 sizeof(*b->anchors)))
		return -ENOMEM;
	b->anchors[b->n_anchors].name = strdup((const char *)name);
	if (!b->anchors[b->n_anchors].name)
		return -ENOMEM;
	b->anchors[b->n_anchors].node = n;
	h = anchor_slot(b, b->anchors[b->n_anchors].name);
	/* The latest definition of a name wins, as YAML says. */
	b->slot[h] = (uint32_t)++b->n_anchors;
	return 0;
}

static struct ynode *find_anchor(struct builder *b, const yaml_char_t *name)
{
	size_t h;

	if (!b->cap_slot)
		return NULL;
	h = anchor_slot(b, (const char *)name);
	return b->slot[h] ? b->anchors[b->slot[h] - 1].node : NULL;
}

static void set_error(struct ytree_error *err, int line, int col,
		      const char *msg)
{
	err->line = line;
	err->col = col;
	snprintf(err->msg, sizeof(err->msg), "%s", msg);
}

/* Attaches a finished node to the open collection, or makes it the root. */
static int attach(struct builder *b, struct ytree *t, struct ynode *n)
{
	if (b->depth == 0) {
		if (!t->root)
			t->root = n;
		return 0;
	}
	return add_kid(b->stack[b->depth - 1], n);
}

static int handle(struct builder *b, struct ytree *t, yaml_event_t *ev,
		  struct ytree_error *err)
{
	struct ynode *n;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = new_node(b, Y_SCALAR, &ev->start_mark);
		if (!n)
			return -ENOMEM;
		n->val = malloc(ev->data.scalar.length + 1);
		if (!n->val)
			return -ENOMEM;
		memcpy(n->val, ev->data.scalar.value, ev->data.scalar.length);
		n->val[ev->data.scalar.length] = '\0';
		n->len = ev->data.scalar.length;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (remember_anchor(b, ev->data.scalar.anchor, n))
			return -ENOMEM;
		b->expanded++;
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (b->depth >= YTREE_MAX_DEPTH) {
			set_error(err, (int)ev->start_mark.line + 1,
				  (int)ev->start_mark.column + 1,
				  "nesting deeper than the limit");
			return -E2BIG;
		}
		n = new_node(b, ev->type == YAML_MAPPING_START_EVENT ? Y_MAP :
				Y_SEQ, &ev->start_mark);
		if (!n)
			return -ENOMEM;
		if (remember_anchor(b, ev->type == YAML_MAPPING_START_EVENT ?
				    ev->data.mapping_start.anchor :
				    ev->data.sequence_start.anchor, n))
			return -ENOMEM;
		b->expanded++;
		b->stack[b->depth++] = n;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = b->stack[--b->depth];
		break;
	case YAML_ALIAS_EVENT:
		n = find_anchor(b, ev->data.alias.anchor);
		if (!n) {
			set_error(err, (int)ev->start_mark.line + 1,
				  (int)ev->start_mark.column + 1,
				  "alias to an unknown anchor");
			return -EINVAL;
		}
		/* A collection still open is an alias to its own ancestor. */
		for (size_t i = 0; i < b->depth; i++)
			if (b->stack[i] == n) {
				set_error(err, (int)ev->start_mark.line + 1,
					  (int)ev->start_mark.column + 1,
					  "recursive alias");
				return -EINVAL;
			}
		b->expanded += n->size;
		break;
	default:
		return 0;
	}
	if (b->expanded > b->max_nodes) {
		set_error(err, (int)ev->start_mark.line + 1,
			  (int)ev->start_mark.column + 1,
			  "document expands to more nodes than the limit "
			  "(aliases?)");
		return -E2BIG;
	}
	return attach(b, t, n);
}

static void offset_to_pos(const char *buf, size_t len, size_t off,
			  int *line, int *col)
{
	int l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			c++;	/* count characters, not UTF-8 bytes */
		}
	}
	*line = l;
	*col = c;
}

struct ytree *ytree_parse(const char *buf, size_t len, size_t max_nodes,
			  struct ytree_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct builder b = { .max_nodes = max_nodes };
	struct ytree *t = calloc(1, sizeof(*t));
	int docs = 0, rc = 0;

	memset(err, 0, sizeof(*err));
	if (!t)
		return NULL;
	if (!yaml_parser_initialize(&parser)) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			const yaml_mark_t *mk = parser.problem ?
				&parser.problem_mark : &parser.mark;

			snprintf(err->msg, sizeof(err->msg), "%s%s%s",
				 parser.problem ? parser.problem :
				 "YAML syntax error",
				 parser.context ? " " : "",
				 parser.context ? parser.context : "");
			err->line = (int)mk->line + 1;
			err->col = (int)mk->column + 1;
			/* libyaml gives only a byte offset for bad encoding. */
			if (parser.error == YAML_READER_ERROR)
				offset_to_pos(buf, len, parser.problem_offset,
					      &err->line, &err->col);
			err->syntax = 1;
			rc = -EINVAL;
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			set_error(err, (int)ev.start_mark.line + 1,
				  (int)ev.start_mark.column + 1,
				  "more than one YAML document");
			yaml_event_delete(&ev);
			rc = -EINVAL;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		rc = handle(&b, t, &ev, err);
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&parser);
	for (size_t i = 0; i < b.n_anchors; i++)
		free(b.anchors[i].name);
	free(b.anchors);
	free(b.slot);
	t->all = b.all;
	t->n_all = b.n_all;
	if (rc == -ENOMEM) {
		ytree_free(t);
		errno = ENOMEM;
		return NULL;
	}
	if (rc)
		t->root = NULL;
	return t;
}

const char *ytype_name(enum ytype t)
{
	switch (t) {
	case Y_SCALAR:
		return "a scalar";
	case Y_SEQ:
		return "a list";
	case Y_MAP:
		return "a mapping";
	}
	return "?";
}
