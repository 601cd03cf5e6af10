// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nf_tables over netlink: one batch built in memory, sent in one
 * sendmsg(), every reply read and checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <linux/sched.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include <libnftnl/gen.h>
#include <libnftnl/udata.h>

#include "ctnetlink.h"
#include "i18n.h"
#include "kernel.h"

/*
 * Free room kept before every message: libnftnl writes without bounds
 * checks, and the largest nf_tables message (a set element list, one
 * attribute of at most 64 KiB) is a little over 64 KiB.
 */
#define MSG_ROOM	(2 * 65536)
/* Large enough for any single reply, including a capped error. */
#define RECV_BUF	(65536 + 8192)
/*
 * What one acknowledgement costs in the receive buffer: each is its own
 * small skb, charged with its truesize (some 700 bytes), not its length.
 * The kernel queues all of them before sendmsg() returns, so the buffer
 * must hold every one, or they are dropped and the outcome is unknown.
 */
#define ACK_COST	1024
/* Largest batch we agree to build; the socket buffers are ints. */
#define BATCH_MAX	((size_t)INT_MAX / 4)

struct kbatch {
	char *buf;		/* the messages between begin and end */
	size_t len, cap;
	uint32_t *off;		/* where message i starts in buf */
	size_t n, ncap;
	uint32_t seq0;		/* begin; message i has seq0 + 1 + i */
	uint32_t genid;
	/* Tables this batch replaces whole, and whether every message stays
	 * inside one of them, i.e. the batch needs nothing that exists. */
	struct { uint16_t family; char *name; } *replaced;
	size_t nreplaced;
	bool foreign;
};

struct kbatch *kbatch_new(void)
{
	struct kbatch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	/* Any start works; a varying one keeps stray replies from an
	 * earlier run on a reused port id from matching. */
	b->seq0 = (uint32_t)time(NULL) << 8;
	return b;
}

void kbatch_free(struct kbatch *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->nreplaced; i++)
		free(b->replaced[i].name);
	free(b->replaced);
	free(b->buf);
	free(b->off);
	free(b);
}

size_t kbatch_count(const struct kbatch *b)
{
	return b->n;
}

const struct nlmsghdr *kbatch_msg(const struct kbatch *b, size_t i)
{
	return i < b->n ? (const struct nlmsghdr *)(b->buf + b->off[i]) : NULL;
}

size_t kbatch_size(const struct kbatch *b)
{
	return b->len;
}

void kbatch_set_genid(struct kbatch *b, uint32_t genid)
{
	b->genid = genid;
}

static bool is_replaced(const struct kbatch *b, uint16_t family,
			const char *name)
{
	size_t i;

	for (i = 0; i < b->nreplaced; i++)
		if (b->replaced[i].family == family &&
		    !strcmp(b->replaced[i].name, name))
			return true;
	return false;
}

static void note_table(struct kbatch *b, uint16_t family, const char *name)
{
	if (!is_replaced(b, family, name))
		b->foreign = true;
}

/* Makes room for one more message and writes its header. */
static struct nlmsghdr *msg_start(struct kbatch *b, uint16_t type,
				  uint16_t family, uint16_t flags)
{
	if (b->cap - b->len < MSG_ROOM) {
		size_t cap = b->cap ? b->cap * 2 : 1 << 20;
		char *p;

		while (cap - b->len < MSG_ROOM)
			cap *= 2;
		if (cap > BATCH_MAX + MSG_ROOM) {
			errno = EMSGSIZE;
			return NULL;
		}
		p = realloc(b->buf, cap);
		if (!p)
			return NULL;
		b->buf = p;
		b->cap = cap;
	}
	if (b->n == b->ncap) {
		size_t ncap = b->ncap ? b->ncap * 2 : 256;
		uint32_t *o = reallocarray(b->off, ncap, sizeof(*o));

		if (!o)
			return NULL;
		b->off = o;
		b->ncap = ncap;
	}
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, family,
				     flags | NLM_F_ACK, b->seq0 + 1 + b->n);
}

static int msg_done(struct kbatch *b, struct nlmsghdr *nlh)
{
	size_t len = NLMSG_ALIGN(nlh->nlmsg_len);

	if (b->len + len > BATCH_MAX)
		return -EMSGSIZE;
	b->off[b->n++] = b->len;
	b->len += len;
	return 0;
}

