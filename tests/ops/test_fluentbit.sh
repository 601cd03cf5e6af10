#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# contrib/fluent-bit: Fluent Bit is not in Debian 12, so by default this
# checks the configuration's structure (the tail input reads the file
# logrotate rotates, the parser filter keeps the raw line, the parser the
# filter names exists) and that the parser's Time_Format reads the "time"
# of real alert lines (written by `sanso monitor --replay`). With
# fluent-bit on PATH it also runs `fluent-bit --dry-run` on the files.
set -u
# shellcheck source=tests/ops/lib.sh
. "$(dirname "$0")/lib.sh"
need python3
need_sanso

dir=$OPS_ROOT/contrib/fluent-bit
T=$OPS_TMP
"$SANSO" monitor "$OPS_ROOT/tests/replay/lab-monitor.yaml" \
	--replay "$OPS_ROOT/tests/replay/lab-monitor.pcap" \
	--state-dir "$T/state" --jsonl "$T/alerts.jsonl" >/dev/null 2>&1

if out=$(python3 - "$dir/sanso.conf" "$dir/parsers-sanso.conf" \
	"$OPS_ROOT/contrib/logrotate/sanso" "$T/alerts.jsonl" <<'PY'
import datetime, json, re, sys

def sections(path):
    out, cur = [], None
    for raw in open(path):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"\[([A-Z]+)\]", line)
        if m:
            cur = {"_": m.group(1)}
            out.append(cur)
            continue
        if cur is None or " " not in line:
            sys.exit(f"{path}: stray line {line!r}")
        k, v = line.split(None, 1)
        cur[k.lower()] = v.strip()
    return out

conf, parsers = sections(sys.argv[1]), sections(sys.argv[2])
rotated = re.search(r"^(/\S+) \{", open(sys.argv[3]).read(), re.M).group(1)
inp = [s for s in conf if s["_"] == "INPUT"]
flt = [s for s in conf if s["_"] == "FILTER"]
svc = [s for s in conf if s["_"] == "SERVICE"]
assert len(inp) == 1 and inp[0]["name"] == "tail", "one tail input"
assert inp[0]["path"] == rotated, f"tail reads {inp[0]['path']}, logrotate rotates {rotated}"
assert "db" in inp[0], "the tail input keeps its offset in a DB"
assert svc and svc[0]["parsers_file"] == "parsers-sanso.conf"
assert len(flt) == 1 and flt[0]["name"] == "parser"
assert flt[0]["key_name"] == "log" and flt[0]["preserve_key"].lower() == "on", \
    "the raw line (covered by the HMAC chain) is kept"
p = [s for s in parsers if s.get("name") == flt[0]["parser"]]
assert p and p[0]["format"] == "json" and p[0]["time_key"] == "time"
fmt = p[0]["time_format"].replace("%L", "%f")
n = 0
for line in open(sys.argv[4]):
    t = json.loads(line)["time"]
    datetime.datetime.strptime(t, fmt)
    n += 1
assert n > 0, "no alert lines to parse"
print(f"{n} alert times read with {p[0]['time_format']}")
PY
); then
	ok "fluent-bit configuration: tail of the rotated file, raw line kept; $out"
else
	bad "fluent-bit configuration: $out"
fi

if command -v fluent-bit >/dev/null; then
	if (cd "$dir" && fluent-bit --dry-run -c sanso.conf) >"$T/fb.out" 2>&1; then
		ok "fluent-bit --dry-run accepts contrib/fluent-bit/sanso.conf"
	else
		bad "fluent-bit --dry-run: $(tail -n 5 "$T/fb.out")"
	fi
else
	skip "fluent-bit is not installed (not in Debian 12): --dry-run not run"
fi
finish
