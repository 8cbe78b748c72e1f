/* Use events (sudo and login decisions, PAM sessions) in the evidence
 * chain. The front ends record them after the decision, next to the
 * journal event, or with the session record the use opens. */
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

void jit_chain_use_event_init(jit_chain_use_event *out, const jit_event *ev)
{
	jit_chain_event *chain = &out->ev;

	memset(out, 0, sizeof(*out));
	chain->type = jit_event_name(ev->type);
	chain->grant_id = ev->grant_id;
	chain->request_id = ev->request_id;
	chain->user = ev->user;
	chain->actor = ev->actor;
	if (ev->type == JIT_EVENT_ACCESS_DENIED)
		add(chain, "deny_reason", jit_reason_name(ev->reason));
	if (!is_session_event(ev->type)) {
		add(chain, "detail", ev->detail);
		add(chain, "command", ev->command);
		add(chain, "runas", ev->runas);
	}
	add(chain, "role", ev->role);
	add(chain, "service", ev->service);
	add(chain, "tty", ev->tty);
	add(chain, "rhost", ev->rhost);
	if (ev->type == JIT_EVENT_SESSION_ENDED)
		add(chain, "end_reason", jit_reason_name(ev->reason));
	if (is_session_event(ev->type)) {
		if (ev->duration_ms > 0)
			snprintf(out->duration_ms, sizeof(out->duration_ms),
				 "%" PRId64, ev->duration_ms);
		add(chain, "session_id", ev->session_id);
		add(chain, "end_method", ev->end_method);
		add(chain, "duration_ms", out->duration_ms);
	}
}

jit_err jit_chain_append_event(const char *store_dir, const jit_event *ev,
			       jit_error *error)
{
	jit_chain_use_event chain;
	jit_store *store = NULL;
	jit_err r;

	if (store_dir == NULL || ev == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "recording an event in the evidence chain failed: invalid argument");

	jit_chain_use_event_init(&chain, ev);
	r = jit_store_open(store_dir, JIT_STORE_WRITE, &store, error);
	if (r == JIT_OK)
		r = jit_store_chain_append(store, &chain.ev, error);
	jit_store_close(store);
	return r;
}
