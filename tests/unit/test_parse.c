// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "parse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- prefixes ---- */

static struct prefix P(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, &p))
		fail_msg("prefix_parse(\"%s\") failed", s);
	return p;
}

static void test_prefix_good(void **state)
{
	static const struct {
		const char *in, *out;
		int family, len;
	} t[] = {
		{ "10.0.0.0/8", "10.0.0.0/8", AF_INET, 8 },
		{ "10.0.0.1", "10.0.0.1", AF_INET, 32 },
		{ "10.0.0.1/32", "10.0.0.1", AF_INET, 32 },
		{ "0.0.0.0/0", "0.0.0.0/0", AF_INET, 0 },
		{ "192.168.1.128/25", "192.168.1.128/25", AF_INET, 25 },
		{ "255.255.255.255", "255.255.255.255", AF_INET, 32 },
		{ "172.16.0.0/12", "172.16.0.0/12", AF_INET, 12 },
		{ "fd00::/48", "fd00::/48", AF_INET6, 48 },
		{ "::1", "::1", AF_INET6, 128 },
		{ "::1/128", "::1", AF_INET6, 128 },
		{ "::/0", "::/0", AF_INET6, 0 },
		{ "FD00:0:0::/48", "fd00::/48", AF_INET6, 48 },
		{ "2001:db8:0:0:0:0:0:1", "2001:db8::1", AF_INET6, 128 },
		{ "2001:db8::/127", "2001:db8::/127", AF_INET6, 127 },
		{ "fe80::/10", "fe80::/10", AF_INET6, 10 },
		{ "::ffff:10.0.0.1", "::ffff:10.0.0.1", AF_INET6, 128 },
	};
	char buf[PREFIX_STRLEN];
	struct prefix p, q;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		memset(&p, 0xaa, sizeof(p));
		if (prefix_parse(t[i].in, &p))
			fail_msg("prefix_parse(\"%s\")", t[i].in);
		assert_int_equal(p.family, t[i].family);
		assert_int_equal(p.len, t[i].len);
		prefix_format(&p, buf, sizeof(buf));
		assert_string_equal(buf, t[i].out);
		/* The canonical text reads back to the same prefix. */
		assert_int_equal(prefix_parse(buf, &q), 0);
		assert_true(prefix_equal(&p, &q));
		assert_int_equal(prefix_cmp(&p, &q), 0);
	}
	p = P("10.0.0.0/8");
	assert_int_equal(prefix_maxlen(&p), 32);
	assert_memory_equal(p.addr, "\x0a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	p = P("fd00::/8");
	assert_int_equal(prefix_maxlen(&p), 128);
}

static void test_prefix_bad(void **state)
{
	static const char *const t[] = {
		"", "/", "/8", "10.0.0.0/",
		"10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/008", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0.0 /8",
		"10.0.0.0/ 8", "10.0.0.0/8/8", "10.0.0", "10.0.0.0.0",
		"256.0.0.0", "010.0.0.1", "10.0.0.0/4294967304", "1.2.3.4/x",
		"fd00::/129", "fd00::/0048", "::1/1280",
		"fe80::1%eth0", "fe80::1%eth0/128", "gggg::", ":::",
		"10.0.0.0/8x", "localhost", "0x0a.0.0.1",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000/64",
	};
	struct prefix p, orig;

	(void)state;
	memset(&orig, 0x5a, sizeof(orig));
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		p = orig;
		if (prefix_parse(t[i], &p) != -EINVAL)
			fail_msg("prefix_parse(\"%s\") accepted", t[i]);
		/* A failed parse leaves the output alone. */
		assert_memory_equal(&p, &orig, sizeof(p));
	}
	assert_int_equal(prefix_parse(NULL, &p), -EINVAL);
}

/* Host bits set are refused apart (-EDOM), with the network they most
 * likely meant for the "did you mean" of sanso-zones(5). */
static void test_prefix_host_bits(void **state)
{
	static const struct { const char *in, *meant; } t[] = {
		{ "10.1.2.3/16", "10.1.0.0/16" },
		{ "10.0.0.1/31", "10.0.0.0/31" },
		{ "10.21.1.1/13", "10.16.0.0/13" },
		{ "10.0.0.255/25", "10.0.0.128/25" },
		{ "fd00::1/48", "fd00::/48" },
		{ "fd00:10:ffff::/33", "fd00:10:8000::/33" },
		{ "1.2.3.4/0", "0.0.0.0/0" },
	};
	char buf[PREFIX_STRLEN];
	struct prefix p;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		memset(&p, 0x5a, sizeof(p));
		assert_int_equal(prefix_parse(t[i].in, &p), -EDOM);
		prefix_format(&p, buf, sizeof(buf));
		assert_string_equal(buf, t[i].meant);
	}
}

