#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One gateway through a compressed life (STYLE.md habit 14, issue 12):
# the daemons run as their systemd units run them, and the update
# relays fetch for real through the DNS guard while the gateway is
# changed, rolled back, restarted and rebooted.
#
#   - upstream: nsd (Debian) authoritative for "example.", CDN-style
#     answers: name -> CNAME -> CNAME -> several A and AAAA, TTL 20 to
#     60 s; the wildcard name's edge addresses rotate before every round
#     of fetches (a new zone serial, a window sliding over a pool: each
#     round brings addresses the sets never held), and nsd's round-robin
#     rotates the order of what is asked directly (it leaves the rrsets
#     behind a CNAME in zone order); HTTP servers on every address
#     (python3), so that the relays fetch with curl, each address taken
#     from the guard's answer (dig, then curl --resolve);
#   - the gateway: `sanso monitor` without a zone file (it judges by the
#     current deployment), with --user, --state-dir and --data-dir laid
#     out as the Debian package and sanso-monitor.service lay them out,
#     the DNS guard in its loop; at boot `apply --fail-closed` then
#     `apply --deployed`, as sanso-apply.service runs them;
#   - the life: apply -> fetches -> a reviewed change (tcp/443 added)
#     -> fetches -> `apply --confirm 10` of a change nobody confirms
#     (fetches while it is pending) -> the automatic rollback -> fetches
#     -> monitor
#     restart -> SIGUSR1 log rotation -> reboot -> fetches -> a relay
#     connecting to an address outside its FQDN set.
#
# Asserts what an operator relies on: every apply, rollback and fetch
# succeeds (curl exit 0 and the body of the address asked); the
# elements the guard armed survive every apply, the rollback, the
# monitor restart and the reboot; no cross_zone, drift or config_error
# alert in the whole run, and no alert lost; the one drop is `blocked`,
# naming its flow and the FQDN set that would have permitted it;
# verify-log finds every alert log part and audit.log intact; audit.log
# records every step, in the site's one timezone; status exits 0 at the
# end with nothing pending.
#
# Departures from the units, for a run of about a minute: the drift
# check runs every 2 s (--drift-interval 2; the unit's 60 s would check
# only at start), and the monitor is started as root with --user rather
# than by systemd as its user. When the monitor refuses to run without a
# zone file, that is a failure, and the run goes on with the
# deployment's copy of the zone file given as FILE, re-read on SIGHUP
# after each change, so that the later steps are still exercised.
#
# Needs root, network namespaces, nsd, dig, curl, python3, jq, nft,
# conntrack, useradd (contrib/install-deps.sh). SANSO names the binary.
# LIFE_KEEP=1 (or LAB_KEEP=1) keeps the run directory. Prints "ok:" and
# "FAIL:" lines and a final "N passed, N failed".

set -u

# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/lab/results.sh
. "$(dirname "$0")/results.sh"

need_root lifecycle
for t in nsd dig curl python3 jq nft conntrack useradd userdel; do
	if ! command -v "$t" >/dev/null; then
		echo "lifecycle lab: $t not found (contrib/install-deps.sh:" \
			"nsd, dnsutils, curl, python3, jq, nftables, conntrack," \
			"passwd)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
[ -n "${LIFE_KEEP-}" ] && LAB_KEEP=1

lab_init || { echo "0 passed, 1 failed"; exit 1; }
T0=$(date +%s%N)

# The monitor's user, made here and removed by the trap.
MUSER=$LAB_NAME-life
USER_MADE=
# shellcheck disable=SC2317  # run by the trap
life_cleanup()
{
	lab_cleanup
	if [ -n "$USER_MADE" ]; then
		userdel "$MUSER" 2>/dev/null
		getent group "$MUSER" >/dev/null && groupdel "$MUSER" 2>/dev/null
	fi
}
trap life_cleanup EXIT

T=$LAB_DIR
S=$T/state		# /var/lib/sanso
D=$S/monitor		# /var/lib/sanso/monitor
LOG=$T/log		# /var/log/sanso
ALERTS=$LOG/alerts.jsonl
ETC=$T/etc		# the fallback's /etc/sanso
STEPS=$T/steps

# Addresses: the guard on the gateway's DMZ side; nsd and the web
# servers in the upstream namespace (TEST-NET ranges: nothing leaves
# the namespaces).
GUARD4=10.40.0.1
GUARD6=fd00:40::1
WSUS=10.40.0.10
WSUS6=fd00:40::10
AVR=10.40.0.11
JUKI=10.10.2.20
UPDNS=198.51.100.53
OUTSIDE=203.0.113.99
# The edge pool behind *.cdn-updates.example; round K is served the
# window of 3 (IPv4) and 2 (IPv6) addresses from index 2K.
CDN4=(203.0.113.21 203.0.113.22 203.0.113.23 203.0.113.24 203.0.113.25
	203.0.113.26)
