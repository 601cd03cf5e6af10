#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Golden tests of the generator: every tests/golden-nft/NAME.yaml
# compiles (as of a fixed date) to exactly NAME.nft, stdout and stderr,
# then a last line "exit N"; one with FQDN sets also to NAME.dnsmasq
# (compile --dnsmasq).
#
# Usage: run.sh [--update] BIN

set -u
# shellcheck source=tests/golden/lib.sh
. "$(dirname "$0")/../golden/lib.sh"
golden_init "$@"

for y in tests/golden-nft/*.yaml; do
	[ -e "$y" ] || continue
	timeout "$TIMEOUT" "$bin" compile --at "$AT" "$y" >"$tmp/out" 2>&1
	echo "exit $?" >>"$tmp/out"
	golden_expect "$root/${y%.yaml}.nft" "$tmp/out"
	grep -q '^fqdn_sets:' "$y" || continue
	timeout "$TIMEOUT" "$bin" compile --dnsmasq "$y" >"$tmp/out" 2>&1
	echo "exit $?" >>"$tmp/out"
	golden_expect "$root/${y%.yaml}.dnsmasq" "$tmp/out"
done
echo -n "golden-nft: "
golden_finish
