// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sanso monitor: the sockets, the poll loop, signals and privileges
 * around the judgement in src/monitor.c, and the kernel side of its
 * struct monitor_ops (conntrack sweeps, drift digests, FQDN sets).
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "alert.h"
#include "cmd.h"
#include "ctnetlink.h"
#include "deploy.h"
#include "dnsguard.h"
#include "ha.h"
#include "i18n.h"
#include "kernel.h"
#include "kernel_dump.h"
#include "monitor.h"
#include "nflog.h"
#include "replay.h"
#include "sink.h"
#include "sched.h"

#define CMD "monitor"
#define EVENT_RCVBUF	(16 << 20)	/* conntrack and nflog */
#define ROUTE_RCVBUF	(1 << 20)
#define RECV_BUF	(256 * 1024)
/* Datagrams read from one socket before the others get a turn. */
#define DRAIN_MAX	512
#define ONCE_MAX	10	/* seconds --once may take */

struct mon_cmd {
	const char *path;	/* NULL: the current deployment, followed */
	unsigned int dep_id;	/* the deployment judged by, 0 none */
	unsigned int dep_failed;	/* the one that could not be read */
	const char *state_dir;	/* deployments (read) */
	const char *data_dir;	/* what the monitor writes; default state */
	const char *table;	/* --table, when nothing is deployed */
	const char *jsonl;
	char host[256];
	struct loaded cur;
	struct alerter *al;
	struct monitor *mon;
	struct sink jsonl_sink;

	struct mnl_socket *ev, *dump, *cmd, *nflog, *rt;
	struct mnl_socket *nft;	/* nf_tables events, or NULL */
	uint16_t log_group;
	bool dumping, redump, rt_dumping;
	uint32_t seq;
	struct pcap_writer *rec;
	int deploy_err;		/* the read error last said, 0 none */
	bool warned_digest;
	int canon;		/* the deployment's canonical version (0:
				 * none read) */
	pid_t watchdog;		/* the commit-confirmed watchdog, 0 none */
	int watchdog_fd;	/* its pipe: closing it ends the watchdog */
	struct dnsguard *guard;	/* the DNS guard, in this same loop */
	bool no_guard;		/* --no-dnsguard: it runs on its own */
	const char *ha_role_path;	/* --ha-role */
	struct ha_role_file role;	/* as last read */
	int role_err;		/* its read error last said, 0 none */
	bool in_pair;		/* the policy in force has gateway.ha */
};

static void help(FILE *out)
{
	cmd_usage(out, CMD);
	fprintf(out, _("\n"
		"  --no-dnsguard        do not run the DNS guard (it runs as\n"
		"                       'sanso dnsguard' of its own)\n"
		"  --user NAME          run as NAME once the sockets are\n"
		"                       open, keeping CAP_NET_ADMIN only\n"
		"  --state-dir DIR      deployments, alert key, spool\n"
		"                       (default %s)\n"
		"  --data-dir DIR       alert key, chain, spool and DNS state\n"
		"                       here instead of the state directory\n"
		"  --table NAME         table watched for drift when nothing\n"
		"                       is deployed (default \"sanso\")\n"
		"  --drift-interval S   compare the live table with the\n"
		"                       deployed one when the kernel reports\n"
		"                       a change, and every S seconds\n"
		"                       (default 3600; 0: never)\n"
		"  --jsonl FILE         alerts to this JSON lines file, not\n"
		"                       the zone file's monitor.alerts\n"
		"  --ha-role FILE       a pair's node: its VRRP role as the\n"
		"                       notify script writes it (default\n"
		"                       %s)\n"
		"  --replay FILE.pcap   read netlink messages from a capture\n"
		"                       (nlmon, tcpdump), not the kernel\n"
		"  --record FILE.pcap   also write what is read to a capture\n"
		"  --once               judge the conntrack table and what is\n"
		"                       pending, then exit\n"
		"  --watchdog           only the watchdog of commit-confirmed,\n"
		"                       as root (for an unprivileged monitor)\n"
		"  -h, --help           this help\n"), DEPLOY_STATE_DIR, HA_ROLE_FILE);
}

/* ---- the alerter ---- */

static void alerter_conf_of(struct mon_cmd *c, struct alerter_conf *ac)
{
	cmd_alerter_conf(c->cur.m, c->host, c->jsonl, &c->jsonl_sink,
			 c->data_dir, ac);
}

/* The sinks of the policy in force, the JSON lines files reopened. */
static void reopen_sinks(struct mon_cmd *c)
{
	struct alerter_conf ac;

	alerter_conf_of(c, &ac);
	if (alerter_reconfigure(c->al, &ac))
		cmd_err(CMD, "alert sinks: %s",
			strerror(errno));
}

static void emit_cb(void *ctx, const struct alert *a)
{
	struct mon_cmd *c = ctx;

	alerter_emit(c->al, a);
}

static void tick_cb(void *ctx, time_t now)
{
	struct mon_cmd *c = ctx;

	alerter_tick(c->al, now);
}

/* ---- the kernel side of the monitor ---- */

static const char *watched_table(struct mon_cmd *c, char *buf, size_t n)
{
	struct deployment d;

	if (!deploy_current(c->state_dir, &d) && d.table[0])
		snprintf(buf, n, "%s", d.table);
	else
		snprintf(buf, n, "%s", c->table);
	return buf;
}

static int op_deployed(void *ctx, char *table, size_t n, char hex[65])
{
	struct mon_cmd *c = ctx;
	struct deployment d;
	int r = deploy_current(c->state_dir, &d);

	/* The monitor raises config_error too; this is for the journal. */
	if (r && r != -ENOENT && r != c->deploy_err)
		cmd_err(CMD, "drift: cannot read the "
			"deployment in %s: %s (judging against the table found "
			"at start)", c->state_dir, strerror(-r));
	c->deploy_err = r == -ENOENT ? 0 : r;
	if (r)
		return r;
	snprintf(table, n, "%s", d.table[0] ? d.table : c->table);
	snprintf(hex, 65, "%s", d.ruleset_sha256);
	c->canon = d.canon;
	return 0;
}

static int op_in_change(void *ctx, const char *table, const char *hex)
{
	struct mon_cmd *c = ctx;

	return deploy_intent_loads(c->state_dir, table, hex);
}

