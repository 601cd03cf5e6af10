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
# shellcheck source=tests/golden/lib.sh
. "$(dirname "$0")/lib.sh"
golden_init "$@"

for yaml in tests/golden/*.yaml; do
	[ -e "$yaml" ] || continue
	timeout "$TIMEOUT" "$bin" check --at "$AT" "$yaml" >"$tmp/out" 2>&1
	echo "exit $?" >>"$tmp/out"
	golden_expect "$root/${yaml%.yaml}.err" "$tmp/out"
done
golden_finish