static int put_table(struct kbatch *b, uint16_t type, uint16_t flags,
		     const struct nftnl_table *t)
{
	struct nlmsghdr *nlh;

	nlh = msg_start(b, type, nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY),
			flags);
	if (!nlh)
		return -errno;
	nftnl_table_nlmsg_build_payload(nlh, t);
	return msg_done(b, nlh);
}

/* A table object that carries nothing but its identity. */
static struct nftnl_table *bare_table(uint16_t family, const char *name)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return NULL;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, name) < 0) {
		nftnl_table_free(t);
		return NULL;
	}
	return t;
}

static bool table_ok(const struct nftnl_table *t)
{
	return t && nftnl_table_is_set(t, NFTNL_TABLE_FAMILY) &&
	       nftnl_table_is_set(t, NFTNL_TABLE_NAME);
}

int kbatch_add_table(struct kbatch *b, const struct nftnl_table *t)
{
	if (!table_ok(t))
		return -EINVAL;
	note_table(b, nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY),
		   nftnl_table_get_str(t, NFTNL_TABLE_NAME));
	return put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, t);
}

int kbatch_del_table(struct kbatch *b, uint16_t family, const char *name)
{
	struct nftnl_table *t;
	int ret;

	if (!name)
		return -EINVAL;
	t = bare_table(family, name);
	if (!t)
		return -errno;
	note_table(b, family, name);
	ret = put_table(b, NFT_MSG_DELTABLE, 0, t);
	nftnl_table_free(t);
	return ret;
}

int kbatch_replace_table(struct kbatch *b, const struct nftnl_table *t)
{
	struct nftnl_table *bare = NULL;
	size_t len = b->len, n = b->n;
	uint16_t family;
	const char *name;
	char *copy = NULL;
	void *p;
	int ret;

	if (!table_ok(t))
		return -EINVAL;
	family = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
	name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
	ret = -ENOMEM;
	bare = bare_table(family, name);
	copy = strdup(name);
	p = reallocarray(b->replaced, b->nreplaced + 1, sizeof(*b->replaced));
	if (!bare || !copy || !p)
		goto out;
	b->replaced = p;

	ret = put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, bare);
	if (!ret)
		ret = put_table(b, NFT_MSG_DELTABLE, 0, bare);
	if (!ret)
		ret = put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, t);
	if (ret) {
		b->len = len;
		b->n = n;
		goto out;
	}
	b->replaced[b->nreplaced].family = family;
	b->replaced[b->nreplaced++].name = copy;
	copy = NULL;
out:
	free(copy);
	if (bare)
		nftnl_table_free(bare);
	return ret;
}

int kbatch_add_chain(struct kbatch *b, const struct nftnl_chain *c)
{
	struct nlmsghdr *nlh;
	uint16_t family;

	if (!c || !nftnl_chain_is_set(c, NFTNL_CHAIN_FAMILY) ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_TABLE) ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_NAME))
		return -EINVAL;
	family = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	nlh = msg_start(b, NFT_MSG_NEWCHAIN, family,
			NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		return -errno;
	note_table(b, family, nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE));
	nftnl_chain_nlmsg_build_payload(nlh, c);
	return msg_done(b, nlh);
}

static bool set_ok(const struct nftnl_set *s)
{
	return s && nftnl_set_is_set(s, NFTNL_SET_FAMILY) &&
	       nftnl_set_is_set(s, NFTNL_SET_TABLE) &&
	       nftnl_set_is_set(s, NFTNL_SET_NAME);
}