static void test_addr_parse(void **state)
{
	struct prefix p;

	(void)state;
	assert_int_equal(addr_parse("192.0.2.1", &p), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 32);
	assert_int_equal(addr_parse("2001:db8::1", &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.len, 128);
	assert_int_equal(addr_parse("192.0.2.1/32", &p), -EINVAL);
	assert_int_equal(addr_parse("2001:db8::1/128", &p), -EINVAL);
	assert_int_equal(addr_parse("", &p), -EINVAL);
	assert_int_equal(addr_parse(" 192.0.2.1", &p), -EINVAL);
	assert_int_equal(addr_parse(NULL, &p), -EINVAL);
}

static void test_prefix_relations(void **state)
{
	struct prefix a8 = P("10.0.0.0/8"), a16 = P("10.1.0.0/16");
	struct prefix a16b = P("10.2.0.0/16"), h = P("10.1.2.3");
	struct prefix other = P("11.0.0.0/8"), all4 = P("0.0.0.0/0");
	struct prefix all6 = P("::/0"), v6 = P("fd00::/8");
	struct prefix v6h = P("fd00::1"), odd = P("10.1.128.0/17");
	struct prefix odd2 = P("10.1.0.0/17"), m = P("::ffff:10.1.2.3");

	(void)state;
	assert_true(prefix_contains(&a8, &a16));
	assert_true(prefix_contains(&a8, &h));
	assert_true(prefix_contains(&a16, &h));
	assert_true(prefix_contains(&a8, &a8));
	assert_false(prefix_contains(&a16, &a8));
	assert_false(prefix_contains(&a16b, &h));
	assert_false(prefix_contains(&other, &h));
	assert_true(prefix_contains(&all4, &h));
	assert_false(prefix_contains(&all4, &v6));
	assert_false(prefix_contains(&all6, &h));
	assert_true(prefix_contains(&all6, &v6h));
	assert_true(prefix_contains(&v6, &v6h));
	/* The IPv4-mapped form is IPv6, not the IPv4 address. */
	assert_false(prefix_contains(&a8, &m));
	/* Boundaries inside a byte. */
	assert_false(prefix_contains(&odd, &h));
	assert_true(prefix_contains(&odd2, &h));
	assert_true(prefix_contains(&a16, &odd));

	assert_true(prefix_overlap(&a8, &a16));
	assert_true(prefix_overlap(&a16, &a8));
	assert_false(prefix_overlap(&a16, &a16b));
	assert_false(prefix_overlap(&odd, &odd2));
	assert_false(prefix_overlap(&all4, &all6));
	assert_true(prefix_overlap(&all6, &v6));

	assert_true(prefix_equal(&a8, &a8));
	assert_false(prefix_equal(&a8, &a16));
	assert_false(prefix_equal(&a16, &odd2));

	/* Family first, then address, then length. */
	assert_true(prefix_cmp(&a8, &v6) < 0);
	assert_true(prefix_cmp(&v6, &a8) > 0);
	assert_true(prefix_cmp(&a8, &a16) < 0);
	assert_true(prefix_cmp(&a16, &odd2) < 0);
	assert_true(prefix_cmp(&odd2, &odd) < 0);
	assert_true(prefix_cmp(&a16b, &other) < 0);
	assert_true(prefix_cmp(&all6, &v6) < 0);
	assert_int_equal(prefix_cmp(&h, &h), 0);
}

static void test_prefix_format_small(void **state)
{
	struct prefix p = P("192.168.100.0/24");
	char buf[8];

	(void)state;
	prefix_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "192.168");
	prefix_format(&p, buf, 0);
}

