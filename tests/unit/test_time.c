#include "testlib.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOUR 3600

static void assert_duration(const char *text, int64_t expected)
{
	jit_error error;
	int64_t seconds = -1;

	jit_error_clear(&error);
	if (jit_duration_parse(text, 0, &seconds, &error) != JIT_OK)
		fail_msg("'%s' should parse: %s", text, error.message);
	assert_int_equal(seconds, expected);
}

/* Checks that text is rejected with a message containing expected. */
static void assert_duration_rejected(const char *text, int64_t max,
				     const char *expected)
{
	jit_error error;
	int64_t seconds = -1;
	jit_err r;

	jit_error_clear(&error);
	r = jit_duration_parse(text, max, &seconds, &error);
	if (r == JIT_OK)
		fail_msg("'%s' should be rejected", text);
	assert_int_equal(error.code, r);
	assert_int_equal(seconds, -1);
	if (expected != NULL && strstr(error.message, expected) == NULL)
		fail_msg("message for '%s' lacks '%s': %s", text, expected,
			 error.message);
}

static void test_duration_accepts_units(void **state)
{
	(void)state;
	assert_duration("90s", 90);
	assert_duration("15m", 900);
	assert_duration("2h", 2 * HOUR);
	assert_duration("1h30m", 90 * 60);
	assert_duration("1d", 24 * HOUR);
	assert_duration("2d3h", 51 * HOUR);
	assert_duration("1d2h3m4s", 86400 + 7200 + 180 + 4);
	assert_duration("05m", 300);
	assert_duration("0h5m", 300);
	assert_duration("36h", 36 * HOUR);
}

