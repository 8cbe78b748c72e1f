/* One sudoers rule from cvtsudoers' JSON: what it allows, as whom, with
 * which tags, and the rule written back as a sudoers line for evidence. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inventory.h"
#include "inventory_sudoers.h"

/* Programs that start a shell or other commands whatever their arguments:
 * shells, editors and pagers with shell escapes. */
static const char *const always_escape[] = {
	"sh", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish",
	"busybox", "vi", "vim", "nvim", "view", "rvim", "ex", "ed", "emacs",
	"nano", "joe", "mc", "less", "more", "most", "man", "journalctl",
};

/* Programs that run other commands or write any file when their arguments
 * are not fixed by the rule. */
static const char *const escape_with_any_arguments[] = {
	"python", "python2", "python3", "perl", "ruby", "lua", "node", "php",
	"awk", "gawk", "mawk", "tclsh", "expect", "find", "xargs", "env",
	"nice", "nohup", "timeout", "setsid", "strace", "gdb", "chroot",
	"nsenter", "unshare", "su", "sudo", "runuser", "tar", "zip", "rsync",
	"scp", "ssh", "git", "make", "docker", "podman", "kubectl", "apt",
	"apt-get", "dpkg", "pip", "pip3", "mount", "systemctl", "cp", "mv",
	"tee", "dd", "install", "ln", "chmod", "chown", "sed", "crontab",
	"passwd", "chpasswd", "usermod", "useradd", "visudo",
};

size_t inv_json_length(json_object *array)
{
	return json_object_is_type(array, json_type_array) ?
	       json_object_array_length(array) : 0;
}

static bool in_list(const char *word, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(word, list[i]) == 0)
			return true;
	return false;
}

/* Writes the file name of command's program; "python3.11" counts as
 * python3. */
static void program_name(const char *command, char *out, size_t out_len)
{
	size_t path_length = strcspn(command, " "), length;
	const char *base = command + path_length;

	while (base > command && base[-1] != '/')
		base--;
	snprintf(out, out_len, "%.*s", (int)(command + path_length - base), base);
	length = strlen(out);
	while (length > 0 && strchr(out, '.') != NULL &&
	       (out[length - 1] == '.' ||
		(out[length - 1] >= '0' && out[length - 1] <= '9')))
		out[--length] = '\0';
}

/* Returns the program name when command can run other commands. */
static bool command_escapes(const char *command, char *program, size_t len)
{
	const char *space = strchr(command, ' ');
	bool fixed = space != NULL && strpbrk(space, "*?[") == NULL;
	size_t path_length = space != NULL ? (size_t)(space - command) : strlen(command);

	/* A folder ("/usr/bin/") allows every program in it. */
	if (path_length > 0 && command[path_length - 1] == '/') {
		snprintf(program, len, "every program in %.*s", (int)path_length, command);
		return true;
	}
	program_name(command, program, len);
	if (in_list(program, always_escape, sizeof(always_escape) / sizeof(always_escape[0])))
		return true;
	return !fixed && in_list(program, escape_with_any_arguments,
				 sizeof(escape_with_any_arguments) /
				 sizeof(escape_with_any_arguments[0]));
}

/* Writes a JSON member such as {"usergroup": "sudo"} as sudoers does:
 * "%sudo". The type is returned in *type. */
void inv_member_text(json_object *item, char *out, size_t out_len,
		     const char **type)
{
	static const struct { const char *type, *prefix; } prefixes[] = {
		{ "usergroup", "%" }, { "userid", "#" }, { "usergid", "%#" },
		{ "netgroup", "+" }, { "nonunixgroup", "%:" }, { "nonunixgid", "%:#" },
	};
	json_object *negated = NULL;
	const char *prefix = "";

	*type = "";
	out[0] = '\0';
	if (!json_object_is_type(item, json_type_object))
		return;
	json_object_object_get_ex(item, "negated", &negated);

	json_object_object_foreach(item, key, value) {
		if (strcmp(key, "negated") == 0)
			continue;
		*type = key;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
			if (strcmp(key, prefixes[i].type) == 0)
				prefix = prefixes[i].prefix;
		snprintf(out, out_len, "%s%s%s",
			 json_object_get_boolean(negated) ? "!" : "", prefix,
			 json_object_get_string(value));
		return;
	}
}

/* Joins the members of array. A runas group list names groups without
 * the '%' that marks them in a user list, so runas_groups drops it. */
