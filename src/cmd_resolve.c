// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sanso resolve: fills the FQDN sets from the exact names of the zone
 * file (wildcards cannot be resolved ahead), A and AAAA, CNAMEs
 * followed, through gateway.dns.upstream; the same safety rules and
 * timeouts as the DNS guard.  Without --once it stays and refreshes each
 * name before its elements expire.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "alert.h"
#include "cmd.h"
#include "deploy.h"
#include "dnsguard.h"
#include "i18n.h"
#include "policy.h"

#define CMD "resolve"
#define TIMEOUT_MS		2000
#define BACKOFF_MIN		5	/* seconds after a failure, doubling */
#define BACKOFF_MAX		60
#define NODATA_REFRESH		30	/* at least, for a name without
					 * addresses */
#define CHECK_EVERY_MS		5000
#define GC_EVERY_MS		60000
#define SAVE_EVERY_MS		300000

struct job {
	char *name;
	uint16_t qtype;
	int64_t next;			/* ms since the epoch */
	unsigned int backoff;
};

struct resolver {
	struct guard_cli *c;
	const struct model *m;
	struct fqdn_state *fs;
	struct job *jobs;
	size_t n_jobs;
	bool once;
	unsigned int failed;
};

static void help(FILE *out)
{
	cmd_usage(out, CMD);
	fprintf(out, _("\n"
		"  --once           resolve every exact name once, print what "
		"was armed, exit\n"
		"                   (1 if a name could not be resolved)\n"
		"  --state-dir DIR  learned elements (fqdn.state), alert chain "
		"key\n"
		"                   (default %s)\n"
		"  --table NAME     table inet NAME (default: the deployed "
		"one, else \"sanso\")\n"
		"  --jsonl FILE     alerts to this JSON lines file instead of "
		"the zone\n"
		"                   file's monitor.alerts\n"
		"  -v, --verbose    one line per refresh\n"
		"  -h, --help       this help\n"), DEPLOY_STATE_DIR);
}

static void free_jobs(struct resolver *r)
{
	for (size_t i = 0; i < r->n_jobs; i++)
		free(r->jobs[i].name);
	free(r->jobs);
	r->jobs = NULL;
	r->n_jobs = 0;
}

/* Every exact name once, A then AAAA, in zone file order. */
static int make_jobs(struct resolver *r)
{
	const struct model *m = r->m;
	size_t total = 0;
	unsigned int *idx = calloc(fqdn_state_nsets(r->fs) + 1, sizeof(*idx));
	int ret = -ENOMEM;

	for (size_t i = 0; i < m->n_fqdn_sets; i++)
		total += m->fqdn_sets[i].n_names;
	r->jobs = calloc(2 * total + 1, sizeof(*r->jobs));
	if (!r->jobs || !idx)
		goto out;
	for (size_t i = 0; i < m->n_fqdn_sets; i++)
		for (size_t j = 0; j < m->fqdn_sets[i].n_names; j++) {
			const char *p = m->fqdn_sets[i].names[j].pattern;
			unsigned int fams;
			bool dup = false;

			if (!p || p[0] == '*')
				continue;
			/* Each job up to n_jobs has its name. */
			for (size_t k = 0; k < r->n_jobs && !dup; k++)
				dup = r->jobs[k].name &&
				      !strcmp(r->jobs[k].name, p);
			if (dup)
				continue;
			/* Only the families some flow of its sets can use,
			 * as the guard answers. */
			fams = fqdn_state_families(r->fs, idx,
						   fqdn_state_match(r->fs, p,
								    idx));
			for (int t = 0; t < 2; t++) {
				struct job *jb = &r->jobs[r->n_jobs];

				if (!(fams & (t ? POL_FAM_V6 : POL_FAM_V4)))
					continue;
				jb->name = strdup(p);
				if (!jb->name)
					goto out;
				jb->qtype = t ? DNS_T_AAAA : DNS_T_A;
				r->n_jobs++;
			}
		}
	ret = 0;
out:
	free(idx);
	return ret;
}

