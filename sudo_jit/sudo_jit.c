/* sudo_jit.so: a sudo 1.9 policy plugin that allows a command only while a
 * signed, time-limited jit grant covers it.
 *
 * The plugin is a front end: every rule (grant verification, scope, time,
 * host) lives in libjitcore. This file contains sudo's entry points. The
 * settings, request building, execution details, authentication, the
 * credential cache and listings are in the files named after them. The
 * configuration is loaded afresh by every call that decides, so a broken
 * file makes that call deny with a message. */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#ifndef JIT_VERSION
#error "JIT_VERSION must be defined by the build"
#endif

/* The command named in the denial message is cut to this many bytes. */
#define SHOWN_COMMAND_MAX 512

static struct plugin plugin;

static void set_errstr(struct plugin *p, const char **errstr,
		       const char *message)
{
	/* errstr exists from plugin API 1.15 (sudo 1.9.0). */
	if (errstr == NULL || SUDO_API_VERSION_GET_MINOR(p->api_version) < 15)
		return;
	snprintf(p->errbuf, sizeof(p->errbuf), "%s", message);
	*errstr = p->errbuf;
}

/* Records an access event in the evidence chain of the store, then in the
 * journal, returning false when either failed. request may be NULL when
 * the failure came before the request was built, and typed_line then
 * names the command. config is NULL when it could not be loaded: then the
 * store is unknown and only the journal gets the event. An allowed use
 * goes to the journal only here: init_session writes its chain record
 * together with the command's session record (session.c), so one commit
 * makes both durable, and a command runs only once both are written. */
static bool record_access(const struct plugin *p, const jit_config *config,
			  const struct sudo_request *request,
			  const char *typed_line, jit_reason reason,
			  const char *detail, const jit_decision *decision)
{
	char grant_id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_event event = { 0 };
	bool chained = true;
	jit_error error;

	event.type = reason == JIT_REASON_ALLOW ? JIT_EVENT_ACCESS_ALLOWED :
		     JIT_EVENT_ACCESS_DENIED;
	event.reason = reason;
	event.detail = detail != NULL && detail[0] != '\0' ? detail : NULL;
	event.user = p->user.name;
	event.actor = p->user.name;
	event.command = request != NULL ? request->command_line : typed_line;
	event.runas = request != NULL ? request->runas_user :
		      p->settings.runas_user;
	event.tty = p->user.tty[0] != '\0' ? p->user.tty : NULL;

	if (decision != NULL && decision->has_grant) {
		jit_grant_id_format(decision->grant_id, grant_id);
		event.grant_id = grant_id;
		event.role = decision->role[0] != '\0' ? decision->role : NULL;
		event.expires = decision->not_after;
	}

	jit_error_clear(&error);
	if (config != NULL && reason != JIT_REASON_ALLOW &&
	    jit_chain_append_event(config->store, &event, &error) != JIT_OK) {
		plugin_error(p, "the %s event was not recorded in the evidence chain: %s",
			     jit_event_name(event.type), error.message);
		chained = false;
	}
	jit_error_clear(&error);
	if (jit_event_emit(&event, &error) == JIT_OK)
		return chained;
	plugin_error(p, "the %s event was not recorded: %s",
		     jit_event_name(event.type), error.message);
	return false;
}

static bool load_config(const struct plugin *p, const char *typed_line,
			bool record, jit_config **config)
{
	jit_error error;

	jit_error_clear(&error);
	if (jit_config_load(p->config_path, config, &error) == JIT_OK)
		return true;

	plugin_error(p, "%s", error.message);
	if (record)
		record_access(p, NULL, NULL, typed_line, JIT_REASON_CONFIG_ERROR,
			      error.message, NULL);
	return false;
}

/* Reasons after which asking for a grant is the way forward. The others
 * (a damaged store, a forged grant) need an administrator. */
static bool reason_wants_request(jit_reason reason)
{
	switch (reason) {
	case JIT_REASON_NO_GRANT:
	case JIT_REASON_EXPIRED:
	case JIT_REASON_REVOKED:
	case JIT_REASON_WRONG_HOST:
	case JIT_REASON_WRONG_USER:
	case JIT_REASON_OUT_OF_SCOPE:
		return true;
	default:
		return false;
	}
}

