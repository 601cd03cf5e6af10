#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make demo`: builds the namespace lab for a zone file (tests/lab/lib.sh),
# loads the ruleset into the gateway namespace, sends every probe of the
# plan and prints what really got through: a matrix of zones (rows send,
# columns receive) listing the services that opened, a table of the
# flows, then a summary; then `sanso report` of the run (the monitor
# watched the probes) into BUILD/demo-report.html and .json. Exits 0
# when every probe got the verdict the policy gives it, 1 otherwise.
#
# Usage: demo.sh BIN FILE
#
# Needs root (network namespaces); nothing outside the lab's own
# namespaces sends or receives a packet.

set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 BIN FILE" >&2
	exit 2
fi
SANSO=$1	# read by lib.sh
export SANSO
file=$2
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root, to make network namespaces" >&2
	exit 1
fi
[ -r "$file" ] || { echo "demo: $file: cannot read" >&2; exit 2; }

lab_init || exit 1
start=$(date +%s)
echo "Building the lab for $file ..."
# The monitor watches the probes (when apply made a deployment it can
# judge by), so that the demo ends with a report of its own run.
ALERTS=$LAB_DIR/alerts.jsonl
MON=
demo_run()
{
	lab_plan "$file" && lab_build && lab_load "$file" || return 1
	if [ "$LAB_LOADED_BY" = apply ] &&
		"$SANSO" report --help >/dev/null 2>&1; then
		ip netns exec "$LAB_GW" "$SANSO" monitor --state-dir \
			"$LAB_DIR/state" --jsonl "$ALERTS" --no-dnsguard \
			>"$LAB_DIR/mon.out" 2>"$LAB_DIR/mon.err" &
		MON=$!
		LAB_PIDS+=("$MON")
		for _ in $(seq 50); do
			grep -q watching "$LAB_DIR/mon.err" 2>/dev/null && break
			sleep 0.1
		done
	fi
	lab_fqdn && lab_serve && lab_probe && lab_judge
}
if ! demo_run >"$LAB_DIR/run.msg"; then
	cat "$LAB_DIR/run.msg"
	echo "demo: the lab could not be built or run" >&2
	exit 1
fi
case $LAB_LOADED_BY in
apply) how="sanso apply" ;;
*) how="sanso compile | nft -f -" ;;
esac

awk -v judged="$LAB_DIR/judged" -v how="$how" -v gw="$LAB_GW" \
    -v secs="$(($(date +%s) - start))" -v file="$file" '