/* Every length of one address, both families, as a round trip. */
static void test_prefix_all_lengths(void **state)
{
	char in[PREFIX_STRLEN], buf[PREFIX_STRLEN];
	struct prefix p, q;

	(void)state;
	for (int len = 0; len <= 32; len++) {
		uint32_t a = len ? 0xffffffffu << (32 - len) : 0;

		snprintf(in, sizeof(in), "%u.%u.%u.%u/%d", a >> 24,
			 (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
		assert_int_equal(prefix_parse(in, &p), 0);
		prefix_format(&p, buf, sizeof(buf));
		assert_int_equal(prefix_parse(buf, &q), 0);
		assert_true(prefix_equal(&p, &q));
		if (len < 32) {
			/* One bit past the length is a host bit. */
			snprintf(in, sizeof(in), "255.255.255.255/%d", len);
			assert_int_equal(prefix_parse(in, &p), -EDOM);
		}
	}
	for (int len = 0; len <= 128; len++) {
		snprintf(in, sizeof(in), "%s/%d",
			 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", len);
		assert_int_equal(prefix_parse(in, &p),
				 len == 128 ? 0 : -EDOM);
		snprintf(in, sizeof(in), "::/%d", len);
		assert_int_equal(prefix_parse(in, &p), 0);
		assert_int_equal(p.len, len);
	}
}

/* ---- services ---- */

static void test_service_good(void **state)
{
	static const struct {
		const char *in, *out;
		uint8_t proto;
		uint16_t lo, hi;
	} t[] = {
		{ "tcp/443", "tcp/443", IPPROTO_TCP, 443, 443 },
		{ "udp/53", "udp/53", IPPROTO_UDP, 53, 53 },
		{ "sctp/9", "sctp/9", IPPROTO_SCTP, 9, 9 },
		{ "tcp/1", "tcp/1", IPPROTO_TCP, 1, 1 },
		{ "tcp/65535", "tcp/65535", IPPROTO_TCP, 65535, 65535 },
		{ "tcp/8530-8531", "tcp/8530-8531", IPPROTO_TCP, 8530, 8531 },
		{ "udp/1-65535", "udp/1-65535", IPPROTO_UDP, 1, 65535 },
		{ "tcp/443-443", "tcp/443", IPPROTO_TCP, 443, 443 },
		{ "tcp", "tcp", IPPROTO_TCP, 0, 65535 },
		{ "udp", "udp", IPPROTO_UDP, 0, 65535 },
		{ "sctp", "sctp", IPPROTO_SCTP, 0, 65535 },
		{ "icmp/echo-request", "icmp/echo-request", IPPROTO_ICMP,
		  8, 8 },
		{ "icmp/8", "icmp/echo-request", IPPROTO_ICMP, 8, 8 },
		{ "icmp/0", "icmp/echo-reply", IPPROTO_ICMP, 0, 0 },
		{ "icmp/1", "icmp/1", IPPROTO_ICMP, 1, 1 },
		{ "icmp/255", "icmp/255", IPPROTO_ICMP, 255, 255 },
		{ "icmp", "icmp", IPPROTO_ICMP, 0, 255 },
		{ "icmpv6", "icmpv6", IPPROTO_ICMPV6, 0, 255 },
		{ "icmpv6/echo-request", "icmpv6/echo-request", IPPROTO_ICMPV6,
		  128, 128 },
		{ "icmpv6/128", "icmpv6/echo-request", IPPROTO_ICMPV6,
		  128, 128 },
		{ "icmpv6/mld-listener-reduction", "icmpv6/mld-listener-done",
		  IPPROTO_ICMPV6, 132, 132 },
		{ "icmpv6/nd-neighbor-solicit", "icmpv6/nd-neighbor-solicit",
		  IPPROTO_ICMPV6, 135, 135 },
		{ "icmpv6/0", "icmpv6/0", IPPROTO_ICMPV6, 0, 0 },
		{ "any", "any", 0, 0, 65535 },
	};
	char buf[SERVICE_STRLEN];
	struct service sv, sv2;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (service_parse(t[i].in, &sv))
			fail_msg("service_parse(\"%s\")", t[i].in);
		assert_int_equal(sv.proto, t[i].proto);
		assert_int_equal(sv.lo, t[i].lo);
		assert_int_equal(sv.hi, t[i].hi);
		service_format(&sv, buf, sizeof(buf));
		assert_string_equal(buf, t[i].out);
		assert_int_equal(service_parse(buf, &sv2), 0);
		assert_int_equal(service_cmp(&sv, &sv2), 0);
	}
}

static void test_service_bad(void **state)
{
	static const char *const t[] = {
		"", "/", "tcp/", "tcp/0", "tcp/65536", "tcp/0443", "tcp/-1",
		"tcp/+443", "tcp/443-442", "tcp/0-10", "tcp/10-", "tcp/-10",
		"tcp/1-2-3", "tcp/ 443", "tcp /443", " tcp/443", "tcp/443 ",
		"TCP/443", "Tcp", "tcp/http", "tcp/443/", "tcp/99999999999",
		"udp/", "sctp/0", "icmp/", "icmp/256", "icmp/08",
		"icmp/Echo-Request", "icmp/echo", "icmp/packet-too-big",
		"icmp/8-9", "icmpv6/source-quench", "icmpv6/-1",
		"icmp6/echo-request", "ipv6-icmp", "any/80", "ANY", "all",
		"gre", "esp", "udplite/53", "ip", "tcp/443,80",
	};
	struct service sv, orig = { 99, 7, 7 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		sv = orig;
		if (service_parse(t[i], &sv) != -EINVAL)
			fail_msg("service_parse(\"%s\") accepted", t[i]);
		assert_int_equal(service_cmp(&sv, &orig), 0);
	}
	assert_int_equal(service_parse(NULL, &sv), -EINVAL);
}

/* Every ICMP type number parses, and its printed form reads back. */
static void test_service_icmp_round_trip(void **state)
{
	static const uint8_t protos[] = { IPPROTO_ICMP, IPPROTO_ICMPV6 };
	char in[SERVICE_STRLEN], buf[SERVICE_STRLEN];
	struct service sv, sv2;
	int named = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
		for (int type = 0; type <= 255; type++) {
			const char *n = icmp_type_name(protos[i],
						       (uint8_t)type);

			snprintf(in, sizeof(in), "%s/%d",
				 proto_name(protos[i]), type);
			assert_int_equal(service_parse(in, &sv), 0);
			service_format(&sv, buf, sizeof(buf));
			assert_int_equal(service_parse(buf, &sv2), 0);
			assert_int_equal(service_cmp(&sv, &sv2), 0);
			if (n) {
				named++;
				snprintf(in, sizeof(in), "%s/%s",
					 proto_name(protos[i]), n);
				assert_string_equal(buf, in);
			} else {
				assert_string_equal(buf, in);
			}
		}
	}
	/* 15 ICMP types, 18 ICMPv6 types (132 has two names). */
	assert_int_equal(named, 15 + 18);
}

static void test_port_round_trip(void **state)
{
	char in[SERVICE_STRLEN], buf[SERVICE_STRLEN];
	struct service sv;

	(void)state;
	for (int port = 1; port <= 65535; port++) {
		snprintf(in, sizeof(in), "udp/%d", port);
		assert_int_equal(service_parse(in, &sv), 0);
		service_format(&sv, buf, sizeof(buf));
		assert_string_equal(buf, in);
	}
}

static void test_icmp_names(void **state)
{
	static const struct {
		uint8_t proto, type;
		const char *name;
	} t[] = {
		{ IPPROTO_ICMP, 0, "echo-reply" },
		{ IPPROTO_ICMP, 3, "destination-unreachable" },
		{ IPPROTO_ICMP, 4, "source-quench" },
		{ IPPROTO_ICMP, 5, "redirect" },
		{ IPPROTO_ICMP, 8, "echo-request" },
		{ IPPROTO_ICMP, 9, "router-advertisement" },
		{ IPPROTO_ICMP, 10, "router-solicitation" },
		{ IPPROTO_ICMP, 11, "time-exceeded" },
		{ IPPROTO_ICMP, 12, "parameter-problem" },
		{ IPPROTO_ICMP, 13, "timestamp-request" },
		{ IPPROTO_ICMP, 14, "timestamp-reply" },
		{ IPPROTO_ICMP, 15, "info-request" },
		{ IPPROTO_ICMP, 16, "info-reply" },
		{ IPPROTO_ICMP, 17, "address-mask-request" },
		{ IPPROTO_ICMP, 18, "address-mask-reply" },
		{ IPPROTO_ICMPV6, 1, "destination-unreachable" },
		{ IPPROTO_ICMPV6, 2, "packet-too-big" },
		{ IPPROTO_ICMPV6, 3, "time-exceeded" },
		{ IPPROTO_ICMPV6, 4, "parameter-problem" },
		{ IPPROTO_ICMPV6, 128, "echo-request" },
		{ IPPROTO_ICMPV6, 129, "echo-reply" },
		{ IPPROTO_ICMPV6, 130, "mld-listener-query" },
		{ IPPROTO_ICMPV6, 131, "mld-listener-report" },
		{ IPPROTO_ICMPV6, 132, "mld-listener-done" },
		{ IPPROTO_ICMPV6, 133, "nd-router-solicit" },
		{ IPPROTO_ICMPV6, 134, "nd-router-advert" },
		{ IPPROTO_ICMPV6, 135, "nd-neighbor-solicit" },
		{ IPPROTO_ICMPV6, 136, "nd-neighbor-advert" },
		{ IPPROTO_ICMPV6, 137, "nd-redirect" },
		{ IPPROTO_ICMPV6, 138, "router-renumbering" },
		{ IPPROTO_ICMPV6, 141, "ind-neighbor-solicit" },
		{ IPPROTO_ICMPV6, 142, "ind-neighbor-advert" },
		{ IPPROTO_ICMPV6, 143, "mld2-listener-report" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		assert_string_equal(icmp_type_name(t[i].proto, t[i].type),
				    t[i].name);
	assert_null(icmp_type_name(IPPROTO_ICMP, 1));
	assert_null(icmp_type_name(IPPROTO_ICMP, 128));
	assert_null(icmp_type_name(IPPROTO_ICMPV6, 0));
	assert_null(icmp_type_name(IPPROTO_ICMPV6, 8));
	assert_null(icmp_type_name(IPPROTO_ICMPV6, 139));
	assert_null(icmp_type_name(IPPROTO_TCP, 8));
	assert_null(icmp_type_name(0, 8));

	assert_string_equal(proto_name(IPPROTO_TCP), "tcp");
	assert_string_equal(proto_name(IPPROTO_UDP), "udp");
	assert_string_equal(proto_name(IPPROTO_SCTP), "sctp");
	assert_string_equal(proto_name(IPPROTO_ICMP), "icmp");
	assert_string_equal(proto_name(IPPROTO_ICMPV6), "icmpv6");
	assert_string_equal(proto_name(0), "any");
	assert_null(proto_name(47));
}

static void test_service_cmp_format(void **state)
{
	struct service a, b;
	char buf[SERVICE_STRLEN];

	(void)state;
	assert_int_equal(service_parse("tcp/80", &a), 0);
	assert_int_equal(service_parse("tcp/443", &b), 0);
	assert_true(service_cmp(&a, &b) < 0);
	assert_true(service_cmp(&b, &a) > 0);
	assert_int_equal(service_parse("tcp/80-81", &b), 0);
	assert_true(service_cmp(&a, &b) < 0);
	assert_int_equal(service_parse("udp/1", &b), 0);
	assert_true(service_cmp(&a, &b) < 0);
	assert_int_equal(service_parse("any", &b), 0);
	assert_true(service_cmp(&b, &a) < 0);

	/* Values the parser never makes still print unambiguously. */
	a = (struct service){ IPPROTO_TCP, 0, 100 };
	service_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "tcp/0-100");
	a = (struct service){ IPPROTO_ICMP, 3, 5 };
	service_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "icmp/3-5");
	a = (struct service){ 47, 0, 0 };
	service_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "proto-47");
	a = (struct service){ IPPROTO_ICMPV6, 128, 128 };
	service_format(&a, buf, 8);
	assert_string_equal(buf, "icmpv6/");
}

