// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pcap files of netlink datagrams. The reader maps the whole file, so a
 * replay costs no copy per record unless the file's byte order is not
 * ours; it is what the monitor benchmark measures through.
 */
#include <byteswap.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "replay.h"

#define PCAP_MAGIC_US	0xa1b2c3d4u
#define PCAP_MAGIC_NS	0xa1b23c4du
#define ARPHRD_NETLINK_	824
#define PCAP_SNAPLEN	262144u
/* How far ahead of the record in hand to prefetch, in bytes. */
#define PREFETCH_AHEAD	2048
/* No datagram of ours is larger; a bigger record is a corrupt file. */
#define REC_MAX		(16u << 20)

struct replay {
	const uint8_t *map;
	size_t size, off;
	bool mapped;
	bool swap;
	bool nsec;
	uint8_t *copy;		/* swapped records */
	size_t copy_cap;
	size_t index;
};

static uint32_t u32(const struct replay *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? bswap_32(v) : v;
}

static int load(const char *path, struct replay *r)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	uint8_t *buf;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			       fd, 0);

		if (m != MAP_FAILED) {
			madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
			r->map = m;
			r->size = (size_t)st.st_size;
			r->mapped = true;
			goto out;
		}
	}
	/* A pipe, or a file mmap() refuses: read it whole. */
	buf = NULL;
	for (size_t cap = 0;;) {
		if (got == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 1 << 16;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			free(buf);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r->map = buf;
	r->size = got;
out:
	close(fd);
	return err;
}

struct replay *replay_open(const char *path)
{
	struct replay *r = calloc(1, sizeof(*r));
	uint32_t magic, link;
	int err;

	if (!r)
		return NULL;
	err = load(path, r);
	if (err)
		goto fail;
	err = -EINVAL;
	if (r->size < 24)
		goto fail;
	memcpy(&magic, r->map, 4);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		r->nsec = magic == PCAP_MAGIC_NS;
	} else if (magic == bswap_32(PCAP_MAGIC_US) ||
		   magic == bswap_32(PCAP_MAGIC_NS)) {
		r->swap = true;
		r->nsec = magic == bswap_32(PCAP_MAGIC_NS);
	} else {
		goto fail;	/* pcapng too */
	}
	link = u32(r, r->map + 20) & 0x0fffffff;	/* FCS bits above */
	if (link != PCAP_LINKTYPE_NETLINK) {
		err = -EPROTO;
		goto fail;
	}
	r->off = 24;
	return r;
fail:
	replay_close(r);
	errno = -err;
	return NULL;
}

int replay_next(struct replay *r, struct replay_rec *rec)
{
	for (;;) {
		const uint8_t *h = r->map + r->off;
		uint32_t sec, frac, incl;
		const uint8_t *data;

		if (r->off == r->size)
			return 0;
		if (r->size - r->off < 16)
			return -EINVAL;
		sec = u32(r, h);
		frac = u32(r, h + 4);
		incl = u32(r, h + 8);
		if (incl > REC_MAX || incl > r->size - r->off - 16 ||
		    frac >= (r->nsec ? 1000000000u : 1000000u))
			return -EINVAL;
		data = h + 16;
		r->off += 16 + (size_t)incl;
		r->index++;
		/* The records a few ahead: the hardware prefetcher stops at
		 * each page, and the parser would wait for every new one. */
		if (r->size - r->off > PREFETCH_AHEAD + 256)
			for (int i = 0; i < 4; i++)
				__builtin_prefetch(r->map + r->off +
						   PREFETCH_AHEAD + 64 * i);
		if (incl < PCAP_NETLINK_HDRLEN)
			continue;
		rec->ts.tv_sec = (time_t)sec;
		rec->ts.tv_nsec = (long)(r->nsec ? frac : frac * 1000u);
		rec->proto = (uint16_t)(data[14] << 8 | data[15]);
		rec->len = incl - PCAP_NETLINK_HDRLEN;
		rec->index = r->index;
		if (!r->swap) {
			rec->data = data + PCAP_NETLINK_HDRLEN;
			return 1;
		}
		if (rec->len > r->copy_cap) {
			uint8_t *nc = realloc(r->copy, rec->len);

			if (!nc)
				return -ENOMEM;
			r->copy = nc;
			r->copy_cap = rec->len;
		}
		memcpy(r->copy, data + PCAP_NETLINK_HDRLEN, rec->len);
		replay_swap_netlink(rec->proto, r->copy, rec->len);
		rec->data = r->copy;
		return 1;
	}
}

void replay_close(struct replay *r)
{
	if (!r)
		return;
	if (r->mapped)
		munmap((void *)r->map, r->size);
	else
		free((void *)r->map);
	free(r->copy);
	free(r);
}

/* ---- byte order ---- */

/*
 * Swaps the attribute headers of one nest. Which attributes nest is known
 * from NLA_F_NESTED, which kernels set on every nest since Linux 5.2, and
 * for older captures from the layout of the ctnetlink messages the
 * monitor reads: `nested` lists the nesting types at this depth.
 */
