// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The DNS guard: listeners, upstream queries, the answer cache, and the
 * hand-off to the FQDN set state before an answer is released.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "ctnetlink.h"
#include "dns.h"
#include "dnsguard.h"
#include "ha.h"
#include "kernel_dump.h"
#include "fqdnstate.h"
#include "policy.h"
#include "i18n.h"

#define DEFAULT_TIMEOUT_MS	1000
#define DEFAULT_SAVE_EVERY	300
#define DEFAULT_CACHE_MAX	4096
#define DEFAULT_PENDING_MAX	1024
#define DEFAULT_TCP_MAX		64
/* Bytes of queries (and answers) the kernel holds for each UDP socket;
 * it doubles the figure and a query takes ~800 bytes there: about
 * 10000 queries (measured on loopback and veth). */
#define UDP_BUF			(4 << 20)
#define TCP_IDLE_MS		10000
#define TICK_MS			1000
#define GC_EVERY_MS		10000
/* Answers larger than this are not cached (they come over TCP). */
#define CACHE_MSG_MAX		4096
/* Events handled per dnsguard_process() call, so that the monitor's own
 * sockets are never starved. */
#define EVENTS_PER_CALL		256
/* At most one log line per this many ms for a repeated failure. */
#define LOG_EVERY_MS		10000

enum ev_kind {
	EV_UDP,			/* listening UDP socket */
	EV_TCP_LISTEN,
	EV_TCP_CLIENT,
	EV_UPSTREAM,		/* a transaction's upstream socket */
	EV_HA,			/* the pair's replication (src/ha.c) */
};

/*
 * Every object with a descriptor in the epoll set starts with this.  A
 * transaction or connection that ends is only marked dead and freed
 * after the batch of events, which may still name it.
 */
struct ev {
	enum ev_kind kind;
	int fd;
	bool dead;
	struct ev *grave;		/* next dead one */
};

struct listener {
	struct ev ev;
	struct sockaddr_storage addr;
	socklen_t alen;
};

struct txn;

struct tconn {
	struct ev ev;
	struct tconn *prev, *next;
	struct sockaddr_storage peer;
	uint8_t *in;			/* 2 + DNS_MAX_MSG */
	size_t inlen;
	uint8_t *out;
	size_t outlen, outoff;
	struct txn *txn;		/* the query being answered */
	bool pending;			/* its answer waits for the sets */
	int64_t idle;			/* monotonic deadline */
	uint32_t events;
	bool in_kick;			/* tconn_kick() is running */
};

/* Where an answer goes back to. */
struct client {
	bool tcp;
	struct tconn *conn;		/* TCP */
	int ufd;			/* UDP: the listener it came to */
	struct sockaddr_storage peer;
	socklen_t plen;
	struct sockaddr_storage local;	/* destination of the query */
	int ifindex;
	bool has_local;
};

struct txn {
	struct ev ev;			/* the upstream socket */
	struct txn *prev, *next;
	struct client cl;
	uint8_t *query;			/* the client's query, our ID in it */
	size_t qlen;
	uint16_t client_id;
	struct dns_msg q;		/* parsed client query */
	char name[DNS_NAME_TEXT];
	size_t up;			/* current upstream */
	unsigned int tries;
	bool tcp;			/* upstream over TCP (after TC) */
	bool connected;			/* TCP connect completed */
	uint8_t *rbuf;			/* TCP reply, 2 + DNS_MAX_MSG */
	size_t rlen, woff;
	int64_t deadline;		/* monotonic */
	int last_err;
};

struct centry {
	struct centry *hnext;		/* hash chain */
	struct centry *prev, *next;	/* insertion order */
	uint64_t h;
	uint8_t key[DNS_NAME_MAX + 6];
	size_t klen;
	uint8_t *msg;
	size_t len;
	int64_t stored;			/* realtime ms */
	uint32_t ttl;
};

/*
 * An answer whose elements go to the kernel at the end of the event
 * round, in one transaction with the other answers of the round; it is
 * released (or refused) only then.
 */
struct pend {
	struct client cl;
	uint8_t *query;			/* the client's query, its ID in it */
	struct dns_msg q;
	char name[DNS_NAME_TEXT];
	uint8_t *msg;			/* the answer, any ID */
	size_t len;
	struct dns_msg r;		/* parsed from msg */
	uint8_t *cache;			/* the upstream's answer to cache, or
					 * NULL (from the cache already) */
	struct dns_addr *addrs;
	size_t n;
	bool from_cache;
};

struct dnsguard {
	int ep;
	struct fqdn_state *fs;
	struct fqdn_hooks hooks;
	char *state_dir;
	char *table;		/* g->fc.table points here: reloads use it */
	struct hostport *up;
	size_t n_up, up_pref;
	bool up_fixed;			/* from the configuration, not the model */
	struct fqdn_conf fc;
	struct listener *ls;
	size_t n_ls;
	unsigned int timeout_ms, attempts, save_every;
	size_t cache_max, pending_max, tcp_max;

	struct txn *txns, *txn_tail;	/* by deadline */
	size_t n_txns;
	struct tconn *conns;
	size_t n_conns;
	struct ev *grave;		/* dead, to free after the batch */
	struct pend **pend;		/* answers of this round */
	size_t n_pend, cap_pend;

	struct centry **cbuckets;
	size_t cnb, cn;
	struct centry *cfirst, *clast;
	uint8_t ckey[16];

	uint8_t rnd[256];
	size_t rnd_left;

	int64_t next_tick, next_gc, next_save;
	int64_t log_at;			/* rate limit of failure lines */
	uint64_t log_suppressed;
	uint8_t buf[2 + DNS_MAX_MSG + 1];
	struct dnsguard_stats st;

	/* A redundant pair: what this node arms goes to the peer, what the
	 * peer armed is learned here as if this node had answered. */
	struct ha_conf ha;		/* nodes only; no sync_iface */
	struct ev ha_ev;
	struct ha_link *ha_link;
	int ha_errno;			/* of the last failed open */
	int64_t ha_next_digest;		/* mono ms */
	int64_t ha_differ_since;	/* mono ms; 0: the tables match */
	char ha_alerted[130];		/* peer+own digests last alerted */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(struct dnsguard *g, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct dnsguard *g, int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!g->hooks.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	g->hooks.log(g->hooks.arg, prio, msg);
}

/* A failure that may repeat per query: logged at most every 10 s. */
static void complain(struct dnsguard *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void complain(struct dnsguard *g, const char *fmt, ...)
{
	int64_t now = mono_ms();
	char msg[512];
	va_list ap;

	if (g->log_at && now - g->log_at < LOG_EVERY_MS) {
		g->log_suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	if (g->log_suppressed)
		say(g, LOG_ERR, "%s (and %" PRIu64 " more failures since the "
		    "last report)", msg, g->log_suppressed);
	else
		say(g, LOG_ERR, MSG_AS_IS, msg);
	g->log_at = now;
	g->log_suppressed = 0;
}

static uint16_t random_id(struct dnsguard *g)
{
	uint16_t v;

	if (g->rnd_left < 2) {
		if (getrandom(g->rnd, sizeof(g->rnd), 0) != sizeof(g->rnd)) {
			/* Never happens after boot; still random enough
			 * together with the random source port. */
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			return (uint16_t)(ts.tv_nsec ^ (ts.tv_nsec >> 16));
		}
		g->rnd_left = sizeof(g->rnd);
	}
	g->rnd_left -= 2;
	memcpy(&v, g->rnd + g->rnd_left, 2);
	return v;
}

static void addr_text(const struct sockaddr_storage *ss, char *buf,
		      size_t n)
{
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			  buf, (socklen_t)n);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)ss)->sin6_addr, buf,
			  (socklen_t)n);
	else
		snprintf(buf, n, "?");
}

