// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * DNS messages: names and compression, strict parsing, the CNAME chain,
 * the builders.  Malformed input must be rejected, never crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"

/* ---- a tiny message writer ---- */

struct w {
	uint8_t b[70000];
	size_t n;
};

static void w8(struct w *w, uint8_t v)
{
	w->b[w->n++] = v;
}

static void w16(struct w *w, uint16_t v)
{
	w8(w, (uint8_t)(v >> 8));
	w8(w, (uint8_t)v);
}

static void w32(struct w *w, uint32_t v)
{
	w16(w, (uint16_t)(v >> 16));
	w16(w, (uint16_t)v);
}

/* "a.b.c" as labels and the root; returns where it starts. */
static size_t wname(struct w *w, const char *s)
{
	size_t at = w->n;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		w8(w, (uint8_t)l);
		memcpy(w->b + w->n, s, l);
		w->n += l;
		s += l;
		if (*s == '.')
			s++;
	}
	w8(w, 0);
	return at;
}

static void wptr(struct w *w, size_t to)
{
	w16(w, (uint16_t)(0xc000 | to));
}

static void whdr(struct w *w, uint16_t id, uint16_t flags, uint16_t qd,
		 uint16_t an, uint16_t ns, uint16_t ar)
{
	w->n = 0;
	w16(w, id);
	w16(w, flags);
	w16(w, qd);
	w16(w, an);
	w16(w, ns);
	w16(w, ar);
}

static void wrr(struct w *w, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	w16(w, type);
	w16(w, DNS_C_IN);
	w32(w, ttl);
	w16(w, rdlen);
}

/*
 * www.Example.JP A?  ->  www.example.jp CNAME cdn.example.net (ttl 600),
 * cdn.example.net A 203.0.113.7 (ttl 60), cdn.example.net AAAA
 * 2001:db8::7 (ttl 120), other.example.org A 198.51.100.1 (not in the
 * chain), an NS record and an OPT.
 */
static size_t build_chain(struct w *w)
{
	size_t q, cdn;

	whdr(w, 0x1234, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 4, 1, 1);
	q = wname(w, "www.Example.JP");
	w16(w, DNS_T_A);
	w16(w, DNS_C_IN);
	/* answer 1: CNAME, owner compressed, target partly compressed */
	wptr(w, q);
	wrr(w, DNS_T_CNAME, 600, 0);
	{
		size_t lenat = w->n - 2, start = w->n;

		cdn = w->n;
		w8(w, 3);
		memcpy(w->b + w->n, "cdn", 3);
		w->n += 3;
		wname(w, "example.net");
		w->b[lenat] = (uint8_t)((w->n - start) >> 8);
		w->b[lenat + 1] = (uint8_t)(w->n - start);
	}
	/* answer 2: A for the target, owner a pointer to it */
	wptr(w, cdn);
	wrr(w, DNS_T_A, 60, 4);
	w8(w, 203); w8(w, 0); w8(w, 113); w8(w, 7);
	/* answer 3: AAAA for the target */
	wptr(w, cdn);
	wrr(w, DNS_T_AAAA, 120, 16);
	{
		static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8,
						[15] = 7 };

		memcpy(w->b + w->n, a6, 16);
		w->n += 16;
	}
	/* answer 4: an unrelated name */
	wname(w, "other.example.org");
	wrr(w, DNS_T_A, 30, 4);
	w8(w, 198); w8(w, 51); w8(w, 100); w8(w, 1);
	/* authority: NS */
	wptr(w, q + 4);		/* "example.jp" */
	wrr(w, DNS_T_NS, 3600, 2);
	wptr(w, q);
	/* additional: OPT */
	w8(w, 0);
	w16(w, DNS_T_OPT);
	w16(w, 1232);
	w32(w, DNS_EDNS_DO);
	w16(w, 0);
	return w->n;
}

