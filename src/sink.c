// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Alert sinks: a JSON lines file, syslog (RFC 5424 to a remote UDP or
 * TCP server, the form of syslog(3) on the local socket) and exec. Each sink has a bounded queue in memory and
 * behind it a spool on disk, state_dir/spool/ID; lines leave in the order
 * they came, a sink that fails is retried with backoff, and nothing here
 * ever waits on a sink: files are written with write(2), sockets are
 * non-blocking, exec children are reaped when they are done.
 *
 * The spool starts with a header holding the offset of the first line
 * not yet delivered, rewritten after each delivery, so that a restart
 * repeats at most one line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "alert.h"
#include "i18n.h"
#include "json.h"
#include "sink.h"

#define SPOOL_DIR	"spool"
#define SPOOL_MAGIC	"SANSOSPOOL1 "
#define SPOOL_HDR	(sizeof(SPOOL_MAGIC) - 1 + 20 + 1)
#define SPOOL_BUF	(64 * 1024)
/* Past this a sink's spool takes no more: the disk is for other things
 * too. What does not fit is counted as failed and written to stderr. */
#define SPOOL_MAX	((uint64_t)256 << 20)
#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	60000
/* An exec handler that exits non-zero (but not EX_TEMPFAIL) this many
 * times for one alert has rejected it. */
#define EXEC_TRIES	3
#define EX_TEMPFAIL_	75
/* Room for the RFC 5424 header or the chain's suffix around a line. */
#define FRAME_MAX	(ALERT_LINE_MAX + 512)

static const char *const exec_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
	NULL,
};

uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct queue {
	char *slab;		/* cap slots of ALERT_LINE_MAX bytes */
	uint32_t *len;
	uint64_t *spool_end;	/* where the line ends in the spool, or 0 */
	size_t cap, head, n;
	size_t from_spool;
};

struct spool {
	int fd;
	char path[PATH_MAX];
	uint64_t done;		/* first byte not delivered (the header's) */
	uint64_t rd;		/* first byte not yet read into the queue */
	uint64_t size;
	uint64_t lines;		/* in [done, size) */
	char *buf;
	bool private;		/* ID.PID: another process has ID */
};

struct sink_state;

struct sink_ops {
	const char *kind;
	/* 0 when usable, -EINPROGRESS while connecting, else -errno. */
	int (*open)(struct sink_state *s, uint64_t now);
	/* 0 delivered, -EINPROGRESS accepted (see poll), -EAGAIN try
	 * again on writability, -EBADMSG this line can never be delivered,
	 * else the sink failed (closed, retried with backoff). */
	int (*deliver)(struct sink_state *s, const char *line, size_t len,
		       uint64_t now);
	/* For a delivery in progress: the same codes as deliver. */
	int (*poll)(struct sink_state *s, uint64_t now);
	/* While open: 0, or -errno when the other end is gone. */
	int (*check)(struct sink_state *s);
	void (*close)(struct sink_state *s);
	bool chained;
};

enum remote {
	REMOTE_LOCAL,
	REMOTE_UDP,
	REMOTE_TCP,
};

struct sink_state {
	const struct sink_ops *ops;
	const struct sink_env *env;
	char id[32];
	char desc[96];		/* for messages: "syslog tcp://..." */
	struct queue q;
	struct spool sp;
	char *buf;		/* FRAME_MAX: a chained line or a frame */

	bool up;
	bool busy;		/* a delivery in progress (exec) */
	uint64_t next_try;
	unsigned int fails;

	/* jsonl */
	char *path;
	struct audit_log log;

	/* syslog */
	enum remote remote;
	int facility;
	char *host, *port;
	int fd;
	bool connecting, want_out;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int family;
	uint64_t resolve_at;
	size_t sent, frame_len;	/* a TCP frame partly sent */

	/* exec */
	char **argv;
	pid_t pid;
	int pidfd;
	uint64_t started;
	bool killed;
	unsigned int attempts;
};

/* ---- the last resort ---- */

static void lost(struct sink_state *s, const char *line, size_t len, int err)
{
	s->env->st->failed++;
	/* Library code does not print, except here: an alert that can be
	 * neither delivered nor spooled must still be seen somewhere, and
	 * the monitor's stderr goes to the journal. */
	fprintf(stderr, _("sanso: alert lost (%s: %s): %.*s\n"), s->desc,
		strerror(err < 0 ? -err : err), (int)len, line);
}

/* ---- queue ---- */

static int queue_init(struct queue *q, size_t cap)
{
	q->cap = cap;
	q->slab = malloc(cap * ALERT_LINE_MAX);
	q->len = calloc(cap, sizeof(*q->len));
	q->spool_end = calloc(cap, sizeof(*q->spool_end));
	return q->slab && q->len && q->spool_end ? 0 : -ENOMEM;
}

static void queue_free(struct queue *q)
{
	free(q->slab);
	free(q->len);
	free(q->spool_end);
}

