#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# contrib/systemd: the units pass `systemd-analyze verify`; the monitor's
# `systemd-analyze security` exposure stays at or under OPS_MAX_EXPOSURE
# (2.0); the ordering and hardening the design depends on are present;
# and, as root, in network namespaces:
#   - the system calls of apply --deployed / --fail-closed and of a
#     monitor --once as the unit runs it (no FILE: the deployment) all
#     lie in the units' SystemCallFilter= sets;
#   - the monitor runs as an unprivileged user with only the unit's
#     ambient capabilities (setpriv stands in for systemd's User=);
#   - the boot sequence (the unit's ExecStart= lines, in order) loads the
#     deployment, and with a broken deployment leaves the fail-closed
#     table in force and fails;
#   - under the fail-closed table the gateway's own connections (IPv4 and
#     IPv6) still work.
set -u
# shellcheck source=tests/ops/lib.sh
. "$(dirname "$0")/lib.sh"
need systemd-analyze
need_sanso

units=$OPS_ROOT/contrib/systemd
T=$OPS_TMP
mkdir -p "$T/man/man8" "$T/man/man5" "$T/bin" "$T/units"
cp "$OPS_ROOT/man/sanso.8" "$T/man/man8/"
cp "$OPS_ROOT/man/sanso-zones.5" "$T/man/man5/"
cp "$SANSO" "$T/bin/sanso"
for u in sanso-apply.service sanso-monitor.service sanso-watchdog.service; do
	sed "s|/usr/sbin/sanso|$T/bin/sanso|g" "$units/$u" >"$T/units/$u"
done

# ---- static: verify, security, the keys the design rests on ----

if out=$(cd "$T/units" && MANPATH=$T/man systemd-analyze verify \
	sanso-apply.service sanso-monitor.service sanso-watchdog.service 2>&1) &&
	[ -z "$out" ]; then
	ok "systemd-analyze verify: the three units clean"
else
	bad "systemd-analyze verify: $out"
fi

max=${OPS_MAX_EXPOSURE:-2.0}
for u in sanso-monitor.service sanso-watchdog.service sanso-apply.service; do
	if ! systemd-analyze security --offline=yes --no-pager \
		"$T/units/$u" >"$T/security.$u" 2>&1; then
		skip "systemd-analyze security --offline $u: $(tail -n 1 "$T/security.$u")"
		continue
	fi
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
		"$T/security.$u")
	echo "  $u: exposure $score"
	if [ "$u" != sanso-apply.service ]; then
		if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s != "" && s <= m) }'; then
			ok "systemd-analyze security $u: $score <= $max"
		else
			bad "systemd-analyze security $u: exposure \"$score\" above $max"
		fi
	fi
done

has()	# UNIT LINE
{
	grep -qxF -- "$2" "$units/$1"
}

for line in DefaultDependencies=no Before=network-pre.target\ shutdown.target \
	Wants=network-pre.target After=local-fs.target\ systemd-modules-load.service \
	ConditionPathExists=/var/lib/sanso/current Type=oneshot \
	RemainAfterExit=yes WantedBy=sysinit.target; do
	has sanso-apply.service "$line" || bad "sanso-apply.service lacks $line"
done
execs=$(grep '^ExecStart=' "$units/sanso-apply.service" | tr '\n' '|')
if [ "$execs" = "ExecStart=/usr/sbin/sanso apply --fail-closed|ExecStart=/usr/sbin/sanso apply --deployed|" ] &&
	! grep -q '^ExecStop' "$units/sanso-apply.service"; then
	ok "sanso-apply.service: fail-closed first, then the deployment; no ExecStop"
else
	bad "sanso-apply.service: ExecStart lines are \"$execs\""
fi
for line in User=sanso "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" \
	"CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" \
	NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	"RestrictAddressFamilies=AF_NETLINK AF_UNIX AF_INET AF_INET6" \
	SystemCallFilter=@system-service StateDirectory=sanso/monitor \
	LogsDirectory=sanso "ExecReload=/bin/kill -HUP \$MAINPID"; do
	has sanso-monitor.service "$line" || bad "sanso-monitor.service lacks $line"
done
[ "$fail" -eq 0 ] && ok "units carry the ordering and hardening of contrib/systemd/README.md"

