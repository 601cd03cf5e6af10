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
#include <unistd.h>

#include <cmocka.h>

#include "alert.h"
#include "parse.h"

/* 2026-11-24T13:03:11.482Z, 22:03:11.482 in Tokyo */
static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static struct timespec t0(void)
{
	struct timespec ts = {
		.tv_sec = (time_t)days_from_civil(2026, 11, 24) * 86400 +
			  13 * 3600 + 3 * 60 + 11,
		.tv_nsec = 482000000,
	};

	return ts;
}

static struct alert sample(void)
{
	struct alert a = {
		.type = ALERT_CROSS_ZONE,
		.time = t0(),
		.src_zone = "lgwan-office",
		.dst_zone = "inet",
		.src_tier = TIER_LGWAN,
		.dst_tier = TIER_INTERNET,
		.proto = 6,
		.has_addrs = true,
		.sport = 51000,
		.dport = 443,
		.flow = "",
		.count = 1,
		.message = "no flow permits lgwan-office -> inet",
		.rule = "T2",
	};

	assert_int_equal(addr_parse("10.20.0.5", &a.src), 0);
	assert_int_equal(addr_parse("203.0.113.7", &a.dst), 0);
	return a;
}

static void format(const struct alert *a, char *buf, size_t n)
{
	int r = alert_format(a, "example-city", "gw1", "Asia/Tokyo", buf, n);

	assert_true(r > 0);
	assert_int_equal(strlen(buf), r);
}

/* ---- the record ---- */

static void test_format_full(void **state)
{
	struct alert a = sample();
	char buf[ALERT_LINE_MAX];

	(void)state;
	format(&a, buf, sizeof(buf));
	assert_string_equal(buf,
		"{\"time\":\"2026-11-24T22:03:11.482+09:00\","
		"\"site\":\"example-city\",\"host\":\"gw1\","
		"\"type\":\"cross_zone\",\"severity\":\"high\","
		"\"src_zone\":\"lgwan-office\",\"dst_zone\":\"inet\","
		"\"proto\":\"tcp\",\"src\":\"10.20.0.5\",\"sport\":51000,"
		"\"dst\":\"203.0.113.7\",\"dport\":443,\"flow\":null,"
		"\"count\":1,"
		"\"message\":\"no flow permits lgwan-office -> inet\","
		"\"rule\":\"T2\"}");
}

static void test_format_nulls(void **state)
{
	struct alert a = {
		.type = ALERT_DRIFT,
		.time = t0(),
		.src_tier = -1,
		.dst_tier = -1,
		.message = "table inet sanso changed",
	};
	char buf[ALERT_LINE_MAX];

	(void)state;
	format(&a, buf, sizeof(buf));
	assert_string_equal(buf,
		"{\"time\":\"2026-11-24T22:03:11.482+09:00\","
		"\"site\":\"example-city\",\"host\":\"gw1\","
		"\"type\":\"drift\",\"severity\":\"medium\","
		"\"src_zone\":null,\"dst_zone\":null,\"proto\":null,"
		"\"src\":null,\"sport\":null,\"dst\":null,\"dport\":null,"
		"\"flow\":null,\"count\":1,"
		"\"message\":\"table inet sanso changed\",\"rule\":null}");
}

static void test_format_protocols(void **state)
{
	struct alert a = sample();
	char buf[ALERT_LINE_MAX];

	(void)state;
	a.proto = 1;		/* icmp: no source port, type in dport */
	a.dport = 8;
	snprintf(a.flow, sizeof(a.flow), "ping-ok");
	a.count = 12;
	format(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"proto\":\"icmp\",\"src\":\"10.20.0.5\","
			       "\"sport\":null,\"dst\":\"203.0.113.7\","
			       "\"dport\":8,\"flow\":\"ping-ok\","
			       "\"count\":12,"));
	a.proto = 47;
	format(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"proto\":\"gre\",\"src\":\"10.20.0.5\","
			       "\"sport\":null,\"dst\":\"203.0.113.7\","
			       "\"dport\":null,"));
	a.proto = 253;
	format(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"proto\":\"253\","));
	a.proto = 17;
	assert_int_equal(addr_parse("2001:db8::1", &a.src), 0);
	assert_int_equal(addr_parse("fd00::53", &a.dst), 0);
	a.dport = 53;
	format(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"proto\":\"udp\",\"src\":\"2001:db8::1\","
			       "\"sport\":51000,\"dst\":\"fd00::53\","
			       "\"dport\":53,"));
}

