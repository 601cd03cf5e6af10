// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * benchflood: traffic for `make bench` (tests/bench/run.sh) that iperf3
 * cannot make.
 *
 * Usage:
 *   benchflood sink ADDR PORT
 *       read UDP datagrams on ADDR:PORT and drop them, never answering,
 *       until SIGTERM; then print the count
 *   benchflood udp SRC DST PORT SECONDS [LEN]
 *       send LEN-byte (default 64) UDP datagrams from SRC to DST:PORT
 *       as fast as possible for SECONDS; print "sent N"
 *   benchflood conn SRC DST PORT SECONDS [RATE]
 *       open new TCP connections from SRC to DST:PORT, each closed at
 *       once, RATE a second (0, the default: as many as it can) for
 *       SECONDS; print "connections N failed M seconds S" (a connection
 *       is a completed handshake; the reasons of failures go to stderr)
 *   benchflood accept ADDR PORT
 *       accept TCP connections on ADDR:PORT and close them, until
 *       SIGTERM
 *
 * The UDP sender never gets an answer, so conntrack never sees a reply:
 * every datagram is in state new and goes through the whole forward
 * chain -- the per-packet cost of the ruleset, which an iperf3 stream
 * (whose packets are established after the first) does not show.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sockaddr_of(const char *addr, const char *port,
		       struct sockaddr_in *sa)
{
	char *end;
	long p = strtol(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (*end || p < 0 || p > 65535 ||
	    inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "benchflood: bad address %s:%s\n", addr, port);
		return -1;
	}
	sa->sin_port = htons((uint16_t)p);
	return 0;
}

static int sink(const char *addr, const char *port)
{
	struct sockaddr_in sa;
	char buf[2048];
	unsigned long long n = 0;
	int s, rcvbuf = 4 << 20;

	if (sockaddr_of(addr, port, &sa))
		return 2;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				sizeof(rcvbuf)) ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("benchflood: sink");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		ssize_t r = recv(s, buf, sizeof(buf), 0);

		if (r >= 0)
			n++;
		else if (errno != EINTR)
			break;
	}
	printf("received %llu\n", n);
	close(s);
	return 0;
}

#define BATCH 64

static int udp(const char *src, const char *dst, const char *port,
	       double secs, size_t len)
{
	struct sockaddr_in sa, da;
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	static char payload[1500];
	unsigned long long n = 0;
	double end;
	int s;

	if (sockaddr_of(src, "0", &sa) || sockaddr_of(dst, port, &da))
		return 2;
	if (len > sizeof(payload))
		len = sizeof(payload);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) ||
	    connect(s, (struct sockaddr *)&da, sizeof(da))) {
		perror("benchflood: udp");
		return 1;
	}
	iov.iov_base = payload;
	iov.iov_len = len;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	end = now() + secs;
	while (!stop && now() < end) {
		int r = sendmmsg(s, msgs, BATCH, 0);

		if (r > 0)
			n += (unsigned)r;
		else if (r < 0 && errno != ENOBUFS && errno != EINTR &&
			 errno != ECONNREFUSED && errno != EAGAIN)
			break;
	}
	printf("sent %llu\n", n);
	close(s);
	return 0;
}

static int acceptor(const char *addr, const char *port)
{
	struct sockaddr_in sa;
	int s, one = 1;

	if (sockaddr_of(addr, port, &sa))
		return 2;
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one)) ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 4096)) {
		perror("benchflood: accept");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int c = accept(s, NULL, NULL);

		if (c >= 0) {
			/* RST rather than FIN: no TIME_WAIT piles up here. */
			struct linger l = { 1, 0 };

			setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			close(c);
		} else if (errno != EINTR && errno != ECONNABORTED &&
			   errno != EMFILE) {
			break;
		}
	}
	close(s);
	return 0;
}

/* Up to this many connections in flight at once. */
#define INFLIGHT 64

static int conn(const char *src, const char *dst, const char *port,
		double secs, double rate)
{
	struct sockaddr_in sa, da;
	struct pollfd pf[INFLIGHT];
	unsigned long long started = 0, ok = 0, failed = 0, why[200] = { 0 };
	double t0 = now(), end = t0 + secs;
	int n = 0;

	if (sockaddr_of(src, "0", &sa) || sockaddr_of(dst, port, &da))
		return 2;
	while (!stop && (now() < end || n)) {
		double t = now();

		/* Open connections until the rate or the window is full. */
		while (t < end && n < INFLIGHT &&
		       (rate <= 0 || (double)started < (t - t0) * rate)) {
			struct linger l = { 1, 0 };
			int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

			if (s < 0)
				break;
			setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) ||
			    (connect(s, (struct sockaddr *)&da, sizeof(da)) &&
			     errno != EINPROGRESS)) {
				why[errno < 200 ? errno : 0]++;
				close(s);
				failed++;
				started++;
				continue;
			}
			pf[n].fd = s;
			pf[n].events = POLLOUT;
			n++;
			started++;
		}
		if (!n) {
			if (t >= end)
				break;
			usleep(200);
			continue;
		}
		if (poll(pf, (nfds_t)n, 10) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n;) {
			int err = 0;
			socklen_t el = sizeof(err);

			if (!pf[i].revents && now() < end + 2) {
				i++;
				continue;
			}
			/* ECONNRESET: the handshake was done and the
			 * acceptor's RST came first -- a connection. */
			if (pf[i].revents &&
			    !getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &err,
					&el) && (!err || err == ECONNRESET)) {
				ok++;
			} else {
				why[err > 0 && err < 200 ? err : 0]++;
				failed++;
			}
			/* SO_LINGER 0: RST, no TIME_WAIT on this side. */
			close(pf[i].fd);
			pf[i] = pf[--n];
		}
	}
	printf("connections %llu failed %llu seconds %.3f\n", ok, failed,
	       now() - t0);
	for (int e = 0; e < 200; e++)
		if (why[e])
			fprintf(stderr, "benchflood: %llu failed: %s\n", why[e],
				e ? strerror(e) : "timed out");
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: benchflood sink ADDR PORT\n"
		"       benchflood udp SRC DST PORT SECONDS [LEN]\n"
		"       benchflood conn SRC DST PORT SECONDS [RATE]\n"
		"       benchflood accept ADDR PORT\n");
}

int main(int argc, char **argv)
{
	struct sigaction act = { .sa_handler = on_signal };

	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return sink(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "accept"))
		return acceptor(argv[2], argv[3]);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "udp"))
		return udp(argv[2], argv[3], argv[4], atof(argv[5]),
			   argc == 7 ? (size_t)atoi(argv[6]) : 64);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "conn"))
		return conn(argv[2], argv[3], argv[4], atof(argv[5]),
			    argc == 7 ? atof(argv[6]) : 0);
	usage();
	return 2;
}
