// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Counting alert lines for `sanso report`: one pass, tables of fixed
 * bounds (include/report.h), gzip read with zlib.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "report.h"
#include "sched.h"

static const char *const sev_names[REPORT_SEV_COUNT] = {
	[REPORT_SEV_CRITICAL] = "critical",
	[REPORT_SEV_HIGH] = "high",
	[REPORT_SEV_MEDIUM] = "medium",
	[REPORT_SEV_LOW] = "low",
	[REPORT_SEV_INFO] = "info",
	[REPORT_SEV_OTHER] = "other",
};

const char *report_sev_name(enum report_sev s)
{
	return (unsigned int)s < REPORT_SEV_COUNT ? sev_names[s] : "other";
}

/* Open addressing, twice the bound: the tables never grow past it. */
#define PAIR_SLOTS	(2 * REPORT_MAX_PAIRS)
#define DAY_SLOTS	(2 * REPORT_MAX_DAYS)
#define SRC_SLOTS	(2 * REPORT_MAX_SOURCES)
#define FLOW_SLOTS	256	/* `log: true` flows with a session open */

struct src_entry {
	struct report_source s;
	uint32_t heap;		/* its place in the min-heap */
	bool used;
};

struct open_session {
	char flow[32];
	int32_t idx;		/* into sessions, -1: none open */
	bool used;
};

struct report {
	char *tz;
	struct report_conf conf;
	struct report_counts c;

	struct report_pair *pairs;	/* PAIR_SLOTS, count 0: free */
	size_t n_pairs;
	struct report_day *days;	/* DAY_SLOTS, count 0: free */
	size_t n_days;

	/* Space-Saving (Metwally et al. 2005): REPORT_MAX_SOURCES
	 * counters; a new source past them takes the smallest one's place
	 * and count + 1, so any source with more than total/k records is
	 * in the table and no count is low by anything. */
	struct src_entry *src;		/* SRC_SLOTS */
	uint32_t *heap;			/* slots, by count (min first) */
	size_t n_src;
	bool src_full;

	struct open_session open[FLOW_SLOTS];

	/* The local time of the last minute seen: alerts come in time
	 * order, and offsets change only on whole minutes. */
	int64_t cache_min;
	int32_t cache_day;
	int cache_wday, cache_hour;

	/* output copies, sorted */
	struct report_pair *out_pairs;
	struct report_day *out_days;
};

/* FNV-1a: short keys, a table of a few thousand slots. */
static uint32_t hash_str(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

struct report *report_new(const struct report_conf *conf)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->conf = *conf;
	r->tz = strdup(conf->tz ? conf->tz : "UTC");
	r->pairs = calloc(PAIR_SLOTS, sizeof(*r->pairs));
	r->days = calloc(DAY_SLOTS, sizeof(*r->days));
	r->src = calloc(SRC_SLOTS, sizeof(*r->src));
	r->heap = calloc(REPORT_MAX_SOURCES, sizeof(*r->heap));
	r->c.sessions = calloc(REPORT_MAX_SESSIONS, sizeof(*r->c.sessions));
	r->c.closed = calloc(REPORT_MAX_CLOSED, sizeof(*r->c.closed));
	if (!r->tz || !r->pairs || !r->days || !r->src || !r->heap ||
	    !r->c.sessions || !r->c.closed) {
		report_free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->conf.tz = r->tz;
	r->cache_min = INT64_MIN;
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	free(r->tz);
	free(r->pairs);
	free(r->days);
	free(r->src);
	free(r->heap);
	free(r->c.sessions);
	free(r->c.closed);
	free(r->out_pairs);
	free(r->out_days);
	free(r);
}

/* ---- time ---- */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int report_parse_time(const char *s, size_t n, time_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	size_t i = 19;

	if (n < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
	    s[16] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -EINVAL;
	if (s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == 20)
			return -EINVAL;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
		sign = 0;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') &&
		   s[i + 3] == ':' && digits(s + i + 1, 2, &oh) &&
		   digits(s + i + 4, 2, &om) && oh < 24 && om < 60) {
		sign = s[i] == '-' ? -1 : 1;
	} else {
		return -EINVAL;
	}
	*out = (time_t)((int64_t)days_from_civil(y, mo, d) * 86400 +
			h * 3600 + mi * 60 + sec -
			sign * (oh * 3600 + om * 60));
	return 0;
}

int report_local(const char *tz, time_t t, int32_t *day, int *wday,
		 int *hour)
{
	int secs;

	if (tz_utc_to_local(tz ? tz : "UTC", t, day, &secs, wday, NULL))
		return -EINVAL;
	*hour = secs / 3600;
	return 0;
}

static int local_of(struct report *r, time_t t, int32_t *day, int *wday,
		    int *hour)
{
	int64_t min = (int64_t)t / 60 - ((int64_t)t % 60 < 0);

	if (min != r->cache_min) {
		if (report_local(r->tz, (time_t)(min * 60), &r->cache_day,
				 &r->cache_wday, &r->cache_hour))
			return -EINVAL;
		r->cache_min = min;
	}
	*day = r->cache_day;
	*wday = r->cache_wday;
	*hour = r->cache_hour;
	return 0;
}

/* ---- one line ---- */

/*
 * Alert lines are read by this scanner, not by jansson: jansson reads a
 * 370-byte alert line at about 65,000 lines a second on the machine where
 * sanso report counts 1,380,000 a second with this scanner (BENCHMARKS.md
 * P6; the target is 1,000,000). It accepts the JSON that the writers in json.c
 * print, and what it copies out goes back through json.c's rule when
 * the report is written.
 */

/* A value of the record, as found in the line: a string's bytes
 * between its quotes (escapes still in), or a number's. */
struct val {
	const char *p;
	size_t n;
	bool str, null, esc;
};

struct rec {
	struct val time, type, severity, src_zone, dst_zone, src, flow,
		   count, message;
	bool chain;
};

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Four hex digits of a \u escape; U+FFFD for anything else. */
static unsigned hex4(const char *p)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		int d = hexval(p[k]);

		if (d < 0)
			return 0xfffd;
		v = v << 4 | (unsigned)d;
	}
	return v;
}

