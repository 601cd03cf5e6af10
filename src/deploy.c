// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Deployments in the state directory, the carry-over of FQDN set
 * elements, rollback and the commit-confirmed timer.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libnftnl/set.h>
#include <openssl/evp.h>

#include "alert.h"
#include "check.h"
#include "deploy.h"
#include "json.h"
#include "diag.h"
#include "i18n.h"
#include "kernel.h"
#include "kdelta.h"
#include "kernel_dump.h"
#include "model.h"
#include "nft_netlink.h"
#include "policy.h"
#include "sched.h"

static int path_of(char *buf, size_t n, const char *state, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static int path_of(char *buf, size_t n, const char *state, const char *fmt,
		   ...)
{
	va_list ap;
	int len = snprintf(buf, n, "%s/", state);

	if (len < 0 || (size_t)len >= n)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	len += vsnprintf(buf + len, n - (size_t)len, fmt, ap);
	va_end(ap);
	return (size_t)len >= n ? -ENAMETOOLONG : 0;
}

/* A rename, an unlink or a mkdir is durable only once the directory
 * holding it is synced. */
static int sync_dir_of(const char *path)
{
	char dir[4200];
	int fd, ret = 0;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

/* Writes a whole file through a temporary and a rename, so a reader (or
 * a crash) never sees half of it, and a power cut after it returns
 * cannot take it back. */
static int write_atomic(const char *path, const void *buf, size_t len,
			mode_t mode)
{
	char tmp[4200];
	const char *p = buf;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* A temporary left by a crash is ours (the state lock keeps other
	 * writers out); O_EXCL then never writes through what another
	 * process may have put in its place. */
	if (unlink(tmp) && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	else
		ret = sync_dir_of(path);
	return ret;
}

static int remove_synced(const char *path)
{
	if (unlink(path))
		return errno == ENOENT ? 0 : -errno;
	return sync_dir_of(path);
}

/* Root rebuilds rulesets at boot from what this directory holds: one
 * that someone else owns or may write is refused (SECURITY.md F13). */
static int state_check(const char *state, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	if (lstat(state, &st)) {
		ret = -errno;
		snprintf(err, errlen, _("state directory %s: %s"), state,
			 strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, _("state directory %s: not a directory"),
			 state);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(err, errlen, _("state directory %s: refused: it is "
			 "owned by uid %u with mode %04o, and must belong to "
			 "uid %u and be writable by no one else (chown, chmod "
			 "go-w)"), state, (unsigned int)st.st_uid,
			 (unsigned int)(st.st_mode & 07777),
			 (unsigned int)geteuid());
		return -EPERM;
	}
	return 0;
}

/* Deployments are readable by the state directory's group (0750/0640):
 * the monitor, running as its own user in that group, compares the live
 * table with them. The key, pending and lock stay 0600; audit.log is
 * 0640 (SECURITY.md). */
int deploy_state_init(const char *state, char *err, size_t errlen)
{
	char p[4200];
	bool made = false;
	int ret;

	if (!mkdir(state, 0700))
		made = true;
	else if (errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, _("state directory %s: %s"), state,
			 strerror(-ret));
		return ret;
	}
	ret = state_check(state, err, errlen);
	if (ret)
		return ret;
	if (path_of(p, sizeof(p), state, "deploy")) {
		snprintf(err, errlen, _("state directory %s: name too long"),
			 state);
		return -ENAMETOOLONG;
	}
	if (!mkdir(p, 0750))
		ret = sync_dir_of(p);
	else if (errno != EEXIST)
		ret = -errno;
	if (!ret && made)
		ret = sync_dir_of(state);
	if (ret)
		snprintf(err, errlen, _("state directory %s: %s"), state,
			 strerror(-ret));
	return ret;
}

int deploy_lock(const char *state, int wait, char *err, size_t errlen)
{
	char p[4200];
	int fd, ret, tries = 0;

	ret = state_check(state, err, errlen);
	if (ret)
		return ret;
	if (path_of(p, sizeof(p), state, "lock"))
		return -ENAMETOOLONG;
	fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, _("%s: %s"), p, strerror(-ret));
		return ret;
	}
	for (;;) {
		if (!flock(fd, wait < 0 ? LOCK_EX : LOCK_EX | LOCK_NB))
			return fd;
		ret = -errno;
		if (ret == -EINTR)
			continue;
		if (ret != -EWOULDBLOCK || tries >= wait * 10)
			break;
		tries++;
		usleep(100000);
	}
	if (ret == -EWOULDBLOCK)
		snprintf(err, errlen, _("another apply, confirm or rollback "
			 "still holds %s after %d s; try again later"), p, wait);
	else
		snprintf(err, errlen, _("%s: %s"), p, strerror(-ret));
	close(fd);
	return ret;
}

void deploy_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -errno;
	buf[r] = '\0';
	return 0;
}

static void field(char *dst, size_t n, const char *val)
{
	size_t len = strnlen(val, n - 1);

	memcpy(dst, val, len);
	dst[len] = '\0';
}

static int record_parse(const char *text, struct deployment *d)
{
	const char *line = text;

	memset(d, 0, sizeof(*d));
	d->holiday_files = -1;
	d->canon = 1;	/* a record of 0.1 has no "canon" line */
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *sp = memchr(line, ' ', len);
		char key[32], val[4200];
		size_t kl;

		if (sp && (kl = (size_t)(sp - line)) < sizeof(key) &&
		    len - kl - 1 < sizeof(val)) {
			long long v;

			memcpy(key, line, kl);
			key[kl] = '\0';
			memcpy(val, sp + 1, len - kl - 1);
			val[len - kl - 1] = '\0';
			v = strtoll(val, NULL, 10);
			if (!strcmp(key, "id"))
				d->id = (unsigned int)v;
			else if (!strcmp(key, "previous"))
				d->previous = (unsigned int)v;
			else if (!strcmp(key, "time"))
				d->time = (time_t)v;
			else if (!strcmp(key, "at"))
				d->at = (time_t)v;
			else if (!strcmp(key, "user"))
				field(d->user, sizeof(d->user), val);
			else if (!strcmp(key, "table"))
				field(d->table, sizeof(d->table), val);
			else if (!strcmp(key, "zone_file"))
				field(d->zone_file, sizeof(d->zone_file), val);
			else if (!strcmp(key, "zone_sha256"))
				field(d->zone_sha256, sizeof(d->zone_sha256), val);
			else if (!strcmp(key, "ruleset_sha256"))
				field(d->ruleset_sha256, sizeof(d->ruleset_sha256), val);
			else if (!strcmp(key, "timezone"))
				field(d->timezone, sizeof(d->timezone), val);
			else if (!strcmp(key, "site"))
				field(d->site, sizeof(d->site), val);
			else if (!strcmp(key, "audit_head"))
				field(d->audit_head, sizeof(d->audit_head),
				      val);
			else if (!strcmp(key, "canon"))
				d->canon = v >= 1 && v <= KERNEL_CANON_VERSION ?
					   (int)v : -1;
			else if (!strcmp(key, "holiday_files"))
				d->holiday_files = v >= 0 && v <= 1024 ?
						   (int)v : -1;
		}
		line = nl ? nl + 1 : NULL;
	}
	return d->id ? 0 : -EINVAL;
}