static void test_format_time_zones(void **state)
{
	struct alert a = sample();
	char buf[ALERT_LINE_MAX];

	(void)state;
	a.time.tv_nsec = 7000000;
	assert_true(alert_format(&a, "s", "h", NULL, buf, sizeof(buf)) > 0);
	assert_true(starts(buf, "{\"time\":\"2026-11-24T13:03:11.007Z\"") ||
		    starts(buf, "{\"time\":\"2026-11-24T13:03:11.007+00:00\""));
	assert_true(alert_format(&a, "s", "h", "America/New_York", buf,
				 sizeof(buf)) > 0);
	assert_true(starts(buf, "{\"time\":\"2026-11-24T08:03:11.007-05:00\""));
}

/* U+FFFD as jansson writes it: in UTF-8, one for each byte that is not
 * part of a valid sequence. */
#define FFFD "\xef\xbf\xbd"

static void test_format_escaping(void **state)
{
	struct alert a = sample();
	char buf[ALERT_LINE_MAX];

	(void)state;
	snprintf(a.message, sizeof(a.message),
		 "quote\" back\\slash\nnew\ttab\x01" "ctl\x7f" "del "
		 "住民基本台帳 bad\xff\xfe trunc\xe4\xbd");
	format(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"message\":\"quote\\\" back\\\\slash"
			       "\\nnew\\ttab\\u0001ctl\\u007fdel "
			       "住民基本台帳 bad" FFFD FFFD " "
			       "trunc" FFFD FFFD "\","));
	/* Overlong encodings and surrogates are not UTF-8 either. */
	snprintf(a.message, sizeof(a.message), "\xc0\xaf\xed\xa0\x80");
	format(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"message\":\"" FFFD FFFD FFFD FFFD FFFD
			       "\","));
	/* A zone name that fills its field (no NUL) is still bounded. */
	memset(a.src_zone, 'z', sizeof(a.src_zone));
	format(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"src_zone\":\"zzzzzzzzzzzzzzzzzzzzzzzzz"
			       "zzzzzzz\","));
	assert_int_equal(alert_format(&a, "s", "h", NULL, buf, 40), -ENOSPC);
}

static void test_format_worst_case_fits(void **state)
{
	struct alert a = sample();
	char site[129], buf[ALERT_LINE_MAX];

	(void)state;
	memset(a.message, '\x01', sizeof(a.message) - 1);
	a.message[sizeof(a.message) - 1] = '\0';
	memset(a.flow, '"', sizeof(a.flow) - 1);
	memset(site, '\\', sizeof(site) - 1);
	site[128] = '\0';
	/* The alerter leaves 128 bytes for the chain's suffix. */
	assert_true(alert_format(&a, site, site, "Asia/Tokyo", buf,
				 ALERT_LINE_MAX - 128) > 0);
}

static void test_severity(void **state)
{
	struct alert a = { .src_tier = -1, .dst_tier = -1 };

	(void)state;
	assert_string_equal(alert_severity(&a), "medium");
	a.src_tier = TIER_MYNUMBER;
	assert_string_equal(alert_severity(&a), "critical");
	a.src_tier = TIER_INTERNET;
	a.dst_tier = TIER_MYNUMBER;
	assert_string_equal(alert_severity(&a), "critical");
	a.src_tier = TIER_LGWAN;
	assert_string_equal(alert_severity(&a), "critical");
	a.dst_tier = TIER_DMZ;
	assert_string_equal(alert_severity(&a), "high");
	a.src_tier = TIER_EXTERNAL;
	a.dst_tier = TIER_LGWAN;
	assert_string_equal(alert_severity(&a), "high");
	a.dst_tier = TIER_MGMT;
	assert_string_equal(alert_severity(&a), "medium");
}

