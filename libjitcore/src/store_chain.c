/* The store's evidence chain: appending records inside a write
 * transaction, loading them, and verifying every link. The record format
 * is described in jit/chain.h. */
#include "jit/chain.h"
#include "jit/timeutil.h"
#include "store_internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN_DB "chain"
#define CHAIN_META_DB "chain_meta"
#define CHAIN_HEAD_KEY "head"
#define CHAIN_BASE_KEY "base"
#define CHAIN_RECORD_VERSION 1
#define CHAIN_HEAD_LEN (8 + JIT_CHAIN_HASH_LEN)

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

typedef store_writer chain_writer;
typedef store_reader chain_reader;

/* Texts are cut to JIT_CHAIN_TEXT_MAX bytes, so a record stays small. */
static void put_string(chain_writer *w, const char *text)
{
	store_put_string(w, text, text != NULL ? strnlen(text, JIT_CHAIN_TEXT_MAX) : 0);
}

static char *get_string(chain_reader *r)
{
	return store_get_string(r, JIT_CHAIN_TEXT_MAX);
}

static void encode_record(chain_writer *w, const jit_chain_event *ev,
			  uint64_t seq, int64_t time_ms,
			  const uint8_t prev_hash[JIT_CHAIN_HASH_LEN])
{
	uint8_t count = (uint8_t)ev->detail_count;

	store_put_bytes(w, &(uint8_t){ CHAIN_RECORD_VERSION }, 1);
	store_put_u64(w, seq);
	store_put_u64(w, (uint64_t)time_ms);
	put_string(w, ev->type);
	put_string(w, ev->grant_id);
	put_string(w, ev->request_id);
	put_string(w, ev->user);
	put_string(w, ev->actor);
	store_put_bytes(w, &count, 1);
	for (size_t i = 0; i < ev->detail_count; i++) {
		put_string(w, ev->details[i].key);
		put_string(w, ev->details[i].value);
	}
	store_put_bytes(w, prev_hash, JIT_CHAIN_HASH_LEN);
}

static bool valid_event(const jit_chain_event *ev)
{
	if (ev == NULL || ev->type == NULL || ev->type[0] == '\0' ||
	    ev->detail_count > JIT_CHAIN_DETAILS_MAX)
		return false;
	for (size_t i = 0; i < ev->detail_count; i++)
		if (ev->details[i].key == NULL || ev->details[i].key[0] == '\0')
			return false;
	return true;
}

static void clear_record(jit_chain_record *record)
{
	free(record->type);
	free(record->grant_id);
	free(record->request_id);
	free(record->user);
	free(record->actor);
	for (size_t i = 0; i < JIT_CHAIN_DETAILS_MAX; i++) {
		free(record->details[i].key);
		free(record->details[i].value);
	}
	memset(record, 0, sizeof(*record));
}

