#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The audit trail of real applies is anchored: verify-log passes the log
# sanso left, and fails, saying what it found, a log that was deleted,
# emptied, replaced (by an empty file, by another key's chain, by a chain
# sanso started afresh), or cut at its end with and without chain/; a
# head kept elsewhere (--head) passes when right and fails when wrong.
# Every line of audit.log is in the site's timezone, fail-closed too.
# Each case works on a state directory of its own, made by real applies.
# Needs root; run by tests/lab/run.sh with SANSO=path/to/sanso.
set -u
SANSO=${SANSO:-build/sanso}
case $SANSO in /*) ;; *) SANSO=$PWD/$SANSO ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "auditchain: SKIP: not root"
	exit 0
fi
# shellcheck source=tests/lab/prefix.sh
. "$(dirname "$0")/prefix.sh"
ns=$(lab_name_prefix sl)$$-audit || exit 2
tmp=$(mktemp -d)
cleanup() {
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" || { echo "auditchain: SKIP: ip netns add failed"; exit 0; }

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
in_ns() { ip netns exec "$ns" "$@"; }
S=$tmp/state
city=$root/zones/example-city.yaml
beta=$root/zones/example-beta.yaml

# fresh NAME: a state directory $C of its own, made by real applies:
# apply, apply another, rollback, fail-closed, apply. (A copy would not
# do: chain/ names a log by its inode and real path.)
fresh() {
	C=$tmp/$1
	local step
	for step in "apply $city" "apply $beta" "rollback" \
		    "apply --fail-closed" "apply $city"; do
		# shellcheck disable=SC2086
		if ! in_ns "$SANSO" $step --state-dir "$C" >"$tmp/out" 2>&1; then
			bad "$1: sanso $step"; cat "$tmp/out"
		fi
	done
}
fresh state
S=$C
lines=$(wc -l <"$S/audit.log")

# verify NAME RC TEXT [ARGS...]: verify-log of $C/audit.log exits RC and
# prints TEXT.
verify() {
	local name=$1 want=$2 text=$3
	shift 3
	"$SANSO" verify-log "$C/audit.log" --state-dir "$C" "$@" \
		>"$tmp/v.out" 2>&1
	local rc=$?
	if [ "$rc" -eq "$want" ] && grep -qF -- "$text" "$tmp/v.out"; then
		ok "$name: exit $rc, \"$text\""
	else
		bad "$name: exit $rc (want $want and \"$text\")"
		cat "$tmp/v.out"
	fi
}

# 0. What the applies left is intact and anchored.
C=$S
verify "intact" 0 "intact: $lines lines, seq 1..$lines, ends where sanso left it"
if grep -q '^audit_head [0-9]*:[0-9a-f]\{64\}$' "$S/deploy/2/record"; then
	ok "deployment records keep the audit log's head"
else
	bad "deploy/2/record has no audit_head"; cat "$S/deploy/2/record"
fi

# Modes as SECURITY.md lists them.
modes=$(cd "$S" && find . -path ./deploy/1/holiday-1.yaml -prune -o \
	-printf '%m %p\n' | sort -k2 | grep -v '/deploy/[2-9]' |
	sed 's,chain/[^ ]*-[0-9a-f]*$,chain/REC,' | sort -u -k2 | paste -sd ' ')
want_modes="700 . 600 ./audit.key 640 ./audit.log 700 ./chain 600 ./chain/REC 640 ./current 750 ./deploy 750 ./deploy/1 640 ./deploy/1/record 640 ./deploy/1/zones.yaml 600 ./lock"
if [ "$modes" = "$want_modes" ]; then
	ok "file modes as SECURITY.md lists them"
else
	bad "modes: $modes"
fi

# 1. One time convention: every line in the site's offset (+09:00),
#    the fail-closed line too.
if [ "$(grep -c '"time":"[0-9T:.-]*+09:00"' "$S/audit.log")" -eq "$lines" ] &&
   grep -q '"action":"fail-closed"' "$S/audit.log"; then
	ok "every audit line, fail-closed included, is in +09:00"
else
	bad "time convention"; cat "$S/audit.log"
fi

# 2. Deleted.
fresh deleted
rm "$C/audit.log"
verify "deleted" 1 "error[removed]: the log is gone, but sanso wrote up to seq $lines"

# 3. rm; touch (a new, empty file).
fresh touched
rm "$C/audit.log"
sleep 0.05
touch "$C/audit.log"
verify "rm and touch" 1 "error[empty]: the log is empty, but sanso wrote up to seq $lines"

# 4. Emptied in place.
fresh emptied
: >"$C/audit.log"
verify "emptied" 1 "error[empty]: the log is empty, but sanso wrote up to seq $lines"

# 5. Replaced by a chain of another key (a real apply elsewhere).
fresh other
O=$C
fresh otherkey
cat "$O/audit.log" >"$C/audit.log"
verify "another key's chain" 1 "error[key]: no link of the chain matches"

# 6. Deleted, then sanso writes again: it does not start afresh at seq
#    1; its first line says the chain was broken, and verify-log fails.
fresh rewritten
rm "$C/audit.log"
in_ns "$SANSO" apply "$city" --state-dir "$C" >/dev/null 2>&1
if head -1 "$C/audit.log" | grep -q "^{\"chain\":\"broken\",\"previous_seq\":$lines,"; then
	ok "rm, then apply: the new log says the chain was broken"
else
	bad "rm, then apply: first line"; head -2 "$C/audit.log"
fi
verify "rm, then apply" 1 "error[broken]: line 1: when sanso wrote it, the log it had written up to seq $lines"

# 7. The last two lines cut, chain/ kept.
fresh cut
head -n -2 "$C/audit.log" >"$tmp/cut.txt" && cat "$tmp/cut.txt" >"$C/audit.log"
verify "tail cut" 1 "error[tail]: the log ends at seq $((lines - 2)) but sanso wrote up to seq $lines"

# 8. The last two lines cut and chain/ removed: no record of the end,
#    and the deployments' heads are past the end.
fresh cutnochain
head -n -2 "$C/audit.log" >"$tmp/cut.txt" && cat "$tmp/cut.txt" >"$C/audit.log"
rm -rf "$C/chain"
verify "tail cut, chain/ removed" 1 "/chain is missing while $C/deploy holds 3 deployments"
grep -F 'error[head]' "$tmp/v.out" | grep -q "deploy/3/record records seq" &&
	ok "tail cut, chain/ removed: the last deployment's head is missing" ||
	{ bad "tail cut, chain/ removed: no [head] finding"; cat "$tmp/v.out"; }

# 9. chain/ removed, log whole.
fresh nochain
rm -rf "$C/chain"
verify "chain/ removed" 1 "error[anchor]: $C/chain is missing while"

# 10. --head: a head kept elsewhere (deployment 2's record).
C=$S
head=$(sed -n 's/^audit_head //p' "$S/deploy/2/record")
verify "--head of deployment 2" 0 "holds --head seq ${head%%:*}" --head "$head"
wrong=${head%?}0
[ "$wrong" = "$head" ] && wrong=${head%?}1
verify "--head, wrong MAC" 1 "error[head]" --head "$wrong"
verify "--head, seq past the end" 1 "but --head records seq 999" --head "999:${head#*:}"
verify "--head, malformed" 2 "not SEQ:MAC" --head "12:xyz"

# 11. The audit log's head leaves the gateway: a monitor following the
#     deployment sends it, as its record holds it, to an exec sink as a
#     checkpoint; that head verifies the local log.
C=$tmp/cp
mkdir -p "$tmp/cpz"
printf '#!/bin/sh\ncat >>"%s"\n' "$tmp/cpz/received" >"$tmp/cpz/sink.sh"
chmod 755 "$tmp/cpz/sink.sh"
cp "$root/zones/holidays-jp.yaml" "$tmp/cpz/"
sed -e "s|^    - jsonl: .*|    - jsonl: $tmp/cpz/alerts.jsonl|" -e '/^    - syslog:/d' \
	-e "s|^    - exec: .*|    - exec: [$tmp/cpz/sink.sh]|" "$city" >"$tmp/cpz/city.yaml"
in_ns "$SANSO" apply "$tmp/cpz/city.yaml" --state-dir "$C" >/dev/null 2>&1
in_ns "$SANSO" apply "$tmp/cpz/city.yaml" --state-dir "$C" >/dev/null 2>&1
in_ns "$SANSO" monitor --state-dir "$C" --once --no-dnsguard >"$tmp/mon.out" 2>&1
rec=$(sed -n 's/^audit_head //p' "$C/deploy/2/record")
got=$(grep -h '"type":"checkpoint"' "$tmp/cpz/received" 2>/dev/null |
	grep -F "\"log\":\"$C/audit.log\"" |
	sed -n 's/.*"head":"\([0-9]*:[0-9a-f]*\)".*/\1/p' | tail -1)
if [ -n "$rec" ] && [ "$got" = "$rec" ]; then
	ok "the monitor sent the audit log's head of deployment 2 to the exec sink"
	verify "--head from the exec sink's checkpoint" 0 "holds --head seq ${got%%:*}" --head "$got"
else
	bad "no audit log checkpoint at the exec sink (record $rec, got \"$got\")"
	cat "$tmp/mon.out"; cat "$tmp/cpz/received" 2>/dev/null
fi

echo "auditchain: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
