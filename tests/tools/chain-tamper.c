/* chain-tamper: changes the evidence chain of a jit store on purpose, for
 * the end-to-end tests of "jitctl audit --verify".
 *
 *   chain-tamper STORE_DIR alter SEQ OLD NEW
 *   chain-tamper STORE_DIR delete-tail COUNT
 *   chain-tamper STORE_DIR swap SEQ SEQ
 *
 * alter replaces the first occurrence of the text OLD in record SEQ with
 * NEW, which must have the same length, and leaves every other byte;
 * delete-tail removes the last COUNT records and leaves the head entry;
 * swap exchanges the values of two records. It links liblmdb directly
 * because it writes what the library never would, and relies on the chain
 * layout: database "chain", key = sequence number (u64 big-endian), value
 * = the encoded record. Each change is one write transaction. Exit status:
 * 0 on success, 1 on failure, 2 on usage errors. */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_SIZE ((size_t)1 << 30)
#define MAX_DBS 16

static void seq_key(uint8_t key[8], uint64_t seq)
{
	for (int i = 7; i >= 0; i--) {
		key[i] = (uint8_t)seq;
		seq >>= 8;
	}
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "chain-tamper: %s: %s\n", what, mdb_strerror(rc));
	return 1;
}

static int alter(MDB_txn *txn, MDB_dbi dbi, uint64_t seq, const char *old,
		 const char *new)
{
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	uint8_t *copy, *at;
	int rc;

	if (strlen(old) != strlen(new) || old[0] == '\0') {
		fprintf(stderr, "chain-tamper: OLD and NEW must have the same, non-zero length\n");
		return 2;
	}
	seq_key(key, seq);
	rc = mdb_get(txn, dbi, &k, &v);
	if (rc != 0)
		return fail("reading the record", rc);
	copy = malloc(v.mv_size);
	if (copy == NULL)
		return 1;
	memcpy(copy, v.mv_data, v.mv_size);
	at = memmem(copy, v.mv_size, old, strlen(old));
	if (at == NULL) {
		fprintf(stderr, "chain-tamper: record %llu does not contain \"%s\"\n",
			(unsigned long long)seq, old);
		free(copy);
		return 1;
	}
	memcpy(at, new, strlen(new));
	v.mv_data = copy;
	rc = mdb_put(txn, dbi, &k, &v, 0);
	free(copy);
	return rc == 0 ? 0 : fail("writing the record", rc);
}

static int delete_tail(MDB_txn *txn, MDB_dbi dbi, unsigned long count)
{
	MDB_cursor *cursor = NULL;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(txn, dbi, &cursor);
	for (unsigned long i = 0; rc == 0 && i < count; i++) {
		rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
		if (rc == 0)
			rc = mdb_cursor_del(cursor, 0);
	}
	if (cursor != NULL)
		mdb_cursor_close(cursor);
	return rc == 0 ? 0 : fail("deleting records", rc);
}

static int swap(MDB_txn *txn, MDB_dbi dbi, uint64_t a, uint64_t b)
{
	uint8_t key_a[8], key_b[8];
	MDB_val ka = { 8, key_a }, kb = { 8, key_b }, va, vb;
	void *copy_a, *copy_b;
	int rc;

	seq_key(key_a, a);
	seq_key(key_b, b);
	rc = mdb_get(txn, dbi, &ka, &va);
	if (rc == 0)
		rc = mdb_get(txn, dbi, &kb, &vb);
	if (rc != 0)
		return fail("reading the records", rc);
	copy_a = malloc(va.mv_size);
	copy_b = malloc(vb.mv_size);
	if (copy_a == NULL || copy_b == NULL) {
		free(copy_a);
		free(copy_b);
		return 1;
	}
	memcpy(copy_a, va.mv_data, va.mv_size);
	memcpy(copy_b, vb.mv_data, vb.mv_size);
	rc = mdb_put(txn, dbi, &ka, &(MDB_val){ vb.mv_size, copy_b }, 0);
	if (rc == 0)
		rc = mdb_put(txn, dbi, &kb, &(MDB_val){ va.mv_size, copy_a }, 0);
	free(copy_a);
	free(copy_b);
	return rc == 0 ? 0 : fail("writing the records", rc);
}

static int usage(void)
{
	fprintf(stderr, "usage: chain-tamper STORE_DIR alter SEQ OLD NEW\n"
			"       chain-tamper STORE_DIR delete-tail COUNT\n"
			"       chain-tamper STORE_DIR swap SEQ SEQ\n");
	return 2;
}

static int run(MDB_txn *txn, MDB_dbi dbi, int argc, char **argv)
{
	const char *op = argv[2];

	if (strcmp(op, "alter") == 0 && argc == 6)
		return alter(txn, dbi, strtoull(argv[3], NULL, 10), argv[4],
			     argv[5]);
	if (strcmp(op, "delete-tail") == 0 && argc == 4)
		return delete_tail(txn, dbi, strtoul(argv[3], NULL, 10));
	if (strcmp(op, "swap") == 0 && argc == 5)
		return swap(txn, dbi, strtoull(argv[3], NULL, 10),
			    strtoull(argv[4], NULL, 10));
	return usage();
}

int main(int argc, char **argv)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	int rc, status;

	if (argc < 4)
		return usage();

	rc = mdb_env_create(&env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, MAX_DBS);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, MAP_SIZE);
	if (rc == 0)
		rc = mdb_env_open(env, argv[1], 0, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "chain", 0, &dbi);
	if (rc != 0) {
		status = fail("opening the chain", rc);
	} else {
		status = run(txn, dbi, argc, argv);
		rc = status == 0 ? mdb_txn_commit(txn) : 0;
		if (status != 0)
			mdb_txn_abort(txn);
		txn = NULL;
		if (rc != 0)
			status = fail("committing", rc);
	}
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return status;
}
