// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The catalogue: gettext for what the operator reads in the process
 * locale, and a direct reader of the compiled catalogue for alerts,
 * whose language is the zone file's (monitor.language) so that a SIEM
 * parses the same text whatever locale the daemon runs in. glibc would
 * only give another language through LANGUAGE, which is the whole
 * process's; reading the .mo is simpler than juggling it.
 */
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/local/share/locale"
#endif

#define MO_MAGIC 0x950412deu
#define MO_MAGIC_SWAPPED 0xde120495u

const char *i18n_localedir(void)
{
	const char *dir = getenv("SANSO_LOCALEDIR");

	return dir && *dir ? dir : LOCALEDIR;
}

void i18n_init(void)
{
	setlocale(LC_ALL, "");
	bindtextdomain("sanso", i18n_localedir());
	bind_textdomain_codeset("sanso", "UTF-8");
	textdomain("sanso");
}

/* One compiled catalogue, mapped for the life of the process. */
struct mo {
	const unsigned char *p;
	size_t len;
	uint32_t n, orig, trans;
	bool swapped;
};

static uint32_t mo_u32(const struct mo *mo, size_t off)
{
	uint32_t v;

	memcpy(&v, mo->p + off, 4);
	return mo->swapped ? __builtin_bswap32(v) : v;
}

/* The string of table entry i (its length and offset), or NULL when the
 * file is damaged. */
static const char *mo_str(const struct mo *mo, uint32_t table, uint32_t i)
{
	size_t at = (size_t)table + (size_t)i * 8;
	uint32_t len, off;

	if (at + 8 > mo->len)
		return NULL;
	len = mo_u32(mo, at);
	off = mo_u32(mo, at + 4);
	if ((size_t)off + len >= mo->len || mo->p[off + len])
		return NULL;
	return (const char *)mo->p + off;
}

static bool mo_open(struct mo *mo, const char *lang)
{
	char path[4096];
	struct stat st;
	uint32_t magic;
	void *p;
	int fd;

	memset(mo, 0, sizeof(*mo));
	if (snprintf(path, sizeof(path), "%s/%s/LC_MESSAGES/sanso.mo",
		     i18n_localedir(), lang) >= (int)sizeof(path))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || st.st_size < 28 || st.st_size > (1 << 26)) {
		close(fd);
		return false;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return false;
	mo->p = p;
	mo->len = (size_t)st.st_size;
	memcpy(&magic, mo->p, 4);
	if (magic != MO_MAGIC && magic != MO_MAGIC_SWAPPED)
		goto bad;
	mo->swapped = magic == MO_MAGIC_SWAPPED;
	mo->n = mo_u32(mo, 8);
	mo->orig = mo_u32(mo, 12);
	mo->trans = mo_u32(mo, 16);
	if ((size_t)mo->orig + (size_t)mo->n * 8 > mo->len ||
	    (size_t)mo->trans + (size_t)mo->n * 8 > mo->len)
		goto bad;
	return true;
bad:
	munmap(p, mo->len);
	memset(mo, 0, sizeof(*mo));
	return false;
}

/* msgfmt sorts the originals by strcmp(). */
static const char *mo_find(const struct mo *mo, const char *msgid)
{
	uint32_t lo = 0, hi = mo->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const char *o = mo_str(mo, mo->orig, mid);
		int c;

		if (!o)
			return NULL;
		c = strcmp(msgid, o);
		if (!c) {
			const char *t = mo_str(mo, mo->trans, mid);

			return t && *t ? t : NULL;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static struct mo ja_mo;
static pthread_once_t ja_once = PTHREAD_ONCE_INIT;

static void ja_load(void)
{
	mo_open(&ja_mo, "ja");
}

static enum msg_lang alert_lang = LANG_EN;

void i18n_alert_lang_set(enum msg_lang lang)
{
	alert_lang = lang;
}

const char *alert_text(const char *msgid)
{
	return i18n_lang_text(alert_lang, msgid);
}

const char *i18n_lang_text(enum msg_lang lang, const char *msgid)
{
	const char *t;

	if (lang != LANG_JA || !*msgid)
		return msgid;
	pthread_once(&ja_once, ja_load);
	t = ja_mo.p ? mo_find(&ja_mo, msgid) : NULL;
	return t ? t : msgid;
}