int kbatch_add_set(struct kbatch *b, struct nftnl_set *s)
{
	struct nlmsghdr *nlh;
	uint16_t family;

	if (!set_ok(s))
		return -EINVAL;
	family = nftnl_set_get_u32(s, NFTNL_SET_FAMILY);
	nlh = msg_start(b, NFT_MSG_NEWSET, family, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		return -errno;
	note_table(b, family, nftnl_set_get_str(s, NFTNL_SET_TABLE));
	nftnl_set_nlmsg_build_payload(nlh, s);
	return msg_done(b, nlh);
}

/* Elements go in as many messages as their size needs (an attribute holds
 * at most 64 KiB): NEWSETELEM to add, DELSETELEM to delete. */
static int batch_elems(struct kbatch *b, struct nftnl_set *s, uint16_t type,
		       uint16_t flags)
{
	struct nftnl_set_elems_iter *it = NULL;
	size_t len = b->len, n = b->n;
	struct nlmsghdr *nlh;
	uint16_t family;
	int more, ret = 0, count = 0;

	if (!set_ok(s))
		return -EINVAL;
	it = nftnl_set_elems_iter_create(s);
	if (!it)
		return -errno;
	if (!nftnl_set_elems_iter_cur(it))
		goto out;
	family = nftnl_set_get_u32(s, NFTNL_SET_FAMILY);
	note_table(b, family, nftnl_set_get_str(s, NFTNL_SET_TABLE));
	do {
		nlh = msg_start(b, type, family, flags);
		if (!nlh) {
			ret = -errno;
			break;
		}
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		ret = msg_done(b, nlh);
		count++;
	} while (!ret && more > 0);
	if (ret) {
		b->len = len;
		b->n = n;
	}
out:
	nftnl_set_elems_iter_destroy(it);
	return ret ? ret : count;
}

int kbatch_add_elems(struct kbatch *b, struct nftnl_set *s)
{
	return batch_elems(b, s, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
}

int kbatch_del_elems(struct kbatch *b, struct nftnl_set *s)
{
	return batch_elems(b, s, NFT_MSG_DELSETELEM, 0);
}

int kbatch_add_rule(struct kbatch *b, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh;
	uint16_t family;

	if (!r || !nftnl_rule_is_set(r, NFTNL_RULE_FAMILY) ||
	    !nftnl_rule_is_set(r, NFTNL_RULE_TABLE) ||
	    !nftnl_rule_is_set(r, NFTNL_RULE_CHAIN))
		return -EINVAL;
	family = nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
	nlh = msg_start(b, NFT_MSG_NEWRULE, family,
			NLM_F_CREATE | NLM_F_APPEND);
	if (!nlh)
		return -errno;
	note_table(b, family, nftnl_rule_get_str(r, NFTNL_RULE_TABLE));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	return msg_done(b, nlh);
}

int kbatch_del_named(struct kbatch *b, enum kbatch_del what,
		     uint16_t family, const char *table, const char *name)
{
	/* The message, and the attribute that names the object; the
	 * table is attribute 1 of each. */
	static const struct { uint16_t type, name; } m[] = {
		[KDEL_RULES] = { NFT_MSG_DELRULE, NFTA_RULE_CHAIN },
		[KDEL_CHAIN] = { NFT_MSG_DELCHAIN, NFTA_CHAIN_NAME },
		[KDEL_SET] = { NFT_MSG_DELSET, NFTA_SET_NAME },
		[KDEL_ELEMS] = { NFT_MSG_DELSETELEM, NFTA_SET_ELEM_LIST_SET },
	};
	struct nlmsghdr *nlh;

	if (!table || !name || what < 0 || what > KDEL_ELEMS)
		return -EINVAL;
	nlh = msg_start(b, m[what].type, family, 0);
	if (!nlh)
		return -errno;
	note_table(b, family, table);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
	mnl_attr_put_strz(nlh, m[what].name, name);
	return msg_done(b, nlh);
}

int kbatch_add_copy(struct kbatch *b, const struct nlmsghdr *msg)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(msg);
	size_t len = msg->nlmsg_len;
	struct nlmsghdr *nlh;

	if (len < NLMSG_HDRLEN + sizeof(*g) || len > MSG_ROOM)
		return -EINVAL;
	nlh = msg_start(b, NFNL_MSG_TYPE(msg->nlmsg_type), g->nfgen_family,
			0);
	if (!nlh)
		return -errno;
	memcpy(mnl_nlmsg_get_payload(nlh), g, len - NLMSG_HDRLEN);
	nlh->nlmsg_len = (uint32_t)len;
	nlh->nlmsg_flags = msg->nlmsg_flags | NLM_F_ACK;
	b->foreign = true;	/* it may build on what exists */
	return msg_done(b, nlh);
}

/* ---- sockets ---- */

static struct mnl_socket *nl_open(void)
{
	/* Close-on-exec: the guard keeps one open while alert sinks run. */
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER,
						 SOCK_CLOEXEC);
	int one = 1, err;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* The kernel's reason in words, and errors without a copy of the
	 * (up to 64 KiB) message they refer to: we kept it ourselves. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	return nl;
fail:
	err = errno;
	mnl_socket_close(nl);
	errno = err;
	return NULL;
}

