/* Issuer key and trusted key files: formats, strict decoding, ownership and
 * mode checks, key ids. Runs as root, since the checks are about root. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define NOBODY_UID 65534

/* The 32-byte seed 01 02 .. 20 and the key it derives. The public key and
 * its id were computed without libjitcore, by Python's "cryptography"
 * package (Ed25519) and hashlib (BLAKE2b with a 32-byte digest). */
#define SEED_B64 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA"
#define SEED_PUBLIC_HEX \
	"79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
#define SEED_KEY_ID_HEX "4d4dbe917544b079"
#define SEED_PUBLIC_B64 "ebVWLo_mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ"

struct fixture {
	char *dir;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = test_mkdtemp();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	return path;
}

static char *make_subdir(const char *dir, const char *name, mode_t mode)
{
	char *path = path_in(dir, name);

	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static char *read_text(const char *path)
{
	char *text = calloc(1, 1024);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_non_null(text);
	assert_true(fd >= 0);
	n = read(fd, text, 1023);
	assert_true(n >= 0);
	close(fd);
	return text;
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void chown_to_nobody(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, NOBODY_UID, NOBODY_UID), 0);
	close(fd);
}

static void hex_decode(const char *hex, uint8_t *out, size_t len)
{
	assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL, NULL,
					NULL), 0);
}

static jit_err load_issuer_text(const char *dir, const char *text,
				jit_error *error)
{
	jit_issuer_key *key = NULL;
	char *path = test_write_file(dir, "issuer.key", text, 0600);
	jit_err r;

	r = jit_issuer_key_load(path, &key, error);
	if (r == JIT_OK)
		assert_non_null(key);
	else
		assert_null(key);
	jit_issuer_key_free(key);
	unlink(path);
	free(path);
	return r;
}

static jit_err load_trusted_text(const char *dir, const char *text,
				 jit_error *error)
{
	jit_keyring *keys = NULL;
	char *path = test_write_file(dir, "one.pub", text, 0644);
	jit_err r;

	r = jit_keyring_load(dir, &keys, error);
	if (r == JIT_OK)
		assert_non_null(keys);
	else
		assert_null(keys);
	jit_keyring_free(keys);
	unlink(path);
	free(path);
	return r;
}

static void crypto_init_succeeds(void **state)
{
	jit_error error = { 0 };

	(void)state;
	assert_int_equal(jit_crypto_init(&error), JIT_OK);
	assert_int_equal(jit_crypto_init(&error), JIT_OK);
}

static void key_id_from_known_seed(void **state)
{
	struct fixture *f = *state;
	uint8_t expected_public[JIT_PUBLIC_KEY_LEN], public_key[JIT_PUBLIC_KEY_LEN];
	uint8_t id[JIT_KEY_ID_LEN], computed[JIT_KEY_ID_LEN];
	char hex[JIT_KEY_ID_HEX_LEN + 1];
	jit_issuer_key *key = NULL;
	char *path = test_write_file(f->dir, "issuer.key",
				     "jitsk1." SEED_B64 "\n", 0600);

	assert_int_equal(jit_issuer_key_load(path, &key, NULL), JIT_OK);

	hex_decode(SEED_PUBLIC_HEX, expected_public, sizeof(expected_public));
	jit_issuer_key_public(key, public_key);
	assert_memory_equal(public_key, expected_public, JIT_PUBLIC_KEY_LEN);

	jit_issuer_key_id(key, id);
	jit_key_id_format(id, hex);
	assert_string_equal(hex, SEED_KEY_ID_HEX);

	jit_key_id_compute(expected_public, computed);
	assert_memory_equal(computed, id, JIT_KEY_ID_LEN);

	jit_issuer_key_free(key);
	free(path);
}

static void key_id_differs_per_key(void **state)
{
	uint8_t a[JIT_PUBLIC_KEY_LEN] = { 0 }, b[JIT_PUBLIC_KEY_LEN] = { 0 };
	uint8_t id_a[JIT_KEY_ID_LEN], id_b[JIT_KEY_ID_LEN];

	(void)state;
	b[31] = 1;
	jit_key_id_compute(a, id_a);
	jit_key_id_compute(b, id_b);
	assert_memory_not_equal(id_a, id_b, JIT_KEY_ID_LEN);
}

