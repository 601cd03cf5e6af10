#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `sanso compile --dnsmasq` with Debian's dnsmasq: the gateway namespace
# runs sanso's ruleset and a dnsmasq that reads the generated file (and
# the server=, listen-address= and no-resolv lines its header asks for);
# an upstream namespace runs another dnsmasq serving the test names.
#
# Asserts: the generated file has no "*." domain (dnsmasq 2.90 silently
# ignores one, which the test shows with an old-style line); a name
# below a wildcard pattern, at any depth, lands in the -v4 and -v6 sets
# as soon as the relay has the answer, and its address opens on tcp/443;
# the bare domain of a wildcard is admitted too, as the header warns; an
# exact name is; a name no set covers is answered but never added; the
# elements carry no timeout, and once the sets are emptied answers from
# dnsmasq's cache do not refill them until a SIGHUP, as the header warns.
#
# Needs root, network namespaces, dig (Debian dnsutils), dnsmasq
# (Debian dnsmasq-base). SANSO names the sanso binary. Prints each
# failure and a final "N passed, N failed" line.

set -u

. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/lab/results.sh
. "$(dirname "$0")/results.sh"

check()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		bad "$1: expected \"$2\", got \"$3\""
	fi
}

need_root dnsmasq
for t in dig dnsmasq nft; do
	if ! command -v "$t" >/dev/null; then
		echo "dnsmasq lab: $t not found (contrib/install-deps.sh:" \
			"dnsutils, dnsmasq-base, nftables)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

lab_init || { echo "0 passed, 1 failed"; exit 1; }

# The gateway's dnsmasq answers on 10.40.0.1 (DMZ side); the relay is
# 10.40.0.10; the upstream dnsmasq listens on 198.51.100.53 in the
# upstream namespace, which also owns the web servers (TEST-NET ranges,
# nothing leaves the namespaces).
GUARD=10.40.0.1
RELAY=10.40.0.10
UPDNS=198.51.100.53
ZONE=$LAB_DIR/zone.yaml

cat >"$ZONE" <<EOF
version: 1
site: dnsmasqlab
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
    names: [update.example.test, "*.wild.example.test"]
flows:
  - name: relay-out
    from: relay
    to: fqdn:updates
    services: [tcp/443]
gateway:
  dns:
    upstream: ["$UPDNS"]
    listen: ["$GUARD"]
EOF

cat >"$LAB_DIR/upstream.conf" <<EOF
no-resolv
no-hosts
listen-address=$UPDNS
bind-interfaces
user=root
group=root
pid-file=
local=/example.test/
local-ttl=5
host-record=update.example.test,203.0.113.10,5
host-record=other.example.test,203.0.113.30,5
host-record=wild.example.test,203.0.113.21,5
address=/wild.example.test/203.0.113.20
address=/wild.example.test/2001:db8:100::20
address=/old.example.test/203.0.113.40
EOF

if ! "$SANSO" compile --dnsmasq "$ZONE" -o "$LAB_DIR/sanso.conf" \
	2>"$LAB_DIR/compile.err"; then
	bad "compile --dnsmasq: $(cat "$LAB_DIR/compile.err")"
	finish
fi
check "no \"*.\" domain in the nftset= lines" "" \
	"$(grep '^nftset=' "$LAB_DIR/sanso.conf" | grep -F '/*.')"
# What the header says dnsmasq also needs, with the zone file's values.
for k in "server=$UPDNS" "listen-address=$GUARD" no-resolv; do
	check "header names $k" yes \
		"$(grep -q "^#   $k\( \|$\)" "$LAB_DIR/sanso.conf" &&
			echo yes)"
