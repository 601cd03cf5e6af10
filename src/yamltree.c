// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A YAML document as a tree of nodes with positions, built from libyaml's
 * event stream. Aliases point at their anchored node instead of copying
 * it; the expanded size is bounded so an alias bomb cannot make a walk
 * over the tree explode.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "i18n.h"
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
				  _("nesting deeper than the limit"));
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
				  _("alias to an unknown anchor"));
			return -EINVAL;
		}
		/* A collection still open is an alias to its own ancestor. */
		for (size_t i = 0; i < b->depth; i++)
			if (b->stack[i] == n) {
				set_error(err, (int)ev->start_mark.line + 1,
					  (int)ev->start_mark.column + 1,
					  _("recursive alias"));
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
			  _("document expands to more nodes than the limit "
			  "(aliases?)"));
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

/*
 * ---- the mistakes people make ----
 *
 * libyaml reports where the grammar broke, which is often a line after
 * the slip and in its own terms ("mapping values are not allowed in this
 * context"). These scans name the slip itself: a tab or a full-width
 * space (U+3000, what a Japanese input method types) in the indentation,
 * a full-width colon (U+FF1A) after a key, a list item without "- ",
 * an indent that lines up with nothing above it.
 */

#define FW_SPACE "\xe3\x80\x80"		/* U+3000 */
#define FW_COLON "\xef\xbc\x9a"		/* U+FF1A */

static const char msg_tab[] = N_("a tab character; YAML indents with spaces");
static const char msg_fw_space[] =
	N_("a full-width space (U+3000); YAML indents with ASCII spaces");
static const char msg_fw_colon[] =
	N_("a full-width colon (\xef\xbc\x9a); YAML needs ':' followed "
	   "by a space");

/* Characters, not bytes, from s to e: libyaml's columns count them. */
static int chars(const char *s, const char *e)
{
	int c = 0;

	for (; s < e; s++)
		c += ((unsigned char)*s & 0xc0) != 0x80;
	return c;
}

static bool at_fw(const char *s, const char *e, const char *fw)
{
	return e - s >= 3 && !memcmp(s, fw, 3);
}

/* An indentation level seen above: its column and whether it holds the
 * items of a block list. */
struct level {
	int ind, line;
	bool seq;
};

#define MAX_LEVELS (YTREE_MAX_DEPTH * 2)

struct scan {
	struct level lv[MAX_LEVELS];
	int n;			/* lv[0] is the document's column 0 */
	bool opens;		/* the last line ended in "key:" or "-" */
	int flow;		/* open [ and { carried over from lines above */
	int block_ind;		/* >= 0: inside a block scalar (| or >) */
};

static void push(struct scan *s, int ind, int line, bool seq)
{
	if (s->n < MAX_LEVELS)
		s->lv[s->n++] = (struct level){ ind, line, seq };
}

/*
 * Walks the content of one line (after its indentation) outside quotes
 * and comments: the flow depth, whether a ':' or a full-width colon
 * comes first, and whether the line ends by opening a block.
 */
static void scan_content(struct scan *s, const char *p, const char *e,
			 const char **fw_colon, bool *has_key, bool *block)
{
	char quote = 0;
	const char *last = NULL;	/* the last non-space character */
	bool first_colon = true;

	*fw_colon = NULL;
	*has_key = false;
	*block = false;
	for (const char *c = p; c < e; c++) {
		if (quote) {
			if (*c == quote)
				quote = 0;
			last = c;
			continue;
		}
		if (*c == '#' && (c == p || c[-1] == ' ' || c[-1] == '\t'))
			break;
		if ((*c == '"' || *c == '\'') &&
		    (c == p || strchr(" [{,:-", c[-1])))
			quote = *c;
		else if (*c == '[' || *c == '{')
			s->flow++;
		else if ((*c == ']' || *c == '}') && s->flow > 0)
			s->flow--;
		else if (*c == ':' && (c + 1 == e || c[1] == ' ' ||
				       c[1] == '\t' || s->flow)) {
			*has_key = true;
			first_colon = false;
		} else if (first_colon && c > p && at_fw(c, e, FW_COLON) &&
			   !s->flow) {
			*fw_colon = c;
			first_colon = false;
		}
		if (*c != ' ' && *c != '\t')
			last = c;
	}
	s->opens = last && !s->flow && (*last == ':' || (*last == '-' &&
					last == p));
	*block = last && !s->flow && (*last == '|' || *last == '>' ||
		 ((*last == '-' || *last == '+') && last > p &&
		  (last[-1] == '|' || last[-1] == '>')));
}

