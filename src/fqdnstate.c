// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The learned FQDN set elements: names, addresses, expiries; the kernel
 * sets armed from them; the state file that carries them over a restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <linux/netfilter.h>
#include <libnftnl/set.h>

#include "fqdnstate.h"
#include "kernel.h"
#include "policy.h"
#include "i18n.h"

#define DEFAULT_MAX_NAMES	65536
#define STATE_FILE		"fqdn.state"
#define LOCK_FILE		"fqdn.lock"
#define STATE_MAGIC		"# sanso fqdn state 1"
/* The kernel may report a little less time left than we asked for. */
#define RECONCILE_SLACK_MS	2000
/* A name with no fallback raises fqdn_stale at most this often per set. */
#define NOFALLBACK_ALERT_MS	60000

/* ---- hash tables ---- */

struct hnode {
	struct hnode *next;
	uint64_t h;
};

struct htab {
	struct hnode **b;
	size_t nb, n;
};

static int htab_grow(struct htab *t)
{
	size_t nb = t->nb ? t->nb * 2 : 64;
	struct hnode **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < t->nb; i++) {
		struct hnode *e = t->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->h & (nb - 1)];
			b[e->h & (nb - 1)] = e;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

static int htab_add(struct htab *t, struct hnode *e)
{
	if (t->n >= t->nb && htab_grow(t))
		return -ENOMEM;
	e->next = t->b[e->h & (t->nb - 1)];
	t->b[e->h & (t->nb - 1)] = e;
	t->n++;
	return 0;
}

static void htab_del(struct htab *t, struct hnode *e)
{
	struct hnode **pp = &t->b[e->h & (t->nb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			t->n--;
			return;
		}
}

/* ---- SipHash-2-4 ---- */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND							\
	do {								\
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0;			\
		v0 = ROTL(v0, 32);					\
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;			\
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;			\
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2;			\
		v2 = ROTL(v2, 32);					\
	} while (0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t fqdn_hash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (int k = 0; i < len; i++, k++)
		b |= (uint64_t)in[i] << (8 * k);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the state ---- */

struct laddr {
	uint8_t family;
	bool last;			/* in the last good answer */
	uint8_t addr[16];
	int64_t expires;
};

/* One (set, queried name). */
struct lname {
	struct hnode hn;
	unsigned int set;
	int64_t last_good[2];		/* per family; 0: never */
	uint32_t last_ttl[2];
	bool stale_alerted, cap_alerted;
	struct laddr *a;
	uint32_t n, cap;
	char name[];
};

/* One (set, address): the expiry its kernel element must have. */
struct kel {
	struct hnode hn;
	unsigned int set;
	uint8_t family;
	uint8_t addr[16];
	int64_t expires;
	uint64_t seen;			/* reconcile round it was listed in */
	uint64_t left;			/* what the kernel said was left */
};

struct setconf {
	struct fqdn_set p;		/* limits; p.name owned, p.names NULL */
	char **patterns;
	size_t n_patterns;
	char *kset[2];			/* fqdn-NAME-v4, -v6 */
	unsigned int fams;		/* POL_FAM_* some flow can use */
	int64_t nofallback_alert;
};

struct ownnet {
	struct prefix p;
	size_t zone;
};

struct zinfo {
	char *name;
	enum tier tier;
};

/* What the netlink kernel functions get as their argument. */
struct nlkernel {
	const char *table;
	struct ksock *ks;		/* kept open for the re-arms */
};

struct fqdn_state {
	char *table;
	struct fqdn_kernel k;
	bool netlink;
	struct nlkernel nlk;
	struct fqdn_hooks hooks;
	size_t max_names;
	struct setconf *sets;
	size_t n_sets;
	struct pol_index *ix;		/* the zone networks, as the policy
					 * classifies by them */
	struct ownnet *nets;		/* every zone network, for alerts */
	size_t n_nets;
	struct zinfo *zones;
	size_t n_zones;
	uint8_t key[16];
	struct htab names, kels;
	bool have_genid;
	uint32_t genid;
	uint64_t round;
	struct fqdn_stats st;
};

int64_t fqdn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const struct fqdn_state *st, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(const struct fqdn_state *st, int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!st->hooks.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	st->hooks.log(st->hooks.arg, prio, msg);
}

static int fam_index(uint8_t family)
{
	return family == AF_INET6;
}

static size_t fam_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

/* The zone of an address by longest prefix, or -1. */
static int zone_of(const struct fqdn_state *st, const struct prefix *a)
{
	int best = -1, blen = -1;

	for (size_t i = 0; i < st->n_nets; i++)
		if (st->nets[i].p.len > blen &&
		    prefix_contains(&st->nets[i].p, a)) {
			best = (int)st->nets[i].zone;
			blen = st->nets[i].p.len;
		}
	return best;
}

static void raise_alert(struct fqdn_state *st, enum alert_type type,
			const struct hostport *up, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void raise_alert(struct fqdn_state *st, enum alert_type type,
			const struct hostport *up, const char *fmt, ...)
{
	struct alert a;
	va_list ap;
	int z;

	memset(&a, 0, sizeof(a));
	a.type = type;
	clock_gettime(CLOCK_REALTIME, &a.time);
	a.src_tier = a.dst_tier = -1;
	a.count = 1;
	va_start(ap, fmt);
	vsnprintf(a.message, sizeof(a.message), alert_text(fmt), ap);
	va_end(ap);
	if (up && (z = zone_of(st, &up->addr)) >= 0) {
		snprintf(a.dst_zone, sizeof(a.dst_zone), "%s",
			 st->zones[z].name);
		a.dst_tier = (int)st->zones[z].tier;
	}
	say(st, LOG_WARNING, "alert %s: %s",
	    type == ALERT_FQDN_STALE ? "fqdn_stale" : "fqdn_cap", a.message);
	if (st->hooks.alert)
		st->hooks.alert(st->hooks.arg, &a);
}

/* ---- the kernel over netlink ---- */

/* Linux 6.12 made "add element" update an existing element's timeout. */
static bool kernel_updates_timeouts(void)
{
	static int known = -1;
	struct utsname u;
	unsigned int maj = 0, min = 0;

	if (known < 0)
		known = !uname(&u) &&
			sscanf(u.release, "%u.%u", &maj, &min) == 2 &&
			(maj > 6 || (maj == 6 && min >= 12));
	return known;
}

static struct nftnl_set *nl_set(const char *table, const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

static int nl_arm(void *arg, const struct fqdn_elem *v, size_t n, char *err,
		  size_t errlen)
{
	struct nlkernel *nk = arg;
	const char *table = nk->table;
	bool triple = !kernel_updates_timeouts();
	struct kbatch *b = kbatch_new();
	struct nftnl_set *s = NULL;
	bool *done = calloc(n ? n : 1, sizeof(*done));
	int ret = -ENOMEM;

	if (err && errlen)
		err[0] = '\0';
	if (!b || !done)
		goto out;
	/* One set object per kernel set, each with its elements. */
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		s = nl_set(table, v[i].set);
		if (!s)
			goto out;
		for (size_t j = i; j < n; j++) {
			struct nftnl_set_elem *e;
			uint64_t t = v[j].timeout_ms;

			if (done[j] || strcmp(v[j].set, v[i].set))
				continue;
			done[j] = true;
			e = nftnl_set_elem_alloc();
			if (!e)
				goto out;
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, v[j].addr,
					   (uint32_t)fam_len(v[j].family));
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, t);
			nftnl_set_elem_add(s, e);
		}
		ret = kbatch_add_elems(b, s);
		if (ret >= 0 && triple) {
			ret = kbatch_del_elems(b, s);
			if (ret >= 0)
				ret = kbatch_add_elems(b, s);
		}
		nftnl_set_free(s);
		s = NULL;
		if (ret < 0)
			goto out;
	}
	ret = kbatch_commit_on(b, nk->ks, err, errlen);
out:
	if (s)
		nftnl_set_free(s);
	free(done);
	kbatch_free(b);
	return ret;
}

struct nl_list_arg {
	fqdn_list_fn fn;
	void *arg;
};

static int nl_list_cb(struct nftnl_set_elem *e, void *data)
{
	struct nl_list_arg *a = data;
	const void *key;
	uint32_t len = 0;
	uint64_t left = 0;

	if (!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY))
		return 0;
	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	if (len != 4 && len != 16)
		return 0;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		left = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	else
		left = UINT64_MAX;	/* no timeout: lives for ever */
	return a->fn(a->arg, len == 4 ? AF_INET : AF_INET6, key, left);
}

