#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The oracle of the change made in place (src/kdelta.c). For a series of
# model pairs -- benchgen models of varying seeds and sizes, each with one
# mutation: a flow's port, a host's address, a zone added, a schedule's
# hours, a flow removed -- in one namespace the base is applied, then the
# mutant (which must go in place), then rolled back (in place again); a
# fresh namespace gets the mutant applied whole. What an operator relies
# on:
#   - after the change in place the live table is, by its canonical
#     digest, exactly the table a full apply of the same file loads, and
#     status says it matches its record;
#   - rollback in place restores the base exactly (a zone added and taken
#     away again is the "zone removed" case);
#   - an address the DNS guard learned stays in its FQDN set;
#   - a table edited by hand is not changed in place: apply replaces it
#     whole and the hand edit is gone.
# ORACLE_SERIES pairs (default 10; make bench runs 200).
set -u
SANSO=${SANSO:-build/sanso}
case $SANSO in /*) ;; *) SANSO=$PWD/$SANSO ;; esac
tools=${LAB_TOOLS:-$(dirname "$SANSO")/tools}
series=${ORACLE_SERIES:-10}
if [ "$(id -u)" -ne 0 ]; then
	echo "incremental: SKIP: not root"
	exit 0
fi
if ! command -v python3 >/dev/null || [ ! -x "$tools/benchgen" ]; then
	echo "incremental: FAIL: needs python3 and $tools/benchgen (make tools)"
	exit 1
fi
# shellcheck source=tests/lab/prefix.sh
. "$(dirname "$0")/prefix.sh"
pfx=$(lab_name_prefix sl)$$ || exit 2
nsa=$pfx-inca
nsb=$pfx-incb
tmp=$(mktemp -d)
cleanup() {
	for ns in "$nsa" "$nsb"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# mutate KIND N < zone file > zone file: one change of kind KIND, the
# N-th candidate of it (modulo their number).
cat >"$tmp/mutate.py" <<'PY'
import re, sys
kind, n = sys.argv[1], int(sys.argv[2])
text = sys.stdin.read()
lines = text.split("\n")
def pick(pred):
    idx = [i for i, l in enumerate(lines) if pred(l)]
    return idx[n % len(idx)] if idx else None
if kind == "port":
    i = pick(lambda l: re.search(r"services: \[tcp/\d+\]", l))
    lines[i] = re.sub(r"tcp/(\d+)", lambda m: "tcp/%d" % (int(m.group(1)) % 60000 + 1), lines[i])
elif kind == "host":
    i = pick(lambda l: re.match(r"  h\S+: \{ zone: \S+, address: 10\.", l))
    # the next address up stays inside the zone's /26 for these hosts
    lines[i] = re.sub(r"address: (10\.\d+\.\d+)\.(\d+)", lambda m: "address: %s.%d" % (m.group(1), int(m.group(2)) + 20), lines[i])
elif kind == "zone":
    z = lines.index("zones:")
    lines[z + 1:z + 1] = ["  zadded:", "    tier: lgwan", "    interfaces: [zadd0]",
                          "    networks: [10.250.%d.0/24]" % (n % 200)]
    f = lines.index("flows:")
    lines[f + 1:f + 1] = ["  - name: from-zadded", "    from: zadded", "    to: z2",
                          "    services: [tcp/%d]" % (1000 + n % 500)]
elif kind == "schedule":
    # the schedule flows use (benchgen's "nightly")
    i = pick(lambda l: '"22:00-05:00"' in l)
    lines[i] = lines[i].replace("22:00-05:00", "22:%02d-05:00" % (1 + n % 50))
elif kind == "flowdel":
    starts = [i for i, l in enumerate(lines) if l.startswith("  - name: f")]
    i = starts[n % len(starts)]
    j = i + 1
    while j < len(lines) and lines[j].startswith("    "):
        j += 1
    del lines[i:j]
sys.stdout.write("\n".join(lines))
PY
mutate() { python3 "$tmp/mutate.py" "$1" "$2"; }

in_a() { ip netns exec "$nsa" "$@"; }
in_b() { ip netns exec "$nsb" "$@"; }
record_sha() {	# STATE -> the current deployment's recorded digest
	sed -n 's/^ruleset_sha256 //p' "$1/deploy/$(cat "$1/current")/record"
}
fqdn_set() {	# NS -> the first FQDN set holding IPv4 addresses
	ip netns exec "$1" nft list sets inet sanso 2>/dev/null |
		sed -n 's/^.*set \(fqdn-[^ ]*-v4\) {.*/\1/p' | head -1
}

