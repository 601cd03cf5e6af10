#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# sanso apply, confirm, rollback and status in a network namespace of
# their own: what an engineer relies on when loading a gateway.
#   - an invalid zone file changes nothing (exit 1)
#   - a kernel refusal changes nothing and says why (exit 3)
#   - kill -9 at any moment leaves the old or the new table, never a mix
#   - --confirm rolls back exactly unless confirmed; confirm keeps
#   - rollback restores the previous deployment exactly
#   - status: exit 0 when the live table matches, 1 on drift
#   - a deployment rebuilds from its own copies of its holiday files
#   - apply, confirm, rollback and the timer serialise on STATE/lock
#   - a state directory someone else may write is refused
# Needs root; run by tests/lab/run.sh with SANSO=path/to/sanso.
set -u
SANSO=${SANSO:-build/sanso}
case $SANSO in /*) ;; *) SANSO=$PWD/$SANSO ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "apply: SKIP: not root"
	exit 0
fi
# shellcheck source=tests/lab/prefix.sh
. "$(dirname "$0")/prefix.sh"
ns=$(lab_name_prefix sl)$$-apply || exit 2
tmp=$(mktemp -d)
cleanup() {
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" || { echo "apply: SKIP: ip netns add failed"; exit 0; }

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
in_ns() { ip netns exec "$ns" "$@"; }
listing() { in_ns nft list table inet sanso 2>&1; }
S=$tmp/state
city=$root/zones/example-city.yaml
beta=$root/zones/example-beta.yaml

# 1. Invalid zone file: exit 1, diagnostics, nothing loaded.
printf 'version: 1\nsite: x\nzones:\n  z: {tier: nope, interfaces: [e0], networks: [10.0.0.0/8]}\n' >"$tmp/bad.yaml"
in_ns "$SANSO" apply "$tmp/bad.yaml" --state-dir "$S" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'error\[E002\]' "$tmp/out" &&
   ! in_ns nft list table inet sanso >/dev/null 2>&1; then
	ok "invalid zone file: exit 1, kernel untouched"
else
	bad "invalid zone file: exit $rc"; cat "$tmp/out"
fi

# 2. First apply; the listing is what the compiled text gives.
if in_ns "$SANSO" apply "$city" --state-dir "$S" >"$tmp/out" 2>&1; then
	ok "apply example-city"
else
	bad "apply example-city"; cat "$tmp/out"
fi
listing >"$tmp/city.list"
if grep -q 'warning: 6 interfaces of the zone file do not exist on this gateway: ens4 (zone mynumber, .*example-city.yaml:44), ens5 (zone lgwan' "$tmp/out" && [ "$(grep -c 'do not exist' "$tmp/out")" -eq 1 ]; then
	ok "missing interface: a warning, the ruleset still loads"
else
	bad "no warning for a missing interface"; cat "$tmp/out"
fi
in_ns "$SANSO" status --state-dir "$S" >"$tmp/out" 2>&1 && grep -q 'matches the deployment' "$tmp/out" &&
	ok "status: matches, exit 0" || { bad "status after apply"; cat "$tmp/out"; }

# 3. A batch the kernel refuses: apply without CAP_NET_ADMIN (with a
# state directory it may write, so that only the kernel says no).
cp "$tmp/city.list" "$tmp/before"
chmod 711 "$tmp"
install -d -o 65534 -g 65534 -m 700 "$tmp/nobody"
in_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$SANSO" apply "$beta" --state-dir "$tmp/nobody" >"$tmp/out" 2>&1
rc=$?
listing >"$tmp/after"
if [ $rc -eq 3 ] && grep -q "sanso: apply: the kernel refused" "$tmp/out" &&
   cmp -s "$tmp/before" "$tmp/after"; then
	ok "kernel refusal: exit 3 with the reason, table unchanged"
else
	bad "kernel refusal: exit $rc"; cat "$tmp/out"
fi

# 4. Dry run: the kernel checks, nothing changes.
in_ns "$SANSO" apply --dry-run "$beta" --state-dir "$S" >"$tmp/out" 2>&1
rc=$?
listing >"$tmp/after"
[ $rc -eq 0 ] && cmp -s "$tmp/before" "$tmp/after" && ok "dry run leaves the table" ||
	{ bad "dry run: exit $rc"; cat "$tmp/out"; }

# 5. kill -9 during apply: the old table or the new one, never a mix.
in_ns "$SANSO" compile "$beta" >/dev/null
in_ns "$SANSO" apply "$beta" --state-dir "$tmp/scratch" >/dev/null 2>&1
listing >"$tmp/beta.list"
in_ns "$SANSO" apply "$city" --state-dir "$tmp/scratch2" >/dev/null 2>&1
mixed=0
for i in $(seq 1 12); do
	from=$city to=$beta
	[ $((i % 2)) = 0 ] && { from=$beta; to=$city; }
	in_ns "$SANSO" apply "$from" --state-dir "$tmp/k$i-a" >/dev/null 2>&1
	in_ns "$SANSO" apply "$to" --state-dir "$tmp/k$i" >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	listing >"$tmp/now"
	if ! cmp -s "$tmp/now" "$tmp/city.list" && ! cmp -s "$tmp/now" "$tmp/beta.list"; then
		mixed=$((mixed + 1))
		diff "$tmp/city.list" "$tmp/now" | head -5
	fi
done
[ $mixed -eq 0 ] && ok "kill -9 during apply: always old or new (12 tries)" ||
	bad "kill -9 left $mixed mixed tables"

# Back to a known state for the confirm tests.
rm -rf "$S"
in_ns "$SANSO" apply "$city" --state-dir "$S" >/dev/null 2>&1
listing >"$tmp/city.list"

# 6. --confirm without confirm: rolls back exactly.
in_ns "$SANSO" apply "$beta" --state-dir "$S" --confirm 10 >"$tmp/out" 2>&1
listing >"$tmp/now"
cmp -s "$tmp/now" "$tmp/beta.list" && ok "confirm: new table loaded while pending" ||
	bad "confirm: new table not loaded"
in_ns "$SANSO" apply "$city" --state-dir "$S" >"$tmp/out" 2>&1 && bad "apply while a confirm is pending was accepted" ||
	ok "apply refused while a confirm is pending"
for _ in $(seq 1 30); do
	[ -e "$S/pending" ] || break
	sleep 1
done
listing >"$tmp/now"
cmp -s "$tmp/now" "$tmp/city.list" && ok "confirm timeout restored the previous table exactly" ||
	{ bad "confirm timeout did not restore"; diff "$tmp/city.list" "$tmp/now" | head; }
grep -q '"action":"rollback"' "$S/audit.log" && grep -q 'confirm timeout' "$S/audit.log" &&
	ok "audit log records the timeout rollback" || bad "no rollback in the audit log"

# 7. --confirm then confirm: kept after the deadline.
in_ns "$SANSO" apply "$beta" --state-dir "$S" --confirm 10 >/dev/null 2>&1
in_ns "$SANSO" confirm --state-dir "$S" >"$tmp/out" 2>&1 && ok "confirm: exit 0" || bad "confirm failed"
sleep 12
listing >"$tmp/now"
cmp -s "$tmp/now" "$tmp/beta.list" && ok "confirmed deployment kept after the deadline" ||
	bad "confirmed deployment was rolled back"
in_ns "$SANSO" confirm --state-dir "$S" >/dev/null 2>&1 && bad "confirm with nothing pending: exit 0" ||
	ok "confirm with nothing pending: exit 1"

# 8. rollback on demand: back to example-city, exactly.
in_ns "$SANSO" rollback --state-dir "$S" >"$tmp/out" 2>&1
listing >"$tmp/now"
cmp -s "$tmp/now" "$tmp/city.list" && ok "rollback restored the previous deployment exactly" ||
	{ bad "rollback"; cat "$tmp/out"; }

# 9. Drift: a rule added by hand.
in_ns nft add rule inet sanso forward accept
in_ns "$SANSO" status --state-dir "$S" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q DRIFT "$tmp/out" && ok "status: drift after a hand edit, exit 1" ||
	{ bad "status missed drift (exit $rc)"; cat "$tmp/out"; }
in_ns nft delete table inet sanso
in_ns "$SANSO" status --state-dir "$S" --format json >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q '"live":"missing"' "$tmp/out" && ok "status: missing table is drift" ||
	{ bad "status missed a missing table (exit $rc)"; cat "$tmp/out"; }

# 10. At boot: the current deployment again, exactly; fail-closed when
# that cannot load.
in_ns "$SANSO" apply --deployed --state-dir "$S" >"$tmp/out" 2>&1
listing >"$tmp/now"
cmp -s "$tmp/now" "$tmp/city.list" && in_ns "$SANSO" status --state-dir "$S" >/dev/null 2>&1 &&
	ok "apply --deployed restores the deployment exactly" ||
	{ bad "apply --deployed"; cat "$tmp/out"; }
in_ns "$SANSO" apply --fail-closed --state-dir "$S" >"$tmp/out" 2>&1
listing >"$tmp/now"
if grep -q 'policy drop' "$tmp/now" && ! grep -q 'vmap' "$tmp/now" &&
   [ "$(grep -c accept "$tmp/now")" -eq 5 ] && grep -q nd-neighbor-solicit "$tmp/now"; then
	ok "apply --fail-closed: forward drops everything, input only lo, replies and neighbour discovery"
else
	bad "apply --fail-closed"; cat "$tmp/now"
fi
in_ns "$SANSO" apply --deployed --state-dir "$tmp/empty" >/dev/null 2>&1
[ $? -eq 1 ] && ok "apply --deployed with nothing deployed: exit 1" ||
	bad "apply --deployed with nothing deployed"

# 11. A reboot before confirm: the boot load rolls the unconfirmed
# deployment back instead of loading it.
in_ns "$SANSO" apply --deployed --state-dir "$S" >/dev/null 2>&1
in_ns "$SANSO" apply "$beta" --state-dir "$S" --confirm 600 >/dev/null 2>&1
timer=$(awk '$1 == "pid" { print $2 }' "$S/pending" 2>/dev/null)
[ -n "$timer" ] && kill -9 "$timer" 2>/dev/null	# the reboot
in_ns nft delete table inet sanso
in_ns "$SANSO" apply --deployed --state-dir "$S" >"$tmp/out" 2>&1
listing >"$tmp/now"
if cmp -s "$tmp/now" "$tmp/city.list" && [ ! -e "$S/pending" ] &&
   grep -q "never confirmed" "$tmp/out"; then
	ok "apply --deployed after a reboot with a confirm pending rolls back"
else
	bad "apply --deployed with a confirm pending"; cat "$tmp/out"
fi

# 12. A deployment is self-contained: rollback and the boot load rebuild
# it from its copies, whatever happens to the holiday file since.
S2=$tmp/state2
src=$tmp/src
mkdir -p "$src/hol"
cat >"$src/zones.yaml" <<'ZONE'
version: 1
site: lab
zones:
  lgwan: { tier: lgwan, interfaces: [e1], networks: [10.20.0.0/16] }
  dmz: { tier: dmz, interfaces: [e2], networks: [10.40.0.0/24] }
schedules:
  office: { days: [mon, tue, wed, thu, fri], hours: ["08:30-18:15"], holidays: hol/days.yaml }
flows:
  - name: a
    from: lgwan
    to: dmz
    services: [tcp/443]
    schedule: office
ZONE
printf -- '- 2026-11-03\n- 2026-11-23\n' >"$src/hol/days.yaml"
in_ns nft delete table inet sanso 2>/dev/null
# relative paths, as an engineer types them
(cd "$src" && in_ns "$SANSO" apply zones.yaml --at 2026-11-01 --state-dir "$S2") >"$tmp/out" 2>&1 ||
	{ bad "apply with a holiday file"; cat "$tmp/out"; }
listing >"$tmp/hol.list"
"$SANSO" compile --at 2026-11-01 "$src/zones.yaml" >"$tmp/hol.nft" 2>/dev/null
in_ns "$SANSO" apply "$city" --state-dir "$S2" >/dev/null 2>&1
printf -- '- 2026-11-04\n' >"$src/hol/days.yaml"
"$SANSO" compile --at 2026-11-01 "$src/zones.yaml" >"$tmp/hol2.nft" 2>/dev/null
if cmp -s "$tmp/hol.nft" "$tmp/hol2.nft"; then
	bad "the changed holiday file does not change the table: the test proves nothing"
fi
if [ -f "$S2/deploy/1/holiday-1.yaml" ] &&
   grep -q '^holiday 1 [0-9a-f]\{64\} hol/days.yaml$' "$S2/deploy/1/record"; then
	ok "the deployment keeps a copy of its holiday file"
else
	bad "no holiday file copy"; ls -l "$S2/deploy/1"
fi
in_ns "$SANSO" rollback --state-dir "$S2" >"$tmp/out" 2>&1
listing >"$tmp/now"
if cmp -s "$tmp/now" "$tmp/hol.list" && ! grep -q warning "$tmp/out" &&
   in_ns "$SANSO" status --state-dir "$S2" >/dev/null 2>&1; then
	ok "rollback after the holiday file changed restores the recorded table"
else
	bad "rollback with a changed holiday file"; cat "$tmp/out"
	diff "$tmp/hol.list" "$tmp/now" | head
fi
rm -rf "$src"
in_ns nft delete table inet sanso
in_ns "$SANSO" apply --deployed --state-dir "$S2" >"$tmp/out" 2>&1
listing >"$tmp/now"
cmp -s "$tmp/now" "$tmp/hol.list" &&
	ok "apply --deployed with the zone file and holiday file gone: the same table" ||
	{ bad "apply --deployed without the originals"; cat "$tmp/out"; }
# A copy that is not the recorded one is refused, and nothing loads.
cp "$S2/deploy/1/holiday-1.yaml" "$tmp/copy"
printf -- '- 2026-11-05\n' >"$S2/deploy/1/holiday-1.yaml"
in_ns "$SANSO" apply --deployed --state-dir "$S2" >"$tmp/out" 2>&1
rc=$?
listing >"$tmp/now"
if [ $rc -eq 3 ] && grep -q 'not the copy it recorded' "$tmp/out" &&
   cmp -s "$tmp/now" "$tmp/hol.list"; then
	ok "a tampered copy: exit 3, nothing loaded"
else
	bad "tampered copy: exit $rc"; cat "$tmp/out"
fi
cp "$tmp/copy" "$S2/deploy/1/holiday-1.yaml"
# A deployment recorded by the previous version (no copies) still loads,
# from the original path, and says so.
mkdir -p "$src/hol"
printf -- '- 2026-11-03\n- 2026-11-23\n' >"$src/hol/days.yaml"
sed -i '/^holiday/d' "$S2/deploy/1/record"
rm "$S2/deploy/1/holiday-1.yaml"
in_ns nft delete table inet sanso
in_ns "$SANSO" apply --deployed --state-dir "$S2" >"$tmp/out" 2>&1
rc=$?
listing >"$tmp/now"
if [ $rc -eq 0 ] && cmp -s "$tmp/now" "$tmp/hol.list" &&
   grep -q 'without copies of its holiday files' "$tmp/out"; then
	ok "a record without copies: rebuilt from the original path, with a warning"
else
	bad "old record: exit $rc"; cat "$tmp/out"
fi

# 13. Two applies at once serialise: distinct numbers, both recorded.
S3=$tmp/state3
in_ns "$SANSO" apply "$city" --state-dir "$S3" >/dev/null 2>&1
bad_conc=0
for round in 1 2 3; do
	in_ns "$SANSO" apply "$beta" --state-dir "$S3" >"$tmp/c1" 2>&1 &
	p1=$!
	in_ns "$SANSO" apply "$city" --state-dir "$S3" >"$tmp/c2" 2>&1 &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	n1=$(sed -n 's/^applied deployment \([0-9]*\):.*/\1/p' "$tmp/c1")
	n2=$(sed -n 's/^applied deployment \([0-9]*\):.*/\1/p' "$tmp/c2")
	cur=$(cat "$S3/current")
	hi=$n1 lo=$n2
	[ "${n1:-0}" -lt "${n2:-0}" ] && { hi=$n2; lo=$n1; }
	if [ $r1 -ne 0 ] || [ $r2 -ne 0 ] || [ -z "$n1" ] || [ -z "$n2" ] ||
	   [ "$n1" = "$n2" ] || [ "$cur" != "$hi" ] ||
	   ! grep -qx "previous $lo" "$S3/deploy/$hi/record" ||
	   ! [ -f "$S3/deploy/$lo/record" ] ||
	   ! in_ns "$SANSO" status --state-dir "$S3" >/dev/null 2>&1; then
		bad_conc=$((bad_conc + 1))
		echo "round $round: exit $r1/$r2, deployments '$n1' '$n2', current $cur"
		cat "$tmp/c1" "$tmp/c2"
	fi
