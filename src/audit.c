// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The audit chain (SPEC §8): every line of an alert or deployment log
 * ends in "seq":N,"prev":"HEX", prev being the HMAC-SHA-256 of the
 * previous line under a key only sanso (and root) can read, so that an
 * edited, removed or moved line breaks a link that verify-log finds.
 *
 * A chain alone cannot see lines removed from the end, so the writer also
 * keeps the seq and HMAC of the last line it wrote, per file, twice: by
 * inode (state_dir/chain/DEV-INO, which follows a log renamed by
 * logrotate) and by path (state_dir/chain/path-HASH, which follows a log
 * rewritten into a new inode, as sed -i does). verify-log compares the
 * file's end to them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "alert.h"
#include "json.h"
#include "sink.h"
#include "i18n.h"

#define KEY_FILE	"audit.key"
#define CHAIN_DIR	"chain"
/* "SEQ MAC DEV INO\n", fixed width so that pwrite() at 0 replaces it
 * whole. */
#define HEAD_LEN	(20 + 1 + 2 * AUDIT_MAC_LEN + 1 + 16 + 1 + 16 + 1)
/* How far back from the end a writer looks for the last line. */
#define TAIL_WINDOW	(128 * 1024)
/* The suffix: ,"seq":N,"prev":"<64 hex>"} */
#define PREV_TAG	",\"prev\":\""
#define SEQ_TAG		"\"seq\":"

/*
 * One HMAC context kept for the last key: HMAC() derives the key's inner
 * and outer pads again for every line, which made verifying a log cost
 * 1.9 us a line against 0.5 us with the context kept (sanso report over
 * ten million lines). sanso creates no threads.
 */
static struct {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	uint8_t key[AUDIT_KEY_LEN];
} mac_cache;

static EVP_MAC_CTX *mac_ctx(const uint8_t key[AUDIT_KEY_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256",
						 0),
		OSSL_PARAM_construct_end(),
	};

	if (mac_cache.ctx && !CRYPTO_memcmp(mac_cache.key, key, AUDIT_KEY_LEN))
		return EVP_MAC_init(mac_cache.ctx, NULL, 0, NULL) ?
		       mac_cache.ctx : NULL;
	if (!mac_cache.mac)
		mac_cache.mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac_cache.ctx && mac_cache.mac)
		mac_cache.ctx = EVP_MAC_CTX_new(mac_cache.mac);
	if (!mac_cache.ctx ||
	    !EVP_MAC_init(mac_cache.ctx, key, AUDIT_KEY_LEN, params)) {
		memset(mac_cache.key, 0, sizeof(mac_cache.key));
		EVP_MAC_CTX_free(mac_cache.ctx);
		mac_cache.ctx = NULL;
		return NULL;
	}
	memcpy(mac_cache.key, key, AUDIT_KEY_LEN);
	return mac_cache.ctx;
}

