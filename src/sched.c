// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Time in the zone file's timezone.
 *
 * The C library knows every IANA zone but only through the process's TZ,
 * which is global and not thread-safe to switch. So each zone's UTC
 * offsets are read once, through a short TZ switch under a lock, into a
 * table of transitions; every conversion after that is arithmetic on the
 * table and leaves TZ alone. The table grows in chunks as instants are
 * asked for, within 1900..2200.
 *
 * Weekly schedules are wall-clock schedules: open when the zone's wall
 * clock shows a listed day and a time in a range. On a spring-forward
 * day a range inside the skipped hour is never open; on a fall-back day
 * a range inside the repeated hour is open both times. sched_spans()
 * computes exactly that set, so the ruleset and schedule_open() agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <threads.h>
#include <unistd.h>

#include "parse.h"
#include "sched.h"

#define ZONEINFO	"/usr/share/zoneinfo"
#define TZ_NAME_MAX	255
#define DAY		86400
/* Beyond any real UTC offset. */
#define MAX_OFF		(26 * 3600)
#define CHUNK		((time_t)DAY * 32)
/* 1900-01-01T00:00Z and 2200-01-01T00:00Z: the range the tables cover. */
#define T_MIN		((time_t)-2208988800)
#define T_MAX		((time_t)7258118400)
#define N_ZONES		8
#define DEFAULT_TZ	"Asia/Tokyo"

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* 0 = Monday, as in struct schedule's days. */
static int wday_of(int64_t days)
{
	return (int)(((days % 7) + 7 + 3) % 7);
}