/* Records name up to 64 holiday files, each up to a scalar's length. */
#define RECORD_MAX (1u << 20)

static int record_text(const char *state, unsigned int id, char **text)
{
	char p[4200];
	size_t len;

	if (path_of(p, sizeof(p), state, "deploy/%u/record", id))
		return -ENAMETOOLONG;
	*text = model_read_file(p, RECORD_MAX, &len);
	return *text ? 0 : -errno;
}

int deploy_load(const char *state, unsigned int id, struct deployment *out)
{
	char *text = NULL;
	int ret = record_text(state, id, &text);

	if (!ret)
		ret = record_parse(text, out);
	free(text);
	return ret;
}

int deploy_current(const char *state, struct deployment *out)
{
	char p[4200], buf[32];
	int ret;

	if (path_of(p, sizeof(p), state, "current"))
		return -ENAMETOOLONG;
	ret = read_small(p, buf, sizeof(buf));
	if (ret)
		return ret;
	return deploy_load(state, (unsigned int)strtoul(buf, NULL, 10), out);
}

static int set_current(const char *state, unsigned int id)
{
	char p[4200], buf[32];

	if (path_of(p, sizeof(p), state, "current"))
		return -ENAMETOOLONG;
	if (!id)
		return remove_synced(p);
	snprintf(buf, sizeof(buf), "%u\n", id);
	return write_atomic(p, buf, strlen(buf), 0640);
}

int deploy_pending(const char *state, struct pending *out)
{
	char p[4200], buf[512];
	long long id = 0, prev = 0, dl = 0, pid = 0;
	int ret;

	if (path_of(p, sizeof(p), state, "pending"))
		return -ENAMETOOLONG;
	ret = read_small(p, buf, sizeof(buf));
	if (ret)
		return ret;
	out->unit[0] = '\0';
	if (sscanf(buf, "id %lld\nprevious %lld\ndeadline %lld\npid %lld"
		   "\nunit %63s", &id, &prev, &dl, &pid, out->unit) < 4)
		return -EINVAL;
	if (!strcmp(out->unit, "-"))
		out->unit[0] = '\0';
	out->id = (unsigned int)id;
	out->previous = (unsigned int)prev;
	out->deadline = (time_t)dl;
	out->pid = (long)pid;
	return 0;
}

static void user_name(char *buf, size_t n)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw = getpwuid(getuid());

	/* The person behind sudo is who the record should name. */
	if (sudo && *sudo && getuid() == 0)
		snprintf(buf, n, "%s (via sudo)", sudo);
	else
		snprintf(buf, n, "%s", pw ? pw->pw_name : "?");
}

/* One JSON line per apply, confirm and rollback, in the HMAC chain of
 * SPEC §8 so that a deleted or edited record shows (sanso verify-log). */
int deploy_audit(const char *state, const char *action,
		 const struct deployment *d, const char *detail)
{
	char p[4200], when[48], *obj = NULL;
	struct deployment cur;
	json_t *o;
	int err;
	struct timespec ts;
	size_t len = 0;
	FILE *f;
	int ret;

	if (path_of(p, sizeof(p), state, "audit.log"))
		return -ENAMETOOLONG;
	f = open_memstream(&obj, &len);
	if (!f)
		return -errno;
	/* SPEC §8: one timezone, the site's: without a deployment, the
	 * current one's; with none, the system's (Debian's tzdata links
	 * zoneinfo/localtime to /etc/localtime). */
	clock_gettime(CLOCK_REALTIME, &ts);
	tz_format_rfc3339(d && d->timezone[0] ? d->timezone :
			  !deploy_current(state, &cur) && cur.timezone[0] ?
			  cur.timezone : "localtime", ts.tv_sec,
			  (int)(ts.tv_nsec / 1000000), when, sizeof(when));
	o = json_object();
	err = o ? 0 : -ENOMEM;
	jx_set(o, "time", jx_str(when), &err);
	jx_set(o, "action", jx_str(action), &err);
	jx_set(o, "deployment", json_integer(d ? d->id : 0), &err);
	jx_set(o, "previous", json_integer(d ? d->previous : 0), &err);
	jx_set(o, "user", jx_str(d ? d->user : NULL), &err);
	jx_set(o, "table", jx_str(d ? d->table : NULL), &err);
	jx_set(o, "zone_file", jx_str(d ? d->zone_file : NULL), &err);
	jx_set(o, "zone_sha256", jx_str(d ? d->zone_sha256 : NULL), &err);
	jx_set(o, "ruleset_sha256", jx_str(d ? d->ruleset_sha256 : NULL),
	       &err);
	jx_set(o, "detail", jx_str(detail), &err);
	if (!err)
		err = jx_print(f, o);
	else
		json_decref(o);
	if (err) {
		fclose(f);
		free(obj);
		return err;
	}
	if (fclose(f)) {
		free(obj);
		return -errno;
	}
	ret = audit_append(state, p, obj);
	free(obj);
	return ret;
}

/* ---- committing ---- */

struct carry {
	struct nftnl_set *set;
	size_t n;
};