static void hmac(const uint8_t key[AUDIT_KEY_LEN], const void *data,
		 size_t len, uint8_t out[AUDIT_MAC_LEN])
{
	EVP_MAC_CTX *ctx = mac_ctx(key);
	unsigned int olen = AUDIT_MAC_LEN;
	size_t got = 0;

	if (ctx && EVP_MAC_update(ctx, data, len) &&
	    EVP_MAC_final(ctx, out, &got, AUDIT_MAC_LEN) &&
	    got == AUDIT_MAC_LEN)
		return;
	/* HMAC() fails only on allocation failure inside OpenSSL; a zero
	 * MAC then makes the next link visibly wrong, never silently
	 * right. */
	if (!HMAC(EVP_sha256(), key, AUDIT_KEY_LEN, data, len, out, &olen))
		memset(out, 0, AUDIT_MAC_LEN);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = unhex_digit(s[2 * i]), lo = unhex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/*
 * Reads seq and prev from the end of a line (without newline). By hand,
 * not with jansson: the suffix is the chain's own framing, the exact
 * bytes audit_chain_line() appends and the MAC covers, and this runs on
 * every line verify-log and sanso report check; jansson reads a 370-byte
 * alert line at about 65,000 lines a second, against the 1,000,000 a
 * second sanso report must keep (BENCHMARKS.md, P6).
 */
static bool parse_suffix(const char *line, size_t len, uint64_t *seq,
			 uint8_t prev[AUDIT_MAC_LEN])
{
	const size_t ptag = sizeof(PREV_TAG) - 1, stag = sizeof(SEQ_TAG) - 1;
	size_t end, digits = 0;
	uint64_t v = 0;

	if (len < 2 + 2 * AUDIT_MAC_LEN + ptag + 1 + stag + 1 ||
	    line[len - 1] != '}' || line[len - 2] != '"')
		return false;
	end = len - 2 - 2 * AUDIT_MAC_LEN;
	if (!unhex(line + end, prev, AUDIT_MAC_LEN))
		return false;
	if (memcmp(line + end - ptag, PREV_TAG, ptag))
		return false;
	end -= ptag;
	while (end > 0 && line[end - 1] >= '0' && line[end - 1] <= '9') {
		end--;
		digits++;
	}
	if (digits == 0 || digits > 19 || (digits > 1 && line[end] == '0'))
		return false;
	for (size_t i = 0; i < digits; i++)
		v = v * 10 + (uint64_t)(line[end + i] - '0');
	if (end < stag + 1 || memcmp(line + end - stag, SEQ_TAG, stag))
		return false;
	end -= stag;
	if (line[end - 1] != ',' && line[end - 1] != '{')
		return false;
	if (line[end - 1] == '{' && end != 1)
		return false;
	*seq = v;
	return v > 0;
}

void audit_chain_init(const uint8_t key[AUDIT_KEY_LEN], struct audit_chain *c)
{
	c->seq = 0;
	hmac(key, "", 0, c->mac);
}

/* The suffix is written here, not by jansson: it is fixed ASCII (digits
 * and hex), appended to the object's bytes as they are, so that the line
 * the MAC covers is the object the caller made, plus the chain. */
int audit_chain_line(const uint8_t key[AUDIT_KEY_LEN], struct audit_chain *c,
		     const char *obj, size_t len, char *out, size_t n)
{
	char mac[2 * AUDIT_MAC_LEN + 1];
	size_t body;
	bool empty;
	int w;

	while (len && (obj[len - 1] == ' ' || obj[len - 1] == '\t'))
		len--;
	if (len < 2 || obj[0] != '{' || obj[len - 1] != '}' ||
	    memchr(obj, '\n', len) || memchr(obj, '\r', len))
		return -EINVAL;
	body = len - 1;
	empty = true;
	for (size_t i = 1; i < body; i++)
		if (obj[i] != ' ' && obj[i] != '\t')
			empty = false;
	if (empty)
		body = 1;
	hex(c->mac, AUDIT_MAC_LEN, mac);
	if (body >= n)
		return -ENOSPC;
	memcpy(out, obj, body);
	w = snprintf(out + body, n - body,
		     "%s\"seq\":%" PRIu64 ",\"prev\":\"%s\"}",
		     empty ? "" : ",", c->seq + 1, mac);
	if (w < 0 || (size_t)w >= n - body)
		return -ENOSPC;
	c->seq++;
	hmac(key, out, body + (size_t)w, c->mac);
	return (int)(body + (size_t)w);
}

void audit_head_format(const struct audit_chain *c, char *buf, size_t n)
{
	char mac[2 * AUDIT_MAC_LEN + 1];

	hex(c->mac, AUDIT_MAC_LEN, mac);
	snprintf(buf, n, "%" PRIu64 ":%s", c->seq, mac);
}

int audit_head_parse(const char *s, struct audit_chain *c)
{
	const char *colon = strchr(s, ':');
	char *end;

	if (!colon || colon == s || *s < '0' || *s > '9' ||
	    strlen(colon + 1) != 2 * AUDIT_MAC_LEN)
		return -EINVAL;
	errno = 0;
	c->seq = strtoull(s, &end, 10);
	if (errno || end != colon || !c->seq)
		return -EINVAL;
	for (const char *p = colon + 1; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			return -EINVAL;	/* one spelling: what we print */
	return unhex(colon + 1, c->mac, AUDIT_MAC_LEN) ? 0 : -EINVAL;
}

/* ---- the key ---- */

static int path_join(char *buf, size_t n, const char *dir, const char *name)
{
	int w = snprintf(buf, n, "%s/%s", dir, name);

	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

int audit_mkdir(const char *dir)
{
	struct stat st;

	if (!mkdir(dir, 0700))
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(dir, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int key_create(const char *state_dir, const char *path)
{
	uint8_t key[AUDIT_KEY_LEN];
	char tmp[PATH_MAX], name[64];
	int fd = -1, r;

	r = audit_mkdir(state_dir);
	if (r)
		return r;
	snprintf(name, sizeof(name), ".%s.%ld", KEY_FILE, (long)getpid());
	r = path_join(tmp, sizeof(tmp), state_dir, name);
	if (r)
		return r;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	unlink(tmp);	/* a leftover of a crashed run of this pid */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd)) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	/* link() rather than rename(): whoever comes first wins, and a
	 * reader never sees a key being written. */
	r = link(tmp, path) && errno != EEXIST ? -errno : 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

int audit_key_load(const char *state_dir, bool create,
		   uint8_t key[AUDIT_KEY_LEN])
{
	return audit_key_load_file(state_dir, KEY_FILE, create, key);
}

int audit_key_load_file(const char *state_dir, const char *name, bool create,
			uint8_t key[AUDIT_KEY_LEN])
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t got;
	int fd, r;

	/* key_create() names its temporary after audit.key. */
	if (create && strcmp(name, KEY_FILE))
		return -EINVAL;
	r = path_join(path, sizeof(path), state_dir, name);
	if (r)
		return r;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		r = key_create(state_dir, path);
		if (r)
			return r;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		goto out;
	}
	/*
	 * A writer trusts only its own key or root's. Root reading a key to
	 * verify (the monitor's, owned by its user) trusts its owner, who
	 * could forge the lines it signs anyway.
	 */
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) ||
	    (st.st_uid != geteuid() && st.st_uid != 0 &&
	     (create || geteuid() != 0))) {
		r = -EPERM;
		goto out;
	}
	if (st.st_size != AUDIT_KEY_LEN) {
		r = -EINVAL;
		goto out;
	}
	got = read(fd, key, AUDIT_KEY_LEN);
	r = got == AUDIT_KEY_LEN ? 0 : got < 0 ? -errno : -EINVAL;
out:
	close(fd);
	return r;
}

/* ---- head records ---- */

struct head {
	struct audit_chain c;
	uint64_t dev, ino;	/* the file it was written to */
	struct timespec mtime;	/* when */
};

