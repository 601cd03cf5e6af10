// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libnftnl/set.h>

#include "cmd.h"
#include "deploy.h"
#include "i18n.h"
#include "ruleset.h"

static void help(FILE *out)
{
	cmd_usage(out, "apply");
	fprintf(out, _("\n"
		"  --confirm SECONDS  roll back unless 'sanso confirm' runs "
		"in time\n"
		"  --table NAME       table name (default \"sanso\"; family "
		"inet)\n"
		"  --dry-run          let the kernel check the batch; change "
		"nothing\n"
		"  --state-dir DIR    deployment records (default %s)\n"
		"  --at DATE          compile as of DATE (schedule horizon)\n"
		"  --deployed         load the current deployment again (at "
		"boot; no FILE)\n"
		"  --fail-closed      load a table that forwards nothing (no "
		"FILE)\n"
		"  -h, --help         this help\n"), DEPLOY_STATE_DIR);
}

/* A zone interface the gateway does not have yet is worth a warning, not
 * a refusal: the rules match names, and a VM may gain the NIC later. One
 * line for all of them, so that a file tried on a workstation does not
 * bury the outcome. */
#define WARN_IFACES_NAMED 5

/* One line rewritten in place: the time so far and the phase. */
static void show_phase(void *ctx, const char *phase)
{
	const struct timespec *t0 = ctx;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	fprintf(stderr, "\r\033[K%5.1f s  %s", (double)(now.tv_sec -
		t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9, phase);
	fflush(stderr);
}

static void warn_missing_ifaces(const struct model *m, const char *path)
{
	char *list = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&list, &len);

	if (!f)
		return;
	for (size_t i = 0; i < m->n_zones; i++)
		for (size_t j = 0; j < m->zones[i].n_ifaces; j++) {
			const struct iface *ifc = &m->zones[i].ifaces[j];

			if (if_nametoindex(ifc->name))
				continue;
			/* One line however many: the first few named. */
			if (n < WARN_IFACES_NAMED)
				fprintf(f, _("%s%s (zone %s, %s:%d)"),
					n ? _(", ") : "", ifc->name,
					m->zones[i].name, path, ifc->loc.line);
			n++;
		}
	if (n > WARN_IFACES_NAMED)
		fprintf(f, _(" and %zu more"), n - WARN_IFACES_NAMED);
	if (fclose(f) == 0 && n)
		cmd_warn("apply", "%zu interface%s of "
			"the zone file do%s not exist on this gateway: %s", n,
			n == 1 ? "" : "s", n == 1 ? "es" : "", list);
	free(list);
}

/* --deployed (at boot: the current deployment again, exactly) and
 * --fail-closed (when even that cannot load). Neither makes a new
 * deployment: status then tells the truth about what is live. */
