// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * DNS messages on the wire: parse strictly, build small replies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"

/* A record's fixed part after its name: type, class, TTL, rdlength. */
#define RR_FIXED	10
/* The smallest question (root name, type, class) and record. */
#define MIN_QUESTION	5
#define MIN_RR		(1 + RR_FIXED)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

int dns_name_read(const uint8_t *buf, size_t len, size_t *off,
		  struct dns_name *out)
{
	size_t pos = *off, end = 0, n = 0;
	unsigned int jumps = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return -EBADMSG;
		c = buf[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t ptr;

			if (pos + 1 >= len)
				return -EBADMSG;
			ptr = (size_t)(c & 0x3f) << 8 | buf[pos + 1];
			/* Backwards only, and never into the header: every
			 * jump lowers pos, so no loop can form; the jump
			 * count is a second fence. */
			if (ptr >= pos || ptr < DNS_HDR_LEN ||
			    ++jumps > DNS_MAX_JUMPS)
				return -EBADMSG;
			if (!end)
				end = pos + 2;
			pos = ptr;
			continue;
		}
		if (c & 0xc0)		/* 0x40 extended, 0x80 reserved */
			return -EBADMSG;
		if (c == 0) {
			if (n + 1 > DNS_NAME_MAX)
				return -EBADMSG;
			out->wire[n++] = 0;
			out->len = (uint8_t)n;
			*off = end ? end : pos + 1;
			return 0;
		}
		if (pos + 1 + c > len || n + 1 + c + 1 > DNS_NAME_MAX)
			return -EBADMSG;
		out->wire[n++] = c;
		for (size_t i = 0; i < c; i++)
			out->wire[n++] = lower(buf[pos + 1 + i]);
		pos += 1 + (size_t)c;
	}
}

int dns_name_from_text(const char *s, struct dns_name *out)
{
	size_t slen = strlen(s), n = 0;

	if (slen && s[slen - 1] == '.')
		slen--;
	if (slen == 0) {
		out->wire[0] = 0;
		out->len = 1;
		return 0;
	}
	if (slen > 253)
		return -EINVAL;
	while (slen) {
		const char *dot = memchr(s, '.', slen);
		size_t l = dot ? (size_t)(dot - s) : slen;

		if (l == 0 || l > 63)
			return -EINVAL;
		out->wire[n++] = (uint8_t)l;
		for (size_t i = 0; i < l; i++)
			out->wire[n++] = lower((uint8_t)s[i]);
		s += l;
		slen -= l;
		if (dot) {
			s++;
			slen--;
			if (!slen)
				return -EINVAL;	/* "a..": empty last label */
		}
	}
	out->wire[n++] = 0;
	out->len = (uint8_t)n;
	return 0;
}

static bool text_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int dns_name_to_text(const struct dns_name *name, char *buf, size_t n)
{
	size_t i = 0, o = 0;

	if (!n)
		return -ENOSPC;
	if (name->len == 1) {
		if (n < 2)
			return -ENOSPC;
		strcpy(buf, ".");
		return 0;
	}
	while (i < name->len && name->wire[i]) {
		uint8_t l = name->wire[i++];

		if (i + l > name->len)
			return -EINVAL;
		if (o && o + 1 >= n)
			return -ENOSPC;
		if (o)
			buf[o++] = '.';
		for (uint8_t k = 0; k < l; k++, i++) {
			if (!text_char(name->wire[i]))
				return -EINVAL;
			if (o + 1 >= n)
				return -ENOSPC;
			buf[o++] = (char)name->wire[i];
		}
	}
	buf[o] = '\0';
	return 0;
}

bool dns_name_equal(const struct dns_name *a, const struct dns_name *b)
{
	return a->len == b->len && !memcmp(a->wire, b->wire, a->len);
}

