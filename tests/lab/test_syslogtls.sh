#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Syslog over TLS the way README.md sets it up: the monitor's syslog sink
# writes to the host's log socket, the local rsyslogd forwards to the SIEM
# over TLS with contrib/rsyslog/60-sanso-forward-syslog.conf (only its
# paths, target, port and retry interval changed). Two private rsyslogd
# instances on 127.0.0.1, each with its own config, work directory and pid
# file: the gateway's (its imuxsock socket in a temporary directory stands
# for /dev/log) and the SIEM's collector (imtcp with TLS only).
#
# build/tools/alertsend sends two streams of alerts through the sink (one
# every 20 ms): 300 while the gateway's rsyslogd restarts (its socket gone
# for a second), then 200 while the collector is away, a collector with a
# certificate from another CA (for the right name) has its port, and the
# gateway's rsyslogd restarts again (its queue on disk). Then the real
# collector is back. Checked:
#   - the sink delivered every alert to the socket: none failed;
#   - the gateway's rsyslogd took them in order, none twice, lacking at
#     most the ones sent while it was stopping (its socket still there,
#     read no more: no sender can tell);
#   - the other CA's collector got nothing, the forwarder said why;
#   - the collector got them as RFC 5424 (APP-NAME sanso, MSGID the type,
#     the JSON alert as MSG), lacking beyond those at most one per broken
#     connection (RFC 5425 has no acknowledgement: rsyslog 8.2302 writes
#     the first alert after the collector went away into the closed
#     connection), and verify-log on what it got names each one lacking.
# Counts of what was lacking, twice or out of order are printed ("note:").
#
# Root is not needed; it runs in the lab for the tools. Prints a final
# "N passed, N failed" line.

set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${SANSO:=$root/build/sanso}"
: "${LAB_TOOLS:=$(dirname "$SANSO")/tools}"
send=$LAB_TOOLS/alertsend
rsyslogd=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
conf=$root/contrib/rsyslog/60-sanso-forward-syslog.conf
filecf=$root/contrib/rsyslog/60-sanso-forward.conf

# shellcheck source=tests/lab/results.sh
. "$here/results.sh"

for need in "$send" "$rsyslogd"; do
	if [ ! -x "$need" ]; then
		echo "test_syslogtls: $need not found (make tools; Debian" \
			"package rsyslog)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
if ! ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 ||
	! command -v openssl >/dev/null; then
	echo "test_syslogtls: needs rsyslog-gnutls and openssl"
	echo "0 passed, 1 failed"
	exit 1
fi

