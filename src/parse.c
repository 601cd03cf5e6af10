// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The small languages of a zone file. Every parser is strict: one
 * spelling per value (no signs, no spaces, no leading zeros), so that
 * what sanso prints can be read back and compared as text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libpsl.h>

#include "parse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * A decimal number of exactly the bytes [s, s + len): no sign, no
 * leading zero (except "0" itself), at most `max`.
 */
static int parse_uint(const char *s, size_t len, unsigned long max,
		      unsigned long *out)
{
	unsigned long v = 0;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Exactly two digits, as in "08"; leading zeros are the format here. */
static int two_digits(const char *s)
{
	if (!is_digit(s[0]) || !is_digit(s[1]))
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* ---- prefixes ---- */

int prefix_maxlen(const struct prefix *p)
{
	return p->family == AF_INET6 ? 128 : 32;
}

static size_t prefix_bytes(const struct prefix *p)
{
	return p->family == AF_INET6 ? 16 : 4;
}

static bool host_bits_clear(const struct prefix *p)
{
	size_t nb = prefix_bytes(p);
	size_t i = p->len / 8;

	if (p->len % 8 && (p->addr[i++] & (0xff >> (p->len % 8))))
		return false;
	for (; i < nb; i++)
		if (p->addr[i])
			return false;
	return true;
}

int addr_parse(const char *s, struct prefix *out)
{
	struct prefix p;

	memset(&p, 0, sizeof(p));
	if (!s)
		return -EINVAL;
	/* inet_pton itself refuses spaces, zone ids and octal-looking
	 * IPv4 octets, which keeps one spelling per address. */
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, p.addr) != 1)
			return -EINVAL;
		p.family = AF_INET6;
		p.len = 128;
	} else {
		if (inet_pton(AF_INET, s, p.addr) != 1)
			return -EINVAL;
		p.family = AF_INET;
		p.len = 32;
	}
	*out = p;
	return 0;
}

int prefix_parse(const char *s, struct prefix *out)
{
	char buf[INET6_ADDRSTRLEN];
	struct prefix p;
	const char *slash;
	unsigned long len;
	size_t alen;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash)
		return addr_parse(s, out);
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (addr_parse(buf, &p))
		return -EINVAL;
	if (parse_uint(slash + 1, strlen(slash + 1),
		       (unsigned long)prefix_maxlen(&p), &len))
		return -EINVAL;
	p.len = (uint8_t)len;
	if (!host_bits_clear(&p)) {
		/* The network it most likely meant, for the message. */
		size_t i = p.len / 8;

		if (p.len % 8)
			p.addr[i++] &= (uint8_t)(0xff00 >> (p.len % 8));
		memset(p.addr + i, 0, prefix_bytes(&p) - i);
		*out = p;
		return -EDOM;
	}
	*out = p;
	return 0;
}

void prefix_format(const struct prefix *p, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	int af = p->family == AF_INET6 ? AF_INET6 : AF_INET;

	if (!n)
		return;
	if (!inet_ntop(af, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (p->len == prefix_maxlen(p))
		snprintf(buf, n, "%s", a);
	else
		snprintf(buf, n, "%s/%u", a, p->len);
}

/* Whether the first `len` bits of a and b agree. */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	unsigned int whole = len / 8, rest = len % 8;

	if (memcmp(a, b, whole))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((a[whole] ^ b[whole]) & mask)
			return false;
	}
	return true;
}

bool prefix_contains(const struct prefix *outer, const struct prefix *inner)
{
	return outer->family == inner->family && outer->len <= inner->len &&
	       bits_equal(outer->addr, inner->addr, outer->len);
}

bool prefix_overlap(const struct prefix *a, const struct prefix *b)
{
	return prefix_contains(a, b) || prefix_contains(b, a);
}

bool prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(a->addr, b->addr, prefix_bytes(a));
}

int prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, prefix_bytes(a));
	if (r)
		return r < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

/* ---- services ---- */

