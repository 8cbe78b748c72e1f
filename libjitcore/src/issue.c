#include "jit/issue.h"
#include "jit/request.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/timeutil.h"

jit_err jit_grant_add_command_spec(jit_grant *grant, const char *spec,
				   jit_error *error)
{
	jit_strlist args = { 0 };
	bool no_args = false;
	char *copy, *save = NULL, *path, *word;
	jit_err r;

	copy = strdup(spec);
	if (copy == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");

	path = strtok_r(copy, " \t", &save);
	if (path == NULL || (strcmp(path, "ALL") != 0 && path[0] != '/')) {
		r = jit_error_set(error, JIT_ERR_INVALID,
			"invalid command \"%.256s\": use ALL, an absolute path, or an absolute path followed by its exact arguments",
			spec);
		goto out;
	}

	while ((word = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strcmp(word, "\"\"") == 0) {
			no_args = true;
		} else if (jit_strlist_append(&args, word) != JIT_OK) {
			r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
			goto out;
		}
	}

	if (no_args && args.count > 0) {
		r = jit_error_set(error, JIT_ERR_INVALID,
			"invalid command \"%.256s\": \"\" means no arguments and cannot stand with others",
			spec);
		goto out;
	}
	if (strcmp(path, "ALL") == 0 && (no_args || args.count > 0)) {
		r = jit_error_set(error, JIT_ERR_INVALID,
			"invalid command \"%.256s\": ALL takes no arguments", spec);
		goto out;
	}

	r = jit_grant_add_command(grant, path,
				  no_args || args.count > 0 ? &args : NULL, error);
out:
	jit_strlist_clear(&args);
	free(copy);
	return r;
}

jit_err jit_role_check_reason(const jit_role *role, const char *reason,
			      jit_error *error)
{
	regex_t pattern;
	int matched;

	if (reason == NULL || reason[0] == '\0')
		return jit_error_set(error, JIT_ERR_INVALID,
				     "the reason is empty: say why the grant is needed");
	if (role == NULL || role->reason_pattern == NULL)
		return JIT_OK;

	if (regcomp(&pattern, role->reason_pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "role %s: reason_pattern does not compile",
				     role->name);
	matched = regexec(&pattern, reason, 0, NULL, 0);
	regfree(&pattern);

	if (matched != 0)
		return jit_error_set(error, JIT_ERR_INVALID,
			"reason \"%.200s\" does not match role %s's reason_pattern %.200s",
			reason, role->name, role->reason_pattern);
	return JIT_OK;
}

static jit_err copy_text(char **field, const char *value, jit_error *error)
{
	*field = strdup(value);
	if (*field == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	return JIT_OK;
}

static jit_err copy_names(jit_strlist *to, const jit_strlist *from,
			  const char *what, jit_error *error)
{
	for (size_t i = 0; i < from->count; i++) {
		if (!jit_valid_name(from->items[i]))
			return jit_error_set(error, JIT_ERR_INVALID,
				"invalid %s \"%.64s\": use 1 to 32 letters, digits, '_', '-' or '.', not starting with '-'",
				what, from->items[i]);
		if (jit_strlist_append(to, from->items[i]) != JIT_OK)
			return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}
	return JIT_OK;
}

static bool given(const jit_strlist *list)
{
	return list != NULL && list->count > 0;
}

static bool role_command_covers(const jit_command *role_command,
				const jit_command *command)
{
	if (strcmp(role_command->path, "ALL") == 0)
		return true;
	if (strcmp(role_command->path, command->path) != 0)
		return false;
	if (!role_command->args_given)
		return true;
	if (!command->args_given ||
	    command->args.count != role_command->args.count)
		return false;
	for (size_t i = 0; i < command->args.count; i++)
		if (strcmp(command->args.items[i], role_command->args.items[i]) != 0)
			return false;
	return true;
}

/* Builds an unsigned grant holding only role's scope, to compare with. */
static jit_err role_scope(const jit_role *role, jit_grant **out,
			  jit_error *error)
{
	jit_grant *scope = NULL;
	jit_err r;

	*out = NULL;
	r = jit_grant_new(&scope, error);
	for (size_t i = 0; r == JIT_OK && i < role->commands.count; i++)
		r = jit_grant_add_command_spec(scope, role->commands.items[i], error);
	for (size_t i = 0; r == JIT_OK && i < role->runas.count; i++)
		r = jit_strlist_append(&scope->runas_users, role->runas.items[i]);
	for (size_t i = 0; r == JIT_OK && i < role->runas_groups.count; i++)
		r = jit_strlist_append(&scope->runas_groups, role->runas_groups.items[i]);
	for (size_t i = 0; r == JIT_OK && i < role->services.count; i++)
		r = jit_strlist_append(&scope->services, role->services.items[i]);
	if (r != JIT_OK) {
		jit_grant_free(scope);
		return r == JIT_ERR_NOMEM ? jit_error_set(error, r, "out of memory") : r;
	}

	*out = scope;
	return JIT_OK;
}

/* Every command of grant must be one the role's commands cover. */
static jit_err check_commands_in_role(const jit_role *role,
				      const jit_grant *grant, jit_error *error)
{
	jit_grant *scope = NULL;
	jit_err r;

	r = role_scope(role, &scope, error);
	for (size_t i = 0; r == JIT_OK && i < grant->command_count; i++) {
		bool covered = false;

		for (size_t j = 0; !covered && j < scope->command_count; j++)
			covered = role_command_covers(&scope->commands[j],
						      &grant->commands[i]);
		if (!covered)
			r = jit_error_set(error, JIT_ERR_INVALID,
				"command %.256s is outside role %s's commands",
				grant->commands[i].path, role->name);
	}

	jit_grant_free(scope);
	return r;
}

static bool role_covers(const jit_role *role, const jit_access *access)
{
	jit_grant *scope = NULL;
	bool covers;

	if (role_scope(role, &scope, NULL) != JIT_OK)
		return false;
	covers = jit_grant_covers(scope, access);
	jit_grant_free(scope);
	return covers;
}

const jit_role *jit_config_suggest_role(const jit_config *config,
					const jit_access *access,
					const jit_decision *decision)
{
	if (decision != NULL && decision->has_grant && decision->role[0] != '\0') {
		const jit_role *role = jit_config_find_role(config, decision->role);

		if (role != NULL && role_covers(role, access))
			return role;
	}

	for (size_t i = 0; i < config->role_count; i++)
		if (role_covers(&config->roles[i], access))
			return &config->roles[i];
	return NULL;
}

/* The duration to suggest: the role's default, else 30 minutes within
 * the caps. */
static int64_t suggested_duration(const jit_config *config, const jit_role *role)
{
	int64_t duration = 30 * 60;

	if (role != NULL && role->default_duration > 0)
		return role->default_duration;
	if (role != NULL && role->max_duration > 0 && role->max_duration < duration)
		duration = role->max_duration;
	if (config->max_duration > 0 && config->max_duration < duration)
		duration = config->max_duration;
	return duration;
}

/* Returns whether the command spec syntax can state access's arguments
 * exactly, inside single quotes: no argument may be empty or hold a blank
 * or a quote. */
static bool arguments_expressible(const jit_access *access)
{
	for (size_t i = 0; i < access->argc; i++) {
		const char *arg = access->argv[i];

		if (arg[0] == '\0' || strpbrk(arg, " \t'\"") != NULL)
			return false;
	}
	return true;
}

/* Appends the --command option of a direct grant for exactly this command:
 * its path and its arguments, or no arguments. A shell runs any command,
 * so only a grant for ALL is suggested for one. Any note goes last, in
 * brackets, so the options before it can be copied as they are. */
static void append_command_option(const jit_access *access, char *out,
				  size_t out_len)
{
	size_t start = strlen(out), used;

	if (access->shell || access->command == NULL ||
	    jit_command_is_shell(access->command)) {
		snprintf(out + start, out_len - start,
			 " --command ALL (a shell runs any command; run the command itself to need less)");
		return;
	}

	if (arguments_expressible(access)) {
		snprintf(out + start, out_len - start, " --command '%.256s",
			 access->command);
		for (size_t i = 0; i < access->argc; i++) {
			used = strlen(out);
			snprintf(out + used, out_len - used, " %s", access->argv[i]);
		}
		used = strlen(out);
		if (snprintf(out + used, out_len - used, "%s'",
			     access->argc == 0 ? " \"\"" : "") <
		    (int)(out_len - used))
			return;
	}

	/* The arguments do not fit the spec syntax or the hint, so the hint
	 * names the path alone and states what that allows. */
	snprintf(out + start, out_len - start,
		 " --command %.256s (this allows any arguments)", access->command);
}

/* Appends the scope options a direct grant for access needs. */
static void append_scope_options(const jit_access *access, char *out,
				 size_t out_len)
{
	size_t used = strlen(out);

	if (access->kind == JIT_ACCESS_SERVICE) {
		snprintf(out + used, out_len - used, " --service %.64s",
			 access->service);
		return;
	}

	if (access->runas_user != NULL && strcmp(access->runas_user, "root") != 0)
		snprintf(out + used, out_len - used, " --runas %.64s",
			 access->runas_user);
	append_command_option(access, out, out_len);
}

/* Returns a role covering access that user may request, preferring the
 * suggested one, or NULL. A failed lookup of the user's groups gives NULL,
 * and the hint falls back to asking an administrator. */
static const jit_role *requestable_role(const jit_config *config,
					const jit_access *access,
					const jit_role *suggested)
{
	const jit_role *found = NULL;
	jit_identity who;

	if (access->user == NULL ||
	    jit_identity_lookup_name(access->user, &who, NULL) != JIT_OK)
		return NULL;

	if (suggested != NULL && jit_identity_in(&who, &suggested->requesters))
		found = suggested;
	for (size_t i = 0; found == NULL && i < config->role_count; i++)
		if (jit_identity_in(&who, &config->roles[i].requesters) &&
		    role_covers(&config->roles[i], access))
			found = &config->roles[i];

	jit_identity_clear(&who);
	return found;
}

void jit_request_hint(const jit_config *config, const jit_access *access,
		      const jit_decision *decision, char *out, size_t out_len)
{
	const jit_role *role = jit_config_suggest_role(config, access, decision);
	const jit_role *requestable = requestable_role(config, access, role);
	char duration[32];

	if (out_len == 0)
		return;

	if (requestable != NULL) {
		jit_duration_format(suggested_duration(config, requestable),
				    duration, sizeof(duration));
		snprintf(out, out_len,
			 "request a grant: jitctl request --role %.64s --for %s --reason \"...\"",
			 requestable->name, duration);
		return;
	}

	/* No role covers the access that the user may request, so only an
	 * administrator, or an approver of a covering role, can grant it. */
	jit_duration_format(suggested_duration(config, role), duration,
			    sizeof(duration));
	if (role != NULL) {
		snprintf(out, out_len,
			 "ask an administrator for a grant: jitctl grant %.64s --role %.64s --for %s --reason \"...\"",
			 access->user, role->name, duration);
		return;
	}
	snprintf(out, out_len,
		 "ask an administrator for a grant: jitctl grant %.64s --for %s --reason \"...\"",
		 access->user, duration);
	append_scope_options(access, out, out_len);
}

static jit_err check_list_in_role(const jit_strlist *asked,
				  const jit_strlist *allowed,
				  const char *what, const char *role,
				  jit_error *error)
{
	for (size_t i = 0; i < asked->count; i++)
		if (!jit_strlist_contains(allowed, asked->items[i]))
			return jit_error_set(error, JIT_ERR_INVALID,
				"%s %.64s is outside role %s's %ss",
				what, asked->items[i], role, what);
	return JIT_OK;
}

static jit_err set_scope(const jit_config *config, const jit_grant_spec *spec,
			 const jit_role *role, jit_grant *grant,
			 jit_error *error)
{
	static char *root_name[] = { "root" };
	static const jit_strlist root_only = { 1, root_name };
	const jit_strlist *runas = given(spec->runas) ? spec->runas :
				   role != NULL && given(&role->runas) ? &role->runas :
				   &root_only;
	const jit_strlist *commands = given(spec->commands) ? spec->commands :
				      role != NULL ? &role->commands : NULL;
	const jit_strlist *services = given(spec->services) ? spec->services :
				      role != NULL ? &role->services : NULL;
	const jit_strlist *hosts = given(spec->hosts) ? spec->hosts :
				   role != NULL && given(&role->hosts) ? &role->hosts : NULL;
	jit_err r;

	r = copy_names(&grant->runas_users, runas, "runas user", error);
	if (r == JIT_OK && role != NULL)
		r = copy_names(&grant->runas_groups, &role->runas_groups,
			       "runas group", error);
	for (size_t i = 0; r == JIT_OK && commands != NULL && i < commands->count; i++)
		r = jit_grant_add_command_spec(grant, commands->items[i], error);
	if (r == JIT_OK && services != NULL)
		r = copy_names(&grant->services, services, "service name", error);
	for (size_t i = 0; r == JIT_OK && hosts != NULL && i < hosts->count; i++) {
		if (hosts->items[i][0] == '\0')
			r = jit_error_set(error, JIT_ERR_INVALID,
					  "empty host: give a host name or pattern");
		else if (jit_strlist_append(&grant->hosts, hosts->items[i]) != JIT_OK)
			r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}
	if (r == JIT_OK && hosts == NULL &&
	    jit_strlist_append(&grant->hosts, config->hostname) != JIT_OK)
		r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	if (r != JIT_OK)
		return r;

	if (grant->command_count == 0 && grant->services.count == 0)
		return jit_error_set(error, JIT_ERR_INVALID,
			"the grant would allow nothing: role %s names no commands and no services, so give a command or a service",
			role != NULL ? role->name : JIT_DIRECT_ROLE);
	return JIT_OK;
}

/* A grant of a role stays inside the role: the label must not lie, and
 * whoever may issue a role may issue only that role's scope. */
static jit_err check_scope_in_role(const jit_role *role, const jit_grant *grant,
				   jit_error *error)
{
	static char *root_name[] = { "root" };
	static const jit_strlist root_only = { 1, root_name };
	jit_err r;

	r = check_commands_in_role(role, grant, error);
	if (r == JIT_OK)
		r = check_list_in_role(&grant->runas_users,
				       given(&role->runas) ? &role->runas : &root_only,
				       "runas user", role->name, error);
	if (r == JIT_OK)
		r = check_list_in_role(&grant->services, &role->services,
				       "service", role->name, error);
	if (r == JIT_OK && given(&role->hosts))
		r = check_list_in_role(&grant->hosts, &role->hosts, "host",
				       role->name, error);
	return r;
}

static jit_err set_times(const jit_config *config, const jit_grant_spec *spec,
			 const jit_role *role, int64_t now, jit_grant *grant,
			 jit_error *error)
{
	int64_t cap = config->max_duration, start = now, seconds = 0;
	jit_err r;

	if (role != NULL && role->max_duration > 0 &&
	    (cap <= 0 || role->max_duration < cap))
		cap = role->max_duration;

	if (spec->duration != NULL) {
		r = jit_duration_parse(spec->duration, cap, &seconds, error);
		if (r != JIT_OK)
			return r;
	} else if (role != NULL && role->default_duration > 0) {
		seconds = role->default_duration;
	} else {
		return jit_error_set(error, JIT_ERR_INVALID,
				     "missing duration: give one (e.g. 30m)%s",
				     role != NULL ? " or set default_duration in the role" : "");
	}

	if (spec->start != NULL) {
		r = jit_time_parse(spec->start, now, &start, error);
		if (r != JIT_OK)
			return r;
		if (start < now)
			return jit_error_set(error, JIT_ERR_RANGE,
				"start %.64s is in the past: give a later time or +DURATION",
				spec->start);
	}
	if (seconds > INT64_MAX - start)
		return jit_error_set(error, JIT_ERR_RANGE,
				     "start %.64s plus the duration is past the largest time",
				     spec->start != NULL ? spec->start : "now");

	grant->not_before = start;
	grant->not_after = start + seconds;
	grant->issued_at = now;
	return JIT_OK;
}

static jit_err set_people(const jit_grant_spec *spec, const jit_role *role,
			  jit_grant *grant, jit_error *error)
{
	jit_err r;

	if (spec->user == NULL || !jit_valid_name(spec->user))
		return jit_error_set(error, JIT_ERR_INVALID,
				     "invalid user name \"%.64s\"",
				     spec->user != NULL ? spec->user : "");
	r = jit_role_check_reason(role, spec->reason, error);
	if (r != JIT_OK)
		return r;

	r = copy_text(&grant->user, spec->user, error);
	if (r == JIT_OK)
		r = copy_text(&grant->role, role != NULL ? role->name : JIT_DIRECT_ROLE,
			      error);
	if (r == JIT_OK)
		r = copy_text(&grant->request_id,
			      spec->request_id != NULL ? spec->request_id : "", error);
	if (r == JIT_OK)
		r = copy_text(&grant->requester,
			      spec->requester != NULL ? spec->requester : "", error);
	if (r == JIT_OK)
		r = copy_text(&grant->reason, spec->reason, error);
	for (size_t i = 0; r == JIT_OK && spec->approvers != NULL &&
			   i < spec->approvers->count; i++)
		if (jit_strlist_append(&grant->approvers, spec->approvers->items[i]) != JIT_OK)
			r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	grant->break_glass = spec->break_glass;
	return r;
}

jit_err jit_grant_build(const jit_config *config, const jit_grant_spec *spec,
			int64_t now, jit_grant **out, jit_error *error)
{
	const jit_role *role = NULL;
	jit_grant *grant = NULL;
	jit_err r;

	*out = NULL;

	if (spec->role != NULL) {
		role = jit_config_find_role(config, spec->role);
		if (role == NULL)
			return jit_error_set(error, JIT_ERR_NOT_FOUND,
				"role %.64s is not defined in %.256s", spec->role,
				config->path != NULL ? config->path : "the configuration");
	}

	r = jit_grant_new(&grant, error);
	if (r != JIT_OK)
		return r;
	jit_grant_new_id(grant);

	r = set_people(spec, role, grant, error);
	if (r == JIT_OK)
		r = set_times(config, spec, role, now, grant, error);
	if (r == JIT_OK)
		r = set_scope(config, spec, role, grant, error);
	if (r == JIT_OK && role != NULL)
		r = check_scope_in_role(role, grant, error);
	if (r != JIT_OK) {
		jit_grant_free(grant);
		return r;
	}

	*out = grant;
	return JIT_OK;
}
