// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sanso's replication between the two nodes of a pair (gateway.ha):
 * one UDP datagram per message on the sync link, authenticated with
 * HMAC-SHA-256 under the pair's shared key (STATE/ha.key).
 *
 * Wire format, all integers big-endian:
 *   "SANSOHA1" kind(1) time_ms(8) seq(8) body... mac(32)
 *   HA_ANSWER body: qtype(2) namelen(1) name n(1) n * (family(1)
 *                   addr(16) ttl(4))
 *   HA_DIGEST body: 64 hex digits (or none: no table)
 * The MAC covers everything before it. A receiver takes only datagrams
 * from the peer's address and port, within HA_MAX_SKEW_MS of its clock,
 * and newer (time, seq) than the last it took: a captured datagram
 * cannot be replayed to re-open an address after it expired.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include "alert.h"
#include "ha.h"
#include "kernel_dump.h"

#define MAGIC		"SANSOHA1"
#define HDR_LEN		(8 + 1 + 8 + 8)
#define MAC_LEN		32
#define MAX_DGRAM	(HDR_LEN + 2 + 1 + DNS_NAME_MAX + 1 + \
			 HA_MAX_ADDRS * 21 + MAC_LEN)

struct ha_link {
	int fd;
	int self;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint8_t key[AUDIT_KEY_LEN];
	uint64_t seq;
	int64_t last_time;
	uint64_t last_seq;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static socklen_t sockaddr_of(const struct prefix *p, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (p->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		memcpy(&s->sin_addr, p->addr, 4);
		return sizeof(*s);
	}
	{
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		memcpy(&s->sin6_addr, p->addr, 16);
		return sizeof(*s);
	}
}

struct ha_link *ha_link_open(const struct ha_conf *ha, const char *state_dir)
{
	struct ha_link *l;
	int r = -EADDRNOTAVAIL;

	if (!ha->present || ha->n_nodes != 2 || !state_dir) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	l->fd = -1;
	r = audit_key_load_file(state_dir, HA_KEY_FILE, false, l->key);
	if (r)
		goto fail;
	/* Each node finds itself: only its own address binds (no
	 * IP_FREEBIND), the peer's gives EADDRNOTAVAIL. */
	r = -EADDRNOTAVAIL;
	for (int i = 0; i < 2 && l->fd < 0; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sockaddr_of(&ha->nodes[i], HA_SANSO_PORT, &ss);
		int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0);

		if (fd < 0) {
			r = -errno;
			goto fail;
		}
		if (bind(fd, (struct sockaddr *)&ss, len)) {
			if (errno != EADDRNOTAVAIL)
				r = -errno;
			close(fd);
			continue;
		}
		l->fd = fd;
		l->self = i;
		l->peer_len = sockaddr_of(&ha->nodes[!i], HA_SANSO_PORT,
					  &l->peer);
	}
	if (l->fd < 0)
		goto fail;
	/* Time and sequence order the datagrams across restarts too. */
	l->seq = 0;
	return l;
fail:
	ha_link_free(l);
	errno = -r;
	return NULL;
}

void ha_link_free(struct ha_link *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	OPENSSL_cleanse(l->key, sizeof(l->key));
	free(l);
}

int ha_link_fd(const struct ha_link *l)
{
	return l->fd;
}

