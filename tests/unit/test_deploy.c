// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state directory without the kernel: its checks, its lock, and
 * rebuilding a deployment from its copies alone (SECURITY.md F3, F5,
 * F13, F14).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "deploy.h"
#include "model.h"
#include "policy.h"
#include "ruleset.h"

/* A schedule whose holidays change the table: rule "a" matches only in
 * the office's hours, and a holiday takes a day out of the set. */
static const char zone_yaml[] =
	"version: 1\n"
	"site: unit\n"
	"timezone: Asia/Tokyo\n"
	"zones:\n"
	"  lgwan: { tier: lgwan, interfaces: [e1], networks: [10.20.0.0/16] }\n"
	"  dmz: { tier: dmz, interfaces: [e2], networks: [10.40.0.0/24] }\n"
	"schedules:\n"
	"  office: { days: [mon, tue, wed, thu, fri], hours: [\"08:30-18:15\"],"
	" holidays: hol/days.yaml }\n"
	"flows:\n"
	"  - name: a\n"
	"    from: lgwan\n"
	"    to: dmz\n"
	"    services: [tcp/443]\n"
	"    schedule: office\n";

static const char days_yaml[] = "- 2026-11-03\n- 2026-11-23\n";
static const char other_days_yaml[] = "- 2026-11-04\n";

/* 2026-11-01T00:00Z: the compile time recorded */
#define AT ((time_t)1793491200)

struct fx {
	char dir[64];		/* scratch: src/ and state/ */
	char src[96];		/* the zone file's directory */
	char state[96];
	char zone[128];
};

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void putf(struct fx *fx, const char *rel, const char *text)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", fx->dir, rel);
	put(p, text, 0600);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char p[160];

	strcpy(fx->dir, "/tmp/sanso-deploy-XXXXXX");
	if (!fx || !mkdtemp(fx->dir))
		return -1;
	snprintf(fx->src, sizeof(fx->src), "%s/src", fx->dir);
	snprintf(fx->state, sizeof(fx->state), "%s/state", fx->dir);
	snprintf(fx->zone, sizeof(fx->zone), "%s/zones.yaml", fx->src);
	snprintf(p, sizeof(p), "%s/hol", fx->src);
	if (mkdir(fx->src, 0700) || mkdir(p, 0700))
		return -1;
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

static bool exists(const char *dir, const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return !lstat(p, &st);
}

/* ---- F13 ---- */

static void state_dir_refused(void **state)
{
	struct fx *fx = *state;
	char err[512] = "";

	assert_int_equal(mkdir(fx->state, 0700), 0);
	assert_int_equal(chmod(fx->state, 0770), 0);
	assert_int_equal(deploy_state_init(fx->state, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "refused"));
	assert_non_null(strstr(err, "0770"));
	assert_false(exists(fx->state, "deploy"));

	err[0] = '\0';
	assert_int_equal(deploy_lock(fx->state, 0, err, sizeof(err)), -EPERM);
	assert_false(exists(fx->state, "lock"));

	assert_int_equal(chmod(fx->state, 0703), 0);
	assert_int_equal(deploy_state_init(fx->state, err, sizeof(err)),
			 -EPERM);

	/* Group read and the setgid bit of the package's 2750 are fine. */
	assert_int_equal(chmod(fx->state, 02750), 0);
	assert_int_equal(deploy_state_init(fx->state, err, sizeof(err)), 0);
	assert_true(exists(fx->state, "deploy"));
}

static void state_dir_other_owner(void **state)
{
	struct fx *fx = *state;
	char err[512] = "";

	if (geteuid() != 0)
		skip();
	assert_int_equal(mkdir(fx->state, 0700), 0);
	assert_int_equal(chown(fx->state, 65534, 65534), 0);
	assert_int_equal(deploy_state_init(fx->state, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "uid 65534"));
	assert_false(exists(fx->state, "deploy"));
}

static void state_dir_missing(void **state)
{
	struct fx *fx = *state;
	char err[512] = "";

	assert_int_equal(deploy_lock(fx->state, 0, err, sizeof(err)), -ENOENT);
	assert_false(exists(fx->dir, "state"));
	assert_int_equal(deploy_state_init(fx->state, err, sizeof(err)), 0);
	assert_true(exists(fx->state, "deploy"));
}

/* ---- F5 ---- */

