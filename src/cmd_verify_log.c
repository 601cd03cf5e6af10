// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sanso verify-log FILE... [--state-dir DIR] [--head SEQ:MAC]: recomputes
 * the HMAC chain of alert and audit logs (SPEC §8), checks that each is
 * anchored (its end matches a head recorded in chain/, in the
 * deployments, or kept elsewhere) and says where it breaks.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "alert.h"
#include "cmd.h"
#include "deploy.h"
#include "i18n.h"

#define CMD "verify-log"

static void help(FILE *out)
{
	cmd_usage(out, CMD);
	fprintf(out, _("\n"
		"  --state-dir DIR  where the key (audit.key) and the records\n"
		"                   of each log's last line (chain/) are\n"
		"                   (default %s)\n"
		"  --head SEQ:MAC   a head kept elsewhere (a deployment\n"
		"                   record, a checkpoint at a remote sink):\n"
		"                   the log must hold it (one log only)\n"
		"  -h, --help       this help\n"
		"\nExit status: 0 intact, 1 tampered, 2 usage, 3 cannot read a "
		"log or the key.\n"), DEPLOY_STATE_DIR);
}

static const char *key_problem(int r)
{
	switch (r) {
	case -EPERM:
		return "must be a regular file of root or of this user "
		       "(root may read any user's), with no access for "
		       "group or others";
	case -EINVAL:
		return "is not a 32-byte key";
	default:
		return strerror(-r);
	}
}

static void print_findings(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		if (g->loc.line > 0)
			printf("%s:%d: ", g->loc.file, g->loc.line);
		else
			printf("%s: ", g->loc.file);
		diag_sev_print(stdout, g->sev);
		printf("[%s]: %s\n", g->code, g->msg);
	}
	if (d->dropped)
		printf(_("(%zu more findings not shown)\n"), d->dropped);
}

static int verify_one(const char *state_dir, const char *path,
		      const struct audit_chain *head)
{
	uint8_t key[AUDIT_KEY_LEN];
	struct audit_verdict v;
	struct diags d = { 0 };
	int r, ret;

	/* The key first, so that its trouble is told apart from the
	 * log's. */
	r = audit_key_load(state_dir, false, key);
	explicit_bzero(key, sizeof(key));
	if (r) {
		cmd_err(CMD, "%s/audit.key: %s", state_dir, key_problem(r));
		ret = EXIT_SYSTEM;
		goto out;
	}
	r = audit_verify_head(state_dir, path, head, &d, &v);
	if (r) {
		cmd_err(CMD, "%s: %s", path, r == -EINVAL ?
			"not a regular file" : strerror(-r));
		ret = EXIT_SYSTEM;
		goto out;
	}
	print_findings(&d);
	if (v.tampered) {
		printf(_("%s: TAMPERED: %u problem%s in %" PRIu64 " line%s\n"),
		       path, d.errors, d.errors == 1 ? "" : "s", v.lines,
		       v.lines == 1 ? "" : "s");
		ret = EXIT_FINDINGS;
	} else if (!v.lines) {
		/* audit_verify() fails any other empty log. */
		printf(_("%s: intact: empty, as sanso left it\n"), path);
		ret = EXIT_OK;
	} else {
		printf(_("%s: intact: %" PRIu64 " line%s, seq %" PRIu64 "..%"
			 PRIu64), path, v.lines, v.lines == 1 ? "" : "s",
		       v.first_seq, v.last_seq);
		if (v.continues)
			printf(_(", continues seq %" PRIu64 " of the file "
				 "before it"), v.continues);
		if (head)
			printf(_(", holds --head seq %" PRIu64), head->seq);
		printf("%s\n", v.head_checked ?
		       _(", ends where sanso left it") : "");
		ret = EXIT_OK;
	}
out:
	diags_free(&d);
	return ret;
}

int cmd_verify_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "head", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *state_dir = DEPLOY_STATE_DIR;
	struct audit_chain head, *hp = NULL;
	int c, ret = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			state_dir = optarg;
			break;
		case 'H':
			if (audit_head_parse(optarg, &head)) {
				cmd_err(CMD, "--head %s: not SEQ:MAC (a seq "
					"from 1 and 64 lowercase hex digits)",
					optarg);
				return EXIT_USAGE;
			}
			hp = &head;
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	/* A head belongs to one chain: one log. */
	if (hp && argc - optind > 1) {
		cmd_err(CMD, "--head takes one log");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		int r = verify_one(state_dir, argv[i], hp);

		/* The worst verdict: system trouble, then tampering. */
		if (r == EXIT_SYSTEM || (r == EXIT_FINDINGS && ret == EXIT_OK))
			ret = r;
	}
	fflush(stdout);
	return ret;
}
