/* Tests of the evidence chain in the store: appends, loading, and the
 * verification that finds changed, removed and reordered records. The
 * tampering helpers edit the LMDB file directly, as an attacker with
 * write access to the store would. */
#include "testlib.h"
#include "../../libjitcore/src/store_internal.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
	char *dir;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	jit_error error;

	assert_non_null(f);
	f->dir = test_mkdtemp();
	assert_int_equal(jit_store_create(f->dir, &error), JIT_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static jit_store *open_store(const char *dir, jit_store_mode mode)
{
	jit_store *store = NULL;
	jit_error error;

	if (jit_store_open(dir, mode, &store, &error) != JIT_OK)
		fail_msg("opening %s: %s", dir, error.message);
	return store;
}

/* Appends count events for alice, numbered from 1 in their detail. */
static void append_events(const char *dir, unsigned count)
{
	jit_store *store = open_store(dir, JIT_STORE_WRITE);
	jit_error error;

	for (unsigned i = 1; i <= count; i++) {
		char number[16];
		jit_chain_event ev = {
			.type = "grant-issued",
			.time_ms = 1700000000000 + i,
			.grant_id = "00112233445566778899aabbccddeeff",
			.user = "alice",
			.actor = "root",
			.detail_count = 1,
			.details = { { "n", number } },
		};

		snprintf(number, sizeof(number), "%u", i);
		if (jit_store_chain_append(store, &ev, &error) != JIT_OK)
			fail_msg("append %u: %s", i, error.message);
	}
	jit_store_close(store);
}

static jit_chain_verdict verify(const char *dir)
{
	jit_store *store = open_store(dir, JIT_STORE_READ);
	jit_chain_verdict verdict;
	jit_error error;

	if (jit_store_chain_verify(store, &verdict, &error) != JIT_OK)
		fail_msg("verify: %s", error.message);
	jit_store_close(store);
	return verdict;
}

/* Opens the chain database of dir's store directly with LMDB. */
static void raw_begin(const char *dir, MDB_env **env, MDB_txn **txn,
		      MDB_dbi *dbi, const char *name)
{
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(*env, JIT_STORE_MAP_SIZE), 0);
	assert_int_equal(mdb_env_open(*env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
	assert_int_equal(mdb_dbi_open(*txn, name, 0, dbi), 0);
}

static void raw_end(MDB_env *env, MDB_txn *txn)
{
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void seq_key(uint8_t key[8], uint64_t seq)
{
	for (int i = 7; i >= 0; i--) {
		key[i] = (uint8_t)seq;
		seq >>= 8;
	}
}

/* Replaces the first occurrence of from in record seq with to (same
 * length), keeping every other byte. */
static void tamper_record(const char *dir, uint64_t seq, const char *from,
			  const char *to)
{
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t *copy;
	uint8_t *at;

	raw_begin(dir, &env, &txn, &dbi, "chain");
	seq_key(key, seq);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	at = memmem(copy, v.mv_size, from, strlen(from));
	assert_non_null(at);
	memcpy(at, to, strlen(to));
	v.mv_data = copy;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_end(env, txn);
	free(copy);
}

static void delete_record(const char *dir, uint64_t seq)
{
	uint8_t key[8];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	raw_begin(dir, &env, &txn, &dbi, "chain");
	seq_key(key, seq);
	assert_int_equal(mdb_del(txn, dbi, &(MDB_val){ 8, key }, NULL), 0);
	raw_end(env, txn);
}

static void swap_records(const char *dir, uint64_t a, uint64_t b)
{
	uint8_t key_a[8], key_b[8];
	MDB_val ka = { 8, key_a }, kb = { 8, key_b }, va, vb;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	void *copy_a, *copy_b;

	raw_begin(dir, &env, &txn, &dbi, "chain");
	seq_key(key_a, a);
	seq_key(key_b, b);
	assert_int_equal(mdb_get(txn, dbi, &ka, &va), 0);
	assert_int_equal(mdb_get(txn, dbi, &kb, &vb), 0);
	copy_a = malloc(va.mv_size);
	copy_b = malloc(vb.mv_size);
	assert_non_null(copy_a);
	assert_non_null(copy_b);
	memcpy(copy_a, va.mv_data, va.mv_size);
	memcpy(copy_b, vb.mv_data, vb.mv_size);
	assert_int_equal(mdb_put(txn, dbi, &ka,
				 &(MDB_val){ vb.mv_size, copy_b }, 0), 0);
	assert_int_equal(mdb_put(txn, dbi, &kb,
				 &(MDB_val){ va.mv_size, copy_a }, 0), 0);
	raw_end(env, txn);
	free(copy_a);
	free(copy_b);
}

static void append_then_load_in_order(void **state)
{
	fixture *f = *state;
	static const uint8_t zero[JIT_CHAIN_HASH_LEN];
	jit_chain_record *records = NULL;
	jit_store *store;
	jit_error error;
	size_t count = 0;

	append_events(f->dir, 3);
	store = open_store(f->dir, JIT_STORE_READ);
	assert_int_equal(jit_store_chain_load(store, 1, 0, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);

	assert_int_equal(count, 3);
	for (size_t i = 0; i < count; i++) {
		char number[24];

		snprintf(number, sizeof(number), "%zu", i + 1);
		assert_int_equal(records[i].seq, i + 1);
		assert_int_equal(records[i].time_ms, 1700000000000 + (int64_t)i + 1);
		assert_string_equal(records[i].type, "grant-issued");
		assert_string_equal(records[i].user, "alice");
		assert_string_equal(records[i].actor, "root");
		assert_string_equal(records[i].request_id, "");
		assert_string_equal(jit_chain_record_detail(&records[i], "n"),
				    number);
	}
	assert_memory_equal(records[0].prev_hash, zero, sizeof(zero));
	assert_memory_equal(records[1].prev_hash, records[0].hash, sizeof(zero));
	assert_memory_equal(records[2].prev_hash, records[1].hash, sizeof(zero));
	jit_chain_records_free(records, count);
}

static void load_from_seq_and_max(void **state)
{
	fixture *f = *state;
	jit_chain_record *records = NULL;
	jit_store *store;
	jit_error error;
	size_t count = 0;

	append_events(f->dir, 5);
	store = open_store(f->dir, JIT_STORE_READ);
	assert_int_equal(jit_store_chain_load(store, 3, 2, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);

	assert_int_equal(count, 2);
	assert_int_equal(records[0].seq, 3);
	assert_int_equal(records[1].seq, 4);
	jit_chain_records_free(records, count);
}

static void empty_store_verifies_intact(void **state)
{
	fixture *f = *state;
	jit_chain_record *records = NULL;
	jit_chain_verdict verdict = verify(f->dir);
	jit_store *store;
	jit_error error;
	size_t count = 1;

	assert_true(verdict.intact);
	assert_int_equal(verdict.records, 0);

	store = open_store(f->dir, JIT_STORE_READ);
	assert_int_equal(jit_store_chain_load(store, 1, 0, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);
	assert_int_equal(count, 0);
	assert_null(records);
}

static void intact_chain_verifies(void **state)
{
	fixture *f = *state;
	jit_chain_verdict verdict;

	append_events(f->dir, 4);
	verdict = verify(f->dir);
	assert_true(verdict.intact);
	assert_int_equal(verdict.records, 4);
	assert_int_equal(verdict.head_seq, 4);
	assert_int_equal(verdict.broken_seq, 0);
}

static void tamper_in_middle_found(void **state)
{
	fixture *f = *state;
	jit_chain_verdict verdict;

	append_events(f->dir, 4);
	tamper_record(f->dir, 2, "alice", "alicf");
	verdict = verify(f->dir);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 2);
	assert_non_null(strstr(verdict.problem, "record 2 was changed"));
}

static void tamper_at_tail_found(void **state)
{
	fixture *f = *state;
	jit_chain_verdict verdict;

	append_events(f->dir, 4);
	tamper_record(f->dir, 4, "root", "toor");
	verdict = verify(f->dir);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 4);
	assert_non_null(strstr(verdict.problem, "head"));
}

static void truncated_tail_found(void **state)
{
	fixture *f = *state;
	jit_chain_verdict verdict;

	append_events(f->dir, 4);
	delete_record(f->dir, 4);
	delete_record(f->dir, 3);
	verdict = verify(f->dir);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 3);
	assert_non_null(strstr(verdict.problem, "records 3 to 4 were removed"));
}

static void deleted_middle_found(void **state)
{
	fixture *f = *state;
	jit_chain_verdict verdict;

	append_events(f->dir, 4);
	delete_record(f->dir, 2);
	verdict = verify(f->dir);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 2);
	assert_non_null(strstr(verdict.problem, "record 2 is missing"));
}

static void reordered_records_found(void **state)
{
	fixture *f = *state;
	jit_chain_verdict verdict;

	append_events(f->dir, 4);
	swap_records(f->dir, 2, 3);
	verdict = verify(f->dir);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 2);
	assert_non_null(strstr(verdict.problem, "reordered"));
}

static void undecodable_record_found(void **state)
{
	fixture *f = *state;
	jit_chain_record *records = NULL;
	jit_chain_verdict verdict;
	jit_store *store;
	jit_error error;
	size_t count = 0;

	append_events(f->dir, 3);
	/* The first byte is the format version. */
	tamper_record(f->dir, 2, "\x01", "\x09");
	verdict = verify(f->dir);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 2);
	assert_non_null(strstr(verdict.problem, "does not decode"));

	store = open_store(f->dir, JIT_STORE_READ);
	assert_int_equal(jit_store_chain_load(store, 1, 0, &records, &count,
					      &error), JIT_ERR_MALFORMED);
	jit_store_close(store);
	assert_null(records);
}

