/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Messages in the user's language (gettext, domain "sanso"). English is
 * the source and the default; po/ja.po holds the Japanese.
 */
#ifndef SANSO_I18N_H
#define SANSO_I18N_H

#include <libintl.h>

#define _(s)	gettext(s)
#define N_(s)	s
/* The format of a message already translated and formatted, passed on to
 * a function that translates its format: not a literal, so xgettext does
 * not take "%s" for a message. */
#define MSG_AS_IS "%s"

/* The language of alert messages (monitor.language), whatever the
 * process locale. */
enum msg_lang {
	LANG_EN,
	LANG_JA,
};

/* setlocale(LC_ALL, "") and the message catalogue: SANSO_LOCALEDIR when
 * set, else the LOCALEDIR sanso was built with. Commands only. */
void i18n_init(void);
/* The directory catalogues are read from. */
const char *i18n_localedir(void);

/* `msgid` in `lang`, read from the catalogue itself, so that it works
 * with any locale (ja_JP.UTF-8 need not exist). English, or a message
 * the catalogue lacks, is msgid itself. */
const char *i18n_lang_text(enum msg_lang lang, const char *msgid)
	__attribute__((format_arg(2)));

/* The language of alert messages, set from the zone file
 * (monitor.language) by the commands that raise alerts; LANG_EN until
 * then. */
void i18n_alert_lang_set(enum msg_lang lang);
/* `msgid` in that language. */
const char *alert_text(const char *msgid) __attribute__((format_arg(1)));

#endif
