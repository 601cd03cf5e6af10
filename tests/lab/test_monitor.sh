#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# sanso monitor end to end: a gateway namespace running the ruleset of a
# small zone file written here (schedules around the current time), the
# monitor on it, real connections from the zone namespaces, and the
# alerts it writes to a JSON lines sink.
#
#   - a permitted flow raises nothing;
#   - a dropped attempt mynumber -> upstream is `blocked`, and one from
#     lgwan to the gateway itself is `blocked` naming lgwan;
#   - a flow with alert_outside, outside its schedule, is `off_hours`;
#   - a rule inserted by hand that lets inet -> mynumber through: the
#     connection is `cross_zone` (critical) and the table `drift`s;
#   - SIGHUP with a broken zone file is `config_error`, and the old
#     policy keeps working;
#   - SIGUSR1 after the alert file was renamed (logrotate): the next
#     alert goes to a new file at the path, and a zone file edited
#     meanwhile is not read;
#   - a flood of new connections: no overrun, or an overrun followed by
#     a re-read of the table; the monitor survives;
#   - the maintenance window ends: `maintenance_closed`, and the
#     session it let in (a long-lived nc) carries no more data;
#   - --user nobody keeps CAP_NET_ADMIN only and still works;
#   - a deployment the monitor cannot read (--user nobody, a 0700 root
#     state directory): `config_error`, and a change of the table is
#     still `drift`;
#   - SIGTERM: exit status 0.
#
# Needs root and network namespaces (tests/lab/lib.sh). SANSO names the
# binary. LAB_MONITOR_RECORD=FILE keeps a capture (--record) of the run
# without the flood, for tests/replay/. Prints a final "N passed,
# N failed" line.

set -u

# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/lab/results.sh
. "$(dirname "$0")/results.sh"
need_root monitor
for t in nft nc conntrack; do
	if ! command -v "$t" >/dev/null; then
		echo "monitor lab: SKIP: $t not installed" \
			"(contrib/install-deps.sh)"
		exit 0
	fi
done
if ! "$SANSO" monitor --help >/dev/null 2>&1; then
	echo "monitor lab: SKIP: $SANSO has no monitor command"
	exit 0
fi

lab_init || { bad "lab_init"; finish; }
D=$LAB_DIR/mon
mkdir -p "$D/state"
ZF=$D/zones.yaml
ALERTS=$D/alerts.jsonl
ROTATED=$D/alerts.jsonl.1

# Local wall time in Asia/Tokyo, offset $1 seconds from now, format $2.
jst()
{
	TZ=Asia/Tokyo date -d "@$(($(date +%s) + $1))" "+$2"
}

