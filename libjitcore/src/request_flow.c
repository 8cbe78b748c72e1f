/* The request workflow against the store: each call opens the store,
 * applies one rule of request.c and closes the store again. */
#include "jit/request.h"

#include <stdlib.h>
#include <string.h>

#include "jit/chain.h"
#include "jit/event.h"
#include "jit/keys.h"

void jit_request_outcome_clear(jit_request_outcome *outcome)
{
	if (outcome == NULL)
		return;
	jit_request_clear(&outcome->request);
	jit_grant_free(outcome->grant);
	memset(outcome, 0, sizeof(*outcome));
}

static size_t count_pending(const jit_request *requests, size_t count,
			    const char *user, int64_t now)
{
	size_t pending = 0;

	for (size_t i = 0; i < count; i++)
		if (requests[i].state == JIT_REQUEST_PENDING &&
		    requests[i].expires_at > now &&
		    strcmp(requests[i].requester, user) == 0)
			pending++;
	return pending;
}

jit_err jit_request_submit_stored(const jit_config *config,
				  const jit_identity *who,
				  const jit_request_spec *spec, int64_t now,
				  jit_request *request, jit_error *error)
{
	jit_request *stored = NULL;
	jit_request made = { 0 };
	jit_store *store = NULL;
	size_t count = 0;
	jit_err r;

	memset(request, 0, sizeof(*request));

	r = jit_store_open(config->store, JIT_STORE_WRITE, &store, error);
	if (r == JIT_OK)
		r = jit_store_load_requests(store, JIT_REQUEST_LOAD_MAX, &stored,
					    &count, error);
	if (r == JIT_OK)
		r = jit_request_new(config, who, spec,
				    count_pending(stored, count,
						  who != NULL && who->user != NULL ?
						  who->user : "", now),
				    now, &made, error);
	if (r == JIT_OK)
		r = jit_store_put_request(store, &made, error);

	jit_store_close(store);
	jit_requests_free(stored, count);
	if (r != JIT_OK) {
		jit_request_clear(&made);
		return r;
	}
	*request = made;
	return JIT_OK;
}

/* Loads the issuer key and signs grant. */
static jit_err sign_grant(const jit_config *config, const jit_grant *grant,
			  uint8_t **blob, size_t *blob_len, jit_error *error)
{
	jit_issuer_key *key = NULL;
	jit_err r;

	r = jit_issuer_key_load(config->issuer_key, &key, error);
	if (r == JIT_OK)
		r = jit_grant_sign(grant, key, blob, blob_len, error);
	jit_issuer_key_free(key);
	return r;
}

typedef enum decision_kind {
	DECIDE_APPROVE,
	DECIDE_DENY,
	DECIDE_CANCEL,
} decision_kind;

/* What the store's update callback needs, and what it hands back. */
typedef struct decision {
	decision_kind kind;
	const jit_config *config;
	const jit_identity *who;
	const char *note;
	int64_t now;
	jit_request_outcome *outcome;
	uint8_t *blob;             /* the signed grant, owned here */
	size_t blob_len;
} decision;

/* Issues the grant of a request whose last approval just came in. */
static jit_err issue_from(decision *d, jit_request *request,
			  jit_grant_record *record, jit_error *error)
{
	jit_grant *grant = NULL;
	jit_err r;

	r = jit_request_build_grant(d->config, request, d->now, &grant, error);
	if (r == JIT_OK)
		r = sign_grant(d->config, grant, &d->blob, &d->blob_len, error);
	if (r != JIT_OK) {
		jit_grant_free(grant);
		return r;
	}

	request->state = JIT_REQUEST_APPROVED;
	request->decided_at = d->now;
	request->has_grant = true;
	memcpy(request->grant_id, grant->id, JIT_GRANT_ID_LEN);

	record->id = grant->id;
	record->user = grant->user;
	record->not_after = grant->not_after;
	record->blob = d->blob;
	record->blob_len = d->blob_len;
	d->outcome->grant = grant;
	return JIT_OK;
}

static jit_err apply_decision(jit_request *request, jit_grant_record *record,
			      void *context, jit_error *error)
{
	decision *d = context;
	bool complete = false;
	jit_err r;

	switch (d->kind) {
	case DECIDE_APPROVE:
		r = jit_request_approve(d->config, request, d->who, d->note,
					d->now, &complete, error);
		if (r == JIT_OK && complete)
			r = issue_from(d, request, record, error);
		break;
	case DECIDE_DENY:
		r = jit_request_deny(d->config, request, d->who, d->note, d->now,
				     error);
		break;
	default:
		r = jit_request_cancel(request, d->who, d->note, d->now, error);
		break;
	}

	if (r == JIT_OK)
		r = jit_request_copy(&d->outcome->request, request, error);
	return r;
}

