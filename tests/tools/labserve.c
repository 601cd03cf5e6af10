// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * labserve: the listeners of the namespace lab. Reads "PROTO ADDRESS
 * PORT" lines (tcp or udp; ADDRESS may be 0.0.0.0 or ::) from stdin,
 * binds them all, prints "ready N" and serves until killed or until
 * its lifetime ends: TCP connections are accepted and closed, UDP
 * datagrams are sent back from the address they came to.
 *
 * Usage: labserve [-l SECONDS] < LIST
 *
 * The lifetime (default 900 s) keeps a listener from outliving a lab
 * whose cleanup never ran.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct lsock {
	int fd;
	int type;
};

static int sock_open(const char *proto, const char *addr, unsigned int port,
		     int *type)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int one = 1, fd, fam;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		fam = AF_INET;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		fam = AF_INET6;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		errno = EINVAL;
		return -1;
	}
	if (!strcmp(proto, "tcp"))
		*type = SOCK_STREAM;
	else if (!strcmp(proto, "udp"))
		*type = SOCK_DGRAM;
	else {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	fd = socket(fam, *type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (*type == SOCK_STREAM && listen(fd, 128))) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void serve_one(const struct lsock *ls)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	char buf[2048];
	ssize_t n;
	int c;

	if (ls->type == SOCK_STREAM) {
		while ((c = accept4(ls->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(c);
		return;
	}
	while ((n = recvfrom(ls->fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&peer, &plen)) >= 0) {
		sendto(ls->fd, buf, (size_t)n, 0, (struct sockaddr *)&peer,
		       plen);
		plen = sizeof(peer);
	}
}

int main(int argc, char **argv)
{
	struct lsock *ls = NULL;
	struct pollfd *pfd = NULL;
	size_t n = 0, cap = 0, i;
	char line[256], proto[16], addr[64];
	unsigned int port, lifetime = 900;
	int c, ret = 1;

	while ((c = getopt(argc, argv, "l:")) != -1) {
		switch (c) {
		case 'l':
			lifetime = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "Usage: labserve [-l SECONDS] < LIST\n");
			return 2;
		}
	}
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%15s %63s %u", proto, addr, &port) != 3)
			continue;
		if (n == cap) {
			void *v = realloc(ls, (cap ? cap * 2 : 64) *
					  sizeof(*ls));

			if (!v)
				goto out;
			ls = v;
			cap = cap ? cap * 2 : 64;
		}
		ls[n].fd = sock_open(proto, addr, port, &ls[n].type);
		if (ls[n].fd < 0) {
			fprintf(stderr, "labserve: %s %s %u: %s\n", proto, addr,
				port, strerror(errno));
			goto out;
		}
		n++;
	}
	pfd = calloc(n + 1, sizeof(*pfd));
	if (!pfd)
		goto out;
	for (i = 0; i < n; i++) {
		pfd[i].fd = ls[i].fd;
		pfd[i].events = POLLIN;
	}
	alarm(lifetime);
	printf("ready %zu\n", n);
	fflush(stdout);
	for (;;) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		for (i = 0; i < n; i++)
			if (pfd[i].revents)
				serve_one(&ls[i]);
	}
out:
	free(pfd);
	free(ls);
	return ret;
}