/* Keeps what init_session needs for the use's evidence record. */
static bool keep_use(struct plugin *p, const struct sudo_request *request,
		     const jit_decision *decision)
{
	memcpy(p->grant_id, decision->grant_id, JIT_GRANT_ID_LEN);
	p->grant_ends = decision->not_after;
	snprintf(p->use_role, sizeof(p->use_role), "%s", decision->role);
	free(p->use_command_line);
	free(p->use_runas);
	p->use_command_line = strdup(request->command_line);
	p->use_runas = strdup(request->runas_user);
	if (p->use_command_line != NULL && p->use_runas != NULL)
		return true;

	plugin_error(p, "out of memory");
	return false;
}

static void print_request_hint(const struct plugin *p,
			       const jit_config *config,
			       const struct sudo_request *request,
			       const jit_decision *decision)
{
	char hint[1024];

	jit_request_hint(config, &request->access, decision, hint, sizeof(hint));
	plugin_error(p, "%s", hint);
}

static void print_denial(const struct plugin *p, const jit_config *config,
			 const struct sudo_request *request,
			 const jit_decision *decision)
{
	const char *reason = jit_reason_name(decision->reason);
	char what[SHOWN_COMMAND_MAX], as[128] = "", detail[600] = "";

	if (request->shell)
		snprintf(what, sizeof(what), "a shell (%s)", request->command);
	else
		text_escape(request->command, what, sizeof(what));
	if (strcmp(request->runas_user, "root") != 0 || request->runas_group != NULL)
		snprintf(as, sizeof(as), " as %s%s%s", request->runas_user,
			 request->runas_group != NULL ? ":" : "",
			 request->runas_group != NULL ? request->runas_group : "");
	if (decision->detail[0] != '\0')
		snprintf(detail, sizeof(detail), ": %s", decision->detail);

	if (!reason_wants_request(decision->reason)) {
		plugin_error(p, "access denied for %s to run %s%s on host %s (%s%s).",
			     request->user, what, as, request->access.host,
			     reason, detail);
		return;
	}

	plugin_error(p, "%s has no active grant for %s%s on host %s (%s%s).",
		     request->user, what, as, request->access.host, reason,
		     decision->reason == JIT_REASON_NO_GRANT ? "" : detail);
	print_request_hint(p, config, request, decision);
}

/* Builds the request for argv and decides it with jit_check. Returns true
 * when allowed. On a denial it prints why, and emits the access-denied event
 * when record is set ("sudo -l CMD" only queries, so it records nothing). */
static bool decide(const struct plugin *p, const jit_config *config,
		   const char *user, int argc, char *const argv[], bool record,
		   struct sudo_request *request, jit_decision *decision)
{
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = request_build(p, config, user, argc, argv, request, &error);
	if (r != JIT_OK) {
		char *typed = argv_join(NULL, argc, argv);

		plugin_error(p, "%s", error.message);
		if (record)
			record_access(p, config, NULL, typed,
				      r == JIT_ERR_NOMEM ? JIT_REASON_INTERNAL_ERROR :
				      JIT_REASON_OUT_OF_SCOPE, error.message, NULL);
		free(typed);
		return false;
	}

	jit_check(config, &request->access, jit_clock_now_ms(), decision);
	if (jit_decision_allowed(decision))
		return true;

	print_denial(p, config, request, decision);
	if (record)
		record_access(p, config, request, NULL, decision->reason,
			      decision->detail,
			      decision);
	return false;
}

/* Rejections that come before any grant is looked at: options jit cannot
 * honour and variables set on the command line. */
static bool check_front_end_options(const struct plugin *p,
				    const jit_config *config, int argc,
				    char *const argv[], char *env_add[])
{
	char message[256], name[68];
	char *typed;

	if (p->settings.unsupported_option != NULL) {
		snprintf(message, sizeof(message),
			 "the sudo option %s is not supported with jit grants",
			 p->settings.unsupported_option);
	} else if (env_add != NULL && env_add[0] != NULL) {
		/* Only the name is shown: the value may be a secret. */
		char *copy = strndup(env_add[0], strcspn(env_add[0], "="));

		text_escape(copy != NULL ? copy : "", name, sizeof(name));
		free(copy);
		snprintf(message, sizeof(message),
			 "jit grants do not allow setting environment variables (%s)",
			 name);
	} else {
		return true;
	}

	plugin_error(p, "%s", message);
	typed = argv_join(NULL, argc, argv);
	record_access(p, config, NULL, typed, JIT_REASON_OUT_OF_SCOPE, message,
		      NULL);
	free(typed);
	return false;
}