static int nl_list(void *arg, const char *set, fqdn_list_fn fn, void *fnarg)
{
	const struct nlkernel *nk = arg;
	struct nl_list_arg a = { fn, fnarg };

	return kernel_list_set_elements(NFPROTO_INET, nk->table, set,
					nl_list_cb, &a);
}

static int nl_genid(void *arg, uint32_t *genid)
{
	(void)arg;
	return kernel_ruleset_genid(genid);
}

/* ---- construction ---- */

void fqdn_state_free(struct fqdn_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->names.nb; i++) {
		struct hnode *e = st->names.b[i], *next;

		for (; e; e = next) {
			struct lname *ln = (struct lname *)e;

			next = e->next;
			free(ln->a);
			free(ln);
		}
	}
	for (size_t i = 0; i < st->kels.nb; i++) {
		struct hnode *e = st->kels.b[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(st->names.b);
	free(st->kels.b);
	for (size_t i = 0; i < st->n_sets; i++) {
		struct setconf *s = &st->sets[i];

		free(s->p.name);
		for (size_t j = 0; j < s->n_patterns; j++)
			free(s->patterns[j]);
		free(s->patterns);
		free(s->kset[0]);
		free(s->kset[1]);
	}
	free(st->sets);
	for (size_t i = 0; i < st->n_zones; i++)
		free(st->zones[i].name);
	free(st->zones);
	pol_index_free(st->ix);
	ksock_free(st->nlk.ks);
	free(st->nets);
	free(st->table);
	free(st);
}

static int copy_sets(struct fqdn_state *st, const struct model *m)
{
	/* The families come from the compiled policy, as the ruleset's
	 * rules do: one answer to "can a flow use this address". */
	struct policy *pol = policy_build(m);
	int ret = -ENOMEM;

	st->sets = calloc(m->n_fqdn_sets ? m->n_fqdn_sets : 1,
			  sizeof(*st->sets));
	if (!st->sets || !pol)
		goto out;
	for (size_t i = 0; i < m->n_fqdn_sets; i++) {
		const struct fqdn_set *f = &m->fqdn_sets[i];
		struct setconf *s = &st->sets[i];

		st->n_sets++;
		s->p = *f;
		s->p.names = NULL;
		s->p.n_names = 0;
		s->p.description = NULL;
		s->p.name = strdup(f->name);
		s->fams = policy_fqdn_families(pol, (int)i);
		s->patterns = calloc(f->n_names ? f->n_names : 1,
				     sizeof(*s->patterns));
		if (asprintf(&s->kset[0], "fqdn-%s-v4", f->name) < 0)
			s->kset[0] = NULL;
		if (asprintf(&s->kset[1], "fqdn-%s-v6", f->name) < 0)
			s->kset[1] = NULL;
		if (!s->p.name || !s->patterns || !s->kset[0] || !s->kset[1])
			goto out;
		for (size_t j = 0; j < f->n_names; j++) {
			if (!f->names[j].pattern)
				continue;
			s->patterns[s->n_patterns] =
				strdup(f->names[j].pattern);
			if (!s->patterns[s->n_patterns])
				goto out;
			s->n_patterns++;
		}
	}
	ret = 0;
out:
	policy_free(pol);
	return ret;
}

static int copy_nets(struct fqdn_state *st, const struct model *m)
{
	size_t total = 0;

	for (size_t i = 0; i < m->n_zones; i++)
		total += m->zones[i].n_nets;
	st->ix = pol_index_build(m);
	st->nets = calloc(total ? total : 1, sizeof(*st->nets));
	st->zones = calloc(m->n_zones ? m->n_zones : 1, sizeof(*st->zones));
	if (!st->ix || !st->nets || !st->zones)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_zones; i++) {
		const struct zone *z = &m->zones[i];

		st->zones[i].name = strdup(z->name ? z->name : "");
		st->zones[i].tier = z->tier;
		st->n_zones++;
		if (!st->zones[i].name)
			return -ENOMEM;
		for (size_t j = 0; j < z->n_nets; j++) {
			struct ownnet o = { z->nets[j].p, i };

			st->nets[st->n_nets++] = o;
		}
	}
	return 0;
}

struct fqdn_state *fqdn_state_new(const struct model *m,
				  const struct fqdn_conf *conf)
{
	struct fqdn_state *st = calloc(1, sizeof(*st));
	int err = ENOMEM;

	if (!st)
		return NULL;
	st->table = strdup(conf && conf->table ? conf->table : "sanso");
	if (!st->table)
		goto fail;
	if (conf && conf->kernel) {
		st->k = *conf->kernel;
	} else {
		st->k.arm = nl_arm;
		st->k.list = nl_list;
		st->k.genid = nl_genid;
		st->nlk.table = st->table;
		st->nlk.ks = ksock_new();
		if (!st->nlk.ks)
			goto fail;
		st->k.arg = &st->nlk;
		st->netlink = true;
	}
	if (conf)
		st->hooks = conf->hooks;
	st->max_names = conf && conf->max_names ? conf->max_names :
			DEFAULT_MAX_NAMES;
	if (getrandom(st->key, sizeof(st->key), 0) != sizeof(st->key)) {
		err = errno ? errno : EIO;
		goto fail;
	}
	if (copy_sets(st, m) || copy_nets(st, m))
		goto fail;
	return st;
fail:
	fqdn_state_free(st);
	errno = err;
	return NULL;
}

size_t fqdn_state_nsets(const struct fqdn_state *st)
{
	return st->n_sets;
}

const char *fqdn_state_set_name(const struct fqdn_state *st, size_t i)
{
	return i < st->n_sets ? st->sets[i].p.name : NULL;
}

size_t fqdn_state_match(const struct fqdn_state *st, const char *name,
			unsigned int *idx)
{
	size_t n = 0;

	for (size_t i = 0; i < st->n_sets; i++)
		for (size_t j = 0; j < st->sets[i].n_patterns; j++)
			if (fqdn_match(st->sets[i].patterns[j], name)) {
				idx[n++] = (unsigned int)i;
				break;
			}
	return n;
}

unsigned int fqdn_state_families(const struct fqdn_state *st,
				 const unsigned int *idx, size_t n)
{
	unsigned int fams = 0;

	for (size_t i = 0; i < n; i++)
		if (idx[i] < st->n_sets)
			fams |= st->sets[idx[i]].fams;
	return fams;
}

