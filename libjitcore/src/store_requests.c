/* The store's requests and reviews databases.
 *
 * A request record, version 1 (integers big-endian, strings as a u16
 * length and their bytes, without NUL):
 *   version u8, state u8, has_grant u8, grant id (16 bytes),
 *   created_at, expires_at, decided_at, duration, start (i64 each),
 *   requester, role, reason, decided_by, note (strings),
 *   approval count u16, then per approval: at (i64), approver, note.
 * The request id is the key. A review record: version u8, reviewed_at
 * (i64), reviewer, note. */
#include "jit/request.h"
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUESTS_DB "requests"
#define REVIEWS_DB "reviews"
#define RECORD_VERSION 1

typedef store_writer writer;
typedef store_reader reader;

/* Strings longer than a u16 length fail the whole record; the request
 * rules keep every text far below that. */
static void put_string(writer *w, const char *text)
{
	store_put_string(w, text, text != NULL ? strlen(text) : 0);
}

static char *get_string(reader *r)
{
	return store_get_string(r, UINT16_MAX);
}

static void encode_request(writer *w, const jit_request *request)
{
	store_put_u8(w, RECORD_VERSION);
	store_put_u8(w, (unsigned)request->state);
	store_put_u8(w, request->has_grant);
	store_put_bytes(w, request->grant_id, JIT_GRANT_ID_LEN);
	store_put_u64(w, (uint64_t)request->created_at);
	store_put_u64(w, (uint64_t)request->expires_at);
	store_put_u64(w, (uint64_t)request->decided_at);
	store_put_u64(w, (uint64_t)request->duration);
	store_put_u64(w, (uint64_t)request->start);
	put_string(w, request->requester);
	put_string(w, request->role);
	put_string(w, request->reason);
	put_string(w, request->decided_by);
	put_string(w, request->note);

	if (request->approval_count > JIT_REQUEST_APPROVALS_MAX) {
		w->failed = true;
		return;
	}
	store_put_u16(w, request->approval_count);
	for (size_t i = 0; i < request->approval_count; i++) {
		store_put_u64(w, (uint64_t)request->approvals[i].at);
		put_string(w, request->approvals[i].approver);
		put_string(w, request->approvals[i].note);
	}
}

static void decode_approvals(reader *r, jit_request *request)
{
	size_t count = store_get_u16(r);

	if (r->bad || count > JIT_REQUEST_APPROVALS_MAX) {
		r->bad = true;
		return;
	}
	if (count == 0)
		return;

	request->approvals = calloc(count, sizeof(*request->approvals));
	if (request->approvals == NULL) {
		r->no_memory = r->bad = true;
		return;
	}
	for (size_t i = 0; i < count && !r->bad; i++) {
		jit_approval *approval = &request->approvals[i];

		approval->at = (int64_t)store_get_u64(r);
		approval->approver = get_string(r);
		approval->note = get_string(r);
		request->approval_count = i + 1;
	}
}

/* Decodes value into request, whose id the caller sets. Returns JIT_OK,
 * JIT_ERR_MALFORMED or JIT_ERR_NOMEM; request is cleared on failure. */
static jit_err decode_request(const MDB_val *value, jit_request *request)
{
	reader r = { .data = value->mv_data, .len = value->mv_size };
	const uint8_t *grant_id;
	unsigned state;

	if (store_get_u8(&r) != RECORD_VERSION)
		r.bad = true;
	state = store_get_u8(&r);
	request->has_grant = store_get_u8(&r) != 0;
	grant_id = store_take(&r, JIT_GRANT_ID_LEN);
	if (grant_id != NULL)
		memcpy(request->grant_id, grant_id, JIT_GRANT_ID_LEN);
	request->created_at = (int64_t)store_get_u64(&r);
	request->expires_at = (int64_t)store_get_u64(&r);
	request->decided_at = (int64_t)store_get_u64(&r);
	request->duration = (int64_t)store_get_u64(&r);
	request->start = (int64_t)store_get_u64(&r);
	request->requester = get_string(&r);
	request->role = get_string(&r);
	request->reason = get_string(&r);
	request->decided_by = get_string(&r);
	request->note = get_string(&r);
	decode_approvals(&r, request);

	if (state > JIT_REQUEST_EXPIRED || r.offset != r.len)
		r.bad = true;
	request->state = (jit_request_state)state;
	if (!r.bad)
		return JIT_OK;

	jit_request_clear(request);
	return r.no_memory ? JIT_ERR_NOMEM : JIT_ERR_MALFORMED;
}