/* SO_*BUFFORCE ignores net.core.[rw]mem_max but needs CAP_NET_ADMIN. */
static void grow_buf(int fd, int opt, int force, size_t want)
{
	socklen_t len = sizeof(int);
	int cur = 0, v;

	if (want > INT_MAX / 2)
		want = INT_MAX / 2;
	v = (int)want;
	if (getsockopt(fd, SOL_SOCKET, opt, &cur, &len) == 0 && cur >= v)
		return;
	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/* One request, its replies until the ack or the end of the dump. */
static int nl_request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl;
	unsigned int portid;
	char *buf = NULL;
	ssize_t n;
	int ret;

	nl = nl_open();
	if (!nl)
		return -errno;
	buf = malloc(RECV_BUF);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		n = nlsock_recv_mnl(nl, buf, RECV_BUF);
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, cb, data);
	} while (ret > MNL_CB_STOP);
	ret = ret < 0 ? -errno : 0;
out:
	free(buf);
	mnl_socket_close(nl);
	return ret;
}

int kernel_table_exists(uint16_t family, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	int ret;

	if (!name || strlen(name) >= NFT_TABLE_MAXNAMELEN)
		return -EINVAL;
	t = bare_table(family, name);
	if (!t)
		return -errno;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK,
				    (uint32_t)time(NULL));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ret = nl_request(nlh, NULL, NULL);
	if (ret == -ENOENT)
		return 0;
	return ret < 0 ? ret : 1;
}

static int genid_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *gen = nftnl_gen_alloc();
	uint32_t *genid = data;

	if (!gen)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, gen) < 0) {
		nftnl_gen_free(gen);
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	*genid = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

int kernel_ruleset_genid(uint32_t *genid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
				    (uint32_t)time(NULL));
	return nl_request(nlh, genid_cb, genid);
}

struct elem_dump {
	kernel_elem_fn fn;
	void *arg;
	int ret;
};

static int elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_dump *d = data;

	d->ret = d->fn(e, d->arg);
	return d->ret ? -1 : 0;
}

static int elems_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elem_dump *d = data;
	struct nftnl_set *s = nftnl_set_alloc();
	int ret = MNL_CB_OK;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		errno = EPROTO;
		ret = MNL_CB_ERROR;
	} else if (nftnl_set_elem_foreach(s, elem_cb, d) < 0 && d->ret) {
		ret = MNL_CB_ERROR;
	}
	nftnl_set_free(s);
	return ret;
}

int kernel_list_set_elements(uint16_t family, const char *table,
			     const char *set, kernel_elem_fn fn, void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct elem_dump d = { .fn = fn, .arg = arg };
	struct nlmsghdr *nlh;
	struct nftnl_set *s;
	int ret;

	if (!table || !set || !fn)
		return -EINVAL;
	s = nftnl_set_alloc();
	if (!s)
		return -errno;
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, set) < 0) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family,
				    NLM_F_DUMP, (uint32_t)time(NULL));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	ret = nl_request(nlh, elems_msg_cb, &d);
	return d.ret ? d.ret : ret;
}

struct elem_get {
	bool found;
	uint64_t left_ms;
};

static int elem_get_cb(struct nftnl_set_elem *e, void *arg)
{
	struct elem_get *g = arg;

	g->found = true;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		g->left_ms = nftnl_set_elem_get_u64(e,
						    NFTNL_SET_ELEM_EXPIRATION);
	return 0;
}

int kernel_get_set_element(uint16_t family, const char *table,
			   const char *set, const void *key, size_t len,
			   uint64_t *left_ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct elem_get g = { false, 0 };
	struct elem_dump d = { .fn = elem_get_cb, .arg = &g };
	struct nftnl_set_elem *e;
	struct nlmsghdr *nlh;
	struct nftnl_set *s;
	int ret;

	if (!table || !set || !key || !len || len > 16)
		return -EINVAL;
	s = nftnl_set_alloc();
	if (!s)
		return -errno;
	e = nftnl_set_elem_alloc();
	if (!e) {
		ret = -errno;
		goto out;
	}
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, set) < 0 ||
	    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key,
			       (uint32_t)len) < 0) {
		nftnl_set_elem_free(e);
		ret = -ENOMEM;
		goto out;
	}
	nftnl_set_elem_add(s, e);	/* the set owns it now */
	/* Not a dump: the kernel answers for this one key, with the
	 * element or ENOENT. */
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family,
				    NLM_F_ACK, (uint32_t)time(NULL));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	ret = nl_request(nlh, elems_msg_cb, &d);
	if (ret == -ENOENT)
		ret = 0;	/* no such element, or no such set */
	else if (!ret)
		ret = g.found;
	if (ret == 1 && left_ms)
		*left_ms = g.left_ms;
