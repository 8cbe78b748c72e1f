#include "plugin.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Front-end options that would change how or where the command runs in ways
 * a grant does not describe. They are rejected, not silently dropped, so the
 * user learns that the option had no effect. A boolean one counts only when
 * true, any other one when its value is not empty. */
static const struct {
	const char *name;
	bool boolean;
	const char *option;
} unsupported_settings[] = {
	{ "preserve_environment", true, "-E (preserve the environment)" },
	{ "sudoedit", true, "-e (sudoedit)" },
	{ "closefrom", false, "-C (keep descriptors open)" },
	{ "cmnd_chroot", false, "-R (change the root folder)" },
	{ "cmnd_cwd", false, "-D (change the working folder)" },
	{ "preserve_groups", true, "-P (preserve the group vector)" },
	{ "selinux_role", false, "-r (SELinux role)" },
	{ "selinux_type", false, "-t (SELinux type)" },
	{ "remote_host", false, "-h (remote host)" },
	{ "login_class", false, "-c (login class)" },
};

/* Splits "name=value" at the first '=', since the name never contains one. */
static bool split_setting(const char *entry, char *name, size_t name_len,
			  const char **value)
{
	const char *eq = strchr(entry, '=');
	size_t len;

	if (eq == NULL)
		return false;

	len = (size_t)(eq - entry);
	if (len == 0 || len >= name_len)
		return false;

	memcpy(name, entry, len);
	name[len] = '\0';
	*value = eq + 1;
	return true;
}

static jit_err parse_bool(const char *name, const char *value, bool *result,
			  jit_error *error)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
		*result = true;
		return JIT_OK;
	}
	if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
		*result = false;
		return JIT_OK;
	}
	return jit_error_set(error, JIT_ERR_INVALID,
			     "invalid boolean in sudo setting %s: '%.64s'",
			     name, value);
}

static jit_err copy_string(char **target, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return JIT_ERR_NOMEM;
	free(*target);
	*target = copy;
	return JIT_OK;
}

static jit_err check_unsupported(struct plugin_settings *settings,
				 const char *name, const char *value,
				 jit_error *error)
{
	for (size_t i = 0; i < sizeof(unsupported_settings) / sizeof(unsupported_settings[0]); i++) {
		bool given = value[0] != '\0';

		if (strcmp(name, unsupported_settings[i].name) != 0)
			continue;

		if (unsupported_settings[i].boolean) {
			jit_err r = parse_bool(name, value, &given, error);

			if (r != JIT_OK)
				return r;
		}
		if (given && settings->unsupported_option == NULL)
			settings->unsupported_option = unsupported_settings[i].option;
		return JIT_OK;
	}
	return JIT_OK;
}

static jit_err apply_setting(struct plugin_settings *settings,
			     const char *name, const char *value,
			     jit_error *error)
{
	static const struct {
		const char *name;
		size_t offset;
	} bools[] = {
		{ "login_shell", offsetof(struct plugin_settings, login_shell) },
		{ "run_shell", offsetof(struct plugin_settings, run_shell) },
		{ "implied_shell", offsetof(struct plugin_settings, implied_shell) },
		{ "noninteractive", offsetof(struct plugin_settings, noninteractive) },
		{ "ignore_ticket", offsetof(struct plugin_settings, ignore_ticket) },
		{ "update_ticket", offsetof(struct plugin_settings, update_ticket) },
	};
	static const struct {
		const char *name;
		size_t offset;
	} strings[] = {
		{ "runas_user", offsetof(struct plugin_settings, runas_user) },
		{ "runas_group", offsetof(struct plugin_settings, runas_group) },
		{ "prompt", offsetof(struct plugin_settings, prompt) },
		{ "timeout", offsetof(struct plugin_settings, timeout) },
	};
	char *base = (char *)settings;

	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (strcmp(name, bools[i].name) == 0)
			return parse_bool(name, value,
					  (bool *)(void *)(base + bools[i].offset),
					  error);

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if (strcmp(name, strings[i].name) != 0)
			continue;
		if (copy_string((char **)(void *)(base + strings[i].offset),
				value) != JIT_OK)
			return jit_error_set(error, JIT_ERR_NOMEM,
					     "out of memory");
		return JIT_OK;
	}

	return check_unsupported(settings, name, value, error);
}

jit_err settings_parse(struct plugin_settings *settings,
		       char *const settings_list[], jit_error *error)
{
	settings_clear(settings);
	settings->update_ticket = true;

	for (size_t i = 0; settings_list != NULL && settings_list[i] != NULL; i++) {
		char name[64];
		const char *value;
		jit_err r;

		/* Entries without '=' or with names longer than any known
		 * setting cannot be ours: ignored like unknown settings. */
		if (!split_setting(settings_list[i], name, sizeof(name), &value))
			continue;

		r = apply_setting(settings, name, value, error);
		if (r != JIT_OK)
			return r;
	}
	return JIT_OK;
}