function svc(proto, port) {
	if (proto == "icmp" || proto == "icmpv6")
		return "ping" (proto == "icmpv6" ? "6" : "")
	return proto "/" port
}
function pad(s, n) {
	return sprintf("%-" n "s", s)
}
BEGIN {
	while ((getline l < judged) > 0) {
		split(l, f, " ")
		res[f[1]] = f[3]
		status[f[1]] = f[4]
	}
}
$1 == "site" { site = $2; model = $3 }
$1 == "time" { when = $3 }
$1 == "zone" { zones[++nz] = $2; tier[$2] = $3 }
$1 == "fqdn" { fqset[$4] = fqset[$4] (fqset[$4] == "" ? "" : ",") $2 }
$1 == "probe" {
	id = $2; v = $3; s = $5; d = $7
	r = res[id]; st = status[id]
	n++
	if (st == "pass") npass++
	else if (st == "fail") nfail++
	else nskip++
	if (r == "open") nopen++
	else nclosed++
	if (st == "fail")
		bad[++nbad] = sprintf("  probe %s: %s %s -> %s %s %s (%s%s): " \
				      "policy %s, kernel %s", id, s, $6, d,
				      $8, svc($4, $9), $10,
				      $11 == "-" ? "" : " " $11, v,
				      r == "open" ? "let it through" : \
				      r == "closed" ? "dropped it" : r)
	if (d == "gateway") {
		if (r == "open")
			sshopen[s] = 1
		next
	}
	# A matrix cell lists what opened, and what should have.
	if (r == "open" || v == "accept") {
		mark = r == "open" && v == "accept" ? "" : \
		       r == "open" ? " !!" : " xx"
		key = s SUBSEP d SUBSEP svc($4, $9) mark
		if (!(key in seen)) {
			seen[key] = 1
			cell[s, d] = cell[s, d] (cell[s, d] == "" ? "" : "\n") \
				     svc($4, $9) mark
		}
	}
	if ($10 == "flow" || $10 == "fqdn")
		flows[++nf] = sprintf("%s\t%s %s\t%s %s%s\t%s\t%s\t%s\t%s",
				      $11, s, $6, d, $8,
				      $10 == "fqdn" ? " (fqdn:" fqset[$8] ")" : "",
				      svc($4, $9),
				      r == "open" ? "OPEN" : "CLOSED",
				      v == "closed" ? "closed now (schedule)" : \
				      v, st == "pass" ? "ok" : "MISMATCH")
}
END {
	printf "\nsanso lab: %s (site %s, model %s) at %s\n", file, site,
	       model, when
	printf "ruleset loaded with %s into namespace %s\n\n", how, gw

	# Column width: the longest zone name or service line.
	w = 8
	for (i = 1; i <= nz; i++)
		if (length(zones[i]) + 1 > w) w = length(zones[i]) + 1
	for (k in cell) {
		m = split(cell[k], lines, "\n")
		for (j = 1; j <= m; j++)
			if (length(lines[j]) + 1 > w) w = length(lines[j]) + 1
	}
	print "Reachability: what opened from each zone (row) to each " \
	      "zone (column)"
	line = pad("from \\ to", w + 1)
	for (j = 1; j <= nz; j++)
		line = line pad(zones[j], w + 1)
	sub(/ +$/, "", line)
	print line
	for (i = 1; i <= nz; i++) {
		a = zones[i]
		rows = 1
		for (j = 1; j <= nz; j++) {
			b = zones[j]
			if (a == b) c = "."
			else if (cell[a, b] == "") c = "-"
			else c = cell[a, b]
			cnt[j] = split(c, txt, "\n")
			for (k = 1; k <= cnt[j]; k++)
				t[j, k] = txt[k]
			if (cnt[j] > rows) rows = cnt[j]
		}
		for (k = 1; k <= rows; k++) {
			line = pad(k == 1 ? a : "", w + 1)
			for (j = 1; j <= nz; j++)
				line = line pad(k <= cnt[j] ? t[j, k] : "",
						w + 1)
			sub(/ +$/, "", line)
			print line
		}
	}
	print "  (\".\" the zone itself, \"-\" nothing opened; \"!!\" " \
	      "opened against the policy, \"xx\" the policy opens it but " \
	      "it stayed closed)"

	print "\nFlows, as probed"
	fw[1] = 4; fw[2] = 4; fw[3] = 2; fw[4] = 7; fw[5] = 4; fw[6] = 6; fw[7] = 5
	hdr = "flow\tfrom\tto\tservice\tseen\tpolicy\tcheck"
	split(hdr, h, "\t")
	for (i = 1; i <= 7; i++)
		if (length(h[i]) > fw[i]) fw[i] = length(h[i])
	for (i = 1; i <= nf; i++) {
		split(flows[i], f, "\t")
		for (j = 1; j <= 7; j++)
			if (length(f[j]) > fw[j]) fw[j] = length(f[j])
	}
	line = ""
	for (j = 1; j <= 7; j++)
		line = line pad(h[j], fw[j] + 2)
	sub(/ +$/, "", line)
	print "  " line
	for (i = 1; i <= nf; i++) {
		split(flows[i], f, "\t")
		line = ""
		for (j = 1; j <= 7; j++)
			line = line pad(f[j], fw[j] + 2)
		sub(/ +$/, "", line)
		print "  " line
	}

	ssh = ""
	for (i = 1; i <= nz; i++)
		if (zones[i] in sshopen)
			ssh = ssh (ssh == "" ? "" : ", ") zones[i]
	printf "\nGateway SSH (tcp/22 to the gateway itself) opened from: " \
	       "%s\n", ssh == "" ? "no zone" : ssh
	printf "\n%d probes in %d s: %d opened, %d stayed closed; " \
	       "%d as the policy says, %d not%s\n", n, secs, nopen, nclosed,
	       npass, nfail, nskip ? sprintf(", %d skipped", nskip) : ""
	if (nfail) {
		print "Mismatches between the kernel and the policy:"
		for (i = 1; i <= nbad; i++)
			print bad[i]
	} else {
		print "Every probe got the verdict the policy gives it " \
		      "(flows, wrong ports, wrong hosts, reverse " \
		      "directions, every pair of zones, the gateway SSH)."
	}
	exit nfail ? 1 : 0
}' "$LAB_DIR/plan"
rc=$?

# The report of this run: the deployment, the model, the alerts the
# probes raised (the ones the policy drops are `blocked`).
if [ -n "$MON" ]; then
	sleep 1
	kill -TERM "$MON"
	wait "$MON"
	out=$(dirname "$SANSO")/demo-report
	if "$SANSO" report --state-dir "$LAB_DIR/state" --alerts "$ALERTS" \
		>"$out.html" && "$SANSO" report --state-dir "$LAB_DIR/state" \
		--alerts "$ALERTS" --format json >"$out.json"; then
		echo
		echo "Report of this run: $out.html ($(jq -r \
			'"\(.alerts.total) alerts: " + ([.alerts.by_type |
			to_entries[] | select(.value > 0) |
			"\(.value) \(.key)"] | join(", "))' "$out.json" \
			2>/dev/null)); JSON: $out.json"
	else
		echo "demo: sanso report failed" >&2
	fi
fi
exit "$rc"
