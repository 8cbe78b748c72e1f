/* pam_jit's session phase: decide again, record the session under its
 * grant, export the grant into the session's environment, and report the
 * session's opening and closing as events. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_jit.h"

/* The PAM data entry that carries an open session's key from open to
 * close. A forked child inherits it; its cleanup only frees memory. */
#define SESSION_DATA "pam_jit_session"

typedef struct session_data {
	jit_session_key key;
	int64_t opened_at_ms;
	int64_t not_after;
	char logind_session[64];
} session_data;

static void free_session_data(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	free(data);
}

/* Fills the record for the allowed session: the grant from the decision,
 * the PAM items, and this process as the session's leader. */
static jit_err build_record(const account_check *check,
			    jit_session_record *record, jit_error *error)
{
	const login_items *login = &check->login;
	jit_err r;

	memcpy(record->key.grant_id, check->decision.grant_id,
	       JIT_GRANT_ID_LEN);
	record->opened_at_ms = jit_clock_now_ms();
	record->not_after = check->decision.not_after;

	r = jit_session_describe_leader(getpid(), record, error);
	if (r != JIT_OK)
		return r;

	record->user = strdup(login->user);
	record->service = strdup(login->service);
	record->rhost = strdup(login->rhost != NULL ? login->rhost : "");
	record->tty = strdup(login->tty != NULL ? login->tty : "");
	if (record->user == NULL || record->service == NULL ||
	    record->rhost == NULL || record->tty == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "recording the session failed: out of memory");
	return JIT_OK;
}

static int put_env(pam_handle_t *pamh, const char *name, const char *value)
{
	char item[128];

	snprintf(item, sizeof(item), "%s=%s", name, value);
	return pam_putenv(pamh, item);
}

/* Exports the grant and keeps the session's key for the close. */
static int export_session(pam_handle_t *pamh,
			  const jit_session_record *record)
{
	char id[JIT_GRANT_ID_HEX_LEN + 1], expires[32];
	session_data *data;
	int rc;

	jit_grant_id_format(record->key.grant_id, id);
	jit_time_format(record->not_after, expires, sizeof(expires));
	rc = put_env(pamh, "JIT_GRANT_ID", id);
	if (rc == PAM_SUCCESS)
		rc = put_env(pamh, "JIT_EXPIRES", expires);
	if (rc != PAM_SUCCESS)
		return rc;

	data = calloc(1, sizeof(*data));
	if (data == NULL)
		return PAM_BUF_ERR;
	data->key = record->key;
	data->opened_at_ms = record->opened_at_ms;
	data->not_after = record->not_after;
	snprintf(data->logind_session, sizeof(data->logind_session), "%s",
		 record->logind_session);

	rc = pam_set_data(pamh, SESSION_DATA, data, free_session_data);
	if (rc != PAM_SUCCESS)
		free(data);
	return rc;
}

/* The session-opened event; id receives the grant id it points to. */
static void opened_event(const account_check *check,
			 const jit_session_record *record,
			 char id[JIT_GRANT_ID_HEX_LEN + 1], jit_event *ev)
{
	jit_grant_id_format(record->key.grant_id, id);
	*ev = (jit_event){
		.type = JIT_EVENT_SESSION_OPENED,
		.reason = JIT_REASON_ALLOW,
		.grant_id = id,
		.user = check->login.user,
		.actor = check->login.user,
		.role = check->decision.role[0] != '\0' ? check->decision.role : NULL,
		.service = check->login.service,
		.tty = check->login.tty,
		.rhost = check->login.rhost,
		.expires = record->not_after,
		.session_id = record->logind_session,
		.leader_pid = record->key.leader_pid,
	};
}

/* Records, exports and reports an allowed session. The session record and
 * the evidence of its opening are written in one transaction. Any failure
 * removes the record again and turns the allow into a denial: a session
 * that cannot be ended with its grant, or that leaves no event, must not
 * open. */
static void start_session(pam_handle_t *pamh, account_check *check)
{
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_session_record record = { 0 };
	bool recorded = false, opened = false;
	jit_error error;
	jit_event ev;
	int rc;

	jit_error_clear(&error);
	if (build_record(check, &record, &error) == JIT_OK) {
		rc = export_session(pamh, &record);
		if (rc != PAM_SUCCESS) {
			check_fail(check, OUTCOME_NO_MEMORY,
				   JIT_REASON_INTERNAL_ERROR,
				   "exporting the grant to the session failed: %s",
				   pam_strerror(pamh, rc));
			goto out;
		}
		opened_event(check, &record, id, &ev);
		recorded = jit_session_record_open(check->config, &record, &ev,
						   &error) == JIT_OK;
	}
	if (!recorded) {
		check_fail(check, error.code == JIT_ERR_NOMEM ?
			   OUTCOME_NO_MEMORY : OUTCOME_SESSION_ERROR,
			   JIT_REASON_STORE_ERROR,
			   "the session could not be recorded: %s",
			   error.message);
		goto out;
	}

	if (jit_event_emit(&ev, &error) != JIT_OK) {
		check_fail(check, OUTCOME_DENIED, JIT_REASON_INTERNAL_ERROR,
			   "the session-opened event could not be recorded: %s",
			   error.message);
		goto out;
	}
	opened = true;
out:
	if (recorded && !opened)
		(void)jit_session_record_close(check->config, &record.key, NULL);
	if (!opened)
		(void)pam_set_data(pamh, SESSION_DATA, NULL, NULL);
	jit_session_record_clear(&record);
}