static void lock_excludes(void **state)
{
	struct fx *fx = *state;
	char err[512] = "";
	int fd, st, pipefd[2];
	pid_t pid;
	char c;

	assert_int_equal(deploy_state_init(fx->state, err, sizeof(err)), 0);
	fd = deploy_lock(fx->state, 0, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char e[512];
		int r;

		/* The parent's copy would hold the lock for this process. */
		close(fd);
		r = deploy_lock(fx->state, 0, e, sizeof(e));

		if (r != -EWOULDBLOCK || !strstr(e, "still holds"))
			_exit(1);
		/* Waits, then gets it once the parent lets go. */
		if (write(pipefd[1], "x", 1) != 1)
			_exit(2);
		r = deploy_lock(fx->state, 10, e, sizeof(e));
		_exit(r >= 0 ? 0 : 3);
	}
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	usleep(300000);
	deploy_unlock(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* ---- F14 ---- */

static void on_alarm(int sig)
{
	(void)sig;
	_exit(99);
}

static void fifo_holiday_file(void **state)
{
	struct fx *fx = *state;
	struct diags d = { 0 };
	struct model *m;
	char p[160];
	bool found = false;

	snprintf(p, sizeof(p), "%s/hol/days.yaml", fx->src);
	assert_int_equal(mkfifo(p, 0600), 0);
	put(fx->zone, zone_yaml, 0600);
	/* Blocking in open() would hang the test: let the alarm fail it. */
	signal(SIGALRM, on_alarm);
	alarm(5);
	m = model_load(fx->zone, &d);
	alarm(0);
	assert_non_null(m);
	for (size_t i = 0; i < d.n; i++)
		if (!strcmp(d.v[i].code, "E002") &&
		    strstr(d.v[i].msg, "not a regular file") &&
		    strstr(d.v[i].msg, "hol/days.yaml"))
			found = true;
	assert_true(found);
	model_free(m);
	diags_free(&d);

	/* A FIFO as the zone file itself: refused the same way. */
	memset(&d, 0, sizeof(d));
	alarm(5);
	errno = 0;
	m = model_load(p, &d);
	alarm(0);
	assert_null(m);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(d.v[0].msg, "not a regular file"));
	diags_free(&d);
	errno = 0;
	assert_null(model_read_file(p, 1024, &(size_t){ 0 }));
	assert_int_equal(errno, EINVAL);
}

/* A diagnostic about a holiday file: its message, or NULL. */
static const char *holiday_msg(const char *zone)
{
	static char msg[256];
	struct diags d = { 0 };
	struct model *m = model_load(zone, &d);
	const char *r = NULL;

	for (size_t i = 0; i < d.n && !r; i++)
		if (!strcmp(d.v[i].code, "E008")) {
			snprintf(msg, sizeof(msg), "%s", d.v[i].msg);
			r = msg;
		}
	model_free(m);
	diags_free(&d);
	return r;
}

/* What a holiday file outside the zone file's directory holds is not
 * quoted back (a proposed zone file naming /etc/shadow, or a link to it,
 * checked as root in CI); beside the zone file it is. */
static void holiday_outside_redacted(void **state)
{
	struct fx *fx = *state;
	const char *msg;
	char p[192], t[192];

	put(fx->zone, zone_yaml, 0600);
	putf(fx, "src/hol/days.yaml", "- secret-beside\n");
	msg = holiday_msg(fx->zone);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "secret-beside"));

	/* hol/days.yaml a link to a file outside */
	putf(fx, "outside.yaml", "- secret-outside\n- 2026-13-45\n");
	snprintf(p, sizeof(p), "%s/hol/days.yaml", fx->src);
	snprintf(t, sizeof(t), "%s/outside.yaml", fx->dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(t, p), 0);
	msg = holiday_msg(fx->zone);
	assert_non_null(msg);
	assert_null(strstr(msg, "secret-outside"));
	assert_non_null(strstr(msg, "<not shown>"));

	/* A date-like mistake is still shown. */
	putf(fx, "outside.yaml", "- 2026-13-45\n");
	msg = holiday_msg(fx->zone);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "2026-13-45"));
}

/* ---- F3 ---- */