/*
 * The addresses for name/qtype: the upstream's answer, and when its
 * chain ends in a CNAME it did not resolve, the target asked in turn.
 * 0 (with *n addresses in *out, to free) or -errno; *which is the
 * upstream last asked.
 */
static int lookup(const struct model *m, const char *name, uint16_t qtype,
		  struct dns_addr **out, size_t *n, size_t *which)
{
	struct dns_name target;
	struct dns_addr *all = NULL;
	size_t total = 0;
	int ret;

	*out = NULL;
	*n = 0;
	if (dns_name_from_text(name, &target))
		return -EINVAL;
	for (int hop = 0; hop < DNS_MAX_CHAIN; hop++) {
		struct dns_msg rep;
		size_t k;
		struct dns_addr *p;

		ret = dnsguard_exchange(m->gateway.dns_upstream,
					m->gateway.n_dns_upstream, &target,
					qtype, TIMEOUT_MS, &rep, which);
		if (ret) {
			free(all);
			return ret;
		}
		k = dns_chain_addrs(&rep, NULL, 0);
		p = reallocarray(all, total + k + 1, sizeof(*all));
		if (!p) {
			dns_msg_free(&rep);
			free(all);
			return -ENOMEM;
		}
		all = p;
		dns_chain_addrs(&rep, all + total, k);
		total += k;
		if (k || !dns_chain_open(&rep, &target)) {
			dns_msg_free(&rep);
			break;
		}
		dns_msg_free(&rep);
	}
	*out = all;
	*n = total;
	return 0;
}

/* When to ask again: before the shortest element of the answer goes. */
static int64_t refresh_in(const struct resolver *r, const char *name,
			  const struct dns_addr *a, size_t n)
{
	unsigned int *idx = calloc(r->m->n_fqdn_sets + 1, sizeof(*idx));
	uint32_t ttl = UINT32_MAX, best = UINT32_MAX;
	size_t ns;

	if (!idx)
		return 60000;
	for (size_t i = 0; i < n; i++)
		if (a[i].ttl < ttl)
			ttl = a[i].ttl;
	ns = fqdn_state_match(r->fs, name, idx);
	for (size_t s = 0; s < ns; s++) {
		const struct fqdn_set *fs = &r->m->fqdn_sets[idx[s]];
		uint32_t t = n ? fqdn_timeout(fs, ttl) - fs->grace :
				 fs->min_ttl;

		if (!n && t < NODATA_REFRESH)
			t = NODATA_REFRESH;
		if (t < best)
			best = t;
	}
	free(idx);
	if (best == UINT32_MAX)
		best = NODATA_REFRESH;
	/* Nine tenths of the way, so the element is re-armed while the
	 * grace period still runs. */
	return (int64_t)best * 900 > 1000 ? (int64_t)best * 900 : 1000;
}

static void print_addrs(const struct dns_addr *a, size_t n)
{
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		inet_ntop(a[i].family, a[i].addr, buf, sizeof(buf));
		printf(" %s", buf);
	}
}

