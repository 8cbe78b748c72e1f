/* Fuzz target for the duration parsers and formatter: jit_duration_parse,
 * jit_duration_parse_zero_ok and jit_duration_format.
 *
 * The oracles:
 * - a parsed duration is positive and below the limit that keeps
 *   milliseconds in an int64_t, formats to text that parses to the same
 *   value, and that text formats to itself;
 * - a maximum rejects exactly the values above it;
 * - the zero-tolerant parser agrees with the strict one except on a total
 *   of zero;
 * - formatting any int64_t into any buffer size stays inside the buffer
 *   and ends with a NUL. */
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "jit/timeutil.h"

/* The parsers' own bound: a duration in milliseconds, doubled, fits in an
 * int64_t. */
#define SECONDS_LIMIT (INT64_MAX / 1000 / 2)
#define EIGHT_HOURS (8 * 3600)
#define FORMAT_MAX 64

static const jit_err parse_errors[] = { JIT_ERR_INVALID, JIT_ERR_RANGE, JIT_OK };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_round_trip(const char *text, int64_t seconds)
{
	char formatted[FORMAT_MAX], again[FORMAT_MAX];
	int64_t reparsed = 0;
	jit_error error;

	jit_duration_format(seconds, formatted, sizeof(formatted));
	if (jit_duration_parse(formatted, 0, &reparsed, &error) != JIT_OK)
		fuzz_fail("'%s' parsed as %lld, which formats as '%s' that does not parse: %s",
			  text, (long long)seconds, formatted, error.message);
	if (reparsed != seconds)
		fuzz_fail("'%s' parsed as %lld, formats as '%s', which parses as %lld",
			  text, (long long)seconds, formatted,
			  (long long)reparsed);

	jit_duration_format(reparsed, again, sizeof(again));
	if (strcmp(again, formatted) != 0)
		fuzz_fail("'%s' formats as '%s' once parsed", formatted, again);
}

static void check_parse(const char *text)
{
	int64_t seconds = -1, capped = -1, zero_ok = -1;
	jit_err r, r_capped, r_zero;
	jit_error error;

	jit_error_clear(&error);
	r = jit_duration_parse(text, 0, &seconds, &error);
	if (r != JIT_OK)
		fuzz_check_error("jit_duration_parse", r, &error, false,
				 parse_errors);
	else if (seconds <= 0 || seconds > SECONDS_LIMIT)
		fuzz_fail("'%s' parsed as %lld, out of range", text,
			  (long long)seconds);
	else
		check_round_trip(text, seconds);

	jit_error_clear(&error);
	r_capped = jit_duration_parse(text, EIGHT_HOURS, &capped, &error);
	if ((r_capped == JIT_OK) != (r == JIT_OK && seconds <= EIGHT_HOURS))
		fuzz_fail("'%s' with a maximum of 8h: %s, without one: %s",
			  text, jit_err_name(r_capped), jit_err_name(r));
	if (r_capped == JIT_OK && capped != seconds)
		fuzz_fail("'%s' parsed as %lld with a maximum and %lld without",
			  text, (long long)capped, (long long)seconds);
	if (r_capped != JIT_OK)
		fuzz_check_error("jit_duration_parse with a maximum", r_capped,
				 &error, false, parse_errors);

	jit_error_clear(&error);
	r_zero = jit_duration_parse_zero_ok(text, 0, &zero_ok, &error);
	if (r == JIT_OK && (r_zero != JIT_OK || zero_ok != seconds))
		fuzz_fail("'%s' parses as %lld, but as %s %lld when zero is allowed",
			  text, (long long)seconds, jit_err_name(r_zero),
			  (long long)zero_ok);
	if (r != JIT_OK && r_zero == JIT_OK && zero_ok != 0)
		fuzz_fail("'%s' is rejected, but parses as %lld when zero is allowed",
			  text, (long long)zero_ok);
	if (r_zero != JIT_OK)
		fuzz_check_error("jit_duration_parse_zero_ok", r_zero, &error,
				 false, parse_errors);
}

/* Formats the int64_t in the first 8 bytes into a buffer whose size comes
 * from the 9th, which ASan places right before a redzone. */
static void check_format(const uint8_t *data, size_t size)
{
	char full[FORMAT_MAX];
	size_t out_len;
	int64_t value;
	char *out;

	if (size < 9)
		return;
	memcpy(&value, data, sizeof(value));
	out_len = data[8] % FORMAT_MAX;

	jit_duration_format(value, full, sizeof(full));
	if (memchr(full, '\0', sizeof(full)) == NULL)
		fuzz_fail("formatting %lld left no NUL", (long long)value);
	if (value > 0 && value <= SECONDS_LIMIT)
		check_round_trip(full, value);

	out = malloc(out_len > 0 ? out_len : 1);
	if (out == NULL)
		fuzz_fail("out of memory");
	jit_duration_format(value, out, out_len);
	if (out_len > 0 && memchr(out, '\0', out_len) == NULL)
		fuzz_fail("formatting %lld into %zu bytes left no NUL",
			  (long long)value, out_len);
	if (out_len > 0 && strncmp(out, full, out_len - 1) != 0)
		fuzz_fail("formatting %lld into %zu bytes gave '%s', not a prefix of '%s'",
			  (long long)value, out_len, out, full);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	check_parse(text);
	check_format(data, size);
	free(text);
	return 0;
}
