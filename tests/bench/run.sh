#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make bench`: the measured targets of SPEC §10, each beside its anchor
# measured in the same run, printed as one Markdown table and written to
# BENCHMARKS.md with a description of the machine.
#
# Usage: run.sh BIN
#
#   P1  sanso compile of the synthetic 1x and 10x models
#       (tests/tools/benchgen.c): time and peak memory; anchor nft -c -f
#       of the same text, and the 1x model for the growth
#   P2  sanso apply of the 1x model against nft -f of its compiled text,
#       each into a fresh namespace (a smaller model if the 1x one does
#       not load within BENCH_P2_LIMIT seconds): CPU (user and system:
#       the kernel's work on a netlink batch is done in the sender's
#       context) and wall time; over the live deployment, sanso status,
#       a one-flow change and its rollback, against full applies; then
#       the lab's oracle series, tests/lab/test_incremental.sh with
#       ORACLE_SERIES=${BENCH_ORACLE_SERIES:-60}, when the tree has it
#   P3  forwarding through a gateway namespace between two zones'
#       namespaces: a TCP stream (iperf3), unanswered 64-byte UDP and
#       new connections, a datagram from each source address and port
#       (tests/tools/benchflood.c), with no ruleset, sanso's 10 and
#       10,000 flows, conntrack only, and a naive linear ruleset
#   P4  sanso monitor: --replay of a synthetic capture
#       (tests/tools/benchct.c) against libnetfilter_conntrack's parse
#       of it (tests/bench/nfctparse.c, built here); live, on a ladder
#       of new-connection rates, its overruns and CPU against
#       conntrack -E
#   P5  sanso dnsguard against dnsmasq, its upstream
#       (tests/tools/benchdns.c): answers a second and added latency,
#       cache hits and misses apart
#   P6  sanso report over BENCH_P6_LINES alert lines written here (awk):
#       lines a second and peak memory; anchor wc -l of the same file
#
# Needs root and network namespaces, like the lab (tests/lab/lib.sh,
# whose cleanup it uses); skips, exiting 0, without them. Debian
# packages: nftables, iproute2, time, jq, iperf3, conntrack,
# dnsmasq-base, libnetfilter-conntrack-dev (P4's anchor: without it,
# that anchor is "not measured"). Traffic goes only between namespaces this script makes;
# every namespace and process it starts is removed on exit, whatever
# the exit. P4 and P5 say "not measured" when BIN lacks the command.
#
# Environment:
#   BENCH_REPS      repetitions of the fast measurements and rounds of P3
#                   (default 5; the slow ones run min(3, BENCH_REPS) times)
#   BENCH_ONLY      ids to run, e.g. "P1 P3" (default: all)
#   BENCH_SECONDS   length of one traffic run (default 5)
#   BENCH_P2_LIMIT  seconds one apply may take in P2 (default 180)
#   BENCH_ORACLE_SERIES model pairs of the oracle series (default 60)
#   BENCH_ORACLE_LIMIT  seconds the oracle series may take (default 400)
#   BENCH_P4_EVENTS events in the replay capture (default 1,000,000)
#   BENCH_P4_RATES  new connections a second of the live ladder (default
#                   "2000 5000 10000 20000 0", 0: as fast as it goes)
#   BENCH_P4_LIVE=0 P4 without the live ladder (the replay only)
#   BENCH_P6_LINES  alert lines of the P6 file (default 10,000,000;
#                   about 400 bytes each, written to the run directory)
#   BENCH_OUT       where the report goes (default BENCHMARKS.md of the
#                   tree; "-" for nowhere)
#   BENCH_KEEP=1    keep the run directory (models, rulesets, raw data)
#
# Figures are medians; "min-max" after them is the spread over the
# repetitions. Ratios of measurements taken in turn are the median of
# each round's ratio. Everything after the line "<!-- kept by
# tests/bench/run.sh -->" of BENCHMARKS.md is hand-written analysis and
# is kept.

set -u
export LC_ALL=C

if [ $# -ne 1 ]; then
	echo "usage: $0 BIN" >&2
	exit 2
fi
bin=$1
case $bin in
/*) ;;
*) bin=$PWD/$bin ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tools=$(dirname "$bin")/tools
: "${BENCH_REPS:=5}"
: "${BENCH_ONLY:=P1 P2 P3 P4 P5 P6}"
: "${BENCH_SECONDS:=5}"
: "${BENCH_OUT:=$root/BENCHMARKS.md}"
SLOW_REPS=$((BENCH_REPS < 3 ? BENCH_REPS : 3))
KEEP_MARK='<!-- kept by tests/bench/run.sh -->'

say()
{
	echo "bench: $*" >&2
}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: SKIP: not root (the benchmarks load rulesets into" \
	     "network namespaces)"
	exit 0
fi
probe_ns=sb$$-probe
if ! err=$(ip netns add "$probe_ns" 2>&1); then
	echo "bench: SKIP: ip netns add failed: ${err:-no reason given}"
	exit 0
fi
if ! err=$(ip netns exec "$probe_ns" true 2>&1); then
	ip netns del "$probe_ns"
	echo "bench: SKIP: ip netns exec failed: ${err:-no reason given}"
	exit 0
fi
ip netns del "$probe_ns"
missing=
for c in nft /usr/bin/time jq iperf3 conntrack; do
	command -v "$c" >/dev/null || missing+=" $c"
done
if [ -n "$missing" ]; then
	echo "bench: missing:$missing (Debian packages nftables, time, jq," \
	     "iperf3, conntrack)"
	exit 1
fi
if [ ! -x "$bin" ]; then
	echo "bench: $bin: not an executable"
	exit 1
fi
# The Makefile builds the tools with the lab's; build them if this is
# the tree's own build directory.
if [ "$(dirname "$bin")" = "$root/build" ]; then
	make -C "$root" -s --no-print-directory tools >&2 || exit 1
fi
for t in benchgen benchflood benchct benchdns labplan labserve labprobe; do
	if [ ! -x "$tools/$t" ]; then
		echo "bench: $tools/$t missing (make tools)"
		exit 1
	fi
done

SANSO=$bin
LAB_TOOLS=$tools
# shellcheck source=tests/lab/lib.sh
. "$root/tests/lab/lib.sh"
lab_init || exit 1
[ -n "${BENCH_KEEP-}" ] && LAB_KEEP=1
W=$LAB_DIR
ROWS=()
NOTES=()
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

wants()
{
	case " $BENCH_ONLY " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

note()
{
	NOTES+=("$*")
	say "$*"
}

# "MEDIAN MIN MAX" of the numbers on stdin, one a line.
stats()
{
	sort -g | awk '{ v[NR] = $1 }
	END {
		if (!NR) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR]
	}'
}

# A figure with its spread: fmt "MEDIAN MIN MAX" DIGITS UNIT
fmt()
{
	local m lo hi
	read -r m lo hi <<<"$1"
	if [ "$m" = - ]; then
		echo "not measured"
		return
	fi
	if [ "$(printf "%.*f" "$2" "$lo")" = "$(printf "%.*f" "$2" "$hi")" ]
	then
		printf "%.*f %s" "$2" "$m" "$3"
	else
		printf "%.*f %s (%.*f-%.*f)" "$2" "$m" "$3" "$2" "$lo" "$2" "$hi"
	fi
}

median()
{
	echo "${1%% *}"
}

# ratio A B: A / B to two decimals, "-" when either is missing.
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-"
		else printf "%.2f\n", a / b
	}'
}

# pratio A B: the ratio of two measurements taken in turn, as the
# median (min-max) of the ratios of each round's pair -- steadier than
# the ratio of the medians when the machine's load drifts. A and B hold
# "ROUND VALUE" lines; prints "MEDIAN MIN MAX".
pratio()
{
	awk 'NR == FNR { if ($2 != "-") a[$1] = $2; next }
	     ($1 in a) && $2 != "-" && $2 + 0 != 0 { print a[$1] / $2 }' \
		"$1" "$2" 2>/dev/null | stats
}

# fmt_ratio "MEDIAN MIN MAX": "0.98 (0.91-1.02)".
fmt_ratio()
{
	fmt "$1" 2 "" | sed 's/  */ /g; s/ $//'
}

# met OP A B VALUE: "yes" when VALUE satisfies OP with A (and B): "<" A,
# "<=" A, ">=" A, or "in" A B (A <= VALUE <= B); "no" otherwise, "-"
# without a value.
met()
{
	awk -v op="$1" -v a="$2" -v b="${3-}" -v x="$4" 'BEGIN {
		if (x == "-" || x == "") { print "-"; exit }
		x += 0
		ok = op == "<" ? x < a : op == "<=" ? x <= a : \
		     op == ">=" ? x >= a : op == "in" ? x >= a && x <= b : 0
		print ok ? "yes" : "no"
	}'
}

add_row()
{
	# id | what | sanso | anchor | ratio | target | met
	ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 |")
}

