// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The report's two forms: JSON for machines, and one HTML page for the
 * people who file it -- inline CSS and SVG, no script, nothing fetched,
 * laid out for A4 -- in English or Japanese.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "report.h"
#include "sched.h"

/* ---- the guideline ---- */

/*
 * The point a code enforces, from check's table (the one source the
 * notes, diff, --explain and the alerts use too). The Japanese page
 * quotes the guideline's words; the English one gives the point and
 * what sanso checks, as check's table has no English of the guideline.
 */
const char *report_guideline(const char *code, bool ja, char *buf, size_t n)
{
	const struct check_code *c = code ? check_code_find(code) : NULL;

	if (!c || !c->point)
		return NULL;
	snprintf(buf, n, "%s%s%s", c->point, ja ? " " : ": ",
		 ja && c->intent ? c->intent : c->what);
	return buf;
}

/* ---- JSON ---- */

/* One document, built with jansson and printed on one line. A member
 * that cannot be made (out of memory) sets *err; the caller then prints
 * nothing. */

static json_t *jtime(const char *tz, time_t t)
{
	char b[48];

	if (!t)
		return json_null();
	tz_format_rfc3339(tz, t, 0, b, sizeof(b));
	return jx_str(b);
}

static json_t *jdate(int64_t day)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	char b[16];

	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%d", &tm);
	return jx_str(b);
}

/* Appends v to array a (taking v). */
static void jpush(json_t *a, json_t *v, int *err)
{
	if (json_array_append_new(a, v))
		*err = -ENOMEM;
}

static json_t *json_log(const struct report_log *l)
{
	json_t *o = json_object();
	int err = o ? 0 : -ENOMEM;

	jx_set(o, "path", jx_str(l->path), &err);
	jx_set(o, "lines", jx_uint(l->lines), &err);
	jx_set(o, "invalid", jx_uint(l->invalid), &err);
	jx_set(o, "compressed", json_boolean(l->compressed), &err);
	jx_set(o, "verified", l->verified > 0 ? json_true() :
	       l->verified == 0 ? json_false() : json_null(), &err);
	jx_set(o, "problems", json_integer(l->problems), &err);
	jx_set(o, "note", jx_str0(l->note), &err);
	return jx_done(o, err);
}

/* {"tier":["zone",...],...} with only the tiers that have zones. */
static json_t *json_zones_by_tier(const struct model *m)
{
	json_t *o = json_object();
	int err = o ? 0 : -ENOMEM;

	for (int t = 0; t < TIER_COUNT; t++) {
		json_t *a = NULL;

		for (size_t z = 0; z < m->n_zones; z++) {
			if ((int)m->zones[z].tier != t)
				continue;
			if (!a)
				a = json_array();
			if (!a)
				err = -ENOMEM;
			jpush(a, jx_str(m->zones[z].name), &err);
		}
		if (a)
			jx_set(o, tier_name((enum tier)t), a, &err);
	}
	return jx_done(o, err);
}

static json_t *json_hosts_by_role(const struct model *m)
{
	json_t *o = json_object();
	int err = o ? 0 : -ENOMEM;

	for (int ro = ROLE_NONE; ro <= ROLE_NTP; ro++) {
		json_t *a = NULL;

		for (size_t h = 0; h < m->n_hosts; h++) {
			if ((int)m->hosts[h].role != ro)
				continue;
			if (!a)
				a = json_array();
			if (!a)
				err = -ENOMEM;
			jpush(a, jx_str(m->hosts[h].name), &err);
		}
		if (a)
			jx_set(o, ro == ROLE_NONE ? "none" :
			       role_name((enum role)ro), a, &err);
	}
	return jx_done(o, err);
}

static json_t *json_waivers(const struct model *m)
{
	json_t *a = json_array();
	int err = a ? 0 : -ENOMEM;

	for (size_t f = 0; f < m->n_flows; f++) {
		const struct waiver *w = &m->flows[f].waiver;
		json_t *o;
		int e;

		if (!w->present)
			continue;
		o = json_object();
		e = o ? 0 : -ENOMEM;
		jx_set(o, "flow", jx_str(m->flows[f].name), &e);
		jx_set(o, "rule", jx_str(w->rule), &e);
		jx_set(o, "expires", w->expires >= 0 ? jdate(w->expires) :
		       json_null(), &e);
		jx_set(o, "approved_by", jx_str(w->approved_by), &e);
		jx_set(o, "ticket", jx_str(w->ticket), &e);
		jx_set(o, "reason", jx_str(w->reason), &e);
		jpush(a, jx_done(o, e), &err);
	}
	return jx_done(a, err);
}

static json_t *json_findings(const struct report_doc *doc)
{
	json_t *a = json_array();
	int err = a ? 0 : -ENOMEM;

	for (size_t i = 0; doc->findings && i < doc->findings->n; i++) {
		const struct diag *g = &doc->findings->v[i];
		json_t *o = json_object();
		int e = o ? 0 : -ENOMEM;
		char point[512];

		jx_set(o, "code", jx_str(g->code), &e);
		jx_set(o, "severity", jx_str(g->sev == DIAG_ERROR ? "error" :
					     "warning"), &e);
		jx_set(o, "line", json_integer(g->loc.line), &e);
		jx_set(o, "flow", jx_str(g->flow), &e);
		jx_set(o, "message", jx_str(g->msg), &e);
		jx_set(o, "guideline", jx_str(report_guideline(g->code,
				doc->ja, point, sizeof(point))), &e);
		jpush(a, jx_done(o, e), &err);
	}
	return jx_done(a, err);
}

static json_t *json_model(const struct report_doc *doc)
{
	const struct model *m = doc->m;
	json_t *o;
	int err;

	if (!m)
		return json_null();
	o = json_object();
	err = o ? 0 : -ENOMEM;
	jx_set(o, "variant", jx_str(model_variant_name(m->variant)), &err);
	jx_set(o, "zones_by_tier", json_zones_by_tier(m), &err);
	jx_set(o, "hosts_by_role", json_hosts_by_role(m), &err);
	jx_set(o, "flows", jx_uint(m->n_flows), &err);
	jx_set(o, "waivers", json_waivers(m), &err);
	return jx_done(o, err);
}