static void issuer_generate_then_load(void **state)
{
	struct fixture *f = *state;
	char *path = path_in(f->dir, "issuer.key");
	uint8_t public_key[JIT_PUBLIC_KEY_LEN], id[JIT_KEY_ID_LEN];
	uint8_t computed[JIT_KEY_ID_LEN];
	jit_issuer_key *key = NULL;
	jit_error error = { 0 };
	char *text;

	assert_int_equal(jit_issuer_key_generate(path, &error), JIT_OK);
	assert_int_equal(file_mode(path), 0600);

	text = read_text(path);
	assert_int_equal(strncmp(text, "jitsk1.", 7), 0);
	assert_int_equal(strlen(text), strlen("jitsk1.") + 43 + 1);
	assert_int_equal(text[strlen(text) - 1], '\n');

	assert_int_equal(jit_issuer_key_load(path, &key, &error), JIT_OK);
	jit_issuer_key_public(key, public_key);
	jit_issuer_key_id(key, id);
	jit_key_id_compute(public_key, computed);
	assert_memory_equal(id, computed, JIT_KEY_ID_LEN);

	jit_issuer_key_free(key);
	free(text);
	free(path);
}

static void issuer_generate_twice_is_exists(void **state)
{
	struct fixture *f = *state;
	char *path = path_in(f->dir, "issuer.key");
	jit_error error = { 0 };
	char *before, *after;

	assert_int_equal(jit_issuer_key_generate(path, NULL), JIT_OK);
	before = read_text(path);

	assert_int_equal(jit_issuer_key_generate(path, &error), JIT_ERR_EXISTS);
	assert_non_null(strstr(error.message, path));
	after = read_text(path);
	assert_string_equal(before, after);

	free(before);
	free(after);
	free(path);
}

static void issuer_generate_mode_ignores_umask(void **state)
{
	struct fixture *f = *state;
	const mode_t masks[] = { 0000, 0077, 0777 };

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		char name[32];
		char *path;
		mode_t old;

		snprintf(name, sizeof(name), "issuer-%zu.key", i);
		path = path_in(f->dir, name);
		old = umask(masks[i]);
		assert_int_equal(jit_issuer_key_generate(path, NULL), JIT_OK);
		umask(old);
		assert_int_equal(file_mode(path), 0600);
		free(path);
	}
}

static void issuer_generate_into_missing_folder(void **state)
{
	struct fixture *f = *state;
	char *path = path_in(f->dir, "missing/issuer.key");
	jit_error error = { 0 };

	assert_int_equal(jit_issuer_key_generate(path, &error), JIT_ERR_IO);
	assert_non_null(strstr(error.message, path));
	free(path);
}