static bool queue_full(const struct queue *q)
{
	return q->n == q->cap;
}

static void queue_push(struct queue *q, const char *line, size_t len,
		       uint64_t spool_end)
{
	size_t i = (q->head + q->n) % q->cap;

	memcpy(q->slab + i * ALERT_LINE_MAX, line, len);
	q->len[i] = (uint32_t)len;
	q->spool_end[i] = spool_end;
	q->n++;
	if (spool_end)
		q->from_spool++;
}

static const char *queue_at(const struct queue *q, size_t k, size_t *len,
			    uint64_t *spool_end)
{
	size_t i = (q->head + k) % q->cap;

	*len = q->len[i];
	*spool_end = q->spool_end[i];
	return q->slab + i * ALERT_LINE_MAX;
}

static void queue_pop(struct queue *q)
{
	if (q->spool_end[q->head])
		q->from_spool--;
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

/* ---- spool ---- */

static int spool_store_done(struct spool *sp)
{
	char h[SPOOL_HDR + 1];

	snprintf(h, sizeof(h), SPOOL_MAGIC "%020" PRIu64 "\n", sp->done);
	return pwrite(sp->fd, h, SPOOL_HDR, 0) == (ssize_t)SPOOL_HDR ? 0 :
	       errno ? -errno : -EIO;
}

/*
 * Opens and locks a spool file. Another process with the same sink (the
 * monitor and `sanso resolve` share a state directory) has its own: two
 * readers of one spool would deliver its lines twice. Retries when the
 * file was renamed over between open and lock (a spool being rewritten).
 * 0, -EWOULDBLOCK when another process holds it, or -errno.
 */
static int lock_open(const char *path, bool create, int *out)
{
	for (int i = 0; i < 8; i++) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC |
			      (create ? O_CREAT : 0), 0600);

		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			int e = errno;

			close(fd);
			return e == EWOULDBLOCK ? -EWOULDBLOCK : -e;
		}
		if (!fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			*out = fd;
			return 0;
		}
		close(fd);
	}
	return -EAGAIN;
}