CDN6=(2001:db8:21::21 2001:db8:21::22 2001:db8:21::23 2001:db8:21::24
	2001:db8:21::25 2001:db8:21::26)
WEB_ADDRS="203.0.113.11 203.0.113.12 203.0.113.13 ${CDN4[*]} ${CDN6[*]}
	198.51.100.31 198.51.100.32 $OUTSIDE
	2001:db8:11::11 2001:db8:11::12 2001:db8:31::31"
SETS="fqdn-msupdate-v4 fqdn-msupdate-v6 fqdn-avpatterns-v4
	fqdn-avpatterns-v6"

# A line in the step log, with the time, to place alerts in the life.
step()
{
	local ms=$((($(date +%s%N) - T0) / 1000000))
	printf '%s %3d.%03ds %s\n' "$(date +%T.%3N)" $((ms / 1000)) \
		$((ms % 1000)) "$*" | tee -a "$STEPS" >&2
}

# ---- the zone files ----

# zonefile SERVICES_OF_PATCH_UP: the site; v1 has tcp/80, the reviewed
# change v2 adds tcp/443, the unconfirmed change v3 takes it away again.
zonefile()
{
	cat <<EOF
# Written by tests/lab/test_lifecycle.sh.
version: 1
site: lab-life
model: alpha
timezone: Asia/Tokyo
zones:
  mynumber: { tier: mynumber, interfaces: [ens4], networks: [10.10.0.0/16] }
  lgwan: { tier: lgwan, interfaces: [ens5], networks: [10.20.0.0/16] }
  inet: { tier: internet, interfaces: [ens6], networks: [10.30.0.0/16] }
  dmz: { tier: dmz, interfaces: [ens7],
         networks: [10.40.0.0/24, "fd00:40::/64"] }
  mgmt: { tier: mgmt, interfaces: [ens8], networks: [10.99.0.0/24] }
  upstream: { tier: external, interfaces: [ens3],
              networks: [0.0.0.0/0, "::/0"] }
hosts:
  juki-pc: { zone: mynumber, address: $JUKI }
  wsus: { zone: dmz, address: $WSUS, role: update-relay }
  wsus-v6: { zone: dmz, address: "$WSUS6", role: update-relay }
  av-relay: { zone: dmz, address: $AVR, role: update-relay }
fqdn_sets:
  msupdate:
    names: [download.msupdate.example, "*.cdn-updates.example"]
    min_ttl: 20
  avpatterns:
    names: [pattern.av-vendor.example]
    min_ttl: 20
flows:
  - name: mynumber-patches
    from: juki-pc
    to: wsus
    services: [tcp/8530]
  - name: patch-up
    from: [wsus, wsus-v6]
    to: fqdn:msupdate
    services: [$1]
  - name: av-up
    from: av-relay
    to: fqdn:avpatterns
    services: [tcp/80]
gateway:
  ssh_from: [mgmt]
  log_group: 100
  dns:
    upstream: ["$UPDNS"]
    listen: ["$GUARD4", "$GUARD6"]
monitor:
  alerts:
    - jsonl: $ALERTS
  dedup_seconds: 60
EOF
}
zonefile "tcp/80" >"$T/v1.yaml"
zonefile "tcp/80, tcp/443" >"$T/v2.yaml"
cp "$T/v1.yaml" "$T/v3.yaml"
for v in v1 v2; do
	if ! out=$("$SANSO" check "$T/$v.yaml" 2>&1); then
		bad "the lab's zone file $v does not check: $out"
		finish
	fi
done

# ---- the upstream: nsd ----

# nsd_zone SERIAL ADDRESS... : the zone "example."; the wildcard name's
# edge addresses are the arguments.
nsd_zone()
{
	local serial=$1 a
	shift
	cat <<EOF
\$ORIGIN example.
\$TTL 60
@ IN SOA ns.example. hostmaster.example. $serial 3600 600 86400 20
@ IN NS ns.example.
ns IN A $UPDNS
; download.msupdate.example -> CNAME -> CNAME -> 3 A, 2 AAAA
download.msupdate 60 IN CNAME download.msupdate.edge.example.
download.msupdate.edge 30 IN CNAME e1234.a.cdnnet.example.
e1234.a.cdnnet 20 IN A 203.0.113.11
e1234.a.cdnnet 20 IN A 203.0.113.12
e1234.a.cdnnet 20 IN A 203.0.113.13
e1234.a.cdnnet 20 IN AAAA 2001:db8:11::11
e1234.a.cdnnet 20 IN AAAA 2001:db8:11::12
; *.cdn-updates.example -> CNAME -> CNAME -> 3 A, 2 AAAA
*.cdn-updates 40 IN CNAME cdn-updates.edge.example.
cdn-updates.edge 30 IN CNAME e5678.b.cdnnet.example.
EOF
	for a in "$@"; do
		case $a in
		*:*) echo "e5678.b.cdnnet 20 IN AAAA $a" ;;
		*) echo "e5678.b.cdnnet 20 IN A $a" ;;
		esac
	done
	cat <<EOF
