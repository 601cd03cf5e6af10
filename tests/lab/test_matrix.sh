#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The reachability matrix of a zone file, end to end: builds the lab
# (tests/lab/lib.sh), loads the ruleset into the gateway namespace and
# asserts that every probe of the plan gets the verdict policy_decide()
# gives it: the flows open (schedules as of now), wrong ports, wrong
# hosts, reverse directions and every pair of zones closed, and the
# gateway's own SSH open only from gateway.ssh_from.
#
# Usage: test_matrix.sh FILE
#        test_matrix.sh --schedule
#
# --schedule writes a zone file with dated windows and weekly hours
# around the current time and asserts, besides the matrix, that the
# flows whose schedule contains now open and the others stay closed.
#
# Needs root and network namespaces. SANSO names the sanso binary.
# Prints each mismatch and a final "N passed, N failed" line; exits 1
# on any failure.

set -u

# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

usage()
{
	echo "usage: $0 FILE | --schedule" >&2
	exit 2
}

[ $# -eq 1 ] || usage

extra_pass=0
extra_fail=0

check()
{
	if [ "$2" = "$3" ]; then
		extra_pass=$((extra_pass + 1))
	else
		extra_fail=$((extra_fail + 1))
		echo "FAIL $1: expected $2, got $3"
	fi
}

# "VERDICT RESULT" of the flow probe of flow $1.
flow_outcome()
{
	local id v
	read -r id v < <(awk -v f="$1" '$1 == "probe" && $10 == "flow" &&
		$11 == f { print $2, $3; exit }' "$LAB_DIR/plan")
	if [ -z "${id-}" ]; then
		echo "none none"
		return
	fi
	echo "$v $(lab_result "$id")"
}

# Local wall time in the zone file's timezone, `date -d` offset $1.
local_time()
{
	TZ=Asia/Tokyo date -d "@$(($(date +%s) + $1))" "+$2"
}

schedule_file()
{
	local f=$1 ymd=%Y-%m-%dT%H:%M
	local now_from now_to later_from later_to past_from past_to
	now_from=$(local_time -3600 "$ymd")
	now_to=$(local_time 3600 "$ymd")
	later_from=$(local_time 86400 "$ymd")
	later_to=$(local_time 90000 "$ymd")
	past_from=$(local_time -90000 "$ymd")
	past_to=$(local_time -86400 "$ymd")
	cat >"$f" <<EOF
# Written by tests/lab/test_matrix.sh --schedule; times in Asia/Tokyo.
version: 1
site: lab-schedule
model: alpha
timezone: Asia/Tokyo
schedules:
  window-now:
    windows:
      - { from: "$now_from", to: "$now_to" }
  window-later:
    windows:
      - { from: "$later_from", to: "$later_to" }
      - { from: "$past_from", to: "$past_to" }
  hours-now:
    hours: ["$(local_time -3600 %H:%M)-$(local_time 3600 %H:%M)"]
  hours-later:
    hours: ["$(local_time 7200 %H:%M)-$(local_time 10800 %H:%M)"]
zones:
  lgwan:
    tier: lgwan
    interfaces: [ens5]
    networks: [10.20.0.0/16, "fd00:20::/48"]
  mgmt:
    tier: mgmt
    interfaces: [ens8]
    networks: [10.99.0.0/24, "fd00:99::/48"]
hosts:
  jump: { zone: mgmt, address: 10.99.0.10 }
  jump6: { zone: mgmt, address: "fd00:99::10" }
flows:
  - name: open-window
    from: [jump, jump6]
    to: lgwan
    services: [tcp/2201, udp/2201]
    schedule: window-now
  - name: closed-window
    from: [jump, jump6]
    to: lgwan
    services: [tcp/2211, udp/2211]
    schedule: window-later
  - name: open-hours
    from: [jump, jump6]
    to: lgwan
    services: [tcp/2221]
    schedule: hours-now
  - name: closed-hours
    from: [jump, jump6]
    to: lgwan
    services: [tcp/2231]
    schedule: hours-later
gateway:
  ssh_from: [mgmt]
EOF
}

lab_init || exit 1
start=$(date +%s)
if [ "$1" = --schedule ]; then
	file=$LAB_DIR/schedule.yaml
	schedule_file "$file"
	name="schedules around now"
else
	file=$1
	name=$file
	[ -r "$file" ] || { echo "$0: $file: cannot read" >&2; exit 2; }
fi

if ! lab_run "$file"; then
	echo "lab: $name: the lab could not be built or run"
	echo "0 passed, 1 failed"
	exit 1
fi

if [ "$1" = --schedule ]; then
	check "open-window opens" "accept open" "$(flow_outcome open-window)"
	check "closed-window stays closed" "closed closed" \
		"$(flow_outcome closed-window)"
	check "open-hours opens" "accept open" "$(flow_outcome open-hours)"
	check "closed-hours stays closed" "closed closed" \
		"$(flow_outcome closed-hours)"
fi

# The gateway's SSH, on its own: open from ssh_from zones only.
ssh_open=$(awk 'NR == FNR { if ($4 == "pass" || $4 == "fail") r[$1] = $3
			    next }
	$1 == "probe" && $7 == "gateway" && r[$2] == "open" { print $5 }' \
	"$LAB_DIR/judged" "$LAB_DIR/plan" | sort -u | paste -sd ' ')
ssh_closed=$(awk 'NR == FNR { if ($4 == "pass" || $4 == "fail") r[$1] = $3
			      next }
	$1 == "probe" && $7 == "gateway" && r[$2] == "closed" { print $5 }' \
	"$LAB_DIR/judged" "$LAB_DIR/plan" | sort -u | paste -sd ' ')
ssh_other=$(for z in $ssh_open; do
	[ "${LAB_ZTIER[$z]}" = mgmt ] || echo "$z"
done | tr '\n' ' ')
check "gateway SSH reachable from no zone but mgmt ones" "" "$ssh_other"
if grep -q '^probe [0-9]* accept tcp [^ ]* [^ ]* gateway ' "$LAB_DIR/plan"; then
	check "gateway SSH reachable from gateway.ssh_from" yes \
		"$([ -n "$ssh_open" ] && echo yes || echo no)"
fi

pass=$((LAB_PASS + extra_pass))
fail=$((LAB_FAIL + extra_fail))
echo "lab: $name: ${LAB_PASS} probes matched, ${LAB_FAIL} did not," \
	"${LAB_SKIP} skipped; gateway SSH open from: ${ssh_open:-none};" \
	"closed from: ${ssh_closed:-none} ($LAB_LOADED_BY," \
	"$(($(date +%s) - start)) s)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
