#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A redundant pair end to end: two gateway namespaces (g1, g2) running
# sanso's ruleset, Debian's keepalived (one sync group over both
# segments) and conntrackd (FTFW on the sync link), with the configs of
# contrib/ha/ adapted to the lab; each zone's namespace holds a bridge
# joined to both gateways, so the virtual addresses move between them.
#
#   dmz ns: br0 10.40.0.10 (relay)      upstream ns: br0 203.0.113.10
#     a1 -- g1:ens7 10.40.0.2             (mirror), .20 (dl.example.test),
#     a2 -- g2:ens7 10.40.0.3             .53 (dnsmasq); b1 -- g1:ens3 .2,
#     VIP 10.40.0.1                       b2 -- g2:ens3 .3; VIP 203.0.113.1
#   g1:sync0 10.255.0.1 -- g2:sync0 10.255.0.2
#
# Checks:
#   - the split brain: with the zone file without gateway.ha, both
#     nodes hold the virtual addresses; with it, one node does;
#   - an established TCP stream through the master goes on through the
#     standby after the master's links go down;
#   - a name the relay resolved through the master's DNS guard opens on
#     the standby right after failover, without a new query (sanso's
#     replication), and was armed there within 1 s;
#   - without ha.key the guard names the missing file;
#   - a rule added by hand on g2: peer_drift on both nodes, once, and
#     g1's `sanso status` says the peer differs (exit 1);
#   - failback: the first node is master again, the other holds no
#     virtual address, new connections and the stream pass.
#   - alerts once per pair: `sanso monitor` on both nodes, each with
#     its role file (--ha-role) written by the notify script: a
#     dropped connection (blocked) and the logged, off-hours flow
#     (logged, off_hours) are reported by the master only; a drop at
#     the backup's own address is counted there, not sent; after
#     failover the new master reports a new drop and a new connection
#     and the old master does not, and the stream conntrackd carried
#     over raises nothing on the new master (counted as carried); no
#     alert (type, src, dst, dport, sport) is in both nodes' files;
#     verify-log passes both alert logs.
#
# Needs root, network namespaces, keepalived, conntrackd, dnsmasq, dig,
# nft, python3 (contrib/install-deps.sh). SANSO names the binary.
# Only addresses inside the namespaces it creates are used. Prints an
# ok:/FAIL: line per check and "N passed, N failed".

set -u

# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/results.sh
. "$(dirname "$0")/results.sh"

need_root ha
for t in keepalived conntrackd dnsmasq dig nft python3; do
	if ! command -v "$t" >/dev/null; then
		echo "ha lab: $t not found (contrib/install-deps.sh)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

