/* A grant as jitctl shows it: verified if possible, otherwise parsed
 * without verification so its fields can still be read, with its state at
 * one instant. Decisions never use this: they go through jit_check. */
#include <string.h>

#include "jitctl.h"

const char *grant_state_name(grant_state state)
{
	switch (state) {
	case GRANT_ACTIVE:
		return "active";
	case GRANT_NOT_YET_VALID:
		return "not-yet-valid";
	case GRANT_OTHER_HOST:
		return "other-host";
	case GRANT_EXPIRED:
		return "expired";
	case GRANT_REVOKED:
		return "revoked";
	case GRANT_INVALID:
		return "invalid";
	}
	return "invalid";
}

/* The state comes from libjitcore, so list and check apply the same time
 * rules; jitctl only adds "invalid" for grants that do not verify. */
grant_state grant_state_at(const jit_config *config, const jit_grant *grant,
			   bool revoked, int64_t now_ms)
{
	switch (jit_grant_state_at(config, grant, revoked, now_ms)) {
	case JIT_STATE_ACTIVE:
		return GRANT_ACTIVE;
	case JIT_STATE_NOT_YET_VALID:
		return GRANT_NOT_YET_VALID;
	case JIT_STATE_OTHER_HOST:
		return GRANT_OTHER_HOST;
	case JIT_STATE_EXPIRED:
		return GRANT_EXPIRED;
	case JIT_STATE_REVOKED:
		return GRANT_REVOKED;
	}
	return GRANT_INVALID;
}

/* Loads blob into view. stored_id is the id the store keeps the blob
 * under, or NULL for a token. The store's key is not covered by the
 * signature, so a grant signed with another id is shown as invalid.
 * Returns JIT_ERR_NOMEM only, because a grant that fails to verify is a
 * view too. */
jit_err grant_view_load(grant_view *view, const uint8_t *stored_id,
			const uint8_t *blob, size_t blob_len, bool revoked,
			const jit_keyring *keys, const jit_config *config,
			int64_t now_ms)
{
	jit_err r;

	memset(view, 0, sizeof(*view));
	jit_error_clear(&view->verify_error);
	view->revoked = revoked;
	view->state = GRANT_INVALID;
	strcpy(view->id, "-");

	r = jit_grant_verify(blob, blob_len, keys, &view->grant,
			     &view->verify_error);
	if (r == JIT_ERR_NOMEM)
		return r;
	if (r != JIT_OK)
		(void)jit_grant_parse_unverified(blob, blob_len, &view->grant,
						 NULL);

	if (stored_id != NULL)
		jit_grant_id_format(stored_id, view->id);
	else if (view->grant != NULL)
		jit_grant_id_format(view->grant->id, view->id);

	if (r != JIT_OK)
		return JIT_OK;

	if (stored_id != NULL &&
	    memcmp(stored_id, view->grant->id, JIT_GRANT_ID_LEN) != 0) {
		char signed_id[JIT_GRANT_ID_HEX_LEN + 1];

		jit_grant_id_format(view->grant->id, signed_id);
		jit_error_set(&view->verify_error, JIT_ERR_MALFORMED,
			      "grant stored under id %s is signed with id %s",
			      view->id, signed_id);
		return JIT_OK;
	}

	view->verified = true;
	view->state = grant_state_at(config, view->grant, revoked, now_ms);
	return JIT_OK;
}

void grant_view_clear(grant_view *view)
{
	if (view == NULL)
		return;
	jit_grant_free(view->grant);
	view->grant = NULL;
	jit_review_clear(&view->review);
}
