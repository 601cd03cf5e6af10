// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * alertsend: makes an alerter with the sinks given, emits N alerts and
 * waits (ticking) until they are delivered or the time is up, then frees
 * it (what is left is spooled). For tests/lab/test_syslog.sh.
 *
 * Usage: alertsend --state-dir DIR [--syslog URL|local] [--facility F]
 *                  [--jsonl PATH] [--exec PROG [ARG...] --]
 *                  [--log-socket PATH] [--count N] [--tag TAG]
 *                  [--wait SECONDS] [--queue N] [--interval MS]
 *
 * With --interval the alerts are emitted one every MS milliseconds (the
 * alerter ticking in between), a stream rather than a burst.
 *
 * Prints "emitted E delivered D spooled S failed F pending P" before the
 * final free (which spools what is pending).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "model.h"

#define MAX_SINKS 8

static void usage(void)
{
	fprintf(stderr, "usage: alertsend --state-dir DIR [--syslog URL|local]"
		" [--facility F] [--jsonl PATH] [--exec PROG [ARG...] --]"
		" [--log-socket PATH] [--count N] [--tag TAG] [--wait SECONDS]"
		" [--queue N] [--interval MS]\n");
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sink sinks[MAX_SINKS];
	struct alerter_conf conf = {
		.site = "lab-city",
		.host = "gw-lab",
		.timezone = "Asia/Tokyo",
		.dedup_seconds = 0,
	};
	struct alerter_stats st;
	const char *tag = "alert", *facility = NULL;
	struct alerter *al;
	size_t n = 0;
	long count = 3;
	double wait = 5, deadline, interval = 0;

	memset(sinks, 0, sizeof(sinks));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (i + 1 >= argc)
			usage();
		if (!strcmp(a, "--state-dir")) {
			conf.state_dir = argv[++i];
		} else if (!strcmp(a, "--syslog") && n < MAX_SINKS) {
			sinks[n].kind = SINK_SYSLOG;
			if (strcmp(argv[++i], "local"))
				sinks[n].server = argv[i];
			n++;
		} else if (!strcmp(a, "--facility")) {
			facility = argv[++i];
		} else if (!strcmp(a, "--jsonl") && n < MAX_SINKS) {
			sinks[n].kind = SINK_JSONL;
			sinks[n++].path = argv[++i];
		} else if (!strcmp(a, "--exec") && n < MAX_SINKS) {
			sinks[n].kind = SINK_EXEC;
			sinks[n].argv = &argv[i + 1];
			while (i + 1 < argc && strcmp(argv[i + 1], "--")) {
				i++;
				sinks[n].argc++;
			}
			if (i + 1 >= argc)
				usage();
			argv[++i] = NULL;	/* terminates the sink's argv */
			n++;
		} else if (!strcmp(a, "--log-socket")) {
			conf.log_socket = argv[++i];
		} else if (!strcmp(a, "--count")) {
			count = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(a, "--tag")) {
			tag = argv[++i];
		} else if (!strcmp(a, "--wait")) {
			wait = strtod(argv[++i], NULL);
		} else if (!strcmp(a, "--interval")) {
			interval = strtod(argv[++i], NULL) / 1000;
		} else if (!strcmp(a, "--queue")) {
			conf.queue_max = (size_t)strtoul(argv[++i], NULL, 10);
		} else {
			usage();
		}
	}
	if (!conf.state_dir)
		usage();
	for (size_t i = 0; i < n; i++)
		if (sinks[i].kind == SINK_SYSLOG)
			sinks[i].facility = (char *)facility;
	conf.sinks = sinks;
	conf.n_sinks = n;
	al = alerter_new(&conf);
	if (!al) {
		fprintf(stderr, "alertsend: %s\n", strerror(errno));
		return 3;
	}
	for (long i = 1; i <= count; i++) {
		struct alert a = {
			.type = ALERT_CROSS_ZONE,
			.src_tier = TIER_LGWAN,
			.dst_tier = TIER_INTERNET,
			.proto = 6,
			.has_addrs = true,
			.sport = 40000,
			.dport = (uint16_t)(1000 + i),
			.count = 1,
		};

		clock_gettime(CLOCK_REALTIME, &a.time);
		snprintf(a.src_zone, sizeof(a.src_zone), "lgwan");
		snprintf(a.dst_zone, sizeof(a.dst_zone), "internet");
		addr_parse("10.2.0.5", &a.src);
		addr_parse("203.0.113.7", &a.dst);
		snprintf(a.message, sizeof(a.message), "%s #%ld", tag, i);
		alerter_emit(al, &a);
		for (deadline = now_s() + interval; now_s() < deadline;) {
			struct pollfd pfd = { .fd = alerter_fd(al),
					      .events = POLLIN };

			alerter_tick(al, time(NULL));
			poll(&pfd, 1, 10);
		}
	}
	deadline = now_s() + wait;
	for (;;) {
		struct pollfd pfd = { .fd = alerter_fd(al), .events = POLLIN };

		alerter_tick(al, time(NULL));
		alerter_stats(al, &st);
		if (!st.pending || now_s() >= deadline)
			break;
		poll(&pfd, 1, 100);
	}
	printf("emitted %llu delivered %llu spooled %llu failed %llu "
	       "pending %llu\n", (unsigned long long)st.emitted,
	       (unsigned long long)st.delivered,
	       (unsigned long long)st.spooled, (unsigned long long)st.failed,
	       (unsigned long long)st.pending);
	fflush(stdout);
	alerter_free(al);
	return 0;
}
