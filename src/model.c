// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The zone-file loader: YAML tree -> struct model, reporting E001-E004,
 * E008 and E009 as it goes and carrying on past each problem so that one
 * run shows them all.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "model.h"
#include "sched.h"
#include "yamltree.h"
#include "i18n.h"

enum nkind {
	NK_ZONE,
	NK_HOST,
	NK_FQDN,
	NK_SERVICE,
	NK_SCHEDULE,
};

static const char *const nkind_names[] = {
	[NK_ZONE] = "zone",
	[NK_HOST] = "host",
	[NK_FQDN] = "FQDN set",
	[NK_SERVICE] = "service",
	[NK_SCHEDULE] = "schedule",
};

/* One entry of the shared namespace of zones, hosts, sets, services and
 * schedules. */
struct name {
	const char *name;	/* borrowed from the model */
	enum nkind kind;
	int index;
	struct loc loc;
};

/* An open-addressing index of names -> position in an array; slots hold
 * position + 1. Loading stays linear in the size of the file. */
struct name_index {
	uint32_t *slot;
	size_t cap;		/* a power of two */
};

struct loader {
	struct model *m;
	struct diags *d;
	const char *file;	/* current file name (owned by m->files) */
	const char *dir;	/* for relative holiday files */
	const struct model_opts *o;
	struct name *names;
	size_t n_names, cap_names;
	struct name_index nix;
	/* flow names seen so far, for E003 */
	const struct ynode **fnames;
	size_t n_fnames;
	struct name_index fix;
	char qbuf[4][96];	/* quoted-value buffers for messages */
	unsigned int qnext;
	int holiday_files;	/* bounded: a file per schedule at most */
	/* Reading a holiday file from outside the zone file's directory:
	 * messages do not quote what it holds (see holiday_file). */
	bool redact;
};

static const char *tier_names[] = {
	[TIER_MYNUMBER] = "mynumber",
	[TIER_LGWAN] = "lgwan",
	[TIER_INTERNET] = "internet",
	[TIER_DMZ] = "dmz",
	[TIER_MGMT] = "mgmt",
	[TIER_EXTERNAL] = "external",
};

static const char *variant_names[] = {
	[MODEL_ALPHA] = "alpha",
	[MODEL_ALPHA_PRIME] = "alpha-prime",
	[MODEL_BETA] = "beta",
	[MODEL_BETA_PRIME] = "beta-prime",
};

static const char *role_names[] = {
	[ROLE_NONE] = "none",
	[ROLE_UPDATE_RELAY] = "update-relay",
	[ROLE_SANITIZER] = "sanitizer",
	[ROLE_SCREEN_TRANSFER] = "screen-transfer",
	[ROLE_RESOLVER] = "resolver",
	[ROLE_NTP] = "ntp",
};

static const char *const sanction_names[SANCTION_COUNT] = {
	"eltax", "mynaportal", "jlis-platform",
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

const char *sanction_name(unsigned int bit)
{
	return bit < SANCTION_COUNT ? sanction_names[bit] : "?";
}

const char *sanction_list(unsigned int bits, char *buf, size_t n)
{
	size_t used = 0;

	if (!n)
		return buf;
	buf[0] = '\0';
	for (unsigned int i = 0; i < SANCTION_COUNT; i++) {
		int r;

		if (!(bits & (1u << i)))
			continue;
		r = snprintf(buf + used, n - used, "%s%s", used ? ", " : "",
			     sanction_names[i]);
		if (r < 0 || (size_t)r >= n - used)
			break;
		used += (size_t)r;
	}
	return buf;
}

const char *tier_name(enum tier t)
{
	return (unsigned int)t < N_ELEMS(tier_names) ? tier_names[t] : "?";
}

const char *model_variant_name(enum model_variant v)
{
	return (unsigned int)v < N_ELEMS(variant_names) ? variant_names[v] :
	       "?";
}

const char *role_name(enum role r)
{
	return (unsigned int)r < N_ELEMS(role_names) ? role_names[r] : "?";
}

static int lookup_word(const char *const *words, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (words[i] && !strcmp(words[i], s))
			return (int)i;
	return -1;
}

/* ---- diagnostics ---- */

static struct loc at(const struct loader *L, const struct ynode *n)
{
	struct loc l = { L->file, n ? n->line : 0, n ? n->col : 0 };

	return l;
}

static void err(struct loader *L, const struct ynode *n, const char *code,
		const char *flow, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void err(struct loader *L, const struct ynode *n, const char *code,
		const char *flow, const char *fmt, ...)
{
	struct loc l = at(L, n);
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, _(fmt), ap) < 0)
		msg = NULL;
	va_end(ap);
	diag_add(L->d, &l, DIAG_ERROR, code, flow, MSG_AS_IS,
		 msg ? msg : _("out of memory"));
	free(msg);
}

/* A value fit to quote in a message: control bytes shown as '?', long
 * values cut. Returns one of a few rotating buffers. */
/* Whether s could be a date the user meant: all that a redacted message
 * may quote. */
static bool datelike(const char *s)
{
	size_t n = strspn(s, "0123456789-");

	return n == strlen(s) && n <= 10;
}

static const char *q(struct loader *L, const char *s)
{
	char *b = L->qbuf[L->qnext++ % N_ELEMS(L->qbuf)];
	size_t i = 0, max = sizeof(L->qbuf[0]) - 4;

	if (L->redact && s && !datelike(s))
		return "<not shown>";

	for (; s && *s && i < max; s++)
		b[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f ||
			  *s == '"' || *s == '\\') ? '?' : *s;
	if (s && *s) {
		/* Do not cut a UTF-8 sequence in half. */
		while (i > 0 && ((unsigned char)b[i] & 0xc0) == 0x80)
			i--;
		memcpy(b + i, "...", 3);
		i += 3;
	}
	b[i] = '\0';
	return b;
}

/* ---- typed access to nodes ---- */

static bool want(struct loader *L, const struct ynode *n, enum ytype t,
		 const char *what)
{
	if (n->type == t)
		return true;
	err(L, n, "E002", NULL, "%s must be %s, not %s", what, ytype_name(t),
	    ytype_name(n->type));
	return false;
}

/* A scalar string (any style). */
static const char *str(struct loader *L, const struct ynode *n,
		       const char *what)
{
	if (!want(L, n, Y_SCALAR, what))
		return NULL;
	if (n->len > MODEL_MAX_SCALAR) {
		err(L, n, "E002", NULL, "%s is longer than %u bytes", what,
		    MODEL_MAX_SCALAR);
		return NULL;
	}
	if (strlen(n->val) != n->len) {
		err(L, n, "E002", NULL, "%s contains a NUL byte", what);
		return NULL;
	}
	return n->val;
}

static char *dup_str(struct loader *L, const struct ynode *n,
		     const char *what)
{
	const char *s = str(L, n, what);

	return s ? strdup(s) : NULL;
}

static bool uint_val(struct loader *L, const struct ynode *n,
		     const char *what, unsigned long max, uint32_t *out)
{
	const char *s = str(L, n, what);
	unsigned long v = 0;

	if (!s)
		return false;
	if (!n->plain || !*s || strlen(s) > 10)
		goto bad;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > max)
		goto bad;
	*out = (uint32_t)v;
	return true;
bad:
	err(L, n, "E002", NULL, "%s must be an integer from 0 to %lu, not "
	    "\"%s\"", what, max, q(L, s));
	return false;
}

static bool bool_val(struct loader *L, const struct ynode *n,
		     const char *what, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes",
					   "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no",
					  "No", "NO", "off", "Off", "OFF" };
	const char *s = str(L, n, what);

	if (!s)
		return false;
	if (n->plain && lookup_word(yes, N_ELEMS(yes), s) >= 0) {
		*out = true;
		return true;
	}
	if (n->plain && lookup_word(no, N_ELEMS(no), s) >= 0) {
		*out = false;
		return true;
	}
	err(L, n, "E002", NULL, "%s must be true or false, not \"%s\"", what,
	    q(L, s));
	return false;
}

/* A list, or a single scalar standing for a list of one. */
static size_t list_len(const struct ynode *n)
{
	return n->type == Y_SEQ ? n->n : 1;
}

static const struct ynode *list_at(const struct ynode *n, size_t i)
{
	return n->type == Y_SEQ ? n->kids[i] : n;
}

static bool want_list(struct loader *L, const struct ynode *n,
		      const char *what)
{
	if (n->type == Y_MAP) {
		err(L, n, "E002", NULL, "%s must be a list, not a mapping",
		    what);
		return false;
	}
	return true;
}

/*
 * Walks a mapping against a table of known keys: reports unknown and
 * duplicate keys, stores each value node in vals[i] (NULL if absent),
 * and reports missing required keys at the mapping itself.
 */
struct keyspec {
	const char *key;
	bool required;
};

