#include "jit/keys.h"
#include "jit/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "jit/config.h"

#define ISSUER_KEY_PREFIX "jitsk1."
#define TRUSTED_KEY_PREFIX "jitpk1."
#define KEY_SEED_LEN crypto_sign_SEEDBYTES
#define KEY_B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* A key file is one short line, so a longer file is rejected unread. */
#define KEY_FILE_MAX 256

/* Keys kept by one keyring: enough for rotation with overlap across many
 * issuers, and small enough to search linearly on every check. */
#define KEYRING_MAX 64

struct jit_issuer_key {
	unsigned char *secret_key;	/* sodium_malloc'd, read-only while loaded */
	uint8_t public_key[JIT_PUBLIC_KEY_LEN];
	uint8_t id[JIT_KEY_ID_LEN];
};

struct jit_trusted_key {
	uint8_t public_key[JIT_PUBLIC_KEY_LEN];
	uint8_t id[JIT_KEY_ID_LEN];
};

struct jit_keyring {
	size_t count;
	struct jit_trusted_key keys[KEYRING_MAX];
};

jit_err jit_crypto_init(jit_error *error)
{
	if (sodium_init() < 0)
		return jit_error_set(error, JIT_ERR_CRYPTO,
				     "failed to initialise libsodium");
	return JIT_OK;
}

void jit_key_id_compute(const uint8_t public_key[JIT_PUBLIC_KEY_LEN],
			uint8_t id[JIT_KEY_ID_LEN])
{
	uint8_t hash[32];

	/* No sodium_init() needed: until it runs, libsodium uses its portable
	 * BLAKE2b, which computes the same hash. */
	crypto_generichash(hash, sizeof(hash), public_key, JIT_PUBLIC_KEY_LEN,
			   NULL, 0);
	memcpy(id, hash, JIT_KEY_ID_LEN);
}

void jit_key_id_format(const uint8_t id[JIT_KEY_ID_LEN],
		       char out[JIT_KEY_ID_HEX_LEN + 1])
{
	sodium_bin2hex(out, JIT_KEY_ID_HEX_LEN + 1, id, JIT_KEY_ID_LEN);
}

/* Decodes the one line of a key file: prefix, then exactly 32 bytes of
 * unpadded base64url, then at most one newline. */
static jit_err key_text_decode(const char *text, size_t len, const char *prefix,
			       const char *path, uint8_t out[32],
			       jit_error *error)
{
	size_t prefix_len = strlen(prefix);
	const char *b64, *b64_end = NULL;
	size_t b64_len, bin_len = 0;

	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "invalid key file %s: file is empty", path);
	if (len < prefix_len || memcmp(text, prefix, prefix_len) != 0)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "invalid key file %s: expected a line starting with \"%s\"",
				     path, prefix);

	b64 = text + prefix_len;
	b64_len = len - prefix_len;
	if (!jit_is_base64url(b64, b64_len) ||
	    sodium_base642bin(out, 32, b64, b64_len, NULL, &bin_len, &b64_end,
			      KEY_B64_VARIANT) != 0 ||
	    b64_end != b64 + b64_len || bin_len != 32)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "invalid key file %s: expected one line of 32 bytes in unpadded base64url after \"%s\"",
				     path, prefix);
	return JIT_OK;
}

/* Reads and decodes the key file open at fd after checking its owner and
 * mode. Every copy of the file's text is wiped, since it may be a seed. */
