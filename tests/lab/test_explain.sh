#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `sanso explain` against the kernel: builds the namespace lab of a zone
# file (tests/lab/lib.sh) with its ruleset loaded in the gateway, sends
# a few hundred random probes as real packets -- a random pair of
# zones, an address of each (hosts, the plan's addresses and random
# ones inside the zones' networks), a service from the file's flows or
# another one, TCP, UDP and ICMP echo, IPv4 and IPv6 -- and asserts
# for every probe that explain's verdict (exit 0: permitted) is what
# the packet did. FQDN sets stay empty, as explain assumes.
#
# Usage: test_explain.sh [FILE]   (default zones/example-city.yaml)
#
# Environment: SANSO (the binary), EXPLAIN_PROBES (default 300),
# EXPLAIN_SEED (default: random; printed, to repeat a run), and those
# of lib.sh. Needs root and network namespaces; says SKIP and exits 0
# without them. Prints each mismatch with explain's own account and a
# final "N passed, N failed" line; exits 1 on any failure.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"

file=${1:-$LAB_ROOT/zones/example-city.yaml}
nprobes=${EXPLAIN_PROBES:-300}
seed=${EXPLAIN_SEED:-$(( $(date +%s) % 32768 ))}

if [ "$(id -u)" -ne 0 ]; then
	echo "test_explain: SKIP: not root (network namespaces need" \
	     "CAP_SYS_ADMIN)"
	exit 0
fi
if ! "$SANSO" explain --help >/dev/null 2>&1; then
	echo "test_explain: SKIP: $SANSO has no explain command"
	exit 0
fi
[ -r "$file" ] || { echo "$0: $file: cannot read" >&2; exit 2; }

start=$(date +%s)
RANDOM=$seed
lab_init || exit 1

# explain's verdict: "accept" (exit 0), "drop" (exit 1) or "error".
verdict()
{
	"$SANSO" explain "$file" --from "$1" --to "$2" --service "$3" \
		>/dev/null 2>&1
	case $? in
	0) echo accept ;;
	1) echo drop ;;
	*) echo error ;;
	esac
}

# The zone explain puts an address in ("-" for none).
zone_of()
{
	"$SANSO" explain "$file" --from "$1" --to "$1" --service udp/9 \
		--format json 2>/dev/null |
		sed -n 's/^"from":{"address":"[^"]*","zone":"\([^"]*\)".*/\1/p'
}

# Random choices set REPLY rather than print: a command substitution
# runs in a subshell, which bash reseeds, and EXPLAIN_SEED must repeat
# a run.
hex4()
{
	printf -v REPLY '%x' $((RANDOM % 65536))
}