static jit_err record_error(const jit_store *store, jit_err code,
			    const char *what, jit_error *error)
{
	if (code == JIT_ERR_NOMEM)
		return jit_error_set(error, code, "%s in %s failed: out of memory",
				     what, jit_store__dir(store));
	return jit_error_set(error, code, "%s in %s failed: the record is malformed",
			     what, jit_store__dir(store));
}

static void format_request_id(const uint8_t *id, char *what, size_t size,
			      const char *verb)
{
	char hex[JIT_REQUEST_ID_HEX_LEN + 1];

	jit_request_id_format(id, hex);
	snprintf(what, size, "%s request %s", verb, hex);
}

/* Opens a named database inside txn. Without create, a database that was
 * never made gives MDB_NOTFOUND, which readers treat as empty. */
static int open_db(MDB_txn *txn, const char *name, bool create, MDB_dbi *dbi)
{
	return mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, dbi);
}

jit_err jit_store_put_request(jit_store *store, const jit_request *request,
			      jit_error *error)
{
	writer w = { 0 };
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	char what[96];
	jit_err r;
	int rc;

	r = jit_store__check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (request == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "storing a request in %s failed: no request",
				     jit_store__dir(store));

	format_request_id(request->id, what, sizeof(what), "storing");
	encode_request(&w, request);
	if (w.failed) {
		free(w.data);
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "%s in %s failed: a field is too long or memory ran out",
				     what, jit_store__dir(store));
	}

	rc = jit_store__txn_begin(store, 0, &txn);
	if (rc == 0)
		rc = open_db(txn, REQUESTS_DB, true, &dbi);
	if (rc == 0)
		rc = mdb_put(txn, dbi,
			     &(MDB_val){ JIT_REQUEST_ID_LEN, (void *)request->id },
			     &(MDB_val){ w.len, w.data }, MDB_NOOVERWRITE);
	if (rc == 0)
		rc = jit_store__evidence_request_created(store, txn, request);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	free(w.data);

	return rc == 0 ? JIT_OK : jit_store__error(store, rc, error, what);
}

/* Reads and decodes one request inside txn. */
static jit_err read_request(jit_store *store, MDB_txn *txn, MDB_dbi dbi,
			    const uint8_t *id, jit_request *request,
			    const char *what, jit_error *error)
{
	MDB_val key = { JIT_REQUEST_ID_LEN, (void *)id }, value;
	jit_err r;
	int rc;

	rc = mdb_get(txn, dbi, &key, &value);
	if (rc == MDB_NOTFOUND) {
		char hex[JIT_REQUEST_ID_HEX_LEN + 1];

		jit_request_id_format(id, hex);
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "no request %s in %s; jitctl requests --all lists the requests you may see",
				     hex, jit_store__dir(store));
	}
	if (rc != 0)
		return jit_store__error(store, rc, error, what);

	memset(request, 0, sizeof(*request));
	r = decode_request(&value, request);
	if (r != JIT_OK)
		return record_error(store, r, what, error);
	memcpy(request->id, id, JIT_REQUEST_ID_LEN);
	return JIT_OK;
}

