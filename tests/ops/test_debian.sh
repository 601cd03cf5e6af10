#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Debian package: contrib/debian/build.sh builds it (under a minute
# with the package's own tests; DEB_BUILD_OPTIONS=nocheck skips them),
# lintian reports only the tags explained in contrib/debian/README, and,
# as root with OPS_DEB_INSTALL=1, the package installs (user sanso, the
# directories and their modes, units enabled and verified), `sanso check`
# of the installed example zone file passes, and then the test follows
# README.md's "Deploying a gateway" step by step with the installed
# /usr/sbin/sanso, on a gateway network namespace and one namespace per
# zone (see below), and purges again. The install touches this machine (a
# system user, files under /usr, /etc, /var): run it on a throwaway
# machine or container; it refuses to run where sanso is installed or has
# left state.
set -u
# shellcheck source=tests/ops/lib.sh
. "$(dirname "$0")/lib.sh"
need dpkg-buildpackage dh fakeroot git

T=$OPS_TMP
if "$OPS_ROOT/contrib/debian/build.sh" "$T/deb" >"$T/build.log" 2>&1; then
	deb=$(find "$T/deb" -name 'sanso_*.deb' | head -n 1)
	ok "contrib/debian/build.sh: $(basename "$deb")"
else
	bad "package build: $(tail -n 20 "$T/build.log")"
	finish
fi
if git -C "$OPS_ROOT" status --porcelain --ignored debian 2>/dev/null | grep -q .; then
	bad "the build left debian/ in the tree"
fi

if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 -I "$deb" >"$T/lintian.out" 2>&1
	# Tags explained in the README are "lintian: TAG" list items there.
	# shellcheck disable=SC2016
	sed -n 's/^- `\([a-z0-9.-]*\)`.*/\1/p' "$OPS_ROOT/contrib/debian/README" |
		sort -u >"$T/explained"
	sed -n 's/^[EWI]: sanso[^:]*: \([a-z0-9.-]*\).*/\1/p' "$T/lintian.out" |
		sort -u >"$T/tags"
	new=$(comm -23 "$T/tags" "$T/explained" | tr '\n' ' ')
	if [ -z "$new" ]; then
		ok "lintian: $(wc -l <"$T/tags") tag(s), each explained in contrib/debian/README"
	else
		bad "lintian tags not explained in contrib/debian/README: $new"
		sed 's/^/  /' "$T/lintian.out"
	fi
else
	skip "lintian is not installed"
fi

if [ -z "${OPS_DEB_INSTALL-}" ] || [ "$(id -u)" -ne 0 ]; then
	skip "install, README walk-through, purge: OPS_DEB_INSTALL=1 and root (changes this machine)"
	finish
fi
for c in apt-get patch rsyslogd setpriv unshare runuser python3 ip; do
	if ! command -v "$c" >/dev/null; then
		bad "install: $c is not installed"
		finish
	fi
done

# The package's state: ii installed, rc config files left, un/pn or
# nothing when it is not there.
deb_state()
{
	dpkg-query -W -f '${db:Status-Abbrev}' sanso 2>/dev/null
}

# The walk-through uses the real /etc/sanso, /var/lib/sanso and
# /var/log/sanso, and the cleanup removes them: not on a machine that has
# sanso or what it leaves behind.
case $(deb_state) in
'' | un* | pn*) ;;
*)
	skip "install: the sanso package is on this machine; the test needs one without"
	finish
	;;
esac
for d in /etc/sanso /var/lib/sanso /var/log/sanso; do
	if [ -e "$d" ]; then
		skip "install: $d exists; the test needs a machine without sanso's state"
		finish
	fi
done
had_user=
getent passwd sanso >/dev/null && had_user=1
had_group=
getent group sanso >/dev/null && had_group=1

