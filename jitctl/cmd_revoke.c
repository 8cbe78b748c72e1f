/* jitctl revoke and reap: ending grants and the sessions they allowed, as
 * root. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

enum {
	OPT_REASON = CTL_OPT_FIRST,
	OPT_BATCH,
};

#define REAP_DEFAULT_BATCH 1000

/* Reads the user and role of a stored grant for the revocation event. The
 * signature is not checked, because a revocation is recorded whatever the
 * grant contains. */
static jit_grant *read_for_event(const jit_stored_grant *stored)
{
	jit_grant *grant = NULL;

	if (jit_grant_parse_unverified(stored->blob, stored->blob_len, &grant,
				       NULL) != JIT_OK)
		return NULL;
	return grant;
}

static void report_already_revoked(const jitctl *ctl, jit_store *store,
				   const uint8_t id[JIT_GRANT_ID_LEN],
				   const char *id_text)
{
	jit_revocation previous = { 0 };
	char when[32];

	if (jit_store_get_revocation(store, id, &previous, NULL) != JIT_OK) {
		ctl_error(ctl, "grant %s is already revoked", id_text);
		return;
	}

	output_time(previous.revoked_at, when, sizeof(when));
	ctl_error(ctl, "grant %s is already revoked (at %s by %s: %s)",
		  id_text, when, previous.actor, previous.reason);
	jit_revocation_clear(&previous);
}

/* Records the revocation. On success, *grant is set to the grant's fields
 * for the event, or NULL when they do not parse. */
static int record_revocation(const jitctl *ctl,
			     const uint8_t id[JIT_GRANT_ID_LEN],
			     const char *id_text,
			     const jit_revocation *revocation,
			     jit_grant **grant)
{
	jit_chain_grant_event evidence;
	jit_stored_grant stored = { 0 };
	jit_store *store = NULL;
	jit_error error;
	int r;

	*grant = NULL;

	r = ctl_store_open(ctl, JIT_STORE_WRITE, &store);
	if (r != CTL_EXIT_OK)
		return r;

	jit_error_clear(&error);
	if (jit_store_get_grant(store, id, &stored, &error) != JIT_OK) {
		if (error.code == JIT_ERR_NOT_FOUND)
			ctl_error(ctl, "no grant with id %s in %s; 'jitctl list --all' shows the stored ids",
				  id_text, ctl->config->store);
		else
			ctl_lib_error(ctl, &error);
		r = CTL_EXIT_FAIL;
		goto out;
	}

	*grant = read_for_event(&stored);
	if (*grant != NULL) {
		jit_chain_grant_event_init(&evidence,
					   jit_event_name(JIT_EVENT_GRANT_REVOKED),
					   *grant, revocation->actor);
		/* The grant's own reason is in its grant-issued record. */
		jit_chain_event_set_detail(&evidence.ev, "reason",
					   revocation->reason);
	}
	if (jit_store_revoke_with_evidence(store, id, revocation,
					   *grant != NULL ? &evidence.ev : NULL,
					   &error) != JIT_OK) {
		if (error.code == JIT_ERR_EXISTS)
			report_already_revoked(ctl, store, id, id_text);
		else if (error.code == JIT_ERR_NOT_FOUND)
			ctl_error(ctl, "no grant with id %s in %s; it may just have been removed by jitctl reap",
				  id_text, ctl->config->store);
		else
			ctl_lib_error(ctl, &error);
		r = CTL_EXIT_FAIL;
		jit_grant_free(*grant);
		*grant = NULL;
		goto out;
	}
out:
	jit_stored_grant_clear(&stored);
	jit_store_close(store);
	return r;
}

static int emit_revoked(const jitctl *ctl, const char *id_text,
			const jit_grant *grant,
			const jit_revocation *revocation)
{
	jit_event event = {
		.type = JIT_EVENT_GRANT_REVOKED,
		.reason = JIT_REASON_REVOKED,
		.grant_id = id_text,
		.request_id = grant != NULL ? grant->request_id : NULL,
		.user = grant != NULL ? grant->user : NULL,
		.actor = revocation->actor,
		.role = grant != NULL ? grant->role : NULL,
		.justification = revocation->reason,
		.expires = grant != NULL ? grant->not_after : 0,
	};
	jit_error error;

	jit_error_clear(&error);
	if (jit_event_emit(&event, &error) != JIT_OK) {
		ctl_error(ctl, "grant %s is revoked, but its grant-revoked event was not recorded: %s; check journald or syslog",
			  id_text, error.message);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static int revoke(const jitctl *ctl, const char *id_text, const char *reason)
{
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_revocation revocation = { 0 };
	session_sweep_options sweep = { .print = true, .hold_hangup = true };
	jit_grant *grant = NULL;
	char *actor = NULL;
	int r, ended;

	if (reason[0] == '\0') {
		ctl_error(ctl, "--reason is empty; say why the grant is revoked");
		return CTL_EXIT_FAIL;
	}

	r = ctl_parse_grant_id(ctl, id_text, id);
	if (r == CTL_EXIT_OK)
		r = ctl_invoking_user(ctl, &actor);
	if (r != CTL_EXIT_OK)
		return r;

	revocation.revoked_at = ctl->now_ms / 1000;
	revocation.actor = actor;
	revocation.reason = (char *)reason;

	r = record_revocation(ctl, id, id_text, &revocation, &grant);
	if (r != CTL_EXIT_OK)
		goto out;

	printf("revoked grant %s", id_text);
	if (grant != NULL)
		printf(" (user %s, role %s)", grant->user, grant->role);
	putchar('\n');
	r = emit_revoked(ctl, id_text, grant, &revocation);

	/* The revocation is stored, so the grant's sessions end now,
	 * whatever happened to its event. */
	sweep.grant_id = id;
	sweep.now_ms = jit_clock_now_ms();
	ended = ctl_sweep_sessions(ctl, &sweep);
	if (r == CTL_EXIT_OK)
		r = ended;
out:
	jit_grant_free(grant);
	free(actor);
	return r;
}

int cmd_revoke(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "reason", required_argument, NULL, OPT_REASON },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = NULL;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == OPT_REASON) {
			reason = optarg;
			continue;
		}
		r = ctl_common_option(ctl, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, "missing grant ID");
	if (optind + 1 < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind + 1]);
	if (reason == NULL)
		return ctl_usage_error(ctl, "missing --reason TEXT");

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;
	return revoke(ctl, argv[optind], reason);
}