; pattern.av-vendor.example -> CNAME -> CNAME -> 2 A, 1 AAAA
pattern.av-vendor 60 IN CNAME av.edge.example.
av.edge 30 IN CNAME e9.c.cdnnet.example.
e9.c.cdnnet 20 IN A 198.51.100.31
e9.c.cdnnet 20 IN A 198.51.100.32
e9.c.cdnnet 20 IN AAAA 2001:db8:31::31
; an address of no FQDN set
outside 20 IN A $OUTSIDE
EOF
}

mkdir -p "$T/nsd"
cat >"$T/nsd/nsd.conf" <<EOF
server:
  ip-address: $UPDNS
  port: 53
  username: ""
  chroot: ""
  zonesdir: "$T/nsd"
  zonelistfile: "$T/nsd/zone.list"
  database: ""
  xfrdfile: "$T/nsd/xfrd.state"
  xfrdir: "$T/nsd"
  pidfile: "$T/nsd/nsd.pid"
  logfile: "$T/nsd/nsd.log"
  server-count: 1
  round-robin: yes
  hide-version: yes
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: "example."
  zonefile: "example.zone"
EOF
# cdn_window K: round K's edge addresses.
cdn_window()
{
	local k=$1 i
	for i in 0 1 2; do
		echo "${CDN4[$(((2 * k + i) % 6))]}"
	done
	for i in 0 1; do
		echo "${CDN6[$(((2 * k + i) % 6))]}"
	done
}
MTIME0=$(($(date +%s) + 100))
# cdn_serve K: nsd serves round K's window (SIGHUP reads a zone file
# whose mtime changed); waits until it answers with it.
cdn_serve()
{
	local k=$1 want got
	# shellcheck disable=SC2046
	nsd_zone $((k + 1)) $(cdn_window "$k") >"$T/nsd/example.zone.new"
	mv "$T/nsd/example.zone.new" "$T/nsd/example.zone"
	touch -d "@$((MTIME0 + k))" "$T/nsd/example.zone"
	[ -s "$T/nsd/nsd.pid" ] && kill -HUP "$(cat "$T/nsd/nsd.pid")"
	want=$(cdn_window "$k" | head -n 3 | sort | paste -sd ' ')
	for _ in $(seq 50); do
		got=$(ip netns exec "$UP" dig +tries=1 +time=1 @"$UPDNS" \
			"serial$k.cdn-updates.example" A +short 2>/dev/null |
			grep -v '\.$' | sort | paste -sd ' ')
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	bad "nsd does not serve round $k's edge addresses ($want): $got"
	return 1
}
# shellcheck disable=SC2046
nsd_zone 0 $(cdn_window 0) >"$T/nsd/example.zone"

# ---- the web servers: the path, the address and port asked ----

cat >"$T/httpd.py" <<'EOF'
import socket, socketserver, sys, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        addr, port = self.connection.getsockname()[:2]
        if addr.startswith("::ffff:"):
            addr = addr[7:]
        body = ("sanso-life %s %s %d\n" % (self.path, addr, port)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        # Both families on one socket; no getfqdn() (no resolver here).
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "lab", self.server_address[1]

servers = [Server(("::", int(p)), Handler) for p in sys.argv[1:]]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print("ready", flush=True)
servers[0].serve_forever()
EOF

# ---- the lab ----

if ! { lab_plan "$T/v1.yaml" && lab_build; }; then
	bad "building the lab"
	finish
fi
GW=$LAB_GW
UP=$(lab_ns upstream)
DMZ=$(lab_ns dmz)
MYN=$(lab_ns mynumber)
if ! ip -n "$GW" addr add "$GUARD4/32" dev ens7 ||
	! ip -n "$GW" addr add "$GUARD6/128" dev ens7 nodad; then
	bad "the guard's addresses"
	finish
fi
for a in $UPDNS $WEB_ADDRS; do
	case $a in
	*:*) ip -n "$UP" addr add "$a/128" dev eth0 nodad ;;
	*) ip -n "$UP" addr add "$a/32" dev eth0 ;;
	esac || { bad "upstream address $a"; finish; }
done

bg_in()
{
	local ns=$1 out=$2
	shift 2
	ip netns exec "$ns" timeout 900 "$@" >"$out" 2>&1 &
	LAB_PIDS+=("$!")
}

