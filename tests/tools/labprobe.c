// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * labprobe: the prober of the namespace lab. Reads "ID PROTO SRC DST
 * PORT" lines from stdin (PROTO tcp, udp, icmp or icmpv6; DST may carry
 * a scope, "fe80::1%eth0"), sends them all at once from SRC and prints
 * "ID RESULT" for each, in input order:
 *
 *   open     a TCP handshake completed, a UDP datagram or an echo
 *            request came back
 *   closed   nothing came back within the timeout (a silent drop)
 *   refused  a TCP reset or an ICMP port unreachable: the path is
 *            open but nothing listens (a lab error)
 *   unreach  an ICMP error other than that (a lab routing error)
 *   error    the probe could not be sent (the reason is on stderr)
 *
 * Usage: labprobe [-t MILLISECONDS] < LIST
 *
 * UDP and ICMP are sent twice, at the start and half-way through the
 * timeout (default 2000 ms); TCP retransmits its SYN by itself. ICMP
 * uses ping sockets, so net.ipv4.ping_group_range must admit the
 * caller's group in its namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum result {
	R_PENDING,
	R_OPEN,
	R_CLOSED,
	R_REFUSED,
	R_UNREACH,
	R_ERROR,
};

static const char *const result_names[] = {
	[R_PENDING] = "pending",
	[R_OPEN] = "open",
	[R_CLOSED] = "closed",
	[R_REFUSED] = "refused",
	[R_UNREACH] = "unreach",
	[R_ERROR] = "error",
};

enum kind {
	P_TCP,
	P_UDP,
	P_ICMP,
};

struct probe {
	char id[32];
	enum kind kind;
	int fd;
	bool resent;
	enum result res;
	char payload[64];
	size_t plen;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "10.0.0.1", "fd00::1", "fe80::1%eth0". */
static int sa_parse(const char *s, unsigned int port,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char buf[128];
	char *pct;

	memset(ss, 0, sizeof(*ss));
	snprintf(buf, sizeof(buf), "%s", s);
	pct = strchr(buf, '%');
	if (pct)
		*pct++ = '\0';
	if (!pct && inet_pton(AF_INET, buf, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &s6->sin6_addr) != 1)
		return -1;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	if (pct) {
		s6->sin6_scope_id = if_nametoindex(pct);
		if (!s6->sin6_scope_id)
			return -1;
	}
	*len = sizeof(*s6);
	return 0;
}

static enum result from_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return R_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EACCES:
	case EPERM:
	case EPROTO:
	case EMSGSIZE:
		return R_UNREACH;
	default:
		return R_ERROR;
	}
}

static int send_probe(struct probe *p)
{
	if (p->kind == P_TCP)
		return 0;
	return send(p->fd, p->payload, p->plen, 0) < 0 ? -1 : 0;
}

static int probe_start(struct probe *p, const char *proto, const char *src,
		       const char *dst, unsigned int port)
{
	struct sockaddr_storage sa, da;
	socklen_t sl, dl;
	int one = 1, fam, type, ipproto = 0;

	if (sa_parse(src, 0, &sa, &sl) || sa_parse(dst, port, &da, &dl) ||
	    sa.ss_family != da.ss_family) {
		fprintf(stderr, "labprobe: %s: bad address\n", p->id);
		return -1;
	}
	fam = sa.ss_family;
	if (!strcmp(proto, "tcp")) {
		p->kind = P_TCP;
		type = SOCK_STREAM;
	} else if (!strcmp(proto, "udp")) {
		p->kind = P_UDP;
		type = SOCK_DGRAM;
	} else if (!strcmp(proto, "icmp") || !strcmp(proto, "icmpv6")) {
		p->kind = P_ICMP;
		type = SOCK_DGRAM;
		ipproto = fam == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		/* Ping sockets take the port as nothing; the echo id is
		 * theirs to choose. */
		if (fam == AF_INET6)
			((struct sockaddr_in6 *)&da)->sin6_port = 0;
		else
			((struct sockaddr_in *)&da)->sin_port = 0;
	} else {
		fprintf(stderr, "labprobe: %s: bad protocol %s\n", p->id,
			proto);
		return -1;
	}
	p->fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, ipproto);
	if (p->fd < 0)
		goto err;
	if (p->kind != P_TCP) {
		if (fam == AF_INET6)
			setsockopt(p->fd, IPPROTO_IPV6, IPV6_RECVERR, &one,
				   sizeof(one));
		else
			setsockopt(p->fd, IPPROTO_IP, IP_RECVERR, &one,
				   sizeof(one));
	}
	if (bind(p->fd, (struct sockaddr *)&sa, sl))
		goto err;
	if (connect(p->fd, (struct sockaddr *)&da, dl) &&
	    errno != EINPROGRESS) {
		p->res = from_errno(errno);
		return 0;
	}
	if (p->kind == P_ICMP) {
		struct icmphdr *h = (struct icmphdr *)p->payload;

		memset(p->payload, 0, sizeof(p->payload));
		/* The same header layout serves ICMPv6. */
		h->type = fam == AF_INET6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
		h->un.echo.sequence = htons(1);
		snprintf(p->payload + 8, sizeof(p->payload) - 8, "sanso-lab %s",
			 p->id);
		p->plen = 8 + strlen(p->payload + 8);
	} else if (p->kind == P_UDP) {
		snprintf(p->payload, sizeof(p->payload), "sanso-lab %s\n",
			 p->id);
		p->plen = strlen(p->payload);
	}
	if (send_probe(p) && errno != EAGAIN)
		p->res = from_errno(errno);
	return 0;