/* Authenticates when the grant's role requires it. PAM may take as long as
 * the user needs, so after a prompt the request is decided again: a grant
 * revoked or expired meanwhile is not used. */
static bool authenticate(const struct plugin *p, const jit_config *config,
			 struct sudo_request *request, jit_decision *decision)
{
	bool prompted = false;
	jit_error error;

	if (!jit_config_role_authenticates(config, decision->role))
		return true;

	jit_error_clear(&error);
	if (auth_for_grant(p, config, decision->grant_id, decision->not_after,
			   &prompted, &error) != JIT_OK) {
		plugin_error(p, "%s", error.message);
		record_access(p, config, request, NULL, JIT_REASON_AUTH_FAILED,
			      error.message, decision);
		return false;
	}
	if (!prompted)
		return true;

	jit_check(config, &request->access, jit_clock_now_ms(), decision);
	if (jit_decision_allowed(decision))
		return true;
	print_denial(p, config, request, decision);
	record_access(p, config, request, NULL, decision->reason,
		      decision->detail,
		      decision);
	return false;
}

static bool prepare_exec(struct plugin *p, const jit_config *config,
			 const struct sudo_request *request,
			 const jit_decision *decision)
{
	jit_reason reason;
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = exec_build(p, config, request, decision, jit_clock_now_ms(), &error);
	if (r == JIT_OK)
		return true;

	if (r == JIT_ERR_RANGE)
		reason = JIT_REASON_EXPIRED;
	else if (r == JIT_ERR_NOMEM)
		reason = JIT_REASON_INTERNAL_ERROR;
	else
		reason = JIT_REASON_OUT_OF_SCOPE;
	plugin_error(p, "%s", error.message);
	record_access(p, config, request, NULL, reason, error.message,
		      decision);
	return false;
}

static int policy_open(unsigned int version, sudo_conv_t conversation,
		       sudo_printf_t sudo_printf, char *const settings[],
		       char *const user_info[], char *const user_env[],
		       char *const plugin_options[], const char **errstr)
{
	struct plugin *p = &plugin;
	jit_error error;

	memset(p, 0, sizeof(*p));
	p->api_version = version;
	p->conversation = conversation;
	p->print = sudo_printf;
	p->user_env = user_env;

	jit_error_clear(&error);
	if (SUDO_API_VERSION_GET_MAJOR(version) != SUDO_API_VERSION_MAJOR) {
		jit_error_set(&error, JIT_ERR_INVALID,
			      "sudo plugin API %u.%u is not supported (built for %d.x)",
			      SUDO_API_VERSION_GET_MAJOR(version),
			      SUDO_API_VERSION_GET_MINOR(version),
			      SUDO_API_VERSION_MAJOR);
		goto fail;
	}

	/* plugin_options exist from API 1.2 on, and older front ends get the
	 * default configuration path. */
	if (plugin_options_parse(SUDO_API_VERSION_GET_MINOR(version) >= 2 ?
				 plugin_options : NULL,
				 &p->config_path, &error) != JIT_OK ||
	    settings_parse(&p->settings, settings, &error) != JIT_OK ||
	    user_info_parse(&p->user, user_info, &error) != JIT_OK)
		goto fail;
	return 1;

fail:
	plugin_error(p, "%s", error.message);
	set_errstr(p, errstr, error.message);
	return -1;
}

static void policy_close(int exit_status, int error)
{
	struct plugin *p = &plugin;

	/* sudo leaves reporting a failed execve to the policy plugin. */
	if (error != 0 && p->command != NULL)
		plugin_error(p, "unable to run %s: %s", p->command, strerror(error));

	/* sudo's timeout= or jitctl watch ends the command with a signal at
	 * the grant's end, and neither says so on the user's terminal. */
	if (error == 0 && p->command != NULL && exit_status != -1 &&
	    WIFSIGNALED(exit_status) &&
	    jit_clock_now_ms() / 1000 >= p->grant_ends) {
		char when[32];

		jit_time_format(p->grant_ends, when, sizeof(when));
		plugin_error(p, "%s was stopped because its grant ended at %s",
			     p->command, when);
	}

	sudo_session_close(p);
	strv_free(p->command_info);
	strv_free(p->argv_out);
	strv_free(p->env_out);
	free(p->command);
	free(p->use_command_line);
	free(p->use_runas);
	free(p->config_path);
	settings_clear(&p->settings);
	user_info_clear(&p->user);
	memset(p, 0, sizeof(*p));
}

