#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Static analysis of src/ with cppcheck and clang-tidy, and shellcheck of
# the shell scripts of contrib/ and tests/ops. A finding is "file
# [check] message" (no line numbers, so that unrelated edits do not move
# it); findings listed in tests/ops/static-baseline.txt were reviewed
# (see SECURITY.md) and pass; any other fails.
#
#   tests/ops/static-analysis.sh [--cppcheck] [--tidy] [--shellcheck]
#                                [--update-baseline]
#
# Without a tool option it runs all three. clang-tidy takes a few minutes
# on two cores; cppcheck and shellcheck take seconds. Prints each new
# finding with its line, then "N passed, N failed" (one result per tool).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 3
baseline=tests/ops/static-baseline.txt
tools=()
update=
for a in "$@"; do
	case $a in
	--cppcheck) tools+=(cppcheck) ;;
	--tidy) tools+=(tidy) ;;
	--shellcheck) tools+=(shellcheck) ;;
	--update-baseline) update=1 ;;
	*) echo "usage: $0 [--cppcheck] [--tidy] [--shellcheck] [--update-baseline]" >&2
	   exit 2 ;;
	esac
done
[ ${#tools[@]} -eq 0 ] && tools=(cppcheck tidy shellcheck)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
skipped=0

pkgs="yaml-0.1 libnftnl libmnl libcrypto libpsl"
defs=(-D_GNU_SOURCE "-DSANSO_VERSION=\"static\"")

# The checks, and why:
# cppcheck: warning, portability and performance; "style" is mostly
#   variableScope, which the kernel style (declarations first) disagrees
#   with.
cppcheck_run()
{
	cppcheck --quiet --std=c11 --enable=warning,portability,performance \
		--inline-suppr "${defs[@]}" -I include \
		--suppress=missingIncludeSystem -j "$(nproc)" \
		--template='{file}:{line}:{column}: [cppcheck-{id}] {message}' \
		src/ 2>&1
}

# clang-tidy: the clang static analyzer (paths through the code:
#   null dereferences, leaks, use after free, uninitialised reads) and the
#   bugprone checks, plus the CERT rules on unchecked conversions
#   (atoi/sscanf), unsafe randomness, system(), file identity (fio38) and
#   signed chars (str34). Left out: the noise a C code base in this style
#   triggers by design: unchecked fprintf (cert-err33-c), "if (strcmp())"
#   (suspicious-string-compare), easily swappable parameters, widening of
#   size arithmetic, and memcpy/strcpy "insecure API" advice. The
#   sizeof(pointer) warnings of bugprone-sizeof-expression on arrays of
#   pointers are false positives kept in the baseline (clang-tidy 14 has
#   no option to silence them alone).
tidy_checks='-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-security.insecureAPI.strcpy,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-assignment-in-if-condition,-bugprone-narrowing-conversions,-bugprone-implicit-widening-of-multiplication-result,-bugprone-suspicious-string-compare,cert-err34-c,cert-fio38-c,cert-msc30-c,cert-msc32-c,cert-env33-c,cert-str34-c,misc-redundant-expression'
tidy_run()
{
	# shellcheck disable=SC2046,SC2086
	printf '%s\0' src/*.c | xargs -0 -P "$(nproc)" -n 1 -I{} \
		clang-tidy --quiet -checks="$tidy_checks" {} -- \
		-std=gnu11 "${defs[@]}" -iquote include \
		$(pkg-config --cflags $pkgs) 2>/dev/null |
		sed -n "s|^$top/||; /^src\/.*: warning: /{s/: warning: /: /; p}"
}

shellcheck_run()
{
	shellcheck -x -f gcc tests/ops/*.sh contrib/debian/build.sh \
		contrib/debian/sanso.postinst contrib/debian/sanso.postrm 2>&1 |
		sed 's/: \(warning\|error\|note\|info\): /: /'
}

# "file:line:col: msg" -> "file msg"
key()
{
	sed -E 's/^([^:]+):[0-9]+:[0-9]+: /\1 /'
}

for t in "${tools[@]}"; do
	case $t in
	cppcheck) cmd=cppcheck ;;
	tidy) cmd=clang-tidy ;;
	shellcheck) cmd=shellcheck ;;
	esac
	if ! command -v "$cmd" >/dev/null; then
		echo "SKIP: $cmd is not installed"
		skipped=$((skipped + 1))
		continue
	fi
	"${t}_run" | sort -u >"$tmp/$t.raw"
	key <"$tmp/$t.raw" | sort -u >"$tmp/$t.keys"
	n=$(wc -l <"$tmp/$t.keys")
	if [ -n "$update" ]; then
		{
			grep -v '^#' "$baseline" 2>/dev/null | grep -v "^$t "
			sed "s/^/$t /" "$tmp/$t.keys"
		} | sort -u >"$tmp/base"
		{ grep '^#' "$baseline" 2>/dev/null; cat "$tmp/base"; } >"$tmp/new"
		cp "$tmp/new" "$baseline"
		echo "$t: $n findings written to $baseline"
		continue
	fi
	grep "^$t " "$baseline" 2>/dev/null | sed "s/^$t //" | sort -u >"$tmp/$t.base"
	comm -23 "$tmp/$t.keys" "$tmp/$t.base" >"$tmp/$t.new"
	gone=$(comm -13 "$tmp/$t.keys" "$tmp/$t.base" | wc -l)
	if [ -s "$tmp/$t.new" ]; then
		echo "FAIL: $t: $(wc -l <"$tmp/$t.new") finding(s) not in $baseline:"
		awk 'NR == FNR { want[$0] = 1; next }
		     { k = $0; sub(/:[0-9]+:[0-9]+: /, " ", k) }
		     k in want { print "  " $0; delete want[k] }' \
			"$tmp/$t.new" "$tmp/$t.raw"
		fail=$((fail + 1))
	else
		echo "ok: $t: $n finding(s), all reviewed in $baseline ($gone fixed since)"
		pass=$((pass + 1))
	fi
done
[ -n "$update" ] && exit 0
[ "$skipped" -gt 0 ] && echo "static-analysis: $skipped skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