static int op_live_digest(void *ctx, const char *table, char hex[65])
{
	struct mon_cmd *c = ctx;
	/* In the version the deployment's record was written with. */
	int r = kernel_table_digest_v(NFPROTO_INET, table, c->canon ? c->canon :
				      KERNEL_CANON_VERSION, hex);

	if (r < 0 && r != -ENOENT && !c->warned_digest) {
		c->warned_digest = true;
		cmd_err(CMD, "drift: cannot read table inet "
			"%s: %s", table, strerror(-r));
	}
	return r;
}

struct sweep_list {
	monitor_match_fn match;
	void *arg;
	struct ct_event *v;
	size_t n, cap;
};

static int sweep_collect(const struct ct_event *ev, void *arg)
{
	struct sweep_list *l = arg;

	if (!l->match(l->arg, ev))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct ct_event *nv = reallocarray(l->v, cap, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *ev;
	return 0;
}

/* A dump first, then the deletes: a socket cannot take requests in the
 * middle of a dump. */
static int op_ct_sweep(void *ctx, monitor_match_fn match, void *arg)
{
	struct mon_cmd *c = ctx;
	struct sweep_list l = { match, arg, NULL, 0, 0 };
	size_t i;
	int err, n = 0;

	err = ctnl_dump_sync(c->cmd, sweep_collect, &l);
	for (i = 0; !err && i < l.n; i++) {
		int r = ctnl_delete(c->cmd, &l.v[i]);

		if (!r)
			n++;
		else if (r != -ENOENT)
			err = r;
	}
	free(l.v);
	return err ? err : n;
}

/* One element of the kernel's set, asked when the monitor has not
 * learned the address (include/monitor.h). */
static int op_fqdn_element(void *ctx, int set, const struct prefix *addr,
			   uint64_t *left_ms)
{
	struct mon_cmd *c = ctx;
	const struct model *m = c->cur.m;
	char table[72], name[128];

	if (set < 0 || (size_t)set >= m->n_fqdn_sets)
		return 0;
	watched_table(c, table, sizeof(table));
	snprintf(name, sizeof(name), "fqdn-%s-%s", m->fqdn_sets[set].name,
		 addr->family == AF_INET ? "v4" : "v6");
	return kernel_get_set_element(NFPROTO_INET, table, name, addr->addr,
				      addr->family == AF_INET ? 4 : 16,
				      left_ms);
}

/* ---- sockets ---- */

static void set_nonblock(struct mnl_socket *nl)
{
	int fd = mnl_socket_get_fd(nl), fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* The gateway's addresses, so that its own connections are not judged
 * as forwarded traffic; changes arrive on the same socket. */
static int rt_dump(struct mon_cmd *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++c->seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (mnl_socket_sendto(c->rt, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	c->rt_dumping = true;
	return 0;
}

static int rt_open(struct mon_cmd *c)
{
	c->rt = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!c->rt)
		return -errno;
	if (mnl_socket_bind(c->rt, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	nlsock_rcvbuf(c->rt, ROUTE_RCVBUF);
	return rt_dump(c);
}

/*
 * nf_tables events: every change to a table is multicast, so the drift
 * check runs when something happened instead of reading a large table
 * back every minute. Without the socket the interval alone remains.
 */
static void nft_open(struct mon_cmd *c)
{
	int group = NFNLGRP_NFTABLES;

	c->nft = mnl_socket_open2(NETLINK_NETFILTER,
				  SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c->nft && mnl_socket_bind(c->nft, 0, MNL_SOCKET_AUTOPID) == 0 &&
	    mnl_socket_setsockopt(c->nft, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) == 0) {
		nlsock_rcvbuf(c->nft, ROUTE_RCVBUF);
		return;
	}
	cmd_warn(CMD, _("nf_tables events: %s; drift is checked every "
			"--drift-interval only"), strerror(errno));
	if (c->nft)
		mnl_socket_close(c->nft);
	c->nft = NULL;
}

/* Whether an nf_tables event can change the watched table's digest:
 * anything in it except the elements of its FQDN sets (which the guard
 * changes all day and the digest leaves out) and the generation
 * markers. Every object's first attribute is its table's name. */
static bool nft_event_matters(const struct nlmsghdr *nlh, const char *table)
{
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const char *tab = NULL, *set = NULL;
	const struct nlattr *a;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    type == NFT_MSG_NEWGEN)
		return false;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			continue;
		if (mnl_attr_get_type(a) == NFTA_TABLE_NAME)
			tab = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			set = mnl_attr_get_str(a);
	}
	if (!tab || strcmp(tab, table))
		return false;
	if ((type == NFT_MSG_NEWSETELEM || type == NFT_MSG_DELSETELEM) && set &&
	    !strncmp(set, "fqdn-", 5))
		return false;
	return true;
}

static void nft_read(struct mon_cmd *c, time_t now)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	const char *table = c->table ? c->table : RS_DEFAULT_TABLE;
	struct deployment d;
	bool changed = false;
	ssize_t n;

	if (!deploy_current(c->state_dir, &d) && d.table[0])
		table = d.table;
	while ((n = recv(mnl_socket_get_fd(c->nft), buf, sizeof(buf),
			 MSG_DONTWAIT)) != 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			/* Lost events may have been changes. */
			if (errno == ENOBUFS)
				changed = true;
			else if (errno != EINTR)
				break;
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (!changed && nft_event_matters(nlh, table))
				changed = true;
	}
	if (changed)
		monitor_table_changed(c->mon, now);
}

static int dump_start(struct mon_cmd *c)
{
	int r;

	if (c->dumping) {
		c->redump = true;
		return 0;
	}
	r = ctnl_dump_request(c->dump, ++c->seq);
	if (!r)
		c->dumping = true;
	return r;
}

static int nflog_bind(struct mon_cmd *c, uint16_t group)
{
	int got = 0;
	struct mnl_socket *nl = nflog_open(group, EVENT_RCVBUF, &got);

	if (!nl)
		return -errno;
	if (c->nflog)
		mnl_socket_close(c->nflog);
	c->nflog = nl;
	c->log_group = group;
	cmd_err(CMD, "nflog group %u, receive buffer %d "
		"bytes", group, got);
	return 0;
}

/* Start times for the connections found at start. The unit sets the
 * sysctl before its sandbox hides /proc/sys: written only when it reads
 * 0, and a warning only when it stays 0. Unreadable is not known to be
 * off, so it goes unsaid. */
static void timestamps_on(void)
{
	static const char path[] =
		"/proc/sys/net/netfilter/nf_conntrack_timestamp";
	char v[8];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, v, sizeof(v) - 1);
	close(fd);
	if (n <= 0 || v[0] != '0')
		return;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1\n", 2) != 2)
		cmd_err(CMD, "nf_conntrack_timestamp is 0 "
			"and cannot be turned on (%s): connections found at "
			"start are judged as of now", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/*
 * Reads what one socket has (up to DRAIN_MAX datagrams). Returns the
 * monitor_feed() bits seen, and counts ENOBUFS in *lost.
 */
static int drain(struct mon_cmd *c, struct mnl_socket *nl, int proto,
		 uint64_t *lost, int *err)
{
	static char buf[RECV_BUF];
	struct timespec now;
	int bits = 0, i;

	*err = 0;
	for (i = 0; i < DRAIN_MAX; i++) {
		ssize_t n = nlsock_recv(mnl_socket_get_fd(nl), buf,
					sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				(*lost)++;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				*err = -errno;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &now);
		if (c->rec)
			pcapw_write(c->rec, (uint16_t)proto, buf, (size_t)n,
				    &now);
		bits |= monitor_feed(c->mon, proto, buf, (size_t)n, &now);
	}
	return bits;
}

/* ---- privileges ---- */

/* What the monitor goes on writing after the drop (the alert chain, the
 * spool, the DNS guard's state) is handed to the user; the rest of the
 * state directory (deployments, the audit log, the key) stays root's, and
 * the directory itself only becomes traversable. */
static void hand_over_state(const char *state, uid_t uid, gid_t gid)
{
	static const char *const mine[] = { "chain", "spool", "fqdn.lock",
					    "fqdn.state" };
	char p[4200];
	int r;

	if (chmod(state, 0711))
		return;
	/* The spool is where an alert goes that no sink takes: made now,
	 * so that the user can write it when the first sink fails. */
	snprintf(p, sizeof(p), "%s/spool", state);
	if ((r = audit_mkdir(p)))
		cmd_err(CMD, "%s: %s", p, strerror(-r));
	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
		struct dirent *e;
		DIR *d;
		int fd;

		snprintf(p, sizeof(p), "%s/%s", state, mine[i]);
		fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fchown(fd, uid, gid))
			cmd_err(CMD, "%s: %s", p,
				strerror(errno));
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			continue;
		}
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				fchownat(dirfd(d), e->d_name, uid, gid,
					 AT_SYMLINK_NOFOLLOW);
		closedir(d);
	}
}

