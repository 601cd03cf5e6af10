// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "check.h"
#include "parse.h"
#include "report.h"

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	return (time_t)days_from_civil(y, mo, d) * 86400 + h * 3600 +
	       mi * 60 + s;
}

/* One alert line as the monitor writes it (chain suffix and all). */
static void line(char *b, size_t n, const char *time, const char *type,
		 const char *sev, const char *sz, const char *dz,
		 const char *src, const char *flow, unsigned count)
{
	char fl[64];

	if (flow)
		snprintf(fl, sizeof(fl), "\"%s\"", flow);
	else
		snprintf(fl, sizeof(fl), "null");
	snprintf(b, n, "{\"time\":\"%s\",\"site\":\"example-city\",\"host\":"
		 "\"gw\",\"type\":\"%s\",\"severity\":\"%s\",\"src_zone\":"
		 "\"%s\",\"dst_zone\":\"%s\",\"proto\":\"tcp\",\"src\":\"%s\","
		 "\"sport\":40000,\"dst\":\"203.0.113.5\",\"dport\":443,"
		 "\"flow\":%s,\"count\":%u,\"message\":\"m \\\"q\\\" \\u3042\","
		 "\"seq\":1,\"prev\":\"%064d\",\"rule\":null}", time, type, sev,
		 sz, dz, src, fl, count, 0);
}

static struct report *mk(const char *tz, bool since, time_t s, bool until,
			 time_t u)
{
	struct report_conf c = { .tz = tz, .has_since = since, .since = s,
				 .has_until = until, .until = u };
	struct report *r = report_new(&c);

	assert_non_null(r);
	return r;
}

static void feed(struct report *r, const char *time, const char *type,
		 const char *sev)
{
	char b[1024];

	line(b, sizeof(b), time, type, sev, "juki", "internet", "10.1.0.5",
	     NULL, 1);
	assert_int_equal(report_line(r, "t", 1, b, strlen(b)), 0);
}

static void test_parse_time(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(report_parse_time("2026-11-24T22:03:11.482+09:00",
					   29, &t), 0);
	assert_int_equal(t, utc(2026, 11, 24, 13, 3, 11));
	assert_int_equal(report_parse_time("2026-11-24T13:03:11Z", 20, &t),
			 0);
	assert_int_equal(t, utc(2026, 11, 24, 13, 3, 11));
	assert_int_equal(report_parse_time("2026-03-08T01:30:00-05:00", 25,
					   &t), 0);
	assert_int_equal(t, utc(2026, 3, 8, 6, 30, 0));
	assert_int_equal(report_parse_time("2026-11-24 22:03:11+09:00", 25,
					   &t), 0);
	/* wrong shapes */
	assert_int_equal(report_parse_time("2026-11-24T22:03:11", 19, &t),
			 -EINVAL);
	assert_int_equal(report_parse_time("2026-13-24T22:03:11Z", 20, &t),
			 -EINVAL);
	assert_int_equal(report_parse_time("2026-11-24T22:03:11.Z", 21, &t),
			 -EINVAL);
	assert_int_equal(report_parse_time("2026-11-24T22:03:11+9:00", 24,
					   &t), -EINVAL);
	assert_int_equal(report_parse_time("2026-11-24T22:03:11+09:00x", 26,
					   &t), -EINVAL);
}

/* JST has no DST: the same instant lands in one cell whatever offset
 * the line carries. */