static void test_type_names(void **state)
{
	static const char *const want[] = {
		"cross_zone", "off_hours", "blocked", "drift", "fqdn_stale",
		"fqdn_cap", "overrun", "config_error", "maintenance_closed",
		"suppressed", "logged", "peer_drift",
	};

	(void)state;
	for (int t = 0; t < ALERT_TYPE_COUNT; t++)
		assert_string_equal(alert_type_name(t), want[t]);
	assert_string_equal(alert_type_name(ALERT_TYPE_COUNT), "unknown");
}

/* ---- dedup, through a JSON lines sink ---- */

struct fx {
	char dir[64];
	char log[96];
	struct sink sink;
	struct alerter_conf conf;
	struct alerter *al;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/sanso-alert-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->log, sizeof(fx->log), "%s/alerts.jsonl", fx->dir);
	fx->sink.kind = SINK_JSONL;
	fx->sink.path = fx->log;
	fx->conf = (struct alerter_conf){
		.site = "example-city",
		.host = "gw1",
		.timezone = "Asia/Tokyo",
		.sinks = &fx->sink,
		.n_sinks = 1,
		.dedup_seconds = 60,
		.state_dir = fx->dir,
		.summary_seconds = 300,
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	alerter_free(fx->al);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd))
		return -1;
	free(fx);
	return 0;
}

static void start(struct fx *fx)
{
	fx->al = alerter_new(&fx->conf);
	assert_non_null(fx->al);
}

/* The lines of the log; returns how many. */
static int lines(struct fx *fx, char out[][ALERT_LINE_MAX + 1], int max)
{
	FILE *f = fopen(fx->log, "r");
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(out[n], ALERT_LINE_MAX + 1, f))
		n++;
	fclose(f);
	return n;
}

static void emit_at(struct fx *fx, struct alert *a, time_t sec)
{
	a->time.tv_sec = sec;
	assert_int_equal(alerter_emit(fx->al, a), 0);
}

static char (*buf_lines(void))[ALERT_LINE_MAX + 1]
{
	static char b[32][ALERT_LINE_MAX + 1];

	return b;
}

static void test_dedup_folds(void **state)
{
	struct fx *fx = *state;
	char (*l)[ALERT_LINE_MAX + 1] = buf_lines();
	struct alerter_stats st;
	struct alert a = sample(), b;
	time_t t = a.time.tv_sec;

	start(fx);
	emit_at(fx, &a, t);
	assert_int_equal(lines(fx, l, 32), 1);
	assert_non_null(strstr(l[0], "\"count\":1,"));
	assert_non_null(strstr(l[0], "\"seq\":1,"));
	/* Same key, other source port and message: folded. */
	for (int i = 1; i <= 4; i++) {
		a.sport = (uint16_t)(51000 + i);
		snprintf(a.message, sizeof(a.message), "repeat %d", i);
		emit_at(fx, &a, t + 10 * i);
	}
	/* Another destination port is another key. */
	b = sample();
	b.dport = 8443;
	emit_at(fx, &b, t + 5);
	assert_int_equal(lines(fx, l, 32), 2);
	alerter_tick(fx->al, t + 59);
	assert_int_equal(lines(fx, l, 32), 2);
	/* The window closes: one record with the count of the folded. */
	alerter_tick(fx->al, t + 60);
	assert_int_equal(lines(fx, l, 32), 3);
	assert_non_null(strstr(l[2], "\"sport\":51004,"));
	assert_non_null(strstr(l[2], "\"count\":4,\"message\":\"repeat 4\","
			       "\"rule\":\"T2\",\"seq\":3,"));
	alerter_stats(fx->al, &st);
	assert_int_equal(st.emitted, 3);
	assert_int_equal(st.folded, 4);
	assert_int_equal(st.delivered, 3);
	assert_int_equal(st.pending, 0);
	/* b's window had nothing folded: nothing more. */
	alerter_tick(fx->al, t + 200);
	assert_int_equal(lines(fx, l, 32), 3);
	/* A new window: reported at once again. */
	emit_at(fx, &a, t + 201);
	assert_int_equal(lines(fx, l, 32), 4);
	assert_non_null(strstr(l[3], "\"count\":1,"));
}

