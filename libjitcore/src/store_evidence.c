/* The evidence records that the store's own write functions append: each
 * turns one state change into a chain event inside the transaction that
 * makes the change. Every function returns 0, an LMDB code, EINVAL or
 * ENOMEM, like jit_store__chain_append_txn. */
#include "jit/chain.h"
#include "jit/event.h"
#include "jit/request.h"
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct evidence_ids {
	char grant[JIT_GRANT_ID_HEX_LEN + 1];
	char request[JIT_REQUEST_ID_HEX_LEN + 1];
} evidence_ids;

static void add_detail(jit_chain_event *ev, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0' ||
	    ev->detail_count >= JIT_CHAIN_DETAILS_MAX)
		return;
	ev->details[ev->detail_count].key = key;
	ev->details[ev->detail_count].value = value;
	ev->detail_count++;
}

int jit_store__evidence_grant(jit_store *store, MDB_txn *txn,
			      const uint8_t *id, const char *user,
			      const jit_chain_event *given)
{
	jit_chain_event ev = { .type = jit_event_name(JIT_EVENT_GRANT_ISSUED) };
	char hex[JIT_GRANT_ID_HEX_LEN + 1];

	if (given != NULL)
		ev = *given;
	jit_grant_id_format(id, hex);
	if (ev.grant_id == NULL)
		ev.grant_id = hex;
	if (ev.user == NULL)
		ev.user = user;
	return jit_store__chain_append_txn(store, txn, &ev);
}

int jit_store__evidence_revoked(jit_store *store, MDB_txn *txn,
				const uint8_t *id,
				const jit_revocation *revocation,
				const jit_chain_event *given)
{
	jit_chain_event ev = { .type = jit_event_name(JIT_EVENT_GRANT_REVOKED) };
	char hex[JIT_GRANT_ID_HEX_LEN + 1];

	if (given != NULL)
		ev = *given;
	jit_grant_id_format(id, hex);
	if (ev.grant_id == NULL)
		ev.grant_id = hex;
	if (given == NULL && revocation != NULL) {
		ev.actor = revocation->actor;
		add_detail(&ev, "reason", revocation->reason);
	}
	return jit_store__chain_append_txn(store, txn, &ev);
}

int jit_store__evidence_removed(jit_store *store, MDB_txn *txn,
				const uint8_t *id, const char *user,
				int64_t not_after)
{
	jit_chain_event ev = {
		.type = jit_event_name(JIT_EVENT_GRANT_REMOVED),
		.user = user,
		.actor = "reap",
	};
	char hex[JIT_GRANT_ID_HEX_LEN + 1];
	char until[24];

	jit_grant_id_format(id, hex);
	snprintf(until, sizeof(until), "%" PRId64, not_after);
	ev.grant_id = hex;
	add_detail(&ev, "not_after", until);
	return jit_store__chain_append_txn(store, txn, &ev);
}

static void request_event(jit_chain_event *ev, evidence_ids *ids,
			  jit_event_type type, const jit_request *request)
{
	memset(ev, 0, sizeof(*ev));
	jit_request_id_format(request->id, ids->request);
	ev->type = jit_event_name(type);
	ev->request_id = ids->request;
	ev->user = request->requester;
	if (request->has_grant) {
		jit_grant_id_format(request->grant_id, ids->grant);
		ev->grant_id = ids->grant;
	}
}

int jit_store__evidence_request_created(jit_store *store, MDB_txn *txn,
					const jit_request *request)
{
	char duration[24];
	jit_chain_event ev;
	evidence_ids ids;

	request_event(&ev, &ids, JIT_EVENT_REQUEST_CREATED, request);
	snprintf(duration, sizeof(duration), "%" PRId64, request->duration);
	ev.actor = request->requester;
	add_detail(&ev, "role", request->role);
	add_detail(&ev, "reason", request->reason);
	add_detail(&ev, "duration", duration);
	return jit_store__chain_append_txn(store, txn, &ev);
}

int jit_store__evidence_request_expired(jit_store *store, MDB_txn *txn,
					const jit_request *request)
{
	jit_chain_event ev;
	evidence_ids ids;

	request_event(&ev, &ids, JIT_EVENT_REQUEST_EXPIRED, request);
	ev.actor = "sweep";
	add_detail(&ev, "role", request->role);
	return jit_store__chain_append_txn(store, txn, &ev);
}

