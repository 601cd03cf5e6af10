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
 *   benchflood udpnew NET DST PORT SECONDS [LEN]
 *       like udp, but every datagram from another source: the addresses
 *       of the IPv4 network NET (a.b.c.d/len) in turn, each with the
 *       ports 1024-65535, sent on a raw socket; so that each datagram
 *       is a new conntrack entry (until the tuples wrap, after the
 *       network's hosts times 64,512); print "sent N"
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
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
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

/* One datagram of udpnew: IPv4 and UDP headers and the payload. */
struct rawdgram {
	struct iphdr ip;
	struct udphdr udp;
	uint8_t payload[1472];
};

static int udpnew(const char *net, const char *dst, const char *port,
		  double secs, size_t len)
{
	static struct rawdgram pkts[BATCH];
	struct sockaddr_in da;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(net, '/');
	unsigned long long n = 0;
	uint32_t base, hosts, host = 1, sport = 1024;
	struct in_addr a;
	double end;
	long plen;
	int s;

	if (!slash || (size_t)(slash - net) >= sizeof(addr) ||
	    sockaddr_of(dst, port, &da))
		goto bad;
	memcpy(addr, net, (size_t)(slash - net));
	addr[slash - net] = '\0';
	plen = strtol(slash + 1, NULL, 10);
	if (inet_pton(AF_INET, addr, &a) != 1 || plen < 8 || plen > 30)
		goto bad;
	hosts = (1u << (32 - plen)) - 2;
	base = ntohl(a.s_addr) & ~((1u << (32 - plen)) - 1);
	if (len > sizeof(pkts[0].payload))
		len = sizeof(pkts[0].payload);
	s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (s < 0) {
		perror("benchflood: udpnew");
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		struct rawdgram *p = &pkts[i];

		p->ip.version = 4;
		p->ip.ihl = 5;
		p->ip.ttl = 64;
		p->ip.protocol = IPPROTO_UDP;
		p->ip.tot_len = htons((uint16_t)(sizeof(p->ip) +
						 sizeof(p->udp) + len));
		p->ip.daddr = da.sin_addr.s_addr;
		p->udp.dest = da.sin_port;
		p->udp.len = htons((uint16_t)(sizeof(p->udp) + len));
		/* The UDP checksum is optional in IPv4: 0, none; the kernel
		 * fills in the IP header's. */
		iov[i].iov_base = p;
		iov[i].iov_len = sizeof(p->ip) + sizeof(p->udp) + len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &da;
		msgs[i].msg_hdr.msg_namelen = sizeof(da);
	}
	end = now() + secs;
	while (!stop && now() < end) {
		int r;

		for (int i = 0; i < BATCH; i++) {
			pkts[i].ip.saddr = htonl(base + host);
			pkts[i].udp.source = htons((uint16_t)sport);
			if (++sport > 65535) {
				sport = 1024;
				host = host % hosts + 1;
			}
		}
		r = sendmmsg(s, msgs, BATCH, 0);
		if (r > 0)
			n += (unsigned)r;
		else if (r < 0 && errno != ENOBUFS && errno != EINTR &&
			 errno != EAGAIN)
			break;
	}
	printf("sent %llu\n", n);
	close(s);
	return 0;
bad:
	fprintf(stderr, "benchflood: bad network %s or address %s:%s\n", net,
		dst, port);
	return 2;
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
		"       benchflood udpnew NET DST PORT SECONDS [LEN]\n"
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
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "udpnew"))
		return udpnew(argv[2], argv[3], argv[4], atof(argv[5]),
			      argc == 7 ? (size_t)atoi(argv[6]) : 64);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "conn"))
		return conn(argv[2], argv[3], argv[4], atof(argv[5]),
			    argc == 7 ? atof(argv[6]) : 0);
	usage();
	return 2;
}