done
[ $bad_conc -eq 0 ] &&
	ok "two applies at once: distinct deployments, both recorded, the later one live (3 rounds)" ||
	bad "concurrent applies: $bad_conc bad rounds"

# An apply waits for the lock, then goes ahead.
flock "$S3/lock" sleep 2 &
holder=$!
sleep 0.3
start=$(date +%s%N)
in_ns "$SANSO" apply "$beta" --state-dir "$S3" >"$tmp/out" 2>&1
rc=$?
waited=$((($(date +%s%N) - start) / 1000000))
wait $holder
[ $rc -eq 0 ] && [ $waited -ge 1500 ] &&
	ok "apply waits for the state lock (${waited} ms), then applies" ||
	{ bad "apply under a held lock: exit $rc after $waited ms"; cat "$tmp/out"; }

# 14. confirm against the timer: the deadline passes while something holds
# the lock; whichever of the two gets it first, the deployment is rolled
# back exactly once and confirm does not claim to have kept it.
in_ns "$SANSO" apply "$city" --state-dir "$S3" >/dev/null 2>&1
listing >"$tmp/c.list"
in_ns "$SANSO" apply "$beta" --state-dir "$S3" --confirm 10 >/dev/null 2>&1
dl=$(awk '$1 == "deadline" { print $2 }' "$S3/pending")
prev=$(awk '$1 == "previous" { print $2 }' "$S3/pending")
rollbacks=$(grep -c '"action":"rollback"' "$S3/audit.log")
while [ $(($(date +%s) + 1)) -lt "$dl" ]; do sleep 0.2; done
flock "$S3/lock" sleep 3 &
holder=$!
while [ "$(date +%s)" -le "$dl" ]; do sleep 0.1; done
in_ns "$SANSO" confirm --state-dir "$S3" >"$tmp/out" 2>&1
rc=$?
wait $holder
for _ in $(seq 1 20); do [ -e "$S3/pending" ] || break; sleep 0.5; done
sleep 1
listing >"$tmp/now"
after=$(grep -c '"action":"rollback"' "$S3/audit.log")
if [ $rc -eq 1 ] && grep -q 'too late\|no apply is waiting' "$tmp/out" &&
   ! grep -q kept "$tmp/out" && [ "$(cat "$S3/current")" = "$prev" ] &&
   [ "$after" -eq $((rollbacks + 1)) ] && cmp -s "$tmp/now" "$tmp/c.list"; then
	ok "confirm after the deadline, racing the timer: exit 1, rolled back once"
