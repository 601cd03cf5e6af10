# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The first part of the names of the namespaces (and of the lab's user) a
# test makes: SANSO_LAB_PREFIX when set, so that the runs of two people on
# one machine never see or remove each other's, else the test's default.
# The name goes on with the process id and "-": a letter last keeps one
# prefix from matching the names of another (a1 and pid 23, a and pid 123),
# and 8 characters leave a user name (prefix, pid, -life) within 32.
# Sourced by tests/lab/lib.sh, tests/lab/run.sh, tests/ops/lib.sh and the
# tests that name namespaces themselves.

# Prints the prefix, or says what is wrong and returns 1.
lab_name_prefix()	# DEFAULT
{
	local p=${SANSO_LAB_PREFIX:-$1}

	if [ -n "${SANSO_LAB_PREFIX-}" ] &&
		! [[ $p =~ ^[a-z]([a-z0-9-]{0,6}[a-z])?$ ]]; then
		echo "SANSO_LAB_PREFIX=\"$p\": 1 to 8 of a-z, 0-9 and -," \
			"a letter first and last" >&2
		return 1
	fi
	echo "$p"
}