static void list_text(json_object *array, bool runas_groups, char *out,
		      size_t out_len)
{
	size_t count = inv_json_length(array);

	out[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		char item[256];
		const char *type, *text = item;
		size_t used = strlen(out);

		inv_member_text(json_object_array_get_idx(array, i), item, sizeof(item), &type);
		if (runas_groups && strcmp(type, "usergroup") == 0 && item[0] == '%')
			text = item + 1;
		snprintf(out + used, out_len - used, "%s%s", i > 0 ? ", " : "", text);
	}
}

/* Reads "YYYYMMDDHH[MM[SS]]" and "Z" or "+HHMM"/"-HHMM", the forms sudoers
 * takes for NOTBEFORE and NOTAFTER. Returns -1 for anything else. */
static int64_t parse_sudoers_time(const char *text)
{
	struct tm tm = { 0 };
	int digits = (int)strspn(text, "0123456789"), offset = 0;
	const char *zone = text + digits;
	static const int widths[] = { 4, 2, 2, 2, 2, 2 };
	int fields[6] = { 0 };

	if (digits != 10 && digits != 12 && digits != 14)
		return -1;
	for (int i = 0, at = 0; at < digits; at += widths[i], i++)
		sscanf(text + at, i == 0 ? "%4d" : "%2d", &fields[i]);

	if (zone[0] == '+' || zone[0] == '-') {
		int hours, minutes;

		if (strlen(zone) != 5 || sscanf(zone + 1, "%2d%2d", &hours, &minutes) != 2)
			return -1;
		offset = (hours * 60 + minutes) * 60 * (zone[0] == '+' ? 1 : -1);
	} else if (strcmp(zone, "Z") != 0 && zone[0] != '\0') {
		return -1;
	}

	tm.tm_year = fields[0] - 1900;
	tm.tm_mon = fields[1] - 1;
	tm.tm_mday = fields[2];
	tm.tm_hour = fields[3];
	tm.tm_min = fields[4];
	tm.tm_sec = fields[5];
	return (int64_t)timegm(&tm) - offset;
}

static void append_tag(rule_scope *scope, const char *tag)
{
	size_t used = strlen(scope->tags);

	snprintf(scope->tags + used, sizeof(scope->tags) - used, "%s ", tag);
}

static void read_options(json_object *options, rule_scope *scope)
{
	size_t count = inv_json_length(options);

	for (size_t i = 0; i < count; i++) {
		json_object *option = json_object_array_get_idx(options, i);

		if (!json_object_is_type(option, json_type_object))
			continue;
		json_object_object_foreach(option, key, value) {
			char tag[160];

			if (strcmp(key, "authenticate") == 0) {
				scope->nopasswd = !json_object_get_boolean(value);
				append_tag(scope, scope->nopasswd ? "NOPASSWD:" : "PASSWD:");
			} else if (strcmp(key, "noexec") == 0 && json_object_get_boolean(value)) {
				append_tag(scope, "NOEXEC:");
			} else if (strcmp(key, "notbefore") == 0 || strcmp(key, "notafter") == 0 ||
				   strcmp(key, "command_timeout") == 0) {
				snprintf(tag, sizeof(tag), "%s=%s",
					 strcmp(key, "notbefore") == 0 ? "NOTBEFORE" :
					 strcmp(key, "notafter") == 0 ? "NOTAFTER" : "TIMEOUT",
					 json_object_get_string(value));
				append_tag(scope, tag);
			}
			if (strcmp(key, "notafter") == 0) {
				scope->not_after = json_object_get_string(value);
				scope->not_after_time = parse_sudoers_time(scope->not_after);
			} else if (strcmp(key, "notbefore") == 0) {
				scope->not_before_time =
					parse_sudoers_time(json_object_get_string(value));
			}
		}
	}
}

static bool read_commands(json_object *commands, rule_scope *scope)
{
	size_t count = inv_json_length(commands);

	for (size_t i = 0; i < count; i++) {
		json_object *item = json_object_array_get_idx(commands, i);
		json_object *command = NULL, *negated = NULL;
		const char *text;
		size_t used = strlen(scope->commands);
		bool is_negated;

		if (!json_object_object_get_ex(item, "command", &command))
			continue;
		json_object_object_get_ex(item, "negated", &negated);
		text = json_object_get_string(command);
		is_negated = json_object_get_boolean(negated);
		snprintf(scope->commands + used, sizeof(scope->commands) - used,
			 "%s%s%s", used > 0 ? ", " : "", is_negated ? "!" : "", text);
		/* A negated command confines nothing: the same program is
		 * reachable under another name. */
		if (is_negated)
			continue;

		if (strcmp(text, "ALL") == 0)
			scope->all = true;
		else if (scope->escape[0] == '\0' &&
			 !command_escapes(text, scope->escape, sizeof(scope->escape)))
			scope->escape[0] = '\0';
		if (jit_strlist_append(&scope->command_list, text) != JIT_OK)
			return false;
	}
	return true;
}

