/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON through jansson: every JSON text sanso writes is built from these
 * values and printed by jansson, and every string comes in through the
 * one rule for bytes that are not UTF-8: each byte that is not part of a
 * valid UTF-8 sequence (a lone continuation byte, a cut-short sequence,
 * an overlong form, a surrogate, a code point past U+10FFFF) becomes
 * U+FFFD; a NUL inside a counted string is U+0000. sanso(8), JSON OUTPUT,
 * says why.
 */
#ifndef SANSO_JSON_H
#define SANSO_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Flags of every JSON text sanso prints: no spaces, keys in the order
 * they were set (jansson keeps insertion order). */
#define JX_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY)

/* Copies the n bytes at s into out by the rule above and NUL-terminates
 * it; out holds at least 3 * n + 1 bytes (U+FFFD is three). Returns the
 * length written. */
size_t jx_utf8(const char *s, size_t n, char *out);

/* A JSON string of the n bytes at s, or of the C string s; NULL is JSON
 * null. New reference, or NULL on ENOMEM. */
json_t *jx_strn(const char *s, size_t n);
json_t *jx_str(const char *s);
/* The same, but "" is null too (the alert record's fields). */
json_t *jx_str0(const char *s);
/* An unsigned integer (jansson's are signed: larger ones are clamped). */
json_t *jx_uint(uint64_t v);

/* obj[key] = v, taking v (NULL v: out of memory). 0 or -ENOMEM; on
 * failure *err is set, so that a run of members checks once. */
int jx_set(json_t *obj, const char *key, json_t *v, int *err);

/* Prints v compact to out; takes v. 0, or -ENOMEM/-EIO. */
int jx_print(FILE *out, json_t *v);
/* Writes v compact into buf and NUL-terminates it; takes v. The length,
 * or -ENOSPC (buf then holds ""), or -ENOMEM. */
int jx_format(json_t *v, char *buf, size_t n);

/* Writes s as a JSON string (quotes included; NULL: null). */
void json_str(FILE *out, const char *s);

/*
 * For printers that lay a document out by lines (diff, explain, report):
 * sep then "key": (jx_key), and then v (jx_member, which takes v and
 * sets *err, printing null, when v is NULL).
 */
void jx_key(FILE *out, const char *sep, const char *key);
void jx_member(FILE *out, const char *sep, const char *key, json_t *v,
	       int *err);

/* o, or NULL after releasing it when err is set (a member was lost). */
json_t *jx_done(json_t *o, int err);

/* Reads one JSON object from len bytes (a line without its newline):
 * new reference, or NULL if it is not one. */
json_t *jx_parse_object(const char *s, size_t len);

#endif
