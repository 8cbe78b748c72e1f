/* The broker's operations on requests: one message in, one response out.
 * jitctl broker runs them for the peer of a socket; jitctl run by root
 * runs them itself, so both paths apply the same rules and emit the same
 * events. Grants, listings, checks and reviews are in broker_grants.c. */
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

json_object *broker_error_response(jit_err code, const char *message)
{
	json_object *response = json_object_new_object();
	json_builder b = { .failed = false };

	if (response == NULL)
		return NULL;
	json_put(&b, response, "v", json_object_new_int(JIT_BROKER_VERSION));
	json_put(&b, response, "ok", json_object_new_boolean(false));
	json_put(&b, response, "error", json_object_new_string(
		message[0] != '\0' ? message : jit_err_name(code)));
	json_put(&b, response, "code", json_object_new_string(jit_err_name(code)));
	if (b.failed) {
		json_object_put(response);
		return NULL;
	}
	return response;
}

/* Emits ev to journald and keeps it for the notify command. A failure to
 * record it becomes a warning in the response: the change is made, and the
 * client must learn that its event is missing. */
void broker_emit(broker_call *call, const jit_event *ev)
{
	jit_error error;

	jit_error_clear(&error);
	if (jit_event_emit(ev, &error) != JIT_OK) {
		json_object *warnings = NULL;
		char text[JIT_ERROR_MESSAGE_MAX + 64];

		snprintf(text, sizeof(text), "the %s event was not recorded: %s",
			 jit_event_name(ev->type), error.message);
		if (!json_object_object_get_ex(call->response, "warnings", &warnings)) {
			warnings = json_object_new_array();
			json_put(&call->json, call->response, "warnings", warnings);
		}
		if (warnings != NULL)
			json_append(&call->json, warnings, json_object_new_string(text));
	}
	notify_record(call->events, call->ctl->config, ev);
}

json_object *broker_time_json(int64_t t)
{
	char text[32];

	if (t == 0)
		return NULL;
	output_time(t, text, sizeof(text));
	return json_object_new_string(text);
}

static void put_time(json_builder *b, json_object *object, const char *key,
		     int64_t t)
{
	if (t == 0)
		json_put_null(b, object, key);
	else
		json_put(b, object, key, broker_time_json(t));
}

static json_object *approvals_json(json_builder *b, const jit_request *request)
{
	json_object *array = json_object_new_array();

	for (size_t i = 0; array != NULL && i < request->approval_count; i++) {
		const jit_approval *approval = &request->approvals[i];
		json_object *item = json_object_new_object();

		if (item == NULL) {
			b->failed = true;
			break;
		}
		json_put(b, item, "approver", json_object_new_string(approval->approver));
		json_put(b, item, "at", broker_time_json(approval->at));
		json_put(b, item, "note", json_object_new_string(approval->note));
		json_append(b, array, item);
	}
	return array;
}

json_object *broker_request_json(json_builder *b, const jit_config *config,
				 const jit_request *request)
{
	char id[JIT_REQUEST_ID_HEX_LEN + 1], duration[32];
	json_object *object = json_object_new_object();

	if (object == NULL)
		return NULL;

	jit_request_id_format(request->id, id);
	jit_duration_format(request->duration, duration, sizeof(duration));
	json_put(b, object, "id", json_object_new_string(id));
	json_put(b, object, "state", json_object_new_string(
		jit_request_state_name(request->state)));
	json_put(b, object, "role", json_object_new_string(request->role));
	json_put(b, object, "requester", json_object_new_string(request->requester));
	json_put(b, object, "reason", json_object_new_string(request->reason));
	json_put(b, object, "duration", json_object_new_string(duration));
	put_time(b, object, "start", request->start);
	put_time(b, object, "created_at", request->created_at);
	put_time(b, object, "expires_at", request->expires_at);
	put_time(b, object, "decided_at", request->decided_at);
	json_put(b, object, "decided_by", json_object_new_string(request->decided_by));
	json_put(b, object, "note", json_object_new_string(request->note));
	json_put(b, object, "approvals", approvals_json(b, request));
	json_put(b, object, "approvals_needed", json_object_new_int(
		(int32_t)jit_request_approvals_needed(config, request)));
	if (request->has_grant) {
		jit_grant_id_format(request->grant_id, id);
		json_put(b, object, "grant_id", json_object_new_string(id));
	} else {
		json_put_null(b, object, "grant_id");
	}
	return object;
}

