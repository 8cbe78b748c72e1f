#include "fuzzlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *format, ...)
{
	va_list ap;

	fputs("oracle failed: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

char *fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (text == NULL)
		fuzz_fail("out of memory copying %zu bytes of input", size);
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

bool fuzz_has_control(const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			return true;
	return false;
}

void fuzz_check_error(const char *call, jit_err code, const jit_error *error,
		      bool printable, const jit_err *allowed)
{
	bool listed = false;

	if (code == JIT_OK)
		fuzz_fail("%s: checked as a failure but returned JIT_OK", call);
	for (const jit_err *a = allowed; *a != JIT_OK && !listed; a++)
		listed = *a == code;
	if (!listed)
		fuzz_fail("%s: unexpected error code %s (%s)", call,
			  jit_err_name(code), error->message);

	if (error->code != code)
		fuzz_fail("%s: returned %s but recorded %s", call,
			  jit_err_name(code), jit_err_name(error->code));
	if (error->message[0] == '\0')
		fuzz_fail("%s: failed with %s and an empty message", call,
			  jit_err_name(code));
	if (printable && fuzz_has_control(error->message))
		fuzz_fail("%s: message contains a control character: %s", call,
			  error->message);
}