done
cat >"$LAB_DIR/gateway.conf" <<EOF
no-resolv
no-hosts
server=$UPDNS
listen-address=$GUARD
bind-interfaces
user=root
group=root
pid-file=
conf-file=$LAB_DIR/sanso.conf
# dnsmasq's stop-dns-rebind counts the TEST-NET ranges as private too.
rebind-domain-ok=/example.test/
# The form sanso wrote before: dnsmasq 2.90 ignores it without a word.
nftset=/*.old.example.test/4#inet#sanso#fqdn-updates-v4
EOF
check "dnsmasq --test accepts the generated file" 0 \
	"$(dnsmasq --test --conf-file="$LAB_DIR/gateway.conf" \
		>/dev/null 2>&1; echo $?)"

if ! { lab_plan "$ZONE" && lab_build && lab_load "$ZONE"; }; then
	bad "building the lab"
	finish
fi
UP=$(lab_ns upstream)
DMZ=$(lab_ns dmz)
GW=$LAB_GW
ip -n "$GW" addr add "$GUARD/32" dev ens7 || bad "gateway DNS address"
for a in $UPDNS 203.0.113.10 203.0.113.20 203.0.113.21 203.0.113.30 \
	203.0.113.40; do
	ip -n "$UP" addr add "$a/32" dev eth0
done
printf 'tcp 0.0.0.0 443\n' >"$LAB_DIR/listen.web"
lab_listen "$UP" "$LAB_DIR/listen.web" || bad "web listeners"

# start NS CONF LOG ADDR: a dnsmasq in NS, up once it answers at ADDR.
start_dnsmasq()
{
	ip netns exec "$1" dnsmasq -k --conf-file="$2" 2>>"$3" &
	LAB_PIDS+=("$!")
	for _ in $(seq 50); do
		ip netns exec "$1" dig +tries=1 +time=1 @"$4" \
			update.example.test >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# q NAME [TYPE]: the addresses the relay gets from the gateway.
q()
{
	ip netns exec "$DMZ" dig +tries=1 +time=2 -b "$RELAY" @"$GUARD" \
		"$1" "${2:-A}" +short 2>/dev/null | sort | tr '\n' ' ' |
		sed 's/ $//'
}

probe()
{
	echo "1 tcp $RELAY $1 443" | ip netns exec "$DMZ" \
		"$LAB_TOOLS/labprobe" -t 1500 2>/dev/null | awk '{ print $2 }'
}

set_list()
{
	ip netns exec "$GW" nft list set inet sanso "fqdn-updates-$1" \
		2>/dev/null
}

in_set()
{
	local fam=v4
	case $1 in *:*) fam=v6 ;; esac
	if set_list "$fam" | grep -qw -- "$1"; then
		echo yes
	else
		echo no
	fi
}

start_dnsmasq "$UP" "$LAB_DIR/upstream.conf" "$LAB_DIR/upstream.log" \
	"$UPDNS" || bad "upstream dnsmasq: $(cat "$LAB_DIR/upstream.log")"
GWDNS_PID=
if start_dnsmasq "$GW" "$LAB_DIR/gateway.conf" "$LAB_DIR/gateway.log" \
	"$GUARD"; then
	GWDNS_PID=${LAB_PIDS[-1]}
else
	bad "gateway dnsmasq: $(cat "$LAB_DIR/gateway.log")"
fi

check "closed before any answer" closed "$(probe 203.0.113.20)"
# A name two labels below the wildcard: the answer is checked at once,
# since dnsmasq adds to the set before it answers.
check "a.b.wild.example.test A" 203.0.113.20 "$(q a.b.wild.example.test)"
check "wildcard name's address in the v4 set" yes "$(in_set 203.0.113.20)"
check "wildcard name's address opens tcp/443" open "$(probe 203.0.113.20)"
check "a.b.wild.example.test AAAA" 2001:db8:100::20 \
	"$(q a.b.wild.example.test AAAA)"
check "wildcard name's address in the v6 set" yes \
	"$(in_set 2001:db8:100::20)"
check "the wildcard's bare domain is admitted too (the header says so)" \
	"203.0.113.21 yes" "$(q wild.example.test) $(in_set 203.0.113.21)"
check "exact name in the set" "203.0.113.10 yes" \
	"$(q update.example.test) $(in_set 203.0.113.10)"
check "a name no set covers is answered" 203.0.113.30 \
	"$(q other.example.test)"
check "... but not added" no "$(in_set 203.0.113.30)"
check "... and stays closed" closed "$(probe 203.0.113.30)"
check "the old \"/*.d/\" form fills nothing" "203.0.113.40 no" \
	"$(q x.old.example.test) $(in_set 203.0.113.40)"
check "dnsmasq's elements carry no timeout (the header says so)" "" \
	"$(set_list v4 | grep -o 'expires')"

# A load empties the sets (a flush stands for it here): answers from
# dnsmasq's cache do not refill them, a SIGHUP (which empties the
# cache) makes the next answer do so, as the header says.
ip netns exec "$GW" nft flush set inet sanso fqdn-updates-v4
check "cached answer after the sets were emptied" 203.0.113.10 \
	"$(q update.example.test)"
check "... does not refill the set" no "$(in_set 203.0.113.10)"
[ -n "$GWDNS_PID" ] && kill -HUP "$GWDNS_PID"
sleep 0.5
check "after SIGHUP the answer" 203.0.113.10 "$(q update.example.test)"
check "... refills the set" yes "$(in_set 203.0.113.10)"

if [ "$fail" -ne 0 ]; then
	echo "--- generated"
	cat "$LAB_DIR/sanso.conf"
	echo "--- gateway dnsmasq"
	tail -n 20 "$LAB_DIR/gateway.log"
	echo "--- sets"
	set_list v4
	set_list v6
fi
finish
