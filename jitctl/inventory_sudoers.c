/* sudoers rules, as sudo's own parser reads them: cvtsudoers -f json with
 * aliases expanded. Each rule becomes one finding per user or group it
 * names and per command list, rated by what it reaches: ALL or a program
 * that runs other commands, as root or as another account. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory.h"
#include "inventory_sudoers.h"

#define SUDOERS_FILE "/etc/sudoers"
#define CVTSUDOERS "/usr/bin/cvtsudoers"
#define CVTSUDOERS_TIMEOUT_MS 30000
#define CVTSUDOERS_OUTPUT_MAX (16 * 1024 * 1024)

typedef struct rule_context {
	const char *text;        /* the rule as a sudoers line */
	char location[1200];     /* file:line, or the tree and the rule's index */
	int64_t now;
} rule_context;

static void report_cvtsudoers_error(inventory *inv, const inv_child *child)
{
	char evidence[1024], first[512] = "", second[512] = "";
	bool syntax = strstr(child->err, "syntax error") != NULL ||
		      strstr(child->err, "parse error") != NULL;

	/* cvtsudoers prints "file:line:column: syntax error", then the line
	 * and a caret under the column. */
	sscanf(child->err, "%511[^\r\n]%*[\r\n]%511[^\r\n]", first, second);
	snprintf(evidence, sizeof(evidence), "%s -f json %s: exit status %d: %s%s%s",
		 CVTSUDOERS, SUDOERS_FILE, child->status, first,
		 syntax && second[0] != '\0' ? ": " : "", syntax ? second : "");

	if (syntax)
		inv_add(inv, INV_HIGH, INV_HOST, "sudoers", evidence,
			"fix the file (visudo -c checks every file); until it parses, sudo refuses every command and no rule in it was inventoried",
			"sudoers syntax error");
	else
		inv_add(inv, INV_HIGH, INV_HOST, "sudoers", evidence,
			"check the message, then run jitctl inventory again; no sudoers rule was inventoried",
			"cannot check sudoers");
}

/* Runs cvtsudoers with an empty configuration, so a local
 * /etc/cvtsudoers.conf cannot filter rules out. */
static json_object *read_rules(inventory *inv)
{
	static const char *const argv[] = {
		CVTSUDOERS, "-c", "/dev/null", "-e", "-f", "json", "-i", "sudoers",
		SUDOERS_FILE, NULL,
	};
	enum json_tokener_error parse_error;
	json_object *rules = NULL;
	inv_child child;
	char why[512];

	if (access(CVTSUDOERS, X_OK) < 0) {
		inv_add(inv, INV_HIGH, INV_HOST, "sudoers", CVTSUDOERS " is missing",
			"install the package that ships cvtsudoers (sudo on Debian), then run jitctl inventory again",
			"cannot check sudoers");
		return NULL;
	}
	if (inv_run(argv, CVTSUDOERS_OUTPUT_MAX, CVTSUDOERS_TIMEOUT_MS, &child,
		    why, sizeof(why)) < 0) {
		inv_add(inv, INV_HIGH, INV_HOST, "sudoers", why,
			"check that cvtsudoers works, then run jitctl inventory again",
			"cannot check sudoers");
		return NULL;
	}

	if (child.status != 0) {
		report_cvtsudoers_error(inv, &child);
	} else {
		rules = json_tokener_parse_verbose(child.out, &parse_error);
		if (rules == NULL || !json_object_is_type(rules, json_type_object)) {
			snprintf(why, sizeof(why), "%s printed no JSON object: %s",
				 CVTSUDOERS, json_tokener_error_desc(parse_error));
			inv_add(inv, INV_HIGH, INV_HOST, "sudoers", why,
				"check the installed sudo version, then run jitctl inventory again",
				"cannot check sudoers");
			json_object_put(rules);
			rules = NULL;
		}
	}
	inv_child_clear(&child);
	return rules;
}

/* "Defaults !authenticate" with no binding lifts the password from every
 * rule. */
static bool defaults_skip_password(json_object *rules)
{
	json_object *defaults = NULL;
	bool skip = false;

	if (!json_object_object_get_ex(rules, "Defaults", &defaults))
		return false;
	for (size_t i = 0; i < inv_json_length(defaults); i++) {
		json_object *entry = json_object_array_get_idx(defaults, i);
		json_object *options = NULL, *binding = NULL, *value = NULL;

		if (json_object_object_get_ex(entry, "Binding", &binding) ||
		    !json_object_object_get_ex(entry, "Options", &options))
			continue;
		for (size_t j = 0; j < inv_json_length(options); j++)
			if (json_object_object_get_ex(json_object_array_get_idx(options, j),
						      "authenticate", &value))
				skip = !json_object_get_boolean(value);
	}
	return skip;
}

