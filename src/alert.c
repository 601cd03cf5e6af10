// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The alerter: dedup, the JSON record, the chain of the lines that syslog
 * and exec receive, and the sinks behind it (src/sink.c).
 *
 * Dedup folds identical (type, src, dst, proto, dport) alerts: the first
 * goes out at once; the others within dedup_seconds of it are counted,
 * and when the window closes one more record carries their count. The
 * table is preallocated and bounded; when it is full the oldest entry is
 * closed early (its count goes out then) and counted as evicted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "alert.h"
#include "i18n.h"
#include "json.h"
#include "sched.h"
#include "sink.h"

#define DEDUP_DEFAULT	4096
#define SUMMARY_DEFAULT	300
#define EXEC_TIMEOUT_MS	10000
#define FLUSH_MS	3000
/* How often the heads of the jsonl logs go to the remote sinks: every
 * so many records, and at least once an hour while they grow. */
#define CHECKPOINT_RECORDS	100
#define CHECKPOINT_SECONDS	3600
/* The chain's suffix: ,"seq":N,"prev":"<64 hex>"} */
#define CHAIN_ROOM	128
#define NAME_MAX_	128

static const char *const type_names[ALERT_TYPE_COUNT] = {
	[ALERT_CROSS_ZONE] = "cross_zone",
	[ALERT_OFF_HOURS] = "off_hours",
	[ALERT_BLOCKED] = "blocked",
	[ALERT_DRIFT] = "drift",
	[ALERT_FQDN_STALE] = "fqdn_stale",
	[ALERT_FQDN_CAP] = "fqdn_cap",
	[ALERT_OVERRUN] = "overrun",
	[ALERT_CONFIG_ERROR] = "config_error",
	[ALERT_MAINTENANCE_CLOSED] = "maintenance_closed",
	[ALERT_SUPPRESSED] = "suppressed",
	[ALERT_LOGGED] = "logged",
	[ALERT_PEER_DRIFT] = "peer_drift",
};

const char *alert_type_name(enum alert_type t)
{
	return (unsigned int)t < ALERT_TYPE_COUNT ? type_names[t] : "unknown";
}

const char *alert_severity(const struct alert *a)
{
	if (a->src_tier == TIER_MYNUMBER || a->dst_tier == TIER_MYNUMBER)
		return "critical";
	if (a->src_tier == TIER_LGWAN || a->dst_tier == TIER_LGWAN)
		return "high";
	return "medium";
}

/* ---- the record ---- */

/* A fixed-size field that might lack its NUL; "" is null. */
static json_t *jx_field(const char *f, size_t size)
{
	size_t n = strnlen(f, size);

	return n ? jx_strn(f, n) : json_null();
}

static bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 33 || proto == 132 ||
	       proto == 136;
}

static bool is_icmp(uint8_t proto)
{
	return proto == 1 || proto == 58;
}

static json_t *jx_proto(uint8_t proto)
{
	static const struct {
		uint8_t num;
		const char *name;
	} extra[] = {
		{ 33, "dccp" }, { 47, "gre" }, { 50, "esp" }, { 51, "ah" },
		{ 136, "udplite" },
	};
	const char *name = proto ? proto_name(proto) : NULL;
	char b[8];

	if (!proto)
		return json_null();
	for (size_t i = 0; !name && i < sizeof(extra) / sizeof(extra[0]); i++)
		if (extra[i].num == proto)
			name = extra[i].name;
	if (!name) {
		snprintf(b, sizeof(b), "%u", proto);
		name = b;
	}
	return jx_str(name);
}

static json_t *jx_addr(const struct alert *a, const struct prefix *p)
{
	char addr[PREFIX_STRLEN];

	if (!a->has_addrs)
		return json_null();
	prefix_format(p, addr, sizeof(addr));
	return jx_str(addr);
}

