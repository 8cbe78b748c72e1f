/* Grants: the signed encoding, strict framing and parsing, the text form,
 * grant ids, host selectors and the golden vector of format version 1. */
#include "testlib.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

/* Offsets in the version-1 header: magic, version, key id, signed_len. */
#define VERSION_OFFSET 4
#define KEY_ID_OFFSET 5
#define SIGNED_LEN_OFFSET 13
#define HEADER_LEN 17
#define FLAGS_OFFSET (HEADER_LEN + JIT_GRANT_ID_LEN + 3 * 8)
#define SIGNATURE_LEN JIT_GRANT_SIGNATURE_LEN

#define SEED_KEY_TEXT "jitsk1.AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n"
#define GOLDEN_DIR JIT_TEST_SOURCE_DIR "/tests/unit/golden"

struct fixture {
	char *dir;
	jit_issuer_key *key;        /* from the seed 01 02 .. 20 */
	jit_issuer_key *other_key;  /* generated, not trusted */
	jit_keyring *keys;          /* trusts key only */
};

static jit_issuer_key *load_key_text(const char *dir, const char *name,
				     const char *text)
{
	char *path = test_write_file(dir, name, text, 0600);
	jit_issuer_key *key = NULL;

	assert_int_equal(jit_issuer_key_load(path, &key, NULL), JIT_OK);
	free(path);
	return key;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint8_t public_key[JIT_PUBLIC_KEY_LEN];
	char *other = NULL;

	assert_non_null(f);
	f->dir = test_mkdtemp();
	f->key = load_key_text(f->dir, "issuer.key", SEED_KEY_TEXT);

	assert_true(asprintf(&other, "%s/other.key", f->dir) > 0);
	assert_int_equal(jit_issuer_key_generate(other, NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_load(other, &f->other_key, NULL), JIT_OK);
	free(other);

	assert_int_equal(jit_keyring_new(&f->keys, NULL), JIT_OK);
	jit_issuer_key_public(f->key, public_key);
	assert_int_equal(jit_keyring_add(f->keys, public_key, NULL), JIT_OK);

	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	jit_keyring_free(f->keys);
	jit_issuer_key_free(f->key);
	jit_issuer_key_free(f->other_key);
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static jit_grant *new_grant(void)
{
	jit_grant *grant = NULL;

	assert_int_equal(jit_grant_new(&grant, NULL), JIT_OK);
	return grant;
}

static void set_text(char **field, const char *text)
{
	free(*field);
	*field = strdup(text);
	assert_non_null(*field);
}

static void add_item(jit_strlist *list, const char *item)
{
	assert_int_equal(jit_strlist_append(list, item), JIT_OK);
}

static void add_command_args(jit_grant *grant, const char *path,
			     const char *const *args, size_t count)
{
	jit_strlist list = { 0 };

	for (size_t i = 0; i < count; i++)
		add_item(&list, args[i]);
	assert_int_equal(jit_grant_add_command(grant, path, &list, NULL), JIT_OK);
	jit_strlist_clear(&list);
}

/* A grant with every field set, and every kind of command. */
static jit_grant *full_grant(void)
{
	static const char *const restart[] = { "restart", "postgresql" };
	static const char *const odd[] = { "", "two words", "\xc3\xa9t\xc3\xa9" };
	jit_grant *grant = new_grant();

	jit_grant_new_id(grant);
	grant->not_before = 1767225600;
	grant->not_after = 1767229200;
	grant->issued_at = 1767225590;
	grant->break_glass = false;
	set_text(&grant->user, "alice");
	set_text(&grant->role, "dba");
	set_text(&grant->request_id, "r-42");
	set_text(&grant->requester, "alice");
	set_text(&grant->reason, "INC-1 restore the orders table");
	add_item(&grant->hosts, "db1.example.com");
	add_item(&grant->hosts, "db-*");
	add_item(&grant->approvers, "bob");
	add_item(&grant->approvers, "carol");
	add_item(&grant->runas_users, "postgres");
	add_item(&grant->runas_groups, "postgres");
	add_item(&grant->runas_groups, "adm");
	add_item(&grant->services, "sshd");
	add_command_args(grant, "/usr/bin/systemctl", restart, 2);
	assert_int_equal(jit_grant_add_command(grant, "/usr/bin/psql", NULL, NULL),
			 JIT_OK);
	add_command_args(grant, "/usr/bin/true", NULL, 0);
	add_command_args(grant, "/usr/bin/printf", odd, 3);
	assert_int_equal(jit_grant_add_command(grant, "ALL", NULL, NULL), JIT_OK);
	return grant;
}

/* The smallest valid grant: a user, a time window, nothing else. */
static jit_grant *small_grant(void)
{
	jit_grant *grant = new_grant();

	grant->not_before = 100;
	grant->not_after = 200;
	set_text(&grant->user, "bob");
	return grant;
}

static void assert_lists_equal(const jit_strlist *a, const jit_strlist *b)
{
	assert_int_equal(a->count, b->count);
	for (size_t i = 0; i < a->count; i++)
		assert_string_equal(a->items[i], b->items[i]);
}

static const char *text_or_empty(const char *text)
{
	return text != NULL ? text : "";
}

static void assert_grants_equal(const jit_grant *a, const jit_grant *b)
{
	assert_memory_equal(a->id, b->id, JIT_GRANT_ID_LEN);
	assert_int_equal(a->not_before, b->not_before);
	assert_int_equal(a->not_after, b->not_after);
	assert_int_equal(a->issued_at, b->issued_at);
	assert_int_equal(a->break_glass, b->break_glass);
	assert_string_equal(a->user, b->user);
	assert_string_equal(text_or_empty(a->role), text_or_empty(b->role));
	assert_string_equal(text_or_empty(a->request_id),
			    text_or_empty(b->request_id));
	assert_string_equal(text_or_empty(a->requester),
			    text_or_empty(b->requester));
	assert_string_equal(text_or_empty(a->reason), text_or_empty(b->reason));
	assert_lists_equal(&a->hosts, &b->hosts);
	assert_lists_equal(&a->approvers, &b->approvers);
	assert_lists_equal(&a->runas_users, &b->runas_users);
	assert_lists_equal(&a->runas_groups, &b->runas_groups);
	assert_lists_equal(&a->services, &b->services);
	assert_int_equal(a->command_count, b->command_count);
	for (size_t i = 0; i < a->command_count; i++) {
		assert_string_equal(a->commands[i].path, b->commands[i].path);
		assert_int_equal(a->commands[i].args_given,
				 b->commands[i].args_given);
		assert_lists_equal(&a->commands[i].args, &b->commands[i].args);
	}
}

static void sign(const jit_grant *grant, const jit_issuer_key *key,
		 uint8_t **blob, size_t *blob_len)
{
	jit_error error = { 0 };

	assert_int_equal(jit_grant_sign(grant, key, blob, blob_len, &error),
			 JIT_OK);
	assert_non_null(*blob);
}

static uint32_t signed_len_of(const uint8_t *blob)
{
	return (uint32_t)blob[SIGNED_LEN_OFFSET] << 24 |
	       (uint32_t)blob[SIGNED_LEN_OFFSET + 1] << 16 |
	       (uint32_t)blob[SIGNED_LEN_OFFSET + 2] << 8 |
	       (uint32_t)blob[SIGNED_LEN_OFFSET + 3];
}

static void store_signed_len(uint8_t *blob, uint32_t len)
{
	blob[SIGNED_LEN_OFFSET] = (uint8_t)(len >> 24);
	blob[SIGNED_LEN_OFFSET + 1] = (uint8_t)(len >> 16);
	blob[SIGNED_LEN_OFFSET + 2] = (uint8_t)(len >> 8);
	blob[SIGNED_LEN_OFFSET + 3] = (uint8_t)len;
}

/* Signs blob[0, signed_len) the way an issuer would, writing the signature
 * right after it: lets a test build grants the encoder would never make. */
static void resign(const jit_issuer_key *key, uint8_t *blob, size_t signed_len)
{
	static const char domain[] = "jit-grant-v1";
	uint8_t *message = malloc(sizeof(domain) + signed_len);

	assert_non_null(message);
	memcpy(message, domain, sizeof(domain));
	memcpy(message + sizeof(domain), blob, signed_len);
	assert_int_equal(jit_issuer_key_sign(key, message,
					     sizeof(domain) + signed_len,
					     blob + signed_len, NULL), JIT_OK);
	free(message);
}

/* Returns a copy of blob's signed region with room for edits, replaced by
 * new_len bytes of which the first keep_len come from blob. */
static uint8_t *copy_signed(const uint8_t *blob, size_t keep_len,
			    size_t new_len)
{
	uint8_t *copy = calloc(1, new_len + SIGNATURE_LEN);

	assert_non_null(copy);
	memcpy(copy, blob, keep_len < new_len ? keep_len : new_len);
	return copy;
}

static size_t find_bytes(const uint8_t *blob, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(blob + i, needle, n) == 0)
			return i;
	fail_msg("\"%s\" not found in the blob", needle);
	return 0;
}

static jit_err verify_blob(const struct fixture *f, const uint8_t *blob,
			   size_t len, jit_error *error)
{
	jit_grant *grant = NULL;
	jit_err r;

	r = jit_grant_verify(blob, len, f->keys, &grant, error);
	if (r == JIT_OK)
		assert_non_null(grant);
	else
		assert_null(grant);
	jit_grant_free(grant);
	return r;
}

static void round_trip_every_field(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = full_grant(), *back = NULL, *listed = NULL;
	uint8_t key_id[JIT_KEY_ID_LEN];
	uint8_t *blob = NULL, *decoded = NULL;
	size_t blob_len = 0, decoded_len = 0;
	jit_error error = { 0 };
	char *token = NULL;

	sign(grant, f->key, &blob, &blob_len);
	assert_int_equal(jit_token_encode(blob, blob_len, &token, &error), JIT_OK);
	assert_int_equal(strncmp(token, "jitg1.", 6), 0);
	assert_int_equal(jit_token_decode(token, &decoded, &decoded_len, &error),
			 JIT_OK);
	assert_int_equal(decoded_len, blob_len);
	assert_memory_equal(decoded, blob, blob_len);

	assert_int_equal(jit_grant_verify(decoded, decoded_len, f->keys, &back,
					  &error), JIT_OK);
	assert_grants_equal(grant, back);
	assert_int_equal(back->version, JIT_GRANT_VERSION);
	jit_issuer_key_id(f->key, key_id);
	assert_memory_equal(back->key_id, key_id, JIT_KEY_ID_LEN);

	assert_int_equal(jit_grant_parse_unverified(blob, blob_len, &listed,
						    &error), JIT_OK);
	assert_grants_equal(grant, listed);

	jit_grant_free(listed);
	jit_grant_free(back);
	jit_grant_free(grant);
	free(token);
	free(decoded);
	free(blob);
}

static void round_trip_64_bit_times(void **state)
{
	struct fixture *f = *state;
	static const int64_t not_after[] = {
		INT64_C(2147483647),          /* 2^31 - 1 */
		INT64_C(2147483648),          /* 2^31 */
		INT64_C(4294967296),          /* 2^32 */
		INT64_C(253402300799),        /* 9999-12-31T23:59:59Z */
		INT64_MAX,
	};

	for (size_t i = 0; i < sizeof(not_after) / sizeof(not_after[0]); i++) {
		jit_grant *grant = small_grant(), *back = NULL;
		uint8_t *blob = NULL, *decoded = NULL;
		size_t blob_len = 0, decoded_len = 0;
		char *token = NULL;

		grant->not_before = not_after[i] - 3600;
		grant->issued_at = not_after[i] - 7200;
		grant->not_after = not_after[i];
		sign(grant, f->key, &blob, &blob_len);
		assert_int_equal(jit_token_encode(blob, blob_len, &token, NULL),
				 JIT_OK);
		assert_int_equal(jit_token_decode(token, &decoded, &decoded_len,
						  NULL), JIT_OK);
		assert_int_equal(jit_grant_verify(decoded, decoded_len, f->keys,
						  &back, NULL), JIT_OK);
		assert_true(back->not_after == not_after[i]);
		assert_true(back->not_before == not_after[i] - 3600);
		assert_true(back->issued_at == not_after[i] - 7200);

		jit_grant_free(back);
		jit_grant_free(grant);
		free(token);
		free(decoded);
		free(blob);
	}
}

static void round_trip_negative_times(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant(), *back = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0;

	grant->not_before = INT64_MIN;
	grant->not_after = -1;
	grant->issued_at = INT64_MIN;
	sign(grant, f->key, &blob, &blob_len);
	assert_int_equal(jit_grant_verify(blob, blob_len, f->keys, &back, NULL),
			 JIT_OK);
	assert_true(back->not_before == INT64_MIN);
	assert_true(back->not_after == -1);
	assert_true(back->issued_at == INT64_MIN);

	jit_grant_free(back);
	jit_grant_free(grant);
	free(blob);
}

static void round_trip_break_glass_and_empty(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant(), *back = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0;

	grant->break_glass = true;
	sign(grant, f->key, &blob, &blob_len);
	assert_int_equal(blob[FLAGS_OFFSET], 1);
	assert_int_equal(jit_grant_verify(blob, blob_len, f->keys, &back, NULL),
			 JIT_OK);
	assert_true(back->break_glass);
	/* Unset optional strings come back as "", never NULL. */
	assert_string_equal(back->role, "");
	assert_string_equal(back->request_id, "");
	assert_string_equal(back->requester, "");
	assert_string_equal(back->reason, "");
	assert_int_equal(back->hosts.count, 0);
	assert_int_equal(back->command_count, 0);

	jit_grant_free(back);
	jit_grant_free(grant);
	free(blob);
}

static void sign_is_deterministic(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = full_grant();
	uint8_t *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0;

	sign(grant, f->key, &a, &a_len);
	sign(grant, f->key, &b, &b_len);
	assert_int_equal(a_len, b_len);
	assert_memory_equal(a, b, a_len);
	assert_int_equal(signed_len_of(a) + SIGNATURE_LEN, a_len);

	jit_grant_free(grant);
	free(a);
	free(b);
}

static void sign_ignores_grant_key_id_and_version(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant(), *back = NULL;
	uint8_t key_id[JIT_KEY_ID_LEN];
	uint8_t *blob = NULL;
	size_t blob_len = 0;

	grant->version = 7;
	memset(grant->key_id, 0xee, sizeof(grant->key_id));
	sign(grant, f->key, &blob, &blob_len);
	assert_int_equal(jit_grant_verify(blob, blob_len, f->keys, &back, NULL),
			 JIT_OK);
	jit_issuer_key_id(f->key, key_id);
	assert_memory_equal(back->key_id, key_id, JIT_KEY_ID_LEN);
	assert_int_equal(back->version, 1);

	jit_grant_free(back);
	jit_grant_free(grant);
	free(blob);
}

static void signature_cut_or_extended_is_malformed(void **state)
{
	struct fixture *f = *state;
	static const size_t kept[] = { 0, 1, 32, 63, 65, 128 };
	jit_grant *grant = full_grant();
	jit_keyring *empty = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0, signed_len;

	sign(grant, f->key, &blob, &blob_len);
	signed_len = blob_len - SIGNATURE_LEN;
	assert_int_equal(jit_keyring_new(&empty, NULL), JIT_OK);

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		uint8_t *cut = copy_signed(blob, blob_len, signed_len + kept[i]);
		size_t cut_len = signed_len + kept[i];
		jit_grant *grant_out = NULL;
		jit_error error = { 0 };

		print_message("signature of %zu bytes\n", kept[i]);
		assert_int_equal(verify_blob(f, cut, cut_len, &error),
				 JIT_ERR_MALFORMED);
		/* MALFORMED even when no key is trusted: the framing check ran
		 * before any key lookup or signature check. */
		assert_int_equal(jit_grant_verify(cut, cut_len, empty,
						  &grant_out, NULL),
				 JIT_ERR_MALFORMED);
		assert_int_equal(jit_grant_parse_unverified(cut, cut_len,
							    &grant_out, NULL),
				 JIT_ERR_MALFORMED);
		assert_null(grant_out);
		free(cut);
	}

	jit_keyring_free(empty);
	jit_grant_free(grant);
	free(blob);
}

