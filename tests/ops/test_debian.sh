#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Debian package: contrib/debian/build.sh builds it (several minutes
# with the package's own tests; DEB_BUILD_OPTIONS=nocheck skips them),
# lintian reports only the tags explained in contrib/debian/README, and,
# as root with OPS_DEB_INSTALL=1, the package installs (user sanso, the
# directories and their modes, units enabled and verified), `sanso check`
# of the installed example zone file passes, and it purges again. The
# install touches this machine (a system user, files under /usr, /etc,
# /var): run it on a throwaway machine or container.
set -u
# shellcheck source=tests/ops/lib.sh
. "$(dirname "$0")/lib.sh"
need dpkg-buildpackage dh fakeroot git

T=$OPS_TMP
if "$OPS_ROOT/contrib/debian/build.sh" "$T/deb" >"$T/build.log" 2>&1; then
	deb=$(find "$T/deb" -name 'sanso_*.deb' | head -n 1)
	ok "contrib/debian/build.sh: $(basename "$deb")"
else
	bad "package build: $(tail -n 20 "$T/build.log")"
	finish
fi
if git -C "$OPS_ROOT" status --porcelain --ignored debian 2>/dev/null | grep -q .; then
	bad "the build left debian/ in the tree"
fi

if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 -I "$deb" >"$T/lintian.out" 2>&1
	# Tags explained in the README are "lintian: TAG" list items there.
	# shellcheck disable=SC2016
	sed -n 's/^- `\([a-z0-9.-]*\)`.*/\1/p' "$OPS_ROOT/contrib/debian/README" |
		sort -u >"$T/explained"
	sed -n 's/^[EWI]: sanso[^:]*: \([a-z0-9.-]*\).*/\1/p' "$T/lintian.out" |
		sort -u >"$T/tags"
	new=$(comm -23 "$T/tags" "$T/explained" | tr '\n' ' ')
	if [ -z "$new" ]; then
		ok "lintian: $(wc -l <"$T/tags") tag(s), each explained in contrib/debian/README"
	else
		bad "lintian tags not explained in contrib/debian/README: $new"
		sed 's/^/  /' "$T/lintian.out"
	fi
else
	skip "lintian is not installed"
fi

if [ -z "${OPS_DEB_INSTALL-}" ] || [ "$(id -u)" -ne 0 ]; then
	skip "install, check, purge: OPS_DEB_INSTALL=1 and root (changes this machine)"
	finish
fi
had_user=
getent passwd sanso >/dev/null && had_user=1
if dpkg -i "$deb" >"$T/install.log" 2>&1; then
	ok "dpkg -i $(basename "$deb")"
else
	bad "dpkg -i: $(tail -n 10 "$T/install.log")"
	finish
fi
if [ "$(stat -c %U:%G:%a /var/lib/sanso)" = root:sanso:2750 ] &&
	[ "$(stat -c %U:%G:%a /etc/sanso)" = root:sanso:750 ] &&
	getent passwd sanso | grep -q nologin; then
	ok "postinst: user sanso, /var/lib/sanso root:sanso 2750, /etc/sanso root:sanso 0750"
else
	bad "postinst: $(getent passwd sanso); $(stat -c '%n %U:%G:%a' /var/lib/sanso /etc/sanso)"
fi
if /usr/sbin/sanso check /usr/share/sanso/zones/example-city.yaml >"$T/check.out" 2>&1; then
	ok "installed: sanso check /usr/share/sanso/zones/example-city.yaml: $(tail -n 1 "$T/check.out")"
else
	bad "installed sanso check: $(cat "$T/check.out")"
fi
if systemctl is-enabled sanso-apply.service sanso-monitor.service >"$T/enabled" 2>&1 &&
	[ "$(sort -u "$T/enabled")" = enabled ]; then
	ok "units enabled"
else
	bad "units: $(cat "$T/enabled")"
fi
if out=$(systemd-analyze verify /lib/systemd/system/sanso-apply.service \
	/lib/systemd/system/sanso-monitor.service 2>&1) && [ -z "$out" ]; then
	ok "installed units: systemd-analyze verify clean"
else
	bad "installed units: $out"
fi
if [ -e /etc/logrotate.d/sanso ] &&
	logrotate -d /etc/logrotate.d/sanso >"$T/lr.out" 2>&1 &&
	! grep -q '^error' "$T/lr.out"; then
	ok "installed /etc/logrotate.d/sanso parses"
else
	bad "logrotate file missing or rejected: $(cat "$T/lr.out" 2>/dev/null)"
fi
if dpkg --purge sanso >"$T/purge.log" 2>&1 && [ ! -e /usr/sbin/sanso ]; then
	ok "dpkg --purge sanso"
else
	bad "purge: $(tail -n 10 "$T/purge.log")"
fi
# What the test itself created.
if [ -z "$had_user" ]; then
	deluser --quiet --system sanso >/dev/null 2>&1 || userdel sanso 2>/dev/null
	getent group sanso >/dev/null && groupdel sanso 2>/dev/null
	rmdir /var/lib/sanso /etc/sanso 2>/dev/null
fi
finish