dir=$(mktemp -d /tmp/sanso-syslogtls.XXXXXX) || exit 1
gw_pid=
siem_pid=
send_pid=
stop_pid()
{
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup()
{
	stop_pid "$send_pid"
	stop_pid "$gw_pid"
	stop_pid "$siem_pid"
	if [ -n "${LAB_KEEP-}" ]; then
		echo "test_syslogtls: kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$dir/gw" "$dir/siem" "$dir/state" "$dir/pki"

# ---- the two files forward alike ----
# Everything but the source of the alerts is the same text.
forward_part()
{
	sed -n -e '/^global(/,/^)/p' -e '/^template(/,/^}/p' "$1"
}
if [ -n "$(forward_part "$conf")" ] &&
	diff <(forward_part "$filecf") <(forward_part "$conf") >"$dir/cf.diff"
then
	ok "both contrib/rsyslog files forward with the same TLS settings and queue"
else
	bad "contrib/rsyslog files differ in the forwarding: $(cat "$dir/cf.diff")"
fi

# ---- certificates: the SIEM's CA, and another CA for the same name ----
C=$dir/pki
{
	for ca in ca other; do
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$C/$ca.key" \
			-out "$C/$ca.pem" -days 2 -subj "/CN=sanso-test-$ca" &&
		openssl req -newkey rsa:2048 -nodes -keyout "$C/$ca-siem.key" \
			-out "$C/$ca-siem.csr" -subj /CN=siem.example.lg.jp &&
		printf 'subjectAltName=DNS:siem.example.lg.jp\n' >"$C/ext" &&
		openssl x509 -req -in "$C/$ca-siem.csr" -CA "$C/$ca.pem" \
			-CAkey "$C/$ca.key" -CAcreateserial \
			-out "$C/$ca-siem.pem" -days 2 -extfile "$C/ext" ||
			exit 1
	done
} >"$dir/openssl.out" 2>&1 || { bad "openssl: $(cat "$dir/openssl.out")"; finish; }

# The collector: TLS only, certificate CERT (ca or other), writes what it
# receives to received.CERT. PORT 0: the kernel picks, in siem.port.
siem_start()	# CERT PORT
{
	local _
	cat >"$dir/siem.conf" <<EOC
global(workDirectory="$dir/siem"
	DefaultNetstreamDriverCAFile="$C/$1.pem"
	DefaultNetstreamDriverCertFile="$C/$1-siem.pem"
	DefaultNetstreamDriverKeyFile="$C/$1-siem.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1"
	StreamDriver.AuthMode="anon")
input(type="imtcp" address="127.0.0.1" port="$2"
	listenPortFileName="$dir/siem.port")
template(name="seen" type="list") {
	property(name="app-name") constant(value=" ")
	property(name="msgid") constant(value=" ")
	property(name="msg" droplastlf="on") constant(value="\n")
}
if \$inputname == "imtcp" then
	action(type="omfile" file="$dir/received.$1" template="seen")
EOC
	[ "$2" -eq 0 ] && rm -f "$dir/siem.port"
	"$rsyslogd" -n -f "$dir/siem.conf" -i "$dir/siem.pid" \
		>>"$dir/siem.out" 2>&1 &
	siem_pid=$!
	for _ in $(seq 50); do
		if [ "$2" -ne 0 ]; then
			ss -Hltn "sport = :$2" | grep -q . && return 0
		elif [ -s "$dir/siem.port" ]; then
			return 0
		fi
		sleep 0.1
	done
	bad "the collector's rsyslogd did not start: $(cat "$dir/siem.out")"
	finish
}

# The gateway's rsyslogd: its system socket (what /etc/rsyslog.conf's
# imuxsock gives as /dev/log) is log.sock; its own messages (about the
# TLS peer) go to gw.out.
gw_start()
{
	local _
	"$rsyslogd" -n -f "$dir/gw.conf" -i "$dir/gw.pid" >>"$dir/gw.out" 2>&1 &
	gw_pid=$!
	for _ in $(seq 50); do
		[ -S "$dir/log.sock" ] && return 0
		sleep 0.1
	done
	bad "the gateway's rsyslogd did not start: $(cat "$dir/gw.out")"
	finish
}

# Stops the gateway's rsyslogd. While it shuts down its socket is still
# there and takes datagrams it will never read: nobody can tell the sender.
# Adds to slack the alerts the stream (one per 20 ms) sent meanwhile.
slack=0
gw_stop()
{
	local t0 t1
	t0=$(date +%s%N)
	stop_pid "$gw_pid"
	t1=$(date +%s%N)
	slack=$((slack + (t1 - t0) / 20000000 + 2))
}

# The seq of each alert the collector got, one a line, in arrival order.
numbers()
{
	sed -n 's/.*"seq":\([0-9]*\),.*/\1/p' "$dir/received.$1" 2>/dev/null
}

# Sends N alerts through the sink, one every 20 ms, in the background.
stream()	# N TAG
{
	"$send" --state-dir "$dir/state" --syslog local --facility local4 \
		--log-socket "$dir/log.sock" --count "$1" --interval 20 \
		--tag "$2" --wait 120 >"$dir/send.$2" 2>&1 &
	send_pid=$!
}

# Waits for the stream, then checks the sink delivered all N.
stream_done()	# N TAG
{
	local res
	wait "$send_pid"
	send_pid=
	res=$(cat "$dir/send.$2")
	if echo "$res" | grep -qx "emitted $1 delivered $1 spooled [0-9]* failed 0 pending 0"
	then
		ok "$2: the sink delivered all $1 alerts to the log socket ($res)"
	else
		bad "$2: alertsend: $res"
	fi
}

# Waits up to 30 s until the collector has N alerts, then 2 s more
# (anything sent twice would come now).
wait_received()	# N
{
	local _
	for _ in $(seq 300); do
		[ "$(numbers ca | wc -l)" -ge "$1" ] && break
		sleep 0.1
	done
	sleep 2
}

siem_start ca 0
port=$(cat "$dir/siem.port")
sed -e "s|/etc/sanso/siem-ca.pem|$C/ca.pem|" \
	-e "s|Target=\"siem.example.lg.jp\"|Target=\"127.0.0.1\"|" \
	-e "s|Port=\"6514\"|Port=\"$port\"|" \
	-e 's|action.resumeInterval="10"|action.resumeInterval="1"|' \
	"$conf" >"$dir/gw-fwd.conf"
grep -q 'StreamDriverPermittedPeers="siem.example.lg.jp"' "$dir/gw-fwd.conf" ||
	bad "the forwarding config no longer checks the collector's name"
cat >"$dir/gw.conf" <<EOC
global(workDirectory="$dir/gw")
module(load="imuxsock" SysSock.Name="$dir/log.sock")
template(name="copy" type="string" string="%msg%\n")
if \$programname == "sanso" then action(type="omfile" file="$dir/gw.copy" template="copy")
include(file="$dir/gw-fwd.conf")
EOC
if ! "$rsyslogd" -N1 -f "$dir/gw.conf" >"$dir/n1.out" 2>&1; then
	bad "rsyslogd -N1 on 60-sanso-forward-syslog.conf: $(cat "$dir/n1.out")"
fi
gw_start

# 1. A stream of 300 alerts; the gateway's rsyslogd restarts in the
#    middle, its socket gone for a second.
stream 300 a
sleep 2
gw_stop
if [ ! -e "$dir/log.sock" ]; then
	ok "the gateway's rsyslogd stopped, its socket gone"
else
	bad "the socket is still there with rsyslogd stopped"
fi
sleep 1
gw_start
stream_done 300 a
wait_received 300

# 2. The collector goes away; one with a certificate from another CA (for
#    the same name) answers on its port. 200 more alerts; the gateway's
#    rsyslogd restarts in the middle, while it cannot forward.
#    The collector is stopped between two streams: RFC 5425 has no
#    acknowledgement, so an alert on the wire as the collector exits is
#    lost whoever sends it (README.md, "Syslog over TLS").
stop_pid "$siem_pid"
siem_start other "$port"
stream 200 b
sleep 2
gw_stop
gw_start
stream_done 200 b
sleep 2
rogue=$(cat "$dir/received.other" 2>/dev/null | wc -l)
if [ "$rogue" -eq 0 ]; then
	ok "a collector with another CA's certificate gets nothing"
else
	bad "the collector with another CA's certificate got $rogue alerts"
fi
if refusal=$(grep -m1 'not permitted to talk to peer' "$dir/gw.out"); then
	ok "the forwarder refused it: ${refusal#rsyslogd: }"
else
	bad "no refusal of the peer in the gateway's log: $(tail -n 3 \
		"$dir/gw.out")"
fi

# 3. The collector is back.
stop_pid "$siem_pid"
siem_start ca "$port"
n=500
wait_received "$n"

# What the gateway's rsyslogd took from its socket: the sink's part. In
# order, none twice; none lacking but what rsyslogd took while it was
# stopping.
seq -s ' ' "$n" >"$dir/want"
sed -n 's/.*"seq":\([0-9]*\),.*/\1/p' "$dir/gw.copy" >"$dir/gw.seqs"
gwmiss=$(comm -23 <(seq "$n" | sort) <(sort -u "$dir/gw.seqs") | sort -n |
	paste -sd ' ')
if [ "$(sort -n "$dir/gw.seqs" | uniq | paste -sd ' ')" = \
	"$(paste -sd ' ' "$dir/gw.seqs")" ] &&
	[ "$(echo "$gwmiss" | wc -w)" -le "$slack" ]; then
	ok "the sink to the log socket, across two restarts of rsyslogd:" \
		"in order, none twice, $(wc -l <"$dir/gw.seqs") of $n taken" \
		"(missing: ${gwmiss:-none}; up to $slack sent while it stopped)"
else
	bad "the gateway's rsyslogd took from its socket, in order:" \
		"$(paste -sd ' ' "$dir/gw.seqs") (slack $slack)"
fi

# What the SIEM got. RFC 5425 has no acknowledgement: rsyslog (8.2302)
# writes the first alert after the collector went away into the
# connection the collector closed, and a restart of rsyslogd may repeat
# or drop an alert it was sending. The chain shows each gap.
miss=$(comm -23 <(seq "$n" | sort) <(numbers ca | sort -u) | sort -n |
	paste -sd ' ')
dup=$(numbers ca | sort -n | uniq -d | paste -sd ' ')
jumps=$(numbers ca | awk 'NR > 1 && $1 != p + 1 { printf "%s->%s ", p, $1 }
	{ p = $1 }')
if [ -z "$miss$dup$jumps" ]; then
	ok "the collector got all $n alerts over TLS, each once, in order"
else
	echo "note: the collector got $(numbers ca | wc -l) lines for $n" \
		"alerts; missing: ${miss:-none}; twice: ${dup:-none};" \
		"jumps: ${jumps:-none}"
fi
# Beyond what never reached rsyslogd.
nmiss=$(comm -23 <(echo "$miss" | tr ' ' '\n' | sort) \
	<(echo "$gwmiss" | tr ' ' '\n' | sort) | grep -c .)
if [ "$nmiss" -le 3 ]; then
	ok "on the way to the collector $nmiss of $n alerts were lost" \
		"(RFC 5425 allows for one per broken connection: 3 here)"
else
	bad "on the way to the collector $nmiss of $n alerts were lost: $miss"
fi
# Each seq once, by seq, as the SIEM would sort them.
cut -d ' ' -f 3- "$dir/received.ca" | awk -F '"seq":' '{ split($2, a, ",")
	if (!(a[1] in seen)) { seen[a[1]] = 1; print a[1] "\t" $0 } }' |
	sort -n | cut -f 2- >"$dir/stream.jsonl"
shead=$(awk '{ printf "%d:%s", $1, $2 }' "$dir/state/chain/stream")
vout=$("$SANSO" verify-log --state-dir "$dir/state" --head "$shead" \
	"$dir/stream.jsonl" 2>&1)
vrc=$?
vmiss=$(echo "$vout" | sed -n 's/.*(seq \([0-9]*\)\.\.\([0-9]*\) are missing.*/\1 \2/p;
	s/.*(seq \([0-9]*\) is missing.*/\1 \1/p' |
	while read -r a b; do seq "$a" "$b"; done | paste -sd ' ')
if { [ -z "$miss" ] && [ "$vrc" -eq 0 ]; } ||
	{ [ -n "$miss" ] && [ "$vrc" -eq 1 ] && [ "$vmiss" = "$miss" ]; }; then
	ok "verify-log on what the SIEM got names the missing alerts:" \
		"${miss:-none}"
else
	bad "verify-log (rc $vrc) says missing \"$vmiss\", lacking \"$miss\":" \
		"$vout"
fi
if [ -s "$dir/received.ca" ] &&
	! grep -qvE '^sanso cross_zone \{"time":".*"message":"[ab] #[0-9]+",' \
		"$dir/received.ca"; then
	ok "RFC 5424: APP-NAME sanso, MSGID the type, the JSON alert as MSG"
else
	bad "a received line is not the alert as sent: $(grep -m1 -vE \
		'^sanso cross_zone \{"time":' "$dir/received.ca")"
fi
finish