static jit_err key_file_read_fd(int fd, const char *path, bool secret,
				const char *prefix, uint8_t out[32],
				jit_error *error)
{
	char text[KEY_FILE_MAX + 1];
	size_t len = 0;
	jit_err r;

	r = jit_file_check_safe(fd, path, secret, error);
	if (r != JIT_OK)
		return r;

	/* Read one byte past the limit so an oversized file is noticed. */
	while (len < sizeof(text)) {
		ssize_t n = read(fd, text + len, sizeof(text) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = jit_error_set(error, JIT_ERR_IO,
					  "failed to read key file %s: %s",
					  path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}

	if (len > KEY_FILE_MAX) {
		r = jit_error_set(error, JIT_ERR_MALFORMED,
				  "invalid key file %s: longer than %d bytes",
				  path, KEY_FILE_MAX);
		goto out;
	}

	r = key_text_decode(text, len, prefix, path, out, error);

out:
	sodium_memzero(text, sizeof(text));
	return r;
}

static jit_err key_file_open(int dir_fd, const char *name, const char *path,
			     int *fd, jit_error *error)
{
	/* O_NONBLOCK keeps a FIFO in the key's place from blocking the open;
	 * jit_file_check_safe then rejects it as not a regular file. */
	*fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		     O_NOCTTY | O_NONBLOCK);
	if (*fd >= 0)
		return JIT_OK;
	if (errno == ENOENT)
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "key file %s not found", path);
	if (errno == ELOOP)
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "key file %s is a symbolic link", path);
	return jit_error_set(error, JIT_ERR_IO, "failed to open key file %s: %s",
			     path, strerror(errno));
}

jit_err jit_issuer_key_load(const char *path, jit_issuer_key **key,
			    jit_error *error)
{
	jit_issuer_key *k = NULL;
	uint8_t seed[KEY_SEED_LEN];
	int fd = -1;
	jit_err r;

	*key = NULL;

	r = jit_crypto_init(error);
	if (r != JIT_OK)
		return r;

	r = key_file_open(AT_FDCWD, path, path, &fd, error);
	if (r != JIT_OK)
		goto out;
	r = key_file_read_fd(fd, path, true, ISSUER_KEY_PREFIX, seed, error);
	if (r != JIT_OK)
		goto out;

	k = calloc(1, sizeof(*k));
	if (k != NULL)
		k->secret_key = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (k == NULL || k->secret_key == NULL) {
		r = jit_error_set(error, JIT_ERR_NOMEM,
				  "out of memory loading issuer key %s", path);
		goto out;
	}

	if (crypto_sign_seed_keypair(k->public_key, k->secret_key, seed) != 0) {
		r = jit_error_set(error, JIT_ERR_CRYPTO,
				  "failed to derive the key pair from %s", path);
		goto out;
	}
	if (sodium_mprotect_readonly(k->secret_key) != 0) {
		r = jit_error_set(error, JIT_ERR_CRYPTO,
				  "failed to protect the key from %s: %s",
				  path, strerror(errno));
		goto out;
	}
	jit_key_id_compute(k->public_key, k->id);

	*key = k;
	k = NULL;

out:
	sodium_memzero(seed, sizeof(seed));
	if (fd >= 0)
		close(fd);
	jit_issuer_key_free(k);
	return r;
}

void jit_issuer_key_free(jit_issuer_key *key)
{
	if (key == NULL)
		return;
	/* sodium_free makes the pages writable again and zeroes them. */
	sodium_free(key->secret_key);
	free(key);
}

void jit_issuer_key_id(const jit_issuer_key *key, uint8_t id[JIT_KEY_ID_LEN])
{
	memcpy(id, key->id, JIT_KEY_ID_LEN);
}

void jit_issuer_key_public(const jit_issuer_key *key,
			   uint8_t public_key[JIT_PUBLIC_KEY_LEN])
{
	memcpy(public_key, key->public_key, JIT_PUBLIC_KEY_LEN);
}

jit_err jit_issuer_key_sign(const jit_issuer_key *key, const uint8_t *message,
			    size_t message_len, uint8_t signature[64],
			    jit_error *error)
{
	jit_err r;

	r = jit_crypto_init(error);
	if (r != JIT_OK)
		return r;

	if (crypto_sign_detached(signature, NULL, message, message_len,
				 key->secret_key) != 0)
		return jit_error_set(error, JIT_ERR_CRYPTO,
				     "failed to sign a message of %zu bytes",
				     message_len);
	return JIT_OK;
}