void jit_chain_records_free(jit_chain_record *records, size_t count)
{
	if (records == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		clear_record(&records[i]);
	free(records);
}

const char *jit_chain_record_detail(const jit_chain_record *record,
				    const char *key)
{
	if (record == NULL || key == NULL)
		return NULL;
	for (size_t i = 0; i < record->detail_count; i++)
		if (strcmp(record->details[i].key, key) == 0)
			return record->details[i].value;
	return NULL;
}

static void hash_bytes(const void *data, size_t len,
		       uint8_t hash[JIT_CHAIN_HASH_LEN])
{
	crypto_generichash(hash, JIT_CHAIN_HASH_LEN, data, len, NULL, 0);
}

/* Decodes one record value. Returns 0, EBADMSG when it does not parse or
 * ENOMEM; on failure record is left cleared. */
static int decode_record(const MDB_val *value, jit_chain_record *record)
{
	chain_reader r = { .data = value->mv_data, .len = value->mv_size };
	const uint8_t *version = store_take(&r, 1);
	const uint8_t *count;
	const uint8_t *prev;
	size_t detail_count;

	memset(record, 0, sizeof(*record));
	if (version == NULL || version[0] != CHAIN_RECORD_VERSION)
		return EBADMSG;

	record->seq = store_get_u64(&r);
	record->time_ms = (int64_t)store_get_u64(&r);
	record->type = get_string(&r);
	record->grant_id = get_string(&r);
	record->request_id = get_string(&r);
	record->user = get_string(&r);
	record->actor = get_string(&r);
	count = store_take(&r, 1);
	detail_count = count != NULL ? count[0] : 0;
	if (detail_count > JIT_CHAIN_DETAILS_MAX)
		r.bad = true;
	for (size_t i = 0; !r.bad && i < detail_count; i++) {
		record->details[i].key = get_string(&r);
		record->details[i].value = get_string(&r);
		record->detail_count = i + 1;
	}
	prev = store_take(&r, JIT_CHAIN_HASH_LEN);
	if (!r.bad && r.offset != r.len)
		r.bad = true;
	if (r.bad) {
		clear_record(record);
		return r.no_memory ? ENOMEM : EBADMSG;
	}

	memcpy(record->prev_hash, prev, JIT_CHAIN_HASH_LEN);
	hash_bytes(value->mv_data, value->mv_size, record->hash);
	return 0;
}

static int open_chain_dbs(MDB_txn *txn, bool create, MDB_dbi *chain,
			  MDB_dbi *meta)
{
	unsigned int flags = create ? MDB_CREATE : 0;
	int rc;

	rc = mdb_dbi_open(txn, CHAIN_DB, flags, chain);
	if (rc == 0)
		rc = mdb_dbi_open(txn, CHAIN_META_DB, flags, meta);
	return rc;
}

/* Reads the head entry. An empty chain has no head: seq 0, zero hash.
 * Returns 0, an LMDB code, or EBADMSG for a head of the wrong size. */
static int read_head(MDB_txn *txn, MDB_dbi meta, uint64_t *seq,
		     uint8_t hash[JIT_CHAIN_HASH_LEN])
{
	MDB_val key = { strlen(CHAIN_HEAD_KEY), (void *)CHAIN_HEAD_KEY };
	MDB_val value;
	int rc;

	*seq = 0;
	memset(hash, 0, JIT_CHAIN_HASH_LEN);
	rc = mdb_get(txn, meta, &key, &value);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (value.mv_size != CHAIN_HEAD_LEN)
		return EBADMSG;

	*seq = get_be64(value.mv_data);
	memcpy(hash, (const uint8_t *)value.mv_data + 8, JIT_CHAIN_HASH_LEN);
	return 0;
}

int jit_store__chain_append_txn(jit_store *store, MDB_txn *txn,
				const jit_chain_event *ev)
{
	uint8_t hash[JIT_CHAIN_HASH_LEN];
	uint8_t head[CHAIN_HEAD_LEN];
	uint8_t key[8];
	chain_writer w = { 0 };
	MDB_dbi chain, meta;
	uint64_t seq;
	int rc;

	(void)store;
	if (!valid_event(ev))
		return EINVAL;

	rc = open_chain_dbs(txn, true, &chain, &meta);
	if (rc == 0)
		rc = read_head(txn, meta, &seq, hash);
	if (rc != 0)
		return rc;

	seq++;
	encode_record(&w, ev, seq,
		      ev->time_ms != 0 ? ev->time_ms : jit_clock_now_ms(), hash);
	if (w.failed) {
		free(w.data);
		return ENOMEM;
	}

	put_be64(key, seq);
	rc = mdb_put(txn, chain, &(MDB_val){ 8, key },
		     &(MDB_val){ w.len, w.data }, MDB_NOOVERWRITE | MDB_APPEND);
	if (rc == 0) {
		put_be64(head, seq);
		hash_bytes(w.data, w.len, head + 8);
		rc = mdb_put(txn, meta,
			     &(MDB_val){ strlen(CHAIN_HEAD_KEY),
					 (void *)CHAIN_HEAD_KEY },
			     &(MDB_val){ sizeof(head), head }, 0);
	}
	free(w.data);
	return rc;
}

jit_err jit_store_chain_append(jit_store *store, const jit_chain_event *ev,
			       jit_error *error)
{
	MDB_txn *txn = NULL;
	jit_err r;
	int rc;

	r = jit_store__check_handle(store, true, error);
	if (r != JIT_OK)
		return r;

	rc = jit_store__txn_begin(store, 0, &txn);
	if (rc == 0)
		rc = jit_store__chain_append_txn(store, txn, ev);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);

	if (rc == EINVAL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "appending to the evidence chain in %s failed: "
				     "the event has no type, more than %d details "
				     "or a detail without a key",
				     jit_store__dir(store), JIT_CHAIN_DETAILS_MAX);
	return rc == 0 ? JIT_OK : jit_store__error(store, rc, error,
			"appending to the evidence chain");
}

/* Opens the chain for reading. A store whose chain was never written has
 * no chain databases: *empty is set and no error is returned. */
