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

/*
 * What a finding code means: for `check --explain`, the notes on T
 * findings, diff and the alerts' "rule". `point` is the point of the
 * guideline (対策基準 of 地方公共団体における情報セキュリティポリシーに
 * 関するガイドライン) a T rule enforces, NULL for the others.
 */
struct check_code {
	const char *code;	/* "T1", "E004", "W03" */
	const char *point;	/* "対策基準3(1)①", or NULL */
	const char *intent;	/* the guideline's words, or NULL */
	const char *what;	/* what sanso checks, one sentence */
};

/* The code's entry, or NULL; codes match exactly ("T1", not "t1"). */
const struct check_code *check_code_find(const char *code);
/* Every entry in order (E, T, W), NULL-terminated by code. */
extern const struct check_code check_codes[];

/*
 * The invariant that governs traffic from a zone of tier `a` to one of
 * tier `b` (enum tier; -1 unknown), the one an alert about such traffic
 * concerns: "T1" for mynumber with internet or external, "T6" into or
 * out of dmz, and so on; NULL when no invariant speaks of the pair.
 */
const char *check_pair_rule(int a, int b);

/*
 * Whether flow `f` is maintenance (T7): from an internet or external
 * zone into a mgmt, lgwan or mynumber zone, other than the sanctioned
 * sanitizer and screen-transfer crossings from internet into lgwan. The
 * monitor ends the sessions of such flows when their schedule closes.
 */
bool check_flow_is_maintenance(const struct model *m, const struct flow *f);

#endif
