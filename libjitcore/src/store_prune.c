/* Retention of the evidence chain: pruning the oldest records of ended
 * grants. Only a prefix of the chain is ever removed, so the records that
 * stay are still linked to each other. chain_meta's "base" entry keeps the
 * seq and hash of the last removed record, which the first remaining
 * record links to. Each prune also appends a chain-pruned record naming
 * the same seq and hash, so a base moved later (more of the start removed)
 * is found by verification. */
#include "jit/chain.h"
#include "store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define CHAIN_BASE_KEY "base"

static void put_be64(uint8_t out[8], uint64_t value)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)value;
		value >>= 8;
	}
}

/* Whether the record's grant has ended, that is left the grants database
 * (reaped). A record without a grant (a request that never got one) counts
 * as ended. */
static int grant_ended(jit_store *store, MDB_txn *txn,
		       const jit_chain_record *record, bool *ended)
{
	uint8_t id[JIT_GRANT_ID_LEN];
	MDB_val value;
	int rc;

	*ended = true;
	if (record->grant_id[0] == '\0')
		return 0;
	if (sodium_hex2bin(id, sizeof(id), record->grant_id,
			   strlen(record->grant_id), NULL, NULL, NULL) != 0)
		return 0;
	rc = mdb_get(txn, jit_store__grants_dbi(store),
		     &(MDB_val){ sizeof(id), id }, &value);
	if (rc == 0)
		*ended = false;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Removes records from the start while they are older than before_ms and
 * their grant ended. Sets *last and hash to the last one removed. */
static int prune_prefix(jit_store *store, MDB_txn *txn, MDB_dbi chain,
			int64_t before_ms, uint64_t *count, uint64_t *last,
			uint8_t hash[JIT_CHAIN_HASH_LEN])
{
	MDB_cursor *cursor = NULL;
	MDB_val key, value;
	int rc;

	rc = mdb_cursor_open(txn, chain, &cursor);
	if (rc == 0)
		rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
	while (rc == 0) {
		jit_chain_record record;
		bool ended = false;

		rc = jit_store__chain_decode(&value, &record);
		if (rc != 0)
			break;
		if (record.time_ms < before_ms)
			rc = grant_ended(store, txn, &record, &ended);
		if (rc == 0 && ended && record.time_ms < before_ms) {
			*last = record.seq;
			memcpy(hash, record.hash, JIT_CHAIN_HASH_LEN);
			(*count)++;
			rc = mdb_cursor_del(cursor, 0);
			if (rc == 0)
				rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
		} else if (rc == 0) {
			rc = MDB_NOTFOUND;
		}
		jit_store__chain_record_clear(&record);
	}
	if (cursor != NULL)
		mdb_cursor_close(cursor);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Stores the new base and records the prune itself. */
static int record_prune(jit_store *store, MDB_txn *txn, MDB_dbi meta,
			const char *actor, uint64_t count, uint64_t last,
			const uint8_t hash[JIT_CHAIN_HASH_LEN])
{
	char through[24], removed[24], hash_hex[2 * JIT_CHAIN_HASH_LEN + 1];
	uint8_t base[8 + JIT_CHAIN_HASH_LEN];
	jit_chain_event ev = {
		.type = JIT_CHAIN_PRUNED,
		.actor = actor,
		.detail_count = 3,
		.details = {
			{ "through", through },
			{ "base_hash", hash_hex },
			{ "count", removed },
		},
	};
	int rc;

	put_be64(base, last);
	memcpy(base + 8, hash, JIT_CHAIN_HASH_LEN);
	rc = mdb_put(txn, meta, &(MDB_val){ strlen(CHAIN_BASE_KEY), CHAIN_BASE_KEY },
		     &(MDB_val){ sizeof(base), base }, 0);
	if (rc != 0)
		return rc;

	snprintf(through, sizeof(through), "%" PRIu64, last);
	snprintf(removed, sizeof(removed), "%" PRIu64, count);
	sodium_bin2hex(hash_hex, sizeof(hash_hex), hash, JIT_CHAIN_HASH_LEN);
	return jit_store__chain_append_txn(store, txn, &ev);
}

jit_err jit_store_chain_prune(jit_store *store, int64_t before_ms,
			      const char *actor, uint64_t *pruned,
			      jit_error *error)
{
	uint8_t hash[JIT_CHAIN_HASH_LEN];
	MDB_txn *txn = NULL;
	MDB_dbi chain, meta;
	uint64_t count = 0, last = 0;
	jit_err r;
	int rc;

	if (pruned != NULL)
		*pruned = 0;
	r = jit_store__check_handle(store, true, error);
	if (r != JIT_OK)
		return r;

	rc = jit_store__txn_begin(store, 0, &txn);
	if (rc == 0)
		rc = jit_store__chain_open(txn, true, &chain, &meta);
	if (rc == 0)
		rc = prune_prefix(store, txn, chain, before_ms, &count, &last,
				  hash);
	if (rc == 0 && count > 0)
		rc = record_prune(store, txn, meta, actor, count, last, hash);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);

	if (rc == EBADMSG)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "pruning the evidence chain of %s failed: a record "
				     "does not decode: run jitctl audit --verify",
				     jit_store__dir(store));
	if (rc != 0)
		return jit_store__error(store, rc, error,
					"pruning the evidence chain");
	if (pruned != NULL)
		*pruned = count;
	return JIT_OK;
}
