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
# shellcheck source=tests/golden/lib.sh
. "$(dirname "$0")/../golden/lib.sh"
golden_init "$@"
if ! command -v patch >/dev/null; then
	echo "$0: patch(1) is missing (Debian package patch)" >&2
	exit 2
fi
dir=$root/tests/golden-diff

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
			golden_fail "$name: the patch does not apply"
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
	golden_expect "$dir/$name.out" "$t/out"
done

# graph_case FILE WANT STATUS: golden DOT (WANT may be empty: no golden).
graph_case() {
	local file=$1 want=$2 status=$3 name
	name=$(basename "$file" .yaml)

	timeout "$TIMEOUT" "$bin" graph "$file" >"$tmp/g1.dot" 2>"$tmp/g1.err"
	local rc=$?
	timeout "$TIMEOUT" "$bin" graph "$file" >"$tmp/g2.dot" 2>/dev/null
	if [ $rc -ne "$status" ]; then
		golden_fail "graph $file: exit $rc, expected $status"
		sed 's/^/  /' "$tmp/g1.err"
		return
	fi
	if [ ! -s "$tmp/g1.dot" ]; then
		golden_fail "graph $file: no output"
		sed 's/^/  /' "$tmp/g1.err"
		return
	fi
	if ! cmp -s "$tmp/g1.dot" "$tmp/g2.dot"; then
		golden_fail "graph $file: two runs differ"
		return
	fi
	if [ -n "$have_dot" ] &&
	   ! dot -Tsvg "$tmp/g1.dot" >"$tmp/g.svg" 2>"$tmp/dot.err"; then
		golden_fail "graph $file: dot -Tsvg rejects it"
		sed 's/^/  /' "$tmp/dot.err"
		return
	fi
	if [ -n "$want" ]; then
		golden_expect "$want" "$tmp/g1.dot"
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

golden_finish
