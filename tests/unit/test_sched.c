// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "parse.h"
#include "sched.h"

#define H 3600
#define M 60

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	return (time_t)days_from_civil(y, mo, d) * 86400 + h * H + mi * M + s;
}

static time_t local(const char *tz, int y, int mo, int d, int h, int mi)
{
	time_t t = 0;

	assert_int_equal(tz_local_to_utc(tz, days_from_civil(y, mo, d),
					 h * H + mi * M, &t), 0);
	return t;
}

/* ---- zones ---- */

static void test_tz_check(void **state)
{
	static const char *const good[] = {
		"Asia/Tokyo", "UTC", "America/New_York", "Europe/Berlin",
		"Etc/GMT+9", "America/Argentina/Buenos_Aires", "Japan",
		"America/Port-au-Prince",
	};
	static const char *const bad[] = {
		"", "/usr/share/zoneinfo/Asia/Tokyo", "../etc/passwd",
		"Asia/../Asia/Tokyo", "Asia/./Tokyo", "Asia/Tokyo ",
		"Asia/Nowhere", "Asia", "Asia/", "Asia//Tokyo", "zone.tab",
		"leapseconds", "right/Asia/Tokyo", "Asia/Tokyo\n",
		"Asia\\Tokyo", "asia tokyo", ":Asia/Tokyo",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (tz_check(good[i]))
			fail_msg("rejected %s", good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tz_check(bad[i]) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(tz_check(NULL), -EINVAL);
}

static void test_local_to_utc(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(local("Asia/Tokyo", 2026, 12, 1, 0, 0),
			 utc(2026, 11, 30, 15, 0, 0));
	assert_int_equal(local("UTC", 2026, 12, 1, 8, 30),
			 utc(2026, 12, 1, 8, 30, 0));
	/* Berlin, spring forward 2026-03-29 02:00 CET -> 03:00 CEST. */
	assert_int_equal(local("Europe/Berlin", 2026, 3, 29, 1, 59),
			 utc(2026, 3, 29, 0, 59, 0));
	assert_int_equal(local("Europe/Berlin", 2026, 3, 29, 2, 0),
			 utc(2026, 3, 29, 1, 0, 0));
	assert_int_equal(local("Europe/Berlin", 2026, 3, 29, 2, 30),
			 utc(2026, 3, 29, 1, 30, 0));	/* = 03:30 CEST */
	assert_int_equal(local("Europe/Berlin", 2026, 3, 29, 3, 0),
			 utc(2026, 3, 29, 1, 0, 0));
	/* Berlin, fall back 2026-10-25 03:00 CEST -> 02:00 CET. */
	assert_int_equal(local("Europe/Berlin", 2026, 10, 25, 2, 30),
			 utc(2026, 10, 25, 0, 30, 0));	/* first: CEST */
	assert_int_equal(local("Europe/Berlin", 2026, 10, 25, 3, 0),
			 utc(2026, 10, 25, 2, 0, 0));
	/* New York, 2026-03-08 02:00 EST -> 03:00 EDT. */
	assert_int_equal(local("America/New_York", 2026, 3, 8, 2, 30),
			 utc(2026, 3, 8, 7, 30, 0));	/* = 03:30 EDT */
	assert_int_equal(local("America/New_York", 2026, 3, 8, 3, 0),
			 utc(2026, 3, 8, 7, 0, 0));
	/* New York, 2026-11-01 02:00 EDT -> 01:00 EST. */
	assert_int_equal(local("America/New_York", 2026, 11, 1, 1, 30),
			 utc(2026, 11, 1, 5, 30, 0));	/* first: EDT */
	assert_int_equal(local("America/New_York", 2026, 11, 1, 2, 0),
			 utc(2026, 11, 1, 7, 0, 0));
	/* Samoa skipped 2011-12-30 entirely (-10 -> +14). */
	assert_int_equal(local("Pacific/Apia", 2011, 12, 30, 12, 0),
			 utc(2011, 12, 30, 22, 0, 0));
	assert_int_equal(tz_local_to_utc("Asia/Nowhere", 20000, 0, &t),
			 -EINVAL);
	assert_int_equal(tz_local_to_utc("UTC", 20000, -1, &t), -EINVAL);
	assert_int_equal(tz_local_to_utc("UTC", 200000, 0, &t), -EINVAL);
}

static void test_utc_to_local(void **state)
{
	int32_t days;
	int secs, wday, off;

	(void)state;
	assert_int_equal(tz_utc_to_local("Asia/Tokyo",
					 utc(2026, 11, 22, 23, 30, 0), &days,
					 &secs, &wday, &off), 0);
	assert_int_equal(days, days_from_civil(2026, 11, 23));
	assert_int_equal(secs, 8 * H + 30 * M);
	assert_int_equal(wday, 0);	/* Monday */
	assert_int_equal(off, 9 * H);

	assert_int_equal(tz_utc_to_local("America/New_York",
					 utc(2026, 11, 1, 5, 30, 0), &days,
					 &secs, &wday, &off), 0);
	assert_int_equal(secs, 1 * H + 30 * M);
	assert_int_equal(off, -4 * H);
	assert_int_equal(wday, 6);	/* Sunday */
	assert_int_equal(tz_utc_to_local("America/New_York",
					 utc(2026, 11, 1, 6, 30, 0), &days,
					 &secs, NULL, &off), 0);
	assert_int_equal(secs, 1 * H + 30 * M);
	assert_int_equal(off, -5 * H);
	/* Before 1970 and far ahead, both directions of the table. */
	assert_int_equal(tz_utc_to_local("Europe/Berlin",
					 utc(1960, 7, 1, 12, 0, 0), NULL,
					 &secs, NULL, &off), 0);
	assert_int_equal(off, 1 * H);
	assert_int_equal(tz_utc_to_local("Europe/Berlin",
					 utc(2150, 7, 1, 12, 0, 0), NULL,
					 &secs, NULL, &off), 0);
	assert_int_equal(off, 2 * H);
	assert_int_equal(tz_utc_to_local("Europe/Berlin",
					 utc(2300, 7, 1, 12, 0, 0), NULL,
					 &secs, NULL, &off), -EINVAL);
	assert_int_equal(tz_utc_to_local("../x", 0, NULL, NULL, NULL, NULL),
			 -EINVAL);
}

/* The process's own TZ must neither matter nor change. */
static void test_process_tz(void **state)
{
	time_t t;

	(void)state;
	setenv("TZ", "America/Los_Angeles", 1);
	tzset();
	t = local("Asia/Tokyo", 2026, 12, 1, 8, 30);
	assert_int_equal(t, utc(2026, 11, 30, 23, 30, 0));
	assert_string_equal(getenv("TZ"), "America/Los_Angeles");
	unsetenv("TZ");
	tzset();
	tz_cache_flush();
	t = local("Europe/Berlin", 2027, 7, 1, 8, 30);
	assert_int_equal(t, utc(2027, 7, 1, 6, 30, 0));
	assert_null(getenv("TZ"));
}

static void test_parse_when(void **state)
{
	time_t t, now;

	(void)state;
	assert_int_equal(tz_parse_when("Asia/Tokyo", "2026-12-01", &t), 0);
	assert_int_equal(t, utc(2026, 11, 30, 15, 0, 0));
	assert_int_equal(tz_parse_when("Asia/Tokyo", "2026-12-01T10:00", &t),
			 0);
	assert_int_equal(t, utc(2026, 12, 1, 1, 0, 0));
	assert_int_equal(tz_parse_when("Europe/Berlin", "2026-07-01T10:00:30",
				       &t), 0);
	assert_int_equal(t, utc(2026, 7, 1, 8, 0, 30));
	now = time(NULL);
	assert_int_equal(tz_parse_when("Asia/Tokyo", "now", &t), 0);
	assert_true(t >= now && t <= now + 5);
	assert_int_equal(tz_parse_when("Asia/Tokyo", "2026-12-01T10", &t),
			 -EINVAL);
	assert_int_equal(tz_parse_when("Asia/Tokyo", "2026-12-01 10:00", &t),
			 -EINVAL);
	assert_int_equal(tz_parse_when("Asia/Tokyo", "2026-02-30", &t),
			 -EINVAL);
	assert_int_equal(tz_parse_when("Asia/Tokyo", "", &t), -EINVAL);
	assert_int_equal(tz_parse_when("Nowhere", "2026-12-01", &t), -EINVAL);
}

static void test_rfc3339(void **state)
{
	char buf[64];

	(void)state;
	tz_format_rfc3339("Asia/Tokyo", utc(2026, 11, 24, 13, 3, 11), 482,
			  buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-24T22:03:11.482+09:00");
	tz_format_rfc3339("UTC", utc(2026, 11, 24, 13, 3, 11), 7, buf,
			  sizeof(buf));
	assert_string_equal(buf, "2026-11-24T13:03:11.007+00:00");
	tz_format_rfc3339("America/New_York", utc(2026, 11, 24, 3, 0, 0), 0,
			  buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-23T22:00:00.000-05:00");
	tz_format_rfc3339("America/St_Johns", utc(2026, 1, 1, 0, 0, 0), 0,
			  buf, sizeof(buf));
	assert_string_equal(buf, "2025-12-31T20:30:00.000-03:30");
	tz_format_rfc3339("Asia/Kolkata", utc(2026, 1, 1, 0, 0, 0), 999,
			  buf, sizeof(buf));
	assert_string_equal(buf, "2026-01-01T05:30:00.999+05:30");
	tz_format_rfc3339("Europe/Berlin", utc(2026, 3, 29, 1, 0, 0), 0,
			  buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-29T03:00:00.000+02:00");
	tz_format_rfc3339("Nowhere", utc(2026, 1, 1, 0, 0, 0), 0, buf,
			  sizeof(buf));
	assert_string_equal(buf, "2026-01-01T00:00:00.000+00:00");
	tz_format_rfc3339("UTC", 0, 0, buf, 11);
	assert_string_equal(buf, "1970-01-01");
}

/* ---- schedules ---- */

#define WEEKDAYS 0x1f		/* Monday .. Friday */
#define FRI (1 << 4)

static struct hours_range biz_hours[] = { { .start = 510, .end = 1095 } };
static struct hours_range night_hours[] = { { .start = 1320, .end = 120 } };

static struct model model_in(const char *tz)
{
	struct model m;

	memset(&m, 0, sizeof(m));
	m.timezone = (char *)tz;
	return m;
}

static void test_open_business(void **state)
{
	int32_t hol[] = { days_from_civil(2026, 11, 23) };	/* Mon */
	struct schedule s = {
		.days = WEEKDAYS, .hours = biz_hours, .n_hours = 1,
	};
	struct model m = model_in("Asia/Tokyo");
	const char *tz = "Asia/Tokyo";

	(void)state;
	/* Tue 2026-11-24 */
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 24, 8, 29)));
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 24, 8, 30)));
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 24, 18, 14)));
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 24, 18, 15)));
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 28, 12, 0)));
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 23, 12, 0)));
	s.holidays = hol;
	s.n_holidays = 1;
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 23, 12, 0)));
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 24, 12, 0)));
	/* The same weekly text in another zone is another set of instants. */
	m = model_in("Europe/Berlin");
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 24, 12, 0)));
	assert_true(schedule_open(&m, &s,
				  local("Europe/Berlin", 2026, 11, 24, 12, 0)));
	/* A model without a zone falls back to Asia/Tokyo. */
	m = model_in(NULL);
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 24, 12, 0)));
}

