#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# contrib/logrotate/sanso against a running monitor (in a network
# namespace of its own): logrotate renames the alert log and creates the
# new one, its postrotate SIGUSR1 makes the monitor reopen the path
# without reading the zone file again, the alerts before and after land
# in the rotated and the new file, and
# `sanso verify-log` accepts both. The user the file belongs to is nobody
# here (sanso on a gateway), and postrotate signals the test's monitor
# instead of the unit.
set -u
# shellcheck source=tests/ops/lib.sh
. "$(dirname "$0")/lib.sh"
need logrotate ip nft
need_root
need_sanso

conf=$OPS_ROOT/contrib/logrotate/sanso
T=$OPS_TMP
if grep -q 'systemctl kill --kill-whom=main --signal=USR1 sanso-monitor.service' "$conf" &&
	grep -q '^/var/log/sanso/alerts.jsonl {' "$conf"; then
	ok "logrotate: rotates /var/log/sanso/alerts.jsonl, postrotate sends SIGUSR1 to the monitor"
else
	bad "logrotate: $conf does not name the alert log or signal the monitor"
fi

ops_ns lr || { bad "cannot create a network namespace"; finish; }
ns=$OPS_NSNAME
mkdir -p "$T/log" "$T/state"
chmod 755 "$T"
chown nobody "$T/log"
cp "$OPS_ROOT/zones/holidays-jp.yaml" "$T/"
# No dedup: every alert is a line of its own.
sed 's/^  dedup_seconds: 60$/  dedup_seconds: 0/' \
	"$OPS_ROOT/zones/example-city.yaml" >"$T/good.yaml"
cp "$T/good.yaml" "$T/zones.yaml"
log=$T/log/alerts.jsonl

ip netns exec "$ns" "$SANSO" monitor "$T/zones.yaml" --state-dir "$T/state" \
	--jsonl "$log" --drift-interval 1 >"$T/monitor.out" 2>&1 &
mon=$!
OPS_PIDS+=("$mon")

lines()	# FILE -> number of lines (0 when missing)
{
	if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi
}

wait_lines()	# FILE N: until FILE has at least N lines (10 s)
{
	for _ in $(seq 100); do
		[ "$(lines "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# A rejected reload raises config_error: an alert on demand.
alert()
{
	echo "version: 2" >"$T/zones.yaml"
	kill -HUP "$mon"
	sleep 0.3
	cp "$T/good.yaml" "$T/zones.yaml"
}

wait_lines "$log" 1
alert
if wait_lines "$log" 2; then
	ok "monitor writes alerts to $(basename "$log")"
else
	bad "no alerts from the monitor: $(cat "$T/monitor.out")"
	finish
fi
before=$(lines "$log")

sed -e "s|/var/log/sanso/alerts.jsonl|$log|" \
	-e 's/su sanso sanso/su nobody '"$(id -gn nobody)"'/' \
	-e 's/create 0640 sanso sanso/create 0640 nobody '"$(id -gn nobody)"'/' \
	-e "s|systemctl kill --kill-whom=main --signal=USR1 sanso-monitor.service|kill -USR1 $mon|" \
	"$conf" >"$T/logrotate.conf"
reloads=$(grep -c 'SIGHUP: reloading' "$T/monitor.out")
if logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf" >"$T/lr.out" 2>&1; then
	ok "logrotate -f with contrib/logrotate/sanso"
else
	bad "logrotate: $(cat "$T/lr.out")"
	finish
fi
rotated=$(find "$T/log" -name "alerts.jsonl-*" | head -n 1)
if [ -n "$rotated" ] && [ "$(lines "$rotated")" -eq "$before" ]; then
	ok "the alerts before rotation are in $(basename "$rotated")"
else
	bad "rotated file: \"$rotated\" ($(ls "$T/log"))"
fi
sleep 0.5
# An alert without a signal of its own: a table appears, which is drift.
ip netns exec "$ns" nft add table inet sanso
if grep -q 'SIGUSR1: reopening' "$T/monitor.out" &&
	[ "$(grep -c 'SIGHUP: reloading' "$T/monitor.out")" = "$reloads" ]; then
	ok "postrotate's SIGUSR1 reopens the files, the zone file is not read"
else
	bad "after postrotate: $(tail -n 3 "$T/monitor.out")"
fi
# The new file's first line carries the chain on from the rotated one
# (written at the reopen); the drift alert follows it.
if wait_lines "$log" 2 && grep -q '"type":"drift"' "$log" &&
	head -n 1 "$log" | grep -q "^{\"chain\":\"continued\",\"previous_seq\":$before,\"previous_file\":\"$(basename "$rotated")\"," &&
	[ "$(stat -c %U:%a "$log")" = nobody:640 ]; then
	ok "after SIGUSR1 the monitor writes to the new file (nobody, 0640), which continues the rotated file's chain"
else
	bad "new file after rotation: $(ls -l "$T/log"); monitor: $(tail -n 3 "$T/monitor.out")"
fi
if [ -n "$rotated" ] && "$SANSO" verify-log --state-dir "$T/state" \
	"$rotated" "$log" >"$T/verify.out" 2>&1; then
	ok "verify-log accepts the rotated and the new file"
else
	bad "verify-log: $(cat "$T/verify.out")"
fi
kill "$mon" 2>/dev/null
wait "$mon" 2>/dev/null
finish