static json_t *json_alerts(const struct report_doc *doc)
{
	const struct report_counts *c = doc->c;
	const char *tz = doc->tz;
	json_t *o = json_object(), *x, *a;
	int err = o ? 0 : -ENOMEM;

	jx_set(o, "total", jx_uint(c->total), &err);
	jx_set(o, "events", jx_uint(c->events), &err);
	jx_set(o, "first", jtime(tz, c->first), &err);
	jx_set(o, "last", jtime(tz, c->last), &err);
	x = json_object();
	if (!x)
		err = -ENOMEM;
	for (int t = 0; t < ALERT_TYPE_COUNT; t++)
		jx_set(x, alert_type_name((enum alert_type)t),
		       jx_uint(c->by_type[t]), &err);
	for (size_t i = 0; i < c->n_other_types; i++)
		jx_set(x, c->other_types[i].name,
		       jx_uint(c->other_types[i].count), &err);
	if (c->other_types_folded)
		jx_set(x, "(other)", jx_uint(c->other_types_folded), &err);
	jx_set(o, "by_type", x, &err);
	x = json_object();
	if (!x)
		err = -ENOMEM;
	for (int s = 0; s < REPORT_SEV_COUNT; s++)
		jx_set(x, report_sev_name((enum report_sev)s),
		       jx_uint(c->by_sev[s]), &err);
	jx_set(o, "by_severity", x, &err);
	a = json_array();
	if (!a)
		err = -ENOMEM;
	for (size_t i = 0; i < c->n_pairs; i++) {
		json_t *p = json_object();
		int e = p ? 0 : -ENOMEM;

		jx_set(p, "src_zone", jx_str0(c->pairs[i].src_zone), &e);
		jx_set(p, "dst_zone", jx_str0(c->pairs[i].dst_zone), &e);
		jx_set(p, "count", jx_uint(c->pairs[i].count), &e);
		jpush(a, jx_done(p, e), &err);
	}
	jx_set(o, "by_pair", a, &err);
	jx_set(o, "by_pair_folded", jx_uint(c->pairs_folded), &err);
	a = json_array();
	if (!a)
		err = -ENOMEM;
	for (int d = 0; d < 7; d++) {
		json_t *day = json_array();

		if (!day)
			err = -ENOMEM;
		for (int h = 0; h < 24; h++)
			jpush(day, jx_uint(c->how[d][h]), &err);
		jpush(a, day, &err);
	}
	jx_set(o, "by_hour_of_week", a, &err);
	a = json_array();
	if (!a)
		err = -ENOMEM;
	for (size_t i = 0; i < c->n_days; i++) {
		json_t *p = json_object();
		int e = p ? 0 : -ENOMEM;

		jx_set(p, "date", jdate(c->days[i].day), &e);
		jx_set(p, "count", jx_uint(c->days[i].count), &e);
		jpush(a, jx_done(p, e), &err);
	}
	jx_set(o, "by_day", a, &err);
	a = json_array();
	if (!a)
		err = -ENOMEM;
	for (size_t i = 0; i < c->n_top; i++) {
		json_t *p = json_object();
		int e = p ? 0 : -ENOMEM;

		jx_set(p, "src", jx_str(c->top[i].addr), &e);
		jx_set(p, "zone", jx_str0(c->top[i].zone), &e);
		jx_set(p, "count", jx_uint(c->top[i].count), &e);
		jx_set(p, "error", jx_uint(c->top[i].error), &e);
		jpush(a, jx_done(p, e), &err);
	}
	jx_set(o, "top_sources", a, &err);
	jx_set(o, "top_sources_exact", json_boolean(c->sources_exact), &err);
	return jx_done(o, err);
}

static json_t *json_maintenance(const struct report_doc *doc)
{
	const struct report_counts *c = doc->c;
	const char *tz = doc->tz;
	json_t *o = json_object(), *a = json_array();
	int err = o && a ? 0 : -ENOMEM;

	for (size_t i = 0; i < c->n_sessions; i++) {
		const struct report_session *s = &c->sessions[i];
		json_t *p = json_object();
		int e = p ? 0 : -ENOMEM;

		jx_set(p, "flow", jx_str(s->flow), &e);
		jx_set(p, "window", jx_str0(s->window), &e);
		jx_set(p, "start", jtime(tz, s->start), &e);
		jx_set(p, "end", jtime(tz, s->end), &e);
		jx_set(p, "last_connection", jtime(tz, s->last), &e);
		jx_set(p, "seconds", s->end ? json_integer(s->end - s->start) :
		       json_null(), &e);
		jx_set(p, "connections", jx_uint(s->connections), &e);
		jpush(a, jx_done(p, e), &err);
	}
	jx_set(o, "sessions", a, &err);
	jx_set(o, "sessions_dropped", jx_uint(c->sessions_dropped), &err);
	a = json_array();
	if (!a)
		err = -ENOMEM;
	for (size_t i = 0; i < c->n_closed; i++) {
		const struct report_closed *k = &c->closed[i];
		json_t *p = json_object();
		int e = p ? 0 : -ENOMEM;

		jx_set(p, "time", jtime(tz, k->time), &e);
		jx_set(p, "flow", jx_str0(k->flow), &e);
		jx_set(p, "message", jx_str(k->message), &e);
		jpush(a, jx_done(p, e), &err);
	}
	jx_set(o, "closed", a, &err);
	jx_set(o, "closed_dropped", jx_uint(c->closed_dropped), &err);
	return jx_done(o, err);
}

static json_t *json_lines(const struct report_counts *c)
{
	json_t *o = json_object(), *a = json_array();
	int err = o && a ? 0 : -ENOMEM;

	jx_set(o, "read", jx_uint(c->lines), &err);
	jx_set(o, "invalid", jx_uint(c->invalid), &err);
	jx_set(o, "outside_period", jx_uint(c->outside), &err);
	jx_set(o, "chain", jx_uint(c->chain), &err);
	for (size_t i = 0; i < c->n_bad; i++) {
		json_t *p = json_object();
		int e = p ? 0 : -ENOMEM;

		jx_set(p, "file", jx_str(c->bad[i].file), &e);
		jx_set(p, "line", jx_uint(c->bad[i].line), &e);
		jx_set(p, "why", jx_str(c->bad[i].why), &e);
		jpush(a, jx_done(p, e), &err);
	}
	jx_set(o, "first_invalid", a, &err);
	return jx_done(o, err);
}

