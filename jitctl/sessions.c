/* Ending sessions whose grant is over, for jitctl revoke, reap and watch:
 * runs the library's sweep and reports each session it acted on as a line
 * and an event. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "jitctl.h"

typedef struct session_context {
	const jitctl *ctl;
	const char *actor;
	bool print;
	size_t failed;
	size_t failed_events;
	jit_error last_error;
} session_context;

static const char *end_detail(const jit_session_report *report, char *out,
			      size_t out_len)
{
	const jit_session_end_result *result = report->result;

	snprintf(out, out_len,
		 "%zu process%s signalled, %zu still there after the grace period%s%s",
		 result->processes, result->processes == 1 ? "" : "es",
		 result->killed, result->logind_failed ? "; " : "",
		 result->logind_failed ? result->logind_error : "");
	return out;
}

static void emit_session_event(session_context *context,
			       const jit_session_report *report)
{
	const jit_session_record *record = report->record;
	char id[JIT_GRANT_ID_HEX_LEN + 1], detail[512];
	jit_event event = {
		.type = report->action == JIT_SESSION_ENDED ?
			JIT_EVENT_SESSION_ENDED : JIT_EVENT_GRANT_EXPIRING,
		.reason = report->reason,
		.grant_id = id,
		.user = record->user,
		.actor = context->actor,
		.service = record->service,
		.tty = record->tty,
		.rhost = record->rhost,
		.expires = record->not_after,
		.session_id = record->logind_session,
		.leader_pid = record->key.leader_pid,
	};

	jit_grant_id_format(record->key.grant_id, id);
	if (report->action == JIT_SESSION_ENDED) {
		event.detail = end_detail(report, detail, sizeof(detail));
		event.end_method = report->result->method;
		if (record->opened_at_ms > 0 && report->at_ms > record->opened_at_ms)
			event.duration_ms = report->at_ms - record->opened_at_ms;
	} else {
		event.detail = report->told ? "told on the session's terminal" :
			"the session has no terminal to tell";
	}

	/* The store is closed while the sweep reports, so the evidence
	 * chain can be opened here. */
	if (jit_chain_append_event(context->ctl->config->store, &event,
				   &context->last_error) != JIT_OK)
		context->failed_events++;
	else if (jit_event_emit(&event, &context->last_error) != JIT_OK)
		context->failed_events++;
}

static void print_session(const session_context *context,
			  const jit_session_report *report)
{
	const jit_session_record *record = report->record;
	char id[JIT_GRANT_ID_HEX_LEN + 1];

	jit_grant_id_format(record->key.grant_id, id);
	if (report->action == JIT_SESSION_ENDED && context->print)
		printf("ended session of %s through %s (grant %s, leader pid %lu): %s\n",
		       record->user != NULL ? record->user : "(unknown)",
		       record->service != NULL ? record->service : "(unknown)",
		       id, (unsigned long)record->key.leader_pid,
		       jit_reason_name(report->reason));
	else if (report->action == JIT_SESSION_FAILED)
		ctl_error(context->ctl, "session of grant %s with leader pid %lu: %s",
			  id, (unsigned long)record->key.leader_pid,
			  report->error->message);
}

/* Reports each session a sweep acted on. Sessions whose leader has exited
 * are forgotten without a word. */
static void on_session(const jit_session_report *report, void *data)
{
	session_context *context = data;

	switch (report->action) {
	case JIT_SESSION_FORGOTTEN:
		return;
	case JIT_SESSION_ENDED:
	case JIT_SESSION_WARNED:
		emit_session_event(context, report);
		break;
	case JIT_SESSION_FAILED:
		context->failed++;
		break;
	}
	print_session(context, report);
}

/* Ignoring SIGHUP matters when an administrator ends the very session
 * jitctl runs in (revoking their own grant over SSH): the hangup that the
 * session's processes get would otherwise stop jitctl between SIGHUP and
 * SIGKILL and leave the session half ended. */
static int sweep(const jitctl *ctl, session_sweep_options *options)
{
	session_context context = { .ctl = ctl, .print = options->print };
	jit_session_sweep sweep = {
		.grant_id = options->grant_id,
		.now_ms = options->now_ms,
		.grace_ms = JIT_SESSION_GRACE_MS,
		.warn_seconds = options->warn_seconds,
		.report = on_session,
		.context = &context,
	};
	char *actor = NULL;
	jit_error error;
	int r;

	options->next_due_ms = 0;
	r = ctl_invoking_user(ctl, &actor);
	if (r != CTL_EXIT_OK)
		return r;

	context.actor = actor;
	jit_error_clear(&context.last_error);
	jit_error_clear(&error);
	if (jit_sessions_sweep(ctl->config, &sweep, &error) != JIT_OK)
		r = ctl_lib_error(ctl, &error);
	options->next_due_ms = sweep.next_due_ms;

	if (context.failed > 0)
		r = CTL_EXIT_FAIL;
	if (context.failed_events > 0) {
		ctl_error(ctl, "%zu session events were not recorded (%s); check journald or syslog",
			  context.failed_events, context.last_error.message);
		r = CTL_EXIT_FAIL;
	}
	free(actor);
	return r;
}

int ctl_sweep_sessions(const jitctl *ctl, session_sweep_options *options)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, saved;
	int r;

	if (!options->hold_hangup)
		return sweep(ctl, options);

	sigemptyset(&ignore.sa_mask);
	sigaction(SIGHUP, &ignore, &saved);
	r = sweep(ctl, options);
	sigaction(SIGHUP, &saved, NULL);
	return r;
}
