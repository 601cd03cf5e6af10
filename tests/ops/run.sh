#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The operations tests: make install and uninstall, systemd units, logrotate, rsyslog and Fluent Bit
# forwarding, the Ansible role, static analysis (cppcheck, shellcheck)
# and valgrind. Each test skips, saying why, what its tools or root
# would be needed for. Under three minutes; prints "N passed, N failed".
#
#   tests/ops/run.sh [SANSO]
#
# OPS_SLOW=1 adds clang-tidy and the Debian package (build, lintian, and
# with root an install, a check and a purge): several minutes more.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export SANSO=${1:-${SANSO:-$here/../../build/sanso}}
case $SANSO in
/*) ;;
*) SANSO=$PWD/$SANSO ;;
esac
tests=(test_install test_systemd test_logrotate test_rsyslog test_fluentbit test_ansible
	test_static test_valgrind)
[ -n "${OPS_SLOW-}" ] && tests+=(test_debian)
pass=0
fail=0
skips=0
failed=()
for t in "${tests[@]}"; do
	echo "== ops: $t"
	out=$("$here/$t.sh" 2>&1)
	echo "$out"
	p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -n 1)
	f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -n 1)
	if [ -z "$p" ]; then
		p=0
		f=1
		echo "FAIL: $t ended without a result line"
	fi
	skips=$((skips + $(echo "$out" | grep -c '^SKIP:')))
	pass=$((pass + p))
	fail=$((fail + f))
	[ "$f" -gt 0 ] && failed+=("$t")
done
[ -z "${OPS_SLOW-}" ] &&
	echo "ops: not run: clang-tidy, the Debian package (OPS_SLOW=1, or tests/ops/test_debian.sh)"
[ ${#failed[@]} -gt 0 ] && echo "ops: failed: ${failed[*]}"
[ "$skips" -gt 0 ] && echo "ops: $skips skipped (see SKIP lines)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