/* A string from its opening quote: *end after the closing one. Most
 * strings have no escape: two memchr() find the quote and show no
 * backslash before it (byte by byte took 28% of the time). Control
 * characters are let through there: a line is counted, not re-served
 * as JSON. */
static bool scan_str(const char *p, const char *e, const char **end,
		     bool *esc)
{
	*esc = false;
	for (p++; p < e;) {
		const char *q = memchr(p, '"', (size_t)(e - p));

		if (!q)
			return false;
		if (!memchr(p, '\\', (size_t)(q - p))) {
			*end = q + 1;
			return true;
		}
		for (; p < q; p++) {
			if ((unsigned char)*p < 0x20)
				return false;
			if (*p != '\\')
				continue;
			*esc = true;
			if (++p >= e)
				return false;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (p + i >= e || hexval(p[i]) < 0)
						return false;
				p += 4;
			} else if (!strchr("\"\\/bfnrt", *p)) {
				return false;
			}
		}
		/* p is past q when an escape took the quote */
		if (p == q) {
			*end = q + 1;
			return true;
		}
		p = q + 1 > p ? q + 1 : p;
	}
	return false;
}

/* Any value; nested ones are walked by depth. */
static const char *scan_value(const char *p, const char *e, struct val *v)
{
	const char *q;
	bool esc;
	int depth;

	memset(v, 0, sizeof(*v));
	if (p >= e)
		return NULL;
	switch (*p) {
	case '"':
		if (!scan_str(p, e, &q, &esc))
			return NULL;
		v->p = p + 1;
		v->n = (size_t)(q - p - 2);
		v->str = true;
		v->esc = esc;
		return q;
	case '{':
	case '[':
		for (depth = 0; p < e; p++) {
			if (*p == '"') {
				if (!scan_str(p, e, &q, &esc))
					return NULL;
				p = q - 1;
			} else if (*p == '{' || *p == '[') {
				depth++;
			} else if (*p == '}' || *p == ']') {
				if (--depth == 0)
					return p + 1;
			}
		}
		return NULL;
	case 'n':
		if (e - p < 4 || memcmp(p, "null", 4))
			return NULL;
		v->null = true;
		return p + 4;
	case 't':
		return e - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
	case 'f':
		return e - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
	default:
		q = p;
		if (*q == '-')
			q++;
		while (q < e && ((*q >= '0' && *q <= '9') || *q == '.' ||
				 *q == 'e' || *q == 'E' || *q == '+' ||
				 *q == '-'))
			q++;
		if (q == p || (q == p + 1 && *p == '-'))
			return NULL;
		v->p = p;
		v->n = (size_t)(q - p);
		return q;
	}
}

#define KEY(lit) (klen == sizeof(lit) - 1 && !memcmp(k, lit, klen))

