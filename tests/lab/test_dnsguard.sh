#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The DNS guard end to end (SPEC §6): a gateway namespace running the
# ruleset and `sanso dnsguard`, a DMZ relay that asks it with dig and
# connects through the gateway with the answers, and an upstream
# namespace with a real dnsmasq serving test names with short TTLs, a
# CNAME chain, a wildcard domain, several A and AAAA records and a
# rebinding answer. Then `sanso resolve --once`.
#
# Asserts: an allowed name's address opens on tcp/443 right after the
# answer (the set update came before it) and another address stays
# closed; names no set allows are REFUSED; CNAME chains and wildcards
# are credited to the name asked; a set only an IPv4 relay uses gets
# NODATA for AAAA and never an IPv6 element; a private answer is passed
# on but never added; an element expires after TTL + grace when the name is no
# longer asked; with dnsmasq stopped the last addresses stay usable and
# fqdn_stale is raised; a set emptied behind the guard's back is
# re-armed; the learned elements survive a restart through the state
# file; resolve --once fills the sets from the exact names.
#
# Needs root, network namespaces, dig (Debian dnsutils), dnsmasq
# (Debian dnsmasq-base). SANSO names the sanso binary. Prints each
# failure and a final "N passed, N failed" line.

set -u

. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/lab/results.sh
. "$(dirname "$0")/results.sh"

# Numbered, unlike the other lab tests.
ok()
{
	pass=$((pass + 1))
	echo "ok $pass: $1"
}

check()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		bad "$1: expected \"$2\", got \"$3\""
	fi
}

need_root dnsguard
for t in dig dnsmasq nft; do
	if ! command -v "$t" >/dev/null; then
		echo "dnsguard lab: $t not found (contrib/install-deps.sh:" \
			"dnsutils, dnsmasq-base, nftables)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