/* The ruleset's text as compiled from the zone file now. */
static char *compile_now(struct fx *fx, struct model **keep)
{
	struct model_opts o = { .dir = fx->src, .keep = true };
	struct diags d = { 0 };
	struct model *m;
	struct policy *p;
	struct ruleset *rs;
	size_t len;
	char *buf = model_read_file(fx->zone, MODEL_MAX_FILE_BYTES, &len);
	char *text = NULL;
	FILE *f;

	assert_non_null(buf);
	m = model_load_opts(fx->zone, buf, len, &o, &d);
	assert_non_null(m);
	assert_int_equal(d.errors, 0);
	p = policy_build(m);
	assert_non_null(p);
	rs = ruleset_build(p, "sanso", AT);
	assert_non_null(rs);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(ruleset_print(rs, f), 0);
	fclose(f);
	ruleset_free(rs);
	policy_free(p);
	diags_free(&d);
	free(buf);
	*keep = m;
	return text;
}

static char *rebuilt_text(struct fx *fx, const struct deployment *dep,
			  int *ret, char *err, size_t errlen)
{
	struct ruleset *rs = NULL;
	char *text = NULL;
	size_t len;
	FILE *f;

	err[0] = '\0';
	*ret = deploy_rebuild(fx->state, dep, &rs, err, errlen);
	if (*ret)
		return NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(ruleset_print(rs, f), 0);
	fclose(f);
	ruleset_free(rs);
	return text;
}

static void hex(const uint8_t *md, char *out)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Writes deployment 1 by hand as deploy_record() lays it out (that one
 * needs the kernel for the ruleset digest). */
static void record_by_hand(struct fx *fx, const struct model *m,
			   bool copies, struct deployment *dep)
{
	char sum[65], zsum[65], p[256], rec[2048];
	size_t n;

	assert_int_equal(m->n_holiday_files, 1);
	assert_string_equal(m->holiday_files[0].ref, "hol/days.yaml");
	hex(m->holiday_files[0].sha256, sum);
	hex(m->sha256, zsum);
	assert_int_equal(mkdir(fx->state, 0700), 0);
	putf(fx, "state/current", "1\n");
	snprintf(p, sizeof(p), "%s/deploy", fx->state);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/deploy/1", fx->state);
	assert_int_equal(mkdir(p, 0750), 0);
	putf(fx, "state/deploy/1/zones.yaml", zone_yaml);
	n = (size_t)snprintf(rec, sizeof(rec), "id 1\nprevious 0\n"
			     "time %lld\nat %lld\nuser unit\ntable sanso\n"
			     "zone_file %s\nzone_sha256 %s\nruleset_sha256 x\n"
			     "site unit\ntimezone Asia/Tokyo\n", (long long)AT,
			     (long long)AT, fx->zone, zsum);
	if (copies) {
		snprintf(rec + n, sizeof(rec) - n, "holiday_files 1\n"
			 "holiday 1 %s hol/days.yaml\n", sum);
		/* the bytes kept are not a C string */
		assert_int_equal(m->holiday_files[0].len, strlen(days_yaml));
		assert_memory_equal(m->holiday_files[0].data, days_yaml,
				    strlen(days_yaml));
		putf(fx, "state/deploy/1/holiday-1.yaml", days_yaml);
	}
	putf(fx, "state/deploy/1/record", rec);
	assert_int_equal(deploy_current(fx->state, dep), 0);
}