/* Reads one record's fixed part at *off (after its name). */
static int rr_fixed(const uint8_t *buf, size_t len, size_t *off,
		    uint16_t *type, uint16_t *rclass, uint32_t *ttl,
		    uint16_t *rdlen)
{
	const uint8_t *p = buf + *off;

	if (len - *off < RR_FIXED)
		return -EBADMSG;
	*type = dns_get16(p);
	*rclass = dns_get16(p + 2);
	*ttl = get32(p + 4);
	*rdlen = dns_get16(p + 8);
	*off += RR_FIXED;
	if (len - *off < *rdlen)
		return -EBADMSG;
	return 0;
}

/* The rdata we read: addresses and CNAME targets must be well formed. */
static int rr_rdata(const uint8_t *buf, size_t len, size_t off,
		    struct dns_rr *rr)
{
	size_t end = off + rr->rdlen, p = off;

	if (rr->rclass != DNS_C_IN)
		return 0;
	switch (rr->type) {
	case DNS_T_A:
		if (rr->rdlen != 4)
			return -EBADMSG;
		memcpy(rr->rd.addr, buf + off, 4);
		break;
	case DNS_T_AAAA:
		if (rr->rdlen != 16)
			return -EBADMSG;
		memcpy(rr->rd.addr, buf + off, 16);
		break;
	case DNS_T_CNAME:
		/* The name may point back into the message, but must use
		 * exactly the rdata's bytes. */
		if (dns_name_read(buf, len, &p, &rr->rd.target) || p != end)
			return -EBADMSG;
		break;
	}
	return 0;
}

void dns_msg_free(struct dns_msg *m)
{
	if (!m)
		return;
	free(m->an);
	m->an = NULL;
}

int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *m)
{
	size_t off = DNS_HDR_LEN, total, i;
	int ret = -EBADMSG;

	memset(m, 0, sizeof(*m));
	m->min_ttl = UINT32_MAX;
	if (len > DNS_MAX_MSG)
		return -EMSGSIZE;
	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	m->id = dns_get16(buf);
	m->flags = dns_get16(buf + 2);
	m->qdcount = dns_get16(buf + 4);
	m->ancount = dns_get16(buf + 6);
	m->nscount = dns_get16(buf + 8);
	m->arcount = dns_get16(buf + 10);
	if (m->qdcount != 1)
		return -EBADMSG;
	/* Every record takes at least 11 bytes: a count the message
	 * cannot hold is refused before anything is allocated. */
	total = (size_t)m->ancount + m->nscount + m->arcount;
	if (DNS_HDR_LEN + MIN_QUESTION + total * MIN_RR > len)
		return -EBADMSG;

	if (dns_name_read(buf, len, &off, &m->qname) || len - off < 4)
		return -EBADMSG;
	m->qtype = dns_get16(buf + off);
	m->qclass = dns_get16(buf + off + 2);
	off += 4;
	m->qend = off;

	if (m->ancount) {
		m->an = calloc(m->ancount, sizeof(*m->an));
		if (!m->an)
			return -ENOMEM;
	}
	for (i = 0; i < total; i++) {
		struct dns_rr tmp, *rr = i < m->ancount ? &m->an[i] : &tmp;
		bool additional = i >= (size_t)m->ancount + m->nscount;

		if (dns_name_read(buf, len, &off, &rr->name) ||
		    rr_fixed(buf, len, &off, &rr->type, &rr->rclass,
			     &rr->ttl, &rr->rdlen))
			goto out;
		rr->rdoff = off;
		if (rr->type == DNS_T_OPT) {
			/* One OPT, in the additional section, owned by
			 * the root. */
			if (!additional || m->edns || rr->name.len != 1)
				goto out;
			m->edns = true;
			m->edns_udp = rr->rclass;
			m->edns_flags = (uint16_t)rr->ttl;
		} else {
			if (rr->ttl > INT32_MAX)
				rr->ttl = 0;
			if (rr->ttl < m->min_ttl)
				m->min_ttl = rr->ttl;
			if (rr_rdata(buf, len, off, rr))
				goto out;
		}
		off += rr->rdlen;
	}
	if (off != len)
		goto out;
	return 0;
out:
	free(m->an);
	m->an = NULL;
	return ret;
}

