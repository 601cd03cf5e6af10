// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ruleset as an `nft -f` script (sanso compile). Every value is
 * printed so that nft loads the same bytes whatever its TZ: times as
 * numbers of seconds, never as "HH:MM" or dates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "ruleset.h"

static void print_addr(FILE *out, int fam, const uint8_t *lo,
		       const uint8_t *hi)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t n = fam == 4 ? 4 : 16;
	unsigned int len;

	inet_ntop(fam == 4 ? AF_INET : AF_INET6, lo, a, sizeof(a));
	if (rs_range_prefix(lo, hi, n, &len)) {
		if (len == n * 8)
			fprintf(out, "%s", a);
		else
			fprintf(out, "%s/%u", a, len);
		return;
	}
	inet_ntop(fam == 4 ? AF_INET : AF_INET6, hi, b, sizeof(b));
	fprintf(out, "%s-%s", a, b);
}

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void print_value(FILE *out, enum rs_field f, const uint8_t *lo,
			const uint8_t *hi)
{
	size_t n = rs_fields[f].len;
	bool single = !memcmp(lo, hi, n);

	switch (f) {
	case RF_SADDR4:
	case RF_DADDR4:
		print_addr(out, 4, lo, hi);
		return;
	case RF_SADDR6:
	case RF_DADDR6:
		print_addr(out, 6, lo, hi);
		return;
	case RF_IIFNAME:
	case RF_OIFNAME:
		fprintf(out, "\"%.16s\"", (const char *)lo);
		return;
	case RF_L4PROTO:
		if (single && proto_name(lo[0]) && lo[0] != IPPROTO_ICMPV6 &&
		    lo[0])
			fprintf(out, "%s", proto_name(lo[0]));
		else if (single)
			fprintf(out, "%u", lo[0]);
		else
			fprintf(out, "%u-%u", lo[0], hi[0]);
		return;
	case RF_ICMP_TYPE:
	case RF_ICMPV6_TYPE: {
		uint8_t proto = f == RF_ICMP_TYPE ? IPPROTO_ICMP :
			       IPPROTO_ICMPV6;

		if (single && icmp_type_name(proto, lo[0]))
			fprintf(out, "%s", icmp_type_name(proto, lo[0]));
		else if (single)
			fprintf(out, "%u", lo[0]);
		else
			fprintf(out, "%u-%u", lo[0], hi[0]);
		return;
	}
	case RF_TIME:
		/* Seconds: nft reads a number as it is, with no TZ. */
		if (single)
			fprintf(out, "%llu", (unsigned long long)(be(lo, 8) /
				1000000000ull));
		else
			fprintf(out, "%llu-%llu",
				(unsigned long long)(be(lo, 8) / 1000000000ull),
				(unsigned long long)(be(hi, 8) /
						     1000000000ull));
		return;
	default:
		if (single)
			fprintf(out, "%llu", (unsigned long long)be(lo, n));
		else
			fprintf(out, "%llu-%llu", (unsigned long long)be(lo, n),
				(unsigned long long)be(hi, n));
		return;
	}
}

static void print_fields(FILE *out, const enum rs_field *f, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? " . " : "", rs_fields[f[i]].text);
}

static void print_set(FILE *out, const struct ruleset *rs,
		      const struct rs_set *s)
{
	const struct model *m = rs->m;

	fprintf(out, "\t%s %s {\n", s->kind == RS_VMAP ? "map" : "set",
		s->name);
	if (s->kind == RS_INTERVAL) {
		fprintf(out, "\t\ttypeof ");
		print_fields(out, s->key, s->n_key);
		fprintf(out, "\n");
	} else {
		fprintf(out, "\t\ttype ");
		for (int i = 0; i < s->n_key; i++)
			fprintf(out, "%s%s", i ? " . " : "",
				rs_fields[s->key[i]].type);
		fprintf(out, "%s\n", s->kind == RS_VMAP ? " : verdict" : "");
	}
	if (s->kind == RS_CONCAT || s->kind == RS_INTERVAL)
		fprintf(out, "\t\tflags interval\n");
	else if (s->kind == RS_TIMEOUT)
		fprintf(out, "\t\tflags timeout\n");
	else if (s->kind == RS_DYNAMIC)
		fprintf(out, "\t\tsize %u\n\t\tflags dynamic,timeout\n"
			"\t\ttimeout %us\n", s->size, s->timeout);
	if (s->n)
		fprintf(out, "\t\telements = {");
	for (size_t e = 0; e < s->n; e++) {
		const uint8_t *lo = s->keys + e * 2 * s->keylen;
		const uint8_t *hi = lo + s->keylen;
		size_t off = 0;

		fprintf(out, "%s\n\t\t\t", e ? "," : "");
		for (int i = 0; i < s->n_key; i++) {
			fprintf(out, "%s", i ? " . " : "");
			print_value(out, s->key[i], lo + off, hi + off);
			off += rs_fields[s->key[i]].len;
		}
		if (s->kind == RS_VMAP)
			fprintf(out, " : jump %s", s->target[e]);
		if (s->flow && s->flow[e] >= 0)
			fprintf(out, " comment \"flow:%s\"",
				m->flows[s->flow[e]].name);
	}
	if (s->n)
		fprintf(out, "\n\t\t}\n");
	fprintf(out, "\t}\n\n");
}

