// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert.h"
#include "json.h"
#include "sink.h"

struct fx {
	char dir[64];		/* the state dir */
	char log[96];		/* a log inside it */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/sanso-audit-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->log, sizeof(fx->log), "%s/audit.log", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd))
		return -1;
	free(fx);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *b;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return b;
}

/* Rewrites the file in place (same inode), as an editor that does not
 * rename would. */
static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Start of line n (1-based) in text. */
static char *line_at(char *text, int n)
{
	while (--n > 0) {
		text = strchr(text, '\n');
		assert_non_null(text);
		text++;
	}
	return text;
}

static void delete_line(char *text, int n)
{
	char *s = line_at(text, n), *e = strchr(s, '\n');

	memmove(s, e + 1, strlen(e + 1) + 1);
}

static void append_n(struct fx *fx, int from, int to)
{
	char obj[64];

	for (int i = from; i <= to; i++) {
		snprintf(obj, sizeof(obj), "{\"event\":\"apply\",\"n\":%d}", i);
		assert_int_equal(audit_append(fx->dir, fx->log, obj), 0);
	}
}

static bool has(const struct diags *d, const char *code, int line)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].code, code) && d->v[i].loc.line == line &&
		    d->v[i].sev == DIAG_ERROR)
			return true;
	return false;
}

static void dump(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  %d [%s] %s\n", d->v[i].loc.line, d->v[i].code,
			      d->v[i].msg);
}

/* Verifies and expects exactly `errors` errors, one of them code@line. */
static void expect(struct fx *fx, unsigned int errors, const char *code,
		   int line)
{
	struct audit_verdict v;
	struct diags d = { 0 };

	assert_int_equal(audit_verify(fx->dir, fx->log, &d, &v), 0);
	if (d.errors != errors || (code && !has(&d, code, line))) {
		dump(&d);
		fail_msg("expected %u error(s) with %s at line %d", errors,
			 code ? code : "-", line);
	}
	assert_int_equal(v.tampered, errors > 0);
	diags_free(&d);
}

/* ---- the chain ---- */