static json_t *json_deploys(const struct report_doc *doc)
{
	json_t *a = json_array();
	int err = a ? 0 : -ENOMEM;

	for (size_t i = 0; i < doc->n_deploys; i++) {
		const struct report_deploy *d = &doc->deploys[i];
		json_t *p = json_object();
		int e = p ? 0 : -ENOMEM;

		jx_set(p, "time", jx_str(d->time), &e);
		jx_set(p, "action", jx_str(d->action), &e);
		jx_set(p, "deployment", json_integer(d->deployment), &e);
		jx_set(p, "previous", json_integer(d->previous), &e);
		jx_set(p, "user", jx_str0(d->user), &e);
		jx_set(p, "detail", jx_str0(d->detail), &e);
		jpush(a, jx_done(p, e), &err);
	}
	return jx_done(a, err);
}

int report_write_json(FILE *out, const struct report_doc *doc)
{
	bool all_ok = doc->n_logs > 0;
	json_t *o = json_object(), *x;
	int err = o ? 0 : -ENOMEM;

	for (size_t i = 0; i < doc->n_logs; i++)
		if (doc->logs[i].verified != 1)
			all_ok = false;
	jx_set(o, "site", jx_str0(doc->site), &err);
	jx_set(o, "host", jx_str0(doc->host), &err);
	jx_set(o, "timezone", jx_str(doc->tz), &err);
	jx_set(o, "generated", jx_str(doc->generated), &err);
	x = json_object();
	if (!x)
		err = -ENOMEM;
	jx_set(x, "since", jx_str0(doc->since), &err);
	jx_set(x, "until", jx_str0(doc->until), &err);
	jx_set(o, "period", x, &err);
	jx_set(o, "alerts", json_alerts(doc), &err);
	jx_set(o, "maintenance", json_maintenance(doc), &err);
	jx_set(o, "lines", json_lines(doc->c), &err);
	x = json_array();
	if (!x)
		err = -ENOMEM;
	for (size_t i = 0; i < doc->n_logs; i++)
		jpush(x, json_log(&doc->logs[i]), &err);
	jx_set(o, "files", x, &err);
	x = doc->deployed ? json_object() : json_null();
	if (doc->deployed) {
		jx_set(x, "deployment", json_integer(doc->current), &err);
		jx_set(x, "time", jx_str(doc->current_time), &err);
		jx_set(x, "user", jx_str(doc->current_user), &err);
		jx_set(x, "zone_sha256", jx_str(doc->zone_sha256), &err);
		jx_set(x, "ruleset_sha256", jx_str(doc->ruleset_sha256),
		       &err);
	}
	jx_set(o, "current", x, &err);
	jx_set(o, "deployments", json_deploys(doc), &err);
	jx_set(o, "deployments_omitted", jx_uint(doc->deploys_omitted), &err);
	x = json_object();
	if (!x)
		err = -ENOMEM;
	jx_set(x, "verified", json_boolean(doc->audit.path &&
					   doc->audit.verified == 1), &err);
	jx_set(x, "alerts_verified", json_boolean(all_ok), &err);
	jx_set(x, "log", doc->audit.path ? json_log(&doc->audit) :
	       json_null(), &err);
	jx_set(o, "audit", x, &err);
	jx_set(o, "model", json_model(doc), &err);
	if (doc->m)
		jx_set(o, "findings", json_findings(doc), &err);
	o = jx_done(o, err);
	if (!o)
		return -ENOMEM;
	err = jx_print(out, o);
	fputc('\n', out);
	return err ? err : ferror(out) ? -EIO : 0;
}

/* ---- HTML ---- */

struct words {
	const char *lang, *title, *site, *host, *period, *generated, *all,
		*to, *tz, *summary, *deploy_h, *current, *none_deployed,
		*history, *time, *action, *id, *user, *detail, *omitted,
		*verification, *log, *lines, *verdict, *intact, *tampered,
		*unchecked, *model_h, *no_model, *tiers, *zones, *roles,
		*hosts, *flows, *waivers, *flow, *rule, *expires, *approved,
		*ticket, *no_waivers, *outward, *no_outward, *services,
		*logged, *findings_h, *no_findings, *code, *severity,
		*message, *guideline_h, *alerts_h, *total, *events, *by_type,
		*by_sev, *type, *count, *by_pair, *src_zone, *dst_zone,
		*how_h, *how_note, *how_note2, *no_business, *daily_h, *top_h, *src,
		*zone, *approx, *maint_h, *window, *start, *end, *duration,
		*connections, *still_open, *closed_h, *no_sessions,
		*no_closed, *input_h, *read, *invalid, *outside, *chainl,
		*compressed, *yes, *no, *file, *why, *days[7], *none,
		*folded, *sanctioned_note;
};

static const struct words en = {
	"en", "Network separation report", "Site", "Gateway", "Period",
	"Generated", "all records", "to", "Time zone", "Summary",
	"Deployment", "Current deployment", "Nothing is deployed.",
	"Deployment history (audit.log)", "Time", "Action", "Deployment",
	"User", "Detail", "earlier entries not shown", "Verification",
	"Log", "Lines", "Verdict", "intact", "TAMPERED", "not verified",
	"The zone model in brief", "No deployment: no model to show.",
	"Zones by tier", "Zones", "Hosts by role", "Hosts", "Flows",
	"Waivers", "Flow", "Rule", "Expires", "Approved by", "Ticket",
	"No waivers.", "Connections out of the My Number tier",
	"None.", "Services", "Logged",
	"Check of the deployed model", "No findings.", "Code",
	"Severity", "Message", "Guideline point", "Alerts", "Alerts",
	"Events (folded in)", "By type", "By severity", "Type", "Count",
	"By zone pair", "From zone", "To zone", "Hour of week",
	"Local time of the site; outlined cells are business hours "
	"(schedule ", ").", "No business-hours schedule in the model: no "
	"cells outlined.", "Per day", "Top sources", "Source", "Zone",
	"counts are upper bounds (more sources than the table holds)",
	"Maintenance sessions", "Window", "Start", "End", "Duration",
	"Connections", "still open", "maintenance_closed events",
	"No maintenance session in the period.",
	"No maintenance window closed in the period.", "Input",
	"Lines read", "Invalid lines", "Outside the period",
	"Chain lines", "gzip", "yes", "no", "File", "Why",
	{ "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" }, "none",
	"other (past the table)",
	"Flows from mynumber zones to internet or external zones: the "
	"public connections the guideline allows (注1) and any other.",
};