static inv_severity scope_severity(const rule_scope *scope, int64_t now)
{
	inv_severity severity;

	if (scope->all || scope->escape[0] != '\0')
		severity = scope->runas_privileged ? INV_HIGH : INV_MEDIUM;
	else
		severity = scope->runas_privileged ? INV_MEDIUM : INV_LOW;

	/* A rule that already ends is less standing; one that has ended
	 * allows nothing but is still worth removing. */
	if (scope->not_after_time >= 0)
		severity = scope->not_after_time <= now ? INV_INFO
							: inv_severity_lower(severity);
	return severity;
}

static void scope_title(const rule_scope *scope, int64_t now, char *out,
			size_t out_len)
{
	char until[32];
	size_t used;

	snprintf(out, out_len, "%ssudo %.300s as %s%s",
		 scope->not_after_time >= 0 && scope->not_after_time <= now ?
			 "expired rule: " : "",
		 scope->commands, scope->runas,
		 scope->nopasswd ? " without a password" : "");
	used = strlen(out);

	if (scope->all && strchr(scope->commands, '!') != NULL)
		snprintf(out + used, out_len - used,
			 "; the negated commands stay reachable under other names");
	else if (!scope->all && scope->escape[0] != '\0')
		snprintf(out + used, out_len - used, "; %s%s", scope->escape,
			 strncmp(scope->escape, "every ", 6) == 0 ? ""
								: " runs other commands");
	used = strlen(out);

	/* A rule that has not started yet still starts on its own. */
	if (scope->not_before_time > now) {
		output_time(scope->not_before_time, until, sizeof(until));
		snprintf(out + used, out_len - used, "; starts at %s", until);
		used = strlen(out);
	}

	if (scope->not_after_time > now) {
		output_time(scope->not_after_time, until, sizeof(until));
		snprintf(out + used, out_len - used, "; time-bounded until %s", until);
	} else if (scope->not_after != NULL && scope->not_after_time < 0) {
		snprintf(out + used, out_len - used, "; NOTAFTER=%s not understood",
			 scope->not_after);
	}
}

/* A role replaces a rule when it allows the same commands as the same
 * users, and ALL only where the rule allows ALL. */
static bool role_covers_command(const jit_role *role, const char *command,
				bool rule_all)
{
	for (size_t i = 0; i < role->commands.count; i++) {
		const char *allowed = role->commands.items[i];
		size_t length = strlen(allowed);

		if (strcmp(allowed, "ALL") == 0) {
			if (rule_all)
				return true;
			continue;
		}
		if (strcmp(allowed, command) == 0 ||
		    (strchr(allowed, ' ') == NULL && strncmp(allowed, command, length) == 0 &&
		     command[length] == ' '))
			return true;
	}
	return false;
}

static const jit_role *matching_role(const jit_config *config,
				     const rule_scope *scope)
{
	for (size_t r = 0; config != NULL && r < config->role_count; r++) {
		const jit_role *role = &config->roles[r];
		bool covers = scope->command_list.count > 0;

		for (size_t i = 0; covers && i < scope->command_list.count; i++)
			covers = role_covers_command(role, scope->command_list.items[i],
						     scope->all);
		for (size_t i = 0; covers && i < scope->runas_list.count; i++) {
			const char *runas = scope->runas_list.items[i];

			covers = role->runas.count == 0 ? strcmp(runas, "root") == 0
							: jit_strlist_contains(&role->runas, runas);
		}
		if (covers)
			return role;
	}
	return NULL;
}

static void scope_suggestion(const inventory *inv, const rule_scope *scope,
			     const char *account, int64_t now, char *out,
			     size_t out_len)
{
	const jit_role *role = matching_role(inv->ctl->config, scope);
	size_t used;

	if (scope->not_after_time >= 0 && scope->not_after_time <= now) {
		snprintf(out, out_len, "remove the expired rule; grants end the same way, signed and revocable");
		return;
	}

	if (role != NULL)
		snprintf(out, out_len,
			 "role %s already has this scope: remove the rule and issue grants of it when needed (jitctl grant %s --role %s --for 1h --reason TEXT)",
			 role->name, account[0] == '%' ? "USER" : account, role->name);
	else if (scope->all)
		snprintf(out, out_len,
			 "remove the rule; define a role with commands = ALL, runas = %s, approvals = 2 and max_duration = 1h, and issue grants of it when needed",
			 jit_strlist_contains(&scope->runas_list, "ALL") ?
				 "root or the accounts actually needed" : scope->runas);
	else
		snprintf(out, out_len,
			 "remove the rule; define a role with runas = %s and commands = %.400s, and issue grants of it when needed",
			 jit_strlist_contains(&scope->runas_list, "ALL") ?
				 "the accounts actually needed" : scope->runas,
			 scope->commands);
	used = strlen(out);

	if (!scope->all && scope->escape[0] != '\0')
		snprintf(out + used, out_len - used,
			 "; %s can start a shell, so give the role a command that cannot",
			 scope->escape);
	else if (scope->not_after_time > now)
		snprintf(out + used, out_len - used,
			 "; a grant ends the same way, signed and revocable");
}

