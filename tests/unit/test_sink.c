// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The sinks, against real files, sockets and child processes. The exec
 * handler is this program itself, run as "test_sink --child DIR CODES
 * [ARG...]": it records its stdin, argv, environment and open
 * descriptors in DIR and exits with the next of the comma-separated
 * CODES ("sleep" sleeps instead).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert.h"
#include "parse.h"
#include "sink.h"

extern char **environ;

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static char self[4096];

/* ---- the exec handler ---- */

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int child(int argc, char **argv)
{
	const char *dir = argv[2];
	char path[4200], in[8192], *codes, *tok, *save;
	int k, code = 0, leaked = 0;
	size_t n;
	FILE *f;

	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			leaked++;
	n = fread(in, 1, sizeof(in) - 1, stdin);
	in[n] = '\0';
	snprintf(path, sizeof(path), "%s/log", dir);
	k = count_lines(path);
	codes = strdup(argv[3]);
	tok = strtok_r(codes, ",", &save);
	for (int i = 0; tok && i < k; i++) {
		char *next = strtok_r(NULL, ",", &save);

		if (next)
			tok = next;
	}
	if (tok && !strcmp(tok, "sleep")) {
		snprintf(path, sizeof(path), "%s/pid", dir);
		f = fopen(path, "w");
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
		sleep(30);
		return 0;
	}
	code = tok ? atoi(tok) : 0;
	snprintf(path, sizeof(path), "%s/log", dir);
	f = fopen(path, "a");
	fprintf(f, "%d %s", code, in);
	if (n == 0 || in[n - 1] != '\n')
		fputc('\n', f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/env", dir);
	f = fopen(path, "w");
	for (char **e = environ; *e; e++)
		fprintf(f, "%s\n", *e);
	fclose(f);
	snprintf(path, sizeof(path), "%s/argv", dir);
	f = fopen(path, "w");
	for (int i = 0; i < argc; i++)
		fprintf(f, "%s\n", argv[i]);
	fprintf(f, "leaked %d\n", leaked);
	fclose(f);
	free(codes);
	return code;
}

/* ---- fixtures ---- */

struct fx {
	char dir[64];
	char path[128];
	struct sink sink[2];
	char *argv[8];
	struct alerter_conf conf;
	struct alerter *al;
	int lsock;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/sanso-sink-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	fx->lsock = -1;
	fx->conf = (struct alerter_conf){
		.site = "example-city",
		.host = "gw1",
		.timezone = "Asia/Tokyo",
		.sinks = fx->sink,
		.n_sinks = 1,
		.dedup_seconds = 0,
		.state_dir = fx->dir,
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	alerter_free(fx->al);
	if (fx->lsock >= 0)
		close(fx->lsock);
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

static void stop(struct fx *fx)
{
	alerter_free(fx->al);
	fx->al = NULL;
}

static void emit(struct fx *fx, int i)
{
	struct alert a = {
		.type = ALERT_OFF_HOURS,
		.time = { .tv_sec = (time_t)days_from_civil(2026, 11, 24) *
				    86400 + 13 * 3600 + 3 * 60 + 11,
			  .tv_nsec = 482000000 },
		.src_zone = "lgwan",
		.dst_zone = "mynumber",
		.src_tier = TIER_LGWAN,
		.dst_tier = TIER_LGWAN,
		.proto = 6,
		.has_addrs = true,
		.sport = 50000,
		.dport = (uint16_t)i,
		.flow = "renkei",
	};

	addr_parse("10.1.0.1", &a.src);
	addr_parse("10.3.0.2", &a.dst);
	snprintf(a.message, sizeof(a.message), "alert #%d", i);
	assert_int_equal(alerter_emit(fx->al, &a), 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ticks, waiting on alerter_fd(), until nothing is pending or the time
 * is up. Returns what is still pending. */
static uint64_t drain(struct fx *fx, double secs)
{
	double end = now_s() + secs;
	struct alerter_stats st;

	for (;;) {
		struct pollfd p = { alerter_fd(fx->al), POLLIN, 0 };

		alerter_tick(fx->al, time(NULL));
		alerter_stats(fx->al, &st);
		if (!st.pending || now_s() >= end)
			return st.pending;
		poll(&p, 1, 50);
	}
}

static struct alerter_stats stats(struct fx *fx)
{
	struct alerter_stats st;

	alerter_stats(fx->al, &st);
	return st;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	return b;
}

/* The messages "alert #N" in text, in order, as "1,2,3". */
static void order(const char *text, char *out, size_t n)
{
	const char *p = text;

	out[0] = '\0';
	while ((p = strstr(p, "\"message\":\"alert #"))) {
		int k = atoi(p + 18);
		size_t len = strlen(out);

		snprintf(out + len, n - len, "%s%d", len ? "," : "", k);
		p += 18;
	}
}

/* The one spool file of the fixture's sink, and its size. */
static long spool_size(struct fx *fx, char *name, size_t n)
{
	char dir[128], path[400];
	struct dirent *e;
	struct stat st;
	long size = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/spool", fx->dir);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		size = st.st_size;
		if (name)
			snprintf(name, n, "%s", e->d_name);
	}
	closedir(d);
	return size;
}

static void verify_intact(struct fx *fx, const char *path, uint64_t lines)
{
	struct audit_verdict v;
	struct diags d = { 0 };

	assert_int_equal(audit_verify(fx->dir, path, &d, &v), 0);
	for (size_t i = 0; i < d.n; i++)
		print_message("  %d [%s] %s\n", d.v[i].loc.line, d.v[i].code,
			      d.v[i].msg);
	assert_false(v.tampered);
	assert_int_equal(v.lines, lines);
	diags_free(&d);
}

/* Runs fn with stderr going to a file, and returns what it wrote. */
static char *capture_stderr(struct fx *fx, void (*fn)(struct fx *))
{
	char path[128];
	int fd, saved;

	snprintf(path, sizeof(path), "%s/stderr", fx->dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	fn(fx);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return slurp(path);
}

/* ---- pure parts ---- */

static void test_facility(void **state)
{
	(void)state;
	assert_int_equal(syslog_facility(NULL), 20);
	assert_int_equal(syslog_facility("local4"), 20);
	assert_int_equal(syslog_facility("local0"), 16);
	assert_int_equal(syslog_facility("local7"), 23);
	assert_int_equal(syslog_facility("kern"), 0);
	assert_int_equal(syslog_facility("daemon"), 3);
	assert_int_equal(syslog_facility("authpriv"), 10);
	assert_int_equal(syslog_facility("local8"), -1);
	assert_int_equal(syslog_facility("local"), -1);
	assert_int_equal(syslog_facility("nope"), -1);
}

static void test_syslog_format(void **state)
{
	static const char line[] =
		"{\"time\":\"2026-11-24T22:03:11.482+09:00\",\"site\":\"c\","
		"\"host\":\"gw1\",\"type\":\"cross_zone\","
		"\"severity\":\"critical\",\"message\":\"x\",\"seq\":1}";
	static const char sup[] =
		"{\"time\":\"2026-11-24T22:03:11.000+09:00\",\"site\":\"c\","
		"\"host\":\"gw1\",\"type\":\"suppressed\","
		"\"severity\":\"medium\"}";
	char buf[1024];
	int n;

	(void)state;
	n = syslog_format(line, strlen(line), 20, "gw1", 42, false, buf,
			  sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	/* local4 (20) * 8 + crit (2) */
	assert_true(starts(buf, "<162>1 2026-11-24T22:03:11.482+09:00 gw1 "
			     "sanso 42 cross_zone - {\"time\":"));
	assert_string_equal(buf + strlen(buf) - strlen(line), line);
	n = syslog_format(sup, strlen(sup), 3, "", 1, false, buf, sizeof(buf));
	buf[n] = '\0';
	/* daemon (3) * 8 + notice (5); no host: "-" */
	assert_true(starts(buf, "<29>1 2026-11-24T22:03:11.000+09:00 - sanso "
			     "1 suppressed - {"));
	assert_int_equal(syslog_format(line, strlen(line), 20, "gw1", 42,
				       false, buf, 40), -ENOSPC);
	/* the local socket: the form syslog(3) writes */
	n = syslog_format(line, strlen(line), 20, "gw1", 42, true, buf,
			  sizeof(buf));
	buf[n] = '\0';
	assert_true(starts(buf, "<162>sanso[42]: {\"time\":"));
}

/* ---- jsonl ---- */

static void test_jsonl_reopen_after_rename(void **state)
{
	struct fx *fx = *state;
	char old[160], *t;
	struct stat st;

	umask(022);
	snprintf(fx->path, sizeof(fx->path), "%s/alerts.jsonl", fx->dir);
	fx->sink[0] = (struct sink){ .kind = SINK_JSONL, .path = fx->path };
	start(fx);
	emit(fx, 1);
	emit(fx, 2);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* logrotate: rename, then SIGHUP */
	snprintf(old, sizeof(old), "%s.1", fx->path);
	assert_int_equal(rename(fx->path, old), 0);
	assert_int_equal(alerter_reconfigure(fx->al, &fx->conf), 0);
	emit(fx, 3);
	/* The new file carries the chain on from the renamed one, and
	 * its first line says where that went. */
	t = slurp(fx->path);
	assert_non_null(t);
	assert_true(!strncmp(t, "{\"chain\":\"continued\",\"previous_seq\":2,"
			     "\"previous_file\":\"alerts.jsonl.1\",\"seq\":3,",
			     strlen("{\"chain\":\"continued\",\"previous_seq\":2,"
				    "\"previous_file\":\"alerts.jsonl.1\",\"seq\":3,")));
	assert_non_null(strstr(t, "\"message\":\"alert #3\",\"rule\":null,\"seq\":4,"));
	free(t);
	t = slurp(old);
	assert_non_null(strstr(t, "\"message\":\"alert #2\",\"rule\":null,\"seq\":2,"));
	assert_null(strstr(t, "#3"));
	free(t);
	verify_intact(fx, fx->path, 2);
	verify_intact(fx, old, 2);
	/* A path that is a symlink is refused (O_NOFOLLOW): it spools. */
	assert_int_equal(unlink(fx->path), 0);
	assert_int_equal(symlink(old, fx->path), 0);
	assert_int_equal(alerter_reconfigure(fx->al, &fx->conf), 0);
	emit(fx, 4);
	assert_int_equal(stats(fx).pending, 1);
	t = slurp(old);
	assert_null(strstr(t, "#4"));
	free(t);
}

static void test_jsonl_fails_then_recovers(void **state)
{
	struct fx *fx = *state;
	char sub[96], *t, list[64];

	snprintf(sub, sizeof(sub), "%s/logs", fx->dir);
	snprintf(fx->path, sizeof(fx->path), "%s/alerts.jsonl", sub);
	fx->sink[0] = (struct sink){ .kind = SINK_JSONL, .path = fx->path };
	fx->conf.queue_max = 2;
	start(fx);
	for (int i = 1; i <= 6; i++)
		emit(fx, i);
	assert_int_equal(stats(fx).spooled, 4);
	assert_int_equal(stats(fx).pending, 6);
	assert_int_equal(stats(fx).failed, 0);
	assert_true(spool_size(fx, NULL, 0) > 33);
	/* The directory appears; the retry (after a 1 s backoff) writes
	 * everything, in order. */
	assert_int_equal(mkdir(sub, 0755), 0);
	emit(fx, 7);
	assert_int_equal(drain(fx, 3), 0);
	t = slurp(fx->path);
	order(t, list, sizeof(list));
	assert_string_equal(list, "1,2,3,4,5,6,7");
	assert_non_null(strstr(t, "\"message\":\"alert #7\",\"rule\":null,\"seq\":7,"));
	free(t);
	verify_intact(fx, fx->path, 7);
	assert_int_equal(stats(fx).delivered, 7);
	assert_int_equal(spool_size(fx, NULL, 0), 33);	/* header only */
}

static void spool_fails(struct fx *fx)
{
	for (int i = 1; i <= 3; i++)
		emit(fx, i);
}

static void test_spool_fails_loudly(void **state)
{
	struct fx *fx = *state;
	char spool[96], *err;
	int fd;

	snprintf(fx->path, sizeof(fx->path), "%s/none/alerts.jsonl", fx->dir);
	fx->sink[0] = (struct sink){ .kind = SINK_JSONL, .path = fx->path };
	fx->conf.queue_max = 1;
	/* the spool directory cannot be made */
	snprintf(spool, sizeof(spool), "%s/spool", fx->dir);
	fd = open(spool, O_WRONLY | O_CREAT, 0600);
	close(fd);
	/* a spool that cannot be read is said at once */
	err = capture_stderr(fx, start);
	assert_non_null(strstr(err, "Not a directory"));
	free(err);
	err = capture_stderr(fx, spool_fails);
	assert_int_equal(stats(fx).failed, 2);
	assert_int_equal(stats(fx).pending, 1);
	assert_non_null(strstr(err, "sanso: alert lost (jsonl "));
	assert_non_null(strstr(err, "\"message\":\"alert #2\""));
	assert_non_null(strstr(err, "\"message\":\"alert #3\""));
	free(err);
	/* at the end, the one in memory cannot be spooled either: also
	 * counted and shown, not dropped in silence */
	err = capture_stderr(fx, stop);
	assert_non_null(strstr(err, "\"message\":\"alert #1\""));
	free(err);
}

/* ---- exec ---- */

static void exec_conf(struct fx *fx, const char *codes)
{
	fx->argv[0] = self;
	fx->argv[1] = (char *)"--child";
	fx->argv[2] = fx->dir;
	fx->argv[3] = (char *)codes;
	fx->argv[4] = (char *)"a;b $(touch x) `id` > y";
	fx->argv[5] = NULL;
	fx->sink[0] = (struct sink){ .kind = SINK_EXEC, .argv = fx->argv,
				     .argc = 5 };
}

static void test_exec(void **state)
{
	struct fx *fx = *state;
	char path[128], *t, list[64];

	exec_conf(fx, "0");
	setenv("SANSO_TEST_SECRET", "leak", 1);
	start(fx);
	emit(fx, 1);
	emit(fx, 2);
	emit(fx, 3);
	assert_int_equal(drain(fx, 5), 0);
	snprintf(path, sizeof(path), "%s/log", fx->dir);
	t = slurp(path);
	order(t, list, sizeof(list));
	assert_string_equal(list, "1,2,3");
	/* the chained line, with its newline, and nothing else */
	assert_true(starts(t, "0 {\"time\":\"2026-11-24T22:03:11.482+09:00\""));
	assert_non_null(strstr(t, "\"message\":\"alert #1\",\"rule\":null,\"seq\":1,\"prev\":"
			       "\""));
	free(t);
	snprintf(path, sizeof(path), "%s/env", fx->dir);
	t = slurp(path);
	assert_string_equal(t, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
			    "LANG=C.UTF-8\n");
	free(t);
	snprintf(path, sizeof(path), "%s/argv", fx->dir);
	t = slurp(path);
	/* argv as given, no shell in between, and no descriptor leaked */
	assert_non_null(strstr(t, "\n--child\n"));
	assert_non_null(strstr(t, "\na;b $(touch x) `id` > y\nleaked 0\n"));
	free(t);
	assert_int_equal(stats(fx).delivered, 3);
	unsetenv("SANSO_TEST_SECRET");
}

/* The head of the jsonl log goes to the exec sink at the first tick
 * and at exit, and checks the log with --head. */
static void test_checkpoint_exec(void **state)
{
	struct fx *fx = *state;
	struct audit_chain want, got;
	struct audit_verdict v;
	struct diags d = { 0 };
	char path[128], *t, *p, *last = NULL;
	int n = 0;

	exec_conf(fx, "0");
	snprintf(fx->path, sizeof(fx->path), "%s/alerts.jsonl", fx->dir);
	fx->sink[1] = (struct sink){ .kind = SINK_JSONL, .path = fx->path };
	fx->conf.n_sinks = 2;
	start(fx);
	emit(fx, 1);
	emit(fx, 2);
	emit(fx, 3);
	assert_int_equal(drain(fx, 5), 0);
	emit(fx, 4);
	stop(fx);
	snprintf(path, sizeof(path), "%s/log", fx->dir);
	t = slurp(path);
	for (p = t; (p = strstr(p, "\"type\":\"checkpoint\",\"severity\":"
				"\"info\",\"message\":\"checkpoint: the alert "
				"log ends at seq ")); p++) {
		last = p;
		n++;
	}
	assert_int_equal(n, 2);
	assert_non_null(strstr(t, "\"head\":\"3:"));
	last = strstr(last, "\"head\":\"");
	assert_non_null(last);
	last += 8;
	*strchr(last, '"') = '\0';
	assert_int_equal(audit_head_parse(last, &got), 0);
	assert_int_equal(audit_log_head(fx->dir, fx->path, &want), 0);
	assert_int_equal(got.seq, 4);
	assert_memory_equal(got.mac, want.mac, AUDIT_MAC_LEN);
	assert_int_equal(audit_verify_head(fx->dir, fx->path, &got, &d, &v),
			 0);
	assert_false(v.tampered);
	diags_free(&d);
	/* not in the local log */
	free(t);
	t = slurp(fx->path);
	assert_null(strstr(t, "checkpoint"));
	free(t);
}

static void retry(struct fx *fx)
{
	for (int i = 0; i < 8 && stats(fx).pending; i++) {
		drain(fx, 0.3);
		/* SIGHUP resets the backoff: no waiting in the test */
		assert_int_equal(alerter_reconfigure(fx->al, &fx->conf), 0);
	}
}

static void test_exec_tempfail_and_reject(void **state)
{
	struct fx *fx = *state;
	char path[128], *t, list[64], *err;

	/* 75 (EX_TEMPFAIL) is retried; 1 three times is a rejection */
	exec_conf(fx, "75,0,1,1,1,0");
	start(fx);
	emit(fx, 1);
	emit(fx, 2);
	err = capture_stderr(fx, retry);
	assert_non_null(strstr(err, "sanso: alert lost (exec "));
	assert_non_null(strstr(err, "\"message\":\"alert #2\""));
	free(err);
	snprintf(path, sizeof(path), "%s/log", fx->dir);
	t = slurp(path);
	order(t, list, sizeof(list));
	assert_string_equal(list, "1,1,2,2,2");
	free(t);
	assert_int_equal(stats(fx).delivered, 1);
	assert_int_equal(stats(fx).failed, 1);
	assert_int_equal(stats(fx).pending, 0);
}

static void test_exec_timeout(void **state)
{
	struct fx *fx = *state;
	char path[128], *t;
	long pid;

	exec_conf(fx, "sleep");
	fx->conf.exec_timeout_ms = 200;
	start(fx);
	emit(fx, 1);
	drain(fx, 0.8);
	snprintf(path, sizeof(path), "%s/pid", fx->dir);
	t = slurp(path);
	assert_non_null(t);
	pid = atol(t);
	free(t);
	/* killed and reaped; the alert waits for the next try */
	assert_int_equal(kill((pid_t)pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(stats(fx).pending, 1);
	assert_int_equal(stats(fx).delivered, 0);
	stop(fx);
	/* what was not delivered is on disk for the next run */
	assert_true(spool_size(fx, NULL, 0) > 33);
}

/* ---- syslog ---- */

static uint16_t free_port(int type)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static int listen_on(int type, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int one = 1, fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Accepts and reads octet-counted frames until `want` arrived. The
 * messages go into out, one per line. */
static int tcp_collect(struct fx *fx, int lfd, int want, char *out, size_t n)
{
	static char buf[8 << 20];
	size_t have = 0, used = 0;
	double end = now_s() + 5;
	int got = 0, cfd = -1;

	out[0] = '\0';
	while (got < want && now_s() < end) {
		struct pollfd p = { alerter_fd(fx->al), POLLIN, 0 };
		ssize_t r;

		if (fx->al)
			alerter_tick(fx->al, time(NULL));
		if (cfd < 0)
			cfd = accept(lfd, NULL, NULL);
		r = 0;
		if (cfd >= 0) {
			r = recv(cfd, buf + have, sizeof(buf) - have,
				 MSG_DONTWAIT);
			if (r > 0)
				have += (size_t)r;
		}
		for (;;) {
			char *sp;
			long len;

			sp = memchr(buf + used, ' ', have - used);
			if (!sp)
				break;
			len = strtol(buf + used, NULL, 10);
			if ((size_t)(sp + 1 - buf) + (size_t)len > have)
				break;
			snprintf(out + strlen(out), n - strlen(out), "%.*s\n",
				 (int)len, sp + 1);
			used = (size_t)(sp + 1 - buf) + (size_t)len;
			got++;
		}
		if (r > 0)
			continue;	/* more may be coming at once */
		if (fx->al)
			poll(&p, 1, 20);
		else
			usleep(20000);
	}
	if (cfd >= 0)
		close(cfd);
	return got;
}

static void test_syslog_tcp_down_spool_up(void **state)
{
	struct fx *fx = *state;
	static char out[65536];
	char server[64], list[64];
	uint16_t port = free_port(SOCK_STREAM);
	int lfd;

	snprintf(server, sizeof(server), "tcp://127.0.0.1:%u", port);
	fx->sink[0] = (struct sink){ .kind = SINK_SYSLOG, .server = server };
	fx->conf.queue_max = 2;
	start(fx);
	/* nobody listens: refused, queued, then spooled */
	for (int i = 1; i <= 5; i++)
		emit(fx, i);
	assert_int_equal(stats(fx).pending, 5);
	assert_int_equal(stats(fx).spooled, 3);
	assert_int_equal(stats(fx).delivered, 0);
	/* the server comes up; the retry after the backoff sends all */
	lfd = listen_on(SOCK_STREAM, port);
	assert_int_equal(tcp_collect(fx, lfd, 5, out, sizeof(out)), 5);
	order(out, list, sizeof(list));
	assert_string_equal(list, "1,2,3,4,5");
	assert_true(starts(out, "<163>1 2026-11-24T22:03:11.482+09:00 gw1 "
			     "sanso "));
	assert_non_null(strstr(out, " off_hours - {\"time\":"));
	assert_non_null(strstr(out, "\"message\":\"alert #5\",\"rule\":null,\"seq\":5,"));
	assert_int_equal(drain(fx, 1), 0);
	assert_int_equal(stats(fx).delivered, 5);
	assert_int_equal(spool_size(fx, NULL, 0), 33);

	/* the server goes away: the next alert is not lost in a dead
	 * connection; at exit it is spooled */
	close(lfd);
	usleep(50000);
	emit(fx, 6);
	emit(fx, 7);
	assert_int_equal(stats(fx).delivered, 5);
	stop(fx);
	assert_true(spool_size(fx, NULL, 0) > 33);

	/* next run, server back: the spool goes first, then the new one */
	lfd = listen_on(SOCK_STREAM, port);
	start(fx);
	emit(fx, 8);
	assert_int_equal(tcp_collect(fx, lfd, 3, out, sizeof(out)), 3);
	order(out, list, sizeof(list));
	assert_string_equal(list, "6,7,8");
	/* the chain of the stream goes on across runs */
	assert_non_null(strstr(out, "\"message\":\"alert #8\",\"rule\":null,\"seq\":8,"));
	close(lfd);
}

/* A receiver that does not read: the socket fills, sends are partial,
 * lines wait in memory and on disk; when it reads, every frame arrives
 * whole and in order. */
static void test_syslog_tcp_slow_receiver(void **state)
{
	struct fx *fx = *state;
	static char out[8 << 20], want[65536], list[65536];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char server[64];
	uint16_t port = free_port(SOCK_STREAM);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), small = 2048;
	int n = 0;
	size_t len = 0;

	/* before listen(), so that the accepted socket has it */
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	snprintf(server, sizeof(server), "tcp://127.0.0.1:%u", port);
	fx->sink[0] = (struct sink){ .kind = SINK_SYSLOG, .server = server };
	fx->conf.queue_max = 16;
	start(fx);
	/* until the kernel's buffers (2 MB and more on loopback) are full
	 * and lines go to disk */
	while (n < 10000 && (!stats(fx).spooled || n % 100)) {
		emit(fx, ++n);
		len += (size_t)snprintf(want + len, sizeof(want) - len, "%s%d",
					n > 1 ? "," : "", n);
	}
	assert_true(stats(fx).spooled > 0);
	assert_true(stats(fx).delivered < (uint64_t)n);
	assert_int_equal(tcp_collect(fx, lfd, n, out, sizeof(out)), n);
	order(out, list, sizeof(list));
	assert_string_equal(list, want);
	assert_int_equal(drain(fx, 1), 0);
	assert_int_equal(stats(fx).delivered, n);
	assert_int_equal(stats(fx).failed, 0);
	close(lfd);
}

/*
 * Two processes with the same sinks on one state directory (the monitor
 * and `sanso resolve`): their lines interleave in one well-chained file,
 * the stream's seq never repeats, each spools apart, and what a process
 * that is gone left in its spool is taken over and delivered once.
 */
static void test_two_processes(void **state)
{
	struct fx *fx = *state;
	static char out[65536];
	char server[64], list[64], *t;
	uint16_t port = free_port(SOCK_STREAM);
	int lfd, status, seqs = 0;
	long spool;
	pid_t pid;

	snprintf(server, sizeof(server), "tcp://127.0.0.1:%u", port);
	snprintf(fx->path, sizeof(fx->path), "%s/alerts.jsonl", fx->dir);
	fx->sink[0] = (struct sink){ .kind = SINK_SYSLOG, .server = server };
	fx->sink[1] = (struct sink){ .kind = SINK_JSONL, .path = fx->path };
	fx->conf.n_sinks = 2;
	fx->conf.queue_max = 1;
	start(fx);
	emit(fx, 1);
	emit(fx, 2);	/* the queue holds one: the spool is open */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct alerter *b = alerter_new(&fx->conf);

		fx->al = b;
		emit(fx, 3);
		emit(fx, 4);
		alerter_free(b);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	emit(fx, 5);
	stop(fx);
	/* the file: every line, one chain */
	t = slurp(fx->path);
	order(t, list, sizeof(list));
	assert_string_equal(list, "1,2,3,4,5");
	free(t);
	verify_intact(fx, fx->path, 5);
	/* the receiver comes up; a new process delivers both spools */
	lfd = listen_on(SOCK_STREAM, port);
	start(fx);
	/* the five alerts and three checkpoints: each process's at its
	 * end, and the new one's at its first tick */
	assert_int_equal(tcp_collect(fx, lfd, 8, out, sizeof(out)), 8);
	order(out, list, sizeof(list));
	assert_string_equal(list, "1,2,5,3,4");
	for (int i = 1; i <= 5; i++) {
		char want[32];

		snprintf(want, sizeof(want), "\"seq\":%d,", i);
		seqs += strstr(out, want) != NULL;
	}
	assert_int_equal(seqs, 5);
	assert_int_equal(drain(fx, 1), 0);
	spool = spool_size(fx, NULL, 0);
	assert_int_equal(spool, 33);	/* one file left, empty */
	close(lfd);
}

static void test_syslog_udp(void **state)
{
	struct fx *fx = *state;
	char server[64], buf[8192];
	uint16_t port = free_port(SOCK_DGRAM);
	int fd = listen_on(SOCK_DGRAM, port);
	ssize_t n;

	snprintf(server, sizeof(server), "udp://127.0.0.1:%u", port);
	fx->sink[0] = (struct sink){ .kind = SINK_SYSLOG, .server = server,
				     .facility = (char *)"local0" };
	start(fx);
	emit(fx, 1);
	emit(fx, 2);
	assert_int_equal(drain(fx, 1), 0);
	for (int i = 1; i <= 2; i++) {
		char want[32];

		n = recv(fd, buf, sizeof(buf) - 1, 0);
		assert_true(n > 0);
		buf[n] = '\0';
		/* local0 (16) * 8 + err (3): one datagram, one message */
		assert_true(starts(buf, "<131>1 2026-11-24T22:03:11.482+09:00 "
				     "gw1 sanso "));
		snprintf(want, sizeof(want), "\"message\":\"alert #%d\"", i);
		assert_non_null(strstr(buf, want));
		assert_int_equal(buf[n - 1], '}');
	}
	close(fd);
}

static int unix_dgram(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	return fd;
}

static void test_syslog_local_restart(void **state)
{
	struct fx *fx = *state;
	char sock[128], buf[8192], list[64], all[8192] = "";
	int fd;
	ssize_t n;

	snprintf(sock, sizeof(sock), "%s/log.sock", fx->dir);
	fd = unix_dgram(sock);
	fx->sink[0] = (struct sink){ .kind = SINK_SYSLOG,
				     .facility = (char *)"daemon" };
	fx->conf.log_socket = sock;
	start(fx);
	emit(fx, 1);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	/* daemon (3) * 8 + err (3), in the local form */
	assert_true(starts(buf, "<27>sanso["));
	assert_non_null(strstr(buf, "]: {\"time\":"));
	/* syslogd restarts: the old socket is gone */
	close(fd);
	unlink(sock);
	emit(fx, 2);
	assert_int_equal(stats(fx).pending, 1);
	fd = unix_dgram(sock);
	assert_int_equal(drain(fx, 3), 0);
	emit(fx, 3);
	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		strcat(all, buf);
	}
	order(all, list, sizeof(list));
	assert_string_equal(list, "2,3");
	close(fd);
}

/* Both kinds at once: the jsonl file has its own chain, the stream its
 * own; each sink gets every alert. */
static void test_two_sinks(void **state)
{
	struct fx *fx = *state;
	char sock[128], buf[8192], *t;
	int fd;
	ssize_t n;

	snprintf(sock, sizeof(sock), "%s/log.sock", fx->dir);
	fd = unix_dgram(sock);
	snprintf(fx->path, sizeof(fx->path), "%s/alerts.jsonl", fx->dir);
	fx->sink[0] = (struct sink){ .kind = SINK_JSONL, .path = fx->path };
	fx->sink[1] = (struct sink){ .kind = SINK_SYSLOG };
	fx->conf.n_sinks = 2;
	fx->conf.log_socket = sock;
	start(fx);
	emit(fx, 1);
	emit(fx, 2);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\"message\":\"alert #1\",\"rule\":null,\"seq\":1,"));
	t = slurp(fx->path);
	assert_non_null(strstr(t, "\"message\":\"alert #2\",\"rule\":null,\"seq\":2,"));
	free(t);
	assert_int_equal(stats(fx).delivered, 4);
	close(fd);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facility),
		cmocka_unit_test(test_syslog_format),
		cmocka_unit_test_setup_teardown(test_jsonl_reopen_after_rename,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_jsonl_fails_then_recovers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_fails_loudly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_exec, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exec_tempfail_and_reject,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_syslog_tcp_down_spool_up,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_syslog_tcp_slow_receiver,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_syslog_udp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_syslog_local_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_sinks, setup,
						teardown),
	};
	ssize_t n;

	if (argc >= 4 && !strcmp(argv[1], "--child"))
		return child(argc, argv);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	/* A handler that dies early must not kill us by SIGPIPE, and we
	 * must not rely on SIGPIPE being ignored either: leave it be. */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