static void test_hour_of_week_jst(void **state)
{
	const struct report_counts *c;
	struct report *r = mk("Asia/Tokyo", false, 0, false, 0);

	(void)state;
	/* Tuesday 2026-11-24 22:03 JST, written in JST and in UTC */
	feed(r, "2026-11-24T22:03:11.482+09:00", "cross_zone", "critical");
	feed(r, "2026-11-24T13:03:11Z", "cross_zone", "critical");
	/* Monday 00:30 JST is Sunday 15:30 UTC */
	feed(r, "2026-11-22T15:30:00Z", "blocked", "high");
	/* Sunday 23:59 JST */
	feed(r, "2026-11-29T23:59:59.999+09:00", "off_hours", "medium");
	report_finish(r, &c);
	assert_int_equal(c->total, 4);
	assert_int_equal(c->how[1][22], 2);
	assert_int_equal(c->how[0][0], 1);
	assert_int_equal(c->how[6][23], 1);
	assert_int_equal(c->how[6][15], 0);	/* not the UTC cell */
	assert_int_equal(c->by_type[ALERT_CROSS_ZONE], 2);
	assert_int_equal(c->by_type[ALERT_BLOCKED], 1);
	assert_int_equal(c->by_type[ALERT_OFF_HOURS], 1);
	assert_int_equal(c->by_sev[REPORT_SEV_CRITICAL], 2);
	assert_int_equal(c->by_sev[REPORT_SEV_HIGH], 1);
	assert_int_equal(c->by_sev[REPORT_SEV_MEDIUM], 1);
	/* days are local: the 15:30Z record is Monday 23 November */
	assert_int_equal(c->n_days, 3);
	assert_int_equal(c->days[0].day, days_from_civil(2026, 11, 23));
	assert_int_equal(c->days[1].day, days_from_civil(2026, 11, 24));
	assert_int_equal(c->days[1].count, 2);
	report_free(r);
}

/* New York springs forward at 2026-03-08 07:00Z (02:00 EST -> 03:00
 * EDT) and falls back at 2026-11-01 06:00Z (02:00 EDT -> 01:00 EST). */
static void test_hour_of_week_dst(void **state)
{
	const struct report_counts *c;
	struct report *r = mk("America/New_York", false, 0, false, 0);

	(void)state;
	feed(r, "2026-03-08T06:30:00Z", "blocked", "high");	/* 01:30 EST */
	feed(r, "2026-03-08T07:30:00Z", "blocked", "high");	/* 03:30 EDT */
	feed(r, "2026-11-01T05:30:00Z", "blocked", "high");	/* 01:30 EDT */
	feed(r, "2026-11-01T06:30:00Z", "blocked", "high");	/* 01:30 EST */
	feed(r, "2026-07-01T12:00:00Z", "blocked", "high");	/* Wed 08:00 */
	report_finish(r, &c);
	assert_int_equal(c->how[6][1], 3);	/* Sunday 01:00 three times */
	assert_int_equal(c->how[6][2], 0);	/* skipped hour */
	assert_int_equal(c->how[6][3], 1);
	assert_int_equal(c->how[2][8], 1);
	assert_int_equal(c->how[2][12], 0);
	report_free(r);

	/* Berlin: 2026-03-29 01:00Z, 02:00 CET -> 03:00 CEST */
	r = mk("Europe/Berlin", false, 0, false, 0);
	feed(r, "2026-03-29T00:59:59Z", "drift", "medium");	/* 01:59 */
	feed(r, "2026-03-29T01:00:00Z", "drift", "medium");	/* 03:00 */
	report_finish(r, &c);
	assert_int_equal(c->how[6][1], 1);
	assert_int_equal(c->how[6][3], 1);
	report_free(r);
}

/* [since, until): the first instant in, the last one out. */
static void test_period(void **state)
{
	const struct report_counts *c;
	time_t s = utc(2026, 10, 31, 15, 0, 0);	/* 2026-11-01 00:00 JST */
	time_t u = utc(2026, 11, 30, 15, 0, 0);	/* 2026-12-01 00:00 JST */
	struct report *r = mk("Asia/Tokyo", true, s, true, u);

	(void)state;
	feed(r, "2026-10-31T23:59:59.999+09:00", "blocked", "high");
	feed(r, "2026-11-01T00:00:00.000+09:00", "blocked", "high");
	feed(r, "2026-11-30T23:59:59.999+09:00", "blocked", "high");
	feed(r, "2026-12-01T00:00:00.000+09:00", "blocked", "high");
	feed(r, "2026-10-31T15:00:00Z", "cross_zone", "critical");
	report_finish(r, &c);
	assert_int_equal(c->total, 3);
	assert_int_equal(c->outside, 2);
	assert_int_equal(c->by_type[ALERT_BLOCKED], 2);
	assert_int_equal(c->by_type[ALERT_CROSS_ZONE], 1);
	assert_int_equal(c->first, s);
	assert_int_equal(c->last, utc(2026, 11, 30, 14, 59, 59));
	report_free(r);
}