struct icmp_name {
	uint8_t type;
	const char *name;
};

/* As `nft describe icmp type` lists them. */
static const struct icmp_name icmp4_names[] = {
	{ 0, "echo-reply" },
	{ 3, "destination-unreachable" },
	{ 4, "source-quench" },
	{ 5, "redirect" },
	{ 8, "echo-request" },
	{ 9, "router-advertisement" },
	{ 10, "router-solicitation" },
	{ 11, "time-exceeded" },
	{ 12, "parameter-problem" },
	{ 13, "timestamp-request" },
	{ 14, "timestamp-reply" },
	{ 15, "info-request" },
	{ 16, "info-reply" },
	{ 17, "address-mask-request" },
	{ 18, "address-mask-reply" },
};

/* As `nft describe icmpv6 type` lists them; the first name of a type is
 * the one printed, as nft does for 132. */
static const struct icmp_name icmp6_names[] = {
	{ 1, "destination-unreachable" },
	{ 2, "packet-too-big" },
	{ 3, "time-exceeded" },
	{ 4, "parameter-problem" },
	{ 128, "echo-request" },
	{ 129, "echo-reply" },
	{ 130, "mld-listener-query" },
	{ 131, "mld-listener-report" },
	{ 132, "mld-listener-done" },
	{ 132, "mld-listener-reduction" },
	{ 133, "nd-router-solicit" },
	{ 134, "nd-router-advert" },
	{ 135, "nd-neighbor-solicit" },
	{ 136, "nd-neighbor-advert" },
	{ 137, "nd-redirect" },
	{ 138, "router-renumbering" },
	{ 141, "ind-neighbor-solicit" },
	{ 142, "ind-neighbor-advert" },
	{ 143, "mld2-listener-report" },
};

static const struct icmp_name *icmp_table(uint8_t proto, size_t *n)
{
	if (proto == IPPROTO_ICMP) {
		*n = ARRAY_SIZE(icmp4_names);
		return icmp4_names;
	}
	if (proto == IPPROTO_ICMPV6) {
		*n = ARRAY_SIZE(icmp6_names);
		return icmp6_names;
	}
	*n = 0;
	return NULL;
}

const char *icmp_type_name(uint8_t proto, uint8_t type)
{
	size_t n;
	const struct icmp_name *t = icmp_table(proto, &n);

	for (size_t i = 0; i < n; i++)
		if (t[i].type == type)
			return t[i].name;
	return NULL;
}

static const struct {
	uint8_t proto;
	const char *name;
} protos[] = {
	{ IPPROTO_TCP, "tcp" },
	{ IPPROTO_UDP, "udp" },
	{ IPPROTO_SCTP, "sctp" },
	{ IPPROTO_ICMP, "icmp" },
	{ IPPROTO_ICMPV6, "icmpv6" },
};

const char *proto_name(uint8_t proto)
{
	if (proto == 0)
		return "any";
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	return NULL;
}

static bool is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

