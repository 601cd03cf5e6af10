# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# What the golden runners share: sourced by tests/golden*/run.sh.
#
#	golden_init "$@"	parse "[--update] BIN", set $bin (absolute),
#				$root (cwd), $tmp (removed at exit), $AT
#	golden_expect WANT GOT	compare GOT with the file WANT, or with
#				--update rewrite WANT from it
#	golden_fail MESSAGE	count a failure that has no expected file
#	golden_finish		print the counts; the runner's exit status

# Used by the runners that source this file.
# shellcheck disable=SC2034
AT=2026-11-01 TIMEOUT=60
update=0
passed=0
failed=0

golden_init() {
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
}

golden_expect() {
	local want=$1 got=$2

	if [ $update = 1 ]; then
		if ! cmp -s "$got" "$want"; then
			cp "$got" "$want"
			echo "updated ${want#"$root"/}"
		fi
		passed=$((passed + 1))
		return
	fi
	if [ -f "$want" ] && cmp -s "$got" "$want"; then
		passed=$((passed + 1))
		return
	fi
	failed=$((failed + 1))
	echo "FAIL: ${want#"$root"/}"
	if [ -f "$want" ]; then
		diff -u --label "${want#"$root"/}" --label "got" "$want" "$got"
	else
		echo "  (missing; run with --update to create it)"
		sed 's/^/  /' "$got"
	fi
}

golden_fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

golden_finish() {
	echo "$passed passed, $failed failed"
	[ $failed -eq 0 ]
}