int tz_check(const char *name)
{
	char path[sizeof(ZONEINFO) + TZ_NAME_MAX + 1];
	char magic[4];
	struct stat st;
	size_t len, i;
	int fd = -1, ret = -EINVAL;

	if (!name)
		return -EINVAL;
	len = strlen(name);
	if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' ||
	    name[len - 1] == '/' || strstr(name, "//"))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = name[i];

		/* No '.' at all: it rules out ".." and the data files
		 * (zone.tab, tzdata.zi) in one go. */
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '+' ||
		      c == '-' || c == '/'))
			return -EINVAL;
	}
	/* right/ zones count leap seconds in time_t, which Linux does not. */
	if (!strncmp(name, "right/", 6))
		return -EINVAL;
	snprintf(path, sizeof(path), ZONEINFO "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		goto out;
	if (read(fd, magic, sizeof(magic)) != sizeof(magic) ||
	    memcmp(magic, "TZif", 4))
		goto out;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- the per-zone offset tables ---- */

struct tz_trans {
	time_t at;		/* first second of the new offset */
	int off;
};

struct tz_zone {
	char name[TZ_NAME_MAX + 1];	/* empty: slot unused */
	time_t lo, hi;		/* covered: [lo, hi), empty if lo == hi */
	int off0;		/* offset at lo */
	struct tz_trans *tr;	/* transitions in (lo, hi), sorted */
	size_t n, cap;
};

/* C11 threads, not pthread.h: that one includes <sched.h>, which
 * include/sched.h shadows under -Iinclude. */
static once_flag tz_once = ONCE_FLAG_INIT;
static mtx_t tz_mtx;
static struct tz_zone tz_zones[N_ZONES];
static unsigned int tz_evict;

static void tz_init(void)
{
	mtx_init(&tz_mtx, mtx_plain);
}

static void tz_lock(void)
{
	call_once(&tz_once, tz_init);
	mtx_lock(&tz_mtx);
}

static void tz_unlock(void)
{
	mtx_unlock(&tz_mtx);
}

/* The libc offset at t; TZ must already name the zone. */
static int libc_off(time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return (int)tm.tm_gmtoff;
}

struct env_saved {
	char *old;
	bool had;
};

/* An absolute path after ':' makes glibc ignore TZDIR. */
static int env_enter(const char *name, struct env_saved *sv)
{
	char val[sizeof(ZONEINFO) + TZ_NAME_MAX + 2];
	const char *old = getenv("TZ");

	sv->had = old != NULL;
	sv->old = old ? strdup(old) : NULL;
	if (old && !sv->old)
		return -ENOMEM;
	snprintf(val, sizeof(val), ":" ZONEINFO "/%s", name);
	if (setenv("TZ", val, 1)) {
		free(sv->old);
		return -errno;
	}
	tzset();
	return 0;
}

static void env_leave(struct env_saved *sv)
{
	if (sv->had)
		setenv("TZ", sv->old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(sv->old);
}

static int trans_push(struct tz_trans **v, size_t *n, size_t *cap,
		      time_t at, int off)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct tz_trans *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[*n].at = at;
	(*v)[(*n)++].off = off;
	return 0;
}

/*
 * Appends the transitions in (a, b], given the offset o at a. Steps a
 * day at a time and bisects to the second where the offset changes; an
 * offset that changes and changes back within one day would be missed,
 * which no zone has done since 1900.
 */
static int scan(time_t a, time_t b, int o, struct tz_trans **v, size_t *n,
		size_t *cap)
{
	time_t cur = a;
	int ret;

	while (cur < b) {
		time_t nxt = cur + DAY < b ? cur + DAY : b;
		time_t lo = cur, hi = nxt;

		if (libc_off(nxt) == o) {
			cur = nxt;
			continue;
		}
		while (hi - lo > 1) {
			time_t mid = lo + (hi - lo) / 2;

			if (libc_off(mid) == o)
				lo = mid;
			else
				hi = mid;
		}
		o = libc_off(hi);
		ret = trans_push(v, n, cap, hi, o);
		if (ret)
			return ret;
		cur = hi;
	}
	return 0;
}

/* Makes the table cover [a, b]. Called with the lock held. */
static int zone_cover(struct tz_zone *z, time_t a, time_t b)
{
	struct env_saved sv;
	time_t lo, hi;
	int ret;

	if (a < T_MIN || b >= T_MAX || a > b)
		return -EINVAL;
	lo = floor_div(a, CHUNK) * CHUNK;
	hi = (floor_div(b, CHUNK) + 1) * CHUNK;
	if (z->lo < z->hi && lo >= z->lo && hi <= z->hi)
		return 0;
	ret = env_enter(z->name, &sv);
	if (ret)
		return ret;
	if (z->lo == z->hi) {
		z->off0 = libc_off(lo);
		ret = scan(lo, hi - 1, z->off0, &z->tr, &z->n, &z->cap);
		if (ret)
			goto out;
		z->lo = lo;
		z->hi = hi;
		goto out;
	}
	if (lo < z->lo) {
		struct tz_trans *v = NULL;
		size_t n = 0, cap = 0;
		int o = libc_off(lo);

		ret = scan(lo, z->lo, o, &v, &n, &cap);
		if (!ret && n + z->n > cap) {
			struct tz_trans *nv = realloc(v, (n + z->n) *
						      sizeof(*nv));

			if (nv)
				v = nv;
			else
				ret = -ENOMEM;
		}
		if (ret) {
			free(v);
			goto out;
		}
		if (z->n)
			memcpy(v + n, z->tr, z->n * sizeof(*v));
		free(z->tr);
		z->tr = v;
		z->n += n;
		z->cap = z->n > cap ? z->n : cap;
		z->off0 = o;
		z->lo = lo;
	}
	if (hi > z->hi) {
		int o = z->n ? z->tr[z->n - 1].off : z->off0;

		ret = scan(z->hi - 1, hi - 1, o, &z->tr, &z->n, &z->cap);
		if (ret)
			goto out;
		z->hi = hi;
	}
out:
	env_leave(&sv);
	return ret;
}

/* Index of the first transition after t. */
static size_t zone_next(const struct tz_zone *z, time_t t)
{
	size_t lo = 0, hi = z->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->tr[mid].at <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The offset at t, which the table must cover. */
static int zone_off(const struct tz_zone *z, time_t t)
{
	size_t i = zone_next(z, t);

	return i ? z->tr[i - 1].off : z->off0;
}

/* The zone's table, created on first use. Called with the lock held. */
static struct tz_zone *zone_get(const char *name)
{
	struct tz_zone *z;
	unsigned int i;

	if (!name)
		return NULL;
	for (i = 0; i < N_ZONES; i++)
		if (tz_zones[i].name[0] && !strcmp(tz_zones[i].name, name))
			return &tz_zones[i];
	if (tz_check(name))
		return NULL;
	for (i = 0; i < N_ZONES; i++)
		if (!tz_zones[i].name[0])
			break;
	if (i == N_ZONES)
		i = tz_evict++ % N_ZONES;
	z = &tz_zones[i];
	free(z->tr);
	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%s", name);
	return z;
}

void tz_cache_flush(void)
{
	unsigned int i;

	tz_lock();
	for (i = 0; i < N_ZONES; i++) {
		free(tz_zones[i].tr);
		memset(&tz_zones[i], 0, sizeof(tz_zones[i]));
	}
	tz_unlock();
}

/*
 * Wall time w (local seconds since the epoch) to UTC. Every offset
 * period near w gives a candidate w - off that counts if it falls inside
 * that period; the earliest wins (the first of a repeated hour). With no
 * candidate w lies in a gap, and the offset before the gap is used,
 * which moves it forward by the gap's length (02:30 -> 03:30).
 */
static int wall_to_utc(struct tz_zone *z, int64_t w, time_t *out)
{
	time_t a = w - MAX_OFF - DAY, b = w + MAX_OFF + DAY;
	time_t pa = a;
	size_t i;
	int o, prev_o = 0, ret;
	bool have_prev = false;

	ret = zone_cover(z, a, b);
	if (ret)
		return ret;
	o = zone_off(z, a);
	i = zone_next(z, a);
	for (;;) {
		time_t pb = i < z->n && z->tr[i].at < b ? z->tr[i].at : b;
		time_t u = w - o;

		if (u >= pa && u < pb) {
			*out = u;
			return 0;
		}
		if (u < pa && have_prev && w - prev_o >= pa) {
			*out = w - prev_o;
			return 0;
		}
		if (pb >= b)
			break;
		have_prev = true;
		prev_o = o;
		pa = pb;
		o = z->tr[i++].off;
	}
	return -EINVAL;
}

int tz_local_to_utc(const char *tz, int32_t days, int secs, time_t *out)
{
	struct tz_zone *z;
	int ret = -EINVAL;

	if (secs < 0 || secs > DAY)
		return -EINVAL;
	tz_lock();
	z = zone_get(tz);
	if (z)
		ret = wall_to_utc(z, (int64_t)days * DAY + secs, out);
	tz_unlock();
	return ret;
}

/* The offset at t in tz; called with the lock held. */
static int offset_at(const char *tz, time_t t, int *off)
{
	struct tz_zone *z = zone_get(tz);
	int ret;

	if (!z)
		return -EINVAL;
	ret = zone_cover(z, t, t);
	if (ret)
		return ret;
	*off = zone_off(z, t);
	return 0;
}

int tz_utc_to_local(const char *tz, time_t t, int32_t *days, int *secs,
		    int *wday, int *gmtoff)
{
	int64_t w, d;
	int off = 0, ret;

	tz_lock();
	ret = offset_at(tz, t, &off);
	tz_unlock();
	if (ret)
		return ret;
	w = (int64_t)t + off;
	d = floor_div(w, DAY);
	if (days)
		*days = (int32_t)d;
	if (secs)
		*secs = (int)(w - d * DAY);
	if (wday)
		*wday = wday_of(d);
	if (gmtoff)
		*gmtoff = off;
	return 0;
}

/* ---- schedules ---- */

static bool is_holiday(const struct schedule *s, int64_t day)
{
	size_t lo = 0, hi = s->n_holidays;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->holidays[mid] == day)
			return true;
		if (s->holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool has_weekly(const struct schedule *s)
{
	return s->days || s->n_hours;
}

/* Days omitted: every day. Hours omitted: the whole day. */
static uint8_t week_mask(const struct schedule *s)
{
	return s->days ? s->days & 0x7f : 0x7f;
}

static const struct hours_range whole_day = { .start = 0, .end = 24 * 60 };

static const struct hours_range *week_hours(const struct schedule *s,
					    size_t *n)
{
	*n = s->n_hours ? s->n_hours : 1;
	return s->n_hours ? s->hours : &whole_day;
}

static bool range_valid(const struct hours_range *r)
{
	return r->start >= 0 && r->start < 24 * 60 && r->end >= 0 &&
	       r->end <= 24 * 60 && r->start != r->end;
}

/* Whether ranges that start on this local date are in force. */
static bool day_starts_open(const struct schedule *s, int64_t day)
{
	return (week_mask(s) >> wday_of(day)) & 1 && !is_holiday(s, day);
}

static bool weekly_open(const struct schedule *s, int64_t day, int secs)
{
	const struct hours_range *h;
	size_t n, i;

	if (!has_weekly(s))
		return false;
	h = week_hours(s, &n);
	for (i = 0; i < n; i++) {
		int st = h[i].start * 60, en = h[i].end * 60;

		if (!range_valid(&h[i]))
			continue;
		if (en > st) {
			if (secs >= st && secs < en && day_starts_open(s, day))
				return true;
			continue;
		}
		if (secs >= st && day_starts_open(s, day))
			return true;
		if (secs < en && day_starts_open(s, day - 1))
			return true;
	}
	return false;
}

bool schedule_open(const struct model *m, const struct schedule *s, time_t t)
{
	const char *tz = m && m->timezone ? m->timezone : DEFAULT_TZ;
	int32_t day;
	int secs;
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < s->n_windows; i++)
		if (t >= s->windows[i].from && t < s->windows[i].to)
			return true;
	if (!has_weekly(s))
		return false;
	/* An unknown zone or an instant past 1900..2200 is closed. */
	if (tz_utc_to_local(tz, t, &day, &secs, NULL, NULL))
		return false;
	return weekly_open(s, day, secs);
}

int tz_parse_when(const char *tz, const char *s, time_t *out)
{
	int32_t days;
	int secs = 0;

	if (!s || !out || tz_check(tz))
		return -EINVAL;
	if (!strcmp(s, "now")) {
		*out = time(NULL);
		return 0;
	}
	if (date_parse(s, &days) && datetime_parse(s, &days, &secs))
		return -EINVAL;
	return tz_local_to_utc(tz, days, secs, out);
}

static void fmt_offset(char *buf, size_t n, int off)
{
	int a = off < 0 ? -off : off;

	snprintf(buf, n, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600 % 100,
		 a / 60 % 60);
}

void tz_format_rfc3339(const char *tz, time_t sec, int msec, char *buf,
		       size_t n)
{
	char ob[16];
	struct tm tm;
	time_t w;
	int off = 0;

	if (!buf || !n)
		return;
	tz_lock();
	if (offset_at(tz, sec, &off))
		off = 0;	/* an unusable zone or instant: plain UTC */
	tz_unlock();
	if (msec < 0 || msec > 999)
		msec = 0;
	w = sec + off;
	if (!gmtime_r(&w, &tm)) {
		snprintf(buf, n, "invalid");
		return;
	}
	fmt_offset(ob, sizeof(ob), off);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, msec, ob);
}

/* ---- the kernel form ---- */

static int spans_push(struct sched_spans *sp, time_t from, time_t to)
{
	if (from >= to)
		return 0;
	if (sp->n == sp->cap) {
		size_t nc = sp->cap ? sp->cap * 2 : 64;
		struct sched_span *nv = realloc(sp->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		sp->v = nv;
		sp->cap = nc;
	}
	sp->v[sp->n].from = from;
	sp->v[sp->n++].to = to;
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct sched_span *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return 0;
}

static void spans_merge(struct sched_spans *sp)
{
	size_t i, k = 0;

	if (!sp->n)
		return;
	qsort(sp->v, sp->n, sizeof(*sp->v), span_cmp);
	for (i = 1; i < sp->n; i++) {
		if (sp->v[i].from <= sp->v[k].to) {
			if (sp->v[i].to > sp->v[k].to)
				sp->v[k].to = sp->v[i].to;
		} else {
			sp->v[++k] = sp->v[i];
		}
	}
	sp->n = k + 1;
}

/*
 * The instants whose wall time lies in [ws, we), clipped to [from, to):
 * for each offset period [pa, pb) with offset o, [ws - o, we - o) inside
 * it. A skipped hour yields nothing, a repeated one two pieces.
 */
static int wall_span(struct tz_zone *z, int64_t ws, int64_t we, time_t from,
		     time_t to, struct sched_spans *out)
{
	time_t a = ws - MAX_OFF, b = we + MAX_OFF, pa = a;
	size_t i = zone_next(z, a);
	int o = zone_off(z, a), ret;

	for (;;) {
		time_t pb = i < z->n && z->tr[i].at < b ? z->tr[i].at : b;
		time_t lo = ws - o, hi = we - o;

		if (lo < pa)
			lo = pa;
		if (hi > pb)
			hi = pb;
		if (lo < from)
			lo = from;
		if (hi > to)
			hi = to;
		ret = spans_push(out, lo, hi);
		if (ret)
			return ret;
		if (pb >= b)
			return 0;
		pa = pb;
		o = z->tr[i++].off;
	}
}

static int weekly_spans(struct tz_zone *z, const struct schedule *s,
			time_t from, time_t to, struct sched_spans *out)
{
	const struct hours_range *h;
	int64_t d, d0, d1;
	size_t n, i;
	int ret;

	ret = zone_cover(z, from - 2 * (MAX_OFF + DAY),
			 to + 2 * (MAX_OFF + DAY));
	if (ret)
		return ret;
	h = week_hours(s, &n);
	/* One day earlier than the first local date: its wrapping ranges
	 * may reach into the horizon. */
	d0 = floor_div(from - MAX_OFF, DAY) - 1;
	d1 = floor_div(to + MAX_OFF, DAY);
	for (d = d0; d <= d1; d++) {
		if (!day_starts_open(s, d))
			continue;
		for (i = 0; i < n; i++) {
			int64_t ws, we;

			if (!range_valid(&h[i]))
				continue;
			ws = d * DAY + h[i].start * 60;
			we = d * DAY + h[i].end * 60;
			if (h[i].end < h[i].start)
				we += DAY;
			ret = wall_span(z, ws, we, from, to, out);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int sched_spans(const char *tz, const struct schedule *s, time_t from,
		time_t to, struct sched_spans *out)
{
	struct sched_spans sp = { 0 };
	struct tz_zone *z;
	size_t i;
	int ret = -EINVAL;

	if (!s || !out || from >= to || to - from > SCHED_MAX_HORIZON)
		return -EINVAL;
	if (has_weekly(s)) {
		tz_lock();
		z = zone_get(tz);
		if (z)
			ret = weekly_spans(z, s, from, to, &sp);
		tz_unlock();
		if (ret)
			goto out;
	} else if (tz_check(tz)) {
		goto out;
	}
	for (i = 0; i < s->n_windows; i++) {
		ret = spans_push(&sp, s->windows[i].from, s->windows[i].to);
		if (ret)
			goto out;
	}
	spans_merge(&sp);
	sched_spans_free(out);
	*out = sp;
	sp.v = NULL;
	ret = 0;
out:
	sched_spans_free(&sp);
	return ret;
}

void sched_spans_free(struct sched_spans *sp)
{
	if (!sp)
		return;
	free(sp->v);
	sp->v = NULL;
	sp->n = sp->cap = 0;
}

bool sched_spans_contain(const struct sched_spans *sp, time_t t)
{
	size_t lo = 0, hi;

	if (!sp)
		return false;
	hi = sp->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sp->v[mid].to <= t)
			lo = mid + 1;
		else if (sp->v[mid].from > t)
			hi = mid;
		else
			return true;
	}
	return false;
}

int sched_horizon(const char *tz, time_t at, int years, time_t *from,
		  time_t *to)
{
	int32_t day;
	int y, m, d, ret;

	if (years < 1 || !from || !to)
		return -EINVAL;
	ret = tz_utc_to_local(tz, at, &day, NULL, NULL, NULL);
	if (ret)
		return ret;
	civil_from_days(day, &y, &m, &d);
	ret = tz_local_to_utc(tz, days_from_civil(y, 1, 1), 0, from);
	if (ret)
		return ret;
	return tz_local_to_utc(tz, days_from_civil(y + years, 1, 1), 0, to);
}

/* "2026-11-23 Mon 08:30" (":SS" only when not zero). */
static void fmt_wall(char *buf, size_t n, int64_t w, bool date)
{
	static const char *const wd[] = {
		"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
	};
	int64_t d = floor_div(w, DAY);
	int s = (int)(w - d * DAY), y, m, dd;
	char hm[16];

	if (s % 60)
		snprintf(hm, sizeof(hm), "%02d:%02d:%02d", s / 3600,
			 s / 60 % 60, s % 60);
	else
		snprintf(hm, sizeof(hm), "%02d:%02d", s / 3600, s / 60 % 60);
	if (!date) {
		snprintf(buf, n, "%s", hm);
		return;
	}
	civil_from_days((int32_t)d, &y, &m, &dd);
	snprintf(buf, n, "%04d-%02d-%02d %s %s", y, m, dd, wd[wday_of(d)], hm);
}

void sched_span_format(const char *tz, const struct sched_span *sp,
		       char *buf, size_t n)
{
	char a[40], b[40], oa[16], ob[16];
	int offa = 0, offb = 0;
	int64_t wa, wb;

	if (!buf || !n)
		return;
	if (!sp) {
		snprintf(buf, n, "?");
		return;
	}
	tz_lock();
	if (offset_at(tz, sp->from, &offa) || offset_at(tz, sp->to, &offb))
		offa = offb = 0;
	tz_unlock();
	wa = (int64_t)sp->from + offa;
	wb = (int64_t)sp->to + offb;
	fmt_offset(oa, sizeof(oa), offa);
	fmt_offset(ob, sizeof(ob), offb);
	fmt_wall(a, sizeof(a), wa, true);
	if (offa == offb && floor_div(wa, DAY) == floor_div(wb, DAY)) {
		fmt_wall(b, sizeof(b), wb, false);
		snprintf(buf, n, "%s-%s %s", a, b, oa);
		return;
	}
	fmt_wall(b, sizeof(b), wb, true);
	snprintf(buf, n, "%s %s - %s %s", a, oa, b, ob);
}