/* The record's top-level keys; false when the line is not one JSON
 * object. */
static bool scan_rec(const char *p, size_t n, struct rec *r)
{
	const char *e = p + n, *k, *q;
	struct val kv, v;
	size_t klen;

	memset(r, 0, sizeof(*r));
	p = skip_ws(p, e);
	if (p >= e || *p++ != '{')
		return false;
	p = skip_ws(p, e);
	if (p < e && *p == '}')
		return skip_ws(p + 1, e) == e;
	for (;;) {
		p = skip_ws(p, e);
		if (p >= e || *p != '"' || !(q = scan_value(p, e, &kv)))
			return false;
		k = kv.p;
		klen = kv.n;
		p = skip_ws(q, e);
		if (p >= e || *p++ != ':')
			return false;
		p = skip_ws(p, e);
		q = scan_value(p, e, &v);
		if (!q)
			return false;
		p = skip_ws(q, e);
		if (kv.esc)
			;	/* no key of ours has an escape */
		else if (KEY("time"))
			r->time = v;
		else if (KEY("type"))
			r->type = v;
		else if (KEY("severity"))
			r->severity = v;
		else if (KEY("src_zone"))
			r->src_zone = v;
		else if (KEY("dst_zone"))
			r->dst_zone = v;
		else if (KEY("src"))
			r->src = v;
		else if (KEY("flow"))
			r->flow = v;
		else if (KEY("count"))
			r->count = v;
		else if (KEY("message"))
			r->message = v;
		else if (KEY("chain"))
			r->chain = true;
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		if (p < e && *p == '}')
			return skip_ws(p + 1, e) == e;
		return false;
	}
}

/* A string value into buf, escapes decoded (\u as UTF-8; a lone
 * surrogate as U+FFFD), cut at a character boundary to fit. */
static void str_copy(const struct val *v, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	if (!v->str)
		return;
	if (!v->esc) {
		size_t l = v->n < n - 1 ? v->n : n - 1;

		/* back off a cut UTF-8 sequence */
		if (l < v->n)
			while (l > 0 && ((uint8_t)v->p[l] & 0xc0) == 0x80)
				l--;
		memcpy(buf, v->p, l);
		buf[l] = '\0';
		return;
	}
	for (size_t i = 0; i < v->n;) {
		char tmp[4];
		size_t tl = 1;
		unsigned cp;

		if (v->p[i] != '\\') {
			tmp[0] = v->p[i++];
		} else {
			char c = v->p[i + 1];

			i += 2;
			switch (c) {
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u':
				cp = hex4(v->p + i);
				i += 4;
				if (cp >= 0xd800 && cp < 0xdc00 &&
				    i + 6 <= v->n && v->p[i] == '\\' &&
				    v->p[i + 1] == 'u') {
					unsigned lo = hex4(v->p + i + 2);

					if (lo >= 0xdc00 && lo < 0xe000) {
						cp = 0x10000 + ((cp - 0xd800)
						     << 10) + (lo - 0xdc00);
						i += 6;
					}
				}
				if (cp >= 0xd800 && cp < 0xe000)
					cp = 0xfffd;
				if (cp < 0x80) {
					tmp[0] = (char)cp;
				} else if (cp < 0x800) {
					tmp[0] = (char)(0xc0 | cp >> 6);
					tmp[1] = (char)(0x80 | (cp & 63));
					tl = 2;
				} else if (cp < 0x10000) {
					tmp[0] = (char)(0xe0 | cp >> 12);
					tmp[1] = (char)(0x80 | (cp >> 6 & 63));
					tmp[2] = (char)(0x80 | (cp & 63));
					tl = 3;
				} else {
					tmp[0] = (char)(0xf0 | cp >> 18);
					tmp[1] = (char)(0x80 | (cp >> 12 & 63));
					tmp[2] = (char)(0x80 | (cp >> 6 & 63));
					tmp[3] = (char)(0x80 | (cp & 63));
					tl = 4;
				}
				break;
			default: tmp[0] = c; break;
			}
		}
		if (o + tl >= n)
			break;
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o] = '\0';
}

static bool val_is(const struct val *v, const char *s)
{
	size_t l = strlen(s);

	return v->str && !v->esc && v->n == l && !memcmp(v->p, s, l);
}