/* Whether uid (in group gid only) may create files in a directory. */
static bool dir_writable(const char *dir, uid_t uid, gid_t gid)
{
	struct stat st;

	if (stat(dir, &st))
		return false;
	if (st.st_uid == uid)
		return st.st_mode & S_IWUSR;
	if (st.st_gid == gid)
		return st.st_mode & S_IWGRP;
	return st.st_mode & S_IWOTH;
}

/*
 * The JSON lines files the monitor goes on writing: created by root
 * before the drop, they are handed to the user, or SIGHUP and SIGUSR1
 * could not reopen them. A new file after a rotation needs a directory
 * the user may write (or logrotate's `create`); where it may not, the
 * alerts go to the spool until the file is writable again, and that is
 * said now rather than at the first rotation.
 */
static void hand_over_sinks(const struct mon_cmd *c, uid_t uid, gid_t gid)
{
	const struct model *m = c->cur.m;
	char dir[4096];

	for (size_t i = 0; i < (c->jsonl ? 1 : m->monitor.n_sinks); i++) {
		const char *path = c->jsonl ? c->jsonl : m->monitor.sinks[i].path;
		int fd;

		if (!c->jsonl && m->monitor.sinks[i].kind != SINK_JSONL)
			continue;
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			if (fchown(fd, uid, gid))
				cmd_err(CMD, "%s: %s",
					path, strerror(errno));
			close(fd);
		}
		snprintf(dir, sizeof(dir), "%s", path);
		if (!dir_writable(dirname(dir), uid, gid))
			cmd_warn(CMD, "%s: the user "
				"may not create files in its directory: after "
				"a rotation, logrotate must create the file "
				"for it (create MODE USER GROUP); until then "
				"alerts are spooled", path);
	}
}

static int drop_privileges(struct mon_cmd *c, const char *user,
			   const char *state)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct passwd *pw;
	gid_t gid;
	int cap;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return errno ? -errno : -ENOENT;
	gid = pw->pw_gid;
	hand_over_state(state, pw->pw_uid, gid);
	hand_over_sinks(c, pw->pw_uid, gid);
	/* Nothing but CAP_NET_ADMIN may ever come back, even by exec. */
	for (cap = 0; cap <= 63; cap++)
		if (cap != CAP_NET_ADMIN && prctl(PR_CAPBSET_DROP, cap) < 0 &&
		    errno == EINVAL)
			break;
	if (prctl(PR_SET_KEEPCAPS, 1) < 0 || setgroups(1, &gid) < 0 ||
	    setresgid(gid, gid, gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return -errno;
	memset(d, 0, sizeof(d));
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective = CAP_TO_MASK(CAP_NET_ADMIN);
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted = CAP_TO_MASK(CAP_NET_ADMIN);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (pw->pw_uid != 0 && setresuid(0, 0, 0) == 0)
		return -EPERM;	/* the drop did not hold */
	return 0;
}

/* ---- the watchdog of commit-confirmed (SPEC §7) ---- */

/* Seconds past a pending deployment's deadline before the watchdog
 * rolls it back: the confirm timer goes first, and a confirm that took
 * the lock at the deadline finishes. */
#define WATCHDOG_GRACE	5

/*
 * Why a child: rolling back takes STATE/lock and writes the deployments
 * and the audit log, which belong to root (0700, checked by
 * deploy_lock()), while the monitor drops to --user and keeps only
 * CAP_NET_ADMIN; a rollback can also take seconds (a large table is read
 * back), which the event loop must not wait for. So a child is forked
 * while the monitor is still root. It does only this: it holds no
 * socket (every descriptor but stderr is closed), reads nothing from the
 * network or from the monitor, and calls deploy_expire() once a second.
 * It ends when the monitor does: the end of a pipe the monitor holds
 * closes (the monitor, once unprivileged, may not signal a root
 * process), and PR_SET_PDEATHSIG if the monitor is killed; a rollback
 * under way is finished first. So it never outlives the process the
 * operator sees.
 */
/* The watchdog's loop; rfd < 0 (--watchdog, its own process): until
 * SIGTERM. */
static void watchdog_loop(const char *state, int rfd)
{
	sigset_t term;
	char err[512], last[512] = "";

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	for (;;) {
		struct pollfd pfd = { rfd, POLLIN, 0 };
		int r;

		if (poll(&pfd, 1, 1000) != 0 && (pfd.revents || errno != EINTR))
			_exit(0);	/* the monitor closed its end */
		sigprocmask(SIG_BLOCK, &term, NULL);
		r = deploy_expire(state, WATCHDOG_GRACE, "the monitor's "
				  "watchdog: the confirm deadline passed and "
				  "its timer did not roll back", err,
				  sizeof(err));
		if (r == 1) {
			cmd_err(CMD, "watchdog: a pending "
				"deployment was not confirmed by its deadline: "
				"rolled back%s%s", err[0] ? ": " : "", err);
			last[0] = '\0';
		} else if (r < 0 && strcmp(err, last)) {
			/* Said once per distinct error; tried each second. */
			cmd_err(CMD, "watchdog: the rollback "
				"of an expired pending deployment failed: %s",
				err[0] ? err : strerror(-r));
			snprintf(last, sizeof(last), "%s", err);
		}
		sigprocmask(SIG_UNBLOCK, &term, NULL);
	}
}

static void watchdog_run(const char *state, pid_t parent, int rfd)
{
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);	/* signalfd blocked them */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);	/* a ^C is the monitor's to handle */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(0);
	for (fd = 3; fd < 1024; fd++)
		if (fd != rfd)
			close(fd);
	prctl(PR_SET_NAME, "sanso-watchdog");
	watchdog_loop(state, rfd);
}