void settings_clear(struct plugin_settings *settings)
{
	free(settings->runas_user);
	free(settings->runas_group);
	free(settings->prompt);
	free(settings->timeout);
	memset(settings, 0, sizeof(*settings));
}

static jit_err parse_id(const char *name, const char *value,
			unsigned long max, unsigned long *id, jit_error *error)
{
	char *end = NULL;
	unsigned long number;

	errno = 0;
	number = strtoul(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 ||
	    number > max)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "invalid number in sudo user_info %s: '%.64s'",
				     name, value);
	*id = number;
	return JIT_OK;
}

static jit_err parse_umask(const char *value, mode_t *umask_out,
			   jit_error *error)
{
	char *end = NULL;
	unsigned long number;

	errno = 0;
	number = strtoul(value, &end, 8);
	if (value[0] < '0' || value[0] > '7' || *end != '\0' || errno != 0 ||
	    number > 0777)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "invalid umask in sudo user_info: '%.64s'",
				     value);
	*umask_out = (mode_t)number;
	return JIT_OK;
}

static jit_err apply_user_info(struct plugin_user *user, const char *name,
			       const char *value, jit_error *error)
{
	unsigned long number = 0;
	jit_err r;

	if (strcmp(name, "uid") == 0) {
		r = parse_id(name, value, (uid_t)-1 - 1, &number, error);
		user->uid = (uid_t)number;
		return r;
	}
	if (strcmp(name, "gid") == 0) {
		r = parse_id(name, value, (gid_t)-1 - 1, &number, error);
		user->gid = (gid_t)number;
		return r;
	}
	if (strcmp(name, "sid") == 0) {
		r = parse_id(name, value, INT_MAX, &number, error);
		user->sid = (pid_t)number;
		return r;
	}
	if (strcmp(name, "umask") == 0)
		return parse_umask(value, &user->umask, error);

	if (strcmp(name, "user") == 0)
		r = copy_string(&user->name, value);
	else if (strcmp(name, "tty") == 0)
		r = copy_string(&user->tty, value);
	else if (strcmp(name, "host") == 0)
		r = copy_string(&user->host, value);
	else if (strcmp(name, "cwd") == 0)
		r = copy_string(&user->cwd, value);
	else
		r = JIT_OK;

	if (r != JIT_OK)
		return jit_error_set(error, r, "out of memory");
	return JIT_OK;
}

jit_err user_info_parse(struct plugin_user *user, char *const user_info[],
			jit_error *error)
{
	bool have_uid = false, have_gid = false;

	user_info_clear(user);
	user->umask = 022;

	for (size_t i = 0; user_info != NULL && user_info[i] != NULL; i++) {
		char name[64];
		const char *value;
		jit_err r;

		if (!split_setting(user_info[i], name, sizeof(name), &value))
			continue;

		r = apply_user_info(user, name, value, error);
		if (r != JIT_OK)
			return r;
		have_uid |= strcmp(name, "uid") == 0;
		have_gid |= strcmp(name, "gid") == 0;
	}

	if (user->name == NULL || user->name[0] == '\0' || !have_uid || !have_gid)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "the sudo front end sent no user, uid or gid in user_info");

	if (user->tty == NULL && copy_string(&user->tty, "") != JIT_OK)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	return JIT_OK;
}

void user_info_clear(struct plugin_user *user)
{
	free(user->name);
	free(user->tty);
	free(user->host);
	free(user->cwd);
	memset(user, 0, sizeof(*user));
}

/* Plugin options come from the Plugin line of sudo.conf, which only root
 * can write. The configuration path is never taken from the environment. */
jit_err plugin_options_parse(char *const options[], char **config_path,
			     jit_error *error)
{
	const char *path = NULL;

	*config_path = NULL;

	for (size_t i = 0; options != NULL && options[i] != NULL; i++) {
		const char *option = options[i];

		if (strncmp(option, "config=", 7) != 0)
			return jit_error_set(error, JIT_ERR_INVALID,
					     "unknown option in the Plugin line of sudo.conf: '%.128s'",
					     option);
		if (path != NULL)
			return jit_error_set(error, JIT_ERR_INVALID,
					     "config= is given twice in the Plugin line of sudo.conf");
		path = option + 7;
		if (path[0] != '/')
			return jit_error_set(error, JIT_ERR_INVALID,
					     "config= in sudo.conf must be an absolute path: '%.256s'",
					     path);
	}

	*config_path = strdup(path != NULL ? path : JIT_DEFAULT_CONFIG);
	if (*config_path == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	return JIT_OK;
}