static void bad(struct report *r, const char *file, uint64_t lineno,
		const char *why)
{
	struct report_bad *b;

	r->c.invalid++;
	if (r->c.n_bad >= REPORT_MAX_BAD)
		return;
	b = &r->c.bad[r->c.n_bad++];
	snprintf(b->file, sizeof(b->file), "%s", file ? file : "-");
	b->line = lineno;
	snprintf(b->why, sizeof(b->why), "%s", why);
}

static void count_type(struct report *r, const struct val *v)
{
	char name[32];
	size_t i;

	for (i = 0; i < ALERT_TYPE_COUNT; i++)
		if (val_is(v, alert_type_name((enum alert_type)i))) {
			r->c.by_type[i]++;
			return;
		}
	str_copy(v, name, sizeof(name));
	for (i = 0; i < r->c.n_other_types; i++)
		if (!strcmp(r->c.other_types[i].name, name)) {
			r->c.other_types[i].count++;
			return;
		}
	if (r->c.n_other_types < REPORT_MAX_OTHER_TYPES) {
		struct report_type_count *t =
			&r->c.other_types[r->c.n_other_types++];

		snprintf(t->name, sizeof(t->name), "%s", name);
		t->count = 1;
		return;
	}
	r->c.other_types_folded++;
}

static enum report_sev sev_of(const struct val *v)
{
	for (int s = 0; s < REPORT_SEV_OTHER; s++)
		if (val_is(v, sev_names[s]))
			return (enum report_sev)s;
	return REPORT_SEV_OTHER;
}

static void count_pair(struct report *r, const struct rec *x,
		       enum report_sev sev)
{
	char sz[32], dz[32];
	uint32_t h;

	str_copy(&x->src_zone, sz, sizeof(sz));
	str_copy(&x->dst_zone, dz, sizeof(dz));
	h = hash_str(hash_str(2166136261u, sz) * 31u + 1, dz);
	for (uint32_t i = 0; i < PAIR_SLOTS; i++) {
		struct report_pair *p = &r->pairs[(h + i) % PAIR_SLOTS];

		if (!p->count) {
			if (r->n_pairs >= REPORT_MAX_PAIRS)
				break;
			r->n_pairs++;
			memcpy(p->src_zone, sz, sizeof(sz));
			memcpy(p->dst_zone, dz, sizeof(dz));
		} else if (strcmp(p->src_zone, sz) ||
			   strcmp(p->dst_zone, dz)) {
			continue;
		}
		p->count++;
		p->by_sev[sev]++;
		return;
	}
	r->c.pairs_folded++;
}

static void count_day(struct report *r, int32_t day)
{
	uint32_t h = (uint32_t)day * 2654435761u;

	for (uint32_t i = 0; i < DAY_SLOTS; i++) {
		struct report_day *d = &r->days[(h + i) % DAY_SLOTS];

		if (!d->count) {
			if (r->n_days >= REPORT_MAX_DAYS)
				break;
			r->n_days++;
			d->day = day;
		} else if (d->day != day) {
			continue;
		}
		d->count++;
		return;
	}
	r->c.days_folded++;
}

/* ---- sources: Space-Saving over a min-heap of slots ---- */

static void heap_swap(struct report *r, uint32_t a, uint32_t b)
{
	uint32_t t = r->heap[a];

	r->heap[a] = r->heap[b];
	r->heap[b] = t;
	r->src[r->heap[a]].heap = a;
	r->src[r->heap[b]].heap = b;
}

static void heap_down(struct report *r, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;

		if (l < r->n_src && r->src[r->heap[l]].s.count <
		    r->src[r->heap[m]].s.count)
			m = l;
		if (l + 1 < r->n_src && r->src[r->heap[l + 1]].s.count <
		    r->src[r->heap[m]].s.count)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(r, i, m);
		i = m;
	}
}