static bool map_keys(struct loader *L, const struct ynode *map,
		     const char *what, const struct keyspec *keys,
		     size_t n_keys, const struct ynode **vals)
{
	bool ok = true;

	memset(vals, 0, n_keys * sizeof(*vals));
	if (!want(L, map, Y_MAP, what))
		return false;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->kids[i];
		size_t j;

		if (k->type != Y_SCALAR) {
			err(L, k, "E002", NULL, "keys of %s must be scalars",
			    what);
			ok = false;
			continue;
		}
		for (j = 0; j < n_keys; j++)
			if (!strcmp(k->val, keys[j].key))
				break;
		if (j == n_keys) {
			err(L, k, "E002", NULL, "unknown key \"%s\" in %s",
			    q(L, k->val), what);
			ok = false;
		} else if (vals[j]) {
			err(L, k, "E002", NULL, "duplicate key \"%s\" in %s",
			    q(L, k->val), what);
			ok = false;
		} else {
			vals[j] = map->kids[i + 1];
		}
	}
	for (size_t j = 0; j < n_keys; j++)
		if (keys[j].required && !vals[j]) {
			err(L, map, "E002", NULL, "%s is missing the required "
			    "key \"%s\"", what, keys[j].key);
			ok = false;
		}
	return ok;
}

/* ---- the shared namespace ---- */

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Makes room for one more than the `count` entries already indexed. */
static int index_grow(struct name_index *ix, size_t count,
		      const char *(*key)(const void *, size_t),
		      const void *arr)
{
	size_t cap = ix->cap ? ix->cap * 2 : 256;
	uint32_t *slot;

	if ((count + 1) * 2 <= ix->cap)
		return 0;
	slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		size_t h = hash_str(key(arr, i)) & (cap - 1);

		while (slot[h])
			h = (h + 1) & (cap - 1);
		slot[h] = (uint32_t)i + 1;
	}
	free(ix->slot);
	ix->slot = slot;
	ix->cap = cap;
	return 0;
}

/* Calls fn for every entry whose key is s, until fn returns true. */
static size_t index_find(const struct name_index *ix, const char *s,
			 const char *(*key)(const void *, size_t),
			 const void *arr, size_t from)
{
	if (!ix->cap)
		return SIZE_MAX;
	for (size_t h = hash_str(s) & (ix->cap - 1); ix->slot[h];
	     h = (h + 1) & (ix->cap - 1)) {
		size_t i = ix->slot[h] - 1;

		if (i >= from && !strcmp(key(arr, i), s))
			return i;
	}
	return SIZE_MAX;
}

static void index_put(struct name_index *ix, const char *s, size_t i)
{
	size_t h = hash_str(s) & (ix->cap - 1);

	while (ix->slot[h])
		h = (h + 1) & (ix->cap - 1);
	ix->slot[h] = (uint32_t)i + 1;
}

static const char *name_key(const void *arr, size_t i)
{
	return ((const struct name *)arr)[i].name;
}

/* A service may share its name with a host or a zone: references to the
 * two never meet (SPEC's own example has a host and a service "wsus"). */
static bool may_share(enum nkind a, enum nkind b)
{
	return (a == NK_SERVICE && (b == NK_HOST || b == NK_ZONE)) ||
	       (b == NK_SERVICE && (a == NK_HOST || a == NK_ZONE));
}

static int add_name(struct loader *L, const struct ynode *key,
		    enum nkind kind, int index, const char *name)
{
	struct loc l = at(L, key);
	size_t i = 0;

