/* The internal interface of store.c for the other store_*.c files of
 * libjitcore. It is not installed and not part of the API, and like every
 * libjitcore symbol these are hidden from the plugin's and the module's
 * symbol tables. */
#ifndef JIT_STORE_INTERNAL_H
#define JIT_STORE_INTERNAL_H

#include <lmdb.h>
#include <stdbool.h>

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

#endif