# The maintenance window ends at the first minute boundary at least 45 s
# away, so the session is up and the other checks run before it ends.
now=$(date +%s)
win_end=$(((now + 45 + 59) / 60 * 60))
win_from=$(jst -3600 %Y-%m-%dT%H:%M)
win_to=$(TZ=Asia/Tokyo date -d "@$win_end" +%Y-%m-%dT%H:%M)
# An hour that is not now, for alert_outside.
h1=$(( (10#$(jst 0 %H) + 6) % 24 ))
h2=$(( (h1 + 1) % 24 ))
expires=$(jst $((200 * 86400)) %Y-%m-%d)

cat >"$ZF" <<EOF
# Written by tests/lab/test_monitor.sh; times in Asia/Tokyo.
version: 1
site: lab-monitor
timezone: Asia/Tokyo
schedules:
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
  ntp: { zone: mgmt, address: 10.99.0.123, role: ntp }
  vendor-noc: { zone: upstream, address: 203.0.113.10 }
flows:
  - { name: mail-into-lgwan, from: mail-sanit, to: lgwan-mail,
      services: [tcp/25] }
  - { name: renkei-to-juki, from: renkei, to: juki-db,
      services: [tcp/1521], alert_outside: closed-now }
  - { name: ntp-clients, from: lgwan, to: ntp, services: [udp/123] }
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
lab_plan "$ZF" && lab_build && lab_load "$ZF" || { bad "lab build"; finish; }
ns_of()
{
	lab_ns "$1"
}
GW=$LAB_GW
MYN=$(ns_of mynumber)
LGW=$(ns_of lgwan)
INET=$(ns_of inet)
UP=$(ns_of upstream)

# Listeners. nc -k keeps accepting.
bg()
{
	"$@" &
	LAB_PIDS+=("$!")
}
bg ip netns exec "$MYN" nc -lk 10.10.1.5 22 >"$D/maint.recv"
bg ip netns exec "$MYN" nc -lk 10.10.1.5 1521 >/dev/null
bg ip netns exec "$MYN" nc -lk 10.10.1.5 5432 >/dev/null
bg ip netns exec "$LGW" nc -lk 10.20.5.25 25 >/dev/null
sleep 0.5

# A session already open when the monitor starts (renkei-to-juki, out
# of its alert_outside hours): the monitor's first dump must judge it.
bg ip netns exec "$LGW" bash -c 'sleep 600 | nc -s 10.20.6.10 10.10.1.5 1521'
for _ in $(seq 50); do
	ip netns exec "$GW" conntrack -L -p tcp --dport 1521 2>/dev/null |
		grep -q ESTABLISHED && break
	sleep 0.1
done

# ---- the monitor ----

record=()
[ -n "${LAB_MONITOR_RECORD-}" ] && record=(--record "$D/capture.pcap")
ip netns exec "$GW" "$SANSO" monitor "$ZF" --state-dir "$LAB_DIR/state" \
	--drift-interval 3600 "${record[@]}" >"$D/mon.out" 2>"$D/mon.err" &
MON=$!
LAB_PIDS+=("$MON")


# Alerts of one type matching an extended regex (the file rotated by
# SIGUSR1 included).
alerts()
{
	cat "$ROTATED" "$ALERTS" 2>/dev/null | grep -E "\"type\":\"$1\"" |
		grep -E -- "${2-.}"
}

wait_alert()
{
	local i
	for i in $(seq $((${3:-10} * 10))); do
		alerts "$1" "${2-.}" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

if ! wait_for 'watching' "$D/mon.err" 10; then
	bad "the monitor did not start: $(cat "$D/mon.err")"
	finish
fi
grep -q 'receive buffer' "$D/mon.err" && ok "monitor up:" \
	"$(grep -m1 'conntrack receive buffer' "$D/mon.err")"


# The maintenance session, inside the window: one line every 0.2 s.
bg ip netns exec "$UP" bash -c 'while :; do echo tick; sleep 0.2; done |
	nc -s 203.0.113.10 10.10.1.5 22'
if wait_for tick "$D/maint.recv" 5; then
	ok "maintenance session up inside the window"
else
	bad "maintenance session did not connect"
fi

# ---- permitted, blocked, off hours ----

if echo hello | ip netns exec "$INET" timeout 5 nc -N -w 2 -s 10.30.5.5 \
	10.20.5.25 25; then
	ok "permitted flow mail-into-lgwan connects"
else
	bad "permitted flow mail-into-lgwan did not connect"
fi
if ip netns exec "$MYN" timeout 5 nc -z -w 1 -s 10.10.1.5 203.0.113.10 443
then
	bad "mynumber -> upstream got through the ruleset"
fi
if wait_alert blocked '"src_zone":"mynumber","dst_zone":"upstream".*"dport":443'
then
	ok "blocked mynumber -> upstream reported"
else
	bad "no blocked alert for mynumber -> upstream"
fi
# The gateway's input, per source zone: lgwan reaching an address of the
# gateway is logged as sanso:lgwan>gateway, and the alert names lgwan
# from that prefix, although the source address (upstream's) would name
# upstream.
if ip -n "$GW" addr add 10.255.0.1/32 dev lo &&
	ip -n "$LGW" addr add 198.51.100.77/32 dev eth0; then
	ip netns exec "$LGW" timeout 5 nc -z -w 1 -s 198.51.100.77 \
		10.255.0.1 22
	if wait_alert blocked '"src_zone":"lgwan","dst_zone":null.*"src":"198.51.100.77".*"dport":22.*lgwan -> the gateway'
	then
		ok "blocked lgwan -> the gateway reported, naming the zone"
	else
		bad "no blocked alert naming lgwan for its drop at the" \
			"gateway: $(alerts blocked '"dport":22')"
	fi
else
	bad "cannot add the gateway's address"
fi
if wait_alert off_hours '"flow":"renkei-to-juki".*reading the conntrack table'
then
	ok "off_hours for the session open before the monitor (dump)"
else
	bad "the session open before the monitor was not judged"
fi
# A new one from the same host: the alerter folds it into the first
# (same type, addresses and port within dedup_seconds) and writes it,
# counted, when the window closes or at exit: checked after SIGTERM.
if ! ip netns exec "$LGW" timeout 5 nc -z -w 2 -s 10.20.6.10 10.10.1.5 1521
then
	bad "renkei -> juki-db tcp/1521 did not connect"
fi

# ---- bypass: a rule inserted by hand ----

if ip netns exec "$GW" nft insert rule inet sanso forward ip saddr \
	10.30.5.5 ip daddr 10.10.1.5 tcp dport 5432 accept; then
	if ip netns exec "$INET" timeout 5 nc -z -w 2 -s 10.30.5.5 \
		10.10.1.5 5432; then
		if wait_alert cross_zone \
			'"severity":"critical".*"dst":"10.10.1.5","dport":5432'
		then
			ok "cross_zone (critical) for the bypass"
		else
			bad "no critical cross_zone alert for the bypass"
		fi
	else
		bad "the inserted rule did not let inet -> mynumber through"
	fi
	if wait_alert drift . 8; then
		ok "drift raised"
	else
		bad "no drift alert within the drift interval"
	fi
else
	bad "nft insert rule failed"
fi

# ---- SIGHUP with a broken file ----

cp "$ZF" "$D/zones.good"
printf 'version: 1\nsite: [broken\n' >"$ZF"
kill -HUP "$MON"
if wait_alert config_error . 5; then
	ok "config_error on a broken reload"
else
	bad "no config_error after SIGHUP with a broken file"
fi
cp "$D/zones.good" "$ZF"
# Still the old policy: a new attempt is judged with its zones.
ip netns exec "$LGW" timeout 5 nc -z -w 1 -s 10.20.6.10 203.0.113.10 80
if wait_alert blocked '"src_zone":"lgwan","dst_zone":"upstream"' 5; then
	ok "the old policy still judges after the rejected reload"
else
	bad "no blocked alert after the rejected reload"
fi
kill -HUP "$MON"
wait_for 'policy of .* in force' "$D/mon.err" 5 &&
	ok "SIGHUP with the good file reloads" ||
	bad "SIGHUP with the good file did not reload"

# ---- SIGUSR1: reopen the alert file, and nothing else ----

# As logrotate does: rename, then signal. The zone file is edited in
# between (a new site name); SIGUSR1 must not read it.
mv "$ALERTS" "$ROTATED"
sed 's/^site: lab-monitor$/site: lab-monitor-edited/' "$D/zones.good" >"$ZF"
reloads=$(grep -c 'SIGHUP: reloading' "$D/mon.err")
kill -USR1 "$MON"
wait_for 'SIGUSR1: reopening' "$D/mon.err" 5 ||
	bad "no trace of SIGUSR1 in the monitor's log"
# A new blocked source: an alert of its own, right away.
ip netns exec "$INET" timeout 5 nc -z -w 1 -s 10.30.5.5 203.0.113.10 8443
for _ in $(seq 50); do
	grep -q '"dport":8443' "$ALERTS" 2>/dev/null && break
	sleep 0.1
done
if grep -q '"type":"blocked".*"dport":8443' "$ALERTS" 2>/dev/null; then
	ok "after SIGUSR1 the next alert goes to a new file at the path"
	if grep -q '"site":"lab-monitor",' "$ALERTS"; then
		ok "SIGUSR1 left the policy alone (the edited site is not in force)"
	else
		bad "SIGUSR1 loaded the edited zone file: $(grep 8443 "$ALERTS")"
	fi
else
	bad "no alert in a new $ALERTS after SIGUSR1 ($(ls "$D"); rotated: $(grep -c 8443 "$ROTATED"))"
fi
if [ "$(grep -c 'SIGHUP: reloading' "$D/mon.err")" != "$reloads" ] ||
	grep -q 'lab-monitor-edited' "$D/mon.err"; then
	bad "SIGUSR1 reloaded the zone file"
fi
cp "$D/zones.good" "$ZF"

# ---- a flood of new connections ----

if [ -z "${LAB_MONITOR_RECORD-}" ]; then
	flood=30000
	# /dev/udp takes the route's source address: make it lgwan's.
	ip -n "$LGW" route replace default via "169.254.${LAB_ZK[lgwan]}.1" \
		dev eth0 src 10.20.5.25
	start=$(date +%s)
	ip netns exec "$LGW" timeout 60 bash -c '
		for ((i = 0; i < '"$flood"'; i++)); do
			echo x 2>/dev/null >/dev/udp/10.99.0.123/123
		done'
	ok "flood: $flood new UDP connections in $(($(date +%s) - start)) s"
	sleep 2
	if ! kill -0 "$MON" 2>/dev/null; then
		bad "the monitor died during the flood: $(tail -5 "$D/mon.err")"
		finish
	fi
	if alerts overrun >/dev/null; then
		if alerts overrun 'reading the conntrack table again' \
			>/dev/null; then
			ok "flood: overrun reported, table re-read"
		else
			bad "flood: overrun, no re-read: $(alerts overrun)"
		fi
	else
		ok "flood: no events lost"
	fi
	if alerts '[a-z_]+' '"dport":123' >/dev/null; then
		bad "the permitted flood raised alerts"
	fi
fi

# ---- the maintenance window ends ----

wait_s=$((win_end - $(date +%s) + 5))
[ "$wait_s" -gt 0 ] || wait_s=1
echo "waiting ${wait_s}s for the maintenance window to end"
if wait_alert maintenance_closed '"flow":"vendor-maintenance"' "$wait_s"
then
	ok "maintenance_closed raised"
	if alerts maintenance_closed '1 connection removed' >/dev/null; then
		ok "its session removed from conntrack"
	else
		bad "maintenance_closed: $(alerts maintenance_closed)"
	fi
else
	bad "no maintenance_closed alert after the window"
fi
sleep 1
s1=$(stat -c %s "$D/maint.recv")
sleep 2
s2=$(stat -c %s "$D/maint.recv")
if [ "$s1" = "$s2" ]; then
	ok "the maintenance session carries no more data"
else
	bad "the maintenance session still runs ($s1 -> $s2 bytes)"
fi
if ip netns exec "$GW" conntrack -L -p tcp --dport 22 2>/dev/null |
	grep -q ESTABLISHED; then
	bad "an established tcp/22 entry is still in conntrack"
fi

# ---- nothing for the permitted flow ----

if grep -E '"dport":25[,}]' "$ALERTS" >/dev/null ||
	grep -q 'mail-into-lgwan' "$ALERTS"; then
	bad "the permitted flow raised an alert: $(grep -E '"dport":25' \
		"$ALERTS")"
else
	ok "the permitted flow raised nothing"
fi

# ---- SIGTERM ----

kill -TERM "$MON"
wait "$MON"
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "SIGTERM: exit 0 ($(tail -1 "$D/mon.err"))"
else
	bad "SIGTERM: exit status $rc: $(tail -3 "$D/mon.err")"
fi
if alerts off_hours 'renkei-to-juki.*closed-now\\"","rule":[^,]*,"seq"' >/dev/null; then
	ok "off_hours for the new renkei-to-juki connection (folded)"
else
	bad "no off_hours alert for the new renkei-to-juki connection"
fi
if [ -n "${LAB_MONITOR_RECORD-}" ]; then
	cp "$D/capture.pcap" "$LAB_MONITOR_RECORD"
	cp "$D/zones.good" "${LAB_MONITOR_RECORD%.pcap}.yaml"
	echo "kept the capture in $LAB_MONITOR_RECORD"
fi

# ---- --user: CAP_NET_ADMIN only ----

if id nobody >/dev/null 2>&1; then
	mkdir -p "$D/nobody"
	chown nobody "$D/nobody"
	chmod 755 "$LAB_DIR" "$D"
	if ip netns exec "$GW" timeout 20 "$SANSO" monitor "$ZF" \
		--user nobody --once --state-dir "$D/nobody" \
		--jsonl "$D/nobody/alerts.jsonl" >"$D/nobody.out" \
		2>"$D/nobody.err" &&
		grep -q 'running as nobody' "$D/nobody.err"; then
		ok "--user nobody"
	else
		bad "--user nobody: $(cat "$D/nobody.err")"
	fi
	if grep -q 'cannot' "$D/nobody.err"; then
		bad "--user nobody lost access: $(grep cannot "$D/nobody.err")"
	fi
fi

# ---- a deployment the monitor cannot read ----

# The unit's case: an unprivileged monitor, deployments in a root 0700
# directory. Without them, the table found at start is the reference.
if id nobody >/dev/null 2>&1; then
	L=$D/locked
	if [ -d "$LAB_DIR/state" ]; then
		cp -a "$LAB_DIR/state" "$L"
	else
		mkdir -p "$L"
	fi
	chown root:root "$L"
	chmod 0700 "$L"
	mkdir -p "$D/nobody2"
	chown nobody "$D/nobody2"
	A2=$D/nobody2/alerts.jsonl
	ip netns exec "$GW" "$SANSO" monitor "$ZF" --user nobody \
		--state-dir "$L" --data-dir "$D/nobody2" --jsonl "$A2" \
		--drift-interval 1 --no-dnsguard >"$D/locked.out" \
		2>"$D/locked.err" &
	MON2=$!
	LAB_PIDS+=("$MON2")
	if wait_for 'watching' "$D/locked.err" 10 &&
		wait_for '"type":"config_error".*cannot read the deployment' \
			"$A2" 10; then
		ok "unreadable deployment: config_error ($(grep -o \
			'cannot read the deployment[^;]*' "$A2" | head -n 1))"
	else
		bad "unreadable deployment: no config_error: $(cat "$D/locked.err" "$A2" 2>/dev/null | tail -n 5)"
	fi
	sleep 1.5
	if ip netns exec "$GW" nft add rule inet sanso forward ip saddr \
		192.0.2.77 drop; then
		if wait_for '"type":"drift"' "$A2" 8; then
			ok "unreadable deployment: drift still detected"
		else
			bad "unreadable deployment: no drift alert: $(tail -n 3 "$A2")"
		fi
	else
		bad "nft add rule failed"
	fi
	if [ "$(grep -c '"type":"config_error"' "$A2")" -ne 1 ]; then
		bad "the same read error was said more than once"
	fi
	kill -TERM "$MON2"
	wait "$MON2"
fi

echo "alerts written:"
cat "$ROTATED" "$ALERTS" | sed 's/^/  /' | cut -c1-220
finish
