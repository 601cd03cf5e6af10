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
	time_t when;
	int32_t today;
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
	if (cmd_when(m, at, &when, &today)) {
		cmd_err("check", "bad --at \"%s\" (YYYY-MM-DD or "
			"YYYY-MM-DDTHH:MM)", at);
		ret = EXIT_USAGE;
		goto out;
	}
	check_model(m, today, &d);

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
