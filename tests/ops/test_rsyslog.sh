#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# contrib/rsyslog/60-sanso-forward.conf: rsyslogd accepts it (-N1); the
# Ansible role's template renders to the same configuration; and with two
# private rsyslogd instances on 127.0.0.1 (no root needed) -- the gateway's,
# running the contrib file with only its paths, target and port changed,
# and a collector listening with TLS -- the alert lines the monitor writes
# arrive over TLS unchanged, with the alert type as MSGID, and the lines
# written while the collector is down arrive once it is back.
set -u
# shellcheck source=tests/ops/lib.sh
. "$(dirname "$0")/lib.sh"
need rsyslogd python3
need_sanso

conf=$OPS_ROOT/contrib/rsyslog/60-sanso-forward.conf
tmpl=$OPS_ROOT/contrib/ansible/roles/sanso/templates/60-sanso-forward.conf.j2
T=$OPS_TMP
rsyslogd=$(command -v rsyslogd)

# ---- syntax ----
: >"$T/ca.pem"
sed "s|/etc/sanso/siem-ca.pem|$T/ca.pem|" "$conf" >"$T/check.conf"
printf 'global(workDirectory="%s")\ninclude(file="%s")\n' "$T" "$T/check.conf" \
	>"$T/check-main.conf"
if "$rsyslogd" -N1 -f "$T/check-main.conf" >"$T/n1.out" 2>&1; then
	ok "rsyslogd -N1 accepts contrib/rsyslog/60-sanso-forward.conf"
else
	bad "rsyslogd -N1: $(cat "$T/n1.out")"
fi

# ---- the role's template says the same ----
if python3 -c 'import jinja2' 2>/dev/null; then
	python3 - "$tmpl" >"$T/rendered.conf" <<'PY'
import sys, jinja2
env = jinja2.Environment(keep_trailing_newline=True, trim_blocks=True,
                         lstrip_blocks=False)
env.filters["bool"] = lambda v: v in (True, "true", "yes", "1", 1)
t = env.from_string(open(sys.argv[1]).read())
sys.stdout.write(t.render(ansible_managed="managed",
    sanso_siem_host="siem.example.lg.jp", sanso_siem_port=6514,
    sanso_siem_tls=True, sanso_config_dir="/etc/sanso",
    sanso_alerts_file="/var/log/sanso/alerts.jsonl",
    sanso_siem_permitted_peer="siem.example.lg.jp"))
PY
	strip() { grep -v -e '^#' -e '^[[:space:]]*$' -e '^# ' "$1" | grep -v '^[[:space:]]*#'; }
	if diff <(strip "$conf") <(strip "$T/rendered.conf") >"$T/tmpl.diff"; then
		ok "the Ansible template renders to contrib/rsyslog's configuration"
	else
		bad "template and contrib/rsyslog differ: $(cat "$T/tmpl.diff")"
	fi
else
	skip "template comparison: python3-jinja2 is not installed"
fi

# ---- end to end, over TLS ----
if ! command -v openssl >/dev/null ||
	! ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1; then
	skip "forwarding over TLS: needs openssl and rsyslog-gnutls"
	finish
fi
C=$T/pki
mkdir -p "$C" "$T/siem" "$T/gw" "$T/state"
{
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$C/ca.key" \
		-out "$C/ca.pem" -days 2 -subj /CN=sanso-test-ca &&
	openssl req -newkey rsa:2048 -nodes -keyout "$C/siem.key" \
		-out "$C/siem.csr" -subj /CN=siem.example.lg.jp &&
	printf 'subjectAltName=DNS:siem.example.lg.jp\n' >"$C/ext" &&
	openssl x509 -req -in "$C/siem.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
		-CAcreateserial -out "$C/siem.pem" -days 2 -extfile "$C/ext"
} >"$T/openssl.out" 2>&1 || { bad "openssl: $(cat "$T/openssl.out")"; finish; }

