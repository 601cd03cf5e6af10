#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian packages sanso needs to build, test and run its lab.
# Run as root on Debian 12 or later.
set -e
export DEBIAN_FRONTEND=noninteractive
# --no-update: the caller (CI) has just run apt-get update.
[ "${1:-}" = --no-update ] || apt-get update
apt-get install -y --no-install-recommends \
	build-essential pkg-config clang libclang-rt-dev \
	libyaml-dev libnftnl-dev libmnl-dev libcmocka-dev libpsl-dev \
	publicsuffix libssl-dev zlib1g-dev libjansson-dev tzdata \
	nftables iproute2 conntrack netcat-openbsd iputils-ping \
	dnsmasq-base dnsutils mandoc graphviz patch rsyslog
# The message catalogues (msgfmt, xgettext: make, make pot, make
# check-i18n) and the ja_JP.UTF-8 locale tests/i18n/run.sh speaks
# Japanese in.
apt-get install -y --no-install-recommends gettext locales
if ! locale -a 2>/dev/null | grep -Eqi '^ja_JP\.utf-?8$'; then
	localedef -i ja_JP -f UTF-8 ja_JP.UTF-8
fi
# tests/lab/test_lifecycle.sh: an authoritative upstream, web servers on
# its addresses, the relays' fetches, the monitor's user.
apt-get install -y --no-install-recommends nsd python3 curl jq passwd
# tests/lab/test_ha.sh: the redundant pair (VRRP and state sync).
apt-get install -y --no-install-recommends keepalived conntrackd
# make check-ops: the operations tests (units, logrotate, forwarding,
# Ansible, static analysis, valgrind).
apt-get install -y --no-install-recommends \
	systemd logrotate rsyslog-gnutls openssl ansible ansible-lint \
	cppcheck clang-tidy valgrind shellcheck strace python3-jinja2 \
	util-linux procps man-db
# make deb and tests/ops/test_debian.sh: the Debian package.
apt-get install -y --no-install-recommends dpkg-dev debhelper fakeroot lintian
# tests/lab/test_report.sh: the report's screenshot by headless
# Chromium, with a Japanese font for the page in Japanese.
apt-get install -y --no-install-recommends chromium fonts-ipafont-gothic
# make bench: throughput and timing; libnetfilter-conntrack-dev for the
# replay's anchor (tests/bench/nfctparse.c, built by the bench only).
apt-get install -y --no-install-recommends iperf3 time jq \
	libnetfilter-conntrack-dev