static void test_dedup_window_end_by_next_event(void **state)
{
	struct fx *fx = *state;
	char (*l)[ALERT_LINE_MAX + 1] = buf_lines();
	struct alert a = sample();
	time_t t = a.time.tv_sec;

	start(fx);
	emit_at(fx, &a, t);
	emit_at(fx, &a, t + 30);
	emit_at(fx, &a, t + 31);
	/* No tick in between: the next event after the window closes it
	 * first, then opens a new one. */
	emit_at(fx, &a, t + 61);
	assert_int_equal(lines(fx, l, 32), 3);
	assert_non_null(strstr(l[1], "\"count\":2,"));
	assert_non_null(strstr(l[2], "\"count\":1,"));
}

static void test_dedup_counts_folded_counts(void **state)
{
	struct fx *fx = *state;
	char (*l)[ALERT_LINE_MAX + 1] = buf_lines();
	struct alert a = sample();
	time_t t = a.time.tv_sec;

	start(fx);
	a.type = ALERT_BLOCKED;
	a.count = 5;		/* already aggregated by the producer */
	emit_at(fx, &a, t);
	a.count = 7;
	emit_at(fx, &a, t + 1);
	emit_at(fx, &a, t + 2);
	alerter_tick(fx->al, t + 60);
	assert_int_equal(lines(fx, l, 32), 2);
	assert_non_null(strstr(l[0], "\"count\":5,"));
	assert_non_null(strstr(l[1], "\"count\":14,"));
}

static void test_dedup_off(void **state)
{
	struct fx *fx = *state;
	char (*l)[ALERT_LINE_MAX + 1] = buf_lines();
	struct alert a = sample();

	fx->conf.dedup_seconds = 0;
	start(fx);
	for (int i = 0; i < 5; i++)
		emit_at(fx, &a, a.time.tv_sec);
	assert_int_equal(lines(fx, l, 32), 5);
}

static void test_dedup_bounded(void **state)
{
	struct fx *fx = *state;
	char (*l)[ALERT_LINE_MAX + 1] = buf_lines();
	struct alerter_stats st;
	struct alert a = sample();
	time_t t = a.time.tv_sec;

	fx->conf.dedup_max = 4;
	start(fx);
	for (int i = 0; i < 4; i++) {
		a.dport = (uint16_t)(1000 + i);
		emit_at(fx, &a, t + i);
		emit_at(fx, &a, t + i);	/* folded */
	}
	assert_int_equal(lines(fx, l, 32), 4);
	/* A fifth key: the oldest entry (dport 1000) is closed early, its
	 * fold reported before the new alert. */
	a.dport = 2000;
	emit_at(fx, &a, t + 10);
	assert_int_equal(lines(fx, l, 32), 6);
	assert_non_null(strstr(l[4], "\"dport\":1000,"));
	assert_non_null(strstr(l[4], "\"count\":1,"));
	assert_non_null(strstr(l[5], "\"dport\":2000,"));
	alerter_stats(fx->al, &st);
	assert_int_equal(st.evicted, 1);
	/* Many more keys than entries: never more than 4 kept, every
	 * event accounted for. */
	for (int i = 0; i < 1000; i++) {
		a.dport = (uint16_t)(3000 + i % 50);
		emit_at(fx, &a, t + 11);
	}
	alerter_tick(fx->al, t + 1000);
	alerter_stats(fx->al, &st);
	assert_int_equal(st.emitted + 0, st.delivered);
	{
		/* Sum of counts in the log == events emitted. */
		FILE *f = fopen(fx->log, "r");
		char line[ALERT_LINE_MAX + 1];
		unsigned long sum = 0;

		while (fgets(line, sizeof(line), f)) {
			char *c = strstr(line, "\"count\":");

			sum += strtoul(c + 8, NULL, 10);
		}
		fclose(f);
		assert_int_equal(sum, 8 + 1 + 1000);
	}
}