static void test_parse_chain(void **state)
{
	static struct w w;
	struct dns_msg m;
	struct dns_addr a[8];
	char text[DNS_NAME_TEXT];
	size_t len = build_chain(&w), n;

	(void)state;
	assert_int_equal(dns_parse(w.b, len, &m), 0);
	assert_int_equal(m.id, 0x1234);
	assert_int_equal(m.qtype, DNS_T_A);
	assert_int_equal(m.ancount, 4);
	assert_true(m.edns);
	assert_int_equal(m.edns_udp, 1232);
	assert_int_equal(m.edns_flags & DNS_EDNS_DO, DNS_EDNS_DO);
	assert_int_equal(m.min_ttl, 30);
	assert_int_equal(dns_name_to_text(&m.qname, text, sizeof(text)), 0);
	assert_string_equal(text, "www.example.jp");
	assert_int_equal(dns_name_to_text(&m.an[0].rd.target, text,
					  sizeof(text)), 0);
	assert_string_equal(text, "cdn.example.net");

	n = dns_chain_addrs(&m, a, 8);
	assert_int_equal(n, 2);		/* not other.example.org */
	assert_int_equal(a[0].family, AF_INET);
	assert_int_equal(a[0].addr[0], 203);
	assert_int_equal(a[0].ttl, 60);
	assert_int_equal(a[1].family, AF_INET6);
	assert_int_equal(a[1].ttl, 120);
	/* Room for one: the count says how many there are. */
	assert_int_equal(dns_chain_addrs(&m, a, 1), 2);
	dns_msg_free(&m);
}

/* Every shorter prefix and every longer message is rejected. */
static void test_parse_truncated(void **state)
{
	static struct w w;
	struct dns_msg m;
	size_t len = build_chain(&w);

	(void)state;
	for (size_t i = 0; i < len; i++)
		if (dns_parse(w.b, i, &m) != -EBADMSG)
			fail_msg("prefix of %zu bytes accepted", i);
	w.b[len] = 0;
	assert_int_equal(dns_parse(w.b, len + 1, &m), -EBADMSG);
	assert_null(m.an);
}

static void test_parse_counts(void **state)
{
	static struct w w;
	struct dns_msg m;
	size_t len = build_chain(&w);

	(void)state;
	/* An answer count the length cannot hold. */
	w.b[6] = 0xff;
	w.b[7] = 0xff;
	assert_int_equal(dns_parse(w.b, len, &m), -EBADMSG);
	/* One question exactly. */
	len = build_chain(&w);
	w.b[5] = 0;
	assert_int_equal(dns_parse(w.b, len, &m), -EBADMSG);
	w.b[5] = 2;
	assert_int_equal(dns_parse(w.b, len, &m), -EBADMSG);
	/* Too long for DNS at all. */
	assert_int_equal(dns_parse(w.b, DNS_MAX_MSG + 1, &m), -EMSGSIZE);
	/* Shorter than a header. */
	assert_int_equal(dns_parse(w.b, 11, &m), -EBADMSG);
}

static void test_name_compression(void **state)
{
	static struct w w;
	struct dns_name n;
	size_t off, a;

	(void)state;
	/* A pointer forward is refused, as is one to itself. */
	whdr(&w, 1, 0, 1, 0, 0, 0);
	a = w.n;
	wptr(&w, a + 2);
	wname(&w, "x");
	off = a;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), -EBADMSG);
	whdr(&w, 1, 0, 1, 0, 0, 0);
	a = w.n;
	wptr(&w, a);
	off = a;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), -EBADMSG);
	/* Into the header. */
	whdr(&w, 1, 0, 1, 0, 0, 0);
	a = w.n;
	wptr(&w, 2);
	off = a;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), -EBADMSG);
	/* Reserved label types 0x40 and 0x80. */
	whdr(&w, 1, 0, 1, 0, 0, 0);
	a = w.n;
	w8(&w, 0x41);
	w8(&w, 'a');
	w8(&w, 0);
	off = a;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), -EBADMSG);
	w.b[a] = 0x81;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), -EBADMSG);
	/* A pointer cut in half at the end. */
	whdr(&w, 1, 0, 1, 0, 0, 0);
	w8(&w, 0xc0);
	off = 12;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), -EBADMSG);
}

/* 200 pointers, each one to the one before: past DNS_MAX_JUMPS. */
static void test_name_jumps(void **state)
{
	static struct w w;
	struct dns_name n;
	size_t off, last = 0;

	(void)state;
	whdr(&w, 1, 0, 1, 0, 0, 0);
	wname(&w, "a");
	last = 12;
	for (int i = 0; i < 200; i++) {
		size_t at = w.n;

		wptr(&w, last);
		last = at;
	}
	off = last;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), -EBADMSG);
	/* 100 of them are fine. */
	off = 12 + 3 + 2 * 99;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), 0);
	assert_int_equal(n.len, 3);
}

