/* The evidence chain: an append-only, hash-chained log of grant and
 * request events in the store.
 *
 * Named databases (in the same LMDB environment as store.h's):
 *   chain        sequence number (u64 BE)  -> encoded record
 *   chain_meta   "head"                    -> head seq (u64 BE) + head hash
 *                "base"                    -> seq (u64 BE) + hash of the last
 *                                             record removed by a prune
 *   checkpoints  head seq (u64 BE)         -> encoded checkpoint
 *
 * A record, version 1 (integers big-endian, strings as a u16 length and
 * their bytes, without NUL):
 *   version u8, seq u64, time_ms i64, type, grant id, request id, user,
 *   actor (strings), detail count u8, then per detail: key, value
 *   (strings), then prev_hash (32 bytes).
 * prev_hash is the BLAKE2b-256 of the previous record's whole encoding,
 * all zero for the first record, so changing, removing or reordering any
 * record breaks the link of the record after it. The head entry makes an
 * append O(1) and lets verification notice records cut from the tail.
 *
 * A checkpoint is the issuer key's Ed25519 signature over
 * "jit-chain-checkpoint-v1\0" + head seq (u64 BE) + head hash. Whoever can
 * write the store can rewrite the tail and the head together, but cannot
 * sign: a verified checkpoint proves that its record, and every record
 * before it, is still the one that was there when it was signed, and that
 * the chain was not cut below it. A checkpoint, version 1: version u8,
 * time_ms i64, key id (8 bytes), head hash (32 bytes), signature (64). */
#ifndef JIT_CHAIN_H
#define JIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"
#include "jit/event.h"
#include "jit/grant.h"
#include "jit/keys.h"
#include "jit/store.h"

#define JIT_CHAIN_HASH_LEN 32
/* The type of the record a prune appends; it is not a journal event. */
#define JIT_CHAIN_PRUNED "chain-pruned"
#define JIT_CHAIN_DETAILS_MAX 8
/* Append cuts longer strings to this many bytes, so a record stays small
 * (a grant's reason may be far longer); this is the journal's value limit
 * too (JIT_EVENT_VALUE_MAX). */
#define JIT_CHAIN_TEXT_MAX 4096

typedef struct jit_chain_detail {
	const char *key;
	const char *value;
} jit_chain_detail;

/* An event to append. Every string may be NULL (stored as empty) except
 * type, the event's short name as in jit_event_name(). */
typedef struct jit_chain_event {
	const char *type;
	int64_t time_ms;            /* 0: the current time */
	const char *grant_id;       /* hex */
	const char *request_id;     /* hex */
	const char *user;
	const char *actor;
	size_t detail_count;
	jit_chain_detail details[JIT_CHAIN_DETAILS_MAX];
} jit_chain_event;

/* A grant's event with the text it points into. ev points into this
 * struct, so it must not be copied. */
typedef struct jit_chain_grant_event {
	jit_chain_event ev;
	char grant_id[JIT_GRANT_ID_HEX_LEN + 1];
	char not_before[24];
	char not_after[24];
	char approvers[512];
} jit_chain_grant_event;

/* Fills out with an event of type about grant: its id, request id, user,
 * and the details role, reason, not_before, not_after (seconds since the
 * epoch) and approvers (comma-separated, cut at the buffer's size). */
void jit_chain_grant_event_init(jit_chain_grant_event *out, const char *type,
				const jit_grant *grant, const char *actor);

/* Sets detail key of ev to value, replacing an existing one or adding it
 * when there is room. Returns false when ev already has
 * JIT_CHAIN_DETAILS_MAX other details. */
bool jit_chain_event_set_detail(jit_chain_event *ev, const char *key,
				const char *value);

/* The evidence record of a journal event (an access or session event),
 * with the text it points into. The record keeps the event's ids, user and
 * actor, and as details deny_reason (for denials), detail, role, command,
 * runas, service, tty and rhost, or for session events role, service, tty,
 * rhost, end_reason (session-ended), session_id, end_method and
 * duration_ms. */
typedef struct jit_chain_use_event {
	jit_chain_event ev;
	char duration_ms[24];
} jit_chain_use_event;

void jit_chain_use_event_init(jit_chain_use_event *out, const jit_event *ev);

/* Appends the evidence record of a journal event to the chain of the
 * store in store_dir, opening the store for writing and closing it again.
 * Callers record after the decision, and deny an allow whose record
 * failed. */
jit_err jit_chain_append_event(const char *store_dir, const jit_event *ev,
			       jit_error *error);

