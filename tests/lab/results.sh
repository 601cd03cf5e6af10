# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Results of one lab test, sourced by tests/lab/test_*.sh:
#
#	ok MSG / bad MSG	count and print one result
#	finish			print "N passed, N failed"; exit 0 only
#				when nothing failed
#	need_root NAME		exit 0 with a SKIP line unless root
#	wait_for ERE FILE [SECS]	wait until a line of FILE matches
#				(default 10 s); 1 when it never did

pass=0
fail=0

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

finish()
{
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

need_root()
{
	if [ "$(id -u)" -ne 0 ]; then
		echo "$1 lab: SKIP: not root (network namespaces need" \
			"CAP_SYS_ADMIN)"
		exit 0
	fi
}

wait_for()
{
	local what=$1 file=$2 secs=${3:-10} _

	for _ in $(seq $((secs * 10))); do
		grep -Eq -- "$what" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
