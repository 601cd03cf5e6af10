#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The drop log's limits, end to end (SECURITY.md F8): the ruleset limits
# its drop logs per source address first and per chain second, and logs
# the gateway's input per source zone, so a flood cannot hide another
# host's drop from the monitor.
#
#   - while one host of zone a floods a -> b and the gateway, and a host
#     of upstream floods the gateway, a single attempt of another host of
#     a, to b and to the gateway, is still `blocked`, naming zone a;
#   - the flooding hosts are logged within their own allowance (burst 5,
#     then 1 a second), not at the rate they send;
#   - the per-source sets hold the sources, and neither `sanso status`
#     nor the monitor's drift check counts them as drift.
#
# Needs root and network namespaces (tests/lab/lib.sh). SANSO names the
# binary. Prints a final "N passed, N failed" line.

set -u

# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/lab/results.sh
. "$(dirname "$0")/results.sh"
need_root lograte
for t in nft nc; do
	if ! command -v "$t" >/dev/null; then
		echo "lograte lab: SKIP: $t not installed" \
			"(contrib/install-deps.sh)"
		exit 0
	fi
done

lab_init || { bad "lab_init"; finish; }
FLOOD=$LAB_TOOLS/benchflood
if [ ! -x "$FLOOD" ]; then
	bad "$FLOOD missing (make tools)"
	finish
fi
D=$LAB_DIR/lograte
mkdir -p "$D"
ZF=$D/zones.yaml
ALERTS=$D/alerts.jsonl
# An address of the gateway's own, outside every zone's link: what the
# zones reach through their default route.
GWADDR=10.0.0.1
SECS=6

# dedup_seconds 0: every logged drop is an alert of its own, so the
# alerts count the log lines.
cat >"$ZF" <<EOF
# Written by tests/lab/test_lograte.sh.
version: 1
site: lab-lograte
timezone: Asia/Tokyo
zones:
  a: { tier: lgwan, interfaces: [ens4], networks: [10.1.0.0/16] }
  b: { tier: lgwan, interfaces: [ens5], networks: [10.2.0.0/16] }
  upstream: { tier: external, interfaces: [ens3], networks: [0.0.0.0/0] }
hosts:
  noisy: { zone: a, address: 10.1.0.5 }
  quiet: { zone: a, address: 10.1.0.6 }
  target: { zone: b, address: 10.2.0.9 }
  scanner: { zone: upstream, address: 203.0.113.66 }
flows:
  - { name: a-web, from: a, to: target, services: [tcp/80] }
gateway:
  log_group: 100
monitor:
  alerts:
    - jsonl: $ALERTS
  dedup_seconds: 0
EOF

if ! out=$("$SANSO" check "$ZF" 2>&1); then
	bad "the lab's zone file does not check: $out"
	finish
fi
if ! { lab_plan "$ZF" && lab_build && lab_load "$ZF"; }; then
	bad "lab build"
	finish
fi
GW=$LAB_GW
A=$(lab_ns a)
UP=$(lab_ns upstream)
ip -n "$GW" addr add "$GWADDR/32" dev lo || { bad "gateway address"; finish; }

ip netns exec "$GW" "$SANSO" monitor "$ZF" --state-dir "$LAB_DIR/state" \
	--drift-interval 1 >"$D/mon.out" 2>"$D/mon.err" &
MON=$!
LAB_PIDS+=("$MON")


alerts()
{
	grep -E "\"type\":\"$1\"" "$ALERTS" 2>/dev/null | grep -E -- "${2-.}"
}