/*
 * --watchdog: the same loop as a process of its own, for a service
 * manager that runs the monitor unprivileged from its first instruction
 * (the systemd unit's User=): sanso-watchdog.service runs it as root,
 * bound to the monitor's unit. It opens no socket and reads no zone
 * file.
 */
static int watchdog_only(const char *state)
{
	if (geteuid() != 0) {
		cmd_err(CMD, "--watchdog rolls back root's deployments: run it "
			"as root");
		return EXIT_FINDINGS;
	}
	cmd_err(CMD, "watchdog of commit-confirmed in %s: "
		"rolls back %d s past a missed deadline", state,
		WATCHDOG_GRACE);
	signal(SIGTERM, SIG_DFL);
	watchdog_loop(state, -1);
	return EXIT_OK;
}

/* Forks the watchdog while the monitor is root. Not root: it cannot
 * roll back, and says so once. */
static void watchdog_start(struct mon_cmd *c)
{
	pid_t parent = getpid(), pid;
	int p[2];

	if (geteuid() != 0) {
		cmd_err(CMD, "not started as root: not the "
			"watchdog of commit-confirmed (the confirm timer alone "
			"rolls back)");
		return;
	}
	fflush(stderr);
	if (pipe2(p, O_CLOEXEC) < 0) {
		pid = -1;
	} else {
		pid = fork();
		if (pid < 0) {
			close(p[0]);
			close(p[1]);
		}
	}
	if (pid < 0) {
		cmd_err(CMD, "watchdog: %s (the confirm "
			"timer alone rolls back)", strerror(errno));
		return;
	}
	if (!pid)
		watchdog_run(c->state_dir, parent, p[0]);
	close(p[0]);
	c->watchdog = pid;
	c->watchdog_fd = p[1];
	cmd_err(CMD, "watchdog of commit-confirmed in "
		"%s (pid %ld): rolls back %d s past a missed deadline",
		c->state_dir, (long)pid, WATCHDOG_GRACE);
}

static void watchdog_stop(struct mon_cmd *c)
{
	if (c->watchdog <= 0)
		return;
	close(c->watchdog_fd);
	waitpid(c->watchdog, NULL, 0);
	c->watchdog = 0;
}

/* ---- the DNS guard (SPEC §6), served from the monitor's loop ---- */

/* How long after a learned entry expired its element may still be
 * listed: the kernel rounds timeouts up, and the guard forgets at its
 * own pace. */
#define FOREIGN_SLACK_MS	5000

/* Called at each drift check, between two rounds of the guard, so the
 * guard's own state already holds every element it armed. */
static int op_fqdn_foreign(void *ctx, monitor_foreign_fn fn, void *arg)
{
	struct mon_cmd *c = ctx;

	if (!c->guard)
		return 0;
	return fqdn_state_foreign(dnsguard_fqdn(c->guard), c->data_dir,
				  fqdn_now(), FOREIGN_SLACK_MS, fn, arg);
}

/* Whether FQDN set elements are checked, said once at start. */
static void foreign_say(const struct mon_cmd *c, const char *why)
{
	if (!c->cur.m->n_fqdn_sets)
		return;
	if (why)
		cmd_err(CMD, "FQDN set elements are not "
			"checked for drift: %s", why);
	else
		cmd_err(CMD, "FQDN set elements are "
			"checked for drift against what was learned");
}

static void guard_log(void *arg, int prio, const char *msg)
{
	(void)arg;
	if (prio <= LOG_WARNING)
		cmd_err(CMD, "dns: %s", msg);
}

static void guard_alert(void *arg, const struct alert *a)
{
	struct mon_cmd *c = arg;

	alerter_emit(c->al, a);
}

/* Each element the guard armed, to the judgement at once: the
 * connection its answer allows may arrive before the next event round. */
static void guard_armed(void *arg, const struct fqdn_elem *v, size_t n)
{
	struct mon_cmd *c = arg;
	const struct model *m = c->cur.m;
	int64_t now = fqdn_now();
	char name[128];

	for (size_t i = 0; i < n; i++) {
		struct prefix a = { .family = v[i].family };
		size_t len = v[i].family == AF_INET ? 4 : 16;

		for (size_t s = 0; s < m->n_fqdn_sets; s++) {
			snprintf(name, sizeof(name), "fqdn-%s-%s",
				 m->fqdn_sets[s].name,
				 v[i].family == AF_INET ? "v4" : "v6");
			if (strcmp(name, v[i].set))
				continue;
			a.len = (uint8_t)(len * 8);
			memcpy(a.addr, v[i].addr, len);
			monitor_fqdn_armed(c->mon, (int)s, &a,
					   now + (int64_t)v[i].timeout_ms);
			break;
		}
	}
}