# timed OUT CMD...: runs CMD, appends "WALL_S MAXRSS_KB CPU_S USER_S
# SYS_S" to OUT (CPU: user + system, of CMD and the children it waited
# for); fails as CMD fails. The wall time is the shell's, to the
# microsecond (time(1) rounds to 10 ms).
timed()
{
	local out=$1 tf=$W/time.$$ t0 t1 rc
	shift
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M %U %S' -o "$tf" "$@"
	rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" -eq 0 ]; then
		tail -n 1 "$tf" | awk -v a="$t0" -v b="$t1" \
			'{ printf "%.4f %s %.2f %.2f %.2f\n", b - a, $1, $2 + $3,
			   $2, $3 }' >>"$out"
	fi
	rm -f "$tf"
	return "$rc"
}

col()
{
	awk -v c="$1" '{ print $c }' "$2"
}

# A fresh, empty namespace of this run; prints its name.
fresh_ns()
{
	local ns=$LAB_PFX-$1
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	echo "$ns"
}

gen()
{
	"$tools/benchgen" "$@"
}

# ---- P1: compile time and memory ----

p1()
{
	local i ns m1=$W/m1.yaml m10=$W/m10.yaml
	say "P1: generating the 1x and 10x models"
	gen -z 1000 -f 10000 -p 20000 >"$m1" || return 1
	gen -z 10000 -f 100000 -p 200000 >"$m10" || return 1
	if ! "$SANSO" check "$m1" >"$W/check1.out" 2>&1; then
		note "P1: the 1x model fails sanso check: $(tail -n 1 \
			"$W/check1.out")"
		return 1
	fi
	"$SANSO" compile "$m1" -o "$W/m1.nft" || return 1
	# 1x and 10x in turn, so that a change in the machine's load falls
	# on both; the growth is the median of each round's ratio.
	say "P1: compile 1x ($BENCH_REPS times) and 10x ($SLOW_REPS times)," \
		"in turn"
	for i in $(seq "$BENCH_REPS"); do
		timed "$W/p1.1x" "$SANSO" compile "$m1" -o /dev/null || return 1
		echo "$i $(tail -n 1 "$W/p1.1x" | cut -d' ' -f3)" >>"$W/p1.1x.r"
		[ "$i" -le "$SLOW_REPS" ] || continue
		timed "$W/p1.10x" "$SANSO" compile "$m10" -o /dev/null \
			2>"$W/p1.10x.err" || return 1
		echo "$i $(tail -n 1 "$W/p1.10x" | cut -d' ' -f3)" \
			>>"$W/p1.10x.r"
	done
	say "P1: nft -c -f of its text, $SLOW_REPS times"
	for i in $(seq "$SLOW_REPS"); do
		ns=$(fresh_ns "p1-$i") || return 1
		timed "$W/p1.nft" ip netns exec "$ns" nft -c -f "$W/m1.nft"
		ip netns del "$ns"
	done
	local t1 t10 tn r1 r10 rn w1 w10 x
	t1=$(col 3 "$W/p1.1x" | stats)
	w1=$(col 1 "$W/p1.1x" | stats)
	r1=$(col 2 "$W/p1.1x" | awk '{ print $1 / 1024 }' | stats)
	tn=$(col 3 "$W/p1.nft" | stats)
	rn=$(col 2 "$W/p1.nft" | awk '{ print $1 / 1024 }' | stats)
	t10=$(col 3 "$W/p1.10x" | stats)
	w10=$(col 1 "$W/p1.10x" | stats)
	r10=$(col 2 "$W/p1.10x" | awk '{ print $1 / 1024 }' | stats)
	x=$(ratio "$(median "$t1")" "$(median "$tn")")
	add_row P1 "compile, 1x model: CPU time (anchor: nft -c -f of the text)" \
		"$(fmt "$t1" 2 s)" "$(fmt "$tn" 2 s)" "$x" "< 1 s" \
		"$(met "<" 1 "" "$(median "$t1")")"
	x=$(ratio "$(median "$r1")" "$(median "$rn")")
	add_row P1 "compile, 1x model: peak memory (anchor: nft -c -f)" \
		"$(fmt "$r1" 1 MB)" "$(fmt "$rn" 1 MB)" "$x" "< 100 MB" \
		"$(met "<" 100 "" "$(median "$r1")")"
	x=$(pratio "$W/p1.10x.r" "$W/p1.1x.r")
	add_row P1 "compile, 10x model: CPU time (anchor: the 1x model)" \
		"$(fmt "$t10" 2 s)" "$(fmt "$t1" 2 s)" "$(fmt_ratio "$x")" \
		"<= 12" "$(met "<=" 12 "" "$(median "$x")")"
	note "P1: times are CPU (user + system) of the single-threaded" \
		"compile, steadier than wall time on a shared machine; wall" \
		"time: 1x $(fmt "$w1" 2 s), 10x $(fmt "$w10" 2 s)"
	note "P1: 1x model $(wc -c <"$m1") bytes, ruleset" \
		"$(wc -c <"$W/m1.nft") bytes (sets: $(grep -c '^	set ' \
		"$W/m1.nft"), maps: $(grep -c '^	map ' "$W/m1.nft")," \
		"chains: $(grep -c '^	chain ' "$W/m1.nft")); 10x model" \
		"peak memory $(fmt "$r10" 1 MB)"
	if grep -q warning "$W/p1.10x.err"; then
		note "P1: sanso on the 10x model: $(grep -m1 warning \
			"$W/p1.10x.err" | sed 's/^[^ ]*: //')"
	fi
}

# ---- P2: apply against nft -f ----

P2_SIZES="1000:10000:20000 500:5000:10000 250:2500:5000"
: "${BENCH_P2_LIMIT:=180}"
: "${BENCH_ORACLE_LIMIT:=400}"

# The zone file $1 with one flow's port changed: the first flow whose
# services are one TCP port gets the port after it.
one_flow_change()
{
	awk '!done && /^    services: \[tcp\/[0-9]+\]$/ {
		p = $0; sub(/^.*tcp\//, "", p); sub(/\]$/, "", p)
		sub(/tcp\/[0-9]+\]$/, "tcp/" (p + 1) "]"); done = 1
	}
	{ print }' "$1"
}

# p2_timed KIND ROUND CMD...: timed, into $W/p2.KIND.t; appends "ROUND
# WALL CPU USER SYS" to $W/p2.KIND when CMD succeeds, says why when
# not.
p2_timed()
{
	local kind=$1 round=$2
	shift 2
	if timed "$W/p2.$kind.t" "$@" >"$W/p2.$kind.out" \
		2>"$W/p2.$kind.err"; then
		tail -n 1 "$W/p2.$kind.t" |
			awk -v r="$round" '{ print r, $1, $3, $4, $5 }' \
			>>"$W/p2.$kind"
		return 0
	fi
	say "P2: $kind failed: $(grep -v warning "$W/p2.$kind.err" |
		tail -n 1)"
	[ -e "$W/p2.$kind.failed" ] || note "P2: $kind failed (round" \
		"$round): $(grep -v warning "$W/p2.$kind.err" | tail -n 1)"
	echo "$round" >>"$W/p2.$kind.failed"
	return 1
}

p2_list()
{
	ip netns exec "$1" nft list table inet sanso >"$2" 2>&1
}

# NS STATE OUT: the live table's canonical digest as status reads it (the
# kernel's, in name order: a table changed in place lists its objects in
# another order than one loaded whole, and has the same digest).
p2_digest()
{
	ip netns exec "$1" "$SANSO" status --state-dir "$2" -j 2>/dev/null |
		grep -o '"live_sha256":"[0-9a-f]*"' >"$3"
}

# One round: a full apply into a fresh namespace, then, over it, status,
# the one-flow change and its rollback; a full apply of the changed file
# into another fresh namespace; nft -f of the text into a third.
p2_round()
{
	local i=$1 m=$2 m2=$3 ns st=$W/p2-state-$1
	ns=$(fresh_ns "p2-a$i") || return 1
	mkdir -p "$st"
	if p2_timed full "$i" ip netns exec "$ns" "$SANSO" apply "$m" \
		--state-dir "$st"; then
		[ "$i" -eq 1 ] && p2_list "$ns" "$W/p2.list.apply" &&
			p2_digest "$ns" "$st" "$W/p2.digest.apply"
		p2_timed status "$i" ip netns exec "$ns" "$SANSO" status \
			--state-dir "$st"
		if p2_timed change "$i" ip netns exec "$ns" "$SANSO" apply \
			"$m2" --state-dir "$st"; then
			[ "$i" -eq 1 ] &&
				p2_digest "$ns" "$st" "$W/p2.digest.change"
			p2_timed rollback "$i" ip netns exec "$ns" "$SANSO" \
				rollback --state-dir "$st" &&
				[ "$i" -eq 1 ] &&
				p2_digest "$ns" "$st" "$W/p2.digest.rollback"
		fi
	fi
	ip netns del "$ns"
	ns=$(fresh_ns "p2-b$i") || return 1
	mkdir -p "$st-b"
	p2_timed full2 "$i" ip netns exec "$ns" "$SANSO" apply "$m2" \
		--state-dir "$st-b" && [ "$i" -eq 1 ] &&
		p2_digest "$ns" "$st-b" "$W/p2.digest.full2"
	ip netns del "$ns"
	ns=$(fresh_ns "p2-n$i") || return 1
	p2_timed nft "$i" ip netns exec "$ns" nft -f "$m.nft" &&
		[ "$i" -eq 1 ] && p2_list "$ns" "$W/p2.list.nft"
	ip netns del "$ns"
	return 0
}