static int policy_show_version(int verbose)
{
	(void)verbose;
	if (plugin.print != NULL)
		plugin.print(SUDO_CONV_INFO_MSG, "jit policy plugin version %s\n",
			     JIT_VERSION);
	return 1;
}

static int policy_check(int argc, char *const argv[], char *env_add[],
			char **command_info_out[], char **argv_out[],
			char **user_env_out[], const char **errstr)
{
	struct plugin *p = &plugin;
	struct sudo_request request = { 0 };
	jit_decision decision = { 0 };
	jit_config *config = NULL;
	char *typed = argv_join(NULL, argc, argv);
	int result = 0;

	if (!load_config(p, typed, true, &config))
		goto out;
	if (!check_front_end_options(p, config, argc, argv, env_add))
		goto out;
	if (!decide(p, config, p->user.name, argc, argv, true, &request,
		    &decision))
		goto out;
	if (!authenticate(p, config, &request, &decision))
		goto out;
	if (!prepare_exec(p, config, &request, &decision))
		goto out;

	/* Every allow leaves an event: one that cannot be recorded is not
	 * allowed. */
	if (!record_access(p, config, &request, NULL, JIT_REASON_ALLOW, NULL,
			   &decision))
		goto out;
	if (!keep_use(p, &request, &decision))
		goto out;
	*command_info_out = p->command_info;
	*argv_out = p->argv_out;
	*user_env_out = p->env_out;
	result = 1;

out:
	if (result != 1)
		set_errstr(p, errstr, "command rejected by jit policy");
	request_clear(&request);
	jit_config_free(config);
	free(typed);
	return result;
}

/* "sudo -l CMD": the same decision as check_policy, printed, not used. */
static int list_command(const struct plugin *p, const jit_config *config,
			const char *user, int argc, char *const argv[])
{
	struct sudo_request request = { 0 };
	jit_decision decision = { 0 };
	char shown[SHOWN_COMMAND_MAX * 4];
	bool allowed;

	allowed = decide(p, config, user, argc, argv, false, &request, &decision);
	if (allowed) {
		text_escape(request.command_line, shown, sizeof(shown));
		p->print(SUDO_CONV_INFO_MSG, "%s\n", shown);
	}
	request_clear(&request);
	return allowed ? 1 : 0;
}

static int policy_list(int argc, char *const argv[], int verbose,
		       const char *list_user, const char **errstr)
{
	struct plugin *p = &plugin;
	const char *user = list_user != NULL ? list_user : p->user.name;
	jit_config *config = NULL;
	int result = 0;

	if (strcmp(user, p->user.name) != 0 && p->user.uid != 0) {
		char shown[128];

		text_escape(user, shown, sizeof(shown));
		plugin_error(p, "only root may list the grants of another user (%s)",
			     shown);
		goto out;
	}

	if (!load_config(p, NULL, false, &config))
		goto out;

	if (argc > 0)
		result = list_command(p, config, user, argc, argv);
	else
		result = listing_print(p, config, user, verbose > 0,
				       jit_clock_now_ms());

out:
	if (result != 1)
		set_errstr(p, errstr, "listing rejected by jit policy");
	jit_config_free(config);
	return result;
}

/* Returns the grant "sudo -v" authenticates for: among grants in force whose
 * role requires authentication, the one that lasts longest. */
static const jit_grant *grant_to_validate(const jit_config *config,
					  jit_grant **grants, size_t count,
					  int64_t now, bool *any_active)
{
	const jit_grant *chosen = NULL;

	*any_active = false;
	for (size_t i = 0; i < count; i++) {
		const jit_grant *grant = grants[i];

		/* The decision's leeway on not_before applies here too. */
		if (grant->not_before - config->clock_skew > now)
			continue;
		*any_active = true;
		if (!jit_config_role_authenticates(config, grant->role))
			continue;
		if (chosen == NULL || grant->not_after > chosen->not_after)
			chosen = grant;
	}
	return chosen;
}