static void heap_up(struct report *r, uint32_t i)
{
	while (i > 0 && r->src[r->heap[(i - 1) / 2]].s.count >
	       r->src[r->heap[i]].s.count) {
		heap_swap(r, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

/* Removes slot s from the open-addressing table (backward shift). */
static void src_unlink(struct report *r, uint32_t s)
{
	uint32_t i = s, j = s;

	r->src[i].used = false;
	for (;;) {
		uint32_t k;

		j = (j + 1) % SRC_SLOTS;
		if (!r->src[j].used)
			return;
		k = hash_str(2166136261u, r->src[j].s.addr) % SRC_SLOTS;
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			r->src[i] = r->src[j];
			r->heap[r->src[i].heap] = i;
			r->src[j].used = false;
			i = j;
		}
	}
}

static void count_source(struct report *r, const struct rec *x)
{
	char addr[48], zone[32];
	uint32_t h, i, s;
	uint64_t base = 0, err = 0;

	str_copy(&x->src, addr, sizeof(addr));
	if (!addr[0])
		return;
	h = hash_str(2166136261u, addr) % SRC_SLOTS;
	for (i = h; r->src[i].used; i = (i + 1) % SRC_SLOTS)
		if (!strcmp(r->src[i].s.addr, addr)) {
			r->src[i].s.count++;
			heap_down(r, r->src[i].heap);
			return;
		}
	if (r->n_src >= REPORT_MAX_SOURCES) {
		/* The smallest makes room, and its count is the new
		 * one's possible error. */
		s = r->heap[0];
		base = err = r->src[s].s.count;
		r->src_full = true;
		src_unlink(r, s);
		r->n_src--;
		r->heap[0] = r->heap[r->n_src];
		r->src[r->heap[0]].heap = 0;
		heap_down(r, 0);
		for (i = h; r->src[i].used; i = (i + 1) % SRC_SLOTS)
			;
	}
	str_copy(&x->src_zone, zone, sizeof(zone));
	memset(&r->src[i], 0, sizeof(r->src[i]));
	r->src[i].used = true;
	memcpy(r->src[i].s.addr, addr, sizeof(addr));
	memcpy(r->src[i].s.zone, zone, sizeof(zone));
	r->src[i].s.count = base + 1;
	r->src[i].s.error = err;
	r->src[i].heap = (uint32_t)r->n_src;
	r->heap[r->n_src++] = i;
	heap_up(r, r->src[i].heap);
}

/* ---- maintenance ---- */

static struct open_session *open_of(struct report *r, const char *flow)
{
	uint32_t h = hash_str(2166136261u, flow) % FLOW_SLOTS;

	for (uint32_t i = 0; i < FLOW_SLOTS; i++) {
		struct open_session *o = &r->open[(h + i) % FLOW_SLOTS];

		if (!o->used) {
			o->used = true;
			snprintf(o->flow, sizeof(o->flow), "%s", flow);
			o->idx = -1;
			return o;
		}
		if (!strcmp(o->flow, flow))
			return o;
	}
	return NULL;
}

static void session_window(struct report *r, struct report_session *s)
{
	const struct model *m = r->conf.m;
	const struct schedule *sc;
	int f = -1;

	if (!m)
		return;
	for (size_t i = 0; i < m->n_flows && f < 0; i++)
		if (!strcmp(m->flows[i].name, s->flow))
			f = (int)i;
	if (f < 0 || m->flows[f].schedule < 0)
		return;
	sc = &m->schedules[m->flows[f].schedule];
	snprintf(s->window, sizeof(s->window), "%s", sc->name);
	for (size_t w = 0; w < sc->n_windows; w++) {
		char a[40], b[40];

		if (s->start < sc->windows[w].from ||
		    s->start >= sc->windows[w].to)
			continue;
		tz_format_rfc3339(r->tz, sc->windows[w].from, 0, a, sizeof(a));
		tz_format_rfc3339(r->tz, sc->windows[w].to, 0, b, sizeof(b));
		/* "NAME 2026-11-24T10:00-12:00" */
		snprintf(s->window, sizeof(s->window), "%.40s %.16s-%.5s",
			 sc->name, a, b + 11);
		return;
	}
}

static void maintenance(struct report *r, const struct rec *x, time_t t,
			bool closed)
{
	char flow[32];
	struct open_session *o;
	struct report_session *s;

	str_copy(&x->flow, flow, sizeof(flow));
	if (closed) {
		struct report_closed *c;

		if (r->c.n_closed < REPORT_MAX_CLOSED) {
			c = &r->c.closed[r->c.n_closed++];
			c->time = t;
			memcpy(c->flow, flow, sizeof(flow));
			str_copy(&x->src_zone, c->src_zone,
				 sizeof(c->src_zone));
			str_copy(&x->dst_zone, c->dst_zone,
				 sizeof(c->dst_zone));
			str_copy(&x->message, c->message, sizeof(c->message));
		} else {
			r->c.closed_dropped++;
		}
	}
	if (!flow[0] || !(o = open_of(r, flow)))
		return;
	if (closed) {
		if (o->idx >= 0) {
			r->c.sessions[o->idx].end = t;
			o->idx = -1;
		}
		return;
	}
	if (o->idx >= 0) {
		s = &r->c.sessions[o->idx];
		s->connections++;
		if (t > s->last)
			s->last = t;
		return;
	}
	if (r->c.n_sessions >= REPORT_MAX_SESSIONS) {
		r->c.sessions_dropped++;
		return;
	}
	o->idx = (int32_t)r->c.n_sessions;
	s = &r->c.sessions[r->c.n_sessions++];
	memset(s, 0, sizeof(*s));
	memcpy(s->flow, flow, sizeof(flow));
	s->start = s->last = t;
	s->connections = 1;
	session_window(r, s);
}

int report_line(struct report *r, const char *file, uint64_t lineno,
		const char *line, size_t len)
{
	struct rec x;
	enum report_sev sev;
	int32_t day;
	int wday, hour;
	time_t t;
	uint64_t cnt = 1;

	r->c.lines++;
	if (len && line[len - 1] == '\r')
		len--;
	if (!len) {
		bad(r, file, lineno, "empty line");
		return -EINVAL;
	}
	if (!scan_rec(line, len, &x)) {
		bad(r, file, lineno, "not one JSON object");
		return -EINVAL;
	}
	if (x.chain) {
		/* The first line of a file that carries a chain on. */
		r->c.chain++;
		return 0;
	}
	if (!x.time.str || !x.type.str || !x.severity.str ||
	    report_parse_time(x.time.p, x.time.n, &t)) {
		bad(r, file, lineno, !x.time.str || !x.type.str ||
		    !x.severity.str ? "no time, type or severity" :
		    "time is not RFC 3339");
		return -EINVAL;
	}
	if (x.count.p && !x.count.str) {
		char *end;
		char nb[24];

		if (x.count.n >= sizeof(nb)) {
			bad(r, file, lineno, "count out of range");
			return -EINVAL;
		}
		memcpy(nb, x.count.p, x.count.n);
		nb[x.count.n] = '\0';
		errno = 0;
		cnt = strtoull(nb, &end, 10);
		if (errno || *end || nb[0] == '-') {
			bad(r, file, lineno, "count is not a whole number");
			return -EINVAL;
		}
	}
	if (local_of(r, t, &day, &wday, &hour)) {
		bad(r, file, lineno, "time out of the timezone's range");
		return -EINVAL;
	}
	if ((r->conf.has_since && t < r->conf.since) ||
	    (r->conf.has_until && t >= r->conf.until)) {
		r->c.outside++;
		return 0;
	}
	r->c.total++;
	r->c.events += cnt;
	if (!r->c.first || t < r->c.first)
		r->c.first = t;
	if (t > r->c.last)
		r->c.last = t;
	count_type(r, &x.type);
	sev = sev_of(&x.severity);
	r->c.by_sev[sev]++;
	r->c.how[wday][hour]++;
	count_day(r, day);
	count_pair(r, &x, sev);
	count_source(r, &x);
	if (val_is(&x.type, "logged"))
		maintenance(r, &x, t, false);
	else if (val_is(&x.type, "maintenance_closed"))
		maintenance(r, &x, t, true);
	return 0;
}

/* ---- files ---- */

#define READ_CHUNK	(256 * 1024)

int report_read(struct report *r, const char *path, int copy,
		struct report_file *out)
{
	char *buf = NULL;
	size_t have = 0;
	uint64_t lineno = 0, bad0 = r->c.invalid, lines0 = r->c.lines;
	bool skipping = false;
	unsigned char magic[2];
	gzFile gz = NULL;
	int fd, ret = 0, n;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* By content: logrotate's dateext names need not end in .gz. */
	if (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f &&
	    magic[1] == 0x8b)
		out->compressed = true;
	buf = malloc(REPORT_LINE_MAX + READ_CHUNK);
	gz = buf ? gzdopen(fd, "rb") : NULL;
	if (!gz) {
		ret = buf ? -ENOMEM : -errno;
		close(fd);
		goto out;
	}
	gzbuffer(gz, READ_CHUNK);
	for (;;) {
		char *p, *e, *nl;

		n = gzread(gz, buf + have, READ_CHUNK);
		if (n < 0) {
			int zerr;

			gzerror(gz, &zerr);
			ret = zerr == Z_ERRNO ? -errno : -EBADMSG;
			break;
		}
		if (n == 0) {
			int zerr;

			/* A stream cut short reads as its end, with
			 * Z_BUF_ERROR set. */
			gzerror(gz, &zerr);
			if (zerr != Z_OK && zerr != Z_STREAM_END)
				ret = -EBADMSG;
			break;
		}
		if (copy >= 0) {
			const char *w = buf + have;
			size_t left = (size_t)n;

			while (left) {
				ssize_t k = write(copy, w, left);

				if (k < 0) {
					if (errno == EINTR)
						continue;
					ret = -errno;
					goto done;
				}
				w += k;
				left -= (size_t)k;
			}
		}
		p = buf;
		e = buf + have + (size_t)n;
		while ((nl = memchr(p, '\n', (size_t)(e - p)))) {
			lineno++;
			if (skipping)
				skipping = false;
			else
				report_line(r, path, lineno, p,
					    (size_t)(nl - p));
			p = nl + 1;
		}
		have = (size_t)(e - p);
		if (have > REPORT_LINE_MAX) {
			/* A line longer than any record: counted once,
			 * then skipped to its newline. */
			if (!skipping) {
				r->c.lines++;
				bad(r, path, lineno + 1, "line too long");
			}
			skipping = true;
			have = 0;
		} else {
			memmove(buf, p, have);
		}
	}
done:
	if (have && !skipping) {
		lineno++;
		r->c.lines++;
		bad(r, path, lineno, "no newline at the end");
	}
	gzclose_r(gz);
out:
	out->lines = r->c.lines - lines0;
	out->invalid = r->c.invalid - bad0;
	free(buf);
	return ret;
}

/* ---- results ---- */

static int pair_cmp(const void *a, const void *b)
{
	const struct report_pair *x = a, *y = b;
	int c;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	c = strcmp(x->src_zone, y->src_zone);
	return c ? c : strcmp(x->dst_zone, y->dst_zone);
}

static int day_cmp(const void *a, const void *b)
{
	const struct report_day *x = a, *y = b;

	return x->day < y->day ? -1 : x->day > y->day;
}

static int src_cmp(const void *a, const void *b)
{
	const struct report_source *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->addr, y->addr);
}

static int session_cmp(const void *a, const void *b)
{
	const struct report_session *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->flow, y->flow);
}

