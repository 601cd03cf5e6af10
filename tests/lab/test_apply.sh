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
# Needs root; run by tests/lab/run.sh with SANSO=path/to/sanso.
set -u
SANSO=${SANSO:-build/sanso}
case $SANSO in /*) ;; *) SANSO=$PWD/$SANSO ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "apply: SKIP: not root"
	exit 0
fi
ns=sl$$-apply
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
if grep -q 'warning: zone "lgwan": interface ens5 does not exist' "$tmp/out"; then
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

echo "apply: $pass passed, $fail failed"
[ $fail -eq 0 ]
