#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Change-control job for a repository of zone files: for every zone file
# a change adds, modifies or deletes against BASE, runs `sanso check` on
# the new version and `sanso diff --format markdown` between the two,
# and collects one Markdown report for the reviewer. Any CI can run it;
# gitlab-ci.yml beside it shows a GitLab job that posts the report on
# the merge request.
#
# Usage: ci-review.sh [BASE [HEAD]]
#   BASE  the commit the change starts from (default: the merge base
#         with origin/main, or $CI_MERGE_REQUEST_DIFF_BASE_SHA in a
#         GitLab merge-request pipeline)
#   HEAD  the changed commit (default: HEAD)
#
# Environment:
#   SANSO         the sanso binary (default: sanso in PATH)
#   SANSO_AT      judge waivers as of this date (default: today)
#   REPORT        where the Markdown goes (default: sanso-review.md)
#   SANSO_REVIEW_TOKEN, CI_API_V4_URL, CI_PROJECT_ID,
#   CI_MERGE_REQUEST_IID
#                 when all are set, the report is posted as a note on
#                 the merge request (a project access token with the
#                 api scope; CI_JOB_TOKEN cannot write notes)
#
# Exit status: 0 every zone file passes check and the change opens no
# path into or out of a mynumber zone; 10 the files pass but the change
# opens such a path (a reviewer must approve it: let the job fail with
# a warning on 10); 1 a zone file fails check or cannot be compared;
# 2 usage or a tool failure.

set -u

SANSO=${SANSO:-sanso}
REPORT=${REPORT:-sanso-review.md}

if [ $# -gt 2 ]; then
	echo "usage: $0 [BASE [HEAD]]" >&2
	exit 2
fi
if ! command -v "$SANSO" >/dev/null 2>&1; then
	echo "ci-review: $SANSO not found" >&2
	exit 2
fi
head=${2:-HEAD}
if [ $# -ge 1 ]; then
	base=$1
elif [ -n "${CI_MERGE_REQUEST_DIFF_BASE_SHA:-}" ]; then
	base=$CI_MERGE_REQUEST_DIFF_BASE_SHA
else
	base=$(git merge-base origin/main "$head") || {
		echo "ci-review: no merge base with origin/main; give BASE" >&2
		exit 2
	}
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# Both trees in full, so that relative holiday files resolve in each.
mkdir -p "$tmp/old" "$tmp/new"
git archive "$base" | tar -x -C "$tmp/old" || exit 2
git archive "$head" | tar -x -C "$tmp/new" || exit 2

at=
[ -n "${SANSO_AT:-}" ] && at="--at $SANSO_AT"

is_zone_file()
{
	[ -f "$1" ] && grep -q '^zones:' "$1"
}

git diff --name-only --diff-filter=ACMRD "$base" "$head" -- \
	'*.yaml' '*.yml' >"$tmp/changed" || exit 2

: >"$REPORT"
worst=0
n=0
while IFS= read -r f; do
	old=old/$f
	new=new/$f
	is_zone_file "$tmp/$old" || is_zone_file "$tmp/$new" || continue
	n=$((n + 1))
	if ! is_zone_file "$tmp/$new"; then
		printf '## %s\n\n**Zone file deleted.**\n\n' "$f" >>"$REPORT"
		[ "$worst" -lt 10 ] && worst=10
		continue
	fi
	# shellcheck disable=SC2086
	(cd "$tmp" && "$SANSO" check $at "$new") >"$tmp/check.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		{
			printf '## %s\n\n**sanso check failed.**\n\n```\n' "$f"
			cat "$tmp/check.out"
			printf '```\n\n'
		} >>"$REPORT"
		cat "$tmp/check.out" >&2
		[ $rc -ge 2 ] && exit 2
		worst=1
		continue
	fi
	if ! is_zone_file "$tmp/$old"; then
		printf '## %s\n\n**New zone file** (sanso check passes).\n\n' \
			"$f" >>"$REPORT"
		[ "$worst" -eq 0 ] && worst=10
		continue
	fi
	# shellcheck disable=SC2086
	(cd "$tmp" && "$SANSO" diff $at --format markdown "$old" "$new") \
		>"$tmp/diff.md" 2>"$tmp/diff.err"
	rc=$?
	{
		printf '<!-- %s -->\n' "$f"
		cat "$tmp/diff.md"
		printf '\n'
	} >>"$REPORT"
	case $rc in
	0) ;;
	1)
		if [ -s "$tmp/diff.md" ]; then
			[ "$worst" -eq 0 ] && worst=10
		else
			cat "$tmp/diff.err" >&2
			worst=1
		fi
		;;
	*)
		cat "$tmp/diff.err" >&2
		exit 2
		;;
	esac
done <"$tmp/changed"

if [ $n -eq 0 ]; then
	echo "ci-review: no zone file changed between $base and $head"
	exit 0
fi
cat "$REPORT"

if [ -n "${SANSO_REVIEW_TOKEN:-}" ] && [ -n "${CI_API_V4_URL:-}" ] &&
   [ -n "${CI_PROJECT_ID:-}" ] && [ -n "${CI_MERGE_REQUEST_IID:-}" ]; then
	mr=$CI_API_V4_URL/projects/$CI_PROJECT_ID
	mr=$mr/merge_requests/$CI_MERGE_REQUEST_IID
	if ! curl -sSf -X POST -H "PRIVATE-TOKEN: $SANSO_REVIEW_TOKEN" \
		--data-urlencode "body@$REPORT" "$mr/notes" >/dev/null; then
		echo "ci-review: posting the report failed" >&2
	fi
fi
exit $worst
