#include "jit/timeutil.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Durations and times stay below this many seconds so that callers can
 * convert them to milliseconds, or add one to the other, without
 * overflowing an int64_t. */
#define SECONDS_LIMIT (INT64_MAX / 1000 / 2)

/* Input is quoted in messages up to this many bytes. */
#define QUOTE_MAX 64

#define DURATION_EXAMPLES "such as 90s, 15m, 2h or 1h30m"

static const struct {
	char unit;
	int64_t seconds;
} duration_units[] = {
	{ 'd', 86400 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};

#define UNIT_COUNT (sizeof(duration_units) / sizeof(duration_units[0]))

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int unit_index(char c)
{
	for (size_t i = 0; i < UNIT_COUNT; i++)
		if (duration_units[i].unit == c)
			return (int)i;
	return -1;
}

static jit_err duration_invalid(const char *text, const char *why,
				jit_error *error)
{
	return jit_error_set(error, JIT_ERR_INVALID,
			     "invalid duration '%.*s': %s", QUOTE_MAX, text, why);
}

/* Reads digits at *p into *value; fails when there are none or when the
 * number does not fit. */
static jit_err parse_number(const char *text, const char **p, int64_t *value,
			    jit_error *error)
{
	int64_t number = 0;

	if (!is_digit(**p)) {
		if (**p == '-' || **p == '+')
			return duration_invalid(text,
				"signs are not allowed; write a number with a unit "
				DURATION_EXAMPLES, error);
		return duration_invalid(text,
			"expected a number with a unit " DURATION_EXAMPLES, error);
	}

	for (; is_digit(**p); (*p)++) {
		if (__builtin_mul_overflow(number, 10, &number) ||
		    __builtin_add_overflow(number, **p - '0', &number))
			return jit_error_set(error, JIT_ERR_RANGE,
					     "invalid duration '%.*s': the number is too large",
					     QUOTE_MAX, text);
	}

	*value = number;
	return JIT_OK;
}

/* Parses the groups of text into a total that may be zero. */
static jit_err parse_total(const char *text, int64_t *seconds, jit_error *error)
{
	const char *p = text;
	int64_t total = 0;
	int previous = -1;

	if (*p == '\0')
		return duration_invalid(text,
			"the value is empty; write a number with a unit "
			DURATION_EXAMPLES, error);

	while (*p != '\0') {
		int64_t number = 0, part;
		jit_err r;
		int unit;

		r = parse_number(text, &p, &number, error);
		if (r != JIT_OK)
			return r;

		if (*p == '\0')
			return duration_invalid(text, "add a unit: s, m, h or d", error);
		if (*p == '.' || *p == ',')
			return duration_invalid(text,
				"fractions are not allowed; use a smaller unit, such as 90m for 1.5h",
				error);

		unit = unit_index(*p);
		if (unit < 0 && *p > ' ' && *p < 0x7f)
			return jit_error_set(error, JIT_ERR_INVALID,
					     "invalid duration '%.*s': unknown unit '%c'; use s, m, h or d",
					     QUOTE_MAX, text, *p);
		if (unit < 0)
			return duration_invalid(text,
				"expected a unit after the number: s, m, h or d", error);
		if (unit <= previous)
			return duration_invalid(text,
				"each unit may appear once, in the order d, h, m, s (such as 1d2h30m)",
				error);
		previous = unit;
		p++;

		if (__builtin_mul_overflow(number, duration_units[unit].seconds, &part) ||
		    __builtin_add_overflow(total, part, &total) ||
		    total > SECONDS_LIMIT)
			return jit_error_set(error, JIT_ERR_RANGE,
					     "invalid duration '%.*s': the value is too large",
					     QUOTE_MAX, text);
	}

	*seconds = total;
	return JIT_OK;
}

static jit_err check_maximum(const char *text, int64_t total,
			     int64_t max_seconds, jit_error *error)
{
	char maximum[32];

	if (max_seconds <= 0 || total <= max_seconds)
		return JIT_OK;

	jit_duration_format(max_seconds, maximum, sizeof(maximum));
	return jit_error_set(error, JIT_ERR_RANGE,
			     "duration %.*s is above the maximum of %s",
			     QUOTE_MAX, text, maximum);
}

jit_err jit_duration_parse(const char *text, int64_t max_seconds,
			   int64_t *seconds, jit_error *error)
{
	int64_t total = 0;
	jit_err r;

	/* A bare "0" is zero in any unit: say so rather than ask for a unit. */
	r = strcmp(text, "0") == 0 ? JIT_OK : parse_total(text, &total, error);
	if (r != JIT_OK)
		return r;

	if (strcmp(text, "0") == 0 || total == 0)
		return jit_error_set(error, JIT_ERR_RANGE,
				     "invalid duration '%.*s': a duration must be greater than zero",
				     QUOTE_MAX, text);

	r = check_maximum(text, total, max_seconds, error);
	if (r != JIT_OK)
		return r;

	*seconds = total;
	return JIT_OK;
}

jit_err jit_duration_parse_zero_ok(const char *text, int64_t max_seconds,
				   int64_t *seconds, jit_error *error)
{
	int64_t total;
	jit_err r;

	if (strcmp(text, "0") == 0) {
		*seconds = 0;
		return JIT_OK;
	}

	r = parse_total(text, &total, error);
	if (r != JIT_OK)
		return r;

	r = check_maximum(text, total, max_seconds, error);
	if (r != JIT_OK)
		return r;

	*seconds = total;
	return JIT_OK;
}

void jit_duration_format(int64_t seconds, char *out, size_t out_len)
{
	uint64_t rest;
	size_t used = 0;

	if (out_len == 0)
		return;
	out[0] = '\0';

	if (seconds == 0) {
		snprintf(out, out_len, "0s");
		return;
	}

	/* The magnitude of INT64_MIN only fits in an unsigned type. */
	if (seconds < 0) {
		rest = (uint64_t)0 - (uint64_t)seconds;
		used = (size_t)snprintf(out, out_len, "-");
	} else {
		rest = (uint64_t)seconds;
	}

	for (size_t i = 0; i < UNIT_COUNT && used < out_len; i++) {
		uint64_t size = (uint64_t)duration_units[i].seconds;
		uint64_t count = rest / size;
		int n;

		if (count == 0)
			continue;
		rest -= count * size;
		n = snprintf(out + used, out_len - used, "%" PRIu64 "%c",
			     count, duration_units[i].unit);
		if (n < 0)
			return;
		used += (size_t)n;
	}
}

/* Time stamps: "YYYY-MM-DD", 'T' or ' ', "HH:MM", optional ":SS", then an
 * optional zone: 'Z', "+HH:MM" or "-HH:MM". */
typedef struct time_fields {
	struct tm tm;
	bool has_offset;
	int offset;                 /* seconds east of UTC */
} time_fields;

/* Reads exactly width digits. */
static bool read_digits(const char **p, int width, int *value)
{
	int number = 0;

	for (int i = 0; i < width; i++) {
		if (!is_digit((*p)[i]))
			return false;
		number = number * 10 + ((*p)[i] - '0');
	}

	*p += width;
	*value = number;
	return true;
}

static bool read_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month == 2 && is_leap_year(year))
		return 29;
	return days[month - 1];
}