/* "ID.PID" files of processes that are gone, in the spool directory. */
static bool is_orphan_name(const struct sink_state *s, const char *name)
{
	size_t n = strlen(s->id);

	if (strncmp(name, s->id, n) || name[n] != '.' || !name[n + 1])
		return false;
	for (const char *p = name + n + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return (long)strtol(name + n + 1, NULL, 10) != (long)getpid();
}

static void spool_adopt(struct sink_state *s);

static int spool_open(struct sink_state *s, bool create)
{
	struct spool *sp = &s->sp;
	char dir[PATH_MAX], h[SPOOL_HDR + 1];
	struct stat st;
	ssize_t got;
	int r;

	if (sp->fd >= 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s/%s", s->env->state_dir, SPOOL_DIR);
	if (create && (r = audit_mkdir(dir)))
		return r;
	r = snprintf(sp->path, sizeof(sp->path), "%s/%s", dir, s->id);
	if (r < 0 || (size_t)r >= sizeof(sp->path))
		return -ENAMETOOLONG;
	sp->private = false;
	r = lock_open(sp->path, create, &sp->fd);
	if (r == -EWOULDBLOCK) {
		if (!create)
			return -ENOENT;	/* its holder delivers it */
		r = snprintf(sp->path, sizeof(sp->path), "%s/%s.%ld", dir,
			     s->id, (long)getpid());
		if (r < 0 || (size_t)r >= sizeof(sp->path))
			return -ENAMETOOLONG;
		sp->private = true;
		r = lock_open(sp->path, true, &sp->fd);
	}
	if (r) {
		sp->fd = -1;
		return r;
	}
	if (fstat(sp->fd, &st) || !S_ISREG(st.st_mode)) {
		r = errno ? -errno : -EINVAL;
		goto fail;
	}
	sp->size = (uint64_t)st.st_size;
	got = pread(sp->fd, h, SPOOL_HDR, 0);
	h[got > 0 ? got : 0] = '\0';
	if (got != (ssize_t)SPOOL_HDR || memcmp(h, SPOOL_MAGIC,
						sizeof(SPOOL_MAGIC) - 1)) {
		/* New, or a header we cannot read: deliver it all (a
		 * repeat is better than a loss). */
		if (sp->size && sp->size < SPOOL_HDR) {
			r = -EINVAL;
			goto fail;
		}
		if (!sp->size) {
			sp->done = sp->size = SPOOL_HDR;
			if ((r = spool_store_done(sp)))
				goto fail;
		}
		sp->done = SPOOL_HDR;
	} else {
		sp->done = strtoull(h + sizeof(SPOOL_MAGIC) - 1, NULL, 10);
		if (sp->done < SPOOL_HDR || sp->done > sp->size)
			sp->done = SPOOL_HDR;
	}
	sp->rd = sp->done;
	sp->lines = 0;
	if (sp->size > sp->done) {
		uint64_t off = sp->done;
		char last = '\n';

		while (off < sp->size) {
			got = pread(sp->fd, sp->buf, SPOOL_BUF, (off_t)off);
			if (got <= 0)
				break;
			for (ssize_t i = 0; i < got; i++)
				sp->lines += sp->buf[i] == '\n';
			last = sp->buf[got - 1];
			off += (uint64_t)got;
		}
		if (last != '\n') {
			/* A line cut by a crash: end it, so that it is
			 * delivered (or reported) rather than glued to the
			 * next one. */
			if (pwrite(sp->fd, "\n", 1, (off_t)sp->size) == 1) {
				sp->size++;
				sp->lines++;
			}
		}
	}
	if (!sp->private)
		spool_adopt(s);
	return 0;
fail:
	close(sp->fd);
	sp->fd = -1;
	return r;
}

/* Takes over the spools that processes now gone left beside ours. */
static void spool_adopt(struct sink_state *s)
{
	struct spool *sp = &s->sp;
	char dir[PATH_MAX], path[PATH_MAX + 256], h[SPOOL_HDR + 1];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", s->env->state_dir, SPOOL_DIR);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		uint64_t off = SPOOL_HDR, end;
		struct stat st;
		char last = '\n';
		int fd;

		if (!is_orphan_name(s, e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lock_open(path, false, &fd))
			continue;	/* alive, or not ours to read */
		if (fstat(fd, &st)) {
			close(fd);
			continue;
		}
		end = (uint64_t)st.st_size;
		if (pread(fd, h, SPOOL_HDR, 0) == (ssize_t)SPOOL_HDR &&
		    !memcmp(h, SPOOL_MAGIC, sizeof(SPOOL_MAGIC) - 1)) {
			h[SPOOL_HDR] = '\0';
			off = strtoull(h + sizeof(SPOOL_MAGIC) - 1, NULL, 10);
			if (off < SPOOL_HDR || off > end)
				off = SPOOL_HDR;
		}
		while (off < end) {
			ssize_t got = pread(fd, sp->buf, SPOOL_BUF, (off_t)off);

			if (got <= 0 || pwrite(sp->fd, sp->buf, (size_t)got,
					       (off_t)sp->size) != got)
				break;
			for (ssize_t i = 0; i < got; i++)
				sp->lines += sp->buf[i] == '\n';
			last = sp->buf[got - 1];
			sp->size += (uint64_t)got;
			off += (uint64_t)got;
		}
		if (last != '\n' &&
		    pwrite(sp->fd, "\n", 1, (off_t)sp->size) == 1) {
			sp->size++;
			sp->lines++;
		}
		/* Only what was copied whole is dropped with the file. */
		if (off >= end)
			unlink(path);
		close(fd);
	}
	closedir(d);
}

static bool spool_unread(const struct sink_state *s)
{
	return s->sp.fd >= 0 && s->sp.rd < s->sp.size;
}

static void spool_append(struct sink_state *s, const char *line, size_t len)
{
	struct spool *sp = &s->sp;
	struct iovec iov[2] = {
		{ .iov_base = (void *)line, .iov_len = len },
		{ .iov_base = (void *)"\n", .iov_len = 1 },
	};
	ssize_t w;
	int r;

	r = spool_open(s, true);
	if (r)
		goto fail;
	if (sp->size + len + 1 > SPOOL_MAX) {
		r = -EFBIG;
		goto fail;
	}
	w = pwritev(sp->fd, iov, 2, (off_t)sp->size);
	if (w != (ssize_t)len + 1) {
		r = w < 0 ? -errno : -ENOSPC;
		if (w > 0 && ftruncate(sp->fd, (off_t)sp->size))
			r = -EIO;
		goto fail;
	}
	sp->size += len + 1;
	sp->lines++;
	s->env->st->spooled++;
	return;
fail:
	lost(s, line, len, r);
}

/* Moves spooled lines into the free slots of the queue, in order. */
static void spool_refill(struct sink_state *s)
{
	struct spool *sp = &s->sp;

	while (!queue_full(&s->q) && spool_unread(s)) {
		size_t want = sp->size - sp->rd < SPOOL_BUF ?
			      (size_t)(sp->size - sp->rd) : SPOOL_BUF;
		ssize_t got = pread(sp->fd, sp->buf, want, (off_t)sp->rd);
		size_t start = 0;

		if (got <= 0)
			return;	/* tried again on the next service */
		for (size_t i = 0; i < (size_t)got && !queue_full(&s->q); i++) {
			size_t len = i - start;

			if (sp->buf[i] != '\n')
				continue;
			if (len > ALERT_LINE_MAX || len == 0) {
				if (len)
					lost(s, sp->buf + start, 80, -EINVAL);
				/* Not ours to deliver; step over it as if
				 * delivered, so that done moves past it. */
				sp->lines--;
				if (sp->done == sp->rd + start)
					sp->done = sp->rd + i + 1;
			} else {
				queue_push(&s->q, sp->buf + start, len,
					   sp->rd + i + 1);
			}
			start = i + 1;
		}
		if (start == 0) {
			/* A line longer than the buffer: skip it. */
			lost(s, sp->buf, got < 80 ? (size_t)got : 80, -EINVAL);
			sp->rd += (uint64_t)got;
			continue;
		}
		sp->rd += start;
	}
}

/* The line at the head of the queue went out (or was given up). */
static void spool_delivered(struct sink_state *s, uint64_t spool_end)
{
	struct spool *sp = &s->sp;

	if (!spool_end)
		return;
	sp->done = spool_end;
	sp->lines--;
	if (sp->done >= sp->size && sp->rd >= sp->size) {
		if (!ftruncate(sp->fd, SPOOL_HDR)) {
			sp->done = sp->rd = sp->size = SPOOL_HDR;
			sp->lines = 0;
		}
	}
	spool_store_done(sp);
}

/*
 * What is still in memory goes to the spool, in front of what is on
 * disk but not yet read: queue lines are older. The file is rewritten
 * beside and renamed, so that a crash leaves the old spool or the new.
 */
static void spool_persist(struct sink_state *s)
{
	struct spool *sp = &s->sp;
	char tmp[PATH_MAX + 8], h[SPOOL_HDR + 1];
	size_t direct = s->q.n - s->q.from_spool;
	uint64_t off;
	int fd = -1, r = 0;

	if (!direct)
		return;
	r = spool_open(s, true);
	if (r)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", sp->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	snprintf(h, sizeof(h), SPOOL_MAGIC "%020zu\n", (size_t)SPOOL_HDR);
	if (write(fd, h, SPOOL_HDR) != (ssize_t)SPOOL_HDR)
		r = errno ? -errno : -ENOSPC;
	for (size_t k = 0; !r && k < s->q.n; k++) {
		uint64_t end;
		size_t len;
		const char *l = queue_at(&s->q, k, &len, &end);
		struct iovec iov[2] = {
			{ .iov_base = (void *)l, .iov_len = len },
			{ .iov_base = (void *)"\n", .iov_len = 1 },
		};

		if (writev(fd, iov, 2) != (ssize_t)len + 1)
			r = errno ? -errno : -ENOSPC;
	}
	for (off = sp->rd; !r && off < sp->size;) {
		ssize_t got = pread(sp->fd, sp->buf, SPOOL_BUF, (off_t)off);

		if (got <= 0 || write(fd, sp->buf, (size_t)got) != got) {
			r = errno ? -errno : -EIO;
			break;
		}
		off += (uint64_t)got;
	}
	if (!r && (fsync(fd) || rename(tmp, sp->path)))
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (r) {
		unlink(tmp);
		for (size_t k = 0; k < s->q.n; k++) {
			uint64_t end;
			size_t len;
			const char *l = queue_at(&s->q, k, &len, &end);

			if (!end)
				lost(s, l, len, r);
		}
		return;
	}
	s->env->st->spooled += direct;
	sp->lines += direct;
	while (s->q.n)
		queue_pop(&s->q);
}

/* ---- jsonl ---- */

static int jsonl_open(struct sink_state *s, uint64_t now)
{
	(void)now;
	return audit_log_open(&s->log, s->env->state_dir, s->env->key,
			      s->path, false);
}

static int jsonl_deliver(struct sink_state *s, const char *line, size_t len,
			 uint64_t now)
{
	int r;

	(void)now;
	r = audit_log_append(&s->log, s->env->key, line, len, s->buf,
			     FRAME_MAX);
	return r == -EINVAL ? -EBADMSG : r;
}

static void jsonl_close(struct sink_state *s)
{
	audit_log_close(&s->log);
}

static const struct sink_ops jsonl_ops = {
	.kind = "jsonl",
	.open = jsonl_open,
	.deliver = jsonl_deliver,
	.close = jsonl_close,
	.chained = false,
};

/* ---- syslog ---- */

int syslog_facility(const char *name)
{
	static const char *const names[] = {
		"kern", "user", "mail", "daemon", "auth", "syslog", "lpr",
		"news", "uucp", "cron", "authpriv", "ftp",
	};

	if (!name)
		return 20;
	if (!strncmp(name, "local", 5) && name[5] >= '0' && name[5] <= '7' &&
	    !name[6])
		return 16 + name[5] - '0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -1;
}

/* The value of a string member of an alert line, if it fits a syslog
 * header field (printable ASCII, no space) of at most max bytes. */
static const char *header_member(json_t *o, const char *name, size_t max,
				 size_t *vlen)
{
	json_t *v = json_object_get(o, name);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	if (!s || !n || n > max)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return NULL;
	*vlen = n;
	return s;
}

int syslog_format(const char *line, size_t len, int facility,
		  const char *host, int pid, bool local, char *buf, size_t n)
{
	json_t *o = jx_parse_object(line, len);
	const char *sev = json_string_value(json_object_get(o, "severity"));
	const char *type, *time;
	size_t tl = 0, ml = 0;
	int pri = 4, w;

	if (sev && !strcmp(sev, "critical"))
		pri = 2;
	else if (sev && !strcmp(sev, "high"))
		pri = 3;
	type = header_member(o, "type", 32, &ml);
	time = header_member(o, "time", 40, &tl);
	if (type && !strcmp(type, "suppressed"))
		pri = 5;
	else if (type && !strcmp(type, "checkpoint"))
		pri = 6;
	if (!type) {
		type = "-";
		ml = 1;
	}
	if (!time) {
		time = "-";
		tl = 1;
	}
	/* The local daemons (rsyslog's imuxsock, journald: systemd issue
	 * 19251) parse only the form syslog(3) writes on /dev/log. They
	 * stamp the time themselves; the alert's is in the JSON. */
	if (local)
		w = snprintf(buf, n, "<%d>sanso[%d]: ", facility * 8 + pri,
			     pid);
	else
		w = snprintf(buf, n, "<%d>1 %.*s %s sanso %d %.*s - ",
			     facility * 8 + pri, (int)tl, time,
			     host && *host ? host : "-", pid, (int)ml, type);
	json_decref(o);
	if (w < 0 || (size_t)w + len >= n)
		return -ENOSPC;
	memcpy(buf + w, line, len);
	return w + (int)len;
}

static int split_server(struct sink_state *s, const char *url)
{
	const char *h = url + 6, *colon;

	s->remote = !strncmp(url, "tcp://", 6) ? REMOTE_TCP : REMOTE_UDP;
	if (*h == '[') {
		const char *rb = strchr(h, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		s->host = strndup(h + 1, (size_t)(rb - h - 1));
		colon = rb + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return -EINVAL;
		s->host = strndup(h, (size_t)(colon - h));
	}
	s->port = strdup(colon + 1);
	return s->host && s->port ? 0 : -ENOMEM;
}

/* Names are looked up here, which may block on DNS: only when the sink
 * is made, on SIGHUP, and at most once a minute while it fails. */
static int syslog_resolve(struct sink_state *s, uint64_t now)
{
	struct addrinfo hints = {
		.ai_socktype = s->remote == REMOTE_TCP ? SOCK_STREAM :
			       SOCK_DGRAM,
		.ai_flags = AI_NUMERICSERV,
	}, *res = NULL;
	int r;

	if (s->addrlen)
		return 0;
	if (s->resolve_at && now < s->resolve_at)
		return -EHOSTUNREACH;
	s->resolve_at = now + BACKOFF_MAX_MS;
	r = getaddrinfo(s->host, s->port, &hints, &res);
	if (r || !res)
		return -EHOSTUNREACH;
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	s->family = res->ai_family;
	freeaddrinfo(res);
	return 0;
}

static void watch(struct sink_state *s, int fd, uint32_t events, bool add)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (s->env->epfd >= 0)
		epoll_ctl(s->env->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
			  fd, &ev);
}

static void want_out(struct sink_state *s, bool on)
{
	if (s->want_out == on || s->fd < 0)
		return;
	s->want_out = on;
	watch(s, s->fd, EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0), false);
}

static int syslog_open(struct sink_state *s, uint64_t now)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int r, err = 0;
	socklen_t el = sizeof(err);

	if (s->fd >= 0 && s->connecting) {
		struct pollfd pf = { .fd = s->fd, .events = POLLOUT };

		if (poll(&pf, 1, 0) < 0)
			return -errno;
		if (!pf.revents)
			return -EINPROGRESS;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el))
			return -errno;
		if (err)
			return -err;
		s->connecting = false;
		want_out(s, false);
		return 0;
	}
	if (s->remote == REMOTE_LOCAL) {
		const char *p = s->env->log_socket;

		if (strlen(p) >= sizeof(un.sun_path))
			return -ENAMETOOLONG;
		strcpy(un.sun_path, p);
		s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, 0);
		if (s->fd < 0)
			return -errno;
		r = connect(s->fd, (struct sockaddr *)&un, sizeof(un));
	} else {
		r = syslog_resolve(s, now);
		if (r)
			return r;
		s->fd = socket(s->family, (s->remote == REMOTE_TCP ?
					   SOCK_STREAM : SOCK_DGRAM) |
			       SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd < 0)
			return -errno;
		r = connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen);
	}
	s->want_out = false;
	watch(s, s->fd, EPOLLIN | EPOLLRDHUP, true);
	if (r && errno == EINPROGRESS) {
		s->connecting = true;
		want_out(s, true);
		return -EINPROGRESS;
	}
	return r ? -errno : 0;
}