static int head_path(char *buf, size_t n, const char *state_dir, dev_t dev,
		     ino_t ino)
{
	int w = snprintf(buf, n, "%s/%s/%jx-%jx", state_dir, CHAIN_DIR,
			 (uintmax_t)dev, (uintmax_t)ino);

	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* The real path of a file that may be gone: its directory's, and its
 * name. Allocated. */
static char *real_path(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *real = realpath(path, NULL), *dir, *out = NULL;

	if (real || errno != ENOENT || !*base || !strcmp(base, ".") ||
	    !strcmp(base, ".."))
		return real;
	dir = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup(".");
	real = dir ? realpath(dir, NULL) : NULL;
	if (real && asprintf(&out, "%s%s%s", real,
			     real[strlen(real) - 1] == '/' ? "" : "/",
			     base) < 0)
		out = NULL;
	free(real);
	free(dir);
	if (!out)
		errno = ENOENT;
	return out;
}

/* "path-" and 16 hex digits of the SHA-256 of the file's real path. */
static int path_head_name(const char *path, char *name, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *real = real_path(path);
	char h[17];

	if (!real)
		return -errno;
	if (!EVP_Digest(real, strlen(real), md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen < 8) {
		free(real);
		return -EIO;
	}
	free(real);
	hex(md, 8, h);
	snprintf(name, n, "path-%s", h);
	return 0;
}

static int head_parse(const char *b, size_t len, struct head *h)
{
	char *end;

	if (len != HEAD_LEN || b[20] != ' ' || b[85] != ' ' || b[102] != ' ' ||
	    b[HEAD_LEN - 1] != '\n')
		return -EINVAL;
	errno = 0;
	h->c.seq = strtoull(b, &end, 10);
	if (errno || end != b + 20)
		return -EINVAL;
	if (!unhex(b + 21, h->c.mac, AUDIT_MAC_LEN))
		return -EINVAL;
	h->dev = strtoull(b + 86, &end, 16);
	if (end != b + 102)
		return -EINVAL;
	h->ino = strtoull(b + 103, &end, 16);
	return end == b + HEAD_LEN - 1 ? 0 : -EINVAL;
}

static int head_read(int fd, struct head *h)
{
	char b[HEAD_LEN + 1];
	struct stat st;
	ssize_t got = pread(fd, b, sizeof(b), 0);

	memset(h, 0, sizeof(*h));
	if (got < 0)
		return -errno;
	if (got == 0)
		return -ENOENT;
	if (fstat(fd, &st))
		return -errno;
	h->mtime = st.st_mtim;
	return head_parse(b, (size_t)got, h);
}

static int head_store(int fd, const struct audit_chain *c, uint64_t dev,
		      uint64_t ino)
{
	char b[HEAD_LEN + 1], mac[2 * AUDIT_MAC_LEN + 1];

	if (fd < 0)
		return 0;
	hex(c->mac, AUDIT_MAC_LEN, mac);
	snprintf(b, sizeof(b), "%020" PRIu64 " %s %016" PRIx64 " %016" PRIx64
		 "\n", c->seq, mac, dev, ino);
	if (pwrite(fd, b, HEAD_LEN, 0) != HEAD_LEN)
		return errno ? -errno : -EIO;
	return 0;
}

static int chain_dir_open(const char *state_dir, const char *name)
{
	char path[PATH_MAX];
	int r, fd;

	r = path_join(path, sizeof(path), state_dir, CHAIN_DIR);
	if (r || (r = audit_mkdir(path)))
		return r;
	r = snprintf(path, sizeof(path), "%s/%s/%s", state_dir, CHAIN_DIR,
		     name);
	if (r < 0 || (size_t)r >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

int audit_stream_open(const char *state_dir, const char *name,
		      const uint8_t key[AUDIT_KEY_LEN], struct audit_chain *c)
{
	int fd = chain_dir_open(state_dir, name);
	struct head h;

	if (fd < 0)
		return fd;
	if (head_read(fd, &h))
		audit_chain_init(key, c);
	else
		*c = h.c;
	return fd;
}

/* ---- writing ---- */

struct tail {
	bool has_last;		/* a complete line with seq and prev */
	bool partial;		/* the file does not end in a newline */
	uint64_t seq;
	uint8_t prev[AUDIT_MAC_LEN];
	uint8_t mac[AUDIT_MAC_LEN];
};

static int tail_scan(const uint8_t key[AUDIT_KEY_LEN], int fd, uint64_t size,
		     struct tail *t)
{
	size_t win = size < TAIL_WINDOW ? (size_t)size : TAIL_WINDOW;
	uint64_t off = size - win;
	char *buf = NULL;
	size_t end, start;
	int r = 0;

	memset(t, 0, sizeof(*t));
	if (!size)
		return 0;
	buf = malloc(win);
	if (!buf)
		return -ENOMEM;
	if (pread(fd, buf, win, (off_t)off) != (ssize_t)win) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	end = win;
	if (buf[end - 1] != '\n') {
		t->partial = true;
		while (end > 0 && buf[end - 1] != '\n')
			end--;
		if (!end)
			goto out;
	}
	end--;			/* the last complete line's newline */
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && off > 0)
		goto out;	/* longer than the window: not ours */
	if (parse_suffix(buf + start, end - start, &t->seq, t->prev)) {
		t->has_last = true;
		hmac(key, buf + start, end - start, t->mac);
	}
out:
	free(buf);
	return r;
}

static bool born_before(int fd, const struct timespec *t)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &stx) ||
	    !(stx.stx_mask & STATX_BTIME))
		return false;
	if ((int64_t)stx.stx_btime.tv_sec != (int64_t)t->tv_sec)
		return (int64_t)stx.stx_btime.tv_sec < (int64_t)t->tv_sec;
	return (long)stx.stx_btime.tv_nsec < t->tv_nsec;
}

/* Made after the record t was last written: another file that got the
 * inode number of the one recorded. False when unknown. */
static bool born_after(int fd, const struct timespec *t)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &stx) ||
	    !(stx.stx_mask & STATX_BTIME))
		return false;
	if ((int64_t)stx.stx_btime.tv_sec != (int64_t)t->tv_sec)
		return (int64_t)stx.stx_btime.tv_sec > (int64_t)t->tv_sec;
	return (long)stx.stx_btime.tv_nsec > t->tv_nsec;
}

static void store_heads(struct audit_log *l)
{
	head_store(l->head_fd, &l->chain, l->dev, l->ino);
	head_store(l->path_fd, &l->chain, l->dev, l->ino);
}

/* Appends obj to l as the next line of its chain (its lock held), in
 * buf (n bytes); a short write is undone, since the next line would be
 * damaged too. */
static int write_line(struct audit_log *l, const uint8_t key[AUDIT_KEY_LEN],
		      const char *obj, size_t len, char *buf, size_t n)
{
	struct audit_chain c = l->chain;
	ssize_t w;
	int r;

	r = audit_chain_line(key, &c, obj, len, buf, n - 1);
	if (r < 0)
		return r;
	buf[r++] = '\n';
	w = write(l->fd, buf, (size_t)r);
	if (w != r) {
		r = w < 0 ? -errno : -ENOSPC;
		if (w > 0 && ftruncate(l->fd, (off_t)l->size))
			r = -EIO;
		return r;
	}
	l->size += (uint64_t)r;
	l->chain = c;
	return 0;
}

/* One line of our own (a chain continuation). */
static int write_own(struct audit_log *l, const uint8_t key[AUDIT_KEY_LEN],
		     const char *obj)
{
	char buf[2048 + 128];

	return write_line(l, key, obj, strlen(obj), buf, sizeof(buf));
}

/* The name, in the directory of `path`, of another file with inode
 * dev/ino: where logrotate renamed the file sanso wrote before. */
