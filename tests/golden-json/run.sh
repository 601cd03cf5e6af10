#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# JSON output of zone files whose names are not UTF-8: a copy of
# tests/golden-diff/base.yaml named in CP932 (Shift_JIS, as a Windows
# share or an old archive gives it), through every command that prints
# JSON about a path. Each output must be read by jq, and must match
# NAME.out here: the name's bytes by sanso(8)'s rule (each byte that is
# not part of a valid UTF-8 sequence becomes U+FFFD), the rest as ever.
#
#	check   --format json   the findings' "file"
#	diff    --format json   "old"/"new" "file" and the findings
#	explain --format json   the permitting flow's "file"
#	report  --format json   an alert log's "path"
#
# Usage: run.sh [--update] BIN
#   --update  rewrite the .out files from BIN's output (review the diff
#             with `git diff tests/golden-json` before committing it)
#
# jq alone is not enough: it reads bytes that are not UTF-8 as U+FFFD
# itself, so the output is also decoded as strict UTF-8 (RFC 8259 8.1)
# by python3. Needs jq and python3 (Debian packages jq, python3).

set -u
# shellcheck source=tests/golden/lib.sh
. "$(dirname "$0")/../golden/lib.sh"
golden_init "$@"
for t in jq python3; do
	if ! command -v $t >/dev/null; then
		echo "$0: $t is missing (Debian package $t)" >&2
		exit 2
	fi
done
dir=$root/tests/golden-json

# タイソ.yaml in CP932: 83 5e 83 43 83 5c; the last trail byte is "\",
# which a writer that passes bytes through must still escape.
name=$(printf '\x83\x5e\x83\x43\x83\x5c')
cd "$tmp" || exit 2
cp "$root/tests/golden-diff/base.yaml" "$name.yaml"
# The same file with a lone continuation byte, a cut-short sequence, an
# overlong "/" and a surrogate in its name.
bad=$(printf 'x\x80y\xe3\x81z\xc0\xafw\xed\xa0\x80')
cp "$root/tests/golden-diff/base.yaml" "$bad.yaml"

# run NAME ARGS...: BIN ARGS must print JSON that jq reads, matching
# NAME.out (stdout, stderr, then "exit N").
run() {
	local case=$1

	shift
	timeout "$TIMEOUT" "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if ! jq . "$tmp/out" >/dev/null 2>"$tmp/jq"; then
		golden_fail "$case: jq cannot read the output:" \
			"$(cat "$tmp/jq")"
		return
	fi
	if ! python3 -c 'import json, sys
json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))' \
	     "$tmp/out" 2>"$tmp/jq"; then
		golden_fail "$case: not JSON in UTF-8:" "$(tail -1 "$tmp/jq")"
		return
	fi
	cat "$tmp/err" >>"$tmp/out"
	echo "exit $rc" >>"$tmp/out"
	golden_expect "$dir/$case.out" "$tmp/out"
}

run check-cp932 check --at "$AT" --format json "$name.yaml"
run check-invalid check --at "$AT" --format json "$bad.yaml"
run diff-cp932 diff --at "$AT" --format json "$name.yaml" "$bad.yaml"
run explain-cp932 explain --at "${AT}T10:00" --format json \
	--from 10.20.6.10 --to 10.10.1.5 --service tcp/1521 "$name.yaml"

# report: an alert log named in CP932 (its "generated" time changes, so
# only the JSON and the path are checked).
mkdir -p "$tmp/state"
cp "$root/tests/replay/lab-monitor.jsonl" "$name.jsonl"
"$bin" report --state-dir "$tmp/state" --alerts "$name.jsonl" \
	--format json --timezone Asia/Tokyo --no-verify >"$tmp/report" 2>&1
if ! python3 -c 'import json, sys
doc = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))
assert doc["files"][0]["path"] == "\ufffd^\ufffdC\ufffd\\.jsonl", doc["files"]
assert doc["alerts"]["total"] == 10, doc["alerts"]["total"]' "$tmp/report" \
     2>"$tmp/jq"; then
	golden_fail "report-cp932: $(tail -1 "$tmp/jq")"
else
	passed=$((passed + 1))
fi

# The value jq reads back is the name by the rule, byte for byte.
got=$("$bin" check --at "$AT" --format json "$name.yaml" |
      jq -j '.[0].file')
want=$(printf '\xef\xbf\xbd^\xef\xbf\xbdC\xef\xbf\xbd\\.yaml')
if [ "$got" = "$want" ]; then
	passed=$((passed + 1))
else
	golden_fail "check-cp932: file is \"$got\", not \"$want\""
fi
golden_finish