static void syslog_close(struct sink_state *s)
{
	if (s->fd >= 0)
		close(s->fd);	/* also leaves the epoll set */
	s->fd = -1;
	s->connecting = s->want_out = false;
	s->sent = s->frame_len = 0;
}

/*
 * Reads what the socket has for us: nothing is expected, but a TCP
 * receiver that went away has sent a FIN, which send() would not report
 * until the line after next (that line would be lost), and a refused UDP
 * datagram or a restarted local syslogd leaves an error. Either way the
 * socket would stay readable and wake the caller's loop for ever.
 */
static int syslog_check(struct sink_state *s)
{
	struct pollfd pf = { .fd = s->fd, .events = POLLIN };
	char junk[512];

	if (s->fd < 0 || s->connecting)
		return 0;
	if (poll(&pf, 1, 0) <= 0)
		return 0;
	for (;;) {
		ssize_t got = recv(s->fd, junk, sizeof(junk), MSG_DONTWAIT);

		if (got == 0 && s->remote == REMOTE_TCP)
			return -ECONNRESET;
		if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (got < 0)
			break;
	}
	return pf.revents & POLLHUP ? -ECONNRESET : 0;
}

static int syslog_deliver(struct sink_state *s, const char *line, size_t len,
			  uint64_t now)
{
	ssize_t w;
	int r;

	(void)now;
	if (s->remote != REMOTE_TCP) {
		r = syslog_format(line, len, s->facility, s->env->host,
				  (int)getpid(), s->remote == REMOTE_LOCAL,
				  s->buf, FRAME_MAX);
		if (r < 0)
			return -EBADMSG;
		w = send(s->fd, s->buf, (size_t)r, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == r) {
			want_out(s, false);
			return 0;
		}
		if (w >= 0)
			return -EBADMSG;
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS) {
			want_out(s, true);
			return -EAGAIN;
		}
		return errno == EMSGSIZE ? -EBADMSG : -errno;
	}
	if (!s->frame_len) {
		char *msg = s->buf + 16;
		int hl;

		r = syslog_format(line, len, s->facility, s->env->host,
				  (int)getpid(), false, msg, FRAME_MAX - 16);
		if (r < 0)
			return -EBADMSG;
		/* RFC 6587 octet counting: "LEN SP MSG". */
		hl = snprintf(s->buf, 16, "%d ", r);
		memmove(s->buf + hl, msg, (size_t)r);
		s->frame_len = (size_t)hl + (size_t)r;
		s->sent = 0;
	}
	w = send(s->fd, s->buf + s->sent, s->frame_len - s->sent,
		 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			want_out(s, true);
			return -EAGAIN;
		}
		return -errno;
	}
	s->sent += (size_t)w;
	if (s->sent < s->frame_len) {
		want_out(s, true);
		return -EAGAIN;
	}
	s->sent = s->frame_len = 0;
	want_out(s, false);
	return 0;
}