	while ((i = index_find(&L->nix, name, name_key, L->names, i)) !=
	       SIZE_MAX) {
		const struct name *o = &L->names[i++];

		if (may_share(kind, o->kind)) {
			diag_add(L->d, &l, DIAG_WARNING, "W05", NULL,
				 "%s \"%s\" shares its name with the %s at "
				 "%s:%d:%d", nkind_names[kind], name,
				 nkind_names[o->kind], o->loc.file,
				 o->loc.line, o->loc.col);
			continue;
		}
		err(L, key, "E003", NULL, "duplicate name \"%s\": %s here, "
		    "%s at %s:%d:%d", q(L, name), nkind_names[kind],
		    nkind_names[o->kind], o->loc.file, o->loc.line,
		    o->loc.col);
		return -EEXIST;
	}
	if (L->n_names == L->cap_names) {
		size_t cap = L->cap_names ? L->cap_names * 2 : 64;
		struct name *v = realloc(L->names, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		L->names = v;
		L->cap_names = cap;
	}
	if (index_grow(&L->nix, L->n_names, name_key, L->names))
		return -ENOMEM;
	L->names[L->n_names] = (struct name){ name, kind, index, l };
	index_put(&L->nix, name, L->n_names++);
	return 0;
}

/* The entry named s; of kind `kind` when there is one (a service and a
 * host may share a name), else any. */
static const struct name *find_name(const struct loader *L, const char *s,
				    int kind)
{
	const struct name *any = NULL;
	size_t i = 0;

	while ((i = index_find(&L->nix, s, name_key, L->names, i)) !=
	       SIZE_MAX) {
		const struct name *o = &L->names[i++];

		if ((int)o->kind == kind)
			return o;
		if (!any || (kind < 0 && o->kind != NK_SERVICE))
			any = o;
	}
	return any;
}

/* Checks the name syntax of a collection key; false after E002. */
static bool valid_name(struct loader *L, const struct ynode *key,
		       const char *what)
{
	if (key->type != Y_SCALAR) {
		err(L, key, "E002", NULL, "%s names must be scalars", what);
		return false;
	}
	if (!name_valid(key->val)) {
		err(L, key, "E002", NULL, "%s name \"%s\" must match "
		    "[a-z][a-z0-9-]{0,30}", what, q(L, key->val));
		return false;
	}
	return true;
}

/* Names match [a-z][a-z0-9-]{0,30}. */
#define NAME_MAX_LEN 31

/*
 * The known name of one of `kinds` (a bit per enum nkind) nearest to `s`
 * by edit distance, when it is near enough to be a slip (at most 2 edits,
 * and at most half the length); NULL otherwise. Linear in the names,
 * and only on the path of an E004.
 */
static const char *nearest(const struct loader *L, const char *s,
			   unsigned int kinds)
{
	size_t ls = strlen(s), best = SIZE_MAX;
	const char *hit = NULL;
	size_t row[NAME_MAX_LEN + 2];

	if (ls > NAME_MAX_LEN)
		return NULL;
	for (size_t i = 0; i < L->n_names; i++) {
		const char *t = L->names[i].name;
		size_t lt;

		if (!t || !(kinds & (1u << L->names[i].kind)))
			continue;
		lt = strlen(t);
		if (lt > NAME_MAX_LEN || (lt > ls ? lt - ls : ls - lt) > 2)
			continue;
		for (size_t j = 0; j <= lt; j++)
			row[j] = j;
		for (size_t a = 1; a <= ls; a++) {
			size_t diag = row[0];

			row[0] = a;
			for (size_t j = 1; j <= lt; j++) {
				size_t up = row[j], v = diag +
					    (s[a - 1] != t[j - 1]);

				if (row[j] + 1 < v)
					v = row[j] + 1;
				if (row[j - 1] + 1 < v)
					v = row[j - 1] + 1;
				diag = up;
				row[j] = v;
			}
		}
		if (row[lt] < best) {
			best = row[lt];
			hit = t;
		}
	}
	return best <= 2 && best * 2 <= ls ? hit : NULL;
}

/* Resolves a name of the given kind; reports E004 at n otherwise. */
static int resolve(struct loader *L, const struct ynode *n, enum nkind kind,
		   const char *s, const char *flow)
{
	const struct name *nm = find_name(L, s, (int)kind);
	const char *near;

	if (nm && nm->kind == kind)
		return nm->index;
	if (nm)
		err(L, n, "E004", flow, "\"%s\" is a %s, not a %s", q(L, s),
		    nkind_names[nm->kind], nkind_names[kind]);
	else if ((near = nearest(L, s, 1u << kind)))
		err(L, n, "E004", flow, "unknown %s \"%s\"; did you mean "
		    "\"%s\"?", nkind_names[kind], q(L, s), near);
	else
		err(L, n, "E004", flow, "unknown %s \"%s\"", nkind_names[kind],
		    q(L, s));
	return -1;
}

/* ---- sections ---- */

/*
 * E008 for a prefix prefix_parse refused. Host bits set stay an error:
 * "10.21.1.1/16" may mean the network or a typed host, and which one
 * decides what the ruleset permits, so the reviewer chooses.
 */
static void bad_prefix(struct loader *L, const struct ynode *n,
		       const char *flow, const char *what, const char *where,
		       const char *s, int rc, const struct prefix *meant)
{
	char buf[PREFIX_STRLEN];

	if (rc != -EDOM) {
		err(L, n, "E008", flow, "malformed %s \"%s\"%s", what,
		    q(L, s), where);
		return;
	}
	prefix_format(meant, buf, sizeof(buf));
	err(L, n, "E008", flow, "%s \"%s\"%s has host bits set; did you "
	    "mean %s?", what, q(L, s), where, buf);
}

static void load_prefix_list(struct loader *L, const struct ynode *v,
			     const char *what, struct net **out, size_t *n)
{
	if (!want_list(L, v, what))
		return;
	*out = calloc(list_len(v) ? list_len(v) : 1, sizeof(**out));
	if (!*out)
		return;
	for (size_t i = 0; i < list_len(v); i++) {
		const struct ynode *e = list_at(v, i);
		const char *s = str(L, e, what);
		struct net *net = &(*out)[*n];
		int rc;

		if (!s)
			continue;
		rc = prefix_parse(s, &net->p);
		if (rc) {
			bad_prefix(L, e, NULL, "prefix", "", s, rc, &net->p);
			continue;
		}
		net->loc = at(L, e);
		(*n)++;
	}
}

static bool iface_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == '/' || *s == ':' || *s == '"' ||
		    *s == '\\' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void load_zone(struct loader *L, const struct ynode *key,
		      const struct ynode *val)
{
	static const struct keyspec keys[] = {
		{ "tier", true }, { "description", false },
		{ "interfaces", true }, { "networks", true },
	};
	const struct ynode *v[N_ELEMS(keys)];
	struct model *m = L->m;
	struct zone *z = &m->zones[m->n_zones];
	int t;

	map_keys(L, val, "a zone", keys, N_ELEMS(keys), v);
	z->name = strdup(key->val);
	if (!z->name)
		return;
	z->loc = at(L, key);
	z->tier = TIER_INTERNET;
	z->tier_bad = true;
	if (add_name(L, key, NK_ZONE, (int)m->n_zones, z->name)) {
		free(z->name);
		z->name = NULL;
		return;
	}
	m->n_zones++;
	if (v[0] && str(L, v[0], "tier")) {
		t = lookup_word(tier_names, N_ELEMS(tier_names), v[0]->val);
		if (t < 0)
			err(L, v[0], "E002", NULL, "unknown tier \"%s\" (mynumber, "
			    "lgwan, internet, dmz, mgmt, external)",
			    q(L, v[0]->val));
		else
			z->tier = (enum tier)t;
		z->tier_bad = t < 0;
	}
	if (v[1])
		z->description = dup_str(L, v[1], "description");
	if (v[2] && want_list(L, v[2], "interfaces")) {
		z->ifaces = calloc(list_len(v[2]) ? list_len(v[2]) : 1,
				   sizeof(*z->ifaces));
		for (size_t i = 0; z->ifaces && i < list_len(v[2]); i++) {
			const struct ynode *e = list_at(v[2], i);
			const char *s = str(L, e, "an interface");

			if (!s)
				continue;
			if (!iface_name_ok(s)) {
				err(L, e, "E002", NULL, "bad interface name "
				    "\"%s\"", q(L, s));
				continue;
			}
			z->ifaces[z->n_ifaces].name = strdup(s);
			z->ifaces[z->n_ifaces++].loc = at(L, e);
		}
		if (list_len(v[2]) == 0)
			err(L, v[2], "E002", NULL, "zone \"%s\" needs at least "
			    "one interface", z->name);
	}
	if (v[3]) {
		load_prefix_list(L, v[3], "networks", &z->nets, &z->n_nets);
		if (v[3]->type == Y_SEQ && v[3]->n == 0)
			err(L, v[3], "E002", NULL, "zone \"%s\" needs at least "
			    "one network", z->name);
	}
}

/* `sanctioned: LABEL` or a list of labels (SPEC §8a). */
static void load_sanctioned(struct loader *L, const struct ynode *v,
			    unsigned int *bits, struct loc *loc)
{
	size_t n = v->type == Y_SEQ ? list_len(v) : 1;

	*loc = at(L, v);
	if (v->type == Y_SEQ && !n)
		err(L, v, "E002", NULL, "sanctioned must not be empty");
	if (v->type == Y_MAP) {
		want(L, v, Y_SCALAR, "sanctioned");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ynode *e = v->type == Y_SEQ ? list_at(v, i) : v;
		const char *t = str(L, e, "a sanctioned label");
		int b;

		if (!t)
			continue;
		b = lookup_word(sanction_names, SANCTION_COUNT, t);
		if (b < 0)
			err(L, e, "E002", NULL, "unknown sanctioned label "
			    "\"%s\" (eltax, mynaportal, jlis-platform)",
			    q(L, t));
		else
			*bits |= 1u << b;
	}
}

static void load_host(struct loader *L, const struct ynode *key,
		      const struct ynode *val)
{
	static const struct keyspec keys[] = {
		{ "zone", true }, { "address", true }, { "role", false },
		{ "description", false }, { "sanctioned", false },
	};
	const struct ynode *v[N_ELEMS(keys)];
	struct model *m = L->m;
	struct host *h = &m->hosts[m->n_hosts];

	map_keys(L, val, "a host", keys, N_ELEMS(keys), v);
	h->name = strdup(key->val);
	if (!h->name)
		return;
	h->loc = at(L, key);
	h->zone = -1;
	if (add_name(L, key, NK_HOST, (int)m->n_hosts, h->name)) {
		free(h->name);
		h->name = NULL;
		return;
	}
	m->n_hosts++;
	if (v[0] && str(L, v[0], "zone")) {
		h->zone_loc = at(L, v[0]);
		h->zone = resolve(L, v[0], NK_ZONE, v[0]->val, NULL);
	}
	if (v[1] && str(L, v[1], "address")) {
		int rc = prefix_parse(v[1]->val, &h->addr);

		h->addr_loc = at(L, v[1]);
		if (rc)
			bad_prefix(L, v[1], NULL, "address", "", v[1]->val,
				   rc, &h->addr);
	}
	if (v[2] && str(L, v[2], "role")) {
		int r = lookup_word(role_names, N_ELEMS(role_names),
				    v[2]->val);

		if (r <= ROLE_NONE)
			err(L, v[2], "E002", NULL, "unknown role \"%s\" "
			    "(update-relay, sanitizer, screen-transfer, "
			    "resolver, ntp)", q(L, v[2]->val));
		else
			h->role = (enum role)r;
	}
	if (v[3])
		h->description = dup_str(L, v[3], "description");
	if (v[4])
		load_sanctioned(L, v[4], &h->sanctioned, &h->sanctioned_loc);
}

static void load_fqdn_set(struct loader *L, const struct ynode *key,
			  const struct ynode *val)
{
	static const struct keyspec keys[] = {
		{ "names", true }, { "min_ttl", false }, { "max_ttl", false },
		{ "grace", false }, { "max_addrs", false },
		{ "max_stale", false }, { "description", false },
		{ "sanctioned", false },
	};
	const struct ynode *v[N_ELEMS(keys)];
	struct model *m = L->m;
	struct fqdn_set *f = &m->fqdn_sets[m->n_fqdn_sets];

	map_keys(L, val, "an FQDN set", keys, N_ELEMS(keys), v);
	f->name = strdup(key->val);
	if (!f->name)
		return;
	f->loc = at(L, key);
	f->min_ttl = 300;
	f->max_ttl = 86400;
	f->grace = 60;
	f->max_addrs = 1000;
	f->max_stale = 86400;
	if (add_name(L, key, NK_FQDN, (int)m->n_fqdn_sets, f->name)) {
		free(f->name);
		f->name = NULL;
		return;
	}
	m->n_fqdn_sets++;
	if (v[0] && want_list(L, v[0], "names")) {
		f->names = calloc(list_len(v[0]) ? list_len(v[0]) : 1,
				  sizeof(*f->names));
		for (size_t i = 0; f->names && i < list_len(v[0]); i++) {
			const struct ynode *e = list_at(v[0], i);
			const char *s = str(L, e, "an FQDN pattern");
			const char *why = "malformed";
			char buf[256];

			if (!s)
				continue;
			if (fqdn_pattern_parse(s, buf, sizeof(buf), &why)) {
				err(L, e, "E009", NULL, "FQDN pattern \"%s\": %s",
				    q(L, s), why);
				continue;
			}
			if (fqdn_pattern_shared(buf)) {
				struct loc l = at(L, e);

				diag_add(L->d, &l, DIAG_WARNING, "W06", NULL,
					 "FQDN pattern \"%s\": wildcard "
					 "directly over the shared hosting "
					 "domain %s: any of its customers can "
					 "add addresses to set \"%s\"",
					 buf, buf + 2, f->name);
			}
			f->names[f->n_names].pattern = strdup(buf);
			f->names[f->n_names++].loc = at(L, e);
		}
		if (list_len(v[0]) == 0)
			err(L, v[0], "E002", NULL, "FQDN set \"%s\" has no names",
			    f->name);
	}
	if (v[1])
		uint_val(L, v[1], "min_ttl", 604800, &f->min_ttl);
	if (v[2])
		uint_val(L, v[2], "max_ttl", 604800, &f->max_ttl);
	if (v[3])
		uint_val(L, v[3], "grace", 86400, &f->grace);
	if (v[4])
		uint_val(L, v[4], "max_addrs", 1000000, &f->max_addrs);
	if (v[5])
		uint_val(L, v[5], "max_stale", 2592000, &f->max_stale);
	if (v[6])
		f->description = dup_str(L, v[6], "description");
	if (v[7])
		load_sanctioned(L, v[7], &f->sanctioned, &f->sanctioned_loc);
	if (f->min_ttl > f->max_ttl)
		err(L, v[1] ? v[1] : key, "E002", NULL, "min_ttl %u is above "
		    "max_ttl %u", f->min_ttl, f->max_ttl);
}

static bool looks_like_service(const char *s)
{
	static const char *const protos[] = { "tcp", "udp", "sctp", "icmp",
					      "icmpv6", "any" };

	return strchr(s, '/') || lookup_word(protos, N_ELEMS(protos), s) >= 0;
}

static void load_service_def(struct loader *L, const struct ynode *key,
			     const struct ynode *val)
{
	struct model *m = L->m;
	struct service_def *sd = &m->services[m->n_services];

	sd->name = strdup(key->val);
	if (!sd->name)
		return;
	sd->loc = at(L, key);
	if (add_name(L, key, NK_SERVICE, (int)m->n_services, sd->name)) {
		free(sd->name);
		sd->name = NULL;
		return;
	}
	m->n_services++;
	if (!want_list(L, val, "a service"))
		return;
	sd->items = calloc(list_len(val) ? list_len(val) : 1,
			   sizeof(*sd->items));
	for (size_t i = 0; sd->items && i < list_len(val); i++) {
		const struct ynode *e = list_at(val, i);
		const char *s = str(L, e, "a service");
		struct svc_item *it = &sd->items[sd->n_items];

		if (!s)
			continue;
		if (service_parse(s, &it->sv)) {
			err(L, e, "E008", NULL, "malformed service \"%s\"%s",
			    q(L, s), looks_like_service(s) ? "" :
			    " (a named service lists only protocol/port items)");
			continue;
		}
		it->loc = at(L, e);
		sd->n_items++;
	}
	if (list_len(val) == 0)
		err(L, val, "E002", NULL, "service \"%s\" is empty", sd->name);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static char *read_file(const char *path, size_t max, size_t *len, int *e);
static char *intern_file(struct loader *L, const char *path);
static void sha256(const char *buf, size_t len, uint8_t out[32]);

/* read_file()'s reasons; EINVAL is its "not a regular file". */
static const char *read_error(int e)
{
	return e == EINVAL ? "not a regular file" : strerror(e);
}

/* A list of dates (or a mapping holding one under `dates`/`holidays`). */
static void holiday_dates(struct loader *L, const struct ynode *v,
			  struct schedule *s)
{
	const struct ynode *list = v;

	if (v->type == Y_MAP) {
		static const struct keyspec keys[] = {
			{ "dates", false }, { "holidays", false },
		};
		const struct ynode *kv[2];

		map_keys(L, v, "a holiday list", keys, 2, kv);
		list = kv[0] ? kv[0] : kv[1];
		if (!list)
			return;
	}
	if (!want_list(L, list, "holidays"))
		return;
	{
		size_t n = s->n_holidays + list_len(list);
		int32_t *h = realloc(s->holidays, (n ? n : 1) * sizeof(*h));

		if (!h)
			return;
		s->holidays = h;
	}
	for (size_t i = 0; i < list_len(list); i++) {
		const struct ynode *e = list_at(list, i);
		const char *t = str(L, e, "a holiday");
		int32_t day;

		if (!t)
			continue;
		if (date_parse(t, &day)) {
			err(L, e, "E008", NULL, "malformed date \"%s\" "
			    "(YYYY-MM-DD)", q(L, t));
			continue;
		}
		s->holidays[s->n_holidays++] = day;
	}
}

/* The bytes of a holiday file: from the options' copies when sealed, the
 * kept bytes of an earlier read of the same ref, or the file system.
 * Records what was read in m->holiday_files. NULL with *e set. */
static char *holiday_bytes(struct loader *L, const char *ref,
			   const char *path, size_t *len, int *e)
{
	const struct model_opts *o = L->o;
	struct model *m = L->m;
	struct model_file *f = NULL, *v;
	char *buf = NULL;

	for (size_t i = 0; i < m->n_holiday_files && !f; i++)
		if (!strcmp(m->holiday_files[i].ref, ref))
			f = &m->holiday_files[i];
	if (o->sealed) {
		const struct model_file *c = NULL;

		for (size_t i = 0; i < o->n_files && !c; i++)
			if (!strcmp(o->files[i].ref, ref))
				c = &o->files[i];
		if (!c) {
			*e = ENOENT;
			return NULL;
		}
		buf = malloc(c->len + 1);
		if (!buf) {
			*e = ENOMEM;
			return NULL;
		}
		memcpy(buf, c->data, c->len);
		buf[c->len] = '\0';
		*len = c->len;
	} else if (f && f->data) {
		buf = malloc(f->len + 1);
		if (!buf) {
			*e = ENOMEM;
			return NULL;
		}
		memcpy(buf, f->data, f->len);
		buf[f->len] = '\0';
		*len = f->len;
		return buf;
	} else {
		buf = read_file(path, MODEL_MAX_FILE_BYTES, len, e);
		if (!buf)
			return NULL;
	}
	if (f)
		return buf;
	v = realloc(m->holiday_files, (m->n_holiday_files + 1) * sizeof(*v));
	if (!v)
		goto nomem;
	m->holiday_files = v;
	f = memset(&v[m->n_holiday_files], 0, sizeof(*f));
	f->ref = strdup(ref);
	f->path = strdup(path);
	f->len = *len;
	if (o->keep && (f->data = malloc(*len ? *len : 1)))
		memcpy(f->data, buf, *len);
	if (!f->ref || !f->path || (o->keep && !f->data)) {
		free(f->ref);
		free(f->path);
		free(f->data);
		goto nomem;
	}
	sha256(buf, *len, f->sha256);
	m->n_holiday_files++;
	return buf;
nomem:
	free(buf);
	*e = ENOMEM;
	return NULL;
}

/*
 * Whether path resolves to a place below dir. A zone file may name any
 * holiday file, but whoever runs `sanso check` on a proposed zone file
 * (as root in CI, say) must not have other files quoted back at them:
 * "/etc/shadow", or a symbolic link to it in the proposed change.
 */
static bool path_below(const char *path, const char *dir)
{
	char *p = realpath(path, NULL), *d = realpath(dir, NULL);
	size_t n = d ? strlen(d) : 0;
	bool in = p && d && !strncmp(p, d, n) &&
		  (p[n] == '/' || (n == 1 && d[0] == '/'));

	free(p);
	free(d);
	return in;
}

static void holiday_file(struct loader *L, const struct ynode *v,
			 struct schedule *s)
{
	const char *rel = v->val;
	const char *saved = L->file;
	char *path = NULL, *buf = NULL, *name;
	struct ytree_error ye;
	struct ytree *t = NULL;
	size_t len;
	int e = 0;

	if (++L->holiday_files > 64) {
		err(L, v, "E002", NULL, "too many holiday files");
		return;
	}
	if (rel[0] == '/' || !L->dir)
		path = strdup(rel);
	else if (asprintf(&path, "%s/%s", L->dir, rel) < 0)
		path = NULL;
	if (!path)
		return;
	buf = holiday_bytes(L, rel, path, &len, &e);
	if (!buf) {
		if (L->o->sealed && e == ENOENT)
			err(L, v, "E002", NULL, "holiday file \"%s\" is not "
			    "among the deployment's copies", q(L, rel));
		else
			err(L, v, "E002", NULL, "cannot read holiday file "
			    "\"%s\": %s", q(L, path), read_error(e));
		goto out;
	}
	name = intern_file(L, path);
	if (!name)
		goto out;
	t = ytree_parse(buf, len, MODEL_MAX_NODES, &ye);
	if (!t)
		goto out;
	L->file = name;
	L->redact = !L->o->sealed && !path_below(path, L->dir ? L->dir : ".");
	if (!t->root && (ye.line || ye.msg[0])) {
		struct loc l = { name, ye.line, ye.col };

		diag_add(L->d, &l, DIAG_ERROR, ye.syntax ? "E001" : "E002",
			 NULL, MSG_AS_IS, ye.msg);
	} else if (t->root) {
		holiday_dates(L, t->root, s);
	}
	L->redact = false;
	L->file = saved;
out:
	ytree_free(t);
	free(buf);
	free(path);
}

static void load_schedule(struct loader *L, const struct ynode *key,
			  const struct ynode *val)
{
	static const struct keyspec keys[] = {
		{ "days", false }, { "hours", false }, { "holidays", false },
		{ "windows", false }, { "description", false },
	};
	static const char *const wdays[] = { "mon", "tue", "wed", "thu", "fri",
					     "sat", "sun" };
	const struct ynode *v[N_ELEMS(keys)];
	struct model *m = L->m;
	struct schedule *s = &m->schedules[m->n_schedules];
	const char *tz = m->timezone && !tz_check(m->timezone) ?
			 m->timezone : "UTC";

	map_keys(L, val, "a schedule", keys, N_ELEMS(keys), v);
	s->name = strdup(key->val);
	if (!s->name)
		return;
	s->loc = at(L, key);
	if (add_name(L, key, NK_SCHEDULE, (int)m->n_schedules, s->name)) {
		free(s->name);
		s->name = NULL;
		return;
	}
	m->n_schedules++;
	if (val->type == Y_MAP && !v[0] && !v[1] && !v[3])
		err(L, val, "E002", NULL, "schedule \"%s\" needs days, hours "
		    "or windows", s->name);
	if (v[0] && want_list(L, v[0], "days")) {
		for (size_t i = 0; i < list_len(v[0]); i++) {
			const struct ynode *e = list_at(v[0], i);
			const char *t = str(L, e, "a day");
			int w;

			if (!t)
				continue;
			w = lookup_word(wdays, N_ELEMS(wdays), t);
			if (w < 0)
				err(L, e, "E008", NULL, "malformed day \"%s\" "
				    "(mon, tue, wed, thu, fri, sat, sun)",
				    q(L, t));
			else
				s->days |= (uint8_t)(1u << w);
		}
	} else if (v[1]) {
		s->days = 0x7f;
	}
	if (v[1] && want_list(L, v[1], "hours")) {
		s->hours = calloc(list_len(v[1]) ? list_len(v[1]) : 1,
				  sizeof(*s->hours));
		for (size_t i = 0; s->hours && i < list_len(v[1]); i++) {
			const struct ynode *e = list_at(v[1], i);
			const char *t = str(L, e, "hours");
			struct hours_range *h = &s->hours[s->n_hours];

			if (!t)
				continue;
			if (hours_parse(t, &h->start, &h->end)) {
				err(L, e, "E008", NULL, "malformed hours \"%s\" "
				    "(HH:MM-HH:MM)", q(L, t));
				continue;
			}
			h->loc = at(L, e);
			s->n_hours++;
		}
	} else if (v[0] && s->days) {
		/* Days without hours: those days, all day. */
		s->hours = calloc(1, sizeof(*s->hours));
		if (s->hours) {
			s->hours[0] = (struct hours_range){ 0, 1440,
							    at(L, v[0]) };
			s->n_hours = 1;
		}
	}
	if (v[2]) {
		if (v[2]->type == Y_SCALAR)
			holiday_file(L, v[2], s);
		else
			holiday_dates(L, v[2], s);
		if (s->n_holidays) {
			size_t j = 0;

			qsort(s->holidays, s->n_holidays, sizeof(int32_t),
			      cmp_i32);
			for (size_t i = 0; i < s->n_holidays; i++)
				if (!j || s->holidays[j - 1] != s->holidays[i])
					s->holidays[j++] = s->holidays[i];
			s->n_holidays = j;
		}
	}
	if (v[3] && want_list(L, v[3], "windows")) {
		s->windows = calloc(list_len(v[3]) ? list_len(v[3]) : 1,
				    sizeof(*s->windows));
		for (size_t i = 0; s->windows && i < list_len(v[3]); i++) {
			static const struct keyspec wk[] = {
				{ "from", true }, { "to", true },
			};
			const struct ynode *e = list_at(v[3], i), *w[2];
			struct window *win = &s->windows[s->n_windows];
			bool ok = true;
			time_t t[2] = { 0, 0 };

			if (!map_keys(L, e, "a window", wk, 2, w) || !w[0] ||
			    !w[1])
				continue;
			for (int k = 0; k < 2; k++) {
				const char *txt = str(L, w[k], "a window time");
				int32_t day;
				int secs;

				if (!txt) {
					ok = false;
				} else if (datetime_parse(txt, &day, &secs) ||
					   tz_local_to_utc(tz, day, secs,
							   &t[k])) {
					err(L, w[k], "E008", NULL, "malformed time "
					    "\"%s\" (YYYY-MM-DDTHH:MM)",
					    q(L, txt));
					ok = false;
				}
			}
			if (!ok)
				continue;
			if (t[1] <= t[0]) {
				err(L, w[1], "E008", NULL, "window ends at or "
				    "before it starts");
				continue;
			}
			win->from = t[0];
			win->to = t[1];
			win->loc = at(L, e);
			s->n_windows++;
		}
	}
}

/* ---- endpoints, services, flows ---- */

static bool parse_endpoint(struct loader *L, const struct ynode *n,
			   const char *flow, struct endpoint *ep)
{
	const char *s = str(L, n, "an endpoint");
	const char *slash;

	if (!s)
		return false;
	memset(ep, 0, sizeof(*ep));
	ep->ref = -1;
	ep->zone = -1;
	ep->loc = at(L, n);
	ep->text = strdup(s);
	if (!ep->text)
		return false;
	if (!strncmp(s, "fqdn:", 5)) {
		ep->kind = EP_FQDN;
		ep->ref = resolve(L, n, NK_FQDN, s + 5, flow);
		return true;
	}
	slash = strchr(s, '/');
	if (slash) {
		char zname[64];
		size_t zl = (size_t)(slash - s);
		int rc;

		ep->kind = EP_CIDR;
		if (zl == 0 || zl >= sizeof(zname)) {
			err(L, n, "E008", flow, "malformed endpoint \"%s\" "
			    "(ZONE/CIDR)", q(L, s));
			return true;
		}
		memcpy(zname, s, zl);
		zname[zl] = '\0';
		ep->ref = resolve(L, n, NK_ZONE, zname, flow);
		ep->zone = ep->ref;
		rc = prefix_parse(slash + 1, &ep->cidr);
		if (rc)
			bad_prefix(L, n, flow, "prefix", " in endpoint",
				   slash + 1, rc, &ep->cidr);
		return true;
	}
	{
		const struct name *nm = find_name(L, s, -1);

		if (nm && nm->kind == NK_ZONE) {
			ep->kind = EP_ZONE;
			ep->ref = nm->index;
			ep->zone = nm->index;
		} else if (nm && nm->kind == NK_HOST) {
			ep->kind = EP_HOST;
			ep->ref = nm->index;
			ep->zone = L->m->hosts[nm->index].zone;
		} else if (nm) {
			err(L, n, "E004", flow, "\"%s\" is a %s, not a zone, "
			    "host, fqdn:SET or ZONE/CIDR", q(L, s),
			    nkind_names[nm->kind]);
		} else {
const char *near = nearest(L, s, 1u << NK_ZONE |
						   1u << NK_HOST);

			if (near)
				err(L, n, "E004", flow, "unknown zone or host "
				    "\"%s\"; did you mean \"%s\"?", q(L, s),
				    near);
			else
				err(L, n, "E004", flow, "unknown zone or host "
				    "\"%s\"", q(L, s));
		}
	}
	return true;
}

/* An FQDN set is only ever a destination: its addresses are learned from
 * answers to the relays' own queries. */
static void load_endpoints(struct loader *L, const struct ynode *v,
			   const char *flow, const char *what, bool fqdn_ok,
			   struct endpoint **out, size_t *n)
{
	if (!want_list(L, v, what))
		return;
	*out = calloc(list_len(v) ? list_len(v) : 1, sizeof(**out));
	if (!*out)
		return;
	for (size_t i = 0; i < list_len(v); i++) {
		struct endpoint *ep = &(*out)[*n];

		if (!parse_endpoint(L, list_at(v, i), flow, ep))
			continue;
		(*n)++;
		if (ep->kind == EP_FQDN && !fqdn_ok)
			err(L, list_at(v, i), "E002", flow, "%s takes zones, "
			    "hosts or ZONE/CIDR, not \"%s\" (an FQDN set is "
			    "only a destination)", what, q(L, ep->text));
	}
	if (list_len(v) == 0)
		err(L, v, "E002", flow, "%s is empty", what);
}

static void load_flow_services(struct loader *L, const struct ynode *v,
			       struct flow *f)
{
	size_t cap = 0;

	if (!want_list(L, v, "services"))
		return;
	f->services_loc = at(L, v);
	for (size_t i = 0; i < list_len(v); i++) {
		const struct ynode *e = list_at(v, i);
		const char *s = str(L, e, "a service");
		const struct name *nm;
		struct service sv;
		const struct svc_item *items = NULL;
		struct svc_item one;
		size_t n_items = 0;

		if (!s)
			continue;
		if (!service_parse(s, &sv)) {
			one = (struct svc_item){ sv, at(L, e) };
			items = &one;
			n_items = 1;
		} else if (!looks_like_service(s) && name_valid(s)) {
			nm = find_name(L, s, NK_SERVICE);
			if (nm && nm->kind == NK_SERVICE) {
				items = L->m->services[nm->index].items;
				n_items = L->m->services[nm->index].n_items;
			} else {
				resolve(L, e, NK_SERVICE, s, f->name);
			}
		} else {
			err(L, e, "E008", f->name, "malformed service \"%s\"",
			    q(L, s));
		}
		if (f->n_services + n_items > cap) {
			size_t c = (f->n_services + n_items) * 2;
			struct svc_item *p = realloc(f->services,
						     c * sizeof(*p));

			if (!p)
				return;
			f->services = p;
			cap = c;
		}
		for (size_t k = 0; k < n_items; k++)
			f->services[f->n_services++] = items[k];
	}
	if (list_len(v) == 0)
		err(L, v, "E002", f->name, "services is empty");
}

static const char *const waivable[] = { "T1", "T2", "T3", "T4", "T5", "T6",
					"T7", "T8", "T9", "T10" };

static void load_waiver(struct loader *L, const struct ynode *key,
			const struct ynode *val, struct flow *f)
{
	static const struct keyspec keys[] = {
		{ "rule", false }, { "reason", false }, { "ticket", false },
		{ "approved_by", false }, { "expires", false },
	};
	const struct ynode *v[N_ELEMS(keys)];
	struct waiver *w = &f->waiver;

	w->present = true;
	w->expires = -1;
	w->loc = at(L, key);
	if (!map_keys(L, val, "a waiver", keys, N_ELEMS(keys), v) &&
	    val->type != Y_MAP)
		return;
	if (v[0] && str(L, v[0], "rule")) {
		w->rule_loc = at(L, v[0]);
		if (lookup_word(waivable, N_ELEMS(waivable), v[0]->val) < 0)
			err(L, v[0], "E002", f->name, "waiver rule \"%s\" is not "
			    "an invariant code (T1-T10)", q(L, v[0]->val));
		else
			snprintf(w->rule, sizeof(w->rule), "%s", v[0]->val);
	}
	if (v[1])
		w->reason = dup_str(L, v[1], "reason");
	if (v[2])
		w->ticket = dup_str(L, v[2], "ticket");
	if (v[3])
		w->approved_by = dup_str(L, v[3], "approved_by");
	if (v[4] && str(L, v[4], "expires")) {
		w->expires_loc = at(L, v[4]);
		if (date_parse(v[4]->val, &w->expires)) {
			w->expires = -1;
			err(L, v[4], "E008", f->name, "malformed date \"%s\" "
			    "(YYYY-MM-DD)", q(L, v[4]->val));
		}
	}
}

static const char *fname_key(const void *arr, size_t i)
{
	return ((const struct ynode *const *)arr)[i]->val;
}

static void load_flow(struct loader *L, const struct ynode *val, size_t idx)
{
	static const struct keyspec keys[] = {
		{ "name", true }, { "description", false }, { "from", true },
		{ "to", true }, { "services", true }, { "schedule", false },
		{ "alert_outside", false }, { "log", false },
		{ "waiver", false },
	};
	const struct ynode *v[N_ELEMS(keys)];
	struct model *m = L->m;
	struct flow *f = &m->flows[m->n_flows];
	char anon[32];

	map_keys(L, val, "a flow", keys, N_ELEMS(keys), v);
	f->loc = at(L, val);
	f->schedule = -1;
	f->alert_outside = -1;
	if (v[0] && str(L, v[0], "name")) {
		f->loc = at(L, v[0]);
		if (!name_valid(v[0]->val)) {
			err(L, v[0], "E002", NULL, "flow name \"%s\" must match "
			    "[a-z][a-z0-9-]{0,30}", q(L, v[0]->val));
		} else {
			size_t i = index_find(&L->fix, v[0]->val, fname_key,
					      L->fnames, 0);

			if (i != SIZE_MAX) {
				err(L, v[0], "E003", v[0]->val, "duplicate flow "
				    "name \"%s\" (first at %s:%d:%d)",
				    v[0]->val, L->file, L->fnames[i]->line,
				    L->fnames[i]->col);
			} else if (!index_grow(&L->fix, L->n_fnames, fname_key,
					       L->fnames)) {
				L->fnames[L->n_fnames] = v[0];
				index_put(&L->fix, v[0]->val, L->n_fnames++);
			}
		}
		f->name = strdup(v[0]->val);
	} else {
		snprintf(anon, sizeof(anon), "#%zu", idx + 1);
		f->name = strdup(anon);
	}
	if (!f->name)
		return;
	m->n_flows++;
	if (val->type != Y_MAP)
		return;
	if (v[1])
		f->description = dup_str(L, v[1], "description");
	if (v[2])
		load_endpoints(L, v[2], f->name, "from", false, &f->from,
			       &f->n_from);
	if (v[3])
		load_endpoints(L, v[3], f->name, "to", true, &f->to,
			       &f->n_to);
	if (v[4])
		load_flow_services(L, v[4], f);
	if (v[5] && str(L, v[5], "schedule")) {
		f->schedule_loc = at(L, v[5]);
		f->schedule = resolve(L, v[5], NK_SCHEDULE, v[5]->val,
				      f->name);
	}
	if (v[6] && str(L, v[6], "alert_outside")) {
		f->alert_outside_loc = at(L, v[6]);
		f->alert_outside = resolve(L, v[6], NK_SCHEDULE, v[6]->val,
					   f->name);
	}
	if (v[7])
		bool_val(L, v[7], "log", &f->log);
	if (v[8]) {
		/* The key node of `waiver` is the one before its value. */
		const struct ynode *k = v[8];

		for (size_t i = 1; i < val->n; i += 2)
			if (val->kids[i] == v[8])
				k = val->kids[i - 1];
		load_waiver(L, k, v[8], f);
	}
}

/* ---- gateway and monitor ---- */

static void load_hostports(struct loader *L, const struct ynode *v,
			   const char *what, struct hostport **out, size_t *n)
{
	if (!want_list(L, v, what))
		return;
	*out = calloc(list_len(v) ? list_len(v) : 1, sizeof(**out));
	for (size_t i = 0; *out && i < list_len(v); i++) {
		const struct ynode *e = list_at(v, i);
		const char *s = str(L, e, what);

		if (!s)
			continue;
		if (hostport_parse(s, 53, &(*out)[*n].addr, &(*out)[*n].port)) {
			err(L, e, "E008", NULL, "malformed address \"%s\" "
			    "(ADDRESS, ADDRESS:PORT or [IPV6]:PORT)", q(L, s));
			continue;
		}
		(*out)[(*n)++].loc = at(L, e);
	}
}

static void load_dns(struct loader *L, const struct ynode *val)
{
	static const struct keyspec keys[] = {
		{ "upstream", true }, { "listen", false },
	};
	const struct ynode *v[N_ELEMS(keys)];
	struct gateway *g = &L->m->gateway;

	g->dns_loc = at(L, val);
	map_keys(L, val, "gateway.dns", keys, N_ELEMS(keys), v);
	if (v[0])
		load_hostports(L, v[0], "upstream", &g->dns_upstream,
			       &g->n_dns_upstream);
	if (v[1])
		load_hostports(L, v[1], "listen", &g->dns_listen,
			       &g->n_dns_listen);
}

/* gateway.ha: exactly two host addresses of one family, and the sync
 * interface; check validates how they sit among the zones. */
static void load_ha(struct loader *L, const struct ynode *val)
{
	static const struct keyspec keys[] = {
		{ "nodes", true }, { "sync_interface", true },
	};
	const struct ynode *v[N_ELEMS(keys)];
	struct ha_conf *ha = &L->m->gateway.ha;
	const char *s;

	ha->present = true;
	ha->loc = at(L, val);
	map_keys(L, val, "gateway.ha", keys, N_ELEMS(keys), v);
	if (v[0] && want_list(L, v[0], "nodes")) {
		if (v[0]->type != Y_SEQ || v[0]->n != 2)
			err(L, v[0], "E002", NULL, "gateway.ha.nodes must list "
			    "exactly two addresses, the nodes' own on the "
			    "sync link");
		for (size_t i = 0; i < list_len(v[0]) && i < 2; i++) {
			const struct ynode *e = list_at(v[0], i);
			struct prefix p;

			if (!(s = str(L, e, "a node address")))
				continue;
			if (addr_parse(s, &p)) {
				err(L, e, "E008", NULL, "malformed address "
				    "\"%s\" in gateway.ha.nodes", q(L, s));
				continue;
			}
			ha->node_loc[ha->n_nodes] = at(L, e);
			ha->nodes[ha->n_nodes++] = p;
		}
	}
	if (v[1] && (s = str(L, v[1], "sync_interface"))) {
		if (!iface_name_ok(s))
			err(L, v[1], "E002", NULL, "bad interface name \"%s\"",
			    q(L, s));
		else
			ha->sync_iface = strdup(s);
		ha->sync_loc = at(L, v[1]);
	}
}

static void load_gateway(struct loader *L, const struct ynode *val)
{
	static const struct keyspec keys[] = {
		{ "ssh_from", false }, { "log_group", false }, { "dns", false },
		{ "ha", false },
	};
	const struct ynode *v[N_ELEMS(keys)];
	struct gateway *g = &L->m->gateway;

	map_keys(L, val, "gateway", keys, N_ELEMS(keys), v);
	if (v[0]) {
		g->ssh_loc = at(L, v[0]);
		load_endpoints(L, v[0], NULL, "ssh_from", false,
			       &g->ssh_from, &g->n_ssh_from);
	}
	if (v[1]) {
		uint32_t grp;

		if (uint_val(L, v[1], "log_group", 65535, &grp))
			g->log_group = (uint16_t)grp;
	}
	if (v[2])
		load_dns(L, v[2]);
	if (v[3])
		load_ha(L, v[3]);
}

static bool server_url_ok(const char *s)
{
	const char *host, *colon;
	char *end;
	long port;

	if (strncmp(s, "udp://", 6) && strncmp(s, "tcp://", 6))
		return false;
	host = s + 6;
	if (*host == '[') {
		const char *rb = strchr(host, ']');

		if (!rb || rb[1] != ':')
			return false;
		colon = rb + 1;
	} else {
		colon = strrchr(host, ':');
		if (!colon || colon == host)
			return false;
	}
	port = strtol(colon + 1, &end, 10);
	return *end == '\0' && port > 0 && port <= 65535 && colon[1] != '+';
}

static void load_sink(struct loader *L, const struct ynode *e,
		      struct sink *sk)
{
	static const char *const facilities[] = {
		"kern", "user", "mail", "daemon", "auth", "syslog", "lpr",
		"news", "uucp", "cron", "authpriv", "ftp", "local0", "local1",
		"local2", "local3", "local4", "local5", "local6", "local7",
	};
	const struct ynode *k, *v;

	sk->loc = at(L, e);
	if (e->type != Y_MAP || e->n != 2) {
		err(L, e, "E002", NULL, "an alert sink is a mapping with one "
		    "key: jsonl, syslog or exec");
		return;
	}
	k = e->kids[0];
	v = e->kids[1];
	if (k->type == Y_SCALAR && !strcmp(k->val, "jsonl")) {
		sk->kind = SINK_JSONL;
		sk->path = dup_str(L, v, "jsonl");
		if (sk->path && sk->path[0] != '/')
			err(L, v, "E002", NULL, "jsonl path \"%s\" must be "
			    "absolute", q(L, sk->path));
	} else if (k->type == Y_SCALAR && !strcmp(k->val, "syslog")) {
		static const struct keyspec keys[] = {
			{ "facility", false }, { "server", false },
		};
		const struct ynode *sv[2];

		sk->kind = SINK_SYSLOG;
		map_keys(L, v, "syslog", keys, 2, sv);
		if (sv[0] && str(L, sv[0], "facility")) {
			if (lookup_word(facilities, N_ELEMS(facilities),
					sv[0]->val) < 0)
				err(L, sv[0], "E002", NULL, "unknown syslog "
				    "facility \"%s\"", q(L, sv[0]->val));
			else
				sk->facility = strdup(sv[0]->val);
		}
		if (sv[1] && str(L, sv[1], "server")) {
			if (!server_url_ok(sv[1]->val))
				err(L, sv[1], "E008", NULL, "malformed server "
				    "\"%s\" (udp://HOST:PORT or "
				    "tcp://HOST:PORT)", q(L, sv[1]->val));
			else
				sk->server = strdup(sv[1]->val);
		}
	} else if (k->type == Y_SCALAR && !strcmp(k->val, "exec")) {
		sk->kind = SINK_EXEC;
		if (!want_list(L, v, "exec"))
			return;
		sk->argv = calloc(list_len(v) + 1, sizeof(*sk->argv));
		for (size_t i = 0; sk->argv && i < list_len(v); i++) {
			char *a = dup_str(L, list_at(v, i), "an exec argument");

			if (a)
				sk->argv[sk->argc++] = a;
		}
		if (!sk->argc || sk->argv[0][0] != '/')
			err(L, v, "E002", NULL, "exec needs an absolute program "
			    "path first");
	} else {
		err(L, k, "E002", NULL, "unknown alert sink \"%s\" (jsonl, "
		    "syslog, exec)", q(L, k->type == Y_SCALAR ? k->val : "?"));
	}
}

static void load_monitor(struct loader *L, const struct ynode *val)
{
	static const struct keyspec keys[] = {
		{ "alerts", false }, { "dedup_seconds", false },
		{ "language", false },
	};
	static const char *const languages[] = { "en", "ja" };
	const struct ynode *v[N_ELEMS(keys)];
	struct monitor_conf *mc = &L->m->monitor;

	map_keys(L, val, "monitor", keys, N_ELEMS(keys), v);
	if (v[0] && want(L, v[0], Y_SEQ, "alerts")) {
		mc->sinks = calloc(v[0]->n ? v[0]->n : 1, sizeof(*mc->sinks));
		for (size_t i = 0; mc->sinks && i < v[0]->n; i++)
			load_sink(L, v[0]->kids[i], &mc->sinks[mc->n_sinks++]);
	}
	if (v[1])
		uint_val(L, v[1], "dedup_seconds", 86400, &mc->dedup_seconds);
	if (v[2] && str(L, v[2], "language")) {
		int lang = lookup_word(languages, N_ELEMS(languages),
				       v[2]->val);

		if (lang < 0)
			err(L, v[2], "E002", NULL, "unknown monitor.language "
			    "\"%s\" (en, ja)", q(L, v[2]->val));
		else
			mc->language = lang == 1 ? LANG_JA : LANG_EN;
	}
}

/* ---- the document ---- */

typedef void (*entry_fn)(struct loader *L, const struct ynode *key,
			 const struct ynode *val);

/* Loads a named collection (a mapping of name -> definition). */
static void load_named(struct loader *L, const struct ynode *map,
		       const char *what, void **array, size_t elem,
		       entry_fn fn)
{
	if (!want(L, map, Y_MAP, what))
		return;
	*array = calloc(map->n / 2 + 1, elem);
	if (!*array)
		return;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (valid_name(L, map->kids[i], what))
			fn(L, map->kids[i], map->kids[i + 1]);
}

static void load_root(struct loader *L, const struct ynode *root)
{
	enum { K_VERSION, K_SITE, K_MODEL, K_TZ, K_SCHEDULES, K_ZONES,
	       K_HOSTS, K_FQDN, K_SERVICES, K_FLOWS, K_GATEWAY, K_MONITOR,
	       K_N };
	static const struct keyspec keys[K_N] = {
		{ "version", true }, { "site", true }, { "model", false },
		{ "timezone", false }, { "schedules", false },
		{ "zones", true }, { "hosts", false }, { "fqdn_sets", false },
		{ "services", false }, { "flows", false },
		{ "gateway", false }, { "monitor", false },
	};
	const struct ynode *v[K_N];
	struct model *m = L->m;

	map_keys(L, root, "the zone file", keys, K_N, v);
	if (root->type != Y_MAP)
		return;
	if (v[K_VERSION]) {
		uint32_t ver = 0;

		if (uint_val(L, v[K_VERSION], "version", 1000, &ver) &&
		    ver != 1)
			err(L, v[K_VERSION], "E002", NULL, "unsupported version "
			    "%u (this sanso reads version 1)", ver);
		m->version = (int)ver;
	}
	if (v[K_SITE]) {
		m->site = dup_str(L, v[K_SITE], "site");
		m->site_loc = at(L, v[K_SITE]);
		if (m->site && !name_valid(m->site))
			err(L, v[K_SITE], "E002", NULL, "site \"%s\" must "
			    "match [a-z][a-z0-9-]{0,30}", q(L, m->site));
	}
	if (v[K_MODEL] && str(L, v[K_MODEL], "model")) {
		int mv = lookup_word(variant_names, N_ELEMS(variant_names),
				     v[K_MODEL]->val);

		m->variant_loc = at(L, v[K_MODEL]);
		if (mv < 0)
			err(L, v[K_MODEL], "E002", NULL, "unknown model \"%s\" "
			    "(alpha, alpha-prime, beta, beta-prime)",
			    q(L, v[K_MODEL]->val));
		else
			m->variant = (enum model_variant)mv;
	}
	if (v[K_TZ] && str(L, v[K_TZ], "timezone")) {
		m->timezone_loc = at(L, v[K_TZ]);
		if (tz_check(v[K_TZ]->val))
			err(L, v[K_TZ], "E008", NULL, "unknown timezone \"%s\" "
			    "(an IANA name such as Asia/Tokyo)",
			    q(L, v[K_TZ]->val));
		else
			m->timezone = strdup(v[K_TZ]->val);
	}
	if (!m->timezone)
		m->timezone = strdup("Asia/Tokyo");

	/* Definitions first, so that references resolve whatever the order
	 * of the sections in the file. */
	if (v[K_ZONES])
		load_named(L, v[K_ZONES], "zones", (void **)&m->zones,
			   sizeof(*m->zones), load_zone);
	if (v[K_HOSTS])
		load_named(L, v[K_HOSTS], "hosts", (void **)&m->hosts,
			   sizeof(*m->hosts), load_host);
	if (v[K_FQDN])
		load_named(L, v[K_FQDN], "fqdn_sets", (void **)&m->fqdn_sets,
			   sizeof(*m->fqdn_sets), load_fqdn_set);
	if (v[K_SERVICES])
		load_named(L, v[K_SERVICES], "services", (void **)&m->services,
			   sizeof(*m->services), load_service_def);
	if (v[K_SCHEDULES])
		load_named(L, v[K_SCHEDULES], "schedules",
			   (void **)&m->schedules, sizeof(*m->schedules),
			   load_schedule);
	if (v[K_FLOWS] && want(L, v[K_FLOWS], Y_SEQ, "flows")) {
		L->fnames = calloc(v[K_FLOWS]->n + 1, sizeof(*L->fnames));
		m->flows = calloc(v[K_FLOWS]->n + 1, sizeof(*m->flows));
		for (size_t i = 0; L->fnames && m->flows &&
		     i < v[K_FLOWS]->n; i++)
			load_flow(L, v[K_FLOWS]->kids[i], i);
	}
	if (v[K_GATEWAY])
		load_gateway(L, v[K_GATEWAY]);
	if (v[K_MONITOR])
		load_monitor(L, v[K_MONITOR]);
}

/* ---- files ---- */

/* O_NONBLOCK until fstat() has shown a regular file: a FIFO named as a
 * holiday file must not stall check, apply or a monitor's reload. */
static char *read_file(const char *path, size_t max, size_t *len, int *e)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		*e = errno;
		return NULL;
	}
	if (fstat(fd, &st)) {
		*e = errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		*e = EFBIG;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0)) {
		*e = errno;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		*e = ENOMEM;
		goto fail;
	}
	while (n <= (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*e = errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > (size_t)st.st_size) {
		*e = EFBIG;	/* grew while we read it */
		goto fail;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

char *model_read_file(const char *path, size_t max, size_t *len)
{
	int e = 0;
	char *buf = read_file(path, max, len, &e);

	if (!buf)
		errno = e;
	return buf;
}

static char *intern_file(struct loader *L, const char *path)
{
	struct model *m = L->m;
	char **v = realloc(m->files, (m->n_files + 1) * sizeof(*v));

	if (!v)
		return NULL;
	m->files = v;
	v[m->n_files] = strdup(path);
	return v[m->n_files] ? v[m->n_files++] : NULL;
}

static void sha256(const char *buf, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL))
		memset(out, 0, 32);
}

