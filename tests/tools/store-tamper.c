/* store-tamper: damages a jit store on purpose, for the end-to-end tests.
 *
 *   store-tamper STORE_DIR flip GRANT_ID OFFSET
 *   store-tamper STORE_DIR truncate GRANT_ID LEN
 *   store-tamper STORE_DIR append GRANT_ID HEXBYTES
 *   store-tamper STORE_DIR move GRANT_ID NEWUSER
 *   store-tamper STORE_DIR copy-in BLOB_FILE USER NOT_AFTER
 *
 * flip xors one byte of the stored blob with 0x01 (a negative OFFSET
 * counts from the end); truncate cuts the blob to LEN bytes; append adds
 * bytes after it; move adds a by_user entry NEWUSER -> GRANT_ID while the
 * signed user field stays as it was; copy-in stores a raw blob under the
 * grant id found at its bytes [17, 33), with by_user and by_expiry entries
 * for USER and NOT_AFTER (seconds since the epoch).
 *
 * It is the one program outside libjitcore that links liblmdb, because it
 * exists to write what the library never would. It relies on the store
 * layout:
 *
 *   grants     grant id (16 bytes)           -> signed grant blob
 *   by_user    user name, dupsort            -> grant id
 *   by_expiry  not_after (u64 BE) + grant id -> user name
 *
 * User names are stored as their bytes, without a terminating NUL. Every
 * change is one write transaction, so a failure leaves the store as it
 * was. Exit status: 0 on success, 1 on failure, 2 on usage errors. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GRANT_ID_LEN 16
#define GRANT_ID_OFFSET 17   /* magic 4 + version 1 + key id 8 + signed_len 4 */
/* Larger than the 64 KiB grant limit, so oversized blobs can be stored. */
#define BLOB_FILE_MAX (1024 * 1024)

typedef struct store {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi grants;
	MDB_dbi by_user;
	MDB_dbi by_expiry;
} store;

typedef struct buffer {
	uint8_t *data;
	size_t len;
} buffer;