# "MEDIAN MIN MAX" of column $2 (2 wall, 3 CPU, 4 user, 5 system) of
# $W/p2.$1.
p2_stat()
{
	col "$2" "$W/p2.$1" 2>/dev/null | stats
}

# pratio of column $3 of $W/p2.$1 against that of $W/p2.$2.
p2_ratio()
{
	awk -v c="$3" '{ print $1, $c }' "$W/p2.$1" >"$W/p2.r1" 2>/dev/null
	awk -v c="$3" '{ print $1, $c }' "$W/p2.$2" >"$W/p2.r2" 2>/dev/null
	pratio "$W/p2.r1" "$W/p2.r2"
}

# "1.23 s (user 0.30 s, sys 0.93 s)" of $W/p2.$1's CPU columns.
p2_cpu()
{
	echo "$(fmt "$(p2_stat "$1" 3)" 2 s) (user $(fmt "$(p2_stat "$1" 4)" \
		2 s), sys $(fmt "$(p2_stat "$1" 5)" 2 s))"
}

p2()
{
	local size z f p m m2 i ns ok=0 label
	for size in $P2_SIZES; do
		IFS=: read -r z f p <<<"$size"
		m=$W/p2-$z.yaml
		gen -z "$z" -f "$f" -p "$p" >"$m" || return 1
		"$SANSO" compile "$m" -o "$m.nft" || return 1
		say "P2: $z zones, $f flows: one trial apply (limit" \
			"$BENCH_P2_LIMIT s)"
		ns=$(fresh_ns p2-trial) || return 1
		mkdir -p "$W/state-trial"
		if timeout "$BENCH_P2_LIMIT" ip netns exec "$ns" "$SANSO" \
			apply "$m" --state-dir "$W/state-trial" \
			>/dev/null 2>"$W/p2.err"; then
			ok=1
		else
			note "P2: apply of $z zones, $f flows did not finish in" \
				"$BENCH_P2_LIMIT s: $(grep -v warning "$W/p2.err" |
				tail -n 1)"
		fi
		ip netns del "$ns"
		[ "$ok" -eq 1 ] && break
	done
	if [ "$ok" -eq 0 ]; then
		add_row P2 "apply against nft -f" "not measured" \
			"not measured" - "<= 1.0" -
		return 1
	fi
	label="$z zones, $f flows"
	[ "$z" -eq 1000 ] && label="1x model"
	m2=$W/p2-$z-change.yaml
	one_flow_change "$m" >"$m2"
	if cmp -s "$m" "$m2" || ! "$SANSO" check "$m2" >/dev/null 2>&1; then
		note "P2: no one-flow change could be made of the model"
		return 1
	fi
	say "P2: $label: $SLOW_REPS rounds of apply, status, a one-flow" \
		"change, rollback; apply of the changed file; nft -f"
	for i in $(seq "$SLOW_REPS"); do
		p2_round "$i" "$m" "$m2" || return 1
	done
	local x what
	# One-flow change: wall time against a full apply of the same file.
	x=$(p2_ratio change full2 2)
	what="one-flow change, $label: wall time of apply over the live"
	what+=" deployment (anchor: full apply of the same changed file into"
	what+=" a fresh namespace)"
	add_row P2 "$what" "$(fmt "$(p2_stat change 2)" 2 s)" \
		"$(fmt "$(p2_stat full2 2)" 2 s)" "$(fmt_ratio "$x")" \
		"<= 0.05 and < 0.5 s" \
		"$([ "$(met "<=" 0.05 "" "$(median "$x")")" = yes ] &&
		   [ "$(met "<" 0.5 "" "$(median "$(p2_stat change 2)")")" = yes ] &&
		   echo yes || echo no)"
	# Full apply: CPU against nft -f.
	x=$(p2_ratio full nft 3)
	what="full apply of the $label into a fresh namespace: CPU, user +"
	what+=" system (anchor: nft -f of sanso compile's text, the same way)"
	add_row P2 "$what" "$(p2_cpu full)" "$(p2_cpu nft)" \
		"$(fmt_ratio "$x")" "<= 1.0" "$(met "<=" 1.0 "" "$(median "$x")")"
	x=$(p2_ratio full nft 2)
	what="full apply of the $label into a fresh namespace: wall time"
	what+=" (anchor: nft -f of sanso compile's text)"
	add_row "P2 (context)" "$what" "$(fmt "$(p2_stat full 2)" 2 s)" \
		"$(fmt "$(p2_stat nft 2)" 2 s)" "$(fmt_ratio "$x")" - -
	x=$(p2_ratio status full 2)
	what="sanso status, $label, no drift: wall time (anchor: its full"
	what+=" apply)"
	add_row P2 "$what" "$(fmt "$(p2_stat status 2)" 2 s)" \
		"$(fmt "$(p2_stat full 2)" 2 s)" "$(fmt_ratio "$x")" \
		"<= 0.05" "$(met "<=" 0.05 "" "$(median "$x")")"
	x=$(p2_ratio rollback full 2)
	what="rollback of the one-flow change, $label: wall time (anchor:"
	what+=" the full apply it returns to)"
	add_row P2 "$what" "$(fmt "$(p2_stat rollback 2)" 2 s)" \
		"$(fmt "$(p2_stat full 2)" 2 s)" "$(fmt_ratio "$x")" \
		"<= 0.05" "$(met "<=" 0.05 "" "$(median "$x")")"
	p2_notes "$m" "$m2"
	p2_oracle
}

p2_notes()
{
	local m=$1 m2=$2 a b
	note "P2: the one-flow change: $(diff "$m" "$m2" | grep '^>' |
		sed 's/^> *//'), was $(diff "$m" "$m2" | grep '^<' |
		sed 's/^< *//')"
	if cmp -s "$W/p2.list.apply" "$W/p2.list.nft"; then
		note "P2: nft list table inet sanso is the same after apply" \
			"and after nft -f ($(grep -c '^	set ' "$m.nft") sets," \
			"$(grep -c '^	chain ' "$m.nft") chains)"
	else
		note "P2: nft list table inet sanso DIFFERS between apply" \
			"and nft -f"
	fi
	a="the same" b="the same"
	[ -s "$W/p2.digest.change" ] &&
		cmp -s "$W/p2.digest.change" "$W/p2.digest.full2" ||
		a=DIFFERENT
	[ -s "$W/p2.digest.rollback" ] &&
		cmp -s "$W/p2.digest.rollback" "$W/p2.digest.apply" ||
		b=DIFFERENT
	note "P2: the table after the one-flow change is $a, by its" \
		"canonical digest, as after a full apply of the changed file;" \
		"after the rollback, $b as after the full apply it returns to"
	# The kernel's work on a batch runs in the sender's context
	# (nfnetlink_rcv from sendmsg), so it is the sender's system time:
	# user + system close to the wall time says nothing was left out.
	note "P2: CPU of the full apply $(p2_cpu full), wall" \
		"$(fmt "$(p2_stat full 2)" 2 s); of nft -f $(p2_cpu nft), wall" \
		"$(fmt "$(p2_stat nft 2)" 2 s) (time(1) of ip netns exec: the" \
		"command's own rusage; the kernel's work on a netlink batch runs" \
		"in the sending process, in its system time); one-flow change" \
		"$(p2_cpu change), status $(p2_cpu status), rollback" \
		"$(p2_cpu rollback)"
	if [ -s "$W/p2.status.out" ]; then
		note "P2: status said: $(grep -m1 '^live table' \
			"$W/p2.status.out")"
	fi
}

# The lab's oracle of incremental apply over ORACLE_SERIES random model
# pairs, when the tree has it.
p2_oracle()
{
	local t=$root/tests/lab/test_incremental.sh rc line t0
	if [ ! -f "$t" ]; then
		note "P2 oracle series: skipped: tests/lab/test_incremental.sh" \
			"absent"
		return 0
	fi
	say "P2: oracle series, ORACLE_SERIES=${BENCH_ORACLE_SERIES:-60} (limit" \
		"$BENCH_ORACLE_LIMIT s)"
	t0=$(date +%s)
	(cd "$root" && SANSO=$SANSO LAB_TOOLS=$tools \
		ORACLE_SERIES=${BENCH_ORACLE_SERIES:-60} \
		timeout -k 10 "$BENCH_ORACLE_LIMIT" bash "$t") \
		>"$W/p2.oracle" 2>&1
	rc=$?
	line=$(grep -oE '(^|[^0-9])[0-9]+ passed, [0-9]+ failed$' \
		"$W/p2.oracle" | tail -n 1 | sed 's/^[^0-9]*//')
	note "P2 oracle series (tests/lab/test_incremental.sh," \
		"ORACLE_SERIES=${BENCH_ORACLE_SERIES:-60}):" \
		"${line:-no count printed}, exit status" \
		"$rc$([ "$rc" -eq 124 ] && echo " (timed out after" \
		"$BENCH_ORACLE_LIMIT s)"), $(($(date +%s) - t0)) s"
	if [ "$rc" -ne 0 ]; then
		note "P2 oracle series: last lines: $(grep -v '^$' \
			"$W/p2.oracle" | tail -n 3 | paste -sd '|')"
	fi
}

