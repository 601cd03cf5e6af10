// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "deploy.h"

int cmd_rollback(int argc, char **argv)
{
	const char *state = DEPLOY_STATE_DIR;
	struct deployment d;
	char err[1024] = "";
	int lock, ret = cmd_state_opts("rollback", argc, argv, &state);

	if (ret >= 0)
		return ret;
	lock = deploy_lock(state, DEPLOY_LOCK_WAIT, err, sizeof(err));
	if (lock == -ENOENT) {
		cmd_err("rollback", "nothing is deployed");
		return EXIT_FINDINGS;
	}
	if (lock < 0) {
		cmd_err("rollback", "%s", err);
		return lock == -EWOULDBLOCK ? EXIT_FINDINGS : EXIT_SYSTEM;
	}
	err[0] = '\0';
	ret = deploy_rollback(state, "sanso rollback", err, sizeof(err));
	if (ret == -ENOENT && !err[0])
		snprintf(err, sizeof(err), "nothing is deployed");
	if (ret) {
		cmd_err("rollback", "%s", err[0] ? err : strerror(-ret));
		ret = ret == -ENOENT ? EXIT_FINDINGS : EXIT_SYSTEM;
		goto out;
	}
	if (err[0])
		fprintf(stderr, "sanso: rollback: warning: %s\n", err);
	if (deploy_current(state, &d))
		printf("rolled back: no sanso table is loaded now\n");
	else
		printf("rolled back to deployment %u\n", d.id);
	ret = EXIT_OK;
out:
	deploy_unlock(lock);
	return ret;
}