static int parse_icmp_type(uint8_t proto, const char *s, uint16_t *type)
{
	unsigned long v;
	size_t n;
	const struct icmp_name *t = icmp_table(proto, &n);

	if (is_digit(s[0])) {
		if (parse_uint(s, strlen(s), 255, &v))
			return -EINVAL;
		*type = (uint16_t)v;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(t[i].name, s)) {
			*type = t[i].type;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(s, '-');
	unsigned long a, b;

	if (!dash) {
		if (parse_uint(s, strlen(s), 65535, &a) || a == 0)
			return -EINVAL;
		*lo = *hi = (uint16_t)a;
		return 0;
	}
	if (parse_uint(s, (size_t)(dash - s), 65535, &a) || a == 0 ||
	    parse_uint(dash + 1, strlen(dash + 1), 65535, &b) || b < a)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int service_parse(const char *s, struct service *out)
{
	struct service sv = { 0 };
	const char *slash;
	size_t plen;
	size_t i;

	if (!s)
		return -EINVAL;
	if (!strcmp(s, "any")) {
		sv.hi = 65535;
		goto ok;
	}
	slash = strchr(s, '/');
	plen = slash ? (size_t)(slash - s) : strlen(s);
	for (i = 0; i < ARRAY_SIZE(protos); i++)
		if (strlen(protos[i].name) == plen &&
		    !memcmp(protos[i].name, s, plen))
			break;
	if (i == ARRAY_SIZE(protos))
		return -EINVAL;
	sv.proto = protos[i].proto;
	if (!slash) {
		sv.hi = is_icmp(sv.proto) ? 255 : 65535;
		goto ok;
	}
	if (is_icmp(sv.proto)) {
		if (parse_icmp_type(sv.proto, slash + 1, &sv.lo))
			return -EINVAL;
		sv.hi = sv.lo;
	} else if (parse_ports(slash + 1, &sv.lo, &sv.hi)) {
		return -EINVAL;
	}
ok:
	*out = sv;
	return 0;
}

void service_format(const struct service *sv, char *buf, size_t n)
{
	const char *p = proto_name(sv->proto);
	const char *tn;

	if (!n)
		return;
	if (sv->proto == 0) {
		snprintf(buf, n, "any");
	} else if (!p) {
		snprintf(buf, n, "proto-%u", sv->proto);
	} else if (is_icmp(sv->proto)) {
		tn = sv->lo == sv->hi && sv->lo <= 255 ?
			icmp_type_name(sv->proto, (uint8_t)sv->lo) : NULL;
		if (sv->lo == 0 && sv->hi == 255)
			snprintf(buf, n, "%s", p);
		else if (tn)
			snprintf(buf, n, "%s/%s", p, tn);
		else if (sv->lo == sv->hi)
			snprintf(buf, n, "%s/%u", p, sv->lo);
		else
			snprintf(buf, n, "%s/%u-%u", p, sv->lo, sv->hi);
	} else if (sv->lo == 0 && sv->hi == 65535) {
		snprintf(buf, n, "%s", p);
	} else if (sv->lo == sv->hi) {
		snprintf(buf, n, "%s/%u", p, sv->lo);
	} else {
		snprintf(buf, n, "%s/%u-%u", p, sv->lo, sv->hi);
	}
}

int service_cmp(const struct service *a, const struct service *b)
{
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return 0;
}

/* ---- times and dates ---- */

int hhmm_parse(const char *s, int *minutes)
{
	int h, m;

	if (!s || strlen(s) != 5 || s[2] != ':')
		return -EINVAL;
	h = two_digits(s);
	m = two_digits(s + 3);
	if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0))
		return -EINVAL;
	*minutes = h * 60 + m;
	return 0;
}

int hours_parse(const char *s, int *start, int *end)
{
	char a[6];
	int st, en;

	if (!s || strlen(s) != 11 || s[5] != '-')
		return -EINVAL;
	memcpy(a, s, 5);
	a[5] = '\0';
	if (hhmm_parse(a, &st) || hhmm_parse(s + 6, &en))
		return -EINVAL;
	if (st == 24 * 60 || st == en)
		return -EINVAL;
	*start = st;
	*end = en;
	return 0;
}

/*
 * Howard Hinnant's days_from_civil and civil_from_days
 * (http://howardhinnant.github.io/date_algorithms.html): eras of 400
 * years starting on March 1st, so the leap day is the last day of a
 * year. 64-bit inside so that no int32_t day count overflows.
 */
int32_t days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (int32_t)(era * 146097 + doe - 719468);
}

void civil_from_days(int32_t days, int *y, int *m, int *d)
{
	int64_t z = (int64_t)days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int mm = (int)(mp < 10 ? mp + 3 : mp - 9);

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = mm;
	*y = (int)(yoe + era * 400 + (mm <= 2));
}

