/* The sweep over recorded sessions that jitctl revoke, reap and watch run:
 * forget sessions whose leader exited, end sessions whose grant is over,
 * and warn sessions whose grant ends soon. */
#include "jit/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/grant.h"
#include "jit/timeutil.h"

/* sshd opens the PAM session before it forks the user's process and
 * allocates a terminal, so a session due a warning right after it opened
 * may not have a terminal yet. Such a session is warned again at the next
 * sweep, for this long after it opened. */
#define WARN_TERMINAL_WAIT_MS 10000

typedef struct sweep_item {
	jit_session_record *record;
	jit_session_verdict verdict;
	jit_reason reason;
	bool claimed;               /* this sweep removed or marked the record */
	jit_session_ending *ending;
	jit_error error;
	bool failed;
} sweep_item;

typedef struct sweep_state {
	const jit_config *config;
	jit_session_sweep *sweep;
	jit_session_record *records;
	sweep_item *items;
	size_t count;
} sweep_state;

static void sweep_state_clear(sweep_state *state)
{
	for (size_t i = 0; i < state->count && state->items != NULL; i++)
		jit_session_ending_free(state->items[i].ending);
	free(state->items);
	jit_session_records_free(state->records, state->count);
}

static jit_err load_records(sweep_state *state, jit_error *error)
{
	jit_store *store = NULL;
	jit_err r;

	r = jit_store_open(state->config->store, JIT_STORE_READ, &store, error);
	if (r == JIT_OK)
		r = jit_store_load_sessions(store, state->sweep->grant_id,
					    JIT_MAX_SESSIONS, &state->records,
					    &state->count, error);
	jit_store_close(store);
	if (r != JIT_OK)
		return r;

	state->items = calloc(state->count > 0 ? state->count : 1,
			      sizeof(*state->items));
	if (state->items == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "sweeping sessions failed: out of memory");
	return JIT_OK;
}

static void note_due(jit_session_sweep *sweep, int64_t due_ms)
{
	if (sweep->next_due_ms == 0 || due_ms < sweep->next_due_ms)
		sweep->next_due_ms = due_ms;
}

/* Judges every record and counts the live ones with their next due time. */
static bool judge_records(sweep_state *state)
{
	jit_session_sweep *sweep = state->sweep;
	bool work = false;

	for (size_t i = 0; i < state->count; i++) {
		sweep_item *item = &state->items[i];
		const jit_session_record *record = &state->records[i];
		int64_t warn_ms = (record->not_after - sweep->warn_seconds) * 1000;

		item->record = &state->records[i];
		item->verdict = jit_session_judge(record,
						  jit_session_leader_alive(&record->key),
						  sweep->now_ms, sweep->warn_seconds,
						  &item->reason);
		if (item->verdict != JIT_SESSION_LIVE)
			work = true;
		if (item->verdict != JIT_SESSION_LIVE &&
		    item->verdict != JIT_SESSION_WARN)
			continue;

		sweep->live++;
		note_due(sweep, record->not_after * 1000);
		if (sweep->warn_seconds > 0 && item->verdict == JIT_SESSION_LIVE &&
		    (record->flags & JIT_SESSION_FLAG_WARNED) == 0)
			note_due(sweep, warn_ms);
	}
	return work;
}

/* Claims one record: removes it (to forget or end the session) or marks
 * it warned. JIT_ERR_NOT_FOUND means another sweep claimed it first. */
static jit_err claim(jit_store *store, sweep_item *item, jit_error *error)
{
	const jit_session_record *record = item->record;

	if (item->verdict == JIT_SESSION_WARN)
		return jit_store_set_session_flags(store, &record->key,
						   record->flags | JIT_SESSION_FLAG_WARNED,
						   error);
	return jit_store_delete_session(store, &record->key, error);
}

static jit_err claim_records(sweep_state *state, jit_error *error)
{
	jit_store *store = NULL;
	jit_err r;

	r = jit_store_open(state->config->store, JIT_STORE_WRITE, &store, error);
	for (size_t i = 0; r == JIT_OK && i < state->count; i++) {
		sweep_item *item = &state->items[i];
		jit_error local;

		if (item->verdict == JIT_SESSION_LIVE)
			continue;

		jit_error_clear(&local);
		r = claim(store, item, &local);
		item->claimed = r == JIT_OK;
		if (r == JIT_ERR_NOT_FOUND)
			r = JIT_OK;
		else if (r != JIT_OK)
			*error = local;
	}
	jit_store_close(store);
	return r;
}

static void report(const sweep_state *state, const sweep_item *item,
		   jit_session_action action,
		   const jit_session_end_result *result, bool told)
{
	jit_session_report rep = {
		.action = action,
		.record = item->record,
		.reason = item->reason,
		.result = result,
		.at_ms = jit_clock_now_ms(),
		.error = action == JIT_SESSION_FAILED ? &item->error : NULL,
		.told = told,
	};

	if (state->sweep->report != NULL)
		state->sweep->report(&rep, state->sweep->context);
}

/* Puts a record back after its session could not be ended, so that the
 * next sweep tries again. */
