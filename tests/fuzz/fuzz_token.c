/* Fuzz target for the grant's text form, framing, signature check and
 * parser: jit_token_decode, jit_grant_verify, jit_grant_parse_unverified
 * and jit_grant_id_parse.
 *
 * Each input is tried as token text, as a raw blob, and as a raw blob
 * whose signed length field is set to match its size. The oracles:
 * - a token that decodes encodes back to exactly the same text;
 * - jit_grant_verify succeeds only for a byte-exact known-valid blob: the
 *   golden vector, or the input re-signed here with the golden key;
 * - a blob that parses, re-signed with the golden key, gives the same
 *   signed bytes apart from the key id (one encoding per grant), verifies,
 *   and reads back as the same grant;
 * - verify and parse_unverified agree on what a signed blob contains;
 * - no error message carries a control byte from the input.
 *
 * The golden key is the issuer key of the version-1 golden vector (seed
 * 01 02 .. 20). jit_issuer_key_load only reads root-owned files, so the
 * target must run as root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzzlib.h"
#include "jit/grant.h"
#include "jit/keys.h"

#define GOLDEN_SEED_KEY "jitsk1.AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n"
#define KEY_ID_OFFSET 5
#define KEY_ID_END (KEY_ID_OFFSET + JIT_KEY_ID_LEN)
#define SIGNED_LEN_END (KEY_ID_END + 4)

static const jit_err verify_errors[] = {
	JIT_ERR_MALFORMED, JIT_ERR_UNKNOWN_KEY, JIT_ERR_BAD_SIGNATURE, JIT_OK
};
static const jit_err parse_errors[] = { JIT_ERR_MALFORMED, JIT_OK };
static const jit_err decode_errors[] = {
	JIT_ERR_MALFORMED, JIT_ERR_TOO_LARGE, JIT_OK
};
static const jit_err id_errors[] = { JIT_ERR_INVALID, JIT_OK };

static jit_issuer_key *golden_key;
static jit_keyring *golden_keys;
static uint8_t golden_key_id[JIT_KEY_ID_LEN];
static uint8_t *golden_blob;
static size_t golden_blob_len;

static void load_golden_key(void)
{
	char dir[] = "/tmp/jit-fuzz-key.XXXXXX";
	uint8_t public_key[JIT_PUBLIC_KEY_LEN];
	char path[64];
	jit_error error;
	FILE *file;

	if (mkdtemp(dir) == NULL)
		fuzz_fail("mkdtemp %s failed", dir);
	snprintf(path, sizeof(path), "%s/issuer.key", dir);

	file = fopen(path, "wxe");
	if (file == NULL || fchmod(fileno(file), 0600) != 0 ||
	    fputs(GOLDEN_SEED_KEY, file) == EOF || fclose(file) != 0)
		fuzz_fail("writing the golden key to %s failed", path);

	if (jit_issuer_key_load(path, &golden_key, &error) != JIT_OK)
		fuzz_fail("loading the golden key (run as root): %s",
			  error.message);
	unlink(path);
	rmdir(dir);

	jit_issuer_key_id(golden_key, golden_key_id);
	jit_issuer_key_public(golden_key, public_key);
	if (jit_keyring_new(&golden_keys, &error) != JIT_OK ||
	    jit_keyring_add(golden_keys, public_key, &error) != JIT_OK)
		fuzz_fail("building the golden keyring: %s", error.message);
}

static void load_golden_token(void)
{
	char text[JIT_TOKEN_MAX_LEN + 2];
	jit_error error;
	FILE *file;
	size_t len;

	file = fopen(JIT_FUZZ_GOLDEN_TOKEN, "re");
	if (file == NULL)
		fuzz_fail("cannot open %s", JIT_FUZZ_GOLDEN_TOKEN);
	len = fread(text, 1, sizeof(text) - 1, file);
	fclose(file);
	text[len] = '\0';
	text[strcspn(text, "\n")] = '\0';

	if (jit_token_decode(text, &golden_blob, &golden_blob_len, &error) != JIT_OK)
		fuzz_fail("decoding %s: %s", JIT_FUZZ_GOLDEN_TOKEN, error.message);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	if (jit_crypto_init(NULL) != JIT_OK)
		fuzz_fail("libsodium failed to initialise");
	load_golden_key();
	load_golden_token();
	return 0;
}

static bool strings_equal(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static bool lists_equal(const jit_strlist *a, const jit_strlist *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
}

static bool commands_equal(const jit_grant *a, const jit_grant *b)
{
	if (a->command_count != b->command_count)
		return false;
	for (size_t i = 0; i < a->command_count; i++) {
		const jit_command *x = &a->commands[i], *y = &b->commands[i];

		if (strcmp(x->path, y->path) != 0 ||
		    x->args_given != y->args_given ||
		    !lists_equal(&x->args, &y->args))
			return false;
	}
	return true;
}

/* Compares every field but the key id, which re-signing replaces. */
static bool grants_equal(const jit_grant *a, const jit_grant *b)
{
	return a->version == b->version &&
	       memcmp(a->id, b->id, JIT_GRANT_ID_LEN) == 0 &&
	       a->not_before == b->not_before &&
	       a->not_after == b->not_after &&
	       a->issued_at == b->issued_at &&
	       a->break_glass == b->break_glass &&
	       strings_equal(a->user, b->user) &&
	       strings_equal(a->role, b->role) &&
	       strings_equal(a->request_id, b->request_id) &&
	       strings_equal(a->requester, b->requester) &&
	       strings_equal(a->reason, b->reason) &&
	       lists_equal(&a->hosts, &b->hosts) &&
	       lists_equal(&a->approvers, &b->approvers) &&
	       lists_equal(&a->runas_users, &b->runas_users) &&
	       lists_equal(&a->runas_groups, &b->runas_groups) &&
	       lists_equal(&a->services, &b->services) &&
	       commands_equal(a, b);
}