static bool find_renamed(const char *path, uint64_t dev, uint64_t ino,
			 char *name, size_t n)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1),
			 path);
	else
		snprintf(dir, sizeof(dir), ".");
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		struct stat st;

		if ((uint64_t)e->d_ino != ino ||
		    !strcmp(e->d_name, slash ? slash + 1 : path) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    (uint64_t)st.st_dev != dev || !S_ISREG(st.st_mode))
			continue;
		snprintf(name, n, "%s", e->d_name);
		found = true;
	}
	closedir(d);
	return found;
}

/*
 * An empty new file where sanso wrote up to h at the same path: rather
 * than start the chain again at seq 1 (which would let a removed log be
 * replaced unnoticed), it goes on from h, and its first line says where
 * the chain was: the renamed file beside it (logrotate), or gone.
 */
static int chain_continue(struct audit_log *l,
			  const uint8_t key[AUDIT_KEY_LEN],
			  const struct head *h)
{
	char obj[2048], name[NAME_MAX + 1], detail[160];
	json_t *o = json_object();
	int err = o ? 0 : -ENOMEM;

	l->chain = h->c;
	if (l->path && find_renamed(l->path, h->dev, h->ino, name,
				    sizeof(name))) {
		jx_set(o, "chain", jx_str("continued"), &err);
		jx_set(o, "previous_seq", jx_uint(h->c.seq), &err);
		jx_set(o, "previous_file", jx_str(name), &err);
	} else {
		snprintf(detail, sizeof(detail), "the file sanso wrote up to "
			 "seq %" PRIu64 " at this path is gone: removed, or "
			 "renamed out of its directory", h->c.seq);
		jx_set(o, "chain", jx_str("broken"), &err);
		jx_set(o, "previous_seq", jx_uint(h->c.seq), &err);
		jx_set(o, "detail", jx_str(detail), &err);
	}
	err = jx_format(jx_done(o, err), obj, sizeof(obj));
	if (err < 0)
		return err;
	return write_own(l, key, obj);
}

/*
 * Where to continue the chain of an open file. Our record of what we
 * last wrote wins over the file when they disagree, so that a file cut
 * short or edited at its end gets a link that verify-log reports, rather
 * than a chain that hides it. The inode's record comes first; the path's
 * serves a file rewritten into a new inode. An empty file starts a new
 * chain, unless it is older than our record of its inode (then it was
 * emptied: keep the evidence).
 */
static int chain_resume(struct audit_log *l, const uint8_t key[AUDIT_KEY_LEN])
{
	struct head ih, ph, *h = NULL;
	struct stat st;
	struct tail t;
	bool have_ih;
	int r;

	if (fstat(l->fd, &st))
		return -errno;
	r = tail_scan(key, l->fd, (uint64_t)st.st_size, &t);
	if (r)
		return r;
	have_ih = !head_read(l->head_fd, &ih);
	if (have_ih)
		h = &ih;
	else if (l->path_fd >= 0 && !head_read(l->path_fd, &ph) && st.st_size)
		h = &ph;
	if (t.partial) {
		/* Close the damaged line, which verify-log will report,
		 * so that our next line is whole. */
		if (write(l->fd, "\n", 1) != 1)
			return errno ? -errno : -EIO;
		st.st_size++;
	}
	l->size = (uint64_t)st.st_size;
	audit_chain_init(key, &l->chain);
	if (st.st_size == 0) {
		if (have_ih && born_before(l->fd, &ih.mtime)) {
			l->chain = ih.c;
		} else if (l->path_fd >= 0 && !head_read(l->path_fd, &ph) &&
			   ph.c.seq > 0) {
			r = chain_continue(l, key, &ph);
			if (r)
				return r;
		}
	} else if (h) {
		if (t.has_last && ((t.seq == h->c.seq &&
				    !CRYPTO_memcmp(t.mac, h->c.mac,
						   AUDIT_MAC_LEN)) ||
				   (t.seq == h->c.seq + 1 &&
				    !CRYPTO_memcmp(t.prev, h->c.mac,
						   AUDIT_MAC_LEN)))) {
			l->chain.seq = t.seq;
			memcpy(l->chain.mac, t.mac, AUDIT_MAC_LEN);
		} else {
			l->chain = h->c;
		}
	} else if (t.has_last) {
		l->chain.seq = t.seq;
		memcpy(l->chain.mac, t.mac, AUDIT_MAC_LEN);
	}
	store_heads(l);
	return 0;
}

int audit_log_open(struct audit_log *l, const char *state_dir,
		   const uint8_t key[AUDIT_KEY_LEN], const char *path,
		   bool lock)
{
	char hp[PATH_MAX], name[64];
	struct stat st;
	int r;

	memset(l, 0, sizeof(*l));
	l->head_fd = l->path_fd = -1;
	l->path = strdup(path);
	if (!l->path) {
		l->fd = -1;
		return -ENOMEM;
	}
	/* O_NONBLOCK: a FIFO planted at the path must not hang us. */
	l->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
		     O_CLOEXEC | O_NONBLOCK, 0640);
	if (l->fd < 0) {
		r = errno == ELOOP ? -EPERM : -errno;
		goto out;
	}
	if (fstat(l->fd, &st)) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	/* Held while the tail is read, so that another writer's line is
	 * never taken for a line cut short. */
	if (flock(l->fd, LOCK_EX)) {
		r = -errno;
		goto out;
	}
	l->locked = lock;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	r = head_path(hp, sizeof(hp), state_dir, st.st_dev, st.st_ino);
	if (r)
		goto out;
	snprintf(name, sizeof(name), "%s", strrchr(hp, '/') + 1);
	l->head_fd = chain_dir_open(state_dir, name);
	if (l->head_fd < 0) {
		r = l->head_fd;
		goto out;
	}
	/* Without a real path (a deleted directory?) the inode's record
	 * still serves. */
	if (!path_head_name(path, name, sizeof(name))) {
		l->path_fd = chain_dir_open(state_dir, name);
		if (l->path_fd < 0)
			l->path_fd = -1;
	}
	r = chain_resume(l, key);
	if (!lock)
		flock(l->fd, LOCK_UN);
out:
	if (r)
		audit_log_close(l);
	return r;
}

