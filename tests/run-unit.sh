#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every cmocka unit test binary given; fails if any fails.
set -u
failed=0
for t in "$@"; do
	if ! "$t"; then
		echo "FAIL: $t" >&2
		failed=$((failed + 1))
	fi
done
echo "unit test programs: $(($# - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