uint32_t fqdn_timeout(const struct fqdn_set *s, uint32_t ttl)
{
	uint32_t t = ttl;

	if (t < s->min_ttl)
		t = s->min_ttl;
	if (t > s->max_ttl)
		t = s->max_ttl;
	return t + s->grace;
}

/* ---- the address filter ---- */

struct special {
	uint8_t family, len;
	uint8_t addr[16];
};

static const struct special specials[] = {
	{ AF_INET, 8, { 0 } },				/* "this network" */
	{ AF_INET, 8, { 10 } },				/* RFC 1918 */
	{ AF_INET, 10, { 100, 64 } },			/* shared, RFC 6598 */
	{ AF_INET, 8, { 127 } },			/* loopback */
	{ AF_INET, 16, { 169, 254 } },			/* link-local */
	{ AF_INET, 12, { 172, 16 } },			/* RFC 1918 */
	{ AF_INET, 16, { 192, 168 } },			/* RFC 1918 */
	{ AF_INET, 4, { 224 } },			/* multicast */
	{ AF_INET, 4, { 240 } },			/* class E, broadcast */
	{ AF_INET6, 128, { 0 } },			/* unspecified */
	{ AF_INET6, 128, { [15] = 1 } },		/* loopback */
	{ AF_INET6, 96, { 0 } },			/* IPv4-compatible */
	{ AF_INET6, 96, { [10] = 0xff, [11] = 0xff } },	/* IPv4-mapped */
	{ AF_INET6, 7, { 0xfc } },			/* unique local */
	{ AF_INET6, 10, { 0xfe, 0x80 } },		/* link-local */
	{ AF_INET6, 10, { 0xfe, 0xc0 } },		/* site-local */
	{ AF_INET6, 8, { 0xff } },			/* multicast */
};