static int chain_read_begin(jit_store *store, MDB_txn **txn, MDB_dbi *chain,
			    MDB_dbi *meta, bool *empty)
{
	int rc;

	*empty = false;
	rc = jit_store__txn_begin(store, MDB_RDONLY, txn);
	if (rc != 0)
		return rc;

	rc = open_chain_dbs(*txn, false, chain, meta);
	if (rc == MDB_NOTFOUND) {
		*empty = true;
		rc = 0;
	}
	if (rc != 0) {
		mdb_txn_abort(*txn);
		*txn = NULL;
	}
	return rc;
}

static int load_records(MDB_txn *txn, MDB_dbi chain, uint64_t from_seq,
			size_t max, jit_chain_record **records, size_t *count)
{
	jit_chain_record *items = NULL;
	size_t n = 0, capacity = 0;
	MDB_cursor *cursor = NULL;
	uint8_t from[8];
	MDB_val key = { 8, from }, value;
	int rc;

	put_be64(from, from_seq);
	rc = mdb_cursor_open(txn, chain, &cursor);
	if (rc == 0)
		rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
	while (rc == 0 && (max == 0 || n < max)) {
		if (n == capacity) {
			size_t grown = capacity == 0 ? 64 : capacity * 2;
			jit_chain_record *more;

			more = reallocarray(items, grown, sizeof(*items));
			if (more == NULL) {
				rc = ENOMEM;
				break;
			}
			items = more;
			capacity = grown;
		}
		rc = decode_record(&value, &items[n]);
		if (rc != 0)
			break;
		n++;
		rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
	}
	mdb_cursor_close(cursor);

	if (rc != 0 && rc != MDB_NOTFOUND) {
		jit_chain_records_free(items, n);
		return rc;
	}
	*records = items;
	*count = n;
	return 0;
}

jit_err jit_store_chain_load(jit_store *store, uint64_t from_seq, size_t max,
			     jit_chain_record **records, size_t *count,
			     jit_error *error)
{
	MDB_txn *txn = NULL;
	MDB_dbi chain, meta;
	bool empty;
	jit_err r;
	int rc;

	if (records != NULL)
		*records = NULL;
	if (count != NULL)
		*count = 0;
	r = jit_store__check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (records == NULL || count == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "loading the evidence chain of %s failed: no output",
				     jit_store__dir(store));

	rc = chain_read_begin(store, &txn, &chain, &meta, &empty);
	if (rc == 0 && !empty)
		rc = load_records(txn, chain, from_seq, max, records, count);
	if (txn != NULL)
		mdb_txn_abort(txn);

	if (rc == EBADMSG)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "loading the evidence chain of %s failed: a record "
				     "does not decode: run jitctl audit --verify",
				     jit_store__dir(store));
	return rc == 0 ? JIT_OK : jit_store__error(store, rc, error,
			"loading the evidence chain");
}