static const struct dns_rr *find_cname(const struct dns_msg *m,
				       const struct dns_name *owner)
{
	for (size_t i = 0; i < m->ancount; i++)
		if (m->an[i].type == DNS_T_CNAME &&
		    m->an[i].rclass == DNS_C_IN &&
		    dns_name_equal(&m->an[i].name, owner))
			return &m->an[i];
	return NULL;
}

/* The chain from the question's name; returns its length. */
static size_t chain(const struct dns_msg *m,
		    const struct dns_name **names)
{
	size_t n = 1;

	names[0] = &m->qname;
	while (n <= DNS_MAX_CHAIN) {
		const struct dns_rr *c = find_cname(m, names[n - 1]);
		bool loop = false;

		if (!c)
			break;
		for (size_t k = 0; k < n; k++)
			loop = loop || dns_name_equal(names[k], &c->rd.target);
		if (loop)
			break;
		names[n++] = &c->rd.target;
	}
	return n;
}

static bool in_chain(const struct dns_name *const *names, size_t n,
		     const struct dns_name *name)
{
	for (size_t k = 0; k < n; k++)
		if (dns_name_equal(names[k], name))
			return true;
	return false;
}

size_t dns_chain_addrs(const struct dns_msg *m, struct dns_addr *out,
		       size_t max)
{
	const struct dns_name *names[DNS_MAX_CHAIN + 1];
	size_t n = chain(m, names), count = 0;

	for (size_t i = 0; i < m->ancount; i++) {
		const struct dns_rr *rr = &m->an[i];

		if (rr->rclass != DNS_C_IN ||
		    (rr->type != DNS_T_A && rr->type != DNS_T_AAAA) ||
		    !in_chain(names, n, &rr->name))
			continue;
		if (count < max) {
			struct dns_addr *a = &out[count];

			memset(a, 0, sizeof(*a));
			a->family = rr->type == DNS_T_A ? AF_INET : AF_INET6;
			memcpy(a->addr, rr->rd.addr,
			       rr->type == DNS_T_A ? 4 : 16);
			a->ttl = rr->ttl;
		}
		count++;
	}
	return count;
}

bool dns_chain_open(const struct dns_msg *m, struct dns_name *target)
{
	const struct dns_name *names[DNS_MAX_CHAIN + 1];
	size_t n = chain(m, names);
	const struct dns_name *last = names[n - 1];

	if (n == 1)
		return false;
	for (size_t i = 0; i < m->ancount; i++)
		if (m->an[i].type == m->qtype &&
		    m->an[i].rclass == DNS_C_IN &&
		    dns_name_equal(&m->an[i].name, last))
			return false;
	*target = *last;
	return true;
}

int dns_build_query(uint8_t *out, size_t cap, uint16_t id,
		    const struct dns_name *qname, uint16_t qtype,
		    uint16_t edns_udp)
{
	size_t len = DNS_HDR_LEN + qname->len + 4 + (edns_udp ? 11 : 0);
	uint8_t *p;

	if (!qname->len || qname->wire[qname->len - 1])
		return -EINVAL;
	if (len > cap)
		return -ENOSPC;
	memset(out, 0, DNS_HDR_LEN);
	dns_put16(out, id);
	dns_put16(out + 2, DNS_F_RD);
	dns_put16(out + 4, 1);
	dns_put16(out + 10, edns_udp ? 1 : 0);
	p = out + DNS_HDR_LEN;
	memcpy(p, qname->wire, qname->len);
	p += qname->len;
	dns_put16(p, qtype);
	dns_put16(p + 2, DNS_C_IN);
	p += 4;
	if (edns_udp) {
		*p++ = 0;			/* root */
		dns_put16(p, DNS_T_OPT);
		dns_put16(p + 2, edns_udp);
		put32(p + 4, 0);		/* rcode, version, flags */
		dns_put16(p + 8, 0);		/* no options */
	}
	return (int)len;
}

