/* The rules of requests, approvals, denials, cancellations, break-glass
 * and reviews. Nothing here touches the store: request_flow.c does. */
#include "jit/request.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/issue.h"
#include "jit/timeutil.h"

void jit_request_clear(jit_request *request)
{
	if (request == NULL)
		return;
	free(request->requester);
	free(request->role);
	free(request->reason);
	free(request->decided_by);
	free(request->note);
	for (size_t i = 0; i < request->approval_count; i++) {
		free(request->approvals[i].approver);
		free(request->approvals[i].note);
	}
	free(request->approvals);
	memset(request, 0, sizeof(*request));
}

void jit_requests_free(jit_request *requests, size_t count)
{
	if (requests == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		jit_request_clear(&requests[i]);
	free(requests);
}

/* Copies text (NULL counts as "") into *field; false when out of memory. */
static bool copy_text(char **field, const char *text)
{
	*field = strdup(text != NULL ? text : "");
	return *field != NULL;
}

jit_err jit_request_copy(jit_request *dst, const jit_request *src,
			 jit_error *error)
{
	jit_request copy = *src;
	bool ok;

	copy.requester = copy.role = copy.reason = NULL;
	copy.decided_by = copy.note = NULL;
	copy.approvals = NULL;
	copy.approval_count = 0;

	ok = copy_text(&copy.requester, src->requester) &&
	     copy_text(&copy.role, src->role) &&
	     copy_text(&copy.reason, src->reason) &&
	     copy_text(&copy.decided_by, src->decided_by) &&
	     copy_text(&copy.note, src->note);
	if (ok && src->approval_count > 0) {
		copy.approvals = calloc(src->approval_count, sizeof(*copy.approvals));
		ok = copy.approvals != NULL;
	}
	for (size_t i = 0; ok && i < src->approval_count; i++) {
		copy.approvals[i].at = src->approvals[i].at;
		copy.approval_count = i + 1;
		ok = copy_text(&copy.approvals[i].approver,
			       src->approvals[i].approver) &&
		     copy_text(&copy.approvals[i].note, src->approvals[i].note);
	}
	if (!ok) {
		jit_request_clear(&copy);
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}

	*dst = copy;
	return JIT_OK;
}

const char *jit_request_state_name(jit_request_state state)
{
	switch (state) {
	case JIT_REQUEST_PENDING:
		return "pending";
	case JIT_REQUEST_APPROVED:
		return "approved";
	case JIT_REQUEST_DENIED:
		return "denied";
	case JIT_REQUEST_CANCELLED:
		return "cancelled";
	case JIT_REQUEST_EXPIRED:
		return "expired";
	}
	return "unknown";
}

void jit_request_id_format(const uint8_t id[JIT_REQUEST_ID_LEN],
			   char out[JIT_REQUEST_ID_HEX_LEN + 1])
{
	jit_grant_id_format(id, out);
}

jit_err jit_request_id_parse(const char *text, uint8_t id[JIT_REQUEST_ID_LEN],
			     jit_error *error)
{
	if (jit_grant_id_parse(text, id, NULL) != JIT_OK)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "invalid request id \"%.64s\": expected 32 hex digits",
				     text != NULL ? text : "");
	return JIT_OK;
}

jit_err jit_request_check_text(const char *text, const char *what,
			       bool required, jit_error *error)
{
	size_t length = text != NULL ? strlen(text) : 0;

	if (length == 0)
		return required ? jit_error_set(error, JIT_ERR_INVALID,
						"the %s is empty: say why", what)
				: JIT_OK;
	if (length > JIT_REQUEST_TEXT_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "the %s is %zu bytes long, above the limit of %d",
				     what, length, JIT_REQUEST_TEXT_MAX);
	for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			return jit_error_set(error, JIT_ERR_INVALID,
					     "the %s contains a control character; write it on one line",
					     what);
	return JIT_OK;
}

static const jit_role *find_role(const jit_config *config, const char *name,
				 jit_error *error)
{
	const jit_role *role = jit_config_find_role(config, name);

	if (role == NULL)
		jit_error_set(error, JIT_ERR_NOT_FOUND,
			      "role %.64s is not defined in %.200s",
			      name != NULL ? name : "", config->path != NULL ?
			      config->path : "the configuration");
	return role;
}

/* Builds the grant a request would give at now and keeps its times, so a
 * request is checked by the same function that will issue it. */