struct model *model_load_buf(const char *name, const char *dir,
			     const char *buf, size_t len, struct diags *d)
{
	struct model_opts o = { .dir = dir };

	return model_load_opts(name, buf, len, &o, d);
}

struct model *model_load_opts(const char *name, const char *buf, size_t len,
			      const struct model_opts *o, struct diags *d)
{
	static const struct model_opts none;
	struct loader L = { .d = d, .o = o ? o : &none };
	struct ytree_error ye;
	struct ytree *t = NULL;
	struct model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	L.m = m;
	L.dir = L.o->dir;
	m->gateway.log_group = 100;
	m->monitor.dedup_seconds = 60;
	m->variant = MODEL_ALPHA;
	m->path = strdup(name);
	L.file = m->path ? intern_file(&L, name) : NULL;
	if (!L.file)
		goto nomem;
	sha256(buf, len, m->sha256);
	if (len > MODEL_MAX_FILE_BYTES) {
		diag_add(d, &(struct loc){ .file = L.file }, DIAG_ERROR, "E002",
			 NULL, "file is larger than %u bytes",
			 MODEL_MAX_FILE_BYTES);
		goto out;
	}
	t = ytree_parse(buf, len, MODEL_MAX_NODES, &ye);
	if (!t)
		goto nomem;
	if (!t->root) {
		struct loc l = { L.file, ye.line, ye.col };

		if (ye.msg[0]) {
			diag_add(d, &l, DIAG_ERROR, ye.syntax ? "E001" : "E002",
				 NULL, MSG_AS_IS, ye.msg);
		} else {
			l.line = l.col = 1;
			diag_add(d, &l, DIAG_ERROR, "E002", NULL,
				 "empty zone file");
		}
		goto out;
	}
	load_root(&L, t->root);
out:
	ytree_free(t);
	free(L.names);
	free(L.nix.slot);
	free(L.fnames);
	free(L.fix.slot);
	return m;
nomem:
	ytree_free(t);
	free(L.names);
	free(L.nix.slot);
	free(L.fnames);
	free(L.fix.slot);
	model_free(m);
	errno = ENOMEM;
	return NULL;
}

