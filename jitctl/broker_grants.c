/* The broker's operations on grants: issuing one as an approver,
 * break-glass, the caller's own grants, a check of the caller's own access,
 * and reviews of break-glass grants. */
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

json_object *broker_grant_json(json_builder *b, const jit_grant *grant)
{
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	json_object *object = json_object_new_object();

	if (object == NULL)
		return NULL;

	jit_grant_id_format(grant->id, id);
	json_put(b, object, "id", json_object_new_string(id));
	json_put(b, object, "user", json_object_new_string(grant->user));
	json_put(b, object, "role", json_object_new_string(grant->role));
	json_put(b, object, "not_before", broker_time_json(grant->not_before));
	json_put(b, object, "not_after", broker_time_json(grant->not_after));
	json_put(b, object, "break_glass", json_object_new_boolean(grant->break_glass));
	json_put(b, object, "request_id", json_object_new_string(grant->request_id));
	return object;
}

void broker_emit_issued(broker_call *call, const jit_grant *grant,
			const char *id)
{
	char *runas = output_join(&grant->runas_users, ",");
	char *services = output_join(&grant->services, ",");
	char *commands = output_commands_text(grant, ", ");
	jit_event ev = {
		.type = JIT_EVENT_GRANT_ISSUED,
		.reason = JIT_REASON_ALLOW,
		.grant_id = id,
		.request_id = grant->request_id,
		.user = grant->user,
		.actor = call->caller->user,
		.role = grant->role,
		.justification = grant->reason,
		.service = services,
		.command = commands,
		.runas = runas,
		.expires = grant->not_after,
	};

	broker_emit(call, &ev);
	free(runas);
	free(services);
	free(commands);
}

static jit_err op_grant(broker_call *call)
{
	const jit_broker_message *m = call->message;
	jit_grant_spec spec = {
		.user = m->user,
		.role = m->role,
		.duration = m->duration,
		.start = m->start,
		.reason = m->reason,
		.runas = &m->runas,
		.commands = &m->commands,
		.services = &m->services,
		.hosts = &m->hosts,
	};
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_grant *grant = NULL;
	jit_err r;

	r = jit_grant_issue_stored(call->ctl->config, call->caller, &spec,
				   call->now, &grant, &call->error);
	if (r != JIT_OK)
		return r;

	jit_grant_id_format(grant->id, id);
	broker_emit_issued(call, grant, id);
	json_put(&call->json, call->response, "grant",
		 broker_grant_json(&call->json, grant));
	jit_grant_free(grant);
	return JIT_OK;
}

static jit_err op_break_glass(broker_call *call)
{
	const jit_broker_message *m = call->message;
	jit_break_glass_spec spec = {
		.role = m->role,
		.duration = m->duration,
		.reason = m->reason,
	};
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_grant *grant = NULL;
	jit_event ev;
	jit_err r;

	r = jit_break_glass_stored(call->ctl->config, call->caller, &spec,
				   call->now, &grant, &call->error);
	if (r != JIT_OK)
		return r;

	jit_grant_id_format(grant->id, id);
	broker_emit_issued(call, grant, id);
	ev = (jit_event){
		.type = JIT_EVENT_BREAK_GLASS_USED,
		.reason = JIT_REASON_ALLOW,
		.grant_id = id,
		.user = grant->user,
		.actor = call->caller->user,
		.role = grant->role,
		.justification = grant->reason,
		.expires = grant->not_after,
	};
	broker_emit(call, &ev);

	json_put(&call->json, call->response, "grant",
		 broker_grant_json(&call->json, grant));
	jit_grant_free(grant);
	return JIT_OK;
}

/* True when a stored grant belongs in a listing without "all": not
 * revoked and not expired. Grants that do not parse are left to the
 * client, which shows them as invalid with "all" only. */
static bool listed(const jit_stored_grant *stored, int64_t now)
{
	jit_grant *grant = NULL;
	bool keep;

	if (stored->revoked)
		return false;
	if (jit_grant_parse_unverified(stored->blob, stored->blob_len, &grant,
				       NULL) != JIT_OK)
		return false;
	keep = grant->not_after > now;
	jit_grant_free(grant);
	return keep;
}

static json_object *stored_grant_json(json_builder *b, jit_store *store,
				      const jit_stored_grant *stored)
{
	json_object *object = json_object_new_object();
	jit_review review = { 0 };
	char *token = NULL;
	jit_error error;

	if (object == NULL)
		return NULL;

	jit_error_clear(&error);
	if (jit_token_encode(stored->blob, stored->blob_len, &token, &error) != JIT_OK)
		b->failed = true;
	else
		json_put(b, object, "token", json_object_new_string(token));
	json_put(b, object, "revoked", json_object_new_boolean(stored->revoked));
	json_put(b, object, "reviewed", json_object_new_boolean(
		jit_store_get_review(store, stored->id, &review, NULL) == JIT_OK));
	jit_review_clear(&review);
	free(token);
	return object;
}