static jit_err dry_run(const jit_config *config, const jit_identity *who,
		       const jit_request_spec *spec, const char *request_id,
		       int64_t now, jit_request *request, jit_error *error)
{
	jit_grant_spec grant_spec = {
		.user = who->user,
		.role = spec->role,
		.duration = spec->duration,
		.start = spec->start,
		.reason = spec->reason,
		.requester = who->user,
		.request_id = request_id,
	};
	jit_grant *grant = NULL;
	jit_err r;

	r = jit_grant_build(config, &grant_spec, now, &grant, error);
	if (r != JIT_OK)
		return r;

	request->duration = grant->not_after - grant->not_before;
	request->start = spec->start != NULL ? grant->not_before : 0;
	jit_grant_free(grant);
	return JIT_OK;
}

static jit_err check_requester(const jit_config *config, const jit_identity *who,
			       const jit_request_spec *spec, size_t pending,
			       const jit_role **role, jit_error *error)
{
	jit_err r;

	if (who == NULL || who->user == NULL || !jit_valid_name(who->user))
		return jit_error_set(error, JIT_ERR_INVALID,
				     "requesting a role failed: no valid requester");
	*role = find_role(config, spec->role, error);
	if (*role == NULL)
		return JIT_ERR_NOT_FOUND;
	if (who->uid != 0 && !jit_identity_in(who, &(*role)->requesters))
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s may not request role %s: not in its requesters",
				     who->user, (*role)->name);

	r = jit_request_check_text(spec->reason, "reason", true, error);
	if (r != JIT_OK)
		return r;
	if (pending >= JIT_REQUEST_PENDING_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "%s has %zu pending requests, the most allowed; cancel one or wait for a decision",
				     who->user, pending);
	return JIT_OK;
}

jit_err jit_request_new(const jit_config *config, const jit_identity *who,
			const jit_request_spec *spec, size_t pending,
			int64_t now, jit_request *request, jit_error *error)
{
	char id[JIT_REQUEST_ID_HEX_LEN + 1];
	jit_request made = { 0 };
	const jit_role *role = NULL;
	jit_err r;

	memset(request, 0, sizeof(*request));

	r = check_requester(config, who, spec, pending, &role, error);
	if (r == JIT_OK)
		r = jit_crypto_init(error);
	if (r != JIT_OK)
		return r;

	randombytes_buf(made.id, sizeof(made.id));
	jit_request_id_format(made.id, id);
	r = dry_run(config, who, spec, id, now, &made, error);
	if (r != JIT_OK)
		return r;

	made.state = JIT_REQUEST_PENDING;
	made.created_at = now;
	made.expires_at = now + role->request_ttl;
	if (!copy_text(&made.requester, who->user) ||
	    !copy_text(&made.role, role->name) ||
	    !copy_text(&made.reason, spec->reason) ||
	    !copy_text(&made.decided_by, "") || !copy_text(&made.note, "")) {
		jit_request_clear(&made);
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}

	*request = made;
	return JIT_OK;
}

/* Checks what every decision on a request needs: it is pending, has not
 * expired, and its role still exists. */
static jit_err check_open(const jit_config *config, const jit_request *request,
			  int64_t now, const char *verb, const jit_role **role,
			  jit_error *error)
{
	char id[JIT_REQUEST_ID_HEX_LEN + 1], when[32];

	jit_request_id_format(request->id, id);
	if (request->state != JIT_REQUEST_PENDING)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "request %s is %s: only a pending request can be %s",
				     id, jit_request_state_name(request->state), verb);
	if (now >= request->expires_at) {
		jit_time_format(request->expires_at, when, sizeof(when));
		return jit_error_set(error, JIT_ERR_INVALID,
				     "request %s expired at %s without a decision; ask for a new one",
				     id, when);
	}
	if (role != NULL) {
		*role = find_role(config, request->role, error);
		if (*role == NULL)
			return JIT_ERR_NOT_FOUND;
	}
	return JIT_OK;
}

/* An approver or denier must approve the role and not be the requester. */
static jit_err check_decider(const jit_role *role, const jit_request *request,
			     const jit_identity *who, const char *verb,
			     jit_error *error)
{
	if (who == NULL || who->user == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "deciding a request failed: nobody to decide it");
	if (strcmp(who->user, request->requester) == 0)
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s may not %s their own request: another approver of role %s must",
				     who->user, verb, role->name);
	if (!jit_identity_approves(who, role))
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s may not %s requests for role %s: not in its approvers",
				     who->user, verb, role->name);
	return JIT_OK;
}

static bool approved_by(const jit_request *request, const char *user)
{
	for (size_t i = 0; i < request->approval_count; i++)
		if (strcmp(request->approvals[i].approver, user) == 0)
			return true;
	return false;
}

