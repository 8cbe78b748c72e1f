/* The internal interface of store.c for the other store_*.c files of
 * libjitcore. It is not installed and not part of the API, and like every
 * libjitcore symbol these are hidden from the plugin's and the module's
 * symbol tables. */
#ifndef JIT_STORE_INTERNAL_H
#define JIT_STORE_INTERNAL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/store.h"

/* Begins a transaction with the stale-reader retry and map-resize
 * handling of store.c. Returns an LMDB or errno code. */
int jit_store__txn_begin(jit_store *store, unsigned int flags, MDB_txn **txn);

/* Rejects a NULL handle, one opened before fork(), and (when write is
 * true) one opened read-only. */
jit_err jit_store__check_handle(const jit_store *store, bool write,
				jit_error *error);

/* Turns an LMDB or errno result into a jit_err naming what failed and the
 * store folder. */
jit_err jit_store__error(const jit_store *store, int rc, jit_error *error,
			 const char *what);

const char *jit_store__dir(const jit_store *store);

/* Checks a grant's arguments as jit_store_put_grant does. */
jit_err jit_store__check_grant(jit_store *store, const uint8_t *id,
			       const char *user, int64_t not_after,
			       const uint8_t *blob, size_t blob_len,
			       jit_error *error);

/* Writes a grant and its index entries inside txn, refusing an id that is
 * taken. Returns an LMDB code. */
int jit_store__put_grant_txn(jit_store *store, MDB_txn *txn,
			     const uint8_t *id, const char *user,
			     int64_t not_after, const uint8_t *blob,
			     size_t blob_len);

/* The grants database handle, for lookups inside a transaction. */
MDB_dbi jit_store__grants_dbi(const jit_store *store);

/* Appends ev to the evidence chain inside txn, so the record commits or
 * aborts with the change it describes. Returns 0, an LMDB code, EINVAL
 * for an event that jit_store_chain_append would reject, or ENOMEM. */
struct jit_chain_event;
int jit_store__chain_append_txn(jit_store *store, MDB_txn *txn,
				const struct jit_chain_event *ev);

/* Chain helpers shared by store_chain.c and store_checkpoint.c. */
int jit_store__chain_open(MDB_txn *txn, bool create, MDB_dbi *chain,
			  MDB_dbi *meta);
int jit_store__chain_head(MDB_txn *txn, MDB_dbi meta, uint64_t *seq,
			  uint8_t hash[32]);
/* Decodes a chain record value as jit_store_chain_load does: 0, EBADMSG
 * or ENOMEM. record_clear frees what decode filled in. */
struct jit_chain_record;
int jit_store__chain_decode(const MDB_val *value,
			    struct jit_chain_record *record);
void jit_store__chain_record_clear(struct jit_chain_record *record);

/* Walks the chain inside txn as jit_store_chain_verify does. */
struct jit_chain_verdict;
int jit_store__chain_walk(MDB_txn *txn, MDB_dbi chain, MDB_dbi meta,
			  struct jit_chain_verdict *verdict);
/* Hashes the record stored under seq into hash; MDB_NOTFOUND if none. */
int jit_store__chain_record_hash(MDB_txn *txn, MDB_dbi chain, uint64_t seq,
				 uint8_t hash[32]);

/* Evidence for the store's own changes (store_evidence.c), appended inside
 * the change's transaction; same return values. A NULL event given to the
 * grant and revocation functions means the default record: grant-issued,
 * or grant-revoked with the revocation's actor and reason. */
int jit_store__evidence_grant(jit_store *store, MDB_txn *txn,
			      const uint8_t *id, const char *user,
			      const struct jit_chain_event *given);
int jit_store__evidence_revoked(jit_store *store, MDB_txn *txn,
				const uint8_t *id,
				const jit_revocation *revocation,
				const struct jit_chain_event *given);
int jit_store__evidence_removed(jit_store *store, MDB_txn *txn,
				const uint8_t *id, const char *user,
				int64_t not_after);
int jit_store__evidence_request_created(jit_store *store, MDB_txn *txn,
					const jit_request *request);
int jit_store__evidence_request_expired(jit_store *store, MDB_txn *txn,
					const jit_request *request);
/* old_state is the jit_request_state before the change; issued_grant_id
 * is NULL unless the change issued a grant. */
int jit_store__evidence_request_changed(jit_store *store, MDB_txn *txn,
					int old_state, size_t old_approvals,
					const jit_request *request,
					const uint8_t *issued_grant_id);
int jit_store__evidence_review(jit_store *store, MDB_txn *txn,
			       const uint8_t *grant_id,
			       const jit_review *review);


/* store_codec.c: records as big-endian integers and u16-length strings.
 * Errors are sticky: a failed write sets failed, a short or invalid read
 * sets bad (and no_memory when an allocation failed). */
typedef struct store_writer {
	uint8_t *data;
	size_t len;
	size_t capacity;
	bool failed;
} store_writer;

typedef struct store_reader {
	const uint8_t *data;
	size_t len;
	size_t offset;
	bool bad;
	bool no_memory;
} store_reader;

void store_put_bytes(store_writer *w, const void *bytes, size_t n);
void store_put_u8(store_writer *w, unsigned value);
void store_put_u16(store_writer *w, size_t value);
void store_put_u64(store_writer *w, uint64_t value);
/* Writes n bytes of text; more than UINT16_MAX fails the record. */
void store_put_string(store_writer *w, const char *text, size_t n);
const uint8_t *store_take(store_reader *r, size_t n);
unsigned store_get_u8(store_reader *r);
size_t store_get_u16(store_reader *r);
uint64_t store_get_u64(store_reader *r);
/* Reads a string of at most max bytes without NUL bytes, or NULL. */
char *store_get_string(store_reader *r, size_t max);

#endif