/* Fills the fields every request event carries. */
static jit_event request_event(jit_event_type type, const jit_request *request,
			       const char *id, const char *actor)
{
	jit_event ev = {
		.type = type,
		.reason = JIT_REASON_ALLOW,
		.request_id = id,
		.user = request->requester,
		.actor = actor,
		.role = request->role,
		.justification = request->reason,
	};

	return ev;
}

/* Marks expired requests before any operation, so nobody acts on a
 * request past its time and each expiry is reported once. */
static void broker_sweep_requests(broker_call *call)
{
	jit_request *expired = NULL;
	size_t count = 0;
	jit_error error;

	jit_error_clear(&error);
	if (jit_requests_sweep_stored(call->ctl->config, call->now, &expired,
				      &count, &error) != JIT_OK)
		return;    /* the operation itself reports what is wrong */

	for (size_t i = 0; i < count; i++) {
		char id[JIT_REQUEST_ID_HEX_LEN + 1];
		jit_event ev;

		jit_request_id_format(expired[i].id, id);
		ev = request_event(JIT_EVENT_REQUEST_EXPIRED, &expired[i], id, NULL);
		broker_emit(call, &ev);
	}
	jit_requests_free(expired, count);
}

static jit_err op_request(broker_call *call)
{
	const jit_broker_message *m = call->message;
	jit_request_spec spec = {
		.role = m->role,
		.duration = m->duration,
		.reason = m->reason,
		.start = m->start,
	};
	char id[JIT_REQUEST_ID_HEX_LEN + 1], detail[128], duration[32], until[32];
	jit_request request = { 0 };
	jit_event ev;
	jit_err r;

	r = jit_request_submit_stored(call->ctl->config, call->caller, &spec,
				      call->now, &request, &call->error);
	if (r != JIT_OK)
		return r;

	jit_request_id_format(request.id, id);
	jit_duration_format(request.duration, duration, sizeof(duration));
	output_time(request.expires_at, until, sizeof(until));
	snprintf(detail, sizeof(detail), "for %s; undecided, it expires at %s",
		 duration, until);
	ev = request_event(JIT_EVENT_REQUEST_CREATED, &request, id,
			   call->caller->user);
	ev.detail = detail;
	broker_emit(call, &ev);

	json_put(&call->json, call->response, "request",
		 broker_request_json(&call->json, call->ctl->config, &request));
	jit_request_clear(&request);
	return JIT_OK;
}

static jit_err op_requests(broker_call *call)
{
	jit_request *requests = NULL;
	json_object *array;
	size_t count = 0;
	jit_err r;

	r = jit_requests_list_stored(call->ctl->config, call->caller,
				     call->message->all, &requests, &count,
				     &call->error);
	if (r != JIT_OK)
		return r;

	array = json_object_new_array();
	for (size_t i = 0; array != NULL && i < count; i++)
		json_append(&call->json, array,
			    broker_request_json(&call->json, call->ctl->config,
						&requests[i]));
	json_put(&call->json, call->response, "requests", array);
	jit_requests_free(requests, count);
	return JIT_OK;
}

static void emit_approval(broker_call *call, const jit_request_outcome *o,
			  const char *id)
{
	char detail[64], grant_id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_event ev;

	snprintf(detail, sizeof(detail), "approval %zu of %u",
		 o->request.approval_count, o->approvals_needed);
	ev = request_event(JIT_EVENT_REQUEST_APPROVED, &o->request, id,
			   call->caller->user);
	ev.detail = detail;
	if (o->grant != NULL) {
		jit_grant_id_format(o->grant->id, grant_id);
		ev.grant_id = grant_id;
	}
	broker_emit(call, &ev);

	if (o->grant != NULL)
		broker_emit_issued(call, o->grant, grant_id);
}