static int fail(const char *format, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *format, ...)
{
	va_list ap;

	fputs("store-tamper: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex into a malloc'd buffer. Returns false on an odd length or a
 * non-hex character. */
static bool hex_decode(const char *hex, buffer *out)
{
	size_t len = strlen(hex);

	out->data = NULL;
	out->len = 0;
	if (len % 2 != 0)
		return false;

	out->data = malloc(len / 2 + 1);
	if (out->data == NULL)
		return false;

	for (size_t i = 0; i < len / 2; i++) {
		int high = hex_digit(hex[2 * i]);
		int low = hex_digit(hex[2 * i + 1]);

		if (high < 0 || low < 0) {
			free(out->data);
			out->data = NULL;
			return false;
		}
		out->data[i] = (uint8_t)(high << 4 | low);
	}
	out->len = len / 2;
	return true;
}

static bool parse_grant_id(const char *hex, uint8_t id[GRANT_ID_LEN])
{
	buffer decoded;
	bool ok;

	if (!hex_decode(hex, &decoded))
		return false;
	ok = decoded.len == GRANT_ID_LEN;
	if (ok)
		memcpy(id, decoded.data, GRANT_ID_LEN);
	free(decoded.data);
	return ok;
}

static bool parse_integer(const char *text, long long *value)
{
	char *end;

	errno = 0;
	*value = strtoll(text, &end, 10);
	return errno == 0 && end != text && *end == '\0';
}

static int store_open(const char *dir, store *s)
{
	int r;

	memset(s, 0, sizeof(*s));

	r = mdb_env_create(&s->env);
	if (r == 0)
		r = mdb_env_set_maxdbs(s->env, 16);
	if (r == 0)
		r = mdb_env_open(s->env, dir, 0, 0600);
	if (r == 0)
		r = mdb_txn_begin(s->env, NULL, 0, &s->txn);
	/* Flags 0: LMDB takes each database's flags (dupsort) from the store. */
	if (r == 0)
		r = mdb_dbi_open(s->txn, "grants", 0, &s->grants);
	if (r == 0)
		r = mdb_dbi_open(s->txn, "by_user", 0, &s->by_user);
	if (r == 0)
		r = mdb_dbi_open(s->txn, "by_expiry", 0, &s->by_expiry);
	if (r != 0)
		return fail("failed to open store %s: %s", dir, mdb_strerror(r));
	return 0;
}

static int store_commit(store *s)
{
	int r = mdb_txn_commit(s->txn);

	s->txn = NULL;
	if (r != 0)
		return fail("failed to commit: %s", mdb_strerror(r));
	return 0;
}

static void store_close(store *s)
{
	if (s->txn != NULL)
		mdb_txn_abort(s->txn);
	if (s->env != NULL)
		mdb_env_close(s->env);
}

/* Copies out the blob stored under id, with room for extra bytes. */
static int read_blob(store *s, const uint8_t id[GRANT_ID_LEN], size_t extra,
		     buffer *blob)
{
	MDB_val key = { GRANT_ID_LEN, (void *)id };
	MDB_val value;
	int r;

	r = mdb_get(s->txn, s->grants, &key, &value);
	if (r == MDB_NOTFOUND)
		return fail("no grant with that id is stored");
	if (r != 0)
		return fail("failed to read the grant: %s", mdb_strerror(r));

	blob->data = malloc(value.mv_size + extra + 1);
	if (blob->data == NULL)
		return fail("out of memory");
	memcpy(blob->data, value.mv_data, value.mv_size);
	blob->len = value.mv_size;
	return 0;
}

static int write_blob(store *s, const uint8_t id[GRANT_ID_LEN],
		      const buffer *blob)
{
	MDB_val key = { GRANT_ID_LEN, (void *)id };
	MDB_val value = { blob->len, blob->data };
	int r;

	r = mdb_put(s->txn, s->grants, &key, &value, 0);
	if (r != 0)
		return fail("failed to write the grant: %s", mdb_strerror(r));
	return 0;
}

static int add_user_entry(store *s, const char *user,
			  const uint8_t id[GRANT_ID_LEN])
{
	MDB_val key = { strlen(user), (void *)user };
	MDB_val value = { GRANT_ID_LEN, (void *)id };
	int r;

	r = mdb_put(s->txn, s->by_user, &key, &value, MDB_NODUPDATA);
	if (r != 0 && r != MDB_KEYEXIST)
		return fail("failed to index the grant under %s: %s", user,
			    mdb_strerror(r));
	return 0;
}

static int add_expiry_entry(store *s, int64_t not_after, const char *user,
			    const uint8_t id[GRANT_ID_LEN])
{
	uint8_t key_bytes[8 + GRANT_ID_LEN];
	uint64_t when = (uint64_t)not_after;
	MDB_val key = { sizeof(key_bytes), key_bytes };
	MDB_val value = { strlen(user), (void *)user };
	int r;

	for (int i = 0; i < 8; i++)
		key_bytes[i] = (uint8_t)(when >> (56 - 8 * i));
	memcpy(key_bytes + 8, id, GRANT_ID_LEN);

	r = mdb_put(s->txn, s->by_expiry, &key, &value, 0);
	if (r != 0)
		return fail("failed to index the grant by expiry: %s",
			    mdb_strerror(r));
	return 0;
}

static int tamper_flip(store *s, const uint8_t id[GRANT_ID_LEN],
		       const char *offset_text)
{
	buffer blob = { NULL, 0 };
	long long offset;
	int r;

	if (!parse_integer(offset_text, &offset))
		return fail("invalid offset %s", offset_text);

	r = read_blob(s, id, 0, &blob);
	if (r != 0)
		return r;

	if (offset < 0)
		offset += (long long)blob.len;
	if (offset < 0 || offset >= (long long)blob.len)
		r = fail("offset %s is outside the %zu-byte blob", offset_text,
			 blob.len);
	else {
		blob.data[offset] ^= 0x01;
		r = write_blob(s, id, &blob);
	}

	free(blob.data);
	return r;
}

static int tamper_truncate(store *s, const uint8_t id[GRANT_ID_LEN],
			   const char *len_text)
{
	buffer blob = { NULL, 0 };
	long long len;
	int r;

	if (!parse_integer(len_text, &len) || len < 0)
		return fail("invalid length %s", len_text);

	r = read_blob(s, id, 0, &blob);
	if (r != 0)
		return r;

	if ((unsigned long long)len > blob.len)
		r = fail("length %s is longer than the %zu-byte blob (use "
			 "append to extend it)", len_text, blob.len);
	else {
		blob.len = (size_t)len;
		r = write_blob(s, id, &blob);
	}

	free(blob.data);
	return r;
}

static int tamper_append(store *s, const uint8_t id[GRANT_ID_LEN],
			 const char *hex)
{
	buffer blob = { NULL, 0 };
	buffer extra;
	int r;

	if (!hex_decode(hex, &extra) || extra.len == 0) {
		free(extra.data);
		return fail("invalid hex bytes %s", hex);
	}

	r = read_blob(s, id, extra.len, &blob);
	if (r == 0) {
		memcpy(blob.data + blob.len, extra.data, extra.len);
		blob.len += extra.len;
		r = write_blob(s, id, &blob);
	}

	free(blob.data);
	free(extra.data);
	return r;
}

static int tamper_move(store *s, const uint8_t id[GRANT_ID_LEN],
		       const char *new_user)
{
	buffer blob = { NULL, 0 };
	int r;

	/* Only a stored grant gets an index entry. */
	r = read_blob(s, id, 0, &blob);
	free(blob.data);
	if (r != 0)
		return r;

	return add_user_entry(s, new_user, id);
}

/* Reads a whole file of at most BLOB_FILE_MAX bytes. */
static int read_file(const char *path, buffer *out)
{
	struct stat st;
	ssize_t n;
	int fd, r = 1;

	out->data = NULL;
	out->len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("failed to open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > BLOB_FILE_MAX) {
		fail("%s is not a regular file of at most %d bytes", path,
		     BLOB_FILE_MAX);
		goto out;
	}

	out->data = malloc((size_t)st.st_size + 1);
	if (out->data == NULL) {
		fail("out of memory");
		goto out;
	}
	n = read(fd, out->data, (size_t)st.st_size);
	if (n != st.st_size) {
		fail("failed to read %s", path);
		goto out;
	}
	out->len = (size_t)n;
	r = 0;
out:
	if (r != 0) {
		free(out->data);
		out->data = NULL;
	}
	close(fd);
	return r;
}

static int tamper_copy_in(store *s, const char *path, const char *user,
			  const char *not_after_text)
{
	buffer blob;
	long long not_after;
	const uint8_t *id;
	int r;

	if (!parse_integer(not_after_text, &not_after))
		return fail("invalid not_after %s", not_after_text);

	r = read_file(path, &blob);
	if (r != 0)
		return r;
	if (blob.len < GRANT_ID_OFFSET + GRANT_ID_LEN) {
		free(blob.data);
		return fail("%s is too short to hold a grant id", path);
	}

	id = blob.data + GRANT_ID_OFFSET;
	r = write_blob(s, id, &blob);
	if (r == 0)
		r = add_user_entry(s, user, id);
	if (r == 0)
		r = add_expiry_entry(s, (int64_t)not_after, user, id);

	free(blob.data);
	return r;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: store-tamper STORE_DIR flip GRANT_ID OFFSET\n"
		"       store-tamper STORE_DIR truncate GRANT_ID LEN\n"
		"       store-tamper STORE_DIR append GRANT_ID HEXBYTES\n"
		"       store-tamper STORE_DIR move GRANT_ID NEWUSER\n"
		"       store-tamper STORE_DIR copy-in BLOB_FILE USER NOT_AFTER\n");
	return 2;
}

static int run(store *s, int argc, char **argv)
{
	const char *op = argv[2];
	uint8_t id[GRANT_ID_LEN];

	if (strcmp(op, "copy-in") == 0) {
		if (argc != 6)
			return usage();
		return tamper_copy_in(s, argv[3], argv[4], argv[5]);
	}

	if (argc != 5)
		return usage();
	if (!parse_grant_id(argv[3], id))
		return fail("invalid grant id %s: expected 32 hex digits",
			    argv[3]);

	if (strcmp(op, "flip") == 0)
		return tamper_flip(s, id, argv[4]);
	if (strcmp(op, "truncate") == 0)
		return tamper_truncate(s, id, argv[4]);
	if (strcmp(op, "append") == 0)
		return tamper_append(s, id, argv[4]);
	if (strcmp(op, "move") == 0)
		return tamper_move(s, id, argv[4]);
	return usage();
}

static bool known_operation(const char *op)
{
	static const char *const operations[] = {
		"flip", "truncate", "append", "move", "copy-in",
	};

	for (size_t i = 0; i < sizeof(operations) / sizeof(operations[0]); i++)
		if (strcmp(op, operations[i]) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	store s;
	int r;

	if (argc < 3 || !known_operation(argv[2]))
		return usage();

	r = store_open(argv[1], &s);
	if (r == 0)
		r = run(&s, argc, argv);
	if (r == 0)
		r = store_commit(&s);

	store_close(&s);
	return r;
}
