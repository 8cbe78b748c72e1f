/* The LMDB store. Nothing outside store.c and store_requests.c (through
 * src/store_internal.h) includes lmdb.h.
 *
 * Named databases:
 *   grants       grant id (16 bytes)            -> signed grant blob
 *   by_user      user name  (dupsort)           -> grant id
 *   by_expiry    not_after (u64 BE) + grant id  -> user name
 *   revocations  grant id                       -> encoded jit_revocation
 *   sessions     grant id + leader pid (u32 BE) + leader start time
 *                (u64 BE)                       -> encoded jit_session_record
 *   requests     request id (16 bytes)          -> encoded jit_request
 *   reviews      grant id                       -> encoded jit_review
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

/* Called by jit_store_visit_user for each grant, in index order. The
 * grant belongs to the caller and is freed when the visitor returns,
 * unless the visitor moved it out (taking its blob and zeroing it). Setting
 * *stop ends the walk. An error ends it too, and is returned. */
typedef jit_err (*jit_grant_visit_fn)(jit_stored_grant *grant, bool *stop,
				      void *context, jit_error *error);

/* Walks the grants indexed under user in one read transaction, reading
 * each only when the walk reaches it, so a caller that stops at the first
 * useful grant touches no other. JIT_ERR_TOO_LARGE when the walk goes past
 * max_grants. */
jit_err jit_store_visit_user(jit_store *store, const char *user,
			     size_t max_grants, jit_grant_visit_fn visit,
			     void *context, jit_error *error);

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

/* Sessions opened through pam_jit, each tied to the grant that allowed it.
 * A session is named by its grant and its leader process: the pid and the
 * process start time (clock ticks after boot, field 22 of /proc/PID/stat),
 * so a recycled pid never matches a record. Records are few (one per live
 * login) and every listing reads them all. */
typedef struct jit_session_key {
	uint8_t grant_id[JIT_GRANT_ID_LEN];
	uint32_t leader_pid;
	uint64_t leader_start;
} jit_session_key;

/* Set once a session was told that its grant ends soon. */
#define JIT_SESSION_FLAG_WARNED 0x1u

typedef struct jit_session_record {
	jit_session_key key;
	int64_t opened_at_ms;       /* wall clock, milliseconds */
	int64_t not_after;          /* the grant's end, seconds */
	uint32_t flags;             /* JIT_SESSION_FLAG_WARNED */
	char *user;
	char *service;
	char *rhost;                /* "" when unknown, as every string here */
	char *tty;
	char *logind_session;       /* logind session id */
	char *cgroup;               /* the leader's cgroup path */

	/* Filled by jit_store_load_sessions, never stored: */
	bool grant_stored;          /* the grant is still in the store */
	bool grant_revoked;         /* a revocation is recorded for it */
	bool damaged;               /* the value did not decode: only key is
				     * valid, strings are NULL, times 0 */
} jit_session_record;

void jit_session_record_clear(jit_session_record *record);
void jit_session_records_free(jit_session_record *records, size_t count);

/* Stores record under its key, replacing a record with the same key.
 * NULL strings are stored as "". */
jit_err jit_store_put_session(jit_store *store,
			      const jit_session_record *record,
			      jit_error *error);

/* Records a session as jit_store_put_session does and appends ev, the
 * evidence of the use that opened it, in the same write transaction: one
 * commit makes both durable, or neither is written. */
struct jit_chain_event;
jit_err jit_store_put_session_with_evidence(jit_store *store,
					    const jit_session_record *record,
					    const struct jit_chain_event *ev,
					    jit_error *error);

/* Removes one record; JIT_ERR_NOT_FOUND when it is not there, so that of
 * two processes removing the same session exactly one succeeds. */
jit_err jit_store_delete_session(jit_store *store, const jit_session_key *key,
				 jit_error *error);

/* Sets flags on a stored record; JIT_ERR_NOT_FOUND when it is gone. */
jit_err jit_store_set_session_flags(jit_store *store,
				    const jit_session_key *key, uint32_t flags,
				    jit_error *error);

/* Loads the records of one grant (grant_id not NULL) or all of them, with
 * the state of each record's grant, in one read transaction. Entries whose
 * key has the wrong size are skipped; a value that does not decode gives a
 * record marked damaged. At most max_records are returned
 * (JIT_ERR_TOO_LARGE past that). */
jit_err jit_store_load_sessions(jit_store *store, const uint8_t *grant_id,
				size_t max_records,
				jit_session_record **records, size_t *count,
				jit_error *error);

/* Requests and reviews (store_requests.c). The request model is in
 * jit/request.h. Like sessions, these databases are opened inside each
 * transaction, so a store made before they existed reads as having none. */
typedef struct jit_request jit_request;

/* Stores a new request; JIT_ERR_EXISTS when its id is taken. */
jit_err jit_store_put_request(jit_store *store, const jit_request *request,
			      jit_error *error);

/* Reads one request; JIT_ERR_NOT_FOUND when absent, JIT_ERR_MALFORMED
 * when its record does not decode. */
jit_err jit_store_get_request(jit_store *store, const uint8_t id[16],
			      jit_request *request, jit_error *error);

/* Loads every request whose record decodes (damaged ones are skipped), at
 * most max (JIT_ERR_TOO_LARGE past that). */
jit_err jit_store_load_requests(jit_store *store, size_t max,
				jit_request **requests, size_t *count,
				jit_error *error);

/* A grant to store together with a request's new state. The pointers stay
 * owned by whoever filled it in. */
typedef struct jit_grant_record {
	const uint8_t *id;
	const char *user;
	int64_t not_after;
	const uint8_t *blob;
	size_t blob_len;
} jit_grant_record;

/* Changes one stored request: update receives the request and a grant
 * record with blob NULL, and may change the request and fill in the
 * record. When update returns JIT_OK, the changed request and the grant,
 * if one was filled in, are written in the same write transaction that
 * read the request, so concurrent decisions are serialised; otherwise
 * nothing is written and its error is returned. JIT_ERR_NOT_FOUND when
 * there is no such request. */
typedef jit_err (*jit_request_update_fn)(jit_request *request,
					 jit_grant_record *grant,
					 void *context, jit_error *error);
jit_err jit_store_update_request(jit_store *store, const uint8_t id[16],
				 jit_request_update_fn update, void *context,
				 jit_error *error);

/* In one write transaction, marks each pending request with expires_at <=
 * now as expired and removes closed requests whose decided_at is at or
 * before forget_before. The requests that expired are returned as copies
 * (*expired is NULL when none did). At most max_changes requests change
 * per call; the rest wait for the next sweep. */
jit_err jit_store_sweep_requests(jit_store *store, int64_t now,
				 int64_t forget_before, size_t max_changes,
				 jit_request **expired, size_t *count,
				 jit_error *error);

/* A review of a break-glass grant. */
typedef struct jit_review {
	int64_t reviewed_at;
	char *reviewer;
	char *note;
} jit_review;

void jit_review_clear(jit_review *review);

/* Records a review; JIT_ERR_NOT_FOUND when the grant is not stored,
 * JIT_ERR_EXISTS when it has a review already. */
jit_err jit_store_put_review(jit_store *store, const uint8_t grant_id[16],
			     const jit_review *review, jit_error *error);

/* Reads a grant's review; JIT_ERR_NOT_FOUND when there is none. */
jit_err jit_store_get_review(jit_store *store, const uint8_t grant_id[16],
			     jit_review *review, jit_error *error);

#endif