static const struct sink_ops syslog_ops = {
	.kind = "syslog",
	.open = syslog_open,
	.deliver = syslog_deliver,
	.check = syslog_check,
	.close = syslog_close,
	.chained = true,
};

/* ---- exec ---- */

static int exec_deliver(struct sink_state *s, const char *line, size_t len,
			uint64_t now)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int mfd, r;

	mfd = memfd_create("sanso-alert", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	/* A memfd rather than a pipe: no SIGPIPE when the handler does
	 * not read, and no write that could block. */
	if (write(mfd, line, len) != (ssize_t)len || write(mfd, "\n", 1) != 1 ||
	    lseek(mfd, 0, SEEK_SET)) {
		r = errno ? -errno : -EIO;
		close(mfd);
		return r;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, mfd, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	/* Its own process group, so that a timeout kills what it
	 * started too. */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	r = -posix_spawn(&s->pid, s->argv[0], &fa, &at, s->argv,
			 (char **)exec_env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(mfd);
	if (r) {
		s->pid = 0;
		return r;
	}
	s->started = now;
	s->killed = false;
	s->busy = true;
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->pidfd >= 0)
		watch(s, s->pidfd, EPOLLIN, true);
	return -EINPROGRESS;
}

static int exec_poll(struct sink_state *s, uint64_t now)
{
	int status;
	pid_t p;

	p = waitpid(s->pid, &status, WNOHANG);
	if (p == 0) {
		if (!s->killed && now - s->started >= s->env->exec_timeout_ms) {
			kill(-s->pid, SIGKILL);
			s->killed = true;
		}
		return -EINPROGRESS;
	}
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	s->pid = 0;
	s->busy = false;
	if (p < 0) {
		/* Reaped by someone else (SIGCHLD ignored?): the status is
		 * lost. Counting it delivered beats running it for ever. */
		s->attempts = 0;
		return 0;
	}
	if (s->killed)
		return -ETIMEDOUT;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		s->attempts = 0;
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != EX_TEMPFAIL_ &&
	    WEXITSTATUS(status) != 126 && WEXITSTATUS(status) != 127 &&
	    ++s->attempts >= EXEC_TRIES) {
		s->attempts = 0;
		return -EBADMSG;
	}
	return WIFEXITED(status) ? -EREMOTEIO : -EINTR;
}