static bool prefix_has(const uint8_t *net, unsigned int len,
		       const uint8_t *addr)
{
	unsigned int full = len / 8, rest = len % 8;

	if (memcmp(net, addr, full))
		return false;
	if (!rest)
		return true;
	return ((net[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

bool fqdn_addr_special(uint8_t family, const uint8_t *addr)
{
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };

	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (specials[i].family == family &&
		    prefix_has(specials[i].addr, specials[i].len, addr))
			return true;
	/* The NAT64 well-known prefix must not carry a private IPv4
	 * address inside (RFC 6052 §3.1). */
	if (family == AF_INET6 && !memcmp(addr, nat64, 12))
		return fqdn_addr_special(AF_INET, addr + 12);
	return family != AF_INET && family != AF_INET6;
}

static void to_prefix(uint8_t family, const uint8_t *addr, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = family;
	p->len = family == AF_INET ? 32 : 128;
	memcpy(p->addr, addr, fam_len(family));
}

bool fqdn_addr_safe(const struct fqdn_state *st, uint8_t family,
		    const uint8_t *addr)
{
	struct prefix p;

	if (fqdn_addr_special(family, addr))
		return false;
	to_prefix(family, addr, &p);
	/* One lookup in the policy's own table, not a walk of every
	 * network: a site has tens of thousands. */
	return !pol_index_own(st->ix, &p);
}

/* ---- lookups ---- */

static uint64_t name_hash(const struct fqdn_state *st, unsigned int set,
			  const char *name)
{
	uint8_t buf[4 + DNS_NAME_TEXT];
	size_t l = strlen(name);

	if (l > DNS_NAME_TEXT - 1)
		l = DNS_NAME_TEXT - 1;
	memcpy(buf, &set, 4);
	memcpy(buf + 4, name, l);
	return fqdn_hash(st->key, buf, 4 + l);
}

static struct lname *lname_find(const struct fqdn_state *st,
				unsigned int set, const char *name)
{
	uint64_t h;
	struct hnode *e;

	if (!st->names.nb)
		return NULL;
	h = name_hash(st, set, name);
	for (e = st->names.b[h & (st->names.nb - 1)]; e; e = e->next) {
		struct lname *ln = (struct lname *)e;

		if (e->h == h && ln->set == set && !strcmp(ln->name, name))
			return ln;
	}
	return NULL;
}

static void lname_free(struct fqdn_state *st, struct lname *ln)
{
	htab_del(&st->names, &ln->hn);
	free(ln->a);
	free(ln);
}

static int64_t lname_newest(const struct lname *ln)
{
	return ln->last_good[0] > ln->last_good[1] ? ln->last_good[0] :
						     ln->last_good[1];
}

/* Makes room under max_names: the oldest answer goes. */
static void lname_evict(struct fqdn_state *st, int64_t now)
{
	struct lname *old = NULL;

	fqdn_state_gc(st, now);
	if (st->names.n < st->max_names)
		return;
	for (size_t i = 0; i < st->names.nb; i++)
		for (struct hnode *e = st->names.b[i]; e; e = e->next) {
			struct lname *ln = (struct lname *)e;

			if (!old || lname_newest(ln) < lname_newest(old))
				old = ln;
		}
	if (old) {
		say(st, LOG_NOTICE, "forgetting %s (set %s): more than %zu "
		    "names learned", old->name, st->sets[old->set].p.name,
		    st->max_names);
		lname_free(st, old);
	}
}

static struct lname *lname_get(struct fqdn_state *st, unsigned int set,
			       const char *name, int64_t now)
{
	struct lname *ln = lname_find(st, set, name);
	size_t l;

	if (ln)
		return ln;
	if (st->names.n >= st->max_names)
		lname_evict(st, now);
	l = strlen(name);
	ln = calloc(1, sizeof(*ln) + l + 1);
	if (!ln)
		return NULL;
	memcpy(ln->name, name, l + 1);
	ln->set = set;
	ln->hn.h = name_hash(st, set, name);
	if (htab_add(&st->names, &ln->hn)) {
		free(ln);
		return NULL;
	}
	return ln;
}

static struct laddr *laddr_find(const struct lname *ln, uint8_t family,
				const uint8_t *addr)
{
	if (!ln)
		return NULL;
	for (uint32_t i = 0; i < ln->n; i++)
		if (ln->a[i].family == family &&
		    !memcmp(ln->a[i].addr, addr, fam_len(family)))
			return &ln->a[i];
	return NULL;
}

static struct laddr *laddr_add(struct lname *ln, uint8_t family,
			       const uint8_t *addr)
{
	struct laddr *a = laddr_find(ln, family, addr);

	if (a)
		return a;
	if (ln->n == ln->cap) {
		uint32_t cap = ln->cap ? ln->cap * 2 : 4;
		struct laddr *p = reallocarray(ln->a, cap, sizeof(*p));

		if (!p)
			return NULL;
		ln->a = p;
		ln->cap = cap;
	}
	a = &ln->a[ln->n++];
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->addr, addr, fam_len(family));
	return a;
}

static uint64_t kel_hash(const struct fqdn_state *st, unsigned int set,
			 uint8_t family, const uint8_t *addr)
{
	uint8_t buf[4 + 1 + 16];

	memcpy(buf, &set, 4);
	buf[4] = family;
	memcpy(buf + 5, addr, fam_len(family));
	return fqdn_hash(st->key, buf, 5 + fam_len(family));
}

static struct kel *kel_find(const struct fqdn_state *st, unsigned int set,
			    uint8_t family, const uint8_t *addr)
{
	uint64_t h;
	struct hnode *e;

	if (!st->kels.nb)
		return NULL;
	h = kel_hash(st, set, family, addr);
	for (e = st->kels.b[h & (st->kels.nb - 1)]; e; e = e->next) {
		struct kel *k = (struct kel *)e;

		if (e->h == h && k->set == set && k->family == family &&
		    !memcmp(k->addr, addr, fam_len(family)))
			return k;
	}
	return NULL;
}

/* Raises the element's wanted expiry to at least `expires`. */
static void kel_raise(struct fqdn_state *st, unsigned int set,
		      uint8_t family, const uint8_t *addr, int64_t expires)
{
	struct kel *k = kel_find(st, set, family, addr);

	if (!k) {
		k = calloc(1, sizeof(*k));
		if (!k)
			return;
		k->set = set;
		k->family = family;
		memcpy(k->addr, addr, fam_len(family));
		k->hn.h = kel_hash(st, set, family, addr);
		if (htab_add(&st->kels, &k->hn)) {
			free(k);
			return;
		}
	}
	if (expires > k->expires)
		k->expires = expires;
}

/* What the element must be armed with so that it lives until `expires`
 * and no less than any other name of its set needs. */
static uint64_t arm_timeout(const struct fqdn_state *st, unsigned int set,
			    uint8_t family, const uint8_t *addr,
			    int64_t expires, int64_t now)
{
	const struct kel *k = kel_find(st, set, family, addr);
	int64_t want = expires;

	if (k && k->expires > want)
		want = k->expires;
	/* A zero timeout would make the element permanent. */
	return want - now < 1000 ? 1000 : (uint64_t)(want - now);
}

/* ---- learning ---- */

struct plan {
	unsigned int set;
	const struct dns_addr *a;
	int64_t expires;
};

static int qtype_family(uint16_t qtype)
{
	if (qtype == DNS_T_A)
		return AF_INET;
	if (qtype == DNS_T_AAAA)
		return AF_INET6;
	return 0;
}

static bool dup_before(const struct dns_addr *a, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (a[k].family == a[i].family &&
		    !memcmp(a[k].addr, a[i].addr, fam_len(a[i].family)))
			return true;
	return false;
}

static int commit(struct fqdn_state *st, const struct fqdn_elem *v, size_t n,
		  char *err, size_t errlen)
{
	int ret;

	if (!n)
		return 0;
	st->st.batches++;
	ret = st->k.arm(st->k.arg, v, n, err, errlen);
	if (ret)
		st->st.batch_fail++;
	else if (st->hooks.armed)
		st->hooks.armed(st->hooks.arg, v, n);
	return ret;
}

/* One answer from its plan to what is remembered of it. */
struct learning {
	const char *name;
	uint16_t qtype;
	const struct dns_addr *addrs;
	size_t n;
	unsigned int *idx;		/* the sets it matches */
	size_t nset;
	bool *safe;
	struct plan *plan;
	size_t np;
	struct fqdn_elem *el;		/* what the kernel must hold */
	size_t nel;
	struct fqdn_result r;
};

static void learning_free(struct learning *l)
{
	free(l->idx);
	free(l->safe);
	free(l->plan);
	free(l->el);
	memset(l, 0, sizeof(*l));
}

/* What the answer arms, from the state as it is now: nothing changes. */
static int learning_plan(const struct fqdn_state *st, struct learning *l,
			 int64_t now)
{
	const struct dns_addr *addrs = l->addrs;
	size_t n = l->n;

	l->idx = calloc(st->n_sets ? st->n_sets : 1, sizeof(*l->idx));
	l->safe = calloc(n ? n : 1, sizeof(*l->safe));
	if (!l->idx || !l->safe)
		return -ENOMEM;
	l->nset = fqdn_state_match(st, l->name, l->idx);
	l->r.sets = (unsigned int)l->nset;
	l->plan = calloc(l->nset * n + 1, sizeof(*l->plan));
	l->el = calloc(l->nset * n + 1, sizeof(*l->el));
	if (!l->plan || !l->el)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		l->safe[i] = !dup_before(addrs, i) &&
			     (addrs[i].family == AF_INET ||
			      addrs[i].family == AF_INET6);
		if (l->safe[i] && !fqdn_addr_safe(st, addrs[i].family,
						  addrs[i].addr)) {
			l->safe[i] = false;
			l->r.unsafe++;
		}
	}
	for (size_t s = 0; s < l->nset; s++) {
		const struct setconf *sc = &st->sets[l->idx[s]];
		const struct lname *ln = lname_find(st, l->idx[s], l->name);
		uint32_t alive = 0;

		for (uint32_t k = 0; ln && k < ln->n; k++)
			alive += ln->a[k].expires > now;
		for (size_t i = 0; i < n; i++) {
			const struct dns_addr *a = &addrs[i];
			const struct laddr *la;
			struct fqdn_elem *e;
			struct plan *p;

			if (!l->safe[i])
				continue;
			if (!(sc->fams & pol_fam_bit(a->family))) {
				/* No flow of this set can use it. */
				l->r.unusable++;
				continue;
			}
			la = laddr_find(ln, a->family, a->addr);
			if (!la || la->expires <= now) {
				if (alive >= sc->p.max_addrs) {
					l->r.capped++;
					continue;
				}
				alive++;
			}
			p = &l->plan[l->np++];
			p->set = l->idx[s];
			p->a = a;
			p->expires = now + (int64_t)fqdn_timeout(&sc->p,
								 a->ttl) * 1000;
			e = &l->el[l->nel++];
			e->set = sc->kset[fam_index(a->family)];
			e->family = a->family;
			memcpy(e->addr, a->addr, 16);
			e->timeout_ms = arm_timeout(st, p->set, a->family,
						    a->addr, p->expires, now);
		}
	}
	return 0;
}

/* The kernel has it: now remember it. */
static void learning_keep(struct fqdn_state *st, const struct learning *l,
			  int64_t now)
{
	const char *name = l->name;
	int fam = qtype_family(l->qtype);

	st->st.unsafe += l->r.unsafe;
	st->st.capped += l->r.capped;
	for (size_t s = 0; s < l->nset; s++) {
		unsigned int set = l->idx[s];
		const struct setconf *sc = &st->sets[set];
		struct lname *ln = lname_find(st, set, name);
		bool any = false, capped_here = false;
		uint32_t alive = 0, minttl = UINT32_MAX;

		for (size_t i = 0; i < l->np; i++)
			any = any || l->plan[i].set == set;
		if (!ln && !any)
			continue;	/* nothing worth remembering */
		if (!ln)
			ln = lname_get(st, set, name, now);
		if (!ln) {
			say(st, LOG_ERR, "out of memory learning %s", name);
			continue;
		}
		if (fam)
			for (uint32_t k = 0; k < ln->n; k++)
				if (ln->a[k].family == fam)
					ln->a[k].last = false;
		for (size_t i = 0; i < l->np; i++) {
			const struct plan *p = &l->plan[i];
			struct laddr *la;

			if (p->set != set)
				continue;
			la = laddr_add(ln, p->a->family, p->a->addr);
			if (!la) {
				say(st, LOG_ERR, "out of memory learning %s",
				    name);
				continue;
			}
			if (p->expires > la->expires)
				la->expires = p->expires;
			if (p->a->family == fam) {
				la->last = true;
				if (p->a->ttl < minttl)
					minttl = p->a->ttl;
			}
			kel_raise(st, set, p->a->family, p->a->addr,
				  p->expires);
		}
		if (fam) {
			ln->last_good[fam_index((uint8_t)fam)] = now;
			ln->last_ttl[fam_index((uint8_t)fam)] =
				minttl == UINT32_MAX ? 0 : minttl;
		}
		if (ln->stale_alerted)
			say(st, LOG_NOTICE, "%s (set %s) answers again", name,
			    sc->p.name);
		ln->stale_alerted = false;
		for (uint32_t k = 0; k < ln->n; k++)
			alive += ln->a[k].expires > now;
		for (size_t i = 0; i < l->n && l->r.capped; i++) {
			const struct dns_addr *a = &l->addrs[i];

			if (l->safe[i] && !laddr_find(ln, a->family, a->addr))
				capped_here = true;
		}
		if (capped_here && !ln->cap_alerted) {
			ln->cap_alerted = true;
			raise_alert(st, ALERT_FQDN_CAP, NULL, "%s (set %s) "
				    "has %u addresses, its cap (max_addrs); "
				    "further addresses are not added", name,
				    sc->p.name, sc->p.max_addrs);
		} else if (alive < sc->p.max_addrs) {
			ln->cap_alerted = false;
		}
	}
}

int fqdn_state_learn(struct fqdn_state *st, const char *name, uint16_t qtype,
		     const struct dns_addr *addrs, size_t n, int64_t now,
		     struct fqdn_result *res, char *err, size_t errlen)
{
	struct learning l = { .name = name, .qtype = qtype, .addrs = addrs,
			      .n = n };
	int ret;

	if (err && errlen)
		err[0] = '\0';
	ret = learning_plan(st, &l, now);
	if (!ret)
		ret = commit(st, l.el, l.nel, err, errlen);
	if (!ret) {
		l.r.armed = (unsigned int)l.nel;
		learning_keep(st, &l, now);
	}
	if (res) {
		*res = l.r;
		if (ret)
			res->armed = 0;
	}
	learning_free(&l);
	return ret;
}

static int elem_cmp(const void *a, const void *b)
{
	const struct fqdn_elem *x = a, *y = b;
	int r = strcmp(x->set, y->set);

	if (r)
		return r;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, fam_len(x->family));
}

