/* pam_jit: the PAM account and session module.
 *
 *   account required pam_jit.so [config=/etc/jit/jit.conf] [debug]
 *   session required pam_jit.so [config=/etc/jit/jit.conf] [debug]
 *
 * A thin front end over libjitcore. The account phase reads the PAM items,
 * checks with the library whether the user is gated and, for a gated user,
 * whether an active grant names this PAM service. It then reports the
 * outcome as a PAM code, an access event, a syslog line and, on a denial, a
 * message through the conversation.
 *
 * The session phase decides again in the same way, because a program may
 * open a session without running the account phase, or in another process.
 * On an allow it records the session under the grant (so that jitctl can
 * end it when the grant is over), exports JIT_GRANT_ID and JIT_EXPIRES
 * into the session's environment and emits session-opened; closing emits
 * session-closed and removes the record. Nothing is kept between calls but
 * the session's key in PAM data, and no descriptor stays open: the library
 * opens and closes the store inside each call. */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_jit.h"

/* Maps an outcome to the code the module returns. Under "required" and
 * "requisite" every code except PAM_SUCCESS and PAM_IGNORE fails the
 * stack, so each error keeps its conventional PAM meaning and still denies:
 *
 *   not gated     PAM_IGNORE        not this module's business; the rest
 *                                   of the stack decides
 *   allowed       PAM_SUCCESS       an active grant names this service
 *   denied        PAM_PERM_DENIED   the decision denied: no usable grant, a
 *                                   store error, a failed group lookup, or
 *                                   an allow whose event was not recorded
 *   unknown user  PAM_USER_UNKNOWN  PAM_USER unset, or no such account
 *   config error  PAM_SERVICE_ERR   a bad module argument, or a config or
 *                                   trusted-key file that cannot be used
 *   no memory     PAM_BUF_ERR       an allocation failed
 *   session error PAM_SESSION_ERR   an allowed session could not be
 *                                   recorded, so it could not be ended
 *                                   with its grant */
int outcome_pam_code(outcome result)
{
	switch (result) {
	case OUTCOME_NOT_GATED:
		return PAM_IGNORE;
	case OUTCOME_ALLOWED:
		return PAM_SUCCESS;
	case OUTCOME_DENIED:
		return PAM_PERM_DENIED;
	case OUTCOME_UNKNOWN_USER:
		return PAM_USER_UNKNOWN;
	case OUTCOME_CONFIG_ERROR:
		return PAM_SERVICE_ERR;
	case OUTCOME_NO_MEMORY:
		return PAM_BUF_ERR;
	case OUTCOME_SESSION_ERROR:
		return PAM_SESSION_ERR;
	}
	return PAM_PERM_DENIED;
}

static outcome outcome_for_reason(jit_reason reason)
{
	switch (reason) {
	case JIT_REASON_ALLOW:
		return OUTCOME_ALLOWED;
	case JIT_REASON_CONFIG_ERROR:
		return OUTCOME_CONFIG_ERROR;
	default:
		return OUTCOME_DENIED;
	}
}

/* Records a denial that happened before or instead of a decision. */
void check_fail(account_check *check, outcome result, jit_reason reason,
		const char *format, ...)
{
	va_list ap;

	check->result = result;
	check->decision.reason = reason;
	check->decision.has_grant = false;

	va_start(ap, format);
	vsnprintf(check->decision.detail, sizeof(check->decision.detail),
		  format, ap);
	va_end(ap);
}

/* Copies text into out, cut to ITEM_PRINT_MAX bytes and with control bytes
 * replaced by '?', so a PAM item cannot forge log lines. NULL prints "-". */
const char *printable(const char *text, char out[ITEM_PRINT_MAX + 1])
{
	size_t i;

	if (text == NULL || *text == '\0')
		return "-";

	for (i = 0; i < ITEM_PRINT_MAX && text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)text[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[i] = '\0';
	return out;
}

/* Parses the module arguments and returns false on an invalid config=,
 * which denies. Unknown arguments are logged and skipped, so that a stack
 * written for a newer module still loads. */
bool parse_options(pam_handle_t *pamh, int argc, const char **argv,
		   module_options *options)
{
	char shown[ITEM_PRINT_MAX + 1];

	options->config_path = JIT_DEFAULT_CONFIG;
	options->debug = false;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (strncmp(arg, "config=", 7) == 0) {
			options->config_path = arg + 7;
			if (options->config_path[0] != '/')
				return false;
		} else if (strcmp(arg, "debug") == 0) {
			options->debug = true;
		} else {
			pam_syslog(pamh, LOG_WARNING,
				   "unknown module argument \"%s\", ignoring",
				   printable(arg, shown));
		}
	}
	return true;
}

const char *get_string_item(pam_handle_t *pamh, int type)
{
	const void *item = NULL;

	if (pam_get_item(pamh, type, &item) != PAM_SUCCESS)
		return NULL;
	return item;
}

