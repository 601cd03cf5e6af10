// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sanso report [--state-dir DIR] [--alerts FILE]... [--since DATE]
 * [--until DATE] [--lang ja|en] [--format html|json] [--timezone TZ]:
 * the evidence of a period in one document (SPEC §8b) -- the
 * deployments and their audit log, the model in brief with its check,
 * and the alerts counted in one streaming pass, each log verified as
 * verify-log does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cmd.h"
#include "deploy.h"
#include "i18n.h"
#include "report.h"
#include "ruleset.h"
#include "sched.h"

#define CMD "report"
/* deployments shown: the most recent ones of the period */
#define MAX_DEPLOYS	200
#define MAX_FILES	4096

static void help(FILE *out)
{
	cmd_usage(out, CMD);
	fprintf(out, _("\n"
		"  --state-dir DIR   the deployments, audit.log and the key\n"
		"                    (default %s)\n"
		"  --alerts FILE     an alert log, plain or gzip; repeatable\n"
		"                    (default: the deployment's jsonl sinks\n"
		"                    and their rotated files)\n"
		"  --since DATE      from DATE (YYYY-MM-DD[THH:MM], site time)\n"
		"  --until DATE      to the end of DATE, or before THH:MM\n"
		"  --lang ja|en      the page's language (default: locale)\n"
		"  --format html|json  (default html)\n"
		"  -j                same as --format json\n"
		"  --timezone TZ     hour of week and days in TZ (default:\n"
		"                    the deployment's zone file's)\n"
		"  --no-verify       count only: the HMAC chains are not\n"
		"                    recomputed (the page says so)\n"
		"  -h, --help        this help\n"
		"\nExit status: 0 written, evidence intact; 1 written, but a "
		"log is tampered with or not verified; 2 usage; 3 cannot "
		"read a log or write.\n"), DEPLOY_STATE_DIR);
}

static bool lang_ja(const char *opt)
{
	const char *v;

	if (opt)
		return !strcmp(opt, "ja");
	/* The locale's message language, as setlocale() would pick it. */
	v = getenv("LC_ALL");
	if (!v || !*v)
		v = getenv("LC_MESSAGES");
	if (!v || !*v)
		v = getenv("LANG");
	return v && !strncmp(v, "ja", 2);
}

/* The jsonl sinks of the model, and the rotated files beside each
 * (PATH.N, PATH-DATE, compressed or not). */
static int default_alerts(const struct model *m, char ***out, size_t *n)
{
	size_t cap = 0;

	for (size_t i = 0; m && i < m->monitor.n_sinks; i++) {
		const struct sink *s = &m->monitor.sinks[i];
		const char *sfx[] = { "", ".*", "-*" };

		if (s->kind != SINK_JSONL || !s->path)
			continue;
		for (size_t k = 0; k < 3; k++) {
			char pat[4200];
			glob_t g;

			snprintf(pat, sizeof(pat), "%s%s", s->path, sfx[k]);
			if (glob(pat, k ? 0 : GLOB_NOCHECK, NULL, &g))
				continue;
			for (size_t j = 0; j < g.gl_pathc; j++) {
				char **nv;

				if (*n >= MAX_FILES)
					break;
				if (*n == cap) {
					cap = cap ? 2 * cap : 16;
					nv = realloc(*out, cap * sizeof(*nv));
					if (!nv) {
						globfree(&g);
						return -ENOMEM;
					}
					*out = nv;
				}
				(*out)[(*n)++] = strdup(g.gl_pathv[j]);
			}
			globfree(&g);
		}
	}
	return 0;
}

struct infile {
	struct report_log log;
	struct report_start start;
	int start_err;
};