out:
	nftnl_set_free(s);
	return ret;
}

/* ---- sending a batch ---- */

struct reply {
	size_t acks;		/* positive acks for messages 1..n */
	bool begin_ack, end_ack; /* Linux 6.10+ acks the markers too */
	bool lost;		/* the receive buffer overflowed */
	size_t nerr;
	int err;		/* first error, -errno */
	size_t idx;		/* its message: 0 begin, 1..n, n + 1 end */
	bool has_offs;
	uint32_t offs;		/* extack: bad attribute's offset */
	char ext[256];		/* extack: the kernel's text */
};

static int ext_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, NLMSGERR_ATTR_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void take_error(const struct kbatch *b, const struct nlmsghdr *nlh,
		       struct reply *r)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { NULL };
	size_t idx = (uint32_t)(nlh->nlmsg_seq - b->seq0);
	unsigned int hlen = sizeof(*e);

	if (idx > b->n + 1)
		return;		/* not about this batch */
	if (e->error == 0) {
		if (idx == 0)
			r->begin_ack = true;
		else if (idx == b->n + 1)
			r->end_ack = true;
		else
			r->acks++;
		return;
	}
	if (r->nerr++)
		return;
	r->err = e->error < 0 ? e->error : -e->error;
	r->idx = idx;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hlen += mnl_nlmsg_get_payload_len(&e->msg);
	if (mnl_attr_parse(nlh, hlen, ext_attr_cb, tb) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG] &&
	    mnl_attr_validate(tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING) == 0)
		snprintf(r->ext, sizeof(r->ext), "%s",
			 mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_OFFS] &&
	    mnl_attr_validate(tb[NLMSGERR_ATTR_OFFS], MNL_TYPE_U32) == 0) {
		r->has_offs = true;
		r->offs = mnl_attr_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
}

static struct nlmsghdr *put_marker(char *buf, uint16_t type, uint32_t seq,
				   uint32_t genid)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	return nlh;
}

struct ksock {
	struct mnl_socket *nl;	/* NULL: open it at the next commit */
	char *buf;		/* RECV_BUF */
	size_t snd, rcv;	/* buffer sizes asked for so far */
};

struct ksock *ksock_new(void)
{
	return calloc(1, sizeof(struct ksock));
}

static void ksock_drop(struct ksock *ks)
{
	if (ks->nl)
		mnl_socket_close(ks->nl);
	ks->nl = NULL;
	ks->snd = ks->rcv = 0;
}

void ksock_free(struct ksock *ks)
{
	if (!ks)
		return;
	ksock_drop(ks);
	free(ks->buf);
	free(ks);
}

/*
 * Sends begin, the messages and (when `end`) the end marker in one
 * sendmsg(): nfnetlink takes a batch only whole, from one skb.  The kernel
 * handles it inside that call, so every reply is queued when it returns;
 * read them until the socket is empty.  On the socket of `ks`, kept open
 * (it is empty again afterwards), or on one of its own when ks is NULL.
 */
static int batch_send(const struct kbatch *b, bool end, uint32_t genid,
		      struct reply *r, struct ksock *ks)
{
	char hbuf[64], ebuf[64];
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct ksock tmp = { 0 };
	struct nlmsghdr *bh, *eh;
	struct iovec iov[3];
	struct msghdr msg = {
		.msg_name = &snl, .msg_namelen = sizeof(snl),
		.msg_iov = iov, .msg_iovlen = end ? 3 : 2,
	};
	unsigned int portid;
	size_t total, want;
	ssize_t n;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	bh = put_marker(hbuf, NFNL_MSG_BATCH_BEGIN, b->seq0, genid);
	eh = put_marker(ebuf, NFNL_MSG_BATCH_END, b->seq0 + 1 + b->n, 0);
	iov[0] = (struct iovec){ bh, bh->nlmsg_len };
	iov[1] = (struct iovec){ b->buf, b->len };
	iov[2] = (struct iovec){ eh, eh->nlmsg_len };
	total = bh->nlmsg_len + b->len + eh->nlmsg_len;

