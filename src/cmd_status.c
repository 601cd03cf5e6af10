// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "deploy.h"
#include "i18n.h"
#include "ha.h"
#include "json.h"
#include "kernel.h"
#include "kernel_dump.h"
#include "sched.h"

struct fqdn_stat {
	char name[80];
	size_t n;
	uint64_t min_ms, max_ms;
};

/* The FQDN sets of a live table's canonical text: every set named
 * fqdn-*. Each line is cut out before it is read, so the cost stays
 * linear in the text. */
static size_t fqdn_stats(const struct deployment *d, char *canon,
			 struct fqdn_stat *v, size_t max)
{
	char *line;
	size_t n = 0;

	for (line = canon; line && *line && n < max;) {
		char *nl = strchr(line, '\n');
		char name[80];

		if (nl)
			*nl = '\0';
		if (!strncmp(line, "set fqdn-", 9) &&
		    sscanf(line, "set %79s", name) == 1) {
			snprintf(v[n].name, sizeof(v[n].name), "%s", name);
			if (!kernel_set_stats(NFPROTO_INET, d->table, name,
					      &v[n].n, &v[n].min_ms,
					      &v[n].max_ms))
				n++;
		}
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

/* The recorded deployment whose table is the live one (0: none of the
 * last 1,000). */
static unsigned int live_is(const char *state, const struct deployment *cur,
			    const char *digest)
{
	struct deployment d;
	unsigned int top = cur->id;

	for (unsigned int id = top + 16; id > 0 && id + 1000 > top; id--)
		if (!deploy_load(state, id, &d) &&
		    !strcmp(d.ruleset_sha256, digest))
			return id;
	return 0;
}

/* Settles an interrupted change when the lock is free (a held lock is a
 * change at work, not an interrupted one). The note is for the output;
 * -errno when the state cannot be settled from here. */
static int settle(const char *state, char *note, size_t n)
{
	char err[512];
	/* A short wait: a change that is ending, or a process that was
	 * just killed, lets go of it at once. */
	int lock = deploy_lock(state, 2, err, sizeof(err)), ret;

	note[0] = '\0';
	if (lock == -EWOULDBLOCK) {
		snprintf(note, n, "an apply, confirm or rollback is at work "
			 "(it holds the state lock): this picture may change");
		return 0;
	}
	if (lock < 0)
		return lock == -ENOENT ? 0 : lock;
	ret = deploy_settle(state, note, n);
	deploy_unlock(lock);
	return ret < 0 ? ret : 0;
}

static void when(const struct deployment *d, char *buf, size_t n)
{
	tz_format_rfc3339(d->timezone[0] ? d->timezone : "UTC", d->time, 0,
			  buf, n);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *state = DEPLOY_STATE_DIR, *format = "text", *data = NULL;
	const char *peer = NULL;	/* a pair's verdict, NULL: no pair */
	struct ha_peer hp;
	const char *live = "absent";
	struct deployment d;
	struct pending pd;
	struct fqdn_stat fs[64];
	char digest[65] = "", t[48], note[512] = "", *canon = NULL;
	bool deployed, pending, intent = false;
	unsigned int other = 0;
	int c, ret, timer = 1;
	size_t n_fs = 0, len;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'j':
			format = "json";
			break;
		case 'd':
			data = optarg;
			break;
		case 'h':
			cmd_usage(stdout, "status");
			printf(_("\n  --state-dir DIR  deployment records (default "
				 "%s)\n"
				 "  --format FORMAT  text (default) or json\n"
				 "  -j               same as --format json\n"
				 "  --data-dir DIR   where the monitor or DNS "
				 "guard writes (default: the\n"
				 "                   state directory): a pair's "
				 "peer verdict\n"), DEPLOY_STATE_DIR);
			return EXIT_OK;
		default:
			cmd_usage(stderr, "status");
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (strcmp(format, "text") &&
			       strcmp(format, "json"))) {
		cmd_usage(stderr, "status");
		return EXIT_USAGE;
	}
	ret = settle(state, note, sizeof(note));
	if (ret) {
		struct stat st;
		char p[4200];

		/* Not ours to settle (another user, say): said, exit 1. */
		snprintf(p, sizeof(p), "%s/intent", state);
		intent = !stat(p, &st);
		if (intent)
			snprintf(note, sizeof(note), "an interrupted change "
				 "awaits settling (%s): run sanso status as "
				 "the state directory's owner", strerror(-ret));
	}
	ret = deploy_current(state, &d);
	if (ret && ret != -ENOENT) {
		cmd_err("status", "%s: %s", state, strerror(-ret));
		return EXIT_SYSTEM;
	}
	deployed = !ret;
	if (!deployed) {
		memset(&d, 0, sizeof(d));
		snprintf(d.table, sizeof(d.table), "%s", RS_DEFAULT_TABLE);
	}
	pending = !deploy_pending(state, &pd);
	if (pending)
		timer = deploy_timer_alive(&pd);
	/* A record of 0.1 holds a digest of canonical version 1. */
	ret = kernel_table_canon_v(NFPROTO_INET, d.table, deployed ? d.canon :
				   KERNEL_CANON_VERSION, &canon, &len);
	if (!ret)
		ret = kernel_canon_digest(canon, len, digest);
	if (ret && ret != -ENOENT) {
		cmd_err("status", "reading table inet %s: %s", d.table,
			strerror(-ret));
		free(canon);
		return EXIT_SYSTEM;
	}
	/* Drift: the live table is not what the last apply left, or it is
	 * gone, or there is one nobody deployed. */
	if (!ret)
		live = !deployed ? "undeployed" :
		       strcmp(digest, d.ruleset_sha256) ? "drift" : "match";
	else if (deployed)
		live = "missing";
	if (!ret)
		n_fs = fqdn_stats(&d, canon, fs, 64);
	free(canon);
	if (!ret && deployed && strcmp(live, "match"))
		other = live_is(state, &d, digest);

	/* A pair (gateway.ha): the guard's last comparison with the peer;
	 * none for a long while means the peer (or our guard) is silent. */
	if (!ha_peer_read(data ? data : state, &hp) ||
	    (!data && !ha_peer_read_sub(state, "monitor", &hp)))
		peer = time(NULL) - hp.when > HA_PEER_STALE_S ? "silent" :
		       hp.verdict;

	if (!strcmp(format, "json")) {
		json_t *doc = json_object(), *o, *a;
		int err = doc ? 0 : -ENOMEM;

		o = deployed ? json_object() : json_null();
		if (deployed) {
			when(&d, t, sizeof(t));
			jx_set(o, "id", json_integer(d.id), &err);
			jx_set(o, "previous", json_integer(d.previous), &err);
			jx_set(o, "time", jx_str(t), &err);
			jx_set(o, "user", jx_str(d.user), &err);
			jx_set(o, "site", jx_str(d.site), &err);
			jx_set(o, "table", jx_str(d.table), &err);
			jx_set(o, "zone_file", jx_str(d.zone_file), &err);
			jx_set(o, "zone_sha256", jx_str(d.zone_sha256), &err);
			jx_set(o, "ruleset_sha256", jx_str(d.ruleset_sha256),
			       &err);
		}
		jx_set(doc, "deployed", o, &err);
		o = pending ? json_object() : json_null();
		if (pending) {
			jx_set(o, "id", json_integer(pd.id), &err);
			jx_set(o, "previous", json_integer(pd.previous), &err);
			jx_set(o, "seconds_left",
			       json_integer(pd.deadline - time(NULL)), &err);
			jx_set(o, "timer", timer > 0 ? json_true() :
			       timer == 0 ? json_false() : json_null(), &err);
		}
		jx_set(doc, "pending", o, &err);
		jx_set(doc, "live", jx_str(live), &err);
		jx_set(doc, "live_sha256", jx_str(digest[0] ? digest : NULL),
		       &err);
		jx_set(doc, "live_deployment", other || !strcmp(live, "match") ?
		       json_integer(other ? other : d.id) : json_null(), &err);
		jx_set(doc, "note", jx_str(note[0] ? note : NULL), &err);
		o = peer ? json_object() : json_null();
		if (peer) {
			jx_set(o, "verdict", jx_str(peer), &err);
			jx_set(o, "peer_sha256", jx_str(strcmp(hp.peer, "-") ?
							hp.peer : NULL), &err);
			jx_set(o, "seconds_ago",
			       json_integer(time(NULL) - hp.when), &err);
		}
		jx_set(doc, "peer", o, &err);
		a = json_array();
		for (size_t i = 0; a && i < n_fs; i++) {
			o = json_object();
			if (!o)
				err = -ENOMEM;
			jx_set(o, "name", jx_str(fs[i].name), &err);
			jx_set(o, "elements", jx_uint(fs[i].n), &err);
			jx_set(o, "min_seconds_left",
			       jx_uint(fs[i].min_ms / 1000), &err);
			jx_set(o, "max_seconds_left",
			       jx_uint(fs[i].max_ms / 1000), &err);
			if (json_array_append_new(a, jx_done(o, err)))
				err = -ENOMEM;
		}
		jx_set(doc, "fqdn_sets", a, &err);
		if (jx_print(stdout, jx_done(doc, err))) {
			cmd_err("status", "out of memory");
			return EXIT_SYSTEM;
		}
		putchar('\n');
	} else {
		if (deployed) {
			when(&d, t, sizeof(t));
			printf("deployment %u of site %s, applied %s by %s\n"
			       "  zone file %s\n  zone sha256 %s\n"
			       "  table inet %s, ruleset sha256 %s\n"
			       "  previous deployment: %s%.0u\n", d.id, d.site,
			       t, d.user, d.zone_file, d.zone_sha256, d.table,
			       d.ruleset_sha256, d.previous ? "" : "none",
			       d.previous);
		} else {
			printf("nothing deployed (state %s)\n", state);
		}
		if (note[0])
			printf("note: %s\n", note);
		if (pending && timer != 0)
			printf("pending: deployment %u rolls back in %lld s "
			       "unless 'sanso confirm' runs\n", pd.id,
			       (long long)(pd.deadline - time(NULL)));
		else if (pending)
			printf("pending: deployment %u awaits confirm, but its "
			       "confirm timer is gone: 'sanso confirm' keeps "
			       "it, 'sanso rollback' (or a running monitor, 5 s "
			       "after the deadline) restores deployment %u\n",
			       pd.id, pd.previous);
		if (!strcmp(live, "match"))
			printf("live table: matches the deployment\n");
		else if (!strcmp(live, "drift"))
			printf("live table: DRIFT: table inet %s differs from "
			       "what deployment %u loaded (sha256 %.12s, "
			       "expected %.12s)\n", d.table, d.id, digest,
			       d.ruleset_sha256);
		if (other)
			printf("live table: it is the ruleset of deployment "
			       "%u\n", other);
		else if (!strcmp(live, "missing"))
			printf("live table: DRIFT: table inet %s is missing\n",
			       d.table);
		else if (!strcmp(live, "undeployed"))
			printf("live table: DRIFT: table inet %s exists but no "
			       "deployment is recorded\n", d.table);
		if (peer && !strcmp(peer, "match"))
			printf("peer: runs the same table\n");
		else if (peer && !strcmp(peer, "settling"))
			printf("peer: its table differs (sha256 %.12s), for "
			       "less than %d s: a change under way?\n",
			       hp.peer, HA_DRIFT_GRACE_MS / 1000);
		else if (peer && !strcmp(peer, "silent"))
			printf("peer: SILENT: nothing heard for %lld s\n",
			       (long long)(time(NULL) - hp.when));
		else if (peer)
			printf("peer: DIFFERS: its table has sha256 %.12s, "
			       "ours %.12s\n", hp.peer, hp.own);
		for (size_t i = 0; i < n_fs; i++)
			printf("  %s: %zu addresses, expiring in %llu-%llu s\n",
			       fs[i].name, fs[i].n,
			       (unsigned long long)(fs[i].min_ms / 1000),
			       (unsigned long long)(fs[i].max_ms / 1000));
	}
	return (strcmp(live, "match") && strcmp(live, "absent")) ||
	       (pending && timer == 0) || intent ||
	       (peer && strcmp(peer, "match") && strcmp(peer, "settling")) ?
	       EXIT_FINDINGS : EXIT_OK;
}