static int infile_cmp(const void *a, const void *b)
{
	const struct infile *x = a, *y = b;

	/* Oldest first, so that a maintenance session that crosses a
	 * rotation is one session. */
	if (x->start.first != y->start.first)
		return x->start.first < y->start.first ? -1 : 1;
	return strcmp(x->log.path, y->log.path);
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The file whose first line continues the chain of `f` (its previous_file
 * is f's name, compression suffix aside): that line anchors f's end. */
static const struct infile *successor(const struct infile *v, size_t n,
				      const struct infile *f)
{
	const char *b = base_of(f->log.path);
	size_t bl = strlen(b);

	if (bl > 3 && !strcmp(b + bl - 3, ".gz"))
		bl -= 3;
	for (size_t i = 0; i < n; i++)
		if (v[i].start.continued &&
		    strlen(v[i].start.prev_file) == bl &&
		    !strncmp(v[i].start.prev_file, b, bl))
			return &v[i];
	return NULL;
}

/* verify-log's verdict on one log (path, or the decompressed copy
 * behind `copy`), into l. */
static void verify(const char *state, const char *path, int copy,
		   const struct audit_chain *head, struct report_log *l)
{
	struct diags d = { 0 };
	struct audit_verdict v;
	char p[64];
	int r;

	if (copy >= 0) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", copy);
		path = p;
	}
	r = audit_verify_head(state, path, head, &d, &v);
	if (r) {
		l->verified = -1;
		snprintf(l->note, sizeof(l->note), "not verified: %s",
			 r == -ENOENT ? "no key (audit.key) in the state "
			 "directory" : strerror(-r));
		goto out;
	}
	l->problems = d.errors;
	if (!v.tampered) {
		l->verified = 1;
		if (copy >= 0)
			snprintf(l->note, sizeof(l->note), "its end matches "
				 "the first line of the file after it");
		else if (v.continues)
			snprintf(l->note, sizeof(l->note), "continues seq %"
				 PRIu64 " of the file before it", v.continues);
		goto out;
	}
	/* A compressed file with no successor read: its links hold, but
	 * only the next file's first line anchors its end. */
	if (copy >= 0 && !head && d.errors == 1 && diag_has(&d, "anchor")) {
		l->verified = -1;
		l->problems = 0;
		snprintf(l->note, sizeof(l->note), "links intact; its end is "
			 "anchored by the first line of the file after it, "
			 "which was not read");
		goto out;
	}
	l->verified = 0;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].sev == DIAG_ERROR) {
			snprintf(l->note, sizeof(l->note), "%s: %s",
				 d.v[i].code, d.v[i].msg);
			break;
		}
out:
	diags_free(&d);
}

/* A private file for the decompressed copy, on disk (not memory: a
 * year of alerts may be large). -1 if none can be made. */
static int scratch(void)
{
	const char *dir = getenv("TMPDIR");
	int fd = open(dir && *dir ? dir : "/tmp",
		      O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		fd = open("/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	return fd;
}

static int hexbytes(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < 2 * n; i++) {
		char c = h[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] << 4 | d : d);
	}
	return 0;
}

/* Reads STATE/audit.log: its verdict, and the deployments of the
 * period (the last MAX_DEPLOYS). */
static void read_audit(const char *state, const struct report_conf *rc,
		       struct report_doc *doc, char *path, size_t plen)
{
	struct report_deploy *ring;
	char *line = NULL;
	size_t cap = 0, n = 0;
	uint64_t total = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, plen, "%s/audit.log", state);
	f = fopen(path, "re");
	if (!f)
		return;
	doc->audit.path = path;
	ring = calloc(MAX_DEPLOYS, sizeof(*ring));
	while (ring && (len = getline(&line, &cap, f)) > 0) {
		struct report_deploy d;
		time_t t;

		doc->audit.lines++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (report_audit_line(line, (size_t)len, &d, &t)) {
			doc->audit.invalid++;
			continue;
		}
		if ((rc->has_since && t < rc->since) ||
		    (rc->has_until && t >= rc->until))
			continue;
		ring[total++ % MAX_DEPLOYS] = d;
	}
	free(line);
	fclose(f);
	if (!ring)
		return;
	n = total < MAX_DEPLOYS ? total : MAX_DEPLOYS;
	doc->deploys = calloc(n ? n : 1, sizeof(*doc->deploys));
	if (doc->deploys) {
		for (size_t i = 0; i < n; i++)
			doc->deploys[i] = ring[(total - n + i) % MAX_DEPLOYS];
		doc->n_deploys = n;
		doc->deploys_omitted = total - n;
	}
	free(ring);
	verify(state, path, -1, NULL, &doc->audit);
}