/* ---- times ---- */

static void test_hhmm(void **state)
{
	static const struct {
		const char *in;
		int min;
	} good[] = {
		{ "00:00", 0 }, { "08:30", 510 }, { "18:15", 1095 },
		{ "23:59", 1439 }, { "24:00", 1440 }, { "12:00", 720 },
		{ "09:05", 545 },
	};
	static const char *const bad[] = {
		"", "8:30", "08:3", "0830", "08.30", "08:30:00", "24:01",
		"25:00", "23:60", "99:99", " 08:30", "08:30 ", "-1:00",
		"+8:30", "08:-1", "ab:cd", "08:3a", "08-30", "24:59",
	};
	int m;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(hhmm_parse(good[i].in, &m), 0);
		assert_int_equal(m, good[i].min);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		m = -7;
		if (hhmm_parse(bad[i], &m) != -EINVAL)
			fail_msg("hhmm_parse(\"%s\") accepted", bad[i]);
		assert_int_equal(m, -7);
	}
	assert_int_equal(hhmm_parse(NULL, &m), -EINVAL);
}

static void test_hours(void **state)
{
	static const struct {
		const char *in;
		int start, end;
	} good[] = {
		{ "08:30-18:15", 510, 1095 },
		{ "22:00-02:00", 1320, 120 },
		{ "22:00-24:00", 1320, 1440 },
		{ "22:00-00:00", 1320, 0 },
		{ "00:00-24:00", 0, 1440 },
		{ "00:00-00:01", 0, 1 },
		{ "23:59-00:00", 1439, 0 },
		{ "12:00-11:59", 720, 719 },
	};
	static const char *const bad[] = {
		"", "08:30", "08:30-", "-18:15", "08:30-08:30", "00:00-00:00",
		"24:00-24:00", "24:00-08:00", "08:30 - 18:15", "08:30-18:15 ",
		"8:30-18:15", "08:30-18:60", "08:30–18:15", "08:30-24:01",
		"08:30_18:15", "08:30-18:15-19:00",
	};
	int s, e;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(hours_parse(good[i].in, &s, &e), 0);
		assert_int_equal(s, good[i].start);
		assert_int_equal(e, good[i].end);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (hours_parse(bad[i], &s, &e) != -EINVAL)
			fail_msg("hours_parse(\"%s\") accepted", bad[i]);
	assert_int_equal(hours_parse(NULL, &s, &e), -EINVAL);
}