static void test_open_wrap(void **state)
{
	int32_t hol[] = { days_from_civil(2026, 11, 27) };	/* Fri */
	struct schedule s = {
		.days = FRI, .hours = night_hours, .n_hours = 1,
	};
	struct model m = model_in("Asia/Tokyo");
	const char *tz = "Asia/Tokyo";

	(void)state;
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 20, 22, 0)));
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 21, 1, 0)));
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 21, 2, 0)));
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 20, 1, 0)));
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 21, 22, 0)));
	s.days |= 1 << 3;	/* and Thursday */
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 20, 1, 0)));
	s.days = FRI;
	/* A Friday holiday closes its night, both sides of midnight. */
	s.holidays = hol;
	s.n_holidays = 1;
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 27, 23, 0)));
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 28, 1, 0)));
	/* A Saturday holiday does not close Friday's night. */
	hol[0] = days_from_civil(2026, 11, 21);
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 21, 1, 0)));
}

static void test_open_defaults_windows(void **state)
{
	struct window w[] = {
		{ .from = local("Asia/Tokyo", 2026, 12, 5, 22, 0),
		  .to = local("Asia/Tokyo", 2026, 12, 6, 2, 0) },
	};
	struct schedule s = { .hours = biz_hours, .n_hours = 1 };
	struct model m = model_in("Asia/Tokyo");
	const char *tz = "Asia/Tokyo";

	(void)state;
	/* Days omitted: every day. */
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 29, 9, 0)));
	/* Hours omitted: the whole day. */
	s.n_hours = 0;
	s.hours = NULL;
	s.days = 1 << 6;
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 29, 0, 0)));
	assert_true(schedule_open(&m, &s, local(tz, 2026, 11, 29, 23, 59)));
	assert_false(schedule_open(&m, &s, local(tz, 2026, 11, 30, 0, 0)));
	/* Windows only. */
	s.days = 0;
	s.windows = w;
	s.n_windows = 1;
	assert_false(schedule_open(&m, &s, local(tz, 2026, 12, 5, 21, 59)));
	assert_true(schedule_open(&m, &s, local(tz, 2026, 12, 5, 22, 0)));
	assert_true(schedule_open(&m, &s, local(tz, 2026, 12, 6, 1, 59)));
	assert_false(schedule_open(&m, &s, local(tz, 2026, 12, 6, 2, 0)));
	/* Windows and weekly: either opens. */
	s.hours = biz_hours;
	s.n_hours = 1;
	s.days = WEEKDAYS;
	assert_true(schedule_open(&m, &s, local(tz, 2026, 12, 5, 23, 0)));
	assert_true(schedule_open(&m, &s, local(tz, 2026, 12, 7, 9, 0)));
	assert_false(schedule_open(&m, &s, local(tz, 2026, 12, 6, 9, 0)));
	assert_false(schedule_open(&m, NULL, 0));
}