/* A record read back: every string is malloc'd and never NULL. */
typedef struct jit_chain_record {
	uint64_t seq;
	int64_t time_ms;
	char *type;
	char *grant_id;
	char *request_id;
	char *user;
	char *actor;
	size_t detail_count;
	struct {
		char *key;
		char *value;
	} details[JIT_CHAIN_DETAILS_MAX];
	uint8_t prev_hash[JIT_CHAIN_HASH_LEN];
	uint8_t hash[JIT_CHAIN_HASH_LEN];   /* of this record's encoding */
} jit_chain_record;

void jit_chain_records_free(jit_chain_record *records, size_t count);

/* Returns the value of detail key in record, or NULL. */
const char *jit_chain_record_detail(const jit_chain_record *record,
				    const char *key);

/* Appends ev in a write transaction of its own. Callers that change state
 * append inside that change's transaction instead (store_internal.h). */
jit_err jit_store_chain_append(jit_store *store, const jit_chain_event *ev,
			       jit_error *error);

/* jit_store_put_grant and jit_store_revoke, appending ev in the same
 * transaction. ev's grant id and user default to the grant's; a NULL ev
 * appends the record the plain functions append (grant-issued, or
 * grant-revoked with the revocation's actor and reason). */
jit_err jit_store_put_grant_with_evidence(jit_store *store,
					  const uint8_t id[JIT_GRANT_ID_LEN],
					  const char *user, int64_t not_after,
					  const uint8_t *blob, size_t blob_len,
					  const jit_chain_event *ev,
					  jit_error *error);
jit_err jit_store_revoke_with_evidence(jit_store *store,
				       const uint8_t id[JIT_GRANT_ID_LEN],
				       const jit_revocation *revocation,
				       const jit_chain_event *ev,
				       jit_error *error);

/* Loads the records with seq >= from_seq, in order, and stops after max
 * records (0: no limit). Records that do not decode fail the load with
 * JIT_ERR_MALFORMED; use jit_store_chain_verify to locate them. */
jit_err jit_store_chain_load(jit_store *store, uint64_t from_seq, size_t max,
			     jit_chain_record **records, size_t *count,
			     jit_error *error);

/* The outcome of a verification. When intact is false, broken_seq is the
 * first record found broken (0 when the break is not a record, as with a
 * damaged head entry) and problem says what is wrong with it. */
typedef struct jit_chain_verdict {
	bool intact;
	uint64_t records;
	uint64_t head_seq;
	uint8_t head_hash[JIT_CHAIN_HASH_LEN];
	uint64_t base_seq;          /* last record removed by a prune, or 0 */
	uint8_t base_hash[JIT_CHAIN_HASH_LEN];
	uint64_t checkpoints;
	uint64_t last_checkpoint;   /* head seq of the newest checkpoint */
	uint64_t broken_seq;
	char problem[256];
} jit_chain_verdict;

/* Removes, in one write transaction, the records at the start of the
 * chain that are older than before_ms and whose grant has ended (is no
 * longer stored; records without a grant count as ended). It stops at the
 * first record that must stay, so what remains is still linked, and then
 * appends a chain-pruned record (details through, base_hash, count) by
 * actor. *pruned is the number removed. */
jit_err jit_store_chain_prune(jit_store *store, int64_t before_ms,
			      const char *actor, uint64_t *pruned,
			      jit_error *error);

/* Signs the current head with key and stores the checkpoint, in one write
 * transaction. *seq is the head signed (0 for an empty chain, which is
 * signed too, so a later emptied chain is found). */
jit_err jit_store_chain_checkpoint(jit_store *store, const jit_issuer_key *key,
				   uint64_t *seq, jit_error *error);

/* Walks the whole chain: every record must decode, carry the seq of its
 * key, follow its predecessor's seq by one and hold its hash, and the last
 * record must match the head entry. A broken chain is JIT_OK with
 * verdict->intact false; an error return means the walk itself failed. */
jit_err jit_store_chain_verify(jit_store *store, jit_chain_verdict *verdict,
			       jit_error *error);

/* jit_store_chain_verify, then every checkpoint: it must decode, be signed
 * by a key in keys with a valid signature, and name a record that still
 * exists with the hash it signed. verdict->checkpoints counts those
 * checked. */
jit_err jit_store_chain_verify_signed(jit_store *store, const jit_keyring *keys,
				      jit_chain_verdict *verdict,
				      jit_error *error);

#endif