/*
 * One transaction for a group of answers.  The same element may come
 * from several of them: it goes once, with the longest timeout, which is
 * what it holds after arming them one by one (each arms at least what
 * the element already needs).
 */
static int commit_group(struct fqdn_state *st, const struct learning *l,
			size_t n, char *err, size_t errlen)
{
	struct fqdn_elem *v;
	size_t total = 0, k = 0;
	int ret;

	for (size_t i = 0; i < n; i++)
		total += l[i].nel;
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		memcpy(v + k, l[i].el, l[i].nel * sizeof(*v));
		k += l[i].nel;
	}
	if (total > 1)
		qsort(v, total, sizeof(*v), elem_cmp);
	k = 0;
	for (size_t i = 0; i < total; i++) {
		if (k && !elem_cmp(&v[k - 1], &v[i])) {
			if (v[i].timeout_ms > v[k - 1].timeout_ms)
				v[k - 1].timeout_ms = v[i].timeout_ms;
			continue;
		}
		v[k++] = v[i];
	}
	ret = commit(st, v, k, err, errlen);
	free(v);
	return ret;
}

/*
 * Answers plan against the state before any of them is kept, which is
 * what learning them one by one would see unless two of them are for one
 * name (its addresses and its cap), or keeping one could evict another's
 * name (max_names).  Such an answer starts the next group.
 */
static size_t group_end(const struct fqdn_state *st,
			const struct fqdn_answer *v, size_t first, size_t n)
{
	size_t end;

	for (end = first + 1; end < n; end++) {
		/* Keeping an answer adds at most one name per set. */
		if (st->names.n + (end + 1 - first) * st->n_sets >=
		    st->max_names)
			break;
		for (size_t i = first; i < end; i++)
			if (!strcmp(v[i].name, v[end].name))
				return end;
	}
	return end;
}

static void learn_one(struct fqdn_state *st, struct fqdn_answer *a,
		      int64_t now)
{
	a->ret = fqdn_state_learn(st, a->name, a->qtype, a->addrs, a->n, now,
				  &a->res, a->err, sizeof(a->err));
}

void fqdn_state_learn_batch(struct fqdn_state *st, struct fqdn_answer *v,
			    size_t n, int64_t now)
{
	struct learning *l = calloc(n ? n : 1, sizeof(*l));
	size_t first = 0;

	if (!l) {
		for (size_t i = 0; i < n; i++)
			learn_one(st, &v[i], now);
		return;
	}
	while (first < n) {
		size_t end = group_end(st, v, first, n), i;
		int ret = 0;
		char err[256];

		if (end - first == 1) {
			for (i = first; i < end; i++)
				learn_one(st, &v[i], now);
			first = end;
			continue;
		}
		for (i = first; i < end && !ret; i++) {
			l[i].name = v[i].name;
			l[i].qtype = v[i].qtype;
			l[i].addrs = v[i].addrs;
			l[i].n = v[i].n;
			ret = learning_plan(st, &l[i], now);
		}
		if (!ret)
			ret = commit_group(st, l + first, end - first, err,
					   sizeof(err));
		for (i = first; i < end; i++) {
			if (ret) {
				/* Refused as a whole: each on its own, so
				 * that only what the kernel refuses fails. */
				learn_one(st, &v[i], now);
			} else {
				l[i].r.armed = (unsigned int)l[i].nel;
				learning_keep(st, &l[i], now);
				v[i].ret = 0;
				v[i].res = l[i].r;
				v[i].err[0] = '\0';
			}
			learning_free(&l[i]);
		}
		first = end;
	}
	free(l);
}

/* ---- upstream failure ---- */

static bool fam_wanted(int fam, uint8_t family)
{
	return !fam || fam == family;
}