static void unclaim(const sweep_state *state, sweep_item *item)
{
	jit_error error;

	jit_error_clear(&error);
	if (jit_session_record_open(state->config, item->record, NULL,
				    &error) != JIT_OK)
		snprintf(item->error.message + strlen(item->error.message),
			 sizeof(item->error.message) - strlen(item->error.message),
			 "; putting its record back failed too: %s",
			 error.message);
}

static void end_sessions(sweep_state *state)
{
	jit_session_ending **endings;
	size_t n = 0;

	endings = calloc(state->count > 0 ? state->count : 1, sizeof(*endings));
	for (size_t i = 0; i < state->count; i++) {
		sweep_item *item = &state->items[i];

		if (item->verdict != JIT_SESSION_OVER || !item->claimed)
			continue;
		jit_error_clear(&item->error);
		if (endings == NULL) {
			jit_error_set(&item->error, JIT_ERR_NOMEM,
				      "ending a session failed: out of memory");
			item->failed = true;
		} else if (jit_session_end_start(item->record, &item->ending,
						 &item->error) != JIT_OK) {
			item->failed = true;
		} else {
			endings[n++] = item->ending;
		}
	}

	if (n > 0)
		jit_session_end_finish(endings, n, state->sweep->grace_ms);
	free(endings);
}

static void report_ended(sweep_state *state)
{
	for (size_t i = 0; i < state->count; i++) {
		sweep_item *item = &state->items[i];
		jit_session_end_result result;

		if (item->verdict != JIT_SESSION_OVER || !item->claimed)
			continue;

		jit_session_ending_result(item->ending, &result);
		if (!item->failed && result.survivors > 0) {
			jit_error_set(&item->error, JIT_ERR_IO,
				      "%zu processes of the session of leader pid %lu survived SIGKILL",
				      result.survivors,
				      (unsigned long)item->record->key.leader_pid);
			item->failed = true;
		}
		if (item->failed) {
			unclaim(state, item);
			report(state, item, JIT_SESSION_FAILED, &result, false);
		} else {
			report(state, item, JIT_SESSION_ENDED, &result, false);
		}
	}
}

/* Clears the warned mark this sweep set, so that the next sweep tries
 * again. Returns false when that failed, and the warning then stands as
 * given without a terminal. */
static bool unmark_warned(const sweep_state *state, const sweep_item *item)
{
	jit_store *store = NULL;
	jit_err r;

	r = jit_store_open(state->config->store, JIT_STORE_WRITE, &store, NULL);
	if (r == JIT_OK)
		r = jit_store_set_session_flags(store, &item->record->key,
						item->record->flags, NULL);
	jit_store_close(store);
	return r == JIT_OK;
}

static void warn_session(sweep_state *state, sweep_item *item)
{
	const jit_session_record *record = item->record;
	char id[JIT_GRANT_ID_HEX_LEN + 1], until[32], left[32], text[256];
	int64_t remaining = record->not_after - state->sweep->now_ms / 1000;
	jit_err r;

	jit_grant_id_format(record->key.grant_id, id);
	jit_time_format(record->not_after, until, sizeof(until));
	jit_duration_format(remaining > 0 ? remaining : 1, left, sizeof(left));
	snprintf(text, sizeof(text),
		 "\r\njit: grant %s ends at %s (in %s); this session will be closed then.\r\n",
		 id, until, left);

	jit_error_clear(&item->error);
	r = jit_session_tell(record, text, &item->error);
	if (r == JIT_ERR_NOT_FOUND &&
	    state->sweep->now_ms - record->opened_at_ms < WARN_TERMINAL_WAIT_MS &&
	    unmark_warned(state, item))
		return;

	if (r == JIT_OK || r == JIT_ERR_NOT_FOUND)
		report(state, item, JIT_SESSION_WARNED, NULL, r == JIT_OK);
	else
		report(state, item, JIT_SESSION_FAILED, NULL, false);
}

static void act_on_records(sweep_state *state)
{
	for (size_t i = 0; i < state->count; i++) {
		sweep_item *item = &state->items[i];

		if (item->claimed && item->verdict == JIT_SESSION_GONE)
			report(state, item, JIT_SESSION_FORGOTTEN, NULL, false);
	}

	end_sessions(state);
	report_ended(state);

	for (size_t i = 0; i < state->count; i++) {
		sweep_item *item = &state->items[i];

		if (item->claimed && item->verdict == JIT_SESSION_WARN)
			warn_session(state, item);
	}
}

jit_err jit_sessions_sweep(const jit_config *config, jit_session_sweep *sweep,
			   jit_error *error)
{
	sweep_state state = { .config = config, .sweep = sweep };
	jit_err r;

	if (config == NULL || sweep == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "sweeping sessions failed: invalid argument");
	sweep->live = 0;
	sweep->next_due_ms = 0;

	r = load_records(&state, error);
	if (r == JIT_OK && judge_records(&state)) {
		r = claim_records(&state, error);
		/* What was claimed before a failure is still acted on: its
		 * record is gone and no other sweep will see it. */
		act_on_records(&state);
	}

	sweep_state_clear(&state);
	return r;
}