bg_in "$UP" "$T/nsd/nsd.out" nsd -d -c "$T/nsd/nsd.conf"
bg_in "$UP" "$T/httpd.up" python3 "$T/httpd.py" 80 443
bg_in "$DMZ" "$T/httpd.dmz" python3 "$T/httpd.py" 8530
if ! wait_for '^ready' "$T/httpd.up" 10 ||
	! wait_for '^ready' "$T/httpd.dmz" 10; then
	bad "web servers: $(cat "$T/httpd.up" "$T/httpd.dmz")"
	finish
fi
for _ in $(seq 50); do
	ip netns exec "$UP" dig +tries=1 +time=1 @"$UPDNS" \
		download.msupdate.example A +short 2>/dev/null |
		grep -q '^203\.' && break
	sleep 0.1
done
out=$(ip netns exec "$UP" dig +tries=1 +time=1 @"$UPDNS" \
	x.cdn-updates.example A +noall +answer 2>&1)
if [ "$(awk '$4 == "CNAME"' <<<"$out" | wc -l)" -eq 2 ] &&
	[ "$(awk '$4 == "A"' <<<"$out" | wc -l)" -eq 3 ]; then
	ok "nsd: x.cdn-updates.example -> CNAME -> CNAME -> 3 A"
else
	bad "nsd does not answer as planned: $out $(cat "$T/nsd/nsd.log" \
		"$T/nsd/nsd.out" 2>/dev/null)"
	finish
fi

# ---- the gateway's files, laid out as the Debian package does ----

if ! useradd --system --user-group --no-create-home \
	--home-dir /nonexistent --shell /usr/sbin/nologin "$MUSER"; then
	bad "useradd $MUSER"
	finish
fi
USER_MADE=1
chmod 0711 "$T"
install -d -m 2750 -o root -g "$MUSER" "$S"
install -d -m 0700 -o "$MUSER" -g "$MUSER" "$D"
install -d -m 0750 -o "$MUSER" -g "$MUSER" "$LOG"
install -d -m 0755 "$ETC"

sanso_gw()
{
	ip netns exec "$GW" timeout 60 "$SANSO" "$@"
}

# run_ok DESC CMD...: CMD must exit 0; its output in $T/out.
run_ok()
{
	local desc=$1 rc
	shift
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
		return 0
	fi
	bad "$desc: exit $rc: $(tr '\n' ' ' <"$T/out")"
	return 1
}

# The table without its set elements, which change all day.
table_terse()
{
	ip netns exec "$GW" nft -t list table inet sanso 2>&1
}

# "SET ADDRESS" for every element of the FQDN sets, sorted.
elems()
{
	local s
	for s in $SETS; do
		ip netns exec "$GW" nft -j list set inet sanso "$s" 2>/dev/null |
			jq -r --arg s "$s" '.nftables[] | select(.set) |
			.set.elem[]? | if type == "object" then .elem.val
			else . end | "\($s) \(.)"'
	done | sort
}

# survived DESC BEFORE: every element of BEFORE is still in the sets.
survived()
{
	local desc=$1 before=$2 missing
	elems >"$T/elems.after"
	if [ ! -s "$before" ]; then
		bad "$desc: the sets were empty before (nothing to carry)"
		return
	fi
	missing=$(comm -23 "$before" "$T/elems.after")
	if [ -z "$missing" ]; then
		ok "$desc: the $(wc -l <"$before") learned elements survived"
	else
		bad "$desc: learned elements lost: $(echo "$missing" |
			paste -sd ' ') (before: $(wc -l <"$before"), after:" \
			"$(wc -l <"$T/elems.after"))"
	fi
}

current_zonefile()
{
	echo "$S/deploy/$(cat "$S/current" 2>/dev/null)/zones.yaml"
}

status_clean()
{
	local desc=$1 rc
	sanso_gw status --state-dir "$S" >"$T/status" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && ! grep -qi 'pending' "$T/status"; then
		ok "$desc: status exits 0, nothing pending"
	else
		bad "$desc: status exit $rc: $(tr '\n' ' ' <"$T/status")"
	fi
}

# ---- the monitor ----

MON_PID=
MON_N=0
FALLBACK=