static void issuer_two_keys_differ(void **state)
{
	struct fixture *f = *state;
	char *a = path_in(f->dir, "a.key"), *b = path_in(f->dir, "b.key");
	jit_issuer_key *ka = NULL, *kb = NULL;
	uint8_t ida[JIT_KEY_ID_LEN], idb[JIT_KEY_ID_LEN];

	assert_int_equal(jit_issuer_key_generate(a, NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_generate(b, NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_load(a, &ka, NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_load(b, &kb, NULL), JIT_OK);
	jit_issuer_key_id(ka, ida);
	jit_issuer_key_id(kb, idb);
	assert_memory_not_equal(ida, idb, JIT_KEY_ID_LEN);

	jit_issuer_key_free(ka);
	jit_issuer_key_free(kb);
	free(a);
	free(b);
}

static void issuer_missing_file(void **state)
{
	struct fixture *f = *state;
	char *path = path_in(f->dir, "absent.key");
	jit_issuer_key *key = NULL;
	jit_error error = { 0 };

	assert_int_equal(jit_issuer_key_load(path, &key, &error),
			 JIT_ERR_NOT_FOUND);
	assert_null(key);
	assert_non_null(strstr(error.message, path));
	free(path);
}

static void issuer_empty_file(void **state)
{
	struct fixture *f = *state;
	jit_error error = { 0 };

	assert_int_equal(load_issuer_text(f->dir, "", &error), JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "issuer.key"));
	assert_int_equal(load_issuer_text(f->dir, "\n", NULL), JIT_ERR_MALFORMED);
}

static void issuer_strict_text(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"jitsk1." SEED_B64 "=\n",           /* padding */
		"jitsk1." SEED_B64 "=",
		"jitsk1.AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHy+\n", /* '+' */
		"jitsk1.AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHy/\n", /* '/' */
		"jitsk1.AQIDBAUGBwgJCgsMDQ4P EBESExQVFhcYGRobHB0eHyA\n", /* blank */
		/* libsodium 1.0.18 alone would read the 0xff byte as '_' */
		"jitsk1.AQIDBAUGBwgJCgsMDQ4P\xff" "BESExQVFhcYGRobHB0eHyA\n",
		"jitsk1. " SEED_B64 "\n",
		"jitsk1." SEED_B64 " \n",
		"jitsk1." SEED_B64 "\r\n",
		"jitsk1." SEED_B64 "\n\n",          /* two newlines */
		"jitsk1." SEED_B64 "\nextra\n",     /* two lines */
		"jitsk1.AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyB\n", /* spare bits */
		"jitsk1.AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw\n",  /* 31 bytes */
		"jitsk1.AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAh\n", /* 33 bytes */
		"jitsk1.\n",
		"jitpk1." SEED_B64 "\n",            /* public key prefix */
		"JITSK1." SEED_B64 "\n",
		"jitsk2." SEED_B64 "\n",
		" jitsk1." SEED_B64 "\n",
		SEED_B64 "\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		jit_error error = { 0 };

		print_message("key text %zu\n", i);
		assert_int_equal(load_issuer_text(f->dir, bad[i], &error),
				 JIT_ERR_MALFORMED);
		assert_non_null(strstr(error.message, "issuer.key"));
	}

	assert_int_equal(load_issuer_text(f->dir, "jitsk1." SEED_B64 "\n", NULL),
			 JIT_OK);
	assert_int_equal(load_issuer_text(f->dir, "jitsk1." SEED_B64, NULL),
			 JIT_OK);
}

static void issuer_oversized_file(void **state)
{
	struct fixture *f = *state;
	char text[600];

	memset(text, 'A', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "jitsk1.", 7);
	assert_int_equal(load_issuer_text(f->dir, text, NULL), JIT_ERR_MALFORMED);
}

static void issuer_unsafe_modes(void **state)
{
	struct fixture *f = *state;
	static const unsigned modes[] = { 0644, 0640, 0604, 0660, 0606, 0666 };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char *path = test_write_file(f->dir, "issuer.key",
					     "jitsk1." SEED_B64 "\n", modes[i]);
		jit_issuer_key *key = NULL;
		jit_error error = { 0 };

		print_message("mode %04o\n", modes[i]);
		assert_int_equal(jit_issuer_key_load(path, &key, &error),
				 JIT_ERR_UNSAFE_FILE);
		assert_null(key);
		assert_non_null(strstr(error.message, path));
		unlink(path);
		free(path);
	}
}

static void issuer_stricter_mode_accepted(void **state)
{
	struct fixture *f = *state;
	char *path = test_write_file(f->dir, "issuer.key",
				     "jitsk1." SEED_B64 "\n", 0400);
	jit_issuer_key *key = NULL;

	assert_int_equal(jit_issuer_key_load(path, &key, NULL), JIT_OK);
	jit_issuer_key_free(key);
	free(path);
}