/*
 * The members in this order, always (SPEC §7): the lines are HMAC-chained
 * byte for byte, and "rule" comes before the "seq" and "prev" the chain
 * appends, since verify-log reads the chain from the end of every line.
 */
int alert_format(const struct alert *a, const char *site, const char *host,
		 const char *tz, char *buf, size_t n)
{
	json_t *o = json_object();
	int err = o ? 0 : -ENOMEM;
	char t[48];
	long ms = a->time.tv_nsec / 1000000;

	if (!n) {
		json_decref(o);
		return -ENOSPC;
	}
	buf[0] = '\0';
	tz_format_rfc3339(tz ? tz : "UTC", a->time.tv_sec,
			  ms >= 0 && ms < 1000 ? (int)ms : 0, t, sizeof(t));
	jx_set(o, "time", jx_str0(t), &err);
	jx_set(o, "site", jx_str0(site), &err);
	jx_set(o, "host", jx_str0(host), &err);
	jx_set(o, "type", jx_str0(alert_type_name(a->type)), &err);
	jx_set(o, "severity", jx_str0(alert_severity(a)), &err);
	jx_set(o, "src_zone", jx_field(a->src_zone, sizeof(a->src_zone)),
	       &err);
	jx_set(o, "dst_zone", jx_field(a->dst_zone, sizeof(a->dst_zone)),
	       &err);
	jx_set(o, "proto", jx_proto(a->proto), &err);
	jx_set(o, "src", jx_addr(a, &a->src), &err);
	jx_set(o, "sport", a->has_addrs && has_ports(a->proto) ?
	       json_integer(a->sport) : json_null(), &err);
	jx_set(o, "dst", jx_addr(a, &a->dst), &err);
	jx_set(o, "dport", a->has_addrs && (has_ports(a->proto) ||
					    is_icmp(a->proto)) ?
	       json_integer(a->dport) : json_null(), &err);
	jx_set(o, "flow", jx_field(a->flow, sizeof(a->flow)), &err);
	jx_set(o, "count", jx_uint(a->count ? a->count : 1), &err);
	jx_set(o, "message", jx_field(a->message, sizeof(a->message)), &err);
	jx_set(o, "rule", jx_field(a->rule, sizeof(a->rule)), &err);
	return jx_format(jx_done(o, err), buf, n);
}

/* ---- dedup ---- */

#define KEY_LEN 40

struct dd_entry {
	uint8_t key[KEY_LEN];
	time_t first;		/* the window opened */
	uint64_t folded;	/* events counted since */
	struct alert last;	/* the last of them */
	int32_t hnext;		/* bucket chain, or the free list */
	int32_t older, newer;	/* age list */
};

struct alerter {
	char site[NAME_MAX_], host[NAME_MAX_], tz[64];
	char *state_dir, *log_socket;
	uint32_t dedup_seconds, summary_seconds;
	uint8_t key[AUDIT_KEY_LEN];
	struct sink_env env;
	struct alerter_stats st;

	struct sink_state **sinks;
	size_t n_sinks;
	struct audit_chain stream;
	int stream_fd;

	struct dd_entry *dd;
	size_t dd_cap, dd_n;
	int32_t *buckets;
	size_t n_buckets;	/* a power of two */
	int32_t free_list, oldest, newest;
	uint64_t seed;

	time_t next_summary;
	time_t cp_next;		/* 0: at the first tick */
	uint64_t cp_records;	/* produced since the last checkpoint */
	uint64_t cp_sum;	/* the jsonl heads' seqs then, summed */
	bool cp_sent;
	uint64_t sum_folded, sum_evicted;
	time_t clock;		/* the latest time seen, on the alerts' clock */

	int epfd, tfd;
	uint64_t armed;