err:
	fprintf(stderr, "labprobe: %s: %s %s -> %s: %s\n", p->id, proto, src,
		dst, strerror(errno));
	return -1;
}

static void probe_event(struct probe *p, short revents)
{
	char buf[256];
	socklen_t len = sizeof(int);
	ssize_t n;
	int err = 0;

	if (p->kind == P_TCP) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		p->res = err ? from_errno(err) : R_OPEN;
		return;
	}
	n = recv(p->fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			p->res = from_errno(errno);
		return;
	}
	/* A ping socket hands back only its own echo replies; a UDP
	 * listener sends the datagram back as it came. */
	if (p->kind == P_ICMP)
		p->res = n >= 8 ? R_OPEN : p->res;
	else if ((size_t)n == p->plen && !memcmp(buf, p->payload, p->plen))
		p->res = R_OPEN;
}

int main(int argc, char **argv)
{
	struct probe *pr = NULL;
	struct pollfd *pfd = NULL;
	size_t *map = NULL;
	size_t n = 0, cap = 0, i, np;
	char line[512], proto[16], src[128], dst[128];
	unsigned int port, timeout = 2000;
	long long start, left;
	int c, ret = 1;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		switch (c) {
		case 't':
			timeout = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "Usage: labprobe [-t MS] < LIST\n");
			return 2;
		}
	}
	start = now_ms();
	while (fgets(line, sizeof(line), stdin)) {
		char id[32];

		if (sscanf(line, "%31s %15s %127s %127s %u", id, proto, src,
			   dst, &port) != 5)
			continue;
		if (n == cap) {
			void *v = realloc(pr, (cap ? cap * 2 : 64) *
					  sizeof(*pr));

			if (!v)
				goto out;
			pr = v;
			cap = cap ? cap * 2 : 64;
		}
		memset(&pr[n], 0, sizeof(pr[n]));
		pr[n].fd = -1;
		snprintf(pr[n].id, sizeof(pr[n].id), "%s", id);
		if (probe_start(&pr[n], proto, src, dst, port))
			pr[n].res = R_ERROR;
		n++;
	}
	pfd = calloc(n + 1, sizeof(*pfd));
	map = calloc(n + 1, sizeof(*map));
	if (!pfd || !map)
		goto out;
	for (;;) {
		left = start + timeout - now_ms();
		np = 0;
		for (i = 0; i < n; i++) {
			if (pr[i].res != R_PENDING)
				continue;
			if (!pr[i].resent && left < timeout / 2) {
				pr[i].resent = true;
				send_probe(&pr[i]);
			}
			pfd[np].fd = pr[i].fd;
			pfd[np].events = pr[i].kind == P_TCP ? POLLOUT :
				POLLIN;
			pfd[np].revents = 0;
			map[np++] = i;
		}
		if (!np || left <= 0)
			break;
		if (poll(pfd, np, (int)(left > 50 ? 50 : left)) < 0 &&
		    errno != EINTR)
			goto out;
		for (i = 0; i < np; i++)
			if (pfd[i].revents)
				probe_event(&pr[map[i]], pfd[i].revents);
	}
	for (i = 0; i < n; i++) {
		if (pr[i].res == R_PENDING)
			pr[i].res = R_CLOSED;
		printf("%s %s\n", pr[i].id, result_names[pr[i].res]);
		if (pr[i].fd >= 0)
			close(pr[i].fd);
	}
	ret = fflush(stdout) ? 1 : 0;
out:
	free(pfd);
	free(map);
	free(pr);
	return ret;
}