lab_init || { echo "0 passed, 1 failed"; exit 1; }
case $SANSO in
/*) ;;
*) SANSO=$PWD/$SANSO ;;
esac
if ! "$SANSO" dnsguard --help >/dev/null 2>&1; then
	echo "dnsguard lab: $SANSO has no dnsguard command"
	echo "0 passed, 1 failed"
	exit 1
fi

# Addresses: the guard answers on 10.40.0.1 (gateway, DMZ side); the
# relay is 10.40.0.10; dnsmasq listens on 198.51.100.53 in the upstream
# namespace, which also owns the web servers below (TEST-NET ranges,
# nothing leaves the namespaces).
GUARD=10.40.0.1
RELAY=10.40.0.10
UPDNS=198.51.100.53
ZONE=$LAB_DIR/zone.yaml
STATE=$LAB_DIR/state

cat >"$ZONE" <<EOF
version: 1
site: dnslab
zones:
  dmz:
    tier: dmz
    interfaces: [ens7]
    networks: [10.40.0.0/24, "fd00:40::/64"]
  upstream:
    tier: external
    interfaces: [ens3]
    networks: [0.0.0.0/0, "::/0"]
hosts:
  relay: { zone: dmz, address: $RELAY, role: update-relay }
  relay6: { zone: dmz, address: "fd00:40::10", role: update-relay }
  relay4: { zone: dmz, address: 10.40.0.11, role: update-relay }
fqdn_sets:
  updates:
    names: [update.example.test, "*.wild.example.test", alias.example.test,
            rebind.example.test, multi.example.test, short.example.test]
    min_ttl: 1
    max_ttl: 3600
    grace: 2
    max_stale: 600
  v4only:
    names: [v4only.example.test]
flows:
  - name: relay-out
    from: [relay, relay6]
    to: fqdn:updates
    services: [tcp/443]
  - name: relay4-out
    from: relay4
    to: fqdn:v4only
    services: [tcp/443]
gateway:
  dns:
    upstream: ["$UPDNS"]
    listen: ["$GUARD"]
monitor:
  alerts:
    - jsonl: $LAB_DIR/alerts.jsonl
  dedup_seconds: 1
EOF

cat >"$LAB_DIR/dnsmasq.conf" <<EOF
no-resolv
no-hosts
no-poll
listen-address=$UPDNS
bind-interfaces
user=root
group=root
local=/example.test/
local-ttl=5
host-record=update.example.test,203.0.113.10,2001:db8:100::10,5
host-record=multi.example.test,203.0.113.11,5
host-record=multi.example.test,203.0.113.12,5
host-record=target.example.test,203.0.113.13,5
cname=alias.example.test,target.example.test,5
address=/wild.example.test/203.0.113.20
host-record=rebind.example.test,10.99.0.5,5
host-record=short.example.test,203.0.113.40,1
host-record=other.example.test,203.0.113.30,5
host-record=v4only.example.test,203.0.113.50,2001:db8:100::50,5
EOF

if ! { lab_plan "$ZONE" && lab_build && lab_load "$ZONE"; }; then
	bad "building the lab"
	finish
fi
UP=$(lab_ns upstream)
DMZ=$(lab_ns dmz)
GW=$LAB_GW
ip -n "$GW" addr add "$GUARD/32" dev ens7 || bad "guard address"
for a in $UPDNS 203.0.113.10 203.0.113.11 203.0.113.12 203.0.113.13 \
	203.0.113.20 203.0.113.30 203.0.113.40; do
	ip -n "$UP" addr add "$a/32" dev eth0
done
printf 'tcp 0.0.0.0 443\n' >"$LAB_DIR/listen.web"
lab_listen "$UP" "$LAB_DIR/listen.web" || bad "web listeners"

DNSMASQ_PID=
start_dnsmasq()
{
	ip netns exec "$UP" dnsmasq -k --conf-file="$LAB_DIR/dnsmasq.conf" \
		2>>"$LAB_DIR/dnsmasq.log" &
	DNSMASQ_PID=$!
	LAB_PIDS+=("$DNSMASQ_PID")
	local i
	for i in $(seq 50); do
		ip netns exec "$GW" dig +tries=1 +time=1 @"$UPDNS" \
			update.example.test >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

stop_dnsmasq()
{
	kill "$DNSMASQ_PID" 2>/dev/null
	wait "$DNSMASQ_PID" 2>/dev/null
}

GUARD_PID=
start_guard()
{
	ip netns exec "$GW" "$SANSO" dnsguard "$ZONE" --state-dir "$STATE" \
		-v 2>>"$LAB_DIR/guard.log" &
	GUARD_PID=$!
	LAB_PIDS+=("$GUARD_PID")
	local i
	for i in $(seq 50); do
		[ -n "$(q status nonexistent.example.test)" ] && return 0
		sleep 0.1
	done
	return 1
}

stop_guard()
{
	kill -TERM "$GUARD_PID" 2>/dev/null
	wait "$GUARD_PID" 2>/dev/null
}

# q status|answer NAME [TYPE] [dig options]: what the relay gets.
q()
{
	local what=$1 name=$2 type=${3:-A}
	shift 3 2>/dev/null || shift $#
	local out
	out=$(ip netns exec "$DMZ" dig +tries=1 +time=2 -b "$RELAY" \
		@"$GUARD" "$name" "$type" +noall +comments +answer "$@" \
		2>/dev/null)
	case $what in
	status)
		sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out" | head -n1
		;;
	answer)
		awk -v t="$type" '$1 !~ /^;/ && $4 == t { print $5 }' \
			<<<"$out" | sort | tr '\n' ' ' | sed 's/ $//'
		;;
	ttl)
		awk -v t="$type" '$1 !~ /^;/ && $4 == t { print $2; exit }' \
			<<<"$out"
		;;
	cname)
		awk '$1 !~ /^;/ && $4 == "CNAME" { print $5 }' <<<"$out"
		;;
	esac
}

# The relay's tcp/443 to ADDR through the gateway: open or closed.
probe()
{
	echo "1 tcp $RELAY $1 443" | ip netns exec "$DMZ" \
		"$LAB_TOOLS/labprobe" -t 1500 2>/dev/null | awk '{ print $2 }'
}

# in_set_of SET ADDR: whether fqdn-SET-v4 (-v6) holds ADDR.
in_set_of()
{
	local fam=v4
	case $2 in *:*) fam=v6 ;; esac
	if ip netns exec "$GW" nft list set inet sanso "fqdn-$1-$fam" \
		2>/dev/null | grep -qw -- "$2"; then
		echo yes
	else
		echo no
	fi
}

in_set()
{
	in_set_of updates "$1"
}

start_dnsmasq || bad "dnsmasq did not start: $(cat "$LAB_DIR/dnsmasq.log")"
check "dnsmasq answers from the gateway" "203.0.113.10" \
	"$(ip netns exec "$GW" dig +short @"$UPDNS" update.example.test A)"
check "closed before any answer" closed "$(probe 203.0.113.10)"

start_guard || { bad "the guard did not start: $(cat "$LAB_DIR/guard.log")";
		 finish; }

# An allowed name: the answer comes after the set update, so the
# connection right after it opens.
check "update.example.test A" "203.0.113.10" \
	"$(q answer update.example.test A)"
check "tcp/443 to the answered address" open "$(probe 203.0.113.10)"
check "another address stays closed" closed "$(probe 203.0.113.30)"
check "update.example.test AAAA" "2001:db8:100::10" \
	"$(q answer update.example.test AAAA)"
check "AAAA in the v6 set" yes "$(in_set 2001:db8:100::10)"
check "over TCP" "203.0.113.10" "$(q answer update.example.test A +tcp)"

# A set that only an IPv4 relay uses: AAAA gets NODATA at once, so the
# relay does not try an address the gateway drops; A is answered and
# armed as usual, and no IPv6 element is ever added.
check "IPv4-only set: AAAA status" NOERROR \
	"$(q status v4only.example.test AAAA)"
check "IPv4-only set: AAAA has no records" "" \
	"$(q answer v4only.example.test AAAA)"
check "IPv4-only set: A" 203.0.113.50 "$(q answer v4only.example.test A)"
check "IPv4-only set: A armed in -v4" yes \
	"$(in_set_of v4only 203.0.113.50)"
check "IPv4-only set: nothing in -v6" no \
	"$(in_set_of v4only 2001:db8:100::50)"

# Several addresses.
check "multi.example.test A" "203.0.113.11 203.0.113.12" \
	"$(q answer multi.example.test A)"
check "first of several open" open "$(probe 203.0.113.11)"
check "second of several open" open "$(probe 203.0.113.12)"

# Names no set allows: REFUSED, whatever upstream knows.
check "unlisted name refused" REFUSED "$(q status other.example.test)"
check "unlisted name's address closed" closed "$(probe 203.0.113.30)"
check "wildcard's bare name refused" REFUSED \
	"$(q status wild.example.test)"
check "ANY refused" REFUSED "$(q status update.example.test ANY)"

# A wildcard: any depth below it.
check "a.b.wild.example.test A" "203.0.113.20" \
	"$(q answer a.b.wild.example.test A)"
check "wildcard answer open" open "$(probe 203.0.113.20)"

# A CNAME chain, credited to the name asked.
check "alias CNAME" "target.example.test." \
	"$(q cname alias.example.test A)"
check "alias A" "203.0.113.13" "$(q answer alias.example.test A)"
check "CNAME target's address open" open "$(probe 203.0.113.13)"

# Rebinding: the answer is passed on, the address never added.
check "rebinding answer passed on" "10.99.0.5" \
	"$(q answer rebind.example.test A)"
check "rebinding address not in the set" no "$(in_set 10.99.0.5)"

# Expiry: TTL 1, min_ttl 1, grace 2: gone 3 s after the last answer.
check "short.example.test A" "203.0.113.40" \
	"$(q answer short.example.test A)"
check "short-lived element open" open "$(probe 203.0.113.40)"
sleep 4
check "element expired after TTL + grace" no "$(in_set 203.0.113.40)"
check "expired address closed" closed "$(probe 203.0.113.40)"

# Upstream down: the last good answer is served (TTL 30) and re-armed;
# fqdn_stale is raised. update.example.test's 5 s TTL has run out.
stop_dnsmasq
sleep 1
check "stale answer while upstream is down" "203.0.113.10" \
	"$(q answer update.example.test A)"
check "stale answer's TTL" 30 "$(q ttl update.example.test A)"
check "stale address still open" open "$(probe 203.0.113.10)"
found=no
for _ in $(seq 30); do
	if grep -q '"type":"fqdn_stale"' "$LAB_DIR/alerts.jsonl" \
		2>/dev/null; then
		found=jsonl
		break
	fi
	sleep 0.1
done
if [ "$found" = no ] && grep -q 'alert fqdn_stale' "$LAB_DIR/guard.log"; then
	found=log
fi
check "fqdn_stale alert (alerts.jsonl)" jsonl "$found"
check "never-answered name fails while down" SERVFAIL \
	"$(q status x.wild.example.test)"

# Someone empties the set behind the guard's back (nft -f of a compiled
# ruleset does): the guard notices the ruleset generation and re-arms.
ip netns exec "$GW" nft flush set inet sanso fqdn-updates-v4
check "set emptied" no "$(in_set 203.0.113.10)"
sleep 2.5
check "re-armed after the set was emptied" yes "$(in_set 203.0.113.10)"

# SIGUSR1 (logrotate): the alert file is reopened at its path, and the
# zone file, edited meanwhile, is not read.
cp "$ZONE" "$ZONE.orig"
sed -i 's/ multi.example.test,//' "$ZONE"
mv "$LAB_DIR/alerts.jsonl" "$LAB_DIR/alerts.jsonl.1" 2>/dev/null
kill -USR1 "$GUARD_PID"
for _ in $(seq 30); do
	[ -e "$LAB_DIR/alerts.jsonl" ] && break
	sleep 0.1
done
check "alert file opened again at its path on SIGUSR1" yes \
	"$([ -e "$LAB_DIR/alerts.jsonl" ] && echo yes || echo no)"
check "zone file not read on SIGUSR1" NOERROR \
	"$(q status multi.example.test)"
cp "$ZONE.orig" "$ZONE"

# SIGHUP: a name taken out of the zone file is refused at once, on the
# same sockets.
cp "$ZONE" "$ZONE.orig"
sed -i 's/ multi.example.test,//' "$ZONE"
check "multi allowed before the reload" NOERROR \
	"$(q status multi.example.test)"
kill -HUP "$GUARD_PID"
for _ in $(seq 30); do
	grep -q 'reloaded' "$LAB_DIR/guard.log" && break
	sleep 0.1
done
check "removed name refused after SIGHUP" REFUSED \
	"$(q status multi.example.test)"
check "kept name still answered after SIGHUP" "203.0.113.10" \
	"$(q answer update.example.test A)"
cp "$ZONE.orig" "$ZONE"

# A restart: the state file carries the elements over.
stop_guard
mode=$(stat -c %a "$STATE/fqdn.state" 2>/dev/null)
check "fqdn.state written, mode 600" 600 "$mode"
if grep -q '^updates update.example.test 203.0.113.10 ' \
	"$STATE/fqdn.state" 2>/dev/null; then
	ok "fqdn.state holds update.example.test"
else
	bad "fqdn.state lacks update.example.test"
fi
ip netns exec "$GW" nft flush set inet sanso fqdn-updates-v4
start_dnsmasq || bad "dnsmasq did not start again"
start_guard || bad "the guard did not start again"
# update.example.test's element was re-armed by the stale answer (30 s
# + grace); the others have expired by now.
check "restored at start, before any answer" yes "$(in_set 203.0.113.10)"
stop_guard

# Prefill: resolve --once fills the sets from the exact names.
ip netns exec "$GW" nft flush set inet sanso fqdn-updates-v4
ip netns exec "$GW" nft flush set inet sanso fqdn-updates-v6
rm -f "$STATE/fqdn.state"
out=$(ip netns exec "$GW" "$SANSO" resolve "$ZONE" --once \
	--state-dir "$STATE" 2>"$LAB_DIR/resolve.err")
check "resolve --once exit status" 0 "$?"
check "resolve: multi" "multi.example.test A: 203.0.113.11 203.0.113.12" \
	"$(grep '^multi.example.test A:' <<<"$out")"
check "resolve: alias" "alias.example.test A: 203.0.113.13" \
	"$(grep '^alias.example.test A:' <<<"$out")"
check "resolve: rebinding refused" yes \
	"$(grep -q '^rebind.example.test A: 10.99.0.5 (1 refused' \
		<<<"$out" && echo yes)"
check "resolve: wildcards are not resolved" "" \
	"$(grep wild <<<"$out")"
check "resolve: IPv4-only set asked for A only" \
	"v4only.example.test A: 203.0.113.50" "$(grep '^v4only' <<<"$out")"
check "resolve: element in the set" yes "$(in_set 203.0.113.12)"
check "resolve: AAAA in the set" yes "$(in_set 2001:db8:100::10)"
check "resolve: no rebinding element" no "$(in_set 10.99.0.5)"
check "resolve: opens" open "$(probe 203.0.113.13)"

# The monitor runs the same guard in its own loop, and at each drift
# check compares the FQDN sets with what was learned (SECURITY F22).
ip netns exec "$GW" nft flush set inet sanso fqdn-updates-v4
start_monitor()
{
	ip netns exec "$GW" "$SANSO" monitor "$ZONE" --state-dir "$STATE" \
		--drift-interval 1 --jsonl "$1" 2>>"$LAB_DIR/monitor.log" &
	MONITOR_PID=$!
	LAB_PIDS+=("$MONITOR_PID")
	for _ in $(seq 50); do
		[ -n "$(q status nonexistent.example.test)" ] && break
		sleep 0.1
	done
}

# fqdn_drift FILE: the drift alerts about set elements in FILE.
fqdn_drift()
{
	grep '"type":"drift"' "$1" 2>/dev/null | grep 'set fqdn-'
}

MJ=$LAB_DIR/monitor.jsonl
start_monitor "$MJ"
check "monitor: its guard answers a listed name" "203.0.113.11 203.0.113.12" \
	"$(q answer multi.example.test)"
check "monitor: its guard added the answer" yes "$(in_set 203.0.113.11)"
check "monitor: its guard refuses an unlisted name" REFUSED \
	"$(q status www.not-listed.test)"
check "monitor: says the elements are checked" yes \
	"$(grep -q 'FQDN set elements are checked for drift' \
		"$LAB_DIR/monitor.log" && echo yes)"
ip netns exec "$GW" nft add element inet sanso fqdn-updates-v4 \
	"{ 203.0.113.99 }"
for _ in $(seq 50); do
	[ -n "$(fqdn_drift "$MJ")" ] && break
	sleep 0.1
done
sleep 2.5			# more checks: still one alert
check "monitor: one drift alert for an element added by hand" 1 \
	"$(fqdn_drift "$MJ" | wc -l)"
check "monitor: the alert names the set and the address" yes \
	"$(fqdn_drift "$MJ" | grep -q \
		'set fqdn-updates-v4 holds 203.0.113.99,' && echo yes)"
# What the guard learned (in the sets for 7 seconds, over several
# checks): no alert.
check "monitor: learned elements raise none" "" \
	"$(fqdn_drift "$MJ" | grep -v 203.0.113.99)"
# A restart: what the sets hold was learned before, saved at exit and
# restored.  (Answers live 7 seconds here: asked again just before.)
ip netns exec "$GW" nft delete element inet sanso fqdn-updates-v4 \
	"{ 203.0.113.99 }"
q answer multi.example.test >/dev/null
kill -TERM "$MONITOR_PID" 2>/dev/null
wait "$MONITOR_PID" 2>/dev/null
check "monitor: exits 0 on SIGTERM" 0 "$?"
MJ2=$LAB_DIR/monitor2.jsonl
start_monitor "$MJ2"
check "monitor restarted: the sets hold what was learned" yes \
	"$(in_set 203.0.113.11)"
sleep 3
check "monitor restarted: no drift for learned elements" "" \
	"$(fqdn_drift "$MJ2")"
kill -TERM "$MONITOR_PID" 2>/dev/null
wait "$MONITOR_PID" 2>/dev/null

# A looping resolve beside the monitor: what it arms is not drift
# either, since it saves fqdn.state after each lookup.  The guard starts
# knowing nothing, so only that file accounts for resolve's elements.
rm -f "$STATE/fqdn.state"
# Every FQDN set: what an earlier step armed would otherwise still be
# there, unknown to the new guard, until its timeout.
for set in $(ip netns exec "$GW" nft list table inet sanso |
	     sed -n 's/^[[:space:]]*set \(fqdn-[a-z0-9-]*\) {.*/\1/p'); do
	ip netns exec "$GW" nft flush set inet sanso "$set"