static jit_err op_list(broker_call *call)
{
	jit_stored_grant *stored = NULL;
	jit_store *store = NULL;
	json_object *array;
	size_t count = 0;
	jit_err r;

	r = jit_store_open(call->ctl->config->store, JIT_STORE_READ, &store,
			   &call->error);
	if (r == JIT_OK)
		r = jit_store_load_user(store, call->caller->user,
					JIT_MAX_GRANTS_PER_USER, &stored, &count,
					&call->error);
	if (r != JIT_OK)
		goto out;

	array = json_object_new_array();
	for (size_t i = 0; array != NULL && i < count; i++)
		if (call->message->all || listed(&stored[i], call->now))
			json_append(&call->json, array,
				    stored_grant_json(&call->json, store, &stored[i]));
	json_put(&call->json, call->response, "grants", array);
out:
	jit_store_close(store);
	jit_stored_grants_free(stored, count);
	return r;
}

/* Decides the caller's own access, as sudo_jit or pam_jit would. */
static jit_err op_check(broker_call *call)
{
	const jit_broker_message *m = call->message;
	const jitctl *ctl = call->ctl;
	jit_access access = {
		.user = call->caller->user,
		.host = ctl->config->hostname,
	};
	jit_decision decision;
	char *path = NULL;
	jit_err r;

	if (m->service != NULL) {
		access.kind = JIT_ACCESS_SERVICE;
		access.service = m->service;
	} else {
		access.kind = JIT_ACCESS_COMMAND;
		access.shell = m->shell;
		access.runas_user = m->runas_user;
		access.runas_group = m->group;
	}
	if (m->command.count > 0) {
		r = jit_command_resolve(m->command.items[0], ctl->config->secure_path,
					&path, &call->error);
		if (r != JIT_OK)
			return r;
		access.command = path;
		access.argc = m->command.count - 1;
		access.argv = m->command.items + 1;
	}

	memset(&decision, 0, sizeof(decision));
	jit_check(ctl->config, &access, ctl->now_ms, &decision);
	json_put(&call->json, call->response, "check",
		 check_decision_json(&access, &decision));
	free(path);
	return JIT_OK;
}

static jit_err op_review(broker_call *call)
{
	const jit_broker_message *m = call->message;
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	uint8_t grant_id[JIT_GRANT_ID_LEN];
	json_object *review;
	jit_grant *grant = NULL;
	jit_event ev;
	jit_err r;

	r = jit_grant_id_parse(m->id, grant_id, &call->error);
	if (r == JIT_OK)
		r = jit_review_stored(call->ctl->config, call->caller, grant_id,
				      m->note, call->now, &grant, &call->error);
	if (r != JIT_OK)
		return r;

	jit_grant_id_format(grant_id, id);
	ev = (jit_event){
		.type = JIT_EVENT_GRANT_REVIEWED,
		.reason = JIT_REASON_ALLOW,
		.detail = m->note,
		.grant_id = id,
		.user = grant->user,
		.actor = call->caller->user,
		.role = grant->role,
		.justification = grant->reason,
	};
	broker_emit(call, &ev);

	review = json_object_new_object();
	if (review != NULL) {
		json_put(&call->json, review, "grant_id", json_object_new_string(id));
		json_put(&call->json, review, "reviewer",
			 json_object_new_string(call->caller->user));
		json_put(&call->json, review, "note", json_object_new_string(m->note));
		json_put(&call->json, review, "reviewed_at", broker_time_json(call->now));
	}
	json_put(&call->json, call->response, "review", review);
	jit_grant_free(grant);
	return JIT_OK;
}

jit_err broker_grant_operation(broker_call *call)
{
	switch (call->message->op) {
	case JIT_BROKER_GRANT:
		return op_grant(call);
	case JIT_BROKER_BREAK_GLASS:
		return op_break_glass(call);
	case JIT_BROKER_LIST:
		return op_list(call);
	case JIT_BROKER_CHECK:
		return op_check(call);
	case JIT_BROKER_REVIEW:
		return op_review(call);
	default:
		return jit_error_set(&call->error, JIT_ERR_INVALID,
				     "operation %s is not handled",
				     jit_broker_op_name(call->message->op));
	}
}