lab_init || { echo "0 passed, 1 failed"; exit 1; }
case $SANSO in
/*) ;;
*) SANSO=$PWD/$SANSO ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
NOTIFY=$HERE/../../contrib/ha/sanso-ha-notify
T=$LAB_DIR
G[1]=$LAB_PFX-g1
G[2]=$LAB_PFX-g2
DMZ=$LAB_PFX-dmz
UP=$LAB_PFX-up
RELAY=10.40.0.10
MIRROR=203.0.113.10
DL=203.0.113.20
UPDNS=203.0.113.53

# ---- the zone files: the same but for gateway.ha ----

zone()
{
	cat <<EOF
version: 1
site: halab
zones:
  dmz: { tier: dmz, interfaces: [ens7], networks: [10.40.0.0/24] }
  upstream: { tier: external, interfaces: [ens3], networks: [0.0.0.0/0] }
hosts:
  relay: { zone: dmz, address: $RELAY, role: update-relay }
  mirror: { zone: upstream, address: $MIRROR }
fqdn_sets:
  updates:
    names: [dl.example.test]
    min_ttl: 120
schedules:
  past:
    windows:
      - { from: "2020-01-01T00:00", to: "2020-01-02T00:00" }
flows:
  - name: relay-mirror
    from: relay
    to: mirror
    services: [tcp/80]
    log: true
    alert_outside: past
  - name: relay-updates
    from: relay
    to: fqdn:updates
    services: [tcp/80]
gateway:
  dns:
    upstream: ["$UPDNS"]
    listen: ["10.40.0.1"]
EOF
}
zone >"$T/single.yaml"
{
	zone
	cat <<EOF
  ha:
    nodes: [10.255.0.1, 10.255.0.2]
    sync_interface: sync0
EOF
} >"$T/pair.yaml"

# ---- the namespaces ----

build()
{
	local i
	for ns in "${G[1]}" "${G[2]}" "$DMZ" "$UP"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		lab_sysctl "$ns" net/ipv4/conf/all/rp_filter=0 \
			net/ipv4/conf/default/rp_filter=0 || return 1
	done
	for i in 1 2; do
		lab_sysctl "${G[$i]}" net/ipv4/ip_forward=1 || return 1
	done
	ip -n "$DMZ" link add br0 type bridge || return 1
	ip -n "$UP" link add br0 type bridge || return 1
	for i in 1 2; do
		ip -n "${G[$i]}" link add ens7 type veth peer name a$i \
			netns "$DMZ" || return 1
		ip -n "${G[$i]}" link add ens3 type veth peer name b$i \
			netns "$UP" || return 1
		ip -n "$DMZ" link set a$i master br0 up || return 1
		ip -n "$UP" link set b$i master br0 up || return 1
		ip -n "${G[$i]}" addr add 10.40.0.$((i + 1))/24 dev ens7
		ip -n "${G[$i]}" addr add 203.0.113.$((i + 1))/24 dev ens3
		ip -n "${G[$i]}" link set ens7 up
		ip -n "${G[$i]}" link set ens3 up
	done
	ip -n "${G[1]}" link add sync0 type veth peer name sync0 \
		netns "${G[2]}" || return 1
	for i in 1 2; do
		ip -n "${G[$i]}" addr add 10.255.0.$i/24 dev sync0
		ip -n "${G[$i]}" link set sync0 up
	done
	ip -n "$DMZ" link set br0 up
	ip -n "$DMZ" addr add $RELAY/24 dev br0
	ip -n "$DMZ" route add default via 10.40.0.1
	ip -n "$UP" link set br0 up
	ip -n "$UP" addr add $MIRROR/24 dev br0
	ip -n "$UP" addr add $DL/32 dev br0
	ip -n "$UP" addr add $UPDNS/32 dev br0
	ip -n "$UP" route add 10.40.0.0/24 via 203.0.113.1
}

apply()
{
	mkdir -p "$T/s$1"
	ip netns exec "${G[$1]}" timeout 60 "$SANSO" apply "$2" \
		--state-dir "$T/s$1" >>"$T/apply$1.out" 2>&1
}

# ---- keepalived, conntrackd ----

configs()
{
	local i prio peer
	for i in 1 2; do
		prio=$((i == 1 ? 150 : 100))
		peer=$((3 - i))
		cat >"$T/ka$i.conf" <<EOF
global_defs {
	router_id halab-$i
	script_user root
	enable_script_security
}
vrrp_sync_group SANSO {
	group {
		DMZ
		UPSTREAM
	}
	notify_master "$NOTIFY master $T/ctd$i.conf $T/role$i"
	notify_backup "$NOTIFY backup $T/ctd$i.conf $T/role$i"
	notify_fault "$NOTIFY fault $T/ctd$i.conf $T/role$i"
}
vrrp_instance DMZ {
	state BACKUP
	interface ens7
	virtual_router_id 40
	priority $prio
	advert_int 1
	virtual_ipaddress {
		10.40.0.1/24
	}
}
vrrp_instance UPSTREAM {
	state BACKUP
	interface ens3
	virtual_router_id 3
	priority $prio
	advert_int 1
	virtual_ipaddress {
		203.0.113.1/24
	}
}
EOF
		cat >"$T/ctd$i.conf" <<EOF
Sync {
	Mode FTFW {
		ResendQueueSize 131072
		PurgeTimeout 5
	}
	UDP {
		IPv4_address 10.255.0.$i
		IPv4_Destination_Address 10.255.0.$peer
		Port 3780
		Interface sync0
		Checksum on
	}
}
General {
	HashSize 8192
	HashLimit 65536
	LogFile $T/ctd$i.log
	Syslog off
	LockFile $T/ctd$i.lock
	UNIX {
		Path $T/ctd$i.sock
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Userspace {
		Protocol Accept {
			TCP
			UDP
		}
		Address Ignore {
			IPv4_address 127.0.0.1
			IPv4_address 10.255.0.1
			IPv4_address 10.255.0.2
		}
	}
}
EOF
	done
}

start_keepalived()
{
	ip netns exec "${G[$1]}" keepalived -f "$T/ka$1.conf" \
		-p "$T/ka$1.pid" -r "$T/ka$1-vrrp.pid" -c "$T/ka$1-chk.pid" \
		-n -l -D -G >>"$T/ka$1.log" 2>&1 &
	LAB_PIDS+=("$!")
}

start_conntrackd()
{
	ip netns exec "${G[$1]}" conntrackd -C "$T/ctd$1.conf" \
		>>"$T/ctd$1.out" 2>&1 &
	LAB_PIDS+=("$!")
}

# Whether node $1 holds the virtual address of the DMZ ($2 = 1) and of
# the upstream segment.
holds()
{
	ip -n "${G[$1]}" -4 addr show dev ens7 | grep -q 'inet 10\.40\.0\.1/' &&
	ip -n "${G[$1]}" -4 addr show dev ens3 | grep -q 'inet 203\.0\.113\.1/'
}

holds_any()
{
	ip -n "${G[$1]}" -4 addr show | grep -Eq \
		'inet (10\.40\.0\.1|203\.0\.113\.1)/'
}

# Waits up to $2 s for exactly node $1 to be master (holding both
# virtual addresses, the other none).
wait_master()
{
	local want=$1 other=$((3 - $1)) _
	for _ in $(seq $(($2 * 10))); do
		if holds "$want" && ! holds_any "$other"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ---- the traffic ----

# A slow stream: a line every 50 ms for $2 s, on $1:80.
serve()
{
	ip netns exec "$UP" python3 - "$1" "$2" >>"$T/serve.log" 2>&1 <<'EOF' &
import socket, sys, threading, time
addr, secs = sys.argv[1], float(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, 80))
s.listen(16)
def stream(c):
    try:
        end = time.time() + secs
        n = 0
        while time.time() < end:
            n += 1
            c.sendall(b"%d\n" % n)
            time.sleep(0.05)
        c.sendall(b"end\n")
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=stream, args=(c,), daemon=True).start()
EOF
	LAB_PIDS+=("$!")
}

# The relay reads the stream of $1 into $2: the last line, then "end" or
# "error ..." when it stops.
fetch_stream()
{
	ip netns exec "$DMZ" python3 - "$1" "$2" <<'EOF' &
import socket, sys
addr, out = sys.argv[1], sys.argv[2]
def note(s):
    with open(out + ".tmp", "w") as f:
        f.write(s + "\n")
    import os
    os.replace(out + ".tmp", out)
try:
    c = socket.create_connection((addr, 80), timeout=5)
    with open(out + ".sport", "w") as f:
        f.write("%d\n" % c.getsockname()[1])
    c.settimeout(30)
    buf = b""
    while True:
        d = c.recv(4096)
        if not d:
            note("error closed")
            break
        buf += d
        lines = buf.split(b"\n")
        buf = lines[-1]
        last = lines[-2].decode() if len(lines) > 1 else None
        if last == "end":
            note("end")
            break
        if last:
            note(last)
except OSError as e:
    note("error %s" % e)
EOF
	LAB_PIDS+=("$!")
}

# One short connection from the relay to $1:80: 0 when it gets a line.
connect()
{
	ip netns exec "$DMZ" python3 - "$1" <<'EOF'
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], 80), timeout=2)
    c.settimeout(2)
    sys.exit(0 if c.recv(16) else 1)
except OSError:
    sys.exit(1)
EOF
}

count()
{
	local v
	v=$(cat "$1" 2>/dev/null)
	case $v in
	'' | *[!0-9]*) echo -1 ;;
	*) echo "$v" ;;
	esac
}

# ==== the run ====

if ! build; then
	bad "building the namespaces"
	finish
fi
configs
for i in 1 2; do
	if ! apply $i "$T/single.yaml"; then
		bad "apply of the zone file without gateway.ha on g$i:" \
			"$(cat "$T/apply$i.out")"
		finish
	fi
done
for i in 1 2; do
	start_conntrackd $i
	start_keepalived $i
done

# The split brain of the issue: sanso's input chain drops VRRP, so each
# node hears no master and claims every address. keepalived needs 3
# advertisement intervals plus its skew before it claims them: about 4 s,
# longer on a loaded machine, so up to 20 s.
for _ in $(seq 40); do
	holds 1 && holds 2 && break
	sleep 0.5
done
if holds 1 && holds 2; then
	ok "without gateway.ha both nodes hold the virtual addresses" \
		"(the split brain reproduced)"
else
	bad "without gateway.ha the split brain did not show" \
		"(g1: $(holds 1 && echo master), g2: $(holds 2 && echo master))"
fi

for i in 1 2; do
	apply $i "$T/pair.yaml" || bad "apply of the pair's zone file on g$i"
done
if wait_master 1 8; then
	ok "with gateway.ha one node is master (g1), the other holds nothing"
else
	bad "with gateway.ha: g1 $(holds 1 && echo holds), g2" \
		"$(holds_any 2 && echo holds) virtual addresses"
fi
# ---- sanso monitor on both nodes ----

start_monitor()
{
	mkdir -p "$T/m$1"
	ip netns exec "${G[$1]}" "$SANSO" monitor --no-dnsguard \
		--state-dir "$T/s$1" --data-dir "$T/m$1" \
		--jsonl "$T/alerts$1.jsonl" --ha-role "$T/role$1" \
		>>"$T/mon$1.log" 2>&1 &
	MON[$1]=$!
	LAB_PIDS+=("$!")
}

# n_alerts NODE TYPE DST DPORT: how many alerts of TYPE to DST:DPORT
# node NODE's file holds.
n_alerts()
{
	python3 - "$T/alerts$1.jsonl" "$2" "$3" "$4" <<'EOF'
import json, sys
path, kind, dst, dport = sys.argv[1:]
n = 0
try:
    for line in open(path):
        try:
            a = json.loads(line)
        except ValueError:
            continue
        if (a.get("type") == kind and a.get("dst") == dst and
                str(a.get("dport")) == dport):
            n += 1
except OSError:
    pass
print(n)
EOF
}

# wait_alert NODE TYPE DST DPORT [SECS]: until node NODE reported one.
wait_alert()
{
	local _
	for _ in $(seq $((${5:-5} * 10))); do
		[ "$(n_alerts "$1" "$2" "$3" "$4")" -gt 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# A connection from the relay that the ruleset drops: 0 when it timed
# out (dropped), 1 when it was answered or refused.
dropped()
{
	ip netns exec "$DMZ" timeout 10 python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except socket.timeout:
    sys.exit(0)
except OSError:
    pass
sys.exit(1)
EOF
}

for i in 1 2; do
	start_monitor $i
done
if wait_for 'pair role master' "$T/mon1.log" 10 &&
	wait_for 'pair role backup' "$T/mon2.log" 10; then
	ok "the monitors read their roles: g1 master, g2 backup"
else
	bad "the monitors' roles: g1 \"$(grep 'pair role' "$T/mon1.log")\"," \
		"g2 \"$(grep 'pair role' "$T/mon2.log")\""
fi

# Nothing else is open: the sync link admits only the pair's ports.
if ip netns exec "${G[2]}" nft list chain inet sanso input |
	grep -q 'gateway:ha-sync'; then
	ok "the input chain has the pair's sync rule"
else
	bad "no gateway:ha-sync rule in the input chain"
fi
# A drop gives a timeout; a refusal or an answer means it got through.
if ip netns exec "${G[1]}" timeout 10 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.connect(("10.255.0.2", 22))
except socket.timeout:
    sys.exit(0)
except OSError:
    pass
sys.exit(1)'; then
	ok "the sync link drops what is not the pair's (tcp/22 to the peer)"
else
	bad "tcp/22 from g1 to g2 over the sync link was not dropped"
fi

# ---- the DNS guard on both nodes ----

cat >"$T/dnsmasq.conf" <<EOF
no-resolv
no-hosts
no-poll
listen-address=$UPDNS
bind-interfaces
user=root
group=root
local=/example.test/
host-record=dl.example.test,$DL,300
log-queries
log-facility=$T/dnsmasq.log
EOF
ip netns exec "$UP" dnsmasq -k --conf-file="$T/dnsmasq.conf" \
	--pid-file="$T/dnsmasq.pid" 2>>"$T/dnsmasq.err" &
LAB_PIDS+=("$!")
for i in 1 2; do
	ip netns exec "${G[$i]}" "$SANSO" dnsguard "$T/pair.yaml" \
		--state-dir "$T/s$i" -v >>"$T/guard$i.log" 2>&1 &
	LAB_PIDS+=("$!")
done
# Without the pair's key the guard names it and runs unreplicated.
if wait_for "replication to the peer is off: no $T/s1/ha.key \\(make it" \
	"$T/guard1.log" 5; then
	ok "without ha.key the guard says which file is missing"
else
	bad "no diagnostic for the missing ha.key: $(grep replication \
		"$T/guard1.log")"
fi
# The pair's shared key: made on one node, copied to the other, each
# renamed into place whole (the guard retries the open each tick).
(
	umask 077
	head -c 32 /dev/urandom >"$T/ha.key"
	for i in 1 2; do
		cp "$T/ha.key" "$T/s$i/.ha.key" && mv "$T/s$i/.ha.key" "$T/s$i/ha.key"
	done
)
queries()
{
	grep -c 'query\[A\] dl.example.test' "$T/dnsmasq.log" 2>/dev/null
}
has_elem()
{
	ip netns exec "${G[$1]}" nft list set inet sanso fqdn-updates-v4 \
		2>/dev/null | grep -q "$DL"
}
for _ in $(seq 50); do
	[ "$(grep -l replicating "$T/guard1.log" "$T/guard2.log" \
		2>/dev/null | wc -l)" -eq 2 ] && break
	sleep 0.1
done
got=$(ip netns exec "$DMZ" dig +short +tries=1 +time=2 @10.40.0.1 \
	dl.example.test A 2>&1)
t0=$(date +%s%N)
if [ "$got" = "$DL" ]; then
	ok "the relay resolves dl.example.test through g1's guard"
else
	bad "the relay's query through the guard: \"$got\""
fi
armed=
for _ in $(seq 20); do
	if has_elem 2; then
		armed=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.05
done
if [ -n "$armed" ] && has_elem 1; then
	ok "g2 armed what g1's guard learned within 1 s (${armed} ms)"
else
	bad "g2's fqdn-updates-v4 lacks $DL 1 s after g1 armed it" \
		"($(tail -n 3 "$T/guard2.log" | tr '\n' ' '))"
fi
serve "$DL" 60

# ---- failover under a stream ----

serve "$MIRROR" 40
sleep 0.5
if connect "$MIRROR"; then
	ok "the relay reaches the mirror through g1"
else
	bad "no connection relay -> mirror through g1"
fi
fetch_stream "$MIRROR" "$T/stream"
sleep 3
before=$(count "$T/stream")
if [ "$before" -gt 0 ]; then
	ok "the stream runs through g1 ($before lines)"
else
	bad "the stream did not start: $(cat "$T/stream" 2>/dev/null)"
fi
# ---- alerts from the master only ----

if dropped "$MIRROR" 22 && wait_alert 1 blocked "$MIRROR" 22; then
	ok "a dropped connection (relay -> mirror tcp/22): blocked from g1"
else
	bad "relay -> mirror tcp/22: $(n_alerts 1 blocked "$MIRROR" 22)" \
		"blocked alerts from g1"
fi
if wait_alert 1 logged "$MIRROR" 80 && wait_alert 1 off_hours "$MIRROR" 80
then
	ok "the logged flow outside its schedule: logged and off_hours" \
		"from g1"
else
	bad "relay -> mirror tcp/80 on g1: $(n_alerts 1 logged "$MIRROR" 80)" \
		"logged, $(n_alerts 1 off_hours "$MIRROR" 80) off_hours"
fi
# The same drop at each node's own address: only the backup's is quiet.
dropped 10.40.0.2 22
dropped 10.40.0.3 22
if wait_alert 1 blocked 10.40.0.2 22; then
	ok "a drop at the master's own address is reported by g1"
else
	bad "no blocked alert from g1 for 10.40.0.2 tcp/22"
fi
sleep 1
n2=0
for a in blocked logged off_hours cross_zone; do
	for d in "$MIRROR 22" "$MIRROR 80" "10.40.0.3 22"; do
		# shellcheck disable=SC2086
		n2=$((n2 + $(n_alerts 2 $a $d)))
	done
done
if [ "$n2" = 0 ]; then
	ok "g2 (backup) sent none of them, nor the drop at its own address"
else
	bad "g2 (backup) sent $n2 connection alerts: $(cat "$T/alerts2.jsonl")"
fi

# conntrackd has the stream in g2's external cache.
if ip netns exec "${G[2]}" conntrackd -C "$T/ctd2.conf" -e 2>/dev/null |
	grep -q "dst=$MIRROR"; then
	ok "g2's conntrackd holds the stream in its external cache"
else
	bad "g2's external cache lacks the stream"
fi

ip -n "${G[1]}" link set ens7 down
ip -n "${G[1]}" link set ens3 down
t0=$(date +%s.%N)
if wait_master 2 8; then
	ok "g1's links down: g2 is master ($(echo "$(date +%s.%N) - $t0" |
		bc 2>/dev/null || echo '?') s)"
else
	bad "g1's links down: g2 did not take both addresses"
fi
sleep 4
after=$(count "$T/stream")
if [ "$after" -gt $((before + 40)) ]; then
	ok "the established stream goes on through g2 ($before -> $after lines)"
else
	bad "the stream stopped at failover: $(cat "$T/stream")" \
		"(before $before)"
fi
if connect "$MIRROR"; then
	ok "a new connection passes g2"
else
	bad "a new connection relay -> mirror does not pass g2"
fi
q0=$(queries)
if connect "$DL"; then
	ok "the relay's fetch of dl.example.test passes g2 after failover"
else
	bad "the relay's fetch of $DL does not pass g2 after failover"
fi
if [ "$(queries)" = "$q0" ] && [ "$q0" = 1 ]; then
	ok "... without a new DNS query (upstream asked once in all)"
else
	bad "upstream queries: $q0 before the fetch, $(queries) after"
fi

if wait_for 'pair role master' "$T/mon2.log" 5 &&
	grep -Eq 'pair role (fault|backup)' "$T/mon1.log"; then
	ok "the monitors follow: g2 master, g1 $(grep -Eo \
		'pair role (fault|backup)' "$T/mon1.log" | tail -n 1)"
else
	bad "after failover, roles read: g1 \"$(grep 'pair role' \
		"$T/mon1.log" | tail -n 1)\", g2 \"$(grep 'pair role' \
		"$T/mon2.log" | tail -n 1)\""
fi
if dropped "$MIRROR" 23 && wait_alert 2 blocked "$MIRROR" 23 &&
	[ "$(n_alerts 1 blocked "$MIRROR" 23)" = 0 ]; then
	ok "after failover a new drop (tcp/23) is reported by g2, not g1"
else
	bad "after failover, tcp/23: g2 $(n_alerts 2 blocked "$MIRROR" 23)," \
		"g1 $(n_alerts 1 blocked "$MIRROR" 23) blocked alerts"
fi
if wait_alert 2 off_hours "$MIRROR" 80 && wait_alert 2 logged "$MIRROR" 80
then
	ok "the new connection through g2 is reported by g2"
else
	bad "g2 did not report the new relay -> mirror connection"
fi

# ---- failback ----

ip -n "${G[1]}" link set ens7 up
ip -n "${G[1]}" link set ens3 up
if wait_master 1 10; then
	ok "failback: g1 is master again, g2 holds no virtual address"
else
	bad "failback: g1 $(holds 1 && echo holds) g2" \
		"$(holds_any 2 && echo holds) virtual addresses"
fi
sleep 3
again=$(count "$T/stream")
if [ "$again" -gt $((after + 20)) ]; then
	ok "the stream survives the failback ($after -> $again lines)"
else
	bad "the stream stopped at failback: $(cat "$T/stream")" \
		"(after failover $after)"
fi
if connect "$MIRROR"; then
	ok "a new connection passes g1 after failback"
else
	bad "a new connection does not pass g1 after failback"
fi
if [ "$(cat "$T/role1" 2>/dev/null)" = master ] &&
	[ "$(cat "$T/role2" 2>/dev/null)" = backup ]; then
	ok "the notify script recorded g1 master, g2 backup"
else
	bad "roles recorded: g1 $(cat "$T/role1" 2>/dev/null)," \
		"g2 $(cat "$T/role2" 2>/dev/null)"
fi

# ---- once per pair, over the whole run ----

for i in 1 2; do
	kill -TERM "${MON[$i]}" 2>/dev/null
	wait "${MON[$i]}" 2>/dev/null
done
both=$(python3 - "$T/alerts1.jsonl" "$T/alerts2.jsonl" <<'EOF'
import json, sys
def keys(path):
    k = set()
    try:
        for line in open(path):
            try:
                a = json.loads(line)
            except ValueError:
                continue
            if a.get("src") is not None:
                k.add((a.get("type"), a.get("src"), a.get("dst"),
                       a.get("dport"), a.get("sport")))
    except OSError:
        pass
    return k
for k in sorted(keys(sys.argv[1]) & keys(sys.argv[2]), key=str):
    print(" ".join(str(x) for x in k))
EOF
)
if [ -z "$both" ]; then
	ok "no alert is in both nodes' files ($(grep -c '"type"' \
		"$T/alerts1.jsonl") from g1, $(grep -c '"type"' \
		"$T/alerts2.jsonl") from g2)"
else
	bad "alerts reported by both nodes: $both"
fi
# The exit line: "pair: Q connection alerts left to the master, C
# connections carried over from the old master".
pair_count()
{
	sed -n "s/.*pair: \([0-9]*\) connection alerts\{0,1\} left to the master, \([0-9]*\) connection.*/\\$2/p" \
		"$T/mon$1.log" | tail -n 1
}
carried=$(pair_count 2 2)
sport=$(cat "$T/stream.sport" 2>/dev/null)
if [ "${carried:-0}" -gt 0 ] && [ -n "$sport" ] &&
	! grep -q "\"sport\":$sport," "$T/alerts2.jsonl"; then
	ok "g2 counted $carried connection(s) carried over and reported" \
		"nothing for the stream (sport $sport)"