/* The current deployment's model, rebuilt from its recorded copy, and
 * its check as of now. */
static void read_deployment(const char *state, struct report_doc *doc,
			    struct model **m, struct diags *findings)
{
	struct deployment d;
	struct ruleset *rs = NULL;
	char err[512] = "";
	int32_t today;
	time_t now = time(NULL);
	int secs, wday, off;

	if (deploy_current(state, &d))
		return;
	doc->deployed = true;
	doc->current = d.id;
	tz_format_rfc3339(d.timezone[0] ? d.timezone : "UTC", d.time, 0,
			  doc->current_time, sizeof(doc->current_time));
	snprintf(doc->current_user, sizeof(doc->current_user), "%s", d.user);
	snprintf(doc->zone_sha256, sizeof(doc->zone_sha256), "%s",
		 d.zone_sha256);
	snprintf(doc->ruleset_sha256, sizeof(doc->ruleset_sha256), "%s",
		 d.ruleset_sha256);
	if (deploy_rebuild(state, &d, &rs, err, sizeof(err))) {
		cmd_err(CMD, "deployment %u: %s (the model is left out)",
			d.id, err);
		return;
	}
	if (err[0])
		cmd_warn(CMD, MSG_AS_IS, err);
	*m = rs->owned_model;
	rs->owned_model = NULL;
	ruleset_free(rs);
	if (tz_utc_to_local((*m)->timezone, now, &today, &secs, &wday, &off))
		today = (int32_t)(now / 86400);
	check_model(*m, today, findings);
}

/* The schedule most flows raise off_hours against: the business hours
 * of the heat map. */
static const char *business_schedule(const struct model *m)
{
	size_t best = 0;
	int pick = -1;

	for (size_t s = 0; m && s < m->n_schedules; s++) {
		size_t k = 0;

		for (size_t f = 0; f < m->n_flows; f++)
			k += m->flows[f].alert_outside == (int)s;
		if (k > best) {
			best = k;
			pick = (int)s;
		}
	}
	return pick >= 0 ? m->schedules[pick].name : NULL;
}