static jit_err decide_stored(decision *d, const uint8_t *id, jit_error *error)
{
	jit_store *store = NULL;
	jit_err r;

	memset(d->outcome, 0, sizeof(*d->outcome));

	r = jit_store_open(d->config->store, JIT_STORE_WRITE, &store, error);
	if (r == JIT_OK)
		r = jit_store_update_request(store, id, apply_decision, d, error);
	jit_store_close(store);
	free(d->blob);

	if (r != JIT_OK) {
		jit_request_outcome_clear(d->outcome);
		return r;
	}
	d->outcome->approvals_needed =
		jit_request_approvals_needed(d->config, &d->outcome->request);
	return JIT_OK;
}

jit_err jit_request_approve_stored(const jit_config *config,
				   const jit_identity *who,
				   const uint8_t id[JIT_REQUEST_ID_LEN],
				   const char *note, int64_t now,
				   jit_request_outcome *outcome,
				   jit_error *error)
{
	decision d = { DECIDE_APPROVE, config, who, note, now, outcome, NULL, 0 };

	return decide_stored(&d, id, error);
}

jit_err jit_request_deny_stored(const jit_config *config,
				const jit_identity *who,
				const uint8_t id[JIT_REQUEST_ID_LEN],
				const char *note, int64_t now,
				jit_request_outcome *outcome, jit_error *error)
{
	decision d = { DECIDE_DENY, config, who, note, now, outcome, NULL, 0 };

	return decide_stored(&d, id, error);
}

jit_err jit_request_cancel_stored(const jit_config *config,
				  const jit_identity *who,
				  const uint8_t id[JIT_REQUEST_ID_LEN],
				  const char *note, int64_t now,
				  jit_request_outcome *outcome,
				  jit_error *error)
{
	decision d = { DECIDE_CANCEL, config, who, note, now, outcome, NULL, 0 };

	return decide_stored(&d, id, error);
}

static int newest_first(const void *a, const void *b)
{
	const jit_request *x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at > y->created_at ? -1 : 1;
	return memcmp(x->id, y->id, JIT_REQUEST_ID_LEN);
}

jit_err jit_requests_list_stored(const jit_config *config,
				 const jit_identity *who, bool all,
				 jit_request **requests, size_t *count,
				 jit_error *error)
{
	jit_request *loaded = NULL;
	jit_store *store = NULL;
	size_t loaded_count = 0, kept = 0;
	jit_err r;

	*requests = NULL;
	*count = 0;

	r = jit_store_open(config->store, JIT_STORE_READ, &store, error);
	if (r == JIT_OK)
		r = jit_store_load_requests(store, JIT_REQUEST_LOAD_MAX, &loaded,
					    &loaded_count, error);
	jit_store_close(store);
	if (r != JIT_OK)
		return r;

	for (size_t i = 0; i < loaded_count; i++) {
		bool keep = (all || loaded[i].state == JIT_REQUEST_PENDING) &&
			    jit_request_visible(config, &loaded[i], who);

		if (keep)
			loaded[kept++] = loaded[i];
		else
			jit_request_clear(&loaded[i]);
	}
	if (kept > 1)
		qsort(loaded, kept, sizeof(*loaded), newest_first);

	*requests = loaded;
	*count = kept;
	return JIT_OK;
}

jit_err jit_requests_sweep_stored(const jit_config *config, int64_t now,
				  jit_request **expired, size_t *count,
				  jit_error *error)
{
	jit_store *store = NULL;
	jit_err r;

	*expired = NULL;
	*count = 0;

	r = jit_store_open(config->store, JIT_STORE_WRITE, &store, error);
	if (r == JIT_OK)
		r = jit_store_sweep_requests(store, now, now - JIT_REQUEST_RETENTION,
					     1000, expired, count, error);
	jit_store_close(store);
	return r;
}

