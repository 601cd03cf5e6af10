#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# contrib/ansible: `ansible-playbook --syntax-check` and `ansible-lint`
# (production profile) are clean; then, as root, site.yml runs for real
# against this machine (connection: local) with `sanso` wrapped to run in
# a network namespace of the test's own -- the machine's firewall is never
# touched -- and its state and zone directories in a scratch directory:
#   1. a first deployment is applied, checked and confirmed;
#   2. a second run changes nothing;
#   3. a check-mode run with another zone file lets the kernel check it
#      (apply --dry-run) and changes nothing;
#   4. a run whose health check fails rolls back at once: the first
#      deployment and its files stay in force, and the run fails.
#   5. a node of a redundant pair (sanso_ha_peer): contrib/ha's notify
#      script and systemd ordering, the site's keepalived and conntrackd
#      files and the pair's key are installed with their modes; a second
#      run changes nothing.
set -u
# shellcheck source=tests/ops/lib.sh
. "$(dirname "$0")/lib.sh"
need ansible-playbook
need_sanso

A=$OPS_ROOT/contrib/ansible
T=$OPS_TMP
export ANSIBLE_CONFIG=$A/ansible.cfg ANSIBLE_LOCAL_TEMP=$T/ansible-local \
	ANSIBLE_REMOTE_TEMP=$T/ansible-remote ANSIBLE_NOCOLOR=1 \
	ANSIBLE_FORCE_COLOR=0

if (cd "$A" && ansible-playbook --syntax-check site.yml) >"$T/syntax.out" 2>&1; then
	ok "ansible-playbook --syntax-check site.yml"
else
	bad "syntax check: $(cat "$T/syntax.out")"
fi
if command -v ansible-lint >/dev/null; then
	if (cd "$A" && ansible-lint -q --nocolor) >"$T/lint.out" 2>&1; then
		ok "ansible-lint (production profile): clean"
	else
		bad "ansible-lint: $(cat "$T/lint.out")"
	fi
else
	skip "ansible-lint is not installed"
fi

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	skip "running the role: needs root and ip (network namespace)"
	finish
fi
ops_ns ans || { bad "cannot create a network namespace"; finish; }
ns=$OPS_NSNAME
cat >"$T/sanso" <<EOW
#!/bin/sh
exec ip netns exec $ns $SANSO "\$@"
EOW
chmod +x "$T/sanso"
ops_listener health
port=$OPS_PORT
cat >"$T/inventory.yml" <<EOI
sanso_gateways:
  hosts:
    local-gw:
      ansible_connection: local
      ansible_become: false
      ansible_python_interpreter: $(command -v python3)
      sanso_install_package: false
      sanso_manage_services: false
      sanso_binary: $T/sanso
      sanso_state_dir: $T/state
      sanso_config_dir: $T/etc
      sanso_config_group: root
      sanso_zone_repo: $OPS_ROOT/zones
      sanso_zone_file: example-city.yaml
      sanso_zone_extra_files: [holidays-jp.yaml]
      sanso_confirm_seconds: 30
      sanso_health_timeout: 5
      sanso_health_tcp: [{host: 127.0.0.1, port: $port}]
      sanso_siem_host: siem.example.lg.jp
      sanso_rsyslog_conf: $T/60-sanso-forward.conf
EOI

play()	# LOG ARGS...
{
	local log=$1
	shift
	(cd "$A" && ansible-playbook -i "$T/inventory.yml" site.yml "$@") \
		>"$T/$log" 2>&1
}

recap()	# LOG -> "changed=N failed=N rescued=N"
{
	grep -oE '(changed|failed|rescued)=[0-9]+' "$T/$1" | tr '\n' ' '
}

status()	# -> the deployment's id and the live state, from status json
{
	ip netns exec "$ns" "$SANSO" status --format json --state-dir "$T/state" |
		python3 -c 'import json, sys
s = json.load(sys.stdin)
print((s["deployed"] or {}).get("id"), s["live"], s["pending"])'
}

if play run1.log && [ "$(status)" = "1 match None" ] &&
	cmp -s "$T/etc/zones.yaml" "$OPS_ROOT/zones/example-city.yaml" &&
	[ -e "$T/60-sanso-forward.conf" ]; then
	ok "first run: deployment 1 applied, checked and confirmed ($(recap run1.log))"
