/* Signed checkpoints of the evidence chain's head, and the verification
 * that checks them together with every link. The format is described in
 * jit/chain.h. */
#include "jit/chain.h"
#include "jit/timeutil.h"
#include "store_internal.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CHECKPOINTS_DB "checkpoints"
#define CHECKPOINT_VERSION 1
#define CHECKPOINT_CONTEXT "jit-chain-checkpoint-v1"
#define CHECKPOINT_MESSAGE_LEN (sizeof(CHECKPOINT_CONTEXT) + 8 + JIT_CHAIN_HASH_LEN)
#define CHECKPOINT_SIGNATURE_LEN 64
#define CHECKPOINT_LEN \
	(1 + 8 + JIT_KEY_ID_LEN + JIT_CHAIN_HASH_LEN + CHECKPOINT_SIGNATURE_LEN)

static void put_be64(uint8_t out[8], uint64_t value)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)value;
		value >>= 8;
	}
}

static uint64_t get_be64(const uint8_t in[8])
{
	uint64_t value = 0;

	for (int i = 0; i < 8; i++)
		value = value << 8 | in[i];
	return value;
}

/* The signed message; sizeof(CHECKPOINT_CONTEXT) keeps its NUL, so no
 * other message that starts with the context can collide with it. */
static void make_message(uint8_t message[CHECKPOINT_MESSAGE_LEN], uint64_t seq,
			 const uint8_t hash[JIT_CHAIN_HASH_LEN])
{
	memcpy(message, CHECKPOINT_CONTEXT, sizeof(CHECKPOINT_CONTEXT));
	put_be64(message + sizeof(CHECKPOINT_CONTEXT), seq);
	memcpy(message + sizeof(CHECKPOINT_CONTEXT) + 8, hash,
	       JIT_CHAIN_HASH_LEN);
}

/* Signs the head read inside txn and stores the checkpoint there. */
static jit_err write_checkpoint(MDB_txn *txn, const jit_issuer_key *key,
				uint64_t *seq, int *rc, jit_error *error)
{
	uint8_t hash[JIT_CHAIN_HASH_LEN], message[CHECKPOINT_MESSAGE_LEN];
	uint8_t record[CHECKPOINT_LEN], seq_key[8];
	MDB_dbi chain, meta, checkpoints;
	jit_err r;

	*rc = jit_store__chain_open(txn, true, &chain, &meta);
	if (*rc == 0)
		*rc = jit_store__chain_head(txn, meta, seq, hash);
	if (*rc == 0)
		*rc = mdb_dbi_open(txn, CHECKPOINTS_DB, MDB_CREATE, &checkpoints);
	if (*rc != 0)
		return JIT_ERR_STORE;

	make_message(message, *seq, hash);
	record[0] = CHECKPOINT_VERSION;
	put_be64(record + 1, (uint64_t)jit_clock_now_ms());
	jit_issuer_key_id(key, record + 9);
	memcpy(record + 9 + JIT_KEY_ID_LEN, hash, JIT_CHAIN_HASH_LEN);
	r = jit_issuer_key_sign(key, message, sizeof(message),
				record + 9 + JIT_KEY_ID_LEN + JIT_CHAIN_HASH_LEN,
				error);
	if (r != JIT_OK)
		return r;

	put_be64(seq_key, *seq);
	*rc = mdb_put(txn, checkpoints, &(MDB_val){ 8, seq_key },
		      &(MDB_val){ sizeof(record), record }, 0);
	return *rc == 0 ? JIT_OK : JIT_ERR_STORE;
}

jit_err jit_store_chain_checkpoint(jit_store *store, const jit_issuer_key *key,
				   uint64_t *seq, jit_error *error)
{
	MDB_txn *txn = NULL;
	uint64_t head = 0;
	jit_err r;
	int rc = 0;

	r = jit_store__check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (key == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "signing a checkpoint of %s failed: no issuer key",
				     jit_store__dir(store));

	rc = jit_store__txn_begin(store, 0, &txn);
	if (rc == 0)
		r = write_checkpoint(txn, key, &head, &rc, error);
	if (rc == 0 && r == JIT_OK)
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);

	if (r != JIT_OK && rc == 0)
		return r;
	if (rc != 0)
		return jit_store__error(store, rc, error,
					"signing a checkpoint of the evidence chain");
	if (seq != NULL)
		*seq = head;
	return JIT_OK;
}