static void signature_cut_through_token_is_malformed(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL, *decoded = NULL;
	size_t blob_len = 0, decoded_len = 0;
	char *token = NULL;

	sign(grant, f->key, &blob, &blob_len);
	assert_int_equal(jit_token_encode(blob, blob_len - 1, &token, NULL),
			 JIT_OK);
	assert_int_equal(jit_token_decode(token, &decoded, &decoded_len, NULL),
			 JIT_OK);
	assert_int_equal(verify_blob(f, decoded, decoded_len, NULL),
			 JIT_ERR_MALFORMED);

	jit_grant_free(grant);
	free(token);
	free(decoded);
	free(blob);
}

static void trailing_byte_is_malformed(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL, *longer;
	size_t blob_len = 0;
	jit_error error = { 0 };

	sign(grant, f->key, &blob, &blob_len);
	longer = calloc(1, blob_len + 1);
	assert_non_null(longer);
	memcpy(longer, blob, blob_len);

	assert_int_equal(verify_blob(f, longer, blob_len + 1, &error),
			 JIT_ERR_MALFORMED);
	longer[blob_len] = 0xff;
	assert_int_equal(verify_blob(f, longer, blob_len + 1, &error),
			 JIT_ERR_MALFORMED);
	assert_int_equal(verify_blob(f, longer, blob_len, NULL), JIT_OK);

	jit_grant_free(grant);
	free(longer);
	free(blob);
}

