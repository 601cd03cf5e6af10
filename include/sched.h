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

#endif
