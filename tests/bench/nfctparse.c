// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfctparse: the anchor of the replay benchmark of `make bench` (P4):
 * libnetfilter_conntrack parsing the capture `sanso monitor --replay`
 * reads, and nothing more.
 *
 * Usage: nfctparse CAPTURE
 *
 * Reads CAPTURE with the monitor's own reader (src/replay.c: the file
 * mapped, the same records, the same bytes) and hands every ctnetlink
 * message of every record to nfct_nlmsg_parse(), into one nf_conntrack
 * object reused for all, then reads the original tuple's destination
 * port so the parse has a consumer. The clock runs from the first record
 * to the last, like the monitor's figure. Prints one line:
 *
 *   nfct: N records, N events, N failed in S s: R events/s
 *
 * Built by tests/bench/run.sh only (Debian libnetfilter-conntrack-dev),
 * so that neither sanso nor its tests depend on the library.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>

#include "replay.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long long records = 0, events = 0, failed = 0, sum = 0;
	struct nf_conntrack *ct;
	struct replay_rec rec;
	struct replay *r;
	double t0, secs;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: nfctparse CAPTURE\n");
		return 2;
	}
	r = replay_open(argv[1]);
	if (!r) {
		fprintf(stderr, "nfctparse: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	ct = nfct_new();
	if (!ct) {
		perror("nfctparse");
		replay_close(r);
		return 1;
	}
	t0 = now();
	while ((rc = replay_next(r, &rec)) > 0) {
		const struct nlmsghdr *nlh = rec.data;
		int len = (int)rec.len;

		records++;
		if (rec.proto != NETLINK_NETFILTER)
			continue;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (NFNL_SUBSYS_ID(nlh->nlmsg_type) !=
			    NFNL_SUBSYS_CTNETLINK)
				continue;
			events++;
			if (nfct_nlmsg_parse(nlh, ct) < 0) {
				failed++;
				continue;
			}
			sum += nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST);
		}
	}
	secs = now() - t0;
	nfct_destroy(ct);
	replay_close(r);
	if (rc < 0) {
		fprintf(stderr, "nfctparse: %s: truncated or malformed\n",
			argv[1]);
		return 1;
	}
	printf("nfct: %llu records, %llu events, %llu failed in %.6f s: "
	       "%.0f events/s\n", records, events, failed, secs,
	       secs > 0 ? (double)events / secs : 0.0);
	/* The ports' sum, so that no compiler drops the reads. */
	fprintf(stderr, "nfctparse: port sum %llu\n", sum);
	return 0;
}
