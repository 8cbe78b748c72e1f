#include "plugin.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sudo accepts "#123" for a numeric user or group id. */
static bool parse_numeric_id(const char *text, unsigned long *id)
{
	char *end = NULL;

	if (text[0] != '#' || text[1] < '0' || text[1] > '9')
		return false;

	errno = 0;
	*id = strtoul(text + 1, &end, 10);
	return *end == '\0' && errno == 0 && *id < (unsigned long)(uid_t)-1;
}

/* NOTE: without -u the runas user is root even when -g is given, while
 * sudoers then runs the command as the invoking user with that group. */
static jit_err lookup_runas_user(const struct plugin *p,
				 struct sudo_request *request, jit_error *error)
{
	const char *name = p->settings.runas_user != NULL ?
			   p->settings.runas_user : "root";
	const struct passwd *pw;
	unsigned long id;

	if (parse_numeric_id(name, &id))
		pw = getpwuid((uid_t)id);
	else
		pw = getpwnam(name);
	if (pw == NULL)
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "unknown runas user '%.64s'", name);

	request->runas_user = strdup(pw->pw_name);
	request->runas_home = strdup(pw->pw_dir);
	/* An empty shell field means /bin/sh, as for login(1). */
	request->runas_shell = strdup(pw->pw_shell[0] != '\0' ?
				      pw->pw_shell : "/bin/sh");
	if (request->runas_user == NULL || request->runas_home == NULL ||
	    request->runas_shell == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");

	request->runas_uid = pw->pw_uid;
	request->runas_gid = pw->pw_gid;
	return JIT_OK;
}

static jit_err lookup_runas_group(const struct plugin *p,
				  struct sudo_request *request,
				  jit_error *error)
{
	const char *name = p->settings.runas_group;
	const struct group *gr;
	unsigned long id;

	if (name == NULL)
		return JIT_OK;

	if (parse_numeric_id(name, &id))
		gr = getgrgid((gid_t)id);
	else
		gr = getgrnam(name);
	if (gr == NULL)
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "unknown runas group '%.64s'", name);

	request->runas_group = strdup(gr->gr_name);
	if (request->runas_group == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	request->group_gid = gr->gr_gid;
	return JIT_OK;
}

/* Copies first, then argc entries of rest, into a NULL-terminated vector. */
static char **vector_copy(const char *first, int argc, char *const rest[])
{
	char **vector = calloc((size_t)argc + 2, sizeof(*vector));

	if (vector == NULL)
		return NULL;

	vector[0] = strdup(first);
	if (vector[0] == NULL)
		goto fail;
	for (int i = 0; i < argc; i++) {
		vector[i + 1] = strdup(rest[i]);
		if (vector[i + 1] == NULL)
			goto fail;
	}
	return vector;

fail:
	strv_free(vector);
	return NULL;
}

/* sudo -s, sudo -i and bare sudo run the runas user's shell from the
 * password database, never the caller's $SHELL. For "sudo -s CMD" the front
 * end passes argv as {shell, "-c", "CMD"}, and the "-c CMD" part is kept. */
static jit_err build_shell(const jit_config *config, int argc,
			   char *const argv[], struct sudo_request *request,
			   jit_error *error)
{
	char *login_name = NULL;
	const char *name;
	jit_err r;

	r = jit_command_resolve(request->runas_shell, config->secure_path,
				&request->command, error);
	if (r != JIT_OK)
		return r;

	name = request->command;
	if (request->login) {
		/* A leading '-' in argv[0] makes the shell a login shell. */
		const char *slash = strrchr(request->command, '/');

		if (asprintf(&login_name, "-%s",
			     slash != NULL ? slash + 1 : request->command) < 0)
			return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
		name = login_name;
	}

	request->exec_argv = vector_copy(name, argc > 1 ? argc - 1 : 0,
					 argc > 1 ? argv + 1 : NULL);
	free(login_name);
	request->command_line = argv_join(request->command,
					  argc > 1 ? argc - 1 : 0,
					  argc > 1 ? argv + 1 : NULL);
	if (request->exec_argv == NULL || request->command_line == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");

	request->access.command = NULL;
	request->access.shell = true;
	return JIT_OK;
}

static jit_err build_command(const jit_config *config, int argc,
			     char *const argv[], struct sudo_request *request,
			     jit_error *error)
{
	jit_err r;

	r = jit_command_resolve(argv[0], config->secure_path,
				&request->command, error);
	if (r != JIT_OK)
		return r;

	/* argv[0] stays as typed, but what runs is the resolved path. */
	request->exec_argv = vector_copy(argv[0], argc - 1, argv + 1);
	request->command_line = argv_join(request->command, argc - 1, argv + 1);
	if (request->exec_argv == NULL || request->command_line == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");

	request->access.command = request->command;
	request->access.argc = (size_t)(argc - 1);
	request->access.argv = argv + 1;
	return JIT_OK;
}

jit_err request_build(const struct plugin *p, const jit_config *config,
		      const char *user, int argc, char *const argv[],
		      struct sudo_request *request, jit_error *error)
{
	jit_err r;

	memset(request, 0, sizeof(*request));

	request->user = strdup(user);
	if (request->user == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");

	r = lookup_runas_user(p, request, error);
	if (r != JIT_OK)
		return r;
	r = lookup_runas_group(p, request, error);
	if (r != JIT_OK)
		return r;

	request->login = p->settings.login_shell;
	request->shell = p->settings.login_shell || p->settings.run_shell ||
			 p->settings.implied_shell || argc <= 0;
	if (request->shell)
		r = build_shell(config, argc, argv, request, error);
	else
		r = build_command(config, argc, argv, request, error);
	if (r != JIT_OK)
		return r;

	request->access.kind = JIT_ACCESS_COMMAND;
	request->access.user = request->user;
	request->access.host = config->hostname != NULL ? config->hostname :
			       p->user.host;
	request->access.runas_user = request->runas_user;
	request->access.runas_group = request->runas_group;
	return JIT_OK;
}

void request_clear(struct sudo_request *request)
{
	free(request->user);
	free(request->command);
	strv_free(request->exec_argv);
	free(request->command_line);
	free(request->runas_user);
	free(request->runas_home);
	free(request->runas_shell);
	free(request->runas_group);
	memset(request, 0, sizeof(*request));
}