# Everything the install and the walk-through leave: their processes and
# namespaces (ops_cleanup), the package, its state, the user. Runs on any
# exit, and once before the final checks.
deb_cleanup()
{
	trap '' INT TERM HUP
	ops_cleanup
	OPS_PIDS=()
	OPS_NS=()
	case $(deb_state) in
	'' | un* | pn*) ;;
	*) dpkg --purge sanso >/dev/null 2>&1 ;;
	esac
	rm -rf /etc/sanso /var/lib/sanso /var/log/sanso
	if [ -z "$had_user" ] && getent passwd sanso >/dev/null; then
		deluser --quiet --system sanso >/dev/null 2>&1 ||
			userdel sanso 2>/dev/null
	fi
	if [ -z "$had_group" ] && getent group sanso >/dev/null; then
		groupdel sanso 2>/dev/null
	fi
}
trap deb_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# README: apt install ./sanso_*.deb (dpkg -i and apt-get -f install is the
# other way; the dependencies are installed here).
if apt-get install -y -o DPkg::Lock::Timeout=120 "$deb" >"$T/install.log" 2>&1 &&
	[ "$(deb_state)" = "ii " ]; then
	ok "apt-get install $(basename "$deb")"
else
	bad "apt-get install: $(tail -n 10 "$T/install.log")"
	finish
fi
if [ "$(stat -c %U:%G:%a /var/lib/sanso)" = root:sanso:2750 ] &&
	[ "$(stat -c %U:%G:%a /etc/sanso)" = root:sanso:750 ] &&
	getent passwd sanso | grep -q nologin; then
	ok "postinst: user sanso, /var/lib/sanso root:sanso 2750, /etc/sanso root:sanso 0750"
else
	bad "postinst: $(getent passwd sanso); $(stat -c '%n %U:%G:%a' /var/lib/sanso /etc/sanso)"
fi
if /usr/sbin/sanso check /usr/share/sanso/zones/example-city.yaml >"$T/check.out" 2>&1; then
	ok "installed: sanso check /usr/share/sanso/zones/example-city.yaml: $(tail -n 1 "$T/check.out")"
else
	bad "installed sanso check: $(cat "$T/check.out")"
fi
if systemctl is-enabled sanso-apply.service sanso-monitor.service >"$T/enabled" 2>&1 &&
	[ "$(sort -u "$T/enabled")" = enabled ]; then
	ok "units enabled"
else
	bad "units: $(cat "$T/enabled")"
fi
if out=$(systemd-analyze verify /lib/systemd/system/sanso-apply.service \
	/lib/systemd/system/sanso-monitor.service 2>&1) && [ -z "$out" ]; then
	ok "installed units: systemd-analyze verify clean"
else
	bad "installed units: $out"
fi
if [ -e /etc/logrotate.d/sanso ] &&
	logrotate -d /etc/logrotate.d/sanso >"$T/lr.out" 2>&1 &&
	! grep -q '^error' "$T/lr.out"; then
	ok "installed /etc/logrotate.d/sanso parses"
else
	bad "logrotate file missing or rejected: $(cat "$T/lr.out" 2>/dev/null)"
fi

# ---- README.md, "Deploying a gateway", step by step ----
#
# What stands in for the VM and for systemd, which this machine (and CI)
# does not run as PID 1:
#   - the gateway VM is a network namespace with one NIC per segment,
#     named as Debian names the virtio NICs of a q35 VM (enp1s0..enp6s0),
#     and each segment is a namespace of its own behind a veth pair,
#     holding the example's host addresses the test sends from and to;
#   - the sysctl.d file of the README is loaded with sysctl -p in the
#     gateway namespace;
#   - the admin's SSH session is a TCP listener on port 22 of the gateway
#     and a connection to it from the jump host (10.99.0.10);
#   - sanso-apply.service at boot is its ExecStart= lines, in order;
#   - sanso-monitor.service is its ExecStartPre= (as root) and ExecStart=
#     run under setpriv with the unit's User=, Group=, UMask= and
#     AmbientCapabilities=, in a private mount namespace whose /dev is a
#     new tmpfs with the API devices and /dev/log, as PrivateDevices=
#     makes it; the StateDirectory= and LogsDirectory= are created as
#     systemd does;
#   - journald's /dev/log (/run/systemd/journal/dev-log) is the socket of
#     a real rsyslogd (imuxsock) that writes what it receives, with the
#     tag journald would take as SYSLOG_IDENTIFIER, to a file.