static socklen_t hostport_sa(const struct hostport *hp,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (hp->addr.family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(hp->port);
		memcpy(&s->sin_addr, hp->addr.addr, 4);
		return sizeof(*s);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(hp->port);
	memcpy(&s6->sin6_addr, hp->addr.addr, 16);
	return sizeof(*s6);
}

static int ep_add(struct dnsguard *g, struct ev *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	return epoll_ctl(g->ep, EPOLL_CTL_ADD, ev->fd, &e) < 0 ? -errno : 0;
}

static int ep_mod(struct dnsguard *g, struct ev *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	return epoll_ctl(g->ep, EPOLL_CTL_MOD, ev->fd, &e) < 0 ? -errno : 0;
}

static void bury(struct dnsguard *g, struct ev *ev)
{
	ev->dead = true;
	ev->grave = g->grave;
	g->grave = ev;
}

static void txn_destroy(struct txn *t);
static void tconn_destroy(struct tconn *c);

static void reap(struct dnsguard *g)
{
	while (g->grave) {
		struct ev *ev = g->grave;

		g->grave = ev->grave;
		if (ev->kind == EV_UPSTREAM)
			txn_destroy((struct txn *)ev);
		else
			tconn_destroy((struct tconn *)ev);
	}
}

/* ---- the cache ---- */

static size_t cache_key(const struct dns_msg *q, uint8_t *key)
{
	memcpy(key, q->qname.wire, q->qname.len);
	dns_put16(key + q->qname.len, q->qtype);
	dns_put16(key + q->qname.len + 2, q->qclass);
	/* DNSSEC-aware clients get their own entries. */
	dns_put16(key + q->qname.len + 4,
		  (uint16_t)((q->flags & DNS_F_CD) |
			     (q->edns ? (q->edns_flags & DNS_EDNS_DO) : 0)));
	return q->qname.len + 6u;
}

static void centry_unlink(struct dnsguard *g, struct centry *c)
{
	struct centry **pp = &g->cbuckets[c->h & (g->cnb - 1)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	if (c->prev)
		c->prev->next = c->next;
	else
		g->cfirst = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		g->clast = c->prev;
	g->cn--;
	free(c->msg);
	free(c);
}

static struct centry *cache_find(struct dnsguard *g, const struct dns_msg *q,
				 int64_t now)
{
	uint8_t key[DNS_NAME_MAX + 6];
	size_t klen = cache_key(q, key);
	uint64_t h = fqdn_hash(g->ckey, key, klen);
	struct centry *c;

	if (!g->cnb)
		return NULL;
	for (c = g->cbuckets[h & (g->cnb - 1)]; c; c = c->hnext)
		if (c->h == h && c->klen == klen && !memcmp(c->key, key, klen))
			break;
	if (c && now >= c->stored + (int64_t)c->ttl * 1000) {
		centry_unlink(g, c);
		c = NULL;
	}
	return c;
}

static void cache_put(struct dnsguard *g, const struct dns_msg *q,
		      const struct dns_msg *r, const uint8_t *msg, size_t len,
		      int64_t now)
{
	struct centry *c, *old;

	if (len > CACHE_MSG_MAX || !g->cache_max ||
	    (r->flags & DNS_F_RCODE) != DNS_R_NOERROR || !r->ancount ||
	    r->min_ttl == 0 || r->min_ttl == UINT32_MAX)
		return;
	if (!g->cnb) {
		size_t nb = 64;

		while (nb < g->cache_max)
			nb *= 2;
		g->cbuckets = calloc(nb, sizeof(*g->cbuckets));
		if (!g->cbuckets)
			return;
		g->cnb = nb;
	}
	old = cache_find(g, q, now);
	if (old)
		centry_unlink(g, old);
	while (g->cn >= g->cache_max && g->cfirst)
		centry_unlink(g, g->cfirst);
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->msg = malloc(len);
	if (!c->msg) {
		free(c);
		return;
	}
	memcpy(c->msg, msg, len);
	c->len = len;
	c->klen = cache_key(q, c->key);
	c->h = fqdn_hash(g->ckey, c->key, c->klen);
	c->stored = now;
	c->ttl = r->min_ttl;
	c->hnext = g->cbuckets[c->h & (g->cnb - 1)];
	g->cbuckets[c->h & (g->cnb - 1)] = c;
	c->prev = g->clast;
	if (g->clast)
		g->clast->next = c;
	else
		g->cfirst = c;
	g->clast = c;
	g->cn++;
}

static void cache_expire(struct dnsguard *g, int64_t now)
{
	struct centry *c = g->cfirst, *next;

	for (; c; c = next) {
		next = c->next;
		if (now >= c->stored + (int64_t)c->ttl * 1000)
			centry_unlink(g, c);
	}
}

/* ---- sending to clients ---- */

static void tconn_close(struct dnsguard *g, struct tconn *c);
static void tconn_kick(struct dnsguard *g, struct tconn *c);

static void udp_send(struct dnsguard *g, const struct client *cl,
		     const uint8_t *msg, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = {
		.msg_name = (void *)&cl->peer,
		.msg_namelen = cl->plen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};

	memset(&u, 0, sizeof(u));
	/* From the address the query went to, whatever we are bound to. */
	if (cl->has_local && cl->local.ss_family == AF_INET) {
		struct cmsghdr *cm = (struct cmsghdr *)u.buf;
		struct in_pktinfo pi = { 0 };

		pi.ipi_spec_dst =
			((const struct sockaddr_in *)&cl->local)->sin_addr;
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else if (cl->has_local && cl->local.ss_family == AF_INET6) {
		struct cmsghdr *cm = (struct cmsghdr *)u.buf;
		struct in6_pktinfo pi = { 0 };

		pi.ipi6_addr =
			((const struct sockaddr_in6 *)&cl->local)->sin6_addr;
		pi.ipi6_ifindex = (unsigned int)cl->ifindex;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
	}
	if (sendmsg(cl->ufd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		say(g, LOG_DEBUG, "send to client: %s", strerror(errno));
}

/* 1 when everything is out, 0 when the rest waits for EPOLLOUT, -1 when
 * the connection was closed. */
static int tconn_flush(struct dnsguard *g, struct tconn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->ev.fd, c->out + c->outoff,
				 c->outlen - c->outoff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->events != EPOLLOUT && !ep_mod(g, &c->ev,
							     EPOLLOUT))
				c->events = EPOLLOUT;
			return 0;
		}
		if (n <= 0) {
			tconn_close(g, c);
			return -1;
		}
		c->outoff += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	return 1;
}

/* The largest UDP answer the client said it takes. */
static size_t udp_limit(const struct dns_msg *q)
{
	if (!q || !q->edns || q->edns_udp < DNS_MAX_UDP)
		return DNS_MAX_UDP;
	return q->edns_udp;
}

static void client_reply(struct dnsguard *g, struct client *cl,
			 const uint8_t *query, const struct dns_msg *q,
			 int rcode, bool tc);

/* Sends `msg` (the client's ID already in it) to the client. */
static void client_send(struct dnsguard *g, struct client *cl,
			const uint8_t *query, const struct dns_msg *q,
			const uint8_t *msg, size_t len)
{
	struct tconn *c = cl->conn;

	if (!cl->tcp) {
		if (len > udp_limit(q))
			client_reply(g, cl, query, q,
				     dns_get16(msg + 2) & DNS_F_RCODE, true);
		else
			udp_send(g, cl, msg, len);
		return;
	}
	if (!c || c->ev.dead)
		return;		/* the connection went away meanwhile */
	c->out = malloc(len + 2);
	if (!c->out) {
		tconn_close(g, c);
		return;
	}
	dns_put16(c->out, (uint16_t)len);
	memcpy(c->out + 2, msg, len);
	c->outlen = len + 2;
	c->outoff = 0;
	if (tconn_flush(g, c) > 0)
		tconn_kick(g, c);
}

/* Header and question only: an error, or TC to send the client to TCP. */
static void client_reply(struct dnsguard *g, struct client *cl,
			 const uint8_t *query, const struct dns_msg *q,
			 int rcode, bool tc)
{
	uint8_t out[DNS_HDR_LEN + DNS_NAME_MAX + 4];
	int n = dns_build_reply(out, sizeof(out), query, q, rcode, tc);

	if (n > 0)
		client_send(g, cl, query, q, out, (size_t)n);
	else if (cl->tcp && cl->conn)
		tconn_close(g, cl->conn);
}

static void client_rcode(struct dnsguard *g, struct client *cl,
			 const uint8_t *query, const struct dns_msg *q,
			 int rcode)
{
	client_reply(g, cl, query, q, rcode, false);
}

/* ---- answering ---- */

static void qtype_text(uint16_t t, char *buf, size_t n)
{
	switch (t) {
	case DNS_T_A:		snprintf(buf, n, "A"); break;
	case DNS_T_AAAA:	snprintf(buf, n, "AAAA"); break;
	case DNS_T_CNAME:	snprintf(buf, n, "CNAME"); break;
	case DNS_T_HTTPS:	snprintf(buf, n, "HTTPS"); break;
	default:		snprintf(buf, n, "TYPE%u", t); break;
	}
}

static bool pend_grow(struct dnsguard *g)
{
	size_t cap = g->cap_pend ? g->cap_pend * 2 : 64;
	struct pend **v = reallocarray(g->pend, cap, sizeof(*v));

	if (!v)
		return false;
	g->pend = v;
	g->cap_pend = cap;
	return true;
}

static void pend_free(struct pend *p)
{
	if (!p)
		return;
	free(p->query);
	dns_msg_free(&p->q);
	free(p->msg);
	dns_msg_free(&p->r);
	free(p->cache);
	free(p->addrs);
	free(p);
}

/*
 * The answer `msg` (parsed as *r, which this takes over and clears) for
 * client query q: queued until the end of the round, when its addresses
 * are armed and it is released.  `cache`: cache the answer (as `msg` is
 * now) once released.  A TCP client sends nothing more meanwhile.
 */
static void release(struct dnsguard *g, struct client *cl,
		    const uint8_t *query, size_t qlen, const struct dns_msg *q,
		    const char *name, const uint8_t *msg, size_t len,
		    struct dns_msg *r, bool from_cache, bool cache)
{
	struct pend *p = calloc(1, sizeof(*p));

	if (!p || (g->n_pend == g->cap_pend && !pend_grow(g)))
		goto fail;
	p->cl = *cl;
	p->query = malloc(qlen);
	p->msg = malloc(len);
	p->addrs = calloc(r->ancount + 1u, sizeof(*p->addrs));
	if (cache)
		p->cache = malloc(len);
	if (!p->query || !p->msg || !p->addrs || (cache && !p->cache))
		goto fail;
	memcpy(p->query, query, qlen);
	/* Parsed again: our copy outlives the caller's buffer. */
	if (dns_parse(p->query, qlen, &p->q))
		goto fail;
	memcpy(p->msg, msg, len);
	if (cache)
		memcpy(p->cache, msg, len);
	p->len = len;
	p->r = *r;
	memset(r, 0, sizeof(*r));
	p->n = dns_chain_addrs(&p->r, p->addrs, p->r.ancount);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->from_cache = from_cache;
	if (cl->tcp && cl->conn)
		cl->conn->pending = true;
	g->pend[g->n_pend++] = p;
	return;
fail:
	pend_free(p);
	g->st.servfail++;
	client_rcode(g, cl, query, q, DNS_R_SERVFAIL);
}

/* Its elements are in the kernel (ret 0), or not: release or refuse. */
static void finish(struct dnsguard *g, struct pend *p,
		   const struct fqdn_answer *a)
{
	struct tconn *c = p->cl.tcp ? p->cl.conn : NULL;
	char t[16];

	if (c && !c->ev.dead)
		c->pending = false;
	qtype_text(p->q.qtype, t, sizeof(t));
	if (a->ret) {
		/* Fail closed: an address the sets do not hold is never
		 * handed out. */
		g->st.servfail++;
		complain(g, "%s %s: updating the FQDN sets failed: %s; "
			 "answered SERVFAIL", p->name, t,
			 a->err[0] ? a->err : strerror(-a->ret));
		client_rcode(g, &p->cl, p->query, &p->q, DNS_R_SERVFAIL);
		return;
	}
	say(g, LOG_DEBUG, "%s %s%s: %zu address%s, %u element%s armed, %u "
	    "refused (rebinding), %u over the cap, %u of a family no flow "
	    "uses", p->name, t, p->from_cache ? " (cache)" : "", p->n,
	    p->n == 1 ? "" : "es", a->res.armed, a->res.armed == 1 ? "" : "s",
	    a->res.unsafe, a->res.capped, a->res.unusable);
	g->st.answered++;
	/* Unchanged but for the ID and the question's spelling. */
	memcpy(p->msg, p->query, 2);
	memcpy(p->msg + DNS_HDR_LEN, p->query + DNS_HDR_LEN,
	       p->q.qend - DNS_HDR_LEN);
	if (p->cache)
		cache_put(g, &p->q, &p->r, p->cache, p->len, fqdn_now());
	client_send(g, &p->cl, p->query, &p->q, p->msg, p->len);
}

/* ---- the redundant pair ---- */

/* Sends every answer the kernel took to the peer: the standby then has
 * the addresses armed before a failover needs them (SPEC §8b). A lost
 * datagram is made good by the next answer or cache hit for the name. */
static void ha_replicate(struct dnsguard *g, const struct fqdn_answer *a,
			 size_t n)
{
	struct ha_msg m;

	if (!g->ha_link)
		return;
	for (size_t i = 0; i < n; i++) {
		int r;

		if (a[i].ret || !a[i].res.armed)
			continue;
		memset(&m, 0, sizeof(m));
		m.kind = HA_ANSWER;
		snprintf(m.name, sizeof(m.name), "%s", a[i].name);
		m.qtype = a[i].qtype;
		m.n = a[i].n < HA_MAX_ADDRS ? a[i].n : HA_MAX_ADDRS;
		memcpy(m.addrs, a[i].addrs, m.n * sizeof(*m.addrs));
		r = ha_send(g->ha_link, &m);
		if (r)
			say(g, LOG_DEBUG, "%s: replication to the peer: %s",
			    m.name, strerror(-r));
	}
}

static void own_digest(struct dnsguard *g, char hex[65])
{
	if (ha_table_digest(g->table ? g->table : "sanso", hex))
		hex[0] = '\0';
}

/* Each node sends its live table's digest; the receiver compares it
 * with its own. Both nodes run one deployment, so the digests match
 * (FQDN elements are not in them); a difference that outlasts an apply
 * on both nodes is peer_drift, raised once per pair of digests, on
 * each node that sees it. */
static void ha_send_digest(struct dnsguard *g)
{
	struct ha_msg m = { .kind = HA_DIGEST };

	own_digest(g, m.digest);
	ha_send(g->ha_link, &m);
}

static void ha_compare(struct dnsguard *g, const char *peer)
{
	char own[65], both[130];
	int64_t now = mono_ms();
	const char *verdict = "match";
	int r;

	own_digest(g, own);
	if (!strcmp(own, peer)) {
		g->ha_differ_since = 0;
		g->ha_alerted[0] = '\0';
	} else {
		if (!g->ha_differ_since)
			g->ha_differ_since = now;
		verdict = now - g->ha_differ_since >= HA_DRIFT_GRACE_MS ?
			  "differ" : "settling";
	}
	snprintf(both, sizeof(both), "%s%s", peer, own);
	if (!strcmp(verdict, "differ") && strcmp(both, g->ha_alerted)) {
		struct alert a;

		memset(&a, 0, sizeof(a));
		a.type = ALERT_PEER_DRIFT;
		clock_gettime(CLOCK_REALTIME, &a.time);
		a.src_tier = a.dst_tier = -1;
		a.count = 1;
		snprintf(a.message, sizeof(a.message), alert_text("the peer's "
			 "live table (%.12s) differs from this node's (%.12s) "
			 "for %llds: apply the same deployment on both nodes"),
			 peer[0] ? peer : "none", own[0] ? own : "none",
			 (long long)((now - g->ha_differ_since) / 1000));
		say(g, LOG_WARNING, "alert peer_drift: %s", a.message);
		if (g->hooks.alert)
			g->hooks.alert(g->hooks.arg, &a);
		snprintf(g->ha_alerted, sizeof(g->ha_alerted), "%s", both);
	}
	r = ha_peer_write(g->state_dir, peer, own, verdict,
			  fqdn_now() / 1000);
	if (r)
		complain(g, "writing %s/%s: %s", g->state_dir, HA_PEER_FILE,
			 strerror(-r));
}

/* The peer's answers are learned under this node's own rules (sets,
 * patterns, rebinding, caps): the peer cannot arm what this zone file
 * would not. */
static void ha_ready(struct dnsguard *g)
{
	struct ha_msg m;
	struct fqdn_result res;
	char err[256];
	int r;

	for (int i = 0; i < 256; i++) {
		r = ha_recv(g->ha_link, &m);
		if (r == 0)
			return;
		if (r < 0) {
			complain(g, "replication: a datagram refused (%s)",
				 strerror(-r));
			continue;
		}
		if (m.kind == HA_DIGEST) {
			ha_compare(g, m.digest);
			continue;
		}
		if (m.kind != HA_ANSWER)
			continue;
		err[0] = '\0';
		r = fqdn_state_learn(g->fs, m.name, m.qtype, m.addrs, m.n,
				     fqdn_now(), &res, err, sizeof(err));
		if (r)
			complain(g, "replication: %s: arming failed: %s",
				 m.name, err[0] ? err : strerror(-r));
		else
			say(g, LOG_DEBUG, "%s: %u element%s armed from the "
			    "peer", m.name, res.armed,
			    res.armed == 1 ? "" : "s");
	}
}

static void ha_close(struct dnsguard *g)
{
	if (!g->ha_link)
		return;
	epoll_ctl(g->ep, EPOLL_CTL_DEL, g->ha_ev.fd, NULL);
	ha_link_free(g->ha_link);
	g->ha_link = NULL;
}

static void ha_say_off(struct dnsguard *g, int err)
{
	if (err == ENOENT)
		say(g, LOG_WARNING, "replication to the peer is off: no %s/%s "
		    "(make it once: head -c 32 /dev/urandom >%s, mode 0600, "
		    "and copy the same file to the peer)", g->state_dir,
		    HA_KEY_FILE, HA_KEY_FILE);
	else if (err == EPERM)
		say(g, LOG_WARNING, "replication to the peer is off: %s/%s "
		    "must be a regular file of mode 0600 owned by this user "
		    "or root", g->state_dir, HA_KEY_FILE);
	else if (err == EINVAL)
		say(g, LOG_WARNING, "replication to the peer is off: %s/%s "
		    "is not 32 bytes", g->state_dir, HA_KEY_FILE);
	else if (err == EADDRNOTAVAIL)
		say(g, LOG_WARNING, "replication to the peer is off until "
		    "this node holds a gateway.ha node address");
	else
		say(g, LOG_WARNING, "replication to the peer is off: %s",
		    strerror(err));
}

/* Opens the replication socket once this node has its sync address;
 * retried every tick until then. */
static void ha_try_open(struct dnsguard *g)
{
	struct epoll_event e = { .events = EPOLLIN };

	if (g->ha_link || !g->ha.present || !g->state_dir || g->ep < 0)
		return;
	g->ha_link = ha_link_open(&g->ha, g->state_dir);
	if (!g->ha_link) {
		/* Said once per cause; the open is retried each tick, so
		 * a key copied in later takes effect without a restart. */
		int err = errno;

		if (err != g->ha_errno)
			ha_say_off(g, err);
		g->ha_errno = err;
		return;
	}
	g->ha_errno = 0;
	g->ha_ev.kind = EV_HA;
	g->ha_ev.fd = ha_link_fd(g->ha_link);
	e.data.ptr = &g->ha_ev;
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, g->ha_ev.fd, &e) < 0) {
		ha_link_free(g->ha_link);
		g->ha_link = NULL;
		return;
	}
	say(g, LOG_INFO, "replicating learned addresses with the peer "
	    "(this node is gateway.ha node %d)", ha_link_self(g->ha_link) + 1);
}

static void ha_conf_copy(struct dnsguard *g, const struct model *m)
{
	g->ha = m->gateway.ha;
	g->ha.sync_iface = NULL;
}

/*
 * Arms the elements of every answer of the round, in as few
 * transactions as fqdn_state_learn_batch() can share, then releases
 * each answer whose elements the kernel acknowledged.  Before reap():
 * a TCP client may have gone, but its memory is still there.  Sending
 * an answer to a TCP client may take its next query, which may queue
 * another answer: those make the next pass.
 */
static void flush(struct dnsguard *g)
{
	while (g->n_pend) {
		struct pend **v = g->pend;
		size_t n = g->n_pend;
		struct fqdn_answer *a = calloc(n, sizeof(*a));

		g->pend = NULL;
		g->n_pend = g->cap_pend = 0;
		for (size_t i = 0; a && i < n; i++) {
			a[i].name = v[i]->name;
			a[i].qtype = v[i]->q.qtype;
			a[i].addrs = v[i]->addrs;
			a[i].n = v[i]->n;
		}
		if (a) {
			fqdn_state_learn_batch(g->fs, a, n, fqdn_now());
			ha_replicate(g, a, n);
		}
		for (size_t i = 0; i < n; i++) {
			struct fqdn_answer oom = { .ret = -ENOMEM };

			finish(g, v[i], a ? &a[i] : &oom);
			pend_free(v[i]);
		}
		free(a);
		free(v);
	}
}

/* Every upstream failed: fall back on the last good answer. */
static void answer_stale(struct dnsguard *g, struct client *cl,
			 const uint8_t *query, const struct dns_msg *q,
			 const char *name, size_t up)
{
	struct dns_addr addrs[64];
	struct fqdn_result res;
	uint8_t out[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 64 * 28];
	char err[512], t[16];
	size_t n;
	int ret, len;
	int64_t now = fqdn_now();

	qtype_text(q->qtype, t, sizeof(t));
	ret = fqdn_state_stale(g->fs, name, q->qtype, &g->up[up], now, &res,
			       err, sizeof(err));
	if (ret < 0) {
		if (ret != -ENOENT)
			complain(g, "%s %s: re-arming the last good answer "
				 "failed: %s", name, t,
				 err[0] ? err : strerror(-ret));
		g->st.servfail++;
		client_rcode(g, cl, query, q, DNS_R_SERVFAIL);
		return;
	}
	n = fqdn_state_last(g->fs, name, q->qtype, now, addrs, 64);
	if (q->qtype == DNS_T_A || q->qtype == DNS_T_AAAA) {
		len = dns_build_answer(out, sizeof(out), query, q, addrs, n,
				       FQDN_STALE_TTL);
		if (len > 0) {
			g->st.stale++;
			say(g, LOG_DEBUG, "%s %s: upstream failed, %zu "
			    "address%s from the last good answer", name, t,
			    n, n == 1 ? "" : "es");
			client_send(g, cl, query, q, out, (size_t)len);
			return;
		}
	}
	g->st.servfail++;
	client_rcode(g, cl, query, q, DNS_R_SERVFAIL);
}

/* ---- transactions ---- */

static void txn_unlink(struct dnsguard *g, struct txn *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		g->txns = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		g->txn_tail = t->prev;
	t->prev = t->next = NULL;
}

static void txn_append(struct dnsguard *g, struct txn *t)
{
	t->prev = g->txn_tail;
	t->next = NULL;
	if (g->txn_tail)
		g->txn_tail->next = t;
	else
		g->txns = t;
	g->txn_tail = t;
}

static void txn_close_socket(struct txn *t)
{
	if (t->ev.fd >= 0)
		close(t->ev.fd);
	t->ev.fd = -1;
}

static void txn_destroy(struct txn *t)
{
	dns_msg_free(&t->q);
	free(t->query);
	free(t->rbuf);
	free(t);
}

/* The transaction is over; its TCP client may send the next query. */
static void txn_free(struct dnsguard *g, struct txn *t)
{
	struct tconn *c = t->cl.tcp ? t->cl.conn : NULL;

	txn_unlink(g, t);
	g->n_txns--;
	txn_close_socket(t);
	bury(g, &t->ev);
	if (c && !c->ev.dead) {
		c->txn = NULL;
		tconn_kick(g, c);
	}
}

/* Opens the socket of the current attempt and sends the query. */
static int txn_send(struct dnsguard *g, struct txn *t)
{
	struct sockaddr_storage ss;
	socklen_t sl = hostport_sa(&g->up[t->up], &ss);
	int fd, ret;

	txn_close_socket(t);
	free(t->rbuf);
	t->rbuf = NULL;
	t->rlen = t->woff = 0;
	t->connected = false;
	/* A new ID and, with a new socket, a new random source port. */
	dns_put16(t->query, random_id(g));
	fd = socket(ss.ss_family, (t->tcp ? SOCK_STREAM : SOCK_DGRAM) |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	t->ev.fd = fd;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS)
		return -errno;
	if (t->tcp) {
		t->rbuf = malloc(2 + DNS_MAX_MSG);
		if (!t->rbuf)
			return -ENOMEM;
		ret = ep_add(g, &t->ev, EPOLLOUT);
	} else {
		if (send(fd, t->query, t->qlen, MSG_NOSIGNAL) < 0)
			return -errno;
		ret = ep_add(g, &t->ev, EPOLLIN);
	}
	if (ret)
		return ret;
	g->st.forwarded++;
	t->deadline = mono_ms() + g->timeout_ms;
	txn_unlink(g, t);
	txn_append(g, t);
	return 0;
}

/* This attempt failed: the next upstream, or the fallback. */
static void txn_retry(struct dnsguard *g, struct txn *t, int err)
{
	char a[PREFIX_STRLEN];

	t->last_err = err;
	prefix_format(&g->up[t->up].addr, a, sizeof(a));
	say(g, LOG_DEBUG, "%s: upstream %s failed: %s", t->name, a,
	    strerror(err > 0 ? err : -err));
	while (++t->tries < g->attempts) {
		t->up = (t->up + 1) % g->n_up;
		t->tcp = false;
		if (!txn_send(g, t))
			return;
	}
	complain(g, "%s: no upstream resolver answered (last %s: %s)",
		 t->name, a, strerror(err > 0 ? err : -err));
	dns_put16(t->query, t->client_id);
	answer_stale(g, &t->cl, t->query, &t->q, t->name, t->up);
	txn_free(g, t);
}

/* A reply from the upstream: check it belongs, then use it.  Over TCP
 * (`stream`) a reply that is not ours ends the attempt. */
static void txn_reply(struct dnsguard *g, struct txn *t, uint8_t *msg,
		      size_t len, bool stream)
{
	struct dns_msg r;
	int rcode, ret;

	ret = dns_parse(msg, len, &r);
	if (ret) {
		g->st.bad_replies++;
		txn_retry(g, t, ret);
		return;
	}
	if (r.id != dns_get16(t->query) || !(r.flags & DNS_F_QR) ||
	    !dns_name_equal(&r.qname, &t->q.qname) ||
	    r.qtype != t->q.qtype || r.qclass != t->q.qclass) {
		/* Not ours (late, or forged): keep waiting. */
		g->st.bad_replies++;
		dns_msg_free(&r);
		if (stream)
			txn_retry(g, t, -EBADMSG);
		return;
	}
	if (r.flags & DNS_F_TC) {
		dns_msg_free(&r);
		if (!t->cl.tcp) {
			/* The client retries over TCP; nothing is armed
			 * from a partial answer. */
			dns_put16(t->query, t->client_id);
			client_reply(g, &t->cl, t->query, &t->q,
				     DNS_R_NOERROR, true);
			txn_free(g, t);
			return;
		}
		if (t->tcp) {
			txn_retry(g, t, -EBADMSG);
			return;
		}
		t->tcp = true;
		ret = txn_send(g, t);
		if (ret)
			txn_retry(g, t, ret);
		return;
	}
	rcode = r.flags & DNS_F_RCODE;
	if (rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN) {
		dns_msg_free(&r);
		txn_retry(g, t, rcode == DNS_R_REFUSED ? -EACCES : -EIO);
		return;
	}
	g->up_pref = t->up;
	dns_put16(t->query, t->client_id);
	/* Cached as the upstream sent it, once released. */
	release(g, &t->cl, t->query, t->qlen, &t->q, t->name, msg, len, &r,
		false, true);
	dns_msg_free(&r);
	txn_free(g, t);
}

static void txn_udp_ready(struct dnsguard *g, struct txn *t)
{
	for (int i = 0; i < 8; i++) {
		ssize_t n = recv(t->ev.fd, g->buf, sizeof(g->buf),
				 MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			/* ICMP unreachable: nobody at that port. */
			txn_retry(g, t, -errno);
			return;
		}
		if ((size_t)n > DNS_MAX_MSG) {
			g->st.bad_replies++;
			txn_retry(g, t, -EMSGSIZE);
			return;
		}
		/* Anything but a stray reply ends this socket. */
		{
			int fd = t->ev.fd;

			txn_reply(g, t, g->buf, (size_t)n, false);
			if (t->ev.dead || t->ev.fd != fd)
				return;
		}
	}
}

static void txn_tcp_ready(struct dnsguard *g, struct txn *t,
			  uint32_t events)
{
	ssize_t n;

	if (!t->connected) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(t->ev.fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err) {
			txn_retry(g, t, -err);
			return;
		}
		t->connected = true;
	}
	if (t->woff < t->qlen + 2) {
		uint8_t hdr[2];
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

		dns_put16(hdr, (uint16_t)t->qlen);
		if (t->woff < 2) {
			iov[0] = (struct iovec){ hdr + t->woff, 2 - t->woff };
			iov[1] = (struct iovec){ t->query, t->qlen };
		} else {
			mh.msg_iovlen = 1;
			iov[0] = (struct iovec){ t->query + t->woff - 2,
						 t->qlen + 2 - t->woff };
		}
		n = sendmsg(t->ev.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			txn_retry(g, t, -errno);
			return;
		}
		t->woff += (size_t)n;
		if (t->woff == t->qlen + 2)
			ep_mod(g, &t->ev, EPOLLIN);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(t->ev.fd, t->rbuf + t->rlen, 2 + DNS_MAX_MSG - t->rlen,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		txn_retry(g, t, n < 0 ? -errno : -ECONNRESET);
		return;
	}
	t->rlen += (size_t)n;
	if (t->rlen >= 2) {
		size_t want = dns_get16(t->rbuf);

		if (t->rlen >= 2 + want) {
			uint8_t *msg = t->rbuf + 2;

			/* Any further bytes are not a reply to us. */
			txn_reply(g, t, msg, want, true);
		}
	}
}

static struct txn *txn_new(struct dnsguard *g, const struct client *cl,
			   const uint8_t *query, size_t qlen, const char *name)
{
	struct txn *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->query = malloc(qlen);
	if (!t->query) {
		free(t);
		return NULL;
	}
	memcpy(t->query, query, qlen);
	t->qlen = qlen;
	t->ev.kind = EV_UPSTREAM;
	t->ev.fd = -1;
	t->cl = *cl;
	t->client_id = dns_get16(query);
	/* Parsed again: our copy outlives the caller's buffer. */
	if (dns_parse(t->query, qlen, &t->q)) {
		free(t->query);
		free(t);
		return NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->up = g->up_pref;
	g->n_txns++;
	txn_append(g, t);
	return t;
}

/* ---- queries ---- */

static bool served_type(uint16_t t)
{
	/* Zone transfers, ANY and the other meta types carry nothing a
	 * relay needs. */
	return t != DNS_T_ANY && t != DNS_T_AXFR && t != DNS_T_IXFR &&
	       !(t >= 128 && t <= 255) && t != DNS_T_OPT && t != 0;
}

/* One query from a client; the answer comes now or later. */
static void handle_query(struct dnsguard *g, struct client *cl,
			 uint8_t *query, size_t qlen)
{
	struct dns_msg q, r;
	char name[DNS_NAME_TEXT];
	struct centry *c;
	struct txn *t;
	unsigned int *idx = NULL, fam;
	size_t nset;
	int ret;
	int64_t now;

	if (qlen < DNS_HDR_LEN || (dns_get16(query + 2) & DNS_F_QR)) {
		/* Never answer an answer: no loops, no reflection. */
		if (cl->tcp && cl->conn)
			tconn_close(g, cl->conn);
		return;
	}
	ret = dns_parse(query, qlen, &q);
	if (ret) {
		g->st.formerr++;
		if (ret == -ENOMEM) {
			client_rcode(g, cl, query, NULL, DNS_R_SERVFAIL);
			return;
		}
		client_rcode(g, cl, query, NULL, DNS_R_FORMERR);
		return;
	}
	g->st.queries++;
	if (q.flags & DNS_F_OPCODE) {
		g->st.refused++;
		client_rcode(g, cl, query, &q, DNS_R_NOTIMP);
		goto out;
	}
	if (q.ancount || q.nscount) {
		g->st.formerr++;
		client_rcode(g, cl, query, &q, DNS_R_FORMERR);
		goto out;
	}
	idx = calloc(fqdn_state_nsets(g->fs) + 1, sizeof(*idx));
	if (!idx) {
		client_rcode(g, cl, query, &q, DNS_R_SERVFAIL);
		goto out;
	}
	if (q.qclass != DNS_C_IN || !served_type(q.qtype) ||
	    dns_name_to_text(&q.qname, name, sizeof(name)) ||
	    !(nset = fqdn_state_match(g->fs, name, idx))) {
		/* No lookup at all for a name no set allows: nothing
		 * leaks out, nothing tunnels through. */
		g->st.refused++;
		client_rcode(g, cl, query, &q, DNS_R_REFUSED);
		goto out;
	}
	fam = q.qtype == DNS_T_A ? POL_FAM_V4 :
	      q.qtype == DNS_T_AAAA ? POL_FAM_V6 : 0;
	if (fam && !(fqdn_state_families(g->fs, idx, nset) & fam)) {
		/* No flow could use such an address: the relay is told
		 * there is none (NODATA) and tries the other family, not
		 * an address the gateway drops. */
		g->st.nodata++;
		client_rcode(g, cl, query, &q, DNS_R_NOERROR);
		goto out;
	}
	now = fqdn_now();
	c = cache_find(g, &q, now);
	if (c) {
		uint32_t age = (uint32_t)((now - c->stored) / 1000);
		uint8_t *msg = malloc(c->len);

		if (!msg) {
			client_rcode(g, cl, query, &q, DNS_R_SERVFAIL);
			goto out;
		}
		memcpy(msg, c->msg, c->len);
		if (dns_rewrite_ttls(msg, c->len, age, 0) ||
		    dns_parse(msg, c->len, &r)) {
			free(msg);
			centry_unlink(g, c);
			goto forward;
		}
		g->st.cache_hits++;
		release(g, cl, query, qlen, &q, name, msg, c->len, &r, true,
			false);
		dns_msg_free(&r);
		free(msg);
		goto out;
	}
forward:
	if (g->n_txns >= g->pending_max) {
		g->st.dropped++;
		client_rcode(g, cl, query, &q, DNS_R_SERVFAIL);
		goto out;
	}
	t = txn_new(g, cl, query, qlen, name);
	if (!t) {
		client_rcode(g, cl, query, &q, DNS_R_SERVFAIL);
		goto out;
	}
	if (cl->tcp && cl->conn)
		cl->conn->txn = t;
	ret = txn_send(g, t);
	if (ret)
		txn_retry(g, t, ret);
out:
	free(idx);
	dns_msg_free(&q);
}

static void udp_ready(struct dnsguard *g, struct listener *l)
{
	for (int i = 0; i < 64; i++) {
		union {
			char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				 CMSG_SPACE(sizeof(struct in_pktinfo))];
			struct cmsghdr align;
		} u;
		struct client cl;
		struct iovec iov = { g->buf, sizeof(g->buf) };
		struct msghdr mh = {
			.msg_name = &cl.peer,
			.msg_namelen = sizeof(cl.peer),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = u.buf,
			.msg_controllen = sizeof(u.buf),
		};
		struct cmsghdr *cm;
		ssize_t n;

		memset(&cl, 0, sizeof(cl));
		n = recvmsg(l->ev.fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		/* An oversized datagram is not a DNS query. */
		if (mh.msg_flags & MSG_TRUNC || (size_t)n > DNS_MAX_MSG) {
			g->st.formerr++;
			continue;
		}
		cl.ufd = l->ev.fd;
		cl.plen = mh.msg_namelen;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				struct sockaddr_in *s =
					(struct sockaddr_in *)&cl.local;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				s->sin_family = AF_INET;
				s->sin_addr = pi.ipi_addr;
				cl.ifindex = pi.ipi_ifindex;
				cl.has_local = true;
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
				   cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;
				struct sockaddr_in6 *s =
					(struct sockaddr_in6 *)&cl.local;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				s->sin6_family = AF_INET6;
				s->sin6_addr = pi.ipi6_addr;
				cl.ifindex = (int)pi.ipi6_ifindex;
				cl.has_local = true;
			}
		}
		handle_query(g, &cl, g->buf, (size_t)n);
	}
}