static const struct words ja = {
	"ja", "三層分離 運用報告書", "団体", "ゲートウェイ", "対象期間",
	"作成日時", "全記録", "〜", "タイムゾーン", "概要",
	"配備", "現在の配備", "配備されていません。",
	"配備履歴（audit.log）", "日時", "操作", "配備番号",
	"実施者", "詳細", "件の古い記録は省略", "改ざん検証",
	"ログ", "行数", "判定", "改ざんなし", "改ざんあり", "未検証",
	"ゾーンモデルの概要", "配備がないため、モデルを表示できません。",
	"層別のゾーン", "ゾーン", "役割別のホスト", "ホスト", "フロー数",
	"例外措置（waiver）", "フロー", "規則", "期限", "承認者", "チケット",
	"例外措置はありません。", "マイナンバー利用事務系から外部への接続",
	"ありません。", "サービス", "記録",
	"配備中モデルの検査結果", "指摘はありません。", "コード",
	"重大度", "内容", "ガイドラインの該当箇所", "アラート", "アラート件数",
	"イベント数（集約分を含む）", "種別", "重大度別", "種別", "件数",
	"ゾーンの組合せ別", "送信元ゾーン", "宛先ゾーン", "曜日・時間帯",
	"団体の現地時刻。枠で囲んだ時間帯が業務時間（スケジュール ", "）。",
	"業務時間のスケジュールがモデルにないため、枠は表示していません。",
	"日別の推移", "送信元の上位", "送信元", "ゾーン",
	"件数は上限値（表に収まらない数の送信元があったため）",
	"保守セッション", "保守時間帯", "開始", "終了", "所要時間",
	"接続数", "継続中", "maintenance_closed（保守時間帯の終了）",
	"期間内の保守セッションはありません。",
	"期間内に終了した保守時間帯はありません。", "入力",
	"読んだ行数", "不正な行", "期間外", "チェーン行", "gzip", "はい",
	"いいえ", "ファイル", "理由",
	{ "月", "火", "水", "木", "金", "土", "日" }, "なし",
	"その他（表の上限を超えた分）",
	"マイナンバー利用事務系のゾーンからインターネット・外部への"
	"フロー（注1の接続先とそれ以外）。",
};

static void esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out);
		}
	}
}

static void tcell(FILE *out, const char *s)
{
	fputs("<td>", out);
	esc(out, s && *s ? s : "-");
	fputs("</td>", out);
}

/* "2026-11-24 22:03" in tz; "-" for 0. */
static void hm(const char *tz, time_t t, char *b, size_t n)
{
	char r[48];

	if (!t) {
		snprintf(b, n, "-");
		return;
	}
	tz_format_rfc3339(tz, t, 0, r, sizeof(r));
	snprintf(b, n, "%.10s %.5s", r, r + 11);
}

static const char *const sev_colour[REPORT_SEV_COUNT] = {
	"#b71c1c", "#e65100", "#f9a825", "#2e7d32", "#1565c0", "#757575",
};

/* A horizontal bar chart: n bars of labels[i], values[i]. */
static void hbars(FILE *out, const char *const *labels, const uint64_t *v,
		  const char *const *colour, size_t n)
{
	uint64_t max = 1;
	const int lw = 190, bw = 420, rh = 18;

	for (size_t i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	fprintf(out, "<svg class=\"chart\" width=\"%d\" height=\"%zu\" "
		"viewBox=\"0 0 %d %zu\" role=\"img\">", lw + bw + 80,
		n * rh + 4, lw + bw + 80, n * rh + 4);
	for (size_t i = 0; i < n; i++) {
		double w = (double)v[i] / (double)max * bw;

		fprintf(out, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">",
			lw - 6, i * rh + 14);
		esc(out, labels[i]);
		fprintf(out, "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" "
			"height=\"%d\" fill=\"%s\"/><text x=\"%.1f\" "
			"y=\"%zu\">%" PRIu64 "</text>", lw, i * rh + 3,
			v[i] && w < 1 ? 1.0 : w, rh - 5,
			colour ? colour[i] : "#37474f", lw + w + 4,
			i * rh + 14, v[i]);
	}
	fputs("</svg>\n", out);
}

/* Whether schedule s is open at some minute of hour h of weekday d
 * (holidays aside). */
static bool business(const struct schedule *s, int d, int h)
{
	int a = h * 60, b = a + 60, prev = (d + 6) % 7;

	for (size_t i = 0; i < s->n_hours; i++) {
		const struct hours_range *r = &s->hours[i];

		if (r->start <= r->end) {
			if ((s->days & 1u << d) && r->start < b && r->end > a)
				return true;
		} else {
			if ((s->days & 1u << d) && b > r->start)
				return true;
			if ((s->days & 1u << prev) && a < r->end)
				return true;
		}
	}
	return false;
}

/* sqrt on [0, 1] by Newton's method, without libm */
static double root(double x)
{
	double g = x > 0.25 ? x : 0.5;

	if (x <= 0)
		return 0;
	for (int i = 0; i < 30; i++)
		g = 0.5 * (g + x / g);
	return g;
}

static void heatmap(FILE *out, const struct report_doc *doc,
		    const struct words *w)
{
	const struct report_counts *c = doc->c;
	const struct schedule *bs = NULL;
	uint64_t max = 1;
	const int x0 = 36, y0 = 18, cw = 27, ch = 22;

	if (doc->m && doc->business) {
		int s = model_schedule(doc->m, doc->business);

		if (s >= 0)
			bs = &doc->m->schedules[s];
	}
	for (int d = 0; d < 7; d++)
		for (int h = 0; h < 24; h++)
			if (c->how[d][h] > max)
				max = c->how[d][h];
	fprintf(out, "<svg class=\"chart\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\">", x0 + 24 * cw + 4,
		y0 + 7 * ch + 4, x0 + 24 * cw + 4, y0 + 7 * ch + 4);
	for (int h = 0; h < 24; h += 2)
		fprintf(out, "<text x=\"%d\" y=\"12\" text-anchor=\"middle\">"
			"%d</text>", x0 + h * cw + cw / 2, h);
	for (int d = 0; d < 7; d++) {
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s"
			"</text>", x0 - 6, y0 + d * ch + 15, w->days[d]);
		for (int h = 0; h < 24; h++) {
			uint64_t v = c->how[d][h];
			/* square root: a few off-hours records still show
			 * beside a busy business day */
			double f = v ? 0.12 + 0.88 * root(
				(double)v / (double)max) : 0;
			int red = 255 - (int)(f * (255 - 0xb7)),
			    gb = 255 - (int)(f * (255 - 0x1c));

			fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
				"height=\"%d\" fill=\"#%02x%02x%02x\" "
				"stroke=\"%s\" stroke-width=\"%s\"><title>%s "
				"%02d:00 %" PRIu64 "</title></rect>",
				x0 + h * cw + 1, y0 + d * ch + 1, cw - 2,
				ch - 2, red, gb, gb,
				bs && business(bs, d, h) ? "#0d47a1" :
				"#e0e0e0", bs && business(bs, d, h) ? "2" :
				"1", w->days[d], h, v);
			if (v)
				fprintf(out, "<text x=\"%d\" y=\"%d\" "
					"text-anchor=\"middle\" class=\"%s\">"
					"%" PRIu64 "</text>",
					x0 + h * cw + cw / 2,
					y0 + d * ch + 15,
					f > 0.55 ? "inv" : "",
					v > 9999 ? (uint64_t)9999 : v);
		}
	}
	fputs("</svg>\n", out);
	fputs("<p class=\"note\">", out);
	if (bs) {
		esc(out, w->how_note);
		esc(out, bs->name);
		esc(out, w->how_note2);
	} else {
		esc(out, w->no_business);
	}
	fputs("</p>\n", out);
}

