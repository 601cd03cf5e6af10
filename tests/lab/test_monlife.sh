#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The monitor on a gateway that lives: run as its unit runs it (no
# FILE, --user nobody, started as root), through changes, an unconfirmed
# apply and log rotation.
#
#   - several FQDN set elements armed and connected within one second
#     (the guard runs apart): no cross_zone;
#   - the update relay to an address outside its set: `blocked` naming
#     the flow and the set;
#   - a new deployment (apply) is judged by within 2 s, without a
#     signal: a flow it adds raises nothing, and no drift or
#     config_error is raised through the change;
#   - `apply --confirm 10` whose timer is killed: the monitor's
#     watchdog rolls it back within deadline + 10 s, `status` shows
#     nothing pending, the audit log has the rollback, and the monitor
#     follows the rollback;
#   - after the drop: SIGUSR1 with the alert file renamed (a directory
#     the user may write) gives a new file; the alert file in a
#     directory the user may not write is spooled, never lost.
#
# Needs root and network namespaces (tests/lab/lib.sh).
set -u

# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/results.sh
. "$(dirname "$0")/results.sh"
need_root monlife
for t in nft nc; do
	if ! command -v "$t" >/dev/null; then
		echo "monlife lab: SKIP: $t not installed"
		exit 0
	fi
done
if ! id nobody >/dev/null 2>&1; then
	echo "monlife lab: SKIP: no user nobody"
	exit 0
fi

lab_init || { bad "lab_init"; finish; }
D=$LAB_DIR/life
S=$LAB_DIR/state
mkdir -p "$D/data" "$D/log" "$S"
chmod 755 "$LAB_DIR" "$D"
chown nobody "$D/log"
ALERTS=$D/log/alerts.jsonl
RELAY=10.40.0.10

# zone FILE EXTRA-FLOW: the lab's zone file, with one more flow or not.
zone()
{
	cat >"$1" <<EOF
version: 1
site: lab-life
timezone: Asia/Tokyo
zones:
  dmz: { tier: dmz, interfaces: [ens7], networks: [10.40.0.0/24] }
  upstream: { tier: external, interfaces: [ens3], networks: [0.0.0.0/0] }
hosts:
  relay: { zone: dmz, address: $RELAY, role: update-relay }
  mirror: { zone: upstream, address: 203.0.113.80 }
fqdn_sets:
  msupdate: { names: ["*.windowsupdate.example"] }
flows:
  - { name: patch-up, from: relay, to: "fqdn:msupdate", services: [tcp/80] }
$2
gateway:
  log_group: 100
monitor:
  dedup_seconds: 1
EOF
}
zone "$D/a.yaml" ""
zone "$D/b.yaml" "  - { name: mirror-up, from: relay, to: mirror, services: [tcp/443] }"
for f in a b; do
	out=$("$SANSO" check "$D/$f.yaml" 2>&1) ||
		{ bad "zone file $f does not check: $out"; finish; }
done
lab_plan "$D/a.yaml" && lab_build || { bad "lab build"; finish; }
GW=$LAB_GW
DMZ=$(lab_ns dmz)
UP=$(lab_ns upstream)
apply()	# ARGS...
{
	ip netns exec "$GW" timeout 60 "$SANSO" apply "$@" --state-dir "$S"
}
apply "$D/a.yaml" >"$D/apply-a.out" 2>&1 ||
	{ bad "apply a: $(cat "$D/apply-a.out")"; finish; }

# As the package sets it up (root:sanso 2750): the monitor's user reads
# the deployments through the state directory's group, nothing more.
chgrp -R "$(id -gn nobody)" "$S" && chmod 2750 "$S" &&
	find "$S" -type d -exec chmod g+s {} + ||
	{ bad "cannot hand the state directory's group to nobody"; finish; }

addrs="198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4 198.51.100.5"
for a in $addrs 198.51.100.99 203.0.113.80; do
	ip -n "$UP" addr add "$a/32" dev eth0 2>/dev/null
done
ip -n "$DMZ" addr add 10.40.0.11/32 dev eth0 2>/dev/null
ip -n "$DMZ" addr add 10.40.0.12/32 dev eth0 2>/dev/null
bg()
{
	"$@" &
	LAB_PIDS+=("$!")
}
for a in $addrs 198.51.100.99; do
	bg ip netns exec "$UP" nc -lk "$a" 80 >/dev/null