else
	bad "first run: status \"$(status)\"; $(grep -E 'fatal|FAILED' "$T/run1.log" | head -n 3)"
	finish
fi

if play run2.log && grep -q 'changed=0 ' "$T/run2.log" &&
	[ "$(status)" = "1 match None" ]; then
	ok "second run changes nothing"
else
	bad "second run: $(recap run2.log); status \"$(status)\""
fi

if play run3.log --check -e sanso_zone_file=example-beta.yaml &&
	grep -A1 'Let the kernel check the ruleset' "$T/run3.log" | grep -q '^ok:' &&
	[ "$(status)" = "1 match None" ] &&
	cmp -s "$T/etc/zones.yaml" "$OPS_ROOT/zones/example-city.yaml"; then
	ok "check mode: the kernel checks the new ruleset (dry run), nothing changes"
else
	bad "check mode: $(recap run3.log); status \"$(status)\""
fi

if play run4.log -e sanso_zone_file=example-beta.yaml -e sanso_health_timeout=2 \
	-e '{"sanso_health_tcp": [{"host": "127.0.0.1", "port": 9}]}'; then
	bad "a failed health check did not fail the run"
elif [ "$(status)" = "1 match None" ] &&
	cmp -s "$T/etc/zones.yaml" "$OPS_ROOT/zones/example-city.yaml" &&
	tail -n 1 "$T/state/audit.log" | grep -q '"action":"rollback"'; then
	ok "failed health check: rolled back at once, deployment 1 and its files in force"
else
	bad "after a failed health check: status \"$(status)\"; $(recap run4.log)"
fi
mkdir -p "$T/ha-src"
head -c 32 /dev/urandom >"$T/ha-src/ha.key"
printf 'global_defs {\n\trouter_id test\n}\n' >"$T/ha-src/keepalived.conf"
printf 'General {\n}\n' >"$T/ha-src/conntrackd.conf"
hav=(-e sanso_ha_peer=peer-gw -e sanso_ha_install_packages=false
	-e sanso_ha_keepalived_src="$T/ha-src/keepalived.conf"
	-e sanso_ha_conntrackd_src="$T/ha-src/conntrackd.conf"
	-e sanso_ha_key_src="$T/ha-src/ha.key"
	-e sanso_ha_notify="$T/ha/lib/sanso-ha-notify"
	-e sanso_ha_keepalived_conf="$T/ha/keepalived/keepalived.conf"
	-e sanso_ha_conntrackd_conf="$T/ha/conntrackd/conntrackd.conf"
	-e sanso_ha_systemd_dir="$T/ha/systemd"
	-e sanso_ha_data_dir="$T/ha/monitor" -e sanso_ha_key_owner=root)
modes()
{
	stat -c '%a %n' "$T/ha/lib/sanso-ha-notify" "$T/ha/monitor/ha.key" \
		"$T/ha/keepalived/keepalived.conf" \
		"$T/ha/systemd/keepalived.service.d/sanso.conf" \
		"$T/ha/systemd/conntrackd.service.d/sanso.conf" 2>&1 |
		sed "s|$T/ha/||" | tr '\n' ' '
}
if play run5.log "${hav[@]}" &&
	cmp -s "$T/ha/lib/sanso-ha-notify" "$OPS_ROOT/contrib/ha/sanso-ha-notify" &&
	cmp -s "$T/ha/monitor/ha.key" "$T/ha-src/ha.key" &&
	cmp -s "$T/ha/conntrackd/conntrackd.conf" "$T/ha-src/conntrackd.conf" &&
	[ "$(modes)" = "755 lib/sanso-ha-notify 600 monitor/ha.key 640 keepalived/keepalived.conf 644 systemd/keepalived.service.d/sanso.conf 644 systemd/conntrackd.service.d/sanso.conf " ] &&
	[ "$(status)" = "1 match None" ]; then
	ok "a pair's node: notify script, ordering, configurations and key installed ($(recap run5.log))"
else
	bad "a pair's node: $(modes); $(grep -E 'fatal|FAILED' "$T/run5.log" | head -n 3)"
fi
if play run6.log "${hav[@]}" && grep -q 'changed=0 ' "$T/run6.log"; then
	ok "a pair's node: a second run changes nothing"
else
	bad "a pair's node, second run: $(recap run6.log)"
fi
finish