/* ---- the kernel form ---- */

static void expect_span(const struct sched_spans *sp, size_t i, time_t from,
			time_t to)
{
	assert_true(i < sp->n);
	if (sp->v[i].from != from || sp->v[i].to != to)
		fail_msg("span %zu: [%lld, %lld), expected [%lld, %lld)", i,
			 (long long)sp->v[i].from, (long long)sp->v[i].to,
			 (long long)from, (long long)to);
}

/* Every instant of the horizon (each minute, and each second near the
 * given instants) must agree with schedule_open(); outside it the weekly
 * part is closed on purpose. */
static void check_agrees(const char *tz, const struct schedule *s,
			 time_t from, time_t to, const struct sched_spans *sp,
			 const time_t *near, size_t n_near)
{
	struct model m = model_in(tz);
	time_t t;
	size_t i;

	for (t = from; t < to; t += 60)
		if (schedule_open(&m, s, t) != sched_spans_contain(sp, t))
			fail_msg("%s: disagree at %lld", tz, (long long)t);
	for (i = 0; i < n_near; i++)
		for (t = near[i] - 7200; t < near[i] + 7200; t++)
			if (t >= from && t < to && schedule_open(&m, s, t) !=
			    sched_spans_contain(sp, t))
				fail_msg("%s: disagree at %lld", tz,
					 (long long)t);
	for (i = 0; i < sp->n; i++) {
		assert_true(sp->v[i].from < sp->v[i].to);
		if (i)
			assert_true(sp->v[i - 1].to < sp->v[i].from);
	}
}