typedef jit_err (*decide_fn)(const jit_config *config, const jit_identity *who,
			     const uint8_t id[JIT_REQUEST_ID_LEN],
			     const char *note, int64_t now,
			     jit_request_outcome *outcome, jit_error *error);

static jit_err op_decide(broker_call *call)
{
	static const decide_fn deciders[JIT_BROKER_OP_COUNT] = {
		[JIT_BROKER_APPROVE] = jit_request_approve_stored,
		[JIT_BROKER_DENY] = jit_request_deny_stored,
		[JIT_BROKER_CANCEL] = jit_request_cancel_stored,
	};
	const jit_broker_message *m = call->message;
	char id[JIT_REQUEST_ID_HEX_LEN + 1];
	jit_request_outcome outcome = { 0 };
	uint8_t request_id[JIT_REQUEST_ID_LEN];
	jit_event ev;
	jit_err r;

	r = jit_request_id_parse(m->id, request_id, &call->error);
	if (r == JIT_OK)
		r = deciders[m->op](call->ctl->config, call->caller, request_id,
				    m->reason, call->now, &outcome, &call->error);
	if (r != JIT_OK)
		return r;

	jit_request_id_format(request_id, id);
	if (m->op == JIT_BROKER_APPROVE) {
		emit_approval(call, &outcome, id);
	} else {
		ev = request_event(m->op == JIT_BROKER_DENY ? JIT_EVENT_REQUEST_DENIED :
				   JIT_EVENT_REQUEST_CANCELLED, &outcome.request,
				   id, call->caller->user);
		ev.detail = outcome.request.note;
		broker_emit(call, &ev);
	}

	json_put(&call->json, call->response, "request",
		 broker_request_json(&call->json, call->ctl->config,
				     &outcome.request));
	if (outcome.grant != NULL)
		json_put(&call->json, call->response, "grant",
			 broker_grant_json(&call->json, outcome.grant));
	jit_request_outcome_clear(&outcome);
	return JIT_OK;
}

static jit_err run_operation(broker_call *call)
{
	switch (call->message->op) {
	case JIT_BROKER_REQUEST:
		return op_request(call);
	case JIT_BROKER_REQUESTS:
		return op_requests(call);
	case JIT_BROKER_APPROVE:
	case JIT_BROKER_DENY:
	case JIT_BROKER_CANCEL:
		return op_decide(call);
	default:
		return broker_grant_operation(call);
	}
}

json_object *broker_response(const jitctl *ctl, const jit_identity *caller,
			   const char *text, size_t len, broker_events *events)
{
	jit_broker_message message = { 0 };
	broker_call call = {
		.ctl = ctl,
		.caller = caller,
		.message = &message,
		.events = events,
		.now = ctl->now_ms / 1000,
	};
	jit_err r;

	jit_error_clear(&call.error);
	r = jit_broker_parse(text, len, &message, &call.error);
	if (r != JIT_OK)
		return broker_error_response(r, call.error.message);

	call.response = json_object_new_object();
	if (call.response == NULL) {
		jit_broker_message_clear(&message);
		return broker_error_response(JIT_ERR_NOMEM, "out of memory");
	}
	json_put(&call.json, call.response, "v", json_object_new_int(JIT_BROKER_VERSION));
	json_put(&call.json, call.response, "ok", json_object_new_boolean(true));

	broker_sweep_requests(&call);
	r = run_operation(&call);
	jit_broker_message_clear(&message);

	if (r == JIT_OK && !call.json.failed)
		return call.response;
	json_object_put(call.response);
	if (r == JIT_OK)
		return broker_error_response(JIT_ERR_NOMEM,
					   "out of memory while writing the response");
	return broker_error_response(r, call.error.message);
}
