/* Use events (sudo and login decisions, PAM sessions) in the evidence
 * chain. The front ends call this after the decision, next to the journal
 * event. */
#include "jit/chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void add(jit_chain_event *ev, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	(void)jit_chain_event_set_detail(ev, key, value);
}

static bool is_session_event(jit_event_type type)
{
	return type == JIT_EVENT_SESSION_OPENED ||
	       type == JIT_EVENT_SESSION_CLOSED ||
	       type == JIT_EVENT_SESSION_ENDED;
}

jit_err jit_chain_append_event(const char *store_dir, const jit_event *ev,
			       jit_error *error)
{
	jit_chain_event chain = { 0 };
	jit_store *store = NULL;
	char duration[24] = "";
	jit_err r;

	if (store_dir == NULL || ev == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "recording an event in the evidence chain failed: invalid argument");

	chain.type = jit_event_name(ev->type);
	chain.grant_id = ev->grant_id;
	chain.request_id = ev->request_id;
	chain.user = ev->user;
	chain.actor = ev->actor;
	if (ev->type == JIT_EVENT_ACCESS_DENIED)
		add(&chain, "deny_reason", jit_reason_name(ev->reason));
	if (!is_session_event(ev->type)) {
		add(&chain, "detail", ev->detail);
		add(&chain, "command", ev->command);
		add(&chain, "runas", ev->runas);
	}
	add(&chain, "role", ev->role);
	add(&chain, "service", ev->service);
	add(&chain, "tty", ev->tty);
	add(&chain, "rhost", ev->rhost);
	if (ev->type == JIT_EVENT_SESSION_ENDED)
		add(&chain, "end_reason", jit_reason_name(ev->reason));
	if (is_session_event(ev->type)) {
		if (ev->duration_ms > 0)
			snprintf(duration, sizeof(duration), "%" PRId64,
				 ev->duration_ms);
		add(&chain, "session_id", ev->session_id);
		add(&chain, "end_method", ev->end_method);
		add(&chain, "duration_ms", duration);
	}

	r = jit_store_open(store_dir, JIT_STORE_WRITE, &store, error);
	if (r == JIT_OK)
		r = jit_store_chain_append(store, &chain, error);
	jit_store_close(store);
	return r;
}
