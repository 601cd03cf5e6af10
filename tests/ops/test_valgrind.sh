#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The commands that read zone files, under valgrind (memcheck): check,
# compile, diff, explain and graph on the example zone files and on a few
# golden files that fail (errors take other paths). Any invalid access,
# use of an uninitialised value, or leak (definite, indirect, possible)
# fails; the command's own exit status is not judged here.
set -u
# shellcheck source=tests/ops/lib.sh
. "$(dirname "$0")/lib.sh"
need valgrind
need_sanso

z=$OPS_ROOT/zones
g=$OPS_ROOT/tests/golden
# shellcheck disable=SC2054
vg=(valgrind -q --error-exitcode=99 --leak-check=full
	--show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --track-origins=yes)
runs=(
	"check $z/example-city.yaml"
	"check --format json $z/example-beta.yaml"
	"check --at 2027-03-01 $z/example-city.yaml"
	"compile $z/example-city.yaml"
	"compile $z/example-beta.yaml"
	"compile --at 2026-12-05T23:00 $z/example-city.yaml"
	"diff $z/example-city.yaml $z/example-beta.yaml"
	"diff --format markdown $z/example-city.yaml $z/example-beta.yaml"
	"diff --format json $z/example-beta.yaml $z/example-city.yaml"
	"explain $z/example-city.yaml --from 10.10.1.5 --to 10.40.0.10 --service tcp/8530"
	"explain $z/example-city.yaml --from 203.0.113.10 --to 10.10.1.5 --service tcp/22 --at 2026-12-05T23:00"
	"graph $z/example-city.yaml"
	"check $g/bad-alias-bomb.yaml"
	"check $g/bad-deep-nesting.yaml"
	"check $g/t8-fail-multihop.yaml"
	"compile $g/e004-fail-refs.yaml"
)
for r in "${runs[@]}"; do
	# shellcheck disable=SC2086
	"${vg[@]}" "$SANSO" $r >/dev/null 2>"$OPS_TMP/vg.err"
	if [ $? -eq 99 ]; then
		bad "valgrind: sanso $r: $(grep '^==' "$OPS_TMP/vg.err" | head -n 12)"
	else
		ok "valgrind clean: sanso ${r//$OPS_ROOT\//}"
	fi
done
finish
