// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sanso dnsguard: the DNS guard on its own (sanso monitor runs it too):
 * the poll loop, signals, alerts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "alert.h"
#include "cmd.h"
#include "deploy.h"
#include "dnsguard.h"
#include "i18n.h"
#include "ruleset.h"

#define CMD "dnsguard"
#define MAX_LISTEN 32

static void help(FILE *out)
{
	cmd_usage(out, CMD);
	fprintf(out, _("\n"
		"  --state-dir DIR       learned elements (fqdn.state), alert "
		"chain key\n"
		"                        (default %s)\n"
		"  --table NAME          table inet NAME (default: the "
		"deployed one, else\n"
		"                        \"sanso\")\n"
		"  --listen ADDR[:PORT]  answer on this address (repeatable; "
		"default\n"
		"                        gateway.dns.listen, else every "
		"address, port 53)\n"
		"  --jsonl FILE          alerts to this JSON lines file "
		"instead of the\n"
		"                        zone file's monitor.alerts\n"
		"  -v, --verbose         one line per answer\n"
		"  -h, --help            this help\n"), DEPLOY_STATE_DIR);
}

/* ---- shared with sanso resolve ---- */

void guard_cli_log(void *arg, int prio, const char *msg)
{
	struct guard_cli *c = arg;

	if (prio >= LOG_DEBUG && !c->verbose)
		return;
	cmd_err(c->cmd, MSG_AS_IS, msg);
}

void guard_cli_alert(void *arg, const struct alert *a)
{
	struct guard_cli *c = arg;

	if (c->al)
		alerter_emit(c->al, a);
}

static void alerter_conf_of(struct guard_cli *c, const struct model *m,
			    struct alerter_conf *ac)
{
	cmd_alerter_conf(m, c->host, c->jsonl, &c->jsonl_sink, c->state_dir,
			 ac);
}

int guard_cli_reconfigure(struct guard_cli *c, const struct model *m)
{
	struct alerter_conf ac;
	int ret;

	alerter_conf_of(c, m, &ac);
	ret = alerter_reconfigure(c->al, &ac);
	if (ret)
		cmd_err(c->cmd, "alerts: %s", strerror(-ret));
	return ret;
}

