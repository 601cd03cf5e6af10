#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Builds the Debian binary package from the working tree without touching
# it: the tracked and untracked (not ignored) files go into a temporary
# copy, contrib/debian becomes debian/ there, and dpkg-buildpackage -us
# -uc -b runs in it. The .deb and .buildinfo/.changes land in OUTDIR
# (default build/deb).
#
#   contrib/debian/build.sh [OUTDIR]
#
# Needs: dpkg-dev debhelper fakeroot and the Build-Depends of
# contrib/debian/control (dpkg-checkbuilddeps says which are missing).
# DEB_BUILD_OPTIONS=nocheck skips the tests and turns on the nocheck build
# profile too, so that the test-only Build-Depends (cmocka, mandoc) need
# not be installed; the build runs parallel=$(nproc) unless
# DEB_BUILD_OPTIONS names a parallel= of its own.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build/deb}
case $out in
/*) ;;
*) out=$PWD/$out ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sanso-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

version=$(dpkg-parsechangelog -l "$top/contrib/debian/changelog" -S Version)
src=$tmp/sanso-$version
mkdir -p "$src"
cd "$top"
# The tree as it is now, without build products or git's own files.
git ls-files -z --cached --others --exclude-standard |
	grep -zv -e '^build/' -e '^debian/' |
	xargs -0 tar -cf - --no-recursion -- | tar -xf - -C "$src"
cp -r contrib/debian "$src/debian"
rm -f "$src/debian/build.sh" "$src/debian/README"

profiles=
case " ${DEB_BUILD_OPTIONS-} " in
*" nocheck "*) profiles=-Pnocheck ;;
esac
case " ${DEB_BUILD_OPTIONS-} " in
*" parallel="*) ;;
*)
	DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc)"
	export DEB_BUILD_OPTIONS
	;;
esac

cd "$src"
# shellcheck disable=SC2086  # empty or one word
dpkg-checkbuilddeps $profiles
# shellcheck disable=SC2086
dpkg-buildpackage -us -uc -b $profiles
mkdir -p "$out"
cp "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes "$out"/
ls -1 "$out"/*.deb