void audit_log_close(struct audit_log *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	if (l->head_fd >= 0)
		close(l->head_fd);
	if (l->path_fd >= 0)
		close(l->path_fd);
	l->fd = l->head_fd = l->path_fd = -1;
	free(l->path);
	l->path = NULL;
}

int audit_log_append(struct audit_log *l, const uint8_t key[AUDIT_KEY_LEN],
		     const char *obj, size_t len, char *buf, size_t n)
{
	struct stat st;
	int r;

	if (l->fd < 0)
		return -EBADF;
	/* Other writers of the file (audit_append, another sanso process
	 * with the same sink) take turns; we never wait for them. */
	if (!l->locked && flock(l->fd, LOCK_EX | LOCK_NB))
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (fstat(l->fd, &st)) {
		r = -errno;
		goto out;
	}
	if ((uint64_t)st.st_size != l->size) {
		/* Truncated or appended to behind our back. */
		r = chain_resume(l, key);
		if (r)
			goto out;
	}
	r = write_line(l, key, obj, len, buf, n);
	if (r)
		goto out;
	/* A record that lags one line behind is recognised on resume, so
	 * its failure does not undo a line that is already written. */
	store_heads(l);
	r = 0;
out:
	if (!l->locked)
		flock(l->fd, LOCK_UN);
	return r;
}

int audit_stream_line(int fd, const uint8_t key[AUDIT_KEY_LEN],
		      struct audit_chain *c, const char *obj, size_t len,
		      char *out, size_t n)
{
	bool locked = fd >= 0 && !flock(fd, LOCK_EX);
	struct head h;
	int r;

	/* Another process on this state directory may have gone on. */
	if (locked && !head_read(fd, &h) && h.c.seq >= c->seq)
		*c = h.c;
	r = audit_chain_line(key, c, obj, len, out, n);
	if (r >= 0)
		head_store(fd, c, 0, 0);
	if (locked)
		flock(fd, LOCK_UN);
	return r;
}

int audit_append(const char *state_dir, const char *path,
		 const char *json_obj)
{
	uint8_t key[AUDIT_KEY_LEN];
	struct audit_log l = { .fd = -1, .head_fd = -1, .path_fd = -1 };
	size_t len = strlen(json_obj), n = len + 128;
	char *buf = NULL;
	int r;

	r = audit_key_load(state_dir, true, key);
	if (r)
		goto out;
	buf = malloc(n);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	r = audit_log_open(&l, state_dir, key, path, true);
	if (r)
		goto out;
	r = audit_log_append(&l, key, json_obj, len, buf, n);
	if (!r && (fsync(l.fd) || fsync(l.head_fd) ||
		   (l.path_fd >= 0 && fsync(l.path_fd))))
		r = -errno;
out:
	audit_log_close(&l);
	free(buf);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

/* ---- verifying ---- */

/* A run of missing seqs, reported at the end unless moved lines fill it
 * (then they were reordered, not removed). */
struct gap {
	uint64_t lo, hi;
	int line;		/* the line after the gap */
	int after;		/* the line before it */
};

/* A head the log must hold: given with --head, or recorded by a
 * deployment (for the state directory's own audit.log). */
struct anchor {
	struct audit_chain c;
	bool user;		/* --head: also a failure below the start */
	bool seen;
	char src[64];		/* for messages */
};

/* What chain/ knows of the file. */
enum record {
	REC_NONE,
	REC_INODE,		/* a record of this very file */
	REC_PATH,		/* of another file at its path */
};

struct verifier {
	const char *path;
	struct diags *d;
	struct audit_verdict *v;
	uint8_t key[AUDIT_KEY_LEN];
	struct gap *gaps;
	size_t n_gaps, cap_gaps;
	uint64_t links, links_ok;
	/* the line with the highest seq so far: the next one links to it */
	bool have_ref;
	uint64_t ref_seq;
	int ref_line;
	uint8_t ref_mac[AUDIT_MAC_LEN];
	/* the writer's record of the end */
	bool have_head, head_seen;
	enum record rec;
	struct head head;
	char hp[PATH_MAX];
	/* sorted by seq */
	struct anchor *anchors;
	size_t n_anchors;
};

#define MAX_GAPS 4096

static void finding(struct verifier *vf, int line, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void finding(struct verifier *vf, int line, const char *code,
		    const char *fmt, ...)
{
	struct loc loc = { .file = vf->path, .line = line, .col = 0 };
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	diag_add(vf->d, &loc, DIAG_ERROR, code, NULL, MSG_AS_IS, msg);
	vf->v->tampered = true;
}

static void report_gap(struct verifier *vf, const struct gap *g)
{
	uint64_t k = g->hi - g->lo + 1;

	if (k == 1)
		finding(vf, g->line, "missing", "line %d: 1 line removed "
			"before it (seq %" PRIu64 " is missing after line %d)",
			g->line, g->lo, g->after);
	else
		finding(vf, g->line, "missing", "line %d: %" PRIu64 " lines "
			"removed before it (seq %" PRIu64 "..%" PRIu64 " are "
			"missing after line %d)", g->line, k, g->lo, g->hi,
			g->after);
}

static void add_gap(struct verifier *vf, uint64_t lo, uint64_t hi, int line,
		    int after)
{
	struct gap g = { lo, hi, line, after };

	if (vf->n_gaps == vf->cap_gaps && vf->cap_gaps < MAX_GAPS) {
		size_t nc = vf->cap_gaps ? vf->cap_gaps * 2 : 16;
		struct gap *ng = realloc(vf->gaps, nc * sizeof(*ng));

		if (ng) {
			vf->gaps = ng;
			vf->cap_gaps = nc;
		}
	}
	if (vf->n_gaps < vf->cap_gaps)
		vf->gaps[vf->n_gaps++] = g;
	else
		report_gap(vf, &g);	/* too many to track moves */
}

/* Takes seq out of a gap; false if it is in none. */
static bool fill_gap(struct verifier *vf, uint64_t seq, struct gap *found)
{
	for (size_t i = 0; i < vf->n_gaps; i++) {
		struct gap *g = &vf->gaps[i];

		if (seq < g->lo || seq > g->hi)
			continue;
		*found = *g;
		if (g->lo == g->hi) {
			vf->gaps[i] = vf->gaps[--vf->n_gaps];
		} else if (seq == g->lo) {
			g->lo++;
		} else if (seq == g->hi) {
			g->hi--;
		} else {
			uint64_t hi = g->hi;

			g->hi = seq - 1;
			add_gap(vf, seq + 1, hi, g->line, g->after);
		}
		return true;
	}
	return false;
}

static void sort_findings(struct diags *d, size_t from)
{
	/* Insertion sort: stable, and findings come nearly sorted. */
	for (size_t i = from + 1; i < d->n; i++) {
		struct diag t = d->v[i];
		size_t j = i;

		while (j > from && d->v[j - 1].loc.line > t.loc.line) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = t;
	}
}

static void note(struct diags *d, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(struct diags *d, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), _(fmt), ap);
	va_end(ap);
	diag_add(d, &(struct loc){ .file = path }, DIAG_WARNING, "tail", NULL,
		 MSG_AS_IS, msg);
}

static bool load_head(const char *p, struct head *h)
{
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = !head_read(fd, h);
	close(fd);
	return ok;
}

/* The writer's record of the file's end: its inode's, else its path's.
 * hp gets the record's name for messages. */
static enum record find_head(const char *state_dir, const char *path,
			     int fd, const struct stat *st, struct head *h,
			     char *hp, size_t n)
{
	char name[64];

	/* A record younger than the file is of another file that had its
	 * inode number (removed, and a new one made). */
	if (!head_path(hp, n, state_dir, st->st_dev, st->st_ino) &&
	    load_head(hp, h) && !born_after(fd, &h->mtime))
		return REC_INODE;
	if (path_head_name(path, name, sizeof(name)) ||
	    snprintf(hp, n, "%s/%s/%s", state_dir, CHAIN_DIR, name) >= (int)n ||
	    !load_head(hp, h))
		return REC_NONE;
	return h->dev == (uint64_t)st->st_dev &&
	       h->ino == (uint64_t)st->st_ino && !born_after(fd, &h->mtime) ?
	       REC_INODE : REC_PATH;
}

int audit_log_head(const char *state_dir, const char *path,
		   struct audit_chain *c)
{
	char hp[PATH_MAX];
	struct stat st;
	struct head h;
	enum record rec;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	rec = find_head(state_dir, path, fd, &st, &h, hp, sizeof(hp));
	close(fd);
	if (rec == REC_NONE)
		return -ENOENT;
	*c = h.c;
	return 0;
}

/* The deployments of state_dir and the heads of audit.log their records
 * hold ("audit_head SEQ:MAC"). Returns how many deployments there are. */
static size_t deploy_anchors(struct verifier *vf, const char *state_dir)
{
	char p[PATH_MAX], *line = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	if (snprintf(p, sizeof(p), "%s/deploy", state_dir) >= (int)sizeof(p))
		return 0;
	d = opendir(p);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct audit_chain c;
		struct anchor *na;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    strspn(e->d_name, "0123456789") != strlen(e->d_name))
			continue;
		n++;
		if (snprintf(p, sizeof(p), "%s/deploy/%s/record", state_dir,
			     e->d_name) >= (int)sizeof(p))
			continue;
		f = fopen(p, "re");
		if (!f)
			continue;
		while (getline(&line, &cap, f) > 0) {
			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "audit_head ", 11) ||
			    audit_head_parse(line + 11, &c))
				continue;
			na = realloc(vf->anchors,
				     (vf->n_anchors + 1) * sizeof(*na));
			if (!na)
				break;
			vf->anchors = na;
			na += vf->n_anchors++;
			memset(na, 0, sizeof(*na));
			na->c = c;
			snprintf(na->src, sizeof(na->src), "deploy/%.20s/record",
				 e->d_name);
		}
		fclose(f);
	}
	free(line);
	closedir(d);
	return n;
}