jit_err jit_store_get_request(jit_store *store, const uint8_t id[16],
			      jit_request *request, jit_error *error)
{
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	char what[96];
	jit_err r;
	int rc;

	if (request != NULL)
		memset(request, 0, sizeof(*request));
	r = jit_store__check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (id == NULL || request == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "reading a request from %s failed: invalid argument",
				     jit_store__dir(store));

	format_request_id(id, what, sizeof(what), "reading");
	rc = jit_store__txn_begin(store, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = open_db(txn, REQUESTS_DB, false, &dbi);
	if (rc == 0)
		r = read_request(store, txn, dbi, id, request, what, error);
	else
		r = jit_store__error(store, rc, error, what);

	if (txn != NULL)
		mdb_txn_abort(txn);
	return r;
}

static jit_err load_all(jit_store *store, MDB_txn *txn, MDB_dbi dbi,
			size_t max, jit_request **out, size_t *out_count,
			jit_error *error)
{
	MDB_cursor *cursor = NULL;
	jit_request *items = NULL;
	size_t count = 0, capacity = 0;
	MDB_val key, value;
	jit_err r = JIT_OK;
	int rc;

	rc = mdb_cursor_open(txn, dbi, &cursor);
	if (rc == 0)
		rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
	while (rc == 0 && r == JIT_OK) {
		if (key.mv_size != JIT_REQUEST_ID_LEN)
			goto next;
		if (count == max) {
			r = jit_error_set(error, JIT_ERR_TOO_LARGE,
					  "listing requests in %s failed: more than %zu stored",
					  jit_store__dir(store), max);
			break;
		}
		if (count == capacity) {
			size_t bigger = capacity == 0 ? 16 : capacity * 2;
			jit_request *grown = reallocarray(items, bigger, sizeof(*items));

			if (grown == NULL) {
				r = jit_error_set(error, JIT_ERR_NOMEM,
						  "listing requests in %s failed: out of memory",
						  jit_store__dir(store));
				break;
			}
			items = grown;
			capacity = bigger;
		}

		memset(&items[count], 0, sizeof(items[count]));
		r = decode_request(&value, &items[count]);
		if (r == JIT_ERR_MALFORMED) {
			/* A damaged record allows nothing: it is left out. */
			r = JIT_OK;
			goto next;
		}
		if (r != JIT_OK) {
			r = record_error(store, r, "listing requests", error);
			break;
		}
		memcpy(items[count].id, key.mv_data, JIT_REQUEST_ID_LEN);
		count++;
next:
		rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
	}

	if (r == JIT_OK && rc != 0 && rc != MDB_NOTFOUND)
		r = jit_store__error(store, rc, error, "listing requests");
	if (cursor != NULL)
		mdb_cursor_close(cursor);
	if (r != JIT_OK) {
		jit_requests_free(items, count);
		return r;
	}
	*out = items;
	*out_count = count;
	return JIT_OK;
}

jit_err jit_store_load_requests(jit_store *store, size_t max,
				jit_request **requests, size_t *count,
				jit_error *error)
{
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	jit_err r;
	int rc;

	if (requests != NULL)
		*requests = NULL;
	if (count != NULL)
		*count = 0;
	r = jit_store__check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (requests == NULL || count == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "listing requests in %s failed: invalid argument",
				     jit_store__dir(store));

	rc = jit_store__txn_begin(store, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = open_db(txn, REQUESTS_DB, false, &dbi);
	if (rc == 0)
		r = load_all(store, txn, dbi, max, requests, count, error);
	else if (rc == MDB_NOTFOUND)
		r = JIT_OK;
	else
		r = jit_store__error(store, rc, error, "listing requests");

	if (txn != NULL)
		mdb_txn_abort(txn);
	return r;
}

/* Writes the changed request and, when update filled it in, the grant. */
static jit_err write_update(jit_store *store, MDB_txn *txn, MDB_dbi dbi,
			    const jit_request *before,
			    const jit_request *request,
			    const jit_grant_record *grant, const char *what,
			    jit_error *error)
{
	writer w = { 0 };
	jit_err r;
	int rc;

	if (grant->blob != NULL) {
		r = jit_store__check_grant(store, grant->id, grant->user,
					   grant->not_after, grant->blob,
					   grant->blob_len, error);
		if (r != JIT_OK)
			return r;
	}

	encode_request(&w, request);
	if (w.failed) {
		free(w.data);
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "%s in %s failed: a field is too long or memory ran out",
				     what, jit_store__dir(store));
	}

	rc = mdb_put(txn, dbi, &(MDB_val){ JIT_REQUEST_ID_LEN, (void *)request->id },
		     &(MDB_val){ w.len, w.data }, 0);
	free(w.data);
	if (rc == 0 && grant->blob != NULL)
		rc = jit_store__put_grant_txn(store, txn, grant->id, grant->user,
					      grant->not_after, grant->blob,
					      grant->blob_len);
	if (rc == 0)
		rc = jit_store__evidence_request_changed(store, txn,
				(int)before->state, before->approval_count,
				request, grant->blob != NULL ? grant->id : NULL);
	return rc == 0 ? JIT_OK : jit_store__error(store, rc, error, what);
}

jit_err jit_store_update_request(jit_store *store, const uint8_t id[16],
				 jit_request_update_fn update, void *context,
				 jit_error *error)
{
	jit_request request = { 0 };
	jit_request before = { 0 };
	jit_grant_record grant = { 0 };
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	char what[96];
	jit_err r;
	int rc;

	r = jit_store__check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (id == NULL || update == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "changing a request in %s failed: invalid argument",
				     jit_store__dir(store));

	format_request_id(id, what, sizeof(what), "changing");
	rc = jit_store__txn_begin(store, 0, &txn);
	if (rc == 0)
		rc = open_db(txn, REQUESTS_DB, true, &dbi);
	if (rc != 0) {
		r = jit_store__error(store, rc, error, what);
		goto out;
	}

	r = read_request(store, txn, dbi, id, &request, what, error);
	if (r == JIT_OK) {
		before.state = request.state;
		before.approval_count = request.approval_count;
		r = update(&request, &grant, context, error);
	}
	if (r == JIT_OK)
		r = write_update(store, txn, dbi, &before, &request, &grant,
				 what, error);
	if (r != JIT_OK)
		goto out;

	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		r = jit_store__error(store, rc, error, what);
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	jit_request_clear(&request);
	return r;
}

/* What one sweep changes, collected while the cursor walks and applied
 * after it, so that no write moves the page under the cursor. */
typedef struct sweep_plan {
	jit_request *expired;
	size_t expired_count;
	uint8_t (*forget)[JIT_REQUEST_ID_LEN];
	size_t forget_count;
	size_t max_changes;
} sweep_plan;

static void sweep_plan_clear(sweep_plan *plan)
{
	jit_requests_free(plan->expired, plan->expired_count);
	free(plan->forget);
	memset(plan, 0, sizeof(*plan));
}

static bool plan_full(const sweep_plan *plan)
{
	return plan->expired_count + plan->forget_count >= plan->max_changes;
}

/* Decides what happens to one decoded request: expire it (taking it over
 * into the plan) or forget it. */
static void plan_request(sweep_plan *plan, jit_request *request, int64_t now,
			 int64_t forget_before)
{
	if (request->state == JIT_REQUEST_PENDING && request->expires_at <= now) {
		request->state = JIT_REQUEST_EXPIRED;
		request->decided_at = request->expires_at;
		plan->expired[plan->expired_count++] = *request;
		memset(request, 0, sizeof(*request));
		return;
	}
	if (request->state != JIT_REQUEST_PENDING &&
	    request->decided_at <= forget_before)
		memcpy(plan->forget[plan->forget_count++], request->id,
		       JIT_REQUEST_ID_LEN);
	jit_request_clear(request);
}

static int walk_requests(MDB_txn *txn, MDB_dbi dbi, int64_t now,
			 int64_t forget_before, sweep_plan *plan)
{
	MDB_cursor *cursor = NULL;
	MDB_val key, value;
	int rc;

	plan->expired = calloc(plan->max_changes, sizeof(*plan->expired));
	plan->forget = calloc(plan->max_changes, sizeof(*plan->forget));
	if (plan->expired == NULL || plan->forget == NULL)
		return ENOMEM;

	rc = mdb_cursor_open(txn, dbi, &cursor);
	if (rc == 0)
		rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
	while (rc == 0 && !plan_full(plan)) {
		jit_request request = { 0 };
		jit_err r;

		if (key.mv_size == JIT_REQUEST_ID_LEN) {
			r = decode_request(&value, &request);
			if (r == JIT_ERR_NOMEM) {
				rc = ENOMEM;
				break;
			}
			memcpy(request.id, key.mv_data, JIT_REQUEST_ID_LEN);
			if (r == JIT_OK)
				plan_request(plan, &request, now, forget_before);
		}
		rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
	}
	if (cursor != NULL)
		mdb_cursor_close(cursor);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int apply_plan(jit_store *store, MDB_txn *txn, MDB_dbi dbi,
		      const sweep_plan *plan)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < plan->expired_count; i++) {
		writer w = { 0 };

		encode_request(&w, &plan->expired[i]);
		rc = w.failed ? ENOMEM :
		     mdb_put(txn, dbi,
			     &(MDB_val){ JIT_REQUEST_ID_LEN, plan->expired[i].id },
			     &(MDB_val){ w.len, w.data }, 0);
		free(w.data);
		if (rc == 0)
			rc = jit_store__evidence_request_expired(store, txn,
							&plan->expired[i]);
	}
	for (size_t i = 0; rc == 0 && i < plan->forget_count; i++) {
		rc = mdb_del(txn, dbi,
			     &(MDB_val){ JIT_REQUEST_ID_LEN, plan->forget[i] }, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	return rc;
}

/* Removes reviews whose grant was reaped, because jit_store_reap removes
 * only the grant, its index entries and its revocation. */
static int forget_orphan_reviews(jit_store *store, MDB_txn *txn,
				 size_t *removed)
{
	MDB_cursor *cursor = NULL;
	MDB_val key, value, unused;
	MDB_dbi dbi;
	int rc;

	*removed = 0;
	rc = open_db(txn, REVIEWS_DB, false, &dbi);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0)
		rc = mdb_cursor_open(txn, dbi, &cursor);
	if (rc == 0)
		rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
	while (rc == 0) {
		MDB_val id = key;

		rc = mdb_get(txn, jit_store__grants_dbi(store), &id, &unused);
		if (rc == MDB_NOTFOUND) {
			rc = mdb_cursor_del(cursor, 0);
			(*removed)++;
		}
		if (rc == 0)
			rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
	}
	if (cursor != NULL)
		mdb_cursor_close(cursor);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

jit_err jit_store_sweep_requests(jit_store *store, int64_t now,
				 int64_t forget_before, size_t max_changes,
				 jit_request **expired, size_t *count,
				 jit_error *error)
{
	sweep_plan plan = { .max_changes = max_changes };
	MDB_txn *txn = NULL;
	size_t reviews = 0;
	MDB_dbi dbi;
	jit_err r;
	int rc;

	if (expired != NULL)
		*expired = NULL;
	if (count != NULL)
		*count = 0;
	r = jit_store__check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (expired == NULL || count == NULL || max_changes == 0)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "sweeping requests in %s failed: invalid argument",
				     jit_store__dir(store));

	rc = jit_store__txn_begin(store, 0, &txn);
	if (rc == 0)
		rc = open_db(txn, REQUESTS_DB, true, &dbi);
	if (rc == 0)
		rc = walk_requests(txn, dbi, now, forget_before, &plan);
	if (rc == 0)
		rc = apply_plan(store, txn, dbi, &plan);
	if (rc == 0)
		rc = forget_orphan_reviews(store, txn, &reviews);

	if (rc == 0 && plan.expired_count + plan.forget_count + reviews > 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != 0) {
		sweep_plan_clear(&plan);
		return jit_store__error(store, rc, error, "sweeping requests");
	}

	if (plan.expired_count > 0) {
		*expired = plan.expired;
		*count = plan.expired_count;
		plan.expired = NULL;
		plan.expired_count = 0;
	}
	sweep_plan_clear(&plan);
	return JIT_OK;
}

void jit_review_clear(jit_review *review)
{
	if (review == NULL)
		return;
	free(review->reviewer);
	free(review->note);
	memset(review, 0, sizeof(*review));
}

jit_err jit_store_put_review(jit_store *store, const uint8_t grant_id[16],
			     const jit_review *review, jit_error *error)
{
	char hex[JIT_GRANT_ID_HEX_LEN + 1], what[96];
	MDB_val key, unused;
	writer w = { 0 };
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	jit_err r;
	int rc;

	r = jit_store__check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (grant_id == NULL || review == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "storing a review in %s failed: invalid argument",
				     jit_store__dir(store));

	jit_grant_id_format(grant_id, hex);
	snprintf(what, sizeof(what), "reviewing grant %s", hex);
	store_put_u8(&w, RECORD_VERSION);
	store_put_u64(&w, (uint64_t)review->reviewed_at);
	put_string(&w, review->reviewer);
	put_string(&w, review->note);
	if (w.failed) {
		free(w.data);
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "%s in %s failed: the note is too long or memory ran out",
				     what, jit_store__dir(store));
	}

	key = (MDB_val){ JIT_GRANT_ID_LEN, (void *)grant_id };
	rc = jit_store__txn_begin(store, 0, &txn);
	if (rc == 0)
		rc = mdb_get(txn, jit_store__grants_dbi(store), &key, &unused);
	if (rc == 0)
		rc = open_db(txn, REVIEWS_DB, true, &dbi);
	if (rc == 0)
		rc = mdb_put(txn, dbi, &key, &(MDB_val){ w.len, w.data },
			     MDB_NOOVERWRITE);
	if (rc == 0)
		rc = jit_store__evidence_review(store, txn, grant_id, review);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	free(w.data);

	if (rc == MDB_KEYEXIST)
		return jit_error_set(error, JIT_ERR_EXISTS,
				     "grant %s was already reviewed", hex);
	if (rc == MDB_NOTFOUND)
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "no grant with id %s in %s", hex,
				     jit_store__dir(store));
	return rc == 0 ? JIT_OK : jit_store__error(store, rc, error, what);
}

