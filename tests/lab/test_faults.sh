#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Commit-confirmed and the audit trail against single faults, in a network
# namespace of its own. The fault build (build/tools/sanso-faults, made
# with -DSANSO_FAULTS) dies as kill -9 would at the step SANSO_FAULT names;
# for each step of apply, confirm and rollback, with and without
# --confirm, this test checks what an operator relies on:
#   - the kernel runs the recorded current deployment (status exit 0,
#     "matches"), or status exits 1 and says which deployment runs;
#   - an interrupted apply is settled by the live table at the next
#     command: recovered when its table is live, aborted when not;
#   - an unconfirmed deployment is rolled back within deadline + 10 s,
#     whatever died;
#   - every attempt has an audit line, and verify-log is intact after;
#   - a full state directory: nothing loads, no pending, no timer; a
#     record failing after the commit rolls back under --confirm;
#   - a killed confirm timer: status exits 1 and says so; the next apply
#     rolls the expired deployment back first.
# Needs root; run by tests/lab/run.sh with SANSO=path/to/sanso.
set -u
SANSO=${SANSO:-build/sanso}
case $SANSO in /*) ;; *) SANSO=$PWD/$SANSO ;; esac
FAULTS=${SANSO_FAULTS_BIN:-$(dirname "$SANSO")/tools/sanso-faults}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/results.sh
. "$here/results.sh"
need_root faults
if [ ! -x "$FAULTS" ]; then
	echo "faults: $FAULTS is missing (make tools builds it)"
	echo "0 passed, 1 failed"
	exit 1
fi
# shellcheck source=tests/lab/prefix.sh
. "$(dirname "$0")/prefix.sh"
ns=$(lab_name_prefix sl)$$-faults || exit 2
tmp=$(mktemp -d)
cleanup() {
	# The confirm timers run outside the namespace's process list
	# only by their state directory: end them by it.
	pkill -9 -f -- "$tmp/" 2>/dev/null
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	mountpoint -q "$tmp/full" && umount "$tmp/full"
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" || { echo "faults: SKIP: ip netns add failed"; exit 0; }
in_ns() { ip netns exec "$ns" "$@"; }

A=$root/zones/example-city.yaml
B=$tmp/city-b.yaml
C=$tmp/city-c.yaml
# Two reviewed changes of the example: one more port each.
sed 's/services: \[tcp\/8080\]/services: [tcp\/8080, tcp\/8081]/' "$A" >"$B"
sed 's/services: \[tcp\/8080\]/services: [tcp\/8080, tcp\/8082]/' "$A" >"$C"
cmp -s "$A" "$B" && { echo "faults: the example changed: no tcp/8080 flow"; exit 1; }
cp "$root"/zones/holidays-jp.yaml "$tmp/" 2>/dev/null

# The current deployment's id, from the record status reads.
current() { cat "$1/current" 2>/dev/null || echo 0; }
lines() { wc -l <"$1/audit.log" 2>/dev/null || echo 0; }
# status of state $1: its exit status in $st_rc, its output in $tmp/st.
status() { in_ns "$SANSO" status --state-dir "$1" >"$tmp/st" 2>&1; st_rc=$?; }
# The kernel runs what the state says: status exits 0 and matches.
consistent() {
	status "$1"
	[ "$st_rc" -eq 0 ] && grep -q 'matches the deployment' "$tmp/st"
}
# Waits up to $2 s for state $1 to have no pending deployment.
wait_settled() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		[ -e "$1/pending" ] || return 0
		sleep 0.2
	done
	return 1
}
intact() {
	in_ns "$SANSO" verify-log "$1/audit.log" --state-dir "$1" >"$tmp/vl" 2>&1
}
fresh() {
	local s=$tmp/s$1
	in_ns "$SANSO" apply "$A" --state-dir "$s" >/dev/null 2>&1 || return 1
	echo "$s"
}

# One fault of apply: kill at $1, --confirm when $2 is set; $3 is what
# the settle must find ("recovered": the new table was live, "aborted").
n=0
apply_fault() {
	local step=$1 confirm=$2 want=$3 S before rc cur
	n=$((n + 1))
	in_ns nft delete table inet sanso 2>/dev/null
	S=$(fresh "$n") || { bad "$step: the first apply failed"; return; }
	before=$(lines "$S")
	# shellcheck disable=SC2086
	SANSO_FAULT=$step in_ns "$FAULTS" apply "$B" --state-dir "$S" \
		${confirm:+--confirm 10} >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 137 ] || { bad "$step${confirm:+ --confirm}: not killed at the step (exit $rc)"; cat "$tmp/out"; return; }
	status "$S"
	cur=$(current "$S")
	if [ "$want" = recovered ] && [ "$cur" = 2 ] && consistent "$S" &&
	   grep -q '"action":"apply-recovered"' "$S/audit.log"; then
		ok "$step${confirm:+ --confirm}: killed after the commit; the next command completes deployment 2, live and recorded agree"
	elif [ "$want" = aborted ] && [ "$cur" = 1 ] && consistent "$S" &&
	     grep -q '"action":"apply-aborted"' "$S/audit.log"; then
		ok "$step${confirm:+ --confirm}: killed before the commit; the intent is discarded, deployment 1 stays"
	else
		bad "$step${confirm:+ --confirm}: current $cur, want $want"; cat "$tmp/st"; tail -3 "$S/audit.log"
	fi
	[ "$(lines "$S")" -gt "$before" ] && grep -q '"action":"apply-intent"' "$S/audit.log" &&
		ok "$step${confirm:+ --confirm}: the attempt has its audit line" ||
		bad "$step${confirm:+ --confirm}: no audit line for the attempt"
	if [ -n "$confirm" ]; then
		if wait_settled "$S" 20 && [ "$(current "$S")" = 1 ] && consistent "$S"; then
			ok "$step --confirm: unconfirmed, deployment 1 is live again within deadline + 10 s"
		else
			bad "$step --confirm: not rolled back by deadline + 10 s"; cat "$tmp/st"; cat "$S/pending" 2>/dev/null
		fi
	fi
	intact "$S" && ok "$step${confirm:+ --confirm}: verify-log intact" ||
		{ bad "$step${confirm:+ --confirm}: verify-log"; cat "$tmp/vl"; }
}

apply_fault apply-intent "" aborted
apply_fault apply-commit "" recovered
apply_fault apply-current "" recovered
apply_fault apply-intent 1 aborted
apply_fault apply-commit 1 recovered
apply_fault apply-current 1 recovered

# Rollback killed at each step: two deployments, then the fault.
rollback_fault() {
	local step=$1 want=$2 S cur
	n=$((n + 1))
	in_ns nft delete table inet sanso 2>/dev/null
	S=$(fresh "$n") || { bad "$step: the first apply failed"; return; }
	in_ns "$SANSO" apply "$B" --state-dir "$S" >/dev/null 2>&1
	SANSO_FAULT=$step in_ns "$FAULTS" rollback --state-dir "$S" >"$tmp/out" 2>&1
	[ $? -eq 137 ] || { bad "$step: not killed at the step"; return; }
	status "$S"
	cur=$(current "$S")
	if consistent "$S" && [ "$cur" = "$want" ] &&
	   grep -q '"action":"rollback-\(recovered\|aborted\)"' "$S/audit.log"; then
		ok "$step: settled at the next command, deployment $cur live and recorded"
	else
		bad "$step: current $cur, want $want"; cat "$tmp/st"
	fi
	intact "$S" && ok "$step: verify-log intact" || { bad "$step: verify-log"; cat "$tmp/vl"; }
}
rollback_fault rollback-intent 2
rollback_fault rollback-commit 1
rollback_fault rollback-current 1

# confirm killed after its audit line, before pending goes: it did not
# return, so the deployment is not kept: the timer rolls it back.
n=$((n + 1))
in_ns nft delete table inet sanso 2>/dev/null
S=$(fresh "$n")
in_ns "$SANSO" apply "$B" --state-dir "$S" --confirm 10 >/dev/null 2>&1
SANSO_FAULT=confirm-audit in_ns "$FAULTS" confirm --state-dir "$S" >/dev/null 2>&1
rc=$?
if [ $rc -eq 137 ] && wait_settled "$S" 20 && [ "$(current "$S")" = 1 ] && consistent "$S"; then
	ok "confirm killed mid-way: it never returned, the timer rolls back within deadline + 10 s"
else
	bad "confirm killed mid-way: exit $rc, current $(current "$S")"; cat "$tmp/st"
fi
intact "$S" && ok "confirm killed mid-way: verify-log intact" || bad "confirm killed mid-way: verify-log"

# The record failing after the commit (a disk that filled meanwhile).
for confirm in "" 1; do
	n=$((n + 1))
	in_ns nft delete table inet sanso 2>/dev/null
	S=$(fresh "$n")
	# shellcheck disable=SC2086
	SANSO_FAULT=apply-current-enospc in_ns "$FAULTS" apply "$B" --state-dir "$S" \
		${confirm:+--confirm 10} >"$tmp/out" 2>&1
	rc=$?
	if [ -n "$confirm" ]; then
		if [ $rc -eq 3 ] && grep -q 'rolled back' "$tmp/out" && [ ! -e "$S/pending" ] &&
		   [ "$(current "$S")" = 1 ] && consistent "$S"; then
			ok "record fails after a --confirm commit: exit 3, rolled back at once, nothing pending"
		else
			bad "record fails after a --confirm commit: exit $rc"; cat "$tmp/out" "$tmp/st"
		fi
	else
		if [ $rc -eq 3 ] && grep -q 'the ruleset is live' "$tmp/out" && consistent "$S" &&
		   [ "$(current "$S")" = 2 ]; then
			ok "record fails after a commit: exit 3 says the ruleset is live; the next command records it"
		else
			bad "record fails after a commit: exit $rc, current $(current "$S")"; cat "$tmp/out" "$tmp/st"
		fi
	fi
	intact "$S" && ok "record fails after a commit${confirm:+ (--confirm)}: verify-log intact" ||
		{ bad "record fails after a commit: verify-log"; cat "$tmp/vl"; }
done

# A full state directory (a small tmpfs): nothing loads, nothing pends.
mkdir -p "$tmp/full"
if mount -t tmpfs -o size=1m,mode=0700 tmpfs "$tmp/full"; then
	S=$tmp/full/state
	in_ns nft delete table inet sanso 2>/dev/null
	in_ns "$SANSO" apply "$A" --state-dir "$S" >/dev/null 2>&1
	in_ns nft list table inet sanso >"$tmp/before" 2>&1
	dd if=/dev/zero of="$tmp/full/fill" bs=4k >/dev/null 2>&1
	for confirm in "" 1; do
		# shellcheck disable=SC2086
		in_ns "$SANSO" apply "$B" --state-dir "$S" ${confirm:+--confirm 10} >"$tmp/out" 2>&1
		rc=$?
		in_ns nft list table inet sanso >"$tmp/after" 2>&1
		if [ $rc -eq 3 ] && grep -q 'nothing changed' "$tmp/out" &&
		   cmp -s "$tmp/before" "$tmp/after" && [ ! -e "$S/pending" ] &&
		   ! pgrep -f -- "--state-dir $S" >/dev/null && [ "$(current "$S")" = 1 ]; then
			ok "full state directory${confirm:+, --confirm}: exit 3, nothing loaded, no pending, no timer"
		else
			bad "full state directory${confirm:+, --confirm}: exit $rc"; cat "$tmp/out"; ls "$S"
		fi
	done
	rm -f "$tmp/full/fill"
	consistent "$S" && ok "full state directory: after space returns, status matches" ||
		{ bad "full state directory: status after"; cat "$tmp/st"; }
	umount "$tmp/full"
else
	bad "mount -t tmpfs failed"
fi

# The confirm timer killed: status says so and exits 1; the next apply
# after the deadline rolls the unconfirmed deployment back first.
n=$((n + 1))
in_ns nft delete table inet sanso 2>/dev/null
S=$(fresh "$n")
in_ns "$SANSO" apply "$B" --state-dir "$S" --confirm 10 >/dev/null 2>&1
pid=$(sed -n 's/^pid //p' "$S/pending")
if [ -n "$pid" ] && [ "$pid" -gt 0 ]; then
	kill -9 "$pid"
	sleep 0.2
	status "$S"
	if [ "$st_rc" -eq 1 ] && grep -q 'confirm timer is gone' "$tmp/st"; then
		ok "timer killed: status exits 1 and says the timer is gone"
	else
		bad "timer killed: status exit $st_rc"; cat "$tmp/st"
	fi
	sleep 11
	in_ns "$SANSO" apply "$C" --state-dir "$S" >"$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'past its confirm deadline: rolled back' "$tmp/out" &&
	   grep -q '"previous":1' <(grep '"action":"apply"' "$S/audit.log" | tail -1) && consistent "$S"; then
		ok "timer killed: the next apply rolls the expired deployment back first, then applies on deployment 1"
	else
		bad "timer killed: the next apply (exit $rc)"; cat "$tmp/out"; tail -3 "$S/audit.log"
	fi
else
	bad "no timer pid in pending"; cat "$S/pending"
fi
intact "$S" && ok "timer killed: verify-log intact" || bad "timer killed: verify-log"

# The timer killed with the watchdog running as its own process (what
# sanso-watchdog.service runs beside an unprivileged monitor): rolled
# back within deadline + 10 s, audited, and status exits 0 after.
n=$((n + 1))
in_ns nft delete table inet sanso 2>/dev/null
S=$(fresh "$n")
in_ns "$SANSO" monitor --watchdog --state-dir "$S" >"$tmp/wd.log" 2>&1 &
wd=$!
in_ns "$SANSO" apply "$B" --state-dir "$S" --confirm 10 >/dev/null 2>&1
start=$(date +%s)
pid=$(sed -n 's/^pid //p' "$S/pending")
[ -n "$pid" ] && kill -9 "$pid"
if wait_settled "$S" 25 && [ "$(current "$S")" = 1 ] && consistent "$S" &&
   [ $(($(date +%s) - start)) -le 20 ] &&
   grep -q '"action":"rollback".*watchdog' "$S/audit.log"; then
	ok "timer killed, monitor --watchdog running: rolled back within deadline + 10 s, audited as the watchdog's"
else
	bad "timer killed, monitor --watchdog: current $(current "$S") after $(($(date +%s) - start)) s"
	cat "$tmp/wd.log" "$tmp/st"; tail -2 "$S/audit.log"
fi
kill "$wd" 2>/dev/null
wait "$wd" 2>/dev/null
in_ns setpriv --reuid=65534 --regid=65534 --clear-groups "$SANSO" monitor --watchdog \
	--state-dir "$S" >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q 'run it as root' "$tmp/out" &&
	ok "monitor --watchdog refuses to run unprivileged (exit 1)" ||
	{ bad "monitor --watchdog unprivileged"; cat "$tmp/out"; }

finish