static int anchor_cmp(const void *a, const void *b)
{
	const struct anchor *x = a, *y = b;

	return x->c.seq < y->c.seq ? -1 : x->c.seq > y->c.seq;
}

/* The first line of a file that goes on from an earlier one (see
 * chain_continue()): its previous_seq, and whether it says the chain
 * was broken. Read with jansson: one line a file. */
static bool continuation(const char *line, size_t len, uint64_t *prev_seq,
			 bool *broken)
{
	json_t *o = jx_parse_object(line, len);
	const char *chain = json_string_value(json_object_get(o, "chain"));
	json_t *ps = json_object_get(o, "previous_seq");
	bool ok = chain && json_is_integer(ps) &&
		  json_integer_value(ps) >= 0 &&
		  (!strcmp(chain, "continued") || !strcmp(chain, "broken"));

	*broken = ok && !strcmp(chain, "broken");
	*prev_seq = ok ? (uint64_t)json_integer_value(ps) : 0;
	json_decref(o);
	return ok;
}

/* The first line with a seq: 1 and the chain's start, or lines are
 * missing before it. */
static void check_start(struct verifier *vf, int lineno, const char *line,
			size_t len, uint64_t seq,
			const uint8_t prev[AUDIT_MAC_LEN])
{
	uint8_t gen[AUDIT_MAC_LEN];
	uint64_t ps;
	bool broken;

	/* Its prev links to a line in another file, which this one cannot
	 * check; the line itself is linked into what follows. */
	if (seq > 1 && lineno == 1 && continuation(line, len, &ps, &broken) &&
	    ps + 1 == seq) {
		if (broken)
			finding(vf, lineno, "broken", "line %d: when sanso "
				"wrote it, the log it had written up to seq %"
				PRIu64 " at this path was gone (removed, or "
				"renamed out of its directory)", lineno, ps);
		else
			vf->v->continues = ps;
		return;
	}
	if (seq > 1) {
		finding(vf, lineno, "start", "line %d: the log starts at seq "
			"%" PRIu64 ": the first %" PRIu64 " line%s removed",
			lineno, seq, seq - 1, seq == 2 ? " was" : "s were");
		return;
	}
	hmac(vf->key, "", 0, gen);
	vf->links++;
	if (!CRYPTO_memcmp(prev, gen, AUDIT_MAC_LEN))
		vf->links_ok++;
	else
		finding(vf, lineno, "start", "line %d (seq 1): its prev is "
			"not the start of a chain: the line was altered",
			lineno);
}

