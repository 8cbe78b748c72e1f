/* The grant: model, canonical signed encoding, and the text form.
 *
 * Binary layout, version 1 (all integers big-endian):
 *
 *   "JITG"      magic, 4 bytes
 *   version     u8, 1
 *   key id      8 bytes, the issuer key's id
 *   signed_len  u32, length of everything before the signature
 *   grant id    16 bytes
 *   not_before, not_after, issued_at   i64 each, seconds since the epoch
 *   flags       u8, bit 0 = break-glass, other bits must be zero
 *   user, role, request id, requester, reason            u16 length + bytes
 *   hosts, approvers, runas users, runas groups, services: u16 count, then
 *                                                          u16 length + bytes each
 *   commands    u16 count, each: path (u16 length + bytes), u8 args_given,
 *               then when args_given: u16 count + strings
 *   signature   64 bytes, Ed25519 over "jit-grant-v1" NUL, then bytes [0, signed_len)
 *
 * The whole blob must be exactly signed_len + 64 bytes. Strings are not
 * NUL-terminated in the blob and must not contain NUL or control bytes. */
#ifndef JIT_GRANT_H
#define JIT_GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"
#include "jit/keys.h"
#include "jit/util.h"

#define JIT_GRANT_VERSION 1
#define JIT_GRANT_ID_LEN 16
#define JIT_GRANT_ID_HEX_LEN (2 * JIT_GRANT_ID_LEN)
#define JIT_GRANT_MAX_BLOB (64 * 1024)
#define JIT_GRANT_SIGNATURE_LEN 64
#define JIT_TOKEN_PREFIX "jitg1."
/* Maximum token length: the prefix and the unpadded base64url of the
 * largest blob. jit_token_decode rejects longer text without decoding it. */
#define JIT_TOKEN_MAX_LEN \
	(sizeof(JIT_TOKEN_PREFIX) - 1 + (JIT_GRANT_MAX_BLOB * 4 + 2) / 3)

/* A command in a grant's scope. path is an absolute path, or "ALL" for any
 * command (shells included). When args_given is false any arguments are
 * allowed; when true the arguments must equal args exactly (none if empty). */
typedef struct jit_command {
	char *path;
	bool args_given;
	jit_strlist args;
} jit_command;

typedef struct jit_grant {
	uint8_t version;
	uint8_t key_id[JIT_KEY_ID_LEN];
	uint8_t id[JIT_GRANT_ID_LEN];
	int64_t not_before;
	int64_t not_after;
	int64_t issued_at;
	bool break_glass;
	char *user;
	char *role;
	char *request_id;   /* "" when issued directly */
	char *requester;
	char *reason;
	jit_strlist hosts;  /* exact names or fnmatch(3) patterns */
	jit_strlist approvers;
	jit_strlist runas_users;   /* empty means root */
	jit_strlist runas_groups;
	jit_strlist services;      /* PAM service names */
	size_t command_count;
	jit_command *commands;
} jit_grant;

void jit_grant_free(jit_grant *grant);

/* Allocates an empty grant for jit_grant_free: version set, times zero,
 * strings NULL (signing reads a NULL optional string as ""), lists empty. */
jit_err jit_grant_new(jit_grant **grant, jit_error *error);

/* Appends a command to grant's scope; args may be NULL for "any arguments". */
jit_err jit_grant_add_command(jit_grant *grant, const char *path,
			      const jit_strlist *args, jit_error *error);

/* Fills grant->id with 128 random bits. */
void jit_grant_new_id(jit_grant *grant);

/* Encodes grant and signs it with key; grant->key_id and version are
 * taken from key and the current format. On success *blob is malloc'd. */
jit_err jit_grant_sign(const jit_grant *grant, const jit_issuer_key *key,
		       uint8_t **blob, size_t *blob_len, jit_error *error);

/* Checks the blob's framing (magic, version, lengths) before any crypto,
 * finds its key in keys, verifies the signature over the exact received
 * bytes, then parses those same bytes. Returns JIT_ERR_MALFORMED,
 * JIT_ERR_UNKNOWN_KEY or JIT_ERR_BAD_SIGNATURE on the matching failure. */
jit_err jit_grant_verify(const uint8_t *blob, size_t blob_len,
			 const jit_keyring *keys, jit_grant **grant,
			 jit_error *error);

/* Parses a blob without verifying its signature; for listings of what is
 * stored (never for decisions). Framing rules are the same as above. */
jit_err jit_grant_parse_unverified(const uint8_t *blob, size_t blob_len,
				   jit_grant **grant, jit_error *error);

/* Text form: JIT_TOKEN_PREFIX then unpadded base64url of the blob. Decoding
 * is strict: other alphabets, padding, whitespace and non-zero spare bits
 * are rejected. */
jit_err jit_token_encode(const uint8_t *blob, size_t blob_len, char **text,
			 jit_error *error);
jit_err jit_token_decode(const char *text, uint8_t **blob, size_t *blob_len,
			 jit_error *error);

/* Grant ids as 32 lower-case hex digits. */
void jit_grant_id_format(const uint8_t id[JIT_GRANT_ID_LEN],
			 char out[JIT_GRANT_ID_HEX_LEN + 1]);
jit_err jit_grant_id_parse(const char *text, uint8_t id[JIT_GRANT_ID_LEN],
			   jit_error *error);

/* True when host matches one of grant's host selectors (fnmatch, no flags). */
bool jit_grant_matches_host(const jit_grant *grant, const char *host);

#endif