/* One refresh; -errno only for what ends the command (the kernel). */
static int run_job(struct resolver *r, struct job *jb, int64_t now)
{
	const char *t = jb->qtype == DNS_T_A ? "A" : "AAAA";
	struct fqdn_result res;
	struct dns_addr *a = NULL;
	size_t n = 0, which = 0;
	char err[512];
	int ret;

	ret = lookup(r->m, jb->name, jb->qtype, &a, &n, &which);
	if (ret) {
		int kept;

		r->failed++;
		kept = fqdn_state_stale(r->fs, jb->name, jb->qtype,
					&r->m->gateway.dns_upstream[which],
					now, &res, err, sizeof(err));
		if (kept < 0 && kept != -ENOENT) {
			cmd_err(CMD, "%s %s: %s", jb->name, t,
				err[0] ? err : strerror(-kept));
			return kept;
		}
		jb->backoff = jb->backoff ? jb->backoff * 2 : BACKOFF_MIN;
		if (jb->backoff > BACKOFF_MAX)
			jb->backoff = BACKOFF_MAX;
		if (r->once)
			printf("%s %s: upstream failed (%s); %d element%s "
			       "kept from the last good answer\n", jb->name, t,
			       strerror(-ret), kept > 0 ? kept : 0,
			       kept == 1 ? "" : "s");
		else {
			char line[320];

			snprintf(line, sizeof(line), "%s %s: upstream failed "
				 "(%s); %d element%s kept, asking again in "
				 "%us", jb->name, t, strerror(-ret),
				 kept > 0 ? kept : 0, kept == 1 ? "" : "s",
				 jb->backoff);
			guard_cli_log(r->c, LOG_WARNING, line);
		}
		jb->next = now + (int64_t)jb->backoff * 1000;
		return 0;
	}
	jb->backoff = 0;
	ret = fqdn_state_learn(r->fs, jb->name, jb->qtype, a, n, now, &res,
			       err, sizeof(err));
	if (ret) {
		cmd_err(CMD, "%s %s: updating the FQDN sets failed: %s",
			jb->name, t, err[0] ? err : strerror(-ret));
		free(a);
		return ret;
	}
	if (r->once) {
		printf("%s %s:", jb->name, t);
		if (n)
			print_addrs(a, n);
		else
			printf(" no addresses");
		if (res.unsafe || res.capped)
			printf(" (%u refused: special-purpose or the site's "
			       "own; %u over max_addrs)", res.unsafe,
			       res.capped);
		printf("\n");
	} else if (r->c->verbose) {
		char line[256];

		snprintf(line, sizeof(line), "%s %s: %zu address%s, %u "
			 "element%s armed", jb->name, t, n,
			 n == 1 ? "" : "es", res.armed,
			 res.armed == 1 ? "" : "s");
		guard_cli_log(r->c, LOG_DEBUG, line);
	}
	jb->next = now + refresh_in(r, jb->name, a, n);
	free(a);
	return 0;
}