static void print_expr(FILE *out, const struct rs_expr *x)
{
	switch (x->kind) {
	case RX_CMP:
		print_fields(out, x->field, 1);
		fprintf(out, x->inv ? " != " : " ");
		print_value(out, x->field[0], x->val, x->val);
		break;
	case RX_RANGE:
		print_fields(out, x->field, 1);
		fprintf(out, x->inv ? " != " : " ");
		print_value(out, x->field[0], x->val, x->hi);
		break;
	case RX_LOOKUP:
		print_fields(out, x->field, x->n_field);
		fprintf(out, "%s@%s", x->inv ? " != " : " ", x->set->name);
		break;
	case RX_VMAP:
		print_fields(out, x->field, x->n_field);
		fprintf(out, " vmap @%s", x->set->name);
		break;
	case RX_CT_STATE: {
		static const char *const names[] = { "invalid", "established",
						     "related", "new" };
		const char *sep = "";

		fprintf(out, "ct state ");
		for (int i = 0; i < 4; i++)
			if (x->bits & (1u << i)) {
				fprintf(out, "%s%s", sep, names[i]);
				sep = ",";
			}
		break;
	}
	case RX_UPDATE:
		fprintf(out, "update @%s { ", x->set->name);
		print_fields(out, x->field, 1);
		fprintf(out, " limit rate %u/second burst %u packets }",
			x->rate, x->burst);
		break;
	case RX_LIMIT:
		fprintf(out, "limit rate %u/second burst %u packets", x->rate,
			x->burst);
		break;
	case RX_LOG:
		fprintf(out, "log prefix \"%s\" group %u", x->prefix,
			x->group);
		break;
	case RX_COUNTER:
		fprintf(out, "counter");
		break;
	}
}

static void print_rule(FILE *out, const struct rs_rule *r)
{
	static const char *const verdicts[] = {
		[RV_ACCEPT] = "accept", [RV_DROP] = "drop",
		[RV_RETURN] = "return", [RV_JUMP] = "jump",
		[RV_GOTO] = "goto",
	};
	const char *sep = "";

	fprintf(out, "\t\t");
	for (size_t i = 0; i < r->n_x; i++) {
		fprintf(out, "%s", sep);
		print_expr(out, &r->x[i]);
		sep = " ";
	}
	if (r->verdict != RV_NONE) {
		fprintf(out, "%s%s", sep, verdicts[r->verdict]);
		if (r->target)
			fprintf(out, " %s", r->target);
	}
	if (r->comment)
		fprintf(out, " comment \"%s\"", r->comment);
	fprintf(out, "\n");
}

static void print_chain(FILE *out, const struct rs_chain *c, bool last)
{
	fprintf(out, "\tchain %s {\n", c->name);
	if (c->base && c->priority)
		fprintf(out, "\t\ttype filter hook %s priority filter %c %d; "
			"policy %s;\n", c->hook, c->priority < 0 ? '-' : '+',
			abs(c->priority), c->policy_drop ? "drop" : "accept");
	else if (c->base)
		fprintf(out, "\t\ttype filter hook %s priority filter; "
			"policy %s;\n", c->hook,
			c->policy_drop ? "drop" : "accept");
	for (size_t i = 0; i < c->n_rules; i++)
		print_rule(out, &c->rules[i]);
	fprintf(out, "\t}\n%s", last ? "" : "\n");
}

int ruleset_print(const struct ruleset *rs, FILE *out)
{
	fputs(rs->header, out);
	/* An existing table is replaced in the same transaction: creating
	 * it first makes the delete safe when it is absent. */
	fprintf(out, "\ntable %s %s\ndelete table %s %s\n\ntable %s %s {\n",
		rs->family, rs->table, rs->family, rs->table, rs->family,
		rs->table);
	for (size_t i = 0; i < rs->n_sets; i++)
		print_set(out, rs, rs->sets[i]);
	for (size_t i = 0; i < rs->n_chains; i++)
		print_chain(out, rs->chains[i], i + 1 == rs->n_chains);
	fprintf(out, "}\n");
	return ferror(out) ? -EIO : 0;
}