/* One line that has a seq and a prev. False when it is out of place
 * (then it is no reference for the next). */
static bool check_link(struct verifier *vf, int lineno, const char *line,
		       size_t len, uint64_t seq,
		       const uint8_t prev[AUDIT_MAC_LEN])
{
	struct gap g;

	if (!vf->have_ref) {
		check_start(vf, lineno, line, len, seq, prev);
		return true;
	}
	if (seq == vf->ref_seq + 1) {
		vf->links++;
		if (!CRYPTO_memcmp(prev, vf->ref_mac, AUDIT_MAC_LEN))
			vf->links_ok++;
		else
			finding(vf, vf->ref_line, "altered", "line %d (seq "
				"%" PRIu64 ") was altered: the prev of line %d "
				"(seq %" PRIu64 ") does not match it (or that "
				"prev was altered)", vf->ref_line, vf->ref_seq,
				lineno, seq);
		return true;
	}
	if (seq > vf->ref_seq + 1) {
		add_gap(vf, vf->ref_seq + 1, seq - 1, lineno, vf->ref_line);
		return true;
	}
	if (fill_gap(vf, seq, &g))
		finding(vf, lineno, "order", "line %d (seq %" PRIu64 ") is out "
			"of order: it belongs between lines %d and %d", lineno,
			seq, g.after, g.line);
	else
		finding(vf, lineno, "order", "line %d (seq %" PRIu64 ") comes "
			"after seq %" PRIu64 " (line %d): a line repeated or "
			"moved", lineno, seq, vf->ref_seq, vf->ref_line);
	return false;
}

/* The anchors with this seq (a binary search: a deployment each). */
static void check_anchors(struct verifier *vf, int lineno, uint64_t seq,
			  const uint8_t mac[AUDIT_MAC_LEN])
{
	size_t lo = 0, hi = vf->n_anchors;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vf->anchors[mid].c.seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < vf->n_anchors && vf->anchors[lo].c.seq == seq; lo++) {
		struct anchor *a = &vf->anchors[lo];

		a->seen = true;
		if (CRYPTO_memcmp(mac, a->c.mac, AUDIT_MAC_LEN))
			finding(vf, lineno, "head", "line %d (seq %" PRIu64
				") is not the line %s records with that seq: "
				"the log was altered or replaced", lineno, seq,
				a->src);
	}
}

static void check_line(struct verifier *vf, int lineno, const char *line,
		       size_t len, bool trunc)
{
	uint8_t prev[AUDIT_MAC_LEN], mac[AUDIT_MAC_LEN];
	uint64_t seq;

	if (trunc)
		finding(vf, lineno, "trunc", "line %d is cut short: no newline "
			"at the end of the file", lineno);
	if (!parse_suffix(line, len, &seq, prev)) {
		if (!trunc)
			finding(vf, lineno, "format", "line %d has no \"seq\" "
				"and \"prev\" at its end: damaged, cut short, "
				"or not written by sanso", lineno);
		return;
	}
	if (!vf->v->first_seq)
		vf->v->first_seq = seq;
	if (!check_link(vf, lineno, line, len, seq, prev))
		return;
	hmac(vf->key, line, len, mac);
	vf->have_ref = true;
	vf->ref_seq = seq;
	vf->ref_line = lineno;
	memcpy(vf->ref_mac, mac, AUDIT_MAC_LEN);
	if (seq > vf->v->last_seq)
		vf->v->last_seq = seq;
	if (vf->have_head && seq == vf->head.c.seq) {
		vf->head_seen = true;
		if (CRYPTO_memcmp(mac, vf->head.c.mac, AUDIT_MAC_LEN))
			finding(vf, lineno, "tail", "line %d (seq %" PRIu64 ") "
				"is not the line sanso wrote with that seq "
				"(%s): it was altered", lineno, seq, vf->hp);
	}
	check_anchors(vf, lineno, seq, mac);
}

/* After the last line: removed lines, and the end against the record. */
static void check_end(struct verifier *vf, int lineno, const char *state_dir)
{
	uint64_t last = vf->v->last_seq, want = vf->head.c.seq;

	for (size_t i = 0; i < vf->n_gaps; i++)
		report_gap(vf, &vf->gaps[i]);
	for (size_t i = 0; i < vf->n_anchors; i++) {
		const struct anchor *a = &vf->anchors[i];

		if (a->seen || (!a->user && a->c.seq < vf->v->first_seq))
			continue;	/* a deployment's, in an earlier file */
		if (!last)
			finding(vf, lineno, "head", "the log has no line, but "
				"%s records seq %" PRIu64, a->src, a->c.seq);
		else if (a->c.seq > last)
			finding(vf, lineno, "head", "the log ends at seq %"
				PRIu64 ", but %s records seq %" PRIu64 ": the "
				"last %" PRIu64 " line%s removed", last,
				a->src, a->c.seq, a->c.seq - last,
				a->c.seq - last == 1 ? " was" : "s were");
		else
			finding(vf, lineno, "head", "the log has no line "
				"with seq %" PRIu64 " (%s records it; the log "
				"holds seq %" PRIu64 "..%" PRIu64 ")", a->c.seq,
				a->src, vf->v->first_seq, last);
	}
	if (vf->have_head && !vf->head_seen && want > last && vf->v->lines) {
		if (!last)
			finding(vf, lineno, "tail", "the log has no line but "
				"sanso wrote up to seq %" PRIu64 " (%s): every "
				"line was removed", want, vf->hp);
		else
			finding(vf, lineno, "tail", "the log ends at seq %"
				PRIu64 " but sanso wrote up to seq %" PRIu64
				" (%s): the last %" PRIu64 " line%s removed%s",
				last, want, vf->hp, want - last,
				want - last == 1 ? " was" : "s were",
				vf->rec == REC_PATH ? ", or the file was "
				"replaced by another chain" : "");
	}
	if (vf->links && !vf->links_ok)
		finding(vf, 0, "key", "no link of the chain matches: is %s/%s "
			"the key that wrote this log?", state_dir, KEY_FILE);
}

