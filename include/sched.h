/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Time in the zone file's timezone: conversions, and whether a schedule
 * is open at an instant. All schedules are local to model.timezone.
 */
#ifndef SANSO_SCHED_H
#define SANSO_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "model.h"

/* 0 if `name` is a usable IANA timezone (a TZif file under the system
 * zoneinfo directory; no absolute paths, no ".."), -EINVAL otherwise. */
int tz_check(const char *name);

/* Local wall time (days since epoch + seconds of day) in `tz` to UTC.
 * A wall time skipped by a DST change maps forward, a repeated one to
 * its first occurrence. Returns 0 or -EINVAL. */
int tz_local_to_utc(const char *tz, int32_t days, int secs, time_t *out);

/* UTC instant to local date, seconds of day, weekday (0 = Monday) and
 * UTC offset in seconds. Returns 0 or -EINVAL. */
int tz_utc_to_local(const char *tz, time_t t, int32_t *days, int *secs,
		    int *wday, int *gmtoff);

/*
 * Whether `s` is open at `t`. A schedule with windows is open inside any
 * window [from, to). One with days/hours is open when the local weekday
 * is listed and the time falls in a range; a range that wraps midnight
 * belongs to the day it starts on. Holidays close the days they name
 * (for a wrapping range: the part that starts on the holiday).
 * A schedule with both is open when either says so.
 */
bool schedule_open(const struct model *m, const struct schedule *s, time_t t);

/* Parses "2026-12-01", "2026-12-01T10:00" or "now" as local time in `tz`
 * (for --at). Returns 0 or -EINVAL. */
int tz_parse_when(const char *tz, const char *s, time_t *out);

/* RFC 3339 with milliseconds and the zone's offset:
 * "2026-11-24T22:03:11.482+09:00". */
void tz_format_rfc3339(const char *tz, time_t sec, int msec, char *buf,
		       size_t n);

/* Zones are read from the system zoneinfo once per process and kept;
 * this forgets them (for SIGHUP, after a tzdata upgrade). */
void tz_cache_flush(void);

/*
 * The kernel form of schedules, for the ruleset generator.
 *
 * nftables' `meta day` is computed by the kernel in sys_tz (the timezone
 * settimeofday() last gave the kernel, e.g. by `timedatectl
 * set-timezone`), while `meta hour` and `meta time` are UTC, and nft
 * converts "HH:MM" and date strings with the nft process's own TZ at the
 * current offset. No weekday match is therefore reliable, so a weekly
 * schedule compiles to absolute UTC spans over a bounded horizon: one
 * `typeof meta time` interval set per schedule, printed as numeric
 * seconds ("1795307400-1795342499", end inclusive, so to - 1), which
 * nft loads to the same values under any TZ. Holidays are absent from
 * the spans, DST is exact, and past the horizon the weekly part is
 * closed (fail closed) until the ruleset is compiled again.
 */

/* One UTC interval [from, to). */
struct sched_span {
	time_t from, to;
};

/* Sorted, disjoint and never adjacent (touching spans are merged). */
struct sched_spans {
	struct sched_span *v;
	size_t n, cap;
};

/*
 * Every instant of [from, to) at which `s` is open in `tz` (exactly the
 * instants where schedule_open() is true), plus the schedule's dated
 * windows in full, inside or outside the horizon. `out` must be zeroed
 * or freed; on success it holds the spans and the caller frees it with
 * sched_spans_free(). Returns 0, -EINVAL (bad zone, from >= to, or a
 * horizon longer than SCHED_MAX_HORIZON or outside 1900..2200), or
 * -ENOMEM.
 */
#define SCHED_MAX_HORIZON	((time_t)20 * 366 * 86400)
int sched_spans(const char *tz, const struct schedule *s, time_t from,
		time_t to, struct sched_spans *out);
void sched_spans_free(struct sched_spans *sp);
bool sched_spans_contain(const struct sched_spans *sp, time_t t);

/* A horizon for sched_spans(): from local midnight on 1 January of the
 * year `at` falls in, to 1 January `years` years later. */
int sched_horizon(const char *tz, time_t at, int years, time_t *from,
		  time_t *to);

/* A span in the zone's wall time, for a comment beside the element:
 * "2026-11-23 Mon 08:30-18:15 +09:00", or with both ends in full when
 * the date or the offset changes inside the span. */
void sched_span_format(const char *tz, const struct sched_span *sp,
		       char *buf, size_t n);

#endif
