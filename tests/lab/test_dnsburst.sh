#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The DNS guard under a burst: a relay sends more queries at once than
# the guard lets wait for upstream (1024), to an upstream that never
# answers. Every query must get an answer, SERVFAIL, within the upstream
# attempts' time: those over the limit at once, the others when their
# attempts have timed out. Silence would leave the relay retrying.
#
# Needs root, network namespaces, python3. SANSO names the sanso binary.
# Prints each failure and a final "N passed, N failed" line.

set -u

. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/lab/results.sh
. "$(dirname "$0")/results.sh"

need_root dnsburst
if ! command -v python3 >/dev/null; then
	echo "dnsburst lab: python3 not found"
	echo "0 passed, 1 failed"
	exit 1
fi
lab_init || { echo "0 passed, 1 failed"; exit 1; }
BURST=$LAB_ROOT/tests/tools/dnsburst.py

GUARD=10.40.0.1
RELAY=10.40.0.10
UPDNS=198.51.100.53
ZONE=$LAB_DIR/zone.yaml

cat >"$ZONE" <<EOF2
version: 1
site: burstlab
zones:
  dmz:
    tier: dmz
    interfaces: [ens7]
    networks: [10.40.0.0/24]
  upstream:
    tier: external
    interfaces: [ens3]
    networks: [0.0.0.0/0, "::/0"]
hosts:
  relay: { zone: dmz, address: $RELAY, role: update-relay }
fqdn_sets:
  updates:
    names: ["*.example.test"]
flows:
  - name: relay-out
    from: relay
    to: fqdn:updates
    services: [tcp/443]
gateway:
  dns:
    upstream: ["$UPDNS"]
    listen: ["$GUARD"]
EOF2

if ! { lab_plan "$ZONE" && lab_build && lab_load "$ZONE"; }; then
	bad "building the lab"
	finish
fi
UP=$(lab_ns upstream)
DMZ=$(lab_ns dmz)
GW=$LAB_GW
ip -n "$GW" addr add "$GUARD/32" dev ens7 || bad "guard address"
ip -n "$UP" addr add "$UPDNS/32" dev eth0 || bad "upstream address"

# An upstream that takes every query and never answers (no ICMP error
# either, which would fail the attempt at once).
ip netns exec "$UP" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
while True:
    s.recv(4096)
' "$UPDNS" 2>>"$LAB_DIR/upstream.log" &
LAB_PIDS+=("$!")

ip netns exec "$GW" "$SANSO" dnsguard "$ZONE" --state-dir "$LAB_DIR/state" \
	2>>"$LAB_DIR/guard.log" &
GUARD_PID=$!
LAB_PIDS+=("$GUARD_PID")
up=no
for _ in $(seq 50); do
	if ip netns exec "$DMZ" dig +tries=1 +time=1 -b "$RELAY" @"$GUARD" \
		not.listed.test 2>/dev/null | grep -q REFUSED; then
		up=yes
		break
	fi
	sleep 0.1
done
[ "$up" = yes ] || { bad "the guard did not start: $(cat "$LAB_DIR/guard.log")"; finish; }

# burst COUNT: the dnsburst line for COUNT queries (of one name: the
# guard forwards each on its own).
burst()
{
	ip netns exec "$DMZ" python3 "$BURST" -b "$RELAY" -w 6 "$GUARD" \
		x.example.test "$1"
}

out=$(burst 3000)
echo "burst of 3000: $out"
case $out in
*" silent 0 "*) ok "3000 queries, 1024 of them waiting: every one answered" ;;
*) bad "3000 queries, 1024 of them waiting: $out" ;;
esac
check_rc()
{
	local want=$1 got
	got=$(sed -n "s/.* $2 \([0-9]*\).*/\1/p" <<<"$out")
	if [ "$got" = "$want" ]; then
		ok "$3"
	else
		bad "$3: expected $want, got $got"
	fi
}
check_rc 3000 servfail "every answer is SERVFAIL"
# Those over the limit at once, not after the upstream attempts (1 s).
early=$(sed -n 's/.* early \([0-9]*\).*/\1/p' <<<"$out")
if [ "${early:-0}" -ge 1976 ]; then
	ok "the 1976 over the limit answered within 0.5 s ($early)"
else
	bad "the 1976 over the limit answered within 0.5 s: only ${early:-0}"
fi

# The guard is still itself afterwards.
if ip netns exec "$DMZ" dig +tries=1 +time=2 -b "$RELAY" @"$GUARD" \
	not.listed.test 2>/dev/null | grep -q REFUSED; then
	ok "the guard answers after the burst"
else
	bad "the guard does not answer after the burst"
fi
if ! lab_running "$GUARD_PID"; then
	bad "the guard died: $(tail -n 5 "$LAB_DIR/guard.log")"
fi
if [ "$fail" -ne 0 ]; then
	echo "--- guard log"
	tail -n 20 "$LAB_DIR/guard.log"
fi
finish