static void test_chain_line(void **state)
{
	uint8_t key[AUDIT_KEY_LEN] = { 1, 2, 3 };
	struct audit_chain c, c2;
	char out[256];
	int n;

	(void)state;
	audit_chain_init(key, &c);
	assert_int_equal(c.seq, 0);
	n = audit_chain_line(key, &c, "{\"a\":1}", 7, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(strlen(out), n);
	/* genesis: HMAC-SHA-256 of "" under the key */
	assert_true(strncmp(out, "{\"a\":1,\"seq\":1,\"prev\":\"", 23) == 0);
	assert_int_equal(c.seq, 1);
	c2 = c;
	n = audit_chain_line(key, &c, "{}", 2, out, sizeof(out));
	assert_true(n > 0);
	assert_true(strncmp(out, "{\"seq\":2,\"prev\":\"", 17) == 0);
	assert_memory_not_equal(c.mac, c2.mac, AUDIT_MAC_LEN);
	assert_int_equal(audit_chain_line(key, &c, "[1]", 3, out, 256),
			 -EINVAL);
	assert_int_equal(audit_chain_line(key, &c, "{\"a\":\n1}", 8, out, 256),
			 -EINVAL);
	assert_int_equal(audit_chain_line(key, &c, "{\"a\":1}", 7, out, 20),
			 -ENOSPC);
	assert_int_equal(c.seq, 2);
}

static void test_genesis_known_value(void **state)
{
	/* HMAC-SHA-256 with a 32-byte zero key over "", from `openssl dgst
	 * -sha256 -mac HMAC -macopt hexkey:00...00 /dev/null`. */
	static const char want[] =
		"b613679a0814d9ec772f95d778c35fc5"
		"ff1697c493715653c6c712144292c5ad";
	uint8_t key[AUDIT_KEY_LEN] = { 0 };
	struct audit_chain c;
	char out[256];

	(void)state;
	audit_chain_init(key, &c);
	assert_true(audit_chain_line(key, &c, "{}", 2, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, want));
}

/* ---- the key ---- */

static void test_key(void **state)
{
	struct fx *fx = *state;
	uint8_t k1[AUDIT_KEY_LEN], k2[AUDIT_KEY_LEN];
	char path[192], sub[128];
	struct stat st;

	assert_int_equal(audit_key_load(fx->dir, false, k1), -ENOENT);
	assert_int_equal(audit_key_load(fx->dir, true, k1), 0);
	snprintf(path, sizeof(path), "%s/audit.key", fx->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, AUDIT_KEY_LEN);
	assert_int_equal(audit_key_load(fx->dir, true, k2), 0);
	assert_memory_equal(k1, k2, AUDIT_KEY_LEN);

	chmod(path, 0644);
	assert_int_equal(audit_key_load(fx->dir, false, k2), -EPERM);
	chmod(path, 0600);
	assert_int_equal(truncate(path, 16), 0);
	assert_int_equal(audit_key_load(fx->dir, false, k2), -EINVAL);

	/* A symlink planted where the key goes is refused. */
	snprintf(sub, sizeof(sub), "%s/sub", fx->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/audit.key", sub);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(audit_key_load(sub, true, k2), -EPERM);

	/* The state dir is made when missing. */
	snprintf(sub, sizeof(sub), "%s/new", fx->dir);
	assert_int_equal(audit_key_load(sub, true, k2), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* A key of another user: root may read it to verify, never to
	 * write with it. */
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/audit.key", sub);
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(audit_key_load(sub, false, k1), 0);
		assert_memory_equal(k1, k2, AUDIT_KEY_LEN);
		assert_int_equal(audit_key_load(sub, true, k1), -EPERM);
		chmod(path, 0640);
		assert_int_equal(audit_key_load(sub, false, k1), -EPERM);
	}
}

/* ---- append, reopen, continue ---- */

static void test_append_and_continue(void **state)
{
	struct fx *fx = *state;
	uint8_t key[AUDIT_KEY_LEN];
	struct audit_log l;
	char buf[512], *text;
	struct stat st;

	umask(022);
	append_n(fx, 1, 3);
	assert_int_equal(stat(fx->log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	text = slurp(fx->log, NULL);
	assert_non_null(strstr(line_at(text, 1), "{\"event\":\"apply\",\"n\":1,"
			       "\"seq\":1,\"prev\":\""));
	assert_non_null(strstr(line_at(text, 3), "\"n\":3,\"seq\":3,"));
	free(text);
	expect(fx, 0, NULL, 0);

	/* A long-lived writer continues from the file's last line. */
	assert_int_equal(audit_key_load(fx->dir, false, key), 0);
	assert_int_equal(audit_log_open(&l, fx->dir, key, fx->log, false), 0);
	assert_int_equal(l.chain.seq, 3);
	assert_int_equal(audit_log_append(&l, key, "{\"n\":4}", 7, buf,
					  sizeof(buf)), 0);
	/* Another writer appends behind its back: noticed. */
	append_n(fx, 5, 5);
	assert_int_equal(audit_log_append(&l, key, "{\"n\":6}", 7, buf,
					  sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\"seq\":6,"));
	audit_log_close(&l);
	append_n(fx, 7, 7);
	expect(fx, 0, NULL, 0);
	text = slurp(fx->log, NULL);
	assert_non_null(strstr(line_at(text, 7), "\"n\":7,\"seq\":7,"));
	free(text);
}

static void test_bad_objects(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(audit_append(fx->dir, fx->log, "not json"), -EINVAL);
	assert_int_equal(audit_append(fx->dir, fx->log, "{\"a\":\"x\ny\"}"),
			 -EINVAL);
	assert_int_equal(audit_append(fx->dir, fx->log, "{}"), 0);
	expect(fx, 0, NULL, 0);
}

/* ---- tampering, each kind found and placed ---- */

static void test_edited_line(void **state)
{
	struct fx *fx = *state;
	char *t, *p;

	append_n(fx, 1, 5);
	t = slurp(fx->log, NULL);
	p = strstr(t, "\"n\":2");
	p[4] = '9';		/* line 2 now says n=9 */
	put(fx->log, t);
	free(t);
	expect(fx, 1, "altered", 2);
}

static void test_deleted_line(void **state)
{
	struct fx *fx = *state;
	char *t;

	append_n(fx, 1, 5);
	t = slurp(fx->log, NULL);
	delete_line(t, 3);
	put(fx->log, t);
	free(t);
	/* The line that follows the hole is line 3 now. */
	expect(fx, 1, "missing", 3);
}

static void test_deleted_lines(void **state)
{
	struct fx *fx = *state;
	struct audit_verdict v;
	struct diags d = { 0 };
	char *t;

	append_n(fx, 1, 8);
	t = slurp(fx->log, NULL);
	delete_line(t, 3);
	delete_line(t, 3);
	delete_line(t, 3);
	put(fx->log, t);
	free(t);
	assert_int_equal(audit_verify(fx->dir, fx->log, &d, &v), 0);
	assert_int_equal(d.errors, 1);
	assert_true(has(&d, "missing", 3));
	assert_non_null(strstr(d.v[0].msg, "3 lines removed"));
	assert_non_null(strstr(d.v[0].msg, "seq 3..5"));
	diags_free(&d);
}

static void test_reordered_lines(void **state)
{
	struct fx *fx = *state;
	char *t, *l3, *l4, *e4, tmp[512];
	size_t n3;

	append_n(fx, 1, 5);
	t = slurp(fx->log, NULL);
	l3 = line_at(t, 3);
	l4 = line_at(t, 4);
	e4 = strchr(l4, '\n') + 1;
	n3 = (size_t)(l4 - l3);
	/* swap lines 3 and 4 */
	memcpy(tmp, l3, n3);
	memmove(l3, l4, (size_t)(e4 - l4));
	memcpy(l3 + (e4 - l4), tmp, n3);
	put(fx->log, t);
	free(t);
	expect(fx, 1, "order", 4);
}

static void test_repeated_line(void **state)
{
	struct fx *fx = *state;
	char *t, *out, *l2, *l3;

	append_n(fx, 1, 3);
	t = slurp(fx->log, NULL);
	l2 = line_at(t, 2);
	l3 = line_at(t, 3);
	out = malloc(strlen(t) + (size_t)(l3 - l2) + 1);
	memcpy(out, t, (size_t)(l3 - t));
	memcpy(out + (l3 - t), l2, (size_t)(l3 - l2));
	strcpy(out + (l3 - t) + (l3 - l2), l3);
	put(fx->log, out);
	free(out);
	free(t);
	expect(fx, 1, "order", 3);
}

static void test_truncated_last_line(void **state)
{
	struct fx *fx = *state;
	size_t len;
	char *t;

	append_n(fx, 1, 4);
	t = slurp(fx->log, &len);
	t[len - 20] = '\0';
	put(fx->log, t);
	free(t);
	/* Cut short, and the writer's record of seq 4 is not there. */
	expect(fx, 2, "trunc", 4);
	expect(fx, 2, "tail", 4);
}

static void test_removed_last_lines(void **state)
{
	struct fx *fx = *state;
	char *t;

	append_n(fx, 1, 5);
	t = slurp(fx->log, NULL);
	*line_at(t, 4) = '\0';	/* keep lines 1-3, same inode */
	put(fx->log, t);
	free(t);
	expect(fx, 1, "tail", 3);
}

static void test_removed_last_lines_new_inode(void **state)
{
	struct fx *fx = *state;
	char tmp[128], *t;
	FILE *f;

	append_n(fx, 1, 5);
	t = slurp(fx->log, NULL);
	*line_at(t, 5) = '\0';
	/* as sed -i does: a new file renamed over the old one */
	snprintf(tmp, sizeof(tmp), "%s.new", fx->log);
	f = fopen(tmp, "w");
	fputs(t, f);
	fclose(f);
	assert_int_equal(rename(tmp, fx->log), 0);
	free(t);
	expect(fx, 1, "tail", 4);
}

static void test_edited_last_line(void **state)
{
	struct fx *fx = *state;
	char *t;

	append_n(fx, 1, 3);
	t = slurp(fx->log, NULL);
	strstr(t, "\"n\":3")[4] = '7';
	put(fx->log, t);
	free(t);
	expect(fx, 1, "tail", 3);
}

static void test_emptied(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 1, 3);
	put(fx->log, "");
	expect(fx, 1, "empty", 0);
}

static void test_removed_first_line(void **state)
{
	struct fx *fx = *state;
	char *t;

	append_n(fx, 1, 3);
	t = slurp(fx->log, NULL);
	delete_line(t, 1);
	put(fx->log, t);
	free(t);
	expect(fx, 1, "start", 1);
}

static void test_foreign_line(void **state)
{
	struct fx *fx = *state;
	char *t, *out;

	append_n(fx, 1, 3);
	t = slurp(fx->log, NULL);
	out = malloc(strlen(t) + 64);
	strcpy(out, t);
	strcpy(line_at(out, 3), "{\"forged\":true}\n");
	strcat(out, line_at(t, 3));
	put(fx->log, out);
	free(out);
	free(t);
	expect(fx, 1, "format", 3);
}

static void test_forged_line(void **state)
{
	struct fx *fx = *state;
	uint8_t key[AUDIT_KEY_LEN] = { 0 };
	struct audit_chain c;
	char *t, line[512];
	int n;

	append_n(fx, 1, 2);
	/* An attacker without the key chains a line of their own. */
	audit_chain_init(key, &c);
	c.seq = 2;
	n = audit_chain_line(key, &c, "{\"n\":3}", 7, line, sizeof(line) - 1);
	line[n] = '\n';
	line[n + 1] = '\0';
	t = slurp(fx->log, NULL);
	t = realloc(t, strlen(t) + strlen(line) + 1);
	strcat(t, line);
	put(fx->log, t);
	free(t);
	expect(fx, 1, "altered", 2);
}

static void test_wrong_key(void **state)
{
	struct fx *fx = *state;
	char path[128];
	struct audit_verdict v;
	struct diags d = { 0 };
	uint8_t zero[AUDIT_KEY_LEN] = { 0 };
	int fd;

	append_n(fx, 1, 3);
	snprintf(path, sizeof(path), "%s/audit.key", fx->dir);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, zero, sizeof(zero)), (ssize_t)sizeof(zero));
	close(fd);
	assert_int_equal(audit_verify(fx->dir, fx->log, &d, &v), 0);
	assert_true(v.tampered);
	assert_true(has(&d, "key", 0));
	diags_free(&d);
}

static void test_missing_key_or_file(void **state)
{
	struct fx *fx = *state;
	struct audit_verdict v;
	struct diags d = { 0 };
	char other[128];

	append_n(fx, 1, 1);
	snprintf(other, sizeof(other), "%s/none", fx->dir);
	assert_int_equal(audit_verify(fx->dir, other, &d, &v), -ENOENT);
	assert_int_equal(audit_verify(other, fx->log, &d, &v), -ENOENT);
	assert_int_equal(audit_verify(fx->dir, fx->dir, &d, &v), -EINVAL);
	diags_free(&d);
}

/* The writer meets a file cut short (or edited) at its end: it goes on
 * from its own record, so the damage stays visible. */
static void test_writer_keeps_evidence(void **state)
{
	struct fx *fx = *state;
	size_t len;
	char *t;

	append_n(fx, 1, 5);
	t = slurp(fx->log, NULL);
	*line_at(t, 4) = '\0';
	put(fx->log, t);
	free(t);
	append_n(fx, 6, 6);
	t = slurp(fx->log, &len);
	assert_non_null(strstr(line_at(t, 4), "\"seq\":6,"));
	free(t);
	expect(fx, 1, "missing", 4);
}

/* A line cut by a crash: the writer ends it and links its next line to
 * the last whole one; verify-log reports the damaged line only. */
static void test_writer_after_crash(void **state)
{
	struct fx *fx = *state;
	char *t;
	int fd;

	append_n(fx, 1, 2);
	fd = open(fx->log, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "{\"event\":\"ap", 12), 12);
	close(fd);
	append_n(fx, 3, 3);
	t = slurp(fx->log, NULL);
	assert_non_null(strstr(line_at(t, 4), "\"seq\":3,"));
	free(t);
	expect(fx, 1, "format", 3);
}