static void set_broken(jit_chain_verdict *verdict, uint64_t seq,
		       const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void set_broken(jit_chain_verdict *verdict, uint64_t seq,
		       const char *format, ...)
{
	/* Only the first break is reported. */
	if (!verdict->intact)
		return;
	va_list ap;

	verdict->intact = false;
	verdict->broken_seq = seq;
	va_start(ap, format);
	vsnprintf(verdict->problem, sizeof(verdict->problem), format, ap);
	va_end(ap);
}

/* Remembers what the newest chain-pruned record says the base is. A
 * record that checked out decodes, so decode cannot fail on bad input
 * here; a failed allocation only skips the note. */
static void note_prune(const MDB_val *value, uint64_t *through,
		       char hash[2 * JIT_CHAIN_HASH_LEN + 1])
{
	jit_chain_record record;
	const char *text;

	if (decode_record(value, &record) != 0)
		return;
	if (strcmp(record.type, JIT_CHAIN_PRUNED) == 0) {
		text = jit_chain_record_detail(&record, "through");
		*through = text != NULL ? strtoull(text, NULL, 10) : 0;
		text = jit_chain_record_detail(&record, "base_hash");
		snprintf(hash, 2 * JIT_CHAIN_HASH_LEN + 1, "%s",
			 text != NULL ? text : "");
	}
	clear_record(&record);
}

/* Checks one record against the walk so far: its key, its own seq and its
 * link to the previous record. Returns 0, ENOMEM, or EBADMSG after filling
 * the verdict. */
static int check_record(const MDB_val *key, const MDB_val *value,
			jit_chain_verdict *verdict, uint64_t *last_seq,
			uint8_t last_hash[JIT_CHAIN_HASH_LEN])
{
	unsigned long long expected = *last_seq + 1;
	jit_chain_record record;
	unsigned long long seq;
	int rc;

	if (key->mv_size != 8) {
		set_broken(verdict, expected,
			   "a key of %zu bytes follows record %llu; keys are 8-byte sequence numbers",
			   key->mv_size, expected - 1);
		return EBADMSG;
	}
	seq = get_be64(key->mv_data);
	if (seq != expected) {
		set_broken(verdict, expected,
			   "record %llu is missing: record %llu follows record %llu",
			   expected, seq, expected - 1);
		return EBADMSG;
	}

	rc = decode_record(value, &record);
	if (rc == ENOMEM)
		return rc;
	if (rc != 0) {
		set_broken(verdict, seq, "record %llu does not decode", seq);
		return EBADMSG;
	}
	if (record.seq != seq) {
		set_broken(verdict, seq,
			   "record %llu holds the content of record %llu: records were reordered or copied",
			   seq, (unsigned long long)record.seq);
	} else if (sodium_memcmp(record.prev_hash, last_hash,
				 JIT_CHAIN_HASH_LEN) != 0 && seq == 1) {
		set_broken(verdict, 1,
			   "record 1 does not start the chain: its previous hash is not zero");
	} else if (sodium_memcmp(record.prev_hash, last_hash,
				 JIT_CHAIN_HASH_LEN) != 0) {
		set_broken(verdict, seq - 1,
			   "record %llu was changed: record %llu does not carry its hash",
			   seq - 1, seq);
	}
	memcpy(last_hash, record.hash, JIT_CHAIN_HASH_LEN);
	*last_seq = seq;
	clear_record(&record);
	return verdict->intact ? 0 : EBADMSG;
}

/* Reads the base a prune left (seq 0 and a zero hash when none did).
 * Returns 0, an LMDB code, or EBADMSG for a base of the wrong size. */
static int read_base(MDB_txn *txn, MDB_dbi meta, uint64_t *seq,
		     uint8_t hash[JIT_CHAIN_HASH_LEN])
{
	MDB_val key = { strlen(CHAIN_BASE_KEY), (void *)CHAIN_BASE_KEY };
	MDB_val value;
	int rc;

	*seq = 0;
	memset(hash, 0, JIT_CHAIN_HASH_LEN);
	rc = mdb_get(txn, meta, &key, &value);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (value.mv_size != CHAIN_HEAD_LEN)
		return EBADMSG;
	*seq = get_be64(value.mv_data);
	memcpy(hash, (const uint8_t *)value.mv_data + 8, JIT_CHAIN_HASH_LEN);
	return 0;
}

/* Checks the base against the newest chain-pruned record, which names the
 * base its prune left: a base moved further removed more of the start. */
static void check_base(jit_chain_verdict *verdict, uint64_t pruned_through,
		       const char *pruned_hash)
{
	char hash[2 * JIT_CHAIN_HASH_LEN + 1];

	if (!verdict->intact || (verdict->base_seq == 0 && pruned_through == 0))
		return;
	sodium_bin2hex(hash, sizeof(hash), verdict->base_hash,
		       JIT_CHAIN_HASH_LEN);
	if (verdict->base_seq == pruned_through &&
	    strcmp(hash, pruned_hash) == 0)
		return;
	if (verdict->base_seq > pruned_through)
		set_broken(verdict, pruned_through + 1,
			   "records %llu to %llu were removed from the start: the last prune kept every record after %llu",
			   (unsigned long long)pruned_through + 1,
			   (unsigned long long)verdict->base_seq,
			   (unsigned long long)pruned_through);
	else
		set_broken(verdict, verdict->base_seq,
			   "the chain's base (record %llu) is not the one the last prune left (record %llu)",
			   (unsigned long long)verdict->base_seq,
			   (unsigned long long)pruned_through);
}

/* Walks every record, then compares the last one with the head entry, so
 * records cut from the tail are found as long as the head was left. */
static int walk_chain(MDB_txn *txn, MDB_dbi chain, MDB_dbi meta,
		      jit_chain_verdict *verdict)
{
	uint8_t last_hash[JIT_CHAIN_HASH_LEN] = { 0 };
	uint8_t head_hash[JIT_CHAIN_HASH_LEN];
	char pruned_hash[2 * JIT_CHAIN_HASH_LEN + 1] = "";
	MDB_cursor *cursor = NULL;
	uint64_t last_seq = 0, head_seq, pruned_through = 0;
	MDB_val key, value;
	int rc;

	rc = read_base(txn, meta, &verdict->base_seq, verdict->base_hash);
	if (rc == EBADMSG) {
		set_broken(verdict, 0, "the chain's base entry is damaged");
		return 0;
	}
	last_seq = verdict->base_seq;
	memcpy(last_hash, verdict->base_hash, JIT_CHAIN_HASH_LEN);
	if (rc == 0)
		rc = mdb_cursor_open(txn, chain, &cursor);
	if (rc == 0)
		rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
	while (rc == 0) {
		rc = check_record(&key, &value, verdict, &last_seq, last_hash);
		if (rc == 0)
			note_prune(&value, &pruned_through, pruned_hash);
		if (rc == 0)
			rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
	}
	if (cursor != NULL)
		mdb_cursor_close(cursor);
	verdict->records = last_seq;
	if (rc == MDB_NOTFOUND)
		check_base(verdict, pruned_through, pruned_hash);
	if (rc == EBADMSG)
		return 0;
	if (rc != MDB_NOTFOUND)
		return rc;

	rc = read_head(txn, meta, &head_seq, head_hash);
	if (rc == EBADMSG) {
		set_broken(verdict, 0, "the chain's head entry is damaged");
		return 0;
	}
	if (rc != 0)
		return rc;

	verdict->head_seq = last_seq;
	memcpy(verdict->head_hash, last_hash, JIT_CHAIN_HASH_LEN);
	if (head_seq == last_seq + 1)
		set_broken(verdict, head_seq,
			   "record %llu was removed from the tail: the chain ends at record %llu",
			   (unsigned long long)head_seq,
			   (unsigned long long)last_seq);
	else if (head_seq > last_seq)
		set_broken(verdict, last_seq + 1,
			   "records %llu to %llu were removed from the tail: the chain ends at record %llu",
			   (unsigned long long)last_seq + 1,
			   (unsigned long long)head_seq,
			   (unsigned long long)last_seq);
	else if (head_seq < last_seq)
		set_broken(verdict, head_seq + 1,
			   "record %llu follows the head (record %llu): records were added outside jit",
			   (unsigned long long)head_seq + 1,
			   (unsigned long long)head_seq);
	else if (sodium_memcmp(head_hash, last_hash, JIT_CHAIN_HASH_LEN) != 0)
		set_broken(verdict, last_seq,
			   "record %llu was changed: it does not match the head's hash",
			   (unsigned long long)last_seq);
	return 0;
}

jit_err jit_store_chain_verify(jit_store *store, jit_chain_verdict *verdict,
			       jit_error *error)
{
	MDB_txn *txn = NULL;
	MDB_dbi chain, meta;
	bool empty;
	jit_err r;
	int rc;

	r = jit_store__check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (verdict == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "verifying the evidence chain of %s failed: no output",
				     jit_store__dir(store));
	memset(verdict, 0, sizeof(*verdict));
	verdict->intact = true;

	rc = chain_read_begin(store, &txn, &chain, &meta, &empty);
	if (rc == 0 && !empty)
		rc = walk_chain(txn, chain, meta, verdict);
	if (txn != NULL)
		mdb_txn_abort(txn);

	return rc == 0 ? JIT_OK : jit_store__error(store, rc, error,
			"verifying the evidence chain");
}

int jit_store__chain_open(MDB_txn *txn, bool create, MDB_dbi *chain,
			  MDB_dbi *meta)
{
	return open_chain_dbs(txn, create, chain, meta);
}

int jit_store__chain_head(MDB_txn *txn, MDB_dbi meta, uint64_t *seq,
			  uint8_t hash[JIT_CHAIN_HASH_LEN])
{
	return read_head(txn, meta, seq, hash);
}

int jit_store__chain_record_hash(MDB_txn *txn, MDB_dbi chain, uint64_t seq,
				 uint8_t hash[JIT_CHAIN_HASH_LEN])
{
	uint8_t key[8];
	MDB_val value;
	int rc;

	put_be64(key, seq);
	rc = mdb_get(txn, chain, &(MDB_val){ 8, key }, &value);
	if (rc == 0)
		hash_bytes(value.mv_data, value.mv_size, hash);
	return rc;
}

int jit_store__chain_walk(MDB_txn *txn, MDB_dbi chain, MDB_dbi meta,
			  jit_chain_verdict *verdict)
{
	return walk_chain(txn, chain, meta, verdict);
}

int jit_store__chain_decode(const MDB_val *value, jit_chain_record *record)
{
	return decode_record(value, record);
}

void jit_store__chain_record_clear(jit_chain_record *record)
{
	clear_record(record);
}
