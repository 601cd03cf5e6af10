// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cmd.h"
#include "model.h"
#include "parse.h"
#include "sched.h"

static void help(FILE *out)
{
	cmd_usage(out, "check");
	fprintf(out, "\n"
		"  --at DATE        judge waivers and dated windows as of DATE\n"
		"                   (YYYY-MM-DD or YYYY-MM-DDTHH:MM, local time)\n"
		"  --format FORMAT  text (default) or json\n"
		"  -h, --help       this help\n");
}

/* The local date of `when` in the model's timezone; UTC when the file's
 * timezone is unusable (that is already an E008). */
static int32_t local_day(const struct model *m, time_t when)
{
	int32_t days;
	int secs, wday, off;

	if (m->timezone && !tz_check(m->timezone) &&
	    !tz_utc_to_local(m->timezone, when, &days, &secs, &wday, &off))
		return days;
	return (int32_t)(when / 86400);
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *at = NULL, *format = "text";
	struct diags d = { 0 };
	struct model *m = NULL;
	time_t when = time(NULL);
	int c, ret = EXIT_SYSTEM;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			at = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json")) {
		cmd_err("check", "unknown format \"%s\" (text or json)",
			format);
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		help(stderr);
		return EXIT_USAGE;
	}

	m = model_load(argv[optind], &d);
	if (!m) {
		cmd_err("check", "%s: %s", argv[optind], strerror(errno));
		goto out;
	}
	if (at) {
		const char *tz = m->timezone && !tz_check(m->timezone) ?
				 m->timezone : "UTC";

		if (tz_parse_when(tz, at, &when)) {
			cmd_err("check", "bad --at \"%s\" (YYYY-MM-DD or "
				"YYYY-MM-DDTHH:MM)", at);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	check_model(m, local_day(m, when), &d);

	if (!strcmp(format, "json")) {
		diags_print_json(&d, stdout);
	} else {
		diags_print_text(&d, stdout);
		diags_print_summary(&d, stdout);
	}
	ret = d.errors ? EXIT_FINDINGS : EXIT_OK;
out:
	model_free(m);
	diags_free(&d);
	return ret;
}
