/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DNS messages on the wire (RFC 1035, 2181, 3596, 6891): a strict parser
 * and the few builders the DNS guard and `sanso resolve` need.  No I/O,
 * no printing.
 *
 * The parser trusts nothing: every length is checked against the end of
 * the message, the record counts against its length, a compression
 * pointer must point backwards into the message past the header (at
 * most DNS_MAX_JUMPS of them per name), labels and names are limited to
 * 63 and 255 octets, reserved label types and trailing bytes are
 * errors.  A message that breaks any rule is rejected as a whole
 * (-EBADMSG); one longer than DNS_MAX_MSG is -EMSGSIZE.
 *
 * Names are kept in uncompressed wire form, lower-cased in ASCII, so
 * that two names compare with memcmp(); IDNs stay in their xn-- form.
 */
#ifndef SANSO_DNS_H
#define SANSO_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN	12
#define DNS_MAX_MSG	65535
#define DNS_MAX_UDP	512	/* a client that sends no EDNS */
#define DNS_EDNS_UDP	1232	/* what we offer and accept at most, RFC 9715 */
#define DNS_NAME_MAX	255	/* octets of a name in wire form */
#define DNS_NAME_TEXT	254	/* 253 characters and the NUL */
#define DNS_MAX_JUMPS	128	/* compression pointers followed per name */
#define DNS_MAX_CHAIN	16	/* CNAMEs followed from the question */

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_DNAME = 39,
	DNS_T_OPT = 41,
	DNS_T_SVCB = 64,
	DNS_T_HTTPS = 65,
	DNS_T_IXFR = 251,
	DNS_T_AXFR = 252,
	DNS_T_ANY = 255,
};

#define DNS_C_IN	1

enum dns_rcode {
	DNS_R_NOERROR = 0,
	DNS_R_FORMERR = 1,
	DNS_R_SERVFAIL = 2,
	DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4,
	DNS_R_REFUSED = 5,
};

/* Header flags (the second 16-bit word). */
#define DNS_F_QR	0x8000
#define DNS_F_OPCODE	0x7800
#define DNS_F_AA	0x0400
#define DNS_F_TC	0x0200
#define DNS_F_RD	0x0100
#define DNS_F_RA	0x0080
#define DNS_F_AD	0x0020
#define DNS_F_CD	0x0010
#define DNS_F_RCODE	0x000f

/* EDNS DO bit, in the OPT record's TTL field. */
#define DNS_EDNS_DO	0x8000

/* A name in uncompressed wire form, lower-cased, root label included. */
struct dns_name {
	uint8_t len;			/* 1..255 */
	uint8_t wire[DNS_NAME_MAX];
};

/* One record of the answer section. */
struct dns_rr {
	struct dns_name name;
	uint16_t type, rclass;
	uint32_t ttl;			/* above 2^31 - 1 reads 0 (RFC 2181) */
	uint16_t rdlen;
	size_t rdoff;			/* offset of the rdata in the message */
	union {
		uint8_t addr[16];	/* A (4 bytes), AAAA */
		struct dns_name target;	/* CNAME */
	} rd;
};

struct dns_msg {
	uint16_t id, flags;
	uint16_t qdcount, ancount, nscount, arcount;
	struct dns_name qname;
	uint16_t qtype, qclass;
	size_t qend;			/* offset just past the question */
	struct dns_rr *an;		/* ancount records, owned */
	bool edns;
	uint16_t edns_udp;		/* the OPT record's payload size */
	uint16_t edns_flags;		/* DO bit and friends */
	uint32_t min_ttl;		/* smallest TTL of any record but OPT;
					 * UINT32_MAX when there is none */
};

/*
 * Parses a whole message with exactly one question.  0, -EBADMSG,
 * -EMSGSIZE or -ENOMEM.  On success `m` owns an array the caller frees
 * with dns_msg_free(); on failure nothing is left to free.
 */
int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *m);
void dns_msg_free(struct dns_msg *m);

/*
 * Reads the name at *off (compression allowed), advances *off past it
 * in the message.  0 or -EBADMSG.
 */
int dns_name_read(const uint8_t *buf, size_t len, size_t *off,
		  struct dns_name *out);
/* "host.example.jp" (a trailing dot is accepted) -> wire form. -EINVAL
 * for an empty label, a label over 63 or a name over 253 characters. */
int dns_name_from_text(const char *s, struct dns_name *out);
/*
 * Wire form -> "host.example.jp" ("." for the root).  -EINVAL when a
 * label holds anything but letters, digits, '-' and '_': such a name
 * can never match an FQDN pattern, and a dot inside a label must never
 * be confused with a label boundary.  -ENOSPC if n is too small.
 */
int dns_name_to_text(const struct dns_name *name, char *buf, size_t n);
bool dns_name_equal(const struct dns_name *a, const struct dns_name *b);

static inline uint16_t dns_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void dns_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The addresses that answer the question: the CNAME chain is followed
 * from the question's name (at most DNS_MAX_CHAIN links, a loop ends
 * it), and every A and AAAA record of class IN whose owner is a name of
 * the chain counts.  Records about other names are ignored: an answer
 * cannot credit addresses to a name nobody asked for.
 */
struct dns_addr {
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint32_t ttl;
};
/* Writes at most `max` addresses; returns how many the chain holds
 * (which may be more than max). */
size_t dns_chain_addrs(const struct dns_msg *m, struct dns_addr *out,
		       size_t max);
/* True when the chain ends in a CNAME whose target has no record of the
 * question's type in the message; *target is that name. */
bool dns_chain_open(const struct dns_msg *m, struct dns_name *target);

/*
 * Builders.  Each returns the message length, or -ENOSPC when `cap` is
 * too small, or -EINVAL.
 */
/* A query with RD set; edns_udp 0 sends no OPT record. */
int dns_build_query(uint8_t *out, size_t cap, uint16_t id,
		    const struct dns_name *qname, uint16_t qtype,
		    uint16_t edns_udp);
/*
 * A reply carrying only the header and the question of `query` (parsed
 * into q), with `rcode`, and TC when `tc`.  RD and CD are copied from
 * the query, RA is set.  With q NULL (a query that could not be parsed
 * but has a header), a question-less FORMERR-style reply.
 */
int dns_build_reply(uint8_t *out, size_t cap, const uint8_t *query,
		    const struct dns_msg *q, int rcode, bool tc);
/* An answer to `q` of A or AAAA records for its name with `ttl`
 * (the DNS guard's stale answers when no cached reply exists). */
int dns_build_answer(uint8_t *out, size_t cap, const uint8_t *query,
		     const struct dns_msg *q, const struct dns_addr *addrs,
		     size_t n, uint32_t ttl);

/*
 * Rewrites the TTL of every record but OPT, in place: each TTL becomes
 * `fixed` when it is not 0, else TTL - age (0 at least).  The message
 * must have been accepted by dns_parse().  0 or -EBADMSG.
 */
int dns_rewrite_ttls(uint8_t *buf, size_t len, uint32_t age, uint32_t fixed);

#endif