# ---- P3: forwarding throughput ----

# The gateway and the two zones' namespaces of the throughput test.
p3_build()
{
	local gw=$LAB_PFX-g c=$LAB_PFX-c s=$LAB_PFX-s
	# BENCH_CLIENT_IF, BENCH_CLIENT_NET, BENCH_CLIENT_ADDR, BENCH_SERVER_*,
	# BENCH_PORT
	# shellcheck disable=SC2153
	eval "$(gen -l)"
	ip netns add "$gw" && ip netns add "$c" && ip netns add "$s" ||
		return 1
	lab_sysctl "$gw" net/ipv4/ip_forward=1 \
		net/ipv4/conf/all/rp_filter=0 \
		net/ipv4/conf/default/rp_filter=0 || return 1
	ip -n "$gw" link add "$BENCH_CLIENT_IF" type veth peer name eth0 \
		netns "$c" || return 1
	ip -n "$gw" link add "$BENCH_SERVER_IF" type veth peer name eth0 \
		netns "$s" || return 1
	cat >"$W/gw.batch" <<-EOF
	link set lo up
	addr add 169.254.1.1/24 dev $BENCH_CLIENT_IF
	addr add 169.254.2.1/24 dev $BENCH_SERVER_IF
	link set $BENCH_CLIENT_IF up
	link set $BENCH_SERVER_IF up
	route add $BENCH_CLIENT_NET via 169.254.1.2 dev $BENCH_CLIENT_IF
	route add $BENCH_SERVER_NET via 169.254.2.2 dev $BENCH_SERVER_IF
	EOF
	cat >"$W/c.batch" <<-EOF
	link set lo up
	addr add 169.254.1.2/24 dev eth0
	addr add $BENCH_CLIENT_ADDR/32 dev eth0
	link set eth0 up
	route add default via 169.254.1.1 dev eth0
	EOF
	cat >"$W/s.batch" <<-EOF
	link set lo up
	addr add 169.254.2.2/24 dev eth0
	addr add $BENCH_SERVER_ADDR/32 dev eth0
	link set eth0 up
	route add default via 169.254.2.1 dev eth0
	EOF
	lab_batch "$gw" "$W/gw.batch" && lab_batch "$c" "$W/c.batch" &&
		lab_batch "$s" "$W/s.batch" || return 1
	lab_sysctl "$gw" "net/ipv4/conf/$BENCH_CLIENT_IF/rp_filter=0" \
		"net/ipv4/conf/$BENCH_SERVER_IF/rp_filter=0" || return 1
	# shellcheck disable=SC2153
	ip netns exec "$s" iperf3 -s -B "$BENCH_SERVER_ADDR" -p "$BENCH_PORT" \
		>"$W/iperf3-server.log" 2>&1 &
	LAB_PIDS+=("$!")
	# shellcheck disable=SC2153
	ip netns exec "$s" "$tools/benchflood" sink "$BENCH_SERVER_ADDR" \
		"$BENCH_PORT" >"$W/sink.log" 2>&1 &
	LAB_PIDS+=("$!")
	P3_GW=$gw P3_C=$c
	local i
	for i in $(seq 50); do
		ip netns exec "$c" timeout 5 iperf3 -c "$BENCH_SERVER_ADDR" \
			-p "$BENCH_PORT" -B "$BENCH_CLIENT_ADDR" -n 1K \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	say "P3: no iperf3 server reachable through the gateway"
	return 1
}

# Loads configuration $1 into the gateway, replacing any other.
p3_load()
{
	ip netns exec "$P3_GW" nft delete table inet sanso 2>/dev/null
	ip netns exec "$P3_GW" nft delete table inet naive 2>/dev/null
	ip netns exec "$P3_GW" nft delete table inet bench 2>/dev/null
	ip netns exec "$P3_GW" conntrack -F >/dev/null 2>&1
	case $1 in
	none)
		;;
	ct)
		ip netns exec "$P3_GW" nft -f - <<-EOF
		table inet bench {
			chain forward {
				type filter hook forward priority filter; policy accept;
				ct state established,related accept
			}
		}
		EOF
		;;
	sanso10|sanso10k)
		rm -rf "$W/p3-state"
		mkdir -p "$W/p3-state"
		ip netns exec "$P3_GW" timeout 300 "$SANSO" apply \
			"$W/p3-$1.yaml" --state-dir "$W/p3-state" >/dev/null \
			2>"$W/p3-load.err"
		;;
	naive10k)
		ip netns exec "$P3_GW" timeout 300 nft -f "$W/p3-naive10k.nft"
		;;
	esac
}

# Runs one test; prints the figure: Gbit/s received (tcp, iperf3) or
# thousands of packets a second the gateway forwarded (udp, benchflood:
# unanswered, so every packet is new to conntrack; new, benchflood
# udpnew: every packet from another source, so a new conntrack entry
# each: new connections a second).
p3_run()
{
	local mode=$1 out=$W/p3.run tx0 tx1 t0 t1
	local dev=/sys/class/net/$BENCH_SERVER_IF/statistics/tx_packets
	if [ "$mode" = tcp ]; then
		if ! ip netns exec "$P3_C" timeout $((BENCH_SECONDS + 20)) \
			iperf3 -c "$BENCH_SERVER_ADDR" -p "$BENCH_PORT" -B \
			"$BENCH_CLIENT_ADDR" -t "$BENCH_SECONDS" -J \
			>"$out" 2>&1; then
			say "P3: iperf3 failed: $(jq -r '.error // empty' \
				"$out" 2>/dev/null)"
			echo -
			return
		fi
		jq '.end.sum_received.bits_per_second / 1e9' "$out"
		return
	fi
	local flood=(udp "$BENCH_CLIENT_ADDR")
	if [ "$mode" = new ]; then
		# Each datagram from another address and port of the client's
		# network: each a new conntrack entry; from an empty table.
		flood=(udpnew "$BENCH_CLIENT_NET")
		ip netns exec "$P3_GW" conntrack -F >/dev/null 2>&1
	fi
	tx0=$(ip netns exec "$P3_GW" cat "$dev")
	t0=$EPOCHREALTIME
	if ! ip netns exec "$P3_C" timeout $((BENCH_SECONDS + 20)) \
		"$tools/benchflood" "${flood[@]}" \
		"$BENCH_SERVER_ADDR" "$BENCH_PORT" "$BENCH_SECONDS" 64 \
		>"$out" 2>&1; then
		say "P3: benchflood failed: $(tail -n 1 "$out")"
		echo -
		return
	fi
	t1=$EPOCHREALTIME
	tx1=$(ip netns exec "$P3_GW" cat "$dev")
	awk -v n=$((tx1 - tx0)) -v a="$t0" -v b="$t1" \
		'BEGIN { printf "%.1f\n", n / (b - a) / 1000 }'
}

P3_CONFIGS="none ct sanso10 sanso10k naive10k"

# "ENTRIES DROP EARLY_DROP INSERT_FAILED" of the gateway's conntrack:
# the table's entries now, the counters summed over the CPUs.
p3_ctstat()
{
	local n
	n=$(ip netns exec "$P3_GW" cat /proc/sys/net/netfilter/nf_conntrack_count \
		2>/dev/null)
	ip netns exec "$P3_GW" conntrack -S 2>/dev/null | awk -v n="${n:-0}" '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); c[kv[1]] += kv[2] } }
		END { print n, c["drop"] + 0, c["early_drop"] + 0,
			c["insert_failed"] + 0 }'
}
P3_ROUNDS=$BENCH_REPS

