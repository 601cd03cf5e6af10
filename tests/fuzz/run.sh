#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds each libFuzzer harness with clang (ASan + UBSan) and runs it for a
# bounded time on its seed corpus: tests/fuzz/run.sh SECONDS
set -euo pipefail
secs=${1:-20}
cd "$(dirname "$0")/../.."
if ! command -v clang >/dev/null; then
	echo "fuzz: SKIP: clang is not installed (contrib/install-deps.sh)"
	exit 0
fi
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -std=gnu11 -D_GNU_SOURCE -DSANSO_VERSION=\"fuzz\" -iquote include
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
pkgs="yaml-0.1 libnftnl libmnl libcrypto libpsl zlib"
# The library alone: the commands need main.c's table, no harness does.
srcs=$(ls src/*.c | grep -v -e '^src/main.c$' -e '^src/cmd_')
for h in tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	seeds=tests/fuzz/corpus/${name#fuzz_}
	# shellcheck disable=SC2086
	clang $flags $(pkg-config --cflags $pkgs) -o "$out/$name" "$h" \
		$srcs $(pkg-config --libs $pkgs)
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	cp -r "$seeds"/. "$work"/ 2>/dev/null || true
	[ "$name" = fuzz_model ] && cp zones/*.yaml tests/golden/*.yaml \
		"$work"/ 2>/dev/null || true
	echo "fuzz: $name for ${secs}s"
	"$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 "$work" \
		>"$out/$name.log" 2>&1 || {
		tail -n 60 "$out/$name.log"
		echo "fuzz: $name FAILED (log: $out/$name.log)"
		exit 1
	}
	grep -E '^(stat::number_of_executed_units|Done)' "$out/$name.log" || true
	rm -rf "$work"
	trap - EXIT
done
echo "fuzz: all harnesses ran clean"