static int closed_cmp(const void *a, const void *b)
{
	const struct report_closed *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return strcmp(x->flow, y->flow);
}

static int type_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_type_count *)a)->name,
		      ((const struct report_type_count *)b)->name);
}

void report_finish(struct report *r, const struct report_counts **c)
{
	struct report_source *all;
	size_t n = 0;

	free(r->out_pairs);
	free(r->out_days);
	r->out_pairs = calloc(r->n_pairs ? r->n_pairs : 1,
			      sizeof(*r->out_pairs));
	r->out_days = calloc(r->n_days ? r->n_days : 1, sizeof(*r->out_days));
	r->c.n_pairs = r->c.n_days = 0;
	if (r->out_pairs)
		for (size_t i = 0; i < PAIR_SLOTS; i++)
			if (r->pairs[i].count)
				r->out_pairs[r->c.n_pairs++] = r->pairs[i];
	if (r->out_days)
		for (size_t i = 0; i < DAY_SLOTS; i++)
			if (r->days[i].count)
				r->out_days[r->c.n_days++] = r->days[i];
	if (r->c.n_pairs > 1)
		qsort(r->out_pairs, r->c.n_pairs, sizeof(*r->out_pairs),
		      pair_cmp);
	if (r->c.n_days > 1)
		qsort(r->out_days, r->c.n_days, sizeof(*r->out_days), day_cmp);
	r->c.pairs = r->out_pairs;
	r->c.days = r->out_days;

	r->c.n_top = 0;
	all = malloc((r->n_src ? r->n_src : 1) * sizeof(*all));
	if (all) {
		for (size_t i = 0; i < r->n_src; i++)
			all[n++] = r->src[r->heap[i]].s;
		qsort(all, n, sizeof(*all), src_cmp);
		for (size_t i = 0; i < n && i < REPORT_TOP_SOURCES; i++)
			r->c.top[r->c.n_top++] = all[i];
		free(all);
	}
	r->c.sources_exact = !r->src_full;
	qsort(r->c.sessions, r->c.n_sessions, sizeof(*r->c.sessions),
	      session_cmp);
	/* Sorting moved the sessions: none stays open to later lines. */
	for (size_t i = 0; i < FLOW_SLOTS; i++)
		r->open[i].idx = -1;
	qsort(r->c.closed, r->c.n_closed, sizeof(*r->c.closed), closed_cmp);
	qsort(r->c.other_types, r->c.n_other_types,
	      sizeof(*r->c.other_types), type_cmp);
	*c = &r->c;
}