/* Writes all of text to fd, then makes it durable. */
static jit_err key_file_write_fd(int fd, const char *text, size_t len,
				 const char *path, jit_error *error)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return jit_error_set(error, JIT_ERR_IO,
					     "failed to write key file %s: %s",
					     path, strerror(errno));
		done += (size_t)n;
	}

	if (fsync(fd) != 0)
		return jit_error_set(error, JIT_ERR_IO,
				     "failed to sync key file %s: %s",
				     path, strerror(errno));
	return JIT_OK;
}

/* Syncs the folder holding path so a new entry in it survives a crash. */
static jit_err folder_sync(const char *path, jit_error *error)
{
	char *copy = NULL, *slash;
	int fd = -1;
	jit_err r = JIT_ERR_NOMEM;

	copy = strdup(path);
	if (copy == NULL)
		return jit_error_set(error, r, "out of memory syncing %s", path);

	slash = strrchr(copy, '/');
	if (slash == NULL)
		strcpy(copy, ".");
	else if (slash == copy)
		slash[1] = '\0';
	else
		slash[0] = '\0';

	fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "failed to sync folder %s: %s",
				  copy, strerror(errno));
		goto out;
	}
	r = JIT_OK;

out:
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

/* Formats prefix, base64url of 32 bytes and a newline into text. */
static size_t key_text_encode(const char *prefix, const uint8_t bytes[32],
			      char *text, size_t size)
{
	size_t prefix_len = strlen(prefix);

	memcpy(text, prefix, prefix_len);
	sodium_bin2base64(text + prefix_len, size - prefix_len, bytes, 32,
			  KEY_B64_VARIANT);
	strcat(text, "\n");
	return strlen(text);
}

jit_err jit_issuer_key_generate(const char *path, jit_error *error)
{
	char text[KEY_FILE_MAX];
	uint8_t seed[KEY_SEED_LEN];
	size_t len;
	int fd = -1;
	jit_err r;

	r = jit_crypto_init(error);
	if (r != JIT_OK)
		return r;

	randombytes_buf(seed, sizeof(seed));
	len = key_text_encode(ISSUER_KEY_PREFIX, seed, text, sizeof(text));

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW |
		  O_NOCTTY, 0600);
	if (fd < 0) {
		r = jit_error_set(error, errno == EEXIST ? JIT_ERR_EXISTS : JIT_ERR_IO,
				  "failed to create issuer key %s: %s",
				  path, strerror(errno));
		goto out;
	}

	/* The mode is set explicitly so the caller's umask cannot widen it. */
	if (fchmod(fd, 0600) != 0) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "failed to set the mode of issuer key %s: %s",
				  path, strerror(errno));
		goto fail;
	}
	r = key_file_write_fd(fd, text, len, path, error);
	if (r != JIT_OK)
		goto fail;
	r = folder_sync(path, error);
	if (r != JIT_OK)
		goto fail;
	goto out;

fail:
	/* Leave no half-written key behind for a later load to trip on. */
	unlink(path);
out:
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(text, sizeof(text));
	if (fd >= 0)
		close(fd);
	return r;
}

/* Writes text to a temporary file in dir, then renames it to name, so a
 * concurrent keyring load finds either no file or the whole file. */
static jit_err public_file_replace(const char *dir, const char *name,
				   const char *text, jit_error *error)
{
	char *tmp = NULL, *path = NULL;
	int fd = -1;
	jit_err r = JIT_ERR_NOMEM;

	if (asprintf(&path, "%s/%s", dir, name) < 0) {
		path = NULL;
		return jit_error_set(error, r, "out of memory writing to %s", dir);
	}
	/* A leading dot keeps the temporary file out of keyring loads. */
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, name) < 0) {
		tmp = NULL;
		r = jit_error_set(error, r, "out of memory writing %s", path);
		goto out;
	}

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = jit_error_set(error, JIT_ERR_IO, "failed to create %s: %s",
				  tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0644) != 0) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "failed to set the mode of %s: %s",
				  tmp, strerror(errno));
		goto fail;
	}
	r = key_file_write_fd(fd, text, strlen(text), tmp, error);
	if (r != JIT_OK)
		goto fail;
	if (rename(tmp, path) != 0) {
		r = jit_error_set(error, JIT_ERR_IO, "failed to rename %s to %s: %s",
				  tmp, path, strerror(errno));
		goto fail;
	}
	r = folder_sync(path, error);
	goto out;