static bool blobs_equal(const uint8_t *a, size_t a_len, const uint8_t *b,
			size_t b_len)
{
	return a != NULL && b != NULL && a_len == b_len &&
	       memcmp(a, b, a_len) == 0;
}

/* Signs what parsed with the golden key and checks that the encoding is
 * the input's own, and that the result verifies as the same grant. Returns
 * the new blob, which the caller frees. */
static uint8_t *check_resign(const uint8_t *blob, size_t len,
			     const jit_grant *parsed, size_t *signed_len)
{
	jit_grant *again = NULL;
	uint8_t *resigned = NULL;
	size_t resigned_len = 0;
	jit_error error;
	jit_err r;

	r = jit_grant_sign(parsed, golden_key, &resigned, &resigned_len, &error);
	if (r != JIT_OK)
		fuzz_fail("a grant that parsed does not sign again: %s",
			  error.message);
	if (resigned_len != len ||
	    memcmp(resigned, blob, KEY_ID_OFFSET) != 0 ||
	    memcmp(resigned + KEY_ID_END, blob + KEY_ID_END,
		   len - KEY_ID_END - JIT_GRANT_SIGNATURE_LEN) != 0)
		fuzz_fail("re-encoding a parsed grant gave other bytes (%zu, was %zu)",
			  resigned_len, len);

	r = jit_grant_verify(resigned, resigned_len, golden_keys, &again, &error);
	if (r != JIT_OK)
		fuzz_fail("a grant signed with the golden key does not verify: %s",
			  error.message);
	if (!grants_equal(parsed, again) ||
	    memcmp(again->key_id, golden_key_id, JIT_KEY_ID_LEN) != 0)
		fuzz_fail("a re-signed grant verifies as a different grant");

	jit_grant_free(again);
	*signed_len = len - JIT_GRANT_SIGNATURE_LEN;
	return resigned;
}