# A random address inside NET in REPLY, or nothing when the lab cannot
# place one there (an IPv6 prefix needs its groups spelled out before
# "::"). Default routes get documentation ranges, which stay clear of
# the site's own prefixes.
random_addr()
{
	local net=$1 a b c d len n off h1 h2 h3 groups
	REPLY=
	hex4; h1=$REPLY
	hex4; h2=$REPLY
	hex4; h3=$REPLY
	REPLY=
	case $net in
	0.0.0.0/0)
		case $((RANDOM % 3)) in
		0) REPLY=192.0.2.$((RANDOM % 254 + 1)) ;;
		1) REPLY=198.51.100.$((RANDOM % 254 + 1)) ;;
		*) REPLY=203.0.113.$((RANDOM % 254 + 1)) ;;
		esac
		;;
	::/0)
		REPLY=2001:db8:$h1:$h2::$h3
		;;
	*:*)
		len=${net#*/}
		n=${net%%::*}
		IFS=: read -r -a groups <<<"$n"
		if [ "$len" -gt 64 ] || [ $((${#groups[@]} * 16)) -lt "$len" ]; then
			return 0
		fi
		REPLY=$n::$h1:$h2
		;;
	*)
		IFS=./ read -r a b c d len <<<"$net"
		if [ "$len" -lt 8 ] || [ "$len" -gt 30 ]; then
			return 0
		fi
		n=$(( (a << 24) | (b << 16) | (c << 8) | d ))
		off=$(( ((RANDOM << 15) | RANDOM) % ((1 << (32 - len)) - 2) + 1 ))
		n=$((n + off))
		REPLY=$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))
		;;
	esac
}

if ! lab_plan "$file"; then
	echo "test_explain: the lab plan failed"
	echo "0 passed, 1 failed"
	exit 1
fi

# Two random addresses per zone network, besides the plan's, each
# checked to land in the zone the lab routes it to.
for z in "${LAB_ZONES[@]}"; do
	[ -n "${LAB_ZNS[$z]-}" ] || continue
	for net in ${LAB_ZNETS[$z]//,/ }; do
		for _ in 1 2; do
			random_addr "$net"
			a=$REPLY
			[ -n "$a" ] || continue
			[ "$(zone_of "$a")" = "$z" ] || continue
			# Drawn before (or a host's): assigned once only.
			awk -v a="$a" '$1 == "addr" && $3 == a { f = 1 }
				END { exit !f }' "$LAB_DIR/plan" && continue
			echo "addr $z $a" >>"$LAB_DIR/plan"
		done
	done
done

if ! lab_build || ! lab_load "$file"; then
	echo "test_explain: the lab could not be built"
	echo "0 passed, 1 failed"
	exit 1
fi

# Services: every one the plan probes (the file's flows, their wrong
# ports), and a few nobody permits.
awk '$1 == "probe" && ($4 == "tcp" || $4 == "udp") { print $4, $9 }' \
	"$LAB_DIR/plan" >"$LAB_DIR/svcs"
printf 'tcp 9\nudp 9\ntcp 2222\nudp 4789\n' >>"$LAB_DIR/svcs"
sort -u -o "$LAB_DIR/svcs" "$LAB_DIR/svcs"
mapfile -t svcs <"$LAB_DIR/svcs"

# Listeners in every zone's namespace: TCP on all its addresses, UDP on
# each one (labserve answers from the address a datagram came to only
# when it is bound to it).
for z in "${LAB_ZONES[@]}"; do
	ns=${LAB_ZNS[$z]-}
	[ -n "$ns" ] || continue
	while read -r proto port; do
		if [ "$proto" = tcp ]; then
			echo "tcp 0.0.0.0 $port"
			echo "tcp :: $port"
			continue
		fi
		awk -v z="$z" -v p="$port" '$1 == "addr" && $2 == z {
			print "udp", $3, p }' "$LAB_DIR/plan"
	done <"$LAB_DIR/svcs" | sort -u >"$LAB_DIR/xlisten.$ns"
	if ! lab_listen "$ns" "$LAB_DIR/xlisten.$ns"; then
		echo "test_explain: no listeners in zone $z"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

# Addresses per zone and family.
declare -A pool4=() pool6=()
while read -r tag z a; do
	if [ "$tag" != addr ] || [ -z "${LAB_ZNS[$z]-}" ]; then
		continue
	fi
	case $a in
	*:*) pool6[$z]+="$a " ;;
	*) pool4[$z]+="$a " ;;
	esac
done <"$LAB_DIR/plan"