kinds=(port host zone schedule flowdel)
for ((k = 0; k < series; k++)); do
	kind=${kinds[k % ${#kinds[@]}]}
	seed=$((k * 7 + 1))
	zones=$((10 + (k * 5) % 40))
	flows=$((30 + (k * 37) % 200))
	label="pair $k ($kind, seed $seed, $zones zones, $flows flows)"
	"$tools/benchgen" -z "$zones" -f "$flows" -p $((zones * 3)) \
		-s "$seed" >"$tmp/base.yaml"
	mutate "$kind" "$k" <"$tmp/base.yaml" >"$tmp/mut.yaml"
	if ! "$SANSO" check "$tmp/mut.yaml" >"$tmp/check.out" 2>&1 &&
	   grep -q 'error\[' "$tmp/check.out"; then
		bad "$label: the mutant is not a valid zone file"
		head -3 "$tmp/check.out"
		continue
	fi
	if cmp -s "$tmp/base.yaml" "$tmp/mut.yaml"; then
		bad "$label: the mutation changed nothing"
		continue
	fi
	if ! ip netns add "$nsa" || ! ip netns add "$nsb"; then
		bad "$label: ip netns add"
		continue
	fi
	sa=$tmp/sa sb=$tmp/sb
	rm -rf "$sa" "$sb"
	if ! in_a "$SANSO" apply --state-dir "$sa" "$tmp/base.yaml" \
		>"$tmp/a1" 2>&1; then
		bad "$label: base apply"; tail -2 "$tmp/a1"
	fi
	base_sha=$(record_sha "$sa")
	# An address the guard learned, in an FQDN set both tables keep.
	fset=$(fqdn_set "$nsa")
	[ -n "$fset" ] && in_a nft add element inet sanso "$fset" \
		"{ 192.0.2.77 timeout 1h }"
	in_a "$SANSO" apply --state-dir "$sa" "$tmp/mut.yaml" >"$tmp/a2" 2>&1
	rc=$?
	in_b "$SANSO" apply --state-dir "$sb" "$tmp/mut.yaml" >"$tmp/b1" 2>&1
	rcb=$?
	if [ $rc -ne 0 ] || [ $rcb -ne 0 ]; then
		bad "$label: apply exit $rc (in place), $rcb (whole)"
		tail -2 "$tmp/a2" "$tmp/b1"
	elif ! grep -q '(changed in place' "$tmp/a2"; then
		bad "$label: not changed in place: $(tail -1 "$tmp/a2")"
	elif grep -q 'in place: 0 chains added, 0 removed, 0 refilled; 0 sets added, 0 removed, 0 remade, 0 refilled; 0 elements added, 0 removed' "$tmp/a2" &&
	     [ "$(record_sha "$sa")" != "$base_sha" ]; then
		bad "$label: the table changed, but the change in place says it sent nothing"
	elif [ "$(record_sha "$sa")" != "$(record_sha "$sb")" ]; then
		bad "$label: the digest written ahead differs from a full apply's"
	elif ! in_a "$SANSO" status --state-dir "$sa" >"$tmp/st" 2>&1; then
		bad "$label: status after the change in place: $(grep -i live "$tmp/st")"
	elif ! in_b "$SANSO" status --state-dir "$sb" >/dev/null 2>&1; then
		bad "$label: status after the full apply"
	else
		ok "$label: in place = whole ($(record_sha "$sa" | cut -c1-12); $(sed -n 's/.*(changed in place: \(.*\))$/\1/p' "$tmp/a2"))"
	fi
	if [ -n "$fset" ] && [ "$(fqdn_set "$nsa")" = "$fset" ]; then
		if in_a nft get element inet sanso "$fset" "{ 192.0.2.77 }" \
			>/dev/null 2>&1; then
			ok "$label: the learned address stayed in $fset"
		else
			bad "$label: the learned address left $fset"
		fi
	fi
	in_a "$SANSO" rollback --state-dir "$sa" >"$tmp/r1" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '(changed in place' "$tmp/r1" &&
	   [ "$(record_sha "$sa")" = "$base_sha" ] &&
	   in_a "$SANSO" status --state-dir "$sa" >/dev/null 2>&1; then
		ok "$label: rollback in place restores the base exactly"
	else
		bad "$label: rollback exit $rc: $(tail -1 "$tmp/r1")"
	fi
	# A hand edit is drift: the next apply replaces the table whole.
	if [ $((k % 3)) -eq 0 ]; then
		chain=$(in_a nft list table inet sanso |
			sed -n 's/^\tchain \(fwd-[^ ]*\) {.*/\1/p' | head -1)
		in_a nft add rule inet sanso "$chain" counter accept comment handedit
		in_a "$SANSO" apply --state-dir "$sa" "$tmp/mut.yaml" >"$tmp/a3" 2>&1
		in_a nft list table inet sanso >"$tmp/list" 2>&1
		in_a "$SANSO" status --state-dir "$sa" >"$tmp/st3" 2>&1
		rc=$?
		if grep -q 'replaced whole: the live table is not' "$tmp/a3" &&
		   ! grep -q handedit "$tmp/list" && [ $rc -eq 0 ]; then
			ok "$label: a hand-edited table is replaced whole"
		else
			bad "$label: after a hand edit (chain $chain):" \
				"$(tail -1 "$tmp/a3"); handedit lines:" \
				"$(grep -c handedit "$tmp/list"); status exit $rc:" \
				"$(grep -i live "$tmp/st3")"
		fi
	fi
	# Progress: phases on a terminal only.
	if [ "$k" -eq 0 ] && command -v script >/dev/null; then
		if grep -q $'\033\\[K' "$tmp/a2" "$tmp/b1"; then
			bad "$label: progress written to a file"
		else
			ok "$label: no progress off a terminal"
		fi
		script -qec "ip netns exec $nsa $SANSO apply --state-dir $sa \
			$tmp/base.yaml" /dev/null >"$tmp/tty" 2>&1
		if grep -q 'the kernel is loading [0-9]* messages' "$tmp/tty"; then
			ok "$label: on a terminal apply shows its phases"
		else
			bad "$label: no phases on a terminal"; cat -v "$tmp/tty"
		fi
	fi
	ip netns del "$nsa"
	ip netns del "$nsb"
done

echo "incremental: $pass passed, $fail failed"
[ $fail -eq 0 ]
