// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "cmd.h"
#include "i18n.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;
	const char *description;
} commands[] = {
	{ "check", cmd_check, "FILE [--at DATE] [--format text|json | -j] | "
	  "--explain CODE",
	  N_("validate a zone file against the three-tier invariants") },
	{ "compile", cmd_compile, "FILE [-o OUT] [--table NAME] [--at DATE] [--dnsmasq]",
	  N_("print the nftables ruleset as an nft -f script") },
	{ "apply", cmd_apply,
	  "FILE [--confirm SECONDS] [--table NAME] [--dry-run] "
	  "[--state-dir DIR] | --deployed | --fail-closed",
	  N_("load the ruleset into the kernel in one atomic transaction") },
	{ "confirm", cmd_confirm, "[--state-dir DIR]",
	  N_("keep an apply made with --confirm") },
	{ "rollback", cmd_rollback, "[--state-dir DIR]",
	  N_("restore the previous deployment") },
	{ "status", cmd_status, "[--state-dir DIR] [--format text|json | -j]",
	  N_("show the deployment, a pending confirm and drift") },
	{ "diff", cmd_diff,
	  "OLD NEW [--at DATE] [--format text|markdown|json | -j]",
	  N_("semantic difference of two zone files for change review") },
	{ "explain", cmd_explain,
	  "FILE --from ADDR --to ADDR --service PROTO/PORT [--at TIME] "
	  "[--format text|json | -j]",
	  N_("which flow, or the default drop, decides a packet, and why") },
	{ "graph", cmd_graph, "FILE",
	  N_("Graphviz DOT of zones, hosts and flows") },
	{ "monitor", cmd_monitor,
	  "[FILE] [--user NAME] [--state-dir DIR] [--data-dir DIR] "
	  "[--table NAME] "
	  "[--drift-interval SECONDS] [--jsonl FILE] [--replay FILE.pcap] "
	  "[--record FILE.pcap] [--once] [--no-dnsguard]",
	  N_("watch conntrack and the drop log for violations; run the DNS guard") },
	{ "resolve", cmd_resolve,
	  "FILE [--once] [--state-dir DIR] [--table NAME] [--jsonl FILE] [-v]",
	  N_("prefill and refresh the FQDN sets from their exact names") },
	{ "dnsguard", cmd_dnsguard,
	  "FILE [--state-dir DIR] [--table NAME] [--listen ADDR[:PORT]]... "
	  "[--jsonl FILE] [-v]",
	  N_("answer DNS for the FQDN sets and keep their kernel sets in step") },
	{ "report", cmd_report,
	  "[--state-dir DIR] [--alerts FILE]... [--since DATE] "
	  "[--until DATE] [--lang ja|en] [--format html|json | -j] "
	  "[--timezone TZ] [--no-verify]",
	  N_("the evidence of a period: deployments, model, alerts, charts") },
	{ "verify-log", cmd_verify_log, "FILE... [--state-dir DIR] [--head SEQ:MAC]",
	  N_("verify the HMAC chain of alert and audit logs") },
};

void cmd_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sanso: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, _(fmt), ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cmd_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sanso: %s: ", cmd);
	diag_sev_print(stderr, DIAG_WARNING);
	fputs(": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, _(fmt), ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cmd_usage(FILE *out, const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			fprintf(out, _("Usage: sanso %s %s\n%s.\n"),
				commands[i].name, commands[i].synopsis,
				_(commands[i].description));
}

static void usage(FILE *out)
{
	fputs(_("Usage: sanso COMMAND [ARGS]...\n"
		"       sanso --version\n\n"
		"sanso enforces the three-tier separation of a zone file.\n\n"
		"Commands:\n"), out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			_(commands[i].description));
	fputs(_("\nRun 'sanso COMMAND --help' for a command's options; "
		"see sanso(8).\n"), out);
}

int main(int argc, char **argv)
{
	/* Capabilities systemd hands over (AmbientCapabilities=) are for
	 * sanso alone: programs it starts, such as an exec alert sink,
	 * must not inherit them. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	i18n_init();
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("sanso %s\n", SANSO_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, _("sanso: unknown command \"%s\"\n"), argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