static void daily(FILE *out, const struct report_counts *c)
{
	uint64_t max = 1;
	int32_t d0, d1;
	const int x0 = 50, h = 140, width = 640;
	double bw;

	if (!c->n_days) {
		fputs("<p>-</p>\n", out);
		return;
	}
	d0 = c->days[0].day;
	d1 = c->days[c->n_days - 1].day;
	for (size_t i = 0; i < c->n_days; i++)
		if (c->days[i].count > max)
			max = c->days[i].count;
	bw = (double)width / (double)(d1 - d0 + 1);
	fprintf(out, "<svg class=\"chart\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\">", x0 + width + 10, h + 40,
		x0 + width + 10, h + 40);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		"stroke=\"#555\"/><text x=\"%d\" y=\"14\" text-anchor=\"end\">"
		"%" PRIu64 "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">"
		"0</text>", x0, h + 10, x0 + width, h + 10, x0 - 4, max,
		x0 - 4, h + 10);
	for (size_t i = 0; i < c->n_days; i++) {
		double bh = (double)c->days[i].count / (double)max * h;
		double x = x0 + (c->days[i].day - d0) * bw;

		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" fill=\"#37474f\"/>", x + bw * 0.1,
			h + 10 - bh, bw * 0.8 > 0.5 ? bw * 0.8 : 0.5, bh);
	}
	/* dates at both ends and in the middle */
	for (int k = 0; k < 3; k++) {
		int32_t d = k == 0 ? d0 : k == 1 ? d0 + (d1 - d0) / 2 : d1;
		time_t t = (time_t)d * 86400;
		struct tm tm;
		char b[16];

		if (k == 1 && d1 - d0 < 2)
			continue;
		gmtime_r(&t, &tm);
		strftime(b, sizeof(b), "%Y-%m-%d", &tm);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s"
			"</text>", x0 + (d - d0) * bw + bw / 2, h + 28,
			k == 0 ? "start" : k == 1 ? "middle" : "end", b);
	}
	fputs("</svg>\n", out);
}

static void verdict_cell(FILE *out, const struct report_log *l,
			 const struct words *w)
{
	fprintf(out, "<td class=\"%s\">%s</td>", l->verified > 0 ? "ok" :
		l->verified == 0 ? "bad" : "warn", l->verified > 0 ?
		w->intact : l->verified == 0 ? w->tampered : w->unchecked);
}

static void log_row(FILE *out, const struct report_log *l,
		    const struct words *w)
{
	fputs("<tr>", out);
	tcell(out, l->path);
	fprintf(out, "<td class=\"n\">%" PRIu64 "</td>", l->lines);
	fprintf(out, "<td>%s</td>", l->compressed ? w->yes : w->no);
	verdict_cell(out, l, w);
	tcell(out, l->note);
	fputs("</tr>\n", out);
}