struct model *model_load(const char *path, struct diags *d)
{
	char *buf, *dcopy = NULL;
	struct model *m = NULL;
	size_t len = 0;
	int e = 0;

	buf = read_file(path, MODEL_MAX_FILE_BYTES, &len, &e);
	if (!buf) {
		if (e == EFBIG)
			diag_add(d, &(struct loc){ .file = path }, DIAG_ERROR,
				 "E002", NULL, "file is larger than %u bytes",
				 MODEL_MAX_FILE_BYTES);
		else
			diag_add(d, &(struct loc){ .file = path }, DIAG_ERROR,
				 "E002", NULL, "cannot read: %s",
				 read_error(e));
		errno = e;
		return NULL;
	}
	dcopy = strdup(path);
	if (dcopy)
		m = model_load_buf(path, dirname(dcopy), buf, len, d);
	free(dcopy);
	free(buf);
	return m;
}

/* ---- freeing and lookups ---- */

static void free_endpoints(struct endpoint *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

void model_free(struct model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_zones; i++) {
		struct zone *z = &m->zones[i];

		free(z->name);
		free(z->description);
		for (size_t j = 0; j < z->n_ifaces; j++)
			free(z->ifaces[j].name);
		free(z->ifaces);
		free(z->nets);
	}
	free(m->zones);
	for (size_t i = 0; i < m->n_hosts; i++) {
		free(m->hosts[i].name);
		free(m->hosts[i].description);
	}
	free(m->hosts);
	for (size_t i = 0; i < m->n_fqdn_sets; i++) {
		struct fqdn_set *f = &m->fqdn_sets[i];

		free(f->name);
		free(f->description);
		for (size_t j = 0; j < f->n_names; j++)
			free(f->names[j].pattern);
		free(f->names);
	}
	free(m->fqdn_sets);
	for (size_t i = 0; i < m->n_services; i++) {
		free(m->services[i].name);
		free(m->services[i].items);
	}
	free(m->services);
	for (size_t i = 0; i < m->n_schedules; i++) {
		struct schedule *s = &m->schedules[i];

		free(s->name);
		free(s->hours);
		free(s->holidays);
		free(s->windows);
	}
	free(m->schedules);
	for (size_t i = 0; i < m->n_flows; i++) {
		struct flow *f = &m->flows[i];

		free(f->name);
		free(f->description);
		free_endpoints(f->from, f->n_from);
		free_endpoints(f->to, f->n_to);
		free(f->services);
		free(f->waiver.reason);
		free(f->waiver.ticket);
		free(f->waiver.approved_by);
	}
	free(m->flows);
	free_endpoints(m->gateway.ssh_from, m->gateway.n_ssh_from);
	free(m->gateway.dns_upstream);
	free(m->gateway.dns_listen);
	free(m->gateway.ha.sync_iface);
	for (size_t i = 0; i < m->monitor.n_sinks; i++) {
		struct sink *s = &m->monitor.sinks[i];

		free(s->path);
		free(s->facility);
		free(s->server);
		for (size_t j = 0; j < s->argc; j++)
			free(s->argv[j]);
		free(s->argv);
	}
	free(m->monitor.sinks);
	for (size_t i = 0; i < m->n_files; i++)
		free(m->files[i]);
	free(m->files);
	for (size_t i = 0; i < m->n_holiday_files; i++) {
		free(m->holiday_files[i].ref);
		free(m->holiday_files[i].path);
		free(m->holiday_files[i].data);
	}
	free(m->holiday_files);
	free(m->site);
	free(m->timezone);
	free(m->path);
	free(m);
}

int model_zone(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n_zones; i++)
		if (!strcmp(m->zones[i].name, name))
			return (int)i;
	return -1;
}

int model_host(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n_hosts; i++)
		if (!strcmp(m->hosts[i].name, name))
			return (int)i;
	return -1;
}

int model_fqdn_set(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n_fqdn_sets; i++)
		if (!strcmp(m->fqdn_sets[i].name, name))
			return (int)i;
	return -1;
}

int model_schedule(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n_schedules; i++)
		if (!strcmp(m->schedules[i].name, name))
			return (int)i;
	return -1;
}