received=$T/received
siem_pid=
siem_start()	# PORT (0: any; the port is written to siem.port)
{
	cat >"$T/siem.conf" <<EOC
global(workDirectory="$T/siem"
	DefaultNetstreamDriverCAFile="$C/ca.pem"
	DefaultNetstreamDriverCertFile="$C/siem.pem"
	DefaultNetstreamDriverKeyFile="$C/siem.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1"
	StreamDriver.AuthMode="anon")
input(type="imtcp" address="127.0.0.1" port="$1"
	listenPortFileName="$T/siem.port")
template(name="seen" type="list") {
	property(name="app-name") constant(value=" ")
	property(name="msgid") constant(value=" ")
	property(name="msg" droplastlf="on") constant(value="\n")
}
action(type="omfile" file="$received" template="seen")
EOC
	[ "$1" -eq 0 ] && rm -f "$T/siem.port"
	"$rsyslogd" -n -f "$T/siem.conf" -i "$T/siem.pid" >"$T/siem.out" 2>&1 &
	siem_pid=$!
	OPS_PIDS+=("$siem_pid")
	for _ in $(seq 50); do
		if [ "$1" -ne 0 ]; then
			ss -Hltn "sport = :$1" | grep -q . && return 0
		elif [ -s "$T/siem.port" ]; then
			return 0
		fi
		sleep 0.1
	done
	bad "the collector's rsyslogd did not start: $(cat "$T/siem.out")"
	finish
}

alerts=$T/alerts.jsonl
more_alerts()
{
	"$SANSO" monitor "$OPS_ROOT/tests/replay/lab-monitor.yaml" \
		--replay "$OPS_ROOT/tests/replay/lab-monitor.pcap" \
		--state-dir "$T/state" --jsonl "$alerts" >/dev/null 2>&1
}

# Every line of the alert log arrived, as written, with its type as
# MSGID; waits up to 15 s.
all_arrived()
{
	python3 - "$alerts" "$received" <<'PY'
import json, sys, time
want = [l.rstrip("\n") for l in open(sys.argv[1])]
for _ in range(150):
    try:
        got = {}
        for l in open(sys.argv[2]):
            app, msgid, msg = l.rstrip("\n").split(" ", 2)
            got[msg.lstrip(" ")] = (app, msgid)
    except FileNotFoundError:
        got = {}
    if all(w in got for w in want):
        bad = [w for w in want
               if got[w] != ("sanso", json.loads(w)["type"])]
        if bad:
            print("wrong APP-NAME or MSGID:", got[bad[0]], bad[0])
            sys.exit(1)
        sys.exit(0)
    time.sleep(0.1)
print(len([w for w in want if w not in got]), "of", len(want), "lines missing")
sys.exit(1)
PY
}

siem_start 0
port=$(cat "$T/siem.port")
more_alerts
sed -e "s|/etc/sanso/siem-ca.pem|$C/ca.pem|" \
	-e "s|/var/log/sanso/alerts.jsonl|$alerts|" \
	-e "s|Target=\"siem.example.lg.jp\"|Target=\"127.0.0.1\"|" \
	-e "s|Port=\"6514\"|Port=\"$port\"|" \
	-e 's|action.resumeInterval="10"|action.resumeInterval="1"|' \
	"$conf" >"$T/gw-fwd.conf"
grep -q 'StreamDriverPermittedPeers="siem.example.lg.jp"' "$T/gw-fwd.conf" ||
	bad "the forwarding config no longer checks the collector's name"
printf 'global(workDirectory="%s")\ninclude(file="%s")\n' "$T/gw" \
	"$T/gw-fwd.conf" >"$T/gw.conf"
"$rsyslogd" -n -f "$T/gw.conf" -i "$T/gw.pid" >"$T/gw.out" 2>&1 &
OPS_PIDS+=($!)

if out=$(all_arrived); then
	ok "$(wc -l <"$alerts") alerts forwarded over TLS, unchanged, MSGID = type"
else
	bad "forwarding: $out; gateway: $(tail -n 5 "$T/gw.out")"
fi

kill "$siem_pid"
wait "$siem_pid" 2>/dev/null
more_alerts
sleep 2
siem_start "$port"
if out=$(all_arrived); then
	ok "alerts written while the collector was down arrive when it is back"
else
	bad "after the collector's outage: $out"
fi
finish
