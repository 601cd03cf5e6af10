// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The length of the valid UTF-8 prefix of s. */
static size_t utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_len(p + i, n - i);
		if (!k)
			break;
		i += k;
	}
	return i;
}

size_t jx_utf8(const char *s, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, k;

	while (i < n) {
		k = utf8_len(p + i, n - i);
		if (k) {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return o;
}

json_t *jx_strn(const char *s, size_t n)
{
	json_t *v;
	char *t;

	if (!s)
		return json_null();
	/* Checked here, so jansson need not check again. */
	if (utf8_valid(s, n) == n)
		return json_stringn_nocheck(s, n);
	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	t = malloc(3 * n + 1);
	if (!t)
		return NULL;
	v = json_stringn_nocheck(t, jx_utf8(s, n, t));
	free(t);
	return v;
}

json_t *jx_str(const char *s)
{
	return s ? jx_strn(s, strlen(s)) : json_null();
}

json_t *jx_str0(const char *s)
{
	return s && *s ? jx_strn(s, strlen(s)) : json_null();
}

json_t *jx_uint(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

int jx_set(json_t *obj, const char *key, json_t *v, int *err)
{
	size_t n = strlen(key);
	char *t = NULL;
	int r;

	/* A key from outside (an alert type the report does not know)
	 * follows the rule too. */
	if (v && utf8_valid(key, n) != n) {
		t = n < (SIZE_MAX - 1) / 3 ? malloc(3 * n + 1) : NULL;
		if (t)
			jx_utf8(key, n, t);
		key = t;
	}
	/* json_object_set_new() releases v when it fails. */
	r = !v || !key || json_object_set_new_nocheck(obj, key, v) ?
	    -ENOMEM : 0;
	if (r && v && !key)
		json_decref(v);
	free(t);
	if (r && err)
		*err = r;
	return r;
}

/*
 * jansson writes U+007F (DEL) as it is; sanso writes it \u007f, as its
 * writers did before jansson: syslog daemons escape control characters
 * they receive (rsyslog makes DEL "#177"), which would change the bytes
 * an alert's HMAC covers. A raw 0x7f in jansson's output can only be
 * that character inside a string, so the byte is replaced wherever it
 * comes.
 */
struct jx_out {
	FILE *f;		/* or: */
	char *b;
	size_t n, len;
	bool over;
};

static void put(struct jx_out *k, const char *s, size_t n)
{
	if (k->f) {
		if (fwrite(s, 1, n, k->f) != n)
			k->over = true;
		return;
	}
	if (k->over || n >= k->n - k->len) {
		k->over = true;
		return;
	}
	memcpy(k->b + k->len, s, n);
	k->len += n;
}

static int put_json(const char *s, size_t n, void *data)
{
	struct jx_out *k = data;
	const char *del;

	while ((del = memchr(s, 0x7f, n))) {
		put(k, s, (size_t)(del - s));
		put(k, "\\u007f", 6);
		n -= (size_t)(del - s) + 1;
		s = del + 1;
	}
	put(k, s, n);
	return k->over ? -1 : 0;
}

int jx_print(FILE *out, json_t *v)
{
	struct jx_out k = { .f = out };
	int r;

	if (!v)
		return -ENOMEM;
	r = json_dump_callback(v, put_json, &k, JX_FLAGS);
	json_decref(v);
	return r ? (k.over ? -EIO : -ENOMEM) : 0;
}

int jx_format(json_t *v, char *buf, size_t n)
{
	struct jx_out k = { .b = buf, .n = n };
	int r;

	if (!v)
		return -ENOMEM;
	if (!n) {
		json_decref(v);
		return -ENOSPC;
	}
	r = json_dump_callback(v, put_json, &k, JX_FLAGS);
	json_decref(v);
	if (r || k.len > INT32_MAX) {
		buf[0] = '\0';
		return k.over ? -ENOSPC : -ENOMEM;
	}
	buf[k.len] = '\0';
	return (int)k.len;
}

void json_str(FILE *out, const char *s)
{
	json_t *v = jx_str(s);

	if (v)
		jx_print(out, v);
	else
		fputs("null", out);
}

void jx_key(FILE *out, const char *sep, const char *key)
{
	fputs(sep, out);
	json_str(out, key);
	fputc(':', out);
}

void jx_member(FILE *out, const char *sep, const char *key, json_t *v,
	       int *err)
{
	jx_key(out, sep, key);
	if (jx_print(out, v)) {
		fputs("null", out);
		*err = -ENOMEM;
	}
}

json_t *jx_done(json_t *o, int err)
{
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *jx_parse_object(const char *s, size_t len)
{
	json_t *v = json_loadb(s, len, 0, NULL);

	if (v && !json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}