else
	bad "confirm after the deadline: exit $rc, current $(cat "$S3/current"), rollbacks $rollbacks -> $after"
	cat "$tmp/out"
fi

# The same with the timer stopped: confirm itself rolls back, and the
# timer, woken later, does not roll back a second time.
in_ns "$SANSO" apply "$beta" --state-dir "$S3" --confirm 10 >/dev/null 2>&1
timer=$(awk '$1 == "pid" { print $2 }' "$S3/pending")
dl=$(awk '$1 == "deadline" { print $2 }' "$S3/pending")
prev=$(awk '$1 == "previous" { print $2 }' "$S3/pending")
rollbacks=$(grep -c '"action":"rollback"' "$S3/audit.log")
kill -STOP "$timer"
while [ "$(date +%s)" -le "$dl" ]; do sleep 0.2; done
in_ns "$SANSO" confirm --state-dir "$S3" >"$tmp/out" 2>&1
rc=$?
kill -CONT "$timer"
for _ in $(seq 1 20); do kill -0 "$timer" 2>/dev/null || break; sleep 0.2; done
listing >"$tmp/now"
after=$(grep -c '"action":"rollback"' "$S3/audit.log")
if [ $rc -eq 1 ] && grep -q "too late.*rolled back to deployment $prev" "$tmp/out" &&
   [ "$(cat "$S3/current")" = "$prev" ] && [ ! -e "$S3/pending" ] &&
   [ "$after" -eq $((rollbacks + 1)) ] && cmp -s "$tmp/now" "$tmp/c.list"; then
	ok "confirm after the deadline rolls back itself; the late timer does nothing"
