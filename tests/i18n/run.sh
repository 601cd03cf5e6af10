#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The languages of sanso (make check-i18n):
#
#  - po/ja.po translates every marked string (none untranslated or
#    fuzzy) and po/sanso.pot is current: a string marked in src/ but
#    missing from either fails here (then: make pot, msgmerge, translate);
#  - under ja_JP.UTF-8, `sanso check` speaks Japanese with the codes,
#    positions, counts and exit status of LC_ALL=C, and its JSON has the
#    same keys and values but the messages;
#  - monitor.language: the same capture replayed gives English alerts with
#    en (and by default) and Japanese ones with ja, identical but the
#    message, with no locale at all available (LOCPATH empty, LC_ALL=C);
#    a bad value is E002 at its position;
#  - colour: only on a terminal (a pty by script(1)), never with NO_COLOR;
#  - -j gives what --format json gives, for every command that has it.
#
# Usage: tests/i18n/run.sh BIN   (from the repository root, after make)
# Needs: gettext (xgettext, msgcmp), jq, script (util-linux); the
# ja_JP.UTF-8 locale for the Japanese-output part, which says SKIP when
# the locale is not generated.

set -u
bin=${1:?usage: $0 BIN}
case $bin in
/*) ;;
*) bin=$PWD/$bin ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
cd "$root" || exit 2
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
export SANSO_LOCALEDIR=$root/${BUILD:-build}/locale TZ=UTC
unset LANGUAGE LC_MESSAGES LANG NO_COLOR
AT=2026-11-01

passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() {
	echo "FAIL: $*" >&2
	failed=$((failed + 1))
}
not() { ! "$@"; }
# expect MESSAGE COMMAND...: passes when COMMAND succeeds.
expect() {
	local msg=$1

	shift
	if "$@"; then
		ok
	else
		fail "$msg"
	fi
}
for tool in xgettext msgcmp msgfmt jq script; do
	if ! command -v $tool >/dev/null; then
		echo "$0: $tool is missing (Debian packages gettext, jq," \
			"util-linux)" >&2
		exit 2
	fi
done

# ---- the catalogue ----

# shellcheck disable=SC2086 # the keywords are separate words
xgettext --from-code=UTF-8 --language=C --add-comments=TRANSLATORS: \
	${XGETTEXT_KEYWORDS:?set by make check-i18n} --no-location \
	--sort-output -o "$tmp/fresh.pot" src/*.c 2>/dev/null ||
	fail "xgettext"
if msgcmp --use-untranslated po/sanso.pot "$tmp/fresh.pot" 2>"$tmp/err" &&
	msgcmp --use-untranslated "$tmp/fresh.pot" po/sanso.pot 2>>"$tmp/err"; then
	ok
else
	fail "po/sanso.pot is stale (make pot):"
	head -20 "$tmp/err" >&2
fi
if msgcmp po/ja.po "$tmp/fresh.pot" 2>"$tmp/err"; then
	ok
else
	fail "po/ja.po lacks translations of marked strings:"
	head -20 "$tmp/err" >&2
fi
stats=$(LC_ALL=C msgfmt --check --statistics -o /dev/null po/ja.po 2>&1)
case $stats in
*fuzzy* | *untranslated*) fail "po/ja.po: $stats" ;;
*" translated message"*) ok ;;
*) fail "po/ja.po: msgfmt --check: $stats" ;;
esac

# ---- Japanese output of check, the same codes and positions ----

# What a diagnostic line says for machines: position, severity, code.
frame() {
	sed -nE 's/^(([^ ]*:[0-9]+:[0-9]+: |[^ ]*: )?(error|warning)\[[^]]*\]:|([^ ]*: )?note:).*/\1/p' "$1"
}