p3()
{
	local cfg rep mode ct0
	say "P3: models of 10 and 10,000 flows, naive ruleset"
	gen -z 1000 -f 10 -p 20000 >"$W/p3-sanso10.yaml" || return 1
	gen -z 1000 -f 10000 -p 20000 >"$W/p3-sanso10k.yaml" || return 1
	gen -z 1000 -f 10000 -p 20000 -n >"$W/p3-naive10k.nft" || return 1
	p3_build || return 1
	# Unanswered UDP entries of the new-connection test expire after
	# 1 s rather than 30 s, so that the table (nf_conntrack_max) does
	# not fill during a run.
	lab_sysctl "$P3_GW" net/netfilter/nf_conntrack_udp_timeout=1 \
		>/dev/null 2>&1
	for rep in $(seq "$P3_ROUNDS"); do
		for cfg in $P3_CONFIGS; do
			say "P3: round $rep: $cfg"
			if ! p3_load "$cfg"; then
				say "P3: loading $cfg failed: $(tail -n 1 \
					"$W/p3-load.err" 2>/dev/null)"
				continue
			fi
			for mode in tcp udp new; do
				[ "$mode" = new ] && [ "$cfg" = naive10k ] &&
					continue
				[ "$mode" = new ] && ct0=$(p3_ctstat)
				echo "$rep $(p3_run "$mode")" \
					>>"$W/p3.$cfg.$mode"
				[ "$mode" = new ] &&
					echo "$cfg $ct0 $(p3_ctstat)" >>"$W/p3.ct"
			done
		done
	done
	declare -A S
	for cfg in $P3_CONFIGS; do
		for mode in tcp udp new; do
			S[$cfg.$mode]=$(awk '$2 != "-" { print $2 }' \
				"$W/p3.$cfg.$mode" 2>/dev/null | stats)
		done
	done
	local x unit d what f
	for mode in tcp udp; do
		f=$W/p3.%s.$mode
		if [ "$mode" = tcp ]; then
			unit=Gbit/s d=2
			what="TCP, one iperf3 stream,"
		else
			unit=kpps d=0
			what="UDP 64-byte, unanswered,"
		fi
		# shellcheck disable=SC2059
		x=$(pratio "$(printf "$f" sanso10k)" "$(printf "$f" none)")
		add_row P3 "$what forwarding with sanso's 10,000 flows (anchor: no ruleset)" \
			"$(fmt "${S[sanso10k.$mode]}" $d $unit)" \
			"$(fmt "${S[none.$mode]}" $d $unit)" \
			"$(fmt_ratio "$x")" ">= 0.95" \
			"$(met ">=" 0.95 "" "$(median "$x")")"
		# shellcheck disable=SC2059
		x=$(pratio "$(printf "$f" sanso10k)" "$(printf "$f" sanso10)")
		add_row P3 "$what forwarding with sanso's 10,000 flows (anchor: sanso's 10 flows)" \
			"$(fmt "${S[sanso10k.$mode]}" $d $unit)" \
			"$(fmt "${S[sanso10.$mode]}" $d $unit)" \
			"$(fmt_ratio "$x")" "0.95-1.05" \
			"$(met in 0.95 1.05 "$(median "$x")")"
		# shellcheck disable=SC2059
		x=$(pratio "$(printf "$f" naive10k)" "$(printf "$f" none)")
		add_row "P3 (context)" \
			"$what forwarding with one linear rule per flow, 10,000 flows (anchor: no ruleset)" \
			"$(fmt "${S[naive10k.$mode]}" $d $unit)" \
			"$(fmt "${S[none.$mode]}" $d $unit)" \
			"$(fmt_ratio "$x")" - -
		# shellcheck disable=SC2059
		x=$(pratio "$(printf "$f" ct)" "$(printf "$f" none)")
		add_row "P3 (context)" \
			"$what forwarding with conntrack and an accepting chain only (anchor: no ruleset)" \
			"$(fmt "${S[ct.$mode]}" $d $unit)" \
			"$(fmt "${S[none.$mode]}" $d $unit)" \
			"$(fmt_ratio "$x")" - -
	done
	f=$W/p3.%s.new
	what="UDP 64-byte, new connections (each datagram from another"
	what+=" source address and port: a new conntrack entry each), forwarded"
	# shellcheck disable=SC2059
	x=$(pratio "$(printf "$f" sanso10k)" "$(printf "$f" none)")
	add_row P3 "$what with sanso's 10,000 flows (anchor: no ruleset)" \
		"$(fmt "${S[sanso10k.new]}" 0 "k/s")" \
		"$(fmt "${S[none.new]}" 0 "k/s")" \
		"$(fmt_ratio "$x")" ">= 0.95" \
		"$(met ">=" 0.95 "" "$(median "$x")")"
	# shellcheck disable=SC2059
	x=$(pratio "$(printf "$f" sanso10k)" "$(printf "$f" sanso10)")
	add_row P3 "$what with sanso's 10,000 flows (anchor: sanso's 10 flows)" \
		"$(fmt "${S[sanso10k.new]}" 0 "k/s")" \
		"$(fmt "${S[sanso10.new]}" 0 "k/s")" \
		"$(fmt_ratio "$x")" "0.95-1.05" \
		"$(met in 0.95 1.05 "$(median "$x")")"
	# shellcheck disable=SC2059
	x=$(pratio "$(printf "$f" ct)" "$(printf "$f" none)")
	add_row "P3 (context)" \
		"$what with conntrack and an accepting chain only (anchor: no ruleset)" \
		"$(fmt "${S[ct.new]}" 0 "k/s")" \
		"$(fmt "${S[none.new]}" 0 "k/s")" \
		"$(fmt_ratio "$x")" - -
	# cfg entries0 drop0 early0 failed0 entries1 drop1 early1 failed1
	note "P3: new connections: benchflood udpnew, $BENCH_SECONDS s a run" \
		"from the $BENCH_CLIENT_NET addresses and ports 1024-65535 in" \
		"turn, counted as packets the gateway sent out of" \
		"$BENCH_SERVER_IF; the gateway's table emptied before each run," \
		"its unanswered UDP timeout 1 s (nf_conntrack_max" \
		"$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null));" \
		"conntrack entries at the end of each run, and drops, early drops" \
		"and failed inserts during it, by configuration: $(awk '
		!($1 in e) { o[++n] = $1 }
		{ e[$1] = e[$1] (k[$1]++ ? "/" : "") $6
		  d[$1] += $7 - $3; ed[$1] += $8 - $4; f[$1] += $9 - $5 }
		END { fm = "%s%s: %s entries, %d drops, %d early drops,"
			fm = fm " %d failed inserts"
			for (i = 1; i <= n; i++) { c = o[i]
				printf fm, (i > 1 ? "; " : ""), c, e[c], d[c],
					ed[c], f[c] } }' "$W/p3.ct" 2>/dev/null)"
	note "P3: $P3_ROUNDS rounds of every configuration in turn, ratios" \
		"taken within each round;" \
		"TCP: one iperf3 stream, -t $BENCH_SECONDS; UDP: benchflood" \
		"udp, 64-byte datagrams for $BENCH_SECONDS s that nobody" \
		"answers, so that conntrack sees every one as new and the" \
		"forward chain runs in full, counted as packets the gateway" \
		"sent out of $BENCH_SERVER_IF; the naive" \
		"ruleset has $(sed -n 's/^# \([0-9]*\) rules$/\1/p' \
		"$W/p3-naive10k.nft") rules," \
		"the iperf3 flow's in the middle"
}

# ---- P4: the monitor ----

# The 1x model, made once for P4 and P5 when P1 did not run.
model_1x()
{
	[ -s "$W/m1.yaml" ] || gen -z 1000 -f 10000 -p 20000 >"$W/m1.yaml"
}

# CPU seconds (user + system) a process has used so far.
cpu_of()
{
	awk -v hz="$(getconf CLK_TCK)" \
		'{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo 0
}