static int validate_grants(const struct plugin *p, const jit_config *config)
{
	const char *host = config->hostname != NULL ? config->hostname :
			   p->user.host;
	const jit_grant *grant;
	jit_grant **grants = NULL;
	size_t count = 0;
	bool any_active, prompted;
	jit_error error;
	int result = 0;

	jit_error_clear(&error);
	if (jit_active_grants(config, p->user.name, jit_clock_now_ms(), &grants,
			      &count, &error) != JIT_OK) {
		plugin_error(p, "cannot read the grants of %s: %s", p->user.name,
			     error.message);
		return 0;
	}

	grant = grant_to_validate(config, grants, count,
				  jit_clock_now_ms() / 1000, &any_active);
	if (!any_active) {
		plugin_error(p, "%s has no active grants on %s.", p->user.name, host);
	} else if (grant == NULL) {
		result = 1;
	} else if (auth_for_grant(p, config, grant->id, grant->not_after,
				  &prompted, &error) == JIT_OK) {
		result = 1;
	} else {
		jit_decision decision = { .reason = JIT_REASON_AUTH_FAILED,
					  .has_grant = true,
					  .not_after = grant->not_after };

		memcpy(decision.grant_id, grant->id, sizeof(decision.grant_id));
		snprintf(decision.role, sizeof(decision.role), "%s", grant->role);
		plugin_error(p, "%s", error.message);
		record_access(p, config, NULL, "sudo -v", JIT_REASON_AUTH_FAILED,
			      error.message, &decision);
	}

	jit_grants_free(grants, count);
	return result;
}

static int policy_validate(const char **errstr)
{
	struct plugin *p = &plugin;
	jit_config *config = NULL;
	int result = 0;

	if (load_config(p, "sudo -v", true, &config))
		result = validate_grants(p, config);

	if (result != 1)
		set_errstr(p, errstr, "validation rejected by jit policy");
	jit_config_free(config);
	return result;
}

/* "sudo -k" and "sudo -K" remove only the caller's cached authentication
 * and never touch a grant. */
static void policy_invalidate(int remove)
{
	struct plugin *p = &plugin;
	jit_config *config = NULL;
	jit_error error;

	(void)remove;
	if (!load_config(p, NULL, false, &config))
		return;

	jit_error_clear(&error);
	if (timestamp_remove_all(p, config, &error) != JIT_OK)
		plugin_error(p, "%s", error.message);
	jit_config_free(config);
}

/* Records the command's session, with the evidence of its use, before it
 * starts. A command whose session cannot be recorded does not run:
 * nothing could end it with its grant, and its use would leave no
 * durable record. It is then reported as an access-denied event, which
 * follows check_policy's access-allowed event for the same command. */
static int policy_init_session(struct passwd *pwd, char **user_env_out[],
			       const char **errstr)
{
	struct plugin *p = &plugin;
	jit_config *config = NULL;
	jit_error error;
	int result = 1;

	(void)pwd;
	(void)user_env_out;

	if (!load_config(p, p->command, true, &config))
		result = -1;

	jit_error_clear(&error);
	if (result == 1 && sudo_session_open(p, config, &error) != JIT_OK) {
		plugin_error(p, "the session of %s could not be recorded: %s",
			     p->command, error.message);
		record_access(p, config, NULL, p->use_command_line,
			      error.code == JIT_ERR_NOMEM ?
			      JIT_REASON_INTERNAL_ERROR : JIT_REASON_STORE_ERROR,
			      error.message, NULL);
		set_errstr(p, errstr, "session not recorded");
		result = -1;
	}

	jit_config_free(config);
	return result;
}

__attribute__((visibility("default")))
struct policy_plugin jit_policy = {
	.type = SUDO_POLICY_PLUGIN,
	.version = SUDO_API_VERSION,
	.open = policy_open,
	.close = policy_close,
	.show_version = policy_show_version,
	.check_policy = policy_check,
	.list = policy_list,
	.validate = policy_validate,
	.invalidate = policy_invalidate,
	.init_session = policy_init_session,
};
