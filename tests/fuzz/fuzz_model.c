// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness: any bytes through the loader and the validator must
 * end in diagnostics, never a crash, a hang or a leak.
 */
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "model.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { 0 };
	struct model *m;
	struct policy *p;

	m = model_load_buf("fuzz.yaml", "/nonexistent", (const char *)data,
			   size, &d);
	if (m) {
		check_model(m, 20400, &d);
		p = policy_build(m);
		policy_free(p);
	}
	model_free(m);
	diags_free(&d);
	return 0;
}