# Waits up to ten seconds for a line matching $2 in file $1.
wait_for()
{
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Stops a process of LAB_PIDS with SIGTERM and waits for it.
stop_pid()
{
	local pid=$1 i keep=()
	kill "$pid" 2>/dev/null
	for i in $(seq 100); do
		lab_running "$pid" || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for i in "${LAB_PIDS[@]}"; do
		[ "$i" = "$pid" ] || keep+=("$i")
	done
	LAB_PIDS=("${keep[@]}")
}

P4_EVENTS=${BENCH_P4_EVENTS:-1000000}
P4_RATES=${BENCH_P4_RATES:-2000 5000 10000 20000 0}

# The anchor of the replay, tests/bench/nfctparse.c, built here so that
# neither sanso nor its tests need libnetfilter_conntrack: its path, or
# nothing when the library is missing.
p4_nfct_build()
{
	local out=$W/nfctparse lib
	lib=$(dirname "$bin")/libsanso.a
	pkg-config --exists libnetfilter_conntrack libmnl 2>/dev/null ||
		return 1
	[ -f "$lib" ] || return 1
	# shellcheck disable=SC2046
	"${CC:-cc}" -O2 -g -std=gnu11 -D_GNU_SOURCE -iquote "$root/include" \
		$(pkg-config --cflags libnetfilter_conntrack libmnl) -o "$out" \
		"$here/nfctparse.c" "$lib" \
		$(pkg-config --libs libnetfilter_conntrack libmnl) \
		>"$W/nfctparse.build" 2>&1 || return 1
	echo "$out"
}

p4_replay()
{
	local i pcap=$W/ct.pcap nfct
	model_1x || return 1
	say "P4: a capture of $P4_EVENTS conntrack NEW events"
	"$tools/benchct" "$W/m1.yaml" "$P4_EVENTS" "$pcap" \
		>"$W/benchct.out" || return 1
	mkdir -p "$W/p4-replay"
	if ! nfct=$(p4_nfct_build); then
		nfct=
		note "P4: no replay anchor: tests/bench/nfctparse.c did not" \
			"build (Debian libnetfilter-conntrack-dev): $(tail -n 1 \
			"$W/nfctparse.build" 2>/dev/null)"
	fi
	say "P4: sanso monitor --replay and libnetfilter_conntrack's parse," \
		"$BENCH_REPS times each, in turn"
	for i in $(seq "$BENCH_REPS"); do
		rm -f "$W/p4-replay.jsonl"
		"$SANSO" monitor "$W/m1.yaml" --replay "$pcap" --no-dnsguard \
			--state-dir "$W/p4-replay" --jsonl "$W/p4-replay.jsonl" \
			>"$W/p4-replay.out" 2>&1 || {
			say "P4: replay failed: $(tail -n 1 "$W/p4-replay.out")"
			break
		}
		sed -n 's/.* \([0-9.]*\) events\/s$/\1/p' "$W/p4-replay.out" |
			sed "s/^/$i /" >>"$W/p4.replay"
		[ -n "$nfct" ] || continue
		"$nfct" "$pcap" >"$W/p4-nfct.out" 2>"$W/p4-nfct.err" || {
			say "P4: nfctparse failed: $(tail -n 1 "$W/p4-nfct.err")"
			continue
		}
		sed -n 's/.* \([0-9.]*\) events\/s$/\1/p' "$W/p4-nfct.out" |
			sed "s/^/$i /" >>"$W/p4.nfct"
	done
	rm -f "$pcap"
	local r n x
	r=$(col 2 "$W/p4.replay" | stats)
	n=$(col 2 "$W/p4.nfct" 2>/dev/null | stats)
	x=$(pratio "$W/p4.replay" "$W/p4.nfct")
	local what="monitor --replay of the capture, 1x model: conntrack"
	what+=" events parsed and judged a second, one core (anchor:"
	what+=" libnetfilter_conntrack's nfct_nlmsg_parse of the same"
	what+=" records, parse alone)"
	add_row P4 "$what" \
		"$(fmt "$r" 0 /s)" "$(fmt "$n" 0 /s)" "$(fmt_ratio "$x")" \
		">= 2" "$(met ">=" 2 "" "$(median "$x")")"
	note "P4: replay capture: $(cat "$W/benchct.out") (tests/tools/benchct.c);" \
		"last run: $(sed 's/^replay: //' "$W/p4-replay.out");" \
		"anchor (tests/bench/nfctparse.c: the same reader, src/replay.c," \
		"one nf_conntrack object reused): $(sed 's/^nfct: //' \
		"$W/p4-nfct.out" 2>/dev/null); the monitor's figure also" \
		"counts writing its alerts (JSON lines)"
}

# One step of the live test at a connection rate (0: as fast as the
# lab goes); appends "RATE MON_EVENTS MON_OVERRUNS MON_CPU CT_EVENTS
# CT_ENOBUFS CT_CPU FAILED" to $W/p4.live.
p4_step()
{
	local rate=$1 mon ct conn ok failed secs mc cc mc0 cc0
	rm -f "$W/p4-live.jsonl"
	# Start from an empty table: the monitor reads it when it starts.
	ip netns exec "$P3_GW" conntrack -F >/dev/null 2>&1
	ip netns exec "$P3_GW" "$SANSO" monitor "$W/p3-sanso10k.yaml" \
		--no-dnsguard --state-dir "$W/p3-state" --drift-interval 0 \
		--jsonl "$W/p4-live.jsonl" >"$W/p4-mon.out" 2>&1 &
	mon=$!
	LAB_PIDS+=("$mon")
	ip netns exec "$P3_GW" conntrack -E -e NEW,DESTROY >/dev/null \
		2>"$W/p4-ct.err" &
	ct=$!
	LAB_PIDS+=("$ct")
	if ! wait_for "$W/p4-mon.out" 'watching'; then
		say "P4: the monitor did not start: $(tail -n 1 \
			"$W/p4-mon.out")"
		stop_pid "$mon"
		stop_pid "$ct"
		return 1
	fi
	sleep 0.5
	# Loading the zone file is not the events' cost.
	mc0=$(cpu_of "$mon")
	cc0=$(cpu_of "$ct")
	conn=$(ip netns exec "$P3_C" timeout $((BENCH_SECONDS + 30)) \
		"$tools/benchflood" conn "$BENCH_CLIENT_ADDR" \
		"$BENCH_SERVER_ADDR" "$BENCH_CONN_PORT" "$BENCH_SECONDS" \
		"$rate")
	# The DESTROY events of the last connections (close timeout 2 s).
	sleep 3
	mc=$(awk -v a="$mc0" -v b="$(cpu_of "$mon")" \
		'BEGIN { printf "%.3f", b - a }')
	cc=$(awk -v a="$cc0" -v b="$(cpu_of "$ct")" \
		'BEGIN { printf "%.3f", b - a }')
	stop_pid "$mon"
	stop_pid "$ct"
	read -r _ ok _ failed _ secs <<<"$conn"
	local got mon_ev ct_ev ct_nobufs
	got=$(awk -v n="${ok:-0}" -v s="${secs:-1}" \
		'BEGIN { printf "%.0f", n / s }')
	mon_ev=$(sed -n 's/.*: \([0-9]*\) events, [0-9]* judged, \([0-9]*\) overruns.*/\1 \2/p' \
		"$W/p4-mon.out")
	ct_ev=$(sed -n 's/.* \([0-9]*\) flow events have been shown.*/\1/p' \
		"$W/p4-ct.err")
	ct_nobufs=$(grep -c ENOBUFS "$W/p4-ct.err")
	echo "$rate $got ${mon_ev:-- -} $mc ${ct_ev:--} $ct_nobufs $cc" \
		"${failed:--}" >>"$W/p4.live"
	tail -n 1 "$W/p4.live" >&2
}

p4_live()
{
	local rate
	model_1x || return 1
	[ -s "$W/p3-sanso10k.yaml" ] ||
		gen -z 1000 -f 10000 -p 20000 >"$W/p3-sanso10k.yaml"
	if [ -z "${P3_GW-}" ]; then
		p3_build || return 1
	fi
	say "P4: live: the 1x ruleset on the gateway, a ladder of new-connection rates"
	p3_load sanso10k || return 1
	lab_sysctl "$P3_GW" net/netfilter/nf_conntrack_tcp_timeout_close=2 \
		>/dev/null 2>&1
	lab_sysctl "$P3_C" "net/ipv4/ip_local_port_range=1024 65535"
	ip netns exec "$LAB_PFX-s" "$tools/benchflood" accept \
		"$BENCH_SERVER_ADDR" "$BENCH_CONN_PORT" >"$W/accept.out" 2>&1 &
	LAB_PIDS+=("$!")
	wait_for "$W/accept.out" ready || return 1
	: >"$W/p4.live"
	for rate in $P4_RATES; do
		say "P4: live at $([ "$rate" = 0 ] && echo "full speed" ||
			echo "$rate connections/s")"
		p4_step "$rate" || return 1
	done
	# rate achieved mon_events mon_overruns mon_cpu ct_events ct_enobufs
	# ct_cpu failed
	local best top
	best=$(awk '$4 == 0 && $9 == 0 && $2 > b { b = $2 } END { print b + 0 }' \
		"$W/p4.live")
	top=$(awk '$2 > t { t = $2; l = $0 } END { print l }' "$W/p4.live")
	local t_rate t_mev t_mov t_cev t_cno mine
	read -r _ t_rate t_mev t_mov _ t_cev t_cno _ _ <<<"$top"
	mine="$t_mov overruns in $t_mev events"
	[ "$t_mov" = 0 ] || mine="$mine; none up to $best/s"
	local what="monitor live, at the lab's highest new-connection rate"
	what+=" ($t_rate/s through the 1x ruleset): overruns (anchor:"
	what+=" conntrack -E -e NEW,DESTROY, ENOBUFS)"
	add_row P4 "$what" \
		"$mine" "$t_cno ENOBUFS in $t_cev events" - "0 lost" \
		"$([ "$t_mov" = 0 ] && echo yes || echo no)"
	local cpu
	cpu=$(awk '{ me += $3; mc += $5; ce += $6; cc += $8 }
		END { if (me && ce) printf "%.4f %.4f\n", mc / me * 1e6,
			cc / ce * 1e6; else print "- -" }' "$W/p4.live")
	local sm sc x
	read -r sm sc <<<"$cpu"
	x=$(ratio "$sm" "$sc")
	what="monitor live: CPU per event over the whole ladder, start-up"
	what+=" left out (anchor: conntrack -E -e NEW,DESTROY > /dev/null"
	what+=" on the same traffic)"
	add_row P4 "$what" \
		"$(awk -v v="$sm" 'BEGIN { printf v == "-" ? "-" : "%.1f µs", v }')" \
		"$(awk -v v="$sc" 'BEGIN { printf v == "-" ? "-" : "%.1f µs", v }')" \
		"$x" \
		"<= 1.0" "$(met "<=" 1.0 "" "$x")"
	note "P4: live ladder (benchflood conn, -t $BENCH_SECONDS each," \
		"TCP connect and RST through the gateway, conntrack's TCP" \
		"close timeout 2 s): highest rate with no overrun and no failed" \
		"connection: $best/s; rows \"rate-asked rate-got sanso-events" \
		"overruns sanso-cpu-s ct-events ct-enobufs ct-cpu-s failed\":" \
		"$(paste -sd ';' "$W/p4.live" | sed 's/;/; /g')"
}

p4_measure()
{
	p4_replay
	[ "${BENCH_P4_LIVE:-1}" = 0 ] || p4_live
}

# ---- P5: the DNS guard ----

p5_setup()
{
	local ns=$1 model=$2 k j
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	mkdir -p "$W/$ns.state"
	ip netns exec "$ns" timeout 300 "$SANSO" apply "$model" --state-dir \
		"$W/$ns.state" >/dev/null 2>"$W/$ns.apply.err" || {
		say "P5: apply failed: $(tail -n 1 "$W/$ns.apply.err")"
		return 1
	}
	: >"$W/p5.hosts"
	: >"$W/p5.names"
	: >"$W/p5.miss"
	local addrs=()
	# The names of the sets some flow uses: the guard answers a name
	# of a set no flow uses with NODATA, at once.
	local used
	used=$(grep -o 'fqdn:upd-[0-9]*' "$model" | sed 's/.*-//' | sort -nu)
	for k in $used; do
		# The misses: TAG-N.m.cdnK.example.jp, never asked before,
		# which dnsmasq answers from its configuration (no cache).
		echo "m.cdn$k.example.jp" >>"$W/p5.miss"
		addrs+=("--address=/m.cdn$k.example.jp/198.18.$k.250")
		echo "198.18.$k.1 upd$k.example.jp" >>"$W/p5.hosts"
		echo "upd$k.example.jp" >>"$W/p5.names"
		for j in $(seq 1 124); do
			echo "198.18.$k.$((j + 1)) n$j.cdn$k.example.jp"
		done >>"$W/p5.hosts"
		for j in $(seq 1 124); do
			echo "n$j.cdn$k.example.jp"
		done >>"$W/p5.names"
	done
	ip netns exec "$ns" dnsmasq -k --conf-file= --user=root --port=5300 \
		--listen-address=127.0.0.1 --bind-interfaces --no-resolv \
		--no-hosts --addn-hosts="$W/p5.hosts" --local-ttl=300 \
		"${addrs[@]}" \
		--pid-file= >"$W/$ns.dnsmasq.log" 2>&1 &
	LAB_PIDS+=("$!")
	P5_PIDS=("$!")
	ip netns exec "$ns" "$SANSO" dnsguard "$model" --state-dir \
		"$W/$ns.state" --jsonl "$W/$ns.alerts.jsonl" \
		>"$W/$ns.guard.log" 2>&1 &
	LAB_PIDS+=("$!")
	P5_PIDS+=("$!")
	wait_for "$W/$ns.guard.log" 'answering' || {
		say "P5: the guard did not start: $(tail -n 1 \
			"$W/$ns.guard.log")"
		return 1
	}
	local i
	for i in $(seq 50); do
		ip netns exec "$ns" "$tools/benchdns" 127.0.0.1 5300 \
			"$W/p5.names" 0.2 1 | grep -q 'answered [1-9]' &&
			return 0
		sleep 0.1
	done
	say "P5: dnsmasq does not answer: $(tail -n 1 "$W/$ns.dnsmasq.log")"
	return 1
}

# Appends "ROUND QPS MEDIAN_US" of one benchdns run to $4; with a tag
# $6, every name is one never asked before (the guard's cache misses),
# at most P5_MISS_MAX of them a run.
p5_run()
{
	local ns=$1 where=$2 conc=$3 out=$4 round=$5 addr port
	local names=$W/p5.names targ=()
	if [ -n "${6-}" ]; then
		names=$W/p5.miss targ=("$6" "$P5_MISS_MAX")
	fi
	if [ "$where" = direct ]; then
		addr=127.0.0.1 port=5300
	else
		addr=127.0.0.53 port=53
	fi
	ip netns exec "$ns" timeout $((BENCH_SECONDS + 20)) \
		"$tools/benchdns" "$addr" "$port" "$names" \
		"$BENCH_SECONDS" "$conc" "${targ[@]}" >"$W/p5.run" 2>&1
	awk -v r="$round" '$1 == "sent" && $4 > 0 { print r, $12, $14 }' \
		"$W/p5.run" >>"$out"
	[ -s "$out" ] || say "P5: benchdns: $(tail -n 1 "$W/p5.run")"
}

# The two rows of one kind: p5_rows ID LABEL TAG SUFFIX WHAT; SUFFIX
# "" (the names asked in turn: hits) or ".miss".
p5_rows()
{
	local id=$1 label=$2 tag=$3 load lat qd qg ld lg x add what
	if [ -z "$4" ]; then
		load=load lat=lat
	else
		load=miss32 lat=miss1
	fi
	qd=$(col 2 "$W/p5.$tag.direct.$load" 2>/dev/null | stats)
	qg=$(col 2 "$W/p5.$tag.guard.$load" 2>/dev/null | stats)
	ld=$(col 3 "$W/p5.$tag.direct.$lat" 2>/dev/null | stats)
	lg=$(col 3 "$W/p5.$tag.guard.$lat" 2>/dev/null | stats)
	x=$(pratio "$W/p5.$tag.guard.$load" "$W/p5.$tag.direct.$load")
	what="DNS answers a second through the guard with set updates,"
	what+=" $5, $label, 32 queries in flight (anchor: the same queries"
	what+=" straight to the upstream dnsmasq)"
	add_row "$id" "$what" \
		"$(fmt "$qg" 0 /s)" "$(fmt "$qd" 0 /s)" "$(fmt_ratio "$x")" \
		">= 0.5" "$(met ">=" 0.5 "" "$(median "$x")")"
	# The added latency of each round: guard median - direct median.
	add=$(awk 'NR == FNR { d[$1] = $3; next }
		   ($1 in d) { print $3 - d[$1] }' "$W/p5.$tag.direct.$lat" \
		"$W/p5.$tag.guard.$lat" 2>/dev/null | stats)
	what="DNS median latency, one query at a time, $5, $label: added"
	what+=" by the guard (anchor: median straight to dnsmasq)"
	local addf
	addf=$(fmt "$add" 0 µs)
	case $addf in
	-* | "not measured") ;;
	*) addf=+$addf ;;
	esac
	add_row "$id" "$what" "$addf ($(fmt "$lg" 0 µs) in all)" \
		"$(fmt "$ld" 0 µs)" - "< 1 ms added" \
		"$(met "<" 1000 "" "$(median "$add")")"
}