static void short_blobs_are_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t bytes[HEADER_LEN + SIGNATURE_LEN] = { 'J', 'I', 'T', 'G', 1 };
	jit_grant *grant = NULL;

	for (size_t len = 0; len <= sizeof(bytes); len++)
		assert_int_equal(verify_blob(f, bytes, len, NULL),
				 JIT_ERR_MALFORMED);
	assert_int_equal(jit_grant_verify(NULL, 0, f->keys, &grant, NULL),
			 JIT_ERR_MALFORMED);
	assert_null(grant);
}

static void oversized_blob_is_malformed(void **state)
{
	struct fixture *f = *state;
	size_t len = JIT_GRANT_MAX_BLOB + 1;
	uint8_t *blob = calloc(1, len);

	assert_non_null(blob);
	memcpy(blob, "JITG\1", 5);
	store_signed_len(blob, (uint32_t)(len - SIGNATURE_LEN));
	assert_int_equal(verify_blob(f, blob, len, NULL), JIT_ERR_MALFORMED);
	free(blob);
}

static void bad_magic_is_malformed(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	jit_error error = { 0 };

	sign(grant, f->key, &blob, &blob_len);
	blob[0] = 'j';
	assert_int_equal(verify_blob(f, blob, blob_len, &error),
			 JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "JITG"));

	jit_grant_free(grant);
	free(blob);
}

static void other_versions_are_malformed(void **state)
{
	struct fixture *f = *state;
	static const uint8_t versions[] = { 0, 2, 255 };
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0;

	sign(grant, f->key, &blob, &blob_len);
	for (size_t i = 0; i < sizeof(versions); i++) {
		jit_grant *parsed = NULL;
		jit_error error = { 0 };
		char expected[64];

		blob[VERSION_OFFSET] = versions[i];
		/* Re-signed, so only the version can be what is wrong. */
		resign(f->key, blob, blob_len - SIGNATURE_LEN);
		snprintf(expected, sizeof(expected),
			 "unsupported grant format version %u",
			 (unsigned)versions[i]);

		assert_int_equal(verify_blob(f, blob, blob_len, &error),
				 JIT_ERR_MALFORMED);
		assert_string_equal(error.message, expected);
		assert_int_equal(jit_grant_parse_unverified(blob, blob_len,
							    &parsed, NULL),
				 JIT_ERR_MALFORMED);
	}

	jit_grant_free(grant);
	free(blob);
}