static int apply_special(int what, const char *table, const char *state,
			 bool dry)
{
	struct deployment d;
	struct ruleset *rs = NULL;
	char err[1024] = "";
	int c, lock = -1, ret = EXIT_SYSTEM;

	if (what == 'D' && !dry) {
		lock = deploy_lock(state, DEPLOY_LOCK_WAIT, err, sizeof(err));
		if (lock == -ENOENT) {
			cmd_err("apply", "--deployed: nothing is deployed");
			return EXIT_FINDINGS;
		}
		if (lock < 0) {
			cmd_err("apply", "--deployed: %s", err);
			return lock == -EWOULDBLOCK ? EXIT_FINDINGS :
			       EXIT_SYSTEM;
		}
		err[0] = '\0';
	} else if (!dry) {
		/* The safety net loads whatever the state directory's
		 * condition: the lock only keeps the audit chain whole. */
		lock = deploy_lock(state, DEPLOY_LOCK_WAIT, err, sizeof(err));
		err[0] = '\0';
	}
	if (what == 'D' && !dry && (ret = cmd_settle("apply", state, false)))
		goto out;
	ret = EXIT_SYSTEM;
	if (what == 'D') {
		struct pending pd;

		/* A reboot before confirm: the unconfirmed deployment is
		 * exactly what commit-confirmed guards against. */
		if (!deploy_pending(state, &pd)) {
			c = deploy_rollback(state, "confirm pending at boot", NULL, 0, err,
					    sizeof(err));
			if (c) {
				cmd_err("apply", "--deployed: deployment %u was "
					"never confirmed and rolling it back "
					"failed: %s", pd.id,
					err[0] ? err : strerror(-c));
				goto out;
			}
			if (err[0])
				cmd_warn("apply", MSG_AS_IS,
					err);
			printf(_("deployment %u was never confirmed: rolled "
				 "back\n"), pd.id);
			ret = EXIT_OK;
			goto out;
		}
		c = deploy_current(state, &d);
		if (c) {
			cmd_err("apply", "--deployed: %s", c == -ENOENT ?
				"nothing is deployed" : strerror(-c));
			ret = c == -ENOENT ? EXIT_FINDINGS : EXIT_SYSTEM;
			goto out;
		}
		c = deploy_rebuild(state, &d, &rs, err, sizeof(err));
		if (!c && err[0]) {
			cmd_warn("apply", MSG_AS_IS, err);
			err[0] = '\0';
		}
	} else {
		rs = ruleset_fail_closed(table);
		c = rs ? 0 : -errno;
	}
	if (c) {
		cmd_err("apply", MSG_AS_IS, err[0] ? err : strerror(-c));
		goto out;
	}
	c = deploy_commit(rs, dry, err, sizeof(err));
	if (c) {
		cmd_err("apply", "the kernel refused the ruleset; nothing "
			"changed: %s", err[0] ? err : strerror(-c));
		goto out;
	}
	if (!dry)
		deploy_audit(state, what == 'D' ? "apply-deployed" :
			     "fail-closed", what == 'D' ? &d : NULL, NULL);
	if (what == 'D')
		printf(dry ? _("checked deployment %u again: table inet "
			       "%s\n") :
			     _("loaded deployment %u again: table inet %s\n"),
		       d.id, d.table);
	else
		printf(dry ? _("checked the fail-closed table inet %s\n") :
			     _("loaded the fail-closed table inet %s\n"), table);
	ret = EXIT_OK;
out:
	ruleset_free(rs);
	deploy_unlock(lock);
	return ret;
}

/* The record is one "key value" per line: a path with a line break in
 * it cannot be recorded, so it is refused before the kernel is touched. */
static bool recordable(const char *path, const struct model *m)
{
	if (strpbrk(path, "\n\r")) {
		cmd_err("apply", "a zone file path with a line break cannot be "
			"recorded: rename it and apply again; nothing changed");
		return false;
	}
	for (size_t i = 0; i < m->n_holiday_files; i++)
		if (strpbrk(m->holiday_files[i].ref, "\n\r")) {
			cmd_err("apply", "a holiday file name with a line "
				"break cannot be recorded: rename it and apply "
				"again; nothing changed");
			return false;
		}
	return true;
}