/* Logrotate: the log renamed, a new one started. Each file has its own
 * chain from seq 1, and both verify. */
static void test_rotation(void **state)
{
	struct fx *fx = *state;
	char old[128], save[128];

	append_n(fx, 1, 3);
	snprintf(old, sizeof(old), "%s.1", fx->log);
	assert_int_equal(rename(fx->log, old), 0);
	append_n(fx, 4, 5);
	expect(fx, 0, NULL, 0);
	strcpy(save, fx->log);
	strcpy(fx->log, old);
	expect(fx, 0, NULL, 0);
	strcpy(fx->log, save);
}


/* Rotated to a name that is not UTF-8 (CP932 bytes, "\" among them):
 * the new file's first line names it by the rule of sanso(8) (U+FFFD
 * for each stray byte) and is still JSON that verify-log reads as the
 * continuation of the old file's chain. */
static void test_rotation_cp932_name(void **state)
{
	struct fx *fx = *state;
	char old[160], *text, *nl, *slash;
	json_t *o;

	append_n(fx, 1, 3);
	slash = strrchr(fx->log, '/');
	snprintf(old, sizeof(old), "%.*s/\x83\x5e\x83\x5c.1",
		 (int)(slash - fx->log), fx->log);
	assert_int_equal(rename(fx->log, old), 0);
	append_n(fx, 4, 5);
	text = slurp(fx->log, NULL);
	nl = strchr(text, '\n');
	assert_non_null(nl);
	o = jx_parse_object(text, (size_t)(nl - text));
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "chain")),
			    "continued");
	assert_int_equal(json_integer_value(json_object_get(o,
			 "previous_seq")), 3);
	assert_non_null(json_string_value(json_object_get(o,
			"previous_file")));
	assert_string_equal(json_string_value(json_object_get(o,
			    "previous_file")),
			    "\xef\xbf\xbd^\xef\xbf\xbd\\.1");
	json_decref(o);
	free(text);
	expect(fx, 0, NULL, 0);
}