/* Started before privileges are dropped (it binds port 53). A guard that
 * cannot start is reported, and the monitor watches on without it: the
 * FQDN sets then keep what they have until it expires. */
static void guard_start(struct mon_cmd *c)
{
	struct dnsguard_conf conf;
	struct timespec now;
	char err[256] = "", table[80], msg[400];

	if (c->no_guard || !c->cur.m->n_fqdn_sets) {
		foreign_say(c, "--no-dnsguard");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (!c->cur.m->gateway.n_dns_upstream) {
		monitor_config_error(c->mon, &now, "the zone file has FQDN "
				     "sets but no gateway.dns.upstream: the "
				     "DNS guard is not running");
		foreign_say(c, "no DNS guard in the monitor");
		return;
	}
	memset(&conf, 0, sizeof(conf));
	conf.table = watched_table(c, table, sizeof(table));
	conf.state_dir = c->data_dir;
	conf.hooks.log = guard_log;
	conf.hooks.alert = guard_alert;
	conf.hooks.armed = guard_armed;
	conf.hooks.arg = c;
	c->guard = dnsguard_new(c->cur.m, &conf, err, sizeof(err));
	if (!c->guard) {
		snprintf(msg, sizeof(msg), "the DNS guard did not start: %s",
			 err[0] ? err : strerror(errno));
		monitor_config_error(c->mon, &now, msg);
		foreign_say(c, "no DNS guard in the monitor");
		return;
	}
	cmd_err(CMD, "DNS guard answering for %zu FQDN "
		"set%s", c->cur.m->n_fqdn_sets,
		c->cur.m->n_fqdn_sets == 1 ? "" : "s");
	foreign_say(c, NULL);
}

/* ---- the pair's role (sanso(8), A REDUNDANT PAIR) ---- */

static enum monitor_role role_of(enum ha_role r)
{
	switch (r) {
	case HA_ROLE_MASTER:
		return MONITOR_MASTER;
	case HA_ROLE_BACKUP:
	case HA_ROLE_FAULT:
		return MONITOR_BACKUP;
	default:
		return MONITOR_ALONE;
	}
}

/*
 * Once a second: the role file, read again only when it was replaced.
 * A missing or garbled one reports everything (fail open: a duplicate
 * alert is seen, a suppressed one is not). On becoming master the
 * conntrack table is read again: connections that started after the
 * role file was written but were seen while it still said backup are
 * judged then, and those older than it are the old master's.
 */
static void role_check(struct mon_cmd *c)
{
	bool pair = c->cur.m->gateway.ha.present;
	enum ha_role was = c->in_pair ? c->role.role : HA_ROLE_UNKNOWN;
	int r;

	if (!pair) {
		if (c->in_pair)
			cmd_err(CMD, "the deployment has no "
				"gateway.ha: every alert is reported");
		c->in_pair = false;
		c->role_err = 0;
		memset(&c->role, 0, sizeof(c->role));
		monitor_set_role(c->mon, MONITOR_ALONE, NULL);
		return;
	}
	r = ha_role_read(c->ha_role_path, &c->role);
	if (c->in_pair && !r)
		return;
	c->in_pair = true;
	if (r < 0 && r != c->role_err)
		cmd_err(CMD, "pair role: %s: %s: every "
			"alert is reported", c->ha_role_path,
			r == -ENOENT ? "none written yet (keepalived's notify "
			"script writes it)" : r == -EINVAL ? "not master, "
			"backup or fault" : strerror(-r));
	c->role_err = r < 0 ? r : 0;
	if (r >= 0 && c->role.role != was)
		cmd_err(CMD, "pair role %s (%s): %s",
			ha_role_name(c->role.role), c->ha_role_path,
			c->role.role == HA_ROLE_MASTER ? "reporting connection "
			"alerts" : "connection alerts are the master's, "
			"counted here");
	monitor_set_role(c->mon, role_of(c->role.role), &c->role.since);
	if (c->role.role == HA_ROLE_MASTER && was != HA_ROLE_MASTER &&
	    c->dump)
		dump_start(c);
}

/* ---- the policy in force ---- */

/*
 * The current deployment's policy, from its recorded copy of the zone
 * file and holiday files, as rollback and the boot load rebuild it: the
 * monitor judges by what is deployed, never by a file that may hold what
 * has not been applied. 0 with the deployment's id, -ENOENT when nothing
 * is deployed, -errno with err set.
 */
static int deployment_load(const char *state, struct loaded *l,
			   unsigned int *id, char *err, size_t errlen)
{
	struct deployment d;
	struct ruleset *rs = NULL;
	int r;

	memset(l, 0, sizeof(*l));
	err[0] = '\0';
	r = deploy_current(state, &d);
	if (r) {
		snprintf(err, errlen, _("%s: %s"), state, r == -ENOENT ?
			 "nothing is deployed" : strerror(-r));
		return r;
	}
	r = deploy_rebuild(state, &d, &rs, err, errlen);
	if (r)
		return r;
	if (err[0])
		cmd_warn(CMD, MSG_AS_IS, err);
	/* The ruleset is not needed, only what it was built from. */
	l->m = rs->owned_model;
	l->policy = rs->owned_policy;
	rs->owned_model = NULL;
	rs->owned_policy = NULL;
	ruleset_free(rs);
	l->when = time(NULL);
	*id = d.id;
	return 0;
}

/* Puts a loaded policy in force (the old one is freed), or keeps the
 * old one and returns -errno. */
static int policy_switch(struct mon_cmd *c, struct loaded *nl, char *msg,
			 size_t msglen)
{
	struct timespec now;
	int r;

	clock_gettime(CLOCK_REALTIME, &now);
	if (monitor_set_policy(c->mon, nl->policy)) {
		loaded_free(nl);
		return -ENOMEM;
	}
	loaded_free(&c->cur);
	c->cur = *nl;
	memset(nl, 0, sizeof(*nl));
	if (c->guard && dnsguard_reload(c->guard, c->cur.m, msg, msglen))
		monitor_config_error(c->mon, &now, msg);
	reopen_sinks(c);
	if (c->cur.m->gateway.log_group != c->log_group &&
	    (r = nflog_bind(c, c->cur.m->gateway.log_group)))
		cmd_err(CMD, "nflog group %u: %s (still on group %u)",
			c->cur.m->gateway.log_group, strerror(-r),
			c->log_group);
	return 0;
}

/*
 * Without FILE: follows STATE/current, looked at once a second, so that
 * apply, confirm and rollback need no signal. A new deployment that
 * cannot be rebuilt keeps the policy in force and raises config_error
 * once; nothing deployed any more (the first deployment rolled back)
 * keeps it too, since no table is left to judge against.
 */
/* The audit log's head as the deployment recorded it, sent on as a
 * checkpoint: the monitor is what talks to the remote sinks. */
static void audit_checkpoint(struct mon_cmd *c, const struct deployment *d)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/audit.log", c->state_dir);
	alerter_checkpoint(c->al, p, d->audit_head, time(NULL));
}

