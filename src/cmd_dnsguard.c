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
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "alert.h"
#include "cmd.h"
#include "deploy.h"
#include "dnsguard.h"
#include "ruleset.h"
#include "sched.h"

#define CMD "dnsguard"
#define MAX_LISTEN 32

static void help(FILE *out)
{
	cmd_usage(out, CMD);
	fprintf(out, "\n"
		"  --state-dir DIR       learned elements (fqdn.state), alert "
		"chain key\n"
		"                        (default " DEPLOY_STATE_DIR ")\n"
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
		"  -h, --help            this help\n");
}

/* ---- shared with sanso resolve ---- */

void guard_cli_log(void *arg, int prio, const char *msg)
{
	struct guard_cli *c = arg;

	if (prio >= LOG_DEBUG && !c->verbose)
		return;
	fprintf(stderr, "sanso: %s: %s\n", c->cmd, msg);
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
	memset(ac, 0, sizeof(*ac));
	ac->site = m->site ? m->site : "";
	ac->host = c->host;
	ac->timezone = m->timezone && !tz_check(m->timezone) ? m->timezone :
								"UTC";
	if (c->jsonl) {
		c->jsonl_sink.kind = SINK_JSONL;
		c->jsonl_sink.path = (char *)c->jsonl;
		ac->sinks = &c->jsonl_sink;
		ac->n_sinks = 1;
	} else {
		ac->sinks = m->monitor.sinks;
		ac->n_sinks = m->monitor.n_sinks;
	}
	ac->dedup_seconds = m->monitor.dedup_seconds;
	ac->state_dir = c->state_dir;
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
		cmd_err(c->cmd, "%s", err);
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

int guard_cli_start(struct guard_cli *c, const char *path, const char *table,
		    struct loaded *l)
{
	int ret;

	if (table && !table_name_ok(table)) {
		cmd_err(c->cmd, "bad table name \"%s\"", table);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	ret = cmd_load(c->cmd, path, NULL, l);
	if (ret)
		return ret;
	if (!l->m->gateway.n_dns_upstream) {
		cmd_err(c->cmd, "%s: gateway.dns.upstream is not set: there is "
			"no resolver to ask", path);
		return EXIT_FINDINGS;
	}
	return guard_cli_open(c, l->m, table);
}

/* ---- the command ---- */

static int parse_listen(const char *s, struct hostport *hp)
{
	memset(hp, 0, sizeof(*hp));
	return hostport_parse(s, 53, &hp->addr, &hp->port);
}

/* SIGHUP: the zone file again; kept only if it loads and the guard
 * takes it. */
static void reload(struct guard_cli *c, const char *path, struct loaded *cur,
		   struct dnsguard *g)
{
	struct loaded next;
	char err[512];

	if (cmd_load(CMD, path, NULL, &next)) {
		loaded_free(&next);
		cmd_err(CMD, "%s: reload refused; keeping the old zone file",
			path);
		guard_cli_reconfigure(c, cur->m);	/* logrotate */
		return;
	}
	if (dnsguard_reload(g, next.m, err, sizeof(err))) {
		cmd_err(CMD, "reload: %s; keeping the old zone file", err);
		loaded_free(&next);
		guard_cli_reconfigure(c, cur->m);
		return;
	}
	guard_cli_reconfigure(c, next.m);
	loaded_free(cur);
	*cur = next;
	fprintf(stderr, "sanso: " CMD ": reloaded %s\n", path);
}

static int run(struct guard_cli *c, const char *path, struct loaded *l,
	       struct dnsguard_conf *conf)
{
	struct dnsguard *g;
	struct dnsguard_stats st;
	sigset_t mask;
	char err[512];
	bool stop = false;
	int sfd, ret = EXIT_OK;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		cmd_err(CMD, "signals: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	g = dnsguard_new(l->m, conf, err, sizeof(err));
	if (!g) {
		cmd_err(CMD, "%s", err);
		close(sfd);
		return EXIT_SYSTEM;
	}
	fprintf(stderr, "sanso: " CMD ": answering for %zu FQDN set%s of "
		"site %s (table inet %s)\n", l->m->n_fqdn_sets,
		l->m->n_fqdn_sets == 1 ? "" : "s",
		l->m->site ? l->m->site : "", c->table);
	while (!stop) {
		struct pollfd pfd[3] = {
			{ sfd, POLLIN, 0 },
			{ dnsguard_fd(g), POLLIN, 0 },
			{ alerter_fd(c->al), POLLIN, 0 },
		};
		int n = poll(pfd, 3, dnsguard_timeout(g));

		if (n < 0 && errno != EINTR) {
			cmd_err(CMD, "poll: %s", strerror(errno));
			ret = EXIT_SYSTEM;
			break;
		}
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					reload(c, path, l, g);
				else
					stop = true;
			}
		}
		if (dnsguard_process(g)) {
			cmd_err(CMD, "%s", strerror(errno));
			ret = EXIT_SYSTEM;
			break;
		}
		alerter_tick(c->al, time(NULL));
	}
	dnsguard_stats(g, &st);
	fprintf(stderr, "sanso: " CMD ": %" PRIu64 " queries, %" PRIu64
		" answered, %" PRIu64 " from cache, %" PRIu64 " refused, %"
		PRIu64 " SERVFAIL, %" PRIu64 " stale\n", st.queries,
		st.answered, st.cache_hits, st.refused, st.servfail,
		st.stale);
	/* Saves the learned elements. */
	dnsguard_free(g);
	close(sfd);
	return ret;
}

int cmd_dnsguard(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "table", required_argument, NULL, 't' },
		{ "listen", required_argument, NULL, 'l' },
		{ "jsonl", required_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct guard_cli c = { .cmd = CMD, .state_dir = DEPLOY_STATE_DIR };
	struct hostport listen[MAX_LISTEN];
	struct dnsguard_conf conf;
	const char *table = NULL;
	struct loaded l = { 0 };
	size_t n_listen = 0;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			c.state_dir = optarg;
			break;
		case 't':
			table = optarg;
			break;
		case 'l':
			if (n_listen == MAX_LISTEN ||
			    parse_listen(optarg, &listen[n_listen])) {
				cmd_err(CMD, "bad --listen \"%s\" (ADDRESS, "
					"ADDRESS:PORT or [IPV6]:PORT; at "
					"most %d)", optarg, MAX_LISTEN);
				return EXIT_USAGE;
			}
			n_listen++;
			break;
		case 'j':
			c.jsonl = optarg;
			break;
		case 'v':
			c.verbose = true;
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		help(stderr);
		return EXIT_USAGE;
	}
	ret = guard_cli_start(&c, argv[optind], table, &l);
	if (ret)
		goto out;
	memset(&conf, 0, sizeof(conf));
	conf.table = c.table;
	conf.state_dir = c.state_dir;
	conf.listen = listen;
	conf.n_listen = n_listen;
	conf.hooks.log = guard_cli_log;
	conf.hooks.alert = guard_cli_alert;
	conf.hooks.arg = &c;
	ret = run(&c, argv[optind], &l, &conf);
out:
	guard_cli_close(&c);
	loaded_free(&l);
	return ret;
}