else
	bad "carried over on g2: \"$(grep 'pair:' "$T/mon2.log")\"," \
		"the stream's sport $sport in g2's alerts:" \
		"$(grep -c "\"sport\":$sport," "$T/alerts2.jsonl")"
fi
quiet=$(pair_count 2 1)
if [ "${quiet:-0}" -gt 0 ]; then
	ok "g2 counted $quiet connection alert(s) left to the master"
else
	bad "g2's count of alerts left to the master: $(grep 'pair:' \
		"$T/mon2.log")"
fi
for i in 1 2; do
	if "$SANSO" verify-log "$T/alerts$i.jsonl" --state-dir "$T/m$i" \
		>"$T/verify$i.out" 2>&1; then
		ok "verify-log: g$i's alert log intact"
	else
		bad "verify-log of g$i's alerts: $(cat "$T/verify$i.out")"
	fi
done

# ---- one deployment on both: peer_drift ----

status1()
{
	ip netns exec "${G[1]}" "$SANSO" status --state-dir "$T/s1" \
		>"$T/status1" 2>&1
}
for _ in $(seq 60); do
	grep -q '^peer: runs the same table' "$T/status1" 2>/dev/null && break
	status1
	sleep 0.2
done
if status1 && grep -q '^peer: runs the same table' "$T/status1"; then
	ok "g1's status: the peer runs the same table (exit 0)"