static void test_suppressed_summary(void **state)
{
	struct fx *fx = *state;
	char (*l)[ALERT_LINE_MAX + 1] = buf_lines();
	struct alert a = sample();
	time_t t = a.time.tv_sec;
	int n;

	fx->conf.summary_seconds = 100;
	start(fx);
	alerter_tick(fx->al, t);	/* the period starts */
	emit_at(fx, &a, t + 1);
	emit_at(fx, &a, t + 2);
	emit_at(fx, &a, t + 3);
	alerter_tick(fx->al, t + 99);
	n = lines(fx, l, 32);
	assert_int_equal(n, 2);	/* the first, and the fold at t+61 */
	alerter_tick(fx->al, t + 100);
	n = lines(fx, l, 32);
	assert_int_equal(n, 3);
	assert_non_null(strstr(l[2], "\"type\":\"suppressed\","
			       "\"severity\":\"medium\",\"src_zone\":null"));
	assert_non_null(strstr(l[2], "\"count\":2,\"message\":\"2 alerts "
			       "folded by dedup in the last 100 s; 0 dedup "
			       "entries closed early (table full)\""));
	/* Nothing folded in the next period: no summary. */
	alerter_tick(fx->al, t + 200);
	assert_int_equal(lines(fx, l, 32), 3);
}

static void test_free_flushes_folds(void **state)
{
	struct fx *fx = *state;
	char (*l)[ALERT_LINE_MAX + 1] = buf_lines();
	struct alert a = sample();

	start(fx);
	emit_at(fx, &a, a.time.tv_sec);
	emit_at(fx, &a, a.time.tv_sec + 1);
	alerter_free(fx->al);
	fx->al = NULL;
	/* the first, its fold, and the summary */
	assert_int_equal(lines(fx, l, 32), 3);
	assert_non_null(strstr(l[1], "\"count\":1,"));
	assert_non_null(strstr(l[2], "\"type\":\"suppressed\""));
}

static void test_chain_verifies(void **state)
{
	struct fx *fx = *state;
	struct audit_verdict v;
	struct diags d = { 0 };
	struct alert a = sample();

	start(fx);
	for (int i = 0; i < 10; i++) {
		a.dport = (uint16_t)i;
		emit_at(fx, &a, a.time.tv_sec);
	}
	alerter_free(fx->al);
	fx->al = NULL;
	/* A new alerter continues the file's chain. */
	start(fx);
	emit_at(fx, &a, a.time.tv_sec + 500);
	assert_int_equal(audit_verify(fx->dir, fx->log, &d, &v), 0);
	assert_false(v.tampered);
	assert_int_equal(v.lines, 11);
	assert_int_equal(v.last_seq, 11);
	assert_true(v.head_checked);
	diags_free(&d);
}

static void test_bad_input(void **state)
{
	struct fx *fx = *state;
	struct alert a = sample();

	start(fx);
	a.type = ALERT_TYPE_COUNT;
	assert_int_equal(alerter_emit(fx->al, &a), -EINVAL);
	assert_int_equal(alerter_emit(NULL, &a), -EINVAL);
	fx->conf.state_dir = NULL;
	assert_null(alerter_new(&fx->conf));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_full),
		cmocka_unit_test(test_format_nulls),
		cmocka_unit_test(test_format_protocols),
		cmocka_unit_test(test_format_time_zones),
		cmocka_unit_test(test_format_escaping),
		cmocka_unit_test(test_format_worst_case_fits),
		cmocka_unit_test(test_severity),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test_setup_teardown(test_dedup_folds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_dedup_window_end_by_next_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_counts_folded_counts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_off, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dedup_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_suppressed_summary, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_free_flushes_folds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chain_verifies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
