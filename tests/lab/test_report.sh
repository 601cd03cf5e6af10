#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# sanso report end to end: a gateway namespace with a deployment made by
# `sanso apply`, the monitor writing real alerts from real connections
# (blocked, off_hours, a logged maintenance session and its
# maintenance_closed), the alert log rotated and compressed as logrotate
# does, then:
#
#   - the JSON counts equal the alert files', type by type (jq over
#     zcat + cat), and both files and audit.log verify;
#   - the rotated file is read through gzip and anchored by the first
#     line of the file after it;
#   - the maintenance session has a start, an end and a duration;
#   - the HTML page is self-contained (no script, nothing fetched) and
#     headless Chromium renders it to a PNG that is not blank;
#   - a line edited in the alert log: the report says tampered, exit 1.
#
# Needs root and network namespaces (tests/lab/lib.sh), jq, and for the
# screenshot chromium (skipped with a note when it is missing). SANSO
# names the binary; REPORT_PNG=FILE keeps the screenshot.

set -u

# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/lab/results.sh
. "$(dirname "$0")/results.sh"
need_root report
for t in nft nc jq gzip; do
	if ! command -v "$t" >/dev/null; then
		echo "report lab: SKIP: $t not installed" \
			"(contrib/install-deps.sh)"
		exit 0
	fi
done
if ! "$SANSO" report --help >/dev/null 2>&1; then
	echo "report lab: SKIP: $SANSO has no report command"
	exit 0
fi
PNGCOLOURS=${LAB_TOOLS:-$(dirname "$SANSO")/tools}/pngcolours

lab_init || { bad "lab_init"; finish; }
D=$LAB_DIR/rep
mkdir -p "$D"
ZF=$D/zones.yaml
ALERTS=$D/alerts.jsonl
ST=$LAB_DIR/state