static jit_err add_approval(jit_request *request, const char *user,
			    const char *note, int64_t now, jit_error *error)
{
	jit_approval *approvals;
	jit_approval *added;

	if (request->approval_count >= JIT_REQUEST_APPROVALS_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "the request has %d approvals, the most recorded",
				     JIT_REQUEST_APPROVALS_MAX);

	approvals = reallocarray(request->approvals, request->approval_count + 1,
				 sizeof(*approvals));
	if (approvals == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	request->approvals = approvals;

	added = &approvals[request->approval_count];
	memset(added, 0, sizeof(*added));
	added->at = now;
	if (!copy_text(&added->approver, user) || !copy_text(&added->note, note)) {
		free(added->approver);
		free(added->note);
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}
	request->approval_count++;
	return JIT_OK;
}

jit_err jit_request_approve(const jit_config *config, jit_request *request,
			    const jit_identity *who, const char *note,
			    int64_t now, bool *complete, jit_error *error)
{
	char id[JIT_REQUEST_ID_HEX_LEN + 1];
	const jit_role *role = NULL;
	jit_err r;

	*complete = false;

	r = check_open(config, request, now, "approved", &role, error);
	if (r == JIT_OK)
		r = check_decider(role, request, who, "approve", error);
	if (r == JIT_OK)
		r = jit_request_check_text(note, "note", false, error);
	if (r != JIT_OK)
		return r;

	jit_request_id_format(request->id, id);
	if (approved_by(request, who->user))
		return jit_error_set(error, JIT_ERR_EXISTS,
				     "%s already approved request %s; each approver counts once, so another approver of role %s must approve it",
				     who->user, id, role->name);

	r = add_approval(request, who->user, note, now, error);
	if (r != JIT_OK)
		return r;
	*complete = request->approval_count >= role->approvals;
	return JIT_OK;
}

jit_err jit_request_build_grant(const jit_config *config,
				const jit_request *request, int64_t now,
				jit_grant **grant, jit_error *error)
{
	char id[JIT_REQUEST_ID_HEX_LEN + 1], duration[32], start[32];
	jit_strlist approvers = { 0 };
	jit_grant_spec spec = {
		.user = request->requester,
		.role = request->role,
		.duration = duration,
		.reason = request->reason,
		.requester = request->requester,
		.request_id = id,
		.approvers = &approvers,
	};
	jit_err r = JIT_OK;

	*grant = NULL;
	jit_request_id_format(request->id, id);
	jit_duration_format(request->duration, duration, sizeof(duration));
	/* The clock starts now unless a later start was asked for. */
	if (request->start > now) {
		jit_time_format(request->start, start, sizeof(start));
		spec.start = start;
	}

	for (size_t i = 0; r == JIT_OK && i < request->approval_count; i++)
		if (jit_strlist_append(&approvers, request->approvals[i].approver) != JIT_OK)
			r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	if (r == JIT_OK)
		r = jit_grant_build(config, &spec, now, grant, error);

	jit_strlist_clear(&approvers);
	return r;
}

/* Records the end of a pending request. */
static jit_err close_request(jit_request *request, jit_request_state state,
			     const char *who, const char *note, int64_t now,
			     jit_error *error)
{
	char *decided_by = NULL, *text = NULL;

	if (!copy_text(&decided_by, who) || !copy_text(&text, note)) {
		free(decided_by);
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}

	free(request->decided_by);
	free(request->note);
	request->decided_by = decided_by;
	request->note = text;
	request->state = state;
	request->decided_at = now;
	return JIT_OK;
}

jit_err jit_request_deny(const jit_config *config, jit_request *request,
			 const jit_identity *who, const char *note,
			 int64_t now, jit_error *error)
{
	const jit_role *role = NULL;
	jit_err r;

	r = check_open(config, request, now, "denied", &role, error);
	if (r == JIT_OK)
		r = check_decider(role, request, who, "deny", error);
	if (r == JIT_OK)
		r = jit_request_check_text(note, "reason", true, error);
	if (r != JIT_OK)
		return r;
	return close_request(request, JIT_REQUEST_DENIED, who->user, note, now,
			     error);
}

jit_err jit_request_cancel(jit_request *request, const jit_identity *who,
			   const char *note, int64_t now, jit_error *error)
{
	char id[JIT_REQUEST_ID_HEX_LEN + 1];
	jit_err r;

	r = check_open(NULL, request, now, "cancelled", NULL, error);
	if (r == JIT_OK)
		r = jit_request_check_text(note, "note", false, error);
	if (r != JIT_OK)
		return r;

	jit_request_id_format(request->id, id);
	if (who == NULL || who->user == NULL ||
	    (who->uid != 0 && strcmp(who->user, request->requester) != 0))
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "only %s, who asked, or root may cancel request %s",
				     request->requester, id);
	return close_request(request, JIT_REQUEST_CANCELLED, who->user, note, now,
			     error);
}

