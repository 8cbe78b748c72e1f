#include "jit/decision.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_executable_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	return S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

static jit_err check_explicit_path(const char *name, char **path,
				   jit_error *error)
{
	if (name[0] != '/')
		return jit_error_set(error, JIT_ERR_INVALID,
			"command '%.256s' is a relative path: give an absolute path or a bare command name",
			name);

	if (!is_executable_file(name))
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
			"command '%.256s' is not an executable file", name);

	*path = strdup(name);
	if (*path == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	return JIT_OK;
}

/* The caller's PATH is never consulted: only folders of the configured
 * secure path, in order, and only absolute ones. */
jit_err jit_command_resolve(const char *name, const char *secure_path,
			    char **path, jit_error *error)
{
	const char *dir = secure_path;
	size_t name_len;

	*path = NULL;

	if (name == NULL || name[0] == '\0')
		return jit_error_set(error, JIT_ERR_INVALID, "empty command name");

	name_len = strlen(name);
	if (name_len >= PATH_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
			"command name is longer than %d bytes", PATH_MAX - 1);

	if (strchr(name, '/') != NULL)
		return check_explicit_path(name, path, error);

	while (dir != NULL && *dir != '\0') {
		const char *colon = strchr(dir, ':');
		size_t dir_len = colon != NULL ? (size_t)(colon - dir) : strlen(dir);
		char candidate[PATH_MAX];

		if (dir_len > 0 && dir[0] == '/' &&
		    dir_len + 1 + name_len < sizeof(candidate)) {
			snprintf(candidate, sizeof(candidate), "%.*s/%s",
				 (int)dir_len, dir, name);
			if (is_executable_file(candidate)) {
				*path = strdup(candidate);
				if (*path == NULL)
					return jit_error_set(error, JIT_ERR_NOMEM,
							     "out of memory");
				return JIT_OK;
			}
		}

		dir = colon != NULL ? colon + 1 : NULL;
	}

	return jit_error_set(error, JIT_ERR_NOT_FOUND,
		"command '%.256s' not found in the secure path %.512s",
		name, secure_path != NULL ? secure_path : "(empty)");
}

bool jit_command_is_shell(const char *path)
{
	const char *shell;
	bool found = false;

	if (path == NULL || path[0] != '/')
		return false;

	/* getusershell reads /etc/shells, or a built-in list without it. */
	setusershell();
	while (!found && (shell = getusershell()) != NULL)
		found = strcmp(shell, path) == 0;
	endusershell();
	return found;
}