typedef struct reap_context {
	const char *actor;
	size_t failed_events;
	jit_error last_error;
} reap_context;

/* Runs after each batch has committed, so an event is only sent for a
 * grant that is really gone. */
static void on_removed(const uint8_t id[JIT_GRANT_ID_LEN], const char *user,
		       int64_t not_after, void *data)
{
	reap_context *context = data;
	char id_text[JIT_GRANT_ID_HEX_LEN + 1];
	jit_event event = {
		.type = JIT_EVENT_GRANT_REMOVED,
		.reason = JIT_REASON_EXPIRED,
		.grant_id = id_text,
		.user = user,
		.actor = context->actor,
		.expires = not_after,
	};

	jit_grant_id_format(id, id_text);
	if (jit_event_emit(&event, &context->last_error) != JIT_OK)
		context->failed_events++;
}

static int parse_batch(const jitctl *ctl, const char *text, size_t *batch)
{
	unsigned long long value;
	char *end = NULL;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 ||
	    value == 0 || value > SIZE_MAX) {
		ctl_error(ctl, "invalid --batch \"%s\": give a whole number of grants, 1 or more",
			  text);
		return CTL_EXIT_FAIL;
	}
	*batch = (size_t)value;
	return CTL_EXIT_OK;
}

int ctl_reap_grants(const jitctl *ctl, size_t batch, int64_t now_ms,
		    size_t *removed, bool *reaped)
{
	reap_context context = { 0 };
	jit_store *store = NULL;
	char *actor = NULL;
	jit_error error;
	int r;

	*removed = 0;
	*reaped = false;
	r = ctl_invoking_user(ctl, &actor);
	if (r == CTL_EXIT_OK)
		r = ctl_store_open(ctl, JIT_STORE_WRITE, &store);
	if (r != CTL_EXIT_OK)
		goto out;

	*reaped = true;
	context.actor = actor;
	jit_error_clear(&context.last_error);
	jit_error_clear(&error);
	if (jit_store_reap(store, now_ms / 1000, batch, on_removed, &context,
			   removed, &error) != JIT_OK)
		r = ctl_lib_error(ctl, &error);
	else if (ctl->config->evidence_retention > 0 &&
		 jit_store_chain_prune(store, now_ms -
				       ctl->config->evidence_retention * 1000,
				       "reap", NULL, &error) != JIT_OK)
		r = ctl_lib_error(ctl, &error);
	else
		r = ctl_chain_checkpoint(ctl, store, false);

	if (context.failed_events > 0) {
		ctl_error(ctl, "%zu grant-removed events were not recorded (%s); check journald or syslog",
			  context.failed_events, context.last_error.message);
		r = CTL_EXIT_FAIL;
	}
out:
	jit_store_close(store);
	free(actor);
	return r;
}

/* Ends the sessions of grants that are over first, while their grants are
 * still stored to say why, then removes the expired grants. */
static int reap(const jitctl *ctl, size_t batch)
{
	session_sweep_options sweep = {
		.now_ms = ctl->now_ms,
		.warn_seconds = JIT_SESSION_WARN_SECONDS,
		.print = true,
		.hold_hangup = true,
	};
	size_t removed = 0;
	bool reaped;
	int r, ended;

	ended = ctl_sweep_sessions(ctl, &sweep);
	r = ctl_reap_grants(ctl, batch, ctl->now_ms, &removed, &reaped);

	/* Batches that committed before a failure stay removed: report them. */
	if (reaped)
		printf("removed %zu expired grant%s\n", removed,
		       removed == 1 ? "" : "s");
	return r != CTL_EXIT_OK ? r : ended;
}

int cmd_reap(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "batch", required_argument, NULL, OPT_BATCH },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *batch_text = NULL;
	size_t batch = REAP_DEFAULT_BATCH;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == OPT_BATCH) {
			batch_text = optarg;
			continue;
		}
		r = ctl_common_option(ctl, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);

	r = ctl_prepare(ctl);
	if (r == CTL_EXIT_OK && batch_text != NULL)
		r = parse_batch(ctl, batch_text, &batch);
	if (r != CTL_EXIT_OK)
		return r;
	return reap(ctl, batch);
}