/* ---- dates ---- */

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
				 31 };

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

static void test_days_known(void **state)
{
	int y, m, d;

	(void)state;
	assert_int_equal(days_from_civil(1970, 1, 1), 0);
	assert_int_equal(days_from_civil(1970, 1, 2), 1);
	assert_int_equal(days_from_civil(1969, 12, 31), -1);
	assert_int_equal(days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(days_from_civil(2000, 2, 29), 11016);
	assert_int_equal(days_from_civil(2026, 11, 22), 20779);
	assert_int_equal(days_from_civil(9999, 12, 31), 2932896);
	assert_int_equal(days_from_civil(1, 1, 1), -719162);
	assert_int_equal(days_from_civil(0, 3, 1), -719468);
	civil_from_days(0, &y, &m, &d);
	assert_true(y == 1970 && m == 1 && d == 1);
	civil_from_days(-719468, &y, &m, &d);
	assert_true(y == 0 && m == 3 && d == 1);
	civil_from_days(-719469, &y, &m, &d);
	assert_true(y == 0 && m == 2 && d == 29);
	civil_from_days(20779, &y, &m, &d);
	assert_true(y == 2026 && m == 11 && d == 22);

	/* 1970-01-01 was a Thursday, 2026-11-22 is a Sunday. */
	assert_int_equal(weekday_from_days(0), 3);
	assert_int_equal(weekday_from_days(-1), 2);
	assert_int_equal(weekday_from_days(-3), 0);
	assert_int_equal(weekday_from_days(-4), 6);
	assert_int_equal(weekday_from_days(4), 0);
	assert_int_equal(weekday_from_days(days_from_civil(2026, 11, 22)), 6);
	assert_int_equal(weekday_from_days(days_from_civil(2026, 11, 23)), 0);
	assert_int_equal(weekday_from_days(days_from_civil(2000, 1, 1)), 5);
	assert_int_equal(weekday_from_days(days_from_civil(2024, 2, 29)), 3);
	assert_int_equal(weekday_from_days(days_from_civil(1, 1, 1)), 0);
	assert_int_equal(weekday_from_days(INT32_MIN),
			 (int)((((int64_t)INT32_MIN % 7) + 10) % 7));
}

/* A day-by-day walk of the calendar against both directions. */
static void test_days_walk(void **state)
{
	int32_t n = days_from_civil(1600, 1, 1);
	int wd = weekday_from_days(n);
	int y, m, d;

	(void)state;
	for (int yy = 1600; yy <= 2800; yy++) {
		for (int mm = 1; mm <= 12; mm++) {
			for (int dd = 1; dd <= mdays(yy, mm); dd++) {
				if (days_from_civil(yy, mm, dd) != n)
					fail_msg("days_from_civil(%d-%d-%d)",
						 yy, mm, dd);
				civil_from_days(n, &y, &m, &d);
				if (y != yy || m != mm || d != dd)
					fail_msg("civil_from_days(%d)", n);
				if (weekday_from_days(n) != wd)
					fail_msg("weekday_from_days(%d)", n);
				n++;
				wd = (wd + 1) % 7;
			}
		}
	}
}

/* Round trips over a wide range, and the C library as a second opinion. */
static void test_days_range(void **state)
{
	int y, m, d;

	(void)state;
	for (int32_t n = -1000000; n <= 3000000; n++) {
		civil_from_days(n, &y, &m, &d);
		if (m < 1 || m > 12 || d < 1 || d > mdays(y, m) ||
		    days_from_civil(y, m, d) != n)
			fail_msg("round trip of day %d", n);
	}
	for (int32_t n = 0; n <= days_from_civil(2200, 12, 31); n += 13) {
		time_t t = (time_t)n * 86400;
		struct tm tm;

		gmtime_r(&t, &tm);
		civil_from_days(n, &y, &m, &d);
		assert_int_equal(y, tm.tm_year + 1900);
		assert_int_equal(m, tm.tm_mon + 1);
		assert_int_equal(d, tm.tm_mday);
		assert_int_equal(weekday_from_days(n), (tm.tm_wday + 6) % 7);
	}
	/* Extremes of the type do not overflow inside. */
	civil_from_days(INT32_MAX, &y, &m, &d);
	assert_int_equal(days_from_civil(y, m, d), INT32_MAX);
	civil_from_days(INT32_MIN, &y, &m, &d);
	assert_int_equal(days_from_civil(y, m, d), INT32_MIN);
}

static void check_date(int y, int m, int d)
{
	char s[48];
	int32_t n;
	int r;

	snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
	r = date_parse(s, &n);
	if (d > mdays(y, m)) {
		assert_int_equal(r, -EINVAL);
		return;
	}
	assert_int_equal(r, 0);
	assert_int_equal(n, days_from_civil(y, m, d));
}

static void test_date_parse(void **state)
{
	static const char *const bad[] = {
		"", "2026-02-29", "2100-02-29", "1900-02-29", "2026-13-01",
		"2026-00-10", "2026-01-00", "2026-01-32", "2026-04-31",
		"2026-06-31", "2026-09-31", "2026-11-31", "1969-12-31",
		"0000-01-01", "2026-1-01", "2026-01-1", "26-01-01",
		"2026/01/01", "20260101", "2026-01-01T00:00", " 2026-01-01",
		"2026-01-01 ", "+026-01-01", "2026-0a-01", "10000-01-01",
		"2026-01-01Z", "2026--1-01",
	};
	int32_t n;

	(void)state;
	assert_int_equal(date_parse("1970-01-01", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(date_parse("2026-11-22", &n), 0);
	assert_int_equal(n, 20779);
	assert_int_equal(weekday_from_days(n), 6);
	assert_int_equal(date_parse("2024-02-29", &n), 0);
	assert_int_equal(n, days_from_civil(2024, 2, 29));
	assert_int_equal(date_parse("2000-02-29", &n), 0);
	assert_int_equal(date_parse("2026-12-31", &n), 0);
	assert_int_equal(n, days_from_civil(2026, 12, 31));
	assert_int_equal(date_parse("9999-12-31", &n), 0);
	assert_int_equal(n, 2932896);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		n = 42;
		if (date_parse(bad[i], &n) != -EINVAL)
			fail_msg("date_parse(\"%s\") accepted", bad[i]);
		assert_int_equal(n, 42);
	}
	assert_int_equal(date_parse(NULL, &n), -EINVAL);

	/* Every valid day of 1970..2400 parses to its day number. */
	for (int y = 1970; y <= 2400; y++)
		for (int m = 1; m <= 12; m++)
			for (int d = 1; d <= 31; d++)
				check_date(y, m, d);
}

static void test_datetime_parse(void **state)
{
	static const char *const bad[] = {
		"", "2026-12-05", "2026-12-05T", "2026-12-05T22",
		"2026-12-05 22:00",
		"2026-12-05t22:00", "2026-12-05T24:00", "2026-12-05T22:60",
		"2026-12-05T22:00:60", "2026-12-05T22:00Z",
		"2026-12-05T22:00+09:00", "2026-12-05T22:00:00Z",
		"2026-12-05T22:00:00.5", "2026-12-05T2:00", "2026-12-05T22:0",
		"2026-12-05T22:00:0", "2026-02-29T10:00", "2026-12-05T22-00",
		"2026-12-05T22:00-00", "1969-12-31T23:59",
	};
	int32_t n;
	int s;

	(void)state;
	assert_int_equal(datetime_parse("2026-12-05T22:00", &n, &s), 0);
	assert_int_equal(n, days_from_civil(2026, 12, 5));
	assert_int_equal(s, 22 * 3600);
	assert_int_equal(datetime_parse("2026-12-05T22:00:00", &n, &s), 0);
	assert_int_equal(s, 22 * 3600);
	assert_int_equal(datetime_parse("2026-12-05T23:59:59", &n, &s), 0);
	assert_int_equal(s, 86399);
	assert_int_equal(datetime_parse("1970-01-01T00:00", &n, &s), 0);
	assert_int_equal(n, 0);
	assert_int_equal(s, 0);
	assert_int_equal(datetime_parse("2024-02-29T08:30:15", &n, &s), 0);
	assert_int_equal(s, 8 * 3600 + 30 * 60 + 15);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		n = 42;
		s = 43;
		if (datetime_parse(bad[i], &n, &s) != -EINVAL)
			fail_msg("datetime_parse(\"%s\") accepted", bad[i]);
		assert_int_equal(n, 42);
		assert_int_equal(s, 43);
	}
	assert_int_equal(datetime_parse(NULL, &n, &s), -EINVAL);
}

static void test_weekday_parse(void **state)
{
	static const char *const days[] = {
		"mon", "tue", "wed", "thu", "fri", "sat", "sun"
	};
	static const char *const bad[] = {
		"", "Mon", "MON", "monday", "mo", "m", "sun ", "7", "0",
	};

	(void)state;
	for (int i = 0; i < 7; i++)
		assert_int_equal(weekday_parse(days[i]), i);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(weekday_parse(bad[i]), -EINVAL);
	assert_int_equal(weekday_parse(NULL), -EINVAL);
}

/* ---- names ---- */

static void test_name_valid(void **state)
{
	static const char *const good[] = {
		"a", "z", "lgwan", "update-dmz", "a1", "a-", "a--b",
		"abcdefghijklmnopqrstuvwxyz01234",	/* 31 */
		"x0123456789-abcdefghijklmnopqrs",
	};
	static const char *const bad[] = {
		"", "1a", "-a", "A", "aB", "a_b", "a.b", "a b", " a", "a ",
		"abcdefghijklmnopqrstuvwxyz012345",	/* 32 */
		"caf\xc3\xa9", "a/b", "fqdn:x",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!name_valid(good[i]))
			fail_msg("name_valid(\"%s\") refused", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (name_valid(bad[i]))
			fail_msg("name_valid(\"%s\") accepted", bad[i]);
	assert_false(name_valid(NULL));
}

/* ---- FQDN patterns ---- */

static void test_fqdn_good(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "windowsupdate.microsoft.com",
		  "windowsupdate.microsoft.com" },
		{ "*.windowsupdate.com", "*.windowsupdate.com" },
		{ "*.update.microsoft.com", "*.update.microsoft.com" },
		{ "update.example-av.co.jp", "update.example-av.co.jp" },
		{ "*.city.example.lg.jp", "*.city.example.lg.jp" },
		{ "*.example.lg.jp", "*.example.lg.jp" },
		{ "www.city.chiyoda.lg.jp", "www.city.chiyoda.lg.jp" },
		{ "*.city.kawasaki.jp", "*.city.kawasaki.jp" },
		{ "Example.COM", "example.com" },
		{ "*.Example.Com.", "*.example.com" },
		{ "example.com.", "example.com" },
		{ "xn--eckwd4c7c.xn--zckzah", "xn--eckwd4c7c.xn--zckzah" },
		{ "a.b.c.d.example.jp", "a.b.c.d.example.jp" },
		{ "0.example.jp", "0.example.jp" },
		{ "a-b.example.jp", "a-b.example.jp" },
		{ "*.github.io", "*.github.io" },	/* private section */
		{ "host.corp.internal", "host.corp.internal" },
	};
	char out[256];
	const char *why;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		why = "unset";
		if (fqdn_pattern_parse(t[i].in, out, sizeof(out), &why))
			fail_msg("fqdn_pattern_parse(\"%s\"): %s", t[i].in,
				 why);
		assert_string_equal(out, t[i].out);
		assert_null(why);
	}
	/* Without an output buffer it only validates. */
	assert_int_equal(fqdn_pattern_parse("example.jp", NULL, 0, NULL), 0);
	/* An exact fit, and one byte short. */
	assert_int_equal(fqdn_pattern_parse("Example.JP.", out, 11, &why), 0);
	assert_string_equal(out, "example.jp");
	assert_int_equal(fqdn_pattern_parse("example.jp", out, 10, &why),
			 -ENOSPC);
	assert_non_null(why);
}