/* Adds the finding of one rule for one user or group. */
static void report_principal(inventory *inv, const rule_context *context,
			     const rule_scope *scope, const char *principal,
			     const char *type)
{
	inv_severity severity = scope_severity(scope, context->now);
	char title[1024], suggestion[1024], evidence[2048];
	jit_strlist members = { 0 };

	/* root may do anything already; a rule adds nothing to it. */
	if (principal[0] == '!' || strcmp(principal, "root") == 0 ||
	    strcmp(principal, "#0") == 0)
		return;

	scope_title(scope, context->now, title, sizeof(title));
	scope_suggestion(inv, scope, principal, context->now, suggestion,
			 sizeof(suggestion));
	snprintf(evidence, sizeof(evidence), "%s: %s", context->location,
		 context->text);

	if (strcmp(type, "usergroup") == 0) {
		char *joined;

		inv_group_members(inv, principal + 1, &members);
		joined = output_join(&members, ", ");
		snprintf(evidence + strlen(evidence), sizeof(evidence) - strlen(evidence),
			 "; members of %s: %s", principal + 1,
			 joined != NULL && joined[0] != '\0' ? joined : "none");
		free(joined);
	}

	inv_add(inv, severity, principal, "sudoers", evidence, suggestion, "%s", title);

	if (severity == INV_HIGH) {
		if (strcmp(type, "username") == 0)
			inv_mark_privileged(inv, principal);
		for (size_t i = 0; i < members.count; i++)
			inv_mark_privileged(inv, members.items[i]);
	}
	jit_strlist_clear(&members);
}

static void first_principal(json_object *user_spec, char *out, size_t out_len)
{
	json_object *users = NULL;
	const char *type;

	out[0] = '\0';
	if (json_object_object_get_ex(user_spec, "User_List", &users) &&
	    inv_json_length(users) > 0)
		inv_member_text(json_object_array_get_idx(users, 0), out, out_len, &type);
}

/* The JSON names no file, so a rule's line is given only when exactly one
 * rule and exactly one line start with the same user or group. */
static void locate_rule(const sudoers_tree *tree, json_object *specs,
			size_t index, char *out, size_t out_len)
{
	const sudoers_rule_line *line;
	char principal[256], other[256];
	size_t same = 0, count = inv_json_length(specs);

	first_principal(json_object_array_get_idx(specs, index), principal,
			sizeof(principal));
	for (size_t i = 0; i < count; i++) {
		first_principal(json_object_array_get_idx(specs, i), other, sizeof(other));
		same += strcmp(principal, other) == 0;
	}

	if (same == 1 && inv_sudoers_tree_find(tree, principal, &line) == 1)
		snprintf(out, out_len, "%s:%u", line->file, line->line);
	else
		snprintf(out, out_len, "%s or a file it includes, rule %zu of %zu",
			 SUDOERS_FILE, index + 1, count);
}

static void report_rule(inventory *inv, json_object *user_spec,
			rule_context *context, bool global_nopasswd)
{
	json_object *users = NULL, *specs = NULL;
	char text[2 * TEXT_MAX];

	if (!json_object_object_get_ex(user_spec, "User_List", &users) ||
	    !json_object_object_get_ex(user_spec, "Cmnd_Specs", &specs))
		return;
	inv_rule_render(user_spec, text, sizeof(text));
	context->text = text;

	for (size_t s = 0; s < inv_json_length(specs); s++) {
		rule_scope scope;

		if (!inv_rule_scope_read(json_object_array_get_idx(specs, s),
					 &inv->privileged, global_nopasswd, &scope)) {
			inv->out_of_memory = true;
			inv_rule_scope_clear(&scope);
			return;
		}
		for (size_t u = 0; u < inv_json_length(users); u++) {
			char principal[256];
			const char *type;

			inv_member_text(json_object_array_get_idx(users, u), principal,
					sizeof(principal), &type);
			report_principal(inv, context, &scope, principal, type);
		}
		inv_rule_scope_clear(&scope);
	}
}

void inv_scan_sudoers(inventory *inv)
{
	sudoers_tree tree = { 0 };
	json_object *rules = NULL, *specs = NULL;
	rule_context context = { .now = inv->ctl->now_ms / 1000 };
	bool global_nopasswd;

	/* Without a readable /etc/sudoers there is nothing to parse; an
	 * unreadable one is reported by the walk. */
	inv_sudoers_tree_read(inv, SUDOERS_FILE, &tree);
	if (!tree.present)
		goto out;

	rules = read_rules(inv);
	if (rules == NULL || !json_object_object_get_ex(rules, "User_Specs", &specs))
		goto out;

	global_nopasswd = defaults_skip_password(rules);
	for (size_t i = 0; i < inv_json_length(specs); i++) {
		locate_rule(&tree, specs, i, context.location, sizeof(context.location));
		report_rule(inv, json_object_array_get_idx(specs, i), &context,
			    global_nopasswd);
	}
out:
	json_object_put(rules);
	inv_sudoers_tree_clear(&tree);
}