if locale -a 2>/dev/null | grep -Eqi '^ja_JP\.utf-?8$'; then
	ja=ja_JP.UTF-8
	n=0
	for y in tests/golden/*.yaml; do
		LC_ALL=C "$bin" check --at $AT "$y" >"$tmp/c" 2>&1
		cst=$?
		LC_ALL=$ja "$bin" check --at $AT "$y" >"$tmp/j" 2>&1
		jst=$?
		[ "$cst" = "$jst" ] || fail "$y: exit $jst in Japanese, $cst in C"
		frame "$tmp/c" >"$tmp/cf"
		frame "$tmp/j" >"$tmp/jf"
		cmp -s "$tmp/cf" "$tmp/jf" ||
			fail "$y: positions or codes differ in Japanese"
		# The counts, in Japanese.
		sum=$(sed -nE 's/^([0-9]+) errors?, ([0-9]+) warnings?$/エラー \1 件、警告 \2 件/p' "$tmp/c")
		if [ -n "$sum" ] && ! grep -qxF "$sum" "$tmp/j"; then
			fail "$y: no \"$sum\" in Japanese"
		fi
		if [ -s "$tmp/cf" ] && cmp -s "$tmp/c" "$tmp/j"; then
			fail "$y: the findings are not in Japanese"
		fi
		LC_ALL=C "$bin" check -j --at $AT "$y" >"$tmp/c.json" 2>/dev/null
		LC_ALL=$ja "$bin" check -j --at $AT "$y" >"$tmp/j.json" \
			2>/dev/null
		if jq -e . "$tmp/c.json" >/dev/null 2>&1; then
			for f in c j; do
				jq -S 'map(del(.message, .note))' "$tmp/$f.json" \
					>"$tmp/$f.norm"
				jq -S 'map(keys)' "$tmp/$f.json" >"$tmp/$f.keys"
			done
			if ! cmp -s "$tmp/c.norm" "$tmp/j.norm" ||
				! cmp -s "$tmp/c.keys" "$tmp/j.keys"; then
				fail "$y: the JSON differs in Japanese but the messages"
			fi
		fi
		n=$((n + 1))
	done
	expect "only $n zone files compared" [ "$n" -gt 40 ]
	# One finding word for word (E004 with its suggestion).
	LC_ALL=$ja "$bin" check --at $AT tests/golden/e004-fail-refs.yaml \
		>"$tmp/j" 2>&1
	expect "e004-fail-refs: no Japanese E004" \
		grep -q 'error\[E004\]: 不明なゾーンまたはホスト「' "$tmp/j"
	# Usage, help and a command's error.
	LC_ALL=$ja "$bin" --help >"$tmp/j"
	expect "--help is not in Japanese" grep -q '^使い方: sanso COMMAND' "$tmp/j"
	LC_ALL=$ja "$bin" check --format xml zones/example-city.yaml \
		>/dev/null 2>"$tmp/j"
	st=$?
	expect "check --format xml: exit $st, $(cat "$tmp/j")" \
		grep -q '^sanso: check: 不明な形式「xml」' "$tmp/j"
	expect "check --format xml: exit $st" [ $st = 2 ]
	# English stays English under C: byte for byte as before.
	LC_ALL=C "$bin" --help >"$tmp/c"
	expect "--help under C is not English" \
		grep -q '^Usage: sanso COMMAND' "$tmp/c"
else
	echo "SKIP: the ja_JP.UTF-8 locale is not generated (localedef -i" \
		"ja_JP -f UTF-8 ja_JP.UTF-8): Japanese check output not tested"
fi

# ---- monitor.language, with no locale at all ----

mkdir -p "$tmp/nolocale"
replay() {	# LANGUAGE_LINE OUT
	local dir=$tmp/st-$2

	mkdir -p "$dir" && chmod 700 "$dir"
	if [ -n "$1" ]; then
		sed "s/^monitor:\$/monitor:\\n  language: $1/" \
			tests/replay/lab-monitor.yaml >"$tmp/$2.yaml"
	else
		cp tests/replay/lab-monitor.yaml "$tmp/$2.yaml"
	fi
	LOCPATH=$tmp/nolocale LC_ALL=ja_JP.UTF-8 LANG=ja_JP.UTF-8 \
		"$bin" monitor "$tmp/$2.yaml" --no-dnsguard \
		--replay tests/replay/lab-monitor.pcap --jsonl "$tmp/$2.jsonl" \
		--state-dir "$dir" >/dev/null 2>&1
}
replay "" default
replay en en
replay ja ja
for f in default en ja; do
	[ -s "$tmp/$f.jsonl" ] || fail "monitor.language $f: no alerts"
	jq -cS 'del(.message, .prev)' "$tmp/$f.jsonl" >"$tmp/$f.rest"
	jq -r .message "$tmp/$f.jsonl" >"$tmp/$f.msg"
done
expect "monitor.language en differs from the default" \
	cmp -s "$tmp/default.msg" "$tmp/en.msg"
expect "monitor.language ja changes more than the messages" \
	cmp -s "$tmp/en.rest" "$tmp/ja.rest"
expect "monitor.language en: $(head -2 "$tmp/en.msg")" \
	grep -q 'no flow permits it\|used outside schedule' "$tmp/en.msg"
if grep -q 'フロー「' "$tmp/ja.msg" && ! grep -q 'used outside schedule' \
	"$tmp/ja.msg"; then
	ok
else
	fail "monitor.language ja: $(head -2 "$tmp/ja.msg")"
fi
expect "monitor.language: not the same number of alerts" \
	[ "$(wc -l <"$tmp/en.msg")" = "$(wc -l <"$tmp/ja.msg")" ]
# A bad value: E002 at the value, exit 1, nothing else changes.
sed 's/^monitor:$/monitor:\n  language: fr/' tests/replay/lab-monitor.yaml \
	>"$tmp/fr.yaml"
line=$(grep -n '^  language: fr$' "$tmp/fr.yaml" | cut -d: -f1)
LC_ALL=C "$bin" check "$tmp/fr.yaml" >"$tmp/out" 2>&1
st=$?
if [ $st = 1 ] && grep -qF "$tmp/fr.yaml:$line:13: error[E002]: unknown monitor.language \"fr\" (en, ja)" "$tmp/out"; then
	ok
else
	fail "monitor.language fr: exit $st, $(cat "$tmp/out")"
fi

# ---- colour ----

bad=tests/golden/t1-fail-external.yaml
esc=$(printf '\033')
script -qec "$bin check --at $AT $bad" /dev/null >"$tmp/pty" 2>&1
expect "no red error on a terminal: $(head -2 "$tmp/pty" | cat -v)" \
	grep -q "${esc}\\[1;31merror${esc}\\[m\\[T1\\]" "$tmp/pty"
expect "no cyan note on a terminal" \
	grep -q "${esc}\\[1;36mnote${esc}\\[m: " "$tmp/pty"
NO_COLOR='' script -qec "$bin check --at $AT $bad" /dev/null >"$tmp/pty" 2>&1
expect "an empty NO_COLOR turns colour off" \
	grep -q "${esc}\\[1;31merror" "$tmp/pty"
NO_COLOR=1 script -qec "$bin check --at $AT $bad" /dev/null >"$tmp/pty" 2>&1
expect "colour despite NO_COLOR=1" not grep -q "$esc" "$tmp/pty"
"$bin" check --at $AT $bad >"$tmp/plain" 2>&1
expect "colour into a pipe" not grep -q "$esc" "$tmp/plain"
grep -q 'warning\[W' tests/golden/w03-fail-soon.err 2>/dev/null && {
	script -qec "$bin check --at $AT tests/golden/w03-fail-soon.yaml" \
		/dev/null >"$tmp/pty" 2>&1
	expect "no magenta warning on a terminal" \
		grep -q "${esc}\\[1;35mwarning${esc}\\[m\\[W03\\]" "$tmp/pty"
}

# ---- -j is --format json ----

same_json() {	# NAME FILTER ARGS...
	local name=$1 filter=$2

	shift 2
	"$bin" "$@" -j >"$tmp/j1" 2>/dev/null
	local s1=$?
	"$bin" "$@" --format json >"$tmp/j2" 2>/dev/null
	local s2=$?
	if [ "$s1" = "$s2" ] && jq -e . "$tmp/j1" >/dev/null 2>&1 &&
		cmp -s <(jq -S "$filter" "$tmp/j1") <(jq -S "$filter" "$tmp/j2")
	then
		ok
	else
		fail "$name: -j (exit $s1) is not --format json (exit $s2)"
	fi
}
mkdir -p "$tmp/state" && chmod 700 "$tmp/state"
same_json check . check --at $AT tests/golden/e004-fail-refs.yaml
same_json diff . diff --at $AT tests/golden-diff/base.yaml \
	zones/example-city.yaml
same_json explain . explain zones/example-city.yaml --from 10.10.1.5 \
	--to 10.20.1.1 --service tcp/443 --at 2026-11-24T10:00
same_json status . status --state-dir "$tmp/state"
same_json report 'del(.generated)' report --state-dir "$tmp/state" \
	--alerts "$tmp/en.jsonl" --no-verify

echo "i18n: $passed passed, $failed failed"
[ $failed = 0 ]