static void test_duration_rejects_bad_input(void **state)
{
	static const char *const bad[] = {
		"0", "-1", "99y", "1e30s", "", "1h1h", "30m1h", "1.5h",
		"99999999999999999999s", " 1h", "1h ", "+1h", "1H", "h",
		"1hh", "1h 30m", "0x10s", "1,5h", "\xd9\xa3s", "1s\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_duration_rejected(bad[i], 0, NULL);
}

static void test_duration_messages(void **state)
{
	(void)state;
	assert_duration_rejected("0s", 0, "greater than zero");
	assert_duration_rejected("0m0s", 0, "greater than zero");
	assert_duration_rejected("30", 0, "add a unit: s, m, h or d");
	assert_duration_rejected("99y", 0, "unknown unit 'y'");
	assert_duration_rejected("1e30s", 0, "unknown unit 'e'");
	assert_duration_rejected("1.5h", 0, "90m");
	assert_duration_rejected("-1", 0, "signs");
	assert_duration_rejected("30m1h", 0, "order d, h, m, s");
	assert_duration_rejected("1h1h", 0, "once");
	assert_duration_rejected("99999999999999999999s", 0, "too large");
	assert_duration_rejected("", 0, "empty");
}

static void test_duration_maximum(void **state)
{
	jit_error error;
	int64_t seconds = 0;

	(void)state;
	assert_int_equal(jit_duration_parse("8h", 8 * HOUR, &seconds, &error), JIT_OK);
	assert_int_equal(seconds, 8 * HOUR);
	assert_int_equal(jit_duration_parse("479m", 8 * HOUR, &seconds, &error), JIT_OK);
	assert_duration_rejected("9h", 8 * HOUR,
				 "duration 9h is above the maximum of 8h");
	assert_duration_rejected("8h1s", 8 * HOUR, "above the maximum of 8h");
	assert_int_equal(jit_duration_parse("9h", 8 * HOUR, &seconds, &error),
			 JIT_ERR_RANGE);
}

static void test_duration_overflow(void **state)
{
	(void)state;
	/* Each group fits an int64_t, but not once multiplied by its unit. */
	assert_duration_rejected("9223372036854775807d", 0, "too large");
	assert_duration_rejected("106751991167300d", 0, "too large");
	assert_duration_rejected("9223372036854775807s", 0, "too large");
	assert_duration_rejected("9223372036854775808s", 0, "too large");
	assert_duration("100000d", 100000LL * 86400);
}

static void test_duration_zero_ok(void **state)
{
	jit_error error;
	int64_t seconds = -1;

	(void)state;
	assert_int_equal(jit_duration_parse_zero_ok("0", 0, &seconds, &error), JIT_OK);
	assert_int_equal(seconds, 0);
	seconds = -1;
	assert_int_equal(jit_duration_parse_zero_ok("0s", 0, &seconds, &error), JIT_OK);
	assert_int_equal(seconds, 0);
	assert_int_equal(jit_duration_parse_zero_ok("5m", 0, &seconds, &error), JIT_OK);
	assert_int_equal(seconds, 300);

	assert_int_not_equal(jit_duration_parse_zero_ok("-1", 0, &seconds, &error), JIT_OK);
	assert_int_not_equal(jit_duration_parse_zero_ok("", 0, &seconds, &error), JIT_OK);
	assert_int_not_equal(jit_duration_parse_zero_ok("00", 0, &seconds, &error), JIT_OK);
	assert_int_not_equal(jit_duration_parse_zero_ok("1x", 0, &seconds, &error), JIT_OK);
	assert_int_equal(jit_duration_parse_zero_ok("2h", HOUR, &seconds, &error),
			 JIT_ERR_RANGE);
}

static void assert_format(int64_t seconds, const char *expected)
{
	char out[64];

	jit_duration_format(seconds, out, sizeof(out));
	assert_string_equal(out, expected);
}

static void test_duration_format(void **state)
{
	(void)state;
	assert_format(90 * 60, "1h30m");
	assert_format(45, "45s");
	assert_format(51 * HOUR, "2d3h");
	assert_format(0, "0s");
	assert_format(86400, "1d");
	assert_format(3661, "1h1m1s");
	assert_format(8 * HOUR, "8h");
	assert_format(-90, "-1m30s");
	assert_format(INT64_MIN, "-106751991167300d15h30m8s");
}

static void test_duration_format_small_buffer(void **state)
{
	char out[4] = "xxx";

	(void)state;
	jit_duration_format(90 * 60, out, sizeof(out));
	assert_string_equal(out, "1h3");
	jit_duration_format(90 * 60, out, 0);
	assert_string_equal(out, "1h3");
}

static void test_duration_round_trip(void **state)
{
	static const int64_t values[] = {
		1, 59, 60, 61, 3599, 3600, 86399, 86400, 90061, 8 * HOUR,
		365LL * 86400,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char text[64];
		int64_t seconds = 0;

		jit_duration_format(values[i], text, sizeof(text));
		assert_int_equal(jit_duration_parse(text, 0, &seconds, NULL), JIT_OK);
		assert_int_equal(seconds, values[i]);
	}
}

static void assert_time(const char *text, int64_t now, int64_t expected)
{
	jit_error error;
	int64_t when = -1;

	jit_error_clear(&error);
	if (jit_time_parse(text, now, &when, &error) != JIT_OK)
		fail_msg("'%s' should parse: %s", text, error.message);
	assert_int_equal(when, expected);
}

static void assert_time_rejected(const char *text, const char *expected)
{
	jit_error error;
	int64_t when = -1;

	jit_error_clear(&error);
	if (jit_time_parse(text, 1000, &when, &error) == JIT_OK)
		fail_msg("'%s' should be rejected, got %lld", text, (long long)when);
	assert_int_equal(when, -1);
	if (expected != NULL && strstr(error.message, expected) == NULL)
		fail_msg("message for '%s' lacks '%s': %s", text, expected,
			 error.message);
}

static void test_time_with_offset(void **state)
{
	(void)state;
	assert_time("2026-12-04T20:15:00Z", 0, 1796415300);
	assert_time("2026-12-04T20:15Z", 0, 1796415300);
	assert_time("2026-12-04 20:15:00Z", 0, 1796415300);
	assert_time("2026-12-05T14:00:00+01:00", 0, 1796475600);
	assert_time("2026-12-05 14:00+01:00", 0, 1796475600);
	assert_time("2026-12-05T14:00-05:30", 0, 1796499000);
	assert_time("2024-02-29T10:00:00Z", 0, 1709200800);
	assert_time("1970-01-01T00:00:00Z", 0, 0);
	assert_time("2038-01-19T03:14:08Z", 0, 2147483648LL);
	assert_time("2106-02-07T06:28:16Z", 0, 4294967296LL);
}

static void test_time_relative(void **state)
{
	(void)state;
	assert_time("+2h", 1000, 1000 + 2 * HOUR);
	assert_time("+90s", 0, 90);
	assert_time("+1d2h", 5, 5 + 26 * HOUR);
	assert_time_rejected("+0s", "greater than zero");
	assert_time_rejected("+", NULL);
	assert_time_rejected("+-1h", NULL);
	assert_time_rejected("+1.5h", NULL);
	assert_time_rejected("+2", "add a unit");
}

static void test_time_relative_overflow(void **state)
{
	jit_error error;
	int64_t when = -1;

	(void)state;
	assert_int_equal(jit_time_parse("+100000000000d", INT64_MAX - 10,
					&when, &error), JIT_ERR_RANGE);
	assert_int_equal(jit_time_parse("+1s", INT64_MAX, &when, &error),
			 JIT_ERR_RANGE);
	assert_int_equal(when, -1);
}

static void test_time_rejects_bad_input(void **state)
{
	static const char *const bad[] = {
		"2026-02-30T10:00Z", "2025-02-29T10:00Z", "2026-13-01T00:00Z",
		"2026-00-01T00:00Z", "2026-12-00T00:00Z", "2026-12-32T00:00Z",
		"2026-04-31T00:00Z", "2026-12-01T24:00Z", "2026-12-01T23:60Z",
		"2026-12-01T23:59:60Z", "2026-12-01T10:00Zjunk",
		"2026-12-01T10:00:00.5Z", "2026-12-01", "2026-12-01T10",
		"26-12-01T10:00Z", "2026-12-01T10:00+0100",
		"2026-12-01T10:00+24:00", "2026-12-01T10:00+01:60", "",
		"tomorrow", "1969-12-31T23:59Z", "2026-1-01T10:00Z",
		"2026-12-01t10:00Z", "2026-12-01T10:00z", " 2026-12-01T10:00Z",
		"2026-12-01T10:00Z ", "2026-12-01T10:00:0Z", "2026-12-01T10:00+01",
		"2026/12/01T10:00Z", "2026-12-01T10:00 +01:00",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_time_rejected(bad[i], NULL);
	assert_time_rejected("tomorrow", "invalid time 'tomorrow'");
	/* A date alone is ISO 8601 too, so the message names what is missing. */
	assert_time_rejected("2040-01-01", "give a date and a time of day");
}

/* Sets TZ for one test and restores the previous value afterwards. */
static int use_berlin(void **state)
{
	const char *old = getenv("TZ");

	*state = old != NULL ? strdup(old) : NULL;
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	return 0;
}

static int restore_zone(void **state)
{
	if (*state != NULL)
		setenv("TZ", *state, 1);
	else
		unsetenv("TZ");
	tzset();
	free(*state);
	return 0;
}

static void test_local_time_in_berlin(void **state)
{
	(void)state;
	assert_time("2026-07-01T12:00", 0, 1782900000);
	assert_time("2026-07-01 12:00:00", 0, 1782900000);
	assert_time("2026-01-15T12:00", 0, 1768474800);
	/* Either side of the spring gap. */
	assert_time("2026-03-29T01:59:59", 0, 1774745999);
	assert_time("2026-03-29T03:00", 0, 1774746000);
}

static void test_local_time_in_gap_rejected(void **state)
{
	(void)state;
	assert_time_rejected("2026-03-29T02:30",
			     "2026-03-29T02:30 does not exist in the local time zone (daylight saving change); add an offset such as +01:00");
	assert_time_rejected("2026-03-29 02:00", "does not exist");
}

static void test_local_time_repeated_rejected(void **state)
{
	(void)state;
	assert_time_rejected("2026-10-25T02:30",
			     "2026-10-25T02:30 occurs twice in the local time zone (daylight saving change); add an offset such as +02:00 or +01:00");
	/* With an offset the same wall time is fine, once for each pass. */
	assert_time("2026-10-25T02:30+02:00", 0, 1792888200);
	assert_time("2026-10-25T02:30+01:00", 0, 1792891800);
}

static void test_time_format(void **state)
{
	char out[32];

	(void)state;
	jit_time_format(1796415300, out, sizeof(out));
	assert_string_equal(out, "2026-12-04T20:15:00Z");
	jit_time_format(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	jit_time_format(2147483647LL, out, sizeof(out));
	assert_string_equal(out, "2038-01-19T03:14:07Z");
}

static void test_time_round_trip_64_bit(void **state)
{
	static const int64_t values[] = {
		2147483647LL, 2147483648LL, 4294967296LL, 1796415300, 0,
		253402300799LL,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char text[32];

		jit_time_format(values[i], text, sizeof(text));
		assert_time(text, 0, values[i]);
	}
}

static void test_clock_now_ms(void **state)
{
	int64_t before = (int64_t)time(NULL) * 1000;
	int64_t now = jit_clock_now_ms();
	int64_t after = ((int64_t)time(NULL) + 1) * 1000;

	(void)state;
	assert_true(now >= before);
	assert_true(now <= after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_accepts_units),
		cmocka_unit_test(test_duration_rejects_bad_input),
		cmocka_unit_test(test_duration_messages),
		cmocka_unit_test(test_duration_maximum),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_duration_zero_ok),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_duration_format_small_buffer),
		cmocka_unit_test(test_duration_round_trip),
		cmocka_unit_test(test_time_with_offset),
		cmocka_unit_test(test_time_relative),
		cmocka_unit_test(test_time_relative_overflow),
		cmocka_unit_test(test_time_rejects_bad_input),
		cmocka_unit_test_setup_teardown(test_local_time_in_berlin,
						use_berlin, restore_zone),
		cmocka_unit_test_setup_teardown(test_local_time_in_gap_rejected,
						use_berlin, restore_zone),
		cmocka_unit_test_setup_teardown(test_local_time_repeated_rejected,
						use_berlin, restore_zone),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_round_trip_64_bit),
		cmocka_unit_test(test_clock_now_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
