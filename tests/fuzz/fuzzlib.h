/* Helpers shared by the libFuzzer targets. */
#ifndef JIT_FUZZLIB_H
#define JIT_FUZZLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"

/* libFuzzer's entry points, declared here for -Wmissing-prototypes. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken oracle on stderr and aborts, which libFuzzer records
 * as a crash and saves the input for. */
void fuzz_fail(const char *format, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/* Returns a NUL-terminated copy of the input, which C string parsers read
 * only up to its first NUL byte. Aborts when out of memory. */
char *fuzz_text(const uint8_t *data, size_t size);

/* Checks what every failing libjitcore call promises: a code that is not
 * JIT_OK and one of allowed (JIT_OK ends the list), and a message that is
 * not empty. When printable is true, the message must also contain no
 * control character, so that it cannot forge or colour a log line. */
void fuzz_check_error(const char *call, jit_err code, const jit_error *error,
		      bool printable, const jit_err *allowed);

/* True when text contains a byte below 0x20 or 0x7f. */
bool fuzz_has_control(const char *text);

#endif
