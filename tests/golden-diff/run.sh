#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Golden tests of `sanso diff` and `sanso graph`.
#
# diff: each tests/golden-diff/NAME.patch turns a copy of base.yaml
# (OLD, or NAME.old.yaml when there is one) into NEW; NAME.out holds
# the expected stdout and stderr of
#
#	BIN diff --at 2026-11-01 [ARGS] old.yaml new.yaml
#
# run in a scratch directory, then a last line "exit N". ARGS is the
# one line of NAME.args, if any (an --at there replaces the default).
#
# graph: `BIN graph FILE` of base.yaml and of every graph-*.yaml must
# match graph-base.dot / graph-*.dot, give the same bytes twice, exit 0
# (1 for graph-fail-*.yaml) and be accepted by `dot -Tsvg`; the zone
# files under zones/ must give deterministic DOT that dot accepts.
#
# Usage: run.sh [--update] BIN
#   --update  rewrite the .out and .dot files from BIN's output (review
#             the diff with `git diff tests/golden-diff` before
#             committing it)
#
# Needs patch(1); the dot checks need Graphviz and say so when it is
# missing.

set -u

AT=2026-11-01
TIMEOUT=60

update=0
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
if ! command -v patch >/dev/null; then
	echo "$0: patch(1) is missing (Debian package patch)" >&2
	exit 2
fi

root=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
dir=$root/tests/golden-diff
cd "$root" || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# The output must not depend on the caller's locale or timezone.
export LC_ALL=C TZ=UTC

passed=0
failed=0

# expect FILE GOT: compare (or, with --update, rewrite) one result.
expect() {
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

fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

for p in "$dir"/*.patch; do
	[ -e "$p" ] || continue
	name=$(basename "$p" .patch)
	t=$tmp/$name
	mkdir -p "$t"
	if [ -f "$dir/$name.old.yaml" ]; then
		cp "$dir/$name.old.yaml" "$t/old.yaml"
	else
		cp "$dir/base.yaml" "$t/old.yaml"
	fi
	if [ -s "$p" ]; then
		if ! patch -s -o "$t/new.yaml" "$t/old.yaml" <"$p" \
		     >"$t/patch.log" 2>&1; then
			fail "$name: the patch does not apply"
			sed 's/^/  /' "$t/patch.log"
			continue
		fi
	else
		cp "$t/old.yaml" "$t/new.yaml"
	fi
	args=()
	if [ -f "$dir/$name.args" ]; then
		read -r -a args <"$dir/$name.args"
	fi
	case " ${args[*]-} " in
	*" --at "*) ;;
	*) args=(--at "$AT" ${args[@]+"${args[@]}"}) ;;
	esac
	(cd "$t" && timeout "$TIMEOUT" "$bin" diff "${args[@]}" \
		old.yaml new.yaml) >"$t/out" 2>&1
	echo "exit $?" >>"$t/out"
	expect "$dir/$name.out" "$t/out"
done

# graph_case FILE WANT STATUS: golden DOT (WANT may be empty: no golden).
graph_case() {
	local file=$1 want=$2 status=$3 name
	name=$(basename "$file" .yaml)

	timeout "$TIMEOUT" "$bin" graph "$file" >"$tmp/g1.dot" 2>"$tmp/g1.err"
	local rc=$?
	timeout "$TIMEOUT" "$bin" graph "$file" >"$tmp/g2.dot" 2>/dev/null
	if [ $rc -ne "$status" ]; then
		fail "graph $file: exit $rc, expected $status"
		sed 's/^/  /' "$tmp/g1.err"
		return
	fi
	if [ ! -s "$tmp/g1.dot" ]; then
		fail "graph $file: no output"
		sed 's/^/  /' "$tmp/g1.err"
		return
	fi
	if ! cmp -s "$tmp/g1.dot" "$tmp/g2.dot"; then
		fail "graph $file: two runs differ"
		return
	fi
	if [ -n "$have_dot" ] &&
	   ! dot -Tsvg "$tmp/g1.dot" >"$tmp/g.svg" 2>"$tmp/dot.err"; then
		fail "graph $file: dot -Tsvg rejects it"
		sed 's/^/  /' "$tmp/dot.err"
		return
	fi
	if [ -n "$want" ]; then
		expect "$want" "$tmp/g1.dot"
	else
		passed=$((passed + 1))
	fi
}

have_dot=
if command -v dot >/dev/null; then
	have_dot=1
else
	echo "note: Graphviz dot is missing (Debian package graphviz);" \
	     "DOT output is not parsed"
fi
graph_case "$dir/base.yaml" "$dir/graph-base.dot" 0
for g in "$dir"/graph-*.yaml; do
	[ -e "$g" ] || continue
	status=0
	case $g in
	*/graph-fail-*) status=1 ;;
	esac
	graph_case "$g" "${g%.yaml}.dot" $status
done
for z in zones/*.yaml; do
	# Holiday lists live beside the zone files.
	grep -q '^zones:' "$z" || continue
	graph_case "$z" "" 0
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