fail:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(path);
	return r;
}

jit_err jit_issuer_key_write_public(const jit_issuer_key *key, const char *dir,
				    jit_error *error)
{
	char text[KEY_FILE_MAX];
	char hex[JIT_KEY_ID_HEX_LEN + 1];
	char name[JIT_KEY_ID_HEX_LEN + sizeof(".pub")];

	jit_key_id_format(key->id, hex);
	snprintf(name, sizeof(name), "%s.pub", hex);
	key_text_encode(TRUSTED_KEY_PREFIX, key->public_key, text, sizeof(text));

	return public_file_replace(dir, name, text, error);
}

jit_err jit_keyring_new(jit_keyring **keys, jit_error *error)
{
	jit_err r;

	*keys = NULL;

	r = jit_crypto_init(error);
	if (r != JIT_OK)
		return r;

	*keys = calloc(1, sizeof(**keys));
	if (*keys == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory creating a keyring");
	return JIT_OK;
}

void jit_keyring_free(jit_keyring *keys)
{
	free(keys);
}

jit_err jit_keyring_add(jit_keyring *keys,
			const uint8_t public_key[JIT_PUBLIC_KEY_LEN],
			jit_error *error)
{
	uint8_t id[JIT_KEY_ID_LEN];
	char hex[JIT_KEY_ID_HEX_LEN + 1];
	const uint8_t *known;

	jit_key_id_compute(public_key, id);
	jit_key_id_format(id, hex);

	/* The same key twice (say under two file names) is harmless, but two
	 * keys with one id would make lookups ambiguous. */
	known = jit_keyring_find(keys, id);
	if (known != NULL) {
		if (memcmp(known, public_key, JIT_PUBLIC_KEY_LEN) == 0)
			return JIT_OK;
		return jit_error_set(error, JIT_ERR_INVALID,
				     "two different trusted keys have the id %s",
				     hex);
	}

	if (keys->count >= KEYRING_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "cannot trust key %s: a keyring holds at most %d keys",
				     hex, KEYRING_MAX);

	memcpy(keys->keys[keys->count].public_key, public_key,
	       JIT_PUBLIC_KEY_LEN);
	memcpy(keys->keys[keys->count].id, id, JIT_KEY_ID_LEN);
	keys->count++;
	return JIT_OK;
}

const uint8_t *jit_keyring_find(const jit_keyring *keys,
				const uint8_t id[JIT_KEY_ID_LEN])
{
	if (keys == NULL)
		return NULL;
	for (size_t i = 0; i < keys->count; i++)
		if (memcmp(keys->keys[i].id, id, JIT_KEY_ID_LEN) == 0)
			return keys->keys[i].public_key;
	return NULL;
}

static bool name_is_public_key_file(const char *name)
{
	size_t len = strlen(name);

	/* Hidden files are skipped as the shell's "*.pub" would skip them,
	 * which also keeps out the temporary files written before a rename. */
	return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".pub") == 0;
}

/* A file named "<16 hex digits>.pub" must hold the key with that id:
 * otherwise deleting the file named after a retired key's id would leave
 * that key trusted. Other names are free. */