	if (!ks)
		ks = &tmp;
	if (!ks->buf && !(ks->buf = malloc(RECV_BUF)))
		return -ENOMEM;
	if (!ks->nl && !(ks->nl = nl_open())) {
		ret = -errno;
		goto out;
	}
	fd = mnl_socket_get_fd(ks->nl);
	portid = mnl_socket_get_portid(ks->nl);
	/* netlink refuses a message larger than the send buffer. */
	if (total + 4096 > ks->snd) {
		grow_buf(fd, SO_SNDBUF, SO_SNDBUFFORCE, total + 4096);
		ks->snd = total + 4096;
	}
	want = (b->n + 2) * ACK_COST + RECV_BUF;
	if (want > ks->rcv) {
		grow_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, want);
		ks->rcv = want;
	}

	if (sendmsg(fd, &msg, 0) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		const struct nlmsghdr *nlh;
		int left;

		n = nlsock_recv(fd, ks->buf, RECV_BUF, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				r->lost = true;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			ret = -errno;
			goto out;
		}
		left = (int)n;
		for (nlh = (const void *)ks->buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_pid != portid ||
			    nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct
								nlmsgerr)))
				continue;
			take_error(b, nlh, r);
		}
	}
	ret = 0;
out:
	/* A socket that failed, or lost replies, may hold anything: the
	 * next commit gets a new one. */
	if (ret || r->lost || ks == &tmp)
		ksock_drop(ks);
	if (ks == &tmp)
		free(tmp.buf);
	return ret;
}

/* ---- describing a message for the error text ---- */

static const char *family_name(unsigned int f)
{
	switch (f) {
	case NFPROTO_INET:	return "inet";
	case NFPROTO_IPV4:	return "ip";
	case NFPROTO_IPV6:	return "ip6";
	case NFPROTO_ARP:	return "arp";
	case NFPROTO_BRIDGE:	return "bridge";
	case NFPROTO_NETDEV:	return "netdev";
	default:		return "?";
	}
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **comment = data;

	/* Rule and set element comments have the same type, 0. */
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT &&
	    nftnl_udata_len(attr) > 0) {
		const char *v = nftnl_udata_get(attr);

		if (v[nftnl_udata_len(attr) - 1] == '\0')
			*comment = v;
	}
	return 0;
}

static const char *udata_comment(const void *data, uint32_t len)
{
	const char *comment = NULL;

	if (data && len)
		nftnl_udata_parse(data, len, comment_cb, &comment);
	return comment;
}

/* The attribute among those from `a` on that holds byte `offs` of `base`. */
static const struct nlattr *attr_at(const struct nlattr *a, int len,
				    const char *base, uint32_t offs,
				    int *index)
{
	int i;

	for (i = 0; mnl_attr_ok(a, len); i++) {
		uint32_t from = (uint32_t)((const char *)a - base);

		if (offs >= from && offs < from + a->nla_len) {
			if (index)
				*index = i;
			return a;
		}
		len -= MNL_ALIGN(a->nla_len);
		a = mnl_attr_next(a);
	}
	return NULL;
}

/*
 * Where inside the failed message the kernel pointed: which expression of
 * a rule, which element (by its comment) of an element list.
 */
static void describe_offs(const struct nlmsghdr *nlh, uint32_t offs,
			  char *out, size_t outlen)
{
	unsigned int type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	size_t hlen = NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));
	const char *base = (const char *)nlh;
	const struct nlattr *top, *in;
	int i = 0;

	out[0] = '\0';
	if (offs < hlen || offs >= nlh->nlmsg_len)
		return;
	top = attr_at((const void *)(base + hlen),
		      (int)(nlh->nlmsg_len - hlen), base, offs, NULL);
	if (!top)
		return;
	if (!(type == NFT_MSG_NEWRULE &&
	      mnl_attr_get_type(top) == NFTA_RULE_EXPRESSIONS) &&
	    !(type == NFT_MSG_NEWSETELEM &&
	      mnl_attr_get_type(top) == NFTA_SET_ELEM_LIST_ELEMENTS))
		return;
	in = attr_at(mnl_attr_get_payload(top),
		     (int)mnl_attr_get_payload_len(top), base, offs, &i);
	if (!in)
		return;
	if (type == NFT_MSG_NEWRULE) {
		const struct nlattr *a;
		const char *name = "?";

		mnl_attr_for_each_nested(a, in)
			if (mnl_attr_get_type(a) == NFTA_EXPR_NAME &&
			    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
				name = mnl_attr_get_str(a);
		snprintf(out, outlen, ", expression %d (%s)", i + 1, name);
	} else {
		const struct nlattr *a;
		const char *c = NULL;

		mnl_attr_for_each_nested(a, in)
			if (mnl_attr_get_type(a) == NFTA_SET_ELEM_USERDATA)
				c = udata_comment(mnl_attr_get_payload(a),
					mnl_attr_get_payload_len(a));
		if (c)
			snprintf(out, outlen, ", element %d \"%s\"", i + 1, c);
		else
			snprintf(out, outlen, ", element %d", i + 1);
	}
}