/* ---- anchoring ---- */

static void rm_chain(struct fx *fx)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/chain'", fx->dir);
	assert_int_equal(system(cmd), 0);
}

/* Verifies, expecting exactly `errors` errors, one with `code` whose
 * message holds `text`. */
static void expect_msg(struct fx *fx, const struct audit_chain *head,
		       unsigned int errors, const char *code, const char *text)
{
	struct audit_verdict v;
	struct diags d = { 0 };
	bool found = !code;

	assert_int_equal(audit_verify_head(fx->dir, fx->log, head, &d, &v), 0);
	for (size_t i = 0; code && i < d.n; i++)
		if (d.v[i].sev == DIAG_ERROR && !strcmp(d.v[i].code, code) &&
		    strstr(d.v[i].msg, text))
			found = true;
	if (d.errors != errors || !found) {
		dump(&d);
		fail_msg("expected %u error(s), one [%s] saying \"%s\"", errors,
			 code ? code : "-", text ? text : "");
	}
	assert_int_equal(v.tampered, errors > 0);
	diags_free(&d);
}

static void test_head_format_parse(void **state)
{
	struct audit_chain c = { .seq = 42 }, back;
	char buf[AUDIT_HEAD_LEN];

	(void)state;
	for (int i = 0; i < AUDIT_MAC_LEN; i++)
		c.mac[i] = (uint8_t)(i * 7);
	audit_head_format(&c, buf, sizeof(buf));
	assert_true(!strncmp(buf, "42:00070e15", 11));
	assert_int_equal(strlen(buf), 3 + 2 * AUDIT_MAC_LEN);
	assert_int_equal(audit_head_parse(buf, &back), 0);
	assert_int_equal(back.seq, 42);
	assert_memory_equal(back.mac, c.mac, AUDIT_MAC_LEN);
	assert_int_equal(audit_head_parse("0:00", &back), -EINVAL);
	assert_int_equal(audit_head_parse(buf + 3, &back), -EINVAL);
	buf[5] = 'A';	/* uppercase: not what sanso prints */
	assert_int_equal(audit_head_parse(buf, &back), -EINVAL);
	buf[strlen(buf) - 1] = '\0';
	assert_int_equal(audit_head_parse(buf, &back), -EINVAL);
}