wait_alert()
{
	local _
	for _ in $(seq $((${3:-10} * 10))); do
		alerts "$1" "${2-.}" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

if ! wait_for 'watching' "$D/mon.err" 10; then
	bad "the monitor did not start: $(cat "$D/mon.err")"
	finish
fi

rx()
{
	ip -n "$GW" -s -j link show dev "$1" |
		sed -n 's/.*"rx":{[^}]*"packets":\([0-9]*\).*/\1/p'
}

# ---- the floods ----

rx_a=$(rx ens4)
rx_up=$(rx ens3)
ip netns exec "$A" "$FLOOD" udp 10.1.0.5 10.2.0.9 9999 "$SECS" \
	>"$D/flood-ab" 2>&1 &
LAB_PIDS+=("$!")
ip netns exec "$A" "$FLOOD" udp 10.1.0.5 "$GWADDR" 9999 "$SECS" \
	>"$D/flood-agw" 2>&1 &
LAB_PIDS+=("$!")
ip netns exec "$UP" "$FLOOD" udp 203.0.113.66 "$GWADDR" 9999 "$SECS" \
	>"$D/flood-upgw" 2>&1 &
LAB_PIDS+=("$!")
# Long enough for every shared allowance of the old ruleset (burst 20)
# to be gone.
sleep 2

# ---- one attempt each of another host, during the floods ----

ip netns exec "$A" timeout 5 nc -z -w 1 -s 10.1.0.6 10.2.0.9 443
ip netns exec "$A" timeout 5 nc -z -w 1 -s 10.1.0.6 "$GWADDR" 22
if wait_alert blocked \
	'"src_zone":"a","dst_zone":"b".*"src":"10.1.0.6".*"dport":443' 5
then
	ok "a single drop a -> b reported while another host of a floods"
else
	bad "the flood hid 10.1.0.6 -> 10.2.0.9 tcp/443"
fi
if wait_alert blocked \
	'"src_zone":"a","dst_zone":null.*"src":"10.1.0.6".*"dport":22' 5 &&
	alerts blocked '"src":"10.1.0.6".*"dport":22' |
	grep -q 'a -> the gateway'; then
	ok "a single drop a -> gateway reported as zone a while upstream" \
		"and a host of a flood the gateway"
else
	bad "no blocked alert naming zone a for 10.1.0.6 -> gateway" \
		"tcp/22: $(alerts blocked '"dport":22')"
fi

# ---- the floods were floods, logged within their allowance ----

for f in flood-ab flood-agw flood-upgw; do
	wait_for '^sent' "$D/$f" $((SECS + 5)) ||
		bad "$f did not finish: $(cat "$D/$f")"
done
sleep 1
sent=$(sed -n 's/^sent \([0-9]*\).*/\1/p' "$D/flood-ab")
in_a=$(($(rx ens4) - rx_a))
in_up=$(($(rx ens3) - rx_up))
# The premise: far more than any limit lets through.
if [ "${sent:-0}" -ge 1000 ] && [ "$in_a" -ge 1000 ] &&
	[ "$in_up" -ge 1000 ]; then
	ok "floods: $sent datagrams a -> b; the gateway received $in_a" \
		"on a's link, $in_up on upstream's"
else
	bad "the floods were too small to test anything (sent ${sent:-?}," \
		"received $in_a and $in_up)"
fi
# Burst 5, then 1 a second, for the flood's seconds and the ones it
# took to start and stop; both of a's floods share one allowance.
max=$((5 + SECS + 3))
n_noisy=$(alerts blocked '"src":"10.1.0.5"' | wc -l)
n_scan=$(alerts blocked '"src":"203.0.113.66"' | wc -l)
n_scan_zone=$(alerts blocked \
	'"src_zone":"upstream","dst_zone":null.*"src":"203.0.113.66"' | wc -l)
if [ "$n_noisy" -ge 5 ] && [ "$n_noisy" -le "$max" ]; then
	ok "the flooding host of a logged $n_noisy times (at most $max)"
else
	bad "the flooding host of a logged $n_noisy times, not 5..$max"
fi
if [ "$n_scan" -ge 5 ] && [ "$n_scan" -le "$max" ] &&
	[ "$n_scan_zone" -eq "$n_scan" ]; then
	ok "the upstream host logged $n_scan times, as upstream -> gateway"
else
	bad "the upstream host logged $n_scan times ($n_scan_zone naming" \
		"upstream -> gateway), not 5..$max"
fi

# ---- the sets, and no drift ----

if ip netns exec "$GW" nft list set inet sanso log-a-v4 >"$D/set" &&
	grep -q '10\.1\.0\.5' "$D/set" && grep -q '10\.1\.0\.6' "$D/set" &&
	ip netns exec "$GW" nft list set inet sanso log-upstream-v4 |
	grep -q '203\.0\.113\.66'; then
	ok "the per-source sets hold the sources"
else
	bad "log-a-v4 / log-upstream-v4: $(cat "$D/set")"
fi
if [ "$LAB_LOADED_BY" = apply ]; then
	if ip netns exec "$GW" "$SANSO" status --state-dir "$LAB_DIR/state" \
		>"$D/status" 2>&1; then
		ok "status: the sources in the sets are not drift"
	else
		bad "status: $(cat "$D/status")"
	fi
fi
sleep 2
if alerts drift >/dev/null; then
	bad "the monitor raised drift: $(alerts drift)"
else
	ok "the monitor's drift check passed over the sets"
fi

kill -TERM "$MON"
wait "$MON"
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "monitor: SIGTERM, exit 0"
else
	bad "monitor: exit status $rc: $(tail -3 "$D/mon.err")"
fi
finish