# ---- dynamic, as root in namespaces ----

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	skip "system calls, unprivileged monitor, boot sequence: need root and ip"
	finish
fi
zones=$OPS_ROOT/zones
ops_ns sd || { bad "cannot create a network namespace"; finish; }
ns=$OPS_NSNAME
S=$T/state
if ! ip netns exec "$ns" "$SANSO" apply "$zones/example-city.yaml" \
	--state-dir "$S" >"$T/apply.out" 2>&1; then
	bad "apply in the namespace: $(cat "$T/apply.out")"
	finish
fi

# Expands a systemd system call group, recursively.
expand()
{
	local x
	for x in $(systemd-analyze syscall-filter "$1" 2>/dev/null |
		sed -n '2,$p' | sed 's/#.*//'); do
		case $x in
		@*) expand "$x" ;;
		*) echo "$x" ;;
		esac
	done
}

if command -v strace >/dev/null; then
	expand @system-service | sort -u >"$T/allowed"
	{ expand @privileged; expand @resources; } | sort -u >"$T/denied"
	ip netns exec "$ns" strace -f -qq -o "$T/st.deployed" "$SANSO" apply \
		--deployed --state-dir "$S" >/dev/null 2>&1
	ip netns exec "$ns" strace -f -qq -o "$T/st.failclosed" "$SANSO" apply \
		--fail-closed --state-dir "$S" >/dev/null 2>&1
	ip netns exec "$ns" "$SANSO" apply --deployed --state-dir "$S" \
		>/dev/null 2>&1
	ip netns exec "$ns" timeout 30 strace -f -qq -o "$T/st.monitor" \
		"$SANSO" monitor --once --state-dir "$S" --data-dir "$T/mon" \
		--jsonl "$T/mon.jsonl" >"$T/mon.out" 2>&1
	for t in deployed failclosed monitor; do
		sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' "$T/st.$t" | sort -u \
			>"$T/calls.$t"
		if [ ! -s "$T/calls.$t" ]; then
			bad "strace of $t recorded nothing"
			continue
		fi
		out=$(comm -23 "$T/calls.$t" "$T/allowed" | tr '\n' ' ')
		[ "$t" = monitor ] &&
			out="$out$(comm -12 "$T/calls.$t" "$T/denied" | tr '\n' ' ')"
		if [ -z "$out" ]; then
			ok "$t: all $(wc -l <"$T/calls.$t") system calls allowed by its unit's filter"
		else
			bad "$t: system calls outside its unit's filter: $out"
		fi
	done
else
	skip "system call sets: strace is not installed"
fi