static void follow(struct mon_cmd *c)
{
	struct deployment d;
	struct loaded nl;
	struct timespec now;
	unsigned int id = 0;
	char err[512], msg[700];
	int r;

	if (c->path || deploy_current(c->state_dir, &d) ||
	    d.id == c->dep_id || d.id == c->dep_failed)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	tz_cache_flush();
	r = deployment_load(c->state_dir, &nl, &id, err, sizeof(err));
	if (!r && id != d.id) {
		/* Changed again while it was read: the next second. */
		loaded_free(&nl);
		return;
	}
	if (!r)
		r = policy_switch(c, &nl, msg, sizeof(msg));
	if (r) {
		c->dep_failed = d.id;
		snprintf(msg, sizeof(msg), "deployment %u cannot be judged by: "
			 "%s; the policy of deployment %u stays", d.id,
			 err[0] ? err : strerror(-r), c->dep_id);
		monitor_config_error(c->mon, &now, msg);
		return;
	}
	cmd_err(CMD, "deployment %u in force (was %u)",
		id, c->dep_id);
	c->dep_id = id;
	c->dep_failed = 0;
	audit_checkpoint(c, &d);
}

/* ---- SIGHUP, SIGUSR1 ---- */

/* logrotate: the files again, not the zone file, which may hold what
 * has not been applied. */
static void reopen(void *ctx)
{
	reopen_sinks(ctx);
}

