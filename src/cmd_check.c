// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cmd.h"
#include "i18n.h"
#include "json.h"
#include "model.h"
#include "parse.h"
#include "sched.h"

static void help(FILE *out)
{
	cmd_usage(out, "check");
	fputs(_("\n"
		"  --at DATE        judge waivers and dated windows as of DATE\n"
		"                   (YYYY-MM-DD or YYYY-MM-DDTHH:MM, local time)\n"
		"  --format FORMAT  text (default) or json\n"
		"  -j               same as --format json\n"
		"  --explain CODE   what a finding code (T1, E004, W08 ...)\n"
		"                   checks and the guideline point it enforces\n"
		"  -h, --help       this help\n"),
	      out);
}

/* --explain CODE: no zone file, the code's entry from check_codes[]. */
static int explain_code(const char *code, const char *format, bool alone)
{
	char up[8];
	const struct check_code *cc;
	size_t i;

	if (!alone) {
		help(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(up) - 1 && code[i]; i++)
		up[i] = (char)(code[i] >= 'a' && code[i] <= 'z' ?
			       code[i] - 'a' + 'A' : code[i]);
	up[i] = '\0';
	cc = code[i] ? NULL : check_code_find(up);
	if (!cc) {
		cmd_err("check", "unknown code \"%s\" (E001-E009, T1-T10, "
			"W01-W09)", code);
		return EXIT_USAGE;
	}
	if (!strcmp(format, "json")) {
		json_t *o = json_object();
		int err = o ? 0 : -ENOMEM;

		jx_set(o, "code", jx_str(cc->code), &err);
		jx_set(o, "point", jx_str(cc->point), &err);
		jx_set(o, "intent", jx_str(cc->intent), &err);
		jx_set(o, "checks", jx_str(cc->what), &err);
		if (jx_print(stdout, jx_done(o, err))) {
			cmd_err("check", "out of memory");
			return EXIT_SYSTEM;
		}
		fputs("\n", stdout);
		return EXIT_OK;
	}
	printf("%s", cc->code);
	if (cc->point)
		printf(_(" (%s)\n  guideline: %s"), cc->point, cc->intent);
	printf(_("\n  checks: %s\n"), _(cc->what));
	if (cc->point)
		fputs(_("  source: 地方公共団体における情報セキュリティポリシーに"
			"関するガイドライン, 対策基準\n"), stdout);
	return EXIT_OK;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "explain", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *at = NULL, *format = "text", *explain = NULL;
	struct diags d = { 0 };
	struct model *m = NULL;
	time_t when;
	int32_t today;
	int c, ret = EXIT_SYSTEM;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			at = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'j':
			format = "json";
			break;
		case 'e':
			explain = optarg;
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
	if (explain)
		return explain_code(explain, format, optind == argc);
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
