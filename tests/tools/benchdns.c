// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * benchdns: DNS load for the DNS guard benchmark of `make bench` (P5).
 *
 * Usage: benchdns SERVER PORT NAMES SECONDS CONCURRENCY [TAG [MAX]]
 *
 * Asks SERVER:PORT over UDP for the A records of the names in the file
 * NAMES (one a line), in turn, for SECONDS, keeping CONCURRENCY queries
 * in flight (1: one at a time, for latency). A query unanswered after a
 * second counts as a timeout and is replaced. With TAG, every query
 * asks a name never asked before: TAG-N.NAME, N counting the queries
 * (the cache-miss path of a resolver). With MAX, it stops sending after
 * MAX queries, if SECONDS have not passed before. Prints one line:
 *
 *   sent N answered N errors N timeouts N seconds S qps Q median_us M p99_us P
 *
 * where answered counts NOERROR answers, errors every other rcode, qps
 * answered queries a second and the latencies are those of the
 * answered queries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 4096
#define TIMEOUT_NS 1000000000ll

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Query for name, type A, class IN, recursion desired; its length. */
static size_t encode(uint8_t *buf, size_t cap, uint16_t id, const char *name)
{
	size_t n = 12;
	const char *p = name;

	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01;		/* RD */
	buf[5] = 1;		/* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (!l || l > 63 || n + 1 + l + 5 > cap)
			return 0;
		buf[n++] = (uint8_t)l;
		memcpy(buf + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 1;		/* A */
	buf[n++] = 0;
	buf[n++] = 1;		/* IN */
	return n;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct slot {
	int64_t sent;		/* 0: free */
};

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sa4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *)&ss;
	static struct slot slots[65536];
	char **names = NULL, line[300], qname[400];
	const char *tag = argc >= 7 ? argv[6] : NULL;
	unsigned long long max = argc == 8 ? strtoull(argv[7], NULL, 10) : 0;
	size_t n_names = 0, cap_names = 0, next = 0;
	int64_t *lat = NULL, t0, end, last_sweep;
	size_t n_lat = 0, cap_lat = 0;
	unsigned long long sent = 0, answered = 0, errors = 0, timeouts = 0;
	unsigned conc, inflight = 0;
	uint16_t id = 1;
	double secs;
	FILE *f;
	int s, port;

	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: benchdns SERVER PORT NAMES SECONDS "
			"CONCURRENCY [TAG [MAX]]\n");
		return 2;
	}
	port = atoi(argv[2]);
	secs = atof(argv[4]);
	conc = (unsigned)atoi(argv[5]);
	if (conc < 1 || conc > MAX_INFLIGHT || port < 1 || port > 65535 ||
	    secs <= 0) {
		fprintf(stderr, "benchdns: bad arguments\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &sa4->sin_addr) == 1) {
		sa4->sin_family = AF_INET;
		sa4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, argv[1], &sa6->sin6_addr) == 1) {
		sa6->sin6_family = AF_INET6;
		sa6->sin6_port = htons((uint16_t)port);
	} else {
		fprintf(stderr, "benchdns: bad address %s\n", argv[1]);
		return 2;
	}
	f = fopen(argv[3], "re");
	if (!f) {
		perror("benchdns: names");
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (!line[0])
			continue;
		if (n_names == cap_names) {
			cap_names = cap_names ? 2 * cap_names : 256;
			names = realloc(names, cap_names * sizeof(*names));
			if (!names)
				return 1;
		}
		names[n_names] = strdup(line);
		if (!names[n_names++])
			return 1;
	}
	fclose(f);
	if (!n_names) {
		fprintf(stderr, "benchdns: no names\n");
		return 1;
	}
	s = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&ss, sizeof(ss))) {
		perror("benchdns: socket");
		return 1;
	}
	t0 = now_ns();
	end = t0 + (int64_t)(secs * 1e9);
	last_sweep = t0;
	for (;;) {
		int64_t t = now_ns();
		struct pollfd pf = { .fd = s, .events = POLLIN };
		uint8_t buf[4096];

		if (max && sent >= max && end > t)
			end = t;
		while (t < end && inflight < conc) {
			size_t len;

			while (slots[id].sent || !id)
				id++;
			if (tag)
				snprintf(qname, sizeof(qname), "%s-%llu.%s",
					 tag, sent, names[next]);
			len = encode(buf, sizeof(buf), id,
				     tag ? qname : names[next]);
			next = (next + 1) % n_names;
			if (!len || send(s, buf, len, 0) < 0) {
				errors++;
				break;
			}
			slots[id].sent = t;
			inflight++;
			sent++;
			id++;
		}
		if (t >= end && !inflight)
			break;
		if (t >= end + TIMEOUT_NS)
			break;
		if (poll(&pf, 1, 10) < 0 && errno != EINTR)
			break;
		for (;;) {
			ssize_t r = recv(s, buf, sizeof(buf), 0);
			uint16_t rid;
			int64_t at;

			if (r < 0)
				break;
			if (r < 12)
				continue;
			rid = (uint16_t)(buf[0] << 8 | buf[1]);
			if (!slots[rid].sent)
				continue;	/* late, already timed out */
			at = now_ns();
			if ((buf[3] & 0x0f) == 0) {
				answered++;
				if (n_lat == cap_lat) {
					cap_lat = cap_lat ? 2 * cap_lat : 65536;
					lat = realloc(lat,
						      cap_lat * sizeof(*lat));
					if (!lat)
						return 1;
				}
				lat[n_lat++] = at - slots[rid].sent;
			} else {
				errors++;
			}
			slots[rid].sent = 0;
			inflight--;
		}
		t = now_ns();
		if (t - last_sweep > TIMEOUT_NS / 10) {
			for (size_t i = 1; i < 65536; i++)
				if (slots[i].sent &&
				    t - slots[i].sent > TIMEOUT_NS) {
					slots[i].sent = 0;
					inflight--;
					timeouts++;
				}
			last_sweep = t;
		}
	}
	timeouts += inflight;
	secs = (double)(now_ns() - t0) / 1e9;
	if (secs > (double)(end - t0) / 1e9)
		secs = (double)(end - t0) / 1e9;
	qsort(lat, n_lat, sizeof(*lat), cmp_i64);
	printf("sent %llu answered %llu errors %llu timeouts %llu seconds "
	       "%.3f qps %.0f median_us %.1f p99_us %.1f\n", sent, answered,
	       errors, timeouts, secs, (double)answered / secs,
	       n_lat ? (double)lat[n_lat / 2] / 1e3 : 0.0,
	       n_lat ? (double)lat[n_lat * 99 / 100] / 1e3 : 0.0);
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	free(lat);
	close(s);
	return 0;
}