static void reload(void *ctx)
{
	struct mon_cmd *c = ctx;
	struct loaded nl;
	struct timespec now;
	char msg[256];
	int r;

	if (!c->path) {
		/* The deployment is followed anyway: SIGHUP looks now, and
		 * reopens the alert files as logrotate's older signal. */
		cmd_err(CMD, "SIGHUP: reading the current "
			"deployment");
		c->dep_failed = 0;
		follow(c);
		reopen_sinks(c);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	tz_cache_flush();
	cmd_err(CMD, "SIGHUP: reloading %s", c->path);
	r = cmd_load(CMD, c->path, NULL, &nl);
	if (r) {
		const struct diag *first = NULL;

		for (size_t i = 0; i < nl.d.n && !first; i++)
			if (nl.d.v[i].sev == DIAG_ERROR)
				first = &nl.d.v[i];
		if (first)
			snprintf(msg, sizeof(msg), "reload rejected, the "
				 "previous policy stays: %u error%s, first "
				 "%s:%d:%d: %s: %s", nl.d.errors,
				 nl.d.errors == 1 ? "" : "s", c->path,
				 first->loc.line, first->loc.col, first->code,
				 first->msg);
		else if (nl.d.errors)
			snprintf(msg, sizeof(msg), "reload of %s rejected: %u "
				 "error%s (the previous policy stays)", c->path,
				 nl.d.errors, nl.d.errors == 1 ? "" : "s");
		else
			snprintf(msg, sizeof(msg), "reload of %s failed (the "
				 "previous policy stays)", c->path);
		loaded_free(&nl);
		/* The old policy stays, but SIGHUP was logrotate's signal
		 * before SIGUSR1: the alert files are reopened all the
		 * same. */
		reopen_sinks(c);
		monitor_config_error(c->mon, &now, msg);
		return;
	}
	if (policy_switch(c, &nl, msg, sizeof(msg))) {
		monitor_config_error(c->mon, &now, "reload: out of memory "
				     "(the previous policy stays)");
		return;
	}
	cmd_err(CMD, "policy of %s in force", c->path);
}

/* ---- the two ways to run ---- */

static int run_replay(struct mon_cmd *c, const char *file)
{
	struct monitor_stats st;
	struct timespec t0, t1;
	struct replay *r;
	uint64_t events, alerts = 0;
	double secs;
	long n;
	size_t i;

	r = replay_open(file);
	if (!r) {
		cmd_err(CMD, "%s: %s", file, errno == EPROTO ?
			"not a netlink capture (link type 253)" :
			errno == EINVAL ? "not a pcap file" : strerror(errno));
		return EXIT_SYSTEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = monitor_replay(c->mon, r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	replay_close(r);
	monitor_stats(c->mon, &st);
	events = monitor_events(&st);
	for (i = 0; i < ALERT_TYPE_COUNT; i++)
		alerts += st.alerts[i];
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (n < 0) {
		cmd_err(CMD, "%s: truncated or malformed capture", file);
		return EXIT_SYSTEM;
	}
	printf("replay: %ld records, %" PRIu64 " events (%" PRIu64
	       " conntrack, %" PRIu64 " nflog), %" PRIu64 " judged, %"
	       PRIu64 " alerts, %" PRIu64 " malformed in %.6f s: %.0f "
	       "events/s\n", n, events, events - st.nflog, st.nflog,
	       st.judged, alerts, st.malformed, secs,
	       secs > 0 ? (double)events / secs : 0.0);
	return EXIT_OK;
}

static int open_live(struct mon_cmd *c)
{
	int got = 0, r;

	timestamps_on();
	/* Subscribe first, then dump: a connection opened in between is
	 * seen twice rather than never; reported ones are remembered. */
	c->ev = ctnl_open_events(EVENT_RCVBUF, &got);
	if (!c->ev) {
		cmd_err(CMD, "conntrack events: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	cmd_err(CMD, "conntrack receive buffer %d bytes "
		"(asked %d)", got, EVENT_RCVBUF);
	if (got < EVENT_RCVBUF)
		cmd_warn(CMD, "receive buffer "
			"smaller than asked (not root?): events may be lost "
			"under load");
	/* Before the first dump, whose entries are judged in the role
	 * (and without a second dump for becoming master). */
	role_check(c);
	c->dump = ctnl_open_cmd();
	c->cmd = ctnl_open_cmd();
	if (!c->dump || !c->cmd) {
		cmd_err(CMD, "conntrack: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	set_nonblock(c->dump);
	r = nflog_bind(c, c->cur.m->gateway.log_group);
	if (r) {
		cmd_err(CMD, "nflog group %u: %s", c->cur.m->gateway.log_group,
			r == -EBUSY ? "another program has bound it" :
			strerror(-r));
		return EXIT_SYSTEM;
	}
	r = rt_open(c);
	if (r) {
		cmd_err(CMD, "rtnetlink: %s", strerror(-r));
		return EXIT_SYSTEM;
	}
	nft_open(c);
	r = dump_start(c);
	if (r) {
		cmd_err(CMD, "conntrack dump: %s", strerror(-r));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

static int run_live(struct mon_cmd *c, const char *user, bool once)
{
	struct cmd_loop lp = { CMD, reload, reopen, c, -1, false };
	struct pollfd pfd[8];
	struct timespec now;
	time_t last = 0, started = time(NULL);
	int ret;

	ret = cmd_loop_open(&lp);
	if (ret)
		return ret;
	ret = open_live(c);
	if (ret)
		goto out;
	guard_start(c);
	if (!once)
		watchdog_start(c);
	if (user) {
		int r = drop_privileges(c, user, c->data_dir);

		if (r) {
			cmd_err(CMD, "--user %s: %s", user, strerror(-r));
			ret = EXIT_SYSTEM;
			goto out;
		}
		cmd_err(CMD, "running as %s with "
			"CAP_NET_ADMIN only", user);
	}
	cmd_err(CMD, "watching (site %s)",
		c->cur.m->site ? c->cur.m->site : "");
	if (!c->jsonl && !c->cur.m->monitor.n_sinks)
		cmd_warn(CMD, "the zone file has no "
			"monitor.alerts and no --jsonl was given: alerts are "
			"counted but go nowhere");

	while (!lp.stop) {
		uint64_t lost = 0;
		int n, bits, err, timeout;
		bool busy = false;

		clock_gettime(CLOCK_REALTIME, &now);
		timeout = 1000 - (int)(now.tv_nsec / 1000000);
		if (once && !c->dumping && !c->rt_dumping)
			timeout = 0;
		pfd[1] = (struct pollfd){ mnl_socket_get_fd(c->ev), POLLIN, 0 };
		pfd[2] = (struct pollfd){ mnl_socket_get_fd(c->dump), POLLIN,
					  0 };
		pfd[3] = (struct pollfd){ mnl_socket_get_fd(c->nflog), POLLIN,
					  0 };
		pfd[4] = (struct pollfd){ mnl_socket_get_fd(c->rt), POLLIN, 0 };
		pfd[5] = (struct pollfd){ alerter_fd(c->al), POLLIN, 0 };
		pfd[6] = (struct pollfd){ c->guard ? dnsguard_fd(c->guard) : -1,
					  POLLIN, 0 };
		pfd[7] = (struct pollfd){ c->nft ? mnl_socket_get_fd(c->nft) :
					  -1, POLLIN, 0 };
		if (c->guard && dnsguard_timeout(c->guard) < timeout)
			timeout = dnsguard_timeout(c->guard);
		n = cmd_loop_poll(&lp, pfd, 8, timeout);
		if (n < 0) {
			ret = EXIT_SYSTEM;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &now);
		if (n > 0 && (pfd[1].revents & (POLLIN | POLLERR))) {
			busy = true;
			drain(c, c->ev, NETLINK_NETFILTER, &lost, &err);
			if (lost) {
				char msg[160];

				snprintf(msg, sizeof(msg), "conntrack: %" PRIu64
					 " receive buffer overrun%s, events "
					 "lost; reading the conntrack table "
					 "again", lost, lost == 1 ? "" : "s");
				monitor_overrun(c->mon, &now, lost, msg);
				dump_start(c);
				lost = 0;
			}
		}
		if (n > 0 && (pfd[2].revents & (POLLIN | POLLERR))) {
			busy = true;
			bits = drain(c, c->dump, NETLINK_NETFILTER, &lost,
				     &err);
			if (bits & (MONITOR_FEED_DONE | MONITOR_FEED_ERROR) ||
			    err) {
				c->dumping = false;
				if (c->redump) {
					c->redump = false;
					dump_start(c);
				} else if (lost || err) {
					dump_start(c);
				}
			}
			lost = 0;
		}
		if (n > 0 && (pfd[3].revents & (POLLIN | POLLERR))) {
			busy = true;
			drain(c, c->nflog, NETLINK_NETFILTER, &lost, &err);
			if (lost) {
				char msg[128];

				snprintf(msg, sizeof(msg), "nflog: %" PRIu64
					 " receive buffer overrun%s, logged "
					 "packets lost", lost,
					 lost == 1 ? "" : "s");
				monitor_overrun(c->mon, &now, lost, msg);
				lost = 0;
			}
		}
		if (n > 0 && (pfd[4].revents & (POLLIN | POLLERR))) {
			busy = true;
			bits = drain(c, c->rt, NETLINK_ROUTE, &lost, &err);
			if (bits & (MONITOR_FEED_DONE | MONITOR_FEED_ERROR))
				c->rt_dumping = false;
			/* Address changes lost: read them all again. */
			if (lost && !c->rt_dumping)
				rt_dump(c);
			lost = 0;
		}
		if (n > 0 && (pfd[7].revents & (POLLIN | POLLERR)))
			nft_read(c, now.tv_sec);
		/* Cheap when idle; answers queries and runs the guard's
		 * timers without ever waiting on the network. */
		if (c->guard && dnsguard_process(c->guard))
			cmd_err(CMD, "dns: %s",
				strerror(errno));
		if (now.tv_sec != last) {
			last = now.tv_sec;
			follow(c);
			role_check(c);
			monitor_tick(c->mon, &now);
		} else if (n > 0 && (pfd[5].revents & POLLIN)) {
			alerter_tick(c->al, now.tv_sec);
		}
		/* --once: when the dumps are read and nothing is pending,
		 * or after ONCE_MAX seconds of a busy gateway. */
		if (once && ((!busy && !c->dumping && !c->rt_dumping) ||
			     now.tv_sec - started > ONCE_MAX))
			lp.stop = true;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (once)
		monitor_tick(c->mon, &now);
	monitor_flush(c->mon, &now);
out:
	watchdog_stop(c);
	dnsguard_free(c->guard);
	c->guard = NULL;
	cmd_loop_close(&lp);
	return ret;
}

struct mon_args {
	const char *user, *replay, *record, *ha_role;
	unsigned long drift;
	bool once, no_guard, watchdog;
};

static int own_opt(void *ctx, int opt, const char *arg)
{
	struct mon_args *a = ctx;
	char *end;

	switch (opt) {
	case 'u':
		a->user = arg;
		break;
	case 'd':
		errno = 0;
		a->drift = strtoul(arg, &end, 10);
		if (errno || *end || !*arg || a->drift > 86400 ||
		    arg[0] == '-') {
			cmd_err(CMD, "bad --drift-interval \"%s\" (seconds, 0 "
				"to 86400)", arg);
			return EXIT_USAGE;
		}
		break;
	case 'r':
		a->replay = arg;
		break;
	case 'R':
		a->record = arg;
		break;
	case 'o':
		a->once = true;
		break;
	case 'G':
		a->no_guard = true;
		break;
	case 'W':
		a->watchdog = true;
		break;
	case 'H':
		a->ha_role = arg;
		break;
	}
	return 0;
}

int cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "drift-interval", required_argument, NULL, 'd' },
		{ "replay", required_argument, NULL, 'r' },
		{ "record", required_argument, NULL, 'R' },
		{ "once", no_argument, NULL, 'o' },
		{ "no-dnsguard", no_argument, NULL, 'G' },
		{ "watchdog", no_argument, NULL, 'W' },
		{ "ha-role", required_argument, NULL, 'H' },
		{ 0 }
	};
	struct mon_args a = { .drift = 3600 };
	const struct cmd_parser p = { CMD, CMD_OPT_DATA_DIR | CMD_OPT_NO_FILE,
				      opts, own_opt, &a, help };
	struct mon_cmd c = { 0 };
	struct monitor_setup ms;
	struct alerter_conf ac;
	struct monitor_stats st;
	struct cmd_opts o;
	int ret;

	ret = cmd_parse(&p, argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (a.watchdog) {
		if (o.path || a.user || a.replay || a.record || a.once) {
			cmd_err(CMD, "--watchdog runs alone: no FILE, --user, "
				"--replay, --record or --once");
			return EXIT_USAGE;
		}
		return watchdog_only(o.state_dir);
	}
	if (a.replay && (a.user || a.record)) {
		cmd_err(CMD, "--replay reads a file: --user and --record do "
			"not apply");
		return EXIT_USAGE;
	}
	c.path = o.path;
	c.state_dir = o.state_dir;
	c.data_dir = o.data_dir ? o.data_dir : o.state_dir;
	c.table = o.table ? o.table : RS_DEFAULT_TABLE;
	c.jsonl = o.jsonl;
	c.no_guard = a.no_guard;
	c.ha_role_path = a.ha_role ? a.ha_role : HA_ROLE_FILE;
	if (gethostname(c.host, sizeof(c.host) - 1) < 0)
		snprintf(c.host, sizeof(c.host), "localhost");
	signal(SIGPIPE, SIG_IGN);

	if (c.path) {
		ret = cmd_load(CMD, c.path, NULL, &c.cur);
		if (ret)
			goto out;
	} else {
		char err[512];
		int r = deployment_load(c.state_dir, &c.cur, &c.dep_id, err,
					sizeof(err));

		if (r) {
			cmd_err(CMD, "%s%s", err, r == -ENOENT ? " (apply a "
				"zone file first, or give one to judge by)" :
				"");
			ret = EXIT_SYSTEM;
			goto out;
		}
		cmd_err(CMD, "judging by deployment %u; "
			"following %s/current", c.dep_id, c.state_dir);
	}
	ret = EXIT_SYSTEM;
	alerter_conf_of(&c, &ac);
	c.al = alerter_new(&ac);
	if (!c.al) {
		cmd_err(CMD, "alerts: %s", strerror(errno));
		goto out;
	}
	if (!a.replay) {
		struct deployment d;

		if (!deploy_current(c.state_dir, &d))
			audit_checkpoint(&c, &d);
	}
	memset(&ms, 0, sizeof(ms));
	ms.policy = c.cur.policy;
	ms.emit = emit_cb;
	ms.tick = tick_cb;
	ms.ctx = &c;
	ms.table = c.table;
	ms.state_dir = c.state_dir;
	if (!a.replay) {
		ms.drift_interval = (unsigned int)a.drift;
		ms.ops.ctx = &c;
		ms.ops.ct_sweep = op_ct_sweep;
		ms.ops.deployed = op_deployed;
		ms.ops.live_digest = op_live_digest;
		ms.ops.in_change = op_in_change;
		ms.ops.fqdn_element = op_fqdn_element;
		ms.ops.fqdn_foreign = op_fqdn_foreign;
	}
	c.mon = monitor_new(&ms);
	if (!c.mon) {
		cmd_err(CMD, MSG_AS_IS, strerror(errno));
		goto out;
	}
	if (a.replay) {
		ret = run_replay(&c, a.replay);
		goto out;
	}
	if (a.record) {
		c.rec = pcapw_open(a.record);
		if (!c.rec) {
			cmd_err(CMD, "%s: %s", a.record, strerror(errno));
			goto out;
		}
	}
	ret = run_live(&c, a.user, a.once);
	monitor_stats(c.mon, &st);
	cmd_err(CMD, "%" PRIu64 " events, %" PRIu64
		" judged, %" PRIu64 " overruns, %" PRIu64 " nflog gaps",
		monitor_events(&st), st.judged, st.lost, st.nflog_gaps);
	if (c.in_pair || st.ha_quiet || st.ha_carried)
		cmd_err(CMD, "pair: %" PRIu64 " connection "
			"alert%s left to the master, %" PRIu64 " connection%s "
			"carried over from the old master", st.ha_quiet,
			st.ha_quiet == 1 ? "" : "s", st.ha_carried,
			st.ha_carried == 1 ? "" : "s");
out:
	/* Flushes every pending alert before exit (SIGTERM). */
	alerter_free(c.al);
	monitor_free(c.mon);
	if (pcapw_close(c.rec))
		cmd_err(CMD, "%s: %s", a.record, strerror(errno));
	if (c.ev)
		mnl_socket_close(c.ev);
	if (c.dump)
		mnl_socket_close(c.dump);
	if (c.cmd)
		mnl_socket_close(c.cmd);
	if (c.nflog)
		mnl_socket_close(c.nflog);
	if (c.rt)
		mnl_socket_close(c.rt);
	if (c.nft)
		mnl_socket_close(c.nft);
	loaded_free(&c.cur);
	return ret;
}