pick()
{
	local -a all
	read -r -a all <<<"$1"
	REPLY=
	if [ ${#all[@]} -gt 0 ]; then
		REPLY=${all[RANDOM % ${#all[@]}]}
	fi
}

# The plan's flow probes, to draw permitted traffic from often enough.
mapfile -t flowprobes < <(awk '$1 == "probe" && $10 == "flow" &&
	$7 != "gateway" { print $4, $5, $6, $7, $8, $9 }' "$LAB_DIR/plan")

zones=()
for z in "${LAB_ZONES[@]}"; do
	[ -n "${LAB_ZNS[$z]-}" ] && zones+=("$z")
done

: >"$LAB_DIR/xprobes"
made=0
tries=0
while [ "$made" -lt "$nprobes" ] && [ "$tries" -lt $((nprobes * 20)) ]; do
	tries=$((tries + 1))
	if [ ${#flowprobes[@]} -gt 0 ] && [ $((RANDOM % 5)) -lt 2 ]; then
		i=$((RANDOM % ${#flowprobes[@]}))
		read -r proto sz src dz dst port <<<"${flowprobes[i]}"
		# Another address of the same zones, now and then.
		if [ $((RANDOM % 2)) -eq 0 ]; then
			case $dst in
			*:*) pick "${pool6[$dz]-}" ;;
			*) pick "${pool4[$dz]-}" ;;
			esac
			[ -n "$REPLY" ] && dst=$REPLY
		fi
	else
		sz=${zones[RANDOM % ${#zones[@]}]}
		dz=${zones[RANDOM % ${#zones[@]}]}
		[ "$sz" != "$dz" ] || continue
		if [ $((RANDOM % 3)) -eq 0 ]; then
			pick "${pool6[$sz]-}"; src=$REPLY
			pick "${pool6[$dz]-}"; dst=$REPLY
		else
			pick "${pool4[$sz]-}"; src=$REPLY
			pick "${pool4[$dz]-}"; dst=$REPLY
		fi
		if [ -z "$src" ] || [ -z "$dst" ]; then
			continue
		fi
		if [ $((RANDOM % 6)) -eq 0 ]; then
			proto=icmp
			port=8
		else
			read -r proto port <<<"${svcs[RANDOM % ${#svcs[@]}]}"
		fi
	fi
	[ "$src" != "$dst" ] || continue
	case $proto in
	icmp | icmpv6)
		case $src in
		*:*) proto=icmpv6 port=128 svc=icmpv6/echo-request ;;
		*) proto=icmp port=8 svc=icmp/echo-request ;;
		esac
		;;
	*) svc=$proto/$port ;;
	esac
	v=$(verdict "$src" "$dst" "$svc")
	if [ "$v" = error ]; then
		echo "test_explain: explain failed on $svc $src -> $dst:"
		"$SANSO" explain "$file" --from "$src" --to "$dst" \
			--service "$svc" 2>&1 | sed 's/^/  /'
		echo "0 passed, 1 failed"
		exit 1
	fi
	made=$((made + 1))
	echo "p$made $v $proto $sz $src $dz $dst $port $svc" \
		>>"$LAB_DIR/xprobes"
done

# One prober per source zone, all at once.
pids=()
for z in "${zones[@]}"; do
	ns=${LAB_ZNS[$z]}
	awk -v z="$z" '$4 == z { print $1, $3, $5, $7, $8 }' \
		"$LAB_DIR/xprobes" >"$LAB_DIR/xprobe.$ns"
	[ -s "$LAB_DIR/xprobe.$ns" ] || continue
	ip netns exec "$ns" timeout 60 "$LAB_TOOLS/labprobe" \
		-t "$LAB_TIMEOUT" <"$LAB_DIR/xprobe.$ns" \
		>"$LAB_DIR/xresult.$ns" 2>"$LAB_DIR/xresult.$ns.err" &
	pids+=("$!")
done
LAB_PIDS+=("${pids[@]}")
for p in "${pids[@]}"; do
	wait "$p"
done
for z in "${zones[@]}"; do
	f=$LAB_DIR/xresult.${LAB_ZNS[$z]}
	[ -f "$f" ] && cat "$f"
	if [ -s "$f.err" ]; then
		echo "labprobe in zone $z:" >&2
		sed 's/^/  /' "$f.err" >&2
	fi
done >"$LAB_DIR/xresults"

pass=0
fail=0
skip=0
declare -A res=()
while read -r id r; do
	res[$id]=$r
done <"$LAB_DIR/xresults"
while read -r id v proto sz src dz dst port svc; do
	r=${res[$id]-missing}
	case $r in
	open) got=accept ;;
	closed) got=drop ;;
	*)
		fail=$((fail + 1))
		echo "FAIL $id: $svc $src ($sz) -> $dst ($dz): probe result" \
		     "$r (a lab error)"
		continue
		;;
	esac
	if [ "$got" = "$v" ]; then
		pass=$((pass + 1))
		continue
	fi
	# A schedule that opened or closed during the run decides nothing.
	if [ "$(verdict "$src" "$dst" "$svc")" != "$v" ]; then
		skip=$((skip + 1))
		echo "SKIP $id: $svc $src -> $dst: the verdict changed during" \
		     "the run"
		continue
	fi
	fail=$((fail + 1))
	echo "FAIL $id: $svc $src ($sz) -> $dst ($dz): explain says $v," \
	     "the kernel $([ "$got" = accept ] && echo let it through ||
			    echo dropped it):"
	"$SANSO" explain "$file" --from "$src" --to "$dst" --service "$svc" \
		2>&1 | sed 's/^/  /'
done <"$LAB_DIR/xprobes"

accepted=$(awk '$2 == "accept"' "$LAB_DIR/xprobes" | wc -l)
v6=$(awk '$5 ~ /:/' "$LAB_DIR/xprobes" | wc -l)
echo "test_explain: $(basename "$file"), seed $seed: $made probes" \
     "($accepted permitted, $v6 IPv6), $pass agreed, $fail did not," \
     "$skip skipped ($LAB_LOADED_BY, $(($(date +%s) - start)) s)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$made" -gt 0 ]