static void log_opened(pam_handle_t *pamh, const account_check *check)
{
	char user[ITEM_PRINT_MAX + 1], service[ITEM_PRINT_MAX + 1];
	char id[JIT_GRANT_ID_HEX_LEN + 1];

	jit_grant_id_format(check->decision.grant_id, id);
	pam_syslog(pamh, LOG_INFO,
		   "session opened for %s through %s (grant=%s leader=%ld)",
		   printable(check->login.user, user),
		   printable(check->login.service, service), id,
		   (long)getpid());
}

EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
			       const char **argv)
{
	account_check check;
	int r;

	memset(&check, 0, sizeof(check));
	check.result = OUTCOME_DENIED;
	check.decision.reason = JIT_REASON_INTERNAL_ERROR;

	run_check(pamh, argc, argv, &check);
	if (check.result == OUTCOME_ALLOWED)
		start_session(pamh, &check);

	/* A denial is reported as in the account phase; an allow was
	 * reported by its session-opened event. */
	if (check.result == OUTCOME_ALLOWED)
		log_opened(pamh, &check);
	else
		report_outcome(pamh, flags, &check);
	r = outcome_pam_code(check.result);

	jit_config_free(check.config);
	return r;
}

static jit_err emit_closed(pam_handle_t *pamh, const session_data *data,
			   jit_error *error)
{
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	int64_t duration = jit_clock_now_ms() - data->opened_at_ms;
	jit_event ev = {
		.type = JIT_EVENT_SESSION_CLOSED,
		.reason = JIT_REASON_ALLOW,
		.grant_id = id,
		.user = get_string_item(pamh, PAM_USER),
		.actor = get_string_item(pamh, PAM_USER),
		.service = get_string_item(pamh, PAM_SERVICE),
		.tty = get_string_item(pamh, PAM_TTY),
		.rhost = get_string_item(pamh, PAM_RHOST),
		.expires = data->not_after,
		.session_id = data->logind_session,
		.leader_pid = data->key.leader_pid,
		/* 0 would leave the field out, so a clock step back shows
		 * as 1 ms. */
		.duration_ms = duration > 0 ? duration : 1,
	};

	jit_grant_id_format(data->key.grant_id, id);
	return jit_event_emit(&ev, error);
}

/* Removes the record (it may already be gone: jitctl removes the records of
 * sessions it ended) and emits session-closed. Returns the PAM code. */
static int finish_session(pam_handle_t *pamh, const module_options *options,
			  const session_data *data)
{
	jit_config *config = NULL;
	jit_error error;
	int rc = PAM_SUCCESS;
	jit_err r;

	jit_error_clear(&error);
	r = jit_config_load(options->config_path, &config, &error);
	if (r == JIT_OK)
		r = jit_session_record_close(config, &data->key, &error);
	if (r != JIT_OK && r != JIT_ERR_NOT_FOUND) {
		pam_syslog(pamh, LOG_ERR,
			   "removing the session record failed: %s; jitctl reap removes it once the session's processes are gone",
			   error.message);
		rc = PAM_SESSION_ERR;
	}

	jit_error_clear(&error);
	if (emit_closed(pamh, data, &error) != JIT_OK) {
		pam_syslog(pamh, LOG_ERR,
			   "failed to record the session-closed event: %s",
			   error.message);
		rc = PAM_SESSION_ERR;
	}

	jit_config_free(config);
	return rc;
}

/* Close does nothing for a session this module did not open (ungated
 * users, or an open that failed), and nothing in a forked child that ends
 * its copy of the handle with PAM_DATA_SILENT: the session goes on in the
 * parent. */
EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
				const char **argv)
{
	const void *data = NULL;
	module_options options;
	int rc;

	if (flags & PAM_DATA_SILENT)
		return PAM_IGNORE;
	if (pam_get_data(pamh, SESSION_DATA, &data) != PAM_SUCCESS ||
	    data == NULL)
		return PAM_IGNORE;

	if (!parse_options(pamh, argc, argv, &options)) {
		pam_syslog(pamh, LOG_ERR,
			   "module argument config= needs an absolute path; the session record stays until jitctl reap");
		return PAM_SESSION_ERR;
	}

	rc = finish_session(pamh, &options, data);
	if (options.debug)
		pam_syslog(pamh, LOG_DEBUG, "session closed: %s",
			   pam_strerror(pamh, rc));

	/* A second close of the same handle must not report it again. */
	(void)pam_set_data(pamh, SESSION_DATA, NULL, NULL);
	return rc;
}