else
	bad "late confirm with the timer stopped: exit $rc, current $(cat "$S3/current"), rollbacks $rollbacks -> $after"
	cat "$tmp/out"
fi

# confirm in time, with the deadline close: kept, and the timer leaves it.
in_ns "$SANSO" apply "$beta" --state-dir "$S3" --confirm 10 >/dev/null 2>&1
dl=$(awk '$1 == "deadline" { print $2 }' "$S3/pending")
cur=$(cat "$S3/current")
while [ $(($(date +%s) + 2)) -lt "$dl" ]; do sleep 0.2; done
in_ns "$SANSO" confirm --state-dir "$S3" >"$tmp/out" 2>&1
rc=$?
sleep 3
if [ $rc -eq 0 ] && grep -q "kept deployment $cur" "$tmp/out" &&
   [ "$(cat "$S3/current")" = "$cur" ] &&
   in_ns "$SANSO" status --state-dir "$S3" >/dev/null 2>&1; then
	ok "confirm just before the deadline: kept"
else
	bad "confirm just before the deadline: exit $rc, current $(cat "$S3/current")"; cat "$tmp/out"
fi

# 15. A state directory that others may write, or someone else owns:
# refused with a message, nothing written, the kernel untouched.
listing >"$tmp/before"
for how in "chmod 0777" "chmod 0770" "chown 65534"; do
	W=$tmp/w-${how##* }
	mkdir -m 700 "$W"
	$how "$W"
	in_ns "$SANSO" apply "$beta" --state-dir "$W" >"$tmp/out" 2>&1
	rc=$?
	listing >"$tmp/now"
	if [ $rc -eq 3 ] && grep -q "state directory $W: refused" "$tmp/out" &&
	   [ -z "$(ls -A "$W")" ] && cmp -s "$tmp/before" "$tmp/now"; then
		ok "state directory after $how: apply refuses, changes nothing"
	else
		bad "state directory after $how: exit $rc"; cat "$tmp/out"; ls -A "$W"
	fi
done
cp -a "$S3" "$tmp/w-copy"
chmod 0775 "$tmp/w-copy"
for cmd in rollback confirm "apply --deployed"; do
	# shellcheck disable=SC2086
	in_ns "$SANSO" $cmd --state-dir "$tmp/w-copy" >"$tmp/out" 2>&1
	rc=$?
	listing >"$tmp/now"
	[ $rc -eq 3 ] && grep -q refused "$tmp/out" && cmp -s "$tmp/before" "$tmp/now" &&
		ok "$cmd refuses a group-writable state directory" ||
		{ bad "$cmd with a group-writable state directory: exit $rc"; cat "$tmp/out"; }
done

# 16. A holiday file that is a FIFO: a diagnostic, not a hang.
mkdir -p "$tmp/fifo/hol"
cp "$S2/deploy/1/zones.yaml" "$tmp/fifo/zones.yaml"
mkfifo "$tmp/fifo/hol/days.yaml"
timeout 10 "$SANSO" check "$tmp/fifo/zones.yaml" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'cannot read holiday file.*not a regular file' "$tmp/out" &&
	ok "a FIFO as holiday file: E002, no hang" ||
	{ bad "FIFO holiday file: exit $rc"; cat "$tmp/out"; }

echo "apply: $pass passed, $fail failed"
[ $fail -eq 0 ]
