#include "plugin.h"

#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Maximum length of a caller variable (name=value) that may pass the
 * environment reset, and of the SUDO_COMMAND value. */
#define ENV_ENTRY_MAX 1024
#define SUDO_COMMAND_MAX 4096
/* Maximum length of a TZ value taken from the caller. Zone names are far
 * shorter. */
#define TZ_MAX 128

/* A growing NULL-terminated vector of malloc'd "name=value" strings. */
struct strv {
	char **items;
	size_t count;
	size_t size;
	bool failed;             /* set by any failed add, so one check at the
				  * end covers them all */
};

void strv_free(char **vector)
{
	if (vector == NULL)
		return;
	for (size_t i = 0; vector[i] != NULL; i++)
		free(vector[i]);
	free(vector);
}

static void strv_add_owned(struct strv *v, char *item)
{
	if (item == NULL || v->failed) {
		free(item);
		v->failed = true;
		return;
	}

	if (v->count + 2 > v->size) {
		size_t size = v->size == 0 ? 32 : v->size * 2;
		char **items = reallocarray(v->items, size, sizeof(*items));

		if (items == NULL) {
			free(item);
			v->failed = true;
			return;
		}
		v->items = items;
		v->size = size;
	}
	v->items[v->count++] = item;
	v->items[v->count] = NULL;
}