static void test_removed(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 1, 3);
	assert_int_equal(unlink(fx->log), 0);
	expect_msg(fx, NULL, 1, "removed", "sanso wrote up to seq 3");
}

/* rm audit.log; touch audit.log */
static void test_replaced_by_empty(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 1, 3);
	assert_int_equal(unlink(fx->log), 0);
	/* Past the file system's clock tick, so that a new file given
	 * the same inode number is seen to be younger than the record. */
	usleep(50000);
	fclose(fopen(fx->log, "w"));
	expect_msg(fx, NULL, 1, "empty", "replaced by an empty file");
}

/* An empty log nobody recorded proves nothing either. */
static void test_empty_unknown(void **state)
{
	struct fx *fx = *state;
	uint8_t key[AUDIT_KEY_LEN];

	assert_int_equal(audit_key_load(fx->dir, true, key), 0);
	fclose(fopen(fx->log, "w"));
	expect_msg(fx, NULL, 1, "empty", "no record of sanso writing it");
}

/* The writer, after rm: a chain that says it lost its past, never a
 * fresh one at seq 1. */
static void test_removed_then_written(void **state)
{
	struct fx *fx = *state;
	char *t;

	append_n(fx, 1, 3);
	assert_int_equal(unlink(fx->log), 0);
	append_n(fx, 4, 4);
	t = slurp(fx->log, NULL);
	assert_true(!strncmp(t, "{\"chain\":\"broken\",\"previous_seq\":3,", 35));
	assert_non_null(strstr(line_at(t, 2), "\"seq\":5,"));
	free(t);
	expect_msg(fx, NULL, 1, "broken", "up to seq 3 at this path was gone");
}