int ha_link_self(const struct ha_link *l)
{
	return l->self;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int mac(const uint8_t *key, const uint8_t *data, size_t len,
	       uint8_t out[MAC_LEN])
{
	unsigned int olen = MAC_LEN;

	return HMAC(EVP_sha256(), key, AUDIT_KEY_LEN, data, len, out,
		    &olen) ? 0 : -ENOMEM;
}

int ha_send(struct ha_link *l, const struct ha_msg *m)
{
	uint8_t b[MAX_DGRAM];
	size_t n = HDR_LEN;

	memcpy(b, MAGIC, 8);
	b[8] = (uint8_t)m->kind;
	put_be(b + 9, (uint64_t)now_ms(), 8);
	put_be(b + 17, ++l->seq, 8);
	if (m->kind == HA_ANSWER) {
		size_t nl = strnlen(m->name, DNS_NAME_MAX);
		size_t na = m->n < HA_MAX_ADDRS ? m->n : HA_MAX_ADDRS;

		put_be(b + n, m->qtype, 2);
		b[n + 2] = (uint8_t)nl;
		memcpy(b + n + 3, m->name, nl);
		n += 3 + nl;
		b[n++] = (uint8_t)na;
		for (size_t i = 0; i < na; i++) {
			b[n] = m->addrs[i].family == AF_INET6 ? 6 : 4;
			memcpy(b + n + 1, m->addrs[i].addr, 16);
			put_be(b + n + 17, m->addrs[i].ttl, 4);
			n += 21;
		}
	} else {
		size_t dl = strnlen(m->digest, 64);

		memcpy(b + n, m->digest, dl);
		n += dl;
	}
	if (mac(l->key, b, n, b + n))
		return -ENOMEM;
	n += MAC_LEN;
	if (sendto(l->fd, b, n, 0, (struct sockaddr *)&l->peer,
		   l->peer_len) < 0)
		return -errno;
	return 0;
}

static bool same_peer(const struct ha_link *l,
		      const struct sockaddr_storage *ss)
{
	if (ss->ss_family != l->peer.ss_family)
		return false;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		const struct sockaddr_in *b = (const void *)&l->peer;

		return a->sin_port == b->sin_port &&
		       a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	{
		const struct sockaddr_in6 *a = (const void *)ss;
		const struct sockaddr_in6 *b = (const void *)&l->peer;

		return !memcmp(&a->sin6_port, &b->sin6_port,
			       sizeof(a->sin6_port)) &&
		       !memcmp(&a->sin6_addr, &b->sin6_addr, 16);
	}
}

static int parse(const uint8_t *b, size_t n, struct ha_msg *m)
{
	size_t off = HDR_LEN;

	memset(m, 0, sizeof(*m));
	m->kind = b[8];
	m->time_ms = (int64_t)get_be(b + 9, 8);
	if (m->kind == HA_DIGEST) {
		if (n - off != 0 && n - off != 64)
			return -EBADMSG;
		for (size_t i = off; i < n; i++)
			if (!strchr("0123456789abcdef", b[i]) || !b[i])
				return -EBADMSG;
		memcpy(m->digest, b + off, n - off);
		return 0;
	}
	if (m->kind != HA_ANSWER || n - off < 4)
		return -EBADMSG;
	m->qtype = (uint16_t)get_be(b + off, 2);
	{
		size_t nl = b[off + 2];

		if (off + 3 + nl + 1 > n)
			return -EBADMSG;
		memcpy(m->name, b + off + 3, nl);
		if (strlen(m->name) != nl)
			return -EBADMSG;
		off += 3 + nl;
	}
	m->n = b[off++];
	if (m->n > HA_MAX_ADDRS || off + m->n * 21 != n)
		return -EBADMSG;
	for (size_t i = 0; i < m->n; i++, off += 21) {
		if (b[off] != 4 && b[off] != 6)
			return -EBADMSG;
		m->addrs[i].family = b[off] == 6 ? AF_INET6 : AF_INET;
		memcpy(m->addrs[i].addr, b + off + 1, 16);
		m->addrs[i].ttl = (uint32_t)get_be(b + off + 17, 4);
	}
	return 0;
}

int ha_recv(struct ha_link *l, struct ha_msg *m)
{
	uint8_t b[MAX_DGRAM + 1], want[MAC_LEN];
	struct sockaddr_storage ss = { 0 };	/* no sender: no family */
	socklen_t sl = sizeof(ss);
	ssize_t got;
	int64_t t, now;
	uint64_t seq;

	/* recvfrom() fills only the sender's family's part. */
	memset(&ss, 0, sizeof(ss));

	got = recvfrom(l->fd, b, sizeof(b), 0, (struct sockaddr *)&ss, &sl);
	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (!same_peer(l, &ss) || (size_t)got < HDR_LEN + MAC_LEN ||
	    (size_t)got > MAX_DGRAM || memcmp(b, MAGIC, 8))
		return -EBADMSG;
	got -= MAC_LEN;
	if (mac(l->key, b, (size_t)got, want) ||
	    CRYPTO_memcmp(want, b + got, MAC_LEN))
		return -EBADMSG;
	t = (int64_t)get_be(b + 9, 8);
	seq = get_be(b + 17, 8);
	now = now_ms();
	if (t < now - HA_MAX_SKEW_MS || t > now + HA_MAX_SKEW_MS)
		return -EBADMSG;
	/* A restarted sender starts its seq again at 1, but later. */
	if (t < l->last_time || (t == l->last_time && seq <= l->last_seq))
		return -EBADMSG;
	if (parse(b, (size_t)got, m))
		return -EBADMSG;
	l->last_time = t;
	l->last_seq = seq;
	return 1;
}

int ha_peer_write(const char *state_dir, const char *peer, const char *own,
		  const char *verdict, int64_t when)
{
	char path[4096], tmp[4096];
	FILE *f;
	int r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, HA_PEER_FILE) >=
	    (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", state_dir, HA_PEER_FILE,
		     (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%s %s %s %lld\n", peer[0] ? peer : "-", own[0] ? own : "-",
		verdict, (long long)when);
	if (fflush(f) || fsync(fileno(f)))
		r = -errno;
	if (fclose(f) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int ha_peer_read(const char *state_dir, struct ha_peer *p)
{
	char path[4096], line[256], when[24], *end;
	FILE *f;
	int n;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, HA_PEER_FILE) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(p, 0, sizeof(*p));
	n = fgets(line, sizeof(line), f) ?
	    sscanf(line, "%64s %64s %15s %23s", p->peer, p->own, p->verdict,
		   when) : 0;
	fclose(f);
	if (n != 4)
		return -EINVAL;
	errno = 0;
	p->when = strtoll(when, &end, 10);
	if (errno || *end || end == when)
		return -EINVAL;
	return 0;
}

int ha_table_digest(const char *table, char hex[65])
{
	return kernel_table_digest(NFPROTO_INET, table, hex);
}

int ha_peer_read_sub(const char *state_dir, const char *sub,
		     struct ha_peer *p)
{
	char dir[4096];

	if (snprintf(dir, sizeof(dir), "%s/%s", state_dir, sub) >=
	    (int)sizeof(dir))
		return -ENAMETOOLONG;
	return ha_peer_read(dir, p);
}

int ha_role_read(const char *path, struct ha_role_file *f)
{
	static const char *const words[] = { "master", "backup", "fault" };
	static const enum ha_role roles[] = { HA_ROLE_MASTER, HA_ROLE_BACKUP,
					      HA_ROLE_FAULT };
	char buf[16];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		f->role = HA_ROLE_UNKNOWN;
		f->dev = 0;
		f->ino = 0;
		return -errno;
	}
	if (fstat(fd, &st)) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	if (st.st_dev == f->dev && st.st_ino == f->ino &&
	    st.st_mtim.tv_sec == f->since.tv_sec &&
	    st.st_mtim.tv_nsec == f->since.tv_nsec) {
		close(fd);
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->since = st.st_mtim;
	f->role = HA_ROLE_UNKNOWN;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(buf, words[i]))
			f->role = roles[i];
	return f->role == HA_ROLE_UNKNOWN ? -EINVAL : 1;
}

const char *ha_role_name(enum ha_role r)
{
	switch (r) {
	case HA_ROLE_MASTER:
		return "master";
	case HA_ROLE_BACKUP:
		return "backup";
	case HA_ROLE_FAULT:
		return "fault";
	default:
		return "unknown";
	}
}