static void scope_byte_changed_is_bad_signature(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = full_grant(), *listed = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0, at;
	jit_error error = { 0 };

	sign(grant, f->key, &blob, &blob_len);
	at = find_bytes(blob, blob_len, "/usr/bin/systemctl");
	blob[at + 9] = 'S';   /* /usr/bin/Systemctl */

	assert_int_equal(verify_blob(f, blob, blob_len, &error),
			 JIT_ERR_BAD_SIGNATURE);
	/* The listing parser still reads it, which is why it never decides. */
	assert_int_equal(jit_grant_parse_unverified(blob, blob_len, &listed,
						    NULL), JIT_OK);
	assert_string_equal(listed->commands[0].path, "/usr/bin/Systemctl");

	jit_grant_free(listed);
	jit_grant_free(grant);
	free(blob);
}

static void every_signed_byte_is_covered(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0;

	sign(grant, f->key, &blob, &blob_len);
	/* Past the framing (magic, version, key id, signed_len), a flipped
	 * bit anywhere must break the signature. */
	for (size_t i = HEADER_LEN; i < blob_len; i++) {
		blob[i] ^= 0x01;
		assert_int_equal(verify_blob(f, blob, blob_len, NULL),
				 JIT_ERR_BAD_SIGNATURE);
		blob[i] ^= 0x01;
	}
	assert_int_equal(verify_blob(f, blob, blob_len, NULL), JIT_OK);

	jit_grant_free(grant);
	free(blob);
}

static void unknown_key_is_reported(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	uint8_t other_id[JIT_KEY_ID_LEN];
	char hex[JIT_KEY_ID_HEX_LEN + 1];
	jit_error error = { 0 };

	sign(grant, f->other_key, &blob, &blob_len);
	assert_int_equal(verify_blob(f, blob, blob_len, &error),
			 JIT_ERR_UNKNOWN_KEY);
	jit_issuer_key_id(f->other_key, other_id);
	jit_key_id_format(other_id, hex);
	assert_non_null(strstr(error.message, hex));

	jit_grant_free(grant);
	free(blob);
}

static void key_id_changed_is_unknown_key(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0;

	sign(grant, f->key, &blob, &blob_len);
	blob[KEY_ID_OFFSET] ^= 0x80;
	assert_int_equal(verify_blob(f, blob, blob_len, NULL),
			 JIT_ERR_UNKNOWN_KEY);

	jit_grant_free(grant);
	free(blob);
}

static void other_key_signature_is_bad(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0;

	/* The header names the trusted key, but another key signed it. */
	sign(grant, f->key, &blob, &blob_len);
	resign(f->other_key, blob, blob_len - SIGNATURE_LEN);
	assert_int_equal(verify_blob(f, blob, blob_len, NULL),
			 JIT_ERR_BAD_SIGNATURE);

	jit_grant_free(grant);
	free(blob);
}

static void signature_without_domain_is_bad(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0, signed_len;

	sign(grant, f->key, &blob, &blob_len);
	signed_len = blob_len - SIGNATURE_LEN;
	assert_int_equal(jit_issuer_key_sign(f->key, blob, signed_len,
					     blob + signed_len, NULL), JIT_OK);
	assert_int_equal(verify_blob(f, blob, blob_len, NULL),
			 JIT_ERR_BAD_SIGNATURE);

	jit_grant_free(grant);
	free(blob);
}

/* Re-signs an edited signed region of new_len bytes and verifies it. */
static jit_err verify_edited(const struct fixture *f, uint8_t *edited,
			     size_t new_len, jit_error *error)
{
	store_signed_len(edited, (uint32_t)new_len);
	resign(f->key, edited, new_len);
	return verify_blob(f, edited, new_len + SIGNATURE_LEN, error);
}

static void field_appended_inside_signed_is_malformed(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL, *edited;
	size_t blob_len = 0, signed_len;
	jit_error error = { 0 };

	sign(grant, f->key, &blob, &blob_len);
	signed_len = blob_len - SIGNATURE_LEN;

	/* An extra u16-length string after the last field. */
	edited = copy_signed(blob, signed_len, signed_len + 5);
	memcpy(edited + signed_len, "\0\3abc", 5);
	assert_int_equal(verify_edited(f, edited, signed_len + 5, &error),
			 JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "left over"));
	free(edited);

	/* A single zero byte is just as foreign. */
	edited = copy_signed(blob, signed_len, signed_len + 1);
	assert_int_equal(verify_edited(f, edited, signed_len + 1, NULL),
			 JIT_ERR_MALFORMED);
	free(edited);

	jit_grant_free(grant);
	free(blob);
}

static void signed_region_cut_is_malformed(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = full_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0, signed_len;

	sign(grant, f->key, &blob, &blob_len);
	signed_len = blob_len - SIGNATURE_LEN;

	/* Every shorter signed region, properly signed, ends mid-field. */
	for (size_t len = HEADER_LEN; len < signed_len; len++) {
		uint8_t *edited = copy_signed(blob, signed_len, len);

		assert_int_equal(verify_edited(f, edited, len, NULL),
				 JIT_ERR_MALFORMED);
		free(edited);
	}

	jit_grant_free(grant);
	free(blob);
}

/* Signs small_grant, overwrites len bytes of it at offset, re-signs it and
 * returns the result of verifying it. */
static jit_err verify_patched(const struct fixture *f, size_t offset,
			      const void *bytes, size_t len, jit_error *error)
{
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	jit_err r;

	sign(grant, f->key, &blob, &blob_len);
	memcpy(blob + offset, bytes, len);
	resign(f->key, blob, blob_len - SIGNATURE_LEN);
	r = verify_blob(f, blob, blob_len, error);

	jit_grant_free(grant);
	free(blob);
	return r;
}

static void unknown_flag_bits_are_malformed(void **state)
{
	struct fixture *f = *state;
	static const uint8_t flags[] = { 0x02, 0x80, 0xff, 0x03 };

	for (size_t i = 0; i < sizeof(flags); i++) {
		jit_error error = { 0 };

		assert_int_equal(verify_patched(f, FLAGS_OFFSET, &flags[i], 1,
						&error), JIT_ERR_MALFORMED);
		assert_non_null(strstr(error.message, "flags"));
	}
	assert_int_equal(verify_patched(f, FLAGS_OFFSET, "\1", 1, NULL), JIT_OK);
}