static bool read_zone(const char **p, time_fields *fields)
{
	int sign, hours, minutes;

	if (**p == '\0')
		return true;
	if (read_char(p, 'Z')) {
		fields->has_offset = true;
		return true;
	}

	if (**p != '+' && **p != '-')
		return false;
	sign = **p == '-' ? -1 : 1;
	(*p)++;

	if (!read_digits(p, 2, &hours) || !read_char(p, ':') ||
	    !read_digits(p, 2, &minutes) || hours > 23 || minutes > 59)
		return false;

	fields->has_offset = true;
	fields->offset = sign * (hours * 3600 + minutes * 60);
	return true;
}

/* Splits text into fields and checks every field's range; the caller
 * reports a false return as one "invalid time" message. */
static bool read_time_fields(const char *text, time_fields *fields)
{
	const char *p = text;
	int year, month, day, hour, minute, second = 0;

	memset(fields, 0, sizeof(*fields));

	if (!read_digits(&p, 4, &year) || !read_char(&p, '-') ||
	    !read_digits(&p, 2, &month) || !read_char(&p, '-') ||
	    !read_digits(&p, 2, &day))
		return false;
	if (!read_char(&p, 'T') && !read_char(&p, ' '))
		return false;
	if (!read_digits(&p, 2, &hour) || !read_char(&p, ':') ||
	    !read_digits(&p, 2, &minute))
		return false;
	if (read_char(&p, ':') && !read_digits(&p, 2, &second))
		return false;
	if (!read_zone(&p, fields) || *p != '\0')
		return false;

	if (year < 1970 || month < 1 || month > 12 || day < 1 ||
	    day > days_in_month(year, month) || hour > 23 || minute > 59 ||
	    second > 59)
		return false;

	fields->tm.tm_year = year - 1900;
	fields->tm.tm_mon = month - 1;
	fields->tm.tm_mday = day;
	fields->tm.tm_hour = hour;
	fields->tm.tm_min = minute;
	fields->tm.tm_sec = second;
	return true;
}

