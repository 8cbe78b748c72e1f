/* The issuer's signing key and the set of trusted public keys.
 *
 * Key id: the first 8 bytes of BLAKE2b-256 over the 32-byte public key, so
 * an id can never name a different key. Files hold one line:
 *
 *   issuer key   "jitsk1." base64url(seed, 32 bytes)        mode 0600, root
 *   trusted key  "jitpk1." base64url(public key, 32 bytes)  one per file,
 *                 named "*.pub" in the trusted_keys folder
 *
 * The secret key lives in sodium_malloc'd (guarded, locked) memory and is
 * wiped when freed. */
#ifndef JIT_KEYS_H
#define JIT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"

#define JIT_KEY_ID_LEN 8
#define JIT_KEY_ID_HEX_LEN (2 * JIT_KEY_ID_LEN)
#define JIT_PUBLIC_KEY_LEN 32

typedef struct jit_issuer_key jit_issuer_key;
typedef struct jit_keyring jit_keyring;

/* Initialises libsodium once; every crypto entry point calls it. */
jit_err jit_crypto_init(jit_error *error);

/* Creates a new issuer key file at path (0600, fails if it exists). */
jit_err jit_issuer_key_generate(const char *path, jit_error *error);

/* Loads the issuer key; the file must be root-owned with mode 0600 or
 * stricter (JIT_ERR_UNSAFE_FILE otherwise). */
jit_err jit_issuer_key_load(const char *path, jit_issuer_key **key,
			    jit_error *error);
void jit_issuer_key_free(jit_issuer_key *key);

void jit_issuer_key_id(const jit_issuer_key *key, uint8_t id[JIT_KEY_ID_LEN]);
void jit_issuer_key_public(const jit_issuer_key *key,
			   uint8_t public_key[JIT_PUBLIC_KEY_LEN]);

/* Signs message into signature (64 bytes). */
jit_err jit_issuer_key_sign(const jit_issuer_key *key, const uint8_t *message,
			    size_t message_len, uint8_t signature[64],
			    jit_error *error);

/* Writes "<key id hex>.pub" into folder dir (0644, root-owned). */
jit_err jit_issuer_key_write_public(const jit_issuer_key *key, const char *dir,
				    jit_error *error);

/* Loads every "*.pub" file in dir. The folder and each file must be
 * root-owned and not writable by group or others; any unsafe, unreadable or
 * malformed file fails the whole load (fail closed). An empty folder gives
 * an empty keyring. */
jit_err jit_keyring_load(const char *dir, jit_keyring **keys, jit_error *error);
jit_err jit_keyring_new(jit_keyring **keys, jit_error *error);
jit_err jit_keyring_add(jit_keyring *keys,
			const uint8_t public_key[JIT_PUBLIC_KEY_LEN],
			jit_error *error);
void jit_keyring_free(jit_keyring *keys);

/* Returns how many keys the keyring holds. */
size_t jit_keyring_count(const jit_keyring *keys);

/* Returns the public key with that id, or NULL. */
const uint8_t *jit_keyring_find(const jit_keyring *keys,
				const uint8_t id[JIT_KEY_ID_LEN]);

void jit_key_id_compute(const uint8_t public_key[JIT_PUBLIC_KEY_LEN],
			uint8_t id[JIT_KEY_ID_LEN]);
void jit_key_id_format(const uint8_t id[JIT_KEY_ID_LEN],
		       char out[JIT_KEY_ID_HEX_LEN + 1]);

#endif