static void rebuild_from_copies(void **state)
{
	struct fx *fx = *state;
	struct deployment dep;
	struct model *m = NULL;
	char *want, *got, *changed, err[1024], p[256];
	int ret;

	put(fx->zone, zone_yaml, 0600);
	putf(fx, "src/hol/days.yaml", days_yaml);
	want = compile_now(fx, &m);
	record_by_hand(fx, m, true, &dep);
	model_free(m);
	assert_int_equal(dep.holiday_files, 1);

	/* The holiday file changes: the table from it would differ ... */
	putf(fx, "src/hol/days.yaml", other_days_yaml);
	changed = compile_now(fx, &m);
	model_free(m);
	assert_string_not_equal(want, changed);
	/* ... but the deployment rebuilds what it recorded. */
	got = rebuilt_text(fx, &dep, &ret, err, sizeof(err));
	assert_int_equal(ret, 0);
	assert_string_equal(err, "");
	assert_string_equal(want, got);
	free(got);

	/* The whole source directory gone: still the same. */
	snprintf(p, sizeof(p), "rm -rf '%s'", fx->src);
	assert_int_equal(system(p), 0);
	got = rebuilt_text(fx, &dep, &ret, err, sizeof(err));
	assert_int_equal(ret, 0);
	assert_string_equal(want, got);
	free(got);

	/* A copy that is not what was recorded is refused, not used. */
	putf(fx, "state/deploy/1/holiday-1.yaml", other_days_yaml);
	got = rebuilt_text(fx, &dep, &ret, err, sizeof(err));
	assert_null(got);
	assert_int_equal(ret, -EBADMSG);
	assert_non_null(strstr(err, "holiday-1.yaml"));

	/* A missing copy: a clear error too. */
	snprintf(p, sizeof(p), "%s/deploy/1/holiday-1.yaml", fx->state);
	assert_int_equal(unlink(p), 0);
	got = rebuilt_text(fx, &dep, &ret, err, sizeof(err));
	assert_null(got);
	assert_int_equal(ret, -ENOENT);
	assert_non_null(strstr(err, "holiday-1.yaml"));

	/* And a zone file copy that is not the recorded one. */
	putf(fx, "state/deploy/1/holiday-1.yaml", days_yaml);
	putf(fx, "state/deploy/1/zones.yaml", "version: 1\n");
	got = rebuilt_text(fx, &dep, &ret, err, sizeof(err));
	assert_null(got);
	assert_int_equal(ret, -EBADMSG);
	assert_non_null(strstr(err, "zones.yaml"));
	free(changed);
	free(want);
}

/* Recorded by the previous version: no copies, the original paths. */
static void rebuild_old_record(void **state)
{
	struct fx *fx = *state;
	struct deployment dep;
	struct model *m = NULL;
	char *want, *got, err[1024], p[256];
	int ret;

	put(fx->zone, zone_yaml, 0600);
	putf(fx, "src/hol/days.yaml", days_yaml);
	want = compile_now(fx, &m);
	record_by_hand(fx, m, false, &dep);
	model_free(m);
	assert_int_equal(dep.holiday_files, -1);

	got = rebuilt_text(fx, &dep, &ret, err, sizeof(err));
	assert_int_equal(ret, 0);
	assert_string_equal(want, got);
	/* It works, and says where the holiday file came from. */
	assert_non_null(strstr(err, "without copies"));
	assert_non_null(strstr(err, "hol/days.yaml"));
	free(got);

	snprintf(p, sizeof(p), "%s/hol/days.yaml", fx->src);
	assert_int_equal(unlink(p), 0);
	got = rebuilt_text(fx, &dep, &ret, err, sizeof(err));
	assert_null(got);
	assert_int_not_equal(ret, 0);
	assert_non_null(strstr(err, "cannot read holiday file"));
	free(want);
}

/* Two schedules naming one file: read once, one copy. */
static void holiday_file_read_once(void **state)
{
	struct fx *fx = *state;
	static const char two[] =
		"version: 1\nsite: u\n"
		"zones:\n"
		"  lgwan: { tier: lgwan, interfaces: [e1],"
		" networks: [10.20.0.0/16] }\n"
		"schedules:\n"
		"  a: { days: [mon], hours: [\"08:00-09:00\"],"
		" holidays: hol/days.yaml }\n"
		"  b: { days: [tue], hours: [\"08:00-09:00\"],"
		" holidays: hol/days.yaml }\n";
	struct model_opts o = { .dir = fx->src, .keep = true };
	struct diags d = { 0 };
	struct model *m;

	putf(fx, "src/hol/days.yaml", days_yaml);
	m = model_load_opts("two.yaml", two, strlen(two), &o, &d);
	assert_non_null(m);
	assert_int_equal(d.errors, 0);
	assert_int_equal(m->n_holiday_files, 1);
	assert_int_equal(m->holiday_files[0].len, strlen(days_yaml));
	assert_memory_equal(m->holiday_files[0].data, days_yaml,
			    strlen(days_yaml));
	assert_int_equal(m->schedules[0].n_holidays, 2);
	assert_int_equal(m->schedules[1].n_holidays, 2);
	model_free(m);
	diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(state_dir_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(state_dir_other_owner, setup,
						teardown),
		cmocka_unit_test_setup_teardown(state_dir_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(lock_excludes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(holiday_outside_redacted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_holiday_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rebuild_from_copies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rebuild_old_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(holiday_file_read_once, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
