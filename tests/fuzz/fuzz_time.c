/* Fuzz target for the time parser and formatter: jit_time_parse and
 * jit_time_format.
 *
 * The first input byte picks the local time zone: UTC, Europe/Berlin, or
 * Australia/Lord_Howe with its half-hour daylight saving shift. The rest
 * is the text. The oracles:
 * - a relative time is now plus the duration jit_duration_parse reads;
 * - an absolute time formats as UTC ISO 8601 that parses back to the same
 *   second;
 * - a local time without an offset maps back to the same wall-clock fields
 *   in that zone;
 * - formatting any int64_t into any buffer size stays inside the buffer
 *   and ends with a NUL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzzlib.h"
#include "jit/timeutil.h"

#define NOW 1767225600           /* 2026-01-01T00:00:00Z */
#define FORMAT_MAX 64
#define LAST_FOUR_DIGIT_YEAR 253402300799  /* 9999-12-31T23:59:59Z */

static const jit_err parse_errors[] = { JIT_ERR_INVALID, JIT_ERR_RANGE, JIT_OK };
static const char *const zones[] = {
	"UTC", "Europe/Berlin", "Australia/Lord_Howe"
};
#define ZONE_COUNT (sizeof(zones) / sizeof(zones[0]))

static size_t current_zone = ZONE_COUNT;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void use_zone(size_t zone)
{
	if (zone == current_zone)
		return;
	if (setenv("TZ", zones[zone], 1) != 0)
		fuzz_fail("setenv TZ failed");
	tzset();
	current_zone = zone;
}

static bool has_offset(const char *text)
{
	size_t len = strlen(text);

	return (len > 0 && text[len - 1] == 'Z') ||
	       (len > 6 && (text[len - 6] == '+' || text[len - 6] == '-') &&
		text[len - 3] == ':');
}

static void check_relative(const char *text, int64_t when)
{
	int64_t seconds = 0;
	jit_error error;

	if (jit_duration_parse(text + 1, 0, &seconds, &error) != JIT_OK)
		fuzz_fail("'%s' parsed, but its duration does not: %s", text,
			  error.message);
	if (when != NOW + seconds)
		fuzz_fail("'%s' parsed as %lld, not now + %lld", text,
			  (long long)when, (long long)seconds);
}

/* The parser accepts "YYYY-MM-DD[T ]HH:MM[:SS]", and sscanf reads the same
 * fields without its help. */
static void check_local(const char *text, int64_t when)
{
	int year, month, day, hour, minute, second = 0;
	time_t t = (time_t)when;
	struct tm tm;

	if (sscanf(text, "%4d-%2d-%2d%*c%2d:%2d:%2d", &year, &month, &day,
		   &hour, &minute, &second) < 5)
		fuzz_fail("'%s' parsed as a local time that sscanf cannot read",
			  text);
	if (localtime_r(&t, &tm) == NULL)
		fuzz_fail("'%s' parsed as %lld, which localtime rejects", text,
			  (long long)when);
	if (tm.tm_year + 1900 != year || tm.tm_mon + 1 != month ||
	    tm.tm_mday != day || tm.tm_hour != hour || tm.tm_min != minute ||
	    tm.tm_sec != second)
		fuzz_fail("'%s' in %s parsed as %lld, which is %04d-%02d-%02d %02d:%02d:%02d there",
			  text, zones[current_zone], (long long)when,
			  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void check_round_trip(const char *text, int64_t when)
{
	char formatted[FORMAT_MAX];
	int64_t again = 0;
	jit_error error;

	/* The parser takes four-digit years from 1970 on, and an offset can
	 * move a time just outside them in UTC, where it formats as a year
	 * that the parser rejects. */
	if (when < 0 || when > LAST_FOUR_DIGIT_YEAR)
		return;

	jit_time_format(when, formatted, sizeof(formatted));
	if (jit_time_parse(formatted, NOW, &again, &error) != JIT_OK)
		fuzz_fail("'%s' parsed as %lld, which formats as '%s' that does not parse: %s",
			  text, (long long)when, formatted, error.message);
	if (again != when)
		fuzz_fail("'%s' parsed as %lld, formats as '%s', which parses as %lld",
			  text, (long long)when, formatted, (long long)again);
}

static void check_parse(const char *text)
{
	int64_t when = 0;
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = jit_time_parse(text, NOW, &when, &error);
	if (r != JIT_OK) {
		fuzz_check_error("jit_time_parse", r, &error, false,
				 parse_errors);
		return;
	}

	if (text[0] == '+') {
		check_relative(text, when);
		return;
	}
	if (!has_offset(text))
		check_local(text, when);
	check_round_trip(text, when);
}

/* Formats the int64_t in bytes 1..8 into a buffer whose size comes from
 * byte 9, which ASan places right before a redzone. */
static void check_format(const uint8_t *data, size_t size)
{
	char full[FORMAT_MAX];
	size_t out_len;
	int64_t value;
	char *out;

	if (size < 10)
		return;
	memcpy(&value, data + 1, sizeof(value));
	out_len = data[9] % FORMAT_MAX;

	jit_time_format(value, full, sizeof(full));
	if (memchr(full, '\0', sizeof(full)) == NULL)
		fuzz_fail("formatting %lld left no NUL", (long long)value);

	out = malloc(out_len > 0 ? out_len : 1);
	if (out == NULL)
		fuzz_fail("out of memory");
	jit_time_format(value, out, out_len);
	if (out_len > 0 && memchr(out, '\0', out_len) == NULL)
		fuzz_fail("formatting %lld into %zu bytes left no NUL",
			  (long long)value, out_len);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size == 0)
		return 0;
	use_zone(data[0] % ZONE_COUNT);

	text = fuzz_text(data + 1, size - 1);
	check_parse(text);
	check_format(data, size);
	free(text);
	return 0;
}
