// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for what the DNS guard reads from the network and
 * from its state directory.  Any bytes must end in a rejection or a
 * clean result: no crash, no hang, no leak, no element outside the
 * rules.
 *
 * Input: a DNS message (a query from a client or a reply from upstream:
 * both go through the same parser), answered as the guard would and its
 * addresses learned into the FQDN sets of a fake kernel; or, after a
 * leading 'S', a state file restored.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "dns.h"
#include "fqdnstate.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char zone[] =
	"version: 1\nsite: f\nzones:\n"
	"  dmz: { tier: dmz, interfaces: [e1], networks: [10.40.0.0/24] }\n"
	"  up: { tier: external, interfaces: [e0], networks: [0.0.0.0/0, "
	"\"::/0\"] }\n"
	"fqdn_sets:\n"
	"  s: { names: [a.example.jp, \"*.b.example.jp\"], min_ttl: 1, "
	"max_addrs: 4, max_stale: 100 }\n";

static struct model *m;
static char dir[] = "/tmp/sanso-fuzz-dns-XXXXXX";

static int k_arm(void *arg, const struct fqdn_elem *v, size_t n, char *err,
		 size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	for (size_t i = 0; i < n; i++) {
		struct prefix p = { .family = v[i].family };

		memcpy(p.addr, v[i].addr, 16);
		/* Nothing special-purpose or of the site's own may come
		 * through, whatever the input. */
		if (fqdn_addr_special(v[i].family, v[i].addr) ||
		    (v[i].family == AF_INET && v[i].addr[0] == 10) ||
		    v[i].timeout_ms < 1000)
			abort();
	}
	return 0;
}

static int k_list(void *arg, const char *set, fqdn_list_fn fn, void *fnarg)
{
	(void)arg;
	(void)set;
	(void)fn;
	(void)fnarg;
	return 0;
}

static void cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/fqdn.state", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/fqdn.lock", dir);
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	struct diags d = { 0 };

	m = model_load_buf("f.yaml", NULL, zone, strlen(zone), &d);
	diags_free(&d);
	if (!m || !mkdtemp(dir))
		abort();
	atexit(cleanup);
}

static void restore(const uint8_t *data, size_t size, struct fqdn_state *st)
{
	char path[128], err[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fqdn.state", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs("# sanso fqdn state 1\n", f);
	fwrite(data, 1, size, f);
	fclose(f);
	fqdn_state_restore(st, dir, 1800000000000, err, sizeof(err));
	fqdn_state_save(st, dir, 1800000000000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fqdn_kernel k = { .arm = k_arm, .list = k_list };
	struct fqdn_conf c = { .kernel = &k };
	struct fqdn_state *st;
	struct dns_msg msg;
	uint8_t out[4096];
	char name[DNS_NAME_TEXT];

	if (!m)
		setup();
	st = fqdn_state_new(m, &c);
	if (!st)
		abort();
	if (size && data[0] == 'S') {
		restore(data + 1, size - 1, st);
		fqdn_state_free(st);
		return 0;
	}
	if (dns_parse(data, size, &msg) == 0) {
		struct dns_addr *a = calloc(msg.ancount + 1u, sizeof(*a));
		struct dns_name t;
		struct fqdn_result r;
		char err[128];
		size_t n;

		if (!a)
			abort();
		n = dns_chain_addrs(&msg, a, msg.ancount);
		if (n > msg.ancount)
			abort();
		dns_chain_open(&msg, &t);
		dns_build_reply(out, sizeof(out), data, &msg, DNS_R_REFUSED,
				false);
		dns_build_answer(out, sizeof(out), data, &msg, a, n, 30);
		if (dns_name_to_text(&msg.qname, name, sizeof(name)) == 0) {
			int64_t now = 1800000000000;

			fqdn_state_learn(st, name, msg.qtype, a, n, now, &r,
					 err, sizeof(err));
			fqdn_state_stale(st, name, msg.qtype, NULL,
					 now + 50000, &r, err, sizeof(err));
			fqdn_state_last(st, name, msg.qtype, now + 50000, a,
					msg.ancount);
			fqdn_state_gc(st, now + 200000);
		}
		if (size <= sizeof(out)) {
			memcpy(out, data, size);
			if (dns_rewrite_ttls(out, size, 7, 0))
				abort();
		}
		free(a);
		dns_msg_free(&msg);
	} else if (size >= DNS_HDR_LEN) {
		dns_build_reply(out, sizeof(out), data, NULL, DNS_R_FORMERR,
				false);
	}
	fqdn_state_free(st);
	return 0;
}