static jit_err decode_review(const MDB_val *value, jit_review *review)
{
	reader r = { .data = value->mv_data, .len = value->mv_size };

	if (store_get_u8(&r) != RECORD_VERSION)
		r.bad = true;
	review->reviewed_at = (int64_t)store_get_u64(&r);
	review->reviewer = get_string(&r);
	review->note = get_string(&r);
	if (r.offset != r.len)
		r.bad = true;
	if (!r.bad)
		return JIT_OK;

	jit_review_clear(review);
	return r.no_memory ? JIT_ERR_NOMEM : JIT_ERR_MALFORMED;
}

jit_err jit_store_get_review(jit_store *store, const uint8_t grant_id[16],
			     jit_review *review, jit_error *error)
{
	char hex[JIT_GRANT_ID_HEX_LEN + 1], what[96];
	MDB_txn *txn = NULL;
	MDB_val key, value;
	MDB_dbi dbi;
	jit_err r;
	int rc;

	if (review != NULL)
		memset(review, 0, sizeof(*review));
	r = jit_store__check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (grant_id == NULL || review == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "reading a review from %s failed: invalid argument",
				     jit_store__dir(store));

	jit_grant_id_format(grant_id, hex);
	snprintf(what, sizeof(what), "reading the review of grant %s", hex);
	key = (MDB_val){ JIT_GRANT_ID_LEN, (void *)grant_id };
	rc = jit_store__txn_begin(store, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = open_db(txn, REVIEWS_DB, false, &dbi);
	if (rc == 0)
		rc = mdb_get(txn, dbi, &key, &value);
	if (rc == 0) {
		r = decode_review(&value, review);
		if (r != JIT_OK)
			r = record_error(store, r, what, error);
	} else {
		r = jit_store__error(store, rc, error, what);
	}

	if (txn != NULL)
		mdb_txn_abort(txn);
	return r;
}