/* A group as runas target counts as privileged: it may contain root. */
static bool target_is_privileged(const jit_strlist *privileged,
				 const char *type, const char *name)
{
	if (strcmp(name, "ALL") == 0 || strcmp(name, "root") == 0 ||
	    strcmp(name, "#0") == 0 || strcmp(type, "usergroup") == 0)
		return true;
	return privileged != NULL && jit_strlist_contains(privileged, name);
}

/* Without runasusers and runasgroups a rule runs commands as root. */
static bool read_runas(const jit_strlist *privileged, json_object *spec,
		       rule_scope *scope)
{
	json_object *users = NULL, *groups = NULL;
	char groups_text[128] = "";

	json_object_object_get_ex(spec, "runasusers", &users);
	json_object_object_get_ex(spec, "runasgroups", &groups);

	if (users == NULL && groups == NULL) {
		snprintf(scope->runas, sizeof(scope->runas), "root");
		scope->runas_privileged = true;
		return jit_strlist_append(&scope->runas_list, "root") == JIT_OK;
	}

	for (size_t i = 0; i < inv_json_length(users); i++) {
		char name[128];
		const char *type;

		inv_member_text(json_object_array_get_idx(users, i), name, sizeof(name), &type);
		if (name[0] == '!')
			continue;
		scope->runas_privileged |= target_is_privileged(privileged, type, name);
		if (jit_strlist_append(&scope->runas_list, name) != JIT_OK)
			return false;
	}
	for (size_t i = 0; i < inv_json_length(groups); i++) {
		char name[128];
		const char *type;

		inv_member_text(json_object_array_get_idx(groups, i), name, sizeof(name), &type);
		if (strcmp(name, "%ALL") == 0 || strcmp(name, "%root") == 0 ||
		    strcmp(name, "%#0") == 0)
			scope->runas_privileged = true;
	}

	if (users != NULL)
		list_text(users, false, scope->runas, sizeof(scope->runas));
	if (groups != NULL) {
		list_text(groups, true, groups_text, sizeof(groups_text));
		snprintf(scope->runas + strlen(scope->runas),
			 sizeof(scope->runas) - strlen(scope->runas), "%s%s",
			 users != NULL ? " : " : "group ", groups_text);
	}
	return true;
}

bool inv_rule_scope_read(json_object *spec, const jit_strlist *privileged,
			 bool global_nopasswd, rule_scope *scope)
{
	json_object *options = NULL, *commands = NULL;

	memset(scope, 0, sizeof(*scope));
	scope->not_after_time = -1;
	scope->not_before_time = -1;
	scope->nopasswd = global_nopasswd;

	if (!read_runas(privileged, spec, scope))
		return false;
	if (json_object_object_get_ex(spec, "Options", &options))
		read_options(options, scope);
	if (json_object_object_get_ex(spec, "Commands", &commands))
		return read_commands(commands, scope);
	return true;
}

void inv_rule_scope_clear(rule_scope *scope)
{
	jit_strlist_clear(&scope->command_list);
	jit_strlist_clear(&scope->runas_list);
}

void inv_rule_render(json_object *user_spec, char *out, size_t out_len)
{
	json_object *users = NULL, *hosts = NULL, *specs = NULL;
	char text[TEXT_MAX];
	size_t count;

	json_object_object_get_ex(user_spec, "User_List", &users);
	json_object_object_get_ex(user_spec, "Host_List", &hosts);
	json_object_object_get_ex(user_spec, "Cmnd_Specs", &specs);

	list_text(users, false, out, out_len);
	list_text(hosts, false, text, sizeof(text));
	snprintf(out + strlen(out), out_len - strlen(out), " %s =", text);

	count = inv_json_length(specs);
	for (size_t i = 0; i < count; i++) {
		rule_scope scope;

		/* Out of memory here only shortens the evidence text. */
		inv_rule_scope_read(json_object_array_get_idx(specs, i), NULL,
				    false, &scope);
		snprintf(out + strlen(out), out_len - strlen(out), "%s (%s) %s%s",
			 i > 0 ? " :" : "", scope.runas, scope.tags, scope.commands);
		inv_rule_scope_clear(&scope);
	}
}