static int exec_open(struct sink_state *s, uint64_t now)
{
	(void)s;
	(void)now;
	return 0;
}

static void exec_close(struct sink_state *s)
{
	int status;

	if (s->pid <= 0)
		return;
	kill(-s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	s->pid = 0;
	s->busy = false;
}

static const struct sink_ops exec_ops = {
	.kind = "exec",
	.open = exec_open,
	.deliver = exec_deliver,
	.poll = exec_poll,
	.close = exec_close,
	.chained = true,
};

/* ---- the generic part ---- */

void sink_conf_id(const struct sink *conf, char *buf, size_t n)
{
	static const char *const kinds[] = { "jsonl", "syslog", "exec" };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *k = conf->kind <= SINK_EXEC ? kinds[conf->kind] : "sink";

#define FEED(str) do { \
	const char *s_ = (str) ? (str) : ""; \
	EVP_DigestUpdate(ctx, s_, strlen(s_) + 1); \
} while (0)
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		FEED(k);
		if (conf->kind == SINK_JSONL) {
			FEED(conf->path);
		} else if (conf->kind == SINK_SYSLOG) {
			FEED(conf->server);
			FEED(conf->facility);
		} else {
			for (size_t i = 0; i < conf->argc; i++)
				FEED(conf->argv[i]);
		}
		EVP_DigestFinal_ex(ctx, md, &mdlen);
	}
