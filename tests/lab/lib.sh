# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The LAB_* variables set here are read by the scripts that source it.
# shellcheck disable=SC2034
#
# The namespace lab: a gateway namespace running the ruleset sanso makes
# for a zone file, one namespace per zone behind it, and real packets
# between them. Sourced by tests/lab/test_*.sh and tests/lab/demo.sh.
#
# The plan (build/tools/labplan, format in tests/tools/labplan.c) says
# which zones exist, which addresses each zone's namespace owns, and
# which probes to send with the verdict policy_decide() gives them; the
# lab checks that the kernel agrees.
#
# Layout, for the plan's zone line number K (from 0):
#
#   gateway namespace ${LAB_PFX}-g          zone namespace ${LAB_PFX}-zK
#     IFACE  169.254.K+1.1/24, fe80::1  ---  eth0  169.254.K+1.2/24, fe80::2
#     route NET via 169.254.K+1.2             default via 169.254.K+1.1
#     (0.0.0.0/0, ::/0: the default route)    every `addr` of the zone
#
# IFACE is the zone's first interface, so the ruleset's interface
# dispatch applies unchanged; other interfaces of a zone are left out.
# The gateway forwards (IPv4 and IPv6), without reverse-path filtering.
# Nothing is changed in the caller's namespace but the creation and
# deletion of namespaces named ${LAB_PFX}-* (LAB_PFX: prefix, pid, lab).
#
# Environment:
#   SANSO        the sanso binary (default: build/sanso of this tree)
#   LAB_TOOLS    directory of labplan, labserve, labprobe (build/tools)
#   LAB_LOAD     apply | compile: how to load the ruleset (default: apply
#                when `sanso --help` lists it, else compile | nft -f)
#   LAB_TIMEOUT  milliseconds a probe waits for an answer (default 2000)
#   LAB_KEEP=1   leave the run directory (plans, results) behind
#   SANSO_LAB_PREFIX  first part of the namespace names (default sl;
#                tests/lab/prefix.sh): ${SANSO_LAB_PREFIX}<pid>-<n>-...
#
# Functions, in the order a test calls them:
#   lab_init           run directory, namespace prefix, cleanup trap
#   lab_plan FILE      the plan of FILE, now, into $LAB_DIR/plan
#   lab_build          namespaces, links, addresses, routes
#   lab_load FILE      the ruleset into the gateway
#   lab_fqdn           the plan's FQDN addresses into the kernel sets
#   lab_serve          TCP/UDP listeners for every probe, SSH on the gateway
#   lab_probe          every probe; "ID RESULT" lines in $LAB_DIR/results
#   lab_judge          compares (re-planning to spot a schedule boundary
#                      crossed during the run); prints each mismatch and
#                      sets LAB_PASS, LAB_FAIL, LAB_SKIP
#   lab_down           ends the lab's processes, deletes its namespaces
#   lab_cleanup        lab_down and the run directory; the trap runs it on
#                      any exit, and a test building a second lab in one
#                      process calls it before lab_init again
#   lab_run FILE       lab_plan to lab_judge for one zone file
# Helpers: lab_ns ZONE (a zone's namespace; "gateway" gives the
# gateway's), lab_exec ZONE CMD... (runs CMD there), lab_result ID.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lab/prefix.sh
. "$LAB_ROOT/tests/lab/prefix.sh"
LAB_NAME=$(lab_name_prefix sl)$$ || exit 2
: "${SANSO:=$LAB_ROOT/build/sanso}"
: "${LAB_TOOLS:=$(dirname "$SANSO")/tools}"
: "${LAB_TIMEOUT:=2000}"
LAB_SEQ=0
LAB_DIR=
LAB_PIDS=()

lab_log()
{
	echo "lab: $*" >&2
}

