// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cmd.h"
#include "deploy.h"

/* Options shared by confirm and rollback: only --state-dir. Returns the
 * exit status to stop with, or -1 to go on. */
int cmd_state_opts(const char *cmd, int argc, char **argv,
		   const char **state)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			*state = optarg;
			break;
		case 'h':
			cmd_usage(stdout, cmd);
			printf("\n  --state-dir DIR  deployment records (default "
			       DEPLOY_STATE_DIR ")\n");
			return EXIT_OK;
		default:
			cmd_usage(stderr, cmd);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cmd_usage(stderr, cmd);
		return EXIT_USAGE;
	}
	return -1;
}

int cmd_confirm(int argc, char **argv)
{
	const char *state = DEPLOY_STATE_DIR;
	struct pending pd;
	int ret = cmd_state_opts("confirm", argc, argv, &state);

	if (ret >= 0)
		return ret;
	ret = deploy_confirm(state, &pd);
	if (ret == -ENOENT) {
		cmd_err("confirm", "no apply is waiting for confirmation");
		return EXIT_FINDINGS;
	}
	if (ret) {
		cmd_err("confirm", "%s: %s", state, strerror(-ret));
		return EXIT_SYSTEM;
	}
	printf("kept deployment %u\n", pd.id);
	return EXIT_OK;
}