/* An empty log proves nothing, unless sanso left this very file empty. */
static void check_empty(struct verifier *vf, const char *state_dir)
{
	uint64_t want = vf->head.c.seq;

	if (vf->rec == REC_INODE && !want)
		return;
	if (vf->rec == REC_INODE)
		finding(vf, 0, "empty", "the log is empty, but sanso wrote up "
			"to seq %" PRIu64 " to this file (%s): every line was "
			"removed", want, vf->hp);
	else if (vf->rec == REC_PATH && want)
		finding(vf, 0, "empty", "the log is empty, but sanso wrote up "
			"to seq %" PRIu64 " to the file at this path (%s): "
			"replaced by an empty file (or rotated, and the writer "
			"has not opened the new file yet)", want, vf->hp);
	else
		finding(vf, 0, "empty", "the log is empty and %s/%s has no "
			"record of sanso writing it: nothing shows what it "
			"held", state_dir, CHAIN_DIR);
}

/* Without the writer's record the end of the log hangs in the air. */
static void check_anchored(struct verifier *vf, const char *state_dir,
			   size_t n_deploy, bool user)
{
	char p[PATH_MAX], dep[PATH_MAX + 64] = "";
	struct stat st;

	if (vf->rec != REC_NONE || !vf->v->lines)
		return;
	if (user) {
		note(vf->d, vf->path, "%s/%s has no record of this "
		     "file's end: it is checked against --head only, and "
		     "lines after that seq cannot be", state_dir, CHAIN_DIR);
		return;
	}
	if (n_deploy)
		snprintf(dep, sizeof(dep), " while %s/deploy holds %zu "
			 "deployment%s", state_dir, n_deploy,
			 n_deploy == 1 ? "" : "s");
	snprintf(p, sizeof(p), "%s/" CHAIN_DIR, state_dir);
	if (stat(p, &st))
		finding(vf, 0, "anchor", "%s is missing%s: the records of "
			"where each log ends were removed, so lines removed "
			"from its end or a whole log replaced cannot be ruled "
			"out; check it against a head kept elsewhere "
			"(--head)", p, dep);
	else
		finding(vf, 0, "anchor", "%s has no record of this file's "
			"end (removed; or a copy, or a log written on another "
			"machine): lines removed from its end or a whole log "
			"replaced cannot be ruled out; check it against a head "
			"kept elsewhere (--head)", p);
}

/* A log that is gone where sanso wrote one is a finding, not a path
 * mistyped. */
static bool log_removed(struct verifier *vf, const char *state_dir,
			const char *path)
{
	char name[64];

	if (path_head_name(path, name, sizeof(name)) ||
	    snprintf(vf->hp, sizeof(vf->hp), "%s/%s/%s", state_dir, CHAIN_DIR,
		     name) >= (int)sizeof(vf->hp) ||
	    !load_head(vf->hp, &vf->head) || !vf->head.c.seq)
		return false;
	finding(vf, 0, "removed", "the log is gone, but sanso wrote up to "
		"seq %" PRIu64 " to a file at this path (%s): it was removed",
		vf->head.c.seq, vf->hp);
	return true;
}

/* Whether path is state_dir/audit.log, which deployments anchor. */
static bool is_deploy_log(const char *state_dir, const struct stat *st)
{
	char p[PATH_MAX];
	struct stat a;

	return snprintf(p, sizeof(p), "%s/audit.log", state_dir) <
	       (int)sizeof(p) && !stat(p, &a) && a.st_dev == st->st_dev &&
	       a.st_ino == st->st_ino;
}

int audit_verify(const char *state_dir, const char *path, struct diags *d,
		 struct audit_verdict *v)
{
	return audit_verify_head(state_dir, path, NULL, d, v);
}

int audit_verify_head(const char *state_dir, const char *path,
		      const struct audit_chain *head, struct diags *d,
		      struct audit_verdict *v)
{
	struct verifier *vf;
	size_t first_finding = d->n, cap = 0, n_deploy = 0;
	int lineno = 0, r;
	char *line = NULL;
	struct stat st;
	FILE *f = NULL;
	ssize_t len;

	memset(v, 0, sizeof(*v));
	vf = calloc(1, sizeof(*vf));
	if (!vf)
		return -ENOMEM;
	vf->path = path;
	vf->d = d;
	vf->v = v;
	r = audit_key_load(state_dir, false, vf->key);
	if (r)
		goto out;
	f = fopen(path, "re");
	if (!f && errno == ENOENT && log_removed(vf, state_dir, path))
		goto out;
	if (!f || fstat(fileno(f), &st)) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	vf->rec = find_head(state_dir, path, fileno(f), &st, &vf->head,
			    vf->hp, sizeof(vf->hp));
	vf->have_head = vf->rec != REC_NONE;
	if (vf->rec == REC_PATH && st.st_size)
		note(d, path, "not the file sanso last wrote at this path (its "
		     "inode changed: rewritten, or copied back); its end is "
		     "checked against the path's record");
	if (is_deploy_log(state_dir, &st))
		n_deploy = deploy_anchors(vf, state_dir);
	if (head) {
		struct anchor *na = realloc(vf->anchors, (vf->n_anchors + 1) *
					    sizeof(*na));

		if (!na) {
			r = -ENOMEM;
			goto out;
		}
		vf->anchors = na;
		na += vf->n_anchors++;
		memset(na, 0, sizeof(*na));
		na->c = *head;
		na->user = true;
		snprintf(na->src, sizeof(na->src), "--head");
	}
	if (vf->n_anchors > 1)
		qsort(vf->anchors, vf->n_anchors, sizeof(*vf->anchors),
		      anchor_cmp);
	errno = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		bool trunc = line[len - 1] != '\n';

		if (!trunc)
			line[--len] = '\0';
		v->lines++;
		check_line(vf, ++lineno, line, (size_t)len, trunc);
	}
	if (ferror(f)) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	if (!v->lines)
		check_empty(vf, state_dir);
	check_anchored(vf, state_dir, n_deploy, head != NULL);
	check_end(vf, lineno, state_dir);
	v->head_checked = vf->have_head && !v->tampered;
	sort_findings(d, first_finding);
out:
	if (f)
		fclose(f);
	free(line);
	free(vf->gaps);
	free(vf->anchors);
	OPENSSL_cleanse(vf->key, sizeof(vf->key));
	free(vf);
	return r;
}