	char body[ALERT_LINE_MAX + 1];
	char line[ALERT_LINE_MAX + 1];
};

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void dd_key(const struct alert *a, uint8_t k[KEY_LEN])
{
	memset(k, 0, KEY_LEN);
	k[0] = (uint8_t)a->type;
	k[1] = a->proto;
	k[2] = a->has_addrs;
	if (a->has_addrs) {
		k[3] = a->src.family;
		k[4] = a->dst.family;
		memcpy(k + 8, a->src.addr, 16);
		memcpy(k + 24, a->dst.addr, 16);
	}
	k[5] = (uint8_t)(a->dport >> 8);
	k[6] = (uint8_t)a->dport;
}

/* Seeded at random: the addresses in the key come from the network, and
 * a predictable hash would let a sender pile them into one bucket. */
static size_t dd_hash(const struct alerter *al, const uint8_t k[KEY_LEN])
{
	uint64_t h = al->seed;

	for (size_t i = 0; i < KEY_LEN; i += 8) {
		uint64_t w;

		memcpy(&w, k + i, 8);
		h = mix(h ^ w);
	}
	return (size_t)h & (al->n_buckets - 1);
}

static int32_t dd_find(const struct alerter *al, const uint8_t k[KEY_LEN],
		       size_t b)
{
	for (int32_t i = al->buckets[b]; i >= 0; i = al->dd[i].hnext)
		if (!memcmp(al->dd[i].key, k, KEY_LEN))
			return i;
	return -1;
}

static void dd_unlink(struct alerter *al, int32_t i)
{
	struct dd_entry *e = &al->dd[i];
	size_t b = dd_hash(al, e->key);
	int32_t *pp = &al->buckets[b];

	while (*pp != i)
		pp = &al->dd[*pp].hnext;
	*pp = e->hnext;
	if (e->older >= 0)
		al->dd[e->older].newer = e->newer;
	else
		al->oldest = e->newer;
	if (e->newer >= 0)
		al->dd[e->newer].older = e->older;
	else
		al->newest = e->older;
	e->hnext = al->free_list;
	al->free_list = i;
	al->dd_n--;
}

static int32_t dd_insert(struct alerter *al, const uint8_t k[KEY_LEN],
			 size_t b, time_t first)
{
	int32_t i = al->free_list;
	struct dd_entry *e = &al->dd[i];

	al->free_list = e->hnext;
	memcpy(e->key, k, KEY_LEN);
	e->first = first;
	e->folded = 0;
	e->hnext = al->buckets[b];
	al->buckets[b] = i;
	e->newer = -1;
	e->older = al->newest;
	if (al->newest >= 0)
		al->dd[al->newest].newer = i;
	else
		al->oldest = i;
	al->newest = i;
	al->dd_n++;
	return i;
}

static void produce(struct alerter *al, const struct alert *a);

/* The window of entry i is over: report what it folded, forget it. */
static void dd_close(struct alerter *al, int32_t i)
{
	struct dd_entry *e = &al->dd[i];

	if (e->folded) {
		struct alert out = e->last;

		out.count = e->folded;
		e->folded = 0;
		produce(al, &out);
	}
	dd_unlink(al, i);
}