int fqdn_state_stale(struct fqdn_state *st, const char *name, uint16_t qtype,
		     const struct hostport *upstream, int64_t now,
		     struct fqdn_result *res, char *err, size_t errlen)
{
	unsigned int *idx = calloc(st->n_sets ? st->n_sets : 1, sizeof(*idx));
	struct fqdn_elem *el = NULL;
	struct lname **lns = NULL;
	size_t nset, nel = 0, total = 0, nln = 0;
	int fam = qtype_family(qtype), ret = -ENOMEM;
	char upbuf[PREFIX_STRLEN] = "the upstream resolver";
	struct fqdn_result r = { 0 };
	int64_t oldest = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!idx)
		goto out;
	if (upstream)
		prefix_format(&upstream->addr, upbuf, sizeof(upbuf));
	nset = fqdn_state_match(st, name, idx);
	r.sets = (unsigned int)nset;
	lns = calloc(nset + 1, sizeof(*lns));
	for (size_t s = 0; s < nset; s++) {
		struct lname *ln = lname_find(st, idx[s], name);

		if (ln)
			total += ln->n;
	}
	el = calloc(total + 1, sizeof(*el));
	if (!lns || !el)
		goto out;
	for (size_t s = 0; s < nset; s++) {
		const struct setconf *sc = &st->sets[idx[s]];
		struct lname *ln = lname_find(st, idx[s], name);
		bool used = false;

		if (!ln)
			continue;
		for (uint32_t k = 0; k < ln->n; k++) {
			struct laddr *la = &ln->a[k];
			int fi = fam_index(la->family);
			int64_t limit, exp;

			if (!la->last || !fam_wanted(fam, la->family) ||
			    !ln->last_good[fi])
				continue;
			limit = ln->last_good[fi] +
				(int64_t)sc->p.max_stale * 1000;
			if (limit <= now)
				continue;
			exp = now + (int64_t)fqdn_timeout(&sc->p,
					FQDN_STALE_TTL) * 1000;
			if (exp > limit)
				exp = limit;
			el[nel].set = sc->kset[fi];
			el[nel].family = la->family;
			memcpy(el[nel].addr, la->addr, 16);
			el[nel].timeout_ms = arm_timeout(st, idx[s], la->family,
							 la->addr, exp, now);
			nel++;
			used = true;
			if (!oldest || ln->last_good[fi] < oldest)
				oldest = ln->last_good[fi];
		}
		if (used)
			lns[nln++] = ln;
	}
	if (!nel) {
		/* Nothing to fall back on; say so, but not per query. */
		for (size_t s = 0; s < nset; s++) {
			struct setconf *sc = &st->sets[idx[s]];

			if (sc->nofallback_alert &&
			    now - sc->nofallback_alert < NOFALLBACK_ALERT_MS)
				continue;
			sc->nofallback_alert = now;
			st->st.stale++;
			raise_alert(st, ALERT_FQDN_STALE, upstream,
				    "upstream DNS (%s) failed for %s (set "
				    "%s) and no answer younger than max_stale "
				    "is known", upbuf, name, sc->p.name);
		}
		ret = -ENOENT;
		goto out;
	}
	ret = commit(st, el, nel, err, errlen);
	if (ret)
		goto out;
	r.armed = (unsigned int)nel;
	for (size_t i = 0; i < nln; i++) {
		struct lname *ln = lns[i];
		const struct setconf *sc = &st->sets[ln->set];
		char when[32] = "?";
		time_t t = (time_t)(oldest / 1000);
		struct tm tm;

		for (uint32_t k = 0; k < ln->n; k++) {
			struct laddr *la = &ln->a[k];
			int fi = fam_index(la->family);
			int64_t limit, exp;

			if (!la->last || !fam_wanted(fam, la->family) ||
			    !ln->last_good[fi])
				continue;
			limit = ln->last_good[fi] +
				(int64_t)sc->p.max_stale * 1000;
			if (limit <= now)
				continue;
			exp = now + (int64_t)fqdn_timeout(&sc->p,
					FQDN_STALE_TTL) * 1000;
			if (exp > limit)
				exp = limit;
			if (exp > la->expires)
				la->expires = exp;
			kel_raise(st, ln->set, la->family, la->addr, exp);
		}
		if (ln->stale_alerted)
			continue;
		ln->stale_alerted = true;
		st->st.stale++;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
				 &tm);
		raise_alert(st, ALERT_FQDN_STALE, upstream,
			    "upstream DNS (%s) failed for %s (set %s): "
			    "keeping the addresses of the answer of %s "
			    "for up to max_stale (%us)", upbuf, name,
			    sc->p.name, when, sc->p.max_stale);
	}
	ret = (int)nel;
out:
	if (res)
		*res = r;
	free(idx);
	free(el);
	free(lns);
	return ret;
}

size_t fqdn_state_last(const struct fqdn_state *st, const char *name,
		       uint16_t qtype, int64_t now, struct dns_addr *out,
		       size_t max)
{
	unsigned int *idx = calloc(st->n_sets ? st->n_sets : 1, sizeof(*idx));
	int fam = qtype_family(qtype);
	size_t nset, n = 0;

	if (!idx)
		return 0;
	nset = fqdn_state_match(st, name, idx);
	for (size_t s = 0; s < nset; s++) {
		const struct setconf *sc = &st->sets[idx[s]];
		const struct lname *ln = lname_find(st, idx[s], name);

		for (uint32_t k = 0; ln && k < ln->n; k++) {
			const struct laddr *la = &ln->a[k];
			int fi = fam_index(la->family);
			bool dup = false;

			if (!la->last || !fam_wanted(fam, la->family) ||
			    !ln->last_good[fi] || ln->last_good[fi] +
			    (int64_t)sc->p.max_stale * 1000 <= now)
				continue;
			for (size_t j = 0; j < n && j < max; j++)
				dup = dup || (out[j].family == la->family &&
					      !memcmp(out[j].addr, la->addr,
						      16));
			if (dup)
				continue;
			if (n < max) {
				memset(&out[n], 0, sizeof(out[n]));
				out[n].family = la->family;
				memcpy(out[n].addr, la->addr, 16);
				out[n].ttl = FQDN_STALE_TTL;
			}
			n++;
		}
	}
	free(idx);
	return n < max ? n : max;
}

/* ---- the kernel's view ---- */

struct seen_arg {
	struct fqdn_state *st;
	unsigned int set;
};

static int seen_cb(void *arg, uint8_t family, const uint8_t *addr,
		   uint64_t left)
{
	struct seen_arg *a = arg;
	struct kel *k = kel_find(a->st, a->set, family, addr);

	if (k) {
		k->seen = a->st->round;
		k->left = left;
	}
	return 0;
}

int fqdn_state_reconcile(struct fqdn_state *st, int64_t now, char *err,
			 size_t errlen)
{
	struct fqdn_elem *el = NULL;
	size_t nel = 0;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	st->round++;
	st->st.reconciles++;
	for (size_t s = 0; s < st->n_sets; s++)
		for (int f = 0; f < 2; f++) {
			struct seen_arg a = { st, (unsigned int)s };

			ret = st->k.list(st->k.arg, st->sets[s].kset[f],
					 seen_cb, &a);
			if (ret) {
				if (err && errlen)
					snprintf(err, errlen, _("listing set %s: "
						 "%s"), st->sets[s].kset[f],
						 strerror(-ret));
				return ret;
			}
		}
	el = calloc(st->kels.n + 1, sizeof(*el));
	if (!el)
		return -ENOMEM;
	for (size_t i = 0; i < st->kels.nb; i++)
		for (struct hnode *e = st->kels.b[i]; e; e = e->next) {
			struct kel *k = (struct kel *)e;
			int64_t want = k->expires - now;

			if (want <= 1000)
				continue;
			if (k->seen == st->round &&
			    k->left + RECONCILE_SLACK_MS >= (uint64_t)want)
				continue;
			el[nel].set = st->sets[k->set].kset[
				fam_index(k->family)];
			el[nel].family = k->family;
			memcpy(el[nel].addr, k->addr, 16);
			el[nel].timeout_ms = (uint64_t)want;
			nel++;
		}
	if (nel)
		say(st, LOG_INFO, "re-arming %zu set element%s the kernel "
		    "lost or shortened", nel, nel == 1 ? "" : "s");
	ret = commit(st, el, nel, err, errlen);
	free(el);
	return ret;
}

int fqdn_state_check_kernel(struct fqdn_state *st, int64_t now, char *err,
			    size_t errlen)
{
	uint32_t g;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!st->k.genid)
		return 0;
	ret = st->k.genid(st->k.arg, &g);
	if (ret)
		return ret;
	if (st->have_genid && g == st->genid)
		return 0;
	ret = fqdn_state_reconcile(st, now, err, errlen);
	if (ret)
		return ret;
	/* Our own re-arming moved it again; the next look sees that and
	 * finds nothing to do. */
	st->genid = g;
	st->have_genid = true;
	return 1;
}

