/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The small languages inside a zone file: prefixes, services, times,
 * dates, names and FQDN patterns. Pure functions, no allocation unless
 * stated; every parser returns 0 or -EINVAL and never prints.
 */
#ifndef SANSO_PARSE_H
#define SANSO_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 prefix. IPv4 uses addr[0..3]; bytes past the prefix
 * length are always zero. */
struct prefix {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t len;		/* 0..32 or 0..128 */
	uint8_t addr[16];
};

#define PREFIX_STRLEN 64

/* "10.0.0.0/8", "10.0.0.1" (a /32), "fd00::/48", "::1" (a /128).
 * -EINVAL leaves out alone. Host bits set past the length ("10.1.2.3/16")
 * are -EDOM, with out set to the prefix cleared of them (10.1.0.0/16) for
 * a "did you mean". */
int prefix_parse(const char *s, struct prefix *out);
/* Only a plain address, no "/len". */
int addr_parse(const char *s, struct prefix *out);
/* Canonical text: "10.0.0.0/8", a full-length prefix without "/len". */
void prefix_format(const struct prefix *p, char *buf, size_t n);
bool prefix_contains(const struct prefix *outer, const struct prefix *inner);
bool prefix_overlap(const struct prefix *a, const struct prefix *b);
bool prefix_equal(const struct prefix *a, const struct prefix *b);
/* Orders by family, then address, then length: for sorting and output. */
int prefix_cmp(const struct prefix *a, const struct prefix *b);
/* Number of the prefix's maximal length: 32 or 128. */
int prefix_maxlen(const struct prefix *p);

/* A service: one protocol with a port range, or ICMP types.
 * proto 0 means "any" (every protocol; lo..hi is then 0..65535).
 * For tcp/udp/sctp, lo..hi is the destination port range (0..65535 when
 * no port was given: "tcp"). For icmp/icmpv6, lo..hi is the type range
 * (0..255 for all types). */
struct service {
	uint8_t proto;		/* 0 (any), IPPROTO_TCP, UDP, SCTP, ICMP, ICMPV6 */
	uint16_t lo, hi;
};

#define SERVICE_STRLEN 48

/* "tcp/443", "udp/8530-8531", "tcp" (all ports), "icmp/echo-request",
 * "icmp/8", "icmpv6/echo-request", "icmp" (all types), "any". */
int service_parse(const char *s, struct service *out);
void service_format(const struct service *sv, char *buf, size_t n);
int service_cmp(const struct service *a, const struct service *b);
/* Protocol name for a number: "tcp", "udp", "sctp", "icmp", "icmpv6",
 * "any" for 0; NULL for any other number. */
const char *proto_name(uint8_t proto);
/* ICMP / ICMPv6 type names as nft spells them; NULL if unnamed. */
const char *icmp_type_name(uint8_t proto, uint8_t type);

/* "08:30" -> 510 minutes. "24:00" is accepted (1440) for range ends. */
int hhmm_parse(const char *s, int *minutes);
/* "08:30-18:15" -> 510, 1095. end < start wraps midnight;
 * end == start is -EINVAL (empty or whole day is ambiguous). */
int hours_parse(const char *s, int *start, int *end);

/* Days since 1970-01-01 for a proleptic Gregorian civil date. */
int32_t days_from_civil(int y, int m, int d);
void civil_from_days(int32_t days, int *y, int *m, int *d);
/* 0 = Monday .. 6 = Sunday. */
int weekday_from_days(int32_t days);
/* "2026-12-31" -> days since epoch; validates month and day. */
int date_parse(const char *s, int32_t *days);
/* "2026-12-05T22:00" or "2026-12-05T22:00:00" -> days and
 * seconds of the day (local wall time; no offset allowed). */
int datetime_parse(const char *s, int32_t *days, int *secs);
/* "mon".."sun" -> 0..6. */
int weekday_parse(const char *s);

/* An address and port: "192.0.2.53", "192.0.2.53:5353", "2001:db8::53",
 * "[2001:db8::53]:5353"; def_port when none is given. */
int hostport_parse(const char *s, uint16_t def_port, struct prefix *addr,
		   uint16_t *port);

/* [a-z][a-z0-9-]{0,30} */
bool name_valid(const char *s);

/* Validates an FQDN pattern and writes its canonical form (lower case,
 * no trailing dot; at most 253 characters) into out, unless out is NULL.
 * On -EINVAL, *why (a static string) says what is wrong; -ENOSPC if n is
 * too small. why may be NULL. */
int fqdn_pattern_parse(const char *s, char *out, size_t n, const char **why);
/* True for a wildcard directly over a shared-hosting (private) suffix. */
bool fqdn_pattern_shared(const char *pattern);
/* True if `name` (any case, optional trailing dot) matches `pattern`
 * (canonical): an exact name, or "*.d" for any depth below d. */
bool fqdn_match(const char *pattern, const char *name);

#endif