static void test_fqdn_lengths(void **state)
{
	char in[600], out[300];
	const char *why;
	size_t len;

	(void)state;
	/* 63 is the longest label. */
	memset(in, 'a', 63);
	strcpy(in + 63, ".example.jp");
	assert_int_equal(fqdn_pattern_parse(in, out, sizeof(out), &why), 0);
	memset(in, 'a', 64);
	strcpy(in + 64, ".example.jp");
	assert_int_equal(fqdn_pattern_parse(in, out, sizeof(out), &why),
			 -EINVAL);
	assert_non_null(why);

	/* 253 characters in all, with and without the trailing dot. */
	len = 0;
	while (len + 64 < 253 - 11) {
		memset(in + len, 'b', 63);
		in[len + 63] = '.';
		len += 64;
	}
	memset(in + len, 'c', 253 - 11 - len);
	len = 253 - 11;
	strcpy(in + len, ".example.jp");
	assert_int_equal(strlen(in), 253);
	assert_int_equal(fqdn_pattern_parse(in, out, sizeof(out), &why), 0);
	assert_int_equal(strlen(out), 253);
	strcat(in, ".");
	assert_int_equal(fqdn_pattern_parse(in, out, sizeof(out), &why), 0);
	assert_int_equal(strlen(out), 253);
	in[0] = 'x';
	memmove(in + 1, in, strlen(in) + 1);
	in[strlen(in) - 1] = '\0';
	assert_int_equal(strlen(in), 254);
	assert_int_equal(fqdn_pattern_parse(in, out, sizeof(out), &why),
			 -EINVAL);
	/* A wildcard counts towards the 253. */
	memcpy(in, "*.", 2);
	memmove(in + 2, in + 3, strlen(in + 3) + 1);
	assert_int_equal(strlen(in), 253);
	assert_int_equal(fqdn_pattern_parse(in, out, sizeof(out), &why), 0);
	memset(in, 'a', 500);
	in[500] = '\0';
	assert_int_equal(fqdn_pattern_parse(in, out, sizeof(out), &why),
			 -EINVAL);
}