start_monitor()
{
	local err
	MON_N=$((MON_N + 1))
	err=$T/monitor.$MON_N.err
	if [ -z "$FALLBACK" ]; then
		ip netns exec "$GW" "$SANSO" monitor --user "$MUSER" \
			--state-dir "$S" --data-dir "$D" --drift-interval 2 \
			>"$T/monitor.$MON_N.out" 2>"$err" &
	else
		ip netns exec "$GW" "$SANSO" monitor "$ETC/zones.yaml" \
			--user "$MUSER" --state-dir "$S" --data-dir "$D" \
			--drift-interval 2 >"$T/monitor.$MON_N.out" 2>"$err" &
	fi
	MON_PID=$!
	LAB_PIDS+=("$MON_PID")
	for _ in $(seq 100); do
		grep -q 'watching' "$err" 2>/dev/null && break
		lab_running "$MON_PID" || break
		sleep 0.1
	done
	if ! grep -q 'watching' "$err" 2>/dev/null; then
		return 1
	fi
	# The guard answers (REFUSED for a name of no set).
	for _ in $(seq 50); do
		ip netns exec "$DMZ" dig +tries=1 +time=1 -b "$WSUS" \
			@"$GUARD4" nothing.invalid A 2>/dev/null |
			grep -q 'status: REFUSED' && return 0
		sleep 0.1
	done
	return 1
}

stop_monitor()
{
	local desc=$1 rc
	kill -TERM "$MON_PID" 2>/dev/null
	wait "$MON_PID" 2>/dev/null
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$desc: monitor exits 0 on SIGTERM"
	else
		bad "$desc: monitor exit status $rc on SIGTERM:" \
			"$(tail -n 3 "$T/monitor.$MON_N.err" | tr '\n' ' ')"
	fi
}

# After a new deployment (apply, rollback): SPEC §7 gives the monitor
# without FILE 2 s to follow it. The fallback re-reads its copy on
# SIGHUP, as an operator of the old unit had to.
follow()
{
	if [ -n "$FALLBACK" ]; then
		cp "$(current_zonefile)" "$ETC/zones.yaml"
		kill -HUP "$MON_PID"
	fi
	sleep 2.5
}

# ---- the fetches ----

ROUND=
TAG=
ROUND_BAD=0
ROUND_SKIP=0
ROUND_N=0
: >"$T/fetched"

# slow WHAT START_NS: a note in the step log when WHAT took over 1 s.
slow()
{
	local ms=$((($(date +%s%N) - $2) / 1000000))
	[ "$ms" -le 1000 ] || step "slow: $1 took $ms ms"
}

# fetch SRC NAME TYPE PORT...: the relay SRC asks the guard for NAME,
# checks that every address answered is in a set, and fetches from each
# on every PORT.
fetch()
{
	local src=$1 name=$2 type=$3 guard=$GUARD4 out addrs a port body rc
	local host want t
	shift 3
	[ "$type" = AAAA ] && guard=$GUARD6
	t=$(date +%s%N)
	out=$(ip netns exec "$DMZ" dig +tries=2 +time=2 -b "$src" \
		@"$guard" "$name" "$type" +noall +answer +comments 2>&1)
	slow "dig -b $src @$guard $name $type" "$t"
	addrs=$(awk -v t="$type" '$1 !~ /^;/ && $4 == t { print $5 }' \
		<<<"$out")
	if [ -z "$addrs" ]; then
		ROUND_BAD=$((ROUND_BAD + 1))
		bad "$ROUND: dig -b $src @$guard $name $type: no address:" \
			"$(tr '\n' ' ' <<<"$out")"
		return
	fi
	elems >"$T/elems.now"
	for a in $addrs; do
		if ! grep -q " $a\$" "$T/elems.now"; then
			ROUND_BAD=$((ROUND_BAD + 1))
			bad "$ROUND: $name $type: the guard answered $a but" \
				"it is in no set"
		fi
		host=$a
		case $a in *:*) host="[$a]" ;; esac
		for port in "$@"; do
			# A broken round costs seconds per fetch: enough of it
			# is shown after a few failures.
			if [ "$ROUND_BAD" -ge 4 ]; then
				ROUND_SKIP=$((ROUND_SKIP + 1))
				continue
			fi
			t=$(date +%s%N)
			body=$(ip netns exec "$DMZ" curl -sS --max-time 3 \
				--connect-timeout 2 \
				--interface "$src" \
				--resolve "$name:$port:$host" \
				"http://$name:$port/$ROUND_N/$name" 2>&1)
			rc=$?
			slow "curl --interface $src $a:$port" "$t"
			want="sanso-life /$ROUND_N/$name $a $port"
			if [ "$rc" -eq 0 ] && [ "$body" = "$want" ]; then
				echo "$TAG $src $name $a $port" >>"$T/fetched"
			else
				ROUND_BAD=$((ROUND_BAD + 1))
				bad "$ROUND: curl --interface $src $name" \
					"at $a port $port: exit $rc: $body"
			fi
		done
	done
}