static void check_blob(const uint8_t *blob, size_t len)
{
	jit_grant *parsed = NULL, *verified = NULL;
	uint8_t *resigned = NULL;
	size_t signed_len = 0;
	bool known_valid;
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = jit_grant_parse_unverified(blob, len, &parsed, &error);
	if (r != JIT_OK)
		fuzz_check_error("jit_grant_parse_unverified", r, &error, true,
				 parse_errors);
	else
		resigned = check_resign(blob, len, parsed, &signed_len);

	known_valid = blobs_equal(blob, len, golden_blob, golden_blob_len) ||
		      blobs_equal(blob, len, resigned, signed_len +
				  JIT_GRANT_SIGNATURE_LEN);

	jit_error_clear(&error);
	r = jit_grant_verify(blob, len, golden_keys, &verified, &error);
	if (r == JIT_OK && !known_valid)
		fuzz_fail("jit_grant_verify accepted a blob that is not known to be validly signed");
	if (r != JIT_OK && known_valid)
		fuzz_fail("jit_grant_verify rejected a validly signed blob: %s",
			  error.message);
	if (r != JIT_OK)
		fuzz_check_error("jit_grant_verify", r, &error, true,
				 verify_errors);
	if (r == JIT_OK && (parsed == NULL || !grants_equal(parsed, verified) ||
			    memcmp(parsed->key_id, verified->key_id,
				   JIT_KEY_ID_LEN) != 0))
		fuzz_fail("jit_grant_verify and jit_grant_parse_unverified disagree");
	if (r == JIT_OK && (verified->not_before >= verified->not_after ||
			    verified->user == NULL))
		fuzz_fail("jit_grant_verify accepted a grant that breaks the grant rules");

	free(resigned);
	jit_grant_free(parsed);
	jit_grant_free(verified);
}

static void check_token(const char *text)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	char *again = NULL;
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = jit_token_decode(text, &blob, &len, &error);
	if (r != JIT_OK) {
		fuzz_check_error("jit_token_decode", r, &error, true,
				 decode_errors);
		return;
	}

	/* Strict decoding allows one text per blob. */
	if (jit_token_encode(blob, len, &again, &error) != JIT_OK)
		fuzz_fail("a decoded token does not encode again: %s",
			  error.message);
	if (strcmp(again, text) != 0)
		fuzz_fail("token decodes but encodes back differently");

	check_blob(blob, len);
	free(again);
	free(blob);
}

/* Encoding any blob and decoding the text must give the blob back. */
static void check_encode(const uint8_t *data, size_t size)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	char *text = NULL;
	jit_error error;

	if (size == 0 || size > JIT_GRANT_MAX_BLOB)
		return;
	if (jit_token_encode(data, size, &text, &error) != JIT_OK)
		fuzz_fail("jit_token_encode failed: %s", error.message);
	if (jit_token_decode(text, &blob, &len, &error) != JIT_OK)
		fuzz_fail("an encoded token does not decode: %s", error.message);
	if (!blobs_equal(blob, len, data, size))
		fuzz_fail("an encoded token decodes to other bytes");
	free(text);
	free(blob);
}

static void check_grant_id(const char *text)
{
	char formatted[JIT_GRANT_ID_HEX_LEN + 1];
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = jit_grant_id_parse(text, id, &error);
	if (r != JIT_OK) {
		fuzz_check_error("jit_grant_id_parse", r, &error, true, id_errors);
		return;
	}

	jit_grant_id_format(id, formatted);
	if (strcasecmp(formatted, text) != 0)
		fuzz_fail("grant id '%s' formats back as '%s'", text, formatted);
}

/* Most mutations change the blob's length, which framing then rejects
 * before the parser runs. A copy whose signed length is set to match lets
 * every such mutation reach the parser too. */
static void check_blob_reframed(const uint8_t *data, size_t size)
{
	size_t signed_len;
	uint8_t *copy;

	if (size < SIGNED_LEN_END + JIT_GRANT_SIGNATURE_LEN ||
	    size > JIT_GRANT_MAX_BLOB)
		return;

	copy = malloc(size);
	if (copy == NULL)
		fuzz_fail("out of memory copying %zu bytes of input", size);
	memcpy(copy, data, size);
	signed_len = size - JIT_GRANT_SIGNATURE_LEN;
	for (size_t i = 0; i < 4; i++)
		copy[KEY_ID_END + i] = (uint8_t)(signed_len >> (24 - 8 * i));

	check_blob(copy, size);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	check_token(text);
	check_grant_id(text);
	check_blob(data, size);
	check_blob_reframed(data, size);
	check_encode(data, size);
	free(text);
	return 0;
}
