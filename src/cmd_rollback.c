// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include "cmd.h"
#include "deploy.h"

int cmd_rollback(int argc, char **argv)
{
	const char *state = DEPLOY_STATE_DIR;
	struct deployment d;
	char err[1024] = "";
	int ret = cmd_state_opts("rollback", argc, argv, &state);

	if (ret >= 0)
		return ret;
	ret = deploy_rollback(state, "sanso rollback", err, sizeof(err));
	if (ret == -ENOENT && !err[0])
		snprintf(err, sizeof(err), "nothing is deployed");
	if (ret) {
		cmd_err("rollback", "%s", err[0] ? err : strerror(-ret));
		return ret == -ENOENT ? EXIT_FINDINGS : EXIT_SYSTEM;
	}
	if (err[0])
		fprintf(stderr, "sanso: rollback: warning: %s\n", err);
	if (deploy_current(state, &d))
		printf("rolled back: no sanso table is loaded now\n");
	else
		printf("rolled back to deployment %u\n", d.id);
	return EXIT_OK;
}