/* Signs grant and stores it. */
static jit_err store_grant(const jit_config *config, const jit_grant *grant,
			   jit_error *error)
{
	jit_chain_grant_event evidence;
	jit_store *store = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	jit_err r;

	r = sign_grant(config, grant, &blob, &blob_len, error);
	if (r == JIT_OK)
		r = jit_store_open(config->store, JIT_STORE_WRITE, &store, error);
	/* The requester issued a direct grant, or used break-glass. */
	jit_chain_grant_event_init(&evidence, jit_event_name(grant->break_glass ?
					JIT_EVENT_BREAK_GLASS_USED :
					JIT_EVENT_GRANT_ISSUED),
				   grant, grant->requester);
	if (r == JIT_OK)
		r = jit_store_put_grant_with_evidence(store, grant->id,
						      grant->user,
						      grant->not_after, blob,
						      blob_len, &evidence.ev,
						      error);
	jit_store_close(store);
	free(blob);
	return r;
}

jit_err jit_grant_issue_stored(const jit_config *config,
			       const jit_identity *who,
			       const jit_grant_spec *spec, int64_t now,
			       jit_grant **grant, jit_error *error)
{
	jit_strlist approvers = { 0 };
	jit_grant_spec issued = *spec;
	jit_grant *made = NULL;
	jit_err r;

	*grant = NULL;
	r = jit_grant_check_issuer(config, who, spec, error);
	if (r != JIT_OK)
		return r;

	if (jit_strlist_append(&approvers, who->user) != JIT_OK) {
		jit_strlist_clear(&approvers);
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}
	issued.requester = who->user;
	issued.approvers = &approvers;
	issued.request_id = NULL;
	issued.break_glass = false;

	r = jit_grant_build(config, &issued, now, &made, error);
	if (r == JIT_OK)
		r = store_grant(config, made, error);
	jit_strlist_clear(&approvers);
	if (r != JIT_OK) {
		jit_grant_free(made);
		return r;
	}
	*grant = made;
	return JIT_OK;
}

jit_err jit_break_glass_stored(const jit_config *config, const jit_identity *who,
			       const jit_break_glass_spec *spec, int64_t now,
			       jit_grant **grant, jit_error *error)
{
	jit_grant *made = NULL;
	jit_err r;

	*grant = NULL;
	r = jit_break_glass_build(config, who, spec, now, &made, error);
	if (r == JIT_OK)
		r = store_grant(config, made, error);
	if (r != JIT_OK) {
		jit_grant_free(made);
		return r;
	}
	*grant = made;
	return JIT_OK;
}

/* Reads and verifies one stored grant. */
static jit_err load_verified(const jit_config *config, jit_store *store,
			     const uint8_t *id, jit_grant **grant,
			     jit_error *error)
{
	jit_stored_grant stored = { 0 };
	jit_keyring *keys = NULL;
	jit_err r;

	r = jit_store_get_grant(store, id, &stored, error);
	if (r == JIT_OK)
		r = jit_keyring_load(config->trusted_keys, &keys, error);
	if (r == JIT_OK)
		r = jit_grant_verify(stored.blob, stored.blob_len, keys, grant,
				     error);
	jit_keyring_free(keys);
	jit_stored_grant_clear(&stored);
	return r;
}

jit_err jit_review_stored(const jit_config *config, const jit_identity *who,
			  const uint8_t id[JIT_GRANT_ID_LEN], const char *note,
			  int64_t now, jit_grant **grant, jit_error *error)
{
	jit_review review = { .reviewed_at = now };
	jit_store *store = NULL;
	jit_grant *loaded = NULL;
	jit_err r;

	*grant = NULL;
	r = jit_store_open(config->store, JIT_STORE_WRITE, &store, error);
	if (r == JIT_OK)
		r = load_verified(config, store, id, &loaded, error);
	if (r == JIT_OK)
		r = jit_review_check(config, who, loaded, note, error);
	if (r == JIT_OK) {
		review.reviewer = who->user;
		review.note = (char *)note;
		r = jit_store_put_review(store, id, &review, error);
	}
	jit_store_close(store);

	if (r != JIT_OK) {
		jit_grant_free(loaded);
		return r;
	}
	*grant = loaded;
	return JIT_OK;
}

jit_err jit_grant_reviewed_stored(const jit_config *config,
				  const uint8_t id[JIT_GRANT_ID_LEN],
				  bool *reviewed, jit_error *error)
{
	jit_review review = { 0 };
	jit_store *store = NULL;
	jit_err r;

	*reviewed = false;
	r = jit_store_open(config->store, JIT_STORE_READ, &store, error);
	if (r == JIT_OK)
		r = jit_store_get_review(store, id, &review, error);
	jit_store_close(store);

	if (r == JIT_OK)
		*reviewed = true;
	jit_review_clear(&review);
	return r == JIT_ERR_NOT_FOUND ? JIT_OK : r;
}