static void swapped_times_are_malformed(void **state)
{
	struct fixture *f = *state;
	/* small_grant has not_before 100 and not_after 200. These write them
	 * swapped, and then equal. */
	static const uint8_t swapped[16] = {
		0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 100,
	};
	static const uint8_t equal[16] = {
		0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 100,
	};
	size_t at = HEADER_LEN + JIT_GRANT_ID_LEN;

	assert_int_equal(verify_patched(f, at, swapped, sizeof(swapped), NULL),
			 JIT_ERR_MALFORMED);
	assert_int_equal(verify_patched(f, at, equal, sizeof(equal), NULL),
			 JIT_ERR_MALFORMED);
}

static void bad_strings_are_malformed(void **state)
{
	struct fixture *f = *state;
	size_t user = FLAGS_OFFSET + 1;   /* u16 length, then "bob" */
	jit_error error = { 0 };

	/* A length that runs past the signed bytes. */
	assert_int_equal(verify_patched(f, user, "\xff\xff", 2, &error),
			 JIT_ERR_MALFORMED);
	/* NUL, a control character and DEL inside the user name. */
	assert_int_equal(verify_patched(f, user + 3, "\0", 1, &error),
			 JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "user"));
	assert_int_equal(verify_patched(f, user + 3, "\n", 1, NULL),
			 JIT_ERR_MALFORMED);
	assert_int_equal(verify_patched(f, user + 3, "\x7f", 1, NULL),
			 JIT_ERR_MALFORMED);
	/* Printable, but not a user name. */
	assert_int_equal(verify_patched(f, user + 2, "-ob", 3, &error),
			 JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "user"));
}

/* Offset of the first list count (hosts) in small_grant's encoding: user
 * "bob" then four empty strings. */
#define SMALL_HOSTS_OFFSET (FLAGS_OFFSET + 1 + 2 + 3 + 4 * 2)

static void bad_counts_are_malformed(void **state)
{
	struct fixture *f = *state;
	size_t commands = SMALL_HOSTS_OFFSET + 5 * 2;
	jit_error error = { 0 };

	/* 65 hosts: over the bound, rejected before reading any. */
	assert_int_equal(verify_patched(f, SMALL_HOSTS_OFFSET, "\0\x41", 2,
					&error), JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "hosts"));
	/* One host announced, none there. */
	assert_int_equal(verify_patched(f, SMALL_HOSTS_OFFSET, "\0\1", 2, NULL),
			 JIT_ERR_MALFORMED);
	/* A command count over the bound, and one with nothing behind it. */
	assert_int_equal(verify_patched(f, commands, "\xff\xff", 2, NULL),
			 JIT_ERR_MALFORMED);
	assert_int_equal(verify_patched(f, commands, "\0\1", 2, NULL),
			 JIT_ERR_MALFORMED);
}

static void bad_commands_are_malformed(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0, at;
	jit_error error = { 0 };

	assert_int_equal(jit_grant_add_command(grant, "/bin/x", NULL, NULL),
			 JIT_OK);
	sign(grant, f->key, &blob, &blob_len);
	at = find_bytes(blob, blob_len, "/bin/x");

	/* args_given must be 0 or 1. */
	blob[at + 6] = 2;
	resign(f->key, blob, blob_len - SIGNATURE_LEN);
	assert_int_equal(verify_blob(f, blob, blob_len, &error),
			 JIT_ERR_MALFORMED);
	blob[at + 6] = 0;

	/* A relative path, properly signed. */
	blob[at] = 'b';
	resign(f->key, blob, blob_len - SIGNATURE_LEN);
	assert_int_equal(verify_blob(f, blob, blob_len, &error),
			 JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "absolute"));

	jit_grant_free(grant);
	free(blob);
}

static jit_err sign_result(const struct fixture *f, const jit_grant *grant,
			   jit_error *error)
{
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	jit_err r;

	r = jit_grant_sign(grant, f->key, &blob, &blob_len, error);
	if (r == JIT_OK) {
		assert_non_null(blob);
	} else {
		assert_null(blob);
		assert_int_equal(blob_len, 0);
	}
	free(blob);
	return r;
}

static void sign_rejects_bad_names(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "-alice", "al ice", "al/ice", "alice\n",
		"abcdefghijklmnopqrstuvwxyz0123456", /* 33 bytes */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		jit_grant *grant = small_grant();

		set_text(&grant->user, bad[i]);
		assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
		jit_grant_free(grant);

		grant = small_grant();
		add_item(&grant->runas_users, bad[i]);
		assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
		jit_grant_free(grant);

		grant = small_grant();
		add_item(&grant->runas_groups, bad[i]);
		assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
		jit_grant_free(grant);
	}

	{
		jit_grant *grant = small_grant();

		free(grant->user);
		grant->user = NULL;
		assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
		jit_grant_free(grant);
	}
}

static void sign_rejects_control_bytes(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	jit_error error = { 0 };

	set_text(&grant->reason, "line one\nline two");
	assert_int_equal(sign_result(f, grant, &error), JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "reason"));
	set_text(&grant->reason, "tab\there");
	assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
	set_text(&grant->reason, "del\x7f");
	assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
	set_text(&grant->reason, "fine: \xc3\xa9");
	assert_int_equal(sign_result(f, grant, NULL), JIT_OK);

	add_item(&grant->hosts, "web\x1b[1m");
	assert_int_equal(sign_result(f, grant, &error), JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "hosts"));
	jit_grant_free(grant);
}

static void sign_rejects_oversized_fields(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	char *text = malloc(4098);

	assert_non_null(text);
	memset(text, 'x', 4097);
	text[4097] = '\0';
	grant->reason = text;
	assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
	text[4096] = '\0';
	assert_int_equal(sign_result(f, grant, NULL), JIT_OK);

	for (int i = 0; i < 64; i++)
		add_item(&grant->approvers, "bob");
	assert_int_equal(sign_result(f, grant, NULL), JIT_OK);
	add_item(&grant->approvers, "bob");
	assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
	jit_grant_free(grant);
}

static void sign_rejects_too_many_commands(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	jit_strlist args = { 0 };

	for (int i = 0; i < 64; i++)
		assert_int_equal(jit_grant_add_command(grant, "/bin/true", NULL,
						       NULL), JIT_OK);
	assert_int_equal(sign_result(f, grant, NULL), JIT_OK);
	assert_int_equal(jit_grant_add_command(grant, "/bin/true", NULL, NULL),
			 JIT_OK);
	assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
	jit_grant_free(grant);

	grant = small_grant();
	for (int i = 0; i < 65; i++)
		add_item(&args, "-v");
	assert_int_equal(jit_grant_add_command(grant, "/bin/true", &args, NULL),
			 JIT_OK);
	assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
	jit_strlist_clear(&args);
	jit_grant_free(grant);
}