static bool same_wall_time(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon &&
	       a->tm_mday == b->tm_mday && a->tm_hour == b->tm_hour &&
	       a->tm_min == b->tm_min && a->tm_sec == b->tm_sec;
}

/* Interprets wall as local time with daylight saving time off or on and
 * keeps the result only when it converts back to the same wall time. */
static bool local_candidate(const struct tm *wall, int isdst, time_t *t,
			    long *gmtoff)
{
	struct tm tm = *wall, back;

	tm.tm_isdst = isdst;
	*t = mktime(&tm);
	if (localtime_r(t, &back) == NULL)
		return false;

	*gmtoff = back.tm_gmtoff;
	return same_wall_time(wall, &back);
}

static void format_offset(long gmtoff, char *out, size_t out_len)
{
	long magnitude = gmtoff < 0 ? -gmtoff : gmtoff;

	snprintf(out, out_len, "%c%02ld:%02ld", gmtoff < 0 ? '-' : '+',
		 magnitude / 3600, magnitude % 3600 / 60);
}

/* Resolves a local wall time, rejecting one that a daylight saving change
 * skips or repeats: neither can be read without knowing the offset. */
static jit_err resolve_local_time(const char *text, const struct tm *wall,
				  int64_t *when, jit_error *error)
{
	time_t standard, daylight;
	long standard_off, daylight_off, lower, higher;
	bool standard_ok, daylight_ok;
	char earlier[24], later[24];

	standard_ok = local_candidate(wall, 0, &standard, &standard_off);
	daylight_ok = local_candidate(wall, 1, &daylight, &daylight_off);

	/* Clocks jump forward to the higher offset and back to the lower
	 * one, so the lower offset is in force before a skipped hour and
	 * the higher one during the first pass of a repeated hour. */
	lower = standard_off < daylight_off ? standard_off : daylight_off;
	higher = standard_off < daylight_off ? daylight_off : standard_off;

	if (standard_ok && daylight_ok && standard != daylight) {
		format_offset(higher, earlier, sizeof(earlier));
		format_offset(lower, later, sizeof(later));
		return jit_error_set(error, JIT_ERR_INVALID,
				     "%.*s occurs twice in the local time zone (daylight saving change); add an offset such as %s or %s",
				     QUOTE_MAX, text, earlier, later);
	}

	if (!standard_ok && !daylight_ok) {
		format_offset(lower, earlier, sizeof(earlier));
		return jit_error_set(error, JIT_ERR_INVALID,
				     "%.*s does not exist in the local time zone (daylight saving change); add an offset such as %s",
				     QUOTE_MAX, text, earlier);
	}

	*when = standard_ok ? (int64_t)standard : (int64_t)daylight;
	return JIT_OK;
}

static jit_err parse_relative_time(const char *text, int64_t now,
				   int64_t *when, jit_error *error)
{
	int64_t seconds, sum;
	jit_err r;

	r = jit_duration_parse(text + 1, 0, &seconds, error);
	if (r != JIT_OK)
		return r;

	if (__builtin_add_overflow(now, seconds, &sum) || sum > SECONDS_LIMIT)
		return jit_error_set(error, JIT_ERR_RANGE,
				     "time '%.*s' is too far in the future",
				     QUOTE_MAX, text);

	*when = sum;
	return JIT_OK;
}

jit_err jit_time_parse(const char *text, int64_t now, int64_t *when,
		       jit_error *error)
{
	time_fields fields;
	struct tm tm;

	if (text[0] == '+')
		return parse_relative_time(text, now, when, error);

	if (!read_time_fields(text, &fields))
		return jit_error_set(error, JIT_ERR_INVALID,
				     "invalid time '%.*s': give a date and a time of day in ISO 8601, such as 2026-12-05T14:00:00Z, 2026-12-05T14:00+01:00 or a local 2026-12-05 14:00, or a relative time such as +2h",
				     QUOTE_MAX, text);

	if (!fields.has_offset)
		return resolve_local_time(text, &fields.tm, when, error);

	tm = fields.tm;
	*when = (int64_t)timegm(&tm) - fields.offset;
	return JIT_OK;
}

void jit_time_format(int64_t t, char *out, size_t out_len)
{
	time_t value = (time_t)t;
	struct tm tm;

	if (out_len == 0)
		return;

	if (gmtime_r(&value, &tm) == NULL) {
		snprintf(out, out_len, "@%" PRId64, t);
		return;
	}

	snprintf(out, out_len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
}

int64_t jit_clock_now_ms(void)
{
	struct timespec ts;

	/* clock_gettime() fails only for an invalid clock id or pointer. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