/* A chain of another key put in its place. */
static void test_replaced_other_key(void **state)
{
	struct fx *fx = *state;
	uint8_t key[AUDIT_KEY_LEN] = { 1 };
	struct audit_verdict v;
	struct diags d = { 0 };
	struct audit_chain c;
	char line[512];
	FILE *f;

	append_n(fx, 1, 5);
	assert_int_equal(unlink(fx->log), 0);
	f = fopen(fx->log, "w");
	audit_chain_init(key, &c);
	for (int i = 1; i <= 3; i++) {
		int n = audit_chain_line(key, &c, "{\"n\":1}", 7, line,
					 sizeof(line));

		fprintf(f, "%.*s\n", n, line);
	}
	fclose(f);
	assert_int_equal(audit_verify(fx->dir, fx->log, &d, &v), 0);
	assert_true(v.tampered);
	assert_true(has(&d, "key", 0));
	assert_true(has(&d, "tail", 3));
	diags_free(&d);
}

static void test_no_chain_dir(void **state)
{
	struct fx *fx = *state;

	append_n(fx, 1, 3);
	rm_chain(fx);
	expect_msg(fx, NULL, 1, "anchor", "chain is missing");
}

static void test_tail_cut_no_chain_dir(void **state)
{
	struct fx *fx = *state;
	char *t;

	append_n(fx, 1, 5);
	t = slurp(fx->log, NULL);
	*line_at(t, 4) = '\0';
	put(fx->log, t);
	free(t);
	rm_chain(fx);
	expect_msg(fx, NULL, 1, "anchor", "chain is missing");
}

