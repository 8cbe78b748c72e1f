/* Small shared helpers: string lists and bounded, printable text. */
#ifndef JIT_UTIL_H
#define JIT_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "jit/error.h"

typedef struct jit_strlist {
	size_t count;
	char **items;
} jit_strlist;

/* Appends a copy of item. */
jit_err jit_strlist_append(jit_strlist *list, const char *item);
bool jit_strlist_contains(const jit_strlist *list, const char *item);
void jit_strlist_clear(jit_strlist *list);

/* Splits text at commas, trims blanks around each item and drops empty
 * items; used for config values and --runas lists. */
jit_err jit_strlist_split(jit_strlist *list, const char *text);

/* Checks that text[0..len) uses only the base64url alphabet
 * [A-Za-z0-9_-]. libsodium 1.0.18 decodes bytes 0x80-0xff as if they were
 * '_', so callers check the alphabet themselves before decoding. */
bool jit_is_base64url(const char *text, size_t len);

/* Checks that name is a valid POSIX-style user or group name
 * (letters, digits, '_', '-', '.', not starting with '-', 1..32 bytes). */
bool jit_valid_name(const char *name);

#endif
