#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Golden tests of `sanso check`. Each tests/golden/NAME.yaml has a
# NAME.err holding the expected stdout and stderr of
#
#	BIN check --at 2026-11-01 tests/golden/NAME.yaml
#
# run from the repository root, followed by a last line "exit N".
# Files under tests/golden/data/ are inputs the cases refer to.
#
# Usage: run.sh [--update] BIN
#   --update  rewrite the .err files from BIN's output (review the diff
#             with `git diff tests/golden` before committing it)

set -u

AT=2026-11-01
TIMEOUT=60

update=0
if [ "${1-}" = --update ]; then
	update=1
	shift
fi
if [ $# -ne 1 ]; then
	echo "usage: $0 [--update] BIN" >&2
	exit 2
fi
bin=$1
case $bin in
/*) ;;
*) bin=$PWD/$bin ;;
esac
if [ ! -x "$bin" ]; then
	echo "$0: $bin: not an executable" >&2
	exit 2
fi

root=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
cd "$root" || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# The output must not depend on the caller's locale or timezone.
export LC_ALL=C TZ=UTC

passed=0
failed=0
for yaml in tests/golden/*.yaml; do
	[ -e "$yaml" ] || continue
	err=${yaml%.yaml}.err
	out=$tmp/out
	timeout "$TIMEOUT" "$bin" check --at "$AT" "$yaml" >"$out" 2>&1
	echo "exit $?" >>"$out"

	if [ $update = 1 ]; then
		if ! cmp -s "$out" "$err"; then
			cp "$out" "$err"
			echo "updated $err"
		fi
		passed=$((passed + 1))
		continue
	fi
	if [ -f "$err" ] && cmp -s "$out" "$err"; then
		passed=$((passed + 1))
		continue
	fi
	failed=$((failed + 1))
	echo "FAIL: $yaml"
	if [ -f "$err" ]; then
		diff -u --label "$err" --label "got" "$err" "$out"
	else
		echo "  (no $err; run with --update to create it)"
		sed 's/^/  /' "$out"
	fi
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
