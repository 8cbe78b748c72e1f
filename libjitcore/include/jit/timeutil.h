/* Durations, times and the clock. */
#ifndef JIT_TIMEUTIL_H
#define JIT_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"

/* Parses a duration: one or more <digits><unit> groups with units d, h, m,
 * s in that order, each at most once ("90s", "15m", "2h", "1h30m"). Zero,
 * signs, spaces, overflow and anything above max_seconds (when > 0) are
 * rejected with a message naming the input. */
jit_err jit_duration_parse(const char *text, int64_t max_seconds,
			   int64_t *seconds, jit_error *error);

/* Parses a duration like jit_duration_parse, but also accepts a total of
 * zero ("0", "0s"), for settings where zero has a meaning of its own such
 * as timestamp_timeout. */
jit_err jit_duration_parse_zero_ok(const char *text, int64_t max_seconds,
				   int64_t *seconds, jit_error *error);

/* Formats seconds as "1h30m", "45s", "2d3h". */
void jit_duration_format(int64_t seconds, char *out, size_t out_len);

/* Parses a time: ISO 8601 with an offset ("2026-12-05T14:00:00Z",
 * "...+01:00"), a local time without offset ("2026-12-05T14:00" or with a
 * space) which is rejected when it does not exist or occurs twice in the
 * local time zone, or a relative "+DURATION" from now. */
jit_err jit_time_parse(const char *text, int64_t now, int64_t *when,
		       jit_error *error);

/* Formats t as UTC ISO 8601, "2026-12-04T20:15:00Z". */
void jit_time_format(int64_t t, char *out, size_t out_len);

/* The wall clock in milliseconds since the epoch. */
int64_t jit_clock_now_ms(void);

#endif