static void test_spans_tokyo(void **state)
{
	int32_t hol[] = { days_from_civil(2026, 11, 23) };	/* Mon */
	struct schedule s = {
		.days = WEEKDAYS, .hours = biz_hours, .n_hours = 1,
	};
	struct sched_spans sp = { 0 };
	time_t from = utc(2026, 11, 22, 0, 0, 0);	/* Sun */
	time_t to = utc(2026, 11, 29, 0, 0, 0);
	char buf[96];

	(void)state;
	/* JST Mon-Fri 08:30-18:15 is UTC Sun-Thu 23:30 .. Mon-Fri 09:15. */
	assert_int_equal(sched_spans("Asia/Tokyo", &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 5);
	expect_span(&sp, 0, utc(2026, 11, 22, 23, 30, 0),
		    utc(2026, 11, 23, 9, 15, 0));
	expect_span(&sp, 4, utc(2026, 11, 26, 23, 30, 0),
		    utc(2026, 11, 27, 9, 15, 0));
	sched_span_format("Asia/Tokyo", &sp.v[0], buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-23 Mon 08:30-18:15 +09:00");
	check_agrees("Asia/Tokyo", &s, from, to, &sp, NULL, 0);

	/* A holiday drops its day; the horizon clips. */
	s.holidays = hol;
	s.n_holidays = 1;
	assert_int_equal(sched_spans("Asia/Tokyo", &s, from,
				     utc(2026, 11, 25, 0, 0, 0), &sp), 0);
	assert_int_equal(sp.n, 2);
	expect_span(&sp, 0, utc(2026, 11, 23, 23, 30, 0),
		    utc(2026, 11, 24, 9, 15, 0));
	expect_span(&sp, 1, utc(2026, 11, 24, 23, 30, 0),
		    utc(2026, 11, 25, 0, 0, 0));

	/* A Friday night: the part after midnight belongs to Friday. */
	s.days = FRI;
	s.hours = night_hours;
	s.n_holidays = 0;
	assert_int_equal(sched_spans("Asia/Tokyo", &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 1);
	expect_span(&sp, 0, utc(2026, 11, 27, 13, 0, 0),
		    utc(2026, 11, 27, 17, 0, 0));
	sched_span_format("Asia/Tokyo", &sp.v[0], buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-27 Fri 22:00 +09:00 - "
			    "2026-11-28 Sat 02:00 +09:00");
	check_agrees("Asia/Tokyo", &s, from, to, &sp, NULL, 0);
	sched_spans_free(&sp);
	sched_spans_free(&sp);
	sched_spans_free(NULL);
}

static void test_spans_berlin_dst(void **state)
{
	static struct hours_range early[] = { { .start = 60, .end = 240 } };
	static struct hours_range gap[] = { { .start = 150, .end = 165 } };
	struct schedule s = { .hours = early, .n_hours = 1 };
	struct sched_spans sp = { 0 };
	const char *tz = "Europe/Berlin";
	time_t spring = utc(2026, 3, 29, 1, 0, 0);
	time_t autumn = utc(2026, 10, 25, 1, 0, 0);
	time_t near[] = { spring, autumn };
	time_t from, to;
	char buf[96];
	size_t i;

	(void)state;
	/* Every day 01:00-04:00 local, across the spring change. */
	from = utc(2026, 3, 28, 0, 0, 0);
	to = utc(2026, 3, 30, 12, 0, 0);
	assert_int_equal(sched_spans(tz, &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 3);
	expect_span(&sp, 0, utc(2026, 3, 28, 0, 0, 0),
		    utc(2026, 3, 28, 3, 0, 0));
	/* 01:00 CET .. 04:00 CEST: two hours long. */
	expect_span(&sp, 1, utc(2026, 3, 29, 0, 0, 0),
		    utc(2026, 3, 29, 2, 0, 0));
	expect_span(&sp, 2, utc(2026, 3, 29, 23, 0, 0),
		    utc(2026, 3, 30, 2, 0, 0));
	sched_span_format(tz, &sp.v[1], buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-29 Sun 01:00 +01:00 - "
			    "2026-03-29 Sun 04:00 +02:00");

	/* Across the autumn change: 01:00 CEST .. 04:00 CET, four hours. */
	from = utc(2026, 10, 24, 0, 0, 0);
	to = utc(2026, 10, 27, 0, 0, 0);
	assert_int_equal(sched_spans(tz, &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 3);
	expect_span(&sp, 0, utc(2026, 10, 24, 0, 0, 0),
		    utc(2026, 10, 24, 2, 0, 0));
	expect_span(&sp, 1, utc(2026, 10, 24, 23, 0, 0),
		    utc(2026, 10, 25, 3, 0, 0));
	expect_span(&sp, 2, utc(2026, 10, 26, 0, 0, 0),
		    utc(2026, 10, 26, 3, 0, 0));

	/* A range inside the skipped hour never opens that day; inside the
	 * repeated hour it opens twice. */
	s.hours = gap;
	from = utc(2026, 3, 28, 12, 0, 0);
	to = utc(2026, 3, 30, 12, 0, 0);
	assert_int_equal(sched_spans(tz, &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 1);
	expect_span(&sp, 0, utc(2026, 3, 30, 0, 30, 0),
		    utc(2026, 3, 30, 0, 45, 0));
	from = utc(2026, 10, 24, 12, 0, 0);
	to = utc(2026, 10, 25, 12, 0, 0);
	assert_int_equal(sched_spans(tz, &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 2);
	expect_span(&sp, 0, utc(2026, 10, 25, 0, 30, 0),
		    utc(2026, 10, 25, 0, 45, 0));
	expect_span(&sp, 1, utc(2026, 10, 25, 1, 30, 0),
		    utc(2026, 10, 25, 1, 45, 0));

	/* Business hours over the whole year agree with schedule_open(). */
	s.days = WEEKDAYS;
	s.hours = biz_hours;
	from = utc(2026, 1, 1, 0, 0, 0);
	to = utc(2027, 1, 1, 0, 0, 0);
	assert_int_equal(sched_spans(tz, &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 261);
	check_agrees(tz, &s, from, to, &sp, near, 2);
	for (i = 0; i < sp.n; i++)
		assert_int_equal(sp.v[i].to - sp.v[i].from,
				 9 * H + 45 * M);
	/* The UTC time of day moves with DST: 07:30Z in March before the
	 * change, 06:30Z after it. */
	assert_true(sched_spans_contain(&sp, utc(2026, 3, 27, 7, 30, 0)));
	assert_false(sched_spans_contain(&sp, utc(2026, 3, 27, 7, 29, 59)));
	assert_true(sched_spans_contain(&sp, utc(2026, 3, 30, 6, 30, 0)));
	assert_false(sched_spans_contain(&sp, utc(2026, 3, 30, 6, 29, 59)));
	sched_spans_free(&sp);
}

static void test_spans_new_york(void **state)
{
	static struct hours_range wrap[] = { { .start = 1380, .end = 180 } };
	struct schedule s = { .days = 1 << 5, .hours = wrap, .n_hours = 1 };
	struct sched_spans sp = { 0 };
	const char *tz = "America/New_York";
	time_t near[] = { utc(2026, 11, 1, 6, 0, 0), utc(2026, 3, 8, 7, 0, 0) };
	time_t from = utc(2026, 1, 1, 0, 0, 0), to = utc(2027, 1, 1, 0, 0, 0);

	(void)state;
	/* Saturday 23:00 .. Sunday 03:00, the night of both changes. */
	assert_int_equal(sched_spans(tz, &s, from, to, &sp), 0);
	check_agrees(tz, &s, from, to, &sp, near, 2);
	assert_true(sched_spans_contain(&sp, local(tz, 2026, 10, 31, 23, 0)));
	/* 23:00 EDT .. 03:00 EST is five hours; 23:00 EST .. 03:00 EDT
	 * three. */
	assert_true(sched_spans_contain(&sp, utc(2026, 11, 1, 3, 0, 0)));
	assert_true(sched_spans_contain(&sp, utc(2026, 11, 1, 7, 59, 59)));
	assert_false(sched_spans_contain(&sp, utc(2026, 11, 1, 8, 0, 0)));
	assert_true(sched_spans_contain(&sp, utc(2026, 3, 8, 4, 0, 0)));
	assert_true(sched_spans_contain(&sp, utc(2026, 3, 8, 6, 59, 59)));
	assert_false(sched_spans_contain(&sp, utc(2026, 3, 8, 7, 0, 0)));
	sched_spans_free(&sp);
}

static void test_spans_windows_and_errors(void **state)
{
	struct window w[] = {
		{ .from = utc(2030, 1, 1, 0, 0, 0),
		  .to = utc(2030, 1, 2, 0, 0, 0) },
		{ .from = utc(2026, 11, 23, 9, 0, 0),
		  .to = utc(2026, 11, 23, 12, 0, 0) },
		{ .from = 100, .to = 100 },
	};
	struct schedule s = {
		.days = WEEKDAYS, .hours = biz_hours, .n_hours = 1,
		.windows = w, .n_windows = 3,
	};
	struct sched_spans sp = { 0 };
	time_t from = utc(2026, 11, 23, 0, 0, 0);
	time_t to = utc(2026, 11, 24, 0, 0, 0);

	(void)state;
	/* A window overlapping a weekly span merges with it; windows
	 * outside the horizon stay whole. */
	assert_int_equal(sched_spans("Asia/Tokyo", &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 3);
	expect_span(&sp, 0, from, utc(2026, 11, 23, 12, 0, 0));
	expect_span(&sp, 1, utc(2026, 11, 23, 23, 30, 0), to);
	expect_span(&sp, 2, w[0].from, w[0].to);

	/* Windows only need no zone table but a valid zone. */
	s.days = 0;
	s.n_hours = 0;
	assert_int_equal(sched_spans("UTC", &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 2);
	assert_int_equal(sched_spans("Nowhere", &s, from, to, &sp), -EINVAL);
	/* On failure `out` is left as it was. */
	assert_int_equal(sp.n, 2);
	assert_int_equal(sched_spans("UTC", &s, to, from, &sp), -EINVAL);
	assert_int_equal(sched_spans("UTC", &s, from,
				     from + SCHED_MAX_HORIZON + 1, &sp),
			 -EINVAL);
	assert_int_equal(sched_spans("UTC", NULL, from, to, &sp), -EINVAL);

	/* Nothing open at all: no spans, which is not an error. */
	s.n_windows = 0;
	assert_int_equal(sched_spans("UTC", &s, from, to, &sp), 0);
	assert_int_equal(sp.n, 0);
	assert_false(sched_spans_contain(&sp, from));
	sched_spans_free(&sp);
}

static void test_horizon(void **state)
{
	time_t from, to;

	(void)state;
	assert_int_equal(sched_horizon("Asia/Tokyo",
				       utc(2026, 12, 31, 15, 0, 0), 2, &from,
				       &to), 0);
	/* 2027-01-01 00:00 JST is already 2027 there. */
	assert_int_equal(from, utc(2026, 12, 31, 15, 0, 0));
	assert_int_equal(to, utc(2028, 12, 31, 15, 0, 0));
	assert_int_equal(sched_horizon("America/New_York",
				       utc(2026, 6, 1, 0, 0, 0), 1, &from,
				       &to), 0);
	assert_int_equal(from, utc(2026, 1, 1, 5, 0, 0));
	assert_int_equal(to, utc(2027, 1, 1, 5, 0, 0));
	assert_int_equal(sched_horizon("UTC", 0, 0, &from, &to), -EINVAL);
	assert_int_equal(sched_horizon("Nowhere", 0, 1, &from, &to),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tz_check),
		cmocka_unit_test(test_local_to_utc),
		cmocka_unit_test(test_utc_to_local),
		cmocka_unit_test(test_process_tz),
		cmocka_unit_test(test_parse_when),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_open_business),
		cmocka_unit_test(test_open_wrap),
		cmocka_unit_test(test_open_defaults_windows),
		cmocka_unit_test(test_spans_tokyo),
		cmocka_unit_test(test_spans_berlin_dst),
		cmocka_unit_test(test_spans_new_york),
		cmocka_unit_test(test_spans_windows_and_errors),
		cmocka_unit_test(test_horizon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
