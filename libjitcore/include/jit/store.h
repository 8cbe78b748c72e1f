/* The LMDB store. Nothing outside store.c includes lmdb.h.
 *
 * Named databases:
 *   grants       grant id (16 bytes)            -> signed grant blob
 *   by_user      user name  (dupsort)           -> grant id
 *   by_expiry    not_after (u64 BE) + grant id  -> user name
 *   revocations  grant id                       -> encoded jit_revocation
 *
 * A jit_store is opened and closed inside one call: never kept across
 * fork(), never opened twice at once in one process. Opening sweeps stale
 * reader slots; a full reader table is swept and retried once, then fails
 * with JIT_ERR_READERS_FULL. The folder must exist (created by
 * jit_store_create), files are created with mode 0600 set explicitly, every
 * descriptor is close-on-exec, and a folder on NFS, CIFS/SMB or another
 * network file system is refused with JIT_ERR_NETWORK_FS. */
#ifndef JIT_STORE_H
#define JIT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"
#include "jit/grant.h"

typedef struct jit_store jit_store;

typedef enum jit_store_mode {
	JIT_STORE_READ,
	JIT_STORE_WRITE,
} jit_store_mode;

/* Default LMDB map size; jit_store_open_sized overrides it (tests). */
#define JIT_STORE_MAP_SIZE ((size_t)1 << 30)

/* Creates the store folder (0700, root) and the LMDB files if missing. */
jit_err jit_store_create(const char *dir, jit_error *error);

jit_err jit_store_open(const char *dir, jit_store_mode mode, jit_store **store,
		       jit_error *error);
jit_err jit_store_open_sized(const char *dir, jit_store_mode mode,
			     size_t map_size, jit_store **store,
			     jit_error *error);
void jit_store_close(jit_store *store);

/* True when f_type (from statfs) is a network file system that the store
 * refuses; *name, when name is not NULL, is then its short name such as
 * "nfs", and NULL otherwise. */
bool jit_store_fs_is_network(long f_type, const char **name);

typedef struct jit_revocation {
	int64_t revoked_at;
	char *actor;
	char *reason;
} jit_revocation;

void jit_revocation_clear(jit_revocation *revocation);

/* One stored grant as read for a decision: a copy of the blob and whether
 * a revocation is recorded for its id. The by_user key it was found under is
 * not kept: only the signed user field counts. */
typedef struct jit_stored_grant {
	uint8_t id[JIT_GRANT_ID_LEN];
	uint8_t *blob;
	size_t blob_len;
	bool revoked;
} jit_stored_grant;

void jit_stored_grants_free(jit_stored_grant *grants, size_t count);

/* Frees the blob of one grant filled by jit_store_get_grant and zeroes the
 * struct. Accepts NULL. */
void jit_stored_grant_clear(jit_stored_grant *grant);

/* Stores a signed grant and its index entries in one transaction. user and
 * not_after must be the grant's own signed values. */
jit_err jit_store_put_grant(jit_store *store, const uint8_t id[JIT_GRANT_ID_LEN],
			    const char *user, int64_t not_after,
			    const uint8_t *blob, size_t blob_len,
			    jit_error *error);

/* Copies out one grant's blob; JIT_ERR_NOT_FOUND when absent. */
jit_err jit_store_get_grant(jit_store *store, const uint8_t id[JIT_GRANT_ID_LEN],
			    jit_stored_grant *grant, jit_error *error);

/* Loads every grant indexed under user, with revocation flags, in one read
 * transaction. At most max_grants are returned (JIT_ERR_TOO_LARGE past
 * that, so a flood of grants cannot make a check unbounded). */
jit_err jit_store_load_user(jit_store *store, const char *user,
			    size_t max_grants, jit_stored_grant **grants,
			    size_t *count, jit_error *error);

/* Loads every stored grant (listings). */
jit_err jit_store_load_all(jit_store *store, jit_stored_grant **grants,
			   size_t *count, jit_error *error);

/* Records a revocation; JIT_ERR_NOT_FOUND when the grant is not stored,
 * JIT_ERR_EXISTS when it is already revoked. */
jit_err jit_store_revoke(jit_store *store, const uint8_t id[JIT_GRANT_ID_LEN],
			 const jit_revocation *revocation, jit_error *error);

/* Reads a revocation record; JIT_ERR_NOT_FOUND when there is none. */
jit_err jit_store_get_revocation(jit_store *store,
				 const uint8_t id[JIT_GRANT_ID_LEN],
				 jit_revocation *revocation, jit_error *error);

/* Called by jit_store_reap for each removed grant, after its batch
 * committed. */
typedef void (*jit_reap_fn)(const uint8_t id[JIT_GRANT_ID_LEN],
			    const char *user, int64_t not_after, void *context);

/* Removes every grant with not_after <= now (and its index entries and
 * revocation) walking the by_expiry index, committing every batch_size
 * grants, so the cost follows what expired and not what is stored. Safe to
 * run concurrently: LMDB serialises writers, and an entry another reaper
 * already removed is not counted twice. */
jit_err jit_store_reap(jit_store *store, int64_t now, size_t batch_size,
		       jit_reap_fn on_removed, void *context, size_t *removed,
		       jit_error *error);

#endif
