// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON helper: the one rule for bytes that are not UTF-8 (each byte
 * not part of a valid sequence becomes U+FFFD), what jansson prints, and
 * the bounds of the buffer writer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

#define FFFD "\xef\xbf\xbd"

/* jx_utf8 of n bytes must give want. */
static void clean(const char *in, size_t n, const char *want)
{
	char out[256];
	size_t len;

	assert_true(3 * n + 1 <= sizeof(out));
	len = jx_utf8(in, n, out);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	assert_int_equal(out[len], '\0');
}

#define CLEAN(in, want) clean(in, sizeof(in) - 1, want)

static void test_valid_kept(void **state)
{
	(void)state;
	CLEAN("", "");
	CLEAN("plain ascii", "plain ascii");
	/* 2, 3 and 4 bytes, and the edges of each length. */
	CLEAN("\xc2\x80\xdf\xbf", "\xc2\x80\xdf\xbf");
	CLEAN("住民基本台帳", "住民基本台帳");
	CLEAN("\xe0\xa0\x80\xef\xbf\xbf", "\xe0\xa0\x80\xef\xbf\xbf");
	CLEAN("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
	      "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
	/* U+FFFD itself and the last code points before the surrogates. */
	CLEAN(FFFD "\xed\x9f\xbf", FFFD "\xed\x9f\xbf");
}

static void test_lone_continuation(void **state)
{
	(void)state;
	CLEAN("\x80", FFFD);
	CLEAN("a\xbf" "b", "a" FFFD "b");
	CLEAN("\x80\x80\x80", FFFD FFFD FFFD);
}

static void test_truncated(void **state)
{
	(void)state;
	/* Cut off by the end, or by the next character: each byte of the
	 * partial sequence is one U+FFFD. */
	CLEAN("\xe4\xbd", FFFD FFFD);
	CLEAN("\xe4\xbd" "A", FFFD FFFD "A");
	CLEAN("\xf0\x9f\x98", FFFD FFFD FFFD);
	CLEAN("\xc3", FFFD);
	CLEAN("\xc3" "\xe4\xbd\xbf", FFFD "\xe4\xbd\xbf");
}

static void test_overlong(void **state)
{
	(void)state;
	CLEAN("\xc0\xaf", FFFD FFFD);			/* "/" in 2 */
	CLEAN("\xc1\xbf", FFFD FFFD);
	CLEAN("\xe0\x80\xaf", FFFD FFFD FFFD);		/* "/" in 3 */
	CLEAN("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);	/* "/" in 4 */
	CLEAN("\xc0\x80", FFFD FFFD);			/* NUL in 2 */
}

static void test_surrogates_and_range(void **state)
{
	(void)state;
	CLEAN("\xed\xa0\x80", FFFD FFFD FFFD);		/* U+D800 */
	CLEAN("\xed\xbf\xbf", FFFD FFFD FFFD);		/* U+DFFF */
	/* A CESU-8 pair (U+1F600) is two surrogates, not one character. */
	CLEAN("\xed\xa0\xbd\xed\xb8\x80", FFFD FFFD FFFD FFFD FFFD FFFD);
	CLEAN("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);	/* past U+10FFFF */
	CLEAN("\xf5\xf8\xfe\xff", FFFD FFFD FFFD FFFD);
}

static void test_cp932(void **state)
{
	(void)state;
	/* タイソ in CP932: the ASCII trail bytes stay, "\" among them. */
	CLEAN("\x83\x5e\x83\x43\x83\x5c", FFFD "^" FFFD "C" FFFD "\\");
}

/* What jansson prints for the string of n bytes. */
static void printed(const char *in, size_t n, const char *want)
{
	char buf[512];
	int len = jx_format(jx_strn(in, n), buf, sizeof(buf));

	assert_int_equal(len, (int)strlen(want));
	assert_string_equal(buf, want);
}

#define PRINTED(in, want) printed(in, sizeof(in) - 1, want)

static void test_printed(void **state)
{
	(void)state;
	PRINTED("q\"b\\s/", "\"q\\\"b\\\\s/\"");
	PRINTED("\n\r\t", "\"\\n\\r\\t\"");
	/* NUL inside a counted string is U+0000, escaped. */
	PRINTED("a\0b", "\"a\\u0000b\"");
	PRINTED("\x01\x1f", "\"\\u0001\\u001F\"");
	/* DEL is escaped as before jansson (syslog daemons rewrite it). */
	PRINTED("x\x7fy\x7f", "\"x\\u007fy\\u007f\"");
	PRINTED("\x83\x5c", "\"" FFFD "\\\\\"");
	PRINTED("窓口", "\"窓口\"");
}

static void test_null_and_empty(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(jx_format(jx_str(NULL), buf, sizeof(buf)), 4);
	assert_string_equal(buf, "null");
	assert_int_equal(jx_format(jx_str(""), buf, sizeof(buf)), 2);
	assert_string_equal(buf, "\"\"");
	assert_int_equal(jx_format(jx_str0(""), buf, sizeof(buf)), 4);
	assert_string_equal(buf, "null");
	assert_int_equal(jx_format(jx_uint(UINT64_MAX), buf, sizeof(buf)),
			 19);
	assert_string_equal(buf, "9223372036854775807");
}

static void test_format_bounds(void **state)
{
	char buf[8];
	json_t *o;
	int err = 0;

	(void)state;
	/* "abcdef" in quotes is 8 bytes: no room for the NUL. */
	assert_int_equal(jx_format(jx_str("abcdef"), buf, sizeof(buf)),
			 -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(jx_format(jx_str("abcde"), buf, sizeof(buf)), 7);
	assert_string_equal(buf, "\"abcde\"");
	/* A DEL that no longer fits. */
	assert_int_equal(jx_format(jx_str("ab\x7f"), buf, sizeof(buf)),
			 -ENOSPC);
	assert_int_equal(jx_format(jx_str("a"), buf, 0), -ENOSPC);
	assert_int_equal(jx_format(NULL, buf, sizeof(buf)), -ENOMEM);
	/* Members in the order they were set. */
	o = json_object();
	jx_set(o, "z", json_integer(1), &err);
	jx_set(o, "a", jx_str("\xff"), &err);
	jx_set(o, "m", json_null(), &err);
	assert_int_equal(err, 0);
	{
		char big[64];

		assert_true(jx_format(o, big, sizeof(big)) > 0);
		assert_string_equal(big, "{\"z\":1,\"a\":\"" FFFD
				    "\",\"m\":null}");
	}
	/* A NULL value (out of memory) is reported, and nothing leaks. */
	o = json_object();
	assert_int_equal(jx_set(o, "k", NULL, &err), -ENOMEM);
	assert_int_equal(err, -ENOMEM);
	assert_null(jx_done(o, err));
}

static void test_print_file(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	json_str(f, "a\x83");
	fputc(' ', f);
	json_str(f, NULL);
	fputc(' ', f);
	jx_key(f, "{", "k\x7f");
	assert_int_equal(jx_print(f, json_true()), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "\"a" FFFD "\" null {\"k\\u007f\":true");
	free(text);
}

static void test_parse(void **state)
{
	static const char line[] = "{\"a\":\"b\",\"n\":3} trailing";
	json_t *o;

	(void)state;
	o = jx_parse_object(line, 15);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "a")), "b");
	json_decref(o);
	/* Not the whole text, not an object, not JSON, not UTF-8. */
	assert_null(jx_parse_object(line, sizeof(line) - 1));
	assert_null(jx_parse_object("[1]", 3));
	assert_null(jx_parse_object("{\"a\":", 5));
	assert_null(jx_parse_object("{\"a\":\"\x83\"}", 9));
	assert_null(jx_parse_object("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_kept),
		cmocka_unit_test(test_lone_continuation),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_surrogates_and_range),
		cmocka_unit_test(test_cp932),
		cmocka_unit_test(test_printed),
		cmocka_unit_test(test_null_and_empty),
		cmocka_unit_test(test_format_bounds),
		cmocka_unit_test(test_print_file),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
