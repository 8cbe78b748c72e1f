/* Error codes and the error record every libjitcore call fills in.
 *
 * The library never logs. A failing call returns a jit_err and, when the
 * caller passed a jit_error, a one-line message naming the input that
 * failed; the front end decides what to print or emit. */
#ifndef JIT_ERROR_H
#define JIT_ERROR_H

#include <stddef.h>

typedef enum jit_err {
	JIT_OK = 0,
	JIT_ERR_NOMEM,          /* allocation failed */
	JIT_ERR_INVALID,        /* bad argument or user input */
	JIT_ERR_MALFORMED,      /* a grant, token or key file does not parse */
	JIT_ERR_BAD_SIGNATURE,  /* signature does not verify */
	JIT_ERR_UNKNOWN_KEY,    /* signed by a key that is not trusted */
	JIT_ERR_NOT_FOUND,      /* no such grant, file, user or role */
	JIT_ERR_EXISTS,         /* already there */
	JIT_ERR_IO,             /* a system call failed */
	JIT_ERR_UNSAFE_FILE,    /* wrong owner or mode on a config or key file */
	JIT_ERR_CONFIG,         /* the configuration is invalid */
	JIT_ERR_STORE,          /* LMDB failed */
	JIT_ERR_STORE_FULL,     /* the LMDB map is full */
	JIT_ERR_READERS_FULL,   /* the LMDB reader table is full after a sweep */
	JIT_ERR_NETWORK_FS,     /* the store is on a network file system */
	JIT_ERR_PERMISSION,     /* the caller lacks the privilege */
	JIT_ERR_CRYPTO,         /* libsodium failed to initialise or sign */
	JIT_ERR_TOO_LARGE,      /* input over its size limit */
	JIT_ERR_RANGE,          /* number or time out of range */
} jit_err;

#define JIT_ERROR_MESSAGE_MAX 512

typedef struct jit_error {
	jit_err code;
	char message[JIT_ERROR_MESSAGE_MAX];
} jit_error;

/* Returns a short fixed name for an error code, such as "store-full". */
const char *jit_err_name(jit_err code);

/* Records code and a formatted message in error (which may be NULL) and
 * returns code, so a failing path can end with "return jit_error_set(...)".
 * Control bytes in the message become '?'. */
jit_err jit_error_set(jit_error *error, jit_err code, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* Resets error to JIT_OK with an empty message. */
void jit_error_clear(jit_error *error);

#endif