bool jit_request_visible(const jit_config *config, const jit_request *request,
			 const jit_identity *who)
{
	const jit_role *role;

	if (who == NULL || who->user == NULL)
		return false;
	if (who->uid == 0 || strcmp(who->user, request->requester) == 0)
		return true;
	role = jit_config_find_role(config, request->role);
	return role != NULL && jit_identity_approves(who, role);
}

unsigned jit_request_approvals_needed(const jit_config *config,
				      const jit_request *request)
{
	const jit_role *role = jit_config_find_role(config, request->role);

	return role != NULL ? role->approvals : 0;
}

static jit_err check_break_glass(const jit_config *config,
				 const jit_identity *who,
				 const jit_break_glass_spec *spec,
				 jit_error *error)
{
	char limit[32];
	int64_t seconds;
	jit_err r;

	if (who == NULL || who->user == NULL || !jit_valid_name(who->user))
		return jit_error_set(error, JIT_ERR_INVALID,
				     "break-glass failed: no valid user");
	if (!jit_strlist_contains(&who->groups, config->break_glass_group))
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s may not use break-glass: not a member of group %s",
				     who->user, config->break_glass_group);

	r = jit_request_check_text(spec->reason, "reason", true, error);
	if (r != JIT_OK)
		return r;
	if (spec->duration == NULL) {
		jit_duration_format(config->break_glass_max_duration, limit,
				    sizeof(limit));
		return jit_error_set(error, JIT_ERR_INVALID,
				     "break-glass needs a duration, at most %s",
				     limit);
	}
	return jit_duration_parse(spec->duration, config->break_glass_max_duration,
				  &seconds, error);
}

jit_err jit_break_glass_build(const jit_config *config, const jit_identity *who,
			      const jit_break_glass_spec *spec, int64_t now,
			      jit_grant **grant, jit_error *error)
{
	static char *all[] = { "ALL" };
	static const jit_strlist every_command = { 1, all };
	jit_grant_spec grant_spec = {
		.role = spec->role,
		.duration = spec->duration,
		.reason = spec->reason,
		.break_glass = true,
	};
	jit_err r;

	*grant = NULL;
	r = check_break_glass(config, who, spec, error);
	if (r != JIT_OK)
		return r;

	grant_spec.user = who->user;
	grant_spec.requester = who->user;
	/* Without a role, break-glass means every command as root on this
	 * host. A role narrows it to the role's scope. */
	if (spec->role == NULL)
		grant_spec.commands = &every_command;
	return jit_grant_build(config, &grant_spec, now, grant, error);
}

jit_err jit_review_check(const jit_config *config, const jit_identity *who,
			 const jit_grant *grant, const char *note,
			 jit_error *error)
{
	char id[JIT_GRANT_ID_HEX_LEN + 1];

	jit_grant_id_format(grant->id, id);
	if (!grant->break_glass)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "grant %s is not a break-glass grant; only those are reviewed",
				     id);
	if (who == NULL || who->user == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "reviewing grant %s failed: no reviewer", id);
	if (strcmp(who->user, grant->user) == 0)
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s may not review their own break-glass grant %s",
				     who->user, id);
	if (!jit_identity_approves_any(who, config))
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s may not review grant %s: only root and approvers of a role review break-glass grants",
				     who->user, id);
	return jit_request_check_text(note, "note", true, error);
}

jit_err jit_grant_check_issuer(const jit_config *config,
			       const jit_identity *who,
			       const jit_grant_spec *spec, jit_error *error)
{
	const jit_role *role;

	if (who == NULL || who->user == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "issuing a grant failed: no issuer");
	if (who->uid == 0)
		return JIT_OK;
	if (spec->role == NULL)
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s may issue grants only for a role they approve: give --role",
				     who->user);

	role = find_role(config, spec->role, error);
	if (role == NULL)
		return JIT_ERR_NOT_FOUND;
	if (!jit_identity_approves(who, role))
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s may not issue grants of role %s: not in its approvers",
				     who->user, role->name);
	if (spec->user != NULL && strcmp(spec->user, who->user) == 0)
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s may not issue a grant to themselves: request it, and another approver of role %s decides",
				     who->user, role->name);
	return JIT_OK;
}