/* A string attribute of the message itself, or "?". */
static const char *top_str(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == type &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			return mnl_attr_get_str(a);
	return "?";
}

/* "add rule inet sanso fwd \"flow:web\"" for message idx (1-based). */
static void describe_msg(const struct kbatch *b, size_t idx, char *out,
			 size_t outlen)
{
	const struct nlmsghdr *nlh = (const void *)(b->buf + b->off[idx - 1]);
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const char *fam = family_name(nfg->nfgen_family);
	struct nftnl_table *t = NULL;
	struct nftnl_chain *c = NULL;
	struct nftnl_set *s = NULL;
	struct nftnl_rule *r = NULL;
	const char *com;
	uint32_t len;

	snprintf(out, outlen, "message type %u",
		 NFNL_MSG_TYPE(nlh->nlmsg_type));
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		t = nftnl_table_alloc();
		if (t && nftnl_table_nlmsg_parse(nlh, t) == 0)
			snprintf(out, outlen, "%s table %s %s",
				 NFNL_MSG_TYPE(nlh->nlmsg_type) ==
				 NFT_MSG_NEWTABLE ? "add" : "delete", fam,
				 nftnl_table_get_str(t, NFTNL_TABLE_NAME));
		break;
	case NFT_MSG_NEWCHAIN:
		c = nftnl_chain_alloc();
		if (c && nftnl_chain_nlmsg_parse(nlh, c) == 0)
			snprintf(out, outlen, "add chain %s %s %s", fam,
				 nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
				 nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
		break;
	case NFT_MSG_NEWSET:
		s = nftnl_set_alloc();
		if (s && nftnl_set_nlmsg_parse(nlh, s) == 0)
			snprintf(out, outlen, "add set %s %s %s", fam,
				 nftnl_set_get_str(s, NFTNL_SET_TABLE),
				 nftnl_set_get_str(s, NFTNL_SET_NAME));
		break;
	case NFT_MSG_NEWSETELEM:
		/* Not nftnl_set_elems_nlmsg_parse(): libnftnl numbers the
		 * element nests it builds 1, 2, 3... and then refuses to
		 * parse any but the first. */
		snprintf(out, outlen, "add elements to set %s %s %s", fam,
			 top_str(nlh, NFTA_SET_ELEM_LIST_TABLE),
			 top_str(nlh, NFTA_SET_ELEM_LIST_SET));
		break;
	case NFT_MSG_NEWRULE:
		r = nftnl_rule_alloc();
		if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0)
			break;
		com = NULL;
		if (nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
			const void *ud = nftnl_rule_get_data(r,
						NFTNL_RULE_USERDATA, &len);
			com = udata_comment(ud, len);
		}
		snprintf(out, outlen, "add rule %s %s %s%s%s%s", fam,
			 nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
			 nftnl_rule_get_str(r, NFTNL_RULE_CHAIN),
			 com ? " \"" : "", com ? com : "", com ? "\"" : "");
		break;
	}
	/* libnftnl's free functions do not take NULL. */
	if (t)
		nftnl_table_free(t);
	if (c)
		nftnl_chain_free(c);
	if (s)
		nftnl_set_free(s);
	if (r)
		nftnl_rule_free(r);
}