/* Invalid lines are counted with their place, never a crash. */
static void test_invalid(void **state)
{
	static const char *const bad[] = {
		"", "garbage", "{", "{}x", "[1,2]",
		"{\"time\":\"2026-11-24T22:03:11+09:00\"}",
		"{\"time\":\"yesterday\",\"type\":\"blocked\",\"severity\":"
		"\"high\"}",
		"{\"time\":\"2026-11-24T22:03:11+09:00\",\"type\":\"blocked\","
		"\"severity\":\"high\",\"count\":-3}",
		"{\"time\":\"2026-11-24T22:03:11+09:00\",\"type\":\"bl\\x\","
		"\"severity\":\"high\"}",
		"{\"time\":\"2026-11-24T22:03:11+09:00\",\"type\":\"blocked\","
		"\"severity\":\"high\",\"src\":\"a\\q\"}",
	};
	const struct report_counts *c;
	struct report *r = mk("UTC", false, 0, false, 0);
	char junk[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(report_line(r, "f", i + 1, bad[i],
					     strlen(bad[i])), -EINVAL);
	/* random bytes: whatever they are, counted one way or the other */
	srand(7);
	for (int k = 0; k < 2000; k++) {
		size_t n = (size_t)(rand() % (int)sizeof(junk));

		for (size_t i = 0; i < n; i++)
			junk[i] = (char)(rand() % 256);
		report_line(r, "f", 100, junk, n);
	}
	report_finish(r, &c);
	assert_int_equal(c->lines, 2000 + sizeof(bad) / sizeof(bad[0]));
	assert_true(c->invalid >= sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(c->n_bad, REPORT_MAX_BAD);
	assert_string_equal(c->bad[0].file, "f");
	assert_int_equal(c->bad[1].line, 2);
	report_free(r);
}

/* An unknown type is counted under its own name; a chain line is not
 * an alert; count sums into events. */
static void test_types_events(void **state)
{
	const struct report_counts *c;
	struct report *r = mk("UTC", false, 0, false, 0);
	const char *ch = "{\"chain\":\"continued\",\"previous_seq\":5,"
			 "\"previous_file\":\"a-1\",\"seq\":6,\"prev\":\"00\"}";
	char b[1024];

	(void)state;
	line(b, sizeof(b), "2026-01-01T00:00:00Z", "new_kind", "info", "a",
	     "b", "192.0.2.1", NULL, 5);
	assert_int_equal(report_line(r, "f", 1, b, strlen(b)), 0);
	assert_int_equal(report_line(r, "f", 2, ch, strlen(ch)), 0);
	line(b, sizeof(b), "2026-01-01T00:00:00Z", "blocked", "weird", "a",
	     "b", "192.0.2.1", NULL, 7);
	assert_int_equal(report_line(r, "f", 3, b, strlen(b)), 0);
	report_finish(r, &c);
	assert_int_equal(c->total, 2);
	assert_int_equal(c->events, 12);
	assert_int_equal(c->chain, 1);
	assert_int_equal(c->n_other_types, 1);
	assert_string_equal(c->other_types[0].name, "new_kind");
	assert_int_equal(c->by_sev[REPORT_SEV_INFO], 1);
	assert_int_equal(c->by_sev[REPORT_SEV_OTHER], 1);
	assert_int_equal(c->n_top, 1);
	assert_int_equal(c->top[0].count, 2);
	assert_true(c->sources_exact);
	report_free(r);
}

/* Maintenance: logged connections open a session, the flow's
 * maintenance_closed ends it. */
static void test_sessions(void **state)
{
	const struct report_counts *c;
	struct report *r = mk("Asia/Tokyo", false, 0, false, 0);
	char b[1024];

	(void)state;
	line(b, sizeof(b), "2026-11-25T10:00:00+09:00", "logged", "high",
	     "vendor", "lgwan", "198.51.100.7", "vendor-maint", 1);
	report_line(r, "f", 1, b, strlen(b));
	line(b, sizeof(b), "2026-11-25T10:20:00+09:00", "logged", "high",
	     "vendor", "lgwan", "198.51.100.7", "vendor-maint", 1);
	report_line(r, "f", 2, b, strlen(b));
	line(b, sizeof(b), "2026-11-25T12:00:00+09:00", "maintenance_closed",
	     "high", "vendor", "lgwan", "", "vendor-maint", 1);
	report_line(r, "f", 3, b, strlen(b));
	line(b, sizeof(b), "2026-11-26T09:00:00+09:00", "logged", "high",
	     "vendor", "lgwan", "198.51.100.7", "vendor-maint", 1);
	report_line(r, "f", 4, b, strlen(b));
	report_finish(r, &c);
	assert_int_equal(c->n_sessions, 2);
	assert_string_equal(c->sessions[0].flow, "vendor-maint");
	assert_int_equal(c->sessions[0].connections, 2);
	assert_int_equal(c->sessions[0].end - c->sessions[0].start, 7200);
	assert_int_equal(c->sessions[1].end, 0);	/* still open */
	assert_int_equal(c->n_closed, 1);
	assert_string_equal(c->closed[0].message, "m \"q\" \xe3\x81\x82");
	report_free(r);
}

/* Bounded tables: more distinct sources and pairs than they hold. */
static void test_bounds(void **state)
{
	const struct report_counts *c;
	struct report *r = mk("UTC", false, 0, false, 0);
	char b[1024], src[48], z[32];

	(void)state;
	/* one heavy source among many light ones */
	for (int i = 0; i < 3 * REPORT_MAX_SOURCES; i++) {
		snprintf(src, sizeof(src), "10.%d.%d.%d", i >> 16 & 255,
			 i >> 8 & 255, i & 255);
		snprintf(z, sizeof(z), "z%d", i);
		line(b, sizeof(b), "2026-01-01T00:00:00Z", "blocked", "high",
		     z, "y", src, NULL, 1);
		assert_int_equal(report_line(r, "f", 1, b, strlen(b)), 0);
		if (i % 3 == 0) {
			line(b, sizeof(b), "2026-01-01T00:00:00Z", "blocked",
			     "high", "a", "b", "192.0.2.99", NULL, 1);
			report_line(r, "f", 1, b, strlen(b));
		}
	}
	report_finish(r, &c);
	assert_false(c->sources_exact);
	assert_string_equal(c->top[0].addr, "192.0.2.99");
	/* counts are never low, and high by at most the error */
	assert_true(c->top[0].count >= REPORT_MAX_SOURCES);
	assert_true(c->top[0].count - c->top[0].error <= REPORT_MAX_SOURCES);
	assert_int_equal(c->n_pairs, REPORT_MAX_PAIRS);
	{
		uint64_t sum = c->pairs_folded;

		for (size_t i = 0; i < c->n_pairs; i++)
			sum += c->pairs[i].count;
		assert_int_equal(sum, c->total);
		assert_true(c->pairs_folded > 0);
	}
	report_free(r);
}

static char tmpl[] = "/tmp/sanso-report-XXXXXX";

static void write_file(const char *path, const char *data, bool gz)
{
	if (gz) {
		gzFile g = gzopen(path, "wb");

		assert_non_null(g);
		assert_true(gzwrite(g, data, (unsigned)strlen(data)) > 0);
		gzclose(g);
	} else {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(data, f);
		fclose(f);
	}
}

/* Rotated files: plain and gzip (found by content, not name), a cut
 * last line, a damaged stream, a line longer than any record. */
static void test_rotated_files(void **state)
{
	const struct report_counts *c;
	struct report *r = mk("Asia/Tokyo", false, 0, false, 0);
	struct report_file rf;
	struct report_start st;
	char dir[64], p[128], a[1024], b[1024], data[4096], *big;
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	assert_non_null(mkdtemp(dir));
	line(a, sizeof(a), "2026-11-24T22:03:11+09:00", "blocked", "high",
	     "lgwan", "internet", "10.2.0.5", NULL, 1);
	line(b, sizeof(b), "2026-11-25T09:00:00+09:00", "cross_zone",
	     "critical", "juki", "internet", "10.1.0.5", NULL, 1);
	snprintf(data, sizeof(data), "%s\n%s\n", a, b);
	snprintf(p, sizeof(p), "%s/alerts.jsonl-20261125", dir);
	write_file(p, data, true);	/* dateext: no .gz in its name */
	assert_int_equal(report_read(r, p, -1, &rf), 0);
	assert_true(rf.compressed);
	assert_int_equal(rf.lines, 2);
	assert_int_equal(report_file_start(p, &st), 0);
	assert_int_equal(st.first, utc(2026, 11, 24, 13, 3, 11));
	assert_false(st.continued);

	snprintf(data, sizeof(data), "{\"chain\":\"continued\","
		 "\"previous_seq\":2,\"previous_file\":"
		 "\"alerts.jsonl-20261125\",\"seq\":3,\"prev\":\"%064d\"}\n"
		 "%s\n%s", 7, a, b);	/* no newline at the end */
	snprintf(p, sizeof(p), "%s/alerts.jsonl", dir);
	write_file(p, data, false);
	assert_int_equal(report_file_start(p, &st), 0);
	assert_true(st.continued);
	assert_int_equal(st.prev_seq, 2);
	assert_string_equal(st.prev_file, "alerts.jsonl-20261125");
	assert_int_equal(strlen(st.prev_mac), 64);
	assert_int_equal(report_read(r, p, -1, &rf), 0);
	assert_false(rf.compressed);
	assert_int_equal(rf.lines, 3);
	assert_int_equal(rf.invalid, 1);

	/* a gzip stream cut in the middle */
	snprintf(p, sizeof(p), "%s/cut.gz", dir);
	{
		size_t n = strlen(a) + 1;
		char *d2 = malloc(n * 200 + 1);
		FILE *f;
		long sz;

		for (int i = 0; i < 200; i++) {
			memcpy(d2 + i * n, a, n - 1);
			d2[i * n + n - 1] = '\n';
		}
		d2[n * 200] = '\0';
		write_file(p, d2, true);
		free(d2);
		f = fopen(p, "r+");
		fseek(f, 0, SEEK_END);
		sz = ftell(f);
		assert_int_equal(ftruncate(fileno(f), sz / 2), 0);
		fclose(f);
	}
	assert_int_equal(report_read(r, p, -1, &rf), -EBADMSG);

	/* one line past the limit, then a good one */
	big = malloc(REPORT_LINE_MAX * 3 + 2048);
	memset(big, 'x', REPORT_LINE_MAX * 3);
	snprintf(big + REPORT_LINE_MAX * 3, 2048, "\n%s\n", a);
	snprintf(p, sizeof(p), "%s/big", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_true(write(fd, big, strlen(big)) > 0);
	close(fd);
	free(big);
	assert_int_equal(report_read(r, p, -1, &rf), 0);
	assert_int_equal(rf.lines, 2);
	assert_int_equal(rf.invalid, 1);
	assert_int_equal(report_read(r, "/nonexistent/x", -1, &rf), -ENOENT);

	report_finish(r, &c);
	assert_int_equal(c->by_type[ALERT_BLOCKED] +
			 c->by_type[ALERT_CROSS_ZONE], c->total);
	/* the second file's b was cut: invalid */
	assert_int_equal(c->by_type[ALERT_CROSS_ZONE], 1);
	report_free(r);
	snprintf(data, sizeof(data), "rm -rf %s", dir);
	assert_int_equal(system(data), 0);
}

static void test_audit_line(void **state)
{
	const char *l = "{\"time\":\"2026-11-24T10:00:00.000+09:00\","
			"\"action\":\"apply\",\"deployment\":3,\"previous\":2,"
			"\"user\":\"root\",\"table\":\"sanso\",\"zone_file\":"
			"\"/etc/sanso/zones.yaml\",\"zone_sha256\":null,"
			"\"ruleset_sha256\":null,\"detail\":null,\"seq\":4,"
			"\"prev\":\"00\"}";
	struct report_deploy d;
	time_t t;

	(void)state;
	assert_int_equal(report_audit_line(l, strlen(l), &d, &t), 0);
	assert_string_equal(d.action, "apply");
	assert_int_equal(d.deployment, 3);
	assert_int_equal(d.previous, 2);
	assert_string_equal(d.user, "root");
	assert_int_equal(t, utc(2026, 11, 24, 1, 0, 0));
	assert_int_equal(report_audit_line("{}", 2, &d, &t), -EINVAL);
}

/* The JSON document has the keys the issue names, in one line. */
static void test_json(void **state)
{
	const struct report_counts *c;
	struct report *r = mk("Asia/Tokyo", false, 0, false, 0);
	struct report_doc doc = { .site = "example-city", .tz = "Asia/Tokyo" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	feed(r, "2026-11-24T22:03:11.482+09:00", "cross_zone", "critical");
	report_finish(r, &c);
	doc.c = c;
	f = open_memstream(&buf, &len);
	assert_int_equal(report_write_json(f, &doc), 0);
	fclose(f);
	assert_non_null(strstr(buf, "{\"site\":\"example-city\""));
	assert_non_null(strstr(buf, "\"period\":{\"since\":null,\"until\":"
			       "null}"));
	assert_non_null(strstr(buf, "\"by_type\":{\"cross_zone\":1,"));
	assert_non_null(strstr(buf, "\"by_pair\":[{\"src_zone\":\"juki\","
			       "\"dst_zone\":\"internet\",\"count\":1}]"));
	assert_non_null(strstr(buf, "\"by_hour_of_week\":[[0,"));
	assert_non_null(strstr(buf, "\"audit\":{\"verified\":false,"
			       "\"alerts_verified\":false"));
	assert_non_null(strstr(buf, "\"deployments\":[]"));
	assert_ptr_equal(strchr(buf, '\n'), buf + len - 1);
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	doc.ja = true;
	assert_int_equal(report_write_html(f, &doc), 0);
	fclose(f);
	assert_non_null(strstr(buf, "<html lang=\"ja\">"));
	assert_null(strstr(buf, "<script"));
	assert_null(strstr(buf, "http://"));
	assert_null(strstr(buf, "https://"));
	free(buf);
	report_free(r);
}

/* The report takes the guideline from check's table, not a copy. */
static void test_guideline_from_check(void **state)
{
	const struct check_code *c;
	char b[512], want[512];

	(void)state;
	for (c = check_codes; c->code; c++) {
		const char *r = report_guideline(c->code, true, b, sizeof(b));

		if (!c->point) {
			assert_null(r);
			continue;
		}
		snprintf(want, sizeof(want), "%s %s", c->point,
			 c->intent ? c->intent : c->what);
		assert_string_equal(r, want);
		r = report_guideline(c->code, false, b, sizeof(b));
		snprintf(want, sizeof(want), "%s: %s", c->point, c->what);
		assert_string_equal(r, want);
	}
	assert_non_null(report_guideline("T1", true, b, sizeof(b)));
	assert_non_null(strstr(b, "対策基準3(1)"));
	assert_null(report_guideline("W01", true, b, sizeof(b)));
	assert_null(report_guideline("T99", false, b, sizeof(b)));
	assert_null(report_guideline(NULL, false, b, sizeof(b)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guideline_from_check),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_hour_of_week_jst),
		cmocka_unit_test(test_hour_of_week_dst),
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_types_events),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_rotated_files),
		cmocka_unit_test(test_audit_line),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