#undef FEED
	EVP_MD_CTX_free(ctx);
	if (mdlen < 4)
		memset(md, 0, 4);
	snprintf(buf, n, "%s-%02x%02x%02x%02x", k, md[0], md[1], md[2], md[3]);
}

const char *sink_id(const struct sink_state *s)
{
	return s->id;
}

const char *sink_log_path(const struct sink_state *s)
{
	return s->ops == &jsonl_ops ? s->path : NULL;
}

bool sink_wants_chained(const struct sink_state *s)
{
	return s->ops->chained;
}

static uint64_t backoff_ms(unsigned int fails)
{
	uint64_t d = BACKOFF_MIN_MS;

	while (--fails && d < BACKOFF_MAX_MS)
		d *= 2;
	return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

static void sink_fail(struct sink_state *s, uint64_t now)
{
	s->ops->close(s);
	s->up = false;
	s->fails++;
	s->next_try = now + backoff_ms(s->fails);
}

static void head_done(struct sink_state *s)
{
	uint64_t end;
	size_t len;

	queue_at(&s->q, 0, &len, &end);
	queue_pop(&s->q);
	spool_delivered(s, end);
}

/* Applies a delivery result to the head of the queue; true to go on. */
static bool settle(struct sink_state *s, int r, uint64_t now)
{
	uint64_t end;
	size_t len;
	const char *line;

	switch (r) {
	case 0:
		s->env->st->delivered++;
		s->fails = 0;
		head_done(s);
		return true;
	case -EINPROGRESS:
	case -EAGAIN:
		return false;
	case -EBADMSG:
		line = queue_at(&s->q, 0, &len, &end);
		lost(s, line, len, r);
		head_done(s);
		return true;
	default:
		sink_fail(s, now);
		return false;
	}
}

void sink_service(struct sink_state *s, uint64_t now)
{
	int r;

	if (s->busy) {
		if (!settle(s, s->ops->poll(s, now), now))
			return;
	}
	if (!s->up) {
		if (now < s->next_try)
			return;
		if (!s->q.n && !spool_unread(s) && !s->connecting)
			return;	/* open lazily: nothing to send */
		r = s->ops->open(s, now);
		if (r == -EINPROGRESS)
			return;
		if (r) {
			sink_fail(s, now);
			return;
		}
		s->up = true;
	} else if (s->ops->check && (r = s->ops->check(s))) {
		if (s->q.n || spool_unread(s)) {
			sink_fail(s, now);
			return;
		}
		/* Gone while idle: reconnect when there is a line. */
		s->ops->close(s);
		s->up = false;
		return;
	}
	for (;;) {
		size_t len;
		uint64_t end;
		const char *line;

		if (!s->q.n)
			spool_refill(s);
		if (!s->q.n)
			return;
		line = queue_at(&s->q, 0, &len, &end);
		if (!settle(s, s->ops->deliver(s, line, len, now), now))
			return;
	}
}

void sink_submit(struct sink_state *s, const char *line, size_t len)
{
	if (len > ALERT_LINE_MAX) {
		lost(s, line, len, -EMSGSIZE);
		return;
	}
	/* Behind anything already spooled, to keep the order. */
	if (spool_unread(s) || queue_full(&s->q))
		spool_append(s, line, len);
	else
		queue_push(&s->q, line, len, 0);
	sink_service(s, mono_ms());
}

void sink_reopen(struct sink_state *s)
{
	uint64_t now = mono_ms();
	int r;

	if (s->busy)
		return;		/* exec: nothing to reopen */
	s->ops->close(s);
	s->up = false;
	s->fails = 0;
	s->next_try = 0;
	s->addrlen = 0;		/* look the name up again */
	s->resolve_at = 0;
	/* At once, not at the next line: a rotated log gets its new file
	 * (and its chain records) now. */
	r = s->ops->open(s, now);
	if (!r)
		s->up = true;
	else if (r != -EINPROGRESS)
		sink_fail(s, now);
	sink_service(s, now);
}

uint64_t sink_next_ms(const struct sink_state *s)
{
	if (s->busy)
		return s->killed ? mono_ms() + 100 :
		       s->started + s->env->exec_timeout_ms;
	if (!s->up && (s->q.n || spool_unread(s)))
		return s->next_try;
	return 0;
}

uint64_t sink_pending(const struct sink_state *s)
{
	return (s->q.n - s->q.from_spool) + s->sp.lines;
}

bool sink_busy(const struct sink_state *s)
{
	return s->busy || s->connecting || s->want_out;
}

static int copy_conf(struct sink_state *s, const struct sink *conf)
{
	int r = 0;

	switch (conf->kind) {
	case SINK_JSONL:
		s->ops = &jsonl_ops;
		if (!conf->path)
			return -EINVAL;
		s->path = strdup(conf->path);
		snprintf(s->desc, sizeof(s->desc), "jsonl %s", conf->path);
		return s->path ? 0 : -ENOMEM;
	case SINK_SYSLOG:
		s->ops = &syslog_ops;
		s->facility = syslog_facility(conf->facility);
		if (s->facility < 0)
			return -EINVAL;
		if (conf->server) {
			if (strncmp(conf->server, "udp://", 6) &&
			    strncmp(conf->server, "tcp://", 6))
				return -EINVAL;
			r = split_server(s, conf->server);
			snprintf(s->desc, sizeof(s->desc), "syslog %s",
				 conf->server);
		} else {
			s->remote = REMOTE_LOCAL;
			snprintf(s->desc, sizeof(s->desc), "syslog %s",
				 s->env->log_socket);
		}
		return r;
	case SINK_EXEC:
		s->ops = &exec_ops;
		if (!conf->argc || !conf->argv || !conf->argv[0] ||
		    conf->argv[0][0] != '/')
			return -EINVAL;
		s->argv = calloc(conf->argc + 1, sizeof(*s->argv));
		if (!s->argv)
			return -ENOMEM;
		for (size_t i = 0; i < conf->argc; i++)
			if (!(s->argv[i] = strdup(conf->argv[i])))
				return -ENOMEM;
		snprintf(s->desc, sizeof(s->desc), "exec %s", conf->argv[0]);
		return 0;
	}
	return -EINVAL;
}

static bool has_orphans(const struct sink_state *s)
{
	char dir[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", s->env->state_dir, SPOOL_DIR);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = is_orphan_name(s, e->d_name);
	closedir(d);
	return found;
}

struct sink_state *sink_state_new(const struct sink *conf,
				  const struct sink_env *env)
{
	struct sink_state *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->env = env;
	s->fd = s->pidfd = s->sp.fd = -1;
	s->log.fd = s->log.head_fd = s->log.path_fd = -1;
	sink_conf_id(conf, s->id, sizeof(s->id));
	r = copy_conf(s, conf);
	if (r)
		goto fail;
	s->buf = malloc(FRAME_MAX);
	s->sp.buf = malloc(SPOOL_BUF);
	if (!s->buf || !s->sp.buf ||
	    queue_init(&s->q, env->queue_max ? env->queue_max : 256)) {
		r = -ENOMEM;
		goto fail;
	}
	r = spool_open(s, false);
	if (r == -ENOENT && has_orphans(s))
		r = spool_open(s, true);
	if (r && r != -ENOENT)
		fprintf(stderr, "sanso: %s: %s: %s\n", s->desc, s->sp.path,
			strerror(-r));
	/* Open now, to report a path or socket that is wrong at once in
	 * the counters; the spool drains from here. */
	r = s->ops->open(s, mono_ms());
	if (!r)
		s->up = true;
	else if (r != -EINPROGRESS)
		sink_fail(s, mono_ms());
	sink_service(s, mono_ms());
	return s;
fail:
	sink_state_free(s);
	errno = -r;
	return NULL;
}

void sink_state_free(struct sink_state *s)
{
	if (!s)
		return;
	if (s->ops) {
		if (s->busy)
			sink_service(s, mono_ms());
		s->ops->close(s);
	}
	if (s->q.slab)
		spool_persist(s);
	if (s->sp.fd >= 0) {
		if (s->sp.private && !s->sp.lines && !s->q.n)
			unlink(s->sp.path);
		close(s->sp.fd);
	}
	queue_free(&s->q);
	free(s->sp.buf);
	free(s->buf);
	free(s->path);
	free(s->host);
	free(s->port);
	if (s->argv)
		for (size_t i = 0; s->argv[i]; i++)
			free(s->argv[i]);
	free(s->argv);
	free(s);
}
