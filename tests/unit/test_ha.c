// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pair's replication (src/ha.c) over loopback: 127.0.0.1 and
 * 127.0.0.2 play the two nodes (both are this host's, so each link is
 * given the nodes in the order that makes it bind the one it plays).
 * What is refused: a datagram under another key, one changed on the
 * way, one replayed, one from another port; what a missing or bad key
 * gives. And the role file the notify script writes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ha.h"

struct fx {
	char dir_a[64], dir_b[64], dir_x[64];
};

static void write_key(const char *dir, uint8_t fill, mode_t mode, size_t n)
{
	char path[128];
	uint8_t key[64];
	FILE *f;

	memset(key, fill, sizeof(key));
	snprintf(path, sizeof(path), "%s/%s", dir, HA_KEY_FILE);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(key, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void conf(struct ha_conf *ha, const char *self, const char *peer)
{
	memset(ha, 0, sizeof(*ha));
	ha->present = true;
	ha->n_nodes = 2;
	ha->nodes[0].family = ha->nodes[1].family = AF_INET;
	ha->nodes[0].len = ha->nodes[1].len = 32;
	assert_int_equal(inet_pton(AF_INET, self, ha->nodes[0].addr), 1);
	assert_int_equal(inet_pton(AF_INET, peer, ha->nodes[1].addr), 1);
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	snprintf(x->dir_a, sizeof(x->dir_a), "/tmp/sanso-ha-a.XXXXXX");
	snprintf(x->dir_b, sizeof(x->dir_b), "/tmp/sanso-ha-b.XXXXXX");
	snprintf(x->dir_x, sizeof(x->dir_x), "/tmp/sanso-ha-x.XXXXXX");
	assert_non_null(mkdtemp(x->dir_a));
	assert_non_null(mkdtemp(x->dir_b));
	assert_non_null(mkdtemp(x->dir_x));
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s", x->dir_a, x->dir_b,
		 x->dir_x);
	if (system(cmd))
		return -1;
	free(x);
	return 0;
}

/* A link as node `self`, or a skip when the port is taken (another
 * program on this host; the lab's nodes run in their own namespaces). */
static struct ha_link *open_as(const char *dir, const char *self,
			       const char *peer)
{
	struct ha_conf ha;
	struct ha_link *l;

	conf(&ha, self, peer);
	l = ha_link_open(&ha, dir);
	if (!l && errno == EADDRINUSE)
		skip();
	assert_non_null(l);
	assert_int_equal(ha_link_self(l), 0);
	return l;
}

/* The next datagram waiting on l, read without taking it. */
static ssize_t peek(struct ha_link *l, uint8_t *b, size_t n)
{
	ssize_t got;

	for (int i = 0; i < 100; i++) {
		got = recv(ha_link_fd(l), b, n, MSG_PEEK);
		if (got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return got;
		usleep(10000);
	}
	return -1;
}

/* A plain socket bound where the peer's link was: what an attacker on
 * the sync link could send. */
static int raw_from(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	sa.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, const uint8_t *b, size_t n)
{
	struct sockaddr_in to = { .sin_family = AF_INET };

	to.sin_port = htons(HA_SANSO_PORT);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &to.sin_addr), 1);
	assert_int_equal(sendto(fd, b, n, 0, (struct sockaddr *)&to,
				sizeof(to)), (ssize_t)n);
}

/* ha_recv() once something is waiting. */
static int recv_wait(struct ha_link *l, struct ha_msg *m)
{
	int r = 0;

	for (int i = 0; i < 100 && !r; i++) {
		r = ha_recv(l, m);
		if (!r)
			usleep(10000);
	}
	return r;
}

static void digest_msg(struct ha_msg *m, char c)
{
	memset(m, 0, sizeof(*m));
	m->kind = HA_DIGEST;
	memset(m->digest, c, 64);
}

static bool is_local(const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool local;

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	local = !bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return local;
}

static void test_key(void **state)
{
	struct fx *x = *state;
	struct ha_conf ha;

	conf(&ha, "127.0.0.1", "127.0.0.2");
	/* No key: ENOENT, which the guard names with the path. */
	assert_null(ha_link_open(&ha, x->dir_x));
	assert_int_equal(errno, ENOENT);
	/* Readable by others: refused like audit.key. */
	write_key(x->dir_x, 1, 0644, 32);
	assert_null(ha_link_open(&ha, x->dir_x));
	assert_int_equal(errno, EPERM);
	/* Not 32 bytes. */
	write_key(x->dir_x, 1, 0600, 16);
	assert_null(ha_link_open(&ha, x->dir_x));
	assert_int_equal(errno, EINVAL);
	/* Neither address is this host's (when neither is: a test host
	 * may hold any documentation address). */
	write_key(x->dir_x, 1, 0600, 32);
	conf(&ha, "198.51.100.201", "198.51.100.202");
	if (!is_local("198.51.100.201") && !is_local("198.51.100.202")) {
		assert_null(ha_link_open(&ha, x->dir_x));
		assert_int_equal(errno, EADDRNOTAVAIL);
	}
}