static int carry_elem(struct nftnl_set_elem *e, void *arg)
{
	struct carry *c = arg;
	struct nftnl_set_elem *ne;
	const void *key;
	uint32_t len;
	uint64_t left;

	if (!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		return 0;
	left = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	if (left < 1000)
		return 0;	/* about to go anyway */
	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	ne = nftnl_set_elem_alloc();
	if (!ne)
		return -ENOMEM;
	nftnl_set_elem_set(ne, NFTNL_SET_ELEM_KEY, key, len);
	nftnl_set_elem_set_u64(ne, NFTNL_SET_ELEM_TIMEOUT, left);
	nftnl_set_elem_add(c->set, ne);
	c->n++;
	return 0;
}

/* Adds to the batch the live elements of every FQDN set, with the time
 * they have left, so that a new ruleset does not cut the update relays
 * off until the next DNS answer. */
static int carry_over(const struct ruleset *rs, struct kbatch *b)
{
	int ret = 0;

	if (kernel_table_exists(NFPROTO_INET, rs->table) <= 0)
		return 0;
	for (size_t i = 0; i < rs->n_sets && !ret; i++) {
		const struct rs_set *s = rs->sets[i];
		struct carry c = { 0 };

		if (s->kind != RS_TIMEOUT)
			continue;
		c.set = nftnl_set_alloc();
		if (!c.set)
			return -ENOMEM;
		nftnl_set_set_u32(c.set, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_set_str(c.set, NFTNL_SET_TABLE, rs->table);
		nftnl_set_set_str(c.set, NFTNL_SET_NAME, s->name);
		ret = kernel_list_set_elements(NFPROTO_INET, rs->table, s->name,
					       carry_elem, &c);
		if (ret == -ENOENT)
			ret = 0;	/* a new set: nothing to carry */
		if (!ret && c.n) {
			ret = kbatch_add_elems(b, c.set);
			ret = ret < 0 ? ret : 0;	/* a count of messages */
		}
		nftnl_set_free(c.set);
	}
	return ret;
}

/* The batch that loads `rs` and carries the live FQDN set elements
 * over; NULL with err set. */
static struct kbatch *deploy_batch(const struct ruleset *rs,
				   struct nftnl_set_list *sent, char *err,
				   size_t errlen)
{
	struct kbatch *b = kbatch_new();
	int ret;

	if (!b) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	ret = ruleset_to_batch_sent(rs, b, sent);
	if (ret) {
		snprintf(err, errlen, _("building the batch: %s"), strerror(-ret));
		goto fail;
	}
	ret = carry_over(rs, b);
	if (ret) {
		snprintf(err, errlen, _("reading the live FQDN sets: %s"),
			 strerror(-ret));
		goto fail;
	}
	return b;
fail:
	kbatch_free(b);
	errno = -ret;
	return NULL;
}

int deploy_commit(const struct ruleset *rs, bool dry_run, char *err,
		  size_t errlen)
{
	struct kbatch *b = deploy_batch(rs, NULL, err, errlen);
	int ret;

	if (!b)
		return -errno;
	ret = kbatch_commit(b, dry_run, err, errlen);
	kbatch_free(b);
	return ret;
}

static unsigned int next_id(const char *state)
{
	char p[4200];
	struct stat st;
	unsigned int id = 1;
	struct deployment cur;

	if (!deploy_current(state, &cur))
		id = cur.id + 1;
	/* Never reuse a number, even after rollbacks. */
	for (;;) {
		if (path_of(p, sizeof(p), state, "deploy/%u", id) ||
		    stat(p, &st))
			return id;
		id++;
	}
}

static void hex(const uint8_t *md, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void sha256_hex(const char *buf, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned int n = 32;

	if (!EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL))
		memset(md, 0, sizeof(md));
	hex(md, sizeof(md), out);
}

/* The record: "key value" lines (struct deployment), then one line per
 * holiday file copy, "holiday K SHA256 REF", REF to the end of the line. */
static char *record_format(const struct deployment *d, const struct model *m)
{
	char *rec = NULL, sum[65];
	size_t len = 0;
	FILE *f = open_memstream(&rec, &len);

	if (!f)
		return NULL;
	fprintf(f, "id %u\nprevious %u\ntime %lld\nat %lld\nuser %s\n"
		"table %s\nzone_file %s\nzone_sha256 %s\nruleset_sha256 %s\n"
		"site %s\ntimezone %s\nholiday_files %zu\n", d->id,
		d->previous, (long long)d->time, (long long)d->at, d->user,
		d->table, d->zone_file, d->zone_sha256, d->ruleset_sha256,
		d->site, d->timezone, m->n_holiday_files);
	if (d->audit_head[0])
		fprintf(f, "audit_head %s\n", d->audit_head);
	fprintf(f, "canon %d\n", KERNEL_CANON_VERSION);
	for (size_t i = 0; i < m->n_holiday_files; i++) {
		hex(m->holiday_files[i].sha256, 32, sum);
		fprintf(f, "holiday %zu %s %s\n", i + 1, sum,
			m->holiday_files[i].ref);
	}
	if (fclose(f)) {
		free(rec);
		return NULL;
	}
	return rec;
}

/* The audit log's head, kept in the record too: verify-log then finds
 * a log cut short even when chain/ went with it. */
static void deploy_audit_head(const char *state, char *buf, size_t n)
{
	struct audit_chain c;
	char p[4200];

	buf[0] = '\0';
	if (!path_of(p, sizeof(p), state, "audit.log") &&
	    !audit_log_head(state, p, &c) && c.seq)
		audit_head_format(&c, buf, n);
}

/* Writes deploy/N of `d` (d->id set): the zone file and holiday file
 * copies, then the record. */
static int record_write(const char *state, const struct deployment *d,
			const char *zone, size_t zone_len,
			const struct model *m)
{
	char p[4200], *rec = NULL;
	int ret;

	if (path_of(p, sizeof(p), state, "deploy/%u", d->id))
		return -ENAMETOOLONG;
	if (mkdir(p, 0750) && errno != EEXIST)
		return -errno;
	ret = sync_dir_of(p);
	if (ret)
		return ret;
	if (path_of(p, sizeof(p), state, "deploy/%u/zones.yaml", d->id))
		return -ENAMETOOLONG;
	ret = write_atomic(p, zone, zone_len, 0640);
	for (size_t i = 0; i < m->n_holiday_files && !ret; i++) {
		const struct model_file *f = &m->holiday_files[i];

		if (path_of(p, sizeof(p), state, "deploy/%u/holiday-%zu.yaml",
			    d->id, i + 1))
			ret = -ENAMETOOLONG;
		else
			ret = write_atomic(p, f->data, f->len, 0640);
	}
	if (ret)
		return ret;
	rec = record_format(d, m);
	if (!rec)
		return -ENOMEM;
	/* Written last: a record names only copies that are there. */
	if (path_of(p, sizeof(p), state, "deploy/%u/record", d->id))
		ret = -ENAMETOOLONG;
	else
		ret = write_atomic(p, rec, strlen(rec), 0640);
	free(rec);
	return ret;
}

static void copies_free(struct model_file *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].ref);
		free(v[i].data);
	}
	free(v);
}

/* The holiday file copies of a deployment, each checked against the
 * SHA-256 its record gives. */