int weekday_from_days(int32_t days)
{
	/* 1970-01-01 was a Thursday (3). */
	return (int)((((int64_t)days % 7) + 7 + 3) % 7);
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* The first ten bytes of s as "YYYY-MM-DD". */
static int ymd_parse(const char *s, int32_t *days)
{
	int hi, lo, y, m, d;

	if (s[4] != '-' || s[7] != '-')
		return -EINVAL;
	hi = two_digits(s);
	lo = two_digits(s + 2);
	m = two_digits(s + 5);
	d = two_digits(s + 8);
	if (hi < 0 || lo < 0 || m < 0 || d < 0)
		return -EINVAL;
	y = hi * 100 + lo;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -EINVAL;
	*days = days_from_civil(y, m, d);
	return 0;
}

int date_parse(const char *s, int32_t *days)
{
	if (!s || strlen(s) != 10)
		return -EINVAL;
	return ymd_parse(s, days);
}

int datetime_parse(const char *s, int32_t *days, int *secs)
{
	size_t len;
	int32_t dd;
	int h, m, sec = 0;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if ((len != 16 && len != 19) || s[10] != 'T' || s[13] != ':')
		return -EINVAL;
	if (ymd_parse(s, &dd))
		return -EINVAL;
	h = two_digits(s + 11);
	m = two_digits(s + 14);
	if (len == 19) {
		if (s[16] != ':')
			return -EINVAL;
		sec = two_digits(s + 17);
	}
	if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
		return -EINVAL;
	*days = dd;
	*secs = h * 3600 + m * 60 + sec;
	return 0;
}

int weekday_parse(const char *s)
{
	static const char *const names[] = {
		"mon", "tue", "wed", "thu", "fri", "sat", "sun"
	};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -EINVAL;
}

/* ---- names ---- */

bool name_valid(const char *s)
{
	size_t i;

	if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (i = 1; s[i]; i++) {
		if (i >= 31)
			return false;
		if (!((s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i]) ||
		      s[i] == '-'))
			return false;
	}
	return true;
}

/* ---- FQDN patterns ---- */

#define FQDN_MAX 253

static const psl_ctx_t *psl_cache;

/*
 * The distribution's list (publicsuffix package) is usually newer than
 * the one compiled into libpsl; psl_latest picks the newer. The context
 * lives as long as the process. No pthread_once: the loser of a race
 * frees its copy.
 */
static const psl_ctx_t *psl_get(void)
{
	const psl_ctx_t *cur = __atomic_load_n(&psl_cache, __ATOMIC_ACQUIRE);
	const psl_ctx_t *expected = NULL;
	psl_ctx_t *latest;

	if (cur)
		return cur;
	latest = psl_latest(NULL);
	cur = latest ? latest : psl_builtin();
	if (!cur)
		return NULL;
	if (!__atomic_compare_exchange_n(&psl_cache, &expected, cur, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		psl_free(latest);
		cur = expected;
	}
	return cur;
}

/* Checks the labels of a lower-case name without wildcard; counts them. */
static const char *labels_check(const char *s, int *nlabels)
{
	size_t len = 0;

	*nlabels = 0;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (len == 0)
				return "empty label";
			if (len > 63)
				return "label longer than 63 characters";
			if (p[-1] == '-' || p[-(ptrdiff_t)len] == '-')
				return "label starts or ends with '-'";
			(*nlabels)++;
			if (*p == '\0')
				return NULL;
			len = 0;
			continue;
		}
		if (*p == '*')
			return "wildcard '*' only as the whole leading label";
		if (!((*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '-'))
			return "invalid character (use a-z, 0-9, '-', '.')";
		len++;
	}
}

/*
 * A wildcard directly over a suffix of the list's private section
 * ("*.cloudfront.net", "*.s3.amazonaws.com") admits every customer of that
 * provider: anyone who may use the set can open it to an address of their
 * choice by registering a name there.
 */
bool fqdn_pattern_shared(const char *pattern)
{
	const psl_ctx_t *ctx;

	if (!pattern || pattern[0] != '*' || pattern[1] != '.')
		return false;
	ctx = psl_get();
	return ctx && psl_is_public_suffix2(ctx, pattern + 2,
					    PSL_TYPE_PRIVATE |
					    PSL_TYPE_NO_STAR_RULE);
}

