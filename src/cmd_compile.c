// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dnsguard.h"
#include "cmd.h"
#include "i18n.h"
#include "model.h"
#include "policy.h"
#include "ruleset.h"
#include "sched.h"

static void help(FILE *out)
{
	cmd_usage(out, "compile");
	fputs(_("\n"
		"  -o, --output FILE  write the script to FILE instead of "
		"stdout\n"
		"  --table NAME       table name (default \"sanso\"; family "
		"inet)\n"
		"  --at DATE          compile as of DATE (schedule horizon)\n"
		"  --dnsmasq          print dnsmasq nftset= lines for the FQDN "
		"sets instead\n"
		"  -h, --help         this help\n"),
	      out);
}

int cmd_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "table", required_argument, NULL, 't' },
		{ "at", required_argument, NULL, 'a' },
		{ "dnsmasq", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *output = NULL, *table = RS_DEFAULT_TABLE, *at = NULL;
	struct loaded l = { 0 };
	struct ruleset *rs = NULL;
	char *tmp = NULL;
	FILE *out = stdout;
	bool dnsmasq = false;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 't':
			table = optarg;
			break;
		case 'a':
			at = optarg;
			break;
		case 'd':
			dnsmasq = true;
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (!table_name_ok(table)) {
		cmd_err("compile", "bad table name \"%s\"", table);
		return EXIT_USAGE;
	}
	ret = cmd_load("compile", argv[optind], at, &l);
	if (ret)
		goto out;
	ret = EXIT_SYSTEM;
	if (!dnsmasq)
		rs = ruleset_build(l.policy, table, l.when);
	if (!dnsmasq && !rs) {
		cmd_err("compile", MSG_AS_IS, strerror(errno));
		goto out;
	}
	if (output) {
		int fd;

		if (asprintf(&tmp, "%s.XXXXXX", output) < 0) {
			tmp = NULL;
			goto out;
		}
		fd = mkstemp(tmp);
		if (fd < 0 || !(out = fdopen(fd, "w"))) {
			cmd_err("compile", "%s: %s", output, strerror(errno));
			if (fd >= 0)
				close(fd);
			out = stdout;
			goto out;
		}
	}
	if ((dnsmasq ? dnsmasq_print(l.m, table, out) :
	     ruleset_print(rs, out)) || fflush(out)) {
		cmd_err("compile", "write: %s", strerror(errno));
		goto out;
	}
	if (output) {
		if (fclose(out) || rename(tmp, output)) {
			out = stdout;
			cmd_err("compile", "%s: %s", output, strerror(errno));
			goto out;
		}
		out = stdout;
		free(tmp);
		tmp = NULL;
	}
	ret = EXIT_OK;
out:
	if (out != stdout)
		fclose(out);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	ruleset_free(rs);
	loaded_free(&l);
	return ret;
}