static int new_state(struct resolver *r)
{
	struct fqdn_conf fc = { 0 };
	char err[512];
	int ret;

	fc.table = r->c->table;
	fc.hooks.log = guard_cli_log;
	fc.hooks.alert = guard_cli_alert;
	fc.hooks.arg = r->c;
	r->fs = fqdn_state_new(r->m, &fc);
	if (!r->fs) {
		cmd_err(CMD, MSG_AS_IS, strerror(errno));
		return EXIT_SYSTEM;
	}
	/* Restoring also proves every set exists in the kernel. */
	ret = fqdn_state_restore(r->fs, r->c->state_dir, fqdn_now(), err,
				 sizeof(err));
	if (ret < 0) {
		cmd_err(CMD, "%s%s", err[0] ? err : strerror(-ret),
			ret == -ENOENT ? " (is the ruleset loaded? sanso "
			"apply)" : "");
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

struct looping {
	struct resolver *r;
	const char *path;
	struct loaded *l;
	int ret;		/* EXIT_SYSTEM: a reload left no state */
};

/* SIGHUP: the zone file again, and the names and sets it has. */
static void reload(void *ctx)
{
	struct looping *lg = ctx;
	struct resolver *r = lg->r;
	struct loaded next;

	if (lg->ret)
		return;
	if (cmd_load(CMD, lg->path, NULL, &next)) {
		loaded_free(&next);
		cmd_err(CMD, "%s: reload refused; keeping the old zone file",
			lg->path);
		guard_cli_reconfigure(r->c, lg->l->m);
		return;
	}
	fqdn_state_save(r->fs, r->c->state_dir, fqdn_now());
	fqdn_state_free(r->fs);
	r->fs = NULL;
	free_jobs(r);
	guard_cli_reconfigure(r->c, next.m);
	loaded_free(lg->l);
	*lg->l = next;
	r->m = lg->l->m;
	if (new_state(r) || make_jobs(r)) {
		lg->ret = EXIT_SYSTEM;
		return;
	}
	cmd_err(CMD, "reloaded %s", lg->path);
}

/* SIGUSR1 (logrotate): the alert files only. */
static void reopen(void *ctx)
{
	struct looping *lg = ctx;

	guard_cli_reconfigure(lg->r->c, lg->l->m);
}

static int loop(struct resolver *r, const char *path, struct loaded *l)
{
	struct looping lg = { r, path, l, EXIT_OK };
	struct cmd_loop lp = { CMD, reload, reopen, &lg, -1, false };
	int64_t next_check = 0, next_gc = 0, next_save = 0;
	char err[512];
	int ret;

	ret = cmd_loop_open(&lp);
	if (ret)
		return ret;
	next_save = fqdn_now() + SAVE_EVERY_MS;
	while (!lp.stop) {
		int64_t now = fqdn_now(), wake = now + CHECK_EVERY_MS;
		struct pollfd pfd[2];

		for (size_t i = 0; i < r->n_jobs; i++) {
			if (r->jobs[i].next <= now) {
				if (run_job(r, &r->jobs[i], now)) {
					ret = EXIT_SYSTEM;
					goto out;
				}
				/* Saved at once: the monitor's drift check
				 * takes an element that no saved state
				 * accounts for for one added by hand. */
				next_save = now;
			}
			now = fqdn_now();
			if (r->jobs[i].next < wake)
				wake = r->jobs[i].next;
		}
		if (now >= next_check) {
			next_check = now + CHECK_EVERY_MS;
			if (fqdn_state_check_kernel(r->fs, now, err,
						    sizeof(err)) < 0)
				cmd_err(CMD, "checking the FQDN sets: %s", err);
		}
		if (now >= next_gc) {
			next_gc = now + GC_EVERY_MS;
			fqdn_state_gc(r->fs, now);
		}
		if (now >= next_save) {
			next_save = now + SAVE_EVERY_MS;
			fqdn_state_save(r->fs, r->c->state_dir, now);
		}
		pfd[1] = (struct pollfd){ alerter_fd(r->c->al), POLLIN, 0 };
		if (cmd_loop_poll(&lp, pfd, 2, wake > now ?
				  (int)(wake - now) : 0) < 0) {
			ret = EXIT_SYSTEM;
			break;
		}
		if (lg.ret) {
			ret = lg.ret;
			goto out;
		}
		alerter_tick(r->c->al, time(NULL));
	}
out:
	if (r->fs)
		fqdn_state_save(r->fs, r->c->state_dir, fqdn_now());
	cmd_loop_close(&lp);
	return ret;
}

static int own_opt(void *ctx, int opt, const char *arg)
{
	struct resolver *r = ctx;

	(void)arg;
	if (opt == 'o')
		r->once = true;
	return 0;
}

int cmd_resolve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ 0 }
	};
	struct guard_cli c = { .cmd = CMD };
	struct resolver r = { .c = &c };
	const struct cmd_parser p = { CMD, CMD_OPT_VERBOSE, opts, own_opt,
				      &r, help };
	struct loaded l = { 0 };
	struct cmd_opts o;
	int opt, ret;

	ret = cmd_parse(&p, argc, argv, &o);
	if (ret >= 0)
		return ret;
	ret = guard_cli_start(&c, &o, &l);
	if (ret)
		goto out;
	r.m = l.m;
	ret = new_state(&r);
	if (ret)
		goto out;
	if (make_jobs(&r)) {
		cmd_err(CMD, MSG_AS_IS, strerror(ENOMEM));
		ret = EXIT_SYSTEM;
		goto out;
	}
	if (!r.once) {
		ret = loop(&r, o.path, &l);
		goto out;
	}
	for (size_t i = 0; i < r.n_jobs; i++)
		if (run_job(&r, &r.jobs[i], fqdn_now())) {
			ret = EXIT_SYSTEM;
			goto out;
		}
	if (fflush(stdout)) {
		cmd_err(CMD, "write: %s", strerror(errno));
		ret = EXIT_SYSTEM;
	} else {
		ret = r.failed ? EXIT_FINDINGS : EXIT_OK;
	}
	opt = fqdn_state_save(r.fs, c.state_dir, fqdn_now());
	if (opt) {
		cmd_err(CMD, "%s/fqdn.state: %s", c.state_dir, strerror(-opt));
		ret = EXIT_SYSTEM;
	}
out:
	fqdn_state_free(r.fs);
	free_jobs(&r);
	guard_cli_close(&c);
	loaded_free(&l);
	return ret;
}
