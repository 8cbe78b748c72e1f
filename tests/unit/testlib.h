/* Helpers shared by the unit tests: temporary folders and files, a test
 * issuer key and keyring, and a config text builder. */
#ifndef JIT_TESTLIB_H
#define JIT_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "jit.h"

/* Creates a fresh folder under $TMPDIR (or /tmp), mode 0700; returns a
 * malloc'd path. test_rmtree removes it and everything inside. */
char *test_mkdtemp(void);
void test_rmtree(const char *path);

/* Writes text to dir/name with mode, returning the malloc'd path. */
char *test_write_file(const char *dir, const char *name, const char *text,
		      unsigned mode);
#endif