static void strv_addf(struct strv *v, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void strv_addf(struct strv *v, const char *format, ...)
{
	char *item = NULL;
	va_list ap;

	va_start(ap, format);
	if (vasprintf(&item, format, ap) < 0)
		item = NULL;
	va_end(ap);
	strv_add_owned(v, item);
}

/* Returns the vector and resets v, or returns NULL when any add failed. */
static char **strv_finish(struct strv *v)
{
	char **items = v->items;

	if (v->failed || items == NULL) {
		strv_free(items);
		items = NULL;
	}
	memset(v, 0, sizeof(*v));
	return items;
}

static bool strv_has_name(const struct strv *v, const char *entry)
{
	size_t name_len = strcspn(entry, "=");

	for (size_t i = 0; i < v->count; i++)
		if (strncmp(v->items[i], entry, name_len + 1) == 0)
			return true;
	return false;
}

static bool is_printable(const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* Locale and terminal names never need '/' or '%'. Both characters have
 * been used to make programs load files or expand format strings. */
static bool is_plain_value(const char *value)
{
	return strpbrk(value, "/%") == NULL;
}

/* A zone name ("Europe/Paris") or a POSIX TZ rule, but never a path that
 * could make the C library read a file of the caller's choosing. */
static bool is_safe_tz(const char *value)
{
	const char *zone = value[0] == ':' ? value + 1 : value;

	return zone[0] != '/' && strstr(zone, "..") == NULL &&
	       strchr(zone, '%') == NULL && strlen(value) <= TZ_MAX;
}

static bool caller_variable_passes(const char *entry)
{
	const char *eq = strchr(entry, '=');
	const char *value;
	size_t name_len;

	if (eq == NULL || strlen(entry) > ENV_ENTRY_MAX || !is_printable(entry))
		return false;

	value = eq + 1;
	name_len = (size_t)(eq - entry);

#define NAME_IS(literal) \
	(name_len == sizeof(literal) - 1 && strncmp(entry, literal, name_len) == 0)

	if (NAME_IS("TERM") || NAME_IS("COLORTERM") || NAME_IS("LANG") ||
	    NAME_IS("LANGUAGE"))
		return is_plain_value(value);
	if (name_len > 3 && strncmp(entry, "LC_", 3) == 0)
		return is_plain_value(value);
	if (NAME_IS("DISPLAY"))
		return true;
	if (NAME_IS("TZ"))
		return is_safe_tz(value);
	return false;

#undef NAME_IS
}

/* The environment is rebuilt from nothing: values jit sets itself, then a
 * few display and locale variables of the caller (checked above). Nothing
 * else of the caller's passes: no LD_*, BASH_ENV, ENV, IFS or PATH. jit's
 * own values come first and a caller's variable of the same name is
 * skipped, so no caller value can shadow them. */
static char **build_env(const struct plugin *p, const jit_config *config,
			const struct sudo_request *request,
			const jit_decision *decision)
{
	char grant_id[JIT_GRANT_ID_HEX_LEN + 1];
	struct strv env = { 0 };

	jit_grant_id_format(decision->grant_id, grant_id);
	strv_addf(&env, "PATH=%s", config->secure_path);
	strv_addf(&env, "HOME=%s", request->runas_home);
	strv_addf(&env, "SHELL=%s", request->runas_shell);
	strv_addf(&env, "USER=%s", request->runas_user);
	strv_addf(&env, "LOGNAME=%s", request->runas_user);
	strv_addf(&env, "MAIL=/var/mail/%s", request->runas_user);
	strv_addf(&env, "SUDO_USER=%s", p->user.name);
	strv_addf(&env, "SUDO_UID=%u", (unsigned)p->user.uid);
	strv_addf(&env, "SUDO_GID=%u", (unsigned)p->user.gid);
	strv_addf(&env, "SUDO_COMMAND=%.*s", SUDO_COMMAND_MAX,
		  request->command_line);
	strv_addf(&env, "JIT_GRANT_ID=%s", grant_id);

	for (size_t i = 0; p->user_env != NULL && p->user_env[i] != NULL; i++) {
		const char *entry = p->user_env[i];

		if (caller_variable_passes(entry) && !strv_has_name(&env, entry))
			strv_add_owned(&env, strdup(entry));
	}
	return strv_finish(&env);
}

/* The supplementary groups: the runas user's own, or only the -g group. */
static void add_runas_groups(struct strv *info,
			     const struct sudo_request *request)
{
	gid_t *groups = NULL;
	int count = 32;
	char *list = NULL;
	size_t list_len = 0;
	FILE *out;

	if (request->runas_group != NULL) {
		strv_addf(info, "runas_groups=%u", (unsigned)request->group_gid);
		return;
	}

	for (;;) {
		int wanted = count;
		gid_t *grown = reallocarray(groups, (size_t)count, sizeof(*groups));

		if (grown == NULL)
			goto fail;
		groups = grown;
		if (getgrouplist(request->runas_user, request->runas_gid, groups,
				 &count) >= 0)
			break;
		/* count now contains the size needed. The cap keeps a bad
		 * value from growing the buffer without bound. */
		if (count <= wanted)
			count = wanted * 2;
		if (count > NGROUPS_MAX)
			goto fail;
	}

	out = open_memstream(&list, &list_len);
	if (out == NULL)
		goto fail;
	fputs("runas_groups=", out);
	for (int i = 0; i < count; i++)
		fprintf(out, i == 0 ? "%u" : ",%u", (unsigned)groups[i]);
	/* fclose can return 0 yet leave list NULL when memory runs out. */
	if (fclose(out) != 0 || list == NULL)
		goto fail;

	free(groups);
	strv_add_owned(info, list);
	return;

fail:
	free(groups);
	free(list);
	info->failed = true;
}

/* The user's -T can only shorten the command's time, never lengthen it. */
static jit_err apply_user_timeout(const struct plugin *p, int64_t *seconds,
				  jit_error *error)
{
	const char *text = p->settings.timeout;
	int64_t requested;
	char *end = NULL;
	jit_err r;

	if (text == NULL)
		return JIT_OK;

	/* Plain seconds, as sudoers takes them, or a duration like "5m". */
	requested = (int64_t)strtoll(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || requested <= 0) {
		r = jit_duration_parse(text, 0, &requested, error);
		if (r != JIT_OK)
			return r;
	}

	if (requested < *seconds)
		*seconds = requested;
	return JIT_OK;
}

static char **build_command_info(const struct plugin *p,
				 const struct sudo_request *request,
				 int64_t timeout_seconds)
{
	struct strv info = { 0 };
	gid_t gid = request->runas_group != NULL ? request->group_gid :
		    request->runas_gid;

	strv_addf(&info, "command=%s", request->command);
	strv_addf(&info, "runas_user=%s", request->runas_user);
	strv_addf(&info, "runas_uid=%u", (unsigned)request->runas_uid);
	strv_addf(&info, "runas_euid=%u", (unsigned)request->runas_uid);
	strv_addf(&info, "runas_gid=%u", (unsigned)gid);
	strv_addf(&info, "runas_egid=%u", (unsigned)gid);
	if (request->runas_group != NULL)
		strv_addf(&info, "runas_group=%s", request->runas_group);
	add_runas_groups(&info, request);
	if (request->login)
		strv_addf(&info, "cwd=%s", request->runas_home);
	strv_addf(&info, "timeout=%lld", (long long)timeout_seconds);
	/* The sudo 1.9.13 front end closes descriptors only when closefrom is
	 * set, so without it the caller's open files would reach the command. */
	strv_addf(&info, "closefrom=3");
	/* 0022 joined with the caller's umask, as sudoers does by default:
	 * the command never creates files more open than the caller would. */
	strv_addf(&info, "umask=0%o", (unsigned)(p->user.umask | 022));
	return strv_finish(&info);
}

jit_err exec_build(struct plugin *p, const jit_config *config,
		   const struct sudo_request *request,
		   const jit_decision *decision, int64_t now_ms,
		   jit_error *error)
{
	int64_t timeout_seconds = jit_decision_timeout(decision, now_ms);
	char **info = NULL, **argv = NULL, **env = NULL;
	char *command = NULL;
	struct strv argv_copy = { 0 };
	jit_err r;

	/* sudo reads timeout=0 as "no limit", so a grant this close to its end
	 * is refused rather than turned into an unlimited command. */
	if (timeout_seconds == 0)
		return jit_error_set(error, JIT_ERR_RANGE,
				     "the grant ends in under %d ms",
				     JIT_COMMAND_MIN_REMAINING_MS);

	r = apply_user_timeout(p, &timeout_seconds, error);
	if (r != JIT_OK)
		return r;

	for (size_t i = 0; request->exec_argv[i] != NULL; i++)
		strv_add_owned(&argv_copy, strdup(request->exec_argv[i]));
	argv = strv_finish(&argv_copy);
	info = build_command_info(p, request, timeout_seconds);
	env = build_env(p, config, request, decision);
	command = strdup(request->command);
	if (argv == NULL || info == NULL || env == NULL || command == NULL) {
		strv_free(argv);
		strv_free(info);
		strv_free(env);
		free(command);
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}

	strv_free(p->argv_out);
	strv_free(p->command_info);
	strv_free(p->env_out);
	free(p->command);
	p->argv_out = argv;
	p->command_info = info;
	p->env_out = env;
	p->command = command;
	return JIT_OK;
}