static void sign_rejects_whole_blob_over_limit(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	char *host = malloc(4097);
	jit_error error = { 0 };

	assert_non_null(host);
	memset(host, 'h', 4096);
	host[4096] = '\0';
	/* 16 hosts of 4 KiB each: every field within bounds, 64 KiB in all. */
	for (int i = 0; i < 16; i++)
		add_item(&grant->hosts, host);
	assert_int_equal(sign_result(f, grant, &error), JIT_ERR_TOO_LARGE);
	assert_non_null(strstr(error.message, "bob"));

	jit_grant_free(grant);
	free(host);
}

static void sign_rejects_bad_commands(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "", "bin/ls", "all", "ALL ", "~/x" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		jit_grant *grant = small_grant();

		assert_int_equal(jit_grant_add_command(grant, bad[i], NULL, NULL),
				 JIT_OK);
		assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
		jit_grant_free(grant);
	}

	{
		/* Arguments that would be silently ignored. */
		jit_grant *grant = small_grant();

		assert_int_equal(jit_grant_add_command(grant, "/bin/ls", NULL,
						       NULL), JIT_OK);
		add_item(&grant->commands[0].args, "-l");
		assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
		jit_grant_free(grant);
	}
}

static void sign_rejects_empty_time_window(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();

	grant->not_after = grant->not_before;
	assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
	grant->not_after = grant->not_before - 1;
	assert_int_equal(sign_result(f, grant, NULL), JIT_ERR_INVALID);
	jit_grant_free(grant);
}

static jit_err decode(const char *text, jit_error *error)
{
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	jit_err r;

	r = jit_token_decode(text, &blob, &blob_len, error);
	if (r == JIT_OK) {
		assert_non_null(blob);
		assert_true(blob_len > 0);
	} else {
		assert_null(blob);
		assert_int_equal(blob_len, 0);
	}
	free(blob);
	return r;
}

static char *token_with(const char *token, size_t at, const char *insert,
			size_t drop)
{
	char *out = NULL;

	assert_true(asprintf(&out, "%.*s%s%s", (int)at, token, insert,
			     token + at + drop) > 0);
	return out;
}

static void token_decode_is_strict(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = small_grant();
	uint8_t *blob = NULL;
	size_t blob_len = 0, len;
	char *token = NULL;
	char *variants[16];
	size_t n = 0;

	sign(grant, f->key, &blob, &blob_len);
	assert_int_equal(jit_token_encode(blob, blob_len, &token, NULL), JIT_OK);
	len = strlen(token);
	assert_int_equal(decode(token, NULL), JIT_OK);

	variants[n++] = token_with(token, len, "=", 0);
	variants[n++] = token_with(token, len, "==", 0);
	variants[n++] = token_with(token, len, "\n", 0);
	variants[n++] = token_with(token, len, " ", 0);
	variants[n++] = token_with(token, 0, " ", 0);
	variants[n++] = token_with(token, 20, " ", 0);
	variants[n++] = token_with(token, 20, "\t", 0);
	variants[n++] = token_with(token, 20, "+", 1);
	variants[n++] = token_with(token, 20, "/", 1);
	variants[n++] = token_with(token, 20, "\r\n", 0);
	/* libsodium 1.0.18 alone would decode these bytes as '_'. */
	variants[n++] = token_with(token, 20, "\xff", 1);
	variants[n++] = token_with(token, 20, "\x80", 1);

	for (size_t i = 0; i < n; i++) {
		print_message("variant %zu\n", i);
		assert_int_equal(decode(variants[i], NULL), JIT_ERR_MALFORMED);
		free(variants[i]);
	}

	jit_grant_free(grant);
	free(token);
	free(blob);
}

static void token_decode_spare_bits(void **state)
{
	(void)state;

	/* Two characters carry one byte and four spare bits, and three carry
	 * two bytes and two spare bits. Spare bits must be zero. */
	assert_int_equal(decode("jitg1.AA", NULL), JIT_OK);
	assert_int_equal(decode("jitg1.AB", NULL), JIT_ERR_MALFORMED);
	assert_int_equal(decode("jitg1.AP", NULL), JIT_ERR_MALFORMED);
	assert_int_equal(decode("jitg1.AAA", NULL), JIT_OK);
	assert_int_equal(decode("jitg1.AAB", NULL), JIT_ERR_MALFORMED);
	/* One character alone cannot encode a byte. */
	assert_int_equal(decode("jitg1.A", NULL), JIT_ERR_MALFORMED);
	assert_int_equal(decode("jitg1.AAAAA", NULL), JIT_ERR_MALFORMED);
}

static void token_decode_prefix(void **state)
{
	jit_error error = { 0 };
	uint8_t *blob = NULL;
	size_t blob_len = 0;

	(void)state;
	assert_int_equal(decode("", &error), JIT_ERR_MALFORMED);
	assert_int_equal(jit_token_decode(NULL, &blob, &blob_len, NULL),
			 JIT_ERR_MALFORMED);
	assert_int_equal(decode("jitg1.", NULL), JIT_ERR_MALFORMED);
	assert_int_equal(decode("jitg1", NULL), JIT_ERR_MALFORMED);
	assert_int_equal(decode("jitg2.AAAA", NULL), JIT_ERR_MALFORMED);
	assert_int_equal(decode("JITG1.AAAA", NULL), JIT_ERR_MALFORMED);
	assert_int_equal(decode("jitg1:AAAA", NULL), JIT_ERR_MALFORMED);
	assert_int_equal(decode("AAAA", &error), JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "jitg1."));
	assert_int_equal(decode(" jitg1.AAAA", NULL), JIT_ERR_MALFORMED);
	assert_int_equal(decode("jitg1.AAAA", NULL), JIT_OK);
}

static void token_decode_bounded_length(void **state)
{
	size_t len = JIT_TOKEN_MAX_LEN + 1;
	char *text = malloc(len + 1);

	(void)state;
	assert_non_null(text);
	memset(text, 'A', len);
	memcpy(text, "jitg1.", 6);
	text[len] = '\0';
	assert_int_equal(decode(text, NULL), JIT_ERR_TOO_LARGE);

	/* At the limit it decodes, into a blob of the largest size. */
	text[len - 1] = '\0';
	assert_int_equal(decode(text, NULL), JIT_OK);
	free(text);
}