static void set_broken(jit_chain_verdict *verdict, uint64_t seq,
		       const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void set_broken(jit_chain_verdict *verdict, uint64_t seq,
		       const char *format, ...)
{
	va_list ap;

	verdict->intact = false;
	verdict->broken_seq = seq;
	va_start(ap, format);
	vsnprintf(verdict->problem, sizeof(verdict->problem), format, ap);
	va_end(ap);
}

/* Checks one checkpoint against the keys and the walked chain. Returns 0
 * (the verdict says whether it holds) or an LMDB code. */
static int check_checkpoint(MDB_txn *txn, MDB_dbi chain, const MDB_val *key,
			    const MDB_val *value, const jit_keyring *keys,
			    jit_chain_verdict *verdict)
{
	uint8_t message[CHECKPOINT_MESSAGE_LEN], hash[JIT_CHAIN_HASH_LEN];
	static const uint8_t zero[JIT_CHAIN_HASH_LEN];
	char key_id[JIT_KEY_ID_HEX_LEN + 1];
	const uint8_t *record = value->mv_data;
	const uint8_t *signed_hash, *public_key;
	unsigned long long seq;
	int rc;

	if (key->mv_size != 8 || value->mv_size != CHECKPOINT_LEN ||
	    record[0] != CHECKPOINT_VERSION) {
		set_broken(verdict, 0, "a checkpoint entry is damaged");
		return 0;
	}
	seq = get_be64(key->mv_data);
	signed_hash = record + 9 + JIT_KEY_ID_LEN;
	jit_key_id_format(record + 9, key_id);
	public_key = jit_keyring_find(keys, record + 9);
	make_message(message, seq, signed_hash);

	if (public_key == NULL) {
		set_broken(verdict, seq,
			   "the checkpoint at record %llu is signed by key %s, which is not trusted",
			   seq, key_id);
		return 0;
	}
	if (crypto_sign_verify_detached(signed_hash + JIT_CHAIN_HASH_LEN,
					message, sizeof(message),
					public_key) != 0) {
		set_broken(verdict, seq,
			   "the checkpoint at record %llu has an invalid signature",
			   seq);
		return 0;
	}
	if (seq > verdict->records) {
		set_broken(verdict, verdict->records + 1,
			   "records %llu to %llu were removed: a checkpoint was signed at record %llu",
			   (unsigned long long)verdict->records + 1, seq, seq);
		return 0;
	}

	/* A record a prune removed can only be checked through the base. */
	if (seq < verdict->base_seq)
		return 0;
	if (seq == 0) {
		memcpy(hash, zero, sizeof(hash));
		rc = 0;
	} else if (seq == verdict->base_seq) {
		memcpy(hash, verdict->base_hash, sizeof(hash));
		rc = 0;
	} else {
		rc = jit_store__chain_record_hash(txn, chain, seq, hash);
	}
	if (rc != 0)
		return rc;
	if (sodium_memcmp(hash, signed_hash, JIT_CHAIN_HASH_LEN) != 0)
		set_broken(verdict, seq,
			   "record %llu is not the one its checkpoint signed: the chain was rewritten up to here",
			   seq);
	return 0;
}

static int check_checkpoints(MDB_txn *txn, MDB_dbi chain,
			     const jit_keyring *keys,
			     jit_chain_verdict *verdict)
{
	MDB_cursor *cursor = NULL;
	MDB_dbi checkpoints;
	MDB_val key, value;
	int rc;

	rc = mdb_dbi_open(txn, CHECKPOINTS_DB, 0, &checkpoints);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0)
		rc = mdb_cursor_open(txn, checkpoints, &cursor);
	if (rc == 0)
		rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
	while (rc == 0 && verdict->intact) {
		rc = check_checkpoint(txn, chain, &key, &value, keys, verdict);
		if (rc == 0 && verdict->intact) {
			verdict->checkpoints++;
			verdict->last_checkpoint = get_be64(key.mv_data);
			rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
		}
	}
	if (cursor != NULL)
		mdb_cursor_close(cursor);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

jit_err jit_store_chain_verify_signed(jit_store *store, const jit_keyring *keys,
				      jit_chain_verdict *verdict,
				      jit_error *error)
{
	MDB_txn *txn = NULL;
	MDB_dbi chain = 0, meta = 0;
	jit_err r;
	int rc;

	r = jit_store__check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (verdict == NULL || keys == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "verifying the evidence chain of %s failed: invalid argument",
				     jit_store__dir(store));
	memset(verdict, 0, sizeof(*verdict));
	verdict->intact = true;

	rc = jit_store__txn_begin(store, MDB_RDONLY, &txn);
	if (rc == 0) {
		rc = jit_store__chain_open(txn, false, &chain, &meta);
		if (rc == 0)
			rc = jit_store__chain_walk(txn, chain, meta, verdict);
		else if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	/* An empty chain still has to match its checkpoints (none, or one
	 * at record 0); chain is only read when a checkpoint names a record,
	 * which then is past the end. */
	if (rc == 0 && verdict->intact)
		rc = check_checkpoints(txn, chain, keys, verdict);
	if (txn != NULL)
		mdb_txn_abort(txn);

	return rc == 0 ? JIT_OK : jit_store__error(store, rc, error,
			"verifying the evidence chain");
}