void fqdn_state_gc(struct fqdn_state *st, int64_t now)
{
	for (size_t i = 0; i < st->names.nb; i++) {
		struct hnode *e = st->names.b[i], *next;

		for (; e; e = next) {
			struct lname *ln = (struct lname *)e;
			const struct setconf *sc = &st->sets[ln->set];
			int64_t ms = (int64_t)sc->p.max_stale * 1000;
			bool keep[2];
			uint32_t o = 0;

			next = e->next;
			keep[0] = ln->last_good[0] &&
				  ln->last_good[0] + ms > now;
			keep[1] = ln->last_good[1] &&
				  ln->last_good[1] + ms > now;
			for (uint32_t k = 0; k < ln->n; k++) {
				struct laddr *la = &ln->a[k];

				if (la->expires > now ||
				    (la->last && keep[fam_index(la->family)]))
					ln->a[o++] = *la;
			}
			ln->n = o;
			if (!o && !keep[0] && !keep[1])
				lname_free(st, ln);
		}
	}
	for (size_t i = 0; i < st->kels.nb; i++) {
		struct hnode *e = st->kels.b[i], *next;

		for (; e; e = next) {
			next = e->next;
			if (((struct kel *)e)->expires <= now) {
				htab_del(&st->kels, e);
				free(e);
			}
		}
	}
}

void fqdn_state_stats(const struct fqdn_state *st, struct fqdn_stats *s)
{
	*s = st->st;
	s->names = st->names.n;
	s->elems = st->kels.n;
}

/* ---- the state file ---- */

struct sline {
	unsigned int set;
	char name[DNS_NAME_TEXT];
	uint8_t family;
	uint8_t addr[16];
	int64_t expires, last_good;	/* ms */
	uint32_t ttl;
	bool last;
};

static int set_index(const struct fqdn_state *st, const char *name)
{
	for (size_t i = 0; i < st->n_sets; i++)
		if (!strcmp(st->sets[i].p.name, name))
			return (int)i;
	return -1;
}


static int to_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v > INT64_MAX / 1000)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * One line of the file, checked against the zone file and the clock:
 * -EINVAL for a malformed line, -ENOENT for one the zone file no longer
 * admits (set, name or address).
 */
static int parse_line(const struct fqdn_state *st, char *line, int64_t now,
		      struct sline *out)
{
	char *f[8], *save = NULL, *tok;
	const struct setconf *sc;
	struct dns_name wire;
	struct prefix p;
	int64_t exp, good, ttl, last, cap;
	bool ok = false;
	int n = 0, si;

	for (tok = strtok_r(line, " \t\n", &save); tok && n < 8;
	     tok = strtok_r(NULL, " \t\n", &save))
		f[n++] = tok;
	if (n != 7 || to_i64(f[3], &exp) || to_i64(f[4], &good) ||
	    to_i64(f[5], &ttl) || to_i64(f[6], &last) || last > 1 ||
	    ttl > UINT32_MAX)
		return -EINVAL;
	if (dns_name_from_text(f[1], &wire) ||
	    dns_name_to_text(&wire, out->name, sizeof(out->name)) ||
	    strcmp(out->name, f[1]) || addr_parse(f[2], &p))
		return -EINVAL;
	si = set_index(st, f[0]);
	if (si < 0)
		return -ENOENT;
	sc = &st->sets[si];
	for (size_t j = 0; j < sc->n_patterns; j++)
		ok = ok || fqdn_match(sc->patterns[j], out->name);
	if (!ok || !fqdn_addr_safe(st, p.family, p.addr) ||
	    !(sc->fams & pol_fam_bit(p.family)))
		return -ENOENT;
	out->set = (unsigned int)si;
	out->family = p.family;
	memset(out->addr, 0, sizeof(out->addr));
	memcpy(out->addr, p.addr, fam_len(p.family));
	out->expires = exp * 1000;
	out->last_good = good * 1000;
	out->ttl = (uint32_t)ttl;
	out->last = last;
	/* A file cannot give more than one answer could. */
	if (out->last_good > now)
		out->last_good = now;
	cap = now + (int64_t)fqdn_timeout(&sc->p, sc->p.max_ttl) * 1000;
	if (out->expires > cap)
		out->expires = cap;
	return 0;
}

static bool sline_useful(const struct fqdn_state *st, const struct sline *l,
			 int64_t now)
{
	int64_t ms = (int64_t)st->sets[l->set].p.max_stale * 1000;

	return l->expires > now ||
	       (l->last && l->last_good && l->last_good + ms > now);
}

static int sline_cmp(const void *pa, const void *pb)
{
	const struct sline *a = pa, *b = pb;
	int c;

	if (a->set != b->set)
		return a->set < b->set ? -1 : 1;
	c = strcmp(a->name, b->name);
	if (c)
		return c;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

static int open_lock(const char *dir, int how)
{
	char *path;
	int fd;

	if (asprintf(&path, "%s/%s", dir, LOCK_FILE) < 0)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0)
		return -errno;
	while (flock(fd, how) < 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		return -e;
	}
	return fd;
}

/* Reads every valid, useful line of the file. */
static int read_file(struct fqdn_state *st, const char *dir, int64_t now,
		     struct sline **out, size_t *nout, size_t *bad,
		     size_t *dropped)
{
	char *path = NULL, line[1024];
	struct sline *v = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	FILE *f = NULL;
	int ret = 0;

	*out = NULL;
	*nout = *bad = *dropped = 0;
	if (asprintf(&path, "%s/%s", dir, STATE_FILE) < 0)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f) {
		ret = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		struct sline l;
		size_t len = strlen(line);

		lineno++;
		if (lineno == 1 && strncmp(line, STATE_MAGIC,
					   strlen(STATE_MAGIC))) {
			say(st, LOG_WARNING, "%s: not a sanso FQDN state "
			    "file; ignored", path);
			goto out;
		}
		if (len && line[len - 1] != '\n' && !feof(f)) {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			(*bad)++;
			continue;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		ret = parse_line(st, line, now, &l);
		if (ret == -EINVAL) {
			if (!*bad)
				say(st, LOG_WARNING, "%s:%zu: malformed line "
				    "ignored", path, lineno);
			(*bad)++;
		} else if (ret) {
			(*dropped)++;
		} else if (sline_useful(st, &l, now)) {
			if (n == cap) {
				size_t c2 = cap ? cap * 2 : 256;
				struct sline *p = reallocarray(v, c2,
							       sizeof(*p));

				if (!p) {
					ret = -ENOMEM;
					goto out;
				}
				v = p;
				cap = c2;
			}
			v[n++] = l;
		}
		ret = 0;
	}
	if (ferror(f))
		ret = -EIO;
out:
	if (f)
		fclose(f);
	free(path);
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*nout = n;
	return 0;
}

static void write_line(FILE *f, const struct fqdn_state *st,
		       const struct sline *l)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(l->family, l->addr, a, sizeof(a));
	fprintf(f, "%s %s %s %" PRId64 " %" PRId64 " %u %d\n",
		st->sets[l->set].p.name, l->name, a,
		(l->expires + 999) / 1000, l->last_good / 1000, l->ttl,
		l->last ? 1 : 0);
}

