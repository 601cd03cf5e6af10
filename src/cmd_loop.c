// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the long-running commands (monitor, dnsguard, resolve) share:
 * their common options, the alerter's settings from a zone file, and the
 * signals of their poll loop.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "alert.h"
#include "cmd.h"
#include "deploy.h"
#include "i18n.h"
#include "sched.h"

/* Values of the shared options: outside any short option a command may
 * use for its own. */
enum {
	OPT_STATE_DIR = 0x100,
	OPT_DATA_DIR,
	OPT_TABLE,
	OPT_JSONL,
};

#define MAX_OPTS	32

static const struct option shared[] = {
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "jsonl", required_argument, NULL, OPT_JSONL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
};

static bool taken(const struct cmd_parser *p, int val)
{
	if (val == OPT_DATA_DIR)
		return p->shared & CMD_OPT_DATA_DIR;
	if (val == 'v')
		return p->shared & CMD_OPT_VERBOSE;
	return true;
}

int cmd_parse(const struct cmd_parser *p, int argc, char **argv,
	      struct cmd_opts *o)
{
	struct option all[MAX_OPTS];
	size_t n = 0, i;
	int opt, r;

	memset(o, 0, sizeof(*o));
	o->state_dir = DEPLOY_STATE_DIR;
	for (i = 0; p->own && p->own[i].name; i++)
		if (n < MAX_OPTS - 1)
			all[n++] = p->own[i];
	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		if (taken(p, shared[i].val) && n < MAX_OPTS - 1)
			all[n++] = shared[i];
	memset(&all[n], 0, sizeof(all[n]));

	optind = 1;
	while ((opt = getopt_long(argc, argv,
				  p->shared & CMD_OPT_VERBOSE ? "vh" : "h",
				  all, NULL)) != -1) {
		switch (opt) {
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_DATA_DIR:
			o->data_dir = optarg;
			break;
		case OPT_TABLE:
			o->table = optarg;
			break;
		case OPT_JSONL:
			o->jsonl = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			p->help(stdout);
			return EXIT_OK;
		case '?':
			p->help(stderr);
			return EXIT_USAGE;
		default:
			r = p->own_fn ? p->own_fn(p->ctx, opt, optarg) :
					EXIT_USAGE;
			if (r)
				return r;
		}
	}
	if (optind != argc - 1 &&
	    !(optind == argc && (p->shared & CMD_OPT_NO_FILE))) {
		p->help(stderr);
		return EXIT_USAGE;
	}
	if (o->table && !table_name_ok(o->table)) {
		cmd_err(p->cmd, "bad table name \"%s\"", o->table);
		return EXIT_USAGE;
	}
	o->path = optind < argc ? argv[optind] : NULL;
	return -1;
}

void cmd_alerter_conf(const struct model *m, const char *host,
		      const char *jsonl, struct sink *jsonl_sink,
		      const char *state_dir, struct alerter_conf *ac)
{
	memset(ac, 0, sizeof(*ac));
	ac->site = m->site ? m->site : "";
	ac->host = host;
	ac->timezone = m->timezone && !tz_check(m->timezone) ? m->timezone :
								"UTC";
	if (jsonl) {
		memset(jsonl_sink, 0, sizeof(*jsonl_sink));
		jsonl_sink->kind = SINK_JSONL;
		jsonl_sink->path = (char *)jsonl;
		ac->sinks = jsonl_sink;
		ac->n_sinks = 1;
	} else {
		ac->sinks = m->monitor.sinks;
		ac->n_sinks = m->monitor.n_sinks;
	}
	ac->dedup_seconds = m->monitor.dedup_seconds;
	ac->state_dir = state_dir;
	i18n_alert_lang_set(m->monitor.language == LANG_JA ? LANG_JA :
							     LANG_EN);
}

/* ---- signals ---- */

int cmd_loop_open(struct cmd_loop *l)
{
	sigset_t mask;

	l->stop = false;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	l->sfd = -1;
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (l->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		cmd_err(l->cmd, "signals: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

int cmd_loop_poll(struct cmd_loop *l, struct pollfd *pfd,
		  unsigned long n, int timeout)
{
	struct signalfd_siginfo si;
	int r;

	pfd[0] = (struct pollfd){ l->sfd, POLLIN, 0 };
	r = poll(pfd, (nfds_t)n, timeout);
	if (r < 0) {
		if (errno == EINTR)
			return 0;
		cmd_err(l->cmd, "poll: %s", strerror(errno));
		return -1;
	}
	if (!r || !(pfd[0].revents & POLLIN))
		return r;
	while (read(l->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP && l->reload)
			l->reload(l->ctx);
		else if (si.ssi_signo == SIGUSR1 && l->reopen) {
			cmd_err(l->cmd, "SIGUSR1: reopening the "
				"log files");
			l->reopen(l->ctx);
		}
		else if (si.ssi_signo != SIGHUP && si.ssi_signo != SIGUSR1)
			l->stop = true;
	}
	return r;
}

void cmd_loop_close(struct cmd_loop *l)
{
	if (l->sfd >= 0)
		close(l->sfd);
	l->sfd = -1;
}