static void format_error(const struct kbatch *b, const struct reply *r,
			 char *err, size_t errlen)
{
	char what[256], where[160] = "";
	const char *text = r->ext;

	if (r->idx >= 1 && r->idx <= b->n) {
		describe_msg(b, r->idx, what, sizeof(what));
		if (r->has_offs)
			describe_offs((const void *)(b->buf +
						     b->off[r->idx - 1]),
				      r->offs, where, sizeof(where));
		snprintf(err, errlen, _("message %zu/%zu (%s%s): %s%s%s"),
			 r->idx, b->n, what, where, strerror(-r->err),
			 *text ? ": " : "", text);
	} else if (r->idx == 0 && r->err == -ERESTART) {
		snprintf(err, errlen, _("the ruleset changed since generation "
			 "%u was read; nothing was applied"), b->genid);
	} else {
		snprintf(err, errlen, _("batch %s: %s%s%s"),
			 r->idx == 0 ? "commit" : "end", strerror(-r->err),
			 *text ? ": " : "", text);
	}
	if (r->nerr > 1) {
		size_t l = strlen(err);

		snprintf(err + l, errlen - l, _(" (and %zu more error%s)"),
			 r->nerr - 1, r->nerr > 2 ? "s" : "");
	}
}

/* Turns the replies into 0 / -errno and the caller's text. */
static int judge(const struct kbatch *b, const struct reply *r, bool end,
		 char *err, size_t errlen)
{
	if (r->nerr) {
		if (err && errlen)
			format_error(b, r, err, errlen);
		return r->err;
	}
	if (r->lost) {
		if (err && errlen)
			snprintf(err, errlen, _("kernel replies were lost "
				 "(receive buffer full); the batch of %zu "
				 "messages may or may not have been applied"),
				 b->n);
		return -ENOBUFS;
	}
	if (r->acks != b->n || (end && r->begin_ack && !r->end_ack)) {
		if (err && errlen)
			snprintf(err, errlen, _("the kernel acknowledged %zu of "
				 "%zu messages%s"), r->acks, b->n,
				 r->end_ack ? "" : " and not the commit");
		return -EPROTO;
	}
	return 0;
}

/*
 * Commits the batch in a new network namespace that dies with the child
 * process doing it, and sends back the verdict.  A child, so that this
 * process never leaves its own namespace even for a moment.
 */
static int scratch_commit(const struct kbatch *b, char *err, size_t errlen)
{
	struct { int ret; char text[512]; } res = { 0, "" };
	int pfd[2], status;
	ssize_t got = 0, n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(pfd[0]);
		close(pfd[1]);
		return -e;
	}
	if (pid == 0) {
		struct reply r;

		close(pfd[0]);
		/* syscall(): the project's include/sched.h hides <sched.h>. */
		if (syscall(SYS_unshare, CLONE_NEWNET) < 0) {
			res.ret = 1;	/* cannot: skip, not fail */
		} else {
			res.ret = batch_send(b, true, 0, &r, NULL);
			if (!res.ret)
				res.ret = judge(b, &r, true, res.text,
						sizeof(res.text));
		}
		if (write(pfd[1], &res, sizeof(res)) != sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	while (got < (ssize_t)sizeof(res)) {
		n = read(pfd[0], (char *)&res + got, sizeof(res) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != sizeof(res))
		return -ECHILD;
	if (res.ret == 1)
		return 0;
	if (res.ret && err && errlen)
		snprintf(err, errlen, "%s", res.text[0] ? res.text :
			 _("trial commit in a new network namespace failed"));
	if (res.ret && err && errlen && !res.text[0]) {
		size_t l = strlen(err);

		snprintf(err + l, errlen - l, _(": %s"), strerror(-res.ret));
	}
	return res.ret;
}

static int commit(struct kbatch *b, bool dry_run, struct ksock *ks,
		  char *err, size_t errlen)
{
	struct reply r;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!b->n)
		return 0;
	ret = batch_send(b, !dry_run, b->genid, &r, ks);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, _("sending %zu messages (%zu "
				 "bytes): %s%s"), b->n, b->len, strerror(-ret),
				 ret == -EMSGSIZE ? " (without CAP_NET_ADMIN, "
				 "net.core.wmem_max must exceed the batch)" :
				 "");
		return ret;
	}
	ret = judge(b, &r, !dry_run, err, errlen);
	if (ret == -EPROTO && ks)
		ksock_drop(ks);	/* replies went missing: start afresh */
	if (ret || !dry_run || b->foreign)
		return ret;
	return scratch_commit(b, err, errlen);
}

int kbatch_commit(struct kbatch *b, bool dry_run, char *err, size_t errlen)
{
	return commit(b, dry_run, NULL, err, errlen);
}

int kbatch_commit_on(struct kbatch *b, struct ksock *ks, char *err,
		     size_t errlen)
{
	return commit(b, false, ks, err, errlen);
}