static void test_refused(void **state)
{
	struct fx *x = *state;
	struct ha_link *a, *b;
	struct ha_msg m, got;
	uint8_t first[512], last[512];
	ssize_t n1, n2;
	int fd;

	write_key(x->dir_a, 0x5a, 0600, 32);
	write_key(x->dir_b, 0x5a, 0600, 32);
	write_key(x->dir_x, 0xa5, 0600, 32);
	a = open_as(x->dir_a, "127.0.0.1", "127.0.0.2");

	/* Under another key, from the right address and port. */
	b = open_as(x->dir_x, "127.0.0.2", "127.0.0.1");
	digest_msg(&m, 'a');
	assert_int_equal(ha_send(b, &m), 0);
	assert_int_equal(recv_wait(a, &got), -EBADMSG);
	ha_link_free(b);

	/* The pair's key: taken, twice in order. */
	b = open_as(x->dir_b, "127.0.0.2", "127.0.0.1");
	assert_int_equal(ha_send(b, &m), 0);
	n1 = peek(a, first, sizeof(first));
	assert_true(n1 > 0);
	assert_int_equal(recv_wait(a, &got), 1);
	assert_int_equal(got.kind, HA_DIGEST);
	assert_memory_equal(got.digest, m.digest, 64);
	digest_msg(&m, 'b');
	assert_int_equal(ha_send(b, &m), 0);
	n2 = peek(a, last, sizeof(last));
	assert_true(n2 > 0);
	assert_int_equal(recv_wait(a, &got), 1);
	assert_int_equal(got.digest[0], 'b');
	ha_link_free(b);

	/* Replayed from the peer's own address and port: the last one
	 * taken and an older one. */
	fd = raw_from("127.0.0.2", HA_SANSO_PORT);
	raw_send(fd, last, (size_t)n2);
	assert_int_equal(recv_wait(a, &got), -EBADMSG);
	raw_send(fd, first, (size_t)n1);
	assert_int_equal(recv_wait(a, &got), -EBADMSG);
	/* Changed on the way (the digest's first digit), MAC kept. */
	last[25] = last[25] == 'b' ? 'c' : 'b';
	raw_send(fd, last, (size_t)n2);
	assert_int_equal(recv_wait(a, &got), -EBADMSG);
	/* Too short to carry a MAC. */
	raw_send(fd, last, 20);
	assert_int_equal(recv_wait(a, &got), -EBADMSG);
	close(fd);

	/* A fresh, valid datagram but from another port of the peer's
	 * address: refused, then the peer's link is heard again. The
	 * restarted link numbers from 1 again, so it must send in a later
	 * millisecond than the last datagram taken, as any restart does. */
	usleep(5000);
	b = open_as(x->dir_b, "127.0.0.2", "127.0.0.1");
	digest_msg(&m, 'c');
	assert_int_equal(ha_send(b, &m), 0);
	n1 = peek(a, first, sizeof(first));
	assert_true(n1 > 0);
	assert_int_equal(recv_wait(a, &got), 1);
	digest_msg(&m, 'd');
	assert_int_equal(ha_send(b, &m), 0);
	n2 = peek(a, last, sizeof(last));
	assert_true(n2 > 0);
	/* Take it out of the queue without ha_recv(), as if it had been
	 * captured on the way. */
	assert_int_equal(recv(ha_link_fd(a), last, sizeof(last), 0), n2);
	fd = raw_from("127.0.0.2", HA_SANSO_PORT + 1);
	raw_send(fd, last, (size_t)n2);
	assert_int_equal(recv_wait(a, &got), -EBADMSG);
	close(fd);
	digest_msg(&m, 'e');
	assert_int_equal(ha_send(b, &m), 0);
	assert_int_equal(recv_wait(a, &got), 1);
	assert_int_equal(got.digest[0], 'e');
	/* Nothing left: 0. */
	assert_int_equal(ha_recv(a, &got), 0);
	ha_link_free(b);
	ha_link_free(a);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_role_file(void **state)
{
	struct fx *x = *state;
	struct ha_role_file f;
	char path[128], tmp[140];

	memset(&f, 0, sizeof(f));
	snprintf(path, sizeof(path), "%s/ha-role", x->dir_x);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(ha_role_read(path, &f), -ENOENT);
	assert_int_equal(f.role, HA_ROLE_UNKNOWN);
	/* As the notify script writes it: a new file renamed over. */
	put(tmp, "backup\n");
	assert_int_equal(rename(tmp, path), 0);
	assert_int_equal(ha_role_read(path, &f), 1);
	assert_int_equal(f.role, HA_ROLE_BACKUP);
	assert_int_equal(ha_role_read(path, &f), 0);
	put(tmp, "master\n");
	assert_int_equal(rename(tmp, path), 0);
	assert_int_equal(ha_role_read(path, &f), 1);
	assert_int_equal(f.role, HA_ROLE_MASTER);
	assert_true(f.since.tv_sec > 0);
	assert_string_equal(ha_role_name(f.role), "master");
	put(tmp, "fault\n");
	assert_int_equal(rename(tmp, path), 0);
	assert_int_equal(ha_role_read(path, &f), 1);
	assert_int_equal(f.role, HA_ROLE_FAULT);
	/* Anything else is unknown, which the monitor reports under. */
	put(tmp, "MASTER\n");
	assert_int_equal(rename(tmp, path), 0);
	assert_int_equal(ha_role_read(path, &f), -EINVAL);
	assert_int_equal(f.role, HA_ROLE_UNKNOWN);
	assert_int_equal(ha_role_read(path, &f), 0);
	unlink(path);
	assert_int_equal(ha_role_read(path, &f), -ENOENT);
	assert_int_equal(f.role, HA_ROLE_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_role_file, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
