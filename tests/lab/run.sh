#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make check-lab`: the end-to-end tests in network namespaces.
#
# Usage: run.sh BIN
#
# Runs test_matrix.sh on zones/example-city.yaml, zones/example-beta.yaml,
# every tests/lab/*.yaml and --schedule, then every other
# tests/lab/test_*.sh without arguments, with SANSO=BIN in the
# environment. Each test prints a line ending in "N passed, N failed"
# (the last one counts; a test that prints none counts as one test, by
# its exit status). Skips, exiting 0, when not root or when network namespaces
# cannot be made or entered; fails when nft(8) is missing.

set -u

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
TEST_TIMEOUT=${TEST_TIMEOUT:-240}

if [ "$(id -u)" -ne 0 ]; then
	echo "lab: SKIP: not root (network namespaces need CAP_SYS_ADMIN)"
	exit 0
fi
# shellcheck source=tests/lab/prefix.sh
. "$here/prefix.sh"
pfx=$(lab_name_prefix sl) || exit 2
probe_ns=$pfx$$-probe
if ! err=$(ip netns add "$probe_ns" 2>&1); then
	echo "lab: SKIP: ip netns add failed: ${err:-no reason given}"
	exit 0
fi
if ! err=$(ip netns exec "$probe_ns" true 2>&1); then
	ip netns del "$probe_ns"
	echo "lab: SKIP: ip netns exec failed: ${err:-no reason given}"
	exit 0
fi
ip netns del "$probe_ns"
if ! command -v nft >/dev/null; then
	echo "lab: nft(8) not found (Debian package nftables)"
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -x "$bin" ]; then
	echo "lab: $bin: not an executable"
	echo "0 passed, 1 failed"
	exit 1
fi

# Namespaces of lab runs, "<prefix><pid>-...", whose process is gone:
# only this prefix's, another user's runs are theirs to watch.
orphans()
{
	local ns pid
	for ns in $(ip netns list | awk -v p="$pfx" \
		'index($1, p) == 1 && substr($1, length(p) + 1) ~ /^[0-9]+-/ { print $1 }'); do
		pid=${ns#"$pfx"}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null || echo "$ns"
	done | sort
}

export SANSO=$bin
before=$(orphans)
passed=0
failed=0
start=$(date +%s)

# One test: its output through, its last "N passed, N failed" counted.
run_one()
{
	local out rc p f line
	out=$(mktemp) || exit 1
	(cd "$root" && timeout -k 10 "$TEST_TIMEOUT" "$@") 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -oE '(^|[^0-9])[0-9]+ passed, [0-9]+ failed$' "$out" |
	       tail -n 1 | sed 's/^[^0-9]*//')
	rm -f "$out"
	if [ -n "$line" ]; then
		read -r p _ f _ <<<"$line"
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "lab: $*: exit status $rc"
			failed=$((failed + 1))
		fi
	elif [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		echo "lab: $*: exit status $rc$([ "$rc" -eq 124 ] &&
			echo " (timed out after $TEST_TIMEOUT s)")"
		failed=$((failed + 1))
	fi
}

for f in zones/example-city.yaml zones/example-beta.yaml "$here"/*.yaml \
	--schedule; do
	[ -e "$f" ] || [ "$f" = --schedule ] || continue
	run_one "$here/test_matrix.sh" "$f"
done
for t in "$here"/test_*.sh; do
	[ -e "$t" ] || continue
	[ "$(basename "$t")" = test_matrix.sh ] && continue
	run_one "$t"
done

# A test that died without its trap must not leave namespaces behind.
left=$(comm -13 <(echo "$before") <(orphans))
if [ -n "$left" ]; then
	echo "lab: namespaces left behind: $(echo "$left" | paste -sd ' ')"
	failed=$((failed + 1))
fi
echo "lab: $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