done
bg ip netns exec "$UP" nc -lk 203.0.113.80 443 >/dev/null
sleep 0.5

# ---- the monitor, as the unit runs it ----

ip netns exec "$GW" "$SANSO" monitor --user nobody --no-dnsguard \
	--state-dir "$S" --data-dir "$D/data" --jsonl "$ALERTS" \
	--drift-interval 1 >"$D/mon.out" 2>"$D/mon.err" &
MON=$!
LAB_PIDS+=("$MON")
if ! wait_for 'watching' "$D/mon.err" 10; then
	bad "the monitor did not start: $(cat "$D/mon.err")"
	finish
fi
grep -q 'judging by deployment 1' "$D/mon.err" &&
	ok "without FILE the monitor judges by deployment 1" ||
	bad "the monitor does not say it judges by deployment 1"
grep -q 'watchdog of commit-confirmed' "$D/mon.err" &&
	ok "the watchdog started before the drop" ||
	bad "no watchdog: $(cat "$D/mon.err")"

alerts()	# TYPE [ERE]: the alerts of one type, rotated files included
{
	cat "$D"/log/alerts.jsonl* 2>/dev/null | grep -E "\"type\":\"$1\"" |
		grep -E -- "${2-.}"
}
wait_alert()	# TYPE ERE [SECS]
{
	local i
	for i in $(seq $((${3:-10} * 10))); do
		alerts "$1" "$2" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- item 2: fresh FQDN elements, connected at once ----

t0=$(date +%s%N)
for a in $addrs; do
	ip netns exec "$GW" nft add element inet sanso fqdn-msupdate-v4 \
		"{ $a timeout 300s }" &&
	ip netns exec "$DMZ" timeout 3 nc -z -w 1 -s "$RELAY" "$a" 80 ||
		bad "relay to $a (armed just before) did not connect"
done
t1=$(date +%s%N)
echo "  5 elements armed and connected in $(((t1 - t0) / 1000000)) ms"
# One alert to know the monitor has read past them: a drop outside the
# set, which must name the flow and the set (item 3).
ip netns exec "$DMZ" timeout 3 nc -z -w 1 -s "$RELAY" 198.51.100.99 80
if wait_alert blocked '"flow":"patch-up".*patch-up allows fqdn:msupdate; 198.51.100.99 is not in it' 5
then
	ok "blocked names the flow and set: $(alerts blocked 198.51.100.99 | sed 's/.*"message":"\([^"]*\)".*/\1/' | head -1)"
else
	bad "no blocked alert naming patch-up and fqdn:msupdate: $(alerts blocked)"
fi
if [ -z "$(alerts cross_zone)" ]; then
	ok "5 FQDN elements armed and used within a second: no cross_zone"
else
	bad "cross_zone for fresh FQDN elements: $(alerts cross_zone)"
fi

# ---- item 4: a new deployment, followed without a signal ----

if ip netns exec "$DMZ" timeout 3 nc -z -w 1 -s "$RELAY" 203.0.113.80 443
then
	bad "mirror-up got through before it was applied"
fi
apply "$D/b.yaml" >"$D/apply-b.out" 2>&1 || bad "apply b: $(cat "$D/apply-b.out")"
if wait_for 'deployment 2 in force' "$D/mon.err" 2; then
	ok "the monitor follows deployment 2 within 2 s"
else
	bad "the monitor did not follow deployment 2: $(tail -3 "$D/mon.err")"
fi
if ip netns exec "$DMZ" timeout 3 nc -z -w 1 -s "$RELAY" 203.0.113.80 443
then
	sleep 1.5
	[ -z "$(alerts cross_zone 203.0.113.80)" ] &&
		ok "a flow of the new deployment raises nothing" ||
		bad "judged by the old policy: $(alerts cross_zone 203.0.113.80)"
else
	bad "mirror-up does not connect after apply b"
fi

# ---- the watchdog: an unconfirmed apply whose timer is killed ----

apply "$D/a.yaml" --confirm 10 >"$D/apply-c.out" 2>&1 ||
	bad "apply --confirm 10: $(cat "$D/apply-c.out")"
start=$(date +%s)
tpid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$S/pending" 2>/dev/null)
deadline=$(sed -n 's/^deadline \([0-9]*\)$/\1/p' "$S/pending" 2>/dev/null)
[ -n "$deadline" ] || deadline=$((start + 10))
if [ -n "$tpid" ] && kill -9 "$tpid" 2>/dev/null; then
	ok "confirm timer (pid $tpid) killed"
else
	bad "no confirm timer to kill: $(cat "$S/pending" 2>/dev/null)"
fi
wait_for 'deployment 3 in force' "$D/mon.err" 3 ||
	bad "the monitor did not follow deployment 3"
rolled=no
while [ "$(date +%s)" -le $((deadline + 10)) ]; do
	if [ ! -e "$S/pending" ] && grep -q '"rollback"' "$S/audit.log"; then
		rolled=yes
		break
	fi
	sleep 0.5
done
if [ "$rolled" = yes ]; then
	ok "the watchdog rolled back by deadline + $(($(date +%s) - deadline)) s"
else
	bad "not rolled back within deadline + 10 s: $(cat "$S/pending" 2>/dev/null)"
fi
st=$(ip netns exec "$GW" "$SANSO" status --state-dir "$S" 2>&1)
if ! grep -qi 'pending\|rolls back' <<<"$st"; then
	ok "status shows nothing pending"
else
	bad "status still shows a pending deployment: $st"
fi
grep '"rollback"' "$S/audit.log" | grep -q watchdog &&
	ok "the audit log has the watchdog's rollback" ||
	bad "no watchdog rollback in the audit log: $(tail -2 "$S/audit.log")"
cur=$(cat "$S/current" 2>/dev/null)
if wait_for "deployment $cur in force \(was 3\)" "$D/mon.err" 3; then
	ok "the monitor follows the rollback to deployment $cur"
else
	bad "the monitor did not follow the rollback: $(tail -3 "$D/mon.err")"
fi
ip netns exec "$DMZ" timeout 3 nc -z -w 1 -s "$RELAY" 203.0.113.80 443 ||
	bad "mirror-up does not connect after the rollback to b"
sleep 1.5
if [ -z "$(alerts drift)$(alerts config_error)$(alerts cross_zone)" ]; then
	ok "no drift, config_error or cross_zone through apply, watchdog and rollback"
else
	bad "false alarms: $(alerts drift)$(alerts config_error)$(alerts cross_zone)"
fi

# ---- item 5: after the drop, rotation and the spool ----

mv "$ALERTS" "$ALERTS.1"
kill -USR1 "$MON"
wait_for 'SIGUSR1' "$D/mon.err" 5
ip netns exec "$DMZ" timeout 3 nc -z -w 1 -s 10.40.0.11 198.51.100.99 80
for _ in $(seq 50); do
	grep -q '10.40.0.11' "$ALERTS" 2>/dev/null && break
	sleep 0.1
done
if grep -q '"type":"blocked".*10.40.0.11' "$ALERTS" 2>/dev/null; then
	ok "after SIGUSR1 the unprivileged monitor writes a new alert file"
else
	bad "no alert in the new file after SIGUSR1: $(tail -3 "$D/mon.err")"
fi
# The file as root would leave it: its directory is root's now, so the
# user cannot create the file after the rotation. The alert waits in the
# sink's queue, and SIGTERM puts it in the spool: never lost.
chown root "$D/log"
chmod 755 "$D/log"
mv "$ALERTS" "$ALERTS.2"
kill -USR1 "$MON"
sleep 0.5
ip netns exec "$DMZ" timeout 3 nc -z -w 1 -s 10.40.0.12 198.51.100.99 80
sleep 1.5
kill -TERM "$MON"
wait "$MON"
rc=$?
[ "$rc" -eq 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc"
if cat "$D/data/spool/"* 2>/dev/null | grep -q 10.40.0.12 &&
	! grep -q 'alert lost' "$D/mon.err"; then
	ok "an alert no file takes is spooled by the unprivileged monitor, not lost"
else
	bad "not spooled: $(ls -l "$D/data/spool" 2>&1 | tail -2); $(grep 'alert lost' "$D/mon.err" | head -2)"
fi
sleep 0.5
wpid=$(sed -n 's/.*watchdog of commit-confirmed.*(pid \([0-9]*\)).*/\1/p' \
	"$D/mon.err")
if [ -n "$wpid" ] && ! lab_running "$wpid"; then
	ok "the watchdog ended with the monitor"
else
	bad "the watchdog (pid ${wpid:-?}) outlived the monitor"
fi
finish