# The monitor as the unit runs it: an unprivileged user (nobody stands in
# for sanso) with CAP_NET_ADMIN and CAP_NET_BIND_SERVICE as ambient
# capabilities, nothing else, no new privileges.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	U=$T/unpriv
	mkdir -p "$U/data" "$U/log"
	cp "$zones/example-city.yaml" "$zones/holidays-jp.yaml" "$U/"
	chown nobody "$U/data" "$U/log"
	chmod 755 "$T" "$U"
	chmod 644 "$U"/*.yaml
	caps=-all,+net_admin,+net_bind_service
	if ip netns exec "$ns" timeout 30 setpriv --reuid=nobody \
		--regid="$(id -g nobody)" --clear-groups --inh-caps="$caps" \
		--ambient-caps="$caps" --bounding-set="$caps" --no-new-privs \
		"$SANSO" monitor "$U/example-city.yaml" --once \
		--state-dir "$U/data" --jsonl "$U/log/alerts.jsonl" \
		>"$U/out" 2>&1 && grep -q watching "$U/out"; then
		ok "monitor runs as an unprivileged user with the unit's ambient capabilities"
	else
		bad "unprivileged monitor: $(cat "$U/out")"
	fi
	owners=$(find "$U/data" "$U/log" -mindepth 1 -printf '%u\n' |
		sort -u | tr '\n' ' ')
	if [ "$owners" = "nobody " ]; then
		ok "every file the unprivileged monitor made belongs to its user"
	else
		bad "files made by the unprivileged monitor belong to: $owners"
	fi
else
	skip "unprivileged monitor: setpriv or the user nobody is missing"
fi

# The boot sequence: each ExecStart= of the unit, in order, stopping at the
# first failure, as systemd runs a oneshot service.
boot()
{
	local cmd
	while read -r cmd; do
		# shellcheck disable=SC2086
		ip netns exec "$ns" ${cmd//\/usr\/sbin\/sanso/$SANSO} \
			--state-dir "$S" >>"$T/boot.out" 2>&1 || return 1
	done < <(sed -n 's/^ExecStart=//p' "$units/sanso-apply.service")
}

: >"$T/boot.out"
if boot && ip netns exec "$ns" "$SANSO" status --state-dir "$S" \
	>"$T/status.out" 2>&1; then
	ok "boot sequence: the deployment is live and matches (status exit 0)"
else
	bad "boot sequence with a good deployment: $(cat "$T/boot.out" "$T/status.out")"
fi
cur=$(cat "$S/current")
cp "$S/deploy/$cur/zones.yaml" "$T/zones.saved"
echo "version: 2" >"$S/deploy/$cur/zones.yaml"
: >"$T/boot.out"
if boot; then
	bad "boot sequence with a broken deployment succeeded"
else
	ok "boot sequence with a broken deployment fails (the unit is failed)"
fi
ip netns exec "$ns" "$SANSO" status --state-dir "$S" --format json \
	>"$T/status.json" 2>/dev/null
if grep -q '"live":"drift"' "$T/status.json"; then
	ok "broken deployment: status reports drift"
else
	bad "broken deployment: status says $(cat "$T/status.json")"
fi
if command -v nft >/dev/null; then
	ip netns exec "$ns" nft list table inet sanso >"$T/table" 2>&1
	if grep -q 'hook forward priority filter; policy drop;' "$T/table" &&
		! grep -q 'vmap' "$T/table" &&
		grep -q 'nd-neighbor-solicit accept' "$T/table" &&
		[ "$(grep -c accept "$T/table")" -le 5 ]; then
		ok "broken deployment: the fail-closed table stays in force"
	else
		bad "broken deployment: live table is not the fail-closed one: $(cat "$T/table")"
	fi
else
	skip "fail-closed table listing: nft is not installed"
fi
cp "$T/zones.saved" "$S/deploy/$cur/zones.yaml"

# The fail-closed table keeps what the gateway itself started: a TCP
# connection from it to a neighbour, over IPv4 and over IPv6 (where the
# neighbour's advertisement must get through the input chain).
ops_ns peer || { bad "cannot create a network namespace"; finish; }
peer=$OPS_NSNAME
ops_ns fc || { bad "cannot create a network namespace"; finish; }
fc=$OPS_NSNAME
ip link add opsfc0 netns "$fc" type veth peer name opsfc1 netns "$peer"
ip -n "$fc" addr add 192.0.2.1/24 dev opsfc0
ip -n "$fc" addr add fd00:5a:50::1/64 dev opsfc0 nodad
ip -n "$peer" addr add 192.0.2.2/24 dev opsfc1
ip -n "$peer" addr add fd00:5a:50::2/64 dev opsfc1 nodad
ip -n "$fc" link set opsfc0 up
ip -n "$peer" link set opsfc1 up
ip netns exec "$peer" python3 -c '
import socket, threading
def serve(family, addr):
    s = socket.socket(family)
    s.bind((addr, 7000))
    s.listen(8)
    while True:
        c, _ = s.accept()
        c.close()
threading.Thread(target=serve, args=(socket.AF_INET6, "fd00:5a:50::2"),
                 daemon=True).start()
serve(socket.AF_INET, "192.0.2.2")' >/dev/null 2>&1 &
OPS_PIDS+=($!)
sleep 0.3
ip netns exec "$fc" "$SANSO" apply --fail-closed --state-dir "$T/fc-state" \
	>"$T/fc.out" 2>&1 || bad "apply --fail-closed: $(cat "$T/fc.out")"
for addr in 192.0.2.2 fd00:5a:50::2; do
	if ip netns exec "$fc" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7000), timeout=3)' "$addr" 2>/dev/null; then
		ok "fail-closed table: the gateway still reaches $addr (its own connection)"
	else
		bad "fail-closed table: the gateway's own connection to $addr fails (IPv6: neighbour discovery dropped?)"
	fi
done

finish