/* ---- other lines: the audit log, a file's first lines ---- */

static void num_copy(const struct val *v, unsigned int *out)
{
	unsigned long x = 0;

	*out = 0;
	if (!v->p || v->str)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (v->p[i] < '0' || v->p[i] > '9' || x > 100000000)
			return;
		x = x * 10 + (unsigned long)(v->p[i] - '0');
	}
	*out = (unsigned int)x;
}

int report_audit_line(const char *line, size_t len, struct report_deploy *d,
		      time_t *t)
{
	const char *e = line + len, *p = line, *q;
	struct val kv, v, action = { 0 }, user = { 0 }, detail = { 0 },
		   time_v = { 0 }, dep = { 0 }, prev = { 0 };

	memset(d, 0, sizeof(*d));
	p = skip_ws(p, e);
	if (p >= e || *p++ != '{')
		return -EINVAL;
	for (;;) {
		const char *k;
		size_t klen;

		p = skip_ws(p, e);
		if (p >= e || *p != '"' || !(q = scan_value(p, e, &kv)))
			return -EINVAL;
		k = kv.p;
		klen = kv.n;
		p = skip_ws(q, e);
		if (p >= e || *p++ != ':')
			return -EINVAL;
		q = scan_value(skip_ws(p, e), e, &v);
		if (!q)
			return -EINVAL;
		p = skip_ws(q, e);
		if (KEY("time"))
			time_v = v;
		else if (KEY("action"))
			action = v;
		else if (KEY("user"))
			user = v;
		else if (KEY("detail"))
			detail = v;
		else if (KEY("deployment"))
			dep = v;
		else if (KEY("previous"))
			prev = v;
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		if (p < e && *p == '}')
			break;
		return -EINVAL;
	}
	if (!time_v.str || !action.str ||
	    report_parse_time(time_v.p, time_v.n, t))
		return -EINVAL;
	str_copy(&time_v, d->time, sizeof(d->time));
	str_copy(&action, d->action, sizeof(d->action));
	str_copy(&user, d->user, sizeof(d->user));
	str_copy(&detail, d->detail, sizeof(d->detail));
	num_copy(&dep, &d->deployment);
	num_copy(&prev, &d->previous);
	return 0;
}