else
	bad "g1's status before the change: $(grep peer "$T/status1")" \
		"(exit $(status1; echo $?))"
fi
ip netns exec "${G[2]}" nft add rule inet sanso input tcp dport 2222 accept
rc=0
for _ in $(seq 30); do
	status1
	rc=$?
	grep -q '^peer: DIFFERS' "$T/status1" && break
	sleep 1
done
if [ "$rc" = 1 ] && grep -q '^peer: DIFFERS' "$T/status1"; then
	ok "a rule added by hand on g2: g1's status says the peer differs" \
		"(exit 1)"
else
	bad "g1's status after the change on g2: exit $rc," \
		"$(grep peer "$T/status1")"
fi
if grep -q 'alert peer_drift' "$T/guard1.log" &&
	grep -q 'alert peer_drift' "$T/guard2.log"; then
	ok "both nodes raised peer_drift"
else
	bad "peer_drift: g1 $(grep -c 'alert peer_drift' "$T/guard1.log")," \
		"g2 $(grep -c 'alert peer_drift' "$T/guard2.log") alerts"
fi
if [ "$(grep -c 'alert peer_drift' "$T/guard1.log")" = 1 ]; then
	ok "peer_drift once for one difference"
else
	bad "g1 raised peer_drift $(grep -c 'alert peer_drift' \
		"$T/guard1.log") times for one difference"
fi

finish