static jit_err key_file_check_name(const char *name, const char *path,
				   const uint8_t public_key[JIT_PUBLIC_KEY_LEN],
				   jit_error *error)
{
	uint8_t id[JIT_KEY_ID_LEN];
	char hex[JIT_KEY_ID_HEX_LEN + 1];

	if (strlen(name) != JIT_KEY_ID_HEX_LEN + 4)
		return JIT_OK;
	for (size_t i = 0; i < JIT_KEY_ID_HEX_LEN; i++)
		if (!isxdigit((unsigned char)name[i]))
			return JIT_OK;

	jit_key_id_compute(public_key, id);
	jit_key_id_format(id, hex);
	if (strncasecmp(name, hex, JIT_KEY_ID_HEX_LEN) != 0)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "invalid key file %s: its name says key id %.16s but it holds key %s",
				     path, name, hex);
	return JIT_OK;
}

static jit_err keyring_load_file(jit_keyring *keys, int dir_fd,
				 const char *dir, const char *name,
				 jit_error *error)
{
	uint8_t public_key[JIT_PUBLIC_KEY_LEN];
	char *path = NULL;
	int fd = -1;
	jit_err r;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory loading %s", dir);

	r = key_file_open(dir_fd, name, path, &fd, error);
	if (r != JIT_OK)
		goto out;
	r = key_file_read_fd(fd, path, false, TRUSTED_KEY_PREFIX, public_key,
			     error);
	if (r != JIT_OK)
		goto out;
	r = key_file_check_name(name, path, public_key, error);
	if (r != JIT_OK)
		goto out;
	r = jit_keyring_add(keys, public_key, error);

out:
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* Opens dir and checks that only root can change which keys it holds. */
static jit_err trusted_dir_open(const char *dir, int *fd, jit_error *error)
{
	struct stat st;

	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	/* With O_DIRECTORY, Linux reports a symbolic link as ENOTDIR. */
	if (*fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "trusted keys folder %s is a symbolic link or not a folder",
				     dir);
	if (*fd < 0)
		return jit_error_set(error,
				     errno == ENOENT ? JIT_ERR_NOT_FOUND : JIT_ERR_IO,
				     "failed to open trusted keys folder %s: %s",
				     dir, strerror(errno));

	if (fstat(*fd, &st) != 0)
		return jit_error_set(error, JIT_ERR_IO,
				     "failed to stat trusted keys folder %s: %s",
				     dir, strerror(errno));
	if (st.st_uid != 0)
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "trusted keys folder %s is owned by uid %u, not root",
				     dir, (unsigned)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "trusted keys folder %s is writable by group or others (mode %04o)",
				     dir, (unsigned)(st.st_mode & 07777));
	return JIT_OK;
}

jit_err jit_keyring_load(const char *dir, jit_keyring **keys, jit_error *error)
{
	jit_keyring *ring = NULL;
	DIR *listing = NULL;
	struct dirent *entry;
	int fd = -1;
	jit_err r;

	*keys = NULL;

	r = jit_keyring_new(&ring, error);
	if (r != JIT_OK)
		return r;

	r = trusted_dir_open(dir, &fd, error);
	if (r != JIT_OK)
		goto out;

	listing = fdopendir(fd);
	if (listing == NULL) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "failed to list trusted keys folder %s: %s",
				  dir, strerror(errno));
		goto out;
	}
	fd = -1;

	for (;;) {
		errno = 0;
		entry = readdir(listing);
		if (entry == NULL)
			break;
		if (!name_is_public_key_file(entry->d_name))
			continue;
		r = keyring_load_file(ring, dirfd(listing), dir, entry->d_name,
				      error);
		if (r != JIT_OK)
			goto out;
	}
	if (errno != 0) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "failed to list trusted keys folder %s: %s",
				  dir, strerror(errno));
		goto out;
	}

	*keys = ring;
	ring = NULL;

out:
	if (listing != NULL)
		closedir(listing);
	if (fd >= 0)
		close(fd);
	jit_keyring_free(ring);
	return r;
}

size_t jit_keyring_count(const jit_keyring *keys)
{
	return keys != NULL ? keys->count : 0;
}