/* Header of a reply to `query`. */
static void reply_header(uint8_t *out, const uint8_t *query, int rcode,
			 bool tc, uint16_t qd, uint16_t an)
{
	uint16_t qf = dns_get16(query + 2);
	uint16_t f = DNS_F_QR | DNS_F_RA | (qf & (DNS_F_OPCODE | DNS_F_RD |
						  DNS_F_CD));

	if (tc)
		f |= DNS_F_TC;
	f |= (uint16_t)(rcode & DNS_F_RCODE);
	memset(out, 0, DNS_HDR_LEN);
	memcpy(out, query, 2);
	dns_put16(out + 2, f);
	dns_put16(out + 4, qd);
	dns_put16(out + 6, an);
}

int dns_build_reply(uint8_t *out, size_t cap, const uint8_t *query,
		    const struct dns_msg *q, int rcode, bool tc)
{
	size_t qlen = q ? q->qend - DNS_HDR_LEN : 0;

	if (DNS_HDR_LEN + qlen > cap)
		return -ENOSPC;
	reply_header(out, query, rcode, tc, q ? 1 : 0, 0);
	/* The question as the client wrote it, case included (0x20). */
	if (q)
		memcpy(out + DNS_HDR_LEN, query + DNS_HDR_LEN, qlen);
	return (int)(DNS_HDR_LEN + qlen);
}

int dns_build_answer(uint8_t *out, size_t cap, const uint8_t *query,
		     const struct dns_msg *q, const struct dns_addr *addrs,
		     size_t n, uint32_t ttl)
{
	size_t qlen = q->qend - DNS_HDR_LEN, len = DNS_HDR_LEN + qlen;
	uint16_t an = 0;
	int want;

	if (q->qtype != DNS_T_A && q->qtype != DNS_T_AAAA)
		return -EINVAL;
	want = q->qtype == DNS_T_A ? AF_INET : AF_INET6;
	if (len > cap)
		return -ENOSPC;
	memcpy(out + DNS_HDR_LEN, query + DNS_HDR_LEN, qlen);
	for (size_t i = 0; i < n; i++) {
		size_t alen = want == AF_INET ? 4 : 16;
		uint8_t *p = out + len;

		if (addrs[i].family != want)
			continue;
		if (len + 2 + RR_FIXED + alen > cap || an == UINT16_MAX)
			return -ENOSPC;
		/* The owner is the question's name, at offset 12. */
		dns_put16(p, 0xc000 | DNS_HDR_LEN);
		dns_put16(p + 2, q->qtype);
		dns_put16(p + 4, DNS_C_IN);
		put32(p + 6, ttl);
		dns_put16(p + 10, (uint16_t)alen);
		memcpy(p + 12, addrs[i].addr, alen);
		len += 2 + RR_FIXED + alen;
		an++;
	}
	reply_header(out, query, DNS_R_NOERROR, false, 1, an);
	return (int)len;
}

int dns_rewrite_ttls(uint8_t *buf, size_t len, uint32_t age, uint32_t fixed)
{
	struct dns_name name;
	size_t off = DNS_HDR_LEN, total;
	uint8_t *orig;
	int ret = -EBADMSG;

	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	/*
	 * Names are read from a copy: a compressed name may run through
	 * another record's TTL bytes, which change as they are written.
	 */
	orig = malloc(len);
	if (!orig)
		return -ENOMEM;
	memcpy(orig, buf, len);
	total = (size_t)dns_get16(orig + 6) + dns_get16(orig + 8) +
		dns_get16(orig + 10);
	if (dns_name_read(orig, len, &off, &name) || len - off < 4)
		goto out;
	off += 4;
	for (size_t i = 0; i < total; i++) {
		uint16_t type, rclass, rdlen;
		uint32_t ttl;
		size_t at;

		if (dns_name_read(orig, len, &off, &name))
			goto out;
		at = off + 4;
		if (rr_fixed(orig, len, &off, &type, &rclass, &ttl, &rdlen))
			goto out;
		if (type != DNS_T_OPT) {
			if (ttl > INT32_MAX)
				ttl = 0;
			put32(buf + at, fixed ? fixed :
			      ttl > age ? ttl - age : 0);
		}
		off += rdlen;
	}
	ret = 0;
out:
	free(orig);
	return ret;
}