/* Reads the items without prompting: pam_get_user could start a
 * conversation, and the account phase must not ask for anything. */
static bool read_login_items(pam_handle_t *pamh, account_check *check)
{
	login_items *login = &check->login;

	login->user = get_string_item(pamh, PAM_USER);
	login->service = get_string_item(pamh, PAM_SERVICE);
	login->rhost = get_string_item(pamh, PAM_RHOST);
	login->tty = get_string_item(pamh, PAM_TTY);

	if (login->user == NULL || *login->user == '\0') {
		login->user = NULL;
		check_fail(check, OUTCOME_UNKNOWN_USER, JIT_REASON_INTERNAL_ERROR,
			   "the application set no PAM user");
		return false;
	}
	if (login->service == NULL || *login->service == '\0') {
		login->service = NULL;
		check_fail(check, OUTCOME_DENIED, JIT_REASON_INTERNAL_ERROR,
			   "the application set no PAM service");
		return false;
	}
	return true;
}

static bool load_config(account_check *check)
{
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = jit_config_load(check->options.config_path, &check->config, &error);
	if (r == JIT_OK)
		return true;

	check_fail(check,
		   r == JIT_ERR_NOMEM ? OUTCOME_NO_MEMORY : OUTCOME_CONFIG_ERROR,
		   JIT_REASON_CONFIG_ERROR, "%s", error.message);
	return false;
}

/* Returns true when the user is gated and the check goes on. */
static bool check_gated(account_check *check)
{
	jit_error error;
	bool gated = true;
	jit_err r;

	jit_error_clear(&error);
	r = jit_config_user_is_gated(check->config, check->login.user, &gated,
				     &error);
	switch (r) {
	case JIT_OK:
		break;
	case JIT_ERR_NOMEM:
		check_fail(check, OUTCOME_NO_MEMORY, JIT_REASON_INTERNAL_ERROR,
			   "%s", error.message);
		return false;
	case JIT_ERR_NOT_FOUND:
		check_fail(check, OUTCOME_UNKNOWN_USER,
			   JIT_REASON_INTERNAL_ERROR, "%s", error.message);
		return false;
	default:
		/* A failed group lookup cannot tell whether the user is
		 * exempt, so it denies rather than skipping the gate. */
		check_fail(check, OUTCOME_DENIED, JIT_REASON_INTERNAL_ERROR,
			   "%s", error.message);
		return false;
	}

	if (!gated) {
		check->result = OUTCOME_NOT_GATED;
		return false;
	}
	return true;
}

static void decide(account_check *check)
{
	jit_access access = {
		.kind = JIT_ACCESS_SERVICE,
		.user = check->login.user,
		.host = check->config->hostname,
		.service = check->login.service,
	};

	jit_check(check->config, &access, jit_clock_now_ms(), &check->decision);
	check->result = outcome_for_reason(check->decision.reason);
}

void run_check(pam_handle_t *pamh, int argc, const char **argv,
	       account_check *check)
{
	bool options_valid;

	/* The items come first so that even a bad argument is reported with
	 * the user and service it denied. */
	options_valid = parse_options(pamh, argc, argv, &check->options);
	if (!read_login_items(pamh, check))
		return;
	if (!options_valid) {
		check_fail(check, OUTCOME_CONFIG_ERROR, JIT_REASON_CONFIG_ERROR,
			   "module argument config= needs an absolute path");
		return;
	}
	if (!load_config(check))
		return;
	if (!check_gated(check))
		return;

	decide(check);
}

/* Returns whether the denial comes from the grants themselves, as opposed
 * to a failure to check them. */
static bool is_grant_denial(const account_check *check)
{
	if (check->result != OUTCOME_DENIED)
		return false;

	switch (check->decision.reason) {
	case JIT_REASON_STORE_ERROR:
	case JIT_REASON_CONFIG_ERROR:
	case JIT_REASON_INTERNAL_ERROR:
		return false;
	default:
		return true;
	}
}

static void tell_grant_denial(pam_handle_t *pamh, const account_check *check)
{
	jit_access access = {
		.kind = JIT_ACCESS_SERVICE,
		.user = check->login.user,
		.service = check->login.service,
	};
	char user[ITEM_PRINT_MAX + 1], service[ITEM_PRINT_MAX + 1];
	char host[ITEM_PRINT_MAX + 1], why[64] = "", hint[1024];

	if (check->decision.reason != JIT_REASON_NO_GRANT)
		snprintf(why, sizeof(why), " (%s)",
			 jit_reason_name(check->decision.reason));
	jit_request_hint(check->config, &access, &check->decision, hint,
			 sizeof(hint));

	pam_error(pamh, "jit: no active grant for %s to log in through %s on %s%s. To %s",
		  printable(check->login.user, user),
		  printable(check->login.service, service),
		  printable(check->config->hostname, host), why, hint);
}

/* Failures to check say only the reason: the detail may name files and
 * belongs in the system log, not on a remote user's terminal. */