jst()
{
	TZ=Asia/Tokyo date -d "@$(($(date +%s) + $1))" "+$2"
}
# The maintenance window ends at the first minute boundary at least
# 30 s away.
now=$(date +%s)
win_end=$(((now + 30 + 59) / 60 * 60))
win_from=$(jst -3600 %Y-%m-%dT%H:%M)
win_to=$(TZ=Asia/Tokyo date -d "@$win_end" +%Y-%m-%dT%H:%M)
h1=$(( (10#$(jst 0 %H) + 6) % 24 ))
h2=$(( (h1 + 1) % 24 ))
expires=$(jst $((200 * 86400)) %Y-%m-%d)

cat >"$ZF" <<EOF
# Written by tests/lab/test_report.sh; times in Asia/Tokyo.
version: 1
site: lab-report
timezone: Asia/Tokyo
schedules:
  business:
    days: [mon, tue, wed, thu, fri]
    hours: ["08:30-17:15"]
  closed-now:
    hours: ["$(printf %02d "$h1"):00-$(printf %02d "$h2"):00"]
  maint:
    windows:
      - { from: "$win_from", to: "$win_to" }
zones:
  mynumber: { tier: mynumber, interfaces: [ens4], networks: [10.10.0.0/16] }
  lgwan: { tier: lgwan, interfaces: [ens5], networks: [10.20.0.0/16] }
  inet: { tier: internet, interfaces: [ens6], networks: [10.30.0.0/16] }
  mgmt: { tier: mgmt, interfaces: [ens8], networks: [10.99.0.0/24] }
  upstream: { tier: external, interfaces: [ens3], networks: [0.0.0.0/0] }
hosts:
  juki-db: { zone: mynumber, address: 10.10.1.5 }
  renkei: { zone: lgwan, address: 10.20.6.10 }
  lgwan-mail: { zone: lgwan, address: 10.20.5.25 }
  mail-sanit: { zone: inet, address: 10.30.5.5, role: sanitizer }
  vendor-noc: { zone: upstream, address: 203.0.113.10 }
flows:
  - { name: mail-into-lgwan, from: mail-sanit, to: lgwan-mail,
      services: [tcp/25], alert_outside: business }
  - { name: renkei-to-juki, from: renkei, to: juki-db,
      services: [tcp/1521], alert_outside: closed-now }
  - name: vendor-maintenance
    from: vendor-noc
    to: juki-db
    services: [tcp/22]
    schedule: maint
    log: true
    waiver:
      rule: T1
      reason: "vendor maintenance, lab"
      ticket: LAB-1
      approved_by: lab
      expires: $expires
gateway:
  ssh_from: [mgmt]
  log_group: 100
monitor:
  alerts:
    - jsonl: $ALERTS
  dedup_seconds: 60
EOF

if ! out=$("$SANSO" check "$ZF" 2>&1); then
	bad "the lab's zone file does not check: $out"
	finish
fi
LAB_LOAD=apply
lab_plan "$ZF" && lab_build && lab_load "$ZF" || { bad "lab build"; finish; }
GW=$LAB_GW
MYN=$(lab_ns mynumber)
LGW=$(lab_ns lgwan)
UP=$(lab_ns upstream)

bg()
{
	"$@" &
	LAB_PIDS+=("$!")
}
bg ip netns exec "$MYN" nc -lk 10.10.1.5 22 >"$D/maint.recv"
bg ip netns exec "$MYN" nc -lk 10.10.1.5 1521 >/dev/null
sleep 0.5

# The monitor judges by the deployment (no FILE), as its unit runs it.
ip netns exec "$GW" "$SANSO" monitor --state-dir "$ST" --drift-interval 2 \
	--no-dnsguard >"$D/mon.out" 2>"$D/mon.err" &
MON=$!
LAB_PIDS+=("$MON")
if ! wait_for 'watching' "$D/mon.err" 10; then
	bad "the monitor did not start: $(cat "$D/mon.err")"
	finish
fi

# Real traffic: the maintenance session, dropped attempts on four ports
# (four alerts: dedup folds the same port only), an off-hours flow.
bg ip netns exec "$UP" bash -c 'while :; do echo tick; sleep 0.5; done |
	nc -s 203.0.113.10 10.10.1.5 22'
wait_for tick "$D/maint.recv" 5 || bad "maintenance session did not connect"
# Dropped attempts from four sources (the monitor folds drops per zone
# pair and source).
for i in 1 2 3 4 9; do
	ip -n "$MYN" addr add "10.10.7.$i/32" dev eth0
done
for i in 1 2 3 4; do
	ip netns exec "$MYN" timeout 3 nc -z -w 1 -s "10.10.7.$i" \
		203.0.113.10 443
done
ip netns exec "$LGW" timeout 5 nc -z -w 2 -s 10.20.6.10 10.10.1.5 1521 ||
	bad "renkei -> juki-db tcp/1521 did not connect"
if wait_for '"type":"blocked".*"src":"10.10.7.4"' "$ALERTS" 10 &&
	wait_for '"type":"off_hours"' "$ALERTS" 10 &&
	wait_for '"type":"logged"' "$ALERTS" 10; then
	ok "alerts written: $(jq -r .type "$ALERTS" | sort | uniq -c |
		tr -s ' \n' ' ')"
else
	bad "alerts missing: $(cut -c1-200 "$ALERTS")"
fi

# logrotate with delaycompress, then compress: rename, SIGUSR1, gzip.
mv "$ALERTS" "$ALERTS-1"
kill -USR1 "$MON"
sleep 0.5
ip netns exec "$MYN" timeout 3 nc -z -w 1 -s 10.10.7.9 203.0.113.10 443
wait_for '"src":"10.10.7.9"' "$ALERTS" 10 || bad "no alert after the rotation"
if wait_for '"type":"maintenance_closed"' "$ALERTS" 90; then
	ok "maintenance window closed: $(jq -r \
		'select(.type == "maintenance_closed") | .message' "$ALERTS")"
else
	bad "no maintenance_closed"
fi
kill -TERM "$MON"
wait "$MON"
gzip "$ALERTS-1"
ROT=$ALERTS-1.gz

# ---- JSON ----

"$SANSO" report --state-dir "$ST" --alerts "$ROT" --alerts "$ALERTS" \
	--format json >"$D/report.json" 2>"$D/report.err"
rc=$?
if [ "$rc" -eq 0 ] && jq -e . "$D/report.json" >/dev/null; then
	ok "report --format json: exit 0, valid JSON"
else
	bad "report --format json: exit $rc: $(cat "$D/report.err")"
fi
# The alert files' own counts: every line with a type (chain lines
# have none).
(zcat "$ROT"; cat "$ALERTS") | jq -c 'select(.type != null) | .type' |
	sort | uniq -c | awk '{ gsub(/"/, "", $2); print $2, $1 }' \
	>"$D/want.types"
jq -r '.alerts.by_type | to_entries[] | select(.value > 0) |
	"\(.key) \(.value)"' "$D/report.json" | sort >"$D/got.types"
if [ -s "$D/want.types" ] && diff -u "$D/want.types" "$D/got.types"; then
	ok "counts by type equal the files': $(tr '\n' ' ' <"$D/got.types")"
else
	bad "counts by type differ from the files'"
fi
want=$( (zcat "$ROT"; cat "$ALERTS") | jq -c 'select(.type != null)' |
	wc -l)
got=$(jq .alerts.total "$D/report.json")
[ "$want" = "$got" ] && ok "total $got" || bad "total $got, files $want"
want=$( (zcat "$ROT"; cat "$ALERTS") | jq -c \
	'select(.severity == "critical")' | wc -l)
got=$(jq .alerts.by_severity.critical "$D/report.json")
[ "$want" = "$got" ] && ok "critical $got" || bad "critical $got, files $want"
how=$(jq '[.alerts.by_hour_of_week[][]] | add' "$D/report.json")
[ "$how" = "$(jq .alerts.total "$D/report.json")" ] &&
	ok "hour-of-week cells add up to the total" ||
	bad "hour-of-week cells add up to $how"
# The hour of week of one alert, computed by date(1) in Asia/Tokyo.
t=$(zcat "$ROT" | jq -r 'select(.type == "off_hours") | .time' | head -n 1)
dow=$(( $(TZ=Asia/Tokyo date -d "$t" +%u) - 1 ))
hr=$((10#$(TZ=Asia/Tokyo date -d "$t" +%H)))
cell=$(jq ".alerts.by_hour_of_week[$dow][$hr]" "$D/report.json")
[ "${cell:-0}" -ge 1 ] && ok "off_hours alert in cell [$dow][$hr]" ||
	bad "cell [$dow][$hr] of the off_hours alert is $cell"
if [ "$(jq .audit.verified "$D/report.json")" = true ] &&
	[ "$(jq .audit.alerts_verified "$D/report.json")" = true ]; then
	ok "audit.log and both alert files verified:" \
		"$(jq -r '.files[] | "\(.path | split("/") | last): \(.note)"' \
		"$D/report.json" | tr '\n' ';')"
else
	bad "verification: $(jq -c '.audit, .files' "$D/report.json")"
fi
[ "$(jq '.files[0].compressed' "$D/report.json")" = true ] &&
	ok "the rotated file was read through gzip" ||
	bad "the rotated file was not read as gzip"
if jq -e '.maintenance.sessions[] | select(.flow == "vendor-maintenance"
	and .end != null and .seconds >= 0 and .connections >= 1)' \
	"$D/report.json" >/dev/null; then
	ok "maintenance session: $(jq -c '.maintenance.sessions[0] |
		[.window, .start, .end, .seconds]' "$D/report.json")"
else
	bad "no closed maintenance session: $(jq -c .maintenance \
		"$D/report.json")"
fi
[ "$(jq '.deployments | map(select(.action == "apply")) | length' \
	"$D/report.json")" -ge 1 ] && ok "the apply is in the history" ||
	bad "no apply in the deployments"
jq -e '.model.waivers[0].flow == "vendor-maintenance"' "$D/report.json" \
	>/dev/null && ok "the waiver is in the model brief" ||
	bad "no waiver in the model brief"

# ---- HTML and its screenshot ----

LANG=ja_JP.UTF-8 "$SANSO" report --state-dir "$ST" --alerts "$ROT" \
	--alerts "$ALERTS" >"$D/report.html" 2>>"$D/report.err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q '<html lang="ja">' "$D/report.html"; then
	ok "HTML in Japanese under LANG=ja_JP.UTF-8"
else
	bad "HTML: exit $rc, lang $(grep -o '<html lang="[a-z]*"' \
		"$D/report.html")"
fi
if grep -Eqi '<script|https?://|<link|@import|url\(' "$D/report.html"; then
	bad "the page fetches or runs something: $(grep -Eoi \
		'<script|https?://[^"]*|<link|@import|url\(' "$D/report.html" |
		head -n 3)"
else
	ok "the page is self-contained ($(wc -c <"$D/report.html") bytes," \
		"$(grep -o '<svg' "$D/report.html" | wc -l) SVG charts)"
fi
CHROME=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROME" ]; then
	echo "note: chromium not installed: no screenshot (contrib/install-deps.sh)"
else
	prof=$(mktemp -d)
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$prof" --screenshot="$D/report.png" \
		--window-size=1200,1600 "file://$D/report.html" \
		>"$D/chromium.log" 2>&1
	rm -rf "$prof"
	if [ -s "$D/report.png" ] && [ -x "$PNGCOLOURS" ] &&
		read -r w h colours nonwhite < <("$PNGCOLOURS" "$D/report.png")
	then
		if [ "$colours" -ge 16 ] && [ "$nonwhite" -ge 20 ]; then
			ok "screenshot ${w}x$h: $colours colours," \
				"$nonwhite‰ not white"
		else
			bad "screenshot looks blank: $colours colours," \
				"$nonwhite‰ not white"
		fi
		[ -n "${REPORT_PNG-}" ] && cp "$D/report.png" "$REPORT_PNG"
	else
		bad "no screenshot (or $PNGCOLOURS missing):" \
			"$(tail -n 3 "$D/chromium.log")"
	fi
fi

# ---- tampering ----

sed -i '2s/"count":1/"count":2/' "$ALERTS"
"$SANSO" report --state-dir "$ST" --alerts "$ROT" --alerts "$ALERTS" \
	--format json >"$D/tampered.json" 2>/dev/null
rc=$?
if [ "$rc" -eq 1 ] &&
	[ "$(jq .audit.alerts_verified "$D/tampered.json")" = false ] &&
	[ "$(jq '.files[1].verified' "$D/tampered.json")" = false ]; then
	ok "an edited alert line: tampered, exit 1 ($(jq -r \
		'.files[1].note' "$D/tampered.json" | cut -c1-80))"
else
	bad "an edited alert line: exit $rc, $(jq -c '.files' \
		"$D/tampered.json")"
fi
finish