/* STATE/deploy/N/record keeps audit.log's head: a tail cut shows even
 * with chain/ gone. */
static void test_deployment_anchor(void **state)
{
	struct fx *fx = *state;
	struct audit_chain c;
	char p[160], head[AUDIT_HEAD_LEN], *t;
	FILE *f;

	append_n(fx, 1, 4);
	assert_int_equal(audit_log_head(fx->dir, fx->log, &c), 0);
	assert_int_equal(c.seq, 4);
	audit_head_format(&c, head, sizeof(head));
	snprintf(p, sizeof(p), "%s/deploy", fx->dir);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/deploy/1", fx->dir);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/deploy/1/record", fx->dir);
	f = fopen(p, "w");
	fprintf(f, "id 1\nprevious 0\naudit_head %s\n", head);
	fclose(f);
	append_n(fx, 5, 6);
	expect_msg(fx, NULL, 0, NULL, NULL);
	t = slurp(fx->log, NULL);
	*line_at(t, 3) = '\0';
	put(fx->log, t);
	free(t);
	rm_chain(fx);
	expect_msg(fx, NULL, 2, "head", "deploy/1/record records seq 4");
	expect_msg(fx, NULL, 2, "anchor", "while");
}

/* The head of line `seq` as a head kept elsewhere has it: the prev of
 * the next line. */
static void head_at(struct fx *fx, uint64_t seq, struct audit_chain *c)
{
	char *t = slurp(fx->log, NULL), hs[96];
	const char *p = strstr(line_at(t, (int)seq + 1), ",\"prev\":\"");

	assert_non_null(p);
	snprintf(hs, sizeof(hs), "%" PRIu64 ":%.64s", seq, p + 9);
	assert_int_equal(audit_head_parse(hs, c), 0);
	free(t);
}

static void test_head(void **state)
{
	struct fx *fx = *state;
	struct audit_chain c, bad;

	append_n(fx, 1, 5);
	head_at(fx, 3, &c);
	expect_msg(fx, &c, 0, NULL, NULL);
	bad = c;
	bad.mac[0] ^= 1;
	expect_msg(fx, &bad, 1, "head", "not the line --head records");
	bad = c;
	bad.seq = 9;
	expect_msg(fx, &bad, 1, "head", "but --head records seq 9");
	/* Without chain/, the head anchors what it covers. */
	rm_chain(fx);
	expect_msg(fx, &c, 0, NULL, NULL);
	expect_msg(fx, NULL, 1, "anchor", "chain is missing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_line),
		cmocka_unit_test(test_genesis_known_value),
		cmocka_unit_test_setup_teardown(test_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_and_continue, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_objects, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_edited_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deleted_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deleted_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reordered_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_repeated_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated_last_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_removed_last_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_removed_last_lines_new_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited_last_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_emptied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_first_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forged_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_key_or_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_keeps_evidence,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_after_crash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_cp932_name, setup,
						teardown),
		cmocka_unit_test(test_head_format_parse),
		cmocka_unit_test_setup_teardown(test_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_by_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_unknown, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_removed_then_written,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_other_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_chain_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tail_cut_no_chain_dir,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_deployment_anchor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
