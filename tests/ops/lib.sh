# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Sourced by tests/ops/test_*.sh: results, skips, a scratch directory and
# network namespaces that are removed on exit.
#
#   ok MSG / bad MSG / skip MSG    count and print one result
#   need CMD...                    skip the whole test unless each exists
#   need_root                      skip the whole test unless root
#   ops_ns NAME                    a new network namespace, named in
#                                  OPS_NSNAME (SANSO_LAB_PREFIX-PID-NAME,
#                                  default sanso-ops-PID-NAME), deleted
#                                  on exit with every process still in it
#   ops_listener NAME              a TCP listener on 127.0.0.1, its port
#                                  in OPS_PORT, stopped on exit
#   finish                         prints "N passed, N failed", exits

OPS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OPS_NAME=$(basename "$0" .sh)
: "${SANSO:=$OPS_ROOT/build/sanso}"
case $SANSO in
/*) ;;
*) SANSO=$PWD/$SANSO ;;
esac
pass=0
fail=0
skipped=0
OPS_NS=()
OPS_PIDS=()
# shellcheck source=tests/lab/prefix.sh
. "$OPS_ROOT/tests/lab/prefix.sh"
OPS_NAME_PFX=$(lab_name_prefix sanso-ops)-$$ || exit 2
OPS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sanso-ops.XXXXXX")

ops_cleanup()
{
	local p n
	for p in "${OPS_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in "${OPS_NS[@]}"; do
		# Anything still running inside was started by this test.
		for p in $(ip netns pids "$n" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
	if [ -z "${OPS_KEEP-}" ]; then
		rm -rf "$OPS_TMP"
	elif [ -d "$OPS_TMP" ]; then
		echo "$OPS_NAME: kept $OPS_TMP"
	fi
}
trap ops_cleanup EXIT

ok()
{
	pass=$((pass + 1))
	echo "ok: $*"
}

bad()
{
	fail=$((fail + 1))
	echo "FAIL: $*"
}

skip()
{
	skipped=$((skipped + 1))
	echo "SKIP: $*"
}

finish()
{
	[ "$skipped" -gt 0 ] && echo "$OPS_NAME: $skipped skipped"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

# Skips the whole test (0 passed, 0 failed) when a tool is missing.
need()
{
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			skip "$OPS_NAME: $c is not installed"
			finish
		fi
	done
}

need_root()
{
	if [ "$(id -u)" -ne 0 ]; then
		skip "$OPS_NAME: needs root (network namespaces)"
		finish
	fi
}

need_sanso()
{
	if [ ! -x "$SANSO" ]; then
		bad "$OPS_NAME: $SANSO not found (make)"
		finish
	fi
}

# Not to be called in a subshell: the cleanup must know the namespace.
ops_ns()
{
	OPS_NSNAME=$OPS_NAME_PFX-$1
	ip netns add "$OPS_NSNAME" || return 1
	OPS_NS+=("$OPS_NSNAME")
	ip -n "$OPS_NSNAME" link set lo up
}

# A TCP listener on 127.0.0.1 that accepts and closes; its port goes in
# OPS_PORT. Not to be called in a subshell: the cleanup must know its pid.
ops_listener()
{
	python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
sys.stdout.close()
while True:
    c, _ = s.accept()
    c.close()
' >"$OPS_TMP/listener.$1" 2>/dev/null </dev/null &
	OPS_PIDS+=($!)
	OPS_PORT=
	for _ in $(seq 50); do
		[ -s "$OPS_TMP/listener.$1" ] && break
		sleep 0.1
	done
	# shellcheck disable=SC2034  # read by the tests
	OPS_PORT=$(cat "$OPS_TMP/listener.$1")
}