/* The approval, denial or cancellation, then the grant it issued. */
int jit_store__evidence_request_changed(jit_store *store, MDB_txn *txn,
					int old_state, size_t old_approvals,
					const jit_request *request,
					const uint8_t *issued_grant_id)
{
	const jit_approval *last = NULL;
	jit_chain_event ev;
	evidence_ids ids;
	int rc = 0;

	if (request->approval_count > old_approvals)
		last = &request->approvals[request->approval_count - 1];

	if (last != NULL) {
		request_event(&ev, &ids, JIT_EVENT_REQUEST_APPROVED, request);
		ev.actor = last->approver;
		add_detail(&ev, "role", request->role);
		add_detail(&ev, "note", last->note);
		rc = jit_store__chain_append_txn(store, txn, &ev);
	}
	if (rc == 0 && (int)request->state != old_state &&
	    (request->state == JIT_REQUEST_DENIED ||
	     request->state == JIT_REQUEST_CANCELLED)) {
		request_event(&ev, &ids, request->state == JIT_REQUEST_DENIED ?
			      JIT_EVENT_REQUEST_DENIED :
			      JIT_EVENT_REQUEST_CANCELLED, request);
		ev.actor = request->decided_by;
		add_detail(&ev, "role", request->role);
		add_detail(&ev, "note", request->note);
		rc = jit_store__chain_append_txn(store, txn, &ev);
	}
	if (rc == 0 && issued_grant_id != NULL) {
		request_event(&ev, &ids, JIT_EVENT_GRANT_ISSUED, request);
		jit_grant_id_format(issued_grant_id, ids.grant);
		ev.grant_id = ids.grant;
		ev.actor = last != NULL ? last->approver : NULL;
		add_detail(&ev, "role", request->role);
		add_detail(&ev, "reason", request->reason);
		rc = jit_store__chain_append_txn(store, txn, &ev);
	}
	return rc;
}

int jit_store__evidence_review(jit_store *store, MDB_txn *txn,
			       const uint8_t *grant_id,
			       const jit_review *review)
{
	jit_chain_event ev = {
		.type = jit_event_name(JIT_EVENT_GRANT_REVIEWED),
		.actor = review->reviewer,
	};
	char hex[JIT_GRANT_ID_HEX_LEN + 1];

	jit_grant_id_format(grant_id, hex);
	ev.grant_id = hex;
	add_detail(&ev, "note", review->note);
	return jit_store__chain_append_txn(store, txn, &ev);
}

void jit_chain_grant_event_init(jit_chain_grant_event *out, const char *type,
				const jit_grant *grant, const char *actor)
{
	size_t used = 0;

	memset(out, 0, sizeof(*out));
	jit_grant_id_format(grant->id, out->grant_id);
	snprintf(out->not_before, sizeof(out->not_before), "%" PRId64,
		 grant->not_before);
	snprintf(out->not_after, sizeof(out->not_after), "%" PRId64,
		 grant->not_after);
	for (size_t i = 0; i < grant->approvers.count; i++) {
		int n = snprintf(out->approvers + used,
				 sizeof(out->approvers) - used, "%s%s",
				 i > 0 ? "," : "", grant->approvers.items[i]);

		if (n < 0 || (size_t)n >= sizeof(out->approvers) - used)
			break;
		used += (size_t)n;
	}

	out->ev.type = type;
	out->ev.grant_id = out->grant_id;
	out->ev.request_id = grant->request_id;
	out->ev.user = grant->user;
	out->ev.actor = actor;
	add_detail(&out->ev, "role", grant->role);
	add_detail(&out->ev, "reason", grant->reason);
	add_detail(&out->ev, "not_before", out->not_before);
	add_detail(&out->ev, "not_after", out->not_after);
	add_detail(&out->ev, "approvers", out->approvers);
}

bool jit_chain_event_set_detail(jit_chain_event *ev, const char *key,
				const char *value)
{
	for (size_t i = 0; i < ev->detail_count; i++) {
		if (strcmp(ev->details[i].key, key) == 0) {
			ev->details[i].value = value;
			return true;
		}
	}
	if (ev->detail_count >= JIT_CHAIN_DETAILS_MAX)
		return false;
	ev->details[ev->detail_count].key = key;
	ev->details[ev->detail_count].value = value;
	ev->detail_count++;
	return true;
}
