#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make install` and `make uninstall` into a DESTDIR: every file lands
# where README.md says, with its mode; the installed units name the
# installed binary; the installed binary checks the installed example
# zone files (their holiday list beside them); uninstall removes every
# file install made and nothing else.
set -u
# shellcheck source=tests/ops/lib.sh
. "$(dirname "$0")/lib.sh"
need make install
need_sanso

T=$OPS_TMP
D=$T/dest
mkdir -p "$D/etc/keep"
echo "not sanso's" >"$D/etc/keep/file"
args=(-C "$OPS_ROOT" -s DESTDIR="$D" PREFIX=/usr SYSCONFDIR=/etc
	UNITDIR=/lib/systemd/system)
if make "${args[@]}" install >"$T/install.log" 2>&1; then
	ok "make install DESTDIR=… PREFIX=/usr"
else
	bad "make install: $(tail -n 10 "$T/install.log")"
	finish
fi

want=(
	"usr/sbin/sanso 755"
	"usr/share/man/man8/sanso.8 644"
	"usr/share/man/man5/sanso-zones.5 644"
	"usr/share/man/ja/man8/sanso.8 644"
	"usr/share/man/ja/man5/sanso-zones.5 644"
	"usr/share/sanso/zones/example-city.yaml 644"
	"usr/share/sanso/zones/holidays-jp.yaml 644"
	"lib/systemd/system/sanso-apply.service 644"
	"lib/systemd/system/sanso-monitor.service 644"
	"lib/systemd/system/sanso-watchdog.service 644"
	"etc/logrotate.d/sanso 644"
	"usr/share/locale/ja/LC_MESSAGES/sanso.mo 644"
)
missing=
for w in "${want[@]}"; do
	read -r f mode <<<"$w"
	if [ ! -f "$D/$f" ] || [ "$(stat -c %a "$D/$f")" != "$mode" ]; then
		missing+=" $f($(stat -c %a "$D/$f" 2>/dev/null || echo absent))"
	fi
done
if [ -z "$missing" ]; then
	ok "installed: binary, man pages, example zones and holidays, units, logrotate, with their modes"
else
	bad "not installed as expected:$missing"
fi

if grep -h '^Exec' "$D"/lib/systemd/system/sanso-*.service |
	grep -q 'sanso' &&
	! grep -h '^Exec' "$D"/lib/systemd/system/sanso-*.service |
		grep 'sanso ' | grep -vq '/usr/sbin/sanso '; then
	ok "installed units run /usr/sbin/sanso"
else
	bad "installed units: $(grep -h '^Exec' "$D"/lib/systemd/system/sanso-*.service)"
fi

# man -L ja finds the Japanese pages, man -L en the English ones.
if command -v man >/dev/null; then
	ja8=$(MANPATH="$D/usr/share/man" man -L ja -w sanso 2>&1)
	ja5=$(MANPATH="$D/usr/share/man" man -L ja -w sanso-zones 2>&1)
	en8=$(MANPATH="$D/usr/share/man" man -L en -w sanso 2>&1)
	if [ "$ja8" = "$D/usr/share/man/ja/man8/sanso.8" ] &&
		[ "$ja5" = "$D/usr/share/man/ja/man5/sanso-zones.5" ] &&
		[ "$en8" = "$D/usr/share/man/man8/sanso.8" ]; then
		ok "man -L ja finds the Japanese sanso(8) and sanso-zones(5), -L en the English"
	else
		bad "man -w: ja [$ja8] [$ja5], en [$en8]"
	fi
fi

n=0
for z in "$D"/usr/share/sanso/zones/example-*.yaml; do
	if "$D/usr/sbin/sanso" check "$z" >"$T/check.out" 2>&1; then
		n=$((n + 1))
	else
		bad "installed sanso check $(basename "$z"): $(tail -n 3 "$T/check.out")"
	fi
done
[ $n -gt 0 ] && ok "installed sanso checks $n installed example zone file(s)"

# The Japanese catalogue where the installed binary looks for it.
if grep -aq '/usr/share/locale' "$D/usr/sbin/sanso" &&
	! grep -aq '/usr/local/share/locale' "$D/usr/sbin/sanso"; then
	ok "installed sanso reads its catalogue from /usr/share/locale"
else
	bad "installed sanso does not look in /usr/share/locale"
fi
if locale -a 2>/dev/null | grep -Eqi '^ja_JP\.utf-?8$'; then
	if SANSO_LOCALEDIR=$D/usr/share/locale LC_ALL=ja_JP.UTF-8 \
		"$D/usr/sbin/sanso" --help | grep -q '^使い方'; then
		ok "installed catalogue: Japanese under ja_JP.UTF-8"
	else
		bad "installed catalogue: no Japanese under ja_JP.UTF-8"
	fi
fi

# A second prefix: the units follow BINDIR.
D2=$T/dest2
if make -C "$OPS_ROOT" -s DESTDIR="$D2" PREFIX=/opt/sanso \
	UNITDIR=/lib/systemd/system install >"$T/install2.log" 2>&1 &&
	grep -q '^ExecStart=/opt/sanso/sbin/sanso monitor' \
		"$D2/lib/systemd/system/sanso-monitor.service"; then
	ok "PREFIX=/opt/sanso: the monitor unit runs /opt/sanso/sbin/sanso"
else
	bad "PREFIX=/opt/sanso: $(grep -h '^ExecStart' "$D2"/lib/systemd/system/sanso-monitor.service 2>&1)"
fi

if make "${args[@]}" uninstall >"$T/uninstall.log" 2>&1; then
	left=$(find "$D" -type f ! -path "$D/etc/keep/file")
	if [ -z "$left" ] && [ -f "$D/etc/keep/file" ]; then
		ok "make uninstall removes every installed file and nothing else"
	else
		bad "after uninstall: left [$left]; other file kept: $([ -f "$D/etc/keep/file" ] && echo yes || echo no)"
	fi
else
	bad "make uninstall: $(tail -n 10 "$T/uninstall.log")"
fi
finish