static int dd_init(struct alerter *al, size_t cap)
{
	al->dd_cap = cap;
	al->n_buckets = 1;
	while (al->n_buckets < 2 * cap)
		al->n_buckets <<= 1;
	al->dd = calloc(cap, sizeof(*al->dd));
	al->buckets = malloc(al->n_buckets * sizeof(*al->buckets));
	if (!al->dd || !al->buckets)
		return -ENOMEM;
	for (size_t i = 0; i < al->n_buckets; i++)
		al->buckets[i] = -1;
	for (size_t i = 0; i < cap; i++)
		al->dd[i].hnext = i + 1 < cap ? (int32_t)(i + 1) : -1;
	al->free_list = 0;
	al->oldest = al->newest = -1;
	if (getrandom(&al->seed, sizeof(al->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(al->seed))
		al->seed = mix((uint64_t)time(NULL) ^ (uint64_t)getpid() << 32);
	return 0;
}

/* ---- the pipeline ---- */

static bool has_chained(struct sink_state **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sink_wants_chained(v[i]))
			return true;
	return false;
}

static void produce(struct alerter *al, const struct alert *a)
{
	int n, len = -1;

	n = alert_format(a, al->site, al->host, al->tz, al->body,
			 sizeof(al->body) - CHAIN_ROOM);
	if (n < 0) {
		/* Cannot happen with the bounded fields of struct alert. */
		al->st.failed++;
		return;
	}
	al->st.emitted++;
	al->cp_records++;
	if (has_chained(al->sinks, al->n_sinks)) {
		len = audit_stream_line(al->stream_fd, al->key, &al->stream,
					al->body, (size_t)n, al->line,
					sizeof(al->line));
	}
	for (size_t i = 0; i < al->n_sinks; i++) {
		if (!sink_wants_chained(al->sinks[i]))
			sink_submit(al->sinks[i], al->body, (size_t)n);
		else if (len >= 0)
			sink_submit(al->sinks[i], al->line, (size_t)len);
		else
			al->st.failed++;
	}
}

/* One chained checkpoint record (a log's path and head) to the syslog
 * and exec sinks. */
static void send_checkpoint(struct alerter *al, const char *path,
			    const char *head, const char *msg, time_t now)
{
	json_t *o = json_object();
	int err = o ? 0 : -ENOMEM, n;
	char t[48];
	int len;

	tz_format_rfc3339(al->tz, now, 0, t, sizeof(t));
	jx_set(o, "time", jx_str0(t), &err);
	jx_set(o, "site", jx_str0(al->site), &err);
	jx_set(o, "host", jx_str0(al->host), &err);
	jx_set(o, "type", jx_str0("checkpoint"), &err);
	jx_set(o, "severity", jx_str0("info"), &err);
	jx_set(o, "message", jx_str0(msg), &err);
	jx_set(o, "log", jx_str0(path), &err);
	jx_set(o, "head", jx_str0(head), &err);
	n = jx_format(jx_done(o, err), al->body,
		      sizeof(al->body) - CHAIN_ROOM);
	if (n < 0)
		return;	/* a path longer than a line */
	len = audit_stream_line(al->stream_fd, al->key, &al->stream, al->body,
				(size_t)n, al->line, sizeof(al->line));
	for (size_t k = 0; len >= 0 && k < al->n_sinks; k++)
		if (sink_wants_chained(al->sinks[k]))
			sink_submit(al->sinks[k], al->line, (size_t)len);
}

/*
 * The head of each jsonl log (seq and MAC of its last line), as one
 * chained record per log to the syslog and exec sinks only: a head that
 * has left the gateway is one its root cannot take back, and
 * `verify-log --head` checks the local log against it. Skipped while no
 * log has grown since the last one.
 */
static void checkpoint(struct alerter *al, time_t now)
{
	uint64_t sum = 0;

	al->cp_records = 0;
	if (!has_chained(al->sinks, al->n_sinks))
		return;
	for (size_t i = 0; i < al->n_sinks; i++) {
		const char *path = sink_log_path(al->sinks[i]);
		struct audit_chain c;

		if (path && !audit_log_head(al->state_dir, path, &c))
			sum += c.seq + 1;
	}
	if (!sum || (al->cp_sent && sum == al->cp_sum))
		return;
	al->cp_sent = true;
	al->cp_sum = sum;
	for (size_t i = 0; i < al->n_sinks; i++) {
		const char *path = sink_log_path(al->sinks[i]);
		char head[AUDIT_HEAD_LEN], msg[96];
		struct audit_chain c;

		if (!path || audit_log_head(al->state_dir, path, &c))
			continue;
		audit_head_format(&c, head, sizeof(head));
		snprintf(msg, sizeof(msg), "checkpoint: the alert log ends at "
			 "seq %" PRIu64, c.seq);
		send_checkpoint(al, path, head, msg, now);
	}
}

void alerter_checkpoint(struct alerter *al, const char *log, const char *head,
			time_t now)
{
	char msg[96];

	if (!head || !*head || !has_chained(al->sinks, al->n_sinks))
		return;
	snprintf(msg, sizeof(msg), "checkpoint: the audit log ends at seq "
		 "%.*s", (int)strcspn(head, ":"), head);
	send_checkpoint(al, log, head, msg, now);
}

static void arm_timer(struct alerter *al)
{
	struct itimerspec its = { 0 };
	uint64_t next = 0;

	for (size_t i = 0; i < al->n_sinks; i++) {
		uint64_t t = sink_next_ms(al->sinks[i]);

		if (t && (!next || t < next))
			next = t;
	}
	if (next == al->armed || al->tfd < 0)
		return;
	al->armed = next;
	its.it_value.tv_sec = (time_t)(next / 1000);
	its.it_value.tv_nsec = (long)(next % 1000) * 1000000;
	if (next && !its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	timerfd_settime(al->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int alerter_emit(struct alerter *al, const struct alert *a)
{
	uint8_t k[KEY_LEN];
	struct alert c;
	int32_t i;
	size_t b;

	if (!al || !a || (unsigned int)a->type >= ALERT_TYPE_COUNT)
		return -EINVAL;
	c = *a;
	if (!c.time.tv_sec && !c.time.tv_nsec)
		clock_gettime(CLOCK_REALTIME, &c.time);
	if (!c.count)
		c.count = 1;
	if (c.time.tv_sec > al->clock)
		al->clock = c.time.tv_sec;
	if (!al->dedup_seconds || c.type == ALERT_SUPPRESSED) {
		produce(al, &c);
		goto out;
	}
	dd_key(&c, k);
	b = dd_hash(al, k);
	i = dd_find(al, k, b);
	if (i >= 0) {
		struct dd_entry *e = &al->dd[i];

		if (c.time.tv_sec - e->first < (time_t)al->dedup_seconds) {
			e->folded += c.count;
			e->last = c;
			al->st.folded += c.count;
			al->sum_folded += c.count;
			return 0;
		}
		dd_close(al, i);
	}
	if (al->dd_n == al->dd_cap) {
		dd_close(al, al->oldest);
		al->st.evicted++;
		al->sum_evicted++;
	}
	dd_insert(al, k, b, c.time.tv_sec);
	produce(al, &c);
out:
	arm_timer(al);
	return 0;
}

static void summary(struct alerter *al, time_t now)
{
	struct alert s = {
		.type = ALERT_SUPPRESSED,
		.time = { .tv_sec = now },
		.src_tier = -1,
		.dst_tier = -1,
		.count = al->sum_folded,
	};

	snprintf(s.message, sizeof(s.message), alert_text("%" PRIu64 " alert%s "
		 "folded by dedup in the last %u s; %" PRIu64 " dedup entr%s "
		 "closed early (table full)"), al->sum_folded,
		 al->sum_folded == 1 ? "" : "s", al->summary_seconds,
		 al->sum_evicted, al->sum_evicted == 1 ? "y" : "ies");
	al->sum_folded = al->sum_evicted = 0;
	produce(al, &s);
}

void alerter_tick(struct alerter *al, time_t now)
{
	uint64_t exp;

	if (!al)
		return;
	if (al->tfd >= 0 && read(al->tfd, &exp, sizeof(exp)) < 0)
		exp = 0;	/* not due: nothing to drain */
	al->armed = 0;
	if (now > al->clock)
		al->clock = now;
	for (int32_t i = al->oldest; i >= 0;) {
		int32_t newer = al->dd[i].newer;

		if (now - al->dd[i].first >= (time_t)al->dedup_seconds)
			dd_close(al, i);
		i = newer;
	}
	if (!al->next_summary) {
		al->next_summary = now + al->summary_seconds;
	} else if (now >= al->next_summary) {
		if (al->sum_folded || al->sum_evicted)
			summary(al, now);
		al->next_summary = now + al->summary_seconds;
	}
	if (al->cp_records >= CHECKPOINT_RECORDS || now >= al->cp_next) {
		checkpoint(al, now);
		al->cp_next = now + CHECKPOINT_SECONDS;
	}
	for (size_t i = 0; i < al->n_sinks; i++)
		sink_service(al->sinks[i], mono_ms());
	arm_timer(al);
}

int alerter_fd(const struct alerter *al)
{
	return al ? al->epfd : -1;
}

void alerter_stats(const struct alerter *al, struct alerter_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!al)
		return;
	*st = al->st;
	st->pending = 0;
	for (size_t i = 0; i < al->n_sinks; i++)
		st->pending += sink_pending(al->sinks[i]);
}

/* ---- setup ---- */

static void set_names(struct alerter *al, const struct alerter_conf *conf)
{
	const char *tz = conf->timezone;

	snprintf(al->site, sizeof(al->site), "%s", conf->site ? conf->site :
		 "");
	if (conf->host) {
		snprintf(al->host, sizeof(al->host), "%s", conf->host);
	} else if (gethostname(al->host, sizeof(al->host) - 1)) {
		al->host[0] = '\0';
	}
	/* The syslog HOSTNAME is printable ASCII without spaces. */
	for (char *p = al->host; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			*p = '-';
	if (!tz || tz_check(tz))
		tz = "UTC";
	snprintf(al->tz, sizeof(al->tz), "%s", tz);
	al->dedup_seconds = conf->dedup_seconds;
	al->summary_seconds = conf->summary_seconds ? conf->summary_seconds :
			      SUMMARY_DEFAULT;
}

/*
 * The sinks for `conf`: those of `old` with the same settings are moved
 * over (their queue and spool with them; NULL left behind), the others
 * made. The same sink twice is kept once: two writers of one file would
 * break its chain.
 */
static int make_sinks(struct alerter *al, const struct alerter_conf *conf,
		      struct sink_state **old, size_t n_old,
		      struct sink_state ***out, size_t *n_out)
{
	struct sink_state **v = calloc(conf->n_sinks + 1, sizeof(*v));
	ssize_t *from = calloc(conf->n_sinks + 1, sizeof(*from));
	size_t n = 0;
	int r = 0;

	if (!v || !from) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < conf->n_sinks; i++) {
		char id[32];
		bool dup = false;

		sink_conf_id(&conf->sinks[i], id, sizeof(id));
		for (size_t j = 0; j < n; j++)
			dup |= !strcmp(sink_id(v[j]), id);
		if (dup)
			continue;
		from[n] = -1;
		for (size_t j = 0; j < n_old; j++) {
			if (old[j] && !strcmp(sink_id(old[j]), id)) {
				v[n] = old[j];
				old[j] = NULL;
				from[n] = (ssize_t)j;
				sink_reopen(v[n]);
				break;
			}
		}
		if (!v[n])
			v[n] = sink_state_new(&conf->sinks[i], &al->env);
		if (!v[n]) {
			r = -errno;
			break;
		}
		n++;
	}
out:
	if (r) {
		for (size_t i = 0; i < n; i++) {
			if (from[i] >= 0)
				old[from[i]] = v[i];
			else
				sink_state_free(v[i]);
		}
		free(v);
	} else {
		*out = v;
		*n_out = n;
	}
	free(from);
	return r;
}

struct alerter *alerter_new(const struct alerter_conf *conf)
{
	struct alerter *al;
	struct epoll_event ev = { .events = EPOLLIN };
	int r;

	if (!conf || !conf->state_dir) {
		errno = EINVAL;
		return NULL;
	}
	al = calloc(1, sizeof(*al));
	if (!al) {
		errno = ENOMEM;
		return NULL;
	}
	al->epfd = al->tfd = al->stream_fd = -1;
	set_names(al, conf);
	al->state_dir = strdup(conf->state_dir);
	al->log_socket = strdup(conf->log_socket ? conf->log_socket :
				"/dev/log");
	if (!al->state_dir || !al->log_socket) {
		r = -ENOMEM;
		goto fail;
	}
	r = audit_key_load(al->state_dir, true, al->key);
	if (r)
		goto fail;
	r = dd_init(al, conf->dedup_max ? conf->dedup_max : DEDUP_DEFAULT);
	if (r)
		goto fail;
	al->epfd = epoll_create1(EPOLL_CLOEXEC);
	al->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (al->epfd < 0 || al->tfd < 0 ||
	    epoll_ctl(al->epfd, EPOLL_CTL_ADD, al->tfd, &ev)) {
		r = -errno;
		goto fail;
	}
	al->stream_fd = audit_stream_open(al->state_dir, "stream", al->key,
					  &al->stream);
	if (al->stream_fd < 0) {
		r = al->stream_fd;
		goto fail;
	}
	al->env = (struct sink_env){
		.state_dir = al->state_dir,
		.key = al->key,
		.host = al->host,
		.log_socket = al->log_socket,
		.queue_max = conf->queue_max,
		.exec_timeout_ms = conf->exec_timeout_ms ?
				   conf->exec_timeout_ms : EXEC_TIMEOUT_MS,
		.epfd = al->epfd,
		.st = &al->st,
	};
	r = make_sinks(al, conf, NULL, 0, &al->sinks, &al->n_sinks);
	if (r)
		goto fail;
	arm_timer(al);
	return al;
fail:
	alerter_free(al);
	errno = -r;
	return NULL;
}

int alerter_reconfigure(struct alerter *al, const struct alerter_conf *conf)
{
	struct sink_state **v;
	size_t n;
	int r;

	if (!al || !conf)
		return -EINVAL;
	/* The names first: a reopened syslog sink already uses them. */
	set_names(al, conf);
	r = make_sinks(al, conf, al->sinks, al->n_sinks, &v, &n);
	if (r)
		return r;
	for (size_t i = 0; i < al->n_sinks; i++)
		sink_state_free(al->sinks[i]);
	free(al->sinks);
	al->sinks = v;
	al->n_sinks = n;
	arm_timer(al);
	return 0;
}

static bool all_settled(const struct alerter *al)
{
	for (size_t i = 0; i < al->n_sinks; i++)
		if (sink_pending(al->sinks[i]) && sink_busy(al->sinks[i]))
			return false;
	return true;
}

void alerter_free(struct alerter *al)
{
	uint64_t deadline;

	if (!al)
		return;
	if (al->dd) {
		while (al->oldest >= 0)
			dd_close(al, al->oldest);
		if (al->sum_folded || al->sum_evicted)
			summary(al, al->clock ? al->clock : time(NULL));
		/* The last head, once the last lines are written. */
		if (al->stream_fd >= 0)
			checkpoint(al, al->clock ? al->clock : time(NULL));
	}
	/* Give connections being made and exec children a moment; a
	 * sink that is down is not waited for: it spools. */
	deadline = mono_ms() + FLUSH_MS;
	while (al->n_sinks && mono_ms() < deadline) {
		struct epoll_event ev;

		for (size_t i = 0; i < al->n_sinks; i++)
			sink_service(al->sinks[i], mono_ms());
		if (all_settled(al))
			break;
		if (epoll_wait(al->epfd, &ev, 1, 20) < 0 && errno != EINTR)
			break;
	}
	for (size_t i = 0; i < al->n_sinks; i++)
		sink_state_free(al->sinks[i]);
	free(al->sinks);
	if (al->stream_fd >= 0)
		close(al->stream_fd);
	if (al->tfd >= 0)
		close(al->tfd);
	if (al->epfd >= 0)
		close(al->epfd);
	free(al->dd);
	free(al->buckets);
	free(al->state_dir);
	free(al->log_socket);
	explicit_bzero(al->key, sizeof(al->key));
	free(al);
}