static void model_brief(FILE *out, const struct report_doc *doc,
			const struct words *w)
{
	const struct model *m = doc->m;
	bool any;

	fprintf(out, "<section><h2>%s</h2>\n", w->model_h);
	if (!m) {
		fprintf(out, "<p>%s</p></section>\n", w->no_model);
		return;
	}
	fprintf(out, "<p>model: <b>%s</b> · %s: <b>%zu</b> · %s: <b>%zu</b>"
		" · %s: <b>%zu</b></p>\n", model_variant_name(m->variant),
		w->zones, m->n_zones, w->hosts, m->n_hosts, w->flows,
		m->n_flows);
	fprintf(out, "<div class=\"cols\"><div><h3>%s</h3><table>",
		w->tiers);
	for (int t = 0; t < TIER_COUNT; t++) {
		any = false;
		for (size_t z = 0; z < m->n_zones; z++) {
			if ((int)m->zones[z].tier != t)
				continue;
			if (!any)
				fprintf(out, "<tr><th>%s</th><td>",
					tier_name((enum tier)t));
			fprintf(out, "%s", any ? ", " : "");
			esc(out, m->zones[z].name);
			any = true;
		}
		if (any)
			fputs("</td></tr>", out);
	}
	fprintf(out, "</table></div><div><h3>%s</h3><table>", w->roles);
	for (int ro = ROLE_UPDATE_RELAY; ro <= ROLE_NTP; ro++) {
		any = false;
		for (size_t h = 0; h < m->n_hosts; h++) {
			if ((int)m->hosts[h].role != ro)
				continue;
			if (!any)
				fprintf(out, "<tr><th>%s</th><td>",
					role_name((enum role)ro));
			fprintf(out, "%s", any ? ", " : "");
			esc(out, m->hosts[h].name);
			any = true;
		}
		if (any)
			fputs("</td></tr>", out);
	}
	fputs("</table></div></div>\n", out);

	fprintf(out, "<h3>%s</h3>", w->waivers);
	any = false;
	for (size_t f = 0; f < m->n_flows; f++) {
		const struct waiver *wv = &m->flows[f].waiver;
		char exp[16] = "-";

		if (!wv->present)
			continue;
		if (!any)
			fprintf(out, "<table><tr><th>%s</th><th>%s</th>"
				"<th>%s</th><th>%s</th><th>%s</th></tr>",
				w->flow, w->rule, w->expires, w->approved,
				w->ticket);
		any = true;
		if (wv->expires >= 0) {
			time_t t = (time_t)wv->expires * 86400;
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(exp, sizeof(exp), "%Y-%m-%d", &tm);
		}
		fputs("<tr>", out);
		tcell(out, m->flows[f].name);
		tcell(out, wv->rule);
		tcell(out, exp);
		tcell(out, wv->approved_by);
		tcell(out, wv->ticket);
		fputs("</tr>", out);
	}
	fprintf(out, any ? "</table>\n" : "<p>%s</p>\n", w->no_waivers);

	/* 注1: what leaves マイナンバー利用事務系 */
	fprintf(out, "<h3>%s</h3><p class=\"note\">%s</p>", w->outward,
		w->sanctioned_note);
	any = false;
	for (size_t f = 0; f < m->n_flows; f++) {
		const struct flow *fl = &m->flows[f];
		bool from_mn = false, to_out = false;

		for (size_t i = 0; i < fl->n_from; i++)
			if (fl->from[i].zone >= 0 &&
			    m->zones[fl->from[i].zone].tier == TIER_MYNUMBER)
				from_mn = true;
		for (size_t i = 0; i < fl->n_to; i++)
			if (fl->to[i].kind == EP_FQDN ||
			    (fl->to[i].zone >= 0 &&
			     (m->zones[fl->to[i].zone].tier == TIER_INTERNET ||
			      m->zones[fl->to[i].zone].tier == TIER_EXTERNAL)))
				to_out = true;
		if (!from_mn || !to_out)
			continue;
		if (!any)
			fprintf(out, "<table><tr><th>%s</th><th>to</th>"
				"<th>%s</th><th>%s</th><th>%s</th></tr>",
				w->flow, w->services, w->logged, w->waivers);
		any = true;
		fputs("<tr>", out);
		tcell(out, fl->name);
		fputs("<td>", out);
		for (size_t i = 0; i < fl->n_to; i++) {
			fputs(i ? ", " : "", out);
			esc(out, fl->to[i].text);
		}
		fputs("</td><td>", out);
		for (size_t i = 0; i < fl->n_services; i++) {
			char sv[SERVICE_STRLEN];

			service_format(&fl->services[i].sv, sv, sizeof(sv));
			fputs(i ? ", " : "", out);
			esc(out, sv);
		}
		fprintf(out, "</td><td>%s</td>", fl->log ? w->yes : w->no);
		tcell(out, fl->waiver.present ? fl->waiver.rule : NULL);
		fputs("</tr>", out);
	}
	fprintf(out, any ? "</table>\n" : "<p>%s</p>\n", w->no_outward);

	fprintf(out, "<h3>%s</h3>", w->findings_h);
	if (!doc->findings || !doc->findings->n) {
		fprintf(out, "<p class=\"ok\">%s</p>\n", w->no_findings);
	} else {
		fprintf(out, "<table><tr><th>%s</th><th>%s</th><th>%s</th>"
			"<th>%s</th></tr>", w->code, w->severity, w->message,
			w->guideline_h);
		for (size_t i = 0; i < doc->findings->n; i++) {
			const struct diag *g = &doc->findings->v[i];
			char point[512];

			fprintf(out, "<tr><td>%s</td><td class=\"%s\">%s</td>",
				g->code, g->sev == DIAG_ERROR ? "bad" : "warn",
				g->sev == DIAG_ERROR ? "error" : "warning");
			tcell(out, g->msg);
			tcell(out, report_guideline(g->code, doc->ja, point,
						    sizeof(point)));
			fputs("</tr>\n", out);
		}
		fputs("</table>\n", out);
	}
	fputs("</section>\n", out);
}