sanso=/usr/sbin/sanso
gwunit=/lib/systemd/system/sanso-apply.service
monunit=/lib/systemd/system/sanso-monitor.service
if ! ops_ns gw; then
	bad "cannot create a network namespace"
	finish
fi
gw=$OPS_NSNAME
declare -A zns=() zlink=()
k=0
# zone, the VM's NIC, the networks routed there, the addresses it holds
while read -r zone nic nets addrs; do
	k=$((k + 1))
	ops_ns "$zone" || { bad "cannot create a network namespace"; finish; }
	zns[$zone]=$OPS_NSNAME
	zlink[$zone]=169.254.$k.1
	if ! { ip -n "$gw" link add "$nic" type veth peer name eth0 \
			netns "$OPS_NSNAME" &&
		ip -n "$gw" addr add "169.254.$k.1/24" dev "$nic" &&
		ip -n "$gw" link set "$nic" up &&
		ip -n "$gw" route add "$nets" via "169.254.$k.2" dev "$nic" &&
		ip -n "$OPS_NSNAME" addr add "169.254.$k.2/24" dev eth0 &&
		ip -n "$OPS_NSNAME" link set eth0 up &&
		ip -n "$OPS_NSNAME" route add default via "169.254.$k.1"; }; then
		bad "cannot build the segment of $zone"
		finish
	fi
	for a in ${addrs//,/ }; do
		ip -n "$OPS_NSNAME" addr add "$a/32" dev eth0
	done
done <<'EOF'
upstream enp1s0 default 198.51.100.53
mynumber enp2s0 10.10.0.0/16 10.10.1.5
lgwan    enp3s0 10.20.0.0/16 10.20.6.10
internet enp4s0 10.30.0.0/16 10.30.10.1
dmz      enp5s0 10.40.0.0/24 10.40.0.10
mgmt     enp6s0 10.99.0.0/24 10.99.0.10
EOF
printf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n' \
	>"$T/60-sanso-gateway.conf"
ip netns exec "$gw" sysctl -q -p "$T/60-sanso-gateway.conf" ||
	bad "sysctl -p of the README's forwarding settings"

# A TCP listener: listen NS ADDRESS PORT (stopped on exit).
listen()
{
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
print("ready", flush=True)
sys.stdout.close()
while True:
    c, _ = s.accept()
    c.close()' "$2" "$3" >"$T/listen.$1.$3" 2>&1 </dev/null &
	OPS_PIDS+=($!)
	for _ in $(seq 50); do
		grep -q ready "$T/listen.$1.$3" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Whether a TCP connection opens: reach NS SOURCE DESTINATION PORT.
reach()
{
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(3)
s.bind((sys.argv[1], 0))
s.connect((sys.argv[2], int(sys.argv[3])))' "$2" "$3" "$4" 2>/dev/null
}

# Copy the example and its holiday list, then make the README's edits:
# the README's diff is applied as it stands, so that the README and the
# example cannot drift apart unnoticed.
if ! install -m 0640 -g sanso /usr/share/sanso/zones/example-city.yaml \
	/usr/share/sanso/zones/holidays-jp.yaml /etc/sanso/; then
	bad "install of the example into /etc/sanso"
fi
mv /etc/sanso/example-city.yaml /etc/sanso/zones.yaml
awk '/^```diff$/ { on = 1; next } on && /^```$/ { exit } on' \
	"$OPS_ROOT/README.md" >"$T/readme.diff"
if [ -s "$T/readme.diff" ] &&
	patch -s -o "$T/zones.edited" /etc/sanso/zones.yaml <"$T/readme.diff" \
		>"$T/patch.out" 2>&1; then
	# written in place, as an editor does: mode and owner stay
	cat "$T/zones.edited" >/etc/sanso/zones.yaml
	ok "README's edits of the example apply ($(grep -c '^+[^+]' "$T/readme.diff") lines)"
else
	bad "the README's diff does not apply to the installed example: $(cat "$T/patch.out")"
fi
if [ "$(stat -c %U:%G:%a /etc/sanso/zones.yaml /etc/sanso/holidays-jp.yaml | sort -u)" = root:sanso:640 ]; then
	ok "/etc/sanso/zones.yaml and holidays-jp.yaml root:sanso 0640"
else
	bad "zone file modes: $(stat -c '%n %U:%G:%a' /etc/sanso/*)"
fi
for nic in enp1s0 enp2s0 enp3s0 enp4s0 enp5s0 enp6s0; do
	grep -q "interfaces: \[$nic\]" /etc/sanso/zones.yaml ||
		bad "the edited zone file does not name $nic"
done
if grep -q '^    - syslog: { facility: local4 }' /etc/sanso/zones.yaml &&
	! grep -q 'exec:' /etc/sanso/zones.yaml; then
	ok "edited zone file: the VM's NICs, a local syslog sink, no exec sink"
else
	bad "edited zone file: $(sed -n '/^monitor:/,$p' /etc/sanso/zones.yaml)"
fi

# A wrong edit first: check says where, apply refuses and changes
# nothing (no table, no deployment).
mkdir -p "$T/bad"
cp /etc/sanso/holidays-jp.yaml "$T/bad/"
sed 's/^    from: renkei$/    from: vbrowser/' /etc/sanso/zones.yaml >"$T/bad/zones.yaml"
"$sanso" check "$T/bad/zones.yaml" >"$T/bad/check.out" 2>&1
rc=$?
ip netns exec "$gw" timeout 60 "$sanso" apply --confirm 120 "$T/bad/zones.yaml" \
	>"$T/bad/apply.out" 2>&1
arc=$?
if [ "$rc" -eq 1 ] && grep -q "zones.yaml:[0-9]*:[0-9]*: error\[T1\]: flow \"renkei-to-juki\"" "$T/bad/check.out" &&
	[ "$arc" -eq 1 ] && [ ! -e /var/lib/sanso/current ] &&
	! ip netns exec "$gw" nft list table inet sanso >/dev/null 2>&1; then
	ok "a zone file with an error: check exit 1 ($(grep -m1 -o 'error\[T1\].*' "$T/bad/check.out")), apply exit 1, nothing loaded or recorded"
else
	bad "zone file with an error: check exit $rc: $(cat "$T/bad/check.out"); apply exit $arc: $(cat "$T/bad/apply.out")"
fi

# sanso check, then apply --confirm 120.
if "$sanso" check /etc/sanso/zones.yaml >"$T/check2.out" 2>&1 &&
	[ "$(cat "$T/check2.out")" = "0 errors, 0 warnings" ]; then
	ok "sanso check /etc/sanso/zones.yaml: 0 errors, 0 warnings"
else
	bad "sanso check /etc/sanso/zones.yaml: $(cat "$T/check2.out")"
fi
listen "$gw" 0.0.0.0 22 || bad "no stand-in SSH listener on the gateway"
if ip netns exec "$gw" timeout 60 "$sanso" apply --confirm 120 /etc/sanso/zones.yaml \
	>"$T/apply.out" 2>&1 &&
	grep -q '^applied deployment 1: table inet sanso, ruleset [0-9a-f]\{12\} (replaced whole)$' "$T/apply.out" &&
	grep -qF "run 'sanso confirm' within 120 seconds" "$T/apply.out" &&
	! grep -qi warning "$T/apply.out"; then
	ok "sanso apply --confirm 120 /etc/sanso/zones.yaml: deployment 1, no warning (every NIC found)"
else
	bad "apply --confirm: $(cat "$T/apply.out")"
fi

# The second session: the gateway's SSH answers the jump host in mgmt
# (gateway.ssh_from) and nobody in the Internet segment; then confirm.
if reach "${zns[mgmt]}" 10.99.0.10 "${zlink[mgmt]}" 22; then
	ok "under the new ruleset the jump host (mgmt) still reaches the gateway's SSH"
else
	bad "the jump host cannot reach the gateway's SSH: do not confirm"
fi
if reach "${zns[internet]}" 10.30.10.1 "${zlink[internet]}" 22; then
	bad "the Internet segment reaches the gateway's SSH"
else
	ok "the Internet segment does not reach the gateway's SSH"
fi
if ip netns exec "$gw" "$sanso" confirm >"$T/confirm.out" 2>&1 &&
	[ "$(cat "$T/confirm.out")" = "kept deployment 1" ]; then
	ok "sanso confirm: kept deployment 1"
else
	bad "sanso confirm: $(cat "$T/confirm.out")"
fi
# The rollback timer goes once confirmed.
timer=
for _ in $(seq 50); do
	timer=
	for p in $(ip netns pids "$gw"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sanso ] && timer=$p
	done
	[ -z "$timer" ] && break
	sleep 0.1
done
[ -z "$timer" ] || bad "the rollback timer (pid $timer) is still running after confirm"
if ip netns exec "$gw" "$sanso" status >"$T/status.out" 2>&1 &&
	grep -q '^live table: matches the deployment$' "$T/status.out" &&
	! grep -q '^pending' "$T/status.out"; then
	ok "sanso status: deployment 1, nothing pending, the live table matches"
else
	bad "sanso status: $(cat "$T/status.out")"
fi

# At boot: sanso-apply.service (its condition holds now) runs its
# ExecStart= lines in order.
if [ -e "$(sed -n 's/^ConditionPathExists=//p' "$gwunit")" ]; then
	boot=ok
	while read -r cmd; do
		# shellcheck disable=SC2086  # the unit's words
		ip netns exec "$gw" timeout 60 $cmd >>"$T/boot.out" 2>&1 || boot=bad
	done < <(sed -n 's/^ExecStart=//p' "$gwunit")
	if [ "$boot" = ok ] && ip netns exec "$gw" "$sanso" status >"$T/status.boot" 2>&1; then
		ok "boot (sanso-apply.service's ExecStart= lines): fail-closed, then deployment 1 again; status matches"
	else
		bad "boot sequence: $(cat "$T/boot.out" "$T/status.boot")"
	fi
else
	bad "after confirm, sanso-apply.service's ConditionPathExists= does not hold"
fi

# The journal's socket: rsyslogd on $T/journal/dev-log.
mkdir -p "$T/journal" "$T/rs"
chmod 711 "$T"
chmod 755 "$T/journal"
cat >"$T/rs.conf" <<EOF
global(workDirectory="$T/rs")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$T/journal/dev-log")
template(name="seen" type="list") {
	property(name="syslogfacility-text") constant(value=".")
	property(name="syslogseverity-text") constant(value=" ")
	property(name="syslogtag") constant(value=" ")
	property(name="programname") constant(value=" ")
	property(name="msg" droplastlf="on") constant(value="\n")
}
action(type="omfile" file="$T/journal.log" template="seen")
EOF
rsyslogd -n -f "$T/rs.conf" -i "$T/rs.pid" >"$T/rsyslogd.out" 2>&1 &
OPS_PIDS+=($!)
for _ in $(seq 50); do
	[ -S "$T/journal/dev-log" ] && break
	sleep 0.1
done
[ -S "$T/journal/dev-log" ] || bad "rsyslogd did not start: $(cat "$T/rsyslogd.out")"

# sanso-monitor.service, as systemd would start it.
uval()	# KEY: the value of KEY= in the monitor's unit (the last one)
{
	sed -n "s/^$1=//p" "$monunit" | tail -n 1
}
user=$(uval User)
group=$(uval Group)
caps=-all
for c in $(uval AmbientCapabilities); do
	c=${c#CAP_}
	caps+=",+${c,,}"
done
install -d -o "$user" -g "$group" -m "$(uval StateDirectoryMode)" \
	"/var/lib/$(uval StateDirectory)"
install -d -o "$user" -g "$group" -m "$(uval LogsDirectoryMode)" \
	"/var/log/$(uval LogsDirectory)"
[ -e "$(uval ConditionPathExists)" ] ||
	bad "sanso-monitor.service's ConditionPathExists= does not hold"
pre=$(uval ExecStartPre)
pre=${pre##[-+]}
pre=${pre##[-+]}
# shellcheck disable=SC2086
ip netns exec "$gw" $pre || bad "ExecStartPre=$pre failed"
cat >"$T/privdev.sh" <<'EOF'
# A private /dev as PrivateDevices= makes it, with /dev/log pointing at
# the journal's socket ($1); then UMask= ($2) and the command.
set -e
sock=$1
mask=$2
shift 2
old=$(mktemp -d)
mount --bind /dev "$old"
mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs /dev
for n in null zero full random urandom tty; do
	touch "/dev/$n"
	mount --bind "$old/$n" "/dev/$n"
done
ln -s "$sock" /dev/log
umount "$old"
rmdir "$old"
umask "$mask"
exec "$@"
EOF
# shellcheck disable=SC2046  # the unit's words
ip netns exec "$gw" unshare -m --propagation private sh "$T/privdev.sh" \
	"$T/journal/dev-log" "$(uval UMask)" \
	setpriv --reuid="$user" --regid="$group" --init-groups \
	--inh-caps="$caps" --ambient-caps="$caps" --bounding-set="$caps" \
	--no-new-privs $(uval ExecStart) >"$T/monitor.out" 2>&1 </dev/null &
mon=$!
OPS_PIDS+=("$mon")
for _ in $(seq 100); do
	grep -q 'watching' "$T/monitor.out" 2>/dev/null && break
	kill -0 "$mon" 2>/dev/null || break
	sleep 0.1
done
if grep -q '^sanso: monitor: watching (site example-city)$' "$T/monitor.out"; then
	ok "sanso-monitor.service's command runs as $user with $caps: watching"
else
	bad "the monitor did not start: $(cat "$T/monitor.out")"
fi

# A permitted flow passes: 連携サーバ to the resident database.
listen "${zns[mynumber]}" 10.10.1.5 1521 || bad "no listener on juki-db"
if reach "${zns[lgwan]}" 10.20.6.10 10.10.1.5 1521; then
	ok "permitted: renkei 10.20.6.10 -> juki-db 10.10.1.5 tcp/1521 opens"
else
	bad "permitted flow renkei-to-juki did not open"
fi
# A forbidden one is dropped and reported: a virtual browser server in
# the Internet segment to the same database (T1).
if reach "${zns[internet]}" 10.30.10.1 10.10.1.5 1521; then
	bad "forbidden: vbrowser 10.30.10.1 -> juki-db 10.10.1.5 tcp/1521 opened"
else
	ok "forbidden: vbrowser 10.30.10.1 -> juki-db 10.10.1.5 tcp/1521 stays closed"
fi
blocked='"type":"blocked","severity":"critical","src_zone":"internet","dst_zone":"mynumber","proto":"tcp","src":"10.30.10.1","sport":[0-9]*,"dst":"10.10.1.5","dport":1521,'
for _ in $(seq 50); do
	grep -q "$blocked" /var/log/sanso/alerts.jsonl 2>/dev/null &&
		grep -q "$blocked" "$T/journal.log" 2>/dev/null && break
	sleep 0.1
done
jline=$(grep -m1 "$blocked" /var/log/sanso/alerts.jsonl 2>/dev/null)
sline=$(grep -m1 "$blocked" "$T/journal.log" 2>/dev/null)
if [ -n "$jline" ]; then
	ok "blocked alert in /var/log/sanso/alerts.jsonl"
else
	bad "no blocked alert in alerts.jsonl: $(cat /var/log/sanso/alerts.jsonl 2>&1)"
fi
# facility.severity, the tag, the program name, then the message
tagre="^local4\\.crit sanso\\[$mon\\]: sanso +\\{"
if [ -n "$sline" ] && [[ $sline =~ $tagre ]]; then
	ok "blocked alert through /dev/log: local4.crit, tag sanso[$mon] (journalctl -t sanso)"
else
	bad "blocked alert through /dev/log: \"$sline\"; received: $(cat "$T/journal.log" 2>&1)"
fi
# The same alert on both ways, each in its own chain.
# shellcheck disable=SC2001  # the same edit on both
jbody=$(echo "$jline" | sed 's/,"seq":[0-9]*,"prev":"[0-9a-f]*"}$//')
sbody=$(echo "{${sline#*\{}" | sed 's/,"seq":[0-9]*,"prev":"[0-9a-f]*"}$//')
if [ -n "$jline" ] && [ "$jbody" = "$sbody" ] && [ "$jbody" != "$jline" ]; then
	ok "the syslog message is the JSON alert of the file (its own seq and prev)"
else
	bad "syslog and file differ: $jline / $sline"
fi
if grep -q '"type":"blocked".*"src":"10.20.6.10"' /var/log/sanso/alerts.jsonl; then
	bad "the permitted flow was reported as blocked"
fi

# status and verify-log, as the README shows them.
if ip netns exec "$gw" "$sanso" status >"$T/status.mon" 2>&1; then
	ok "sanso status with the monitor running: exit 0"
else
	bad "sanso status: $(cat "$T/status.mon")"
fi
if "$sanso" verify-log /var/log/sanso/alerts.jsonl \
	--state-dir /var/lib/sanso/monitor >"$T/verify.out" 2>&1 &&
	grep -q '^/var/log/sanso/alerts.jsonl: intact: ' "$T/verify.out"; then
	ok "verify-log (root, the monitor's key): $(cat "$T/verify.out")"
else
	bad "verify-log of alerts.jsonl: $(cat "$T/verify.out")"
fi
if "$sanso" verify-log /var/lib/sanso/audit.log >"$T/verify2.out" 2>&1 &&
	grep -q '^/var/lib/sanso/audit.log: intact: 5 lines' "$T/verify2.out"; then
	ok "verify-log: $(cat "$T/verify2.out")"
else
	bad "verify-log of audit.log: $(cat "$T/verify2.out")"
fi
owners=$(find /var/lib/sanso/monitor /var/log/sanso -mindepth 1 -printf '%u\n' |
	sort -u | tr '\n' ' ')
if [ "$owners" = "sanso " ]; then
	ok "every file the monitor made belongs to sanso"
else
	bad "files of the monitor belong to: $owners"
fi
# systemctl stop: SIGTERM, and the monitor exits 0.
kill -TERM "$mon"
wait "$mon"
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "the monitor stops on SIGTERM with exit 0"
else
	bad "the monitor exited $rc on SIGTERM: $(tail -n 3 "$T/monitor.out")"
fi

cp /var/log/sanso/alerts.jsonl "$T/" 2>/dev/null

if dpkg --purge sanso >"$T/purge.log" 2>&1 && [ ! -e /usr/sbin/sanso ]; then
	ok "dpkg --purge sanso"
else
	bad "purge: $(tail -n 10 "$T/purge.log")"
fi

# Nothing left behind.
nsleft=$(ip netns list | awk -v p="$OPS_NAME_PFX-" 'index($1, p) == 1 { print $1 }')
deb_cleanup
left=
for ns in $nsleft; do
	ip netns list | grep -q "^$ns\b" && left+="namespace $ns "
done
for d in /etc/sanso /var/lib/sanso /var/log/sanso /usr/sbin/sanso; do
	[ -e "$d" ] && left+="$d "
done
case $(deb_state) in
'' | un* | pn*) ;;
*) left+="package sanso ($(deb_state)) " ;;
esac
[ -z "$had_user" ] && getent passwd sanso >/dev/null && left+="user sanso "
[ -z "$had_group" ] && getent group sanso >/dev/null && left+="group sanso "
kill -0 "$mon" 2>/dev/null && left+="monitor $mon "
if [ -z "$left" ]; then
	ok "cleaned up: no namespace, package, state, user or process left"
else
	bad "left behind: $left"
fi
finish
