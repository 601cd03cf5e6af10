// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "deploy.h"
#include "i18n.h"

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
			printf(_("\n  --state-dir DIR  deployment records "
				 "(default %s)\n"), DEPLOY_STATE_DIR);
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

int cmd_settle(const char *cmd, const char *state, bool expire)
{
	char note[512], err[1024] = "";
	struct pending pd;
	int ret = deploy_settle(state, note, sizeof(note));

	if (ret < 0) {
		cmd_err(cmd, MSG_AS_IS, note);
		return EXIT_SYSTEM;
	}
	if (ret > 0)
		cmd_err(cmd, MSG_AS_IS, note);
	if (!expire || deploy_pending(state, &pd) || time(NULL) < pd.deadline)
		return 0;
	ret = deploy_rollback(state, "confirm deadline passed; its timer had "
			      "not rolled back", NULL, 0, err, sizeof(err));
	if (ret) {
		deploy_audit(state, "rollback-failed", NULL, err);
		cmd_err(cmd, "deployment %u is past its confirm deadline and "
			"rolling it back failed: %s", pd.id,
			err[0] ? err : strerror(-ret));
		return EXIT_SYSTEM;
	}
	cmd_err(cmd, "deployment %u was past its confirm "
		"deadline: rolled back%s%s", pd.id, err[0] ? ": " : "",
		err);
	return 0;
}

int cmd_confirm(int argc, char **argv)
{
	const char *state = DEPLOY_STATE_DIR;
	struct deployment d;
	struct pending pd;
	char err[1024] = "";
	int lock, ret = cmd_state_opts("confirm", argc, argv, &state);

	if (ret >= 0)
		return ret;
	lock = deploy_lock(state, DEPLOY_LOCK_WAIT, err, sizeof(err));
	if (lock == -ENOENT) {
		cmd_err("confirm", "no apply is waiting for confirmation");
		return EXIT_FINDINGS;
	}
	if (lock < 0) {
		cmd_err("confirm", MSG_AS_IS, err);
		return lock == -EWOULDBLOCK ? EXIT_FINDINGS : EXIT_SYSTEM;
	}
	err[0] = '\0';
	ret = cmd_settle("confirm", state, false);
	if (ret) {
		deploy_unlock(lock);
		return ret;
	}
	ret = deploy_confirm(state, &pd);
	if (ret == -ENOENT) {
		cmd_err("confirm", "no apply is waiting for confirmation");
		ret = EXIT_FINDINGS;
	} else if (ret == -ETIMEDOUT) {
		/* The timer would do the same once it has the lock; doing it
		 * here means confirm returns with the outcome settled. */
		ret = deploy_rollback(state, "confirm after the deadline", NULL, 0, err,
				      sizeof(err));
		if (ret) {
			cmd_err("confirm", "too late: the deadline of "
				"deployment %u has passed, and rolling it back "
				"failed: %s", pd.id,
				err[0] ? err : strerror(-ret));
			ret = EXIT_SYSTEM;
		} else {
			if (err[0])
				cmd_warn("confirm", MSG_AS_IS,
					err);
			if (deploy_current(state, &d))
				cmd_err("confirm", "too late: the deadline of "
					"deployment %u has passed; rolled "
					"back: no sanso table is loaded now",
					pd.id);
			else
				cmd_err("confirm", "too late: the deadline of "
					"deployment %u has passed; rolled back "
					"to deployment %u", pd.id, d.id);
			ret = EXIT_FINDINGS;
		}
	} else if (ret) {
		cmd_err("confirm", "%s: %s", state, strerror(-ret));
		ret = EXIT_SYSTEM;
	} else {
		printf(_("kept deployment %u\n"), pd.id);
		ret = EXIT_OK;
	}
	deploy_unlock(lock);
	return ret;
}