/* ---- client TCP ---- */

static void tconn_destroy(struct tconn *c)
{
	free(c->in);
	free(c->out);
	free(c);
}

static void tconn_close(struct dnsguard *g, struct tconn *c)
{
	if (c->ev.dead)
		return;
	if (c->txn)
		c->txn->cl.conn = NULL;
	close(c->ev.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->n_conns--;
	bury(g, &c->ev);
}

/*
 * Handles the complete queries in the input buffer, one at a time (the
 * next once the previous is answered), then waits for more input.  A
 * loop, not recursion: an answer given at once comes back here.
 */
static void tconn_kick(struct dnsguard *g, struct tconn *c)
{
	if (c->ev.dead || c->in_kick)
		return;
	c->in_kick = true;
	c->idle = mono_ms() + TCP_IDLE_MS;
	while (!c->ev.dead && !c->txn && !c->pending && !c->outlen) {
		struct client cl = { .tcp = true, .conn = c };
		size_t want;
		uint8_t *q;

		if (c->inlen < 2 || c->inlen < 2 + (size_t)dns_get16(c->in)) {
			if (c->events != EPOLLIN && !ep_mod(g, &c->ev,
							    EPOLLIN))
				c->events = EPOLLIN;
			break;
		}
		want = dns_get16(c->in);
		if (want < DNS_HDR_LEN) {
			tconn_close(g, c);
			break;
		}
		q = malloc(want);
		if (!q) {
			tconn_close(g, c);
			break;
		}
		memcpy(q, c->in + 2, want);
		memmove(c->in, c->in + 2 + want, c->inlen - 2 - want);
		c->inlen -= 2 + want;
		cl.peer = c->peer;
		/* No reading while a query is in hand. */
		if (c->events && !ep_mod(g, &c->ev, 0))
			c->events = 0;
		handle_query(g, &cl, q, want);
		free(q);
	}
	c->in_kick = false;
}

static void tconn_ready(struct dnsguard *g, struct tconn *c, uint32_t ev)
{
	ssize_t n;

	if (c->outlen && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		if (tconn_flush(g, c) > 0)
			tconn_kick(g, c);
		return;
	}
	if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(c->ev.fd, c->in + c->inlen, 2 + DNS_MAX_MSG - c->inlen,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		tconn_close(g, c);
		return;
	}
	c->inlen += (size_t)n;
	tconn_kick(g, c);
}

static void tcp_accept(struct dnsguard *g, struct listener *l)
{
	for (int i = 0; i < 16; i++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		struct tconn *c;
		int fd = accept4(l->ev.fd, (struct sockaddr *)&peer, &pl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (g->n_conns >= g->tcp_max) {
			/* The oldest idle one makes room. */
			struct tconn *o = NULL;

			for (c = g->conns; c; c = c->next)
				if (!c->txn && (!o || c->idle < o->idle))
					o = c;
			if (!o) {
				g->st.dropped++;
				close(fd);
				continue;
			}
			tconn_close(g, o);
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(2 + DNS_MAX_MSG);
		if (!c || !c->in) {
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->ev.kind = EV_TCP_CLIENT;
		c->ev.fd = fd;
		c->peer = peer;
		c->idle = mono_ms() + TCP_IDLE_MS;
		c->events = EPOLLIN;
		if (ep_add(g, &c->ev, EPOLLIN)) {
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->next = g->conns;
		if (g->conns)
			g->conns->prev = c;
		g->conns = c;
		g->n_conns++;
	}
}

/* ---- setup ---- */

static int listen_one(struct dnsguard *g, const struct sockaddr_storage *ss,
		      socklen_t sl, int type, char *err, size_t errlen)
{
	struct listener *l = &g->ls[g->n_ls];
	int one = 1, fd, ret;
	char a[INET6_ADDRSTRLEN];

	fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Start before the address is configured (boot order). */
	if (ss->ss_family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one,
			   sizeof(one));
	if (type == SOCK_DGRAM) {
		/* The kernel's buffers are the queue in front of the guard:
		 * a burst that outruns it must wait there, to be answered
		 * (SERVFAIL past pending_max), not dropped unseen. */
		int got = sock_buf(fd, false, UDP_BUF);

		if (got >= 0 && got < UDP_BUF)
			say(g, LOG_NOTICE, "udp receive buffer %d bytes, not "
			    "%d: a burst of queries beyond it is dropped "
			    "unanswered (raise net.core.rmem_max)", got,
			    UDP_BUF);
		sock_buf(fd, true, UDP_BUF);
		if (ss->ss_family == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one,
				   sizeof(one));
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
				   sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)ss, sl) < 0)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 64) < 0)
		goto fail;
	l->ev.kind = type == SOCK_DGRAM ? EV_UDP : EV_TCP_LISTEN;
	l->ev.fd = fd;
	l->alen = sizeof(l->addr);
	getsockname(fd, (struct sockaddr *)&l->addr, &l->alen);
	ret = ep_add(g, &l->ev, EPOLLIN);
	if (ret) {
		errno = -ret;
		goto fail;
	}
	g->n_ls++;
	return 0;
fail:
	ret = -errno;
	addr_text(ss, a, sizeof(a));
	snprintf(err, errlen, _("%s %s port %u: %s"),
		 type == SOCK_DGRAM ? "udp" : "tcp", a,
		 ntohs(((const struct sockaddr_in *)ss)->sin_port),
		 strerror(-ret));
	if (fd >= 0)
		close(fd);
	return ret;
}

static int open_listeners(struct dnsguard *g, const struct hostport *hp,
			  size_t n, char *err, size_t errlen)
{
	struct hostport any[2];
	int ret;

	if (!n) {
		memset(any, 0, sizeof(any));
		any[0].addr.family = AF_INET;
		any[0].addr.len = 32;
		any[0].port = 53;
		any[1].addr.family = AF_INET6;
		any[1].addr.len = 128;
		any[1].port = 53;
		hp = any;
		n = 2;
	}
	g->ls = calloc(2 * n, sizeof(*g->ls));
	if (!g->ls)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = hostport_sa(&hp[i], &ss);

		ret = listen_one(g, &ss, sl, SOCK_DGRAM, err, errlen);
		if (ret)
			return ret;
		/* Port 0 (tests): TCP on the port UDP got. */
		if (!hp[i].port) {
			struct sockaddr_storage *got = &g->ls[g->n_ls - 1].addr;

			((struct sockaddr_in *)&ss)->sin_port =
				((struct sockaddr_in *)got)->sin_port;
		}
		ret = listen_one(g, &ss, sl, SOCK_STREAM, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

void dnsguard_free(struct dnsguard *g)
{
	if (!g)
		return;
	if (g->fs && g->state_dir)
		dnsguard_save(g);
	for (size_t i = 0; i < g->n_pend; i++)
		pend_free(g->pend[i]);
	free(g->pend);
	g->pend = NULL;
	g->n_pend = 0;
	while (g->conns)
		tconn_close(g, g->conns);
	while (g->txns)
		txn_free(g, g->txns);
	reap(g);
	while (g->cfirst)
		centry_unlink(g, g->cfirst);
	free(g->cbuckets);
	ha_close(g);
	for (size_t i = 0; i < g->n_ls; i++)
		close(g->ls[i].ev.fd);
	free(g->ls);
	if (g->ep >= 0)
		close(g->ep);
	fqdn_state_free(g->fs);
	free(g->up);
	free(g->state_dir);
	free(g->table);
	free(g);
}

struct dnsguard *dnsguard_new(const struct model *m,
			      const struct dnsguard_conf *conf,
			      char *err, size_t errlen)
{
	struct dnsguard_conf defaults = { 0 };
	char errbuf[256];
	struct fqdn_conf fc = { 0 };
	const struct hostport *up, *ls;
	struct dnsguard *g;
	size_t n_up, n_ls;
	int ret = -ENOMEM;

	if (!conf)
		conf = &defaults;
	if (!err || !errlen) {
		err = errbuf;
		errlen = sizeof(errbuf);
	}
	err[0] = '\0';
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	g->ep = -1;
	g->hooks = conf->hooks;
	up = conf->n_upstream ? conf->upstream : m->gateway.dns_upstream;
	n_up = conf->n_upstream ? conf->n_upstream :
		m->gateway.n_dns_upstream;
	ls = conf->n_listen ? conf->listen : m->gateway.dns_listen;
	n_ls = conf->n_listen ? conf->n_listen : m->gateway.n_dns_listen;
	if (!n_up) {
		ret = -EINVAL;
		snprintf(err, errlen, _("no upstream resolver: set "
			 "gateway.dns.upstream in the zone file"));
		goto fail;
	}
	g->up = calloc(n_up, sizeof(*g->up));
	if (!g->up)
		goto fail;
	memcpy(g->up, up, n_up * sizeof(*up));
	g->n_up = n_up;
	g->timeout_ms = conf->timeout_ms ? conf->timeout_ms :
			DEFAULT_TIMEOUT_MS;
	g->attempts = conf->attempts ? conf->attempts :
		      n_up > 2 ? (unsigned int)n_up : 2;
	g->save_every = conf->save_every ? conf->save_every :
			DEFAULT_SAVE_EVERY;
	g->cache_max = conf->cache_max ? conf->cache_max : DEFAULT_CACHE_MAX;
	g->pending_max = conf->pending_max ? conf->pending_max :
			 DEFAULT_PENDING_MAX;
	g->tcp_max = conf->tcp_max ? conf->tcp_max : DEFAULT_TCP_MAX;
	if (conf->state_dir && !(g->state_dir = strdup(conf->state_dir)))
		goto fail;
	if (getrandom(g->ckey, sizeof(g->ckey), 0) != sizeof(g->ckey)) {
		ret = -errno;
		goto fail;
	}

	g->up_fixed = conf->n_upstream > 0;
	/* The caller's string may not outlive this call; a reload after a
	 * new deployment lists the sets by this name. */
	g->table = strdup(conf->table ? conf->table : "sanso");
	if (!g->table)
		goto fail;
	fc.table = g->table;
	fc.kernel = conf->kernel;
	fc.hooks = conf->hooks;
	g->fc = fc;
	g->fs = fqdn_state_new(m, &fc);
	if (!g->fs) {
		ret = -errno;
		goto fail;
	}
	/* The sets before the first answer: restoring also proves that
	 * every set exists in the kernel. */
	if (g->state_dir)
		ret = fqdn_state_restore(g->fs, g->state_dir, fqdn_now(), err,
					 errlen);
	else
		ret = fqdn_state_reconcile(g->fs, fqdn_now(), err, errlen);
	if (ret < 0) {
		if (ret == -ENOENT) {
			size_t l = strlen(err);

			snprintf(err + l, errlen - l, _("%s(is the ruleset "
				 "loaded? sanso apply)"), l ? " " : "");
		}
		goto fail;
	}
	if (ret > 0)
		say(g, LOG_INFO, "restored %d FQDN set element%s from %s", ret,
		    ret == 1 ? "" : "s", g->state_dir);

	g->ep = epoll_create1(EPOLL_CLOEXEC);
	if (g->ep < 0) {
		ret = -errno;
		goto fail;
	}
	ret = open_listeners(g, ls, n_ls, err, errlen);
	if (ret)
		goto fail;
	ha_conf_copy(g, m);
	ha_try_open(g);
	g->next_tick = mono_ms() + TICK_MS;
	g->next_gc = mono_ms() + GC_EVERY_MS;
	g->next_save = mono_ms() + (int64_t)g->save_every * 1000;
	return g;
fail:
	if (!err[0])
		snprintf(err, errlen, "%s", strerror(-ret));
	/* Nothing was learned: keep the state file as it is. */
	free(g->state_dir);
	g->state_dir = NULL;
	dnsguard_free(g);
	errno = -ret;
	return NULL;
}

int dnsguard_reload(struct dnsguard *g, const struct model *m, char *err,
		    size_t errlen)
{
	struct hostport *up = NULL;
	struct fqdn_state *fs;
	char buf[256];
	int ret;

	if (!err || !errlen) {
		err = buf;
		errlen = sizeof(buf);
	}
	err[0] = '\0';
	if (!g->up_fixed) {
		if (!m->gateway.n_dns_upstream) {
			snprintf(err, errlen, _("no upstream resolver: set "
				 "gateway.dns.upstream in the zone file"));
			return -EINVAL;
		}
		up = calloc(m->gateway.n_dns_upstream, sizeof(*up));
		if (!up)
			return -ENOMEM;
		memcpy(up, m->gateway.dns_upstream,
		       m->gateway.n_dns_upstream * sizeof(*up));
	}
	fs = fqdn_state_new(m, &g->fc);
	if (!fs) {
		ret = -errno;
		free(up);
		snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	if (g->state_dir) {
		ret = fqdn_state_save(g->fs, g->state_dir, fqdn_now());
		if (ret)
			say(g, LOG_ERR, "saving %s/fqdn.state: %s",
			    g->state_dir, strerror(-ret));
		ret = fqdn_state_restore(fs, g->state_dir, fqdn_now(), err,
					 errlen);
	} else {
		ret = fqdn_state_reconcile(fs, fqdn_now(), err, errlen);
	}
	if (ret < 0) {
		fqdn_state_free(fs);
		free(up);
		if (!err[0])
			snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	fqdn_state_free(g->fs);
	g->fs = fs;
	if (up) {
		free(g->up);
		g->up = up;
		g->n_up = m->gateway.n_dns_upstream;
		g->up_pref = 0;
		for (struct txn *t = g->txns; t; t = t->next)
			t->up %= g->n_up;
	}
	while (g->cfirst)
		centry_unlink(g, g->cfirst);
	/* The pair may have changed: reopen at the next tick. */
	ha_close(g);
	ha_conf_copy(g, m);
	g->ha_errno = 0;
	return 0;
}

int dnsguard_fd(const struct dnsguard *g)
{
	return g->ep;
}

int dnsguard_timeout(const struct dnsguard *g)
{
	int64_t now = mono_ms(), next = g->next_tick;

	if (g->txns && g->txns->deadline < next)
		next = g->txns->deadline;
	for (const struct tconn *c = g->conns; c; c = c->next)
		if (c->idle < next)
			next = c->idle;
	if (next <= now)
		return 0;
	return next - now > INT32_MAX ? INT32_MAX : (int)(next - now);
}

int dnsguard_save(struct dnsguard *g)
{
	int ret;

	if (!g->state_dir)
		return 0;
	ret = fqdn_state_save(g->fs, g->state_dir, fqdn_now());
	if (ret)
		say(g, LOG_ERR, "saving %s/fqdn.state: %s", g->state_dir,
		    strerror(-ret));
	return ret;
}

static void timers(struct dnsguard *g)
{
	int64_t now = mono_ms();
	struct tconn *c, *next;
	char err[512];
	int ret;

	/* Transactions are in deadline order. */
	while (g->txns && g->txns->deadline <= now)
		txn_retry(g, g->txns, -ETIMEDOUT);
	for (c = g->conns; c; c = next) {
		next = c->next;
		if (c->idle <= now && !c->txn)
			tconn_close(g, c);
	}
	if (now >= g->next_tick) {
		g->next_tick = now + TICK_MS;
		ha_try_open(g);
		if (g->ha_link && now >= g->ha_next_digest) {
			g->ha_next_digest = now + HA_DIGEST_EVERY_MS;
			ha_send_digest(g);
		}
		ret = fqdn_state_check_kernel(g->fs, fqdn_now(), err,
					      sizeof(err));
		if (ret < 0)
			complain(g, "checking the FQDN sets: %s",
				 err[0] ? err : strerror(-ret));
	}
	if (now >= g->next_gc) {
		g->next_gc = now + GC_EVERY_MS;
		fqdn_state_gc(g->fs, fqdn_now());
		cache_expire(g, fqdn_now());
	}
	if (now >= g->next_save) {
		g->next_save = now + (int64_t)g->save_every * 1000;
		dnsguard_save(g);
	}
}

int dnsguard_process(struct dnsguard *g)
{
	struct epoll_event evs[64];
	int handled = 0;

	while (handled < EVENTS_PER_CALL) {
		int n = epoll_wait(g->ep, evs, 64, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			struct ev *ev = evs[i].data.ptr;

			if (ev->dead)
				continue;
			switch (ev->kind) {
			case EV_UDP:
				udp_ready(g, (struct listener *)ev);
				break;
			case EV_TCP_LISTEN:
				tcp_accept(g, (struct listener *)ev);
				break;
			case EV_TCP_CLIENT:
				tconn_ready(g, (struct tconn *)ev,
					    evs[i].events);
				break;
			case EV_HA:
				ha_ready(g);
				break;
			case EV_UPSTREAM: {
				struct txn *t = (struct txn *)ev;

				if (t->tcp)
					txn_tcp_ready(g, t, evs[i].events);
				else
					txn_udp_ready(g, t);
				break;
			}
			}
		}
		handled += n;
		flush(g);
		reap(g);
	}
	timers(g);
	flush(g);
	reap(g);
	return 0;
}

int dnsguard_listen_addr(const struct dnsguard *g, size_t i,
			 struct sockaddr_storage *ss)
{
	if (2 * i >= g->n_ls)
		return -ENOENT;
	*ss = g->ls[2 * i].addr;
	return 0;
}

struct fqdn_state *dnsguard_fqdn(struct dnsguard *g)
{
	return g->fs;
}

void dnsguard_stats(const struct dnsguard *g, struct dnsguard_stats *st)
{
	*st = g->st;
	fqdn_state_stats(g->fs, &st->fqdn);
}

/* ---- one blocking exchange (sanso resolve) ---- */

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - mono_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0)
			return 0;
	}
}

static bool reply_matches(const struct dns_msg *r, const uint8_t *query,
			  const struct dns_msg *q)
{
	return r->id == dns_get16(query) && (r->flags & DNS_F_QR) &&
	       dns_name_equal(&r->qname, &q->qname) && r->qtype == q->qtype &&
	       r->qclass == q->qclass;
}

/* Sends all of buf on a blocking-by-poll socket. */
static int send_all(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int ret = wait_fd(fd, POLLOUT, deadline);

			if (ret)
				return ret;
			continue;
		}
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = recv(fd, buf + off, len - off, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int ret = wait_fd(fd, POLLIN, deadline);

			if (ret)
				return ret;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		off += (size_t)n;
	}
	return 0;
}

/* One attempt: the reply parsed into r, which the caller frees. */
static int attempt(const struct hostport *up, const uint8_t *query,
		   size_t qlen, const struct dns_msg *q, bool tcp,
		   unsigned int timeout_ms, uint8_t *buf, struct dns_msg *r)
{
	struct sockaddr_storage ss;
	socklen_t sl = hostport_sa(up, &ss);
	int64_t deadline = mono_ms() + timeout_ms;
	int fd, ret;

	fd = socket(ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		ret = -errno;
		if (ret != -EINPROGRESS)
			goto out;
		ret = wait_fd(fd, POLLOUT, deadline);
		if (!ret) {
			int e = 0;
			socklen_t l = sizeof(e);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
			ret = -e;
		}
		if (ret)
			goto out;
	}
	if (tcp) {
		uint8_t hdr[2];
		size_t len;

		dns_put16(hdr, (uint16_t)qlen);
		ret = send_all(fd, hdr, 2, deadline);
		if (!ret)
			ret = send_all(fd, query, qlen, deadline);
		if (!ret)
			ret = recv_all(fd, hdr, 2, deadline);
		if (ret)
			goto out;
		len = dns_get16(hdr);
		ret = recv_all(fd, buf, len, deadline);
		if (ret)
			goto out;
		ret = dns_parse(buf, len, r);
		if (!ret && !reply_matches(r, query, q)) {
			dns_msg_free(r);
			ret = -EBADMSG;
		}
		goto out;
	}
	if (send(fd, query, qlen, MSG_NOSIGNAL) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n;

		ret = wait_fd(fd, POLLIN, deadline);
		if (ret)
			goto out;
		n = recv(fd, buf, DNS_MAX_MSG + 1, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if ((size_t)n > DNS_MAX_MSG ||
		    dns_parse(buf, (size_t)n, r))
			continue;	/* garbage: wait for the real one */
		if (reply_matches(r, query, q))
			break;
		dns_msg_free(r);
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

int dnsguard_exchange(const struct hostport *up, size_t n_up,
		      const struct dns_name *qname, uint16_t qtype,
		      unsigned int timeout_ms, struct dns_msg *reply,
		      size_t *which)
{
	uint8_t query[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	uint8_t *buf = malloc(DNS_MAX_MSG + 1);
	struct dns_msg q;
	uint16_t id;
	int len, ret = -ENOENT;

	memset(reply, 0, sizeof(*reply));
	if (!buf)
		return -ENOMEM;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)mono_ms();
	len = dns_build_query(query, sizeof(query), id, qname, qtype,
			      DNS_EDNS_UDP);
	if (len < 0 || dns_parse(query, (size_t)len, &q)) {
		free(buf);
		return len < 0 ? len : -EINVAL;
	}
	for (size_t i = 0; i < n_up; i++) {
		struct dns_msg r;
		int rcode;

		if (which)
			*which = i;
		ret = attempt(&up[i], query, (size_t)len, &q, false,
			      timeout_ms, buf, &r);
		if (!ret && (r.flags & DNS_F_TC)) {
			dns_msg_free(&r);
			ret = attempt(&up[i], query, (size_t)len, &q, true,
				      timeout_ms, buf, &r);
		}
		if (ret)
			continue;
		rcode = r.flags & DNS_F_RCODE;
		if (rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN) {
			dns_msg_free(&r);
			ret = rcode == DNS_R_REFUSED ? -EACCES : -EIO;
			continue;
		}
		*reply = r;
		break;
	}
	dns_msg_free(&q);
	free(buf);
	return ret;
}