# P5 on one model: rows with LABEL.
p5_model()
{
	local label=$1 model=$2 tag=$3 ns=$LAB_PFX-d$3 i w
	say "P5: $label: apply, dnsmasq upstream, sanso dnsguard"
	p5_setup "$ns" "$model" || return 1
	note "P5 ($label): the FQDN sets some flow uses, whose names are" \
		"asked: $(sed -n 's/ .*//p' "$W/p5.hosts" | sed 's/^198\.18\.//;
		s/\..*//' | sort -nu | sed 's/^/upd-/' | paste -sd ' ')"
	local c
	for i in $(seq "$SLOW_REPS"); do
		for w in direct guard; do
			p5_run "$ns" "$w" 32 "$W/p5.$tag.$w.load" "$i"
			p5_run "$ns" "$w" 1 "$W/p5.$tag.$w.lat" "$i"
		done
		# The misses: a tag of its own for every run, so that no name
		# repeats, the guard's cache or dnsmasq's.
		for w in direct guard; do
			for c in 32 1; do
				p5_run "$ns" "$w" "$c" \
					"$W/p5.$tag.$w.miss$c" "$i" \
					"r$i${w:0:1}$c"
			done
		done
	done
	p5_rows "$4" "$label" "$tag" "" "cache hits"
	p5_rows "$4" "$label" "$tag" ".miss" "cache misses"
	for i in "${P5_PIDS[@]}"; do
		stop_pid "$i"
	done
	note "P5 ($label): the guard's count at its end: $(tail -n 1 \
		"$W/$ns.guard.log" | sed 's/^sanso: dnsguard: //')"
}

# The guard keeps 65,536 learned names, then evicts the oldest, and
# each answer that would evict goes in a transaction of its own
# (src/fqdnstate.c): the misses of one guard's life stay below that,
# 60,000 over its 2 x SLOW_REPS miss runs, so that the miss rows time
# the ordinary path.
P5_MISS_MAX=$((60000 / (2 * SLOW_REPS)))

