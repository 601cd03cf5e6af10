// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "deploy.h"
#include "i18n.h"

static void help(FILE *out)
{
	cmd_usage(out, "rollback");
	fprintf(out, _("\n  --state-dir DIR  deployment records (default %s)\n"
		"  --expired ID     the confirm timer's job: wait for the "
		"deadline of pending\n"
		"                   deployment ID, then roll it back unless "
		"confirmed\n"), DEPLOY_STATE_DIR);
}

int cmd_rollback(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "expired", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *state = DEPLOY_STATE_DIR;
	struct deployment d;
	char err[1024] = "", how[256] = "", *end;
	unsigned long expired = 0;
	int c, lock, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'e':
			errno = 0;
			expired = strtoul(optarg, &end, 10);
			if (errno || *end || !expired || expired > UINT_MAX ||
			    optarg[0] == '-') {
				cmd_err("rollback", "bad --expired \"%s\" (a "
					"deployment number)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (expired)
		return deploy_expire_wait(state, (unsigned int)expired) ?
		       EXIT_SYSTEM : EXIT_OK;
	lock = deploy_lock(state, DEPLOY_LOCK_WAIT, err, sizeof(err));
	if (lock == -ENOENT) {
		cmd_err("rollback", "nothing is deployed");
		return EXIT_FINDINGS;
	}
	if (lock < 0) {
		cmd_err("rollback", MSG_AS_IS, err);
		return lock == -EWOULDBLOCK ? EXIT_FINDINGS : EXIT_SYSTEM;
	}
	err[0] = '\0';
	ret = cmd_settle("rollback", state, false);
	if (ret)
		goto out;
	ret = deploy_rollback(state, "sanso rollback", how, sizeof(how), err,
			      sizeof(err));
	if (ret == -ENOENT && !err[0])
		snprintf(err, sizeof(err), "%s", _("nothing is deployed"));
	if (ret) {
		cmd_err("rollback", MSG_AS_IS, err[0] ? err : strerror(-ret));
		ret = ret == -ENOENT ? EXIT_FINDINGS : EXIT_SYSTEM;
		goto out;
	}
	if (err[0])
		cmd_warn("rollback", MSG_AS_IS, err);
	if (deploy_current(state, &d))
		fputs(_("rolled back: no sanso table is loaded now\n"), stdout);
	else
		printf(_("rolled back to deployment %u (%s)\n"), d.id, how);
	ret = EXIT_OK;
out:
	deploy_unlock(lock);
	return ret;
}