static void test_fqdn_bad(void **state)
{
	static const char *const t[] = {
		/* wildcards */
		"*", "*.", "**.example.jp", "*example.jp", "foo*.bar.jp",
		"a.*.jp", "a.*.example.jp", "*.*.example.jp", "example.*",
		"*a.example.jp", "a*.example.jp", ".*.example.jp",
		/* public suffixes */
		"*.com", "*.jp", "*.co.jp", "*.lg.jp", "*.tokyo.jp",
		"*.chiyoda.tokyo.jp", "*.foo.kawasaki.jp", "*.COM", "*.com.",
		"*.localdomain", "com", "co.jp", "jp", "lg.jp", "tokyo.jp",
		"CO.JP.", "foo.kawasaki.jp",
		/* shape */
		"", ".", "..", "example..jp", ".example.jp", "example.jp..",
		"-a.example.jp", "a-.example.jp", "a.example-.jp",
		"a_b.example.jp", "a b.example.jp", " example.jp",
		"example.jp ", "exa\tmple.jp", "a/b.example.jp",
		"a:b.example.jp", "localhost", "a@example.jp",
		/* non-ASCII */
		"\xe4\xbe\x8b\xe3\x81\x88.jp", "caf\xc3\xa9.example.jp",
		"\x80.example.jp",
	};
	char out[256];
	const char *why;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		strcpy(out, "unchanged");
		why = NULL;
		if (fqdn_pattern_parse(t[i], out, sizeof(out), &why) !=
		    -EINVAL)
			fail_msg("fqdn_pattern_parse(\"%s\") accepted", t[i]);
		assert_non_null(why);
		assert_string_equal(out, "unchanged");
	}
	assert_int_equal(fqdn_pattern_parse(NULL, out, sizeof(out), &why),
			 -EINVAL);
	assert_int_equal(fqdn_pattern_parse("*.com", NULL, 0, NULL), -EINVAL);
}