static void token_encode_limits(void **state)
{
	uint8_t *blob = calloc(1, JIT_GRANT_MAX_BLOB + 1);
	char *token = NULL;

	(void)state;
	assert_non_null(blob);
	assert_int_equal(jit_token_encode(blob, 0, &token, NULL),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_token_encode(blob, JIT_GRANT_MAX_BLOB + 1, &token,
					  NULL), JIT_ERR_TOO_LARGE);
	assert_null(token);
	assert_int_equal(jit_token_encode(blob, JIT_GRANT_MAX_BLOB, &token,
					  NULL), JIT_OK);
	assert_int_equal(strlen(token), JIT_TOKEN_MAX_LEN);
	free(token);
	free(blob);
}

static void grant_id_format_and_parse(void **state)
{
	uint8_t id[JIT_GRANT_ID_LEN], back[JIT_GRANT_ID_LEN];
	char hex[JIT_GRANT_ID_HEX_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(0xa0 + i * 3);
	jit_grant_id_format(id, hex);
	assert_string_equal(hex, "a0a3a6a9acafb2b5b8bbbec1c4c7cacd");

	assert_int_equal(jit_grant_id_parse(hex, back, NULL), JIT_OK);
	assert_memory_equal(back, id, sizeof(id));
	assert_int_equal(jit_grant_id_parse("A0A3A6A9ACAFB2B5B8BBBEC1C4C7CACD",
					    back, NULL), JIT_OK);
	assert_memory_equal(back, id, sizeof(id));
	assert_int_equal(jit_grant_id_parse("a0A3a6A9acAFb2B5b8BBbeC1c4C7caCD",
					    back, NULL), JIT_OK);
	assert_memory_equal(back, id, sizeof(id));
}

static void grant_id_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"a0a3a6a9acafb2b5b8bbbec1c4c7cac",     /* 31 */
		"a0a3a6a9acafb2b5b8bbbec1c4c7cacd0",   /* 33 */
		"g0a3a6a9acafb2b5b8bbbec1c4c7cacd",
		" a0a3a6a9acafb2b5b8bbbec1c4c7cac",
		"a0a3a6a9acafb2b5b8bbbec1c4c7cac ",
		"a0a3a6a9-acaf-b2b5-b8bb-bec1c4c7",
		"0xa3a6a9acafb2b5b8bbbec1c4c7cacd",
		"a0a3a6a9acafb2b5b8bbbec1c4c7cac\n",
	};
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_error error = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("id %zu\n", i);
		assert_int_equal(jit_grant_id_parse(bad[i], id, &error),
				 JIT_ERR_INVALID);
		assert_null(strchr(error.message, '\n'));
	}
	assert_int_equal(jit_grant_id_parse(NULL, id, NULL), JIT_ERR_INVALID);
	assert_int_equal(jit_grant_id_parse("xyz", id, &error), JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "\"xyz\""));
}

static void grant_new_id_is_random(void **state)
{
	jit_grant *a = new_grant(), *b = new_grant();
	uint8_t zero[JIT_GRANT_ID_LEN] = { 0 };

	(void)state;
	jit_grant_new_id(a);
	jit_grant_new_id(b);
	assert_memory_not_equal(a->id, b->id, JIT_GRANT_ID_LEN);
	assert_memory_not_equal(a->id, zero, JIT_GRANT_ID_LEN);
	jit_grant_free(a);
	jit_grant_free(b);
}

static void add_command_copies_input(void **state)
{
	jit_grant *grant = new_grant();
	jit_strlist args = { 0 };
	char path[] = "/usr/bin/systemctl";

	(void)state;
	add_item(&args, "status");
	assert_int_equal(jit_grant_add_command(grant, path, &args, NULL), JIT_OK);
	assert_int_equal(jit_grant_add_command(grant, "ALL", NULL, NULL), JIT_OK);
	path[1] = 'X';
	jit_strlist_clear(&args);

	assert_int_equal(grant->command_count, 2);
	assert_string_equal(grant->commands[0].path, "/usr/bin/systemctl");
	assert_true(grant->commands[0].args_given);
	assert_int_equal(grant->commands[0].args.count, 1);
	assert_string_equal(grant->commands[0].args.items[0], "status");
	assert_string_equal(grant->commands[1].path, "ALL");
	assert_false(grant->commands[1].args_given);
	assert_int_equal(grant->commands[1].args.count, 0);

	assert_int_equal(jit_grant_add_command(grant, NULL, NULL, NULL),
			 JIT_ERR_INVALID);
	jit_grant_free(grant);
	jit_grant_free(NULL);
}

static void host_selectors_match(void **state)
{
	jit_grant *grant = new_grant();

	(void)state;
	assert_false(jit_grant_matches_host(grant, "web1"));

	add_item(&grant->hosts, "db1.example.com");
	add_item(&grant->hosts, "web*");
	add_item(&grant->hosts, "cache-?");
	add_item(&grant->hosts, "app[0-9]");

	assert_true(jit_grant_matches_host(grant, "db1.example.com"));
	assert_true(jit_grant_matches_host(grant, "web1"));
	assert_true(jit_grant_matches_host(grant, "web"));
	assert_true(jit_grant_matches_host(grant, "cache-a"));
	assert_true(jit_grant_matches_host(grant, "app7"));

	assert_false(jit_grant_matches_host(grant, "db1"));
	assert_false(jit_grant_matches_host(grant, "DB1.example.com"));
	assert_false(jit_grant_matches_host(grant, "xweb1"));
	assert_false(jit_grant_matches_host(grant, "cache-ab"));
	assert_false(jit_grant_matches_host(grant, "appx"));
	assert_false(jit_grant_matches_host(grant, ""));
	assert_false(jit_grant_matches_host(grant, NULL));
	jit_grant_free(grant);
}

/* The grant of the version-1 golden vector. Signed with the key from the
 * seed 01 02 .. 20, it must reproduce the token stored under golden/. */
static jit_grant *golden_grant(void)
{
	static const char *const restart[] = { "restart", "postgresql" };
	jit_grant *grant = new_grant();

	for (size_t i = 0; i < JIT_GRANT_ID_LEN; i++)
		grant->id[i] = (uint8_t)(0x10 + i);
	grant->not_before = 1767225600;        /* 2026-01-01T00:00:00Z */
	grant->not_after = INT64_C(4294967296); /* 2^32 */
	grant->issued_at = 1767225540;
	grant->break_glass = true;
	set_text(&grant->user, "alice");
	set_text(&grant->role, "dba");
	set_text(&grant->request_id, "r-0001");
	set_text(&grant->requester, "alice");
	set_text(&grant->reason, "INC-4711 restore the orders table");
	add_item(&grant->hosts, "db1.example.com");
	add_item(&grant->hosts, "db-*.example.com");
	add_item(&grant->approvers, "bob");
	add_item(&grant->approvers, "carol");
	add_item(&grant->runas_users, "postgres");
	add_item(&grant->runas_users, "root");
	add_item(&grant->runas_groups, "postgres");
	add_item(&grant->services, "sshd");
	add_command_args(grant, "/usr/bin/systemctl", restart, 2);
	assert_int_equal(jit_grant_add_command(grant, "/usr/bin/psql", NULL, NULL),
			 JIT_OK);
	add_command_args(grant, "/usr/bin/pg_ctlcluster", NULL, 0);
	return grant;
}