static int read_copies(const char *state, const struct deployment *d,
		       struct model_file **out, size_t *n_out, char *err,
		       size_t errlen)
{
	struct model_file *v = NULL;
	char *text = NULL, *line, p[4200], sum[65];
	size_t n = 0;
	int ret = record_text(state, d->id, &text);

	if (ret) {
		snprintf(err, errlen, _("deployment %u: its record: %s"), d->id,
			 strerror(-ret));
		return ret;
	}
	v = calloc((size_t)d->holiday_files + 1, sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	for (line = text; line && *line && !ret;) {
		char *nl = strchr(line, '\n'), *want, *ref, *end;
		unsigned long k;

		if (nl)
			*nl = '\0';
		if (!strncmp(line, "holiday ", 8)) {
			errno = 0;
			k = strtoul(line + 8, &end, 10);
			want = end + 1;
			ref = want + 65;
			if (errno || end == line + 8 || *end != ' ' ||
			    strnlen(want, 65) < 65 || want[64] != ' ' ||
			    !*ref || n >= (size_t)d->holiday_files ||
			    k != n + 1) {
				snprintf(err, errlen, _("deployment %u: its "
					 "record has a bad holiday line"),
					 d->id);
				ret = -EINVAL;
				break;
			}
			want[64] = '\0';
			v[n].ref = strdup(ref);
			if (!v[n].ref ||
			    path_of(p, sizeof(p), state,
				    "deploy/%u/holiday-%lu.yaml", d->id, k)) {
				free(v[n].ref);
				v[n].ref = NULL;
				ret = -ENOMEM;
				break;
			}
			v[n].data = model_read_file(p, MODEL_MAX_FILE_BYTES,
						    &v[n].len);
			n++;
			if (!v[n - 1].data) {
				ret = -errno;
				snprintf(err, errlen, _("deployment %u: %s: %s"),
					 d->id, p, strerror(-ret));
				break;
			}
			sha256_hex(v[n - 1].data, v[n - 1].len, sum);
			if (strcmp(sum, want)) {
				snprintf(err, errlen, _("deployment %u: %s is "
					 "not the copy it recorded (SHA-256 "
					 "differs)"), d->id, p);
				ret = -EBADMSG;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!ret && n != (size_t)d->holiday_files) {
		snprintf(err, errlen, _("deployment %u: its record lists %zu of "
			 "its %d holiday file copies"), d->id, n,
			 d->holiday_files);
		ret = -EINVAL;
	}
out:
	free(text);
	if (ret) {
		copies_free(v, n);
		return ret;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* The first error the loader found, for a one-line message. */
static const struct diag *first_error(const struct diags *dg)
{
	for (size_t i = 0; i < dg->n; i++)
		if (dg->v[i].sev == DIAG_ERROR)
			return &dg->v[i];
	return NULL;
}

int deploy_rebuild(const char *state, const struct deployment *d,
		   struct ruleset **out, char *err, size_t errlen)
{
	char p[4200], dir[4096], sum[65];
	struct diags dg = { 0 };
	struct model_opts o = { 0 };
	struct model_file *copies = NULL;
	struct model *m = NULL;
	struct policy *pol = NULL;
	const struct diag *e;
	char *buf = NULL;
	size_t len = 0, n_copies = 0;
	int ret;

	*out = NULL;
	if (path_of(p, sizeof(p), state, "deploy/%u/zones.yaml", d->id))
		return -ENAMETOOLONG;
	buf = model_read_file(p, MODEL_MAX_FILE_BYTES, &len);
	if (!buf) {
		ret = -errno;
		snprintf(err, errlen, _("%s: %s"), p, strerror(-ret));
		return ret;
	}
	sha256_hex(buf, len, sum);
	if (d->zone_sha256[0] && strcmp(sum, d->zone_sha256)) {
		snprintf(err, errlen, _("deployment %u: %s is not the zone file "
			 "it recorded (SHA-256 differs)"), d->id, p);
		ret = -EBADMSG;
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", d->zone_file);
	o.dir = dirname(dir);
	/* Recorded by an older sanso, without copies: the files where the
	 * zone file named them are all there is. */
	if (d->holiday_files >= 0) {
		ret = read_copies(state, d, &copies, &n_copies, err, errlen);
		if (ret)
			goto out;
		o.sealed = true;
		o.files = copies;
		o.n_files = n_copies;
	}
	m = model_load_opts(d->zone_file, buf, len, &o, &dg);
	e = first_error(&dg);
	if (!m || dg.errors) {
		ret = m ? -EINVAL : -errno;
		if (e)
			snprintf(err, errlen, _("deployment %u: its zone file no "
				 "longer loads: %s:%d: %s"), d->id,
				 e->loc.file ? e->loc.file : "?", e->loc.line,
				 e->msg);
		else
			snprintf(err, errlen, _("deployment %u: its zone file no "
				 "longer loads: %s"), d->id, strerror(-ret));
		goto out;
	}
	pol = policy_build(m);
	if (!pol) {
		ret = -(errno ? errno : ENOMEM);
		goto out;
	}
	*out = ruleset_build(pol, d->table, d->at);
	ret = *out ? 0 : -(errno ? errno : ENOMEM);
	/* The ruleset borrows the model: keep both alive with it. */
	if (!ret) {
		if (d->holiday_files < 0 && m->n_holiday_files)
			snprintf(err, errlen, _("deployment %u was recorded "
				 "without copies of its holiday files (by an "
				 "older sanso): read %s%s from where its zone "
				 "file names it"), d->id,
				 m->holiday_files[0].path,
				 m->n_holiday_files > 1 ? " and others" : "");
		(*out)->owned_model = m;
		(*out)->owned_policy = pol;
		m = NULL;
		pol = NULL;
	}
out:
	policy_free(pol);
	model_free(m);
	diags_free(&dg);
	copies_free(copies, n_copies);
	free(buf);
	return ret;
}

/* ---- fault points of the test build ---- */

#ifdef SANSO_FAULTS
/* SANSO_FAULT=STEP kills the process at STEP as kill -9 would, so that
 * the lab can walk every step of apply, confirm and rollback. */
static void fault(const char *step)
{
	const char *f = getenv("SANSO_FAULT");

	if (f && !strcmp(f, step))
		raise(SIGKILL);
}

/* SANSO_FAULT=STEP makes the write at STEP fail as a full disk would. */
static int faulty(const char *step)
{
	const char *f = getenv("SANSO_FAULT");

	return f && !strcmp(f, step) ? -ENOSPC : 0;
}
#else
#define fault(step) ((void)0)
#define faulty(step) 0
#endif

/* ---- write-ahead: STATE/intent ---- */

/*
 * Written before a commit that changes which deployment is live, removed
 * once the state says so: which deployment the commit makes live, the
 * one it replaces, and the digests of both tables ("-": no table). The
 * next command that finds it with the lock free settles it by the live
 * table's digest.
 */
struct intent {
	char kind[16];		/* "apply" or "rollback" */
	unsigned int id;	/* made live by the commit (0: no table) */
	unsigned int from;	/* live before it (0: none) */
	char table[72];
	char old_sha256[65];
	char new_sha256[65];
};

static int intent_write(const char *state, const struct intent *in)
{
	char p[4200], buf[512];

	if (path_of(p, sizeof(p), state, "intent"))
		return -ENAMETOOLONG;
	snprintf(buf, sizeof(buf), "kind %s\nid %u\nfrom %u\ntable %s\n"
		 "old_sha256 %s\nnew_sha256 %s\n", in->kind, in->id, in->from,
		 in->table, in->old_sha256, in->new_sha256);
	/* Group-readable, like current: the monitor's user reads it. */
	return write_atomic(p, buf, strlen(buf), 0640);
}

static int intent_read(const char *state, struct intent *in)
{
	char p[4200], buf[512], id[12], from[12], *end;
	unsigned long v;
	int ret;

	if (path_of(p, sizeof(p), state, "intent"))
		return -ENAMETOOLONG;
	ret = read_small(p, buf, sizeof(buf));
	if (ret)
		return ret;
	memset(in, 0, sizeof(*in));
	if (sscanf(buf, "kind %15s\nid %11s\nfrom %11s\ntable %71s\n"
		   "old_sha256 %64s\nnew_sha256 %64s", in->kind, id, from,
		   in->table, in->old_sha256, in->new_sha256) != 6)
		return -EINVAL;
	errno = 0;
	v = strtoul(id, &end, 10);
	if (errno || *end || v > UINT_MAX)
		return -EINVAL;
	in->id = (unsigned int)v;
	v = strtoul(from, &end, 10);
	if (errno || *end || v > UINT_MAX)
		return -EINVAL;
	in->from = (unsigned int)v;
	return 0;
}

int deploy_intent_loads(const char *state, const char *table,
			const char *hex)
{
	struct intent in;

	if (intent_read(state, &in))
		return 0;
	return !strcmp(in.table, table) && !strcmp(in.new_sha256, hex);
}

static int intent_remove(const char *state)
{
	char p[4200];

	if (path_of(p, sizeof(p), state, "intent"))
		return -ENAMETOOLONG;
	return remove_synced(p);
}

static int pending_remove(const char *state)
{
	char p[4200];

	if (path_of(p, sizeof(p), state, "pending"))
		return -ENAMETOOLONG;
	return remove_synced(p);
}

/* The live table's digest, "-" when there is none. */
static int live_digest(const char *table, char out[65])
{
	int ret = kernel_table_digest(NFPROTO_INET, table, out);

	if (ret == -ENOENT) {
		snprintf(out, 65, "-");
		ret = 0;
	}
	return ret;
}

/* Appends `more` to the message in err, after "; " when there is one. */
static void err_add(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err_add(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strnlen(err, errlen);
	va_list ap;

	if (used + 3 >= errlen)
		return;
	if (used) {
		memcpy(err + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, _(fmt), ap);
	va_end(ap);
}

int deploy_settle(const char *state, char *note, size_t n)
{
	struct deployment d = { 0 };
	struct intent in;
	struct pending pd;
	char live[65];
	bool made;
	int ret;

	note[0] = '\0';
	ret = intent_read(state, &in);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		snprintf(note, n, "an interrupted change left %s/intent, "
			 "which cannot be read: %s", state, strerror(-ret));
		return ret;
	}
	ret = live_digest(in.table, live);
	if (ret) {
		snprintf(note, n, "settling an interrupted %s: reading table "
			 "inet %s: %s", in.kind, in.table, strerror(-ret));
		return ret;
	}
	made = !strcmp(live, in.new_sha256);
	if (in.id && deploy_load(state, in.id, &d))
		snprintf(d.table, sizeof(d.table), "%s", in.table);
	if (!strcmp(in.kind, "apply")) {
		if (made) {
			ret = set_current(state, in.id);
			if (ret)
				goto fail;
			snprintf(note, n, "an interrupted apply had loaded "
				 "deployment %u: its record is completed",
				 in.id);
		} else {
			/* Its deployment never ran: what awaited confirm
			 * goes with it. */
			if (!deploy_pending(state, &pd) && pd.id == in.id &&
			    (ret = pending_remove(state)))
				goto fail;
			snprintf(note, n, "an interrupted apply of deployment "
				 "%u never loaded it (%s): discarded", in.id,
				 strcmp(live, in.old_sha256) ? "the live table "
				 "matches neither it nor the one before" :
				 "the table before it is live");
		}
	} else {
		if (made) {
			ret = set_current(state, in.id);
			if (!ret)
				ret = pending_remove(state);
			if (ret)
				goto fail;
			snprintf(note, n, "an interrupted rollback had restored "
				 "%s%.0u: recorded", in.id ? "deployment " :
				 "no sanso table", in.id);
		} else {
			snprintf(note, n, "an interrupted rollback to %s%.0u "
				 "never loaded it: %s", in.id ? "deployment " :
				 "no sanso table", in.id, strcmp(live,
				 in.old_sha256) ? "the live table matches "
				 "neither" : "the deployment before it is live");
		}
	}
	deploy_audit(state, made ? (in.kind[0] == 'a' ? "apply-recovered" :
				    "rollback-recovered") :
		     (in.kind[0] == 'a' ? "apply-aborted" : "rollback-aborted"),
		     in.id ? &d : NULL, note);
	ret = intent_remove(state);
	if (!ret)
		return 1;
fail:
	snprintf(note, n, "settling an interrupted %s of deployment %u: %s",
		 in.kind, in.id, strerror(-ret));
	return ret;
}

/* ---- loading a recorded deployment (rollback) ---- */

/* The batch that restores deployment `id` (0: removes table `table`),
 * and the digest it leaves ("-": none). */
/* ---- progress, for the command to show ---- */

static deploy_progress_fn progress_fn;
static void *progress_ctx;

void deploy_progress(deploy_progress_fn fn, void *ctx)
{
	progress_fn = fn;
	progress_ctx = ctx;
}

static void progress(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void progress(const char *fmt, ...)
{
	char phase[160];
	va_list ap;

	if (!progress_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(phase, sizeof(phase), fmt, ap);
	va_end(ap);
	progress_fn(progress_ctx, phase);
}

/*
 * A change in place: when the live table is deployment `cur` as recorded
 * (the canonical digest of all of it, static elements included), the
 * batch of only what differs between it and `full`; the digest `hex` of
 * the table `full` loads is computed on the way. NULL to replace the
 * table whole: nothing deployed, another table, a record of 0.1, drift,
 * or a change a delta does not make (a base chain's hook or policy).
 * `how` says which, for apply's and rollback's report.
 */
static struct kbatch *in_place(const struct deployment *cur,
			       const char *table, const struct kbatch *full,
			       struct nftnl_set_list *sent, char hex[65],
			       char *how, size_t n)
{
	struct kdelta_stats st;
	struct kbatch *delta = NULL;
	char *live = NULL, *want = NULL, got[65];
	size_t live_len, want_len;
	int ret;

	snprintf(how, n, _("replaced whole"));
	ret = kbatch_table_canon(full, NFPROTO_INET, table, sent, &want,
				 &want_len);
	if (!ret)
		ret = kernel_canon_digest(want, want_len, hex);
	if (ret) {
		free(want);
		errno = -ret;
		return NULL;
	}
	if (!cur || !cur->id || strcmp(cur->table, table) ||
	    cur->canon != KERNEL_CANON_VERSION)
		goto out;
	progress(_("reading table inet %s back to compare it"), table);
	if (kernel_table_canon(NFPROTO_INET, table, &live, &live_len) ||
	    kernel_canon_digest(live, live_len, got))
		goto out;
	if (strcmp(got, cur->ruleset_sha256)) {
		snprintf(how, n, _("replaced whole: the live table is not "
			 "deployment %u as recorded"), cur->id);
		goto out;
	}
	ret = kdelta_build(live, live_len, want, want_len, full, NFPROTO_INET,
			   table, &delta, &st);
	if (ret == -ENOTSUP)
		snprintf(how, n, _("replaced whole: a base chain changed"));
	else if (!ret)
		snprintf(how, n, _("changed in place: %zu chain%s added, %zu "
			 "removed, %zu refilled; %zu set%s added, %zu removed, "
			 "%zu remade, %zu refilled; %zu element%s added, %zu "
			 "removed"), st.chains_added,
			 st.chains_added == 1 ? "" : "s", st.chains_removed,
			 st.chains_refilled, st.sets_added,
			 st.sets_added == 1 ? "" : "s", st.sets_removed,
			 st.sets_recreated, st.sets_refilled, st.elems_added,
			 st.elems_added == 1 ? "" : "s", st.elems_removed);
out:
	free(live);
	free(want);
	errno = 0;
	return delta;
}

static struct kbatch *restore_batch(const char *state, unsigned int id,
				    const char *table,
				    const struct deployment *live,
				    struct deployment *to, char digest[65],
				    struct nftnl_set_list **keep, char *how,
				    size_t hown, char *err, size_t errlen)
{
	struct nftnl_set_list *sent = NULL;
	struct ruleset *rs = NULL;
	struct kbatch *b = NULL, *delta;
	int ret;

	memset(to, 0, sizeof(*to));
	snprintf(how, hown, _("replaced whole"));
	if (!id) {
		/* Before the first deployment there was no sanso table. */
		snprintf(to->table, sizeof(to->table), "%s", table);
		snprintf(digest, 65, "-");
		b = kbatch_new();
		if (!b)
			return NULL;
		ret = kernel_table_exists(NFPROTO_INET, table) > 0 ?
		      kbatch_del_table(b, NFPROTO_INET, table) : 0;
		if (ret) {
			kbatch_free(b);
			errno = -ret;
			return NULL;
		}
		return b;
	}
	ret = deploy_load(state, id, to);
	if (ret) {
		snprintf(err, errlen, _("deployment %u: %s"), id, strerror(-ret));
		errno = -ret;
		return NULL;
	}
	ret = deploy_rebuild(state, to, &rs, err, errlen);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	/* From here err holds warnings only. */
	if (strcmp(to->table, table) &&
	    kernel_table_exists(NFPROTO_INET, table) > 0)
		err_add(err, errlen, "deployment %u used table %s, the current "
			"one %s: remove %s by hand after checking", id,
			to->table, table, table);
	sent = nftnl_set_list_alloc();
	if (!sent) {
		ret = -ENOMEM;
		goto out;
	}
	b = deploy_batch(rs, sent, err, errlen);
	if (!b) {
		ret = -errno;
		goto out;
	}
	/* In place when the live table is `live` as recorded. */
	delta = in_place(live, to->table, b, sent, digest, how, hown);
	ret = -errno;
	if (delta || ret) {
		kbatch_free(b);
		b = delta;
	}
	if (b && keep) {
		*keep = sent;	/* the caller's read-back uses it */
		sent = NULL;
	}
out:
	if (sent)
		nftnl_set_list_free(sent);
	ruleset_free(rs);
	if (!b)
		errno = ret ? -ret : ENOMEM;
	return b;
}

int deploy_rollback(const char *state, const char *why, char *how,
		    size_t hown, char *err, size_t errlen)
{
	struct deployment cur, prev;
	struct intent in = { .kind = "rollback" };
	struct nftnl_set_list *sent = NULL;
	struct kbatch *b;
	char digest[65], howbuf[256];
	int ret;

	ret = deploy_current(state, &cur);
	if (ret) {
		snprintf(err, errlen, _("nothing is deployed"));
		return ret;
	}
	if (!how) {
		how = howbuf;
		hown = sizeof(howbuf);
	}
	b = restore_batch(state, cur.previous, cur.table, &cur, &prev,
			  in.new_sha256, &sent, how, hown, err, errlen);
	if (!b)
		return -errno;
	in.id = cur.previous;
	in.from = cur.id;
	snprintf(in.table, sizeof(in.table), "%s", prev.table);
	snprintf(in.old_sha256, sizeof(in.old_sha256), "%s",
		 strcmp(prev.table, cur.table) ? "-" : cur.ruleset_sha256);
	ret = intent_write(state, &in);
	if (ret) {
		err_add(err, errlen, "writing %s/intent: %s", state,
			strerror(-ret));
		goto out;
	}
	fault("rollback-intent");
	ret = kbatch_count(b) ? kbatch_commit(b, false, err, errlen) : 0;
	if (ret) {
		intent_remove(state);
		goto out;
	}
	fault("rollback-commit");
	/* What the kernel holds against what the batch said, read back as
	 * apply does (the static elements from what was sent); and the
	 * rebuilt table against its record when the record can say. */
	if (prev.id && ((!kernel_table_digest_sent(NFPROTO_INET, prev.table,
						   sent, digest) &&
			 strcmp(digest, in.new_sha256)) ||
			(prev.canon == KERNEL_CANON_VERSION &&
			 strcmp(in.new_sha256, prev.ruleset_sha256))))
		err_add(err, errlen, "restored, but the table differs from "
			"deployment %u as recorded", prev.id);
	ret = set_current(state, prev.id);
	fault("rollback-current");
	if (!ret)
		ret = pending_remove(state);
	if (!ret)
		ret = intent_remove(state);
	if (ret)
		err_add(err, errlen, "restored, but recording it failed (%s): "
			"the next sanso command completes the record",
			strerror(-ret));
	deploy_audit(state, "rollback", &prev, why);
out:
	kbatch_free(b);
	if (sent)
		nftnl_set_list_free(sent);
	return ret;
}

/* ---- commit-confirmed ---- */

/* Waits for the deadline of pending deployment `id` (read again each
 * second: apply moves it once its commit is done), then rolls it back
 * under the lock unless a confirm came first. 0 when nothing was left
 * to do or it rolled back; -errno (audited) when that failed. */
int deploy_expire_wait(const char *state, unsigned int id)
{
	char err[1024], note[512];
	struct pending pd;
	int lock, ret = 0;

	for (;;) {
		time_t now = time(NULL);

		if (deploy_pending(state, &pd) || pd.id != id)
			return 0;	/* confirmed, or superseded */
		if (now >= pd.deadline)
			break;
		sleep(pd.deadline - now > 1 ? 1 :
		      (unsigned int)(pd.deadline - now));
	}
	/* A confirm may be running: decide under the lock, on what pending
	 * says then, so that confirm and the timer never both win. */
	err[0] = '\0';
	lock = deploy_lock(state, -1, err, sizeof(err));
	if (lock < 0) {
		deploy_audit(state, "rollback-failed", NULL, err);
		return lock;
	}
	deploy_settle(state, note, sizeof(note));
	if (!deploy_pending(state, &pd) && pd.id == id &&
	    time(NULL) >= pd.deadline) {
		ret = deploy_rollback(state, "confirm timeout", NULL, 0, err,
				      sizeof(err));
		if (ret)
			deploy_audit(state, "rollback-failed", NULL, err);
	}
	deploy_unlock(lock);
	return ret;
}

static int write_pending(const char *state, const struct pending *pd)
{
	char p[4200], buf[256];

	snprintf(buf, sizeof(buf), "id %u\nprevious %u\ndeadline %lld\n"
		 "pid %ld\nunit %s\n", pd->id, pd->previous,
		 (long long)pd->deadline, pd->pid, pd->unit[0] ? pd->unit : "-");
	if (path_of(p, sizeof(p), state, "pending"))
		return -ENAMETOOLONG;
	return write_atomic(p, buf, strlen(buf), 0600);
}

/* Where systemd runs the machine, the timer is one of its transient
 * timers: it outlives apply, the SSH session and anything that kills a
 * process group. 0 with pd->unit set, or -errno to fall back. */
static int systemd_timer(const char *state, struct pending *pd,
			 unsigned int seconds)
{
	char self[PATH_MAX], unit[64], when[32], id[16], st[PATH_MAX];
	const char *argv[16];
	int status, n = 0;
	ssize_t len;
	pid_t pid;

	if (access("/run/systemd/system", F_OK))
		return -ENOSYS;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0 || !realpath(state, st))
		return -ENOENT;
	self[len] = '\0';
	snprintf(unit, sizeof(unit), "sanso-confirm-%u-%ld", pd->id,
		 (long)getpid());
	snprintf(when, sizeof(when), "--on-active=%us", seconds);
	snprintf(id, sizeof(id), "%u", pd->id);
	argv[n++] = "systemd-run";
	argv[n++] = "--quiet";
	argv[n++] = "--collect";
	argv[n++] = "--unit";
	argv[n++] = unit;
	argv[n++] = when;
	argv[n++] = "--timer-property=AccuracySec=1s";
	argv[n++] = self;
	argv[n++] = "rollback";
	argv[n++] = "--state-dir";
	argv[n++] = st;
	argv[n++] = "--expired";
	argv[n++] = id;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			if (fd > 2)
				close(fd);
		}
		execvp("systemd-run", (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -ECHILD;
	snprintf(pd->unit, sizeof(pd->unit), "%s", unit);
	return 0;
}

/* Elsewhere: a process of its own, in a new session, forked twice so
 * that it outlives the SSH session that ran apply and never gets a
 * terminal. */
static int forked_timer(const char *state, struct pending *pd)
{
	int pipefd[2], status, fd;
	long timer = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		pid_t gc;

		/* First of all the state lock apply holds, inherited here:
		 * no other command may find it held by the timer. */
		if (close_range(3, (unsigned int)pipefd[1] - 1, 0) ||
		    close_range((unsigned int)pipefd[1] + 1, ~0u, 0))
			for (fd = 3; fd < 1024; fd++)
				if (fd != pipefd[1])
					close(fd);
		setsid();
		signal(SIGHUP, SIG_IGN);
		gc = fork();
		if (gc != 0) {
			long v = gc;

			if (write(pipefd[1], &v, sizeof(v)) < 0)
				_exit(1);
			_exit(gc < 0);
		}
		close(pipefd[1]);
		if (chdir("/"))
			_exit(1);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		/* Above all the state lock apply holds: the timer must not
		 * keep it. */
		if (close_range(3, ~0u, 0))
			for (fd = 3; fd < 1024; fd++)
				close(fd);
		_exit(deploy_expire_wait(state, pd->id) ? 1 : 0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &timer, sizeof(timer)) != sizeof(timer))
		timer = 0;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (timer <= 0)
		return -ECHILD;
	pd->pid = timer;
	return 0;
}

/* Writes STATE/pending, then starts its timer. */
static int arm_confirm(const char *state, struct pending *pd,
		       unsigned int seconds)
{
	int ret;

	pd->deadline = time(NULL) + seconds;
	pd->pid = 0;
	pd->unit[0] = '\0';
	/* The pending file exists before the timer, which stops as soon as
	 * it finds none. */
	ret = write_pending(state, pd);
	if (ret)
		return ret;
	if (systemd_timer(state, pd, seconds) && (ret = forked_timer(state, pd)))
		goto fail;
	ret = write_pending(state, pd);
	if (!ret)
		return 0;
fail:
	pending_remove(state);
	return ret;
}

int deploy_timer_alive(const struct pending *pd)
{
	char unit[80], svc[80];
	int status;
	pid_t pid;

	if (pd->pid > 0) {
		char p[64], buf[256], *rp;
		int r;

		/* A zombie (whose reaper is slow, or absent in a container)
		 * is a timer gone. */
		snprintf(p, sizeof(p), "/proc/%ld/stat", pd->pid);
		r = read_small(p, buf, sizeof(buf));
		if (r)
			return r == -ENOENT ? 0 : r;
		rp = strrchr(buf, ')');
		return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
	}
	if (!pd->unit[0])
		return 0;
	/* Its service too: once the timer has fired, the service waits
	 * out the rest of the window (apply moved the deadline past its
	 * commit), and the timer unit alone would look gone. is-active
	 * succeeds when either is active. */
	snprintf(unit, sizeof(unit), "%s.timer", pd->unit);
	snprintf(svc, sizeof(svc), "%s.service", pd->unit);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("systemctl", "systemctl", "--quiet", "is-active", unit,
		       svc, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WEXITSTATUS(status) == 0;
}

/* ---- apply ---- */

/* Undoes what apply wrote ahead of a commit that did not happen. */
static void unwrite(const char *state, bool pending)
{
	if (pending)
		pending_remove(state);
	intent_remove(state);
}

int deploy_apply(const char *state, const struct ruleset *rs,
		 struct deployment *d, const char *zone, size_t zone_len,
		 const struct model *m, unsigned int confirm,
		 enum deploy_outcome *outcome, char *how, size_t hown,
		 char *err, size_t errlen)
{
	struct intent in = { .kind = "apply" };
	struct nftnl_set_list *sent = NULL;
	struct pending pd = { 0 };
	struct deployment cur;
	struct kbatch *b = NULL, *delta = NULL;
	char live[65];
	int ret;

	*outcome = DEPLOY_UNCHANGED;
	for (size_t i = 0; i < m->n_holiday_files; i++)
		if (!m->holiday_files[i].data ||
		    strpbrk(m->holiday_files[i].ref, "\n\r"))
			return -EINVAL;
	sent = nftnl_set_list_alloc();
	if (!sent)
		return -ENOMEM;
	progress(_("building the batch: %zu chains, %zu sets"), rs->n_chains,
		 rs->n_sets);
	b = deploy_batch(rs, sent, err, errlen);
	if (!b) {
		ret = -errno;
		goto out;
	}
	d->previous = deploy_current(state, &cur) ? 0 : cur.id;
	delta = in_place(d->previous ? &cur : NULL, rs->table, b, sent,
			 d->ruleset_sha256, how, hown);
	if (!delta && errno) {
		ret = -errno;
		snprintf(err, errlen, _("the digest of the new table: %s"),
			 strerror(-ret));
		goto out;
	}
	d->id = next_id(state);
	d->time = time(NULL);
	d->holiday_files = (int)m->n_holiday_files;
	user_name(d->user, sizeof(d->user));
	in.id = d->id;
	in.from = d->previous;
	snprintf(in.table, sizeof(in.table), "%s", rs->table);
	snprintf(in.new_sha256, sizeof(in.new_sha256), "%s", d->ruleset_sha256);
	snprintf(in.old_sha256, sizeof(in.old_sha256), "%s",
		 d->previous && !strcmp(cur.table, rs->table) ?
		 cur.ruleset_sha256 : "-");
	/* Ahead of the commit: an audit line, the deployment's record (with
	 * the log's head, that line included), the intent, the pending
	 * record and its running timer. Whatever kills apply from here on,
	 * the next command settles it. */
	ret = deploy_audit(state, "apply-intent", d, confirm ? "confirm "
			   "pending" : NULL);
	if (ret) {
		snprintf(err, errlen, _("writing %s/audit.log: %s"), state,
			 strerror(-ret));
		goto out;
	}
	deploy_audit_head(state, d->audit_head, sizeof(d->audit_head));
	ret = record_write(state, d, zone, zone_len, m);
	if (!ret)
		ret = intent_write(state, &in);
	if (ret) {
		snprintf(err, errlen, _("writing deployment %u in %s: %s"), d->id,
			 state, strerror(-ret));
		intent_remove(state);
		deploy_audit(state, "apply-failed", d, err);
		goto out;
	}
	if (confirm) {
		pd.id = d->id;
		pd.previous = d->previous;
		ret = arm_confirm(state, &pd, confirm);
		if (ret) {
			snprintf(err, errlen, _("starting the confirm timer: %s"),
				 strerror(-ret));
			intent_remove(state);
			deploy_audit(state, "apply-failed", d, err);
			goto out;
		}
	}
	fault("apply-intent");
	progress(_("the kernel is loading %zu messages (%.1f MB)%s"),
		 kbatch_count(delta ? delta : b), (double)kbatch_size(delta ?
		 delta : b) / 1e6, delta ? _(", in place") : "");
	ret = kbatch_commit(delta ? delta : b, false, err, errlen);
	if (ret) {
		unwrite(state, confirm);
		deploy_audit(state, "apply-failed", d, err);
		goto out;
	}
	*outcome = DEPLOY_LOADED;
	fault("apply-commit");
	/* What the kernel holds is what was written ahead; a table that
	 * differs is recorded as it is, with a warning. */
	progress(_("reading table inet %s back to verify it"), rs->table);
	if (!kernel_table_digest_sent(NFPROTO_INET, rs->table, sent, live) &&
	    strcmp(live, d->ruleset_sha256)) {
		err_add(err, errlen, "the live table's digest %.12s is not the "
			"%.12s computed ahead: recorded as live", live,
			d->ruleset_sha256);
		snprintf(d->ruleset_sha256, sizeof(d->ruleset_sha256), "%s",
			 live);
		ret = record_write(state, d, zone, zone_len, m);
		if (ret)
			goto unrecorded;
	}
	ret = faulty("apply-current-enospc");
	if (!ret)
		ret = set_current(state, d->id);
	if (ret)
		goto unrecorded;
	fault("apply-current");
	*outcome = DEPLOY_RECORDED;
	if (intent_remove(state))
		err_add(err, errlen, "%s/intent could not be removed: the next "
			"command settles it", state);
	if (confirm) {
		/* The confirm window counts from the end of the commit. */
		pd.deadline = time(NULL) + confirm;
		write_pending(state, &pd);
	}
	if (deploy_audit(state, "apply", d, NULL))
		err_add(err, errlen, "%s/audit.log: the line of this apply "
			"could not be written (its intent line is there)",
			state);
	ret = 0;
	goto out;
unrecorded:
	err_add(err, errlen, "loaded, but recording deployment %u failed: %s",
		d->id, strerror(-ret));
	if (confirm) {
		/* Commit-confirmed promises the old table unless confirmed:
		 * what cannot be recorded cannot be confirmed. */
		char why[160];
		struct deployment was;
		struct kbatch *rb;
		char digest[65];
		int r;

		char whole[64];

		/* The live table is this apply's, not yet recorded: the
		 * previous one is loaded whole. */
		rb = restore_batch(state, d->previous, rs->table, NULL, &was,
				   digest, NULL, whole, sizeof(whole), err,
				   errlen);
		r = rb ? (kbatch_count(rb) ? kbatch_commit(rb, false, err,
							   errlen) : 0) : -errno;
		kbatch_free(rb);
		if (!r) {
			*outcome = DEPLOY_ROLLED_BACK;
			unwrite(state, true);
			snprintf(why, sizeof(why), "recording deployment %u "
				 "failed after its commit", d->id);
			deploy_audit(state, "rollback", &was, why);
		} else {
			err_add(err, errlen, "rolling back failed too (%s): "
				"the confirm timer tries again at its "
				"deadline", strerror(-r));
		}
	}
out:
	kbatch_free(delta);
	kbatch_free(b);
	nftnl_set_list_free(sent);
	return ret;
}

int deploy_confirm(const char *state, struct pending *was)
{
	struct deployment cur;
	int ret = deploy_pending(state, was);

	if (ret)
		return ret;
	/* The timer rolls back at the deadline itself: from then on it is
	 * too late, whoever gets the lock first. */
	if (time(NULL) >= was->deadline)
		return -ETIMEDOUT;
	/* The line first: a confirm killed before the pending file goes is
	 * then followed in the log by the timer's rollback. */
	if (!deploy_current(state, &cur))
		ret = deploy_audit(state, "confirm", &cur, NULL);
	if (ret)
		return ret;
	fault("confirm-audit");
	return pending_remove(state);
}

int deploy_expire(const char *state, int grace, const char *why, char *err,
		  size_t errlen)
{
	struct pending pd;
	struct intent in;
	char note[512];
	int lock, ret;

	/* An interrupted change is settled too, once the lock is free. */
	if (intent_read(state, &in) == -ENOENT &&
	    (deploy_pending(state, &pd) || time(NULL) < pd.deadline + grace))
		return 0;
	lock = deploy_lock(state, 0, err, errlen);
	if (lock == -EWOULDBLOCK)
		return 0;	/* a confirm or rollback is at work: next time */
	if (lock < 0)
		return lock;
	err[0] = '\0';
	deploy_settle(state, note, sizeof(note));
	/* Looked at again under the lock: a confirm may have just won. */
	ret = 0;
	if (!deploy_pending(state, &pd) && time(NULL) >= pd.deadline + grace) {
		ret = deploy_rollback(state, why, NULL, 0, err, errlen);
		if (ret)
			deploy_audit(state, "rollback-failed", NULL, err);
		else
			ret = 1;
	}
	deploy_unlock(lock);
	return ret;
}
