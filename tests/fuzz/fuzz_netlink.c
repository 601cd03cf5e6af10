// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the netlink parsers: any bytes, taken as one
 * datagram read from a socket (or a capture record), through the
 * conntrack and nflog parsers and the monitor's whole judgement, must
 * end without a crash, a hang, a leak or a read out of bounds.
 *
 * Input: one byte choosing what the datagram is (bit 0: rtnetlink
 * instead of nfnetlink; bit 1: written on a host of the other byte
 * order, swapped by the capture reader first), then the datagram.
 * The seeds in tests/fuzz/corpus/netlink/ are records of a real capture
 * (tests/replay/lab-monitor.pcap) with that byte in front.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netlink.h>

#include "ctnetlink.h"
#include "model.h"
#include "monitor.h"
#include "nflog.h"
#include "policy.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char zone[] =
	"version: 1\n"
	"site: fuzz\n"
	"schedules:\n"
	"  office: { days: [mon, tue, wed, thu, fri], hours: [\"08:30-18:15\"] }\n"
	"  maint:\n"
	"    windows: [{ from: \"2026-11-22T10:00\", to: \"2026-11-22T12:00\" }]\n"
	"zones:\n"
	"  mynumber: { tier: mynumber, interfaces: [ens4], networks: [10.10.0.0/16] }\n"
	"  lgwan: { tier: lgwan, interfaces: [ens5], networks: [10.20.0.0/16] }\n"
	"  inet: { tier: internet, interfaces: [ens6],\n"
	"          networks: [10.30.0.0/16, \"fd00:30::/48\"] }\n"
	"  upstream: { tier: external, interfaces: [ens3],\n"
	"              networks: [0.0.0.0/0, \"::/0\"] }\n"
	"hosts:\n"
	"  juki-db: { zone: mynumber, address: 10.10.1.5 }\n"
	"  renkei: { zone: lgwan, address: 10.20.6.10 }\n"
	"  vendor-noc: { zone: upstream, address: 203.0.113.10 }\n"
	"flows:\n"
	"  - { name: a, from: renkei, to: juki-db, services: [tcp/1521],\n"
	"      alert_outside: office }\n"
	"  - { name: b, from: vendor-noc, to: juki-db, services: [tcp/22],\n"
	"      schedule: maint, log: true }\n"
	"  - { name: c, from: inet, to: upstream, services: [tcp/443, icmp] }\n";

static struct monitor *mon;
static uint64_t alerts;

static void emit(void *ctx, const struct alert *a)
{
	(void)ctx;
	alerts += a->count;
}

static struct monitor *setup(void)
{
	static struct diags d;
	struct monitor_setup ms;
	struct model *m;
	struct policy *p;

	m = model_load_buf("fuzz.yaml", NULL, zone, strlen(zone), &d);
	if (!m || d.errors || !(p = policy_build(m)))
		abort();
	memset(&ms, 0, sizeof(ms));
	ms.policy = p;
	ms.emit = emit;
	return monitor_new(&ms);	/* lives as long as the process */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Netlink messages are 4-byte aligned in a socket buffer. */
	static uint32_t buf[65536 / 4];
	static long calls;
	struct timespec ts = { 1795741200, 0 };	/* 2026-11-22T10:00Z */
	const struct nlmsghdr *nlh;
	size_t off = 0;
	uint8_t how;

	if (!mon)
		mon = setup();
	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	how = data[0];
	size--;
	memcpy(buf, data + 1, size);
	if (how & 2)
		replay_swap_netlink(how & 1 ? NETLINK_ROUTE : NETLINK_NETFILTER,
				    buf, size);

	/* The parsers alone, on every message. */
	while ((nlh = nlmsg_walk(buf, size, &off))) {
		struct ct_event ev;
		struct nflog_pkt p;

		ct_parse(nlh, &ev);
		nflog_parse(nlh, &p);
	}

	/* And the monitor on the whole datagram, the clock moving on. */
	ts.tv_sec += (calls++ % 20000) * 3;
	monitor_feed(mon, how & 1 ? NETLINK_ROUTE : NETLINK_NETFILTER, buf,
		     size, &ts);
	if (!(calls % 64))
		monitor_tick(mon, &ts);
	return 0;
}