static bool mistake(struct ytree_error *err, int line, int col,
		    const char *msg)
{
	set_error(err, line, col, msg);
	return true;
}

/*
 * The first mistake on lines up to `upto`, into err; false when none is
 * seen. Only called after libyaml has refused the text, so a guess here
 * never turns a good file into a bad one. Quoted scalars over several
 * lines are not followed; they are rare in a zone file.
 */
static bool find_mistake(const char *buf, size_t len, int upto,
			 struct ytree_error *err)
{
	struct scan s = { .n = 1, .block_ind = -1 };
	const char *next = buf, *end = buf + len;
	char m[sizeof(err->msg)];

	for (int line = 1; next < end && line <= upto; line++) {
		const char *p = next, *c = next, *odd = NULL, *fw_colon;
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct level gone = { -1, 0, false };
		bool has_key, block, item, pushed;
		int ind;

		if (!eol)
			eol = end;
		next = eol < end ? eol + 1 : end;
		if (eol > p && eol[-1] == '\r')
			eol--;
		while (c < eol && (*c == ' ' || *c == '\t' ||
				   at_fw(c, eol, FW_SPACE))) {
			if (!odd && *c != ' ')
				odd = c;
			c += *c == ' ' || *c == '\t' ? 1 : 3;
		}
		ind = chars(p, c);
		if (c == eol || *c == '#')
			continue;	/* blank or a comment */
		if (s.block_ind >= 0) {
			if (ind > s.block_ind)
				continue;	/* text of a | or > scalar */
			s.block_ind = -1;
		}
		if (s.flow) {
			/* Inside [ ] or { } indentation means nothing. */
			scan_content(&s, c, eol, &fw_colon, &has_key, &block);
			continue;
		}
		if (odd)
			return mistake(err, line, chars(p, odd) + 1,
				       _(*odd == '\t' ? msg_tab : msg_fw_space));
		item = *c == '-' && (c + 1 == eol || c[1] == ' ');
		pushed = false;
		if (ind > s.lv[s.n - 1].ind) {
			if (!s.opens) {
				if (!item && !memchr(c, ':', (size_t)(eol - c)))
					continue;	/* a plain scalar goes on */
				snprintf(m, sizeof(m), _("an indent of %d "
					 "spaces, but the keys beside it (line "
					 "%d) are at %d; keys of one mapping "
					 "line up"), ind, s.lv[s.n - 1].line,
					 s.lv[s.n - 1].ind);
				return mistake(err, line, ind + 1, m);
			}
			push(&s, ind, line, false);
			pushed = true;
		} else {
			while (s.n > 1 && ind < s.lv[s.n - 1].ind)
				gone = s.lv[--s.n];
			if (ind != s.lv[s.n - 1].ind) {
				snprintf(m, sizeof(m), _("an indent of %d "
					 "spaces lines up with nothing above "
					 "(line %d is at %d, line %d at %d)"),
					 ind, gone.line, gone.ind,
					 s.lv[s.n - 1].line, s.lv[s.n - 1].ind);
				return mistake(err, line, ind + 1, m);
			}
			if (s.lv[s.n - 1].seq && !item && !s.opens) {
				snprintf(m, sizeof(m), _("a list item without "
					 "\"- \"; the items of this list "
					 "(line %d) start with \"- \""),
					 s.lv[s.n - 1].line);
				return mistake(err, line, ind + 1, m);
			}
		}
		if (item) {
			const char *k = c + 1;

			/* "key:" then "- " at the key's own indent is a
			 * list too, but that level also holds keys. */
			if (pushed || s.lv[s.n - 1].seq) {
				s.lv[s.n - 1].seq = true;
				s.lv[s.n - 1].line = line;
			}
			/* The mapping inside an item starts after "- ". */
			while (k < eol && *k == ' ')
				k++;
			if (k < eol)
				push(&s, chars(p, k), line, false);
		}
		scan_content(&s, c, eol, &fw_colon, &has_key, &block);
		if (fw_colon)
			return mistake(err, line, chars(p, fw_colon) + 1,
				       _(msg_fw_colon));
		if (block)
			s.block_ind = ind;
	}
	return false;
}