# round NAME LABEL PORTS: the relays' fetches of one phase; LABEL is the
# first label of this round's wildcard name (a new file each time).
round()
{
	local ports=$3 n0 body rc
	ROUND=$1
	ROUND_N=$((ROUND_N + 1))
	TAG=r$ROUND_N
	ROUND_BAD=0
	ROUND_SKIP=0
	[ "$ROUND_N" -gt 1 ] && cdn_serve "$ROUND_N"
	step "fetches: $ROUND"
	n0=$(grep -c '' "$T/fetched")
	# shellcheck disable=SC2086
	{
		fetch "$WSUS" download.msupdate.example A $ports
		fetch "$WSUS" "$2.cdn-updates.example" A $ports
		fetch "$WSUS" "x.$2.cdn-updates.example" A $ports
		fetch "$WSUS6" download.msupdate.example AAAA $ports
		fetch "$WSUS6" "$2.cdn-updates.example" AAAA $ports
		fetch "$AVR" pattern.av-vendor.example A 80
	}
	body=$(ip netns exec "$MYN" curl -sS --max-time 3 --interface "$JUKI" \
		"http://$WSUS:8530/$ROUND_N/wsus" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] ||
		[ "$body" != "sanso-life /$ROUND_N/wsus $WSUS 8530" ]; then
		ROUND_BAD=$((ROUND_BAD + 1))
		bad "$ROUND: juki-pc -> wsus tcp/8530: exit $rc: $body"
	fi
	if [ "$ROUND_SKIP" -gt 0 ]; then
		bad "$ROUND: $ROUND_SKIP more fetches not tried after" \
			"$ROUND_BAD failures"
	fi
	if [ "$ROUND_BAD" -eq 0 ]; then
		ok "$ROUND: $(($(grep -c '' "$T/fetched") - n0)) fetches" \
			"(names, CNAME chains, wildcard, IPv4 and IPv6," \
			"tcp/${ports// /, tcp/}) and juki-pc -> wsus all" \
			"succeeded"
	fi
}

# ---- 1. go-live: apply, then the monitor ----

step "apply v1"
run_ok "apply v1" sanso_gw apply "$T/v1.yaml" --state-dir "$S"
lab_sysctl "$GW" net/netfilter/nf_conntrack_timestamp=1 2>/dev/null
status_clean "after apply v1"

step "monitor start (no FILE)"
if start_monitor; then
	ok "monitor runs without a zone file, as the unit runs it," \
		"--user $MUSER, guard inside"
else
	if lab_running "$MON_PID"; then
		rc="none, still running"
	else
		wait "$MON_PID"
		rc=$?
	fi
	bad "monitor without a zone file did not start (exit status $rc):" \
		"$(head -n 2 "$T/monitor.$MON_N.err" | tr '\n' ' ')"
	kill -9 "$MON_PID" 2>/dev/null
	wait "$MON_PID" 2>/dev/null
	FALLBACK=1
	cp "$(current_zonefile)" "$ETC/zones.yaml"
	chmod 0644 "$ETC/zones.yaml"
	step "FALLBACK: monitor started with FILE $ETC/zones.yaml"
	if start_monitor; then
		echo "lifecycle: FALLBACK: the rest runs the monitor with" \
			"the deployment's zone file as FILE, SIGHUP after each" \
			"change" >&2
	else
		bad "monitor with FILE did not start either: $(tr '\n' ' ' \
			<"$T/monitor.$MON_N.err")"
		finish
	fi
fi
if grep -q "running as $MUSER" "$T/monitor.$MON_N.err"; then
	ok "monitor dropped to $MUSER"
else
	bad "monitor: no 'running as $MUSER': $(tr '\n' ' ' \
		<"$T/monitor.$MON_N.err")"
fi

round "round 1 (v1)" kb5034441 "80"

# ---- 2. a reviewed change: tcp/443 for patch-up ----

elems >"$T/elems.before"
step "apply v2 (reviewed: patch-up gains tcp/443)"
run_ok "apply v2, the reviewed change" sanso_gw apply "$T/v2.yaml" \
	--state-dir "$S"
survived "apply v2" "$T/elems.before"
status_clean "after apply v2"
table_terse >"$T/table.v2"
follow
round "round 2 (v2)" kb5035853 "80 443"

# ---- 3. an unconfirmed change rolls back ----

elems >"$T/elems.before"
step "apply v3 --confirm 10 (not confirmed)"
run_ok "apply --confirm 10 of v3" sanso_gw apply "$T/v3.yaml" \
	--state-dir "$S" --confirm 10
survived "apply --confirm 10" "$T/elems.before"
if sanso_gw status --state-dir "$S" 2>&1 | grep -q 'pending'; then
	ok "status shows the pending deployment"
else
	bad "status does not show a pending deployment: $(sanso_gw status \
		--state-dir "$S" 2>&1 | tr '\n' ' ')"