int cmd_apply(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "confirm", required_argument, NULL, 'c' },
		{ "table", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "at", required_argument, NULL, 'a' },
		{ "deployed", no_argument, NULL, 'D' },
		{ "fail-closed", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *table = RS_DEFAULT_TABLE, *state = DEPLOY_STATE_DIR;
	int special = 0;
	const char *at = NULL;
	struct deployment d = { 0 };
	struct pending pd;
	struct loaded l = { 0 };
	struct ruleset *rs = NULL;
	enum deploy_outcome outcome;
	char err[1024] = "", how[256] = "", *zone = NULL, abspath[PATH_MAX],
	     dir[PATH_MAX];
	struct timespec t0;
	struct model_opts mopts = { .keep = true };
	bool dry = false;
	long confirm = -1;
	size_t zone_len = 0;
	int c, lock = -1, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'c':
			confirm = strtol(optarg, &end, 10);
			if (*end || confirm < 10 || confirm > 86400) {
				cmd_err("apply", "--confirm takes 10 to 86400 "
					"seconds, not \"%s\"", optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			table = optarg;
			break;
		case 'n':
			dry = true;
			break;
		case 's':
			state = optarg;
			break;
		case 'a':
			at = optarg;
			break;
		case 'D':
		case 'F':
			special = c;
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (special && optind == argc)
		return apply_special(special, table, state, dry);
	if (special || optind != argc - 1) {
		help(stderr);
		return EXIT_USAGE;
	}
	if (!table_name_ok(table)) {
		cmd_err("apply", "bad table name \"%s\"", table);
		return EXIT_USAGE;
	}
	/* Read once: what is compiled is what is recorded, and its SHA-256
	 * is of those bytes, whatever happens to the file meanwhile. */
	zone = model_read_file(argv[optind], MODEL_MAX_FILE_BYTES, &zone_len);
	if (!zone) {
		cmd_err("apply", "%s: %s", argv[optind], errno == EINVAL ?
			"not a regular file" : strerror(errno));
		ret = EXIT_SYSTEM;
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", argv[optind]);
	mopts.dir = dirname(dir);
	ret = cmd_load_buf("apply", argv[optind], zone, zone_len, &mopts, at,
			   &l);
	if (ret)
		goto out;
	ret = EXIT_SYSTEM;
	if (!realpath(argv[optind], abspath))
		snprintf(abspath, sizeof(abspath), "%s", argv[optind]);
	if (!recordable(abspath, l.m)) {
		ret = EXIT_FINDINGS;
		goto out;
	}
	if (!dry && deploy_state_init(state, err, sizeof(err))) {
		cmd_err("apply", MSG_AS_IS, err);
		goto out;
	}
	if (!dry) {
		lock = deploy_lock(state, DEPLOY_LOCK_WAIT, err, sizeof(err));
		if (lock < 0) {
			cmd_err("apply", MSG_AS_IS, err);
			if (lock == -EWOULDBLOCK)
				ret = EXIT_FINDINGS;
			goto out;
		}
		err[0] = '\0';
	}
	if (!dry && (ret = cmd_settle("apply", state, true)))
		goto out;
	ret = EXIT_SYSTEM;
	if (!dry && !deploy_pending(state, &pd)) {
		cmd_err("apply", "deployment %u awaits 'sanso confirm' (or "
			"'sanso rollback'); apply again after that", pd.id);
		ret = EXIT_FINDINGS;
		goto out;
	}
	rs = ruleset_build(l.policy, table, l.when);
	if (!rs) {
		cmd_err("apply", MSG_AS_IS, strerror(errno));
		goto out;
	}
	warn_missing_ifaces(l.m, argv[optind]);
	if (dry) {
		c = deploy_commit(rs, true, err, sizeof(err));
		if (c) {
			cmd_err("apply", "the kernel refused the ruleset; "
				"nothing changed: %s", err[0] ? err :
				strerror(-c));
			goto out;
		}
		printf(_("dry run: the kernel accepted table inet %s (%zu "
			 "sets, %zu chains); nothing changed\n"), table,
		       rs->n_sets,
		       rs->n_chains);
		ret = EXIT_OK;
		goto out;
	}
	d.at = l.when;
	snprintf(d.table, sizeof(d.table), "%s", table);
	snprintf(d.site, sizeof(d.site), "%s", l.m->site ? l.m->site : "");
	snprintf(d.timezone, sizeof(d.timezone), "%s", l.m->timezone);
	snprintf(d.zone_file, sizeof(d.zone_file), "%s", abspath);
	for (int i = 0; i < 32; i++)
		snprintf(d.zone_sha256 + 2 * i, 3, "%02x", l.m->sha256[i]);
	/* A long apply shows its phases on a terminal, nowhere else. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (isatty(STDERR_FILENO))
		deploy_progress(show_phase, &t0);
	c = deploy_apply(state, rs, &d, zone, zone_len, l.m,
			 confirm > 0 ? (unsigned int)confirm : 0, &outcome, how,
			 sizeof(how), err, sizeof(err));
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	deploy_progress(NULL, NULL);
	if (c) {
		switch (outcome) {
		case DEPLOY_UNCHANGED:
			cmd_err("apply", "the kernel refused the ruleset or "
				"its record could not be written ahead; nothing "
				"changed: %s", err[0] ? err : strerror(-c));
			break;
		case DEPLOY_ROLLED_BACK:
			cmd_err("apply", "%s; rolled back to %s: the table "
				"before it is live", err, d.previous ?
				"the previous deployment" : "no sanso table");
			break;
		default:
			cmd_err("apply", "%s; %s", err, confirm > 0 ?
				"the confirm timer rolls it back at its "
				"deadline" : "the ruleset is live: the next "
				"sanso command completes its record");
			break;
		}
		goto out;
	}
	if (err[0])
		cmd_warn("apply", MSG_AS_IS, err);
	printf(_("applied deployment %u: table inet %s, ruleset %.12s (%s)\n"),
	       d.id, table, d.ruleset_sha256, how);
	if (confirm > 0)
		printf(d.previous ? _("run 'sanso confirm' within %ld "
				      "seconds, or it rolls back to the "
				      "previous deployment\n") :
				    _("run 'sanso confirm' within %ld "
				      "seconds, or it rolls back to no sanso "
				      "table\n"), confirm);
	ret = EXIT_OK;
out:
	free(zone);
	ruleset_free(rs);
	loaded_free(&l);
	deploy_unlock(lock);
	return ret;
}
