#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden tests of the generator: every NAME.yaml here compiles (as of a
# fixed date) to exactly NAME.nft.  run.sh [--update] BIN
set -u
update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
bin=$1
cd "$(dirname "$0")/../.."
pass=0 fail=0
for y in tests/golden-nft/*.yaml; do
	exp=${y%.yaml}.nft
	got=$("$bin" compile --at 2026-11-01 "$y" 2>&1; echo "exit $?")
	if [ $update = 1 ]; then
		printf '%s\n' "$got" >"$exp"
		continue
	fi
	if [ "$got" = "$(cat "$exp" 2>/dev/null)" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $y"
		diff -u "$exp" <(printf '%s\n' "$got") | head -40
	fi
done
[ $update = 1 ] && { echo "updated; review: git diff tests/golden-nft"; exit 0; }
echo "golden-nft: $pass passed, $fail failed"
[ $fail -eq 0 ]