/*
 * A full-width colon or space can also parse: "zones：" or "lgwan： {...}"
 * is then one odd plain key, and "　interfaces" a key of its own. Keys
 * of a zone file are ASCII words, so such a key is the slip and not a
 * name. A list item whose mapping repeats a key at the same column
 * is most likely two items with the "- " of the second forgotten.
 */
static bool key_mistake(const struct ynode *k, struct ytree_error *err)
{
	const char *v, *e, *w;

	/* A collection used as a key has no text. */
	if (k->type != Y_SCALAR || !k->plain || !k->val)
		return false;
	v = w = k->val;
	e = v + k->len;
	if (at_fw(v, e, FW_SPACE))
		return mistake(err, k->line, k->col, _(msg_fw_space));
	while (w < e && (isalnum((unsigned char)*w) || *w == '_' ||
			 *w == '-'))
		w++;
	if (w > v && at_fw(w, e, FW_COLON))
		return mistake(err, k->line, k->col + chars(v, w),
			       _(msg_fw_colon));
	return false;
}

static bool tree_mistake(const struct ytree *t, struct ytree_error *err)
{
	char m[sizeof(err->msg)];

	for (size_t i = 0; i < t->n_all; i++) {
		const struct ynode *n = t->all[i];

		if (n->type == Y_SEQ)
			for (size_t j = 0; j < n->n; j++) {
				const struct ynode *it = n->kids[j];

				/* "name：a" as an item is a key gone wrong
				 * only when followed by a space. */
				if (it->type == Y_SCALAR &&
				    strstr(it->val, FW_COLON " ") &&
				    key_mistake(it, err))
					return true;
				if (it->type != Y_MAP)
					continue;
				for (size_t a = 2; a + 1 < it->n; a += 2)
					for (size_t b = 0; b < a; b += 2) {
						const struct ynode *x =
							it->kids[a];
						const struct ynode *y =
							it->kids[b];

						if (x->type != Y_SCALAR ||
						    y->type != Y_SCALAR ||
						    x->col != y->col ||
						    x->line == y->line ||
						    strcmp(x->val, y->val))
							continue;
						snprintf(m, sizeof(m),
							 _("a second \"%.40s\" "
							 "in one list item "
							 "(line %d); a new "
							 "item starts with "
							 "\"- \""), x->val,
							 y->line);
						return mistake(err, x->line,
							       x->col, m);
					}
			}
		if (n->type == Y_MAP)
			for (size_t j = 0; j + 1 < n->n; j += 2)
				if (key_mistake(n->kids[j], err))
					return true;
	}
	return false;
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
				 _("YAML syntax error"),
				 parser.context ? " " : "",
				 parser.context ? parser.context : "");
			err->line = (int)mk->line + 1;
			err->col = (int)mk->column + 1;
			/* libyaml gives only a byte offset for bad encoding. */
			if (parser.error == YAML_READER_ERROR)
				offset_to_pos(buf, len, parser.problem_offset,
					      &err->line, &err->col);
			else
				find_mistake(buf, len, err->line, err);
			err->syntax = 1;
			rc = -EINVAL;
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			set_error(err, (int)ev.start_mark.line + 1,
				  (int)ev.start_mark.column + 1,
				  _("more than one YAML document"));
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
	if (!rc && t->root && tree_mistake(t, err)) {
		err->syntax = 1;
		rc = -EINVAL;
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
