#include "jit/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *jit_err_name(jit_err code)
{
	switch (code) {
	case JIT_OK: return "ok";
	case JIT_ERR_NOMEM: return "out-of-memory";
	case JIT_ERR_INVALID: return "invalid";
	case JIT_ERR_MALFORMED: return "malformed";
	case JIT_ERR_BAD_SIGNATURE: return "bad-signature";
	case JIT_ERR_UNKNOWN_KEY: return "unknown-key";
	case JIT_ERR_NOT_FOUND: return "not-found";
	case JIT_ERR_EXISTS: return "exists";
	case JIT_ERR_IO: return "io-error";
	case JIT_ERR_UNSAFE_FILE: return "unsafe-file";
	case JIT_ERR_CONFIG: return "config-error";
	case JIT_ERR_STORE: return "store-error";
	case JIT_ERR_STORE_FULL: return "store-full";
	case JIT_ERR_READERS_FULL: return "readers-full";
	case JIT_ERR_NETWORK_FS: return "network-fs";
	case JIT_ERR_PERMISSION: return "permission-denied";
	case JIT_ERR_CRYPTO: return "crypto-error";
	case JIT_ERR_TOO_LARGE: return "too-large";
	case JIT_ERR_RANGE: return "out-of-range";
	}
	return "unknown-error";
}

jit_err jit_error_set(jit_error *error, jit_err code, const char *format, ...)
{
	va_list ap;

	if (error == NULL)
		return code;

	error->code = code;
	va_start(ap, format);
	vsnprintf(error->message, sizeof(error->message), format, ap);
	va_end(ap);

	/* Messages quote user input and end up on terminals and in logs, so
	 * they stay one line without escape sequences. */
	for (char *p = error->message; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return code;
}

void jit_error_clear(jit_error *error)
{
	if (error == NULL)
		return;
	error->code = JIT_OK;
	error->message[0] = '\0';
}