static void duration(uint64_t s, char *b, size_t n)
{
	if (s >= 3600)
		snprintf(b, n, "%" PRIu64 "h %02" PRIu64 "m", s / 3600,
			 s / 60 % 60);
	else
		snprintf(b, n, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
}

static const char css[] =
	"@page{size:A4;margin:14mm}"
	"body{font-family:'Noto Sans CJK JP','IPAexGothic','Hiragino Sans',"
	"sans-serif;font-size:10pt;color:#212121;max-width:180mm;"
	"margin:0 auto}"
	"h1{font-size:17pt;border-bottom:3px solid #0d47a1;margin:0 0 4pt}"
	"h2{font-size:13pt;color:#0d47a1;border-bottom:1px solid #90a4ae;"
	"margin:14pt 0 4pt}"
	"h3{font-size:10.5pt;margin:8pt 0 3pt}"
	"table{border-collapse:collapse;width:100%;margin:2pt 0 6pt}"
	"th,td{border:1px solid #cfd8dc;padding:2pt 4pt;text-align:left;"
	"vertical-align:top;word-break:break-all}"
	"th{background:#eceff1}td.n{text-align:right}"
	".ok{color:#1b5e20;font-weight:bold}.bad{color:#b71c1c;"
	"font-weight:bold}.warn{color:#e65100;font-weight:bold}"
	".note{color:#546e7a;font-size:8.5pt}"
	".cols{display:flex;gap:8mm}.cols>div{flex:1}"
	".kpi{display:flex;gap:4mm;margin:4pt 0}.kpi div{flex:1;border:1px"
	" solid #cfd8dc;padding:4pt;text-align:center}.kpi b{display:block;"
	"font-size:16pt}"
	"svg.chart{display:block;max-width:100%;height:auto;margin:2pt 0}"
	"svg text{font-size:10px;fill:#263238}svg text.inv{fill:#fff}"
	"section{break-inside:avoid-page}"
	"@media print{h2{break-after:avoid}}";

int report_write_html(FILE *out, const struct report_doc *doc)
{
	const struct words *w = doc->ja ? &ja : &en;
	const struct report_counts *c = doc->c;
	const char *tz = doc->tz;
	char b[64], b2[64];
	bool alerts_ok = doc->n_logs > 0;

	for (size_t i = 0; i < doc->n_logs; i++)
		if (doc->logs[i].verified != 1)
			alerts_ok = false;
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta "
		"charset=\"utf-8\"><title>%s", w->lang, w->title);
	if (doc->site) {
		fputs(" — ", out);
		esc(out, doc->site);
	}
	fprintf(out, "</title><style>%s</style></head><body>\n", css);
	fprintf(out, "<h1>%s</h1>\n<table>", w->title);
	fprintf(out, "<tr><th>%s</th>", w->site);
	tcell(out, doc->site);
	fprintf(out, "<th>%s</th>", w->host);
	tcell(out, doc->host);
	fprintf(out, "</tr><tr><th>%s</th><td>", w->period);
	if (!doc->since[0] && !doc->until[0])
		esc(out, w->all);
	else
		fprintf(out, "%s %s %s", doc->since[0] ? doc->since : "",
			w->to, doc->until[0] ? doc->until : "");
	fprintf(out, "</td><th>%s</th>", w->generated);
	tcell(out, doc->generated);
	fprintf(out, "</tr><tr><th>%s</th>", w->tz);
	tcell(out, tz);
	fprintf(out, "<th>%s</th><td>", w->verification);
	fprintf(out, "audit.log: <span class=\"%s\">%s</span> · %s: <span "
		"class=\"%s\">%s</span></td></tr></table>\n",
		doc->audit.path && doc->audit.verified == 1 ? "ok" : "bad",
		doc->audit.path && doc->audit.verified == 1 ? w->intact :
		doc->audit.path && doc->audit.verified == 0 ? w->tampered :
		w->unchecked, w->alerts_h, alerts_ok ? "ok" : "bad",
		alerts_ok ? w->intact : w->unchecked);

	/* summary figures */
	fprintf(out, "<div class=\"kpi\"><div>%s<b>%" PRIu64 "</b></div>"
		"<div>%s<b style=\"color:%s\">%" PRIu64 "</b></div>"
		"<div>%s<b style=\"color:%s\">%" PRIu64 "</b></div>"
		"<div>%s<b>%" PRIu64 "</b></div></div>\n", w->total, c->total,
		"critical", sev_colour[0], c->by_sev[REPORT_SEV_CRITICAL],
		"high", sev_colour[1], c->by_sev[REPORT_SEV_HIGH], w->events,
		c->events);

	/* deployment */
	fprintf(out, "<section><h2>%s</h2>\n", w->deploy_h);
	if (doc->deployed) {
		fprintf(out, "<p>%s: <b>#%u</b> · %s · ", w->current,
			doc->current, doc->current_time);
		esc(out, doc->current_user);
		fprintf(out, "<br><span class=\"note\">zone file SHA-256 %s"
			"<br>ruleset SHA-256 %s</span></p>\n",
			doc->zone_sha256, doc->ruleset_sha256);
	} else {
		fprintf(out, "<p>%s</p>\n", w->none_deployed);
	}
	fprintf(out, "<h3>%s</h3>", w->history);
	if (doc->n_deploys) {
		if (doc->deploys_omitted)
			fprintf(out, "<p class=\"note\">%" PRIu64 " %s</p>",
				doc->deploys_omitted, w->omitted);
		fprintf(out, "<table><tr><th>%s</th><th>%s</th><th>%s</th>"
			"<th>%s</th><th>%s</th></tr>", w->time, w->action,
			w->id, w->user, w->detail);
		for (size_t i = 0; i < doc->n_deploys; i++) {
			const struct report_deploy *d = &doc->deploys[i];

			fputs("<tr>", out);
			snprintf(b, sizeof(b), "%.10s %.8s", d->time,
				 d->time + 11);
			tcell(out, b);
			fprintf(out, "<td class=\"%s\">", strstr(d->action,
				"fail") || strstr(d->action, "rollback") ?
				"warn" : "");
			esc(out, d->action);
			fprintf(out, "</td><td class=\"n\">%u</td>",
				d->deployment);
			tcell(out, d->user);
			tcell(out, d->detail);
			fputs("</tr>\n", out);
		}
		fputs("</table>\n", out);
	} else {
		fprintf(out, "<p>%s</p>\n", w->none);
	}
	fprintf(out, "<h3>%s</h3><table><tr><th>%s</th><th>%s</th>"
		"<th>%s</th><th>%s</th><th></th></tr>\n", w->verification,
		w->log, w->lines, w->compressed, w->verdict);
	if (doc->audit.path)
		log_row(out, &doc->audit, w);
	for (size_t i = 0; i < doc->n_logs; i++)
		log_row(out, &doc->logs[i], w);
	fputs("</table></section>\n", out);

	model_brief(out, doc, w);

	/* alerts */
	fprintf(out, "<section><h2>%s</h2><div class=\"cols\"><div><h3>%s"
		"</h3>", w->alerts_h, w->by_type);
	{
		const char *lab[ALERT_TYPE_COUNT + REPORT_MAX_OTHER_TYPES];
		uint64_t v[ALERT_TYPE_COUNT + REPORT_MAX_OTHER_TYPES] = { 0 };
		size_t n = 0;

		for (int t = 0; t < ALERT_TYPE_COUNT; t++)
			if (c->by_type[t]) {
				lab[n] = alert_type_name((enum alert_type)t);
				v[n++] = c->by_type[t];
			}
		for (size_t i = 0; i < c->n_other_types; i++) {
			lab[n] = c->other_types[i].name;
			v[n++] = c->other_types[i].count;
		}
		if (n)
			hbars(out, lab, v, NULL, n);
		else
			fprintf(out, "<p>%s</p>", w->none);
	}
	fprintf(out, "</div></div><h3>%s</h3>", w->by_sev);
	{
		const char *lab[REPORT_SEV_COUNT];
		uint64_t v[REPORT_SEV_COUNT] = { 0 };

		for (int s = 0; s < REPORT_SEV_COUNT; s++) {
			lab[s] = report_sev_name((enum report_sev)s);
			v[s] = c->by_sev[s];
		}
		hbars(out, lab, v, sev_colour, REPORT_SEV_COUNT);
	}
	fprintf(out, "</section>\n<section><h2>%s</h2>", w->by_pair);
	if (c->n_pairs) {
		const char *lab[20];
		uint64_t v[20] = { 0 };
		char names[20][72];
		size_t n = c->n_pairs < 20 ? c->n_pairs : 20;

		for (size_t i = 0; i < n; i++) {
			snprintf(names[i], sizeof(names[i]), "%s → %s",
				 c->pairs[i].src_zone[0] ?
				 c->pairs[i].src_zone : "-",
				 c->pairs[i].dst_zone[0] ?
				 c->pairs[i].dst_zone : "-");
			lab[i] = names[i];
			v[i] = c->pairs[i].count;
		}
		hbars(out, lab, v, NULL, n);
		fprintf(out, "<table><tr><th>%s</th><th>%s</th><th>%s</th>",
			w->src_zone, w->dst_zone, w->count);
		for (int s = 0; s < REPORT_SEV_OTHER; s++)
			fprintf(out, "<th>%s</th>",
				report_sev_name((enum report_sev)s));
		fputs("</tr>\n", out);
		for (size_t i = 0; i < c->n_pairs && i < 60; i++) {
			fputs("<tr>", out);
			tcell(out, c->pairs[i].src_zone);
			tcell(out, c->pairs[i].dst_zone);
			fprintf(out, "<td class=\"n\">%" PRIu64 "</td>",
				c->pairs[i].count);
			for (int s = 0; s < REPORT_SEV_OTHER; s++)
				fprintf(out, "<td class=\"n\">%" PRIu64 "</td>",
					c->pairs[i].by_sev[s]);
			fputs("</tr>\n", out);
		}
		fputs("</table>\n", out);
		if (c->pairs_folded)
			fprintf(out, "<p class=\"note\">%s: %" PRIu64 "</p>",
				w->folded, c->pairs_folded);
	} else {
		fprintf(out, "<p>%s</p>", w->none);
	}
	fprintf(out, "</section>\n<section><h2>%s</h2>", w->how_h);
	heatmap(out, doc, w);
	fprintf(out, "</section>\n<section><h2>%s</h2>", w->daily_h);
	daily(out, c);
	fprintf(out, "</section>\n<section><h2>%s</h2>", w->top_h);
	if (c->n_top) {
		const char *lab[REPORT_TOP_SOURCES];
		uint64_t v[REPORT_TOP_SOURCES] = { 0 };
		char names[REPORT_TOP_SOURCES][84];

		for (size_t i = 0; i < c->n_top; i++) {
			snprintf(names[i], sizeof(names[i]), "%s (%s)",
				 c->top[i].addr, c->top[i].zone[0] ?
				 c->top[i].zone : "-");
			lab[i] = names[i];
			v[i] = c->top[i].count;
		}
		hbars(out, lab, v, NULL, c->n_top);
		if (!c->sources_exact)
			fprintf(out, "<p class=\"note\">%s</p>", w->approx);
	} else {
		fprintf(out, "<p>%s</p>", w->none);
	}
	fprintf(out, "</section>\n<section><h2>%s</h2>", w->maint_h);
	if (c->n_sessions) {
		fprintf(out, "<table><tr><th>%s</th><th>%s</th><th>%s</th>"
			"<th>%s</th><th>%s</th><th>%s</th></tr>\n", w->flow,
			w->window, w->start, w->end, w->duration,
			w->connections);
		for (size_t i = 0; i < c->n_sessions; i++) {
			const struct report_session *s = &c->sessions[i];

			fputs("<tr>", out);
			tcell(out, s->flow);
			tcell(out, s->window);
			hm(tz, s->start, b, sizeof(b));
			tcell(out, b);
			if (s->end) {
				hm(tz, s->end, b, sizeof(b));
				duration((uint64_t)(s->end - s->start), b2,
					 sizeof(b2));
			} else {
				snprintf(b, sizeof(b), "%s", w->still_open);
				snprintf(b2, sizeof(b2), "-");
			}
			tcell(out, b);
			tcell(out, b2);
			fprintf(out, "<td class=\"n\">%" PRIu64 "</td></tr>\n",
				s->connections);
		}
		fputs("</table>\n", out);
	} else {
		fprintf(out, "<p>%s</p>\n", w->no_sessions);
	}
	fprintf(out, "<h3>%s</h3>", w->closed_h);
	if (c->n_closed) {
		fprintf(out, "<table><tr><th>%s</th><th>%s</th><th>%s</th>"
			"</tr>\n", w->time, w->flow, w->message);
		for (size_t i = 0; i < c->n_closed; i++) {
			fputs("<tr>", out);
			hm(tz, c->closed[i].time, b, sizeof(b));
			tcell(out, b);
			tcell(out, c->closed[i].flow);
			tcell(out, c->closed[i].message);
			fputs("</tr>\n", out);
		}
		fputs("</table>\n", out);
	} else {
		fprintf(out, "<p>%s</p>\n", w->no_closed);
	}
	fprintf(out, "</section>\n<section><h2>%s</h2><table>", w->input_h);
	fprintf(out, "<tr><th>%s</th><td class=\"n\">%" PRIu64 "</td>"
		"<th>%s</th><td class=\"n\">%" PRIu64 "</td></tr>"
		"<tr><th>%s</th><td class=\"n\">%" PRIu64 "</td>"
		"<th>%s</th><td class=\"n\">%" PRIu64 "</td></tr></table>\n",
		w->read, c->lines, w->invalid, c->invalid, w->outside,
		c->outside, w->chainl, c->chain);
	if (c->n_bad) {
		fprintf(out, "<table><tr><th>%s</th><th>#</th><th>%s</th>"
			"</tr>", w->file, w->why);
		for (size_t i = 0; i < c->n_bad; i++) {
			fputs("<tr>", out);
			tcell(out, c->bad[i].file);
			fprintf(out, "<td class=\"n\">%" PRIu64 "</td>",
				c->bad[i].line);
			tcell(out, c->bad[i].why);
			fputs("</tr>", out);
		}
		fputs("</table>\n", out);
	}
	fprintf(out, "</section>\n<p class=\"note\">sanso %s</p>\n"
		"</body></html>\n", SANSO_VERSION);
	return ferror(out) ? -EIO : 0;
}