static void issuer_owned_by_other_user(void **state)
{
	struct fixture *f = *state;
	char *path = test_write_file(f->dir, "issuer.key",
				     "jitsk1." SEED_B64 "\n", 0600);
	jit_issuer_key *key = NULL;
	jit_error error = { 0 };

	chown_to_nobody(path);
	assert_int_equal(jit_issuer_key_load(path, &key, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_null(key);
	assert_non_null(strstr(error.message, path));
	free(path);
}

static void issuer_symlink_rejected(void **state)
{
	struct fixture *f = *state;
	char *target = test_write_file(f->dir, "real.key",
				       "jitsk1." SEED_B64 "\n", 0600);
	char *link = path_in(f->dir, "issuer.key");
	jit_issuer_key *key = NULL;
	jit_error error = { 0 };

	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(jit_issuer_key_load(link, &key, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_null(key);
	free(target);
	free(link);
}

static void issuer_folder_rejected(void **state)
{
	struct fixture *f = *state;
	char *path = make_subdir(f->dir, "issuer.key", 0700);
	jit_issuer_key *key = NULL;

	assert_int_not_equal(jit_issuer_key_load(path, &key, NULL), JIT_OK);
	assert_null(key);
	free(path);
}

static void key_fifo_rejected_without_blocking(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	char *issuer = path_in(f->dir, "issuer.key");
	char *public = path_in(trusted, "fifo.pub");
	jit_issuer_key *key = NULL;
	jit_keyring *keys = NULL;

	assert_int_equal(mkfifo(issuer, 0600), 0);
	assert_int_equal(mkfifo(public, 0644), 0);
	assert_int_equal(jit_issuer_key_load(issuer, &key, NULL),
			 JIT_ERR_UNSAFE_FILE);
	assert_int_equal(jit_keyring_load(trusted, &keys, NULL),
			 JIT_ERR_UNSAFE_FILE);
	assert_null(key);
	assert_null(keys);

	free(public);
	free(issuer);
	free(trusted);
}

static void issuer_sign_verifies(void **state)
{
	struct fixture *f = *state;
	char *path = test_write_file(f->dir, "issuer.key",
				     "jitsk1." SEED_B64 "\n", 0600);
	static const uint8_t message[] = "a message";
	uint8_t public_key[JIT_PUBLIC_KEY_LEN];
	uint8_t sig1[64], sig2[64];
	jit_issuer_key *key = NULL;

	assert_int_equal(jit_issuer_key_load(path, &key, NULL), JIT_OK);
	jit_issuer_key_public(key, public_key);

	assert_int_equal(jit_issuer_key_sign(key, message, sizeof(message), sig1,
					     NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_sign(key, message, sizeof(message), sig2,
					     NULL), JIT_OK);
	assert_memory_equal(sig1, sig2, sizeof(sig1));
	assert_int_equal(crypto_sign_verify_detached(sig1, message,
						     sizeof(message),
						     public_key), 0);

	sig1[0] ^= 1;
	assert_int_not_equal(crypto_sign_verify_detached(sig1, message,
							 sizeof(message),
							 public_key), 0);

	jit_issuer_key_free(key);
	free(path);
}

static jit_issuer_key *seed_key(const char *dir)
{
	char *path = test_write_file(dir, "issuer.key", "jitsk1." SEED_B64 "\n",
				     0600);
	jit_issuer_key *key = NULL;

	assert_int_equal(jit_issuer_key_load(path, &key, NULL), JIT_OK);
	unlink(path);
	free(path);
	return key;
}

static void public_file_written_and_loaded(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	char *path = path_in(trusted, SEED_KEY_ID_HEX ".pub");
	jit_issuer_key *key = seed_key(f->dir);
	uint8_t id[JIT_KEY_ID_LEN], public_key[JIT_PUBLIC_KEY_LEN];
	jit_keyring *keys = NULL;
	mode_t old;
	char *text;

	old = umask(0077);
	assert_int_equal(jit_issuer_key_write_public(key, trusted, NULL), JIT_OK);
	umask(old);

	assert_int_equal(file_mode(path), 0644);
	text = read_text(path);
	assert_string_equal(text, "jitpk1." SEED_PUBLIC_B64 "\n");

	assert_int_equal(jit_keyring_load(trusted, &keys, NULL), JIT_OK);
	jit_issuer_key_id(key, id);
	jit_issuer_key_public(key, public_key);
	assert_non_null(jit_keyring_find(keys, id));
	assert_memory_equal(jit_keyring_find(keys, id), public_key,
			    JIT_PUBLIC_KEY_LEN);

	/* Writing it again replaces the file in place. */
	assert_int_equal(jit_issuer_key_write_public(key, trusted, NULL), JIT_OK);

	jit_keyring_free(keys);
	jit_issuer_key_free(key);
	free(text);
	free(path);
	free(trusted);
}

static void keyring_empty_folder(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	uint8_t id[JIT_KEY_ID_LEN] = { 0 };
	jit_keyring *keys = NULL;

	assert_int_equal(jit_keyring_load(trusted, &keys, NULL), JIT_OK);
	assert_non_null(keys);
	assert_null(jit_keyring_find(keys, id));
	jit_keyring_free(keys);
	free(trusted);
}

static void keyring_ignores_other_names(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	uint8_t id[JIT_KEY_ID_LEN];
	jit_keyring *keys = NULL;

	free(test_write_file(trusted, "README", "not a key\n", 0666));
	free(test_write_file(trusted, "old.pub.bak", "garbage", 0644));
	free(test_write_file(trusted, ".hidden.pub", "garbage", 0644));
	free(test_write_file(trusted, ".pub", "garbage", 0644));
	free(test_write_file(trusted, "ops.pub", "jitpk1." SEED_PUBLIC_B64 "\n", 0644));

	assert_int_equal(jit_keyring_load(trusted, &keys, NULL), JIT_OK);
	hex_decode(SEED_KEY_ID_HEX, id, sizeof(id));
	assert_non_null(jit_keyring_find(keys, id));
	jit_keyring_free(keys);
	free(trusted);
}

static void keyring_missing_folder(void **state)
{
	struct fixture *f = *state;
	char *path = path_in(f->dir, "absent.d");
	jit_keyring *keys = NULL;
	jit_error error = { 0 };

	assert_int_equal(jit_keyring_load(path, &keys, &error), JIT_ERR_NOT_FOUND);
	assert_null(keys);
	assert_non_null(strstr(error.message, path));
	free(path);
}

static void keyring_unsafe_folder(void **state)
{
	struct fixture *f = *state;
	char *writable = make_subdir(f->dir, "writable.d", 0775);
	char *others = make_subdir(f->dir, "others.d", 0757);
	char *foreign = make_subdir(f->dir, "foreign.d", 0755);
	jit_keyring *keys = NULL;
	jit_error error = { 0 };

	assert_int_equal(jit_keyring_load(writable, &keys, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, writable));
	assert_int_equal(jit_keyring_load(others, &keys, NULL),
			 JIT_ERR_UNSAFE_FILE);

	assert_int_equal(chown(foreign, NOBODY_UID, NOBODY_UID), 0);
	assert_int_equal(jit_keyring_load(foreign, &keys, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, foreign));
	assert_null(keys);

	free(writable);
	free(others);
	free(foreign);
}

static void keyring_symlinked_folder(void **state)
{
	struct fixture *f = *state;
	char *real = make_subdir(f->dir, "real.d", 0755);
	char *link = path_in(f->dir, "trusted.d");
	jit_keyring *keys = NULL;
	jit_error error = { 0 };

	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(jit_keyring_load(link, &keys, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_null(keys);
	assert_non_null(strstr(error.message, link));
	free(real);
	free(link);
}

static void keyring_unsafe_key_file(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	static const unsigned modes[] = { 0666, 0664, 0646, 0620 };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char *path = test_write_file(trusted, "ops.pub",
					     "jitpk1." SEED_PUBLIC_B64 "\n",
					     modes[i]);
		jit_keyring *keys = NULL;
		jit_error error = { 0 };

		print_message("mode %04o\n", modes[i]);
		assert_int_equal(jit_keyring_load(trusted, &keys, &error),
				 JIT_ERR_UNSAFE_FILE);
		assert_null(keys);
		assert_non_null(strstr(error.message, path));
		unlink(path);
		free(path);
	}
	free(trusted);
}

static void keyring_key_owned_by_other_user(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	char *path = test_write_file(trusted, "ops.pub",
				     "jitpk1." SEED_PUBLIC_B64 "\n",
				     0644);
	jit_keyring *keys = NULL;
	jit_error error = { 0 };

	chown_to_nobody(path);
	assert_int_equal(jit_keyring_load(trusted, &keys, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_null(keys);
	assert_non_null(strstr(error.message, path));
	free(path);
	free(trusted);
}

static void keyring_bad_file_fails_whole_load(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	char *good = test_write_file(trusted, "good.pub",
				     "jitpk1." SEED_PUBLIC_B64 "\n",
				     0644);
	jit_error error = { 0 };

	/* One malformed or empty file among good ones denies everything. */
	assert_int_equal(load_trusted_text(trusted, "", &error),
			 JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "one.pub"));
	assert_int_equal(load_trusted_text(trusted, "jitpk1.abc\n", &error),
			 JIT_ERR_MALFORMED);
	assert_non_null(strstr(error.message, "one.pub"));
	assert_int_equal(load_trusted_text(trusted, "jitsk1." SEED_B64 "\n",
					   NULL), JIT_ERR_MALFORMED);
	assert_int_equal(load_trusted_text(trusted,
					   "jitpk1." SEED_PUBLIC_B64 "=\n",
					   NULL), JIT_ERR_MALFORMED);

	assert_int_equal(load_trusted_text(trusted,
					   "jitpk1." SEED_PUBLIC_B64 "\n",
					   NULL), JIT_OK);
	free(good);
	free(trusted);
}

static void keyring_symlink_and_folder_entries(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	char *target = test_write_file(f->dir, "elsewhere",
				       "jitpk1." SEED_PUBLIC_B64 "\n",
				       0644);
	char *link = path_in(trusted, "link.pub");
	char *sub;
	jit_keyring *keys = NULL;
	jit_error error = { 0 };

	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(jit_keyring_load(trusted, &keys, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, "link.pub"));
	assert_int_equal(unlink(link), 0);

	sub = make_subdir(trusted, "folder.pub", 0755);
	assert_int_equal(jit_keyring_load(trusted, &keys, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, "folder.pub"));
	assert_null(keys);

	free(sub);
	free(link);
	free(target);
	free(trusted);
}

static void keyring_duplicate_key_files(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	uint8_t id[JIT_KEY_ID_LEN];
	jit_keyring *keys = NULL;

	free(test_write_file(trusted, "a.pub",
			     "jitpk1." SEED_PUBLIC_B64 "\n",
			     0644));
	free(test_write_file(trusted, SEED_KEY_ID_HEX ".pub",
			     "jitpk1." SEED_PUBLIC_B64,
			     0444));

	assert_int_equal(jit_keyring_load(trusted, &keys, NULL), JIT_OK);
	hex_decode(SEED_KEY_ID_HEX, id, sizeof(id));
	assert_non_null(jit_keyring_find(keys, id));
	jit_keyring_free(keys);
	free(trusted);
}

static void keyring_file_name_id_mismatch(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	jit_keyring *keys = NULL;
	jit_error error = { 0 };

	/* Named after another key's id: removing "that" key would not work. */
	free(test_write_file(trusted, "0123456789abcdef.pub",
			     "jitpk1." SEED_PUBLIC_B64 "\n",
			     0644));
	assert_int_equal(jit_keyring_load(trusted, &keys, &error),
			 JIT_ERR_MALFORMED);
	assert_null(keys);
	assert_non_null(strstr(error.message, "0123456789abcdef.pub"));
	assert_non_null(strstr(error.message, SEED_KEY_ID_HEX));
	free(trusted);
}

static void keyring_file_name_id_upper_case(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	jit_keyring *keys = NULL;

	free(test_write_file(trusted, "4D4DBE917544B079.pub",
			     "jitpk1." SEED_PUBLIC_B64 "\n",
			     0644));
	assert_int_equal(jit_keyring_load(trusted, &keys, NULL), JIT_OK);
	jit_keyring_free(keys);
	free(trusted);
}

static void keyring_bounded_key_count(void **state)
{
	struct fixture *f = *state;
	jit_keyring *keys = NULL;
	jit_error error = { 0 };
	uint8_t public_key[JIT_PUBLIC_KEY_LEN] = { 0 };
	jit_err r = JIT_OK;
	size_t added = 0;

	(void)f;
	assert_int_equal(jit_keyring_new(&keys, NULL), JIT_OK);
	for (size_t i = 0; i < 1000 && r == JIT_OK; i++) {
		public_key[0] = (uint8_t)i;
		public_key[1] = (uint8_t)(i >> 8);
		r = jit_keyring_add(keys, public_key, &error);
		if (r == JIT_OK)
			added++;
	}
	assert_int_equal(r, JIT_ERR_TOO_LARGE);
	assert_int_equal(added, 64);
	jit_keyring_free(keys);
}

static void keyring_too_many_files(void **state)
{
	struct fixture *f = *state;
	char *trusted = make_subdir(f->dir, "trusted.d", 0755);
	jit_keyring *keys = NULL;

	for (unsigned i = 0; i < 65; i++) {
		uint8_t public_key[JIT_PUBLIC_KEY_LEN] = { 0 };
		char text[128], name[32];

		public_key[0] = (uint8_t)i;
		memcpy(text, "jitpk1.", 7);
		sodium_bin2base64(text + 7, sizeof(text) - 7, public_key,
				  sizeof(public_key),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		snprintf(name, sizeof(name), "key-%u.pub", i);
		free(test_write_file(trusted, name, text, 0644));
	}
	assert_int_equal(jit_keyring_load(trusted, &keys, NULL),
			 JIT_ERR_TOO_LARGE);
	assert_null(keys);
	free(trusted);
}

static void keyring_add_and_find(void **state)
{
	uint8_t a[JIT_PUBLIC_KEY_LEN] = { 1 }, b[JIT_PUBLIC_KEY_LEN] = { 2 };
	uint8_t id_a[JIT_KEY_ID_LEN], id_b[JIT_KEY_ID_LEN];
	jit_keyring *keys = NULL;

	(void)state;
	jit_key_id_compute(a, id_a);
	jit_key_id_compute(b, id_b);

	assert_int_equal(jit_keyring_new(&keys, NULL), JIT_OK);
	assert_null(jit_keyring_find(keys, id_a));
	assert_int_equal(jit_keyring_add(keys, a, NULL), JIT_OK);
	assert_int_equal(jit_keyring_add(keys, a, NULL), JIT_OK);
	assert_memory_equal(jit_keyring_find(keys, id_a), a, sizeof(a));
	assert_null(jit_keyring_find(keys, id_b));
	assert_int_equal(jit_keyring_add(keys, b, NULL), JIT_OK);
	assert_memory_equal(jit_keyring_find(keys, id_b), b, sizeof(b));
	assert_null(jit_keyring_find(NULL, id_a));

	jit_keyring_free(keys);
	jit_keyring_free(NULL);
	jit_issuer_key_free(NULL);
}

#define KEY_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		KEY_TEST(crypto_init_succeeds),
		KEY_TEST(key_id_from_known_seed),
		KEY_TEST(key_id_differs_per_key),
		KEY_TEST(issuer_generate_then_load),
		KEY_TEST(issuer_generate_twice_is_exists),
		KEY_TEST(issuer_generate_mode_ignores_umask),
		KEY_TEST(issuer_generate_into_missing_folder),
		KEY_TEST(issuer_two_keys_differ),
		KEY_TEST(issuer_missing_file),
		KEY_TEST(issuer_empty_file),
		KEY_TEST(issuer_strict_text),
		KEY_TEST(issuer_oversized_file),
		KEY_TEST(issuer_unsafe_modes),
		KEY_TEST(issuer_stricter_mode_accepted),
		KEY_TEST(issuer_owned_by_other_user),
		KEY_TEST(issuer_symlink_rejected),
		KEY_TEST(issuer_folder_rejected),
		KEY_TEST(key_fifo_rejected_without_blocking),
		KEY_TEST(issuer_sign_verifies),
		KEY_TEST(public_file_written_and_loaded),
		KEY_TEST(keyring_empty_folder),
		KEY_TEST(keyring_ignores_other_names),
		KEY_TEST(keyring_missing_folder),
		KEY_TEST(keyring_unsafe_folder),
		KEY_TEST(keyring_symlinked_folder),
		KEY_TEST(keyring_unsafe_key_file),
		KEY_TEST(keyring_key_owned_by_other_user),
		KEY_TEST(keyring_bad_file_fails_whole_load),
		KEY_TEST(keyring_symlink_and_folder_entries),
		KEY_TEST(keyring_duplicate_key_files),
		KEY_TEST(keyring_file_name_id_mismatch),
		KEY_TEST(keyring_file_name_id_upper_case),
		KEY_TEST(keyring_bounded_key_count),
		KEY_TEST(keyring_too_many_files),
		KEY_TEST(keyring_add_and_find),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_keys checks root ownership and must run as root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