p5_measure()
{
	model_1x || return 1
	gen -z 1000 -f 10000 -p 20000 -u 127.0.0.1:5300 -a 127.0.0.53 \
		>"$W/p5-1x.yaml" || return 1
	# Seed 3: the default seed's 40 flows use no FQDN set.
	gen -z 20 -f 40 -p 60 -s 3 -u 127.0.0.1:5300 -a 127.0.0.53 \
		>"$W/p5-small.yaml" || return 1
	p5_model "1x model" "$W/p5-1x.yaml" 1 P5 || return 1
	p5_model "20-zone model" "$W/p5-small.yaml" 2 "P5 (context)"
	note "P5: names: one exact and 124 wildcard names a FQDN set, asked" \
		"in turn (the guard answers most from its cache, and every" \
		"answer re-arms its set elements and waits for the kernel's" \
		"ACK, which the answers ready in one event round share);" \
		"dnsmasq answers from a hosts file, TTL 300;" \
		"tests/tools/benchdns.c, -t $BENCH_SECONDS each;" \
		"cache misses: every query a name never asked before," \
		"TAG-N.m.cdnK.example.jp (a wildcard name of set K), which the" \
		"guard forwards to dnsmasq, arms the set with and answers after" \
		"the kernel's ACK; dnsmasq answers them from its --address" \
		"configuration, its own cache not involved; a miss run stops" \
		"after $P5_MISS_MAX queries (the guard's 65,536 learned names" \
		"are not reached) or $BENCH_SECONDS s"
}

# ---- P4 and P5 need commands that may not be built yet ----

has_cmd()
{
	"$SANSO" --help 2>&1 | grep -Eq "^[[:space:]]+$1([[:space:]]|\$)"
}

p4()
{
	if ! has_cmd monitor; then
		add_row P4 "monitor" "not measured: sanso monitor is not built" \
			- - "see SPEC §10" -
		return 0
	fi
	p4_measure
}

p5()
{
	if ! has_cmd dnsguard; then
		add_row P5 "DNS guard" \
			"not measured: sanso dnsguard is not built" - - \
			"see SPEC §10" -
		return 0
	fi
	if ! command -v dnsmasq >/dev/null; then
		add_row P5 "DNS guard" \
			"not measured: no dnsmasq (Debian dnsmasq-base)" - - \
			"see SPEC §10" -
		return 0
	fi
	p5_measure
}

# ---- P6: sanso report over a year of alerts ----

p6()
{
	local n=${BENCH_P6_LINES:-10000000} f=$W/p6.jsonl i t r w lps x
	if ! has_cmd report; then
		add_row P6 "report" "not measured: sanso report is not built" \
			- - "see SPEC §10" -
		return 0
	fi
	# A year of alerts, 3 s apart, in the monitor's record shape and
	# key order: types, severities, 40 zone pairs, 2,000 sources.
	say "P6: writing $n alert lines"
	awk -v n="$n" 'BEGIN {
		split("blocked blocked blocked blocked cross_zone off_hours logged drift", ty)
		split("high high high medium critical medium high medium", sv)
		t0 = 1790000000
		for (i = 0; i < n; i++) {
			t = t0 + int(i * 3.15); k = i % 8 + 1
			printf "{\"time\":\"%s.%03d+09:00\",\"site\":\"bench-city\",\"host\":\"gw1\",\"type\":\"%s\",\"severity\":\"%s\",\"src_zone\":\"z%d\",\"dst_zone\":\"w%d\",\"proto\":\"tcp\",\"src\":\"10.%d.%d.%d\",\"sport\":40000,\"dst\":\"203.0.113.5\",\"dport\":443,\"flow\":null,\"count\":1,\"message\":\"z -> w tcp/443: dropped\",\"seq\":%d,\"prev\":\"%064d\",\"rule\":null}\n", strftime("%Y-%m-%dT%H:%M:%S", t + 32400, 1), i % 1000, ty[k], sv[k], i % 8, i % 5, i % 50, int(i / 50) % 40, i % 25, i + 1, 0
		}
	}' >"$f" || return 1
	# --no-verify: counting, not the HMAC chain
	mkdir -p "$W/p6.state"
	say "P6: sanso report and wc -l, $SLOW_REPS times each, in turn"
	for i in $(seq "$SLOW_REPS"); do
		timed "$W/p6.rep" "$SANSO" report --state-dir "$W/p6.state" \
			--alerts "$f" --format json --timezone Asia/Tokyo \
			--no-verify \
			>"$W/p6.json" 2>"$W/p6.err"
		[ "$(jq .alerts.total "$W/p6.json")" = "$n" ] || {
			note "P6: the report counted $(jq .alerts.total \
				"$W/p6.json") of $n lines"
			return 1
		}
		echo "$i $(tail -n 1 "$W/p6.rep" | cut -d' ' -f3)" >>"$W/p6.rep.r"
		timed "$W/p6.wc" wc -l "$f" >/dev/null || return 1
		echo "$i $(tail -n 1 "$W/p6.wc" | cut -d' ' -f3)" >>"$W/p6.wc.r"
	done
	t=$(col 3 "$W/p6.rep" | stats)
	w=$(col 1 "$W/p6.rep" | stats)
	r=$(col 2 "$W/p6.rep" | awk '{ print $1 / 1024 }' | stats)
	lps=$(col 3 "$W/p6.rep" | awk -v n="$n" '{ print int(n / $1) }' | stats)
	x=$(pratio "$W/p6.rep.r" "$W/p6.wc.r")
	add_row P6 "report over $n alert lines: lines a second, CPU time (anchor: wc -l of the file)" \
		"$(fmt "$lps" 0 /s) ($(fmt "$t" 2 s))" \
		"$(fmt "$(col 3 "$W/p6.wc" | stats)" 2 s)" "$(fmt_ratio "$x")" \
		">= 1,000,000/s" "$(met ">=" 1000000 "" "$(median "$lps")")"
	add_row P6 "report over $n alert lines: peak memory (anchor: none)" \
		"$(fmt "$r" 1 MB)" - - "< 100 MB" \
		"$(met "<" 100 "" "$(median "$r")")"
	note "P6: file $(du -m "$f" | cut -f1) MB; times are CPU (user +" \
		"system), wall time $(fmt "$w" 2 s); --no-verify, so the HMAC" \
		"chain is not recomputed (that is verify-log's cost, paid on" \
		"top by a report that verifies)"
	rm -f "$f"
}

# ---- the report ----

machine()
{
	local cpu cores kernel nftv
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	cores=$(nproc)
	kernel="$(uname -sr) ($(uname -m))"
	nftv=$(nft --version 2>/dev/null)
	# A virtual machine's model name can be generic ("Intel(R) Xeon(R)
	# Processor"): the family, model and stepping say which it is.
	local fms hyp
	fms=$(awk -F': *' '/^cpu family/ { f = $2 } /^model[ \t]*:/ { m = $2 }
		/^stepping/ { s = $2 } END { if (f != "") printf "family %s" \
		" model %s stepping %s", f, m, s }' /proc/cpuinfo)
	hyp=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p')
	echo "- CPU: ${cpu:-unknown} (${fms:-family unknown}${hyp:+, under $hyp})," \
	     "$cores cores ($(nproc --all) online)"
	echo "- Memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
		/proc/meminfo)"
	echo "- Kernel: $kernel"
	echo "- nftables: $nftv; $(iperf3 --version 2>/dev/null | head -n 1)"
	echo "- sanso: $("$SANSO" --version 2>/dev/null | head -n 1)," \
	     "tree $(git -C "$root" describe --always --dirty 2>/dev/null ||
		     echo unknown)"
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took" \
	     "$(( $(date +%s) - START )) s"
	echo "- Load average (1, 5, 15 min) at the start: $LOAD_START; at" \
	     "the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

table()
{
	echo "| id | what | sanso | anchor | ratio | target | met |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	printf '%s\n' "${ROWS[@]}"
}

report()
{
	local kept=
	if [ -f "$BENCH_OUT" ] && grep -qF "$KEEP_MARK" "$BENCH_OUT"; then
		kept=$(awk -v m="$KEEP_MARK" 'on { print } $0 == m { on = 1 }' \
			"$BENCH_OUT")
	fi
	cat <<-EOF
	# sanso benchmarks

	The measured targets of SPEC §10, as \`make bench\`
	(tests/bench/run.sh) measured them last. Every figure is the median
	of its repetitions, the spread (min-max) after it; every anchor was
	measured in the same run, on the same machine, with the same model.
	The synthetic models come from tests/tools/benchgen.c (1x: 1,000
	zones, 10,000 flows, 20,000 prefixes; 10x: ten times each).

	## Machine

	$(machine)

	## Results

	$(table)

	## Notes of this run

	$(printf -- '- %s\n' "${NOTES[@]}")

	$KEEP_MARK
	EOF
	if [ -n "$kept" ]; then
		printf '%s\n' "$kept"
	else
		echo
		echo "## Analysis"
		echo
		echo "(Hand-written; run.sh keeps everything below the mark.)"
	fi
}

for id in P1 P2 P3 P4 P5 P6; do
	wants "$id" || continue
	fn=$(echo "$id" | tr 'P' 'p')
	if ! "$fn"; then
		say "$id: failed; see the notes"
		NOTES+=("$id: the measurement failed part-way")
	fi
done

table
if [ "$BENCH_OUT" != - ]; then
	out=$(report)
	printf '%s\n' "$out" >"$BENCH_OUT"
	say "written to $BENCH_OUT"
fi
