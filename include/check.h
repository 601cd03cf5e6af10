/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The validator: the cross-reference structural checks (E005-E007) and the
 * three-tier invariants T1-T10 with their waivers.
 */
#ifndef SANSO_CHECK_H
#define SANSO_CHECK_H

#include <time.h>

#include "diag.h"
#include "model.h"

/*
 * Checks a loaded model; every finding goes to `d`. `today` is the local
 * date (days since epoch, in the model's timezone) against which waivers
 * and dated windows are judged (--at). Returns the number of errors added.
 */
unsigned int check_model(const struct model *m, int32_t today,
			 struct diags *d);

#endif