int fqdn_pattern_parse(const char *s, char *out, size_t n, const char **why)
{
	char buf[FQDN_MAX + 2];
	const char *reason = NULL;
	const psl_ctx_t *ctx;
	const char *base;
	bool wild;
	size_t len;
	int nlabels;
	int ret = -EINVAL;

	if (!s) {
		reason = "empty name";
		goto out;
	}
	len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80) {
			reason =
				"non-ASCII; use the IDN's ASCII (xn--) form";
			goto out;
		}
	}
	if (len && s[len - 1] == '.')
		len--;
	if (len == 0) {
		reason = "empty name";
		goto out;
	}
	if (len > FQDN_MAX) {
		reason = "name longer than 253 characters";
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = ascii_lower(s[i]);
	buf[len] = '\0';

	wild = buf[0] == '*';
	if (wild && len == 1) {
		reason = "bare wildcard '*'";
		goto out;
	}
	if (wild && buf[1] != '.') {
		reason = "wildcard '*' only as the whole leading label";
		goto out;
	}
	base = wild ? buf + 2 : buf;
	reason = labels_check(base, &nlabels);
	if (reason)
		goto out;
	ctx = psl_get();
	if (!ctx) {
		reason = "public suffix list unavailable";
		goto out;
	}
	if (psl_is_public_suffix2(ctx, base, PSL_TYPE_ICANN)) {
		reason = wild ? "wildcard directly over a public suffix" :
				"name is a public suffix";
		goto out;
	}
	if (nlabels < 2) {
		reason = "name needs at least two labels";
		goto out;
	}
	if (out) {
		if (n <= len) {
			reason = "output buffer too small";
			ret = -ENOSPC;
			goto out;
		}
		memcpy(out, buf, len + 1);
	}
	ret = 0;
out:
	if (why)
		*why = reason;
	return ret;
}

bool fqdn_match(const char *pattern, const char *name)
{
	size_t nlen, plen, off;

	if (!pattern || !name)
		return false;
	nlen = strlen(name);
	if (nlen && name[nlen - 1] == '.')
		nlen--;
	if (nlen == 0 || name[0] == '.' || name[nlen - 1] == '.')
		return false;
	if (pattern[0] == '*' && pattern[1] == '.') {
		pattern += 2;
		plen = strlen(pattern);
		/* At least one character and a dot in front of the base. */
		if (nlen < plen + 2 || name[nlen - plen - 1] != '.' ||
		    name[nlen - plen - 2] == '.')
			return false;
		off = nlen - plen;
	} else {
		plen = strlen(pattern);
		if (nlen != plen)
			return false;
		off = 0;
	}
	for (size_t i = 0; i < plen; i++)
		if (ascii_lower(name[off + i]) != pattern[i])
			return false;
	return true;
}

int hostport_parse(const char *s, uint16_t def_port, struct prefix *addr,
		   uint16_t *port)
{
	char buf[80];
	const char *host = s, *ps = NULL;
	char *end;
	long v = def_port;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || (rb[1] && rb[1] != ':'))
			return -EINVAL;
		memcpy(buf, s + 1, (size_t)(rb - s - 1));
		buf[rb - s - 1] = '\0';
		host = buf;
		ps = rb[1] ? rb + 2 : NULL;
	} else if (strchr(s, '.') && strchr(s, ':')) {
		const char *c = strchr(s, ':');

		memcpy(buf, s, (size_t)(c - s));
		buf[c - s] = '\0';
		host = buf;
		ps = c + 1;
	}
	if (ps) {
		/* One spelling only, as for every number of a zone file. */
		if (*ps < '1' || *ps > '9')
			return -EINVAL;
		v = strtol(ps, &end, 10);
		if (*end || v < 1 || v > 65535)
			return -EINVAL;
	}
	*port = (uint16_t)v;
	return addr_parse(host, addr);
}