static void test_fqdn_why(void **state)
{
	const char *why;
	char out[256];

	(void)state;
	assert_int_equal(fqdn_pattern_parse("*.co.jp", out, sizeof(out),
					    &why), -EINVAL);
	assert_string_equal(why, "wildcard directly over a public suffix");
	assert_int_equal(fqdn_pattern_parse("co.jp", out, sizeof(out), &why),
			 -EINVAL);
	assert_string_equal(why, "name is a public suffix");
	assert_int_equal(fqdn_pattern_parse("*", out, sizeof(out), &why),
			 -EINVAL);
	assert_string_equal(why, "bare wildcard '*'");
	assert_int_equal(fqdn_pattern_parse("a.*.jp", out, sizeof(out), &why),
			 -EINVAL);
	assert_string_equal(why,
			    "wildcard '*' only as the whole leading label");
	assert_int_equal(fqdn_pattern_parse("foo*.bar.jp", out, sizeof(out),
					    &why), -EINVAL);
	assert_string_equal(why,
			    "wildcard '*' only as the whole leading label");
	assert_int_equal(fqdn_pattern_parse("caf\xc3\xa9.jp", out, sizeof(out),
					    &why), -EINVAL);
	assert_non_null(strstr(why, "xn--"));
	assert_int_equal(fqdn_pattern_parse("a..jp", out, sizeof(out), &why),
			 -EINVAL);
	assert_string_equal(why, "empty label");
	assert_int_equal(fqdn_pattern_parse("-a.jp", out, sizeof(out), &why),
			 -EINVAL);
	assert_string_equal(why, "label starts or ends with '-'");
}

static void test_fqdn_match(void **state)
{
	static const struct {
		const char *pattern, *name;
		bool match;
	} t[] = {
		{ "example.jp", "example.jp", true },
		{ "example.jp", "EXAMPLE.JP", true },
		{ "example.jp", "Example.Jp.", true },
		{ "example.jp", "example.jp..", false },
		{ "example.jp", "www.example.jp", false },
		{ "example.jp", "xexample.jp", false },
		{ "example.jp", "example.j", false },
		{ "example.jp", "example.jpx", false },
		{ "example.jp", "", false },
		{ "example.jp", ".", false },
		{ "*.example.jp", "www.example.jp", true },
		{ "*.example.jp", "WWW.Example.JP.", true },
		{ "*.example.jp", "a.b.c.example.jp", true },
		{ "*.example.jp", "x.example.jp", true },
		{ "*.example.jp", "example.jp", false },
		{ "*.example.jp", "example.jp.", false },
		{ "*.example.jp", "xexample.jp", false },
		{ "*.example.jp", ".example.jp", false },
		{ "*.example.jp", "a..example.jp", false },
		{ "*.example.jp", "www.example.jp.evil.com", false },
		{ "*.example.jp", "www.example.com", false },
		{ "*.example.jp", "jp", false },
		{ "*.example.jp", "", false },
		{ "*.windowsupdate.com", "download.windowsupdate.com", true },
		{ "*.windowsupdate.com", "windowsupdate.com", false },
		{ "*.windowsupdate.com", "notwindowsupdate.com", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (fqdn_match(t[i].pattern, t[i].name) != t[i].match)
			fail_msg("fqdn_match(\"%s\", \"%s\") != %d",
				 t[i].pattern, t[i].name, t[i].match);
	assert_false(fqdn_match(NULL, "example.jp"));
	assert_false(fqdn_match("example.jp", NULL));
}

static void test_hostport(void **state)
{
	struct prefix a;
	char buf[PREFIX_STRLEN];
	uint16_t port;
	static const char *const bad[] = {
		"", "x:1", "1.2.3.4:0", "1.2.3.4:", "1.2.3.4:65536",
		"1.2.3.4:053", "1.2.3.4:+53", "[2001:db8::1", "[2001:db8::1]x",
		"[2001:db8::1]:", "10.0.0.0/8", "host.example:53",
	};

	(void)state;
	assert_int_equal(hostport_parse("192.0.2.53", 53, &a, &port), 0);
	prefix_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.53");
	assert_int_equal(port, 53);
	assert_int_equal(hostport_parse("192.0.2.53:5353", 53, &a, &port), 0);
	assert_int_equal(port, 5353);
	assert_int_equal(hostport_parse("2001:db8::53", 99, &a, &port), 0);
	prefix_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::53");
	assert_int_equal(port, 99);
	assert_int_equal(hostport_parse("[2001:db8::53]:65535", 53, &a,
					&port), 0);
	assert_int_equal(port, 65535);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hostport_parse(bad[i], 53, &a, &port),
				 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_good),
		cmocka_unit_test(test_prefix_bad),
		cmocka_unit_test(test_prefix_host_bits),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_prefix_relations),
		cmocka_unit_test(test_prefix_format_small),
		cmocka_unit_test(test_prefix_all_lengths),
		cmocka_unit_test(test_service_good),
		cmocka_unit_test(test_service_bad),
		cmocka_unit_test(test_service_icmp_round_trip),
		cmocka_unit_test(test_port_round_trip),
		cmocka_unit_test(test_icmp_names),
		cmocka_unit_test(test_service_cmp_format),
		cmocka_unit_test(test_hhmm),
		cmocka_unit_test(test_hours),
		cmocka_unit_test(test_days_known),
		cmocka_unit_test(test_days_walk),
		cmocka_unit_test(test_days_range),
		cmocka_unit_test(test_date_parse),
		cmocka_unit_test(test_datetime_parse),
		cmocka_unit_test(test_weekday_parse),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_fqdn_good),
		cmocka_unit_test(test_fqdn_lengths),
		cmocka_unit_test(test_fqdn_bad),
		cmocka_unit_test(test_fqdn_why),
		cmocka_unit_test(test_fqdn_match),
		cmocka_unit_test(test_hostport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