static void test_name_limits(void **state)
{
	static struct w w;
	struct dns_name n;
	char label[64], name[300];
	size_t off;

	(void)state;
	/* 63 is the longest label. */
	memset(label, 'a', 63);
	label[63] = '\0';
	whdr(&w, 1, 0, 1, 0, 0, 0);
	wname(&w, label);
	off = 12;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), 0);
	/* A name over 255 octets: five labels of 63. */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label,
		 label);
	whdr(&w, 1, 0, 1, 0, 0, 0);
	wname(&w, name);
	off = 12;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), -EBADMSG);
	/* A label running past the end. */
	whdr(&w, 1, 0, 1, 0, 0, 0);
	w8(&w, 10);
	w8(&w, 'a');
	off = 12;
	assert_int_equal(dns_name_read(w.b, w.n, &off, &n), -EBADMSG);
	/* Text: too long, empty labels. */
	memset(name, 'a', 254);
	name[254] = '\0';
	assert_int_equal(dns_name_from_text(name, &n), -EINVAL);
	assert_int_equal(dns_name_from_text("a..b", &n), -EINVAL);
	assert_int_equal(dns_name_from_text(".a", &n), -EINVAL);
	assert_int_equal(dns_name_from_text("a.b.", &n), 0);
	assert_int_equal(n.len, 5);
	assert_int_equal(dns_name_from_text(".", &n), 0);
	assert_int_equal(n.len, 1);
}