static char *read_whole_file(const char *path)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	text = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(text);
	n = read(fd, text, (size_t)st.st_size);
	assert_int_equal(n, st.st_size);
	close(fd);
	return text;
}

/* Reads a golden file, which contains one line ending in a newline. */
static char *read_golden(const char *name)
{
	char *path = NULL, *text;
	size_t len;

	assert_true(asprintf(&path, "%s/%s", GOLDEN_DIR, name) > 0);
	text = read_whole_file(path);
	free(path);

	len = strlen(text);
	assert_true(len > 0 && text[len - 1] == '\n');
	assert_ptr_equal(strchr(text, '\n'), text + len - 1);
	return text;
}

static void golden_v1_sign_reproduces_token(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = golden_grant();
	char *expected = read_golden("grant-v1.token");
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	char *token = NULL;

	expected[strlen(expected) - 1] = '\0';
	sign(grant, f->key, &blob, &blob_len);
	assert_int_equal(jit_token_encode(blob, blob_len, &token, NULL), JIT_OK);
	if (strcmp(token, expected) != 0)
		print_error("signing the golden grant gave\n%s\n", token);
	assert_string_equal(token, expected);

	jit_grant_free(grant);
	free(expected);
	free(token);
	free(blob);
}

static void golden_v1_public_key_matches(void **state)
{
	struct fixture *f = *state;
	char *expected = read_golden("issuer-v1.pub");
	char *trusted = NULL, *path = NULL, *written;

	/* Written the way jitctl writes it, the key file must be identical. */
	assert_true(asprintf(&trusted, "%s/trusted.d", f->dir) > 0);
	assert_int_equal(mkdir(trusted, 0755), 0);
	assert_int_equal(jit_issuer_key_write_public(f->key, trusted, NULL),
			 JIT_OK);
	assert_true(asprintf(&path, "%s/4d4dbe917544b079.pub", trusted) > 0);
	written = read_whole_file(path);
	assert_string_equal(written, expected);

	free(written);
	free(path);
	free(trusted);
	free(expected);
}

static void golden_v1_token_verifies(void **state)
{
	struct fixture *f = *state;
	char *token = read_golden("grant-v1.token");
	char *key_text = read_golden("issuer-v1.pub");
	jit_grant *expected = golden_grant(), *grant = NULL;
	jit_keyring *keys = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	char *trusted = NULL;

	/* Trust only the stored public key, loaded from a root-owned copy. */
	assert_true(asprintf(&trusted, "%s/golden.d", f->dir) > 0);
	assert_int_equal(mkdir(trusted, 0755), 0);
	free(test_write_file(trusted, "issuer-v1.pub", key_text, 0644));
	assert_int_equal(jit_keyring_load(trusted, &keys, NULL), JIT_OK);

	token[strlen(token) - 1] = '\0';
	assert_int_equal(jit_token_decode(token, &blob, &blob_len, NULL), JIT_OK);
	assert_int_equal(jit_grant_verify(blob, blob_len, keys, &grant, NULL),
			 JIT_OK);
	assert_grants_equal(expected, grant);
	assert_int_equal(grant->version, 1);

	jit_grant_free(grant);
	jit_grant_free(expected);
	jit_keyring_free(keys);
	free(trusted);
	free(key_text);
	free(token);
	free(blob);
}

#define GRANT_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		GRANT_TEST(round_trip_every_field),
		GRANT_TEST(round_trip_64_bit_times),
		GRANT_TEST(round_trip_negative_times),
		GRANT_TEST(round_trip_break_glass_and_empty),
		GRANT_TEST(sign_is_deterministic),
		GRANT_TEST(sign_ignores_grant_key_id_and_version),
		GRANT_TEST(signature_cut_or_extended_is_malformed),
		GRANT_TEST(signature_cut_through_token_is_malformed),
		GRANT_TEST(trailing_byte_is_malformed),
		GRANT_TEST(short_blobs_are_malformed),
		GRANT_TEST(oversized_blob_is_malformed),
		GRANT_TEST(bad_magic_is_malformed),
		GRANT_TEST(other_versions_are_malformed),
		GRANT_TEST(scope_byte_changed_is_bad_signature),
		GRANT_TEST(every_signed_byte_is_covered),
		GRANT_TEST(unknown_key_is_reported),
		GRANT_TEST(key_id_changed_is_unknown_key),
		GRANT_TEST(other_key_signature_is_bad),
		GRANT_TEST(signature_without_domain_is_bad),
		GRANT_TEST(field_appended_inside_signed_is_malformed),
		GRANT_TEST(signed_region_cut_is_malformed),
		GRANT_TEST(unknown_flag_bits_are_malformed),
		GRANT_TEST(swapped_times_are_malformed),
		GRANT_TEST(bad_strings_are_malformed),
		GRANT_TEST(bad_counts_are_malformed),
		GRANT_TEST(bad_commands_are_malformed),
		GRANT_TEST(sign_rejects_bad_names),
		GRANT_TEST(sign_rejects_control_bytes),
		GRANT_TEST(sign_rejects_oversized_fields),
		GRANT_TEST(sign_rejects_too_many_commands),
		GRANT_TEST(sign_rejects_whole_blob_over_limit),
		GRANT_TEST(sign_rejects_bad_commands),
		GRANT_TEST(sign_rejects_empty_time_window),
		GRANT_TEST(token_decode_is_strict),
		cmocka_unit_test(token_decode_spare_bits),
		cmocka_unit_test(token_decode_prefix),
		cmocka_unit_test(token_decode_bounded_length),
		cmocka_unit_test(token_encode_limits),
		cmocka_unit_test(grant_id_format_and_parse),
		cmocka_unit_test(grant_id_parse_rejects),
		cmocka_unit_test(grant_new_id_is_random),
		cmocka_unit_test(add_command_copies_input),
		cmocka_unit_test(host_selectors_match),
		GRANT_TEST(golden_v1_sign_reproduces_token),
		GRANT_TEST(golden_v1_public_key_matches),
		GRANT_TEST(golden_v1_token_verifies),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_grant loads root-owned key files and must run as root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