struct opts {
	const char *state, *since, *until, *lang, *format, *tz;
	bool no_verify;
	char **alerts;
	size_t n_alerts;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "alerts", required_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "lang", required_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'f' },
		{ "timezone", required_argument, NULL, 'z' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	o->state = DEPLOY_STATE_DIR;
	o->format = "html";
	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->state = optarg; break;
		case 'S': o->since = optarg; break;
		case 'U': o->until = optarg; break;
		case 'z': o->tz = optarg; break;
		case 'n': o->no_verify = true; break;
		case 'a': {
			char **nv = realloc(o->alerts, (o->n_alerts + 1) *
					    sizeof(*nv));

			if (!nv)
				return EXIT_SYSTEM;
			o->alerts = nv;
			o->alerts[o->n_alerts++] = strdup(optarg);
			break;
		}
		case 'l':
			if (strcmp(optarg, "ja") && strcmp(optarg, "en")) {
				cmd_err(CMD, "--lang %s: ja or en", optarg);
				return EXIT_USAGE;
			}
			o->lang = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "html") && strcmp(optarg, "json")) {
				cmd_err(CMD, "--format %s: html or json",
					optarg);
				return EXIT_USAGE;
			}
			o->format = optarg;
			break;
		case 'j':
			o->format = "json";
			break;
		case 'h':
			help(stdout);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cmd_err(CMD, "unexpected \"%s\"", argv[optind]);
		help(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

/* --since and --until in tz: a date alone is its whole day. */
static int period(const struct opts *o, const char *tz,
		  struct report_conf *rc)
{
	if (o->since) {
		if (tz_parse_when(tz, o->since, &rc->since)) {
			cmd_err(CMD, "bad --since \"%s\" (YYYY-MM-DD or "
				"YYYY-MM-DDTHH:MM)", o->since);
			return EXIT_USAGE;
		}
		rc->has_since = true;
	}
	if (o->until) {
		if (tz_parse_when(tz, o->until, &rc->until)) {
			cmd_err(CMD, "bad --until \"%s\" (YYYY-MM-DD or "
				"YYYY-MM-DDTHH:MM)", o->until);
			return EXIT_USAGE;
		}
		if (strlen(o->until) == 10) {
			int32_t day;
			int secs, wday, off;

			if (tz_utc_to_local(tz, rc->until, &day, &secs, &wday,
					    &off) ||
			    tz_local_to_utc(tz, day + 1, 0, &rc->until)) {
				cmd_err(CMD, "bad --until \"%s\"", o->until);
				return EXIT_USAGE;
			}
		}
		rc->has_until = true;
	}
	if (rc->has_since && rc->has_until && rc->since >= rc->until) {
		cmd_err(CMD, "--since is not before --until");
		return EXIT_USAGE;
	}
	return -1;
}

int cmd_report(int argc, char **argv)
{
	struct opts o = { 0 };
	struct report_conf rc = { 0 };
	struct report_doc doc = { 0 };
	struct diags findings = { 0 };
	struct model *m = NULL;
	struct report *r = NULL;
	struct infile *files = NULL;
	char **paths = NULL, audit_path[4200], host[256] = "";
	size_t n_paths = 0;
	const char *tz;
	int ret, wr;

	ret = parse(argc, argv, &o);
	if (ret >= 0)
		goto out;
	doc.ja = lang_ja(o.lang);
	read_deployment(o.state, &doc, &m, &findings);
	tz = o.tz ? o.tz : m && m->timezone ? m->timezone : "UTC";
	if (tz_check(tz)) {
		cmd_err(CMD, "timezone \"%s\": not a zone of the system's "
			"zoneinfo", tz);
		ret = EXIT_USAGE;
		goto out;
	}
	ret = period(&o, tz, &rc);
	if (ret >= 0)
		goto out;
	ret = EXIT_OK;
	rc.tz = tz;
	rc.m = m;
	doc.tz = tz;
	doc.m = m;
	doc.findings = m ? &findings : NULL;
	doc.site = m ? m->site : NULL;
	doc.business = business_schedule(m);
	gethostname(host, sizeof(host) - 1);
	doc.host = host;
	tz_format_rfc3339(tz, time(NULL), 0, doc.generated,
			  sizeof(doc.generated));
	if (rc.has_since)
		tz_format_rfc3339(tz, rc.since, 0, doc.since, sizeof(doc.since));
	if (rc.has_until)
		tz_format_rfc3339(tz, rc.until, 0, doc.until, sizeof(doc.until));
	read_audit(o.state, &rc, &doc, audit_path, sizeof(audit_path));

	if (o.n_alerts) {
		paths = o.alerts;
		n_paths = o.n_alerts;
		o.alerts = NULL;
		o.n_alerts = 0;
	} else if (default_alerts(m, &paths, &n_paths)) {
		cmd_err(CMD, MSG_AS_IS, strerror(ENOMEM));
		ret = EXIT_SYSTEM;
		goto out;
	}
	files = calloc(n_paths ? n_paths : 1, sizeof(*files));
	r = report_new(&rc);
	if (!files || !r) {
		cmd_err(CMD, MSG_AS_IS, strerror(errno ? errno : ENOMEM));
		ret = EXIT_SYSTEM;
		goto out;
	}
	for (size_t i = 0; i < n_paths; i++) {
		files[i].log.path = paths[i];
		files[i].start_err = report_file_start(paths[i],
						       &files[i].start);
	}
	qsort(files, n_paths, sizeof(*files), infile_cmp);
	for (size_t i = 0; i < n_paths; i++) {
		struct infile *f = &files[i];
		struct report_file rf;
		const struct infile *next;
		struct audit_chain head, *hp = NULL;
		int copy = -1, e;

		if (f->start_err) {
			cmd_err(CMD, "%s: %s", f->log.path,
				strerror(-f->start_err));
			f->log.read_error = f->start_err;
			f->log.verified = -1;
			snprintf(f->log.note, sizeof(f->log.note),
				 "cannot read: %s", strerror(-f->start_err));
			ret = EXIT_SYSTEM;
			continue;
		}
		/* Peek at the magic to know whether a copy is needed. */
		{
			int fd = open(f->log.path, O_RDONLY | O_CLOEXEC |
				      O_NONBLOCK);
			unsigned char mg[2];

			if (fd >= 0 && !o.no_verify &&
			    pread(fd, mg, 2, 0) == 2 &&
			    mg[0] == 0x1f && mg[1] == 0x8b)
				copy = scratch();
			if (fd >= 0)
				close(fd);
		}
		e = report_read(r, f->log.path, copy, &rf);
		f->log.lines = rf.lines;
		f->log.invalid = rf.invalid;
		f->log.compressed = rf.compressed;
		if (e) {
			cmd_err(CMD, "%s: %s", f->log.path, e == -EBADMSG ?
				"damaged gzip stream (counted up to the "
				"damage)" : strerror(-e));
			f->log.read_error = e;
			f->log.verified = 0;
			snprintf(f->log.note, sizeof(f->log.note), "%s",
				 e == -EBADMSG ? "damaged gzip stream" :
				 strerror(-e));
			ret = EXIT_SYSTEM;
		} else if (o.no_verify) {
			f->log.verified = -1;
			snprintf(f->log.note, sizeof(f->log.note),
				 "not verified: --no-verify");
		} else if (rf.compressed && copy < 0) {
			f->log.verified = -1;
			snprintf(f->log.note, sizeof(f->log.note),
				 "not verified: no scratch file for its "
				 "decompressed copy");
		} else {
			next = rf.compressed ? successor(files, n_paths, f) :
			       NULL;
			if (next && !hexbytes(next->start.prev_mac, head.mac,
					      AUDIT_MAC_LEN)) {
				head.seq = next->start.prev_seq;
				hp = &head;
			}
			verify(o.state, f->log.path, copy, hp, &f->log);
		}
		if (copy >= 0)
			close(copy);
	}
	doc.logs = calloc(n_paths ? n_paths : 1, sizeof(*doc.logs));
	if (!doc.logs) {
		ret = EXIT_SYSTEM;
		goto out;
	}
	for (size_t i = 0; i < n_paths; i++)
		doc.logs[i] = files[i].log;
	doc.n_logs = n_paths;
	report_finish(r, &doc.c);
	wr = !strcmp(o.format, "json") ? report_write_json(stdout, &doc) :
	     report_write_html(stdout, &doc);
	if (wr || fflush(stdout)) {
		cmd_err(CMD, "standard output: %s", strerror(errno ? errno :
								EIO));
		ret = EXIT_SYSTEM;
		goto out;
	}
	if (ret == EXIT_OK && !o.no_verify) {
		bool ok = !doc.audit.path || doc.audit.verified == 1;

		for (size_t i = 0; i < doc.n_logs; i++)
			ok = ok && doc.logs[i].verified == 1;
		if (!ok)
			ret = EXIT_FINDINGS;
	}
out:
	report_free(r);
	for (size_t i = 0; i < n_paths; i++)
		free(paths[i]);
	free(paths);
	for (size_t i = 0; i < o.n_alerts; i++)
		free(o.alerts[i]);
	free(o.alerts);
	free(files);
	free(doc.logs);
	free(doc.deploys);
	diags_free(&findings);
	model_free(m);
	return ret;
}