/* A dot or a control byte inside a label is never text. */
static void test_name_text(void **state)
{
	struct dns_name n;
	char buf[DNS_NAME_TEXT];
	static const uint8_t dotted[] = { 15, 'a', '.', 'w', 'i', 'n', 'd',
					  'o', 'w', 's', 'u', 'p', 'd', 'a',
					  't', 'e', 3, 'c', 'o', 'm', 0 };

	(void)state;
	n.len = sizeof(dotted);
	memcpy(n.wire, dotted, sizeof(dotted));
	assert_int_equal(dns_name_to_text(&n, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(dns_name_from_text("Xn--Wgv71a.JP", &n), 0);
	assert_int_equal(dns_name_to_text(&n, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "xn--wgv71a.jp");
	assert_int_equal(dns_name_from_text("_dmarc.example.jp", &n), 0);
	assert_int_equal(dns_name_to_text(&n, buf, sizeof(buf)), 0);
	assert_int_equal(dns_name_to_text(&n, buf, 5), -ENOSPC);
	n.wire[1] = 0x01;
	assert_int_equal(dns_name_to_text(&n, buf, sizeof(buf)), -EINVAL);
	dns_name_from_text(".", &n);
	assert_int_equal(dns_name_to_text(&n, buf, sizeof(buf)), 0);
	assert_string_equal(buf, ".");
}

static void test_bad_records(void **state)
{
	static struct w w;
	struct dns_msg m;
	size_t q;

	(void)state;
	/* A with five bytes. */
	whdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	q = wname(&w, "a.jp");
	w16(&w, DNS_T_A);
	w16(&w, DNS_C_IN);
	wptr(&w, q);
	wrr(&w, DNS_T_A, 60, 5);
	for (int i = 0; i < 5; i++)
		w8(&w, 1);
	assert_int_equal(dns_parse(w.b, w.n, &m), -EBADMSG);
	/* AAAA with four. */
	whdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	q = wname(&w, "a.jp");
	w16(&w, DNS_T_AAAA);
	w16(&w, DNS_C_IN);
	wptr(&w, q);
	wrr(&w, DNS_T_AAAA, 60, 4);
	w32(&w, 0);
	assert_int_equal(dns_parse(w.b, w.n, &m), -EBADMSG);
	/* A CNAME whose name does not fill its rdata. */
	whdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	q = wname(&w, "a.jp");
	w16(&w, DNS_T_CNAME);
	w16(&w, DNS_C_IN);
	wptr(&w, q);
	wrr(&w, DNS_T_CNAME, 60, 4);
	wptr(&w, q);
	w16(&w, 0);
	assert_int_equal(dns_parse(w.b, w.n, &m), -EBADMSG);
	/* rdlength past the end. */
	whdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	q = wname(&w, "a.jp");
	w16(&w, DNS_T_A);
	w16(&w, DNS_C_IN);
	wptr(&w, q);
	wrr(&w, DNS_T_TXT, 60, 200);
	w8(&w, 1);
	assert_int_equal(dns_parse(w.b, w.n, &m), -EBADMSG);
	/* OPT in the answer section, and two OPTs. */
	whdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	wname(&w, "a.jp");
	w16(&w, DNS_T_A);
	w16(&w, DNS_C_IN);
	w8(&w, 0);
	wrr(&w, DNS_T_OPT, 0, 0);
	assert_int_equal(dns_parse(w.b, w.n, &m), -EBADMSG);
	whdr(&w, 1, DNS_F_QR, 1, 0, 0, 2);
	wname(&w, "a.jp");
	w16(&w, DNS_T_A);
	w16(&w, DNS_C_IN);
	w8(&w, 0);
	wrr(&w, DNS_T_OPT, 0, 0);
	w8(&w, 0);
	wrr(&w, DNS_T_OPT, 0, 0);
	assert_int_equal(dns_parse(w.b, w.n, &m), -EBADMSG);
	/* A TTL with the top bit set reads 0 (RFC 2181). */
	whdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	q = wname(&w, "a.jp");
	w16(&w, DNS_T_A);
	w16(&w, DNS_C_IN);
	wptr(&w, q);
	wrr(&w, DNS_T_A, 0x80000001u, 4);
	w32(&w, 0xcb007101);
	assert_int_equal(dns_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.an[0].ttl, 0);
	dns_msg_free(&m);
}

/* a CNAME b, b CNAME a: the chain stops, nothing is credited twice. */
static void test_chain_loop(void **state)
{
	static struct w w;
	struct dns_msg m;
	struct dns_addr a[4];
	struct dns_name t;
	size_t q, b;

	(void)state;
	whdr(&w, 1, DNS_F_QR, 1, 3, 0, 0);
	q = wname(&w, "a.jp");
	w16(&w, DNS_T_A);
	w16(&w, DNS_C_IN);
	wptr(&w, q);
	wrr(&w, DNS_T_CNAME, 60, 6);
	b = wname(&w, "b.jp");
	wptr(&w, b);
	wrr(&w, DNS_T_CNAME, 60, 2);
	wptr(&w, q);
	wptr(&w, b);
	wrr(&w, DNS_T_A, 60, 4);
	w32(&w, 0xcb007109);
	assert_int_equal(dns_parse(w.b, w.n, &m), 0);
	assert_int_equal(dns_chain_addrs(&m, a, 4), 1);
	assert_false(dns_chain_open(&m, &t));
	dns_msg_free(&m);
}

/* 20 CNAMEs: the chain is followed DNS_MAX_CHAIN links, no further. */
static void test_chain_long(void **state)
{
	static struct w w;
	struct dns_msg m;
	struct dns_addr a[4];
	struct dns_name t;
	char name[32];
	size_t prev;

	(void)state;
	whdr(&w, 1, DNS_F_QR, 1, 21, 0, 0);
	prev = wname(&w, "n0.jp");
	w16(&w, DNS_T_A);
	w16(&w, DNS_C_IN);
	for (int i = 1; i <= 20; i++) {
		size_t lenat, start;

		wptr(&w, prev);
		wrr(&w, DNS_T_CNAME, 60, 0);
		lenat = w.n - 2;
		start = w.n;
		snprintf(name, sizeof(name), "n%d.jp", i);
		prev = wname(&w, name);
		w.b[lenat + 1] = (uint8_t)(w.n - start);
	}
	wptr(&w, prev);
	wrr(&w, DNS_T_A, 60, 4);
	w32(&w, 0xcb007109);
	assert_int_equal(dns_parse(w.b, w.n, &m), 0);
	assert_int_equal(dns_chain_addrs(&m, a, 4), 0);
	assert_true(dns_chain_open(&m, &t));
	dns_msg_free(&m);
}

static void test_builders(void **state)
{
	uint8_t q[512], out[1024];
	struct dns_name n;
	struct dns_msg m, r;
	struct dns_addr a[2] = {
		{ AF_INET, { 203, 0, 113, 5 }, 60 },
		{ AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 }, 60 },
	};
	int len, rl;

	(void)state;
	assert_int_equal(dns_name_from_text("Update.Example.JP", &n), 0);
	len = dns_build_query(q, sizeof(q), 0xbeef, &n, DNS_T_A, 1232);
	assert_true(len > 0);
	assert_int_equal(dns_parse(q, (size_t)len, &m), 0);
	assert_int_equal(m.id, 0xbeef);
	assert_true(m.edns);
	assert_int_equal(m.flags & DNS_F_RD, DNS_F_RD);
	assert_int_equal(dns_build_query(q, 20, 1, &n, DNS_T_A, 0), -ENOSPC);

	rl = dns_build_reply(out, sizeof(out), q, &m, DNS_R_REFUSED, false);
	assert_true(rl > 0);
	assert_int_equal(dns_parse(out, (size_t)rl, &r), 0);
	assert_int_equal(r.id, 0xbeef);
	assert_int_equal(r.flags & DNS_F_RCODE, DNS_R_REFUSED);
	assert_int_equal(r.flags & (DNS_F_QR | DNS_F_RD | DNS_F_TC),
			 DNS_F_QR | DNS_F_RD);
	dns_msg_free(&r);
	rl = dns_build_reply(out, sizeof(out), q, &m, DNS_R_NOERROR, true);
	assert_int_equal(dns_parse(out, (size_t)rl, &r), 0);
	assert_int_equal(r.flags & DNS_F_TC, DNS_F_TC);
	dns_msg_free(&r);
	/* No question when the query did not parse. */
	rl = dns_build_reply(out, sizeof(out), q, NULL, DNS_R_FORMERR, false);
	assert_int_equal(rl, DNS_HDR_LEN);

	/* A stale answer: only the question's family. */
	rl = dns_build_answer(out, sizeof(out), q, &m, a, 2, 30);
	assert_true(rl > 0);
	assert_int_equal(dns_parse(out, (size_t)rl, &r), 0);
	assert_int_equal(r.ancount, 1);
	assert_int_equal(dns_chain_addrs(&r, a, 2), 1);
	assert_int_equal(a[0].ttl, 30);
	dns_msg_free(&r);

	/* TTLs rewritten in place, OPT untouched. */
	{
		static struct w w;
		size_t wl = build_chain(&w);

		assert_int_equal(dns_rewrite_ttls(w.b, wl, 50, 0), 0);
		assert_int_equal(dns_parse(w.b, wl, &r), 0);
		assert_int_equal(r.an[0].ttl, 550);
		assert_int_equal(r.an[1].ttl, 10);
		assert_int_equal(r.an[3].ttl, 0);
		assert_int_equal(r.edns_flags & DNS_EDNS_DO, DNS_EDNS_DO);
		dns_msg_free(&r);
		assert_int_equal(dns_rewrite_ttls(w.b, wl, 0, 30), 0);
		assert_int_equal(dns_parse(w.b, wl, &r), 0);
		assert_int_equal(r.min_ttl, 30);
		dns_msg_free(&r);
	}
	dns_msg_free(&m);
}

/* Random corruption of a good message: rejected or parsed, no crash
 * (run under SANITIZE=1 for the memory errors). */
static void test_mutations(void **state)
{
	static struct w w, x;
	size_t len = build_chain(&w);
	unsigned int seed = 12345;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		struct dns_msg m;
		struct dns_addr a[8];
		struct dns_name t;
		int flips = 1 + (int)(rand_r(&seed) % 4);
		size_t l = len;

		memcpy(x.b, w.b, len);
		for (int i = 0; i < flips; i++)
			x.b[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 8 == 0)
			l = rand_r(&seed) % len;
		if (dns_parse(x.b, l, &m) == 0) {
			dns_chain_addrs(&m, a, 8);
			dns_chain_open(&m, &t);
			assert_int_equal(dns_rewrite_ttls(x.b, l, 1, 0), 0);
			dns_msg_free(&m);
		}
	}
}

/* A name compressed through another record's TTL bytes (found by
 * fuzz_dns): the parser accepts the message, so rewriting its TTLs must
 * too, and must still read the names as the parser did. */
static void test_rewrite_name_through_ttl(void **state)
{
	static const uint8_t msg[] = {
		0x00, 0x02, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x61, 0x07, 0x65, 0x78, 0x61, 0x9a, 0x8f,
		0x6c, 0x65, 0x02, 0x6a, 0x70, 0x00, 0x00, 0x01, 0x00, 0x01,
		0xc0, 0x0c, 0x28, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c,
		0x00, 0x06, 0x03, 0x63, 0x64, 0x6e, 0x04, 0x00, 0x00, 0x00,
		0x2b, 0x01, 0x00, 0x01, 0x28, 0x00, 0x00, 0x00, 0x00, 0x04,
		0xcb, 0x00, 0x71, 0x05, 0xc0, 0x2a, 0xf8, 0x01, 0x00, 0x01,
		0x00, 0x00, 0xff, 0x3c, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x01,
	};
	uint8_t b[sizeof(msg)];
	struct dns_msg m;

	(void)state;
	memcpy(b, msg, sizeof(msg));
	assert_int_equal(dns_parse(b, sizeof(b), &m), 0);
	dns_msg_free(&m);
	assert_int_equal(dns_rewrite_ttls(b, sizeof(b), 7, 0), 0);
	/* The first record's TTL (300) aged by 7 s. */
	assert_int_equal(b[36] << 24 | b[37] << 16 | b[38] << 8 | b[39], 293);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_chain),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_counts),
		cmocka_unit_test(test_name_compression),
		cmocka_unit_test(test_name_jumps),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_name_text),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_chain_loop),
		cmocka_unit_test(test_chain_long),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_rewrite_name_through_ttl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