int report_file_start(const char *path, struct report_start *s)
{
	char buf[8192] = "";	/* gzread() fills it; zeroed for the analyzer */
	gzFile gz;
	int fd, n, ret = 0;
	size_t have = 0;

	memset(s, 0, sizeof(*s));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		return -ENOMEM;
	}
	/* The first two lines: a chain line, then a record. */
	for (int i = 0; i < 2; i++) {
		char *nl;
		struct rec x;
		size_t l;

		while (!(nl = memchr(buf, '\n', have)) && have < sizeof(buf)) {
			n = gzread(gz, buf + have, (unsigned)(sizeof(buf) - have));
			if (n <= 0)
				break;
			have += (size_t)n;
		}
		if (!nl)
			break;
		l = (size_t)(nl - buf);
		if (scan_rec(buf, l, &x)) {
			if (x.chain && i == 0) {
				struct val kv, v;
				const char *p = buf + 1, *e = buf + l, *q;

				/* previous_seq, previous_file; the prev is
				 * the MAC of the previous file's last line. */
				while (p < e && (q = scan_value(p, e, &kv)) &&
				       q < e && *q == ':' &&
				       (q = scan_value(q + 1, e, &v))) {
					const char *k = kv.p;
					size_t klen = kv.n;

					if (KEY("previous_seq") && !v.str) {
						char nb[24];

						if (v.n < sizeof(nb)) {
							memcpy(nb, v.p, v.n);
							nb[v.n] = '\0';
							s->prev_seq =
							    strtoull(nb, NULL,
								     10);
						}
					} else if (KEY("previous_file")) {
						str_copy(&v, s->prev_file,
							 sizeof(s->prev_file));
					} else if (KEY("prev") && v.str &&
						   v.n == 64) {
						memcpy(s->prev_mac, v.p, 64);
						s->prev_mac[64] = '\0';
					}
					p = q < e && *q == ',' ? q + 1 : e;
				}
				s->continued = s->prev_seq > 0 &&
					       s->prev_mac[0];
			} else if (x.time.str &&
				   !report_parse_time(x.time.p, x.time.n,
						      &s->first)) {
				break;
			}
		}
		memmove(buf, nl + 1, have - l - 1);
		have -= l + 1;
	}
	gzclose_r(gz);
	return ret;
}
