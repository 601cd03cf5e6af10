// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What every command that reads a zone file does first: load, validate
 * as of a time, and compile the policy.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "cmd.h"
#include "i18n.h"
#include "sched.h"

int cmd_when(const struct model *m, const char *at, time_t *when,
	     int32_t *today)
{
	const char *tz = m->timezone && !tz_check(m->timezone) ?
			 m->timezone : "UTC";
	int secs, wday, off;

	*when = time(NULL);
	if (at && tz_parse_when(tz, at, when))
		return -EINVAL;
	if (tz_utc_to_local(tz, *when, today, &secs, &wday, &off))
		*today = (int32_t)(*when / 86400);
	return 0;
}

bool table_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !((*s >= 'a' && *s <= 'z') ||
				   (*s >= 'A' && *s <= 'Z')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static int load_rest(const char *cmd, const char *path, const char *at,
		     struct loaded *l)
{
	if (cmd_when(l->m, at, &l->when, &l->today)) {
		cmd_err(cmd, "bad --at \"%s\" (YYYY-MM-DD or "
			"YYYY-MM-DDTHH:MM)", at);
		return EXIT_USAGE;
	}
	check_model(l->m, l->today, &l->d);
	diags_print_text(&l->d, stderr);
	if (l->d.errors) {
		diags_print_summary(&l->d, stderr);
		cmd_err(cmd, "%s has errors; nothing done", path);
		return EXIT_FINDINGS;
	}
	l->policy = policy_build(l->m);
	if (!l->policy) {
		cmd_err(cmd, MSG_AS_IS, strerror(errno));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

int cmd_load(const char *cmd, const char *path, const char *at,
	     struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	l->m = model_load(path, &l->d);
	if (!l->m) {
		cmd_err(cmd, "%s: %s", path, strerror(errno));
		return EXIT_SYSTEM;
	}
	return load_rest(cmd, path, at, l);
}

int cmd_load_buf(const char *cmd, const char *path, const char *buf,
		 size_t len, const struct model_opts *o, const char *at,
		 struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	l->m = model_load_opts(path, buf, len, o, &l->d);
	if (!l->m) {
		cmd_err(cmd, "%s: %s", path, strerror(errno));
		return EXIT_SYSTEM;
	}
	return load_rest(cmd, path, at, l);
}

void loaded_free(struct loaded *l)
{
	policy_free(l->policy);
	model_free(l->m);
	diags_free(&l->d);
	memset(l, 0, sizeof(*l));
}