fi
follow
round "round 2b (v3 pending)" kb5036892 "80"
elems >"$T/elems.before"
step "waiting for the automatic rollback"
rolled=
for _ in $(seq 300); do
	if [ ! -e "$S/pending" ] &&
		grep -q '"action":"rollback"' "$S/audit.log" 2>/dev/null; then
		rolled=1
		break
	fi
	sleep 0.1
done
step "rolled back: ${rolled:-no}"
if [ -n "$rolled" ]; then
	ok "the unconfirmed change rolled back by itself"
else
	bad "no automatic rollback within 30 s: pending $(tr '\n' ' ' \
		<"$S/pending" 2>/dev/null); audit: $(tail -n 2 "$S/audit.log" \
		2>/dev/null)"
fi
if grep '"action":"rollback-failed"' "$S/audit.log" >/dev/null 2>&1; then
	bad "audit.log: $(grep '"action":"rollback-failed"' "$S/audit.log")"
fi
table_terse >"$T/table.now"
if cmp -s "$T/table.v2" "$T/table.now"; then
	ok "the rollback restored v2's table exactly (set elements aside)"
else
	bad "after the rollback the table is not v2's:" \
		"$(diff "$T/table.v2" "$T/table.now" | head -n 10 | tr '\n' ' ')"
fi
survived "automatic rollback" "$T/elems.before"
status_clean "after the rollback"
follow
round "round 3 (v2 again)" kb5037771 "80 443"

# ---- 4. monitor restart, log rotation ----

elems >"$T/elems.before"
step "monitor restart"
stop_monitor "restart"
if start_monitor; then
	ok "monitor started again"
else
	bad "monitor did not start again: $(tr '\n' ' ' \
		<"$T/monitor.$MON_N.err")"
fi
survived "monitor restart" "$T/elems.before"

step "log rotation: rename, SIGUSR1"
ROTATED=
if [ -e "$ALERTS" ]; then
	mv "$ALERTS" "$ALERTS.1"
	ROTATED=$ALERTS.1
fi
kill -USR1 "$MON_PID"
for _ in $(seq 50); do
	[ -e "$ALERTS" ] && break
	sleep 0.1
done
if [ -e "$ALERTS" ]; then
	ok "SIGUSR1: the alert log is open again at its path"
else
	bad "SIGUSR1: no $ALERTS after 5 s"
fi
if [ -e "$ALERTS" ] && [ "$(stat -c %U "$ALERTS")" != "$MUSER" ]; then
	bad "the new alert log belongs to $(stat -c %U "$ALERTS"), not" \
		"$MUSER: it cannot be reopened after the next rotation"
fi

# ---- 5. reboot ----

elems >"$T/elems.before"
step "reboot: monitor stops, conntrack and the table are gone"
stop_monitor "reboot"
ip netns exec "$GW" conntrack -F >/dev/null 2>&1
ip netns exec "$GW" nft delete table inet sanso
step "boot: apply --fail-closed, apply --deployed"
run_ok "boot: apply --fail-closed" sanso_gw apply --fail-closed \
	--state-dir "$S"
run_ok "boot: apply --deployed" sanso_gw apply --deployed --state-dir "$S"
table_terse >"$T/table.now"
if cmp -s "$T/table.v2" "$T/table.now"; then
	ok "boot: v2's table is back"
else
	bad "boot: the table is not v2's:" \
		"$(diff "$T/table.v2" "$T/table.now" | head -n 10 | tr '\n' ' ')"
fi
step "boot: monitor start"
if start_monitor; then
	ok "boot: monitor started"
else
	bad "boot: monitor did not start: $(tr '\n' ' ' \
		<"$T/monitor.$MON_N.err")"