static void swap_attrs(uint8_t *p, size_t len, const uint16_t *nested,
		       size_t n_nested, int depth)
{
	static const uint16_t tuple[] = { CTA_TUPLE_IP, CTA_TUPLE_PROTO };

	while (len >= sizeof(struct nlattr)) {
		struct nlattr *a = (struct nlattr *)p;
		uint16_t type;
		bool nest, in_tuple;
		size_t i;

		a->nla_len = bswap_16(a->nla_len);
		a->nla_type = bswap_16(a->nla_type);
		if (a->nla_len < sizeof(*a) || a->nla_len > len)
			return;
		type = a->nla_type & NLA_TYPE_MASK;
		nest = a->nla_type & NLA_F_NESTED;
		for (i = 0; i < n_nested && !nest; i++)
			nest = type == nested[i];
		/* Below a ctnetlink tuple: its address and protocol nests. */
		in_tuple = depth == 0 && n_nested &&
			   (type == CTA_TUPLE_ORIG || type == CTA_TUPLE_REPLY);
		if (nest && depth < 4)
			swap_attrs(p + sizeof(*a), a->nla_len - sizeof(*a),
				   in_tuple ? tuple : NULL, in_tuple ? 2 : 0,
				   depth + 1);
		if ((size_t)NLA_ALIGN(a->nla_len) >= len)
			return;
		len -= (size_t)NLA_ALIGN(a->nla_len);
		p += NLA_ALIGN(a->nla_len);
	}
}

void replay_swap_netlink(uint16_t proto, void *buf, size_t len)
{
	static const uint16_t ct_nested[] = {
		CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, CTA_TIMESTAMP,
	};
	uint8_t *p = buf;

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)p;
		size_t skip = 0;

		nlh->nlmsg_len = bswap_32(nlh->nlmsg_len);
		nlh->nlmsg_type = bswap_16(nlh->nlmsg_type);
		nlh->nlmsg_flags = bswap_16(nlh->nlmsg_flags);
		nlh->nlmsg_seq = bswap_32(nlh->nlmsg_seq);
		nlh->nlmsg_pid = bswap_32(nlh->nlmsg_pid);
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
			return;
		if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
			if (proto == NETLINK_NETFILTER)
				skip = sizeof(struct nfgenmsg);
			else if (proto == NETLINK_ROUTE &&
				 (nlh->nlmsg_type == RTM_NEWADDR ||
				  nlh->nlmsg_type == RTM_DELADDR))
				skip = NLMSG_ALIGN(sizeof(struct ifaddrmsg));
		}
		if (skip && nlh->nlmsg_len >= NLMSG_HDRLEN + skip) {
			bool ct = proto == NETLINK_NETFILTER &&
				  NFNL_SUBSYS_ID(nlh->nlmsg_type) ==
				  NFNL_SUBSYS_CTNETLINK;

			swap_attrs(p + NLMSG_HDRLEN + skip,
				   nlh->nlmsg_len - NLMSG_HDRLEN - skip,
				   ct ? ct_nested : NULL, ct ? 3 : 0, 0);
		}
		if (NLMSG_ALIGN(nlh->nlmsg_len) >= len)
			return;
		len -= NLMSG_ALIGN(nlh->nlmsg_len);
		p += NLMSG_ALIGN(nlh->nlmsg_len);
	}
}

/* ---- writing ---- */

struct pcap_writer {
	FILE *f;
};

struct pcap_writer *pcapw_open(const char *path)
{
	struct pcap_writer *w = calloc(1, sizeof(*w));
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, link;
	} hdr = { PCAP_MAGIC_NS, 2, 4, 0, 0, PCAP_SNAPLEN,
		  PCAP_LINKTYPE_NETLINK };
	int fd, err;

	if (!w)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(w->f = fdopen(fd, "w"))) {
		err = errno;
		if (fd >= 0)
			close(fd);
		free(w);
		errno = err;
		return NULL;
	}
	if (fwrite(&hdr, sizeof(hdr), 1, w->f) != 1) {
		err = errno;
		pcapw_close(w);
		errno = err;
		return NULL;
	}
	return w;
}

int pcapw_write(struct pcap_writer *w, uint16_t proto, const void *buf,
		size_t len, const struct timespec *ts)
{
	uint8_t cooked[PCAP_NETLINK_HDRLEN] = { 0 };
	uint32_t rec[4];

	if (len > REC_MAX)
		return -EMSGSIZE;
	rec[0] = (uint32_t)ts->tv_sec;
	rec[1] = (uint32_t)ts->tv_nsec;
	rec[2] = rec[3] = (uint32_t)(len + PCAP_NETLINK_HDRLEN);
	cooked[1] = 4;		/* what nlmon shows: PACKET_OUTGOING */
	cooked[2] = ARPHRD_NETLINK_ >> 8;
	cooked[3] = ARPHRD_NETLINK_ & 0xff;
	cooked[14] = (uint8_t)(proto >> 8);
	cooked[15] = (uint8_t)proto;
	if (fwrite(rec, sizeof(rec), 1, w->f) != 1 ||
	    fwrite(cooked, sizeof(cooked), 1, w->f) != 1 ||
	    (len && fwrite(buf, len, 1, w->f) != 1))
		return -(errno ? errno : EIO);
	return 0;
}

int pcapw_close(struct pcap_writer *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (w->f && fclose(w->f))
		err = -errno;
	free(w);
	return err;
}