done
MJ3=$LAB_DIR/monitor3.jsonl
start_monitor "$MJ3"
ip netns exec "$GW" "$SANSO" resolve "$ZONE" --state-dir "$STATE" \
	2>>"$LAB_DIR/resolve-loop.err" &
RESOLVE_PID=$!
LAB_PIDS+=("$RESOLVE_PID")
for _ in $(seq 50); do
	[ "$(in_set 203.0.113.13)" = yes ] && break
	sleep 0.1
done
check "looping resolve: armed its names" "yes yes" \
	"$(in_set 203.0.113.13) $(in_set 2001:db8:100::10)"
sleep 3
check "looping resolve: no drift for what it armed" "" \
	"$(fqdn_drift "$MJ3")"
kill -TERM "$RESOLVE_PID" 2>/dev/null
wait "$RESOLVE_PID" 2>/dev/null
kill -TERM "$MONITOR_PID" 2>/dev/null
wait "$MONITOR_PID" 2>/dev/null

if [ "$fail" -ne 0 ]; then
	echo "--- monitor log"
	tail -n 20 "$LAB_DIR/monitor.log"
	echo "--- guard log"
	tail -n 40 "$LAB_DIR/guard.log"
	echo "--- resolve"
	echo "$out"
	cat "$LAB_DIR/resolve.err"
fi
finish