static void append_rejects_bad_events(void **state)
{
	fixture *f = *state;
	jit_chain_event no_type = { .user = "alice" };
	jit_chain_event many = { .type = "grant-issued",
				 .detail_count = JIT_CHAIN_DETAILS_MAX + 1 };
	jit_chain_event no_key = { .type = "grant-issued", .detail_count = 1,
				   .details = { { NULL, "x" } } };
	jit_store *store = open_store(f->dir, JIT_STORE_WRITE);
	jit_error error;

	assert_int_equal(jit_store_chain_append(store, &no_type, &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_store_chain_append(store, &many, &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_store_chain_append(store, &no_key, &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_store_chain_append(store, NULL, &error),
			 JIT_ERR_INVALID);
	jit_store_close(store);

	assert_int_equal(verify(f->dir).records, 0);
}

static void long_text_cut_to_limit(void **state)
{
	fixture *f = *state;
	char long_text[JIT_CHAIN_TEXT_MAX + 100];
	jit_chain_event ev = { .type = "grant-issued", .user = "alice",
			       .detail_count = 1,
			       .details = { { "reason", long_text } } };
	jit_chain_record *records = NULL;
	jit_store *store = open_store(f->dir, JIT_STORE_WRITE);
	jit_error error;
	size_t count = 0;

	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_int_equal(jit_store_chain_append(store, &ev, &error), JIT_OK);
	assert_int_equal(jit_store_chain_load(store, 1, 0, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);

	assert_int_equal(count, 1);
	assert_int_equal(strlen(jit_chain_record_detail(&records[0], "reason")),
			 JIT_CHAIN_TEXT_MAX);
	jit_chain_records_free(records, count);
	assert_true(verify(f->dir).intact);
}

static void read_only_store_cannot_append(void **state)
{
	fixture *f = *state;
	jit_chain_event ev = { .type = "access-allowed", .user = "alice" };
	jit_store *store = open_store(f->dir, JIT_STORE_WRITE);
	jit_error error;

	/* A read-only open needs the databases to exist already. */
	jit_store_close(store);
	store = open_store(f->dir, JIT_STORE_READ);
	assert_int_not_equal(jit_store_chain_append(store, &ev, &error), JIT_OK);
	jit_store_close(store);
}

static void aborted_change_leaves_no_record(void **state)
{
	fixture *f = *state;
	jit_chain_event ev = { .type = "grant-revoked", .user = "alice" };
	jit_store *store = open_store(f->dir, JIT_STORE_WRITE);
	MDB_txn *txn = NULL;

	assert_int_equal(jit_store__txn_begin(store, 0, &txn), 0);
	assert_int_equal(jit_store__chain_append_txn(store, txn, &ev), 0);
	mdb_txn_abort(txn);
	jit_store_close(store);

	assert_int_equal(verify(f->dir).records, 0);
	append_events(f->dir, 1);
	assert_true(verify(f->dir).intact);
	assert_int_equal(verify(f->dir).records, 1);
}

static void load_types(const char *dir, char *types, size_t size)
{
	jit_chain_record *records = NULL;
	jit_store *store = open_store(dir, JIT_STORE_READ);
	jit_error error;
	size_t count = 0;

	if (jit_store_chain_load(store, 1, 0, &records, &count, &error) != JIT_OK)
		fail_msg("load: %s", error.message);
	jit_store_close(store);

	types[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		strncat(types, records[i].type, size - strlen(types) - 1);
		strncat(types, " ", size - strlen(types) - 1);
	}
	jit_chain_records_free(records, count);
}

static void grant_changes_recorded_in_order(void **state)
{
	fixture *f = *state;
	static const uint8_t blob[] = { 0x00, 0x01, 0x02 };
	uint8_t id1[JIT_GRANT_ID_LEN], id2[JIT_GRANT_ID_LEN];
	jit_revocation revocation = { .revoked_at = 150, .actor = "root",
				      .reason = "done early" };
	jit_chain_record *records = NULL;
	jit_store *store = open_store(f->dir, JIT_STORE_WRITE);
	jit_error error;
	size_t count = 0, removed = 0;
	char types[512];

	memset(id1, 0x11, sizeof(id1));
	memset(id2, 0x22, sizeof(id2));
	assert_int_equal(jit_store_put_grant(store, id1, "alice", 100, blob,
					     sizeof(blob), &error), JIT_OK);
	assert_int_equal(jit_store_put_grant(store, id1, "alice", 100, blob,
					     sizeof(blob), &error), JIT_ERR_EXISTS);
	assert_int_equal(jit_store_put_grant(store, id2, "bob", 200, blob,
					     sizeof(blob), &error), JIT_OK);
	assert_int_equal(jit_store_revoke(store, id1, &revocation, &error), JIT_OK);
	assert_int_equal(jit_store_revoke(store, id1, &revocation, &error),
			 JIT_ERR_EXISTS);
	assert_int_equal(jit_store_reap(store, 1000, 10, NULL, NULL, &removed,
					&error), JIT_OK);
	assert_int_equal(removed, 2);
	assert_int_equal(jit_store_chain_load(store, 1, 0, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);

	load_types(f->dir, types, sizeof(types));
	assert_string_equal(types, "grant-issued grant-issued grant-revoked "
				   "grant-removed grant-removed ");
	assert_string_equal(records[0].grant_id, "11111111111111111111111111111111");
	assert_string_equal(records[0].user, "alice");
	assert_string_equal(records[2].actor, "root");
	assert_string_equal(jit_chain_record_detail(&records[2], "reason"),
			    "done early");
	assert_string_equal(records[3].grant_id, "11111111111111111111111111111111");
	assert_string_equal(records[3].user, "alice");
	assert_string_equal(jit_chain_record_detail(&records[3], "not_after"), "100");
	assert_string_equal(records[4].user, "bob");
	jit_chain_records_free(records, count);
	assert_true(verify(f->dir).intact);
}

static jit_err approve_and_issue(jit_request *request, jit_grant_record *grant,
				 void *context, jit_error *error)
{
	static const uint8_t blob[] = { 0x00, 0x03 };

	(void)context;
	(void)error;
	request->approvals = calloc(1, sizeof(*request->approvals));
	assert_non_null(request->approvals);
	request->approvals[0].approver = strdup("frank");
	request->approvals[0].note = strdup("ok");
	request->approval_count = 1;
	request->state = JIT_REQUEST_APPROVED;
	request->has_grant = true;
	memset(request->grant_id, 0x33, JIT_GRANT_ID_LEN);
	grant->id = request->grant_id;
	grant->user = request->requester;
	grant->not_after = 5000;
	grant->blob = blob;
	grant->blob_len = sizeof(blob);
	return JIT_OK;
}

static jit_err deny(jit_request *request, jit_grant_record *grant,
		    void *context, jit_error *error)
{
	(void)grant;
	(void)context;
	(void)error;
	request->state = JIT_REQUEST_DENIED;
	free(request->decided_by);
	request->decided_by = strdup("grace");
	return JIT_OK;
}

static void make_request(jit_request *request, uint8_t fill, int64_t expires)
{
	memset(request, 0, sizeof(*request));
	memset(request->id, fill, JIT_REQUEST_ID_LEN);
	request->state = JIT_REQUEST_PENDING;
	request->created_at = 10;
	request->expires_at = expires;
	request->duration = 3600;
	request->requester = "alice";
	request->role = "pair";
	request->reason = "INC-7";
	request->decided_by = "";
	request->note = "";
}

static void request_changes_recorded(void **state)
{
	fixture *f = *state;
	jit_request first, second, third, *expired = NULL;
	jit_chain_record *records = NULL;
	jit_store *store = open_store(f->dir, JIT_STORE_WRITE);
	size_t count = 0, expired_count = 0;
	jit_error error;
	char types[512];

	make_request(&first, 0x01, 9000);
	make_request(&second, 0x02, 9000);
	make_request(&third, 0x03, 20);
	assert_int_equal(jit_store_put_request(store, &first, &error), JIT_OK);
	assert_int_equal(jit_store_put_request(store, &second, &error), JIT_OK);
	assert_int_equal(jit_store_put_request(store, &third, &error), JIT_OK);
	assert_int_equal(jit_store_update_request(store, first.id,
						  approve_and_issue, NULL,
						  &error), JIT_OK);
	assert_int_equal(jit_store_update_request(store, second.id, deny, NULL,
						  &error), JIT_OK);
	assert_int_equal(jit_store_sweep_requests(store, 100, 0, 10, &expired,
						  &expired_count, &error),
			 JIT_OK);
	assert_int_equal(expired_count, 1);
	jit_requests_free(expired, expired_count);
	assert_int_equal(jit_store_chain_load(store, 1, 0, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);

	load_types(f->dir, types, sizeof(types));
	assert_string_equal(types, "request-created request-created "
				   "request-created request-approved "
				   "grant-issued request-denied "
				   "request-expired ");
	assert_string_equal(records[0].request_id,
			    "01010101010101010101010101010101");
	assert_string_equal(jit_chain_record_detail(&records[0], "reason"), "INC-7");
	assert_string_equal(records[3].actor, "frank");
	assert_string_equal(records[4].grant_id,
			    "33333333333333333333333333333333");
	assert_string_equal(records[4].request_id,
			    "01010101010101010101010101010101");
	assert_string_equal(records[4].actor, "frank");
	assert_string_equal(records[5].actor, "grace");
	assert_string_equal(records[6].request_id,
			    "03030303030303030303030303030303");
	jit_chain_records_free(records, count);
	assert_true(verify(f->dir).intact);
}

/* Makes an issuer key in dir under name, and a keyring trusting it. */
static jit_issuer_key *make_key(const char *dir, const char *name,
				jit_keyring **keys)
{
	uint8_t public_key[JIT_PUBLIC_KEY_LEN];
	jit_issuer_key *key = NULL;
	jit_error error;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(jit_issuer_key_generate(path, &error), JIT_OK);
	assert_int_equal(jit_issuer_key_load(path, &key, &error), JIT_OK);
	if (keys != NULL) {
		jit_issuer_key_public(key, public_key);
		assert_int_equal(jit_keyring_new(keys, &error), JIT_OK);
		assert_int_equal(jit_keyring_add(*keys, public_key, &error), JIT_OK);
	}
	return key;
}

static uint64_t checkpoint(const char *dir, const jit_issuer_key *key)
{
	jit_store *store = open_store(dir, JIT_STORE_WRITE);
	jit_error error;
	uint64_t seq = 99;

	if (jit_store_chain_checkpoint(store, key, &seq, &error) != JIT_OK)
		fail_msg("checkpoint: %s", error.message);
	jit_store_close(store);
	return seq;
}

static jit_chain_verdict verify_signed(const char *dir, const jit_keyring *keys)
{
	jit_store *store = open_store(dir, JIT_STORE_READ);
	jit_chain_verdict verdict;
	jit_error error;

	if (jit_store_chain_verify_signed(store, keys, &verdict, &error) != JIT_OK)
		fail_msg("verify: %s", error.message);
	jit_store_close(store);
	return verdict;
}

static void checkpoints_verify(void **state)
{
	fixture *f = *state;
	jit_keyring *keys = NULL;
	jit_issuer_key *key = make_key(f->dir, "issuer.key", &keys);
	jit_chain_verdict verdict;

	assert_int_equal(checkpoint(f->dir, key), 0);
	append_events(f->dir, 3);
	assert_int_equal(checkpoint(f->dir, key), 3);
	append_events(f->dir, 2);
	assert_int_equal(checkpoint(f->dir, key), 5);
	append_events(f->dir, 1);

	verdict = verify_signed(f->dir, keys);
	assert_true(verdict.intact);
	assert_int_equal(verdict.records, 6);
	assert_int_equal(verdict.checkpoints, 3);
	assert_int_equal(verdict.last_checkpoint, 5);
	jit_issuer_key_free(key);
	jit_keyring_free(keys);
}

static void untrusted_checkpoint_found(void **state)
{
	fixture *f = *state;
	jit_keyring *keys = NULL;
	jit_issuer_key *trusted = make_key(f->dir, "trusted.key", &keys);
	jit_issuer_key *other = make_key(f->dir, "other.key", NULL);
	jit_chain_verdict verdict;

	append_events(f->dir, 2);
	checkpoint(f->dir, trusted);
	append_events(f->dir, 2);
	checkpoint(f->dir, other);

	verdict = verify_signed(f->dir, keys);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 4);
	assert_non_null(strstr(verdict.problem, "not trusted"));
	jit_issuer_key_free(trusted);
	jit_issuer_key_free(other);
	jit_keyring_free(keys);
}

/* Points the head at record keep, as someone who can write the store but
 * cannot sign would after cutting the records after it. */
static void rewind_head(const char *dir, uint64_t keep)
{
	jit_chain_record *records = NULL;
	uint8_t head[8 + JIT_CHAIN_HASH_LEN];
	jit_store *store = open_store(dir, JIT_STORE_READ);
	jit_error error;
	size_t count = 0;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	assert_int_equal(jit_store_chain_load(store, keep, 1, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);
	assert_int_equal(count, 1);
	seq_key(head, keep);
	memcpy(head + 8, records[0].hash, JIT_CHAIN_HASH_LEN);
	jit_chain_records_free(records, count);

	raw_begin(dir, &env, &txn, &dbi, "chain_meta");
	assert_int_equal(mdb_put(txn, dbi, &(MDB_val){ 4, "head" },
				 &(MDB_val){ sizeof(head), head }, 0), 0);
	raw_end(env, txn);
}

static void truncation_below_checkpoint_found(void **state)
{
	fixture *f = *state;
	jit_keyring *keys = NULL;
	jit_issuer_key *key = make_key(f->dir, "issuer.key", &keys);
	jit_chain_verdict verdict;

	append_events(f->dir, 5);
	checkpoint(f->dir, key);
	for (uint64_t seq = 5; seq >= 3; seq--)
		delete_record(f->dir, seq);
	rewind_head(f->dir, 2);

	/* Without the checkpoint the shortened chain looks whole. */
	assert_true(verify(f->dir).intact);
	verdict = verify_signed(f->dir, keys);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 3);
	assert_non_null(strstr(verdict.problem, "records 3 to 5 were removed"));
	jit_issuer_key_free(key);
	jit_keyring_free(keys);
}

static void rewritten_tail_found(void **state)
{
	fixture *f = *state;
	jit_keyring *keys = NULL;
	jit_issuer_key *key = make_key(f->dir, "issuer.key", &keys);
	jit_chain_verdict verdict;

	append_events(f->dir, 3);
	checkpoint(f->dir, key);
	/* Replace record 3 with a new, correctly linked one. */
	delete_record(f->dir, 3);
	rewind_head(f->dir, 2);
	append_events(f->dir, 1);

	assert_true(verify(f->dir).intact);
	verdict = verify_signed(f->dir, keys);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 3);
	assert_non_null(strstr(verdict.problem, "not the one its checkpoint signed"));
	jit_issuer_key_free(key);
	jit_keyring_free(keys);
}

/* Stores grant fill for user, as the store's own write functions do. */
static void put_grant(jit_store *store, uint8_t fill, const char *user,
		      int64_t not_after)
{
	static const uint8_t blob[] = { 0x00, 0x04 };
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_error error;

	memset(id, fill, sizeof(id));
	if (jit_store_put_grant(store, id, user, not_after, blob, sizeof(blob),
				&error) != JIT_OK)
		fail_msg("put: %s", error.message);
}

static void prune_keeps_live_grants(void **state)
{
	fixture *f = *state;
	jit_chain_record *records = NULL;
	jit_store *store = open_store(f->dir, JIT_STORE_WRITE);
	jit_chain_verdict verdict;
	uint64_t pruned = 0;
	size_t count = 0, removed = 0;
	jit_error error;
	char types[512];

	put_grant(store, 0x11, "alice", 100);
	put_grant(store, 0x22, "bob", 200);
	put_grant(store, 0x33, "carol", INT32_MAX);
	assert_int_equal(jit_store_reap(store, 1000, 10, NULL, NULL, &removed,
					&error), JIT_OK);
	assert_int_equal(removed, 2);
	/* 1-3 issued (alice, bob, carol), 4-5 removed (alice, bob). carol's
	 * grant is live, so the prune stops before record 3. */
	assert_int_equal(jit_store_chain_prune(store, jit_clock_now_ms() + 1000,
					       "reap", &pruned, &error), JIT_OK);
	assert_int_equal(pruned, 2);
	assert_int_equal(jit_store_chain_load(store, 1, 0, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);

	assert_int_equal(count, 4);
	assert_int_equal(records[0].seq, 3);
	assert_string_equal(records[0].user, "carol");
	assert_string_equal(records[3].type, JIT_CHAIN_PRUNED);
	assert_string_equal(records[3].actor, "reap");
	assert_string_equal(jit_chain_record_detail(&records[3], "through"), "2");
	assert_string_equal(jit_chain_record_detail(&records[3], "count"), "2");
	jit_chain_records_free(records, count);

	verdict = verify(f->dir);
	assert_true(verdict.intact);
	assert_int_equal(verdict.base_seq, 2);
	assert_int_equal(verdict.records, 6);
	load_types(f->dir, types, sizeof(types));
	assert_string_equal(types, "grant-issued grant-removed grant-removed "
				   "chain-pruned ");
}

static void prune_keeps_young_records(void **state)
{
	fixture *f = *state;
	jit_store *store = open_store(f->dir, JIT_STORE_WRITE);
	uint64_t pruned = 99;
	jit_error error;

	put_grant(store, 0x11, "alice", 100);
	assert_int_equal(jit_store_chain_prune(store, 1000, "reap", &pruned,
					       &error), JIT_OK);
	assert_int_equal(pruned, 0);
	jit_store_close(store);
	assert_int_equal(verify(f->dir).records, 1);
	assert_int_equal(verify(f->dir).base_seq, 0);
}

static void base_moved_after_prune_found(void **state)
{
	fixture *f = *state;
	jit_chain_record *records = NULL;
	uint8_t base[8 + JIT_CHAIN_HASH_LEN];
	jit_store *store = open_store(f->dir, JIT_STORE_WRITE);
	jit_chain_verdict verdict;
	size_t count = 0;
	jit_error error;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	for (unsigned i = 0; i < 4; i++) {
		jit_chain_event ev = { .type = "request-expired", .user = "alice",
				       .time_ms = 1000 + i };

		assert_int_equal(jit_store_chain_append(store, &ev, &error), JIT_OK);
	}
	put_grant(store, 0x55, "bob", INT32_MAX);
	assert_int_equal(jit_store_chain_prune(store, 1002, "reap", NULL,
					       &error), JIT_OK);
	/* Records 1 and 2 are gone, 3 to 6 remain. Removing record 3 too and
	 * moving the base onto it hides the removal from the links. */
	assert_int_equal(jit_store_chain_load(store, 3, 1, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);
	assert_true(verify(f->dir).intact);

	seq_key(base, 3);
	memcpy(base + 8, records[0].hash, JIT_CHAIN_HASH_LEN);
	jit_chain_records_free(records, count);
	delete_record(f->dir, 3);
	raw_begin(f->dir, &env, &txn, &dbi, "chain_meta");
	assert_int_equal(mdb_put(txn, dbi, &(MDB_val){ 4, "base" },
				 &(MDB_val){ sizeof(base), base }, 0), 0);
	raw_end(env, txn);

	verdict = verify(f->dir);
	assert_false(verdict.intact);
	assert_int_equal(verdict.broken_seq, 3);
	assert_non_null(strstr(verdict.problem, "removed from the start"));
}

static void checkpoint_below_base_verifies(void **state)
{
	fixture *f = *state;
	jit_keyring *keys = NULL;
	jit_issuer_key *key = make_key(f->dir, "issuer.key", &keys);
	jit_store *store;
	jit_error error;

	store = open_store(f->dir, JIT_STORE_WRITE);
	for (unsigned i = 0; i < 3; i++) {
		jit_chain_event ev = { .type = "request-expired", .user = "alice",
				       .time_ms = 1000 + i };

		assert_int_equal(jit_store_chain_append(store, &ev, &error), JIT_OK);
	}
	jit_store_close(store);
	checkpoint(f->dir, key);
	store = open_store(f->dir, JIT_STORE_WRITE);
	assert_int_equal(jit_store_chain_prune(store, 5000, "reap", NULL,
					       &error), JIT_OK);
	jit_store_close(store);
	checkpoint(f->dir, key);

	assert_true(verify_signed(f->dir, keys).intact);
	assert_int_equal(verify_signed(f->dir, keys).base_seq, 3);
	assert_int_equal(verify_signed(f->dir, keys).checkpoints, 2);
	jit_issuer_key_free(key);
	jit_keyring_free(keys);
}

static void journal_events_become_records(void **state)
{
	fixture *f = *state;
	jit_event denied = {
		.type = JIT_EVENT_ACCESS_DENIED,
		.reason = JIT_REASON_OUT_OF_SCOPE,
		.detail = "not in the grant",
		.grant_id = "00112233445566778899aabbccddeeff",
		.user = "alice",
		.actor = "alice",
		.command = "/usr/bin/cat /etc/shadow",
		.runas = "root",
		.tty = "/dev/pts/1",
	};
	jit_event ended = {
		.type = JIT_EVENT_SESSION_ENDED,
		.reason = JIT_REASON_REVOKED,
		.detail = "2 processes signalled",
		.user = "carol",
		.actor = "root",
		.service = "sshd",
		.rhost = "127.0.0.1",
		.session_id = "7",
		.end_method = "logind",
		.duration_ms = 1500,
	};
	jit_chain_record *records = NULL;
	jit_store *store;
	jit_error error;
	size_t count = 0;

	assert_int_equal(jit_chain_append_event(f->dir, &denied, &error), JIT_OK);
	assert_int_equal(jit_chain_append_event(f->dir, &ended, &error), JIT_OK);
	store = open_store(f->dir, JIT_STORE_READ);
	assert_int_equal(jit_store_chain_load(store, 1, 0, &records, &count,
					      &error), JIT_OK);
	jit_store_close(store);

	assert_int_equal(count, 2);
	assert_string_equal(records[0].type, "access-denied");
	assert_string_equal(records[0].grant_id, "00112233445566778899aabbccddeeff");
	assert_string_equal(jit_chain_record_detail(&records[0], "deny_reason"),
			    "out-of-scope");
	assert_string_equal(jit_chain_record_detail(&records[0], "detail"),
			    "not in the grant");
	assert_string_equal(jit_chain_record_detail(&records[0], "command"),
			    "/usr/bin/cat /etc/shadow");
	assert_string_equal(jit_chain_record_detail(&records[0], "runas"), "root");
	assert_string_equal(jit_chain_record_detail(&records[0], "tty"), "/dev/pts/1");
	assert_string_equal(records[1].type, "session-ended");
	assert_string_equal(records[1].actor, "root");
	assert_string_equal(jit_chain_record_detail(&records[1], "end_reason"),
			    "revoked");
	assert_string_equal(jit_chain_record_detail(&records[1], "service"), "sshd");
	assert_string_equal(jit_chain_record_detail(&records[1], "rhost"), "127.0.0.1");
	assert_string_equal(jit_chain_record_detail(&records[1], "session_id"), "7");
	assert_string_equal(jit_chain_record_detail(&records[1], "end_method"), "logind");
	assert_string_equal(jit_chain_record_detail(&records[1], "duration_ms"), "1500");
	assert_null(jit_chain_record_detail(&records[1], "detail"));
	jit_chain_records_free(records, count);
}

/* A session recorded with the evidence of its use: both are written by
 * one commit, or neither when the evidence is invalid. */
static void session_and_evidence_commit_together(void **state)
{
	fixture *f = *state;
	jit_session_record record = {
		.key = { .grant_id = { 0xab }, .leader_pid = 4242,
			 .leader_start = 99 },
		.opened_at_ms = 1700000000000,
		.not_after = 1700003600,
		.user = "alice",
		.service = "sudo",
		.rhost = "",
		.tty = "/dev/pts/3",
		.logind_session = "",
		.cgroup = "",
	};
	jit_chain_event bad = { .type = NULL };
	jit_event used = {
		.type = JIT_EVENT_ACCESS_ALLOWED,
		.reason = JIT_REASON_ALLOW,
		.grant_id = "ab000000000000000000000000000000",
		.user = "alice",
		.actor = "alice",
		.command = "/usr/bin/true",
		.runas = "root",
	};
	jit_chain_use_event evidence;
	jit_session_record *sessions = NULL;
	jit_chain_record *records = NULL;
	size_t count = 0, session_count = 0;
	jit_store *store;
	jit_error error;

	store = open_store(f->dir, JIT_STORE_WRITE);
	assert_int_equal(jit_store_put_session_with_evidence(store, &record, &bad,
							     &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_store_put_session_with_evidence(store, &record, NULL,
							     &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_store_load_sessions(store, NULL, 10, &sessions,
						 &session_count, &error), JIT_OK);
	assert_int_equal(session_count, 0);

	jit_chain_use_event_init(&evidence, &used);
	assert_int_equal(jit_store_put_session_with_evidence(store, &record,
							     &evidence.ev,
							     &error), JIT_OK);
	assert_int_equal(jit_store_load_sessions(store, NULL, 10, &sessions,
						 &session_count, &error), JIT_OK);
	assert_int_equal(session_count, 1);
	assert_int_equal(sessions[0].key.leader_pid, 4242);
	jit_session_records_free(sessions, session_count);

	assert_int_equal(jit_store_chain_load(store, 1, 0, &records, &count,
					      &error), JIT_OK);
	assert_int_equal(count, 1);
	assert_string_equal(records[0].type, "access-allowed");
	assert_string_equal(jit_chain_record_detail(&records[0], "command"),
			    "/usr/bin/true");
	jit_chain_records_free(records, count);
	jit_store_close(store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(append_then_load_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(load_from_seq_and_max, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_store_verifies_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(intact_chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(tamper_in_middle_found, setup, teardown),
		cmocka_unit_test_setup_teardown(tamper_at_tail_found, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_tail_found, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_middle_found, setup, teardown),
		cmocka_unit_test_setup_teardown(reordered_records_found, setup, teardown),
		cmocka_unit_test_setup_teardown(undecodable_record_found, setup, teardown),
		cmocka_unit_test_setup_teardown(append_rejects_bad_events, setup, teardown),
		cmocka_unit_test_setup_teardown(long_text_cut_to_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(read_only_store_cannot_append, setup, teardown),
		cmocka_unit_test_setup_teardown(aborted_change_leaves_no_record, setup, teardown),
		cmocka_unit_test_setup_teardown(grant_changes_recorded_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(request_changes_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(checkpoints_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(untrusted_checkpoint_found, setup, teardown),
		cmocka_unit_test_setup_teardown(truncation_below_checkpoint_found, setup, teardown),
		cmocka_unit_test_setup_teardown(rewritten_tail_found, setup, teardown),
		cmocka_unit_test_setup_teardown(prune_keeps_live_grants, setup, teardown),
		cmocka_unit_test_setup_teardown(prune_keeps_young_records, setup, teardown),
		cmocka_unit_test_setup_teardown(base_moved_after_prune_found, setup, teardown),
		cmocka_unit_test_setup_teardown(checkpoint_below_base_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_events_become_records, setup, teardown),
		cmocka_unit_test_setup_teardown(session_and_evidence_commit_together, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