static void tell_check_failure(pam_handle_t *pamh, const account_check *check)
{
	char user[ITEM_PRINT_MAX + 1], service[ITEM_PRINT_MAX + 1];

	pam_error(pamh,
		  "jit: access for %s through %s is denied because the grant "
		  "check failed (%s). The system log names the cause.",
		  printable(check->login.user, user),
		  printable(check->login.service, service),
		  jit_reason_name(check->decision.reason));
}

static void tell_user(pam_handle_t *pamh, int flags,
		      const account_check *check)
{
	if (flags & PAM_SILENT)
		return;

	/* A failed conversation changes nothing, because the denial remains. */
	if (is_grant_denial(check))
		tell_grant_denial(pamh, check);
	else
		tell_check_failure(pamh, check);
}

static void log_outcome(pam_handle_t *pamh, const account_check *check)
{
	char user[ITEM_PRINT_MAX + 1], service[ITEM_PRINT_MAX + 1];
	char rhost[ITEM_PRINT_MAX + 1], tty[ITEM_PRINT_MAX + 1];
	char grant_id[JIT_GRANT_ID_HEX_LEN + 1] = "-";
	int priority;

	if (check->decision.has_grant)
		jit_grant_id_format(check->decision.grant_id, grant_id);

	if (check->result == OUTCOME_ALLOWED)
		priority = LOG_INFO;
	else if (is_grant_denial(check))
		priority = LOG_NOTICE;
	else
		priority = LOG_ERR;

	pam_syslog(pamh, priority,
		   "access %s for %s through %s (rhost=%s tty=%s grant=%s): "
		   "%s: %s",
		   check->result == OUTCOME_ALLOWED ? "allowed" : "denied",
		   printable(check->login.user, user),
		   printable(check->login.service, service),
		   printable(check->login.rhost, rhost),
		   printable(check->login.tty, tty), grant_id,
		   jit_reason_name(check->decision.reason),
		   check->decision.detail);
}

static jit_err emit_access_event(const account_check *check, jit_error *error)
{
	const jit_decision *decision = &check->decision;
	char grant_id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_event ev = {
		.type = check->result == OUTCOME_ALLOWED ?
			JIT_EVENT_ACCESS_ALLOWED : JIT_EVENT_ACCESS_DENIED,
		.reason = decision->reason,
		.detail = decision->detail,
		.user = check->login.user,
		.actor = check->login.user,
		.role = decision->role[0] != '\0' ? decision->role : NULL,
		.service = check->login.service,
		.tty = check->login.tty,
		.rhost = check->login.rhost,
	};

	if (decision->has_grant) {
		jit_grant_id_format(decision->grant_id, grant_id);
		ev.grant_id = grant_id;
		ev.expires = decision->not_after;
	}
	return pam_jit_record(check->config, &ev, error);
}

jit_err pam_jit_record(const jit_config *config, const jit_event *ev,
		       jit_error *error)
{
	jit_error chain_error;
	jit_err chained = JIT_OK;
	jit_err r;

	jit_error_clear(&chain_error);
	if (config != NULL)
		chained = jit_chain_append_event(config->store, ev, &chain_error);
	r = jit_event_emit(ev, error);
	if (r == JIT_OK && chained != JIT_OK) {
		*error = chain_error;
		r = chained;
	}
	return r;
}

/* Emits the event, logs the outcome and sends a denied user a message.
 * An allow that leaves no event turns into a denial, because every allow
 * must be recorded. A denial stays a denial whatever happens to its event. */
void report_outcome(pam_handle_t *pamh, int flags, account_check *check)
{
	jit_error error;

	if (check->result == OUTCOME_NOT_GATED) {
		if (check->options.debug)
			pam_syslog(pamh, LOG_DEBUG, "user is not gated, ignoring");
		return;
	}

	jit_error_clear(&error);
	if (emit_access_event(check, &error) != JIT_OK) {
		pam_syslog(pamh, LOG_ERR, "failed to record the access event: %s",
			   error.message);
		if (check->result == OUTCOME_ALLOWED) {
			check_fail(check, OUTCOME_DENIED,
				   JIT_REASON_INTERNAL_ERROR,
				   "the access-allowed event could not be "
				   "recorded: %s", error.message);
			jit_error_clear(&error);
			(void)emit_access_event(check, &error);
		}
	}

	log_outcome(pamh, check);
	if (check->result != OUTCOME_ALLOWED)
		tell_user(pamh, flags, check);
}

EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
			    const char **argv)
{
	account_check check;
	int r;

	memset(&check, 0, sizeof(check));
	check.result = OUTCOME_DENIED;
	check.decision.reason = JIT_REASON_INTERNAL_ERROR;

	run_check(pamh, argc, argv, &check);
	report_outcome(pamh, flags, &check);
	r = outcome_pam_code(check.result);

	jit_config_free(check.config);
	return r;
}