lab_init()
{
	case $SANSO in
	/*) ;;
	*) SANSO=$PWD/$SANSO ;;
	esac
	case $LAB_TOOLS in
	/*) ;;
	*) LAB_TOOLS=$PWD/$LAB_TOOLS ;;
	esac
	local t
	for t in labplan labserve labprobe; do
		if [ ! -x "$LAB_TOOLS/$t" ]; then
			lab_log "$LAB_TOOLS/$t missing (make tools)"
			return 1
		fi
	done
	LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sanso-lab.XXXXXX") || return 1
	LAB_SEQ=$((LAB_SEQ + 1))
	LAB_PFX=$LAB_NAME-$LAB_SEQ
	LAB_GW=$LAB_PFX-g
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# Every namespace this process made, whatever lab it belonged to.
lab_namespaces()
{
	ip netns list 2>/dev/null | awk -v p="$LAB_NAME-" \
		'substr($1, 1, length(p)) == p { print $1 }'
}

# Whether a process still runs (a zombie waiting for us does not).
lab_running()
{
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

lab_down()
{
	local pid ns i alive
	for pid in "${LAB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	# Up to two seconds for them to go on their own.
	for i in $(seq 40); do
		alive=0
		for pid in "${LAB_PIDS[@]}"; do
			lab_running "$pid" && alive=1
		done
		[ "$alive" -eq 1 ] || break
		sleep 0.05
	done
	for pid in "${LAB_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null
		{ wait "$pid"; } 2>/dev/null
	done
	LAB_PIDS=()
	for ns in $(lab_namespaces); do
		# Anything still running inside was started by this run.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
}

lab_cleanup()
{
	# A second signal (a process group gets one more) must not cut the
	# cleanup short; it is bounded on its own.
	trap '' INT TERM HUP
	lab_down
	if [ -n "$LAB_DIR" ] && [ -z "${LAB_KEEP-}" ]; then
		rm -rf "$LAB_DIR"
	elif [ -n "$LAB_DIR" ]; then
		lab_log "kept $LAB_DIR"
	fi
	LAB_DIR=
}

lab_plan()
{
	local file=$1 out=${2:-$LAB_DIR/plan}
	if ! "$LAB_TOOLS/labplan" "$file" >"$out"; then
		lab_log "labplan $file failed"
		return 1
	fi
	LAB_FILE=$file
	LAB_ZONES=()
	declare -gA LAB_ZIF=() LAB_ZNETS=() LAB_ZNS=() LAB_ZK=() LAB_ZTIER=()
	local tag name tier ifs nets k=0
	while read -r tag name tier ifs nets; do
		[ "$tag" = zone ] || continue
		LAB_ZONES+=("$name")
		LAB_ZTIER[$name]=$tier
		LAB_ZIF[$name]=${ifs%%,*}
		LAB_ZNETS[$name]=$nets
		LAB_ZK[$name]=$((k + 1))
		if [ "$ifs" != - ]; then
			LAB_ZNS[$name]=$LAB_PFX-z$k
		fi
		k=$((k + 1))
	done <"$out"
	if [ "$k" -gt 250 ]; then
		lab_log "too many zones for the lab's link addresses"
		return 1
	fi
}

lab_ns()
{
	if [ "$1" = gateway ]; then
		echo "$LAB_GW"
	else
		echo "${LAB_ZNS[$1]-}"
	fi
}

lab_exec()
{
	local ns
	ns=$(lab_ns "$1") || return 1
	shift
	[ -n "$ns" ] || return 1
	ip netns exec "$ns" "$@"
}

# Sets sysctls inside a namespace: lab_sysctl NS key=value...
lab_sysctl()
{
	local ns=$1 kv script=
	shift
	for kv in "$@"; do
		script+="echo '${kv#*=}' > /proc/sys/${kv%%=*}; "
	done
	ip netns exec "$ns" sh -c "$script"
}

lab_build()
{
	local z ns k ifn net tag zone addr
	local gwb=$LAB_DIR/gw.batch

	ip netns add "$LAB_GW" || return 1
	lab_sysctl "$LAB_GW" net/ipv4/ip_forward=1 \
		net/ipv6/conf/all/forwarding=1 \
		net/ipv4/conf/all/rp_filter=0 \
		net/ipv4/conf/default/rp_filter=0 \
		net/ipv6/conf/all/accept_dad=0 \
		net/ipv6/conf/default/accept_dad=0 || return 1
	: >"$gwb"
	echo "link set lo up" >>"$gwb"
	for z in "${LAB_ZONES[@]}"; do
		ns=${LAB_ZNS[$z]-}
		[ -n "$ns" ] || continue
		k=${LAB_ZK[$z]}
		ifn=${LAB_ZIF[$z]}
		ip netns add "$ns" || return 1
		lab_sysctl "$ns" net/ipv4/conf/all/rp_filter=0 \
			net/ipv4/conf/default/rp_filter=0 \
			net/ipv6/conf/all/accept_dad=0 \
			net/ipv6/conf/default/accept_dad=0 \
			"net/ipv4/ping_group_range=0 2147483647" || return 1
		ip -n "$LAB_GW" link add "$ifn" type veth peer name eth0 \
			netns "$ns" || return 1
		{
			echo "addr add 169.254.$k.1/24 dev $ifn"
			echo "addr add fe80::1/64 dev $ifn nodad"
			echo "link set $ifn up"
			for net in ${LAB_ZNETS[$z]//,/ }; do
				case $net in
				-) ;;
				*:*) echo "-6 route add $net via fe80::2 dev $ifn" ;;
				*) echo "route add $net via 169.254.$k.2 dev $ifn" ;;
				esac
			done
		} >>"$gwb"
		{
			echo "link set lo up"
			echo "addr add 169.254.$k.2/24 dev eth0"
			echo "addr add fe80::2/64 dev eth0 nodad"
			echo "link set eth0 up"
			echo "route add default via 169.254.$k.1 dev eth0"
			echo "-6 route add default via fe80::1 dev eth0"
			while read -r tag zone addr; do
				if [ "$tag" != addr ] || [ "$zone" != "$z" ]; then
					continue
				fi
				case $addr in
				*:*) echo "addr add $addr/128 dev eth0 nodad" ;;
				*) echo "addr add $addr/32 dev eth0" ;;
				esac
			done <"$LAB_DIR/plan"
		} >"$LAB_DIR/$ns.batch"
	done
	# ip -batch has no -6 per line: route commands go through `ip -6`.
	lab_batch "$LAB_GW" "$gwb" || return 1
	for z in "${LAB_ZONES[@]}"; do
		ns=${LAB_ZNS[$z]-}
		[ -n "$ns" ] || continue
		lab_batch "$ns" "$LAB_DIR/$ns.batch" || return 1
		lab_sysctl "$LAB_GW" \
			"net/ipv4/conf/${LAB_ZIF[$z]}/rp_filter=0" || return 1
	done
}

# Runs an ip batch file in a namespace; lines starting "-6 " go to ip -6.
lab_batch()
{
	local ns=$1 file=$2
	grep -v '^-6 ' "$file" >"$file.4"
	sed -n 's/^-6 //p' "$file" >"$file.6"
	if ! ip -n "$ns" -batch "$file.4"; then
		lab_log "ip -n $ns -batch $file.4 failed"
		return 1
	fi
	if [ -s "$file.6" ] && ! ip -n "$ns" -6 -batch "$file.6"; then
		lab_log "ip -n $ns -6 -batch $file.6 failed"
		return 1
	fi
}

lab_has_apply()
{
	"$SANSO" --help 2>&1 | grep -Eq '^[[:space:]]+apply([[:space:]]|$)'
}

lab_load()
{
	local file=${1:-$LAB_FILE} how=${LAB_LOAD-}
	if [ -z "$how" ]; then
		if lab_has_apply; then how=apply; else how=compile; fi
	fi
	LAB_LOADED_BY=$how
	case $how in
	apply)
		mkdir -p "$LAB_DIR/state"
		if ! ip netns exec "$LAB_GW" timeout 60 "$SANSO" apply \
			"$file" --state-dir "$LAB_DIR/state" \
			>"$LAB_DIR/apply.out" 2>&1; then
			lab_log "sanso apply $file failed:"
			cat "$LAB_DIR/apply.out" >&2
			return 1
		fi
		;;
	compile)
		if ! timeout 60 "$SANSO" compile "$file" \
			>"$LAB_DIR/ruleset.nft"; then
			lab_log "sanso compile $file failed"
			return 1
		fi
		if ! ip netns exec "$LAB_GW" timeout 60 nft -f \
			"$LAB_DIR/ruleset.nft"; then
			lab_log "nft -f of the compiled ruleset failed"
			return 1
		fi
		;;
	*)
		lab_log "LAB_LOAD must be apply or compile"
		return 1
		;;
	esac
}

lab_fqdn()
{
	local tag set zone addr fam n=0
	: >"$LAB_DIR/fqdn.nft"
	while read -r tag set zone addr; do
		[ "$tag" = fqdn ] || continue
		case $addr in
		*:*) fam=v6 ;;
		*) fam=v4 ;;
		esac
		echo "add element inet sanso fqdn-$set-$fam" \
			"{ $addr timeout 1h }" >>"$LAB_DIR/fqdn.nft"
		n=$((n + 1))
	done <"$LAB_DIR/plan"
	[ "$n" -eq 0 ] && return 0
	if ! ip netns exec "$LAB_GW" timeout 30 nft -f "$LAB_DIR/fqdn.nft"; then
		lab_log "cannot fill the FQDN sets"
		return 1
	fi
}

# Starts labserve in a namespace on a list file; waits until it is ready.
lab_listen()
{
	local ns=$1 list=$2 out=$2.out
	ip netns exec "$ns" "$LAB_TOOLS/labserve" -l 600 <"$list" >"$out" \
		2>"$out.err" &
	LAB_PIDS+=("$!")
	for _ in $(seq 100); do
		grep -q '^ready' "$out" 2>/dev/null && return 0
		if ! kill -0 "$!" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	lab_log "no listener in $ns: $(cat "$out.err" 2>/dev/null)"
	return 1
}

lab_serve()
{
	local z ns
	for z in "${LAB_ZONES[@]}"; do
		ns=${LAB_ZNS[$z]-}
		[ -n "$ns" ] || continue
		awk -v z="$z" '$1 == "probe" && $7 == z &&
			($4 == "tcp" || $4 == "udp") { print $4, $8, $9 }' \
			"$LAB_DIR/plan" | sort -u >"$LAB_DIR/listen.$ns"
		lab_listen "$ns" "$LAB_DIR/listen.$ns" || return 1
	done
	printf 'tcp 0.0.0.0 22\ntcp :: 22\n' >"$LAB_DIR/listen.$LAB_GW"
	lab_listen "$LAB_GW" "$LAB_DIR/listen.$LAB_GW"
}

lab_probe()
{
	local z ns k pids=() ok=0
	: >"$LAB_DIR/results"
	for z in "${LAB_ZONES[@]}"; do
		ns=${LAB_ZNS[$z]-}
		[ -n "$ns" ] || continue
		k=${LAB_ZK[$z]}
		# The gateway's SSH: its address on this zone's own link.
		awk -v z="$z" -v k="$k" '$1 == "probe" && $5 == z {
			dst = $8
			if ($7 == "gateway")
				dst = $6 ~ /:/ ? "fe80::1%eth0" : "169.254." k ".1"
			print $2, $4, $6, dst, $9
		}' "$LAB_DIR/plan" >"$LAB_DIR/probe.$ns"
		ip netns exec "$ns" timeout 60 "$LAB_TOOLS/labprobe" \
			-t "$LAB_TIMEOUT" <"$LAB_DIR/probe.$ns" \
			>"$LAB_DIR/result.$ns" 2>"$LAB_DIR/result.$ns.err" &
		pids+=("$!")
	done
	local keep=("${LAB_PIDS[@]}")
	LAB_PIDS+=("${pids[@]}")
	for k in "${pids[@]}"; do
		wait "$k" || ok=1
	done
	LAB_PIDS=("${keep[@]}")
	for z in "${LAB_ZONES[@]}"; do
		ns=${LAB_ZNS[$z]-}
		[ -n "$ns" ] || continue
		cat "$LAB_DIR/result.$ns" >>"$LAB_DIR/results"
		if [ -s "$LAB_DIR/result.$ns.err" ]; then
			lab_log "labprobe in $ns:"
			cat "$LAB_DIR/result.$ns.err" >&2
		fi
	done
	[ "$ok" -eq 0 ] || lab_log "a prober failed"
	return $ok
}

lab_result()
{
	awk -v id="$1" '$1 == id { print $2 }' "$LAB_DIR/results"
}

# Writes $LAB_DIR/judged: "ID VERDICT RESULT STATUS" with STATUS pass,
# fail or skip; prints every failure and sets the counters.
lab_judge()
{
	"$LAB_TOOLS/labplan" "$LAB_FILE" >"$LAB_DIR/plan.after" || return 1
	awk -v after="$LAB_DIR/plan.after" -v results="$LAB_DIR/results" \
	    -v noif="$(lab_noif_zones)" '
	BEGIN {
		while ((getline l < after) > 0) {
			split(l, f, " ")
			if (f[1] == "probe")
				later[f[2]] = f[3]
		}
		while ((getline l < results) > 0) {
			split(l, f, " ")
			res[f[1]] = f[2]
		}
		n = split(noif, nz, " ")
		for (i = 1; i <= n; i++)
			skipzone[nz[i]] = 1
	}
	$1 == "probe" {
		id = $2; v = $3
		what = sprintf("%s %s %s -> %s %s %s/%s (%s%s)", id, $5, $6,
			       $7, $8, $4, $9, $10,
			       $11 == "-" ? "" : " " $11)
		r = (id in res) ? res[id] : "missing"
		if (($5 in skipzone) || ($7 in skipzone)) {
			print "J", id, v, "-", "skip"
			print "M SKIP " what ": a zone without interfaces"
			next
		}
		if (later[id] != v) {
			print "J", id, v, r, "skip"
			print "M SKIP " what ": the policy changed during " \
			      "the run (" v ", then " later[id] ")"
			next
		}
		want = v == "accept" ? "open" : "closed"
		if (r == want) {
			print "J", id, v, r, "pass"
			next
		}
		print "J", id, v, r, "fail"
		if (r == "open")
			why = "the kernel let it through"
		else if (r == "closed")
			why = "the kernel dropped it"
		else
			why = "probe result " r " (lab error)"
		print "M FAIL " what ": policy says " v ", " why
	}' "$LAB_DIR/plan" >"$LAB_DIR/judged.all"
	sed -n 's/^J //p' "$LAB_DIR/judged.all" >"$LAB_DIR/judged"
	sed -n 's/^M //p' "$LAB_DIR/judged.all"
	LAB_PASS=$(awk '$4 == "pass"' "$LAB_DIR/judged" | wc -l)
	LAB_FAIL=$(awk '$4 == "fail"' "$LAB_DIR/judged" | wc -l)
	LAB_SKIP=$(awk '$4 == "skip"' "$LAB_DIR/judged" | wc -l)
	if [ $((LAB_PASS + LAB_FAIL)) -eq 0 ]; then
		lab_log "no probe was judged"
		return 1
	fi
}

lab_noif_zones()
{
	local z out=
	for z in "${LAB_ZONES[@]}"; do
		[ -n "${LAB_ZNS[$z]-}" ] || out+="$z "
	done
	echo "$out"
}

# The whole run for one zone file; the verdicts are in $LAB_DIR/judged.
lab_run()
{
	local file=$1
	lab_plan "$file" &&
	lab_build &&
	lab_load "$file" &&
	lab_fqdn &&
	lab_serve &&
	lab_probe &&
	lab_judge
}