fi
survived "reboot (restored from the guard's state)" "$T/elems.before"
status_clean "after the reboot"
round "round 4 (after the reboot)" kb5038999 "80 443"
# The premise of the rounds: the relays went where the CDN sent them.
n=$(awk '$3 ~ /cdn-updates/ { print $4 }' "$T/fetched" | sort -u | wc -l)
if [ "$n" -eq $((${#CDN4[@]} + ${#CDN6[@]})) ]; then
	ok "the relays fetched from all $n rotating edge addresses"
else
	bad "the relays fetched from $n edge addresses, not" \
		"$((${#CDN4[@]} + ${#CDN6[@]})): $(awk '$3 ~ /cdn-updates/ {
		print $4 }' "$T/fetched" | sort -u | paste -sd ' ')"
fi

# ---- 6. a relay off its FQDN set ----

step "wsus connects to $OUTSIDE (in no set)"
body=$(ip netns exec "$DMZ" curl -sS --max-time 3 --interface "$WSUS" \
	"http://$OUTSIDE/stray" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then
	ok "wsus -> $OUTSIDE tcp/80 is dropped (curl exit $rc)"
else
	bad "wsus -> $OUTSIDE tcp/80 got through: $body"
fi
if wait_for "\"type\":\"blocked\".*\"dst\":\"$OUTSIDE\"" "$ALERTS" 10; then
	line=$(grep "\"type\":\"blocked\".*\"dst\":\"$OUTSIDE\"" "$ALERTS" |
		head -n 1)
	msg=$(jq -r .message <<<"$line" 2>/dev/null)
	flow=$(jq -r .flow <<<"$line" 2>/dev/null)
	if [ "$flow" = patch-up ] && [[ $msg == *fqdn:msupdate* ]] &&
		[[ $msg == *"$OUTSIDE"* ]]; then
		ok "blocked names the flow and the set: $msg"
	else
		bad "blocked does not name patch-up and fqdn:msupdate:" \
			"flow $flow, message \"$msg\""
	fi
else
	bad "no blocked alert for wsus -> $OUTSIDE in $ALERTS:" \
		"$(tail -n 2 "$ALERTS" 2>/dev/null)"
fi

# ---- the end: the whole run's alerts and logs ----

step "the end"
stop_monitor "the end"
LOGS=()
for f in "$ALERTS.1" "$ALERTS"; do
	[ -s "$f" ] && LOGS+=("$f")
done
all_alerts()
{
	cat "${LOGS[@]}" 2>/dev/null
}
for ty in cross_zone drift config_error; do
	n=$(all_alerts | grep -c "\"type\":\"$ty\"")
	if [ "$n" -eq 0 ]; then
		ok "no $ty alert in the whole run"
	else
		bad "$n $ty alerts, the first: $(all_alerts |
			grep "\"type\":\"$ty\"" | head -n 1)"
	fi
done
others=$(all_alerts | grep '"type":"blocked"' |
	grep -v "\"src\":\"$WSUS\".*\"dst\":\"$OUTSIDE\"")
if [ -z "$others" ]; then
	ok "no other drop in the whole run"
else
	bad "$(grep -c '' <<<"$others") drops besides the one, the first:" \
		"$(head -n 1 <<<"$others")"
fi
lost=$(cat "$T"/monitor.*.err | grep -c 'alert lost')
if [ "$lost" -eq 0 ]; then
	ok "no alert lost"
else
	bad "$lost alerts lost: $(grep -h 'alert lost' "$T"/monitor.*.err |
		head -n 2)"
fi
if [ -n "$ROTATED" ] && [ ! -s "$ROTATED" ]; then
	echo "lifecycle: the rotated part $ROTATED is empty: nothing in it" \
		"to verify" >&2
fi
if [ "${#LOGS[@]}" -gt 0 ] &&
	run_ok "verify-log: the alert log parts (${LOGS[*]##*/})" \
		"$SANSO" verify-log "${LOGS[@]}" --state-dir "$D"; then
	:
elif [ "${#LOGS[@]}" -eq 0 ]; then
	bad "no alert log at all"
fi
run_ok "verify-log: audit.log" "$SANSO" verify-log "$S/audit.log" \
	--state-dir "$S"
# Every step of the life is in the audit trail, in order (other records,
# such as intents, may come between), in the site's one timezone.
want="apply apply apply rollback:confirm fail-closed apply-deployed"
got=$(jq -r 'if .action == "rollback" and ((.detail // "") |
	test("confirm")) then "rollback:confirm" else .action end' \
	"$S/audit.log" 2>&1 | paste -sd ' ')
if awk -v want="$want" -v got="$got" 'BEGIN {
	nw = split(want, w, " "); ng = split(got, g, " "); i = 1
	for (j = 1; j <= ng && i <= nw; j++)
		if (g[j] == w[i])
			i++
	exit i <= nw }'; then
	ok "audit.log records the life: $want"
else
	bad "audit.log records \"$got\", not \"$want\" in order"
fi
offs=$(jq -r '.time[23:]' "$S/audit.log" 2>&1 | sort -u | paste -sd ' ')
if [ "$offs" = "+09:00" ]; then
	ok "audit.log: every time in the site's timezone (+09:00)"
else
	bad "audit.log mixes time offsets: $offs ($(grep -v '+09:00"' \
		"$S/audit.log" | cut -c 1-80))"
fi
status_clean "the end"
FALLBACK_NOTE=
[ -n "$FALLBACK" ] && FALLBACK_NOTE=" (monitor on the FALLBACK: FILE given)"
step "done$FALLBACK_NOTE"
if [ "$fail" -ne 0 ]; then
	echo "--- steps"
	cat "$STEPS"
	echo "--- alerts"
	all_alerts | cut -c 1-400
	echo "--- monitor"
	tail -n 5 "$T"/monitor.*.err
fi
finish