int guard_cli_open(struct guard_cli *c, const struct model *m,
		   const char *table)
{
	struct alerter_conf ac;
	struct deployment d;
	char err[512];
	int ret;

	if (table)
		snprintf(c->table, sizeof(c->table), "%s", table);
	else if (!deploy_current(c->state_dir, &d) && d.table[0])
		snprintf(c->table, sizeof(c->table), "%s", d.table);
	else
		snprintf(c->table, sizeof(c->table), "%s", RS_DEFAULT_TABLE);
	ret = deploy_state_init(c->state_dir, err, sizeof(err));
	if (ret) {
		cmd_err(c->cmd, MSG_AS_IS, err);
		return EXIT_SYSTEM;
	}
	if (gethostname(c->host, sizeof(c->host) - 1) < 0)
		snprintf(c->host, sizeof(c->host), "localhost");
	alerter_conf_of(c, m, &ac);
	c->al = alerter_new(&ac);
	if (!c->al) {
		cmd_err(c->cmd, "alerts: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

void guard_cli_close(struct guard_cli *c)
{
	alerter_free(c->al);
	c->al = NULL;
}

int guard_cli_start(struct guard_cli *c, const struct cmd_opts *o,
		    struct loaded *l)
{
	int ret;

	c->state_dir = o->state_dir;
	c->jsonl = o->jsonl;
	c->verbose = o->verbose;
	signal(SIGPIPE, SIG_IGN);
	ret = cmd_load(c->cmd, o->path, NULL, l);
	if (ret)
		return ret;
	if (!l->m->gateway.n_dns_upstream) {
		cmd_err(c->cmd, "%s: gateway.dns.upstream is not set: there is "
			"no resolver to ask", o->path);
		return EXIT_FINDINGS;
	}
	return guard_cli_open(c, l->m, o->table);
}

/* ---- the command ---- */

static int parse_listen(const char *s, struct hostport *hp)
{
	memset(hp, 0, sizeof(*hp));
	return hostport_parse(s, 53, &hp->addr, &hp->port);
}

struct run {
	struct guard_cli *c;
	const char *path;
	struct loaded *cur;
	struct dnsguard *g;
};

/* SIGHUP: the zone file again; kept only if it loads and the guard
 * takes it. The alert files are reopened either way. */
static void reload(void *ctx)
{
	struct run *r = ctx;
	struct loaded next;
	char err[512];

	if (cmd_load(CMD, r->path, NULL, &next)) {
		loaded_free(&next);
		cmd_err(CMD, "%s: reload refused; keeping the old zone file",
			r->path);
		guard_cli_reconfigure(r->c, r->cur->m);
		return;
	}
	if (dnsguard_reload(r->g, next.m, err, sizeof(err))) {
		cmd_err(CMD, "reload: %s; keeping the old zone file", err);
		loaded_free(&next);
		guard_cli_reconfigure(r->c, r->cur->m);
		return;
	}
	guard_cli_reconfigure(r->c, next.m);
	loaded_free(r->cur);
	*r->cur = next;
	cmd_err(CMD, "reloaded %s", r->path);
}

/* SIGUSR1 (logrotate): the alert files only. */
static void reopen(void *ctx)
{
	struct run *r = ctx;

	guard_cli_reconfigure(r->c, r->cur->m);
}

static int run(struct guard_cli *c, const char *path, struct loaded *l,
	       struct dnsguard_conf *conf)
{
	struct run r = { c, path, l, NULL };
	struct cmd_loop lp = { CMD, reload, reopen, &r, -1, false };
	struct dnsguard_stats st;
	char err[512];
	int ret;

	ret = cmd_loop_open(&lp);
	if (ret)
		return ret;
	r.g = dnsguard_new(l->m, conf, err, sizeof(err));
	if (!r.g) {
		cmd_err(CMD, MSG_AS_IS, err);
		cmd_loop_close(&lp);
		return EXIT_SYSTEM;
	}
	cmd_err(CMD, "answering for %zu FQDN set%s of "
		"site %s (table inet %s)", l->m->n_fqdn_sets,
		l->m->n_fqdn_sets == 1 ? "" : "s",
		l->m->site ? l->m->site : "", c->table);
	while (!lp.stop) {
		struct pollfd pfd[3] = {
			{ -1, 0, 0 },
			{ dnsguard_fd(r.g), POLLIN, 0 },
			{ alerter_fd(c->al), POLLIN, 0 },
		};

		if (cmd_loop_poll(&lp, pfd, 3, dnsguard_timeout(r.g)) < 0) {
			ret = EXIT_SYSTEM;
			break;
		}
		if (dnsguard_process(r.g)) {
			cmd_err(CMD, MSG_AS_IS, strerror(errno));
			ret = EXIT_SYSTEM;
			break;
		}
		alerter_tick(c->al, time(NULL));
	}
	dnsguard_stats(r.g, &st);
	cmd_err(CMD, "%" PRIu64 " queries, %" PRIu64
		" answered, %" PRIu64 " from cache, %" PRIu64 " refused, %"
		PRIu64 " SERVFAIL, %" PRIu64 " stale", st.queries,
		st.answered, st.cache_hits, st.refused, st.servfail,
		st.stale);
	/* Saves the learned elements. */
	dnsguard_free(r.g);
	cmd_loop_close(&lp);
	return ret;
}

struct listen_args {
	struct hostport v[MAX_LISTEN];
	size_t n;
};

static int own_opt(void *ctx, int opt, const char *arg)
{
	struct listen_args *la = ctx;

	if (opt != 'l')
		return 0;
	if (la->n == MAX_LISTEN || parse_listen(arg, &la->v[la->n])) {
		cmd_err(CMD, "bad --listen \"%s\" (ADDRESS, ADDRESS:PORT or "
			"[IPV6]:PORT; at most %d)", arg, MAX_LISTEN);
		return EXIT_USAGE;
	}
	la->n++;
	return 0;
}

int cmd_dnsguard(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ 0 }
	};
	struct listen_args la = { .n = 0 };
	const struct cmd_parser p = { CMD, CMD_OPT_VERBOSE, opts, own_opt,
				      &la, help };
	struct guard_cli c = { .cmd = CMD };
	struct dnsguard_conf conf;
	struct loaded l = { 0 };
	struct cmd_opts o;
	int ret;

	ret = cmd_parse(&p, argc, argv, &o);
	if (ret >= 0)
		return ret;
	ret = guard_cli_start(&c, &o, &l);
	if (ret)
		goto out;
	memset(&conf, 0, sizeof(conf));
	conf.table = c.table;
	conf.state_dir = c.state_dir;
	conf.listen = la.v;
	conf.n_listen = la.n;
	conf.hooks.log = guard_cli_log;
	conf.hooks.alert = guard_cli_alert;
	conf.hooks.arg = &c;
	ret = run(&c, o.path, &l, &conf);
out:
	guard_cli_close(&c);
	loaded_free(&l);
	return ret;
}