int fqdn_state_save(struct fqdn_state *st, const char *dir, int64_t now)
{
	struct sline *old = NULL;
	size_t nold = 0, bad, dropped;
	char *tmp = NULL, *path = NULL;
	int lock, fd = -1, dfd, ret;
	FILE *f = NULL;

	lock = open_lock(dir, LOCK_EX);
	if (lock < 0)
		return lock;
	ret = read_file(st, dir, now, &old, &nold, &bad, &dropped);
	if (ret)
		goto out;
	if (nold)
		qsort(old, nold, sizeof(*old), sline_cmp);
	ret = -ENOMEM;
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, STATE_FILE) < 0) {
		tmp = NULL;
		goto out;
	}
	if (asprintf(&path, "%s/%s", dir, STATE_FILE) < 0) {
		path = NULL;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		goto out;
	}
	fd = -1;
	fprintf(f, "%s\n# set name address expires last_good ttl last\n",
		STATE_MAGIC);
	for (size_t i = 0; i < st->names.nb; i++)
		for (struct hnode *e = st->names.b[i]; e; e = e->next) {
			struct lname *ln = (struct lname *)e;

			for (uint32_t k = 0; k < ln->n; k++) {
				const struct laddr *la = &ln->a[k];
				int fi = fam_index(la->family);
				struct sline l, *o;

				memset(&l, 0, sizeof(l));
				l.set = ln->set;
				snprintf(l.name, sizeof(l.name), "%s",
					 ln->name);
				l.family = la->family;
				memcpy(l.addr, la->addr, 16);
				l.expires = la->expires;
				l.last_good = ln->last_good[fi];
				l.ttl = ln->last_ttl[fi];
				l.last = la->last;
				o = nold ? bsearch(&l, old, nold, sizeof(*old),
						   sline_cmp) : NULL;
				if (o) {
					/* Another writer's knowledge counts
					 * too; ours wins for `last`. */
					if (o->expires > l.expires)
						l.expires = o->expires;
					o->set = UINT32_MAX;
				}
				if (sline_useful(st, &l, now))
					write_line(f, st, &l);
			}
		}
	for (size_t i = 0; i < nold; i++)
		if (old[i].set != UINT32_MAX)
			write_line(f, st, &old[i]);
	if (fflush(f) || fsync(fileno(f))) {
		ret = -errno;
		goto out;
	}
	ret = fclose(f) ? -errno : 0;
	f = NULL;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (!ret) {
		free(tmp);
		tmp = NULL;
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(path);
	free(old);
	close(lock);
	return ret;
}


/* ---- elements nothing learned (SECURITY F22) ---- */

struct foreign_arg {
	struct fqdn_state *st;
	unsigned int set;
	int64_t now, slack_ms;
	const struct sline *file;
	size_t nfile;
	fqdn_foreign_fn fn;
	void *arg;
};

/* By (set, family, address): what file_has() looks up. */
static int sline_addr_cmp(const void *pa, const void *pb)
{
	const struct sline *a = pa, *b = pb;

	if (a->set != b->set)
		return a->set < b->set ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

static bool file_has(const struct foreign_arg *a, uint8_t family,
		     const uint8_t *addr)
{
	struct sline key = { .set = a->set, .family = family };

	if (!a->nfile)
		return false;
	memcpy(key.addr, addr, fam_len(family));
	/* read_file() kept only the lines still useful slack_ms ago. */
	return bsearch(&key, a->file, a->nfile, sizeof(*a->file),
		       sline_addr_cmp) != NULL;
}

static int foreign_cb(void *arg, uint8_t family, const uint8_t *addr,
		      uint64_t left)
{
	struct foreign_arg *a = arg;
	const struct kel *k = kel_find(a->st, a->set, family, addr);

	/* About to run out: what the kernel's rounding of a timeout left
	 * behind after the state forgot it, and harmless anyway. */
	if (left <= (uint64_t)a->slack_ms)
		return 0;
	if (k && k->expires + a->slack_ms > a->now)
		return 0;
	if (file_has(a, family, addr))
		return 0;
	return a->fn(a->arg, a->st->sets[a->set].kset[fam_index(family)],
		     family, addr);
}

int fqdn_state_foreign(struct fqdn_state *st, const char *dir, int64_t now,
		       int64_t slack_ms, fqdn_foreign_fn fn, void *arg)
{
	struct foreign_arg a = { st, 0, now, slack_ms, NULL, 0, fn, arg };
	struct sline *v = NULL;
	size_t n = 0, bad, dropped;
	int lock, ret = 0;

	if (dir) {
		lock = open_lock(dir, LOCK_SH);
		if (lock < 0)
			return lock;
		ret = read_file(st, dir, now - slack_ms, &v, &n, &bad,
				&dropped);
		close(lock);
		if (ret)
			return ret;
		if (n)
			qsort(v, n, sizeof(*v), sline_addr_cmp);
	}
	a.file = v;
	a.nfile = n;
	for (size_t s = 0; s < st->n_sets && !ret; s++)
		for (int f = 0; f < 2 && !ret; f++) {
			a.set = (unsigned int)s;
			ret = st->k.list(st->k.arg, st->sets[s].kset[f],
					 foreign_cb, &a);
		}
	free(v);
	return ret;
}

int fqdn_state_restore(struct fqdn_state *st, const char *dir, int64_t now,
		       char *err, size_t errlen)
{
	struct sline *v = NULL;
	size_t n = 0, bad = 0, dropped = 0, restored = 0, over = 0;
	int lock, ret;

	if (err && errlen)
		err[0] = '\0';
	lock = open_lock(dir, LOCK_SH);
	if (lock < 0) {
		if (err && errlen)
			snprintf(err, errlen, _("%s/%s: %s"), dir, LOCK_FILE,
				 strerror(-lock));
		return lock;
	}
	ret = read_file(st, dir, now, &v, &n, &bad, &dropped);
	close(lock);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, _("%s/%s: %s"), dir, STATE_FILE,
				 strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sline *l = &v[i];
		const struct setconf *sc = &st->sets[l->set];
		int fi = fam_index(l->family);
		struct lname *ln = lname_get(st, l->set, l->name, now);
		struct laddr *la;
		uint32_t alive = 0;

		if (!ln) {
			ret = -ENOMEM;
			break;
		}
		for (uint32_t k = 0; k < ln->n; k++)
			alive += ln->a[k].expires > now;
		if (!laddr_find(ln, l->family, l->addr) &&
		    alive >= sc->p.max_addrs) {
			over++;
			continue;
		}
		la = laddr_add(ln, l->family, l->addr);
		if (!la) {
			ret = -ENOMEM;
			break;
		}
		if (l->expires > la->expires)
			la->expires = l->expires;
		la->last = la->last || l->last;
		if (l->last_good > ln->last_good[fi]) {
			ln->last_good[fi] = l->last_good;
			ln->last_ttl[fi] = l->ttl;
		}
		if (l->expires > now) {
			kel_raise(st, l->set, l->family, l->addr, l->expires);
			restored++;
		}
	}
	free(v);
	if (bad || dropped || over)
		say(st, LOG_NOTICE, "%s/%s: %zu malformed line%s, %zu no "
		    "longer admitted by the zone file, %zu over max_addrs, "
		    "left out", dir, STATE_FILE, bad, bad == 1 ? "" : "s",
		    dropped, over);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	ret = fqdn_state_reconcile(st, now, err, errlen);
	return ret ? ret : (int)(restored > INT32_MAX ? INT32_MAX : restored);
}
